//! `ttlsim plan`'s arguments and the order of its work: objectives checked,
//! miniatures built, a pilot, the curves, their refinement, the verdicts,
//! the full-size checks, then the answer in words and the files.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::mini::{choose_rate, fixed_memory};
use super::objective::{Catalog, Origin};
use super::output::{self, Plan};
use super::search::{self, Ran, Scaled};
use super::verdict;
use crate::say;
use crate::sim::Source;
use crate::store::memory::parse_memory;
use crate::store::Policy;
use crate::sweep::grid::policy_group;
use crate::units::Dur;
use crate::workload::patterns::mix;
use crate::workload::{sample, PatternSpec, Warmup, Workload};

/// `ttlsim plan` arguments.
#[derive(Args)]
pub struct PlanArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub source: crate::cli::SourceArgs,
    /// An objective, in runs.csv's names: `cache.hit_ratio>=0.9`
    /// (`hit_ratio` alone: the whole run). Repeatable.
    #[arg(long, value_name = "NS.METRIC>=X")]
    pub target: Vec<String>,
    /// A constraint: `session.logged_out_early==0`, `rl.wrongly_allowed<=100`,
    /// `stale_memory_peak<=10%` (of maxmemory). Repeatable.
    #[arg(long, value_name = "NS.METRIC<=X")]
    pub require: Vec<String>,
    /// Relax a default harm constraint (every harm outcome is `==0` unless
    /// allowed), e.g. `--allow rl.wrongly_denied`. Repeatable.
    #[arg(long, value_name = "NS.METRIC")]
    pub allow: Vec<String>,
    /// Policies to plan for: a name, a comma list, or `all`.
    #[arg(long, default_value = "all")]
    pub maxmemory_policy: String,
    /// The memory budget: answers above it do not count (e.g. 8gb).
    #[arg(long)]
    pub max_memory: Option<String>,
    /// Seeds (each a miniature with its own sample); default: the
    /// workload's seed and the next two.
    #[arg(long, value_delimiter = ',')]
    pub seed: Vec<u64>,
    /// Memory points of each curve (before refinement).
    #[arg(long, default_value_t = 32)]
    pub points: usize,
    /// Sample rate of the miniatures (default: the largest power of two
    /// keeping at least --sample-keys keys).
    #[arg(long)]
    pub sample_rate: Option<f64>,
    /// Keys a miniature keeps at least (when the rate is chosen).
    #[arg(long, default_value_t = 4096)]
    pub sample_keys: u64,
    /// Check each answer at this sample rate instead of full size (1),
    /// for workloads too large to run whole.
    #[arg(long, default_value_t = 1.0)]
    pub verify_rate: f64,
    /// Skip the full-size checks.
    #[arg(long)]
    pub no_verify: bool,
    /// Also run the full-size curve at the same points (for the
    /// mini-versus-full error; costs a full sweep).
    #[arg(long)]
    pub check_curve: bool,
    /// Simulated duration, warm-up included (overrides the workload's).
    #[arg(long)]
    pub duration: Option<String>,
    /// Warm-up excluded from metrics (overrides the workload's).
    #[arg(long)]
    pub warmup: Option<String>,
    /// Worker threads.
    #[arg(short = 'j', long, default_value_t = 2)]
    pub jobs: usize,
    /// Write plan.csv and mrc.png here (default: `results/<name>/plan/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn policies(spec: &str) -> Result<Vec<Policy>> {
    let mut v = Vec::new();
    for part in spec.split(',') {
        match policy_group(part) {
            Some(g) => v.extend(g),
            None => v.push(Policy::parse(part.trim()).map_err(anyhow::Error::msg)?),
        }
    }
    v.retain(|p| !p.needs_future());
    v.dedup();
    if v.is_empty() {
        bail!("--maxmemory-policy {spec}: no policy to plan for");
    }
    Ok(v)
}

/// Keys a workload holds at once, roughly: declared keys, plus sessions
/// and tokens alive over their TTL.
fn estimated_keys(w: &Workload) -> u64 {
    let d = w.duration.unwrap_or(Dur(3_600_000_000));
    let alive: f64 = w
        .patterns
        .iter()
        .map(|p| match p {
            PatternSpec::Sessions(s) => s.logins.mean_rate(d) * s.ttl.secs(),
            PatternSpec::Tokens(s) => s.campaigns.mean_rate(d) * s.ttl.secs(),
            _ => 0.0,
        })
        .sum();
    sample::declared_keys(w) + alive as u64
}

fn out_dir(args: &PlanArgs, name: &str) -> PathBuf {
    args.out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(name).join("plan"))
}

/// The miniature of the `seed`-th seed at sample rate `rate`, among those
/// built per rate.
fn scale_at(scales: &[(f64, Vec<Scaled>)], rate: f64, seed: usize) -> &Scaled {
    &scales
        .iter()
        .find(|(r, _)| *r == rate)
        .expect("a miniature per rate in use")
        .1[seed]
}

/// Runs `ttlsim plan`.
pub fn plan(args: &PlanArgs) -> Result<()> {
    let started = Instant::now();
    let (mut w, source) = args.source.load()?;
    let trace = match source {
        Source::Trace(t) => Some(t),
        Source::Patterns => None,
    };
    if let Some(d) = &args.duration {
        w.duration = Some(Dur::parse(d).map_err(|e| anyhow::anyhow!("--duration: {e}"))?);
    }
    if let Some(v) = &args.warmup {
        w.warmup = Warmup::parse(v).map_err(|e| anyhow::anyhow!("--warmup: {e}"))?;
    }
    w.check_warmup().map_err(anyhow::Error::msg)?;
    let policies = policies(&args.maxmemory_policy)?;
    let budget = match &args.max_memory {
        Some(m) => Some(
            parse_memory(m).with_context(|| format!("--max-memory {m}: not a size such as 8gb"))?,
        ),
        None => None,
    };
    if args.points < 2 || args.points > 1000 {
        bail!("--points must be 2..1000, got {}", args.points);
    }
    if args.jobs == 0 || args.jobs > 1024 {
        bail!("--jobs must be 1..1024, got {}", args.jobs);
    }
    for (flag, r) in [
        ("--sample-rate", args.sample_rate.unwrap_or(0.5)),
        ("--verify-rate", args.verify_rate),
    ] {
        if !(r > 0.0 && r <= 1.0) {
            bail!("{flag} must be in (0, 1], got {r}");
        }
    }
    if args.target.is_empty() {
        bail!("give at least one --target, e.g. `--target hit_ratio>=0.9` or `--target cache.hit_ratio>=0.8`");
    }
    // Objectives before any run. A trace's namespaces are known only once
    // it is read: its namespaced objectives are checked after the pilot.
    let mut cat = match &trace {
        None => Catalog::of_workload(&w),
        Some(_) => Catalog::default(),
    };
    let parse_all = |cat: &Catalog| cat.objectives(&args.target, &args.require, &args.allow);
    let early = match &trace {
        None => Some(parse_all(&cat)?),
        Some(_) => {
            for t in args.target.iter().chain(&args.require) {
                let name = t.split(['>', '<', '=']).next().unwrap_or("");
                if !name.contains('.') {
                    cat.parse(t, Origin::Require)?;
                }
            }
            None
        }
    };
    let seeds: Vec<u64> = if args.seed.is_empty() {
        (0..3).map(|i| w.seed.wrapping_add(i)).collect()
    } else {
        args.seed.clone()
    };
    let out = out_dir(args, &w.name);
    let fixed = fixed_memory(&w.server);

    // The miniatures, one per seed.
    let tmp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let (mut keys, mut rate) = match &trace {
        None => {
            let k = estimated_keys(&w);
            (
                k,
                args.sample_rate
                    .unwrap_or_else(|| choose_rate(k, args.sample_keys)),
            )
        }
        Some(t) => {
            let (k, _) = super::trace_sample::count_keys(t)?;
            (
                k,
                args.sample_rate
                    .unwrap_or_else(|| choose_rate(k, args.sample_keys)),
            )
        }
    };
    // One cache for all of them: its keys tell seeds and rates apart.
    let draws = std::sync::Arc::new(crate::workload::ahead::DrawCache::default());
    let scaled = |seed: u64, rate: f64, tag: &str| -> Result<Scaled> {
        let mut sw = w.clone();
        sw.seed = seed;
        let offset = (mix(seed ^ 0x5A3D) >> 11) as f64 / (1u64 << 53) as f64;
        let (workload, source) = match &trace {
            None => (sample::miniature(&sw, rate, offset), Source::Patterns),
            Some(t) if rate >= 1.0 => (sw, Source::Trace(t.clone())),
            Some(t) => {
                let path = tmp.path().join(format!("{tag}-{seed}.trace"));
                let salt = super::trace_sample::choose_salt(t, rate, seed)?;
                let (input, _) = super::trace_sample::sample_trace(t, rate, salt, &path)?;
                (sw, Source::Trace(input))
            }
        };
        Ok(Scaled {
            workload,
            source,
            rate,
            fixed,
            draws: draws.clone(),
        })
    };
    let mut minis: Vec<Scaled> = seeds
        .iter()
        .map(|&s| scaled(s, rate, "mini"))
        .collect::<Result<_>>()?;

    // The pilot: no limit, to find the peak and check the targets can be met.
    let mut pilot = minis[0].run(policies[0], 0, &cat)?;
    // What competes for memory is the keys resident at the peak, which can
    // be far fewer than the keys declared (a lock is held for a moment, a
    // rate-limit counter lives one window), and for a volatile policy only
    // those with a TTL. The rate also keeps half of `--sample-keys` of
    // those: with fewer, Redis's 16-entry eviction pool is a sizeable share
    // of the keys a miniature evicts among, and it evicts closer to exact
    // LRU than the full server (README, "Mini-versus-full error").
    let mut pilot_cpu = pilot.cpu_s;
    let resident = pilot.keys_peak as u64;
    let volatile = pilot.volatile_peak as u64;
    let competing_of = |p: Policy| {
        if volatile > 0 && !p.all_keys() {
            resident.min(volatile)
        } else {
            resident
        }
    };
    // The rate that keeps half of `--sample-keys` of what `p` evicts among.
    let own_rate = |p: Policy| choose_rate(competing_of(p), args.sample_keys / 2);
    // The plan's rate serves the policy with the most keys to evict among;
    // a volatile one with fewer runs at its own (below).
    let resident_rate = policies.iter().map(|&p| own_rate(p)).fold(1.0, f64::min);
    if args.sample_rate.is_none() && resident > 0 && resident_rate > rate {
        rate = resident_rate;
        minis = seeds
            .iter()
            .map(|&s| scaled(s, rate, "mini"))
            .collect::<Result<_>>()?;
        pilot = minis[0].run(policies[0], 0, &cat)?;
        pilot_cpu += pilot.cpu_s;
    }
    if resident > 0 {
        keys = resident;
    }
    if trace.is_some() {
        let names: Vec<String> = pilot
            .obs
            .values
            .keys()
            .filter_map(|c| c.strip_suffix("_requests").map(str::to_string))
            .filter(|c| !c.is_empty() && c != "trace")
            .collect();
        cat = Catalog::of_trace(&names);
    }
    let objectives = match early {
        Some(o) => o,
        None => parse_all(&cat)?,
    };
    let unmet: Vec<String> = objectives
        .iter()
        .filter(|o| o.origin != Origin::Harm && !o.met(pilot.obs.get(&o.column), u64::MAX))
        .map(|o| {
            format!(
                "{} (with no memory limit it reaches {})",
                o.text,
                pilot
                    .obs
                    .get(&o.column)
                    .map_or("no value".into(), |v| format!("{v:.4}"))
            )
        })
        .collect();
    if !unmet.is_empty() {
        bail!("no maxmemory can meet: {}", unmet.join("; "));
    }
    let peak = pilot.obs.get("used_memory_peak").unwrap_or(0.0) as u64;
    let top = ((peak as f64) * 1.02) as u64;

    // The keys resident shrink with maxmemory: at the smallest sizes a
    // miniature at `rate` would evict among a few hundred keys, where a
    // small sample's popularity and Redis's 16-entry pool bias it (the
    // rate_limit curve read 5 points high there). A size whose estimated
    // resident keys (the peak's, in proportion to the memory above the
    // fixed part) keep fewer than `point_keys` (--sample-keys / 8, 512 by
    // default) at `rate` runs at the rate that keeps them, up to full size.
    //
    // A volatile policy evicts only among the keys with a TTL: where they
    // are fewer, its miniatures run at the rate that keeps half of
    // `--sample-keys` of them, while the others keep the plan's rate.
    let point_keys = args.sample_keys / 8;
    let policy_rate = |p: Policy| -> f64 {
        if args.sample_rate.is_some() || resident == 0 {
            return rate;
        }
        own_rate(p).max(rate)
    };
    let rate_at = |p: Policy, size: u64| -> f64 {
        let base = policy_rate(p);
        let competing = competing_of(p);
        if args.sample_rate.is_some() || peak <= fixed || competing == 0 {
            return base;
        }
        let share = (size.saturating_sub(fixed) as f64 / (peak - fixed) as f64).min(1.0);
        choose_rate((competing as f64 * share) as u64, point_keys).max(base)
    };
    let mut scales: Vec<(f64, Vec<Scaled>)> = vec![(rate, minis)];
    let add_rates = |scales: &mut Vec<(f64, Vec<Scaled>)>,
                     sizes: &mut dyn Iterator<Item = (Policy, u64)>|
     -> Result<()> {
        for (p, s) in sizes {
            let r = rate_at(p, s);
            if !scales.iter().any(|(x, _)| *x == r) {
                let ms = seeds
                    .iter()
                    .map(|&seed| scaled(seed, r, &format!("mini{r}")))
                    .collect::<Result<_>>()?;
                scales.push((r, ms));
            }
        }
        Ok(())
    };

    // The curves, then a finer grid where each answer lies.
    let sizes = search::grid(fixed, top, args.points);
    add_rates(
        &mut scales,
        &mut policies
            .iter()
            .flat_map(|&p| sizes.iter().map(move |&s| (p, s))),
    )?;
    let mut tasks = Vec::new();
    for i in 0..seeds.len() {
        for &p in &policies {
            for &s in &sizes {
                tasks.push((scale_at(&scales, rate_at(p, s), i), p, s));
            }
        }
    }
    let mut ran: Vec<Ran> = search::run_all(args.jobs, tasks, &cat)?;
    let obs: Vec<_> = ran.iter().map(|r| r.obs.clone()).collect();
    let refine = search::refinements(&obs, &objectives, 7);
    let refine: Vec<(Policy, u64, Vec<u64>)> = refine
        .into_iter()
        .map(|(p, seed, szs)| Ok((Policy::parse(&p).map_err(anyhow::Error::msg)?, seed, szs)))
        .collect::<Result<_>>()?;
    add_rates(
        &mut scales,
        &mut refine
            .iter()
            .flat_map(|(p, _, szs)| szs.iter().map(move |&s| (*p, s))),
    )?;
    let mut tasks = Vec::new();
    for &(pol, seed, ref szs) in &refine {
        let i = seeds
            .iter()
            .position(|&s| s == seed)
            .expect("a seed's miniature");
        for &s in szs {
            tasks.push((scale_at(&scales, rate_at(pol, s), i), pol, s));
        }
    }
    ran.extend(search::run_all(args.jobs, tasks, &cat)?);
    let mini_cpu: f64 = ran.iter().map(|r| r.cpu_s).sum::<f64>() + pilot_cpu;
    let obs: Vec<_> = ran.iter().map(|r| r.obs.clone()).collect();
    let verdicts = verdict::verdicts(&obs, &objectives, budget);

    // Full-size checks of each answer, in parallel over policies.
    let full = scaled(w.seed, args.verify_rate, "verify")?;
    let checks = if args.no_verify {
        vec![]
    } else {
        let todo: Vec<(Policy, u64)> = verdicts
            .iter()
            .filter_map(|v| Some((Policy::parse(&v.policy).ok()?, v.answer?)))
            .collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(args.jobs)
            .build()
            .context("cannot start the worker threads")?;
        use rayon::prelude::*;
        pool.install(|| {
            todo.into_par_iter()
                .map(|(p, a)| {
                    search::verify(&full, p, a, (top as f64 * 1.5) as u64, &objectives, &cat)
                })
                .collect::<Result<Vec<_>>>()
        })?
    };
    // The full-size curve at the coarse sizes, for the error table: every
    // seed's, to compare the seeds' mean curve as well as one seed's.
    let curve = if args.check_curve {
        let fulls: Vec<Scaled> = seeds
            .iter()
            .map(|&s| scaled(s, args.verify_rate, "curve"))
            .collect::<Result<_>>()?;
        let mut tasks = Vec::new();
        for f in &fulls {
            for &p in &policies {
                for &s in &sizes {
                    tasks.push((f, p, s));
                }
            }
        }
        search::run_all(args.jobs, tasks, &cat)?
    } else {
        vec![]
    };
    let plan = Plan {
        name: w.name.clone(),
        objectives,
        catalog: cat,
        rate,
        point_keys,
        policy_rates: policies
            .iter()
            .map(|&p| (p.name().to_string(), policy_rate(p)))
            .filter(|&(_, r)| r > rate)
            .collect(),
        keys,
        volatile_keys: volatile,
        verify_rate: args.verify_rate,
        seeds,
        fixed,
        peak,
        budget,
        minis: ran,
        pilot,
        verdicts,
        checks,
        curve,
        mini_cpu_s: mini_cpu,
        wall_s: started.elapsed().as_secs_f64(),
    };
    let text = output::words(&plan);
    say!("{}", text.trim_end())?;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let files = output::write(&plan, &out)?;
    say!()?;
    for f in files {
        say!("  wrote {}", f.display())?;
    }
    Ok(())
}
