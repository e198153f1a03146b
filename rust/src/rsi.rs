//! Relative strength index: Cutler (rolling means of gains and losses, the pandas default) and
//! Wilder (TA-Lib: averages seeded with the mean of the first n changes, then smoothed).

use crate::convention::Convention;
use crate::error::{check_at_least, Result};
use crate::panel::{for_each_asset, Input, Output};
use crate::window::{window_start, Lane, Window};

/// Cutler RSI state over windows of `period` changes. The gain and loss windows share their
/// positions, so one count serves both.
#[derive(Clone, Debug, Default)]
pub struct Cutler {
    pub(crate) gains: Window<false>,
    pub(crate) losses: Window<false>,
}

/// Positive part of a change (NaN stays NaN).
#[inline(always)]
pub fn gain(d: f64) -> f64 {
    if d > 0.0 || d.is_nan() {
        d
    } else {
        0.0
    }
}

/// Magnitude of the negative part of a change (NaN stays NaN).
#[inline(always)]
pub fn loss(d: f64) -> f64 {
    if d < 0.0 {
        -d
    } else if d.is_nan() {
        d
    } else {
        0.0
    }
}

/// Cutler RSI from the gains `g` and losses `l` of a window, as sums or as means (the count
/// cancels in `g/l`): pandas' `100 - 100 / (1 + g/l)`, kept in this form (rather than the one-division
/// `100 g/(g + l)`) so that it rounds like the reference near 0. IEEE semantics give l = 0 < g →
/// exactly 100, g = 0 < l → 0 and g = l = 0 → NaN.
#[inline(always)]
pub fn cutler_value(g: f64, l: f64) -> f64 {
    cutler_lanes(g, l)
}

/// [`cutler_value`] lane by lane (the fused kernel's fast path).
#[inline(always)]
pub(crate) fn cutler_lanes<L: Lane>(g: L, l: L) -> L {
    let hundred = L::splat(100.0);
    hundred - hundred / (L::splat(1.0) + g / l)
}

impl Cutler {
    /// Slides both windows: change `d_in` enters, `d_out` leaves (NaN when none); `changes`
    /// yields the window's changes after the slide, read only for an exact recompute.
    #[inline(always)]
    pub fn slide<I: Iterator<Item = f64>>(
        &mut self,
        d_in: f64,
        d_out: f64,
        changes: impl Fn() -> I,
    ) {
        self.gains
            .slide(gain(d_in), gain(d_out), || changes().map(gain));
        self.losses
            .slide(loss(d_in), loss(d_out), || changes().map(loss));
    }

    /// Slides the window of `period` changes ending at bar `t` of the prices `x` (batch passes the
    /// whole series, a stream its recent history: the same code either way).
    #[inline(always)]
    pub fn slide_at(&mut self, x: &[f64], t: usize, period: usize) {
        let d_out = if t >= period {
            change(x, t - period)
        } else {
            f64::NAN
        };
        let s = window_start(t, period);
        self.slide(change(x, t), d_out, || (s..=t).map(|j| change(x, j)));
    }

    /// RSI once the window holds `need` valid changes (else NaN).
    #[inline(always)]
    pub fn output(&self, need: usize) -> f64 {
        if self.count() >= need {
            self.value()
        } else {
            f64::NAN
        }
    }

    /// Valid changes in the window.
    #[inline(always)]
    pub fn count(&self) -> usize {
        self.gains.count()
    }

    /// RSI of the current window (call with `count() > 0`), from the window sums.
    #[inline(always)]
    pub fn value(&self) -> f64 {
        cutler_value(self.gains.sum(), self.losses.sum())
    }
}

/// Wilder RSI state (TA-Lib 0.8.1: 0 when both averages are exactly 0).
#[derive(Clone, Debug)]
pub struct Wilder {
    period: usize,
    pub(crate) seen: usize,
    pub(crate) avg_gain: f64,
    pub(crate) avg_loss: f64,
}

impl Wilder {
    /// A Wilder RSI over `period` changes.
    pub fn new(period: usize) -> Self {
        Wilder {
            period,
            seen: 0,
            avg_gain: 0.0,
            avg_loss: 0.0,
        }
    }

    /// Feeds one change; returns the RSI after it (NaN for a NaN change or during warm-up).
    #[inline(always)]
    pub fn update(&mut self, d: f64) -> f64 {
        if d.is_nan() {
            return f64::NAN;
        }
        self.seen += 1;
        let n = self.period as f64;
        if self.seen <= self.period {
            if d < 0.0 {
                self.avg_loss -= d;
            } else {
                self.avg_gain += d;
            }
            if self.seen < self.period {
                return f64::NAN;
            }
            self.avg_loss /= n;
            self.avg_gain /= n;
        } else {
            self.avg_loss *= n - 1.0;
            self.avg_gain *= n - 1.0;
            if d < 0.0 {
                self.avg_loss -= d;
            } else {
                self.avg_gain += d;
            }
            self.avg_loss /= n;
            self.avg_gain /= n;
        }
        let total = self.avg_gain + self.avg_loss;
        if total == 0.0 {
            0.0
        } else {
            100.0 * (self.avg_gain / total)
        }
    }
}

/// Change of `x` at bar `t` against the previous bar (NaN at t = 0).
#[inline(always)]
pub fn change(x: &[f64], t: usize) -> f64 {
    if t == 0 {
        f64::NAN
    } else {
        x[t] - x[t - 1]
    }
}

/// RSI of one series.
pub fn rsi(x: &[f64], period: usize, min_periods: usize, convention: Convention, out: &mut [f64]) {
    match convention {
        Convention::Talib => {
            let mut w = Wilder::new(period);
            for (t, o) in out.iter_mut().enumerate().take(x.len()) {
                *o = w.update(change(x, t));
            }
        }
        Convention::Pandas => {
            let mut c = Cutler::default();
            let need = min_periods.max(1);
            for (t, o) in out.iter_mut().enumerate().take(x.len()) {
                c.slide_at(x, t, period);
                *o = c.output(need);
            }
        }
    }
}

/// RSI over a `(n_assets, n_bars)` panel.
pub fn rsi_panel(
    x: &[f64],
    n_assets: usize,
    n_bars: usize,
    period: usize,
    min_periods: usize,
    convention: Convention,
    out: Output<'_>,
) -> Result<()> {
    check_at_least("period", period, 1)?;
    crate::rolling::check_window(period, min_periods)?;
    for_each_asset(
        n_assets,
        n_bars,
        &[Input {
            name: "close",
            data: x,
        }],
        &mut [out],
        |i, o| rsi(i[0], period, min_periods, convention, o[0]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_window_is_nan_and_all_gains_is_100() {
        let x = [1.0, 1.0, 1.0, 2.0, 3.0, 4.0];
        let mut out = [0.0; 6];
        rsi(&x, 2, 2, Convention::Pandas, &mut out);
        assert!(out[2].is_nan());
        assert_eq!(out[3], 100.0);
        assert_eq!(out[5], 100.0);
    }
}
