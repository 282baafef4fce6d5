//! The real [`Runner`]: a workload file with the point's values written into
//! it, played on the engine.
//!
//! A point is applied to the file's TOML, not to parsed structs: a server
//! setting goes into `[server]`, `seed`/`duration`/`warmup` into the top
//! level, `<namespace>.<field>` into the `[[pattern]]` with that namespace.
//! The patched text is then parsed and validated by the workload parser, so
//! any field of any pattern can be swept and is checked exactly as in a file.
//!
//! Over a trace (`sweep --trace`), there is no file to patch: the point's
//! server settings, seed, duration and warm-up are applied to a trace
//! workload, and the trace is replayed for every run.

use super::exec::{RunOutput, Runner};
use crate::store::config::EVICTION_ONLY_SETTINGS;
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
    /// The trace every run replays, for `sweep --trace`.
    pub trace: Option<crate::workload::replay::TraceInput>,
    /// Run points whose estimate is above the budget (`--force`).
    pub force: bool,
    /// How the runs' keyed patterns draw their requests
    /// ([`crate::workload::ahead`]): shared, or (`--no-reuse`, and over a
    /// trace) each run on its own thread, since a sweep's runs already use
    /// every core.
    pub draws: crate::workload::ahead::Draws,
}

impl WorkloadRunner {
    /// From the workload text (its `[sweep]` table already removed); also
    /// returns the workload as written.
    pub fn new(src: &str, file: &str) -> Result<(WorkloadRunner, crate::workload::spec::Workload)> {
        let w = crate::workload::spec::parse_workload(src, file)?;
        let base: toml::Table =
            toml::from_str(src).with_context(|| format!("{file}: not valid TOML"))?;
        Ok((
            WorkloadRunner {
                base,
                file: file.to_string(),
                sample_interval: crate::units::Dur(10_000_000),
                pilot_point: Vec::new(),
                trace: None,
                force: false,
                draws: crate::workload::ahead::Draws::Live,
            },
            w,
        ))
    }

    /// Plays points over a trace; `name` names the experiment.
    pub fn for_trace(trace: crate::workload::replay::TraceInput, name: &str) -> WorkloadRunner {
        WorkloadRunner {
            base: toml::Table::new(),
            file: trace.path.display().to_string(),
            sample_interval: crate::units::Dur(10_000_000),
            pilot_point: Vec::new(),
            trace: Some(trace),
            force: false,
            draws: crate::workload::ahead::Draws::Live,
        }
        .named(name)
    }

    fn named(mut self, name: &str) -> Self {
        self.base
            .insert("name".into(), toml::Value::String(name.to_string()));
        self
    }

    /// A trace workload with `point`'s server settings, seed, duration and
    /// warm-up, checked as the same flags of `ttlsim run` are.
    fn trace_workload(
        &self,
        point: &[(&str, &toml::Value)],
    ) -> Result<crate::workload::spec::Workload> {
        use crate::workload::spec::{Warmup, Workload};
        let name = self
            .base
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or("trace");
        let mut w = Workload::for_trace(name);
        let text = |v: &toml::Value| match v {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        for (k, v) in point {
            let dim = super::grid::Dimension {
                name: k.to_string(),
                values: Vec::new(),
            };
            match dim.target() {
                super::grid::Target::Server(n) => {
                    w.set_server(n, &text(v)).map_err(anyhow::Error::msg)?
                }
                super::grid::Target::Top("seed") => {
                    w.seed = v
                        .as_integer()
                        .and_then(|i| u64::try_from(i).ok())
                        .with_context(|| format!("seed `{}` is not a whole number >= 0", text(v)))?
                }
                super::grid::Target::Top("duration") => {
                    let d = crate::units::Dur::parse(&text(v))
                        .map_err(|e| anyhow::anyhow!("duration: {e}"))?;
                    // As `run --duration` refuses it.
                    if d.0 < 1000 {
                        bail!("duration must be at least 1ms");
                    }
                    w.duration = Some(d);
                }
                super::grid::Target::Top("warmup") => {
                    w.warmup = Warmup::parse(&text(v)).map_err(|e| anyhow::anyhow!("warmup: {e}"))?
                }
                super::grid::Target::Top(other) => bail!("`{other}` cannot be swept over a trace"),
                super::grid::Target::Pattern(..) => bail!(
                    "sweep parameter `{k}`: a trace has no patterns; over a trace, sweep server settings, seed, duration and warm-up"
                ),
            }
        }
        w.check_warmup().map_err(anyhow::Error::msg)?;
        Ok(w)
    }

    /// The run of `point`.
    fn spec(&self, point: &[(&str, &toml::Value)]) -> Result<crate::sim::RunSpec> {
        let mut spec = match &self.trace {
            Some(t) => {
                let mut s = crate::sim::RunSpec::new(self.trace_workload(point)?);
                s.source = crate::sim::Source::Trace(t.clone());
                s
            }
            None => crate::sim::RunSpec::new(self.workload(point)?),
        };
        spec.sample_interval = self.sample_interval;
        spec.draws = self.draws.clone();
        Ok(spec)
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
        // Positions in the patched text mean nothing to the user: name the
        // point and the field instead.
        crate::workload::spec::parse_workload(&text, &self.file).map_err(|e| {
            anyhow::anyhow!(
                "{} with {}: {}",
                self.file,
                super::grid::describe_point(point),
                e.msg
            )
        })
    }
}

impl Runner for WorkloadRunner {
    fn set_pilot_point(&mut self, point: Vec<(String, toml::Value)>) {
        self.pilot_point = point;
    }

    fn params(&self, point: &[(&str, &toml::Value)]) -> Result<Vec<(String, String)>> {
        let spec = self.spec(point)?;
        if self.trace.is_none() {
            crate::limits::check_budget(&spec.workload, self.force)?;
        }
        Ok(crate::sim::param_row(&spec))
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
        let r = crate::sim::run(&self.spec(&point)?)?;
        r.num("used_memory_peak")
            .map(|v| v as u64)
            .context("the pilot run reported no used_memory_peak")
    }

    fn run(&self, run_id: u64, point: &[(&str, &toml::Value)]) -> Result<RunOutput> {
        let mut spec = self.spec(point)?;
        spec.run_id = run_id.to_string();
        let r = crate::sim::run(&spec)?;
        let mut out = to_output(&r)?;
        if !r.policy_used {
            out.reusable = Some(std::sync::Arc::new(r));
        }
        Ok(out)
    }

    /// The point without its eviction-only settings, and the class of its
    /// policy; `None` for a reference policy.
    fn reuse_key(&self, point: &[(&str, &toml::Value)]) -> Result<Option<String>> {
        let spec = self.spec(point)?;
        let Some(class) = spec.workload.server.policy.alike_until_eviction() else {
            return Ok(None);
        };
        let mut key = format!("private-integers={class}");
        for (name, value) in point {
            if !EVICTION_ONLY_SETTINGS.contains(name) {
                key.push_str(&format!(" {name}={value}"));
            }
        }
        Ok(Some(key))
    }

    /// `from`'s result with `point`'s run id and eviction-only settings:
    /// the rest of the row, every metric and the time series are the
    /// same, since neither run ever used its policy.
    fn reuse(
        &self,
        from: &crate::metrics::result::RunResult,
        run_id: u64,
        point: &[(&str, &toml::Value)],
    ) -> Result<RunOutput> {
        let mut spec = self.spec(point)?;
        spec.run_id = run_id.to_string();
        let mut r = from.clone();
        r.set_run_id(&spec.run_id);
        for (name, value) in crate::sim::param_row(&spec) {
            if EVICTION_ONLY_SETTINGS.contains(&name.replace('_', "-").as_str()) {
                let cell = r
                    .columns
                    .iter_mut()
                    .find(|(c, _)| *c == name)
                    .with_context(|| format!("run {run_id}: no {name} column to rewrite"))?;
                cell.1 = value;
            }
        }
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
        reusable: None,
    })
}
