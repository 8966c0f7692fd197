//! Stand-ins for issue 11 part A's tile drivers, used by the large-n solvers
//! (`theory::large_n`) until part A lands.
//!
//! INTEGRATOR: part A provides `tile::dense_f64(&k)`, `tile::dense_f32(&k)`,
//! `tile::matvec(&k, &V)`, an H^∞ `TileKernel` and `StoredKernel::from_matrix`.
//! Once merged, replace [`dense_f64`], [`dense_f32`], [`matvec`], [`HInfTiles`]
//! and [`MatrixKernel`] by those (same meaning: row-major n × n, f64 product
//! K·V) and delete this file. Everything here goes through the [`TileKernel`]
//! trait only, so the swap touches imports, not the solvers.

use crate::error::{Error, Result};
use crate::kernels::relu_ntk::h_inf_entry;
use crate::kernels::tile::TileKernel;
use crate::linalg::{gemm_into_par, norm2, Matrix, View};
use crate::runtime::{check_alloc, check_interrupt, progress_bar};
use rayon::prelude::*;
use std::ops::Range;

/// Rows per tile of every driver here (a 256-row block of 784-dim inputs fits L2).
pub const TILE: usize = 256;

/// A kernel held as a dense f64 matrix (tests, and small user kernels).
#[derive(Debug)]
pub struct MatrixKernel {
    m: Matrix<f64>,
}

impl MatrixKernel {
    /// Wraps a square, finite, symmetric matrix; `what` names it in errors.
    pub fn new(m: Matrix<f64>, what: &str) -> Result<Self> {
        let (r, c) = m.shape();
        if r != c {
            return Err(Error::Shape(format!("{what} must be square, got {r}x{c}")));
        }
        if !m.all_finite() {
            return Err(Error::Numerical(format!("{what} has non-finite entries")));
        }
        for i in 0..r {
            for j in 0..i {
                let (a, b) = (m.get(i, j), m.get(j, i));
                if (a - b).abs() > 1e-12 * (a.abs() + b.abs()).max(f64::MIN_POSITIVE) {
                    return Err(Error::Numerical(format!(
                        "{what} is not symmetric: entry ({i}, {j}) = {a:e}, ({j}, {i}) = {b:e}"
                    )));
                }
            }
        }
        Ok(MatrixKernel { m })
    }
}

impl TileKernel for MatrixKernel {
    fn n(&self) -> usize {
        self.m.rows()
    }
    fn name(&self) -> String {
        "stored matrix".into()
    }
    fn tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) -> Result<()> {
        let w = cols.len();
        for (o, i) in out.chunks_mut(w.max(1)).zip(rows) {
            o.copy_from_slice(&self.m.row(i)[cols.clone()]);
        }
        Ok(())
    }
}

/// H^∞ of seed 001 eq. 3, tile by tile from the inputs (f64 tiles from the f64
/// inputs, f32 tiles from inputs rounded to f32, as `h_inf::<f32>` computes them).
#[derive(Debug)]
pub struct HInfTiles {
    x: Matrix<f64>,
    x32: Matrix<f32>,
    norms: Vec<f64>,
    norms32: Vec<f64>,
}

impl HInfTiles {
    /// The kernel of the rows of `x` (n × d); refuses non-finite inputs.
    pub fn new(x: Matrix<f64>) -> Result<Self> {
        if !x.all_finite() {
            return Err(Error::Numerical(
                "input matrix x has non-finite entries".into(),
            ));
        }
        let x32: Matrix<f32> = x.cast();
        let norms = (0..x.rows()).map(|i| norm2(x.row(i))).collect();
        let norms32 = (0..x.rows()).map(|i| norm2(x32.row(i))).collect();
        Ok(HInfTiles {
            x,
            x32,
            norms,
            norms32,
        })
    }
}

fn rows_view<T: crate::linalg::Real>(x: &Matrix<T>, r: Range<usize>) -> View<'_, T> {
    let d = x.cols();
    View::row_major(&x.as_slice()[r.start * d..r.end * d], r.len(), d)
        .expect("row range lies inside x")
}

impl TileKernel for HInfTiles {
    fn n(&self) -> usize {
        self.x.rows()
    }
    fn name(&self) -> String {
        "H^inf".into()
    }
    fn tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) -> Result<()> {
        let mut g = Matrix::zeros(rows.len(), cols.len());
        gemm_into_par(
            &mut g,
            rows_view(&self.x, rows.clone()),
            rows_view(&self.x, cols.clone()).t(),
            1.0,
            false,
            false,
        )?;
        let w = cols.len();
        for (ii, i) in rows.enumerate() {
            let ni = self.norms[i];
            for (jj, j) in cols.clone().enumerate() {
                out[ii * w + jj] = if i == j {
                    // θ_ii = 0 exactly (see relu_ntk::h_inf)
                    0.5 * ni * ni
                } else {
                    h_inf_entry(g.get(ii, jj), ni, self.norms[j])
                };
            }
        }
        Ok(())
    }
    fn tile_f32(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f32]) -> Result<()> {
        let mut g = Matrix::<f32>::zeros(rows.len(), cols.len());
        gemm_into_par(
            &mut g,
            rows_view(&self.x32, rows.clone()),
            rows_view(&self.x32, cols.clone()).t(),
            1.0,
            false,
            false,
        )?;
        let w = cols.len();
        for (ii, i) in rows.enumerate() {
            let ni = self.norms32[i];
            for (jj, j) in cols.clone().enumerate() {
                out[ii * w + jj] = if i == j {
                    (0.5 * ni * ni) as f32
                } else {
                    h_inf_entry(g.get(ii, jj) as f64, ni, self.norms32[j]) as f32
                };
            }
        }
        Ok(())
    }
    fn cost_per_entry(&self) -> f64 {
        2.0 * self.x.cols() as f64 + 20.0
    }
}

/// The dense f64 matrix of `k` (row-major n × n).
pub fn dense_f64(k: &dyn TileKernel) -> Result<Matrix<f64>> {
    let n = k.n();
    check_alloc("dense f64 kernel", (n as u128) * (n as u128), 8)?;
    let mut data = vec![0.0f64; n * n];
    data.par_chunks_mut(TILE * n.max(1))
        .enumerate()
        .try_for_each(|(bi, rows)| {
            check_interrupt()?;
            let r = bi * TILE..((bi + 1) * TILE).min(n);
            k.tile_f64(r, 0..n, rows)
        })?;
    Matrix::from_vec(n, n, data)
}

struct SyncPtr<T>(*mut T);
// SAFETY: used in `dense_f32` only for disjoint reads (lower triangle) and
// writes (upper triangle, one row per task).
unsafe impl<T: Send> Sync for SyncPtr<T> {}

/// The kernel stored in f32 (row-major n × n): tiles of the lower block triangle,
/// computed in parallel by block row, then mirrored (half the tile work).
pub fn dense_f32(k: &dyn TileKernel, show: bool) -> Result<Vec<f32>> {
    let n = k.n();
    check_alloc("f32 kernel", (n as u128) * (n as u128), 4)?;
    let mut data = vec![0.0f32; n * n];
    let nb = n.div_ceil(TILE);
    let bar = progress_bar(nb as u64, "kernel (f32 tiles)", show);
    data.par_chunks_mut(TILE * n.max(1))
        .enumerate()
        .try_for_each(|(bi, rows)| {
            check_interrupt()?;
            let (i0, i1) = (bi * TILE, ((bi + 1) * TILE).min(n));
            let mut buf = vec![0.0f32; (i1 - i0) * TILE];
            for bj in 0..=bi {
                let (j0, j1) = (bj * TILE, ((bj + 1) * TILE).min(n));
                let w = j1 - j0;
                k.tile_f32(i0..i1, j0..j1, &mut buf[..(i1 - i0) * w])?;
                for ii in 0..i1 - i0 {
                    rows[ii * n + j0..ii * n + j1].copy_from_slice(&buf[ii * w..(ii + 1) * w]);
                }
            }
            bar.inc(1);
            Ok::<(), Error>(())
        })?;
    bar.finish_and_clear();
    let ptr = SyncPtr(data.as_mut_ptr());
    (0..n).into_par_iter().for_each(|i| {
        let p = &ptr;
        for j in i + 1..n {
            // SAFETY: (j, i), j > i, lies below the diagonal and is only read;
            // (i, j) lies above it and is written by row i's task only.
            unsafe { *p.0.add(i * n + j) = *p.0.add(j * n + i) };
        }
    });
    Ok(data)
}

/// K·V in f64 without storing K (V is n × b row-major): each row block of the
/// output is one task that recomputes its tiles K[I, J] in f64, J in a fixed
/// order, so the result is bit-identical at any thread count.
pub fn matvec(k: &dyn TileKernel, v: &Matrix<f64>, show: bool) -> Result<Matrix<f64>> {
    let n = k.n();
    if v.rows() != n {
        return Err(Error::Shape(format!(
            "matrix-free product of a {n}x{n} kernel with a {}x{} block",
            v.rows(),
            v.cols()
        )));
    }
    let b = v.cols();
    let mut out = Matrix::zeros(n, b);
    if b == 0 || n == 0 {
        return Ok(out);
    }
    let nb = n.div_ceil(TILE);
    let bar = progress_bar(nb as u64, "K*V (f64 tiles)", show);
    out.as_mut_slice()
        .par_chunks_mut(TILE * b)
        .enumerate()
        .try_for_each(|(bi, dst)| {
            check_interrupt()?;
            let (i0, i1) = (bi * TILE, ((bi + 1) * TILE).min(n));
            let mut acc = Matrix::zeros(i1 - i0, b);
            let mut buf = vec![0.0f64; (i1 - i0) * TILE];
            for bj in 0..nb {
                let (j0, j1) = (bj * TILE, ((bj + 1) * TILE).min(n));
                let w = j1 - j0;
                k.tile_f64(i0..i1, j0..j1, &mut buf[..(i1 - i0) * w])?;
                let t = View::row_major(&buf[..(i1 - i0) * w], i1 - i0, w)?;
                let vj = View::row_major(&v.as_slice()[j0 * b..j1 * b], w, b)?;
                gemm_into_par(&mut acc, t, vj, 1.0, true, false)?;
            }
            dst.copy_from_slice(acc.as_slice());
            bar.inc(1);
            Ok::<(), Error>(())
        })?;
    bar.finish_and_clear();
    Ok(out)
}
