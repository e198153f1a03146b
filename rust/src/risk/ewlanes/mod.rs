//! The per-asset pass of [`super::ewreg`], written once over a lane type ([`Lanes`]): `f64` (one
//! asset) or [`F4`] (four assets side by side in an AVX register). The O(1) window updates are
//! mostly divisions and dependent multiply-adds, so four assets per instruction is where the time
//! goes down; the branches on missing values become per-lane selects. Outputs go through a small
//! interleaved buffer per chunk of dates and leave it by 4×4 transposes.
//!
//! Every lane performs exactly the IEEE operations of the one-asset code, in the same order (no
//! fused multiply-add; `ln_1p` is the same libm call, lane by lane; the lanes' `ln` is one
//! sequence of IEEE operations on both paths), so an asset gets the same bits whichever path,
//! block of assets or thread computes it.

use super::decay;
use super::ewreg::{DescriptorParams, Inputs};
use super::lanes::{finite, gt, ln, Lanes};
#[cfg(target_arch = "x86_64")]
use crate::window::F4;
use finish::{logs, normal, size, technicals};

/// Assets per block: the lanes of [`F4`].
pub(super) const LANES: usize = 4;

/// Descriptors written here (beta .. size), in output order.
pub(super) const SERIES: usize = 7;

/// Rows of the chunk buffer: the series, then liquidity where the product of the window means
/// left the normal range (NaN elsewhere).
const ROWS: usize = SERIES + 1;

/// Dates computed into the interleaved buffer before they are written out row by row: the
/// buffer stays in L1 and every output row receives whole cache lines.
const CHUNK: usize = 64;

/// Per-worker scratch: returns, log returns and activity of the block's assets interleaved
/// (`[date][lane]`), and a chunk of interleaved outputs.
#[derive(Default)]
pub(super) struct Scratch {
    r: Vec<f64>,
    lr: Vec<f64>,
    act: Vec<f64>,
    buf: Vec<f64>,
    /// SMA 20, SMA 50, Bollinger middle and lower band of one asset.
    technical: [Vec<f64>; 4],
}

// Window terms of date `s`, with the lanes where they are valid. Plain functions rather than
// closures: a closure does not inherit the AVX target feature, and its intrinsics would become
// calls.

/// Regression terms `[1, x, y, x², xy, y²]` of market return `x` and return `y`.
#[inline(always)]
fn pair<L: Lanes>(mkt: &[f64], r: &[f64], s: usize) -> ([L; 6], L::Mask) {
    let (x, y) = (L::splat(mkt[s]), L::load(&r[s * L::LANES..]));
    let one = L::splat(1.0);
    ([one, x, y, x * x, x * y, y * y], finite(x) & finite(y))
}

/// Moment terms `[1, y, y²]` of return `y`.
#[inline(always)]
fn moments<L: Lanes>(r: &[f64], s: usize) -> ([L; 3], L::Mask) {
    let y = L::load(&r[s * L::LANES..]);
    ([L::splat(1.0), y, y * y], finite(y))
}

/// The value of `v` itself.
#[inline(always)]
fn value<L: Lanes>(v: &[f64], s: usize) -> ([L; 1], L::Mask) {
    let y = L::load(&v[s * L::LANES..]);
    ([y], finite(y))
}

/// An exponentially weighted sum of `C` components over the last `w` dates, per lane; counts are
/// exact integers held as floats.
struct Ew<L, const C: usize> {
    lam: L,
    lam_w: L,
    min: L,
    s: [L; C],
    count: L,
}

impl<L: Lanes, const C: usize> Ew<L, C> {
    fn new(w: usize, half_life: f64, min_fraction: f64, floor: usize) -> Self {
        let lam = decay(half_life);
        let min = ((min_fraction * w as f64).ceil() as usize)
            .max(floor)
            .max(1);
        Ew {
            lam: L::splat(lam),
            lam_w: L::splat(lam.powi(w as i32)),
            min: L::splat(min as f64),
            s: [L::splat(0.0); C],
            count: L::splat(0.0),
        }
    }

    /// Ages the sums by one date (first of the three steps of a date, then `add`, then `remove`).
    #[inline(always)]
    fn age(&mut self) {
        for c in 0..C {
            self.s[c] = self.s[c] * self.lam;
        }
    }

    /// Adds the value entering the window in the lanes where it is valid.
    #[inline(always)]
    fn add(&mut self, (v, ok): ([L; C], L::Mask)) {
        for c in 0..C {
            self.s[c] = L::select(ok, self.s[c] + v[c], self.s[c]);
        }
        self.count = L::select(ok, self.count + L::splat(1.0), self.count);
    }

    /// Removes the value leaving the window in the lanes where it is valid.
    #[inline(always)]
    fn remove(&mut self, (v, ok): ([L; C], L::Mask)) {
        for c in 0..C {
            self.s[c] = L::select(ok, self.s[c] - self.lam_w * v[c], self.s[c]);
        }
        self.count = L::select(ok, self.count - L::splat(1.0), self.count);
    }

    #[inline(always)]
    fn ready(&self) -> L::Mask {
        self.count.ge(self.min)
    }
}

/// The descriptors of `L::LANES` assets (`inputs`) into `out[asset][d]`.
#[inline(always)]
pub(super) fn pass<L: Lanes>(
    inputs: &[Inputs<'_>],
    mkt: &[f64],
    p: &DescriptorParams,
    out: &mut [[&mut [f64]; super::N_DESCRIPTORS]],
    sc: &mut Scratch,
) {
    let k = L::LANES;
    let t_len = mkt.len();
    for v in [&mut sc.r, &mut sc.lr, &mut sc.act] {
        v.clear();
        v.resize(t_len * k, f64::NAN);
    }
    sc.buf.resize(ROWS * CHUNK * k, 0.0);
    for (a, o) in inputs.iter().zip(out.iter_mut()) {
        let [.., rsi, pctb, p2s] = o;
        technicals::<L>(a.close, rsi, pctb, p2s, &mut sc.technical);
    }
    // Each return and log return is computed once; windows leaving a value read it back here.
    // Log returns stay libm's `ln_1p`: momentum and reversal sum them and cross zero, where
    // any change of their last bit is a large relative change.
    let nan = L::splat(f64::NAN);
    for t in 0..t_len {
        let cur = L::gather(|l| inputs[l].close[t]);
        let (r, lr) = match t.checked_sub(1) {
            Some(u) => {
                let q = cur / L::gather(|l| inputs[l].close[u]);
                let r = q - L::splat(1.0);
                let ok = finite(r);
                let r = L::select(ok, r, nan);
                (r, r.map(f64::ln_1p))
            }
            None => (nan, nan),
        };
        r.store(&mut sc.r[t * k..]);
        lr.store(&mut sc.lr[t * k..]);
        let act = match (inputs[0].volume.is_some(), inputs[0].shares.is_some()) {
            (false, _) => nan,
            (true, false) => L::gather(|l| inputs[l].volume_at(t)) * cur,
            (true, true) => {
                L::gather(|l| inputs[l].volume_at(t)) / L::gather(|l| inputs[l].shares_at(t))
            }
        };
        L::select(finite(act), act, nan).store(&mut sc.act[t * k..]);
    }
    let fr = p.min_fraction;
    let mut reg = Ew::<L, 6>::new(p.beta_window, p.beta_half_life, fr, 3);
    let mut sd = Ew::<L, 3>::new(p.vol_window, p.vol_half_life, fr, 2);
    let mut mo = Ew::<L, 1>::new(p.mom_window, p.mom_half_life, fr, 1);
    let mut rv = Ew::<L, 1>::new(p.rev_window, p.rev_half_life, fr, 1);
    let mut lq = p.liq_windows.map(|w| (w, Ew::<L, 1>::new(w, 0.0, fr, 1)));
    let Scratch {
        r, lr, act, buf, ..
    } = sc;
    let (r, lr, act) = (&r[..], &lr[..], &act[..]);
    let caps = inputs.iter().all(|a| a.caps.is_some());
    // Size falls back on the longest liquidity window without caps (the last of equals).
    let longest = (0..3).max_by_key(|&q| p.liq_windows[q]).unwrap_or(2);
    let mut t0 = 0;
    while t0 < t_len {
        let len = CHUNK.min(t_len - t0);
        for j in 0..len {
            let t = t0 + j;
            reg.age();
            reg.add(pair(mkt, r, t));
            if t >= p.beta_window {
                reg.remove(pair(mkt, r, t - p.beta_window));
            }
            sd.age();
            sd.add(moments(r, t));
            if t >= p.vol_window {
                sd.remove(moments(r, t - p.vol_window));
            }
            mo.age();
            if t >= p.mom_skip {
                mo.add(value(lr, t - p.mom_skip));
            }
            if t >= p.mom_skip + p.mom_window {
                mo.remove(value(lr, t - p.mom_skip - p.mom_window));
            }
            rv.age();
            rv.add(value(lr, t));
            if t >= p.rev_window {
                rv.remove(value(lr, t - p.rev_window));
            }
            // Liquidity is a third of ln(m0 m1 m2) = ln(s0 s1 s2 / (n0 n1 n2)) (s the window sums,
            // n the counts, exact): one logarithm and one division instead of three of each (the
            // products round twice each, ~1e-16 relative, then one rounding of the logarithm
            // instead of three and two sums). Where the product leaves the normal range, the
            // three logarithms of the means.
            let (mut num, mut den) = (L::splat(1.0), L::splat(1.0));
            let mut ready = L::splat(0.0).eq_(L::splat(0.0));
            for (w, q) in lq.iter_mut() {
                q.age();
                q.add(value(act, t));
                if t >= *w {
                    q.remove(value(act, t - *w));
                }
                ready = ready & q.ready() & gt(q.s[0], L::splat(0.0));
                num = num * q.s[0];
                den = den * q.count;
            }
            let prod = L::select(ready, num / den, nan);
            let mut odd = nan;
            if !L::all(normal(prod) | !ready) {
                let mut sum = L::splat(0.0);
                let mut valid = ready;
                for (i, (_, q)) in lq.iter().enumerate() {
                    let m = q.s[0] / q.count;
                    valid = valid & gt(m, L::splat(0.0));
                    sum = if i == 0 { ln(m) } else { sum + ln(m) };
                }
                odd = L::select(normal(prod) | !valid, nan, sum / L::splat(3.0));
            }
            odd.store(&mut buf[(SERIES * CHUNK + j) * k..]);
            let size = if caps {
                nan
            } else {
                let q = &lq[longest].1;
                let m = q.s[0] / q.count;
                L::select(q.ready() & gt(m, L::splat(0.0)), m, nan)
            };
            let s = &reg.s;
            let (mx, my) = (s[1] / s[0], s[2] / s[0]);
            let vxx = s[3] / s[0] - mx * mx;
            let cxy = s[4] / s[0] - mx * my;
            let vyy = s[5] / s[0] - my * my;
            let ok = reg.ready() & gt(vxx, L::splat(0.0));
            let b = cxy / vxx;
            let e = (vyy - cxy * b).max_(L::splat(0.0)).sqrt();
            let s = &sd.s;
            let m = s[1] / s[0];
            let vol = (s[2] / s[0] - m * m).max_(L::splat(0.0)).sqrt();
            let row = [
                L::select(ok, b, nan),
                L::select(ok, e, nan),
                L::select(sd.ready(), vol, nan),
                L::select(mo.ready(), mo.s[0], nan),
                L::select(rv.ready(), rv.s[0], nan),
                prod,
                size,
            ];
            for (d, v) in row.into_iter().enumerate() {
                v.store(&mut buf[(d * CHUNK + j) * k..]);
            }
        }
        logs::<L>(buf, len, caps);
        for d in 0..SERIES {
            L::write_rows(&buf[d * CHUNK * k..(d * CHUNK + len) * k], out, d, t0);
        }
        for (a, o) in inputs.iter().zip(out.iter_mut()) {
            if let Some(w) = a.caps {
                size::<L>(&w[t0..t0 + len], &mut o[6][t0..t0 + len]);
            }
        }
        t0 += len;
    }
}

/// [`pass`] over four assets in AVX lanes.
///
/// # Safety
/// AVX2 must be available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn pass4_avx2(
    inputs: &[Inputs<'_>],
    mkt: &[f64],
    p: &DescriptorParams,
    out: &mut [[&mut [f64]; super::N_DESCRIPTORS]],
    sc: &mut Scratch,
) {
    pass::<F4>(inputs, mkt, p, out, sc);
    // The rows were partly written with non-temporal stores.
    crate::window::store_fence();
}

/// The descriptors of a block of assets: four in AVX lanes where available, else one at a time.
pub(super) fn block(
    inputs: &[Inputs<'_>],
    mkt: &[f64],
    p: &DescriptorParams,
    out: &mut [[&mut [f64]; super::N_DESCRIPTORS]],
    sc: &mut Scratch,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if inputs.len() == LANES && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 was just detected.
            return unsafe { pass4_avx2(inputs, mkt, p, out, sc) };
        }
    }
    for (a, o) in inputs.iter().zip(out.iter_mut()) {
        pass::<f64>(std::slice::from_ref(a), mkt, p, std::slice::from_mut(o), sc);
    }
}

mod finish;
#[cfg(test)]
mod tests;
