//! The per-date standardisation of [`super::standardize`] for a few consecutive dates at once,
//! without transposing the `(k, n_assets, n_dates)` panel. A date's values lie `n_dates` apart;
//! instead of gathering them, a worker copies its block's rows (the `L` dates of every
//! style and asset: one or two cache lines each, prefetched) into a contiguous
//! `[style][asset][lane]` buffer, and every pass walks that buffer keeping one running statistic
//! per date in a small array (one SIMD lane per date). The block is read from the panel once and
//! written back once, and a style's `n * L` values stay in the core's cache across its passes.
//! Each date is still reduced over the assets in their order by one thread, so the results depend
//! neither on the thread count nor on how dates are grouped (a block of `L` dates gives the bits
//! of `L` one-date blocks).

use super::columns::SharedOut;
use super::linalg::Cholesky;
use super::standardize::StandardizeParams;

/// Dates standardised side by side: one 64-byte cache line of each row.
pub const LANES: usize = 8;

/// Rows prefetched ahead of the one in use.
const AHEAD: usize = 12;

/// Per-worker buffers, `[asset][lane]`.
#[derive(Default)]
pub struct RowScratch {
    keep: Vec<bool>,
    /// What a missing style becomes: 0 for a kept asset (imputed), NaN otherwise.
    fill: Vec<f64>,
    capw: Vec<f64>,
    ow: Vec<f64>,
}

/// One block's view of the panels; `t0` is its first date.
pub struct Rows<'a> {
    pub vals: SharedOut,
    /// The worker's copy of the block, `[style][asset][lane]` (`k * n * L` values): read from the
    /// panel once, worked on contiguously (whole cache lines, prefetchable, few pages), written
    /// back once.
    pub buf: SharedOut,
    pub caps: &'a [f64],
    pub universe: &'a [bool],
    pub k: usize,
    pub n: usize,
    pub t: usize,
    pub t0: usize,
}

/// What a block reports per date: universe size, dropped, and imputed per style `[style][lane]`.
pub struct RowCounts<const L: usize> {
    pub universe: [usize; L],
    pub dropped: [usize; L],
    pub imputed: Vec<[usize; L]>,
}

/// `x.is_finite()` as a float compare: the same answer for every value (NaN compares false), but
/// it stays in the vector registers where `is_finite`'s integer test on the bits made the
/// compiler take the lanes out one at a time.
#[inline(always)]
pub(crate) fn fin(x: f64) -> bool {
    x.abs() < f64::INFINITY
}

/// Weight of a cap in the means: usable when finite and positive.
#[inline(always)]
fn usable(c: f64) -> f64 {
    if c.is_finite() && c > 0.0 {
        c
    } else {
        0.0
    }
}

/// Asset `i`'s lanes of a `[asset][lane]` buffer.
#[inline(always)]
pub(crate) fn lanes<const L: usize>(buf: &[f64], i: usize) -> &[f64; L] {
    let s = &buf[i * L..(i + 1) * L];
    // SAFETY: `s` holds exactly L values (the slicing checked the bounds).
    unsafe { &*s.as_ptr().cast::<[f64; L]>() }
}

/// Running moments of the finite values, one lane per date. Squares are taken about `shift`, a
/// value of the same date: `sum (x - mean)^2 = sum (x - c)^2 - cnt (mean - c)^2` then loses
/// nothing that matters as long as `c` lies a few deviations from the mean, and the spread needs
/// no second pass.
struct Moments<const L: usize> {
    shift: [f64; L],
    sq: [f64; L],
    cnt: [f64; L],
    sum: [f64; L],
    sw: [f64; L],
    swv: [f64; L],
}

impl<const L: usize> Moments<L> {
    #[inline(always)]
    fn new(shift: [f64; L]) -> Self {
        Moments {
            shift,
            sq: [0.0; L],
            cnt: [0.0; L],
            sum: [0.0; L],
            sw: [0.0; L],
            swv: [0.0; L],
        }
    }

    /// Adds one row (`v`, weights `w`), branch-free so the lanes vectorise: each statistic is
    /// one whole-array update whose lanes test finiteness with a float compare. (A loop doing
    /// all five per lane was packed across the statistics instead, a lane at a time with a
    /// branch per lane; a `bool` mask array cost conversions per row.)
    #[inline(always)]
    fn add(&mut self, v: &[f64; L], w: &[f64; L]) {
        let x: [f64; L] = std::array::from_fn(|l| if fin(v[l]) { v[l] } else { 0.0 });
        let wm: [f64; L] = std::array::from_fn(|l| if fin(v[l]) { w[l] } else { 0.0 });
        let d: [f64; L] =
            std::array::from_fn(|l| if fin(v[l]) { v[l] - self.shift[l] } else { 0.0 });
        self.sq = std::array::from_fn(|l| self.sq[l] + d[l] * d[l]);
        self.cnt = std::array::from_fn(|l| self.cnt[l] + if fin(v[l]) { 1.0 } else { 0.0 });
        self.sum = std::array::from_fn(|l| self.sum[l] + x[l]);
        self.sw = std::array::from_fn(|l| self.sw[l] + wm[l]);
        self.swv = std::array::from_fn(|l| self.swv[l] + wm[l] * x[l]);
    }

    /// Plain means (NaN without values).
    #[inline(always)]
    fn means(&self) -> [f64; L] {
        std::array::from_fn(|l| self.sum[l] / self.cnt[l])
    }

    /// Weighted means (the plain mean where no weight is positive), sample deviations, and per
    /// lane whether the shift lay so far from the mean (more than 4 deviations) that the
    /// subtraction may have cancelled digits that matter: such lanes need an exact pass.
    #[inline(always)]
    fn spread(&self) -> ([f64; L], [f64; L], [bool; L]) {
        let mean = self.means();
        let mu = std::array::from_fn(|l| {
            if self.sw[l] > 0.0 {
                self.swv[l] / self.sw[l]
            } else {
                mean[l]
            }
        });
        let mut far = [false; L];
        let sd = std::array::from_fn(|l| {
            let off = self.cnt[l] * (mean[l] - self.shift[l]).powi(2);
            let ss = (self.sq[l] - off).max(0.0);
            far[l] = off > 16.0 * ss;
            (ss / (self.cnt[l] - 1.0)).sqrt()
        });
        (mu, sd, far)
    }
}

impl Rows<'_> {
    /// Row `r` (style-major: `style * n + asset`) of the block in the panel.
    ///
    /// # Safety
    /// The block's columns `t0..t0 + L` must belong to the caller and no other reference to the
    /// row may be live.
    #[inline(always)]
    unsafe fn panel_row<'b, const L: usize>(&self, r: usize) -> &'b mut [f64; L] {
        // Rows lie a page or more apart, beyond what the hardware prefetchers follow: ask for the
        // row AHEAD rows on, so its lines arrive while these are used.
        self.vals.prefetch((r + AHEAD) * self.t + self.t0, L);
        unsafe { self.vals.array_mut(r * self.t + self.t0) }
    }

    /// Row `r` of the worker's copy of the block.
    ///
    /// # Safety
    /// `buf` must hold `k * n * L` values and no other reference to the row may be live.
    #[inline(always)]
    unsafe fn row<'b, const L: usize>(&self, r: usize) -> &'b mut [f64; L] {
        unsafe { self.buf.array_mut(r * L) }
    }

    #[inline(always)]
    fn caps_row<const L: usize>(&self, i: usize) -> [f64; L] {
        let at = i * self.t + self.t0;
        std::array::from_fn(|l| usable(self.caps[at + l]))
    }

    /// Standardises the `L` dates of the block in place (see [`super::standardize`]); `buf` is
    /// left holding the standardised block.
    ///
    /// # Safety
    /// Columns `t0..t0 + L` of the panel behind `vals` must belong to the caller, and `buf` must
    /// hold `k * n * L` values that nothing else uses.
    #[inline(always)]
    pub unsafe fn standardize<const L: usize>(
        &self,
        p: &StandardizeParams,
        sc: &mut RowScratch,
    ) -> RowCounts<L> {
        let (k, n) = (self.k, self.n);
        let mut counts = RowCounts {
            universe: [0; L],
            dropped: [0; L],
            imputed: vec![[0; L]; k],
        };
        let kept = unsafe { self.select::<L>(p.min_valid, sc, &mut counts) };
        let has_caps = !self.caps.is_empty();
        sc.capw.clear();
        if has_caps {
            for i in 0..n {
                sc.capw.extend(self.caps_row::<L>(i));
            }
        }
        let zeros = [0.0; L];
        for s in 0..k {
            let weights = |i: usize| -> &[f64; L] {
                if has_caps {
                    lanes(&sc.capw, i)
                } else {
                    &zeros
                }
            };
            let shift = unsafe { self.first_finite::<L>(s) };
            let mut m = Moments::<L>::new(shift);
            for i in 0..n {
                m.add(unsafe { self.row::<L>(s * n + i) }, weights(i));
            }
            let used = m.cnt;
            let (mut mu, mut sd) = unsafe { self.spread_of(s, &m) };
            // Winsorise at mu +- winsor * sd and recompute. Clamping every date, rather than
            // first finding whether its extremes pass the bounds, costs nothing: nearly every
            // date of 4,000 names has a value beyond 3 sd, and a date without one clamps to
            // the same values and recomputes the same bits.
            let w = p.winsor;
            let clip: [bool; L] =
                std::array::from_fn(|l| w > 0.0 && w.is_finite() && sd[l] > 0.0 && used[l] >= 2.0);
            if clip.iter().any(|&c| c) {
                let lo: [f64; L] = std::array::from_fn(|l| {
                    if clip[l] {
                        mu[l] - w * sd[l]
                    } else {
                        f64::NEG_INFINITY
                    }
                });
                let hi: [f64; L] = std::array::from_fn(|l| {
                    if clip[l] {
                        mu[l] + w * sd[l]
                    } else {
                        f64::INFINITY
                    }
                });
                // After clipping, the first pass's plain mean is a shift inside the data.
                let near = m.means().map(|v| if v.is_finite() { v } else { 0.0 });
                let mut m2 = Moments::<L>::new(near);
                for i in 0..n {
                    let r = unsafe { self.row::<L>(s * n + i) };
                    // Comparisons, not `clamp`: NaN stays NaN and odd bounds cannot panic. Two
                    // whole-array selects, so that the lanes vectorise.
                    let low: [f64; L] =
                        std::array::from_fn(|l| if r[l] < lo[l] { lo[l] } else { r[l] });
                    *r = std::array::from_fn(|l| if low[l] > hi[l] { hi[l] } else { low[l] });
                    m2.add(r, weights(i));
                }
                (mu, sd) = unsafe { self.spread_of(s, &m2) };
            }
            // 1 where the z-score is kept, 0 where it is 0 (too few values, no spread): a float
            // lane mask, which the loop below tests with a compare.
            let scored: [f64; L] = std::array::from_fn(|l| {
                let zero = used[l] < 2.0 || sd[l].is_nan() || sd[l] <= 0.0 || !sd[l].is_finite();
                if zero {
                    0.0
                } else {
                    1.0
                }
            });
            for i in 0..n {
                let r = unsafe { self.row::<L>(s * n + i) };
                // A missing style of a kept asset is imputed as 0, the market mean.
                let fill = lanes::<L>(&sc.fill, i);
                // Selects on f64 lanes, not branches, so the lanes vectorise (one division per
                // lane otherwise); a zero lane's quotient is computed and dropped.
                let z: [f64; L] = std::array::from_fn(|l| (r[l] - mu[l]) / sd[l]);
                let z: [f64; L] =
                    std::array::from_fn(|l| if scored[l] != 0.0 { z[l] } else { 0.0 });
                *r = std::array::from_fn(|l| if fin(r[l]) { z[l] } else { fill[l] });
            }
            for l in 0..L {
                counts.imputed[s][l] = kept[l].saturating_sub(used[l] as usize);
            }
        }
        if !p.orthogonalize.is_empty() {
            self.ortho_weights::<L>(sc);
        }
        for (target, regs) in &p.orthogonalize {
            unsafe { self.orthogonalize::<L>(*target, regs, sc) };
        }
        for r in 0..k * n {
            unsafe { *self.panel_row::<L>(r) = *self.row::<L>(r) };
        }
        counts
    }

    /// Flags the kept assets per date in `sc.keep`, sets the others' styles to NaN, counts the
    /// universe and the dropped; returns the kept count per date.
    #[inline(always)]
    unsafe fn select<const L: usize>(
        &self,
        min_valid: usize,
        sc: &mut RowScratch,
        counts: &mut RowCounts<L>,
    ) -> [usize; L] {
        let (k, n) = (self.k, self.n);
        let mut kept = [0usize; L];
        sc.keep.clear();
        sc.fill.clear();
        for i in 0..n {
            let mut cnt = [0usize; L];
            for s in 0..k {
                let r = unsafe { self.row::<L>(s * n + i) };
                *r = unsafe { *self.panel_row::<L>(s * n + i) };
                for l in 0..L {
                    cnt[l] += usize::from(fin(r[l]));
                }
            }
            let mut all = true;
            for l in 0..L {
                let inside = if self.universe.is_empty() {
                    cnt[l] > 0
                } else {
                    self.universe[i * self.t + self.t0 + l]
                };
                let keep = inside && cnt[l] >= min_valid;
                counts.universe[l] += usize::from(inside);
                counts.dropped[l] += usize::from(inside && !keep);
                kept[l] += usize::from(keep);
                all &= keep;
                sc.keep.push(keep);
                sc.fill.push(if keep { 0.0 } else { f64::NAN });
            }
            if !all {
                let keep = &sc.keep[i * L..(i + 1) * L];
                for s in 0..k {
                    let r = unsafe { self.row::<L>(s * n + i) };
                    for l in 0..L {
                        if !keep[l] {
                            r[l] = f64::NAN;
                        }
                    }
                }
            }
        }
        kept
    }

    /// [`Moments::spread`] of style `s`, with the sum of squares taken again exactly about the
    /// mean for the lanes whose shift lay far from it (an outlier met first, say).
    #[inline(always)]
    unsafe fn spread_of<const L: usize>(&self, s: usize, m: &Moments<L>) -> ([f64; L], [f64; L]) {
        let (mu, mut sd, far) = m.spread();
        if far.iter().any(|&f| f) {
            unsafe { self.exact_spread(s, m, far, &mut sd) };
        }
        (mu, sd)
    }

    /// The rare exact pass of [`Rows::spread_of`], kept out of line so that the hot passes it
    /// sits between compile as if it were not there.
    #[cold]
    #[inline(never)]
    unsafe fn exact_spread<const L: usize>(
        &self,
        s: usize,
        m: &Moments<L>,
        far: [bool; L],
        sd: &mut [f64; L],
    ) {
        let mean = m.means();
        let mut sq = [0.0; L];
        for i in 0..self.n {
            let r = unsafe { self.row::<L>(s * self.n + i) };
            for l in 0..L {
                let d = if fin(r[l]) { r[l] - mean[l] } else { 0.0 };
                sq[l] += d * d;
            }
        }
        for l in 0..L {
            if far[l] {
                sd[l] = (sq[l] / (m.cnt[l] - 1.0)).sqrt();
            }
        }
    }

    /// Per date, the first finite value of style `s` in asset order (0 where there is none):
    /// the shift of its moments.
    #[inline(always)]
    unsafe fn first_finite<const L: usize>(&self, s: usize) -> [f64; L] {
        let mut out = [f64::NAN; L];
        for i in 0..self.n {
            let r = unsafe { self.row::<L>(s * self.n + i) };
            for l in 0..L {
                if out[l].is_nan() && r[l].is_finite() {
                    out[l] = r[l];
                }
            }
            if out.iter().all(|v| !v.is_nan()) {
                return out;
            }
        }
        out.map(|v| if v.is_nan() { 0.0 } else { v })
    }

    /// The orthogonalisations' regression weights of the kept assets, the same for every target:
    /// usable caps, or 1 on a date where none is positive.
    #[inline(always)]
    fn ortho_weights<const L: usize>(&self, sc: &mut RowScratch) {
        let has_caps = !self.caps.is_empty();
        let mut total = [0.0; L];
        sc.ow.clear();
        for i in 0..self.n {
            let keep = &sc.keep[i * L..(i + 1) * L];
            for l in 0..L {
                let w = match (keep[l], has_caps) {
                    (false, _) => 0.0,
                    (true, true) => sc.capw[i * L + l],
                    (true, false) => 1.0,
                };
                total[l] += w;
                sc.ow.push(w);
            }
        }
        for i in 0..self.n {
            for l in 0..L {
                if total[l] <= 0.0 && sc.keep[i * L + l] {
                    sc.ow[i * L + l] = 1.0;
                }
            }
        }
    }

    /// Replaces style `target` by its residual from a cap-weighted regression with intercept on
    /// `regs` over the kept assets, then z-scores it again without winsorising.
    #[inline(always)]
    unsafe fn orthogonalize<const L: usize>(
        &self,
        target: usize,
        regs: &[usize],
        sc: &mut RowScratch,
    ) {
        let n = self.n;
        let m = regs.len() + 1;
        let has_caps = !self.caps.is_empty();
        // Normal equations per date: lower triangle of [1, regs]' W [1, regs] and [1, regs]' W y.
        let mut a = vec![[0.0; L]; m * m];
        let mut rhs = vec![[0.0; L]; m];
        let mut col = vec![[0.0; L]; m];
        for i in 0..n {
            let ow = &sc.ow[i * L..(i + 1) * L];
            let keep = &sc.keep[i * L..(i + 1) * L];
            col[0] = [1.0; L];
            for (c, &r) in regs.iter().enumerate() {
                let row = unsafe { self.row::<L>(r * n + i) };
                col[c + 1] = std::array::from_fn(|l| if keep[l] { row[l] } else { 0.0 });
            }
            let y = unsafe { self.row::<L>(target * n + i) };
            let wy: [f64; L] = std::array::from_fn(|l| if keep[l] { ow[l] * y[l] } else { 0.0 });
            // Whole-array updates over zipped rows, so that the lanes vectorise.
            for c1 in 0..m {
                let wc: [f64; L] = std::array::from_fn(|l| ow[l] * col[c1][l]);
                rhs[c1] = std::array::from_fn(|l| rhs[c1][l] + col[c1][l] * wy[l]);
                for (ab, cb) in a[c1 * m..c1 * m + c1 + 1].iter_mut().zip(&col[..c1 + 1]) {
                    *ab = std::array::from_fn(|l| ab[l] + wc[l] * cb[l]);
                }
            }
        }
        let mut coef = vec![[0.0; L]; m];
        let mut al = vec![0.0; m * m];
        let mut bl = vec![0.0; m];
        for l in 0..L {
            al.iter_mut().zip(&a).for_each(|(v, x)| *v = x[l]);
            bl.iter_mut().zip(&rhs).for_each(|(v, x)| *v = x[l]);
            Cholesky::new(&al, m).solve(&mut bl);
            coef.iter_mut().zip(&bl).for_each(|(c, v)| c[l] = *v);
        }
        // Residuals in place, and the moments of their z-score (weights: usable caps, if any).
        let zeros = [0.0; L];
        // Weighted least-squares residuals average about 0: shift 0.
        let mut mo = Moments::<L>::new([0.0; L]);
        for i in 0..n {
            let keep = &sc.keep[i * L..(i + 1) * L];
            let y = unsafe { self.row::<L>(target * n + i) };
            let mut res: [f64; L] = std::array::from_fn(|l| y[l] - coef[0][l]);
            for (c, &r) in regs.iter().enumerate() {
                let row = unsafe { self.row::<L>(r * n + i) };
                res = std::array::from_fn(|l| res[l] - coef[c + 1][l] * row[l]);
            }
            for l in 0..L {
                if keep[l] {
                    y[l] = res[l];
                }
            }
            let w = if has_caps { lanes(&sc.capw, i) } else { &zeros };
            mo.add(y, w);
        }
        let (mu, sd) = unsafe { self.spread_of(target, &mo) };
        let zero: [bool; L] = std::array::from_fn(|l| {
            mo.cnt[l] < 2.0 || sd[l].is_nan() || sd[l] <= 0.0 || !sd[l].is_finite()
        });
        for i in 0..n {
            let y = unsafe { self.row::<L>(target * n + i) };
            for l in 0..L {
                let z = (y[l] - mu[l]) / sd[l];
                let z = if zero[l] { 0.0 } else { z };
                y[l] = if fin(y[l]) { z } else { y[l] };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::eigen::normal_pair;
    use super::super::{standardize::Counts, StandardizeParams};
    use super::super::{standardize_and_regress, RegressionInputs, RegressionOutputs};

    /// Standardises and regresses `(k, n, t)` data; returns exposures, factor returns, t-stats,
    /// stats and residuals.
    fn run(x: &[f64], y: &[f64], caps: &[f64], codes: &[i64], k: usize, t: usize) -> Vec<Vec<f64>> {
        let n = codes.len();
        let mut v = x.to_vec();
        let (mut imp, mut drp, mut uni) = (vec![0.0; k * t], vec![0.0; t], vec![0.0; t]);
        let p = StandardizeParams {
            winsor: 2.0,
            min_valid: 2,
            orthogonalize: vec![(1, vec![0])],
        };
        let counts = Counts {
            imputed: &mut imp,
            dropped: &mut drp,
            universe: &mut uni,
        };
        let g = 3;
        let q = 1 + g + k;
        let (mut f, mut ts, mut st, mut e) = (
            vec![0.0; q * t],
            vec![0.0; q * t],
            vec![0.0; 4 * t],
            vec![0.0; n * t],
        );
        let reg = RegressionInputs {
            exposures: &[],
            returns: y,
            lead: 0,
            first: 1,
            weights: &[],
            sqrt_shares: true,
            shares: caps,
            industries: codes,
            n_industries: g,
            k,
            n,
            t,
        };
        let out = RegressionOutputs {
            factor_returns: &mut f,
            tstats: &mut ts,
            stats: &mut st,
            residuals: &mut e,
        };
        standardize_and_regress(&mut v, caps, &[], k, n, t, &p, counts, &reg, out).unwrap();
        vec![v, imp, f, ts, st, e]
    }

    /// The first `cols` dates of every `(rows, t)` output.
    fn head(a: &[f64], t: usize, cols: usize) -> Vec<u64> {
        a.chunks(t)
            .flat_map(|r| r[..cols].iter().map(|v| v.to_bits()))
            .collect()
    }

    #[test]
    fn dates_in_lanes_give_the_bits_of_dates_one_by_one() {
        // 16 dates run as two blocks of eight lanes; their first 7 alone as seven one-date blocks.
        let (k, n, t, short) = (3, 40, 16, 7);
        let mut state = 11u64;
        let mut draw = |scale: f64| normal_pair(&mut state)[0] * scale;
        let mut x: Vec<f64> = (0..k * n * t).map(|_| draw(1.0)).collect();
        x[5 * t + 3] = f64::NAN; // a missing style (imputed) and an asset without styles (dropped)
        for s in 0..k {
            x[(s * n + 7) * t + 2] = f64::NAN;
        }
        x[(n + 9) * t + 4] = 40.0; // an outlier to winsorise
        let y: Vec<f64> = (0..n * t).map(|_| draw(0.01)).collect();
        let caps: Vec<f64> = (0..n * t).map(|i| 1.0 + (i % 17) as f64).collect();
        let codes: Vec<i64> = (0..n).map(|i| (i % 4) as i64 - 1).collect(); // -1: no industry
        let full = run(&x, &y, &caps, &codes, k, t);
        let cut = |a: &[f64], rows: usize| -> Vec<f64> {
            (0..rows)
                .flat_map(|r| a[r * t..r * t + short].to_vec())
                .collect()
        };
        let part = run(
            &cut(&x, k * n),
            &cut(&y, n),
            &cut(&caps, n),
            &codes,
            k,
            short,
        );
        for (a, b) in full.iter().zip(&part) {
            assert_eq!(head(a, t, short), head(b, short, short));
        }
        assert!(full[2][3 * t + 5].is_finite(), "a regressed date");
    }
}
