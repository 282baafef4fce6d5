//! Every `runs.csv` column, once: its name, unit, kind, description and how
//! its value is computed at the end of a run; and every `timeseries.csv`
//! metric ([`SERIES`], [`NS_SERIES`]), which the recorder writes in that order.
//!
//! The engine builds a run's row from these tables ([`run_row`]), the report
//! tells parameters from metrics by them ([`is_param`], [`is_core_metric`]),
//! the synthetic sweep runner writes the same columns, and `docs/columns.md`
//! is generated from them ([`markdown`]; a test fails when it is stale or a
//! written column has no description). Adding a metric is one entry in
//! [`METRICS`] (or [`NS_METRICS`] for a per-namespace one).
//!
//! Column order in `runs.csv`: [`PARAMS`], then the source's parameters
//! (`param_<namespace>_<field>` for a workload, `param_trace_*` for a trace),
//! then [`METRICS`], then [`NS_METRICS`] for each namespace
//! (`<ns>_<suffix>`), then each pattern's outcomes (`<ns>_<outcome>`).

use super::recorder::{NsCounters, NsStats, Recorder};
use super::result::Row;
use crate::store::{Config, SimValue, Store};
use crate::workload::Warmup;

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Identifies the run.
    Id,
    /// A parameter of the run (a server setting, the seed, ...).
    Param,
    /// A measured figure.
    Metric,
}

/// The unit of a column's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Free text (names).
    Text,
    /// A whole number of things (requests, keys, ...).
    Count,
    /// A fraction in 0..1; empty when undefined (no reads).
    Ratio,
    /// Bytes.
    Bytes,
    /// Milliseconds.
    Ms,
    /// Seconds.
    Seconds,
    /// Events per simulated second.
    PerSecond,
    /// Milliseconds per simulated second.
    MsPerSecond,
    /// A setting's own unit, as Redis documents it.
    Setting,
}

impl Unit {
    /// The unit as `docs/columns.md` writes it.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Text => "text",
            Unit::Count => "count",
            Unit::Ratio => "ratio 0..1",
            Unit::Bytes => "bytes",
            Unit::Ms => "ms",
            Unit::Seconds => "s",
            Unit::PerSecond => "per s",
            Unit::MsPerSecond => "ms per s",
            Unit::Setting => "setting",
        }
    }
}

/// A column's documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// The column name (for per-namespace columns, the suffix after `<ns>_`).
    pub name: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// What it is.
    pub kind: Kind,
    /// One sentence on what it means.
    pub description: &'static str,
}

const fn col(name: &'static str, unit: Unit, kind: Kind, description: &'static str) -> Column {
    Column {
        name,
        unit,
        kind,
        description,
    }
}

/// The identity and parameters of a run, as the engine knows them.
pub struct RunParams<'a> {
    /// The run id.
    pub run_id: &'a str,
    /// The workload (or trace) name.
    pub workload: &'a str,
    /// The run seed.
    pub seed: u64,
    /// Simulated duration, warm-up included, µs.
    pub duration_us: u64,
    /// The warm-up as written (`0`, a request count, or `30000ms`).
    pub warmup: Warmup,
    /// The server settings.
    pub config: &'a Config,
}

/// A cell value.
pub enum Cell {
    /// A whole number.
    Int(u64),
    /// A float, written by [`fmt_f64`](crate::units::fmt_f64).
    Float(f64),
    /// `num / den`, empty when `den` is 0.
    Ratio(u64, u64),
    /// Text.
    Text(String),
}

/// A parameter column and its value.
pub struct ParamColumn {
    /// Documentation.
    pub col: Column,
    /// The value.
    pub value: fn(&RunParams) -> Cell,
}

/// What a run's figures are computed from once it ends.
pub struct RunEnd<'a> {
    /// The recorder.
    pub rec: &'a Recorder,
    /// The store as the run left it.
    pub store: &'a Store<SimValue>,
    /// Counters summed over namespaces.
    pub totals: NsCounters,
    /// Measured (post-warm-up) simulated time, s.
    pub measured_s: f64,
    /// When the measurement began, ms from the start of the run.
    pub measure_start_ms: u64,
}

impl<'a> RunEnd<'a> {
    /// Sums the namespaces' counters.
    pub fn new(
        rec: &'a Recorder,
        store: &'a Store<SimValue>,
        measured_s: f64,
        measure_start_ms: u64,
    ) -> Self {
        let mut t = NsCounters::default();
        for n in &rec.ns {
            let x = &n.total;
            t.requests += x.requests;
            t.commands += x.commands;
            t.hits += x.hits;
            t.misses += x.misses;
            t.misses_cold += x.misses_cold;
            t.misses_expired += x.misses_expired;
            t.misses_evicted += x.misses_evicted;
            t.evicted += x.evicted;
            t.expired += x.expired;
        }
        RunEnd {
            rec,
            store,
            totals: t,
            measured_s,
            measure_start_ms,
        }
    }

    /// `count` per measured second.
    pub fn per_s(&self, count: f64) -> f64 {
        if self.measured_s > 0.0 {
            count / self.measured_s
        } else {
            0.0
        }
    }
}

/// A whole-run metric column and its value.
pub struct MetricColumn {
    /// Documentation.
    pub col: Column,
    /// The value.
    pub value: fn(&RunEnd) -> Cell,
}

/// A per-namespace metric column (`<ns>_<name>`) and its value.
pub struct NsColumn {
    /// Documentation (`name` is the suffix).
    pub col: Column,
    /// The value.
    pub value: fn(&NsStats, &RunEnd) -> Cell,
}

const fn param(
    name: &'static str,
    unit: Unit,
    d: &'static str,
    value: fn(&RunParams) -> Cell,
) -> ParamColumn {
    ParamColumn {
        col: col(name, unit, Kind::Param, d),
        value,
    }
}

const fn metric(
    name: &'static str,
    unit: Unit,
    d: &'static str,
    value: fn(&RunEnd) -> Cell,
) -> MetricColumn {
    MetricColumn {
        col: col(name, unit, Kind::Metric, d),
        value,
    }
}

const fn ns_metric(
    name: &'static str,
    unit: Unit,
    d: &'static str,
    value: fn(&NsStats, &RunEnd) -> Cell,
) -> NsColumn {
    NsColumn {
        col: col(name, unit, Kind::Metric, d),
        value,
    }
}

fn setting(p: &RunParams, name: &str) -> Cell {
    Cell::Text(p.config.get(name).unwrap_or_default())
}

/// The identity and server-setting columns, first in every row.
pub const PARAMS: &[ParamColumn] = &[
    ParamColumn {
        col: col("run_id", Unit::Text, Kind::Id, "The run's number in the sweep (`0` for a single run); the key of timeseries.csv, expiry_lag.csv and perf.csv."),
        value: |p| Cell::Text(p.run_id.to_string()),
    },
    param("workload", Unit::Text, "The workload's `name` (or the trace file's stem).", |p| Cell::Text(p.workload.to_string())),
    param("seed", Unit::Count, "The run seed: every random stream of the run derives from it.", |p| Cell::Int(p.seed)),
    param("duration_ms", Unit::Ms, "Simulated time of the run, warm-up included.", |p| Cell::Int(p.duration_us / 1000)),
    param("warmup_ms", Unit::Ms, "A warm-up given as simulated time, excluded from every metric (0: none, or given in requests).", |p| Cell::Int(match p.warmup { Warmup::Time(d) => d.ms(), _ => 0 })),
    param("warmup_requests", Unit::Count, "A warm-up given as a number of client requests, excluded from every metric (0: none, or given as time).", |p| Cell::Int(match p.warmup { Warmup::Requests(n) => n, _ => 0 })),
    param("hz", Unit::Setting, "Redis `hz`: server cron (active expire cycle) runs per second.", |p| setting(p, "hz")),
    param("active_expire_effort", Unit::Setting, "Redis `active-expire-effort` (1..10).", |p| setting(p, "active-expire-effort")),
    param("maxmemory", Unit::Bytes, "Redis `maxmemory`; 0 = no limit.", |p| setting(p, "maxmemory")),
    param("maxmemory_policy", Unit::Text, "Redis `maxmemory-policy`, or a reference policy that Redis does not have.", |p| setting(p, "maxmemory-policy")),
    param("maxmemory_samples", Unit::Setting, "Redis `maxmemory-samples`: keys sampled per eviction round.", |p| setting(p, "maxmemory-samples")),
    param("maxmemory_eviction_tenacity", Unit::Setting, "Redis `maxmemory-eviction-tenacity` (0..100): eviction time budget per command.", |p| setting(p, "maxmemory-eviction-tenacity")),
    param("lfu_log_factor", Unit::Setting, "Redis `lfu-log-factor`.", |p| setting(p, "lfu-log-factor")),
    param("lfu_decay_time", Unit::Setting, "Redis `lfu-decay-time` (minutes).", |p| setting(p, "lfu-decay-time")),
    param("memory_model", Unit::Text, "How memory is counted: `redis` (Redis's used_memory, with every overhead) or `objects` (only key and value sizes, as libCacheSim and the literature count capacity).", |p| setting(p, "memory-model")),
];

/// Peak of the per-interval `expirations` series, per second.
fn expired_per_s_peak(e: &RunEnd) -> f64 {
    let ts = &e.rec.series;
    let Some(exp) = ts.series("expirations", "") else {
        return 0.0;
    };
    let mut prev_ms = e.measure_start_ms;
    let mut peak = 0.0f64;
    for (&t, &n) in ts.times.iter().zip(exp) {
        let span_s = t.saturating_sub(prev_ms) as f64 / 1000.0;
        if span_s > 0.0 {
            peak = peak.max(n / span_s);
        }
        prev_ms = t;
    }
    peak
}

/// The whole-run metrics, after the parameters.
pub const METRICS: &[MetricColumn] = &[
    metric("requests", Unit::Count, "Client requests after the warm-up: commands the clients sent, except cache fills (the SET after a GET miss of cache-aside, a persistent-key reload or a trace's fill); see `commands`. Stale-while-revalidate refetches count as requests, as `record` writes them as their own rows.", |e| Cell::Int(e.totals.requests)),
    metric("hits", Unit::Count, "Reads (GET, GETEX, ...) that found their key; reads are hits + misses.", |e| Cell::Int(e.totals.hits)),
    metric("misses", Unit::Count, "Reads that did not find their key.", |e| Cell::Int(e.totals.misses)),
    metric("hit_ratio", Unit::Ratio, "hits / (hits + misses) over all namespaces; empty with no reads.", |e| Cell::Ratio(e.totals.hits, e.totals.hits + e.totals.misses)),
    metric("keyspace_hits", Unit::Count, "Redis's own INFO stats keyspace_hits over the measured part: key lookups by reading commands (GET, MGET, GETEX, GETDEL, EXISTS, TTL, ...) that found the key; INCR, SET and EXPIRE do not count. Compare with the server a capture came from.", |e| Cell::Int(e.store.stats().keyspace_hits - e.rec.keyspace_at_start.0)),
    metric("keyspace_misses", Unit::Count, "Redis's own INFO stats keyspace_misses over the measured part (see keyspace_hits).", |e| Cell::Int(e.store.stats().keyspace_misses - e.rec.keyspace_at_start.1)),
    metric("misses_cold", Unit::Count, "Misses of keys never written, or deleted by a client.", |e| Cell::Int(e.totals.misses_cold)),
    metric("misses_expired", Unit::Count, "Misses of keys that had expired.", |e| Cell::Int(e.totals.misses_expired)),
    metric("misses_evicted", Unit::Count, "Misses of keys that had been evicted.", |e| Cell::Int(e.totals.misses_evicted)),
    metric("evicted_keys", Unit::Count, "Keys evicted by maxmemory.", |e| Cell::Int(e.totals.evicted)),
    metric("evicted_premature", Unit::Count, "Evicted keys whose TTL had not run out (or that had none).", |e| Cell::Int(e.rec.evicted_premature)),
    metric("expired_keys", Unit::Count, "Keys removed by expiry, lazy or active.", |e| Cell::Int(e.totals.expired)),
    metric("expired_lazy", Unit::Count, "Keys removed by lazy expiry (an access found them expired).", |e| Cell::Int(e.rec.expired_lazy)),
    metric("expired_active", Unit::Count, "Keys removed by the active expire cycle.", |e| Cell::Int(e.rec.expired_active)),
    metric("writes_not_admitted", Unit::Count, "Under the objects memory model, writes of a key larger than maxmemory, which are not stored (as libCacheSim does not admit them); whole run, warm-up included.", |e| Cell::Int(e.store.stats().writes_not_admitted)),
    metric("policy_memory_bytes", Unit::Bytes, "Simulator memory of a reference policy's own structures (orderings, ghost lists, sketches) at the end of the run; not part of used_memory, 0 for Redis's policies.", |e| Cell::Int(e.store.policy_overhead_bytes())),
    metric("oom_rejections", Unit::Count, "Write commands refused with Redis's OOM error.", |e| Cell::Int(e.rec.oom_rejections)),
    metric("used_memory_mean", Unit::Bytes, "Mean of the sampled used_memory (the model of Redis's INFO used_memory).", |e| Cell::Float(e.rec.memory_stats().0.round())),
    metric("used_memory_p99", Unit::Bytes, "99th percentile of the sampled used_memory.", |e| Cell::Int(e.rec.memory_stats().1)),
    metric("used_memory_peak", Unit::Bytes, "Peak used_memory, checked after every command and cron tick.", |e| Cell::Int(e.rec.used_memory_peak)),
    metric("live_memory_mean", Unit::Bytes, "Mean sampled memory of keys not logically expired.", |e| Cell::Float(e.rec.memory_stats().2.round())),
    metric("stale_keys_peak", Unit::Count, "Peak sampled count of keys logically expired but still resident.", |e| Cell::Int(e.rec.stale_keys_peak)),
    metric("stale_memory_mean", Unit::Bytes, "Mean sampled memory of expired-but-resident keys.", |e| Cell::Float(e.rec.memory_stats().3.round())),
    metric("stale_memory_peak", Unit::Bytes, "Peak sampled memory of expired-but-resident keys.", |e| Cell::Int(e.rec.stale_memory_peak)),
    metric("expiry_lag_mean_ms", Unit::Ms, "Mean expiry lag: removal time minus logical expiry time, over expired keys.", |e| Cell::Float(e.rec.lag_stats().0)),
    metric("expiry_lag_p50_ms", Unit::Ms, "Median expiry lag.", |e| Cell::Float(e.rec.lag_stats().1)),
    metric("expiry_lag_p99_ms", Unit::Ms, "99th percentile of the expiry lag.", |e| Cell::Float(e.rec.lag_stats().2)),
    metric("expiry_lag_max_ms", Unit::Ms, "Longest expiry lag.", |e| Cell::Float(e.rec.lag_stats().3)),
    metric("never_reclaimed_keys", Unit::Count, "Keys expired but still resident when the run ended.", |e| Cell::Int(e.store.stale().0)),
    metric("expire_time_cap_reached", Unit::Count, "Active expire cycles that stopped at their CPU-time cap (Redis's expired_time_cap_reached_count).", |e| Cell::Int(e.store.stats().expired_time_cap_reached_count)),
    metric("blocked_ms_max", Unit::Ms, "Longest modelled stretch the server was blocked (an expire cycle, or eviction in one command).", |e| Cell::Float(e.rec.blocked_max_us as f64 / 1000.0)),
    metric("blocked_ms_per_s", Unit::MsPerSecond, "Modelled blocked time per simulated second.", |e| Cell::Float(e.per_s(e.rec.blocked_total_us as f64 / 1000.0))),
    metric("commands", Unit::Count, "Redis commands sent to the store after the warm-up: requests plus cache fills.", |e| Cell::Int(e.totals.commands)),
    metric("sim_ops", Unit::Count, "Redis commands sent to the store over the whole run, warm-up included (`commands` counts only the measured part).", |e| Cell::Int(e.rec.sim_ops)),
    metric("expired_keys_per_s_peak", Unit::PerSecond, "Peak rate of expiry (lazy + active) over the sample intervals: how hard a mass expiry hits.", |e| Cell::Float(expired_per_s_peak(e))),
];

/// Per-namespace metrics, as `<ns>_<name>` after [`METRICS`].
pub const NS_METRICS: &[NsColumn] = &[
    ns_metric(
        "hit_ratio",
        Unit::Ratio,
        "The namespace's hits / (hits + misses); empty with no reads.",
        |n, _| Cell::Ratio(n.total.hits, n.total.hits + n.total.misses),
    ),
    ns_metric(
        "requests",
        Unit::Count,
        "The namespace's client requests (cache fills excluded).",
        |n, _| Cell::Int(n.total.requests),
    ),
    ns_metric(
        "hits",
        Unit::Count,
        "The namespace's reads that hit.",
        |n, _| Cell::Int(n.total.hits),
    ),
    ns_metric(
        "misses",
        Unit::Count,
        "The namespace's reads that missed.",
        |n, _| Cell::Int(n.total.misses),
    ),
    ns_metric(
        "misses_expired",
        Unit::Count,
        "The namespace's misses of expired keys.",
        |n, _| Cell::Int(n.total.misses_expired),
    ),
    ns_metric(
        "misses_evicted",
        Unit::Count,
        "The namespace's misses of evicted keys.",
        |n, _| Cell::Int(n.total.misses_evicted),
    ),
    ns_metric(
        "evicted_keys",
        Unit::Count,
        "The namespace's keys evicted.",
        |n, _| Cell::Int(n.total.evicted),
    ),
    ns_metric(
        "expired_keys",
        Unit::Count,
        "The namespace's keys removed by expiry.",
        |n, _| Cell::Int(n.total.expired),
    ),
    ns_metric(
        "oom_rejections",
        Unit::Count,
        "The namespace's writes refused with OOM.",
        |n, _| Cell::Int(n.total.oom),
    ),
    ns_metric(
        "keys_mean",
        Unit::Count,
        "Mean sampled count of the namespace's resident keys.",
        |n, e| {
            Cell::Float(if e.rec.samples() > 0 {
                n.resident_sum / e.rec.samples() as f64
            } else {
                0.0
            })
        },
    ),
    ns_metric(
        "created_per_s",
        Unit::PerSecond,
        "Keys of the namespace created (written while absent) per second.",
        |n, e| Cell::Float(n.total.created as f64 / e.measured_s.max(1e-9)),
    ),
    ns_metric(
        "residence_mean_s",
        Unit::Seconds,
        "Mean time a key of the namespace stayed resident, creation to removal.",
        |n, _| {
            Cell::Float(
                if n.total.removed == 0 {
                    0.0
                } else {
                    n.total.residence_us as f64 / n.total.removed as f64
                } / 1e6,
            )
        },
    ),
];

impl Row {
    /// Appends a schema cell.
    pub fn cell(&mut self, name: impl Into<String>, c: Cell) {
        match c {
            Cell::Int(v) => self.put(name, v),
            Cell::Float(v) => self.float(name, v),
            Cell::Ratio(n, d) => self.ratio(name, n, d),
            Cell::Text(t) => self.put(name, t),
        }
    }
}

/// The parameter columns of a run's `runs.csv` row: [`PARAMS`], then the
/// source's `source_params`. `grid.csv` is made of these too, so both files
/// name and measure a parameter the same way.
pub fn param_row(p: &RunParams, source_params: Vec<(String, String)>) -> Row {
    let mut row = Row::default();
    for c in PARAMS {
        row.cell(c.col.name, (c.value)(p));
    }
    row.0.extend(source_params);
    row
}

/// A run's `runs.csv` row: [`param_row`], then [`METRICS`], then
/// [`NS_METRICS`] per namespace. The caller appends outcomes.
pub fn run_row(p: &RunParams, source_params: Vec<(String, String)>, e: &RunEnd) -> Row {
    let mut row = param_row(p, source_params);
    for c in METRICS {
        row.cell(c.col.name, (c.value)(e));
    }
    for n in &e.rec.ns {
        for c in NS_METRICS {
            row.cell(format!("{}_{}", n.col, c.col.name), (c.value)(n, e));
        }
    }
    row
}

/// True for a parameter column: a [`PARAMS`] entry (not the id) or a
/// source parameter (`param_*`).
pub fn is_param(name: &str) -> bool {
    name.starts_with("param_")
        || PARAMS
            .iter()
            .any(|c| c.col.kind == Kind::Param && c.col.name == name)
}

/// True for a whole-run metric of [`METRICS`], never a namespace's column
/// even when a namespace shares its prefix.
pub fn is_core_metric(name: &str) -> bool {
    METRICS.iter().any(|c| c.col.name == name)
}

/// Outcome columns a client pattern writes, as `<ns>_<name>`.
pub type Outcomes = &'static [Column];

/// The documentation of a `runs.csv` column, given the namespaces' column
/// prefixes and each pattern's outcomes; `None` for an undocumented column.
pub fn describe(name: &str, ns_prefixes: &[&str], outcomes: &[Outcomes]) -> Option<Column> {
    if let Some(c) = PARAMS
        .iter()
        .map(|c| c.col)
        .chain(METRICS.iter().map(|c| c.col))
        .find(|c| c.name == name)
    {
        return Some(c);
    }
    if let Some(c) = outcomes
        .iter()
        .flat_map(|o| o.iter())
        .find(|c| c.name == name)
    {
        return Some(*c);
    }
    if name.starts_with("param_") {
        return Some(col(
            "param_*",
            Unit::Setting,
            Kind::Param,
            "A pattern or trace parameter, `param_<namespace>_<field>` as in docs/workloads.md: a distribution or arrival is split into `<field>_kind` and one column per parameter (`param_cache_popularity_s`); units are suffixes (`_s` durations in seconds, `_bytes`, `_per_s`); `<arrival>_mean_per_s` is the mean arrival rate over the run; an absent optional field is an empty cell.",
        ));
    }
    for p in ns_prefixes {
        let Some(suffix) = name.strip_prefix(p).and_then(|s| s.strip_prefix('_')) else {
            continue;
        };
        let found = NS_METRICS
            .iter()
            .map(|c| c.col)
            .chain(outcomes.iter().flat_map(|o| o.iter().copied()))
            .find(|c| c.name == suffix);
        if found.is_some() {
            return found;
        }
    }
    None
}

/// `docs/columns.md`: every column with its unit and meaning; `outcomes`
/// lists each pattern kind's outcome columns.
pub fn markdown(outcomes: &[(&str, Outcomes)]) -> String {
    let mut s = String::from(
        "# runs.csv columns\n\n\
         Generated from `src/metrics/schema.rs` (the test `columns_doc_is_current` fails when this file is stale; \
         run it with `TTLSIM_BLESS=1` to rewrite it). One row per run; the columns come in this order.\n\n",
    );
    let table = |s: &mut String, cols: &mut dyn Iterator<Item = Column>, prefix: &str| {
        s.push_str("| column | unit | meaning |\n|---|---|---|\n");
        for c in cols {
            s.push_str(&format!(
                "| `{prefix}{}` | {} | {} |\n",
                c.name,
                c.unit.name(),
                c.description
            ));
        }
        s.push('\n');
    };
    s.push_str("## Identity and server settings\n\n");
    table(&mut s, &mut PARAMS.iter().map(|c| c.col), "");
    s.push_str(
        "## Source parameters\n\nA workload writes `param_<namespace>_<field>` for each pattern field \
         (see docs/workloads.md); a trace replay writes `param_trace_file` and `param_trace_fill`.\n\n\
         A sweep's `grid.csv` is `run_id` and the parameter columns above that the sweep changes \
         (a value that differs between two runs or from the workload file), with the same names, \
         units and values, one row per run of the whole grid, written before any run starts.\n\n",
    );
    s.push_str("## Whole-run metrics\n\nAll exclude the warm-up except `sim_ops`.\n\n");
    table(&mut s, &mut METRICS.iter().map(|c| c.col), "");
    s.push_str("## Per namespace\n\nFor each namespace (key prefix) `<ns>`:\n\n");
    table(&mut s, &mut NS_METRICS.iter().map(|c| c.col), "<ns>_");
    s.push_str(
        "## Pattern outcomes\n\nEach pattern adds its outcomes under its namespace's prefix: what its \
         clients lived through; *harm* marks a failure a user would notice.\n\n",
    );
    for (kind, cols) in outcomes {
        let prefix = if kind.starts_with("trace") {
            ""
        } else {
            "<ns>_"
        };
        s.push_str(&format!("### `{kind}`\n\n"));
        table(&mut s, &mut cols.iter().copied(), prefix);
    }
    series_markdown(&mut s);
    s
}

/// An outcome column of a pattern (a count unless `unit` says otherwise).
pub const fn outcome(name: &'static str, unit: Unit, description: &'static str) -> Column {
    col(name, unit, Kind::Metric, description)
}

/// How a `timeseries.csv` metric reads over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesKind {
    /// A count over the interval since the previous sample (the first one
    /// since the warm-up ended).
    PerInterval,
    /// A level read at the sample time.
    Level,
}

impl SeriesKind {
    /// The kind as `docs/columns.md` writes it.
    pub fn name(self) -> &'static str {
        match self {
            SeriesKind::PerInterval => "per interval",
            SeriesKind::Level => "level",
        }
    }
}

/// A `timeseries.csv` metric's documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Series {
    /// The `metric` cell.
    pub name: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// A per-interval count or a level.
    pub kind: SeriesKind,
    /// One sentence on what it means.
    pub description: &'static str,
}

const fn series(
    name: &'static str,
    unit: Unit,
    kind: SeriesKind,
    description: &'static str,
) -> Series {
    Series {
        name,
        unit,
        kind,
        description,
    }
}

/// Whole-server `timeseries.csv` metrics (empty `namespace`), in the order
/// the recorder writes them.
pub const SERIES: &[Series] = &[
    series(
        "keys",
        Unit::Count,
        SeriesKind::Level,
        "Keys in the keyspace (Redis's DBSIZE), expired-but-unreclaimed ones included.",
    ),
    series(
        "volatile_keys",
        Unit::Count,
        SeriesKind::Level,
        "Keys with a TTL (INFO keyspace `expires`).",
    ),
    series(
        "stale_keys",
        Unit::Count,
        SeriesKind::Level,
        "Keys logically expired but still resident.",
    ),
    series(
        "used_memory",
        Unit::Bytes,
        SeriesKind::Level,
        "The model of Redis's INFO used_memory.",
    ),
    series(
        "live_memory",
        Unit::Bytes,
        SeriesKind::Level,
        "Memory of the keys not logically expired.",
    ),
    series(
        "stale_memory",
        Unit::Bytes,
        SeriesKind::Level,
        "Memory of the expired-but-resident keys.",
    ),
    series(
        "hits",
        Unit::Count,
        SeriesKind::PerInterval,
        "Reads that found their key.",
    ),
    series(
        "misses",
        Unit::Count,
        SeriesKind::PerInterval,
        "Reads that did not find their key.",
    ),
    series(
        "evictions",
        Unit::Count,
        SeriesKind::PerInterval,
        "Keys evicted by maxmemory.",
    ),
    series(
        "expirations",
        Unit::Count,
        SeriesKind::PerInterval,
        "Keys removed by expiry, lazy or active.",
    ),
    series(
        "blocked_ms",
        Unit::Ms,
        SeriesKind::PerInterval,
        "Modelled time the server was blocked (expire cycles, eviction within a command).",
    ),
];

/// Per-namespace `timeseries.csv` metrics (`namespace` = the key prefix),
/// in the order the recorder writes them.
pub const NS_SERIES: &[Series] = &[
    series(
        "keys",
        Unit::Count,
        SeriesKind::Level,
        "The namespace's resident keys, expired-but-unreclaimed ones included.",
    ),
    series(
        "hits",
        Unit::Count,
        SeriesKind::PerInterval,
        "The namespace's reads that found their key.",
    ),
    series(
        "misses",
        Unit::Count,
        SeriesKind::PerInterval,
        "The namespace's reads that did not.",
    ),
    series(
        "evictions",
        Unit::Count,
        SeriesKind::PerInterval,
        "The namespace's keys evicted.",
    ),
    series(
        "expirations",
        Unit::Count,
        SeriesKind::PerInterval,
        "The namespace's keys removed by expiry.",
    ),
];

/// The documentation of a `timeseries.csv` metric, whole-server when
/// `namespace` is empty; `None` for an undocumented one.
pub fn describe_series(metric: &str, namespace: &str) -> Option<Series> {
    let list = if namespace.is_empty() {
        SERIES
    } else {
        NS_SERIES
    };
    list.iter().find(|s| s.name == metric).copied()
}

fn series_markdown(s: &mut String) {
    s.push_str(
        "# timeseries.csv metrics\n\n\
         Long format: one row per `run_id`, `time_ms` (ms from the start of the run, sampled \
         every sample interval after the warm-up), `metric`, `namespace` and `value`. \
         A *per interval* metric counts what happened since the previous sample; \
         a *level* is the value at the sample time.\n\n",
    );
    for (title, list) in [
        ("Whole server (`namespace` empty)", SERIES),
        ("Per namespace (`namespace` = the key prefix)", NS_SERIES),
    ] {
        s.push_str(&format!(
            "## {title}\n\n| metric | unit | kind | meaning |\n|---|---|---|---|\n"
        ));
        for m in list {
            s.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                m.name,
                m.unit.name(),
                m.kind.name(),
                m.description
            ));
        }
        s.push('\n');
    }
}
