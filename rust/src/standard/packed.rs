//! The fast path and the warm-up of ONE series with its four first-moment windows (SMA 20, SMA 50, RSI gains,
//! RSI losses) packed into the lanes of one [`F4`]. These windows perform the same IEEE operations
//! per bar on different values, so one vector instruction does the work of four scalar ones; each
//! lane performs exactly the operation of [`fast_step`] on `f64` (no fused multiply-add), so the
//! bits are those of the scalar steps. The variance sums ([`Sum2`]) have no lane partner and
//! stay scalar. A single series is mostly this step (the panel paths already fill the lanes with
//! four series), and the scalar step spends its time on instruction count, not on latency.
//!
//! [`fast_step`]: super::step::fast_step

use super::paths::Steps;
use super::recompute::{recompute, recompute_second};
use super::state::{counts, Fast};
use super::step::{gain_of, loss_of, Raw};
use super::warm_lanes::{INV, WARM_LANES};
use super::{LONG, RSI, SHORT};
use crate::window::{run_step, Lane, Sum1, Sum2, F4, M4};

/// [`Steps`] of the fast path (`WARM = false`) or the warm-up (`WARM = true`) on one series
/// (`bars[b]` is bar `b`), lanes in the order SMA 20, SMA 50, gains, losses. Build it only where AVX is available (the invariant of [`F4`]).
#[derive(Clone, Copy)]
pub(super) struct PackedSteps<'a, const WARM: bool> {
    /// `run`/`last` per lane: lanes 0 and 1 both hold the shared run of the closes (they see the
    /// same values, so they stay equal), lanes 2 and 3 those of the gains and losses.
    run: F4,
    last: F4,
    sums: Sum1<F4>,
    bb: Sum2<f64>,
    bars: &'a [f64],
    rows: &'a [&'a [f64]],
}

/// Per-lane constants: the flat-run thresholds (the window lengths), the multipliers of the
/// output formulas (`1/n` for the means, `n` for the RSI sums) and of the flat value (`last * 1`
/// is `last` exactly, `last * n` the flat sum).
const N: [f64; 4] = [SHORT as f64, LONG as f64, RSI as f64, RSI as f64];
const Q: [f64; 4] = [
    1.0 / SHORT as f64,
    1.0 / LONG as f64,
    RSI as f64,
    RSI as f64,
];
const FLAT: [f64; 4] = [1.0, 1.0, RSI as f64, RSI as f64];

impl<'a, const WARM: bool> PackedSteps<'a, WARM> {
    /// Packs the state `f` of one series (AVX must be available).
    #[inline(always)]
    pub(super) fn new(f: &Fast<f64>, bars: &'a [f64], rows: &'a [&'a [f64]]) -> Self {
        let pack = |a: f64, b: f64, c: f64, d: f64| F4::from_array([a, b, c, d]);
        let (w20, w50, g, l) = (&f.w20, &f.w50, &f.gains, &f.losses);
        PackedSteps {
            run: pack(f.run, f.run, f.g_run, f.l_run),
            last: pack(f.last, f.last, f.g_last, f.l_last),
            sums: Sum1 {
                anchor: pack(w20.anchor, w50.anchor, g.anchor, l.anchor),
                s1: pack(w20.s1, w50.s1, g.s1, l.s1),
                absx: pack(w20.absx, w50.absx, g.absx, l.absx),
                mass1: pack(w20.mass1, w50.mass1, g.mass1, l.mass1),
            },
            bb: f.bb,
            bars,
            rows,
        }
    }

    /// The state of the series, unpacked.
    #[inline(always)]
    pub(super) fn unpack(&self) -> Fast<f64> {
        let (run, last) = (self.run.to_array(), self.last.to_array());
        let s = &self.sums;
        let (anchor, s1) = (s.anchor.to_array(), s.s1.to_array());
        let (absx, mass1) = (s.absx.to_array(), s.mass1.to_array());
        let sum = |i: usize| Sum1 {
            anchor: anchor[i],
            s1: s1[i],
            absx: absx[i],
            mass1: mass1[i],
        };
        Fast {
            run: run[0],
            last: last[0],
            w20: sum(0),
            bb: self.bb,
            w50: sum(1),
            g_run: run[2],
            g_last: last[2],
            gains: sum(2),
            l_run: run[3],
            l_last: last[3],
            losses: sum(3),
        }
    }
}

impl<const WARM: bool> Steps<f64> for PackedSteps<'_, WARM> {
    const WARM: bool = WARM;

    /// The fast path reads `bars[t - LONG..=t]` unchecked.
    #[inline(always)]
    fn check(&self, t0: usize, t1: usize) {
        assert!(t1 <= self.bars.len() && (WARM || t0 >= LONG));
    }

    #[inline(always)]
    unsafe fn raw(&mut self, t: usize) -> Raw<f64> {
        if WARM {
            self.warm(t)
        } else {
            // SAFETY: `LONG <= t < bars.len()`, which `check` asserted (the caller's contract).
            unsafe { self.fast(t) }
        }
    }
}

impl<const WARM: bool> PackedSteps<'_, WARM> {
    /// [`fast_step`](super::step::fast_step) for bar `t`, operation for operation.
    ///
    /// # Safety
    /// `LONG <= t < bars.len()`. (Checked once per chunk, not per bar: the per-bar bounds check
    /// cost instructions and kept counters for the recompute slices live in registers.)
    #[inline(always)]
    unsafe fn fast(&mut self, t: usize) -> Raw<f64> {
        // SAFETY: `bars[t - LONG..=t]` is in bounds (the contract above).
        let win = unsafe { &*self.bars.as_ptr().add(t - LONG).cast::<[f64; LONG + 1]>() };
        let inv20 = 1.0 / SHORT as f64;
        let (x_in, x20, x50, x14) = (win[LONG], win[LONG - SHORT], win[0], win[LONG - RSI]);
        // Gain and loss of the change entering (lanes 0, 1) and of the one leaving (lanes 2, 3)
        // in one vector, from two loads of adjacent closes: see `changes_of_pairs`.
        // SAFETY: `win` holds `LONG + 1` closes, so both pairs are in bounds; AVX is available
        // (the invariant of the `F4` lanes held here).
        let g = changes_of_pairs(unsafe {
            F4::load_halves(win.as_ptr().add(LONG - 1), win.as_ptr().add(LONG - RSI - 1))
        });
        let v_in = F4::splat(x_in).blend_low2(g.swap_halves());
        let v_out = F4::from_array([x20, x50, x14, x14]).blend_low2(g);

        run_step(&mut self.run, &mut self.last, v_in);
        // The scalar step passes the gains and losses themselves as their magnitudes: they are +0
        // or positive, so their `abs` is the same bits.
        self.sums.slide_valid(v_in, v_out, v_in.abs(), v_out.abs());
        // The check computes `M2` already: the output reuses it unless a recompute follows.
        let (bb_ok, mut m2) = self.bb.slide_valid_m2(x_in, x20, inv20);

        let flat = self.run.ge(F4::from_array(N));
        let flat20 = flat.bits() & 1 != 0;
        let sums_ok = F4::all(self.sums.within());
        if !(sums_ok && (bb_ok || flat20)) {
            let win = [&win[LONG + 1 - SHORT..], &win[1..], &win[LONG - RSI..]];
            if sums_ok {
                // Only the variance sums failed (the common case): no unpacking.
                recompute_second(&mut self.bb, false, win[0], inv20, &self.rows, t);
            } else {
                let inv = (inv20, 1.0 / LONG as f64, 1.0 / RSI as f64);
                // SAFETY: AVX is available (the invariant of the `F4` lanes held here).
                *self = unsafe { recompute_cold(*self, bb_ok || flat20, win, inv, t) };
            }
            m2 = self.bb.within_m2(inv20).1;
        }
        self.outputs(flat, F4::from_array(Q), F4::from_array(FLAT), m2)
    }

    /// The outputs of [`fast_step`](super::step::fast_step) from the packed sums: means
    /// `anchor + s1 * (1/n)` in lanes 0 and 1, RSI sums `anchor * n + s1` in lanes 2 and 3, both
    /// `p * q + r` with `p` and `r` swapped between the two halves; `last * flat` for flat runs.
    #[inline(always)]
    fn outputs(&self, flat: M4, q: F4, flat_by: F4, m2: f64) -> Raw<f64> {
        let s = &self.sums;
        let (p, r) = (s.s1.blend_low2(s.anchor), s.anchor.blend_low2(s.s1));
        let mut v = p * q + r;
        // Flat windows are rare: a branch (well predicted) is cheaper than the select and the
        // multiply every bar. The test reads the mask's bits at once (a test of `lanes()` as an
        // array of booleans compiled to a chain of shifts).
        let bits = flat.bits();
        if bits != 0 {
            v = F4::select(flat, self.last * flat_by, v);
        }
        let v = v.to_array();
        let m2 = Sum2::clamp_m2(bits & 1 != 0, m2);
        [v[0], v[1], m2, v[2], v[3]]
    }

    /// [`warm_step`](super::step::warm_step) for bar `1 <= t < LONG` of a series without NaN up
    /// to `t`, operation for operation (bar 0, which anchors the windows, stays scalar).
    #[inline(always)]
    fn warm(&mut self, t: usize) -> Raw<f64> {
        assert!((1..LONG).contains(&t));
        let xs = &self.bars[..=t];
        let c = counts(t);
        let lanes = &WARM_LANES[t];
        let (inv20, inv50, inv14) = (INV[c.c20], INV[c.c50], INV[c.c14]);
        let x_in = xs[t];
        let v_in = with_changes(F4::splat(x_in), F4::splat(xs[t - 1]));
        run_step(&mut self.run, &mut self.last, v_in);
        if t == 1 {
            // The first change anchors the RSI windows.
            let fresh = Sum1 {
                anchor: v_in,
                s1: F4::splat(0.0),
                absx: F4::splat(0.0),
                mass1: F4::splat(0.0),
            };
            self.sums = Sum1::select(
                M4::from_lanes([false, false, true, true]),
                &fresh,
                &self.sums,
            );
        }
        // What leaves: the close 20 bars back once the window is full, nothing from the 50-bar
        // window, the change 14 bars back once the RSI window is full; 0 otherwise (the scalar
        // step's `zero`, whose `abs` is the same +0).
        let x20 = if t >= SHORT { xs[t - SHORT] } else { 0.0 };
        let (g_out, l_out) = if t > RSI {
            let d_out = xs[t - RSI] - xs[t - RSI - 1];
            (gain_of(d_out), loss_of(d_out))
        } else {
            (0.0, 0.0)
        };
        let v_out = F4::from_array([x20, 0.0, g_out, l_out]);
        let k = self.sums.anchor;
        let leaves = M4(F4::from_array(lanes.leaves).0);
        let d_out = F4::select(leaves, v_out - k, F4::splat(0.0));
        self.sums.update(v_in - k, d_out, v_in.abs(), v_out.abs());
        let kb = self.bb.anchor;
        let bb_out = if t >= SHORT { x20 - kb } else { 0.0 };
        let bb_ok = self.bb.update(x_in - kb, bb_out, inv20);

        let flat = self.run.ge(F4::from_array(lanes.n));
        let flat20 = flat.bits() & 1 != 0;
        let sums_ok = F4::all(self.sums.within());
        if !(sums_ok && (bb_ok || flat20)) {
            let win = [&xs[t + 1 - c.c20..], xs, &xs[t - c.c14..]];
            if sums_ok {
                recompute_second(&mut self.bb, false, win[0], inv20, &self.rows, t);
            } else {
                let inv = (inv20, inv50, inv14);
                // SAFETY: AVX is available (the invariant of the `F4` lanes held here).
                *self = unsafe { recompute_cold(*self, bb_ok || flat20, win, inv, t) };
            }
        }
        let (q, flat_by) = (F4::from_array(lanes.q), F4::from_array(lanes.flat));
        self.outputs(flat, q, flat_by, self.bb.within_m2(inv20).1)
    }
}

/// `x` in lanes 0 and 1; the gain and the loss of the change `d = x - y` in lanes 2 and 3, bit for
/// bit as [`gain_of`] and [`loss_of`] give them: `max(d, +0)` is `if 0 < d { d } else { +0 }` and
/// `max(-d, +0)` is `if d < 0 { -d } else { +0 }` (the x86 max rule; NaN gives +0 in both).
#[inline(always)]
fn with_changes(x: F4, y: F4) -> F4 {
    let d = (x - y).flip_signs(F4::from_array([0.0, 0.0, 0.0, -0.0]));
    x.blend_low2(d.max_(F4::splat(0.0)))
}

/// The gain and the loss of the changes `d = x - y` of the pairs `[y0, x0, y1, x1]`, in lanes 0
/// and 1 and lanes 2 and 3, bit for bit as in [`with_changes`]: `y - x` is exactly `-d`
/// (rounding to nearest is symmetric) except that both are +0 where `x = y`, which `max` makes +0
/// either way. Two loads and one shuffle replace the broadcasts and blends that building
/// `[x0, x0, x1, x1]` and `[y0, y0, y1, y1]` took (3 instructions per bar).
#[inline(always)]
fn changes_of_pairs(pairs: F4) -> F4 {
    (pairs.swap_pairs() - pairs).max_(F4::splat(0.0))
}

/// The rounding fallback on the unpacked state (`bb_ok`: whether the variance sums pass; `win`
/// and `inv` as [`recompute`] takes them), out of line: it is rare. Compiled for AVX so that the
/// packing and unpacking inline. The state goes by value: a
/// reference would pin the loop's copy of it to memory.
///
/// # Safety
/// The CPU must support AVX.
#[cold]
#[inline(never)]
#[target_feature(enable = "avx")]
unsafe fn recompute_cold<'a, const WARM: bool>(
    p: PackedSteps<'a, WARM>,
    bb_ok: bool,
    win: [&[f64]; 3],
    inv: (f64, f64, f64),
    t: usize,
) -> PackedSteps<'a, WARM> {
    let ok = p.sums.within().lanes();
    let ok = [ok[0], bb_ok, ok[1], ok[2], ok[3]];
    let mut f = p.unpack();
    recompute(&mut f, &ok, win, inv, &p.rows, t);
    PackedSteps::new(&f, p.bars, p.rows)
}
