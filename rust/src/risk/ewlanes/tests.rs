//! The lanes against one asset at a time.

use super::*;
use crate::risk::N_DESCRIPTORS;

/// Each asset's descriptor rows of `data` (`[asset][descriptor][date]`), as [`block`] takes them.
fn row_refs(data: &mut [Vec<Vec<f64>>]) -> Vec<[&mut [f64]; N_DESCRIPTORS]> {
    data.iter_mut()
        .map(|a| {
            let mut it = a.iter_mut();
            std::array::from_fn(|_| it.next().map(|r| &mut r[..]).unwrap_or(&mut []))
        })
        .collect()
}

/// Four assets in AVX lanes give the bits of each asset alone, with missing prices, late
/// listings, zero volume and no caps in the mix.
#[test]
fn lanes_match_one_asset_at_a_time() {
    #[cfg(target_arch = "x86_64")]
    if !std::arch::is_x86_feature_detected!("avx2") {
        return;
    }
    let t = 700;
    let mut close = vec![vec![0.0; t]; LANES];
    let mut volume = vec![vec![0.0; t]; LANES];
    for (a, (c, v)) in close.iter_mut().zip(volume.iter_mut()).enumerate() {
        let mut x = 50.0 + a as f64;
        for s in 0..t {
            x *= 1.0 + 0.02 * ((s * (a + 3)) as f64 * 0.37).sin();
            c[s] = if s < 40 * a || (s * 7 + a) % 53 == 0 {
                f64::NAN
            } else {
                x
            };
            v[s] = if (s + a) % 31 == 0 {
                0.0
            } else {
                1e5 * (1.0 + a as f64)
            };
        }
    }
    let mkt: Vec<f64> = (0..t).map(|s| 0.01 * (s as f64 * 0.11).cos()).collect();
    for with_caps in [false, true] {
        check(&close, &volume, &mkt, with_caps);
    }
}

fn check(close: &[Vec<f64>], volume: &[Vec<f64>], mkt: &[f64], with_caps: bool) {
    let t = mkt.len();
    let inputs: Vec<Inputs> = (0..LANES)
        .map(|a| Inputs {
            close: &close[a],
            volume: Some(&volume[a]),
            shares: None,
            caps: with_caps.then_some(&close[a][..]),
        })
        .collect();
    let p = DescriptorParams::default();
    let run = |one_by_one: bool| {
        let mut data = vec![vec![vec![0.0; t]; N_DESCRIPTORS]; LANES];
        let mut rows = row_refs(&mut data);
        let mut sc = Scratch::default();
        if one_by_one {
            for (a, o) in inputs.iter().zip(rows.iter_mut()) {
                block(
                    std::slice::from_ref(a),
                    mkt,
                    &p,
                    std::slice::from_mut(o),
                    &mut sc,
                );
            }
        } else {
            block(&inputs, mkt, &p, &mut rows, &mut sc);
        }
        data
    };
    let bits = |d: Vec<Vec<Vec<f64>>>| -> Vec<u64> {
        d.iter().flatten().flatten().map(|v| v.to_bits()).collect()
    };
    let (lanes, single) = (run(false), run(true));
    assert!(lanes[3][0][600].is_finite() && lanes[1][6][600].is_finite());
    assert_eq!(bits(lanes), bits(single));
}

/// Liquidity is the mean of the three windows' log mean activity also where the product of the
/// means overflows or underflows (the three-logarithm fallback), on both paths.
#[test]
fn liquidity_outside_the_normal_range_of_the_product() {
    let t = 300;
    let close = vec![50.0; t];
    let p = DescriptorParams::default();
    let mkt = vec![0.0; t];
    for scale in [1e148, 1e2, 1e-110] {
        let volume = vec![scale; t];
        let a = Inputs {
            close: &close,
            volume: Some(&volume),
            shares: None,
            caps: None,
        };
        let inputs = vec![a; LANES];
        let mut data = vec![vec![vec![0.0; t]; N_DESCRIPTORS]; LANES];
        let mut rows = row_refs(&mut data);
        let mut sc = Scratch::default();
        block(&inputs, &mkt, &p, &mut rows, &mut sc);
        block(&inputs[..1], &mkt, &p, &mut rows[..1], &mut sc);
        let want = (50.0 * scale).ln();
        for lane in &data {
            let (liq, size) = (lane[5][t - 1], lane[6][t - 1]);
            assert!(
                (liq - want).abs() <= 1e-13 * want.abs(),
                "{scale}: {liq} vs {want}"
            );
            assert!(
                (size - want).abs() <= 1e-13 * want.abs(),
                "{scale}: {size} vs {want}"
            );
        }
    }
}
