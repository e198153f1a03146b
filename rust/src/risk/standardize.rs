//! Per-date standardisation of style exposures, in place on a `(k, n_assets, n_dates)` block.
//!
//! For each date: the universe is the assets flagged in `universe` (or, without a mask, those with
//! at least one finite raw exposure). A universe asset with fewer than `min_valid` finite styles is
//! *dropped* for the date (all styles NaN, counted). For each style, over the kept assets with a
//! finite value: `mu` = mean weighted by `caps` (equal weights without caps, or where no kept asset
//! has a positive cap), `sd` = equal-weighted sample standard deviation (ddof 1); values are
//! clipped to `mu +- winsor * sd`, `mu` and `sd` recomputed, and `z = (x - mu) / sd`. Fewer than two
//! values or `sd = 0` (a constant exposure) give `z = 0`. A missing style of a kept asset is then
//! *imputed* as 0, the (cap-weighted) market mean, and counted. Finally each orthogonalisation
//! `(target, regressors)` replaces the target by its residual from a `caps`-weighted regression with
//! intercept on the regressors over the kept assets, z-scored again (no winsorising). Assets outside
//! the universe are NaN.

use super::columns::{for_each_date_block, SharedOut};
use super::wls::{regress_block, RegressionInputs, RegressionOutputs, SharedOutputs};
use super::wrows::RegScratch;
use super::zrows::{RowCounts, RowScratch, Rows, LANES};
use crate::error::{Error, Result};

/// Options of [`standardize_exposures`].
#[derive(Clone, Debug)]
pub struct StandardizeParams {
    /// Clip at `mu +- winsor * sd` (0 or infinity: no clipping).
    pub winsor: f64,
    /// Fewest finite styles a universe asset needs to be kept on a date (>= 1).
    pub min_valid: usize,
    /// `(target, regressors)` style indices, applied in order.
    pub orthogonalize: Vec<(usize, Vec<usize>)>,
}

/// Counts per date of what was not taken as given.
pub struct Counts<'a> {
    /// `(k, n_dates)`: missing values imputed per style.
    pub imputed: &'a mut [f64],
    /// `(n_dates,)`: universe assets dropped for too few styles.
    pub dropped: &'a mut [f64],
    /// `(n_dates,)`: universe size.
    pub universe: &'a mut [f64],
}

/// Standardises `values` (`k * n * t`, style-major) in place; see the module docs.
#[allow(clippy::too_many_arguments)]
pub fn standardize_exposures(
    values: &mut [f64],
    caps: &[f64],
    universe: &[bool],
    k: usize,
    n: usize,
    t: usize,
    p: &StandardizeParams,
    counts: Counts<'_>,
) -> Result<()> {
    standardize_then(values, caps, universe, k, n, t, p, counts, None)
}

/// [`standardize_exposures`], then the factor regression of every date on the standardised
/// exposures while they are still in cache (the exposures of `reg` are ignored). Results equal
/// those of the two calls in a row, bit for bit.
#[allow(clippy::too_many_arguments)]
pub fn standardize_and_regress(
    values: &mut [f64],
    caps: &[f64],
    universe: &[bool],
    k: usize,
    n: usize,
    t: usize,
    p: &StandardizeParams,
    counts: Counts<'_>,
    reg: &RegressionInputs<'_>,
    out: RegressionOutputs<'_>,
) -> Result<()> {
    if reg.k != k || reg.n != n || reg.t != t {
        return Err(Error::shape(
            "returns",
            format!("({n}, {t}) like the exposures"),
            format!("({}, {})", reg.n, reg.t),
        ));
    }
    let outs = SharedOutputs::new(reg, out, false)?;
    standardize_then(
        values,
        caps,
        universe,
        k,
        n,
        t,
        p,
        counts,
        Some((reg, outs)),
    )
}

#[allow(clippy::too_many_arguments)]
fn standardize_then(
    values: &mut [f64],
    caps: &[f64],
    universe: &[bool],
    k: usize,
    n: usize,
    t: usize,
    p: &StandardizeParams,
    counts: Counts<'_>,
    reg: Option<(&RegressionInputs<'_>, SharedOutputs)>,
) -> Result<()> {
    let cells = n * t;
    if values.len() != k * cells {
        return Err(Error::shape(
            "exposures",
            format!("({k}, {n}, {t})"),
            format!("{} cells", values.len()),
        ));
    }
    if !caps.is_empty() && caps.len() != cells {
        return Err(Error::shape(
            "caps",
            format!("({n}, {t})"),
            format!("{} cells", caps.len()),
        ));
    }
    if !universe.is_empty() && universe.len() != cells {
        return Err(Error::shape(
            "universe",
            format!("({n}, {t})"),
            format!("{} cells", universe.len()),
        ));
    }
    if counts.imputed.len() != k * t || counts.dropped.len() != t || counts.universe.len() != t {
        return Err(Error::shape(
            "counts",
            format!("({k}, {t}) and ({t},)"),
            "other sizes",
        ));
    }
    crate::error::check_at_least("min_valid", p.min_valid, 1)?;
    if p.winsor.is_nan() || p.winsor < 0.0 {
        return Err(Error::param(
            "winsor",
            p.winsor,
            "a number >= 0 (0 = no clipping)",
        ));
    }
    for (target, regs) in &p.orthogonalize {
        if *target >= k || regs.iter().any(|r| *r >= k || r == target) {
            return Err(Error::param(
                "orthogonalize",
                format!("({target}, {regs:?})"),
                format!("style indices below {k}, the target not among its regressors"),
            ));
        }
    }
    super::check_finite("exposures", values, n, t)?;
    if cells == 0 || k == 0 {
        return Ok(());
    }
    let ctx = Ctx {
        vals: SharedOut::new(values),
        caps,
        universe,
        k,
        n,
        t,
        p,
        imp: SharedOut::new(counts.imputed),
        drp: SharedOut::new(counts.dropped),
        uni: SharedOut::new(counts.universe),
        reg,
    };
    for_each_date_block(
        t,
        LANES,
        || BlockScratch {
            copy: Vec::new(),
            rows: RowScratch::default(),
            reg: RegScratch::default(),
        },
        // SAFETY: a block reads and writes only its own columns t0..t0+b.
        |t0, b, sc| unsafe { ctx.block(t0, b, sc) },
    );
    Ok(())
}

/// What every block of dates shares.
struct Ctx<'a> {
    vals: SharedOut,
    caps: &'a [f64],
    universe: &'a [bool],
    k: usize,
    n: usize,
    t: usize,
    p: &'a StandardizeParams,
    imp: SharedOut,
    drp: SharedOut,
    uni: SharedOut,
    reg: Option<(&'a RegressionInputs<'a>, SharedOutputs)>,
}

/// A worker's buffers.
struct BlockScratch {
    copy: Vec<f64>,
    rows: RowScratch,
    reg: RegScratch,
}

impl Ctx<'_> {
    /// Standardises (and regresses) dates `t0..t0 + b`, compiled for AVX2 where the CPU has it.
    /// Both copies are the same code: lanes do the same operations in the same order (Rust never
    /// fuses a multiply and an add), so the results do not depend on the CPU.
    ///
    /// # Safety
    /// Columns `t0..t0 + b` must belong to the caller.
    unsafe fn block(&self, t0: usize, b: usize, sc: &mut BlockScratch) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2; the columns are the caller's.
            return unsafe { self.block_avx2(t0, b, sc) };
        }
        unsafe { self.block_portable(t0, b, sc) }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn block_avx2(&self, t0: usize, b: usize, sc: &mut BlockScratch) {
        unsafe { self.block_portable(t0, b, sc) }
    }

    #[inline(always)]
    unsafe fn block_portable(&self, t0: usize, b: usize, sc: &mut BlockScratch) {
        let (k, n, t) = (self.k, self.n, self.t);
        if sc.copy.len() < k * n * LANES {
            sc.copy.resize(k * n * LANES, 0.0);
        }
        let buf = SharedOut::new(&mut sc.copy);
        let rows = |t0| Rows {
            vals: self.vals,
            buf,
            caps: self.caps,
            universe: self.universe,
            k,
            n,
            t,
            t0,
        };
        if b == LANES {
            // SAFETY: columns t0..t0+b belong to this block.
            let c = unsafe { rows(t0).standardize::<LANES>(self.p, &mut sc.rows) };
            unsafe { self.counts(t0, &c) };
        } else {
            // A short last block, one date at a time: the same bits as in lanes.
            for tt in t0..t0 + b {
                // SAFETY: column tt belongs to this block.
                let c = unsafe { rows(tt).standardize::<1>(self.p, &mut sc.rows) };
                unsafe { self.counts(tt, &c) };
            }
        }
        if let Some((inp, outs)) = self.reg {
            // The block's standardised styles are still in cache, in the worker's contiguous copy
            // (a full block). SAFETY: columns t0..t0+b belong to this block.
            let copy = (b == LANES).then_some(buf);
            unsafe { regress_block(inp, outs, self.vals, copy, t0, b, &mut sc.reg) };
        }
    }

    /// Writes the counts of dates `t0..t0 + L`.
    ///
    /// # Safety
    /// The columns must belong to the caller.
    #[inline(always)]
    unsafe fn counts<const L: usize>(&self, t0: usize, c: &RowCounts<L>) {
        for l in 0..L {
            let tt = t0 + l;
            unsafe {
                self.uni.write(tt, c.universe[l] as f64);
                self.drp.write(tt, c.dropped[l] as f64);
                for (s, imp) in c.imputed.iter().enumerate() {
                    self.imp.write(s * self.t + tt, imp[l] as f64);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zscores_winsorises_imputes_and_drops() {
        // 1 date, 2 styles, 5 assets: asset 4 has no style (dropped unless outside the universe),
        // asset 3 misses style 1 (imputed 0).
        let nan = f64::NAN;
        let mut v = vec![1.0, 2.0, 3.0, 4.0, nan, 5.0, 1.0, 3.0, nan, nan];
        let uni = vec![true; 5];
        let (mut imp, mut drp, mut nu) = (vec![0.0; 2], vec![0.0], vec![0.0]);
        let p = StandardizeParams {
            winsor: 3.0,
            min_valid: 1,
            orthogonalize: vec![],
        };
        let c = Counts {
            imputed: &mut imp,
            dropped: &mut drp,
            universe: &mut nu,
        };
        standardize_exposures(&mut v, &[], &uni, 2, 5, 1, &p, c).unwrap();
        assert_eq!((imp, drp, nu), (vec![0.0, 1.0], vec![1.0], vec![5.0]));
        let s: f64 = v[0..4].iter().sum();
        assert!(s.abs() < 1e-12 && v[4].is_nan() && v[8] == 0.0);
    }
}
