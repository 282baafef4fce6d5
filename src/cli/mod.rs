//! Handlers of the `ttlsim` subcommands that belong to no single module
//! (`sweep` and `report` keep theirs in `sweep::cli` and `report::cli`):
//! `main.rs` parses the command line and calls one of these.

pub mod run;
pub mod shell;

use anyhow::{Context, Result};
use clap::Args;
use std::path::Path;

use crate::workload::replay::TraceInput;
use crate::workload::trace::{CsvSpec, Format};

/// How to read a trace: the flags `run --trace`, `sweep --trace` and
/// `trace ...` share.
#[derive(Args, Clone, Debug, Default)]
pub struct TraceOpts {
    /// Trace format, detected from the file when absent: ttlsim, monitor,
    /// oracle-general, twr, twr-ns, twitter or csv.
    #[arg(long, value_name = "FORMAT")]
    pub trace_format: Option<String>,
    /// For a csv trace: the 1-based column of each field, as
    /// `time=1,key=2,op=3,size=4,ttl=5` (only `key` is required).
    #[arg(long, value_name = "SPEC")]
    pub columns: Option<String>,
    /// For a csv trace: the field delimiter (one character, or `tab`).
    #[arg(long)]
    pub delimiter: Option<String>,
    /// For a csv trace: the first line is a header.
    #[arg(long)]
    pub header: bool,
    /// For a csv trace: the unit of `time` and `ttl` (s, ms or us; default ms).
    #[arg(long, value_name = "UNIT")]
    pub time_unit: Option<String>,
    /// A MONITOR command the model does not have (HSET, LPUSH, ...) is an
    /// error instead of skipped and counted.
    #[arg(long)]
    pub strict: bool,
}

impl TraceOpts {
    /// The trace input these flags describe for `path`.
    pub fn input(&self, path: &Path, fill: bool) -> Result<TraceInput> {
        let format = match &self.trace_format {
            Some(f) => Some(
                Format::parse(f)
                    .map_err(anyhow::Error::msg)
                    .context("--trace-format")?,
            ),
            None => None,
        };
        let csv_flags = self.delimiter.is_some() || self.header || self.time_unit.is_some();
        let csv = match (&self.columns, csv_flags) {
            (None, false) => None,
            (None, true) => anyhow::bail!(
                "--delimiter, --header and --time-unit describe a csv trace: give its --columns too (for example --columns time=1,key=2)"
            ),
            (Some(cols), _) => {
                let mut spec = cols.clone();
                if let Some(d) = &self.delimiter {
                    spec.push_str(&format!(",delim={d}"));
                }
                if self.header {
                    spec.push_str(",header=yes");
                }
                if let Some(u) = &self.time_unit {
                    spec.push_str(&format!(",unit={u}"));
                }
                Some(CsvSpec::parse(&spec).map_err(anyhow::Error::msg).context("--columns")?)
            }
        };
        if csv.is_some() && format.is_some_and(|f| f != Format::Csv) {
            anyhow::bail!(
                "--columns describes a csv trace, but --trace-format is {}",
                self.trace_format.as_deref().unwrap_or("")
            );
        }
        Ok(TraceInput {
            path: path.to_path_buf(),
            format: if csv.is_some() {
                Some(Format::Csv)
            } else {
                format
            },
            csv,
            fill,
            strict: self.strict,
        })
    }
}
