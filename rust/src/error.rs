//! The one error type of the crate. Every variant carries enough context (which argument, what
//! value, what was expected) for the binding layer to build a message that says how to fix it.

use std::fmt;

/// Everything that can go wrong in a kernel call.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A scalar parameter is out of range, e.g. `period=0`.
    InvalidParameter {
        name: &'static str,
        value: String,
        expected: String,
    },
    /// An input or output array has the wrong length or shape.
    ShapeMismatch {
        name: &'static str,
        expected: String,
        got: String,
    },
    /// An input holds `+inf` or `-inf`; NaN means "no bar" and is allowed, infinity never is.
    NonFinite {
        name: &'static str,
        asset: usize,
        bar: usize,
        value: f64,
    },
    /// An input has no bars at all where the operation needs at least one.
    Empty { name: &'static str },
    /// The worker pool could not be built (e.g. the OS refused to spawn threads).
    ThreadPool { reason: String },
    /// Checkpoint bytes that cannot be restored (truncated, corrupt, foreign or of another version).
    Checkpoint { reason: String },
    /// A bug: a panic caught at the boundary. It is reported, never propagated as an abort.
    Internal { reason: String },
}

/// Result alias used by every fallible function of the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Stable identifier of the variant; the binding layer maps it to a Python exception class.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidParameter { .. } => "InvalidParameterError",
            Error::ShapeMismatch { .. } => "ShapeError",
            Error::NonFinite { .. } => "NonFiniteError",
            Error::Empty { .. } => "EmptyInputError",
            Error::ThreadPool { .. } => "ThreadPoolError",
            Error::Checkpoint { .. } => "CheckpointError",
            Error::Internal { .. } => "InternalError",
        }
    }

    /// Convenience constructor for [`Error::InvalidParameter`].
    pub fn param(
        name: &'static str,
        value: impl fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        Error::InvalidParameter {
            name,
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// Convenience constructor for [`Error::ShapeMismatch`].
    pub fn shape(name: &'static str, expected: impl Into<String>, got: impl Into<String>) -> Self {
        Error::ShapeMismatch {
            name,
            expected: expected.into(),
            got: got.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidParameter {
                name,
                value,
                expected,
            } => write!(f, "invalid {name}={value}: expected {expected}"),
            Error::ShapeMismatch {
                name,
                expected,
                got,
            } => write!(
                f,
                "{name} has shape {got} but {expected} was expected; pass arrays of one shape, \
                 (n_assets, n_bars) with time along the last axis"
            ),
            Error::NonFinite {
                name,
                asset,
                bar,
                value,
            } => write!(
                f,
                "{name} holds {value} at asset {asset}, bar {bar}; infinities are rejected, use NaN \
                 for a missing bar (e.g. np.where(np.isinf(x), np.nan, x))"
            ),
            Error::Empty { name } => {
                write!(f, "{name} is empty; pass at least one asset with at least one bar")
            }
            Error::ThreadPool { reason } => write!(
                f,
                "could not start the worker pool ({reason}); set FERROQUANT_MAX_THREADS to a smaller value"
            ),
            Error::Checkpoint { reason } => write!(
                f,
                "cannot restore the stream: {reason}; pass bytes returned by Stream.checkpoint() of \
                 this ferroquant version, unmodified"
            ),
            Error::Internal { reason } => write!(
                f,
                "internal error in ferroquant ({reason}); this is a bug, please report it with the input shape"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Checks `value >= min`, naming the parameter otherwise.
pub fn check_at_least(name: &'static str, value: usize, min: usize) -> Result<()> {
    if value < min {
        return Err(Error::param(name, value, format!("an integer >= {min}")));
    }
    Ok(())
}

/// Checks that a float parameter is finite.
pub fn check_finite_param(name: &'static str, value: f64) -> Result<()> {
    if !value.is_finite() {
        return Err(Error::param(name, value, "a finite number"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_argument_and_the_fix() {
        let e = Error::param("period", 0, "an integer >= 1");
        assert_eq!(e.kind(), "InvalidParameterError");
        assert!(e.to_string().contains("period=0"));
        let e = Error::NonFinite {
            name: "close",
            asset: 3,
            bar: 7,
            value: f64::INFINITY,
        };
        assert!(e.to_string().contains("asset 3, bar 7"));
        assert!(check_at_least("period", 0, 1).is_err());
        assert!(check_finite_param("k", f64::NAN).is_err());
    }
}
