//! The standard set in one pass: SMA 20, SMA 50 (min_periods = 1), Cutler RSI 14 and Bollinger
//! 20/2 (ddof = 1) middle, upper, lower. Each close is read once per window it enters or leaves,
//! and each output is written once; SMA 20 and the Bollinger middle share one window state.
//!
//! Two paths compute the same state transitions:
//!
//! * the general path ([`Series::step`]) drives the public window states ([`Window`], [`Cutler`])
//!   bar by bar with all the NaN, warm-up and count bookkeeping;
//! * the fast path ([`fast_step`]) runs wherever every window is full and NaN-free (bars `t` with
//!   `x[t-50..=t]` valid). There the counts are constant, so it is the general path with the
//!   NaN branches removed: the same lane-generic update functions of [`crate::window`], the same
//!   recompute tests, the same output formulas. It runs on one series (`f64`) or on four series
//!   side by side ([`F4`]: one vector instruction per operation, each lane the same IEEE operation
//!   as the scalar code, no fused multiply-add).
//!
//! Which path computes a bar depends only on the input values up to that bar, and both give the
//! same bits, so results do not depend on the path, the lane, the block of assets or the thread
//! count, and a bar-by-bar stream of the window states reproduces them.

use crate::error::Result;
use crate::panel::{for_each_block, Input, Output};
use crate::rsi::{change, cutler_lanes, gain, loss, Cutler};
use crate::window::{
    band, exact_first, exact_second, leaving, run_step, slice_window, window_start, Lane, Sum1,
    Sum2, Window,
};
#[cfg(target_arch = "x86_64")]
use crate::window::{store_fence, F4};

const SHORT: usize = 20;
const LONG: usize = 50;
const RSI: usize = 14;
const K: f64 = 2.0;

/// Number of output series of the standard set.
pub const OUTPUTS: usize = 6;

/// Series computed side by side by the vector fast path.
const LANES: usize = 4;

/// Outputs of at least this many bytes are written with non-temporal stores: they exceed the
/// caches, and these stores spare the memory traffic of reading every line before writing it.
const STREAM_MIN_BYTES: usize = 64 << 20;

/// State of the standard set for one series: the public window states.
#[derive(Clone, Debug, Default)]
struct Series {
    w20: Window<true>,
    w50: Window<false>,
    cutler: Cutler,
}

impl Series {
    /// General path: advances bar `t` of `x` and returns the six outputs.
    #[inline(always)]
    fn step(&mut self, x: &[f64], t: usize) -> [f64; OUTPUTS] {
        let v = x[t];
        let win20 = &x[window_start(t, SHORT)..=t];
        let win50 = &x[window_start(t, LONG)..=t];
        let s14 = window_start(t, RSI);
        self.w20
            .slide(v, leaving(x, t, SHORT), || slice_window(win20));
        self.w50
            .slide(v, leaving(x, t, LONG), || slice_window(win50));
        let d_out = if t >= RSI {
            change(x, t - RSI)
        } else {
            f64::NAN
        };
        self.cutler
            .slide(change(x, t), d_out, || (s14..=t).map(|j| change(x, j)));

        let (w20, w50) = (&self.w20, &self.w50);
        let sma20 = if w20.count() > 0 {
            w20.mean()
        } else {
            f64::NAN
        };
        let (mid, up, lo) = if w20.count() >= SHORT {
            let half = band(w20.m2(), 1.0 / (SHORT - 1) as f64, K);
            (sma20, sma20 + half, sma20 - half)
        } else {
            (f64::NAN, f64::NAN, f64::NAN)
        };
        let sma50 = if w50.count() > 0 {
            w50.mean()
        } else {
            f64::NAN
        };
        let rsi = if self.cutler.count() >= RSI {
            self.cutler.value()
        } else {
            f64::NAN
        };
        [sma20, sma50, rsi, mid, up, lo]
    }
}

/// The full-window state of `L::LANES` series, one lane each (structure of arrays).
#[derive(Clone, Copy)]
struct Fast<L> {
    /// Run of identical prices: shared by the 20- and 50-bar windows, which see the same values.
    run: L,
    last: L,
    w20: Sum1<L>,
    bb: Sum2<L>,
    w50: Sum1<L>,
    g_run: L,
    g_last: L,
    gains: Sum1<L>,
    l_run: L,
    l_last: L,
    losses: Sum1<L>,
}

#[inline(always)]
fn gather<L: Lane>(f: impl Fn(usize) -> f64) -> L {
    let mut v = L::splat(0.0);
    for i in 0..L::LANES {
        v.set_lane(i, f(i));
    }
    v
}

#[inline(always)]
fn gather1<L: Lane>(s: &[Series], f: impl Fn(&Series) -> Sum1<f64>) -> Sum1<L> {
    Sum1 {
        anchor: gather(|i| f(&s[i]).anchor),
        s1: gather(|i| f(&s[i]).s1),
        absx: gather(|i| f(&s[i]).absx),
        mass1: gather(|i| f(&s[i]).mass1),
    }
}

#[inline(always)]
fn lane1<L: Lane>(v: &Sum1<L>, i: usize) -> Sum1<f64> {
    Sum1 {
        anchor: v.anchor.lane(i),
        s1: v.s1.lane(i),
        absx: v.absx.lane(i),
        mass1: v.mass1.lane(i),
    }
}

#[inline(always)]
fn put1<L: Lane>(v: &mut Sum1<L>, i: usize, s: Sum1<f64>) {
    v.anchor.set_lane(i, s.anchor);
    v.s1.set_lane(i, s.s1);
    v.absx.set_lane(i, s.absx);
    v.mass1.set_lane(i, s.mass1);
}

#[inline(always)]
fn put2<L: Lane>(v: &mut Sum2<L>, i: usize, s: Sum2<f64>) {
    v.anchor.set_lane(i, s.anchor);
    v.s1.set_lane(i, s.s1);
    v.s2.set_lane(i, s.s2);
    v.mass1.set_lane(i, s.mass1);
    v.mass2.set_lane(i, s.mass2);
}

impl<L: Lane> Fast<L> {
    /// Lanes from the states of `L::LANES` series whose windows are all full.
    #[inline(always)]
    fn load(s: &[Series]) -> Self {
        Fast {
            run: gather(|i| s[i].w20.run),
            last: gather(|i| s[i].w20.last),
            w20: gather1(s, |x| x.w20.first),
            bb: Sum2 {
                anchor: gather(|i| s[i].w20.second.anchor),
                s1: gather(|i| s[i].w20.second.s1),
                s2: gather(|i| s[i].w20.second.s2),
                mass1: gather(|i| s[i].w20.second.mass1),
                mass2: gather(|i| s[i].w20.second.mass2),
            },
            w50: gather1(s, |x| x.w50.first),
            g_run: gather(|i| s[i].cutler.gains.run),
            g_last: gather(|i| s[i].cutler.gains.last),
            gains: gather1(s, |x| x.cutler.gains.first),
            l_run: gather(|i| s[i].cutler.losses.run),
            l_last: gather(|i| s[i].cutler.losses.last),
            losses: gather1(s, |x| x.cutler.losses.first),
        }
    }

    /// Writes the lanes back into the series states, whose counts are those of bar `t`'s windows
    /// (see [`counts`]).
    #[inline(always)]
    fn store(&self, s: &mut [Series], t: usize) {
        let c = counts(t);
        for (i, s) in s.iter_mut().enumerate().take(L::LANES) {
            set_count(&mut s.w20, c.c20);
            set_count(&mut s.w50, c.c50);
            set_count(&mut s.cutler.gains, c.c14);
            set_count(&mut s.cutler.losses, c.c14);
            for w_run_last in [
                (&mut s.w20.run, &mut s.w20.last),
                (&mut s.w50.run, &mut s.w50.last),
            ] {
                *w_run_last.0 = self.run.lane(i);
                *w_run_last.1 = self.last.lane(i);
            }
            s.w20.first = lane1(&self.w20, i);
            let bb = &self.bb;
            s.w20.second = Sum2 {
                anchor: bb.anchor.lane(i),
                s1: bb.s1.lane(i),
                s2: bb.s2.lane(i),
                mass1: bb.mass1.lane(i),
                mass2: bb.mass2.lane(i),
            };
            s.w50.first = lane1(&self.w50, i);
            let (g, l) = (&mut s.cutler.gains, &mut s.cutler.losses);
            (g.run, g.last, g.first) = (
                self.g_run.lane(i),
                self.g_last.lane(i),
                lane1(&self.gains, i),
            );
            (l.run, l.last, l.first) = (
                self.l_run.lane(i),
                self.l_last.lane(i),
                lane1(&self.losses, i),
            );
        }
    }
}

/// Window counts at bar `t` of a series without NaN up to `t`, and their floats (`n`, `1/n`).
#[derive(Clone, Copy)]
struct Counts {
    c20: usize,
    c50: usize,
    /// Changes in the RSI window (the change at bar 0 is NaN).
    c14: usize,
}

#[inline(always)]
fn counts(t: usize) -> Counts {
    Counts {
        c20: (t + 1).min(SHORT),
        c50: (t + 1).min(LONG),
        c14: t.min(RSI),
    }
}

/// Sets a window's count and its floats as [`Window::slide`] computes them.
#[inline(always)]
fn set_count<const SQ: bool>(w: &mut Window<SQ>, count: usize) {
    if count != w.count {
        w.count = count;
        w.n = count as f64;
        w.inv = 1.0 / w.n;
    }
}

/// `(n, 1/n)` for a count, as [`Window::slide`] computes them.
#[inline(always)]
fn n_inv<L: Lane>(count: usize) -> (L, L) {
    let n = count as f64;
    (L::splat(n), L::splat(1.0 / n))
}

/// What a bar's outputs are made of: SMA 20, SMA 50, `M2` of the 20-bar window, and the sums of
/// the gains and losses of the RSI window. They do not feed back into the state, so [`finish`] can
/// turn them into outputs later (for one series, four bars at a time).
type Raw<L> = [L; 5];

/// The six outputs from a bar's [`Raw`] values, by the operations of [`Series::step`].
#[inline(always)]
fn finish<L: Lane>(raw: Raw<L>) -> [L; OUTPUTS] {
    let [sma20, sma50, m2, g, l] = raw;
    let half = band(m2, L::splat(1.0 / (SHORT - 1) as f64), L::splat(K));
    [
        sma20,
        sma50,
        cutler_lanes(g, l),
        sma20,
        sma20 + half,
        sma20 - half,
    ]
}

/// Bar `t` of the warm-up has no Bollinger bands before bar `SHORT - 1` and no RSI before `RSI`.
#[inline(always)]
fn warm_mask<L: Lane>(t: usize, mut v: [L; OUTPUTS]) -> [L; OUTPUTS] {
    let nan = L::splat(f64::NAN);
    if t + 1 < SHORT {
        (v[3], v[4], v[5]) = (nan, nan, nan);
    }
    if t < RSI {
        v[2] = nan;
    }
    v
}

/// Fast path for bar `t`, given `win` = the closes `x[t - LONG..=t]`: the 20- and 50-bar windows
/// and the 14-change RSI window are full and every value they see is valid. Performs exactly the
/// operations of [`Series::step`] for such a bar (`rows` and `t` serve the rare exact fallback).
#[inline(always)]
fn fast_step<L: Lane>(f: &mut Fast<L>, win: &[L], rows: &[&[f64]], t: usize) -> Raw<L> {
    let win: &[L; LONG + 1] = win.try_into().expect("LONG + 1 closes");
    let (n20, n50, n14) = (
        L::splat(SHORT as f64),
        L::splat(LONG as f64),
        L::splat(RSI as f64),
    );
    let (inv20, inv50) = (L::splat(1.0 / SHORT as f64), L::splat(1.0 / LONG as f64));
    let (x_in, x20, x50) = (win[LONG], win[LONG - SHORT], win[0]);
    let (d_in, d_out) = (x_in - win[LONG - 1], win[LONG - RSI] - win[LONG - RSI - 1]);
    // gain(d) and loss(d) of a valid change; they are +0 or positive, so |g| = g bit for bit.
    let (g_in, g_out) = (gain_of(d_in), gain_of(d_out));
    let (l_in, l_out) = (loss_of(d_in), loss_of(d_out));

    run_step(&mut f.run, &mut f.last, x_in);
    let ax_in = x_in.abs();
    f.w20.slide_valid(x_in, x20, ax_in, x20.abs());
    let bb_ok = f.bb.slide_valid(x_in, x20, inv20);
    f.w50.slide_valid(x_in, x50, ax_in, x50.abs());
    run_step(&mut f.g_run, &mut f.g_last, g_in);
    f.gains.slide_valid(g_in, g_out, g_in, g_out);
    run_step(&mut f.l_run, &mut f.l_last, l_in);
    f.losses.slide_valid(l_in, l_out, l_in, l_out);

    let flat20 = f.run.ge(n20);
    let ok = [
        f.w20.within(),
        bb_ok | flat20,
        f.w50.within(),
        f.gains.within(),
        f.losses.within(),
    ];
    if !L::all(ok[0] & ok[1] & ok[2] & ok[3] & ok[4]) {
        let inv = (inv20, inv50, L::splat(1.0 / RSI as f64));
        recompute(
            f,
            &ok,
            [&win[LONG + 1 - SHORT..], &win[1..], &win[LONG - RSI..]],
            inv,
            rows,
            t,
        );
    }

    let sma20 = f.w20.mean(flat20, f.last, inv20);
    let m2 = f.bb.m2(flat20, inv20);
    let sma50 = f.w50.mean(f.run.ge(n50), f.last, inv50);
    let g = f.gains.sum(f.g_run.ge(n14), f.g_last, n14);
    let l = f.losses.sum(f.l_run.ge(n14), f.l_last, n14);
    [sma20, sma50, m2, g, l]
}

/// `gain(d)` of a valid change.
#[inline(always)]
fn gain_of<L: Lane>(d: L) -> L {
    let zero = L::splat(0.0);
    L::select(zero.lt(d), d, zero)
}

/// `loss(d)` of a valid change.
#[inline(always)]
fn loss_of<L: Lane>(d: L) -> L {
    let zero = L::splat(0.0);
    L::select(d.lt(zero), -d, zero)
}

/// General path for bar `t < LONG` of series without NaN in `xs = x[..=t]`: the windows are still
/// filling up, with the same counts in every lane ([`counts`]). Performs exactly the operations of
/// [`Series::step`] for such a bar (whose outputs are `warm_mask(t, finish(raw))`).
#[inline(always)]
fn warm_step<L: Lane>(f: &mut Fast<L>, xs: &[L], rows: &[&[f64]], t: usize) -> Raw<L> {
    assert!(t < LONG && xs.len() == t + 1);
    let zero = L::splat(0.0);
    let c = counts(t);
    let ((n20, inv20), (n50, inv50)) = (n_inv::<L>(c.c20), n_inv::<L>(c.c50));
    let x_in = xs[t];
    run_step(&mut f.run, &mut f.last, x_in);
    if t == 0 {
        // A fresh start: anchor on the first value.
        f.w20 = Sum1 {
            anchor: x_in,
            s1: zero,
            absx: zero,
            mass1: zero,
        };
        f.bb = Sum2 {
            anchor: x_in,
            s1: zero,
            s2: zero,
            mass1: zero,
            mass2: zero,
        };
        f.w50 = f.w20;
    }
    let ax_in = x_in.abs();
    // Nothing leaves the windows until they are full (a leaving value counts as 0).
    let (x20, ax20) = if t >= SHORT {
        (xs[t - SHORT], xs[t - SHORT].abs())
    } else {
        (zero, zero)
    };
    let out20 = |k: L| if t >= SHORT { x20 - k } else { zero };
    let k = f.w20.anchor;
    f.w20.update(x_in - k, out20(k), ax_in, ax20);
    let k = f.bb.anchor;
    let bb_ok = f.bb.update(x_in - k, out20(k), inv20);
    let k = f.w50.anchor;
    f.w50.update(x_in - k, zero, ax_in, zero);
    let flat20 = f.run.ge(n20);
    let yes = zero.le(zero);
    let mut ok = [f.w20.within(), bb_ok | flat20, f.w50.within(), yes, yes];
    let (n14, inv14) = n_inv::<L>(c.c14);
    if t >= 1 {
        let d_in = xs[t] - xs[t - 1];
        let (g_in, l_in) = (gain_of(d_in), loss_of(d_in));
        run_step(&mut f.g_run, &mut f.g_last, g_in);
        run_step(&mut f.l_run, &mut f.l_last, l_in);
        if t == 1 {
            f.gains = Sum1 {
                anchor: g_in,
                s1: zero,
                absx: zero,
                mass1: zero,
            };
            f.losses = Sum1 {
                anchor: l_in,
                s1: zero,
                absx: zero,
                mass1: zero,
            };
        }
        // The change at bar t - RSI leaves the window; it is valid from bar 1 on.
        let (g_out, l_out) = if t > RSI {
            let d_out = xs[t - RSI] - xs[t - RSI - 1];
            (gain_of(d_out), loss_of(d_out))
        } else {
            (zero, zero)
        };
        for (w, v_in, v_out) in [(&mut f.gains, g_in, g_out), (&mut f.losses, l_in, l_out)] {
            let k = w.anchor;
            let d_out = if t > RSI { v_out - k } else { zero };
            w.update(v_in - k, d_out, v_in, v_out);
        }
        ok[3] = f.gains.within();
        ok[4] = f.losses.within();
    }
    if !L::all(ok[0] & ok[1] & ok[2] & ok[3] & ok[4]) {
        let win = [&xs[t + 1 - c.c20..], xs, &xs[t - c.c14..]];
        recompute(f, &ok, win, (inv20, inv50, inv14), rows, t);
    }

    let sma20 = f.w20.mean(flat20, f.last, inv20);
    let m2 = f.bb.m2(flat20, inv20);
    let sma50 = f.w50.mean(f.run.ge(n50), f.last, inv50);
    let g = f.gains.sum(f.g_run.ge(n14), f.g_last, n14);
    let l = f.losses.sum(f.l_run.ge(n14), f.l_last, n14);
    [sma20, sma50, m2, g, l]
}

/// Recomputes the windows that failed their rounding test (`ok`, in the order w20, bb, w50, gains,
/// losses), as [`Window::slide`] does: afresh around the state's estimate of the mean, for all lanes
/// at once, keeping the result in the failed lanes; a lane whose fresh sums still fail the test
/// gets the exact two-pass sums of its window (`rows[i]`). `win` holds the closes of the 20- and
/// 50-bar windows and the closes whose changes make the RSI window (the bar before it included),
/// none of them NaN; `inv` the reciprocals of the three counts.
#[inline(always)]
fn recompute<L: Lane>(
    f: &mut Fast<L>,
    ok: &[L::Mask; 5],
    win: [&[L]; 3],
    inv: (L, L, L),
    rows: &[&[f64]],
    t: usize,
) {
    let (inv20, inv50, inv14) = inv;
    let w20 = win[0];
    if !L::all(ok[0]) {
        let fresh = Sum1::fresh(f.w20.estimate(inv20), w20.iter().copied());
        let fresh = fallback1(fresh, fresh.within(), ok[0], rows, |x| {
            x[window_start(t, SHORT)..=t].to_vec()
        });
        f.w20 = Sum1::select(ok[0], &f.w20, &fresh);
    }
    if !L::all(ok[1]) {
        let fresh = Sum2::fresh(f.bb.estimate(inv20), w20.iter().copied());
        let good = fresh.within(inv20) | ok[1];
        let mut fresh = fresh;
        if !L::all(good) {
            for (i, x) in rows.iter().enumerate().take(L::LANES) {
                if !L::mask_lane(good, i) {
                    put2(
                        &mut fresh,
                        i,
                        exact_second(&|| slice_window(&x[window_start(t, SHORT)..=t])),
                    );
                }
            }
        }
        f.bb = Sum2::select(ok[1], &f.bb, &fresh);
    }
    if !L::all(ok[2]) {
        let fresh = Sum1::fresh(f.w50.estimate(inv50), win[1].iter().copied());
        let fresh = fallback1(fresh, fresh.within(), ok[2], rows, |x| {
            x[window_start(t, LONG)..=t].to_vec()
        });
        f.w50 = Sum1::select(ok[2], &f.w50, &fresh);
    }
    if !L::all(ok[3] & ok[4]) {
        let closes = win[2];
        let m = closes.len() - 1;
        assert!(m <= RSI);
        let mut gains = [L::splat(0.0); RSI];
        let mut losses = [L::splat(0.0); RSI];
        for j in 0..m {
            let d = closes[j + 1] - closes[j];
            gains[j] = gain_of(d);
            losses[j] = loss_of(d);
        }
        let (gains, losses) = (&gains[..m], &losses[..m]);
        let changes = |x: &[f64]| {
            (window_start(t, RSI)..=t)
                .map(|j| change(x, j))
                .collect::<Vec<f64>>()
        };
        if !L::all(ok[3]) {
            let fresh = Sum1::fresh(f.gains.estimate(inv14), gains.iter().copied());
            let fresh = fallback1(fresh, fresh.within(), ok[3], rows, |x| {
                changes(x).into_iter().map(gain).collect()
            });
            f.gains = Sum1::select(ok[3], &f.gains, &fresh);
        }
        if !L::all(ok[4]) {
            let fresh = Sum1::fresh(f.losses.estimate(inv14), losses.iter().copied());
            let fresh = fallback1(fresh, fresh.within(), ok[4], rows, |x| {
                changes(x).into_iter().map(loss).collect()
            });
            f.losses = Sum1::select(ok[4], &f.losses, &fresh);
        }
    }
}

/// The exact two-pass fallback of [`recompute`] for first moments: lanes where neither the state
/// (`ok`) nor the fresh sums (`good`) pass get the exact sums of `values(rows[i])`.
#[inline(always)]
fn fallback1<L: Lane>(
    fresh: Sum1<L>,
    good: L::Mask,
    ok: L::Mask,
    rows: &[&[f64]],
    values: impl Fn(&[f64]) -> Vec<f64>,
) -> Sum1<L> {
    let good = good | ok;
    if L::all(good) {
        return fresh;
    }
    fallback1_cold(fresh, good, rows, values)
}

#[cold]
#[inline(never)]
fn fallback1_cold<L: Lane>(
    mut fresh: Sum1<L>,
    good: L::Mask,
    rows: &[&[f64]],
    values: impl Fn(&[f64]) -> Vec<f64>,
) -> Sum1<L> {
    for (i, x) in rows.iter().enumerate().take(L::LANES) {
        if !L::mask_lane(good, i) {
            let v = values(x);
            put1(&mut fresh, i, exact_first(&|| slice_window(&v)));
        }
    }
    fresh
}

/// A way to run the lane paths on `LANES` series (`out[i * OUTPUTS + k]` is output `k` of series
/// `i`): [`warm_step`] over bars `t0..t1` (`t1 <= LONG`) of series without NaN in `0..t1`, and
/// [`fast_step`] over bars `t0..t1` of series whose windows are full and whose
/// `rows[i][t0 - LONG..t1]` holds no NaN.
trait LanePath {
    const LANES: usize;
    fn warm_run(
        &mut self,
        series: &mut [Series],
        rows: &[&[f64]],
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
    );
    fn fast_run(
        &mut self,
        series: &mut [Series],
        rows: &[&[f64]],
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
    );
}

/// Asserts what every [`LanePath`] relies on for its unchecked accesses.
#[inline(always)]
fn check_run(
    lanes: usize,
    series: &[Series],
    rows: &[&[f64]],
    out: &[&mut [f64]],
    t0: usize,
    t1: usize,
) {
    assert!(t1 >= t0);
    assert!(rows.len() == lanes && out.len() == lanes * OUTPUTS && series.len() >= lanes);
    assert!(rows.iter().all(|r| r.len() >= t1) && out.iter().all(|r| r.len() >= t1));
}

/// One series, read and written in place. The [`Raw`] values of a chunk of bars are finished by
/// `F` (four bars at a time where AVX is available).
struct Scalar<F: Finisher> {
    raw: [[f64; CHUNK]; 3],
    finisher: std::marker::PhantomData<F>,
}

/// Bars of output buffered before they are finished (or transposed, for lanes).
const CHUNK: usize = 64;

/// Finishes the outputs of bars `c0..c1` of one series: SMA 20 and 50 are in `out` already,
/// `raw` holds `M2`, the gains and the losses of bar `c0 + j` at `j`.
trait Finisher: Sized {
    fn finish_chunk(out: &mut [&mut [f64]], raw: &[[f64; CHUNK]; 3], c0: usize, c1: usize);

    /// Runs [`Scalar::chunks`].
    #[inline(always)]
    fn chunks<S: Steps<f64>>(
        scalar: &mut Scalar<Self>,
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
        steps: &mut S,
    ) {
        scalar.chunks(out, t0, t1, steps)
    }
}

/// One bar at a time.
struct FinishEach;

impl Finisher for FinishEach {
    #[inline(always)]
    fn finish_chunk(out: &mut [&mut [f64]], raw: &[[f64; CHUNK]; 3], c0: usize, c1: usize) {
        finish_each(out, raw, c0, c0, c1);
    }
}

/// Finishes bars `from..c1` of the chunk starting at bar `c0` one at a time.
#[inline(always)]
fn finish_each(out: &mut [&mut [f64]], raw: &[[f64; CHUNK]; 3], c0: usize, from: usize, c1: usize) {
    let [m2, g, l] = raw;
    let raw = m2.iter().zip(g).zip(l).skip(from - c0);
    for (t, ((&m2, &g), &l)) in (from..c1).zip(raw) {
        let v = finish([out[0][t], 0.0, m2, g, l]);
        for k in [2, 4, 5] {
            out[k][t] = v[k];
        }
    }
}

/// Four bars at a time in AVX registers (the same operations, lane by lane).
#[cfg(target_arch = "x86_64")]
struct FinishAvx;

/// [`Scalar::chunks`] for [`FinishAvx`] in a function of its own, compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
#[target_feature(enable = "avx2")]
unsafe fn chunks_avx2<S: Steps<f64>>(
    scalar: &mut Scalar<FinishAvx>,
    out: &mut [&mut [f64]],
    t0: usize,
    t1: usize,
    steps: &mut S,
) {
    scalar.chunks(out, t0, t1, steps)
}

/// Call only where AVX2 is available (it implies AVX, the invariant of [`F4`]).
#[cfg(target_arch = "x86_64")]
impl Finisher for FinishAvx {
    #[inline(always)]
    fn chunks<S: Steps<f64>>(
        scalar: &mut Scalar<Self>,
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
        steps: &mut S,
    ) {
        // SAFETY: this finisher is only used where AVX2 is available.
        unsafe { chunks_avx2(scalar, out, t0, t1, steps) }
    }

    #[inline(always)]
    fn finish_chunk(out: &mut [&mut [f64]], raw: &[[f64; CHUNK]; 3], c0: usize, c1: usize) {
        assert!(out.len() == OUTPUTS && out.iter().all(|r| r.len() >= c1) && c1 - c0 <= CHUNK);
        let mut t = c0;
        while t + 4 <= c1 {
            let j = t - c0;
            // SAFETY: `t + 4 <= c1` values in every output row and `j + 4 <= CHUNK` in `raw`
            // (asserted above).
            unsafe {
                let load = |r: &[f64; CHUNK]| F4::load(r.as_ptr().add(j));
                let sma20 = F4::load(out[0].as_ptr().add(t));
                let v = finish([sma20, sma20, load(&raw[0]), load(&raw[1]), load(&raw[2])]);
                for k in [2, 4, 5] {
                    v[k].store(out[k].as_mut_ptr().add(t));
                }
            }
            t += 4;
        }
        finish_each(out, raw, c0, t, c1);
    }
}

impl<F: Finisher> Scalar<F> {
    fn new() -> Self {
        Scalar {
            raw: [[0.0; CHUNK]; 3],
            finisher: std::marker::PhantomData,
        }
    }

    /// Runs `step` over bars `t0..t1`, chunk by chunk.
    #[inline(always)]
    fn chunks<S: Steps<f64>>(
        &mut self,
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
        state: &mut S,
    ) {
        let warm = S::WARM;
        let mut steps = *state;
        let mut c0 = t0;
        while c0 < t1 {
            let c1 = (c0 + CHUNK).min(t1);
            for t in c0..c1 {
                let [sma20, sma50, m2, g, l] = steps.raw(t);
                let j = t - c0;
                // SAFETY: `out` has OUTPUTS rows of at least `t1 > t` values (`check_run`), and
                // `j < CHUNK`.
                unsafe {
                    *out.get_unchecked_mut(0).get_unchecked_mut(t) = sma20;
                    *out.get_unchecked_mut(1).get_unchecked_mut(t) = sma50;
                    *out.get_unchecked_mut(3).get_unchecked_mut(t) = sma20;
                    *self.raw[0].get_unchecked_mut(j) = m2;
                    *self.raw[1].get_unchecked_mut(j) = g;
                    *self.raw[2].get_unchecked_mut(j) = l;
                }
            }
            F::finish_chunk(out, &self.raw, c0, c1);
            if warm {
                // No bands before bar SHORT - 1, no RSI before bar RSI (see `warm_mask`).
                for (k, until) in [(2, RSI), (3, SHORT - 1), (4, SHORT - 1), (5, SHORT - 1)] {
                    out[k][c0..c1.min(until).max(c0)].fill(f64::NAN);
                }
            }
            c0 = c1;
        }
        *state = steps;
    }
}

impl<F: Finisher> LanePath for Scalar<F> {
    const LANES: usize = 1;

    #[inline(always)]
    fn warm_run(
        &mut self,
        series: &mut [Series],
        rows: &[&[f64]],
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
    ) {
        check_run(1, series, rows, out, t0, t1);
        assert!(t1 <= LONG);
        let x = rows[0];
        let mut steps = WarmSteps {
            f: Fast::<f64>::load(series),
            bars: x,
            rows,
        };
        F::chunks(self, out, t0, t1, &mut steps);
        steps.f.store(series, t1 - 1);
    }

    #[inline(always)]
    fn fast_run(
        &mut self,
        series: &mut [Series],
        rows: &[&[f64]],
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
    ) {
        check_run(1, series, rows, out, t0, t1);
        assert!(t0 >= LONG);
        let x = rows[0];
        let mut steps = FastSteps {
            f: Fast::<f64>::load(series),
            bars: x,
            base: 0,
            rows,
        };
        F::chunks(self, out, t0, t1, &mut steps);
        steps.f.store(series, t1 - 1);
    }
}

/// One bar of a lane path: the [`Raw`] values of bar `t`.
trait Steps<L: Lane>: Copy {
    /// True for [`warm_step`] (outputs `warm_mask(t, finish(raw))`), false for [`fast_step`]
    /// (outputs `finish(raw)`, whose middle band is SMA 20).
    const WARM: bool;
    fn raw(&mut self, t: usize) -> Raw<L>;
}

/// [`fast_step`] over the closes `bars` (`bars[b - base]` is bar `b`). The state is held by value
/// so that the compiler can keep it in registers.
#[derive(Clone, Copy)]
struct FastSteps<'a, L: Lane> {
    f: Fast<L>,
    bars: &'a [L],
    base: usize,
    rows: &'a [&'a [f64]],
}

impl<L: Lane> Steps<L> for FastSteps<'_, L> {
    const WARM: bool = false;
    #[inline(always)]
    fn raw(&mut self, t: usize) -> Raw<L> {
        fast_step(
            &mut self.f,
            &self.bars[t - LONG - self.base..=t - self.base],
            self.rows,
            t,
        )
    }
}

/// [`warm_step`] over the closes `bars` (`bars[b]` is bar `b`).
#[derive(Clone, Copy)]
struct WarmSteps<'a, L: Lane> {
    f: Fast<L>,
    bars: &'a [L],
    rows: &'a [&'a [f64]],
}

impl<L: Lane> Steps<L> for WarmSteps<'_, L> {
    const WARM: bool = true;
    #[inline(always)]
    fn raw(&mut self, t: usize) -> Raw<L> {
        warm_step(&mut self.f, &self.bars[..=t], self.rows, t)
    }
}

/// The outputs of bar `t` from its [`Raw`] values.
#[inline(always)]
fn outputs<L: Lane, S: Steps<L>>(t: usize, raw: Raw<L>) -> [L; OUTPUTS] {
    if S::WARM {
        warm_mask(t, finish(raw))
    } else {
        finish(raw)
    }
}

/// Four series in the lanes of AVX registers. Their closes are transposed (4 bars × 4 series at a
/// time) into a buffer of one [`F4`] per bar, and the outputs are transposed back in chunks of
/// [`CHUNK`] bars, written either in place or, for outputs far larger than the caches, through
/// [`Staging`] with non-temporal stores.
#[cfg(target_arch = "x86_64")]
struct Avx {
    bars: Vec<F4>,
    staging: Option<Box<Staging>>,
}

/// Output rows (`LANES * OUTPUTS`) on their way to non-temporal stores, which need 32-byte aligned
/// addresses: row `r` holds the `held[r]` bars before the current chunk not yet written, and is
/// flushed up to its last aligned group of 4 bars, the rest (at most 3) carried over.
#[cfg(target_arch = "x86_64")]
struct Staging {
    values: [[f64; CHUNK + 4]; LANES * OUTPUTS],
    held: [usize; LANES * OUTPUTS],
}

#[cfg(target_arch = "x86_64")]
impl Staging {
    fn new() -> Box<Self> {
        Box::new(Staging {
            values: [[0.0; CHUNK + 4]; LANES * OUTPUTS],
            held: [0; LANES * OUTPUTS],
        })
    }

    /// Writes the held bars of every row, which end at bar `end`, up to the last 32-byte aligned
    /// address (or all of them when `all`) into `out`.
    ///
    /// # Safety
    /// AVX is available and every `out[r]` holds at least `end` values.
    #[inline(always)]
    unsafe fn flush(&mut self, out: &mut [&mut [f64]], end: usize, all: bool) {
        for (r, row) in out.iter_mut().enumerate() {
            let (held, values) = (self.held[r], &mut self.values[r]);
            let first = end - held;
            let p = row.as_mut_ptr();
            // Bars before the first 32-byte aligned address, written one by one.
            let head = ((4 - (p as usize / 8 + first) % 4) % 4).min(held);
            let body = (held - head) / 4 * 4;
            for (j, &v) in values[..head].iter().enumerate() {
                *p.add(first + j) = v;
            }
            for j in (head..head + body).step_by(4) {
                F4::load(values.as_ptr().add(j)).stream(p.add(first + j));
            }
            let rest = head + body..held;
            if all {
                for (j, &v) in values[rest.clone()].iter().enumerate() {
                    *p.add(first + rest.start + j) = v;
                }
                self.held[r] = 0;
            } else {
                self.held[r] = rest.len();
                values.copy_within(rest, 0);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl Avx {
    /// Transposes the closes of bars `from..to` into `self.bars`.
    #[inline(always)]
    fn load_bars(&mut self, rows: &[&[f64]], from: usize, to: usize) {
        let bars = &mut self.bars;
        bars.clear();
        bars.reserve(to - from);
        let mut j = from;
        while j + 4 <= to {
            // SAFETY: `j + 4 <= to <= rows[i].len()` for every row (`check_run`).
            let load = |i: usize| unsafe { F4::load(rows[i].as_ptr().add(j)) };
            let v = F4::transpose([load(0), load(1), load(2), load(3)]);
            bars.extend_from_slice(&v);
            j += 4;
        }
        let tail = |i: usize| &rows[i][j..to];
        for (((&a, &b), &c), &d) in tail(0).iter().zip(tail(1)).zip(tail(2)).zip(tail(3)) {
            bars.push(F4::from_array([a, b, c, d]));
        }
    }

    /// Runs `stepper` over bars `t0..t1` and writes the outputs.
    #[inline(always)]
    fn write_chunks<S: Steps<F4>>(
        staging: &mut Option<Box<Staging>>,
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
        stepper: &mut S,
    ) {
        // One buffer per output; the middle band shares SMA 20's buffer when they are equal.
        let mut buf = [[F4::splat(0.0); CHUNK]; OUTPUTS];
        let (sources, dests): (&[usize], &[&[usize]]) = if !S::WARM {
            (&[0, 1, 2, 4, 5], &[&[0, 3], &[1], &[2], &[4], &[5]])
        } else {
            (&[0, 1, 2, 3, 4, 5], &[&[0], &[1], &[2], &[3], &[4], &[5]])
        };
        let mut c0 = t0;
        while c0 < t1 {
            let c1 = (c0 + CHUNK).min(t1);
            for t in c0..c1 {
                let v = outputs::<F4, S>(t, stepper.raw(t));
                for (b, &k) in buf.iter_mut().zip(sources) {
                    // SAFETY: `t - c0 < c1 - c0 <= CHUNK`.
                    unsafe { *b.get_unchecked_mut(t - c0) = v[k] };
                }
            }
            // Where bar `t` of output row `r` goes: `dst[r] + t - shift[r]`, in the row itself or in
            // its staging buffer.
            let mut dst = [std::ptr::null_mut::<f64>(); LANES * OUTPUTS];
            let mut shift = [0; LANES * OUTPUTS];
            match staging.as_deref_mut() {
                None => dst
                    .iter_mut()
                    .zip(out.iter_mut())
                    .for_each(|(d, r)| *d = r.as_mut_ptr()),
                Some(s) => {
                    for (r, d) in dst.iter_mut().enumerate() {
                        *d = s.values[r].as_mut_ptr();
                        shift[r] = c0 - s.held[r];
                    }
                }
            }
            for (b, &ks) in buf.iter().zip(dests) {
                let mut t = c0;
                while t + 4 <= c1 {
                    let v = F4::transpose([b[t - c0], b[t - c0 + 1], b[t - c0 + 2], b[t - c0 + 3]]);
                    for (i, v) in v.into_iter().enumerate() {
                        for &k in ks {
                            let r = i * OUTPUTS + k;
                            // SAFETY: in place, `t + 4 <= c1 <= t1 <= out[r].len()` (`check_run`);
                            // staged, `t + 4 - shift[r] <= held + CHUNK`.
                            unsafe { v.store(dst[r].add(t - shift[r])) };
                        }
                    }
                    t += 4;
                }
                for t in t..c1 {
                    let v = b[t - c0].to_array();
                    for (i, v) in v.into_iter().enumerate() {
                        for &k in ks {
                            let r = i * OUTPUTS + k;
                            // SAFETY: as above.
                            unsafe { *dst[r].add(t - shift[r]) = v };
                        }
                    }
                }
            }
            if let Some(s) = staging.as_deref_mut() {
                for h in s.held.iter_mut() {
                    *h += c1 - c0;
                }
                // SAFETY: AVX is available; every output row holds at least `t1 >= c1` values.
                unsafe { s.flush(out, c1, c1 == t1) };
                if c1 == t1 {
                    store_fence();
                }
            }
            c0 = c1;
        }
    }
}

/// Call only where AVX is available (the invariant of [`F4`]).
#[cfg(target_arch = "x86_64")]
impl LanePath for Avx {
    const LANES: usize = LANES;

    #[inline(always)]
    fn warm_run(
        &mut self,
        series: &mut [Series],
        rows: &[&[f64]],
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
    ) {
        check_run(LANES, series, rows, out, t0, t1);
        assert!(t1 <= LONG);
        self.load_bars(rows, 0, t1);
        let mut steps = WarmSteps {
            f: Fast::<F4>::load(series),
            bars: &self.bars,
            rows,
        };
        Self::write_chunks(&mut self.staging, out, t0, t1, &mut steps);
        steps.f.store(series, t1 - 1);
    }

    #[inline(always)]
    fn fast_run(
        &mut self,
        series: &mut [Series],
        rows: &[&[f64]],
        out: &mut [&mut [f64]],
        t0: usize,
        t1: usize,
    ) {
        check_run(LANES, series, rows, out, t0, t1);
        assert!(t0 >= LONG);
        let base = t0 - LONG;
        self.load_bars(rows, base, t1);
        let mut steps = FastSteps {
            f: Fast::<F4>::load(series),
            bars: &self.bars,
            base,
            rows,
        };
        Self::write_chunks(&mut self.staging, out, t0, t1, &mut steps);
        steps.f.store(series, t1 - 1);
    }
}

/// First NaN of `x` at or after `from` (`x.len()` if none).
fn next_nan(x: &[f64], from: usize) -> usize {
    const CHUNK: usize = 32;
    let mut i = from;
    while i + CHUNK <= x.len() {
        // A branch-free test of a whole chunk vectorises; the position is searched only on a hit.
        if x[i..i + CHUNK]
            .iter()
            .fold(false, |acc, v| acc | v.is_nan())
        {
            break;
        }
        i += CHUNK;
    }
    x[i..]
        .iter()
        .position(|v| v.is_nan())
        .map_or(x.len(), |p| i + p)
}

/// Whether bar `t` of `x` can take the fast path: its 50-bar window (and the bar before it, for
/// the changes) holds no NaN. Returns the first NaN at or after `t - LONG` when it can.
#[inline(always)]
fn fast_until(x: &[f64], t: usize) -> Option<usize> {
    if t < LONG {
        return None;
    }
    let next = next_nan(x, t - LONG);
    (next > t).then_some(next)
}

/// The first bar at or after `t` that can take the fast path (`x.len()` if none).
fn first_fast(x: &[f64], t: usize) -> usize {
    let mut b = t.max(LONG);
    while b < x.len() {
        let next = next_nan(x, b - LONG);
        if next > b {
            return b;
        }
        b = next + LONG + 1;
    }
    x.len()
}

/// Advances one series from bar `t0` to `t1` (`out` = its six output rows): the warm-up path
/// while its first bars hold no NaN, the fast path wherever its windows are full and NaN-free,
/// the general path elsewhere.
#[inline(always)]
fn advance<P: LanePath>(
    path: &mut P,
    s: &mut Series,
    x: &[f64],
    out: &mut [&mut [f64]],
    t0: usize,
    t1: usize,
) {
    debug_assert_eq!(P::LANES, 1);
    let rows = [x];
    let series = std::slice::from_mut(s);
    let mut t = t0;
    // The first NaN at or after `t`, and the bar after the last NaN before `t`.
    let mut next = next_nan(x, t);
    let mut clean = x[t.saturating_sub(LONG)..t]
        .iter()
        .rposition(|v| v.is_nan())
        .map_or(t.saturating_sub(LONG), |p| t.saturating_sub(LONG) + p + 1);
    while t < t1 {
        if t >= LONG && clean + LONG <= t && next > t {
            let stop = next.min(t1);
            path.fast_run(series, &rows, out, t, stop);
            t = stop;
            continue;
        }
        if t < LONG && clean == 0 && next > t {
            let stop = next.min(t1).min(LONG);
            path.warm_run(series, &rows, out, t, stop);
            t = stop;
            continue;
        }
        for (row, v) in out.iter_mut().zip(series[0].step(x, t)) {
            row[t] = v;
        }
        if next == t {
            clean = t + 1;
            next = next_nan(x, t + 1);
        }
        t += 1;
    }
}

/// The standard set of `LANES` series of equal length into `out` (`out[i * OUTPUTS + k]` is
/// output `k` of series `i`): side by side (`lanes`) wherever all of them can take the warm-up or
/// the fast path, each on its own (`one`) until they all can again.
#[inline(always)]
fn run4_with<P: LanePath, Q: LanePath>(
    lanes: &mut P,
    one: &mut Q,
    rows: &[&[f64]],
    out: &mut [&mut [f64]],
) {
    assert!(
        P::LANES == LANES && Q::LANES == 1 && rows.len() == LANES && out.len() == LANES * OUTPUTS
    );
    let n = rows[0].len();
    assert!(rows.iter().all(|r| r.len() == n) && out.iter().all(|r| r.len() == n));
    let mut series: [Series; LANES] = Default::default();
    let mut t = 0;
    // Warm-up: while no series has met a NaN, the windows fill up alike in every lane.
    let warm = n.min(LONG);
    if warm > 0 && rows.iter().all(|x| next_nan(x, 0) >= warm) {
        lanes.warm_run(&mut series, rows, out, 0, warm);
        t = warm;
    }
    while t < n {
        let mut end = n;
        let mut all = true;
        for x in rows {
            match fast_until(x, t) {
                Some(next) => end = end.min(next),
                None => all = false,
            }
        }
        if all {
            lanes.fast_run(&mut series, rows, out, t, end);
            t = end;
            continue;
        }
        // Each on its own up to the first bar where every series can take the fast path.
        let sync = rows
            .iter()
            .map(|x| first_fast(x, t))
            .max()
            .unwrap_or(n)
            .max(t + 1)
            .min(n);
        for (i, ((s, x), out)) in series
            .iter_mut()
            .zip(rows)
            .zip(out.chunks_mut(OUTPUTS))
            .enumerate()
        {
            debug_assert!(i < LANES);
            advance(one, s, x, out, t, sync);
        }
        t = sync;
    }
}

/// Four series side by side, compiled for AVX2 (AVX would do for the float lanes, but AVX2 lets
/// the compiler handle the lane masks as 256-bit integers).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run4_avx2(rows: &[&[f64]], out: &mut [&mut [f64]], stream: bool) {
    let mut lanes = Avx {
        bars: Vec::new(),
        staging: stream.then(Staging::new),
    };
    run4_with(&mut lanes, &mut Scalar::<FinishAvx>::new(), rows, out)
}

/// Four series (`rows.len() == LANES`): side by side where the CPU has AVX2, else one at a time.
/// `stream`: write the outputs with non-temporal stores (they will not fit in any cache).
fn run4(rows: &[&[f64]], out: &mut [&mut [f64]], stream: bool) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 (hence AVX, the invariant of `F4`) is available, as just checked.
            return unsafe { run4_avx2(rows, out, stream) };
        }
    }
    let _ = stream;
    for (i, x) in rows.iter().enumerate() {
        standard(x, &mut out[i * OUTPUTS..(i + 1) * OUTPUTS]);
    }
}

/// One series, compiled for AVX2 (its outputs finished four bars at a time).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run1_avx2(x: &[f64], out: &mut [&mut [f64]]) {
    advance(
        &mut Scalar::<FinishAvx>::new(),
        &mut Series::default(),
        x,
        out,
        0,
        x.len(),
    )
}

/// The standard set of one series into `out` = [sma20, sma50, rsi14, bb_middle, bb_upper, bb_lower].
pub fn standard(x: &[f64], out: &mut [&mut [f64]]) {
    assert!(
        out.len() == OUTPUTS,
        "the panel driver passes exactly OUTPUTS rows"
    );
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 (hence AVX, the invariant of `F4`) is available, as just checked.
            return unsafe { run1_avx2(x, out) };
        }
    }
    advance(
        &mut Scalar::<FinishEach>::new(),
        &mut Series::default(),
        x,
        out,
        0,
        x.len(),
    )
}

/// The standard set over a `(n_assets, n_bars)` panel.
pub fn standard_panel(
    x: &[f64],
    n_assets: usize,
    n_bars: usize,
    out: [Output<'_>; OUTPUTS],
) -> Result<()> {
    let mut out = out;
    // float32 outputs go through small float64 scratch rows, converted at once: keep those cached.
    let stream = n_assets.saturating_mul(n_bars).saturating_mul(OUTPUTS * 8) >= STREAM_MIN_BYTES
        && out.iter().all(|o| matches!(o, Output::F64(_)));
    for_each_block(
        n_assets,
        n_bars,
        &[Input {
            name: "close",
            data: x,
        }],
        &mut out,
        LANES,
        |rows, o| {
            if rows.len() == LANES {
                run4(rows, o, stream)
            } else {
                for (i, x) in rows.iter().enumerate() {
                    standard(x, &mut o[i * OUTPUTS..(i + 1) * OUTPUTS]);
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bbands::bollinger;
    use crate::convention::Convention;
    use crate::rolling::{rolling_stat, Stat};

    #[test]
    fn equals_the_separate_kernels_bit_for_bit() {
        let mut x: Vec<f64> = (0..400)
            .map(|i| 100.0 + ((i * 37) % 23) as f64 * 0.7 - (i as f64) * 0.01)
            .collect();
        x[0] = f64::NAN;
        x[150] = f64::NAN;
        for v in &mut x[300..320] {
            *v = 42.0;
        }
        let n = x.len();
        let mut rows = vec![vec![0.0; n]; OUTPUTS];
        {
            let mut refs: Vec<&mut [f64]> = rows.iter_mut().map(|r| r.as_mut_slice()).collect();
            standard(&x, &mut refs);
        }
        let mut a = vec![0.0; n];
        rolling_stat(&x, 20, 1, 1, Stat::Mean, &mut a);
        assert_eq!(format!("{:?}", a), format!("{:?}", rows[0]));
        rolling_stat(&x, 50, 1, 1, Stat::Mean, &mut a);
        assert_eq!(format!("{:?}", a), format!("{:?}", rows[1]));
        crate::rsi::rsi(&x, 14, 14, Convention::Pandas, &mut a);
        assert_eq!(format!("{:?}", a), format!("{:?}", rows[2]));
        let (mut m, mut u, mut l) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        bollinger(&x, 20, 2.0, 1, 20, &mut [&mut m, &mut u, &mut l]);
        assert_eq!(format!("{:?}", m), format!("{:?}", rows[3]));
        assert_eq!(format!("{:?}", u), format!("{:?}", rows[4]));
        assert_eq!(format!("{:?}", l), format!("{:?}", rows[5]));
    }

    /// The general path alone, bar by bar (what a stream of the window states computes).
    fn general_only(x: &[f64]) -> Vec<Vec<f64>> {
        let mut rows = vec![vec![0.0; x.len()]; OUTPUTS];
        let mut s = Series::default();
        for t in 0..x.len() {
            for (row, v) in rows.iter_mut().zip(s.step(x, t)) {
                row[t] = v;
            }
        }
        rows
    }

    fn bits(rows: &[Vec<f64>]) -> Vec<Vec<u64>> {
        rows.iter()
            .map(|r| r.iter().map(|v| v.to_bits()).collect())
            .collect()
    }

    /// Random walks with NaN runs, leading/trailing NaNs, flat runs and jumps of twelve orders
    /// of magnitude, one series per kind of trouble.
    fn hostile_panel(n_assets: usize, n_bars: usize) -> Vec<f64> {
        let mut state = 99u64;
        let mut u = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut x = Vec::with_capacity(n_assets * n_bars);
        for a in 0..n_assets {
            let mut p = 100.0;
            for t in 0..n_bars {
                p *= 1.0 + 0.04 * (u() - 0.5);
                let mut v = p;
                match a % 8 {
                    1 if t % 211 < 3 => v = f64::NAN,
                    2 if t < 70 || t > n_bars - 30 => v = f64::NAN,
                    3 if (t / 90) % 2 == 1 => v = 42.0,
                    4 => v = p * 10f64.powi(((t / 120) % 13) as i32 - 6),
                    5 if u() < 0.02 => v = f64::NAN,
                    6 if t % 300 > 250 => v = (p * 4.0).round() / 4.0,
                    // 1e6-scale prices, then nearly constant 1e-6 values (std ~1e-16).
                    7 if (t / 80) % 2 == 1 => v = 1e-6 * (1.0 + 1e-10 * (u() - 0.5)),
                    7 => v = p * 1e4,
                    _ => {}
                }
                x.push(v);
            }
        }
        x
    }

    #[test]
    fn every_path_gives_the_same_bits() {
        let (n_assets, n_bars) = (27, 700);
        // Assets 0, 3, 4, 6 first: a block without NaN in its warm-up.
        let raw = hostile_panel(n_assets, n_bars);
        let order: Vec<usize> = [0, 3, 4, 6]
            .into_iter()
            .chain((0..n_assets).filter(|a| ![0, 3, 4, 6].contains(a)))
            .collect();
        let x: Vec<f64> = order
            .iter()
            .flat_map(|a| raw[a * n_bars..(a + 1) * n_bars].iter().copied())
            .collect();
        let cells = n_assets * n_bars;
        let mut out: Vec<Vec<f64>> = vec![vec![0.0; cells]; OUTPUTS];
        for threads in [1, 2, 3] {
            crate::pool::install(threads, || {
                let [a, b, c, d, e, f] = &mut out[..] else {
                    unreachable!()
                };
                let outs = [a, b, c, d, e, f].map(|o| Output::F64(o));
                standard_panel(&x, n_assets, n_bars, outs).unwrap()
            })
            .unwrap();
            for a in 0..n_assets {
                let row = &x[a * n_bars..(a + 1) * n_bars];
                let panel: Vec<Vec<f64>> = out
                    .iter()
                    .map(|o| o[a * n_bars..(a + 1) * n_bars].to_vec())
                    .collect();
                let mut single = vec![vec![0.0; n_bars]; OUTPUTS];
                {
                    let mut refs: Vec<&mut [f64]> =
                        single.iter_mut().map(|r| r.as_mut_slice()).collect();
                    standard(row, &mut refs);
                }
                let general = general_only(row);
                assert_eq!(
                    bits(&panel),
                    bits(&general),
                    "panel vs general path, asset {a}, {threads} threads"
                );
                assert_eq!(
                    bits(&single),
                    bits(&general),
                    "one series vs general path, asset {a}"
                );
            }
        }
    }

    /// Mean and `M2` of the valid values by the corrected two-pass algorithm.
    fn two_pass(values: &[f64]) -> (f64, f64) {
        let v: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let (s1, s2) = v.iter().fold((0.0, 0.0), |(a, b), x| {
            (a + (x - mean), b + (x - mean) * (x - mean))
        });
        (mean + s1 / n, s2 - s1 * s1 / n)
    }

    #[test]
    fn stays_exact_on_hostile_data() {
        let (n_assets, n_bars) = (8, 1500);
        let x = hostile_panel(n_assets, n_bars);
        let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * b.abs();
        for a in 0..n_assets {
            let row = &x[a * n_bars..(a + 1) * n_bars];
            let mut s = Series::default();
            for t in 0..n_bars {
                let out = s.step(row, t);
                let w20 = &row[window_start(t, 20)..=t];
                if s.w20.count() >= 2 {
                    let (mean, m2) = two_pass(w20);
                    assert!(close(s.w20.mean(), mean, 1e-13), "mean20 {a} {t}");
                    assert!(
                        close(s.w20.m2(), m2, 1e-12),
                        "m2 {a} {t}: {} vs {m2}",
                        s.w20.m2()
                    );
                    if w20.iter().filter(|v| !v.is_nan()).all(|v| *v == s.w20.last) {
                        assert_eq!(
                            (s.w20.mean(), s.w20.m2()),
                            (s.w20.last, 0.0),
                            "flat window {a} {t}"
                        );
                    }
                }
                if s.w50.count() >= 1 {
                    assert!(
                        close(out[1], two_pass(&row[window_start(t, 50)..=t]).0, 1e-13),
                        "mean50 {a} {t}"
                    );
                }
                if s.cutler.count() >= RSI {
                    let d: Vec<f64> = (window_start(t, RSI)..=t).map(|j| change(row, j)).collect();
                    let g: f64 = d.iter().map(|v| gain(*v)).sum();
                    let l: f64 = d.iter().map(|v| loss(*v)).sum();
                    assert!(
                        close(s.cutler.gains.sum(), g, 1e-13)
                            && close(s.cutler.losses.sum(), l, 1e-13),
                        "rsi sums {a} {t}"
                    );
                    let rsi = 100.0 * g / (g + l);
                    let ok = (out[2] - rsi).abs() <= 1e-13 * rsi.max(1.0)
                        || (rsi.is_nan() && out[2].is_nan());
                    assert!(ok, "rsi {a} {t}: {} vs {rsi}", out[2]);
                }
            }
        }
    }

    #[test]
    fn streamed_outputs_at_any_alignment_are_the_same() {
        let n_assets = 8;
        for n_bars in [51, 60, 117, 190, 700] {
            let x = hostile_panel(n_assets, n_bars);
            // Lane sets with and without NaN in the warm-up (kinds 0, 3, 4, 6, 7 have none there).
            for assets in [[0, 1, 2, 3], [4, 5, 6, 7], [0, 3, 4, 6], [3, 4, 6, 7]] {
                let rows: Vec<&[f64]> = assets
                    .iter()
                    .map(|a| &x[a * n_bars..(a + 1) * n_bars])
                    .collect();
                for stream in [false, true] {
                    // Every output row starts at its own offset (0..3 values) from a 32-byte boundary.
                    let mut store = vec![vec![0.0; n_bars + 8]; LANES * OUTPUTS];
                    let mut out: Vec<&mut [f64]> = store
                        .iter_mut()
                        .enumerate()
                        .map(|(r, v)| {
                            let skew = (4 - (v.as_ptr() as usize / 8) % 4) % 4;
                            &mut v[skew + r % 4..skew + r % 4 + n_bars]
                        })
                        .collect();
                    run4(&rows, &mut out, stream);
                    for (i, row) in rows.iter().enumerate() {
                        let got: Vec<Vec<f64>> = out[i * OUTPUTS..(i + 1) * OUTPUTS]
                            .iter()
                            .map(|r| r.to_vec())
                            .collect();
                        assert_eq!(
                            bits(&got),
                            bits(&general_only(row)),
                            "{n_bars} bars, lane {i}, stream {stream}"
                        );
                    }
                }
            }
        }
    }
}
