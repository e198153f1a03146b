//! Risk-model descriptors from prices and trading activity, one block of four assets per task
//! (`ewlanes`: the assets side by side in AVX lanes where available, bit for bit what each alone
//! gives). Every windowed
//! exponentially weighted sum is updated in O(1) per date:
//! `S_t = lambda * S_(t-1) + v_t - lambda^W * v_(t-W)`, the weight of the value `k` dates old being
//! `lambda^k` inside the window of the last `W` dates and 0 outside. A missing value (NaN) adds
//! nothing and is not counted; a descriptor is NaN unless at least `min_fraction * W` of its window
//! holds values.
//!
//! Descriptors (outputs in this order, `r_t = close_t / close_(t-1) - 1`, `lr_t = ln(1 + r_t)`):
//! 0. beta and 1. residual volatility of the EW regression `r_t = a + beta m_t + e_t` over
//!    `beta_window` dates (half-life `beta_half_life`), `m_t` the market return: the average of the
//!    names' returns weighted by `weights` of the previous date (equal weights when none); residual
//!    volatility is the EW standard deviation of `e_t` (weights normalised, no dof correction);
//! 2. volatility: EW standard deviation of `r_t` (window `vol_window`, half-life `vol_half_life`);
//! 3. momentum: `sum_(k=skip)^(skip+W-1) lambda^(k-skip) lr_(t-k)` (W = `mom_window`);
//! 4. reversal: `sum_(k=0)^(W-1) lambda^k lr_(t-k)` (W = `rev_window`);
//! 5. liquidity: mean over the `liq_windows` of `ln(mean activity over the window)`, computed as
//!    `ln(m_1 m_2 m_3) / 3` (one logarithm; the three where the product is not a normal number);
//! 6. size: `ln(weights)` (caps) when given, else `ln(mean activity over the longest liquidity
//!    window)`, a proxy;
//! 7. RSI 14 (Cutler, `ferroquant.indicators.rsi`), 8. Bollinger %b 20/2 (ddof 1):
//!    `(close - lower) / (upper - lower)`, NaN where not finite, 9. `close / SMA 50 - 1` (the SMA of
//!    the `pandas` convention, `min_periods = 1`): the indicator engine's fused standard set, the
//!    bits of its per-series kernels.
//!
//! Logarithms of liquidity and size are fdlibm's (`lanes`, within 1 ulp of libm, the same bits on
//! every path); log returns stay libm's `ln_1p`, as momentum and reversal sum them across zero.

use super::columns::{for_each_date_block, SharedOut, DATE_BLOCK};
use super::ewlanes::{self, LANES};
use super::lanes::{finite, gt, Lanes};
use crate::error::{Error, Result};
#[cfg(target_arch = "x86_64")]
use crate::window::F4;
use rayon::prelude::*;

/// Number of descriptor panels [`descriptors_panel`] writes.
pub const N_DESCRIPTORS: usize = 10;

/// Windows (dates) and half-lives (dates; 0 = equal weights) of the descriptors.
#[derive(Clone, Debug)]
pub struct DescriptorParams {
    pub beta_window: usize,
    pub beta_half_life: f64,
    pub vol_window: usize,
    pub vol_half_life: f64,
    pub mom_window: usize,
    pub mom_skip: usize,
    pub mom_half_life: f64,
    pub rev_window: usize,
    pub rev_half_life: f64,
    pub liq_windows: [usize; 3],
    pub min_fraction: f64,
}

impl Default for DescriptorParams {
    fn default() -> Self {
        DescriptorParams {
            beta_window: 252,
            beta_half_life: 63.0,
            vol_window: 252,
            vol_half_life: 42.0,
            mom_window: 504,
            mom_skip: 21,
            mom_half_life: 126.0,
            rev_window: 21,
            rev_half_life: 5.0,
            liq_windows: [21, 63, 252],
            min_fraction: 0.5,
        }
    }
}

/// Market return per date: the `weights`-of-the-previous-date average of the finite returns.
/// Blocks of dates run in parallel; each date still sums its assets one after another in index
/// order, so the result does not depend on the thread count.
fn market_return(close: &[f64], weights: &[f64], n: usize, t: usize) -> Vec<f64> {
    let mut mkt = vec![f64::NAN; t];
    let out = SharedOut::new(&mut mkt);
    let scratch = || (vec![0.0; DATE_BLOCK], vec![0.0; DATE_BLOCK]);
    for_each_date_block(t, DATE_BLOCK, scratch, |t0, b, (num, den)| {
        num.fill(0.0);
        den.fill(0.0);
        let sums = MarketSums {
            close,
            weights,
            n,
            t,
            t0,
        };
        // Date 0 has no return.
        let j0 = usize::from(t0 == 0);
        let full = j0 + (b - j0) / LANES * LANES;
        #[cfg(target_arch = "x86_64")]
        let done = if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was just detected.
            unsafe { sums.add_avx2(j0..full, num, den) };
            full
        } else {
            j0
        };
        #[cfg(not(target_arch = "x86_64"))]
        let done = j0;
        sums.add::<f64>(done..b, num, den);
        for j in 0..b {
            let m = if den[j] > 0.0 {
                num[j] / den[j]
            } else {
                f64::NAN
            };
            // SAFETY: dates t0..t0 + b belong to this block.
            unsafe { out.write(t0 + j, m) };
        }
    });
    mkt
}

/// The sums of [`market_return`] over a block of dates from `t0`.
struct MarketSums<'a> {
    close: &'a [f64],
    weights: &'a [f64],
    n: usize,
    t: usize,
    t0: usize,
}

impl MarketSums<'_> {
    /// Adds every asset's weighted return and weight to `num[j]` and `den[j]` for `j` in `js`
    /// (`L::LANES` consecutive dates per step; `js.start >= 1` when `t0 == 0`).
    #[inline(always)]
    fn add<L: Lanes>(&self, js: std::ops::Range<usize>, num: &mut [f64], den: &mut [f64]) {
        let (t, k) = (self.t, L::LANES);
        let (zero, one) = (L::splat(0.0), L::splat(1.0));
        for i in 0..self.n {
            let c = &self.close[i * t..(i + 1) * t];
            for j in js.clone().step_by(k) {
                let s = self.t0 + j;
                let r = L::load(&c[s..]) / L::load(&c[s - 1..]) - one;
                let w = if self.weights.is_empty() {
                    one
                } else {
                    L::load(&self.weights[i * t + s - 1..])
                };
                let ok = finite(r) & finite(w) & gt(w, zero);
                let (a, d) = (L::load(&num[j..]), L::load(&den[j..]));
                L::select(ok, a + w * r, a).store(&mut num[j..]);
                L::select(ok, d + w, d).store(&mut den[j..]);
            }
        }
    }

    /// [`MarketSums::add`] four dates at a time (`js` a multiple of four long).
    ///
    /// # Safety
    /// AVX2 must be available.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn add_avx2(&self, js: std::ops::Range<usize>, num: &mut [f64], den: &mut [f64]) {
        self.add::<F4>(js, num, den)
    }
}

/// Computes the [`N_DESCRIPTORS`] descriptor panels of `close` into `out`
/// (`N_DESCRIPTORS * n * t` cells, descriptor-major). `volume`, `shares` (activity is turnover
/// `volume / shares` with shares, else dollar volume `close * volume`) and `weights` (caps: the
/// market-return weights, and `size = ln(weights)`) are `n * t` panels or empty.
#[allow(clippy::too_many_arguments)]
pub fn descriptors_panel(
    close: &[f64],
    volume: &[f64],
    shares: &[f64],
    weights: &[f64],
    n: usize,
    t: usize,
    p: &DescriptorParams,
    out: &mut [f64],
) -> Result<()> {
    let cells = n * t;
    for (name, a, optional) in [
        ("close", close, false),
        ("volume", volume, true),
        ("shares", shares, true),
        ("weights", weights, true),
    ] {
        if a.len() != cells && !(optional && a.is_empty()) {
            return Err(Error::shape(
                name,
                format!("({n}, {t}) like close"),
                format!("{} cells", a.len()),
            ));
        }
        super::check_finite(name, a, n, t)?;
    }
    if out.len() != N_DESCRIPTORS * cells {
        return Err(Error::shape(
            "out",
            format!("({N_DESCRIPTORS}, {n}, {t})"),
            format!("{} cells", out.len()),
        ));
    }
    for (name, w) in [
        ("beta_window", p.beta_window),
        ("vol_window", p.vol_window),
        ("mom_window", p.mom_window),
        ("rev_window", p.rev_window),
        (
            "liq_windows",
            p.liq_windows.iter().copied().min().unwrap_or(0),
        ),
    ] {
        crate::error::check_at_least(name, w, 2)?;
    }
    for (name, h) in [
        ("beta_half_life", p.beta_half_life),
        ("vol_half_life", p.vol_half_life),
        ("mom_half_life", p.mom_half_life),
        ("rev_half_life", p.rev_half_life),
    ] {
        if h.is_nan() || h < 0.0 {
            return Err(Error::param(
                name,
                h,
                "a half-life >= 0 (0 = equal weights)",
            ));
        }
    }
    if !(p.min_fraction > 0.0 && p.min_fraction <= 1.0) {
        return Err(Error::param(
            "min_fraction",
            p.min_fraction,
            "a number in (0, 1]",
        ));
    }
    if cells == 0 {
        return Ok(());
    }
    let mkt = market_return(close, weights, n, t);
    let base = SharedOut::new(out);
    (0..n.div_ceil(LANES))
        .into_par_iter()
        .for_each_init(ewlanes::Scratch::default, |sc, blk| {
            let assets = blk * LANES..((blk + 1) * LANES).min(n);
            let inputs: Vec<Inputs> = assets
                .clone()
                .map(|i| Inputs {
                    close: &close[i * t..(i + 1) * t],
                    volume: row_of(volume, i, t),
                    shares: row_of(shares, i, t),
                    caps: row_of(weights, i, t),
                })
                .collect();
            // SAFETY: the rows of the block's assets in every panel, disjoint from other blocks'.
            let mut rows: Vec<[&mut [f64]; N_DESCRIPTORS]> = assets
                .map(|i| std::array::from_fn(|d| unsafe { base.slice_mut(d * cells + i * t, t) }))
                .collect();
            ewlanes::block(&inputs, &mkt, p, &mut rows, sc);
        });
    Ok(())
}

/// Row `i` of an optional `(n, t)` panel (empty: none).
fn row_of(a: &[f64], i: usize, t: usize) -> Option<&[f64]> {
    (!a.is_empty()).then(|| &a[i * t..(i + 1) * t])
}

/// One asset's rows of the input panels (which panels are given is the same for every asset).
#[derive(Clone, Copy)]
pub(super) struct Inputs<'a> {
    pub close: &'a [f64],
    pub volume: Option<&'a [f64]>,
    pub shares: Option<&'a [f64]>,
    pub caps: Option<&'a [f64]>,
}

impl Inputs<'_> {
    /// Volume at date `s` (NaN without volume).
    #[inline(always)]
    pub fn volume_at(&self, s: usize) -> f64 {
        self.volume.map_or(f64::NAN, |v| v[s])
    }

    /// Shares outstanding at date `s` (NaN without shares).
    #[inline(always)]
    pub fn shares_at(&self, s: usize) -> f64 {
        self.shares.map_or(f64::NAN, |v| v[s])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_of_a_scaled_market_is_the_scale() {
        // Two assets, the second moving twice as much as the first: equal-weighted market = 1.5x
        // the first, so betas are 2/3 and 4/3 and residual volatility 0.
        let t = 300;
        let mut close = vec![0.0; 2 * t];
        let (mut a, mut b) = (100.0, 100.0);
        for s in 0..t {
            let r = 0.01 * ((s as f64) * 0.7).sin();
            a *= 1.0 + r;
            b *= 1.0 + 2.0 * r;
            close[s] = a;
            close[t + s] = b;
        }
        let mut out = vec![0.0; N_DESCRIPTORS * 2 * t];
        descriptors_panel(
            &close,
            &[],
            &[],
            &[],
            2,
            t,
            &DescriptorParams::default(),
            &mut out,
        )
        .unwrap();
        assert!((out[t - 1] - 2.0 / 3.0).abs() < 1e-10);
        assert!((out[2 * t - 1] - 4.0 / 3.0).abs() < 1e-10);
        assert!(out[2 * t + t - 1].abs() < 1e-6);
        assert!(out[0].is_nan());
    }
}
