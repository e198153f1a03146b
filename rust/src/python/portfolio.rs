//! Binding of the structured QP solver (`crate::portfolio`). `ferroquant.portfolio._qp` builds
//! the flat arrays; this layer only borrows them and hands back the primal-dual solution.

use super::run::{compute_serial, to_pyerr};
use crate::error::Error;
use crate::portfolio::{solve, Qp, Settings, Start};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

type QpOutput<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    u8,
    usize,
    (f64, f64, f64),
    Option<[Bound<'py, PyArray1<f64>>; 4]>,
);

fn slice<'a>(name: &'static str, a: &'a PyReadonlyArray1<'_, f64>) -> Result<&'a [f64], Error> {
    a.as_slice()
        .map_err(|_| Error::shape(name, "a contiguous float64 array", "a strided view"))
}

/// Solves one structured QP; returns `(z, y, lam_rows, lam_local, status, iterations,
/// (primal, dual, gap), sensitivity)` with `status` 0 optimal, 1 iteration limit, 2 infeasible,
/// 3 numerical, and with `sensitivity=(a, hd_fixed)` the derivatives `[dz, dy, dlam_rows,
/// dlam_local]` in `a` where the Hessian is `a·H₁ + diag(hd_fixed)`.
#[pyfunction]
#[pyo3(signature = (dims, hd, v, q, la, lb, ae, be, ag, hg, tol, max_iter, start=None, duals=None, warm_mu=0.0, sensitivity=None))]
#[allow(clippy::too_many_arguments)]
pub fn qp_solve<'py>(
    py: Python<'py>,
    dims: (usize, usize, usize, usize),
    hd: PyReadonlyArray1<'py, f64>,
    v: PyReadonlyArray1<'py, f64>,
    q: PyReadonlyArray1<'py, f64>,
    la: PyReadonlyArray1<'py, f64>,
    lb: PyReadonlyArray1<'py, f64>,
    ae: PyReadonlyArray1<'py, f64>,
    be: PyReadonlyArray1<'py, f64>,
    ag: PyReadonlyArray1<'py, f64>,
    hg: PyReadonlyArray1<'py, f64>,
    tol: f64,
    max_iter: usize,
    start: Option<PyReadonlyArray1<'py, f64>>,
    duals: Option<(
        PyReadonlyArray1<'py, f64>,
        PyReadonlyArray1<'py, f64>,
        PyReadonlyArray1<'py, f64>,
    )>,
    warm_mu: f64,
    sensitivity: Option<(f64, PyReadonlyArray1<'py, f64>)>,
) -> PyResult<QpOutput<'py>> {
    let (n, p, k, r) = dims;
    let err = |e: Error| to_pyerr(py, &e);
    let qp = Qp {
        n,
        p,
        k,
        r,
        hd: slice("hd", &hd).map_err(err)?,
        v: slice("v", &v).map_err(err)?,
        q: slice("q", &q).map_err(err)?,
        la: slice("la", &la).map_err(err)?,
        lb: slice("lb", &lb).map_err(err)?,
        ae: slice("ae", &ae).map_err(err)?,
        be: slice("be", &be).map_err(err)?,
        ag: slice("ag", &ag).map_err(err)?,
        hg: slice("hg", &hg).map_err(err)?,
    };
    let warm = match &duals {
        Some((y, lg, ll)) => Some((
            slice("y", y).map_err(err)?,
            slice("lam_rows", lg).map_err(err)?,
            slice("lam_local", ll).map_err(err)?,
        )),
        None => None,
    };
    let z0 = match &start {
        Some(s) => Some(Start {
            z: slice("start", s).map_err(err)?,
            duals: warm,
            mu: warm_mu.max(0.0),
        }),
        None => None,
    };
    if !(tol.is_finite() && tol > 0.0) {
        return Err(err(Error::param(
            "tol",
            tol,
            "a positive tolerance such as 1e-10",
        )));
    }
    let settings = Settings { tol, max_iter };
    let sens = match &sensitivity {
        Some((a, fixed)) => Some((*a, slice("hd_fixed", fixed).map_err(err)?)),
        None => None,
    };
    // One thread by design: the solve is a chain of small dependent factorisations.
    let sol = compute_serial(py, n * p * (k + 8), move || {
        solve(&qp, settings, z0.as_ref(), sens)
    })?;
    Ok((
        sol.z.into_pyarray(py),
        sol.y.into_pyarray(py),
        sol.lam_rows.into_pyarray(py),
        sol.lam_local.into_pyarray(py),
        sol.status as u8,
        sol.iterations,
        (sol.primal_residual, sol.dual_residual, sol.gap),
        sol.sensitivity.map(|d| d.map(|v| v.into_pyarray(py))),
    ))
}
