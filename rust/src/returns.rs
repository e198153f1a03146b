//! Returns and the per-asset scans (cumulative return, running maximum, drawdown).

use crate::error::{check_at_least, Result};
use crate::panel::{for_each_asset, Input, Output};

/// Simple (`x[t]/x[t-k] - 1`) or log (`ln(x[t]/x[t-k])`) returns over `periods` bars.
pub fn returns(x: &[f64], periods: usize, log: bool, out: &mut [f64]) {
    for t in 0..x.len() {
        out[t] = if t < periods {
            f64::NAN
        } else {
            let ratio = x[t] / x[t - periods];
            if log {
                ratio.ln()
            } else {
                ratio - 1.0
            }
        };
    }
}

/// Returns over a `(n_assets, n_bars)` panel.
pub fn returns_panel(
    x: &[f64],
    n_assets: usize,
    n_bars: usize,
    periods: usize,
    log: bool,
    out: Output<'_>,
) -> Result<()> {
    check_at_least("periods", periods, 1)?;
    for_each_asset(
        n_assets,
        n_bars,
        &[Input { name: "x", data: x }],
        &mut [out],
        |i, o| returns(i[0], periods, log, o[0]),
    )
}

/// One pass per asset producing cumulative return against the first valid price, the running
/// maximum of valid prices and the drawdown from it; NaN bars give NaN and carry the state.
pub fn scan(x: &[f64], out: &mut [&mut [f64]]) {
    let mut first = f64::NAN;
    let mut peak = f64::NAN;
    for (t, &v) in x.iter().enumerate() {
        if v.is_nan() {
            out[0][t] = f64::NAN;
            out[1][t] = f64::NAN;
            out[2][t] = f64::NAN;
            continue;
        }
        if first.is_nan() {
            first = v;
            peak = v;
        } else if v > peak {
            peak = v;
        }
        out[0][t] = v / first - 1.0;
        out[1][t] = peak;
        out[2][t] = v / peak - 1.0;
    }
}

/// Scans over a `(n_assets, n_bars)` panel; `out` = [cumulative return, running max, drawdown].
pub fn scan_panel(x: &[f64], n_assets: usize, n_bars: usize, out: [Output<'_>; 3]) -> Result<()> {
    let mut out = out;
    for_each_asset(
        n_assets,
        n_bars,
        &[Input { name: "x", data: x }],
        &mut out,
        |i, o| scan(i[0], o),
    )
}
