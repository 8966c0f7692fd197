//! Two classic "correlation kernels" of seed 003 §3 (items 1 and 2), written
//! exactly as the seed writes them:
//!
//! - Gaussian: K(x, y) = exp(−‖x − y‖²₂ / h), bandwidth h > 0 (no factor 2);
//! - arcsin: K(x, y) = arcsin(⟨x, y⟩ / (‖x‖₂‖y‖₂)).
//!
//! Both go through one GEMM for the inner products; ‖x − y‖² is formed as
//! ‖x‖² + ‖y‖² − 2⟨x, y⟩ and clamped at 0. Gram variants put the exact value on
//! the diagonal (1 for the Gaussian, π/2 for arcsin) and are exactly symmetric.

use crate::error::{Error, Result};
use crate::linalg::{gemm_into, Matrix};
use rayon::prelude::*;
use std::f64::consts::FRAC_PI_2;

fn check_pair(x1: &Matrix<f64>, x2: &Matrix<f64>) -> Result<()> {
    if x1.cols() != x2.cols() {
        return Err(Error::Shape(format!(
            "inputs of dimension {} and {} in one kernel",
            x1.cols(),
            x2.cols()
        )));
    }
    for (name, x) in [("x1", x1), ("x2", x2)] {
        if !x.all_finite() {
            return Err(Error::Numerical(format!(
                "input matrix {name} has non-finite entries"
            )));
        }
    }
    Ok(())
}

fn check_bandwidth(h: f64) -> Result<()> {
    if !(h > 0.0 && h.is_finite()) {
        return Err(Error::invalid(
            "bandwidth",
            format!("the Gaussian kernel needs a finite bandwidth h > 0, got {h}"),
        ));
    }
    Ok(())
}

fn sq_norms(x: &Matrix<f64>) -> Vec<f64> {
    (0..x.rows())
        .map(|i| x.row(i).iter().map(|v| v * v).sum::<f64>())
        .collect()
}

fn inner(x1: &Matrix<f64>, x2: &Matrix<f64>) -> Result<Matrix<f64>> {
    let mut g = Matrix::zeros(x1.rows(), x2.rows());
    gemm_into(&mut g, x1.view(), x2.t(), 1.0, false)?;
    Ok(g)
}

/// Applies `f(⟨x_i, y_j⟩, i, j)` to every inner product, rows in parallel.
fn map_cross(g: &mut Matrix<f64>, f: impl Fn(f64, usize, usize) -> f64 + Sync) {
    let c = g.cols();
    g.as_mut_slice()
        .par_chunks_mut(c.max(1))
        .enumerate()
        .for_each(|(i, row)| {
            // a requested interrupt skips the remaining rows; callers check after
            if crate::runtime::interrupted() {
                return;
            }
            for (j, v) in row.iter_mut().enumerate() {
                *v = f(*v, i, j);
            }
        });
}

/// Mirrors the strict lower triangle into the upper one and sets the diagonal.
fn symmetrize(g: &mut Matrix<f64>, diag: f64) {
    let n = g.rows();
    for i in 0..n {
        g.set(i, i, diag);
        for j in i + 1..n {
            let v = g.get(j, i);
            g.set(i, j, v);
        }
    }
}

/// The Gaussian kernel exp(−‖x − y‖²/h) between the rows of `x1` and `x2`.
pub fn gaussian(x1: &Matrix<f64>, x2: &Matrix<f64>, bandwidth: f64) -> Result<Matrix<f64>> {
    check_bandwidth(bandwidth)?;
    check_pair(x1, x2)?;
    let (n1, n2) = (sq_norms(x1), sq_norms(x2));
    let mut g = inner(x1, x2)?;
    map_cross(&mut g, |v, i, j| {
        (-(n1[i] + n2[j] - 2.0 * v).max(0.0) / bandwidth).exp()
    });
    crate::runtime::check_interrupt()?;
    Ok(g)
}

/// The Gaussian-kernel Gram matrix of the rows of `x` (diagonal exactly 1).
pub fn gaussian_gram(x: &Matrix<f64>, bandwidth: f64) -> Result<Matrix<f64>> {
    let mut g = gaussian(x, x, bandwidth)?;
    symmetrize(&mut g, 1.0);
    Ok(g)
}

fn nonzero_norms(x: &Matrix<f64>, name: &str) -> Result<Vec<f64>> {
    let norms: Vec<f64> = sq_norms(x).into_iter().map(f64::sqrt).collect();
    if let Some(i) = norms.iter().position(|&v| v == 0.0) {
        return Err(Error::invalid(
            name,
            format!("row {i} has zero norm; the arcsin kernel <x,y>/(|x||y|) is undefined there"),
        ));
    }
    Ok(norms)
}

/// The arcsin kernel arcsin(⟨x, y⟩/(‖x‖‖y‖)) between the rows of `x1` and `x2`
/// (cosine clamped to [−1, 1]); errors on a zero-norm row, naming it.
pub fn arcsin(x1: &Matrix<f64>, x2: &Matrix<f64>) -> Result<Matrix<f64>> {
    check_pair(x1, x2)?;
    let n1 = nonzero_norms(x1, "x1")?;
    let n2 = nonzero_norms(x2, "x2")?;
    let mut g = inner(x1, x2)?;
    map_cross(&mut g, |v, i, j| {
        (v / (n1[i] * n2[j])).clamp(-1.0, 1.0).asin()
    });
    crate::runtime::check_interrupt()?;
    Ok(g)
}

/// The arcsin-kernel Gram matrix of the rows of `x` (diagonal exactly π/2).
pub fn arcsin_gram(x: &Matrix<f64>) -> Result<Matrix<f64>> {
    check_pair(x, x)?;
    nonzero_norms(x, "x")?;
    let mut g = arcsin(x, x)?;
    symmetrize(&mut g, FRAC_PI_2);
    Ok(g)
}
