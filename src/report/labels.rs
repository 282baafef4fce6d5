//! Labels: how the report writes column names, parameter values, policies
//! (`(ref)` marking, Redis's order) and the subtitle notes shared by charts
//! and the page.

use super::charts;
use super::data::RunsTable;
use super::Ctx;

/// The `maxmemory` column.
pub(crate) const MEM: &str = "maxmemory";
/// The `maxmemory_policy` column.
pub(crate) const POLICY: &str = "maxmemory_policy";
/// Bytes in a MiB, the unit memory is shown in.
pub(crate) const MIB: f64 = 1024.0 * 1024.0;

/// Order policies as Redis documents them; other labels after, by name.
pub(crate) fn policy_rank(label: &str) -> (usize, String) {
    let pos = crate::store::Policy::ALL
        .iter()
        .position(|p| p.name() == label)
        .unwrap_or(usize::MAX);
    (pos, label.to_string())
}

/// A column's name as a person reads it: Redis's config name for server
/// settings (`maxmemory-policy`), `<ns> <name>` for pattern parameters.
pub fn short_name(col: &str) -> String {
    if let Some(p) = col.strip_prefix("param_") {
        let p = p
            .strip_suffix("_ms")
            .or_else(|| p.strip_suffix("_s"))
            .unwrap_or(p);
        p.replace('_', " ")
    } else if col == "seed" {
        "seed".into()
    } else {
        col.replace('_', "-")
    }
}

/// Axis description with unit.
pub fn axis_label(col: &str) -> String {
    if col == MEM {
        "maxmemory (MiB)".into()
    } else if col.ends_with("_ms") {
        format!("{} (ms)", short_name(col))
    } else if col.starts_with("param_") && col.ends_with("_s") {
        format!("{} (s)", short_name(col))
    } else {
        short_name(col)
    }
}

/// A parameter value as a person reads it (memory in MiB; a reference
/// policy with its legend suffix, `arc (ref)`, so it is never taken for one
/// of Redis's policies).
pub fn show_value(col: &str, v: &str) -> String {
    if col == POLICY {
        format!("{v}{}", charts::series_style(v).legend_suffix)
    } else if col == MEM {
        match v.parse::<f64>() {
            Ok(0.0) => "unlimited".into(),
            Ok(b) => format!("{} MiB", charts::fmt_num(b / MIB)),
            Err(_) => v.into(),
        }
    } else if col.starts_with("param_") && col.ends_with("_s") {
        format!("{v} s")
    } else if col.ends_with("_ms") {
        format!("{v} ms")
    } else {
        v.into()
    }
}

/// A parameter value on a numeric axis; `None` for text and for an unlimited
/// `maxmemory` (0), which has no place on a memory axis.
pub(crate) fn x_value(col: &str, v: &str) -> Option<f64> {
    let n = v.parse::<f64>().ok()?;
    if col == MEM {
        (n > 0.0).then_some(n / MIB)
    } else {
        Some(n)
    }
}

/// The unit of a metric column, from its name.
pub(crate) fn unit_label(col: &str) -> &'static str {
    if col.ends_with("ratio") {
        "ratio"
    } else if col.ends_with("_per_s") {
        "per second"
    } else if col.ends_with("_ms") {
        "ms"
    } else if col.ends_with("_s") {
        "seconds"
    } else if col.ends_with("_mean") {
        "mean"
    } else if col.contains("memory") || col.ends_with("_bytes") {
        "bytes"
    } else {
        "count per run"
    }
}

pub(crate) fn ratio_fmt(v: f64) -> String {
    format!("{:.2}", v)
}

/// What chart titles start with: `<workload>: `, or nothing.
pub(crate) fn title_prefix(workload: &str) -> String {
    if workload.is_empty() {
        String::new()
    } else {
        format!("{}: ", workload)
    }
}

/// The grid in one line: `3 maxmemory-policy × 2 maxmemory × 2 seeds = 12 runs`.
pub(crate) fn grid_text(t: &RunsTable, swept: &[String], seeds: usize) -> String {
    let mut parts: Vec<String> = swept
        .iter()
        .map(|c| format!("{} {}", t.distinct(c).len(), short_name(c)))
        .collect();
    if seeds > 1 {
        parts.push(format!("{seeds} seeds"));
    }
    if parts.is_empty() {
        format!("{} runs", t.rows.len())
    } else {
        format!("{} = {} runs", parts.join(" × "), t.rows.len())
    }
}

/// Subtitle notes about the analysis (the analysis itself is in `analysis.rs`).
impl Ctx {
    /// `; held at <param>=<value>, …` for the parameters a chart or table
    /// holds fixed; empty when none is.
    pub(crate) fn fixed_text(&self, fixed: &[(String, String)]) -> String {
        if fixed.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = fixed
            .iter()
            .map(|(c, v)| format!("{}={}", short_name(c), show_value(c, v)))
            .collect();
        format!("; held at {}", parts.join(", "))
    }

    /// What the line and the band mean, when there are replications.
    pub(crate) fn band_text(&self) -> &'static str {
        if self.seeds > 1 {
            "; line = mean over seeds, band = min–max"
        } else {
            ""
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_policy_reads_as_one_wherever_it_is_shown() {
        assert_eq!(show_value(POLICY, "s3-fifo"), "s3-fifo (ref)");
        assert_eq!(show_value(POLICY, "allkeys-lru"), "allkeys-lru");
        assert_eq!(show_value(MEM, "1048576"), "1 MiB");
    }
}
