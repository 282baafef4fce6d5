//! Figures: one function per chart, each drawing its PNG (or saying why
//! not) into a [`Drawn`]. The order they are drawn in is the list in
//! `mod.rs`.

use super::analysis::{chosen_runs, policy_ranking, Ctx};
use super::charts::{self, Band, LineFigure, Panel, Series};
use super::data::{self, Stats};
use super::labels::{
    axis_label, policy_rank, ratio_fmt, short_name, show_value, unit_label, x_value, MEM, MIB,
    POLICY,
};
use super::{Chart, Drawn, Options};
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::Path;

/// Hit ratio against each swept TTL, one line per policy, a panel per memory size.
pub(super) fn hit_ratio_vs_ttl(
    cx: &Ctx,
    dir: &Path,
    _opts: &Options,
    name: &str,
    out: &mut Drawn,
) -> Result<()> {
    if cx.ttl_params.is_empty() {
        out.skipped
            .push("hit ratio vs TTL: no TTL parameter (param_*ttl*) was swept".into());
    }
    for ttl in &cx.ttl_params {
        let facet = cx.mem_swept.then_some(MEM);
        let (panels, fixed) = line_panels(cx, "hit_ratio", ttl, facet);
        let file = format!("hit_ratio_vs_{}.png", ttl.trim_start_matches("param_"));
        let fig = line_figure(
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
        out.charts.push(Chart {
            file,
            caption: format!(
                "Hit ratio against {}: one line per policy, one panel per maxmemory.",
                short_name(ttl)
            ),
        });
    }
    Ok(())
}

/// Hit ratio against maxmemory, one line per policy, a panel per TTL.
pub(super) fn hit_ratio_vs_memory(
    cx: &Ctx,
    dir: &Path,
    _opts: &Options,
    name: &str,
    out: &mut Drawn,
) -> Result<()> {
    if cx.mem_swept {
        let facet = cx.ttl_params.first().map(String::as_str);
        let (panels, fixed) = line_panels(cx, "hit_ratio", MEM, facet);
        let file = "hit_ratio_vs_maxmemory.png".to_string();
        let fig = line_figure(
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
        out.charts.push(Chart {
            file,
            caption: "Hit ratio against maxmemory: one line per policy, one panel per TTL.".into(),
        });
    } else {
        out.skipped
            .push("hit ratio vs maxmemory: maxmemory was not swept".into());
    }
    Ok(())
}

/// Memory over time for a few contrasting runs; an error reading
/// `timeseries.csv` or drawing skips the chart instead of failing the report.
pub(super) fn memory_over_time(
    cx: &Ctx,
    dir: &Path,
    opts: &Options,
    name: &str,
    out: &mut Drawn,
) -> Result<()> {
    match memory_chart(cx, dir, opts, name) {
        Ok(Some(c)) => out.charts.push(c),
        Ok(None) => out
            .skipped
            .push("memory over time: timeseries.csv has no memory samples".into()),
        Err(e) => out.skipped.push(format!("memory over time: {e:#}")),
    }
    Ok(())
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

/// The CDF of expiry lag; an error reading `expiry_lag.csv` or drawing skips
/// the chart instead of failing the report.
pub(super) fn expiry_lag(
    cx: &Ctx,
    dir: &Path,
    _opts: &Options,
    name: &str,
    out: &mut Drawn,
) -> Result<()> {
    match lag_chart(cx, dir, name) {
        Ok(Some(c)) => out.charts.push(c),
        Ok(None) => out
            .skipped
            .push("expiry lag: expiry_lag.csv has no expiries".into()),
        Err(e) => out.skipped.push(format!("expiry lag: {e:#}")),
    }
    Ok(())
}

fn lag_chart(cx: &Ctx, dir: &Path, name: &str) -> Result<Option<Chart>> {
    let bins = data::read_latency(&dir.join("expiry_lag.csv"))?;
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

/// Each namespace's outcomes against memory (or the first numeric swept parameter).
pub(super) fn outcomes(
    cx: &Ctx,
    dir: &Path,
    _opts: &Options,
    name: &str,
    out: &mut Drawn,
) -> Result<()> {
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
            out.skipped
                .push(format!("{ns} outcomes: no numeric parameter was swept"));
            break;
        };
        let all_cols = cx.t.outcome_columns(&ns);
        // Columns with one value in every run (often all zero) say nothing
        // against a parameter: listed in the subtitle instead of drawn.
        let (cols, constant): (Vec<String>, Vec<String>) = all_cols
            .into_iter()
            .partition(|c| cx.t.distinct(c).len() > 1);
        if cols.is_empty() {
            out.skipped
                .push(format!("{ns} outcomes: every outcome column is constant"));
            continue;
        }
        let mut panels = Vec::new();
        let mut fixed = Vec::new();
        for col in &cols {
            let (mut p, f) = line_panels(cx, col, x, None);
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
        let mut fig = line_figure(
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
        out.charts.push(Chart {
            file,
            caption: format!(
                "The {ns} pattern's outcomes ({}) against {}.",
                cols.join(", "),
                short_name(x)
            ),
        });
    }
    Ok(())
}

/// Hit ratio for every TTL × maxmemory pair under one policy.
pub(super) fn ttl_memory_heatmap(
    cx: &Ctx,
    dir: &Path,
    opts: &Options,
    name: &str,
    out: &mut Drawn,
) -> Result<()> {
    match heatmap(cx, dir, opts, name)? {
        Some(c) => out.charts.push(c),
        None => out
            .skipped
            .push("TTL × memory heat map: needs both a TTL parameter and maxmemory swept".into()),
    }
    Ok(())
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

// Shared by the line charts.

/// Lines of `metric` against `x`, one per policy (when swept), one panel
/// per value of `facet`.
pub(crate) fn line_panels(
    cx: &Ctx,
    metric: &str,
    x: &str,
    facet: Option<&str>,
) -> (Vec<Panel>, Vec<(String, String)>) {
    let series_col = if cx.policy_swept && x != POLICY {
        Some(POLICY)
    } else {
        None
    };
    let mut free = vec![x];
    free.extend(series_col);
    free.extend(facet);
    let fixed = cx.fixed(&free);
    let facet_values: Vec<Option<String>> = match facet {
        Some(f) => cx.t.distinct(f).into_iter().map(Some).collect(),
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
        let agg = cx.t.aggregate(metric, &keys, &filter);
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

fn line_figure(
    title: String,
    subtitle: String,
    x: &str,
    y_label: &str,
    panels: Vec<Panel>,
    ratio: bool,
) -> LineFigure<'static> {
    let x_fmt: &'static dyn Fn(f64) -> String = &charts::fmt_num;
    let y_fmt: &'static dyn Fn(f64) -> String = if ratio { &ratio_fmt } else { &charts::fmt_num };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::data::RunsTable;

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
        let (panels, _) = line_panels(&cx, "hit_ratio", MEM, None);
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
}
