//! Factor analytics over `(n_assets, n_dates)` panels: forward returns, per-date information
//! coefficients (Pearson and rank), quantile assignment and returns by quantile, quantile turnover
//! and factor rank autocorrelation, optionally by group (e.g. sector).
//!
//! Cross-sectional statistics are parallel over dates: one date is always reduced by one thread,
//! in a fixed order, so results are bit-identical for any thread count.

mod cross;
mod date;
mod forward;
mod sort;
mod stats;

pub use cross::{factor_analytics, Layout, Outputs};
pub use forward::forward_returns_panel;
pub use stats::{average_ranks, pearson, qcut_edges};
