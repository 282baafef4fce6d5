//! `ttlsim report`: redraw a sweep's charts and page from its CSV files.

use anyhow::Result;
use std::path::PathBuf;

use super::{generate, Options, Summary};

/// `ttlsim report` command-line arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// A sweep's output folder (holding runs.csv, timeseries.csv, latency.csv).
    pub dir: PathBuf,
    /// Hit-ratio target for the "cheapest memory" table.
    #[arg(long, default_value_t = 0.9, allow_negative_numbers = true)]
    pub target: f64,
    /// Policy for the TTL × memory heat map (default: the best on average).
    #[arg(long)]
    pub policy: Option<String>,
    /// run_ids to show in the memory-over-time chart (comma-separated or repeated).
    #[arg(long = "run", value_delimiter = ',')]
    pub runs: Vec<String>,
}

/// Run `ttlsim report`: write the charts and the page, print where they are.
pub fn report(args: &ReportArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&args.target) {
        anyhow::bail!(
            "--target must be a hit ratio between 0 and 1, not {}",
            args.target
        );
    }
    let opts = Options {
        target: args.target,
        policy: args.policy.clone(),
        runs: args.runs.clone(),
    };
    let s = generate(&args.dir, &opts)?;
    print_summary(&s)?;
    Ok(())
}

/// Print what a report wrote.
pub fn print_summary(s: &Summary) -> std::io::Result<()> {
    crate::say!("report: {} ({} charts)", s.index.display(), s.charts.len())?;
    for c in &s.charts {
        crate::say!("  {}", c.display())?;
    }
    for k in &s.skipped {
        crate::say!("  not drawn: {k}")?;
    }
    Ok(())
}
