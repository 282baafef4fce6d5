//! The `ttlsim` command line: subcommands wire the library's modules together.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use ttlsim::metrics::{output, summary};
use ttlsim::shell::Shell;
use ttlsim::sim::{self, RunSpec, Source};
use ttlsim::store::Config;
use ttlsim::units::Dur;
use ttlsim::workload::{load_workload, Warmup, Workload};

#[derive(Parser)]
#[command(
    name = "ttlsim",
    version,
    about = "Simulate a Redis 7 keyspace: TTLs, expiry, maxmemory and eviction policies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Redis commands (redis-cli syntax, one per line) on the model and
    /// print the replies as `redis-cli --no-raw` does.
    Shell {
        /// Read commands from this file instead of stdin.
        file: Option<PathBuf>,
        /// Start the simulated clock at this Unix time in ms (default: now).
        #[arg(long)]
        start_ms: Option<u64>,
        /// Seed for the hash table and sampling.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Draw every chart and index.html from a sweep's CSV files, without simulating.
    Report(ttlsim::report::ReportArgs),
    /// Run a grid of configurations in parallel; write CSV and the report.
    Sweep(Box<ttlsim::sweep::cli::SweepArgs>),
    /// Join the outputs of `sweep --shard K/N` runs into one sweep's output.
    Merge(ttlsim::sweep::cli::MergeArgs),
    /// Run a workload (or replay a trace) on the simulated server and report
    /// hit ratios, memory, expiry lag, evictions and each pattern's outcomes.
    Run {
        /// The workload file (TOML), unless --trace is given.
        #[arg(required_unless_present = "trace", conflicts_with = "trace")]
        workload: Option<PathBuf>,
        /// Replay this trace (time_ms,op,key,size,ttl_ms) instead of a workload.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// With --trace: a GET that misses does not write the row's value.
        #[arg(long, requires = "trace")]
        no_fill: bool,
        /// Write runs.csv, timeseries.csv, latency.csv and perf.csv here
        /// (default: results/<name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        opts: RunOpts,
    },
    /// Run a workload and write every request its clients send as a trace
    /// that `ttlsim run --trace` replays.
    Record {
        /// The workload file (TOML).
        workload: PathBuf,
        /// The trace file to write.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        opts: RunOpts,
    },
}

/// Settings shared by `run` and `record`; each overrides the workload file.
#[derive(Args)]
struct RunOpts {
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
    /// Run seed (every random stream derives from it).
    #[arg(long, allow_hyphen_values = true)]
    seed: Option<u64>,
    /// Warm-up excluded from metrics: a request count (10000) or a duration (30s).
    #[arg(long, allow_hyphen_values = true)]
    warmup: Option<String>,
    /// Simulated duration, warm-up included (30s, 10m, 1h; default: the
    /// workload's, or until the last request of a trace).
    #[arg(long, allow_hyphen_values = true)]
    duration: Option<String>,
    /// Time between metric samples.
    #[arg(long, default_value = "1s")]
    sample_interval: String,
}

impl RunOpts {
    /// Applies the flags to a workload; returns the sample interval.
    fn apply(&self, w: &mut Workload) -> Result<Dur> {
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
            w.duration = Some(d);
        }
        if let Some(v) = &self.warmup {
            w.warmup = Warmup::parse(v).map_err(|e| anyhow::anyhow!("--warmup: {e}"))?;
        }
        if let (Warmup::Time(wu), Some(d)) = (w.warmup, w.duration) {
            if wu >= d {
                bail!("the warm-up ({wu}) must be shorter than the duration ({d})");
            }
        }
        let interval = Dur::parse(&self.sample_interval)
            .map_err(|e| anyhow::anyhow!("--sample-interval: {e}"))?;
        if interval.0 < 1000 {
            bail!("--sample-interval must be at least 1ms");
        }
        Ok(interval)
    }
}

fn file_stem(p: &Path) -> String {
    p.file_stem()
        .map_or("trace".into(), |s| s.to_string_lossy().into_owned())
}

/// `ttlsim run ... | head` closes the pipe early: printing then fails, and
/// std's print macros panic. Exit quietly instead, as Unix tools do; every
/// output file is complete by the time anything is printed about it.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn main() {
    quiet_on_broken_pipe();
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Shell {
            file,
            start_ms,
            seed,
        } => {
            let start = match start_ms {
                Some(ms) => ms,
                None => std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .context("system clock before 1970")?
                    .as_millis() as u64,
            };
            let mut shell = Shell::new(Config::default(), seed, start);
            let stdout = std::io::stdout().lock();
            match file {
                Some(path) => {
                    let f = std::fs::File::open(&path)
                        .with_context(|| format!("cannot open {}", path.display()))?;
                    shell.run(BufReader::new(f), stdout)?;
                }
                None => shell.run(std::io::stdin().lock(), stdout)?,
            }
        }
        Command::Report(args) => ttlsim::report::cli(&args)?,
        Command::Sweep(args) => ttlsim::sweep::cli::sweep(&args)?,
        Command::Merge(args) => ttlsim::sweep::cli::merge(&args)?,
        Command::Run {
            workload,
            trace,
            no_fill,
            out,
            opts,
        } => {
            let (mut w, source) = match (&workload, &trace) {
                (Some(path), _) => (load_workload(path)?, Source::Patterns),
                (None, Some(path)) => (
                    Workload::for_trace(&file_stem(path)),
                    Source::Trace {
                        path: path.clone(),
                        fill: !no_fill,
                    },
                ),
                (None, None) => bail!("give a workload file or --trace FILE"),
            };
            let sample_interval = opts.apply(&mut w)?;
            let out = out.unwrap_or_else(|| Path::new("results").join(&w.name));
            let spec = RunSpec {
                run_id: "0".into(),
                workload: w,
                source,
                sample_interval,
            };
            let result = sim::run(&spec)?;
            print!("{}", summary::summary(&result));
            let paths = output::write_results(&out, std::slice::from_ref(&result))?;
            println!();
            for p in paths {
                println!("  wrote {}", p.display());
            }
        }
        Command::Record {
            workload,
            out,
            opts,
        } => {
            let mut w = load_workload(&workload)?;
            let sample_interval = opts.apply(&mut w)?;
            let spec = RunSpec {
                run_id: "0".into(),
                workload: w,
                source: Source::Patterns,
                sample_interval,
            };
            let (result, rows) = sim::record_to_path(&spec, &out)?;
            let w = &spec.workload;
            println!(
                "wrote {rows} requests ({} commands) to {}",
                result.sim_ops,
                out.display()
            );
            println!(
                "replay with: ttlsim run --trace {} --duration {} --seed {} --warmup {} {}",
                out.display(),
                w.duration.map_or("0s".into(), |d| d.to_string()),
                w.seed,
                match w.warmup {
                    Warmup::Time(d) => d.to_string(),
                    other => other.to_string(),
                },
                w.server_flags()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
