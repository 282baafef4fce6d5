//! The real [`Runner`]: a workload file with the point's values written into
//! it, played on the engine.
//!
//! A point is applied to the file's TOML, not to parsed structs: a server
//! setting goes into `[server]`, `seed`/`duration`/`warmup` into the top
//! level, `<namespace>.<field>` into the `[[pattern]]` with that namespace.
//! The patched text is then parsed and validated by the workload parser, so
//! any field of any pattern can be swept and is checked exactly as in a file.

use super::exec::{RunOutput, Runner};
use anyhow::{bail, Context, Result};

/// Plays points of a grid over one workload file.
#[derive(Debug, Clone)]
pub struct WorkloadRunner {
    base: toml::Table,
    file: String,
    /// Time between metric samples in `timeseries.csv`.
    pub sample_interval: crate::units::Dur,
    /// The grid point whose workload the next pilot run uses.
    pub pilot_point: Vec<(String, toml::Value)>,
}

impl WorkloadRunner {
    /// From the workload text (its `[sweep]` table already removed); also
    /// returns the workload's name.
    pub fn new(src: &str, file: &str) -> Result<(WorkloadRunner, String)> {
        let w = crate::workload::spec::parse_workload(src, file)?;
        let base: toml::Table =
            toml::from_str(src).with_context(|| format!("{file}: not valid TOML"))?;
        Ok((
            WorkloadRunner {
                base,
                file: file.to_string(),
                sample_interval: crate::units::Dur(10_000_000),
                pilot_point: Vec::new(),
            },
            w.name,
        ))
    }

    /// The workload text with `point`'s values written in.
    pub fn patched(&self, point: &[(&str, &toml::Value)]) -> Result<String> {
        let mut doc = self.base.clone();
        for (name, value) in point {
            let target = super::grid::Dimension {
                name: name.to_string(),
                values: Vec::new(),
            };
            match target.target() {
                super::grid::Target::Top(k) => {
                    doc.insert(k.to_string(), (*value).clone());
                }
                super::grid::Target::Server(k) => {
                    let server = doc
                        .entry("server")
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                    let toml::Value::Table(t) = server else {
                        bail!("{}: `server` is not a table", self.file)
                    };
                    t.insert(k.to_string(), (*value).clone());
                }
                super::grid::Target::Pattern(ns, field) => {
                    let Some(toml::Value::Array(patterns)) = doc.get_mut("pattern") else {
                        bail!(
                            "{}: no [[pattern]] tables, so `{name}` cannot be swept",
                            self.file
                        )
                    };
                    let known: Vec<String> = patterns
                        .iter()
                        .filter_map(|p| {
                            p.get("namespace")
                                .and_then(|n| n.as_str())
                                .map(str::to_string)
                        })
                        .collect();
                    let Some(p) = patterns
                        .iter_mut()
                        .find(|p| p.get("namespace").and_then(|n| n.as_str()) == Some(ns))
                    else {
                        bail!(
                            "sweep parameter `{name}`: {} has no pattern with namespace `{ns}` (it has {})",
                            self.file,
                            known.join(", ")
                        )
                    };
                    let toml::Value::Table(t) = p else {
                        bail!("{}: a [[pattern]] is not a table", self.file)
                    };
                    t.insert(field.to_string(), (*value).clone());
                }
            }
        }
        toml::to_string(&doc).context("cannot write the patched workload")
    }

    fn workload(&self, point: &[(&str, &toml::Value)]) -> Result<crate::workload::spec::Workload> {
        let text = self.patched(point)?;
        let label = format!("{} with {}", self.file, super::exec::describe(point));
        Ok(crate::workload::spec::parse_workload(&text, &label)?)
    }
}

impl Runner for WorkloadRunner {
    fn set_pilot_point(&mut self, point: Vec<(String, toml::Value)>) {
        self.pilot_point = point;
    }

    fn check(&self, point: &[(&str, &toml::Value)]) -> Result<()> {
        self.workload(point).map(|_| ())
    }

    /// The pilot: the point set by `set_pilot_point` (so a swept duration
    /// or TTL applies) with no `maxmemory`.
    fn unbounded_peak(&self) -> Result<u64> {
        let unbounded = toml::Value::Integer(0);
        let mut point: Vec<(&str, &toml::Value)> = self
            .pilot_point
            .iter()
            .filter(|(k, _)| k != "maxmemory")
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        point.push(("maxmemory", &unbounded));
        let w = self.workload(&point)?;
        let mut spec = crate::sim::RunSpec::new(w);
        spec.sample_interval = self.sample_interval;
        let r = crate::sim::run(&spec)?;
        r.num("used_memory_peak")
            .map(|v| v as u64)
            .context("the pilot run reported no used_memory_peak")
    }

    fn run(&self, run_id: u64, point: &[(&str, &toml::Value)]) -> Result<RunOutput> {
        let w = self.workload(point)?;
        let mut spec = crate::sim::RunSpec::new(w);
        spec.run_id = run_id.to_string();
        spec.sample_interval = self.sample_interval;
        let r = crate::sim::run(&spec)?;
        Ok(to_output(&r)?)
    }
}

/// A run's result as the sweep's CSV text, written by the metrics module's
/// own CSV writers so a sweep's files match `ttlsim run`'s.
pub fn to_output(r: &crate::metrics::result::RunResult) -> std::io::Result<RunOutput> {
    use crate::metrics::output;
    let text = |f: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| -> std::io::Result<String> {
        let mut b = Vec::new();
        f(&mut b)?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    };
    let strip = |s: String| s.trim_end_matches('\n').to_string();
    Ok(RunOutput {
        runs_header: strip(text(&|b| output::runs_header(b, r))?),
        runs_row: strip(text(&|b| output::runs_row(b, r))?),
        timeseries: text(&|b| output::timeseries_rows(b, r))?,
        latency: text(&|b| output::latency_rows(b, r))?,
        sim_ops: r.sim_ops,
    })
}
