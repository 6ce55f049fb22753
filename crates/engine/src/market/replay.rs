//! Replaying a user-supplied return series instead of Monte Carlo.

use super::{Market, MarketError, MarketPath, Step};
use crate::date::Date;

/// A historical or user-supplied series of daily returns, replayed step by step.
///
/// Row `t` holds the simple returns from the previous row's date (or the start) to
/// `dates[t]`. With [`ReplayMarket::from_returns`] the returns are taken as total
/// returns and no dividend is paid; with [`ReplayMarket::from_returns_and_dividends`] the
/// returns are price returns and dividends are paid as given.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayMarket {
    start: Date,
    dates: Vec<Date>,
    returns: Vec<f64>,
    dividends: Option<Vec<f64>>,
    zeros: Vec<f64>,
    n: usize,
}

fn flatten(
    what: &'static str,
    rows: &[Vec<f64>],
    n: usize,
    valid: fn(f64) -> bool,
    reason: &'static str,
) -> Result<Vec<f64>, MarketError> {
    let mut out = Vec::with_capacity(rows.len() * n);
    for (row, r) in rows.iter().enumerate() {
        if r.len() != n {
            return Err(MarketError::RowLength {
                what,
                row,
                len: r.len(),
                expected: n,
            });
        }
        for (col, &v) in r.iter().enumerate() {
            if !(v.is_finite() && valid(v)) {
                return Err(MarketError::BadValue {
                    what,
                    row,
                    col,
                    value: v,
                    reason,
                });
            }
        }
        out.extend_from_slice(r);
    }
    Ok(out)
}

impl ReplayMarket {
    /// A replay of `returns` (T rows × n securities of simple total returns) on `dates`
    /// (strictly increasing). The start date is the day before the first date.
    pub fn from_returns(
        dates: Vec<Date>,
        returns: &[Vec<f64>],
    ) -> Result<ReplayMarket, MarketError> {
        if dates.is_empty() || returns.is_empty() {
            return Err(MarketError::EmptySeries);
        }
        if dates.len() != returns.len() {
            return Err(MarketError::SeriesLength {
                dates: dates.len(),
                rows: returns.len(),
                what: "returns",
            });
        }
        for i in 1..dates.len() {
            if dates[i] <= dates[i - 1] {
                return Err(MarketError::DatesNotIncreasing {
                    index: i,
                    date: dates[i],
                    prev: i - 1,
                    prev_date: dates[i - 1],
                });
            }
        }
        let n = returns[0].len();
        let flat = flatten(
            "returns",
            returns,
            n,
            |v| v > -1.0,
            "must be a finite return above -1 (-100 %)",
        )?;
        Ok(ReplayMarket {
            start: dates[0].add_days(-1),
            dates,
            returns: flat,
            dividends: None,
            zeros: vec![0.0; n],
            n,
        })
    }

    /// A replay of price `returns` with `dividends` (cash per dollar of value, ≥ 0), both
    /// T × n, on `dates`.
    pub fn from_returns_and_dividends(
        dates: Vec<Date>,
        returns: &[Vec<f64>],
        dividends: &[Vec<f64>],
    ) -> Result<ReplayMarket, MarketError> {
        let mut m = ReplayMarket::from_returns(dates, returns)?;
        if dividends.len() != m.dates.len() {
            return Err(MarketError::SeriesLength {
                dates: m.dates.len(),
                rows: dividends.len(),
                what: "dividends",
            });
        }
        m.dividends = Some(flatten(
            "dividends",
            dividends,
            m.n,
            |v| v >= 0.0,
            "must be a finite amount at least 0",
        )?);
        Ok(m)
    }

    /// Sets the valuation date before the first step (default: the day before it).
    pub fn with_start(mut self, start: Date) -> Result<ReplayMarket, MarketError> {
        if start >= self.dates[0] {
            return Err(MarketError::DatesNotIncreasing {
                index: 0,
                date: self.dates[0],
                prev: 0,
                prev_date: start,
            });
        }
        self.start = start;
        Ok(self)
    }

    /// The replay as a path (the series has a single path).
    pub fn replay(&self) -> ReplayPath<'_> {
        ReplayPath {
            market: self,
            pos: 0,
        }
    }
}

impl Market for ReplayMarket {
    type Path<'a> = ReplayPath<'a>;

    /// The series itself: `seed` and `path_index` are ignored.
    fn path(&self, _seed: u64, _path_index: u64) -> ReplayPath<'_> {
        self.replay()
    }

    fn start(&self) -> Date {
        self.start
    }

    fn dates(&self) -> &[Date] {
        &self.dates
    }

    fn n_securities(&self) -> usize {
        self.n
    }
}

/// A pass over a [`ReplayMarket`].
#[derive(Debug, Clone)]
pub struct ReplayPath<'a> {
    market: &'a ReplayMarket,
    pos: usize,
}

impl MarketPath for ReplayPath<'_> {
    fn n_securities(&self) -> usize {
        self.market.n
    }

    fn n_steps(&self) -> usize {
        self.market.dates.len()
    }

    fn next_step(&mut self) -> Option<Step<'_>> {
        let m = self.market;
        let index = self.pos;
        let date = *m.dates.get(index)?;
        self.pos += 1;
        let range = index * m.n..(index + 1) * m.n;
        Some(Step {
            index,
            date,
            returns: &m.returns[range.clone()],
            dividends: match &m.dividends {
                Some(d) => &d[range],
                None => &m.zeros,
            },
        })
    }
}
