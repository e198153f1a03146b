//! Python bindings (`ferroquant._core`). Thin: parse arguments, borrow arrays, call one `*_panel`
//! function through [`run::compute`]. All array coercion and allocation happens in Python
//! (`ferroquant/_array.py`), which passes C-contiguous float64 inputs and a `(k, n_assets, n_bars)`
//! output block.

mod arrays;
mod factors;
mod portfolio;
mod risk;
mod run;
mod stream;
mod unchecked;

use crate::convention::Convention;
use crate::error::Error;
use crate::oscillators::HlcOscillator;
use crate::panel::Output;
use crate::rolling::Stat;
use arrays::{In, OutBlock};
use numpy::{PyArray2, PyArray3, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use run::{compute, to_pyerr};

fn convention(py: Python<'_>, s: &str) -> PyResult<Convention> {
    Convention::parse(s).map_err(|e| to_pyerr(py, &e))
}

/// Runs a one-input kernel writing `K` outputs.
fn one_input<const K: usize>(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    out: &Bound<'_, PyAny>,
    threads: usize,
    kernel: impl FnOnce(&[f64], usize, usize, [Output<'_>; K]) -> Result<(), Error> + Send,
) -> PyResult<()> {
    let x = In::new(x);
    let (n_assets, n_bars) = x.shape();
    let cells = n_assets * n_bars;
    if cells == 0 {
        return Err(to_pyerr(py, &Error::Empty { name: "x" }));
    }
    let mut block = OutBlock::new(out)?;
    let data = x.slice("x").map_err(|e| to_pyerr(py, &e))?;
    let outs = block.split::<K>(cells).map_err(|e| to_pyerr(py, &e))?;
    compute(py, threads, cells, move || {
        kernel(data, n_assets, n_bars, outs)
    })
}

/// Runs a high/low/close kernel writing one output.
fn hlc_input(
    py: Python<'_>,
    hlc: [PyReadonlyArray2<'_, f64>; 3],
    out: &Bound<'_, PyAny>,
    threads: usize,
    kernel: impl FnOnce([&[f64]; 3], usize, usize, Output<'_>) -> Result<(), Error> + Send,
) -> PyResult<()> {
    let [h, l, c] = hlc.map(In::new);
    let (n_assets, n_bars) = c.shape();
    for (name, a) in [("high", &h), ("low", &l)] {
        if a.shape() != c.shape() {
            let e = Error::shape(
                name,
                format!("{:?} like close", c.shape()),
                format!("{:?}", a.shape()),
            );
            return Err(to_pyerr(py, &e));
        }
    }
    let cells = n_assets * n_bars;
    if cells == 0 {
        return Err(to_pyerr(py, &Error::Empty { name: "close" }));
    }
    let slices = [h.slice("high"), l.slice("low"), c.slice("close")];
    let mut data: [&[f64]; 3] = [&[]; 3];
    for (d, s) in data.iter_mut().zip(slices) {
        *d = s.map_err(|e| to_pyerr(py, &e))?;
    }
    let mut block = OutBlock::new(out)?;
    let [o] = block.split::<1>(cells).map_err(|e| to_pyerr(py, &e))?;
    compute(py, threads, cells, move || {
        kernel(data, n_assets, n_bars, o)
    })
}

#[pyfunction]
#[pyo3(signature = (x, window, min_periods, ddof, stat, out, threads))]
#[allow(clippy::too_many_arguments)]
fn rolling(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    window: usize,
    min_periods: usize,
    ddof: usize,
    stat: &str,
    out: &Bound<'_, PyAny>,
    threads: usize,
) -> PyResult<()> {
    let which = match stat {
        "sum" => Ok(Some(Stat::Sum)),
        "mean" => Ok(Some(Stat::Mean)),
        "var" => Ok(Some(Stat::Var)),
        "std" => Ok(Some(Stat::Std)),
        "min" | "max" => Ok(None),
        other => Err(Error::param(
            "stat",
            other,
            "one of sum, mean, var, std, min, max",
        )),
    }
    .map_err(|e| to_pyerr(py, &e))?;
    let want_max = stat == "max";
    one_input::<1>(py, x, out, threads, move |d, a, b, [o]| match which {
        Some(s) => crate::rolling::rolling_stat_panel(d, a, b, window, min_periods, ddof, s, o),
        None => crate::minmax::rolling_extreme_panel(d, a, b, window, min_periods, want_max, o),
    })
}

#[pyfunction]
#[pyo3(signature = (x, period, convention, out, threads))]
fn ema(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    period: usize,
    convention: &str,
    out: &Bound<'_, PyAny>,
    threads: usize,
) -> PyResult<()> {
    let conv = self::convention(py, convention)?;
    one_input::<1>(py, x, out, threads, move |d, a, b, [o]| {
        crate::ema::ema_panel(d, a, b, period, conv, o)
    })
}

#[pyfunction]
#[pyo3(signature = (x, period, min_periods, out, threads))]
fn wma(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    period: usize,
    min_periods: usize,
    out: &Bound<'_, PyAny>,
    threads: usize,
) -> PyResult<()> {
    one_input::<1>(py, x, out, threads, move |d, a, b, [o]| {
        crate::wma::wma_panel(d, a, b, period, min_periods, o)
    })
}

#[pyfunction]
#[pyo3(signature = (x, period, min_periods, convention, out, threads))]
#[allow(clippy::too_many_arguments)]
fn rsi(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    period: usize,
    min_periods: usize,
    convention: &str,
    out: &Bound<'_, PyAny>,
    threads: usize,
) -> PyResult<()> {
    let conv = self::convention(py, convention)?;
    one_input::<1>(py, x, out, threads, move |d, a, b, [o]| {
        crate::rsi::rsi_panel(d, a, b, period, min_periods, conv, o)
    })
}

#[pyfunction]
#[pyo3(signature = (x, period, k, ddof, min_periods, out, threads))]
#[allow(clippy::too_many_arguments)]
fn bollinger(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    period: usize,
    k: f64,
    ddof: usize,
    min_periods: usize,
    out: &Bound<'_, PyAny>,
    threads: usize,
) -> PyResult<()> {
    one_input::<3>(py, x, out, threads, move |d, a, b, o| {
        crate::bbands::bollinger_panel(d, a, b, period, k, ddof, min_periods, o)
    })
}

#[pyfunction]
#[pyo3(signature = (x, period, nbdev, ddof, out, threads))]
#[allow(clippy::too_many_arguments)]
fn stddev(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    period: usize,
    nbdev: f64,
    ddof: usize,
    out: &Bound<'_, PyAny>,
    threads: usize,
) -> PyResult<()> {
    one_input::<1>(py, x, out, threads, move |d, a, b, [o]| {
        crate::bbands::stddev_panel(d, a, b, period, nbdev, ddof, o)
    })
}

#[pyfunction]
#[pyo3(signature = (x, fast, slow, signal, convention, out, threads))]
#[allow(clippy::too_many_arguments)]
fn macd(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    fast: usize,
    slow: usize,
    signal: usize,
    convention: &str,
    out: &Bound<'_, PyAny>,
    threads: usize,
) -> PyResult<()> {
    let conv = self::convention(py, convention)?;
    one_input::<3>(py, x, out, threads, move |d, a, b, o| {
        crate::ema::macd_panel(d, a, b, fast, slow, signal, conv, o)
    })
}

#[pyfunction]
#[pyo3(signature = (high, low, close, convention, out, threads))]
#[allow(clippy::too_many_arguments)]
fn true_range(
    py: Python<'_>,
    high: PyReadonlyArray2<'_, f64>,
    low: PyReadonlyArray2<'_, f64>,
    close: PyReadonlyArray2<'_, f64>,
    convention: &str,
    out: &Bound<'_, PyAny>,
    threads: usize,
) -> PyResult<()> {
    let conv = self::convention(py, convention)?;
    hlc_input(
        py,
        [high, low, close],
        out,
        threads,
        move |[h, l, c], a, b, o| crate::range::true_range_panel(h, l, c, a, b, conv, o),
    )
}

#[pyfunction]
#[pyo3(signature = (high, low, close, period, convention, normalised, out, threads))]
#[allow(clippy::too_many_arguments)]
fn atr(
    py: Python<'_>,
    high: PyReadonlyArray2<'_, f64>,
    low: PyReadonlyArray2<'_, f64>,
    close: PyReadonlyArray2<'_, f64>,
    period: usize,
    convention: &str,
    normalised: bool,
    out: &Bound<'_, PyAny>,
    threads: usize,
) -> PyResult<()> {
    let conv = self::convention(py, convention)?;
    hlc_input(
        py,
        [high, low, close],
        out,
        threads,
        move |[h, l, c], a, b, o| {
            crate::range::atr_panel(h, l, c, a, b, period, conv, normalised, o)
        },
    )
}

#[pyfunction]
#[pyo3(signature = (name, high, low, close, periods, convention, out, threads))]
#[allow(clippy::too_many_arguments)]
fn oscillator(
    py: Python<'_>,
    name: &str,
    high: PyReadonlyArray2<'_, f64>,
    low: PyReadonlyArray2<'_, f64>,
    close: PyReadonlyArray2<'_, f64>,
    periods: Vec<usize>,
    convention: &str,
    out: &Bound<'_, PyAny>,
    threads: usize,
) -> PyResult<()> {
    let conv = self::convention(py, convention)?;
    let which = match (name, periods.as_slice()) {
        ("cci", [p]) => Ok(HlcOscillator::Cci(*p)),
        ("willr", [p]) => Ok(HlcOscillator::Willr(*p)),
        ("ultosc", [a, b, c]) => Ok(HlcOscillator::Ultosc([*a, *b, *c])),
        _ => Err(Error::param(
            "name",
            format!("{name:?} with {} periods", periods.len()),
            "cci or willr with one period, ultosc with three",
        )),
    }
    .map_err(|e| to_pyerr(py, &e))?;
    hlc_input(
        py,
        [high, low, close],
        out,
        threads,
        move |[h, l, c], a, b, o| {
            crate::oscillators::oscillator_panel(which, h, l, c, a, b, conv, o)
        },
    )
}

#[pyfunction]
#[pyo3(signature = (x, periods, log, out, threads))]
fn returns(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    periods: usize,
    log: bool,
    out: &Bound<'_, PyAny>,
    threads: usize,
) -> PyResult<()> {
    one_input::<1>(py, x, out, threads, move |d, a, b, [o]| {
        crate::returns::returns_panel(d, a, b, periods, log, o)
    })
}

#[pyfunction]
#[pyo3(signature = (x, out, threads))]
fn scan(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    out: &Bound<'_, PyAny>,
    threads: usize,
) -> PyResult<()> {
    one_input::<3>(py, x, out, threads, crate::returns::scan_panel)
}

#[pyfunction]
#[pyo3(signature = (x, out, threads))]
fn standard(
    py: Python<'_>,
    x: &Bound<'_, PyArray2<f64>>,
    out: &Bound<'_, PyAny>,
    threads: usize,
) -> PyResult<()> {
    const K: usize = crate::standard::OUTPUTS;
    let kernel = crate::standard::standard_panel;
    if let Some(done) = unchecked::one_input::<K, _>(py, x, out, kernel) {
        return done;
    }
    one_input::<K>(py, x.try_readonly()?, out, threads, kernel)
}

/// `standard` into the block of a previous call (`out`), for an input shaped as that call's:
/// exactly a float64 ndarray, C-contiguous, of `out.shape[1:]` (`two_d`) or `(out.shape[2],)`.
/// False (nothing run) where the input or the block needs the general path.
#[pyfunction]
#[pyo3(signature = (x, out, two_d))]
fn standard_into(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    out: &Bound<'_, PyAny>,
    two_d: bool,
) -> PyResult<bool> {
    const K: usize = crate::standard::OUTPUTS;
    let (Some(x), Ok(block)) = (unchecked::small(x), out.cast::<PyArray3<f64>>()) else {
        return Ok(false);
    };
    let s = block.shape();
    if x.shape != (s[1], s[2], two_d) {
        return Ok(false);
    }
    let kernel = crate::standard::standard_panel;
    match unchecked::run_small::<K, _, _>(py, &x, block, kernel) {
        Some(done) => done.map(|()| true),
        None => Ok(false),
    }
}

/// `standard` into a fresh `(6, *x.shape)` block, returned as its six rows, for exactly a float64
/// ndarray of one or two dimensions, C-contiguous and small enough to compute inline; None
/// (nothing run) otherwise.
#[pyfunction]
#[pyo3(signature = (x,))]
fn standard_new<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, pyo3::types::PyTuple>>> {
    const K: usize = crate::standard::OUTPUTS;
    let Some(x) = unchecked::small(x) else {
        return Ok(None);
    };
    let kernel = crate::standard::standard_panel;
    unchecked::into_new_rows::<K, _>(py, &x, kernel).transpose()
}

/// Size of the pool used for `threads` (0 = the default pool, sized by FERROQUANT_MAX_THREADS).
#[pyfunction]
#[pyo3(signature = (threads = 0))]
fn thread_pool_size(threads: usize) -> usize {
    crate::pool::resolve(threads)
}

/// Forgets the parent's pools and crews in a forked child (registered with `os.register_at_fork`).
#[pyfunction]
fn _after_fork_in_child() {
    crate::pool::forget_after_fork();
    crate::crew::forget_after_fork();
}

/// Compile-time facts about this build.
#[pyfunction]
fn build_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("version", env!("CARGO_PKG_VERSION"))?;
    d.set_item(
        "profile",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    )?;
    d.set_item("target_arch", std::env::consts::ARCH)?;
    d.set_item("target_os", std::env::consts::OS)?;
    d.set_item("pyo3", "0.30")?;
    d.set_item("default_threads", crate::pool::default_size())?;
    Ok(d)
}

/// Every error kind the core can raise, for the test that checks each maps to its class.
#[pyfunction]
fn _error_kinds() -> Vec<&'static str> {
    sample_errors().iter().map(|e| e.kind()).collect()
}

/// Raises the sample error of `kind` (or panics for `"panic"`) through the normal error path.
#[pyfunction]
fn _raise(py: Python<'_>, kind: &str) -> PyResult<()> {
    let kind = kind.to_owned();
    compute(py, 0, 0, move || {
        if kind == "panic" {
            panic!("deliberate panic for the test suite");
        }
        match sample_errors().into_iter().find(|e| e.kind() == kind) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    })
}

fn sample_errors() -> Vec<Error> {
    vec![
        Error::param("period", 0, "an integer >= 1"),
        Error::Checkpoint {
            reason: "checksum mismatch".into(),
        },
        Error::shape("high", "(2, 3) like close", "(2, 4)"),
        Error::NonFinite {
            name: "close",
            asset: 1,
            bar: 2,
            value: f64::INFINITY,
        },
        Error::Empty { name: "close" },
        Error::ThreadPool {
            reason: "sample".into(),
        },
        Error::Internal {
            reason: "sample".into(),
        },
    ]
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(rolling, m)?)?;
    m.add_function(wrap_pyfunction!(ema, m)?)?;
    m.add_function(wrap_pyfunction!(wma, m)?)?;
    m.add_function(wrap_pyfunction!(factors::forward_returns, m)?)?;
    m.add_function(wrap_pyfunction!(factors::factor_analytics_core, m)?)?;
    m.add_function(wrap_pyfunction!(portfolio::qp_solve, m)?)?;
    m.add_function(wrap_pyfunction!(risk::risk_descriptors, m)?)?;
    m.add_function(wrap_pyfunction!(risk::risk_standardize, m)?)?;
    m.add_function(wrap_pyfunction!(risk::risk_regression, m)?)?;
    m.add_function(wrap_pyfunction!(risk::risk_standardize_regress, m)?)?;
    m.add_function(wrap_pyfunction!(risk::risk_covariance, m)?)?;
    m.add_function(wrap_pyfunction!(risk::risk_eigen_adjust, m)?)?;
    m.add_function(wrap_pyfunction!(risk::risk_specific, m)?)?;
    m.add_function(wrap_pyfunction!(rsi, m)?)?;
    m.add_function(wrap_pyfunction!(bollinger, m)?)?;
    m.add_function(wrap_pyfunction!(stddev, m)?)?;
    m.add_function(wrap_pyfunction!(macd, m)?)?;
    m.add_function(wrap_pyfunction!(true_range, m)?)?;
    m.add_function(wrap_pyfunction!(atr, m)?)?;
    m.add_function(wrap_pyfunction!(oscillator, m)?)?;
    m.add_function(wrap_pyfunction!(returns, m)?)?;
    m.add_function(wrap_pyfunction!(scan, m)?)?;
    m.add_function(wrap_pyfunction!(standard, m)?)?;
    m.add_function(wrap_pyfunction!(standard_into, m)?)?;
    m.add_function(wrap_pyfunction!(standard_new, m)?)?;
    m.add_function(wrap_pyfunction!(thread_pool_size, m)?)?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(build_info, m)?)?;
    m.add_function(wrap_pyfunction!(_error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(_raise, m)?)?;
    m.add_class::<stream::StreamCore>()?;
    Ok(())
}
