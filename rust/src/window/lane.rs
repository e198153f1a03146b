//! The [`Lane`] abstraction: a float64 value per series, so that the slide arithmetic is written
//! once and runs on one series (`f64`, implemented here) or on four side by side (`F4`, in
//! `avx`) with the same IEEE operations in the same order.

use std::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Not, Sub};

/// A float64 value per lane: `f64` (one series) or [`F4`] (four series). Every operation is the
/// lane-wise IEEE operation, so one lane of an `F4` computation equals the `f64` computation.
///
/// [`F4`]: super::F4
pub(crate) trait Lane:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// Per-lane booleans.
    type Mask: Copy
        + BitAnd<Output = Self::Mask>
        + BitOr<Output = Self::Mask>
        + Not<Output = Self::Mask>;
    /// Number of lanes.
    const LANES: usize;
    fn splat(v: f64) -> Self;
    fn abs(self) -> Self;
    fn sqrt(self) -> Self;
    /// `if self > other { self } else { other }` (the x86 `maxsd` rule; no NaN reaches it here).
    fn max_(self, other: Self) -> Self;
    fn le(self, other: Self) -> Self::Mask;
    fn ge(self, other: Self) -> Self::Mask;
    fn eq_(self, other: Self) -> Self::Mask;
    /// `if m { a } else { b }` per lane.
    fn select(m: Self::Mask, a: Self, b: Self) -> Self;
    /// True when every lane of `m` is set.
    fn all(m: Self::Mask) -> bool;
    /// Lane `i` of a mask.
    fn mask_lane(m: Self::Mask, i: usize) -> bool;
    fn lane(self, i: usize) -> f64;
    fn set_lane(&mut self, i: usize, v: f64);
}

impl Lane for f64 {
    type Mask = bool;
    const LANES: usize = 1;
    #[inline(always)]
    fn splat(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn abs(self) -> Self {
        f64::abs(self)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline(always)]
    fn max_(self, other: Self) -> Self {
        if self > other {
            self
        } else {
            other
        }
    }
    #[inline(always)]
    fn le(self, other: Self) -> bool {
        self <= other
    }
    #[inline(always)]
    fn ge(self, other: Self) -> bool {
        self >= other
    }
    #[inline(always)]
    fn eq_(self, other: Self) -> bool {
        self == other
    }
    #[inline(always)]
    fn select(m: bool, a: Self, b: Self) -> Self {
        if m {
            a
        } else {
            b
        }
    }
    #[inline(always)]
    fn all(m: bool) -> bool {
        m
    }
    #[inline(always)]
    fn mask_lane(m: bool, _i: usize) -> bool {
        m
    }
    #[inline(always)]
    fn lane(self, _i: usize) -> f64 {
        self
    }
    #[inline(always)]
    fn set_lane(&mut self, _i: usize, v: f64) {
        *self = v;
    }
}
