//! The kernel's f32 tiles kept in memory as far as a byte budget allows, the
//! rest recomputed from the inputs at every product: the operator of the
//! large-n `matrix-free` path (issue 11), between storing the whole f32 kernel
//! (4n² bytes) and recomputing every tile.
//!
//! Only the lower block triangle (J ≤ I) is held, each tile once (about 2n²
//! bytes for all of them), and applied to both sides by
//! [`sym_tile_product`]. Which tiles are held is a function of n and the budget
//! only (the first ones in row order), and a recomputed tile has the same bits
//! as a held one ([`TileKernel`] implementations are deterministic), so the
//! products are bit-identical whatever the budget and the thread count.

use crate::error::Result;
use crate::kernels::tile::{block, n_blocks, sym_tile_product, TileElem, TileKernel};
use crate::linalg::Matrix;
use crate::runtime::{check_interrupt, progress_bar};
use rayon::prelude::*;

/// The f32 tiles of a kernel's lower block triangle, as many as fit a budget.
pub struct TileCache<'a> {
    k: &'a dyn TileKernel,
    n: usize,
    /// Tile (I, J ≤ I) at index I(I+1)/2 + J; `None` when recomputed.
    tiles: Vec<Option<Vec<f32>>>,
    held: usize,
    held_bytes: u128,
}

/// Index of tile (bi, bj ≤ bi) in the row-major lower block triangle.
fn tri(bi: usize, bj: usize) -> usize {
    bi * (bi + 1) / 2 + bj
}

/// The f32 bytes of each lower-triangle tile (I, J ≤ I) of an n × n kernel, in
/// row order (the order of [`tri`] and of the tiles [`TileCache::new`] holds).
fn tile_bytes(n: usize) -> impl Iterator<Item = u128> {
    (0..n_blocks(n)).flat_map(move |bi| {
        let r = block(bi, n).len() as u128;
        (0..=bi).map(move |bj| r * block(bj, n).len() as u128 * 4)
    })
}

impl<'a> TileCache<'a> {
    /// Bytes of all lower-triangle tiles of an n × n kernel in f32.
    pub fn full_bytes(n: usize) -> u128 {
        tile_bytes(n).sum()
    }

    /// Computes and holds the first lower-triangle tiles in row order whose f32
    /// bytes fit `budget` (tile rows in parallel; progress and Ctrl-C per row).
    pub fn new(k: &'a dyn TileKernel, budget: u128, show: bool) -> Result<Self> {
        let n = k.n();
        let nb = n_blocks(n);
        let mut bytes = 0u128;
        let mut full = true;
        let keep: Vec<bool> = tile_bytes(n)
            .map(|t| {
                full = full && bytes + t <= budget;
                if full {
                    bytes += t;
                }
                full
            })
            .collect();
        let held = keep.iter().filter(|h| **h).count();
        let rows_held = (0..nb).filter(|&bi| keep[tri(bi, 0)]).count();
        let bar = progress_bar(rows_held as u64, &format!("{} f32 tiles", k.name()), show);
        let rows: Vec<Vec<Option<Vec<f32>>>> = (0..nb)
            .into_par_iter()
            .map(|bi| -> Result<Vec<Option<Vec<f32>>>> {
                if !keep[tri(bi, 0)] {
                    return Ok(vec![None; bi + 1]);
                }
                check_interrupt()?;
                let r = block(bi, n);
                let out = (0..=bi)
                    .map(|bj| -> Result<Option<Vec<f32>>> {
                        if !keep[tri(bi, bj)] {
                            return Ok(None);
                        }
                        let c = block(bj, n);
                        let mut t = vec![0.0f32; r.len() * c.len()];
                        f32::tile(k, r.clone(), c, &mut t)?;
                        Ok(Some(t))
                    })
                    .collect::<Result<Vec<_>>>()?;
                bar.inc(1);
                Ok(out)
            })
            .collect::<Result<Vec<_>>>()?;
        check_interrupt()?;
        bar.finish_and_clear();
        Ok(TileCache {
            k,
            n,
            tiles: rows.into_iter().flatten().collect(),
            held,
            held_bytes: bytes,
        })
    }

    /// The kernel's size n.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The fraction of the lower-triangle tiles held (1: nothing is recomputed).
    pub fn held_fraction(&self) -> f64 {
        if self.tiles.is_empty() {
            1.0
        } else {
            self.held as f64 / self.tiles.len() as f64
        }
    }

    /// Bytes of the held tiles.
    pub fn held_bytes(&self) -> u128 {
        self.held_bytes
    }

    /// Calls `f` with f32 tile (bi, bj ≤ bi): the held one, or one computed into `buf`.
    pub fn with_tile(
        &self,
        bi: usize,
        bj: usize,
        buf: &mut Vec<f32>,
        f: &mut dyn FnMut(&[f32]),
    ) -> Result<()> {
        match &self.tiles[tri(bi, bj)] {
            Some(t) => f(t),
            None => {
                let (r, c) = (block(bi, self.n), block(bj, self.n));
                buf.resize(r.len() * c.len(), 0.0);
                f32::tile(self.k, r, c, buf)?;
                f(buf);
            }
        }
        Ok(())
    }

    /// K₃₂·V with f32 tiles and f32 products (V rounded to f32), the partial
    /// sums added in f64: the accuracy of a GEMM on the stored f32 kernel.
    pub fn product(&self, v: &Matrix<f64>, show: bool) -> Result<Matrix<f64>> {
        sym_tile_product::<f32>(self.n, v, &self.k.name(), show, &|bi, bj, buf, apply| {
            self.with_tile(bi, bj, buf, apply)
        })
    }

    /// The f32 entries K₃₂[rows, cols] for rows and cols inside one tile row and
    /// one tile column (a sample of the stored values, e.g. for rounding bounds).
    pub fn entries(&self, bi: usize, bj: usize) -> Result<(Vec<f32>, usize, usize)> {
        let (bi, bj, tr) = if bj <= bi {
            (bi, bj, false)
        } else {
            (bj, bi, true)
        };
        let (r, c) = (block(bi, self.n).len(), block(bj, self.n).len());
        let mut out = Vec::new();
        let mut buf = Vec::new();
        self.with_tile(bi, bj, &mut buf, &mut |t| out = t.to_vec())?;
        if tr {
            let t = (0..r * c).map(|x| out[(x % r) * c + x / r]).collect();
            return Ok((t, c, r));
        }
        Ok((out, r, c))
    }
}
