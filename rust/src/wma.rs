//! Weighted moving average, weights 1..n with the newest bar weighted n. Computed directly as a dot
//! product per window: exact, NaN-aware (a NaN drops its weight) and fast enough for typical n.

use crate::error::Result;
use crate::panel::{for_each_asset, Input, Output};
use crate::rolling::check_window;

/// WMA of one series; defined once the window holds `min_periods` valid values.
pub fn wma(x: &[f64], period: usize, min_periods: usize, out: &mut [f64]) {
    let need = min_periods.max(1);
    for t in 0..x.len() {
        let start = (t + 1).saturating_sub(period);
        // The weight of position j is its rank in a full window: period - (t - j).
        let first_weight = period - (t - start);
        let (mut num, mut den, mut count) = (0.0, 0.0, 0usize);
        for (j, &v) in x[start..=t].iter().enumerate() {
            if !v.is_nan() {
                let w = (first_weight + j) as f64;
                num += w * v;
                den += w;
                count += 1;
            }
        }
        out[t] = if count >= need { num / den } else { f64::NAN };
    }
}

/// WMA over a `(n_assets, n_bars)` panel.
pub fn wma_panel(
    x: &[f64],
    n_assets: usize,
    n_bars: usize,
    period: usize,
    min_periods: usize,
    out: Output<'_>,
) -> Result<()> {
    check_window(period, min_periods)?;
    for_each_asset(
        n_assets,
        n_bars,
        &[Input { name: "x", data: x }],
        &mut [out],
        |i, o| wma(i[0], period, min_periods, o[0]),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn weights_newest_most() {
        let mut out = [0.0; 3];
        super::wma(&[1.0, 2.0, 4.0], 2, 2, &mut out);
        assert!(out[0].is_nan());
        assert_eq!(out[1], (1.0 + 4.0) / 3.0);
        assert_eq!(out[2], (2.0 + 8.0) / 3.0);
    }
}
