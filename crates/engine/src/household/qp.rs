//! The household QP in Clarabel's form, built once per household and updated in place.
//!
//! Variables (all in units of the household value `V`, so every number is of order 1):
//!
//! ```text
//! x = ( b_t  (one per buy ticket),  z_s  (one per sell segment = lot),  d_i  (one per
//!       security: household weight − target),  y_j  (one per factor: Bᵀd) )
//! ```
//!
//! Objective `½xᵀPx + qᵀx` with `P = 2κ·(diag(D) on d, F on y)` and `q` the proportional
//! costs (spread, % commission, SEC rate, per-share terms ÷ price), the tax per dollar of
//! each segment, and, in a relaxation, the convex envelope `f/U` of each fixed fee.
//!
//! Constraints (`Ax + s = b`): zero cone for `d_i − Σ b + Σ z = h0_i/V − t_i` and
//! `y − Bᵀd = 0`; non-negative cone for the account budgets, the ticket bounds
//! (`Σz ≤ U_on`, `−Σz ≤ −m_on`) and the segment bounds (`0 ≤ z ≤ cap`). Switching a
//! ticket on or off, blocking a segment or changing the fees paid only changes `b` (and
//! `q`), so one factorisation pattern serves every solve of the search; a new trade date
//! with new prices, cash or lot sizes changes only values (`update_P`, `update_A`), so the
//! solver is rebuilt only when the set of lots (the sparsity pattern) changes.

use crate::optimize::clarabel_settings;
use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSolver, IPSolver, NonnegativeConeT, SecondOrderConeT, SolverStatus, SupportedConeT,
    ZeroConeT,
};

/// The fixed structure of a household QP.
pub(crate) struct QpData {
    /// Number of variables.
    pub nv: usize,
    /// P (upper triangle) as triplets.
    pub p: Vec<(usize, usize, f64)>,
    /// A as triplets.
    pub a: Vec<(usize, usize, f64)>,
    /// Rows.
    pub rows: usize,
    /// Leading equality rows.
    pub n_eq: usize,
}

/// A built solver.
pub(crate) struct Qp {
    solver: DefaultSolver<f64>,
    rows: usize,
    nv: usize,
    n_eq: usize,
    tol: f64,
    /// Sparsity patterns (column pointers, row indices) of P and A.
    p_pattern: (Vec<usize>, Vec<usize>),
    a_pattern: (Vec<usize>, Vec<usize>),
}

/// A solve's outcome.
pub(crate) enum QpOutcome {
    /// Solved: x and ½xᵀPx + qᵀx.
    Solved { x: Vec<f64>, obj: f64 },
    /// Primal infeasible.
    Infeasible,
    /// Anything else (iteration limit, numerical trouble).
    Failed(SolverStatus),
}

impl Qp {
    pub(crate) fn new(data: &QpData, q: &[f64], b: &[f64], tol: f64) -> Option<Qp> {
        let (pm, am) = matrices(data);
        let cones: [SupportedConeT<f64>; 2] = [
            ZeroConeT(data.n_eq),
            NonnegativeConeT(data.rows - data.n_eq),
        ];
        let settings = clarabel_settings(tol, 200)?;
        let solver = DefaultSolver::new(&pm, q, &am, b, &cones, settings).ok()?;
        if !solver.is_data_update_allowed() {
            return None;
        }
        Some(Qp {
            solver,
            rows: data.rows,
            nv: data.nv,
            n_eq: data.n_eq,
            tol,
            p_pattern: (pm.colptr, pm.rowval),
            a_pattern: (am.colptr, am.rowval),
        })
    }

    /// The solver of `data`: `cached` updated in place (`update_P`, `update_A`) when its
    /// sparsity pattern, cones and tolerance are those of `data`, a new build otherwise.
    /// Returns the solver and whether it was built anew.
    pub(crate) fn reuse_or_build<'a>(
        cached: &'a mut Option<Qp>,
        data: &QpData,
        q: &[f64],
        b: &[f64],
        tol: f64,
    ) -> Option<(&'a mut Qp, bool)> {
        let (pm, am) = matrices(data);
        let same = cached.as_ref().is_some_and(|c| {
            c.nv == data.nv
                && c.rows == data.rows
                && c.n_eq == data.n_eq
                && c.tol == tol
                && c.p_pattern.0 == pm.colptr
                && c.p_pattern.1 == pm.rowval
                && c.a_pattern.0 == am.colptr
                && c.a_pattern.1 == am.rowval
        });
        if same {
            if let Some(c) = cached.as_mut() {
                if c.solver.update_P(&pm.nzval).is_ok() && c.solver.update_A(&am.nzval).is_ok() {
                    return cached.as_mut().map(|c| (c, false));
                }
            }
        }
        *cached = Some(Qp::new(data, q, b, tol)?);
        cached.as_mut().map(|c| (c, true))
    }

    /// Solves with new `q` and `b` (same structure).
    pub(crate) fn solve(&mut self, q: &[f64], b: &[f64]) -> QpOutcome {
        let qi: Vec<usize> = (0..self.nv).collect();
        let bi: Vec<usize> = (0..self.rows).collect();
        if self.solver.update_q(&(qi, q.to_vec())).is_err()
            || self.solver.update_b(&(bi, b.to_vec())).is_err()
        {
            return QpOutcome::Failed(SolverStatus::Unsolved);
        }
        self.solver.solve();
        let sol = &self.solver.solution;
        match sol.status {
            SolverStatus::Solved | SolverStatus::AlmostSolved => QpOutcome::Solved {
                x: sol.x.clone(),
                obj: sol.obj_val,
            },
            SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => {
                QpOutcome::Infeasible
            }
            s => QpOutcome::Failed(s),
        }
    }
}

type Triplets = (Vec<usize>, Vec<usize>, Vec<f64>);

fn matrices(data: &QpData) -> (CscMatrix<f64>, CscMatrix<f64>) {
    let (pi, pj, pv) = split(&data.p);
    let pm = CscMatrix::new_from_triplets(data.nv, data.nv, pi, pj, pv);
    let (ai, aj, av) = split(&data.a);
    let am = CscMatrix::new_from_triplets(data.rows, data.nv, ai, aj, av);
    (pm, am)
}

fn split(t: &[(usize, usize, f64)]) -> Triplets {
    let mut out = (
        Vec::with_capacity(t.len()),
        Vec::with_capacity(t.len()),
        Vec::with_capacity(t.len()),
    );
    for &(i, j, v) in t {
        out.0.push(i);
        out.1.push(j);
        out.2.push(v);
    }
    out
}

/// Bound tightening: the largest value of each of a set of linear forms `Σ_{j∈S} x_j` over
/// the level set `{ x : Ax + s = b, s in the QP's cones, ½xᵀPx + qᵀx ≤ limit }`.
///
/// With `P = LᵀL`, the quadratic constraint is the second-order cone
/// `‖(√σ·Lx, σ·τ − ½)‖ ≤ σ·τ + ½` on `τ = limit − qᵀx` (σ scales `τ` to order 1), so each
/// maximum is one conic LP. One solver serves every form (`update_q`).
pub(crate) struct LevelSet {
    solver: DefaultSolver<f64>,
    nv: usize,
}

impl LevelSet {
    /// `l`: the rows of `L` as (column, value) pairs.
    pub(crate) fn new(
        data: &QpData,
        l: &[Vec<(usize, f64)>],
        q: &[f64],
        b: &[f64],
        limit: f64,
        tol: f64,
    ) -> Option<LevelSet> {
        let sigma = 1.0 / limit.abs().max(1e-9);
        let mut a = data.a.clone();
        let mut bb = b.to_vec();
        let r0 = data.rows;
        for (j, &qj) in q.iter().enumerate() {
            if qj != 0.0 {
                a.push((r0, j, sigma * qj));
                a.push((r0 + 1, j, sigma * qj));
            }
        }
        bb.push(sigma * limit + 0.5);
        bb.push(sigma * limit - 0.5);
        let root = sigma.sqrt();
        for (r, row) in l.iter().enumerate() {
            for &(j, v) in row {
                a.push((r0 + 2 + r, j, -root * v));
            }
            bb.push(0.0);
        }
        let rows = r0 + 2 + l.len();
        let (ai, aj, av) = split(&a);
        let am = CscMatrix::new_from_triplets(rows, data.nv, ai, aj, av);
        let pm = CscMatrix::<f64>::zeros((data.nv, data.nv));
        let cones: [SupportedConeT<f64>; 3] = [
            ZeroConeT(data.n_eq),
            NonnegativeConeT(data.rows - data.n_eq),
            SecondOrderConeT(2 + l.len()),
        ];
        let settings = clarabel_settings(tol, 200)?;
        let zero = vec![0.0; data.nv];
        let solver = DefaultSolver::new(&pm, &zero, &am, &bb, &cones, settings).ok()?;
        Some(LevelSet {
            solver,
            nv: data.nv,
        })
    }

    /// An upper bound on `max Σ_{j∈vars} x_j` over the level set: the larger of the
    /// primal and dual objectives (the dual one bounds the maximum from above up to the
    /// solver's tolerance). None: unsolved or infeasible (an empty level set).
    pub(crate) fn max_sum(&mut self, vars: &[usize]) -> Option<f64> {
        let mut q = vec![0.0; self.nv];
        for &j in vars {
            q[j] = -1.0;
        }
        let qi: Vec<usize> = (0..self.nv).collect();
        self.solver.update_q(&(qi, q)).ok()?;
        self.solver.solve();
        let sol = &self.solver.solution;
        match sol.status {
            SolverStatus::Solved | SolverStatus::AlmostSolved => {
                Some((-sol.obj_val).max(-sol.obj_val_dual))
            }
            _ => None,
        }
    }
}
