//! The results charts as SVG markup from plain functions (no canvas, no inline styles:
//! colours come from the `s0`…`s7` classes of the style sheet, so the page's
//! Content-Security-Policy holds). Tested natively on the markup.

use crate::summary::fmt_value;
use std::fmt::Write;
use tollbooth_engine::simulate::Report;

const W: f64 = 560.0;
const H: f64 = 300.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 26.0;
const BOTTOM: f64 = 44.0;

/// Escapes text for SVG/XML content and attributes.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// "Nice" tick values covering `[lo, hi]` (about five).
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).ceil() as i64;
    let end = (hi / step).floor() as i64;
    (start..=end).map(|i| i as f64 * step).collect()
}

/// A plot frame: data ranges mapped to the plotting area.
struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    /// A frame around the values (padded; a flat range is widened).
    fn new(
        xs: impl Iterator<Item = f64> + Clone,
        ys: impl Iterator<Item = f64> + Clone,
        y_from_zero: bool,
    ) -> Frame {
        let (x0, x1) = span(xs, false);
        let (y0, y1) = span(ys, y_from_zero);
        Frame { x0, x1, y0, y1 }
    }
    fn x(&self, v: f64) -> f64 {
        LEFT + (v - self.x0) / (self.x1 - self.x0) * (W - LEFT - RIGHT)
    }
    fn y(&self, v: f64) -> f64 {
        H - BOTTOM - (v - self.y0) / (self.y1 - self.y0) * (H - TOP - BOTTOM)
    }
}

fn span(v: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
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
    (
        if from_zero && lo == 0.0 {
            0.0
        } else {
            lo - pad
        },
        hi + pad,
    )
}

fn open(out: &mut String, title: &str, testid: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-label="{t}" data-testid="{testid}" class="chart"><title>{t}</title>"#,
        t = esc(title)
    );
}

fn axes(out: &mut String, f: &Frame, x_unit: &str, y_unit: &str, x_label: &str, y_label: &str) {
    for t in ticks(f.y0, f.y1) {
        let y = f.y(t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            esc(&axis_value(y_unit, t))
        );
    }
    if !x_unit.is_empty() {
        for t in ticks(f.x0, f.x1) {
            let x = f.x(t);
            let _ = write!(
                out,
                r#"<text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                H - BOTTOM + 16.0,
                esc(&axis_value(x_unit, t))
            );
        }
    }
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{b:.1}"/><line class="axis" x1="{LEFT}" x2="{r:.1}" y1="{b:.1}" y2="{b:.1}"/><text class="label" x="{cx:.1}" y="{ly:.1}" text-anchor="middle">{xl}</text><text class="label" x="4" y="12">{yl}</text>"#,
        b = H - BOTTOM,
        r = W - RIGHT,
        cx = (LEFT + W - RIGHT) / 2.0,
        ly = H - 6.0,
        xl = esc(x_label),
        yl = esc(y_label)
    );
}

/// The legend, right-aligned at the top of the plotting area.
fn legend(out: &mut String, names: &[&str]) {
    for (i, n) in names.iter().enumerate() {
        let y = TOP + 2.0 + 14.0 * i as f64;
        let _ = write!(
            out,
            r#"<rect class="s{c} fill" x="{x:.1}" y="{y:.1}" width="10" height="10"/><text class="legend" x="{tx:.1}" y="{ty:.1}" text-anchor="end">{}</text>"#,
            esc(n),
            c = i % 8,
            x = W - RIGHT - 12.0,
            tx = W - RIGHT - 16.0,
            ty = y + 9.0
        );
    }
}

/// An axis tick: dollars compacted (`$1.5M`, `$250k`), other units as in the table.
pub fn axis_value(unit: &str, x: f64) -> String {
    if unit == "usd" && x.abs() >= 10_000.0 {
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

fn metric_mean(r: &Report, p: usize, key: &str) -> f64 {
    r.policies[p].metric(key).map_or(f64::NAN, |s| s.mean)
}

/// Ticket, fee and spread cost (mean, dollars) against tax alpha before costs (mean,
/// bp/yr), one point per policy.
pub fn cost_vs_alpha(r: &Report) -> String {
    let pts: Vec<(f64, f64)> = (0..r.policies.len())
        .map(|p| {
            let cost = metric_mean(r, p, "ticket_charges")
                + metric_mean(r, p, "regulatory_fees")
                + metric_mean(r, p, "spread_impact");
            (cost, metric_mean(r, p, "tax_alpha_before_costs"))
        })
        .collect();
    let f = Frame::new(pts.iter().map(|p| p.0), pts.iter().map(|p| p.1), true);
    let mut out = String::new();
    open(
        &mut out,
        "Trading cost vs tax alpha before costs, per policy",
        "chart-scatter",
    );
    axes(
        &mut out,
        &f,
        "usd",
        "bps_per_year",
        "Ticket charges + regulatory fees + spread (mean, $)",
        "Tax alpha before costs",
    );
    for (i, (x, y)) in pts.iter().enumerate() {
        if x.is_finite() && y.is_finite() {
            let _ = write!(
                out,
                r#"<circle class="s{c} fill point" cx="{:.1}" cy="{:.1}" r="6"><title>{}: {} cost, {}</title></circle>"#,
                f.x(*x),
                f.y(*y),
                esc(&r.policies[i].name),
                esc(&fmt_value("usd", *x)),
                esc(&fmt_value("bps_per_year", *y)),
                c = i % 8
            );
        }
    }
    legend(
        &mut out,
        &r.policies
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
    );
    out.push_str("</svg>");
    out
}

fn polyline(f: &Frame, xs: &[f64], ys: &[f64]) -> String {
    xs.iter()
        .zip(ys)
        .filter(|(_, y)| y.is_finite())
        .map(|(x, y)| format!("{:.1},{:.1}", f.x(*x), f.y(*y)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Mean cumulative tickets (`fees = false`) or ticket charges and regulatory fees
/// (`fees = true`) at month ends, one line per policy.
pub fn cumulative(r: &Report, fees: bool) -> String {
    let months: Vec<f64> = (0..r.series.dates.len())
        .map(|m| (m + 1) as f64 / 12.0)
        .collect();
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
    let f = Frame::new(
        months.iter().copied(),
        lines.iter().flat_map(|l| l.iter().copied()),
        true,
    );
    let (title, unit, id) = if fees {
        (
            "Cumulative ticket charges and regulatory fees (mean)",
            "usd",
            "chart-fees",
        )
    } else {
        ("Cumulative tickets (mean)", "count", "chart-tickets")
    };
    let mut out = String::new();
    open(&mut out, title, id);
    axes(&mut out, &f, "count", unit, "Years", title);
    for (i, l) in lines.iter().enumerate() {
        let _ = write!(
            out,
            r#"<polyline class="s{} line" points="{}"/>"#,
            i % 8,
            polyline(&f, &months, l)
        );
    }
    legend(
        &mut out,
        &r.series
            .policies
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
    );
    out.push_str("</svg>");
    out
}

/// Household value fan over time: the 5th–95th percentile band and the median, per policy.
pub fn wealth_fan(r: &Report) -> String {
    let months: Vec<f64> = (0..r.series.dates.len())
        .map(|m| (m + 1) as f64 / 12.0)
        .collect();
    let all = r
        .series
        .policies
        .iter()
        .flat_map(|p| p.wealth_p5.iter().chain(&p.wealth_p95).copied());
    let f = Frame::new(months.iter().copied(), all, false);
    let mut out = String::new();
    open(
        &mut out,
        "Household value: 5th, 50th and 95th percentiles",
        "chart-fan",
    );
    axes(
        &mut out,
        &f,
        "count",
        "usd",
        "Years",
        "Household value (pre-tax)",
    );
    for (i, p) in r.series.policies.iter().enumerate() {
        let upper = polyline(&f, &months, &p.wealth_p95);
        let lower: Vec<String> = months
            .iter()
            .zip(&p.wealth_p5)
            .rev()
            .filter(|(_, y)| y.is_finite())
            .map(|(x, y)| format!("{:.1},{:.1}", f.x(*x), f.y(*y)))
            .collect();
        let _ = write!(
            out,
            r#"<polygon class="s{c} band" points="{upper} {}"/><polyline class="s{c} line" points="{}"/>"#,
            lower.join(" "),
            polyline(&f, &months, &p.wealth_p50),
            c = i % 8
        );
    }
    legend(
        &mut out,
        &r.series
            .policies
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
    );
    out.push_str("</svg>");
    out
}

/// Mean one-way annual turnover per policy, as bars.
pub fn turnover_bars(r: &Report) -> String {
    let n = r.policies.len().max(1);
    let vals: Vec<f64> = (0..r.policies.len())
        .map(|p| metric_mean(r, p, "turnover"))
        .collect();
    let f = Frame::new([0.0, n as f64].into_iter(), vals.iter().copied(), true);
    let mut out = String::new();
    open(
        &mut out,
        "Turnover per policy (mean, one-way, per year)",
        "chart-turnover",
    );
    axes(&mut out, &f, "", "fraction_per_year", "", "Turnover");
    let slot = (W - LEFT - RIGHT) / n as f64;
    for (i, v) in vals.iter().enumerate() {
        if !v.is_finite() {
            continue;
        }
        let (y0, y1) = (f.y(0.0), f.y(*v));
        let _ = write!(
            out,
            r#"<rect class="s{c} fill" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}"><title>{}: {}</title></rect><text class="tick" x="{cx:.1}" y="{ty:.1}" text-anchor="middle">{}</text>"#,
            esc(&r.policies[i].name),
            esc(&fmt_value("fraction_per_year", *v)),
            esc(&fmt_value("fraction_per_year", *v)),
            c = i % 8,
            x = LEFT + slot * i as f64 + slot * 0.2,
            y = y0.min(y1),
            w = slot * 0.6,
            h = (y0 - y1).abs(),
            cx = LEFT + slot * (i as f64 + 0.5),
            ty = H - BOTTOM + 16.0
        );
    }
    legend(
        &mut out,
        &r.policies
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn ticks_are_nice_and_inside() {
        assert_eq!(ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(
            ticks(0.0, 1.0),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(ticks(-37.0, 112.0), vec![0.0, 50.0, 100.0]);
        assert_eq!(ticks(-120.0, 30.0), vec![-100.0, -50.0, 0.0]);
        assert_eq!(ticks(1.0, 1.0), vec![1.0]);
    }

    #[test]
    fn axis_money_is_compact() {
        assert_eq!(axis_value("usd", 5_000_000.0), "$5.0M");
        assert_eq!(axis_value("usd", -250_000.0), "−$250k");
        assert_eq!(axis_value("usd", 2_000.0), "$2,000");
        assert_eq!(axis_value("usd", 2.5), "$2.50");
        assert_eq!(axis_value("count", 7.5), "7.5");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(esc(r#"<a & "b">"#), "&lt;a &amp; &quot;b&quot;&gt;");
    }

    /// Every element is inside the viewBox, one mark per policy, no inline style.
    #[test]
    fn charts_have_one_mark_per_policy_and_no_inline_style() {
        let r = report();
        let np = r.policies.len();
        let s = cost_vs_alpha(&r);
        assert_eq!(s.matches("<circle").count(), np);
        let t = cumulative(&r, false);
        assert_eq!(t.matches("<polyline").count(), np);
        let fe = cumulative(&r, true);
        assert!(fe.contains("chart-fees"));
        let fan = wealth_fan(&r);
        assert_eq!(fan.matches("<polygon").count(), np);
        assert_eq!(fan.matches("<polyline").count(), np);
        let bars = turnover_bars(&r);
        assert_eq!(bars.matches("class=\"s").count(), 2 * np);
        for svg in [&s, &t, &fe, &fan, &bars] {
            assert!(!svg.contains("style="), "no inline style");
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
            assert!(!svg.contains("NaN") && !svg.contains("inf"));
            // Coordinates stay within the drawing.
            for cap in svg.split("cx=\"").skip(1) {
                let v: f64 = cap.split('"').next().unwrap().parse().unwrap();
                assert!((0.0..=W).contains(&v));
            }
        }
    }

    #[test]
    fn the_median_line_lies_inside_the_band() {
        let r = report();
        let f = Frame::new(
            (0..r.series.dates.len()).map(|m| m as f64),
            r.series
                .policies
                .iter()
                .flat_map(|p| p.wealth_p5.iter().chain(&p.wealth_p95).copied()),
            false,
        );
        for p in &r.series.policies {
            for m in 0..r.series.dates.len() {
                // SVG y grows downwards: p95 above (smaller y) the median, p5 below.
                assert!(f.y(p.wealth_p95[m]) <= f.y(p.wealth_p50[m]) + 1e-9);
                assert!(f.y(p.wealth_p50[m]) <= f.y(p.wealth_p5[m]) + 1e-9);
            }
        }
    }
}
