//! One bar for a chunk of symbols: each symbol's buffers, then its indicators, with groups of
//! four symbols taking the lane path of the standard set where they can ([`super::lanes`]).

use super::lanes::{self, Slot, GROUP};
use super::spec::{Bars, Node, Spec};
use super::{Fill, Tick};
use crate::standard::OUTPUTS;

/// The shape of a symbol's history block.
#[derive(Clone, Copy)]
pub(super) struct Layout {
    pub(super) keep: usize,
    pub(super) cap: usize,
    pub(super) inputs: usize,
}

/// What every symbol of an update shares.
pub(super) struct Ctx<'a> {
    pub(super) layout: Layout,
    pub(super) specs: &'a [Spec],
    /// Values per symbol: history block, nodes, outputs.
    pub(super) block: usize,
    pub(super) ns: usize,
    pub(super) n_out: usize,
    /// `(spec position, output offset)` of the standard set when groups may run side by side.
    pub(super) lanes: Option<(usize, usize)>,
}

impl Ctx<'_> {
    /// The general path for the `g` symbols of a group starting at `g0`: each symbol's nodes
    /// (`group`, `ns` per symbol) advanced from its own buffer; `skip` is a node the lanes
    /// advanced already.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn step_group(
        &self,
        hist: &[f64],
        fill: &[Fill],
        group: &mut [Node],
        out: &mut [f64],
        g0: usize,
        g: usize,
        skip: Option<usize>,
    ) {
        let (block, ns, n_out) = (self.block, self.ns, self.n_out);
        for i in 0..g {
            let s = g0 + i;
            self.layout.step_nodes(
                self.specs,
                &hist[s * block..(s + 1) * block],
                fill[s],
                &mut group[i * ns..(i + 1) * ns],
                &mut out[s * n_out..(s + 1) * n_out],
                skip,
            );
        }
    }
}

impl Layout {
    /// Appends `bar` (close, high, low) to a symbol's buffers.
    #[inline]
    pub(super) fn push(self, hist: &mut [f64], fill: &mut Fill, bar: &[f64; 3]) {
        let mut l = fill.len as usize;
        if l == self.cap {
            // Keep the last `keep` bars: see the module docs for why that preserves the bits.
            for i in 0..self.inputs {
                let buf = &mut hist[i * self.cap..(i + 1) * self.cap];
                buf.copy_within(self.cap - self.keep.., 0);
            }
            l = self.keep;
        }
        for (i, &v) in bar.iter().enumerate().take(self.inputs) {
            hist[i * self.cap + l] = v;
        }
        let streak = if bar[0].is_nan() {
            0
        } else {
            (fill.streak + 1).min(self.cap as u32)
        };
        *fill = Fill {
            len: l as u32 + 1,
            streak,
        };
    }

    /// Advances a symbol's nodes by its latest bar (except the node at `skip`, advanced by the
    /// lane path) and writes their outputs.
    #[inline]
    pub(super) fn step_nodes(
        self,
        specs: &[Spec],
        hist: &[f64],
        fill: Fill,
        nodes: &mut [Node],
        out: &mut [f64],
        skip: Option<usize>,
    ) {
        let l = fill.len as usize;
        let (high, low) = if self.inputs == 3 {
            (
                &hist[self.cap..self.cap + l],
                &hist[2 * self.cap..2 * self.cap + l],
            )
        } else {
            (&[][..], &[][..])
        };
        let bars = Bars {
            close: &hist[..l],
            high,
            low,
            t: l - 1,
            valid_run: fill.streak as usize,
        };
        let mut o = 0;
        for (j, (node, spec)) in nodes.iter_mut().zip(specs).enumerate() {
            let k = spec.outputs();
            if skip != Some(j) {
                node.step(spec, &bars, &mut out[o..o + k]);
            }
            o += k;
        }
    }

    /// Appends a bar and advances every node (the per-symbol path).
    #[inline]
    pub(super) fn advance(
        self,
        specs: &[Spec],
        hist: &mut [f64],
        fill: &mut Fill,
        nodes: &mut [Node],
        bar: &[f64; 3],
        out: &mut [f64],
    ) {
        self.push(hist, fill, bar);
        self.step_nodes(specs, hist, *fill, nodes, out, None);
    }
}

/// The bar of symbol `s` (NaN high/low when the stream reads none).
#[inline(always)]
fn bar(tick: &Tick<'_>, s: usize) -> [f64; 3] {
    [
        tick.close[s],
        tick.high.get(s).copied().unwrap_or(f64::NAN),
        tick.low.get(s).copied().unwrap_or(f64::NAN),
    ]
}

/// Advances the symbols `base..base + fill.len()` by one bar. With `commit == false` (peek) the
/// nodes, lanes and buffer lengths are left as they were.
#[allow(clippy::too_many_arguments)]
pub(super) fn advance_chunk(
    ctx: &Ctx<'_>,
    base: usize,
    hist: &mut [f64],
    fill: &mut [Fill],
    nodes: &mut [Node],
    out: &mut [f64],
    slots: &mut [Slot],
    tick: &Tick<'_>,
    commit: bool,
) {
    let (block, ns) = (ctx.block, ctx.ns);
    let mut scratch: Vec<Node> = Vec::new();
    let mut g0 = 0;
    while g0 < fill.len() {
        let g = (fill.len() - g0).min(GROUP);
        let mut before = [Fill::default(); GROUP];
        for (i, b) in before.iter_mut().enumerate().take(g) {
            let s = g0 + i;
            *b = fill[s];
            let h = &mut hist[s * block..(s + 1) * block];
            ctx.layout.push(h, &mut fill[s], &bar(tick, base + s));
        }
        let slot = &mut slots[g0 / GROUP];
        let mut slot_copy;
        let group = &mut nodes[g0 * ns..(g0 + g) * ns];
        let (group, slot) = if commit {
            (group, slot)
        } else {
            scratch.clear();
            scratch.extend_from_slice(group);
            slot_copy = *slot;
            (&mut scratch[..], &mut slot_copy)
        };
        let full = g == GROUP
            && fill[g0..g0 + g]
                .iter()
                .all(|f| f.streak as usize > crate::standard::LONG);
        let lanes = ctx.lanes.filter(|_| full);
        #[cfg(target_arch = "x86_64")]
        if let Some((at, off)) = lanes {
            let closes: [&[f64]; GROUP] = std::array::from_fn(|i| {
                let s = g0 + i;
                &hist[s * block..][..fill[s].len as usize]
            });
            let rows = lanes::gather(closes);
            let mut o = [[0.0; OUTPUTS]; GROUP];
            // SAFETY: `ctx.lanes` is set only where `lanes::available()` (AVX2) holds.
            unsafe { lanes::step(slot, group, ns, at, &lanes::Gather(rows), &rows, &mut o) };
            for (i, v) in o.iter().enumerate() {
                out[(g0 + i) * ctx.n_out + off..][..OUTPUTS].copy_from_slice(v);
            }
        }
        if let (Some((at, _)), None) = (ctx.lanes, lanes) {
            lanes::unload(slot, group, ns, at);
        }
        let skip = lanes.map(|l| l.0);
        // When the lanes advanced the only indicator there is nothing left to step.
        if !(ns == 1 && skip.is_some()) {
            ctx.step_group(hist, fill, group, out, g0, g, skip);
        }
        if !commit {
            undo_fills(&mut fill[g0..g0 + g], &before);
        }
        g0 += g;
    }
}

/// Where a chunk's closes are in its ring ([`lanes::Ring`]).
#[derive(Clone, Copy)]
pub(super) struct RingAt {
    /// Columns of a ring row (symbols per chunk).
    pub(super) width: usize,
    /// Row of the bar being added.
    pub(super) row: usize,
}

/// Writes the last `keep` closes of the symbols `cols` into their buffers, which a group
/// running in lanes leaves behind (`row_of(k)`: the ring row `k` bars before the latest); the
/// buffers then hold `keep` bars, as after a compaction. Every one of those bars is valid (the
/// group's windows were NaN-free).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // groups run in lanes on x86_64 only
pub(super) fn materialize<'a>(
    layout: Layout,
    row_of: impl Fn(usize) -> &'a [f64],
    hist: &mut [f64],
    fill: &mut [Fill],
    cols: std::ops::Range<usize>,
) {
    let (keep, block) = (layout.keep, layout.inputs * layout.cap);
    for k in 0..keep {
        let row = row_of(keep - 1 - k);
        for s in cols.clone() {
            hist[s * block + k] = row[s];
        }
    }
    for f in &mut fill[cols] {
        *f = Fill {
            len: keep as u32,
            streak: keep as u32,
        };
    }
}

/// [`advance_chunk`] for a stream of the standard set alone, whose groups in lanes read their
/// closes from the chunk's ring (`ring`: `RING` rows of `at.width` closes, the bar of this tick
/// going into row `at.row`). The buffers and fills of a group in lanes are not kept up to date
/// (the ring holds its bars): they are rebuilt ([`materialize`]) when it leaves the lanes.
#[allow(clippy::too_many_arguments)]
// Elsewhere than x86_64 no group runs in lanes, so no stream takes the ring layout.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
pub(super) fn advance_chunk_ring(
    ctx: &Ctx<'_>,
    base: usize,
    hist: &mut [f64],
    fill: &mut [Fill],
    nodes: &mut [Node],
    out: &mut [f64],
    slots: &mut [Slot],
    ring: &mut [f64],
    at: RingAt,
    tick: &Tick<'_>,
    commit: bool,
) {
    let (block, ns, n_out) = (ctx.block, ctx.ns, ctx.n_out);
    let n = fill.len();
    let closes = &tick.close[base..base + n];
    #[cfg(target_arch = "x86_64")]
    let (lagged, new_row) = lanes::Lagged::split(ring, at.width, at.row);
    #[cfg(not(target_arch = "x86_64"))]
    let new_row = &mut ring[at.row * at.width..][..at.width];
    let Some((at_spec, _)) = ctx.lanes.filter(|_| n_out == OUTPUTS && ns == 1) else {
        new_row[..n].copy_from_slice(closes);
        return;
    };
    let mut scratch: Vec<Node> = Vec::new();
    let mut g0 = 0;
    while g0 < n {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: `ctx.lanes` is set only where `lanes::available()` (AVX2) holds.
            let done = unsafe { lanes::steady(slots, &lagged, new_row, closes, out, g0, commit) };
            g0 += done;
            if g0 >= n {
                break;
            }
        }
        let g = (n - g0).min(GROUP);
        new_row[g0..g0 + g].copy_from_slice(&closes[g0..g0 + g]);
        let slot = &mut slots[g0 / GROUP];
        let group = &mut nodes[g0 * ns..(g0 + g) * ns];
        let mut slot_copy;
        let (group, slot) = if commit {
            (group, slot)
        } else {
            scratch.clear();
            scratch.extend_from_slice(group);
            slot_copy = *slot;
            (&mut scratch[..], &mut slot_copy)
        };
        #[cfg(target_arch = "x86_64")]
        if lanes::occupied(slot) {
            // A NaN leaves the lanes: back to the symbols' buffers and nodes. (Rebuilding the
            // buffers also in a peek changes no state: they hold the same bars.)
            let row_of = |k: usize| lagged.row_of(k + 1);
            materialize(ctx.layout, row_of, hist, fill, g0..g0 + g);
            lanes::unload(slot, group, ns, at_spec);
        }
        let mut before = [Fill::default(); GROUP];
        for (i, b) in before.iter_mut().enumerate().take(g) {
            let s = g0 + i;
            *b = fill[s];
            let h = &mut hist[s * block..(s + 1) * block];
            ctx.layout.push(h, &mut fill[s], &bar(tick, base + s));
        }
        let full = g == GROUP
            && fill[g0..g0 + g]
                .iter()
                .all(|f| f.streak as usize > crate::standard::LONG);
        #[cfg(target_arch = "x86_64")]
        if full {
            let mut o = [[0.0; OUTPUTS]; GROUP];
            // SAFETY: as above; the group's ring columns hold its last `keep` bars (the new
            // one in `new_row`).
            unsafe { lanes::enter(slot, group, ns, at_spec, &lagged, new_row, g0, &mut o) };
            out[g0 * n_out..][..GROUP * n_out]
                .chunks_exact_mut(n_out)
                .zip(&o)
                .for_each(|(d, v)| d.copy_from_slice(v));
        }
        if !full || cfg!(not(target_arch = "x86_64")) {
            ctx.step_group(hist, fill, group, out, g0, g, None);
        }
        if !commit {
            undo_fills(&mut fill[g0..g0 + g], &before);
        }
        g0 += g;
    }
}

/// A peek's undo: the bar pushed for the group is dropped again, which leaves each buffer as it
/// was (a compaction keeps the same last bars), and the NaN streaks return to their values before.
#[inline]
fn undo_fills(fill: &mut [Fill], before: &[Fill]) {
    for (f, b) in fill.iter_mut().zip(before) {
        *f = Fill {
            len: f.len - 1,
            streak: b.streak,
        };
    }
}
