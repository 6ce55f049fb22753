//! The results charts, drawn with plotters on a `<canvas>`.
//!
//! Each [`Chart`] draws itself on any plotters [`DrawingBackend`] (natively the tests
//! render the same functions to SVG); [`ChartFigure`] is the only place that touches
//! the canvas. A figure is a titled `<canvas role="img">` whose `aria-label` states the
//! values it shows, and an HTML legend: the policy colours are [`PALETTE`] on the
//! canvas and the `s0`…`s7` classes of the style sheet in the legend (a test pins them
//! equal). No inline style is written anywhere, so the page's Content-Security-Policy
//! holds: text is measured with the canvas's own `measureText` (see [`Canvas`]).

use crate::summary::fmt_value;
use leptos::prelude::*;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendTextStyle, DrawingErrorKind};
use plotters_canvas::CanvasBackend;
use std::rc::Rc;
use tollbooth_engine::simulate::report::AFTER_TAX_VALUE_DEFINITION;
use tollbooth_engine::simulate::Report;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Logical width of a chart, in CSS pixels (the canvas scales it to its box).
pub const W: u32 = 560;
/// Logical height of a chart, in CSS pixels.
pub const H: u32 = 320;

/// One colour per policy, in policy order (repeating after eight); the style sheet's
/// `.swatch.s0`…`.swatch.s7` use the same values.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0x0b, 0x5c, 0xad),
    RGBColor(0xc2, 0x41, 0x0c),
    RGBColor(0x1f, 0x7a, 0x3a),
    RGBColor(0x7c, 0x3a, 0xed),
    RGBColor(0xb3, 0x26, 0x1e),
    RGBColor(0x0e, 0x74, 0x90),
    RGBColor(0xa1, 0x62, 0x07),
    RGBColor(0x47, 0x55, 0x69),
];
const INK: RGBColor = RGBColor(0x1b, 0x1f, 0x24);
const MUTED: RGBColor = RGBColor(0x5b, 0x64, 0x70);
const RULE: RGBColor = RGBColor(0xd7, 0xdc, 0xe2);
const FONT: &str = "sans-serif";

/// The colour of policy `i`.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The colour of policy `i` as CSS hex (`#0b5cad`).
pub fn color_hex(i: usize) -> String {
    let RGBColor(r, g, b) = color(i);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The marker shape of policy `i` (circle, triangle, square, cross, repeating), drawn with
/// its colour wherever the chart marks a policy's points, so that a reader who cannot
/// tell two colours apart (or a grey printout) tells the shapes; the legend's swatches
/// have the same shapes (`.swatch.m0`…`.m3`).
pub const MARKERS: usize = 4;

/// Draws the markers `pts` (policy index, point) of radius `r` logical pixels: each
/// policy's shape in its colour.
fn draw_markers<DB: DrawingBackend>(
    chart: &mut Plot<'_, DB>,
    pts: &[(usize, (f64, f64))],
    r: u32,
) -> Drawn<DB> {
    let r = r as i32;
    let of = move |m: usize| pts.iter().filter(move |(i, _)| i % MARKERS == m);
    chart.draw_series(of(0).map(|&(i, p)| Circle::new(p, r, color(i).filled())))?;
    chart.draw_series(of(1).map(|&(i, p)| TriangleMarker::new(p, r + 1, color(i).filled())))?;
    chart.draw_series(of(2).map(|&(i, p)| {
        EmptyElement::at(p) + Rectangle::new([(-r, -r), (r, r)], color(i).filled())
    }))?;
    chart.draw_series(of(3).map(|&(i, p)| Cross::new(p, r, color(i).stroke_width(3))))?;
    Ok(())
}

/// Markers of policy `i` along a line of `pts`: six or so, staggered by policy so that
/// lines running together keep their marks apart.
fn line_markers(i: usize, pts: &[(f64, f64)]) -> Vec<(usize, (f64, f64))> {
    let step = (pts.len() / 6).max(1);
    let offset = (i * step / MARKERS) % step;
    pts.iter()
        .enumerate()
        .filter(|(j, _)| j % step == offset)
        .map(|(_, &p)| (i, p))
        .collect()
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The canvas gave no 2D drawing context.
    #[error("the {chart} chart: the canvas has no 2D context")]
    NoContext {
        /// The chart's test id.
        chart: &'static str,
    },
    /// Plotters or the backend failed while drawing.
    #[error("the {chart} chart could not be drawn: {message}")]
    Draw {
        /// The chart's test id.
        chart: &'static str,
        /// The drawing error as plotters reports it.
        message: String,
    },
}

/// The five results charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// Ticket, fee, spread and impact cost against tax alpha before costs, one point per policy.
    CostVsAlpha,
    /// Mean cumulative tickets over time, one line per policy.
    Tickets,
    /// Mean cumulative ticket charges and regulatory fees over time, one line per policy.
    Fees,
    /// After-tax household value over time (month-ends): the 5th–95th percentile band and
    /// the median, per policy.
    WealthFan,
    /// Mean one-way annual turnover, one bar per policy.
    Turnover,
}

impl Chart {
    /// Every chart, in page order.
    pub const ALL: [Chart; 5] = [
        Chart::CostVsAlpha,
        Chart::Tickets,
        Chart::Fees,
        Chart::WealthFan,
        Chart::Turnover,
    ];

    /// The `data-testid` of the chart's canvas.
    pub fn test_id(self) -> &'static str {
        match self {
            Chart::CostVsAlpha => "chart-scatter",
            Chart::Tickets => "chart-tickets",
            Chart::Fees => "chart-fees",
            Chart::WealthFan => "chart-fan",
            Chart::Turnover => "chart-turnover",
        }
    }

    /// The visible caption.
    pub fn title(self) -> &'static str {
        match self {
            Chart::CostVsAlpha => "Trading cost vs tax alpha before costs, per policy",
            Chart::Tickets => "Cumulative tickets (mean)",
            Chart::Fees => "Cumulative ticket charges and regulatory fees (mean)",
            Chart::WealthFan => "After-tax household value: 5th, 50th and 95th percentiles",
            Chart::Turnover => "Turnover per policy (mean, one-way, per year)",
        }
    }

    /// The definition of what is plotted, when the title needs one (shown under the chart
    /// and read after the values).
    pub fn note(self) -> Option<&'static str> {
        match self {
            Chart::WealthFan => Some(AFTER_TAX_VALUE_DEFINITION),
            _ => None,
        }
    }

    /// What the chart shows, with its values, for the canvas's `aria-label`.
    pub fn description(self, r: &Report) -> String {
        let names = r.policies.iter().map(|p| p.name.as_str());
        let per_policy: Vec<String> = match self {
            Chart::CostVsAlpha => names
                .enumerate()
                .map(|(p, n)| {
                    let (cost, alpha) = cost_and_alpha(r, p);
                    let alpha = if r.defines(ALPHA) {
                        fmt_value("bps_per_year", alpha)
                    } else {
                        "n/a".to_string()
                    };
                    format!("{n}: cost {}, tax alpha {alpha}", fmt_value("usd", cost))
                })
                .collect(),
            Chart::Tickets | Chart::Fees => {
                let unit = if self == Chart::Fees { "usd" } else { "count" };
                r.series
                    .policies
                    .iter()
                    .map(|s| {
                        let line = if self == Chart::Fees {
                            &s.cumulative_fees
                        } else {
                            &s.cumulative_tickets
                        };
                        let end = line.last().copied().unwrap_or(f64::NAN);
                        format!("{}: {}", s.name, fmt_value(unit, end))
                    })
                    .collect()
            }
            Chart::WealthFan => r
                .series
                .policies
                .iter()
                .map(|s| {
                    let last =
                        |v: &Vec<f64>| fmt_value("usd", v.last().copied().unwrap_or(f64::NAN));
                    format!(
                        "{}: median {} (5th percentile {}, 95th {})",
                        s.name,
                        last(&s.after_tax_p50),
                        last(&s.after_tax_p5),
                        last(&s.after_tax_p95)
                    )
                })
                .collect(),
            Chart::Turnover => names
                .enumerate()
                .map(|(p, n)| {
                    format!(
                        "{n}: {}",
                        fmt_value("fraction_per_year", metric_mean(r, p, "turnover"))
                    )
                })
                .collect(),
        };
        let when = match self {
            Chart::Tickets | Chart::Fees | Chart::WealthFan => {
                let s = if r.horizon_years == 1 { "" } else { "s" };
                format!(", over {} year{s}; at the end: ", r.horizon_years)
            }
            _ => ": ".to_string(),
        };
        let note = match self.note() {
            Some(n) => format!(" {n}"),
            None if self == Chart::CostVsAlpha && !r.defines(ALPHA) => {
                format!(" Tax alpha: {}.", crate::summary::UNDEFINED_TAX_ALPHA)
            }
            None => String::new(),
        };
        format!("{}{when}{}.{note}", self.title(), per_policy.join("; "))
    }

    /// Draws the chart on `area` (the whole area, background included).
    pub fn draw<DB: DrawingBackend>(
        self,
        r: &Report,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), ChartError> {
        let drawn = match self {
            Chart::CostVsAlpha => cost_vs_alpha(r, area),
            Chart::Tickets => cumulative(r, false, area),
            Chart::Fees => cumulative(r, true, area),
            Chart::WealthFan => wealth_fan(r, area),
            Chart::Turnover => turnover(r, area),
        };
        drawn.map_err(|e| ChartError::Draw {
            chart: self.test_id(),
            message: e.to_string(),
        })
    }
}

/// A chart with linear axes in data units.
type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// An axis tick: dollars compacted (`$1.5M`, `$250k`), rates without the "/yr" that
/// the axis title states, other units as in the table.
pub fn axis_value(unit: &str, x: f64) -> String {
    if unit == "bps_per_year" {
        format!("{x:.1}")
    } else if unit == "fraction_per_year" {
        format!("{:.0}%", 100.0 * x)
    } else if unit == "usd" && x.abs() >= 10_000.0 {
        let sign = if x < 0.0 { "−" } else { "" };
        let a = x.abs();
        if a >= 1e6 {
            format!("{sign}${:.1}M", a / 1e6)
        } else {
            format!("{sign}${:.0}k", a / 1e3)
        }
    } else if unit == "usd" {
        let s = fmt_value(unit, x);
        s.strip_suffix(".00").map_or(s.clone(), str::to_string)
    } else {
        fmt_value(unit, x)
    }
}

/// The plotted range of the finite values: padded by 6%, widened when flat, and
/// stretched to include zero when `from_zero` (then not padded below a zero floor).
pub fn span(v: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = v
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if hi - lo < 1e-12 {
        let d = lo.abs().max(1.0) * 0.1;
        return (lo - d, hi + d);
    }
    let pad = 0.06 * (hi - lo);
    let lo = if from_zero && lo == 0.0 {
        0.0
    } else {
        lo - pad
    };
    // Values near the largest float overflow the padded range, and a chart over an
    // infinite range never finishes laying out its ticks: fall back to a unit range.
    let hi = hi + pad;
    if (hi - lo).is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}

/// Policy `p`'s mean of metric `key`; not a number when the run does not define it (the
/// chart then draws no point for it).
fn metric_mean(r: &Report, p: usize, key: &str) -> f64 {
    r.policies[p]
        .metric(key)
        .filter(|_| r.defines(key))
        .map_or(f64::NAN, |s| s.mean)
}

/// The tax alpha the cost-vs-alpha chart plots.
const ALPHA: &str = "tax_alpha_before_costs";

/// Policy `p`'s mean ticket charges + regulatory fees + spread and impact, and mean tax alpha
/// before costs (bp/yr).
fn cost_and_alpha(r: &Report, p: usize) -> (f64, f64) {
    let cost = metric_mean(r, p, "ticket_charges")
        + metric_mean(r, p, "regulatory_fees")
        + metric_mean(r, p, "spread_impact");
    (cost, metric_mean(r, p, ALPHA))
}

/// Month-end times in years from the start (the first month end of a run starting on the
/// 20th is ten days in, not a month; the last point is the horizon's last day).
fn years(r: &Report) -> Vec<f64> {
    r.series
        .dates
        .iter()
        .map(|d| f64::from(d.days_since(r.start)) / 365.2425)
        .collect()
}

/// The finite points of a series, in order.
fn points(xs: &[f64], ys: &[f64]) -> Vec<(f64, f64)> {
    xs.iter()
        .copied()
        .zip(ys.iter().copied())
        .filter(|(_, y)| y.is_finite())
        .collect()
}

thread_local! {
    /// The chart text's size against the screen's (see [`text_scale`]), for the drawing
    /// under way.
    static TEXT_SCALE: std::cell::Cell<f64> = const { std::cell::Cell::new(1.0) };
    /// Set between the window's `beforeprint` and `afterprint`.
    static PRINTING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `px` logical pixels of chart text or of the space set aside for it, at the drawing's
/// text scale.
fn scaled(px: u32) -> u32 {
    (f64::from(px) * TEXT_SCALE.with(|s| s.get())).round() as u32
}

fn text(size: u32, c: &RGBColor) -> TextStyle<'static> {
    (FONT, scaled(size)).into_font().color(c)
}

/// How large the charts' text is drawn: as the page's in presentation mode (its type is
/// 135 %, for a projector) and larger for print, where two charts share the page's width
/// (11 px tick labels came out near 5 pt on paper).
fn text_scale() -> f64 {
    if PRINTING.with(|p| p.get()) {
        1.6
    } else if window()
        .document()
        .and_then(|d| d.query_selector(".presenting").ok().flatten())
        .is_some()
    {
        1.35
    } else {
        1.0
    }
}

/// Background, frame, grid, tick labels (formatted in `x_unit`/`y_unit`; no x labels
/// when `x_unit` is empty) and axis titles.
fn frame<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: (f64, f64),
    y: (f64, f64),
    units: (&str, &str),
    titles: (&str, &str),
) -> Result<Plot<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    area.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(area)
        .margin_top(12)
        .margin_right(18)
        .margin_left(6)
        .margin_bottom(4)
        .x_label_area_size(scaled(if units.0.is_empty() { 22 } else { 42 }))
        .y_label_area_size(scaled(78))
        .build_cartesian_2d(x.0..x.1, y.0..y.1)?;
    let (xu, yu) = units;
    let xf = |v: &f64| axis_value(xu, *v);
    let yf = |v: &f64| axis_value(yu, *v);
    let mut mesh = chart.configure_mesh();
    mesh.disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(RULE.stroke_width(1))
        .axis_style(INK.stroke_width(1))
        .label_style(text(11, &INK))
        .axis_desc_style(text(12, &MUTED))
        .y_labels(6)
        .y_label_formatter(&yf)
        .y_desc(titles.1);
    if xu.is_empty() {
        mesh.x_labels(0);
    } else {
        mesh.x_labels(8).x_label_formatter(&xf).x_desc(titles.0);
    }
    mesh.draw()?;
    Ok(chart)
}

fn cost_vs_alpha<DB: DrawingBackend>(r: &Report, area: &DrawingArea<DB, Shift>) -> Drawn<DB> {
    let pts: Vec<(f64, f64)> = (0..r.policies.len())
        .map(|p| cost_and_alpha(r, p))
        .collect();
    let (y0, y1) = span(pts.iter().map(|p| p.1), true);
    // The baseline's tax alpha is zero by definition: keep its point clear of the axis.
    let y0 = if y0 == 0.0 { -0.06 * y1 } else { y0 };
    let mut chart = frame(
        area,
        span(pts.iter().map(|p| p.0), false),
        (y0, y1),
        ("usd", "bps_per_year"),
        (
            "Ticket charges + regulatory fees + spread and impact, mean ($)",
            "Tax alpha before costs (bp/yr)",
        ),
    )?;
    let marks: Vec<(usize, (f64, f64))> = pts
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, (x, y))| x.is_finite() && y.is_finite())
        .collect();
    draw_markers(&mut chart, &marks, 7)?;
    // A run that cannot define tax alpha has no points: the plot says why, not just empty.
    if !r.defines(ALPHA) {
        let (xs, ys) = (chart.x_range(), chart.y_range());
        let centre = ((xs.start + xs.end) / 2.0, (ys.start + ys.end) / 2.0);
        let style = text(12, &MUTED).pos(Pos::new(HPos::Center, VPos::Center));
        chart.draw_series([EmptyElement::at(centre)
            + Text::new(
                "Tax alpha is not defined for this run:",
                (0, -9),
                style.clone(),
            )
            + Text::new(crate::summary::UNDEFINED_TAX_ALPHA, (0, 9), style.clone())])?;
    }
    Ok(())
}

fn cumulative<DB: DrawingBackend>(
    r: &Report,
    fees: bool,
    area: &DrawingArea<DB, Shift>,
) -> Drawn<DB> {
    let t = years(r);
    let lines: Vec<&Vec<f64>> = r
        .series
        .policies
        .iter()
        .map(|p| {
            if fees {
                &p.cumulative_fees
            } else {
                &p.cumulative_tickets
            }
        })
        .collect();
    let (unit, title) = if fees {
        ("usd", "Ticket charges + fees, cumulative ($)")
    } else {
        ("count", "Tickets, cumulative")
    };
    let mut chart = frame(
        area,
        span(t.iter().copied(), true),
        span(lines.iter().flat_map(|l| l.iter().copied()), true),
        ("count", unit),
        ("Years", title),
    )?;
    chart.draw_series(
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| PathElement::new(points(&t, l), color(i).stroke_width(2))),
    )?;
    let marks: Vec<(usize, (f64, f64))> = lines
        .iter()
        .enumerate()
        .flat_map(|(i, l)| line_markers(i, &points(&t, l)))
        .collect();
    draw_markers(&mut chart, &marks, scaled(4))?;
    Ok(())
}

fn wealth_fan<DB: DrawingBackend>(r: &Report, area: &DrawingArea<DB, Shift>) -> Drawn<DB> {
    let t = years(r);
    let all = r
        .series
        .policies
        .iter()
        .flat_map(|p| p.after_tax_p5.iter().chain(&p.after_tax_p95).copied());
    let mut chart = frame(
        area,
        span(t.iter().copied(), true),
        span(all, false),
        ("count", "usd"),
        ("Years", "After-tax household value ($)"),
    )?;
    // The bands first, so that no band covers another policy's median.
    chart.draw_series(r.series.policies.iter().enumerate().map(|(i, p)| {
        let mut band = points(&t, &p.after_tax_p95);
        band.extend(points(&t, &p.after_tax_p5).into_iter().rev());
        Polygon::new(band, color(i).mix(0.12).filled())
    }))?;
    chart.draw_series(
        r.series
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| PathElement::new(points(&t, &p.after_tax_p50), color(i).stroke_width(2))),
    )?;
    let marks: Vec<(usize, (f64, f64))> = r
        .series
        .policies
        .iter()
        .enumerate()
        .flat_map(|(i, p)| line_markers(i, &points(&t, &p.after_tax_p50)))
        .collect();
    draw_markers(&mut chart, &marks, scaled(4))?;
    Ok(())
}

fn turnover<DB: DrawingBackend>(r: &Report, area: &DrawingArea<DB, Shift>) -> Drawn<DB> {
    let n = r.policies.len().max(1);
    let vals: Vec<f64> = (0..r.policies.len())
        .map(|p| metric_mean(r, p, "turnover"))
        .collect();
    let (lo, hi) = span(vals.iter().copied(), true);
    // Headroom for the value printed above the tallest bar.
    let hi = hi + 0.08 * (hi - lo);
    let mut chart = frame(
        area,
        (0.0, n as f64),
        (lo, hi),
        ("", "fraction_per_year"),
        ("", "Turnover, one-way (%/yr)"),
    )?;
    let finite = || vals.iter().enumerate().filter(|(_, v)| v.is_finite());
    chart.draw_series(finite().map(|(i, &v)| {
        let x = i as f64;
        Rectangle::new([(x + 0.2, 0.0), (x + 0.8, v)], color(i).filled())
    }))?;
    let above = text(11, &INK).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart.draw_series(finite().map(|(i, &v)| {
        EmptyElement::at((i as f64 + 0.5, v.max(0.0)))
            + Text::new(fmt_value("fraction_per_year", v), (0, -4), above.clone())
    }))?;
    // The policy names under their bars, cut to the bar's slot.
    let slot = chart.plotting_area().dim_in_pixel().0 as usize / n;
    let below = text(11, &INK).pos(Pos::new(HPos::Center, VPos::Top));
    chart.draw_series(r.policies.iter().enumerate().map(|(i, p)| {
        EmptyElement::at((i as f64 + 0.5, lo))
            + Text::new(
                clip(&p.name, slot / scaled(7).max(1) as usize),
                (0, 5),
                below.clone(),
            )
    }))?;
    Ok(())
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A plotters backend on a `<canvas>`: [`CanvasBackend`] drawing at `scale` device
/// pixels per CSS pixel, with text measured by the canvas itself. (Plotters' own web
/// text measurement writes a `style` attribute, which the page's Content-Security-Policy
/// forbids.)
pub struct Canvas {
    inner: CanvasBackend,
    context: CanvasRenderingContext2d,
    size: (u32, u32),
}

impl Canvas {
    /// Sizes `canvas` to `size` CSS pixels × `scale` and wraps it.
    pub fn new(
        chart: Chart,
        canvas: HtmlCanvasElement,
        size: (u32, u32),
        scale: f64,
    ) -> Result<Canvas, ChartError> {
        let no_context = || ChartError::NoContext {
            chart: chart.test_id(),
        };
        canvas.set_width((f64::from(size.0) * scale).round() as u32);
        canvas.set_height((f64::from(size.1) * scale).round() as u32);
        let context: CanvasRenderingContext2d = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into().ok())
            .ok_or_else(no_context)?;
        context
            .set_transform(scale, 0.0, 0.0, scale, 0.0, 0.0)
            .map_err(|_| no_context())?;
        let inner = CanvasBackend::with_canvas_object(canvas).ok_or_else(no_context)?;
        Ok(Canvas {
            inner,
            context,
            size,
        })
    }
}

type CanvasErr = DrawingErrorKind<<CanvasBackend as DrawingBackend>::ErrorType>;

impl DrawingBackend for Canvas {
    type ErrorType = <CanvasBackend as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }
    fn ensure_prepared(&mut self) -> Result<(), CanvasErr> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), CanvasErr> {
        self.inner.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), CanvasErr> {
        self.inner.draw_pixel(point, color)
    }
    fn draw_line<S: plotters_backend::BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), CanvasErr> {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: plotters_backend::BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), CanvasErr> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), CanvasErr> {
        self.inner.draw_path(path, style)
    }
    fn draw_circle<S: plotters_backend::BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), CanvasErr> {
        self.inner.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), CanvasErr> {
        self.inner.fill_polygon(vert, style)
    }
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), CanvasErr> {
        self.inner.draw_text(text, style, pos)
    }
    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), CanvasErr> {
        self.context.set_font(&format!(
            "{} {}px {}",
            style.style().as_str(),
            style.size(),
            style.family().as_str()
        ));
        let width = self
            .context
            .measure_text(text)
            .map_or(0.0, |m| m.width())
            .ceil();
        Ok((width as u32, style.size().ceil() as u32))
    }
}

/// The logical size to draw a canvas shown `css_width` CSS pixels wide: that width
/// (within 320–1200; [`W`] before layout), at the aspect ratio of [`W`]×[`H`].
pub fn logical_size(css_width: i32) -> (u32, u32) {
    let w = if css_width > 0 {
        css_width.clamp(320, 1200) as u32
    } else {
        W
    };
    (
        w,
        (f64::from(w) * f64::from(H) / f64::from(W)).round() as u32,
    )
}

/// Draws `chart` of `report` on `canvas` at its laid-out width and the screen's pixel
/// density (at least 2×, so that print is sharp), unless it is already drawn at that
/// size. Marks the canvas `data-drawn="true"`, or `"error"` with the error on the
/// console.
fn draw_on(chart: Chart, report: &Report, canvas: HtmlCanvasElement) {
    let scale = window().device_pixel_ratio().max(2.0);
    let size = logical_size(canvas.client_width());
    let pixels = |n: u32| (f64::from(n) * scale).round() as u32;
    let text = text_scale();
    let text_attr = format!("{text}");
    if canvas.get_attribute("data-drawn").as_deref() == Some("true")
        && (canvas.width(), canvas.height()) == (pixels(size.0), pixels(size.1))
        && canvas.get_attribute("data-text-scale").as_deref() == Some(text_attr.as_str())
    {
        return;
    }
    TEXT_SCALE.with(|s| s.set(text));
    let _ = canvas.set_attribute("data-text-scale", &text_attr);
    let drawn = Canvas::new(chart, canvas.clone(), size, scale).and_then(|backend| {
        let area = backend.into_drawing_area();
        chart.draw(report, &area)?;
        area.present().map_err(|e| ChartError::Draw {
            chart: chart.test_id(),
            message: e.to_string(),
        })
    });
    TEXT_SCALE.with(|s| s.set(1.0));
    let mark = if drawn.is_ok() { "true" } else { "error" };
    let _ = canvas.set_attribute("data-drawn", mark);
    if let Err(e) = drawn {
        leptos::logging::error!("{e}");
    }
}

/// A chart as a figure: caption, canvas (`role="img"`, described by its values) and the
/// policies' legend. Draws once the canvas is mounted, and again when the window's
/// resizing changes the canvas's width or pixel density.
#[component]
pub fn ChartFigure(chart: Chart, report: Rc<Report>) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let label = chart.description(&report);
    let legend = report
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| {
            view! { <li><span class=format!("swatch s{} m{}", i % PALETTE.len(), i % MARKERS)></span>{p.name.clone()}</li> }
        })
        .collect_view();
    let redraw = move || {
        if let Some(el) = canvas.get_untracked() {
            draw_on(chart, &report, el);
        }
    };
    let on_resize = redraw.clone();
    let resize = window_event_listener(leptos::ev::resize, move |_| on_resize());
    // Printing draws the text larger (two charts share the paper's width), and the screen
    // gets its own back after.
    let (before, after) = (redraw.clone(), redraw.clone());
    let print_on = window_event_listener_untyped("beforeprint", move |_| {
        PRINTING.with(|p| p.set(true));
        before();
    });
    let print_off = window_event_listener_untyped("afterprint", move |_| {
        PRINTING.with(|p| p.set(false));
        after();
    });
    on_cleanup(move || {
        resize.remove();
        print_on.remove();
        print_off.remove();
    });
    // Each chart draws in a task of its own, after the table has been shown: the page's
    // thread never runs one long task for the whole results section.
    Effect::new(move |_| {
        if canvas.get().is_some() {
            let redraw = redraw.clone();
            set_timeout(redraw, std::time::Duration::ZERO);
        }
    });
    view! {
        <figure class="chart-box">
            <figcaption>{chart.title()}</figcaption>
            <canvas node_ref=canvas class="chart" role="img" aria-label=label
                data-testid=chart.test_id() width=W height=H></canvas>
            <ul class="legend">{legend}</ul>
            {chart.note().map(|n| view! { <p class="chart-note">{n}</p> })}
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_ends_are_placed_by_their_dates() {
        let s = tollbooth_engine::scenario::Scenario::demo();
        let r = tollbooth_engine::simulate::simulate(
            &s,
            &tollbooth_engine::simulate::SimOptions {
                paths: Some(1),
                years: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        let t = years(&r);
        assert_eq!(t.len(), r.series.dates.len());
        // The demo starts on 2026-11-20: its first month end is 2026-11-30.
        assert!((t[0] - 10.0 / 365.2425).abs() < 1e-12, "{}", t[0]);
        // The last point is the horizon's last day, about two years in.
        let last = *t.last().unwrap();
        assert_eq!(last, f64::from(r.end.days_since(r.start)) / 365.2425);
        assert!((last - 2.0).abs() < 0.01, "{last}");
    }
    use plotters::backend::SVGBackend;
    use tollbooth_engine::scenario::Scenario;
    use tollbooth_engine::simulate::{simulate, SimOptions};

    fn report() -> Report {
        simulate(
            &Scenario::demo(),
            &SimOptions {
                paths: Some(3),
                years: Some(1),
                ..SimOptions::default()
            },
        )
        .unwrap()
    }

    fn svg(chart: Chart, r: &Report) -> String {
        let mut out = String::new();
        {
            let area = SVGBackend::with_string(&mut out, (W, H)).into_drawing_area();
            chart.draw(r, &area).unwrap();
            area.present().unwrap();
        }
        out.to_lowercase()
    }

    #[test]
    fn axis_money_is_compact() {
        assert_eq!(axis_value("usd", 5_000_000.0), "$5.0M");
        assert_eq!(axis_value("usd", -250_000.0), "−$250k");
        assert_eq!(axis_value("usd", 2_000.0), "$2,000");
        assert_eq!(axis_value("usd", 2.5), "$2.50");
        assert_eq!(axis_value("count", 7.5), "7.5");
        assert_eq!(axis_value("bps_per_year", -1.26), "-1.3");
        assert_eq!(axis_value("fraction_per_year", 0.476), "48%");
    }

    #[test]
    fn spans_pad_include_zero_and_widen_flat_ranges() {
        assert_eq!(span([0.0, 100.0].into_iter(), true), (0.0, 106.0));
        assert_eq!(span([10.0, 20.0].into_iter(), false), (9.4, 20.6));
        assert_eq!(span([10.0, 20.0].into_iter(), true), (0.0, 21.2));
        assert_eq!(span([-5.0, f64::NAN].into_iter(), true), (-5.3, 0.3));
        assert_eq!(span([7.0].into_iter(), false), (6.3, 7.7));
        assert_eq!(span([f64::NAN].into_iter(), false), (0.0, 1.0));
        // A range that would overflow when padded.
        assert_eq!(span([0.0, 1.79e308].into_iter(), true), (0.0, 1.0));
        assert_eq!(span([-1.7e308, 1.7e308].into_iter(), false), (0.0, 1.0));
    }

    #[test]
    fn charts_are_drawn_at_their_laid_out_width() {
        assert_eq!(logical_size(0), (W, H));
        assert_eq!(logical_size(483), (483, 276));
        assert_eq!(logical_size(100), (320, 183));
        assert_eq!(logical_size(5000), (1200, 686));
    }

    #[test]
    fn names_are_clipped_to_their_slot() {
        assert_eq!(clip("Quarterly", 20), "Quarterly");
        assert_eq!(clip("Quarterly calendar", 8), "Quarter…");
    }

    /// One mark per policy, in the policy's colour and shape, and every chart draws.
    #[test]
    fn each_policy_has_its_marks_in_its_colour() {
        let r = report();
        let np = r.policies.len();
        assert!(np >= 2);
        let scatter = svg(Chart::CostVsAlpha, &r);
        // Circle, triangle (a polygon), square (a rect) by policy: the shapes differ.
        let shaped = |m: usize| (0..np).filter(|i| i % MARKERS == m).count();
        assert_eq!(scatter.matches("<circle").count(), shaped(0));
        assert_eq!(scatter.matches("<polygon").count(), shaped(1));
        let fan = svg(Chart::WealthFan, &r);
        // A band per policy, and the triangles marking policy 1's median.
        let t = years(&r);
        let triangles: usize = (0..np)
            .filter(|i| i % MARKERS == 1)
            .map(|i| line_markers(i, &points(&t, &r.series.policies[i].after_tax_p50)).len())
            .sum();
        assert!(triangles >= 2, "{triangles} triangles");
        assert_eq!(fan.matches("<polygon").count(), np + triangles);
        assert!(fan.contains("after-tax household value ($)"));
        for c in Chart::ALL {
            let s = svg(c, &r);
            assert!(!s.contains("nan") && !s.contains("inf"), "{c:?}");
            for i in 0..np {
                assert!(s.contains(&color_hex(i)), "{c:?} lacks policy {i}'s colour");
            }
        }
        let bars = svg(Chart::Turnover, &r);
        assert!(bars.contains(&r.policies[0].name.to_lowercase()));
    }

    /// A run that cannot define tax alpha (a household of $0 with nothing paid in) plots no
    /// point, and the plot and its description say why.
    #[test]
    fn an_undefined_tax_alpha_is_stated_not_left_blank() {
        let mut r = report();
        r.undefined = vec![
            "tax_alpha_before_costs".into(),
            "tax_alpha_after_costs".into(),
        ];
        let scatter = svg(Chart::CostVsAlpha, &r);
        assert_eq!(scatter.matches("<circle").count(), 0);
        assert!(
            scatter.contains("tax alpha is not defined for this run"),
            "{scatter}"
        );
        let d = Chart::CostVsAlpha.description(&r);
        assert!(d.contains("tax alpha n/a"), "{d}");
        assert!(d.contains(crate::summary::UNDEFINED_TAX_ALPHA), "{d}");
        // Defined, no such text.
        assert!(!svg(Chart::CostVsAlpha, &report()).contains("not defined"));
    }

    #[test]
    fn descriptions_state_the_values() {
        let r = report();
        let d = Chart::CostVsAlpha.description(&r);
        assert!(d.starts_with(Chart::CostVsAlpha.title()));
        for (i, p) in r.policies.iter().enumerate() {
            assert!(d.contains(&p.name));
            let (cost, _) = cost_and_alpha(&r, i);
            assert!(d.contains(&fmt_value("usd", cost)));
        }
        let fan = Chart::WealthFan.description(&r);
        assert!(fan.starts_with("After-tax household value"));
        let s = &r.series.policies[0];
        let last = s.after_tax_p50.last().copied().unwrap();
        assert!(fan.contains(&format!("median {}", fmt_value("usd", last))));
        // The fan is after tax: its end is not the pre-tax median.
        let pre = s.wealth_p50.last().copied().unwrap();
        assert!(last < pre);
        assert!(!fan.contains(&format!("median {}", fmt_value("usd", pre))));
        assert!(fan.contains("over 1 year; at the end: "));
        assert!(fan.ends_with(AFTER_TAX_VALUE_DEFINITION));
        assert_eq!(Chart::Turnover.note(), None);
        let t = Chart::Turnover.description(&r);
        assert!(t.contains("%/yr"));
    }

    /// The legend's CSS swatches are the canvas colours.
    #[test]
    fn the_style_sheet_uses_the_palette() {
        let css = include_str!("../style/main.css");
        for i in 0..PALETTE.len() {
            let rule = format!(".swatch.s{i} {{ background: {}; }}", color_hex(i));
            assert!(css.contains(&rule), "missing `{rule}`");
        }
    }
}
