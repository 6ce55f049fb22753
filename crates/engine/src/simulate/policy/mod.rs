//! Point-in-time rebalancing policies.
//!
//! A policy sees only the past: on each business day the simulator hands it a view (`View`:
//! the date, today's closing prices, the household's holdings, cash and ledger) and the
//! policy answers with orders. A scenario's [`Policy`] is a mix of rules; they run in a
//! fixed order of *stages*, each stage seeing the holdings left by the previous one:
//!
//! 1. **cash flows** ([`Stage::CashFlow`]): with `cash_flow_first`, a day's contributions
//!    (and cash dividends) buy the most underweight classes of the receiving account, and
//!    a withdrawal that leaves the account below its minimum cash sells the most
//!    overweight classes;
//! 2. **harvest** ([`Stage::Harvest`]): tax-loss harvesting on its check days;
//! 3. **rebalance** ([`Stage::Rebalance`]): calendar, threshold bands, opportunistic
//!    bands, the tactical overlay or the cost-aware optimizer, whichever are due (the
//!    first due rule in that order sets the day's targets).
//!
//! Every policy also raises cash when an account's cash would go negative (a withdrawal
//! larger than the cash, a tax bill, an advisory fee): `raise_cash`, selling enough to
//! cover the sale's own ticket too.
//!
//! ## From household targets to account orders
//!
//! Targets are dollars per asset class for the household: `T_k = w_k · I`, with `I` the
//! investable value (household value less every account's minimum cash). The
//! planner (`plan`) moves only the difference `D_k = T_k − H_k` from the current
//! holdings `H_k`:
//!
//! - sells come first from tax-deferred and tax-free accounts (no tax), then from the
//!   taxable account; inside an account the class's securities with the least gain per
//!   dollar are sold first;
//! - buys go to the class's preferred account kinds first (asset location), funded by each
//!   account's own free cash (cash never moves between accounts), and buy the first of the
//!   class's vehicles (primary, then alternates) that is not on the do-not-buy list and,
//!   under a wash-sale guard, not blocked; a sale's proceeds are counted net of its ticket
//!   and a buy's budget net of its own, each priced with the account's fee schedule, so
//!   the plan never spends cash its tickets will take;
//! - orders under the minimum trade size ([`DEFAULT_MIN_TRADE_USD`], or the optimizer
//!   rule's) are dropped; securities that trade in whole shares are bought and sold in
//!   whole shares (a whole position may be sold with its fractional remainder).
//!
//! ## Rules
//!
//! - **Calendar**: on the first business day of each period, back to target.
//! - **Threshold / opportunistic**: on check days, when a class is outside its band
//!   (`|w_k − t_k| > h_k`, `h_k` the band's half-width), each breached class is traded to
//!   `t_k ± trade_to·h_k` (the side it breached) and the other classes absorb the
//!   difference in proportion to their weights. Daryanani's opportunistic rule is a 20%
//!   relative band checked every two weeks, traded back to half the band.
//! - **Tax-loss harvesting**: on check days, in taxable accounts, every lot whose loss is
//!   at least `loss_threshold_pct` of its basis is a candidate; when a position's candidate
//!   losses total at least `loss_threshold_usd`, those lots are sold by specific
//!   identification and (with partner swaps) the proceeds buy the first TLH partner in
//!   another group that is not blocked. The **wash-sale guard** `household` skips a
//!   harvest of a group bought in the last 30 days in *any* account (IRAs and spouse
//!   included; held or sold since) unless that purchase is one of the lots harvested (a
//!   recent lot sold whole is not its own replacement), and blocks every purchase of a group sold at a loss in the last 30 days in
//!   any account — rebalancing buys and dividend reinvestments included (the dividend is
//!   paid in cash instead); `account` applies both tests to the same account only;
//!   `none` applies neither.
//! - **Tactical overlay**: see [`signal`](crate::simulate::SignalFeed): class weights are
//!   tilted by `max_tilt · clamp(s_k/2, −1, 1)` (tilts centred to sum to zero, weights
//!   kept ≥ 0) and the portfolio is traded to the tilted target on each refresh.
//! - **Cost-aware optimizer**: [`optimizer`].

pub mod optimizer;

use super::book::Book;
use super::world::World;
use crate::date::Date;
use crate::lots::LotId;
use crate::scenario::policy::Frequency;
use crate::scenario::policy::{Band, BandKind, WashSaleGuard};
use crate::scenario::Policy;
use crate::types::{AccountKind, Side};
use serde::{Deserialize, Serialize};

/// Orders smaller than this many dollars are not worth a ticket and are dropped.
pub const DEFAULT_MIN_TRADE_USD: f64 = 50.0;

/// Fraction of sale proceeds the planner sets aside for the spread (and a margin) before
/// spending them; each ticket's fees are priced with the account's schedule.
const SELL_COST_CUSHION: f64 = 0.002;

/// Why a trade was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Calendar rebalancing back to target.
    Drift,
    /// A class left its band (threshold or opportunistic rule).
    BandBreach,
    /// A loss sold by tax-loss harvesting.
    Harvest,
    /// The TLH partner bought with a harvest's proceeds.
    PartnerSwap,
    /// A contribution or a cash dividend invested, or a withdrawal raised.
    CashFlow,
    /// A tilt of the tactical overlay.
    Signal,
    /// A trade chosen by the cost-aware optimizer.
    Optimizer,
    /// Cash raised to pay the year's taxes or fees.
    TaxPayment,
    /// A dividend reinvested in the security that paid it (no ticket and no commission; it
    /// pays the half-spread, like any purchase, and is a purchase for the wash-sale rules).
    DividendReinvestment,
}

/// One order of a policy: account and security by index into the scenario's lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Index of the account in `scenario.household.accounts`.
    pub account: usize,
    /// Index of the security in `scenario.securities`.
    pub security: usize,
    /// Buy or sell.
    pub side: Side,
    /// Shares (rounded to whole shares by the simulator where fractions are not allowed).
    pub quantity: f64,
    /// Lots to relieve by specific identification (empty: the policy's lot method).
    pub lots: Vec<LotId>,
    /// Why.
    pub reason: Reason,
}

/// The stages of a day, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Invest contributions, fund withdrawals.
    CashFlow,
    /// Tax-loss harvesting.
    Harvest,
    /// Rebalancing rules.
    Rebalance,
}

/// What a policy may look at: the past and today's close.
pub(crate) struct View<'a, 'w> {
    pub w: &'a World<'w>,
    pub date: Date,
    pub prices: &'a [f64],
    pub book: &'a Book,
    /// Accounts that received a contribution or cash dividend today.
    pub inflow: &'a [bool],
    /// The tactical signal per class for today (when the policy has an overlay).
    pub signal: &'a [f64],
    /// Bit `f` set when a rule of frequency `Frequency::ALL[f]` is due today.
    pub due_mask: u8,
}

impl View<'_, '_> {
    /// Whether a rule scheduled at `f` is due today (the first business day of its period).
    pub fn due(&self, f: Frequency) -> bool {
        self.due_mask & due_bit(f) != 0
    }
}

/// The bit of a frequency in a due mask.
pub(crate) fn due_bit(f: Frequency) -> u8 {
    1 << Frequency::ALL.iter().position(|x| *x == f).unwrap_or(0)
}

/// Household holdings by class and account, in dollars.
#[derive(Default)]
pub(crate) struct Holdings {
    pub k: usize,
    /// `h[a * k + class]`.
    pub h: Vec<f64>,
    /// Household total per class.
    pub total: Vec<f64>,
    /// Free cash per account (cash − minimum cash).
    pub free: Vec<f64>,
    /// Investable value: Σ classes + Σ free cash.
    pub investable: f64,
}

impl Holdings {
    pub fn of(v: &View<'_, '_>) -> Holdings {
        let mut hold = Holdings::default();
        hold.refresh(v);
        hold
    }

    /// Recomputes the holdings of `v` in place, reusing the buffers.
    pub fn refresh(&mut self, v: &View<'_, '_>) {
        let w = v.w;
        let (m, n, k) = (w.accounts.len(), w.n(), w.classes.len());
        self.k = k;
        self.h.clear();
        self.h.resize(m * k, 0.0);
        self.total.clear();
        self.total.resize(k, 0.0);
        self.free.clear();
        self.free.resize(m, 0.0);
        let prices = &v.prices[..n];
        let class = &w.sec_class[..n];
        // The non-empty positions, in the order of `qty` (adding an empty one's zero would
        // change nothing).
        for &idx in &v.book.held {
            let (a, s) = (idx / n, idx % n);
            let x = v.book.qty[idx] * prices[s];
            let c = class[s];
            self.h[a * k + c] += x;
            self.total[c] += x;
        }
        for a in 0..m {
            self.free[a] = v.book.cash[a] - w.accounts[a].min_cash;
        }
        self.investable = self.total.iter().sum::<f64>() + self.free.iter().sum::<f64>();
    }

    /// Class weights of the investable value, into `out`.
    pub fn weights_into(&self, out: &mut Vec<f64>) {
        let i = self.investable;
        out.clear();
        out.extend(self.total.iter().map(|x| if i > 0.0 { x / i } else { 0.0 }));
    }
}

/// What the planner may do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Mode {
    /// Sells and buys in every account.
    Full,
    /// Buys only, in one account, with its free cash.
    BuyOnly(usize),
    /// Sells only, in one account, until this many dollars are raised.
    SellOnly(usize, f64),
}

/// The wash-sale guard's purchase test: may `account` buy `security` today?
pub(crate) fn may_buy(
    v: &View<'_, '_>,
    guard: WashSaleGuard,
    account: usize,
    security: usize,
) -> bool {
    let sec = &v.w.secs[security];
    if sec.do_not_buy {
        return false;
    }
    !v.book.buy_blocked(v.w, guard, account, sec.group, v.date)
}

/// The explicit cost of one ticket trading `usd` dollars of `security` in `account` today
/// (commission, regulatory fees and impact, not the spread), as the account's schedule
/// prices it: in whole shares rounded up where fractions are not allowed; the schedule's
/// flat fee when it cannot price the ticket.
fn ticket_estimate(v: &View<'_, '_>, account: usize, security: usize, side: Side, usd: f64) -> f64 {
    let w = v.w;
    let sec = &w.secs[security];
    let price = v.prices[security];
    let schedule = w.schedules[w.accounts[account].schedule];
    let mut quantity = usd.max(0.0) / price;
    if !sec.fractional {
        quantity = quantity.ceil().max(1.0);
    }
    match schedule.ticket_cost_valid(&sec.ticket(v.date, side, quantity, price), w.regulatory) {
        Ok(c) if (c.explicit_total() + c.impact).is_finite() => c.explicit_total() + c.impact,
        _ => schedule.fixed_cost(sec.security_type, side, sec.fractional),
    }
}

/// Moves household class holdings towards `targets` (dollars per class).
#[allow(clippy::too_many_arguments)]
pub(crate) fn plan(
    v: &View<'_, '_>,
    hold: &Holdings,
    targets: &[f64],
    mode: Mode,
    reason: Reason,
    min_trade: f64,
    guard: WashSaleGuard,
    out: &mut Vec<Order>,
) {
    let w = v.w;
    let (m, n, k) = (w.accounts.len(), w.n(), hold.k);
    let mut h = hold.h.clone();
    let mut free = hold.free.clone();
    let mut d: Vec<f64> = (0..k).map(|c| targets[c] - hold.total[c]).collect();
    let gain_frac = |a: usize, s: usize| -> f64 {
        // Unrealized gain per dollar of the position (0 outside taxable accounts).
        if !w.accounts[a].kind.is_taxable() {
            return 0.0;
        }
        let q = v.book.qty[a * n + s];
        let basis = v.book.basis[a * n + s];
        let value = q * v.prices[s];
        if value > 0.0 {
            (value - basis) / value
        } else {
            0.0
        }
    };
    // Sells.
    let raising = matches!(mode, Mode::SellOnly(..));
    // Returns the dollars sold and the proceeds expected after each sale's ticket and
    // spread.
    let sell_in = |a: usize, c: usize, amount: f64, out: &mut Vec<Order>| -> (f64, f64) {
        let mut cands: Vec<usize> = (0..n)
            .filter(|&s| w.secs[s].class == c && v.book.qty[a * n + s] > 0.0)
            .filter(|&s| !w.secs[s].do_not_sell)
            .collect();
        cands.sort_by(|&x, &y| gain_frac(a, x).total_cmp(&gain_frac(a, y)).then(x.cmp(&y)));
        // Under the wash-sale guard, a group bought in the window (in its scope) sells only
        // its lots at a gain or even, the least gain first: a loss would be washed.
        let guarded = |s: usize| {
            w.accounts[a].kind.is_taxable()
                && v.book.harvest_blocked(w, guard, a, w.secs[s].group, v.date)
        };
        let mut left = amount;
        let (mut raised, mut net) = (0.0, 0.0);
        for s in cands {
            if left < min_trade.min(amount) * 0.5 || left <= 0.0 {
                break;
            }
            if raising && raised > 0.0 {
                // A second sale raising cash pays its own ticket too.
                left += ticket_estimate(v, a, s, Side::Sell, left);
            }
            let p = v.prices[s];
            let mut held = v.book.qty[a * n + s];
            let mut lots: Vec<crate::lots::LotId> = Vec::new();
            if guarded(s) {
                let mut open: Vec<&crate::lots::Lot> = v
                    .book
                    .lots(w, a, s)
                    .iter()
                    .filter(|l| l.basis <= l.quantity * p)
                    .collect();
                open.sort_by(|x, y| {
                    (y.basis / y.quantity)
                        .total_cmp(&(x.basis / x.quantity))
                        .then(x.id.cmp(&y.id))
                });
                let gain_shares = open.iter().fold(0.0, |q, l| q + l.quantity);
                if gain_shares < held - crate::lots::all_shares_tolerance(held) {
                    held = gain_shares;
                    lots = open.iter().map(|l| l.id).collect();
                }
                if held <= crate::lots::QTY_EPS {
                    continue;
                }
            }
            let usd = left.min(held * p);
            let q = if usd >= held * p - 1e-9 {
                held
            } else if w.secs[s].fractional {
                usd / p
            } else if raising {
                // Raising cash: whole shares enough to cover it (the simulator would
                // otherwise round the sale down, short of the need).
                (usd / p).ceil().min(held)
            } else {
                // Whole shares, as the simulator will sell them: the buys are sized on
                // these proceeds.
                (usd / p).floor()
            };
            if q <= 0.0 || q * p < min_trade.min(held * p) {
                continue;
            }
            // A sale that does not pay for its own ticket raises no cash, and gain lots
            // that small are not worth selling.
            if (raising || !lots.is_empty()) && q * p <= ticket_estimate(v, a, s, Side::Sell, q * p)
            {
                continue;
            }
            out.push(Order {
                account: a,
                security: s,
                side: Side::Sell,
                quantity: q,
                lots,
                reason,
            });
            left -= q * p;
            raised += q * p;
            net += q * p * (1.0 - SELL_COST_CUSHION) - ticket_estimate(v, a, s, Side::Sell, q * p);
        }
        (raised, net)
    };
    match mode {
        Mode::Full => {
            for c in 0..k {
                if d[c] >= -min_trade {
                    continue;
                }
                let mut rem = -d[c];
                for &a in &w.sell_order[c] {
                    if rem < min_trade {
                        break;
                    }
                    let amt = rem.min(h[a * k + c]);
                    if amt < min_trade {
                        continue;
                    }
                    let (got, proceeds) = sell_in(a, c, amt, out);
                    h[a * k + c] -= got;
                    // Proceeds net of the spread and the tickets' fees.
                    free[a] += proceeds;
                    rem -= got;
                    d[c] += got;
                }
            }
        }
        Mode::SellOnly(a, amount) => {
            let mut classes: Vec<usize> = (0..k).collect();
            // Most overweight first.
            classes.sort_by(|&x, &y| d[x].total_cmp(&d[y]).then(x.cmp(&y)));
            let mut left = amount;
            let first = out.len();
            for c in classes {
                if left <= 0.0 {
                    break;
                }
                // `amount` covers one ticket; a further sale must pay its own.
                let own = if out.len() > first {
                    (0..n)
                        .filter(|&s| w.secs[s].class == c && v.book.qty[a * n + s] > 0.0)
                        .map(|s| ticket_estimate(v, a, s, Side::Sell, left))
                        .fold(0.0, f64::max)
                } else {
                    0.0
                };
                let amt = (left + own).min(h[a * k + c]);
                if amt <= 0.0 {
                    continue;
                }
                // A forced sale may be small, but it must cover the shortfall.
                let (got, proceeds) = sell_in(a, c, amt.max(min_trade.min(h[a * k + c])), out);
                h[a * k + c] -= got;
                free[a] += proceeds;
                left -= got;
                d[c] += got;
            }
            return;
        }
        Mode::BuyOnly(_) => {}
    }
    // Buys: largest shortfall first.
    let mut classes: Vec<usize> = (0..k).filter(|&c| d[c] > min_trade).collect();
    classes.sort_by(|&x, &y| d[y].total_cmp(&d[x]).then(x.cmp(&y)));
    for c in classes {
        let mut rem = d[c];
        for &a in &w.buy_order[c] {
            if let Mode::BuyOnly(only) = mode {
                if a != only {
                    continue;
                }
            }
            if rem < min_trade {
                break;
            }
            let Some(&s) = w.classes[c]
                .vehicles
                .iter()
                .find(|&&s| may_buy(v, guard, a, s))
            else {
                continue;
            };
            let fee = ticket_estimate(v, a, s, Side::Buy, rem.min(free[a]));
            let amt = rem.min(free[a] - fee);
            if amt < min_trade {
                continue;
            }
            let p = v.prices[s];
            let q = amt / (p * (1.0 + w.secs[s].half_spread_bps / 1e4));
            let q = if w.secs[s].fractional { q } else { q.floor() };
            if q * p < min_trade.min(amt) || q <= 0.0 {
                continue;
            }
            out.push(Order {
                account: a,
                security: s,
                side: Side::Buy,
                quantity: q,
                lots: Vec::new(),
                reason,
            });
            // (The purchase pays its half-spread too: `amt` covered it.)
            free[a] -= q * p * (1.0 + w.secs[s].half_spread_bps / 1e4) + fee;
            rem -= q * p;
        }
    }
    let _ = m;
}

/// Class weight targets after a band breach: breached classes go to `t ± trade_to·h`,
/// the others absorb the difference in proportion to their current weights. `None` when
/// no class is outside its band.
pub(crate) fn band_targets(
    w: &World<'_>,
    weights: &[f64],
    band_of: impl Fn(usize) -> Band,
    trade_to: f64,
) -> Option<Vec<f64>> {
    let k = weights.len();
    let outside = |c: usize| {
        let t = w.classes[c].weight;
        let hw = band_of(c).half_width(t);
        let dev = weights[c] - t;
        (dev.abs() > hw + 1e-12).then(|| t + dev.signum() * trade_to * hw)
    };
    // Most check days breach nothing: decide that before allocating.
    if !(0..k).any(|c| outside(c).is_some()) {
        return None;
    }
    let mut out = weights.to_vec();
    let mut breached = vec![false; k];
    for c in 0..k {
        if let Some(x) = outside(c) {
            breached[c] = true;
            out[c] = x;
        }
    }
    let fixed: f64 = (0..k).filter(|&c| breached[c]).map(|c| out[c]).sum();
    let free_now: f64 = (0..k).filter(|&c| !breached[c]).map(|c| weights[c]).sum();
    let free_target = 1.0 - fixed;
    for c in 0..k {
        if !breached[c] {
            out[c] = if free_now > 0.0 {
                (weights[c] / free_now * free_target).max(0.0)
            } else {
                w.classes[c].weight
            };
        }
    }
    // When no class is left to absorb the difference (every class breached), or the
    // breached classes' targets alone exceed the whole, the targets are scaled to sum to
    // one: a plan never asks for more than the household holds.
    let sum: f64 = out.iter().sum();
    if sum > 0.0 && (sum - 1.0).abs() > 1e-12 {
        for x in &mut out {
            *x /= sum;
        }
    }
    Some(out)
}

/// A screen before [`band_targets`]: whether some class may be outside its band. It
/// values each class over all accounts at once ([`Book::sec_qty`], no per-account
/// holdings) and answers `false` only when every class is inside its band by
/// [`SCREEN_MARGIN`], far beyond the rounding by which its weights can differ from the
/// [`Holdings`] ones; the exact check then finds no breach either. On most check days of
/// a daily band rule nothing is near its band, and the per-account holdings are not
/// computed.
fn may_breach(v: &View<'_, '_>, band_of: impl Fn(usize) -> Band) -> bool {
    let w = v.w;
    let (q, prices) = (&v.book.sec_qty, v.prices);
    let k = w.classes.len();
    let mut totals = [0.0f64; SCREEN_CLASSES];
    if k > SCREEN_CLASSES {
        return true;
    }
    let (mut investable, mut scale) = (0.0, 0.0);
    let mut start = 0;
    for (c, &end) in w.class_end.iter().enumerate() {
        let mut sum = 0.0;
        for r in start..end {
            let x = q[r] * prices[w.class_secs[r]];
            sum += x;
            scale += x.abs();
        }
        totals[c] = sum;
        investable += sum;
        start = end;
    }
    for (a, acct) in w.accounts.iter().enumerate() {
        let free = v.book.cash[a] - acct.min_cash;
        investable += free;
        scale += free.abs();
    }
    // Trusted only where rounding stays far below the margin (the values sum to a
    // positive whole not dwarfed by the terms that cancel in it).
    if !(investable.is_finite() && investable > 0.0 && scale <= 1e3 * investable) {
        return true;
    }
    (0..k).any(|c| {
        let t = w.classes[c].weight;
        let hw = band_of(c).half_width(t);
        (totals[c] / investable - t).abs() > hw + 1e-12 - SCREEN_MARGIN
    })
}

/// [`may_breach`], checked in debug builds against the exact test it stands in for.
fn screened_breach(
    v: &View<'_, '_>,
    band_of: impl Fn(usize) -> Band + Copy,
    trade_to: f64,
) -> bool {
    let maybe = may_breach(v, band_of);
    debug_assert!(
        maybe || {
            let mut weights = Vec::new();
            Holdings::of(v).weights_into(&mut weights);
            band_targets(v.w, &weights, band_of, trade_to).is_none()
        },
        "the band screen ruled out a breach the exact check finds"
    );
    maybe
}

/// How far inside its band a class must be for [`may_breach`] to rule it out.
const SCREEN_MARGIN: f64 = 1e-9;

/// The most classes [`may_breach`] screens (a scenario with more is always checked
/// exactly).
const SCREEN_CLASSES: usize = 32;

/// Tilted class weights from a signal.
pub(crate) fn tilted_weights(w: &World<'_>, signal: &[f64], max_tilt: f64) -> Vec<f64> {
    let k = w.classes.len();
    let live: Vec<usize> = (0..k).filter(|&c| w.classes[c].weight > 0.0).collect();
    if live.is_empty() {
        return w.classes.iter().map(|c| c.weight).collect();
    }
    let tilt: Vec<f64> = (0..k)
        .map(|c| max_tilt * (signal.get(c).copied().unwrap_or(0.0) / 2.0).clamp(-1.0, 1.0))
        .collect();
    let mean = live.iter().map(|&c| tilt[c]).sum::<f64>() / live.len() as f64;
    let mut out: Vec<f64> = (0..k)
        .map(|c| {
            if w.classes[c].weight > 0.0 {
                (w.classes[c].weight + tilt[c] - mean).max(0.0)
            } else {
                0.0
            }
        })
        .collect();
    let sum: f64 = out.iter().sum();
    if sum > 0.0 {
        for x in &mut out {
            *x /= sum;
        }
    }
    out
}

/// The guard a policy trades under (none when it does not harvest).
pub(crate) fn guard_of(p: &Policy) -> WashSaleGuard {
    p.tlh.map_or(WashSaleGuard::None, |t| t.wash_sale_guard)
}

/// A policy's state from day to day: its optimizer's (when it has a cost-aware rule) and
/// the buffers its decisions reuse, so that a day that trades nothing allocates nothing.
pub(crate) struct PolicyState {
    /// The cost-aware optimizer's state.
    pub optimizer: Option<optimizer::CostAware>,
    hold: Holdings,
    weights: Vec<f64>,
    targets: Vec<f64>,
    /// The due bits the harvest stage acts on (see [`PolicyState::acts`]).
    harvest_mask: u8,
    /// The due bits the rebalance stage acts on: its rules' frequencies.
    rebalance_mask: u8,
}

impl PolicyState {
    /// A fresh state for `p`.
    pub fn new(p: &Policy) -> PolicyState {
        PolicyState {
            optimizer: p.optimizer.map(|_| optimizer::CostAware::new()),
            hold: Holdings::default(),
            weights: Vec::new(),
            targets: Vec::new(),
            harvest_mask: p.tlh.map_or(0, |r| due_bit(r.check)),
            rebalance_mask: p.calendar.map_or(0, |r| due_bit(r.frequency))
                | p.threshold.map_or(0, |r| due_bit(r.check))
                | p.opportunistic.map_or(0, |r| due_bit(r.check))
                | p.tactical.map_or(0, |r| due_bit(r.frequency))
                | p.optimizer.map_or(0, |r| due_bit(r.check)),
        }
    }

    /// Whether `stage` of policy `p` can order anything on a day with `due_mask`: a stage
    /// none of whose rules is due decides nothing ([`decide`] would return no order), and
    /// the day loop skips it.
    pub fn acts(&self, p: &Policy, stage: Stage, due_mask: u8) -> bool {
        match stage {
            Stage::CashFlow => p.cash_flow_first,
            Stage::Harvest => due_mask & self.harvest_mask != 0,
            Stage::Rebalance => due_mask & self.rebalance_mask != 0,
        }
    }
}

/// One stage of a policy on one day: appends its orders to `out`.
pub(crate) fn decide(
    p: &Policy,
    st: &mut PolicyState,
    stage: Stage,
    v: &View<'_, '_>,
    out: &mut Vec<Order>,
) {
    let w = v.w;
    let guard = guard_of(p);
    // The holdings are computed at most once a stage, when a rule needs them.
    let mut fresh = false;
    let mut holdings = |hold: &mut Holdings| {
        if !fresh {
            hold.refresh(v);
            fresh = true;
        }
    };
    match stage {
        Stage::CashFlow => {
            if !p.cash_flow_first {
                return;
            }
            for a in 0..w.accounts.len() {
                let free = v.book.cash[a] - w.accounts[a].min_cash;
                let inflow = v.inflow.get(a).copied().unwrap_or(false);
                if !(free < -DEFAULT_MIN_TRADE_USD || (inflow && free > DEFAULT_MIN_TRADE_USD)) {
                    continue;
                }
                holdings(&mut st.hold);
                let hd = &st.hold;
                st.targets.clear();
                st.targets
                    .extend(w.classes.iter().map(|c| c.weight * hd.investable));
                let mode = if free < 0.0 {
                    Mode::SellOnly(a, covering_its_costs(v, a, -free))
                } else {
                    Mode::BuyOnly(a)
                };
                plan(
                    v,
                    hd,
                    &st.targets,
                    mode,
                    Reason::CashFlow,
                    DEFAULT_MIN_TRADE_USD,
                    guard,
                    out,
                );
            }
        }
        Stage::Harvest => {
            if let Some(rule) = p.tlh {
                if v.due(rule.check) {
                    harvest(v, &rule, out);
                }
            }
        }
        Stage::Rebalance => {
            let mut targets_w: Option<(Vec<f64>, Reason, f64)> = None;
            if let Some(r) = p.calendar {
                if v.due(r.frequency) {
                    targets_w = Some((
                        w.classes.iter().map(|c| c.weight).collect(),
                        Reason::Drift,
                        DEFAULT_MIN_TRADE_USD,
                    ));
                }
            }
            if targets_w.is_none() {
                if let Some(r) = p.threshold {
                    let band = |c: usize| r.band.unwrap_or(w.classes[c].band);
                    if v.due(r.check) && screened_breach(v, band, r.trade_to) {
                        holdings(&mut st.hold);
                        st.hold.weights_into(&mut st.weights);
                        if let Some(t) = band_targets(w, &st.weights, band, r.trade_to) {
                            targets_w = Some((t, Reason::BandBreach, DEFAULT_MIN_TRADE_USD));
                        }
                    }
                }
            }
            if targets_w.is_none() {
                if let Some(r) = p.opportunistic {
                    let band = Band {
                        kind: BandKind::Relative,
                        width: r.relative_band,
                    };
                    if v.due(r.check) && screened_breach(v, |_| band, r.trade_to) {
                        holdings(&mut st.hold);
                        st.hold.weights_into(&mut st.weights);
                        if let Some(t) = band_targets(w, &st.weights, |_| band, r.trade_to) {
                            targets_w = Some((t, Reason::BandBreach, DEFAULT_MIN_TRADE_USD));
                        }
                    }
                }
            }
            if targets_w.is_none() {
                if let Some(r) = p.tactical {
                    if v.due(r.frequency) {
                        targets_w = Some((
                            tilted_weights(w, v.signal, r.max_tilt),
                            Reason::Signal,
                            DEFAULT_MIN_TRADE_USD,
                        ));
                    }
                }
            }
            if targets_w.is_none() {
                if let (Some(r), Some(o)) = (p.optimizer, st.optimizer.as_mut()) {
                    if v.due(r.check) {
                        holdings(&mut st.hold);
                        if let Some(t) = o.targets(v, &st.hold, &r) {
                            targets_w = Some((t, Reason::Optimizer, r.min_trade_usd.max(1.0)));
                        }
                    }
                }
            }
            if let Some((tw, reason, min_trade)) = targets_w {
                holdings(&mut st.hold);
                let hd = &st.hold;
                st.targets.clear();
                st.targets.extend(tw.iter().map(|x| x * hd.investable));
                plan(
                    v,
                    hd,
                    &st.targets,
                    Mode::Full,
                    reason,
                    min_trade,
                    guard,
                    out,
                );
            }
        }
    }
}

/// The dollars to sell in `account` to raise `need` once the sale's own costs are paid
/// (its ticket, regulatory fees and impact, priced for the dearest security the account
/// could sell, and the spread), so that a raise never leaves the account short again by
/// its own commission — which, with a ticket dearer than the shortfall, would repeat
/// every day.
fn covering_its_costs(v: &View<'_, '_>, account: usize, need: f64) -> f64 {
    let w = v.w;
    let cost = |usd: f64| {
        (0..w.n())
            .filter(|&s| v.book.qty[account * w.n() + s] > 0.0)
            .map(|s| ticket_estimate(v, account, s, Side::Sell, usd))
            .fold(0.0, f64::max)
    };
    let first = cost(need);
    need * (1.0 + SELL_COST_CUSHION) + cost(need + first) + 1.0
}

/// Sells in `account` until its cash is back to its minimum (a withdrawal or a tax bill
/// left it short): the most overweight classes first.
pub(crate) fn raise_cash(
    v: &View<'_, '_>,
    p: &Policy,
    account: usize,
    reason: Reason,
    out: &mut Vec<Order>,
) {
    let w = v.w;
    let need = w.accounts[account].min_cash - v.book.cash[account];
    if need <= 0.0 {
        return;
    }
    let hold = Holdings::of(v);
    let targets: Vec<f64> = w
        .classes
        .iter()
        .map(|c| c.weight * hold.investable)
        .collect();
    plan(
        v,
        &hold,
        &targets,
        Mode::SellOnly(account, covering_its_costs(v, account, need)),
        reason,
        0.0,
        guard_of(p),
        out,
    );
}

/// Tax-loss harvesting on a check day.
fn harvest(v: &View<'_, '_>, rule: &crate::scenario::policy::TlhRule, out: &mut Vec<Order>) {
    let w = v.w;
    let n = w.n();
    let guard = rule.wash_sale_guard;
    // Groups this decision sells and buys: a partner bought today is not harvested today,
    // and a group harvested today is not bought as a partner.
    let mut sold: Vec<usize> = Vec::new();
    let mut bought: Vec<usize> = Vec::new();
    for (a, acct) in w.accounts.iter().enumerate() {
        if acct.kind != AccountKind::Taxable {
            continue;
        }
        for s in 0..n {
            let idx = a * n + s;
            let q = v.book.qty[idx];
            let p = v.prices[s];
            let sec = &w.secs[s];
            // Quick screen: no lot can have the loss unless the price is below the highest
            // basis per share by the threshold.
            if q <= 0.0
                || sec.do_not_sell
                || p >= v.book.max_bps[idx] * (1.0 - rule.loss_threshold_pct)
            {
                continue;
            }
            if bought.contains(&sec.group) {
                continue;
            }
            let lots = v.book.lots(w, a, s);
            let candidate = |l: &crate::lots::Lot| {
                let lot_loss = l.basis - l.quantity * p;
                lot_loss > 0.0 && lot_loss >= rule.loss_threshold_pct * l.basis
            };
            let (mut shares, mut loss, mut count) = (0.0, 0.0, 0usize);
            for l in lots.iter().filter(|l| candidate(l)) {
                shares += l.quantity;
                loss += l.basis - l.quantity * p;
                count += 1;
            }
            if count == 0 || loss < rule.loss_threshold_usd {
                continue;
            }
            let selling: Vec<LotId> = lots.iter().filter(|l| candidate(l)).map(|l| l.id).collect();
            // The guard: no purchase of the group in the window other than the lots sold.
            if v.book
                .harvest_blocked_selling(w, guard, a, s, v.date, &selling)
            {
                continue;
            }
            let partner = if rule.partner_swaps {
                let found = sec.partners.iter().copied().find(|&x| {
                    let g = w.secs[x].group;
                    g != sec.group && !sold.contains(&g) && may_buy(v, guard, a, x)
                });
                match found {
                    Some(x) => Some(x),
                    // Without a partner to hold the exposure, do not harvest.
                    None => continue,
                }
            } else {
                None
            };
            sold.push(sec.group);
            if let Some(x) = partner {
                bought.push(w.secs[x].group);
            }
            out.push(Order {
                account: a,
                security: s,
                side: Side::Sell,
                quantity: shares,
                lots: selling,
                reason: Reason::Harvest,
            });
            if let Some(x) = partner {
                let px = w.secs[x].price_mult(v.prices[x]);
                let sold = shares * p * (1.0 - sec.half_spread_bps / 1e4);
                let fee = ticket_estimate(v, a, s, Side::Sell, shares * p)
                    + ticket_estimate(v, a, x, Side::Buy, sold);
                let proceeds = sold - fee - 1.0;
                let qx = proceeds / px;
                let qx = if w.secs[x].fractional { qx } else { qx.floor() };
                if qx > 0.0 {
                    out.push(Order {
                        account: a,
                        security: x,
                        side: Side::Buy,
                        quantity: qx,
                        lots: Vec::new(),
                        reason: Reason::PartnerSwap,
                    });
                }
            }
        }
    }
}
