//! The two numerical conventions every indicator offers (see docs/conventions.md).

use crate::error::{Error, Result};

/// Which reference an indicator reproduces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Convention {
    /// The reference pandas code (Cutler RSI, `ddof=1`, `min_periods=1` SMA, `ewm(adjust=False)`).
    #[default]
    Pandas,
    /// TA-Lib 0.8.x (Wilder RSI, `ddof=0`, SMA-seeded EMAs, TA-Lib warm-up).
    Talib,
}

impl Convention {
    /// Parses `"pandas"` or `"talib"` (also `"stockcharts"`, an alias of pandas for ATR).
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "pandas" | "stockcharts" => Ok(Convention::Pandas),
            "talib" | "ta-lib" => Ok(Convention::Talib),
            other => Err(Error::param(
                "convention",
                format!("{other:?}"),
                "\"pandas\" or \"talib\"",
            )),
        }
    }
}

/// TA-Lib 0.8.1's scale-relative zero test (`TA_IS_ZERO_SCALED`), used by CCI and WILLR:
/// `|v| <= 1e-14 * scale`, where `scale` is the price level of the window.
#[inline(always)]
pub(crate) fn talib_is_zero_scaled(v: f64, scale: f64) -> bool {
    v.abs() <= 1e-14 * scale
}
