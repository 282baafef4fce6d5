//! `ttlsim report DIR`: every chart and an `index.html`, from a sweep's CSV
//! files alone (`runs.csv`, `timeseries.csv`, `expiry_lag.csv`), without
//! simulating again.
//!
//! Columns are discovered rather than hard-coded: the swept parameters are the
//! parameter columns whose values vary across runs, namespaces come from
//! their `<ns>_hit_ratio` columns and a namespace's pattern outcomes are its
//! other `<ns>_*` columns. Replications (the `seed` column) are folded into a
//! mean line with a min–max band.

mod analysis;
pub mod charts;
pub mod cli;
pub mod data;
mod figures;
mod html;
mod labels;
pub mod validate;
pub mod verdicts;

use anyhow::{Context, Result};
use data::RunsTable;
use std::path::{Path, PathBuf};

pub use labels::{axis_label, short_name, show_value};
// Also what `html.rs` reaches as `super::…`.
use analysis::{policy_ranking, Ctx};
use labels::{policy_rank, MEM, POLICY};

/// What the report should emphasise.
#[derive(Debug, Clone)]
pub struct Options {
    /// Hit-ratio target for the "cheapest memory" table.
    pub target: f64,
    /// Policy for the TTL × memory heat map (default: the best on average).
    pub policy: Option<String>,
    /// `run_id`s for the memory-over-time chart (default: chosen to contrast).
    pub runs: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            target: 0.9,
            policy: None,
            runs: Vec::new(),
        }
    }
}

/// What a report wrote.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The PNG files, in the order the page shows them.
    pub charts: Vec<PathBuf>,
    /// Charts not drawn, each with the reason.
    pub skipped: Vec<String>,
    /// The report page.
    pub index: PathBuf,
}

/// A chart on the page.
pub(crate) struct Chart {
    pub file: String,
    pub caption: String,
}

/// What the chart functions drew, in order, and what they did not, with why.
pub(crate) struct Drawn {
    pub charts: Vec<Chart>,
    pub skipped: Vec<String>,
}

/// A chart function: draws its PNG into the report folder and records it
/// (or the reason it was not drawn) in [`Drawn`]. `name` starts the title.
/// An error fails the whole report.
type Draw = fn(cx: &Ctx, dir: &Path, opts: &Options, name: &str, out: &mut Drawn) -> Result<()>;

/// Every chart, in the order the page shows them. A new chart is one
/// function in `figures.rs` and one line here.
const CHARTS: &[Draw] = &[
    figures::hit_ratio_vs_ttl,
    figures::hit_ratio_vs_memory,
    figures::memory_over_time,
    figures::expiry_lag,
    figures::outcomes,
    figures::ttl_memory_heatmap,
];

/// Refuses a `--policy` or `--run` that is not in the sweep, listing what is.
fn check_options(cx: &Ctx, opts: &Options) -> Result<()> {
    if let Some(p) = &opts.policy {
        let have = cx.t.distinct(labels::POLICY);
        if !have.contains(p) {
            anyhow::bail!(
                "--policy {p}: this sweep has no run with that policy; it has {}",
                have.join(", ")
            );
        }
    }
    let ids = cx.t.distinct("run_id");
    let missing: Vec<&str> = opts
        .runs
        .iter()
        .filter(|r| !ids.contains(r))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        let mut sorted: Vec<u64> = ids.iter().filter_map(|i| i.parse().ok()).collect();
        sorted.sort_unstable();
        let range = match (sorted.first(), sorted.last()) {
            (Some(a), Some(b)) if sorted.len() as u64 == b - a + 1 => format!("{a} to {b}"),
            _ => ids.join(", "),
        };
        anyhow::bail!(
            "--run {}: not in this sweep; its run_ids are {range}",
            missing.join(",")
        );
    }
    Ok(())
}

/// Regenerate every chart and `index.html` in `dir` from its CSV files.
pub fn generate(dir: &Path, opts: &Options) -> Result<Summary> {
    generate_with(dir, opts, &verdicts::Goals::default())
}

/// [`generate`], judging the verdicts by `goals` (`ttlsim plan`'s
/// `--target/--require/--allow`).
pub fn generate_with(dir: &Path, opts: &Options, goals: &verdicts::Goals) -> Result<Summary> {
    let table = RunsTable::read(&dir.join("runs.csv"))?;
    verdicts::check(&table.columns, goals)?;
    let cx = Ctx::new(table);
    check_options(&cx, opts)?;
    let name = labels::title_prefix(&cx.workload);
    let mut out = Drawn {
        charts: Vec::new(),
        skipped: Vec::new(),
    };
    for draw in CHARTS {
        draw(&cx, dir, opts, &name, &mut out)?;
    }
    let Drawn { charts, skipped } = out;

    let index = dir.join("index.html");
    let page = html::page(&cx, opts, goals, &charts, &skipped);
    crate::units::atomic_write_bytes(&index, page.as_bytes())
        .with_context(|| format!("cannot write {}", index.display()))?;
    Ok(Summary {
        charts: charts.iter().map(|c| dir.join(&c.file)).collect(),
        skipped,
        index,
    })
}
