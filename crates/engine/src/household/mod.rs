//! The household rebalancing optimizer: the trades of a whole household (every account,
//! every lot) that best trade risk against spreads, commissions, flat ticket fees and
//! taxes, under per-account budgets and the wash-sale guard.
//!
//! # Problem
//!
//! For buy tickets `b_{a,i} ≥ 0` and sells `s_{a,i} = Σ_{lots ℓ} z_{a,i,ℓ}` (dollars) in
//! account `a` of security `i`, with `V` the household value, `h0` the holdings and `t`
//! the target weights:
//!
//! ```text
//! minimise   κ·V·dᵀΣd                                       risk ($/yr-equivalent)
//!          + Σ c_{a,i,±}·|trade|                             spread, % commission, SEC, per-share
//!          + Σ f_{a,i,±}·1[trade ≠ 0]                        flat ticket fee per (account, security, side)
//!          + Σ_ℓ τ_ℓ·z_ℓ                                     tax of each lot relieved
//! where      d_i = (h0_i + Σ_a b_{a,i} − Σ_a s_{a,i})/V − t_i,   Σ = B F Bᵀ + diag(D)
//! subject to cash_a + Σ_i (1 − c)s_{a,i} − Σ_i (1 + c)b_{a,i} − Σ f·1[·] ≥ min_cash_a
//!            0 ≤ z_ℓ ≤ value of lot ℓ,  b ≥ 0                long-only, no shorting
//!            b = 0 on do-not-buy, s = 0 on do-not-sell
//!            each ticket 0 or ≥ the minimum trade
//!            wash-sale guard (below); whole shares where fractions are not allowed
//! ```
//!
//! - **Risk** is in factor form: one factor per asset class (`B` maps a security to its
//!   class, `F` is the class covariance `vol·corr·vol` of the market assumptions, `D` the
//!   securities' idiosyncratic variances). `κ·V·TE²` reads as dollars a year: a
//!   mean-variance investor with risk aversion `2κ` values a tracking variance `TE²` at
//!   `κ·TE²` of wealth per year. The target of a security is its class weight split as
//!   the household implements the class today (the primary security when none is held),
//!   so swapping a fund for its TLH partner costs only the partners' idiosyncratic risk.
//! - **Taxes** are convex piecewise linear in the shares sold: each lot is a segment of
//!   slope `τ_ℓ = rate_ℓ × gain per dollar_ℓ` (short- or long-term rate by the lot's
//!   holding period on the trade date, from [`crate::tax::TaxProfile`]). The optimizer
//!   fills the cheapest segments first, which is the minimum-tax relief order; a loss lot
//!   has a negative slope (the harvested loss's value) when tax-loss harvesting is on, and
//!   slope 0 when it is off. Rates are marginal rates applied flat (no netting across the
//!   year; see [`crate::tax`] for the year's exact netting).
//! - **Fees** come from the account's [`FeeSchedule`]: the charge per ticket before its
//!   size ([`FeeSchedule::fixed_cost`]: the flat fee or the minimum, and the fractional
//!   surcharge for a security traded in fractions) is the fixed fee, [`FeeSchedule::linear_terms`] the
//!   proportional part. Every proposed trade's fees are then priced by
//!   [`FeeSchedule::ticket_cost`], the simulator's function, so the two never disagree.
//!   Market impact (for a security with an average daily dollar volume, under a schedule
//!   that models it) is priced on every proposed trade and reported, but it is not in the
//!   objective: the QP's costs are linear, and impact grows as `|x|^1.5`.
//! - **Wash-sale guard** (scope from the policy's TLH rule, household by default): no
//!   purchase of a group with a loss sale still pending in the 30-day window
//!   ([`Ledger::pending_losses`]); no loss sale in a taxable account of a group bought in
//!   the last 30 days; and not both a loss sale and a purchase of one group in the same
//!   rebalance. A guarded group's loss lots are closed to sales; its gain lots stay open.
//!
//! # Method
//!
//! 1. **Bounds.** A node's convex relaxation keeps the tickets fixed *on* (fee paid,
//!    minimum trade as a bound) or *off*, and prices each free ticket's fee by its convex
//!    envelope `f/U·x` on `[0, U]`, with `U` the tightest valid cap: a sale can't exceed
//!    the position's allowed lots, a purchase can't exceed the account's cash above its
//!    minimum plus the proceeds of all it may sell, and no trade list below the incumbent
//!    `UB` trades more than `(UB − N − f)/c` (N: the most the negative linear terms can
//!    lower the objective, c: the ticket's cost per dollar). A free ticket that cannot fit
//!    under `UB` (or whose cap is below the minimum trade) is off. The relaxation's
//!    optimum is then a **lower bound** on every trade list of the node that beats the
//!    incumbent; the minimum trade size is dropped.
//! 2. **Bound tightening** (optimality-based): every trade list below `UB` has a root
//!    relaxation value below `UB`, so a ticket trades at most the maximum of its amount
//!    over that level set `{x : relaxation constraints, ½xᵀPx + qᵀx ≤ UB}`, one
//!    second-order-cone program per ticket (`P = LᵀL` from the factor model). The tighter
//!    caps raise the envelopes `f/U`, which raise the bound, which shrinks the level set:
//!    up to two rounds, at once when the root's gap is wide (> 8%), otherwise only if the
//!    search is still open after 100 solves.
//! 3. **Branch and bound**, best bound first: a node whose relaxation buys a group and
//!    sells its losses branches on the wash-sale guard (forbid the purchases / forbid the
//!    loss sales); otherwise on a **ticket group** — the tickets of one (account, asset
//!    class, side), near-substitutes the relaxation likes to split a trade across — whose
//!    fees the envelopes under-price most: *off* (none trades) or *on* (one at least
//!    trades, so the cheapest fee is paid while the group's tickets trade free of
//!    envelopes); inside a group switched on, on its largest trading ticket while two
//!    trade; then on single tickets (on / off). A node's trade support is solved exactly
//!    as an incumbent when its relaxation plus the fees left unpaid beats the incumbent,
//!    and at the leaves; so are the root's iteratively reweighted fees (Lobo, Fazel and
//!    Boyd 2007: each fee `f` priced as `f/(|x_prev| + ε)` per dollar, a few rounds)
//!    improved by greedy ticket drops, and the empty trade list. A node closes when its
//!    bound is within [`HouseholdSettings::gap_tol`] of the incumbent; the lower bound
//!    reported is the smallest bound of a node closed or left open. The search ends
//!    when the relative gap is within the tolerance ([`HouseholdStatus::Optimal`]) or at
//!    [`HouseholdSettings::max_solves`] ([`HouseholdStatus::Feasible`], gap reported).
//! 4. **Whole shares**: buys are rounded down and sells to the nearest share (a sale of
//!    almost the whole position sells all of it, fractions included); the repair step then
//!    prices every ticket with [`FeeSchedule::ticket_cost`] and, while an account ends
//!    below its minimum cash, trims its largest buy (dropping it when it reaches zero).
//!    Rounding never adds a ticket, so restrictions and the wash-sale guard still hold.
//!
//! One Clarabel model serves every solve of the search (`update_q`, `update_b`), and a
//! [`HouseholdOptimizer`] keeps it across trade dates (`update_P`, `update_A` for new
//! prices; a rebuild only when the lots change).
//!
//! # Usage
//!
//! ```
//! use tollbooth_engine::household::{todays_trades, HouseholdStatus};
//! use tollbooth_engine::scenario::Scenario;
//! let s = Scenario::demo();
//! let policy = s.policy("Cost-aware optimizer").unwrap();
//! let sol = todays_trades(&s, policy, s.as_of);
//! assert!(matches!(sol.status, HouseholdStatus::Optimal | HouseholdStatus::Feasible));
//! for t in &sol.trades {
//!     println!("{}", t.explanation);
//! }
//! ```

mod csv;
mod qp;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::fees::{FeeSchedule, ImpactInputs, TicketCost, TicketSpec};
use crate::ledger::{self, Ledger, LedgerError, OpeningLot, Realized};
use crate::lots::LotId;
use crate::scenario::market::{nearest_correlation, symmetric_eigen};
use crate::scenario::policy::WashSaleGuard;
use crate::scenario::{Account, Policy, Scenario};
use crate::types::{AccountKind, LotMethod, SecurityType, Side};
pub use csv::{trade_list_csv, TRADE_LIST_CSV_HEADER};
use qp::{LevelSet, Qp, QpData, QpOutcome};

/// QP solves of the search before its bound tightening, when the root's gap is narrow.
const TIGHTEN_AFTER: usize = 100;

/// A relative gap at the root wide enough to tighten the bounds before searching.
const WIDE_GAP: f64 = 0.08;

/// The wash-sale window on either side of a sale, in calendar days.
const WINDOW_DAYS: i32 = 30;

/// Errors building the household state (bad input).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HouseholdError {
    /// The household's lots could not be loaded into a ledger.
    #[error("lot {lot} in account {account}: {source}")]
    Lot {
        /// The scenario's lot id.
        lot: String,
        /// The account id.
        account: String,
        /// The ledger's reason.
        source: LedgerError,
    },
    /// The ledger refused the accounts or securities.
    #[error("household ledger: {0}")]
    Ledger(#[from] LedgerError),
}

/// Why a trade is proposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// Back toward the target (inside the bands).
    Drift,
    /// The asset class is outside its tolerance band.
    BandBreach,
    /// Realizes a loss for its tax value.
    Harvest,
    /// Buys a TLH partner of a security harvested in the same rebalance.
    PartnerSwap,
    /// Raises an account's cash to its minimum, or invests its excess cash.
    CashFlow,
    /// A tactical signal (not produced by this optimizer).
    Signal,
    /// Moves an asset class toward its preferred account kind.
    AssetLocation,
}

/// One lot a proposed sale relieves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelievedLot {
    /// The ledger's lot id (sell with [`LotMethod::SpecificLot`] and these ids).
    pub lot_id: LotId,
    /// The lot's label (the scenario's lot id for opening lots).
    pub label: String,
    /// Shares relieved.
    pub shares: f64,
    /// Realized gain (negative for a loss), before any wash-sale adjustment.
    pub gain: f64,
    /// Long-term on the trade date.
    pub long_term: bool,
}

/// One proposed ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposedTrade {
    /// Account id.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Shares (whole shares unless the security allows fractions).
    pub quantity: f64,
    /// Price per share.
    pub price: f64,
    /// quantity × price.
    pub notional: f64,
    /// Why.
    pub reason: ReasonCode,
    /// One sentence for the advisor.
    pub explanation: String,
    /// Risk cost removed by this trade, $/yr-equivalent: the risk term of the whole
    /// trade list without this trade minus with it (negative: the trade adds risk).
    pub risk_reduction: f64,
    /// Tax of the sale at the profile's marginal rates (negative: a saving), of the gain
    /// the ledger recognizes for the whole trade list (proceeds net of the ticket's costs,
    /// a loss washed by a purchase disallowed); the optimizer's own estimate when the list
    /// cannot be booked (a message says so).
    pub tax_effect: f64,
    /// Of the sale's recognized gain in a taxable account (negative: a loss), the
    /// short-term part (0 for a buy or another kind of account).
    #[serde(default)]
    pub realized_short_term: f64,
    /// The long-term part.
    #[serde(default)]
    pub realized_long_term: f64,
    /// The ticket's itemised costs ([`FeeSchedule::ticket_cost`]).
    pub fees: TicketCost,
    /// Lots relieved by a sale, in relief order (empty for buys).
    pub lots: Vec<RelievedLot>,
}

/// The objective's terms after rounding, in dollars.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectiveTerms {
    /// Risk before trading, κ·V·TE², $/yr-equivalent.
    pub risk_before: f64,
    /// Risk after trading.
    pub risk: f64,
    /// Half-spread cost.
    pub spread: f64,
    /// Market impact of the proposed trades (priced, not optimised: see the module
    /// documentation).
    pub impact: f64,
    /// Commissions beyond the flat ticket charge (per share, % of notional, surcharges).
    pub commissions: f64,
    /// Flat ticket charges.
    pub ticket_fees: f64,
    /// SEC Section 31 fees and FINRA TAF.
    pub regulatory: f64,
    /// Tax on realized gains (≥ 0).
    pub tax: f64,
    /// Value of realized losses at the marginal rates (≥ 0).
    pub harvest_value: f64,
    /// Asset-location penalty of the purchases: each dollar bought in an account kind
    /// below the class's preferred one costs [`HouseholdSettings::location_bps`] per rank.
    #[serde(default)]
    pub location: f64,
}

impl ObjectiveTerms {
    /// Adds one priced ticket: its commission split into the flat charge (at most
    /// `fixed`, the schedule's flat fee) and the rest, its regulatory fees, spread and
    /// impact.
    fn add_ticket(&mut self, fees: &TicketCost, fixed: f64) {
        let flat = fees.commission.min(fixed);
        self.ticket_fees += flat;
        self.commissions += fees.commission - flat;
        self.regulatory += fees.regulatory();
        self.spread += fees.spread;
        self.impact += fees.impact;
    }

    /// Adds a sale's tax effect: a cost when positive, a harvest's value when negative.
    fn add_tax(&mut self, tax_effect: f64) {
        if tax_effect > 0.0 {
            self.tax += tax_effect;
        } else {
            self.harvest_value -= tax_effect;
        }
    }

    /// risk + costs + tax + location − harvest value: the value the optimizer minimises when taxes
    /// and tickets are in the objective, plus the market impact it prices but does not
    /// optimise (0 without daily volumes).
    pub fn total(&self) -> f64 {
        self.risk
            + self.spread
            + self.impact
            + self.commissions
            + self.ticket_fees
            + self.regulatory
            + self.tax
            + self.location
            - self.harvest_value
    }
}

/// How the solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdStatus {
    /// The trade list is within the relative gap tolerance of the lower bound.
    Optimal,
    /// A feasible trade list; the gap to the lower bound is reported.
    Feasible,
    /// No trade list meets the constraints (see the message).
    Infeasible,
    /// The input is inconsistent (see the message); nothing was solved.
    InvalidInput,
    /// The solver failed numerically (see the message).
    NumericalError,
    /// Nothing was optimised: the trades are the policy's own rules applied today
    /// ([`crate::simulate::rule_trades`]), for a policy without the cost-aware rule.
    Rules,
}

/// The optimizer's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HouseholdSolution {
    /// How the solve ended.
    pub status: HouseholdStatus,
    /// What went wrong, or notes (repairs, limits), in plain English.
    pub messages: Vec<String>,
    /// The tickets, by account then symbol then side.
    pub trades: Vec<ProposedTrade>,
    /// The objective's terms (after rounding to shares).
    pub terms: ObjectiveTerms,
    /// The objective of the trade list as optimised (continuous shares, fees as modelled).
    pub objective: f64,
    /// The lower bound on that objective.
    pub lower_bound: f64,
    /// `(objective − lower_bound) / max(|objective|, 1)`.
    pub gap: f64,
    /// QP solves performed.
    pub solves: usize,
    /// The household value V used for weights.
    pub household_value: f64,
}

/// What a trade list does to this year's tax once the year is netted ([`crate::tax`]):
/// its sales' gains and losses offset one another and the loss carried in, a net loss
/// offsets ordinary income up to the cap, and the rest carries forward. The per-trade
/// [`ProposedTrade::tax_effect`]s add up to more than this when the list's net loss
/// exceeds the cap.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct YearTaxChange {
    /// This year's tax with the list minus without it (negative: a saving), the list's
    /// sales being the year's only ones.
    pub tax: f64,
    /// The change in the loss the year carries forward: positive when the list's net loss
    /// is over the yearly limit, negative when its gains use up loss carried in.
    pub carried_forward: f64,
}

impl HouseholdSolution {
    /// The list's effect on this year's tax under `profile` (its carry-in included).
    pub fn year_tax(&self, profile: &crate::tax::TaxProfile) -> YearTaxChange {
        let realized = self
            .trades
            .iter()
            .fold(Realized::default(), |r, t| Realized {
                short_term: r.short_term + t.realized_short_term,
                long_term: r.long_term + t.realized_long_term,
            });
        let carry_in = profile.carryforward_in;
        let with = crate::tax::net_year(profile, realized, carry_in);
        let without = crate::tax::net_year(profile, Realized::default(), carry_in);
        YearTaxChange {
            tax: with.tax - without.tax,
            carried_forward: with.carryforward_out.total() - without.carryforward_out.total(),
        }
    }

    fn failed(status: HouseholdStatus, message: String) -> Self {
        HouseholdSolution {
            status,
            messages: vec![message],
            trades: Vec::new(),
            terms: ObjectiveTerms::default(),
            objective: f64::NAN,
            lower_bound: f64::NAN,
            gap: f64::NAN,
            solves: 0,
            household_value: 0.0,
        }
    }

    /// Number of tickets.
    pub fn tickets(&self) -> usize {
        self.trades.len()
    }
}

/// Settings of the household optimizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HouseholdSettings {
    /// κ: risk cost in dollars a year = κ·V·TE² (default 5: a 1% tracking error on $1M
    /// costs $500 a year).
    pub risk_aversion: f64,
    /// Asset-location preference: cost per dollar bought in an account kind that is not
    /// the class's first preference, per rank below it, in basis points (default 1).
    pub location_bps: f64,
    /// Relative gap `(objective − lower bound)/max(|objective|, 1)` accepted as optimal
    /// (default 0.005: the trade list is proven within 0.5% of the best one).
    pub gap_tol: f64,
    /// Most solves per call, QPs and bound-tightening cone programs (default 3000): the
    /// branch and bound stops there and reports its gap.
    pub max_solves: usize,
    /// Clarabel's tolerances (default 1e-9).
    pub qp_tol: f64,
    /// The minimum trade used when the policy has no cost-aware rule, dollars (default 0).
    pub min_trade_usd: f64,
}

impl Default for HouseholdSettings {
    fn default() -> Self {
        HouseholdSettings {
            risk_aversion: 5.0,
            location_bps: 1.0,
            gap_tol: 0.005,
            max_solves: 3000,
            qp_tol: 1e-9,
            min_trade_usd: 0.0,
        }
    }
}

/// The household's state on a trade date: its ledger (lots, recent sales), cash and
/// prices. The simulator keeps one and passes it each period.
#[derive(Debug, Clone)]
pub struct HouseholdState {
    /// The ledger.
    pub ledger: Ledger,
    /// Cash by account id.
    pub cash: BTreeMap<String, f64>,
    /// Prices by symbol.
    pub prices: BTreeMap<String, f64>,
    /// Labels of lots (scenario lot ids) by ledger lot id.
    pub labels: BTreeMap<LotId, String>,
}

impl HouseholdState {
    /// The state of a scenario as given: its lots (relieved by minimum tax), cash and prices.
    pub fn from_scenario(s: &Scenario) -> Result<HouseholdState, HouseholdError> {
        let accounts = s.household.accounts.iter().map(|a| ledger::Account {
            id: a.id.clone(),
            kind: a.kind,
            owner: a.owner.clone(),
        });
        let securities = s.securities.iter().map(|x| ledger::Security {
            symbol: x.symbol.clone(),
            group: x.group.clone(),
        });
        let mut ledger = Ledger::new(accounts, securities, LotMethod::MinTax)?;
        let mut labels = BTreeMap::new();
        for (a, l) in s.lots() {
            let id = ledger
                .open_lot(OpeningLot {
                    account: a.id.clone(),
                    symbol: l.symbol.clone(),
                    quantity: l.quantity,
                    basis: l.basis,
                    acquired: l.acquired,
                    holding_start: None,
                })
                .map_err(|source| HouseholdError::Lot {
                    lot: l.id.clone(),
                    account: a.id.clone(),
                    source,
                })?;
            labels.insert(id, l.id.clone());
        }
        Ok(HouseholdState {
            ledger,
            cash: s
                .household
                .accounts
                .iter()
                .map(|a| (a.id.clone(), a.cash))
                .collect(),
            prices: s
                .securities
                .iter()
                .map(|x| (x.symbol.clone(), x.price))
                .collect(),
            labels,
        })
    }
}

/// "What would I trade today": the policy's trades for the scenario's household on `as_of`
/// (normally the scenario's date). A policy with the cost-aware rule gets the household
/// optimizer's lot-level trade list (default settings); any other policy gets its own
/// rules applied today, each treated as due — the trades its first period would start
/// with ([`HouseholdStatus::Rules`]; a calendar policy rebalances, a band policy trades
/// only a breached band, harvesting sells only today's losses). Never panics: bad input
/// comes back as [`HouseholdStatus::InvalidInput`] with a message.
pub fn todays_trades(scenario: &Scenario, policy: &Policy, as_of: Date) -> HouseholdSolution {
    if as_of < scenario.as_of {
        return HouseholdSolution::failed(
            HouseholdStatus::InvalidInput,
            format!(
                "the trade date {as_of} is before the scenario's date {}",
                scenario.as_of
            ),
        );
    }
    if policy.optimizer.is_none() {
        return by_rules(scenario, policy, as_of);
    }
    match HouseholdState::from_scenario(scenario) {
        Ok(state) => optimize_household(
            scenario,
            policy,
            &state,
            as_of,
            &HouseholdSettings::default(),
        ),
        Err(e) => HouseholdSolution::failed(HouseholdStatus::InvalidInput, e.to_string()),
    }
}

/// A rule-based policy's trades today: the simulator's first day with every rule due
/// ([`crate::simulate::rule_trades`]), one ticket per (account, security, side) priced by
/// [`FeeSchedule::ticket_cost`], each sale's lots as the policy's lot method relieves them
/// and their tax at the profile's marginal rates. Rules do not price risk, so
/// `risk_reduction` and the risk terms are NaN (JSON null), and there is no objective.
fn by_rules(s: &Scenario, policy: &Policy, as_of: Date) -> HouseholdSolution {
    let fail = |e: String| HouseholdSolution::failed(HouseholdStatus::InvalidInput, e);
    let state = match HouseholdState::from_scenario(s) {
        Ok(state) => state,
        Err(e) => return fail(e.to_string()),
    };
    let labels = &state.labels;
    let household_value = state.cash.values().sum::<f64>()
        + state
            .ledger
            .lots()
            .map(|l| l.quantity * state.prices.get(&*l.symbol).copied().unwrap_or(0.0))
            .sum::<f64>();
    let rows = match crate::simulate::rule_trades(s, policy, as_of) {
        Ok(rows) => rows,
        Err(e) => return fail(e.to_string()),
    };
    // One ticket per (account, security, side): the day's rows of a ticket merged.
    let mut tickets: Vec<(crate::simulate::TradeRow, f64)> = Vec::new();
    for r in rows {
        match tickets
            .iter_mut()
            .find(|(t, _)| t.account == r.account && t.symbol == r.symbol && t.side == r.side)
        {
            Some((t, q)) => {
                *q += r.quantity;
                t.lots.extend(r.lots);
                t.realized_gain += r.realized_gain;
                t.realized_long_term += r.realized_long_term;
                t.disallowed += r.disallowed;
            }
            None => {
                let q = r.quantity;
                tickets.push((r, q));
            }
        }
    }
    let mut terms = ObjectiveTerms {
        risk_before: f64::NAN,
        risk: f64::NAN,
        ..ObjectiveTerms::default()
    };
    let mut trades = Vec::with_capacity(tickets.len());
    for (row, quantity) in tickets {
        let (Some(acct), Some(sec)) = (
            s.household.accounts.iter().find(|a| a.id == row.account),
            s.securities.iter().find(|x| x.symbol == row.symbol),
        ) else {
            return fail(format!(
                "a rule traded {} in {}, which the scenario does not list",
                row.symbol, row.account
            ));
        };
        let Some(schedule) = s.fee_schedules.iter().find(|f| f.id == acct.fee_schedule) else {
            return fail(format!(
                "account {}: fee schedule {} does not exist",
                acct.id, acct.fee_schedule
            ));
        };
        let spec = TicketSpec {
            trade_date: as_of,
            side: row.side,
            security_type: sec.security_type,
            quantity,
            price: row.price,
            fractional: crate::lots::is_fractional(quantity),
            half_spread_bps: sec.half_spread_bps,
            impact: s.impact_inputs(sec),
        };
        let fees = match schedule.ticket_cost(&spec, &s.regulatory) {
            Ok(f) => f,
            Err(e) => return fail(msg_fee(e)),
        };
        terms.add_ticket(
            &fees,
            schedule.fixed_cost(sec.security_type, row.side, spec.fractional),
        );
        let taxable = acct.kind.is_taxable();
        // The tax as the ledger recognizes the sale: proceeds net of its costs, a loss
        // washed by a purchase of the day (or an earlier one) disallowed.
        let (short, long) = if taxable {
            let long = row.realized_long_term;
            (row.realized_gain - long, long)
        } else {
            (0.0, 0.0)
        };
        let tax_effect = short * s.tax.short_term_rate() + long * s.tax.long_term_rate();
        let lots: Vec<RelievedLot> = row
            .lots
            .iter()
            .map(|l| {
                // As the ledger counted it: a replacement lot's holding period starts
                // before its purchase.
                let long_term = l.long_term;
                let gain = if taxable {
                    l.quantity * row.price - l.basis
                } else {
                    0.0
                };
                RelievedLot {
                    lot_id: l.lot,
                    label: labels
                        .get(&l.lot)
                        .cloned()
                        .unwrap_or_else(|| format!("#{}", l.lot)),
                    shares: l.quantity,
                    gain,
                    long_term,
                }
            })
            .collect();
        terms.add_tax(tax_effect);
        let reason = match row.reason {
            crate::simulate::Reason::Drift => ReasonCode::Drift,
            crate::simulate::Reason::BandBreach => ReasonCode::BandBreach,
            crate::simulate::Reason::Harvest => ReasonCode::Harvest,
            crate::simulate::Reason::PartnerSwap => ReasonCode::PartnerSwap,
            crate::simulate::Reason::CashFlow
            | crate::simulate::Reason::TaxPayment
            | crate::simulate::Reason::DividendReinvestment => ReasonCode::CashFlow,
            // Not reached: the overlay is left out, and a cost-aware policy is optimised.
            crate::simulate::Reason::Signal => ReasonCode::Signal,
            crate::simulate::Reason::Optimizer => ReasonCode::Drift,
        };
        let mut trade = ProposedTrade {
            account: acct.id.clone(),
            symbol: sec.symbol.clone(),
            side: row.side,
            quantity,
            price: row.price,
            notional: quantity * row.price,
            reason,
            explanation: String::new(),
            risk_reduction: f64::NAN,
            tax_effect,
            realized_short_term: short,
            realized_long_term: long,
            fees,
            lots,
        };
        trade.explanation = explain(&trade, acct.label(), rule_phrase(row.reason));
        trades.push(trade);
    }
    trades.sort_by(ticket_order);
    let mut messages = vec![format!(
        "The policy's own rules applied on {as_of}, each treated as due today (a calendar \
         rebalance, a band check, a harvest check); nothing is optimised."
    )];
    if policy.tactical.is_some() {
        messages.push(
            "The tactical overlay is left out: its signal is simulated, and none is known for today."
                .to_string(),
        );
    }
    HouseholdSolution {
        status: HouseholdStatus::Rules,
        messages,
        trades,
        terms,
        objective: f64::NAN,
        lower_bound: f64::NAN,
        gap: f64::NAN,
        solves: 0,
        household_value,
    }
}

/// The household's trades on `as_of` under `policy`, from `state` (see the
/// [module documentation](self) for the problem and the method).
pub fn optimize_household(
    scenario: &Scenario,
    policy: &Policy,
    state: &HouseholdState,
    as_of: Date,
    settings: &HouseholdSettings,
) -> HouseholdSolution {
    HouseholdOptimizer::new(scenario, policy, settings.clone()).solve(state, as_of)
}

/// The household optimizer of one (scenario, policy), kept across trade dates: each
/// [`HouseholdOptimizer::solve`] reads the state's prices, cash and lots and updates the
/// QP solver in place (Clarabel's `update_P`, `update_A`, `update_q`, `update_b`); the
/// solver is rebuilt only when the sparsity pattern changes (a lot opened or closed).
///
/// ```
/// use tollbooth_engine::household::{HouseholdOptimizer, HouseholdSettings, HouseholdState};
/// use tollbooth_engine::scenario::Scenario;
/// let s = Scenario::demo();
/// let policy = s.policy("Daily TLH (household guard)").unwrap();
/// let mut opt = HouseholdOptimizer::new(&s, policy, HouseholdSettings::default());
/// let mut state = HouseholdState::from_scenario(&s).unwrap();
/// let first = opt.solve(&state, s.as_of);
/// for p in state.prices.values_mut() {
///     *p *= 1.01;
/// }
/// let second = opt.solve(&state, s.as_of);
/// assert_eq!(opt.builds(), 1);
/// assert!(second.lower_bound <= second.objective + 1e-6);
/// # let _ = first;
/// ```
pub struct HouseholdOptimizer {
    scenario: Scenario,
    policy: Policy,
    settings: HouseholdSettings,
    qp: Option<Qp>,
    builds: usize,
}

impl std::fmt::Debug for HouseholdOptimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HouseholdOptimizer")
            .field("policy", &self.policy.name)
            .field("settings", &self.settings)
            .field("builds", &self.builds)
            .finish()
    }
}

impl HouseholdOptimizer {
    /// The optimizer of `policy` for the scenario's household (securities, fee schedules,
    /// target, tax profile and market assumptions are read from `scenario`).
    pub fn new(scenario: &Scenario, policy: &Policy, settings: HouseholdSettings) -> Self {
        HouseholdOptimizer {
            scenario: scenario.clone(),
            policy: policy.clone(),
            settings,
            qp: None,
            builds: 0,
        }
    }

    /// The household's trades on `as_of` from `state` (see the [module
    /// documentation](self)).
    pub fn solve(&mut self, state: &HouseholdState, as_of: Date) -> HouseholdSolution {
        let model = match Model::build(&self.scenario, &self.policy, state, as_of, &self.settings) {
            Ok(m) => m,
            Err(message) => {
                return HouseholdSolution::failed(HouseholdStatus::InvalidInput, message)
            }
        };
        let mut built = false;
        let sol = model.solve(
            &self.scenario,
            state,
            &self.settings,
            &mut self.qp,
            &mut built,
        );
        if built {
            self.builds += 1;
        }
        sol
    }

    /// How many times the QP solver was built (the other solves updated it in place).
    pub fn builds(&self) -> usize {
        self.builds
    }

    /// The settings.
    pub fn settings(&self) -> &HouseholdSettings {
        &self.settings
    }
}

// ---------------------------------------------------------------------------------------
// The model.

#[derive(Debug, Clone)]
struct Sec {
    symbol: String,
    name_class: String,
    factor: usize,
    price: f64,
    stype: SecurityType,
    half_spread_bps: f64,
    group: String,
    fractional: bool,
    partners: Vec<String>,
    target: f64,
    idio_var: f64,
    h0: f64,
    /// The market-impact inputs of its tickets (`Scenario::impact_inputs`).
    impact: Option<ImpactInputs>,
}

#[derive(Debug, Clone)]
struct Acct {
    id: String,
    kind: AccountKind,
    cash: f64,
    min_cash: f64,
    schedule: FeeSchedule,
}

#[derive(Debug, Clone)]
struct Ticket {
    acct: usize,
    sec: usize,
    side: Side,
    /// Fixed fee in the objective ($).
    fee_obj: f64,
    /// Fixed fee paid from cash ($).
    fee_cash: f64,
    /// Cost per dollar traded (incl. per-share terms ÷ price).
    unit_cost: f64,
    /// Largest trade ($).
    cap: f64,
    /// Buy: its variable. Sell: its segments.
    var: usize,
    segs: std::ops::Range<usize>,
    row_ub: usize,
    allowed: bool,
}

#[derive(Debug, Clone)]
struct Seg {
    ticket: usize,
    lot_id: LotId,
    shares: f64,
    cap: f64,
    /// Realized gain per dollar sold.
    gain_per_dollar: f64,
    long_term: bool,
    /// True tax per dollar sold (marginal rates; 0 outside taxable accounts).
    tax_rate: f64,
    /// Tax per dollar in the objective.
    obj_tax: f64,
    loss: bool,
    allowed: bool,
    var: usize,
    row: usize,
}

struct Model {
    as_of: Date,
    v: f64,
    kappa: f64,
    secs: Vec<Sec>,
    accts: Vec<Acct>,
    tickets: Vec<Ticket>,
    segs: Vec<Seg>,
    /// Factor covariance F (k×k).
    f: Vec<Vec<f64>>,
    k: usize,
    nv: usize,
    d_off: usize,
    rows: usize,
    b_eq: Vec<f64>,
    budget_row0: usize,
    min_trade: f64,
    guard: WashSaleGuard,
    tlh: bool,
    location_cost: Vec<f64>,
    /// Per account: its cash less its minimum plus the proceeds (after linear costs) of
    /// everything it may sell; negative when the minimum is out of reach.
    cash_room: Vec<f64>,
    messages: Vec<String>,
    /// The largest trade ($) of each ticket in any trade list better than the incumbent
    /// that bound tightening has proven (starts at the ticket's cap).
    tcap: Vec<f64>,
    /// Ticket groups: the tickets of one (account, asset class, side), near-substitutes
    /// the search switches on or off together before it picks among them.
    groups: Vec<Vec<usize>>,
    /// The group of each ticket.
    group_of: Vec<usize>,
}

fn msg_fee(e: crate::fees::FeeError) -> String {
    format!("fee model: {e}")
}

impl Model {
    fn build(
        s: &Scenario,
        policy: &Policy,
        state: &HouseholdState,
        as_of: Date,
        settings: &HouseholdSettings,
    ) -> Result<Model, String> {
        let mut messages = Vec::new();
        if !(settings.risk_aversion.is_finite() && settings.risk_aversion > 0.0) {
            return Err(format!(
                "risk aversion {} must be a positive number",
                settings.risk_aversion
            ));
        }
        // Target weights.
        let tsum: f64 = s.target.classes.iter().map(|c| c.weight).sum();
        if (tsum - 1.0).abs() > 1e-6 {
            return Err(format!(
                "the target weights sum to {tsum:.6}, not 1: fix the target model's class weights"
            ));
        }
        if let Some(c) = s
            .target
            .classes
            .iter()
            .find(|c| c.weight.is_nan() || c.weight < 0.0)
        {
            return Err(format!(
                "the target weight of {} is {}: weights must be ≥ 0",
                c.asset_class, c.weight
            ));
        }
        // Factors: asset classes of the market assumptions.
        let m = &s.market;
        let k = m.classes.len();
        let corr_ok = m.correlation.len() == k && m.correlation.iter().all(|r| r.len() == k);
        if !corr_ok {
            return Err(format!(
                "the correlation matrix must be {k}×{k} (one row per asset class)"
            ));
        }
        let (ev, _) = symmetric_eigen(&m.correlation);
        let min_ev = ev.iter().copied().fold(f64::INFINITY, f64::min);
        let corr = if k > 0 && min_ev < -1e-10 {
            messages.push(format!(
                "the class correlations are not positive semi-definite (smallest eigenvalue \
                 {min_ev:.3e}); repaired with the nearest correlation matrix (Higham 2002)"
            ));
            nearest_correlation(&m.correlation)
        } else {
            m.correlation.clone()
        };
        let f: Vec<Vec<f64>> = (0..k)
            .map(|a| {
                (0..k)
                    .map(|b| m.classes[a].volatility * m.classes[b].volatility * corr[a][b])
                    .collect()
            })
            .collect();
        // Securities and holdings.
        let mut secs = Vec::with_capacity(s.securities.len());
        for x in &s.securities {
            let price = *state.prices.get(&x.symbol).unwrap_or(&f64::NAN);
            if !(price.is_finite() && price > 0.0) {
                return Err(format!("{}: no valid price ({price})", x.symbol));
            }
            let factor = m.class_index(&x.asset_class).ok_or_else(|| {
                format!(
                    "{}: asset class {} is not in the market assumptions",
                    x.symbol, x.asset_class
                )
            })?;
            let iv = m.idiosyncratic_vol_of(&x.symbol);
            secs.push(Sec {
                symbol: x.symbol.clone(),
                name_class: x.asset_class.clone(),
                factor,
                price,
                stype: x.security_type,
                half_spread_bps: x.half_spread_bps,
                group: x.group.clone(),
                fractional: x.fractional_allowed,
                partners: x.partners.clone(),
                target: 0.0,
                idio_var: (iv * iv).max(1e-8),
                h0: 0.0,
                impact: s.impact_inputs(x),
            });
        }
        let sec_index: BTreeMap<String, usize> = secs
            .iter()
            .enumerate()
            .map(|(i, x)| (x.symbol.clone(), i))
            .collect();
        let mut accts = Vec::new();
        for a in &s.household.accounts {
            let schedule = s
                .fee_schedule(&a.fee_schedule)
                .ok_or_else(|| {
                    format!(
                        "account {}: fee schedule {} does not exist",
                        a.id, a.fee_schedule
                    )
                })?
                .clone();
            let cash = *state.cash.get(&a.id).unwrap_or(&a.cash);
            if !cash.is_finite() {
                return Err(format!("account {}: cash {cash} is not a number", a.id));
            }
            accts.push(Acct {
                id: a.id.clone(),
                kind: a.kind,
                cash,
                min_cash: s.target.min_cash_of(&a.id),
                schedule,
            });
        }
        for lot in state.ledger.lots() {
            let i = *sec_index
                .get(&*lot.symbol)
                .ok_or_else(|| format!("lot of unknown security {}", lot.symbol))?;
            secs[i].h0 += lot.quantity * secs[i].price;
        }
        let v: f64 =
            accts.iter().map(|a| a.cash).sum::<f64>() + secs.iter().map(|x| x.h0).sum::<f64>();
        if !(v.is_finite() && v > 0.0) {
            return Err(format!("the household value is {v}: nothing to rebalance"));
        }
        // Security targets: class weight split as the class is held today.
        for c in &s.target.classes {
            let members: Vec<usize> = (0..secs.len())
                .filter(|&i| secs[i].name_class == c.asset_class)
                .collect();
            let held: f64 = members.iter().map(|&i| secs[i].h0).sum();
            if held > 0.0 {
                for &i in &members {
                    secs[i].target = c.weight * secs[i].h0 / held;
                }
            } else if let Some(&i) = sec_index.get(c.primary.as_str()) {
                secs[i].target = c.weight;
            } else {
                return Err(format!(
                    "asset class {}: primary security {} is not in the securities",
                    c.asset_class, c.primary
                ));
            }
        }
        // Policy options.
        let tlh = policy.tlh.is_some();
        let guard = policy
            .tlh
            .map_or(WashSaleGuard::Household, |t| t.wash_sale_guard);
        let (min_trade, tickets_in, taxes_in) = match policy.optimizer {
            Some(o) => (
                o.min_trade_usd,
                o.tickets_in_objective,
                o.taxes_in_objective,
            ),
            None => (settings.min_trade_usd, true, true),
        };
        let tax = &s.tax;
        // Wash-sale guard data.
        let window_start = as_of.add_days(-WINDOW_DAYS);
        let mut pending: BTreeSet<(String, String)> = BTreeSet::new(); // (group, account)
        for sale in state.ledger.sales() {
            if sale.date < window_start || sale.date > as_of {
                continue;
            }
            let Some(g) = state.ledger.group_of(&sale.symbol) else {
                continue;
            };
            if !state.ledger.pending_losses(g, as_of).is_empty() {
                pending.insert((g.to_string(), sale.account.clone()));
            }
        }
        let mut bought: BTreeSet<(String, String)> = BTreeSet::new(); // (group, account)
        for lot in state.ledger.lots() {
            if lot.acquired >= window_start && lot.acquired <= as_of {
                if let Some(g) = state.ledger.group_of(&lot.symbol) {
                    bought.insert((g.to_string(), lot.account.to_string()));
                }
            }
        }
        let in_scope = |set: &BTreeSet<(String, String)>, g: &str, acct: &str| match guard {
            WashSaleGuard::None => false,
            WashSaleGuard::Account => set.contains(&(g.to_string(), acct.to_string())),
            WashSaleGuard::Household => set.iter().any(|(gg, _)| gg == g),
        };
        // Tickets and segments.
        let mut tickets = Vec::new();
        let mut segs = Vec::new();
        let dnb = &s.target.restrictions.do_not_buy;
        let dns = &s.target.restrictions.do_not_sell;
        let mut location_cost = Vec::new();
        for (ai, a) in accts.iter().enumerate() {
            let acct_value: f64 = a.cash
                + state
                    .ledger
                    .lots()
                    .filter(|l| *l.account == *a.id)
                    .map(|l| l.quantity * secs[sec_index[&*l.symbol]].price)
                    .sum::<f64>();
            for (si, x) in secs.iter().enumerate() {
                let buy = a
                    .schedule
                    .linear_terms(
                        x.stype,
                        Side::Buy,
                        x.fractional,
                        x.half_spread_bps,
                        as_of,
                        &s.regulatory,
                    )
                    .map_err(msg_fee)?;
                let allowed = !dnb.contains(&x.symbol)
                    && !in_scope(&pending, &x.group, &a.id)
                    && acct_value > 0.0;
                tickets.push(Ticket {
                    acct: ai,
                    sec: si,
                    side: Side::Buy,
                    fee_obj: if tickets_in { buy.fixed } else { 0.0 },
                    fee_cash: buy.fixed,
                    unit_cost: buy.per_dollar + buy.per_share / x.price,
                    cap: acct_value.max(1.0),
                    var: 0,
                    segs: 0..0,
                    row_ub: 0,
                    allowed,
                });
                // Location: rank of the account kind among the class's preferences.
                let pref = s
                    .target
                    .classes
                    .iter()
                    .find(|c| c.asset_class == x.name_class)
                    .map(|c| c.location.clone())
                    .unwrap_or_default();
                let rank = if pref.is_empty() {
                    0
                } else {
                    pref.iter().position(|&k| k == a.kind).unwrap_or(pref.len())
                };
                location_cost.push(settings.location_bps / 1e4 * rank as f64);
                let lots = state.ledger.position(&a.id, &x.symbol);
                if lots.is_empty() {
                    continue;
                }
                let sell = a
                    .schedule
                    .linear_terms(
                        x.stype,
                        Side::Sell,
                        x.fractional,
                        x.half_spread_bps,
                        as_of,
                        &s.regulatory,
                    )
                    .map_err(msg_fee)?;
                let t_index = tickets.len();
                let seg0 = segs.len();
                let loss_blocked = a.kind.is_taxable() && in_scope(&bought, &x.group, &a.id);
                let mut total = 0.0;
                for l in lots {
                    let value = l.quantity * x.price;
                    total += value;
                    let gpd = 1.0 - l.basis / value.max(1e-12);
                    let long = l.is_long_term_on(as_of);
                    let rate = if long {
                        tax.long_term_rate()
                    } else {
                        tax.short_term_rate()
                    };
                    let taxable = a.kind.is_taxable();
                    let tax_rate = if taxable { rate * gpd } else { 0.0 };
                    let loss = taxable && gpd < 0.0;
                    let obj_tax = if !taxes_in || (loss && !tlh) {
                        0.0
                    } else {
                        tax_rate
                    };
                    segs.push(Seg {
                        ticket: t_index,
                        lot_id: l.id,
                        shares: l.quantity,
                        cap: value,
                        gain_per_dollar: if taxable { gpd } else { 0.0 },
                        long_term: long,
                        tax_rate,
                        obj_tax,
                        loss,
                        allowed: !(loss && loss_blocked),
                        var: 0,
                        row: 0,
                    });
                }
                tickets.push(Ticket {
                    acct: ai,
                    sec: si,
                    side: Side::Sell,
                    fee_obj: if tickets_in { sell.fixed } else { 0.0 },
                    fee_cash: sell.fixed,
                    unit_cost: sell.per_dollar + sell.per_share / x.price,
                    cap: total,
                    var: 0,
                    segs: seg0..segs.len(),
                    row_ub: 0,
                    allowed: !dns.contains(&x.symbol),
                });
                location_cost.push(0.0);
            }
        }
        // Tight buy caps: a purchase can spend no more than the account's cash above its
        // minimum plus the proceeds of everything it may sell (fees only lower that).
        let mut cash_room = Vec::with_capacity(accts.len());
        for (ai, acct) in accts.iter().enumerate() {
            let proceeds: f64 = tickets
                .iter()
                .filter(|t| t.acct == ai && t.side == Side::Sell && t.allowed)
                .map(|t| {
                    (1.0 - t.unit_cost).max(0.0)
                        * segs[t.segs.clone()]
                            .iter()
                            .filter(|sg| sg.allowed)
                            .map(|sg| sg.cap)
                            .sum::<f64>()
                })
                .sum();
            let room = acct.cash - acct.min_cash + proceeds;
            cash_room.push(room);
            let avail = room.max(0.0);
            for t in tickets
                .iter_mut()
                .filter(|t| t.acct == ai && t.side == Side::Buy)
            {
                t.cap = t.cap.min(avail / (1.0 + t.unit_cost));
                if t.cap < 0.01 {
                    t.allowed = false;
                }
            }
        }
        // Variable layout.
        let mut nv = 0;
        for t in tickets.iter_mut().filter(|t| t.side == Side::Buy) {
            t.var = nv;
            nv += 1;
        }
        for sg in segs.iter_mut() {
            sg.var = nv;
            nv += 1;
        }
        let d_off = nv;
        nv += secs.len() + k;
        let n = secs.len();
        let b_eq: Vec<f64> = secs
            .iter()
            .map(|x| x.h0 / v - x.target)
            .chain(std::iter::repeat_n(0.0, k))
            .collect();
        let kappa = settings.risk_aversion;
        Ok(Model {
            as_of,
            v,
            kappa,
            secs,
            accts,
            tickets,
            segs,
            f,
            k,
            nv,
            d_off,
            rows: 0,
            b_eq,
            budget_row0: n + k,
            min_trade,
            guard,
            tlh,
            location_cost,
            cash_room,
            messages,
            tcap: Vec::new(),
            groups: Vec::new(),
            group_of: Vec::new(),
        })
    }

    fn qp_data(&mut self) -> QpData {
        let n = self.secs.len();
        let k = self.k;
        let mut p = Vec::new();
        for i in 0..n {
            p.push((
                self.d_off + i,
                self.d_off + i,
                2.0 * self.kappa * self.secs[i].idio_var,
            ));
        }
        for a in 0..k {
            for b in a..k {
                if self.f[a][b] != 0.0 {
                    p.push((
                        self.d_off + n + a,
                        self.d_off + n + b,
                        2.0 * self.kappa * self.f[a][b],
                    ));
                }
            }
        }
        let mut a = Vec::new();
        // d_i − Σ buys + Σ sells = h0/V − t.
        for i in 0..n {
            a.push((i, self.d_off + i, 1.0));
        }
        for t in &self.tickets {
            match t.side {
                Side::Buy => a.push((t.sec, t.var, -1.0)),
                Side::Sell => {
                    for sg in &self.segs[t.segs.clone()] {
                        a.push((t.sec, sg.var, 1.0));
                    }
                }
            }
        }
        // y_j − Σ_{i in j} d_i = 0.
        for j in 0..k {
            a.push((n + j, self.d_off + n + j, 1.0));
        }
        for (i, x) in self.secs.iter().enumerate() {
            a.push((n + x.factor, self.d_off + i, -1.0));
        }
        let n_eq = n + k;
        let mut row = n_eq;
        // Budgets.
        for t in &self.tickets {
            let r = row + t.acct;
            match t.side {
                Side::Buy => a.push((r, t.var, 1.0 + t.unit_cost)),
                Side::Sell => {
                    for sg in &self.segs[t.segs.clone()] {
                        a.push((r, sg.var, -(1.0 - t.unit_cost)));
                    }
                }
            }
        }
        row += self.accts.len();
        // Ticket bounds: total ≤ U_on, −total ≤ −m_on.
        for t in self.tickets.iter_mut() {
            t.row_ub = row;
            match t.side {
                Side::Buy => {
                    a.push((row, t.var, 1.0));
                    a.push((row + 1, t.var, -1.0));
                }
                Side::Sell => {
                    for sg in &self.segs[t.segs.clone()] {
                        a.push((row, sg.var, 1.0));
                        a.push((row + 1, sg.var, -1.0));
                    }
                }
            }
            row += 2;
        }
        // Segment bounds.
        for sg in self.segs.iter_mut() {
            sg.row = row;
            a.push((row, sg.var, 1.0));
            a.push((row + 1, sg.var, -1.0));
            row += 2;
        }
        self.rows = row;
        QpData {
            nv: self.nv,
            p,
            a,
            rows: row,
            n_eq,
        }
    }

    /// `q` and `b` of a solve. `on`: the tickets of a restricted solve (None: the
    /// relaxation with fee envelopes).
    fn vectors(&self, cfg: &Config, on: Option<&[bool]>) -> (Vec<f64>, Vec<f64>, f64) {
        let env: Vec<f64> = self
            .tickets
            .iter()
            .map(|t| if t.cap > 0.0 { t.fee_obj / t.cap } else { 0.0 })
            .collect();
        self.vectors_with(cfg, on, &env)
    }

    /// As [`Model::vectors`], with the relaxation's fee per dollar of each ticket given.
    fn vectors_with(
        &self,
        cfg: &Config,
        on: Option<&[bool]>,
        env: &[f64],
    ) -> (Vec<f64>, Vec<f64>, f64) {
        let v = self.v;
        let mut q = vec![0.0; self.nv];
        let mut b = vec![0.0; self.rows];
        b[..self.b_eq.len()].copy_from_slice(&self.b_eq);
        let mut fees_paid = vec![0.0; self.accts.len()];
        let mut constant = 0.0;
        for (ti, t) in self.tickets.iter().enumerate() {
            let allowed = cfg.ticket[ti];
            let active = allowed && on.is_none_or(|o| o[ti]);
            let envelope = if on.is_none() { env[ti] } else { 0.0 };
            if let Some(o) = on {
                if o[ti] && allowed {
                    fees_paid[t.acct] += t.fee_cash;
                    constant += t.fee_obj / v;
                }
            }
            b[t.row_ub] = if active { t.cap / v } else { 0.0 };
            b[t.row_ub + 1] = if active && on.is_some() {
                -(self.min_trade.min(t.cap)) / v
            } else {
                0.0
            };
            match t.side {
                Side::Buy => q[t.var] = t.unit_cost + envelope + self.location_cost[ti],
                Side::Sell => {
                    for (si, sg) in self.segs[t.segs.clone()].iter().enumerate() {
                        let s_index = t.segs.start + si;
                        q[sg.var] = t.unit_cost + envelope + sg.obj_tax;
                        b[sg.row] = if cfg.seg[s_index] { sg.cap / v } else { 0.0 };
                        b[sg.row + 1] = 0.0;
                    }
                }
            }
        }
        for (ai, a) in self.accts.iter().enumerate() {
            b[self.budget_row0 + ai] = (a.cash - a.min_cash - fees_paid[ai]) / v;
        }
        (q, b, constant)
    }

    /// Dollars traded per ticket from x.
    fn ticket_amounts(&self, x: &[f64]) -> Vec<f64> {
        self.tickets
            .iter()
            .map(|t| match t.side {
                Side::Buy => x[t.var].max(0.0) * self.v,
                Side::Sell => {
                    self.segs[t.segs.clone()]
                        .iter()
                        .map(|sg| x[sg.var].max(0.0))
                        .sum::<f64>()
                        * self.v
                }
            })
            .collect()
    }

    /// Wash conflicts in x: (group, taxable account index with the loss sale, buying
    /// account index).
    fn conflicts(&self, x: &[f64]) -> Vec<(String, usize, usize)> {
        if self.guard == WashSaleGuard::None {
            return Vec::new();
        }
        let eps = 0.5 / self.v.max(1.0);
        let mut loss_sold: BTreeMap<(String, usize), f64> = BTreeMap::new();
        for sg in &self.segs {
            if sg.loss && x[sg.var] > eps {
                let t = &self.tickets[sg.ticket];
                *loss_sold
                    .entry((self.secs[t.sec].group.clone(), t.acct))
                    .or_default() += x[sg.var];
            }
        }
        let mut out = Vec::new();
        for ((g, la), _) in loss_sold {
            for t in self.tickets.iter().filter(|t| t.side == Side::Buy) {
                if self.secs[t.sec].group == g
                    && x[t.var] > eps
                    && (self.guard == WashSaleGuard::Household || t.acct == la)
                {
                    out.push((g.clone(), la, t.acct));
                    break;
                }
            }
        }
        out
    }

    fn solve(
        mut self,
        scenario: &Scenario,
        state: &HouseholdState,
        settings: &HouseholdSettings,
        cache: &mut Option<Qp>,
        built: &mut bool,
    ) -> HouseholdSolution {
        // An account whose minimum cash no sale can restore: say so (the solver would only
        // report that it stopped).
        let out_of_reach: Vec<String> = self
            .accts
            .iter()
            .zip(&self.cash_room)
            .filter(|(_, &room)| room < -0.005)
            .map(|(a, &room)| {
                format!(
                    "account {} holds ${:.2} of cash against a minimum of ${:.2}, and selling \
                     everything it may sell would leave it ${:.2} short",
                    a.id, a.cash, a.min_cash, -room
                )
            })
            .collect();
        if !out_of_reach.is_empty() {
            return HouseholdSolution::failed(
                HouseholdStatus::Infeasible,
                format!(
                    "the minimum cash cannot be met: {}",
                    out_of_reach.join("; ")
                ),
            );
        }
        let data = self.qp_data();
        self.tcap = self.tickets.iter().map(|t| t.cap).collect();
        self.make_groups();
        let cfg0 = Config {
            ticket: self.tickets.iter().map(|t| t.allowed).collect(),
            seg: self.segs.iter().map(|s| s.allowed).collect(),
        };
        let (q, b, _) = self.vectors(&cfg0, None);
        let Some((qp, fresh)) = Qp::reuse_or_build(cache, &data, &q, &b, settings.qp_tol) else {
            return HouseholdSolution::failed(
                HouseholdStatus::NumericalError,
                "the QP solver could not be set up".to_string(),
            );
        };
        *built = fresh;
        let mut search = Search {
            qp,
            solves: 0,
            max_solves: settings.max_solves,
        };
        let nt = self.tickets.len();
        // 1. The root relaxation (every ticket free, fees by their envelopes).
        let root_fix = vec![Fix::Free; nt + self.groups.len()];
        let (root_x, root_bound) = match search.node(&self, &cfg0, &root_fix, f64::INFINITY) {
            Relax::Solved(x, obj) => (x, obj),
            Relax::Infeasible => {
                return HouseholdSolution::failed(
                    HouseholdStatus::Infeasible,
                    self.infeasibility_message(),
                )
            }
            Relax::Failed(m) => {
                return HouseholdSolution::failed(HouseholdStatus::NumericalError, m)
            }
        };
        // 2. Incumbents: reweighted fees and greedy drops from the root, and no trade.
        let mut root_cfg = cfg0.clone();
        self.fix_guard(&mut root_cfg, &root_x);
        let thresh = 0.5;
        let mut starts = Vec::new();
        if let Some(x) = search.reweighted(&self, &root_cfg, &root_x) {
            starts.push(
                self.ticket_amounts(&x)
                    .iter()
                    .map(|&a| a > thresh)
                    .collect(),
            );
        }
        starts.push(vec![false; nt]);
        let mut best: Option<Incumbent> = None;
        for s0 in starts {
            if let Some((on, x, obj)) = search.greedy(&self, &root_cfg, s0) {
                offer(
                    &mut best,
                    Incumbent {
                        on,
                        x,
                        obj,
                        cfg: root_cfg.clone(),
                    },
                );
            }
        }
        // 3. Branch and bound over ticket groups and tickets (best bound first), with bound
        // tightening once the search has found its footing.
        let (lower_bound, stopped) = self.branch_and_bound(
            &mut search,
            &mut best,
            Node {
                bound: root_bound,
                id: 0,
                cfg: cfg0,
                fix: root_fix,
            },
            &data,
            settings,
        );
        let Some(Incumbent { on, x, obj, cfg }) = best else {
            return HouseholdSolution::failed(
                HouseholdStatus::Infeasible,
                self.infeasibility_message(),
            );
        };
        if stopped {
            self.messages.push(format!(
                "the search stopped at its limit of {} solves",
                search.max_solves
            ));
        }
        // 5. Shares, fees, reasons.
        let objective = obj * self.v;
        // The bound and the incumbent come from solves at tolerance `qp_tol`: a bound above
        // the incumbent by less than that is rounding.
        let lower_bound =
            if lower_bound > objective && lower_bound - objective <= 1e-6 * self.v.max(1.0) {
                objective
            } else {
                lower_bound
            };
        let gap = ((objective - lower_bound) / objective.abs().max(1.0)).max(0.0);
        let mut sol = self.report(scenario, state, &on, &x, &cfg);
        sol.objective = objective;
        sol.lower_bound = lower_bound;
        sol.gap = gap;
        sol.solves = search.solves;
        if sol.status == HouseholdStatus::Optimal && gap > settings.gap_tol {
            sol.status = HouseholdStatus::Feasible;
        }
        sol
    }

    /// Groups the tickets by (account, asset class, side).
    fn make_groups(&mut self) {
        let mut index: BTreeMap<(usize, usize, u8), usize> = BTreeMap::new();
        self.groups.clear();
        self.group_of.clear();
        for (ti, t) in self.tickets.iter().enumerate() {
            let key = (t.acct, self.secs[t.sec].factor, t.side as u8);
            let next = index.len();
            let g = *index.entry(key).or_insert(next);
            if g == self.groups.len() {
                self.groups.push(Vec::new());
            }
            self.groups[g].push(ti);
            self.group_of.push(g);
        }
    }

    /// The rows of `L` with `LᵀL = P` (the risk's Hessian): `√(2κD_i)` on each `d_i`, and
    /// `√(2κλ_m)·v_mᵀ` on `y` for each eigenpair of the factor covariance.
    fn risk_factor(&self) -> Vec<Vec<(usize, f64)>> {
        let n = self.secs.len();
        let mut l: Vec<Vec<(usize, f64)>> = self
            .secs
            .iter()
            .enumerate()
            .map(|(i, x)| vec![(self.d_off + i, (2.0 * self.kappa * x.idio_var).sqrt())])
            .collect();
        let (values, vectors) = symmetric_eigen(&self.f);
        for (lambda, vec) in values.iter().zip(&vectors) {
            if *lambda > 1e-14 {
                let r = (2.0 * self.kappa * lambda).sqrt();
                l.push(
                    vec.iter()
                        .enumerate()
                        .filter(|(_, &x)| x != 0.0)
                        .map(|(j, &x)| (self.d_off + n + j, r * x))
                        .collect(),
                );
            }
        }
        l
    }

    /// Optimality-based bound tightening at the root. A trade list better than the
    /// incumbent `ub` ($) has a root relaxation value below `ub`, so each ticket trades
    /// at most the maximum of its amount over that level set of the relaxation (one conic
    /// solve per ticket, [`LevelSet`]). Tighter caps raise the fee envelopes `f/U`, which
    /// raise the root bound, which shrinks the level set: a few rounds, while the bound
    /// moves. Returns the root bound ($).
    fn tighten(
        &mut self,
        search: &mut Search<'_>,
        data: &QpData,
        cfg: &Config,
        ub: f64,
        mut bound: f64,
        settings: &HouseholdSettings,
    ) -> f64 {
        let v = self.v;
        let l = self.risk_factor();
        let nt = self.tickets.len();
        let fix = vec![Fix::Free; nt + self.groups.len()];
        for _round in 0..2 {
            let gap = ub - bound;
            if gap <= settings.gap_tol * ub.abs().max(1.0) {
                break;
            }
            let Some((q, b, c)) = self.node_vectors(cfg, &fix, ub) else {
                break;
            };
            let limit = ub / v - c;
            let Some(mut set) = LevelSet::new(data, &l, &q, &b, limit, settings.qp_tol) else {
                break;
            };
            let floor = self.negative_floor(cfg);
            for ti in 0..nt {
                if !cfg.ticket[ti] || self.optimality_cap(ti, cfg, ub, floor) < 1e-6 {
                    continue;
                }
                if search.solves >= search.max_solves {
                    break;
                }
                let t = &self.tickets[ti];
                let vars: Vec<usize> = match t.side {
                    Side::Buy => vec![t.var],
                    Side::Sell => t
                        .segs
                        .clone()
                        .filter(|&si| cfg.seg[si])
                        .map(|si| self.segs[si].var)
                        .collect(),
                };
                search.solves += 1;
                if let Some(most) = set.max_sum(&vars) {
                    // The solver's tolerance, in dollars, as a margin.
                    let cap = most.max(0.0) * v * (1.0 + 1e-6) + 1e-6 * v;
                    if cap < self.tcap[ti] {
                        self.tcap[ti] = cap;
                    }
                }
            }
            let r = search.node(self, cfg, &fix, ub);
            match r {
                Relax::Solved(_, obj) if obj > bound => {
                    let moved = obj - bound;
                    bound = obj;
                    if moved < 0.05 * gap {
                        break;
                    }
                }
                _ => break,
            }
        }
        bound
    }

    fn fix_guard(&self, cfg: &mut Config, x: &[f64]) {
        if self.guard == WashSaleGuard::None {
            return;
        }
        let eps = 0.5 / self.v.max(1.0);
        // (group, account index or usize::MAX for the household) whose losses are sold.
        let scope = |acct: usize| {
            if self.guard == WashSaleGuard::Household {
                usize::MAX
            } else {
                acct
            }
        };
        let mut selling: BTreeSet<(String, usize)> = BTreeSet::new();
        for (si, sg) in self.segs.iter().enumerate() {
            if sg.loss && cfg.seg[si] && x[sg.var] > eps {
                let t = &self.tickets[sg.ticket];
                selling.insert((self.secs[t.sec].group.clone(), scope(t.acct)));
            }
        }
        for (ti, t) in self.tickets.iter().enumerate() {
            if t.side == Side::Buy
                && selling.contains(&(self.secs[t.sec].group.clone(), scope(t.acct)))
            {
                cfg.ticket[ti] = false;
            }
        }
        for (si, sg) in self.segs.iter().enumerate() {
            let t = &self.tickets[sg.ticket];
            if sg.loss && !selling.contains(&(self.secs[t.sec].group.clone(), scope(t.acct))) {
                cfg.seg[si] = false;
            }
        }
    }

    fn infeasibility_message(&self) -> String {
        let short: Vec<String> = self
            .accts
            .iter()
            .filter(|a| a.cash < a.min_cash)
            .map(|a| {
                format!(
                    "account {} holds ${:.2} of cash against a minimum of ${:.2}",
                    a.id, a.cash, a.min_cash
                )
            })
            .collect();
        if short.is_empty() {
            "no trade list meets the budgets, restrictions and wash-sale guard".to_string()
        } else {
            format!(
                "the minimum cash cannot be met even by selling what may be sold: {}",
                short.join("; ")
            )
        }
    }

    /// κ·V·dᵀΣd for household holdings `h` ($ by security).
    fn risk(&self, h: &[f64]) -> f64 {
        let mut y = vec![0.0; self.k];
        let mut idio = 0.0;
        for (i, x) in self.secs.iter().enumerate() {
            let d = h[i] / self.v - x.target;
            y[x.factor] += d;
            idio += x.idio_var * d * d;
        }
        let mut fac = 0.0;
        for a in 0..self.k {
            for b in 0..self.k {
                fac += y[a] * self.f[a][b] * y[b];
            }
        }
        self.kappa * self.v * (fac + idio)
    }
}

/// A ticket's state in a branch-and-bound node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fix {
    /// Either way: the relaxation prices its fee by the convex envelope.
    Free,
    /// Traded: the fee is paid and the minimum trade applies.
    On,
    /// Not traded.
    Off,
}

/// A node of the search: the wash-sale branches taken (`cfg`) and the tickets fixed.
struct Node {
    /// A lower bound on every trade list of the node ($): its parent's relaxation.
    bound: f64,
    id: u64,
    cfg: Config,
    fix: Vec<Fix>,
}

impl PartialEq for Node {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Node {}
impl PartialOrd for Node {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Node {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Max-heap: smallest bound first, then the oldest node.
        other
            .bound
            .total_cmp(&self.bound)
            .then_with(|| other.id.cmp(&self.id))
    }
}

/// The best trade list found: its tickets, solution, objective (units of V) and the
/// wash-sale configuration it was solved under.
struct Incumbent {
    on: Vec<bool>,
    x: Vec<f64>,
    obj: f64,
    cfg: Config,
}

fn offer(best: &mut Option<Incumbent>, c: Incumbent) {
    if best.as_ref().is_none_or(|b| c.obj < b.obj - 1e-15) {
        *best = Some(c);
    }
}

impl Model {
    /// The most the linear terms can lower the objective ($): every allowed lot whose
    /// cost per dollar (spread, commission, tax) is negative sold whole.
    fn negative_floor(&self, cfg: &Config) -> f64 {
        self.segs
            .iter()
            .enumerate()
            .filter(|(si, sg)| cfg.seg[*si] && cfg.ticket[sg.ticket])
            .map(|(_, sg)| (self.tickets[sg.ticket].unit_cost + sg.obj_tax).min(0.0) * sg.cap)
            .sum()
    }

    /// The largest trade of ticket `ti` in any trade list whose objective is below `ub`
    /// ($), given the negative floor `floor`: the objective is at least `floor` + the
    /// ticket's fee + its positive linear costs, risk and every other cost being ≥ 0.
    fn optimality_cap(&self, ti: usize, cfg: &Config, ub: f64, floor: f64) -> f64 {
        let t = &self.tickets[ti];
        let cap = self.tcap.get(ti).copied().unwrap_or(t.cap).min(t.cap);
        if !ub.is_finite() {
            return cap;
        }
        let slack = ub - floor - t.fee_obj;
        if slack < 0.0 {
            return 0.0;
        }
        match t.side {
            Side::Buy => {
                let c = t.unit_cost + self.location_cost[ti];
                if c > 1e-12 {
                    cap.min(slack / c)
                } else {
                    cap
                }
            }
            Side::Sell => {
                let mut free = 0.0;
                let mut min_pos = f64::INFINITY;
                for si in t.segs.clone().filter(|&si| cfg.seg[si]) {
                    let sg = &self.segs[si];
                    let c = t.unit_cost + sg.obj_tax;
                    if c <= 0.0 {
                        free += sg.cap;
                    } else {
                        min_pos = min_pos.min(c);
                    }
                }
                if min_pos.is_finite() {
                    cap.min(free + slack / min_pos)
                } else {
                    cap
                }
            }
        }
    }

    /// `q`, `b` and the constant (units of V) of a node's relaxation: fixed tickets pay
    /// their fee (on) or trade nothing (off); a free ticket trades at most its cap `U`
    /// (the tighter of the budget cap and [`Model::optimality_cap`]) and pays `f/U` per
    /// dollar, the convex envelope of its fee on `[0, U]`, which never exceeds the fee.
    fn node_vectors(
        &self,
        cfg: &Config,
        fix: &[Fix],
        ub: f64,
    ) -> Option<(Vec<f64>, Vec<f64>, f64)> {
        let v = self.v;
        let nt = self.tickets.len();
        let floor = self.negative_floor(cfg);
        let mut q = vec![0.0; self.nv];
        let mut b = vec![0.0; self.rows];
        b[..self.b_eq.len()].copy_from_slice(&self.b_eq);
        let mut fees_paid = vec![0.0; self.accts.len()];
        let mut constant = 0.0;
        let gfix = |g: usize| fix.get(nt + g).copied().unwrap_or(Fix::Free);
        let prepaid: Vec<bool> = (0..self.groups.len())
            .map(|g| {
                gfix(g) == Fix::On
                    && !self.groups[g]
                        .iter()
                        .any(|&ti| cfg.ticket[ti] && fix[ti] == Fix::On)
            })
            .collect();
        // Cheapest fee (objective, cash) among the tickets a prepaid group may still trade.
        let mut cheapest = vec![(f64::INFINITY, f64::INFINITY); self.groups.len()];
        for (ti, t) in self.tickets.iter().enumerate() {
            let g = self.group_of[ti];
            let mut state = if cfg.ticket[ti] && gfix(g) != Fix::Off {
                fix[ti]
            } else {
                Fix::Off
            };
            let mut envelope = 0.0;
            let mut upper = t.cap;
            if state == Fix::Free {
                upper = self.optimality_cap(ti, cfg, ub, floor);
                // Below its minimum trade a ticket cannot trade at all.
                if upper < 1e-6 || upper < self.min_trade.min(t.cap) - 1e-6 {
                    state = Fix::Off;
                } else if prepaid[g] {
                    cheapest[g].0 = cheapest[g].0.min(t.fee_obj);
                    cheapest[g].1 = cheapest[g].1.min(t.fee_cash);
                } else {
                    envelope = t.fee_obj / upper;
                }
            }
            match state {
                Fix::Off => {
                    b[t.row_ub] = 0.0;
                    b[t.row_ub + 1] = 0.0;
                }
                Fix::On => {
                    fees_paid[t.acct] += t.fee_cash;
                    constant += t.fee_obj / v;
                    b[t.row_ub] = self.optimality_cap(ti, cfg, ub, floor) / v;
                    b[t.row_ub + 1] = -(self.min_trade.min(t.cap)) / v;
                }
                Fix::Free => {
                    b[t.row_ub] = upper / v;
                    b[t.row_ub + 1] = 0.0;
                }
            }
            match t.side {
                Side::Buy => q[t.var] = t.unit_cost + envelope + self.location_cost[ti],
                Side::Sell => {
                    for (k, sg) in self.segs[t.segs.clone()].iter().enumerate() {
                        q[sg.var] = t.unit_cost + envelope + sg.obj_tax;
                        b[sg.row] = if cfg.seg[t.segs.start + k] {
                            sg.cap / v
                        } else {
                            0.0
                        };
                        b[sg.row + 1] = 0.0;
                    }
                }
            }
        }
        // A group switched on trades at least one of its tickets: the cheapest fee is paid.
        for (g, &p) in prepaid.iter().enumerate() {
            if p {
                let (obj, cash) = cheapest[g];
                if !obj.is_finite() {
                    return None;
                }
                constant += obj / v;
                fees_paid[self.tickets[self.groups[g][0]].acct] += cash;
            }
        }
        for (ai, a) in self.accts.iter().enumerate() {
            b[self.budget_row0 + ai] = (a.cash - a.min_cash - fees_paid[ai]) / v;
        }
        Some((q, b, constant))
    }

    /// Best-bound branch and bound from `root`. Branches first on a wash-sale conflict of
    /// the node's relaxation (no purchases of the group / no loss sales of it), then on the
    /// free ticket whose fee the envelope under-prices most (on / off). Each node's trade
    /// support is re-solved exactly as an incumbent. Returns the lower bound ($) and
    /// whether the solve limit stopped the search.
    fn branch_and_bound(
        &mut self,
        search: &mut Search<'_>,
        best: &mut Option<Incumbent>,
        root: Node,
        data: &QpData,
        settings: &HouseholdSettings,
    ) -> (f64, bool) {
        let gap_tol = settings.gap_tol;
        let root_cfg = root.cfg.clone();
        // Bound tightening costs a conic solve per ticket: at once when the root leaves a
        // wide gap, else only if the search is still open after its first solves.
        let root_gap = best.as_ref().map_or(f64::INFINITY, |b| {
            let ub = b.obj * self.v;
            (ub - root.bound) / ub.abs().max(1.0)
        });
        let mut tighten_at = Some(if root_gap > WIDE_GAP {
            search.solves
        } else {
            search.solves + TIGHTEN_AFTER
        });
        let v = self.v;
        let eps = 0.5;
        let mut heap = std::collections::BinaryHeap::new();
        heap.push(root);
        let mut next_id = 1u64;
        // Bounds of nodes left open without children (a failed solve, a support whose
        // exact solve did not reach the relaxation).
        let mut floor = f64::INFINITY;
        let mut tried: BTreeSet<(Vec<bool>, Vec<bool>, Vec<bool>)> = BTreeSet::new();
        let mut stopped = false;
        // The smallest bound of a node closed within the gap tolerance of the incumbent:
        // the search proves nothing below it.
        let mut pruned = f64::INFINITY;
        let ub_of = |best: &Option<Incumbent>| best.as_ref().map_or(f64::INFINITY, |b| b.obj * v);
        let closed = |bound: f64, ub: f64| ub - bound <= gap_tol * ub.abs().max(1.0);
        while let Some(top) = heap.peek() {
            let ub = ub_of(best);
            if closed(top.bound.min(floor), ub) {
                break;
            }
            if search.solves >= search.max_solves {
                stopped = true;
                break;
            }
            if tighten_at.is_some_and(|at| search.solves >= at) {
                tighten_at = None;
                let known = top.bound.min(floor).min(pruned);
                if let Some(ub) = best.as_ref().map(|b| b.obj * v) {
                    self.tighten(search, data, &root_cfg, ub, known, settings);
                }
                continue;
            }
            let Some(node) = heap.pop() else { break };
            if closed(node.bound, ub) {
                pruned = pruned.min(node.bound);
                continue;
            }
            let (x, bound) = match search.node(self, &node.cfg, &node.fix, ub) {
                Relax::Solved(x, obj) => (x, obj.max(node.bound)),
                Relax::Infeasible => continue,
                Relax::Failed(_) => {
                    floor = floor.min(node.bound);
                    continue;
                }
            };
            if closed(bound, ub) {
                pruned = pruned.min(bound);
                continue;
            }
            let mut push =
                |heap: &mut std::collections::BinaryHeap<Node>, cfg: Config, fix: Vec<Fix>| {
                    heap.push(Node {
                        bound,
                        id: next_id,
                        cfg,
                        fix,
                    });
                    next_id += 1;
                };
            // Wash-sale conflict: branch on the group.
            if let Some((g, la, ba)) = self.conflicts(&x).into_iter().next() {
                let (no_buy, no_loss) = self.guard_branches(&node.cfg, &g, la, ba);
                push(&mut heap, no_buy, node.fix.clone());
                push(&mut heap, no_loss, node.fix);
                continue;
            }
            // The node's support, solved exactly.
            let amounts = self.ticket_amounts(&x);
            let support: Vec<bool> = (0..self.tickets.len())
                .map(|ti| {
                    node.cfg.ticket[ti]
                        && (node.fix[ti] == Fix::On
                            || (node.fix[ti] == Fix::Free && amounts[ti] > eps))
                })
                .collect();
            // Branch first on the ticket group whose fees the envelopes under-price most
            // (on / off), then inside a group switched on, then on single tickets.
            let nt = self.tickets.len();
            let floor_neg = self.negative_floor(&node.cfg);
            let gfix = |g: usize| node.fix[nt + g];
            let unpaid_of = |ti: usize| -> Option<f64> {
                let t = &self.tickets[ti];
                if node.fix[ti] != Fix::Free || !node.cfg.ticket[ti] || amounts[ti] <= eps {
                    return None;
                }
                let upper = self.optimality_cap(ti, &node.cfg, ub, floor_neg).max(1e-9);
                let unpaid = t.fee_obj * (1.0 - amounts[ti] / upper).max(0.0);
                let short = amounts[ti] < self.min_trade.min(t.cap) - eps;
                if unpaid <= 1e-9 * v && !short {
                    return None;
                }
                Some(unpaid + if short { 1e-6 } else { 0.0 })
            };
            let has_on = |g: usize| {
                self.groups[g]
                    .iter()
                    .any(|&ti| node.cfg.ticket[ti] && node.fix[ti] == Fix::On)
            };
            let mut gpick: Option<(usize, f64)> = None;
            for g in 0..self.groups.len() {
                if gfix(g) != Fix::Free || has_on(g) {
                    continue;
                }
                let score: f64 = self.groups[g].iter().filter_map(|&ti| unpaid_of(ti)).sum();
                if score > 0.0 && gpick.is_none_or(|(_, s)| score > s * (1.0 + 1e-9)) {
                    gpick = Some((g, score));
                }
            }
            let mut pick: Option<(usize, f64, f64)> = None;
            for g in (0..self.groups.len()).filter(|_| gpick.is_none()) {
                if gfix(g) != Fix::On || has_on(g) {
                    continue;
                }
                // Prepaid: the group pays its cheapest fee once; settled when exactly one
                // ticket trades, at that fee and above the minimum trade.
                let trading: Vec<usize> = self.groups[g]
                    .iter()
                    .copied()
                    .filter(|&ti| {
                        node.cfg.ticket[ti] && node.fix[ti] == Fix::Free && amounts[ti] > eps
                    })
                    .collect();
                let cheapest = self.groups[g]
                    .iter()
                    .filter(|&&ti| node.cfg.ticket[ti] && node.fix[ti] == Fix::Free)
                    .map(|&ti| self.tickets[ti].fee_obj)
                    .fold(f64::INFINITY, f64::min);
                let settled = trading.len() == 1 && {
                    let ti = trading[0];
                    let t = &self.tickets[ti];
                    t.fee_obj <= cheapest + 1e-9 && amounts[ti] >= self.min_trade.min(t.cap) - eps
                };
                if trading.is_empty() || settled {
                    continue;
                }
                let score = trading
                    .iter()
                    .map(|&ti| self.tickets[ti].fee_obj)
                    .sum::<f64>()
                    - cheapest
                    + 1e-6;
                if let Some(&ti) = trading
                    .iter()
                    .max_by(|&&a, &&b| amounts[a].total_cmp(&amounts[b]).then(b.cmp(&a)))
                {
                    if pick.is_none_or(|(_, s, _)| score > s * (1.0 + 1e-9)) {
                        pick = Some((ti, score, amounts[ti]));
                    }
                }
            }
            if pick.is_none() && gpick.is_none() {
                for (ti, &g) in self.group_of.iter().enumerate() {
                    if gfix(g) == Fix::On && !has_on(g) {
                        continue;
                    }
                    let Some(score) = unpaid_of(ti) else { continue };
                    let better = pick.is_none_or(|(_, s, a)| {
                        score > s * (1.0 + 1e-9) || (score >= s * (1.0 - 1e-9) && amounts[ti] > a)
                    });
                    if better {
                        pick = Some((ti, score, amounts[ti]));
                    }
                }
            }
            // The node's support, solved exactly, when it may beat the incumbent (its
            // relaxation plus the fees the envelopes leave unpaid is below it) or when the
            // node is a leaf.
            let unpaid_sum: f64 = (0..nt).filter_map(unpaid_of).sum();
            let slack = gap_tol * ub.abs().max(1.0);
            let mut cfg = node.cfg.clone();
            self.fix_guard(&mut cfg, &x);
            let key = (support.clone(), cfg.ticket.clone(), cfg.seg.clone());
            let mut exact = None;
            let leaf = pick.is_none() && gpick.is_none();
            if !tried.contains(&key) && (leaf || bound + unpaid_sum < ub - slack) {
                if let Some((xs, obj)) = search.restricted(self, &cfg, &support) {
                    exact = Some(obj * v);
                    offer(
                        best,
                        Incumbent {
                            on: support.clone(),
                            x: xs,
                            obj,
                            cfg,
                        },
                    );
                }
                tried.insert(key);
            }
            if let Some((g, _)) = gpick {
                let mut off = node.fix.clone();
                off[nt + g] = Fix::Off;
                let mut on = node.fix;
                on[nt + g] = Fix::On;
                push(&mut heap, node.cfg.clone(), on);
                push(&mut heap, node.cfg, off);
                continue;
            }
            let Some((ti, _, _)) = pick else {
                // Every free ticket is settled: the support's exact solve is this node's
                // optimum unless rounding of tiny trades moved it.
                let attained = exact.is_some_and(|e| closed(bound, e) || e <= bound);
                if attained {
                    pruned = pruned.min(bound);
                } else {
                    floor = floor.min(bound);
                }
                continue;
            };
            let mut off = node.fix.clone();
            off[ti] = Fix::Off;
            let mut on = node.fix;
            on[ti] = Fix::On;
            push(&mut heap, node.cfg.clone(), on);
            push(&mut heap, node.cfg, off);
        }
        let ub = ub_of(best);
        let open = heap.peek().map_or(f64::INFINITY, |n| n.bound);
        (open.min(floor).min(pruned).min(ub), stopped)
    }

    /// The two branches of a wash-sale conflict in group `g` (loss sale in account `la`,
    /// purchase in `ba`): no purchases of the group in scope, or no loss sales of it.
    fn guard_branches(&self, cfg: &Config, g: &str, la: usize, ba: usize) -> (Config, Config) {
        let mut no_buy = cfg.clone();
        let mut no_loss = cfg.clone();
        for (ti, t) in self.tickets.iter().enumerate() {
            if t.side == Side::Buy
                && self.secs[t.sec].group == g
                && (self.guard == WashSaleGuard::Household || t.acct == ba)
            {
                no_buy.ticket[ti] = false;
            }
        }
        for (si, sg) in self.segs.iter().enumerate() {
            let t = &self.tickets[sg.ticket];
            if sg.loss
                && self.secs[t.sec].group == g
                && (self.guard == WashSaleGuard::Household || t.acct == la)
            {
                no_loss.seg[si] = false;
            }
        }
        (no_buy, no_loss)
    }
}

#[derive(Debug, Clone)]
struct Config {
    ticket: Vec<bool>,
    seg: Vec<bool>,
}

enum Relax {
    Solved(Vec<f64>, f64),
    Infeasible,
    Failed(String),
}

struct Search<'a> {
    qp: &'a mut Qp,
    solves: usize,
    max_solves: usize,
}

impl Search<'_> {
    fn run(&mut self, q: &[f64], b: &[f64]) -> Relax {
        self.solves += 1;
        match self.qp.solve(q, b) {
            QpOutcome::Solved { x, obj } => Relax::Solved(x, obj),
            QpOutcome::Infeasible => Relax::Infeasible,
            QpOutcome::Failed(s) => Relax::Failed(format!("the QP solver stopped: {s:?}")),
        }
    }

    /// A node's relaxation: its solution and objective in dollars (fees of the tickets
    /// fixed on included), a lower bound on the node's trade lists below `ub`.
    fn node(&mut self, m: &Model, cfg: &Config, fix: &[Fix], ub: f64) -> Relax {
        let Some((q, b, c)) = m.node_vectors(cfg, fix, ub) else {
            return Relax::Infeasible;
        };
        match self.run(&q, &b) {
            Relax::Solved(x, obj) => Relax::Solved(x, (obj + c) * m.v),
            r => r,
        }
    }

    /// Iteratively reweighted fees (Lobo, Fazel and Boyd 2007, "Portfolio optimization
    /// with linear and fixed transaction costs"): each fixed fee `f` becomes the linear
    /// cost `f/(|x_prev| + ε)·|x|`, so small trades pay nearly their whole ticket and
    /// vanish; a few rounds give a sparse ticket set for the exact restricted solves.
    fn reweighted(&mut self, m: &Model, cfg: &Config, start: &[f64]) -> Option<Vec<f64>> {
        let eps = m.min_trade.max(50.0);
        let mut x = start.to_vec();
        let mut support_prev: Option<Vec<bool>> = None;
        for _ in 0..8 {
            let amounts = m.ticket_amounts(&x);
            let env: Vec<f64> = m
                .tickets
                .iter()
                .zip(&amounts)
                .map(|(t, &a)| t.fee_obj / (a + eps))
                .collect();
            let (q, b, _) = m.vectors_with(cfg, None, &env);
            match self.run(&q, &b) {
                Relax::Solved(xn, _) => x = xn,
                _ => break,
            }
            let support: Vec<bool> = m.ticket_amounts(&x).iter().map(|&a| a > 0.5).collect();
            if support_prev.as_ref() == Some(&support) {
                break;
            }
            support_prev = Some(support);
        }
        Some(x)
    }

    /// The restricted problem's objective (with fees as constants), or None.
    fn restricted(&mut self, m: &Model, cfg: &Config, on: &[bool]) -> Option<(Vec<f64>, f64)> {
        if self.solves >= self.max_solves {
            return None;
        }
        let (q, b, c) = m.vectors(cfg, Some(on));
        match self.run(&q, &b) {
            Relax::Solved(x, obj) => Some((x, obj + c)),
            _ => None,
        }
    }

    /// Drops tickets one at a time (smallest trade first) while the objective falls.
    fn greedy(
        &mut self,
        m: &Model,
        cfg: &Config,
        mut on: Vec<bool>,
    ) -> Option<(Vec<bool>, Vec<f64>, f64)> {
        for (i, o) in on.iter_mut().enumerate() {
            *o = *o && cfg.ticket[i];
        }
        let (mut x, mut obj) = self.restricted(m, cfg, &on)?;
        loop {
            let amounts = m.ticket_amounts(&x);
            let mut order: Vec<usize> = (0..on.len()).filter(|&i| on[i]).collect();
            order.sort_by(|&a, &b| amounts[a].total_cmp(&amounts[b]).then(a.cmp(&b)));
            let mut improved = false;
            for ti in order {
                let mut trial = on.clone();
                trial[ti] = false;
                if let Some((xt, ot)) = self.restricted(m, cfg, &trial) {
                    if ot < obj - 1e-12 {
                        on = trial;
                        x = xt;
                        obj = ot;
                        improved = true;
                    }
                }
            }
            if !improved {
                return Some((on, x, obj));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Whole shares, fees and explanations.

struct Order {
    ticket: usize,
    shares: f64,
}

/// At most this many sales are grown to repair a rounding shortfall.
const MAX_REPAIRS: usize = 16;

impl Model {
    fn report(
        &self,
        scenario: &Scenario,
        state: &HouseholdState,
        on: &[bool],
        x: &[f64],
        cfg: &Config,
    ) -> HouseholdSolution {
        let amounts = self.ticket_amounts(x);
        let mut orders: Vec<Order> = Vec::new();
        for (ti, t) in self.tickets.iter().enumerate() {
            if !on[ti] || amounts[ti] <= 0.5 {
                continue;
            }
            let sec = &self.secs[t.sec];
            let raw = amounts[ti] / sec.price;
            let shares = match t.side {
                Side::Buy => {
                    let mut q = if sec.fractional {
                        snap((raw * 1e4).floor() / 1e4, raw)
                    } else {
                        raw.floor()
                    };
                    if q * sec.price < self.min_trade && !sec.fractional {
                        q = raw.ceil();
                    }
                    q
                }
                Side::Sell => {
                    let held = self.sellable(t, cfg);
                    let all: f64 = self.segs[t.segs.clone()].iter().map(|s| s.shares).sum();
                    if raw >= held - 1e-6 * held.max(1.0) || (held - raw) * sec.price < 1.0 {
                        held
                    } else if sec.fractional {
                        snap((raw * 1e4).round() / 1e4, raw)
                    } else {
                        let mut q = raw.round().min(held.floor());
                        if q * sec.price < self.min_trade {
                            q = raw.ceil().min(held.floor());
                        }
                        if held < all && q > held {
                            q = held.floor();
                        }
                        q
                    }
                }
            };
            if shares > 0.0 {
                orders.push(Order { ticket: ti, shares });
            }
        }
        // Repair budgets.
        let mut messages = self.messages.clone();
        let mut repairs = 0;
        loop {
            let mut short = None;
            for (ai, a) in self.accts.iter().enumerate() {
                let end = a.cash + self.cash_change(scenario, &orders, ai);
                if end < a.min_cash - 1e-9 {
                    short = Some((ai, a.min_cash - end));
                    break;
                }
            }
            let Some((ai, shortfall)) = short else { break };
            let buy = orders
                .iter()
                .enumerate()
                .filter(|(_, o)| {
                    let t = &self.tickets[o.ticket];
                    t.acct == ai && t.side == Side::Buy
                })
                .max_by(|a, b| {
                    let na = a.1.shares * self.secs[self.tickets[a.1.ticket].sec].price;
                    let nb = b.1.shares * self.secs[self.tickets[b.1.ticket].sec].price;
                    na.total_cmp(&nb).then(b.0.cmp(&a.0))
                })
                .map(|(i, _)| i);
            let Some(oi) = buy else {
                // No purchase to trim: sell a little more (rounding a sale down to shares,
                // or the fees' cents, can leave a selling-only account a cent short).
                if repairs < MAX_REPAIRS && self.grow_a_sale(&mut orders, ai, shortfall, cfg) {
                    repairs += 1;
                    continue;
                }
                return HouseholdSolution::failed(
                    HouseholdStatus::Infeasible,
                    format!(
                        "account {}: rounding the trades to shares and cents leaves the cash \
                         ${shortfall:.2} below its minimum, with no purchase left to trim and \
                         no more shares it may sell",
                        self.accts[ai].id
                    ),
                );
            };
            let sec = &self.secs[self.tickets[orders[oi].ticket].sec];
            let per_share = sec.price * (1.0 + self.tickets[orders[oi].ticket].unit_cost);
            let cut = if sec.fractional {
                ((shortfall / per_share) * 1e6).ceil() / 1e6
            } else {
                (shortfall / per_share).ceil().max(1.0)
            };
            orders[oi].shares -= cut;
            if orders[oi].shares <= 1e-9 || orders[oi].shares * sec.price < self.min_trade {
                orders.remove(oi);
            }
        }
        // Holdings after the orders.
        let h_before: Vec<f64> = self.secs.iter().map(|x| x.h0).collect();
        let mut h_after = h_before.clone();
        for o in &orders {
            let t = &self.tickets[o.ticket];
            let n = o.shares * self.secs[t.sec].price;
            h_after[t.sec] += if t.side == Side::Buy { n } else { -n };
        }
        let risk_after = self.risk(&h_after);
        let mut terms = ObjectiveTerms {
            risk_before: self.risk(&h_before),
            risk: risk_after,
            ..ObjectiveTerms::default()
        };
        // Class drift before trading (for reasons).
        let mut class_w = vec![0.0; self.k];
        for x in &self.secs {
            class_w[x.factor] += x.h0 / self.v;
        }
        let mut trades = Vec::new();
        let mut harvest_symbols: BTreeSet<String> = BTreeSet::new();
        let mut pending: Vec<(ProposedTrade, usize)> = Vec::new();
        for (oi, o) in orders.iter().enumerate() {
            let t = &self.tickets[o.ticket];
            let sec = &self.secs[t.sec];
            let acct = &self.accts[t.acct];
            let spec = TicketSpec {
                trade_date: self.as_of,
                side: t.side,
                security_type: sec.stype,
                quantity: o.shares,
                price: sec.price,
                fractional: crate::lots::is_fractional(o.shares),
                half_spread_bps: sec.half_spread_bps,
                impact: sec.impact,
            };
            let fees = match acct.schedule.ticket_cost(&spec, &scenario.regulatory) {
                Ok(f) => f,
                Err(e) => {
                    return HouseholdSolution::failed(HouseholdStatus::InvalidInput, msg_fee(e))
                }
            };
            terms.add_ticket(
                &fees,
                acct.schedule.fixed_cost(sec.stype, t.side, spec.fractional),
            );
            let (lots, tax_effect) = if t.side == Side::Sell {
                self.relieve(t, o.shares, cfg, state)
            } else {
                (Vec::new(), 0.0)
            };
            terms.add_tax(tax_effect);
            let n = o.shares * sec.price;
            if t.side == Side::Buy {
                terms.location += self.location_cost[o.ticket] * n;
            }
            let mut h_without = h_after.clone();
            h_without[t.sec] -= if t.side == Side::Buy { n } else { -n };
            let risk_reduction = self.risk(&h_without) - risk_after;
            let realized: f64 = lots.iter().map(|l| l.gain).sum();
            if t.side == Side::Sell && self.tlh && realized < 0.0 && acct.kind.is_taxable() {
                harvest_symbols.insert(sec.symbol.clone());
            }
            let trade = ProposedTrade {
                account: acct.id.clone(),
                symbol: sec.symbol.clone(),
                side: t.side,
                quantity: o.shares,
                price: sec.price,
                notional: n,
                reason: ReasonCode::Drift,
                explanation: String::new(),
                risk_reduction,
                tax_effect,
                realized_short_term: 0.0,
                realized_long_term: 0.0,
                fees,
                lots,
            };
            pending.push((trade, oi));
        }
        for (mut trade, oi) in pending {
            let t = &self.tickets[orders[oi].ticket];
            let sec = &self.secs[t.sec];
            let acct = &self.accts[t.acct];
            let class_target = scenario.target.weight_of(&sec.name_class);
            let band = scenario
                .target
                .band_of(&sec.name_class)
                .half_width(class_target);
            trade.reason = if t.side == Side::Sell && harvest_symbols.contains(&sec.symbol) {
                ReasonCode::Harvest
            } else if t.side == Side::Buy
                && sec.partners.iter().any(|p| harvest_symbols.contains(p))
            {
                ReasonCode::PartnerSwap
            } else if (class_w[sec.factor] - class_target).abs() > band + 1e-12 {
                ReasonCode::BandBreach
            } else if (t.side == Side::Sell && acct.cash < acct.min_cash)
                || (t.side == Side::Buy && acct.cash - acct.min_cash >= 0.5 * trade.notional)
            {
                ReasonCode::CashFlow
            } else {
                ReasonCode::Drift
            };
            trades.push(trade);
        }
        trades.sort_by(ticket_order);
        if trades.is_empty() {
            messages.push("no trade pays for its costs".to_string());
        }
        // Report the tax the ledger books for the list — its sales net of their costs, a
        // loss washed by a purchase of the list (or an earlier one) disallowed — where the
        // optimizer priced each lot's gain at the marginal rate without washes.
        match booked_taxes(scenario, state, self.as_of, &trades) {
            Ok(booked) => {
                terms.tax = 0.0;
                terms.harvest_value = 0.0;
                for (t, (tax, realized)) in trades.iter_mut().zip(booked) {
                    t.tax_effect = tax;
                    t.realized_short_term = realized.short_term;
                    t.realized_long_term = realized.long_term;
                    terms.add_tax(tax);
                }
            }
            Err(e) => {
                // The year's netting then works from the lots' gains before costs.
                for t in trades.iter_mut() {
                    let taxable = is_taxable(scenario, &t.account);
                    for l in t.lots.iter().filter(|_| taxable) {
                        if l.long_term {
                            t.realized_long_term += l.gain;
                        } else {
                            t.realized_short_term += l.gain;
                        }
                    }
                }
                messages.push(format!(
                    "the trade list could not be booked in the ledger ({e}); tax effects are \
                     the optimizer's estimates"
                ))
            }
        }
        // Explained once the tax is known, so the sentence says what the columns show. A
        // sale that funds purchases in its account says so: on its own, its risk change can
        // be worth less than its ticket.
        let funding: Vec<String> = trades
            .iter()
            .map(|t| {
                let other: Vec<&str> = trades
                    .iter()
                    .filter(|o| o.account == t.account && o.side != t.side)
                    .map(|o| o.symbol.as_str())
                    .collect();
                match (other.is_empty(), t.side) {
                    (true, _) => String::new(),
                    (false, Side::Sell) => {
                        format!(", and funds the purchase of {}", other.join(", "))
                    }
                    (false, Side::Buy) => format!(", funded by the sale of {}", other.join(", ")),
                }
            })
            .collect();
        for (t, funding) in trades.iter_mut().zip(funding) {
            let name = scenario
                .account(&t.account)
                .map_or(t.account.as_str(), Account::label);
            t.explanation = explain(t, name, &format!("{}{funding}", risk_phrase(t)));
        }
        HouseholdSolution {
            status: HouseholdStatus::Optimal,
            messages,
            trades,
            terms,
            objective: f64::NAN,
            lower_bound: f64::NAN,
            gap: f64::NAN,
            solves: 0,
            household_value: self.v,
        }
    }

    /// The shares sale ticket `t` may take: those of its lots open under `cfg`.
    fn sellable(&self, t: &Ticket, cfg: &Config) -> f64 {
        self.segs[t.segs.clone()]
            .iter()
            .enumerate()
            .filter(|(i, _)| cfg.seg[t.segs.start + i])
            .map(|(_, sg)| sg.shares)
            .sum()
    }

    /// Sells more of one of account `ai`'s sales to raise `shortfall` after costs (the
    /// smallest step of shares that covers it, a cent more, within the shares the sale may
    /// take). False when no sale of the account has shares left to sell.
    fn grow_a_sale(&self, orders: &mut [Order], ai: usize, shortfall: f64, cfg: &Config) -> bool {
        for o in orders.iter_mut() {
            let t = &self.tickets[o.ticket];
            if t.acct != ai || t.side != Side::Sell {
                continue;
            }
            let sec = &self.secs[t.sec];
            let room = self.sellable(t, cfg) - o.shares;
            let per_share = sec.price * (1.0 - t.unit_cost).max(1e-6);
            let want = (shortfall + 0.01) / per_share;
            let step = if sec.fractional {
                (want * 1e4).ceil() / 1e4
            } else {
                want.ceil()
            };
            if room <= 1e-9 {
                continue;
            }
            o.shares += step.min(room);
            return true;
        }
        false
    }

    /// Cash change of account `ai` from the orders, with every ticket priced by the fee
    /// schedule (commission, regulatory fees) and the spread.
    fn cash_change(&self, scenario: &Scenario, orders: &[Order], ai: usize) -> f64 {
        let mut c = 0.0;
        for o in orders {
            let t = &self.tickets[o.ticket];
            if t.acct != ai {
                continue;
            }
            let sec = &self.secs[t.sec];
            let spec = TicketSpec {
                trade_date: self.as_of,
                side: t.side,
                security_type: sec.stype,
                quantity: o.shares,
                price: sec.price,
                fractional: crate::lots::is_fractional(o.shares),
                half_spread_bps: sec.half_spread_bps,
                impact: sec.impact,
            };
            let cost = self.accts[ai]
                .schedule
                .ticket_cost(&spec, &scenario.regulatory)
                .map(|f| f.total())
                .unwrap_or(f64::INFINITY);
            let n = o.shares * sec.price;
            c += match t.side {
                Side::Buy => -n - cost,
                Side::Sell => n - cost,
            };
        }
        c
    }

    /// The lots a sale of `shares` relieves: allowed lots by tax per dollar (the minimum
    /// tax order the optimizer used), then lot id.
    fn relieve(
        &self,
        t: &Ticket,
        shares: f64,
        cfg: &Config,
        state: &HouseholdState,
    ) -> (Vec<RelievedLot>, f64) {
        let price = self.secs[t.sec].price;
        let mut idx: Vec<usize> = t.segs.clone().filter(|&s| cfg.seg[s]).collect();
        if shares > idx.iter().map(|&s| self.segs[s].shares).sum::<f64>() + 1e-9 {
            idx = t.segs.clone().collect();
        }
        idx.sort_by(|&a, &b| {
            let (sa, sb) = (&self.segs[a], &self.segs[b]);
            sa.tax_rate
                .total_cmp(&sb.tax_rate)
                .then(sa.lot_id.cmp(&sb.lot_id))
        });
        let mut left = shares;
        let mut out = Vec::new();
        let mut tax = 0.0;
        for s in idx {
            if left <= 1e-12 {
                break;
            }
            let sg = &self.segs[s];
            let q = left.min(sg.shares);
            left -= q;
            let gain = sg.gain_per_dollar * q * price;
            tax += sg.tax_rate * q * price;
            out.push(RelievedLot {
                lot_id: sg.lot_id,
                label: state
                    .labels
                    .get(&sg.lot_id)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", sg.lot_id)),
                shares: q,
                gain,
                long_term: sg.long_term,
            });
        }
        (out, tax)
    }
}

/// The tax of each trade of `trades` as the ledger books the list on `as_of` (sales first,
/// each relieving the lots it names, then purchases; every ticket's costs as its fee), at
/// the profile's marginal rates: 0 for a purchase and for a sale outside a taxable
/// account.
/// Whether account `id` of `scenario` is taxable (gains and losses realized in it count).
fn is_taxable(scenario: &Scenario, id: &str) -> bool {
    scenario.account(id).is_some_and(|a| a.kind.is_taxable())
}

fn booked_taxes(
    scenario: &Scenario,
    state: &HouseholdState,
    as_of: Date,
    trades: &[ProposedTrade],
) -> Result<Vec<(f64, Realized)>, LedgerError> {
    let mut ledger = state.ledger.clone();
    // The list is decided at once: a sale that names a lot an earlier sale of the list
    // washed in part sells the piece split off it too (the same shares).
    let decided = ledger.next_lot_id();
    let mut sale_of = vec![None; trades.len()];
    for side in [Side::Sell, Side::Buy] {
        for (i, t) in trades.iter().enumerate().filter(|(_, t)| t.side == side) {
            let mut trade = ledger::Trade {
                fee: t.fees.total(),
                ..ledger::Trade::buy(as_of, &t.account, &t.symbol, t.quantity, t.price)
            };
            trade.side = side;
            if side == Side::Sell && !t.lots.is_empty() {
                trade.method = Some(LotMethod::SpecificLot);
                let named: Vec<LotId> = t.lots.iter().map(|l| l.lot_id).collect();
                match ledger.position_index(&t.account, &t.symbol) {
                    Some(pi) => ledger.named_with_pieces(pi, &named, decided, &mut trade.lots),
                    None => trade.lots = named,
                }
            }
            sale_of[i] = ledger.apply(&trade)?.sale;
        }
    }
    let sales = ledger.sales();
    Ok(trades
        .iter()
        .zip(sale_of)
        .map(|(t, sale)| {
            let taxable = is_taxable(scenario, &t.account);
            match sale.and_then(|i| sales.get(i)) {
                Some(rec) if taxable => (
                    rec.short_term * scenario.tax.short_term_rate()
                        + rec.long_term * scenario.tax.long_term_rate(),
                    Realized {
                        short_term: rec.short_term,
                        long_term: rec.long_term,
                    },
                ),
                _ => (0.0, Realized::default()),
            }
        })
        .collect())
}

/// A fractional quantity within a thousandth of a share of a whole number becomes that
/// whole number (no fractional order for rounding noise).
fn snap(q: f64, raw: f64) -> f64 {
    if (raw - raw.round()).abs() < 1e-3 {
        raw.round()
    } else {
        q
    }
}

/// Dollars to the cent with thousands separators (`$1,234.50`, `−$3.00`).
pub(crate) fn money(x: f64) -> String {
    let cents = (x.abs() * 100.0).round() as u64;
    let (d, c) = (cents / 100, cents % 100);
    let mut s = d.to_string();
    let mut i = s.len() as isize - 3;
    while i > 0 {
        s.insert(i as usize, ',');
        i -= 3;
    }
    format!("{}${s}.{c:02}", if x < -0.005 { "−" } else { "" })
}

fn shares_text(q: f64) -> String {
    if (q - q.round()).abs() < 1e-9 {
        format!("{}", q.round() as i64)
    } else {
        format!("{q:.4}")
    }
}

/// The order of a trade list: by account, then symbol, then side.
fn ticket_order(a: &ProposedTrade, b: &ProposedTrade) -> std::cmp::Ordering {
    (a.account.as_str(), a.symbol.as_str(), a.side as u8).cmp(&(
        b.account.as_str(),
        b.symbol.as_str(),
        b.side as u8,
    ))
}

/// Why a rule-based trade is made, in words.
fn rule_phrase(why: crate::simulate::Reason) -> &'static str {
    use crate::simulate::Reason;
    match why {
        Reason::Drift => "calendar rebalance back to the target",
        Reason::BandBreach => "an asset class is outside its band",
        Reason::Harvest => "harvests a loss",
        Reason::PartnerSwap => "buys the TLH partner with the harvest's proceeds",
        Reason::CashFlow => "keeps the account's cash at its minimum",
        Reason::TaxPayment => "raises cash for taxes",
        Reason::Signal => "tactical tilt",
        Reason::Optimizer => "cost-aware optimizer",
        Reason::DividendReinvestment => "reinvests a dividend",
    }
}

/// What an optimised trade does to tracking error, in words.
fn risk_phrase(t: &ProposedTrade) -> String {
    if t.risk_reduction >= 0.0 {
        format!(
            "cuts tracking error by {}/yr-equivalent",
            money(t.risk_reduction)
        )
    } else {
        format!(
            "adds {}/yr-equivalent of tracking error",
            money(-t.risk_reduction)
        )
    }
}

/// One sentence for the advisor: what, where, why (`why`), the gain or loss a sale
/// realizes and its tax, and the ticket's costs.
fn explain(t: &ProposedTrade, account_name: &str, why: &str) -> String {
    let verb = if t.side == Side::Buy { "Buy" } else { "Sell" };
    let mut s = format!(
        "{verb} {} {} in {account_name}: {why}",
        shares_text(t.quantity),
        t.symbol
    );
    let (st, lt) = (t.realized_short_term, t.realized_long_term);
    let realized = st + lt;
    if t.side == Side::Sell && realized.abs() >= 0.005 {
        let character = if st.abs() >= lt.abs() {
            "short-term"
        } else {
            "long-term"
        };
        let kind = if realized < 0.0 { "loss" } else { "gain" };
        s += &format!(", realizes {} {character} {kind}", money(realized));
        if t.tax_effect < 0.0 {
            s += &format!(
                " (worth {} of tax at the marginal rates, before the year's netting and the \
                 yearly limit on offsetting ordinary income)",
                money(-t.tax_effect)
            );
        } else {
            s += &format!(
                " (taxed {} at the marginal rates, before the year's netting)",
                money(t.tax_effect)
            );
        }
    }
    s += &format!(
        ", costs {} ticket + {} SEC/TAF + {} spread",
        money(t.fees.commission),
        money(t.fees.regulatory()),
        money(t.fees.spread)
    );
    if t.fees.impact >= 0.005 {
        s += &format!(" + {} market impact", money(t.fees.impact));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a list whose loss sale in one taxable account washed part of a lot
    /// bought days before in another, which the list then sold by its id, could not be
    /// booked (the washed shares were split off under a new id); its tax effects fell back
    /// to the optimizer's estimates. The sale sells the piece too.
    #[test]
    fn a_list_that_sells_a_lot_an_earlier_sale_washed_in_part_is_booked() {
        let mut s = Scenario::demo();
        // The Roth's VWO, bought 2026-11-03, made taxable: a replacement lot that splits.
        for a in &mut s.household.accounts {
            if a.id == "roth_sam" {
                a.kind = AccountKind::Taxable;
            }
        }
        let state = HouseholdState::from_scenario(&s).unwrap();
        let id = |label: &str| {
            *state
                .labels
                .iter()
                .find(|(_, l)| l.as_str() == label)
                .expect("a lot")
                .0
        };
        let price = s
            .securities
            .iter()
            .find(|x| x.symbol == "VWO")
            .unwrap()
            .price;
        let fees = TicketCost::default();
        let sale = |account: &str, lot: LotId, label: &str, quantity: f64| ProposedTrade {
            account: account.into(),
            symbol: "VWO".into(),
            side: Side::Sell,
            quantity,
            price,
            notional: quantity * price,
            reason: ReasonCode::Harvest,
            explanation: String::new(),
            risk_reduction: 0.0,
            tax_effect: 0.0,
            realized_short_term: 0.0,
            realized_long_term: 0.0,
            fees,
            lots: vec![RelievedLot {
                lot_id: lot,
                label: label.into(),
                shares: quantity,
                gain: 0.0,
                long_term: false,
            }],
        };
        // 20 of the joint's long-term loss shares wash 20 of the Roth's 50; then the
        // Roth's lot is sold whole by its id.
        let trades = [
            sale("joint", id("L010"), "L010", 20.0),
            sale("roth_sam", id("L021"), "L021", 50.0),
        ];
        let booked = booked_taxes(&s, &state, s.as_of, &trades).expect("booked");
        // The joint's loss is disallowed into the Roth's shares, which the list sells at a
        // loss that now includes it: 70 shares' loss in all, none of it lost.
        let loss = |label: &str, q: f64| {
            let l = s
                .household
                .accounts
                .iter()
                .flat_map(|a| &a.lots)
                .find(|l| l.id == label)
                .unwrap();
            q * price - l.basis * q / l.quantity
        };
        let total: f64 = booked.iter().map(|(_, r)| r.short_term + r.long_term).sum();
        assert!(
            (total - (loss("L010", 20.0) + loss("L021", 50.0))).abs() < 1e-6,
            "{booked:?}"
        );
        assert_eq!(booked[0].1.short_term + booked[0].1.long_term, 0.0);
    }

    /// The demo household cut to its joint account and the first `n` securities, with a
    /// flat ticket fee, so every ticket set can be enumerated.
    fn small(n: usize, flat: f64) -> Scenario {
        let mut s = Scenario::demo_with_securities(n);
        let syms: Vec<String> = s.securities.iter().map(|x| x.symbol.clone()).collect();
        s.household.accounts.truncate(1);
        for a in &mut s.household.accounts {
            a.lots.retain(|l| syms.contains(&l.symbol));
        }
        for f in &mut s.fee_schedules {
            f.rows.etf.flat = flat;
            f.rows.stock.flat = flat;
            f.rows.mutual_fund.flat = flat;
        }
        s
    }

    /// The exact optimum by enumeration: every ticket set, under every choice of the
    /// wash-sale guard per group (close its loss lots, or forbid its purchases).
    fn brute_force(s: &Scenario, policy: &Policy) -> f64 {
        let state = HouseholdState::from_scenario(s).unwrap();
        let settings = HouseholdSettings::default();
        let mut m = Model::build(s, policy, &state, s.as_of, &settings).unwrap();
        let data = m.qp_data();
        let cfg0 = Config {
            ticket: m.tickets.iter().map(|t| t.allowed).collect(),
            seg: m.segs.iter().map(|sg| sg.allowed).collect(),
        };
        let (q, b, _) = m.vectors(&cfg0, None);
        let mut qp = Qp::new(&data, &q, &b, settings.qp_tol).unwrap();
        let mut search = Search {
            qp: &mut qp,
            solves: 0,
            max_solves: usize::MAX,
        };
        let groups: Vec<String> = m
            .segs
            .iter()
            .filter(|sg| sg.loss)
            .map(|sg| m.secs[m.tickets[sg.ticket].sec].group.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let nt = m.tickets.len();
        assert!(nt <= 12, "{nt} tickets");
        let mut best = f64::INFINITY;
        for guard in 0..(1usize << groups.len()) {
            let mut cfg = cfg0.clone();
            for (gi, g) in groups.iter().enumerate() {
                let close_losses = guard >> gi & 1 == 0;
                for (ti, t) in m.tickets.iter().enumerate() {
                    if !close_losses && t.side == Side::Buy && &m.secs[t.sec].group == g {
                        cfg.ticket[ti] = false;
                    }
                }
                for (si, sg) in m.segs.iter().enumerate() {
                    if close_losses && sg.loss && &m.secs[m.tickets[sg.ticket].sec].group == g {
                        cfg.seg[si] = false;
                    }
                }
            }
            for set in 0..(1usize << nt) {
                let on: Vec<bool> = (0..nt).map(|i| set >> i & 1 == 1).collect();
                if on.iter().zip(&cfg.ticket).any(|(&o, &a)| o && !a) {
                    continue;
                }
                if let Some((_, obj)) = search.restricted(&m, &cfg, &on) {
                    best = best.min(obj * m.v);
                }
            }
        }
        best
    }

    #[test]
    fn bound_and_answer_match_enumeration() {
        for (n, flat, name) in [
            (4, 3.10, "Quarterly calendar"),
            (4, 25.0, "Daily TLH (household guard)"),
        ] {
            let s = small(n, flat);
            let policy = s.policy(name).unwrap().clone();
            let exact = brute_force(&s, &policy);
            let state = HouseholdState::from_scenario(&s).unwrap();
            let settings = HouseholdSettings {
                max_solves: 5000,
                gap_tol: 1e-6,
                ..HouseholdSettings::default()
            };
            let sol = optimize_household(&s, &policy, &state, s.as_of, &settings);
            let tol = 1e-6 * s.household.accounts[0].cash.abs().max(1e4);
            assert!(
                sol.lower_bound <= exact + tol,
                "{name}: bound {} above the optimum {exact}",
                sol.lower_bound
            );
            assert!(
                sol.objective <= exact + tol,
                "{name}: {} worse than the optimum {exact} ({:?}, gap {})",
                sol.objective,
                sol.status,
                sol.gap
            );
            // Closed to the solver's tolerance.
            assert!(
                sol.gap <= 1e-5,
                "{name}: gap {} ({:?})",
                sol.gap,
                sol.status
            );
        }
    }

    #[test]
    fn a_reused_solver_answers_as_a_fresh_build() {
        let s = Scenario::demo();
        let policy = s.policy("Daily TLH (household guard)").unwrap();
        let mut opt = HouseholdOptimizer::new(&s, policy, HouseholdSettings::default());
        let mut state = HouseholdState::from_scenario(&s).unwrap();
        let _ = opt.solve(&state, s.as_of);
        for (k, p) in state.prices.values_mut().enumerate() {
            *p *= 1.0 + 0.01 * (k % 5) as f64 - 0.02;
        }
        for c in state.cash.values_mut() {
            *c += 1000.0;
        }
        let later = s.as_of.add_days(7);
        let reused = opt.solve(&state, later);
        assert_eq!(
            opt.builds(),
            1,
            "same lots: the solver is updated, not rebuilt"
        );
        let fresh = optimize_household(&s, policy, &state, later, opt.settings());
        assert_eq!(reused.status, fresh.status);
        assert_eq!(reused.trades.len(), fresh.trades.len());
        for (a, b) in reused.trades.iter().zip(&fresh.trades) {
            assert_eq!(
                (&a.account, &a.symbol, a.side),
                (&b.account, &b.symbol, b.side)
            );
            assert!((a.quantity - b.quantity).abs() <= 1e-6 * a.quantity.max(1.0));
        }
        assert!(
            (reused.objective - fresh.objective).abs() <= 1e-6 * fresh.objective.abs().max(1.0)
        );
        // A lot more or less changes the pattern: the solver is rebuilt.
        let lot = state.ledger.lots().next().unwrap().clone();
        state
            .ledger
            .open_lot(OpeningLot {
                account: lot.account.to_string(),
                symbol: lot.symbol.to_string(),
                quantity: 1.0,
                basis: 1.0,
                acquired: s.as_of.add_days(-400),
                holding_start: None,
            })
            .unwrap();
        let _ = opt.solve(&state, later);
        assert_eq!(opt.builds(), 2);
    }
}
