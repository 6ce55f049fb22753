//! The reference path: the convex problem (proportional costs only) through Clarabel.
//!
//! Variables x = (w, u⁺, u⁻, y) with w − u⁺ + u⁻ = w0, y = Gᵀ(w − t), 1ᵀw = 1,
//! l ≤ w ≤ u, u± ≥ 0; objective κ‖y‖² + κ Σ Dᵢ(wᵢ − tᵢ)² + cᵀ(u⁺ + u⁻). The built solver
//! is kept and re-used through Clarabel's data-updating API (`update_q`, `update_b`) when
//! only the current weights or costs change.

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettings, DefaultSettingsBuilder, DefaultSolver, IPSolver, NonnegativeConeT,
    SolverStatus, SupportedConeT, ZeroConeT,
};

use super::Prepared;

/// Clarabel's settings for every solve of the engine: quiet, no presolve (the models are
/// updated in place), gap and feasibility tolerances `tol`, at most `max_iter` iterations.
pub(crate) fn clarabel_settings(tol: f64, max_iter: u32) -> Option<DefaultSettings<f64>> {
    DefaultSettingsBuilder::default()
        .verbose(false)
        .presolve_enable(false)
        .tol_gap_abs(tol)
        .tol_gap_rel(tol)
        .tol_feas(tol)
        .max_iter(max_iter)
        .build()
        .ok()
}

/// A built Clarabel solver for one problem's sparsity pattern.
pub(crate) struct ClarabelModel {
    solver: DefaultSolver<f64>,
    n: usize,
    r: usize,
}

/// Clarabel's answer: weights, multipliers (η, λ) in the engine's sign convention.
pub(crate) struct ClarabelAnswer {
    pub w: Vec<f64>,
    pub eta: Vec<f64>,
    pub lambda: f64,
    pub status: SolverStatus,
    pub iterations: u32,
}

impl ClarabelModel {
    pub(crate) fn new(p: &Prepared, tol: f64, max_iter: u32) -> Option<Self> {
        let n = p.n;
        let r = p.structure.r;
        let nv = 3 * n + r;
        // P: 2κ D on w, 2κ I on y (upper triangle, diagonal only).
        let mut colptr = Vec::with_capacity(nv + 1);
        let mut rowval = Vec::new();
        let mut nzval = Vec::new();
        colptr.push(0);
        for j in 0..nv {
            if j < n {
                rowval.push(j);
                nzval.push(2.0 * p.a[j]);
            } else if j >= 3 * n {
                rowval.push(j);
                nzval.push(2.0 * p.structure.kappa);
            }
            colptr.push(rowval.len());
        }
        let pm = CscMatrix::new(nv, nv, colptr, rowval, nzval);
        let q = Self::linear_term(p);
        // Constraints as triplets.
        let (mut ri, mut ci, mut vi) = (Vec::new(), Vec::new(), Vec::new());
        let mut b = Vec::new();
        let mut row = 0;
        // Budget.
        for j in 0..n {
            ri.push(row);
            ci.push(j);
            vi.push(1.0);
        }
        b.push(1.0);
        row += 1;
        // w − u⁺ + u⁻ = w0.
        for i in 0..n {
            ri.extend([row, row, row]);
            ci.extend([i, n + i, 2 * n + i]);
            vi.extend([1.0, -1.0, 1.0]);
            b.push(p.w0[i]);
            row += 1;
        }
        // Gᵀw − y = Gᵀt.
        for j in 0..r {
            for i in 0..n {
                let g = p.structure.g[i * r + j];
                if g != 0.0 {
                    ri.push(row);
                    ci.push(i);
                    vi.push(g);
                }
            }
            ri.push(row);
            ci.push(3 * n + j);
            vi.push(-1.0);
            b.push(p.structure.gt[j]);
            row += 1;
        }
        let n_eq = row;
        // Bounds: −w ≤ −l, w ≤ u; u± ≥ 0.
        for i in 0..n {
            if p.l[i].is_finite() {
                ri.push(row);
                ci.push(i);
                vi.push(-1.0);
                b.push(-p.l[i]);
                row += 1;
            }
            if p.u[i].is_finite() {
                ri.push(row);
                ci.push(i);
                vi.push(1.0);
                b.push(p.u[i]);
                row += 1;
            }
        }
        for j in n..3 * n {
            ri.push(row);
            ci.push(j);
            vi.push(-1.0);
            b.push(0.0);
            row += 1;
        }
        let am = CscMatrix::new_from_triplets(row, nv, ri, ci, vi);
        let cones: [SupportedConeT<f64>; 2] = [ZeroConeT(n_eq), NonnegativeConeT(row - n_eq)];
        let settings = clarabel_settings(tol, max_iter)?;
        let solver = DefaultSolver::new(&pm, &q, &am, &b, &cones, settings).ok()?;
        Some(ClarabelModel { solver, n, r })
    }

    fn linear_term(p: &Prepared) -> Vec<f64> {
        let n = p.n;
        let mut q = vec![0.0; 3 * n + p.structure.r];
        for i in 0..n {
            q[i] = -2.0 * p.a[i] * p.t[i];
            q[n + i] = p.c[i];
            q[2 * n + i] = p.c[i];
        }
        q
    }

    /// Re-target the built solver at new current weights (same everything else).
    pub(crate) fn update_current(&mut self, w0: &[f64]) -> bool {
        let updates: Vec<(usize, f64)> = w0.iter().enumerate().map(|(i, &v)| (1 + i, v)).collect();
        let idx: Vec<usize> = updates.iter().map(|x| x.0).collect();
        let val: Vec<f64> = updates.iter().map(|x| x.1).collect();
        self.solver.update_b(&(idx, val)).is_ok()
    }

    pub(crate) fn solve(&mut self) -> ClarabelAnswer {
        self.solver.solve();
        let sol = &self.solver.solution;
        let n = self.n;
        let z = &sol.z;
        let eta = (0..self.r).map(|j| -z[1 + n + j]).collect();
        ClarabelAnswer {
            w: sol.x[..n].to_vec(),
            eta,
            lambda: -z[0],
            status: sol.status,
            iterations: sol.iterations,
        }
    }
}
