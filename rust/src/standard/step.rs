//! One bar of the lane paths: [`fast_step`] where every window is full and NaN-free,
//! [`warm_step`] while the windows of NaN-free series fill up, and the output formulas
//! ([`finish`], [`warm_mask`]). Each performs exactly the operations of the general path for its
//! bars, so results do not depend on the path.

use super::recompute::{recompute, Rows};
use super::state::{counts, Fast};
use super::{K, LONG, OUTPUTS, RSI, SHORT};
use crate::rsi::cutler_lanes;
use crate::window::{band, run_step, Lane, Sum1, Sum2};

/// `(n, 1/n)` for a count, as [`Window::slide`] computes them.
///
/// [`Window::slide`]: crate::window::Window::slide
#[inline(always)]
fn n_inv<L: Lane>(count: usize) -> (L, L) {
    let n = count as f64;
    (L::splat(n), L::splat(1.0 / n))
}

/// What a bar's outputs are made of: SMA 20, SMA 50, `M2` of the 20-bar window, and the sums of
/// the gains and losses of the RSI window. They do not feed back into the state, so [`finish`] can
/// turn them into outputs later (for one series, four bars at a time).
pub(crate) type Raw<L> = [L; 5];

/// The six outputs from a bar's [`Raw`] values, by the operations of [`Series::step`].
///
/// [`Series::step`]: super::state::Series::step
#[inline(always)]
pub(crate) fn finish<L: Lane>(raw: Raw<L>) -> [L; OUTPUTS] {
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
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the AVX2 paths only
pub(super) fn warm_mask<L: Lane>(t: usize, mut v: [L; OUTPUTS]) -> [L; OUTPUTS] {
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
///
/// [`Series::step`]: super::state::Series::step
#[inline(always)]
pub(super) fn fast_step<L: Lane>(f: &mut Fast<L>, win: &[L], rows: &[&[f64]], t: usize) -> Raw<L> {
    let win: &[L; LONG + 1] = win.try_into().expect("LONG + 1 closes");
    fast_step_by(f, win, rows, t)
}

/// The closes `x[t - LONG..=t]` of a fast step: read by position on every bar, and as one array
/// only for the rare recompute. A slice serves the batch paths; a stream gathers its lanes from
/// the buffers of four symbols.
pub(crate) trait Closes<L: Lane> {
    /// The close at position `i` of the window (`LONG` is bar `t`).
    fn at(&self, i: usize) -> L;
    /// Recomputes the windows that failed their rounding test (`ok`) from the whole window
    /// ([`recompute_in`]), given the rows of the exact fallback and the bar `t` of the window's
    /// last position in them: `rows` and `t` as given, unless the source holds its closes
    /// elsewhere (a stream's ring), where it makes rows of the positions `from..` only. Only
    /// positions `from..` of the window are read (a source may leave the others unset).
    fn recompute(
        &self,
        f: &mut Fast<L>,
        ok: &[L::Mask; 5],
        inv: (L, L, L),
        from: usize,
        rows: &[&[f64]],
        t: usize,
    );
}

impl<L: Lane> Closes<L> for [L; LONG + 1] {
    #[inline(always)]
    fn at(&self, i: usize) -> L {
        self[i]
    }
    #[inline(always)]
    fn recompute(
        &self,
        f: &mut Fast<L>,
        ok: &[L::Mask; 5],
        inv: (L, L, L),
        _from: usize,
        rows: &[&[f64]],
        t: usize,
    ) {
        recompute_in(f, ok, self, inv, &rows, t)
    }
}

/// [`recompute`] of a fast step's windows, all of them in `win` (the closes
/// `x[t - LONG..=t]`, valid from the first position a failed window reads); `inv` the
/// reciprocals of the three counts.
#[inline(always)]
pub(crate) fn recompute_in<L: Lane, R: Rows + ?Sized>(
    f: &mut Fast<L>,
    ok: &[L::Mask; 5],
    win: &[L; LONG + 1],
    inv: (L, L, L),
    rows: &R,
    t: usize,
) {
    let windows = [&win[LONG + 1 - SHORT..], &win[1..], &win[LONG - RSI..]];
    recompute(f, ok, windows, inv, rows, t)
}

/// [`fast_step`] on any source of the window's closes.
#[inline(always)]
pub(crate) fn fast_step_by<L: Lane, C: Closes<L> + ?Sized>(
    f: &mut Fast<L>,
    win: &C,
    rows: &[&[f64]],
    t: usize,
) -> Raw<L> {
    let (n20, n50, n14) = (
        L::splat(SHORT as f64),
        L::splat(LONG as f64),
        L::splat(RSI as f64),
    );
    let (inv20, inv50) = (L::splat(1.0 / SHORT as f64), L::splat(1.0 / LONG as f64));
    let (x_in, x20, x50) = (win.at(LONG), win.at(LONG - SHORT), win.at(0));
    let (d_in, d_out) = (
        x_in - win.at(LONG - 1),
        win.at(LONG - RSI) - win.at(LONG - RSI - 1),
    );
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
        // The first position a failed window reads (its closes, or for the RSI the close before
        // its first change), in the window and in `rows` alike.
        let from = if !L::all(ok[2]) {
            1
        } else if !L::all(ok[0] & ok[1]) {
            LONG + 1 - SHORT
        } else {
            LONG - RSI
        };
        win.recompute(f, &ok, inv, from, rows, t);
    }

    let sma20 = f.w20.mean(flat20, f.last, inv20);
    let m2 = f.bb.m2(flat20, inv20);
    let sma50 = f.w50.mean(f.run.ge(n50), f.last, inv50);
    let g = f.gains.sum(f.g_run.ge(n14), f.g_last, n14);
    let l = f.losses.sum(f.l_run.ge(n14), f.l_last, n14);
    [sma20, sma50, m2, g, l]
}

/// `gain(d)` of a valid change: `if 0 < d { d } else { +0 }`, which is `max(d, +0)` by the x86
/// max rule ([`Lane::max_`]), one instruction instead of a compare and a blend.
#[inline(always)]
pub(super) fn gain_of<L: Lane>(d: L) -> L {
    d.max_(L::splat(0.0))
}

/// `loss(d)` of a valid change: `if d < 0 { -d } else { +0 }`, which is `max(-d, +0)`.
#[inline(always)]
pub(super) fn loss_of<L: Lane>(d: L) -> L {
    (-d).max_(L::splat(0.0))
}

/// General path for bar `t < LONG` of series without NaN in `xs = x[..=t]`: the windows are still
/// filling up, with the same counts in every lane ([`counts`]). Performs exactly the operations of
/// [`Series::step`] for such a bar (whose outputs are `warm_mask(t, finish(raw))`).
///
/// [`Series::step`]: super::state::Series::step
#[inline(always)]
pub(super) fn warm_step<L: Lane>(f: &mut Fast<L>, xs: &[L], rows: &[&[f64]], t: usize) -> Raw<L> {
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
        recompute(f, &ok, win, (inv20, inv50, inv14), &rows, t);
    }

    let sma20 = f.w20.mean(flat20, f.last, inv20);
    let m2 = f.bb.m2(flat20, inv20);
    let sma50 = f.w50.mean(f.run.ge(n50), f.last, inv50);
    let g = f.gains.sum(f.g_run.ge(n14), f.g_last, n14);
    let l = f.losses.sum(f.l_run.ge(n14), f.l_last, n14);
    [sma20, sma50, m2, g, l]
}
