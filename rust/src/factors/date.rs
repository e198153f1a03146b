//! The statistics of one factor on one date: ranks and quantile labels, counts, ICs and sums by
//! quantile per horizon, and the comparisons with an earlier date (turnover, rank
//! autocorrelation). Everything works on one contiguous cross-section and reuses [`Scratch`].

use super::cross::Layout;
use super::sort::sort_by_value;
use super::stats::{
    pearson, pearson_given, qcut_edges, rank_pair_correlation, sorted_ranks, spearman_from_sums,
    spearman_sorted, sum_lanes, sum_sq_lanes, RankSet,
};

/// Working buffers of one worker, reused from date to date (no allocation in the loop).
#[derive(Default)]
pub struct Scratch {
    keys: Vec<u64>,
    tmp: Vec<u64>,
    /// The ranked names of the current factor and date in factor order, and their values.
    order: Vec<u32>,
    sorted: Vec<f64>,
    edges: Vec<f64>,
    /// Returns of the ranked names in factor order.
    y: Vec<f64>,
    /// A bit per name with a finite factor (see [`finite_mask`]).
    finite: Vec<u64>,
    /// The names used, factor values and returns when some ranked name has no return.
    used: Vec<u32>,
    fx: Vec<f64>,
    fy: Vec<f64>,
    rx: Vec<f64>,
    /// Factor ranks over the names used, by asset (0 = not used).
    rf: Vec<f32>,
    /// The names used in return order: returns, factor ranks, return ranks.
    rv: Vec<f64>,
    xr: Vec<f64>,
    ry: Vec<f64>,
    /// First position of each sorted value's run of ties.
    starts: Vec<u32>,
    groups: GroupScratch,
}

/// What [`rank_date`] found: names with a finite factor, names ranked (also complete), whether
/// the date has quantile labels.
pub struct Ranked {
    pub n_raw: usize,
    pub n_ranked: usize,
    pub labelled: bool,
    /// Sum of the squared doubled ranks (exact).
    pub sum_sq: f64,
    /// Sum of the ranked values (by [`sum_lanes`] in sorted order); the same for every horizon.
    pub sum: f64,
}

/// One horizon's returns on one date, sorted once for all factors.
#[derive(Default)]
pub struct SortedReturns {
    /// Names with a finite return, by return (ties by index), and their returns.
    pub order: Vec<u32>,
    pub sorted: Vec<f64>,
    /// Whether two names share a return (then return ranks need averaging).
    pub ties: bool,
    /// A bit per name with a finite return (see [`finite_mask`]).
    pub finite: Vec<u64>,
}

/// A bit per value of `x`, set where it is finite: the names with a return but no factor are
/// then counted a word at a time for every factor and horizon, not a value at a time.
#[inline(always)]
fn finite_mask(x: &[f64], mask: &mut Vec<u64>) -> usize {
    mask.clear();
    mask.resize(x.len().div_ceil(64), 0);
    for (word, chunk) in mask.iter_mut().zip(x.chunks(64)) {
        let mut bits = 0u64;
        for (i, v) in chunk.iter().enumerate() {
            bits |= u64::from(v.is_finite()) << i;
        }
        *word = bits;
    }
    mask.iter().map(|w| w.count_ones() as usize).sum()
}

/// Sorts the names with a finite return `r` into `out`.
#[inline(always)]
pub fn sort_returns(r: &[f64], s: &mut Scratch, out: &mut SortedReturns) {
    sort_by_value(
        r,
        |_| true,
        &mut s.keys,
        &mut s.tmp,
        &mut out.order,
        &mut out.sorted,
    );
    out.ties = out.sorted.windows(2).any(|w| w[0] == w[1]);
    finite_mask(r, &mut out.finite);
}

/// Ranks (0 = not ranked) and quantile labels (0 = none) of the names with a finite factor that
/// are `complete` (also given as `complete_bits`, a bit per name); `bucket` gets the number of
/// names per label, `mask` a bit per ranked name.
/// Leaves the ranked names sorted in the scratch for [`horizon_stats`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn rank_date(
    f: &[f64],
    complete: &[bool],
    complete_bits: &[u64],
    q: usize,
    s: &mut Scratch,
    ranks: &mut [f32],
    labels: &mut [u8],
    bucket: &mut [u32],
    mask: &mut [u64],
) -> Ranked {
    let n_raw = finite_mask(f, &mut s.finite);
    sort_by_value(
        f,
        |i| complete[i],
        &mut s.keys,
        &mut s.tmp,
        &mut s.order,
        &mut s.sorted,
    );
    // Ranks: half-integers <= n_assets < 2^23, exact in f32.
    ranks.fill(0.0);
    let sum_sq = 4.0 * scatter_ranks(&s.sorted, &s.order, &mut s.starts, ranks);
    // Ranked = finite and complete: a word at a time rather than a bit per name.
    for ((m, &f), &c) in mask.iter_mut().zip(&s.finite).zip(complete_bits) {
        *m = f & c;
    }
    labels.fill(0);
    bucket.fill(0);
    s.edges.resize(q + 1, 0.0);
    let labelled = qcut_edges(&s.sorted, q, &mut s.edges);
    if labelled {
        let edges = &s.edges[..=q];
        if edges.windows(2).all(|w| w[0] < w[1]) {
            // The label is the number of edges below the value (at least 1); it only grows along
            // the sorted values, so each label is one run, found by a binary search per edge.
            let mut j0 = 0;
            for (b, &edge) in edges.iter().enumerate() {
                let j1 = s.sorted.partition_point(|&v| v <= edge);
                let id = b.max(1);
                for &k in &s.order[j0..j1] {
                    labels[k as usize] = id as u8;
                }
                bucket[id - 1] += (j1 - j0) as u32;
                j0 = j1;
            }
        } else {
            for (&k, &v) in s.order.iter().zip(&s.sorted) {
                let id = edges.partition_point(|e| *e < v).clamp(1, q);
                labels[k as usize] = id as u8;
                bucket[id - 1] += 1;
            }
        }
    }
    Ranked {
        n_raw,
        n_ranked: s.order.len(),
        labelled,
        sum_sq,
        sum: sum_lanes(&s.sorted, 0.0),
    }
}

/// Averaged-tie ranks of `sorted` (as [`sorted_ranks`]) written to `ranks` at the names
/// `order`, with their sum of squares (exact, so the summation order does not matter); `start`
/// is scratch.
#[inline(always)]
fn scatter_ranks(sorted: &[f64], order: &[u32], start: &mut Vec<u32>, ranks: &mut [f32]) -> f64 {
    let n = sorted.len().min(order.len());
    // Without ties (the usual cross-section of a continuous factor) the j-th name has rank j + 1
    // and the sum of squares is n (n + 1) (2n + 1) / 6, exact like the sum over runs below
    // (integers below 2^53), so both ways give the same bits. The test folds without early exit
    // so that it vectorises.
    let ties = sorted[..n]
        .windows(2)
        .fold(false, |any, w| any | (w[0] == w[1]));
    if !ties {
        for (j, &k) in order[..n].iter().enumerate() {
            ranks[k as usize] = (j + 1) as f32;
        }
        let m = n as f64;
        return m * (m + 1.0) * (2.0 * m + 1.0) / 6.0;
    }
    // Twice an averaged rank is the sum of its run's first and last positions (1-based), an
    // integer: ranks and squares are exact in integer arithmetic. Two branch-free passes (runs
    // are short and frequent in rounded data): run starts forward, run ends backward. A float
    // accumulator indexed by position parity stayed in memory (a store-to-load chain per name).
    start.clear();
    start.resize(n, 0);
    let (mut first, mut prev) = (0u32, f64::NAN);
    for (j, (&v, o)) in sorted.iter().zip(start.iter_mut()).enumerate() {
        first = if v == prev { first } else { j as u32 };
        prev = v;
        *o = first;
    }
    let (mut end, mut next) = (n as u64, f64::NAN);
    let mut sum4 = 0u64;
    for j in (0..n).rev() {
        let v = sorted[j];
        end = if v == next { end } else { j as u64 + 1 };
        next = v;
        let two_r = u64::from(start[j]) + end + 1;
        ranks[order[j] as usize] = two_r as f32 * 0.5;
        sum4 += two_r * two_r;
    }
    sum4 as f64 / 4.0
}

/// Slots of one horizon in a date record (see [`super::cross`]).
pub struct HorizonOut<'a> {
    pub counts: &'a mut [f64],
    pub ic: &'a mut [f64],
    pub qret: &'a mut [f64],
}

/// The factor state of one date that [`horizon_stats`] reads (see [`rank_date`]).
pub struct DateState<'a> {
    pub ranks: &'a [f32],
    pub labels: &'a [u8],
    pub bucket: &'a [u32],
    pub info: &'a Ranked,
}

/// Counts, rank and Pearson IC and (demeaned) sums by quantile of horizon `h` for the factor last
/// passed to [`rank_date`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn horizon_stats(
    f: &[f64],
    r: &[f64],
    ret: &SortedReturns,
    date: &DateState<'_>,
    lay: &Layout<'_>,
    h: usize,
    s: &mut Scratch,
    out: HorizonOut<'_>,
) {
    let (n, nh, q, g1) = (f.len(), lay.n_horizons, lay.quantiles, 1 + lay.n_groups);
    let Scratch {
        order,
        sorted,
        y,
        used,
        fx,
        fy,
        rx,
        rf,
        rv,
        xr,
        ry,
        ..
    } = s;
    // The names used (ranked, with a return) in factor order, with factor values and returns.
    // With a common universe every ranked name has every return: no filtering, and the date's
    // ranks are the factor ranks.
    let (n_finite, sum_y) = gather_sum(order, r, y);
    let all_used = n_finite == order.len();
    let (used, xs, ys, rank_of, sum_sq): (&[u32], &[f64], &[f64], &[f32], f64) = if all_used {
        (order, sorted, y, date.ranks, date.info.sum_sq / 4.0)
    } else {
        used.clear();
        fx.clear();
        fy.clear();
        for ((&k, &v), &ret) in order.iter().zip(sorted.iter()).zip(y.iter()) {
            if ret.is_finite() {
                used.push(k);
                fx.push(v);
                fy.push(ret);
            }
        }
        sorted_ranks(fx, rx);
        rf.clear();
        rf.resize(n, 0.0);
        for (&k, &v) in used.iter().zip(rx.iter()) {
            rf[k as usize] = v as f32;
        }
        (used, fx, fy, rf, sum_sq_lanes(rx))
    };
    let missing_factor: u32 = ret
        .finite
        .iter()
        .zip(&s.finite)
        .map(|(&r, &f)| (r & !f).count_ones())
        .sum();
    out.counts[0] = used.len() as f64;
    out.counts[1] = missing_factor as f64;
    out.counts[2] = (date.info.n_raw - used.len()) as f64;

    // Rank IC, walking the names in return order. Without tied returns the j-th name used there
    // has return rank j: one pass; else the names used are collected and their ranks averaged.
    out.ic[h * g1] = if ret.ties {
        rv.resize(ret.order.len(), 0.0);
        xr.resize(ret.order.len(), 0.0);
        let mut m = 0;
        for (&k, &v) in ret.order.iter().zip(&ret.sorted) {
            let a = rank_of[k as usize];
            rv[m] = v;
            xr[m] = f64::from(a);
            m += usize::from(a > 0.0);
        }
        spearman_sorted(&xr[..m], &rv[..m], ry)
    } else {
        let (m, sxy) = rank_dot(&ret.order, rank_of);
        let m = m as f64;
        let syy = m * (m + 1.0) * (2.0 * m + 1.0) / 6.0;
        spearman_from_sums(m, sxy, sum_sq, syy)
    };
    // With every ranked name used, both sums are known (and equal to `sum_lanes` of each side).
    let (sx, sy) = if all_used {
        (date.info.sum, sum_y)
    } else {
        (sum_lanes(xs, 0.0), sum_lanes(ys, 0.0))
    };
    out.ic[(nh + h) * g1] = pearson_given(xs, ys, sx, sy);
    if g1 > 1 {
        group_ics(r, &ret.order, used, xs, ys, lay, h, &mut s.groups, out.ic);
    }

    // Returns by quantile: on a labelled date every name used has a label, and labels grow along
    // the factor order, so each quantile is one run of `ys`.
    if !date.info.labelled || used.is_empty() {
        return;
    }
    let mean = if lay.demeaned {
        sy / ys.len() as f64
    } else {
        0.0
    };
    let (sums, cnts) = (h * g1 * q, (nh + h) * g1 * q);
    let mut j0 = 0;
    while j0 < used.len() {
        let label = date.labels[used[j0] as usize];
        let b = usize::from(label) - 1;
        let j1 = if all_used {
            j0 + date.bucket[b] as usize
        } else {
            let mut j1 = j0 + 1;
            while j1 < used.len() && date.labels[used[j1] as usize] == label {
                j1 += 1;
            }
            j1
        };
        out.qret[sums + b] = sum_lanes(&ys[j0..j1], mean);
        out.qret[cnts + b] = (j1 - j0) as f64;
        j0 = j1;
    }
    if g1 > 1 {
        for (j, &k) in used.iter().enumerate() {
            if let Some(&g) = lay.groups.get(k as usize) {
                if g >= 0 {
                    let at = (1 + g as usize) * q + usize::from(date.labels[k as usize]) - 1;
                    out.qret[sums + at] += ys[j] - mean;
                    out.qret[cnts + at] += 1.0;
                }
            }
        }
    }
}

/// `y` = `r` at the names `order`; also how many are finite and their sum in the lanes of
/// [`sum_lanes`] (same order, so the same bits; meaningless unless all are finite).
#[inline(always)]
fn gather_sum(order: &[u32], r: &[f64], y: &mut Vec<f64>) -> (usize, f64) {
    // Every slot is written below: only a longer date than any before pays a fill.
    y.resize(order.len(), 0.0);
    let mut acc = [0.0; 4];
    let mut finite = [0usize; 4];
    let mut chunks = order.chunks_exact(4);
    let mut out = y.chunks_exact_mut(4);
    for (c, o) in (&mut chunks).zip(&mut out) {
        for l in 0..4 {
            let v = r[c[l] as usize];
            o[l] = v;
            acc[l] += v;
            finite[l] += usize::from(v.is_finite());
        }
    }
    let mut sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    let mut n = finite.iter().sum::<usize>();
    for (&k, o) in chunks.remainder().iter().zip(out.into_remainder()) {
        let v = r[k as usize];
        *o = v;
        sum += v;
        n += usize::from(v.is_finite());
    }
    (n, sum)
}

/// Over `order`, the names with a rank (> 0) and the sum of rank x position among them (1-based),
/// in four lanes (exact: multiples of 1/2 below 2^53).
#[inline(always)]
fn rank_dot(order: &[u32], rank_of: &[f32]) -> (u32, f64) {
    let mut acc = [0.0; 4];
    let mut m = 0u32;
    let mut chunks = order.chunks_exact(4);
    for c in &mut chunks {
        let x = [0, 1, 2, 3].map(|l| rank_of[c[l] as usize]);
        if x.iter().all(|&v| v > 0.0) {
            // The usual case, all four ranked: positions m+1..=m+4, no chain through `m`.
            for (l, a) in acc.iter_mut().enumerate() {
                *a += f64::from(x[l]) * f64::from(m + l as u32 + 1);
            }
            m += 4;
        } else {
            for (a, &x) in acc.iter_mut().zip(&x) {
                m += u32::from(x > 0.0);
                *a += f64::from(x) * f64::from(m);
            }
        }
    }
    let mut sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for &k in chunks.remainder() {
        let x = rank_of[k as usize];
        m += u32::from(x > 0.0);
        sum += f64::from(x) * f64::from(m);
    }
    (m, sum)
}

/// Buffers of the per-group ICs.
#[derive(Default)]
pub struct GroupScratch {
    names: Vec<u32>,
    x: Vec<f64>,
    y: Vec<f64>,
    rx: Vec<f64>,
    ranks: Vec<f32>,
    rv: Vec<f64>,
    xr: Vec<f64>,
    ry: Vec<f64>,
}

/// Rank and Pearson IC within each group, over the names `used` (factor values `xs`, returns
/// `ys`, in factor order).
#[allow(clippy::too_many_arguments)]
fn group_ics(
    r: &[f64],
    r_order: &[u32],
    used: &[u32],
    xs: &[f64],
    ys: &[f64],
    lay: &Layout<'_>,
    h: usize,
    s: &mut GroupScratch,
    ic: &mut [f64],
) {
    let (nh, g1) = (lay.n_horizons, 1 + lay.n_groups);
    for g in 1..g1 {
        let code = (g - 1) as i64;
        let in_group = |k: u32| lay.groups.get(k as usize) == Some(&code);
        s.names.clear();
        s.x.clear();
        s.y.clear();
        for (j, &k) in used.iter().enumerate() {
            if in_group(k) {
                s.names.push(k);
                s.x.push(xs[j]);
                s.y.push(ys[j]);
            }
        }
        sorted_ranks(&s.x, &mut s.rx);
        s.ranks.clear();
        s.ranks.resize(r.len(), 0.0);
        for (&k, &v) in s.names.iter().zip(s.rx.iter()) {
            s.ranks[k as usize] = v as f32;
        }
        s.rv.clear();
        s.xr.clear();
        for &k in r_order {
            let a = s.ranks[k as usize];
            if a > 0.0 {
                s.rv.push(r[k as usize]);
                s.xr.push(f64::from(a));
            }
        }
        ic[h * g1 + g] = spearman_sorted(&s.xr, &s.rv, &mut s.ry);
        ic[(nh + h) * g1 + g] = pearson(&s.x, &s.y);
    }
}

/// Turnover of each quantile (share of its names not in it on the earlier date; NaN when the
/// earlier date has no labels or the quantile is empty) and the rank autocorrelation between the
/// two dates over the names ranked on both.
#[inline(always)]
pub fn lag_stats(
    now: &DateState<'_>,
    now_set: &RankSet<'_>,
    then_set: &RankSet<'_>,
    then_labels: &[u8],
    then_labelled: bool,
    turnover: &mut [f64],
    autocorr: &mut f64,
) {
    let q = now.bucket.len();
    if then_labelled {
        let mut same = [0u32; 256];
        if q <= SMALL_Q {
            same_labels_small(now.labels, then_labels, q, &mut same);
        } else {
            for (&a, &p) in now.labels.iter().zip(then_labels) {
                same[usize::from(a)] += u32::from(a == p);
            }
        }
        for (b, o) in turnover.iter_mut().enumerate() {
            let total = now.bucket[b];
            *o = if total > 0 {
                f64::from(total - same[b + 1]) / f64::from(total)
            } else {
                f64::NAN
            };
        }
    } else {
        turnover.fill(f64::NAN);
    }
    *autocorr = rank_pair_correlation(now_set, then_set);
}

/// Quantile counts up to which [`same_labels_small`] is used.
const SMALL_Q: usize = 8;

/// `same[b]` = names labelled `b` (1..=q) on both dates, for `q <= SMALL_Q`: counted in byte
/// lanes (flushed before they can overflow), which vectorises 16 names per step.
#[inline(always)]
fn same_labels_small(now: &[u8], then: &[u8], q: usize, same: &mut [u32; 256]) {
    let mut acc = [[0u8; 16]; SMALL_Q];
    let flush = |acc: &mut [[u8; 16]; SMALL_Q], same: &mut [u32; 256]| {
        for (b, lanes) in acc.iter_mut().enumerate().take(q) {
            same[b + 1] += lanes.iter().map(|&c| u32::from(c)).sum::<u32>();
            *lanes = [0; 16];
        }
    };
    let (mut cn, mut ct) = (now.chunks_exact(16), then.chunks_exact(16));
    for (step, (a, p)) in (&mut cn).zip(&mut ct).enumerate() {
        for (b, lanes) in acc.iter_mut().enumerate().take(q) {
            let label = b as u8 + 1;
            for l in 0..16 {
                lanes[l] = lanes[l].wrapping_add(u8::from((a[l] == p[l]) & (a[l] == label)));
            }
        }
        if step % 255 == 254 {
            flush(&mut acc, same);
        }
    }
    flush(&mut acc, same);
    for (&a, &p) in cn.remainder().iter().zip(ct.remainder()) {
        same[usize::from(a)] += u32::from(a == p);
    }
}
