//! Turning numpy arrays into the slices the kernels take. The Python layer has already made
//! inputs C-contiguous float64 and allocated outputs; anything else here is a caller bug that we
//! still report as a typed error rather than a crash.

use crate::error::Error;
use crate::panel::Output;
use numpy::{PyArray3, PyArrayMethods, PyReadonlyArray2, PyReadwriteArray3, PyUntypedArrayMethods};
use pyo3::prelude::*;

/// A read-only `(n_assets, n_bars)` input.
pub struct In<'py> {
    array: PyReadonlyArray2<'py, f64>,
}

impl<'py> In<'py> {
    pub fn new(array: PyReadonlyArray2<'py, f64>) -> Self {
        In { array }
    }

    pub fn shape(&self) -> (usize, usize) {
        let s = self.array.shape();
        (s[0], s[1])
    }

    pub fn slice(&self, name: &'static str) -> Result<&[f64], Error> {
        self.array
            .as_slice()
            .map_err(|_| Error::shape(name, "a C-contiguous float64 array", "a strided view"))
    }
}

/// A `(k, n_assets, n_bars)` output block of float64 or float32.
pub enum OutBlock<'py> {
    F64(PyReadwriteArray3<'py, f64>),
    F32(PyReadwriteArray3<'py, f32>),
}

impl<'py> OutBlock<'py> {
    pub fn new(out: &Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(a) = out.cast::<PyArray3<f64>>() {
            return Ok(OutBlock::F64(a.try_readwrite()?));
        }
        if let Ok(a) = out.cast::<PyArray3<f32>>() {
            return Ok(OutBlock::F32(a.try_readwrite()?));
        }
        Err(pyo3::exceptions::PyTypeError::new_err(
            "out must be a writable 3-D numpy array of float64 or float32",
        ))
    }

    /// Splits the block into `k` outputs of `cells` values each.
    pub fn split<const K: usize>(&mut self, cells: usize) -> Result<[Output<'_>; K], Error> {
        let bad = |got: usize| {
            Error::shape(
                "out",
                format!("{K} blocks of {cells} cells"),
                format!("{got} cells"),
            )
        };
        match self {
            OutBlock::F64(a) => {
                let s = a
                    .as_slice_mut()
                    .map_err(|_| Error::shape("out", "a C-contiguous array", "a strided view"))?;
                if s.len() != K * cells {
                    return Err(bad(s.len()));
                }
                let mut it = s.chunks_mut(cells.max(1)).map(Output::F64);
                Ok(std::array::from_fn(|_| {
                    it.next().unwrap_or(Output::F64(&mut []))
                }))
            }
            OutBlock::F32(a) => {
                let s = a
                    .as_slice_mut()
                    .map_err(|_| Error::shape("out", "a C-contiguous array", "a strided view"))?;
                if s.len() != K * cells {
                    return Err(bad(s.len()));
                }
                let mut it = s.chunks_mut(cells.max(1)).map(Output::F32);
                Ok(std::array::from_fn(|_| {
                    it.next().unwrap_or(Output::F32(&mut []))
                }))
            }
        }
    }
}
