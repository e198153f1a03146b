//! True range, ATR and NATR. The true range uses TA-Lib's formula (the largest of h-l, |c'-h| and
//! |c'-l|, c' the previous close) so that both conventions match TA-Lib to the last bit where they
//! agree; they differ only in the first bar and in how ATR is seeded.

use crate::convention::Convention;
use crate::error::{check_at_least, Result};
use crate::panel::{for_each_asset, Input, Output};

/// True range at bar `t`. A bar with any of h/l/c missing is missing. When the previous close is
/// missing (or t = 0) the pandas convention falls back to `h - l`, TA-Lib gives NaN.
#[inline(always)]
pub fn true_range_at(h: &[f64], l: &[f64], c: &[f64], t: usize, convention: Convention) -> f64 {
    if h[t].is_nan() || l[t].is_nan() || c[t].is_nan() {
        return f64::NAN;
    }
    let range = h[t] - l[t];
    let prev = if t == 0 { f64::NAN } else { c[t - 1] };
    if prev.is_nan() {
        return match convention {
            Convention::Pandas => range,
            Convention::Talib => f64::NAN,
        };
    }
    let mut tr = range;
    let up = (prev - h[t]).abs();
    if up > tr {
        tr = up;
    }
    let down = (prev - l[t]).abs();
    if down > tr {
        tr = down;
    }
    tr
}

/// True range of one series.
pub fn true_range(h: &[f64], l: &[f64], c: &[f64], convention: Convention, out: &mut [f64]) {
    for (t, o) in out.iter_mut().enumerate() {
        *o = true_range_at(h, l, c, t, convention);
    }
}

/// Wilder-smoothed average of true ranges, seeded with the mean of the first `period` of them.
#[derive(Clone, Debug)]
pub struct Atr {
    period: usize,
    pub(crate) seen: usize,
    pub(crate) value: f64,
}

impl Atr {
    /// An ATR over `period` true ranges.
    pub fn new(period: usize) -> Self {
        Atr {
            period,
            seen: 0,
            value: 0.0,
        }
    }

    /// Feeds one true range; returns the ATR after it (NaN for a missing bar or during warm-up).
    #[inline(always)]
    pub fn update(&mut self, tr: f64) -> f64 {
        if tr.is_nan() {
            return f64::NAN;
        }
        self.seen += 1;
        let n = self.period as f64;
        if self.seen < self.period {
            self.value += tr;
            return f64::NAN;
        }
        if self.seen == self.period {
            self.value = (self.value + tr) / n;
        } else {
            self.value = (self.value * (n - 1.0) + tr) / n;
        }
        self.value
    }
}

/// ATR of one series (`normalised`: NATR, in percent of the close).
pub fn atr(
    h: &[f64],
    l: &[f64],
    c: &[f64],
    period: usize,
    convention: Convention,
    normalised: bool,
    out: &mut [f64],
) {
    // TA-Lib 0.8.1 answers NATR with period 1 by its TRANGE, not normalised; the talib
    // convention reproduces that quirk (docs/conventions.md).
    let normalise = normalised && !(convention == Convention::Talib && period == 1);
    let mut a = Atr::new(period);
    for t in 0..c.len() {
        let v = a.update(true_range_at(h, l, c, t, convention));
        out[t] = if normalise {
            natr_value(v, c[t], convention)
        } else {
            v
        };
    }
}

/// `(atr / close) * 100`, TA-Lib's order of operations; TA-Lib gives 0 for a zero close.
#[inline(always)]
pub fn natr_value(atr: f64, close: f64, convention: Convention) -> f64 {
    if atr.is_nan() {
        return f64::NAN;
    }
    if convention == Convention::Talib && close == 0.0 {
        return 0.0;
    }
    (atr / close) * 100.0
}

pub(crate) fn hlc_inputs<'a>(h: &'a [f64], l: &'a [f64], c: &'a [f64]) -> [Input<'a>; 3] {
    [
        Input {
            name: "high",
            data: h,
        },
        Input {
            name: "low",
            data: l,
        },
        Input {
            name: "close",
            data: c,
        },
    ]
}

/// True range over `(n_assets, n_bars)` panels of high, low and close.
pub fn true_range_panel(
    h: &[f64],
    l: &[f64],
    c: &[f64],
    n_assets: usize,
    n_bars: usize,
    convention: Convention,
    out: Output<'_>,
) -> Result<()> {
    for_each_asset(
        n_assets,
        n_bars,
        &hlc_inputs(h, l, c),
        &mut [out],
        |i, o| true_range(i[0], i[1], i[2], convention, o[0]),
    )
}

/// ATR (or NATR when `normalised`) over `(n_assets, n_bars)` panels.
#[allow(clippy::too_many_arguments)]
pub fn atr_panel(
    h: &[f64],
    l: &[f64],
    c: &[f64],
    n_assets: usize,
    n_bars: usize,
    period: usize,
    convention: Convention,
    normalised: bool,
    out: Output<'_>,
) -> Result<()> {
    check_at_least("period", period, 1)?;
    for_each_asset(
        n_assets,
        n_bars,
        &hlc_inputs(h, l, c),
        &mut [out],
        |i, o| atr(i[0], i[1], i[2], period, convention, normalised, o[0]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventions_differ_only_in_seeding() {
        let h = [10.0, 11.0, 12.0, 11.5];
        let l = [9.0, 10.0, 10.5, 10.0];
        let c = [9.5, 10.5, 11.0, 10.2];
        let mut pandas = [0.0; 4];
        let mut talib = [0.0; 4];
        atr(&h, &l, &c, 2, Convention::Pandas, false, &mut pandas);
        atr(&h, &l, &c, 2, Convention::Talib, false, &mut talib);
        assert!(pandas[0].is_nan());
        assert_eq!(pandas[1], (1.0 + 1.5) / 2.0);
        assert!(talib[1].is_nan());
        assert_eq!(talib[2], (1.5 + 1.5) / 2.0);
    }
}
