//! The per-date analytics of one or more factors against forward returns over several horizons.
//!
//! Pass 1 (parallel over chunks of dates) sorts each date's forward returns once (shared by all
//! factors), then for every factor ranks it, assigns quantiles and computes counts, ICs and sums
//! by quantile; pass 2 (parallel over dates) compares each date with
//! the date `lag` earlier (quantile turnover, rank autocorrelation). Each date is reduced by one
//! thread in a fixed order, so results do not depend on the thread count.

use super::sort::sort_by_value;
use super::stats::{average_ranks, pearson, qcut_edges};
use crate::error::{check_at_least, Error, Result};
use crate::panel::first_infinite;
use rayon::prelude::*;

/// Dates handed to a worker at a time; their cross-sections are gathered in one pass over rows.
const DATES_PER_TASK: usize = 16;

/// Factors analysed together (see [`factor_analytics`]).
const FACTORS_PER_BATCH: usize = 5;

/// Output rows transposed together from the date-major buffers.
const ROWS_PER_BLOCK: usize = 64;

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

    /// Values per factor and date in pass 1: date counts, counts, ICs (rank, pearson),
    /// quantile sums and counts.
    fn per_date(&self) -> [usize; 4] {
        let h = self.n_horizons;
        let g = self.n_slices();
        [
            N_DATE_COUNTS,
            N_COUNTS * h,
            2 * h * g,
            2 * h * g * self.quantiles,
        ]
    }
}

/// Output buffers, factors first and time along the last axis.
pub struct Outputs<'a> {
    /// `(n_factors, n_assets, n_dates)` quantile labels `1..=quantiles`, NaN where none.
    pub quantile: &'a mut [f64],
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

#[derive(Default)]
struct Scratch {
    order: Vec<u32>,
    sorted: Vec<f64>,
    edges: Vec<f64>,
    used: Vec<u32>,
    by_r: Vec<u32>,
    sub_f: Vec<u32>,
    sub_r: Vec<u32>,
    rf: Vec<f64>,
    rr: Vec<f64>,
    both: Vec<u32>,
    keys: Vec<(u64, u32)>,
    tmp: Vec<(u64, u32)>,
    mark: Vec<bool>,
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
    let [s_dates, s_counts, s_ic, s_q] = lay.per_date();
    let nl = lay.lags.len();
    let want = [
        ("factor", factor.len(), nf * n * t),
        ("forward_returns", fwd.len(), h * n * t),
        ("quantile", out.quantile.len(), nf * n * t),
        ("date_counts", out.date_counts.len(), nf * s_dates * t),
        ("counts", out.counts.len(), nf * s_counts * t),
        ("ic", out.ic.len(), nf * s_ic * t),
        ("qret", out.qret.len(), nf * s_q * t),
        ("turnover", out.turnover.len(), nf * nl * lay.quantiles * t),
        ("autocorr", out.autocorr.len(), nf * nl * t),
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
    let (n, t_all, nf) = (lay.n_assets, lay.n_dates, lay.n_factors);
    // Factors are processed in batches that share the date-major working buffers: memory (and
    // page faults) stay bounded by the batch, while each date's returns are sorted once a batch.
    // Ranks: half-integers <= n_assets < 2^23, exact in f32; rank 0 and label 0 mean "none".
    let batch = nf.min(FACTORS_PER_BATCH);
    let mut rank_t = vec![0f32; t_all * batch * n];
    let mut quant_t = vec![0u8; t_all * batch * n];
    let [s_dates, s_counts, s_ic, s_q] = lay.per_date();
    let nl = lay.lags.len();
    let sizes = [
        n * t_all,
        s_dates * t_all,
        s_counts * t_all,
        s_ic * t_all,
        s_q * t_all,
        nl * lay.quantiles * t_all,
        nl * t_all,
    ];
    let Outputs {
        mut quantile,
        mut date_counts,
        mut counts,
        mut ic,
        mut qret,
        mut turnover,
        mut autocorr,
    } = out;
    let mut k0 = 0;
    while k0 < nf {
        let k1 = (k0 + batch).min(nf);
        let m = k1 - k0;
        let sub = Outputs {
            quantile: take(m, &mut quantile, sizes[0]),
            date_counts: take(m, &mut date_counts, sizes[1]),
            counts: take(m, &mut counts, sizes[2]),
            ic: take(m, &mut ic, sizes[3]),
            qret: take(m, &mut qret, sizes[4]),
            turnover: take(m, &mut turnover, sizes[5]),
            autocorr: take(m, &mut autocorr, sizes[6]),
        };
        let sub_lay = Layout {
            n_factors: m,
            ..*lay
        };
        let cells = t_all * m * n;
        run_batch(
            &factor[k0 * n * t_all..k1 * n * t_all],
            fwd,
            &sub_lay,
            sub,
            &mut rank_t[..cells],
            &mut quant_t[..cells],
        );
        k0 = k1;
    }
    Ok(())
}

/// Splits the first `m * size` values off `buf`.
fn take<'a>(m: usize, buf: &mut &'a mut [f64], size: usize) -> &'a mut [f64] {
    let (head, tail) = std::mem::take(buf).split_at_mut(m * size);
    *buf = tail;
    head
}

/// [`factor_analytics`] for one batch of factors, with working buffers of its size.
fn run_batch(
    factor: &[f64],
    fwd: &[f64],
    lay: &Layout<'_>,
    out: Outputs<'_>,
    rank_t: &mut [f32],
    quant_t: &mut [u8],
) {
    let (n, t_all, nf) = (lay.n_assets, lay.n_dates, lay.n_factors);
    let per = lay.per_date();
    let s_all: usize = per.iter().sum();
    let panel = n * t_all;
    // Date-major (date, factor, asset) ranks and quantiles; one statistics record per cell.
    let mut stats_t = vec![0.0; t_all * nf * s_all];
    rank_t
        .par_chunks_mut(DATES_PER_TASK * nf * n)
        .zip(quant_t.par_chunks_mut(DATES_PER_TASK * nf * n))
        .zip(stats_t.par_chunks_mut(DATES_PER_TASK * nf * s_all))
        .enumerate()
        .for_each(|(chunk, ((ranks, quants), stats))| {
            let t0 = chunk * DATES_PER_TASK;
            let b = ranks.len() / (nf * n);
            let f_cols: Vec<Vec<f64>> = (0..nf)
                .map(|k| gather(&factor[k * panel..(k + 1) * panel], n, t_all, t0, b))
                .collect();
            let r_cols: Vec<Vec<f64>> = (0..lay.n_horizons)
                .map(|h| gather(&fwd[h * panel..(h + 1) * panel], n, t_all, t0, b))
                .collect();
            let mut s = Scratch::default();
            let mut r_order: Vec<Vec<u32>> = vec![Vec::new(); lay.n_horizons];
            let mut complete = vec![true; n];
            for d in 0..b {
                let rs: Vec<&[f64]> = r_cols.iter().map(|c| &c[d * n..(d + 1) * n]).collect();
                // Each horizon's returns sorted once for all factors.
                for (order, r) in r_order.iter_mut().zip(&rs) {
                    sort_by_value(
                        (0..n as u32).filter(|&k| r[k as usize].is_finite()),
                        |k| r[k as usize],
                        &mut s.keys,
                        &mut s.tmp,
                        order,
                    );
                }
                for (i, c) in complete.iter_mut().enumerate() {
                    *c = !lay.common_universe || rs.iter().all(|r| r[i].is_finite());
                }
                for (k, f) in f_cols.iter().enumerate() {
                    let cell = (d * nf + k) * n;
                    let rec = (d * nf + k) * s_all;
                    one_date(
                        &f[d * n..(d + 1) * n],
                        &rs,
                        &r_order,
                        &complete,
                        lay,
                        &mut ranks[cell..cell + n],
                        &mut quants[cell..cell + n],
                        &mut stats[rec..rec + s_all],
                        &mut s,
                    );
                }
            }
        });
    // Quantile labels back to (n_factors, n_assets, n_dates), a block of rows at a time so that
    // the reads of one date are contiguous.
    out.quantile
        .par_chunks_mut(t_all * ROWS_PER_BLOCK)
        .enumerate()
        .for_each(|(block, rows)| {
            let r0 = block * ROWS_PER_BLOCK;
            let n_rows = rows.len() / t_all;
            for t in 0..t_all {
                for j in 0..n_rows {
                    let (k, i) = ((r0 + j) / n, (r0 + j) % n);
                    let label = quant_t[(t * nf + k) * n + i];
                    rows[j * t_all + t] = if label == 0 {
                        f64::NAN
                    } else {
                        f64::from(label)
                    };
                }
            }
        });
    let mut offset = 0;
    let dsts = [out.date_counts, out.counts, out.ic, out.qret];
    for (dst, width) in dsts.into_iter().zip(per) {
        scatter(&stats_t, s_all, offset, width, nf, dst, t_all);
        offset += width;
    }
    // Pass 2: comparisons with `lag` dates earlier.
    let q = lay.quantiles;
    let nl = lay.lags.len();
    let per2 = nl * (q + 1);
    let lagged: Vec<f64> = (0..t_all * nf)
        .into_par_iter()
        .with_min_len(8)
        .flat_map_iter(|cell| {
            let (t, k) = (cell / nf, cell % nf);
            let mut v = vec![f64::NAN; per2];
            let mut both = Vec::new();
            for (l, &lag) in lay.lags.iter().enumerate() {
                if t < lag {
                    continue;
                }
                let (now_q, then_q) = (row(quant_t, t, k, nf, n), row(quant_t, t - lag, k, nf, n));
                let (now_r, then_r) = (row(rank_t, t, k, nf, n), row(rank_t, t - lag, k, nf, n));
                let slot = &mut v[l * (q + 1)..(l + 1) * (q + 1)];
                turnover(now_q, then_q, q, &mut slot[..q]);
                both.clear();
                both.extend(
                    (0..n as u32).filter(|&i| now_r[i as usize] > 0.0 && then_r[i as usize] > 0.0),
                );
                slot[q] = pearson(
                    &both,
                    |i| f64::from(now_r[i as usize]),
                    |i| f64::from(then_r[i as usize]),
                );
            }
            v
        })
        .collect();
    for t in 0..t_all {
        for k in 0..nf {
            for l in 0..nl {
                let at = (t * nf + k) * per2 + l * (q + 1);
                for (b, &x) in lagged[at..at + q].iter().enumerate() {
                    out.turnover[((k * nl + l) * q + b) * t_all + t] = x;
                }
                out.autocorr[(k * nl + l) * t_all + t] = lagged[at + q];
            }
        }
    }
}

/// Cross-section `date` of factor `k` in a `(date, factor, asset)` buffer.
fn row<T>(buf: &[T], date: usize, k: usize, nf: usize, n: usize) -> &[T] {
    let at = (date * nf + k) * n;
    &buf[at..at + n]
}

/// Columns `t0..t0 + b` of an `(n, t_all)` panel as `b` contiguous cross-sections.
fn gather(panel: &[f64], n: usize, t_all: usize, t0: usize, b: usize) -> Vec<f64> {
    let mut cols = vec![0.0; b * n];
    for (i, row) in panel.chunks(t_all).enumerate() {
        for (d, &v) in row[t0..t0 + b].iter().enumerate() {
            cols[d * n + i] = v;
        }
    }
    cols
}

/// Copies values `offset..offset + width` of each (date, factor) record into
/// `(n_factors, width, t_all)`.
fn scatter(
    src: &[f64],
    s_all: usize,
    offset: usize,
    width: usize,
    nf: usize,
    dst: &mut [f64],
    t_all: usize,
) {
    for t in 0..t_all {
        for k in 0..nf {
            let rec = &src[(t * nf + k) * s_all + offset..][..width];
            for (j, &x) in rec.iter().enumerate() {
                dst[(k * width + j) * t_all + t] = x;
            }
        }
    }
}

fn turnover(now: &[u8], then: &[u8], q: usize, out: &mut [f64]) {
    if !then.iter().any(|&v| v != 0) {
        return; // the earlier date has no quantiles at all: NaN, not "everything is new"
    }
    // Counts by label (0 = no label, ignored); branch-free over the cross-section.
    let mut total = [0u32; 256];
    let mut new = [0u32; 256];
    for (&a, &b) in now.iter().zip(then) {
        total[usize::from(a)] += 1;
        new[usize::from(a)] += u32::from(a != b);
    }
    for (k, o) in out.iter_mut().enumerate().take(q) {
        *o = if total[k + 1] > 0 {
            f64::from(new[k + 1]) / f64::from(total[k + 1])
        } else {
            f64::NAN
        };
    }
}

#[allow(clippy::too_many_arguments)]
fn one_date(
    f: &[f64],
    rs: &[&[f64]],
    r_order: &[Vec<u32>],
    complete: &[bool],
    lay: &Layout<'_>,
    ranks: &mut [f32],
    quants: &mut [u8],
    stats: &mut [f64],
    s: &mut Scratch,
) {
    let n = f.len();
    let q = lay.quantiles;
    let g1 = lay.n_slices();
    ranks.fill(0.0);
    quants.fill(0);
    let nh = lay.n_horizons;
    let [s_dates, s_counts, s_ic, _] = lay.per_date();
    let (date_counts, stats) = stats.split_at_mut(s_dates);
    let (counts, rest) = stats.split_at_mut(s_counts);
    let (ic, qret) = rest.split_at_mut(s_ic);
    ic.fill(f64::NAN);
    s.rf.resize(n, f64::NAN);
    s.rr.resize(n, f64::NAN);

    let n_raw = f.iter().filter(|v| v.is_finite()).count();
    sort_by_value(
        (0..n as u32).filter(|&i| f[i as usize].is_finite() && complete[i as usize]),
        |k| f[k as usize],
        &mut s.keys,
        &mut s.tmp,
        &mut s.order,
    );
    average_ranks(
        &s.order,
        |k| f[k as usize],
        |k, x| ranks[k as usize] = x as f32,
    );

    s.sorted.clear();
    s.sorted.extend(s.order.iter().map(|&k| f[k as usize]));
    s.edges.resize(q + 1, 0.0);
    if qcut_edges(&s.sorted, q, &mut s.edges) {
        for &k in &s.order {
            let id = s.edges.partition_point(|e| *e < f[k as usize]).max(1);
            quants[k as usize] = id as u8;
        }
        date_counts[2] = s.order.len() as f64;
    }
    date_counts[0] = n_raw as f64;
    date_counts[1] = if lay.common_universe {
        (n_raw - s.order.len()) as f64
    } else {
        0.0
    };
    s.mark.clear();
    s.mark.resize(n, false);

    let group = |k: u32| -> Option<usize> {
        match lay.groups.get(k as usize) {
            Some(&g) if g >= 0 => Some(g as usize),
            _ => None,
        }
    };
    for (h, r) in rs.iter().enumerate() {
        s.used.clear();
        s.used.extend(
            s.order
                .iter()
                .copied()
                .filter(|&k| r[k as usize].is_finite()),
        );
        let missing_factor = (0..n)
            .filter(|&i| r[i].is_finite() && !f[i].is_finite())
            .count();
        counts[h * N_COUNTS] = s.used.len() as f64;
        counts[h * N_COUNTS + 1] = missing_factor as f64;
        counts[h * N_COUNTS + 2] = (n_raw - s.used.len()) as f64;

        // The names used, in return order: the shared sort filtered (order is kept).
        for &k in &s.used {
            s.mark[k as usize] = true;
        }
        s.by_r.clear();
        s.by_r
            .extend(r_order[h].iter().copied().filter(|&k| s.mark[k as usize]));
        for &k in &s.used {
            s.mark[k as usize] = false;
        }
        for g in 0..g1 {
            let keep = |k: &u32| g == 0 || group(*k) == Some(g - 1);
            s.sub_f.clear();
            s.sub_f.extend(s.used.iter().copied().filter(keep));
            s.sub_r.clear();
            s.sub_r.extend(s.by_r.iter().copied().filter(keep));
            let rf = &mut s.rf;
            let rr = &mut s.rr;
            average_ranks(&s.sub_r, |k| r[k as usize], |k, x| rr[k as usize] = x);
            if s.sub_f.len() == s.order.len() {
                // Every ranked name is used: the factor ranks are those of the date (f32 holds
                // them exactly).
                ic[h * g1 + g] = pearson(
                    &s.sub_f,
                    |k| f64::from(ranks[k as usize]),
                    |k| rr[k as usize],
                );
            } else {
                average_ranks(&s.sub_f, |k| f[k as usize], |k, x| rf[k as usize] = x);
                ic[h * g1 + g] = pearson(&s.sub_f, |k| rf[k as usize], |k| rr[k as usize]);
            }
            ic[(nh + h) * g1 + g] = pearson(&s.sub_f, |k| f[k as usize], |k| r[k as usize]);
        }

        // Returns by quantile over the names that have a quantile and a return.
        s.both.clear();
        s.both
            .extend(s.used.iter().copied().filter(|&k| quants[k as usize] != 0));
        let mean = if lay.demeaned && !s.both.is_empty() {
            s.both.iter().map(|&k| r[k as usize]).sum::<f64>() / s.both.len() as f64
        } else {
            0.0
        };
        let sums = h * g1 * q;
        let cnts = (nh + h) * g1 * q;
        for &k in &s.both {
            let b = usize::from(quants[k as usize]) - 1;
            let x = r[k as usize] - mean;
            qret[sums + b] += x;
            qret[cnts + b] += 1.0;
            if let Some(g) = group(k) {
                qret[sums + (1 + g) * q + b] += x;
                qret[cnts + (1 + g) * q + b] += 1.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(factor: &[f64], fwd: &[f64], n: usize, t: usize, q: usize) -> (Vec<f64>, Vec<f64>) {
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
        let mut quantile = vec![0.0; n * t];
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
        assert_eq!(quantile, [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]);
        assert!((ic[0] - 1.0).abs() < 1e-15);
        assert!(ic[1].is_nan());
    }

    #[test]
    fn constant_factor_is_degenerate_not_a_crash() {
        let factor = [1.0; 6];
        let fwd = [0.1, 0.2, 0.3, 0.1, 0.2, 0.3];
        let (quantile, ic) = run(&factor, &fwd, 3, 2, 2);
        assert!(quantile.iter().all(|v| v.is_nan()));
        assert!(ic.iter().all(|v| v.is_nan()));
    }
}
