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
use numpy::ndarray::Dimension;
use numpy::npyffi::{
    _PyArray_GET_ITEM_DATA, PyArray_CheckExact, NPY_ARRAY_ALIGNED, NPY_ARRAY_WRITEABLE,
};
use numpy::npyffi::{get_type_object, npy_intp, NpyTypes, PY_ARRAY_API};
use numpy::{Element, PyArrayDescrMethods};
use numpy::{PyArray, PyArray2, PyArray3, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::os::raw::c_int;

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
    let s = x.shape();
    run(
        py,
        x,
        (s[0], s[1]),
        out.cast::<PyArray3<f64>>().ok()?,
        kernel,
    )
}

/// An input the per-call entry points run without tracking: exactly a float64 `numpy.ndarray`
/// (not a subclass) of one or two dimensions (one dimension: one asset), C-contiguous, with at
/// least one value and small enough for inline work. Checked once, through one typed cast.
pub(super) struct Small<'a, 'py> {
    x: &'a Bound<'py, PyArrayDyn<f64>>,
    /// `(n_assets, n_bars, two_d)`.
    pub(super) shape: (usize, usize, bool),
}

/// `x` as a [`Small`] input, if it is one.
pub(super) fn small<'a, 'py>(x: &'a Bound<'py, PyAny>) -> Option<Small<'a, 'py>> {
    // SAFETY: `x` is a live object and the GIL is held.
    if unsafe { PyArray_CheckExact(x.py(), x.as_ptr()) } == 0 {
        return None;
    }
    let x = x.cast::<PyArrayDyn<f64>>().ok()?;
    let shape = match *x.shape() {
        [n] => (1, n, false),
        [a, n] => (a, n, true),
        _ => return None,
    };
    let cells = shape.0.checked_mul(shape.1)?;
    (cells > 0 && inline(cells) && x.is_c_contiguous()).then_some(Small { x, shape })
}

/// Runs a one-input kernel writing `K` float64 outputs into `out` for a [`Small`] input, unless
/// `out` needs the tracked path (`None`: nothing was run).
pub(super) fn run_small<const K: usize, E, F>(
    py: Python<'_>,
    x: &Small<'_, '_>,
    out: &Bound<'_, PyArray<f64, E>>,
    kernel: F,
) -> Option<PyResult<()>>
where
    E: Dimension,
    F: FnOnce(&[f64], usize, usize, [Output<'_>; K]) -> Result<(), Error> + Send,
{
    run(py, x.x, (x.shape.0, x.shape.1), out, kernel)
}

/// The common part: `x` holds `(n_assets, n_bars)` float64 values.
fn run<const K: usize, D, E, F>(
    py: Python<'_>,
    x: &Bound<'_, PyArray<f64, D>>,
    (n_assets, n_bars): (usize, usize),
    out: &Bound<'_, PyArray<f64, E>>,
    kernel: F,
) -> Option<PyResult<()>>
where
    D: Dimension,
    E: Dimension,
    F: FnOnce(&[f64], usize, usize, [Output<'_>; K]) -> Result<(), Error> + Send,
{
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
    if a.start < b.end && b.start < a.end {
        return None;
    }
    let mut rows = block.chunks_exact_mut(cells).map(Output::F64);
    let outs: [Output<'_>; K] =
        std::array::from_fn(|_| rows.next().unwrap_or(Output::F64(&mut [])));
    Some(guard(move || kernel(data, n_assets, n_bars, outs))().map_err(|e| to_pyerr(py, &e)))
}

/// Runs the kernel into a fresh float64 block shaped `(K, *x.shape)` and returns its `K` rows as
/// views (uninitialised values never reach Python: on an error the block is dropped unseen).
pub(super) fn into_new_rows<'py, const K: usize, F>(
    py: Python<'py>,
    x: &Small<'_, 'py>,
    kernel: F,
) -> Option<PyResult<Bound<'py, PyTuple>>>
where
    F: FnOnce(&[f64], usize, usize, [Output<'_>; K]) -> Result<(), Error> + Send,
{
    let (n_assets, n_bars, two_d) = x.shape;
    // SAFETY: see above; the kernel writes every value before the rows are returned.
    let block = unsafe { PyArray2::<f64>::new(py, [K, n_assets * n_bars], false) };
    let done = run_small::<K, _, F>(py, x, &block, kernel)?;
    let row: &[usize] = if two_d {
        &[n_assets, n_bars]
    } else {
        &[n_bars]
    };
    Some(done.and_then(|()| rows(py, &block, row)))
}

/// The rows of a C-contiguous float64 block as views shaped `row` (what `block[k]` gives
/// Python), made through numpy's C API: indexing from Python parses the index and builds a
/// generic view, several times the cost, and for one stock the six views cost a fifth of the call.
fn rows<'py>(
    py: Python<'py>,
    block: &Bound<'py, PyArray2<f64>>,
    row: &[usize],
) -> PyResult<Bound<'py, PyTuple>> {
    let n_rows = block.shape()[0];
    let cells: usize = row.iter().product();
    let mut dims: [npy_intp; 2] = [0; 2];
    for (d, &r) in dims.iter_mut().zip(row) {
        *d = r as npy_intp;
    }
    let base = block.data();
    let mut views = Vec::with_capacity(n_rows);
    for k in 0..n_rows {
        // SAFETY: the GIL is held; `base + k * cells` starts row `k` of the block, which holds
        // `n_rows * cells` values, and `dims` describes `cells` values (numpy derives C-contiguous
        // strides and the contiguity flags from it; the data of a fresh block is aligned). The
        // descriptor's reference is stolen by the call, and the block's by `SetBaseObject`, which
        // keeps the block alive as long as the view.
        unsafe {
            let view = PY_ARRAY_API.PyArray_NewFromDescr(
                py,
                get_type_object(py, NpyTypes::PyArray_Type),
                f64::get_dtype(py).into_dtype_ptr(),
                row.len() as c_int,
                dims.as_mut_ptr(),
                std::ptr::null_mut(),
                base.add(k * cells).cast(),
                NPY_ARRAY_WRITEABLE | NPY_ARRAY_ALIGNED,
                std::ptr::null_mut(),
            );
            let view = Bound::from_owned_ptr_or_err(py, view)?;
            let owner = block.clone().into_any().into_ptr();
            if PY_ARRAY_API.PyArray_SetBaseObject(py, view.as_ptr().cast(), owner) != 0 {
                return Err(PyErr::fetch(py));
            }
            views.push(view);
        }
    }
    PyTuple::new(py, views)
}
