//! The report page: the verdicts first, the best policy per memory size
//! (ties as ties), the cheapest memory that meets a hit-ratio target, the
//! charts, then the grid and every run.

use super::data::GroupKey;
use super::{policy_ranking, short_name, show_value, Chart, Ctx, Options, MEM, POLICY};
use std::fmt::Write;

/// Hit ratios this close to the best are a tie.
const TIE_POINTS: f64 = 0.005;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Render `index.html`.
pub(crate) fn page(
    cx: &Ctx,
    opts: &Options,
    goals: &super::verdicts::Goals,
    charts: &[Chart],
    skipped: &[String],
) -> String {
    let mut h = String::new();
    let title = if cx.workload.is_empty() {
        "ttlsim sweep report".to_string()
    } else {
        format!("ttlsim sweep report: {}", cx.workload)
    };
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>\n\
         body{{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1700px;padding:0 1em;color:#222}}\n\
         table{{border-collapse:collapse;margin:0.5em 0 1.5em}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}\n\
         th{{background:#f2f2f2}}td.l,th.l{{text-align:left}}.ok{{background:#e6f4e6}}.no{{color:#999}}\n\
         figure{{margin:1.5em 0}}img{{max-width:100%;border:1px solid #ddd}}figcaption{{color:#555}}\n\
         </style></head><body>\n<h1>{t}</h1>\n<p>{g}. Files: <a href=\"runs.csv\">runs.csv</a> (one row per run), \
         <a href=\"timeseries.csv\">timeseries.csv</a>, <a href=\"expiry_lag.csv\">expiry_lag.csv</a>. \
         Regenerate with <code>ttlsim report DIR</code>.</p>\n",
        t = esc(&title),
        g = esc(&cx.grid_text)
    );

    h.push_str(&super::verdicts::section(cx, opts, goals, esc));

    let ttl = cx.ttl_params.first().map(String::as_str);
    let ttl_values: Vec<Option<String>> = match ttl {
        Some(t) => cx.t.distinct(t).into_iter().map(Some).collect(),
        None => vec![None],
    };
    let mut free = vec![MEM, POLICY];
    free.extend(ttl);
    let fixed = cx.fixed(&free);
    let held = cx.fixed_text(&fixed);
    let mems: Vec<String> = cx.t.distinct(MEM);
    let keys: Vec<&str> = [MEM, POLICY].into_iter().chain(ttl).collect();
    let agg = cx.t.aggregate("hit_ratio", &keys, &fixed);
    let get = |m: &str, p: &str, tv: &Option<String>| {
        let mut k = vec![m.to_string(), p.to_string()];
        k.extend(tv.clone());
        agg.get(&GroupKey(k)).map(|s| s.mean)
    };
    let policies: Vec<String> = {
        let mut p: Vec<String> = cx.t.distinct(POLICY);
        p.sort_by_key(|l| super::policy_rank(l));
        p
    };
    let ttl_head = |h: &mut String| {
        for tv in &ttl_values {
            let _ = write!(
                h,
                "<th>{}</th>",
                esc(&match (ttl, tv) {
                    (Some(t), Some(v)) => format!("{} = {}", short_name(t), show_value(t, v)),
                    _ => "all runs".into(),
                })
            );
        }
    };

    // Best policy at each memory size.
    let _ = writeln!(
        h,
        "<h2>Best policy at each memory size</h2>\n<p>Highest mean hit ratio{}{}; policies within 0.005 of it are a tie.</p>",
        if cx.seeds > 1 {
            format!(" over {} seeds", cx.seeds)
        } else {
            String::new()
        },
        esc(&held)
    );
    h.push_str("<table><tr><th class=l>maxmemory</th>");
    ttl_head(&mut h);
    h.push_str("</tr>\n");
    for m in &mems {
        let _ = write!(h, "<tr><td class=l>{}</td>", esc(&show_value(MEM, m)));
        for tv in &ttl_values {
            let vals: Vec<(&String, f64)> = policies
                .iter()
                .filter_map(|p| get(m, p, tv).map(|v| (p, v)))
                .collect();
            let top = vals.iter().map(|x| x.1).fold(f64::NAN, f64::max);
            // Policies within half a point of the best are a tie.
            let tied: Vec<String> = vals
                .iter()
                .filter(|x| x.1 >= top - TIE_POINTS)
                .map(|x| show_value(POLICY, x.0))
                .collect();
            match tied.as_slice() {
                [] => h.push_str("<td class=no>—</td>"),
                [p] => {
                    let _ = write!(h, "<td>{} ({top:.3})</td>", esc(p));
                }
                many if many.len() == vals.len() => {
                    let _ = write!(h, "<td>all tie ({top:.3})</td>");
                }
                many => {
                    let _ = write!(h, "<td>tie: {} ({top:.3})</td>", esc(&many.join(", ")));
                }
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");

    // Cheapest memory meeting the target.
    let _ = writeln!(
        h,
        "<h2>Cheapest memory with hit ratio ≥ {:.2}</h2>\n<p>Smallest swept maxmemory whose mean hit ratio meets the target \
         (flag <code>--target</code>){}; “not met” shows the best reached.</p>",
        opts.target,
        esc(&held)
    );
    h.push_str("<table><tr><th class=l>policy</th>");
    ttl_head(&mut h);
    h.push_str("</tr>\n");
    let bounded: Vec<&String> = mems.iter().filter(|m| m.as_str() != "0").collect();
    for p in &policies {
        let _ = write!(h, "<tr><td class=l>{}</td>", esc(&show_value(POLICY, p)));
        for tv in &ttl_values {
            let hit = bounded
                .iter()
                .find(|m| get(m, p, tv).is_some_and(|v| v >= opts.target));
            match hit {
                Some(m) => {
                    let _ = write!(
                        h,
                        "<td class=ok>{} ({:.3})</td>",
                        esc(&show_value(MEM, m)),
                        get(m, p, tv).unwrap_or(0.0)
                    );
                }
                None => {
                    let best = bounded
                        .iter()
                        .filter_map(|m| get(m, p, tv))
                        .fold(f64::NAN, f64::max);
                    let _ = write!(h, "<td class=no>not met (best {best:.3})</td>");
                }
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");

    let ranking = policy_ranking(cx);
    if ranking.len() > 1 {
        h.push_str("<p>Mean hit ratio over all runs: ");
        let parts: Vec<String> = ranking
            .iter()
            .map(|(p, v)| format!("{} {v:.3}", esc(&show_value(POLICY, p))))
            .collect();
        h.push_str(&parts.join(" · "));
        h.push_str(".</p>\n");
    }

    h.push_str("<h2>Charts</h2>\n");
    for c in charts {
        let _ = writeln!(
            h,
            "<figure><a href=\"{f}\"><img src=\"{f}\" alt=\"{cap}\"></a><figcaption>{cap}</figcaption></figure>",
            f = esc(&c.file),
            cap = esc(&c.caption)
        );
    }
    if !skipped.is_empty() {
        h.push_str("<p>Not drawn:</p><ul>\n");
        for s in skipped {
            let _ = writeln!(h, "<li>{}</li>", esc(s));
        }
        h.push_str("</ul>\n");
    }

    // The grid.
    h.push_str(
        "<h2>The grid</h2>\n<table><tr><th class=l>parameter</th><th class=l>values</th></tr>\n",
    );
    for c in &cx.t.columns {
        if !super::data::RunsTable::is_param(c) {
            continue;
        }
        let vals: Vec<String> = cx.t.distinct(c).iter().map(|v| show_value(c, v)).collect();
        let swept = vals.len() > 1;
        let _ = writeln!(
            h,
            "<tr><td class=l>{}{}</td><td class=l>{}</td></tr>",
            esc(&short_name(c)),
            if swept { " <b>(swept)</b>" } else { "" },
            esc(&vals.join(", "))
        );
    }
    h.push_str("</table>\n");

    // Every run.
    let metrics = [
        "hit_ratio",
        "evicted_keys",
        "evicted_premature",
        "expired_keys",
        "oom_rejections",
        "used_memory_peak",
        "stale_memory_peak",
        "expiry_lag_p99_ms",
    ];
    let metrics: Vec<&str> = metrics
        .into_iter()
        .filter(|m| cx.t.col(m).is_some())
        .collect();
    h.push_str(
        "<h2>Every run</h2>\n<details><summary>show the table</summary><table><tr><th>run_id</th>",
    );
    for c in cx
        .swept
        .iter()
        .map(String::as_str)
        .chain(["seed"])
        .chain(metrics.iter().copied())
    {
        let _ = write!(h, "<th>{}</th>", esc(&short_name(c)));
    }
    h.push_str("</tr>\n");
    for r in &cx.t.rows {
        let _ = write!(h, "<tr><td>{}</td>", esc(cx.t.get(r, "run_id")));
        for c in cx
            .swept
            .iter()
            .map(String::as_str)
            .chain(["seed"])
            .chain(metrics.iter().copied())
        {
            let _ = write!(h, "<td>{}</td>", esc(&show_value(c, cx.t.get(r, c))));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></details>\n</body></html>\n");
    h
}
