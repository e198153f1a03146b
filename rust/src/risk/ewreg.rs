//! Risk-model descriptors from prices and trading activity, one asset per task. Every windowed
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
//! 5. liquidity: mean over the `liq_windows` of `ln(mean activity over the window)`;
//! 6. size: `ln(weights)` (caps) when given, else `ln(mean activity over the longest liquidity
//!    window)`, a proxy;
//! 7. RSI 14 (Cutler, `ferroquant.indicators.rsi`), 8. Bollinger %b 20/2 (ddof 1):
//!    `(close - lower) / (upper - lower)`, NaN where not finite, 9. `close / SMA 50 - 1` (the SMA of
//!    the `pandas` convention, `min_periods = 1`): the indicator engine's own per-series kernels.

use super::columns::SharedOut;
use super::decay;
use crate::convention::Convention;
use crate::error::{Error, Result};
use crate::rolling::Stat;
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

/// An exponentially weighted sum of `C` components over the last `w` dates.
struct Ew<const C: usize> {
    lam: f64,
    lam_w: f64,
    w: usize,
    min: usize,
    s: [f64; C],
    count: usize,
}

impl<const C: usize> Ew<C> {
    fn new(w: usize, half_life: f64, min_fraction: f64, floor: usize) -> Self {
        let lam = decay(half_life);
        let min = ((min_fraction * w as f64).ceil() as usize)
            .max(floor)
            .max(1);
        Ew {
            lam,
            lam_w: lam.powi(w as i32),
            w,
            min,
            s: [0.0; C],
            count: 0,
        }
    }

    /// Ages the sums by one date, adds `new` and removes `old`, the value leaving the window.
    #[inline]
    fn step(&mut self, new: Option<[f64; C]>, old: Option<[f64; C]>) {
        for c in 0..C {
            self.s[c] *= self.lam;
        }
        if let Some(v) = new {
            for c in 0..C {
                self.s[c] += v[c];
            }
            self.count += 1;
        }
        if let Some(v) = old {
            for c in 0..C {
                self.s[c] -= self.lam_w * v[c];
            }
            self.count -= 1;
        }
    }

    fn ready(&self) -> bool {
        self.count >= self.min
    }
}

/// Simple return of bar `t` of `c` (None at t = 0 or where a price is missing).
#[inline]
fn ret(c: &[f64], t: usize) -> Option<f64> {
    if t == 0 {
        return None;
    }
    let r = c[t] / c[t - 1] - 1.0;
    r.is_finite().then_some(r)
}

#[inline]
fn back(t: usize, k: usize) -> Option<usize> {
    t.checked_sub(k)
}

/// Market return per date: the `weights`-of-the-previous-date average of the finite returns.
fn market_return(close: &[f64], weights: &[f64], n: usize, t: usize) -> Vec<f64> {
    let mut num = vec![0.0; t];
    let mut den = vec![0.0; t];
    for i in 0..n {
        let c = &close[i * t..(i + 1) * t];
        for s in 1..t {
            let w = if weights.is_empty() {
                1.0
            } else {
                weights[i * t + s - 1]
            };
            if let Some(r) = ret(c, s) {
                if w.is_finite() && w > 0.0 {
                    num[s] += w * r;
                    den[s] += w;
                }
            }
        }
    }
    num.iter()
        .zip(&den)
        .map(|(a, b)| if *b > 0.0 { a / b } else { f64::NAN })
        .collect()
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
    (0..n).into_par_iter().for_each(|i| {
        // SAFETY: asset i's rows of the descriptor panels, disjoint from every other asset's.
        let rows: [&mut [f64]; N_DESCRIPTORS] =
            std::array::from_fn(|d| unsafe { base.slice_mut(d * cells + i * t, t) });
        let c = &close[i * t..(i + 1) * t];
        let row = |a| row_of(a, i, t);
        let act = row(volume).map(|v| match row(shares) {
            Some(sh) => v
                .iter()
                .zip(sh)
                .map(|(v, s)| finite_or_nan(v / s))
                .collect(),
            None => v
                .iter()
                .zip(c)
                .map(|(v, c)| finite_or_nan(v * c))
                .collect::<Vec<f64>>(),
        });
        asset(c, act.as_deref(), row(weights), &mkt, p, rows);
    });
    Ok(())
}

/// Row `i` of an optional `(n, t)` panel (empty: none).
fn row_of(a: &[f64], i: usize, t: usize) -> Option<&[f64]> {
    (!a.is_empty()).then(|| &a[i * t..(i + 1) * t])
}

fn finite_or_nan(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        f64::NAN
    }
}

fn asset(
    c: &[f64],
    act: Option<&[f64]>,
    caps: Option<&[f64]>,
    mkt: &[f64],
    p: &DescriptorParams,
    o: [&mut [f64]; N_DESCRIPTORS],
) {
    let [beta, resvol, vol, mom, rev, liq, size, rsi, pctb, p2s] = o;
    technicals(c, rsi, pctb, p2s);
    let t_len = c.len();
    let fr = p.min_fraction;
    let mut reg = Ew::<6>::new(p.beta_window, p.beta_half_life, fr, 3);
    let mut sd = Ew::<3>::new(p.vol_window, p.vol_half_life, fr, 2);
    let mut mo = Ew::<1>::new(p.mom_window, p.mom_half_life, fr, 1);
    let mut rv = Ew::<1>::new(p.rev_window, p.rev_half_life, fr, 1);
    let mut lq = p.liq_windows.map(|w| Ew::<1>::new(w, 0.0, fr, 1));
    // Each return and log return is computed once; windows leaving a value read it back here.
    let r: Vec<f64> = (0..t_len).map(|s| ret(c, s).unwrap_or(f64::NAN)).collect();
    let logr: Vec<f64> = r.iter().map(|y| y.ln_1p()).collect();
    let pair = |s: usize| -> Option<[f64; 6]> {
        let (x, y) = (mkt[s], r[s]);
        (x.is_finite() && y.is_finite()).then_some([1.0, x, y, x * x, x * y, y * y])
    };
    let one = |s: usize| -> Option<[f64; 3]> {
        let y = r[s];
        y.is_finite().then_some([1.0, y, y * y])
    };
    let lr = |s: usize| -> Option<[f64; 1]> {
        let y = logr[s];
        y.is_finite().then_some([y])
    };
    let a = |s: usize| -> Option<[f64; 1]> {
        let v = act?[s];
        v.is_finite().then_some([v])
    };
    for t in 0..t_len {
        reg.step(pair(t), back(t, p.beta_window).and_then(pair));
        sd.step(one(t), back(t, p.vol_window).and_then(one));
        mo.step(
            back(t, p.mom_skip).and_then(lr),
            back(t, p.mom_skip + p.mom_window).and_then(lr),
        );
        rv.step(lr(t), back(t, p.rev_window).and_then(lr));
        for q in lq.iter_mut() {
            let w = q.w;
            q.step(a(t), back(t, w).and_then(a));
        }
        let (mut b, mut e) = (f64::NAN, f64::NAN);
        if reg.ready() {
            let s = &reg.s;
            let (mx, my) = (s[1] / s[0], s[2] / s[0]);
            let vxx = s[3] / s[0] - mx * mx;
            let cxy = s[4] / s[0] - mx * my;
            let vyy = s[5] / s[0] - my * my;
            if vxx > 0.0 {
                b = cxy / vxx;
                e = (vyy - cxy * b).max(0.0).sqrt();
            }
        }
        beta[t] = b;
        resvol[t] = e;
        vol[t] = if sd.ready() {
            let s = &sd.s;
            let m = s[1] / s[0];
            (s[2] / s[0] - m * m).max(0.0).sqrt()
        } else {
            f64::NAN
        };
        mom[t] = if mo.ready() { mo.s[0] } else { f64::NAN };
        rev[t] = if rv.ready() { rv.s[0] } else { f64::NAN };
        let logs = lq.each_ref().map(|q| {
            let m = q.s[0] / q.count as f64;
            if q.ready() && m > 0.0 {
                m.ln()
            } else {
                f64::NAN
            }
        });
        liq[t] = (logs[0] + logs[1] + logs[2]) / 3.0;
        size[t] = match caps {
            Some(w) if w[t] > 0.0 => w[t].ln(),
            Some(_) => f64::NAN,
            None => logs[(0..3).max_by_key(|&k| p.liq_windows[k]).unwrap_or(2)],
        };
    }
}

/// RSI, Bollinger %b and price / SMA of one series (see the module docs).
fn technicals(c: &[f64], rsi: &mut [f64], pctb: &mut [f64], p2s: &mut [f64]) {
    crate::rsi::rsi(c, 14, 14, Convention::Pandas, rsi);
    let t = c.len();
    let (mut mid, mut lo) = (vec![0.0; t], vec![0.0; t]);
    crate::bbands::bollinger(c, 20, 2.0, 1, 20, &mut [&mut mid, pctb, &mut lo]);
    for s in 0..t {
        let b = (c[s] - lo[s]) / (pctb[s] - lo[s]);
        pctb[s] = if b.is_finite() { b } else { f64::NAN };
    }
    crate::rolling::rolling_stat(c, 50, 1, 0, Stat::Mean, &mut mid);
    for s in 0..t {
        p2s[s] = c[s] / mid[s] - 1.0;
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
