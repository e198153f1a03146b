//! Specific (idiosyncratic) risk per asset and date from regression residuals `(n, t)`.
//!
//! 1. Per asset: `sigma_hat^2` = exponentially weighted mean of the squared residuals up to the date
//!    (half-life `half_life`, NaN residuals skipped), NaN until `min_obs` residuals were seen.
//! 2. Per date, Bayesian shrinkage toward size-group means: the assets with a `sigma_hat` and a
//!    positive `size` (e.g. cap) are ranked by size (ties by index) into `n_groups` groups of equal
//!    count; with `m_s` the size-weighted mean of `sigma_hat` in the group and `D_s` the
//!    root-mean-square deviation from it, `v = q |sigma_hat - m_s| / (D_s + q |sigma_hat - m_s|)`
//!    and `sigma = v m_s + (1 - v) sigma_hat`. Fewer than `n_groups` such assets, or no `size`:
//!    no shrinkage. Output: the specific variance `sigma^2`.

use super::columns::{for_each_date_block, gather_shared, scatter, SharedOut, DATE_BLOCK};
use super::decay;
use crate::error::{Error, Result};
use rayon::prelude::*;

/// Options of [`specific_risk`].
#[derive(Clone, Debug)]
pub struct SpecificParams {
    pub half_life: f64,
    pub min_obs: usize,
    pub shrinkage: f64,
    pub n_groups: usize,
}

/// Writes the specific variance `(n, t)` into `out`.
pub fn specific_risk(
    resid: &[f64],
    size: &[f64],
    n: usize,
    t: usize,
    p: &SpecificParams,
    out: &mut [f64],
) -> Result<()> {
    let cells = n * t;
    if resid.len() != cells || out.len() != cells || (!size.is_empty() && size.len() != cells) {
        return Err(Error::shape(
            "residuals/size",
            format!("({n}, {t})"),
            "another shape",
        ));
    }
    if p.half_life.is_nan() || p.half_life <= 0.0 || !p.half_life.is_finite() {
        return Err(Error::param(
            "half_life",
            p.half_life,
            "a finite half-life > 0 dates",
        ));
    }
    if p.shrinkage.is_nan() || p.shrinkage < 0.0 || !p.shrinkage.is_finite() {
        return Err(Error::param(
            "shrinkage",
            p.shrinkage,
            "a finite number >= 0",
        ));
    }
    crate::error::check_at_least("min_obs", p.min_obs, 1)?;
    crate::error::check_at_least("n_groups", p.n_groups, 1)?;
    if cells == 0 {
        return Ok(());
    }
    let lam = decay(p.half_life);
    out.par_chunks_mut(t).enumerate().for_each(|(i, o)| {
        let e = &resid[i * t..(i + 1) * t];
        let (mut s, mut w, mut c) = (0.0, 0.0, 0usize);
        for (tt, v) in e.iter().enumerate() {
            // Every date ages the average; a missing residual adds nothing.
            s *= lam;
            w *= lam;
            if v.is_finite() {
                s += v * v;
                w += 1.0;
                c += 1;
            }
            o[tt] = if c >= p.min_obs {
                (s / w).sqrt()
            } else {
                f64::NAN
            };
        }
    });
    if size.is_empty() || p.shrinkage == 0.0 {
        out.iter_mut().for_each(|v| *v *= *v);
        return Ok(());
    }
    let shared = SharedOut::new(out);
    let g = p.n_groups;
    for_each_date_block(
        t,
        DATE_BLOCK,
        || (vec![0.0; DATE_BLOCK * n], vec![0.0; DATE_BLOCK * n]),
        |t0, b, (sb, zb)| {
            // SAFETY: this block reads and writes only its own columns t0..t0+b.
            unsafe { gather_shared(shared, n, t, t0, b, sb) };
            let sb = &mut sb[..b * n];
            super::columns::gather(size, n, t, t0, b, zb);
            let mut prev: Vec<usize> = Vec::new();
            let mut seen: Vec<bool> = Vec::new();
            for j in 0..b {
                let sig = &mut sb[j * n..(j + 1) * n];
                let z = &zb[j * n..(j + 1) * n];
                // Sizes move little from one date to the next: starting from the previous date's
                // order, the adaptive stable sort is close to linear. The order is total, so the
                // result does not depend on the starting order.
                let valid = |i: usize| sig[i].is_finite() && z[i] > 0.0;
                seen.clear();
                seen.resize(n, false);
                let mut idx: Vec<usize> = prev.iter().copied().filter(|&i| valid(i)).collect();
                idx.iter().for_each(|&i| seen[i] = true);
                idx.extend((0..n).filter(|&i| !seen[i] && valid(i)));
                idx.sort_by(|&a, &c| z[a].total_cmp(&z[c]).then(a.cmp(&c)));
                prev.clone_from(&idx);
                let m = idx.len();
                if m >= g {
                    let mut shrunk = vec![0.0; m];
                    for grp in 0..g {
                        let lo = grp * m / g;
                        let hi = (grp + 1) * m / g;
                        let members = &idx[lo..hi];
                        let zw: f64 = members.iter().map(|&i| z[i]).sum();
                        let mean = members.iter().map(|&i| z[i] * sig[i]).sum::<f64>() / zw;
                        let dev = (members
                            .iter()
                            .map(|&i| (sig[i] - mean).powi(2))
                            .sum::<f64>()
                            / members.len() as f64)
                            .sqrt();
                        for (r, &i) in members.iter().enumerate() {
                            let gap = p.shrinkage * (sig[i] - mean).abs();
                            let v = if dev + gap > 0.0 {
                                gap / (dev + gap)
                            } else {
                                0.0
                            };
                            shrunk[lo + r] = v * mean + (1.0 - v) * sig[i];
                        }
                    }
                    for (r, &i) in idx.iter().enumerate() {
                        sig[i] = shrunk[r];
                    }
                }
                sig.iter_mut().for_each(|v| *v *= *v);
            }
            // SAFETY: columns t0..t0+b belong to this block.
            unsafe { scatter(sb, n, t, t0, b, shared) };
        },
    );
    Ok(())
}
