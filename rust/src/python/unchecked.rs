//! The per-call path of small inputs without rust-numpy's borrow tracking. Tracking costs a
//! hash-map insertion and removal per array and a walk of each array's base chain, about a tenth
//! of a one-stock `standard` call. It guards against a borrow held by another call of ours that
//! runs with the GIL released; this path runs only where none does and where the GIL stays held
//! throughout (inline work), and it checks the one aliasing it could otherwise meet itself: an
//! output block that overlaps the input. Anything else (a strided or read-only array, overlap,
//! work large enough to release the GIL) takes the tracked path, which reports the same errors as
//! before.
//!
//! What tracking never covered stays uncovered: numpy's own functions write arrays with the GIL
//! released, and neither path can see them.

use super::run::{any_detached, guard, inline, to_pyerr};
use crate::error::Error;
use crate::panel::Output;
use numpy::npyffi::{_PyArray_GET_ITEM_DATA, NPY_ARRAY_WRITEABLE};
use numpy::{PyArray2, PyArray3, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;

/// Runs a one-input kernel writing `K` float64 outputs on the calling thread, unless the arrays
/// need the tracked path (`None`: nothing was run).
pub(super) fn one_input<const K: usize, F>(
    py: Python<'_>,
    x: &Bound<'_, PyArray2<f64>>,
    out: &Bound<'_, PyAny>,
    kernel: F,
) -> Option<PyResult<()>>
where
    F: FnOnce(&[f64], usize, usize, [Output<'_>; K]) -> Result<(), Error> + Send,
{
    let out = out.cast::<PyArray3<f64>>().ok()?;
    let (n_assets, n_bars) = {
        let s = x.shape();
        (s[0], s[1])
    };
    let cells = n_assets.checked_mul(n_bars)?;
    // SAFETY: `out` is a live array object and the GIL is held; its header is only read.
    let writeable =
        unsafe { (*_PyArray_GET_ITEM_DATA(out.as_array_ptr())).flags } & NPY_ARRAY_WRITEABLE != 0;
    if cells == 0
        || !inline(cells)
        || !writeable
        || !x.is_c_contiguous()
        || !out.is_c_contiguous()
        || out.len() != K.checked_mul(cells)?
        || any_detached()
    {
        return None;
    }
    // SAFETY: both arrays are C-contiguous, so each slice covers exactly its array's data. No call
    // of ours runs with the GIL released (`any_detached`), the GIL stays held until the kernel
    // returns (inline work), so no other call of ours can read or write them meanwhile; and the
    // two do not overlap (checked next), so the shared and the mutable slice do not alias.
    let (data, block) = unsafe { (x.as_slice().ok()?, out.as_slice_mut().ok()?) };
    let (a, b) = (data.as_ptr_range(), block.as_ptr_range());
    if a.start < b.end.cast::<f64>() && b.start.cast::<f64>() < a.end {
        return None;
    }
    let mut rows = block.chunks_exact_mut(cells).map(Output::F64);
    let outs: [Output<'_>; K] =
        std::array::from_fn(|_| rows.next().unwrap_or(Output::F64(&mut [])));
    Some(guard(move || kernel(data, n_assets, n_bars, outs))().map_err(|e| to_pyerr(py, &e)))
}
