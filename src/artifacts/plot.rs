//! Line and scatter plots written as PNG (raster, for the HTML report) and SVG
//! (vector, for papers), drawn with plotters and an embedded DejaVu Sans font
//! so that no system font library is needed.
//!
//! Bad data never panics: non-finite points, and non-positive points on a log
//! axis, are dropped (see [`kept_points`]) and the plot says how many were
//! dropped; a figure with nothing left to draw is still written, with a note.

use crate::artifacts::files::{atomic_write, temp_path};
use crate::error::{Error, Result};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Default size in pixels of a saved figure (width, height).
pub const DEFAULT_SIZE: (u32, u32) = (900, 600);

/// The font family name under which the embedded font is registered.
const FONT: &str = "sans-serif";

/// The categorical palette series colours are taken from (Tableau 10).
const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// The RGB colour of palette entry `index` (indices wrap around the palette).
pub fn palette_color(index: usize) -> (u8, u8, u8) {
    PALETTE[index % PALETTE.len()]
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Style {
    /// A solid line through the points in order.
    #[default]
    Line,
    /// A dashed line through the points in order (e.g. a prediction).
    Dashed,
    /// Unconnected markers.
    Points,
}

/// One named data series of a [`Figure`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// Abscissae; must have the same length as `y`.
    pub x: Vec<f64>,
    /// Ordinates.
    pub y: Vec<f64>,
    /// Line, dashed line or points.
    pub style: Style,
    /// Explicit palette index (see [`palette_color`]); `None` picks the next
    /// colour not taken by another series. Give the "actual" and "predicted"
    /// series of one run the same index to draw them in the same colour.
    pub color: Option<usize>,
}

impl Series {
    /// A series with the given style and an automatic colour.
    pub fn new(name: impl Into<String>, x: Vec<f64>, y: Vec<f64>, style: Style) -> Self {
        Series {
            name: name.into(),
            x,
            y,
            style,
            color: None,
        }
    }
    /// A solid-line series.
    pub fn line(name: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Self::new(name, x, y, Style::Line)
    }
    /// A dashed-line series.
    pub fn dashed(name: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Self::new(name, x, y, Style::Dashed)
    }
    /// A scatter (points) series.
    pub fn points(name: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Self::new(name, x, y, Style::Points)
    }
    /// Sets an explicit palette index.
    pub fn with_color(mut self, index: usize) -> Self {
        self.color = Some(index);
        self
    }
}

/// A single plot: title, axis labels, optional log axes and its series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Caption drawn above the plot.
    pub title: String,
    /// Label of the horizontal axis.
    pub x_label: String,
    /// Label of the vertical axis.
    pub y_label: String,
    /// Logarithmic horizontal axis (non-positive x values are dropped).
    pub log_x: bool,
    /// Logarithmic vertical axis (non-positive y values are dropped).
    pub log_y: bool,
    /// The data series, drawn in order (later ones on top).
    pub series: Vec<Series>,
}

impl Figure {
    /// An empty figure with a title and axis labels.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Figure {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            ..Default::default()
        }
    }
    /// Sets both axis scales.
    pub fn with_log(mut self, log_x: bool, log_y: bool) -> Self {
        self.log_x = log_x;
        self.log_y = log_y;
        self
    }
    /// Appends a series.
    pub fn with_series(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }
    /// Appends a series in place.
    pub fn push(&mut self, s: Series) {
        self.series.push(s);
    }

    /// The palette index of every series, in order: explicit indices are kept,
    /// and series without one get successive indices not used explicitly.
    pub fn color_indices(&self) -> Vec<usize> {
        let explicit: Vec<usize> = self
            .series
            .iter()
            .filter_map(|s| s.color.map(|c| c % PALETTE.len()))
            .collect();
        let mut next = 0usize;
        self.series
            .iter()
            .map(|s| match s.color {
                Some(c) => c,
                None => {
                    // Skip explicitly taken colours, unless all of them are taken.
                    let mut tries = 0;
                    while explicit.contains(&(next % PALETTE.len())) && tries < PALETTE.len() {
                        next += 1;
                        tries += 1;
                    }
                    let c = next;
                    next += 1;
                    c
                }
            })
            .collect()
    }
}

/// The points of a series that can be drawn: pairs `(x[i], y[i])` (over the
/// shorter of the two slices) with both coordinates finite, and positive on a
/// logarithmic axis. Order is preserved.
pub fn kept_points(x: &[f64], y: &[f64], log_x: bool, log_y: bool) -> Vec<(f64, f64)> {
    x.iter()
        .zip(y)
        .filter(|&(&a, &b)| {
            a.is_finite() && b.is_finite() && (!log_x || a > 0.0) && (!log_y || b > 0.0)
        })
        .map(|(&a, &b)| (a, b))
        .collect()
}

/// Largest magnitude a linear axis reaches (so its span stays finite).
const LINEAR_LIMIT: f64 = 8e307;

/// The padded axis range `(lo, hi)` (lo < hi) used for `values`, which are
/// assumed already filtered by [`kept_points`]. Linear axes are padded by 5%
/// of the span; log axes by 5% of the span in decades and widened to contain
/// at least one power of ten (so there is a labelled tick). Empty input gives
/// `(0, 1)` (linear) or `(1, 10)` (log). So that the range stays drawable,
/// a linear range is kept within ±8e307 and a log range within 295 decades
/// (the lowest values are cut off); points outside are not drawn.
pub fn axis_range(values: &[f64], log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in values {
        if v.is_finite() && (!log || v > 0.0) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if lo > hi {
        return if log { (1.0, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        let (mut a, mut b) = (lo.log10(), hi.log10());
        // plotters needs hi / lo to be finite: keep at most the top 290 decades.
        a = a.max(b - 290.0);
        if b - a < 1e-9 {
            a -= 0.5;
            b += 0.5;
        } else {
            let pad = 0.05 * (b - a);
            a -= pad;
            b += pad;
        }
        if b.floor() < a {
            a = a.floor();
        }
        let a = a.clamp(-300.0, 299.0);
        let b = b.clamp(a + 1e-6, 300.0);
        let a = a.max(b - 295.0);
        (10f64.powf(a), 10f64.powf(b))
    } else {
        // plotters needs a finite span: keep within ±LINEAR_LIMIT.
        let lo = lo.clamp(-LINEAR_LIMIT, LINEAR_LIMIT);
        let hi = hi.clamp(-LINEAR_LIMIT, LINEAR_LIMIT);
        let span = hi - lo;
        let scale = lo.abs().max(hi.abs());
        let (a, b) = if span <= scale * 1e-12 || span == 0.0 {
            let pad = if scale > 0.0 { 0.1 * scale } else { 1.0 };
            (lo - pad, hi + pad)
        } else {
            let pad = if span.is_finite() { 0.05 * span } else { 0.0 };
            let mut a = lo - pad;
            let mut b = hi + pad;
            // Do not pad a non-negative axis below zero (or a non-positive one above).
            if lo >= 0.0 && a < 0.0 {
                a = 0.0;
            }
            if hi <= 0.0 && b > 0.0 {
                b = 0.0;
            }
            (a, b)
        };
        let a = if a.is_finite() { a } else { lo };
        let b = if b.is_finite() { b } else { hi };
        if a < b {
            (a, b)
        } else {
            (a - 1.0, b + 1.0)
        }
    }
}

/// A compact tick label: up to 6 significant digits, trailing zeros trimmed,
/// scientific notation for very large or small magnitudes.
pub fn format_tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0".into() } else { format!("{v}") };
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.2e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = trim_zeros(mant);
        return format!("{mant}e{exp}");
    }
    let decimals = (5 - a.log10().floor() as i32).clamp(0, 8) as usize;
    trim_zeros(&format!("{v:.decimals$}"))
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" {
            "0".into()
        } else {
            t.into()
        }
    } else {
        s.into()
    }
}

/// Registers the embedded DejaVu Sans font with plotters, once per process.
fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "font",
            "the embedded DejaVu Sans font could not be parsed",
        ))
    }
}

/// A series ready to draw: kept points, colour, style.
struct PreparedSeries {
    name: String,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    style: Style,
}

/// Counts of points not drawn.
#[derive(Clone, Copy)]
struct Dropped {
    /// Non-finite, or non-positive on a log axis.
    bad: usize,
    /// Beyond the range an axis can show.
    outside: usize,
}

/// The drawable content of a figure.
struct Drawable {
    series: Vec<PreparedSeries>,
    x: (f64, f64),
    y: (f64, f64),
    dropped: Dropped,
}

/// Filters every series and computes the axis ranges and dropped-point count.
fn prepare(fig: &Figure) -> Result<Drawable> {
    let colors = fig.color_indices();
    let mut out = Vec::with_capacity(fig.series.len());
    let mut dropped = 0;
    for (s, &c) in fig.series.iter().zip(&colors) {
        if s.x.len() != s.y.len() {
            return Err(Error::Shape(format!(
                "series '{}' of figure '{}' has {} x values but {} y values",
                s.name,
                fig.title,
                s.x.len(),
                s.y.len()
            )));
        }
        let points = kept_points(&s.x, &s.y, fig.log_x, fig.log_y);
        dropped += s.x.len() - points.len();
        let (r, g, b) = palette_color(c);
        out.push(PreparedSeries {
            name: s.name.clone(),
            points,
            color: RGBColor(r, g, b),
            style: s.style,
        });
    }
    let xs: Vec<f64> = out
        .iter()
        .flat_map(|p| p.points.iter().map(|q| q.0))
        .collect();
    let ys: Vec<f64> = out
        .iter()
        .flat_map(|p| p.points.iter().map(|q| q.1))
        .collect();
    let xr = axis_range(&xs, fig.log_x);
    let yr = axis_range(&ys, fig.log_y);
    // Only extreme data (beyond what axis_range can show) falls outside.
    let mut outside = 0;
    for p in &mut out {
        let before = p.points.len();
        p.points
            .retain(|&(x, y)| x >= xr.0 && x <= xr.1 && y >= yr.0 && y <= yr.1);
        outside += before - p.points.len();
    }
    Ok(Drawable {
        series: out,
        x: xr,
        y: yr,
        dropped: Dropped {
            bad: dropped,
            outside,
        },
    })
}

type DrawResult = std::result::Result<(), String>;

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Draws the whole figure on `root` for the given coordinate specs.
fn draw_with<DB, X, Y>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure,
    series: &[PreparedSeries],
    dropped: Dropped,
    x_spec: X,
    y_spec: Y,
) -> DrawResult
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    root.fill(&WHITE).map_err(err)?;
    let (w, h) = root.dim_in_pixel();
    let mut builder = ChartBuilder::on(root);
    builder
        .margin(16)
        .margin_right(28)
        .x_label_area_size(56)
        .y_label_area_size(84);
    if !fig.title.is_empty() {
        builder.caption(&fig.title, (FONT, 24).into_font().style(FontStyle::Bold));
    }
    let mut chart = builder.build_cartesian_2d(x_spec, y_spec).map_err(err)?;

    let fmt = |v: &f64| format_tick(*v);
    chart
        .configure_mesh()
        .x_desc(fig.x_label.as_str())
        .y_desc(fig.y_label.as_str())
        .axis_desc_style((FONT, 18))
        .label_style((FONT, 14))
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .x_labels(8)
        .y_labels(8)
        .bold_line_style(RGBColor(215, 215, 215))
        .light_line_style(RGBColor(240, 240, 240))
        .axis_style(RGBColor(80, 80, 80))
        .draw()
        .map_err(err)?;

    let mut any_point = false;
    for s in series {
        let stroke = s.color.stroke_width(2);
        let c = s.color;
        any_point |= !s.points.is_empty();
        let pts = s.points.clone();
        let label = if s.points.is_empty() {
            format!("{} (no data)", s.name)
        } else {
            s.name.clone()
        };
        let anno = match s.style {
            Style::Line if pts.len() > 1 => chart.draw_series(LineSeries::new(pts, stroke)),
            Style::Dashed if pts.len() > 1 => {
                chart.draw_series(DashedLineSeries::new(pts, 9, 6, stroke))
            }
            // Points, or a line with a single point: draw markers.
            _ => chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, c.filled()))),
        }
        .map_err(err)?;
        if !s.name.is_empty() {
            anno.label(label);
            match s.style {
                Style::Line => {
                    anno.legend(move |(x, y)| {
                        Rectangle::new([(x, y - 1), (x + 22, y + 1)], c.filled())
                    });
                }
                Style::Dashed => {
                    anno.legend(move |(x, y)| {
                        EmptyElement::at((x, y))
                            + Rectangle::new([(0, -1), (8, 1)], c.filled())
                            + Rectangle::new([(14, -1), (22, 1)], c.filled())
                    });
                }
                Style::Points => {
                    anno.legend(move |(x, y)| Circle::new((x + 11, y), 3, c.filled()));
                }
            }
        }
    }

    if series.iter().any(|s| !s.name.is_empty()) {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .label_font((FONT, 15))
            .draw()
            .map_err(err)?;
    }

    let area = chart.plotting_area();
    let (px, py) = area.get_pixel_range();
    let (cx, cy) = ((px.start + px.end) / 2, (py.start + py.end) / 2);
    let total = dropped.bad + dropped.outside;
    let mut reasons = vec!["non-finite"];
    if fig.log_x || fig.log_y {
        reasons.push("non-positive on a log axis");
    }
    if dropped.outside > 0 {
        reasons.push("beyond the drawable range");
    }
    let dropped_text = format!(
        "{total} point{} dropped ({})",
        if total == 1 { "" } else { "s" },
        reasons.join(" or ")
    );
    if !any_point {
        let msg = if series.is_empty() {
            "no data to plot".to_string()
        } else if total > 0 {
            format!("no plottable data: {dropped_text}")
        } else {
            "no data to plot (all series are empty)".to_string()
        };
        let style = TextStyle::from((FONT, 20).into_font())
            .color(&RGBColor(120, 120, 120))
            .pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Center,
            ));
        root.draw(&Text::new(msg, (cx, cy), style)).map_err(err)?;
    } else if total > 0 {
        let msg = dropped_text;
        let style = TextStyle::from((FONT, 13).into_font())
            .color(&RGBColor(110, 110, 110))
            .pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Right,
                plotters::style::text_anchor::VPos::Bottom,
            ));
        let x = (w as i32 - 8).max(0);
        let y = (h as i32 - 6).max(0);
        root.draw(&Text::new(msg, (x, y), style)).map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// Draws `fig` on `root`, choosing linear or log coordinates per axis.
fn draw_figure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure,
) -> Result<DrawResult> {
    let Drawable {
        series,
        x: (x0, x1),
        y: (y0, y1),
        dropped,
    } = prepare(fig)?;
    Ok(match (fig.log_x, fig.log_y) {
        (false, false) => draw_with(root, fig, &series, dropped, x0..x1, y0..y1),
        (true, false) => draw_with(root, fig, &series, dropped, (x0..x1).log_scale(), y0..y1),
        (false, true) => draw_with(root, fig, &series, dropped, x0..x1, (y0..y1).log_scale()),
        (true, true) => draw_with(
            root,
            fig,
            &series,
            dropped,
            (x0..x1).log_scale(),
            (y0..y1).log_scale(),
        ),
    })
}

/// Renders `fig` as an SVG document of `size` pixels.
pub fn render_svg(fig: &Figure, size: (u32, u32)) -> Result<String> {
    check_size(size)?;
    ensure_font()?;
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        draw_figure(&root, fig)?
            .map_err(|e| Error::Numerical(format!("drawing SVG figure '{}': {e}", fig.title)))?;
    }
    Ok(buf)
}

/// Renders `fig` into a packed RGB8 buffer of `size` pixels (row-major,
/// 3 bytes per pixel).
pub fn render_rgb(fig: &Figure, size: (u32, u32)) -> Result<Vec<u8>> {
    check_size(size)?;
    ensure_font()?;
    let mut buf = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        draw_figure(&root, fig)?
            .map_err(|e| Error::Numerical(format!("drawing figure '{}': {e}", fig.title)))?;
    }
    Ok(buf)
}

fn check_size(size: (u32, u32)) -> Result<()> {
    if size.0 < 100 || size.1 < 100 || size.0 > 10_000 || size.1 > 10_000 {
        return Err(Error::invalid(
            "figure size",
            format!(
                "{}x{} pixels; each side must be between 100 and 10000",
                size.0, size.1
            ),
        ));
    }
    Ok(())
}

/// Writes `dir/stem.png` and `dir/stem.svg` at [`DEFAULT_SIZE`] (900×600)
/// and returns their paths (png, svg). `dir` is created if missing; both
/// files are written atomically (temporary file in `dir`, then rename).
pub fn save_figure(fig: &Figure, dir: impl AsRef<Path>, stem: &str) -> Result<(PathBuf, PathBuf)> {
    save_figure_sized(fig, dir, stem, DEFAULT_SIZE)
}

/// [`save_figure`] with an explicit size in pixels (width, height).
pub fn save_figure_sized(
    fig: &Figure,
    dir: impl AsRef<Path>,
    stem: &str,
    size: (u32, u32),
) -> Result<(PathBuf, PathBuf)> {
    let dir = dir.as_ref();
    if stem.is_empty() || stem.contains(['/', '\\']) || stem == "." || stem == ".." {
        return Err(Error::invalid(
            "figure file stem",
            format!("'{stem}' must be a non-empty file name without path separators"),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));

    let svg_text = render_svg(fig, size)?;
    atomic_write(&svg, svg_text.as_bytes())?;

    ensure_font()?;
    // plotters picks the image format from the extension, so the temporary
    // file ends in ".png" too.
    let tmp = temp_path(&png, ".png");
    let drawn = {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        draw_figure(&root, fig)
    };
    match drawn {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::io(
                &png,
                std::io::Error::other(format!("drawing figure: {e}")),
            ));
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    }
    if let Err(e) = std::fs::rename(&tmp, &png) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&png, e));
    }
    Ok((png, svg))
}
