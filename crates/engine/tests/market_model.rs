//! The Monte Carlo market: determinism, calendar, moments, partners, shocks, errors.
#![allow(clippy::needless_range_loop)] // matrices read best with indices

use tollbooth_engine::date::Date;
use tollbooth_engine::market::{
    fingerprint, log_volatility, AssetClass, Assumptions, Market, MarketError, MarketModel,
    MarketPath, SecuritySpec, Shocks, STEPS_PER_YEAR,
};

/// FNV-1a of the first 1,000 steps of path 0, seed 42, in the reference market. The
/// browser build must print the same value.
const FINGERPRINT_SEED_42_1000: u64 = 0x02c8_2dfa_22a9_457b;

fn start() -> Date {
    Date::from_ymd(2026, 1, 2).unwrap()
}

fn collect(model: &MarketModel, seed: u64, p: u64) -> Vec<u64> {
    let mut path = model.path(seed, p);
    let mut bits = Vec::new();
    while let Some(s) = path.next_step() {
        bits.extend(s.returns.iter().chain(s.dividends).map(|v| v.to_bits()));
    }
    bits
}

fn small_model(years: u32) -> MarketModel {
    let a = Assumptions::with_defaults(start(), years);
    let secs = [
        SecuritySpec::new("VTI", 0, 0.02, 0.013),
        SecuritySpec::new("ITOT", 0, 0.02, 0.013).partner_of(0),
        SecuritySpec::new("AGG", 4, 0.01, 0.04),
    ];
    MarketModel::new(&a, &secs).unwrap()
}

#[test]
fn fingerprint_is_pinned() {
    let f = fingerprint(42, 1000);
    assert_eq!(
        f, FINGERPRINT_SEED_42_1000,
        "fingerprint(42, 1000) = {f:#018x}"
    );
    assert_ne!(fingerprint(43, 1000), f);
    assert_ne!(fingerprint(42, 999), f);
}

#[test]
fn same_seed_same_bits_and_paths_are_independent_streams() {
    let m = small_model(2);
    let p3 = collect(&m, 7, 3);
    assert_eq!(p3, collect(&m, 7, 3));
    // Drawing other paths first changes nothing.
    for p in 0..3 {
        let _ = collect(&m, 7, p);
    }
    assert_eq!(p3, collect(&m, 7, 3));
    // Split across threads in any order: identical.
    let from_threads: Vec<Vec<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4u64)
            .rev()
            .map(|p| {
                let m = &m;
                s.spawn(move || (p, collect(m, 7, p)))
            })
            .collect();
        let mut out: Vec<(u64, Vec<u64>)> =
            handles.into_iter().map(|h| h.join().unwrap()).collect();
        out.sort_by_key(|(p, _)| *p);
        out.into_iter().map(|(_, b)| b).collect()
    });
    assert_eq!(from_threads[3], p3);
    assert_ne!(from_threads[0], p3);
    assert_ne!(collect(&m, 8, 3), p3);
}

#[test]
fn steps_are_business_days_over_the_horizon() {
    let m = small_model(10);
    let dates = m.dates();
    assert!(dates[0] > start());
    assert_eq!(dates[0], start().next_business_day());
    assert!(*dates.last().unwrap() <= start().add_years(10));
    assert!(dates.windows(2).all(|w| w[0] < w[1]));
    assert!(dates.iter().all(|d| d.is_business_day()));
    // Every NYSE session in between is a step.
    let mut d = start().next_business_day();
    for &x in dates {
        assert_eq!(x, d);
        d = d.next_business_day();
    }
    for y in 2027..2036 {
        let n = dates.iter().filter(|d| d.year() == y).count();
        assert!((250..=253).contains(&n), "{y}: {n} steps");
    }
    let per_year = dates.len() as f64 / 10.0;
    assert!((per_year - STEPS_PER_YEAR).abs() < 1.0, "{per_year}");
}

#[test]
fn dividends_are_paid_quarterly_on_the_last_business_day() {
    let m = small_model(3);
    let mut path = m.path(1, 0);
    let mut paid = Vec::new();
    let mut total = [0.0; 3];
    while let Some(s) = path.next_step() {
        if s.dividends.iter().any(|&d| d != 0.0) {
            paid.push(s.date);
            if s.date.year() == 2027 {
                for (t, d) in total.iter_mut().zip(s.dividends) {
                    *t += d;
                }
            }
        }
    }
    assert_eq!(paid.len(), 12);
    for d in &paid {
        let (_, month, _) = d.ymd();
        assert_eq!(month % 3, 0, "{d}");
        assert_ne!(
            d.next_business_day().ymd().1,
            month,
            "{d} is not the last business day"
        );
    }
    assert_eq!(paid[0].to_string(), "2026-03-31");
    assert_eq!(paid[1].to_string(), "2026-06-30");
    assert_eq!(paid[2].to_string(), "2026-09-30");
    assert_eq!(paid[3].to_string(), "2026-12-31");
    assert!((total[0] - 0.013).abs() < 1e-15 && (total[2] - 0.04).abs() < 1e-15);
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    (
        m,
        (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt(),
    )
}

fn corr(a: &[f64], b: &[f64]) -> f64 {
    let (ma, sa) = mean_sd(a);
    let (mb, sb) = mean_sd(b);
    let c = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f64>()
        / (a.len() as f64 - 1.0);
    c / (sa * sb)
}

#[test]
fn sample_moments_match_the_assumptions() {
    // One security per default class without idiosyncratic risk: it is the class.
    let a = Assumptions::with_defaults(start(), 1);
    let secs: Vec<SecuritySpec> = a
        .classes
        .iter()
        .enumerate()
        .map(|(c, cl)| SecuritySpec::new(format!("C{c}"), c, 0.0, cl.dividend_yield))
        .collect();
    let m = MarketModel::new(&a, &secs).unwrap();
    let k = secs.len();
    let paths = 1500;
    let mut logs: Vec<Vec<f64>> = vec![Vec::new(); k];
    let mut growth: Vec<Vec<f64>> = vec![Vec::new(); k];
    for p in 0..paths {
        let mut path = m.path(2026, p);
        let mut g = vec![1.0; k];
        while let Some(s) = path.next_step() {
            for j in 0..k {
                // Total-return log, dividends reinvested.
                logs[j].push((1.0 + s.returns[j]).ln());
                g[j] *= 1.0 + s.returns[j] + s.dividends[j];
            }
        }
        for j in 0..k {
            growth[j].push(g[j]);
        }
    }
    for (j, cl) in a.classes.iter().enumerate() {
        // Expected one-year total return with dividends reinvested is μ.
        let (gm, gsd) = mean_sd(&growth[j]);
        let se = gsd / (paths as f64).sqrt();
        assert!(
            (gm - 1.0 - cl.expected_return).abs() < 4.0 * se,
            "{}: mean growth {gm} vs 1 + {} (se {se})",
            cl.name,
            cl.expected_return
        );
        // Daily log volatility annualised: the log volatility of the stated one.
        let (_, sd) = mean_sd(&logs[j]);
        let vol = sd * STEPS_PER_YEAR.sqrt();
        let log_vol = log_volatility(cl.expected_return, cl.volatility);
        assert!(
            (vol / log_vol - 1.0).abs() < 0.01,
            "{}: vol {vol} vs {log_vol}",
            cl.name
        );
        // The stated volatility is that of the annual simple return (16 % read as a log
        // volatility gave 17.2 %).
        assert!(
            (gsd / cl.volatility - 1.0).abs() < 0.05,
            "{}: annual return sd {gsd} vs {}",
            cl.name,
            cl.volatility
        );
    }
    for i in 0..k {
        for j in (i + 1)..k {
            let r = corr(&logs[i], &logs[j]);
            assert!(
                (r - a.correlation[i][j]).abs() < 0.01,
                "corr[{i}][{j}] = {r}"
            );
        }
    }
}

#[test]
fn partners_correlate_at_the_partner_correlation() {
    let a = Assumptions::with_defaults(start(), 20);
    let secs = [
        SecuritySpec::new("VOO", 0, 0.03, 0.013),
        SecuritySpec::new("IVV", 0, 0.03, 0.013).partner_of(0),
        SecuritySpec::new("AAPL", 0, 0.25, 0.005),
        SecuritySpec::new("MSFT-ish", 0, 0.25, 0.005).partner_of(2),
        SecuritySpec::new("VEA", 2, 0.03, 0.03),
        SecuritySpec::new("SCHF", 2, 0.03, 0.03).partner_of(4),
        SecuritySpec::new("VB", 1, 0.03, 0.013),
    ];
    let m = MarketModel::new(&a, &secs).unwrap();
    for note in m.partner_notes() {
        assert!((note.achieved - 0.99).abs() < 1e-12, "{note:?}");
    }
    let mut r: Vec<Vec<f64>> = vec![Vec::new(); secs.len()];
    let mut path = m.path(99, 0);
    while let Some(s) = path.next_step() {
        for (col, v) in r.iter_mut().zip(s.returns) {
            col.push(*v);
        }
    }
    assert!(r[0].len() > 20 * 250);
    for (i, j) in [(0, 1), (2, 3), (4, 5)] {
        let c = corr(&r[i], &r[j]);
        assert!((c - 0.99).abs() < 0.01, "partners {i},{j}: {c}");
        // Both keep their own volatility.
        let (_, si) = mean_sd(&r[i]);
        let (_, sj) = mean_sd(&r[j]);
        assert!((si / sj - 1.0).abs() < 0.05);
    }
    // Non-partners in the same class are less correlated.
    assert!(corr(&r[0], &r[6]) < 0.95);
    assert!(corr(&r[2], &r[0]) < 0.6);
}

#[test]
fn unreachable_partner_correlation_is_reported_not_hidden() {
    // With 0.5 % idiosyncratic risk against a 16 % class, independent noise already
    // correlates at 0.999: the model cannot lower it to 0.99 and says so. The other
    // way round, partners in weakly related classes cannot reach 0.99.
    let a = Assumptions::with_defaults(start(), 1);
    let secs = [
        SecuritySpec::new("A", 0, 0.005, 0.0),
        SecuritySpec::new("B", 0, 0.005, 0.0).partner_of(0),
        SecuritySpec::new("C", 0, 0.25, 0.0),
        SecuritySpec::new("D", 4, 0.25, 0.0).partner_of(2),
    ];
    let m = MarketModel::new(&a, &secs).unwrap();
    let notes = m.partner_notes();
    assert_eq!(notes[0].idiosyncratic_correlation, 0.0);
    assert!(notes[0].achieved > 0.99);
    // An equity and a bond fund cannot be made 0.99-correlated by their noise alone.
    assert_eq!(notes[1].idiosyncratic_correlation, 1.0);
    assert!(notes[1].achieved < 0.9, "{:?}", notes[1]);
}

#[test]
fn student_t_shocks_have_unit_variance_and_fat_tails() {
    let class = AssetClass {
        name: "Equity".into(),
        expected_return: 0.07,
        volatility: 0.20,
        dividend_yield: 0.0,
        source: "test".into(),
        as_of: "2026-01-01".into(),
    };
    let a = Assumptions {
        classes: vec![class],
        correlation: vec![vec![1.0]],
        partner_correlation: 0.99,
        shocks: Shocks::StudentT { dof: 6.0 },
        start: start(),
        horizon_years: 50,
    };
    let m = MarketModel::new(&a, &[SecuritySpec::new("E", 0, 0.0, 0.0)]).unwrap();
    let mut xs = Vec::new();
    for p in 0..20 {
        let mut path = m.path(5, p);
        while let Some(s) = path.next_step() {
            xs.push((1.0 + s.returns[0]).ln());
        }
    }
    let (mean, sd) = mean_sd(&xs);
    let vol = sd * STEPS_PER_YEAR.sqrt();
    assert!(
        (vol / log_volatility(0.07, 0.20) - 1.0).abs() < 0.02,
        "vol {vol} from {} days",
        xs.len()
    );
    let n = xs.len() as f64;
    let kurt = xs.iter().map(|x| ((x - mean) / sd).powi(4)).sum::<f64>() / n;
    // Student-t with 6 dof: kurtosis 6 (normal: 3).
    assert!(kurt > 4.5, "kurtosis {kurt}");
}

#[test]
fn bad_inputs_are_typed_errors() {
    let a = Assumptions::with_defaults(start(), 1);
    let e = MarketModel::new(&a, &[SecuritySpec::new("X", 8, 0.0, 0.0)]).unwrap_err();
    assert_eq!(
        e,
        MarketError::UnknownClass {
            security: 0,
            class: 8,
            n_classes: 8
        }
    );
    let chain = [
        SecuritySpec::new("A", 0, 0.02, 0.0),
        SecuritySpec::new("B", 0, 0.02, 0.0).partner_of(0),
        SecuritySpec::new("C", 0, 0.02, 0.0).partner_of(1),
    ];
    let e = MarketModel::new(&a, &chain).unwrap_err();
    assert!(matches!(
        e,
        MarketError::InvalidPartner {
            security: 2,
            partner: 1,
            ..
        }
    ));
    let selfp = [SecuritySpec::new("A", 0, 0.02, 0.0).partner_of(0)];
    assert!(MarketModel::new(&a, &selfp).is_err());
    let neg = [SecuritySpec::new("A", 0, -0.02, 0.0)];
    let e = MarketModel::new(&a, &neg).unwrap_err();
    assert!(
        e.to_string().contains("securities[0].idiosyncratic_vol"),
        "{e}"
    );

    let mut b = a.clone();
    b.classes[2].volatility = f64::NAN;
    let e = MarketModel::new(&b, &[]).unwrap_err();
    assert!(e.to_string().contains("classes[2].volatility"), "{e}");
    let mut b = a.clone();
    b.shocks = Shocks::StudentT { dof: 2.0 };
    assert!(MarketModel::new(&b, &[])
        .unwrap_err()
        .to_string()
        .contains("shocks.dof"));
    let mut b = a.clone();
    b.horizon_years = 0;
    assert!(matches!(
        MarketModel::new(&b, &[]),
        Err(MarketError::EmptyHorizon { .. })
    ));
    let mut b = a.clone();
    b.correlation[5][2] = f64::INFINITY;
    let e = MarketModel::new(&b, &[]).unwrap_err();
    assert!(
        e.to_string().contains("correlation[2][5]") || e.to_string().contains("correlation[5][2]"),
        "{e}"
    );
}

#[test]
fn defaults_are_documented_and_positive_definite() {
    let a = Assumptions::with_defaults(start(), 1);
    assert_eq!(a.classes.len(), 8);
    for c in &a.classes {
        assert!(c.source.contains("Capital Market Assumptions"));
        assert_eq!(c.source, tollbooth_engine::market::DEFAULT_SOURCE);
        assert!(!c.as_of.is_empty());
        assert!(c.volatility > 0.0 && c.expected_return > 0.0);
    }
    let m = MarketModel::new(&a, &[]).unwrap();
    assert!(m.repair().is_none());
    assert_eq!(a.class_index("tips"), Some(7));
    // The generic trait agrees with the inherent methods.
    assert_eq!(Market::dates(&m).len(), m.n_steps());
    assert_eq!(Market::path(&m, 1, 2).n_steps(), m.n_steps());
}

#[test]
fn repaired_correlation_is_reported_by_the_model() {
    let mut a = Assumptions::with_defaults(start(), 1);
    // US large cap and small cap nearly identical, but opposite to a third class that
    // is close to both: impossible.
    a.correlation[0][1] = 0.95;
    a.correlation[1][0] = 0.95;
    a.correlation[0][7] = -0.9;
    a.correlation[7][0] = -0.9;
    let m = MarketModel::new(&a, &[SecuritySpec::new("X", 0, 0.0, 0.0)]).unwrap();
    let r = m.repair().expect("repaired");
    assert!(r.max_change > 0.01);
    assert!(m.correlation()[0][7] > -0.9);
    let mut path = m.path(1, 0);
    assert!(path.next_step().unwrap().returns[0].is_finite());
}

#[test]
fn model_covariance_matches_the_paths() {
    let a = Assumptions::with_defaults(start(), 30);
    let secs = [
        SecuritySpec::new("VTI", 0, 0.03, 0.013),
        SecuritySpec::new("ITOT", 0, 0.02, 0.013).partner_of(0),
        SecuritySpec::new("SCHB", 0, 0.04, 0.013).partner_of(0),
        SecuritySpec::new("AGG", 4, 0.01, 0.04),
    ];
    let m = MarketModel::new(&a, &secs).unwrap();
    let cov = m.covariance();
    let mu: Vec<f64> = secs
        .iter()
        .map(|s| a.classes[s.asset_class].expected_return)
        .collect();
    assert_eq!(m.expected_returns(), &mu[..]);
    for (j, s) in secs.iter().enumerate() {
        let class = &a.classes[s.asset_class];
        let c = log_volatility(class.expected_return, class.volatility);
        assert!((cov[j][j] - c * c - s.idiosyncratic_vol.powi(2)).abs() < 1e-15);
    }
    for note in m.partner_notes() {
        let (i, j) = (note.partner, note.security);
        let implied = cov[i][j] / (cov[i][i] * cov[j][j]).sqrt();
        assert!((implied - note.achieved).abs() < 1e-12);
    }
    // Empirical annualised covariance of daily log returns over 30 years.
    let mut logs: Vec<Vec<f64>> = vec![Vec::new(); secs.len()];
    let mut path = m.path(3, 0);
    while let Some(s) = path.next_step() {
        for (col, r) in logs.iter_mut().zip(s.returns) {
            col.push((1.0 + r).ln());
        }
    }
    for i in 0..secs.len() {
        for j in 0..secs.len() {
            let (mi, _) = mean_sd(&logs[i]);
            let (mj, _) = mean_sd(&logs[j]);
            let c = logs[i]
                .iter()
                .zip(&logs[j])
                .map(|(x, y)| (x - mi) * (y - mj))
                .sum::<f64>()
                / (logs[i].len() as f64 - 1.0)
                * STEPS_PER_YEAR;
            let tol = 0.05 * (cov[i][i] * cov[j][j]).sqrt();
            assert!(
                (c - cov[i][j]).abs() < tol,
                "cov[{i}][{j}] = {c} vs {}",
                cov[i][j]
            );
        }
    }
    // The two followers of VTI are tied to each other through it: at least 2ρ² − 1.
    let r12 = cov[1][2] / (cov[1][1] * cov[2][2]).sqrt();
    assert!(
        (2.0 * 0.99 * 0.99 - 1.0 - 1e-12..0.99).contains(&r12),
        "{r12}"
    );
}
