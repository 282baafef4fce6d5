//! `ttlsim report`: redraw a sweep's charts and page from its CSV files.

use anyhow::Result;
use std::path::PathBuf;

use super::verdicts::Goals;
use super::{Options, Summary};

/// The report's goals as `report`, `sweep` and `merge` take them: a hit
/// ratio for the "cheapest memory" table, or objectives and constraints in
/// `ttlsim plan`'s syntax for the verdicts.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GoalArgs {
    /// A hit ratio (0.9: the "cheapest memory" table and a target per
    /// namespace in the verdicts), or objectives as `ttlsim plan` takes
    /// them (`cache.hit_ratio>=0.9`, repeatable).
    #[arg(long, default_value = "0.9", allow_hyphen_values = true)]
    pub target: Vec<String>,
    /// A constraint on the verdicts, as `ttlsim plan --require` takes it
    /// (`session.logged_out_early==0`). Repeatable.
    #[arg(long)]
    pub require: Vec<String>,
    /// A harm constraint the verdicts relax, as `ttlsim plan --allow`.
    /// Repeatable.
    #[arg(long)]
    pub allow: Vec<String>,
}

impl GoalArgs {
    /// The hit-ratio target (0.9 unless one number is given) and the
    /// objectives, refusing a target that is neither.
    pub fn resolve(&self) -> Result<(f64, Goals)> {
        let (numbers, objectives): (Vec<&String>, Vec<&String>) = self
            .target
            .iter()
            .partition(|t| t.trim().parse::<f64>().is_ok());
        let target = match numbers.as_slice() {
            [] => 0.9,
            [n] => n.trim().parse::<f64>().unwrap_or(0.9),
            _ => anyhow::bail!(
                "--target: give one hit ratio, or objectives such as cache.hit_ratio>=0.9"
            ),
        };
        if !(0.0..=1.0).contains(&target) {
            anyhow::bail!("--target must be a hit ratio between 0 and 1, not {target}");
        }
        if let Some(t) = objectives.iter().find(|t| !t.contains(['<', '>', '='])) {
            anyhow::bail!(
                "--target `{t}`: expected a hit ratio such as 0.9, or an objective such as `cache.hit_ratio>=0.9`"
            );
        }
        let goals = Goals {
            targets: objectives.into_iter().cloned().collect(),
            require: self.require.clone(),
            allow: self.allow.clone(),
        };
        Ok((target, goals))
    }

    /// Checks the objectives against the namespaces and patterns a workload
    /// will write, before a sweep runs (a trace's are known only after).
    pub fn check_for(&self, w: &crate::workload::Workload) -> Result<()> {
        let (_, goals) = self.resolve()?;
        if goals.targets.is_empty() && goals.require.is_empty() && goals.allow.is_empty() {
            return Ok(());
        }
        let targets = if goals.targets.is_empty() {
            vec!["hit_ratio>=0".to_string()]
        } else {
            goals.targets
        };
        crate::plan::objective::Catalog::of_workload(w).objectives(
            &targets,
            &goals.require,
            &goals.allow,
        )?;
        Ok(())
    }

    /// Draws the report of the sweep in `dir` with these goals (and
    /// `report`'s heat-map policy and runs, if given), and says what it wrote.
    pub fn report(
        &self,
        dir: &std::path::Path,
        policy: Option<String>,
        runs: Vec<String>,
    ) -> Result<()> {
        let (target, goals) = self.resolve()?;
        let opts = Options {
            target,
            policy,
            runs,
        };
        let s = crate::report::generate_with(dir, &opts, &goals)?;
        print_summary(&s)?;
        Ok(())
    }
}

/// `ttlsim report` command-line arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// A sweep's output folder (holding runs.csv, timeseries.csv, expiry_lag.csv).
    pub dir: PathBuf,
    /// The goals.
    #[command(flatten)]
    pub goals: GoalArgs,
    /// Policy for the TTL × memory heat map (default: the best on average).
    #[arg(long)]
    pub policy: Option<String>,
    /// run_ids to show in the memory-over-time chart (comma-separated or repeated).
    #[arg(long = "run", value_delimiter = ',')]
    pub runs: Vec<String>,
}

/// Run `ttlsim report`: write the charts and the page, print where they are.
pub fn report(args: &ReportArgs) -> Result<()> {
    args.goals
        .report(&args.dir, args.policy.clone(), args.runs.clone())
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
