//! The standard set in one pass: SMA 20, SMA 50 (min_periods = 1), Cutler RSI 14 and Bollinger
//! 20/2 (ddof = 1) middle, upper, lower. Each close is read once per window it enters or leaves,
//! and each output is written once; SMA 20 and the Bollinger middle share one window state.
//!
//! Two paths compute the same state transitions:
//!
//! * the general path ([`Series::step`]) drives the public window states ([`Window`], [`Cutler`])
//!   bar by bar with all the NaN, warm-up and count bookkeeping;
//! * the fast path ([`fast_step`]) runs wherever every window is full and NaN-free (bars `t` with
//!   `x[t-50..=t]` valid). There the counts are constant, so it is the general path with the
//!   NaN branches removed: the same lane-generic update functions of [`crate::window`], the same
//!   recompute tests, the same output formulas. It runs on one series (`f64`) or on four series
//!   side by side ([`F4`]: one vector instruction per operation, each lane the same IEEE operation
//!   as the scalar code, no fused multiply-add).
//!
//! Which path computes a bar depends only on the input values up to that bar, and both give the
//! same bits, so results do not depend on the path, the lane, the block of assets or the thread
//! count, and a bar-by-bar stream of the window states reproduces them.
//!
//! This file holds the public API and the constants. The kernel itself is split by concept:
//! `state` (the per-series window states and their lane view), `step` (one bar of the fast and
//! warm-up paths), `recompute` (their rounding fallback), `paths` (what a path runs over a range
//! of bars), `scalar` (one series), `packed` (its steps where AVX is available: the four
//! first-moment windows in the lanes of one register), `avx` (four series per AVX register, with
//! streaming stores) and `driver` (which path computes which bars).
//!
//! [`Window`]: crate::window::Window
//! [`Cutler`]: crate::rsi::Cutler
//! [`fast_step`]: step::fast_step
//! [`F4`]: crate::window::F4

#[cfg(target_arch = "x86_64")]
mod avx;
mod driver;
#[cfg(target_arch = "x86_64")]
mod packed;
mod paths;
mod recompute;
mod scalar;
mod state;
mod step;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod warm_lanes;

use crate::error::Result;
use crate::panel::{for_each_block, Input, Output};
#[cfg(target_arch = "x86_64")]
use driver::run1_avx2;
use driver::{advance, run4, standard_finite};
#[cfg(target_arch = "x86_64")]
pub(crate) use recompute::Rows;
use scalar::{FinishEach, Scalar};
#[cfg(target_arch = "x86_64")]
pub(crate) use state::Fast;
pub(crate) use state::Series;
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_imports))]
// the stream's lanes: x86_64 only
pub(crate) use step::{fast_step_by, finish, recompute_in, Closes};

pub(crate) const SHORT: usize = 20;
pub(crate) const LONG: usize = 50;
pub(crate) const RSI: usize = 14;
const K: f64 = 2.0;

/// Number of output series of the standard set.
pub const OUTPUTS: usize = 6;

/// Series computed side by side by the vector fast path.
const LANES: usize = 4;

/// Outputs of at least this many bytes are written with non-temporal stores: they exceed the
/// caches, and these stores spare the memory traffic of reading every line before writing it.
const STREAM_MIN_BYTES: usize = 64 << 20;

/// Bars of output buffered before they are finished (or transposed, for lanes).
const CHUNK: usize = 64;

/// The standard set of one series into `out` = [sma20, sma50, rsi14, bb_middle, bb_upper, bb_lower].
pub fn standard(x: &[f64], out: &mut [&mut [f64]]) {
    assert!(
        out.len() == OUTPUTS,
        "the panel driver passes exactly OUTPUTS rows"
    );
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 (hence AVX, the invariant of `F4`) is available, as just checked.
            return unsafe { run1_avx2(x, out) };
        }
    }
    advance(
        &mut Scalar::<FinishEach>::new(),
        &mut Series::default(),
        x,
        out,
        0,
        x.len(),
    )
}

/// The standard set over a `(n_assets, n_bars)` panel.
pub fn standard_panel(
    x: &[f64],
    n_assets: usize,
    n_bars: usize,
    out: [Output<'_>; OUTPUTS],
) -> Result<()> {
    let mut out = out;
    if n_assets == 1 && x.len() == n_bars {
        // One stock per call: no blocks, no row vectors, one scan for NaN and infinities (the
        // general path below handles and reports them).
        if let [Output::F64(a), Output::F64(b), Output::F64(c), Output::F64(d), Output::F64(e), Output::F64(f)] =
            &mut out
        {
            let mut rows: [&mut [f64]; OUTPUTS] = [a, b, c, d, e, f].map(|r| &mut **r);
            if rows.iter().all(|r| r.len() == n_bars) && standard_finite(x, &mut rows) {
                return Ok(());
            }
        }
    }
    // float32 outputs go through small float64 scratch rows, converted at once: keep those cached.
    let stream = n_assets.saturating_mul(n_bars).saturating_mul(OUTPUTS * 8) >= STREAM_MIN_BYTES
        && out.iter().all(|o| matches!(o, Output::F64(_)));
    for_each_block(
        n_assets,
        n_bars,
        &[Input {
            name: "close",
            data: x,
        }],
        &mut out,
        LANES,
        |rows, o| {
            if rows.len() == LANES {
                run4(rows, o, stream)
            } else {
                for (i, x) in rows.iter().enumerate() {
                    standard(x, &mut o[i * OUTPUTS..(i + 1) * OUTPUTS]);
                }
            }
        },
    )
}
