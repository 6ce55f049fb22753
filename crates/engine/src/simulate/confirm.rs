//! The break-even ticket fee confirmed by re-simulation.
//!
//! The report's [`super::PolicyReport::break_even_ticket_fee`] holds the trades fixed: it
//! is where the mean net benefit vs the baseline would cross zero if every ticket paid the
//! new fee and nothing else changed. But trades do react to the fee: the cost-aware optimizer
//! weighs it, every rule cuts its buys to the cash left after the ticket and skips a sale
//! smaller than its ticket, and harvests and swaps net their tickets out of the proceeds.
//! At a fee far from today's the estimate can be far off.
//!
//! [`BreakEvenSearch`] finds the crossing by re-running the policy and the baseline on the
//! same paths (the same seed: common random numbers) with every fee row's flat fee set to
//! a trial fee ([`fee_scenario`]), each trial's own linear estimate proposing the next
//! trial (a Newton step) inside the bracket found so far, a halving of the bracket when it
//! does not. It ends when the crossing is bracketed within a cent (or 0.1 % of the fee),
//! when a trial's net benefit is within a cent of zero, when the policy loses at no fee or wins at
//! [`MAX_FEE`], or after [`MAX_TRIALS`] trials. Each trial's paths can be split between
//! threads or workers ([`Simulation::pair_sums`], [`PairSums::merge`]); the sums are exact,
//! so the search is the same for any split.

use super::report::{break_even, BreakEvenSide};
use super::stats::ExactSum;
use super::{SimError, SimOptions, Simulation};
use crate::scenario::Scenario;
use crate::types::SecurityType;
use serde::{Deserialize, Serialize};

/// The most trials a search runs (the first, at today's fees, included).
pub const MAX_TRIALS: usize = 14;

/// The highest flat fee a search tries, dollars per ticket.
pub const MAX_FEE: f64 = 10_000.0;

/// A search ends when a trial's mean net benefit is within this many dollars of zero, or
/// the crossing is bracketed within this many dollars of fee or [`RELATIVE_TOLERANCE`] of
/// it, whichever is wider (the net benefit jumps where a ticket comes or goes, so on few
/// paths a bracket can narrow no further).
pub const TOLERANCE: f64 = 0.01;

/// See [`TOLERANCE`]: 0.1 % of the fee.
pub const RELATIVE_TOLERANCE: f64 = 1e-3;

/// Whether a bracket `[low, high]` is narrow enough to end a search.
fn narrow(low: f64, high: f64) -> bool {
    high - low <= TOLERANCE.max(RELATIVE_TOLERANCE * high.abs())
}

/// `scenario` with every fee row's flat fee (every schedule, every security type) set to
/// `fee`: what the report's break-even assumes ("every ticket that pays a flat fee today
/// pays that fee instead"; a side a row does not charge stays free, minimums and maximums
/// stay).
pub fn fee_scenario(scenario: &Scenario, fee: f64) -> Scenario {
    let mut s = scenario.clone();
    for sched in &mut s.fee_schedules {
        for t in SecurityType::ALL {
            sched.rows.get_mut(t).flat = fee;
        }
    }
    s
}

/// The sums of one trial's paths for a policy and the baseline, mergeable in any order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PairSums {
    /// Paths summed.
    pub paths: u64,
    /// Σ of the policy's after-tax wealth minus the baseline's (the net benefit).
    pub net: ExactSum,
    /// Σ of the policy's [`super::PolicyPath::flat_slope`] minus the baseline's.
    pub slope: ExactSum,
    /// Σ of the policy's [`super::PolicyPath::flat_offset`] minus the baseline's.
    pub offset: ExactSum,
    /// Σ of the policy's tickets minus the baseline's.
    pub tickets: ExactSum,
}

impl PairSums {
    /// Adds another part of the same trial's paths.
    pub fn merge(&mut self, other: &PairSums) {
        self.paths += other.paths;
        self.net.merge(&other.net);
        self.slope.merge(&other.slope);
        self.offset.merge(&other.offset);
        self.tickets.merge(&other.tickets);
    }

    fn mean(&self, s: &ExactSum) -> f64 {
        s.value() / self.paths.max(1) as f64
    }
}

impl Simulation<'_> {
    /// Runs paths `range` for policy `policy` and the baseline only (scenario indices), and
    /// sums what a break-even trial needs. Each policy's path is exactly its path in
    /// [`Simulation::run_path`].
    pub fn pair_sums(
        &self,
        policy: usize,
        range: std::ops::Range<u64>,
    ) -> Result<PairSums, SimError> {
        let b = self.baseline;
        let mut sums = PairSums::default();
        for path in range {
            let part = self.run_path_part(path, &[policy, b])?;
            let (p, base) = (&part.outcomes[0], &part.outcomes[1]);
            sums.paths += 1;
            sums.net.add(p.after_tax - base.after_tax);
            sums.slope.add(p.flat_slope - base.flat_slope);
            sums.offset.add(p.flat_offset - base.flat_offset);
            sums.tickets.add(p.tickets - base.tickets);
        }
        Ok(sums)
    }
}

/// One trial of a search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// The flat fee on every ticket, dollars; `None` for today's fee schedules.
    pub fee: Option<f64>,
    /// Mean net benefit vs the baseline, dollars at the horizon.
    pub net_benefit: f64,
    /// Mean tickets of the policy minus the baseline's.
    pub extra_tickets: f64,
    /// This trial's own linear estimate of the break-even fee (trades held at this
    /// trial's), `None` when the fee moves no ticket difference.
    pub estimate: Option<f64>,
}

/// What a search found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Confirmed {
    /// The mean net benefit changes sign between two fees (a bracket as narrow as
    /// [`TOLERANCE`] asks) or is within [`TOLERANCE`] of zero at one (`low == high`). The policy wins on `wins`'s
    /// side.
    Crossing {
        /// The highest fee tried on the lower side, dollars.
        low: f64,
        /// The lowest fee tried on the upper side, dollars.
        high: f64,
        /// The side on which the policy beats the baseline.
        wins: BreakEvenSide,
    },
    /// The policy does not beat the baseline even at no flat fee.
    NeverWins,
    /// The policy beats the baseline at every fee from no flat fee to [`MAX_FEE`].
    AlwaysWins,
    /// The policy beats the baseline at fees up to [`MAX_FEE`] and loses at none tried.
    WinsUpToMax,
    /// The policy loses at every fee up to [`MAX_FEE`] but wins at none tried.
    LosesUpToMax,
    /// The fee moves no ticket difference at today's fees: nothing to confirm.
    NotApplicable,
    /// [`MAX_TRIALS`] trials ran without bracketing the crossing as narrowly as
    /// [`TOLERANCE`] asks: the narrowest bracket found (the net benefit jumps where trades
    /// change), an end `None` when no fee on that side was tried.
    Unresolved {
        /// The highest fee tried on the lower side, dollars.
        low: Option<f64>,
        /// The lowest fee tried on the upper side, dollars.
        high: Option<f64>,
        /// The side on which the policy beats the baseline.
        wins: BreakEvenSide,
    },
    /// A trial's mean net benefit is not a number (a path's wealth was not finite): the
    /// search stopped there.
    NotANumber {
        /// The trial's flat fee, dollars (`None`: today's schedules).
        fee: Option<f64>,
    },
}

/// The result of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakEvenCheck {
    /// The policy.
    pub policy: String,
    /// The baseline.
    pub baseline: String,
    /// Paths of each trial.
    pub paths: u64,
    /// The report's estimate (the first trial's: today's fees, trades held).
    pub estimate: Option<f64>,
    /// What the trials found.
    pub confirmed: Confirmed,
    /// Every trial, in the order run.
    pub trials: Vec<Trial>,
}

impl BreakEvenCheck {
    /// What the search found, in one sentence an advisor can read out.
    ///
    /// ```
    /// use tollbooth_engine::simulate::confirm::{BreakEvenCheck, Confirmed};
    /// use tollbooth_engine::simulate::BreakEvenSide;
    /// let check = BreakEvenCheck {
    ///     policy: "Daily TLH".into(),
    ///     baseline: "Quarterly calendar".into(),
    ///     paths: 1,
    ///     estimate: Some(144.89),
    ///     confirmed: Confirmed::Crossing { low: 74.65, high: 74.73, wins: BreakEvenSide::Below },
    ///     trials: Vec::new(),
    /// };
    /// assert_eq!(
    ///     check.conclusion(),
    ///     "Daily TLH beats Quarterly calendar at flat fees up to $74.65 and not from $74.73 a ticket."
    /// );
    /// ```
    pub fn conclusion(&self) -> String {
        use crate::household::money;
        let (p, b) = (&self.policy, &self.baseline);
        match self.confirmed {
            Confirmed::Crossing { low, high, wins } if low == high => match wins {
                BreakEvenSide::Below => {
                    format!("{p} beats {b} at flat fees up to {} a ticket.", money(low))
                }
                BreakEvenSide::Above => {
                    format!("{p} beats {b} at flat fees from {} a ticket.", money(low))
                }
            },
            Confirmed::Crossing { low, high, wins } => match wins {
                BreakEvenSide::Below => format!(
                    "{p} beats {b} at flat fees up to {} and not from {} a ticket.",
                    money(low),
                    money(high)
                ),
                BreakEvenSide::Above => format!(
                    "{p} beats {b} at flat fees from {} a ticket, not at {}.",
                    money(high),
                    money(low)
                ),
            },
            Confirmed::NeverWins => format!("{p} does not beat {b} even with no flat fee."),
            Confirmed::AlwaysWins => format!("{p} beats {b} at any flat fee, even none."),
            Confirmed::WinsUpToMax => format!(
                "{p} beats {b} at every flat fee tried, up to {} a ticket.",
                money(MAX_FEE)
            ),
            Confirmed::LosesUpToMax => format!(
                "{p} loses to {b} at every flat fee tried, up to {} a ticket.",
                money(MAX_FEE)
            ),
            Confirmed::NotApplicable => format!(
                "{p} buys as many fee-paying tickets as {b}: the flat fee does not move the difference."
            ),
            Confirmed::Unresolved { low, high, .. } => match (low, high) {
                (Some(low), Some(high)) => format!(
                    "Not settled in {MAX_TRIALS} re-runs: {p}'s mean net benefit vs {b} changes sign between {} and {} a ticket (it jumps where trades change).",
                    money(low),
                    money(high)
                ),
                (Some(low), None) => format!(
                    "Not settled in {MAX_TRIALS} re-runs: {p}'s mean net benefit vs {b} keeps its sign at {} a ticket; the change is above.",
                    money(low)
                ),
                (None, Some(high)) => format!(
                    "Not settled in {MAX_TRIALS} re-runs: {p}'s mean net benefit vs {b} keeps its sign at {} a ticket; the change is below.",
                    money(high)
                ),
                (None, None) => format!("Not settled in {MAX_TRIALS} re-runs."),
            },
            Confirmed::NotANumber { fee } => format!(
                "A re-run at {} gave no finite net benefit for {p} vs {b}: the search stopped.",
                fee.map_or_else(|| "today's fees".to_string(), |f| format!("{} a ticket", money(f)))
            ),
        }
    }
}

/// A break-even search, one trial at a time: [`BreakEvenSearch::next_fee`] says which
/// scenario to run next ([`fee_scenario`] of it, or today's for the first trial), the
/// caller runs its paths ([`Simulation::pair_sums`], split as it likes) and hands the sums
/// to [`BreakEvenSearch::record`].
#[derive(Debug, Clone)]
pub struct BreakEvenSearch {
    policy: String,
    baseline: String,
    paths: u64,
    trials: Vec<Trial>,
    /// The side on which the policy wins (from the first trial).
    wins: Option<BreakEvenSide>,
    /// Highest fee tried on the lower side of the crossing, lowest on the upper side.
    low: Option<f64>,
    high: Option<f64>,
    next: Option<f64>,
    done: Option<Confirmed>,
}

impl BreakEvenSearch {
    /// A search for `policy` (a name of `scenario`'s policies, not the baseline) over
    /// `paths` paths.
    pub fn new(scenario: &Scenario, policy: &str, paths: u64) -> Result<Self, SimError> {
        if !scenario.policies.iter().any(|p| p.name == policy) || policy == scenario.baseline {
            return Err(SimError::NotAPolicy {
                name: policy.to_string(),
            });
        }
        Ok(BreakEvenSearch {
            policy: policy.to_string(),
            baseline: scenario.baseline.clone(),
            paths,
            trials: Vec::new(),
            wins: None,
            low: None,
            high: None,
            next: None,
            done: None,
        })
    }

    /// The scenario index of the searched policy.
    pub fn policy_index(&self, scenario: &Scenario) -> Option<usize> {
        scenario.policies.iter().position(|p| p.name == self.policy)
    }

    /// Whether the search has ended.
    pub fn is_done(&self) -> bool {
        self.done.is_some()
    }

    /// The next trial's fee: `None` before the first trial (today's fee schedules) and
    /// once the search has ended ([`BreakEvenSearch::is_done`]).
    pub fn next_fee(&self) -> Option<f64> {
        self.next
    }

    /// Records the sums of the trial [`BreakEvenSearch::next_fee`] asked for, and decides
    /// the next.
    pub fn record(&mut self, sums: &PairSums) {
        if self.done.is_some() {
            return;
        }
        let fee = self.next;
        let net = sums.mean(&sums.net);
        let slope = sums.mean(&sums.slope);
        let offset = sums.mean(&sums.offset);
        let estimate = break_even(net, slope, offset).map(|x| x.0);
        self.trials.push(Trial {
            fee,
            net_benefit: net,
            extra_tickets: sums.mean(&sums.tickets),
            estimate,
        });
        if !net.is_finite() {
            self.done = Some(Confirmed::NotANumber { fee });
            return;
        }
        let Some(fee) = fee else {
            // Today's fees: the report's estimate, and the side on which the policy wins.
            match break_even(net, slope, offset) {
                Some((f, side)) => {
                    self.wins = Some(side);
                    self.next = Some(f.clamp(0.0, MAX_FEE));
                }
                None => self.done = Some(Confirmed::NotApplicable),
            }
            return;
        };
        let wins = self.wins.unwrap_or(BreakEvenSide::Below);
        // Below: the policy wins at low fees (net falls with the fee); Above: at high ones.
        let lower_side = match wins {
            BreakEvenSide::Below => net > 0.0,
            BreakEvenSide::Above => net < 0.0,
        };
        if net.abs() <= TOLERANCE {
            self.done = Some(Confirmed::Crossing {
                low: fee,
                high: fee,
                wins,
            });
            return;
        }
        if lower_side {
            self.low = Some(self.low.map_or(fee, |l| l.max(fee)));
        } else {
            self.high = Some(self.high.map_or(fee, |h| h.min(fee)));
        }
        match (self.low, self.high) {
            (Some(l), Some(h)) if narrow(l, h) => {
                self.done = Some(Confirmed::Crossing {
                    low: l,
                    high: h,
                    wins,
                });
                return;
            }
            (None, Some(h)) if h <= 0.0 => {
                self.done = Some(match wins {
                    BreakEvenSide::Below => Confirmed::NeverWins,
                    BreakEvenSide::Above => Confirmed::AlwaysWins,
                });
                return;
            }
            (Some(l), None) if l >= MAX_FEE => {
                self.done = Some(match wins {
                    BreakEvenSide::Below => Confirmed::WinsUpToMax,
                    BreakEvenSide::Above => Confirmed::LosesUpToMax,
                });
                return;
            }
            _ => {}
        }
        if self.trials.len() >= MAX_TRIALS {
            self.done = Some(Confirmed::Unresolved {
                low: self.low,
                high: self.high,
                wins,
            });
            return;
        }
        // The next fee: this trial's Newton step, kept strictly inside the bracket (and
        // away from fees already tried); else the bracket's middle; else a step outwards.
        let (lo, hi) = (self.low.unwrap_or(0.0), self.high.unwrap_or(MAX_FEE));
        let newton = estimate.filter(|f| f.is_finite());
        let inside = |f: f64| {
            f > lo + TOLERANCE / 2.0
                && f < hi - TOLERANCE / 2.0
                && !self.trials.iter().any(|t| t.fee == Some(f))
        };
        let tried = |f: f64| self.trials.iter().any(|t| t.fee == Some(f));
        let next = match newton.map(|f| f.clamp(0.0, MAX_FEE)) {
            Some(f) if inside(f) => f,
            // The estimate lies past an end of the range not tried yet: try that end, which
            // settles "never wins" / "wins up to the most" in one trial.
            Some(f) if f <= lo && self.low.is_none() && !tried(0.0) => 0.0,
            Some(f) if f >= hi && self.high.is_none() && !tried(MAX_FEE) => MAX_FEE,
            _ => match (self.low, self.high) {
                (Some(l), Some(h)) => 0.5 * (l + h),
                // Only the lower side seen: the crossing is higher.
                (Some(l), None) => (2.0 * l).max(l + 1.0).min(MAX_FEE),
                // Only the upper side seen: the crossing is lower.
                (None, Some(h)) => {
                    if h <= 1.0 {
                        0.0
                    } else {
                        0.5 * h
                    }
                }
                (None, None) => 0.0,
            },
        };
        self.next = Some(next);
    }

    /// The result so far (final once [`BreakEvenSearch::is_done`]).
    pub fn result(&self) -> BreakEvenCheck {
        let wins = self.wins.unwrap_or(BreakEvenSide::Below);
        BreakEvenCheck {
            policy: self.policy.clone(),
            baseline: self.baseline.clone(),
            paths: self.paths,
            estimate: self.trials.first().and_then(|t| t.estimate),
            confirmed: self.done.unwrap_or(Confirmed::Unresolved {
                low: self.low,
                high: self.high,
                wins,
            }),
            trials: self.trials.clone(),
        }
    }
}

/// Confirms `policy`'s break-even ticket fee by re-simulation on one thread (see the
/// [module documentation](self)); `options` as for [`super::simulate`].
pub fn confirm_break_even(
    scenario: &Scenario,
    policy: &str,
    options: &SimOptions,
) -> Result<BreakEvenCheck, SimError> {
    confirm_break_even_with(scenario, policy, options, |sim, pi| {
        sim.pair_sums(pi, 0..sim.paths())
    })
}

/// [`confirm_break_even`] with each trial's paths summed by `trial` (given the trial's
/// simulation, which records no trade list, and the policy's index): a caller that splits
/// the paths between threads passes its own.
pub fn confirm_break_even_with<E: From<SimError>>(
    scenario: &Scenario,
    policy: &str,
    options: &SimOptions,
    mut trial: impl FnMut(&Simulation<'_>, usize) -> Result<PairSums, E>,
) -> Result<BreakEvenCheck, E> {
    let quiet = SimOptions {
        record_path: Some(u64::MAX),
        ..options.clone()
    };
    let first = Simulation::new(scenario, &quiet)?;
    let mut search = BreakEvenSearch::new(scenario, policy, first.paths())?;
    let pi = search
        .policy_index(scenario)
        .ok_or_else(|| SimError::NotAPolicy {
            name: policy.to_string(),
        })?;
    search.record(&trial(&first, pi)?);
    while let (false, Some(fee)) = (search.is_done(), search.next_fee()) {
        let s = fee_scenario(scenario, fee);
        let sim = Simulation::new(&s, &quiet)?;
        search.record(&trial(&sim, pi)?);
    }
    Ok(search.result())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::simulate;

    /// Sums whose mean is `net` with the linear terms of `extra` tickets at `fee`.
    fn sums(net: f64, extra: f64, fee: f64) -> PairSums {
        let mut s = PairSums {
            paths: 1,
            ..PairSums::default()
        };
        s.net.add(net);
        s.slope.add(extra);
        s.offset.add(extra * fee);
        s.tickets.add(extra);
        s
    }

    /// Runs a search against `net(fee)` with `extra(fee)` extra tickets; today's fee is
    /// `today`.
    fn search(today: f64, net: impl Fn(f64) -> f64, extra: impl Fn(f64) -> f64) -> BreakEvenCheck {
        let s = Scenario::demo();
        let name = s
            .policies
            .iter()
            .find(|p| p.name != s.baseline)
            .unwrap()
            .name
            .clone();
        let mut search = BreakEvenSearch::new(&s, &name, 1).unwrap();
        search.record(&sums(net(today), extra(today), today));
        while let (false, Some(fee)) = (search.is_done(), search.next_fee()) {
            search.record(&sums(net(fee), extra(fee), fee));
        }
        search.result()
    }

    #[test]
    fn a_linear_net_benefit_is_confirmed_on_the_first_trial() {
        // 10 extra tickets, +$400 at $3.10: zero at $43.10, where the first trial lands.
        let r = search(3.10, |f| 400.0 - 10.0 * (f - 3.10), |_| 10.0);
        assert!(
            matches!(r.confirmed, Confirmed::Crossing { low, high, wins: BreakEvenSide::Below }
                if (low - 43.10).abs() < 1e-9 && low == high),
            "{r:?}"
        );
        assert_eq!(r.trials.len(), 2);
        assert!((r.estimate.unwrap() - 43.10).abs() < 1e-9);
    }

    #[test]
    fn trades_that_react_to_the_fee_move_the_crossing() {
        // The policy sheds extra tickets as the fee rises (one fewer per $4), and the
        // net benefit jumps as each goes: the true crossing is far below the first
        // estimate of $43.10.
        let extra = |f: f64| (10.0 - (f / 4.0).floor()).max(0.0);
        let net = |f: f64| 400.0 - 60.0 * (f / 4.0).floor() - extra(f) * (f - 3.10);
        let r = search(3.10, net, extra);
        let Confirmed::Crossing { low, high, wins } = r.confirmed else {
            panic!("{r:?}");
        };
        assert_eq!(wins, BreakEvenSide::Below);
        if low == high {
            assert!(net(low).abs() <= TOLERANCE, "{r:?}");
        } else {
            assert!(net(low) > 0.0 && net(high) < 0.0, "{r:?}");
        }
        assert!(narrow(low, high) && low < 43.10 * 0.6, "{r:?}");
        assert!(r.trials.len() <= MAX_TRIALS);
    }

    #[test]
    fn the_ends_of_the_fee_range_are_reported() {
        // Loses even at no fee (the estimate is negative).
        let r = search(3.10, |f| -100.0 - 10.0 * f, |_| 10.0);
        assert_eq!(r.confirmed, Confirmed::NeverWins, "{r:?}");
        // Fewer tickets than the baseline and ahead already at no fee.
        let r = search(3.10, |f| 50.0 + 10.0 * f, |_| -10.0);
        assert_eq!(r.confirmed, Confirmed::AlwaysWins, "{r:?}");
        // Wins far beyond any fee tried.
        let r = search(3.10, |f| 1e9 - f, |_| 1.0);
        assert_eq!(r.confirmed, Confirmed::WinsUpToMax, "{r:?}");
        // As many tickets as the baseline: nothing to confirm.
        let r = search(3.10, |_| 100.0, |_| 0.0);
        assert_eq!(r.confirmed, Confirmed::NotApplicable, "{r:?}");
    }

    /// An estimate past an end not yet tried sends the search to that end: a policy that
    /// loses everywhere below the first trial is found to lose at no fee, not bracketed
    /// against a fee never run.
    #[test]
    fn an_estimate_past_an_untried_end_tries_that_end() {
        // Wins at today's $3.10 by a hair with +1 ticket (estimate $3.20), loses at $3.20
        // by a lot with +200 tickets, whose estimate is far below zero.
        let net = |f: f64| if f <= 3.10 { 0.10 } else { -1e6 - f };
        let extra = |f: f64| if f <= 3.10 { 1.0 } else { 200.0 };
        let r = search(3.10, net, extra);
        // At $0 it wins: the crossing lies between $0 and $3.20.
        assert!(r.trials.iter().any(|t| t.fee == Some(0.0)), "{r:?}");
        // The crossing is bracketed by fees actually run, on either side of $3.10.
        let at = |f: f64| {
            r.trials
                .iter()
                .find(|t| t.fee == Some(f))
                .map(|t| t.net_benefit)
        };
        match r.confirmed {
            Confirmed::Crossing { low, high, .. }
            | Confirmed::Unresolved {
                low: Some(low),
                high: Some(high),
                ..
            } => {
                assert!(at(low).unwrap() > 0.0 && at(high).unwrap() < 0.0, "{r:?}");
                assert!(low <= 3.10 && high > 3.10, "{r:?}");
            }
            other => panic!("{other:?}"),
        }
        // The first trial's estimate above the range: the most is tried next.
        let r = search(3.10, |f| 1e12 - f, |_| 1e-6);
        assert_eq!(r.trials.get(1).and_then(|t| t.fee), Some(MAX_FEE), "{r:?}");
        assert_eq!(r.confirmed, Confirmed::WinsUpToMax);
        // Losing everywhere, the first re-run pointing below zero: $0 next, and "never".
        let r = search(3.10, |f| -5.0 - f, |_| 1.0);
        assert_eq!(r.trials.get(1).and_then(|t| t.fee), Some(0.0), "{r:?}");
        assert_eq!(r.confirmed, Confirmed::NeverWins);
    }

    /// Above: a policy with fewer tickets than the baseline wins at high fees.
    #[test]
    fn a_policy_with_fewer_tickets_wins_above_the_crossing() {
        // 10 fewer tickets, −$400 at $3.10: zero at $43.10.
        let r = search(3.10, |f| -400.0 + 10.0 * (f - 3.10), |_| -10.0);
        assert!(
            matches!(r.confirmed, Confirmed::Crossing { low, wins: BreakEvenSide::Above, .. }
                if (low - 43.10).abs() < 1e-9),
            "{r:?}"
        );
        assert!(
            r.conclusion().contains("at flat fees from $43.10"),
            "{}",
            r.conclusion()
        );
        let r = search(3.10, |f| -1e9 + f, |_| -1.0);
        assert_eq!(r.confirmed, Confirmed::LosesUpToMax, "{r:?}");
    }

    #[test]
    fn a_net_benefit_that_is_not_a_number_stops_the_search() {
        let r = search(3.10, |f| if f <= 3.10 { 100.0 } else { f64::NAN }, |_| 10.0);
        assert!(
            matches!(r.confirmed, Confirmed::NotANumber { fee: Some(_) }),
            "{r:?}"
        );
        assert!(r.conclusion().contains("no finite net benefit"));
    }

    #[test]
    fn the_search_is_the_report_s_estimate_refined_by_re_simulation() {
        let s = Scenario::demo();
        let options = SimOptions {
            paths: Some(1),
            years: Some(2),
            ..SimOptions::default()
        };
        let report = simulate(&s, &options).unwrap();
        let name = "Daily TLH (household guard)";
        let r = confirm_break_even(&s, name, &options).unwrap();
        // The first trial is today's fees: the report's estimate and net benefit.
        let p = report.policy(name).unwrap();
        assert_eq!(r.estimate, p.break_even_ticket_fee);
        let net = p.metric("net_benefit_usd").unwrap().mean;
        assert!((r.trials[0].net_benefit - net).abs() <= 1e-9 * net.abs().max(1.0));
        // Every later trial is a re-simulation at its fee, and the bracket's ends are
        // trials on either side of zero.
        let at = |f: f64| r.trials.iter().find(|t| t.fee == Some(f)).unwrap();
        match r.confirmed {
            Confirmed::Crossing { low, high, wins }
            | Confirmed::Unresolved {
                low: Some(low),
                high: Some(high),
                wins,
            } => {
                assert_eq!(Some(wins), p.break_even_wins);
                let (lo, hi) = (at(low).net_benefit, at(high).net_benefit);
                match wins {
                    BreakEvenSide::Below => assert!(lo > 0.0 && (hi < 0.0 || low == high)),
                    BreakEvenSide::Above => assert!(lo < 0.0 && (hi > 0.0 || low == high)),
                }
                // A trial re-run alone gives its figure again (same paths, same seed).
                let again = Simulation::new(&fee_scenario(&s, low), &options)
                    .unwrap()
                    .pair_sums(
                        s.policies.iter().position(|p| p.name == name).unwrap(),
                        0..1,
                    )
                    .unwrap();
                assert_eq!(again.net.value(), at(low).net_benefit);
            }
            other => panic!("{other:?}"),
        }
    }
}
