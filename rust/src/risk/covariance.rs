//! Factor covariance per date from factor returns `(k, t)`: exponentially weighted second moments
//! (zero mean) with separate half-lives for volatilities and correlations, Newey-West (Bartlett)
//! serial-correlation terms, and the volatility-regime adjustment.
//!
//! Time counts in *valid* dates: a date whose factor returns hold a NaN (a skipped regression) does
//! not update anything and repeats the previous matrix. With `G_l = sum_s w_s f_s f_(s-l)' / sum_s
//! w_s` (`w_s = lambda^(age)`), `C = G_0 + sum_(l=1)^L (1 - l/(L+1)) (G_l + G_l')`. Volatilities
//! `sigma_k = sqrt(C_kk)` use the volatility half-life (falling back to `G_0` where the Newey-West
//! variance is not positive), correlations `C_ij / sqrt(C_ii C_jj)` the correlation half-life;
//! `F = D R D`. If `R` is not positive semidefinite (possible with Newey-West terms) its negative
//! eigenvalues are set to 0 (counted per date). Volatility-regime adjustment: the bias statistic
//! `B_t^2 = mean_k (f_(k,t) / sigma_(k,t-1))^2` is averaged with half-life `vra_half_life`, and
//! `F` is multiplied by that average. `F` is NaN until `min_obs` valid dates have been seen.

use super::decay;
use super::linalg::{compose, eigh, Cholesky};
use crate::error::{Error, Result};

/// Options of [`factor_covariance`]; half-lives in dates, 0 = off for `vra_half_life`.
#[derive(Clone, Debug)]
pub struct CovarianceParams {
    pub vol_half_life: f64,
    pub corr_half_life: f64,
    pub nw_lags: usize,
    pub vra_half_life: f64,
    pub min_obs: usize,
}

/// EW lagged second moments of one half-life.
struct Moments {
    lam: f64,
    weight: f64,
    s: Vec<Vec<f64>>,
}

impl Moments {
    fn new(half_life: f64, lags: usize, k: usize) -> Self {
        Moments {
            lam: decay(half_life),
            weight: 0.0,
            s: vec![vec![0.0; k * k]; lags + 1],
        }
    }

    fn update(&mut self, hist: &[Vec<f64>], k: usize, diag_only: bool) {
        self.weight = self.lam * self.weight + 1.0;
        let f = &hist[0];
        for (l, s) in self.s.iter_mut().enumerate() {
            let g = hist.get(l);
            if diag_only {
                // Only the diagonal is ever read: the rest is neither aged nor updated.
                for a in 0..k {
                    let v = &mut s[a * k + a];
                    *v *= self.lam;
                    if let Some(g) = g {
                        *v += f[a] * g[a];
                    }
                }
                continue;
            }
            s.iter_mut().for_each(|v| *v *= self.lam);
            let Some(g) = g else { continue };
            for a in 0..k {
                for b in 0..k {
                    s[a * k + b] += f[a] * g[b];
                }
            }
        }
    }

    /// Newey-West matrix entry `(a, b)`.
    fn nw(&self, a: usize, b: usize, k: usize) -> f64 {
        let lags = self.s.len() - 1;
        let mut c = self.s[0][a * k + b];
        for l in 1..=lags {
            let bw = 1.0 - l as f64 / (lags as f64 + 1.0);
            c += bw * (self.s[l][a * k + b] + self.s[l][b * k + a]);
        }
        c / self.weight
    }
}

/// Writes `F` per date into `cov` `(t, k, k)`; `vra` `(t,)` gets the applied multiplier and
/// `repairs` `(t,)` 1 where negative eigenvalues were removed.
pub fn factor_covariance(
    fr: &[f64],
    k: usize,
    t: usize,
    p: &CovarianceParams,
    cov: &mut [f64],
    vra: &mut [f64],
    repairs: &mut [f64],
) -> Result<()> {
    if fr.len() != k * t {
        return Err(Error::shape(
            "factor_returns",
            format!("({k}, {t})"),
            format!("{} cells", fr.len()),
        ));
    }
    if cov.len() != t * k * k || vra.len() != t || repairs.len() != t {
        return Err(Error::shape(
            "out",
            format!("({t}, {k}, {k}) and ({t},)"),
            "other sizes",
        ));
    }
    for (name, h) in [
        ("vol_half_life", p.vol_half_life),
        ("corr_half_life", p.corr_half_life),
        ("vra_half_life", p.vra_half_life),
    ] {
        if h.is_nan() || h < 0.0 || h.is_infinite() {
            return Err(Error::param(name, h, "a finite half-life >= 0 dates"));
        }
    }
    if p.vol_half_life == 0.0 || p.corr_half_life == 0.0 {
        return Err(Error::param(
            "vol_half_life/corr_half_life",
            0,
            "half-lives > 0 dates",
        ));
    }
    crate::error::check_at_least("min_obs", p.min_obs, 1)?;
    if let Some((row, bar)) = fr
        .chunks(t.max(1))
        .enumerate()
        .find_map(|(r, x)| crate::panel::first_infinite(x).map(|b| (r, b)))
    {
        return Err(Error::NonFinite {
            name: "factor_returns",
            asset: row,
            bar,
            value: fr[row * t + bar],
        });
    }
    let mut vol = Moments::new(p.vol_half_life, p.nw_lags, k);
    let mut cor = Moments::new(p.corr_half_life, p.nw_lags, k);
    let lam_b = decay(p.vra_half_life);
    let (mut sb, mut wb) = (0.0, 0.0);
    let mut hist: Vec<Vec<f64>> = Vec::with_capacity(p.nw_lags + 1);
    let mut seen = 0usize;
    let mut prev_sigma: Option<Vec<f64>> = None;
    let mut current = vec![f64::NAN; k * k];
    let (mut cur_vra, mut cur_rep) = (f64::NAN, 0.0);
    let mut rm = vec![0.0; k * k];
    for tt in 0..t {
        let f: Vec<f64> = (0..k).map(|a| fr[a * t + tt]).collect();
        if k > 0 && f.iter().all(|v| v.is_finite()) {
            if let (Some(sig), true) = (&prev_sigma, p.vra_half_life > 0.0) {
                let terms: Vec<f64> = (0..k)
                    .filter(|&a| sig[a] > 0.0)
                    .map(|a| (f[a] / sig[a]) * (f[a] / sig[a]))
                    .collect();
                if !terms.is_empty() {
                    sb = lam_b * sb + terms.iter().sum::<f64>() / terms.len() as f64;
                    wb = lam_b * wb + 1.0;
                }
            }
            if hist.len() > p.nw_lags {
                hist.pop();
            }
            hist.insert(0, f);
            vol.update(&hist, k, true);
            cor.update(&hist, k, false);
            seen += 1;
            if seen >= p.min_obs {
                let sigma: Vec<f64> = (0..k)
                    .map(|a| {
                        let v = vol.nw(a, a, k);
                        if v > 0.0 {
                            v.sqrt()
                        } else {
                            (vol.s[0][a * k + a] / vol.weight).sqrt()
                        }
                    })
                    .collect();
                for a in 0..k {
                    for b in 0..=a {
                        let c = cor.nw(a, b, k);
                        rm[a * k + b] = c;
                        rm[b * k + a] = c;
                    }
                }
                let d: Vec<f64> = (0..k).map(|a| rm[a * k + a].sqrt()).collect();
                for a in 0..k {
                    for b in 0..k {
                        let den = d[a] * d[b];
                        rm[a * k + b] = if a == b {
                            1.0
                        } else if den > 0.0 {
                            rm[a * k + b] / den
                        } else {
                            0.0
                        };
                    }
                }
                cur_rep = 0.0;
                if Cholesky::new(&rm, k).negative {
                    let (mut ev, u) = eigh(&rm, k);
                    ev.iter_mut().for_each(|v| *v = v.max(0.0));
                    compose(&u, &ev, k, &mut rm);
                    cur_rep = 1.0;
                }
                cur_vra = if wb > 0.0 { sb / wb } else { 1.0 };
                // Computed once per pair and mirrored, so F is symmetric to the bit.
                for a in 0..k {
                    for b in 0..=a {
                        let v = sigma[a] * rm[a * k + b] * sigma[b] * cur_vra;
                        current[a * k + b] = v;
                        current[b * k + a] = v;
                    }
                }
                prev_sigma = Some(sigma);
            }
        }
        cov[tt * k * k..(tt + 1) * k * k].copy_from_slice(&current);
        vra[tt] = cur_vra;
        repairs[tt] = cur_rep;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iid_returns_give_a_psd_matrix_near_the_truth() {
        let (k, t) = (2, 4000);
        let mut fr = vec![0.0; k * t];
        let mut state = 7u64;
        for s in 0..t {
            let [a, b] = super::super::eigen::normal_pair(&mut state);
            fr[s] = a;
            fr[t + s] = 0.6 * a + 0.8 * b;
        }
        let p = CovarianceParams {
            vol_half_life: 1000.0,
            corr_half_life: 1000.0,
            nw_lags: 2,
            vra_half_life: 0.0,
            min_obs: 10,
        };
        let (mut c, mut v, mut r) = (vec![0.0; t * 4], vec![0.0; t], vec![0.0; t]);
        factor_covariance(&fr, k, t, &p, &mut c, &mut v, &mut r).unwrap();
        let last = &c[(t - 1) * 4..];
        assert!(
            (last[0] - 1.0).abs() < 0.15 && (last[1] - 0.6).abs() < 0.15,
            "{last:?}"
        );
        assert!(c[0].is_nan() && last[1] == last[2]);
    }
}
