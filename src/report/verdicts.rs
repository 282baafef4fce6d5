//! The report's opening section: per namespace (or per `--target`), the
//! smallest swept maxmemory per policy that meets the target with no harm,
//! and the recommended policy, ties shown as ties. The verdicts are
//! `plan::verdict`'s, so `ttlsim plan` and the report agree.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{show_value, Ctx, Options, MEM, POLICY};
use crate::plan::objective::{Catalog, Objective, Origin};
use crate::plan::verdict::{self, fail_words, mem, Obs};
use crate::units::fmt_f64;

/// Objectives and constraints for the report, in `ttlsim plan`'s syntax.
#[derive(Debug, Clone, Default)]
pub struct Goals {
    /// `--target` objectives (empty: a hit-ratio target per namespace).
    pub targets: Vec<String>,
    /// `--require` constraints.
    pub require: Vec<String>,
    /// `--allow`: harm constraints relaxed.
    pub allow: Vec<String>,
}

/// The catalog of a runs.csv: namespaces from their `<ns>_hit_ratio` /
/// `<ns>_requests` columns, each one's pattern found by its outcome columns.
pub fn catalog(columns: &[String]) -> Catalog {
    let mut names: Vec<String> = columns
        .iter()
        .filter(|c| !c.starts_with("param_"))
        .filter_map(|c| c.strip_suffix("_requests"))
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    names.dedup();
    let namespaces = names
        .into_iter()
        .map(|n| {
            let kind = crate::workload::patterns::OUTCOMES
                .iter()
                .filter(|(_, o)| !o.is_empty())
                .find(|(_, o)| {
                    o.iter()
                        .all(|c| columns.contains(&format!("{n}_{}", c.name)))
                })
                .map(|(k, _)| *k);
            (n, kind)
        })
        .collect();
    Catalog { namespaces }
}

/// Refuses goals that name what the runs do not have, before anything is
/// drawn.
pub fn check(columns: &[String], goals: &Goals) -> anyhow::Result<()> {
    if !goals.targets.is_empty() || !goals.require.is_empty() || !goals.allow.is_empty() {
        let targets = if goals.targets.is_empty() {
            vec!["hit_ratio>=0".to_string()]
        } else {
            goals.targets.clone()
        };
        catalog(columns).objectives(&targets, &goals.require, &goals.allow)?;
    }
    Ok(())
}

/// The objective sets shown, each with its heading: the user's targets as
/// one set, or one hit-ratio target per namespace (and the whole run).
fn sets(
    cx: &Ctx,
    cat: &Catalog,
    opts: &Options,
    goals: &Goals,
) -> Result<Vec<Vec<Objective>>, String> {
    let e = |e: anyhow::Error| e.to_string();
    if !goals.targets.is_empty() {
        return Ok(vec![cat
            .objectives(&goals.targets, &goals.require, &goals.allow)
            .map_err(e)?]);
    }
    let t = fmt_f64(opts.target);
    let mut targets: Vec<String> = cat
        .namespaces
        .iter()
        .filter(|(n, _)| cx.t.col(&format!("{n}_hit_ratio")).is_some())
        .filter(|(n, _)| {
            cx.t.rows
                .iter()
                .any(|r| !cx.t.get(r, &format!("{n}_hit_ratio")).is_empty())
        })
        .map(|(n, _)| format!("{n}.hit_ratio>={t}"))
        .collect();
    if targets.len() != 1 {
        targets.insert(0, format!("hit_ratio>={t}"));
    }
    targets
        .iter()
        .map(|x| {
            cat.objectives(std::slice::from_ref(x), &goals.require, &goals.allow)
                .map_err(e)
        })
        .collect()
}

/// The section's HTML (an error in the goals is shown, not fatal: the rest
/// of the report still stands).
pub(crate) fn section(cx: &Ctx, opts: &Options, goals: &Goals, esc: fn(&str) -> String) -> String {
    let mut h = String::new();
    h.push_str("<h2>Verdicts</h2>\n");
    if cx.t.col(MEM).is_none() || cx.t.col(POLICY).is_none() {
        return h;
    }
    let cat = catalog(&cx.t.columns);
    let sets = match sets(cx, &cat, opts, goals) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(h, "<p>The objectives cannot be judged: {}</p>", esc(&e));
            return h;
        }
    };
    // Runs grouped by the swept parameters other than memory, policy and seed.
    let others: Vec<&String> = cx
        .swept
        .iter()
        .filter(|c| *c != MEM && *c != POLICY)
        .collect();
    let mut groups: BTreeMap<Vec<String>, Vec<Obs>> = BTreeMap::new();
    for r in &cx.t.rows {
        let mm: u64 = cx.t.get(r, MEM).parse().unwrap_or(0);
        if mm == 0 {
            continue;
        }
        let key: Vec<String> = others.iter().map(|c| cx.t.get(r, c).to_string()).collect();
        let values =
            cx.t.columns
                .iter()
                .zip(r)
                .filter_map(|(c, v)| Some((c.clone(), v.parse::<f64>().ok()?)))
                .collect();
        groups.entry(key).or_default().push(Obs {
            policy: cx.t.get(r, POLICY).to_string(),
            seed: cx.t.get(r, "seed").parse().unwrap_or(0),
            maxmemory: mm,
            values,
        });
    }
    let _ = writeln!(
        h,
        "<p>Smallest swept maxmemory per policy from which every larger swept size meets the objective, with no harm \
         (every harm outcome = 0 unless <code>--allow</code>ed), median over seeds; answers within {:.0}% of the best are a tie. \
         Only as fine as the grid: <code>ttlsim plan</code> finds the size itself.</p>",
        verdict::TIE * 100.0
    );
    for objectives in &sets {
        let head: Vec<&str> = objectives
            .iter()
            .filter(|o| o.origin != Origin::Harm)
            .map(|o| o.text.as_str())
            .collect();
        let _ = writeln!(
            h,
            "<h3>{}</h3>\n<table><tr><th class=l>policy</th>",
            esc(&head.join(", "))
        );
        for k in groups.keys() {
            let label: Vec<String> = others
                .iter()
                .zip(k)
                .map(|(c, v)| format!("{} = {}", super::short_name(c), show_value(c, v)))
                .collect();
            let _ = write!(
                h,
                "<th>{}</th>",
                esc(&if label.is_empty() {
                    "all runs".into()
                } else {
                    label.join(", ")
                })
            );
        }
        h.push_str("</tr>\n");
        let per: Vec<Vec<verdict::Verdict>> = groups
            .values()
            .map(|obs| verdict::verdicts(obs, objectives, None))
            .collect();
        let policies: Vec<String> = per
            .first()
            .map(|v| v.iter().map(|x| x.policy.clone()).collect())
            .unwrap_or_default();
        for p in &policies {
            let _ = write!(h, "<tr><td class=l>{}</td>", esc(p));
            for vs in &per {
                let best: Vec<&str> = verdict::best(vs)
                    .iter()
                    .map(|v| v.policy.as_str())
                    .collect();
                match vs.iter().find(|v| &v.policy == p) {
                    Some(v) if v.answer.is_some() => {
                        let mark = if best.contains(&p.as_str()) {
                            if best.len() > 1 {
                                " (tie)"
                            } else {
                                " (best)"
                            }
                        } else {
                            ""
                        };
                        let _ = write!(
                            h,
                            "<td class={}>{}{mark}</td>",
                            if mark.is_empty() { "l" } else { "ok" },
                            esc(&mem(v.answer.unwrap_or(0) as f64))
                        );
                    }
                    Some(v) => {
                        let why: Vec<String> = v.fails.iter().map(fail_words).collect();
                        let _ = write!(h, "<td class=no>not met: {}</td>", esc(&why.join(", ")));
                    }
                    None => h.push_str("<td class=no>—</td>"),
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_of_a_runs_csv_finds_namespaces_and_their_harms() {
        let cols: Vec<String> = [
            "param_session_requests",
            "session_requests",
            "session_logged_out_early",
            "session_expired_idle",
            "session_relogin_after_expiry",
            "session_logins_refused",
            "session_logouts",
            "session_requests_ok",
            "session_logins_per_s",
            "cache_requests",
        ]
        .map(String::from)
        .to_vec();
        let cat = catalog(&cols);
        assert_eq!(
            cat.namespaces,
            vec![("session".into(), Some("sessions")), ("cache".into(), None)]
        );
        let harms: Vec<String> = cat.harms().into_iter().map(|h| h.column).collect();
        assert!(
            harms.contains(&"session_logged_out_early".to_string()),
            "{harms:?}"
        );
        let bad = Goals {
            targets: vec!["param_session.hit_ratio>=0.5".into()],
            ..Goals::default()
        };
        assert!(check(&cols, &bad).is_err());
    }
}
