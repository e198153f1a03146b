//! Rolling sums and second moments over a window of positions, NaN skipped and not counted.
//!
//! Sums are kept relative to an anchor `k` (`s1 = Σ(x-k)`, `s2 = Σ(x-k)²`) so that the variance
//! does not suffer the cancellation of `Σx² - (Σx)²/n`. Adding and removing values accumulates
//! rounding error; we track a bound on it (`mass1`, `mass2`: the magnitudes every rounding was
//! relative to) and, when the bound could exceed `LIMIT` ulps of the current value (of `Σ|x|` for
//! the sum, of `M2` for the second moment), recompute the sums from the window's values,
//! re-anchored on the state's own estimate of the mean (one pass); should that estimate be too far
//! off for the fresh sums to pass the same test (only after extreme changes of scale), the window
//! is recomputed in two passes around its exact mean. On ordinary prices that happens every few
//! dozen bars; on hostile data (1e6 next to 1e-6) it happens exactly when needed. Each `count`
//! change refreshes `1/count`, so the steady state multiplies and never divides.
//! A run of identical values is detected and returns exact results (mean = value, variance = 0),
//! as pandas does, so flat windows give exactly 0 and not 1e-17.
//!
//! The state is driven by `slide(in, out, window)`; the caller provides the window's values (one
//! slice in batch mode, the two halves of a ring buffer in streaming mode), read only when a
//! recompute is needed, so batch and stream share this implementation bit for bit.
//!
//! The arithmetic of one slide is written once, generic over a [`Lane`] type: `f64` for one series
//! (what [`Window::slide`] runs) or [`F4`], four independent series side by side, which the fused
//! kernels use on stretches where every window is full and NaN-free. Each lane performs exactly the
//! IEEE operations of the scalar code, in the same order (no fused multiply-add), so a series gives
//! the same bits whichever path or lane it went through.

use std::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Not, Sub};

/// Error budget in units of the float64 epsilon (2^-52): 512 ulps ≈ 1.1e-13 relative.
const LIMIT: f64 = 512.0;

/// A float64 value per lane: `f64` (one series) or [`F4`] (four series). Every operation is the
/// lane-wise IEEE operation, so one lane of an `F4` computation equals the `f64` computation.
pub(crate) trait Lane:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// Per-lane booleans.
    type Mask: Copy
        + BitAnd<Output = Self::Mask>
        + BitOr<Output = Self::Mask>
        + Not<Output = Self::Mask>;
    /// Number of lanes.
    const LANES: usize;
    fn splat(v: f64) -> Self;
    fn abs(self) -> Self;
    fn sqrt(self) -> Self;
    /// `if self > other { self } else { other }` (the x86 `maxsd` rule; no NaN reaches it here).
    fn max_(self, other: Self) -> Self;
    fn le(self, other: Self) -> Self::Mask;
    fn lt(self, other: Self) -> Self::Mask;
    fn ge(self, other: Self) -> Self::Mask;
    fn eq_(self, other: Self) -> Self::Mask;
    /// `if m { a } else { b }` per lane.
    fn select(m: Self::Mask, a: Self, b: Self) -> Self;
    /// True when every lane of `m` is set.
    fn all(m: Self::Mask) -> bool;
    /// Lane `i` of a mask.
    fn mask_lane(m: Self::Mask, i: usize) -> bool;
    fn lane(self, i: usize) -> f64;
    fn set_lane(&mut self, i: usize, v: f64);
}

impl Lane for f64 {
    type Mask = bool;
    const LANES: usize = 1;
    #[inline(always)]
    fn splat(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn abs(self) -> Self {
        f64::abs(self)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline(always)]
    fn max_(self, other: Self) -> Self {
        if self > other {
            self
        } else {
            other
        }
    }
    #[inline(always)]
    fn le(self, other: Self) -> bool {
        self <= other
    }
    #[inline(always)]
    fn lt(self, other: Self) -> bool {
        self < other
    }
    #[inline(always)]
    fn ge(self, other: Self) -> bool {
        self >= other
    }
    #[inline(always)]
    fn eq_(self, other: Self) -> bool {
        self == other
    }
    #[inline(always)]
    fn select(m: bool, a: Self, b: Self) -> Self {
        if m {
            a
        } else {
            b
        }
    }
    #[inline(always)]
    fn all(m: bool) -> bool {
        m
    }
    #[inline(always)]
    fn mask_lane(m: bool, _i: usize) -> bool {
        m
    }
    #[inline(always)]
    fn lane(self, _i: usize) -> f64 {
        self
    }
    #[inline(always)]
    fn set_lane(&mut self, _i: usize, v: f64) {
        *self = v;
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use avx::{store_fence, F4};

/// Four float64 lanes in one AVX register.
#[cfg(target_arch = "x86_64")]
mod avx {
    use super::Lane;
    use std::arch::x86_64::*;
    use std::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Not, Sub};

    /// Orders the non-temporal stores made so far before any later store (`sfence`).
    #[inline(always)]
    pub(crate) fn store_fence() {
        // SAFETY: SSE is part of x86_64.
        unsafe { _mm_sfence() }
    }

    /// Four float64 lanes (one per series) in one 256-bit AVX register; every operation is one AVX
    /// instruction performing the IEEE operation of the scalar code on each lane.
    ///
    /// Invariant: values of this type are only created and used by code that runs after
    /// `is_x86_feature_detected!("avx")` returned true (the AVX kernels of the crate); every
    /// `unsafe` block below relies on it.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct F4(pub(crate) __m256d);

    /// Per-lane booleans of an [`F4`] (all-ones / all-zeros lanes, what AVX compares give).
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct M4(pub(crate) __m256d);

    macro_rules! binary {
        ($ty:ident, $trait:ident, $method:ident, $intrinsic:ident) => {
            impl $trait for $ty {
                type Output = $ty;
                #[inline(always)]
                fn $method(self, o: $ty) -> $ty {
                    // SAFETY: AVX is available (type invariant).
                    $ty(unsafe { $intrinsic(self.0, o.0) })
                }
            }
        };
    }
    binary!(F4, Add, add, _mm256_add_pd);
    binary!(F4, Sub, sub, _mm256_sub_pd);
    binary!(F4, Mul, mul, _mm256_mul_pd);
    binary!(F4, Div, div, _mm256_div_pd);
    binary!(M4, BitAnd, bitand, _mm256_and_pd);
    binary!(M4, BitOr, bitor, _mm256_or_pd);

    impl Neg for F4 {
        type Output = F4;
        #[inline(always)]
        fn neg(self) -> F4 {
            // SAFETY: AVX is available (type invariant). Flipping the sign bit is scalar negation.
            F4(unsafe { _mm256_xor_pd(self.0, _mm256_set1_pd(-0.0)) })
        }
    }

    impl Not for M4 {
        type Output = M4;
        #[inline(always)]
        fn not(self) -> M4 {
            // SAFETY: AVX is available (type invariant).
            M4(unsafe { _mm256_xor_pd(self.0, _mm256_castsi256_pd(_mm256_set1_epi64x(-1))) })
        }
    }

    macro_rules! compare {
        ($method:ident, $pred:ident) => {
            #[inline(always)]
            fn $method(self, o: F4) -> M4 {
                // SAFETY: AVX is available (type invariant). Ordered, quiet predicates: false when a
                // lane is NaN, like the scalar comparison operators.
                M4(unsafe { _mm256_cmp_pd::<$pred>(self.0, o.0) })
            }
        };
    }

    impl Lane for F4 {
        type Mask = M4;
        const LANES: usize = 4;
        #[inline(always)]
        fn splat(v: f64) -> Self {
            // SAFETY: AVX is available (type invariant).
            F4(unsafe { _mm256_set1_pd(v) })
        }
        #[inline(always)]
        fn abs(self) -> Self {
            // SAFETY: AVX is available (type invariant). Clearing the sign bit is `f64::abs`.
            F4(unsafe { _mm256_andnot_pd(_mm256_set1_pd(-0.0), self.0) })
        }
        #[inline(always)]
        fn sqrt(self) -> Self {
            // SAFETY: AVX is available (type invariant). Correctly rounded, like `f64::sqrt`.
            F4(unsafe { _mm256_sqrt_pd(self.0) })
        }
        #[inline(always)]
        fn max_(self, o: Self) -> Self {
            // SAFETY: AVX is available (type invariant). `vmaxpd a, b` is `if a > b { a } else { b }`.
            F4(unsafe { _mm256_max_pd(self.0, o.0) })
        }
        compare!(le, _CMP_LE_OQ);
        compare!(lt, _CMP_LT_OQ);
        compare!(ge, _CMP_GE_OQ);
        compare!(eq_, _CMP_EQ_OQ);
        #[inline(always)]
        fn select(m: M4, a: Self, b: Self) -> Self {
            // SAFETY: AVX is available (type invariant).
            F4(unsafe { _mm256_blendv_pd(b.0, a.0, m.0) })
        }
        #[inline(always)]
        fn all(m: M4) -> bool {
            // SAFETY: AVX is available (type invariant).
            unsafe { _mm256_movemask_pd(m.0) == 0b1111 }
        }
        #[inline(always)]
        fn mask_lane(m: M4, i: usize) -> bool {
            // SAFETY: AVX is available (type invariant).
            unsafe { (_mm256_movemask_pd(m.0) >> i) & 1 == 1 }
        }
        #[inline(always)]
        fn lane(self, i: usize) -> f64 {
            self.to_array()[i]
        }
        #[inline(always)]
        fn set_lane(&mut self, i: usize, v: f64) {
            let mut a = self.to_array();
            a[i] = v;
            *self = F4::from_array(a);
        }
    }

    impl F4 {
        #[inline(always)]
        pub(crate) fn to_array(self) -> [f64; 4] {
            let mut a = [0.0; 4];
            // SAFETY: AVX is available (type invariant); `a` holds four values.
            unsafe { _mm256_storeu_pd(a.as_mut_ptr(), self.0) };
            a
        }

        #[inline(always)]
        pub(crate) fn from_array(a: [f64; 4]) -> Self {
            // SAFETY: AVX is available (type invariant); `a` holds four values.
            F4(unsafe { _mm256_loadu_pd(a.as_ptr()) })
        }

        /// Loads `p[0..4]`.
        ///
        /// # Safety
        /// AVX is available and `p` points to four readable values.
        #[inline(always)]
        pub(crate) unsafe fn load(p: *const f64) -> Self {
            F4(_mm256_loadu_pd(p))
        }

        /// Stores into `p[0..4]`.
        ///
        /// # Safety
        /// AVX is available and `p` points to four writable values.
        #[inline(always)]
        pub(crate) unsafe fn store(self, p: *mut f64) {
            _mm256_storeu_pd(p, self.0)
        }

        /// Stores into `p[0..4]` without fetching the cache line first (a non-temporal store; it
        /// must be followed by [`store_fence`] before the data are handed to another thread).
        ///
        /// # Safety
        /// AVX is available and `p` points to four writable values, 32-byte aligned.
        #[inline(always)]
        pub(crate) unsafe fn stream(self, p: *mut f64) {
            _mm256_stream_pd(p, self.0)
        }

        /// Transposes a 4×4 block: lane `j` of result `i` is lane `i` of `v[j]`.
        #[inline(always)]
        pub(crate) fn transpose(v: [F4; 4]) -> [F4; 4] {
            // SAFETY: AVX is available (type invariant).
            unsafe {
                let t0 = _mm256_unpacklo_pd(v[0].0, v[1].0);
                let t1 = _mm256_unpackhi_pd(v[0].0, v[1].0);
                let t2 = _mm256_unpacklo_pd(v[2].0, v[3].0);
                let t3 = _mm256_unpackhi_pd(v[2].0, v[3].0);
                [
                    F4(_mm256_permute2f128_pd::<0x20>(t0, t2)),
                    F4(_mm256_permute2f128_pd::<0x20>(t1, t3)),
                    F4(_mm256_permute2f128_pd::<0x31>(t0, t2)),
                    F4(_mm256_permute2f128_pd::<0x31>(t1, t3)),
                ]
            }
        }
    }
}

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
        let shift = self.s1 * inv;
        let prod = self.s1 * shift;
        let m2 = self.s2 - prod;
        let bound = self.mass2 + L::splat(2.0) * shift.abs() * self.mass1 + prod.abs();
        bound.le(L::splat(LIMIT) * m2)
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

    /// `M2 = Σ(x-mean)²` (clamped at 0), or exactly 0 for a flat window.
    #[inline(always)]
    pub(crate) fn m2(&self, flat: L::Mask, inv: L) -> L {
        let m2 = self.s2 - self.s1 * (self.s1 * inv);
        L::select(flat, L::splat(0.0), m2.max_(L::splat(0.0)))
    }
}

/// Three sums of `terms(v)` over `values`, each in four partial sums (the `j`-th value goes to
/// partial sum `j % 4`, combined as `(p0 + p1) + (p2 + p3)`): four short dependency chains instead
/// of one long one. The order depends only on the positions of the values, so any source of the
/// same values (a slice, a ring buffer, lanes of several series) gives the same bits.
#[inline(always)]
pub(crate) fn sum4<L: Lane>(
    mut values: impl Iterator<Item = L>,
    terms: impl Fn(L) -> [L; 3],
) -> [L; 3] {
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

/// Running state for one window. `SQ` enables the second moment (variance).
#[derive(Clone, Debug)]
pub struct Window<const SQ: bool> {
    pub(crate) count: usize,
    /// `count` and `1 / count` as floats, refreshed whenever the count changes.
    pub(crate) n: f64,
    pub(crate) inv: f64,
    pub(crate) first: Sum1<f64>,
    pub(crate) second: Sum2<f64>,
    pub(crate) last: f64,
    /// Number of latest valid values equal to `last` (exact integer).
    pub(crate) run: f64,
}

impl<const SQ: bool> Default for Window<SQ> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SQ: bool> Window<SQ> {
    /// An empty window.
    pub fn new() -> Self {
        Window {
            count: 0,
            n: 0.0,
            inv: 0.0,
            first: Sum1::default(),
            second: Sum2::default(),
            last: f64::NAN,
            run: 0.0,
        }
    }

    /// Number of valid (non-NaN) values in the window.
    #[inline(always)]
    pub fn count(&self) -> usize {
        self.count
    }

    /// Slides the window by one position: `x_in` enters and `x_out` leaves (NaN when nothing valid
    /// leaves). `window` yields the values of the window *after* the slide (NaN allowed); it is read
    /// only when the accumulated rounding calls for an exact recompute. The state after a slide
    /// depends only on the values seen, never on which results were read.
    #[inline(always)]
    pub fn slide<I: Iterator<Item = f64>>(
        &mut self,
        x_in: f64,
        x_out: f64,
        window: impl Fn() -> I,
    ) {
        let valid_in = !x_in.is_nan();
        let valid_out = !x_out.is_nan();
        if valid_in && valid_out {
            // The count does not change (a valid value leaving means the window was not empty).
            self.slide_valid(x_in, x_out, window);
            return;
        }
        if valid_in {
            run_step(&mut self.run, &mut self.last, x_in);
            if self.count == 0 {
                // A fresh start: anchor on the first value, forget earlier rounding.
                self.first = Sum1 {
                    anchor: x_in,
                    ..Sum1::default()
                };
                self.second = Sum2 {
                    anchor: x_in,
                    ..Sum2::default()
                };
            }
        }
        let count = self.count + usize::from(valid_in) - usize::from(valid_out);
        if count != self.count {
            self.count = count;
            if count == 0 {
                return;
            }
            self.n = count as f64;
            self.inv = 1.0 / self.n;
        }
        if count == 0 {
            return;
        }
        let (ax_in, ax_out) = (
            if valid_in { x_in.abs() } else { 0.0 },
            if valid_out { x_out.abs() } else { 0.0 },
        );
        let k = self.first.anchor;
        let (d_in, d_out) = (
            if valid_in { x_in - k } else { 0.0 },
            if valid_out { x_out - k } else { 0.0 },
        );
        self.first.update(d_in, d_out, ax_in, ax_out);
        if !self.first.within() {
            self.first = recompute_first(self.first.estimate(self.inv), &window);
        }
        if SQ {
            let k = self.second.anchor;
            let (d_in, d_out) = (
                if valid_in { x_in - k } else { 0.0 },
                if valid_out { x_out - k } else { 0.0 },
            );
            if !self.second.update(d_in, d_out, self.inv) && !self.is_flat() {
                self.second = recompute_second(self.second.estimate(self.inv), self.inv, &window);
            }
        }
    }

    /// [`Window::slide`] when both `x_in` and `x_out` are valid (the count stays the same).
    #[inline(always)]
    pub(crate) fn slide_valid<I: Iterator<Item = f64>>(
        &mut self,
        x_in: f64,
        x_out: f64,
        window: impl Fn() -> I,
    ) {
        run_step(&mut self.run, &mut self.last, x_in);
        let (ax_in, ax_out) = (x_in.abs(), x_out.abs());
        self.first.slide_valid(x_in, x_out, ax_in, ax_out);
        if !self.first.within() {
            self.first = recompute_first(self.first.estimate(self.inv), &window);
        }
        if SQ && !self.second.slide_valid(x_in, x_out, self.inv) && !self.is_flat() {
            self.second = recompute_second(self.second.estimate(self.inv), self.inv, &window);
        }
    }

    /// True when every valid value in the window is the same number.
    #[inline(always)]
    pub(crate) fn is_flat(&self) -> bool {
        self.run >= self.n
    }

    /// Sum of the valid values (call with `count() > 0`).
    #[inline(always)]
    pub fn sum(&self) -> f64 {
        self.first.sum(self.is_flat(), self.last, self.n)
    }

    /// Mean of the valid values (call with `count() > 0`).
    #[inline(always)]
    pub fn mean(&self) -> f64 {
        self.first.mean(self.is_flat(), self.last, self.inv)
    }

    /// Sum of squared deviations from the mean (`M2`: variance = `M2 / (count - ddof)`).
    #[inline(always)]
    pub fn m2(&self) -> f64 {
        debug_assert!(SQ, "m2 needs a Window<true>");
        self.second.m2(self.is_flat(), self.inv)
    }
}

/// Recomputes the first moment of a window (of `n` valid values) from its values: one pass around
/// the state's estimate of the mean, or, should that estimate be too far off for the rounding
/// budget (only after extreme changes of scale), two passes around the exact mean.
#[cold]
#[inline(never)]
pub(crate) fn recompute_first<I: Iterator<Item = f64>>(
    estimate: f64,
    window: &impl Fn() -> I,
) -> Sum1<f64> {
    let fresh = Sum1::fresh(estimate, window().filter(|v| !v.is_nan()));
    if fresh.within() {
        fresh
    } else {
        exact_first(window)
    }
}

/// Recomputes the first and second moments of a window (of `1/inv` valid values), as
/// [`recompute_first`] does.
#[cold]
#[inline(never)]
pub(crate) fn recompute_second<I: Iterator<Item = f64>>(
    estimate: f64,
    inv: f64,
    window: &impl Fn() -> I,
) -> Sum2<f64> {
    let fresh = Sum2::fresh(estimate, window().filter(|v| !v.is_nan()));
    if fresh.within(inv) {
        fresh
    } else {
        exact_second(window)
    }
}

/// Exact first moment of a window, anchored on its mean (two passes).
#[cold]
#[inline(never)]
pub(crate) fn exact_first<I: Iterator<Item = f64>>(window: &impl Fn() -> I) -> Sum1<f64> {
    Sum1::fresh(exact_mean(window), window().filter(|v| !v.is_nan()))
}

/// Exact first and second moments of a window, anchored on its mean (two passes).
#[cold]
#[inline(never)]
pub(crate) fn exact_second<I: Iterator<Item = f64>>(window: &impl Fn() -> I) -> Sum2<f64> {
    Sum2::fresh(exact_mean(window), window().filter(|v| !v.is_nan()))
}

fn exact_mean<I: Iterator<Item = f64>>(window: &impl Fn() -> I) -> f64 {
    let (mut total, mut n) = (0.0, 0usize);
    for v in window().filter(|v| !v.is_nan()) {
        total += v;
        n += 1;
    }
    total / n as f64
}

/// The values of a window: one slice (batch) or the two halves of a ring buffer (stream).
pub type WindowIter<'a> =
    std::iter::Copied<std::iter::Chain<std::slice::Iter<'a, f64>, std::slice::Iter<'a, f64>>>;

/// Window values of a plain slice.
#[inline(always)]
pub fn slice_window(values: &[f64]) -> WindowIter<'_> {
    values.iter().chain([].iter()).copied()
}

/// Window values of a ring buffer stored as two halves (older half first).
#[inline(always)]
pub fn ring_window<'a>(older: &'a [f64], newer: &'a [f64]) -> WindowIter<'a> {
    older.iter().chain(newer.iter()).copied()
}

/// Index range of the window of `period` positions ending at `t`.
#[inline(always)]
pub fn window_start(t: usize, period: usize) -> usize {
    (t + 1).saturating_sub(period)
}

/// The value leaving a window of `period` positions when bar `t` enters (NaN if none).
#[inline(always)]
pub fn leaving(x: &[f64], t: usize, period: usize) -> f64 {
    if t >= period {
        x[t - period]
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(values: &[f64]) -> (f64, f64) {
        let v: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (mean, v.iter().map(|x| (x - mean) * (x - mean)).sum())
    }

    #[test]
    fn tracks_exact_moments_across_twelve_orders_of_magnitude() {
        let mut x = Vec::new();
        let mut state = 12345u64;
        for i in 0..5000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let scale = 10f64.powi((i / 300) % 13 - 6);
            x.push(if i % 97 == 5 {
                f64::NAN
            } else {
                scale * (1.0 + 0.02 * (u - 0.5))
            });
        }
        let n = 20;
        let mut w = Window::<true>::new();
        for t in 0..x.len() {
            let win = &x[window_start(t, n)..=t];
            w.slide(x[t], leaving(&x, t, n), || slice_window(win));
            if w.count() < 2 {
                continue;
            }
            let (mean, m2) = (w.mean(), w.m2());
            let (em, em2) = exact(win);
            assert!(
                ((mean - em) / em).abs() < 1e-13,
                "mean at {t}: {mean} vs {em}"
            );
            assert!(((m2 - em2) / em2).abs() < 1e-12, "m2 at {t}: {m2} vs {em2}");
        }
    }

    #[test]
    fn flat_windows_are_exact() {
        let x = [1e6, 3.0, 0.1, 0.1, 0.1, 0.1];
        let mut w = Window::<true>::new();
        for t in 0..x.len() {
            w.slide(x[t], leaving(&x, t, 3), || {
                slice_window(&x[window_start(t, 3)..=t])
            });
        }
        let (mean, m2) = (w.mean(), w.m2());
        assert_eq!((mean, m2), (0.1, 0.0));
    }

    #[test]
    fn all_nan_window_resets() {
        let x = [5.0, f64::NAN, f64::NAN, 7.0];
        let mut w = Window::<false>::new();
        for t in 0..x.len() {
            w.slide(x[t], leaving(&x, t, 2), || {
                slice_window(&x[window_start(t, 2)..=t])
            });
        }
        assert_eq!(w.count(), 1);
        assert_eq!(w.mean(), 7.0);
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn four_lanes_give_the_bits_of_one() {
        if !std::arch::is_x86_feature_detected!("avx") {
            return;
        }
        let mut a = Sum2::<f64> {
            anchor: 1.5,
            s1: 0.25,
            s2: 3.0,
            mass1: 1.0,
            mass2: 2.0,
        };
        let mut v = Sum2::<F4> {
            anchor: F4::splat(1.5),
            s1: F4::splat(0.25),
            s2: F4::splat(3.0),
            mass1: F4::splat(1.0),
            mass2: F4::splat(2.0),
        };
        let no = F4::splat(1.0).lt(F4::splat(0.0));
        for i in 0..50 {
            let (x_in, x_out) = (1.0 + 0.37 * i as f64, 0.3 * i as f64);
            let ok = a.slide_valid(x_in, x_out, 0.05);
            let okv = v.slide_valid(F4::splat(x_in), F4::splat(x_out), F4::splat(0.05));
            assert!((0..4).all(|l| F4::mask_lane(okv, l) == ok));
            let m2 = v.m2(no, F4::splat(0.05)).to_array();
            assert!(m2
                .iter()
                .all(|m| m.to_bits() == a.m2(false, 0.05).to_bits()));
        }
        let t = F4::transpose(
            [0.0, 4.0, 8.0, 12.0].map(|b| F4::from_array([b, b + 1.0, b + 2.0, b + 3.0])),
        );
        assert_eq!(
            t.map(|v| v.to_array()),
            [
                [0.0, 4.0, 8.0, 12.0],
                [1.0, 5.0, 9.0, 13.0],
                [2.0, 6.0, 10.0, 14.0],
                [3.0, 7.0, 11.0, 15.0]
            ]
        );
    }
}
