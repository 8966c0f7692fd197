//! The linear-operator trait the large-n solvers are written against, and the
//! single-machine operators behind the three paths.
//!
//! The solvers need only products of a symmetric kernel K with a block of
//! vectors (n × b, row-major), in two precisions: f32 products (the kernel
//! rounded to f32, for the Krylov phase and the inner CG of the spectral-cg
//! preconditioner) and f64 products (the refinement and the outer CG that make
//! the reported numbers f64-accurate), plus the size n, the measured
//! per-entry error of the f32 kernel (for the λ_min bound of the inner CG) and a
//! cost hint. Anything that provides these — a stored matrix, tiles recomputed
//! from the inputs, a Python callable, a cluster — is analysed by the same code
//! ([`super::analyze_operator`]).

use crate::error::Result;
use crate::kernels::tile::matvec_with_progress as matvec;
use crate::kernels::tile::{block, n_blocks, TileKernel};
use crate::kernels::tile_cache::TileCache;
use crate::linalg::{gemm_into, Matrix, View};
use crate::runtime::check_interrupt;
use crate::runtime::profile::prof;

/// The precision of a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// The kernel's entries in f64.
    F64,
    /// The kernel's entries rounded to f32.
    F32,
}

/// What products with an operator cost, as declared by the operator (not
/// measured): the solvers' choices that depend on time are measured; this is
/// reported with `WIDENET_PROFILE` and lets a caller compare operators.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostHint {
    /// Floating-point operations per product column in the multiply-adds (2n²;
    /// recomputing entries costs more, see `bytes_per_call`).
    pub flops_per_column: f64,
    /// Bytes of stored kernel entries read per product call, whatever its width
    /// (0 where every entry is recomputed from the inputs).
    pub bytes_per_call: f64,
}

/// A symmetric linear operator K on Rⁿ applied to n × b row-major blocks.
///
/// Implementations check nothing about symmetry; the solvers assume it. Every
/// product must be deterministic (the same bits for the same input) for a run
/// to be reproducible from its seed.
pub trait LinearOperator {
    /// n.
    fn size(&self) -> usize;

    /// The declared cost of products.
    fn cost_hint(&self) -> CostHint;

    /// K V with f64 products.
    fn apply_f64(&self, v: &Matrix<f64>, show: bool) -> Result<Matrix<f64>>;

    /// K₃₂ V with the kernel rounded to f32 (inputs and outputs in f64).
    fn apply_f32(&self, v: &Matrix<f64>, show: bool) -> Result<Matrix<f64>>;

    /// The rms of K − K₃₂ over sampled entries (bounds ‖K − K₃₂‖₂ ≤ n·rms).
    fn f32_entry_rms(&self) -> Result<f64>;

    /// A short name of the product in `precision`, for profiles.
    fn product_name(&self, precision: Precision) -> &'static str {
        match precision {
            Precision::F64 => "product (f64)",
            Precision::F32 => "product (f32)",
        }
    }
}

impl<T: LinearOperator + ?Sized> LinearOperator for &T {
    fn size(&self) -> usize {
        (**self).size()
    }
    fn cost_hint(&self) -> CostHint {
        (**self).cost_hint()
    }
    fn apply_f64(&self, v: &Matrix<f64>, show: bool) -> Result<Matrix<f64>> {
        (**self).apply_f64(v, show)
    }
    fn apply_f32(&self, v: &Matrix<f64>, show: bool) -> Result<Matrix<f64>> {
        (**self).apply_f32(v, show)
    }
    fn f32_entry_rms(&self) -> Result<f64> {
        (**self).f32_entry_rms()
    }
    fn product_name(&self, precision: Precision) -> &'static str {
        (**self).product_name(precision)
    }
}

/// `op` times `v` in `precision`, checking for an interrupt first and timing
/// the product under the operator's name when profiling.
pub(super) fn product(
    op: &dyn LinearOperator,
    precision: Precision,
    v: &Matrix<f64>,
    show: bool,
) -> Result<Matrix<f64>> {
    check_interrupt()?;
    prof(op.product_name(precision), || match precision {
        Precision::F64 => op.apply_f64(v, show),
        Precision::F32 => op.apply_f32(v, show),
    })
}

/// K₃₂ V for a kernel stored row-major in f32 (V rounded to f32, one GEMM).
pub(super) fn stored_f32_product(k: &[f32], n: usize, v: &Matrix<f64>) -> Result<Matrix<f64>> {
    let v32: Matrix<f32> = v.cast();
    let mut out = Matrix::<f32>::zeros(n, v.cols());
    gemm_into(&mut out, View::row_major(k, n, n)?, v32.view(), 1.0, false)?;
    Ok(out.cast())
}

/// ‖K − K₃₂‖ per entry, measured: the rms of f64 minus f32 entries over two
/// sampled tiles (the leading diagonal tile and the last tile row's first
/// tile); `tile32(bi, bj)` gives the f32 tile's entries row-major with its shape.
pub(super) fn sampled_f32_rms(
    k: &dyn TileKernel,
    tile32: impl Fn(usize, usize) -> Result<(Vec<f32>, usize, usize)>,
) -> Result<f64> {
    let n = k.n();
    let mut sum = 0.0;
    let mut cnt = 0usize;
    let nb = n_blocks(n);
    for (bi, bj) in [(0, 0), (nb - 1, 0)] {
        let (t32, r, c) = tile32(bi, bj)?;
        let mut t = vec![0.0f64; r * c];
        k.tile_f64(block(bi, n), block(bj, n), &mut t)?;
        for (x, y) in t.iter().zip(&t32) {
            let e = x - *y as f64;
            sum += e * e;
            cnt += 1;
        }
    }
    Ok((sum / cnt as f64).sqrt())
}

/// The f32 entries of tile (bi, bj) of a kernel stored row-major in f32.
pub(super) fn stored_tile(a: &[f32], n: usize, bi: usize, bj: usize) -> (Vec<f32>, usize, usize) {
    let (r, c) = (block(bi, n), block(bj, n));
    let t = r
        .clone()
        .flat_map(|i| a[i * n + c.start..i * n + c.end].iter().copied())
        .collect();
    (t, r.len(), c.len())
}

/// The `dense` path's operator: the kernel stored in f64 (both precisions are
/// the f64 product; the path never asks for f32 ones).
pub struct DenseF64<'a>(pub &'a Matrix<f64>);

impl LinearOperator for DenseF64<'_> {
    fn size(&self) -> usize {
        self.0.rows()
    }
    fn cost_hint(&self) -> CostHint {
        let n = self.0.rows() as f64;
        CostHint {
            flops_per_column: 2.0 * n * n,
            bytes_per_call: 8.0 * n * n,
        }
    }
    fn apply_f64(&self, v: &Matrix<f64>, _show: bool) -> Result<Matrix<f64>> {
        let k = self.0;
        let mut out = Matrix::zeros(k.rows(), v.cols());
        gemm_into(&mut out, k.view(), v.view(), 1.0, false)?;
        Ok(out)
    }
    fn apply_f32(&self, v: &Matrix<f64>, show: bool) -> Result<Matrix<f64>> {
        self.apply_f64(v, show)
    }
    fn f32_entry_rms(&self) -> Result<f64> {
        Ok(0.0)
    }
    fn product_name(&self, _precision: Precision) -> &'static str {
        "product (dense f64)"
    }
}

/// Where a kernel operator's f32 products come from.
pub enum F32Products<'a> {
    /// The kernel stored row-major in f32 (the `f32` path): one GEMM.
    Stored(&'a [f32]),
    /// The f32 tiles held within the budget, the others recomputed in f32 (the
    /// `matrix-free` path; the same bits whatever part is held).
    Tiles(&'a TileCache<'a>),
    /// None: the f32 product is the f64 one.
    F64,
}

/// A kernel known by its tiles: f64 products recomputed tile by tile from the
/// inputs, f32 products from `f32` (the `f32` and `matrix-free` paths'
/// operators; with [`F32Products::F64`], the f64 passes of the `f32` path).
pub struct KernelOp<'a> {
    /// The kernel the f64 products recompute.
    pub kernel: &'a dyn TileKernel,
    /// The f32 products.
    pub f32: F32Products<'a>,
}

impl LinearOperator for KernelOp<'_> {
    fn size(&self) -> usize {
        self.kernel.n()
    }
    fn cost_hint(&self) -> CostHint {
        let n = self.kernel.n() as f64;
        CostHint {
            flops_per_column: 2.0 * n * n,
            bytes_per_call: match &self.f32 {
                F32Products::Stored(_) => 4.0 * n * n,
                F32Products::Tiles(c) => c.held_bytes() as f64,
                F32Products::F64 => 0.0,
            },
        }
    }
    fn apply_f64(&self, v: &Matrix<f64>, show: bool) -> Result<Matrix<f64>> {
        matvec(self.kernel, v, show)
    }
    fn apply_f32(&self, v: &Matrix<f64>, show: bool) -> Result<Matrix<f64>> {
        match &self.f32 {
            F32Products::Stored(k32) => stored_f32_product(k32, self.kernel.n(), v),
            F32Products::Tiles(c) => c.product(v, show),
            F32Products::F64 => matvec(self.kernel, v, show),
        }
    }
    fn f32_entry_rms(&self) -> Result<f64> {
        let n = self.kernel.n();
        match &self.f32 {
            F32Products::Stored(k32) => {
                sampled_f32_rms(self.kernel, |bi, bj| Ok(stored_tile(k32, n, bi, bj)))
            }
            F32Products::Tiles(c) => sampled_f32_rms(self.kernel, |bi, bj| c.entries(bi, bj)),
            F32Products::F64 => Ok(0.0),
        }
    }
    fn product_name(&self, precision: Precision) -> &'static str {
        match (precision, &self.f32) {
            (Precision::F32, F32Products::Stored(_)) => "product (stored f32)",
            (Precision::F32, F32Products::Tiles(_)) => "product (f32 tiles, held or recomputed)",
            _ => "product (tiles f64)",
        }
    }
}
