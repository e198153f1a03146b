//! The per-date regression of [`super::wls`] for `L` consecutive dates at once, without
//! transposing, like [`super::zrows`]: each pass walks the assets' styles (in the panel, or in a
//! contiguous copy of the block) and accumulates one lane per date, so nothing is compacted per
//! date. Two passes: the sums (which assets enter each date, industry sums, raw normal
//! equations), then residuals and fit. Every date is reduced over the assets in their order,
//! whatever the thread count or the grouping of dates.

use super::columns::{prefetch, SharedOut};
use super::linalg::Cholesky;
use super::wls::{RegressionInputs, SharedOutputs};
use super::zrows::{fin, lanes};

/// Rows prefetched ahead of the one in use (rows lie a page or more apart).
const AHEAD: usize = 12;

/// Per-worker buffers, `[asset][lane]` and `[industry][style][lane]`.
#[derive(Default)]
pub struct RegScratch {
    ok: Vec<bool>,
    /// Pass 1's return and weight lanes of each asset, `[asset][y lanes, w lanes]`, for pass 2.
    yw: Vec<f64>,
    ag: Vec<f64>,
    /// A block's styles `[style][asset][lane]`, when the caller copies them (`super::wls`).
    pub(crate) copy: Vec<f64>,
}

/// One block: style `s` of asset `i` on date `t0 + l` is `x[(s * n + i) * stride + first + l]`,
/// i.e. the panel `(k, n, t)` (`stride = t`, `first = t0`) or a contiguous copy of the block
/// (`stride = L`, `first = 0`).
pub struct RegRows<'a> {
    pub inp: &'a RegressionInputs<'a>,
    pub x: SharedOut,
    pub stride: usize,
    pub first: usize,
    pub t0: usize,
}

/// One date's sums after the first two passes.
struct Sums {
    wg: Vec<f64>,
    yg: Vec<f64>,
    cg: Vec<f64>,
    ag: Vec<f64>,
    nobs: usize,
}

impl RegRows<'_> {
    /// The `L` values of `panel` (rows of `t`) at row `i` from date `from`, NaN past the end.
    #[inline(always)]
    fn lanes<const L: usize>(&self, panel: &[f64], i: usize, from: usize, fill: f64) -> [f64; L] {
        let t = self.inp.t;
        if panel.is_empty() {
            return [fill; L];
        }
        let at = i * t + from;
        prefetch(panel.as_ptr(), at + AHEAD * t, L);
        if from + L <= t {
            std::array::from_fn(|l| panel[at + l])
        } else {
            std::array::from_fn(|l| {
                if from + l < t {
                    panel[at + l]
                } else {
                    f64::NAN
                }
            })
        }
    }

    /// Style `s` of asset `i`.
    ///
    /// # Safety
    /// Columns `t0..t0 + L` of `x` must belong to the caller (read only here).
    #[inline(always)]
    unsafe fn xrow<const L: usize>(&self, s: usize, i: usize) -> [f64; L] {
        let at = (s * self.inp.n + i) * self.stride + self.first;
        self.x.prefetch(at + AHEAD * self.stride, L);
        unsafe { *self.x.array_mut::<L>(at) }
    }

    /// Return, regression weight and share weight of asset `i`.
    #[inline(always)]
    fn ywsh<const L: usize>(&self, i: usize) -> ([f64; L], [f64; L], [f64; L]) {
        let inp = self.inp;
        let y = self.lanes::<L>(inp.returns, i, self.t0 + inp.lead, f64::NAN);
        let shares = if inp.shares.is_empty() {
            inp.weights
        } else {
            inp.shares
        };
        let sh = self.lanes::<L>(shares, i, self.t0, 1.0);
        let w = if !inp.weights.is_empty() {
            self.lanes::<L>(inp.weights, i, self.t0, 1.0)
        } else if inp.sqrt_shares && !inp.shares.is_empty() {
            sh.map(f64::sqrt)
        } else {
            [1.0; L]
        };
        (y, w, sh)
    }

    /// Regresses the `L` dates of the block; see [`super::wls`] for the rules.
    ///
    /// # Safety
    /// Columns `t0..t0 + L` of `x` and of the outputs must belong to the caller.
    #[inline(always)]
    pub unsafe fn regress<const L: usize>(&self, outs: SharedOutputs, sc: &mut RegScratch) {
        let inp = self.inp;
        let (k, n, g) = (inp.k, inp.n, inp.n_industries);
        let active: [bool; L] = std::array::from_fn(|l| self.t0 + l >= inp.first);
        // Pass 1: which assets enter each date, the industry sums and the raw normal equations
        // sum w x x' and sum w x y; the within-industry ones follow from them per date.
        let mut wg = vec![[0.0; L]; g];
        let mut yg = vec![[0.0; L]; g];
        let mut cg = vec![[0.0; L]; g];
        sc.ag.clear();
        sc.ag.resize(g * k * L, 0.0);
        let mut m = vec![[0.0; L]; k * k];
        let mut r = vec![[0.0; L]; k];
        let mut xm = vec![[0.0; L]; k];
        let mut nobs = [0usize; L];
        sc.ok.clear();
        sc.yw.clear();
        for i in 0..n {
            let (y, w, sh) = self.ywsh::<L>(i);
            sc.yw.extend(y);
            sc.yw.extend(w);
            let code = inp.industries[i];
            let mut ok: [bool; L] = std::array::from_fn(|l| {
                active[l] && code >= 0 && fin(y[l]) && w[l] > 0.0 && sh[l] >= 0.0
            });
            for s in 0..k {
                xm[s] = unsafe { self.xrow::<L>(s, i) };
                for l in 0..L {
                    ok[l] &= fin(xm[s][l]);
                }
            }
            sc.ok.extend(ok);
            if code < 0 {
                continue;
            }
            let c = code as usize;
            let wm: [f64; L] = std::array::from_fn(|l| if ok[l] { w[l] } else { 0.0 });
            let ym: [f64; L] = std::array::from_fn(|l| if ok[l] { y[l] } else { 0.0 });
            for l in 0..L {
                wg[c][l] += wm[l];
                yg[c][l] += wm[l] * ym[l];
                cg[c][l] += if ok[l] { sh[l] } else { 0.0 };
                nobs[l] += usize::from(ok[l]);
            }
            for s in 0..k {
                for l in 0..L {
                    xm[s][l] = if ok[l] { xm[s][l] } else { 0.0 };
                }
                let a = &mut sc.ag[(c * k + s) * L..(c * k + s + 1) * L];
                for (a, (w, x)) in a.iter_mut().zip(wm.iter().zip(&xm[s])) {
                    *a += w * x;
                }
            }
            for a in 0..k {
                let wx: [f64; L] = std::array::from_fn(|l| wm[l] * xm[a][l]);
                for l in 0..L {
                    r[a][l] += wx[l] * ym[l];
                }
                // Row `a` of the lower triangle as zipped slices (an inclusive range indexing
                // `m` left a bounds check per entry, and the lanes were done one at a time).
                for (mb, xb) in m[a * k..a * k + a + 1].iter_mut().zip(&xm[..a + 1]) {
                    *mb = std::array::from_fn(|l| mb[l] + wx[l] * xb[l]);
                }
            }
        }
        // Per date: industry means, the within-industry system (sum w x x' less
        // sum_g W_g abar_g abar_g', likewise for x y), and whether the date can be regressed.
        let mut skip = [false; L];
        let mut ctot = [0.0; L];
        for l in 0..L {
            let g_ne = (0..g).filter(|&c| wg[c][l] > 0.0).count();
            ctot[l] = (0..g).map(|c| cg[c][l]).sum();
            skip[l] = !active[l] || nobs[l] < g_ne + k + 1 || ctot[l].is_nan() || ctot[l] <= 0.0;
            for c in 0..g {
                let wc = wg[c][l];
                if wc > 0.0 {
                    yg[c][l] /= wc;
                    for s in 0..k {
                        sc.ag[(c * k + s) * L + l] /= wc;
                    }
                    let ab = |s: usize| sc.ag[(c * k + s) * L + l];
                    for a in 0..k {
                        let wa = wc * ab(a);
                        r[a][l] -= wa * yg[c][l];
                        for b in 0..=a {
                            m[a * k + b][l] -= wa * ab(b);
                        }
                    }
                }
            }
        }
        let mut chols: Vec<Option<Cholesky>> = Vec::with_capacity(L);
        let mut beta = vec![[0.0; L]; k];
        let mut ml = vec![0.0; k * k];
        let mut rl = vec![0.0; k];
        for l in 0..L {
            if skip[l] {
                chols.push(None);
                continue;
            }
            ml.iter_mut().zip(&m).for_each(|(v, a)| *v = a[l]);
            rl.iter_mut().zip(&r).for_each(|(v, a)| *v = a[l]);
            let chol = Cholesky::new(&ml, k);
            chol.solve(&mut rl);
            beta.iter_mut().zip(&rl).for_each(|(b, v)| b[l] = *v);
            chols.push(Some(chol));
        }
        // Pass 3: residuals (written in place of the block's columns) and the fit.
        let ymean: [f64; L] = std::array::from_fn(|l| {
            let wsum: f64 = (0..g).map(|c| wg[c][l]).sum();
            (0..g).map(|c| wg[c][l] * yg[c][l]).sum::<f64>() / wsum
        });
        let mut ssr = [0.0; L];
        let mut sst = [0.0; L];
        let t = inp.t;
        for i in 0..n {
            // SAFETY: the block's columns of the residuals are the caller's.
            let e = unsafe { outs.rs.array_mut::<L>(i * t + self.t0) };
            let code = inp.industries[i];
            if code < 0 {
                *e = [f64::NAN; L];
                continue;
            }
            let c = code as usize;
            let (y, w) = (lanes::<L>(&sc.yw, 2 * i), lanes::<L>(&sc.yw, 2 * i + 1));
            let ok = &sc.ok[i * L..(i + 1) * L];
            let mut res: [f64; L] =
                std::array::from_fn(|l| if ok[l] { y[l] - yg[c][l] } else { 0.0 });
            for s in 0..k {
                let xs = unsafe { self.xrow::<L>(s, i) };
                let a = &sc.ag[(c * k + s) * L..(c * k + s + 1) * L];
                for l in 0..L {
                    let d = if ok[l] { xs[l] - a[l] } else { 0.0 };
                    res[l] -= beta[s][l] * d;
                }
            }
            for l in 0..L {
                let wm = if ok[l] { w[l] } else { 0.0 };
                ssr[l] += wm * res[l] * res[l];
                let dy = if ok[l] { y[l] - ymean[l] } else { 0.0 };
                sst[l] += wm * dy * dy;
                e[l] = if ok[l] && !skip[l] { res[l] } else { f64::NAN };
            }
        }
        let mut sums = Sums {
            wg: vec![0.0; g],
            yg: vec![0.0; g],
            cg: vec![0.0; g],
            ag: vec![0.0; g * k],
            nobs: 0,
        };
        for (l, chol) in chols.iter().enumerate() {
            let tt = self.t0 + l;
            for c in 0..g {
                sums.wg[c] = wg[c][l];
                sums.yg[c] = yg[c][l];
                sums.cg[c] = cg[c][l];
                for s in 0..k {
                    sums.ag[c * k + s] = sc.ag[(c * k + s) * L + l];
                }
            }
            sums.nobs = nobs[l];
            let bl: Vec<f64> = beta.iter().map(|b| b[l]).collect();
            let fit = [ssr[l], sst[l], ctot[l]];
            // SAFETY: column tt belongs to the caller.
            unsafe { finish(inp, outs, tt, active[l], &sums, chol.as_ref(), &bl, fit) };
        }
    }
}

/// Factor returns, t-statistics and fit of date `tt` from its sums (`fit`: SSR, SST and the total
/// share weight); a date without a factorisation is written as skipped.
///
/// # Safety
/// Column `tt` of the outputs must belong to the caller.
#[allow(clippy::too_many_arguments)]
unsafe fn finish(
    inp: &RegressionInputs<'_>,
    outs: SharedOutputs,
    tt: usize,
    active: bool,
    d: &Sums,
    chol: Option<&Cholesky>,
    beta: &[f64],
    fit: [f64; 3],
) {
    let (k, g, t) = (inp.k, inp.n_industries, inp.t);
    let p = 1 + g + k;
    let g_ne = (0..g).filter(|&c| d.wg[c] > 0.0).count();
    let mut f = vec![f64::NAN; p];
    let mut tv = vec![f64::NAN; p];
    let stats = match chol {
        None if !active => [f64::NAN, 0.0, 0.0, f64::NAN],
        None => [f64::NAN, d.nobs as f64, g_ne as f64, f64::NAN],
        Some(chol) => solved(d, chol, beta, fit, g_ne, &mut f, &mut tv),
    };
    // SAFETY: column tt belongs to the caller.
    unsafe {
        for q in 0..p {
            outs.fr.write(q * t + tt, f[q]);
            outs.ts.write(q * t + tt, tv[q]);
        }
        for (q, v) in stats.iter().enumerate() {
            outs.st.write(q * t + tt, *v);
        }
    }
}

/// Country and industry returns from the styles' `beta`, and every t-statistic; returns R^2,
/// n_obs, industries used and styles dropped.
fn solved(
    d: &Sums,
    chol: &Cholesky,
    beta: &[f64],
    [ssr, sst, ctot]: [f64; 3],
    g_ne: usize,
    f: &mut [f64],
    tv: &mut [f64],
) -> [f64; 4] {
    let (g, k) = (d.wg.len(), beta.len());
    let (wg, yg, ag) = (&d.wg, &d.yg, &d.ag);
    let k_eff = chol.rank();
    let share: Vec<f64> = d.cg.iter().map(|c| c / ctot).collect();
    let fit_g: Vec<f64> = (0..g)
        .map(|c| {
            if wg[c] > 0.0 {
                yg[c] - (0..k).map(|s| ag[c * k + s] * beta[s]).sum::<f64>()
            } else {
                0.0
            }
        })
        .collect();
    let country: f64 = (0..g).map(|c| share[c] * fit_g[c]).sum();
    f[0] = country;
    for c in 0..g {
        f[1 + c] = if wg[c] > 0.0 { fit_g[c] - country } else { 0.0 };
    }
    f[1 + g..].copy_from_slice(beta);
    let r2 = if sst > 0.0 { 1.0 - ssr / sst } else { f64::NAN };
    let sigma2 = ssr / (d.nobs - g_ne - k_eff) as f64;
    let minv = chol.inverse();
    let quad = |v: &[f64]| -> f64 {
        let mut q = 0.0;
        for a in 0..k {
            for b in 0..k {
                q += v[a] * minv[a * k + b] * v[b];
            }
        }
        q
    };
    let ss2: f64 = (0..g)
        .filter(|&c| wg[c] > 0.0)
        .map(|c| share[c] * share[c] / wg[c])
        .sum();
    let dvec: Vec<f64> = (0..k)
        .map(|s| (0..g).map(|c| share[c] * ag[c * k + s]).sum())
        .collect();
    let tstat = |v: f64, var: f64| {
        if var > 0.0 {
            v / var.sqrt()
        } else {
            f64::NAN
        }
    };
    tv[0] = tstat(country, sigma2 * (ss2 + quad(&dvec)));
    let mut diff = vec![0.0; k];
    for c in 0..g {
        tv[1 + c] = if wg[c] > 0.0 {
            for s in 0..k {
                diff[s] = ag[c * k + s] - dvec[s];
            }
            let v = sigma2 * ((1.0 - 2.0 * share[c]) / wg[c] + ss2 + quad(&diff));
            tstat(f[1 + c], v)
        } else {
            f64::NAN
        };
    }
    for s in 0..k {
        tv[1 + g + s] = if chol.kept[s] {
            tstat(beta[s], sigma2 * minv[s * k + s])
        } else {
            f64::NAN
        };
    }
    [r2, d.nobs as f64, g_ne as f64, (k - k_eff) as f64]
}
