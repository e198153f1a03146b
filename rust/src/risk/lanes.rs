//! The lane operations the descriptor pass needs beyond [`Lane`]: loads and stores of interleaved
//! buffers, gathers from per-asset rows, and a natural logarithm that runs in the lanes.
//!
//! The logarithm is fdlibm's `__ieee754_log` (error below 1 ulp; libm's `ln` is within 1 ulp of
//! it): its exponent split is integer work, done with 64-bit integer instructions on `F4` and
//! with `u64` arithmetic on `f64`, and the rest is one shared, lane-generic sequence of IEEE
//! operations without fused multiply-adds, so a value gets the same bits on either path. Five
//! logarithms per asset and date (log return, three liquidity windows, size) made libm calls a
//! quarter of the descriptor time; four per vector instruction they are a small part of it.
//! Values outside the positive normal range (zero, negatives, subnormals, infinities, NaN) take
//! libm's `ln`, lane by lane; which path a value takes depends only on the value.

use super::N_DESCRIPTORS;
use crate::window::Lane;
#[cfg(target_arch = "x86_64")]
use crate::window::{F4, M4};
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// [`Lane`] plus loads, stores, gathers and the exponent split of [`ln`].
pub(super) trait Lanes: Lane {
    /// Lanes from `s[0..LANES]`.
    fn load(s: &[f64]) -> Self;
    /// Stores the lanes into `s[0..LANES]`.
    fn store(self, s: &mut [f64]);
    /// Lane `l` is `f(l)`.
    fn gather(f: impl Fn(usize) -> f64) -> Self;
    /// `f` of each lane.
    fn map(self, f: impl Fn(f64) -> f64) -> Self;
    /// Writes `src` (`[date][lane]`) into descriptor `d` of each lane's asset, from date `t0`.
    fn write_rows(src: &[f64], out: &mut [[&mut [f64]; N_DESCRIPTORS]], d: usize, t0: usize);
    /// For positive normal `x = 2^k (1 + f)` with `1 + f` in `[sqrt(2)/2, sqrt(2))`: `f`, `k` as
    /// a float, and fdlibm's choice of formula (its `i > 0`).
    fn split(self) -> (Self, Self, Self::Mask);
}

/// `2^52`: added to a small non-negative integer's bits, it makes the float of that integer.
const TWO52: f64 = 4503599627370496.0;
const TWO52_BITS: u64 = 0x4330_0000_0000_0000;
const MANTISSA_HI: i64 = 0x000f_ffff;

impl Lanes for f64 {
    #[inline(always)]
    fn load(s: &[f64]) -> f64 {
        s[0]
    }
    #[inline(always)]
    fn store(self, s: &mut [f64]) {
        s[0] = self;
    }
    #[inline(always)]
    fn gather(f: impl Fn(usize) -> f64) -> f64 {
        f(0)
    }
    #[inline(always)]
    fn map(self, f: impl Fn(f64) -> f64) -> f64 {
        f(self)
    }
    #[inline(always)]
    fn write_rows(src: &[f64], out: &mut [[&mut [f64]; N_DESCRIPTORS]], d: usize, t0: usize) {
        out[0][d][t0..t0 + src.len()].copy_from_slice(src);
    }
    #[inline(always)]
    fn split(self) -> (f64, f64, bool) {
        let bits = self.to_bits();
        let hx = (bits >> 32) as i64;
        let m = hx & MANTISSA_HI;
        // Halve the mantissa (and raise k) when it is at least sqrt(2).
        let i = (m + 0x95f64) & 0x10_0000;
        let hi = (m | (i ^ 0x3ff0_0000)) as u64;
        let x = f64::from_bits((hi << 32) | (bits & 0xffff_ffff));
        let kb = (hx >> 20) + (i >> 20);
        let dk = (f64::from_bits(TWO52_BITS | kb as u64) - TWO52) - 1023.0;
        (x - 1.0, dk, ((m - 0x6147a) | (0x6b851 - m)) > 0)
    }
}

#[cfg(target_arch = "x86_64")]
impl Lanes for F4 {
    #[inline(always)]
    fn load(s: &[f64]) -> F4 {
        let s = &s[..4];
        // SAFETY: AVX is available (the invariant of `F4`); `s` holds four values.
        unsafe { F4::load(s.as_ptr()) }
    }
    #[inline(always)]
    fn store(self, s: &mut [f64]) {
        let s = &mut s[..4];
        // SAFETY: AVX is available (the invariant of `F4`); `s` holds four values.
        unsafe { F4::store(self, s.as_mut_ptr()) }
    }
    #[inline(always)]
    fn gather(f: impl Fn(usize) -> f64) -> F4 {
        F4::from_array(std::array::from_fn(f))
    }
    #[inline(always)]
    fn map(self, f: impl Fn(f64) -> f64) -> F4 {
        F4::from_array(self.to_array().map(f))
    }
    /// Four dates of four assets per 4×4 transpose; rows aligned to 16 bytes (numpy's
    /// allocations are) get non-temporal stores: the output block is far larger than the caches,
    /// and such stores spare reading every line of it before writing it. The caller's
    /// [`crate::window::store_fence`] orders them before the block is handed back.
    #[inline(always)]
    fn write_rows(src: &[f64], out: &mut [[&mut [f64]; N_DESCRIPTORS]], d: usize, t0: usize) {
        let len = src.len() / 4;
        let full = len / 4 * 4;
        let [a, b, c, e] = out else {
            // Not a block of four (the kernels never pass one): plain strided copies.
            let k = out.len().max(1);
            for (l, o) in out.iter_mut().enumerate() {
                for (j, v) in o[d][t0..t0 + src.len() / k].iter_mut().enumerate() {
                    *v = src[j * k + l];
                }
            }
            return;
        };
        let mut rows = [
            &mut a[d][t0..t0 + len],
            &mut b[d][t0..t0 + len],
            &mut c[d][t0..t0 + len],
            &mut e[d][t0..t0 + len],
        ];
        let aligned = rows.iter().all(|r| r.as_ptr() as usize % 16 == 0);
        for j in (0..full).step_by(4) {
            let at = |q: usize| &src[(j + q) * 4..];
            let ld = <F4 as Lanes>::load;
            let v = F4::transpose([ld(at(0)), ld(at(1)), ld(at(2)), ld(at(3))]);
            for (row, v) in rows.iter_mut().zip(v) {
                let dst = &mut row[j..j + 4];
                // SAFETY: AVX2 is available (the invariant of `F4`); `dst` holds four values,
                // 16-byte aligned where streamed.
                unsafe {
                    if aligned {
                        _mm_stream_pd(dst.as_mut_ptr(), _mm256_castpd256_pd128(v.0));
                        _mm_stream_pd(dst.as_mut_ptr().add(2), _mm256_extractf128_pd::<1>(v.0));
                    } else {
                        v.store(dst.as_mut_ptr());
                    }
                }
            }
        }
        for j in full..len {
            for (l, row) in rows.iter_mut().enumerate() {
                row[j] = src[j * 4 + l];
            }
        }
    }
    #[inline(always)]
    fn split(self) -> (F4, F4, M4) {
        // SAFETY: the kernels that build `F4` values run with AVX2 enabled (they are
        // `#[target_feature(enable = "avx2")]` functions, entered after detection).
        unsafe {
            let c = _mm256_set1_epi64x;
            let bits = _mm256_castpd_si256(self.0);
            let hx = _mm256_srli_epi64::<32>(bits);
            let m = _mm256_and_si256(hx, c(MANTISSA_HI));
            let i = _mm256_and_si256(_mm256_add_epi64(m, c(0x95f64)), c(0x10_0000));
            let hi = _mm256_or_si256(m, _mm256_xor_si256(i, c(0x3ff0_0000)));
            let lo = _mm256_and_si256(bits, c(0xffff_ffff));
            let x = F4(_mm256_castsi256_pd(_mm256_or_si256(
                _mm256_slli_epi64::<32>(hi),
                lo,
            )));
            let kb = _mm256_add_epi64(_mm256_srli_epi64::<20>(hx), _mm256_srli_epi64::<20>(i));
            let big = F4(_mm256_castsi256_pd(_mm256_or_si256(
                kb,
                c(TWO52_BITS as i64),
            )));
            let dk = (big - F4::splat(TWO52)) - F4::splat(1023.0);
            let sel = _mm256_or_si256(
                _mm256_sub_epi64(m, c(0x6147a)),
                _mm256_sub_epi64(c(0x6b851), m),
            );
            let gt = _mm256_cmpgt_epi64(sel, _mm256_setzero_si256());
            (x - F4::splat(1.0), dk, M4(_mm256_castsi256_pd(gt)))
        }
    }
}

/// Lanes holding a finite value.
#[inline(always)]
pub(super) fn finite<L: Lane>(x: L) -> L::Mask {
    // Ordered compare: false for NaN and for both infinities.
    x.abs().le(L::splat(f64::MAX))
}

/// `a > b` per lane (false where either is NaN).
#[inline(always)]
pub(super) fn gt<L: Lane>(a: L, b: L) -> L::Mask {
    b.le(a) & !a.eq_(b)
}

// fdlibm's constants, bit for bit.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const LG: [f64; 7] = [
    f64::from_bits(0x3fe5_5555_5555_5593),
    f64::from_bits(0x3fd9_9999_9997_fa04),
    f64::from_bits(0x3fd2_4924_9422_9359),
    f64::from_bits(0x3fcc_71c5_1d8e_78af),
    f64::from_bits(0x3fc7_4664_96cb_03de),
    f64::from_bits(0x3fc3_9a09_d078_c69f),
    f64::from_bits(0x3fc2_f112_df3e_5244),
];

/// Natural logarithm of every lane (see the module docs).
#[inline(always)]
pub(super) fn ln<L: Lanes>(x: L) -> L {
    let normal = x.ge(L::splat(f64::MIN_POSITIVE)) & x.le(L::splat(f64::MAX));
    let (f, dk, first) = x.split();
    let c = L::splat;
    let s = f / (c(2.0) + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (c(LG[1]) + w * (c(LG[3]) + w * c(LG[5])));
    let t2 = z * (c(LG[0]) + w * (c(LG[2]) + w * (c(LG[4]) + w * c(LG[6]))));
    let r = t2 + t1;
    let hfsq = c(0.5) * f * f;
    // fdlibm's k = 0 branches are these with dk = 0: the same bits.
    let a = dk * c(LN2_HI) - ((hfsq - (s * (hfsq + r) + dk * c(LN2_LO))) - f);
    let b = dk * c(LN2_HI) - ((s * (f - r) - dk * c(LN2_LO)) - f);
    let y = L::select(first, a, b);
    if L::all(normal) {
        y
    } else {
        L::select(normal, y, x.map(f64::ln))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    /// Within 1 ulp of libm over many binades, exact at powers of two and 1, and libm's
    /// results outside the normal range.
    #[test]
    fn ln_is_within_one_ulp_of_libm() {
        let mut x = 1e-300_f64;
        let mut worst = 0;
        while x < 1e300 {
            for v in [
                x,
                x * (1.0 + 1e-9),
                1.0 + 1e-12 * x.min(1.0),
                1.0 - 1e-13 * x.min(1.0),
            ] {
                worst = worst.max(ulps(ln(v), v.ln()));
            }
            x *= 1.000_731;
        }
        assert!(worst <= 1, "{worst} ulps");
        assert_eq!(ln(1.0_f64), 0.0);
        assert_eq!(ln(8.0_f64), 3.0 * std::f64::consts::LN_2);
        for v in [0.0, -1.0, 5e-324, f64::INFINITY, f64::NAN] {
            assert_eq!(ln(v).to_bits(), v.ln().to_bits());
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn ln4(v: [f64; 4]) -> [f64; 4] {
        ln(F4::from_array(v)).to_array()
    }

    /// The AVX lanes give the bits of the scalar path.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn lanes_give_the_scalar_bits() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut x = 1e-308_f64;
        while x < 1e308 {
            let v = [x, -x, x * 1.37, 1.0 + x.min(0.5)];
            // SAFETY: AVX2 was just detected.
            let got = unsafe { ln4(v) };
            for (g, v) in got.iter().zip(v) {
                assert_eq!(g.to_bits(), ln(v).to_bits(), "{v}");
            }
            x *= 1.37;
        }
    }
}
