//! Forward returns `close[t + h] / close[t] - 1`, NaN where either price is missing or `t + h`
//! runs past the last date.

use crate::error::{check_at_least, Error, Result};
use crate::panel::first_infinite;
use rayon::prelude::*;

/// Writes the `horizon`-date forward return of every asset into `out` (`n_assets * n_dates`).
pub fn forward_returns_panel(
    close: &[f64],
    n_assets: usize,
    n_dates: usize,
    horizon: usize,
    out: &mut [f64],
) -> Result<()> {
    check_at_least("horizon", horizon, 1)?;
    let cells = n_assets * n_dates;
    if close.len() != cells || out.len() != cells {
        return Err(Error::shape(
            "close",
            format!("{cells} cells"),
            format!("{} in, {} out", close.len(), out.len()),
        ));
    }
    if cells == 0 {
        return Ok(());
    }
    // Infinities are looked for while the rows are read anyway, and located only if there is one.
    let infinite = out
        .par_chunks_mut(n_dates)
        .zip(close.par_chunks(n_dates))
        .with_min_len(4)
        .map(|(o, c)| forward_row(c, horizon, o))
        .reduce(|| false, |a, b| a | b);
    if !infinite {
        return Ok(());
    }
    let first = close
        .par_chunks(n_dates)
        .enumerate()
        .find_map_first(|(asset, row)| first_infinite(row).map(|bar| (asset, bar)));
    match first {
        Some((asset, bar)) => Err(Error::NonFinite {
            name: "close",
            asset,
            bar,
            value: close[asset * n_dates + bar],
        }),
        None => Ok(()),
    }
}

/// One row's forward returns; whether the row holds an infinite price.
fn forward_row(c: &[f64], h: usize, o: &mut [f64]) -> bool {
    let n = c.len();
    let m = n.saturating_sub(h);
    let mut infinite = false;
    for ((o, &now), &later) in o.iter_mut().zip(&c[..m]).zip(&c[h.min(n)..]) {
        *o = later / now - 1.0;
        infinite |= now.abs() == f64::INFINITY;
    }
    for (o, &now) in o[m..].iter_mut().zip(&c[m..]) {
        *o = f64::NAN;
        infinite |= now.abs() == f64::INFINITY;
    }
    infinite
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_returns_are_shifted_and_nan_at_the_end() {
        let close = [100.0, 110.0, f64::NAN, 121.0];
        let mut out = [0.0; 4];
        forward_returns_panel(&close, 1, 4, 1, &mut out).unwrap();
        assert!((out[0] - 0.1).abs() < 1e-15);
        assert!(out[1].is_nan() && out[2].is_nan() && out[3].is_nan());
        assert!(forward_returns_panel(&close, 1, 4, 0, &mut out).is_err());
        let bad = [1.0, f64::INFINITY];
        let mut o2 = [0.0; 2];
        assert!(forward_returns_panel(&bad, 1, 2, 1, &mut o2).is_err());
    }
}
