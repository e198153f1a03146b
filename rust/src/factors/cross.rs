//! The per-date analytics of one or more factors against forward returns over several horizons.
//!
//! The dates are split into a few contiguous ranges, one task each (parallel). A task walks its
//! dates in order, a block at a time: it gathers the block's return cross-sections into
//! date-major scratch and sorts each date's returns once for all factors; then, a factor at a
//! time (its block stays in cache), it gathers the factor's cross-sections, ranks and labels
//! them, computes counts, ICs and sums by quantile, and compares each date with the dates `lag`
//! earlier, kept in a small ring (a task first re-ranks the `max(lag)` dates before its range).
//! Nothing the size of the panel is allocated besides the outputs; labels go straight into the
//! output. Each date is reduced by one thread in a fixed order, so results do not depend on the
//! thread count or the split.

use super::date::{
    horizon_stats, lag_stats, rank_date, sort_returns, DateState, HorizonOut, Scratch,
    SortedReturns,
};
use super::stats::RankSet;
use crate::error::{check_at_least, Error, Result};
use crate::panel::first_infinite;
use rayon::prelude::*;

/// Dates gathered at a time: 16 values = two cache lines of each row; one factor's block
/// (16 cross-sections) stays in cache while it is analysed.
const BLOCK: usize = 16;

/// Ranges per thread: a little balancing on a shared machine, for a few warm-up dates each.
const RANGES_PER_THREAD: usize = 2;

/// Counts reported per horizon and date: used, factor missing, return missing.
pub const N_COUNTS: usize = 3;

/// Counts reported per date: names with a factor, of those lacking some horizon's return, names
/// with a quantile label.
pub const N_DATE_COUNTS: usize = 3;

/// Shapes and parameters of one call.
pub struct Layout<'a> {
    pub n_factors: usize,
    pub n_assets: usize,
    pub n_dates: usize,
    pub n_horizons: usize,
    /// Empty (no groups) or one code per asset in `-1..n_groups` (-1 = in no group).
    pub groups: &'a [i64],
    pub n_groups: usize,
    pub quantiles: usize,
    pub demeaned: bool,
    /// Use on each date only the names with a return at every horizon (alphalens' `dropna`).
    pub common_universe: bool,
    pub lags: &'a [usize],
}

impl Layout<'_> {
    /// Index 0 is the whole cross-section, `1 + g` group `g`.
    fn n_slices(&self) -> usize {
        1 + self.n_groups
    }

    /// Values per factor and date: date counts, counts, ICs (rank, pearson), quantile sums and
    /// counts, turnover, autocorrelation.
    fn per_date(&self) -> [usize; 6] {
        let h = self.n_horizons;
        let g = self.n_slices();
        [
            N_DATE_COUNTS,
            N_COUNTS * h,
            2 * h * g,
            2 * h * g * self.quantiles,
            self.lags.len() * self.quantiles,
            self.lags.len(),
        ]
    }
}

/// Output buffers, factors first and time along the last axis.
pub struct Outputs<'a> {
    /// `(n_factors, n_assets, n_dates)` quantile labels `1..=quantiles`, 0 where none: one byte
    /// a cell, since a panel-sized f64 output costs more to fault in than the analytics.
    pub quantile: &'a mut [u8],
    /// `(n_factors, 3, n_dates)`: names with a factor, of those without every horizon's return,
    /// names with a quantile.
    pub date_counts: &'a mut [f64],
    /// `(n_factors, n_horizons, 3, n_dates)`: names used, names with a return but no factor, names with a
    /// factor but no return.
    pub counts: &'a mut [f64],
    /// `(n_factors, 2, n_horizons, 1 + n_groups, n_dates)`: rank IC, Pearson IC.
    pub ic: &'a mut [f64],
    /// `(n_factors, 2, n_horizons, 1 + n_groups, quantiles, n_dates)`: sum of (demeaned) returns, count.
    pub qret: &'a mut [f64],
    /// `(n_factors, n_lags, quantiles, n_dates)` share of names in a quantile that were not in it `lag`
    /// dates earlier.
    pub turnover: &'a mut [f64],
    /// `(n_factors, n_lags, n_dates)` Pearson correlation of factor ranks with those `lag` dates earlier.
    pub autocorr: &'a mut [f64],
}

fn check(lay: &Layout<'_>, factor: &[f64], fwd: &[f64], out: &Outputs<'_>) -> Result<()> {
    check_at_least("quantiles", lay.quantiles, 1)?;
    if lay.quantiles > usize::from(u8::MAX) {
        return Err(Error::param("quantiles", lay.quantiles, "at most 255"));
    }
    if lay.n_assets >= 1 << 23 {
        return Err(Error::param(
            "n_assets",
            lay.n_assets,
            "fewer than 2^23 assets",
        ));
    }
    check_at_least("horizons", lay.n_horizons, 1)?;
    for &lag in lay.lags {
        check_at_least("lag", lag, 1)?;
    }
    check_at_least("factors", lay.n_factors, 1)?;
    let (n, t, h, nf) = (lay.n_assets, lay.n_dates, lay.n_horizons, lay.n_factors);
    if n == 0 || t == 0 {
        return Err(Error::Empty { name: "factor" });
    }
    let [s_dates, s_counts, s_ic, s_q, s_turn, s_auto] = lay.per_date();
    let want = [
        ("factor", factor.len(), nf * n * t),
        ("forward_returns", fwd.len(), h * n * t),
        ("quantile", out.quantile.len(), nf * n * t),
        ("date_counts", out.date_counts.len(), nf * s_dates * t),
        ("counts", out.counts.len(), nf * s_counts * t),
        ("ic", out.ic.len(), nf * s_ic * t),
        ("qret", out.qret.len(), nf * s_q * t),
        ("turnover", out.turnover.len(), nf * s_turn * t),
        ("autocorr", out.autocorr.len(), nf * s_auto * t),
    ];
    for (name, got, expected) in want {
        if got != expected {
            return Err(Error::shape(
                name,
                format!("{expected} cells"),
                format!("{got} cells"),
            ));
        }
    }
    if !lay.groups.is_empty() && lay.groups.len() != n {
        return Err(Error::shape(
            "groups",
            format!("one label per asset ({n})"),
            format!("{}", lay.groups.len()),
        ));
    }
    if let Some(&g) = lay
        .groups
        .iter()
        .find(|&&g| g < -1 || g >= lay.n_groups as i64)
    {
        return Err(Error::param(
            "groups",
            g,
            format!("codes in -1..{}", lay.n_groups),
        ));
    }
    Ok(())
}

/// The error for the first infinite value of `factor`, then `fwd` (row order), if any. Only
/// called once the gathers saw one: they read every value anyway, so the valid case costs no
/// extra pass over the panels.
fn first_infinite_error(factor: &[f64], fwd: &[f64], lay: &Layout<'_>) -> Result<()> {
    let (n, t) = (lay.n_assets, lay.n_dates);
    for (name, panel) in [("factor", factor), ("forward_returns", fwd)] {
        let first = panel
            .par_chunks(t)
            .enumerate()
            .find_map_first(|(row, values)| first_infinite(values).map(|bar| (row, bar)));
        if let Some((row, bar)) = first {
            return Err(Error::NonFinite {
                name,
                asset: row % n,
                bar,
                value: panel[row * t + bar],
            });
        }
    }
    Ok(())
}

/// Runs the analytics of `factor` (`n_factors * n_assets * n_dates`) against `fwd`
/// (`n_horizons * n_assets * n_dates`) into `out`.
pub fn factor_analytics(
    factor: &[f64],
    fwd: &[f64],
    lay: &Layout<'_>,
    out: Outputs<'_>,
) -> Result<()> {
    check(lay, factor, fwd, &out)?;
    let t_all = lay.n_dates;
    let max_lag = lay.lags.iter().copied().max().unwrap_or(0);
    let ranges = RANGES_PER_THREAD * rayon::current_num_threads().max(1);
    // Long enough that re-ranking `max_lag` dates before each range costs little.
    let len = t_all.div_ceil(ranges).max(8 * max_lag).max(BLOCK);
    let Outputs {
        quantile,
        date_counts,
        counts,
        ic,
        qret,
        turnover,
        autocorr,
    } = out;
    let labels = Columns::new(quantile, t_all);
    let ranges: Vec<(Vec<f64>, bool)> = (0..t_all.div_ceil(len))
        .into_par_iter()
        .map(|r| {
            run_range(
                factor,
                fwd,
                lay,
                r * len,
                ((r + 1) * len).min(t_all),
                &labels,
            )
        })
        .collect();
    if ranges.iter().any(|(_, infinite)| *infinite) {
        // Infinite inputs are rejected like every other input error (the outputs are then
        // partly written; the caller discards them).
        return first_infinite_error(factor, fwd, lay);
    }
    // Records (date, factor, value) to the outputs (factor, value, date), a factor per task (the
    // strided writes are not negligible next to the analytics on two cores).
    let per = lay.per_date();
    let rec: usize = per.iter().sum();
    let nf = lay.n_factors;
    let mut by_factor: Vec<Vec<&mut [f64]>> = (0..nf).map(|_| Vec::with_capacity(6)).collect();
    for (dst, &width) in [date_counts, counts, ic, qret, turnover, autocorr]
        .into_iter()
        .zip(&per)
    {
        let mut rest = dst;
        for slots in by_factor.iter_mut() {
            let (mine, others) = std::mem::take(&mut rest).split_at_mut(width * t_all);
            slots.push(mine);
            rest = others;
        }
    }
    by_factor
        .into_par_iter()
        .enumerate()
        .for_each(|(k, mut dsts)| {
            for (r, (recs, _)) in ranges.iter().enumerate() {
                for (j, record) in recs.chunks(nf * rec).enumerate() {
                    let t = r * len + j;
                    let values = &record[k * rec..][..rec];
                    let mut offset = 0;
                    for (dst, &width) in dsts.iter_mut().zip(&per) {
                        for (v, &x) in values[offset..offset + width].iter().enumerate() {
                            dst[v * t_all + t] = x;
                        }
                        offset += width;
                    }
                }
            }
        });
    Ok(())
}

/// The `(rows, t_all)` quantile output, written by several tasks at once, each in its own range
/// of dates (columns).
struct Columns<'a> {
    ptr: *mut u8,
    len: usize,
    t_all: usize,
    _out: std::marker::PhantomData<&'a mut [u8]>,
}

// SAFETY: the tasks write disjoint cells (see `write`), and nothing reads the buffer meanwhile.
unsafe impl Send for Columns<'_> {}
unsafe impl Sync for Columns<'_> {}

impl<'a> Columns<'a> {
    fn new(buf: &'a mut [u8], t_all: usize) -> Self {
        Columns {
            ptr: buf.as_mut_ptr(),
            len: buf.len(),
            t_all,
            _out: std::marker::PhantomData,
        }
    }

    /// Writes `values` to row `row` from column `t0`.
    ///
    /// # Safety
    /// No other task may write these cells concurrently: each task owns a range of columns.
    unsafe fn write(&self, row: usize, t0: usize, values: &[u8]) {
        let at = row * self.t_all + t0;
        if t0 + values.len() <= self.t_all && at + values.len() <= self.len {
            // SAFETY: in bounds (checked above); disjoint from other tasks (the caller's contract).
            unsafe {
                std::ptr::copy_nonoverlapping(values.as_ptr(), self.ptr.add(at), values.len())
            }
        }
    }
}

/// Per-factor state of the last `len` dates (ranks, labels, names per label, labelled or not,
/// which names are ranked, their count and sum of squared doubled ranks).
struct Ring {
    len: usize,
    n: usize,
    nf: usize,
    q: usize,
    words: usize,
    ranks: Vec<f32>,
    labels: Vec<u8>,
    bucket: Vec<u32>,
    labelled: Vec<bool>,
    mask: Vec<u64>,
    count: Vec<f64>,
    sum_sq: Vec<f64>,
}

impl Ring {
    fn new(len: usize, nf: usize, n: usize, q: usize) -> Self {
        Ring {
            len,
            n,
            nf,
            q,
            words: n.div_ceil(64),
            ranks: vec![0.0; len * nf * n],
            labels: vec![0; len * nf * n],
            bucket: vec![0; len * nf * q],
            labelled: vec![false; len * nf],
            mask: vec![0; len * nf * n.div_ceil(64)],
            count: vec![0.0; len * nf],
            sum_sq: vec![0.0; len * nf],
        }
    }

    fn rank_set(&self, date: usize, k: usize) -> RankSet<'_> {
        let c = self.cell(date, k);
        RankSet {
            ranks: self.ranks(date, k),
            mask: &self.mask[c * self.words..][..self.words],
            count: self.count[c],
            sum_sq: self.sum_sq[c],
        }
    }

    fn cell(&self, date: usize, k: usize) -> usize {
        (date % self.len) * self.nf + k
    }

    fn ranks(&self, date: usize, k: usize) -> &[f32] {
        &self.ranks[self.cell(date, k) * self.n..][..self.n]
    }

    fn labels(&self, date: usize, k: usize) -> &[u8] {
        &self.labels[self.cell(date, k) * self.n..][..self.n]
    }

    fn bucket(&self, date: usize, k: usize) -> &[u32] {
        &self.bucket[self.cell(date, k) * self.q..][..self.q]
    }
}

/// The records `(date, factor, value)` of dates `a..b` and whether an input value was infinite
/// (see [`first_infinite_error`]); labels go straight to `out`. Compiled a
/// second time for AVX2 (wider lanes for the sums and label counts, same arithmetic per lane, so
/// the same results) and picked at run time.
fn run_range(
    factor: &[f64],
    fwd: &[f64],
    lay: &Layout<'_>,
    a: usize,
    b: usize,
    out: &Columns<'_>,
) -> (Vec<f64>, bool) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, as just checked.
            return unsafe { run_range_avx2(factor, fwd, lay, a, b, out) };
        }
    }
    run_range_with(factor, fwd, lay, a, b, out)
}

/// [`run_range`] for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_range_avx2(
    factor: &[f64],
    fwd: &[f64],
    lay: &Layout<'_>,
    a: usize,
    b: usize,
    out: &Columns<'_>,
) -> (Vec<f64>, bool) {
    run_range_with(factor, fwd, lay, a, b, out)
}

#[inline(always)]
fn run_range_with(
    factor: &[f64],
    fwd: &[f64],
    lay: &Layout<'_>,
    a: usize,
    b: usize,
    out: &Columns<'_>,
) -> (Vec<f64>, bool) {
    let (n, t_all, nf, nh, q) = (
        lay.n_assets,
        lay.n_dates,
        lay.n_factors,
        lay.n_horizons,
        lay.quantiles,
    );
    let max_lag = lay.lags.iter().copied().max().unwrap_or(0);
    let per = lay.per_date();
    let rec: usize = per.iter().sum();
    let [s_dates, s_counts, s_ic, s_q, s_turn, _] = per;
    let mut records = vec![0.0; (b - a) * nf * rec];
    let mut ring = Ring::new((max_lag + 1).max(BLOCK), nf, n, q);
    let mut f_cols = vec![0.0; BLOCK * n];
    let mut r_cols = vec![0.0; BLOCK * nh * n];
    let mut complete = vec![true; BLOCK * n];
    // The same as bits (all set without a common universe): the ranked names of a factor are
    // then its finite names masked a word at a time.
    let words = n.div_ceil(64);
    let mut complete_bits = vec![u64::MAX; BLOCK * words];
    let mut returns: Vec<SortedReturns> =
        (0..BLOCK * nh).map(|_| SortedReturns::default()).collect();
    let mut s = Scratch::default();
    let mut row = [0u8; BLOCK];
    let mut starts = [0usize; BLOCK];
    let mut infinite = false;
    let mut d0 = a.saturating_sub(max_lag);
    while d0 < b {
        let d1 = (d0 + BLOCK).min(b);
        infinite |= gather(fwd, nh, n, t_all, d0, d1, &mut r_cols);
        for d in d0..d1 {
            let j = d - d0;
            let rs = &r_cols[j * nh * n..][..nh * n];
            if lay.common_universe {
                for (i, c) in complete[j * n..][..n].iter_mut().enumerate() {
                    *c = (0..nh).all(|h| rs[h * n + i].is_finite());
                }
                let bits = &mut complete_bits[j * words..][..words];
                for (word, chunk) in bits.iter_mut().zip(complete[j * n..][..n].chunks(64)) {
                    *word = chunk
                        .iter()
                        .enumerate()
                        .fold(0, |w, (i, &c)| w | (u64::from(c) << i));
                }
            }
            if d >= a {
                // Each horizon's returns sorted once for all factors.
                for (h, sorted) in returns[j * nh..][..nh].iter_mut().enumerate() {
                    sort_returns(&rs[h * n..][..n], &mut s, sorted);
                }
            }
        }
        // A factor at a time, so that its block of cross-sections stays in cache.
        for k in 0..nf {
            infinite |= gather(
                &factor[k * n * t_all..][..n * t_all],
                1,
                n,
                t_all,
                d0,
                d1,
                &mut f_cols,
            );
            for d in d0..d1 {
                let j = d - d0;
                let (f, complete) = (&f_cols[j * n..][..n], &complete[j * n..][..n]);
                let complete_bits = &complete_bits[j * words..][..words];
                let rs = &r_cols[j * nh * n..][..nh * n];
                let active = d >= a;
                let c = ring.cell(d, k);
                let info = rank_date(
                    f,
                    complete,
                    complete_bits,
                    q,
                    &mut s,
                    &mut ring.ranks[c * n..][..n],
                    &mut ring.labels[c * n..][..n],
                    &mut ring.bucket[c * q..][..q],
                    &mut ring.mask[c * ring.words..][..ring.words],
                );
                ring.labelled[c] = info.labelled;
                ring.count[c] = info.n_ranked as f64;
                ring.sum_sq[c] = info.sum_sq;
                if !active {
                    continue;
                }
                let record = &mut records[((d - a) * nf + k) * rec..][..rec];
                let (date_counts, rest) = record.split_at_mut(s_dates);
                let (counts, rest) = rest.split_at_mut(s_counts);
                let (ic, rest) = rest.split_at_mut(s_ic);
                let (qret, rest) = rest.split_at_mut(s_q);
                let (turnover, autocorr) = rest.split_at_mut(s_turn);
                date_counts[0] = info.n_raw as f64;
                date_counts[1] = if lay.common_universe {
                    (info.n_raw - info.n_ranked) as f64
                } else {
                    0.0
                };
                date_counts[2] = if info.labelled {
                    info.n_ranked as f64
                } else {
                    0.0
                };
                let now = DateState {
                    ranks: ring.ranks(d, k),
                    labels: ring.labels(d, k),
                    bucket: ring.bucket(d, k),
                    info: &info,
                };
                for (h, counts) in counts.chunks_mut(N_COUNTS).enumerate() {
                    let out = HorizonOut {
                        counts,
                        ic: &mut *ic,
                        qret: &mut *qret,
                    };
                    let r = &rs[h * n..][..n];
                    horizon_stats(f, r, &returns[j * nh + h], &now, lay, h, &mut s, out);
                }
                for (l, &lag) in lay.lags.iter().enumerate() {
                    let slot = &mut turnover[l * q..][..q];
                    if d < lag {
                        slot.fill(f64::NAN);
                        autocorr[l] = f64::NAN;
                        continue;
                    }
                    let then = d - lag;
                    lag_stats(
                        &now,
                        &ring.rank_set(d, k),
                        &ring.rank_set(then, k),
                        ring.labels(then, k),
                        ring.labelled[ring.cell(then, k)],
                        slot,
                        &mut autocorr[l],
                    );
                }
            }
        }
        // The block's labels (of this range's dates) to the output, a row at a time.
        let t0 = d0.max(a);
        if t0 < d1 {
            for k in 0..nf {
                for (at, d) in starts.iter_mut().zip(t0..d1) {
                    *at = ring.cell(d, k) * n;
                }
                for i in 0..n {
                    for (v, &at) in row.iter_mut().zip(&starts[..d1 - t0]) {
                        *v = ring.labels[at + i];
                    }
                    // SAFETY: this task is the only one writing dates a..b.
                    unsafe { out.write(k * n + i, t0, &row[..d1 - t0]) };
                }
            }
        }
        d0 = d1;
    }
    (records, infinite)
}

/// Rows ahead whose block is prefetched while gathering (rows are `t_all` values apart, too far
/// for the hardware prefetcher).
const PREFETCH_ROWS: usize = 8;

/// Columns `d0..d1` of the `m` panels `(n, t_all)` in `block` as date-major cross-sections
/// `(date, panel, asset)`; whether one of them is infinite.
#[inline(always)]
fn gather(
    block: &[f64],
    m: usize,
    n: usize,
    t_all: usize,
    d0: usize,
    d1: usize,
    cols: &mut [f64],
) -> bool {
    let rows = m * n;
    let mut infinite = false;
    for (row, values) in block.chunks(t_all).take(rows).enumerate() {
        if let Some(ahead) = block.get((row + PREFETCH_ROWS) * t_all + d0..) {
            prefetch(ahead);
        }
        let (k, i) = (row / n, row % n);
        for (d, &v) in values[d0..d1].iter().enumerate() {
            cols[(d * m + k) * n + i] = v;
            infinite |= v.abs() == f64::INFINITY;
        }
    }
    infinite
}

/// Asks for the cache lines of `x`'s first 16 values (three lines when not aligned).
#[inline(always)]
fn prefetch(x: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = x.as_ptr().cast::<i8>();
        // SAFETY: a prefetch is only a hint; it never faults, whatever the address.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(p);
            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(64));
            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(128));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(factor: &[f64], fwd: &[f64], n: usize, t: usize, q: usize) -> (Vec<u8>, Vec<f64>) {
        let lay = Layout {
            n_factors: 1,
            n_assets: n,
            n_dates: t,
            n_horizons: 1,
            groups: &[],
            n_groups: 0,
            quantiles: q,
            demeaned: true,
            common_universe: false,
            lags: &[1],
        };
        let mut quantile = vec![0u8; n * t];
        let mut date_counts = vec![0.0; 3 * t];
        let mut counts = vec![0.0; 3 * t];
        let mut ic = vec![0.0; 2 * t];
        let mut qret = vec![0.0; 2 * q * t];
        let mut turnover = vec![0.0; q * t];
        let mut autocorr = vec![0.0; t];
        factor_analytics(
            factor,
            fwd,
            &lay,
            Outputs {
                quantile: &mut quantile,
                date_counts: &mut date_counts,
                counts: &mut counts,
                ic: &mut ic,
                qret: &mut qret,
                turnover: &mut turnover,
                autocorr: &mut autocorr,
            },
        )
        .unwrap();
        (quantile, ic)
    }

    #[test]
    fn perfect_rank_ic_and_quantiles() {
        // 4 assets, 2 dates; factor increasing in the asset index, returns too.
        let factor = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0];
        let fwd = [0.1, f64::NAN, 0.2, f64::NAN, 0.3, f64::NAN, 0.4, f64::NAN];
        let (quantile, ic) = run(&factor, &fwd, 4, 2, 2);
        assert_eq!(quantile, [1, 1, 1, 1, 2, 2, 2, 2]);
        assert!((ic[0] - 1.0).abs() < 1e-15);
        assert!(ic[1].is_nan());
    }

    #[test]
    fn infinite_inputs_name_the_first_one() {
        let lay = Layout {
            n_factors: 1,
            n_assets: 2,
            n_dates: 3,
            n_horizons: 1,
            groups: &[],
            n_groups: 0,
            quantiles: 1,
            demeaned: true,
            common_universe: false,
            lags: &[1],
        };
        let factor = [1.0, 2.0, f64::INFINITY, 1.0, f64::NEG_INFINITY, 2.0];
        let fwd = [0.1; 6];
        let (mut quantile, mut dc, mut counts) = (vec![0u8; 6], vec![0.0; 9], vec![0.0; 9]);
        let (mut ic, mut qret, mut turnover, mut autocorr) =
            (vec![0.0; 6], vec![0.0; 6], vec![0.0; 3], vec![0.0; 3]);
        let out = Outputs {
            quantile: &mut quantile,
            date_counts: &mut dc,
            counts: &mut counts,
            ic: &mut ic,
            qret: &mut qret,
            turnover: &mut turnover,
            autocorr: &mut autocorr,
        };
        match factor_analytics(&factor, &fwd, &lay, out) {
            Err(Error::NonFinite {
                name, asset, bar, ..
            }) => assert_eq!((name, asset, bar), ("factor", 0, 2)),
            other => panic!("expected a NonFinite error, got {other:?}"),
        }
    }

    #[test]
    fn constant_factor_is_degenerate_not_a_crash() {
        let factor = [1.0; 6];
        let fwd = [0.1, 0.2, 0.3, 0.1, 0.2, 0.3];
        let (quantile, ic) = run(&factor, &fwd, 3, 2, 2);
        assert!(quantile.iter().all(|&v| v == 0));
        assert!(ic.iter().all(|v| v.is_nan()));
    }
}
