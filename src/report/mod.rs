//! `ttlsim report DIR`: every chart and an `index.html`, from a sweep's CSV
//! files alone (`runs.csv`, `timeseries.csv`, `latency.csv`), without
//! simulating again.
//!
//! Columns are discovered rather than hard-coded: the swept parameters are the
//! parameter columns whose values vary across runs, namespaces come from
//! their `<ns>_hit_ratio` columns and a namespace's pattern outcomes are its
//! other `<ns>_*` columns. Replications (the `seed` column) are folded into a
//! mean line with a min–max band.

pub mod charts;
pub mod cli;
pub mod data;
mod html;

use anyhow::{Context, Result};
use charts::{Band, LineFigure, Panel, Series};
use data::{RunsTable, Stats};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the report should emphasise.
#[derive(Debug, Clone)]
pub struct Options {
    /// Hit-ratio target for the "cheapest memory" table.
    pub target: f64,
    /// Policy for the TTL × memory heat map (default: the best on average).
    pub policy: Option<String>,
    /// `run_id`s for the memory-over-time chart (default: chosen to contrast).
    pub runs: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            target: 0.9,
            policy: None,
            runs: Vec::new(),
        }
    }
}

/// What a report wrote.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The PNG files, in the order the page shows them.
    pub charts: Vec<PathBuf>,
    /// Charts not drawn, each with the reason.
    pub skipped: Vec<String>,
    /// The report page.
    pub index: PathBuf,
}

/// A chart on the page.
pub(crate) struct Chart {
    pub file: String,
    pub caption: String,
}

/// The analysis shared by all charts.
pub(crate) struct Ctx {
    pub t: RunsTable,
    pub workload: String,
    /// Swept parameters other than `seed`.
    pub swept: Vec<String>,
    pub seeds: usize,
    pub ttl_params: Vec<String>,
    pub mem_swept: bool,
    pub policy_swept: bool,
    pub grid_text: String,
}

const MEM: &str = "maxmemory";
const POLICY: &str = "maxmemory_policy";
const MIB: f64 = 1024.0 * 1024.0;

impl Ctx {
    fn new(t: RunsTable) -> Ctx {
        let swept_all = t.swept_params();
        let swept: Vec<String> = swept_all.iter().filter(|c| *c != "seed").cloned().collect();
        let seeds = t.distinct("seed").len().max(1);
        let ttl_params = swept
            .iter()
            .filter(|c| c.starts_with("param_") && c.contains("ttl"))
            .cloned()
            .collect();
        let workload = t
            .rows
            .first()
            .map(|r| t.get(r, "workload").to_string())
            .unwrap_or_default();
        let mut parts: Vec<String> = swept
            .iter()
            .map(|c| format!("{} {}", t.distinct(c).len(), short_name(c)))
            .collect();
        if seeds > 1 {
            parts.push(format!("{seeds} seeds"));
        }
        let grid_text = if parts.is_empty() {
            format!("{} runs", t.rows.len())
        } else {
            format!("{} = {} runs", parts.join(" × "), t.rows.len())
        };
        Ctx {
            mem_swept: swept.iter().any(|c| c == MEM),
            policy_swept: swept.iter().any(|c| c == POLICY),
            t,
            workload,
            swept,
            seeds,
            ttl_params,
            grid_text,
        }
    }

    /// The value a swept parameter is held at when a chart does not vary it:
    /// the middle of its sorted values.
    fn reference(&self, col: &str) -> String {
        let v = self.t.distinct(col);
        v.get(v.len() / 2).cloned().unwrap_or_default()
    }

    /// `(column, value)` filters holding every swept parameter except `free`.
    fn fixed(&self, free: &[&str]) -> Vec<(String, String)> {
        self.swept
            .iter()
            .filter(|c| !free.contains(&c.as_str()))
            .map(|c| (c.clone(), self.reference(c)))
            .collect()
    }

    fn fixed_text(&self, fixed: &[(String, String)]) -> String {
        if fixed.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = fixed
            .iter()
            .map(|(c, v)| format!("{}={}", short_name(c), show_value(c, v)))
            .collect();
        format!("; held at {}", parts.join(", "))
    }

    fn band_text(&self) -> &'static str {
        if self.seeds > 1 {
            "; line = mean over seeds, band = min–max"
        } else {
            ""
        }
    }

    /// Lines of `metric` against `x`, one per policy (when swept), one panel
    /// per value of `facet`.
    fn line_panels(
        &self,
        metric: &str,
        x: &str,
        facet: Option<&str>,
    ) -> (Vec<Panel>, Vec<(String, String)>) {
        let series_col = if self.policy_swept && x != POLICY {
            Some(POLICY)
        } else {
            None
        };
        let mut free = vec![x];
        free.extend(series_col);
        free.extend(facet);
        let fixed = self.fixed(&free);
        let facet_values: Vec<Option<String>> = match facet {
            Some(f) => self.t.distinct(f).into_iter().map(Some).collect(),
            None => vec![None],
        };
        let mut panels = Vec::new();
        for fv in facet_values {
            let mut filter = fixed.clone();
            let title = match (&fv, facet) {
                (Some(v), Some(f)) => {
                    filter.push((f.to_string(), v.clone()));
                    format!("{} = {}", short_name(f), show_value(f, v))
                }
                _ => String::new(),
            };
            let keys: Vec<&str> = series_col.into_iter().chain([x]).collect();
            let agg = self.t.aggregate(metric, &keys, &filter);
            let mut by_series: BTreeMap<String, Vec<(f64, Stats)>> = BTreeMap::new();
            for (k, st) in agg {
                let (label, xv) = if series_col.is_some() {
                    (k.0[0].clone(), &k.0[1])
                } else {
                    (metric.to_string(), &k.0[0])
                };
                if let Some(xn) = x_value(x, xv) {
                    by_series.entry(label).or_default().push((xn, st));
                }
            }
            let mut series: Vec<Series> = by_series
                .into_iter()
                .enumerate()
                .map(|(i, (label, mut points))| {
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    Series {
                        color: charts::series_color(&label, i),
                        style: charts::series_style(&label),
                        label,
                        points,
                    }
                })
                .collect();
            series.sort_by_key(|s| policy_rank(&s.label));
            panels.push(Panel {
                title,
                y_label: None,
                series,
            });
        }
        (panels, fixed)
    }

    fn figure(
        &self,
        title: String,
        subtitle: String,
        x: &str,
        y_label: &str,
        panels: Vec<Panel>,
        ratio: bool,
    ) -> LineFigure<'static> {
        let x_fmt: &'static dyn Fn(f64) -> String = &charts::fmt_num;
        let y_fmt: &'static dyn Fn(f64) -> String =
            if ratio { &ratio_fmt } else { &charts::fmt_num };
        LineFigure {
            title,
            subtitle,
            x_label: axis_label(x),
            y_label: y_label.to_string(),
            panels,
            x_fmt,
            y_fmt,
            y_clamp: Some(if ratio {
                (0.0, 1.0)
            } else {
                (0.0, f64::INFINITY)
            }),
            band: Band::MinMax,
            shared_y: true,
        }
    }
}

/// Order policies as Redis documents them; other labels after, by name.
fn policy_rank(label: &str) -> (usize, String) {
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
fn x_value(col: &str, v: &str) -> Option<f64> {
    let n = v.parse::<f64>().ok()?;
    if col == MEM {
        (n > 0.0).then_some(n / MIB)
    } else {
        Some(n)
    }
}

/// The unit of a metric column, from its name.
fn unit_label(col: &str) -> &'static str {
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

fn ratio_fmt(v: f64) -> String {
    format!("{:.2}", v)
}

/// Regenerate every chart and `index.html` in `dir` from its CSV files.
pub fn generate(dir: &Path, opts: &Options) -> Result<Summary> {
    let table = RunsTable::read(&dir.join("runs.csv"))?;
    let cx = Ctx::new(table);
    let mut charts: Vec<Chart> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let name = if cx.workload.is_empty() {
        String::new()
    } else {
        format!("{}: ", cx.workload)
    };

    // Hit ratio against each swept TTL, one line per policy, a panel per memory size.
    if cx.ttl_params.is_empty() {
        skipped.push("hit ratio vs TTL: no TTL parameter (param_*ttl*) was swept".into());
    }
    for ttl in &cx.ttl_params {
        let facet = cx.mem_swept.then_some(MEM);
        let (panels, fixed) = cx.line_panels("hit_ratio", ttl, facet);
        let file = format!("hit_ratio_vs_{}.png", ttl.trim_start_matches("param_"));
        let fig = cx.figure(
            format!(
                "{name}hit ratio vs {}, one line per policy",
                short_name(ttl)
            ),
            format!(
                "{}{}{}",
                cx.grid_text,
                cx.fixed_text(&fixed),
                cx.band_text()
            ),
            ttl,
            "hit ratio (after warm-up)",
            panels,
            true,
        );
        charts::draw_lines(&dir.join(&file), &fig)?;
        charts.push(Chart {
            file,
            caption: format!(
                "Hit ratio against {}: one line per policy, one panel per maxmemory.",
                short_name(ttl)
            ),
        });
    }

    // Hit ratio against maxmemory, one line per policy, a panel per TTL.
    if cx.mem_swept {
        let facet = cx.ttl_params.first().map(String::as_str);
        let (panels, fixed) = cx.line_panels("hit_ratio", MEM, facet);
        let file = "hit_ratio_vs_maxmemory.png".to_string();
        let fig = cx.figure(
            format!("{name}hit ratio vs maxmemory, one line per policy"),
            format!(
                "{}{}{}",
                cx.grid_text,
                cx.fixed_text(&fixed),
                cx.band_text()
            ),
            MEM,
            "hit ratio (after warm-up)",
            panels,
            true,
        );
        charts::draw_lines(&dir.join(&file), &fig)?;
        charts.push(Chart {
            file,
            caption: "Hit ratio against maxmemory: one line per policy, one panel per TTL.".into(),
        });
    } else {
        skipped.push("hit ratio vs maxmemory: maxmemory was not swept".into());
    }

    match memory_chart(&cx, dir, opts, &name) {
        Ok(Some(c)) => charts.push(c),
        Ok(None) => skipped.push("memory over time: timeseries.csv has no memory samples".into()),
        Err(e) => skipped.push(format!("memory over time: {e:#}")),
    }
    match lag_chart(&cx, dir, &name) {
        Ok(Some(c)) => charts.push(c),
        Ok(None) => skipped.push("expiry lag: latency.csv has no expiries".into()),
        Err(e) => skipped.push(format!("expiry lag: {e:#}")),
    }

    // Each namespace's outcomes against memory (or the first numeric swept parameter).
    let outcome_x = if cx.mem_swept {
        Some(MEM.to_string())
    } else {
        cx.swept
            .iter()
            .find(|c| cx.t.distinct(c).iter().all(|v| v.parse::<f64>().is_ok()))
            .cloned()
    };
    for ns in cx.t.namespaces() {
        let Some(x) = &outcome_x else {
            skipped.push(format!("{ns} outcomes: no numeric parameter was swept"));
            break;
        };
        let all_cols = cx.t.outcome_columns(&ns);
        // Columns with one value in every run (often all zero) say nothing
        // against a parameter: listed in the subtitle instead of drawn.
        let (cols, constant): (Vec<String>, Vec<String>) = all_cols
            .into_iter()
            .partition(|c| cx.t.distinct(c).len() > 1);
        if cols.is_empty() {
            skipped.push(format!("{ns} outcomes: every outcome column is constant"));
            continue;
        }
        let mut panels = Vec::new();
        let mut fixed = Vec::new();
        for col in &cols {
            let (mut p, f) = cx.line_panels(col, x, None);
            fixed = f;
            let mut panel = p.remove(0);
            panel.title = col.clone();
            panel.y_label = Some(unit_label(col).into());
            panels.push(panel);
        }
        let constant_text = if constant.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = constant
                .iter()
                .map(|c| format!("{c}={}", cx.t.distinct(c)[0]))
                .collect();
            format!("; the same in every run: {}", parts.join(", "))
        };
        let file = format!("outcomes_{ns}.png");
        let mut fig = cx.figure(
            format!("{name}{ns}: pattern outcomes vs {}", short_name(x)),
            format!(
                "{}{}{}{constant_text}",
                cx.grid_text,
                cx.fixed_text(&fixed),
                cx.band_text()
            ),
            x,
            "",
            panels,
            false,
        );
        fig.shared_y = false;
        charts::draw_lines(&dir.join(&file), &fig)?;
        charts.push(Chart {
            file,
            caption: format!(
                "The {ns} pattern's outcomes ({}) against {}.",
                cols.join(", "),
                short_name(x)
            ),
        });
    }

    match heatmap(&cx, dir, opts, &name)? {
        Some(c) => charts.push(c),
        None => skipped
            .push("TTL × memory heat map: needs both a TTL parameter and maxmemory swept".into()),
    }

    let index = dir.join("index.html");
    let page = html::page(&cx, opts, &charts, &skipped);
    crate::units::atomic_write_bytes(&index, page.as_bytes())
        .with_context(|| format!("cannot write {}", index.display()))?;
    Ok(Summary {
        charts: charts.iter().map(|c| dir.join(&c.file)).collect(),
        skipped,
        index,
    })
}

/// Mean hit ratio per policy over all runs, best first.
pub(crate) fn policy_ranking(cx: &Ctx) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> =
        cx.t.aggregate("hit_ratio", &[POLICY], &[])
            .into_iter()
            .map(|(k, st)| (k.0[0].clone(), st.mean))
            .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn heatmap(cx: &Ctx, dir: &Path, opts: &Options, name: &str) -> Result<Option<Chart>> {
    let Some(ttl) = cx.ttl_params.first() else {
        return Ok(None);
    };
    if !cx.mem_swept {
        return Ok(None);
    }
    let policy = match &opts.policy {
        Some(p) => p.clone(),
        None => policy_ranking(cx)
            .first()
            .map(|p| p.0.clone())
            .unwrap_or_default(),
    };
    let mut fixed = cx.fixed(&[ttl, MEM, POLICY]);
    let fixed_text = cx.fixed_text(&fixed);
    fixed.push((POLICY.to_string(), policy.clone()));
    let agg = cx.t.aggregate("hit_ratio", &[MEM, ttl], &fixed);
    let xs = cx.t.distinct(ttl);
    let ys = cx.t.distinct(MEM);
    let cells: Vec<Vec<Option<f64>>> = ys
        .iter()
        .map(|m| {
            xs.iter()
                .map(|t| {
                    agg.get(&data::GroupKey(vec![m.clone(), t.clone()]))
                        .map(|s| s.mean)
                })
                .collect()
        })
        .collect();
    let file = "heatmap_ttl_memory.png".to_string();
    let seeds = if cx.seeds > 1 {
        format!("; mean over {} seeds", cx.seeds)
    } else {
        String::new()
    };
    let fig = charts::HeatFigure {
        title: format!(
            "{name}hit ratio by {} × maxmemory, {}",
            short_name(ttl),
            show_value(POLICY, &policy)
        ),
        subtitle: format!("{}{fixed_text}{seeds}", cx.grid_text),
        x_label: axis_label(ttl),
        y_label: "maxmemory".into(),
        x_ticks: xs.iter().map(|v| show_value(ttl, v)).collect(),
        y_ticks: ys.iter().map(|v| show_value(MEM, v)).collect(),
        cells,
        fmt: &|v| format!("{v:.3}"),
        value_label: "hit ratio".into(),
    };
    charts::draw_heatmap(&dir.join(&file), &fig)?;
    Ok(Some(Chart {
        file,
        caption: format!(
            "Hit ratio for every {} × maxmemory pair under {}.",
            short_name(ttl),
            show_value(POLICY, &policy)
        ),
    }))
}

/// The runs the memory chart shows: the ones asked for, else the best and the
/// worst policy at the smallest and the largest memory size.
fn chosen_runs(cx: &Ctx, opts: &Options) -> Vec<(String, String)> {
    let t = &cx.t;
    let label = |r: &Vec<String>| {
        let mut parts: Vec<String> = cx
            .swept
            .iter()
            .map(|c| show_value(c, t.get(r, c)))
            .collect();
        parts.push(format!("seed {}", t.get(r, "seed")));
        format!("run {}: {}", t.get(r, "run_id"), parts.join(", "))
    };
    if !opts.runs.is_empty() {
        return t
            .rows
            .iter()
            .filter(|r| opts.runs.iter().any(|id| id == t.get(r, "run_id")))
            .map(|r| (t.get(r, "run_id").to_string(), label(r)))
            .collect();
    }
    let mut fixed = cx.fixed(&[MEM, POLICY]);
    if let Some(s) = t.distinct("seed").first() {
        fixed.push(("seed".into(), s.clone()));
    }
    let mems: Vec<String> = t.distinct(MEM).into_iter().filter(|m| m != "0").collect();
    let mem_picks: Vec<String> = match (mems.first(), mems.last()) {
        (Some(a), Some(b)) if a != b => vec![a.clone(), b.clone()],
        (Some(a), _) => vec![a.clone()],
        _ => vec![String::new()],
    };
    let ranking = policy_ranking(cx);
    let mut pols: Vec<String> = Vec::new();
    if let Some(b) = ranking.first() {
        pols.push(b.0.clone());
    }
    if let Some(w) = ranking.last() {
        if !pols.contains(&w.0) {
            pols.push(w.0.clone());
        }
    }
    let mut out = Vec::new();
    for m in &mem_picks {
        for p in &pols {
            let mut f = fixed.clone();
            if !m.is_empty() {
                f.push((MEM.into(), m.clone()));
            }
            f.push((POLICY.into(), p.clone()));
            let found = t
                .select(&f)
                .next()
                .map(|r| (t.get(r, "run_id").to_string(), label(r)));
            if let Some((id, l)) = found {
                if !out.iter().any(|(i, _)| *i == id) {
                    out.push((id, l));
                }
            }
        }
    }
    if out.is_empty() {
        if let Some(r) = t.rows.first() {
            out.push((t.get(r, "run_id").to_string(), label(r)));
        }
    }
    out
}

fn memory_chart(cx: &Ctx, dir: &Path, opts: &Options, name: &str) -> Result<Option<Chart>> {
    let runs = chosen_runs(cx, opts);
    let ids: Vec<String> = runs.iter().map(|r| r.0.clone()).collect();
    let ts = data::read_timeseries(
        &dir.join("timeseries.csv"),
        &ids,
        &["used_memory", "live_memory", "stale_memory"],
    )?;
    let get = |id: &str, m: &str| -> Vec<(f64, f64)> {
        ts.get(&(id.to_string(), m.to_string()))
            .map(|v| {
                v.iter()
                    .map(|s| (s.time_ms / 1000.0, s.value / MIB))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut panels = Vec::new();
    for (id, label) in &runs {
        let used = get(id, "used_memory");
        if used.is_empty() {
            continue;
        }
        let limit =
            cx.t.rows
                .iter()
                .find(|r| cx.t.get(r, "run_id") == id)
                .and_then(|r| cx.t.get(r, MEM).parse::<f64>().ok())
                .unwrap_or(0.0);
        panels.push(charts::MemoryPanel {
            title: label.clone(),
            used,
            live: get(id, "live_memory"),
            stale: get(id, "stale_memory"),
            limit_mib: limit / MIB,
        });
    }
    if panels.is_empty() {
        return Ok(None);
    }
    let file = "memory_over_time.png".to_string();
    charts::draw_memory(
        &dir.join(&file),
        &format!("{name}memory over time: used, live and expired-but-resident"),
        &format!(
            "{}; chosen runs: best and worst policy at the smallest and largest maxmemory",
            cx.grid_text
        ),
        &panels,
    )?;
    Ok(Some(Chart {
        file,
        caption: "used_memory (line) over live data and expired-but-not-yet-reclaimed data (stacked areas), with the maxmemory limit dashed.".into(),
    }))
}

fn lag_chart(cx: &Ctx, dir: &Path, name: &str) -> Result<Option<Chart>> {
    let bins = data::read_latency(&dir.join("latency.csv"))?;
    if bins.is_empty() {
        return Ok(None);
    }
    // Group runs by the swept expiry settings when there are any, else pool them.
    let group_cols: Vec<&str> = ["hz", "active_expire_effort"]
        .into_iter()
        .filter(|c| cx.swept.iter().any(|s| s == c))
        .collect();
    let group_of: BTreeMap<String, String> =
        cx.t.rows
            .iter()
            .map(|r| {
                let g: Vec<String> = group_cols
                    .iter()
                    .map(|c| format!("{}={}", short_name(c), cx.t.get(r, c)))
                    .collect();
                (cx.t.get(r, "run_id").to_string(), g.join(" "))
            })
            .collect();
    // (group, kind) -> upper edge -> count
    let mut hist: BTreeMap<(String, String), BTreeMap<u64, f64>> = BTreeMap::new();
    let mut total_keys = 0.0;
    for b in &bins {
        let g = group_of.get(&b.run_id).cloned().unwrap_or_default();
        *hist
            .entry((g, b.kind.clone()))
            .or_default()
            .entry(b.high.to_bits())
            .or_default() += b.count;
        total_keys += b.count;
    }
    let mut series = Vec::new();
    for (i, ((g, kind), h)) in hist.iter().enumerate() {
        let mut pts: Vec<(f64, f64)> = h.iter().map(|(k, c)| (f64::from_bits(*k), *c)).collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: f64 = pts.iter().map(|p| p.1).sum();
        if total <= 0.0 {
            continue;
        }
        let mut acc = 0.0;
        let cdf: Vec<(f64, f64)> = pts
            .iter()
            .map(|(x, c)| {
                acc += c;
                (*x, acc / total)
            })
            .collect();
        let label = if g.is_empty() {
            format!("{kind} expiry ({} keys)", charts::fmt_num(total))
        } else {
            format!("{kind}, {g} ({} keys)", charts::fmt_num(total))
        };
        let color = match (group_cols.is_empty(), kind.as_str()) {
            (true, "active") => charts::PALETTE[0],
            (true, "lazy") => charts::PALETTE[1],
            _ => charts::PALETTE[i % charts::PALETTE.len()],
        };
        series.push((label, color, cdf));
    }
    if series.is_empty() {
        return Ok(None);
    }
    let file = "expiry_lag.png".to_string();
    let pooled = if group_cols.is_empty() {
        "all runs pooled"
    } else {
        "runs grouped by expiry settings"
    };
    charts::draw_cdf(
        &dir.join(&file),
        &charts::CdfFigure {
            title: format!("{name}expiry lag: removal time minus logical expiry time"),
            subtitle: format!(
                "{}; {pooled}; {} expired keys; active = expire cycle, lazy = on access",
                cx.grid_text,
                charts::fmt_num(total_keys)
            ),
            x_label: "expiry lag (ms, log scale; upper edge of histogram bin)".into(),
            series,
        },
    )?;
    Ok(Some(Chart {
        file,
        caption: "Cumulative distribution of expiry lag, split by how the key was reclaimed (active cycle or lazy access).".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two policies, a Redis one and a reference, at two memory sizes.
    fn table() -> RunsTable {
        let columns = [
            "run_id",
            "workload",
            "seed",
            "maxmemory",
            POLICY,
            "hit_ratio",
        ];
        let rows = [
            ["0", "w", "1", "1048576", "allkeys-lru", "0.5"],
            ["1", "w", "1", "2097152", "allkeys-lru", "0.7"],
            ["2", "w", "1", "1048576", "s3-fifo", "0.6"],
            ["3", "w", "1", "2097152", "s3-fifo", "0.8"],
        ];
        RunsTable::new(
            columns.map(String::from).to_vec(),
            rows.iter().map(|r| r.map(String::from).to_vec()).collect(),
        )
    }

    #[test]
    fn reference_series_are_drawn_in_the_reference_style() {
        let cx = Ctx::new(table());
        let (panels, _) = cx.line_panels("hit_ratio", MEM, None);
        let styles: Vec<(&str, charts::SeriesStyle)> = panels[0]
            .series
            .iter()
            .map(|s| (s.label.as_str(), s.style))
            .collect();
        assert_eq!(
            styles,
            [
                ("allkeys-lru", charts::SeriesStyle::SOLID),
                ("s3-fifo", charts::SeriesStyle::REFERENCE)
            ]
        );
        assert_eq!(panels[0].series[0].color, charts::PALETTE[0]);
    }

    #[test]
    fn a_reference_policy_reads_as_one_wherever_it_is_shown() {
        assert_eq!(show_value(POLICY, "s3-fifo"), "s3-fifo (ref)");
        assert_eq!(show_value(POLICY, "allkeys-lru"), "allkeys-lru");
        assert_eq!(show_value(MEM, "1048576"), "1 MiB");
    }
}
