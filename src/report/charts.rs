//! PNG charts drawn with plotters' bitmap backend. The text uses DejaVu Sans,
//! compiled into the binary and registered with plotters' `ab_glyph` font
//! table, so charts read the same on a machine with no fonts installed.

use super::data::Stats;
use crate::store::Policy;
use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;
use std::sync::Once;

/// The bundled font (DejaVu Sans, see assets/fonts/DejaVu-LICENSE.txt).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family name the charts ask plotters for.
const FAMILY: &str = "sans-serif";

/// Register the bundled font with plotters (once per process).
pub fn init_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for family in ["sans-serif", "serif", "monospace"] {
            if plotters::style::register_font(family, FontStyle::Normal, FONT).is_err() {
                // The font is compiled in; failing to parse it is a build defect.
                panic!("bundled font assets/fonts/DejaVuSans.ttf is not a valid font");
            }
        }
    });
}

fn pe<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing failed: {e}")
}

/// Tableau-10 colours, used for series in a fixed order.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colours of the reference policies, in `Policy::REFERENCE` (registry)
/// order: none is one of the eight Redis colours (`PALETTE[..8]`), so a
/// reference never shares a colour with a Redis policy. `exact-lru`,
/// `exact-lfu` and `fifo` keep the colours they had before references had
/// colours of their own.
pub const REFERENCE_PALETTE: [RGBColor; 10] = [
    RGBColor(188, 189, 34),  // exact-lru: olive
    RGBColor(23, 190, 207),  // exact-lfu: cyan
    RGBColor(0, 0, 0),       // fifo: black
    RGBColor(128, 0, 0),     // belady: maroon
    RGBColor(0, 0, 128),     // s3-fifo: navy
    RGBColor(0, 128, 128),   // sieve: teal
    RGBColor(170, 0, 255),   // arc: violet
    RGBColor(231, 41, 138),  // w-tinylfu: magenta
    RGBColor(90, 60, 20),    // lhd: dark brown
    RGBColor(120, 120, 255), // lru-2: periwinkle
];

/// The reference policy named `label` (exactly, as in `runs.csv`), if any.
fn reference_index(label: &str) -> Option<usize> {
    Policy::REFERENCE.iter().position(|p| p.name() == label)
}

/// A stable colour per `maxmemory-policy`, so a policy looks the same in every
/// chart: Redis's policies take the first eight palette colours, reference
/// policies their own ([`REFERENCE_PALETTE`]); other series labels take
/// palette colours by position.
pub fn series_color(label: &str, position: usize) -> RGBColor {
    let fixed = [
        ("allkeys-lru", 0),
        ("allkeys-lfu", 1),
        ("allkeys-random", 2),
        ("volatile-lru", 3),
        ("volatile-lfu", 4),
        ("volatile-random", 5),
        ("volatile-ttl", 6),
        ("noeviction", 7),
    ];
    match (
        fixed.iter().find(|(l, _)| *l == label),
        reference_index(label),
    ) {
        (Some((_, i)), _) => PALETTE[*i],
        (None, Some(i)) => REFERENCE_PALETTE[i % REFERENCE_PALETTE.len()],
        (None, None) => PALETTE[position % PALETTE.len()],
    }
}

/// How a series' line, markers and legend entry are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesStyle {
    /// Dashed rather than solid line.
    pub dashed: bool,
    /// Line width in pixels.
    pub width: u32,
    /// Markers drawn as rings (white inside) rather than filled dots.
    pub hollow: bool,
    /// Appended to the label in the legend.
    pub legend_suffix: &'static str,
    /// Legend entries of this style start on a row of their own.
    pub own_legend_row: bool,
}

impl SeriesStyle {
    /// Redis's policies and every series that is not a policy: a thick
    /// solid line with filled dots.
    pub const SOLID: SeriesStyle = SeriesStyle {
        dashed: false,
        width: 3,
        hollow: false,
        legend_suffix: "",
        own_legend_row: false,
    };
    /// Reference policies (not Redis's): a thinner dashed line with rings,
    /// `(ref)` in the legend, on legend rows after Redis's policies.
    pub const REFERENCE: SeriesStyle = SeriesStyle {
        dashed: true,
        width: 2,
        hollow: true,
        legend_suffix: " (ref)",
        own_legend_row: true,
    };
}

/// The style of the series labelled `label`: [`SeriesStyle::REFERENCE`] for a
/// reference policy ([`Policy::is_reference`]), so it never looks like one of
/// Redis's policies; [`SeriesStyle::SOLID`] for anything else.
pub fn series_style(label: &str) -> SeriesStyle {
    if reference_index(label).is_some() {
        SeriesStyle::REFERENCE
    } else {
        SeriesStyle::SOLID
    }
}

/// One entry of a chart's legend.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendItem {
    /// Text, the style's suffix included.
    pub label: String,
    /// Line colour.
    pub color: RGBColor,
    /// Line and marker style of the sample.
    pub style: SeriesStyle,
}

impl LegendItem {
    /// An entry for a line of `color` drawn in `style`.
    pub fn new(label: &str, color: RGBColor, style: SeriesStyle) -> LegendItem {
        LegendItem {
            label: format!("{label}{}", style.legend_suffix),
            color,
            style,
        }
    }
}

/// One line of a line chart: a mean per x, with the replications' spread.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Line colour.
    pub color: RGBColor,
    /// Line and marker style ([`series_style`] for a policy).
    pub style: SeriesStyle,
    /// `(x, stats over replications)`, sorted by x.
    pub points: Vec<(f64, Stats)>,
}

/// One panel (small multiple) of a line chart.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Panel caption (what is fixed in it).
    pub title: String,
    /// Y axis description for this panel, instead of the figure's.
    pub y_label: Option<String>,
    /// Its lines.
    pub series: Vec<Series>,
}

/// How to draw the spread of replications around a mean line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// From the smallest to the largest replication.
    MinMax,
    /// Mean ± one sample standard deviation.
    Sd,
}

/// A line chart of one metric against one parameter, possibly in panels.
pub struct LineFigure<'a> {
    /// Big title: what was run.
    pub title: String,
    /// Second line: what is fixed, what the band means.
    pub subtitle: String,
    /// X axis description with unit.
    pub x_label: String,
    /// Y axis description with unit.
    pub y_label: String,
    /// Panels, drawn left to right, top to bottom.
    pub panels: Vec<Panel>,
    /// Tick text for x values.
    pub x_fmt: &'a dyn Fn(f64) -> String,
    /// Tick text for y values.
    pub y_fmt: &'a dyn Fn(f64) -> String,
    /// Clamp the y range to this interval (e.g. 0..1 for ratios).
    pub y_clamp: Option<(f64, f64)>,
    /// The spread drawn around each line.
    pub band: Band,
    /// One y range for all panels (same metric) or one per panel.
    pub shared_y: bool,
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

fn font(size: u32) -> TextStyle<'static> {
    TextStyle::from((FAMILY, size).into_font()).color(&BLACK)
}

/// Title, subtitle and legend strip; returns the area left for the panels.
fn header<'a>(
    root: &Area<'a>,
    title: &str,
    subtitle: &str,
    legend: &[LegendItem],
    width: u32,
) -> Result<Area<'a>> {
    let (places, _) = legend_layout(legend, width);
    let (head, body) = root.split_vertically(HEAD_H + legend_height(legend, width));
    let centre = Pos::new(HPos::Center, VPos::Top);
    head.draw_text(title, &font(26).pos(centre), (width as i32 / 2, 8))
        .map_err(pe)?;
    let sub_style = font(16).color(&RGBColor(70, 70, 70)).pos(centre);
    let subtitle = fit_text(&head, subtitle, &sub_style, width.saturating_sub(40));
    head.draw_text(&subtitle, &sub_style, (width as i32 / 2, 44))
        .map_err(pe)?;
    let item_w = (width - 40) / legend_per_row(legend, width) as u32;
    for (item, (row, col)) in legend.iter().zip(places) {
        let x = 20 + col as i32 * item_w as i32;
        let y = 80 + row as i32 * LEGEND_ROW_H as i32;
        let line = vec![(x, y + 8), (x + 34, y + 8)];
        let stroke = item.color.stroke_width(item.style.width + 1);
        if item.style.dashed {
            head.draw(&DashedPathElement::new(line, 8, 5, stroke))
                .map_err(pe)?;
        } else {
            head.draw(&PathElement::new(line, stroke)).map_err(pe)?;
        }
        for m in marker((x + 17, y + 8), 5, item.color, item.style) {
            head.draw(&m).map_err(pe)?;
        }
        head.draw_text(
            &item.label,
            &font(17).pos(Pos::new(HPos::Left, VPos::Center)),
            (x + 42, y + 8),
        )
        .map_err(pe)?;
    }
    Ok(body)
}

/// Height of the title and subtitle above the legend, pixels.
const HEAD_H: u32 = 74;
/// Height of one legend row, pixels.
const LEGEND_ROW_H: u32 = 30;

/// A series marker at `at`: a filled dot, or for a hollow style a white dot
/// inside a ring of `color`.
fn marker<C>(at: C, radius: u32, color: RGBColor, style: SeriesStyle) -> Vec<Circle<C, u32>>
where
    C: Copy,
{
    if style.hollow {
        vec![
            Circle::new(at, radius, WHITE.filled()),
            Circle::new(at, radius, color.stroke_width(2)),
        ]
    } else {
        vec![Circle::new(at, radius, color.filled())]
    }
}

/// `text`, cut at a character boundary and ended with "…" if it is wider
/// than `max_px` in `style` (a centred line longer than the image would lose
/// both ends).
fn fit_text(area: &Area<'_>, text: &str, style: &TextStyle<'_>, max_px: u32) -> String {
    let width = |t: &str| area.estimate_text_size(t, style).map_or(0, |(w, _)| w);
    if width(text) <= max_px {
        return text.to_string();
    }
    let mut cut: String = text.to_string();
    while !cut.is_empty() && width(&format!("{cut}…")) > max_px {
        cut.pop();
    }
    format!("{}…", cut.trim_end())
}

fn legend_per_row(legend: &[LegendItem], width: u32) -> usize {
    let longest = legend.iter().map(|l| l.label.len()).max().unwrap_or(1);
    let item = 60 + longest as u32 * 10;
    ((width - 40) / item).clamp(1, legend.len().max(1) as u32) as usize
}

/// Each legend item's `(row, column)`, and the number of rows: items fill
/// rows left to right, and the first item of a style with
/// [`SeriesStyle::own_legend_row`] after items of another style starts a new
/// row, so reference policies form a group below Redis's.
fn legend_layout(legend: &[LegendItem], width: u32) -> (Vec<(usize, usize)>, usize) {
    let per_row = legend_per_row(legend, width);
    let mut places = Vec::with_capacity(legend.len());
    let (mut row, mut col) = (0, 0);
    for (i, item) in legend.iter().enumerate() {
        let new_group =
            i > 0 && item.style.own_legend_row && legend[i - 1].style != item.style && col > 0;
        if col == per_row || new_group {
            row += 1;
            col = 0;
        }
        places.push((row, col));
        col += 1;
    }
    let rows = if legend.is_empty() { 0 } else { row + 1 };
    (places, rows)
}

/// Pixels the legend takes below the subtitle.
fn legend_height(legend: &[LegendItem], width: u32) -> u32 {
    LEGEND_ROW_H * legend_layout(legend, width).1 as u32
}

fn layout(n: usize) -> (usize, usize) {
    match n {
        0 | 1 => (1, 1),
        2 => (1, 2),
        3 => (1, 3),
        4 => (2, 2),
        5 | 6 => (2, 3),
        n => (n.div_ceil(3), 3),
    }
}

/// Padded range around `lo..hi` that is never empty.
fn padded(lo: f64, hi: f64, clamp: Option<(f64, f64)>) -> (f64, f64) {
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    if hi - lo < 1e-12 {
        let d = if lo.abs() > 1e-12 {
            lo.abs() * 0.1
        } else {
            1.0
        };
        lo -= d;
        hi += d;
    }
    let pad = (hi - lo) * 0.06;
    lo -= pad;
    hi += pad;
    if let Some((a, b)) = clamp {
        lo = lo.max(a);
        hi = hi.min(b);
    }
    (lo, hi)
}

/// Draw a line chart (mean lines with a band per series, shared axes across
/// panels) to `path`.
pub fn draw_lines(path: &Path, fig: &LineFigure) -> Result<()> {
    init_fonts();
    let (rows, cols) = layout(fig.panels.len());
    let width = if cols == 1 { 1100 } else { 560 * cols as u32 };
    let mut legend: Vec<LegendItem> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for p in &fig.panels {
        for s in &p.series {
            if !seen.contains(&s.label.as_str()) {
                seen.push(&s.label);
                legend.push(LegendItem::new(&s.label, s.color, s.style));
            }
        }
    }
    let panel_h = if rows == 1 && cols == 1 { 620 } else { 430 };
    let height = HEAD_H + legend_height(&legend, width) + panel_h * rows as u32;
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(pe)?;
    let body = header(&root, &fig.title, &fig.subtitle, &legend, width)?;

    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for p in &fig.panels {
        for s in &p.series {
            for (x, st) in &s.points {
                let (lo, hi) = band(st, fig.band);
                x0 = x0.min(*x);
                x1 = x1.max(*x);
                y0 = y0.min(lo);
                y1 = y1.max(hi);
            }
        }
    }
    let (x0, x1) = padded(x0, x1, None);
    let shared = padded(y0, y1, fig.y_clamp);

    let areas = body.split_evenly((rows, cols));
    for (panel, area) in fig.panels.iter().zip(areas.iter()) {
        let (y0, y1) = if fig.shared_y {
            shared
        } else {
            let pts = panel.series.iter().flat_map(|s| s.points.iter());
            let lo = pts
                .clone()
                .map(|(_, st)| band(st, fig.band).0)
                .fold(f64::INFINITY, f64::min);
            let hi = pts
                .map(|(_, st)| band(st, fig.band).1)
                .fold(f64::NEG_INFINITY, f64::max);
            padded(lo, hi, fig.y_clamp)
        };
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, font(19))
            .margin(12)
            .margin_right(24)
            .x_label_area_size(52)
            .y_label_area_size(78)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(pe)?;
        chart
            .configure_mesh()
            .x_desc(&fig.x_label)
            .y_desc(panel.y_label.as_deref().unwrap_or(&fig.y_label))
            .x_labels(7)
            .y_labels(7)
            .x_label_formatter(&|v| (fig.x_fmt)(*v))
            .y_label_formatter(&|v| (fig.y_fmt)(*v))
            .label_style(font(15))
            .axis_desc_style(font(17))
            .max_light_lines(2)
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()
            .map_err(pe)?;
        for s in &panel.series {
            if s.points.iter().any(|(_, st)| st.n > 1) {
                let mut poly: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .map(|(x, st)| (*x, band(st, fig.band).1))
                    .collect();
                poly.extend(
                    s.points
                        .iter()
                        .rev()
                        .map(|(x, st)| (*x, band(st, fig.band).0)),
                );
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        poly,
                        s.color.mix(0.16).filled(),
                    )))
                    .map_err(pe)?;
            }
        }
        // Reference policies first, so Redis's solid lines are drawn over
        // the dashed ones where they meet.
        let mut order: Vec<&Series> = panel.series.iter().collect();
        order.sort_by_key(|s| !s.style.dashed);
        for s in order {
            let pts: Vec<(f64, f64)> = s.points.iter().map(|(x, st)| (*x, st.mean)).collect();
            let stroke = s.color.stroke_width(s.style.width);
            if s.style.dashed {
                chart
                    .draw_series(DashedLineSeries::new(pts.clone(), 9, 6, stroke))
                    .map_err(pe)?;
            } else {
                chart
                    .draw_series(LineSeries::new(pts.clone(), stroke))
                    .map_err(pe)?;
            }
            chart
                .draw_series(
                    pts.iter()
                        .flat_map(|p| marker(*p, 4, s.color, s.style).into_iter()),
                )
                .map_err(pe)?;
        }
        if panel.series.iter().all(|s| s.points.is_empty()) {
            area.draw_text(
                "no data",
                &font(20).pos(Pos::new(HPos::Center, VPos::Center)),
                (
                    area.dim_in_pixel().0 as i32 / 2,
                    area.dim_in_pixel().1 as i32 / 2,
                ),
            )
            .map_err(pe)?;
        }
    }
    root.present().map_err(pe)?;
    Ok(())
}

fn band(st: &Stats, b: Band) -> (f64, f64) {
    match b {
        Band::MinMax => (st.min, st.max),
        Band::Sd => (st.mean - st.sd, st.mean + st.sd),
    }
}

/// A heat map: rows × columns of optional values, coloured with a
/// perceptually ordered colour map, each cell labelled with its value.
pub struct HeatFigure<'a> {
    /// Big title.
    pub title: String,
    /// Second line.
    pub subtitle: String,
    /// Column axis description.
    pub x_label: String,
    /// Row axis description.
    pub y_label: String,
    /// Column tick labels.
    pub x_ticks: Vec<String>,
    /// Row tick labels, bottom to top.
    pub y_ticks: Vec<String>,
    /// `cells[row][col]`.
    pub cells: Vec<Vec<Option<f64>>>,
    /// Cell text.
    pub fmt: &'a dyn Fn(f64) -> String,
    /// Name of the coloured quantity, for the colour bar.
    pub value_label: String,
}

/// Viridis, sampled at 9 stops; `t` in 0..=1.
pub fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let f = t * (STOPS.len() - 1) as f64;
    let i = (f.floor() as usize).min(STOPS.len() - 2);
    let u = f - i as f64;
    let lerp = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * u).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// Draw a heat map to `path`.
pub fn draw_heatmap(path: &Path, fig: &HeatFigure) -> Result<()> {
    init_fonts();
    let (nx, ny) = (fig.x_ticks.len().max(1), fig.y_ticks.len().max(1));
    let cell_w = (900 / nx as u32).clamp(90, 200);
    let cell_h = (560 / ny as u32).clamp(50, 110);
    let (left, right, top, bottom) = (170u32, 150u32, 84u32, 90u32);
    let width = (left + cell_w * nx as u32 + right).max(900);
    let height = top + cell_h * ny as u32 + bottom;
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(pe)?;
    let centre_top = Pos::new(HPos::Center, VPos::Top);
    root.draw_text(&fig.title, &font(26).pos(centre_top), (width as i32 / 2, 8))
        .map_err(pe)?;
    root.draw_text(
        &fig.subtitle,
        &font(16).color(&RGBColor(70, 70, 70)).pos(centre_top),
        (width as i32 / 2, 44),
    )
    .map_err(pe)?;
    let vals: Vec<f64> = fig.cells.iter().flatten().flatten().copied().collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let norm = |v: f64| {
        if hi - lo > 1e-12 {
            (v - lo) / (hi - lo)
        } else {
            0.5
        }
    };
    let (l, t) = (left as i32, top as i32);
    let (cw, ch) = (cell_w as i32, cell_h as i32);
    for (r, row) in fig.cells.iter().enumerate() {
        // Row 0 is drawn at the bottom, like a y axis.
        let y = t + (ny as i32 - 1 - r as i32) * ch;
        for (c, v) in row.iter().enumerate() {
            let x = l + c as i32 * cw;
            let (fill, text) = match v {
                Some(v) => (viridis(norm(*v)), (fig.fmt)(*v)),
                None => (RGBColor(230, 230, 230), "—".to_string()),
            };
            root.draw(&Rectangle::new([(x, y), (x + cw, y + ch)], fill.filled()))
                .map_err(pe)?;
            root.draw(&Rectangle::new(
                [(x, y), (x + cw, y + ch)],
                WHITE.stroke_width(2),
            ))
            .map_err(pe)?;
            let ink = match v {
                Some(v) if norm(*v) > 0.55 => BLACK,
                Some(_) => WHITE,
                None => BLACK,
            };
            root.draw_text(
                &text,
                &font(17)
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
                (x + cw / 2, y + ch / 2),
            )
            .map_err(pe)?;
        }
    }
    for (c, tick) in fig.x_ticks.iter().enumerate() {
        root.draw_text(
            tick,
            &font(16).pos(centre_top),
            (l + c as i32 * cw + cw / 2, t + ny as i32 * ch + 8),
        )
        .map_err(pe)?;
    }
    root.draw_text(
        &fig.x_label,
        &font(18).pos(centre_top),
        (l + nx as i32 * cw / 2, t + ny as i32 * ch + 44),
    )
    .map_err(pe)?;
    for (r, tick) in fig.y_ticks.iter().enumerate() {
        let y = t + (ny as i32 - 1 - r as i32) * ch + ch / 2;
        root.draw_text(
            tick,
            &font(16).pos(Pos::new(HPos::Right, VPos::Center)),
            (l - 10, y),
        )
        .map_err(pe)?;
    }
    root.draw_text(
        &fig.y_label,
        &font(18)
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Top)),
        (l - 110, t + ny as i32 * ch / 2),
    )
    .map_err(pe)?;
    // Colour bar.
    let bx = l + nx as i32 * cw + 30;
    let bh = ny as i32 * ch;
    for i in 0..bh {
        let v = 1.0 - i as f64 / bh.max(1) as f64;
        root.draw(&Rectangle::new(
            [(bx, t + i), (bx + 22, t + i + 1)],
            viridis(v).filled(),
        ))
        .map_err(pe)?;
    }
    if lo.is_finite() {
        root.draw_text(&(fig.fmt)(hi), &font(15), (bx + 28, t - 6))
            .map_err(pe)?;
        root.draw_text(&(fig.fmt)(lo), &font(15), (bx + 28, t + bh - 12))
            .map_err(pe)?;
    }
    root.draw_text(
        &fig.value_label,
        &font(15)
            .transform(FontTransform::Rotate90)
            .pos(Pos::new(HPos::Center, VPos::Top)),
        (bx + 100, t + bh / 2),
    )
    .map_err(pe)?;
    root.present().map_err(pe)?;
    Ok(())
}

/// One run's memory over time: used memory as a line over stacked areas of
/// live data and expired-but-resident (stale) data.
pub struct MemoryPanel {
    /// Caption: which run.
    pub title: String,
    /// `(seconds, MiB)` of `used_memory`.
    pub used: Vec<(f64, f64)>,
    /// `(seconds, MiB)` of live data.
    pub live: Vec<(f64, f64)>,
    /// `(seconds, MiB)` of stale data.
    pub stale: Vec<(f64, f64)>,
    /// The run's `maxmemory` in MiB (0: none), drawn as a dashed limit.
    pub limit_mib: f64,
}

/// Draw memory-over-time panels to `path`.
pub fn draw_memory(path: &Path, title: &str, subtitle: &str, panels: &[MemoryPanel]) -> Result<()> {
    init_fonts();
    let (rows, cols) = layout(panels.len());
    let width = if cols == 1 { 1100 } else { 620 * cols as u32 };
    let used_c = RGBColor(31, 119, 180);
    let live_c = RGBColor(44, 160, 44);
    let stale_c = RGBColor(255, 127, 14);
    let limit_c = RGBColor(214, 39, 40);
    let legend = [
        ("used_memory", used_c),
        ("live data", live_c),
        ("expired but resident", stale_c),
        ("maxmemory", limit_c),
    ]
    .map(|(l, c)| LegendItem::new(l, c, SeriesStyle::SOLID));
    let panel_h = if panels.len() == 1 { 600 } else { 430 };
    let height = HEAD_H + legend_height(&legend, width) + panel_h * rows as u32;
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(pe)?;
    let body = header(&root, title, subtitle, &legend, width)?;
    let areas = body.split_evenly((rows, cols));
    for (p, area) in panels.iter().zip(areas.iter()) {
        let stacked: Vec<(f64, f64)> = p
            .live
            .iter()
            .map(|&(t, v)| {
                let s = p
                    .stale
                    .iter()
                    .find(|(ts, _)| *ts == t)
                    .map(|x| x.1)
                    .unwrap_or(0.0);
                (t, v + s)
            })
            .collect();
        let t1 = p
            .used
            .iter()
            .chain(&p.live)
            .map(|x| x.0)
            .fold(1.0, f64::max);
        let t0 = p.used.iter().chain(&p.live).map(|x| x.0).fold(t1, f64::min);
        let t0 = if t1 - t0 > 1e-9 { t0 } else { 0.0 };
        let y1 = p
            .used
            .iter()
            .chain(&stacked)
            .map(|x| x.1)
            .fold(p.limit_mib, f64::max)
            .max(0.1)
            * 1.08;
        let mut chart = ChartBuilder::on(area)
            .caption(&p.title, font(18))
            .margin(12)
            .margin_right(24)
            .x_label_area_size(52)
            .y_label_area_size(78)
            .build_cartesian_2d(t0..t1, 0.0..y1)
            .map_err(pe)?;
        chart
            .configure_mesh()
            .x_desc("simulated time (s)")
            .y_desc("memory (MiB)")
            .x_labels(7)
            .y_labels(7)
            .x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&|v| fmt_num(*v))
            .label_style(font(15))
            .axis_desc_style(font(17))
            .max_light_lines(2)
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
            .draw()
            .map_err(pe)?;
        if p.live.len() > 1 {
            let mut poly = p.live.clone();
            poly.push((p.live.last().unwrap().0, 0.0));
            poly.push((p.live[0].0, 0.0));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    poly,
                    live_c.mix(0.45).filled(),
                )))
                .map_err(pe)?;
            let mut poly = stacked.clone();
            poly.extend(p.live.iter().rev().copied());
            chart
                .draw_series(std::iter::once(Polygon::new(
                    poly,
                    stale_c.mix(0.6).filled(),
                )))
                .map_err(pe)?;
        }
        chart
            .draw_series(LineSeries::new(p.used.clone(), used_c.stroke_width(3)))
            .map_err(pe)?;
        if p.limit_mib > 0.0 {
            let mut x = t0;
            let step = (t1 - t0) / 60.0;
            while x < t1 {
                chart
                    .draw_series(LineSeries::new(
                        vec![(x, p.limit_mib), ((x + step * 0.6).min(t1), p.limit_mib)],
                        limit_c.stroke_width(2),
                    ))
                    .map_err(pe)?;
                x += step;
            }
        }
    }
    root.present().map_err(pe)?;
    Ok(())
}

/// One CDF line: `(label, colour, [(x, cumulative fraction)])`.
pub type CdfSeries = (String, RGBColor, Vec<(f64, f64)>);

/// A cumulative distribution on a log x axis (for expiry lag).
pub struct CdfFigure {
    /// Big title.
    pub title: String,
    /// Second line.
    pub subtitle: String,
    /// X axis description with unit.
    pub x_label: String,
    /// The lines.
    pub series: Vec<CdfSeries>,
}

/// Draw a CDF figure to `path`.
pub fn draw_cdf(path: &Path, fig: &CdfFigure) -> Result<()> {
    init_fonts();
    let width = 1100;
    let legend: Vec<LegendItem> = fig
        .series
        .iter()
        .map(|(l, c, _)| LegendItem::new(l, *c, SeriesStyle::SOLID))
        .collect();
    let height = HEAD_H + legend_height(&legend, width) + 620;
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(pe)?;
    let body = header(&root, &fig.title, &fig.subtitle, &legend, width)?;
    let xs = fig.series.iter().flat_map(|s| s.2.iter().map(|p| p.0));
    let x1 = xs.clone().fold(10.0, f64::max) * 1.5;
    let x0 = xs.fold(f64::INFINITY, f64::min).clamp(0.1, 1.0) * 0.8;
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .margin_right(30)
        .x_label_area_size(56)
        .y_label_area_size(84)
        .build_cartesian_2d((x0..x1).log_scale(), 0.0..1.02)
        .map_err(pe)?;
    chart
        .configure_mesh()
        .x_desc(&fig.x_label)
        .y_desc("fraction of expired keys with lag ≤ x")
        .y_labels(11)
        .x_label_formatter(&|v| fmt_num(*v))
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .label_style(font(15))
        .axis_desc_style(font(17))
        .max_light_lines(2)
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(pe)?;
    for (_, color, pts) in &fig.series {
        let pts: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x.max(x0), y)).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(3)))
            .map_err(pe)?;
        chart
            .draw_series(pts.iter().map(|p| Circle::new(*p, 4, color.filled())))
            .map_err(pe)?;
    }
    root.present().map_err(pe)?;
    Ok(())
}

/// Short human number: 1234 → "1.2k", 0.25 → "0.25", 2000000 → "2M".
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if a >= 1e9 {
        format!("{}G", trim(format!("{:.2}", v / 1e9)))
    } else if a >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if a >= 1e4 {
        format!("{}k", trim(format!("{:.1}", v / 1e3)))
    } else if a >= 100.0 || a == 0.0 {
        format!("{:.0}", v)
    } else if a >= 1.0 {
        trim(format!("{:.2}", v))
    } else {
        trim(format!("{:.3}", v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_policy_is_dashed_thinner_and_hollow() {
        for p in Policy::REFERENCE {
            let style = series_style(p.name());
            assert_eq!(style, SeriesStyle::REFERENCE, "{}", p.name());
        }
        let r = SeriesStyle::REFERENCE;
        assert!(r.dashed && r.hollow && r.width < SeriesStyle::SOLID.width);
    }

    #[test]
    fn redis_policies_and_other_series_stay_solid() {
        for p in Policy::REDIS {
            assert_eq!(series_style(p.name()), SeriesStyle::SOLID, "{}", p.name());
        }
        for label in ["hit_ratio", "cache_hits", "active expiry (3 keys)", ""] {
            assert_eq!(series_style(label), SeriesStyle::SOLID, "{label}");
        }
        let s = SeriesStyle::SOLID;
        assert!(!s.dashed && !s.hollow && s.legend_suffix.is_empty());
    }

    #[test]
    fn the_legend_marks_references() {
        let item = |l: &str| LegendItem::new(l, BLACK, series_style(l)).label;
        assert_eq!(item("sieve"), "sieve (ref)");
        assert_eq!(item("exact-lru"), "exact-lru (ref)");
        assert_eq!(item("belady"), "belady (ref)");
        assert_eq!(item("allkeys-lru"), "allkeys-lru");
        assert_eq!(item("volatile-ttl"), "volatile-ttl");
    }

    #[test]
    fn redis_policies_keep_their_colours_and_references_have_their_own() {
        let redis = [
            ("allkeys-lru", 0),
            ("allkeys-lfu", 1),
            ("allkeys-random", 2),
            ("volatile-lru", 3),
            ("volatile-lfu", 4),
            ("volatile-random", 5),
            ("volatile-ttl", 6),
            ("noeviction", 7),
        ];
        for (name, i) in redis {
            assert_eq!(series_color(name, 9), PALETTE[i], "{name}");
        }
        let refs: Vec<RGBColor> = Policy::REFERENCE
            .iter()
            .map(|p| series_color(p.name(), 0))
            .collect();
        for (p, c) in Policy::REFERENCE.iter().zip(&refs) {
            assert!(!PALETTE[..8].contains(c), "{} has a Redis colour", p.name());
        }
        for (i, c) in refs.iter().enumerate() {
            assert!(!refs[..i].contains(c), "two references share {c:?}");
        }
        assert_eq!(series_color("exact-lru", 0), PALETTE[8]);
        assert_eq!(series_color("fifo", 0), BLACK);
    }

    #[test]
    fn references_start_a_legend_row_of_their_own() {
        let legend: Vec<LegendItem> = ["allkeys-lru", "allkeys-lfu", "fifo", "sieve", "arc"]
            .into_iter()
            .map(|l| LegendItem::new(l, BLACK, series_style(l)))
            .collect();
        let (places, rows) = legend_layout(&legend, 1100);
        assert_eq!(places, [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]);
        assert_eq!(rows, 2);
        assert_eq!(legend_height(&legend, 1100), 2 * LEGEND_ROW_H);
        let (places, rows) = legend_layout(&legend[2..], 1100);
        assert_eq!((places[0], rows), ((0, 0), 1), "no empty first row");
        assert_eq!(legend_layout(&[], 1100).1, 0);
    }
}
