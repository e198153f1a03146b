//! The fused kernel against the separate kernels, and every path against the general one bit for
//! bit, on data built to reach every path (NaN runs, flat runs, jumps of scale) and every output
//! alignment of the streaming stores.

use super::*;

use crate::rsi::{change, gain, loss};
use crate::window::window_start;

use crate::bbands::bollinger;
use crate::convention::Convention;
use crate::rolling::{rolling_stat, Stat};

#[test]
fn equals_the_separate_kernels_bit_for_bit() {
    let mut x: Vec<f64> = (0..400)
        .map(|i| 100.0 + ((i * 37) % 23) as f64 * 0.7 - (i as f64) * 0.01)
        .collect();
    x[0] = f64::NAN;
    x[150] = f64::NAN;
    for v in &mut x[300..320] {
        *v = 42.0;
    }
    let n = x.len();
    let mut rows = vec![vec![0.0; n]; OUTPUTS];
    {
        let mut refs: Vec<&mut [f64]> = rows.iter_mut().map(|r| r.as_mut_slice()).collect();
        standard(&x, &mut refs);
    }
    let mut a = vec![0.0; n];
    rolling_stat(&x, 20, 1, 1, Stat::Mean, &mut a);
    assert_eq!(format!("{:?}", a), format!("{:?}", rows[0]));
    rolling_stat(&x, 50, 1, 1, Stat::Mean, &mut a);
    assert_eq!(format!("{:?}", a), format!("{:?}", rows[1]));
    crate::rsi::rsi(&x, 14, 14, Convention::Pandas, &mut a);
    assert_eq!(format!("{:?}", a), format!("{:?}", rows[2]));
    let (mut m, mut u, mut l) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    bollinger(&x, 20, 2.0, 1, 20, &mut [&mut m, &mut u, &mut l]);
    assert_eq!(format!("{:?}", m), format!("{:?}", rows[3]));
    assert_eq!(format!("{:?}", u), format!("{:?}", rows[4]));
    assert_eq!(format!("{:?}", l), format!("{:?}", rows[5]));
}

/// The general path alone, bar by bar (what a stream of the window states computes).
fn general_only(x: &[f64]) -> Vec<Vec<f64>> {
    let mut rows = vec![vec![0.0; x.len()]; OUTPUTS];
    let mut s = Series::default();
    for t in 0..x.len() {
        for (row, v) in rows.iter_mut().zip(s.step(x, t)) {
            row[t] = v;
        }
    }
    rows
}

fn bits(rows: &[Vec<f64>]) -> Vec<Vec<u64>> {
    rows.iter()
        .map(|r| r.iter().map(|v| v.to_bits()).collect())
        .collect()
}

/// Random walks with NaN runs, leading/trailing NaNs, flat runs and jumps of twelve orders
/// of magnitude, one series per kind of trouble.
fn hostile_panel(n_assets: usize, n_bars: usize) -> Vec<f64> {
    let mut state = 99u64;
    let mut u = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut x = Vec::with_capacity(n_assets * n_bars);
    for a in 0..n_assets {
        let mut p = 100.0;
        for t in 0..n_bars {
            p *= 1.0 + 0.04 * (u() - 0.5);
            let mut v = p;
            match a % 8 {
                1 if t % 211 < 3 => v = f64::NAN,
                2 if t < 70 || t > n_bars - 30 => v = f64::NAN,
                3 if (t / 90) % 2 == 1 => v = 42.0,
                4 => v = p * 10f64.powi(((t / 120) % 13) as i32 - 6),
                5 if u() < 0.02 => v = f64::NAN,
                6 if t % 300 > 250 => v = (p * 4.0).round() / 4.0,
                // 1e6-scale prices, then nearly constant 1e-6 values (std ~1e-16).
                7 if (t / 80) % 2 == 1 => v = 1e-6 * (1.0 + 1e-10 * (u() - 0.5)),
                7 => v = p * 1e4,
                _ => {}
            }
            x.push(v);
        }
    }
    x
}

#[test]
fn every_path_gives_the_same_bits() {
    let (n_assets, n_bars) = (27, 700);
    // Assets 0, 3, 4, 6 first: a block without NaN in its warm-up.
    let raw = hostile_panel(n_assets, n_bars);
    let order: Vec<usize> = [0, 3, 4, 6]
        .into_iter()
        .chain((0..n_assets).filter(|a| ![0, 3, 4, 6].contains(a)))
        .collect();
    let x: Vec<f64> = order
        .iter()
        .flat_map(|a| raw[a * n_bars..(a + 1) * n_bars].iter().copied())
        .collect();
    let cells = n_assets * n_bars;
    let mut out: Vec<Vec<f64>> = vec![vec![0.0; cells]; OUTPUTS];
    for threads in [1, 2, 3] {
        crate::pool::install(threads, || {
            let [a, b, c, d, e, f] = &mut out[..] else {
                unreachable!()
            };
            let outs = [a, b, c, d, e, f].map(|o| Output::F64(o));
            standard_panel(&x, n_assets, n_bars, outs).unwrap()
        })
        .unwrap();
        for a in 0..n_assets {
            let row = &x[a * n_bars..(a + 1) * n_bars];
            let panel: Vec<Vec<f64>> = out
                .iter()
                .map(|o| o[a * n_bars..(a + 1) * n_bars].to_vec())
                .collect();
            let mut single = vec![vec![0.0; n_bars]; OUTPUTS];
            {
                let mut refs: Vec<&mut [f64]> =
                    single.iter_mut().map(|r| r.as_mut_slice()).collect();
                standard(row, &mut refs);
            }
            let general = general_only(row);
            assert_eq!(
                bits(&panel),
                bits(&general),
                "panel vs general path, asset {a}, {threads} threads"
            );
            assert_eq!(
                bits(&single),
                bits(&general),
                "one series vs general path, asset {a}"
            );
        }
    }
}

/// Mean and `M2` of the valid values by the corrected two-pass algorithm.
fn two_pass(values: &[f64]) -> (f64, f64) {
    let v: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let (s1, s2) = v.iter().fold((0.0, 0.0), |(a, b), x| {
        (a + (x - mean), b + (x - mean) * (x - mean))
    });
    (mean + s1 / n, s2 - s1 * s1 / n)
}

#[test]
fn stays_exact_on_hostile_data() {
    let (n_assets, n_bars) = (8, 1500);
    let x = hostile_panel(n_assets, n_bars);
    let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * b.abs();
    for a in 0..n_assets {
        let row = &x[a * n_bars..(a + 1) * n_bars];
        let mut s = Series::default();
        for t in 0..n_bars {
            let out = s.step(row, t);
            let w20 = &row[window_start(t, 20)..=t];
            if s.w20.count() >= 2 {
                let (mean, m2) = two_pass(w20);
                assert!(close(s.w20.mean(), mean, 1e-13), "mean20 {a} {t}");
                assert!(
                    close(s.w20.m2(), m2, 1e-12),
                    "m2 {a} {t}: {} vs {m2}",
                    s.w20.m2()
                );
                if w20.iter().filter(|v| !v.is_nan()).all(|v| *v == s.w20.last) {
                    assert_eq!(
                        (s.w20.mean(), s.w20.m2()),
                        (s.w20.last, 0.0),
                        "flat window {a} {t}"
                    );
                }
            }
            if s.w50.count() >= 1 {
                assert!(
                    close(out[1], two_pass(&row[window_start(t, 50)..=t]).0, 1e-13),
                    "mean50 {a} {t}"
                );
            }
            if s.cutler.count() >= RSI {
                let d: Vec<f64> = (window_start(t, RSI)..=t).map(|j| change(row, j)).collect();
                let g: f64 = d.iter().map(|v| gain(*v)).sum();
                let l: f64 = d.iter().map(|v| loss(*v)).sum();
                assert!(
                    close(s.cutler.gains.sum(), g, 1e-13) && close(s.cutler.losses.sum(), l, 1e-13),
                    "rsi sums {a} {t}"
                );
                let rsi = 100.0 * g / (g + l);
                let ok = (out[2] - rsi).abs() <= 1e-13 * rsi.max(1.0)
                    || (rsi.is_nan() && out[2].is_nan());
                assert!(ok, "rsi {a} {t}: {} vs {rsi}", out[2]);
            }
        }
    }
}

#[test]
fn streamed_outputs_at_any_alignment_are_the_same() {
    let n_assets = 8;
    for n_bars in [51, 60, 117, 190, 700] {
        let x = hostile_panel(n_assets, n_bars);
        // Lane sets with and without NaN in the warm-up (kinds 0, 3, 4, 6, 7 have none there).
        for assets in [[0, 1, 2, 3], [4, 5, 6, 7], [0, 3, 4, 6], [3, 4, 6, 7]] {
            let rows: Vec<&[f64]> = assets
                .iter()
                .map(|a| &x[a * n_bars..(a + 1) * n_bars])
                .collect();
            for stream in [false, true] {
                // Every output row starts at its own offset (0..3 values) from a 32-byte boundary.
                let mut store = vec![vec![0.0; n_bars + 8]; LANES * OUTPUTS];
                let mut out: Vec<&mut [f64]> = store
                    .iter_mut()
                    .enumerate()
                    .map(|(r, v)| {
                        let skew = (4 - (v.as_ptr() as usize / 8) % 4) % 4;
                        &mut v[skew + r % 4..skew + r % 4 + n_bars]
                    })
                    .collect();
                run4(&rows, &mut out, stream);
                for (i, row) in rows.iter().enumerate() {
                    let got: Vec<Vec<f64>> = out[i * OUTPUTS..(i + 1) * OUTPUTS]
                        .iter()
                        .map(|r| r.to_vec())
                        .collect();
                    assert_eq!(
                        bits(&got),
                        bits(&general_only(row)),
                        "{n_bars} bars, lane {i}, stream {stream}"
                    );
                }
            }
        }
    }
}

/// The portable path (taken where the CPU lacks AVX2, e.g. on aarch64) must give the same bits as
/// the general path too; run it explicitly since this machine would otherwise pick AVX2.
#[test]
fn portable_path_gives_the_same_bits() {
    let (n_assets, n_bars) = (9, 640);
    let x = hostile_panel(n_assets, n_bars);
    for a in 0..n_assets {
        let row = &x[a * n_bars..(a + 1) * n_bars];
        let mut portable = vec![vec![0.0; n_bars]; OUTPUTS];
        {
            let mut refs: Vec<&mut [f64]> = portable.iter_mut().map(|r| r.as_mut_slice()).collect();
            advance(
                &mut Scalar::<FinishEach>::new(),
                &mut Series::default(),
                row,
                &mut refs,
                0,
                n_bars,
            );
        }
        assert_eq!(
            bits(&portable),
            bits(&general_only(row)),
            "portable vs general path, asset {a}"
        );
    }
}
