//! The one place that leaves the Python world: it releases the GIL, runs work in our rayon pool,
//! turns panics into `InternalError` and maps [`Error`] onto the `ferroquant.errors` classes.

use crate::error::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Work below this many cells runs on the calling thread with the GIL held: handing it to the
/// pool would cost more than computing it.
const INLINE_MAX_CELLS: usize = 1 << 15;

/// Calls of ours running with the GIL released (their array borrows live on while other threads
/// hold the GIL). Changed only with the GIL held, so a thread that holds the GIL and reads 0 knows
/// that no such call is in flight: see [`crate::python::unchecked`].
static DETACHED: AtomicUsize = AtomicUsize::new(0);

/// Whether some call of ours runs with the GIL released (see [`DETACHED`]); call with the GIL held.
pub fn any_detached() -> bool {
    DETACHED.load(Ordering::Acquire) != 0
}

/// `f` with the GIL released, counted in [`DETACHED`] until the GIL is back.
fn detach<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> T {
    struct Count;
    impl Drop for Count {
        fn drop(&mut self) {
            DETACHED.fetch_sub(1, Ordering::Release);
        }
    }
    DETACHED.fetch_add(1, Ordering::AcqRel);
    let _count = Count;
    py.detach(f)
}

/// Whether work of `cells` cells runs on the calling thread (see [`compute`]).
pub fn inline(cells: usize) -> bool {
    cells < INLINE_MAX_CELLS
}

/// Runs `f` over `cells` cells of data with `threads` workers (0 = the default pool) and converts
/// its outcome into a Python result.
pub fn compute<T, F>(py: Python<'_>, threads: usize, cells: usize, f: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> Result<T, Error> + Send,
{
    let guarded = guard(f);
    let outcome = if inline(cells) {
        guarded()
    } else {
        detach(py, move || {
            crate::pool::install(threads, guarded).and_then(|r| r)
        })
    };
    outcome.map_err(|e| to_pyerr(py, &e))
}

/// `f` with a panic turned into [`Error::Internal`].
pub fn guard<T, F>(f: F) -> impl FnOnce() -> Result<T, Error> + Send
where
    T: Send,
    F: FnOnce() -> Result<T, Error> + Send,
{
    move || match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(Error::Internal {
            reason: panic_message(payload.as_ref()),
        }),
    }
}

/// [`compute`] for work that runs no parallel iterator (one thread asked for): the GIL is
/// released and `f` runs on the calling thread, sparing the hand-off to a pool worker and back.
pub fn compute_serial<T, F>(py: Python<'_>, cells: usize, f: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> Result<T, Error> + Send,
{
    let guarded = guard(f);
    let outcome = if inline(cells) {
        guarded()
    } else {
        detach(py, guarded)
    };
    outcome.map_err(|e| to_pyerr(py, &e))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        format!("panic: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panic: {s}")
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Maps a core error onto the Python exception class of the same name in `ferroquant.errors`.
pub fn to_pyerr(py: Python<'_>, e: &Error) -> PyErr {
    let message = e.to_string();
    let class = py
        .import("ferroquant.errors")
        .and_then(|m| m.getattr(e.kind()))
        .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
    match class {
        Ok(cls) => PyErr::from_type(cls, message),
        Err(_) => PyRuntimeError::new_err(message),
    }
}
