//! Correlation matrices: validation, nearest-correlation repair, factorisation.

use super::MarketError;
use nalgebra::DMatrix;

/// Tolerance for symmetry and the unit diagonal (values typed by hand are exact; values
/// computed elsewhere may carry rounding).
const ENTRY_TOL: f64 = 1e-9;
/// Smallest eigenvalue accepted without repair.
const PSD_TOL: f64 = -1e-12;
/// Eigenvalue floor of a repaired matrix, so that it factors and paths stay well defined.
const EIG_FLOOR: f64 = 1e-8;
/// Higham iterations: stop when successive iterates move less than this (Frobenius).
const HIGHAM_TOL: f64 = 1e-10;
const HIGHAM_MAX_ITER: usize = 2_000;

/// How a correlation matrix that was not positive semidefinite was repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairMethod {
    /// Higham (2002), "Computing the nearest correlation matrix — a problem from
    /// finance", IMA J. Numer. Anal. 22: alternating projections with Dykstra's
    /// correction onto the positive semidefinite cone (eigenvalues floored at 1e-8) and
    /// the unit-diagonal matrices, Frobenius norm, unit weights.
    Higham2002,
    /// Eigenvalue clipping: negative eigenvalues raised to 1e-8, then rescaled to a unit
    /// diagonal. Used only if the Higham iteration does not converge.
    EigenClip,
}

impl RepairMethod {
    /// A short label for the UI.
    pub fn label(self) -> &'static str {
        match self {
            RepairMethod::Higham2002 => "Higham (2002) nearest correlation matrix",
            RepairMethod::EigenClip => "eigenvalue clipping with unit-diagonal rescaling",
        }
    }
}

/// A note that the correlation matrix was repaired, for display next to results.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Repair {
    /// The method used.
    pub method: RepairMethod,
    /// Largest absolute change of any entry.
    pub max_change: f64,
    /// Smallest eigenvalue of the matrix as given (negative: why it was repaired).
    pub min_eigenvalue_before: f64,
    /// Iterations used (1 for eigenvalue clipping).
    pub iterations: usize,
}

/// A validated correlation matrix, repaired if need be, with its factor.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidCorrelation {
    /// The matrix used (symmetric, unit diagonal, positive semidefinite).
    pub matrix: Vec<Vec<f64>>,
    /// A factor `L` with `L Lᵀ = matrix`, row-major `k × k` (lower triangular when the
    /// matrix is positive definite: its Cholesky factor).
    pub factor: Vec<f64>,
    /// Set when the matrix as given was not positive semidefinite.
    pub repair: Option<Repair>,
}

/// Validates a `k × k` correlation matrix.
///
/// Rejects (with the entry named) wrong shapes, non-finite entries, entries outside
/// [−1, 1], a diagonal other than 1 and asymmetry beyond 1e-9. A matrix that is not
/// positive semidefinite is repaired ([`RepairMethod`]) and the repair reported.
pub fn validate_correlation(
    correlation: &[Vec<f64>],
    k: usize,
) -> Result<ValidCorrelation, MarketError> {
    if correlation.len() != k {
        return Err(MarketError::CorrelationRows {
            rows: correlation.len(),
            expected: k,
        });
    }
    for (row, r) in correlation.iter().enumerate() {
        if r.len() != k {
            return Err(MarketError::CorrelationRowLength {
                row,
                len: r.len(),
                expected: k,
            });
        }
        for (col, &v) in r.iter().enumerate() {
            if !v.is_finite() {
                return Err(MarketError::CorrelationNotFinite { row, col });
            }
            if !(-1.0..=1.0).contains(&v) {
                return Err(MarketError::CorrelationOutOfRange { row, col, value: v });
            }
        }
    }
    for (i, row) in correlation.iter().enumerate() {
        let d = row[i];
        if (d - 1.0).abs() > ENTRY_TOL {
            return Err(MarketError::CorrelationDiagonal { index: i, value: d });
        }
        for (j, mirror_row) in correlation.iter().enumerate().skip(i + 1) {
            let (a, b) = (row[j], mirror_row[i]);
            if (a - b).abs() > ENTRY_TOL {
                return Err(MarketError::CorrelationNotSymmetric {
                    row: i,
                    col: j,
                    value: a,
                    mirror: b,
                });
            }
        }
    }
    // Exactly symmetric, exactly unit diagonal.
    let a = DMatrix::from_fn(k, k, |i, j| {
        if i == j {
            1.0
        } else {
            0.5 * (correlation[i][j] + correlation[j][i])
        }
    });
    let min_eig = min_eigenvalue(&a);
    let (matrix, repair) = if min_eig >= PSD_TOL {
        (a, None)
    } else {
        let (fixed, method, iterations) = match higham(&a) {
            Some((m, it)) => (m, RepairMethod::Higham2002, it),
            None => (eigen_clip(&a), RepairMethod::EigenClip, 1),
        };
        let max_change = (&fixed - &a).abs().max();
        (
            fixed,
            Some(Repair {
                method,
                max_change,
                min_eigenvalue_before: min_eig,
                iterations,
            }),
        )
    };
    let factor = factorize(&matrix).ok_or(MarketError::CorrelationUnrepairable)?;
    Ok(ValidCorrelation {
        matrix: (0..k)
            .map(|i| (0..k).map(|j| matrix[(i, j)]).collect())
            .collect(),
        factor,
        repair,
    })
}

fn min_eigenvalue(a: &DMatrix<f64>) -> f64 {
    if a.nrows() == 0 {
        return 1.0;
    }
    a.clone()
        .symmetric_eigenvalues()
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
}

/// `V max(Λ, floor) Vᵀ`, symmetrised, computed with plain loops (no BLAS kernels, so the
/// result does not depend on the CPU).
fn project_psd(a: &DMatrix<f64>, floor: f64) -> DMatrix<f64> {
    let k = a.nrows();
    let eig = a.clone().symmetric_eigen();
    let lam: Vec<f64> = eig.eigenvalues.iter().map(|&l| l.max(floor)).collect();
    let v = &eig.eigenvectors;
    let mut out = DMatrix::zeros(k, k);
    for i in 0..k {
        for j in 0..=i {
            let mut s = 0.0;
            for (m, &l) in lam.iter().enumerate() {
                s += v[(i, m)] * l * v[(j, m)];
            }
            out[(i, j)] = s;
            out[(j, i)] = s;
        }
    }
    out
}

/// Higham's alternating projections with Dykstra's correction. `None` if it does not
/// converge within the iteration budget.
fn higham(a: &DMatrix<f64>) -> Option<(DMatrix<f64>, usize)> {
    let k = a.nrows();
    let mut y = a.clone();
    let mut ds = DMatrix::<f64>::zeros(k, k);
    for it in 1..=HIGHAM_MAX_ITER {
        let r = &y - &ds;
        let x = project_psd(&r, EIG_FLOOR);
        ds = &x - &r;
        let mut y_next = x.clone();
        for i in 0..k {
            y_next[(i, i)] = 1.0;
        }
        let moved = (&y_next - &y).norm();
        let gap = (&y_next - &x).norm();
        y = y_next;
        if moved <= HIGHAM_TOL * (1.0 + y.norm()) && gap <= 1e-9 {
            // Finish on the correlation set with eigenvalues at least the floor.
            return Some((eigen_clip(&y), it));
        }
    }
    None
}

/// Floors the eigenvalues at [`EIG_FLOOR`] and rescales to a unit diagonal.
fn eigen_clip(a: &DMatrix<f64>) -> DMatrix<f64> {
    let k = a.nrows();
    let x = project_psd(a, EIG_FLOOR);
    let d: Vec<f64> = (0..k).map(|i| 1.0 / f64::sqrt(x[(i, i)])).collect();
    DMatrix::from_fn(k, k, |i, j| {
        if i == j {
            1.0
        } else {
            (x[(i, j)] * d[i] * d[j]).clamp(-1.0, 1.0)
        }
    })
}

/// Cholesky factor (row-major), or for a semidefinite matrix the symmetric square root.
fn factorize(a: &DMatrix<f64>) -> Option<Vec<f64>> {
    let k = a.nrows();
    let l = match a.clone().cholesky() {
        Some(c) => c.l(),
        None => {
            let eig = a.clone().symmetric_eigen();
            if eig.eigenvalues.iter().any(|&l| l < -1e-8) {
                return None;
            }
            let v = &eig.eigenvectors;
            DMatrix::from_fn(k, k, |i, j| {
                let mut s = 0.0;
                for m in 0..k {
                    s += v[(i, m)] * f64::sqrt(eig.eigenvalues[m].max(0.0)) * v[(j, m)];
                }
                s
            })
        }
    };
    let out: Vec<f64> = (0..k * k).map(|idx| l[(idx / k, idx % k)]).collect();
    out.iter().all(|v| v.is_finite()).then_some(out)
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;

    #[test]
    fn factor_reproduces_matrix() {
        let c = vec![
            vec![1.0, 0.5, 0.2],
            vec![0.5, 1.0, 0.3],
            vec![0.2, 0.3, 1.0],
        ];
        let v = validate_correlation(&c, 3).unwrap();
        assert!(v.repair.is_none());
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3)
                    .map(|m| v.factor[i * 3 + m] * v.factor[j * 3 + m])
                    .sum();
                assert!((s - c[i][j]).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn semidefinite_matrix_factors_without_repair() {
        let c = vec![vec![1.0, 1.0], vec![1.0, 1.0]];
        let v = validate_correlation(&c, 2).unwrap();
        assert!(v.repair.is_none());
        for i in 0..2 {
            for j in 0..2 {
                let s: f64 = (0..2)
                    .map(|m| v.factor[i * 2 + m] * v.factor[j * 2 + m])
                    .sum();
                assert!((s - 1.0).abs() < 1e-12);
            }
        }
    }
}
