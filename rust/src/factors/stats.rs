//! Small per-date reductions: averaged-tie ranks, Pearson correlation and `pandas.qcut` edges.

/// Ranks (1-based, ties get the mean of their positions like `scipy.stats.rankdata`) of the
/// values `value(k)` for `k` in `order`, which lists the items sorted ascending by value. The rank
/// of `order[j]` is passed to `write(order[j], rank)`.
pub fn average_ranks(order: &[u32], value: impl Fn(u32) -> f64, mut write: impl FnMut(u32, f64)) {
    let n = order.len();
    let mut i = 0;
    while i < n {
        let v = value(order[i]);
        let mut j = i + 1;
        while j < n && value(order[j]) == v {
            j += 1;
        }
        // Positions i..j (0-based) share the rank mean((i+1)..=j) = (i + j + 1) / 2.
        let rank = 0.5 * (i + j + 1) as f64;
        for &k in &order[i..j] {
            write(k, rank);
        }
        i = j;
    }
}

/// Ranks of `sorted` (ascending) into `out`, ties averaged as in [`average_ranks`]: the start of
/// each name's run of equal values forwards, its end backwards, without a data-dependent branch
/// (factors rounded to a few digits tie often).
#[inline(always)]
pub fn sorted_ranks(sorted: &[f64], out: &mut Vec<f64>) {
    let n = sorted.len();
    out.clear();
    out.resize(n, 0.0);
    let mut start = 0;
    let mut prev = f64::NAN;
    for (j, (&v, o)) in sorted.iter().zip(out.iter_mut()).enumerate() {
        start = if v == prev { start } else { j };
        prev = v;
        *o = start as f64;
    }
    let mut end = n;
    let mut next = f64::NAN;
    for (j, (&v, o)) in sorted.iter().zip(out.iter_mut()).enumerate().rev() {
        end = if v == next { end } else { j + 1 };
        next = v;
        // Positions start..end (0-based) share the rank mean((start+1)..=end).
        *o = 0.5 * (*o + (end + 1) as f64);
    }
}

/// Spearman correlation from the ranks `rx` (averaged ties, over these very names) and the values
/// `y` sorted ascending (their ranks go to `ry`). Ranks are multiples of 1/2 and their mean is
/// exactly `(m + 1) / 2`, so every sum below is exact (for fewer than 2^17 names): the result is
/// the exact two-pass Pearson correlation of the ranks, whatever the summation order.
#[inline(always)]
pub fn spearman_sorted(rx: &[f64], y: &[f64], ry: &mut Vec<f64>) -> f64 {
    let m = rx.len().min(y.len());
    if m < 2 {
        return f64::NAN;
    }
    sorted_ranks(&y[..m], ry);
    let (mut sxy, mut syy) = ([0.0; 4], [0.0; 4]);
    let (mut cx, mut cy) = (rx[..m].chunks_exact(4), ry.chunks_exact(4));
    for (a, b) in (&mut cx).zip(&mut cy) {
        for l in 0..4 {
            sxy[l] += a[l] * b[l];
            syy[l] += b[l] * b[l];
        }
    }
    let fold = |a: [f64; 4]| (a[0] + a[1]) + (a[2] + a[3]);
    let (mut sxy, mut syy) = (fold(sxy), fold(syy));
    for (a, b) in cx.remainder().iter().zip(cy.remainder()) {
        sxy += a * b;
        syy += b * b;
    }
    spearman_from_sums(m as f64, sxy, sum_sq_lanes(&rx[..m]), syy)
}

/// Spearman correlation of `m` names from the raw sums of their ranks' cross products and squares
/// (each rank set averages ties, so both means are `(m + 1) / 2`). Exact when the sums are.
#[inline(always)]
pub fn spearman_from_sums(m: f64, sxy: f64, sxx: f64, syy: f64) -> f64 {
    if m < 2.0 {
        return f64::NAN;
    }
    let mean = 0.5 * (m + 1.0);
    let shift = m * mean * mean;
    let (sxy, sxx, syy) = (sxy - shift, sxx - shift, syy - shift);
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0)
}

/// Sum of `f(x)` over `x` in four interleaved lanes: a fixed order (so the same result on any
/// thread), without the latency chain of one running sum.
#[inline(always)]
fn fold_lanes(x: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0; 4];
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f(v);
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for &v in chunks.remainder() {
        s += f(v);
    }
    s
}

/// Sum of squares in four lanes (see [`fold_lanes`]).
#[inline(always)]
pub fn sum_sq_lanes(x: &[f64]) -> f64 {
    fold_lanes(x, |v| v * v)
}

/// One date's ranks as [`rank_pair_correlation`] needs them: which names are ranked (a bit
/// each), how many, and the sum of their squared doubled ranks.
pub struct RankSet<'a> {
    pub ranks: &'a [f32],
    pub mask: &'a [u64],
    pub count: f64,
    pub sum_sq: f64,
}

/// Pearson correlation of the ranks of two dates over the names ranked on both. Doubled ranks are
/// integers: the sums over each date are known, those of names ranked on one date only (few) are
/// taken off, and the cross product is one vectorised pass; all exact (for fewer than 2^17
/// names), with the co-moments formed in integers, so only the final division rounds.
#[inline(always)]
pub fn rank_pair_correlation(now: &RankSet<'_>, then: &RankSet<'_>) -> f64 {
    let (mut m, mut sx, mut sxx) = (now.count, now.count * (now.count + 1.0), now.sum_sq);
    let (mut sy, mut syy) = (then.count * (then.count + 1.0), then.sum_sq);
    for (w, (&a, &b)) in now.mask.iter().zip(then.mask).enumerate() {
        let mut only = a & !b;
        while only != 0 {
            let x = 2.0 * f64::from(now.ranks[w * 64 + only.trailing_zeros() as usize]);
            m -= 1.0;
            sx -= x;
            sxx -= x * x;
            only &= only - 1;
        }
        let mut only = b & !a;
        while only != 0 {
            let y = 2.0 * f64::from(then.ranks[w * 64 + only.trailing_zeros() as usize]);
            sy -= y;
            syy -= y * y;
            only &= only - 1;
        }
    }
    // Unranked names have rank 0: they add nothing to the cross product.
    let mut acc = [0.0; 4];
    let (mut cn, mut ct) = (now.ranks.chunks_exact(4), then.ranks.chunks_exact(4));
    for (a, b) in (&mut cn).zip(&mut ct) {
        for l in 0..4 {
            acc[l] += f64::from(a[l]) * f64::from(b[l]);
        }
    }
    let mut sxy = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (&a, &b) in cn.remainder().iter().zip(ct.remainder()) {
        sxy += f64::from(a) * f64::from(b);
    }
    let [m, sx, sy, sxx, syy, sxy] = [m, sx, sy, sxx, syy, 4.0 * sxy].map(|v| v as i128);
    if m < 2 {
        return f64::NAN;
    }
    let cov = m * sxy - sx * sy;
    let (vx, vy) = (m * sxx - sx * sx, m * syy - sy * sy);
    if vx == 0 || vy == 0 {
        return f64::NAN;
    }
    (cov as f64 / ((vx as f64).sqrt() * (vy as f64).sqrt())).clamp(-1.0, 1.0)
}

/// Sum of `x - shift` in four lanes (see [`fold_lanes`]).
#[inline(always)]
pub fn sum_lanes(x: &[f64], shift: f64) -> f64 {
    fold_lanes(x, |v| v - shift)
}

/// Pearson correlation of `x` and `y` (same length), two-pass with the sums in four lanes.
/// NaN for fewer than two pairs or a constant side; clipped to `[-1, 1]`. On ranks (multiples of
/// 1/2 below 2^23) every sum is exact, so the result does not depend on the summation order.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    pearson_given(x, y, sum_lanes(x, 0.0), sum_lanes(y, 0.0))
}

/// [`pearson`] with the sums of `x` and `y` (by [`sum_lanes`]) already known.
#[inline(always)]
pub fn pearson_given(x: &[f64], y: &[f64], sx: f64, sy: f64) -> f64 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    if n < 2 || x.iter().all(|&v| v == x[0]) || y.iter().all(|&v| v == y[0]) {
        return f64::NAN;
    }
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let (mut sxy, mut sxx, mut syy) = ([0.0; 4], [0.0; 4], [0.0; 4]);
    let (mut cx, mut cy) = (x.chunks_exact(4), y.chunks_exact(4));
    for (a, b) in (&mut cx).zip(&mut cy) {
        for l in 0..4 {
            let (dx, dy) = (a[l] - mx, b[l] - my);
            sxy[l] += dx * dy;
            sxx[l] += dx * dx;
            syy[l] += dy * dy;
        }
    }
    let fold = |a: [f64; 4]| (a[0] + a[1]) + (a[2] + a[3]);
    let (mut sxy, mut sxx, mut syy) = (fold(sxy), fold(sxx), fold(syy));
    for (a, b) in cx.remainder().iter().zip(cy.remainder()) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0)
}

/// Bin edges of `pandas.qcut(values, quantiles)` for values sorted ascending, computed exactly as
/// `numpy.quantile(method="linear")` does, into `edges` (`quantiles + 1` values). Returns false when two
/// edges coincide (pandas raises there; we report the date as degenerate).
#[inline(always)]
pub fn qcut_edges(sorted: &[f64], quantiles: usize, edges: &mut [f64]) -> bool {
    let n = sorted.len();
    if n == 0 {
        return false;
    }
    let step = 1.0 / quantiles as f64;
    for (k, e) in edges.iter_mut().enumerate().take(quantiles + 1) {
        // numpy.linspace(0, 1, q + 1), then numpy.quantile's virtual index (n - 1) * q.
        let q = if k == quantiles { 1.0 } else { k as f64 * step };
        let virt = (n - 1) as f64 * q;
        *e = if virt >= (n - 1) as f64 {
            sorted[n - 1]
        } else {
            let prev = virt.floor();
            let gamma = virt - prev;
            let p = prev as usize;
            let (a, b) = (sorted[p], sorted[p + 1]);
            let d = b - a;
            if gamma >= 0.5 {
                b - d * (1.0 - gamma)
            } else {
                a + d * gamma
            }
        };
    }
    quantiles == 1 || edges[..=quantiles].windows(2).all(|w| w[0] != w[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_are_averaged() {
        let v = [3.0, 1.0, 3.0, 2.0];
        let order = [1u32, 3, 0, 2];
        let mut r = [0.0; 4];
        average_ranks(&order, |k| v[k as usize], |k, x| r[k as usize] = x);
        assert_eq!(r, [3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn pearson_handles_degenerate_inputs() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let y: Vec<f64> = x.iter().map(|v| -v).collect();
        assert!((pearson(&x, &y) + 1.0).abs() < 1e-15);
        assert!(pearson(&x, &[1.0; 6]).is_nan());
        assert!(pearson(&[0.1; 3], &x[..3]).is_nan());
        assert!(pearson(&x[..1], &x[..1]).is_nan());
        assert!((sum_lanes(&x, 1.0) - 15.0).abs() < 1e-15);
        let mut r = Vec::new();
        sorted_ranks(&[1.0, 2.0, 2.0, 3.0, 3.0, 3.0], &mut r);
        assert_eq!(r, [1.0, 2.5, 2.5, 5.0, 5.0, 5.0]);
        let rx = [2.0, 1.0, 3.5, 3.5, 5.0];
        let y = [0.1, 0.2, 0.2, 0.3, 0.4];
        let mut ry = Vec::new();
        let two_pass = pearson(&rx, &[1.0, 2.5, 2.5, 4.0, 5.0]);
        assert_eq!(spearman_sorted(&rx, &y, &mut ry), two_pass);
        let now = [1.0f32, 2.0, 0.0, 3.0, 4.0, 5.0];
        let then = [2.0f32, 1.0, 4.5, 0.0, 4.5, 3.0];
        let x = [1.0, 2.0, 4.0, 5.0];
        let y = [2.0, 1.0, 4.5, 3.0];
        let (mut mn, mut mt) = ([0u64], [0u64]);
        let set = |ranks: &'static [f32], mask: &mut [u64; 1]| {
            let mut sum_sq = 0.0;
            for (i, &r) in ranks.iter().enumerate() {
                if r > 0.0 {
                    mask[0] |= 1 << i;
                    sum_sq += 4.0 * f64::from(r) * f64::from(r);
                }
            }
            (ranks.iter().filter(|&&r| r > 0.0).count() as f64, sum_sq)
        };
        let (cn, qn) = set(&[1.0, 2.0, 0.0, 3.0, 4.0, 5.0], &mut mn);
        let (ct, qt) = set(&[2.0, 1.0, 4.5, 0.0, 4.5, 3.0], &mut mt);
        let a = RankSet {
            ranks: &now,
            mask: &mn,
            count: cn,
            sum_sq: qn,
        };
        let b = RankSet {
            ranks: &then,
            mask: &mt,
            count: ct,
            sum_sq: qt,
        };
        assert!((rank_pair_correlation(&a, &b) - pearson(&x, &y)).abs() < 1e-15);
    }

    #[test]
    fn qcut_edges_detect_duplicates() {
        let mut e = [0.0; 3];
        assert!(qcut_edges(&[1.0, 2.0, 3.0], 2, &mut e));
        assert_eq!(e, [1.0, 2.0, 3.0]);
        assert!(!qcut_edges(&[1.0, 1.0, 1.0], 2, &mut e));
        assert!(qcut_edges(&[1.0], 1, &mut e[..2]));
    }
}
