//! Pricing one ticket against a scenario: the account's fee schedule, the security's type,
//! spread and fractional rule, and the regulatory tables in force on the trade date.

use super::Scenario;
use crate::date::Date;
use crate::fees::{FeeError, TicketCost, TicketSpec};
use crate::types::Side;

/// Why a ticket could not be priced.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TicketError {
    /// The account id is not in the household.
    #[error("unknown account `{0}`")]
    UnknownAccount(String),
    /// The symbol is not among the scenario's securities.
    #[error("unknown security `{0}`")]
    UnknownSecurity(String),
    /// The account names a fee schedule the scenario does not have.
    #[error("account `{account}` uses fee schedule `{schedule}`, which does not exist")]
    UnknownSchedule {
        /// The account.
        account: String,
        /// The missing schedule id.
        schedule: String,
    },
    /// A fractional quantity of a security that trades in whole shares only.
    #[error("{symbol} trades in whole shares only; {quantity} is fractional")]
    FractionalNotAllowed {
        /// The security.
        symbol: String,
        /// The quantity asked for.
        quantity: f64,
    },
    /// The fee model rejected the ticket.
    #[error(transparent)]
    Fee(#[from] FeeError),
}

/// One order: an account trades a security on a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Order<'a> {
    /// Account id.
    pub account: &'a str,
    /// Security symbol.
    pub symbol: &'a str,
    /// Buy or sell.
    pub side: Side,
    /// Shares.
    pub quantity: f64,
    /// Trade date (the regulatory rates in force that day apply).
    pub date: Date,
}

impl Scenario {
    /// The itemised cost of one ticket at the security's current price, under the fee
    /// schedule of the account that trades it. This is the same fee model the simulator
    /// and optimizer use.
    pub fn ticket_cost(&self, order: &Order<'_>) -> Result<TicketCost, TicketError> {
        let account = self
            .account(order.account)
            .ok_or_else(|| TicketError::UnknownAccount(order.account.to_string()))?;
        let security = self
            .security(order.symbol)
            .ok_or_else(|| TicketError::UnknownSecurity(order.symbol.to_string()))?;
        let schedule = self.fee_schedule(&account.fee_schedule).ok_or_else(|| {
            TicketError::UnknownSchedule {
                account: account.id.clone(),
                schedule: account.fee_schedule.clone(),
            }
        })?;
        // (A quantity that is not a number is refused by the fee schedule, not here.)
        let fractional = order.quantity.is_finite() && order.quantity.fract() != 0.0;
        if fractional && !security.fractional_allowed {
            return Err(TicketError::FractionalNotAllowed {
                symbol: security.symbol.clone(),
                quantity: order.quantity,
            });
        }
        let spec = TicketSpec {
            trade_date: order.date,
            side: order.side,
            security_type: security.security_type,
            quantity: order.quantity,
            price: security.price,
            fractional,
            half_spread_bps: security.half_spread_bps,
            impact: self.impact_inputs(security),
        };
        Ok(schedule.ticket_cost(&spec, &self.regulatory)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order<'a>(account: &'a str, symbol: &'a str, side: Side, quantity: f64) -> Order<'a> {
        Order {
            account,
            symbol,
            side,
            quantity,
            date: "2026-06-01".parse().unwrap(),
        }
    }

    #[test]
    fn demo_sell_ticket_is_priced_by_the_account_schedule() {
        let s = Scenario::demo();
        let cost = s
            .ticket_cost(&order("joint", "VTI", Side::Sell, 100.0))
            .unwrap();
        let vti = s.security("VTI").unwrap();
        let notional = 100.0 * vti.price;
        assert_eq!(cost.commission, 3.10);
        // SEC: $20.60 per million from 2026-04-04, rounded up to the cent.
        assert_eq!(
            cost.sec_fee,
            (notional * 20.60 / 1e6 * 100.0).ceil() / 100.0
        );
        // TAF: $0.000195 per share, rounded up: 100 shares → $0.02.
        assert_eq!(cost.taf, 0.02);
        assert!(cost.total() > cost.explicit_total());
        assert_eq!(cost.impact, 0.0, "no impact unless the schedule models it");
    }

    /// Market impact: charged when the account's schedule models it and the security has
    /// an average daily dollar volume, as `b·σ·|x|^1.5/V^0.5` with σ the security's daily
    /// volatility from the market assumptions.
    #[test]
    fn market_impact_uses_the_schedule_and_the_securitys_volume() {
        let mut s = Scenario::demo();
        let joint = s
            .household
            .accounts
            .iter()
            .find(|a| a.id == "joint")
            .unwrap();
        let sched = joint.fee_schedule.clone();
        let f = s.fee_schedules.iter_mut().find(|f| f.id == sched).unwrap();
        f.impact = Some(crate::fees::ImpactModel { coefficient: 0.5 });
        let buy = order("joint", "VTI", Side::Buy, 1000.0);
        assert_eq!(
            s.ticket_cost(&buy).unwrap().impact,
            0.0,
            "no volume: no impact"
        );
        let i = s.securities.iter().position(|x| x.symbol == "VTI").unwrap();
        s.securities[i].daily_dollar_volume = Some(2e9);
        let vti = s.security("VTI").unwrap().clone();
        let class = s
            .market
            .classes
            .iter()
            .find(|c| c.name == vti.asset_class)
            .unwrap();
        let idio = s.market.idiosyncratic_vol_of("VTI");
        let sigma =
            ((class.volatility.powi(2) + idio.powi(2)) / crate::market::STEPS_PER_YEAR).sqrt();
        let x: f64 = 1000.0 * vti.price;
        let expected = 0.5 * sigma * x.powf(1.5) / 2e9f64.sqrt();
        let cost = s.ticket_cost(&buy).unwrap();
        assert!(expected > 0.0 && (cost.impact - expected).abs() < 1e-9 * expected);
        assert!((cost.total() - cost.explicit_total() - cost.spread - cost.impact).abs() < 1e-9);
    }

    #[test]
    fn buys_pay_no_regulatory_fee() {
        let s = Scenario::demo();
        let cost = s
            .ticket_cost(&order("joint", "VTI", Side::Buy, 100.0))
            .unwrap();
        assert_eq!(cost.regulatory(), 0.0);
    }

    #[test]
    fn unknown_names_are_typed_errors() {
        let s = Scenario::demo();
        assert_eq!(
            s.ticket_cost(&order("nope", "VTI", Side::Sell, 1.0)),
            Err(TicketError::UnknownAccount("nope".into()))
        );
        assert_eq!(
            s.ticket_cost(&order("joint", "ZZZ", Side::Sell, 1.0)),
            Err(TicketError::UnknownSecurity("ZZZ".into()))
        );
    }
}
