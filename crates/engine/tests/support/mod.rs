//! What the policy-rule and metric tests share: a one-account test household without
//! costs (`mini`), the simulator's market rebuilt from the scenario (`market_days`), and
//! a recorded path's trades replayed day by day (`replay`, `weights`).

#![allow(dead_code)] // Each test file uses its own part.

use tollbooth_engine::date::Date;
use tollbooth_engine::fees::FeeRow;
use tollbooth_engine::market::{
    AssetClass, Assumptions, MarketModel, MarketPath, SecuritySpec, Shocks,
};
use tollbooth_engine::scenario::market::{DividendTreatment, Shocks as ScenarioShocks};
use tollbooth_engine::scenario::target::{ClassTarget, Restrictions};
use tollbooth_engine::scenario::{Account, Lot, Policy, Scenario};
use tollbooth_engine::simulate::TradeRow;
use tollbooth_engine::types::{AccountKind, Side};

/// Opening value of the test household, dollars.
pub const VALUE: f64 = 1_000_000.0;

/// One class of a test household: its market class, its one security (from the demo),
/// target weight, opening weight, and the class's expected return and volatility.
#[derive(Clone, Copy)]
pub struct Cls {
    pub market: &'static str,
    pub symbol: &'static str,
    pub target: f64,
    pub start: f64,
    pub ret: f64,
    pub vol: f64,
}

/// A one-account household (a traditional IRA) holding one security per class, without
/// any cost, dividend, interest, tax or cash flow. The first policy is the baseline.
pub fn mini(classes: &[Cls], policies: Vec<Policy>) -> Scenario {
    let mut s = Scenario::demo();
    s.name = "policy rules".into();
    let mut f = s.fee_schedules[0].clone();
    f.id = "zero".into();
    f.name = "zero".into();
    f.rows.etf = FeeRow::ZERO;
    f.rows.stock = FeeRow::ZERO;
    f.rows.mutual_fund = FeeRow::ZERO;
    f.fractional_surcharge = 0.0;
    f.charge_regulatory = false;
    f.impact = None;
    f.advisory_fee_bps = 0.0;
    s.fee_schedules = vec![f];
    let demo_secs = s.securities.clone();
    s.securities = classes
        .iter()
        .map(|c| {
            let mut x = demo_secs
                .iter()
                .find(|x| x.symbol == c.symbol)
                .unwrap_or_else(|| panic!("{} is not a demo security", c.symbol))
                .clone();
            assert_eq!(x.asset_class, c.market);
            x.half_spread_bps = 0.0;
            x.expense_ratio = 0.0;
            x.dividend_yield = 0.0;
            x.partners.clear();
            x.fractional_allowed = true;
            x.daily_dollar_volume = None;
            x
        })
        .collect();
    let lots = classes
        .iter()
        .zip(&s.securities)
        .enumerate()
        .map(|(i, (c, x))| {
            let quantity = VALUE * c.start / x.price;
            Lot {
                id: format!("L{i}"),
                symbol: x.symbol.clone(),
                quantity,
                basis: quantity * x.price,
                acquired: Date::from_ymd(2020, 1, 2).unwrap(),
            }
        })
        .collect();
    s.household.accounts = vec![Account {
        id: "ira".into(),
        name: "IRA".into(),
        kind: AccountKind::TraditionalIra,
        owner: s.household.members[0].id.clone(),
        joint: false,
        cash: 0.0,
        fee_schedule: "zero".into(),
        lots,
    }];
    s.target.classes = classes
        .iter()
        .map(|c| ClassTarget {
            asset_class: c.market.into(),
            weight: c.target,
            primary: c.symbol.into(),
            alternates: Vec::new(),
            band: None,
            location: Vec::new(),
        })
        .collect();
    s.target.min_cash.clear();
    s.target.restrictions = Restrictions::default();
    for mc in &mut s.market.classes {
        if let Some(c) = classes.iter().find(|c| c.market == mc.name) {
            mc.expected_return = c.ret;
            mc.volatility = c.vol;
        }
    }
    s.market.idiosyncratic_vol.clear();
    s.market.default_idiosyncratic_vol = 0.0;
    s.market.cash_yield = 0.0;
    s.market.dividends = DividendTreatment::Cash;
    s.cash_flows.clear();
    s.baseline = policies[0].name.clone();
    s.policies = policies;
    s
}

/// Closing prices of every security (scenario order) on every business day of path
/// `path`: the simulator's market model, rebuilt from the scenario (one security per
/// class, so no security tracks a partner; no expense ratio, so prices move by the
/// model's returns alone).
pub fn market_days(s: &Scenario, years: u32, path: u64) -> Vec<(Date, Vec<f64>)> {
    let mut a = Assumptions::with_defaults(s.as_of, years);
    a.classes = s
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
    a.correlation = s.market.correlation.clone();
    a.partner_correlation = s.market.partner_correlation;
    a.shocks = match s.market.shocks {
        ScenarioShocks::Normal => Shocks::Normal,
        ScenarioShocks::StudentT { dof } => Shocks::StudentT { dof },
    };
    let specs: Vec<SecuritySpec> = s
        .securities
        .iter()
        .map(|x| {
            SecuritySpec::new(
                x.symbol.clone(),
                s.market.class_index(&x.asset_class).unwrap(),
                s.market.idiosyncratic_vol_of(&x.symbol),
                x.dividend_yield,
            )
        })
        .collect();
    let model = MarketModel::new(&a, &specs).unwrap();
    let mut it = model.path(s.market.seed, path);
    let mut prices: Vec<f64> = s.securities.iter().map(|x| x.price).collect();
    let mut out = Vec::new();
    while let Some(st) = it.next_step() {
        for (p, r) in prices.iter_mut().zip(st.returns) {
            *p *= 1.0 + r;
        }
        out.push((st.date, prices.clone()));
    }
    out
}

/// One business day of the test household: prices, holdings before and after the day's
/// trades, and those trades.
pub struct DayBook {
    pub date: Date,
    pub prices: Vec<f64>,
    pub pre: (Vec<f64>, f64),
    pub post: (Vec<f64>, f64),
    pub rows: Vec<TradeRow>,
}

/// Replays the recorded trades of one policy over the path's prices.
pub fn replay(s: &Scenario, days: &[(Date, Vec<f64>)], rows: &[TradeRow]) -> Vec<DayBook> {
    let n = s.securities.len();
    let mut qty = vec![0.0; n];
    let acct = &s.household.accounts[0];
    for l in &acct.lots {
        let i = s
            .securities
            .iter()
            .position(|x| x.symbol == l.symbol)
            .unwrap();
        qty[i] += l.quantity;
    }
    let mut cash = acct.cash;
    let mut next = 0;
    let mut out = Vec::with_capacity(days.len());
    for (date, prices) in days {
        let pre = (qty.clone(), cash);
        let mut today = Vec::new();
        while next < rows.len() && rows[next].date == *date {
            let r = &rows[next];
            let i = s
                .securities
                .iter()
                .position(|x| x.symbol == r.symbol)
                .unwrap();
            assert!(
                (r.price - prices[i]).abs() <= 1e-9 * prices[i],
                "the rebuilt market does not match the simulator's: {} on {date}: {} vs {}",
                r.symbol,
                r.price,
                prices[i]
            );
            let fees = r.commission + r.regulatory + r.spread;
            match r.side {
                Side::Buy => {
                    qty[i] += r.quantity;
                    cash -= r.quantity * r.price + fees;
                }
                Side::Sell => {
                    qty[i] -= r.quantity;
                    cash += r.quantity * r.price - fees;
                }
            }
            today.push(r.clone());
            next += 1;
        }
        out.push(DayBook {
            date: *date,
            prices: prices.clone(),
            pre,
            post: (qty.clone(), cash),
            rows: today,
        });
    }
    assert_eq!(next, rows.len(), "trades dated outside the path's days");
    out
}

/// Class weights of the investable value (no minimum cash: holdings plus cash); class
/// `c` is security `c`.
pub fn weights(book: &(Vec<f64>, f64), prices: &[f64]) -> Vec<f64> {
    let vals: Vec<f64> = book.0.iter().zip(prices).map(|(q, p)| q * p).collect();
    let investable: f64 = vals.iter().sum::<f64>() + book.1;
    vals.iter().map(|v| v / investable).collect()
}
