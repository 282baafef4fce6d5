//! Running a grid: in parallel, each finished run saved at once as complete
//! part files, then the parts assembled in run order into the outputs.
//!
//! Layout of `results/<experiment>/` while a sweep runs:
//!
//! ```text
//! grid.csv                 every run of the whole grid and its parameters
//! parts/<run>.ts.csv       a finished run's timeseries rows
//! parts/<run>.lat.csv      … its expiry-lag histogram rows
//! parts/<run>.perf.csv     … its wall-clock figures
//! parts/<run>.runs.csv     … its runs.csv header and row, written last:
//!                          the run counts as done once this file exists
//! ```
//!
//! Every file is written to a temporary name, synced and renamed, so a killed
//! sweep leaves complete files only. When all runs are done the parts are
//! joined in run order into `runs.csv`, `timeseries.csv`, `expiry_lag.csv` and
//! `perf.csv` (each written the same way) and `parts/` is renamed to
//! `parts.retired/` (one atomic step, so a kill during the removal cannot
//! leave a `parts/` missing files of runs it lists as done) and removed. The
//! outputs depend only on the runs' results and their order, never on which
//! thread finished first, so they are byte-identical for any `--jobs`.

use super::fingerprint::{self, Fingerprint, FolderLock};
use super::grid::{describe_point, Grid, Shard};
use crate::units::{atomic_write, atomic_write_bytes, remove_temporaries};
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

pub use crate::metrics::output::{LATENCY_HEADER, PERF_HEADER, TIMESERIES_HEADER};
use crate::metrics::result::RunResult;
use std::sync::Arc;

/// What one run produced, as CSV text keyed by its `run_id`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunOutput {
    /// `runs.csv` header line (no newline); the same for every run of a sweep.
    pub runs_header: String,
    /// The run's `runs.csv` row (no newline), `run_id` first.
    pub runs_row: String,
    /// `timeseries.csv` rows, each ending in a newline, `run_id` first.
    pub timeseries: String,
    /// `expiry_lag.csv` rows, each ending in a newline, `run_id` first.
    pub latency: String,
    /// Simulated operations (client commands and cron events).
    pub sim_ops: u64,
    /// The run itself, when it never used its policy
    /// ([`RunResult::policy_used`]): the other points of its reuse group
    /// ([`Runner::reuse_key`]) are then written from it
    /// ([`Runner::reuse`]) instead of simulated.
    pub reusable: Option<Arc<RunResult>>,
}

/// Something that runs one point of a grid. The real one plays a workload
/// on the engine; tests use a synthetic one.
pub trait Runner: Sync {
    /// Checks a point before the sweep starts (that each parameter exists
    /// in the workload and each value is valid) and returns the parameter
    /// columns its `runs.csv` row will have, from which `grid.csv` is made
    /// ([`grid_csv`]). The empty point is the workload as written.
    fn params(&self, point: &[(&str, &toml::Value)]) -> Result<Vec<(String, String)>>;
    /// Peak `used_memory` of the workload with no `maxmemory`, for grids
    /// that give `maxmemory` as a percentage.
    fn unbounded_peak(&self) -> Result<u64>;
    /// Settings the next pilot run should use (one point per workload variant); by
    /// default ignored.
    fn set_pilot_point(&mut self, _point: Vec<(String, toml::Value)>) {}
    /// Run one point; `run_id` is the run's index in the whole grid.
    fn run(&self, run_id: u64, point: &[(&str, &toml::Value)]) -> Result<RunOutput>;
    /// The key of `point`'s reuse group: points with the same key give
    /// the same run as long as that run never uses its policy (they differ
    /// only in eviction-only settings, among policies of one class:
    /// [`crate::store::Policy::alike_until_eviction`]). `None` (the
    /// default) when no other point can share its run.
    fn reuse_key(&self, _point: &[(&str, &toml::Value)]) -> Result<Option<String>> {
        Ok(None)
    }
    /// `point`'s output written from `from`, the run of another point of
    /// its reuse group that never used its policy: byte for byte what
    /// running `point` gives.
    fn reuse(
        &self,
        _from: &RunResult,
        _run_id: u64,
        _point: &[(&str, &toml::Value)],
    ) -> Result<RunOutput> {
        bail!("this runner does not reuse runs")
    }
}

/// How to run a grid.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Output folder (`results/<experiment>/`).
    pub out: PathBuf,
    /// The grid, percentages already resolved.
    pub grid: Grid,
    /// Its `grid.csv` ([`grid_csv`]).
    pub grid_csv: String,
    /// Run only this slice of the grid.
    pub shard: Option<Shard>,
    /// Worker threads.
    pub jobs: usize,
    /// Keep the runs an interrupted sweep finished; run only the rest.
    pub resume: bool,
    /// Draw a progress bar (only when stdout is a terminal).
    pub progress: bool,
    /// What determines the runs (`None`: only the grid and the shard),
    /// written to `fingerprint.txt`; `--resume` refuses a folder whose
    /// fingerprint differs.
    pub fingerprint: Option<Fingerprint>,
    /// Write a run from another of its reuse group that never used its
    /// policy, rather than simulate it (false: `--no-reuse`).
    pub reuse: bool,
}

impl Plan {
    /// The fingerprint this plan writes.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint.clone().unwrap_or_else(|| {
            Fingerprint::new(None, None, "", &self.grid_csv, &shard_label(self.shard))
        })
    }
}

/// `grid.csv` of `grid` as `runner` plays it, after checking every point
/// (an error names the first bad run): see [`Grid::table`].
pub fn grid_csv(grid: &Grid, runner: &dyn Runner) -> Result<String> {
    let base = runner.params(&[]).context("the workload as written")?;
    grid.table(&base, |i, p| {
        runner
            .params(p)
            .with_context(|| format!("run {i} ({})", describe_point(p)))
    })
}

/// `K/N` or `none`, as fingerprints record a shard.
pub fn shard_label(shard: Option<Shard>) -> String {
    shard.map_or("none".into(), |s| format!("{}/{}", s.k, s.n))
}

/// Locks `out` and checks that it is ttlsim's to write: a folder that
/// exists, is not empty and has no fingerprint is the user's.
fn claim(out: &Path) -> Result<FolderLock> {
    if out.exists() && !out.is_dir() {
        bail!("--out {} exists and is not a folder", out.display());
    }
    if !fingerprint::is_ours_or_empty(out)? {
        bail!(
            "{} is not a ttlsim output folder (it has files but no {}): choose another --out; ttlsim removes only files it made",
            out.display(),
            fingerprint::FILE
        );
    }
    FolderLock::take(out)
}

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Runs in this shard (or the grid).
    pub runs: u64,
    /// Runs done in this invocation.
    pub ran: u64,
    /// Runs kept from an earlier, interrupted invocation.
    pub kept: u64,
    /// Wall time of this invocation's runs, seconds.
    pub wall_s: f64,
    /// Simulated operations of this invocation's runs.
    pub sim_ops: u64,
    /// Runs of this invocation written from another run rather than
    /// simulated ([`Runner::reuse`]); included in `ran`.
    pub reused: u64,
}

/// The run ids in a finished `runs.csv` (its first column), or `None` if it
/// cannot be read.
fn finished_ids(runs_csv: &Path) -> Option<Vec<u64>> {
    let text = fs::read_to_string(runs_csv).ok()?;
    text.lines()
        .skip(1)
        .map(|l| l.split(',').next()?.parse().ok())
        .collect()
}

/// Removes the files a sweep and its report write (its CSVs, the report's
/// charts and index.html) from `dir`, leaving anything else there alone.
fn remove_outputs(dir: &Path) -> Result<()> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Ok(());
    };
    for e in rd {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = matches!(
            name.as_str(),
            "runs.csv"
                | "timeseries.csv"
                | "expiry_lag.csv"
                // expiry_lag.csv's earlier name
                | "latency.csv"
                | "perf.csv"
                | "grid.csv"
                | "index.html"
        ) || (name.ends_with(".png")
            && [
                "hit_ratio_vs_",
                "outcomes_",
                "memory_over_time",
                "expiry_lag",
                "heatmap_",
            ]
            .iter()
            .any(|p| name.starts_with(p)));
        if ours && e.path().is_file() {
            fs::remove_file(e.path())
                .with_context(|| format!("cannot remove {}", e.path().display()))?;
        }
    }
    Ok(())
}

fn part(dir: &Path, id: u64, kind: &str) -> PathBuf {
    dir.join(format!("{id:07}.{kind}.csv"))
}

/// `parts/` of a finished sweep, renamed before it is removed.
pub const RETIRED_PARTS: &str = "parts.retired";

/// Run the plan with `runner`; print the grid size first.
pub fn execute(plan: &Plan, runner: &dyn Runner) -> Result<Outcome> {
    let total = plan.grid.size().context("grid too large")?;
    let ids: Vec<u64> = (0..total)
        .filter(|i| plan.shard.is_none_or(|s| s.owns(*i)))
        .collect();
    let created = !plan.out.exists();
    let _lock = claim(&plan.out)?;
    let parts = plan.out.join("parts");
    // What a finished sweep was removing when it was killed: its outputs
    // are complete, its parts only waste.
    let retired = plan.out.join(RETIRED_PARTS);
    if retired.exists() {
        fs::remove_dir_all(&retired)
            .with_context(|| format!("cannot remove {}", retired.display()))?;
    }
    let grid_csv = &plan.grid_csv;
    let grid_path = plan.out.join("grid.csv");
    let print = plan.fingerprint();

    let mut done: Vec<u64> = Vec::new();
    if plan.resume {
        match Fingerprint::read(&plan.out)? {
            Some(old) => {
                let diff = print.differences(&old, &[], ("this sweep", "the folder"));
                if !diff.is_empty() {
                    bail!(
                        "--resume: {} was made by a different sweep; differs: {} (run without --resume to start over)",
                        plan.out.display(),
                        diff.join("; ")
                    );
                }
            }
            None if grid_path.exists() => bail!(
                "--resume: {} has no {}, so what made its runs is unknown (run without --resume to start over)",
                plan.out.display(),
                fingerprint::FILE
            ),
            None => {}
        }
        if let Ok(old) = fs::read_to_string(&grid_path) {
            if old != *grid_csv {
                bail!(
                    "{} holds a different grid than this sweep's; --resume only continues the same sweep \
                     (run without --resume to start over)",
                    grid_path.display()
                );
            }
            // Complete only if runs.csv holds exactly the runs this
            // invocation owns (another shard's output is not this one's).
            if !parts.exists() && finished_ids(&plan.out.join("runs.csv")).as_ref() == Some(&ids) {
                crate::say!("{}: the sweep is already complete", plan.out.display())?;
                return Ok(Outcome {
                    runs: ids.len() as u64,
                    ran: 0,
                    kept: ids.len() as u64,
                    wall_s: 0.0,
                    sim_ops: 0,
                    reused: 0,
                });
            }
        }
        remove_temporaries(&plan.out)?;
        remove_temporaries(&parts)?;
        done = ids
            .iter()
            .copied()
            .filter(|i| part(&parts, *i, "runs").exists())
            .collect();
    } else {
        // A fresh sweep: nothing of an earlier sweep in this folder may be
        // mistaken for its output (by `report`, or by a later --resume).
        if parts.exists() {
            fs::remove_dir_all(&parts)
                .with_context(|| format!("cannot remove {}", parts.display()))?;
        }
        remove_outputs(&plan.out)?;
        crate::units::remove_abandoned_temporaries(&plan.out);
    }
    fs::create_dir_all(&parts).with_context(|| format!("cannot create {}", parts.display()))?;
    print.write(&plan.out)?;
    atomic_write_bytes(&grid_path, grid_csv.as_bytes())?;

    let todo: Vec<u64> = ids
        .iter()
        .copied()
        .filter(|i| done.binary_search(i).is_err())
        .collect();
    let mut msg = format!("grid: {} = {total} runs", plan.grid);
    if let Some(s) = plan.shard {
        msg.push_str(&format!("; shard {}/{}: {} runs", s.k, s.n, ids.len()));
    }
    if !done.is_empty() {
        msg.push_str(&format!(
            "; {} already done, {} to run",
            done.len(),
            todo.len()
        ));
    }
    crate::say!("{msg}; {} jobs", plan.jobs)?;

    let bar = if plan.progress && std::io::stdout().is_terminal() {
        let b =
            ProgressBar::with_draw_target(Some(todo.len() as u64), ProgressDrawTarget::stdout());
        b.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40.cyan/blue}] {pos}/{len} runs · ETA {eta} · {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let plain = (plan.progress && !std::io::stdout().is_terminal())
        .then(|| crate::progress::Plain::new("runs", todo.len() as u64));
    let finished = AtomicU64::new(0);
    crate::progress::explain_interrupt();
    let ops = AtomicU64::new(0);
    let start = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.jobs.max(1))
        .build()
        .context("cannot start worker threads")?;
    let groups = reuse_groups(plan, runner, &todo)?;
    let reused = AtomicU64::new(0);
    // Saves a finished run (written from run `same_as`, if any) and moves
    // the progress on.
    let finish = |id: u64, out: &RunOutput, wall: f64, same_as: Option<u64>| -> Result<()> {
        save_part(&parts, id, out, wall, same_as)?;
        let total_ops = ops.fetch_add(out.sim_ops, Ordering::Relaxed) + out.sim_ops;
        let secs = start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{:.2}M sim ops/s", total_ops as f64 / secs / 1e6));
        bar.inc(1);
        if let Some(p) = &plain {
            p.tick(finished.fetch_add(1, Ordering::Relaxed) + 1, total_ops);
        }
        Ok(())
    };
    let simulate = |id: u64| -> Result<Option<Arc<RunResult>>> {
        let point = plan.grid.point(id);
        let t0 = Instant::now();
        let mut out = runner
            .run(id, &point)
            .with_context(|| format!("run {id} ({})", describe_point(&point)))?;
        finish(id, &out, t0.elapsed().as_secs_f64(), None)?;
        Ok(out.reusable.take())
    };
    let result: Result<()> = pool.install(|| {
        groups
            .par_iter()
            .with_max_len(1)
            .try_for_each(|group| -> Result<()> {
                let (&first, rest) = group.split_first().expect("groups are not empty");
                match simulate(first)? {
                    Some(from) if !rest.is_empty() => rest.iter().try_for_each(|&id| {
                        let point = plan.grid.point(id);
                        let t0 = Instant::now();
                        let mut out = runner
                            .reuse(&from, id, &point)
                            .with_context(|| format!("run {id} ({})", describe_point(&point)))?;
                        // Nothing was simulated for it.
                        out.sim_ops = 0;
                        reused.fetch_add(1, Ordering::Relaxed);
                        finish(id, &out, t0.elapsed().as_secs_f64(), Some(first))
                    }),
                    _ => rest
                        .par_iter()
                        .with_max_len(1)
                        .try_for_each(|&id| simulate(id).map(drop)),
                }
            })
    });
    bar.finish_and_clear();
    if let Err(e) = result {
        // A sweep that failed before saving any run leaves no folder it
        // made (a bad input); one with saved runs stays for --resume.
        let saved = fs::read_dir(&parts).map_or(0, |d| d.count());
        if created && saved == 0 {
            let _ = fs::remove_dir_all(&plan.out);
        }
        return Err(e);
    }
    let wall_s = start.elapsed().as_secs_f64();

    assemble(&plan.out, &parts, &ids)?;
    // Renamed first, in one step: a sweep killed while removing `parts/`
    // must not leave a `parts/` that a --resume would take for finished runs
    // whose files are gone.
    fs::rename(&parts, &retired).with_context(|| format!("cannot rename {}", parts.display()))?;
    fs::remove_dir_all(&retired).with_context(|| format!("cannot remove {}", retired.display()))?;
    Ok(Outcome {
        runs: ids.len() as u64,
        ran: todo.len() as u64,
        kept: done.len() as u64,
        wall_s,
        sim_ops: ops.into_inner(),
        reused: reused.into_inner(),
    })
}

/// `todo` in reuse groups ([`Runner::reuse_key`]), in the order of their
/// first runs; each run alone when `plan.reuse` is off. A group's first
/// run is simulated; if it never used its policy the others are written
/// from it, otherwise they run too.
fn reuse_groups(plan: &Plan, runner: &dyn Runner, todo: &[u64]) -> Result<Vec<Vec<u64>>> {
    let mut groups: Vec<Vec<u64>> = Vec::new();
    let mut by_key: std::collections::HashMap<String, usize> = Default::default();
    for &id in todo {
        let key = if plan.reuse {
            let point = plan.grid.point(id);
            runner
                .reuse_key(&point)
                .with_context(|| format!("run {id} ({})", describe_point(&point)))?
        } else {
            None
        };
        use std::collections::hash_map::Entry;
        match key.map(|k| by_key.entry(k)) {
            Some(Entry::Occupied(g)) => groups[*g.get()].push(id),
            Some(Entry::Vacant(g)) => {
                g.insert(groups.len());
                groups.push(vec![id]);
            }
            None => groups.push(vec![id]),
        }
    }
    Ok(groups)
}

/// Saves a finished run's part files; its `perf.csv` row names the run it
/// was written from (`same_as`), if it was not simulated.
fn save_part(
    parts: &Path,
    id: u64,
    out: &RunOutput,
    wall_s: f64,
    same_as: Option<u64>,
) -> Result<()> {
    atomic_write_bytes(&part(parts, id, "ts"), out.timeseries.as_bytes())?;
    atomic_write_bytes(&part(parts, id, "lat"), out.latency.as_bytes())?;
    let perf = format!(
        "{id},{:.0},{},{:.0},{}\n",
        wall_s * 1000.0,
        out.sim_ops,
        out.sim_ops as f64 / wall_s.max(1e-9),
        same_as.map_or(String::new(), |r| r.to_string())
    );
    atomic_write_bytes(&part(parts, id, "perf"), perf.as_bytes())?;
    // Written last: its presence marks the run as done.
    let runs = format!("{}\n{}\n", out.runs_header, out.runs_row);
    atomic_write_bytes(&part(parts, id, "runs"), runs.as_bytes())
}

/// One run's lines in each output file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chunk {
    /// Its `runs.csv` row, newline-terminated.
    pub runs: String,
    /// Its `timeseries.csv` rows.
    pub timeseries: String,
    /// Its `expiry_lag.csv` rows.
    pub latency: String,
    /// Its `perf.csv` row.
    pub perf: String,
}

fn assemble(out: &Path, parts: &Path, ids: &[u64]) -> Result<()> {
    let mut header: Option<String> = None;
    let mut chunks = BTreeMap::new();
    for &id in ids {
        let read = |kind: &str| {
            let p = part(parts, id, kind);
            fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))
        };
        let runs = read("runs")?;
        let (h, row) = runs.split_once('\n').context("empty runs part")?;
        match &header {
            None => header = Some(h.to_string()),
            Some(x) if x != h => bail!(
                "run {id} has different runs.csv columns than run {}",
                ids[0]
            ),
            _ => {}
        }
        chunks.insert(
            id,
            Chunk {
                runs: row.to_string(),
                timeseries: read("ts")?,
                latency: read("lat")?,
                perf: read("perf")?,
            },
        );
    }
    write_outputs(out, header.as_deref().unwrap_or("run_id"), &chunks)
}

/// Write `runs.csv`, `timeseries.csv`, `expiry_lag.csv` and `perf.csv` from
/// chunks in run order (shared by sweeps and `merge`, so both write the same
/// bytes).
pub fn write_outputs(out: &Path, runs_header: &str, chunks: &BTreeMap<u64, Chunk>) -> Result<()> {
    type Pick = fn(&Chunk) -> &str;
    let files: [(&str, &str, Pick); 4] = [
        ("timeseries.csv", TIMESERIES_HEADER, |c| &c.timeseries),
        ("expiry_lag.csv", LATENCY_HEADER, |c| &c.latency),
        ("perf.csv", PERF_HEADER, |c| &c.perf),
        ("runs.csv", runs_header, |c| &c.runs),
    ];
    for (name, header, pick) in files {
        atomic_write(&out.join(name), |w| {
            writeln!(w, "{header}")?;
            for c in chunks.values() {
                w.write_all(pick(c).as_bytes())?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Split a sweep output file into lines grouped by their leading `run_id`.
fn split_by_run(path: &Path, header: Option<&str>) -> Result<(String, BTreeMap<u64, String>)> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (h, body) = text.split_once('\n').unwrap_or((&text, ""));
    if let Some(expected) = header {
        if h != expected {
            bail!("{}: unexpected header `{h}`", path.display());
        }
    }
    let mut out: BTreeMap<u64, String> = BTreeMap::new();
    for (n, line) in body.split_inclusive('\n').enumerate() {
        let id = line
            .split(',')
            .next()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .with_context(|| format!("{}:{}: no run_id", path.display(), n + 2))?;
        out.entry(id).or_default().push_str(line);
    }
    Ok((h.to_string(), out))
}

/// A shard folder's fingerprint; every shard must have one.
fn shard_print(dir: &Path) -> Result<Fingerprint> {
    Fingerprint::read(dir)?.with_context(|| {
        format!(
            "{} has no {}: not a sweep output of this ttlsim",
            dir.display(),
            fingerprint::FILE
        )
    })
}

/// `ttlsim merge`: join the outputs of shards (`--shard K/N` runs of the same
/// grid) into `out`, byte-identical to an unsharded sweep's.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<u64> {
    if dirs.is_empty() {
        bail!("merge needs at least one shard folder");
    }
    let grid = fs::read_to_string(dirs[0].join("grid.csv"))
        .with_context(|| format!("{} has no grid.csv: not a sweep output", dirs[0].display()))?;
    let expected: u64 = grid.lines().count().saturating_sub(1) as u64;
    let first_print = shard_print(&dirs[0])?;
    let mut header: Option<String> = None;
    let mut chunks: BTreeMap<u64, Chunk> = BTreeMap::new();
    for d in dirs {
        let g = fs::read_to_string(d.join("grid.csv"))
            .with_context(|| format!("{} has no grid.csv: not a sweep output", d.display()))?;
        if g != grid {
            bail!(
                "{} and {} are shards of different grids",
                dirs[0].display(),
                d.display()
            );
        }
        let diff = shard_print(d)?.differences(
            &first_print,
            &["shard"],
            (&d.display().to_string(), &dirs[0].display().to_string()),
        );
        if !diff.is_empty() {
            bail!(
                "{} and {} are shards of different sweeps; differs: {}",
                dirs[0].display(),
                d.display(),
                diff.join("; ")
            );
        }
        if d.join("parts").exists() || !d.join("runs.csv").exists() {
            bail!(
                "{} is an unfinished shard: finish it with `ttlsim sweep … --resume` first",
                d.display()
            );
        }
        let (h, runs) = split_by_run(&d.join("runs.csv"), None)?;
        match &header {
            None => header = Some(h),
            Some(x) if *x != h => bail!("{} has different runs.csv columns", d.display()),
            _ => {}
        }
        let (_, ts) = split_by_run(&d.join("timeseries.csv"), Some(TIMESERIES_HEADER))?;
        let (_, lat) = split_by_run(&d.join("expiry_lag.csv"), Some(LATENCY_HEADER))?;
        let (_, perf) = split_by_run(&d.join("perf.csv"), Some(PERF_HEADER))?;
        for (id, row) in runs {
            if chunks.contains_key(&id) {
                bail!("run {id} appears in two shards (is a folder given twice?)");
            }
            chunks.insert(
                id,
                Chunk {
                    runs: row,
                    timeseries: ts.get(&id).cloned().unwrap_or_default(),
                    latency: lat.get(&id).cloned().unwrap_or_default(),
                    perf: perf.get(&id).cloned().unwrap_or_default(),
                },
            );
        }
    }
    let missing: Vec<u64> = (0..expected).filter(|i| !chunks.contains_key(i)).collect();
    if !missing.is_empty() {
        bail!(
            "the shards hold {} of the grid's {expected} runs; missing run_ids {}{} (a shard not given or not run?)",
            chunks.len(),
            missing.iter().take(10).map(|i| i.to_string()).collect::<Vec<_>>().join(", "),
            if missing.len() > 10 { ", …" } else { "" }
        );
    }
    let _lock = claim(out)?;
    let mut merged = first_print;
    for (k, v) in &mut merged.fields {
        if k == "shard" {
            *v = "none".into();
        }
    }
    merged.write(out)?;
    atomic_write_bytes(&out.join("grid.csv"), grid.as_bytes())?;
    write_outputs(out, header.as_deref().unwrap_or("run_id"), &chunks)?;
    Ok(expected)
}
