//! Rolling minimum and maximum with a monotone deque: O(1) amortised per bar whatever the window.

use crate::error::Result;
use crate::panel::{for_each_asset, Input, Output};
use crate::rolling::check_window;
use std::collections::VecDeque;

/// Rolling extreme of one series. The deque holds positions whose values are strictly better than
/// every later value, so its front is the extreme of the window; NaN values never enter it.
pub struct Extreme {
    window: usize,
    want_max: bool,
    deque: VecDeque<(usize, f64)>,
}

impl Extreme {
    /// A tracker of the maximum (`want_max`) or minimum over `window` positions.
    pub fn new(window: usize, want_max: bool) -> Self {
        Extreme {
            window,
            want_max,
            deque: VecDeque::with_capacity(window.min(4096)),
        }
    }

    /// Pushes the value at position `t` and returns the extreme of the window ending at `t`
    /// (NaN when the window holds no valid value).
    #[inline]
    pub fn push(&mut self, t: usize, v: f64) -> f64 {
        while let Some(&(i, _)) = self.deque.front() {
            if i + self.window <= t {
                self.deque.pop_front();
            } else {
                break;
            }
        }
        if !v.is_nan() {
            while let Some(&(_, back)) = self.deque.back() {
                let dominated = if self.want_max { back <= v } else { back >= v };
                if dominated {
                    self.deque.pop_back();
                } else {
                    break;
                }
            }
            self.deque.push_back((t, v));
        }
        self.deque.front().map_or(f64::NAN, |&(_, e)| e)
    }
}

/// Rolling min (`want_max = false`) or max of one series.
pub fn rolling_extreme(
    x: &[f64],
    window: usize,
    min_periods: usize,
    want_max: bool,
    out: &mut [f64],
) {
    let mut ext = Extreme::new(window, want_max);
    let mut count = 0usize;
    for t in 0..x.len() {
        count += usize::from(!x[t].is_nan());
        if t >= window {
            count -= usize::from(!x[t - window].is_nan());
        }
        let e = ext.push(t, x[t]);
        out[t] = if count >= min_periods.max(1) {
            e
        } else {
            f64::NAN
        };
    }
}

/// Rolling min or max over a `(n_assets, n_bars)` panel.
pub fn rolling_extreme_panel(
    x: &[f64],
    n_assets: usize,
    n_bars: usize,
    window: usize,
    min_periods: usize,
    want_max: bool,
    out: Output<'_>,
) -> Result<()> {
    check_window(window, min_periods)?;
    for_each_asset(
        n_assets,
        n_bars,
        &[Input { name: "x", data: x }],
        &mut [out],
        |i, o| rolling_extreme(i[0], window, min_periods, want_max, o[0]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_brute_force_with_nans() {
        let x = [
            3.0,
            1.0,
            f64::NAN,
            4.0,
            1.0,
            5.0,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            2.0,
        ];
        for &want_max in &[true, false] {
            let mut out = [0.0; 10];
            rolling_extreme(&x, 3, 1, want_max, &mut out);
            for t in 0..x.len() {
                let w: Vec<f64> = x[t.saturating_sub(2)..=t]
                    .iter()
                    .copied()
                    .filter(|v| !v.is_nan())
                    .collect();
                let expect = if w.is_empty() {
                    f64::NAN
                } else if want_max {
                    w.iter().copied().fold(f64::MIN, f64::max)
                } else {
                    w.iter().copied().fold(f64::MAX, f64::min)
                };
                assert!(
                    out[t] == expect || (out[t].is_nan() && expect.is_nan()),
                    "t={t}"
                );
            }
        }
    }
}
