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

use super::columns::{for_each_date_block, gather, gather_shared, SharedOut, DATE_BLOCK};
use super::linalg::Cholesky;
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

fn weighted_mean(x: &[f64], w: Option<&[f64]>, idx: &[usize]) -> f64 {
    if let Some(w) = w {
        let (mut sw, mut swx) = (0.0, 0.0);
        for &i in idx {
            let wi = w[i];
            if wi.is_finite() && wi > 0.0 {
                sw += wi;
                swx += wi * x[i];
            }
        }
        if sw > 0.0 {
            return swx / sw;
        }
    }
    idx.iter().map(|&i| x[i]).sum::<f64>() / idx.len() as f64
}

fn sample_sd(x: &[f64], idx: &[usize]) -> f64 {
    let n = idx.len() as f64;
    let m = idx.iter().map(|&i| x[i]).sum::<f64>() / n;
    let ss: f64 = idx.iter().map(|&i| (x[i] - m) * (x[i] - m)).sum();
    (ss / (n - 1.0)).sqrt()
}

/// z-scores `x` over `idx` in place (see the module docs); `winsor = 0` skips the clipping.
pub fn zscore(x: &mut [f64], w: Option<&[f64]>, idx: &[usize], winsor: f64) {
    if idx.len() < 2 {
        idx.iter().for_each(|&i| x[i] = 0.0);
        return;
    }
    let mut sd = sample_sd(x, idx);
    if winsor > 0.0 && winsor.is_finite() && sd > 0.0 {
        let mu = weighted_mean(x, w, idx);
        let (lo, hi) = (mu - winsor * sd, mu + winsor * sd);
        idx.iter().for_each(|&i| x[i] = x[i].clamp(lo, hi));
        sd = sample_sd(x, idx);
    }
    let mu = weighted_mean(x, w, idx);
    if sd.is_nan() || sd <= 0.0 || !sd.is_finite() {
        idx.iter().for_each(|&i| x[i] = 0.0);
        return;
    }
    idx.iter().for_each(|&i| x[i] = (x[i] - mu) / sd);
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
    if let Some((row, bar)) = values
        .chunks(t.max(1))
        .enumerate()
        .find_map(|(r, x)| crate::panel::first_infinite(x).map(|b| (r, b)))
    {
        return Err(Error::NonFinite {
            name: "exposures",
            asset: row % n.max(1),
            bar,
            value: values[row * t + bar],
        });
    }
    if cells == 0 || k == 0 {
        return Ok(());
    }
    let vals = SharedOut::new(values);
    let imp = SharedOut::new(counts.imputed);
    let drp = SharedOut::new(counts.dropped);
    let uni = SharedOut::new(counts.universe);
    let kn = k * n;
    for_each_date_block(
        t,
        || (vec![0.0; DATE_BLOCK * kn], vec![0.0; DATE_BLOCK * n]),
        |t0, b, (xb, cb)| {
            // SAFETY: this block reads and writes only its own columns t0..t0+b.
            unsafe { gather_shared(vals, kn, t, t0, b, xb) };
            if !caps.is_empty() {
                gather(caps, n, t, t0, b, cb);
            }
            for j in 0..b {
                let x = &mut xb[j * kn..(j + 1) * kn];
                let w = (!caps.is_empty()).then(|| &cb[j * n..(j + 1) * n]);
                let tt = t0 + j;
                let (nu, nd, imputed) = one_date(x, w, universe, n, t, tt, k, p);
                // SAFETY: column tt belongs to this block.
                unsafe {
                    uni.write(tt, nu as f64);
                    drp.write(tt, nd as f64);
                    for (s, c) in imputed.iter().enumerate() {
                        imp.write(s * t + tt, *c as f64);
                    }
                }
            }
            for r in 0..kn {
                for j in 0..b {
                    // SAFETY: column t0 + j belongs to this block.
                    unsafe { vals.write(r * t + t0 + j, xb[j * kn + r]) };
                }
            }
        },
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn one_date(
    x: &mut [f64],
    w: Option<&[f64]>,
    universe: &[bool],
    n: usize,
    t: usize,
    tt: usize,
    k: usize,
    p: &StandardizeParams,
) -> (usize, usize, Vec<usize>) {
    let mut kept = Vec::with_capacity(n);
    let (mut nu, mut nd) = (0, 0);
    for i in 0..n {
        let valid = (0..k).filter(|&s| x[s * n + i].is_finite()).count();
        let inside = if universe.is_empty() {
            valid > 0
        } else {
            universe[i * t + tt]
        };
        if inside {
            nu += 1;
        }
        if inside && valid >= p.min_valid {
            kept.push(i);
        } else {
            nd += usize::from(inside);
            (0..k).for_each(|s| x[s * n + i] = f64::NAN);
        }
    }
    let mut imputed = vec![0usize; k];
    let mut idx = Vec::with_capacity(kept.len());
    for (s, imp) in imputed.iter_mut().enumerate() {
        let col = &mut x[s * n..(s + 1) * n];
        idx.clear();
        idx.extend(kept.iter().copied().filter(|&i| col[i].is_finite()));
        zscore(col, w, &idx, p.winsor);
        for &i in &kept {
            if !col[i].is_finite() {
                col[i] = 0.0;
                *imp += 1;
            }
        }
    }
    for (target, regs) in &p.orthogonalize {
        orthogonalize(x, w, &kept, n, *target, regs);
    }
    (nu, nd, imputed)
}

/// Replaces style `target` by its residual on `regs` (with intercept) and z-scores it again.
fn orthogonalize(
    x: &mut [f64],
    w: Option<&[f64]>,
    kept: &[usize],
    n: usize,
    target: usize,
    regs: &[usize],
) {
    let m = regs.len() + 1;
    let mut a = vec![0.0; m * m];
    let mut rhs = vec![0.0; m];
    let mut row = vec![0.0; m];
    let weight = |i: usize| match w {
        Some(w) if w[i].is_finite() && w[i] > 0.0 => w[i],
        Some(_) => 0.0,
        None => 1.0,
    };
    let any_weight = kept.iter().any(|&i| weight(i) > 0.0);
    for &i in kept {
        let wi = if any_weight { weight(i) } else { 1.0 };
        row[0] = 1.0;
        for (c, &r) in regs.iter().enumerate() {
            row[c + 1] = x[r * n + i];
        }
        let y = x[target * n + i];
        for a_ in 0..m {
            rhs[a_] += wi * row[a_] * y;
            for b_ in 0..=a_ {
                a[a_ * m + b_] += wi * row[a_] * row[b_];
            }
        }
    }
    let chol = Cholesky::new(&a, m);
    chol.solve(&mut rhs);
    for &i in kept {
        let mut fit = rhs[0];
        for (c, &r) in regs.iter().enumerate() {
            fit += rhs[c + 1] * x[r * n + i];
        }
        x[target * n + i] -= fit;
    }
    zscore(&mut x[target * n..(target + 1) * n], w, kept, 0.0);
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
