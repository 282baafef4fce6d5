//! `ttlsim run` and `ttlsim record`: one run of a workload (or a trace
//! replay), its summary and its CSV files; or a workload's requests
//! written as a trace.

use anyhow::{bail, Result};
use clap::Args;
use std::path::{Path, PathBuf};

use crate::metrics::{output, summary};
use crate::say;
use crate::sim::{self, RunSpec, Source};
use crate::units::Dur;
use crate::workload::{load_workload, Warmup, Workload};

/// `ttlsim run` arguments.
#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub source: super::SourceArgs,
    /// Write runs.csv, timeseries.csv, expiry_lag.csv and perf.csv here
    /// (default: `results/<name>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub opts: RunOpts,
}

/// `ttlsim record` arguments.
#[derive(Args)]
pub struct RecordArgs {
    /// The workload file (TOML); its format is in docs/workloads.md.
    pub workload: PathBuf,
    /// The trace file to write.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub opts: RunOpts,
}

/// Settings shared by `run` and `record`; each overrides the workload file.
#[derive(Args)]
pub struct RunOpts {
    /// maxmemory (bytes, or 64mb, 1gb, ...; 0 = no limit).
    #[arg(long, allow_hyphen_values = true)]
    maxmemory: Option<String>,
    /// maxmemory-policy (noeviction, allkeys-lru, volatile-lru, ...).
    #[arg(long, allow_hyphen_values = true)]
    maxmemory_policy: Option<String>,
    /// maxmemory-samples.
    #[arg(long, allow_hyphen_values = true)]
    maxmemory_samples: Option<String>,
    /// maxmemory-eviction-tenacity (0..100).
    #[arg(long, allow_hyphen_values = true)]
    maxmemory_eviction_tenacity: Option<String>,
    /// hz (server cron frequency, 1..500).
    #[arg(long, allow_hyphen_values = true)]
    hz: Option<String>,
    /// active-expire-effort (1..10).
    #[arg(long, allow_hyphen_values = true)]
    active_expire_effort: Option<String>,
    /// lfu-log-factor.
    #[arg(long, allow_hyphen_values = true)]
    lfu_log_factor: Option<String>,
    /// lfu-decay-time (minutes).
    #[arg(long, allow_hyphen_values = true)]
    lfu_decay_time: Option<String>,
    /// Memory accounting: `redis` (Redis's used_memory, the default) or
    /// `objects` (only key and value sizes, as libCacheSim counts capacity).
    #[arg(long, allow_hyphen_values = true)]
    memory_model: Option<String>,
    /// Run seed (every random stream derives from it).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Warm-up excluded from metrics: a request count (10000) or a duration (30s).
    #[arg(long, allow_hyphen_values = true)]
    warmup: Option<String>,
    /// Simulated duration, warm-up included (30s, 10m, 1h; default: the
    /// workload's, or until the last request of a trace).
    #[arg(long, allow_hyphen_values = true)]
    duration: Option<String>,
    /// Time between metric samples.
    #[arg(long, default_value = "1s", allow_hyphen_values = true)]
    sample_interval: String,
    /// Run even when the work or memory estimate is above the budget, or a
    /// trace replay outgrows the machine's free memory (README "Limits").
    #[arg(long)]
    force: bool,
}

/// `--seed`: a whole number from 0 to 2^64-1, said so in the message.
fn parse_seed(s: &str) -> Result<u64, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("the seed must be a whole number from 0 to {}", u64::MAX))
}

impl RunOpts {
    /// Applies the flags to a workload; returns the sample interval.
    pub fn apply(&self, w: &mut Workload) -> Result<Dur> {
        let server = [
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
        ];
        for (name, value) in server {
            if let Some(v) = value {
                w.set_server(name, v).map_err(anyhow::Error::msg)?;
            }
        }
        if let Some(s) = self.seed {
            w.seed = s;
        }
        if let Some(d) = &self.duration {
            let d = Dur::parse(d).map_err(|e| anyhow::anyhow!("--duration: {e}"))?;
            if d.0 < 1000 {
                bail!("--duration must be at least 1ms");
            }
            if d > crate::limits::MAX_DURATION {
                bail!(
                    "--duration must be at most {} (README \"Limits\")",
                    crate::limits::MAX_DURATION
                );
            }
            w.duration = Some(d);
        }
        if let Some(v) = &self.warmup {
            w.warmup = Warmup::parse(v).map_err(|e| anyhow::anyhow!("--warmup: {e}"))?;
        }
        w.check_warmup().map_err(anyhow::Error::msg)?;
        let interval = crate::limits::sample_interval(&self.sample_interval)?;
        if !w.patterns.is_empty() {
            crate::limits::check_budget(w, self.force)?;
        }
        Ok(interval)
    }
}

/// Runs `ttlsim run`: simulate, print the summary, write the CSV files.
pub fn run(args: RunArgs) -> Result<()> {
    let (mut w, mut source) = args.source.load()?;
    let sample_interval = args.opts.apply(&mut w)?;
    if let Source::Trace(t) = &mut source {
        if args.opts.force {
            t.memory = crate::limits::MemoryLimit::Unlimited;
        }
    }
    let out = args
        .out
        .unwrap_or_else(|| Path::new("results").join(crate::safe_output::path_component(&w.name)));
    // Before simulating: a run must not be thrown away at the end.
    crate::safe_output::check_out_dir(&out)?;
    let spec = RunSpec {
        run_id: "0".into(),
        workload: w,
        source,
        sample_interval,
        draws: Default::default(),
    };
    crate::progress::SINGLE_RUN.store(
        !std::io::IsTerminal::is_terminal(&std::io::stdout()),
        std::sync::atomic::Ordering::Relaxed,
    );
    let result = sim::run(&spec)?;
    let paths = output::write_results(&out, std::slice::from_ref(&result))?;
    say!("{}", summary::summary(&result).trim_end_matches('\n'))?;
    say!()?;
    for p in paths {
        say!("  wrote {}", p.display())?;
    }
    Ok(())
}

/// Runs `ttlsim record`: simulate while writing the clients' requests as a
/// trace, then say how to replay it.
pub fn record(args: RecordArgs) -> Result<()> {
    let mut w = load_workload(&args.workload)?;
    let sample_interval = args.opts.apply(&mut w)?;
    let spec = RunSpec {
        run_id: "0".into(),
        workload: w,
        source: Source::Patterns,
        sample_interval,
        draws: Default::default(),
    };
    let (result, rows) = sim::record_to_path(&spec, &args.out)?;
    let w = &spec.workload;
    say!(
        "wrote {rows} client requests to {} ({} commands with the cache fills, which a replay redoes from the GET rows)",
        args.out.display(),
        result.sim_ops,
    )?;
    say!(
        "replay with: ttlsim run --trace {} --duration {} --seed {} --warmup {} {}",
        args.out.display(),
        w.duration.map_or("0s".into(), |d| d.to_string()),
        w.seed,
        match w.warmup {
            Warmup::Time(d) => d.to_string(),
            other => other.to_string(),
        },
        w.server_flags()
    )?;
    Ok(())
}
