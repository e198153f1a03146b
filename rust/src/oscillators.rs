//! Commodity channel index, Williams %R and the Ultimate Oscillator.

use crate::convention::{talib_is_zero_scaled, Convention};
use crate::error::{check_at_least, Result};
use crate::minmax::Extreme;
use crate::panel::{for_each_asset, Output};
use crate::range::hlc_inputs;
use crate::window::{leaving, window_start, Window};

/// Typical price (h + l + c) / 3, NaN for a missing bar.
#[inline(always)]
fn typical(h: f64, l: f64, c: f64) -> f64 {
    (h + l + c) / 3.0
}

/// CCI of one series: `(tp - mean) / (0.015 * mean |tp - mean|)` over `period` bars. The mean
/// deviation needs the window's mean first, so each window is read twice (as TA-Lib does).
pub fn cci(
    h: &[f64],
    l: &[f64],
    c: &[f64],
    period: usize,
    convention: Convention,
    out: &mut [f64],
) {
    let tp: Vec<f64> = (0..c.len()).map(|t| typical(h[t], l[t], c[t])).collect();
    for t in 0..tp.len() {
        let win = &tp[window_start(t, period)..=t];
        let (mut sum, mut n) = (0.0, 0usize);
        for &v in win.iter().filter(|v| !v.is_nan()) {
            sum += v;
            n += 1;
        }
        if n < period || tp[t].is_nan() {
            out[t] = f64::NAN;
            continue;
        }
        let mean = sum / n as f64;
        let dev: f64 = win
            .iter()
            .filter(|v| !v.is_nan())
            .map(|v| (v - mean).abs())
            .sum();
        let num = tp[t] - mean;
        let meandev = dev / n as f64;
        let zero = |v: f64| talib_is_zero_scaled(v, mean.abs());
        out[t] = if convention == Convention::Talib && (zero(num) || zero(meandev)) {
            0.0
        } else {
            num / (0.015 * meandev)
        };
    }
}

/// Williams %R of one series over `period` bars.
pub fn willr(
    h: &[f64],
    l: &[f64],
    c: &[f64],
    period: usize,
    convention: Convention,
    out: &mut [f64],
) {
    let mut highest = Extreme::new(period, true);
    let mut lowest = Extreme::new(period, false);
    let mut count = 0usize;
    for t in 0..c.len() {
        let missing = |i: usize| h[i].is_nan() || l[i].is_nan() || c[i].is_nan();
        count += usize::from(!missing(t));
        if t >= period {
            count -= usize::from(!missing(t - period));
        }
        let (hv, lv) = if missing(t) {
            (f64::NAN, f64::NAN)
        } else {
            (h[t], l[t])
        };
        let hh = highest.push(t, hv);
        let ll = lowest.push(t, lv);
        if count < period || c[t].is_nan() {
            out[t] = f64::NAN;
            continue;
        }
        let span = hh - ll;
        out[t] = match convention {
            Convention::Pandas => -100.0 * (hh - c[t]) / span,
            Convention::Talib if talib_is_zero_scaled(span, hh.abs() + ll.abs()) => 0.0,
            Convention::Talib => (((hh - c[t]) / span) * -100.0).clamp(-100.0, 0.0),
        };
    }
}

/// Buying pressure and true range of the Ultimate Oscillator at bar `t` (NaN when missing).
#[inline(always)]
fn ultosc_terms(h: &[f64], l: &[f64], c: &[f64], t: usize) -> (f64, f64) {
    if t == 0 || h[t].is_nan() || l[t].is_nan() || c[t].is_nan() || c[t - 1].is_nan() {
        return (f64::NAN, f64::NAN);
    }
    let prev = c[t - 1];
    let true_low = l[t].min(prev);
    let tr = crate::range::true_range_at(h, l, c, t, Convention::Talib);
    (c[t] - true_low, tr)
}

/// Ultimate Oscillator of one series. `periods` are sorted ascending so that the weights 4, 2, 1
/// go to the short, medium and long averages, as TA-Lib does.
pub fn ultosc(
    h: &[f64],
    l: &[f64],
    c: &[f64],
    periods: [usize; 3],
    convention: Convention,
    out: &mut [f64],
) {
    let mut p = periods;
    p.sort_unstable();
    let (bps, trs): (Vec<f64>, Vec<f64>) = (0..c.len()).map(|t| ultosc_terms(h, l, c, t)).unzip();
    let mut bp = [
        Window::<false>::new(),
        Window::<false>::new(),
        Window::<false>::new(),
    ];
    let mut tr = [
        Window::<false>::new(),
        Window::<false>::new(),
        Window::<false>::new(),
    ];
    for t in 0..c.len() {
        let mut total = 0.0;
        let mut valid = true;
        for (k, &weight) in [4.0, 2.0, 1.0].iter().enumerate() {
            let s = window_start(t, p[k]);
            bp[k].slide(bps[t], leaving(&bps, t, p[k]), || {
                bps[s..=t].iter().copied()
            });
            tr[k].slide(trs[t], leaving(&trs, t, p[k]), || {
                trs[s..=t].iter().copied()
            });
            if bp[k].count() < p[k] || c[t].is_nan() {
                valid = false;
                continue;
            }
            let (a, b) = (bp[k].sum(), tr[k].sum());
            // An all-zero window of true ranges is 0/0: NaN for pandas, a skipped term for TA-Lib.
            if convention == Convention::Pandas || b != 0.0 {
                total += weight * (a / b);
            }
        }
        out[t] = if valid {
            100.0 * (total / 7.0)
        } else {
            f64::NAN
        };
    }
}

/// CCI, WILLR or ULTOSC over `(n_assets, n_bars)` panels of high, low and close.
pub enum HlcOscillator {
    Cci(usize),
    Willr(usize),
    Ultosc([usize; 3]),
}

/// Runs one of the high/low/close oscillators over panels.
#[allow(clippy::too_many_arguments)]
pub fn oscillator_panel(
    which: HlcOscillator,
    h: &[f64],
    l: &[f64],
    c: &[f64],
    n_assets: usize,
    n_bars: usize,
    convention: Convention,
    out: Output<'_>,
) -> Result<()> {
    match &which {
        HlcOscillator::Cci(p) | HlcOscillator::Willr(p) => check_at_least("period", *p, 1)?,
        HlcOscillator::Ultosc(ps) => {
            for (name, p) in ["period1", "period2", "period3"].into_iter().zip(ps) {
                check_at_least(name, *p, 1)?;
            }
        }
    }
    for_each_asset(
        n_assets,
        n_bars,
        &hlc_inputs(h, l, c),
        &mut [out],
        |i, o| match &which {
            HlcOscillator::Cci(p) => cci(i[0], i[1], i[2], *p, convention, o[0]),
            HlcOscillator::Willr(p) => willr(i[0], i[1], i[2], *p, convention, o[0]),
            HlcOscillator::Ultosc(ps) => ultosc(i[0], i[1], i[2], *ps, convention, o[0]),
        },
    )
}
