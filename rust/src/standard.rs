//! The standard set in one pass: SMA 20, SMA 50 (min_periods = 1), Cutler RSI 14 and Bollinger
//! 20/2 (ddof = 1) middle, upper, lower. Each close is read once per window it enters or leaves,
//! and each output is written once; SMA 20 and the Bollinger middle share one window state.

use crate::error::Result;
use crate::panel::{for_each_asset, Input, Output};
use crate::rsi::{change, Cutler};
use crate::window::{leaving, slice_window, window_start, Window};

const SHORT: usize = 20;
const LONG: usize = 50;
const RSI: usize = 14;
const K: f64 = 2.0;

/// Number of output series of the standard set.
pub const OUTPUTS: usize = 6;

/// The standard set of one series into `out` = [sma20, sma50, rsi14, bb_middle, bb_upper, bb_lower].
pub fn standard(x: &[f64], out: &mut [&mut [f64]]) {
    let [sma20, sma50, rsi, mid, up, lo] = out else {
        unreachable!("the panel driver passes exactly OUTPUTS rows")
    };
    let mut w20 = Window::<true>::new();
    let mut w50 = Window::<false>::new();
    let mut cutler = Cutler::default();
    for t in 0..x.len() {
        let v = x[t];
        let win20 = &x[window_start(t, SHORT)..=t];
        let win50 = &x[window_start(t, LONG)..=t];
        let s14 = window_start(t, RSI);
        w20.slide(v, leaving(x, t, SHORT), || slice_window(win20));
        w50.slide(v, leaving(x, t, LONG), || slice_window(win50));
        let d_out = if t >= RSI {
            change(x, t - RSI)
        } else {
            f64::NAN
        };
        cutler.slide(change(x, t), d_out, || (s14..=t).map(|j| change(x, j)));

        if w20.count() >= SHORT {
            let mean = w20.mean();
            let band = K * (w20.m2() / (SHORT - 1) as f64).sqrt();
            sma20[t] = mean;
            mid[t] = mean;
            up[t] = mean + band;
            lo[t] = mean - band;
        } else {
            sma20[t] = if w20.count() > 0 {
                w20.mean()
            } else {
                f64::NAN
            };
            mid[t] = f64::NAN;
            up[t] = f64::NAN;
            lo[t] = f64::NAN;
        }
        sma50[t] = if w50.count() > 0 {
            w50.mean()
        } else {
            f64::NAN
        };
        rsi[t] = if cutler.count() >= RSI {
            cutler.value()
        } else {
            f64::NAN
        };
    }
}

/// The standard set over a `(n_assets, n_bars)` panel.
pub fn standard_panel(
    x: &[f64],
    n_assets: usize,
    n_bars: usize,
    out: [Output<'_>; OUTPUTS],
) -> Result<()> {
    let mut out = out;
    for_each_asset(
        n_assets,
        n_bars,
        &[Input {
            name: "close",
            data: x,
        }],
        &mut out,
        |i, o| standard(i[0], o),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bbands::bollinger;
    use crate::convention::Convention;
    use crate::rolling::{rolling_stat, Stat};

    #[test]
    fn equals_the_separate_kernels_bit_for_bit() {
        let mut x: Vec<f64> = (0..400)
            .map(|i| 100.0 + ((i * 37) % 23) as f64 * 0.7 - (i as f64) * 0.01)
            .collect();
        x[0] = f64::NAN;
        x[150] = f64::NAN;
        for v in &mut x[300..320] {
            *v = 42.0;
        }
        let n = x.len();
        let mut rows = vec![vec![0.0; n]; OUTPUTS];
        {
            let mut refs: Vec<&mut [f64]> = rows.iter_mut().map(|r| r.as_mut_slice()).collect();
            standard(&x, &mut refs);
        }
        let mut a = vec![0.0; n];
        rolling_stat(&x, 20, 1, 1, Stat::Mean, &mut a);
        assert_eq!(format!("{:?}", a), format!("{:?}", rows[0]));
        rolling_stat(&x, 50, 1, 1, Stat::Mean, &mut a);
        assert_eq!(format!("{:?}", a), format!("{:?}", rows[1]));
        crate::rsi::rsi(&x, 14, 14, Convention::Pandas, &mut a);
        assert_eq!(format!("{:?}", a), format!("{:?}", rows[2]));
        let (mut m, mut u, mut l) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        bollinger(&x, 20, 2.0, 1, 20, &mut [&mut m, &mut u, &mut l]);
        assert_eq!(format!("{:?}", m), format!("{:?}", rows[3]));
        assert_eq!(format!("{:?}", u), format!("{:?}", rows[4]));
        assert_eq!(format!("{:?}", l), format!("{:?}", rows[5]));
    }
}
