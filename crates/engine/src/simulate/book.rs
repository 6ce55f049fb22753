//! One policy's books on one path: the ledger (lots, sales, wash sales), share and cash
//! balances, today's tickets, and the running totals the report needs.

use super::policy::{Order, Reason};
use super::report::{LotRelief, TradeRow};
use super::world::World;
use super::SimError;
use crate::date::Date;
use crate::fees::TicketCost;
use crate::ledger::Realized;
use crate::ledger::{Ledger, Trade};
use crate::lots::{LotId, QTY_EPS};
use crate::scenario::policy::WashSaleGuard;
use crate::tax::{net_year, Carryforward, HorizonTreatment};
use crate::types::{AccountKind, LotMethod, Side};

/// A ticket opened today: (account, security, side), shares so far and what was billed.
#[derive(Debug, Clone, Copy)]
struct OpenTicket {
    account: usize,
    security: usize,
    side: Side,
    quantity: f64,
    cost: TicketCost,
    /// Where its commission starts moving with the flat fee ([`crate::fees::FeeRow::flat_kink`]).
    kink: Option<f64>,
    /// Whether it was billed as fractional (it stays so for the day).
    fractional: bool,
}

/// Running totals of one path (dollars unless stated).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Totals {
    pub tickets: f64,
    pub trades: f64,
    pub commission: f64,
    pub regulatory: f64,
    pub spread: f64,
    pub impact: f64,
    pub notional: f64,
    pub taxes_cash: f64,
    pub dividends: f64,
    pub interest: f64,
    pub price_gain: f64,
    pub flows: f64,
    pub advisory: f64,
    pub trade_days: f64,
    /// Days with a trade the policy chose (not a cash flow's or a tax payment's).
    pub policy_trade_days: f64,
    /// What a dollar more on the flat fee costs after tax, summed over the tickets whose
    /// commission moves with it ([`crate::fees::FeeRow::flat_kink`]): each weighs
    /// [`after_tax_share`] of its account and side.
    pub flat_slope: f64,
    /// Σ of those tickets' weights × kinks (the flat fee each pays at the margin).
    pub flat_offset: f64,
    /// Every trading cost (commission, regulatory fees, spread, impact; dividend
    /// reinvestments' spread too) at what it costs in after-tax wealth at the horizon:
    /// each dollar weighs [`after_tax_share`] of its account and side × its
    /// [`growth_to_horizon`], as the break-even fee weighs a ticket's. What "before costs"
    /// adds back to the after-tax terminal wealth.
    pub costs_at_horizon: f64,
}

/// The books.
pub(crate) struct Book {
    pub ledger: Ledger,
    /// The ledger's position index of each `account * n + security` (see
    /// [`Ledger::position_at`]): lot lookups without comparing ids.
    pos: Vec<usize>,
    /// The trade being booked (its id strings keep their capacity from trade to trade).
    scratch: Trade,
    /// Today's [`growth_to_horizon`] once a ticket has needed it (`None` at the start of
    /// each day): one power a day instead of one per ticket.
    growth_today: Option<f64>,
    /// Shares, `account * n + security` (written through [`Book::set_qty`] only, which
    /// keeps `held` in step).
    pub qty: Vec<f64>,
    /// The indices of `qty` that are not zero, ascending: the daily passes over the
    /// holdings skip the empty positions (most of them) without testing each.
    pub held: Vec<usize>,
    /// Shares of each security over all accounts, `Σ_a qty[a * n + s]` summed in account
    /// order (recomputed by [`Book::set_qty`]), at the security's place in
    /// [`World::class_secs`]: the daily valuation visits each security once, class by
    /// class, instead of each position.
    pub sec_qty: Vec<f64>,
    /// Each security's place in [`World::class_secs`] (`World::sec_rank`).
    rank: Vec<usize>,
    /// Whether some position's shares changed since the flag was last taken (set by
    /// [`Book::set_qty`]; true for the opening holdings): the day's smallest position is
    /// looked for only then.
    pub shares_changed: bool,
    /// Cost basis of each position (taxable accounts), kept in step with the ledger.
    pub basis: Vec<f64>,
    /// Highest basis per share among each position's lots (taxable accounts).
    pub max_bps: Vec<f64>,
    pub cash: Vec<f64>,
    /// Last purchase date per `(account, group)`.
    last_buy: Vec<Option<Date>>,
    /// Last taxable loss sale date per `(account, group)`.
    last_loss_sale: Vec<Option<Date>>,
    tickets: Vec<OpenTicket>,
    today: Option<Date>,
    traded_today: bool,
    /// Whether the policy chose a trade today (see `Totals::policy_trade_days`).
    chose_today: bool,
    pub totals: Totals,
    /// Indices of harvest sales in the ledger.
    pub harvest_sales: Vec<usize>,
    pub carry: Carryforward,
    /// The last tax year settled.
    pub settled: i32,
    /// Taxes by year, in order.
    pub year_taxes: Vec<(i32, f64)>,
    /// The trade list, when this path's trades are recorded (see [`Book::take_rows`]).
    pub rows: Option<Vec<TradeRow>>,
    /// For each row of `rows`, the ledger's sale it booked (sales only).
    row_sales: Vec<Option<usize>>,
    /// The ledger's next lot id when the orders being carried out were decided
    /// ([`Book::deciding`]): lots split off a named lot since then are sold with it.
    decided_at: crate::lots::LotId,
}

const WINDOW: i32 = crate::ledger::WASH_WINDOW_DAYS;

impl Book {
    pub fn new(w: &World<'_>, method: LotMethod, record: bool) -> Result<Book, SimError> {
        let ledger = w.ledger_for(method).cloned().ok_or(SimError::Internal {
            what: "no opening ledger for the policy's lot method",
        })?;
        let (m, n) = (w.accounts.len(), w.n());
        let mut pos = Vec::with_capacity(m * n);
        for acc in &w.accounts {
            for sec in &w.secs {
                pos.push(
                    ledger
                        .position_index(&acc.id, &sec.symbol)
                        .unwrap_or(usize::MAX),
                );
            }
        }
        let mut b = Book {
            ledger,
            pos,
            scratch: Trade::buy(w.start, "", "", 0.0, 0.0),
            growth_today: None,
            qty: w.qty0.clone(),
            held: (0..m * n).filter(|&i| w.qty0[i] != 0.0).collect(),
            sec_qty: w
                .class_secs
                .iter()
                .map(|&s| (0..m).fold(0.0, |t, a| t + w.qty0[a * n + s]))
                .collect(),
            rank: w.sec_rank.clone(),
            shares_changed: true,
            basis: vec![0.0; m * n],
            max_bps: vec![0.0; m * n],
            cash: w.accounts.iter().map(|a| a.cash0).collect(),
            last_buy: vec![None; m * w.n_groups],
            last_loss_sale: vec![None; m * w.n_groups],
            tickets: Vec::new(),
            today: None,
            traded_today: false,
            chose_today: false,
            totals: Totals::default(),
            harvest_sales: Vec::new(),
            carry: w.tax.carryforward_in,
            settled: w.start.year() - 1,
            year_taxes: Vec::new(),
            rows: record.then(Vec::new),
            row_sales: Vec::new(),
            decided_at: 0,
        };
        for lot in b.ledger.lots() {
            if let (Some(a), Some(s)) = (
                w.accounts.iter().position(|x| *x.id == *lot.account),
                w.secs.iter().position(|x| *x.symbol == *lot.symbol),
            ) {
                let g = w.secs[s].group;
                let slot = &mut b.last_buy[a * w.n_groups + g];
                if slot.is_none_or(|d| d < lot.acquired) {
                    *slot = Some(lot.acquired);
                }
            }
        }
        for a in 0..m {
            if w.accounts[a].kind.is_taxable() {
                for s in 0..n {
                    b.refresh(w, a, s);
                }
            }
        }
        Ok(b)
    }

    /// Sets the shares of position `idx`, keeping `held` and `sec_qty` in step.
    fn set_qty(&mut self, idx: usize, q: f64) {
        let (was, is) = (self.qty[idx] != 0.0, q != 0.0);
        self.qty[idx] = q;
        self.shares_changed = true;
        let n = self.rank.len();
        let s = idx % n;
        self.sec_qty[self.rank[s]] = self.qty[s..].iter().step_by(n).fold(0.0, |t, x| t + x);
        if was != is {
            match self.held.binary_search(&idx) {
                Ok(p) if !is => {
                    self.held.remove(p);
                }
                Err(p) if is => self.held.insert(p, idx),
                _ => {}
            }
        }
    }

    /// The open lots of account `a`'s position in security `s`, in booking order.
    pub fn lots(&self, w: &World<'_>, a: usize, s: usize) -> &[crate::lots::Lot] {
        self.ledger.position_at(self.pos[a * w.n() + s])
    }

    /// Recomputes the cached basis of a taxable position from the ledger.
    fn refresh(&mut self, w: &World<'_>, a: usize, s: usize) {
        let idx = a * w.n() + s;
        (self.basis[idx], self.max_bps[idx]) = self.recomputed_basis(w, a, s);
    }

    /// A taxable position's basis and highest basis per share, from its lots.
    fn recomputed_basis(&self, w: &World<'_>, a: usize, s: usize) -> (f64, f64) {
        let (mut basis, mut max) = (0.0, 0.0f64);
        for l in self.lots(w, a, s) {
            basis += l.basis;
            max = crate::num::max(max, l.basis_per_share());
        }
        (basis, max)
    }

    /// The cached basis of a taxable position after a purchase: when the purchase washed
    /// no loss, its lot is the position's last and no other lot changed, so the lot is
    /// added to the cache (the same sum, in the same order, as [`Book::refresh`]'s);
    /// otherwise the position is recomputed.
    fn refresh_after_buy(&mut self, w: &World<'_>, a: usize, s: usize, no_wash: bool) {
        let idx = a * w.n() + s;
        match self.lots(w, a, s).last() {
            Some(l) if no_wash => {
                let (basis, bps) = (l.basis, l.basis_per_share());
                self.basis[idx] += basis;
                self.max_bps[idx] = crate::num::max(self.max_bps[idx], bps);
                debug_assert!(
                    {
                        let (b, m) = self.recomputed_basis(w, a, s);
                        b.to_bits() == self.basis[idx].to_bits()
                            && m.to_bits() == self.max_bps[idx].to_bits()
                    },
                    "the basis cache after a purchase differs from a recomputation"
                );
            }
            _ => self.refresh(w, a, s),
        }
    }

    fn refresh_group(&mut self, w: &World<'_>, group: usize) {
        for a in 0..w.accounts.len() {
            if !w.accounts[a].kind.is_taxable() {
                continue;
            }
            for s in 0..w.n() {
                if w.secs[s].group == group
                    && (self.qty[a * w.n() + s] > 0.0 || self.basis[a * w.n() + s] != 0.0)
                {
                    self.refresh(w, a, s);
                }
            }
        }
    }

    /// The wash-sale guard's purchase test: is buying `group` in `account` blocked today?
    pub fn buy_blocked(
        &self,
        w: &World<'_>,
        guard: WashSaleGuard,
        account: usize,
        group: usize,
        date: Date,
    ) -> bool {
        let recent = |d: Option<Date>| d.is_some_and(|d| date.days_since(d) <= WINDOW);
        let g = w.n_groups;
        match guard {
            WashSaleGuard::None => false,
            WashSaleGuard::Account => recent(self.last_loss_sale[account * g + group]),
            WashSaleGuard::Household => {
                (0..w.accounts.len()).any(|a| recent(self.last_loss_sale[a * g + group]))
            }
        }
    }

    /// The wash-sale guard's harvest test: was `group` bought in the last 30 days?
    pub fn harvest_blocked(
        &self,
        w: &World<'_>,
        guard: WashSaleGuard,
        account: usize,
        group: usize,
        date: Date,
    ) -> bool {
        let recent = |d: Option<Date>| d.is_some_and(|d| date.days_since(d) <= WINDOW);
        let g = w.n_groups;
        match guard {
            WashSaleGuard::None => false,
            WashSaleGuard::Account => recent(self.last_buy[account * g + group]),
            WashSaleGuard::Household => {
                (0..w.accounts.len()).any(|a| recent(self.last_buy[a * g + group]))
            }
        }
    }

    /// [`Book::harvest_blocked`] for a harvest that sells the lots `selling` of security
    /// `security` in `account`: a purchase in the window that is one of those lots (their
    /// own purchase, e.g. a lot bought 20 days ago now at a loss) does not block it; any
    /// other acquisition of the group in the guard's scope, held or sold since, does.
    pub fn harvest_blocked_selling(
        &self,
        w: &World<'_>,
        guard: WashSaleGuard,
        account: usize,
        security: usize,
        date: Date,
        selling: &[LotId],
    ) -> bool {
        let group = w.secs[security].group;
        if !self.harvest_blocked(w, guard, account, group, date) {
            return false;
        }
        let n = w.n();
        let accounts: Vec<usize> = match guard {
            WashSaleGuard::None => return false,
            WashSaleGuard::Account => vec![account],
            WashSaleGuard::Household => (0..w.accounts.len()).collect(),
        };
        let positions: Vec<usize> = accounts
            .iter()
            .flat_map(|&a| {
                (0..n)
                    .filter(move |&s| w.secs[s].group == group)
                    .map(move |s| self.pos[a * n + s])
            })
            .collect();
        self.ledger
            .acquired_in(&positions, date.add_days(-WINDOW), date, selling)
    }

    /// Marks the point at which the next orders are decided: a sale naming lots sells the
    /// pieces a wash splits off them afterwards too ([`Ledger::named_with_pieces`]).
    pub fn deciding(&mut self) {
        self.decided_at = self.ledger.next_lot_id();
    }

    /// Starts a new day: closes yesterday's tickets.
    pub fn begin_day(&mut self, date: Date) {
        if self.today != Some(date) {
            self.tickets.clear();
            self.today = Some(date);
            self.growth_today = None;
            self.traded_today = false;
            self.chose_today = false;
        }
    }

    /// Household value at `prices` (cash + positions).
    pub fn value(&self, w: &World<'_>, prices: &[f64]) -> f64 {
        let n = w.n();
        let mut v = 0.0;
        for (a, c) in self.cash.iter().enumerate() {
            v += c;
            for s in 0..n {
                v += self.qty[a * n + s] * prices[s];
            }
        }
        v
    }

    /// Applies one day's price moves (already net of expense ratios) to the holdings:
    /// records the price gain `Σ q·(P_t − P_{t−1})` and the cash interest.
    pub fn mark(&mut self, w: &World<'_>, prev_prices: &[f64], prices: &[f64]) {
        let n = w.n();
        let mut g = 0.0;
        let (now, before) = (&prices[..n], &prev_prices[..n]);
        for a in 0..w.accounts.len() {
            for (s, &q) in self.qty[a * n..(a + 1) * n].iter().enumerate() {
                if q != 0.0 {
                    g += q * (now[s] - before[s]);
                }
            }
        }
        self.mark_gain(w, g);
    }

    /// [`Book::mark`] with the price gain `g` already summed by the caller (in the same
    /// order, over the same holdings): records it and the cash interest.
    pub fn mark_gain(&mut self, w: &World<'_>, g: f64) {
        self.totals.price_gain += g;
        if w.cash_rate != 0.0 {
            for c in &mut self.cash {
                if *c > 0.0 {
                    let i = *c * w.cash_rate;
                    *c += i;
                    self.totals.interest += i;
                }
            }
        }
    }

    /// Pays the day's dividends (`div[s]` per dollar at the previous close): reinvested
    /// (a purchase, booked in the ledger; whole shares where fractions are not allowed,
    /// the rest in cash) unless the guard blocks the group, else in cash. Returns whether
    /// any account received cash.
    #[allow(clippy::too_many_arguments)]
    pub fn dividends(
        &mut self,
        w: &World<'_>,
        date: Date,
        prev_prices: &[f64],
        prices: &[f64],
        div: &[f64],
        guard: WashSaleGuard,
        inflow: &mut [bool],
    ) -> Result<(), SimError> {
        let n = w.n();
        for a in 0..w.accounts.len() {
            for s in 0..n {
                let d = div[s];
                let q = self.qty[a * n + s];
                if d <= 0.0 || q <= 0.0 {
                    continue;
                }
                let amount = q * prev_prices[s] * d;
                self.totals.dividends += amount;
                let sec = &w.secs[s];
                let blocked = self.buy_blocked(w, guard, a, sec.group, date) || sec.do_not_buy;
                // A reinvestment buys in the market like any purchase: it pays the
                // half-spread (no ticket, no commission), which is part of its basis.
                let half_spread = sec.half_spread_bps / 1e4;
                let mut shares = 0.0;
                if w.reinvest && !blocked {
                    shares = amount / (prices[s] * (1.0 + half_spread));
                    if !sec.fractional {
                        shares = shares.floor();
                    }
                }
                if shares > QTY_EPS {
                    let spread = shares * prices[s] * half_spread;
                    // A reinvestment is a purchase like any other (it can replace a
                    // washed loss).
                    let t = &mut self.scratch;
                    t.date = date;
                    t.account.clone_from(&w.accounts[a].id);
                    t.symbol.clone_from(&sec.symbol);
                    t.side = Side::Buy;
                    t.quantity = shares;
                    t.price = prices[s];
                    t.fee = spread;
                    t.method = None;
                    t.lots.clear();
                    let outcome = self
                        .ledger
                        .apply_at(t, self.pos[a * n + s])
                        .map_err(|e| SimError::ledger(w, a, s, date, e))?;
                    self.set_qty(a * n + s, self.qty[a * n + s] + shares);
                    self.cash[a] += amount - shares * prices[s] - spread;
                    self.totals.spread += spread;
                    let growth = *self
                        .growth_today
                        .get_or_insert_with(|| growth_to_horizon(w, date));
                    self.totals.costs_at_horizon +=
                        spread * after_tax_share(w, a, Side::Buy) * growth;
                    self.last_buy[a * w.n_groups + sec.group] = Some(date);
                    if let Some(rows) = &mut self.rows {
                        self.row_sales.push(None);
                        rows.push(TradeRow {
                            date,
                            account: w.accounts[a].id.clone(),
                            symbol: sec.symbol.clone(),
                            side: Side::Buy,
                            quantity: shares,
                            price: prices[s],
                            lots: Vec::new(),
                            commission: 0.0,
                            regulatory: 0.0,
                            rates: String::new(),
                            spread,
                            realized_gain: 0.0,
                            realized_long_term: 0.0,
                            disallowed: 0.0,
                            reason: Reason::DividendReinvestment,
                        });
                    }
                    if w.accounts[a].kind.is_taxable() {
                        self.refresh_after_buy(w, a, s, outcome.washes.is_empty());
                    }
                } else {
                    self.cash[a] += amount;
                    inflow[a] = true;
                }
            }
        }
        Ok(())
    }

    /// Executes one order at today's prices through the ledger, with the account's fee
    /// schedule (one ticket per account, security, side and day). Buys are cut to the
    /// account's cash; sells to the shares held. Returns the shares traded.
    pub fn execute(
        &mut self,
        w: &World<'_>,
        date: Date,
        prices: &[f64],
        o: &Order,
    ) -> Result<f64, SimError> {
        self.begin_day(date);
        let n = w.n();
        let (a, s) = (o.account, o.security);
        let idx = a * n + s;
        let sec = &w.secs[s];
        let p = prices[s];
        let held = self.qty[idx];
        let mut q = o.quantity;
        if !(q.is_finite() && q > 0.0) {
            return Ok(0.0);
        }
        let specific = !o.lots.is_empty();
        match o.side {
            Side::Sell => {
                if held <= QTY_EPS {
                    return Ok(0.0);
                }
                if specific {
                    // The lots named — for a harvest, with what a wash split off them since
                    // it was decided (a harvest sells its loss lots whole; another sale names
                    // lots at a gain, and a piece that took a washed loss may not be) — and a
                    // named lot an earlier sale of the day relieved is gone: the order sells
                    // what is left of the lots it names.
                    let lots = &mut self.scratch.lots;
                    let since = if o.reason == Reason::Harvest {
                        self.decided_at
                    } else {
                        crate::lots::LotId::MAX
                    };
                    self.ledger
                        .named_with_pieces(self.pos[idx], &o.lots, since, lots);
                    let position = self.ledger.position_at(self.pos[idx]);
                    lots.retain(|id| position.iter().any(|l| l.id == *id));
                    let named: f64 = position
                        .iter()
                        .filter(|l| lots.contains(&l.id))
                        .map(|l| l.quantity)
                        .sum();
                    if named <= QTY_EPS {
                        return Ok(0.0);
                    }
                    q = q.min(named);
                }
                if q >= held - crate::lots::all_shares_tolerance(held) {
                    q = held;
                } else if !sec.fractional && !specific {
                    q = q.floor();
                }
            }
            Side::Buy => {
                if !sec.fractional {
                    q = (q + 1e-9).floor();
                }
            }
        }
        if q <= QTY_EPS {
            return Ok(0.0);
        }
        let schedule = w.schedules[w.accounts[a].schedule];
        let open = self
            .tickets
            .iter()
            .position(|t| t.account == a && t.security == s && t.side == o.side);
        let (prev_q, prev_cost, prev_fractional) = match open {
            Some(i) => {
                let t = &self.tickets[i];
                (t.quantity, Some(t.cost), t.fractional)
            }
            None => (0.0, None, false),
        };
        let price_ticket = |q: f64| -> Result<(TicketCost, TicketCost), SimError> {
            let mut spec = sec.ticket(date, o.side, prev_q + q, p);
            // A ticket billed a fractional surcharge keeps it when a later order of the day
            // makes its shares whole (the surcharge is not refunded).
            spec.fractional |= prev_fractional;
            let cost = schedule
                .ticket_cost_valid(&spec, w.regulatory)
                .map_err(|e| SimError::Fee {
                    account: w.accounts[a].id.clone(),
                    symbol: sec.symbol.clone(),
                    date,
                    source: e,
                })?;
            let inc = match prev_cost {
                None => cost,
                Some(pc) => TicketCost {
                    commission: cost.commission - pc.commission,
                    sec_fee: cost.sec_fee - pc.sec_fee,
                    taf: cost.taf - pc.taf,
                    spread: cost.spread - pc.spread,
                    impact: cost.impact - pc.impact,
                    ..cost
                },
            };
            Ok((cost, inc))
        };
        let (mut cost, mut inc) = price_ticket(q)?;
        if o.side == Side::Buy {
            // Never spend cash the account does not have.
            let mut tries = 0;
            while q * p + inc.total() > self.cash[a] + 1e-9 {
                tries += 1;
                let room = self.cash[a] - inc.explicit_total() - inc.impact;
                let mut q2 = room / (p * (1.0 + sec.half_spread_bps / 1e4));
                if !sec.fractional {
                    q2 = q2.floor();
                }
                if q2 <= QTY_EPS || tries > 3 {
                    return Ok(0.0);
                }
                q = q2.min(q * 0.999_999);
                (cost, inc) = price_ticket(q)?;
            }
        }
        let fee = inc.total().max(0.0);
        let trade = &mut self.scratch;
        trade.date = date;
        trade.account.clone_from(&w.accounts[a].id);
        trade.symbol.clone_from(&sec.symbol);
        trade.side = o.side;
        trade.quantity = q;
        trade.price = p;
        trade.fee = fee;
        trade.method = None;
        if specific && o.side == Side::Sell {
            // `trade.lots` holds the lots named, worked out above.
            trade.method = Some(LotMethod::SpecificLot);
        } else {
            trade.lots.clear();
        }
        let outcome = self
            .ledger
            .apply_at(trade, self.pos[idx])
            .map_err(|e| SimError::ledger(w, a, s, date, e))?;
        let notional = q * p;
        match o.side {
            Side::Sell => {
                self.cash[a] += notional - fee;
                self.set_qty(idx, if q == held { 0.0 } else { held - q });
            }
            Side::Buy => {
                self.cash[a] -= notional + fee;
                self.set_qty(idx, self.qty[idx] + q);
                self.last_buy[a * w.n_groups + sec.group] = Some(date);
            }
        }
        // Tickets and costs.
        let ticket_q = prev_q + q;
        let kink = schedule
            .rows
            .get(sec.security_type)
            .flat_kink(o.side, ticket_q, ticket_q * p);
        let fractional = prev_fractional || crate::lots::is_fractional(ticket_q);
        let was = match open {
            Some(i) => {
                let t = &mut self.tickets[i];
                t.quantity += q;
                t.cost = cost;
                t.fractional = fractional;
                std::mem::replace(&mut t.kink, kink)
            }
            None => {
                self.tickets.push(OpenTicket {
                    account: a,
                    security: s,
                    side: o.side,
                    quantity: q,
                    cost,
                    kink,
                    fractional,
                });
                self.totals.tickets += 1.0;
                None
            }
        };
        if was != kink {
            let growth = *self
                .growth_today
                .get_or_insert_with(|| growth_to_horizon(w, date));
            let share = after_tax_share(w, a, o.side) * growth;
            let t = &mut self.totals;
            match (was, kink) {
                (None, Some(f)) => {
                    t.flat_slope += share;
                    t.flat_offset += share * f;
                }
                (Some(f), None) => {
                    t.flat_slope -= share;
                    t.flat_offset -= share * f;
                }
                (Some(old), Some(new)) => t.flat_offset += share * (new - old),
                (None, None) => {}
            }
        }
        if !self.traded_today {
            self.traded_today = true;
            self.totals.trade_days += 1.0;
        }
        if !self.chose_today && !matches!(o.reason, Reason::CashFlow | Reason::TaxPayment) {
            self.chose_today = true;
            self.totals.policy_trade_days += 1.0;
        }
        let costs = inc.commission + inc.sec_fee + inc.taf + inc.spread + inc.impact;
        if costs != 0.0 {
            let growth = *self
                .growth_today
                .get_or_insert_with(|| growth_to_horizon(w, date));
            self.totals.costs_at_horizon += costs * after_tax_share(w, a, o.side) * growth;
        }
        let t = &mut self.totals;
        t.trades += 1.0;
        t.commission += inc.commission;
        t.regulatory += inc.sec_fee + inc.taf;
        t.spread += inc.spread;
        t.impact += inc.impact;
        t.notional += notional;
        // Tax effects and guards.
        let (mut gain, mut long_term) = (0.0, 0.0);
        let mut disallowed = 0.0;
        if let Some(si) = outcome.sale {
            if let Some(rec) = self.ledger.sales().get(si) {
                gain = rec.short_term + rec.long_term;
                long_term = rec.long_term;
                disallowed = rec.disallowed;
                if rec.lots.iter().any(|l| l.economic_gain() < -1e-9) {
                    self.last_loss_sale[a * w.n_groups + sec.group] = Some(date);
                }
            }
            if o.reason == Reason::Harvest {
                self.harvest_sales.push(si);
            }
        }
        if w.accounts[a].kind.is_taxable() {
            if o.side == Side::Sell || !outcome.washes.is_empty() {
                self.refresh_group(w, sec.group);
            }
            self.refresh(w, a, s);
        } else if !outcome.washes.is_empty() {
            self.refresh_group(w, sec.group);
        }
        if let Some(rows) = &mut self.rows {
            self.row_sales.push(outcome.sale);
            rows.push(TradeRow {
                date,
                account: w.accounts[a].id.clone(),
                symbol: sec.symbol.clone(),
                side: o.side,
                quantity: q,
                price: p,
                lots: outcome
                    .relieved
                    .iter()
                    .map(|r| LotRelief {
                        lot: r.lot_id,
                        label: w
                            .opening_labels
                            .get(self.ledger.purchase(r.lot_id) as usize)
                            .cloned()
                            .unwrap_or_default(),
                        quantity: r.quantity,
                        basis: r.basis,
                        acquired: r.acquired,
                        long_term: crate::lots::is_long_term(r.holding_start, date),
                    })
                    .collect(),
                commission: inc.commission,
                regulatory: inc.sec_fee + inc.taf,
                rates: cost.rates_applied(),
                spread: inc.spread + inc.impact,
                realized_gain: gain,
                realized_long_term: long_term,
                disallowed,
                reason: o.reason,
            });
        }
        Ok(q)
    }

    /// The recorded trade list, with each sale's tax effect as the ledger has it now: a
    /// purchase within 30 days after a loss sale washes it after the sale's row was
    /// written, so rows are final only once the path is over.
    pub fn take_rows(&mut self) -> Vec<TradeRow> {
        let mut rows = self.rows.take().unwrap_or_default();
        let sales = self.ledger.sales();
        for (row, sale) in rows.iter_mut().zip(&self.row_sales) {
            if let Some(rec) = sale.and_then(|si| sales.get(si)) {
                row.realized_gain = rec.short_term + rec.long_term;
                row.realized_long_term = rec.long_term;
                row.disallowed = rec.disallowed;
            }
        }
        rows
    }

    /// Nets tax year `year` (every sale of it is final by now) and pays the tax from (or
    /// credits the saving to) the taxable account's cash.
    pub fn settle_year(&mut self, w: &World<'_>, year: i32) {
        let realized = self
            .ledger
            .realized_by_year()
            .get(&year)
            .copied()
            .unwrap_or_default();
        let y = net_year(&w.tax, realized, self.carry);
        self.carry = y.carryforward_out;
        self.settled = year;
        self.year_taxes.push((year, y.tax));
        if let Some(a) = w.tax_account {
            self.cash[a] -= y.tax;
            self.totals.taxes_cash += y.tax;
        }
    }

    /// Settles every tax year before `date`'s year not yet settled (the horizon's
    /// wind-up: their wash-sale windows no longer matter), paying the tax from cash.
    pub fn settle_before(&mut self, w: &World<'_>, date: Date) {
        let year = date.year();
        while self.settled < year - 1 {
            let y = self.settled + 1;
            self.settle_year(w, y);
        }
    }

    /// The horizon: settles the years before `date`'s year ([`Book::settle_before`]),
    /// records `date`'s year's tax in `year_taxes` and returns the wind-up taxes (cash is
    /// not touched beyond the settled years).
    pub fn horizon_taxes(&mut self, w: &World<'_>, date: Date, prices: &[f64]) -> WindUp {
        self.settle_before(w, date);
        let wind = self.wind_up(w, date, prices);
        self.year_taxes.push((date.year(), wind.this_year));
        wind
    }

    /// The taxes due if the household were wound up at `date`'s close at `prices`, without
    /// touching the books (the side-effect-free form of the horizon's taxes):
    ///
    /// - `unsettled`: each year before `date`'s year not yet settled, netted in order from
    ///   the carry-forward as [`Book::settle_year`] would;
    /// - `this_year`: `date`'s year's realized results so far, netted with the carry out of
    ///   those years;
    /// - `liquidation`: under [`crate::tax::HorizonTreatment::Liquidate`], the extra tax of
    ///   `date`'s year if every taxable lot were also sold at `prices` (its unrealized gains
    ///   by holding period added to the year's realized results), 0 when holding;
    /// - `deferred`: the traditional IRA / 401k balances at the profile's deferred rate.
    pub fn wind_up(&self, w: &World<'_>, date: Date, prices: &[f64]) -> WindUp {
        let year = date.year();
        // Realized results of the open years, summed afresh (a later wash can still change
        // an open year's records). The books trade in date order, so the sales of the
        // open years are the last ones.
        let mut by_year = [Realized::default(); 4];
        let mut older = std::collections::BTreeMap::new();
        for rec in self.ledger.sales().iter().rev() {
            let y = rec.date.year();
            if y <= self.settled {
                break;
            }
            let k = (year - y) as usize;
            let r = if k < by_year.len() {
                &mut by_year[k]
            } else {
                older.entry(y).or_insert_with(Realized::default)
            };
            r.short_term += rec.short_term;
            r.long_term += rec.long_term;
        }
        let realized_in = |y: i32| {
            let k = (year - y) as usize;
            if k < by_year.len() {
                by_year[k]
            } else {
                older.get(&y).copied().unwrap_or_default()
            }
        };
        let mut carry = self.carry;
        let mut unsettled = 0.0;
        for y in self.settled + 1..year {
            let t = net_year(&w.tax, realized_in(y), carry);
            carry = t.carryforward_out;
            unsettled += t.tax;
        }
        let realized = realized_in(year);
        let this_year = net_year(&w.tax, realized, carry).tax;
        let liquidation = match w.tax.horizon {
            HorizonTreatment::Liquidate => {
                let unrealized = self.unrealized(w, date, prices);
                let both = Realized {
                    short_term: realized.short_term + unrealized.short_term,
                    long_term: realized.long_term + unrealized.long_term,
                };
                net_year(&w.tax, both, carry).tax - this_year
            }
            HorizonTreatment::Hold => 0.0,
        };
        let n = w.n();
        let mut deferred = 0.0;
        for (a, acc) in w.accounts.iter().enumerate() {
            if matches!(acc.kind, AccountKind::TraditionalIra | AccountKind::K401) {
                let mut v = self.cash[a];
                for j in 0..n {
                    v += self.qty[a * n + j] * prices[j];
                }
                deferred += v * w.tax.deferred_rate();
            }
        }
        if w.tax_account.is_none() {
            // No taxable account: nothing is realized, and a carry-forward's ordinary
            // offset saves tax outside the portfolio, as `settle_year` leaves it.
            return WindUp {
                deferred,
                ..WindUp::default()
            };
        }
        WindUp {
            unsettled,
            this_year,
            liquidation,
            deferred,
        }
    }

    /// Unrealized gains of the taxable accounts' lots if all were sold on `date` at
    /// `prices`, by holding period (wash sales such a sale might trigger are ignored, as
    /// in [`Ledger::unrealized_taxable`]); summed by account, security, then lot.
    fn unrealized(&self, w: &World<'_>, date: Date, prices: &[f64]) -> Realized {
        let n = w.n();
        let cutoff = long_term_cutoff(date);
        let mut out = Realized::default();
        for (a, acc) in w.accounts.iter().enumerate() {
            if !acc.kind.is_taxable() {
                continue;
            }
            for s in 0..n {
                // The cached basis is non-zero whenever the position has lots.
                if self.qty[a * n + s] == 0.0 && self.basis[a * n + s] == 0.0 {
                    continue;
                }
                for lot in self.lots(w, a, s) {
                    let gain = lot.quantity * prices[s] - lot.basis;
                    if lot.holding_start < cutoff {
                        out.long_term += gain;
                    } else {
                        out.short_term += gain;
                    }
                }
            }
        }
        out
    }
}

/// What a dollar of commission on a ticket of account `a` costs in after-tax wealth: in a
/// taxable account, a sale's commission lowers its gain (or deepens its loss) and a
/// purchase's joins the lot's basis, deducted when it is sold (at the horizon too when the
/// household liquidates; never under hold, with the step-up), both at the long-term rate
/// (the short-term rate, for the sales that are short-term, is not distinguished); in a
/// traditional IRA or 401k it lowers a value taxed at the deferred rate; in a Roth it is a
/// dollar. What the dollar would have grown to is [`growth_to_horizon`].
pub(crate) fn after_tax_share(w: &World<'_>, a: usize, side: Side) -> f64 {
    match w.accounts[a].kind {
        AccountKind::TraditionalIra | AccountKind::K401 => 1.0 - w.tax.deferred_rate(),
        k if k.is_taxable() => {
            if side == Side::Buy && w.tax.horizon == HorizonTreatment::Hold {
                1.0
            } else {
                1.0 - w.tax.long_term_rate()
            }
        }
        _ => 1.0,
    }
}

/// What a dollar paid on `date` would have grown to by the horizon at the target model's
/// expected return ([`World::expected_growth`]).
pub(crate) fn growth_to_horizon(w: &World<'_>, date: Date) -> f64 {
    let end = w.dates.last().copied().unwrap_or(date);
    let years = f64::from(end.days_since(date).max(0)) / 365.2425;
    libm::pow(1.0 + w.expected_growth.max(-0.99), years)
}

/// The first holding start that is *not* long-term on `date`: a lot is long-term on
/// `date` ([`crate::lots::is_long_term`]: `date > start + 1 year`) exactly when its holding
/// start is before it, since `start + 1 year` is non-decreasing in `start`. One comparison
/// per lot instead of a calendar computation.
fn long_term_cutoff(date: Date) -> Date {
    let mut c = date.add_years(-1);
    while crate::lots::is_long_term(c, date) {
        c = c.add_days(1);
    }
    while !crate::lots::is_long_term(c.add_days(-1), date) {
        c = c.add_days(-1);
    }
    c
}

/// The taxes of winding the household up on a day ([`Book::wind_up`]), dollars.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct WindUp {
    /// Tax of the years before the day's year not yet settled.
    pub unsettled: f64,
    /// Tax of the day's year on its realized results so far.
    pub this_year: f64,
    /// Extra tax of liquidating the taxable lots (0 when holding).
    pub liquidation: f64,
    /// Tax on the traditional IRA / 401k balances.
    pub deferred: f64,
}

impl WindUp {
    /// Every tax of the wind-up, summed in a fixed order.
    pub fn total(&self) -> f64 {
        self.unsettled + self.this_year + self.liquidation + self.deferred
    }
}

#[cfg(test)]
mod tests {
    use super::long_term_cutoff;
    use crate::date::Date;
    use crate::lots::is_long_term;

    /// The cutoff agrees with the holding-period rule for every start around every sale
    /// date of a leap-year span (Feb 29 starts and sales included).
    #[test]
    fn long_term_cutoff_matches_the_holding_period_rule() {
        let first = Date::from_ymd(2023, 12, 1).unwrap();
        for d in 0..500 {
            let date = first.add_days(d);
            let cutoff = long_term_cutoff(date);
            for k in -400..-300 {
                let start = date.add_days(k);
                assert_eq!(
                    start < cutoff,
                    is_long_term(start, date),
                    "start {start}, sale {date}"
                );
            }
        }
    }
}
