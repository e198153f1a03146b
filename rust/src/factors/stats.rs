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

/// Pearson correlation of the pairs `(x(k), y(k))` for `k` in `items`, two-pass in item order.
/// NaN for fewer than two pairs or a constant side; clipped to `[-1, 1]`.
pub fn pearson(items: &[u32], x: impl Fn(u32) -> f64, y: impl Fn(u32) -> f64) -> f64 {
    let n = items.len();
    if n < 2 {
        return f64::NAN;
    }
    let (mut sx, mut sy) = (0.0, 0.0);
    for &k in items {
        sx += x(k);
        sy += y(k);
    }
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for &k in items {
        let (dx, dy) = (x(k) - mx, y(k) - my);
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
        let x = [1.0, 2.0, 3.0];
        let items = [0u32, 1, 2];
        assert!((pearson(&items, |k| x[k as usize], |k| -x[k as usize]) + 1.0).abs() < 1e-15);
        assert!(pearson(&items, |k| x[k as usize], |_| 1.0).is_nan());
        assert!(pearson(&items[..1], |k| x[k as usize], |k| x[k as usize]).is_nan());
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
