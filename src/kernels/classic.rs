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
use crate::kernels::tile::{check_tile, dense_f64, inner_tile, TileKernel};
use crate::linalg::{gemm_into, Matrix};
use rayon::prelude::*;
use std::f64::consts::FRAC_PI_2;
use std::ops::Range;

/// The Gaussian kernel of one pair from its inner product `g` and squared norms
/// `sq_i`, `sq_j`: exp(−‖x − y‖²/h), ‖x − y‖² = ‖x‖² + ‖y‖² − 2⟨x, y⟩ clamped at 0.
#[inline(always)]
pub fn gaussian_entry(g: f64, sq_i: f64, sq_j: f64, bandwidth: f64) -> f64 {
    (-(sq_i + sq_j - 2.0 * g).max(0.0) / bandwidth).exp()
}

/// The arcsin kernel of one pair from its inner product `g` and norms `ni`, `nj`
/// (both non-zero): arcsin(g/(ni·nj)), the cosine clamped to [−1, 1].
#[inline(always)]
pub fn arcsin_entry(g: f64, ni: f64, nj: f64) -> f64 {
    (g / (ni * nj)).clamp(-1.0, 1.0).asin()
}

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
        check_sq_norms(x, name)?;
    }
    Ok(())
}

/// Every ‖x_i‖² must be a finite f64: beyond about 1.3e154 in norm it overflows, and the
/// kernels formed from it would be wrong without a sign (‖x‖² + ‖y‖² − 2⟨x, y⟩ = inf − inf
/// is NaN, clamped to a distance 0: a Gaussian entry of 1 for distinct points).
fn check_sq_norms(x: &Matrix<f64>, name: &str) -> Result<()> {
    for i in 0..x.rows() {
        let r = x.row(i);
        if r.iter().map(|v| v * v).sum::<f64>().is_finite() {
            continue;
        }
        // the norm itself, scaled so that it does not overflow
        let m = r.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let norm = m * r.iter().map(|v| (v / m) * (v / m)).sum::<f64>().sqrt();
        return Err(Error::invalid(
            name,
            format!(
                "row {i} has norm {norm:.3e}, whose square overflows f64: the kernel \
                 cannot be formed from it; rescale the inputs (the Gaussian kernel depends \
                 on ‖x − y‖²/h only: scaling x by c and h by c² leaves it unchanged; arcsin \
                 is scale-free)"
            ),
        ));
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
    let mut g = Matrix::try_zeros(x1.rows(), x2.rows(), "the kernel matrix")?;
    gemm_into(&mut g, x1.view(), x2.t(), 1.0, false)?;
    Ok(g)
}

/// Applies `f(⟨x_i, y_j⟩, i, j)` to every inner product, rows in parallel
/// (interruptible; also the composed kernels' cross map).
pub(crate) fn map_cross(
    g: &mut Matrix<f64>,
    f: impl Fn(f64, usize, usize) -> f64 + Sync,
) -> Result<()> {
    let c = g.cols();
    g.as_mut_slice()
        .par_chunks_mut(c.max(1))
        .enumerate()
        .for_each(|(i, row)| {
            // a requested interrupt skips the remaining rows; checked after the pass
            if crate::runtime::interrupted() {
                return;
            }
            for (j, v) in row.iter_mut().enumerate() {
                *v = f(*v, i, j);
            }
        });
    crate::runtime::check_interrupt()
}

/// The Gaussian kernel exp(−‖x − y‖²/h) between the rows of `x1` and `x2`.
pub fn gaussian(x1: &Matrix<f64>, x2: &Matrix<f64>, bandwidth: f64) -> Result<Matrix<f64>> {
    check_bandwidth(bandwidth)?;
    check_pair(x1, x2)?;
    let (n1, n2) = (sq_norms(x1), sq_norms(x2));
    let mut g = inner(x1, x2)?;
    map_cross(&mut g, |v, i, j| gaussian_entry(v, n1[i], n2[j], bandwidth))?;
    Ok(g)
}

/// The Gaussian-kernel Gram matrix of the rows of `x` (diagonal exactly 1).
pub fn gaussian_gram(x: &Matrix<f64>, bandwidth: f64) -> Result<Matrix<f64>> {
    dense_f64(&ClassicKernel::gaussian(x, bandwidth)?)
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
    map_cross(&mut g, |v, i, j| arcsin_entry(v, n1[i], n2[j]))?;
    Ok(g)
}

/// The arcsin-kernel Gram matrix of the rows of `x` (diagonal exactly π/2).
pub fn arcsin_gram(x: &Matrix<f64>) -> Result<Matrix<f64>> {
    dense_f64(&ClassicKernel::arcsin(x)?)
}

/// Which classic kernel a [`ClassicKernel`] evaluates.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Classic {
    Gaussian { bandwidth: f64 },
    Arcsin,
}

/// The Gaussian or arcsin kernel of the rows of X as a [`crate::kernels::tile::TileKernel`]:
/// a tile is one GEMM for the inner products, then [`gaussian_entry`] /
/// [`arcsin_entry`] per entry, with the exact diagonal (1, π/2).
pub struct ClassicKernel<'a> {
    x: &'a Matrix<f64>,
    which: Classic,
    /// Squared norms (Gaussian) or norms (arcsin).
    norms: Vec<f64>,
}

impl<'a> ClassicKernel<'a> {
    /// exp(−‖x_i − x_j‖²/h) of the rows of `x`; errors on h ≤ 0 or non-finite inputs.
    pub fn gaussian(x: &'a Matrix<f64>, bandwidth: f64) -> Result<Self> {
        check_bandwidth(bandwidth)?;
        check_pair(x, x)?;
        Ok(ClassicKernel {
            x,
            which: Classic::Gaussian { bandwidth },
            norms: sq_norms(x),
        })
    }

    /// arcsin(⟨x_i, x_j⟩/(‖x_i‖‖x_j‖)) of the rows of `x`; errors on a zero-norm row.
    pub fn arcsin(x: &'a Matrix<f64>) -> Result<Self> {
        check_pair(x, x)?;
        let norms = nonzero_norms(x, "x")?;
        Ok(ClassicKernel {
            x,
            which: Classic::Arcsin,
            norms,
        })
    }
}

impl TileKernel for ClassicKernel<'_> {
    fn n(&self) -> usize {
        self.x.rows()
    }
    fn name(&self) -> String {
        match self.which {
            Classic::Gaussian { bandwidth } => format!("Gaussian h = {bandwidth}"),
            Classic::Arcsin => "arcsin".into(),
        }
    }
    fn tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) -> Result<()> {
        check_tile(self.n(), &rows, &cols, out.len())?;
        let d = self.x.cols();
        inner_tile(self.x.as_slice(), d, rows.clone(), cols.clone(), 1.0, out);
        let w = cols.len();
        if w == 0 {
            return Ok(());
        }
        let nr = &self.norms;
        for (ii, row) in out.chunks_exact_mut(w).enumerate() {
            let i = rows.start + ii;
            for (jj, v) in row.iter_mut().enumerate() {
                let j = cols.start + jj;
                *v = match (self.which, i == j) {
                    (Classic::Gaussian { .. }, true) => 1.0,
                    (Classic::Arcsin, true) => FRAC_PI_2,
                    (Classic::Gaussian { bandwidth }, false) => {
                        gaussian_entry(*v, nr[i], nr[j], bandwidth)
                    }
                    (Classic::Arcsin, false) => arcsin_entry(*v, nr[i], nr[j]),
                };
            }
        }
        Ok(())
    }
    fn cost_per_entry(&self) -> f64 {
        2.0 * self.x.cols() as f64 + 20.0
    }
    fn diag(&self) -> Result<Vec<f64>> {
        let v = match self.which {
            Classic::Gaussian { .. } => 1.0,
            Classic::Arcsin => FRAC_PI_2,
        };
        Ok(vec![v; self.n()])
    }
}
