//! What `ttlsim plan` says and writes: the answer in words, `plan.csv`
//! (every figure) and `mrc.png` (each target against maxmemory, one line
//! per policy, the target and the chosen sizes marked).

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::objective::{Catalog, Objective, Origin};
use super::search::{interpolate, Check, Ran};
use super::verdict::{self, fail_words, mem, Obs, Verdict};
use crate::report::charts::{init_fonts, series_color};
use crate::units::{atomic_write_bytes, csv_line, fmt_f64};

/// Headroom assumed beside maxmemory: allocator fragmentation, as a
/// share of used_memory (jemalloc's mem_fragmentation_ratio is typically
/// 1.0–1.3 for mixed value sizes).
pub const FRAGMENTATION: f64 = 0.15;
/// Headroom for fork copy-on-write during BGSAVE / AOF rewrite: the share
/// of pages written while the child runs.
pub const FORK_COW: f64 = 0.20;
/// Client buffers assumed: 1,000 connections with 32 KiB of query and
/// output buffers each.
pub const CLIENT_BUFFERS: f64 = 1000.0 * 32.0 * 1024.0;

/// Everything a plan found.
pub struct Plan {
    /// Workload or trace name.
    pub name: String,
    /// Objectives and constraints.
    pub objectives: Vec<Objective>,
    /// The columns of the subject.
    pub catalog: Catalog,
    /// The miniatures' sample rate.
    pub rate: f64,
    /// Keys a miniature keeps at least at every size: a size with fewer
    /// at `rate` ran at a larger rate.
    pub point_keys: u64,
    /// Policies whose miniatures run at a larger rate than `rate` at every
    /// size (volatile ones, when the keys with a TTL are fewer), by name.
    pub policy_rates: Vec<(String, f64)>,
    /// Keys of the subject: resident at the unbounded pilot's peak (or,
    /// before the pilot, estimated for a workload, counted for a trace).
    pub keys: u64,
    /// Of those, keys with a TTL at the pilot's peak.
    pub volatile_keys: u64,
    /// Rate of the checks (1: full size).
    pub verify_rate: f64,
    /// Seeds of the miniatures.
    pub seeds: Vec<u64>,
    /// Fixed memory kept full-size.
    pub fixed: u64,
    /// Unbounded peak used_memory (miniature estimate).
    pub peak: u64,
    /// The memory budget.
    pub budget: Option<u64>,
    /// Every miniature run.
    pub minis: Vec<Ran>,
    /// The unbounded pilot.
    pub pilot: Ran,
    /// The miniatures' verdicts.
    pub verdicts: Vec<Verdict>,
    /// The full-size checks.
    pub checks: Vec<Check>,
    /// The full-size curve (`--check-curve`).
    pub curve: Vec<Ran>,
    /// CPU of the miniatures, s.
    pub mini_cpu_s: f64,
    /// Wall time, s.
    pub wall_s: f64,
}

impl Plan {
    /// The rate `policy`'s miniatures run at where its sizes keep enough
    /// keys: [`Plan::rate`], or its own from [`Plan::policy_rates`].
    pub fn policy_rate(&self, policy: &str) -> f64 {
        self.policy_rates
            .iter()
            .find(|(n, _)| n == policy)
            .map_or(self.rate, |&(_, r)| r)
    }

    /// Miniature runs at a larger rate than their policy's, at the
    /// smallest sizes (see [`Plan::point_keys`]).
    pub fn small_size_runs(&self) -> Vec<&Ran> {
        self.minis
            .iter()
            .filter(|r| r.rate > self.policy_rate(&r.obs.policy))
            .collect()
    }

    /// The verdicts after the checks: each answer replaced by its checked one.
    pub fn final_verdicts(&self) -> Vec<Verdict> {
        self.verdicts
            .iter()
            .map(|v| {
                let mut v = v.clone();
                if let Some(c) = self.checks.iter().find(|c| c.policy == v.policy) {
                    v.answer = c.verified.filter(|&a| self.budget.is_none_or(|b| a <= b));
                    if v.answer.is_none() {
                        // What the full size got wrong at its last failing size.
                        if let Some(r) = c
                            .runs
                            .iter()
                            .rev()
                            .find(|r| !r.obs.failed(&self.objectives).is_empty())
                        {
                            v.fails = r
                                .obs
                                .failed(&self.objectives)
                                .iter()
                                .map(|o| (o.text.clone(), r.obs.get(&o.column), r.obs.maxmemory))
                                .collect();
                        }
                    }
                }
                v
            })
            .collect()
    }

    /// Columns drawn and compared: the targets.
    pub fn target_columns(&self) -> Vec<&Objective> {
        self.objectives
            .iter()
            .filter(|o| o.origin == Origin::Target)
            .collect()
    }

    /// Mini-versus-full error on the checked targets: (policy, column,
    /// mini, full) at each check's first run.
    pub fn check_errors(&self) -> Vec<(String, String, f64, f64)> {
        let seed = self.seeds[0];
        let mini: Vec<_> = self.minis.iter().map(|r| r.obs.clone()).collect();
        let mut v = Vec::new();
        for c in &self.checks {
            for r in &c.runs {
                for o in self.target_columns() {
                    let (Some(m), Some(f)) = (
                        interpolate(&mini, &c.policy, seed, &o.column, r.obs.maxmemory),
                        r.obs.get(&o.column),
                    ) else {
                        continue;
                    };
                    v.push((c.policy.clone(), o.column.clone(), m, f));
                }
            }
        }
        v
    }

    /// Mini-versus-full error over the full-size curve (`--check-curve`),
    /// per target column: over the seeds' mean curves (what the plan's
    /// median answer stands on) and over the first seed's curve alone.
    pub fn curve_errors(&self) -> Vec<CurveError> {
        let mini: Vec<_> = self.minis.iter().map(|r| &r.obs).collect();
        let full: Vec<_> = self.curve.iter().map(|r| &r.obs).collect();
        // (policy, maxmemory) of each full-size point, in run order.
        let mut points: Vec<(&str, u64)> = Vec::new();
        for f in &full {
            if !points.contains(&(f.policy.as_str(), f.maxmemory)) {
                points.push((f.policy.as_str(), f.maxmemory));
            }
        }
        let at = |runs: &[&Obs], p: &str, m: u64, seed: Option<u64>, col: &str| -> Option<f64> {
            let v: Vec<f64> = runs
                .iter()
                .filter(|o| o.policy == p && o.maxmemory == m && seed.is_none_or(|s| o.seed == s))
                .filter_map(|o| o.get(col))
                .collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        self.target_columns()
            .iter()
            .map(|o| {
                let errs = |seed: Option<u64>| -> (f64, f64, usize) {
                    let e: Vec<f64> = points
                        .iter()
                        .filter_map(|&(p, m)| {
                            Some(
                                (at(&mini, p, m, seed, &o.column)?
                                    - at(&full, p, m, seed, &o.column)?)
                                .abs()
                                    * 100.0,
                            )
                        })
                        .collect();
                    let mean = e.iter().sum::<f64>() / e.len().max(1) as f64;
                    (mean, e.iter().cloned().fold(0.0, f64::max), e.len())
                };
                let (mean, worst, points) = errs(None);
                let (seed_mean, seed_worst, _) = errs(Some(self.seeds[0]));
                CurveError {
                    column: o.column.clone(),
                    points,
                    mean,
                    worst,
                    seed_mean,
                    seed_worst,
                }
            })
            .collect()
    }
}

fn rate_text(r: f64) -> String {
    if r >= 1.0 {
        "1 (full size)".into()
    } else {
        format!("1/{}", (1.0 / r).round())
    }
}

/// Mini-versus-full error on one target column (`--check-curve`), in
/// points (hundredths of the ratio).
pub struct CurveError {
    /// The runs.csv column.
    pub column: String,
    /// Full-size points compared (policy × maxmemory).
    pub points: usize,
    /// Mean absolute error of the seeds' mean curves.
    pub mean: f64,
    /// Largest absolute error of the seeds' mean curves.
    pub worst: f64,
    /// Mean absolute error of the first seed's curve alone.
    pub seed_mean: f64,
    /// Largest absolute error of the first seed's curve alone.
    pub seed_worst: f64,
}

/// `(policy, rate)` pairs grouped by rate, in order of first appearance.
fn grouped_rates(rates: &[(String, f64)]) -> Vec<(f64, Vec<&str>)> {
    let mut groups: Vec<(f64, Vec<&str>)> = Vec::new();
    for (name, r) in rates {
        match groups.iter_mut().find(|g| g.0 == *r) {
            Some(g) => g.1.push(name),
            None => groups.push((*r, vec![name.as_str()])),
        }
    }
    groups
}

/// The answer in words.
pub fn words(p: &Plan) -> String {
    let mut s = String::new();
    let policies = p.verdicts.len();
    let _ = writeln!(
        s,
        "ttlsim plan `{}`: {policies} policies, seeds {}, {} miniature runs at sample rate {} (~{} of the ~{} keys resident at the unbounded peak, ~{} of them with a TTL); maxmemory scaled by the rate, the {} of fixed memory kept full-size.",
        p.name,
        p.seeds.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(","),
        p.minis.len() + 1,
        rate_text(p.rate),
        (p.keys as f64 * p.rate).round(),
        p.keys,
        p.volatile_keys,
        mem(p.fixed as f64),
    );
    for (rate, names) in grouped_rates(&p.policy_rates) {
        let _ = writeln!(
            s,
            "  {} evict only among the ~{} keys with a TTL: their miniatures ran at rate {}.",
            names.join(", "),
            p.volatile_keys,
            rate_text(rate),
        );
    }
    let larger = p.small_size_runs();
    if let Some(top) = larger.iter().map(|r| r.rate).reduce(f64::max) {
        let _ = writeln!(
            s,
            "  {} of them, at the smallest sizes (below ~{} keys resident at rate {}), ran at a larger rate, up to {}.",
            larger.len(),
            p.point_keys,
            rate_text(p.rate),
            rate_text(top),
        );
    }
    let _ = writeln!(
        s,
        "Objectives:\n{}",
        verdict::objectives_words(&p.objectives).trim_end()
    );
    let _ = writeln!(
        s,
        "Unbounded peak used_memory: {} (miniature estimate){}.",
        mem(p.peak as f64),
        p.budget
            .map(|b| format!("; budget {}", mem(b as f64)))
            .unwrap_or_default()
    );
    let _ = writeln!(
        s,
        "\nSmallest maxmemory meeting every objective, by the miniatures (median over seeds):"
    );
    s.push_str(&verdict::words(&p.verdicts));
    if !p.checks.is_empty() {
        let _ = writeln!(
            s,
            "\nChecked at {} (seed {}):",
            if p.verify_rate >= 1.0 {
                "full size".to_string()
            } else {
                format!("sample rate {}", rate_text(p.verify_rate))
            },
            p.seeds[0]
        );
        let errs = p.check_errors();
        for c in &p.checks {
            let first = &c.runs[0];
            let fails = first.obs.failed(&p.objectives);
            let err: Vec<String> = errs
                .iter()
                .filter(|e| e.0 == c.policy)
                .take(p.target_columns().len())
                .map(|e| format!("{} {:.4} vs miniature {:.4}", e.1, e.3, e.2))
                .collect();
            let verdict = if fails.is_empty() {
                format!("meets them at {}", mem(c.mini as f64))
            } else {
                let why: Vec<String> = fails
                    .iter()
                    .map(|o| fail_words(&(o.text.clone(), first.obs.get(&o.column), c.mini)))
                    .collect();
                match c.verified {
                    Some(v) => format!(
                        "fails at {} ({}); meets them at {}",
                        mem(c.mini as f64),
                        why.join(", "),
                        mem(v as f64)
                    ),
                    None => format!(
                        "fails at {} ({}); none found up to 1.5x the estimated peak",
                        mem(c.mini as f64),
                        why.join(", ")
                    ),
                }
            };
            let _ = writeln!(s, "  {:<16} {verdict}; {}", c.policy, err.join(", "));
        }
    }
    let finals = p.final_verdicts();
    let best = verdict::best(&finals);
    let _ = writeln!(s);
    match best.as_slice() {
        [] => {
            let _ = writeln!(
                s,
                "No policy meets every objective{}.",
                if p.budget.is_some() {
                    " within the budget"
                } else {
                    ""
                }
            );
        }
        [one] => {
            let _ = writeln!(
                s,
                "Recommended: maxmemory-policy {} with maxmemory {}.",
                one.policy,
                mem(one.answer.unwrap_or(0) as f64)
            );
        }
        many => {
            let _ = writeln!(
                s,
                "Recommended (a tie: within {:.0}% of each other): {}.",
                verdict::TIE * 100.0,
                many.iter()
                    .map(|v| format!(
                        "{} with maxmemory {}",
                        v.policy,
                        mem(v.answer.unwrap_or(0) as f64)
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
    }
    let failing: Vec<&Verdict> = finals.iter().filter(|v| v.answer.is_none()).collect();
    if !failing.is_empty() {
        let _ = writeln!(s, "What the other policies get wrong:");
        for v in failing {
            let what: Vec<String> = v.fails.iter().map(fail_words).collect();
            let _ = writeln!(
                s,
                "  {:<16} {}",
                v.policy,
                if what.is_empty() {
                    "no size meets every objective".into()
                } else {
                    format!("even at {}: {}", mem(v.fails[0].2 as f64), what.join(", "))
                }
            );
        }
    }
    if let Some(b) = best.first() {
        let m = b.answer.unwrap_or(0) as f64;
        let run = p
            .checks
            .iter()
            .find(|c| c.policy == b.policy)
            .and_then(|c| {
                c.runs
                    .iter()
                    .find(|r| r.obs.maxmemory == b.answer.unwrap_or(0))
            })
            .map(|r| &r.obs);
        let mini: Vec<_> = p.minis.iter().map(|r| r.obs.clone()).collect();
        let stale = run
            .and_then(|o| o.get("stale_memory_peak"))
            .or_else(|| interpolate(&mini, &b.policy, p.seeds[0], "stale_memory_peak", m as u64))
            .unwrap_or(0.0);
        let used = run
            .and_then(|o| o.get("used_memory_peak"))
            .or_else(|| interpolate(&mini, &b.policy, p.seeds[0], "used_memory_peak", m as u64))
            .unwrap_or(m)
            .min(m);
        let frag = used * FRAGMENTATION;
        let cow = used * FORK_COW;
        let _ = writeln!(
            s,
            "\nMemory to provision for {} at maxmemory {}:",
            b.policy,
            mem(m)
        );
        let _ = writeln!(s, "  used_memory at peak              {}, of which expired-but-resident {} ({:.1}% of maxmemory; what a faster expiry would free){}", mem(used), mem(stale), 100.0 * stale / m.max(1.0), if run.is_some() { "" } else { " [miniature]" });
        let _ = writeln!(
            s,
            "  + fragmentation                  {} (assumed {:.0}% of used_memory)",
            mem(frag),
            FRAGMENTATION * 100.0
        );
        let _ = writeln!(s, "  + fork copy-on-write             {} (assumed {:.0}% of pages written during BGSAVE/AOF rewrite)", mem(cow), FORK_COW * 100.0);
        let _ = writeln!(
            s,
            "  + client buffers                 {} (assumed 1,000 connections x 32 KiB)",
            mem(CLIENT_BUFFERS)
        );
        let _ = writeln!(
            s,
            "  = provision                      {} of RAM",
            mem(m.max(used) + frag + cow + CLIENT_BUFFERS)
        );
    }
    // Cost.
    let full_runs: Vec<&Ran> = p
        .checks
        .iter()
        .flat_map(|c| c.runs.iter())
        .chain(p.curve.iter())
        .collect();
    let full_cpu: f64 = full_runs.iter().map(|r| r.cpu_s).sum();
    let points = p.minis.iter().filter(|r| r.obs.seed == p.seeds[0]).count();
    let _ = write!(
        s,
        "\nCost: {} miniature runs, {:.1} s of CPU; {} checks, {:.1} s of CPU; wall {:.1} s.",
        p.minis.len() + 1,
        p.mini_cpu_s,
        full_runs.len(),
        full_cpu.max(0.0),
        p.wall_s
    );
    if !full_runs.is_empty() && p.verify_rate >= 1.0 {
        let one = full_cpu / full_runs.len() as f64;
        let sweep = one * points as f64;
        let _ = write!(
            s,
            " A full-size sweep of one seed's curve ({points} runs) would take ~{:.0} s: the miniatures cost {:.1}x less per seed.",
            sweep,
            sweep / (p.mini_cpu_s / p.seeds.len() as f64).max(1e-9)
        );
    }
    let _ = writeln!(s);
    for e in p.curve_errors() {
        if e.points > 0 {
            let _ = writeln!(
                s,
                "Mini-versus-full error on {} over {} points, the {} seeds' mean curves: mean {:.2} points, worst {:.2} (seed {} alone: mean {:.2}, worst {:.2}).",
                e.column,
                e.points,
                p.seeds.len(),
                e.mean,
                e.worst,
                p.seeds[0],
                e.seed_mean,
                e.seed_worst
            );
        }
    }
    s
}

/// Writes plan.csv and mrc.png into `dir`; returns their paths.
pub fn write(p: &Plan, dir: &Path) -> Result<Vec<PathBuf>> {
    let csv = dir.join("plan.csv");
    let mut cols: Vec<String> = p.objectives.iter().map(|o| o.column.clone()).collect();
    for c in [
        "hit_ratio",
        "used_memory_peak",
        "stale_memory_peak",
        "evicted_keys",
        "oom_rejections",
    ] {
        if !cols.iter().any(|x| x == c) {
            cols.push(c.to_string());
        }
    }
    let mut text = String::new();
    let mut header: Vec<String> = [
        "kind",
        "policy",
        "seed",
        "sample_rate",
        "maxmemory",
        "sim_maxmemory",
        "meets_all",
        "fails",
    ]
    .map(String::from)
    .to_vec();
    header.extend(cols.iter().cloned());
    text.push_str(&csv_line(&header));
    let row = |kind: &str, r: &Ran| -> String {
        let fails: Vec<&str> = r
            .obs
            .failed(&p.objectives)
            .iter()
            .map(|o| o.text.as_str())
            .collect();
        let mut f = vec![
            kind.to_string(),
            r.obs.policy.clone(),
            r.obs.seed.to_string(),
            fmt_f64(r.rate),
            r.obs.maxmemory.to_string(),
            r.sim_maxmemory.to_string(),
            fails.is_empty().to_string(),
            fails.join(" "),
        ];
        f.extend(
            cols.iter()
                .map(|c| r.obs.get(c).map(fmt_f64).unwrap_or_default()),
        );
        csv_line(&f)
    };
    text.push_str(&row("pilot", &p.pilot));
    for r in &p.minis {
        text.push_str(&row("mini", r));
    }
    for c in &p.checks {
        for r in &c.runs {
            text.push_str(&row("check", r));
        }
    }
    for r in &p.curve {
        text.push_str(&row("full_curve", r));
    }
    let finals = p.final_verdicts();
    let best: Vec<&str> = verdict::best(&finals)
        .iter()
        .map(|v| v.policy.as_str())
        .collect();
    for (v, f) in p.verdicts.iter().zip(&finals) {
        for (seed, a) in &v.per_seed {
            let mut fields = vec![
                "answer_seed".into(),
                v.policy.clone(),
                seed.to_string(),
                fmt_f64(p.rate),
                a.map(|x| x.to_string()).unwrap_or_default(),
            ];
            fields.resize(header.len(), String::new());
            text.push_str(&csv_line(&fields));
        }
        let kind = if best.contains(&v.policy.as_str()) {
            "recommended"
        } else {
            "answer"
        };
        let (lo, hi) = v.spread().map_or((String::new(), String::new()), |(l, h)| {
            (l.to_string(), h.to_string())
        });
        let mut fields = vec![
            kind.to_string(),
            v.policy.clone(),
            String::new(),
            fmt_f64(p.rate),
            f.answer.map(|x| x.to_string()).unwrap_or_default(),
            format!(
                "mini median {} seeds {lo}..{hi}",
                v.answer.map(|x| x.to_string()).unwrap_or_default()
            ),
            f.answer.is_some().to_string(),
            f.fails
                .iter()
                .map(|x| x.0.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        ];
        fields.resize(header.len(), String::new());
        text.push_str(&csv_line(&fields));
    }
    atomic_write_bytes(&csv, text.as_bytes())?;
    let png = dir.join("mrc.png");
    draw(p, &png)?;
    Ok(vec![csv, png])
}

/// A curve's (maxmemory in MiB, value) points.
type Points = Vec<(f64, f64)>;

fn pe<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing mrc.png failed: {e}")
}

/// mrc.png: one panel per target, one line per policy (the first seed's
/// miniature curve), the target as a dashed line, each policy's chosen
/// size as a filled circle and its full-size checks as crosses; with
/// `--check-curve`, the checked curve as a thin dashed line beside each
/// miniature one, so the sampling error shows where it is.
fn draw(p: &Plan, path: &Path) -> Result<()> {
    init_fonts();
    let targets = p.target_columns();
    let n = targets.len().max(1) as u32;
    let root = BitMapBackend::new(path, (1100, 80 + 560 * n)).into_drawing_area();
    root.fill(&WHITE).map_err(pe)?;
    let (head, body) = root.split_vertically(80);
    head.draw_text(
        &format!(
            "ttlsim plan `{}`: target vs maxmemory (miniature at rate {}{}, seed {})",
            p.name,
            rate_text(p.rate),
            match p.small_size_runs().iter().map(|r| r.rate).reduce(f64::max) {
                Some(top) => format!(", its smallest sizes up to {}", rate_text(top)),
                None => String::new(),
            } + &match p.policy_rates.iter().map(|&(_, r)| r).reduce(f64::max) {
                Some(r) => format!(", volatile policies at {}", rate_text(r)),
                None => String::new(),
            },
            p.seeds[0]
        ),
        &("sans-serif", 22).into_font().color(&BLACK),
        (20, 12),
    )
    .map_err(pe)?;
    let legend = if p.curve.is_empty() {
        String::new()
    } else {
        format!(
            "; thin dashed: the curve at {} (--check-curve)",
            match p.verify_rate {
                r if r >= 1.0 => "full size".to_string(),
                r => format!("rate {}", rate_text(r)),
            }
        )
    };
    head.draw_text(
        &format!(
            "lines: miniature curves per policy; dashed: target; ● chosen maxmemory; ✕ full-size checks{legend}"
        ),
        &("sans-serif", 16).into_font().color(&RGBColor(80, 80, 80)),
        (20, 46),
    )
    .map_err(pe)?;
    let mib = 1024.0 * 1024.0;
    let finals = p.final_verdicts();
    let panels = body.split_evenly((n as usize, 1));
    for (o, area) in targets.iter().zip(panels.iter()) {
        // The first seed's points of one policy among `runs`, by size.
        let points = |runs: &[Ran], policy: &str| {
            let mut pts: Vec<(f64, f64)> = runs
                .iter()
                .filter(|r| r.obs.policy == policy && r.obs.seed == p.seeds[0])
                .filter_map(|r| Some((r.obs.maxmemory as f64 / mib, r.obs.get(&o.column)?)))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            pts
        };
        // Per policy: its miniature points and its checked curve's.
        let curves: Vec<(String, Points, Points)> = p
            .verdicts
            .iter()
            .map(|v| {
                let (mini, full) = (points(&p.minis, &v.policy), points(&p.curve, &v.policy));
                (v.policy.clone(), mini, full)
            })
            .collect();
        let all = curves.iter().flat_map(|c| c.1.iter().chain(c.2.iter()));
        let x1 = all.clone().map(|p| p.0).fold(1.0, f64::max) * 1.02;
        let (mut y0, mut y1) = all.fold((o.bound, o.bound), |(a, b), p| (a.min(p.1), b.max(p.1)));
        if o.unit == crate::metrics::schema::Unit::Ratio {
            y0 = (y0 - 0.02).max(0.0);
            y1 = (y1 + 0.02).min(1.0);
        }
        if y1 <= y0 {
            y1 = y0 + 1.0;
        }
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{} ({})", o.column, o.text), ("sans-serif", 19))
            .margin(14)
            .margin_right(170)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x1, y0..y1)
            .map_err(pe)?;
        chart
            .configure_mesh()
            .x_desc("maxmemory (MiB)")
            .y_desc(o.column.as_str())
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .map_err(pe)?;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.0, o.bound), (x1, o.bound)],
                8,
                6,
                BLACK.stroke_width(2),
            ))
            .map_err(pe)?;
        for (i, (policy, pts, full)) in curves.iter().enumerate() {
            let color = series_color(policy, i);
            if !full.is_empty() {
                chart
                    .draw_series(DashedLineSeries::new(
                        full.clone(),
                        5,
                        4,
                        color.stroke_width(1),
                    ))
                    .map_err(pe)?;
            }
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(pe)?
                .label(policy.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
            if let Some(a) = finals
                .iter()
                .find(|v| &v.policy == policy)
                .and_then(|v| v.answer)
            {
                let x = a as f64 / mib;
                let y = p
                    .checks
                    .iter()
                    .find(|c| &c.policy == policy)
                    .and_then(|c| c.runs.iter().find(|r| r.obs.maxmemory == a))
                    .and_then(|r| r.obs.get(&o.column))
                    .or_else(|| {
                        let mini: Vec<_> = p.minis.iter().map(|r| r.obs.clone()).collect();
                        interpolate(&mini, policy, p.seeds[0], &o.column, a)
                    });
                if let Some(y) = y {
                    chart
                        .draw_series(std::iter::once(Circle::new((x, y), 7, color.filled())))
                        .map_err(pe)?;
                }
            }
            if let Some(c) = p.checks.iter().find(|c| &c.policy == policy) {
                let xs: Vec<(f64, f64)> = c
                    .runs
                    .iter()
                    .filter_map(|r| Some((r.obs.maxmemory as f64 / mib, r.obs.get(&o.column)?)))
                    .collect();
                chart
                    .draw_series(
                        xs.into_iter()
                            .map(|pt| Cross::new(pt, 6, color.stroke_width(2))),
                    )
                    .map_err(pe)?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .margin(6)
            .legend_area_size(24)
            .border_style(RGBColor(200, 200, 200))
            .background_style(WHITE.mix(0.9))
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(pe)?;
    }
    root.present().map_err(pe)?;
    Ok(())
}
