//! The one tile interface under every n × n kernel widenet has.
//!
//! A [`TileKernel`] computes block (I, J) of its kernel from the inputs of I and
//! of J. Every way of using a kernel is a driver over this trait, written once:
//! the dense matrix (f64 or f32, [`dense_f64`], [`dense_f32`]), a `.npy` file
//! written tile by tile into a memory-mapped output ([`write_npy`]), the
//! matrix-free product K·V used by the large-n solvers ([`matvec`]), and (next) a
//! distributed engine that runs tiles on workers.
//!
//! Implementations must be deterministic: the same (rows, cols) always gives the
//! same bits, whatever thread computes it, so drivers can split work freely and
//! stay bit-identical at any thread count. Entry (i, i) of a tile is the kernel's
//! exact diagonal (θ = 0 for the angular kernels), wherever the tile lies.

use crate::error::{Error, Result};
use crate::linalg::{Matrix, Real};
use crate::runtime::{check_alloc, check_interrupt, memory_budget, progress_bar};
use rayon::prelude::*;
use std::ops::Range;
use std::path::Path;

/// Side of the square tiles the drivers request: a 256-row tile of a 784-dim
/// input fits L2, and a 256 × 256 f64 tile is 512 KiB.
pub const TILE: usize = 256;

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

    /// The diagonal K_ii, i = 0..n (Jacobi preconditioners, trace estimates).
    /// The default evaluates 1 × 1 tiles; kernels with a closed-form diagonal
    /// override it.
    fn diag(&self) -> Result<Vec<f64>> {
        let n = self.n();
        let mut d = vec![0.0; n];
        for (i, v) in d.iter_mut().enumerate() {
            self.tile_f64(i..i + 1, i..i + 1, std::slice::from_mut(v))?;
        }
        Ok(d)
    }
}

impl<K: TileKernel + ?Sized> TileKernel for &K {
    fn n(&self) -> usize {
        (**self).n()
    }
    fn name(&self) -> String {
        (**self).name()
    }
    fn tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) -> Result<()> {
        (**self).tile_f64(rows, cols, out)
    }
    fn tile_f32(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f32]) -> Result<()> {
        (**self).tile_f32(rows, cols, out)
    }
    fn cost_per_entry(&self) -> f64 {
        (**self).cost_per_entry()
    }
    fn diag(&self) -> Result<Vec<f64>> {
        (**self).diag()
    }
}

/// The element types a kernel can be evaluated in (f32, f64), so that each
/// driver is written once for both.
pub trait TileElem: Real {
    /// `k.tile_f64` or `k.tile_f32`.
    fn tile<K: TileKernel + ?Sized>(
        k: &K,
        rows: Range<usize>,
        cols: Range<usize>,
        out: &mut [Self],
    ) -> Result<()>;
    /// numpy's type string ("<f4", "<f8").
    const DESCR: &'static str;
}

impl TileElem for f64 {
    fn tile<K: TileKernel + ?Sized>(
        k: &K,
        rows: Range<usize>,
        cols: Range<usize>,
        out: &mut [f64],
    ) -> Result<()> {
        k.tile_f64(rows.clone(), cols.clone(), out)?;
        finite_tile(k, rows, cols, out)
    }
    const DESCR: &'static str = "<f8";
}

impl TileElem for f32 {
    fn tile<K: TileKernel + ?Sized>(
        k: &K,
        rows: Range<usize>,
        cols: Range<usize>,
        out: &mut [f32],
    ) -> Result<()> {
        k.tile_f32(rows.clone(), cols.clone(), out)?;
        finite_tile(k, rows, cols, out)
    }
    const DESCR: &'static str = "<f4";
}

/// Refuses a tile with a NaN or infinite entry: every driver goes through this, so
/// a kernel that overflows (inputs of norm 1e200, say) is an error naming the
/// kernel and the entry, never a file or a product with non-finite values.
fn finite_tile<T: Real, K: TileKernel + ?Sized>(
    k: &K,
    rows: Range<usize>,
    cols: Range<usize>,
    out: &[T],
) -> Result<()> {
    match out.iter().position(|v| !v.as_f64().is_finite()) {
        None => Ok(()),
        Some(p) => {
            let w = cols.len().max(1);
            Err(Error::Numerical(format!(
                "the {} kernel has a non-finite entry at ({}, {}) (inputs too large for {}?)",
                k.name(),
                rows.start + p / w,
                cols.start + p % w,
                T::NAME
            )))
        }
    }
}

/// Number of tile rows (= tile columns) of an n × n kernel.
pub fn n_blocks(n: usize) -> usize {
    n.div_ceil(TILE)
}

/// The index range of tile row (or column) `b`.
pub fn block(b: usize, n: usize) -> Range<usize> {
    b * TILE..((b + 1) * TILE).min(n)
}

/// `dst (m × n, row-major, contiguous)` = (or += with `accumulate`) `beta · A·B` on
/// the calling thread, A given by (`a`, row stride, column stride), B likewise.
/// The one GEMM call of every tile: inner products XᵢXⱼᵀ and tile applications.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_tile<T: Real>(
    dst: &mut [T],
    (m, n, k): (usize, usize, usize),
    (a, a_rs, a_cs): (&[T], usize, usize),
    (b, b_rs, b_cs): (&[T], usize, usize),
    beta: T,
    accumulate: bool,
) {
    assert_eq!(dst.len(), m * n, "gemm_tile: destination size");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.iter_mut().for_each(|v| *v = T::zero());
        }
        return;
    }
    // Every index the kernel reads is i*rs + j*cs below these bounds.
    assert!(
        (m - 1) * a_rs + (k - 1) * a_cs < a.len(),
        "gemm_tile: A bounds"
    );
    assert!(
        (k - 1) * b_rs + (n - 1) * b_cs < b.len(),
        "gemm_tile: B bounds"
    );
    // SAFETY: the asserts above keep every index of A, B and dst in bounds.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            T::one(),
            beta,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// The inner products ⟨x_i, x_j⟩ (i ∈ rows, j ∈ cols) of the rows of the
/// row-major n × d array `x`, scaled by `beta`, into `out` (one GEMM, calling
/// thread): the first step of every inner-product kernel's tile.
pub fn inner_tile<T: Real>(
    x: &[T],
    d: usize,
    rows: Range<usize>,
    cols: Range<usize>,
    beta: T,
    out: &mut [T],
) {
    let xi = &x[rows.start * d..rows.end * d];
    let xj = &x[cols.start * d..cols.end * d];
    gemm_tile(
        out,
        (rows.len(), cols.len(), d),
        (xi, d, 1),
        (xj, 1, d),
        beta,
        false,
    );
}

/// Checks that `rows` and `cols` lie in 0..n and `out` has their product's size.
pub fn check_tile(n: usize, rows: &Range<usize>, cols: &Range<usize>, len: usize) -> Result<()> {
    if rows.end > n || cols.end > n || rows.start > rows.end || cols.start > cols.end {
        return Err(Error::Shape(format!(
            "tile rows {rows:?}, columns {cols:?} outside a {n}x{n} kernel"
        )));
    }
    if len != rows.len() * cols.len() {
        return Err(Error::Shape(format!(
            "a {}x{} tile written into {len} values",
            rows.len(),
            cols.len()
        )));
    }
    Ok(())
}

struct SyncPtr<T>(*mut T);
// SAFETY: used only for disjoint reads and writes documented at each use.
unsafe impl<T: Send> Sync for SyncPtr<T> {}

/// Fills the n × n row-major `out` with the kernel: the lower block triangle
/// tile by tile (tile rows in parallel, each tile once), each tile written to
/// its place and, transposed, to its mirror above the diagonal while it is in
/// cache (a diagonal tile's strict lower triangle onto its upper one), so the
/// result is exactly symmetric and the same at any thread count.
fn fill_symmetric<T: TileElem, K: TileKernel + ?Sized>(
    k: &K,
    out: &mut [T],
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    let n = k.n();
    assert_eq!(out.len(), n * n, "fill_symmetric: an n x n output");
    if n == 0 {
        return Ok(());
    }
    let ptr = SyncPtr(out.as_mut_ptr());
    let ptr = &ptr;
    // tile row bi computes its tiles (bi, bj ≤ bi); it alone writes them and their
    // mirrors (bj, bi), disjoint from every other tile row's
    (0..n_blocks(n))
        .into_par_iter()
        .try_for_each_init(Vec::<T>::new, |buf, bi| -> Result<()> {
            check_interrupt()?;
            let r = block(bi, n);
            for bj in 0..=bi {
                let c = block(bj, n);
                let w = c.len();
                buf.resize(r.len() * w, T::zero());
                T::tile(k, r.clone(), c.clone(), buf)?;
                for (ii, src) in buf.chunks_exact(w).enumerate() {
                    // SAFETY: row r.start + ii, columns c lie in tile (bi, bj),
                    // written by this task only, inside the n × n buffer
                    unsafe {
                        let dst = ptr.0.add((r.start + ii) * n + c.start);
                        std::ptr::copy_nonoverlapping(src.as_ptr(), dst, w)
                    };
                }
                // the mirror: row j ∈ c, columns i ∈ r with i > j (the whole tile
                // off the diagonal; the strict lower triangle of a diagonal tile)
                for (jj, j) in c.clone().enumerate() {
                    for i in r.start.max(j + 1)..r.end {
                        // SAFETY: (j, i) with i > j lies above the diagonal in tile
                        // (bj, bi), written by this task only, inside the buffer
                        unsafe { *ptr.0.add(j * n + i) = buf[(i - r.start) * w + jj] };
                    }
                }
            }
            bar.inc(1);
            Ok(())
        })?;
    // an interrupt that landed after the last tile row's own check
    check_interrupt()
}

fn dense<T: TileElem, K: TileKernel + ?Sized>(k: &K, show: bool) -> Result<Matrix<T>> {
    let n = k.n();
    check_alloc(
        &format!("the {n} x {n} {} matrix ({})", k.name(), T::NAME),
        (n as u128) * (n as u128),
        std::mem::size_of::<T>() as u128,
    )?;
    let mut m = Matrix::<T>::zeros(n, n);
    let bar = progress_bar(n_blocks(n) as u64, &k.name(), show);
    fill_symmetric(k, m.as_mut_slice(), &bar)?;
    bar.finish_and_clear();
    Ok(m)
}

/// The dense kernel matrix in f64 (lower block triangle in parallel, mirrored;
/// deterministic). Checks the n² allocation against the memory budget.
pub fn dense_f64<K: TileKernel + ?Sized>(k: &K) -> Result<Matrix<f64>> {
    dense(k, false)
}

/// The dense kernel matrix in f32 (through [`TileKernel::tile_f32`]).
pub fn dense_f32<K: TileKernel + ?Sized>(k: &K) -> Result<Matrix<f32>> {
    dense(k, false)
}

/// [`dense_f64`] / [`dense_f32`] with a progress bar (tile rows, ETA) on stderr.
pub fn dense_with_progress<T: TileElem, K: TileKernel + ?Sized>(
    k: &K,
    show: bool,
) -> Result<Matrix<T>> {
    dense(k, show)
}

/// Element type of a `.npy` kernel file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NpyDtype {
    /// `<f4`.
    F32,
    /// `<f8`.
    F64,
}

/// How [`write_npy`] fills the file: decided from n and the memory budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum WriteMode {
    /// The whole output fits half the memory budget: lower block triangle once,
    /// mirrored inside the mapping (half the kernel evaluations).
    Symmetric,
    /// Block rows in order, each computed in full, flushed and released from
    /// memory before the next window: resident memory stays at a few block rows
    /// (every off-diagonal tile is evaluated twice).
    Streaming,
}

/// The numpy 1.0 header of a C-order n × n array of type `descr`, padded so the
/// data starts at a multiple of 64 bytes (numpy's own alignment).
pub fn npy_header(descr: &str, n: usize) -> Vec<u8> {
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({n}, {n}), }}")
        .into_bytes();
    let unpadded = 10 + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    dict.extend(std::iter::repeat_n(b' ', pad));
    dict.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((dict.len() as u16).to_le_bytes());
    out.extend(dict);
    out
}

/// Writes the kernel to `path` as an n × n `.npy` (C order, `dtype`), tile by
/// tile into a memory-mapped temporary file in the same directory, renamed to
/// `path` at the end. An error or an interrupt ([`check_interrupt`], once per
/// tile row) removes the temporary file, so `path` is either complete or
/// untouched. The matrix is never held in memory besides the mapping; when it
/// does not fit half the memory budget the [`WriteMode::Streaming`] mode keeps
/// only a window of block rows resident. Returns the mode used.
pub fn write_npy<K: TileKernel + ?Sized>(
    k: &K,
    path: &Path,
    dtype: NpyDtype,
    show: bool,
) -> Result<WriteMode> {
    match dtype {
        NpyDtype::F32 => write_npy_t::<f32, K>(k, path, show, None),
        NpyDtype::F64 => write_npy_t::<f64, K>(k, path, show, None),
    }
}

/// [`write_npy`] with the mode forced (tests, benchmarks).
pub fn write_npy_mode<K: TileKernel + ?Sized>(
    k: &K,
    path: &Path,
    dtype: NpyDtype,
    mode: WriteMode,
    show: bool,
) -> Result<WriteMode> {
    match dtype {
        NpyDtype::F32 => write_npy_t::<f32, K>(k, path, show, Some(mode)),
        NpyDtype::F64 => write_npy_t::<f64, K>(k, path, show, Some(mode)),
    }
}

fn write_npy_t<T: TileElem, K: TileKernel + ?Sized>(
    k: &K,
    path: &Path,
    show: bool,
    force: Option<WriteMode>,
) -> Result<WriteMode> {
    if cfg!(target_endian = "big") {
        return Err(Error::invalid(
            "out",
            "writing .npy kernels is implemented for little-endian machines only",
        ));
    }
    let n = k.n();
    let elem = std::mem::size_of::<T>();
    let header = npy_header(T::DESCR, n);
    let data_bytes = (n as u128) * (n as u128) * elem as u128;
    let total = u64::try_from(header.len() as u128 + data_bytes)
        .map_err(|_| Error::invalid("out", format!("a {n} x {n} kernel does not fit one file")))?;
    let mode = force.unwrap_or(if data_bytes <= memory_budget() as u128 / 2 {
        WriteMode::Symmetric
    } else {
        WriteMode::Streaming
    });
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let fname = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kernel.npy".into());
    let prefix = format!(".{fname}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".partial");
    #[cfg(unix)]
    {
        // an ordinary output file (0666 less the umask), not tempfile's private 0600
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(dir).map_err(|e| Error::io(path, e))?;
    tmp.as_file()
        .set_len(total)
        .map_err(|e| Error::io(tmp.path(), e))?;
    // SAFETY: the temporary file is ours alone (created just now with a random
    // name, removed on every early return) and keeps its length while mapped.
    let mut map =
        unsafe { memmap2::MmapMut::map_mut(tmp.as_file()) }.map_err(|e| Error::io(path, e))?;
    map[..header.len()].copy_from_slice(&header);
    let hlen = header.len();
    let bar = progress_bar(n_blocks(n) as u64, &format!("{} -> .npy", k.name()), show);
    match mode {
        WriteMode::Symmetric => {
            fill_symmetric(k, mapped_data::<T>(&mut map, hlen, 0, n * n), &bar)?
        }
        WriteMode::Streaming => fill_streaming::<T, K>(k, &mut map, hlen, &bar)?,
    }
    bar.finish_and_clear();
    map.flush().map_err(|e| Error::io(tmp.path(), e))?;
    drop(map);
    check_interrupt()?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(mode)
}

/// Elements [first, first + len) of the data of a mapped `.npy` whose data
/// starts at byte `hlen`, as a typed slice.
fn mapped_data<T: TileElem>(
    map: &mut memmap2::MmapMut,
    hlen: usize,
    first: usize,
    len: usize,
) -> &mut [T] {
    let elem = std::mem::size_of::<T>();
    let bytes = &mut map[hlen + first * elem..hlen + (first + len) * elem];
    // The mapping is page-aligned and the header a multiple of 64 bytes long.
    assert_eq!(bytes.as_ptr() as usize % std::mem::align_of::<T>(), 0);
    // SAFETY: `bytes` holds exactly len · size_of::<T>() bytes, suitably aligned
    // (checked above), and f32/f64 accept any bit pattern.
    unsafe { std::slice::from_raw_parts_mut(bytes.as_mut_ptr() as *mut T, len) }
}

/// Block rows in windows: each row of a window computes all its tiles (rows in
/// parallel; an upper tile as the transpose of its lower twin), then the window
/// is written back and dropped from the resident set (a shared file mapping: the
/// data stays in the file).
fn fill_streaming<T: TileElem, K: TileKernel + ?Sized>(
    k: &K,
    map: &mut memmap2::MmapMut,
    hlen: usize,
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    let n = k.n();
    if n == 0 {
        return Ok(());
    }
    let elem = std::mem::size_of::<T>();
    let row_block_bytes = TILE * n * elem;
    // a window: two block rows per thread, at most ~1/8 of the budget
    let cap = (memory_budget() as usize / 8 / row_block_bytes).max(1);
    let window = (2 * rayon::current_num_threads()).clamp(1, cap);
    let nb = n_blocks(n);
    for first in (0..nb).step_by(window) {
        check_interrupt()?;
        let r0 = first * TILE;
        let r1 = ((first + window) * TILE).min(n);
        let win = mapped_data::<T>(map, hlen, r0 * n, (r1 - r0) * n);
        win.par_chunks_mut(TILE * n).enumerate().try_for_each_init(
            Vec::<T>::new,
            |buf, (b, rows)| -> Result<()> {
                check_interrupt()?;
                let bi = first + b;
                let r = block(bi, n);
                for bj in 0..nb {
                    let c = block(bj, n);
                    buf.resize(r.len() * c.len(), T::zero());
                    if bj <= bi {
                        T::tile(k, r.clone(), c.clone(), buf)?;
                        for (ii, src) in buf.chunks_exact(c.len()).enumerate() {
                            rows[ii * n + c.start..ii * n + c.end].copy_from_slice(src);
                        }
                    } else {
                        // the transpose of lower tile (J, I), so the file holds
                        // exactly the matrix of [`dense_f64`] (a GEMM of another
                        // shape may round differently)
                        T::tile(k, c.clone(), r.clone(), buf)?;
                        for ii in 0..r.len() {
                            let dst = &mut rows[ii * n + c.start..ii * n + c.end];
                            for (jj, o) in dst.iter_mut().enumerate() {
                                *o = buf[jj * r.len() + ii];
                            }
                        }
                    }
                }
                bar.inc(1);
                Ok(())
            },
        )?;
        let (off, len) = (hlen + r0 * n * elem, (r1 - r0) * n * elem);
        map.flush_async_range(off, len)
            .map_err(|e| Error::io("memory-mapped kernel file", e))?;
        #[cfg(unix)]
        // SAFETY: DONTNEED on a shared file mapping only drops this process's
        // page-table entries; the written data stays in the file's page cache and
        // a later access reads it back. No reference into the range is alive.
        unsafe {
            let _ = map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, off, len);
        }
    }
    check_interrupt()
}

/// The matrix-free product K·V (V: n × b, f64) without a progress bar.
pub fn matvec<K: TileKernel + ?Sized>(k: &K, v: &Matrix<f64>) -> Result<Matrix<f64>> {
    matvec_with_progress(k, v, false)
}

/// Number of partial accumulators of [`matvec`]: a function of n and b only (never
/// of the thread count), at most 16 and at most ~1 GiB of accumulators.
pub fn matvec_slots(n: usize, b: usize) -> usize {
    let per = (n * b.max(1) * 8).max(1);
    ((1usize << 30) / per).clamp(1, 16).min(n_blocks(n).max(1))
}

/// Bytes of the partial accumulators a product K·V with V n × b holds
/// ([`matvec_slots`] of n × b in f64): ≤ 1 GiB, or one n × b block when that is larger.
pub fn matvec_scratch_bytes(n: usize, b: usize) -> u128 {
    matvec_slots(n, b) as u128 * n as u128 * b.max(1) as u128 * 8
}

/// The matrix-free product K·V, V n × b in f64, with each tile of the lower
/// block triangle (J ≤ I) computed once (f64) and applied to both sides:
/// Y_I += K_IJ V_J and, for J < I, Y_J += K_IJᵀ V_I. Memory: the partial sums
/// ([`matvec_slots`] × n × b) and one tile per thread; the kernel is never stored.
/// Deterministic at any thread count (see [`sym_tile_product`]).
/// Progress (tile rows, ETA) and [`check_interrupt`] once per tile row.
pub fn matvec_with_progress<K: TileKernel + ?Sized>(
    k: &K,
    v: &Matrix<f64>,
    show: bool,
) -> Result<Matrix<f64>> {
    let n = k.n();
    sym_tile_product::<f64>(n, v, &k.name(), show, &|bi, bj, buf, apply| {
        let (r, c) = (block(bi, n), block(bj, n));
        buf.resize(r.len() * c.len(), 0.0);
        f64::tile(k, r, c, buf)?;
        apply(buf);
        Ok(())
    })
}

/// A source of the lower block triangle's tiles in `T`: called with (I, J ≤ I), a
/// scratch buffer, and the function to apply to the tile (row-major,
/// |I| × |J|), which it must call exactly once. Stored tiles are passed as they
/// are; others are computed into the buffer.
pub type TileSource<'s, T> =
    dyn Fn(usize, usize, &mut Vec<T>, &mut dyn FnMut(&[T])) -> Result<()> + Sync + 's;

/// K·V for the symmetric n × n kernel whose lower-triangle tiles `source` gives,
/// in the precision `T` of the tiles (V is rounded to `T`, the tile products and
/// partial sums run in `T`, the partial sums are added in f64). Each tile is
/// applied to both sides: Y_I += K_IJ V_J and, for J < I, Y_J += K_IJᵀ V_I.
///
/// Determinism: the tile rows are dealt, in a fixed order that pairs short and
/// long rows, to [`matvec_slots`] partial accumulators (a number depending on n
/// and b only); each accumulator runs its rows in order, and the partials are
/// summed in slot order. The result is bit-identical at any thread count.
/// Progress (tile rows, ETA) and [`check_interrupt`] once per tile row.
pub fn sym_tile_product<T: Real>(
    n: usize,
    v: &Matrix<f64>,
    name: &str,
    show: bool,
    source: &TileSource<'_, T>,
) -> Result<Matrix<f64>> {
    if v.rows() != n {
        return Err(Error::Shape(format!(
            "kernel {name} is {n}x{n} but the block of vectors has {} rows",
            v.rows()
        )));
    }
    let b = v.cols();
    let nb = n_blocks(n);
    if n == 0 || b == 0 {
        return Ok(Matrix::zeros(n, b));
    }
    let slots = matvec_slots(n, b);
    check_alloc(
        "the tile product's partial sums",
        (slots as u128) * (n as u128) * (b as u128),
        std::mem::size_of::<T>() as u128,
    )?;
    // 0, nb−1, 1, nb−2, …: consecutive pairs cost the same (bi + 1 + nb − bi tiles).
    let order: Vec<usize> = (0..nb.div_ceil(2))
        .flat_map(|i| {
            let j = nb - 1 - i;
            if i == j {
                vec![i]
            } else {
                vec![i, j]
            }
        })
        .collect();
    let per_slot = nb.div_ceil(slots);
    let bar = progress_bar(nb as u64, &format!("{name} · V"), show);
    let vt: Vec<T> = v.as_slice().iter().map(|&x| T::of(x)).collect();
    let vs = &vt[..];
    let partials: Vec<Vec<T>> = order
        .chunks(per_slot)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|rows_of_slot| -> Result<Vec<T>> {
            let mut y = vec![T::zero(); n * b];
            let mut buf = Vec::<T>::new();
            for &bi in rows_of_slot {
                check_interrupt()?;
                let r = block(bi, n);
                for bj in 0..=bi {
                    let c = block(bj, n);
                    let y = &mut y;
                    source(bi, bj, &mut buf, &mut |tile: &[T]| {
                        debug_assert_eq!(tile.len(), r.len() * c.len());
                        // Y_I += K_IJ V_J
                        gemm_tile(
                            &mut y[r.start * b..r.end * b],
                            (r.len(), b, c.len()),
                            (tile, c.len(), 1),
                            (&vs[c.start * b..c.end * b], b, 1),
                            T::one(),
                            true,
                        );
                        if bj != bi {
                            // Y_J += K_IJᵀ V_I
                            gemm_tile(
                                &mut y[c.start * b..c.end * b],
                                (c.len(), b, r.len()),
                                (tile, 1, c.len()),
                                (&vs[r.start * b..r.end * b], b, 1),
                                T::one(),
                                true,
                            );
                        }
                    })?;
                }
                bar.inc(1);
            }
            Ok(y)
        })
        .collect::<Result<Vec<_>>>()?;
    // an interrupt that landed after the last tile row's own check
    check_interrupt()?;
    bar.finish_and_clear();
    let mut out = Matrix::<f64>::zeros(n, b);
    out.as_mut_slice()
        .par_chunks_mut(b)
        .enumerate()
        .for_each(|(i, row)| {
            for p in &partials {
                for (o, s) in row.iter_mut().zip(&p[i * b..(i + 1) * b]) {
                    *o += s.as_f64();
                }
            }
        });
    Ok(out)
}

/// K[rows, cols] into `out` (row-major, `rows.len() × cols.len()`), bit for bit
/// the entries [`dense_f64`] / [`dense_f32`] hold: the region is cut along the
/// same TILE grid, each lower tile (J ≤ I) is evaluated as the dense driver
/// evaluates it and each upper tile is the transpose of its lower twin. This is
/// the task body of a distributed engine (`widenet.dask`): any aligned block of
/// the kernel, anywhere, equals the single-machine kernel's block. `rows` and
/// `cols` must start on the grid (a multiple of [`TILE`]) and end on it or at n.
/// Runs on the calling thread (the engine supplies the parallelism).
pub fn region<T: TileElem, K: TileKernel + ?Sized>(
    k: &K,
    rows: Range<usize>,
    cols: Range<usize>,
    out: &mut [T],
) -> Result<()> {
    let n = k.n();
    check_tile(n, &rows, &cols, out.len())?;
    for (what, r) in [("rows", &rows), ("columns", &cols)] {
        if r.start % TILE != 0 || (r.end % TILE != 0 && r.end != n) {
            return Err(Error::invalid(
                what,
                format!("{r:?} is not aligned to the {TILE}-wide tile grid of an n = {n} kernel"),
            ));
        }
    }
    let w = cols.len();
    let mut buf = Vec::<T>::new();
    for bi in rows.start / TILE..rows.end.div_ceil(TILE) {
        check_interrupt()?;
        let r = block(bi, n);
        for bj in cols.start / TILE..cols.end.div_ceil(TILE) {
            let c = block(bj, n);
            buf.resize(r.len() * c.len(), T::zero());
            let (r0, c0) = (r.start - rows.start, c.start - cols.start);
            if bj <= bi {
                T::tile(k, r.clone(), c.clone(), &mut buf)?;
                for (ii, src) in buf.chunks_exact(c.len()).enumerate() {
                    out[(r0 + ii) * w + c0..(r0 + ii) * w + c0 + c.len()].copy_from_slice(src);
                }
            } else {
                T::tile(k, c.clone(), r.clone(), &mut buf)?;
                for ii in 0..r.len() {
                    let dst = &mut out[(r0 + ii) * w + c0..(r0 + ii) * w + c0 + c.len()];
                    for (jj, o) in dst.iter_mut().enumerate() {
                        *o = buf[jj * r.len() + ii];
                    }
                }
            }
        }
    }
    Ok(())
}
