//! The `ttlsim` command line: subcommands wire the library's modules together.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::io::BufReader;
use std::path::PathBuf;
use ttlsim::shell::Shell;
use ttlsim::store::Config;

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
}

fn main() {
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
