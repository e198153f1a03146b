//! Cross-sectional factor returns per date: weighted least squares of the assets' next-period
//! returns on a country factor, one-hot industries and `k` styles, under the constraint
//! `sum_g s_g f_g = 0` (`s_g` the industry's share of `shares`, e.g. caps).
//!
//! The industry block is never formed. With `W_g`, `ybar_g`, `abar_g` the industry's weight sum,
//! weighted mean return and mean styles, the normal equations reduce (the constraint's multiplier
//! is exactly 0, the country being the sum of the industries) to the `k x k` within-industry system
//! `sum_i w_i d_i d_i' beta = sum_i w_i d_i (y_i - ybar_g(i))`, `d_i = x_i - abar_g(i)`; then
//! `c = sum_g s_g (ybar_g - abar_g' beta)` and `f_g = ybar_g - abar_g' beta - c`. Per date cost
//! `O(n k^2)`: one pass accumulates `sum w x x'`, `sum w x y` and the industry sums, and the
//! within-industry system is `sum w x x' - sum_g W_g abar_g abar_g'` (likewise for `x y`); a second
//! pass forms the residuals ([`super::wrows`], eight dates side by side). Standard errors assume `Var(e_i) = sigma^2 / w_i` with
//! `sigma^2 = sum w e^2 / (n_obs - G_ne - k_eff)`; `ybar_g` is uncorrelated with `beta`, giving
//! closed forms for the country and industry variances.
//!
//! Rules: an asset enters a date when its return, weight (> 0), share weight (>= 0), industry code
//! (in `0..G`) and all styles are finite. An industry without members gets return 0 and t-stat NaN.
//! A style collinear with the industries and earlier styles (e.g. constant on the date) gets return
//! 0 and t-stat NaN and is counted. A date with fewer than `G_ne + k + 1` assets, or zero total
//! share weight, is skipped: all its outputs are NaN (its `n_obs` is still reported).

use super::columns::{for_each_date_block, SharedOut};
use super::wrows::{RegRows, RegScratch};
use super::zrows::LANES;
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
    pub(crate) fr: SharedOut,
    pub(crate) ts: SharedOut,
    pub(crate) st: SharedOut,
    pub(crate) rs: SharedOut,
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

/// Runs the regression for every date, in parallel over blocks of dates.
pub fn factor_regression(inp: &RegressionInputs<'_>, out: RegressionOutputs<'_>) -> Result<()> {
    let outs = SharedOutputs::new(inp, out, true)?;
    if inp.n == 0 || inp.t == 0 {
        return Ok(());
    }
    let x = SharedOut::read_only(inp.exposures);
    for_each_date_block(
        inp.t,
        LANES,
        RegScratch::default,
        // SAFETY: columns t0..t0+b belong to this block.
        |t0, b, sc| unsafe { own_block(inp, outs, x, t0, b, sc) },
    );
    Ok(())
}

/// [`regress_block`] compiled for AVX2 where the CPU has it (the same code and the same bits
/// either way: Rust never fuses a multiply and an add).
///
/// # Safety
/// As [`regress_block`].
unsafe fn own_block(
    inp: &RegressionInputs<'_>,
    outs: SharedOutputs,
    x: SharedOut,
    t0: usize,
    b: usize,
    sc: &mut RegScratch,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2; the columns are the caller's.
        return unsafe { own_block_avx2(inp, outs, x, t0, b, sc) };
    }
    unsafe { own_block_portable(inp, outs, x, t0, b, sc) }
}

/// Copies a full block's styles into a contiguous `[style][asset][lane]` buffer first (one
/// prefetched read of the panel), so both passes of the regression work on it in cache.
///
/// # Safety
/// As [`regress_block`].
#[inline(always)]
unsafe fn own_block_portable(
    inp: &RegressionInputs<'_>,
    outs: SharedOutputs,
    x: SharedOut,
    t0: usize,
    b: usize,
    sc: &mut RegScratch,
) {
    if b != LANES || t0 + b <= inp.first {
        return unsafe { regress_block(inp, outs, x, None, t0, b, sc) };
    }
    let rows = inp.k * inp.n;
    let mut copy = std::mem::take(&mut sc.copy);
    copy.resize(rows * LANES, 0.0);
    for (r, dst) in copy.chunks_exact_mut(LANES).enumerate() {
        x.prefetch((r + 16) * inp.t + t0, LANES);
        // SAFETY: columns t0..t0+LANES of row r belong to this block (only read).
        dst.copy_from_slice(unsafe { &*x.array_mut::<LANES>(r * inp.t + t0) });
    }
    let view = SharedOut::new(&mut copy);
    unsafe { regress_block(inp, outs, x, Some(view), t0, b, sc) };
    sc.copy = copy;
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn own_block_avx2(
    inp: &RegressionInputs<'_>,
    outs: SharedOutputs,
    x: SharedOut,
    t0: usize,
    b: usize,
    sc: &mut RegScratch,
) {
    unsafe { own_block_portable(inp, outs, x, t0, b, sc) }
}

/// Regresses dates `t0..t0 + b` on the styles `x` (`(k, n, t)`, only read), or on `copy`, the
/// same styles of a full block laid out `[style][asset][lane]`.
///
/// # Safety
/// Columns `t0..t0 + b` of `x` and of the outputs must belong to the caller.
#[inline(always)]
pub unsafe fn regress_block(
    inp: &RegressionInputs<'_>,
    outs: SharedOutputs,
    x: SharedOut,
    copy: Option<SharedOut>,
    t0: usize,
    b: usize,
    sc: &mut RegScratch,
) {
    if t0 + b <= inp.first {
        unsafe { skip_block(t0, b, inp, outs) };
    } else if b == LANES {
        let (x, stride, first) = match copy {
            Some(c) => (c, LANES, 0),
            None => (x, inp.t, t0),
        };
        let rows = RegRows {
            inp,
            x,
            stride,
            first,
            t0,
        };
        unsafe { rows.regress::<LANES>(outs, sc) };
    } else {
        // A short last block, one date at a time: the same bits as in lanes.
        for tt in t0..t0 + b {
            let rows = RegRows {
                inp,
                x,
                stride: inp.t,
                first: tt,
                t0: tt,
            };
            unsafe { rows.regress::<1>(outs, sc) };
        }
    }
}

/// Writes the outputs of dates `t0..t0 + b`, all before `first`.
///
/// # Safety
/// Columns `t0..t0 + b` must belong to the caller.
#[inline(always)]
unsafe fn skip_block(t0: usize, b: usize, inp: &RegressionInputs<'_>, outs: SharedOutputs) {
    let (n, t) = (inp.n, inp.t);
    let p = 1 + inp.n_industries + inp.k;
    for tt in t0..t0 + b {
        unsafe {
            for q in 0..p {
                outs.fr.write(q * t + tt, f64::NAN);
                outs.ts.write(q * t + tt, f64::NAN);
            }
            for q in 0..4 {
                outs.st
                    .write(q * t + tt, if q == 1 || q == 2 { 0.0 } else { f64::NAN });
            }
            for i in 0..n {
                outs.rs.write(i * t + tt, f64::NAN);
            }
        }
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
