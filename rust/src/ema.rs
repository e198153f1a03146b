//! Exponential moving averages and MACD. One recurrence, `ema += (x - ema) * alpha` (TA-Lib's
//! form), serves both conventions; they differ only in how the average is seeded.

use crate::convention::Convention;
use crate::error::{check_at_least, Result};
use crate::panel::{for_each_asset, Input, Output};

/// EMA state. NaN inputs leave it untouched (the recursion skips missing bars).
#[derive(Clone, Debug)]
pub struct Ema {
    alpha: f64,
    period: usize,
    /// Valid values to ignore before seeding (TA-Lib's MACD aligns its fast EMA this way).
    skip: usize,
    /// `true`: seed with the SMA of the first `period` valid values (TA-Lib); else the first value.
    sma_seed: bool,
    pub(crate) seen: usize,
    pub(crate) seed_sum: f64,
    pub(crate) value: f64,
}

impl Ema {
    /// `ewm(span=period, adjust=False)`: seeded with the first valid value.
    pub fn pandas(period: usize) -> Self {
        Self::with_seed(period, false, 0)
    }

    /// TA-Lib: seeded with the SMA of the first `period` valid values after skipping `skip`.
    pub fn talib(period: usize, skip: usize) -> Self {
        Self::with_seed(period, true, skip)
    }

    /// An EMA of either convention.
    pub fn new(period: usize, convention: Convention) -> Self {
        match convention {
            Convention::Pandas => Self::pandas(period),
            Convention::Talib => Self::talib(period, 0),
        }
    }

    fn with_seed(period: usize, sma_seed: bool, skip: usize) -> Self {
        Ema {
            alpha: 2.0 / (period as f64 + 1.0),
            period,
            skip,
            sma_seed,
            seen: 0,
            seed_sum: 0.0,
            value: f64::NAN,
        }
    }

    /// Feeds one bar; returns the average after it (NaN for a NaN bar or during warm-up).
    #[inline(always)]
    pub fn update(&mut self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        self.seen += 1;
        if self.seen <= self.skip {
            return f64::NAN;
        }
        let k = self.seen - self.skip;
        if !self.sma_seed {
            self.value = if k == 1 {
                x
            } else {
                (x - self.value) * self.alpha + self.value
            };
            return self.value;
        }
        if k < self.period {
            self.seed_sum += x;
            f64::NAN
        } else if k == self.period {
            self.seed_sum += x;
            self.value = self.seed_sum / self.period as f64;
            self.value
        } else {
            self.value = (x - self.value) * self.alpha + self.value;
            self.value
        }
    }
}

/// EMA of one series.
pub fn ema(x: &[f64], period: usize, convention: Convention, out: &mut [f64]) {
    let mut e = Ema::new(period, convention);
    for (o, &v) in out.iter_mut().zip(x) {
        *o = e.update(v);
    }
}

/// MACD state: fast and slow EMAs of the price, and the signal EMA of their difference.
#[derive(Clone, Debug)]
pub struct Macd {
    pub(crate) fast: Ema,
    pub(crate) slow: Ema,
    pub(crate) signal: Ema,
}

impl Macd {
    /// MACD(fast, slow, signal). Like TA-Lib, the talib convention swaps fast and slow when
    /// `slow < fast`; the pandas convention computes `ema(fast) - ema(slow)` as given.
    pub fn new(fast: usize, slow: usize, signal: usize, convention: Convention) -> Self {
        let (fast, slow) = match convention {
            Convention::Talib if slow < fast => (slow, fast),
            _ => (fast, slow),
        };
        match convention {
            Convention::Pandas => Macd {
                fast: Ema::pandas(fast),
                slow: Ema::pandas(slow),
                signal: Ema::pandas(signal),
            },
            Convention::Talib => Macd {
                fast: Ema::talib(fast, slow - fast),
                slow: Ema::talib(slow, 0),
                signal: Ema::talib(signal, 0),
            },
        }
    }

    /// Feeds one bar; returns (macd, signal, hist). TA-Lib publishes all three from the first bar
    /// where the signal exists, so in that convention the MACD line is hidden until then.
    #[inline(always)]
    pub fn update(&mut self, x: f64, convention: Convention) -> (f64, f64, f64) {
        let f = self.fast.update(x);
        let s = self.slow.update(x);
        let line = f - s;
        let sig = self.signal.update(line);
        let shown = if convention == Convention::Talib && sig.is_nan() {
            f64::NAN
        } else {
            line
        };
        (shown, sig, shown - sig)
    }
}

/// MACD of one series into (macd, signal, hist).
pub fn macd(
    x: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
    convention: Convention,
    out: &mut [&mut [f64]],
) {
    let mut m = Macd::new(fast, slow, signal, convention);
    for (t, &v) in x.iter().enumerate() {
        let (a, b, c) = m.update(v, convention);
        out[0][t] = a;
        out[1][t] = b;
        out[2][t] = c;
    }
}

/// EMA over a `(n_assets, n_bars)` panel.
pub fn ema_panel(
    x: &[f64],
    n_assets: usize,
    n_bars: usize,
    period: usize,
    convention: Convention,
    out: Output<'_>,
) -> Result<()> {
    check_at_least("period", period, 1)?;
    for_each_asset(
        n_assets,
        n_bars,
        &[Input { name: "x", data: x }],
        &mut [out],
        |i, o| ema(i[0], period, convention, o[0]),
    )
}

/// MACD over a `(n_assets, n_bars)` panel; `out` = [macd, signal, hist].
#[allow(clippy::too_many_arguments)]
pub fn macd_panel(
    x: &[f64],
    n_assets: usize,
    n_bars: usize,
    fast: usize,
    slow: usize,
    signal: usize,
    convention: Convention,
    out: [Output<'_>; 3],
) -> Result<()> {
    check_at_least("fast", fast, 1)?;
    check_at_least("slow", slow, 1)?;
    check_at_least("signal", signal, 1)?;
    let mut out = out;
    for_each_asset(
        n_assets,
        n_bars,
        &[Input { name: "x", data: x }],
        &mut out,
        |i, o| macd(i[0], fast, slow, signal, convention, o),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn talib_seed_is_the_sma_and_nan_bars_are_skipped() {
        let x = [1.0, 2.0, f64::NAN, 3.0, 4.0];
        let mut out = [0.0; 5];
        ema(&x, 3, Convention::Talib, &mut out);
        assert!(out[0].is_nan() && out[1].is_nan() && out[2].is_nan());
        assert_eq!(out[3], 2.0);
        assert_eq!(out[4], 3.0);
        ema(&x, 3, Convention::Pandas, &mut out);
        assert_eq!(out[0], 1.0);
        assert_eq!(out[1], 1.5);
        assert!(out[2].is_nan());
        assert_eq!(out[3], 2.25);
    }
}
