//! Eigenfactor risk adjustment (Menchero, Wang and Orr, 2012): sample covariances of simulated
//! returns underestimate the risk of their smallest eigenportfolios; the bias measured by Monte
//! Carlo scales the eigenvalues of `F`. Simulations are seeded per draw (`seed`, draw index), run in
//! parallel and averaged in draw order, so the result depends only on the seed.
//!
//! For `F = U D U'`: each of `n_sims` draws simulates `n_periods` returns with covariance `F`
//! (independent normals in the eigenbasis), forms their zero-mean sample covariance
//! `F_m = U_m D_m U_m'`, and records `diag(U_m' F U_m) / D_m` (eigenvalues matched by rank). With
//! `v_k` the square root of the mean ratio, eigenvalue `k` is scaled by `(scale * (v_k - 1) + 1)^2`.
//! Eigenvalues below `1e-12` times the largest (a singular direction) are left as they are.

use super::linalg::{compose, eigh};
use crate::error::{Error, Result};
use rayon::prelude::*;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Two independent standard normals (Box-Muller) from a splitmix64 stream.
pub fn normal_pair(state: &mut u64) -> [f64; 2] {
    let u1 = ((splitmix(state) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let u2 = (splitmix(state) >> 11) as f64 / (1u64 << 53) as f64;
    let r = (-2.0 * u1.ln()).sqrt();
    let a = 2.0 * std::f64::consts::PI * u2;
    [r * a.cos(), r * a.sin()]
}

/// Returns the eigen-adjusted `F` (`k x k`, row-major).
pub fn eigen_adjust(
    f: &[f64],
    k: usize,
    n_sims: usize,
    n_periods: usize,
    scale: f64,
    seed: u64,
) -> Result<Vec<f64>> {
    if f.len() != k * k {
        return Err(Error::shape(
            "covariance",
            format!("({k}, {k})"),
            format!("{} cells", f.len()),
        ));
    }
    if f.iter().any(|v| !v.is_finite()) {
        return Err(Error::param(
            "covariance",
            "a matrix with NaN/inf",
            "a finite matrix (a date after the warm-up)",
        ));
    }
    crate::error::check_at_least("n_sims", n_sims, 1)?;
    crate::error::check_at_least("n_periods", n_periods, 2)?;
    crate::error::check_finite_param("scale", scale)?;
    let (d0, u0) = eigh(f, k);
    let top = d0.iter().copied().fold(0.0f64, f64::max);
    let live: Vec<bool> = d0.iter().map(|&d| d > 1e-12 * top && d > 0.0).collect();
    let ratios: Vec<Vec<f64>> = (0..n_sims)
        .into_par_iter()
        .map(|m| {
            let mut state = seed ^ (m as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
            let mut b = vec![0.0; k];
            let mut r = vec![0.0; k];
            let mut fm = vec![0.0; k * k];
            let mut z = [0.0; 2];
            let mut zi = 2;
            for _ in 0..n_periods {
                for (q, bq) in b.iter_mut().enumerate() {
                    if zi == 2 {
                        z = normal_pair(&mut state);
                        zi = 0;
                    }
                    *bq = z[zi] * d0[q].max(0.0).sqrt();
                    zi += 1;
                }
                for a in 0..k {
                    r[a] = (0..k).map(|q| u0[a * k + q] * b[q]).sum();
                }
                for a in 0..k {
                    for c in 0..=a {
                        fm[a * k + c] += r[a] * r[c];
                    }
                }
            }
            for a in 0..k {
                for c in 0..=a {
                    fm[a * k + c] /= n_periods as f64;
                    fm[c * k + a] = fm[a * k + c];
                }
            }
            let (dm, um) = eigh(&fm, k);
            (0..k)
                .map(|q| {
                    let mut tru = 0.0;
                    for a in 0..k {
                        let fa: f64 = (0..k).map(|c| f[a * k + c] * um[c * k + q]).sum();
                        tru += um[a * k + q] * fa;
                    }
                    if dm[q] > 0.0 {
                        tru / dm[q]
                    } else {
                        f64::NAN
                    }
                })
                .collect()
        })
        .collect();
    let mut gamma = vec![1.0; k];
    for q in 0..k {
        let vals: Vec<f64> = ratios
            .iter()
            .map(|r| r[q])
            .filter(|v| v.is_finite())
            .collect();
        if live[q] && !vals.is_empty() {
            let v = (vals.iter().sum::<f64>() / vals.len() as f64).sqrt();
            gamma[q] = scale * (v - 1.0) + 1.0;
        }
    }
    let d: Vec<f64> = (0..k).map(|q| d0[q] * gamma[q] * gamma[q]).collect();
    let mut out = vec![0.0; k * k];
    compose(&u0, &d, k, &mut out);
    Ok(out)
}
