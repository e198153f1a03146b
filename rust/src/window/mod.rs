//! Rolling sums and second moments over a window of positions, NaN skipped and not counted.
//!
//! Sums are kept relative to an anchor `k` (`s1 = Σ(x-k)`, `s2 = Σ(x-k)²`) so that the variance
//! does not suffer the cancellation of `Σx² - (Σx)²/n`. Adding and removing values accumulates
//! rounding error; we track a bound on it (`mass1`, `mass2`: the magnitudes every rounding was
//! relative to) and, when the bound could exceed `LIMIT` ulps of the current value (of `Σ|x|` for
//! the sum, of `M2` for the second moment), recompute the sums from the window's values,
//! re-anchored on the state's own estimate of the mean (one pass); should that estimate be too far
//! off for the fresh sums to pass the same test (only after extreme changes of scale), the window
//! is recomputed in two passes around its exact mean. On ordinary prices that happens every few
//! dozen bars; on hostile data (1e6 next to 1e-6) it happens exactly when needed. Each `count`
//! change refreshes `1/count`, so the steady state multiplies and never divides.
//! A run of identical values is detected and returns exact results (mean = value, variance = 0),
//! as pandas does, so flat windows give exactly 0 and not 1e-17.
//!
//! The state is driven by `slide(in, out, window)`; the caller provides the window's values (one
//! slice in batch mode, the two halves of a ring buffer in streaming mode), read only when a
//! recompute is needed, so batch and stream share this implementation bit for bit.
//!
//! The arithmetic of one slide is written once, generic over a [`Lane`] type: `f64` for one series
//! (what [`Window::slide`] runs) or [`F4`], four independent series side by side, which the fused
//! kernels use on stretches where every window is full and NaN-free. Each lane performs exactly the
//! IEEE operations of the scalar code, in the same order (no fused multiply-add), so a series gives
//! the same bits whichever path or lane it went through.
//!
//! This file holds the public API: [`Window`] and the helpers that locate a window and hand it its
//! values. The arithmetic lives in submodules: `lane` (the `Lane` trait, `f64` lanes), `avx`
//! (four lanes in an AVX register), `sums` (the lane-generic sums, their updates and rounding
//! tests) and `recompute` (the cold re-summing of a window from its values).

#[cfg(target_arch = "x86_64")]
mod avx;
mod lane;
mod recompute;
mod sums;
#[cfg(test)]
mod tests;

#[cfg(target_arch = "x86_64")]
pub(crate) use avx::{store_fence, F4, M4};

pub(crate) use lane::Lane;
pub(crate) use recompute::{exact_first, exact_second};
use recompute::{recompute_first, recompute_second};
pub(crate) use sums::{band, run_step, Sum1, Sum2};

/// Running state for one window. `SQ` enables the second moment (variance).
#[derive(Clone, Debug)]
pub struct Window<const SQ: bool> {
    pub(crate) count: usize,
    /// `count` and `1 / count` as floats, refreshed whenever the count changes.
    pub(crate) n: f64,
    pub(crate) inv: f64,
    pub(crate) first: Sum1<f64>,
    pub(crate) second: Sum2<f64>,
    pub(crate) last: f64,
    /// Number of latest valid values equal to `last` (exact integer).
    pub(crate) run: f64,
}

impl<const SQ: bool> Default for Window<SQ> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SQ: bool> Window<SQ> {
    /// An empty window.
    pub fn new() -> Self {
        Window {
            count: 0,
            n: 0.0,
            inv: 0.0,
            first: Sum1::default(),
            second: Sum2::default(),
            last: f64::NAN,
            run: 0.0,
        }
    }

    /// Number of valid (non-NaN) values in the window.
    #[inline(always)]
    pub fn count(&self) -> usize {
        self.count
    }

    /// Slides the window by one position: `x_in` enters and `x_out` leaves (NaN when nothing valid
    /// leaves). `window` yields the values of the window *after* the slide (NaN allowed); it is read
    /// only when the accumulated rounding calls for an exact recompute. The state after a slide
    /// depends only on the values seen, never on which results were read.
    #[inline(always)]
    pub fn slide<I: Iterator<Item = f64>>(
        &mut self,
        x_in: f64,
        x_out: f64,
        window: impl Fn() -> I,
    ) {
        let valid_in = !x_in.is_nan();
        let valid_out = !x_out.is_nan();
        if valid_in && valid_out {
            // The count does not change (a valid value leaving means the window was not empty).
            self.slide_valid(x_in, x_out, window);
            return;
        }
        if valid_in {
            run_step(&mut self.run, &mut self.last, x_in);
            if self.count == 0 {
                // A fresh start: anchor on the first value, forget earlier rounding.
                self.first = Sum1 {
                    anchor: x_in,
                    ..Sum1::default()
                };
                self.second = Sum2 {
                    anchor: x_in,
                    ..Sum2::default()
                };
            }
        }
        let count = self.count + usize::from(valid_in) - usize::from(valid_out);
        if count != self.count {
            self.count = count;
            if count == 0 {
                return;
            }
            self.n = count as f64;
            self.inv = 1.0 / self.n;
        }
        if count == 0 {
            return;
        }
        let (ax_in, ax_out) = (
            if valid_in { x_in.abs() } else { 0.0 },
            if valid_out { x_out.abs() } else { 0.0 },
        );
        let k = self.first.anchor;
        let (d_in, d_out) = (
            if valid_in { x_in - k } else { 0.0 },
            if valid_out { x_out - k } else { 0.0 },
        );
        self.first.update(d_in, d_out, ax_in, ax_out);
        if !self.first.within() {
            self.first = recompute_first(self.first.estimate(self.inv), &window);
        }
        if SQ {
            let k = self.second.anchor;
            let (d_in, d_out) = (
                if valid_in { x_in - k } else { 0.0 },
                if valid_out { x_out - k } else { 0.0 },
            );
            if !self.second.update(d_in, d_out, self.inv) && !self.is_flat() {
                self.second = recompute_second(self.second.estimate(self.inv), self.inv, &window);
            }
        }
    }

    /// Slides the window of `period` positions ending at bar `t` of `x`. Batch kernels pass the
    /// whole series; a stream passes its recent history with `t` relative to it (see
    /// [`crate::stream`]), so both run this very code.
    #[inline(always)]
    pub fn slide_at(&mut self, x: &[f64], t: usize, period: usize) {
        let win = &x[window_start(t, period)..=t];
        self.slide(x[t], leaving(x, t, period), || slice_window(win));
    }

    /// [`Window::slide`] when both `x_in` and `x_out` are valid (the count stays the same).
    #[inline(always)]
    pub(crate) fn slide_valid<I: Iterator<Item = f64>>(
        &mut self,
        x_in: f64,
        x_out: f64,
        window: impl Fn() -> I,
    ) {
        run_step(&mut self.run, &mut self.last, x_in);
        let (ax_in, ax_out) = (x_in.abs(), x_out.abs());
        self.first.slide_valid(x_in, x_out, ax_in, ax_out);
        if !self.first.within() {
            self.first = recompute_first(self.first.estimate(self.inv), &window);
        }
        if SQ && !self.second.slide_valid(x_in, x_out, self.inv) && !self.is_flat() {
            self.second = recompute_second(self.second.estimate(self.inv), self.inv, &window);
        }
    }

    /// True when every valid value in the window is the same number.
    #[inline(always)]
    pub(crate) fn is_flat(&self) -> bool {
        self.run >= self.n
    }

    /// Sum of the valid values (call with `count() > 0`).
    #[inline(always)]
    pub fn sum(&self) -> f64 {
        self.first.sum(self.is_flat(), self.last, self.n)
    }

    /// Mean of the valid values (call with `count() > 0`).
    #[inline(always)]
    pub fn mean(&self) -> f64 {
        self.first.mean(self.is_flat(), self.last, self.inv)
    }

    /// Sum of squared deviations from the mean (`M2`: variance = `M2 / (count - ddof)`).
    #[inline(always)]
    pub fn m2(&self) -> f64 {
        debug_assert!(SQ, "m2 needs a Window<true>");
        self.second.m2(self.is_flat(), self.inv)
    }
}

/// The values of a window: one slice (batch) or the two halves of a ring buffer (stream).
pub type WindowIter<'a> =
    std::iter::Copied<std::iter::Chain<std::slice::Iter<'a, f64>, std::slice::Iter<'a, f64>>>;

/// Window values of a plain slice.
#[inline(always)]
pub fn slice_window(values: &[f64]) -> WindowIter<'_> {
    values.iter().chain([].iter()).copied()
}

/// Index range of the window of `period` positions ending at `t`.
#[inline(always)]
pub fn window_start(t: usize, period: usize) -> usize {
    (t + 1).saturating_sub(period)
}

/// The value leaving a window of `period` positions when bar `t` enters (NaN if none).
#[inline(always)]
pub fn leaving(x: &[f64], t: usize, period: usize) -> f64 {
    if t >= period {
        x[t - period]
    } else {
        f64::NAN
    }
}
