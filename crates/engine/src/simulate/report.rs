//! The side-by-side report: per policy, the distribution over paths of every metric, each
//! with its definition; time series for charts; one path's dated trade list.
//!
//! Paths are aggregated as they stream: a path's [`PathOutcome`] (per-policy scalars, four
//! month-end series, and — for the one recorded path — its trades) is reduced at once by
//! [`Accumulator::push`] into per-policy aggregates of bounded size: exact sums for the
//! means and exact-then-sketched distributions for the percentiles ([`super::stats`]).
//! [`Accumulator::merge`] combines aggregates from any split of the paths (threads, Web
//! Workers); the sums are exact and the distributions depend only on the multiset of
//! values, so the same scenario and seed give a bit-identical report however the work was
//! split and in whatever order the parts were merged.

use super::policy::Reason;
use super::stats::{Distribution, ExactSum, Limits, EXACT_CAP, SKETCH_MAX_BUCKETS};
use crate::date::Date;
use crate::lots::LotId;
use crate::types::Side;
use serde::{Deserialize, Serialize};

/// One lot relieved by a sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LotRelief {
    /// The lot's id in the ledger.
    pub lot: LotId,
    /// The scenario's id of the opening lot the shares came from (its `id` in the
    /// household; a piece a wash split off it keeps it); empty for shares bought in the
    /// simulation, told apart by their purchase date.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// Shares relieved.
    pub quantity: f64,
    /// Basis relieved, dollars.
    pub basis: f64,
    /// The lot's purchase date.
    pub acquired: Date,
    /// Whether the shares were held more than a year at the sale, their holding period
    /// counted from its start (a wash-sale replacement's tacks on the loss lot's).
    #[serde(default)]
    pub long_term: bool,
}

/// One executed trade of the recorded path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeRow {
    /// Trade date.
    pub date: Date,
    /// Account id.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Shares.
    pub quantity: f64,
    /// Price per share (mid).
    pub price: f64,
    /// Lots relieved (sales).
    pub lots: Vec<LotRelief>,
    /// Commission charged for this trade (its increment of the day's ticket).
    pub commission: f64,
    /// SEC and FINRA fees.
    pub regulatory: f64,
    /// The regulatory rates applied to the ticket
    /// ([`crate::fees::TicketCost::rates_applied`]; empty for a buy).
    #[serde(default)]
    pub rates: String,
    /// Half-spread and impact cost.
    pub spread: f64,
    /// Realized gain recognized by a taxable sale: proceeds at the mid price net of all the
    /// order's costs (commission, regulatory fees, spread and impact), less the basis
    /// relieved, plus any loss washed by a purchase within 30 days before or after it
    /// (final: as of the end of the path).
    pub realized_gain: f64,
    /// The long-term part of `realized_gain` (the rest is short-term).
    #[serde(default)]
    pub realized_long_term: f64,
    /// Loss of the sale disallowed as a wash sale (deferred into replacement lots or lost
    /// for good), as of the end of the path.
    pub disallowed: f64,
    /// Why.
    pub reason: Reason,
}

/// One policy's scalars on one path.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PolicyPath {
    /// Tickets (account, security, side, day).
    pub tickets: f64,
    /// Trades (a ticket may hold several orders of a day).
    pub trades: f64,
    /// Days with at least one trade.
    pub trade_days: f64,
    /// Days with at least one trade the policy chose (rebalancing, band breach, harvest,
    /// partner swap, signal or optimizer; not a cash flow's or a tax payment's).
    #[serde(default)]
    pub policy_trade_days: f64,
    /// The after-tax cost at the horizon of a dollar more on the flat fee: Σ over the
    /// tickets whose commission moves with it ([`crate::fees::FeeRow::flat_kink`]) of
    /// each one's weight (see [`PolicyReport::break_even_ticket_fee`]).
    #[serde(default)]
    pub flat_slope: f64,
    /// Σ of those tickets' weights × kinks (the flat fee each pays at the margin).
    #[serde(default)]
    pub flat_offset: f64,
    /// Commissions, dollars.
    pub commission: f64,
    /// SEC and FINRA fees.
    pub regulatory: f64,
    /// Half-spread cost.
    pub spread: f64,
    /// Market-impact cost.
    pub impact: f64,
    /// Σ |trade notional|.
    pub notional: f64,
    /// Taxes paid in cash at year ends.
    pub taxes_cash: f64,
    /// Taxes on realized gains over the horizon (year ends plus the last year).
    pub taxes_paid: f64,
    /// Dividends received.
    pub dividends: f64,
    /// Interest on cash.
    pub interest: f64,
    /// Price gains and losses on holdings.
    pub price_gain: f64,
    /// Net contributions (withdrawals negative) actually made.
    pub flows: f64,
    /// Advisory fees.
    pub advisory: f64,
    /// Losses realized by harvest sales (gross, economic).
    pub harvest_gross: f64,
    /// Of which disallowed as wash sales and added to a replacement's basis.
    pub harvest_washed: f64,
    /// Of which disallowed for good (replacement in an IRA or Roth).
    pub harvest_lost: f64,
    /// Losses disallowed by the wash-sale rule on every taxable sale (harvests, rebalancing,
    /// cash raising), deferred or lost for good.
    #[serde(default)]
    pub disallowed_all: f64,
    /// Household value at the start.
    pub start_value: f64,
    /// Household value at the horizon, before taxes.
    pub terminal_pretax: f64,
    /// After-tax value at the horizon.
    pub after_tax: f64,
    /// Tax on the last (partial) year's realized gains, charged at the horizon.
    pub last_year_tax: f64,
    /// Liquidation tax at the horizon (0 when holding).
    pub liquidation_tax: f64,
    /// Tax on the traditional IRA / 401k value at the horizon.
    pub deferred_tax: f64,
    /// Average daily household value.
    pub avg_value: f64,
    /// Annualised tracking error against the target model.
    pub tracking_error: f64,
    /// Average daily largest class deviation from target.
    pub avg_drift: f64,
    /// Largest daily class deviation.
    pub max_drift: f64,
    /// Lowest cash balance of any account on any day (books check).
    pub min_cash: f64,
    /// Lowest share balance of any position on any day (books check).
    pub min_shares: f64,
    /// The annualised after-tax money-weighted return ([`money_weighted_return`] of the
    /// starting value, the cash flows as paid and [`PolicyPath::after_tax`]).
    #[serde(default)]
    pub annual_return: f64,
    /// The same with the policy's trading costs added back to the terminal wealth at
    /// their after-tax value there (see the books' `costs_at_horizon`).
    #[serde(default)]
    pub annual_return_before_costs: f64,
    /// Month-end household value (pre-tax).
    pub monthly_value: Vec<f64>,
    /// Month-end cumulative tickets.
    pub monthly_tickets: Vec<f64>,
    /// Month-end cumulative ticket charges and regulatory fees.
    pub monthly_fees: Vec<f64>,
    /// Month-end after-tax household value ([`AFTER_TAX_VALUE_DEFINITION`]); the last
    /// entry (the horizon is a month-end) equals [`PolicyPath::after_tax`].
    pub monthly_after_tax: Vec<f64>,
}

impl PolicyPath {
    /// All trading costs: commissions, regulatory fees, spread and impact.
    pub fn costs(&self) -> f64 {
        self.commission + self.regulatory + self.spread + self.impact
    }
}

/// One path's outcome: every policy's scalars (in scenario order) and, for the recorded
/// path, the trades.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathOutcome {
    /// The path's index.
    pub path: u64,
    /// Per policy.
    pub policies: Vec<PolicyPath>,
    /// Per policy, the trades (recorded path only).
    pub trades: Option<Vec<Vec<TradeRow>>>,
}

/// Some policies' outcomes on one path ([`super::Simulation::run_path_part`]); the parts
/// of a path make its [`PathOutcome`] ([`super::Simulation::join_parts`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathPart {
    /// The path's index.
    pub path: u64,
    /// The policies simulated (indices into the scenario's).
    pub policies: Vec<usize>,
    /// Their outcomes, in the order of `policies`.
    pub outcomes: Vec<PolicyPath>,
    /// Their trades, in the same order (recorded path only).
    pub trades: Option<Vec<Vec<TradeRow>>>,
}

/// What an [`Accumulator`] needs to know of the run to reduce a path: its policies, its
/// baseline, its horizon and its month-ends.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    /// Number of policies (scenario order).
    pub policies: usize,
    /// Index of the baseline policy.
    pub baseline: usize,
    /// Horizon in years (for annualised metrics).
    pub years: f64,
    /// Number of month-ends (the length of the month-end series).
    pub months: usize,
    /// A distribution keeps at most this many values exactly before it becomes a sketch
    /// ([`EXACT_CAP`] unless lowered, e.g. to test the sketch on few paths).
    pub exact_cap: u32,
    /// A sketched distribution holds at most this many buckets, coarsening its resolution
    /// as needed ([`SKETCH_MAX_BUCKETS`] unless lowered, e.g. to test coarsening).
    #[serde(default = "default_max_buckets")]
    pub max_buckets: u32,
}

fn default_max_buckets() -> u32 {
    SKETCH_MAX_BUCKETS
}

impl Shape {
    /// The shape of a run, with the default cap ([`EXACT_CAP`]).
    pub fn new(policies: usize, baseline: usize, years: f64, months: usize) -> Shape {
        Shape {
            policies,
            baseline,
            years,
            months,
            exact_cap: EXACT_CAP,
            max_buckets: SKETCH_MAX_BUCKETS,
        }
    }

    /// The limits of its distributions (exact cap, bucket limit).
    pub fn limits(&self) -> Limits {
        Limits {
            exact_cap: self.exact_cap,
            max_buckets: self.max_buckets,
        }
    }
}

/// Why a path or a partial accumulator could not be added.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AccumulateError {
    /// A path was pushed into an accumulator that does not know the run's shape.
    #[error("path {path}: the accumulator does not know the run's shape (make it with `Simulation::accumulator` or `Accumulator::with_shape`)")]
    NoShape {
        /// The path.
        path: u64,
    },
    /// A path's policy count differs from the run's.
    #[error("path {path} has {got} policies, the run {expected}")]
    PolicyCount {
        /// The path.
        path: u64,
        /// The run's policy count.
        expected: usize,
        /// The path's.
        got: usize,
    },
    /// The baseline index is not a policy.
    #[error("baseline {baseline} is not one of the {policies} policies")]
    BadBaseline {
        /// The baseline index.
        baseline: usize,
        /// The policy count.
        policies: usize,
    },
    /// Two accumulators of different runs.
    #[error("accumulators of different runs cannot be merged: {ours:?} vs {theirs:?}")]
    ShapeMismatch {
        /// This accumulator's shape.
        ours: Shape,
        /// The other's.
        theirs: Shape,
    },
    /// A (deserialized) accumulator whose aggregates do not match its shape.
    #[error("the accumulator's aggregates do not match its shape {shape:?}")]
    Inconsistent {
        /// Its shape.
        shape: Shape,
    },
}

/// One metric's aggregate over paths: the exact sum (for the mean) and the distribution
/// (for the percentiles).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
struct MetricAgg {
    #[serde(rename = "s")]
    sum: ExactSum,
    #[serde(rename = "d")]
    dist: Distribution,
}

/// One policy's aggregates over paths.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
struct PolicyAgg {
    /// Per metric, in [`definitions`] order.
    metrics: Vec<MetricAgg>,
    /// Σ [`PolicyPath::flat_slope`].
    #[serde(default)]
    flat_slope: ExactSum,
    /// Σ [`PolicyPath::flat_offset`].
    #[serde(default)]
    flat_offset: ExactSum,
    /// Σ commissions (ticket charges).
    fees: ExactSum,
    /// Σ net contributions.
    flows: ExactSum,
    /// Per month-end: Σ cumulative tickets.
    monthly_tickets: Vec<ExactSum>,
    /// Per month-end: Σ cumulative ticket charges and regulatory fees.
    monthly_fees: Vec<ExactSum>,
    /// Per month-end: household value.
    monthly_value: Vec<Distribution>,
    /// Per month-end: after-tax household value.
    monthly_after_tax: Vec<Distribution>,
}

impl PolicyAgg {
    fn new(months: usize) -> PolicyAgg {
        PolicyAgg {
            metrics: vec![MetricAgg::default(); METRICS],
            monthly_tickets: vec![ExactSum::default(); months],
            monthly_fees: vec![ExactSum::default(); months],
            monthly_value: vec![Distribution::default(); months],
            monthly_after_tax: vec![Distribution::default(); months],
            ..PolicyAgg::default()
        }
    }

    fn fits(&self, months: usize) -> bool {
        self.metrics.len() == METRICS
            && self.monthly_tickets.len() == months
            && self.monthly_fees.len() == months
            && self.monthly_value.len() == months
            && self.monthly_after_tax.len() == months
    }

    fn merge(&mut self, o: &PolicyAgg, cap: Limits) {
        for (a, b) in self.metrics.iter_mut().zip(&o.metrics) {
            a.sum.merge(&b.sum);
            a.dist.merge(&b.dist, cap);
        }
        self.flat_slope.merge(&o.flat_slope);
        self.flat_offset.merge(&o.flat_offset);
        self.fees.merge(&o.fees);
        self.flows.merge(&o.flows);
        for (a, b) in self.monthly_tickets.iter_mut().zip(&o.monthly_tickets) {
            a.merge(b);
        }
        for (a, b) in self.monthly_fees.iter_mut().zip(&o.monthly_fees) {
            a.merge(b);
        }
        for (a, b) in self.monthly_value.iter_mut().zip(&o.monthly_value) {
            a.merge(b, cap);
        }
        for (a, b) in self.monthly_after_tax.iter_mut().zip(&o.monthly_after_tax) {
            a.merge(b, cap);
        }
    }
}

/// The recorded path's trades ([`SimOptions::record_path`](super::SimOptions)), as an
/// accumulator keeps them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedTrades {
    /// The path.
    pub path: u64,
    /// Per policy, in scenario order, its trade rows in execution order.
    pub policies: Vec<Vec<TradeRow>>,
}

/// Paths reduced so far, as they stream; merge partial accumulators in any order.
///
/// A path is reduced when pushed: per policy, each metric of the report (computed from the
/// policy's and the baseline's outcome on that path) goes into an exact sum and a
/// distribution ([`Distribution`]: the values while at most [`Shape::exact_cap`], by
/// default [`EXACT_CAP`], then a sketch of at most [`Shape::max_buckets`] buckets, by
/// default [`SKETCH_MAX_BUCKETS`], within [`SKETCH_ALPHA`](super::stats::SKETCH_ALPHA) or
/// coarser when the spread needs it: [`Accumulator::worst_relative_error`]), and the
/// month-end series into exact sums (cumulative tickets and fees) and distributions
/// (values). Memory is therefore bounded independently of the path count and of the
/// spread of the values: at most `exact_cap` values or `max_buckets` buckets (8 bytes
/// each) per distribution (P·(20 + 2·M) distributions for P policies and M month-ends);
/// exact sums hold a few partials. The recorded path's trade list is kept as is.
///
/// Sums are exact and rounded once, sketches and exact value sets depend on the multiset of
/// values only, so the report is bit-identical for any split of the paths and any order of
/// pushes and merges. (Two accumulators holding the same paths may still differ in
/// representation — the order of exact values, the partials of a sum — but not in what
/// they report.)
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Accumulator {
    /// The run's shape (`None` for an empty accumulator made by [`Accumulator::new`]: it
    /// adopts the shape of the first accumulator merged into it).
    shape: Option<Shape>,
    /// Paths reduced.
    paths: u64,
    /// Per policy.
    policies: Vec<PolicyAgg>,
    /// The recorded path's trades (the lowest path index holding trades).
    recorded: Option<RecordedTrades>,
}

impl Accumulator {
    /// An empty accumulator without a shape: it can only receive merges (it adopts the
    /// shape of the first non-empty one). Use [`Accumulator::with_shape`] (or
    /// `Simulation::accumulator`) to push paths.
    pub fn new() -> Accumulator {
        Accumulator::default()
    }

    /// An empty accumulator for a run of shape `shape`.
    pub fn with_shape(shape: Shape) -> Accumulator {
        Accumulator {
            shape: Some(shape),
            paths: 0,
            policies: (0..shape.policies)
                .map(|_| PolicyAgg::new(shape.months))
                .collect(),
            recorded: None,
        }
    }

    /// The run's shape, once known.
    pub fn shape(&self) -> Option<&Shape> {
        self.shape.as_ref()
    }

    /// Reduces one path into the aggregates. Errors when the accumulator has no shape or
    /// the path's policy count is not the run's.
    pub fn push(&mut self, o: PathOutcome) -> Result<(), AccumulateError> {
        let shape = self
            .shape
            .ok_or(AccumulateError::NoShape { path: o.path })?;
        let b = shape.baseline;
        if o.policies.len() != shape.policies || self.policies.len() != shape.policies {
            return Err(AccumulateError::PolicyCount {
                path: o.path,
                expected: shape.policies,
                got: o.policies.len(),
            });
        }
        let Some(base) = o.policies.get(b) else {
            return Err(AccumulateError::BadBaseline {
                baseline: b,
                policies: shape.policies,
            });
        };
        let cap = shape.limits();
        for (agg, x) in self.policies.iter_mut().zip(&o.policies) {
            let values = path_metrics(x, base, shape.years);
            for (m, v) in agg.metrics.iter_mut().zip(values) {
                m.sum.add(v);
                m.dist.add(v, cap);
            }
            agg.flat_slope.add(x.flat_slope);
            agg.flat_offset.add(x.flat_offset);
            agg.fees.add(x.commission);
            agg.flows.add(x.flows);
            let at = |v: &Vec<f64>, m: usize| v.get(m).copied().unwrap_or(0.0);
            for m in 0..shape.months.min(agg.monthly_tickets.len()) {
                agg.monthly_tickets[m].add(at(&x.monthly_tickets, m));
                agg.monthly_fees[m].add(at(&x.monthly_fees, m));
                agg.monthly_value[m].add(at(&x.monthly_value, m), cap);
                agg.monthly_after_tax[m].add(at(&x.monthly_after_tax, m), cap);
            }
        }
        self.paths += 1;
        if let Some(trades) = o.trades {
            self.record(RecordedTrades {
                path: o.path,
                policies: trades,
            });
        }
        Ok(())
    }

    fn record(&mut self, r: RecordedTrades) {
        if self.recorded.as_ref().is_none_or(|old| r.path < old.path) {
            self.recorded = Some(r);
        }
    }

    /// Checks that the aggregates match the shape (for accumulators read from JSON).
    fn check(&self) -> Result<(), AccumulateError> {
        match self.shape {
            None if self.paths == 0 && self.policies.is_empty() => Ok(()),
            Some(shape)
                if self.policies.len() == shape.policies
                    && shape.baseline < shape.policies
                    && self.policies.iter().all(|p| p.fits(shape.months)) =>
            {
                Ok(())
            }
            shape => Err(AccumulateError::Inconsistent {
                shape: shape.unwrap_or(Shape::new(0, 0, 0.0, 0)),
            }),
        }
    }

    /// Adds another accumulator's paths. The order and grouping of merges do not matter:
    /// the report is bit-identical. Errors (leaving `self` unchanged) when the two come
    /// from runs of different shapes or `other` is inconsistent.
    pub fn merge(&mut self, other: Accumulator) -> Result<(), AccumulateError> {
        other.check()?;
        let Some(theirs) = other.shape else {
            return Ok(());
        };
        let Some(ours) = self.shape else {
            // Trades added to a shapeless accumulator ([`Accumulator::add_recorded`]) stay.
            let kept = self.recorded.take();
            *self = other;
            if let Some(r) = kept {
                self.record(r);
            }
            return Ok(());
        };
        if ours != theirs {
            return Err(AccumulateError::ShapeMismatch { ours, theirs });
        }
        self.check()?;
        for (a, b) in self.policies.iter_mut().zip(&other.policies) {
            a.merge(b, ours.limits());
        }
        self.paths += other.paths;
        if let Some(r) = other.recorded {
            self.record(r);
        }
        Ok(())
    }

    /// Number of paths gathered.
    pub fn len(&self) -> u64 {
        self.paths
    }

    /// True when no path was gathered.
    pub fn is_empty(&self) -> bool {
        self.paths == 0
    }

    /// Takes the recorded path's trades out, to carry or read them apart from the
    /// aggregates (a ten-year trade list is most of a chunk's JSON);
    /// [`Accumulator::add_recorded`] puts them back.
    pub fn take_recorded(&mut self) -> Option<RecordedTrades> {
        self.recorded.take()
    }

    /// Adds a recorded path's trades: of two recorded paths the lower is kept, as in
    /// [`Accumulator::merge`].
    pub fn add_recorded(&mut self, r: RecordedTrades) {
        self.record(r);
    }

    /// The path whose trades are kept, if it was gathered.
    pub fn recorded_path(&self) -> Option<u64> {
        self.recorded.as_ref().map(|r| r.path)
    }

    /// Every distribution (metrics, then month-end values and after-tax values, per
    /// policy).
    fn distributions(&self) -> impl Iterator<Item = &Distribution> {
        self.policies.iter().flat_map(|p| {
            p.metrics
                .iter()
                .map(|m| &m.dist)
                .chain(&p.monthly_value)
                .chain(&p.monthly_after_tax)
        })
    }

    /// True while every distribution still holds its values (percentiles exact).
    pub fn is_exact(&self) -> bool {
        self.distributions().all(|d| !d.is_sketch())
    }

    /// The worst relative accuracy of any percentile's order statistics: `None` while
    /// every distribution is exact, else the largest `α_h` of the sketches
    /// ([`SKETCH_ALPHA`](super::stats::SKETCH_ALPHA) unless a sketch had to coarsen to keep
    /// within [`Shape::max_buckets`]). A function of the paths gathered, not of the order
    /// or grouping in which they were pushed and merged.
    pub fn worst_relative_error(&self) -> Option<f64> {
        self.distributions()
            .filter_map(Distribution::relative_error)
            .reduce(f64::max)
    }
}

/// The distribution of a metric over paths.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Stat {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub median: f64,
    /// 5th percentile (linear interpolation between order statistics).
    pub p5: f64,
    /// 95th percentile.
    pub p95: f64,
}

impl Stat {
    /// The statistics of `xs` (in any order; summed in the given order for the mean).
    pub fn of(xs: &[f64]) -> Stat {
        if xs.is_empty() {
            return Stat::default();
        }
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let mut s = xs.to_vec();
        s.sort_by(f64::total_cmp);
        Stat {
            mean,
            median: quantile(&s, 0.5),
            p5: quantile(&s, 0.05),
            p95: quantile(&s, 0.95),
        }
    }
}

/// Quantile of sorted data by linear interpolation at `(n − 1)·q`.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let x = (n - 1) as f64 * q;
            let i = x.floor() as usize;
            let f = x - i as f64;
            if i + 1 >= n {
                sorted[n - 1]
            } else {
                sorted[i] + f * (sorted[i + 1] - sorted[i])
            }
        }
    }
}

/// A metric's definition, for tooltips and footnotes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDef {
    /// Key used in [`PolicyReport::metrics`].
    pub key: String,
    /// Short label.
    pub label: String,
    /// Unit: `count`, `usd`, `bps_per_year`, `fraction`, `fraction_per_year`, `per_year`.
    pub unit: String,
    /// What it means, exactly.
    pub definition: String,
}

/// A metric's distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    /// The metric's key (see [`Report::definitions`]).
    pub key: String,
    /// Its distribution over paths.
    pub stat: Stat,
}

/// The side of the break-even ticket fee on which a policy beats the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakEvenSide {
    /// At fees below the break-even (the policy buys more tickets than the baseline).
    Below,
    /// At fees above the break-even (the policy buys fewer tickets than the baseline).
    Above,
}

/// The break-even ticket fee and the side of it on which the policy wins, from the net
/// benefit vs the baseline and, over the baseline's, the extra (weighted) tickets whose
/// commission moves with the flat fee and the extra (weighted) sum of their kinks
/// ([`crate::fees::FeeRow::flat_kink`]): at a flat fee `F` on every such ticket, the net
/// benefit is `net − (F·extra − kinks)`, zero at `F* = (net + kinks) / extra` (today's
/// flat fee plus `net / extra` when every such ticket pays it). `None` when the policy has
/// as many such tickets as the baseline (or a figure is not finite).
pub fn break_even(net: f64, extra_tickets: f64, extra_kinks: f64) -> Option<(f64, BreakEvenSide)> {
    // (Weighted tickets are sums of fractions: the same tickets can differ by rounding.)
    if extra_tickets.is_nan() || extra_tickets.abs() <= 1e-9 {
        return None;
    }
    let fee = (net + extra_kinks) / extra_tickets;
    let side = if extra_tickets > 0.0 {
        BreakEvenSide::Below
    } else {
        BreakEvenSide::Above
    };
    fee.is_finite().then_some((fee, side))
}

/// One policy's column of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyReport {
    /// The policy's name.
    pub name: String,
    /// True for the baseline.
    pub baseline: bool,
    /// Every metric, in [`Report::definitions`] order.
    pub metrics: Vec<MetricValue>,
    /// The flat fee per ticket at which the policy's mean net benefit vs the baseline is
    /// zero, the trades unchanged: [`break_even`] of the mean net benefit and of the
    /// tickets whose commission moves with the flat fee, each weighed by what a dollar of
    /// it costs in after-tax wealth at the horizon (its tax deduction, and its growth at
    /// the target model's expected return; `book::after_tax_share`,
    /// `book::growth_to_horizon`). A ticket at its schedule's minimum moves once the fee
    /// passes its kink, one at the maximum does not move. Which side of it the policy wins
    /// on is [`PolicyReport::break_even_wins`]. `None` for the baseline and when the
    /// policy has as many such tickets as the baseline (the fee does not move the
    /// difference).
    pub break_even_ticket_fee: Option<f64>,
    /// Where the policy beats the baseline: [`BreakEvenSide::Below`] the break-even fee
    /// when it buys more tickets than the baseline (a negative break-even: at no fee),
    /// [`BreakEvenSide::Above`] it when it buys fewer (a break-even below zero: at any
    /// fee). `None` with no break-even fee.
    #[serde(default)]
    pub break_even_wins: Option<BreakEvenSide>,
    /// Mean (per path) after-tax cost at the horizon of a dollar more on the flat fee:
    /// the tickets whose commission moves with it ([`crate::fees::FeeRow::flat_kink`]),
    /// each weighed as [`PolicyReport::break_even_ticket_fee`] says; with
    /// [`PolicyReport::flat_offset`], what a firm's break-even fee is computed from.
    #[serde(default)]
    pub flat_slope: f64,
    /// Mean Σ of those tickets' weights × kinks (the flat fee each pays at the margin).
    #[serde(default)]
    pub flat_offset: f64,
    /// Mean ticket charges (commissions; regulatory fees are a separate metric) ÷ mean net
    /// new assets (`None` without net new assets).
    pub ticket_charges_to_nna: Option<f64>,
    /// Mean net new assets: contributions less withdrawals paid within the horizon, $ (a
    /// withdrawal is limited to what its account holds, so this can differ by policy).
    #[serde(default)]
    pub net_new_assets: f64,
    /// Trades more often than quarterly — trades of its own choosing (not a cash flow's or a
    /// tax payment's) on more than [`FRICTION_TRADE_DAYS`] days a year, on average over the
    /// paths — and its mean net benefit is negative (never the baseline).
    pub friction_flag: bool,
}

impl PolicyReport {
    /// A metric by key.
    pub fn metric(&self, key: &str) -> Option<Stat> {
        self.metrics.iter().find(|m| m.key == key).map(|m| m.stat)
    }
}

/// One policy's time series (month ends).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySeries {
    /// The policy.
    pub name: String,
    /// Mean cumulative tickets.
    pub cumulative_tickets: Vec<f64>,
    /// Mean cumulative ticket charges and regulatory fees, dollars.
    pub cumulative_fees: Vec<f64>,
    /// 5th percentile of household value (pre-tax).
    pub wealth_p5: Vec<f64>,
    /// Median household value (pre-tax).
    pub wealth_p50: Vec<f64>,
    /// 95th percentile of household value (pre-tax).
    pub wealth_p95: Vec<f64>,
    /// 5th percentile of after-tax household value ([`AFTER_TAX_VALUE_DEFINITION`]).
    pub after_tax_p5: Vec<f64>,
    /// Median after-tax household value.
    pub after_tax_p50: Vec<f64>,
    /// 95th percentile of after-tax household value.
    pub after_tax_p95: Vec<f64>,
}

/// What the month-end after-tax household value is (the after-tax wealth fan), in one
/// sentence. At the horizon it is the after-tax terminal wealth.
pub const AFTER_TAX_VALUE_DEFINITION: &str = "Household value at the month-end close less the tax still due on realized gains (every year not yet settled and the year so far, netted in order with carry-forwards), the tax of liquidating the taxable accounts that day at the profile's rates (none when holding: step-up), and ordinary tax on traditional IRA / 401k balances; Roth untaxed.";

/// Month-end series for charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// The month-end dates (last business day of each month on the path).
    pub dates: Vec<Date>,
    /// Per policy.
    pub policies: Vec<PolicySeries>,
}

/// The trades of one path, per policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeList {
    /// The path recorded.
    pub path: u64,
    /// Per policy (scenario order): its name and trades.
    pub policies: Vec<(String, Vec<TradeRow>)>,
}

/// The report of a simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Engine version.
    pub engine_version: String,
    /// The scenario's hash ([`crate::scenario::Scenario::hash_hex`]).
    pub scenario_hash: String,
    /// The scenario's name.
    pub scenario_name: String,
    /// Random seed.
    pub seed: u64,
    /// Paths simulated.
    pub paths: u64,
    /// Horizon in years.
    pub horizon_years: u32,
    /// The valuation date before the first step.
    pub start: Date,
    /// The last step's date.
    pub end: Date,
    /// The baseline policy's name.
    pub baseline: String,
    /// Modelling notes and assumptions printed next to the numbers.
    pub assumptions: Vec<String>,
    /// Every metric's definition.
    pub definitions: Vec<MetricDef>,
    /// Per policy, in scenario order.
    pub policies: Vec<PolicyReport>,
    /// Month-end series.
    pub series: Series,
    /// The recorded path's trades.
    pub trades: TradeList,
    /// Keys of the metrics this run cannot define (a ratio to a starting value of zero):
    /// their figures are 0 and are shown as n/a. Empty for most runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undefined: Vec<String>,
}

impl Report {
    /// Whether metric `key` is defined for this run (see [`Report::undefined`]).
    pub fn defines(&self, key: &str) -> bool {
        !self.undefined.iter().any(|k| k == key)
    }

    /// Canonical JSON (compact, fields in declaration order, shortest round-trip floats).
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("unserializable: {e}"))
    }

    /// FNV-1a 64 of [`Report::canonical_json`], 16 lowercase hex digits.
    pub fn hash_hex(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in self.canonical_json().as_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{h:016x}")
    }

    /// The horizon as the per-year metrics divide by it: [`years_span`] from
    /// [`Report::start`] to [`Report::end`] (days ÷ [`DAYS_PER_YEAR`], not the whole
    /// number [`Report::horizon_years`]).
    pub fn years_span(&self) -> f64 {
        years_span(self.start, self.end)
    }

    /// The assumptions that warn about this scenario's results: the sentences opening
    /// with one of [`WARNINGS`] (withdrawals not met in full, cash flows after the
    /// horizon, a household with no starting value, a repaired correlation matrix), in
    /// report order. The fixed modelling notes every report carries, and the notes that
    /// describe a policy's settings, are not warnings.
    pub fn warnings(&self) -> Vec<String> {
        self.assumptions
            .iter()
            .filter(|a| WARNINGS.iter().any(|w| a.starts_with(w)))
            .cloned()
            .collect()
    }

    /// A policy's column by name.
    pub fn policy(&self, name: &str) -> Option<&PolicyReport> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// What the report was computed from: the scenario's name, hash and seed, the paths,
    /// years and this report's hash, and the engine version.
    pub fn provenance(&self) -> crate::Provenance {
        crate::Provenance {
            scenario_name: self.scenario_name.clone(),
            scenario_hash: self.scenario_hash.clone(),
            seed: self.seed,
            run: Some(crate::RunProvenance {
                paths: self.paths,
                years: self.horizon_years,
                report_hash: Some(self.hash_hex()),
            }),
            engine_version: self.engine_version.clone(),
        }
    }

    /// The recorded trades as CSV: the report's provenance line
    /// ([`crate::Provenance::csv_line`]), a header, then one row per trade (lots joined
    /// by `;`).
    pub fn trades_csv(&self) -> String {
        let mut out = self.provenance().csv_line();
        out.push_str(
            "policy,date,account,symbol,side,quantity,price,lots,commission,regulatory,rates_applied,spread_and_impact,realized_gain,disallowed,reason\n",
        );
        for (name, rows) in &self.trades.policies {
            for r in rows {
                let lots: Vec<String> = r
                    .lots
                    .iter()
                    .map(|l| {
                        let name = if l.label.is_empty() {
                            format!("#{}", l.lot)
                        } else {
                            l.label.clone()
                        };
                        format!("{name}:{}@{}", l.quantity, l.acquired)
                    })
                    .collect();
                let reason = serde_json::to_string(&r.reason).unwrap_or_default();
                out.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                    crate::csv_text(name),
                    r.date,
                    crate::csv_text(&r.account),
                    crate::csv_text(&r.symbol),
                    if r.side == Side::Buy { "buy" } else { "sell" },
                    r.quantity,
                    r.price,
                    crate::csv_text(&lots.join(";")),
                    crate::csv_fixed(r.commission, 2),
                    crate::csv_fixed(r.regulatory, 2),
                    crate::csv_text(&r.rates),
                    crate::csv_fixed(r.spread, 4),
                    crate::csv_fixed(r.realized_gain, 2),
                    crate::csv_fixed(r.disallowed, 2),
                    reason.trim_matches('"'),
                ));
            }
        }
        out
    }
}

/// Days in a year as the per-year metrics count them (the mean Gregorian year).
pub const DAYS_PER_YEAR: f64 = 365.2425;

/// The time from `start` to `end` in years as the per-year metrics divide by it: days ÷
/// [`DAYS_PER_YEAR`]. A horizon of whole years rarely spans a whole number of them (a
/// year from 2026-11-20 ends on the business day 2027-11-19: 0.9966 years).
pub fn years_span(start: Date, end: Date) -> f64 {
    f64::from(end.days_since(start)) / DAYS_PER_YEAR
}

/// Opening of the assumption added when a withdrawal was limited to its account's value.
pub const WITHDRAWALS_NOT_MET: &str = "Withdrawals were not always met in full";
/// Opening of the assumption that lists cash flows dated after the horizon.
pub const FLOWS_AFTER_HORIZON: &str = "Not simulated, dated after the horizon's last business day";
/// Opening of the assumption added when the household starts with no value.
pub const NO_START_VALUE: &str = "The household starts with no value";
/// Opening of the assumption added when the correlation matrix had to be repaired.
pub const CORRELATION_REPAIRED: &str = "The correlation matrix was repaired";

/// How each warning among a report's assumptions opens ([`Report::warnings`]).
pub const WARNINGS: [&str; 4] = [
    WITHDRAWALS_NOT_MET,
    FLOWS_AFTER_HORIZON,
    NO_START_VALUE,
    CORRELATION_REPAIRED,
];

fn def(key: &str, label: &str, unit: &str, definition: &str) -> MetricDef {
    MetricDef {
        key: key.into(),
        label: label.into(),
        unit: unit.into(),
        definition: definition.into(),
    }
}

/// The definitions of every metric, in report order.
pub fn definitions() -> Vec<MetricDef> {
    vec![
        def("tickets", "Tickets", "count", "Orders billed over the horizon: one ticket per (account, security, side, trading day)."),
        def("ticket_charges", "Ticket charges", "usd", "Commissions billed over the horizon: the schedule's flat + per-share + % of notional per ticket, clamped to its minimum and maximum, plus fractional surcharges."),
        def("regulatory_fees", "Regulatory fees", "usd", "SEC Section 31 fees and FINRA TAF on sales, at the dated rates in force, each rounded up to the cent per ticket."),
        def("spread_impact", "Spread and impact", "usd", "Half-spread × notional on every trade, plus market impact b·σ·|x|^1.5/V^0.5 on exchange-traded trades when the account's schedule models it and the security has an average daily dollar volume V. Economic costs, not billed."),
        def("taxes_paid", "Taxes paid", "usd", "Tax on realized gains over the horizon: each year's gains and losses netted with carry-forwards and the ordinary-income offset, at the profile's marginal rates (a saving is negative). Excludes the horizon's liquidation tax and taxes on dividends and interest."),
        def("harvested_gross", "Harvested losses (gross)", "usd", "Losses of tax-loss-harvest sales against the lots' tax basis, before the sale's own wash-sale adjustment. A loss deferred into a replacement lot by an earlier wash sale is in that lot's basis, so it counts again when the replacement is harvested; gross less washed less lost is the loss the harvests realized."),
        def("harvested_washed", "Harvested losses washed", "usd", "Part of the harvested losses disallowed as wash sales and added to the basis of replacement shares in a taxable account (deferred, not lost)."),
        def("harvested_lost", "Harvested losses lost for good", "usd", "Part of the harvested losses disallowed because the replacement was bought in an IRA, Roth or 401k (Rev. Rul. 2008-5): never deductible."),
        def("disallowed_all", "Losses disallowed, all sales", "usd", "Losses disallowed by the wash-sale rule on every sale in a taxable account — harvests, rebalancing and cash raising alike — whether deferred into replacement shares' basis or lost for good (replacement in an IRA, Roth or 401k). The harvested rows count harvest sales only."),
        def("tax_alpha_before_costs", "Tax alpha before costs", "bps_per_year", "Annualised after-tax return of the policy minus that of the baseline on the same paths, with each policy's trading costs (commissions, regulatory fees, spread, impact) added back to its after-tax terminal wealth at what they cost there, as the break-even fee weighs a ticket: a dollar of cost less its tax deduction (a taxable account's gain is lower; a traditional IRA's value is taxed), plus the growth it forgoes at the target model's expected return. An approximation: the path's own growth and the trades a fee changes (buys sized to the cash left after the ticket) are not undone, so a higher fee still moves it a little (a daily calendar at $3.60 instead of $3.10 a ticket: +0.42 bp/yr, against +0.47 adding costs back at face value). Like every after-tax return here it includes what a policy's different allocation earned (see tracking error): it is not a pure tax effect. Annualised return: the money-weighted return r with W_0 (1+r)^T + Σ F_i (1+r)^(T − t_i) = W_T, W_0 the starting household value (at market, before the tax owed on its unrealized gains and traditional IRA balances, which W_T has paid or deducts: the same W_0 for both policies, so that tax lowers both returns), F_i the cash flows as paid (contributions positive) at t_i years, W_T the after-tax terminal wealth; without cash flows, (W_T / W_0)^(1/T) − 1. Contributions are not counted as return."),
        def("tax_alpha_after_costs", "Tax alpha after costs", "bps_per_year", "Annualised after-tax return of the policy minus that of the baseline on the same paths, all costs included. Both policies pay costs, so it exceeds the figure before costs when the policy costs less than the baseline. It is the mean over paths of a difference of compound annual returns; net benefit (bp/yr) is the mean dollars ÷ starting value ÷ years, which weighs the paths with large dollar differences more, so the two can differ in size and even rank policies differently."),
        def("harvesting_yield", "Harvesting yield (vendor metric)", "bps_per_year", "The figure vendors quote: gross harvested losses ÷ starting household value, per year. It is not a return: a harvested loss lowers basis and defers tax, it does not add wealth one for one."),
        def("turnover", "Turnover", "fraction_per_year", "One-way annual turnover: ½ Σ |trade notional| ÷ average household value ÷ years. Dividend reinvestments are purchases without a ticket and are not counted."),
        def("tracking_error", "Tracking error", "fraction", "Annualised standard deviation of the daily difference between the household's return (excluding flows, taxes and advisory fees) and the target model's return (target weights on each class's primary security), × √(business days per year)."),
        def("avg_drift", "Average drift", "fraction", "Average over days of the largest absolute deviation of a class weight from its target (weights of the investable value)."),
        def("max_drift", "Maximum drift", "fraction", "Largest absolute deviation of a class weight from its target on any day."),
        def("after_tax_wealth", "After-tax terminal wealth", "usd", "Household value at the horizon less the last year's tax on realized gains, the liquidation tax on taxable accounts (or none when holding: step-up), and ordinary tax on traditional IRA / 401k balances; Roth untaxed."),
        def("net_benefit_usd", "Net benefit vs baseline ($)", "usd", "After-tax terminal wealth of the policy minus that of the baseline on the same path."),
        def("net_benefit_bps", "Net benefit vs baseline (bp/yr)", "bps_per_year", "Net benefit ÷ starting household value ÷ years, in basis points."),
        def("trade_days_per_year", "Trading days per year", "per_year", "Days with at least one trade, per year."),
        def("policy_trade_days_per_year", "Policy trading days per year", "per_year", "Days with at least one trade the policy chose — rebalancing, band breach, harvest, partner swap, signal or optimizer; not investing contributions, raising withdrawals or paying taxes — per year. The friction flag's measure: more than 4 is more often than quarterly."),
        def("trades", "Trades", "count", "Orders executed (several orders of a day in the same account, security and side share one ticket). Dividend reinvestments are not counted: the trade list shows them apart."),
    ]
}

/// Summary of the scenario needed to build the report.
pub(crate) struct ReportInputs<'a> {
    pub names: Vec<String>,
    pub baseline: usize,
    pub month_dates: Vec<Date>,
    pub head: Report,
    /// Whether to build the month-end series (percentile fans, cumulative costs).
    pub with_series: bool,
    /// The horizon in years as the per-year metrics divide by it (days ÷ 365.2425).
    pub years_span: f64,
    /// The scenario's cash flows in the horizon, summed (a path pays out less when a
    /// withdrawal exceeds what its account holds).
    pub requested_flows: f64,
    pub _p: std::marker::PhantomData<&'a ()>,
}

fn ann(w_t: f64, w_0: f64, years: f64) -> f64 {
    if w_0 <= 0.0 || w_t <= 0.0 || years <= 0.0 {
        return 0.0;
    }
    libm::pow(w_t / w_0, 1.0 / years) - 1.0
}

/// The annualised money-weighted return (internal rate of return) of a household that
/// starts with `w_0`, receives the cash flows `flows` (`(years after the start, amount)`,
/// contributions positive, withdrawals negative) and ends with `w_t` after `years`: the
/// rate `r` at which `w_0 (1+r)^T + Σ F_i (1+r)^(T − t_i) = w_t`. Without flows it is the
/// compound annual return `(w_t / w_0)^(1/T) − 1`, so contributions are not counted as
/// return. 0 when no rate between −99 % and +1,000 % a year solves it (nothing invested,
/// nothing left), as the report's assumptions say.
pub fn money_weighted_return(w_0: f64, flows: &[(f64, f64)], w_t: f64, years: f64) -> f64 {
    if flows.is_empty() {
        return ann(w_t, w_0, years);
    }
    if years <= 0.0 || !(w_0.is_finite() && w_t.is_finite()) {
        return 0.0;
    }
    // g(r) = value at the horizon of what went in, less what came out; its root.
    let g = |r: f64| -> (f64, f64) {
        let l = libm::log1p(r);
        let (mut v, mut dv) = (0.0, 0.0);
        for &(t, f) in std::iter::once(&(0.0, w_0)).chain(flows) {
            let x = years - t;
            let grown = f * libm::exp(x * l);
            v += grown;
            dv += x * grown / (1.0 + r);
        }
        (v - w_t, dv)
    };
    let (mut lo, mut hi) = (-0.99, 10.0);
    let (g_lo, g_hi) = (g(lo).0, g(hi).0);
    if !(g_lo.is_finite() && g_hi.is_finite()) || g_lo.signum() == g_hi.signum() {
        return 0.0;
    }
    let rising = g_hi > 0.0;
    let scale = w_t.abs().max(w_0.abs()).max(1.0);
    // `ann` is finite (0 when either wealth is not positive), so the start is in the bracket.
    let mut r = ann(w_t, w_0, years).clamp(lo, hi);
    for _ in 0..200 {
        let (v, dv) = g(r);
        if v.abs() <= 1e-10 * scale {
            return r;
        }
        if (v > 0.0) == rising {
            hi = r;
        } else {
            lo = r;
        }
        // A Newton step, or the bracket's midpoint when the step leaves it.
        let step = r - v / dv;
        r = if dv != 0.0 && step > lo && step < hi {
            step
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo <= 1e-15 {
            break;
        }
    }
    if r.is_finite() {
        r
    } else {
        0.0
    }
}

/// Number of metrics in the report (the length of [`definitions`]).
pub const METRICS: usize = 22;

/// The friction flag's trading frequency: a policy that chooses to trade on more days a
/// year than this (quarterly) and loses to the baseline is flagged.
pub const FRICTION_TRADE_DAYS: f64 = 4.0;

/// Whether a policy that trades on `per_year` days a year (its own choices, measured over
/// `span` years of days ÷ 365.2425) trades more often than quarterly over a horizon of
/// `years` whole years: on more than [`FRICTION_TRADE_DAYS`] × `years` days. A quarterly
/// calendar trades on exactly 4 days a nominal year, but a horizon's span in days is
/// rarely a whole number of 365.2425-day years (a year from 2026-11-20 ends on the
/// business day 2027-11-19: 0.9966 years, so 4 days read as 4.014 a year): the count is
/// compared with the nominal horizon, with a margin for the rounding of the mean.
pub fn more_often_than_quarterly(per_year: f64, span: f64, years: u32) -> bool {
    let days = per_year * span;
    let allowed = FRICTION_TRADE_DAYS * f64::from(years);
    days > allowed * (1.0 + 1e-9) + 1e-9
}

/// Every metric of policy `x` on one path, in [`definitions`] order, given the baseline's
/// outcome `y` on the same path and the horizon `t` in years.
pub fn path_metrics(x: &PolicyPath, y: &PolicyPath, t: f64) -> [f64; METRICS] {
    let per_start_year = |v: f64| {
        if x.start_value > 0.0 && t > 0.0 {
            1e4 * v / x.start_value / t
        } else {
            0.0
        }
    };
    [
        x.tickets,
        x.commission,
        x.regulatory,
        x.spread + x.impact,
        x.taxes_paid,
        x.harvest_gross,
        x.harvest_washed,
        x.harvest_lost,
        x.disallowed_all,
        1e4 * (x.annual_return_before_costs - y.annual_return_before_costs),
        1e4 * (x.annual_return - y.annual_return),
        per_start_year(x.harvest_gross),
        if x.avg_value > 0.0 && t > 0.0 {
            0.5 * x.notional / x.avg_value / t
        } else {
            0.0
        },
        x.tracking_error,
        x.avg_drift,
        x.max_drift,
        x.after_tax,
        x.after_tax - y.after_tax,
        per_start_year(x.after_tax - y.after_tax),
        if t > 0.0 { x.trade_days / t } else { 0.0 },
        if t > 0.0 {
            x.policy_trade_days / t
        } else {
            0.0
        },
        x.trades,
    ]
}

/// Builds the report from the paths' aggregates.
pub(crate) fn build(inp: ReportInputs<'_>, acc: &Accumulator) -> Report {
    let np = inp.names.len();
    let b = inp.baseline;
    let paths = acc.len();
    let n = paths.max(1) as f64;
    let mut report = inp.head;
    let defs = definitions();
    debug_assert_eq!(defs.len(), METRICS);
    // The mean net benefit (break-even fee, friction flag) and the mean days a year with a
    // trade the policy chose (friction flag) are those metrics' means.
    let key = |k: &str| defs.iter().position(|d| d.key == k).unwrap_or(METRICS);
    let (net_k, days_k) = (key("net_benefit_usd"), key("policy_trade_days_per_year"));
    let empty = PolicyAgg::default();
    let zero = ExactSum::default();
    let no_values = Distribution::default();
    let mean = |s: &ExactSum| s.value() / n;
    let mut short_flows: Vec<String> = Vec::new();
    for p in 0..np {
        let agg = acc.policies.get(p).unwrap_or(&empty);
        let metrics: Vec<MetricValue> = defs
            .iter()
            .enumerate()
            .map(|(k, d)| {
                let stat = match agg.metrics.get(k) {
                    Some(m) if paths > 0 => {
                        let q = m.dist.quantiles(&[0.5, 0.05, 0.95, 0.0, 1.0]);
                        // The exact sum rounded, then divided, can land an ulp outside
                        // the values (six equal values, a mean below all six): a mean is
                        // never below the smallest value nor above the largest.
                        let (lo, hi) = (q[3], q[4]);
                        let mut mean = mean(&m.sum);
                        if lo.is_finite() && hi.is_finite() && lo <= hi {
                            mean = mean.clamp(lo, hi);
                        }
                        Stat {
                            mean,
                            median: q[0],
                            p5: q[1],
                            p95: q[2],
                        }
                    }
                    _ => Stat::default(),
                };
                MetricValue {
                    key: d.key.clone(),
                    stat,
                }
            })
            .collect();
        let net = mean(agg.metrics.get(net_k).map_or(&zero, |m| &m.sum));
        let trade_days = mean(agg.metrics.get(days_k).map_or(&zero, |m| &m.sum));
        // Over the baseline's, as the firm summary takes them (exact sums: the difference
        // of the means is the mean of the differences).
        let base = acc.policies.get(b).unwrap_or(&empty);
        let (extra_tickets, extra_kinks) = (
            mean(&agg.flat_slope) - mean(&base.flat_slope),
            mean(&agg.flat_offset) - mean(&base.flat_offset),
        );
        let break_even = if p != b {
            break_even(net, extra_tickets, extra_kinks)
        } else {
            None
        };
        let fees = mean(&agg.fees);
        let nna = mean(&agg.flows);
        // Withdrawals are limited to the account's value: say when some were not met.
        if paths > 0 && nna > inp.requested_flows + 0.005_f64.max(1e-9 * inp.requested_flows.abs())
        {
            short_flows.push(format!(
                "{}: net flows of {} on average against {} scheduled",
                inp.names[p],
                crate::household::money(nna),
                crate::household::money(inp.requested_flows)
            ));
        }
        report.policies.push(PolicyReport {
            name: inp.names[p].clone(),
            baseline: p == b,
            metrics,
            break_even_ticket_fee: break_even.map(|x| x.0),
            break_even_wins: break_even.map(|x| x.1),
            flat_slope: mean(&agg.flat_slope),
            flat_offset: mean(&agg.flat_offset),
            ticket_charges_to_nna: (nna > 0.0).then(|| fees / nna),
            net_new_assets: nna,
            friction_flag: more_often_than_quarterly(
                trade_days,
                inp.years_span,
                report.horizon_years,
            ) && net < 0.0
                && p != b,
        });
        // Series.
        let months = if inp.with_series {
            inp.month_dates.len()
        } else {
            0
        };
        let mut s = PolicySeries {
            name: inp.names[p].clone(),
            cumulative_tickets: Vec::with_capacity(months),
            cumulative_fees: Vec::with_capacity(months),
            wealth_p5: Vec::with_capacity(months),
            wealth_p50: Vec::with_capacity(months),
            wealth_p95: Vec::with_capacity(months),
            after_tax_p5: Vec::with_capacity(months),
            after_tax_p50: Vec::with_capacity(months),
            after_tax_p95: Vec::with_capacity(months),
        };
        let qs = [0.05, 0.5, 0.95];
        for m in 0..months {
            s.cumulative_tickets
                .push(mean(agg.monthly_tickets.get(m).unwrap_or(&zero)));
            s.cumulative_fees
                .push(mean(agg.monthly_fees.get(m).unwrap_or(&zero)));
            let w = agg
                .monthly_value
                .get(m)
                .unwrap_or(&no_values)
                .quantiles(&qs);
            s.wealth_p5.push(w[0]);
            s.wealth_p50.push(w[1]);
            s.wealth_p95.push(w[2]);
            let a = agg
                .monthly_after_tax
                .get(m)
                .unwrap_or(&no_values)
                .quantiles(&qs);
            s.after_tax_p5.push(a[0]);
            s.after_tax_p50.push(a[1]);
            s.after_tax_p95.push(a[2]);
        }
        report.series.policies.push(s);
    }
    if inp.with_series {
        report.series.dates = inp.month_dates;
    }
    if !short_flows.is_empty() {
        report.assumptions.push(format!(
            "{WITHDRAWALS_NOT_MET} (a withdrawal is limited to its account's value that day) — {}.",
            short_flows.join("; ")
        ));
    }
    report.definitions = defs;
    if let Some(r) = &acc.recorded {
        report.trades.path = r.path;
        report.trades.policies = inp
            .names
            .iter()
            .cloned()
            .zip(r.policies.iter().cloned())
            .collect();
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Contributions are not return: the money-weighted return is the rate that grows
    /// the start and every flow to the terminal wealth; without flows, the compound rate.
    #[test]
    fn money_weighted_return_counts_flows_as_money_in() {
        let grow = |x: f64, t: f64, r: f64| x * (1.0f64 + r).powf(t);
        // No flows: exactly the compound annual return.
        assert_eq!(
            money_weighted_return(100.0, &[], 121.0, 2.0),
            ann(121.0, 100.0, 2.0)
        );
        // Contributions at 10 % a year: 10 %, where the compound formula reads 84 %.
        let flows = [(0.25, 50.0), (0.5, 100.0), (1.5, 25.0)];
        let w_t = grow(100.0, 2.0, 0.1)
            + flows
                .iter()
                .map(|&(t, f)| grow(f, 2.0 - t, 0.1))
                .sum::<f64>();
        let r = money_weighted_return(100.0, &flows, w_t, 2.0);
        assert!((r - 0.1).abs() < 1e-10, "{r}");
        assert!(ann(w_t, 100.0, 2.0) > 0.3);
        // A withdrawal, and a loss.
        let flows = [(1.0, -40.0)];
        let w_t = grow(100.0, 3.0, -0.05) + grow(-40.0, 2.0, -0.05);
        let r = money_weighted_return(100.0, &flows, w_t, 3.0);
        assert!((r + 0.05).abs() < 1e-10, "{r}");
        // Nothing at the start, contributions only: still defined.
        let flows = [(0.0, 1_000.0), (0.5, 1_000.0)];
        let w_t = grow(1_000.0, 1.0, 0.07) + grow(1_000.0, 0.5, 0.07);
        let r = money_weighted_return(0.0, &flows, w_t, 1.0);
        assert!((r - 0.07).abs() < 1e-10, "{r}");
        // Nothing invested and nothing left: no rate solves it.
        assert_eq!(money_weighted_return(0.0, &[(0.5, -10.0)], 0.0, 1.0), 0.0);
        // A withdrawal that leaves the household owing: a negative terminal wealth still
        // has its rate.
        let flows = [(1.5, -100.0)];
        let w_t = grow(100.0, 2.0, -0.01) + grow(-100.0, 0.5, -0.01);
        assert!(w_t < 0.0);
        let r = money_weighted_return(100.0, &flows, w_t, 2.0);
        assert!((r + 0.01).abs() < 1e-9, "{r}");
    }

    /// The break-even fee zeroes the net benefit on either side: a policy buying more
    /// tickets wins below it, one buying fewer wins above it; equal tickets have none.
    #[test]
    fn break_even_fee_and_side() {
        // Every ticket at $3.10: 47 fewer and $8,366 behind, it wins from about $181.
        let (fee, side) = break_even(-8366.0, -47.0, -47.0 * 3.10).unwrap();
        assert_eq!(side, BreakEvenSide::Above);
        assert!((fee - (3.10 + 8366.0 / 47.0)).abs() < 1e-9);
        // The net benefit at fee G is net − (G − F) · extra: zero at the break-even.
        let at = |g: f64, net: f64, extra: f64| net - (g - 3.10) * extra;
        assert!(at(fee, -8366.0, -47.0).abs() < 1e-9);
        assert!(at(fee + 1.0, -8366.0, -47.0) > 0.0);
        // 100 more tickets and $500 ahead: it wins up to $8.10.
        let (fee, side) = break_even(500.0, 100.0, 310.0).unwrap();
        assert_eq!(side, BreakEvenSide::Below);
        assert!((fee - 8.10).abs() < 1e-12);
        assert!(at(fee - 1.0, 500.0, 100.0) > 0.0);
        // Behind with more tickets: below zero (no fee makes it win).
        assert!(break_even(-1000.0, 100.0, 310.0).unwrap().0 < 0.0);
        assert_eq!(break_even(123.0, 0.0, 0.0), None);
        assert_eq!(break_even(123.0, 4e-16, 0.0), None);
        assert_eq!(break_even(f64::NAN, 1.0, 3.10), None);
        // Kinks that differ (a minimum binding on some tickets): each ticket moves from
        // its own kink, so 10 extra tickets at kinks summing to $40 and $60 ahead break
        // even where 10·F − 40 = 60.
        assert_eq!(break_even(60.0, 10.0, 40.0).unwrap().0, 10.0);
    }

    #[test]
    fn stats_interpolate_between_order_statistics() {
        let xs: Vec<f64> = (0..=20).rev().map(f64::from).collect();
        let s = Stat::of(&xs);
        assert_eq!(s.mean, 10.0);
        assert_eq!(s.median, 10.0);
        assert_eq!(s.p5, 1.0);
        assert_eq!(s.p95, 19.0);
        assert_eq!(Stat::of(&[3.0]).p5, 3.0);
        assert_eq!(Stat::of(&[]), Stat::default());
        assert_eq!(quantile(&[0.0, 10.0], 0.25), 2.5);
    }

    #[test]
    fn a_quarterly_policy_is_not_flagged_on_a_horizon_of_uneven_days() {
        // A year from 2026-11-20 ends on the business day 2027-11-19: 364 days.
        let span = 364.0 / 365.2425;
        assert!(!more_often_than_quarterly(4.0 / span, span, 1));
        let span5 = 1826.0 / 365.2425;
        assert!(!more_often_than_quarterly(20.0 / span5, span5, 5));
        assert!(more_often_than_quarterly(21.0 / span5, span5, 5));
        assert!(more_often_than_quarterly(5.0 / span, span, 1));
        // A mean over paths: 4.5 days in a year is more often than quarterly.
        assert!(more_often_than_quarterly(4.5 / span, span, 1));
    }

    /// Ticket charges ÷ net new assets divides commissions only (regulatory fees are their
    /// own metric): with the same contributions on every policy, each policy's mean
    /// ticket charges over its ratio is the same net new assets.
    #[test]
    fn ticket_charges_to_nna_divides_commissions_only() {
        let s = crate::scenario::Scenario::demo();
        let r = crate::simulate::simulate(
            &s,
            &crate::simulate::SimOptions {
                paths: Some(2),
                years: Some(2),
                ..Default::default()
            },
        )
        .expect("runs");
        let nna: Vec<f64> = r
            .policies
            .iter()
            .map(|p| {
                let charges = p.metric("ticket_charges").expect("metric").mean;
                charges / p.ticket_charges_to_nna.expect("the demo has contributions")
            })
            .collect();
        assert!(r
            .policies
            .iter()
            .any(|p| p.metric("regulatory_fees").unwrap().mean > 0.0));
        for x in &nna {
            assert!((x / nna[0] - 1.0).abs() < 1e-9, "{nna:?}");
        }
    }

    #[test]
    fn every_metric_has_a_unique_key_and_a_definition() {
        let defs = definitions();
        for (i, d) in defs.iter().enumerate() {
            assert!(!d.definition.is_empty() && !d.label.is_empty());
            assert!(defs[..i].iter().all(|e| e.key != d.key), "{}", d.key);
        }
    }
}
