//! Cross-sectional access to `(.., n_assets, n_dates)` blocks. A date's values lie `n_dates` apart,
//! so dates are handled in blocks of [`DATE_BLOCK`] consecutive columns: a tiled transpose reads
//! runs of `DATE_BLOCK` contiguous values per row (whole cache lines, prefetchable) into a
//! date-major buffer, the per-date work runs on it, and results are scattered back the same way.
//! Blocks own disjoint columns, so they can run in parallel.

use rayon::prelude::*;
use std::sync::{Mutex, TryLockError};

/// Dates per block: eight 64-byte cache lines of `f64` per row.
pub const DATE_BLOCK: usize = 64;

/// Rows transposed together, date by date: their runs are read (or written) side by side, so
/// the memory system works on `ROW_GROUP` streams at once instead of one row after another
/// (3-4x faster on the 2-vCPU reference machine: a row's first access is a cache miss).
const ROW_GROUP: usize = 16;

/// A raw pointer to an output whose disjoint columns are written by different blocks.
#[derive(Clone, Copy)]
pub struct SharedOut(*mut f64);
// SAFETY: every user writes only the columns (dates) of its own block; blocks are disjoint.
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

impl SharedOut {
    pub fn new(s: &mut [f64]) -> Self {
        SharedOut(s.as_mut_ptr())
    }

    /// A view of an input for code shared with outputs; it must only be read.
    pub fn read_only(s: &[f64]) -> Self {
        SharedOut(s.as_ptr().cast_mut())
    }

    /// Writes `v` at flat index `idx`.
    ///
    /// # Safety
    /// `idx` must be in bounds of the slice given to [`SharedOut::new`], which must outlive every
    /// write, and no other block may write the same index.
    #[inline]
    pub unsafe fn write(self, idx: usize, v: f64) {
        unsafe { *self.0.add(idx) = v }
    }

    /// The `len` values from flat index `start`, as a slice.
    ///
    /// # Safety
    /// The range must be in bounds and no other live slice or write may touch it.
    #[inline]
    pub unsafe fn slice_mut<'a>(self, start: usize, len: usize) -> &'a mut [f64] {
        unsafe { std::slice::from_raw_parts_mut(self.0.add(start), len) }
    }

    /// The `L` values from flat index `start`, as an array.
    ///
    /// # Safety
    /// As [`SharedOut::slice_mut`].
    #[inline(always)]
    pub unsafe fn array_mut<'a, const L: usize>(self, start: usize) -> &'a mut [f64; L] {
        unsafe { &mut *self.0.add(start).cast::<[f64; L]>() }
    }

    /// [`prefetch`] from this output.
    #[inline(always)]
    pub fn prefetch(self, start: usize, len: usize) {
        prefetch(self.0, start, len);
    }

    /// Reads the value at flat index `idx` (a column of the caller's own block).
    ///
    /// # Safety
    /// As [`SharedOut::write`].
    #[inline]
    pub unsafe fn read(self, idx: usize) -> f64 {
        unsafe { *self.0.add(idx) }
    }
}

/// Hints the CPU to fetch the cache lines of the `len` values from flat index `start` of `base`
/// (any index: a prefetch never faults, and the address is only computed, never dereferenced).
#[inline(always)]
pub fn prefetch(base: *const f64, start: usize, len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let first = base.wrapping_add(start).cast::<i8>();
        let last = base.wrapping_add(start + len.max(1) - 1).cast::<i8>();
        // SAFETY: prefetching is a hint; it does not access memory architecturally.
        unsafe {
            _mm_prefetch(first, _MM_HINT_T0);
            _mm_prefetch(last, _MM_HINT_T0);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (base, start, len);
}

/// Copies columns `t0..t0 + b` of `src` (`n_rows` rows of `n_dates`) into `dst` laid out
/// `[date][row]`.
pub fn gather(src: &[f64], n_rows: usize, n_dates: usize, t0: usize, b: usize, dst: &mut [f64]) {
    let full = n_rows / ROW_GROUP * ROW_GROUP;
    for r0 in (0..full).step_by(ROW_GROUP) {
        let rows: [&[f64]; ROW_GROUP] = std::array::from_fn(|g| {
            let at = (r0 + g) * n_dates + t0;
            &src[at..at + b]
        });
        for j in 0..b {
            let d = &mut dst[j * n_rows + r0..j * n_rows + r0 + ROW_GROUP];
            for g in 0..ROW_GROUP {
                d[g] = rows[g][j];
            }
        }
    }
    for r in full..n_rows {
        for j in 0..b {
            dst[j * n_rows + r] = src[r * n_dates + t0 + j];
        }
    }
}

/// [`gather`] from an output shared between blocks.
///
/// # Safety
/// `src` must hold `n_rows * n_dates` values, and columns `t0..t0 + b` must belong to the caller.
pub unsafe fn gather_shared(
    src: SharedOut,
    n_rows: usize,
    n_dates: usize,
    t0: usize,
    b: usize,
    dst: &mut [f64],
) {
    let full = n_rows / ROW_GROUP * ROW_GROUP;
    for r0 in (0..full).step_by(ROW_GROUP) {
        for j in 0..b {
            let d = &mut dst[j * n_rows + r0..j * n_rows + r0 + ROW_GROUP];
            for g in 0..ROW_GROUP {
                d[g] = unsafe { src.read((r0 + g) * n_dates + t0 + j) };
            }
        }
    }
    for r in full..n_rows {
        for j in 0..b {
            dst[j * n_rows + r] = unsafe { src.read(r * n_dates + t0 + j) };
        }
    }
}

/// The inverse of [`gather`]: writes `src` (`[date][row]`) into columns `t0..t0 + b` of `dst`.
///
/// # Safety
/// As [`gather_shared`].
pub unsafe fn scatter(
    src: &[f64],
    n_rows: usize,
    n_dates: usize,
    t0: usize,
    b: usize,
    dst: SharedOut,
) {
    let full = n_rows / ROW_GROUP * ROW_GROUP;
    for r0 in (0..full).step_by(ROW_GROUP) {
        for j in 0..b {
            let v = &src[j * n_rows + r0..j * n_rows + r0 + ROW_GROUP];
            for g in 0..ROW_GROUP {
                unsafe { dst.write((r0 + g) * n_dates + t0 + j, v[g]) };
            }
        }
    }
    for r in full..n_rows {
        for j in 0..b {
            unsafe { dst.write(r * n_dates + t0 + j, src[j * n_rows + r]) };
        }
    }
}

/// Runs `f(t0, b, state)` for every block of `block` dates (the last may be shorter), in
/// parallel; `init` builds per-worker scratch.
///
/// One scratch per worker thread for the whole call: `for_each_init` would build one per split
/// job, a dozen or more multi-megabyte buffers per call, each zeroed page by page by the kernel.
/// Blocks own disjoint columns, so which thread runs a block never changes a result.
pub fn for_each_date_block<S, I, F>(n_dates: usize, block: usize, init: I, f: F)
where
    S: Send,
    I: Fn() -> S + Sync + Send,
    F: Fn(usize, usize, &mut S) + Sync + Send,
{
    let block = block.max(1);
    let n_blocks = n_dates.div_ceil(block);
    let slots: Vec<Mutex<Option<S>>> = (0..rayon::current_num_threads().max(1))
        .map(|_| Mutex::new(None))
        .collect();
    (0..n_blocks).into_par_iter().for_each(|blk| {
        let t0 = blk * block;
        let b = block.min(n_dates - t0);
        let me = rayon::current_thread_index().unwrap_or(0) % slots.len();
        // A worker's slot is busy only if `f` itself waited on rayon work and this thread stole
        // another block meanwhile; that block then gets scratch of its own.
        match slots[me].try_lock() {
            Ok(mut slot) => f(t0, b, slot.get_or_insert_with(&init)),
            Err(TryLockError::Poisoned(p)) => f(t0, b, p.into_inner().get_or_insert_with(&init)),
            Err(TryLockError::WouldBlock) => f(t0, b, &mut init()),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_and_scatter_are_inverse_transposes() {
        let (rows, t) = (37, 150); // not multiples of the group or the block
        let src: Vec<f64> = (0..rows * t).map(|i| i as f64).collect();
        let mut back = vec![f64::NAN; rows * t];
        let out = SharedOut::new(&mut back);
        let mut s = 0;
        while s < t {
            let b = DATE_BLOCK.min(t - s);
            let mut buf = vec![0.0; b * rows];
            gather(&src, rows, t, s, b, &mut buf);
            assert_eq!(buf[rows + 5], src[5 * t + s + 1]);
            // SAFETY: one block at a time, columns s..s+b.
            unsafe { scatter(&buf, rows, t, s, b, out) };
            let mut again = vec![0.0; b * rows];
            // SAFETY: as above.
            unsafe { gather_shared(out, rows, t, s, b, &mut again) };
            assert_eq!(buf, again);
            s += b;
        }
        assert_eq!(back, src);
    }
}
