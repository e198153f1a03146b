//! Rolling sum, mean, variance and standard deviation over windows of positions (pandas rules:
//! NaN skipped and not counted, output defined once `min_periods` valid values are in the window).

use crate::error::{check_at_least, Result};
use crate::panel::{for_each_asset, Input, Output};
use crate::window::Window;

/// Which statistic a rolling kernel writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    Sum,
    Mean,
    Var,
    Std,
}

/// Rolling statistic of one series into `out` (same length as `x`).
pub fn rolling_stat(
    x: &[f64],
    window: usize,
    min_periods: usize,
    ddof: usize,
    stat: Stat,
    out: &mut [f64],
) {
    match stat {
        Stat::Sum | Stat::Mean => rolling_first::<false>(x, window, min_periods, stat, out),
        Stat::Var | Stat::Std => {
            rolling_second(x, window, min_periods, ddof, stat == Stat::Std, out)
        }
    }
}

fn rolling_first<const SQ: bool>(
    x: &[f64],
    window: usize,
    min_periods: usize,
    stat: Stat,
    out: &mut [f64],
) {
    let mut w = Window::<SQ>::new();
    for (t, o) in out.iter_mut().enumerate().take(x.len()) {
        w.slide_at(x, t, window);
        *o = if stat == Stat::Sum {
            sum_value(&w, min_periods)
        } else {
            mean_value(&w, min_periods)
        };
    }
}

/// The rolling mean of a window state once it holds `min_periods` valid values (else NaN).
#[inline(always)]
pub fn mean_value<const SQ: bool>(w: &Window<SQ>, min_periods: usize) -> f64 {
    if w.count() >= min_periods && w.count() > 0 {
        w.mean()
    } else {
        f64::NAN
    }
}

/// The rolling sum of a window state once it holds `min_periods` valid values (else NaN).
#[inline(always)]
fn sum_value<const SQ: bool>(w: &Window<SQ>, min_periods: usize) -> f64 {
    if w.count() >= min_periods && w.count() > 0 {
        w.sum()
    } else {
        f64::NAN
    }
}

fn rolling_second(
    x: &[f64],
    window: usize,
    min_periods: usize,
    ddof: usize,
    std: bool,
    out: &mut [f64],
) {
    let mut w = Window::<true>::new();
    let need = min_periods.max(ddof + 1);
    for (t, o) in out.iter_mut().enumerate().take(x.len()) {
        w.slide_at(x, t, window);
        *o = if w.count() >= need {
            let var = w.m2() / (w.count() - ddof) as f64;
            if std {
                var.sqrt()
            } else {
                var
            }
        } else {
            f64::NAN
        };
    }
}

/// Validates the window arguments shared by the rolling kernels; `min_periods` may be 0 like pandas.
pub fn check_window(window: usize, min_periods: usize) -> Result<()> {
    check_at_least("window", window, 1)?;
    if min_periods > window {
        return Err(crate::error::Error::param(
            "min_periods",
            min_periods,
            format!("an integer between 0 and window={window}"),
        ));
    }
    Ok(())
}

/// Rolling statistic over a `(n_assets, n_bars)` panel.
#[allow(clippy::too_many_arguments)]
pub fn rolling_stat_panel(
    x: &[f64],
    n_assets: usize,
    n_bars: usize,
    window: usize,
    min_periods: usize,
    ddof: usize,
    stat: Stat,
    out: Output<'_>,
) -> Result<()> {
    check_window(window, min_periods)?;
    for_each_asset(
        n_assets,
        n_bars,
        &[Input { name: "x", data: x }],
        &mut [out],
        |i, o| rolling_stat(i[0], window, min_periods, ddof, stat, o[0]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pandas_rules_for_nan_and_min_periods() {
        let x = [1.0, f64::NAN, 3.0, 5.0];
        let mut out = [0.0; 4];
        rolling_stat(&x, 2, 1, 1, Stat::Mean, &mut out);
        assert_eq!(out, [1.0, 1.0, 3.0, 4.0]);
        rolling_stat(&x, 2, 2, 1, Stat::Sum, &mut out);
        assert!(out[..3].iter().all(|v| v.is_nan()));
        assert_eq!(out[3], 8.0);
        rolling_stat(&x, 3, 2, 1, Stat::Var, &mut out);
        assert!(out[0].is_nan() && out[1].is_nan());
        assert_eq!(out[2], 2.0);
        assert_eq!(out[3], 2.0);
        assert!(check_window(2, 3).is_err());
    }
}
