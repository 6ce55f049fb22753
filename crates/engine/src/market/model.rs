//! The Monte Carlo market model and its paths.

use super::correlation::{validate_correlation, Repair};
use super::random::{path_rng, Variates};
use super::{Assumptions, Market, MarketError, MarketPath, SecuritySpec, Shocks, Step};
use crate::date::Date;

/// Business days per year used to turn annual assumptions into daily ones: the mean
/// number of NYSE sessions a year ([`Date::is_business_day`]: weekdays less the exchange's
/// holidays), 251.0275 averaged over the 4,000 years from 2023.
pub const STEPS_PER_YEAR: f64 = 251.0275;

/// The fewest degrees of freedom Student-t shocks may have: with fatter tails a single
/// simulated day can take most of a path's value (at 3, one day lost 95 % in 5 million).
pub const MIN_STUDENT_T_DOF: f64 = 4.0;

/// The TLH-partner correlation a pair of securities actually gets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartnerNote {
    /// The security that tracks a partner.
    pub security: usize,
    /// The security it tracks.
    pub partner: usize,
    /// The requested correlation of daily log returns.
    pub requested: f64,
    /// The correlation the model produces: differs from `requested` when the asset
    /// classes alone already tie the pair tighter, or when the pair's idiosyncratic
    /// volatilities cannot reach it (0 when a security has no volatility at all).
    pub achieved: f64,
    /// Correlation of the pair's idiosyncratic shocks that delivers `achieved`.
    pub idiosyncratic_correlation: f64,
}

/// A validated Monte Carlo market: build once, draw any number of paths.
#[derive(Debug, Clone)]
pub struct MarketModel {
    start: Date,
    dates: Vec<Date>,
    dividend_day: Vec<bool>,
    n_classes: usize,
    correlation: Vec<Vec<f64>>,
    /// Row-major `k × k` factor of the correlation.
    factor: Vec<f64>,
    class_drift: Vec<f64>,
    class_scale: Vec<f64>,
    sec_class: Vec<usize>,
    sec_drift: Vec<f64>,
    /// Securities without a partner: (index, daily idiosyncratic sd).
    primaries: Vec<(usize, f64)>,
    /// Securities with a partner: (index, partner, loading on the partner's shock, own sd).
    followers: Vec<(usize, usize, f64, f64)>,
    quarter_dividend: Vec<f64>,
    zeros: Vec<f64>,
    t_dof: Option<f64>,
    repair: Option<Repair>,
    partner_notes: Vec<PartnerNote>,
    /// Annual expected total return of each security (its class's).
    expected: Vec<f64>,
    /// Annual class log-return volatility of each security ([`super::log_volatility`]).
    sec_class_vol: Vec<f64>,
    /// Per security: the primary whose idiosyncratic shock it loads on (itself for a
    /// primary), the loading, and the annual variance of its own extra noise.
    idio_root: Vec<(usize, f64, f64)>,
    /// Annual idiosyncratic variance of each security.
    idio_var: Vec<f64>,
}

fn check(
    field: impl FnOnce() -> String,
    value: f64,
    ok: bool,
    reason: &'static str,
) -> Result<(), MarketError> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(MarketError::InvalidParameter {
            field: field(),
            value,
            reason,
        })
    }
}

impl MarketModel {
    /// Validates the assumptions and securities and prepares the model.
    ///
    /// Errors name the offending field (`classes[2].volatility`, `correlation[1][4]`,
    /// `securities[3].partner_of`, …). A correlation matrix that is not positive
    /// semidefinite is repaired, not rejected: see [`MarketModel::repair`].
    pub fn new(a: &Assumptions, securities: &[SecuritySpec]) -> Result<MarketModel, MarketError> {
        let k = a.classes.len();
        if k == 0 {
            return Err(MarketError::NoClasses);
        }
        for (c, class) in a.classes.iter().enumerate() {
            let mu = class.expected_return;
            check(
                || format!("classes[{c}].expected_return"),
                mu,
                mu > -1.0 && mu < 10.0,
                "must be above -1 (−100 %) and below 10",
            )?;
            let v = class.volatility;
            check(
                || format!("classes[{c}].volatility"),
                v,
                (0.0..=5.0).contains(&v),
                "must be between 0 and 5 (500 %)",
            )?;
            let d = class.dividend_yield;
            check(
                || format!("classes[{c}].dividend_yield"),
                d,
                (0.0..1.0).contains(&d),
                "must be at least 0 and below 1",
            )?;
        }
        let rho = a.partner_correlation;
        check(
            || "partner_correlation".to_string(),
            rho,
            (0.0..=1.0).contains(&rho),
            "must be between 0 and 1",
        )?;
        let t_dof = match a.shocks {
            Shocks::Normal => None,
            Shocks::StudentT { dof } => {
                check(
                    || "shocks.dof".to_string(),
                    dof,
                    (MIN_STUDENT_T_DOF..=1e6).contains(&dof),
                    "must be at least 4 (with fatter tails a single day can take most of a \
                     path's value)",
                )?;
                Some(dof)
            }
        };
        let valid = validate_correlation(&a.correlation, k)?;
        let n = securities.len();
        for (j, s) in securities.iter().enumerate() {
            if s.asset_class >= k {
                return Err(MarketError::UnknownClass {
                    security: j,
                    class: s.asset_class,
                    n_classes: k,
                });
            }
            let v = s.idiosyncratic_vol;
            check(
                || format!("securities[{j}].idiosyncratic_vol"),
                v,
                (0.0..=5.0).contains(&v),
                "must be between 0 and 5 (500 %)",
            )?;
            let d = s.dividend_yield;
            check(
                || format!("securities[{j}].dividend_yield"),
                d,
                (0.0..1.0).contains(&d),
                "must be at least 0 and below 1",
            )?;
            if let Some(p) = s.partner_of {
                let reason = if p >= n {
                    Some("no such security")
                } else if p == j {
                    Some("a security cannot be its own partner")
                } else if securities[p].partner_of.is_some() {
                    Some("the partner itself tracks another security: point to the security it tracks")
                } else {
                    None
                };
                if let Some(reason) = reason {
                    return Err(MarketError::InvalidPartner {
                        security: j,
                        partner: p,
                        reason,
                    });
                }
            }
        }
        if a.horizon_years == 0 || a.horizon_years > 200 {
            return Err(MarketError::EmptyHorizon {
                start: a.start,
                years: a.horizon_years,
            });
        }
        let end = a.start.add_years(a.horizon_years as i32);
        let mut dates = Vec::new();
        let mut d = a.start.next_business_day();
        while d <= end {
            dates.push(d);
            d = d.next_business_day();
        }
        if dates.is_empty() {
            return Err(MarketError::EmptyHorizon {
                start: a.start,
                years: a.horizon_years,
            });
        }
        let dividend_day = dates
            .iter()
            .map(|&d| {
                let (_, m, _) = d.ymd();
                m % 3 == 0 && d.next_business_day().ymd().1 != m
            })
            .collect();

        let yearly = STEPS_PER_YEAR;
        let sqrt_a = f64::sqrt(yearly);
        // The log-return volatility that gives the class's annual simple return its stated
        // volatility ([`super::log_volatility`]).
        let log_vol: Vec<f64> = a
            .classes
            .iter()
            .map(|c| super::log_volatility(c.expected_return, c.volatility))
            .collect();
        let class_drift = a
            .classes
            .iter()
            .zip(&log_vol)
            .map(|(c, s)| (libm::log1p(c.expected_return) - 0.5 * s * s) / yearly)
            .collect();
        let class_scale = log_vol.iter().map(|s| s / sqrt_a).collect();
        let sec_drift = securities
            .iter()
            .map(|s| {
                let cont_yield = 4.0 * libm::log1p(0.25 * s.dividend_yield);
                -(0.5 * s.idiosyncratic_vol * s.idiosyncratic_vol + cont_yield) / yearly
            })
            .collect();

        let mut primaries = Vec::new();
        let mut followers = Vec::new();
        let mut partner_notes = Vec::new();
        let mut idio_root: Vec<(usize, f64, f64)> = (0..n).map(|j| (j, 1.0, 0.0)).collect();
        for (j, s) in securities.iter().enumerate() {
            let own = s.idiosyncratic_vol / sqrt_a;
            match s.partner_of {
                None => primaries.push((j, own)),
                Some(p) => {
                    let (ci, cj) = (securities[p].asset_class, s.asset_class);
                    let (si, sj) = (log_vol[ci], log_vol[cj]);
                    let (vi, vj) = (
                        securities[p].idiosyncratic_vol * securities[p].idiosyncratic_vol,
                        s.idiosyncratic_vol * s.idiosyncratic_vol,
                    );
                    let cov = valid.matrix[ci][cj] * si * sj;
                    let big = f64::sqrt((si * si + vi) * (sj * sj + vj));
                    let small = f64::sqrt(vi * vj);
                    let q = if small > 0.0 {
                        ((rho * big - cov) / small).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let achieved = if big > 0.0 {
                        (cov + q * small) / big
                    } else {
                        0.0
                    };
                    partner_notes.push(PartnerNote {
                        security: j,
                        partner: p,
                        requested: rho,
                        achieved,
                        idiosyncratic_correlation: q,
                    });
                    let loading = if vi > 0.0 {
                        q * s.idiosyncratic_vol / securities[p].idiosyncratic_vol
                    } else {
                        0.0
                    };
                    followers.push((j, p, loading, f64::sqrt(1.0 - q * q) * own));
                    idio_root[j] = (p, loading, (1.0 - q * q) * vj);
                }
            }
        }

        Ok(MarketModel {
            start: a.start,
            dates,
            dividend_day,
            n_classes: k,
            correlation: valid.matrix,
            factor: valid.factor,
            class_drift,
            class_scale,
            sec_class: securities.iter().map(|s| s.asset_class).collect(),
            sec_drift,
            primaries,
            followers,
            quarter_dividend: securities.iter().map(|s| 0.25 * s.dividend_yield).collect(),
            zeros: vec![0.0; n],
            t_dof,
            repair: valid.repair,
            partner_notes,
            expected: securities
                .iter()
                .map(|s| a.classes[s.asset_class].expected_return)
                .collect(),
            sec_class_vol: securities.iter().map(|s| log_vol[s.asset_class]).collect(),
            idio_root,
            idio_var: securities
                .iter()
                .map(|s| s.idiosyncratic_vol * s.idiosyncratic_vol)
                .collect(),
        })
    }

    /// Path `path_index` of `seed`. Paths are independent streams: path `p` is the same
    /// whether or not other paths were drawn before it, on any thread or platform.
    pub fn path(&self, seed: u64, path_index: u64) -> PathIter<'_> {
        let n = self.sec_class.len();
        PathIter {
            model: self,
            variates: Variates::new(path_rng(seed, path_index)),
            pos: 0,
            z: vec![0.0; self.n_classes],
            x: vec![0.0; self.n_classes],
            e: vec![0.0; n],
            returns: vec![0.0; n],
        }
    }

    /// The repair applied to the correlation matrix, if it was not positive semidefinite.
    pub fn repair(&self) -> Option<&Repair> {
        self.repair.as_ref()
    }

    /// The correlation matrix in use (after any repair).
    pub fn correlation(&self) -> &[Vec<f64>] {
        &self.correlation
    }

    /// Requested and achieved correlation of every TLH partner pair.
    pub fn partner_notes(&self) -> &[PartnerNote] {
        &self.partner_notes
    }

    /// Expected annual total return of each security (its asset class's `μ`).
    pub fn expected_returns(&self) -> &[f64] {
        &self.expected
    }

    /// The model's annualised covariance of the securities' daily log returns
    /// (`A ×` the daily covariance): class covariance plus idiosyncratic covariance,
    /// including the noise TLH partners share. For optimizers and risk reports.
    pub fn covariance(&self) -> Vec<Vec<f64>> {
        let n = self.sec_class.len();
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        let (ci, cj) = (self.sec_class[i], self.sec_class[j]);
                        let class = self.correlation[ci][cj]
                            * self.sec_class_vol[i]
                            * self.sec_class_vol[j];
                        let (ri, li, own_i) = self.idio_root[i];
                        let (rj, lj, _) = self.idio_root[j];
                        let shared = if ri == rj {
                            li * lj * self.idio_var[ri]
                        } else {
                            0.0
                        };
                        class + shared + if i == j { own_i } else { 0.0 }
                    })
                    .collect()
            })
            .collect()
    }

    /// The step dates, in order.
    pub fn dates(&self) -> &[Date] {
        &self.dates
    }

    /// The valuation date before the first step.
    pub fn start(&self) -> Date {
        self.start
    }

    /// Number of steps per path.
    pub fn n_steps(&self) -> usize {
        self.dates.len()
    }

    /// Number of securities.
    pub fn n_securities(&self) -> usize {
        self.sec_class.len()
    }

    /// FNV-1a hash of the bits of the returns and dividends of the first `steps` steps
    /// (at most the path's length) of path `path_index` of `seed`.
    pub fn fingerprint_path(&self, seed: u64, path_index: u64, steps: usize) -> u64 {
        let mut h = FNV_OFFSET;
        let mut path = self.path(seed, path_index);
        let mut taken = 0;
        while taken < steps {
            let Some(step) = path.next_step() else { break };
            for v in step.returns.iter().chain(step.dividends) {
                h = fnv1a(h, &v.to_bits().to_le_bytes());
            }
            taken += 1;
        }
        h
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// The reference market of [`fingerprint`]: the default classes with Student-t shocks
/// (5 degrees of freedom), one security per class (idiosyncratic volatility 3 %, the
/// class's dividend yield) plus TLH partners of the first and third, from 2026-01-02.
pub fn reference_market(steps: usize) -> Result<MarketModel, MarketError> {
    let start = Date::from_ymd(2026, 1, 2).unwrap_or(Date::from_days(20_455));
    let mut a = Assumptions::with_defaults(start, (steps / 250 + 1).min(200) as u32);
    a.shocks = Shocks::StudentT { dof: 5.0 };
    let mut secs: Vec<SecuritySpec> = a
        .classes
        .iter()
        .enumerate()
        .map(|(c, class)| SecuritySpec::new(format!("C{c}"), c, 0.03, class.dividend_yield))
        .collect();
    secs.push(SecuritySpec::new("P0", 0, 0.03, a.classes[0].dividend_yield).partner_of(0));
    secs.push(SecuritySpec::new("P2", 2, 0.03, a.classes[2].dividend_yield).partner_of(2));
    MarketModel::new(&a, &secs)
}

/// A cross-platform check value: the FNV-1a hash (over the `f64` bits, little-endian) of
/// the returns and dividends of the first `steps` steps of path 0 of `seed` in the
/// [`reference_market`]. The same engine gives the same value natively and in WebAssembly.
pub fn fingerprint(seed: u64, steps: usize) -> u64 {
    match reference_market(steps) {
        Ok(m) => m.fingerprint_path(seed, 0, steps),
        // The reference market is built from constants and always validates.
        Err(_) => 0,
    }
}

impl Market for MarketModel {
    type Path<'a> = PathIter<'a>;

    fn path(&self, seed: u64, path_index: u64) -> PathIter<'_> {
        MarketModel::path(self, seed, path_index)
    }

    fn start(&self) -> Date {
        self.start
    }

    fn dates(&self) -> &[Date] {
        &self.dates
    }

    fn n_securities(&self) -> usize {
        self.sec_class.len()
    }
}

/// One Monte Carlo path: a lending iterator over its steps ([`MarketPath`]).
pub struct PathIter<'a> {
    model: &'a MarketModel,
    variates: Variates,
    pos: usize,
    z: Vec<f64>,
    x: Vec<f64>,
    e: Vec<f64>,
    returns: Vec<f64>,
}

impl PathIter<'_> {
    /// The steps already produced.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl MarketPath for PathIter<'_> {
    fn n_securities(&self) -> usize {
        self.returns.len()
    }

    fn n_steps(&self) -> usize {
        self.model.dates.len()
    }

    fn next_step(&mut self) -> Option<Step<'_>> {
        let m = self.model;
        let index = self.pos;
        let date = *m.dates.get(index)?;
        self.pos += 1;
        let k = m.n_classes;
        for z in self.z.iter_mut() {
            *z = self.variates.normal();
        }
        if let Some(dof) = m.t_dof {
            let w = f64::sqrt((dof - 2.0) / self.variates.chi_square(dof));
            for z in self.z.iter_mut() {
                *z *= w;
            }
        }
        for c in 0..k {
            let row = &m.factor[c * k..(c + 1) * k];
            let mut s = 0.0;
            for (l, z) in row.iter().zip(&self.z) {
                s += l * z;
            }
            self.x[c] = m.class_drift[c] + m.class_scale[c] * s;
        }
        for &(j, sd) in &m.primaries {
            self.e[j] = if sd > 0.0 {
                sd * self.variates.normal()
            } else {
                0.0
            };
        }
        for &(j, p, loading, sd) in &m.followers {
            let own = if sd > 0.0 {
                sd * self.variates.normal()
            } else {
                0.0
            };
            self.e[j] = loading * self.e[p] + own;
        }
        for (j, r) in self.returns.iter_mut().enumerate() {
            *r = libm::expm1(self.x[m.sec_class[j]] + m.sec_drift[j] + self.e[j]);
        }
        let dividends = if m.dividend_day[index] {
            &m.quarter_dividend
        } else {
            &m.zeros
        };
        Some(Step {
            index,
            date,
            returns: &self.returns,
            dividends,
        })
    }
}
