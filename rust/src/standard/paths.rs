//! What the driver runs a path through: [`LanePath`] (the warm-up or fast path over a range of
//! bars, for one series or four) and [`Steps`] (one bar of either), so that the scalar and the AVX
//! path share one driver and one step implementation.

use super::state::{Fast, Series};
use super::step::{fast_step, finish, warm_mask, warm_step, Raw};
use super::{LONG, OUTPUTS};
use crate::window::Lane;

/// A way to run the lane paths on `LANES` series (`out[i * OUTPUTS + k]` is output `k` of series
/// `i`): [`warm_step`] over bars `t0..t1` (`t1 <= LONG`) of series without NaN in `0..t1`, and
/// [`fast_step`] over bars `t0..t1` of series whose windows are full and whose
/// `rows[i][t0 - LONG..t1]` holds no NaN.
pub(super) trait LanePath {
    const LANES: usize;
    fn warm_run(
        &mut self,
        series: &mut [Series],
        rows: &[&[f64]],
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
    );
    fn fast_run(
        &mut self,
        series: &mut [Series],
        rows: &[&[f64]],
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
    );
}

/// Asserts what every [`LanePath`] relies on for its unchecked accesses.
#[inline(always)]
pub(super) fn check_run(
    lanes: usize,
    series: &[Series],
    rows: &[&[f64]],
    out: &[&mut [f64]],
    t0: usize,
    t1: usize,
) {
    assert!(t1 >= t0);
    assert!(rows.len() == lanes && out.len() == lanes * OUTPUTS && series.len() >= lanes);
    assert!(rows.iter().all(|r| r.len() >= t1) && out.iter().all(|r| r.len() >= t1));
}

/// One bar of a lane path: the [`Raw`] values of bar `t`.
pub(super) trait Steps<L: Lane>: Copy {
    /// True for [`warm_step`] (outputs `warm_mask(t, finish(raw))`), false for [`fast_step`]
    /// (outputs `finish(raw)`, whose middle band is SMA 20).
    const WARM: bool;
    /// Asserts that the bars `t0..t1` may be passed to [`raw`](Self::raw) (a no-op where `raw`
    /// checks its own accesses).
    #[inline(always)]
    fn check(&self, _t0: usize, _t1: usize) {}
    /// # Safety
    /// `t` lies in a range `t0..t1` that [`check`](Self::check) accepted.
    unsafe fn raw(&mut self, t: usize) -> Raw<L>;
}

/// [`fast_step`] over the closes `bars` (`bars[b - base]` is bar `b`). The state is held by value
/// so that the compiler can keep it in registers.
#[derive(Clone, Copy)]
pub(super) struct FastSteps<'a, L: Lane> {
    pub(super) f: Fast<L>,
    pub(super) bars: &'a [L],
    pub(super) base: usize,
    pub(super) rows: &'a [&'a [f64]],
}

impl<L: Lane> Steps<L> for FastSteps<'_, L> {
    const WARM: bool = false;
    #[inline(always)]
    unsafe fn raw(&mut self, t: usize) -> Raw<L> {
        fast_step(
            &mut self.f,
            &self.bars[t - LONG - self.base..=t - self.base],
            self.rows,
            t,
        )
    }
}

/// [`warm_step`] over the closes `bars` (`bars[b]` is bar `b`).
#[derive(Clone, Copy)]
pub(super) struct WarmSteps<'a, L: Lane> {
    pub(super) f: Fast<L>,
    pub(super) bars: &'a [L],
    pub(super) rows: &'a [&'a [f64]],
}

impl<L: Lane> Steps<L> for WarmSteps<'_, L> {
    const WARM: bool = true;
    #[inline(always)]
    unsafe fn raw(&mut self, t: usize) -> Raw<L> {
        warm_step(&mut self.f, &self.bars[..=t], self.rows, t)
    }
}

/// The outputs of bar `t` from its [`Raw`] values.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the AVX2 paths only
pub(super) fn outputs<L: Lane, S: Steps<L>>(t: usize, raw: Raw<L>) -> [L; OUTPUTS] {
    if S::WARM {
        warm_mask(t, finish(raw))
    } else {
        finish(raw)
    }
}
