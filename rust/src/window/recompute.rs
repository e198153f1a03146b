//! Recomputing a window's sums from its values, off the hot path (`#[cold]`): once the bound on
//! the accumulated rounding is exceeded, and, rarely, in two passes when the state's estimate of
//! the mean is too far off to re-anchor on.

use super::{Sum1, Sum2};

/// Recomputes the first moment of a window (of `n` valid values) from its values: one pass around
/// the state's estimate of the mean, or, should that estimate be too far off for the rounding
/// budget (only after extreme changes of scale), two passes around the exact mean.
#[cold]
#[inline(never)]
pub(super) fn recompute_first<I: Iterator<Item = f64>>(
    estimate: f64,
    window: &impl Fn() -> I,
) -> Sum1<f64> {
    let fresh = Sum1::fresh(estimate, window().filter(|v| !v.is_nan()));
    if fresh.within() {
        fresh
    } else {
        exact_first(window)
    }
}

/// Recomputes the first and second moments of a window (of `1/inv` valid values), as
/// [`recompute_first`] does.
#[cold]
#[inline(never)]
pub(super) fn recompute_second<I: Iterator<Item = f64>>(
    estimate: f64,
    inv: f64,
    window: &impl Fn() -> I,
) -> Sum2<f64> {
    let fresh = Sum2::fresh(estimate, window().filter(|v| !v.is_nan()));
    if fresh.within(inv) {
        fresh
    } else {
        exact_second(window)
    }
}

/// Exact first moment of a window, anchored on its mean (two passes).
#[cold]
#[inline(never)]
pub(crate) fn exact_first<I: Iterator<Item = f64>>(window: &impl Fn() -> I) -> Sum1<f64> {
    Sum1::fresh(exact_mean(window), window().filter(|v| !v.is_nan()))
}

/// Exact first and second moments of a window, anchored on its mean (two passes).
#[cold]
#[inline(never)]
pub(crate) fn exact_second<I: Iterator<Item = f64>>(window: &impl Fn() -> I) -> Sum2<f64> {
    Sum2::fresh(exact_mean(window), window().filter(|v| !v.is_nan()))
}

fn exact_mean<I: Iterator<Item = f64>>(window: &impl Fn() -> I) -> f64 {
    let (mut total, mut n) = (0.0, 0usize);
    for v in window().filter(|v| !v.is_nan()) {
        total += v;
        n += 1;
    }
    total / n as f64
}
