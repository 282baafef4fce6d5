//! Running a plan's simulations: miniature curves over a memory grid for
//! every policy and seed, refined where each answer lies, and full-size
//! checks of each answer, raised and bisected when the check fails.

use anyhow::{Context, Result};
use rayon::prelude::*;
use std::collections::BTreeMap;

use super::mini::{mini_maxmemory, to_full};
use super::objective::{Catalog, Objective};
use super::verdict::{smallest_passing, Obs};
use crate::metrics::schema::Unit;
use crate::sim::{self, RunSpec, Source};
use crate::store::Policy;
use crate::units::Dur;
use crate::workload::Workload;

/// A simulation ready to run at any `maxmemory` and policy: a miniature
/// (or the full size, at rate 1) of the subject, for one seed.
#[derive(Clone, Debug)]
pub struct Scaled {
    /// The (sampled) workload, its seed set.
    pub workload: Workload,
    /// Its patterns, or its (sampled) trace.
    pub source: Source,
    /// The sample rate (1: full size).
    pub rate: f64,
    /// Memory that does not scale (baseline and clients).
    pub fixed: u64,
    /// Request draws shared by the plan's runs ([`crate::workload::ahead`]).
    pub draws: std::sync::Arc<crate::workload::ahead::DrawCache>,
}

/// One run's figures and what it cost.
#[derive(Clone, Debug)]
pub struct Ran {
    /// The observation at full size.
    pub obs: Obs,
    /// The sample rate it ran at.
    pub rate: f64,
    /// `maxmemory` the simulation itself ran with.
    pub sim_maxmemory: u64,
    /// CPU time of the run, s.
    pub cpu_s: f64,
    /// The most keys resident at a metrics sample (DBSIZE), at full size.
    pub keys_peak: f64,
    /// The most keys with a TTL at a metrics sample, at full size.
    pub volatile_peak: f64,
}

/// CPU time of the calling thread, s (the machine may be shared, so a
/// run's cost is its own CPU, not its wall time).
pub fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

impl Scaled {
    /// Runs at a full-size `maxmemory` (0: none) with `policy`.
    pub fn run(&self, policy: Policy, maxmemory: u64, cat: &Catalog) -> Result<Ran> {
        let t = thread_cpu_s();
        let mut w = self.workload.clone();
        let sim_mm = mini_maxmemory(maxmemory, self.rate, self.fixed);
        w.server.maxmemory = sim_mm;
        w.server.policy = policy;
        w.server.miniature_rate = self.rate.min(1.0);
        let spec = RunSpec {
            run_id: "0".into(),
            workload: w,
            source: self.source.clone(),
            sample_interval: Dur(1_000_000),
            draws: crate::workload::ahead::Draws::Shared(self.draws.clone()),
        };
        let r = sim::run(&spec).with_context(|| {
            format!(
                "{} at maxmemory {maxmemory} (sample rate {})",
                policy.name(),
                self.rate
            )
        })?;
        let mut values = BTreeMap::new();
        for (c, v) in &r.columns {
            let Ok(x) = v.parse::<f64>() else { continue };
            let unit = super::objective::describe(c, cat).map_or(Unit::Setting, |d| d.unit);
            values.insert(c.clone(), to_full(c, unit, x, self.rate, self.fixed));
        }
        Ok(Ran {
            obs: Obs {
                policy: policy.name().to_string(),
                seed: self.workload.seed,
                maxmemory,
                values,
            },
            rate: self.rate,
            sim_maxmemory: sim_mm,
            cpu_s: thread_cpu_s() - t,
            keys_peak: series_peak(&r.timeseries, "keys") / self.rate.min(1.0),
            volatile_peak: series_peak(&r.timeseries, "volatile_keys") / self.rate.min(1.0),
        })
    }
}

/// The largest sample of a whole-server series (0 if absent).
fn series_peak(ts: &crate::metrics::result::TimeSeries, metric: &str) -> f64 {
    ts.names
        .iter()
        .position(|(m, ns)| *m == metric && ns.is_empty())
        .and_then(|i| ts.cols[i].iter().copied().reduce(f64::max))
        .unwrap_or(0.0)
}

/// Runs `tasks` on `jobs` threads; results in task order.
pub fn run_all(jobs: usize, tasks: Vec<(&Scaled, Policy, u64)>, cat: &Catalog) -> Result<Vec<Ran>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .context("cannot start the worker threads")?;
    pool.install(|| {
        tasks
            .into_par_iter()
            .map(|(s, p, m)| s.run(p, m, cat))
            .collect()
    })
}

/// `points` sizes evenly spaced from just above the fixed memory to `top`.
pub fn grid(fixed: u64, top: u64, points: usize) -> Vec<u64> {
    let span = top.saturating_sub(fixed) as f64;
    (1..=points)
        .map(|i| fixed + (span * i as f64 / points as f64).round() as u64)
        .collect()
}

/// Sizes between the largest failing size below each (policy, seed)'s
/// answer and the answer: `n` evenly spaced, to refine the grid there.
pub fn refinements(
    obs: &[Obs],
    objectives: &[Objective],
    n: usize,
) -> Vec<(String, u64, Vec<u64>)> {
    let mut keys: Vec<(String, u64)> = obs.iter().map(|o| (o.policy.clone(), o.seed)).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for (p, s) in keys {
        let mine: Vec<&Obs> = obs
            .iter()
            .filter(|o| o.policy == p && o.seed == s)
            .collect();
        let Some(a) = smallest_passing(&mine, objectives) else {
            continue;
        };
        let lo = mine.iter().map(|o| o.maxmemory).filter(|&m| m < a).max();
        if let Some(lo) = lo {
            let step = (a - lo) as f64 / (n + 1) as f64;
            let sizes = (1..=n)
                .map(|i| lo + (step * i as f64).round() as u64)
                .collect();
            out.push((p, s, sizes));
        }
    }
    out
}

/// The value of `column` on a policy's curve (one seed) at `maxmemory`,
/// linearly interpolated between the nearest observed sizes.
pub fn interpolate(obs: &[Obs], policy: &str, seed: u64, column: &str, at: u64) -> Option<f64> {
    let mut pts: Vec<(u64, f64)> = obs
        .iter()
        .filter(|o| o.policy == policy && o.seed == seed)
        .filter_map(|o| Some((o.maxmemory, o.get(column)?)))
        .collect();
    pts.sort_by_key(|p| p.0);
    pts.dedup_by_key(|p| p.0);
    let i = pts.partition_point(|p| p.0 < at);
    match (i.checked_sub(1).and_then(|j| pts.get(j)), pts.get(i)) {
        (_, Some(&(m, v))) if m == at => Some(v),
        (Some(&(m0, v0)), Some(&(m1, v1))) => {
            Some(v0 + (v1 - v0) * (at - m0) as f64 / (m1 - m0) as f64)
        }
        (Some(&(_, v)), None) | (None, Some(&(_, v))) => Some(v),
        (None, None) => None,
    }
}

/// A full-size check of one policy's answer.
#[derive(Clone, Debug)]
pub struct Check {
    /// The policy.
    pub policy: String,
    /// The miniature's answer.
    pub mini: u64,
    /// The checked answer: the miniature's if it passed at full size, else
    /// the smallest passing size found above it (`None`: none found).
    pub verified: Option<u64>,
    /// Every full-size run made, in order.
    pub runs: Vec<Ran>,
}

/// Checks `answer` with `full` (rate 1, or a verification rate); when it
/// fails, raises it by 5% steps (at most `max_steps`, not past `ceiling`)
/// and bisects between the last failing and the first passing size.
pub fn verify(
    full: &Scaled,
    policy: Policy,
    answer: u64,
    ceiling: u64,
    objectives: &[Objective],
    cat: &Catalog,
) -> Result<Check> {
    let mut runs = Vec::new();
    let passes = |r: &Ran| r.obs.failed(objectives).is_empty();
    let first = full.run(policy, answer, cat)?;
    let ok = passes(&first);
    runs.push(first);
    let mut verified = ok.then_some(answer);
    if !ok {
        let (mut lo, mut hi) = (answer, None);
        let mut m = answer;
        for _ in 0..8 {
            m = ((m as f64 * 1.05) as u64).min(ceiling.max(answer));
            let r = full.run(policy, m, cat)?;
            let p = passes(&r);
            runs.push(r);
            if p {
                hi = Some(m);
                break;
            }
            lo = m;
            if m >= ceiling {
                break;
            }
        }
        if let Some(mut h) = hi {
            for _ in 0..2 {
                let mid = lo + (h - lo) / 2;
                let r = full.run(policy, mid, cat)?;
                if passes(&r) {
                    h = mid;
                } else {
                    lo = mid;
                }
                runs.push(r);
            }
            verified = Some(h);
        }
    }
    Ok(Check {
        policy: policy.name().to_string(),
        mini: answer,
        verified,
        runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_and_interpolation() {
        assert_eq!(grid(100, 1100, 4), vec![350, 600, 850, 1100]);
        let o = |m: u64, v: f64| Obs {
            policy: "p".into(),
            seed: 1,
            maxmemory: m,
            values: [("hit_ratio".to_string(), v)].into_iter().collect(),
        };
        let obs = vec![o(100, 0.2), o(200, 0.4)];
        assert_eq!(
            interpolate(&obs, "p", 1, "hit_ratio", 150),
            Some(0.30000000000000004)
        );
        assert_eq!(interpolate(&obs, "p", 1, "hit_ratio", 300), Some(0.4));
    }
}
