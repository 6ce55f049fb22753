//! The side-by-side summary of a report: rows, formatting, the best value per row and
//! the CSV exports. Plain functions, tested natively; the results component only renders.

use crate::format::usd;
use crate::jobs::TodayTrades;
use tollbooth_engine::csv_text;
use tollbooth_engine::simulate::{BreakEvenSide, Report, Stat};

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Smaller is better (costs, tickets, drift).
    Lower,
    /// Larger is better (wealth, alpha, net benefit).
    Higher,
    /// Neither (informational, e.g. the vendors' harvesting yield).
    Neither,
}

/// The direction of a metric by key.
pub fn better(key: &str) -> Better {
    match key {
        "tax_alpha_before_costs"
        | "tax_alpha_after_costs"
        | "after_tax_wealth"
        | "net_benefit_usd"
        | "net_benefit_bps" => Better::Higher,
        // Taxes paid so far are lower for a policy that defers them (the liquidation or
        // step-up at the horizon is in after-tax wealth, not here); losses washed into a
        // replacement's basis are deferred, not lost; and a policy that never harvests
        // would "win" both rows with nothing.
        "harvested_gross" | "harvesting_yield" | "taxes_paid" | "harvested_washed" => {
            Better::Neither
        }
        _ => Better::Lower,
    }
}

/// A value in a metric's unit, for display.
pub fn fmt_value(unit: &str, x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    match unit {
        "usd" => usd(x),
        "bps_per_year" => format!("{} bp/yr", group(x)),
        // A typographic minus, as in dollars and counts.
        "fraction" => format!("{:.2}%", 100.0 * x).replacen('-', "−", 1),
        "fraction_per_year" => format!("{:.1}%/yr", 100.0 * x).replacen('-', "−", 1),
        "per_year" => format!("{}/yr", group(x)),
        _ => group(x),
    }
}

/// A count: whole numbers grouped by thousands, otherwise one decimal.
fn group(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    let whole = usd(r.trunc().abs());
    let digits = whole.trim_start_matches('$').trim_end_matches(".00");
    let sign = if r < 0.0 { "−" } else { "" };
    let frac = ((r.abs() - r.abs().trunc()) * 10.0).round() as u32;
    if frac == 0 {
        format!("{sign}{digits}")
    } else {
        format!("{sign}{digits}.{frac}")
    }
}

/// One row of the summary table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Metric key.
    pub key: String,
    /// Label.
    pub label: String,
    /// Unit.
    pub unit: String,
    /// The definition (tooltip and footnote).
    pub definition: String,
    /// Per policy (report order).
    pub cells: Vec<Stat>,
    /// Indices of the best policies (every one tied at the best), when the metric has a
    /// direction and the values differ.
    pub best: Vec<usize>,
    /// Whether the run defines the metric ([`Report::defines`]); when it does not, the
    /// cells are not numbers (n/a on the page, empty in the CSV).
    pub defined: bool,
}

/// What the page says of a metric the run cannot define.
pub const UNDEFINED_METRIC: &str =
    "Not defined for this run: a ratio to the household's starting value, which is zero";

/// Why a run cannot define tax alpha, a money-weighted return
/// ([`tollbooth_engine::simulate::Report::undefined`]).
pub const UNDEFINED_TAX_ALPHA: &str =
    "a money-weighted return, and the household starts at $0 with no contribution paid in";

/// What the page says of metric `key` when the run cannot define it.
pub fn undefined_reason(key: &str) -> String {
    if key.starts_with("tax_alpha") {
        format!("Not defined for this run: {UNDEFINED_TAX_ALPHA}")
    } else {
        UNDEFINED_METRIC.to_string()
    }
}

/// The rows of the summary table, in the report's definition order.
pub fn rows(report: &Report) -> Vec<Row> {
    report
        .definitions
        .iter()
        .map(|d| {
            let defined = report.defines(&d.key);
            let cells: Vec<Stat> = report
                .policies
                .iter()
                .map(|p| {
                    p.metric(&d.key).filter(|_| defined).unwrap_or(Stat {
                        mean: f64::NAN,
                        median: f64::NAN,
                        p5: f64::NAN,
                        p95: f64::NAN,
                    })
                })
                .collect();
            let means: Vec<f64> = cells.iter().map(|s| s.mean).collect();
            Row {
                key: d.key.clone(),
                label: d.label.clone(),
                unit: d.unit.clone(),
                definition: d.definition.clone(),
                best: best(&means, better(&d.key)),
                cells,
                defined,
            }
        })
        .collect()
}

/// The indices of the best values (all of those tied at the best, within a display's
/// precision), or none when all are equal, any is not finite, or the metric has no
/// direction.
pub fn best(values: &[f64], dir: Better) -> Vec<usize> {
    if dir == Better::Neither || values.len() < 2 || values.iter().any(|v| !v.is_finite()) {
        return Vec::new();
    }
    // Differences below a display's precision are not a winner.
    let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1.0);
    let same = |a: f64, b: f64| (a - b).abs() <= 1e-9 * scale;
    if values.iter().all(|&v| same(v, values[0])) {
        return Vec::new();
    }
    let top = values.iter().copied().fold(values[0], |b, v| match dir {
        Better::Lower => b.min(v),
        _ => b.max(v),
    });
    (0..values.len())
        .filter(|&i| same(values[i], top))
        .collect()
}

fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// The summary as CSV: one line per (metric, policy) with mean, median, p5 and p95, then
/// the break-even ticket fee and the side of it the policy wins on, ticket charges ÷ net
/// new assets and the friction flag per policy; the report's provenance line
/// ([`tollbooth_engine::Provenance::csv_line`]) states the run.
pub fn summary_csv(report: &Report) -> String {
    let mut out = report.provenance().csv_line();
    out.push_str("metric,label,unit,policy,mean,median,p5,p95\n");
    for r in rows(report) {
        for (p, s) in report.policies.iter().zip(&r.cells) {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{}\n",
                r.key,
                csv_text(&r.label),
                r.unit,
                csv_text(&p.name),
                num(s.mean),
                num(s.median),
                num(s.p5),
                num(s.p95)
            ));
        }
    }
    for p in &report.policies {
        out.push_str(&format!(
            "break_even_ticket_fee,Break-even ticket fee,usd,{},{},,,\n",
            csv_text(&p.name),
            p.break_even_ticket_fee.map(num).unwrap_or_default()
        ));
    }
    for p in &report.policies {
        out.push_str(&format!(
            "break_even_wins,Beats the baseline at fees below or above the break-even,side,{},{},,,\n",
            csv_text(&p.name),
            match p.break_even_wins {
                Some(BreakEvenSide::Below) => "below",
                Some(BreakEvenSide::Above) => "above",
                None => "",
            }
        ));
    }
    // The reading the page shows ("from $12.40", "at any fee", "never"): a negative
    // break-even fee means the policy already wins (or loses) at no fee.
    for p in &report.policies {
        out.push_str(&format!(
            "break_even_reading,Where the policy beats the baseline,text,{},{},,,\n",
            csv_text(&p.name),
            csv_text(&crate::results::break_even_text(
                p.break_even_ticket_fee,
                p.break_even_wins
            ))
        ));
    }
    for p in &report.policies {
        out.push_str(&format!(
            "ticket_charges_to_nna,Ticket charges ÷ net new assets,fraction,{},{},,,\n",
            csv_text(&p.name),
            p.ticket_charges_to_nna.map(num).unwrap_or_default()
        ));
    }
    for p in &report.policies {
        out.push_str(&format!(
            "friction_flag,Chooses to trade on more than 4 days a year and loses to the baseline,flag,{},{},,,\n",
            csv_text(&p.name),
            u8::from(p.friction_flag)
        ));
    }
    out
}

/// Today's trades as CSV: the provenance line of the scenario they were worked out for
/// ([`tollbooth_engine::Provenance::csv_line`]), then the engine's trade list
/// ([`tollbooth_engine::household::trade_list_csv`]) — the CLI's `trades --csv` file.
pub fn today_csv(t: &TodayTrades) -> String {
    let mut out = t.provenance.csv_line();
    out.push_str(&t.csv);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollbooth_engine::scenario::Scenario;
    use tollbooth_engine::simulate::{simulate, SimOptions};
    use tollbooth_engine::Provenance;

    fn small() -> Report {
        simulate(
            &Scenario::demo(),
            &SimOptions {
                paths: Some(2),
                years: Some(1),
                ..SimOptions::default()
            },
        )
        .unwrap()
    }

    /// A metric the run cannot define is no number in the table or the CSV, and has no
    /// best value.
    #[test]
    fn undefined_metrics_are_not_numbers() {
        let mut r = small();
        r.undefined = vec!["net_benefit_bps".into()];
        let rows = rows(&r);
        let row = rows.iter().find(|x| x.key == "net_benefit_bps").unwrap();
        assert!(!row.defined && row.best.is_empty());
        assert!(row.cells.iter().all(|c| c.mean.is_nan() && c.p95.is_nan()));
        assert!(rows
            .iter()
            .filter(|x| x.key != "net_benefit_bps")
            .all(|x| x.defined));
        let csv = summary_csv(&r);
        let lines: Vec<&str> = csv
            .lines()
            .filter(|l| l.starts_with("net_benefit_bps,"))
            .collect();
        assert_eq!(lines.len(), r.policies.len());
        assert!(lines.iter().all(|l| l.ends_with(",,,,")), "{lines:?}");
    }

    #[test]
    fn best_respects_direction_and_ties() {
        assert_eq!(best(&[3.0, 1.0, 2.0], Better::Lower), vec![1]);
        assert_eq!(best(&[3.0, 1.0, 5.0], Better::Higher), vec![2]);
        assert_eq!(best(&[2.0, 2.0, 2.0], Better::Lower), Vec::<usize>::new());
        assert_eq!(best(&[1.0, 2.0], Better::Neither), Vec::<usize>::new());
        assert_eq!(best(&[1.0, f64::NAN], Better::Lower), Vec::<usize>::new());
        assert_eq!(best(&[1.0, 1.0, 0.5], Better::Lower), vec![2]);
        // Ties at the best are all marked, as the printed footnote says.
        assert_eq!(best(&[0.0, 0.0, 7.0], Better::Lower), vec![0, 1]);
        assert_eq!(best(&[5.0, 9.0, 9.0], Better::Higher), vec![1, 2]);
        assert_eq!(better("tickets"), Better::Lower);
        assert_eq!(better("net_benefit_usd"), Better::Higher);
    }

    #[test]
    fn formats_by_unit() {
        assert_eq!(fmt_value("usd", 1234.5), "$1,234.50");
        assert_eq!(fmt_value("bps_per_year", -12.345), "−12.3 bp/yr");
        assert_eq!(fmt_value("bps_per_year", 7704.04), "7,704 bp/yr");
        assert_eq!(fmt_value("fraction", -0.01234), "−1.23%");
        assert_eq!(fmt_value("fraction", 0.01234), "1.23%");
        assert_eq!(fmt_value("fraction_per_year", 0.25), "25.0%/yr");
        assert_eq!(fmt_value("count", 12345.0), "12,345");
        assert_eq!(fmt_value("count", 12.25), "12.3");
        assert_eq!(fmt_value("count", -4.0), "−4");
        assert_eq!(fmt_value("usd", f64::NAN), "—");
    }

    #[test]
    fn rows_follow_the_definitions_with_one_cell_per_policy() {
        let r = small();
        let rows = rows(&r);
        assert_eq!(rows.len(), r.definitions.len());
        for row in &rows {
            assert_eq!(row.cells.len(), r.policies.len());
            assert!(!row.definition.is_empty());
        }
        let tickets = rows.iter().find(|x| x.key == "tickets").unwrap();
        let means: Vec<f64> = tickets.cells.iter().map(|s| s.mean).collect();
        for &b in &tickets.best {
            assert!(means.iter().all(|&m| m >= means[b]));
        }
        // The baseline's net benefit is zero on every path.
        let net = rows.iter().find(|x| x.key == "net_benefit_usd").unwrap();
        let bi = r.policies.iter().position(|p| p.baseline).unwrap();
        assert_eq!(net.cells[bi].mean, 0.0);
    }

    #[test]
    fn summary_csv_has_a_line_per_metric_and_policy() {
        let r = small();
        let csv = summary_csv(&r);
        let lines: Vec<&str> = csv.lines().collect();
        let np = r.policies.len();
        assert_eq!(lines.len(), 2 + r.definitions.len() * np + 5 * np);
        // The break-even's reading is the page's words, per policy.
        for p in &r.policies {
            let want = crate::results::break_even_text(p.break_even_ticket_fee, p.break_even_wins);
            let prefix = format!(
                "break_even_reading,Where the policy beats the baseline,text,{},",
                csv_text(&p.name)
            );
            let line = lines.iter().find(|l| l.starts_with(&prefix)).unwrap();
            assert!(line.contains(&csv_text(&want)), "{line} vs {want}");
        }
        assert!(lines[0].contains(&r.hash_hex()));
        assert_eq!(lines[1], "metric,label,unit,policy,mean,median,p5,p95");
        let t = r.policies[0].metric("tickets").unwrap();
        let want = format!(
            "tickets,Tickets,count,{},{}",
            csv_text(&r.policies[0].name),
            t.mean
        );
        assert!(lines[2].starts_with(&want), "{} vs {want}", lines[2]);
        // Every data line has 8 fields (names with commas are quoted).
        assert!(lines[2..].iter().all(|l| l.matches(',').count() >= 7));
    }

    #[test]
    fn exports_open_with_the_provenance_line_of_what_they_were_computed_from() {
        let r = small();
        let line = format!(
            "# scenario,{},hash,{},seed,{},paths,2,years,1,engine,{},report,{}",
            csv_text(&r.scenario_name),
            r.scenario_hash,
            r.seed,
            tollbooth_engine::VERSION,
            r.hash_hex()
        );
        for (csv, header) in [
            (summary_csv(&r), "metric,"),
            (r.trades_csv(), "policy,date,"),
        ] {
            let mut lines = csv.lines();
            assert_eq!(lines.next(), Some(line.as_str()));
            assert!(lines.next().unwrap().starts_with(header), "{csv}");
        }
        // Today's trades: the scenario they were worked out for, with no run.
        let s = Scenario::demo();
        let t = TodayTrades {
            provenance: Box::new(Provenance::of_scenario(&s)),
            policy: "Quarterly".into(),
            as_of: s.as_of.to_string(),
            status: "optimal".into(),
            messages: vec![],
            year_tax: Default::default(),
            trades: vec![],
            csv: format!("{}\n", tollbooth_engine::household::TRADE_LIST_CSV_HEADER),
        };
        let csv = today_csv(&t);
        let mut lines = csv.lines();
        assert_eq!(
            lines.next().unwrap(),
            format!(
                "# scenario,{},hash,{},seed,{},engine,{}",
                csv_text(&s.name),
                s.hash_hex(),
                s.market.seed,
                tollbooth_engine::VERSION
            )
        );
        assert!(lines.next().unwrap().starts_with("policy,as_of,account,"));
    }
}
