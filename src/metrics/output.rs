//! CSV writers for [`RunResult`]s: `runs.csv`, `timeseries.csv`,
//! `latency.csv` and `perf.csv`.
//!
//! Rows are appended to any `io::Write`, so a sweep can stream many runs into
//! one file; [`write_results`] writes a whole directory, each file through
//! [`atomic_write`] (a temporary file in the same directory, renamed into
//! place), so an interrupted run never leaves a half-written CSV.

use anyhow::{bail, Context, Result};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::result::RunResult;
use crate::workload::dist::fmt_f64;

/// Quotes a CSV field if it needs it.
fn field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// The `runs.csv` header of a result.
pub fn runs_header(w: &mut impl Write, r: &RunResult) -> std::io::Result<()> {
    let cols: Vec<_> = r.columns.iter().map(|(c, _)| field(c)).collect();
    writeln!(w, "{}", cols.join(","))
}

/// One `runs.csv` row. The caller makes sure all rows share the header.
pub fn runs_row(w: &mut impl Write, r: &RunResult) -> std::io::Result<()> {
    let vals: Vec<_> = r.columns.iter().map(|(_, v)| field(v)).collect();
    writeln!(w, "{}", vals.join(","))
}

/// The `timeseries.csv` header.
pub const TIMESERIES_HEADER: &str = "run_id,time_ms,metric,namespace,value";
/// The `latency.csv` header.
pub const LATENCY_HEADER: &str = "run_id,kind,lag_ms_low,lag_ms_high,count";
/// The `perf.csv` header.
pub const PERF_HEADER: &str = "run_id,wall_ms,sim_ops,sim_ops_per_sec";

/// A result's `timeseries.csv` rows (long format, by time then series).
pub fn timeseries_rows(w: &mut impl Write, r: &RunResult) -> std::io::Result<()> {
    let ts = &r.timeseries;
    let id = field(&r.run_id);
    for (t, time) in ts.times.iter().enumerate() {
        for (i, (metric, ns)) in ts.names.iter().enumerate() {
            writeln!(
                w,
                "{id},{time},{metric},{},{}",
                field(ns),
                fmt_f64(ts.cols[i][t])
            )?;
        }
    }
    Ok(())
}

/// A result's `latency.csv` rows.
pub fn latency_rows(w: &mut impl Write, r: &RunResult) -> std::io::Result<()> {
    let id = field(&r.run_id);
    for b in &r.latency {
        writeln!(
            w,
            "{id},{},{},{},{}",
            b.kind,
            fmt_f64(b.lag_ms_low),
            fmt_f64(b.lag_ms_high),
            b.count
        )?;
    }
    Ok(())
}

/// A result's `perf.csv` row (wall-clock figures: not reproducible).
pub fn perf_row(w: &mut impl Write, r: &RunResult) -> std::io::Result<()> {
    writeln!(
        w,
        "{},{},{},{}",
        field(&r.run_id),
        fmt_f64((r.wall_ms * 1000.0).round() / 1000.0),
        r.sim_ops,
        fmt_f64(r.sim_ops_per_sec().round())
    )
}

/// The temporary file [`atomic_write`] uses for `path`: hidden, in the same
/// directory (so the rename is atomic), named after the process.
pub fn temp_path(path: &Path) -> Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    Ok(dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Writes `path` through a temporary file in the same directory renamed into
/// place: readers see the old file or the complete new one, never a part.
pub fn atomic_write(
    path: &Path,
    f: impl FnOnce(&mut BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = temp_path(path)?;
    let result = (|| -> Result<()> {
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut w = BufWriter::new(file);
        f(&mut w).with_context(|| format!("cannot write {}", tmp.display()))?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `runs.csv`, `timeseries.csv`, `latency.csv` and `perf.csv` for
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
    let mut paths = Vec::new();
    let runs = dir.join("runs.csv");
    atomic_write(&runs, |w| {
        runs_header(w, first)?;
        results.iter().try_for_each(|r| runs_row(w, r))
    })?;
    paths.push(runs);
    let ts = dir.join("timeseries.csv");
    atomic_write(&ts, |w| {
        writeln!(w, "{TIMESERIES_HEADER}")?;
        results.iter().try_for_each(|r| timeseries_rows(w, r))
    })?;
    paths.push(ts);
    let lat = dir.join("latency.csv");
    atomic_write(&lat, |w| {
        writeln!(w, "{LATENCY_HEADER}")?;
        results.iter().try_for_each(|r| latency_rows(w, r))
    })?;
    paths.push(lat);
    let perf = dir.join("perf.csv");
    atomic_write(&perf, |w| {
        writeln!(w, "{PERF_HEADER}")?;
        results.iter().try_for_each(|r| perf_row(w, r))
    })?;
    paths.push(perf);
    Ok(paths)
}
