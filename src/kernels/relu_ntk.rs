//! The infinite-width Gram matrix H^∞ of a two-layer ReLU network (seed 001, eq. 3):
//!
//! H^∞_ij = E_{w~N(0,I)}[x_iᵀx_j 1{wᵀx_i ≥ 0, wᵀx_j ≥ 0}] = x_iᵀx_j (π − θ_ij) / (2π),
//!
//! θ_ij the angle between x_i and x_j. The identity holds for inputs of any norm
//! (the probability that both half-spaces contain w depends only on the angle);
//! a zero input has H^∞_ij = 0 for every j.

use crate::error::{Error, Result};
use crate::linalg::{gemm_into, Matrix, Real};
use rayon::prelude::*;
use std::f64::consts::PI;

/// The map of eq. 3 for one pair: inner product `g`, norms `ni`, `nj`.
#[inline(always)]
pub fn h_inf_entry(g: f64, ni: f64, nj: f64) -> f64 {
    let denom = ni * nj;
    if denom == 0.0 {
        return 0.0;
    }
    let c = (g / denom).clamp(-1.0, 1.0);
    g * (PI - c.acos()) / (2.0 * PI)
}

/// Block size of the tiled product: a 256-row tile of a 784-dim input fits L2.
const BLOCK: usize = 256;

/// H^∞ for the rows of `x` (n × d, one sample per row), in precision `T`.
///
/// Computes only the lower block triangle of XXᵀ (tile by tile, each tile one
/// single-threaded GEMM, tiles in parallel) and applies eq. 3 while the tile is in
/// cache, then mirrors it: half the flops of the full XXᵀ product.
pub fn h_inf<T: Real>(x: &Matrix<T>) -> Result<Matrix<T>> {
    if !x.all_finite() {
        return Err(Error::Numerical(
            "input matrix x has non-finite entries".into(),
        ));
    }
    let (n, d) = x.shape();
    let norms: Vec<f64> = (0..n).map(|i| crate::linalg::norm2(x.row(i))).collect();
    let nb = n.div_ceil(BLOCK);
    let pairs: Vec<(usize, usize)> = (0..nb)
        .flat_map(|bi| (0..=bi).map(move |bj| (bi, bj)))
        .collect();
    let tiles: Vec<(usize, usize, Matrix<T>)> = pairs
        .into_par_iter()
        .map(|(bi, bj)| {
            let (i0, i1) = (bi * BLOCK, ((bi + 1) * BLOCK).min(n));
            let (j0, j1) = (bj * BLOCK, ((bj + 1) * BLOCK).min(n));
            let xi = crate::linalg::View::row_major(&x.as_slice()[i0 * d..i1 * d], i1 - i0, d)
                .expect("tile rows lie inside x");
            let xj = crate::linalg::View::row_major(&x.as_slice()[j0 * d..j1 * d], j1 - j0, d)
                .expect("tile rows lie inside x");
            let mut tile = Matrix::zeros(i1 - i0, j1 - j0);
            gemm_single(&mut tile, xi, xj.t());
            for (ii, row) in tile.as_mut_slice().chunks_mut(j1 - j0).enumerate() {
                let ni = norms[i0 + ii];
                for (jj, v) in row.iter_mut().enumerate() {
                    *v = T::of(h_inf_entry(v.as_f64(), ni, norms[j0 + jj]));
                }
            }
            (i0, j0, tile)
        })
        .collect();
    let mut h = Matrix::zeros(n, n);
    for (i0, j0, tile) in tiles {
        let (bi, bj) = tile.shape();
        for ii in 0..bi {
            h.row_mut(i0 + ii)[j0..j0 + bj].copy_from_slice(tile.row(ii));
        }
        if i0 != j0 {
            for ii in 0..bi {
                for jj in 0..bj {
                    h.set(j0 + jj, i0 + ii, tile.get(ii, jj));
                }
            }
        }
    }
    Ok(h)
}

/// A tile product on the calling thread (the tiles themselves run in parallel).
fn gemm_single<T: Real>(
    dst: &mut Matrix<T>,
    a: crate::linalg::View<'_, T>,
    b: crate::linalg::View<'_, T>,
) {
    crate::linalg::gemm_into_par(dst, a, b, T::one(), false, false)
        .expect("tile shapes agree by construction");
}

/// H^∞ between two sets of inputs (rows of `x1`, rows of `x2`), eq. 3: the
/// cross-kernel used for predictions at test points.
pub fn h_inf_cross<T: Real>(x1: &Matrix<T>, x2: &Matrix<T>) -> Result<Matrix<T>> {
    if x1.cols() != x2.cols() {
        return Err(Error::Shape(format!(
            "inputs of dimension {} and {} in one kernel",
            x1.cols(),
            x2.cols()
        )));
    }
    let mut g = Matrix::zeros(x1.rows(), x2.rows());
    gemm_into(&mut g, x1.view(), x2.t(), T::one(), false)?;
    let n1: Vec<f64> = (0..x1.rows())
        .map(|i| crate::linalg::norm2(x1.row(i)))
        .collect();
    let n2: Vec<f64> = (0..x2.rows())
        .map(|i| crate::linalg::norm2(x2.row(i)))
        .collect();
    let c = x2.rows();
    g.as_mut_slice()
        .par_chunks_mut(c.max(1))
        .enumerate()
        .for_each(|(i, row)| {
            for (j, v) in row.iter_mut().enumerate() {
                *v = T::of(h_inf_entry(v.as_f64(), n1[i], n2[j]));
            }
        });
    Ok(g)
}

/// The series form of H^∞ for unit-norm inputs (seed 001, App. E):
/// H^∞ = K/4 + (1/2π) Σ_{l≥1} (2l−3)!!/(2l−2)!! · K^{∘2l}/(2l−1), K = XXᵀ,
/// truncated after `terms` terms. Used to cross-check the closed form.
pub fn h_inf_series_entry(k: f64, terms: usize) -> f64 {
    // coefficient (2l−3)!!/(2l−2)!! for l = 1 is (−1)!!/0!! = 1
    let mut coef = 1.0;
    let mut sum = k / 4.0;
    let mut pow = k * k;
    for l in 1..=terms {
        if l > 1 {
            let lf = l as f64;
            coef *= (2.0 * lf - 3.0) / (2.0 * lf - 2.0);
        }
        sum += coef * pow / ((2 * l - 1) as f64) / (2.0 * PI);
        pow *= k * k;
    }
    sum
}
