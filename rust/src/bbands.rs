//! Bollinger bands and STDDEV: a rolling mean and standard deviation from one window state.

use crate::error::{check_at_least, check_finite_param, Result};
use crate::panel::{for_each_asset, Input, Output};
use crate::rolling::check_window;
use crate::window::{band, Window};

/// Bands of one series into (middle, upper, lower): middle ± k·std(ddof).
#[allow(clippy::needless_range_loop)] // bar `t` of three output rows
pub fn bollinger(
    x: &[f64],
    period: usize,
    k: f64,
    ddof: usize,
    min_periods: usize,
    out: &mut [&mut [f64]],
) {
    let mut w = Window::<true>::new();
    let need = bands_need(ddof, min_periods);
    for t in 0..x.len() {
        w.slide_at(x, t, period);
        let [mid, up, lo] = bands_value(&w, need, k, ddof);
        out[0][t] = mid;
        out[1][t] = up;
        out[2][t] = lo;
    }
}

/// Valid values a window needs before it has bands.
#[inline(always)]
pub fn bands_need(ddof: usize, min_periods: usize) -> usize {
    min_periods.max(ddof + 1).max(1)
}

/// (middle, upper, lower) of a window state holding at least `need` valid values (else NaN).
#[inline(always)]
pub fn bands_value(w: &Window<true>, need: usize, k: f64, ddof: usize) -> [f64; 3] {
    if w.count() >= need {
        let mean = w.mean();
        // The same operations as the fused standard kernel: M2 times 1/(count - ddof).
        let half = band(w.m2(), 1.0 / (w.count() - ddof) as f64, k);
        [mean, mean + half, mean - half]
    } else {
        [f64::NAN; 3]
    }
}

fn check_ddof(ddof: usize, period: usize) -> Result<()> {
    if ddof >= period.max(1) && period > 1 {
        return Err(crate::error::Error::param(
            "ddof",
            ddof,
            format!("an integer below period={period} (0 for TA-Lib, 1 for pandas)"),
        ));
    }
    Ok(())
}

/// Bollinger bands over a `(n_assets, n_bars)` panel; `out` = [middle, upper, lower].
#[allow(clippy::too_many_arguments)]
pub fn bollinger_panel(
    x: &[f64],
    n_assets: usize,
    n_bars: usize,
    period: usize,
    k: f64,
    ddof: usize,
    min_periods: usize,
    out: [Output<'_>; 3],
) -> Result<()> {
    check_at_least("period", period, 1)?;
    check_window(period, min_periods)?;
    check_finite_param("k", k)?;
    check_ddof(ddof, period)?;
    let mut out = out;
    for_each_asset(
        n_assets,
        n_bars,
        &[Input {
            name: "close",
            data: x,
        }],
        &mut out,
        |i, o| bollinger(i[0], period, k, ddof, min_periods, o),
    )
}

/// STDDEV (TA-Lib's name): `nbdev` times the rolling standard deviation.
pub fn stddev(x: &[f64], period: usize, nbdev: f64, ddof: usize, out: &mut [f64]) {
    crate::rolling::rolling_stat(x, period, period, ddof, crate::rolling::Stat::Std, out);
    if nbdev != 1.0 {
        for v in out.iter_mut() {
            *v *= nbdev;
        }
    }
}

/// STDDEV over a `(n_assets, n_bars)` panel.
#[allow(clippy::too_many_arguments)]
pub fn stddev_panel(
    x: &[f64],
    n_assets: usize,
    n_bars: usize,
    period: usize,
    nbdev: f64,
    ddof: usize,
    out: Output<'_>,
) -> Result<()> {
    check_at_least("period", period, 1)?;
    check_finite_param("nbdev", nbdev)?;
    check_ddof(ddof, period)?;
    for_each_asset(
        n_assets,
        n_bars,
        &[Input { name: "x", data: x }],
        &mut [out],
        |i, o| stddev(i[0], period, nbdev, ddof, o[0]),
    )
}
