//! Which path computes which bars. The paths give the same bits and differ only in speed, so the
//! driver picks per stretch of bars: the warm-up or fast path where the windows allow it (all four
//! series of a block side by side where they all do), the general path elsewhere. The entry
//! points compiled for AVX2, behind a runtime check, live here too.

#[cfg(target_arch = "x86_64")]
use super::avx::{Avx, Staging};
use super::paths::LanePath;
#[cfg(target_arch = "x86_64")]
use super::scalar::FinishAvx;
use super::scalar::{FinishEach, Scalar};
use super::state::Series;
use super::{standard, LANES, LONG, OUTPUTS};
#[cfg(target_arch = "x86_64")]
use crate::window::{Lane, F4};

/// First NaN of `x` at or after `from` (`x.len()` if none).
fn next_nan(x: &[f64], from: usize) -> usize {
    const CHUNK: usize = 32;
    let mut i = from;
    while i + CHUNK <= x.len() {
        // A branch-free test of a whole chunk vectorises; the position is searched only on a hit.
        if x[i..i + CHUNK]
            .iter()
            .fold(false, |acc, v| acc | v.is_nan())
        {
            break;
        }
        i += CHUNK;
    }
    x[i..]
        .iter()
        .position(|v| v.is_nan())
        .map_or(x.len(), |p| i + p)
}

/// Whether bar `t` of `x` can take the fast path: its 50-bar window (and the bar before it, for
/// the changes) holds no NaN. Returns the first NaN at or after `t - LONG` when it can.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the AVX2 paths only
fn fast_until(x: &[f64], t: usize) -> Option<usize> {
    if t < LONG {
        return None;
    }
    let next = next_nan(x, t - LONG);
    (next > t).then_some(next)
}

/// The first bar at or after `t` that can take the fast path (`x.len()` if none).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the AVX2 paths only
fn first_fast(x: &[f64], t: usize) -> usize {
    let mut b = t.max(LONG);
    while b < x.len() {
        let next = next_nan(x, b - LONG);
        if next > b {
            return b;
        }
        b = next + LONG + 1;
    }
    x.len()
}

/// Advances one series from bar `t0` to `t1` (`out` = its six output rows): the warm-up path
/// while its first bars hold no NaN, the fast path wherever its windows are full and NaN-free,
/// the general path elsewhere.
#[inline(always)]
pub(super) fn advance<P: LanePath>(
    path: &mut P,
    s: &mut Series,
    x: &[f64],
    out: &mut [&mut [f64]],
    t0: usize,
    t1: usize,
) {
    debug_assert_eq!(P::LANES, 1);
    let rows = [x];
    let series = std::slice::from_mut(s);
    let mut t = t0;
    // The first NaN at or after `t`, and the bar after the last NaN before `t`.
    let mut next = next_nan(x, t);
    let mut clean = x[t.saturating_sub(LONG)..t]
        .iter()
        .rposition(|v| v.is_nan())
        .map_or(t.saturating_sub(LONG), |p| t.saturating_sub(LONG) + p + 1);
    while t < t1 {
        if t >= LONG && clean + LONG <= t && next > t {
            let stop = next.min(t1);
            path.fast_run(series, &rows, out, t, stop);
            t = stop;
            continue;
        }
        if t < LONG && clean == 0 && next > t {
            let stop = next.min(t1).min(LONG);
            path.warm_run(series, &rows, out, t, stop);
            t = stop;
            continue;
        }
        for (row, v) in out.iter_mut().zip(series[0].step(x, t)) {
            row[t] = v;
        }
        if next == t {
            clean = t + 1;
            next = next_nan(x, t + 1);
        }
        t += 1;
    }
}

/// The standard set of `LANES` series of equal length into `out` (`out[i * OUTPUTS + k]` is
/// output `k` of series `i`): side by side (`lanes`) wherever all of them can take the warm-up or
/// the fast path, each on its own (`one`) until they all can again.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the AVX2 paths only
fn run4_with<P: LanePath, Q: LanePath>(
    lanes: &mut P,
    one: &mut Q,
    rows: &[&[f64]],
    out: &mut [&mut [f64]],
) {
    assert!(
        P::LANES == LANES && Q::LANES == 1 && rows.len() == LANES && out.len() == LANES * OUTPUTS
    );
    let n = rows[0].len();
    assert!(rows.iter().all(|r| r.len() == n) && out.iter().all(|r| r.len() == n));
    let mut series: [Series; LANES] = Default::default();
    let mut t = 0;
    // Warm-up: while no series has met a NaN, the windows fill up alike in every lane.
    let warm = n.min(LONG);
    if warm > 0 && rows.iter().all(|x| next_nan(x, 0) >= warm) {
        lanes.warm_run(&mut series, rows, out, 0, warm);
        t = warm;
    }
    while t < n {
        let mut end = n;
        let mut all = true;
        for x in rows {
            match fast_until(x, t) {
                Some(next) => end = end.min(next),
                None => all = false,
            }
        }
        if all {
            lanes.fast_run(&mut series, rows, out, t, end);
            t = end;
            continue;
        }
        // Each on its own up to the first bar where every series can take the fast path.
        let sync = rows
            .iter()
            .map(|x| first_fast(x, t))
            .max()
            .unwrap_or(n)
            .max(t + 1)
            .min(n);
        for (i, ((s, x), out)) in series
            .iter_mut()
            .zip(rows)
            .zip(out.chunks_mut(OUTPUTS))
            .enumerate()
        {
            debug_assert!(i < LANES);
            advance(one, s, x, out, t, sync);
        }
        t = sync;
    }
}

/// Four series side by side, compiled for AVX2 (AVX would do for the float lanes, but AVX2 lets
/// the compiler handle the lane masks as 256-bit integers).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run4_avx2(rows: &[&[f64]], out: &mut [&mut [f64]], stream: bool) {
    let mut lanes = Avx {
        bars: Vec::new(),
        staging: stream.then(Staging::new),
    };
    run4_with(&mut lanes, &mut Scalar::<FinishAvx>::new(), rows, out)
}

/// Four series (`rows.len() == LANES`): side by side where the CPU has AVX2, else one at a time.
/// `stream`: write the outputs with non-temporal stores (they will not fit in any cache).
pub(super) fn run4(rows: &[&[f64]], out: &mut [&mut [f64]], stream: bool) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 (hence AVX, the invariant of `F4`) is available, as just checked.
            return unsafe { run4_avx2(rows, out, stream) };
        }
    }
    let _ = stream;
    for (i, x) in rows.iter().enumerate() {
        standard(x, &mut out[i * OUTPUTS..(i + 1) * OUTPUTS]);
    }
}

/// Whether every value of `x` is finite (neither NaN nor infinite), so that a clean series skips
/// the NaN scans of [`advance`] and the panel's infinity check.
fn all_finite(x: &[f64]) -> bool {
    x.iter().all(|v| v.is_finite())
}

/// [`all_finite`] four values per instruction: `v * 0` is ±0 for a finite `v` and NaN for NaN or an
/// infinity, so sums of them stay 0 exactly when every value is finite (no branch per value).
///
/// # Safety
/// AVX must be available (the invariant of [`F4`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn all_finite_avx(x: &[f64]) -> bool {
    let zero = F4::splat(0.0);
    let (mut a, mut b) = (zero, zero);
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        // SAFETY: `c` holds 8 values.
        let (p, q) = unsafe { (F4::load(c.as_ptr()), F4::load(c.as_ptr().add(4))) };
        a = a + p * zero;
        b = b + q * zero;
    }
    F4::all((a + b).eq_(zero)) && chunks.remainder().iter().all(|v| v.is_finite())
}

/// One series without NaN: the warm-up path over its first `LONG` bars, the fast path after them
/// (what [`advance`] picks for such a series, without its scans).
#[inline(always)]
fn run_clean<P: LanePath>(path: &mut P, x: &[f64], out: &mut [&mut [f64]]) {
    debug_assert_eq!(P::LANES, 1);
    let rows = [x];
    let mut s = Series::default();
    let series = std::slice::from_mut(&mut s);
    let warm = x.len().min(LONG);
    if warm > 0 {
        path.warm_run(series, &rows, out, 0, warm);
    }
    if x.len() > LONG {
        path.fast_run(series, &rows, out, LONG, x.len());
    }
}

/// The standard set of one series whose values are all finite (returns false, writing nothing,
/// if one is not): the per-call path of a single stock.
pub(super) fn standard_finite(x: &[f64], out: &mut [&mut [f64]]) -> bool {
    assert!(out.len() == OUTPUTS && out.iter().all(|r| r.len() == x.len()));
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 (hence AVX, the invariant of `F4`) is available, as just checked.
            return unsafe { run1_finite_avx2(x, out) };
        }
    }
    if !all_finite(x) {
        return false;
    }
    run_clean(&mut Scalar::<FinishEach>::new(), x, out);
    true
}

/// [`standard_finite`], compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run1_finite_avx2(x: &[f64], out: &mut [&mut [f64]]) -> bool {
    // SAFETY: AVX2 implies AVX.
    if !unsafe { all_finite_avx(x) } {
        return false;
    }
    run_clean(&mut Scalar::<FinishAvx>::new(), x, out);
    true
}

/// One series, compiled for AVX2 (its outputs finished four bars at a time).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn run1_avx2(x: &[f64], out: &mut [&mut [f64]]) {
    advance(
        &mut Scalar::<FinishAvx>::new(),
        &mut Series::default(),
        x,
        out,
        0,
        x.len(),
    )
}
