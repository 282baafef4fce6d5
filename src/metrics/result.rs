//! [`RunResult`]: everything one run produced, ready to be written.

use crate::units::fmt_f64;

/// Time series sampled on the simulated clock, one column of values per
/// (metric, namespace) series, all sharing the sample times.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimeSeries {
    /// (metric, namespace) of each series; namespace empty for the whole server.
    pub names: Vec<(&'static str, String)>,
    /// Sample times in ms from the start of the run.
    pub times: Vec<u64>,
    /// One vector of values per series, aligned with `times` (a series added
    /// after sampling began reads 0 before it existed).
    pub cols: Vec<Vec<f64>>,
}

impl TimeSeries {
    /// Adds a series; returns its index.
    pub fn add(&mut self, metric: &'static str, namespace: &str) -> usize {
        self.names.push((metric, namespace.to_string()));
        self.cols.push(vec![0.0; self.times.len()]);
        self.names.len() - 1
    }

    /// Starts a sample row at `time_ms` (every series gets a 0 to overwrite
    /// with [`TimeSeries::set`]).
    pub fn row(&mut self, time_ms: u64) {
        self.times.push(time_ms);
        for c in &mut self.cols {
            c.push(0.0);
        }
    }

    /// Sets series `i` in the last row.
    #[inline]
    pub fn set(&mut self, i: usize, v: f64) {
        if let Some(x) = self.cols[i].last_mut() {
            *x = v;
        }
    }

    /// The values of one series.
    pub fn series(&self, metric: &str, namespace: &str) -> Option<&[f64]> {
        let i = self
            .names
            .iter()
            .position(|(m, ns)| *m == metric && ns == namespace)?;
        Some(&self.cols[i])
    }
}

/// One bucket of the expiry-lag histogram.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyBucket {
    /// `lazy` or `active`.
    pub kind: &'static str,
    /// Lower bound (inclusive), ms.
    pub lag_ms_low: f64,
    /// Upper bound (exclusive), ms.
    pub lag_ms_high: f64,
    /// Keys whose expiry lag fell in the bucket.
    pub count: u64,
}

/// The result of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunResult {
    /// Run id (`"0"` for a single run; the sweep numbers its runs).
    pub run_id: String,
    /// The `runs.csv` row, in column order: `run_id`, `workload`, parameters,
    /// metrics, per-namespace metrics.
    pub columns: Vec<(String, String)>,
    /// Sampled time series (`timeseries.csv`).
    pub timeseries: TimeSeries,
    /// Expiry-lag histogram (`expiry_lag.csv`).
    pub latency: Vec<LatencyBucket>,
    /// Commands sent to the store (cache fills and warm-up included).
    pub sim_ops: u64,
    /// Client requests (cache fills excluded, warm-up included).
    pub sim_requests: u64,
    /// Wall-clock time of the run, ms (not deterministic: `perf.csv` only).
    pub wall_ms: f64,
    /// Notes for the summary from the clients (skipped trace commands, ...).
    pub notes: Vec<String>,
    /// Something in the run depended on which policy of its class it had
    /// ([`crate::store::Store::policy_used`]); when false, the run is the
    /// same under every policy of the class and any eviction-only settings.
    pub policy_used: bool,
}

impl RunResult {
    /// A column's value as written.
    pub fn get(&self, column: &str) -> Option<&str> {
        self.columns
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, v)| v.as_str())
    }

    /// A numeric column.
    pub fn num(&self, column: &str) -> Option<f64> {
        self.get(column)?.parse().ok()
    }

    /// Simulated operations per second of wall time.
    pub fn sim_ops_per_sec(&self) -> f64 {
        if self.wall_ms <= 0.0 {
            0.0
        } else {
            self.sim_ops as f64 / (self.wall_ms / 1000.0)
        }
    }

    /// Sets the run id (in the struct and its first column).
    pub fn set_run_id(&mut self, id: &str) {
        self.run_id = id.to_string();
        if let Some(c) = self.columns.first_mut() {
            c.1 = id.to_string();
        }
    }
}

/// Builds a row of (column, value) pairs with fixed float formatting.
#[derive(Default)]
pub struct Row(pub Vec<(String, String)>);

impl Row {
    /// A text or integer value.
    pub fn put(&mut self, col: impl Into<String>, v: impl ToString) {
        self.0.push((col.into(), v.to_string()));
    }
    /// A float, formatted by [`fmt_f64`].
    pub fn float(&mut self, col: impl Into<String>, v: f64) {
        self.0.push((col.into(), fmt_f64(v)));
    }
    /// `num / den`, or an empty cell when `den` is 0 (a hit ratio with no
    /// reads is undefined, not 0: pandas and R read the empty cell as missing,
    /// and means and charts skip it).
    pub fn ratio(&mut self, col: impl Into<String>, num: u64, den: u64) {
        let v = if den == 0 {
            String::new()
        } else {
            fmt_f64(num as f64 / den as f64)
        };
        self.0.push((col.into(), v));
    }
}
