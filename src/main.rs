//! The `ttlsim` command line: parses the arguments and dispatches to each
//! subcommand's handler; no logic of its own.

use clap::{Parser, Subcommand};
use ttlsim::cli::run::{RecordArgs, RunArgs};
use ttlsim::cli::shell::ShellArgs;

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
    Shell(ShellArgs),
    /// Draw every chart and index.html from a sweep's CSV files, without simulating.
    Report(ttlsim::report::cli::ReportArgs),
    /// Run a grid of configurations in parallel; write CSV and the report.
    Sweep(Box<ttlsim::sweep::cli::SweepArgs>),
    /// Join the outputs of `sweep --shard K/N` runs into one sweep's output.
    Merge(ttlsim::sweep::cli::MergeArgs),
    /// Run a workload (or replay a trace) on the simulated server and report
    /// hit ratios, memory, expiry lag, evictions and each pattern's outcomes.
    Run(Box<RunArgs>),
    /// Run a workload and write every request its clients send as a trace
    /// that `ttlsim run --trace` replays.
    Record(Box<RecordArgs>),
    /// Look at a trace (stats), convert it, or generate a synthetic one.
    Trace(ttlsim::cli::trace::TraceArgs),
    /// The smallest maxmemory per policy that meets your objectives, the
    /// policy to use and the memory to provision (miniature simulations).
    Plan(Box<ttlsim::plan::cli::PlanArgs>),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Shell(a) => ttlsim::cli::shell::shell(a),
        Command::Report(a) => ttlsim::report::cli::report(&a),
        Command::Sweep(a) => ttlsim::sweep::cli::sweep(&a),
        Command::Merge(a) => ttlsim::sweep::cli::merge(&a),
        Command::Run(a) => ttlsim::cli::run::run(*a),
        Command::Record(a) => ttlsim::cli::run::record(*a),
        Command::Trace(a) => ttlsim::cli::trace::trace(a),
        Command::Plan(a) => ttlsim::plan::cli::plan(&a),
    };
    if let Err(e) = result {
        // A closed stdout (`ttlsim shell | head`) is not a failure.
        if ttlsim::units::is_broken_pipe(&e) {
            return;
        }
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
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
