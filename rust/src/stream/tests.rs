use super::*;
use crate::convention::Convention::{Pandas, Talib};
use crate::standard::OUTPUTS;

/// A two-thread crew when `on` (updates shared with a helper), else the calling thread alone.
fn crew(on: bool) -> Option<&'static crate::crew::Crew> {
    static CREW: std::sync::OnceLock<std::sync::Arc<crate::crew::Crew>> =
        std::sync::OnceLock::new();
    on.then(|| &**CREW.get_or_init(|| crate::crew::get(2).unwrap()))
}

/// Prices with NaN runs, a late listing, an early delisting and a flat run.
fn panel(n: usize, bars: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut state = seed;
    let mut rnd = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut c, mut h, mut l) = (vec![], vec![], vec![]);
    for i in 0..n {
        let mut p = 50.0 + 100.0 * rnd();
        for t in 0..bars {
            p *= 1.0 + 0.02 * (rnd() - 0.5);
            let gap = (i % 3 == 1 && (40..47).contains(&t)) || (i % 4 == 2 && t < 30);
            let gone = i % 5 == 3 && t > bars - 20;
            let flat = i % 6 == 5 && (100..130).contains(&t);
            let v = if gap || gone {
                f64::NAN
            } else if flat {
                42.0
            } else {
                p
            };
            c.push(v);
            h.push(v + rnd());
            l.push(v - rnd());
        }
    }
    (c, h, l)
}

fn specs() -> Vec<Spec> {
    vec![
        Spec::Standard,
        Spec::Sma {
            period: 20,
            min_periods: 20,
        },
        Spec::Ema {
            period: 12,
            convention: Talib,
        },
        Spec::Ema {
            period: 12,
            convention: Pandas,
        },
        Spec::Rsi {
            period: 14,
            min_periods: 14,
            convention: Pandas,
        },
        Spec::Rsi {
            period: 14,
            min_periods: 14,
            convention: Talib,
        },
        Spec::Bollinger {
            period: 20,
            k: 2.0,
            ddof: 0,
            min_periods: 20,
        },
        Spec::Macd {
            fast: 12,
            slow: 26,
            signal: 9,
            convention: Talib,
        },
        Spec::Atr {
            period: 14,
            convention: Pandas,
            normalised: false,
        },
    ]
}

/// Batch outputs, `[bar][symbol][output]`, from the batch kernels of each spec.
fn batch(c: &[f64], h: &[f64], l: &[f64], n: usize, bars: usize) -> Vec<Vec<Vec<f64>>> {
    let mut res = vec![vec![Vec::new(); n]; bars];
    for i in 0..n {
        let r = i * bars..(i + 1) * bars;
        let (x, hh, ll) = (&c[r.clone()], &h[r.clone()], &l[r]);
        let mut cols: Vec<Vec<f64>> = Vec::new();
        let mut k = |f: &mut dyn FnMut(&mut [&mut [f64]]), width: usize| {
            let mut o = vec![vec![0.0; bars]; width];
            let mut refs: Vec<&mut [f64]> = o.iter_mut().map(|v| v.as_mut_slice()).collect();
            f(&mut refs);
            cols.extend(o);
        };
        k(&mut |o| crate::standard::standard(x, o), 6);
        k(
            &mut |o| crate::rolling::rolling_stat(x, 20, 20, 0, crate::rolling::Stat::Mean, o[0]),
            1,
        );
        k(&mut |o| crate::ema::ema(x, 12, Talib, o[0]), 1);
        k(&mut |o| crate::ema::ema(x, 12, Pandas, o[0]), 1);
        k(&mut |o| crate::rsi::rsi(x, 14, 14, Pandas, o[0]), 1);
        k(&mut |o| crate::rsi::rsi(x, 14, 14, Talib, o[0]), 1);
        k(&mut |o| crate::bbands::bollinger(x, 20, 2.0, 0, 20, o), 3);
        k(&mut |o| crate::ema::macd(x, 12, 26, 9, Talib, o), 3);
        k(
            &mut |o| crate::range::atr(hh, ll, x, 14, Pandas, false, o[0]),
            1,
        );
        for (t, row) in res.iter_mut().enumerate() {
            row[i] = cols.iter().map(|col| col[t]).collect();
        }
    }
    res
}

fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn column(v: &[f64], n: usize, bars: usize, t: usize) -> Vec<f64> {
    (0..n).map(|i| v[i * bars + t]).collect()
}

/// Bar `t` of the close, high and low panels (one value per symbol each).
fn bar_columns(panels: [&[f64]; 3], n: usize, bars: usize, t: usize) -> [Vec<f64>; 3] {
    panels.map(|p| column(p, n, bars, t))
}

/// The tick of [`bar_columns`].
fn tick_of(cols: &[Vec<f64>; 3]) -> Tick<'_> {
    Tick {
        close: &cols[0],
        high: &cols[1],
        low: &cols[2],
    }
}

#[test]
fn stream_equals_batch_bit_for_bit_with_peek_and_checkpoints() {
    stream_equals_batch(false);
    stream_equals_batch(true);
}

fn stream_equals_batch(lanes: bool) {
    let (n, bars) = (11, 260);
    let (c, h, l) = panel(n, bars, 7);
    let expected = batch(&c, &h, &l, n, bars);
    let mut s = Stream::new(specs(), n).unwrap();
    if !lanes {
        s = s.without_lanes();
    }
    let width = s.outputs();
    let (mut out, mut peeked) = (vec![0.0; n * width], vec![0.0; n * width]);
    for (t, want) in expected.iter().enumerate() {
        let cols = bar_columns([&c, &h, &l], n, bars, t);
        let tick = tick_of(&cols);
        s.update(tick, &mut peeked, false, crew(t % 2 == 0))
            .unwrap();
        s.update(tick, &mut out, true, crew(t % 3 == 0)).unwrap();
        assert!(same(&out, &peeked), "peek differs at bar {t}");
        assert!(
            same(&out, &want.concat()),
            "bar {t}: stream differs from batch"
        );
        if t % 37 == 5 {
            let bytes = s.checkpoint(b"hdr").unwrap();
            let (header, restored) = decode(&bytes).unwrap();
            assert_eq!(header, b"hdr");
            s = if lanes {
                restored
            } else {
                restored.without_lanes()
            };
        }
    }
}

#[test]
fn warm_then_update_equals_batch_and_symbols_come_and_go() {
    let (n, bars) = (6, 120);
    let (c, h, l) = panel(n, bars, 3);
    let expected = batch(&c, &h, &l, n, bars);
    let mut s = Stream::new(specs(), n).unwrap();
    let width = s.outputs();
    let head = 100;
    let hist = |v: &[f64]| -> Vec<f64> {
        (0..n)
            .flat_map(|i| v[i * bars..i * bars + head].to_vec())
            .collect()
    };
    let mut last = vec![0.0; n * width];
    s.warm(&hist(&c), &hist(&h), &hist(&l), head, &mut last, true)
        .unwrap();
    assert!(same(&last, &expected[head - 1].concat()));
    s.remove(&[4, 1]).unwrap();
    s.add(1);
    let kept = [0, 2, 3, 5];
    let mut out = vec![0.0; 5 * width];
    for t in head..bars {
        let pick = |v: &[f64]| -> Vec<f64> {
            let mut r: Vec<f64> = kept.iter().map(|&i| v[i * bars + t]).collect();
            r.push(f64::NAN);
            r
        };
        let (cc, hh, ll) = (pick(&c), pick(&h), pick(&l));
        s.update(
            Tick {
                close: &cc,
                high: &hh,
                low: &ll,
            },
            &mut out,
            true,
            crew(false),
        )
        .unwrap();
        for (j, &i) in kept.iter().enumerate() {
            assert!(same(&out[j * width..(j + 1) * width], &expected[t][i]));
        }
        assert!(out[4 * width..].iter().all(|v| v.is_nan()));
    }
}

#[test]
fn bad_input_is_refused_before_anything_changes() {
    let mut s = Stream::new(vec![Spec::Standard], 3).unwrap();
    let mut out = vec![0.0; 18];
    let before = s.checkpoint(b"").unwrap();
    let bad = [1.0, f64::INFINITY, 2.0];
    let e = s
        .update(
            Tick {
                close: &bad,
                high: &[],
                low: &[],
            },
            &mut out,
            true,
            crew(false),
        )
        .unwrap_err();
    assert!(matches!(e, Error::NonFinite { asset: 1, .. }));
    let short = [1.0, 2.0];
    assert!(s
        .update(
            Tick {
                close: &short,
                high: &[],
                low: &[],
            },
            &mut out,
            true,
            crew(true)
        )
        .is_err());
    assert_eq!(s.checkpoint(b"").unwrap(), before);
    assert!(s.remove(&[3]).is_err());
    assert!(s.remove(&[1, 1]).is_err());
    assert!(Stream::new(vec![], 1).is_err());
    assert!(Stream::new(
        vec![Spec::Sma {
            period: 0,
            min_periods: 0
        }],
        1
    )
    .is_err());
}

#[test]
fn corrupt_checkpoints_are_refused() {
    let mut s = Stream::new(specs(), 2).unwrap();
    let mut last = vec![0.0; 2 * s.outputs()];
    let x: Vec<f64> = (0..60).map(|v| 10.0 + v as f64).collect();
    s.warm(&x, &x, &x, 30, &mut last, false).unwrap();
    let bytes = s.checkpoint(b"{}").unwrap();
    assert!(decode(&bytes).is_ok());
    for cut in [0, 7, 20, bytes.len() / 2, bytes.len() - 1] {
        assert!(decode(&bytes[..cut]).is_err(), "truncated at {cut}");
    }
    for pos in [3, 9, 40, bytes.len() / 2, bytes.len() - 2] {
        let mut b = bytes.clone();
        b[pos] ^= 0x10;
        let e = decode(&b).unwrap_err();
        assert_eq!(e.kind(), "CheckpointError");
    }
}

/// Feeds the closes `c` (`n` symbols x `bars`) to a stream of the standard set alone, one bar at a
/// time, and checks every bar's outputs against the batch kernels, bit for bit.
fn assert_standard_stream_equals_batch(c: &[f64], n: usize, bars: usize) {
    let expected = batch(c, c, c, n, bars);
    let mut s = Stream::new(vec![Spec::Standard], n).unwrap();
    let mut out = vec![0.0; n * OUTPUTS];
    for (t, want) in expected.iter().enumerate() {
        let x = column(c, n, bars, t);
        let tick = Tick {
            close: &x,
            high: &[],
            low: &[],
        };
        s.update(tick, &mut out, true, crew(false)).unwrap();
        let want: Vec<f64> = want.iter().flat_map(|w| w[..OUTPUTS].to_vec()).collect();
        assert!(same(&out, &want), "bar {t}");
    }
}

#[test]
fn hostile_magnitudes_take_the_recompute_paths_and_stay_exact() {
    // Four NaN-free series (one lane group) jumping between 1e6 and 1e-6 scales: every rounding
    // test fails now and then, so the lanes' recompute and exact two-pass fallbacks run.
    let (n, bars) = (4, 400);
    let mut c = Vec::with_capacity(n * bars);
    for i in 0..n {
        for t in 0..bars {
            let scale = if (t / (37 + 11 * i)) % 2 == 0 {
                1e6
            } else {
                1e-6
            };
            c.push(scale * (1.0 + 0.01 * ((t * 7 + i * 3) % 13) as f64));
        }
    }
    assert_standard_stream_equals_batch(&c, n, bars);
}

#[test]
fn a_fall_of_21_orders_of_magnitude_takes_the_exact_fallback_and_stays_exact() {
    // Prices near 1e15, then near 1e-6: when the last large ones leave a window, the state's
    // estimate of the mean is off by about an ulp of 1e15, far beyond the new values, so the
    // fresh sums fail their test too and the exact two-pass sums run, on rows made from the
    // ring's window (each series falls at its own bar).
    let (n, bars) = (8, 200);
    let mut c = Vec::with_capacity(n * bars);
    for i in 0..n {
        for t in 0..bars {
            let scale = if t < 80 + 5 * i { 1e15 } else { 1e-6 };
            c.push(scale * (1.0 + 0.01 * ((t * 7 + i * 3) % 13) as f64));
        }
    }
    assert_standard_stream_equals_batch(&c, n, bars);
}

#[test]
fn standard_set_alone_in_the_ring_layout_equals_batch() {
    // The standard set alone takes the ring layout: groups enter and leave the lanes on NaN
    // gaps and halts, peeks (also of a NaN that would take a group out of the lanes) change
    // nothing, and checkpoints, warm-ups and removed or added symbols rebuild the ring.
    let (n, bars) = (23, 330);
    let (mut c, h, l) = panel(n, bars, 11);
    for i in 0..n {
        for t in 0..bars {
            if (i % 7 == 0 && (150..153).contains(&t)) || (i % 4 == 1 && t == 200 + i) {
                c[i * bars + t] = f64::NAN;
            }
        }
    }
    let expected = batch(&c, &h, &l, n, bars);
    let want = |t: usize, i: usize| expected[t][i][..OUTPUTS].to_vec();
    let mut s = Stream::new(vec![Spec::Standard], n).unwrap();
    let head = 60;
    let hist: Vec<f64> = (0..n)
        .flat_map(|i| c[i * bars..i * bars + head].to_vec())
        .collect();
    let mut last = vec![0.0; n * OUTPUTS];
    s.warm(&hist, &[], &[], head, &mut last, false).unwrap();
    for i in 0..n {
        assert!(same(&last[i * OUTPUTS..][..OUTPUTS], &want(head - 1, i)));
    }
    // Symbols of the stream, as indices into the panel (usize::MAX: added, no bars).
    let mut ids: Vec<usize> = (0..n).collect();
    for t in head..bars {
        if t == 240 {
            s.remove(&[2, 9]).unwrap();
            ids.retain(|&i| i != 2 && i != 9);
        }
        if t == 250 {
            s.add(1);
            ids.push(usize::MAX);
        }
        let m = ids.len();
        let x: Vec<f64> = ids
            .iter()
            .map(|&i| {
                if i == usize::MAX {
                    f64::NAN
                } else {
                    c[i * bars + t]
                }
            })
            .collect();
        fn tick(x: &[f64]) -> Tick<'_> {
            Tick {
                close: x,
                high: &[],
                low: &[],
            }
        }
        let (mut out, mut peeked) = (vec![0.0; m * OUTPUTS], vec![0.0; m * OUTPUTS]);
        if t % 5 == 0 {
            let mut y = x.clone();
            y[0] = f64::NAN;
            y[m - 2] = f64::NAN;
            s.update(tick(&y), &mut peeked, false, crew(t % 2 == 0))
                .unwrap();
        }
        s.update(tick(&x), &mut peeked, false, crew(false)).unwrap();
        s.update(tick(&x), &mut out, true, crew(t % 3 == 0))
            .unwrap();
        assert!(same(&out, &peeked), "peek differs at bar {t}");
        for (j, &i) in ids.iter().enumerate() {
            let got = &out[j * OUTPUTS..][..OUTPUTS];
            if i == usize::MAX {
                assert!(got.iter().all(|v| v.is_nan()));
            } else {
                assert!(same(got, &want(t, i)), "bar {t}, symbol {i}");
            }
        }
        if t % 41 == 7 {
            let bytes = s.checkpoint(b"").unwrap();
            s = decode(&bytes).unwrap().1;
        }
    }
}

#[test]
fn the_infinity_check_finds_the_first_one_on_every_path() {
    // The AVX2 build of the check (taken on this machine where it has AVX2) and the portable one
    // must name the same position, NaN being no infinity.
    for n in [0usize, 1, 63, 64, 65, 200, 4000] {
        for at in [None, Some(0), Some(n / 2), Some(n.saturating_sub(1))] {
            let mut v: Vec<f64> = (0..n)
                .map(|i| if i % 7 == 3 { f64::NAN } else { i as f64 })
                .collect();
            let want = at.filter(|&p| p < n);
            if let Some(p) = want {
                v[p] = f64::NEG_INFINITY;
                v[n - 1] = f64::INFINITY;
            }
            assert_eq!(first_infinite(&v), want, "n = {n}");
            assert_eq!(first_infinite_in(&v), want, "n = {n}");
        }
    }
}

#[test]
fn updates_shared_with_a_crew_equal_the_calling_thread_alone() {
    // Enough symbols for several chunks, so the helper really takes some; both the general
    // layout (several indicators) and the ring layout (the standard set alone).
    let (n, bars) = (CHUNK * 5 + 37, 120);
    let (c, h, l) = panel(n, bars, 5);
    for specs in [specs(), vec![Spec::Standard]] {
        let mut alone = Stream::new(specs.clone(), n).unwrap();
        let mut shared = Stream::new(specs, n).unwrap();
        let width = alone.outputs();
        let (mut a, mut b) = (vec![0.0; n * width], vec![0.0; n * width]);
        for t in 0..bars {
            let cols = bar_columns([&c, &h, &l], n, bars, t);
            let tick = tick_of(&cols);
            for commit in [false, true] {
                alone.update(tick, &mut a, commit, crew(false)).unwrap();
                shared.update(tick, &mut b, commit, crew(true)).unwrap();
                assert!(same(&a, &b), "bar {t}, commit {commit}");
            }
        }
        assert_eq!(
            alone.checkpoint(b"").unwrap(),
            shared.checkpoint(b"").unwrap()
        );
    }
}
