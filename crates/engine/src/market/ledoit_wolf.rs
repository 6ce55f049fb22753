//! Ledoit–Wolf (2004) shrinkage of a sample covariance towards a scaled identity.

use super::MarketError;

/// Ledoit–Wolf shrinkage covariance of `returns` (T rows × n columns), for calibrating
/// assumptions from imported returns. Returns the shrunk covariance (in the units of the
/// data: daily returns give a daily covariance) and the shrinkage intensity δ ∈ [0, 1].
///
/// With `X_c` the column-demeaned returns, `S = X_cᵀX_c/T`, `μ = tr(S)/n`,
/// `d² = ‖S − μI‖²_F`, `b̄² = (Σᵢⱼ((X_c∘X_c)ᵀ(X_c∘X_c))ᵢⱼ/T − ‖S‖²_F)/T`,
/// `b² = min(b̄², d²)`, `δ = b²/d²` (0 when `b² = 0`): `Σ = (1−δ)S + δμI`. This is
/// scikit-learn's `ledoit_wolf` (Ledoit & Wolf, "A well-conditioned estimator for
/// large-dimensional covariance matrices", J. Multivariate Anal. 88, 2004).
pub fn ledoit_wolf(returns: &[Vec<f64>]) -> Result<(Vec<Vec<f64>>, f64), MarketError> {
    let t = returns.len();
    if t == 0 {
        return Err(MarketError::EmptySeries);
    }
    let n = returns[0].len();
    for (row, r) in returns.iter().enumerate() {
        if r.len() != n {
            return Err(MarketError::RowLength {
                what: "returns",
                row,
                len: r.len(),
                expected: n,
            });
        }
        if let Some(col) = r.iter().position(|v| !v.is_finite()) {
            return Err(MarketError::BadValue {
                what: "returns",
                row,
                col,
                value: r[col],
                reason: "must be a finite number",
            });
        }
    }
    if n == 0 {
        return Ok((Vec::new(), 0.0));
    }
    let tf = t as f64;
    let mut mean = vec![0.0; n];
    for r in returns {
        for (m, v) in mean.iter_mut().zip(r) {
            *m += v;
        }
    }
    for m in &mut mean {
        *m /= tf;
    }
    let xc: Vec<Vec<f64>> = returns
        .iter()
        .map(|r| r.iter().zip(&mean).map(|(v, m)| v - m).collect())
        .collect();
    // S and the sum of squared-product terms, upper triangle then mirrored.
    let mut s = vec![vec![0.0; n]; n];
    let mut sum_x2x2 = 0.0;
    for i in 0..n {
        for j in i..n {
            let mut sij = 0.0;
            let mut qij = 0.0;
            for r in &xc {
                let p = r[i] * r[j];
                sij += p;
                qij += p * p;
            }
            s[i][j] = sij / tf;
            s[j][i] = s[i][j];
            sum_x2x2 += if i == j { qij } else { 2.0 * qij };
        }
    }
    let nf = n as f64;
    let mu = (0..n).map(|i| s[i][i]).sum::<f64>() / nf;
    let mut s_norm2 = 0.0;
    let mut d2 = 0.0;
    for (i, row) in s.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            s_norm2 += v * v;
            let w = if i == j { v - mu } else { v };
            d2 += w * w;
        }
    }
    let b_bar2 = (sum_x2x2 / tf - s_norm2) / tf;
    let b2 = b_bar2.min(d2);
    let delta = if b2 <= 0.0 || d2 <= 0.0 { 0.0 } else { b2 / d2 };
    let cov = s
        .iter()
        .enumerate()
        .map(|(i, row)| {
            row.iter()
                .enumerate()
                .map(|(j, &v)| (1.0 - delta) * v + if i == j { delta * mu } else { 0.0 })
                .collect()
        })
        .collect();
    Ok((cov, delta))
}
