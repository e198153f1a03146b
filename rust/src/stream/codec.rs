//! Checkpoints: a stream's complete state as bytes, and back, bit for bit.
//!
//! Layout (little endian): `MAGIC`, format version (u32), the caller's header (u32 length +
//! bytes: the Python layer stores symbol names there), the specs, the symbol count, then per
//! symbol its last `min(len, keep)` bars and its node states, and a CRC-32 of everything before
//! it. Every float is stored as its bits, so a restored stream continues exactly. Decoding checks
//! the magic, the version, the checksum and every length before it allocates or builds anything.

use super::{Node, Spec, Stream};
use crate::convention::Convention;
use crate::error::{Error, Result};
use crate::window::{Sum1, Sum2, Window};

const MAGIC: &[u8; 8] = b"FQSTREAM";
/// Bump on any change of the layout below; old checkpoints are then refused with a clear error.
pub const FORMAT: u32 = 1;

/// Writes into a buffer of the exact checkpoint size ([`Encoder::len`]); a write past its end is
/// recorded, not a panic, and turns into an error at the end.
struct Writer<'a> {
    buf: &'a mut [u8],
    at: usize,
    overflow: bool,
}

impl Writer<'_> {
    fn bytes(&mut self, b: &[u8]) {
        match self.buf.get_mut(self.at..self.at + b.len()) {
            Some(dst) => {
                dst.copy_from_slice(b);
                self.at += b.len();
            }
            None => self.overflow = true,
        }
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    fn usize(&mut self, v: usize) {
        self.u64(v as u64);
    }
    fn window<const SQ: bool>(&mut self, w: &Window<SQ>) {
        self.usize(w.count);
        let (a, b) = (&w.first, &w.second);
        for v in [w.n, w.inv, w.last, w.run, a.anchor, a.s1, a.absx, a.mass1] {
            self.f64(v);
        }
        for v in [b.anchor, b.s1, b.s2, b.mass1, b.mass2] {
            self.f64(v);
        }
    }
    fn ema(&mut self, e: &crate::ema::Ema) {
        self.usize(e.seen);
        self.f64(e.seed_sum);
        self.f64(e.value);
    }
    fn conv(&mut self, c: Convention) {
        self.u64(u64::from(c == Convention::Talib));
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::Checkpoint {
        reason: reason.into(),
    }
}

impl Reader<'_> {
    fn take(&mut self, k: usize) -> Result<&[u8]> {
        let end = self.at.checked_add(k).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| bad("the data is truncated"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }
    fn u32(&mut self) -> Result<u32> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(b))
    }
    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn usize(&mut self) -> Result<usize> {
        usize::try_from(self.u64()?).map_err(|_| bad("a count does not fit this machine"))
    }
    fn window<const SQ: bool>(&mut self, w: &mut Window<SQ>) -> Result<()> {
        w.count = self.usize()?;
        let mut v = [0.0; 13];
        for x in &mut v {
            *x = self.f64()?;
        }
        let [n, inv, last, run, a0, a1, a2, a3, b0, b1, b2, b3, b4] = v;
        (w.n, w.inv, w.last, w.run) = (n, inv, last, run);
        w.first = Sum1 {
            anchor: a0,
            s1: a1,
            absx: a2,
            mass1: a3,
        };
        w.second = Sum2 {
            anchor: b0,
            s1: b1,
            s2: b2,
            mass1: b3,
            mass2: b4,
        };
        Ok(())
    }
    fn ema(&mut self, e: &mut crate::ema::Ema) -> Result<()> {
        e.seen = self.usize()?;
        e.seed_sum = self.f64()?;
        e.value = self.f64()?;
        Ok(())
    }
    fn conv(&mut self) -> Result<Convention> {
        match self.u64()? {
            0 => Ok(Convention::Pandas),
            1 => Ok(Convention::Talib),
            v => Err(bad(format!("unknown convention code {v}"))),
        }
    }
}

fn put_spec(w: &mut Writer<'_>, s: &Spec) {
    match *s {
        Spec::Standard => w.u64(0),
        Spec::Sma {
            period,
            min_periods,
        } => {
            w.u64(1);
            w.usize(period);
            w.usize(min_periods);
        }
        Spec::Ema { period, convention } => {
            w.u64(2);
            w.usize(period);
            w.conv(convention);
        }
        Spec::Rsi {
            period,
            min_periods,
            convention,
        } => {
            w.u64(3);
            w.usize(period);
            w.usize(min_periods);
            w.conv(convention);
        }
        Spec::Bollinger {
            period,
            k,
            ddof,
            min_periods,
        } => {
            w.u64(4);
            w.usize(period);
            w.f64(k);
            w.usize(ddof);
            w.usize(min_periods);
        }
        Spec::Macd {
            fast,
            slow,
            signal,
            convention,
        } => {
            w.u64(5);
            w.usize(fast);
            w.usize(slow);
            w.usize(signal);
            w.conv(convention);
        }
        Spec::Atr {
            period,
            convention,
            normalised,
        } => {
            w.u64(6);
            w.usize(period);
            w.conv(convention);
            w.u64(u64::from(normalised));
        }
    }
}

fn get_spec(r: &mut Reader<'_>) -> Result<Spec> {
    Ok(match r.u64()? {
        0 => Spec::Standard,
        1 => Spec::Sma {
            period: r.usize()?,
            min_periods: r.usize()?,
        },
        2 => Spec::Ema {
            period: r.usize()?,
            convention: r.conv()?,
        },
        3 => Spec::Rsi {
            period: r.usize()?,
            min_periods: r.usize()?,
            convention: r.conv()?,
        },
        4 => Spec::Bollinger {
            period: r.usize()?,
            k: r.f64()?,
            ddof: r.usize()?,
            min_periods: r.usize()?,
        },
        5 => Spec::Macd {
            fast: r.usize()?,
            slow: r.usize()?,
            signal: r.usize()?,
            convention: r.conv()?,
        },
        6 => Spec::Atr {
            period: r.usize()?,
            convention: r.conv()?,
            normalised: r.u64()? != 0,
        },
        tag => return Err(bad(format!("unknown indicator code {tag}"))),
    })
}

fn put_node(w: &mut Writer<'_>, node: &Node) {
    match node {
        Node::Standard(s) => {
            w.window(&s.w20);
            w.window(&s.w50);
            w.window(&s.cutler.gains);
            w.window(&s.cutler.losses);
        }
        Node::Sma(x) => w.window(x),
        Node::Bollinger(x) => w.window(x),
        Node::Cutler(c) => {
            w.window(&c.gains);
            w.window(&c.losses);
        }
        Node::Ema(e) => w.ema(e),
        Node::Macd(m) => {
            w.ema(&m.fast);
            w.ema(&m.slow);
            w.ema(&m.signal);
        }
        Node::Wilder(x) => {
            w.usize(x.seen);
            w.f64(x.avg_gain);
            w.f64(x.avg_loss);
        }
        Node::Atr(a) => {
            w.usize(a.seen);
            w.f64(a.value);
        }
    }
}

fn get_node(r: &mut Reader<'_>, node: &mut Node) -> Result<()> {
    match node {
        Node::Standard(s) => {
            r.window(&mut s.w20)?;
            r.window(&mut s.w50)?;
            r.window(&mut s.cutler.gains)?;
            r.window(&mut s.cutler.losses)
        }
        Node::Sma(x) => r.window(x),
        Node::Bollinger(x) => r.window(x),
        Node::Cutler(c) => {
            r.window(&mut c.gains)?;
            r.window(&mut c.losses)
        }
        Node::Ema(e) => r.ema(e),
        Node::Macd(m) => {
            r.ema(&mut m.fast)?;
            r.ema(&mut m.slow)?;
            r.ema(&mut m.signal)
        }
        Node::Wilder(x) => {
            x.seen = r.usize()?;
            x.avg_gain = r.f64()?;
            x.avg_loss = r.f64()?;
            Ok(())
        }
        Node::Atr(a) => {
            a.seen = r.usize()?;
            a.value = r.f64()?;
            Ok(())
        }
    }
}

/// Bytes of one encoded window ([`Writer::window`]): its count and 13 floats.
const WINDOW_BYTES: usize = 8 + 13 * 8;
/// Bytes of one encoded EMA ([`Writer::ema`]).
const EMA_BYTES: usize = 3 * 8;

/// Bytes [`put_node`] writes for `node` (kept beside it: the two change together, and
/// [`Encoder::write`] refuses a size that does not match what was written).
fn node_len(node: &Node) -> usize {
    match node {
        Node::Standard(_) => 4 * WINDOW_BYTES,
        Node::Sma(_) | Node::Bollinger(_) => WINDOW_BYTES,
        Node::Cutler(_) => 2 * WINDOW_BYTES,
        Node::Ema(_) => EMA_BYTES,
        Node::Macd(_) => 3 * EMA_BYTES,
        Node::Wilder(_) => 3 * 8,
        Node::Atr(_) => 2 * 8,
    }
}

/// Everything before the symbols: magic, format, header, specs and symbol count.
fn prefix(stream: &Stream, header: &[u8]) -> Result<Vec<u8>> {
    let header_len = u32::try_from(header.len()).map_err(|_| bad("the header is too large"))?;
    let mut head = Vec::with_capacity(64 + header.len() + 48 * stream.specs.len());
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&FORMAT.to_le_bytes());
    head.extend_from_slice(&header_len.to_le_bytes());
    head.extend_from_slice(header);
    let mut specs = vec![0u8; 8 + 6 * 8 * stream.specs.len()];
    let mut w = Writer {
        buf: &mut specs,
        at: 0,
        overflow: false,
    };
    w.usize(stream.specs.len());
    for s in &stream.specs {
        put_spec(&mut w, s);
    }
    w.usize(stream.n);
    let used = w.at;
    head.extend_from_slice(&specs[..used]);
    Ok(head)
}

/// The checkpoint of a flushed stream, sized before it is written: the caller allocates
/// [`Encoder::len`] bytes where it wants them (the Python binding: straight into the `bytes`
/// object, sparing a copy of megabytes) and [`Encoder::write`] fills them.
pub struct Encoder<'a> {
    stream: &'a Stream,
    /// Magic, format, header, specs and symbol count.
    head: Vec<u8>,
    len: usize,
}

impl<'a> Encoder<'a> {
    /// The encoder of a flushed `stream` carrying `header` (see [`Stream::checkpoint`]).
    pub(super) fn new(stream: &'a Stream, header: &[u8]) -> Result<Self> {
        let head = prefix(stream, header)?;
        let ns = stream.specs.len();
        let per_symbol_nodes: usize = stream.nodes.iter().take(ns).map(node_len).sum();
        let bars: usize = stream
            .len
            .iter()
            .map(|f| (f.len as usize).min(stream.keep))
            .sum();
        let len = head.len() + stream.n * (8 + per_symbol_nodes) + bars * stream.inputs * 8 + 4;
        Ok(Encoder { stream, head, len })
    }

    /// The size of the checkpoint in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a checkpoint holds at least its magic and checksum.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Writes the checkpoint into `out`, of exactly [`Encoder::len`] bytes.
    pub fn write(&self, out: &mut [u8]) -> Result<()> {
        let stream = self.stream;
        let mut w = Writer {
            buf: out,
            at: 0,
            overflow: false,
        };
        w.bytes(&self.head);
        let (block, ns) = (stream.inputs * stream.cap, stream.specs.len());
        for i in 0..stream.n {
            let len = stream.len[i].len as usize;
            let m = len.min(stream.keep);
            w.usize(m);
            for k in 0..stream.inputs {
                let buf = &stream.hist[i * block + k * stream.cap..][..len];
                for &v in &buf[len - m..] {
                    w.f64(v);
                }
            }
            for node in &stream.nodes[i * ns..(i + 1) * ns] {
                put_node(&mut w, node);
            }
        }
        let (at, overflow) = (w.at, w.overflow);
        if overflow || at + 4 != out.len() {
            return Err(Error::Internal {
                reason: format!(
                    "checkpoint size: {} bytes written for a buffer of {}",
                    at + 4,
                    out.len()
                ),
            });
        }
        let crc = crc32fast::hash(&out[..at]);
        out[at..].copy_from_slice(&crc.to_le_bytes());
        Ok(())
    }

    /// The checkpoint as a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut out = vec![0; self.len];
        self.write(&mut out)?;
        Ok(out)
    }
}

/// The header and the stream of a checkpoint made by an [`Encoder`].
pub fn decode(bytes: &[u8]) -> Result<(Vec<u8>, Stream)> {
    if bytes.len() < MAGIC.len() + 12 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad("these bytes are not a ferroquant stream checkpoint"));
    }
    let (body, tail) = bytes.split_at(bytes.len() - 4);
    let mut r = Reader {
        bytes: body,
        at: MAGIC.len(),
    };
    let format = r.u32()?;
    if format != FORMAT {
        return Err(bad(format!(
            "checkpoint format {format}, this version reads format {FORMAT}"
        )));
    }
    let mut crc = [0u8; 4];
    crc.copy_from_slice(tail);
    if crc32fast::hash(body) != u32::from_le_bytes(crc) {
        return Err(bad("checksum mismatch: the data is corrupt or truncated"));
    }
    let header_len = r.u32()? as usize;
    let header = r.take(header_len)?.to_vec();
    let n_specs = r.usize()?;
    if n_specs > body.len() {
        return Err(bad("implausible indicator count"));
    }
    let specs = (0..n_specs)
        .map(|_| get_spec(&mut r))
        .collect::<Result<Vec<_>>>()?;
    let n = r.usize()?;
    // Each symbol takes at least 8 bytes: refuse counts the data cannot hold before allocating.
    if n > (body.len() - r.at) / 8 {
        return Err(bad("implausible symbol count"));
    }
    let mut stream = Stream::new(specs, n).map_err(|e| bad(format!("invalid indicator: {e}")))?;
    let (block, ns) = (stream.inputs * stream.cap, stream.specs.len());
    for i in 0..n {
        let m = r.usize()?;
        if m > stream.keep {
            return Err(bad(format!(
                "symbol {i} holds {m} bars, at most {} expected",
                stream.keep
            )));
        }
        for k in 0..stream.inputs {
            let buf = &mut stream.hist[i * block + k * stream.cap..][..m];
            for v in buf.iter_mut() {
                *v = r.f64()?;
            }
        }
        // The streak is capped at the capacity, and only "more than LONG" matters: the stored
        // bars tell it exactly where they are fewer than `keep`, and enough where they are not.
        let close = &stream.hist[i * block..][..m];
        let streak = close.iter().rev().take_while(|v| !v.is_nan()).count();
        stream.len[i] = super::Fill {
            len: m as u32,
            streak: streak as u32,
        };
        for node in &mut stream.nodes[i * ns..(i + 1) * ns] {
            get_node(&mut r, node)?;
        }
    }
    if r.at != body.len() {
        return Err(bad("trailing bytes after the last symbol"));
    }
    Ok((header, stream))
}
