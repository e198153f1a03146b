//! The state of the standard set. Per series, the public window states that the general path
//! drives bar by bar ([`Series`]); per `L::LANES` series, the same sums unpacked into lanes for
//! the fast paths ([`Fast`]). Conversions go both ways at any bar, so a series can switch between
//! the general and the lane paths wherever a NaN enters or leaves its windows.

use super::{K, LONG, OUTPUTS, RSI, SHORT};
use crate::rsi::Cutler;
use crate::window::{band, Lane, Sum1, Sum2, Window};

/// State of the standard set for one series: the public window states.
#[derive(Clone, Debug, Default)]
pub(crate) struct Series {
    pub(crate) w20: Window<true>,
    pub(crate) w50: Window<false>,
    pub(crate) cutler: Cutler,
}

impl Series {
    /// General path: advances bar `t` of `x` and returns the six outputs.
    #[inline(always)]
    pub(crate) fn step(&mut self, x: &[f64], t: usize) -> [f64; OUTPUTS] {
        self.w20.slide_at(x, t, SHORT);
        self.w50.slide_at(x, t, LONG);
        self.cutler.slide_at(x, t, RSI);

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

impl Series {
    /// [`Series::step`] for a bar whose windows are full and NaN-free (`x[t - LONG..=t]` valid):
    /// the fast path's operations on one lane, which give the same bits without the NaN and
    /// count bookkeeping. A stream calls it on its recent history.
    #[inline]
    pub(crate) fn step_full(&mut self, x: &[f64], t: usize) -> [f64; OUTPUTS] {
        let mut f = Fast::<f64>::load(std::slice::from_ref(self));
        let raw = super::step::fast_step(&mut f, &x[t - LONG..=t], &[x], t);
        f.store(std::slice::from_mut(self), t);
        super::step::finish(raw)
    }
}

/// The full-window state of `L::LANES` series, one lane each (structure of arrays).
#[derive(Clone, Copy)]
pub(crate) struct Fast<L> {
    /// Run of identical prices: shared by the 20- and 50-bar windows, which see the same values.
    pub(crate) run: L,
    pub(crate) last: L,
    pub(crate) w20: Sum1<L>,
    pub(crate) bb: Sum2<L>,
    pub(crate) w50: Sum1<L>,
    pub(crate) g_run: L,
    pub(crate) g_last: L,
    pub(crate) gains: Sum1<L>,
    pub(crate) l_run: L,
    pub(crate) l_last: L,
    pub(crate) losses: Sum1<L>,
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
pub(super) fn put1<L: Lane>(v: &mut Sum1<L>, i: usize, s: Sum1<f64>) {
    v.anchor.set_lane(i, s.anchor);
    v.s1.set_lane(i, s.s1);
    v.absx.set_lane(i, s.absx);
    v.mass1.set_lane(i, s.mass1);
}

#[inline(always)]
pub(super) fn put2<L: Lane>(v: &mut Sum2<L>, i: usize, s: Sum2<f64>) {
    v.anchor.set_lane(i, s.anchor);
    v.s1.set_lane(i, s.s1);
    v.s2.set_lane(i, s.s2);
    v.mass1.set_lane(i, s.mass1);
    v.mass2.set_lane(i, s.mass2);
}

impl<L: Lane> Fast<L> {
    /// Lanes from the states of `L::LANES` series whose windows are all full.
    #[inline(always)]
    pub(crate) fn load(s: &[Series]) -> Self {
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
    pub(crate) fn store(&self, s: &mut [Series], t: usize) {
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
pub(super) struct Counts {
    pub(super) c20: usize,
    pub(super) c50: usize,
    /// Changes in the RSI window (the change at bar 0 is NaN).
    pub(super) c14: usize,
}

#[inline(always)]
pub(super) fn counts(t: usize) -> Counts {
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
