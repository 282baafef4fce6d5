//! CSV writers for [`RunResult`]s: `runs.csv`, `timeseries.csv`,
//! `expiry_lag.csv` and `perf.csv`.
//!
//! Rows are appended to any `io::Write`, so a sweep can stream many runs into
//! one file; [`write_results`] writes a whole directory, each file through
//! a [`FileGroup`](crate::safe_output::FileGroup) (temporary files in the
//! same directory, renamed into place together once all are written), so an
//! interrupted run never leaves a half-written CSV nor some files without
//! the others.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::result::RunResult;
use crate::units::{csv_line, csv_writer, fmt_f64};

/// The `runs.csv` header of a result.
pub fn runs_header(w: &mut impl Write, r: &RunResult) -> std::io::Result<()> {
    w.write_all(csv_line(r.columns.iter().map(|(c, _)| c)).as_bytes())
}

/// One `runs.csv` row. The caller makes sure all rows share the header.
pub fn runs_row(w: &mut impl Write, r: &RunResult) -> std::io::Result<()> {
    w.write_all(csv_line(r.columns.iter().map(|(_, v)| v)).as_bytes())
}

/// The `timeseries.csv` header.
pub const TIMESERIES_HEADER: &str = "run_id,time_ms,metric,namespace,value";
/// The `expiry_lag.csv` header.
pub const LATENCY_HEADER: &str = "run_id,kind,lag_ms_low,lag_ms_high,count";
/// The `perf.csv` header.
/// `same_run_as` names the run a sweep wrote this one from instead of
/// simulating it (empty when it was simulated): see
/// [`crate::sweep::exec::Runner::reuse`].
pub const PERF_HEADER: &str = "run_id,wall_ms,sim_ops,sim_ops_per_sec,same_run_as";

/// A result's `timeseries.csv` rows (long format, by time then series).
pub fn timeseries_rows(w: &mut impl Write, r: &RunResult) -> std::io::Result<()> {
    let ts = &r.timeseries;
    let mut csv = csv_writer(w);
    for (t, time) in ts.times.iter().enumerate() {
        let time = time.to_string();
        for (i, (metric, ns)) in ts.names.iter().enumerate() {
            let v = fmt_f64(ts.cols[i][t]);
            csv.write_record([r.run_id.as_str(), &time, metric, ns, &v])?;
        }
    }
    csv.flush()
}

/// A result's `expiry_lag.csv` rows.
pub fn latency_rows(w: &mut impl Write, r: &RunResult) -> std::io::Result<()> {
    let mut csv = csv_writer(w);
    for b in &r.latency {
        csv.write_record([
            r.run_id.as_str(),
            b.kind,
            &fmt_f64(b.lag_ms_low),
            &fmt_f64(b.lag_ms_high),
            &b.count.to_string(),
        ])?;
    }
    csv.flush()
}

/// A result's `perf.csv` row (wall-clock figures: not reproducible).
pub fn perf_row(w: &mut impl Write, r: &RunResult) -> std::io::Result<()> {
    w.write_all(
        csv_line([
            r.run_id.clone(),
            fmt_f64((r.wall_ms * 1000.0).round() / 1000.0),
            r.sim_ops.to_string(),
            fmt_f64(r.sim_ops_per_sec().round()),
            String::new(),
        ])
        .as_bytes(),
    )
}

/// Writes `runs.csv`, `timeseries.csv`, `expiry_lag.csv` and `perf.csv` for
/// `results` into `dir` (created if needed). Returns the paths written.
pub fn write_results(dir: &Path, results: &[RunResult]) -> Result<Vec<PathBuf>> {
    let Some(first) = results.first() else {
        bail!("no results to write");
    };
    for r in results {
        let same = r.columns.len() == first.columns.len()
            && r.columns
                .iter()
                .zip(&first.columns)
                .all(|(a, b)| a.0 == b.0);
        if !same {
            bail!(
                "run {} has different columns than run {}",
                r.run_id,
                first.run_id
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    crate::units::remove_abandoned_temporaries(dir);
    // All four files or none (a full disk must not leave runs.csv alone).
    let mut group = crate::safe_output::FileGroup::new();
    let runs = dir.join("runs.csv");
    group.add(&runs, |w| {
        runs_header(w, first)?;
        results.iter().try_for_each(|r| runs_row(w, r))
    })?;
    let ts = dir.join("timeseries.csv");
    group.add(&ts, |w| {
        writeln!(w, "{TIMESERIES_HEADER}")?;
        results.iter().try_for_each(|r| timeseries_rows(w, r))
    })?;
    let lat = dir.join("expiry_lag.csv");
    group.add(&lat, |w| {
        writeln!(w, "{LATENCY_HEADER}")?;
        results.iter().try_for_each(|r| latency_rows(w, r))
    })?;
    let perf = dir.join("perf.csv");
    group.add(&perf, |w| {
        writeln!(w, "{PERF_HEADER}")?;
        results.iter().try_for_each(|r| perf_row(w, r))
    })?;
    group.commit()
}
