//! The scenario compiled for simulation: every name resolved to an index once, so the
//! daily loop never looks anything up by string.

use super::SimError;
use crate::date::Date;
use crate::fees::{FeeSchedule, ImpactInputs, RegulatoryTables, TicketSpec};
use crate::ledger::{self, Ledger, OpeningLot};
use crate::market::{AssetClass, Assumptions, MarketModel, SecuritySpec, Shocks, STEPS_PER_YEAR};
use crate::scenario::market::Shocks as ScenarioShocks;
use crate::scenario::policy::{Band, Frequency};
use crate::scenario::{CashFlowSchedule, Scenario};
use crate::tax::TaxProfile;
use crate::types::{AccountKind, LotMethod, SecurityType, Side};

/// A security, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Sec {
    pub symbol: String,
    pub class: usize,
    pub group: usize,
    pub partners: Vec<usize>,
    pub security_type: SecurityType,
    pub half_spread_bps: f64,
    pub fractional: bool,
    /// Daily price factor for the expense ratio: `1 − er / A`.
    pub er_factor: f64,
    pub do_not_buy: bool,
    pub do_not_sell: bool,
    pub price0: f64,
    /// The market-impact inputs of its tickets ([`Scenario::impact_inputs`]).
    pub impact: Option<ImpactInputs>,
}

impl Sec {
    /// The price paid per share on a buy: price plus the half-spread.
    pub fn price_mult(&self, price: f64) -> f64 {
        price * (1.0 + self.half_spread_bps / 1e4)
    }

    /// A ticket of `quantity` shares of it at `price` on `date` (fractional when the
    /// quantity is), as the fee schedules price it.
    pub fn ticket(&self, date: Date, side: Side, quantity: f64, price: f64) -> TicketSpec {
        TicketSpec {
            trade_date: date,
            side,
            security_type: self.security_type,
            quantity,
            price,
            fractional: crate::lots::is_fractional(quantity),
            half_spread_bps: self.half_spread_bps,
            impact: self.impact,
        }
    }
}

/// A target class, resolved. Classes of held securities that the target model does not
/// name are added with weight 0 and no vehicle (they are sold at the first rebalance).
#[derive(Debug, Clone)]
pub(crate) struct Class {
    pub name: String,
    pub weight: f64,
    /// The securities that may be bought for the class, primary first.
    pub vehicles: Vec<usize>,
    /// Preferred account kinds, most preferred first.
    pub location: Vec<AccountKind>,
    /// The security whose return stands for the class (the primary; for the tracking
    /// error benchmark and the tactical signal).
    pub bench: Option<usize>,
    /// Daily volatility of the class (for the tactical signal's standardisation).
    pub daily_vol: f64,
    /// The target model's tolerance band for the class (its own, else the default).
    pub band: Band,
}

/// An account, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Acct {
    pub id: String,
    pub kind: AccountKind,
    pub schedule: usize,
    pub cash0: f64,
    pub min_cash: f64,
}

/// The compiled scenario.
pub(crate) struct World<'s> {
    pub scenario: &'s Scenario,
    pub secs: Vec<Sec>,
    /// Each security's class (`secs[s].class`, packed for the daily loops).
    pub sec_class: Vec<usize>,
    /// The securities grouped by class (class order, then security order): class `c`'s
    /// are `class_secs[class_end[c - 1]..class_end[c]]` (from 0 for the first).
    pub class_secs: Vec<usize>,
    /// The end of each class's securities in `class_secs`.
    pub class_end: Vec<usize>,
    /// Each security's place in `class_secs`.
    pub sec_rank: Vec<usize>,
    pub classes: Vec<Class>,
    pub accounts: Vec<Acct>,
    pub n_groups: usize,
    pub schedules: Vec<&'s FeeSchedule>,
    pub regulatory: &'s RegulatoryTables,
    pub tax: TaxProfile,
    pub model: MarketModel,
    pub dates: Vec<Date>,
    pub start: Date,
    /// Cash flows by step: `(step, account, amount)`, sorted by step.
    pub flows: Vec<(usize, usize, f64)>,
    /// The scenario's cash flows (indices) dated after the horizon's last business day:
    /// never simulated.
    pub flows_beyond: Vec<usize>,
    /// Daily return on cash.
    pub cash_rate: f64,
    /// The target model's expected annual total return (Σ target weight × the class's
    /// expected return): what a dollar paid in fees would have grown at.
    pub expected_growth: f64,
    pub reinvest: bool,
    /// The ledger with every opening lot, per lot method (cloned per path).
    pub ledgers: Vec<(LotMethod, Ledger)>,
    /// The scenario's id of each opening lot, by ledger lot id (opening lots are booked
    /// first, in this order).
    pub opening_labels: Vec<String>,
    /// Opening quantities, `account * n + security`.
    pub qty0: Vec<f64>,
    /// Annualised covariance of the classes' benchmark securities (for the optimizer).
    pub class_cov: Vec<Vec<f64>>,
    /// Index of the first taxable account (pays the taxes).
    pub tax_account: Option<usize>,
    /// Years of the horizon (`dates` span, in years).
    pub years: f64,
    /// Per class: the accounts to sell from, in order (tax-free and tax-deferred first;
    /// accounts whose kind the class does not prefer first).
    pub sell_order: Vec<Vec<usize>>,
    /// Per class: the accounts to buy in, in order (preferred kinds first).
    pub buy_order: Vec<Vec<usize>>,
    /// Per step: which frequencies are due (bit `f` for `Frequency::ALL[f]`).
    pub due: Vec<u8>,
    /// Per step: the calendar year.
    pub year: Vec<i32>,
}

/// The tax profile the simulator nets each year with (the scenario's, which is the tax
/// module's type).
pub(crate) fn tax_profile(s: &Scenario) -> TaxProfile {
    s.tax
}

/// Adds `months` calendar months, clamping the day to the month's end; `None` past the
/// calendar's last year.
pub(crate) fn add_months(d: Date, months: i32) -> Option<Date> {
    let (y, m, day) = d.ymd();
    let idx = y * 12 + (m as i32 - 1) + months;
    let (y2, m2) = (idx.div_euclid(12), idx.rem_euclid(12) as u32 + 1);
    (1..=day)
        .rev()
        .take(4)
        .find_map(|dd| Date::from_ymd(y2, m2, dd))
}

/// Whether a rule scheduled at `freq` is due on the step dated `date`, the previous step
/// (or the start) being `prev`: the first business day of each period.
pub(crate) fn is_due(freq: Frequency, prev: Date, date: Date) -> bool {
    let week = |d: Date| (d.days() + 3).div_euclid(7); // Monday-based week number
    let (py, pm, _) = prev.ymd();
    let (y, m, _) = date.ymd();
    let months = |y: i32, m: u32, k: i32| (y * 12 + m as i32 - 1).div_euclid(k);
    match freq {
        Frequency::Daily => true,
        Frequency::Weekly => week(date) != week(prev),
        Frequency::Biweekly => week(date).div_euclid(2) != week(prev).div_euclid(2),
        Frequency::Monthly => months(y, m, 1) != months(py, pm, 1),
        Frequency::Quarterly => months(y, m, 3) != months(py, pm, 3),
        Frequency::SemiAnnual => months(y, m, 6) != months(py, pm, 6),
        Frequency::Annual => y != py,
    }
}

fn step_of(dates: &[Date], d: Date) -> Option<usize> {
    let i = dates.partition_point(|x| *x < d);
    (i < dates.len()).then_some(i)
}

impl<'s> World<'s> {
    /// Compiles a scenario for `years` of daily steps.
    pub fn new(s: &'s Scenario, years: u32) -> Result<World<'s>, SimError> {
        let a = STEPS_PER_YEAR;
        // Classes: the target's, then any other asset class a security names.
        let mut classes: Vec<Class> = s
            .target
            .classes
            .iter()
            .map(|c| Class {
                name: c.asset_class.clone(),
                weight: c.weight,
                vehicles: Vec::new(),
                location: c.location.clone(),
                bench: None,
                daily_vol: 0.0,
                band: s.target.band_of(&c.asset_class),
            })
            .collect();
        let mut groups: Vec<&str> = Vec::new();
        let mut secs = Vec::with_capacity(s.securities.len());
        for sec in &s.securities {
            let class = match classes.iter().position(|c| c.name == sec.asset_class) {
                Some(i) => i,
                None => {
                    classes.push(Class {
                        name: sec.asset_class.clone(),
                        weight: 0.0,
                        vehicles: Vec::new(),
                        location: Vec::new(),
                        bench: None,
                        daily_vol: 0.0,
                        band: s.target.band_of(&sec.asset_class),
                    });
                    classes.len() - 1
                }
            };
            let group = match groups.iter().position(|g| *g == sec.group) {
                Some(i) => i,
                None => {
                    groups.push(&sec.group);
                    groups.len() - 1
                }
            };
            secs.push(Sec {
                symbol: sec.symbol.clone(),
                class,
                group,
                partners: Vec::new(),
                security_type: sec.security_type,
                half_spread_bps: sec.half_spread_bps,
                fractional: sec.fractional_allowed,
                er_factor: 1.0 - sec.expense_ratio / a,
                do_not_buy: s.target.restrictions.do_not_buy.contains(&sec.symbol),
                do_not_sell: s.target.restrictions.do_not_sell.contains(&sec.symbol),
                price0: sec.price,
                impact: s.impact_inputs(sec),
            });
        }
        let index_of = |sym: &str| s.securities.iter().position(|x| x.symbol == sym);
        for (i, sec) in s.securities.iter().enumerate() {
            secs[i].partners = sec.partners.iter().filter_map(|p| index_of(p)).collect();
        }
        for (k, c) in s.target.classes.iter().enumerate() {
            let mut v = Vec::new();
            for sym in std::iter::once(&c.primary).chain(c.alternates.iter()) {
                let i = index_of(sym).ok_or_else(|| SimError::UnknownSecurity {
                    field: format!("target.classes[{k}]"),
                    symbol: sym.clone(),
                })?;
                if !v.contains(&i) {
                    v.push(i);
                }
            }
            classes[k].bench = v.first().copied();
            classes[k].vehicles = v;
        }
        for (k, c) in classes.iter_mut().enumerate() {
            if c.bench.is_none() {
                c.bench = secs.iter().position(|x| x.class == k);
            }
        }

        // Accounts and fee schedules.
        let mut schedules: Vec<&FeeSchedule> = Vec::new();
        let mut accounts = Vec::new();
        for acc in &s.household.accounts {
            let sched =
                s.fee_schedule(&acc.fee_schedule)
                    .ok_or_else(|| SimError::UnknownFeeSchedule {
                        account: acc.id.clone(),
                        schedule: acc.fee_schedule.clone(),
                    })?;
            let si = match schedules.iter().position(|x| x.id == sched.id) {
                Some(i) => i,
                None => {
                    // Checked once here: the book and the planner price tickets with
                    // `ticket_cost_valid`, which trusts the schedule.
                    sched
                        .validate()
                        .map_err(|source| SimError::InvalidFeeSchedule {
                            account: acc.id.clone(),
                            source,
                        })?;
                    schedules.push(sched);
                    schedules.len() - 1
                }
            };
            accounts.push(Acct {
                id: acc.id.clone(),
                kind: acc.kind,
                schedule: si,
                cash0: acc.cash,
                min_cash: s.target.min_cash_of(&acc.id),
            });
        }

        // The market: one security spec per security; a non-benchmark security of a class
        // tracks the class's benchmark as its partner.
        let mut assumptions = Assumptions::with_defaults(s.as_of, years);
        assumptions.classes = s
            .market
            .classes
            .iter()
            .map(|c| AssetClass {
                name: c.name.clone(),
                expected_return: c.expected_return,
                volatility: c.volatility,
                dividend_yield: c.dividend_yield,
                source: c.source.clone(),
                as_of: c.as_of.clone(),
            })
            .collect();
        assumptions.correlation = s.market.correlation.clone();
        assumptions.partner_correlation = s.market.partner_correlation;
        assumptions.shocks = match s.market.shocks {
            ScenarioShocks::Normal => Shocks::Normal,
            ScenarioShocks::StudentT { dof } => Shocks::StudentT { dof },
        };
        let mut specs = Vec::with_capacity(secs.len());
        for (i, sec) in s.securities.iter().enumerate() {
            let mc = s.market.class_index(&sec.asset_class).ok_or_else(|| {
                SimError::UnknownAssetClass {
                    symbol: sec.symbol.clone(),
                    asset_class: sec.asset_class.clone(),
                }
            })?;
            let mut spec = SecuritySpec::new(
                sec.symbol.clone(),
                mc,
                s.market.idiosyncratic_vol_of(&sec.symbol),
                sec.dividend_yield,
            );
            if let Some(b) = classes[secs[i].class].bench {
                if b != i {
                    spec = spec.partner_of(b);
                }
            }
            specs.push(spec);
        }
        let model = MarketModel::new(&assumptions, &specs)?;
        let dates = model.dates().to_vec();
        let cov = model.covariance();
        let class_cov: Vec<Vec<f64>> = classes
            .iter()
            .map(|ci| {
                classes
                    .iter()
                    .map(|cj| match (ci.bench, cj.bench) {
                        (Some(i), Some(j)) => cov[i][j],
                        _ => 0.0,
                    })
                    .collect()
            })
            .collect();
        for (k, c) in classes.iter_mut().enumerate() {
            c.daily_vol = f64::sqrt(class_cov[k][k].max(0.0) / a);
        }

        // Cash flows by step.
        let acct_index = |id: &str| accounts.iter().position(|x: &Acct| x.id == id);
        let mut flows = Vec::new();
        let last = dates.last().copied().unwrap_or(s.as_of);
        let mut flows_beyond = Vec::new();
        for (i, cf) in s.cash_flows.iter().enumerate() {
            let ai = acct_index(&cf.account).ok_or_else(|| SimError::UnknownAccount {
                field: format!("cash_flows[{i}].account"),
                account: cf.account.clone(),
            })?;
            match cf.schedule {
                CashFlowSchedule::Once { date: first }
                | CashFlowSchedule::Recurring { start: first, .. }
                    if first > last =>
                {
                    flows_beyond.push(i);
                }
                CashFlowSchedule::Once { date } => {
                    if date > s.as_of {
                        if let Some(st) = step_of(&dates, date) {
                            flows.push((st, ai, cf.amount));
                        }
                    }
                }
                CashFlowSchedule::Recurring {
                    start,
                    end,
                    frequency: Frequency::Daily,
                } => {
                    // Every step (business day) from the start to the end.
                    let end = end.unwrap_or(last).min(last);
                    let from = dates.partition_point(|d| *d < start || *d <= s.as_of);
                    let to = dates.partition_point(|d| *d <= end);
                    flows.extend((from..to.max(from)).map(|st| (st, ai, cf.amount)));
                }
                CashFlowSchedule::Recurring {
                    start,
                    end,
                    frequency,
                } => {
                    let end = end.unwrap_or(last).min(last);
                    let mut n = 0i32;
                    loop {
                        let d = match frequency {
                            // (Handled above.)
                            Frequency::Daily => break,
                            Frequency::Weekly => Some(start.add_days(7 * n)),
                            Frequency::Biweekly => Some(start.add_days(14 * n)),
                            Frequency::Monthly => add_months(start, n),
                            Frequency::Quarterly => add_months(start, 3 * n),
                            Frequency::SemiAnnual => add_months(start, 6 * n),
                            Frequency::Annual => add_months(start, 12 * n),
                        };
                        // Past the calendar: no later date can be in the horizon.
                        let Some(d) = d else { break };
                        if d > end {
                            break;
                        }
                        if d > s.as_of {
                            if let Some(st) = step_of(&dates, d) {
                                flows.push((st, ai, cf.amount));
                            }
                        }
                        n += 1;
                    }
                }
            }
        }
        flows.sort_by_key(|f| (f.0, f.1));

        // Opening ledgers.
        let ledger_accounts: Vec<ledger::Account> = s
            .household
            .accounts
            .iter()
            .map(|a| ledger::Account {
                id: a.id.clone(),
                kind: a.kind,
                owner: a.owner.clone(),
            })
            .collect();
        let ledger_secs: Vec<ledger::Security> = s
            .securities
            .iter()
            .map(|x| ledger::Security {
                symbol: x.symbol.clone(),
                group: x.group.clone(),
            })
            .collect();
        let n = secs.len();
        let mut qty0 = vec![0.0; accounts.len() * n];
        let mut opening = Vec::new();
        let mut opening_labels = Vec::new();
        for (ai, acc) in s.household.accounts.iter().enumerate() {
            for lot in &acc.lots {
                opening_labels.push(lot.id.clone());
                let si = index_of(&lot.symbol).ok_or_else(|| SimError::UnknownSecurity {
                    field: format!("household.accounts[{ai}].lots"),
                    symbol: lot.symbol.clone(),
                })?;
                qty0[ai * n + si] += lot.quantity;
                opening.push(OpeningLot {
                    account: acc.id.clone(),
                    symbol: lot.symbol.clone(),
                    quantity: lot.quantity,
                    basis: lot.basis,
                    acquired: lot.acquired,
                    holding_start: None,
                });
            }
        }
        let mut ledgers: Vec<(LotMethod, Ledger)> = Vec::new();
        for p in &s.policies {
            let m = ledger_method(p.lot_method);
            if !ledgers.iter().any(|(x, _)| *x == m) {
                let mut l = Ledger::new(ledger_accounts.clone(), ledger_secs.clone(), m)?;
                for lot in &opening {
                    l.open_lot(lot.clone())?;
                }
                ledgers.push((m, l));
            }
        }
        let tax_account = accounts.iter().position(|a| a.kind.is_taxable());
        let years_span = dates
            .last()
            .map_or(0.0, |&d| super::report::years_span(s.as_of, d));
        let mut sell_order = Vec::with_capacity(classes.len());
        let mut buy_order = Vec::with_capacity(classes.len());
        for c in &classes {
            let pref = |kind: AccountKind| c.location.iter().position(|x| *x == kind);
            let mut so: Vec<usize> = (0..accounts.len()).collect();
            so.sort_by_key(|&a| {
                (
                    accounts[a].kind.is_taxable(),
                    pref(accounts[a].kind).is_some(),
                    a,
                )
            });
            let mut bo: Vec<usize> = (0..accounts.len()).collect();
            bo.sort_by_key(|&a| (pref(accounts[a].kind).unwrap_or(usize::MAX), a));
            sell_order.push(so);
            buy_order.push(bo);
        }
        let due = (0..dates.len())
            .map(|i| {
                let prev = if i == 0 { s.as_of } else { dates[i - 1] };
                Frequency::ALL
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| is_due(**f, prev, dates[i]))
                    .fold(0u8, |m, (b, _)| m | (1 << b))
            })
            .collect();
        let year = dates.iter().map(|d| d.year()).collect();
        // (A scenario from a file is checked by its form; one built in code is checked
        // here, once.)
        tax_profile(s).validate()?;
        let expected_growth = classes
            .iter()
            .map(|c| {
                let mu = s.market.classes.iter().find(|m| m.name == c.name);
                c.weight * mu.map_or(0.0, |m| m.expected_return)
            })
            .sum();
        let mut class_secs = Vec::with_capacity(secs.len());
        let mut class_end = Vec::with_capacity(classes.len());
        for c in 0..classes.len() {
            class_secs.extend((0..secs.len()).filter(|&j| secs[j].class == c));
            class_end.push(class_secs.len());
        }
        let mut sec_rank = vec![0; secs.len()];
        for (r, &j) in class_secs.iter().enumerate() {
            sec_rank[j] = r;
        }
        Ok(World {
            due,
            year,
            sec_class: secs.iter().map(|x| x.class).collect(),
            class_secs,
            class_end,
            sec_rank,
            sell_order,
            buy_order,
            scenario: s,
            secs,
            classes,
            accounts,
            n_groups: groups.len(),
            schedules,
            regulatory: &s.regulatory,
            tax: tax_profile(s),
            model,
            start: s.as_of,
            dates,
            flows,
            flows_beyond,
            cash_rate: libm::pow(1.0 + s.market.cash_yield, 1.0 / a) - 1.0,
            expected_growth,
            reinvest: matches!(
                s.market.dividends,
                crate::scenario::market::DividendTreatment::Reinvest
            ),
            ledgers,
            opening_labels,
            qty0,
            class_cov,
            tax_account,
            years: years_span,
        })
    }

    /// Number of securities.
    pub fn n(&self) -> usize {
        self.secs.len()
    }

    /// The opening ledger for a lot method.
    pub fn ledger_for(&self, m: LotMethod) -> Option<&Ledger> {
        let m = ledger_method(m);
        self.ledgers.iter().find(|(x, _)| *x == m).map(|(_, l)| l)
    }
}

/// Automated sales never name lots one by one: a policy asking for specific-lot relief
/// relieves minimum-tax lots for its rebalancing sales (harvests always name their lots).
pub(crate) fn ledger_method(m: LotMethod) -> LotMethod {
    match m {
        LotMethod::SpecificLot => LotMethod::MinTax,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// A daily flow lands once on every step from its start (a weekend start: the next
    /// business day, once) to its end, and an early start costs no more than a late one.
    #[test]
    fn daily_flows_land_once_a_step() {
        let mut s = Scenario::demo();
        let account = s.household.accounts[0].id.clone();
        let daily = |start: &str, end: Option<&str>| crate::scenario::CashFlow {
            account: account.clone(),
            amount: 10.0,
            schedule: CashFlowSchedule::Recurring {
                start: d(start),
                end: end.map(d),
                frequency: Frequency::Daily,
            },
        };
        // Saturday 2027-01-02 to Friday 2027-01-15: ten business days.
        s.cash_flows = vec![daily("2027-01-02", Some("2027-01-15"))];
        let w = World::new(&s, 1).unwrap();
        let steps: Vec<usize> = w.flows.iter().map(|f| f.0).collect();
        assert_eq!(steps.len(), 10, "{steps:?}");
        assert!(steps.windows(2).all(|x| x[1] == x[0] + 1));
        assert_eq!(w.dates[steps[0]], d("2027-01-04"));
        // From the year 1: every step after the scenario date, at once.
        s.cash_flows = vec![daily("0001-01-01", None)];
        let w = World::new(&s, 1).unwrap();
        assert_eq!(w.flows.len(), w.dates.len());
    }

    #[test]
    fn rules_are_due_on_the_first_business_day_of_their_period() {
        // Friday 2027-01-01 after Thursday 2026-12-31.
        let (prev, date) = (d("2026-12-31"), d("2027-01-01"));
        for f in Frequency::ALL {
            let due = is_due(f, prev, date);
            assert_eq!(
                due,
                f != Frequency::Weekly && f != Frequency::Biweekly,
                "{f:?}"
            );
        }
        // Monday after Friday: a new week, same month.
        assert!(is_due(Frequency::Weekly, d("2027-01-08"), d("2027-01-11")));
        assert!(!is_due(
            Frequency::Monthly,
            d("2027-01-08"),
            d("2027-01-11")
        ));
        assert!(!is_due(Frequency::Weekly, d("2027-01-11"), d("2027-01-12")));
        assert!(is_due(
            Frequency::Quarterly,
            d("2027-03-31"),
            d("2027-04-01")
        ));
        assert!(!is_due(
            Frequency::SemiAnnual,
            d("2027-03-31"),
            d("2027-04-01")
        ));
        assert!(is_due(
            Frequency::SemiAnnual,
            d("2027-06-30"),
            d("2027-07-01")
        ));
    }

    #[test]
    fn months_are_added_with_the_day_clamped() {
        assert_eq!(add_months(d("2027-01-31"), 1), Some(d("2027-02-28")));
        assert_eq!(add_months(d("2028-01-31"), 1), Some(d("2028-02-29")));
        assert_eq!(add_months(d("2026-12-01"), 13), Some(d("2028-01-01")));
        assert_eq!(add_months(d("2027-03-15"), -3), Some(d("2026-12-15")));
        assert_eq!(add_months(d("2027-04-30"), 1), Some(d("2027-05-30")));
        assert_eq!(add_months(d("9999-11-30"), 1), Some(d("9999-12-30")));
        assert_eq!(add_months(d("9999-12-01"), 1), None);
    }
}
