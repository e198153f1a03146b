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
    if u32::try_from(n).is_err() {
        return Err(Error::param("residuals", n, "fewer than 2^32 assets"));
    }
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
            let mut keys: Vec<(u64, u32)> = Vec::new();
            let mut label: Vec<u32> = Vec::new();
            let mut sums = vec![[0.0; 3]; g];
            for j in 0..b {
                let sig = &mut sb[j * n..(j + 1) * n];
                let z = &zb[j * n..(j + 1) * n];
                // Sizes are positive, so their bit patterns order like the values; with the index
                // as tie-break the order is total. Only the groups matter, not the order inside
                // them: g - 1 selections instead of a sort.
                keys.clear();
                keys.extend(
                    (0..n)
                        .filter(|&i| sig[i].is_finite() && z[i] > 0.0)
                        .map(|i| (z[i].to_bits(), i as u32)),
                );
                let m = keys.len();
                if m >= g {
                    split_groups(&mut keys, 0, g, m, g);
                    label.clear();
                    label.resize(n, u32::MAX);
                    for grp in 0..g {
                        for &(_, i) in &keys[grp * m / g..(grp + 1) * m / g] {
                            label[i as usize] = grp as u32;
                        }
                    }
                    // Group sums in asset order, whatever order the selections left.
                    sums.iter_mut().for_each(|v| *v = [0.0; 3]);
                    for (i, &grp) in label.iter().enumerate() {
                        if let Some(acc) = sums.get_mut(grp as usize) {
                            acc[0] += z[i];
                            acc[1] += z[i] * sig[i];
                        }
                    }
                    let mean: Vec<f64> = sums.iter().map(|a| a[1] / a[0]).collect();
                    for (i, &grp) in label.iter().enumerate() {
                        if let Some(acc) = sums.get_mut(grp as usize) {
                            acc[2] += (sig[i] - mean[grp as usize]).powi(2);
                        }
                    }
                    let dev: Vec<f64> = (0..g)
                        .map(|grp| {
                            let count = (grp + 1) * m / g - grp * m / g;
                            (sums[grp][2] / count as f64).sqrt()
                        })
                        .collect();
                    for (i, &grp) in label.iter().enumerate() {
                        let Some(&mean) = mean.get(grp as usize) else {
                            continue;
                        };
                        let dev = dev[grp as usize];
                        let gap = p.shrinkage * (sig[i] - mean).abs();
                        let w = if dev + gap > 0.0 {
                            gap / (dev + gap)
                        } else {
                            0.0
                        };
                        sig[i] = w * mean + (1.0 - w) * sig[i];
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

/// Rearranges `keys` (ranks `from..` of the `m` sorted keys) so that groups `g0..g1` of the `g`
/// equal-count groups, group `grp` holding ranks `grp * m / g .. (grp + 1) * m / g`, each lie in
/// their ranks, by selecting the middle boundary and recursing on both sides.
fn split_groups(keys: &mut [(u64, u32)], g0: usize, g1: usize, m: usize, g: usize) {
    if g1 - g0 < 2 {
        return;
    }
    let from = g0 * m / g;
    let mid = (g0 + g1) / 2;
    let at = mid * m / g - from;
    if at >= keys.len() {
        return;
    }
    if at > 0 {
        keys.select_nth_unstable(at);
    }
    let (left, right) = keys.split_at_mut(at);
    split_groups(left, g0, mid, m, g);
    split_groups(right, mid, g1, m, g);
}
