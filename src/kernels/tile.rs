//! The one tile interface under every n × n kernel widenet has.
//!
//! A [`TileKernel`] computes block (I, J) of its kernel from the inputs of I and
//! of J. Every way of using a kernel is a driver over this trait, written once:
//! the dense matrix (f64 or f32), a `.npy` file written tile by tile, the
//! matrix-free product K·V used by the large-n solvers, and (next) a
//! distributed engine that runs tiles on workers.
//!
//! Implementations must be deterministic: the same (rows, cols) always gives the
//! same bits, whatever thread computes it, so drivers can split work freely and
//! stay bit-identical at any thread count.

use crate::error::Result;
use std::ops::Range;

/// A symmetric n × n kernel given by its inputs, computed block by block.
pub trait TileKernel: Sync {
    /// Number of rows (= columns) n.
    fn n(&self) -> usize;

    /// A short name for messages and progress ("H^inf", "fc-ntk depth 3", ...).
    fn name(&self) -> String;

    /// Writes K[rows, cols] into `out` (row-major, `rows.len() × cols.len()`) in f64.
    fn tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) -> Result<()>;

    /// Writes K[rows, cols] into `out` in f32. The default rounds the f64 tile;
    /// kernels with a faster single-precision path (H^∞ in f32) override it.
    fn tile_f32(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f32]) -> Result<()> {
        let mut buf = vec![0.0f64; out.len()];
        self.tile_f64(rows, cols, &mut buf)?;
        out.iter_mut().zip(&buf).for_each(|(o, v)| *o = *v as f32);
        Ok(())
    }

    /// Approximate flops (or element operations) per tile entry, for progress
    /// ETAs and cost models (e.g. 2d for a Gram-based kernel of dimension d).
    fn cost_per_entry(&self) -> f64 {
        1.0
    }
}
