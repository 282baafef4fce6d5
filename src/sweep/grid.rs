//! The grid: named dimensions, each a list of values, and their product.
//!
//! A dimension is named by what it changes in the workload file:
//!
//! - a server setting by its Redis config name (`maxmemory`,
//!   `maxmemory-policy`, `hz`, …) — `[server]` in the file;
//! - `seed`, `duration` or `warmup` — top-level keys;
//! - a pattern parameter as `<namespace>.<field>` (`cache.ttl`,
//!   `session.ttl`) — the field of the `[[pattern]]` with that namespace.
//!
//! Values are TOML values, so a `[sweep]` table is written as the workload's
//! own fields are (`"cache.ttl" = ["1m", "5m", "15m"]`). Special values:
//! `maxmemory = "50%"` is half the workload's unbounded peak `used_memory`
//! (found by one pilot run), `seed = "1..5"` is the seeds 1 to 5, and
//! `maxmemory-policy` takes groups of policies beside their names
//! ([`POLICY_GROUPS`], case-insensitive, mixed freely with names as in
//! `allkeys-lru,references`):
//!
//! - `all`: Redis's eight policies ([`Policy::REDIS`]);
//! - `references`: every reference policy ([`Policy::REFERENCE`]) except
//!   those that need the future ([`Policy::needs_future`], i.e. `belady`).
//!   A sweep plays a workload file, whose generated requests have no future
//!   to read, and the grid is built before it knows what it plays; so
//!   `belady` is never implied by a group, and naming it explicitly makes
//!   the sweep stop with the engine's "needs the future: use it with
//!   --trace" error;
//! - `all+references`: `all`, then `references`.
//!
//! After expansion a policy listed more than once runs once, at its first
//! position, and the sweep says so on stderr
//! (`maxmemory-policy: allkeys-lru listed twice; running it once`).
//!
//! Dimensions are put in a fixed order whatever order they were given in
//! (server settings in `CONFIG GET` order, then top-level keys, then pattern
//! parameters by name, then `seed`), and the last varies fastest, so run
//! indices — and so `run_id`s — depend only on the grid's content.

use crate::store::{config, Policy};
use anyhow::{bail, Context, Result};
use std::fmt;

/// Default limit on the number of runs in one grid.
pub const DEFAULT_MAX_RUNS: u64 = 100_000;

const TOP_LEVEL: [&str; 3] = ["duration", "warmup", "seed"];

/// One swept parameter and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Dimension {
    /// Canonical name (`maxmemory-policy`, `cache.ttl`, `seed`).
    pub name: String,
    /// The values, in the order given.
    pub values: Vec<toml::Value>,
}

/// Where a dimension's values go in the workload file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// `[server]`, by Redis config name.
    Server(&'a str),
    /// A top-level key (`seed`, `duration`, `warmup`).
    Top(&'a str),
    /// Field `.1` of the pattern with namespace `.0`.
    Pattern(&'a str, &'a str),
}

impl Dimension {
    /// What the dimension changes.
    pub fn target(&self) -> Target<'_> {
        if TOP_LEVEL.contains(&self.name.as_str()) {
            Target::Top(&self.name)
        } else if let Some((ns, field)) = self.name.split_once('.') {
            Target::Pattern(ns, field)
        } else {
            Target::Server(&self.name)
        }
    }

    fn rank(&self) -> (usize, usize, String) {
        match self.target() {
            Target::Server(n) => (
                0,
                config::NAMES.iter().position(|x| *x == n).unwrap_or(99),
                String::new(),
            ),
            Target::Top("seed") => (3, 0, String::new()),
            Target::Top(n) => (
                1,
                TOP_LEVEL.iter().position(|x| *x == n).unwrap_or(0),
                String::new(),
            ),
            Target::Pattern(..) => (2, 0, self.name.clone()),
        }
    }
}

/// Canonical dimension name: `maxmemory_policy` → `maxmemory-policy`;
/// `session_ttl` is not guessed at, a pattern parameter needs its dot.
pub fn canonical_name(name: &str) -> Result<String> {
    let n = name.trim();
    if let Some((ns, field)) = n.split_once('.') {
        if ns.is_empty() || field.is_empty() || field.contains('.') {
            bail!("sweep parameter `{n}`: a pattern parameter is `<namespace>.<field>`, such as `cache.ttl`");
        }
        return Ok(n.to_string());
    }
    let dashed = n.replace('_', "-").to_ascii_lowercase();
    if config::NAMES.contains(&dashed.as_str()) {
        return Ok(dashed);
    }
    if TOP_LEVEL.contains(&n) {
        return Ok(n.to_string());
    }
    bail!(
        "unknown sweep parameter `{n}`: expected a server setting ({}), {}, or a pattern parameter as `<namespace>.<field>`",
        config::NAMES.join(", "),
        TOP_LEVEL.join(", ")
    )
}

/// A value as text (strings unquoted), for CSV cells and messages.
pub fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A command-line value as the TOML value a workload file would hold:
/// integers, floats and booleans are typed, anything else is a string.
pub fn infer_value(s: &str) -> toml::Value {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        toml::Value::Integer(i)
    } else if let Ok(f) = t.parse::<f64>() {
        toml::Value::Float(f)
    } else if t == "true" || t == "false" {
        toml::Value::Boolean(t == "true")
    } else {
        toml::Value::String(t.to_string())
    }
}

/// The group names `maxmemory-policy` accepts besides policy names.
pub const POLICY_GROUPS: [&str; 3] = ["all", "references", "all+references"];

/// The policies a group name stands for (case-insensitive), or `None` if
/// `name` is not a group: see the [module docs](self) for why `references`
/// leaves out the policies that need the future.
pub fn policy_group(name: &str) -> Option<Vec<Policy>> {
    let redis = || Policy::REDIS.into_iter();
    let references = || Policy::REFERENCE.into_iter().filter(|p| !p.needs_future());
    match name.trim().to_ascii_lowercase().as_str() {
        "all" => Some(redis().collect()),
        "references" => Some(references().collect()),
        "all+references" => Some(redis().chain(references()).collect()),
        _ => None,
    }
}

/// Expand `maxmemory-policy` values: groups become their policies, names
/// their canonical (lower-case) spelling, and a policy named more than once
/// is kept at its first position. Returns the values and one note per
/// duplicate (`maxmemory-policy: allkeys-lru listed twice; running it once`).
pub fn expand_policies(values: &[toml::Value]) -> Result<(Vec<toml::Value>, Vec<String>)> {
    let mut listed: Vec<(Policy, usize)> = Vec::new();
    for v in values {
        let text = show(v);
        let policies = match policy_group(&text) {
            Some(group) => group,
            None => match (v, Policy::parse(text.trim())) {
                (toml::Value::String(_), Ok(p)) => vec![p],
                _ => bail!(
                    "maxmemory-policy `{text}` is not a policy or a group; policies: {}; groups: {}",
                    Policy::ALL.map(|p| p.name()).join(", "),
                    POLICY_GROUPS.join(", ")
                ),
            },
        };
        for p in policies {
            match listed.iter_mut().find(|(q, _)| *q == p) {
                Some((_, n)) => *n += 1,
                None => listed.push((p, 1)),
            }
        }
    }
    let notes = listed
        .iter()
        .filter(|(_, n)| *n > 1)
        .map(|(p, n)| {
            let times = if *n == 2 {
                "twice".to_string()
            } else {
                format!("{n} times")
            };
            format!(
                "maxmemory-policy: {} listed {times}; running it once",
                p.name()
            )
        })
        .collect();
    let values = listed
        .iter()
        .map(|(p, _)| toml::Value::String(p.name().into()))
        .collect();
    Ok((values, notes))
}

/// Expand the special values of a dimension (policy groups, `a..b`) and
/// check the ones that can be checked without the workload; also returns
/// notes for the user (duplicate policies).
fn expand(name: &str, values: Vec<toml::Value>) -> Result<(Vec<toml::Value>, Vec<String>)> {
    if name == "maxmemory-policy" {
        return expand_policies(&values);
    }
    let mut out = Vec::new();
    for v in values {
        match (name, &v) {
            ("maxmemory", toml::Value::String(s)) => {
                if let Some(p) = s.strip_suffix('%') {
                    let pct: f64 = p
                        .trim()
                        .parse()
                        .ok()
                        .filter(|x: &f64| x.is_finite() && *x > 0.0)
                        .with_context(|| format!("maxmemory `{s}`: a percentage must be a positive number, such as `50%`"))?;
                    if pct > 1000.0 {
                        bail!(
                            "maxmemory `{s}`: more than 1000% of the unbounded peak is not a limit"
                        );
                    }
                } else if s.trim().starts_with('-') {
                    bail!("maxmemory `{s}` is negative");
                } else if crate::store::memory::parse_memory(s).is_none() {
                    bail!("maxmemory `{s}` is not a memory size (bytes, 100mb, 2gb) or a percentage of the unbounded peak (50%)");
                }
                out.push(v);
            }
            ("maxmemory", toml::Value::Integer(i)) if *i < 0 => bail!("maxmemory {i} is negative"),
            ("seed", toml::Value::String(s)) => {
                let (a, b) = s
                    .split_once("..")
                    .and_then(|(a, b)| {
                        Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?))
                    })
                    .with_context(|| {
                        format!("seed `{s}`: expected an integer or a range such as `1..5`")
                    })?;
                if b < a || b - a >= DEFAULT_MAX_RUNS {
                    bail!("seed range `{s}` is empty or too long");
                }
                out.extend((a..=b).map(|x| toml::Value::Integer(x as i64)));
            }
            ("seed", toml::Value::Integer(i)) if *i < 0 => bail!("seed {i} is negative"),
            // Any other server setting: the checks a workload file gets.
            (n, _) if config::NAMES.contains(&n) => {
                let text = match &v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if let Err(config::ConfigError::BadValue(reason)) =
                    crate::store::Config::default().set_strict(n, &text)
                {
                    bail!("{n} `{text}`: {reason}");
                }
                out.push(v);
            }
            _ => out.push(v),
        }
    }
    Ok((out, Vec::new()))
}

/// The grid: the product of its dimensions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Grid {
    /// Dimensions in canonical order; the last varies fastest.
    pub dims: Vec<Dimension>,
}

impl Grid {
    /// Build a grid from the workload file's `[sweep]` table (if any) and
    /// command-line lists; a command-line dimension replaces the file's
    /// dimension of the same name. Notes on the values (a policy listed
    /// twice) go to stderr; [`Grid::build_with_notes`] returns them instead.
    pub fn build(file_sweep: Option<&toml::Table>, cli: &[(String, Vec<String>)]) -> Result<Grid> {
        let (grid, notes) = Grid::build_with_notes(file_sweep, cli)?;
        for n in notes {
            eprintln!("note: {n}");
        }
        Ok(grid)
    }

    /// [`Grid::build`], returning the notes on the values of the dimensions
    /// it kept rather than printing them.
    pub fn build_with_notes(
        file_sweep: Option<&toml::Table>,
        cli: &[(String, Vec<String>)],
    ) -> Result<(Grid, Vec<String>)> {
        let mut dims: Vec<(Dimension, Vec<String>)> = Vec::new();
        let mut put = |name: String, values: Vec<toml::Value>| -> Result<()> {
            let (values, notes) = expand(&name, values)?;
            dims.retain(|(d, _)| d.name != name);
            dims.push((Dimension { name, values }, notes));
            Ok(())
        };
        if let Some(t) = file_sweep {
            for (k, v) in t {
                match v {
                    toml::Value::Table(sub) => {
                        for (f, v) in sub {
                            put(canonical_name(&format!("{k}.{f}"))?, as_list(v))?;
                        }
                    }
                    v => put(canonical_name(k)?, as_list(v))?,
                }
            }
        }
        for (k, vals) in cli {
            let name = canonical_name(k)?;
            // A server setting keeps its text as typed (Redis parses config
            // values from text, and `1e20` must not come back as
            // `100000000000000000000.0` in a message); other values are typed.
            let server = config::NAMES.contains(&name.as_str());
            let values: Vec<toml::Value> = vals
                .iter()
                .flat_map(|v| v.split(','))
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    if server {
                        toml::Value::String(s.trim().to_string())
                    } else {
                        infer_value(s)
                    }
                })
                .collect();
            if values.is_empty() {
                bail!("the grid is empty: `--{k}` was given no values");
            }
            put(name, values)?;
        }
        dims.sort_by_key(|(d, _)| d.rank());
        for (d, _) in &dims {
            if d.values.is_empty() {
                bail!(
                    "the grid is empty: sweep parameter `{}` has no values",
                    d.name
                );
            }
        }
        let (dims, notes): (Vec<Dimension>, Vec<Vec<String>>) = dims.into_iter().unzip();
        Ok((Grid { dims }, notes.concat()))
    }

    /// Number of runs, or `None` when it overflows.
    pub fn size(&self) -> Option<u64> {
        self.dims
            .iter()
            .try_fold(1u64, |acc, d| acc.checked_mul(d.values.len() as u64))
    }

    /// Refuse an empty or absurdly large grid with a message saying why.
    pub fn check_size(&self, max_runs: u64) -> Result<u64> {
        let n = self.size();
        match n {
            Some(0) => bail!("the grid is empty"),
            Some(n) if n <= max_runs => Ok(n),
            _ => bail!(
                "the grid has {} runs ({}), more than the limit of {max_runs}; shorten the lists or raise --max-runs",
                n.map_or("too many".to_string(), |n| n.to_string()),
                self
            ),
        }
    }

    /// The parameter values of run `index` (0-based), one per dimension.
    pub fn point(&self, index: u64) -> Vec<(&str, &toml::Value)> {
        let mut rest = index;
        let mut out: Vec<(&str, &toml::Value)> = Vec::with_capacity(self.dims.len());
        for d in self.dims.iter().rev() {
            let n = d.values.len() as u64;
            out.push((&d.name, &d.values[(rest % n) as usize]));
            rest /= n;
        }
        out.reverse();
        out
    }

    /// The dimension named `name`.
    pub fn dim_mut(&mut self, name: &str) -> Option<&mut Dimension> {
        self.dims.iter_mut().find(|d| d.name == name)
    }

    /// `grid.csv`: `run_id`, then the `runs.csv` parameter columns the grid
    /// changes, under runs.csv's names, in its units and order: each column
    /// whose value differs between two runs of the grid or from `base` (the
    /// workload as written). One row per run of the whole grid (every shard
    /// writes the same file). `params(i, point)` checks run `i`'s point and
    /// gives its parameter columns; a point that gives other columns than
    /// the first (a swept distribution whose kinds have different
    /// parameters) is refused, since runs.csv has one header.
    pub fn table(
        &self,
        base: &[(String, String)],
        mut params: impl FnMut(u64, &[(&str, &toml::Value)]) -> Result<Vec<(String, String)>>,
    ) -> Result<String> {
        let mut names: Vec<String> = Vec::new();
        let mut rows: Vec<Vec<String>> = Vec::new();
        for i in 0..self.size().unwrap_or(0) {
            let point = self.point(i);
            let cols: Vec<(String, String)> = params(i, &point)?
                .into_iter()
                .filter(|(k, _)| k != "run_id")
                .collect();
            if i == 0 {
                names = cols.iter().map(|(k, _)| k.clone()).collect();
            } else if cols.len() != names.len() || cols.iter().zip(&names).any(|((k, _), n)| k != n)
            {
                let has = |set: &[&String], k: &String| set.contains(&k);
                let theirs: Vec<&String> = cols.iter().map(|(k, _)| k).collect();
                let ours: Vec<&String> = names.iter().collect();
                let only = |a: &[&String], b: &[&String]| -> String {
                    let v: Vec<&str> = a
                        .iter()
                        .filter(|k| !has(b, k))
                        .map(|k| k.as_str())
                        .collect();
                    if v.is_empty() {
                        "none".into()
                    } else {
                        v.join(", ")
                    }
                };
                bail!(
                    "runs.csv has one header, but run {i} ({}) and run 0 ({}) have different parameter columns \
                     (only run {i}: {}; only run 0: {}); sweep values with different parameters, \
                     such as two distribution kinds, as separate experiments",
                    describe_point(&point),
                    describe_point(&self.point(0)),
                    only(&theirs, &ours),
                    only(&ours, &theirs),
                );
            }
            rows.push(cols.into_iter().map(|(_, v)| v).collect());
        }
        let keep: Vec<bool> = names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let first = rows.first().map(|r| &r[j]);
                rows.iter().any(|r| Some(&r[j]) != first)
                    || base.iter().any(|(k, v)| k == name && Some(v) != first)
            })
            .collect();
        let header = std::iter::once("run_id").chain(
            names
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(n, _)| n.as_str()),
        );
        let mut s = crate::units::csv_line(header);
        for (i, row) in rows.iter().enumerate() {
            let values = row
                .iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(v, _)| v.clone());
            s.push_str(&crate::units::csv_line(
                std::iter::once(i.to_string()).chain(values),
            ));
        }
        Ok(s)
    }

    /// Whether any `maxmemory` value is a percentage (needs a pilot run).
    pub fn needs_pilot(&self) -> bool {
        self.dims.iter().any(|d| {
            d.name == "maxmemory"
                && d.values
                    .iter()
                    .any(|v| matches!(v, toml::Value::String(s) if s.ends_with('%')))
        })
    }

    /// Replace every `maxmemory` percentage by bytes of `peak`.
    pub fn resolve_percentages(&mut self, peak: u64) {
        if let Some(d) = self.dim_mut("maxmemory") {
            for v in &mut d.values {
                if let toml::Value::String(s) = v {
                    if let Some(p) = s
                        .strip_suffix('%')
                        .and_then(|p| p.trim().parse::<f64>().ok())
                    {
                        *v = toml::Value::Integer((peak as f64 * p / 100.0).round() as i64);
                    }
                }
            }
        }
    }
}

impl fmt::Display for Grid {
    /// `8 maxmemory-policy × 5 maxmemory × 2 seed`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dims.is_empty() {
            return f.write_str("a single run");
        }
        let parts: Vec<String> = self
            .dims
            .iter()
            .map(|d| format!("{} {}", d.values.len(), d.name))
            .collect();
        f.write_str(&parts.join(" × "))
    }
}

/// `name=value, …`, for messages.
pub fn describe_point(point: &[(&str, &toml::Value)]) -> String {
    point
        .iter()
        .map(|(k, v)| format!("{k}={}", show(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn as_list(v: &toml::Value) -> Vec<toml::Value> {
    match v {
        toml::Value::Array(a) => a.clone(),
        v => vec![v.clone()],
    }
}

/// `K/N` for `--shard`: a 1-based shard number out of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, 1..=n.
    pub k: u64,
    /// Number of shards.
    pub n: u64,
}

impl Shard {
    /// Parse `K/N`.
    pub fn parse(s: &str) -> Result<Shard> {
        let (k, n) = s
            .split_once('/')
            .and_then(|(k, n)| Some((k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)))
            .with_context(|| format!("--shard `{s}`: expected K/N, such as 1/4"))?;
        if n == 0 || k == 0 || k > n {
            bail!("--shard `{s}`: K must be between 1 and N");
        }
        Ok(Shard { k, n })
    }

    /// Whether run `index` belongs to this shard (round robin, so each shard
    /// gets a similar mix of cheap and expensive runs).
    pub fn owns(&self, index: u64) -> bool {
        index % self.n == self.k - 1
    }
}

impl std::str::FromStr for Shard {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Shard> {
        Shard::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(pairs: &[(&str, &str)]) -> Vec<(String, Vec<String>)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
            .collect()
    }

    #[test]
    fn product_order_and_points() {
        let g = Grid::build(
            None,
            &cli(&[
                ("seed", "1,2"),
                ("maxmemory-policy", "allkeys-lru,volatile-lru"),
                ("cache.ttl", "60,300,900"),
            ]),
        )
        .unwrap();
        let names: Vec<&str> = g.dims.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["maxmemory-policy", "cache.ttl", "seed"]);
        assert_eq!(g.size(), Some(12));
        let p = g.point(0);
        assert_eq!(show(p[0].1), "allkeys-lru");
        let p = g.point(11);
        assert_eq!(
            (show(p[0].1), show(p[1].1), show(p[2].1)),
            ("volatile-lru".into(), "900".into(), "2".into())
        );
        assert_eq!(show(g.point(1)[2].1), "2");
    }

    #[test]
    fn table_keeps_the_columns_the_grid_changes() {
        let g = Grid::build(None, &cli(&[("cache.ttl", "1m,5m"), ("hz", "10")])).unwrap();
        let cols = |p: &[(&str, &toml::Value)]| {
            let ttl = match show(p[1].1).as_str() {
                "1m" => "60",
                _ => "300",
            };
            vec![
                ("run_id".to_string(), "x".to_string()),
                ("seed".into(), "1".into()),
                ("hz".into(), show(p[0].1)),
                ("param_cache_ttl_s".into(), ttl.into()),
            ]
        };
        let base = [("hz".to_string(), "10".to_string())];
        let t = g.table(&base, |_, p| Ok(cols(p))).unwrap();
        assert_eq!(t, "run_id,param_cache_ttl_s\n0,60\n1,300\n");
        let base = [("hz".to_string(), "100".to_string())];
        let t = g.table(&base, |_, p| Ok(cols(p))).unwrap();
        assert_eq!(t, "run_id,hz,param_cache_ttl_s\n0,10,60\n1,10,300\n");
        let e = g
            .table(&base, |i, p| {
                let mut c = cols(p);
                c.truncate(3 + i as usize);
                Ok(c)
            })
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("(only run 1: param_cache_ttl_s; only run 0: none)"),
            "{e}"
        );
    }

    #[test]
    fn specials_expand() {
        let g = Grid::build(None, &cli(&[("maxmemory_policy", "all"), ("seed", "1..3")])).unwrap();
        assert_eq!(g.dims[0].values.len(), 8);
        assert_eq!(g.dims[1].values.len(), 3);
        let mut g = Grid::build(None, &cli(&[("maxmemory", "50%,10mb")])).unwrap();
        assert!(g.needs_pilot());
        g.resolve_percentages(1000);
        assert_eq!(show(&g.dims[0].values[0]), "500");
        assert_eq!(show(&g.dims[0].values[1]), "10mb");
    }

    fn policies(g: &Grid) -> Vec<String> {
        g.dims[0].values.iter().map(show).collect()
    }

    fn built(pairs: &[(&str, &str)]) -> (Grid, Vec<String>) {
        Grid::build_with_notes(None, &cli(pairs)).unwrap()
    }

    #[test]
    fn references_is_every_reference_policy_that_needs_no_future() {
        let (g, notes) = built(&[("maxmemory-policy", "references")]);
        assert_eq!(
            policies(&g),
            [
                "exact-lru",
                "exact-lfu",
                "fifo",
                "s3-fifo",
                "sieve",
                "arc",
                "w-tinylfu",
                "lhd",
                "lru-2"
            ]
        );
        assert!(notes.is_empty());
        let expected: Vec<&str> = Policy::REFERENCE
            .iter()
            .filter(|p| !p.needs_future())
            .map(|p| p.name())
            .collect();
        assert_eq!(policies(&g), expected);
    }

    #[test]
    fn all_plus_references_is_redis_then_references() {
        let (g, _) = built(&[("maxmemory-policy", "all+references")]);
        let redis: Vec<&str> = Policy::REDIS.iter().map(|p| p.name()).collect();
        let (refs, _) = built(&[("maxmemory-policy", "references")]);
        assert_eq!(policies(&g)[..8], redis[..]);
        assert_eq!(policies(&g)[8..], policies(&refs)[..]);
    }

    #[test]
    fn groups_are_case_insensitive() {
        for spelling in ["ALL+References", "All+REFERENCES", " all+references "] {
            let (g, _) = built(&[("maxmemory-policy", spelling)]);
            let (want, _) = built(&[("maxmemory-policy", "all+references")]);
            assert_eq!(policies(&g), policies(&want), "{spelling}");
        }
        let (g, _) = built(&[("maxmemory-policy", "REFERENCES,Allkeys-LRU")]);
        assert_eq!(policies(&g).last().unwrap(), "allkeys-lru");
    }

    #[test]
    fn groups_mix_with_names_in_the_order_given() {
        let (g, notes) = built(&[("maxmemory-policy", "allkeys-lru,references,belady")]);
        let p = policies(&g);
        assert_eq!(p.len(), 11);
        assert_eq!((p[0].as_str(), p[1].as_str()), ("allkeys-lru", "exact-lru"));
        assert_eq!(p[10], "belady", "belady is run when named explicitly");
        assert!(notes.is_empty());
    }

    #[test]
    fn a_policy_listed_twice_runs_once_at_its_first_place_with_a_note() {
        let (g, notes) = built(&[("maxmemory-policy", "allkeys-lru,all")]);
        let p = policies(&g);
        assert_eq!(p.len(), 8);
        assert_eq!(p[0], "allkeys-lru");
        assert_eq!(p[1], "noeviction");
        assert_eq!(
            notes,
            ["maxmemory-policy: allkeys-lru listed twice; running it once"]
        );

        let (g, notes) = built(&[("maxmemory-policy", "FIFO,all+references,fifo,all")]);
        assert_eq!(policies(&g).len(), 17);
        assert_eq!(policies(&g)[0], "fifo");
        assert_eq!(notes.len(), 9, "{notes:?}");
        assert_eq!(
            notes[0],
            "maxmemory-policy: fifo listed 3 times; running it once"
        );
        assert_eq!(
            notes[1],
            "maxmemory-policy: noeviction listed twice; running it once"
        );
    }

    #[test]
    fn sweep_table_takes_groups_and_cli_replaces_its_notes() {
        let t: toml::Table =
            toml::from_str("maxmemory-policy = [\"references\", \"Sieve\", \"all\"]\n").unwrap();
        let (g, notes) = Grid::build_with_notes(Some(&t), &[]).unwrap();
        assert_eq!(policies(&g).len(), 17);
        assert_eq!(
            notes,
            ["maxmemory-policy: sieve listed twice; running it once"]
        );
        let (g, notes) =
            Grid::build_with_notes(Some(&t), &cli(&[("maxmemory-policy", "arc,lru-2")])).unwrap();
        assert_eq!(policies(&g), ["arc", "lru-2"]);
        assert!(notes.is_empty(), "the file's list was replaced: {notes:?}");
    }

    #[test]
    fn an_unknown_policy_lists_the_policies_and_the_groups() {
        let e = Grid::build(None, &cli(&[("maxmemory-policy", "allkeys-lru,lru")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "maxmemory-policy `lru` is not a policy or a group; policies: noeviction, \
             allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, \
             volatile-random, volatile-ttl, exact-lru, exact-lfu, fifo, belady, s3-fifo, \
             sieve, arc, w-tinylfu, lhd, lru-2; groups: all, references, all+references"
        );
        let t: toml::Table = toml::from_str("maxmemory-policy = [5]\n").unwrap();
        let e = Grid::build(Some(&t), &[]).unwrap_err().to_string();
        assert!(e.starts_with("maxmemory-policy `5` is not a policy"), "{e}");
    }

    #[test]
    fn file_table_and_cli_override() {
        let t: toml::Table = toml::from_str(
            "maxmemory-policy = \"all\"\nseed = [1, 2]\n[cache]\nttl = [\"1m\", \"5m\"]\n",
        )
        .unwrap();
        let g = Grid::build(Some(&t), &cli(&[("seed", "7")])).unwrap();
        assert_eq!(g.size(), Some(16));
        assert_eq!(g.dims[1].name, "cache.ttl");
        assert_eq!(g.dims[2].values, vec![toml::Value::Integer(7)]);
    }

    #[test]
    fn refusals() {
        assert!(Grid::build(None, &cli(&[("maxmemory-policy", "lru")]))
            .unwrap_err()
            .to_string()
            .contains("allkeys-lru"));
        assert!(Grid::build(None, &cli(&[("colour", "red")])).is_err());
        assert!(Grid::build(None, &cli(&[("seed", ",")]))
            .unwrap_err()
            .to_string()
            .contains("empty"));
        let big = Grid::build(
            None,
            &cli(&[
                ("seed", "1..1000"),
                (
                    "hz",
                    &(1..=200)
                        .map(|i| i.to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                ),
            ]),
        )
        .unwrap();
        let e = big.check_size(DEFAULT_MAX_RUNS).unwrap_err().to_string();
        assert!(e.contains("200000 runs"), "{e}");
        assert!(Shard::parse("3/2").is_err());
        let s = Shard::parse("2/3").unwrap();
        assert!(s.owns(1) && s.owns(4) && !s.owns(0));
    }
}
