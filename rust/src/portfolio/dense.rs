//! Small dense linear algebra for the reduced systems: a few dozen rows at most, so plain loops
//! beat calling out to a BLAS.

/// In-place lower Cholesky factor of the `m × m` row-major matrix `a` (upper triangle ignored).
/// A pivot below `floor` is raised to `floor`, which keeps dependent equality rows (a budget row
/// repeated in a group) solvable: their multipliers share the load instead of blowing up.
pub fn cholesky(a: &mut [f64], m: usize, floor: f64) -> bool {
    for j in 0..m {
        let mut d = a[j * m + j];
        for l in 0..j {
            d -= a[j * m + l] * a[j * m + l];
        }
        if !d.is_finite() {
            return false;
        }
        let d = d.max(floor).sqrt();
        a[j * m + j] = d;
        for i in j + 1..m {
            let mut s = a[i * m + j];
            for l in 0..j {
                s -= a[i * m + l] * a[j * m + l];
            }
            a[i * m + j] = s / d;
        }
    }
    true
}

/// Solves `L L' x = b` in place for the factor written by [`cholesky`].
pub fn cholesky_solve(l: &[f64], m: usize, b: &mut [f64]) {
    for i in 0..m {
        let mut s = b[i];
        for j in 0..i {
            s -= l[i * m + j] * b[j];
        }
        b[i] = s / l[i * m + i];
    }
    for i in (0..m).rev() {
        let mut s = b[i];
        for j in i + 1..m {
            s -= l[j * m + i] * b[j];
        }
        b[i] = s / l[i * m + i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_spd_system() {
        let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let mut l = a;
        assert!(cholesky(&mut l, 3, 1e-300));
        let x = [1.0, -2.0, 0.5];
        let mut b = [0.0; 3];
        for i in 0..3 {
            for j in 0..3 {
                b[i] += a[i * 3 + j] * x[j];
            }
        }
        cholesky_solve(&l, 3, &mut b);
        for i in 0..3 {
            assert!((b[i] - x[i]).abs() < 1e-14);
        }
    }
}
