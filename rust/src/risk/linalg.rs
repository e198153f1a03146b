//! Small dense symmetric linear algebra (a few dozen unknowns) for the per-date systems: Cholesky
//! with collinear columns dropped, and Jacobi eigendecomposition. Matrices are row-major `p x p`.

/// Lanes of the interleaved partial sums in [`dot`].
const LANES: usize = 16;

/// `sum a_u b_u` in [`LANES`] interleaved partial sums, combined in a fixed tree: the order never
/// depends on the thread count or the CPU. Where AVX2 exists the same code is compiled for it:
/// every lane performs exactly the same multiply and add (no fused multiply-add), so both paths
/// give the same bits.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked above).
        return unsafe { dot_avx2(a, b) };
    }
    dot_lanes(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_avx2(a: &[f64], b: &[f64]) -> f64 {
    dot_lanes(a, b)
}

#[inline(always)]
fn dot_lanes(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            acc[l] += acc[l + width];
        }
    }
    acc[0] + tail
}

/// `sum a_u` in four interleaved partial sums, like [`dot`].
#[inline]
pub fn sum(a: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let ca = a.chunks_exact(4);
    let tail: f64 = ca.remainder().iter().sum();
    for x in ca {
        for l in 0..4 {
            acc[l] += x[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// A pivot below `REL_TOL` times its column's original diagonal (or a diagonal below `REL_TOL`
/// times the largest one) marks the column collinear with the earlier ones.
pub const REL_TOL: f64 = 1e-10;

/// Cholesky factor `L` of a symmetric matrix, with the columns found collinear dropped (their row
/// and column of `L` are zero and `kept[j]` is false).
pub struct Cholesky {
    pub p: usize,
    pub l: Vec<f64>,
    pub kept: Vec<bool>,
    /// Whether some pivot was clearly negative (the matrix is not positive semidefinite).
    pub negative: bool,
}

impl Cholesky {
    /// Factors `a` (only the lower triangle is read).
    pub fn new(a: &[f64], p: usize) -> Self {
        let mut l = vec![0.0; p * p];
        let mut kept = vec![false; p];
        let mut negative = false;
        let max_diag = (0..p).map(|j| a[j * p + j]).fold(0.0f64, f64::max);
        for j in 0..p {
            let orig = a[j * p + j];
            let mut d = orig;
            for k in 0..j {
                d -= l[j * p + k] * l[j * p + k];
            }
            if d < -REL_TOL * orig.max(REL_TOL * max_diag) || orig < 0.0 {
                negative = true;
            }
            if !(orig > REL_TOL * max_diag && d > REL_TOL * orig && d.is_finite()) {
                continue;
            }
            kept[j] = true;
            let ljj = d.sqrt();
            l[j * p + j] = ljj;
            for i in j + 1..p {
                let mut s = a[i * p + j];
                for k in 0..j {
                    s -= l[i * p + k] * l[j * p + k];
                }
                l[i * p + j] = s / ljj;
            }
        }
        Cholesky {
            p,
            l,
            kept,
            negative,
        }
    }

    /// Number of columns kept.
    pub fn rank(&self) -> usize {
        self.kept.iter().filter(|&&k| k).count()
    }

    /// Solves `A x = b` on the kept columns, in place; dropped unknowns are 0.
    pub fn solve(&self, b: &mut [f64]) {
        let p = self.p;
        for i in 0..p {
            if !self.kept[i] {
                b[i] = 0.0;
                continue;
            }
            let mut s = b[i];
            for k in 0..i {
                s -= self.l[i * p + k] * b[k];
            }
            b[i] = s / self.l[i * p + i];
        }
        for i in (0..p).rev() {
            if !self.kept[i] {
                continue;
            }
            let mut s = b[i];
            for k in i + 1..p {
                s -= self.l[k * p + i] * b[k];
            }
            b[i] = s / self.l[i * p + i];
        }
    }

    /// The inverse on the kept block (zero rows and columns for dropped unknowns).
    pub fn inverse(&self) -> Vec<f64> {
        let p = self.p;
        let mut inv = vec![0.0; p * p];
        let mut e = vec![0.0; p];
        for j in 0..p {
            if !self.kept[j] {
                continue;
            }
            e.iter_mut().for_each(|v| *v = 0.0);
            e[j] = 1.0;
            self.solve(&mut e);
            for i in 0..p {
                inv[i * p + j] = e[i];
            }
        }
        inv
    }
}

/// Eigendecomposition of a symmetric matrix by cyclic Jacobi rotations: returns the eigenvalues
/// (ascending) and the eigenvectors as the columns of a row-major matrix.
pub fn eigh(a: &[f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; p * p];
    for i in 0..p {
        v[i * p + i] = 1.0;
    }
    let scale: f64 = m.iter().map(|x| x * x).sum::<f64>().sqrt();
    for _sweep in 0..100 {
        let off: f64 = (0..p)
            .flat_map(|i| (0..p).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * p + j] * m[i * p + j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * scale || off == 0.0 {
            break;
        }
        for q in 1..p {
            for r in 0..q {
                let apq = m[r * p + q];
                if apq == 0.0 {
                    continue;
                }
                let app = m[r * p + r];
                let aqq = m[q * p + q];
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..p {
                    let mkr = m[k * p + r];
                    let mkq = m[k * p + q];
                    m[k * p + r] = c * mkr - s * mkq;
                    m[k * p + q] = s * mkr + c * mkq;
                }
                for k in 0..p {
                    let mrk = m[r * p + k];
                    let mqk = m[q * p + k];
                    m[r * p + k] = c * mrk - s * mqk;
                    m[q * p + k] = s * mrk + c * mqk;
                }
                for k in 0..p {
                    let vkr = v[k * p + r];
                    let vkq = v[k * p + q];
                    v[k * p + r] = c * vkr - s * vkq;
                    v[k * p + q] = s * vkr + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..p).collect();
    order.sort_by(|&i, &j| m[i * p + i].total_cmp(&m[j * p + j]).then(i.cmp(&j)));
    let vals: Vec<f64> = order.iter().map(|&i| m[i * p + i]).collect();
    let mut vecs = vec![0.0; p * p];
    for (newc, &oldc) in order.iter().enumerate() {
        for k in 0..p {
            vecs[k * p + newc] = v[k * p + oldc];
        }
    }
    (vals, vecs)
}

/// `U diag(d) U'` for eigenvectors `u` (columns) and values `d`.
pub fn compose(u: &[f64], d: &[f64], p: usize, out: &mut [f64]) {
    for i in 0..p {
        for j in 0..=i {
            let mut s = 0.0;
            for k in 0..p {
                s += u[i * p + k] * d[k] * u[j * p + k];
            }
            out[i * p + j] = s;
            out[j * p + i] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_and_drops_a_collinear_column() {
        // Columns 0 and 2 equal: column 2 is dropped, the solve uses the first two.
        let a = [4.0, 2.0, 4.0, 2.0, 3.0, 2.0, 4.0, 2.0, 4.0];
        let c = Cholesky::new(&a, 3);
        assert_eq!(c.kept, vec![true, true, false]);
        let mut b = vec![6.0, 5.0, 6.0];
        c.solve(&mut b);
        assert!((b[0] - 1.0).abs() < 1e-14 && (b[1] - 1.0).abs() < 1e-14 && b[2] == 0.0);
    }

    #[test]
    fn eigh_reconstructs() {
        let a = [2.0, 1.0, 0.0, 1.0, 3.0, 0.5, 0.0, 0.5, 1.0];
        let (d, u) = eigh(&a, 3);
        assert!(d[0] <= d[1] && d[1] <= d[2]);
        let mut back = [0.0; 9];
        compose(&u, &d, 3, &mut back);
        for (x, y) in a.iter().zip(back.iter()) {
            assert!((x - y).abs() < 1e-12);
        }
    }
}
