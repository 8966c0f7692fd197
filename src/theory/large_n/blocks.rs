//! Small dense-block helpers shared by the solvers (row-major n × b blocks).

use crate::error::Result;
use crate::linalg::{gemm_into, Matrix};

/// `aᵀb` for row-major blocks with the same number of rows.
pub(super) fn at_b(a: &Matrix<f64>, b: &Matrix<f64>) -> Result<Matrix<f64>> {
    let mut out = Matrix::zeros(a.cols(), b.cols());
    gemm_into(&mut out, a.t(), b.view(), 1.0, false)?;
    Ok(out)
}

/// `z -= a c`.
pub(super) fn sub_ac(z: &mut Matrix<f64>, a: &Matrix<f64>, c: &Matrix<f64>) -> Result<()> {
    gemm_into(z, a.view(), c.view(), -1.0, true)
}

/// `a c` as a new matrix.
pub(super) fn mul(a: &Matrix<f64>, c: &Matrix<f64>) -> Result<Matrix<f64>> {
    let mut out = Matrix::zeros(a.rows(), c.cols());
    gemm_into(&mut out, a.view(), c.view(), 1.0, false)?;
    Ok(out)
}

pub(super) fn col(m: &Matrix<f64>, j: usize) -> Vec<f64> {
    (0..m.rows()).map(|i| m.get(i, j)).collect()
}

pub(super) fn dotv(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Thin QR of a row-major n × b block through faer: (Q, R).
pub(super) fn thin_qr(z: &Matrix<f64>) -> (Matrix<f64>, Matrix<f64>) {
    let (n, b) = z.shape();
    let fm = faer::Mat::from_fn(n, b, |i, j| z.get(i, j));
    let qr = fm.qr();
    let q = qr.compute_thin_Q();
    let r = qr.thin_R();
    (
        Matrix::from_fn(n, b, |i, j| q[(i, j)]),
        Matrix::from_fn(b, b, |i, j| r[(i, j)]),
    )
}
