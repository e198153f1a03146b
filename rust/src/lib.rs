//! ferroquant's computational core: pyo3-free kernels over `(n_assets, n_bars)` panels.
//!
//! Every kernel works on one series (`&[f64]` in, `&mut [f64]` out); the `*_panel` functions
//! validate arguments and run the kernel over all assets in parallel (see [`panel`]). Python
//! bindings live in [`python`], compiled only with the `python` feature.

pub mod bbands;
pub mod convention;
pub mod crew;
pub mod ema;
pub mod error;
pub mod factors;
pub mod minmax;
pub mod oscillators;
pub mod panel;
pub mod pool;
pub mod portfolio;
pub mod range;
pub mod returns;
pub mod risk;
pub mod rolling;
pub mod rsi;
pub mod standard;
pub mod stream;
pub mod window;
pub mod wma;

#[cfg(feature = "python")]
mod python;

pub use convention::Convention;
pub use error::{Error, Result};
