//! Bring your own kernel: a precomputed n × n kernel matrix (a neural-tangents
//! CNN kernel, any PSD kernel) as a [`TileKernel`], so every driver and solver
//! that takes a kernel takes it too.
//!
//! [`StoredKernel::open`] memory-maps a square f32 or f64 `.npy` (C order; the
//! header is parsed by `npyz`) without reading it into memory; tiles are read
//! from the mapping on demand. [`StoredKernel::from_matrix`] wraps an array
//! (the Python API passes numpy arrays). Both refuse a matrix that is not square,
//! has a non-finite entry, or is not symmetric to a relative tolerance, naming
//! the file (or "kernel") and the worst pair.

use crate::error::{Error, Result};
use crate::kernels::tile::{block, check_tile, n_blocks, TileKernel};
use crate::linalg::Matrix;
use rayon::prelude::*;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Default relative symmetry tolerance for f32 files: |K_ij − K_ji| ≤ tol ·
/// √(|K_ii| |K_jj|) (the Cauchy–Schwarz scale of the pair in a PSD kernel).
pub const SYMMETRY_TOL_F32: f64 = 1e-5;
/// Default relative symmetry tolerance for f64 files and arrays.
pub const SYMMETRY_TOL_F64: f64 = 1e-10;

enum Storage {
    Mapped {
        map: memmap2::Mmap,
        /// Byte offset of element (0, 0).
        offset: usize,
        /// 4 (f32) or 8 (f64).
        elem: usize,
    },
    Owned(Matrix<f64>),
}

/// A precomputed symmetric kernel matrix, memory-mapped or owned.
pub struct StoredKernel {
    n: usize,
    source: PathBuf,
    storage: Storage,
}

impl StoredKernel {
    /// Memory-maps the square f32/f64 `.npy` at `path` and checks it (finite,
    /// symmetric to [`SYMMETRY_TOL_F32`] / [`SYMMETRY_TOL_F64`]).
    pub fn open(path: &Path) -> Result<StoredKernel> {
        Self::open_with_tolerance(path, None)
    }

    /// [`StoredKernel::open`] with a chosen relative symmetry tolerance (`None`:
    /// the default of the file's precision).
    pub fn open_with_tolerance(path: &Path, tol: Option<f64>) -> Result<StoredKernel> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: the mapping is read-only; a file truncated or changed by another
        // process while mapped is outside what this library can guard against
        // (as with numpy's mmap_mode).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let mut cursor = std::io::Cursor::new(&map[..]);
        let header = npyz::NpyHeader::from_reader(&mut cursor)
            .map_err(|e| Error::format(path, format!("not a .npy file: {e}")))?;
        let offset = cursor.position() as usize;
        let descr = match header.dtype() {
            npyz::DType::Plain(t) => t.to_string(),
            other => {
                return Err(Error::format(
                    path,
                    format!("a kernel must be a plain f32 or f64 array, not dtype {other:?}"),
                ))
            }
        };
        let elem = match descr.as_str() {
            "<f4" => 4,
            "<f8" => 8,
            other => {
                return Err(Error::format(
                    path,
                    format!(
                        "a kernel must be little-endian f32 or f64 ('<f4' or '<f8'), \
                         not '{other}'"
                    ),
                ))
            }
        };
        if header.order() != npyz::Order::C {
            return Err(Error::format(
                path,
                "a kernel must be stored in C order (fortran_order is True)",
            ));
        }
        let shape = header.shape();
        if shape.len() != 2 || shape[0] != shape[1] {
            return Err(Error::format(
                path,
                format!("a kernel must be a square n x n matrix, got shape {shape:?}"),
            ));
        }
        let n = usize::try_from(shape[0])
            .map_err(|_| Error::format(path, "the kernel's size does not fit memory"))?;
        let need = (n as u128) * (n as u128) * elem as u128 + offset as u128;
        if (map.len() as u128) < need {
            return Err(Error::format(
                path,
                format!(
                    "the header declares a {n}x{n} matrix ({need} bytes with the header) \
                     but the file has {} bytes",
                    map.len()
                ),
            ));
        }
        let k = StoredKernel {
            n,
            source: path.to_path_buf(),
            storage: Storage::Mapped { map, offset, elem },
        };
        let tol = tol.unwrap_or(if elem == 4 {
            SYMMETRY_TOL_F32
        } else {
            SYMMETRY_TOL_F64
        });
        k.validate(tol)?;
        if let Storage::Mapped { map, .. } = &k.storage {
            // The check read every page; hand them back (they are clean file pages,
            // read again on demand) so the check does not leave the file resident.
            #[cfg(unix)]
            // SAFETY: DONTNEED on a read-only file mapping only drops page-table
            // entries; later reads fault the same bytes back in from the file.
            unsafe {
                let _ = map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed);
            }
        }
        Ok(k)
    }

    /// Wraps an n × n array (checked like a file, tolerance [`SYMMETRY_TOL_F64`]).
    pub fn from_matrix(m: Matrix<f64>) -> Result<StoredKernel> {
        Self::from_matrix_with_tolerance(m, SYMMETRY_TOL_F64)
    }

    /// [`StoredKernel::from_matrix`] with a chosen relative symmetry tolerance.
    pub fn from_matrix_with_tolerance(m: Matrix<f64>, tol: f64) -> Result<StoredKernel> {
        if m.rows() != m.cols() {
            return Err(Error::invalid(
                "kernel",
                format!(
                    "a kernel must be a square n x n matrix, got {}x{}",
                    m.rows(),
                    m.cols()
                ),
            ));
        }
        let k = StoredKernel {
            n: m.rows(),
            source: PathBuf::from("kernel"),
            storage: Storage::Owned(m),
        };
        k.validate(tol)?;
        Ok(k)
    }

    /// The file the kernel was mapped from ("kernel" for an array).
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Entry (i, j) as f64.
    #[inline(always)]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        match &self.storage {
            Storage::Owned(m) => m.get(i, j),
            Storage::Mapped { map, offset, elem } => {
                let at = offset + (i * self.n + j) * elem;
                if *elem == 4 {
                    f32::from_le_bytes(map[at..at + 4].try_into().expect("4 bytes")) as f64
                } else {
                    f64::from_le_bytes(map[at..at + 8].try_into().expect("8 bytes"))
                }
            }
        }
    }

    /// Reads row i, columns `cols`, into `out` as f64.
    fn read_row(&self, i: usize, cols: Range<usize>, out: &mut [f64]) {
        match &self.storage {
            Storage::Owned(m) => out.copy_from_slice(&m.row(i)[cols]),
            Storage::Mapped { map, offset, elem } => {
                let at = offset + (i * self.n + cols.start) * elem;
                let bytes = &map[at..at + cols.len() * elem];
                if *elem == 4 {
                    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                        *o = f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64;
                    }
                } else {
                    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(8)) {
                        *o = f64::from_le_bytes(b.try_into().expect("8 bytes"));
                    }
                }
            }
        }
    }

    /// Refuses non-finite entries (naming the first one) and asymmetry beyond
    /// `tol` relative to √(|K_ii||K_jj|) (naming the worst pair), tile pairs in
    /// parallel.
    fn validate(&self, tol: f64) -> Result<()> {
        let n = self.n;
        let name = self.source.display().to_string();
        let diag: Vec<f64> = (0..n).map(|i| self.get(i, i)).collect();
        // (relative asymmetry, i, j) of the worst pair, or a non-finite entry.
        enum Bad {
            NonFinite(usize, usize, f64),
        }
        let nb = n_blocks(n);
        let worst = (0..nb)
            .into_par_iter()
            .map(|bi| -> std::result::Result<(f64, usize, usize), Bad> {
                let r = block(bi, n);
                let (mut a, mut t) = (Vec::new(), Vec::new());
                let mut worst = (0.0f64, 0usize, 0usize);
                for bj in 0..=bi {
                    let c = block(bj, n);
                    // A = K[I, J] and T = K[J, I], both read row by row
                    a.resize(r.len() * c.len(), 0.0);
                    t.resize(r.len() * c.len(), 0.0);
                    for (ii, dst) in a.chunks_exact_mut(c.len()).enumerate() {
                        self.read_row(r.start + ii, c.clone(), dst);
                    }
                    for (jj, dst) in t.chunks_exact_mut(r.len()).enumerate() {
                        self.read_row(c.start + jj, r.clone(), dst);
                    }
                    for ii in 0..r.len() {
                        let i = r.start + ii;
                        for jj in 0..c.len() {
                            let j = c.start + jj;
                            let (v, w) = (a[ii * c.len() + jj], t[jj * r.len() + ii]);
                            if !v.is_finite() {
                                return Err(Bad::NonFinite(i, j, v));
                            }
                            if !w.is_finite() {
                                return Err(Bad::NonFinite(j, i, w));
                            }
                            if j >= i {
                                continue;
                            }
                            let diff = (v - w).abs();
                            let scale = (diag[i].abs() * diag[j].abs()).sqrt();
                            let rel = if diff == 0.0 {
                                0.0
                            } else if scale > 0.0 {
                                diff / scale
                            } else {
                                f64::INFINITY
                            };
                            if rel > worst.0 {
                                worst = (rel, i, j);
                            }
                        }
                    }
                }
                Ok(worst)
            })
            .try_reduce(
                || (0.0, 0, 0),
                |x, y| {
                    Ok(if y.0 > x.0 || (y.0 == x.0 && (y.1, y.2) < (x.1, x.2)) {
                        y
                    } else {
                        x
                    })
                },
            );
        match worst {
            Err(Bad::NonFinite(i, j, v)) => Err(Error::format(
                &self.source,
                format!("kernel entry ({i}, {j}) is {v}; a kernel must be finite"),
            )),
            Ok((rel, i, j)) if rel > tol => Err(Error::format(
                &self.source,
                format!(
                    "the kernel in {name} is not symmetric: K[{i}][{j}] = {:e} but K[{j}][{i}] = \
                     {:e} (|difference| / sqrt(|K_ii K_jj|) = {rel:.3e} > tolerance {tol:e})",
                    self.get(i, j),
                    self.get(j, i)
                ),
            )),
            Ok(_) => Ok(()),
        }
    }
}

impl TileKernel for StoredKernel {
    fn n(&self) -> usize {
        self.n
    }
    fn name(&self) -> String {
        format!("kernel {}", self.source.display())
    }
    fn tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) -> Result<()> {
        check_tile(self.n, &rows, &cols, out.len())?;
        let w = cols.len();
        if w == 0 {
            return Ok(());
        }
        for (i, dst) in rows.zip(out.chunks_exact_mut(w)) {
            self.read_row(i, cols.clone(), dst);
        }
        Ok(())
    }
    fn tile_f32(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f32]) -> Result<()> {
        check_tile(self.n, &rows, &cols, out.len())?;
        let w = cols.len();
        if w == 0 {
            return Ok(());
        }
        let mut buf = vec![0.0f64; w];
        for (i, dst) in rows.zip(out.chunks_exact_mut(w)) {
            self.read_row(i, cols.clone(), &mut buf);
            dst.iter_mut().zip(&buf).for_each(|(o, v)| *o = *v as f32);
        }
        Ok(())
    }
    fn diag(&self) -> Result<Vec<f64>> {
        Ok((0..self.n).map(|i| self.get(i, i)).collect())
    }
}
