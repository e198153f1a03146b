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
use crate::standard::{fast_step_by, finish, Closes, Fast, LONG, OUTPUTS};
#[cfg(target_arch = "x86_64")]
use crate::window::{Lane, Sum1, Sum2, F4};

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
    fn with_all<R>(&self, rows: &[&[f64]], f: impl FnOnce(&[F4; LONG + 1], &[&[f64]]) -> R) -> R {
        let mut all = [F4::splat(0.0); LONG + 1];
        for (i, v) in all.iter_mut().enumerate() {
            *v = self.at(i);
        }
        f(&all, rows)
    }
}

/// The windows of a group read from a chunk's ring of closes ([`super::Stream`]'s lane layout):
/// row `r` holds every symbol's close of one bar, so the four closes of a group at a lag are one
/// contiguous load and no gathers are needed.
#[cfg(target_arch = "x86_64")]
pub(crate) struct Ring<'a> {
    /// The chunk's ring: `RING` rows of `width` closes.
    pub(crate) block: &'a [f64],
    pub(crate) width: usize,
    /// Row of the bar being added.
    pub(crate) row: usize,
    /// Column of the group's first symbol.
    pub(crate) col: usize,
}

#[cfg(target_arch = "x86_64")]
impl Closes<F4> for Ring<'_> {
    #[inline(always)]
    fn at(&self, i: usize) -> F4 {
        let row = (self.row + RING - (LONG - i)) % RING;
        let four = &self.block[row * self.width + self.col..][..GROUP];
        // SAFETY: `four` holds four values; AVX is available (the `F4` invariant, upheld by the
        // callers, which run behind `available()`).
        unsafe { F4::load(four.as_ptr()) }
    }

    #[inline(always)]
    fn with_all<R>(&self, _rows: &[&[f64]], f: impl FnOnce(&[F4; LONG + 1], &[&[f64]]) -> R) -> R {
        let mut all = [F4::splat(0.0); LONG + 1];
        let mut cols = [[0.0; LONG + 1]; GROUP];
        for (i, v) in all.iter_mut().enumerate() {
            *v = self.at(i);
            for (c, x) in cols.iter_mut().zip(v.to_array()) {
                c[i] = x;
            }
        }
        let rows: [&[f64]; GROUP] = std::array::from_fn(|k| &cols[k][..]);
        f(&all, &rows)
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
