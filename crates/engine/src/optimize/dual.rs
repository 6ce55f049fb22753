//! The exact dual Newton method on the factor structure.
//!
//! With the risk written as κ‖Gᵀ(w−t)‖² + κ Σᵢ Dᵢ(wᵢ−tᵢ)² (G = B V Λ^½ from the
//! eigen-decomposition of F), dualising the `r` factor rows y = Gᵀ(w−t) (multiplier η)
//! and the budget 1ᵀw = 1 (multiplier λ) separates the problem by name. Each name then
//! answers a price sᵢ = gᵢᵀη + λ with a weight wᵢ(sᵢ) that is a monotone, piecewise
//! linear function of the price (its *response*): soft-thresholding around the current
//! weight, clipped to the bounds. The dual function
//!
//! q(η, λ) = −‖η‖²/(4κ) + ηᵀGᵀt + λ + Σᵢ minᵥ [φᵢ(v) − sᵢ v]
//!
//! is concave and continuously differentiable with gradient
//! (−η/(2κ) − Gᵀ(w−t), 1 − 1ᵀw) and a piecewise constant Hessian. Newton's method in the
//! `r + 1` dual variables, with an exact line search over the responses' breakpoints,
//! ends on the right piece, where one Newton step solves the equality-constrained QP of
//! that active set exactly: the gradient then vanishes to rounding and w(η, λ) is the
//! exact optimum (KKT holds by construction of the responses). Each iteration therefore
//! tries the full step first and keeps it when the gradient vanishes there; the line
//! search runs only when the step leaves the piece (warm-started from a nearby problem's
//! dual, a solve takes 2.6 Newton steps on average and ends on a full step nearly always).

/// Most knots a response has: hold band (2), two clip points, two smoothing knots.
const MAX_KNOTS: usize = 6;

/// A monotone piecewise-linear response w(s): knots sorted by price, linear in between,
/// linear with the given end slopes outside.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Response {
    s: [f64; MAX_KNOTS],
    w: [f64; MAX_KNOTS],
    m: usize,
    left_slope: f64,
    right_slope: f64,
}

impl Response {
    /// A name held at `w0` whatever the price.
    pub(crate) fn fixed(w0: f64) -> Self {
        let mut r = Response {
            s: [0.0; MAX_KNOTS],
            w: [0.0; MAX_KNOTS],
            m: 1,
            left_slope: 0.0,
            right_slope: 0.0,
        };
        r.w[0] = w0;
        r
    }

    /// The response of φ(v) = a(v−t)² + c|v−w0| on [l, u] (a > 0): the exact minimiser
    /// of φ(v) − s v.
    pub(crate) fn proportional(a: f64, t: f64, w0: f64, c: f64, l: f64, u: f64) -> Self {
        let two_a = 2.0 * a;
        let unclipped = |s: f64| -> f64 {
            let s_sell = two_a * (w0 - t) - c;
            let s_buy = two_a * (w0 - t) + c;
            if s > s_buy {
                t + (s - c) / two_a
            } else if s < s_sell {
                t + (s + c) / two_a
            } else {
                w0
            }
        };
        let resp = |s: f64| unclipped(s).clamp(l, u);
        let mut cand = [f64::NAN; MAX_KNOTS];
        let mut m = 0;
        cand[m] = two_a * (w0 - t) - c;
        m += 1;
        cand[m] = two_a * (w0 - t) + c;
        m += 1;
        for bound in [l, u] {
            if bound.is_finite() {
                // Price at which the unclipped response reaches the bound.
                let s = if bound >= w0 {
                    two_a * (bound - t) + c
                } else {
                    two_a * (bound - t) - c
                };
                cand[m] = s;
                m += 1;
            }
        }
        let mut r = Response {
            s: [0.0; MAX_KNOTS],
            w: [0.0; MAX_KNOTS],
            m: 0,
            left_slope: if l.is_finite() { 0.0 } else { 1.0 / two_a },
            right_slope: if u.is_finite() { 0.0 } else { 1.0 / two_a },
        };
        cand[..m].sort_by(|x, y| x.total_cmp(y));
        for &s in &cand[..m] {
            if r.m > 0 && s <= r.s[r.m - 1] {
                continue;
            }
            r.s[r.m] = s;
            r.w[r.m] = resp(s);
            r.m += 1;
        }
        r
    }

    /// A response given by explicit knots (sorted, strictly increasing prices).
    pub(crate) fn from_knots(knots: &[(f64, f64)], left_slope: f64, right_slope: f64) -> Self {
        let mut r = Response {
            s: [0.0; MAX_KNOTS],
            w: [0.0; MAX_KNOTS],
            m: 0,
            left_slope,
            right_slope,
        };
        for &(s, w) in knots.iter().take(MAX_KNOTS) {
            if r.m > 0 && s <= r.s[r.m - 1] {
                continue;
            }
            r.s[r.m] = s;
            r.w[r.m] = w;
            r.m += 1;
        }
        r
    }

    /// w(s) and dw/ds.
    #[inline]
    pub(crate) fn eval(&self, s: f64) -> (f64, f64) {
        let m = self.m;
        if s <= self.s[0] {
            return (
                self.w[0] + self.left_slope * (s - self.s[0]),
                self.left_slope,
            );
        }
        if s >= self.s[m - 1] {
            return (
                self.w[m - 1] + self.right_slope * (s - self.s[m - 1]),
                self.right_slope,
            );
        }
        let mut j = 1;
        while self.s[j] < s {
            j += 1;
        }
        let (s0, s1, w0, w1) = (self.s[j - 1], self.s[j], self.w[j - 1], self.w[j]);
        let slope = (w1 - w0) / (s1 - s0);
        (w0 + slope * (s - s0), slope)
    }

    fn knots(&self) -> &[f64] {
        if self.m == 1 && self.left_slope == 0.0 && self.right_slope == 0.0 {
            &[]
        } else {
            &self.s[..self.m]
        }
    }
}

/// The structure shared by every solve of one problem.
#[derive(Debug, Clone)]
pub(crate) struct Structure {
    pub n: usize,
    pub r: usize,
    /// G row-major, n × r.
    pub g: Vec<f64>,
    /// Gᵀt.
    pub gt: Vec<f64>,
    pub kappa: f64,
}

/// Dual variables (η, λ).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dual {
    pub eta: Vec<f64>,
    pub lambda: f64,
}

/// Outcome of a dual Newton solve.
#[derive(Debug, Clone)]
pub(crate) struct DualOutcome {
    pub w: Vec<f64>,
    pub dual: Dual,
    pub iterations: u32,
    pub converged: bool,
    /// Largest absolute KKT residual (budget and factor rows).
    pub residual: f64,
}

/// Buffers re-used across solves.
#[derive(Debug, Clone, Default)]
pub(crate) struct Workspace {
    s: Vec<f64>,
    w: Vec<f64>,
    slope: Vec<f64>,
    /// The full Newton step's prices, weights and gradient.
    s_full: Vec<f64>,
    w_full: Vec<f64>,
    grad_full: Vec<f64>,
    eta_full: Vec<f64>,
    rdir: Vec<f64>,
    alphas: Vec<f64>,
    h: Vec<f64>,
    grad: Vec<f64>,
    d: Vec<f64>,
}

impl Structure {
    /// Name `i`'s price sᵢ = gᵢᵀη + λ.
    #[inline]
    pub(crate) fn price(&self, i: usize, eta: &[f64], lambda: f64) -> f64 {
        let gi = &self.g[i * self.r..(i + 1) * self.r];
        lambda + gi.iter().zip(eta).map(|(a, b)| a * b).sum::<f64>()
    }

    fn prices(&self, eta: &[f64], lambda: f64, s: &mut [f64]) {
        for (i, si) in s.iter_mut().enumerate() {
            *si = self.price(i, eta, lambda);
        }
    }

    /// Gradient of q at the responses `w`: (−η/(2κ) − Gᵀ(w − t), 1 − Σw).
    fn gradient(&self, eta: &[f64], w: &[f64], grad: &mut [f64]) {
        let r = self.r;
        let (rows, budget) = grad.split_at_mut(r);
        for ((gj, e), gt) in rows.iter_mut().zip(eta).zip(&self.gt) {
            *gj = -e / (2.0 * self.kappa) + gt;
        }
        let mut sum = 0.0;
        if r > 0 {
            for (gi, &wi) in self.g.chunks_exact(r).zip(w) {
                for (gj, g) in rows.iter_mut().zip(gi) {
                    *gj -= g * wi;
                }
                sum += wi;
            }
        } else {
            sum = w.iter().fold(0.0, |a, &wi| a + wi);
        }
        budget[0] = 1.0 - sum;
    }

    /// Maximise q from `start` with the given responses.
    pub(crate) fn solve(
        &self,
        resp: &[Response],
        start: &Dual,
        tol: f64,
        max_iter: u32,
        ws: &mut Workspace,
    ) -> DualOutcome {
        let n = self.n;
        let r = self.r;
        let m = r + 1;
        ws.s.resize(n, 0.0);
        ws.w.resize(n, 0.0);
        ws.slope.resize(n, 0.0);
        ws.s_full.resize(n, 0.0);
        ws.w_full.resize(n, 0.0);
        ws.grad_full.resize(m, 0.0);
        ws.eta_full.resize(r, 0.0);
        ws.rdir.resize(n, 0.0);
        ws.h.resize(m * m, 0.0);
        ws.grad.resize(m, 0.0);
        ws.d.resize(m, 0.0);
        let mut dual = start.clone();
        let mut iterations = 0;
        let mut converged = false;
        let mut residual: f64;
        loop {
            self.prices(&dual.eta, dual.lambda, &mut ws.s);
            for i in 0..n {
                let (wi, sl) = resp[i].eval(ws.s[i]);
                ws.w[i] = wi;
                ws.slope[i] = sl;
            }
            self.gradient(&dual.eta, &ws.w, &mut ws.grad);
            residual = max_abs(&ws.grad);
            if residual <= tol {
                converged = true;
                break;
            }
            if iterations >= max_iter {
                break;
            }
            iterations += 1;
            // Newton system: (diag(1/(2κ) I_r, 0) + Σ slopeᵢ aᵢaᵢᵀ) d = ∇q, aᵢ = (gᵢ, 1).
            let h = &mut ws.h;
            h.iter_mut().for_each(|x| *x = 0.0);
            for j in 0..r {
                h[j * m + j] = 1.0 / (2.0 * self.kappa);
            }
            let mut total_slope = 0.0;
            for i in 0..n {
                let sl = ws.slope[i];
                if sl == 0.0 {
                    continue;
                }
                total_slope += sl;
                let gi = &self.g[i * r..(i + 1) * r];
                // Lower triangle of slᵢ aᵢaᵢᵀ, aᵢ = (gᵢ, 1): the factor rows, then the
                // budget row.
                for (a, &va) in gi.iter().enumerate() {
                    let row = &mut h[a * m..a * m + a + 1];
                    for (hb, &vb) in row.iter_mut().zip(gi) {
                        *hb += sl * va * vb;
                    }
                }
                // (The budget row's entry is exactly 1: `sl · 1 · v` is `sl · v`.)
                let last = &mut h[r * m..r * m + m];
                for (hb, &vb) in last.iter_mut().zip(gi) {
                    *hb += sl * vb;
                }
                last[r] += sl;
            }
            // Regularise the budget direction when no name is free to move.
            let reg = 1e-12 * (total_slope + 1.0 / (2.0 * self.kappa));
            for a in 0..m {
                h[a * m + a] += reg;
            }
            if !cholesky_solve(h, m, &ws.grad, &mut ws.d) {
                break;
            }
            // The full step first: on the optimum's piece the Newton step lands on the
            // optimum exactly, which the gradient there shows; the line search below (its
            // breakpoints sorted and bisected) is needed only when the step leaves the piece.
            for j in 0..r {
                ws.eta_full[j] = dual.eta[j] + ws.d[j];
            }
            let lambda_full = dual.lambda + ws.d[r];
            self.prices(&ws.eta_full, lambda_full, &mut ws.s_full);
            for i in 0..n {
                ws.w_full[i] = resp[i].eval(ws.s_full[i]).0;
            }
            self.gradient(&ws.eta_full, &ws.w_full, &mut ws.grad_full);
            let full = max_abs(&ws.grad_full);
            if full <= tol {
                dual.eta.copy_from_slice(&ws.eta_full);
                dual.lambda = lambda_full;
                std::mem::swap(&mut ws.w, &mut ws.w_full);
                residual = full;
                converged = true;
                break;
            }
            // Exact line search along d.
            let d_eta = &ws.d[..r];
            let d_lambda = ws.d[r];
            for i in 0..n {
                let gi = &self.g[i * r..(i + 1) * r];
                ws.rdir[i] = d_lambda + gi.iter().zip(d_eta).map(|(a, b)| a * b).sum::<f64>();
            }
            let eta_d: f64 = dual.eta.iter().zip(d_eta).map(|(a, b)| a * b).sum();
            let dd: f64 = d_eta.iter().map(|x| x * x).sum();
            let gtd: f64 = self.gt.iter().zip(d_eta).map(|(a, b)| a * b).sum();
            let base = -eta_d / (2.0 * self.kappa) + gtd + d_lambda;
            let quad = -dd / (2.0 * self.kappa);
            let s = &ws.s;
            let rdir = &ws.rdir;
            // ψ'(α) = dᵀ∇q(x + αd), decreasing and linear between the breakpoints.
            let dphi = |alpha: f64| -> f64 {
                let mut v = base + quad * alpha;
                for i in 0..n {
                    if rdir[i] != 0.0 {
                        v -= rdir[i] * resp[i].eval(s[i] + alpha * rdir[i]).0;
                    }
                }
                v
            };
            let dphi0 = dphi(0.0);
            if dphi0 <= 0.0 {
                break;
            }
            ws.alphas.clear();
            for i in 0..n {
                let ri = rdir[i];
                if ri == 0.0 {
                    continue;
                }
                for &k in resp[i].knots() {
                    let a = (k - s[i]) / ri;
                    if a > 0.0 && a.is_finite() {
                        ws.alphas.push(a);
                    }
                }
            }
            let alpha = line_root(&mut ws.alphas, dphi, dphi0);
            let Some(alpha) = alpha else { break };
            for j in 0..r {
                dual.eta[j] += alpha * ws.d[j];
            }
            dual.lambda += alpha * ws.d[r];
        }
        DualOutcome {
            w: ws.w.clone(),
            dual,
            iterations,
            converged,
            residual,
        }
    }
}

/// The largest absolute entry; infinite when an entry is NaN (so that a NaN gradient never
/// reads as converged).
fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |a, g| {
        if g.is_nan() {
            f64::INFINITY
        } else {
            crate::num::max(a, g.abs())
        }
    })
}

/// Root of the decreasing piecewise-linear `f` on α > 0 (f(0) = f0 > 0), with breakpoints
/// `alphas`.
fn line_root(alphas: &mut [f64], f: impl Fn(f64) -> f64, f0: f64) -> Option<f64> {
    alphas.sort_unstable_by(|a, b| a.total_cmp(b));
    // Smallest index with f ≤ 0.
    let (mut lo, mut hi) = (0usize, alphas.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if f(alphas[mid]) > 0.0 {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let (a0, f_a0) = if lo == 0 {
        (0.0, f0)
    } else {
        (alphas[lo - 1], f(alphas[lo - 1]))
    };
    let a1 = if lo < alphas.len() {
        alphas[lo]
    } else {
        a0 + 1.0
    };
    let f_a1 = f(a1);
    let denom = f_a0 - f_a1;
    if denom <= 0.0 || !denom.is_finite() {
        return if lo < alphas.len() { Some(a1) } else { None };
    }
    let alpha = a0 + f_a0 * (a1 - a0) / denom;
    if lo < alphas.len() {
        Some(alpha.min(a1))
    } else {
        Some(alpha)
    }
}

/// Solve H x = b for symmetric positive definite H (lower triangle filled), m × m.
fn cholesky_solve(h: &mut [f64], m: usize, b: &[f64], x: &mut [f64]) -> bool {
    if !cholesky_factor(h, m) {
        return false;
    }
    cholesky_substitute(h, m, b, x);
    true
}

/// Cholesky factorisation, in place, of the symmetric positive definite `m × m` matrix
/// whose lower triangle is in `h` (row-major): its lower triangle becomes `L` with
/// `L Lᵀ = H`. `false` when the matrix is not positive definite.
pub(crate) fn cholesky_factor(h: &mut [f64], m: usize) -> bool {
    for j in 0..m {
        let (top, rest) = h.split_at_mut((j + 1) * m);
        let rj = &mut top[j * m..];
        let mut d = rj[j];
        for v in &rj[..j] {
            d -= v * v;
        }
        if d <= 0.0 || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        rj[j] = d;
        let rj = &rj[..j];
        for ri in rest.chunks_exact_mut(m) {
            let mut v = ri[j];
            for (a, c) in ri[..j].iter().zip(rj) {
                v -= a * c;
            }
            ri[j] = v / d;
        }
    }
    true
}

/// Solves `L Lᵀ x = b` with the factor `l` from [`cholesky_factor`].
pub(crate) fn cholesky_substitute(l: &[f64], m: usize, b: &[f64], x: &mut [f64]) {
    for i in 0..m {
        let ri = &l[i * m..i * m + i];
        let mut v = b[i];
        for (a, xk) in ri.iter().zip(&x[..i]) {
            v -= a * xk;
        }
        x[i] = v / l[i * m + i];
    }
    for i in (0..m).rev() {
        let mut v = x[i];
        for k in i + 1..m {
            v -= l[k * m + i] * x[k];
        }
        x[i] = v / l[i * m + i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportional_response_soft_thresholds_and_clips() {
        // a = 1, t = 0.2, w0 = 0.3, c = 0.1, bounds [0, 0.5].
        let r = Response::proportional(1.0, 0.2, 0.3, 0.1, 0.0, 0.5);
        // Hold band: s in [2(0.1) − 0.1, 2(0.1) + 0.1] = [0.1, 0.3].
        assert_eq!(r.eval(0.2).0, 0.3);
        assert!((r.eval(0.5).0 - (0.2 + 0.4 / 2.0)).abs() < 1e-15);
        assert_eq!(r.eval(5.0).0, 0.5);
        assert_eq!(r.eval(-5.0).0, 0.0);
        assert!((r.eval(0.0).0 - (0.2 + 0.1 / 2.0)).abs() < 1e-15);
    }

    #[test]
    fn a_nan_residual_is_never_small() {
        assert_eq!(max_abs(&[1e-20, f64::NAN, 0.0]), f64::INFINITY);
        assert_eq!(max_abs(&[f64::NAN]), f64::INFINITY);
        assert_eq!(max_abs(&[-3.0, 2.0]), 3.0);
        assert_eq!(max_abs(&[]), 0.0);
    }

    #[test]
    fn cholesky_solves_small_system() {
        let mut h = vec![4.0, 0.0, 2.0, 3.0];
        let mut x = vec![0.0; 2];
        assert!(cholesky_solve(&mut h, 2, &[2.0, 5.0], &mut x));
        // [[4,2],[2,3]] x = [2,5] → x = (−0.5, 2).
        assert!((x[0] + 0.5).abs() < 1e-14 && (x[1] - 2.0).abs() < 1e-14);
    }
}
