//! The rounding fallback of the lane steps, the lane-wise counterpart of the recompute in
//! [`Window::slide`](crate::window::Window::slide): all lanes are re-summed at once, and only the
//! rare lane whose fresh sums still fail the test takes the exact two-pass sums, out of line.

use super::state::{put1, put2, Fast};
use super::step::{gain_of, loss_of};
use super::{LONG, RSI, SHORT};
use crate::rsi::{change, gain, loss};
use crate::window::{exact_first, exact_second, slice_window, window_start, Lane, Sum1, Sum2};

/// The closes of each lane's series for the exact fallback of a recompute, bar `t` of the
/// recompute at their position `t`: slices of whole series in the batch paths, or rows made on
/// demand from a window held in lanes (a stream's ring), as only the rare lane that fails twice
/// reads one.
pub(crate) trait Rows {
    /// Lanes with a row.
    fn count(&self) -> usize;
    /// Runs `f` on the closes of lane `i`.
    fn with_row(&self, i: usize, f: &mut dyn FnMut(&[f64]));
}

impl Rows for &[&[f64]] {
    fn count(&self) -> usize {
        self.len()
    }
    fn with_row(&self, i: usize, f: &mut dyn FnMut(&[f64])) {
        f(self[i])
    }
}

/// Recomputes the windows that failed their rounding test (`ok`, in the order w20, bb, w50, gains,
/// losses), as [`Window::slide`] does: afresh around the state's estimate of the mean, for all lanes
/// at once, keeping the result in the failed lanes; a lane whose fresh sums still fail the test
/// gets the exact two-pass sums of its window (`rows[i]`). `win` holds the closes of the 20- and
/// 50-bar windows and the closes whose changes make the RSI window (the bar before it included),
/// none of them NaN; `inv` the reciprocals of the three counts.
///
/// [`Window::slide`]: crate::window::Window::slide
#[inline(always)]
pub(super) fn recompute<L: Lane, R: Rows + ?Sized>(
    f: &mut Fast<L>,
    ok: &[L::Mask; 5],
    win: [&[L]; 3],
    inv: (L, L, L),
    rows: &R,
    t: usize,
) {
    let (inv20, inv50, inv14) = inv;
    let w20 = win[0];
    if !L::all(ok[0]) {
        let fresh = Sum1::fresh(f.w20.estimate(inv20), w20.iter().copied());
        let fresh = fallback1(fresh, fresh.within(), ok[0], rows, |x| {
            x[window_start(t, SHORT)..=t].to_vec()
        });
        f.w20 = Sum1::select(ok[0], &f.w20, &fresh);
    }
    if !L::all(ok[1]) {
        recompute_second(&mut f.bb, ok[1], w20, inv20, rows, t);
    }
    if !L::all(ok[2]) {
        let fresh = Sum1::fresh(f.w50.estimate(inv50), win[1].iter().copied());
        let fresh = fallback1(fresh, fresh.within(), ok[2], rows, |x| {
            x[window_start(t, LONG)..=t].to_vec()
        });
        f.w50 = Sum1::select(ok[2], &f.w50, &fresh);
    }
    if !L::all(ok[3] & ok[4]) {
        let closes = win[2];
        let m = closes.len() - 1;
        assert!(m <= RSI);
        let mut gains = [L::splat(0.0); RSI];
        let mut losses = [L::splat(0.0); RSI];
        for j in 0..m {
            let d = closes[j + 1] - closes[j];
            gains[j] = gain_of(d);
            losses[j] = loss_of(d);
        }
        let (gains, losses) = (&gains[..m], &losses[..m]);
        let changes = |x: &[f64]| {
            (window_start(t, RSI)..=t)
                .map(|j| change(x, j))
                .collect::<Vec<f64>>()
        };
        if !L::all(ok[3]) {
            let fresh = Sum1::fresh(f.gains.estimate(inv14), gains.iter().copied());
            let fresh = fallback1(fresh, fresh.within(), ok[3], rows, |x| {
                changes(x).into_iter().map(gain).collect()
            });
            f.gains = Sum1::select(ok[3], &f.gains, &fresh);
        }
        if !L::all(ok[4]) {
            let fresh = Sum1::fresh(f.losses.estimate(inv14), losses.iter().copied());
            let fresh = fallback1(fresh, fresh.within(), ok[4], rows, |x| {
                changes(x).into_iter().map(loss).collect()
            });
            f.losses = Sum1::select(ok[4], &f.losses, &fresh);
        }
    }
}

/// The part of [`recompute`] for the variance sums `bb` of the 20-bar window `w20` (`ok`: the
/// lanes that passed their test), on its own for the single-series path, whose variance sums are
/// not packed with the rest and fail most often.
#[inline(always)]
pub(super) fn recompute_second<L: Lane, R: Rows + ?Sized>(
    bb: &mut Sum2<L>,
    ok: L::Mask,
    w20: &[L],
    inv20: L,
    rows: &R,
    t: usize,
) {
    let fresh = Sum2::fresh(bb.estimate(inv20), w20.iter().copied());
    let good = fresh.within(inv20) | ok;
    let mut fresh = fresh;
    if !L::all(good) {
        for i in 0..rows.count().min(L::LANES) {
            if !L::mask_lane(good, i) {
                rows.with_row(i, &mut |x| {
                    put2(
                        &mut fresh,
                        i,
                        exact_second(&|| slice_window(&x[window_start(t, SHORT)..=t])),
                    );
                });
            }
        }
    }
    *bb = Sum2::select(ok, bb, &fresh);
}

/// The exact two-pass fallback of [`recompute`] for first moments: lanes where neither the state
/// (`ok`) nor the fresh sums (`good`) pass get the exact sums of `values(rows[i])`.
#[inline(always)]
fn fallback1<L: Lane, R: Rows + ?Sized>(
    fresh: Sum1<L>,
    good: L::Mask,
    ok: L::Mask,
    rows: &R,
    values: impl Fn(&[f64]) -> Vec<f64>,
) -> Sum1<L> {
    let good = good | ok;
    if L::all(good) {
        return fresh;
    }
    fallback1_cold(fresh, good, rows, values)
}

#[cold]
#[inline(never)]
fn fallback1_cold<L: Lane, R: Rows + ?Sized>(
    mut fresh: Sum1<L>,
    good: L::Mask,
    rows: &R,
    values: impl Fn(&[f64]) -> Vec<f64>,
) -> Sum1<L> {
    for i in 0..rows.count().min(L::LANES) {
        if !L::mask_lane(good, i) {
            rows.with_row(i, &mut |x| {
                let v = values(x);
                put1(&mut fresh, i, exact_first(&|| slice_window(&v)));
            });
        }
    }
    fresh
}
