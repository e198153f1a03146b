//! Convex quadratic programs of portfolio construction, solved by a primal-dual interior-point
//! method that exploits the structure of a factor-model covariance.
//!
//! The problem (see [`qp::Qp`]) is `min ½ z'Hz + q'z` over `z = (z_0, …, z_{n-1})`, one small block
//! of `p` variables per asset (the weight, plus its trade size when turnover or costs are
//! modelled), with `H = diag(hd) + V V'` (a factor model `B F B' + D` with `V = B chol(F)`),
//! per-asset inequalities (bounds, the trade-size epigraph) and a few dense rows (budget, groups,
//! factor exposures, turnover). Each Newton step reduces to one `m × m` Cholesky factorisation
//! with `m = k + rows`, so an iteration costs `O(n m²)` and the `n × n` covariance is never formed.

mod dense;
pub mod qp;
#[cfg(test)]
mod tests;

pub use qp::{solve, Qp, Settings, Solution, Start, Status};
