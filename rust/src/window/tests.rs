//! Window moments against exact two-pass values (across scales, on flat and on emptied windows),
//! and the four-lane arithmetic against the scalar one bit for bit.

use super::*;

fn exact(values: &[f64]) -> (f64, f64) {
    let v: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    (mean, v.iter().map(|x| (x - mean) * (x - mean)).sum())
}

#[test]
fn tracks_exact_moments_across_twelve_orders_of_magnitude() {
    let mut x = Vec::new();
    let mut state = 12345u64;
    for i in 0..5000 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let u = (state >> 11) as f64 / (1u64 << 53) as f64;
        let scale = 10f64.powi((i / 300) % 13 - 6);
        x.push(if i % 97 == 5 {
            f64::NAN
        } else {
            scale * (1.0 + 0.02 * (u - 0.5))
        });
    }
    let n = 20;
    let mut w = Window::<true>::new();
    for t in 0..x.len() {
        let win = &x[window_start(t, n)..=t];
        w.slide(x[t], leaving(&x, t, n), || slice_window(win));
        if w.count() < 2 {
            continue;
        }
        let (mean, m2) = (w.mean(), w.m2());
        let (em, em2) = exact(win);
        assert!(
            ((mean - em) / em).abs() < 1e-13,
            "mean at {t}: {mean} vs {em}"
        );
        assert!(((m2 - em2) / em2).abs() < 1e-12, "m2 at {t}: {m2} vs {em2}");
    }
}

#[test]
fn flat_windows_are_exact() {
    let x = [1e6, 3.0, 0.1, 0.1, 0.1, 0.1];
    let mut w = Window::<true>::new();
    for t in 0..x.len() {
        w.slide(x[t], leaving(&x, t, 3), || {
            slice_window(&x[window_start(t, 3)..=t])
        });
    }
    let (mean, m2) = (w.mean(), w.m2());
    assert_eq!((mean, m2), (0.1, 0.0));
}

#[test]
fn all_nan_window_resets() {
    let x = [5.0, f64::NAN, f64::NAN, 7.0];
    let mut w = Window::<false>::new();
    for t in 0..x.len() {
        w.slide(x[t], leaving(&x, t, 2), || {
            slice_window(&x[window_start(t, 2)..=t])
        });
    }
    assert_eq!(w.count(), 1);
    assert_eq!(w.mean(), 7.0);
}

#[test]
#[cfg(target_arch = "x86_64")]
fn four_lanes_give_the_bits_of_one() {
    if !std::arch::is_x86_feature_detected!("avx") {
        return;
    }
    let mut a = Sum2::<f64> {
        anchor: 1.5,
        s1: 0.25,
        s2: 3.0,
        mass1: 1.0,
        mass2: 2.0,
    };
    let mut v = Sum2::<F4> {
        anchor: F4::splat(1.5),
        s1: F4::splat(0.25),
        s2: F4::splat(3.0),
        mass1: F4::splat(1.0),
        mass2: F4::splat(2.0),
    };
    let no = F4::splat(0.0).ge(F4::splat(1.0));
    for i in 0..50 {
        let (x_in, x_out) = (1.0 + 0.37 * i as f64, 0.3 * i as f64);
        let ok = a.slide_valid(x_in, x_out, 0.05);
        let okv = v.slide_valid(F4::splat(x_in), F4::splat(x_out), F4::splat(0.05));
        assert!((0..4).all(|l| F4::mask_lane(okv, l) == ok));
        let m2 = v.m2(no, F4::splat(0.05)).to_array();
        assert!(m2
            .iter()
            .all(|m| m.to_bits() == a.m2(false, 0.05).to_bits()));
    }
    let t = F4::transpose(
        [0.0, 4.0, 8.0, 12.0].map(|b| F4::from_array([b, b + 1.0, b + 2.0, b + 3.0])),
    );
    assert_eq!(
        t.map(|v| v.to_array()),
        [
            [0.0, 4.0, 8.0, 12.0],
            [1.0, 5.0, 9.0, 13.0],
            [2.0, 6.0, 10.0, 14.0],
            [3.0, 7.0, 11.0, 15.0]
        ]
    );
}
