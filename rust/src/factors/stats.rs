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

/// Ranks of `sorted` (ascending) into `out`, ties averaged as in [`average_ranks`].
pub fn sorted_ranks(sorted: &[f64], out: &mut Vec<f64>) {
    out.clear();
    let n = sorted.len();
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && sorted[j] == sorted[i] {
            j += 1;
        }
        out.resize(j, 0.5 * (i + j + 1) as f64);
        i = j;
    }
}

/// Sum of `x - shift` in four interleaved lanes: a fixed order (so the same result on any
/// thread), without the latency chain of one running sum.
#[inline]
pub fn sum_lanes(x: &[f64], shift: f64) -> f64 {
    let mut acc = [0.0; 4];
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v - shift;
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for v in chunks.remainder() {
        s += v - shift;
    }
    s
}

/// Pearson correlation of `x` and `y` (same length), two-pass with the sums in four lanes.
/// NaN for fewer than two pairs or a constant side; clipped to `[-1, 1]`. On ranks (multiples of
/// 1/2 below 2^23) every sum is exact, so the result does not depend on the summation order.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    if n < 2 || x.iter().all(|&v| v == x[0]) || y.iter().all(|&v| v == y[0]) {
        return f64::NAN;
    }
    let (mx, my) = (sum_lanes(x, 0.0) / n as f64, sum_lanes(y, 0.0) / n as f64);
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
