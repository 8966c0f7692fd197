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
    let p = patterns(w, x, "x")?;
    let mut c = Matrix::zeros(x.rows(), x.rows());
    gemm_into(&mut c, p.t(), p.view(), T::one(), false)?;
    Ok(combine(&gram(x), &c, w.rows()))
}

/// The train–test form H(W)_ij = (x_iᵀx'_j / m) Σ_r 1{w_rᵀx_i ≥ 0} 1{w_rᵀx'_j ≥ 0} between
/// the rows of `x1` (n₁ × d) and `x2` (n₂ × d): the same formula, two sets of patterns.
pub fn empirical_gram_cross<T: Real>(
    w: &Matrix<T>,
    x1: &Matrix<T>,
    x2: &Matrix<T>,
) -> Result<Matrix<T>> {
    let (p1, p2) = (patterns(w, x1, "x")?, patterns(w, x2, "x2")?);
    let (n1, n2) = (x1.rows(), x2.rows());
    let mut c = Matrix::zeros(n1, n2);
    gemm_into(&mut c, p1.t(), p2.view(), T::one(), false)?;
    let mut g = Matrix::zeros(n1, n2);
    gemm_into(&mut g, x1.view(), x2.t(), T::one(), false)?;
    Ok(combine(&g, &c, w.rows()))
}

/// The activation patterns 1{w_rᵀx_i ≥ 0} (m × n; eq. 5's ReLU derivative, 1 at 0).
fn patterns<T: Real>(w: &Matrix<T>, x: &Matrix<T>, name: &str) -> Result<Matrix<T>> {
    if w.cols() != x.cols() {
        return Err(Error::Shape(format!(
            "weights of input dimension {} against inputs {name} of dimension {}",
            w.cols(),
            x.cols()
        )));
    }
    if w.rows() == 0 {
        return Err(Error::invalid("width", "the network has no neurons"));
    }
    let mut p = Matrix::zeros(w.rows(), x.rows());
    gemm_into(&mut p, w.view(), x.t(), T::one(), false)?;
    p.as_mut_slice().par_iter_mut().for_each(|v| {
        *v = if *v >= T::zero() { T::one() } else { T::zero() };
    });
    Ok(p)
}

/// (G ∘ C) / m entrywise, in f64: G the inner products, C the pattern overlaps.
fn combine<T: Real>(g: &Matrix<T>, c: &Matrix<T>, m: usize) -> Matrix<T> {
    let inv_m = 1.0 / m as f64;
    let data: Vec<T> = g
        .as_slice()
        .iter()
        .zip(c.as_slice())
        .map(|(&gij, &cij)| T::of(gij.as_f64() * cij.as_f64() * inv_m))
        .collect();
    Matrix::from_vec(g.rows(), g.cols(), data).expect("shapes of G and C agree")
}
