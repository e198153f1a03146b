//! Mehrotra predictor-corrector interior-point method for the structured QP of [`super`].
//!
//! Newton system after eliminating the inequality slacks, with `W` block-diagonal (one `p × p`
//! block per asset: `diag(hd)` plus the barrier terms of its own inequalities) and
//! `Ĉ = [V'; A_eq; A_rows]`:
//!
//! ```text
//! [ W   Ĉ' ] [dz]   [r1]        S = Ĉ W⁻¹ Ĉ' + Ê,  Ê = diag(I_k, 0, s/λ of the dense rows)
//! [ Ĉ  -Ê  ] [ŷ ] = [r2]        S ŷ = Ĉ W⁻¹ r1 - r2,   dz = W⁻¹ (r1 - Ĉ' ŷ)
//! ```
//!
//! The `k` rows of `V'` carry the factor part of `H` (`dv = V'dz` with the `-I` block), so the
//! only dense factorisation is the `m × m` matrix `S` (`m = k + rows`), and both the predictor and
//! the corrector reuse it.

use super::dense::{cholesky, cholesky_solve};
use crate::error::{Error, Result};

/// Largest reduced system: `m × m` is factorised every iteration, and beyond a few hundred rows
/// a general sparse solver would do better than this structure.
const MAX_ROWS: usize = 512;

/// Problem data; `N = n·p` variables laid out asset by asset (`z[i·p + c]`).
pub struct Qp<'a> {
    /// Number of assets.
    pub n: usize,
    /// Variables per asset (1: the weight; 2: the weight and its trade size).
    pub p: usize,
    /// Columns of `V` (factors).
    pub k: usize,
    /// Inequality rows per asset (rows with an infinite right-hand side are absent).
    pub r: usize,
    /// Diagonal of the Hessian, `N`.
    pub hd: &'a [f64],
    /// `n × k` row-major; acts on the first variable of each asset.
    pub v: &'a [f64],
    /// Linear term, `N`.
    pub q: &'a [f64],
    /// Per-asset rows `a'z_i ≤ b`: coefficients `n × r × p`.
    pub la: &'a [f64],
    /// Per-asset right-hand sides `n × r` (`+inf`: no row).
    pub lb: &'a [f64],
    /// Dense equality rows `me × N` and their right-hand side `me`.
    pub ae: &'a [f64],
    pub be: &'a [f64],
    /// Dense inequality rows `mg × N` (`A z ≤ h`) and their right-hand side `mg`.
    pub ag: &'a [f64],
    pub hg: &'a [f64],
}

/// A warm start: a primal point (strictly inside the per-asset bounds) and optionally the
/// multipliers of a nearby problem; each multiplier is raised so that `s·λ >= mu`, which keeps
/// the first iterate centred enough for long steps.
pub struct Start<'a> {
    pub z: &'a [f64],
    pub duals: Option<(&'a [f64], &'a [f64], &'a [f64])>,
    pub mu: f64,
}

/// Stopping rule.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Relative tolerance on the primal and dual residuals and on the duality gap.
    pub tol: f64,
    pub max_iter: usize,
}

/// How the solve ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Optimal = 0,
    MaxIterations = 1,
    /// Multipliers diverge while the primal residual stays: no point satisfies the constraints.
    Infeasible = 2,
    /// A factorisation broke down or a value became non-finite.
    Numerical = 3,
}

/// Primal-dual solution and the last iterate's measures.
#[derive(Clone, Debug)]
pub struct Solution {
    pub z: Vec<f64>,
    /// Multipliers of the equality rows, the dense inequality rows and the per-asset rows.
    pub y: Vec<f64>,
    pub lam_rows: Vec<f64>,
    pub lam_local: Vec<f64>,
    pub status: Status,
    pub iterations: usize,
    pub primal_residual: f64,
    pub dual_residual: f64,
    pub gap: f64,
    /// Derivative of `(z, y, lam_rows, lam_local)` along a change of the gradient `Hz + q` by
    /// `dq` (see [`solve`]), on the final iterate's active set.
    pub sensitivity: Option<[Vec<f64>; 4]>,
}

impl Qp<'_> {
    fn big_n(&self) -> usize {
        self.n * self.p
    }

    fn validate(&self) -> Result<()> {
        let nn = self.big_n();
        if self.p == 0 || self.p > 2 {
            return Err(Error::param("p", self.p, "1 or 2 variables per asset"));
        }
        let me = self.be.len();
        let mg = self.hg.len();
        let checks: [(&'static str, usize, usize); 7] = [
            ("hd", self.hd.len(), nn),
            ("v", self.v.len(), self.n * self.k),
            ("q", self.q.len(), nn),
            ("la", self.la.len(), self.n * self.r * self.p),
            ("lb", self.lb.len(), self.n * self.r),
            ("ae", self.ae.len(), me * nn),
            ("ag", self.ag.len(), mg * nn),
        ];
        for (name, got, want) in checks {
            if got != want {
                return Err(Error::shape(
                    name,
                    format!("{want} values"),
                    format!("{got}"),
                ));
            }
        }
        let finite: [(&'static str, &[f64]); 7] = [
            ("hd", self.hd),
            ("v", self.v),
            ("q", self.q),
            ("la", self.la),
            ("ae", self.ae),
            ("be", self.be),
            ("ag", self.ag),
        ];
        for (name, xs) in finite {
            if let Some(j) = xs.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFinite {
                    name,
                    asset: j,
                    bar: 0,
                    value: xs[j],
                });
            }
        }
        if let Some(j) = self.hd.iter().position(|&h| h < 0.0) {
            return Err(Error::param(
                "hd",
                self.hd[j],
                "a non-negative Hessian diagonal",
            ));
        }
        Ok(())
    }
}

/// Reusable state of one solve: the iterate, its residuals and the factorisations.
struct Ipm<'q, 'a> {
    qp: &'q Qp<'a>,
    m: usize,
    /// `Ĉ = [V'; A_eq; A_rows]` as `m × N` row-major: every product with it is a run of
    /// contiguous dot products or axpys.
    c: Vec<f64>,
    /// `Ĉ` with each asset's block multiplied by `L_i⁻¹` (`W_i = L_i L_i'`), so `S = G G' + Ê`.
    g: Vec<f64>,
    /// Refine the reduced solves (late iterations, where the barrier terms are badly scaled).
    refine: bool,
    /// The iterate.
    x: Point,
    rd: Vec<f64>,
    re: Vec<f64>,
    rg: Vec<f64>,
    rl: Vec<f64>,
    /// Cholesky factors of the per-asset blocks of `W` (`p × p`, lower, row-major).
    wl: Vec<f64>,
    s: Vec<f64>,
    n_ineq: usize,
}

/// A primal-dual point, or a direction between two: weights, equality multipliers, the dense
/// rows' slacks and multipliers, the per-asset rows' slacks and multipliers.
#[derive(Clone)]
struct Point {
    z: Vec<f64>,
    y: Vec<f64>,
    sg: Vec<f64>,
    lg: Vec<f64>,
    sl: Vec<f64>,
    ll: Vec<f64>,
}

impl Point {
    fn axpy(&mut self, alpha: f64, d: &Point) {
        axpy(&mut self.z, alpha, &d.z);
        axpy(&mut self.y, alpha, &d.y);
        axpy(&mut self.sg, alpha, &d.sg);
        axpy(&mut self.lg, alpha, &d.lg);
        axpy(&mut self.sl, alpha, &d.sl);
        axpy(&mut self.ll, alpha, &d.ll);
    }
}

impl<'q, 'a> Ipm<'q, 'a> {
    fn new(qp: &'q Qp<'a>, start: Option<&Start<'_>>) -> Self {
        let nn = qp.big_n();
        let (me, mg, k, p) = (qp.be.len(), qp.hg.len(), qp.k, qp.p);
        let m = k + me + mg;
        let mut c = vec![0.0; m * nn];
        for i in 0..qp.n {
            for a in 0..k {
                c[a * nn + i * p] = qp.v[i * k + a];
            }
        }
        c[k * nn..(k + me) * nn].copy_from_slice(qp.ae);
        c[(k + me) * nn..].copy_from_slice(qp.ag);
        let z = match start {
            Some(st) if st.z.len() == nn => st.z.to_vec(),
            _ => vec![0.0; nn],
        };
        let n_local = qp.lb.iter().filter(|b| b.is_finite()).count();
        let mut ipm = Ipm {
            qp,
            m,
            g: vec![0.0; c.len()],
            c,
            refine: false,
            x: Point {
                z,
                y: vec![0.0; me],
                sg: vec![1.0; mg],
                lg: vec![1.0; mg],
                sl: vec![1.0; qp.n * qp.r],
                ll: vec![0.0; qp.n * qp.r],
            },
            rd: vec![0.0; nn],
            re: vec![0.0; me],
            rg: vec![0.0; mg],
            rl: vec![0.0; qp.n * qp.r],
            wl: vec![0.0; qp.n * p * p],
            s: vec![0.0; m * m],
            n_ineq: n_local + mg,
        };
        ipm.initial_slacks();
        if let Some(Start {
            duals: Some((y, lg, ll)),
            mu,
            ..
        }) = start
        {
            ipm.warm_duals(y, lg, ll, *mu);
        }
        ipm
    }

    /// Slacks from the start point, kept away from zero so the first steps are well centred.
    fn initial_slacks(&mut self) {
        let qp = self.qp;
        let cz = self.cz(&self.x.z);
        let me = qp.be.len();
        for g in 0..qp.hg.len() {
            let gap = qp.hg[g] - cz[qp.k + me + g];
            self.x.sg[g] = gap.max(1e-2 * (1.0 + qp.hg[g].abs()));
            self.x.lg[g] = 1.0;
        }
        for row in 0..qp.n * qp.r {
            if qp.lb[row].is_finite() {
                let gap = qp.lb[row] - self.local_dot(row, &self.x.z);
                self.x.sl[row] = gap.max(1e-2 * (1.0 + qp.lb[row].abs()).min(1.0));
                self.x.ll[row] = 1.0;
            } else {
                self.x.sl[row] = 1.0;
                self.x.ll[row] = 0.0;
            }
        }
    }

    fn warm_duals(&mut self, y: &[f64], lg: &[f64], ll: &[f64], mu: f64) {
        let qp = self.qp;
        if y.len() != self.x.y.len() || lg.len() != self.x.lg.len() || ll.len() != self.x.ll.len() {
            return;
        }
        self.x.y.copy_from_slice(y);
        for ((l, &prev), s) in self.x.lg.iter_mut().zip(lg).zip(&self.x.sg) {
            *l = prev.max(mu / s);
        }
        for (((l, &prev), s), b) in self.x.ll.iter_mut().zip(ll).zip(&self.x.sl).zip(qp.lb) {
            if b.is_finite() {
                *l = prev.max(mu / s);
            }
        }
    }

    /// `a'z_i` of per-asset row `row` (asset `row / r`).
    fn local_dot(&self, row: usize, z: &[f64]) -> f64 {
        let (p, i) = (self.qp.p, row / self.qp.r);
        let a = &self.qp.la[row * p..(row + 1) * p];
        (0..p).map(|c| a[c] * z[i * p + c]).sum()
    }

    /// `Ĉ x`.
    fn cz(&self, x: &[f64]) -> Vec<f64> {
        self.c
            .chunks_exact(x.len().max(1))
            .map(|row| dot(row, x))
            .collect()
    }

    /// `out += Σ_a y_a Ĉ[a]` over the rows `from..`.
    fn add_ct(&self, y: &[f64], from: usize, out: &mut [f64]) {
        let nn = out.len().max(1);
        for (row, &ya) in self.c.chunks_exact(nn).zip(y).skip(from) {
            if ya != 0.0 {
                axpy(out, ya, row);
            }
        }
    }

    /// Residuals of the KKT conditions at the current iterate; returns `(primal, dual, z'Hz)`.
    fn residuals(&mut self) -> (f64, f64, f64) {
        let qp = self.qp;
        let (p, k, me, m) = (qp.p, qp.k, qp.be.len(), self.m);
        let cz = self.cz(&self.x.z);
        let mut mult = vec![0.0; m];
        mult[..k].copy_from_slice(&cz[..k]);
        mult[k..k + me].copy_from_slice(&self.x.y);
        mult[k + me..].copy_from_slice(&self.x.lg);
        // H z = diag(hd) z + V (V'z): the first k rows of Ĉ are V'.
        let mut hz: Vec<f64> = qp.hd.iter().zip(&self.x.z).map(|(h, z)| h * z).collect();
        self.add_ct(&cz[..k], 0, &mut hz);
        let zhz = dot(&hz, &self.x.z);
        let mut rd: Vec<f64> = hz.iter().zip(qp.q).map(|(h, q)| h + q).collect();
        let mut mult_only = mult;
        mult_only[..k].iter_mut().for_each(|x| *x = 0.0);
        self.add_ct(&mult_only, k, &mut rd);
        for row in 0..qp.n * qp.r {
            if qp.lb[row].is_finite() {
                let i = row / qp.r;
                for c in 0..p {
                    rd[i * p + c] += qp.la[row * p + c] * self.x.ll[row];
                }
            }
        }
        self.rd = rd;
        for e in 0..me {
            self.re[e] = cz[k + e] - qp.be[e];
        }
        for g in 0..qp.hg.len() {
            self.rg[g] = cz[k + me + g] + self.x.sg[g] - qp.hg[g];
        }
        for row in 0..qp.n * qp.r {
            self.rl[row] = if qp.lb[row].is_finite() {
                self.local_dot(row, &self.x.z) + self.x.sl[row] - qp.lb[row]
            } else {
                0.0
            };
        }
        let primal = inf_norm(&self.re)
            .max(inf_norm(&self.rg))
            .max(inf_norm(&self.rl));
        (primal, inf_norm(&self.rd), zhz)
    }

    /// Factorises `W` and `S` for the current slacks and multipliers.
    fn factorise(&mut self) -> bool {
        let qp = self.qp;
        let (p, k, me, m) = (qp.p, qp.k, qp.be.len(), self.m);
        // A tiny proximal term keeps blocks of variables without curvature or bounds invertible.
        let reg = 1e-13 * (1.0 + qp.hd.iter().fold(0.0_f64, |a, &b| a.max(b)));
        self.s.iter_mut().for_each(|x| *x = 0.0);
        let mut w = [0.0; 4];
        for i in 0..qp.n {
            w.iter_mut().for_each(|x| *x = 0.0);
            for c in 0..p {
                w[c * p + c] = qp.hd[i * p + c] + reg;
            }
            for l in 0..qp.r {
                let rr = i * qp.r + l;
                if qp.lb[rr].is_finite() {
                    let d = self.x.ll[rr] / self.x.sl[rr];
                    let a = &qp.la[rr * p..(rr + 1) * p];
                    for c in 0..p {
                        for e in 0..p {
                            w[c * p + e] += d * a[c] * a[e];
                        }
                    }
                }
            }
            let l = &mut self.wl[i * p * p..(i + 1) * p * p];
            l.copy_from_slice(&w[..p * p]);
            if !cholesky(l, p, 1e-300) {
                return false;
            }
        }
        let nn = qp.big_n();
        for (grow, crow) in self
            .g
            .chunks_exact_mut(nn.max(1))
            .zip(self.c.chunks_exact(nn.max(1)))
        {
            if p == 1 {
                for ((g, c), l) in grow.iter_mut().zip(crow).zip(&self.wl) {
                    *g = c / l;
                }
                continue;
            }
            for i in 0..qp.n {
                let l = &self.wl[i * p * p..(i + 1) * p * p];
                let (gi, ci) = (&mut grow[i * p..(i + 1) * p], &crow[i * p..(i + 1) * p]);
                for c in 0..p {
                    let mut x = ci[c];
                    for e in 0..c {
                        x -= l[c * p + e] * gi[e];
                    }
                    gi[c] = x / l[c * p + c];
                }
            }
        }
        for a in 0..m {
            for b in 0..=a {
                self.s[a * m + b] =
                    dot(&self.g[a * nn..(a + 1) * nn], &self.g[b * nn..(b + 1) * nn]);
            }
        }
        for a in 0..k {
            self.s[a * m + a] += 1.0;
        }
        for g in 0..qp.hg.len() {
            let a = k + me + g;
            self.s[a * m + a] += self.x.sg[g] / self.x.lg[g];
        }
        let scale = (0..m).fold(0.0_f64, |acc, a| acc.max(self.s[a * m + a]));
        cholesky(&mut self.s, m, 1e-14 * scale.max(1e-300))
    }

    /// `W⁻¹ x` in place, block by block.
    fn w_solve(&self, x: &mut [f64]) {
        let p = self.qp.p;
        if p == 1 {
            x.iter_mut().zip(&self.wl).for_each(|(x, l)| *x /= l * l);
            return;
        }
        for i in 0..self.qp.n {
            cholesky_solve(
                &self.wl[i * p * p..(i + 1) * p * p],
                p,
                &mut x[i * p..(i + 1) * p],
            );
        }
    }

    /// Solves the reduced system for `(dz, ŷ)`, with one round of iterative refinement.
    fn reduced_solve(&self, r1: &[f64], r2: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (mut dz, mut yh) = self.reduced_solve_once(r1, r2);
        if !self.refine {
            return (dz, yh);
        }
        let (e1, e2) = self.reduced_residual(r1, r2, &dz, &yh);
        let (cz, cy) = self.reduced_solve_once(&e1, &e2);
        dz.iter_mut().zip(&cz).for_each(|(a, b)| *a += b);
        yh.iter_mut().zip(&cy).for_each(|(a, b)| *a += b);
        (dz, yh)
    }

    fn reduced_solve_once(&self, r1: &[f64], r2: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let m = self.m;
        let mut w1 = r1.to_vec();
        self.w_solve(&mut w1);
        let mut t = self.cz(&w1);
        t.iter_mut().zip(r2).for_each(|(a, b)| *a -= b);
        cholesky_solve(&self.s, m, &mut t);
        let mut dz = r1.to_vec();
        let neg: Vec<f64> = t.iter().map(|x| -x).collect();
        self.add_ct(&neg, 0, &mut dz);
        self.w_solve(&mut dz);
        (dz, t)
    }

    /// `(r1 - W dz - Ĉ'ŷ, r2 - Ĉ dz + Ê ŷ)`.
    fn reduced_residual(
        &self,
        r1: &[f64],
        r2: &[f64],
        dz: &[f64],
        yh: &[f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let qp = self.qp;
        let (p, k, me) = (qp.p, qp.k, qp.be.len());
        let mut e1 = r1.to_vec();
        for i in 0..qp.n {
            // W_i = L L'; multiply through the factor to avoid storing W twice.
            let l = &self.wl[i * p * p..(i + 1) * p * p];
            let x = &dz[i * p..(i + 1) * p];
            let mut lt = [0.0; 2];
            for c in 0..p {
                lt[c] = (c..p).map(|e| l[e * p + c] * x[e]).sum();
            }
            for c in 0..p {
                e1[i * p + c] -= (0..=c).map(|e| l[c * p + e] * lt[e]).sum::<f64>();
            }
        }
        let neg: Vec<f64> = yh.iter().map(|x| -x).collect();
        self.add_ct(&neg, 0, &mut e1);
        let cdz = self.cz(dz);
        let mut e2: Vec<f64> = r2.iter().zip(&cdz).map(|(r, c)| r - c).collect();
        for a in 0..k {
            e2[a] += yh[a];
        }
        for g in 0..qp.hg.len() {
            e2[k + me + g] += self.x.sg[g] / self.x.lg[g] * yh[k + me + g];
        }
        (e1, e2)
    }

    /// Newton direction for complementarity targets `s∘λ → rc` (`rcl` per-asset, `rcg` dense).
    fn direction(&self, rcl: &[f64], rcg: &[f64]) -> Point {
        let qp = self.qp;
        let (p, k, me, m) = (qp.p, qp.k, qp.be.len(), self.m);
        let mut r1: Vec<f64> = self.rd.iter().map(|x| -x).collect();
        for (row, rc) in rcl.iter().enumerate() {
            if qp.lb[row].is_finite() {
                let i = row / qp.r;
                let f = (self.x.ll[row] * self.rl[row] - rc) / self.x.sl[row];
                for c in 0..p {
                    r1[i * p + c] -= qp.la[row * p + c] * f;
                }
            }
        }
        let mut r2 = vec![0.0; m];
        for e in 0..me {
            r2[k + e] = -self.re[e];
        }
        for g in 0..qp.hg.len() {
            r2[k + me + g] = -self.rg[g] + rcg[g] / self.x.lg[g];
        }
        let (dz, yh) = self.reduced_solve(&r1, &r2);
        let cdz = self.cz(&dz);
        let mut dsl = vec![0.0; qp.n * qp.r];
        let mut dll = vec![0.0; qp.n * qp.r];
        for row in 0..qp.n * qp.r {
            if qp.lb[row].is_finite() {
                let c = self.local_dot(row, &dz);
                dll[row] = (self.x.ll[row] * (c + self.rl[row]) - rcl[row]) / self.x.sl[row];
                dsl[row] = -self.rl[row] - c;
            }
        }
        let mg = qp.hg.len();
        let dlg = yh[k + me..].to_vec();
        let dsg = (0..mg).map(|g| -self.rg[g] - cdz[k + me + g]).collect();
        Point {
            z: dz,
            y: yh[k..k + me].to_vec(),
            sg: dsg,
            lg: dlg,
            sl: dsl,
            ll: dll,
        }
    }

    /// Largest step in `(0, 1]` keeping every slack and multiplier non-negative.
    fn max_step(&self, d: &Point) -> f64 {
        let mut alpha: f64 = 1.0;
        let mut limit = |x: f64, dx: f64| {
            if dx < 0.0 {
                alpha = alpha.min(-x / dx);
            }
        };
        for row in 0..self.x.sl.len() {
            if self.qp.lb[row].is_finite() {
                limit(self.x.sl[row], d.sl[row]);
                limit(self.x.ll[row], d.ll[row]);
            }
        }
        for g in 0..self.x.sg.len() {
            limit(self.x.sg[g], d.sg[g]);
            limit(self.x.lg[g], d.lg[g]);
        }
        alpha
    }

    fn complementarity(&self) -> f64 {
        let local: f64 = (0..self.x.sl.len())
            .filter(|&r| self.qp.lb[r].is_finite())
            .map(|r| self.x.sl[r] * self.x.ll[r])
            .sum();
        local
            + self
                .x
                .sg
                .iter()
                .zip(&self.x.lg)
                .map(|(s, l)| s * l)
                .sum::<f64>()
    }

    /// `H₁ z = ((hd - hd_fixed)∘z + V V'z) / a`: the gradient's derivative in the risk weight.
    fn risk_gradient(&self, a: f64, fixed: &[f64]) -> Vec<f64> {
        let k = self.qp.k;
        let vz = self.cz(&self.x.z);
        let mut g: Vec<f64> = (0..self.x.z.len())
            .map(|j| (self.qp.hd[j] - fixed[j]) * self.x.z[j])
            .collect();
        self.add_ct(&vz[..k], 0, &mut g);
        g.iter_mut().for_each(|x| *x /= a);
        g
    }
}

fn inf_norm(x: &[f64]) -> f64 {
    x.iter().fold(0.0, |a, &b| a.max(b.abs()))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four accumulators: lets the compiler keep several FMAs in flight.
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

fn axpy(y: &mut [f64], a: f64, x: &[f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
}

/// Solves `qp` from `start` (an `N`-vector; zeros when `None` or of the wrong length).
///
/// With `scale = Some((a, hd_fixed))`, where `H = a·H₁ + diag(hd_fixed)`, also returns how the
/// solution moves per unit of `a`: one more solve with the last factorisation for the gradient
/// change `H₁ z`, in which the huge barrier terms of active bounds pin their variables.
pub fn solve(
    qp: &Qp<'_>,
    settings: Settings,
    start: Option<&Start<'_>>,
    scale: Option<(f64, &[f64])>,
) -> Result<Solution> {
    qp.validate()?;
    if qp.k + qp.be.len() + qp.hg.len() > MAX_ROWS {
        return Err(Error::param(
            "rows",
            qp.k + qp.be.len() + qp.hg.len(),
            format!(
                "at most {MAX_ROWS} factors plus constraint rows (the reduced system is dense)"
            ),
        ));
    }
    let mut ipm = Ipm::new(qp, start);
    let data_scale = 1.0 + inf_norm(qp.q).max(inf_norm(qp.hd));
    let rhs_scale = 1.0
        + inf_norm(qp.be)
            .max(qp.hg.iter().fold(0.0_f64, |a, &b| a.max(b.abs())))
            .max(
                qp.lb
                    .iter()
                    .filter(|b| b.is_finite())
                    .fold(0.0_f64, |a, &b| a.max(b.abs())),
            );
    let mut status = Status::MaxIterations;
    let mut iterations = 0;
    let (mut primal, mut dual, mut gap) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    let n_ineq = ipm.n_ineq.max(1) as f64;
    // The best iterate so far (by its worst measure): near the solution, round-off can make the
    // barrier terms overflow or the residuals stall; the answer is then the best point seen, never
    // the garbage of a broken step.
    let mut best: Option<(f64, Point, [f64; 3])> = None;
    let mut stalled = 0;
    while iterations <= settings.max_iter {
        let (pr, du, zhz) = ipm.residuals();
        let comp = ipm.complementarity();
        let obj = 0.5 * zhz + qp.q.iter().zip(&ipm.x.z).map(|(a, b)| a * b).sum::<f64>();
        primal = pr / rhs_scale;
        dual = du / data_scale;
        gap = comp / (1.0 + obj.abs());
        if !(primal.is_finite() && dual.is_finite() && gap.is_finite()) {
            status = Status::Numerical;
            break;
        }
        if primal <= settings.tol && dual <= settings.tol && gap <= settings.tol {
            status = Status::Optimal;
            best = None;
            break;
        }
        let merit = primal.max(dual).max(gap);
        // Stalling only counts near the end: early on a residual may plateau for a few steps
        // while the barrier parameter catches up.
        match &best {
            Some((b, _, _)) if merit >= 0.5 * b && merit <= 1e3 * settings.tol => stalled += 1,
            _ => stalled = 0,
        }
        if best.as_ref().is_none_or(|(b, _, _)| merit < *b) {
            best = Some((merit, ipm.x.clone(), [primal, dual, gap]));
        }
        if stalled >= 5 {
            break;
        }
        let lam_max = inf_norm(&ipm.x.ll)
            .max(inf_norm(&ipm.x.lg))
            .max(inf_norm(&ipm.x.y));
        if lam_max > 1e13 * data_scale && primal > settings.tol {
            status = Status::Infeasible;
            break;
        }
        if iterations == settings.max_iter {
            break;
        }
        iterations += 1;
        if !ipm.factorise() {
            status = Status::Numerical;
            break;
        }
        let mu = comp / n_ineq;
        ipm.refine = gap < 1e-6;
        // Predictor: pure Newton (affine) step.
        let zl = vec![0.0; ipm.x.sl.len()];
        let zg = vec![0.0; ipm.x.sg.len()];
        let aff = ipm.direction_with(&zl, &zg);
        let a_aff = ipm.max_step(&aff);
        let mut mu_aff = 0.0;
        for row in 0..ipm.x.sl.len() {
            if qp.lb[row].is_finite() {
                mu_aff +=
                    (ipm.x.sl[row] + a_aff * aff.sl[row]) * (ipm.x.ll[row] + a_aff * aff.ll[row]);
            }
        }
        for g in 0..ipm.x.sg.len() {
            mu_aff += (ipm.x.sg[g] + a_aff * aff.sg[g]) * (ipm.x.lg[g] + a_aff * aff.lg[g]);
        }
        mu_aff /= n_ineq;
        let sigma = (mu_aff / mu.max(1e-300)).powi(3).clamp(0.0, 1.0);
        // Corrector: centring plus the second-order term of the predictor.
        let rcl: Vec<f64> = (0..ipm.x.sl.len())
            .map(|r| aff.sl[r] * aff.ll[r] - sigma * mu)
            .collect();
        let rcg: Vec<f64> = (0..ipm.x.sg.len())
            .map(|g| aff.sg[g] * aff.lg[g] - sigma * mu)
            .collect();
        let step = ipm.direction_with(&rcl, &rcg);
        let alpha = (0.995 * ipm.max_step(&step)).min(1.0);
        ipm.x.axpy(alpha, &step);
    }
    if let Some((_, snap, [p, d, g])) = best {
        ipm.x = snap;
        (primal, dual, gap) = (p, d, g);
        if primal <= settings.tol && dual <= settings.tol && gap <= settings.tol {
            status = Status::Optimal;
        } else if status == Status::Numerical {
            status = Status::MaxIterations;
        }
    }
    let sensitivity = match scale {
        Some((a, fixed)) if a > 0.0 && fixed.len() == qp.big_n() && ipm.factorise() => {
            ipm.refine = true;
            ipm.rd = ipm.risk_gradient(a, fixed);
            ipm.re.iter_mut().for_each(|x| *x = 0.0);
            ipm.rg.iter_mut().for_each(|x| *x = 0.0);
            ipm.rl.iter_mut().for_each(|x| *x = 0.0);
            let d = ipm.direction(&vec![0.0; ipm.x.sl.len()], &vec![0.0; ipm.x.sg.len()]);
            Some([d.z, d.y, d.lg, d.ll])
        }
        _ => None,
    };
    Ok(Solution {
        sensitivity,
        z: ipm.x.z,
        y: ipm.x.y,
        lam_rows: ipm.x.lg,
        lam_local: ipm.x.ll,
        status,
        iterations,
        primal_residual: primal,
        dual_residual: dual,
        gap,
    })
}

impl Ipm<'_, '_> {
    /// Corrector direction: targets `s∘λ = -(Δs∘Δλ) + σμ`, i.e. `rc = s∘λ + Δs_aff∘Δλ_aff - σμ`.
    fn direction_with(&self, corr_l: &[f64], corr_g: &[f64]) -> Point {
        let rcl: Vec<f64> = (0..self.x.sl.len())
            .map(|r| {
                if self.qp.lb[r].is_finite() {
                    self.x.sl[r] * self.x.ll[r] + corr_l[r]
                } else {
                    0.0
                }
            })
            .collect();
        let rcg: Vec<f64> = (0..self.x.sg.len())
            .map(|g| self.x.sg[g] * self.x.lg[g] + corr_g[g])
            .collect();
        self.direction(&rcl, &rcg)
    }
}
