//! Multi-factor (Barra-style) risk model over `(n_assets, n_dates)` panels: descriptors from prices
//! and volumes ([`ewreg`]), per-date standardisation ([`standardize`]), constrained cross-sectional
//! WLS factor returns ([`wls`]), factor covariance ([`covariance`], [`eigen`]) and specific risk
//! ([`specific`]).
//!
//! Time-series work is parallel over assets, cross-sectional work parallel over blocks of dates
//! ([`columns`]); one series or one date is always reduced by one thread in a fixed order, so
//! results are bit-identical for any thread count.

// Dense small-matrix code indexes several arrays with one subscript, as the formulas do.
#![allow(clippy::needless_range_loop)]

pub mod columns;
pub mod covariance;
pub mod eigen;
mod ewlanes;
pub mod ewreg;
mod lanes;
pub mod linalg;
pub mod specific;
pub mod standardize;
pub mod wls;
pub mod wrows;
pub mod zrows;

pub use covariance::{factor_covariance, CovarianceParams};
pub use eigen::eigen_adjust;
pub use ewreg::{descriptors_panel, DescriptorParams, N_DESCRIPTORS};
pub use specific::{specific_risk, SpecificParams};
pub use standardize::{standardize_and_regress, standardize_exposures, StandardizeParams};
pub use wls::{factor_regression, RegressionInputs, RegressionOutputs};

/// Fails on the first `±inf` of `data` (rows of `t` values; row `r` is asset `r % n`) in row
/// order, scanning rows in parallel; the error is the same whatever the scheduling.
pub fn check_finite(name: &'static str, data: &[f64], n: usize, t: usize) -> crate::Result<()> {
    use rayon::prelude::*;
    if t == 0 {
        return Ok(());
    }
    let found = data
        .par_chunks(t)
        .enumerate()
        .find_map_first(|(r, x)| crate::panel::first_infinite(x).map(|b| (r, b)));
    match found {
        Some((row, bar)) => Err(crate::Error::NonFinite {
            name,
            asset: row % n.max(1),
            bar,
            value: data[row * t + bar],
        }),
        None => Ok(()),
    }
}

/// `0.5^(1/half_life)`: the per-step decay of an exponential weight with that half-life; a
/// non-positive or infinite half-life means equal weights (decay 1).
pub fn decay(half_life: f64) -> f64 {
    if half_life.is_finite() && half_life > 0.0 {
        0.5f64.powf(1.0 / half_life)
    } else {
        1.0
    }
}
