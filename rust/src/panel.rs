//! Driving a per-series kernel over a whole universe. A panel is `n_assets` rows of `n_bars`
//! values, row-major. Work is split over assets only: one series is always reduced by one thread
//! in bar order, so results are bit-identical for any thread count or chunking.

use crate::error::{Error, Result};
use rayon::prelude::*;

/// Below this many cells a call runs on the calling thread: waking the pool costs microseconds,
/// more than the whole computation of a few small series.
const PARALLEL_MIN_CELLS: usize = 1 << 15;

/// Most inputs a kernel takes (high, low, close, volume, ...).
const MAX_INPUTS: usize = 8;

/// Assets handed to a worker at a time; enough to amortise scheduling, small enough to balance.
const MIN_ASSETS_PER_TASK: usize = 4;

/// One named, read-only `(n_assets, n_bars)` input.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    pub name: &'static str,
    pub data: &'a [f64],
}

/// An output buffer of `n_assets * n_bars` cells; float32 outputs are computed in float64 and
/// rounded once when stored.
pub enum Output<'a> {
    F64(&'a mut [f64]),
    F32(&'a mut [f32]),
}

impl Output<'_> {
    fn len(&self) -> usize {
        match self {
            Output::F64(b) => b.len(),
            Output::F32(b) => b.len(),
        }
    }
}

/// Raw view of an output so that disjoint rows can be handed to different workers.
#[derive(Clone, Copy)]
enum RawOut {
    F64(*mut f64),
    F32(*mut f32),
}
// SAFETY: every task writes only the rows of the assets it was given; rows are disjoint.
unsafe impl Send for RawOut {}
unsafe impl Sync for RawOut {}

/// Returns the first bar holding ±inf, if any.
#[inline]
pub fn first_infinite(row: &[f64]) -> Option<usize> {
    // A branch-free OR over the row is vectorised; we only search for the position when needed.
    let any = row
        .iter()
        .fold(false, |acc, v| acc | (v.abs() == f64::INFINITY));
    if any {
        row.iter().position(|v| v.is_infinite())
    } else {
        None
    }
}

/// Validates shapes: every input and output must hold `n_assets * n_bars` cells.
fn check_shapes(
    n_assets: usize,
    n_bars: usize,
    inputs: &[Input<'_>],
    outputs: &[Output<'_>],
) -> Result<()> {
    let cells = n_assets.checked_mul(n_bars).ok_or_else(|| {
        Error::shape(
            "input",
            "a shape whose size fits in memory",
            format!("({n_assets}, {n_bars})"),
        )
    })?;
    for input in inputs {
        if input.data.len() != cells {
            return Err(Error::shape(
                input.name,
                format!("({n_assets}, {n_bars}) like the first input"),
                format!("{} cells", input.data.len()),
            ));
        }
    }
    for output in outputs {
        if output.len() != cells {
            return Err(Error::shape(
                "out",
                format!("({n_assets}, {n_bars}) like the input"),
                format!("{} cells", output.len()),
            ));
        }
    }
    Ok(())
}

/// Runs `kernel(inputs_row, outputs_row)` for every asset, in parallel over assets when the panel is
/// large enough. Each input row is checked for infinities first (while it is hot in cache); the
/// error reported is the one of the lowest asset index, whatever the scheduling.
pub fn for_each_asset<K>(
    n_assets: usize,
    n_bars: usize,
    inputs: &[Input<'_>],
    outputs: &mut [Output<'_>],
    kernel: K,
) -> Result<()>
where
    K: Fn(&[&[f64]], &mut [&mut [f64]]) + Sync,
{
    for_each_block(n_assets, n_bars, inputs, outputs, 1, kernel)
}

/// Like [`for_each_asset`], but hands the kernel `block` consecutive assets at a time (fewer for the
/// last block), so that it can compute several series side by side. The kernel receives the rows
/// asset-major: `inputs[a * n_inputs + k]` is input `k` of the block's asset `a`, and likewise
/// `outputs[a * n_outputs + k]`. Every series is still reduced by exactly one thread, in bar order.
pub fn for_each_block<K>(
    n_assets: usize,
    n_bars: usize,
    inputs: &[Input<'_>],
    outputs: &mut [Output<'_>],
    block: usize,
    kernel: K,
) -> Result<()>
where
    K: Fn(&[&[f64]], &mut [&mut [f64]]) + Sync,
{
    check_shapes(n_assets, n_bars, inputs, outputs)?;
    if inputs.len() > MAX_INPUTS {
        return Err(Error::Internal {
            reason: format!(
                "a kernel was given {} inputs, at most {MAX_INPUTS} are supported",
                inputs.len()
            ),
        });
    }
    let block = block.max(1);
    let raw: Vec<RawOut> = outputs
        .iter_mut()
        .map(|o| match o {
            Output::F64(b) => RawOut::F64(b.as_mut_ptr()),
            Output::F32(b) => RawOut::F32(b.as_mut_ptr()),
        })
        .collect();
    let needs_scratch = raw.iter().any(|r| matches!(r, RawOut::F32(_)));
    let n_blocks = n_assets.div_ceil(block);

    let run_block = |b: usize, scratch: &mut Vec<Vec<f64>>| -> Option<Error> {
        let first = b * block;
        let assets = first..(first + block).min(n_assets);
        let mut rows_in: Vec<&[f64]> = Vec::with_capacity(assets.len() * inputs.len());
        for asset in assets.clone() {
            let start = asset * n_bars;
            for input in inputs {
                let row = &input.data[start..start + n_bars];
                if let Some(bar) = first_infinite(row) {
                    return Some(Error::NonFinite {
                        name: input.name,
                        asset,
                        bar,
                        value: row[bar],
                    });
                }
                rows_in.push(row);
            }
        }
        let mut rows_out: Vec<&mut [f64]> = Vec::with_capacity(assets.len() * raw.len());
        if needs_scratch {
            scratch.resize_with(assets.len() * raw.len(), Vec::new);
        }
        for (a, asset) in assets.clone().enumerate() {
            let start = asset * n_bars;
            for (k, r) in raw.iter().enumerate() {
                match *r {
                    // SAFETY: `start..start+n_bars` lies inside the buffer (shapes checked above) and
                    // no other task touches this asset's row.
                    RawOut::F64(p) => rows_out
                        .push(unsafe { std::slice::from_raw_parts_mut(p.add(start), n_bars) }),
                    RawOut::F32(_) => {
                        let buf = &mut scratch[a * raw.len() + k];
                        buf.resize(n_bars, 0.0);
                        rows_out.push(unsafe {
                            std::slice::from_raw_parts_mut(buf.as_mut_ptr(), n_bars)
                        });
                    }
                }
            }
        }
        kernel(&rows_in, &mut rows_out);
        drop(rows_out);
        for (a, asset) in assets.enumerate() {
            let start = asset * n_bars;
            for (k, r) in raw.iter().enumerate() {
                if let RawOut::F32(p) = *r {
                    // SAFETY: as above, this asset's row of the float32 buffer belongs to this task.
                    let dst = unsafe { std::slice::from_raw_parts_mut(p.add(start), n_bars) };
                    for (d, s) in dst.iter_mut().zip(&scratch[a * raw.len() + k]) {
                        *d = *s as f32;
                    }
                }
            }
        }
        None
    };

    let first_error = if n_assets * n_bars < PARALLEL_MIN_CELLS || rayon::current_num_threads() == 1
    {
        let mut scratch = Vec::new();
        (0..n_blocks).find_map(|b| run_block(b, &mut scratch))
    } else {
        (0..n_blocks)
            .into_par_iter()
            .with_min_len(MIN_ASSETS_PER_TASK.div_ceil(block))
            .map_init(Vec::new, |scratch, b| run_block(b, scratch).map(|e| (b, e)))
            .flatten()
            .min_by_key(|(b, _)| *b)
            .map(|(_, e)| e)
    };
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_lowest_asset_with_an_infinity() {
        let n_bars = 3;
        let mut x = vec![1.0; 40_000 * n_bars];
        x[7 * n_bars + 2] = f64::INFINITY;
        x[39_000 * n_bars] = f64::NEG_INFINITY;
        let mut out = vec![0.0; x.len()];
        let err = crate::pool::install(2, || {
            for_each_asset(
                40_000,
                n_bars,
                &[Input {
                    name: "close",
                    data: &x,
                }],
                &mut [Output::F64(&mut out)],
                |i, o| o[0].copy_from_slice(i[0]),
            )
        })
        .unwrap()
        .unwrap_err();
        assert_eq!(
            err,
            Error::NonFinite {
                name: "close",
                asset: 7,
                bar: 2,
                value: f64::INFINITY
            }
        );
    }

    #[test]
    fn float32_outputs_round_once() {
        let x = vec![0.1, 0.2, 0.3, 0.4];
        let mut out = vec![0f32; 4];
        for_each_asset(
            2,
            2,
            &[Input {
                name: "x",
                data: &x,
            }],
            &mut [Output::F32(&mut out)],
            |i, o| o[0].copy_from_slice(i[0]),
        )
        .unwrap();
        assert_eq!(out, vec![0.1f32, 0.2, 0.3, 0.4]);
    }

    #[test]
    fn shape_mismatch_names_the_input() {
        let x = vec![1.0; 5];
        let mut out = vec![0.0; 6];
        let err = for_each_asset(
            2,
            3,
            &[Input {
                name: "high",
                data: &x,
            }],
            &mut [Output::F64(&mut out)],
            |_, _| {},
        )
        .unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { name: "high", .. }));
    }
}
