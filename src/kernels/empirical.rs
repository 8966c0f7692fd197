//! The empirical Gram matrix of a finite two-layer ReLU net (seed 001, §3.4):
//!
//! H(W)_ij = (x_iᵀx_j / m) Σ_r 1{w_rᵀx_i ≥ 0} 1{w_rᵀx_j ≥ 0} = (Z(W)ᵀZ(W))_ij.
//!
//! As m → ∞ with w_r ~ N(0, κ²I), H(0) → H^∞ (eq. 3): the indicator average is a
//! Monte-Carlo estimate of (π − θ_ij)/(2π).

use crate::error::{Error, Result};
use crate::linalg::{gemm_into, gram, Matrix, Real};
use rayon::prelude::*;

/// H(W) for hidden weights `w` (m × d) and inputs `x` (n × d).
pub fn empirical_gram<T: Real>(w: &Matrix<T>, x: &Matrix<T>) -> Result<Matrix<T>> {
    if w.cols() != x.cols() {
        return Err(Error::Shape(format!(
            "weights of input dimension {} against inputs of dimension {}",
            w.cols(),
            x.cols()
        )));
    }
    let (m, n) = (w.rows(), x.rows());
    if m == 0 {
        return Err(Error::invalid("width", "the network has no neurons"));
    }
    let mut p = Matrix::zeros(m, n);
    gemm_into(&mut p, w.view(), x.t(), T::one(), false)?;
    // indicator matrix 1{w_rᵀx_i ≥ 0} (eq. 5's ReLU derivative, 1 at 0)
    p.as_mut_slice().par_iter_mut().for_each(|v| {
        *v = if *v >= T::zero() { T::one() } else { T::zero() };
    });
    let mut c = Matrix::zeros(n, n);
    gemm_into(&mut c, p.t(), p.view(), T::one(), false)?;
    let g = gram(x);
    let inv_m = 1.0 / m as f64;
    let data: Vec<T> = g
        .as_slice()
        .iter()
        .zip(c.as_slice())
        .map(|(&gij, &cij)| T::of(gij.as_f64() * cij.as_f64() * inv_m))
        .collect();
    Matrix::from_vec(n, n, data)
}
