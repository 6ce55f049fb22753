//! Market assumptions: capital-market assumptions per asset class, correlations, the
//! Monte Carlo settings, and the small symmetric-matrix routines that check them.
//!
//! ## Correlation matrices
//!
//! A correlation matrix must be symmetric, have a unit diagonal, entries in [−1, 1] and be
//! positive semi-definite. [`check_correlation`] tests all four; PSD is tested with the
//! eigenvalues of a cyclic Jacobi decomposition ([`symmetric_eigen`]), accepting a
//! smallest eigenvalue ≥ −[`PSD_TOLERANCE`]. Validation **rejects** a matrix that fails,
//! naming the smallest eigenvalue; the form can offer the repair
//! [`nearest_correlation`] (Higham 2002, alternating projections with Dykstra's
//! correction), which the user then sees and accepts. The engine never silently changes
//! an input.
//!
//! The routines use only `+ − × ÷` and `sqrt` (correctly rounded by IEEE 754), in a fixed
//! order, so results are identical natively and in WebAssembly.

use serde::{Deserialize, Serialize};

/// The smallest eigenvalue a correlation matrix may have and still count as PSD.
pub const PSD_TOLERANCE: f64 = 1e-10;

/// Capital-market assumptions for one asset class. Rates are annual fractions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetClassAssumption {
    /// The asset class's name (referenced by securities and the target model).
    pub name: String,
    /// Expected arithmetic annual total return.
    pub expected_return: f64,
    /// Annual volatility of returns.
    pub volatility: f64,
    /// Dividend (income) yield, part of the total return.
    pub dividend_yield: f64,
    /// Where the numbers come from (printed next to results).
    pub source: String,
    /// When the source was published.
    pub as_of: String,
}

/// The distribution of the daily shocks. (Internally tagged: it refuses unknown fields
/// itself, as [`super::CashFlowSchedule`] does.)
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shocks {
    /// Gaussian shocks.
    Normal,
    /// Student-t shocks scaled to unit variance (fat tails); `dof` > 2.
    StudentT {
        /// Degrees of freedom.
        dof: f64,
    },
}

/// What happens to dividends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DividendTreatment {
    /// Reinvested in the paying security (a purchase: it can wash a loss).
    #[default]
    Reinvest,
    /// Paid to the account's cash.
    Cash,
}

/// A security's idiosyncratic volatility against its asset class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityVol {
    /// The security.
    pub symbol: String,
    /// Annual idiosyncratic volatility.
    pub vol: f64,
}

/// Market assumptions and Monte Carlo settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketAssumptions {
    /// Per asset class assumptions; the order indexes `correlation`.
    pub classes: Vec<AssetClassAssumption>,
    /// Correlations of asset-class returns (`classes.len()` square).
    pub correlation: Vec<Vec<f64>>,
    /// Where the correlations come from.
    pub correlation_source: String,
    /// Idiosyncratic volatility per security (others use the default).
    pub idiosyncratic_vol: Vec<SecurityVol>,
    /// Idiosyncratic volatility of a security not listed (annual).
    pub default_idiosyncratic_vol: f64,
    /// Requested correlation of the daily log returns of a security and its class's
    /// benchmark when they are TLH partners (default 0.99): the model gives the follower
    /// the share of the benchmark's idiosyncratic noise that achieves it, within reach
    /// (the report states the correlations achieved).
    pub partner_correlation: f64,
    /// Annual return on cash balances.
    pub cash_yield: f64,
    /// Horizon in years (≥ 1).
    pub horizon_years: u32,
    /// Monte Carlo paths (≥ 1).
    pub paths: u32,
    /// Random seed: same scenario and seed → same numbers.
    pub seed: u64,
    /// Shock distribution.
    pub shocks: Shocks,
    /// Dividend treatment.
    pub dividends: DividendTreatment,
}

impl Default for MarketAssumptions {
    /// The default asset classes and correlations ([`default_assumptions`],
    /// [`default_correlation`]), idiosyncratic volatility 1% a year, partner correlation
    /// 0.99, cash yield 3%, 10 years, 500 paths, seed 1, normal shocks, dividends
    /// reinvested.
    fn default() -> Self {
        MarketAssumptions {
            classes: default_assumptions(),
            correlation: default_correlation(),
            correlation_source: CMA_SOURCE.to_string(),
            idiosyncratic_vol: Vec::new(),
            default_idiosyncratic_vol: 0.01,
            partner_correlation: 0.99,
            cash_yield: 0.03,
            horizon_years: 10,
            paths: 500,
            seed: 1,
            shocks: Shocks::Normal,
            dividends: DividendTreatment::Reinvest,
        }
    }
}

impl MarketAssumptions {
    /// The index of an asset class in `classes`.
    pub fn class_index(&self, name: &str) -> Option<usize> {
        self.classes.iter().position(|c| c.name == name)
    }

    /// A security's idiosyncratic volatility (listed or default).
    pub fn idiosyncratic_vol_of(&self, symbol: &str) -> f64 {
        self.idiosyncratic_vol
            .iter()
            .find(|s| s.symbol == symbol)
            .map_or(self.default_idiosyncratic_vol, |s| s.vol)
    }
}

/// The source of the default capital-market assumptions (one table for the whole engine:
/// [`crate::market::DEFAULT_TABLE`]).
pub const CMA_SOURCE: &str = crate::market::DEFAULT_SOURCE;

/// The publication date of [`CMA_SOURCE`].
pub const CMA_AS_OF: &str = crate::market::DEFAULT_AS_OF;

/// The default asset classes, in the order of [`default_correlation`].
pub const DEFAULT_CLASSES: [&str; 8] = {
    let mut ids = [""; 8];
    let mut i = 0;
    while i < ids.len() {
        ids[i] = crate::market::DEFAULT_TABLE[i].0;
        i += 1;
    }
    ids
};

/// Illustrative capital-market assumptions for [`DEFAULT_CLASSES`]
/// ([`crate::market::DEFAULT_TABLE`]), each carrying its source and date. Expected return,
/// volatility and dividend yield are annual fractions.
pub fn default_assumptions() -> Vec<AssetClassAssumption> {
    crate::market::Assumptions::default_classes()
        .into_iter()
        .map(|c| AssetClassAssumption {
            name: c.name,
            expected_return: c.expected_return,
            volatility: c.volatility,
            dividend_yield: c.dividend_yield,
            source: c.source,
            as_of: c.as_of,
        })
        .collect()
}

/// Illustrative correlations of [`DEFAULT_CLASSES`] ([`crate::market::DEFAULT_CORRELATION`]:
/// same source and date as [`default_assumptions`]; positive definite, checked by a test).
pub fn default_correlation() -> Vec<Vec<f64>> {
    crate::market::Assumptions::default_correlation()
}

/// What is wrong with a correlation matrix. Indices are 0-based.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CorrelationIssue {
    /// The matrix has the wrong number of rows.
    #[error("it has {rows} rows but there are {n} asset classes")]
    WrongRowCount {
        /// Rows found.
        rows: usize,
        /// Rows expected.
        n: usize,
    },
    /// A row has the wrong length.
    #[error("row {row} has {len} entries but there are {n} asset classes")]
    WrongRowLength {
        /// The row.
        row: usize,
        /// Its length.
        len: usize,
        /// The length expected.
        n: usize,
    },
    /// An entry is not a finite number in [−1, 1].
    #[error("entry ({i}, {j}) = {value} is not a correlation between -1 and 1")]
    OutOfRange {
        /// Row.
        i: usize,
        /// Column.
        j: usize,
        /// The value.
        value: f64,
    },
    /// A diagonal entry is not 1.
    #[error("diagonal entry ({i}, {i}) = {value} must be 1")]
    Diagonal {
        /// Row and column.
        i: usize,
        /// The value.
        value: f64,
    },
    /// The matrix is not symmetric.
    #[error("entry ({i}, {j}) = {a} differs from ({j}, {i}) = {b}: the matrix must be symmetric")]
    Asymmetric {
        /// Row.
        i: usize,
        /// Column.
        j: usize,
        /// Entry (i, j).
        a: f64,
        /// Entry (j, i).
        b: f64,
    },
    /// The matrix is not positive semi-definite.
    #[error(
        "the correlations are inconsistent (not positive semi-definite: smallest eigenvalue \
         {min_eigenvalue:.3e}); use the nearest valid correlation matrix (Higham) or edit them"
    )]
    NotPsd {
        /// The smallest eigenvalue.
        min_eigenvalue: f64,
    },
}

/// Checks that `m` is an `n × n` correlation matrix: entries in [−1, 1], unit diagonal,
/// symmetric within 1e-12, and positive semi-definite (smallest eigenvalue ≥
/// −[`PSD_TOLERANCE`]).
#[allow(clippy::needless_range_loop)] // index notation mirrors the matrix formulas
pub fn check_correlation(m: &[Vec<f64>], n: usize) -> Result<(), CorrelationIssue> {
    if m.len() != n {
        return Err(CorrelationIssue::WrongRowCount { rows: m.len(), n });
    }
    for (i, row) in m.iter().enumerate() {
        if row.len() != n {
            return Err(CorrelationIssue::WrongRowLength {
                row: i,
                len: row.len(),
                n,
            });
        }
        for (j, &v) in row.iter().enumerate() {
            if !v.is_finite() || !(-1.0..=1.0).contains(&v) {
                return Err(CorrelationIssue::OutOfRange { i, j, value: v });
            }
        }
    }
    for i in 0..n {
        if m[i][i] != 1.0 {
            return Err(CorrelationIssue::Diagonal { i, value: m[i][i] });
        }
        for j in 0..i {
            if (m[i][j] - m[j][i]).abs() > 1e-12 {
                return Err(CorrelationIssue::Asymmetric {
                    i: j,
                    j: i,
                    a: m[j][i],
                    b: m[i][j],
                });
            }
        }
    }
    let (values, _) = symmetric_eigen(m);
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    if n > 0 && min < -PSD_TOLERANCE {
        return Err(CorrelationIssue::NotPsd {
            min_eigenvalue: min,
        });
    }
    Ok(())
}

/// Eigenvalues and eigenvectors of a symmetric matrix by cyclic Jacobi rotations.
/// Returns `(values, vectors)` with `vectors[k]` the unit eigenvector of `values[k]`
/// (values in no particular order). Only the lower triangle's mirror is assumed equal;
/// the input is symmetrised as `(A + Aᵀ)/2`.
#[allow(clippy::needless_range_loop)] // index notation mirrors the matrix formulas
pub fn symmetric_eigen(m: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = m.len();
    let mut a: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| 0.5 * (m[i][j] + m[j].get(i).copied().unwrap_or(0.0)))
                .collect()
        })
        .collect();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    let scale: f64 = a
        .iter()
        .flatten()
        .map(|x| x * x)
        .sum::<f64>()
        .max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p][q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + f64::sqrt(theta * theta + 1.0));
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / f64::sqrt(t * t + 1.0);
                let s = t * c;
                for k in 0..n {
                    let akp = a[k][p];
                    let akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = a[p][k];
                    let aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let vkp = row[p];
                    let vkq = row[q];
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let values = (0..n).map(|i| a[i][i]).collect();
    let vectors = (0..n).map(|k| (0..n).map(|i| v[i][k]).collect()).collect();
    (values, vectors)
}

/// `V·diag(max(λ, floor))·Vᵀ`: the projection onto matrices with eigenvalues ≥ `floor`.
#[allow(clippy::needless_range_loop)] // index notation mirrors the matrix formulas
fn clip_eigen(m: &[Vec<f64>], floor: f64) -> Vec<Vec<f64>> {
    let n = m.len();
    let (values, vectors) = symmetric_eigen(m);
    let mut out = vec![vec![0.0; n]; n];
    for (lambda, vec) in values.iter().zip(&vectors) {
        let l = lambda.max(floor);
        if l == 0.0 {
            continue;
        }
        for i in 0..n {
            for j in 0..n {
                out[i][j] += l * vec[i] * vec[j];
            }
        }
    }
    out
}

/// The nearest correlation matrix to a symmetric matrix `m` in the Frobenius norm
/// (Higham 2002, "Computing the nearest correlation matrix", alternating projections
/// with Dykstra's correction), finished by clipping eigenvalues at 1e-8 and rescaling to
/// a unit diagonal so the result passes [`check_correlation`]. Entries of `m` are clamped
/// to [−1, 1] and the diagonal set to 1 first.
#[allow(clippy::needless_range_loop)] // index notation mirrors the matrix formulas
pub fn nearest_correlation(m: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = m.len();
    let unit = |x: &mut Vec<Vec<f64>>| {
        for (i, row) in x.iter_mut().enumerate() {
            row[i] = 1.0;
        }
    };
    let mut y: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    let v = 0.5 * (m[i][j] + m[j][i]);
                    if v.is_finite() {
                        v.clamp(-1.0, 1.0)
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    unit(&mut y);
    let mut ds = vec![vec![0.0; n]; n];
    for _ in 0..200 {
        let r: Vec<Vec<f64>> = (0..n)
            .map(|i| (0..n).map(|j| y[i][j] - ds[i][j]).collect())
            .collect();
        let x = clip_eigen(&r, 0.0);
        for i in 0..n {
            for j in 0..n {
                ds[i][j] = x[i][j] - r[i][j];
            }
        }
        let mut y_next = x.clone();
        unit(&mut y_next);
        let diff: f64 = (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| (y_next[i][j] - y[i][j]).powi(2))
            .sum();
        y = y_next;
        if diff < 1e-24 * (n as f64) * (n as f64) {
            break;
        }
    }
    let x = clip_eigen(&y, 1e-8);
    let d: Vec<f64> = (0..n).map(|i| f64::sqrt(x[i][i])).collect();
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    if i == j {
                        1.0
                    } else {
                        (x[i][j] / (d[i] * d[j])).clamp(-1.0, 1.0)
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_correlation_is_valid() {
        let c = default_correlation();
        check_correlation(&c, DEFAULT_CLASSES.len()).unwrap();
        let (values, _) = symmetric_eigen(&c);
        assert!(values.iter().all(|&l| l > 0.01), "{values:?}");
        let sum: f64 = values.iter().sum();
        assert!((sum - 8.0).abs() < 1e-9, "trace preserved: {sum}");
        for (a, name) in default_assumptions().iter().zip(DEFAULT_CLASSES) {
            assert_eq!(a.name, name);
            assert!(!a.source.is_empty() && !a.as_of.is_empty());
        }
    }

    #[test]
    fn jacobi_finds_known_eigenvalues() {
        let m = vec![vec![2.0, 1.0], vec![1.0, 2.0]];
        let (mut values, vectors) = symmetric_eigen(&m);
        values.sort_by(f64::total_cmp);
        assert!((values[0] - 1.0).abs() < 1e-12 && (values[1] - 3.0).abs() < 1e-12);
        for v in vectors {
            assert!((v[0] * v[0] + v[1] * v[1] - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn rejects_bad_matrices() {
        let bad = vec![
            vec![1.0, 0.9, -0.9],
            vec![0.9, 1.0, 0.9],
            vec![-0.9, 0.9, 1.0],
        ];
        let e = check_correlation(&bad, 3).unwrap_err();
        assert!(matches!(e, CorrelationIssue::NotPsd { min_eigenvalue } if min_eigenvalue < -0.5));
        let asym = vec![vec![1.0, 0.5], vec![0.4, 1.0]];
        assert_eq!(
            check_correlation(&asym, 2),
            Err(CorrelationIssue::Asymmetric {
                i: 0,
                j: 1,
                a: 0.5,
                b: 0.4
            })
        );
        let diag = vec![vec![0.9, 0.0], vec![0.0, 1.0]];
        assert!(matches!(
            check_correlation(&diag, 2),
            Err(CorrelationIssue::Diagonal { i: 0, .. })
        ));
        assert!(matches!(
            check_correlation(&diag, 3),
            Err(CorrelationIssue::WrongRowCount { rows: 2, n: 3 })
        ));
    }

    #[test]
    fn nearest_correlation_repairs_and_keeps_valid_ones() {
        let bad = vec![
            vec![1.0, 0.9, -0.9],
            vec![0.9, 1.0, 0.9],
            vec![-0.9, 0.9, 1.0],
        ];
        let fixed = nearest_correlation(&bad);
        check_correlation(&fixed, 3).unwrap();
        // Symmetric pattern is kept: (0,1) and (1,2) stay equal.
        assert!((fixed[0][1] - fixed[1][2]).abs() < 1e-9);
        let good = default_correlation();
        let same = nearest_correlation(&good);
        for i in 0..8 {
            for j in 0..8 {
                assert!((same[i][j] - good[i][j]).abs() < 1e-9);
            }
        }
    }
}
