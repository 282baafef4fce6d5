//! Reading a sweep's CSV files back: `runs.csv` as a generic table whose
//! columns are discovered, not hard-coded, so the report keeps working as the
//! engine grows new metrics.

use anyhow::{bail, Context, Result};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::metrics::schema;

/// Compare two cell values: numerically when both parse as numbers, else as text.
pub fn cmp_values(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        _ => a.cmp(b),
    }
}

/// `runs.csv`: one row per run, all cells kept as text.
#[derive(Debug, Clone)]
pub struct RunsTable {
    /// Column names in file order.
    pub columns: Vec<String>,
    /// The rows, each as long as `columns`.
    pub rows: Vec<Vec<String>>,
    index: HashMap<String, usize>,
}

impl RunsTable {
    /// Read `runs.csv` from `path`.
    pub fn read(path: &Path) -> Result<RunsTable> {
        let mut rdr = csv::Reader::from_path(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let columns: Vec<String> = rdr
            .headers()
            .with_context(|| format!("{}: bad header", path.display()))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.with_context(|| format!("{}: bad row {}", path.display(), i + 2))?;
            rows.push(rec.iter().map(str::to_string).collect());
        }
        if rows.is_empty() {
            bail!("{} has no runs", path.display());
        }
        super::validate::check(path, &columns, &rows)?;
        Ok(RunsTable::new(columns, rows))
    }

    /// A table from columns and rows (used by tests).
    pub fn new(columns: Vec<String>, rows: Vec<Vec<String>>) -> RunsTable {
        let index = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i))
            .collect();
        RunsTable {
            columns,
            rows,
            index,
        }
    }

    /// The index of column `name`.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// The cell of `row` in column `name`, or "" when the column is absent.
    pub fn get<'a>(&'a self, row: &'a [String], name: &str) -> &'a str {
        self.col(name).map(|c| row[c].as_str()).unwrap_or("")
    }

    /// Whether a column is a run parameter (a server setting or a pattern
    /// parameter) rather than a metric or the run id.
    pub fn is_param(name: &str) -> bool {
        schema::is_param(name)
    }

    /// Parameter columns whose value differs between runs, in file order
    /// (`seed` included when it varies).
    pub fn swept_params(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| Self::is_param(c) && self.distinct(c).len() > 1)
            .cloned()
            .collect()
    }

    /// The distinct values of column `name`, sorted numerically where possible.
    pub fn distinct(&self, name: &str) -> Vec<String> {
        let Some(c) = self.col(name) else {
            return Vec::new();
        };
        let mut v: Vec<String> = self.rows.iter().map(|r| r[c].clone()).collect();
        v.sort_by(|a, b| cmp_values(a, b));
        v.dedup();
        v
    }

    /// Namespaces, discovered from their `<ns>_hit_ratio` columns.
    pub fn namespaces(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| !schema::is_core_metric(c) && !Self::is_param(c))
            .filter_map(|c| c.strip_suffix("_hit_ratio"))
            .filter(|ns| !ns.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// A namespace's metric columns (`<ns>_hit_ratio` first, then its pattern
    /// outcomes in file order).
    pub fn outcome_columns(&self, ns: &str) -> Vec<String> {
        let prefix = format!("{ns}_");
        let hr = format!("{ns}_hit_ratio");
        let mut out = vec![hr.clone()];
        out.extend(
            self.columns
                .iter()
                .filter(|c| c.starts_with(&prefix) && **c != hr)
                .filter(|c| !schema::is_core_metric(c) && !Self::is_param(c))
                .cloned(),
        );
        out.retain(|c| self.col(c).is_some());
        out
    }

    /// Rows matching every `(column, value)` in `filter`.
    pub fn select<'a>(
        &'a self,
        filter: &'a [(String, String)],
    ) -> impl Iterator<Item = &'a Vec<String>> + 'a {
        let f: Vec<(usize, &str)> = filter
            .iter()
            .filter_map(|(c, v)| self.col(c).map(|i| (i, v.as_str())))
            .collect();
        self.rows
            .iter()
            .filter(move |r| f.iter().all(|(i, v)| r[*i] == *v))
    }

    /// Aggregate `metric` over the rows matching `filter`, grouped by the
    /// values of `keys` (replications, e.g. seeds, fall into one group).
    pub fn aggregate(
        &self,
        metric: &str,
        keys: &[&str],
        filter: &[(String, String)],
    ) -> BTreeMap<GroupKey, Stats> {
        let mut groups: BTreeMap<GroupKey, Vec<f64>> = BTreeMap::new();
        let Some(m) = self.col(metric) else {
            return BTreeMap::new();
        };
        let kc: Vec<Option<usize>> = keys.iter().map(|k| self.col(k)).collect();
        for r in self.select(filter) {
            let Ok(v) = r[m].parse::<f64>() else { continue };
            if !v.is_finite() {
                continue;
            }
            let key = GroupKey(
                kc.iter()
                    .map(|c| c.map(|c| r[c].clone()).unwrap_or_default())
                    .collect(),
            );
            groups.entry(key).or_default().push(v);
        }
        groups
            .into_iter()
            .map(|(k, v)| (k, Stats::of(&v)))
            .collect()
    }
}

/// A group's key: one value per grouping column, ordered numerically where
/// the values are numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupKey(pub Vec<String>);

impl Ord for GroupKey {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.0.iter().zip(&other.0) {
            match cmp_values(a, b) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        self.0.len().cmp(&other.0.len())
    }
}

impl PartialOrd for GroupKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Summary of replicated measurements (one per seed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Sample standard deviation (0 for a single value).
    pub sd: f64,
}

impl Stats {
    /// Summarise a non-empty slice.
    pub fn of(v: &[f64]) -> Stats {
        let n = v.len();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Stats {
            n,
            mean,
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            sd: var.sqrt(),
        }
    }
}

/// One point of `timeseries.csv` for the whole server (empty namespace).
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Simulated time in ms.
    pub time_ms: f64,
    /// The value.
    pub value: f64,
}

/// Read the whole-server series of `metrics` for the runs in `run_ids` from
/// `timeseries.csv`: `(run_id, metric) -> samples in time order`.
pub fn read_timeseries(
    path: &Path,
    run_ids: &[String],
    metrics: &[&str],
) -> Result<HashMap<(String, String), Vec<Sample>>> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let h = rdr.headers()?.clone();
    let pos = |n: &str| {
        h.iter()
            .position(|c| c == n)
            .with_context(|| format!("{}: no column {n}", path.display()))
    };
    let (ci, ct, cm, cn, cv) = (
        pos("run_id")?,
        pos("time_ms")?,
        pos("metric")?,
        pos("namespace")?,
        pos("value")?,
    );
    let mut out: HashMap<(String, String), Vec<Sample>> = HashMap::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec)? {
        if !rec[cn].is_empty()
            || !metrics.contains(&&rec[cm])
            || !run_ids.iter().any(|r| *r == rec[ci])
        {
            continue;
        }
        let (Ok(t), Ok(v)) = (rec[ct].parse::<f64>(), rec[cv].parse::<f64>()) else {
            continue;
        };
        out.entry((rec[ci].to_string(), rec[cm].to_string()))
            .or_default()
            .push(Sample {
                time_ms: t,
                value: v,
            });
    }
    for s in out.values_mut() {
        s.sort_by(|a, b| a.time_ms.total_cmp(&b.time_ms));
    }
    Ok(out)
}

/// One bin of the expiry-lag histogram in `expiry_lag.csv`.
#[derive(Debug, Clone)]
pub struct LagBin {
    /// The run.
    pub run_id: String,
    /// `lazy` or `active`.
    pub kind: String,
    /// Lower bound of the bin, ms.
    pub low: f64,
    /// Upper bound of the bin, ms.
    pub high: f64,
    /// Keys whose expiry lag fell in the bin.
    pub count: f64,
}

/// Read every bin of `expiry_lag.csv`.
pub fn read_latency(path: &Path) -> Result<Vec<LagBin>> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let h = rdr.headers()?.clone();
    let pos = |n: &str| {
        h.iter()
            .position(|c| c == n)
            .with_context(|| format!("{}: no column {n}", path.display()))
    };
    let (ci, ck, cl, ch, cc) = (
        pos("run_id")?,
        pos("kind")?,
        pos("lag_ms_low")?,
        pos("lag_ms_high")?,
        pos("count")?,
    );
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: bad row {}", path.display(), i + 2))?;
        let num = |c: usize| rec[c].parse::<f64>().ok();
        if let (Some(low), Some(high), Some(count)) = (num(cl), num(ch), num(cc)) {
            out.push(LagBin {
                run_id: rec[ci].to_string(),
                kind: rec[ck].to_string(),
                low,
                high,
                count,
            });
        }
    }
    Ok(out)
}
