//! Cross-sectional factor returns per date: weighted least squares of the assets' next-period
//! returns on a country factor, one-hot industries and `k` styles, under the constraint
//! `sum_g s_g f_g = 0` (`s_g` the industry's share of `shares`, e.g. caps).
//!
//! The industry block is never formed. With `W_g`, `ybar_g`, `abar_g` the industry's weight sum,
//! weighted mean return and mean styles, the normal equations reduce (the constraint's multiplier
//! is exactly 0, the country being the sum of the industries) to the `k x k` within-industry system
//! `sum_i w_i d_i d_i' beta = sum_i w_i d_i (y_i - ybar_g(i))`, `d_i = x_i - abar_g(i)`; then
//! `c = sum_g s_g (ybar_g - abar_g' beta)` and `f_g = ybar_g - abar_g' beta - c`. Per date cost
//! `O(n k^2)`, computed as dot products of contiguous `sqrt(w)`-scaled, industry-demeaned style
//! vectors. Standard errors assume `Var(e_i) = sigma^2 / w_i` with
//! `sigma^2 = sum w e^2 / (n_obs - G_ne - k_eff)`; `ybar_g` is uncorrelated with `beta`, giving
//! closed forms for the country and industry variances.
//!
//! Rules: an asset enters a date when its return, weight (> 0), share weight (>= 0), industry code
//! (in `0..G`) and all styles are finite. An industry without members gets return 0 and t-stat NaN.
//! A style collinear with the industries and earlier styles (e.g. constant on the date) gets return
//! 0 and t-stat NaN and is counted. A date with fewer than `G_ne + k + 1` assets, or zero total
//! share weight, is skipped: all its outputs are NaN (its `n_obs` is still reported).

use super::columns::{for_each_date_block, gather, scatter, SharedOut, DATE_BLOCK};
use super::linalg::{dot, Cholesky};
use crate::error::{Error, Result};

/// Inputs; panels are `(n, t)`, `exposures` `(k, n, t)`.
pub struct RegressionInputs<'a> {
    pub exposures: &'a [f64],
    pub returns: &'a [f64],
    /// Date `t` is regressed on `returns[:, t + lead]`.
    pub lead: usize,
    /// Dates before `first` are not regressed (NaN outputs, `n_obs` 0).
    pub first: usize,
    /// Regression weights (empty: 1, or `sqrt(shares)` with `sqrt_shares`).
    pub weights: &'a [f64],
    /// Without `weights`, weight each asset by the square root of its share weight (caps).
    pub sqrt_shares: bool,
    /// Weights of the industry shares in the constraint (empty: `weights`).
    pub shares: &'a [f64],
    pub industries: &'a [i64],
    pub n_industries: usize,
    pub k: usize,
    pub n: usize,
    pub t: usize,
}

/// Outputs; `p = 1 + n_industries + k` factors (country, industries, styles).
pub struct RegressionOutputs<'a> {
    /// `(p, t)`.
    pub factor_returns: &'a mut [f64],
    /// `(p, t)`.
    pub tstats: &'a mut [f64],
    /// `(4, t)`: R^2 (weighted, centred), n_obs, non-empty industries, styles dropped.
    pub stats: &'a mut [f64],
    /// `(n, t)`: residuals of the assets used, NaN elsewhere.
    pub residuals: &'a mut [f64],
}

/// Per-worker buffers, reused across dates.
#[derive(Default)]
pub struct Scratch {
    /// Block input, `[date][style][asset]`.
    x: Vec<f64>,
    y: Vec<f64>,
    w: Vec<f64>,
    s: Vec<f64>,
    /// Block residuals, `[date][asset]`.
    e: Vec<f64>,
    /// Per date: the assets used, their industry, `sqrt(w)`, scaled demeaned styles and returns.
    used: Vec<(usize, usize)>,
    ok: Vec<u8>,
    sw: Vec<f64>,
    dt: Vec<f64>,
    yt: Vec<f64>,
    et: Vec<f64>,
}

fn check(inp: &RegressionInputs<'_>, out: &RegressionOutputs<'_>, with_x: bool) -> Result<()> {
    let (k, n, t) = (inp.k, inp.n, inp.t);
    let cells = n * t;
    let p = 1 + inp.n_industries + k;
    let shape = |name, want: usize, got: usize, what: String| {
        if want == got {
            Ok(())
        } else {
            Err(Error::shape(name, what, format!("{got} cells")))
        }
    };
    if with_x {
        shape(
            "exposures",
            k * cells,
            inp.exposures.len(),
            format!("({k}, {n}, {t})"),
        )?;
    }
    shape("returns", cells, inp.returns.len(), format!("({n}, {t})"))?;
    for (name, a) in [("weights", inp.weights), ("shares", inp.shares)] {
        if !a.is_empty() {
            shape(name, cells, a.len(), format!("({n}, {t}) like returns"))?;
        }
    }
    shape("industries", n, inp.industries.len(), format!("({n},)"))?;
    shape(
        "factor_returns",
        p * t,
        out.factor_returns.len(),
        format!("({p}, {t})"),
    )?;
    shape("tstats", p * t, out.tstats.len(), format!("({p}, {t})"))?;
    shape("stats", 4 * t, out.stats.len(), format!("(4, {t})"))?;
    shape(
        "residuals",
        cells,
        out.residuals.len(),
        format!("({n}, {t})"),
    )?;
    for (name, a) in [
        ("exposures", inp.exposures),
        ("returns", inp.returns),
        ("weights", inp.weights),
        ("shares", inp.shares),
    ] {
        super::check_finite(name, a, n, t)?;
    }
    if let Some(&g) = inp
        .industries
        .iter()
        .find(|&&g| g >= inp.n_industries as i64)
    {
        return Err(Error::param(
            "industries",
            g,
            format!("codes in 0..{} (-1 = no industry)", inp.n_industries),
        ));
    }
    Ok(())
}

/// The outputs of [`factor_regression`], shared between blocks of dates.
#[derive(Clone, Copy)]
pub struct SharedOutputs {
    fr: SharedOut,
    ts: SharedOut,
    st: SharedOut,
    rs: SharedOut,
}

impl SharedOutputs {
    /// Checks `out` against `inp` and wraps it; `with_x`: `inp.exposures` is used (else the
    /// caller brings each block's exposures).
    pub fn new(
        inp: &RegressionInputs<'_>,
        out: RegressionOutputs<'_>,
        with_x: bool,
    ) -> Result<Self> {
        check(inp, &out, with_x)?;
        Ok(SharedOutputs {
            fr: SharedOut::new(out.factor_returns),
            ts: SharedOut::new(out.tstats),
            st: SharedOut::new(out.stats),
            rs: SharedOut::new(out.residuals),
        })
    }
}

impl Scratch {
    /// Buffers for blocks of `n` assets; `with_x`: also for `k` styles (when the caller does not
    /// bring the block's exposures itself).
    pub fn new(n: usize, k: usize, with_x: bool) -> Self {
        Scratch {
            x: vec![0.0; if with_x { DATE_BLOCK * n * k } else { 0 }],
            y: vec![0.0; DATE_BLOCK * n],
            w: vec![1.0; DATE_BLOCK * n],
            s: vec![1.0; DATE_BLOCK * n],
            e: vec![0.0; DATE_BLOCK * n],
            ..Scratch::default()
        }
    }
}

/// Runs the regression for every date, in parallel over blocks of dates.
pub fn factor_regression(inp: &RegressionInputs<'_>, out: RegressionOutputs<'_>) -> Result<()> {
    let outs = SharedOutputs::new(inp, out, true)?;
    let (k, n, t) = (inp.k, inp.n, inp.t);
    if n == 0 || t == 0 {
        return Ok(());
    }
    for_each_date_block(
        t,
        DATE_BLOCK,
        || Scratch::new(n, k, true),
        // SAFETY: columns t0..t0+b belong to this block.
        |t0, b, sc| unsafe { own_block(inp, outs, t0, b, sc) },
    );
    Ok(())
}

/// Gathers the exposures of dates `t0..t0 + b` and regresses them, compiled for AVX2 where the
/// CPU has it (the same code and the same bits either way; see `standardize`).
///
/// # Safety
/// Columns `t0..t0 + b` of the outputs must belong to the caller.
unsafe fn own_block(
    inp: &RegressionInputs<'_>,
    outs: SharedOutputs,
    t0: usize,
    b: usize,
    sc: &mut Scratch,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2; the columns are the caller's.
        return unsafe { own_block_avx2(inp, outs, t0, b, sc) };
    }
    unsafe { own_block_portable(inp, outs, t0, b, sc) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn own_block_avx2(
    inp: &RegressionInputs<'_>,
    outs: SharedOutputs,
    t0: usize,
    b: usize,
    sc: &mut Scratch,
) {
    unsafe { own_block_portable(inp, outs, t0, b, sc) }
}

#[inline(always)]
unsafe fn own_block_portable(
    inp: &RegressionInputs<'_>,
    outs: SharedOutputs,
    t0: usize,
    b: usize,
    sc: &mut Scratch,
) {
    let (k, n, t) = (inp.k, inp.n, inp.t);
    let mut x = std::mem::take(&mut sc.x);
    if t0 + b > inp.first {
        gather(inp.exposures, k * n, t, t0, b, &mut x);
    }
    // SAFETY: columns t0..t0+b belong to this block.
    unsafe { regress_block(inp, outs, t0, b, &x, sc) };
    sc.x = x;
}

/// Regresses dates `t0..t0 + b` whose styles are `x` (`[date][style][asset]`).
///
/// # Safety
/// Columns `t0..t0 + b` of the outputs must belong to the caller.
#[inline(always)]
pub unsafe fn regress_block(
    inp: &RegressionInputs<'_>,
    outs: SharedOutputs,
    t0: usize,
    b: usize,
    x: &[f64],
    sc: &mut Scratch,
) {
    let (k, n, t) = (inp.k, inp.n, inp.t);
    let SharedOutputs { fr, ts, st, rs } = outs;
    let p = 1 + inp.n_industries + k;
    if t0 + b <= inp.first {
        unsafe { skip_block(t0, b, t, p, n, [fr, ts, st, rs]) };
        return;
    }
    let shares = if inp.shares.is_empty() {
        inp.weights
    } else {
        inp.shares
    };
    // Returns of dates t0 + lead .. (NaN past the end).
    let by = b.min(t.saturating_sub(t0 + inp.lead));
    gather(inp.returns, n, t, t0 + inp.lead, by, &mut sc.y);
    sc.y[by * n..b * n].iter_mut().for_each(|v| *v = f64::NAN);
    if !inp.weights.is_empty() {
        gather(inp.weights, n, t, t0, b, &mut sc.w);
    }
    if !shares.is_empty() {
        gather(shares, n, t, t0, b, &mut sc.s);
    }
    if inp.weights.is_empty() && inp.sqrt_shares && !inp.shares.is_empty() {
        for (w, s) in sc.w[..b * n].iter_mut().zip(&sc.s[..b * n]) {
            *w = s.sqrt();
        }
    }
    let mut f = vec![f64::NAN; p];
    let mut tv = vec![f64::NAN; p];
    for j in 0..b {
        let tt = t0 + j;
        let date = Date {
            x: &x[j * n * k..(j + 1) * n * k],
            y: &sc.y[j * n..(j + 1) * n],
            w: &sc.w[j * n..(j + 1) * n],
            s: &sc.s[j * n..(j + 1) * n],
            codes: inp.industries,
            g: inp.n_industries,
            k,
        };
        f.iter_mut().for_each(|v| *v = f64::NAN);
        tv.iter_mut().for_each(|v| *v = f64::NAN);
        if tt < inp.first {
            // SAFETY: column tt belongs to this block.
            unsafe {
                for q in 0..p {
                    fr.write(q * t + tt, f64::NAN);
                    ts.write(q * t + tt, f64::NAN);
                }
                st.write(tt, f64::NAN);
                for q in 1..4 {
                    st.write(q * t + tt, if q == 3 { f64::NAN } else { 0.0 });
                }
            }
            sc.e[j * n..(j + 1) * n]
                .iter_mut()
                .for_each(|v| *v = f64::NAN);
            continue;
        }
        let mut buf = Buffers {
            used: std::mem::take(&mut sc.used),
            ok: std::mem::take(&mut sc.ok),
            sw: std::mem::take(&mut sc.sw),
            dt: std::mem::take(&mut sc.dt),
            yt: std::mem::take(&mut sc.yt),
            et: std::mem::take(&mut sc.et),
        };
        let stats = date.solve(&mut f, &mut tv, &mut buf);
        // SAFETY: column tt belongs to this block.
        unsafe {
            for q in 0..p {
                fr.write(q * t + tt, f[q]);
                ts.write(q * t + tt, tv[q]);
            }
            for (q, v) in stats.iter().enumerate() {
                st.write(q * t + tt, *v);
            }
        }
        let e = &mut sc.e[j * n..(j + 1) * n];
        e.iter_mut().for_each(|v| *v = f64::NAN);
        if stats[3].is_finite() {
            for (u, &(i, _)) in buf.used.iter().enumerate() {
                e[i] = buf.et[u] / buf.sw[u];
            }
        }
        sc.used = buf.used;
        sc.ok = buf.ok;
        sc.sw = buf.sw;
        sc.dt = buf.dt;
        sc.yt = buf.yt;
        sc.et = buf.et;
    }
    // SAFETY: columns t0..t0+b belong to this block.
    unsafe { scatter(&sc.e, n, t, t0, b, rs) };
}

/// Writes the outputs of dates `t0..t0 + b`, all before `first`.
///
/// # Safety
/// Columns `t0..t0 + b` must belong to the caller; `outs` are factor returns, t-stats, stats and
/// residuals as in [`RegressionOutputs`].
#[inline(always)]
unsafe fn skip_block(t0: usize, b: usize, t: usize, p: usize, n: usize, outs: [SharedOut; 4]) {
    let [fr, ts, st, rs] = outs;
    for tt in t0..t0 + b {
        unsafe {
            for q in 0..p {
                fr.write(q * t + tt, f64::NAN);
                ts.write(q * t + tt, f64::NAN);
            }
            for q in 0..4 {
                st.write(q * t + tt, if q == 1 || q == 2 { 0.0 } else { f64::NAN });
            }
            for i in 0..n {
                rs.write(i * t + tt, f64::NAN);
            }
        }
    }
}

/// Per-date working vectors (see [`Scratch`]).
struct Buffers {
    used: Vec<(usize, usize)>,
    ok: Vec<u8>,
    sw: Vec<f64>,
    dt: Vec<f64>,
    yt: Vec<f64>,
    et: Vec<f64>,
}

/// One date's cross-section; `x` is `[style][asset]`.
struct Date<'a> {
    x: &'a [f64],
    y: &'a [f64],
    w: &'a [f64],
    s: &'a [f64],
    codes: &'a [i64],
    g: usize,
    k: usize,
}

impl Date<'_> {
    /// Marks in `ok` the assets that enter the date (see the module docs). One contiguous pass per
    /// input instead of `k` strided reads per asset: the styles of an asset lie `n` apart.
    #[inline(always)]
    fn usable(&self, ok: &mut Vec<u8>) {
        let n = self.y.len();
        ok.clear();
        ok.extend((0..n).map(|i| {
            u8::from(
                self.codes[i] >= 0
                    && self.y[i].is_finite()
                    && self.w[i] > 0.0
                    && self.s[i] >= 0.0,
            )
        }));
        for s in 0..self.k {
            for (o, v) in ok.iter_mut().zip(&self.x[s * n..(s + 1) * n]) {
                *o &= u8::from(v.is_finite());
            }
        }
    }

    /// Writes factor returns and t-stats, leaves the scaled residuals in `buf.et`; returns R^2,
    /// n_obs, industries used, styles dropped (R^2 and styles dropped NaN for a skipped date).
    #[inline(always)]
    fn solve(&self, f: &mut [f64], tv: &mut [f64], buf: &mut Buffers) -> [f64; 4] {
        let (g, k) = (self.g, self.k);
        let n = self.y.len();
        let mut wg = vec![0.0; g];
        let mut yg = vec![0.0; g];
        let mut cg = vec![0.0; g];
        let mut ag = vec![0.0; g * k];
        buf.used.clear();
        self.usable(&mut buf.ok);
        for i in 0..n {
            if buf.ok[i] == 0 {
                continue;
            }
            let c = self.codes[i] as usize;
            let w = self.w[i];
            wg[c] += w;
            yg[c] += w * self.y[i];
            cg[c] += self.s[i];
            buf.used.push((i, c));
        }
        for s in 0..k {
            let xs = &self.x[s * n..(s + 1) * n];
            for &(i, c) in &buf.used {
                ag[c * k + s] += self.w[i] * xs[i];
            }
        }
        let nobs = buf.used.len();
        let g_ne = wg.iter().filter(|&&w| w > 0.0).count();
        let ctot: f64 = cg.iter().sum();
        if nobs < g_ne + k + 1 || ctot.is_nan() || ctot <= 0.0 {
            buf.used.clear();
            return [f64::NAN, nobs as f64, g_ne as f64, f64::NAN];
        }
        for c in 0..g {
            if wg[c] > 0.0 {
                yg[c] /= wg[c];
                ag[c * k..(c + 1) * k].iter_mut().for_each(|a| *a /= wg[c]);
            }
        }
        // sqrt(w)-scaled, industry-demeaned styles and returns of the assets used, contiguous.
        buf.sw.clear();
        buf.sw
            .extend(buf.used.iter().map(|&(i, _)| self.w[i].sqrt()));
        buf.yt.clear();
        buf.yt.extend(
            buf.used
                .iter()
                .zip(&buf.sw)
                .map(|(&(i, c), sw)| (self.y[i] - yg[c]) * sw),
        );
        buf.dt.clear();
        for s in 0..k {
            let xs = &self.x[s * n..(s + 1) * n];
            buf.dt.extend(
                buf.used
                    .iter()
                    .zip(&buf.sw)
                    .map(|(&(i, c), sw)| (xs[i] - ag[c * k + s]) * sw),
            );
        }
        let col = |s: usize| &buf.dt[s * nobs..(s + 1) * nobs];
        let mut m = vec![0.0; k * k];
        let mut r = vec![0.0; k];
        for a in 0..k {
            r[a] = dot(col(a), &buf.yt);
            for b in 0..=a {
                m[a * k + b] = dot(col(a), col(b));
            }
        }
        let chol = Cholesky::new(&m, k);
        chol.solve(&mut r);
        let beta = r;
        let k_eff = chol.rank();
        let share: Vec<f64> = cg.iter().map(|c| c / ctot).collect();
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
        f[1 + g..].copy_from_slice(&beta);
        // Scaled residuals sqrt(w) e and fit statistics.
        buf.et.clear();
        buf.et.extend_from_slice(&buf.yt);
        for s in 0..k {
            let bs = beta[s];
            if bs != 0.0 {
                for (e, d) in buf.et.iter_mut().zip(col(s)) {
                    *e -= bs * d;
                }
            }
        }
        let ssr = dot(&buf.et, &buf.et);
        let wsum: f64 = wg.iter().sum();
        let ymean = (0..g).map(|c| wg[c] * yg[c]).sum::<f64>() / wsum;
        let sst: f64 = buf
            .used
            .iter()
            .map(|&(i, _)| self.w[i] * (self.y[i] - ymean) * (self.y[i] - ymean))
            .sum();
        let r2 = if sst > 0.0 { 1.0 - ssr / sst } else { f64::NAN };
        let dof = (nobs - g_ne - k_eff) as f64;
        let sigma2 = ssr / dof;
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
        [r2, nobs as f64, g_ne as f64, (k - k_eff) as f64]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_free_returns_recover_the_factors() {
        // 12 assets, 3 industries, 1 style; y = c + f_g + x b with sum_g s_g f_g = 0.
        let (n, g, k) = (12, 3, 1);
        let codes: Vec<i64> = (0..n).map(|i| (i % g) as i64).collect();
        let x: Vec<f64> = (0..n).map(|i| ((i * 7) % 5) as f64 - 2.0).collect();
        let caps: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
        let sh: Vec<f64> = (0..g)
            .map(|c| (0..n).filter(|i| i % g == c).map(|i| caps[i]).sum::<f64>() / 78.0)
            .collect();
        let fg = [0.01, -0.02, 0.0];
        let adj: f64 = sh.iter().zip(fg).map(|(s, f)| s * f).sum::<f64>() / sh[2];
        let fg = [fg[0], fg[1], -adj];
        let y: Vec<f64> = (0..n).map(|i| 0.003 + fg[i % g] + 0.5 * x[i]).collect();
        let w: Vec<f64> = caps.iter().map(|c| c.sqrt()).collect();
        let inp = RegressionInputs {
            exposures: &x,
            returns: &y,
            lead: 0,
            first: 0,
            sqrt_shares: false,
            weights: &w,
            shares: &caps,
            industries: &codes,
            n_industries: g,
            k,
            n,
            t: 1,
        };
        let (mut f, mut tv, mut st, mut e) =
            (vec![0.0; 5], vec![0.0; 5], vec![0.0; 4], vec![0.0; n]);
        let out = RegressionOutputs {
            factor_returns: &mut f,
            tstats: &mut tv,
            stats: &mut st,
            residuals: &mut e,
        };
        factor_regression(&inp, out).unwrap();
        let want = [0.003, fg[0], fg[1], fg[2], 0.5];
        for (a, b) in f.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{f:?}");
        }
        assert_eq!(st[1], 12.0);
    }
}
