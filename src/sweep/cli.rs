//! `ttlsim sweep` and `ttlsim merge` on the command line.

use super::exec::{self, Plan, Runner};
use super::grid::{Grid, Shard, DEFAULT_MAX_RUNS};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// `ttlsim sweep` arguments. Every list flag takes comma-separated values and
/// may be repeated; a flag replaces the workload's `[sweep]` list of the same
/// parameter.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepArgs {
    /// The workload file (TOML; format in docs/workloads.md); its optional
    /// `[sweep]` table lists values.
    #[arg(required_unless_present_any = ["synthetic", "trace"], conflicts_with = "trace")]
    pub workload: Option<PathBuf>,
    /// Sweep over a replayed trace instead of a workload (any format ttlsim
    /// reads; server settings, seed, duration and warm-up can be swept).
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// With --trace: a GET that misses does not write the record's value, and a MONITOR replay writes back no key the server kept
    #[arg(long, requires = "trace")]
    pub no_fill: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub trace_opts: crate::cli::TraceOpts,
    /// memory-model values: `redis` (Redis's used_memory) or `objects` (only
    /// the sizes the trace gives, as libCacheSim counts capacity).
    #[arg(long = "memory-model", allow_hyphen_values = true)]
    pub memory_model: Vec<String>,
    /// maxmemory values: bytes, sizes (100mb, 2gb) or percentages of the
    /// largest unbounded peak memory among the grid's workload variants (50%).
    #[arg(long, allow_hyphen_values = true)]
    pub maxmemory: Vec<String>,
    /// maxmemory-policy values, or groups: `all` (Redis's eight),
    /// `references` (every reference policy but belady, which needs a key
    /// trace: name it), `all+references`.
    #[arg(long = "maxmemory-policy", allow_hyphen_values = true)]
    pub maxmemory_policy: Vec<String>,
    /// maxmemory-samples values.
    #[arg(long = "maxmemory-samples", allow_hyphen_values = true)]
    pub maxmemory_samples: Vec<String>,
    /// maxmemory-eviction-tenacity values.
    #[arg(long = "maxmemory-eviction-tenacity", allow_hyphen_values = true)]
    pub maxmemory_eviction_tenacity: Vec<String>,
    /// hz values.
    #[arg(long, allow_hyphen_values = true)]
    pub hz: Vec<String>,
    /// active-expire-effort values.
    #[arg(long = "active-expire-effort", allow_hyphen_values = true)]
    pub active_expire_effort: Vec<String>,
    /// lfu-log-factor values.
    #[arg(long = "lfu-log-factor", allow_hyphen_values = true)]
    pub lfu_log_factor: Vec<String>,
    /// lfu-decay-time values.
    #[arg(long = "lfu-decay-time", allow_hyphen_values = true)]
    pub lfu_decay_time: Vec<String>,
    /// Seeds (replications): a list or a range such as 1..5.
    #[arg(long, allow_hyphen_values = true)]
    pub seed: Vec<String>,
    /// Simulated durations, warm-up included (e.g. 10m).
    #[arg(long, allow_hyphen_values = true)]
    pub duration: Vec<String>,
    /// Warm-ups: request counts or durations (e.g. 2m).
    #[arg(long, allow_hyphen_values = true)]
    pub warmup: Vec<String>,
    /// Time between samples in timeseries.csv (a sweep of many runs keeps
    /// this coarse so the file stays small).
    #[arg(long, default_value = "10s", allow_hyphen_values = true)]
    pub sample_interval: String,
    /// Any other parameter as NAME=V1,V2: a pattern field as
    /// `<namespace>.<field>` (cache.ttl=1m,5m) or a server setting.
    #[arg(long = "param", value_name = "NAME=VALUES")]
    pub params: Vec<String>,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', allow_hyphen_values = true, value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    /// Run only shard K of N (a deterministic slice); join shards with `ttlsim merge`.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Continue an interrupted sweep: run only the runs it did not finish.
    #[arg(long)]
    pub resume: bool,
    /// Simulate every run on its own: by default a run whose result another
    /// run proves (they differ only in the policy and never reach
    /// maxmemory) is written from it, and runs share their keyed patterns'
    /// request draws (README "Sweeps"). For timing each run in perf.csv.
    #[arg(long)]
    pub no_reuse: bool,
    /// Experiment name (default: the workload's name); output in `results/<name>/`.
    #[arg(long)]
    pub name: Option<String>,
    /// Output folder (default: `results/<name>/`, or `results/<name>/shard-K-of-N/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Refuse grids with more runs than this.
    #[arg(long, default_value_t = DEFAULT_MAX_RUNS)]
    pub max_runs: u64,
    /// The report's goals (`--target`, `--require`, `--allow`).
    #[command(flatten)]
    pub goals: crate::report::cli::GoalArgs,
    /// Do not draw the report at the end.
    #[arg(long)]
    pub no_report: bool,
    /// Run even when a run's work or memory estimate is above the budget,
    /// or a trace replay outgrows the machine's free memory (README "Limits").
    #[arg(long)]
    pub force: bool,
    /// Use made-up results instead of the engine (tests of the sweep machinery).
    #[arg(long, hide = true)]
    pub synthetic: bool,
    /// With --synthetic: wall time per run, ms.
    #[arg(long, hide = true, default_value_t = 0)]
    pub synthetic_delay_ms: u64,
}

/// `ttlsim merge` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct MergeArgs {
    /// The shards' output folders.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged output (default: the folder holding the
    /// shard-K-of-N folders).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The report's goals (`--target`, `--require`, `--allow`).
    #[command(flatten)]
    pub goals: crate::report::cli::GoalArgs,
    /// Do not draw the report.
    #[arg(long)]
    pub no_report: bool,
}

impl SweepArgs {
    /// The flags that change results but are not grid dimensions, as
    /// `name=value` for the fingerprint.
    fn result_flags(&self) -> String {
        let t = &self.trace_opts;
        format!(
            "sample-interval={} synthetic={} no-fill={} trace-format={} columns={} delimiter={} header={} time-unit={} strict={}",
            self.sample_interval,
            self.synthetic,
            self.no_fill,
            t.trace_format.as_deref().unwrap_or("-"),
            t.columns.as_deref().unwrap_or("-"),
            t.delimiter.as_deref().unwrap_or("-"),
            t.header,
            t.time_unit.as_deref().unwrap_or("-"),
            t.strict
        )
    }

    /// The command-line dimensions, `(name, values)`.
    fn dimensions(&self) -> Result<Vec<(String, Vec<String>)>> {
        let mut d: Vec<(String, Vec<String>)> = [
            ("maxmemory", &self.maxmemory),
            ("maxmemory-policy", &self.maxmemory_policy),
            ("maxmemory-samples", &self.maxmemory_samples),
            (
                "maxmemory-eviction-tenacity",
                &self.maxmemory_eviction_tenacity,
            ),
            ("hz", &self.hz),
            ("active-expire-effort", &self.active_expire_effort),
            ("lfu-log-factor", &self.lfu_log_factor),
            ("lfu-decay-time", &self.lfu_decay_time),
            ("memory-model", &self.memory_model),
            ("seed", &self.seed),
            ("duration", &self.duration),
            ("warmup", &self.warmup),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
        for p in &self.params {
            let (k, v) = p.split_once('=').with_context(|| {
                format!("--param `{p}`: expected NAME=V1,V2 such as cache.ttl=1m,5m")
            })?;
            d.push((k.trim().to_string(), vec![v.to_string()]));
        }
        Ok(d)
    }
}

/// Split a workload file into its `[sweep]` table and the text without it.
/// The table's lines are blanked rather than removed so that errors in the
/// rest still point at the right line.
pub fn split_sweep_table(src: &str, file: &str) -> Result<(Option<toml::Table>, String)> {
    let doc: toml::Table =
        toml::from_str(src).with_context(|| format!("{file}: not valid TOML"))?;
    let sweep = match doc.get("sweep") {
        None => None,
        Some(toml::Value::Table(t)) => Some(t.clone()),
        Some(_) => bail!("{file}: `sweep` must be a table ([sweep])"),
    };
    let mut out = String::with_capacity(src.len());
    let mut in_sweep = false;
    for line in src.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('[') {
            let name = t.trim_start_matches('[').trim_start();
            in_sweep = name.starts_with("sweep") && name[5..].trim_start().starts_with([']', '.']);
        }
        if in_sweep {
            out.push('\n');
        } else {
            out.push_str(line);
        }
    }
    Ok((sweep, out))
}

fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `--jobs`: a whole number in 1..=[`MAX_JOBS`](crate::limits::MAX_JOBS).
fn parse_jobs(s: &str) -> Result<usize, String> {
    let max = crate::limits::MAX_JOBS;
    s.trim()
        .parse()
        .ok()
        .and_then(|j| crate::limits::check_jobs(j).ok())
        .ok_or_else(|| format!("--jobs must be a whole number between 1 and {max}"))
}

/// Run `ttlsim sweep`.
pub fn sweep(args: &SweepArgs) -> Result<()> {
    args.goals.resolve()?;
    if args.no_fill && args.trace.is_none() {
        bail!("--no-fill applies to a trace replay: give --trace FILE");
    }
    let mut workload_text: Option<String> = None;
    let mut trace_id: Option<String> = None;
    let (file_sweep, mut runner, default_name): (Option<toml::Table>, Box<dyn Runner>, String) =
        if args.synthetic {
            (
                None,
                Box::new(super::synthetic::SyntheticRunner {
                    delay: std::time::Duration::from_millis(args.synthetic_delay_ms),
                }),
                "synthetic".into(),
            )
        } else if let Some(path) = &args.trace {
            // Fail now, not in every run, on a trace that cannot be opened;
            // a binary trace is decoded here once for every run.
            let mut input = args.trace_opts.input(path, !args.no_fill)?.share()?;
            if args.force {
                input.memory = crate::limits::MemoryLimit::Unlimited;
            }
            trace_id = Some(super::fingerprint::trace_identity(path)?);
            let name = path
                .file_name()
                .map_or("trace".into(), |n| n.to_string_lossy().into_owned());
            let name = name.split('.').next().unwrap_or("trace").to_string();
            let mut runner = super::workload::WorkloadRunner::for_trace(input, &name);
            runner.sample_interval = crate::limits::sample_interval(&args.sample_interval)?;
            (None, Box::new(runner) as Box<dyn Runner>, name)
        } else {
            let path = args
                .workload
                .as_ref()
                .context("a workload file is required")?;
            let src = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let file = path.display().to_string();
            let (table, rest) = split_sweep_table(&src, &file)?;
            workload_text = Some(src.clone());
            let (mut runner, w) = super::workload::WorkloadRunner::new(&rest, &file)?;
            // Goals that name a namespace or outcome the workload lacks are
            // refused now, not after the runs.
            args.goals.check_for(&w)?;
            let name = w.name;
            runner.sample_interval = crate::limits::sample_interval(&args.sample_interval)?;
            runner.force = args.force;
            if !args.no_reuse {
                runner.draws = crate::workload::ahead::Draws::Shared(Default::default());
            }
            (table, Box::new(runner) as Box<dyn Runner>, name)
        };
    let mut grid = Grid::build(file_sweep.as_ref(), &args.dimensions()?)?;
    let n = grid.check_size(args.max_runs)?;
    if grid.needs_pilot() {
        let models = grid
            .dims
            .iter()
            .find(|d| d.name == "memory-model")
            .map_or(1, |d| d.values.len());
        if models > 1 {
            bail!(
                "maxmemory percentages are of the unbounded peak, which the two memory models count differently: sweep each --memory-model on its own, or give maxmemory in bytes"
            );
        }
        // One pilot per workload variant (pattern parameters, duration,
        // warm-up; not server settings or seeds): the percentages are of the
        // largest unbounded peak among them, so they mean the same whatever
        // order the lists are given in, and 100% never evicts.
        let mut seen = std::collections::BTreeSet::new();
        let mut peak = 0;
        for i in 0..n {
            let p = grid.point(i);
            let variant: Vec<(String, String)> = p
                .iter()
                .filter(|(k, _)| *k != "seed" && !crate::store::config::NAMES.contains(k))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            if !seen.insert(variant) {
                continue;
            }
            runner.set_pilot_point(
                p.iter()
                    .map(|(k, v)| (k.to_string(), (*v).clone()))
                    .collect(),
            );
            peak = peak.max(runner.unbounded_peak()?);
        }
        crate::say!(
            "pilot: {} run(s) without maxmemory; largest unbounded peak used_memory = {peak} bytes ({:.1} MiB); percentages are of this",
            seen.len(),
            peak as f64 / 1048576.0
        )?;
        grid.resolve_percentages(peak);
    }
    // Every point is checked before anything runs.
    let grid_csv = exec::grid_csv(&grid, runner.as_ref())?;
    let given = args.name.clone().unwrap_or(default_name);
    let name = crate::safe_output::path_component(&given);
    if name != given {
        crate::say!("note: experiment name `{given}` is used as `{name}` (one safe folder name)")?;
    }
    let out = match (&args.out, args.shard) {
        (Some(o), _) => o.clone(),
        (None, None) => Path::new("results").join(&name),
        (None, Some(s)) => Path::new("results")
            .join(&name)
            .join(format!("shard-{}-of-{}", s.k, s.n)),
    };
    let fingerprint = super::fingerprint::Fingerprint::new(
        workload_text.as_deref(),
        trace_id,
        &args.result_flags(),
        &grid_csv,
        &exec::shard_label(args.shard),
    );
    let plan = Plan {
        fingerprint: Some(fingerprint),
        out: out.clone(),
        grid,
        grid_csv,
        shard: args.shard,
        jobs: match args.jobs {
            Some(j) => j,
            None => default_jobs().min(crate::limits::MAX_JOBS),
        },
        resume: args.resume,
        progress: true,
        reuse: !args.no_reuse,
    };
    let o = exec::execute(&plan, runner.as_ref())?;
    if o.ran > 0 {
        crate::say!(
            "ran {} runs in {:.1} s with {} jobs: {:.2}M simulated ops, {:.2}M simulated ops/s",
            o.ran,
            o.wall_s,
            plan.jobs,
            o.sim_ops as f64 / 1e6,
            o.sim_ops as f64 / o.wall_s.max(1e-9) / 1e6
        )?;
    }
    if o.reused > 0 {
        crate::say!(
            "{} of them written from another run rather than simulated: they differ from it only in \
             the eviction policy or its settings, and it never reached maxmemory (perf.csv's same_run_as)",
            o.reused
        )?;
    }
    crate::say!("results: {}", out.display())?;
    if args.shard.is_some() {
        crate::say!(
            "this is one shard: join all shards with `ttlsim merge {}/shard-*`",
            out.parent().unwrap_or(Path::new(".")).display()
        )?;
    } else if !args.no_report {
        args.goals.report(&out, None, Vec::new())?;
    }
    Ok(())
}

/// Run `ttlsim merge`.
pub fn merge(args: &MergeArgs) -> Result<()> {
    args.goals.resolve()?;
    let out = match &args.out {
        Some(o) => o.clone(),
        None => {
            let first = &args.dirs[0];
            let is_shard = first
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("shard-"));
            match first.parent() {
                Some(p) if is_shard => p.to_path_buf(),
                _ => bail!(
                    "give --out DIR: {} is not a shard-K-of-N folder",
                    first.display()
                ),
            }
        }
    };
    let n = exec::merge(&args.dirs, &out)?;
    crate::say!(
        "merged {} shards, {n} runs: {}",
        args.dirs.len(),
        out.display()
    )?;
    if !args.no_report {
        args.goals.report(&out, None, Vec::new())?;
    }
    Ok(())
}
