//! Bindings of the factor analytics (`crate::factors`). Python allocates every output.

use super::run::{compute, to_pyerr};
use crate::error::Error;
use crate::factors::{factor_analytics, forward_returns_panel, Layout, Outputs};
use numpy::{
    PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3, PyReadwriteArrayDyn,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;

fn contiguous<'a>(
    name: &'static str,
    s: Result<&'a [f64], numpy::AsSliceError>,
) -> Result<&'a [f64], Error> {
    s.map_err(|_| Error::shape(name, "a C-contiguous float64 array", "a strided view"))
}

fn writable<'a>(
    name: &'static str,
    a: &'a mut PyReadwriteArrayDyn<'_, f64>,
) -> Result<&'a mut [f64], Error> {
    a.as_slice_mut()
        .map_err(|_| Error::shape(name, "a C-contiguous float64 array", "a strided view"))
}

/// Forward returns of `close` over `horizons` into `out` of shape `(len(horizons), n_assets, n_dates)`.
#[pyfunction]
#[pyo3(signature = (close, horizons, out, threads))]
pub fn forward_returns(
    py: Python<'_>,
    close: PyReadonlyArray2<'_, f64>,
    horizons: Vec<usize>,
    mut out: PyReadwriteArrayDyn<'_, f64>,
    threads: usize,
) -> PyResult<()> {
    let (n, t) = (close.shape()[0], close.shape()[1]);
    let cells = n * t;
    let c = contiguous("close", close.as_slice()).map_err(|e| to_pyerr(py, &e))?;
    let o = writable("out", &mut out).map_err(|e| to_pyerr(py, &e))?;
    if o.len() != horizons.len() * cells {
        let e = Error::shape(
            "out",
            format!("{} cells", horizons.len() * cells),
            format!("{} cells", o.len()),
        );
        return Err(to_pyerr(py, &e));
    }
    // Always inside our pool (also for small inputs run inline) so rayon's global pool is never used.
    compute(py, threads, cells * horizons.len(), move || {
        crate::pool::install(threads, move || {
            for (h, block) in horizons.iter().zip(o.chunks_mut(cells.max(1))) {
                forward_returns_panel(c, n, t, *h, block)?;
            }
            Ok(())
        })?
    })
}

/// Per-date analytics of `n_factors` factors `(n_factors, n_assets, n_dates)`; see `ferroquant.factors._engine` for the output layout.
#[pyfunction]
#[pyo3(signature = (factor, fwd, groups, n_groups, quantiles, demeaned, common_universe, lags, quantile, date_counts, counts, ic, qret, turnover, autocorr, threads))]
#[allow(clippy::too_many_arguments)]
pub fn factor_analytics_core(
    py: Python<'_>,
    factor: PyReadonlyArray3<'_, f64>,
    fwd: PyReadonlyArray3<'_, f64>,
    groups: PyReadonlyArray1<'_, i64>,
    n_groups: usize,
    quantiles: usize,
    demeaned: bool,
    common_universe: bool,
    lags: Vec<usize>,
    mut quantile: PyReadwriteArrayDyn<'_, u8>,
    mut date_counts: PyReadwriteArrayDyn<'_, f64>,
    mut counts: PyReadwriteArrayDyn<'_, f64>,
    mut ic: PyReadwriteArrayDyn<'_, f64>,
    mut qret: PyReadwriteArrayDyn<'_, f64>,
    mut turnover: PyReadwriteArrayDyn<'_, f64>,
    mut autocorr: PyReadwriteArrayDyn<'_, f64>,
    threads: usize,
) -> PyResult<()> {
    let (nf, n, t) = (factor.shape()[0], factor.shape()[1], factor.shape()[2]);
    let fs = fwd.shape();
    if fs[1] != n || fs[2] != t {
        let e = Error::shape(
            "forward_returns",
            format!("(n_horizons, {n}, {t}) like factor"),
            format!("{fs:?}"),
        );
        return Err(to_pyerr(py, &e));
    }
    let n_horizons = fs[0];
    let err = |e: Error| to_pyerr(py, &e);
    let f = contiguous("factor", factor.as_slice()).map_err(err)?;
    let r = contiguous("forward_returns", fwd.as_slice()).map_err(err)?;
    let g = groups.as_slice().map_err(|_| {
        err(Error::shape(
            "groups",
            "a contiguous int64 array",
            "a strided view",
        ))
    })?;
    let out = Outputs {
        quantile: quantile.as_slice_mut().map_err(|_| {
            err(Error::shape(
                "quantile",
                "a C-contiguous uint8 array",
                "a strided view",
            ))
        })?,
        date_counts: writable("date_counts", &mut date_counts).map_err(err)?,
        counts: writable("counts", &mut counts).map_err(err)?,
        ic: writable("ic", &mut ic).map_err(err)?,
        qret: writable("qret", &mut qret).map_err(err)?,
        turnover: writable("turnover", &mut turnover).map_err(err)?,
        autocorr: writable("autocorr", &mut autocorr).map_err(err)?,
    };
    let cells = nf * n * t * n_horizons.max(1);
    compute(py, threads, cells, move || {
        let lay = Layout {
            n_factors: nf,
            n_assets: n,
            n_dates: t,
            n_horizons,
            groups: g,
            n_groups,
            quantiles,
            demeaned,
            common_universe,
            lags: &lags,
        };
        crate::pool::install(threads, move || factor_analytics(f, r, &lay, out))?
    })
}
