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

use super::columns::{for_each_date_block, gather, gather_shared, scatter, SharedOut, DATE_BLOCK};
use super::linalg::{dot, sum, Cholesky};
use super::wls::{regress_block, RegressionInputs, RegressionOutputs, Scratch, SharedOutputs};
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

/// One pass over `v` (and its weights `w`): plain sum, weight sum, weighted sum, min and max, in
/// four interleaved lanes (vectorised; fixed order).
fn moments(v: &[f64], w: Option<&[f64]>) -> (f64, f64, f64, f64, f64) {
    let mut s = [0.0; 4];
    let mut sw = [0.0; 4];
    let mut swv = [0.0; 4];
    let mut mn = [f64::INFINITY; 4];
    let mut mx = [f64::NEG_INFINITY; 4];
    let n4 = v.len() / 4 * 4;
    for c in (0..n4).step_by(4) {
        for l in 0..4 {
            let x = v[c + l];
            s[l] += x;
            mn[l] = mn[l].min(x);
            mx[l] = mx[l].max(x);
            if let Some(w) = w {
                sw[l] += w[c + l];
                swv[l] += w[c + l] * x;
            }
        }
    }
    for (c, &x) in v.iter().enumerate().skip(n4) {
        s[0] += x;
        mn[0] = mn[0].min(x);
        mx[0] = mx[0].max(x);
        if let Some(w) = w {
            sw[0] += w[c];
            swv[0] += w[c] * x;
        }
    }
    let add = |a: [f64; 4]| (a[0] + a[1]) + (a[2] + a[3]);
    let fold = |a: [f64; 4], f: fn(f64, f64) -> f64| f(f(a[0], a[1]), f(a[2], a[3]));
    (
        add(s),
        add(sw),
        add(swv),
        fold(mn, f64::min),
        fold(mx, f64::max),
    )
}

/// `sum (v - m)^2` in four interleaved lanes.
fn squares(v: &[f64], m: f64) -> f64 {
    let mut acc = [0.0; 4];
    let chunks = v.chunks_exact(4);
    let mut tail = 0.0;
    for x in chunks.remainder() {
        tail += (x - m) * (x - m);
    }
    for x in chunks {
        for l in 0..4 {
            let d = x[l] - m;
            acc[l] += d * d;
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Weighted mean (plain mean when no weight is positive) and sample standard deviation of `v`.
fn mean_sd(v: &[f64], w: Option<&[f64]>) -> (f64, f64, f64, f64) {
    let n = v.len() as f64;
    let (s, sw, swv, mn, mx) = moments(v, w);
    let mean = s / n;
    let mu = if sw > 0.0 { swv / sw } else { mean };
    let sd = (squares(v, mean) / (n - 1.0)).sqrt();
    (mu, sd, mn, mx)
}

/// z-scores the contiguous values `v` in place (see the module docs); `w` are their weights, 0
/// where unusable; `winsor = 0` skips the clipping.
pub fn zscore(v: &mut [f64], w: Option<&[f64]>, winsor: f64) {
    if v.len() < 2 {
        v.iter_mut().for_each(|x| *x = 0.0);
        return;
    }
    let (mut mu, mut sd, mn, mx) = mean_sd(v, w);
    if winsor > 0.0 && winsor.is_finite() && sd > 0.0 {
        let (lo, hi) = (mu - winsor * sd, mu + winsor * sd);
        if mn < lo || mx > hi {
            v.iter_mut().for_each(|x| *x = x.clamp(lo, hi));
            (mu, sd, _, _) = mean_sd(v, w);
        }
    }
    if sd.is_nan() || sd <= 0.0 || !sd.is_finite() {
        v.iter_mut().for_each(|x| *x = 0.0);
        return;
    }
    v.iter_mut().for_each(|x| *x = (*x - mu) / sd);
}

/// Moments of the finite values of `x` (NaN = not used), in four interleaved lanes, branch-free
/// (vectorised): count, sum, weight sum, weighted sum, min, max.
fn column_moments(x: &[f64], w: Option<&[f64]>) -> [f64; 6] {
    let mut cnt = [0.0f64; 4];
    let mut sum = [0.0f64; 4];
    let mut sw = [0.0f64; 4];
    let mut swv = [0.0f64; 4];
    let mut mn = [f64::INFINITY; 4];
    let mut mx = [f64::NEG_INFINITY; 4];
    let zeros = [0.0f64; 4];
    let xs = x.chunks_exact(4);
    let tail = xs.remainder();
    let mut ws = w.map(|w| w.chunks_exact(4));
    for c in xs {
        let wc = ws.as_mut().and_then(|it| it.next()).unwrap_or(&zeros);
        for l in 0..4 {
            let v = c[l];
            let ok = v.is_finite();
            let xm = if ok { v } else { 0.0 };
            let wm = if ok { wc[l] } else { 0.0 };
            cnt[l] += if ok { 1.0 } else { 0.0 };
            sum[l] += xm;
            sw[l] += wm;
            swv[l] += wm * xm;
            mn[l] = mn[l].min(if ok { v } else { f64::INFINITY });
            mx[l] = mx[l].max(if ok { v } else { f64::NEG_INFINITY });
        }
    }
    let n4 = x.len() - tail.len();
    for (j, &v) in tail.iter().enumerate() {
        if v.is_finite() {
            let wm = w.map_or(0.0, |w| w[n4 + j]);
            cnt[0] += 1.0;
            sum[0] += v;
            sw[0] += wm;
            swv[0] += wm * v;
            mn[0] = mn[0].min(v);
            mx[0] = mx[0].max(v);
        }
    }
    let add = |a: [f64; 4]| (a[0] + a[1]) + (a[2] + a[3]);
    [
        add(cnt),
        add(sum),
        add(sw),
        add(swv),
        mn[0].min(mn[1]).min(mn[2].min(mn[3])),
        mx[0].max(mx[1]).max(mx[2].max(mx[3])),
    ]
}

/// `sum (x - m)^2` over the finite values of `x`, four lanes, branch-free.
fn column_squares(x: &[f64], m: f64) -> f64 {
    let mut acc = [0.0; 4];
    let sq = |v: f64| {
        let d = if v.is_finite() { v - m } else { 0.0 };
        d * d
    };
    let xs = x.chunks_exact(4);
    let tail: f64 = xs.remainder().iter().map(|&v| sq(v)).sum();
    for c in xs {
        for l in 0..4 {
            acc[l] += sq(c[l]);
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Weighted mean, sample sd, min, max and count of the finite values of `x`.
fn column_stats(x: &[f64], w: Option<&[f64]>) -> (f64, f64, f64, f64, usize) {
    let [cnt, s, sw, swv, mn, mx] = column_moments(x, w);
    let mean = s / cnt;
    let mu = if sw > 0.0 { swv / sw } else { mean };
    let sd = (column_squares(x, mean) / (cnt - 1.0)).sqrt();
    (mu, sd, mn, mx, cnt as usize)
}

/// [`zscore`] of the finite values of a whole column in place (NaN entries untouched), without
/// compacting it; `w` are usable weights for every entry. Returns how many values it used.
pub fn zscore_column(x: &mut [f64], w: Option<&[f64]>, winsor: f64) -> usize {
    let (mut mu, mut sd, mn, mx, cnt) = column_stats(x, w);
    if cnt < 2 {
        x.iter_mut()
            .filter(|v| v.is_finite())
            .for_each(|v| *v = 0.0);
        return cnt;
    }
    if winsor > 0.0 && winsor.is_finite() && sd > 0.0 {
        let (lo, hi) = (mu - winsor * sd, mu + winsor * sd);
        if mn < lo || mx > hi {
            // clamp keeps NaN as NaN
            x.iter_mut().for_each(|v| *v = v.clamp(lo, hi));
            (mu, sd, _, _, _) = column_stats(x, w);
        }
    }
    if sd.is_nan() || sd <= 0.0 || !sd.is_finite() {
        x.iter_mut()
            .filter(|v| v.is_finite())
            .for_each(|v| *v = 0.0);
        return cnt;
    }
    x.iter_mut().for_each(|v| *v = (*v - mu) / sd);
    cnt
}

/// Per-worker buffers.
#[derive(Default)]
struct Work {
    count: Vec<u32>,
    kept: Vec<usize>,
    w: Vec<f64>,
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
    let vals = SharedOut::new(values);
    let imp = SharedOut::new(counts.imputed);
    let drp = SharedOut::new(counts.dropped);
    let uni = SharedOut::new(counts.universe);
    let kn = k * n;
    for_each_date_block(
        t,
        || {
            let rs = reg.map(|_| Scratch::new(n, k, false));
            (
                vec![0.0; DATE_BLOCK * kn],
                vec![0.0; DATE_BLOCK * n],
                Work::default(),
                rs,
            )
        },
        |t0, b, (xb, cb, work, rs)| {
            // SAFETY: this block reads and writes only its own columns t0..t0+b.
            unsafe { gather_shared(vals, kn, t, t0, b, xb) };
            if !caps.is_empty() {
                gather(caps, n, t, t0, b, cb);
            }
            for j in 0..b {
                let x = &mut xb[j * kn..(j + 1) * kn];
                let w = (!caps.is_empty()).then(|| &cb[j * n..(j + 1) * n]);
                let tt = t0 + j;
                let uni_col = |i: usize| universe[i * t + tt];
                let mask: Option<&dyn Fn(usize) -> bool> =
                    (!universe.is_empty()).then_some(&uni_col);
                let (nu, nd) = one_date(x, w, mask, n, k, p, work, |s, c| {
                    // SAFETY: column tt belongs to this block.
                    unsafe { imp.write(s * t + tt, c as f64) }
                });
                // SAFETY: column tt belongs to this block.
                unsafe {
                    uni.write(tt, nu as f64);
                    drp.write(tt, nd as f64);
                }
            }
            // SAFETY: columns t0..t0+b belong to this block.
            unsafe { scatter(xb, kn, t, t0, b, vals) };
            if let (Some((inp, outs)), Some(rs)) = (reg, rs.as_mut()) {
                // SAFETY: columns t0..t0+b belong to this block.
                unsafe { regress_block(inp, outs, t0, b, xb, rs) };
            }
        },
    );
    Ok(())
}

/// Standardises one date `x` (`[style][asset]`); returns the universe size and the assets dropped,
/// and reports the imputed count of each style through `imputed(style, count)`.
#[allow(clippy::too_many_arguments)]
fn one_date(
    x: &mut [f64],
    caps: Option<&[f64]>,
    universe: Option<&dyn Fn(usize) -> bool>,
    n: usize,
    k: usize,
    p: &StandardizeParams,
    work: &mut Work,
    mut imputed: impl FnMut(usize, usize),
) -> (usize, usize) {
    work.count.clear();
    work.count.resize(n, 0);
    for s in 0..k {
        for (c, v) in work.count.iter_mut().zip(&x[s * n..(s + 1) * n]) {
            *c += u32::from(v.is_finite());
        }
    }
    work.kept.clear();
    let (mut nu, mut nd) = (0, 0);
    for i in 0..n {
        let valid = work.count[i] as usize;
        let inside = match universe {
            Some(u) => u(i),
            None => valid > 0,
        };
        nu += usize::from(inside);
        if inside && valid >= p.min_valid {
            work.kept.push(i);
        } else {
            nd += usize::from(inside);
            (0..k).for_each(|s| x[s * n + i] = f64::NAN);
        }
    }
    // Usable cap weights once per date; assets outside `kept` are NaN in every style by now, so
    // "finite" alone marks the values each style's statistics use.
    let capw = caps.map(|c| {
        work.w.clear();
        work.w.extend(
            c.iter()
                .map(|&v| if v.is_finite() && v > 0.0 { v } else { 0.0 }),
        );
        &work.w[..]
    });
    for s in 0..k {
        let col = &mut x[s * n..(s + 1) * n];
        let used = zscore_column(col, capw, p.winsor);
        let missing = work.kept.len() - used;
        if missing > 0 {
            for &i in &work.kept {
                if !col[i].is_finite() {
                    col[i] = 0.0;
                }
            }
        }
        imputed(s, missing);
    }
    for (target, regs) in &p.orthogonalize {
        orthogonalize(x, caps, &work.kept, n, *target, regs);
    }
    (nu, nd)
}

/// Replaces style `target` by its residual on `regs` (with intercept) and z-scores it again.
fn orthogonalize(
    x: &mut [f64],
    caps: Option<&[f64]>,
    kept: &[usize],
    n: usize,
    target: usize,
    regs: &[usize],
) {
    let m = regs.len() + 1;
    let usable = |c: f64| if c.is_finite() && c > 0.0 { c } else { 0.0 };
    let mut w: Vec<f64> = match caps {
        Some(c) => kept.iter().map(|&i| usable(c[i])).collect(),
        None => vec![1.0; kept.len()],
    };
    if sum(&w) <= 0.0 {
        w.iter_mut().for_each(|v| *v = 1.0);
    }
    // Columns of the design (intercept, regressors), each scaled by its weight for the Gram matrix.
    let cols: Vec<Vec<f64>> = std::iter::once(vec![1.0; kept.len()])
        .chain(
            regs.iter()
                .map(|&r| kept.iter().map(|&i| x[r * n + i]).collect()),
        )
        .collect();
    let y: Vec<f64> = kept.iter().map(|&i| x[target * n + i]).collect();
    let wy: Vec<f64> = w.iter().zip(&y).map(|(a, b)| a * b).collect();
    let mut a = vec![0.0; m * m];
    let mut rhs = vec![0.0; m];
    for c1 in 0..m {
        let wc: Vec<f64> = w.iter().zip(&cols[c1]).map(|(a, b)| a * b).collect();
        rhs[c1] = dot(&cols[c1], &wy);
        for c2 in 0..=c1 {
            a[c1 * m + c2] = dot(&wc, &cols[c2]);
        }
    }
    let chol = Cholesky::new(&a, m);
    chol.solve(&mut rhs);
    let mut res = y;
    for (c, col) in cols.iter().enumerate() {
        for (r, v) in res.iter_mut().zip(col) {
            *r -= rhs[c] * v;
        }
    }
    let wz = caps.map(|c| kept.iter().map(|&i| usable(c[i])).collect::<Vec<f64>>());
    zscore(&mut res, wz.as_deref(), 0.0);
    for (&i, v) in kept.iter().zip(res) {
        x[target * n + i] = v;
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
