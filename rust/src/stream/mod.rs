//! Universe streams: every symbol's indicator states in flat arrays, advanced together by one bar.
//!
//! Each symbol keeps its last bars in a sliding buffer and one [`Node`] per indicator. A bar is
//! appended to the buffer and each node advances with the same per-bar function the batch kernel
//! runs at that bar, given the buffer and the bar's index in it. The batch functions read at most
//! `keep - 1` bars back and behave the same at any index `>= keep - 1` as at the absolute bar
//! index (their only index tests are "is there a bar `period` back" and "is this bar 0"), so the
//! buffer only has to hold `keep` bars once it has been compacted: the results are the batch
//! results bit for bit, at every bar, whatever the history length.
//!
//! Symbols are independent, so an update shares chunks of symbols with a [`Crew`] and a warm-up
//! runs in parallel over symbols, with the same bits for any thread count. Nothing is written
//! before every input has been checked.

mod codec;
mod lanes;
mod spec;
#[cfg(test)]
mod tests;
mod tick;

pub use codec::decode;
pub use codec::Encoder;
pub(crate) use spec::Node;
pub use spec::Spec;

use crate::crew::Crew;
use crate::error::{Error, Result};
use lanes::{Slot, GROUP, RING};
use rayon::prelude::*;
use tick::{Ctx, Layout, RingAt};

/// Capacity of a symbol's buffer holding `keep` bars: a compaction copies `keep` values every
/// `cap - keep` bars; a small margin keeps the buffers (most of a stream's memory) compact, as
/// the cache lines an update touches are what it costs.
fn capacity(keep: usize) -> usize {
    keep.next_multiple_of(8) + 8.max(keep / 4)
}

/// Symbols per work item of a parallel update.
const CHUNK: usize = 128;

/// The states of a universe of symbols for a list of indicators.
#[derive(Clone)]
pub struct Stream {
    specs: Vec<Spec>,
    n_out: usize,
    /// Bars each buffer must hold after a compaction, and its capacity (see [`capacity`]).
    keep: usize,
    cap: usize,
    /// 1 (close) or 3 (close, high, low).
    inputs: usize,
    n: usize,
    /// `n` blocks of `inputs * cap` values: each symbol's close, high and low buffers.
    hist: Vec<f64>,
    /// How full each symbol's buffers are.
    len: Vec<Fill>,
    /// `n` blocks of `specs.len()` states.
    nodes: Vec<Node>,
    /// One lane slot per group of four symbols (see [`lanes`]).
    slots: Vec<Slot>,
    /// `(spec position, output offset)` of the standard set, where groups run side by side.
    lanes: Option<(usize, usize)>,
    /// A stream of the standard set alone in lanes (see [`Stream::ring_mode`]) also keeps the
    /// latest closes of every symbol in lane order: per chunk of `CHUNK` symbols, `RING` rows of
    /// `CHUNK` closes, one row per bar. A group in lanes reads the closes entering and leaving
    /// its windows as contiguous loads from there instead of gathering them from four buffers,
    /// and its buffers are left alone until it leaves the lanes.
    ring: Vec<f64>,
    /// Row of the next bar in every chunk's ring.
    ring_at: usize,
    /// The ring must be rebuilt from the buffers before the next update (the symbols changed).
    ring_stale: bool,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("specs", &self.specs)
            .field("symbols", &self.n)
            .field("keep", &self.keep)
            .finish_non_exhaustive()
    }
}

/// A chunk's slices as zipped iterators yield them: ((((history, fills), nodes), outputs), lane slots).
type ChunkParts<'a> = (
    (
        ((&'a mut [f64], &'a mut [Fill]), &'a mut [Node]),
        &'a mut [f64],
    ),
    &'a mut [Slot],
);

/// A work item of an update: (chunk index, [`ChunkParts`]).
type Chunk<'a> = (usize, ChunkParts<'a>);

/// Bars in a symbol's buffers, and how many of the latest closes are valid (counted up to the
/// buffer capacity): the fused standard kernel takes its fast path once its windows hold no NaN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Fill {
    pub(crate) len: u32,
    pub(crate) streak: u32,
}

/// The new bar of every symbol (`high`/`low` empty when no indicator reads them).
#[derive(Clone, Copy)]
pub struct Tick<'a> {
    pub close: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
}

impl Stream {
    /// A stream of `specs` over `n` symbols that have seen no bar.
    pub fn new(specs: Vec<Spec>, n: usize) -> Result<Self> {
        if specs.is_empty() {
            return Err(Error::param(
                "indicators",
                "[]",
                "at least one indicator, e.g. [\"standard\"]",
            ));
        }
        for s in &specs {
            s.validate()?;
        }
        let keep = specs.iter().map(Spec::keep).max().unwrap_or(2);
        let inputs = if specs.iter().any(Spec::needs_high_low) {
            3
        } else {
            1
        };
        let lanes = specs
            .iter()
            .position(|s| *s == Spec::Standard)
            .filter(|_| lanes::available())
            .map(|at| (at, specs[..at].iter().map(Spec::outputs).sum()));
        let mut stream = Stream {
            n_out: specs.iter().map(Spec::outputs).sum(),
            lanes,
            slots: Vec::new(),
            specs,
            keep,
            cap: capacity(keep),
            inputs,
            n: 0,
            hist: Vec::new(),
            len: Vec::new(),
            nodes: Vec::new(),
            ring: Vec::new(),
            ring_at: 0,
            ring_stale: true,
        };
        stream.add(n);
        Ok(stream)
    }

    /// The indicators, in output order.
    pub fn specs(&self) -> &[Spec] {
        &self.specs
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when the stream has no symbol.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Output values per symbol and bar.
    pub fn outputs(&self) -> usize {
        self.n_out
    }

    /// Bars of history kept per symbol.
    pub fn keep(&self) -> usize {
        self.keep
    }

    /// Whether updates need highs and lows.
    pub fn needs_high_low(&self) -> bool {
        self.inputs == 3
    }

    /// Appends `k` symbols that have seen no bar; the others are untouched.
    pub fn add(&mut self, k: usize) {
        self.flush();
        self.ring_stale = true;
        self.n += k;
        self.slots.resize_with(self.n.div_ceil(GROUP), lanes::empty);
        self.hist.resize(self.n * self.inputs * self.cap, f64::NAN);
        self.len.resize(self.n, Fill::default());
        for _ in 0..k {
            self.nodes.extend(self.specs.iter().map(Spec::node));
        }
    }

    /// Appends the symbols of `other`, a stream of the same indicators, with their states.
    pub fn extend(&mut self, other: &Stream) -> Result<()> {
        self.flush();
        let mut other = other.clone();
        other.flush();
        if other.specs != self.specs {
            return Err(Error::param(
                "other",
                "a stream of other indicators",
                "a stream of the same indicators",
            ));
        }
        self.ring_stale = true;
        self.n += other.n;
        self.hist.extend_from_slice(&other.hist);
        self.len.extend_from_slice(&other.len);
        self.nodes.extend_from_slice(&other.nodes);
        self.slots.resize_with(self.n.div_ceil(GROUP), lanes::empty);
        Ok(())
    }

    /// Removes the symbols at `indices` (distinct, any order); the others keep their state.
    pub fn remove(&mut self, indices: &[usize]) -> Result<()> {
        self.flush();
        self.ring_stale = true;
        let mut drop = vec![false; self.n];
        for &i in indices {
            if i >= self.n || drop[i] {
                return Err(Error::param(
                    "indices",
                    i,
                    format!("distinct symbol positions below {}", self.n),
                ));
            }
            drop[i] = true;
        }
        let (block, ns) = (self.inputs * self.cap, self.specs.len());
        let mut kept = 0;
        for (i, &gone) in drop.iter().enumerate() {
            if gone {
                continue;
            }
            if kept != i {
                self.hist
                    .copy_within(i * block..(i + 1) * block, kept * block);
                self.len[kept] = self.len[i];
                for j in 0..ns {
                    self.nodes.swap(kept * ns + j, i * ns + j);
                }
            }
            kept += 1;
        }
        self.n = kept;
        self.hist.truncate(kept * block);
        self.len.truncate(kept);
        self.nodes.truncate(kept * ns);
        self.slots.truncate(kept.div_ceil(GROUP));
        Ok(())
    }

    /// Checks a tick's shape and values before anything is written.
    fn check(&self, tick: &Tick<'_>) -> Result<()> {
        let mut named = vec![("close", tick.close)];
        if self.inputs == 3 {
            named.push(("high", tick.high));
            named.push(("low", tick.low));
        }
        for (name, v) in named {
            if v.len() != self.n {
                return Err(Error::shape(
                    name,
                    format!("one value per symbol ({})", self.n),
                    format!("({},)", v.len()),
                ));
            }
            if let Some(i) = first_infinite(v) {
                return Err(Error::NonFinite {
                    name,
                    asset: i,
                    bar: 0,
                    value: v[i],
                });
            }
        }
        Ok(())
    }

    /// Advances every symbol by one bar and writes its outputs into `out` (`n * outputs()`,
    /// symbol-major). With `commit == false` (peek) the states are left as they were.
    pub fn update(
        &mut self,
        tick: Tick<'_>,
        out: &mut [f64],
        commit: bool,
        crew: Option<&Crew>,
    ) -> Result<()> {
        self.check(&tick)?;
        if out.len() != self.n * self.n_out {
            return Err(Error::shape(
                "out",
                format!("({}, {})", self.n, self.n_out),
                format!("{} values", out.len()),
            ));
        }
        if self.ring_mode() {
            return self.update_ring(&tick, out, commit, crew);
        }
        let ctx = Ctx {
            layout: self.layout(),
            specs: &self.specs,
            block: self.inputs * self.cap,
            ns: self.specs.len(),
            n_out: self.n_out,
            lanes: self.lanes,
        };
        let work = |(c, ((((hist, fill), nodes), out), slots)): Chunk<'_>| {
            tick::advance_chunk(
                &ctx,
                c * CHUNK,
                hist,
                fill,
                nodes,
                out,
                slots,
                &tick,
                commit,
            );
        };
        let chunks = chunk_parts(
            &mut self.hist,
            &mut self.len,
            &mut self.nodes,
            out,
            &mut self.slots,
            &ctx,
        );
        each(chunks.enumerate(), crew, work)
    }

    /// Feeds `n_bars` bars of history to every symbol (panels `(n, n_bars)`, row-major), as if
    /// each bar had been an update; writes the outputs of the last bar into `last`.
    pub fn warm(
        &mut self,
        close: &[f64],
        high: &[f64],
        low: &[f64],
        n_bars: usize,
        last: &mut [f64],
        parallel: bool,
    ) -> Result<()> {
        let cells = self.n * n_bars;
        let mut named = vec![("close", close)];
        if self.inputs == 3 {
            named.push(("high", high));
            named.push(("low", low));
        }
        for (name, v) in named {
            if v.len() != cells {
                return Err(Error::shape(
                    name,
                    format!("({}, {n_bars}): one row per symbol", self.n),
                    format!("{} values", v.len()),
                ));
            }
            if let Some(p) = v.iter().position(|x| x.is_infinite()) {
                return Err(Error::NonFinite {
                    name,
                    asset: p / n_bars,
                    bar: p % n_bars,
                    value: v[p],
                });
            }
        }
        if last.len() != self.n * self.n_out {
            return Err(Error::shape(
                "last",
                format!("({}, {})", self.n, self.n_out),
                format!("{} values", last.len()),
            ));
        }
        self.flush();
        self.ring_stale = true;
        let layout = self.layout();
        let specs = &self.specs;
        let (block, ns, n_out) = (self.inputs * self.cap, specs.len(), self.n_out);
        let work = |(s, (((hist, len), nodes), out)): One<'_>| {
            for t in 0..n_bars {
                let p = s * n_bars + t;
                let bar = [
                    close[p],
                    high.get(p).copied().unwrap_or(f64::NAN),
                    low.get(p).copied().unwrap_or(f64::NAN),
                ];
                layout.advance(specs, hist, len, nodes, &bar, out);
            }
        };
        if parallel {
            self.hist
                .par_chunks_mut(block)
                .zip(self.len.par_iter_mut())
                .zip(self.nodes.par_chunks_mut(ns))
                .zip(last.par_chunks_mut(n_out))
                .enumerate()
                .for_each(work);
        } else {
            self.hist
                .chunks_mut(block)
                .zip(self.len.iter_mut())
                .zip(self.nodes.chunks_mut(ns))
                .zip(last.chunks_mut(n_out))
                .enumerate()
                .for_each(work);
        }
        Ok(())
    }

    /// Whether updates take the ring layout: the standard set alone, in lanes (the hot case of
    /// a live universe; other lists advance every symbol's buffers for their other indicators).
    fn ring_mode(&self) -> bool {
        self.lanes.is_some() && self.specs.len() == 1 && self.inputs == 1
    }

    /// [`Stream::update`] in the ring layout (checked input).
    fn update_ring(
        &mut self,
        tick: &Tick<'_>,
        out: &mut [f64],
        commit: bool,
        crew: Option<&Crew>,
    ) -> Result<()> {
        if self.ring_stale {
            self.rebuild_ring();
        }
        let row = self.ring_at;
        let ctx = &Ctx {
            layout: self.layout(),
            specs: &self.specs,
            block: self.inputs * self.cap,
            ns: self.specs.len(),
            n_out: self.n_out,
            lanes: self.lanes,
        };
        let work = |(c, (((((hist, fill), nodes), out), slots), ring)): RingChunk<'_>| {
            let at = RingAt { width: CHUNK, row };
            tick::advance_chunk_ring(
                ctx,
                c * CHUNK,
                hist,
                fill,
                nodes,
                out,
                slots,
                ring,
                at,
                tick,
                commit,
            );
        };
        let chunks = chunk_parts(
            &mut self.hist,
            &mut self.len,
            &mut self.nodes,
            out,
            &mut self.slots,
            ctx,
        )
        .zip(self.ring.chunks_mut(RING * CHUNK));
        each(chunks.enumerate(), crew, work)?;
        if commit {
            self.ring_at = (row + 1) % RING;
        }
        Ok(())
    }

    /// Rebuilds every chunk's ring from the symbols' buffers (all groups out of lanes), the
    /// latest bar in the last row; rows before a symbol's first bar hold NaN.
    fn rebuild_ring(&mut self) {
        debug_assert!(!self.slots.iter().any(lanes::occupied));
        let block = self.inputs * self.cap;
        self.ring.clear();
        self.ring
            .resize(self.n.div_ceil(CHUNK) * RING * CHUNK, f64::NAN);
        for s in 0..self.n {
            let len = self.len[s].len as usize;
            let (chunk, col) = (s / CHUNK, s % CHUNK);
            let ring = &mut self.ring[chunk * RING * CHUNK..][..RING * CHUNK];
            for (k, &v) in self.hist[s * block..][..len]
                .iter()
                .rev()
                .take(RING)
                .enumerate()
            {
                ring[(RING - 1 - k) * CHUNK + col] = v;
            }
        }
        self.ring_at = 0;
        self.ring_stale = false;
    }

    /// Moves every group's lane state back into its symbols' nodes, which are then the whole
    /// state (before the symbols are rearranged, and before a checkpoint); in the ring layout
    /// their buffers too.
    pub(crate) fn flush(&mut self) {
        if let Some((at, _)) = self.lanes {
            let ns = self.specs.len();
            let ring = self.ring_mode() && !self.ring_stale;
            let layout = self.layout();
            let last = (self.ring_at + RING - 1) % RING;
            for (g, slot) in self.slots.iter_mut().enumerate() {
                let (s0, s1) = (g * GROUP, ((g + 1) * GROUP).min(self.n));
                if ring && lanes::occupied(slot) {
                    let (chunk, c0) = (s0 / CHUNK, s0 % CHUNK);
                    let block = layout.inputs * layout.cap;
                    let ring = &self.ring[chunk * RING * CHUNK..][..RING * CHUNK];
                    let row_of = |k: usize| &ring[(last + RING - k) % RING * CHUNK..][..CHUNK];
                    tick::materialize(
                        layout,
                        row_of,
                        &mut self.hist[chunk * CHUNK * block..],
                        &mut self.len[chunk * CHUNK..],
                        c0..c0 + (s1 - s0),
                    );
                }
                let group = &mut self.nodes[s0 * ns..s1 * ns];
                lanes::unload(slot, group, ns, at);
            }
        }
    }

    /// The same stream without the lane path (every symbol on its own), for tests.
    #[cfg(test)]
    pub(crate) fn without_lanes(mut self) -> Self {
        self.flush();
        self.lanes = None;
        self
    }

    /// The checkpoint bytes of the stream, carrying `header` (see [`Encoder`]).
    pub fn checkpoint(&mut self, header: &[u8]) -> Result<Vec<u8>> {
        self.encoder(header)?.to_vec()
    }

    /// The stream's checkpoint carrying `header`, sized, to be written where the caller wants.
    pub fn encoder(&mut self, header: &[u8]) -> Result<Encoder<'_>> {
        self.flush();
        Encoder::new(self, header)
    }

    fn layout(&self) -> Layout {
        Layout {
            keep: self.keep,
            cap: self.cap,
            inputs: self.inputs,
        }
    }
}

/// Position of the first infinity in `v`. Blocks are tested whole (a fold without early exit,
/// which vectorises) and only a block holding one is searched: a tick's check costs a fraction
/// of a nanosecond per symbol.
fn first_infinite(v: &[f64]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 is available.
        return unsafe { first_infinite_avx2(v) };
    }
    first_infinite_in(v)
}

/// [`first_infinite`] compiled for AVX2: the fold tests four values per instruction instead of
/// two 32-bit halves at a time with SSE2 (about a microsecond per 4,000-symbol tick).
///
/// # Safety
/// AVX2 must be available.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn first_infinite_avx2(v: &[f64]) -> Option<usize> {
    first_infinite_in(v)
}

#[inline(always)]
fn first_infinite_in(v: &[f64]) -> Option<usize> {
    const BLOCK: usize = 64;
    v.chunks(BLOCK).enumerate().find_map(|(b, c)| {
        c.iter()
            .fold(false, |any, x| any | x.is_infinite())
            .then(|| {
                c.iter()
                    .position(|x| x.is_infinite())
                    .map(|i| b * BLOCK + i)
            })
            .flatten()
    })
}

/// The per-chunk slices of an update's state and outputs ([`ChunkParts`]), `CHUNK` symbols each.
fn chunk_parts<'a>(
    hist: &'a mut [f64],
    len: &'a mut [Fill],
    nodes: &'a mut [Node],
    out: &'a mut [f64],
    slots: &'a mut [Slot],
    ctx: &Ctx<'_>,
) -> impl Iterator<Item = ChunkParts<'a>> {
    hist.chunks_mut(CHUNK * ctx.block)
        .zip(len.chunks_mut(CHUNK))
        .zip(nodes.chunks_mut(CHUNK * ctx.ns))
        .zip(out.chunks_mut(CHUNK * ctx.n_out))
        .zip(slots.chunks_mut(CHUNK / GROUP))
}

/// Runs `f` on every chunk of an update, on the calling thread or shared with a crew's helpers
/// (chunks are independent, so the results do not depend on which thread takes which).
fn each<T: Send>(
    chunks: impl Iterator<Item = T>,
    crew: Option<&Crew>,
    f: impl Fn(T) + Sync,
) -> Result<()> {
    match crew {
        Some(crew) => crew.for_each(chunks.collect(), f),
        None => {
            chunks.for_each(f);
            Ok(())
        }
    }
}

/// A work item of an update in the ring layout: (chunk index, ([`ChunkParts`], the chunk's ring)).
type RingChunk<'a> = (usize, (ChunkParts<'a>, &'a mut [f64]));

/// A work item of a warm-up: (symbol, (((history, fill), nodes), outputs)).
type One<'a> = (
    usize,
    (
        ((&'a mut [f64], &'a mut Fill), &'a mut [Node]),
        &'a mut [f64],
    ),
);
