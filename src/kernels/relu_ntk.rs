//! The infinite-width Gram matrix H^∞ of a two-layer ReLU network (seed 001, eq. 3):
//!
//! H^∞_ij = E_{w~N(0,I)}[x_iᵀx_j 1{wᵀx_i ≥ 0, wᵀx_j ≥ 0}] = x_iᵀx_j (π − θ_ij) / (2π),
//!
//! θ_ij the angle between x_i and x_j. The identity holds for inputs of any norm
//! (the probability that both half-spaces contain w depends only on the angle);
//! a zero input has H^∞_ij = 0 for every j.

use crate::error::{Error, Result};
use crate::kernels::arccos::{acos_select, relu_j};
use crate::kernels::tile::{check_tile, dense_f32, dense_f64, inner_tile, TileKernel};
use crate::linalg::{gemm_into, Matrix, Real};
use rayon::prelude::*;
use std::any::Any;
use std::borrow::Cow;
use std::f64::consts::PI;
use std::ops::Range;
use std::sync::OnceLock;

/// The map of eq. 3 for one pair: inner product `g`, norms `ni`, `nj`
/// (J₀ of [`crate::kernels::arccos`]: g·(π − θ)/(2π)).
#[inline(always)]
pub fn h_inf_entry(g: f64, ni: f64, nj: f64) -> f64 {
    let denom = ni * nj;
    if denom == 0.0 {
        return 0.0;
    }
    let c = (g / denom).clamp(-1.0, 1.0);
    g * relu_j(c, c.acos()).0 / (2.0 * PI)
}

/// The diagonal of eq. 3, H^∞_ii = ‖x_i‖²/2: θ_ii = 0 exactly (a rounded
/// x_iᵀx_i/‖x_i‖² slightly below 1 would put arccos on its steep branch, error
/// ~ sqrt(eps)).
#[inline(always)]
pub fn h_inf_diag(ni: f64) -> f64 {
    0.5 * ni * ni
}

/// Eq. 3 on one row of an f32 tile, in place: `row` holds the f32 inner products
/// x_iᵀx_j, `nj` the norms of the columns. The same map as [`h_inf_entry`] (f64
/// arithmetic, rounded to f32 once), with the branch-free arccos
/// ([`acos_select`], within 1 ulp of libm's) so that the loop vectorizes: the f32
/// tiles are what the f32 and matrix-free paths recompute at every product, and
/// libm's scalar arccos was most of their cost. The diagonal (θ = 0 exactly) is the
/// caller's.
#[inline(always)]
fn map_row_f32(ni: f64, nj: &[f64], row: &mut [f32]) {
    for (v, &n2) in row.iter_mut().zip(nj) {
        let g = *v as f64;
        let denom = ni * n2;
        let c = (g / denom).clamp(-1.0, 1.0);
        let h = g * (PI - acos_select(c)) / (2.0 * PI);
        // a zero input: H^∞_ij = 0 (c is NaN there, and selected away)
        *v = if denom == 0.0 { 0.0 } else { h as f32 };
    }
}

/// [`map_row_f32`] compiled for the best instruction set the CPU has (the same bits
/// on every one: no operation is fused or reordered).
fn map_row_f32_dispatch(ni: f64, nj: &[f64], row: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512(ni: f64, nj: &[f64], row: &mut [f32]) {
            map_row_f32(ni, nj, row)
        }
        #[target_feature(enable = "avx2")]
        unsafe fn avx2(ni: f64, nj: &[f64], row: &mut [f32]) {
            map_row_f32(ni, nj, row)
        }
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            return unsafe { avx512(ni, nj, row) };
        }
        if is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { avx2(ni, nj, row) };
        }
    }
    map_row_f32(ni, nj, row)
}

/// H^∞ (eq. 3) of the rows of X as a [`TileKernel`]: a tile is one GEMM of the
/// rows of I against those of J, mapped through eq. 3 while in cache. The f64
/// tiles multiply in f64; the f32 tiles (the fast path, [`TileKernel::tile_f32`])
/// multiply the inputs rounded to f32 and apply the map in f64.
pub struct HInfKernel<'a> {
    x: Cow<'a, Matrix<f64>>,
    x32: OnceLock<Matrix<f32>>,
    norms: Vec<f64>,
}

impl<'a> HInfKernel<'a> {
    /// H^∞ of the rows of `x` (n × d); errors on non-finite entries.
    pub fn new(x: &'a Matrix<f64>) -> Result<Self> {
        Self::build(Cow::Borrowed(x), None)
    }

    /// H^∞ of the rows of `x`, owning them (for kernels returned from a scope).
    pub fn owned(x: Matrix<f64>) -> Result<HInfKernel<'static>> {
        HInfKernel::build(Cow::Owned(x), None)
    }

    /// H^∞ of f32 inputs: the f32 tiles multiply `x` as given (bit for bit the
    /// single-precision H^∞), the f64 tiles its exact widening.
    pub fn from_f32(x: &Matrix<f32>) -> Result<HInfKernel<'static>> {
        HInfKernel::build(Cow::Owned(x.cast::<f64>()), Some(x.clone()))
    }

    fn build(x: Cow<'a, Matrix<f64>>, x32: Option<Matrix<f32>>) -> Result<Self> {
        if !x.all_finite() {
            return Err(Error::Numerical(
                "input matrix x has non-finite entries".into(),
            ));
        }
        let norms: Vec<f64> = match &x32 {
            // the norms of the f32 path are those of its own (identical) values
            Some(x32) => (0..x32.rows())
                .map(|i| crate::linalg::norm2(x32.row(i)))
                .collect(),
            None => (0..x.rows())
                .map(|i| crate::linalg::norm2(x.row(i)))
                .collect(),
        };
        let lock = OnceLock::new();
        if let Some(v) = x32 {
            let _ = lock.set(v);
        }
        Ok(HInfKernel {
            x,
            x32: lock,
            norms,
        })
    }

    fn x32(&self) -> &Matrix<f32> {
        self.x32.get_or_init(|| self.x.cast::<f32>())
    }

    /// Maps the f64 inner products of tile (rows, cols) in place through eq. 3
    /// (the f32 tiles take the vectorized row map in `tile_f32`).
    fn map_tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) {
        let w = cols.len();
        if w == 0 {
            return;
        }
        for (ii, row) in out.chunks_exact_mut(w).enumerate() {
            let i = rows.start + ii;
            let ni = self.norms[i];
            for (jj, v) in row.iter_mut().enumerate() {
                let j = cols.start + jj;
                *v = if i == j {
                    h_inf_diag(ni)
                } else {
                    h_inf_entry(*v, ni, self.norms[j])
                };
            }
        }
    }
}

impl TileKernel for HInfKernel<'_> {
    fn n(&self) -> usize {
        self.x.rows()
    }
    fn name(&self) -> String {
        "H^inf".into()
    }
    fn tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) -> Result<()> {
        check_tile(self.n(), &rows, &cols, out.len())?;
        let d = self.x.cols();
        inner_tile(self.x.as_slice(), d, rows.clone(), cols.clone(), 1.0, out);
        self.map_tile_f64(rows, cols, out);
        Ok(())
    }
    fn tile_f32(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f32]) -> Result<()> {
        check_tile(self.n(), &rows, &cols, out.len())?;
        let x32 = self.x32();
        inner_tile(
            x32.as_slice(),
            x32.cols(),
            rows.clone(),
            cols.clone(),
            1.0,
            out,
        );
        let w = cols.len();
        if w == 0 {
            return Ok(());
        }
        let nj = &self.norms[cols.clone()];
        for (ii, row) in out.chunks_exact_mut(w).enumerate() {
            let i = rows.start + ii;
            map_row_f32_dispatch(self.norms[i], nj, row);
            if cols.contains(&i) {
                row[i - cols.start] = h_inf_diag(self.norms[i]) as f32;
            }
        }
        Ok(())
    }
    fn cost_per_entry(&self) -> f64 {
        2.0 * self.x.cols() as f64
    }
    fn diag(&self) -> Result<Vec<f64>> {
        Ok(self.norms.iter().map(|&v| h_inf_diag(v)).collect())
    }
}

/// H^∞ for the rows of `x` (n × d, one sample per row), in precision `T`.
///
/// The tile driver [`crate::kernels::tile::dense_f64`] / `dense_f32` over
/// [`HInfKernel`]: only the lower block triangle of XXᵀ is computed (tile by tile,
/// each tile one single-threaded GEMM, tiles in parallel) and mapped through eq. 3
/// while in cache, then mirrored: half the flops of the full XXᵀ product.
pub fn h_inf<T: Real>(x: &Matrix<T>) -> Result<Matrix<T>> {
    let any: &dyn Any = x;
    let out: Box<dyn Any> = if let Some(x64) = any.downcast_ref::<Matrix<f64>>() {
        Box::new(dense_f64(&HInfKernel::new(x64)?)?)
    } else if let Some(x32) = any.downcast_ref::<Matrix<f32>>() {
        Box::new(dense_f32(&HInfKernel::from_f32(x32)?)?)
    } else {
        unreachable!("Real is implemented for f32 and f64 only")
    };
    Ok(*out
        .downcast::<Matrix<T>>()
        .expect("the output has the input's element type"))
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
            // a requested interrupt skips the remaining rows; checked after the pass
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
