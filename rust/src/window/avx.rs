//! Four float64 lanes in one AVX register ([`F4`]) and the fence that orders its non-temporal
//! stores. Kept apart from the `f64` [`Lane`] so that every `unsafe` intrinsic, and the AVX
//! invariant they rely on, sits in one place.

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

impl M4 {
    /// A mask from booleans (lane `i` set where `b[i]`).
    #[inline(always)]
    pub(crate) fn from_lanes(b: [bool; 4]) -> M4 {
        let l = |v: bool| if v { -1 } else { 0 };
        // SAFETY: AVX is available (type invariant).
        M4(unsafe { _mm256_castsi256_pd(_mm256_setr_epi64x(l(b[0]), l(b[1]), l(b[2]), l(b[3]))) })
    }

    /// The lanes as the bits of an integer (bit `i` set where lane `i` is): a test of several
    /// lanes in one integer operation.
    #[inline(always)]
    pub(crate) fn bits(self) -> i32 {
        // SAFETY: AVX is available (type invariant).
        unsafe { _mm256_movemask_pd(self.0) }
    }

    /// The lanes as booleans.
    #[inline(always)]
    pub(crate) fn lanes(self) -> [bool; 4] {
        // SAFETY: AVX is available (type invariant).
        let m = unsafe { _mm256_movemask_pd(self.0) };
        [m & 1 != 0, m & 2 != 0, m & 4 != 0, m & 8 != 0]
    }
}

impl F4 {
    /// Lanes 0 and 1 of `self`, lanes 2 and 3 of `high` (a blend by constant: no mask register).
    #[inline(always)]
    pub(crate) fn blend_low2(self, high: F4) -> F4 {
        // SAFETY: AVX is available (type invariant).
        F4(unsafe { _mm256_blend_pd::<0b1100>(self.0, high.0) })
    }

    /// Lanes 2, 3, 0, 1 of `self` (the two halves swapped).
    #[inline(always)]
    pub(crate) fn swap_halves(self) -> F4 {
        // SAFETY: AVX is available (type invariant).
        F4(unsafe { _mm256_permute2f128_pd::<0x01>(self.0, self.0) })
    }

    /// `self` with the sign bit flipped where `signs` has it set (negation of those lanes, exact).
    #[inline(always)]
    pub(crate) fn flip_signs(self, signs: F4) -> F4 {
        // SAFETY: AVX is available (type invariant).
        F4(unsafe { _mm256_xor_pd(self.0, signs.0) })
    }

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

    /// Loads `lo[0..2]` into lanes 0 and 1 and `hi[0..2]` into lanes 2 and 3.
    ///
    /// # Safety
    /// AVX is available and `lo` and `hi` each point to two readable values.
    #[inline(always)]
    pub(crate) unsafe fn load_halves(lo: *const f64, hi: *const f64) -> Self {
        F4(_mm256_loadu2_m128d(hi, lo))
    }

    /// Lanes 1, 0, 3, 2 of `self` (the two lanes of each half swapped).
    #[inline(always)]
    pub(crate) fn swap_pairs(self) -> F4 {
        // SAFETY: AVX is available (type invariant).
        F4(unsafe { _mm256_permute_pd::<0b0101>(self.0) })
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
