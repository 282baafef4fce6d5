//! Verdicts from observed runs, shared by `ttlsim plan` and the sweep
//! report: per policy, the smallest `maxmemory` that meets every objective
//! (and keeps meeting them at every larger size observed), its spread over
//! seeds, what fails below it, and which policies need the least memory,
//! answers within [`TIE`] of the best shown as a tie.

use std::collections::BTreeMap;

use super::objective::{Objective, Origin};
use crate::units::fmt_f64;

/// Answers within this fraction of the smallest one are a tie.
pub const TIE: f64 = 0.02;

/// One observed run: a policy at a `maxmemory`, and its figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Obs {
    /// `maxmemory-policy`.
    pub policy: String,
    /// Run seed.
    pub seed: u64,
    /// `maxmemory`, bytes (full size).
    pub maxmemory: u64,
    /// `runs.csv` columns and their values (full size).
    pub values: BTreeMap<String, f64>,
}

impl Obs {
    /// A column's value.
    pub fn get(&self, column: &str) -> Option<f64> {
        self.values.get(column).copied()
    }

    /// The objectives it fails.
    pub fn failed<'a>(&self, objectives: &'a [Objective]) -> Vec<&'a Objective> {
        objectives
            .iter()
            .filter(|o| !o.met(self.get(&o.column), self.maxmemory))
            .collect()
    }
}

/// One policy's verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The policy.
    pub policy: String,
    /// The smallest passing `maxmemory` per seed (`None`: no size observed passes).
    pub per_seed: Vec<(u64, Option<u64>)>,
    /// The answer: the median over seeds, if every seed has one.
    pub answer: Option<u64>,
    /// What fails where it does not pass: objective text, the value seen
    /// (mean over seeds) and the `maxmemory` it was seen at.
    pub fails: Vec<(String, Option<f64>, u64)>,
}

impl Verdict {
    /// The spread of the answer over seeds (min, max).
    pub fn spread(&self) -> Option<(u64, u64)> {
        let v: Vec<u64> = self.per_seed.iter().filter_map(|s| s.1).collect();
        Some((*v.iter().min()?, *v.iter().max()?))
    }
}

/// The smallest `maxmemory` among `obs` (one policy and seed) that passes,
/// with every larger observed size passing too.
pub fn smallest_passing(obs: &[&Obs], objectives: &[Objective]) -> Option<u64> {
    let mut sorted: Vec<&&Obs> = obs.iter().collect();
    sorted.sort_by_key(|o| o.maxmemory);
    let mut answer = None;
    for o in sorted.iter().rev() {
        if o.failed(objectives).is_empty() {
            answer = Some(o.maxmemory);
        } else {
            break;
        }
    }
    answer
}

/// Verdicts per policy, in the order policies first appear in `obs`.
/// Sizes above `budget` (when given) do not count as passing.
pub fn verdicts(obs: &[Obs], objectives: &[Objective], budget: Option<u64>) -> Vec<Verdict> {
    let mut policies: Vec<&str> = Vec::new();
    for o in obs {
        if !policies.contains(&o.policy.as_str()) {
            policies.push(&o.policy);
        }
    }
    policies
        .into_iter()
        .map(|p| {
            let mine: Vec<&Obs> = obs.iter().filter(|o| o.policy == p).collect();
            let mut seeds: Vec<u64> = mine.iter().map(|o| o.seed).collect();
            seeds.sort_unstable();
            seeds.dedup();
            let per_seed: Vec<(u64, Option<u64>)> = seeds
                .iter()
                .map(|&s| {
                    let of: Vec<&Obs> = mine.iter().copied().filter(|o| o.seed == s).collect();
                    let a = smallest_passing(&of, objectives)
                        .filter(|&a| budget.is_none_or(|b| a <= b));
                    (s, a)
                })
                .collect();
            let answer = if per_seed.iter().all(|s| s.1.is_some()) && !per_seed.is_empty() {
                let mut v: Vec<u64> = per_seed.iter().filter_map(|s| s.1).collect();
                v.sort_unstable();
                Some(v[(v.len() - 1) / 2])
            } else {
                None
            };
            // Where it fails: the largest failing size below the answer, or
            // the largest size seen (within the budget) when there is none.
            let fails_at = mine
                .iter()
                .filter(|o| match answer {
                    Some(a) => o.maxmemory < a,
                    None => budget.is_none_or(|b| o.maxmemory <= b),
                })
                .filter(|o| !o.failed(objectives).is_empty())
                .map(|o| o.maxmemory)
                .max();
            let fails = fails_at
                .map(|m| {
                    let at: Vec<&Obs> = mine.iter().copied().filter(|o| o.maxmemory == m).collect();
                    objectives
                        .iter()
                        .filter(|ob| at.iter().any(|o| !ob.met(o.get(&ob.column), o.maxmemory)))
                        .map(|ob| {
                            let vals: Vec<f64> =
                                at.iter().filter_map(|o| o.get(&ob.column)).collect();
                            let mean = (!vals.is_empty())
                                .then(|| vals.iter().sum::<f64>() / vals.len() as f64);
                            (ob.text.clone(), mean, m)
                        })
                        .collect()
                })
                .unwrap_or_default();
            Verdict {
                policy: p.to_string(),
                per_seed,
                answer,
                fails,
            }
        })
        .collect()
}

/// The policies that need the least memory: every answer within [`TIE`] of
/// the smallest, smallest first. Empty when no policy passes.
pub fn best(verdicts: &[Verdict]) -> Vec<&Verdict> {
    let Some(min) = verdicts.iter().filter_map(|v| v.answer).min() else {
        return vec![];
    };
    let mut v: Vec<&Verdict> = verdicts
        .iter()
        .filter(|v| {
            v.answer
                .is_some_and(|a| a as f64 <= min as f64 * (1.0 + TIE))
        })
        .collect();
    v.sort_by_key(|v| v.answer);
    v
}

/// Memory in MiB or GiB, for words.
pub fn mem(b: f64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if b >= 1024.0 * MIB {
        format!("{:.2} GiB", b / (1024.0 * MIB))
    } else {
        format!("{:.1} MiB", b / MIB)
    }
}

/// A failing objective in words: `session.logged_out_early==0 (saw 152)`.
pub fn fail_words(f: &(String, Option<f64>, u64)) -> String {
    let seen = match f.1 {
        Some(v) if v.fract() == 0.0 || v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) => fmt_f64((v * 10000.0).round() / 10000.0),
        None => "no value".into(),
    };
    format!("{} (saw {seen})", f.0)
}

/// The objectives in words, targets first.
pub fn objectives_words(objectives: &[Objective]) -> String {
    let part = |o: Origin| {
        objectives
            .iter()
            .filter(|x| x.origin == o)
            .map(|x| x.text.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = String::new();
    for (o, name) in [
        (Origin::Target, "targets"),
        (Origin::Require, "required"),
        (Origin::Harm, "no harm (relax with --allow)"),
    ] {
        let p = part(o);
        if !p.is_empty() {
            s.push_str(&format!("  {name}: {p}\n"));
        }
    }
    s
}

/// The verdicts in words: one line per policy, then the recommendation.
pub fn words(verdicts: &[Verdict]) -> String {
    let mut s = String::new();
    for v in verdicts {
        match (v.answer, v.spread()) {
            (Some(a), Some((lo, hi))) => {
                s.push_str(&format!("  {:<16} maxmemory {}", v.policy, mem(a as f64)));
                if v.per_seed.len() > 1 {
                    s.push_str(&format!(
                        " (seeds: {}–{})",
                        mem(lo as f64)
                            .trim_end_matches(" MiB")
                            .trim_end_matches(" GiB"),
                        mem(hi as f64)
                    ));
                }
                if let Some(f) = v.fails.first() {
                    s.push_str(&format!("; below it fails first: {}", fail_words(f)));
                }
                s.push('\n');
            }
            _ => {
                let what: Vec<String> = v.fails.iter().map(fail_words).collect();
                s.push_str(&format!(
                    "  {:<16} never meets them{}: {}\n",
                    v.policy,
                    v.fails
                        .first()
                        .map(|f| format!(" (at {})", mem(f.2 as f64)))
                        .unwrap_or_default(),
                    if what.is_empty() {
                        "no passing size seen".into()
                    } else {
                        what.join(", ")
                    }
                ));
            }
        }
    }
    let b = best(verdicts);
    match b.as_slice() {
        [] => s.push_str("  No policy meets every objective.\n"),
        [one] => s.push_str(&format!(
            "  Least memory: {} at {}.\n",
            one.policy,
            mem(one.answer.unwrap_or(0) as f64)
        )),
        many => s.push_str(&format!(
            "  Least memory (a tie, within {:.0}%): {}.\n",
            TIE * 100.0,
            many.iter()
                .map(|v| format!("{} at {}", v.policy, mem(v.answer.unwrap_or(0) as f64)))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::objective::Catalog;

    fn obs(policy: &str, seed: u64, mm: u64, hr: f64, harm: f64) -> Obs {
        let mut values = BTreeMap::new();
        values.insert("hit_ratio".to_string(), hr);
        values.insert("oom_rejections".to_string(), harm);
        Obs {
            policy: policy.into(),
            seed,
            maxmemory: mm,
            values,
        }
    }

    #[test]
    fn smallest_size_that_stays_passing_and_ties() {
        let cat = Catalog::default();
        let objs = cat
            .objectives(&["hit_ratio>=0.8".into()], &[], &[])
            .unwrap();
        let o = vec![
            obs("a", 1, 10, 0.5, 0.0),
            obs("a", 1, 20, 0.81, 0.0), // passes, but 30 fails: not the answer
            obs("a", 1, 30, 0.79, 0.0),
            obs("a", 1, 40, 0.85, 0.0),
            obs("b", 1, 10, 0.9, 5.0),
            obs("b", 1, 40, 0.9, 0.0),
            obs("c", 1, 40, 0.7, 0.0),
        ];
        let v = verdicts(&o, &objs, None);
        assert_eq!(v[0].answer, Some(40));
        assert_eq!(v[1].answer, Some(40));
        assert_eq!(v[1].fails[0].0, "oom_rejections==0");
        assert_eq!(v[2].answer, None);
        let b: Vec<&str> = best(&v).iter().map(|v| v.policy.as_str()).collect();
        assert_eq!(b, ["a", "b"]);
        assert!(words(&v).contains("a tie"), "{}", words(&v));
        assert_eq!(verdicts(&o, &objs, Some(30))[0].answer, None);
    }
}
