//! The lane-generic sums of a window (`Σ(x-k)`, `Σ(x-k)²` around an anchor), their updates as
//! values enter and leave, the rounding tests that call for a recompute, and the output formulas.
//! Written once over [`Lane`] so that [`Window`](super::Window) (one series) and the fused kernels
//! (four series per register) share every operation bit for bit.

use super::Lane;

/// Error budget in units of the float64 epsilon (2^-52): 512 ulps ≈ 1.1e-13 relative.
const LIMIT: f64 = 512.0;

/// `Σ(x-k)` relative to an anchor `k`, with the bound on its accumulated rounding.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sum1<L> {
    pub(crate) anchor: L,
    pub(crate) s1: L,
    /// `Σ|x|` (unshifted): the scale of the data, against which the mean's error is judged.
    pub(crate) absx: L,
    pub(crate) mass1: L,
}

impl<L: Lane> Sum1<L> {
    /// Adds the deviation `d_in = x_in - anchor` and removes `d_out` (0 when nothing enters or
    /// leaves); `ax_in`, `ax_out` are `|x_in|`, `|x_out|` (0 likewise).
    #[inline(always)]
    pub(crate) fn update(&mut self, d_in: L, d_out: L, ax_in: L, ax_out: L) {
        self.s1 = self.s1 + (d_in - d_out);
        self.absx = self.absx + (ax_in - ax_out);
        self.mass1 = self.mass1 + (d_in.abs() + d_out.abs() + self.s1.abs());
    }

    /// Slides a window whose count `n` does not change: `x_in` enters and `x_out` leaves, both valid.
    #[inline(always)]
    pub(crate) fn slide_valid(&mut self, x_in: L, x_out: L, ax_in: L, ax_out: L) {
        let k = self.anchor;
        self.update(x_in - k, x_out - k, ax_in, ax_out);
    }

    /// True where the accumulated rounding is still within budget. The budget is relative to
    /// `Σ|x|`, the scale of the data (never below `|Σx|`, so a mean far from 0 is held to its own
    /// magnitude).
    #[inline(always)]
    pub(crate) fn within(&self) -> L::Mask {
        self.mass1.le(L::splat(LIMIT) * self.absx)
    }

    /// Mean of `n` values (`inv = 1/n`), or `last` for a flat window.
    #[inline(always)]
    pub(crate) fn mean(&self, flat: L::Mask, last: L, inv: L) -> L {
        L::select(flat, last, self.anchor + self.s1 * inv)
    }

    /// Sum of `n` values, or `last * n` for a flat window.
    #[inline(always)]
    pub(crate) fn sum(&self, flat: L::Mask, last: L, n: L) -> L {
        L::select(flat, last * n, self.anchor * n + self.s1)
    }

    /// The state's estimate of the mean of `n` values (`inv = 1/n`): the anchor of a recompute.
    #[inline(always)]
    pub(crate) fn estimate(&self, inv: L) -> L {
        self.anchor + self.s1 * inv
    }

    /// Sums computed afresh from the window's valid values, around the anchor `k` (see [`sum4`]).
    #[inline(always)]
    pub(crate) fn fresh(k: L, values: impl Iterator<Item = L>) -> Self {
        let [s1, absx, mass1] = sum4(values, |v| {
            let d = v - k;
            [d, v.abs(), d.abs()]
        });
        Sum1 {
            anchor: k,
            s1,
            absx,
            mass1,
        }
    }

    /// `if m { a } else { b }` per lane.
    #[inline(always)]
    pub(crate) fn select(m: L::Mask, a: &Self, b: &Self) -> Self {
        Sum1 {
            anchor: L::select(m, a.anchor, b.anchor),
            s1: L::select(m, a.s1, b.s1),
            absx: L::select(m, a.absx, b.absx),
            mass1: L::select(m, a.mass1, b.mass1),
        }
    }
}

/// `Σ(x-k)` and `Σ(x-k)²` relative to their own anchor. Kept apart from [`Sum1`] so that a
/// recompute triggered by the variance never changes the bits of the mean: a window with the
/// second moment gives the same means as one without.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sum2<L> {
    pub(crate) anchor: L,
    pub(crate) s1: L,
    pub(crate) s2: L,
    pub(crate) mass1: L,
    pub(crate) mass2: L,
}

impl<L: Lane> Sum2<L> {
    /// Adds `d_in` and removes `d_out` (deviations from the anchor, 0 when nothing enters or
    /// leaves) for a window of `1/inv` values; true where the bound on the rounding of `M2` holds.
    #[inline(always)]
    pub(crate) fn update(&mut self, d_in: L, d_out: L, inv: L) -> L::Mask {
        let (sq_in, sq_out) = (d_in * d_in, d_out * d_out);
        self.s1 = self.s1 + (d_in - d_out);
        self.s2 = self.s2 + (sq_in - sq_out);
        self.mass1 = self.mass1 + (d_in.abs() + d_out.abs() + self.s1.abs());
        self.mass2 = self.mass2 + (sq_in + sq_out + self.s2.abs());
        self.within(inv)
    }

    /// True where the accumulated rounding of `M2` is still within budget for `1/inv` values.
    #[inline(always)]
    pub(crate) fn within(&self, inv: L) -> L::Mask {
        self.within_m2(inv).0
    }

    /// [`within`](Self::within) and the unclamped `M2` it tests (the value [`m2`](Self::m2)
    /// computes, operation for operation), so that a caller needing both computes it once.
    #[inline(always)]
    pub(crate) fn within_m2(&self, inv: L) -> (L::Mask, L) {
        let shift = self.s1 * inv;
        let prod = self.s1 * shift;
        let m2 = self.s2 - prod;
        let bound = self.mass2 + L::splat(2.0) * shift.abs() * self.mass1 + prod.abs();
        (bound.le(L::splat(LIMIT) * m2), m2)
    }

    /// The state's estimate of the mean of `1/inv` values: the anchor of a recompute.
    #[inline(always)]
    pub(crate) fn estimate(&self, inv: L) -> L {
        self.anchor + self.s1 * inv
    }

    /// Sums computed afresh from the window's valid values, around the anchor `k` (see [`sum4`]).
    #[inline(always)]
    pub(crate) fn fresh(k: L, values: impl Iterator<Item = L>) -> Self {
        let [s1, s2, abs1] = sum4(values, |v| {
            let d = v - k;
            [d, d * d, d.abs()]
        });
        Sum2 {
            anchor: k,
            s1,
            s2,
            mass1: abs1,
            mass2: s2,
        }
    }

    /// `if m { a } else { b }` per lane.
    #[inline(always)]
    pub(crate) fn select(m: L::Mask, a: &Self, b: &Self) -> Self {
        Sum2 {
            anchor: L::select(m, a.anchor, b.anchor),
            s1: L::select(m, a.s1, b.s1),
            s2: L::select(m, a.s2, b.s2),
            mass1: L::select(m, a.mass1, b.mass1),
            mass2: L::select(m, a.mass2, b.mass2),
        }
    }

    /// Slides a window whose count does not change: `x_in` enters and `x_out` leaves, both valid.
    #[inline(always)]
    pub(crate) fn slide_valid(&mut self, x_in: L, x_out: L, inv: L) -> L::Mask {
        let k = self.anchor;
        self.update(x_in - k, x_out - k, inv)
    }

    /// [`slide_valid`](Self::slide_valid), returning [`within_m2`](Self::within_m2) after it.
    #[inline(always)]
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the AVX2 paths only
    pub(crate) fn slide_valid_m2(&mut self, x_in: L, x_out: L, inv: L) -> (L::Mask, L) {
        self.slide_valid(x_in, x_out, inv);
        self.within_m2(inv)
    }

    /// `M2 = Σ(x-mean)²` (clamped at 0), or exactly 0 for a flat window.
    #[inline(always)]
    pub(crate) fn m2(&self, flat: L::Mask, inv: L) -> L {
        let m2 = self.s2 - self.s1 * (self.s1 * inv);
        Self::clamp_m2(flat, m2)
    }

    /// [`m2`](Self::m2) from the unclamped value `m2` (as [`within_m2`](Self::within_m2) gives it).
    #[inline(always)]
    pub(crate) fn clamp_m2(flat: L::Mask, m2: L) -> L {
        L::select(flat, L::splat(0.0), m2.max_(L::splat(0.0)))
    }
}

/// Three sums of `terms(v)` over `values`, each in four partial sums (the `j`-th value goes to
/// partial sum `j % 4`, combined as `(p0 + p1) + (p2 + p3)`): four short dependency chains instead
/// of one long one. The order depends only on the positions of the values, so any source of the
/// same values (a slice, a ring buffer, lanes of several series) gives the same bits.
#[inline(always)]
fn sum4<L: Lane>(mut values: impl Iterator<Item = L>, terms: impl Fn(L) -> [L; 3]) -> [L; 3] {
    let zero = L::splat(0.0);
    let mut p = [[zero; 3]; 4];
    'outer: loop {
        for part in p.iter_mut() {
            let Some(v) = values.next() else { break 'outer };
            let t = terms(v);
            for (a, b) in part.iter_mut().zip(t) {
                *a = *a + b;
            }
        }
    }
    let total = |q: usize| (p[0][q] + p[1][q]) + (p[2][q] + p[3][q]);
    [total(0), total(1), total(2)]
}

/// Detection of runs of identical values: `run` counts the latest valid values equal to `last`
/// (the latest of them: equal values differ in their bits only for ±0).
#[inline(always)]
pub(crate) fn run_step<L: Lane>(run: &mut L, last: &mut L, x_in: L) {
    let same = x_in.eq_(*last);
    *run = L::select(same, *run + L::splat(1.0), L::splat(1.0));
    *last = x_in;
}

/// `k * sqrt(m2 * r)`: the band half-width for `M2 = m2` and `r = 1 / (count - ddof)`.
#[inline(always)]
pub(crate) fn band<L: Lane>(m2: L, r: L, k: L) -> L {
    k * (m2 * r).sqrt()
}
