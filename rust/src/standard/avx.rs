//! The AVX path: four series side by side, one per lane of an [`F4`]. Closes are transposed in
//! and outputs transposed back out in chunks; outputs larger than the caches go through
//! [`Staging`] so that they can be written with non-temporal stores, which need aligned addresses
//! that the output rows do not guarantee.

use super::paths::{check_run, outputs, FastSteps, LanePath, Steps, WarmSteps};
use super::state::{Fast, Series};
use super::{CHUNK, LANES, LONG, OUTPUTS};
use crate::window::{store_fence, Lane, F4};

/// Four series in the lanes of AVX registers. Their closes are transposed (4 bars × 4 series at a
/// time) into a buffer of one [`F4`] per bar, and the outputs are transposed back in chunks of
/// [`CHUNK`] bars, written either in place or, for outputs far larger than the caches, through
/// [`Staging`] with non-temporal stores.
#[cfg(target_arch = "x86_64")]
pub(super) struct Avx {
    pub(super) bars: Vec<F4>,
    pub(super) staging: Option<Box<Staging>>,
}

/// Output rows (`LANES * OUTPUTS`) on their way to non-temporal stores, which need 32-byte aligned
/// addresses: row `r` holds the `held[r]` bars before the current chunk not yet written, and is
/// flushed up to its last aligned group of 4 bars, the rest (at most 3) carried over.
#[cfg(target_arch = "x86_64")]
pub(super) struct Staging {
    values: [[f64; CHUNK + 4]; LANES * OUTPUTS],
    held: [usize; LANES * OUTPUTS],
}

#[cfg(target_arch = "x86_64")]
impl Staging {
    pub(super) fn new() -> Box<Self> {
        Box::new(Staging {
            values: [[0.0; CHUNK + 4]; LANES * OUTPUTS],
            held: [0; LANES * OUTPUTS],
        })
    }

    /// Writes the held bars of every row, which end at bar `end`, up to the last 32-byte aligned
    /// address (or all of them when `all`) into `out`.
    ///
    /// # Safety
    /// AVX is available and every `out[r]` holds at least `end` values.
    #[inline(always)]
    unsafe fn flush(&mut self, out: &mut [&mut [f64]], end: usize, all: bool) {
        for (r, row) in out.iter_mut().enumerate() {
            let (held, values) = (self.held[r], &mut self.values[r]);
            let first = end - held;
            let p = row.as_mut_ptr();
            // Bars before the first 32-byte aligned address, written one by one.
            let head = ((4 - (p as usize / 8 + first) % 4) % 4).min(held);
            let body = (held - head) / 4 * 4;
            for (j, &v) in values[..head].iter().enumerate() {
                *p.add(first + j) = v;
            }
            for j in (head..head + body).step_by(4) {
                F4::load(values.as_ptr().add(j)).stream(p.add(first + j));
            }
            let rest = head + body..held;
            if all {
                for (j, &v) in values[rest.clone()].iter().enumerate() {
                    *p.add(first + rest.start + j) = v;
                }
                self.held[r] = 0;
            } else {
                self.held[r] = rest.len();
                values.copy_within(rest, 0);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl Avx {
    /// Transposes the closes of bars `from..to` into `self.bars`.
    #[inline(always)]
    fn load_bars(&mut self, rows: &[&[f64]], from: usize, to: usize) {
        let bars = &mut self.bars;
        bars.clear();
        bars.reserve(to - from);
        let mut j = from;
        while j + 4 <= to {
            // SAFETY: `j + 4 <= to <= rows[i].len()` for every row (`check_run`).
            let load = |i: usize| unsafe { F4::load(rows[i].as_ptr().add(j)) };
            let v = F4::transpose([load(0), load(1), load(2), load(3)]);
            bars.extend_from_slice(&v);
            j += 4;
        }
        let tail = |i: usize| &rows[i][j..to];
        for (((&a, &b), &c), &d) in tail(0).iter().zip(tail(1)).zip(tail(2)).zip(tail(3)) {
            bars.push(F4::from_array([a, b, c, d]));
        }
    }

    /// Runs `stepper` over bars `t0..t1` and writes the outputs.
    #[inline(always)]
    fn write_chunks<S: Steps<F4>>(
        staging: &mut Option<Box<Staging>>,
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
        stepper: &mut S,
    ) {
        // One buffer per output; the middle band shares SMA 20's buffer when they are equal.
        let mut buf = [[F4::splat(0.0); CHUNK]; OUTPUTS];
        let (sources, dests): (&[usize], &[&[usize]]) = if !S::WARM {
            (&[0, 1, 2, 4, 5], &[&[0, 3], &[1], &[2], &[4], &[5]])
        } else {
            (&[0, 1, 2, 3, 4, 5], &[&[0], &[1], &[2], &[3], &[4], &[5]])
        };
        let mut c0 = t0;
        while c0 < t1 {
            let c1 = (c0 + CHUNK).min(t1);
            stepper.check(c0, c1);
            for t in c0..c1 {
                // SAFETY: `t` lies in `c0..c1`, which `check` accepted.
                let v = outputs::<F4, S>(t, unsafe { stepper.raw(t) });
                for (b, &k) in buf.iter_mut().zip(sources) {
                    // SAFETY: `t - c0 < c1 - c0 <= CHUNK`.
                    unsafe { *b.get_unchecked_mut(t - c0) = v[k] };
                }
            }
            // Where bar `t` of output row `r` goes: `dst[r] + t - shift[r]`, in the row itself or in
            // its staging buffer.
            let mut dst = [std::ptr::null_mut::<f64>(); LANES * OUTPUTS];
            let mut shift = [0; LANES * OUTPUTS];
            match staging.as_deref_mut() {
                None => dst
                    .iter_mut()
                    .zip(out.iter_mut())
                    .for_each(|(d, r)| *d = r.as_mut_ptr()),
                Some(s) => {
                    for (r, d) in dst.iter_mut().enumerate() {
                        *d = s.values[r].as_mut_ptr();
                        shift[r] = c0 - s.held[r];
                    }
                }
            }
            for (b, &ks) in buf.iter().zip(dests) {
                let mut t = c0;
                while t + 4 <= c1 {
                    let v = F4::transpose([b[t - c0], b[t - c0 + 1], b[t - c0 + 2], b[t - c0 + 3]]);
                    for (i, v) in v.into_iter().enumerate() {
                        for &k in ks {
                            let r = i * OUTPUTS + k;
                            // SAFETY: in place, `t + 4 <= c1 <= t1 <= out[r].len()` (`check_run`);
                            // staged, `t + 4 - shift[r] <= held + CHUNK`.
                            unsafe { v.store(dst[r].add(t - shift[r])) };
                        }
                    }
                    t += 4;
                }
                for t in t..c1 {
                    let v = b[t - c0].to_array();
                    for (i, v) in v.into_iter().enumerate() {
                        for &k in ks {
                            let r = i * OUTPUTS + k;
                            // SAFETY: as above.
                            unsafe { *dst[r].add(t - shift[r]) = v };
                        }
                    }
                }
            }
            if let Some(s) = staging.as_deref_mut() {
                for h in s.held.iter_mut() {
                    *h += c1 - c0;
                }
                // SAFETY: AVX is available; every output row holds at least `t1 >= c1` values.
                unsafe { s.flush(out, c1, c1 == t1) };
                if c1 == t1 {
                    store_fence();
                }
            }
            c0 = c1;
        }
    }
}

/// Call only where AVX is available (the invariant of [`F4`]).
#[cfg(target_arch = "x86_64")]
impl LanePath for Avx {
    const LANES: usize = LANES;

    #[inline(always)]
    fn warm_run(
        &mut self,
        series: &mut [Series],
        rows: &[&[f64]],
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
    ) {
        check_run(LANES, series, rows, out, t0, t1);
        assert!(t1 <= LONG);
        self.load_bars(rows, 0, t1);
        let mut steps = WarmSteps {
            f: Fast::<F4>::load(series),
            bars: &self.bars,
            rows,
        };
        Self::write_chunks(&mut self.staging, out, t0, t1, &mut steps);
        steps.f.store(series, t1 - 1);
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
        check_run(LANES, series, rows, out, t0, t1);
        assert!(t0 >= LONG);
        let base = t0 - LONG;
        self.load_bars(rows, base, t1);
        let mut steps = FastSteps {
            f: Fast::<F4>::load(series),
            bars: &self.bars,
            base,
            rows,
        };
        Self::write_chunks(&mut self.staging, out, t0, t1, &mut steps);
        steps.f.store(series, t1 - 1);
    }
}
