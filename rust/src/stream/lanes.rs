//! The standard set of four symbols side by side. Where the windows of four neighbouring symbols
//! are all full and NaN-free, their states move into the lanes of one AVX register ([`Fast<F4>`])
//! and advance with the batch kernel's own fast step ([`fast_step_by`]); as soon as one of them
//! meets a NaN (or for a last group of fewer than four) the states go back to the symbols'
//! [`Series`] and the general path. The batch driver switches between the same two forms at any
//! bar and its tests hold both to the same bits, so the stream's results do not depend on which
//! form advanced a bar.
//!
//! [`Fast<F4>`]: crate::standard::Fast

use super::Node;
#[cfg(target_arch = "x86_64")]
use crate::standard::Series;

#[cfg(target_arch = "x86_64")]
use crate::standard::{
    fast_step_by, finish, recompute_in, Closes, Fast, Rows, LONG, OUTPUTS, RSI, SHORT,
};
#[cfg(target_arch = "x86_64")]
use crate::window::{Lane, Sum1, Sum2, F4, M4};

/// The lane state of one group of four symbols: `Some` while the group runs side by side.
#[cfg(target_arch = "x86_64")]
pub(crate) type Slot = Option<Fast<F4>>;
/// No lanes on this architecture: every group takes the per-symbol path.
#[cfg(not(target_arch = "x86_64"))]
pub(crate) type Slot = ();

/// Symbols per group.
pub(crate) const GROUP: usize = 4;

/// Whether this machine runs groups side by side.
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// An empty slot (the group's states are in its symbols' nodes).
pub(crate) fn empty() -> Slot {
    #[cfg(target_arch = "x86_64")]
    {
        None
    }
}

/// Whether a group runs in lanes.
pub(crate) fn occupied(slot: &Slot) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        slot.is_some()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let () = slot;
        false
    }
}

/// The standard set's state of symbol `i` of a group (`nodes`: the group's nodes, `ns` per symbol).
#[cfg(target_arch = "x86_64")]
fn series(nodes: &mut [Node], ns: usize, at: usize, i: usize) -> &mut Series {
    match &mut nodes[i * ns + at] {
        Node::Standard(s) => s,
        // `at` is the position of the standard spec, whose nodes are always `Node::Standard`.
        _ => unreachable!("the standard spec's node is a Node::Standard"),
    }
}

/// Moves a group's lane state back into its symbols' nodes (no-op for an empty slot).
pub(crate) fn unload(slot: &mut Slot, nodes: &mut [Node], ns: usize, at: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(fast) = slot.take() {
        for (i, f) in split(&fast).iter().enumerate() {
            // Full windows: the counts are those of any bar from LONG on.
            f.store(std::slice::from_mut(series(nodes, ns, at, i)), LONG);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slot, nodes, ns, at);
}

/// The four lanes of a group's state, one per symbol (each field read out of its register once).
#[cfg(target_arch = "x86_64")]
fn split(f: &Fast<F4>) -> [Fast<f64>; GROUP] {
    let one = |s: &Sum1<F4>| {
        let (a, b, c, d) = (
            s.anchor.to_array(),
            s.s1.to_array(),
            s.absx.to_array(),
            s.mass1.to_array(),
        );
        std::array::from_fn::<_, GROUP, _>(|i| Sum1 {
            anchor: a[i],
            s1: b[i],
            absx: c[i],
            mass1: d[i],
        })
    };
    let (w20, w50, gains, losses) = (one(&f.w20), one(&f.w50), one(&f.gains), one(&f.losses));
    let bb = &f.bb;
    let (ba, b1, b2, bm1, bm2) = (
        bb.anchor.to_array(),
        bb.s1.to_array(),
        bb.s2.to_array(),
        bb.mass1.to_array(),
        bb.mass2.to_array(),
    );
    let (run, last) = (f.run.to_array(), f.last.to_array());
    let (g_run, g_last) = (f.g_run.to_array(), f.g_last.to_array());
    let (l_run, l_last) = (f.l_run.to_array(), f.l_last.to_array());
    std::array::from_fn(|i| Fast {
        run: run[i],
        last: last[i],
        w20: w20[i],
        bb: Sum2 {
            anchor: ba[i],
            s1: b1[i],
            s2: b2[i],
            mass1: bm1[i],
            mass2: bm2[i],
        },
        w50: w50[i],
        g_run: g_run[i],
        g_last: g_last[i],
        gains: gains[i],
        l_run: l_run[i],
        l_last: l_last[i],
        losses: losses[i],
    })
}

/// The windows of four symbols, gathered lane by lane from their buffers (each `LONG + 1` closes
/// ending at the current bar).
#[cfg(target_arch = "x86_64")]
pub(crate) struct Gather<'a>(pub(crate) [&'a [f64]; GROUP]);

#[cfg(target_arch = "x86_64")]
impl Closes<F4> for Gather<'_> {
    #[inline(always)]
    fn at(&self, i: usize) -> F4 {
        let r = &self.0;
        F4::from_array([r[0][i], r[1][i], r[2][i], r[3][i]])
    }

    #[inline(always)]
    fn recompute(
        &self,
        f: &mut Fast<F4>,
        ok: &[M4; 5],
        inv: (F4, F4, F4),
        from: usize,
        rows: &[&[f64]],
        t: usize,
    ) {
        let mut all = [F4::splat(0.0); LONG + 1];
        for (i, v) in all.iter_mut().enumerate().skip(from) {
            *v = self.at(i);
        }
        recompute_in(f, ok, &all, inv, &rows, t)
    }
}

/// Rows of a ring: a power of two above `LONG + 1`, so that the bar a peek writes (over the
/// oldest row) never hides one of the `keep` bars a group needs when it leaves the lanes.
pub(crate) const RING: usize = 64;

/// Advances the standard set of a group by one bar, side by side: `closes` gives the group's
/// window ending at the new bar (`rows`: the same closes per symbol, each ending at position
/// `LONG`, for the exact fallback, or empty where `closes` makes them); writes the six outputs
/// of symbol `i` into `out[i]`.
///
/// # Safety
/// AVX2 must be available ([`available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn step<C: Closes<F4>>(
    slot: &mut Slot,
    nodes: &mut [Node],
    ns: usize,
    at: usize,
    closes: &C,
    rows: &[&[f64]],
    out: &mut [[f64; OUTPUTS]; GROUP],
) {
    let fast = slot.get_or_insert_with(|| {
        let mut four: [Series; GROUP] = Default::default();
        for (i, s) in four.iter_mut().enumerate() {
            *s = series(nodes, ns, at, i).clone();
        }
        Fast::load(&four)
    });
    // The recompute fallback reads `rows[i]` around bar `t`: the windows end at position LONG.
    let raw = fast_step_by(fast, closes, rows, LONG);
    let v = finish(raw);
    for (k, lane) in v.iter().enumerate() {
        let a = lane.to_array();
        for (o, x) in out.iter_mut().zip(a) {
            o[k] = x;
        }
    }
}

/// The windows of four symbols' buffers (`closes[i]`: symbol `i`'s buffer up to the new bar,
/// its last `LONG + 1` closes valid) and their rows for [`step`].
#[cfg(target_arch = "x86_64")]
pub(crate) fn gather(closes: [&[f64]; GROUP]) -> [&[f64]; GROUP] {
    closes.map(|c| &c[c.len() - (LONG + 1)..])
}

/// A chunk's ring during one tick, split around the row of the new bar (which the tick writes):
/// the rows of the bars before it, read by the groups that stay in lanes.
#[cfg(target_arch = "x86_64")]
pub(crate) struct Lagged<'a> {
    /// Rows `0..row` and `row + 1..RING`.
    before: &'a [f64],
    after: &'a [f64],
    row: usize,
    width: usize,
    /// The rows a fast step reads besides the new bar: 1, RSI, RSI + 1, SHORT and LONG back.
    lag: [&'a [f64]; 5],
}

/// Bars back of [`Lagged::lag`].
#[cfg(target_arch = "x86_64")]
const LAGS: [usize; 5] = [1, RSI, RSI + 1, SHORT, LONG];

#[cfg(target_arch = "x86_64")]
impl<'a> Lagged<'a> {
    /// The ring of a chunk (`RING` rows of `width` closes) with the new bar going into `row`:
    /// the rows before it, and the new bar's row to write.
    pub(crate) fn split(ring: &'a mut [f64], width: usize, row: usize) -> (Self, &'a mut [f64]) {
        let (before, rest) = ring.split_at_mut(row * width);
        let (new, after) = rest.split_at_mut(width);
        let (before, after) = (&*before, &*after);
        let row_of = |back: usize| -> &'a [f64] {
            let r = (row + RING - back) % RING;
            if r < row {
                &before[r * width..][..width]
            } else {
                &after[(r - row - 1) * width..][..width]
            }
        };
        let lag = LAGS.map(row_of);
        (
            Lagged {
                before,
                after,
                row,
                width,
                lag,
            },
            new,
        )
    }

    /// The row `back` bars before the new one (`1 <= back < RING`).
    #[inline(always)]
    pub(crate) fn row_of(&self, back: usize) -> &'a [f64] {
        let r = (self.row + RING - back) % RING;
        if r < self.row {
            &self.before[r * self.width..][..self.width]
        } else {
            &self.after[(r - self.row - 1) * self.width..][..self.width]
        }
    }
}

/// The window of one group in [`steady`]: the new closes and the five lagged ones in registers,
/// any other position read from the ring (the rare recompute).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Held<'a, 'b> {
    ring: &'b Lagged<'a>,
    col: usize,
    x_in: F4,
    lagged: [F4; 5],
}

/// Four closes at `col` of a ring row.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn four(row: &[f64], col: usize) -> F4 {
    let v = &row[col..col + GROUP];
    // SAFETY: `v` holds four values; AVX is available (the `F4` invariant: these run inside
    // functions entered behind `available()`).
    unsafe { F4::load(v.as_ptr()) }
}

#[cfg(target_arch = "x86_64")]
impl Closes<F4> for Held<'_, '_> {
    #[inline(always)]
    fn at(&self, i: usize) -> F4 {
        // `i` is a constant wherever the fast step reads: the match folds to a register.
        match LONG - i {
            0 => self.x_in,
            1 => self.lagged[0],
            RSI => self.lagged[1],
            b if b == RSI + 1 => self.lagged[2],
            SHORT => self.lagged[3],
            LONG => self.lagged[4],
            back => four(self.ring.row_of(back), self.col),
        }
    }

    #[inline(always)]
    fn recompute(
        &self,
        f: &mut Fast<F4>,
        ok: &[M4; 5],
        inv: (F4, F4, F4),
        from: usize,
        _rows: &[&[f64]],
        _t: usize,
    ) {
        // SAFETY: a `Held` exists only inside `steady` and `enter`, which run where AVX2 is
        // available. (By value: a reference would pin the loop's registers to memory.)
        unsafe { held_recompute(*self, f, ok, inv, from) }
    }
}

/// The recompute of a group in [`steady`] ([`recompute_in`]) on its window from position `from`
/// on and its rows per symbol ([`Held4`]): out of line, so that its array does not weigh on the
/// frame of the steady loop, and without a closure, which would not inherit the AVX2 target
/// feature. The rows hold the positions `from..=LONG` only (the last at bar `LONG - from`).
///
/// # Safety
/// AVX2 must be available.
#[cfg(target_arch = "x86_64")]
#[cold]
#[inline(never)]
#[target_feature(enable = "avx2")]
unsafe fn held_recompute(
    held: Held<'_, '_>,
    f: &mut Fast<F4>,
    ok: &[M4; 5],
    inv: (F4, F4, F4),
    from: usize,
) {
    use std::mem::MaybeUninit;
    debug_assert!(from <= LONG);
    let from = from.min(LONG);
    // Positions before `from` are never read: zeros there (a memset of the whole array cost
    // as much as the loads below), the window from the ring at the others.
    let mut all = [MaybeUninit::<F4>::uninit(); LONG + 1];
    for v in &mut all[..from] {
        v.write(F4::splat(0.0));
    }
    all[LONG].write(held.x_in);
    // Position `LONG - back` is the ring row `back` bars before the new one: the rows before the
    // new row's (in `before`), newest first, then those after it (in `after`), as straight runs
    // of rows instead of a ring index, a branch and two bounds checks per position.
    let (ring, col, w) = (held.ring, held.col, held.ring.width);
    let newest_first = ring
        .before
        .chunks_exact(w)
        .rev()
        .chain(ring.after.chunks_exact(w).rev());
    let mut read = 0;
    for (v, r) in all[from..LONG].iter_mut().rev().zip(newest_first) {
        v.write(four(r, col));
        read += 1;
    }
    // The ring holds `RING - 1 > LONG` rows besides the new one, so this never fills anything;
    // it keeps every position written whatever the ring's shape.
    for v in &mut all[from..LONG - read] {
        v.write(F4::splat(0.0));
    }
    // SAFETY: every position was written above (`0..from`, `from..LONG` and `LONG`), and
    // `MaybeUninit<F4>` has the layout of `F4`. (A reference: a transmute by value copies.)
    let all: &[F4; LONG + 1] = unsafe { &*all.as_ptr().cast::<[F4; LONG + 1]>() };
    recompute_in(f, ok, all, inv, &Held4 { all, from }, LONG - from)
}

/// The rows of a window held in lanes (positions `from..=LONG` of each symbol), made only for
/// the rare lane whose recompute needs its exact sums: copying them out for every recompute cost
/// a tenth of its instructions.
#[cfg(target_arch = "x86_64")]
struct Held4<'a> {
    all: &'a [F4; LONG + 1],
    from: usize,
}

#[cfg(target_arch = "x86_64")]
impl Rows for Held4<'_> {
    fn count(&self) -> usize {
        GROUP
    }

    fn with_row(&self, i: usize, f: &mut dyn FnMut(&[f64])) {
        let row: Vec<f64> = self.all[self.from..].iter().map(|v| v.lane(i)).collect();
        f(&row)
    }
}

/// Writes the six outputs of four symbols (`v[k]`: output `k` of the four) as the four symbols'
/// rows of six.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn put_rows(v: &[F4; OUTPUTS], out: &mut [f64]) {
    use std::arch::x86_64::*;
    let out = &mut out[..GROUP * OUTPUTS];
    let t = F4::transpose([v[0], v[1], v[2], v[3]]);
    // SAFETY: AVX is available (the `F4` invariant); every store below writes inside `out`
    // (24 values): four at 6i and two at 6i + 4 for symbol i.
    unsafe {
        let lo = _mm256_unpacklo_pd(v[4].0, v[5].0); // (4,5) of symbols 0 and 2
        let hi = _mm256_unpackhi_pd(v[4].0, v[5].0); // (4,5) of symbols 1 and 3
        let tail = [
            _mm256_castpd256_pd128(lo),
            _mm256_castpd256_pd128(hi),
            _mm256_extractf128_pd::<1>(lo),
            _mm256_extractf128_pd::<1>(hi),
        ];
        let p = out.as_mut_ptr();
        for i in 0..GROUP {
            _mm256_storeu_pd(p.add(i * OUTPUTS), t[i].0);
            _mm_storeu_pd(p.add(i * OUTPUTS + 4), tail[i]);
        }
    }
}

/// Advances the groups of a chunk from group `g0` on while they stay in lanes (their slot full
/// and their four new closes valid), reading their windows from `ring`; writes the new closes into
/// the ring's new row and six outputs per symbol into `out` (the chunk's rows). Returns the
/// number of symbols advanced (a multiple of `GROUP`). With `commit == false` the slots are
/// left as they were.
///
/// # Safety
/// AVX2 must be available ([`available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn steady(
    slots: &mut [Slot],
    ring: &Lagged<'_>,
    new_row: &mut [f64],
    closes: &[f64],
    out: &mut [f64],
    g0: usize,
    commit: bool,
) -> usize {
    use std::arch::x86_64::*;
    let mut s = g0;
    while s + GROUP <= closes.len() {
        let Some(fast) = &mut slots[s / GROUP] else {
            break;
        };
        let x_in = four(closes, s);
        // AVX is available (this function's contract).
        if _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_UNORD_Q>(x_in.0, x_in.0)) != 0 {
            break; // a NaN: the group leaves the lanes on the general path
        }
        new_row[s..s + GROUP].copy_from_slice(&x_in.to_array());
        let held = Held {
            ring,
            col: s,
            x_in,
            lagged: ring.lag.map(|r| four(r, s)),
        };
        // The recompute fallback reads the rows around bar `t`: the windows end at position LONG.
        let raw = if commit {
            fast_step_by(fast, &held, &[], LONG)
        } else {
            let mut copy = *fast;
            fast_step_by(&mut copy, &held, &[], LONG)
        };
        put_rows(&finish(raw), &mut out[s * OUTPUTS..]);
        s += GROUP;
    }
    s - g0
}

/// Moves a group into lanes (its nodes' states into `slot`) and advances it by the new bar, in
/// `new_row` at `col`, as [`step`] does.
///
/// # Safety
/// AVX2 must be available ([`available`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn enter(
    slot: &mut Slot,
    nodes: &mut [Node],
    ns: usize,
    at: usize,
    ring: &Lagged<'_>,
    new_row: &[f64],
    col: usize,
    out: &mut [[f64; OUTPUTS]; GROUP],
) {
    let held = Held {
        ring,
        col,
        x_in: four(new_row, col),
        lagged: ring.lag.map(|r| four(r, col)),
    };
    // AVX2 is available (this function's contract).
    step(slot, nodes, ns, at, &held, &[], out)
}
