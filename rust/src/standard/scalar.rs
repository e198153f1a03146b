//! The scalar path: one series, read and written in place. SMA 20 and 50 are written as they
//! come; the other outputs are buffered per chunk and finished by a [`Finisher`], four bars at a
//! time in AVX registers where the CPU has AVX2 (finishing is independent across bars, stepping
//! is not). The finisher also copies SMA 20 into the Bollinger middle: one vector store per four
//! bars instead of a store (and a row pointer held in a register) per bar.

#[cfg(target_arch = "x86_64")]
use super::packed::PackedSteps;
use super::paths::{check_run, FastSteps, LanePath, Steps, WarmSteps};
use super::state::{Fast, Series};
use super::step::finish;
#[cfg(target_arch = "x86_64")]
use super::OUTPUTS;
use super::{CHUNK, LONG, RSI, SHORT};
#[cfg(target_arch = "x86_64")]
use crate::window::F4;

/// One series, read and written in place. The [`Raw`] values of a chunk of bars are finished by
/// `F` (four bars at a time where AVX is available).
///
/// [`Raw`]: super::step::Raw
pub(super) struct Scalar<F: Finisher> {
    raw: [[f64; CHUNK]; 3],
    finisher: std::marker::PhantomData<F>,
}

/// Finishes the outputs of bars `c0..c1` of one series (the Bollinger middle included): SMA 20
/// and 50 are in `out` already, `raw` holds `M2`, the gains and the losses of bar `c0 + j` at `j`.
pub(super) trait Finisher: Sized {
    fn finish_chunk(out: &mut [&mut [f64]], raw: &[[f64; CHUNK]; 3], c0: usize, c1: usize);

    /// Runs [`Scalar::chunks`].
    #[inline(always)]
    fn chunks<S: Steps<f64>>(
        scalar: &mut Scalar<Self>,
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
        steps: &mut S,
    ) {
        scalar.chunks(out, t0, t1, steps)
    }

    /// Runs the warm-up over bars `t0..t1` of `bars` from the state `f`; returns the state after.
    #[inline(always)]
    fn warm_chunks(
        scalar: &mut Scalar<Self>,
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
        f: Fast<f64>,
        bars: &[f64],
        rows: &[&[f64]],
    ) -> Fast<f64> {
        let mut steps = WarmSteps { f, bars, rows };
        Self::chunks(scalar, out, t0, t1, &mut steps);
        steps.f
    }

    /// Runs the fast path over bars `t0..t1` of `bars` from the state `f`; returns the state after.
    #[inline(always)]
    fn fast_chunks(
        scalar: &mut Scalar<Self>,
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
        f: Fast<f64>,
        bars: &[f64],
        rows: &[&[f64]],
    ) -> Fast<f64> {
        let mut steps = FastSteps {
            f,
            bars,
            base: 0,
            rows,
        };
        Self::chunks(scalar, out, t0, t1, &mut steps);
        steps.f
    }
}

/// One bar at a time.
pub(super) struct FinishEach;

impl Finisher for FinishEach {
    #[inline(always)]
    fn finish_chunk(out: &mut [&mut [f64]], raw: &[[f64; CHUNK]; 3], c0: usize, c1: usize) {
        finish_each(out, raw, c0, c0, c1);
    }
}

/// Finishes bars `from..c1` of the chunk starting at bar `c0` one at a time.
#[inline(always)]
fn finish_each(out: &mut [&mut [f64]], raw: &[[f64; CHUNK]; 3], c0: usize, from: usize, c1: usize) {
    let [m2, g, l] = raw;
    let raw = m2.iter().zip(g).zip(l).skip(from - c0);
    for (t, ((&m2, &g), &l)) in (from..c1).zip(raw) {
        let v = finish([out[0][t], 0.0, m2, g, l]);
        for k in [2, 3, 4, 5] {
            out[k][t] = v[k];
        }
    }
}

/// Four bars at a time in AVX registers (the same operations, lane by lane).
#[cfg(target_arch = "x86_64")]
pub(super) struct FinishAvx;

/// [`Scalar::chunks`] for [`FinishAvx`] in a function of its own, compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
#[target_feature(enable = "avx2")]
unsafe fn chunks_avx2<S: Steps<f64>>(
    scalar: &mut Scalar<FinishAvx>,
    out: &mut [&mut [f64]],
    t0: usize,
    t1: usize,
    steps: &mut S,
) {
    scalar.chunks(out, t0, t1, steps)
}

/// Call only where AVX2 is available (it implies AVX, the invariant of [`F4`]).
#[cfg(target_arch = "x86_64")]
impl Finisher for FinishAvx {
    #[inline(always)]
    fn chunks<S: Steps<f64>>(
        scalar: &mut Scalar<Self>,
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
        steps: &mut S,
    ) {
        // SAFETY: this finisher is only used where AVX2 is available.
        unsafe { chunks_avx2(scalar, out, t0, t1, steps) }
    }

    /// Bar 0 (which anchors the windows) as scalar, the rest with the four first-moment windows
    /// in the lanes of one AVX register ([`PackedSteps`]).
    #[inline(always)]
    fn warm_chunks(
        scalar: &mut Scalar<Self>,
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
        f: Fast<f64>,
        bars: &[f64],
        rows: &[&[f64]],
    ) -> Fast<f64> {
        let mut f = f;
        if t0 == 0 && t1 > 0 {
            let mut steps = WarmSteps { f, bars, rows };
            Self::chunks(scalar, out, 0, 1, &mut steps);
            f = steps.f;
        }
        let t0 = t0.max(1);
        if t0 >= t1 {
            return f;
        }
        let mut steps = PackedSteps::<true>::new(&f, bars, rows);
        Self::chunks(scalar, out, t0, t1, &mut steps);
        steps.unpack()
    }

    /// The four first-moment windows in the lanes of one AVX register ([`PackedSteps`]).
    #[inline(always)]
    fn fast_chunks(
        scalar: &mut Scalar<Self>,
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
        f: Fast<f64>,
        bars: &[f64],
        rows: &[&[f64]],
    ) -> Fast<f64> {
        let mut steps = PackedSteps::<false>::new(&f, bars, rows);
        Self::chunks(scalar, out, t0, t1, &mut steps);
        steps.unpack()
    }

    #[inline(always)]
    fn finish_chunk(out: &mut [&mut [f64]], raw: &[[f64; CHUNK]; 3], c0: usize, c1: usize) {
        assert!(out.len() == OUTPUTS && out.iter().all(|r| r.len() >= c1) && c1 - c0 <= CHUNK);
        let mut t = c0;
        while t + 4 <= c1 {
            let j = t - c0;
            // SAFETY: `t + 4 <= c1` values in every output row and `j + 4 <= CHUNK` in `raw`
            // (asserted above).
            unsafe {
                let load = |r: &[f64; CHUNK]| F4::load(r.as_ptr().add(j));
                let sma20 = F4::load(out[0].as_ptr().add(t));
                let v = finish([sma20, sma20, load(&raw[0]), load(&raw[1]), load(&raw[2])]);
                for k in [2, 3, 4, 5] {
                    v[k].store(out[k].as_mut_ptr().add(t));
                }
            }
            t += 4;
        }
        finish_each(out, raw, c0, t, c1);
    }
}

impl<F: Finisher> Scalar<F> {
    pub(super) fn new() -> Self {
        Scalar {
            raw: [[0.0; CHUNK]; 3],
            finisher: std::marker::PhantomData,
        }
    }

    /// Runs `step` over bars `t0..t1`, chunk by chunk.
    #[inline(always)]
    fn chunks<S: Steps<f64>>(
        &mut self,
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
        state: &mut S,
    ) {
        let warm = S::WARM;
        let mut steps = *state;
        let mut c0 = t0;
        while c0 < t1 {
            let c1 = (c0 + CHUNK).min(t1);
            // The row pointers, taken once: stores through `out` itself could alias the slice
            // headers, so the compiler reloaded them for every bar.
            let [o0, o1] = [0, 1].map(|k| out[k].as_mut_ptr());
            steps.check(c0, c1);
            for t in c0..c1 {
                // SAFETY: `t` lies in `c0..c1`, which `check` accepted.
                let [sma20, sma50, m2, g, l] = unsafe { steps.raw(t) };
                let j = t - c0;
                // SAFETY: `out` has OUTPUTS rows of at least `t1 > t` values (`check_run`), and
                // `j < CHUNK`.
                unsafe {
                    *o0.add(t) = sma20;
                    *o1.add(t) = sma50;
                    *self.raw[0].get_unchecked_mut(j) = m2;
                    *self.raw[1].get_unchecked_mut(j) = g;
                    *self.raw[2].get_unchecked_mut(j) = l;
                }
            }
            F::finish_chunk(out, &self.raw, c0, c1);
            if warm {
                // No bands before bar SHORT - 1, no RSI before bar RSI (see `warm_mask`).
                for (k, until) in [(2, RSI), (3, SHORT - 1), (4, SHORT - 1), (5, SHORT - 1)] {
                    out[k][c0..c1.min(until).max(c0)].fill(f64::NAN);
                }
            }
            c0 = c1;
        }
        *state = steps;
    }
}

impl<F: Finisher> LanePath for Scalar<F> {
    const LANES: usize = 1;

    #[inline(always)]
    fn warm_run(
        &mut self,
        series: &mut [Series],
        rows: &[&[f64]],
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
    ) {
        check_run(1, series, rows, out, t0, t1);
        assert!(t1 <= LONG);
        let f = F::warm_chunks(self, out, t0, t1, Fast::load(series), rows[0], rows);
        f.store(series, t1 - 1);
    }

    #[inline(always)]
    fn fast_run(
        &mut self,
        series: &mut [Series],
        rows: &[&[f64]],
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
    ) {
        check_run(1, series, rows, out, t0, t1);
        assert!(t0 >= LONG);
        let f = F::fast_chunks(self, out, t0, t1, Fast::load(series), rows[0], rows);
        f.store(series, t1 - 1);
    }
}
