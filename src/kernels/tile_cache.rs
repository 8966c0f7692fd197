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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::relu_ntk::HInfKernel;
    use crate::kernels::tile::{dense_f32, dense_f64, matvec};

    fn inputs(n: usize, d: usize) -> Matrix<f64> {
        let mut g = crate::rng::stream(5, "tile cache test");
        Matrix::from_fn(n, d, |_, _| crate::rng::normal(&mut g))
    }

    /// Whatever the budget (nothing, some, every tile held), the product equals
    /// the f32 dense kernel times V to f32 accuracy, the f64 product to the f32
    /// rounding level, and is bit-identical across budgets.
    #[test]
    fn product_matches_dense_and_is_the_same_at_every_budget() {
        let n = 600; // three tile rows: 256, 256, 88
        let x = inputs(n, 7);
        let k = HInfKernel::new(&x).unwrap();
        let v = inputs(n, 3);
        let d32 = dense_f32(&k).unwrap();
        let d64 = dense_f64(&k).unwrap();
        let mut results = Vec::new();
        let full = TileCache::full_bytes(n);
        assert_eq!(full, (256 * 256 * 3 + 256 * 88 * 2 + 88 * 88) as u128 * 4);
        for budget in [0, full / 3, full - 1, full] {
            let c = TileCache::new(&k, budget, false).unwrap();
            assert_eq!(c.held_fraction() == 1.0, budget == full);
            assert!(c.held_bytes() <= budget);
            let y = c.product(&v, false).unwrap();
            // reference: the dense f32 matrix in f64 arithmetic
            for i in 0..n {
                for j in 0..3 {
                    let (mut e32, mut e64, mut s) = (0.0, 0.0, 0.0);
                    for l in 0..n {
                        let vv = v.get(l, j) as f32 as f64;
                        e32 += d32.get(i, l) as f64 * vv;
                        e64 += d64.get(i, l) * v.get(l, j);
                        s += (d64.get(i, l) * v.get(l, j)).abs();
                    }
                    assert!((y.get(i, j) - e32).abs() <= 1e-5 * s, "{i},{j}");
                    assert!((y.get(i, j) - e64).abs() <= 1e-5 * s, "{i},{j}");
                }
            }
            results.push(y);
        }
        for r in &results[1..] {
            assert_eq!(r.as_slice(), results[0].as_slice());
        }
        // and the f64 tile product agrees with it to f32 level
        let y64 = matvec(&k, &v).unwrap();
        let m = y64.as_slice().iter().fold(0.0f64, |a, v| a.max(v.abs()));
        for (a, b) in y64.as_slice().iter().zip(results[0].as_slice()) {
            assert!((a - b).abs() <= 1e-5 * m);
        }
    }

    #[test]
    fn entries_are_the_stored_values_in_either_orientation() {
        let n = 300;
        let x = inputs(n, 5);
        let k = HInfKernel::new(&x).unwrap();
        let d32 = dense_f32(&k).unwrap();
        let c = TileCache::new(&k, TileCache::full_bytes(n) / 2, false).unwrap();
        for (bi, bj) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let (t, r, cc) = c.entries(bi, bj).unwrap();
            for i in 0..r {
                for j in 0..cc {
                    assert_eq!(t[i * cc + j], d32.get(bi * 256 + i, bj * 256 + j));
                }
            }
        }
    }
}
