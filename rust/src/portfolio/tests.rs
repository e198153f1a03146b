//! Small problems with known answers for the structured interior-point method.
#![allow(clippy::needless_range_loop)] // dense oracles read best with explicit indices

use super::qp::{solve, Qp, Settings, Status};
use crate::error::Error;

const SETTINGS: Settings = Settings {
    tol: 1e-11,
    max_iter: 100,
};

/// Bounds `lo ≤ z ≤ hi` as per-asset rows (`-z ≤ -lo`, `z ≤ hi`).
fn box_rows(lo: &[f64], hi: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut la = Vec::new();
    let mut lb = Vec::new();
    for (l, h) in lo.iter().zip(hi) {
        la.extend([-1.0, 1.0]);
        lb.extend([-l, *h]);
    }
    (la, lb)
}

#[test]
fn budget_only_matches_the_closed_form() {
    // H = diag(d) + v v', min ½ z'Hz + q'z s.t. Σz = 1. KKT: H z + q + y 1 = 0.
    let d = [2.0, 3.0, 4.0];
    let v = [1.0, 0.5, -0.5];
    let q = [-1.0, 0.5, 0.2];
    let (la, lb) = box_rows(&[-1e300; 3], &[1e300; 3]);
    let lb: Vec<f64> = lb
        .iter()
        .map(|b| if b.abs() > 1e299 { f64::INFINITY } else { *b })
        .collect();
    let ones = [1.0; 3];
    let qp = Qp {
        n: 3,
        p: 1,
        k: 1,
        r: 2,
        hd: &d,
        v: &v,
        q: &q,
        la: &la,
        lb: &lb,
        ae: &ones,
        be: &[1.0],
        ag: &[],
        hg: &[],
    };
    let sol = solve(&qp, SETTINGS, None, None).unwrap();
    assert_eq!(sol.status, Status::Optimal);
    // Dense KKT solved by Gaussian elimination as the oracle.
    let mut m = [[0.0; 5]; 4];
    for i in 0..3 {
        for j in 0..3 {
            m[i][j] = v[i] * v[j] + if i == j { d[i] } else { 0.0 };
        }
        m[i][3] = 1.0;
        m[3][i] = 1.0;
        m[i][4] = -q[i];
    }
    m[3][4] = 1.0;
    for c in 0..4 {
        let piv = (c..4)
            .max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs()))
            .unwrap();
        m.swap(c, piv);
        for r in 0..4 {
            if r != c {
                let f = m[r][c] / m[c][c];
                for k in c..5 {
                    m[r][k] -= f * m[c][k];
                }
            }
        }
    }
    for i in 0..3 {
        let exact = m[i][4] / m[i][i];
        assert!((sol.z[i] - exact).abs() < 1e-10, "{} vs {exact}", sol.z[i]);
    }
}

#[test]
fn an_active_upper_bound_is_met_exactly_enough() {
    // min ½|z|² - 10 z0 s.t. z0 + z1 = 1, 0 ≤ z ≤ 0.6: z = (0.6, 0.4).
    let (la, lb) = box_rows(&[0.0, 0.0], &[0.6, 0.6]);
    let qp = Qp {
        n: 2,
        p: 1,
        k: 0,
        r: 2,
        hd: &[1.0, 1.0],
        v: &[],
        q: &[-10.0, 0.0],
        la: &la,
        lb: &lb,
        ae: &[1.0, 1.0],
        be: &[1.0],
        ag: &[],
        hg: &[],
    };
    let sol = solve(&qp, SETTINGS, None, None).unwrap();
    assert_eq!(sol.status, Status::Optimal);
    assert!((sol.z[0] - 0.6).abs() < 1e-9 && (sol.z[1] - 0.4).abs() < 1e-9);
    // Stationarity: z1 + y = 0 (z1 free) gives y = -0.4; z0 - 10 + y + λ = 0 gives λ = 9.8.
    assert!(
        (sol.lam_local[1] - 9.8).abs() < 1e-6,
        "{}",
        sol.lam_local[1]
    );
}

#[test]
fn infeasible_bounds_are_not_reported_optimal() {
    let (la, lb) = box_rows(&[0.0; 3], &[0.1; 3]);
    let qp = Qp {
        n: 3,
        p: 1,
        k: 0,
        r: 2,
        hd: &[1.0; 3],
        v: &[],
        q: &[0.0; 3],
        la: &la,
        lb: &lb,
        ae: &[1.0; 3],
        be: &[1.0],
        ag: &[],
        hg: &[],
    };
    let sol = solve(&qp, SETTINGS, None, None).unwrap();
    assert_ne!(sol.status, Status::Optimal);
    assert!(sol.z.iter().all(|z| z.is_finite()));
}

#[test]
fn bad_inputs_are_typed_errors() {
    let (la, lb) = box_rows(&[0.0; 2], &[1.0; 2]);
    let base = Qp {
        n: 2,
        p: 1,
        k: 0,
        r: 2,
        hd: &[1.0, 1.0],
        v: &[],
        q: &[0.0, 0.0],
        la: &la,
        lb: &lb,
        ae: &[1.0, 1.0],
        be: &[1.0],
        ag: &[],
        hg: &[],
    };
    let short = Qp { q: &[0.0], ..base };
    assert!(matches!(
        solve(&short, SETTINGS, None, None),
        Err(Error::ShapeMismatch { name: "q", .. })
    ));
    let nan = Qp {
        q: &[f64::NAN, 0.0],
        ..base
    };
    assert!(matches!(
        solve(&nan, SETTINGS, None, None),
        Err(Error::NonFinite { name: "q", .. })
    ));
    let negative = Qp {
        hd: &[-1.0, 1.0],
        ..base
    };
    assert!(matches!(
        solve(&negative, SETTINGS, None, None),
        Err(Error::InvalidParameter { name: "hd", .. })
    ));
    let three = Qp { p: 3, ..base };
    assert!(matches!(
        solve(&three, SETTINGS, None, None),
        Err(Error::InvalidParameter { name: "p", .. })
    ));
}
