//! Rolling sums and second moments over a window of positions, NaN skipped and not counted.
//!
//! Sums are kept relative to an anchor `k` (`s1 = Σ(x-k)`, `s2 = Σ(x-k)²`) so that the variance
//! does not suffer the cancellation of `Σx² - (Σx)²/n`. Adding and removing values accumulates
//! rounding error; we track a bound on it (`mass1`, `mass2`: the magnitudes every rounding was
//! relative to) and, when the bound could exceed `LIMIT` ulps of the current value, recompute the
//! window exactly (two passes) and re-anchor on its mean. On ordinary prices that
//! happens every few dozen bars; on hostile data (1e6 next to 1e-6) it happens exactly when needed.
//! A run of identical values is detected and returns exact results (mean = value, variance = 0),
//! as pandas does, so flat windows give exactly 0 and not 1e-17.
//!
//! The state is driven by `slide(in, out, window)`; the caller provides the window's values (one
//! slice in batch mode, the two halves of a ring buffer in streaming mode), read only when a
//! recompute is needed, so batch and stream share this implementation bit for bit.

/// Error budget in units of the float64 epsilon (2^-52): 512 ulps ≈ 1.1e-13 relative.
const LIMIT: f64 = 512.0;

/// `Σ(x-k)` relative to an anchor `k`, with the bound on its accumulated rounding.
#[derive(Clone, Debug, Default)]
struct Sum1 {
    anchor: f64,
    s1: f64,
    /// `Σ|x|` (unshifted): the scale of the data, against which the mean's error is judged.
    absx: f64,
    mass1: f64,
}

/// `Σ(x-k)` and `Σ(x-k)²` relative to their own anchor. Kept apart from [`Sum1`] so that a
/// recompute triggered by the variance never changes the bits of the mean: a window with the
/// second moment gives the same means as one without.
#[derive(Clone, Debug, Default)]
struct Sum2 {
    anchor: f64,
    s1: f64,
    s2: f64,
    mass1: f64,
    mass2: f64,
}

/// Running state for one window. `SQ` enables the second moment (variance).
#[derive(Clone, Debug)]
pub struct Window<const SQ: bool> {
    count: usize,
    first: Sum1,
    second: Sum2,
    last: f64,
    run: usize,
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
            first: Sum1::default(),
            second: Sum2::default(),
            last: f64::NAN,
            run: 0,
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
        if valid_in {
            if x_in == self.last {
                self.run += 1;
            } else {
                self.last = x_in;
                self.run = 1;
            }
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
        self.count = self.count + usize::from(valid_in) - usize::from(valid_out);
        if self.count == 0 {
            return;
        }
        let f = &mut self.first;
        let d_in = if valid_in { x_in - f.anchor } else { 0.0 };
        let d_out = if valid_out { x_out - f.anchor } else { 0.0 };
        f.s1 += d_in - d_out;
        f.absx +=
            if valid_in { x_in.abs() } else { 0.0 } - if valid_out { x_out.abs() } else { 0.0 };
        f.mass1 += d_in.abs() + d_out.abs() + f.s1.abs();
        let scale = (f.anchor * self.count as f64 + f.s1).abs().max(f.absx);
        if !(f.mass1 <= LIMIT * scale) {
            self.first = exact_first(&window);
        }
        if SQ {
            let q = &mut self.second;
            let d_in = if valid_in { x_in - q.anchor } else { 0.0 };
            let d_out = if valid_out { x_out - q.anchor } else { 0.0 };
            q.s1 += d_in - d_out;
            q.s2 += d_in * d_in - d_out * d_out;
            q.mass1 += d_in.abs() + d_out.abs() + q.s1.abs();
            q.mass2 += d_in * d_in + d_out * d_out + q.s2.abs();
            let shift = q.s1 / self.count as f64;
            let m2 = q.s2 - q.s1 * shift;
            let bound = q.mass2 + 2.0 * shift.abs() * q.mass1 + (q.s1 * shift).abs();
            if !(bound <= LIMIT * m2) && !self.is_flat() {
                self.second = exact_second(&window);
            }
        }
    }

    /// True when every valid value in the window is the same number.
    #[inline(always)]
    fn is_flat(&self) -> bool {
        self.run >= self.count
    }

    /// Sum of the valid values (call with `count() > 0`).
    #[inline(always)]
    pub fn sum(&self) -> f64 {
        if self.is_flat() {
            return self.last * self.count as f64;
        }
        self.first.anchor * self.count as f64 + self.first.s1
    }

    /// Mean of the valid values (call with `count() > 0`).
    #[inline(always)]
    pub fn mean(&self) -> f64 {
        if self.is_flat() {
            return self.last;
        }
        self.first.anchor + self.first.s1 / self.count as f64
    }

    /// Sum of squared deviations from the mean (`M2`: variance = `M2 / (count - ddof)`).
    #[inline(always)]
    pub fn m2(&self) -> f64 {
        debug_assert!(SQ, "m2 needs a Window<true>");
        if self.is_flat() {
            return 0.0;
        }
        let q = &self.second;
        (q.s2 - q.s1 * (q.s1 / self.count as f64)).max(0.0)
    }
}

/// Exact first moment of a window, anchored on its mean (two passes).
#[cold]
#[inline(never)]
fn exact_first<I: Iterator<Item = f64>>(window: &impl Fn() -> I) -> Sum1 {
    let k = exact_mean(window);
    let (mut s1, mut absx, mut mass1) = (0.0, 0.0, 0.0);
    for v in window().filter(|v| !v.is_nan()) {
        s1 += v - k;
        absx += v.abs();
        mass1 += (v - k).abs();
    }
    Sum1 {
        anchor: k,
        s1,
        absx,
        mass1,
    }
}

/// Exact first and second moments of a window, anchored on its mean (two passes).
#[cold]
#[inline(never)]
fn exact_second<I: Iterator<Item = f64>>(window: &impl Fn() -> I) -> Sum2 {
    let k = exact_mean(window);
    let (mut s1, mut s2, mut abs1) = (0.0, 0.0, 0.0);
    for v in window().filter(|v| !v.is_nan()) {
        let d = v - k;
        s1 += d;
        s2 += d * d;
        abs1 += d.abs();
    }
    Sum2 {
        anchor: k,
        s1,
        s2,
        mass1: abs1,
        mass2: s2,
    }
}

fn exact_mean<I: Iterator<Item = f64>>(window: &impl Fn() -> I) -> f64 {
    let (mut total, mut n) = (0.0, 0usize);
    for v in window().filter(|v| !v.is_nan()) {
        total += v;
        n += 1;
    }
    total / n as f64
}

/// The values of a window: one slice (batch) or the two halves of a ring buffer (stream).
pub type WindowIter<'a> =
    std::iter::Copied<std::iter::Chain<std::slice::Iter<'a, f64>, std::slice::Iter<'a, f64>>>;

/// Window values of a plain slice.
#[inline(always)]
pub fn slice_window(values: &[f64]) -> WindowIter<'_> {
    values.iter().chain([].iter()).copied()
}

/// Window values of a ring buffer stored as two halves (older half first).
#[inline(always)]
pub fn ring_window<'a>(older: &'a [f64], newer: &'a [f64]) -> WindowIter<'a> {
    older.iter().chain(newer.iter()).copied()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(values: &[f64]) -> (f64, f64) {
        let v: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (mean, v.iter().map(|x| (x - mean) * (x - mean)).sum())
    }

    #[test]
    fn tracks_exact_moments_across_twelve_orders_of_magnitude() {
        let mut x = Vec::new();
        let mut state = 12345u64;
        for i in 0..5000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let scale = 10f64.powi(((i / 300) % 13) as i32 - 6);
            x.push(if i % 97 == 5 {
                f64::NAN
            } else {
                scale * (1.0 + 0.02 * (u - 0.5))
            });
        }
        let n = 20;
        let mut w = Window::<true>::new();
        for t in 0..x.len() {
            let win = &x[window_start(t, n)..=t];
            w.slide(x[t], leaving(&x, t, n), || slice_window(win));
            if w.count() < 2 {
                continue;
            }
            let (mean, m2) = (w.mean(), w.m2());
            let (em, em2) = exact(win);
            assert!(
                ((mean - em) / em).abs() < 1e-13,
                "mean at {t}: {mean} vs {em}"
            );
            assert!(((m2 - em2) / em2).abs() < 1e-12, "m2 at {t}: {m2} vs {em2}");
        }
    }

    #[test]
    fn flat_windows_are_exact() {
        let x = [1e6, 3.0, 0.1, 0.1, 0.1, 0.1];
        let mut w = Window::<true>::new();
        for t in 0..x.len() {
            w.slide(x[t], leaving(&x, t, 3), || {
                slice_window(&x[window_start(t, 3)..=t])
            });
        }
        let (mean, m2) = (w.mean(), w.m2());
        assert_eq!((mean, m2), (0.1, 0.0));
    }

    #[test]
    fn all_nan_window_resets() {
        let x = [5.0, f64::NAN, f64::NAN, 7.0];
        let mut w = Window::<false>::new();
        for t in 0..x.len() {
            w.slide(x[t], leaving(&x, t, 2), || {
                slice_window(&x[window_start(t, 2)..=t])
            });
        }
        assert_eq!(w.count(), 1);
        assert_eq!(w.mean(), 7.0);
    }
}
