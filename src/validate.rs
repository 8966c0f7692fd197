//! Checks of values that come from a user (flags, files) before any work is
//! done with them: counts in a stated range, finite positive reals, finite
//! arrays. Every error names the flag or the file, so the user can act on it.

use crate::error::{Error, Result};
use crate::linalg::{Matrix, Real};
use std::path::Path;

/// The largest width m accepted from a flag. Far beyond every experiment in
/// the seeds (the widest is 10^4); the memory a width needs is checked
/// separately against the budget ([`crate::runtime::check_alloc`]).
pub const MAX_WIDTH: usize = 10_000_000;
/// The largest iteration or epoch count accepted from a flag: 10^9 iterations
/// are days of work at any size, and `steps + 1` stays far from overflow.
pub const MAX_STEPS: usize = 1_000_000_000;
/// The largest number of training points accepted from a flag.
pub const MAX_POINTS: usize = 100_000_000;
/// The largest depth D of a fully connected NTK (`kernel fc-ntk --depth`).
/// Without the factor 2 in the ReLU layer the diagonal halves at every layer,
/// Σ^D_xx = ‖x‖²/(d·2^{D−1}) ([`crate::kernels::fc`]), so for unit-scale
/// inputs the kernel leaves f64's normal range (2^−1022) near D = 1000 and
/// underflows to zero soon after; the recursion also costs O(D) per entry.
pub const MAX_DEPTH: usize = 1000;

/// `v` if it lies in `min..=max`, else an error naming `flag`.
pub fn count(flag: &str, v: usize, min: usize, max: usize) -> Result<usize> {
    if v < min || v > max {
        return Err(Error::invalid(
            flag,
            format!("{v} is outside the accepted range {min}..={max}"),
        ));
    }
    Ok(v)
}

/// [`count`] for an optional flag.
pub fn count_opt(flag: &str, v: Option<usize>, min: usize, max: usize) -> Result<Option<usize>> {
    v.map(|v| count(flag, v, min, max)).transpose()
}

/// `v` if it is finite and > 0, else an error naming `flag`.
pub fn positive(flag: &str, v: f64) -> Result<f64> {
    if !(v.is_finite() && v > 0.0) {
        return Err(Error::invalid(
            flag,
            format!("{v} must be a finite number > 0"),
        ));
    }
    Ok(v)
}

/// [`positive`] for an optional flag.
pub fn positive_opt(flag: &str, v: Option<f64>) -> Result<Option<f64>> {
    v.map(|v| positive(flag, v)).transpose()
}

/// `v` if it is finite and ≥ 0, else an error naming `flag`.
pub fn non_negative(flag: &str, v: f64) -> Result<f64> {
    if !(v.is_finite() && v >= 0.0) {
        return Err(Error::invalid(
            flag,
            format!("{v} must be a finite number >= 0"),
        ));
    }
    Ok(v)
}

/// Checks, before any long computation, that the file `path` can be written
/// where [`crate::data::npy::atomic_write`] will write it: its directory is
/// created if missing, `path` must not be a directory, and a probe file is
/// created in that directory and removed again. Errors name `path`.
pub fn check_writable(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::invalid(
            "output",
            format!("{} is a directory; give a file name", path.display()),
        ));
    }
    if path.file_name().is_none() {
        return Err(Error::invalid(
            "output",
            format!("{} has no file name", path.display()),
        ));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| {
        Error::invalid(
            "output",
            format!("cannot create the directory of {}: {e}", path.display()),
        )
    })?;
    let probe = dir.join(format!(".widenet-probe.{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::invalid(
            "output",
            format!("{} cannot be written: {e}", path.display()),
        )),
    }
}

/// Refuses two output flags that name the same file (the second write would
/// replace the first), comparing the paths after resolving their directories.
pub fn distinct_outputs(a: (&str, &Path), b: (&str, &Path)) -> Result<()> {
    let resolve = |p: &Path| -> std::path::PathBuf {
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        match (std::fs::canonicalize(parent), p.file_name()) {
            (Ok(d), Some(f)) => d.join(f),
            _ => p.to_path_buf(),
        }
    };
    if a.1 == b.1 || resolve(a.1) == resolve(b.1) {
        return Err(Error::invalid(
            format!("{}/{}", a.0, b.0),
            format!("both name {}; give two different files", a.1.display()),
        ));
    }
    Ok(())
}

/// The first non-finite entry of `data` as (index, value).
fn first_non_finite<T: Real>(data: &[T]) -> Option<(usize, f64)> {
    data.iter()
        .position(|v| !v.is_finite())
        .map(|i| (i, data[i].as_f64()))
}

/// Refuses a matrix read from `path` that holds NaN or ±Inf, naming the file
/// and the first bad entry. (ReLU's `max(0, x)` maps NaN to 0, so a NaN input
/// would otherwise train "successfully" to NaN weights.)
pub fn finite_matrix<T: Real>(path: &Path, m: &Matrix<T>) -> Result<()> {
    if let Some((k, v)) = first_non_finite(m.as_slice()) {
        let cols = m.cols().max(1);
        return Err(Error::format(
            path,
            format!(
                "non-finite value {v} at row {}, column {}: inputs must be finite numbers",
                k / cols,
                k % cols
            ),
        ));
    }
    Ok(())
}

/// Refuses values read from `path` that hold NaN or ±Inf, naming the file and
/// the first bad entry (flat index in C order).
pub fn finite_values<T: Real>(path: &Path, data: &[T]) -> Result<()> {
    if let Some((k, v)) = first_non_finite(data) {
        return Err(Error::format(
            path,
            format!("non-finite value {v} at index {k}: values must be finite numbers"),
        ));
    }
    Ok(())
}

/// Refuses a computed result `what` (a kernel, a curve) that overflowed to
/// NaN or ±Inf, instead of writing it: an error that says where and why.
pub fn finite_output<T: Real>(what: &str, data: &[T]) -> Result<()> {
    if let Some((k, v)) = first_non_finite(data) {
        return Err(Error::Numerical(format!(
            "{what} has a non-finite entry ({v} at flat index {k}): the computation \
             overflowed (inputs of very large norm, or a parameter such as a learning \
             rate that is too large); nothing was written"
        )));
    }
    Ok(())
}
