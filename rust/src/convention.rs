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

/// TA-Lib's notion of zero (`TA_IS_ZERO`): it treats |v| < 1e-8 as 0 in divisions.
#[inline(always)]
pub(crate) fn talib_is_zero(v: f64) -> bool {
    -0.000_000_01 < v && v < 0.000_000_01
}
