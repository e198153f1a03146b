//! The outputs finished outside the window recursions: the technicals (the indicator engine's
//! kernel, then %b and price / SMA in lanes) and the logarithms of liquidity and size, `L::LANES`
//! values per step.

use super::{CHUNK, SERIES};
use crate::risk::lanes::{finite, gt, ln, Lanes};

/// RSI, Bollinger %b and price / SMA of one series (see [`crate::risk::ewreg`]): the indicator
/// engine's fused standard set, which gives the bits of its single kernels, one series at a time
/// (its fast path packs the four first-moment windows in one register; four series side by side
/// would only run where all four are NaN-free over 50 dates). %b and price / SMA are then
/// finished `L::LANES` dates at a time.
#[inline(always)]
pub(super) fn technicals<L: Lanes>(
    c: &[f64],
    rsi: &mut [f64],
    pctb: &mut [f64],
    p2s: &mut [f64],
    scratch: &mut [Vec<f64>; 4],
) {
    let t = c.len();
    for v in scratch.iter_mut() {
        v.resize(t, 0.0);
    }
    let [sma20, sma50, mid, lo] = scratch;
    crate::standard::standard(c, &mut [sma20, sma50, rsi, mid, &mut *pctb, lo]);
    let k = L::LANES;
    let full = t / k * k;
    let nan = L::splat(f64::NAN);
    for s in (0..full).step_by(k) {
        let (x, l) = (L::load(&c[s..]), L::load(&lo[s..]));
        let b = (x - l) / (L::load(&pctb[s..]) - l);
        L::select(finite(b), b, nan).store(&mut pctb[s..]);
        (x / L::load(&sma50[s..]) - L::splat(1.0)).store(&mut p2s[s..]);
    }
    for s in full..t {
        let b = (c[s] - lo[s]) / (pctb[s] - lo[s]);
        pctb[s] = if b.is_finite() { b } else { f64::NAN };
        p2s[s] = c[s] / sma50[s] - 1.0;
    }
}

/// Lanes holding a positive normal number (what [`ln`] computes in the lanes).
#[inline(always)]
pub(super) fn normal<L: Lanes>(x: L) -> L::Mask {
    x.ge(L::splat(f64::MIN_POSITIVE)) & x.le(L::splat(f64::MAX))
}

/// Turns the chunk's liquidity products into `ln(product) / 3` (or the row of three logarithms
/// where the product was not normal) and, without caps, its window means into `ln(mean)`.
#[inline(always)]
pub(super) fn logs<L: Lanes>(buf: &mut [f64], len: usize, caps: bool) {
    let k = L::LANES;
    let (liq, odd, size) = (5 * CHUNK * k, SERIES * CHUNK * k, 6 * CHUNK * k);
    for j in 0..len {
        let x = L::load(&buf[liq + j * k..]);
        let ok = normal(x);
        let y = ln(L::select(ok, x, L::splat(1.0))) / L::splat(3.0);
        L::select(ok, y, L::load(&buf[odd + j * k..])).store(&mut buf[liq + j * k..]);
        if !caps {
            ln(L::load(&buf[size + j * k..])).store(&mut buf[size + j * k..]);
        }
    }
}

/// `size = ln(caps)` where caps are positive, else NaN, `L::LANES` dates at a time.
#[inline(always)]
pub(super) fn size<L: Lanes>(caps: &[f64], out: &mut [f64]) {
    let k = L::LANES;
    let full = caps.len() / k * k;
    for j in (0..full).step_by(k) {
        let w = L::load(&caps[j..]);
        let v = L::select(gt(w, L::splat(0.0)), ln(w), L::splat(f64::NAN));
        v.store(&mut out[j..]);
    }
    for j in full..caps.len() {
        let w = caps[j];
        out[j] = if w > 0.0 { ln(w) } else { f64::NAN };
    }
}
