//! Bindings of the risk model (`crate::risk`). Python allocates every output and passes
//! C-contiguous float64 arrays; optional panels are `None`.

use super::run::{compute, to_pyerr};
use crate::error::Error;
use crate::risk;
use numpy::{
    PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArrayDyn, PyReadwriteArrayDyn,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;

fn input<'a>(name: &'static str, a: &'a PyReadonlyArrayDyn<'_, f64>) -> Result<&'a [f64], Error> {
    a.as_slice()
        .map_err(|_| Error::shape(name, "a C-contiguous float64 array", "a strided view"))
}

fn optional<'a>(
    name: &'static str,
    a: &'a Option<PyReadonlyArrayDyn<'_, f64>>,
) -> Result<&'a [f64], Error> {
    match a {
        Some(a) => input(name, a),
        None => Ok(&[]),
    }
}

fn output<'a>(
    name: &'static str,
    a: &'a mut PyReadwriteArrayDyn<'_, f64>,
) -> Result<&'a mut [f64], Error> {
    a.as_slice_mut()
        .map_err(|_| Error::shape(name, "a C-contiguous float64 array", "a strided view"))
}

/// `(n_assets, n_dates)` of a 2-D array, or a shape error naming it.
fn dims2(name: &'static str, shape: &[usize]) -> Result<(usize, usize), Error> {
    match shape {
        [n, t] => Ok((*n, *t)),
        other => Err(Error::shape(
            name,
            "a 2-D (n_assets, n_dates) panel",
            format!("{other:?}"),
        )),
    }
}

/// The standardisation arguments both bindings take, borrowed and checked once.
struct Standardize<'a> {
    k: usize,
    n: usize,
    t: usize,
    caps: &'a [f64],
    universe: &'a [bool],
    values: &'a mut [f64],
    counts: risk::standardize::Counts<'a>,
    params: risk::StandardizeParams,
}

impl<'a> Standardize<'a> {
    /// Borrows the arrays of a standardisation call; the last argument is `(winsor, min_valid,
    /// orthogonalize)` as both bindings receive them from Python.
    fn borrow<'py>(
        values: &'a mut PyReadwriteArrayDyn<'py, f64>,
        caps: &'a Option<PyReadonlyArrayDyn<'_, f64>>,
        universe: &'a Option<PyReadonlyArray2<'_, bool>>,
        [imputed, dropped, universe_count]: [&'a mut PyReadwriteArrayDyn<'py, f64>; 3],
        (winsor, min_valid, orthogonalize): (f64, usize, Vec<(usize, Vec<usize>)>),
    ) -> Result<Self, Error> {
        let params = risk::StandardizeParams {
            winsor,
            min_valid,
            orthogonalize,
        };
        let (k, n, t) = match values.shape() {
            [k, n, t] => (*k, *n, *t),
            other => {
                return Err(Error::shape(
                    "exposures",
                    "a 3-D (n_styles, n_assets, n_dates) block",
                    format!("{other:?}"),
                ))
            }
        };
        let universe: &[bool] = match universe {
            Some(u) => u.as_slice().map_err(|_| {
                Error::shape("universe", "a C-contiguous bool array", "a strided view")
            })?,
            None => &[],
        };
        Ok(Standardize {
            k,
            n,
            t,
            caps: optional("caps", caps)?,
            universe,
            values: output("exposures", values)?,
            counts: risk::standardize::Counts {
                imputed: output("imputed", imputed)?,
                dropped: output("dropped", dropped)?,
                universe: output("universe_count", universe_count)?,
            },
            params,
        })
    }
}

/// Descriptor panels of `close` into `out` `(10, n_assets, n_dates)`; see `crate::risk::ewreg`.
#[pyfunction]
#[pyo3(signature = (close, volume, shares, weights, windows, half_lives, min_fraction, out, threads))]
#[allow(clippy::too_many_arguments)]
pub fn risk_descriptors(
    py: Python<'_>,
    close: PyReadonlyArrayDyn<'_, f64>,
    volume: Option<PyReadonlyArrayDyn<'_, f64>>,
    shares: Option<PyReadonlyArrayDyn<'_, f64>>,
    weights: Option<PyReadonlyArrayDyn<'_, f64>>,
    windows: [usize; 8],
    half_lives: [f64; 4],
    min_fraction: f64,
    mut out: PyReadwriteArrayDyn<'_, f64>,
    threads: usize,
) -> PyResult<()> {
    let err = |e: Error| to_pyerr(py, &e);
    let (n, t) = dims2("close", close.shape()).map_err(err)?;
    let c = input("close", &close).map_err(err)?;
    let v = optional("volume", &volume).map_err(err)?;
    let s = optional("shares", &shares).map_err(err)?;
    let w = optional("weights", &weights).map_err(err)?;
    let o = output("out", &mut out).map_err(err)?;
    let p = risk::DescriptorParams {
        beta_window: windows[0],
        beta_half_life: half_lives[0],
        vol_window: windows[1],
        vol_half_life: half_lives[1],
        mom_window: windows[2],
        mom_skip: windows[3],
        mom_half_life: half_lives[2],
        rev_window: windows[4],
        rev_half_life: half_lives[3],
        liq_windows: [windows[5], windows[6], windows[7]],
        min_fraction,
    };
    compute(py, threads, n * t, move || {
        crate::pool::install(threads, move || {
            risk::descriptors_panel(c, v, s, w, n, t, &p, o)
        })?
    })
}

/// The regression's inputs and outputs from its Python arguments, for the plain and the fused
/// binding; `exposures` is empty when the styles come block by block from the standardisation.
#[allow(clippy::too_many_arguments)]
fn regression<'a>(
    exposures: &'a [f64],
    k: usize,
    returns: &'a PyReadonlyArrayDyn<'_, f64>,
    lead: usize,
    first: usize,
    weights: &'a Option<PyReadonlyArrayDyn<'_, f64>>,
    sqrt_shares: bool,
    shares: &'a Option<PyReadonlyArrayDyn<'_, f64>>,
    industries: &'a PyReadonlyArray1<'_, i64>,
    n_industries: usize,
    [fr, ts, st, rs]: [&'a mut PyReadwriteArrayDyn<'_, f64>; 4],
) -> Result<(risk::RegressionInputs<'a>, risk::RegressionOutputs<'a>), Error> {
    let (n, t) = dims2("returns", returns.shape())?;
    let inp = risk::RegressionInputs {
        exposures,
        returns: input("returns", returns)?,
        lead,
        first,
        weights: optional("weights", weights)?,
        sqrt_shares,
        shares: optional("shares", shares)?,
        industries: industries.as_slice().map_err(|_| {
            Error::shape("industries", "a contiguous int64 array", "a strided view")
        })?,
        n_industries,
        k,
        n,
        t,
    };
    let out = risk::RegressionOutputs {
        factor_returns: output("factor_returns", fr)?,
        tstats: output("tstats", ts)?,
        stats: output("stats", st)?,
        residuals: output("residuals", rs)?,
    };
    Ok((inp, out))
}

/// Standardises `values` `(k, n_assets, n_dates)` in place; see `crate::risk::standardize`.
#[pyfunction]
#[pyo3(signature = (values, caps, universe, winsor, min_valid, orthogonalize, imputed, dropped, universe_count, threads))]
#[allow(clippy::too_many_arguments)]
pub fn risk_standardize<'py>(
    py: Python<'py>,
    mut values: PyReadwriteArrayDyn<'py, f64>,
    caps: Option<PyReadonlyArrayDyn<'py, f64>>,
    universe: Option<PyReadonlyArray2<'py, bool>>,
    winsor: f64,
    min_valid: usize,
    orthogonalize: Vec<(usize, Vec<usize>)>,
    mut imputed: PyReadwriteArrayDyn<'py, f64>,
    mut dropped: PyReadwriteArrayDyn<'py, f64>,
    mut universe_count: PyReadwriteArrayDyn<'py, f64>,
    threads: usize,
) -> PyResult<()> {
    let err = |e: Error| to_pyerr(py, &e);
    let st = Standardize::borrow(
        &mut values,
        &caps,
        &universe,
        [&mut imputed, &mut dropped, &mut universe_count],
        (winsor, min_valid, orthogonalize),
    )
    .map_err(err)?;
    let (k, n, t) = (st.k, st.n, st.t);
    compute(py, threads, k * n * t, move || {
        crate::pool::install(threads, move || {
            risk::standardize_exposures(
                st.values,
                st.caps,
                st.universe,
                k,
                n,
                t,
                &st.params,
                st.counts,
            )
        })?
    })
}

/// Constrained WLS factor returns per date; see `crate::risk::wls`.
#[pyfunction]
#[pyo3(signature = (exposures, returns, lead, first, weights, sqrt_shares, shares, industries, n_industries, factor_returns, tstats, stats, residuals, threads))]
#[allow(clippy::too_many_arguments)]
pub fn risk_regression<'py>(
    py: Python<'py>,
    exposures: PyReadonlyArrayDyn<'py, f64>,
    returns: PyReadonlyArrayDyn<'py, f64>,
    lead: usize,
    first: usize,
    weights: Option<PyReadonlyArrayDyn<'py, f64>>,
    sqrt_shares: bool,
    shares: Option<PyReadonlyArrayDyn<'py, f64>>,
    industries: PyReadonlyArray1<'py, i64>,
    n_industries: usize,
    mut factor_returns: PyReadwriteArrayDyn<'py, f64>,
    mut tstats: PyReadwriteArrayDyn<'py, f64>,
    mut stats: PyReadwriteArrayDyn<'py, f64>,
    mut residuals: PyReadwriteArrayDyn<'py, f64>,
    threads: usize,
) -> PyResult<()> {
    let err = |e: Error| to_pyerr(py, &e);
    let (n, t) = dims2("returns", returns.shape()).map_err(err)?;
    let k = match exposures.shape() {
        [k, en, et] if *en == n && *et == t => *k,
        other => {
            return Err(err(Error::shape(
                "exposures",
                format!("(n_styles, {n}, {t}) like returns"),
                format!("{other:?}"),
            )))
        }
    };
    let (inp, out) = regression(
        input("exposures", &exposures).map_err(err)?,
        k,
        &returns,
        lead,
        first,
        &weights,
        sqrt_shares,
        &shares,
        &industries,
        n_industries,
        [&mut factor_returns, &mut tstats, &mut stats, &mut residuals],
    )
    .map_err(err)?;
    compute(py, threads, (k + 1) * n * t, move || {
        crate::pool::install(threads, move || risk::factor_regression(&inp, out))?
    })
}

/// Factor covariance per date `(n_dates, k, k)`; see `crate::risk::covariance`.
#[pyfunction]
#[pyo3(signature = (factor_returns, vol_half_life, corr_half_life, nw_lags, vra_half_life, min_obs, cov, vra, repairs))]
#[allow(clippy::too_many_arguments)]
pub fn risk_covariance(
    py: Python<'_>,
    factor_returns: PyReadonlyArrayDyn<'_, f64>,
    vol_half_life: f64,
    corr_half_life: f64,
    nw_lags: usize,
    vra_half_life: f64,
    min_obs: usize,
    mut cov: PyReadwriteArrayDyn<'_, f64>,
    mut vra: PyReadwriteArrayDyn<'_, f64>,
    mut repairs: PyReadwriteArrayDyn<'_, f64>,
) -> PyResult<()> {
    let err = |e: Error| to_pyerr(py, &e);
    let (k, t) = dims2("factor_returns", factor_returns.shape()).map_err(err)?;
    let f = input("factor_returns", &factor_returns).map_err(err)?;
    let c = output("cov", &mut cov).map_err(err)?;
    let v = output("vra", &mut vra).map_err(err)?;
    let r = output("repairs", &mut repairs).map_err(err)?;
    let p = risk::CovarianceParams {
        vol_half_life,
        corr_half_life,
        nw_lags,
        vra_half_life,
        min_obs,
    };
    // One recursion over dates: nothing to parallelise, so no pool hand-off.
    super::run::compute_serial(py, k * k * t, move || {
        risk::factor_covariance(f, k, t, &p, c, v, r)
    })
}

/// Eigenfactor-adjusted copy of one covariance matrix into `out`; see `crate::risk::eigen`.
#[pyfunction]
#[pyo3(signature = (cov, n_sims, n_periods, scale, seed, out, threads))]
#[allow(clippy::too_many_arguments)]
pub fn risk_eigen_adjust(
    py: Python<'_>,
    cov: PyReadonlyArrayDyn<'_, f64>,
    n_sims: usize,
    n_periods: usize,
    scale: f64,
    seed: u64,
    mut out: PyReadwriteArrayDyn<'_, f64>,
    threads: usize,
) -> PyResult<()> {
    let err = |e: Error| to_pyerr(py, &e);
    let (k, k2) = dims2("cov", cov.shape()).map_err(err)?;
    if k != k2 {
        return Err(err(Error::shape(
            "cov",
            "a square matrix",
            format!("({k}, {k2})"),
        )));
    }
    let f = input("cov", &cov).map_err(err)?;
    let o = output("out", &mut out).map_err(err)?;
    if o.len() != k * k {
        return Err(err(Error::shape(
            "out",
            format!("({k}, {k})"),
            format!("{} cells", o.len()),
        )));
    }
    compute(py, threads, n_sims * n_periods * k * k, move || {
        crate::pool::install(threads, move || {
            let adj = risk::eigen_adjust(f, k, n_sims, n_periods, scale, seed)?;
            o.copy_from_slice(&adj);
            Ok(())
        })?
    })
}

/// Specific variance `(n_assets, n_dates)` from residuals; see `crate::risk::specific`.
#[pyfunction]
#[pyo3(signature = (residuals, size, half_life, min_obs, shrinkage, n_groups, out, threads))]
#[allow(clippy::too_many_arguments)]
pub fn risk_specific(
    py: Python<'_>,
    residuals: PyReadonlyArrayDyn<'_, f64>,
    size: Option<PyReadonlyArrayDyn<'_, f64>>,
    half_life: f64,
    min_obs: usize,
    shrinkage: f64,
    n_groups: usize,
    mut out: PyReadwriteArrayDyn<'_, f64>,
    threads: usize,
) -> PyResult<()> {
    let err = |e: Error| to_pyerr(py, &e);
    let (n, t) = dims2("residuals", residuals.shape()).map_err(err)?;
    let r = input("residuals", &residuals).map_err(err)?;
    let s = optional("size", &size).map_err(err)?;
    let o = output("out", &mut out).map_err(err)?;
    let p = risk::SpecificParams {
        half_life,
        min_obs,
        shrinkage,
        n_groups,
    };
    compute(py, threads, n * t, move || {
        crate::pool::install(threads, move || risk::specific_risk(r, s, n, t, &p, o))?
    })
}

/// `risk_standardize` then `risk_regression` on the standardised block, fused (same results).
#[pyfunction]
#[pyo3(signature = (values, caps, universe, winsor, min_valid, orthogonalize, imputed, dropped, universe_count, returns, lead, first, weights, sqrt_shares, shares, industries, n_industries, factor_returns, tstats, stats, residuals, threads))]
#[allow(clippy::too_many_arguments)]
pub fn risk_standardize_regress<'py>(
    py: Python<'py>,
    mut values: PyReadwriteArrayDyn<'py, f64>,
    caps: Option<PyReadonlyArrayDyn<'py, f64>>,
    universe: Option<PyReadonlyArray2<'py, bool>>,
    winsor: f64,
    min_valid: usize,
    orthogonalize: Vec<(usize, Vec<usize>)>,
    mut imputed: PyReadwriteArrayDyn<'py, f64>,
    mut dropped: PyReadwriteArrayDyn<'py, f64>,
    mut universe_count: PyReadwriteArrayDyn<'py, f64>,
    returns: PyReadonlyArrayDyn<'py, f64>,
    lead: usize,
    first: usize,
    weights: Option<PyReadonlyArrayDyn<'py, f64>>,
    sqrt_shares: bool,
    shares: Option<PyReadonlyArrayDyn<'py, f64>>,
    industries: PyReadonlyArray1<'py, i64>,
    n_industries: usize,
    mut factor_returns: PyReadwriteArrayDyn<'py, f64>,
    mut tstats: PyReadwriteArrayDyn<'py, f64>,
    mut stats: PyReadwriteArrayDyn<'py, f64>,
    mut residuals: PyReadwriteArrayDyn<'py, f64>,
    threads: usize,
) -> PyResult<()> {
    let err = |e: Error| to_pyerr(py, &e);
    let st = Standardize::borrow(
        &mut values,
        &caps,
        &universe,
        [&mut imputed, &mut dropped, &mut universe_count],
        (winsor, min_valid, orthogonalize),
    )
    .map_err(err)?;
    let (k, n, t) = (st.k, st.n, st.t);
    // The styles come from the standardisation, block by block.
    let (inp, out) = regression(
        &[],
        k,
        &returns,
        lead,
        first,
        &weights,
        sqrt_shares,
        &shares,
        &industries,
        n_industries,
        [&mut factor_returns, &mut tstats, &mut stats, &mut residuals],
    )
    .map_err(err)?;
    compute(py, threads, (k + 1) * n * t, move || {
        crate::pool::install(threads, move || {
            risk::standardize_and_regress(
                st.values,
                st.caps,
                st.universe,
                k,
                n,
                t,
                &st.params,
                st.counts,
                &inp,
                out,
            )
        })?
    })
}
