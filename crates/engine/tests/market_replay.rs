//! Replaying a user-supplied return series through the same trait as Monte Carlo.

use tollbooth_engine::date::Date;
use tollbooth_engine::market::{Market, MarketError, MarketPath, ReplayMarket};

fn dates(n: usize) -> Vec<Date> {
    let mut d = Date::from_ymd(2025, 12, 31).unwrap();
    (0..n)
        .map(|_| {
            d = d.next_business_day();
            d
        })
        .collect()
}

/// A generic consumer, as the simulator will be: compounds every security.
fn compound<M: Market>(m: &M) -> Vec<f64> {
    let mut path = m.path(123, 9);
    let mut g = vec![1.0; m.n_securities()];
    while let Some(s) = path.next_step() {
        for (g, (r, d)) in g.iter_mut().zip(s.returns.iter().zip(s.dividends)) {
            *g *= 1.0 + r + d;
        }
    }
    g
}

#[test]
fn replays_the_series_exactly() {
    let rets = vec![vec![0.01, -0.02], vec![0.03, 0.0], vec![-0.5, 0.1]];
    let m = ReplayMarket::from_returns(dates(3), &rets).unwrap();
    // The day before the first date (2026-01-02: New Year's Day is a holiday).
    assert_eq!(m.start(), Date::from_ymd(2026, 1, 1).unwrap());
    let mut p = m.replay();
    assert_eq!(p.n_steps(), 3);
    assert_eq!(p.n_securities(), 2);
    let mut i = 0;
    while let Some(s) = p.next_step() {
        assert_eq!(s.index, i);
        assert_eq!(s.date, dates(3)[i]);
        assert_eq!(s.returns, &rets[i][..]);
        assert_eq!(s.dividends, &[0.0, 0.0]);
        i += 1;
    }
    assert_eq!(i, 3);
    let g = compound(&m);
    assert_eq!(g[0], 1.01 * 1.03 * 0.5);
}

#[test]
fn dividends_are_replayed_when_given() {
    let rets = vec![vec![0.0], vec![0.0]];
    let divs = vec![vec![0.0], vec![0.01]];
    let m = ReplayMarket::from_returns_and_dividends(dates(2), &rets, &divs).unwrap();
    assert_eq!(compound(&m), vec![1.01]);
    let bad = vec![vec![0.0], vec![-0.01]];
    let e = ReplayMarket::from_returns_and_dividends(dates(2), &rets, &bad).unwrap_err();
    assert!(e.to_string().contains("dividends[1][0]"), "{e}");
}

#[test]
fn bad_series_are_rejected_with_the_place() {
    let e = ReplayMarket::from_returns(dates(2), &[vec![0.0]]).unwrap_err();
    assert_eq!(
        e,
        MarketError::SeriesLength {
            dates: 2,
            rows: 1,
            what: "returns"
        }
    );
    let mut d = dates(3);
    d.swap(1, 2);
    let e = ReplayMarket::from_returns(d, &[vec![0.0], vec![0.0], vec![0.0]]).unwrap_err();
    assert!(matches!(
        e,
        MarketError::DatesNotIncreasing { index: 2, .. }
    ));
    let e = ReplayMarket::from_returns(dates(2), &[vec![0.0, 0.1], vec![0.0]]).unwrap_err();
    assert!(e.to_string().contains("returns[1] has 1 entries"), "{e}");
    let e = ReplayMarket::from_returns(dates(2), &[vec![0.0], vec![-1.0]]).unwrap_err();
    assert!(e.to_string().contains("returns[1][0]"), "{e}");
    let e = ReplayMarket::from_returns(dates(1), &[vec![f64::NAN]]).unwrap_err();
    assert!(e.to_string().contains("returns[0][0]"), "{e}");
    assert_eq!(
        ReplayMarket::from_returns(vec![], &[]).unwrap_err(),
        MarketError::EmptySeries
    );
    let m = ReplayMarket::from_returns(dates(1), &[vec![0.0]]).unwrap();
    assert!(m.clone().with_start(dates(1)[0]).is_err());
    assert!(m.with_start(Date::from_ymd(2025, 6, 1).unwrap()).is_ok());
}
