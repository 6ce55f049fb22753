//! Today's trade list as CSV: one writer for the CLI's `trades --csv` and the page's
//! download, so the two files have the same columns and the same numbers.

use super::{HouseholdSolution, ReasonCode};
use crate::date::Date;
use crate::tax::TaxProfile;
use crate::types::Side;
use crate::{csv_fixed, csv_text};

/// The header of [`trade_list_csv`]. Dollar columns are the ticket's: `commission`
/// (flat ticket charge and any per-share or percentage commission), `regulatory` (SEC
/// Section 31 fee and FINRA TAF), `spread` (half-spread) and `impact` (market impact),
/// whose sum is `trading_cost`; `realized_short_term` and `realized_long_term` are the
/// sale's recognized gain in a taxable account (negative: a loss), `tax_effect` its tax at
/// the profile's marginal rates (negative: a saving).
pub const TRADE_LIST_CSV_HEADER: &str = "policy,as_of,account,symbol,side,quantity,price,notional,\
commission,regulatory,spread,impact,trading_cost,rates_applied,lots,realized_short_term,\
realized_long_term,tax_effect,reason,explanation";

impl ReasonCode {
    /// The reason's snake-case code, as the JSON and the CSV write it.
    pub fn code(self) -> &'static str {
        match self {
            ReasonCode::Drift => "drift",
            ReasonCode::BandBreach => "band_breach",
            ReasonCode::Harvest => "harvest",
            ReasonCode::PartnerSwap => "partner_swap",
            ReasonCode::CashFlow => "cash_flow",
            ReasonCode::Signal => "signal",
            ReasonCode::AssetLocation => "asset_location",
        }
    }
}

/// The lots a sale relieves, in relief order, as one cell: `label: shares sh (term)`
/// joined by `; ` (empty for a buy).
fn relieved_lots_text(lots: &[super::RelievedLot]) -> String {
    lots.iter()
        .map(|l| {
            let term = if l.long_term {
                "long-term"
            } else {
                "short-term"
            };
            format!("{}: {} sh ({term})", l.label, l.shares)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `sol`'s trades, worked out for `policy` on `as_of`, as CSV: the header
/// [`TRADE_LIST_CSV_HEADER`], one line per ticket in execution order, and a closing comment
/// line `# year_tax,…,carried_forward,…` with the list's effect on the year's tax under
/// `tax` ([`HouseholdSolution::year_tax`]: the rows' tax effects are each sale's at the
/// marginal rates; the year's netting, the $3,000 limit and the carry-in are applied only
/// there). Text cells are quoted by [`csv_text`]; dollars have two decimals, shares and
/// prices full precision. The caller puts the provenance line in front
/// ([`crate::Provenance::csv_line`]).
pub fn trade_list_csv(
    sol: &HouseholdSolution,
    policy: &str,
    as_of: Date,
    tax: &TaxProfile,
) -> String {
    let mut out = String::from(TRADE_LIST_CSV_HEADER);
    out.push('\n');
    for t in &sol.trades {
        let side = match t.side {
            Side::Buy => "buy",
            Side::Sell => "sell",
        };
        let cells = [
            csv_text(policy),
            as_of.to_string(),
            csv_text(&t.account),
            csv_text(&t.symbol),
            side.to_string(),
            format!("{}", t.quantity),
            format!("{}", t.price),
            csv_fixed(t.notional, 2),
            csv_fixed(t.fees.commission, 2),
            csv_fixed(t.fees.regulatory(), 2),
            csv_fixed(t.fees.spread, 2),
            csv_fixed(t.fees.impact, 2),
            csv_fixed(t.fees.total(), 2),
            csv_text(&t.fees.rates_applied()),
            csv_text(&relieved_lots_text(&t.lots)),
            csv_fixed(t.realized_short_term, 2),
            csv_fixed(t.realized_long_term, 2),
            csv_fixed(t.tax_effect, 2),
            t.reason.code().to_string(),
            csv_text(&t.explanation),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    let year = sol.year_tax(tax);
    out.push_str(&format!(
        "# year_tax,{},carried_forward,{}\n",
        csv_fixed(year.tax, 2),
        csv_fixed(year.carried_forward, 2)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    /// Every reason's code is its JSON spelling.
    #[test]
    fn reason_codes_are_the_json_names() {
        for r in [
            ReasonCode::Drift,
            ReasonCode::BandBreach,
            ReasonCode::Harvest,
            ReasonCode::PartnerSwap,
            ReasonCode::CashFlow,
            ReasonCode::Signal,
            ReasonCode::AssetLocation,
        ] {
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::json!(r.code())
            );
        }
    }

    /// The demo household's list: one line per trade with the header's column count, the
    /// cost columns adding up to the trading cost, and the year's tax closing the file.
    #[test]
    fn the_demo_list_has_itemised_costs_and_the_years_tax() {
        let s = Scenario::demo();
        let p = &s.policies[0];
        let date: Date = "2026-11-24".parse().unwrap();
        let sol = super::super::todays_trades(&s, p, date);
        assert!(!sol.trades.is_empty());
        let csv = trade_list_csv(&sol, &p.name, date, &s.tax);
        let mut rdr = ::csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .from_reader(csv.as_bytes());
        let header = rdr.headers().unwrap().clone();
        assert_eq!(
            header.iter().collect::<Vec<_>>().join(","),
            TRADE_LIST_CSV_HEADER
        );
        let rows: Vec<_> = rdr.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), sol.trades.len());
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        for (r, t) in rows.iter().zip(&sol.trades) {
            let f = |name: &str| r[col(name)].parse::<f64>().unwrap();
            let parts = f("commission") + f("regulatory") + f("spread") + f("impact");
            assert!((parts - f("trading_cost")).abs() <= 0.021, "{r:?}");
            assert_eq!(&r[col("policy")], p.name.as_str());
            assert_eq!(&r[col("symbol")], t.symbol.as_str());
            assert_eq!(f("quantity"), t.quantity);
            assert_eq!(&r[col("reason")], t.reason.code());
            assert_eq!(r[col("lots")].is_empty(), t.lots.is_empty());
        }
        // Text cells are quoted, formula-like text defused.
        let quoted = trade_list_csv(&sol, "A, \"quoted\"", date, &s.tax);
        assert!(quoted
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("\"A, \"\"quoted\"\"\",2026-11-24,"));
        let last = csv.lines().last().unwrap();
        let year = sol.year_tax(&s.tax);
        assert_eq!(
            last,
            format!(
                "# year_tax,{},carried_forward,{}",
                csv_fixed(year.tax, 2),
                csv_fixed(year.carried_forward, 2)
            )
        );
    }
}
