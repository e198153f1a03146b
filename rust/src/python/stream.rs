//! The universe stream as a Python class. Symbol names, output names and records live in Python
//! (`ferroquant/stream/`); this class holds the Rust [`Stream`] and moves arrays in and out.

use super::run::{compute, compute_serial, inline, to_pyerr};
use crate::convention::Convention;
use crate::error::Error;
use crate::stream::{decode, Spec, Stream, Tick};
use numpy::{
    PyArray2, PyArrayMethods, PyReadonlyArray, PyReadonlyArray1, PyReadonlyArray2,
    PyReadwriteArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Work weight of one output of one symbol, in the cells [`compute`] uses to choose between the
/// calling thread and the pool (a stream step costs about as much as eight batch cells).
const CELLS_PER_OUTPUT: usize = 8;

/// Updates of fewer symbols run on the calling thread alone. Larger ones share their chunks with
/// the crew ([`crate::crew`]), whose helpers stay awake between ticks that come close together;
/// below this size the claims and the wait for a helper's last chunk cost more than they save
/// (measured on the 2-vCPU reference machine: see benches/README.md).
const CREW_MIN_SYMBOLS: usize = 512;

fn spec(kind: &str, p: &[f64], convention: &str) -> Result<Spec, Error> {
    let conv = Convention::parse(convention)?;
    let int = |i: usize, name: &'static str| -> Result<usize, Error> {
        match p.get(i) {
            Some(&v) if v >= 0.0 && v.fract() == 0.0 && v < 1e15 => Ok(v as usize),
            Some(&v) => Err(Error::param(name, v, "a non-negative integer")),
            None => Err(Error::param(name, "missing", "a non-negative integer")),
        }
    };
    Ok(match kind {
        "standard" => Spec::Standard,
        "sma" => Spec::Sma {
            period: int(0, "period")?,
            min_periods: int(1, "min_periods")?,
        },
        "ema" => Spec::Ema {
            period: int(0, "period")?,
            convention: conv,
        },
        "rsi" => Spec::Rsi {
            period: int(0, "period")?,
            min_periods: int(1, "min_periods")?,
            convention: conv,
        },
        "bollinger" => Spec::Bollinger {
            period: int(0, "period")?,
            k: p.get(1).copied().unwrap_or(f64::NAN),
            ddof: int(2, "ddof")?,
            min_periods: int(3, "min_periods")?,
        },
        "macd" => Spec::Macd {
            fast: int(0, "fast")?,
            slow: int(1, "slow")?,
            signal: int(2, "signal")?,
            convention: conv,
        },
        "atr" | "natr" => Spec::Atr {
            period: int(0, "period")?,
            convention: conv,
            normalised: kind == "natr",
        },
        other => {
            return Err(Error::param(
                "indicator",
                format!("{other:?}"),
                "one of standard, sma, ema, rsi, bollinger, macd, atr, natr",
            ))
        }
    })
}

/// The Rust state of a `ferroquant.stream.Stream`.
#[pyclass(module = "ferroquant._core")]
pub struct StreamCore {
    inner: Stream,
}

/// The values of an optional C-contiguous array (empty when absent).
fn slice<'a, D: numpy::ndarray::Dimension>(
    a: &'a Option<PyReadonlyArray<'_, f64, D>>,
    name: &'static str,
) -> PyResult<&'a [f64]> {
    match a {
        Some(a) => a.as_slice().map_err(|_| {
            pyo3::exceptions::PyValueError::new_err(format!("{name} must be C-contiguous"))
        }),
        None => Ok(&[]),
    }
}

#[pymethods]
impl StreamCore {
    /// `specs`: (kind, numeric parameters, convention) per indicator; `n`: number of symbols.
    #[new]
    fn new(py: Python<'_>, specs: Vec<(String, Vec<f64>, String)>, n: usize) -> PyResult<Self> {
        let specs = specs
            .iter()
            .map(|(k, p, c)| spec(k, p, c))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|s| Stream::new(s, n))
            .map_err(|e| to_pyerr(py, &e))?;
        Ok(StreamCore { inner: specs })
    }

    #[getter]
    fn n_symbols(&self) -> usize {
        self.inner.len()
    }

    /// One bar per symbol; outputs into `out` `(n_symbols, n_outputs)`. `commit=False` peeks.
    #[pyo3(signature = (close, high, low, out, commit, threads))]
    #[allow(clippy::too_many_arguments)]
    fn update(
        &mut self,
        py: Python<'_>,
        close: PyReadonlyArray1<'_, f64>,
        high: Option<PyReadonlyArray1<'_, f64>>,
        low: Option<PyReadonlyArray1<'_, f64>>,
        mut out: PyReadwriteArray2<'_, f64>,
        commit: bool,
        threads: usize,
    ) -> PyResult<()> {
        let close = Some(close);
        let (c, h, l) = (
            slice(&close, "close")?,
            slice(&high, "high")?,
            slice(&low, "low")?,
        );
        let shape = [self.inner.len(), self.inner.outputs()];
        if out.shape() != shape {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "out must have shape ({}, {})",
                shape[0], shape[1]
            )));
        }
        let out = out
            .as_slice_mut()
            .map_err(|_| pyo3::exceptions::PyValueError::new_err("out must be C-contiguous"))?;
        let cells = self.inner.len() * self.inner.outputs() * CELLS_PER_OUTPUT;
        let crew = if self.inner.len() >= CREW_MIN_SYMBOLS && crate::pool::resolve(threads) > 1 {
            Some(crate::crew::get(threads).map_err(|e| to_pyerr(py, &e))?)
        } else {
            None
        };
        let inner = &mut self.inner;
        compute_serial(py, cells, move || {
            let tick = Tick {
                close: c,
                high: h,
                low: l,
            };
            inner.update(tick, out, commit, crew.as_deref())
        })
    }

    /// [`StreamCore::update`] of closes only, into a new `(n_symbols, n_outputs)` array (the
    /// common live call, with the allocation on this side of the boundary).
    fn update_new<'py>(
        &mut self,
        py: Python<'py>,
        close: PyReadonlyArray1<'py, f64>,
        commit: bool,
        threads: usize,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let out = PyArray2::<f64>::zeros(py, [self.inner.len(), self.inner.outputs()], false);
        let view = out.try_readwrite()?;
        self.update(py, close, None, None, view, commit, threads)?;
        Ok(out)
    }

    /// Feeds `(n_symbols, n_bars)` panels of history; the last bar's outputs go into `last`.
    #[pyo3(signature = (close, high, low, last, threads))]
    fn warm(
        &mut self,
        py: Python<'_>,
        close: PyReadonlyArray2<'_, f64>,
        high: Option<PyReadonlyArray2<'_, f64>>,
        low: Option<PyReadonlyArray2<'_, f64>>,
        mut last: PyReadwriteArray2<'_, f64>,
        threads: usize,
    ) -> PyResult<()> {
        let n_bars = close.shape()[1];
        let close = Some(close);
        let (c, h, l) = (
            slice(&close, "close history")?,
            slice(&high, "high history")?,
            slice(&low, "low history")?,
        );
        let last = last
            .as_slice_mut()
            .map_err(|_| pyo3::exceptions::PyValueError::new_err("last must be C-contiguous"))?;
        let cells = c.len() * self.inner.outputs() * CELLS_PER_OUTPUT;
        let parallel = !inline(cells);
        let inner = &mut self.inner;
        compute(py, threads, cells, move || {
            inner.warm(c, h, l, n_bars, last, parallel)
        })
    }

    /// Appends `k` symbols that have seen no bar.
    fn add(&mut self, k: usize) {
        self.inner.add(k);
    }

    /// Appends the symbols (and states) of another core of the same indicators.
    fn extend(&mut self, py: Python<'_>, other: PyRef<'_, StreamCore>) -> PyResult<()> {
        self.inner
            .extend(&other.inner)
            .map_err(|e| to_pyerr(py, &e))
    }

    /// Removes the symbols at these positions.
    fn remove(&mut self, py: Python<'_>, indices: Vec<usize>) -> PyResult<()> {
        self.inner.remove(&indices).map_err(|e| to_pyerr(py, &e))
    }

    /// The checkpoint bytes, carrying `header`, encoded straight into the `bytes` object.
    fn checkpoint<'py>(&mut self, py: Python<'py>, header: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let enc = self.inner.encoder(header).map_err(|e| to_pyerr(py, &e))?;
        PyBytes::new_with(py, enc.len(), |out| {
            enc.write(out).map_err(|e| to_pyerr(py, &e))
        })
    }

    /// `(header, core)` from checkpoint bytes.
    #[staticmethod]
    fn restore<'py>(py: Python<'py>, data: &[u8]) -> PyResult<(Bound<'py, PyBytes>, Self)> {
        let (header, inner) = decode(data).map_err(|e| to_pyerr(py, &e))?;
        Ok((PyBytes::new(py, &header), StreamCore { inner }))
    }
}
