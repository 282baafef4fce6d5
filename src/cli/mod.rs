//! Handlers of the `ttlsim` subcommands that belong to no single module
//! (`sweep` and `report` keep theirs in `sweep::cli` and `report::cli`):
//! `main.rs` parses the command line and calls one of these.

pub mod run;
pub mod shell;
pub mod trace;

use anyhow::{bail, Result};
use clap::Args;
use std::path::{Path, PathBuf};

use crate::sim::Source;
use crate::workload::replay::TraceInput;
use crate::workload::trace::{CsvSpec, Format, TraceSource};
use crate::workload::{load_workload, Workload};

/// What `run` and `plan` simulate: a workload file, or a trace with the
/// flags that say how to read it.
#[derive(Args, Clone, Debug)]
pub struct SourceArgs {
    /// The workload file (TOML), unless --trace is given; its format is in
    /// docs/workloads.md.
    #[arg(required_unless_present = "trace", conflicts_with = "trace")]
    pub workload: Option<PathBuf>,
    /// Replay (or plan for) this trace instead of a workload (any format ttlsim reads;
    /// `.gz` and `.zst` are decompressed as they stream).
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// With --trace: a GET that misses does not write the row's value, and a MONITOR replay writes back no key the server kept
    #[arg(long, requires = "trace")]
    pub no_fill: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub trace_opts: TraceOpts,
}

impl SourceArgs {
    /// The workload these flags name, and where its requests come from: its
    /// patterns, or the trace (the workload then only names the run after
    /// the trace file).
    pub fn load(&self) -> Result<(Workload, Source)> {
        if self.no_fill && self.trace.is_none() {
            bail!("--no-fill applies to a trace replay: give --trace FILE");
        }
        match (&self.workload, &self.trace) {
            (Some(path), _) => Ok((load_workload(path)?, Source::Patterns)),
            (None, Some(path)) => {
                let stem = path
                    .file_stem()
                    .map_or("trace".into(), |s| s.to_string_lossy().into_owned());
                Ok((
                    Workload::for_trace(&stem),
                    Source::Trace(self.trace_opts.input(path, !self.no_fill)?),
                ))
            }
            (None, None) => bail!("give a workload file or --trace FILE"),
        }
    }
}

/// How to read a trace: the flags `run --trace`, `sweep --trace` and
/// `trace stats|convert` share.
#[derive(Args, Clone, Debug, Default)]
pub struct TraceOpts {
    /// Trace format: ttlsim, monitor, oracle-general, twr-ns, twr, twitter
    /// or csv (default: detected from the name and first line).
    #[arg(long, value_name = "NAME")]
    pub trace_format: Option<String>,
    /// For a csv trace: its columns, 1-based, e.g. `time=1,key=2,op=3,size=4,ttl=5`
    /// (names: time, key, op, size, ttl, key_size; only key is required).
    #[arg(long, value_name = "SPEC")]
    pub columns: Option<String>,
    /// For a csv trace: the field delimiter (one character, or comma, tab,
    /// space, semicolon, pipe; default comma).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// For a csv trace: the first line is a header.
    #[arg(long)]
    pub header: bool,
    /// For a csv trace: the unit of the time and ttl columns (s, ms, us;
    /// default ms).
    #[arg(long, value_name = "UNIT")]
    pub time_unit: Option<String>,
    /// A MONITOR command the model does not have (HSET, LPUSH, ...) is an
    /// error instead of skipped and counted.
    #[arg(long)]
    pub strict: bool,
}

impl TraceOpts {
    /// The format and CSV spec these flags ask for. The csv flags are
    /// handed to [`CsvSpec::parse`] as one spec, so its rules and messages
    /// apply unchanged.
    pub fn resolve(&self) -> Result<(Option<Format>, Option<CsvSpec>)> {
        let format = match &self.trace_format {
            Some(name) => {
                Some(Format::parse(name).map_err(|e| anyhow::anyhow!("--trace-format: {e}"))?)
            }
            None => None,
        };
        let csv_flag = [
            (self.delimiter.is_some(), "--delimiter"),
            (self.header, "--header"),
            (self.time_unit.is_some(), "--time-unit"),
        ]
        .into_iter()
        .find(|f| f.0)
        .map(|f| f.1);
        let Some(columns) = &self.columns else {
            if format == Some(Format::Csv) {
                bail!("--trace-format csv needs --columns (e.g. `--columns time=1,key=2,size=3`)");
            }
            if let Some(flag) = csv_flag {
                bail!("{flag} describes a csv trace: give --columns too");
            }
            return Ok((format, None));
        };
        if let Some(f) = format.filter(|&f| f != Format::Csv) {
            bail!("--columns describes a csv trace; it cannot be used with --trace-format {f}");
        }
        let mut spec = columns.clone();
        if let Some(d) = &self.delimiter {
            // CsvSpec::parse splits on commas, so a comma is given by name.
            let d = match d.as_str() {
                "," => "comma",
                "\t" => "tab",
                " " => "space",
                other => other,
            };
            spec.push_str(",delim=");
            spec.push_str(d);
        }
        if self.header {
            spec.push_str(",header=yes");
        }
        if let Some(u) = &self.time_unit {
            spec.push_str(",unit=");
            spec.push_str(u);
        }
        let spec = CsvSpec::parse(&spec).map_err(anyhow::Error::msg)?;
        Ok((Some(Format::Csv), Some(spec)))
    }

    /// The replay input these flags describe for `path`.
    pub fn input(&self, path: &Path, fill: bool) -> Result<TraceInput> {
        let (format, csv) = self.resolve()?;
        Ok(TraceInput {
            path: path.to_path_buf(),
            format,
            csv,
            fill,
            strict: self.strict,
            shared: None,
            memory: crate::limits::MemoryLimit::Machine,
        })
    }

    /// Opens `path` as these flags say.
    pub fn open(&self, path: &Path) -> Result<Box<dyn TraceSource>> {
        self.input(path, true)?.open()
    }
}
