//! The statistics of one factor on one date: ranks and quantile labels, counts, ICs and sums by
//! quantile per horizon, and the comparisons with an earlier date (turnover, rank
//! autocorrelation). Everything works on one contiguous cross-section and reuses [`Scratch`].

use super::cross::Layout;
use super::sort::sort_by_value;
use super::stats::{average_ranks, pearson, qcut_edges, sorted_ranks, sum_lanes};

/// Working buffers of one worker, reused from date to date (no allocation in the loop).
#[derive(Default)]
pub struct Scratch {
    keys: Vec<u64>,
    tmp: Vec<u64>,
    /// The ranked names of the current factor and date in factor order, and their values.
    order: Vec<u32>,
    sorted: Vec<f64>,
    edges: Vec<f64>,
    used: Vec<u32>,
    x: Vec<f64>,
    y: Vec<f64>,
    rx: Vec<f64>,
    ry: Vec<f64>,
    /// Return ranks by asset (only the entries of the current subset are meaningful).
    rr: Vec<f64>,
    by_r: Vec<u32>,
    sub: Vec<u32>,
    gx: Vec<f64>,
    gy: Vec<f64>,
}

/// What [`rank_date`] found: names with a finite factor, names ranked (also complete), whether
/// the date has quantile labels.
pub struct Ranked {
    pub n_raw: usize,
    pub n_ranked: usize,
    pub labelled: bool,
}

/// Sorts `items` (ascending asset indices) by `values` into `order`.
pub fn sort_items(
    items: impl Iterator<Item = u32>,
    values: &[f64],
    s: &mut Scratch,
    order: &mut Vec<u32>,
) {
    sort_by_value(
        items,
        |k| values[k as usize],
        &mut s.keys,
        &mut s.tmp,
        order,
    );
}

/// Ranks (0 = not ranked) and quantile labels (0 = none) of the names with a finite factor that
/// are `complete`; `bucket` gets the number of names per label. Leaves the ranked names sorted
/// in the scratch for [`horizon_stats`].
pub fn rank_date(
    f: &[f64],
    complete: &[bool],
    q: usize,
    s: &mut Scratch,
    ranks: &mut [f32],
    labels: &mut [u8],
    bucket: &mut [u32],
) -> Ranked {
    let n_raw = f.iter().filter(|v| v.is_finite()).count();
    let mut order = std::mem::take(&mut s.order);
    sort_items(
        (0..f.len() as u32).filter(|&i| f[i as usize].is_finite() && complete[i as usize]),
        f,
        s,
        &mut order,
    );
    s.order = order;
    s.sorted.clear();
    s.sorted.extend(s.order.iter().map(|&k| f[k as usize]));
    // Ranks: half-integers <= n_assets < 2^23, exact in f32.
    ranks.fill(0.0);
    sorted_ranks(&s.sorted, &mut s.rx);
    for (&k, &r) in s.order.iter().zip(&s.rx) {
        ranks[k as usize] = r as f32;
    }
    labels.fill(0);
    bucket.fill(0);
    s.edges.resize(q + 1, 0.0);
    let labelled = qcut_edges(&s.sorted, q, &mut s.edges);
    if labelled {
        let edges = &s.edges[..=q];
        let increasing = edges.windows(2).all(|w| w[0] < w[1]);
        // The label is the number of edges below the value (at least 1); along the sorted values
        // it only grows, so one walk over the edges replaces a binary search per name.
        let mut below = 0;
        for (&k, &v) in s.order.iter().zip(&s.sorted) {
            if increasing {
                while below <= q && edges[below] < v {
                    below += 1;
                }
            } else {
                below = edges.partition_point(|e| *e < v);
            }
            let id = below.max(1);
            labels[k as usize] = id as u8;
            bucket[id - 1] += 1;
        }
    }
    Ranked {
        n_raw,
        n_ranked: s.order.len(),
        labelled,
    }
}

/// Slots of one horizon in a date record (see [`super::cross`]).
pub struct HorizonOut<'a> {
    pub counts: &'a mut [f64],
    pub ic: &'a mut [f64],
    pub qret: &'a mut [f64],
}

/// Counts, rank and Pearson IC and (demeaned) sums by quantile of horizon `h` for the factor last
/// passed to [`rank_date`]; `r_order` lists the names with a finite return sorted by it.
#[allow(clippy::too_many_arguments)]
pub fn horizon_stats(
    f: &[f64],
    r: &[f64],
    r_order: &[u32],
    ranks: &[f32],
    labels: &[u8],
    info: &Ranked,
    lay: &Layout<'_>,
    h: usize,
    s: &mut Scratch,
    out: HorizonOut<'_>,
) {
    let (nh, q, g1) = (lay.n_horizons, lay.quantiles, 1 + lay.n_groups);
    let Scratch {
        order,
        sorted,
        used,
        x,
        y,
        rx,
        ry,
        rr,
        by_r,
        sub,
        gx,
        gy,
        ..
    } = s;
    // The names used, in factor order, with their factor values and returns.
    used.clear();
    x.clear();
    y.clear();
    for (&k, &v) in order.iter().zip(sorted.iter()) {
        let ret = r[k as usize];
        if ret.is_finite() {
            used.push(k);
            x.push(v);
            y.push(ret);
        }
    }
    let missing_factor = f
        .iter()
        .zip(r)
        .filter(|(a, b)| b.is_finite() && !a.is_finite())
        .count();
    out.counts[0] = used.len() as f64;
    out.counts[1] = missing_factor as f64;
    out.counts[2] = (info.n_raw - used.len()) as f64;

    // Rank IC: factor ranks over the names used (x is sorted), return ranks over the same names
    // from the date's shared return order.
    rr.resize(f.len(), 0.0);
    by_r.clear();
    by_r.extend(r_order.iter().copied().filter(|&k| ranks[k as usize] > 0.0));
    average_ranks(by_r, |k| r[k as usize], |k, v| rr[k as usize] = v);
    ry.clear();
    ry.extend(used.iter().map(|&k| rr[k as usize]));
    sorted_ranks(x, rx);
    out.ic[h * g1] = pearson(rx, ry);
    out.ic[(nh + h) * g1] = pearson(x, y);
    for g in 1..g1 {
        let code = (g - 1) as i64;
        let in_group = |k: u32| lay.groups.get(k as usize) == Some(&code);
        sub.clear();
        sub.extend(by_r.iter().copied().filter(|&k| in_group(k)));
        average_ranks(sub, |k| r[k as usize], |k, v| rr[k as usize] = v);
        gx.clear();
        gy.clear();
        ry.clear();
        for (j, &k) in used.iter().enumerate() {
            if in_group(k) {
                gx.push(x[j]);
                gy.push(y[j]);
                ry.push(rr[k as usize]);
            }
        }
        sorted_ranks(gx, rx);
        out.ic[h * g1 + g] = pearson(rx, ry);
        out.ic[(nh + h) * g1 + g] = pearson(gx, gy);
    }

    // Returns by quantile: every name used has a label on a labelled date, and labels grow along
    // the factor order, so each quantile is one run of `y`.
    if !info.labelled || used.is_empty() {
        return;
    }
    let mean = if lay.demeaned {
        sum_lanes(y, 0.0) / y.len() as f64
    } else {
        0.0
    };
    let (sums, cnts) = (h * g1 * q, (nh + h) * g1 * q);
    let mut j0 = 0;
    while j0 < used.len() {
        let label = labels[used[j0] as usize];
        let mut j1 = j0 + 1;
        while j1 < used.len() && labels[used[j1] as usize] == label {
            j1 += 1;
        }
        let b = usize::from(label) - 1;
        out.qret[sums + b] = sum_lanes(&y[j0..j1], mean);
        out.qret[cnts + b] = (j1 - j0) as f64;
        j0 = j1;
    }
    if g1 > 1 {
        for (j, &k) in used.iter().enumerate() {
            if let Some(&g) = lay.groups.get(k as usize) {
                if g >= 0 {
                    let at = (1 + g as usize) * q + usize::from(labels[k as usize]) - 1;
                    out.qret[sums + at] += y[j] - mean;
                    out.qret[cnts + at] += 1.0;
                }
            }
        }
    }
}

/// Turnover of each quantile (share of its names not in it on the earlier date; NaN when the
/// earlier date has no labels or the quantile is empty) and the rank autocorrelation between the
/// two dates over the names ranked on both.
#[allow(clippy::too_many_arguments)]
pub fn lag_stats(
    now_ranks: &[f32],
    then_ranks: &[f32],
    now_labels: &[u8],
    then_labels: &[u8],
    now_bucket: &[u32],
    then_labelled: bool,
    s: &mut Scratch,
    turnover: &mut [f64],
    autocorr: &mut f64,
) {
    let q = now_bucket.len();
    if then_labelled {
        let mut same = [0u32; 256];
        if q <= 8 {
            // A few vectorised passes beat one pass of scattered increments.
            for (b, c) in same.iter_mut().enumerate().skip(1).take(q) {
                let b = b as u8;
                *c = now_labels
                    .iter()
                    .zip(then_labels)
                    .map(|(&a, &p)| u32::from((a == b) & (p == b)))
                    .sum();
            }
        } else {
            for (&a, &p) in now_labels.iter().zip(then_labels) {
                same[usize::from(a)] += u32::from(a == p);
            }
        }
        for (b, o) in turnover.iter_mut().enumerate() {
            let total = now_bucket[b];
            *o = if total > 0 {
                f64::from(total - same[b + 1]) / f64::from(total)
            } else {
                f64::NAN
            };
        }
    } else {
        turnover.fill(f64::NAN);
    }
    let n = now_ranks.len();
    s.gx.resize(n, 0.0);
    s.gy.resize(n, 0.0);
    let mut m = 0;
    for (&a, &p) in now_ranks.iter().zip(then_ranks) {
        s.gx[m] = f64::from(a);
        s.gy[m] = f64::from(p);
        m += usize::from((a > 0.0) & (p > 0.0));
    }
    *autocorr = pearson(&s.gx[..m], &s.gy[..m]);
}
