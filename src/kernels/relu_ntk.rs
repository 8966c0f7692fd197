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
    let mut h = Matrix::zeros(n, n);
    // Pass 1: each block row bi computes its tiles (bi, bj ≤ bi), maps them through
    // eq. 3 and stores them in its own rows of H (disjoint rows: safe in parallel).
    h.as_mut_slice()
        .par_chunks_mut(BLOCK * n.max(1))
        .enumerate()
        .for_each(|(bi, rows)| {
            // a requested interrupt skips the remaining tile rows; checked after the pass
            if crate::runtime::interrupted() {
                return;
            }
            let (i0, i1) = (bi * BLOCK, ((bi + 1) * BLOCK).min(n));
            let xi = crate::linalg::View::row_major(&x.as_slice()[i0 * d..i1 * d], i1 - i0, d)
                .expect("tile rows lie inside x");
            for bj in 0..=bi {
                let (j0, j1) = (bj * BLOCK, ((bj + 1) * BLOCK).min(n));
                let xj = crate::linalg::View::row_major(&x.as_slice()[j0 * d..j1 * d], j1 - j0, d)
                    .expect("tile rows lie inside x");
                let mut tile = Matrix::zeros(i1 - i0, j1 - j0);
                gemm_single(&mut tile, xi, xj.t());
                for ii in 0..i1 - i0 {
                    let ni = norms[i0 + ii];
                    let dst = &mut rows[ii * n + j0..ii * n + j1];
                    for (jj, (o, v)) in dst.iter_mut().zip(tile.row(ii)).enumerate() {
                        *o = if i0 + ii == j0 + jj {
                            // θ_ii = 0 exactly: a rounded x_iᵀx_i/‖x_i‖² slightly below 1
                            // would put arccos on its steep branch (error ~ sqrt(eps))
                            T::of(0.5 * ni * ni)
                        } else {
                            T::of(h_inf_entry(v.as_f64(), ni, norms[j0 + jj]))
                        };
                    }
                }
            }
        });
    crate::runtime::check_interrupt()?;
    // Pass 2: mirror the strict lower triangle into the upper one, row by row in
    // parallel. Row i writes H[i][j] for j > i and reads H[j][i] for j > i: the
    // written entries are all above the diagonal, the read ones all below.
    let ptr = SyncPtr(h.as_mut_slice().as_mut_ptr());
    (0..n).into_par_iter().for_each(|i| {
        let p = &ptr;
        for j in i + 1..n {
            // SAFETY: (j, i) with j > i lies strictly below the diagonal and is only
            // read; (i, j) lies strictly above and is written by row i's task only;
            // both indices are < n² and the buffer outlives the loop.
            unsafe { *p.0.add(i * n + j) = *p.0.add(j * n + i) };
        }
    });
    Ok(h)
}

struct SyncPtr<T>(*mut T);
// SAFETY: used only in `h_inf` for disjoint reads (lower triangle) and writes
// (upper triangle, one row per task).
unsafe impl<T: Send> Sync for SyncPtr<T> {}

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
            if crate::runtime::interrupted() {
                return;
            }
            for (j, v) in row.iter_mut().enumerate() {
                *v = T::of(h_inf_entry(v.as_f64(), n1[i], n2[j]));
            }
        });
    crate::runtime::check_interrupt()?;
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
