//! The library's error type: every failure names the file, field, flag or
//! quantity that caused it, so a user can act on it.

use std::path::PathBuf;

/// Errors from widenet's library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system error on a named file.
    #[error("{path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    /// A file whose contents do not match its declared format.
    #[error("{path}: {msg}")]
    Format { path: PathBuf, msg: String },
    /// Arrays whose shapes do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A kernel (Gram) matrix that Cholesky could not factor.
    #[error(
        "{what} is not positive definite (smallest eigenvalue {min_eig:.3e}); {}",
        pd_hint(*.min_eig)
    )]
    NotPositiveDefinite { what: String, min_eig: f64 },
    /// Training whose loss grew past its starting value.
    #[error(
        "gradient descent diverged at iteration {iter}: loss {loss:.4e} grew past its start \
         {start:.4e} with eta = {eta:e}; try a smaller learning rate, e.g. --eta {suggest:e}"
    )]
    Diverged {
        iter: usize,
        loss: f64,
        start: f64,
        eta: f64,
        suggest: f64,
    },
    /// A bad value of a named argument, flag or setting.
    #[error("invalid {name}: {msg}")]
    Invalid { name: String, msg: String },
    /// A non-finite value where a finite one is required.
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// The computation was interrupted (Ctrl-C, KeyboardInterrupt); nothing was written.
    #[error("interrupted")]
    Interrupted,
    /// An allocation that does not fit the memory budget.
    #[error(
        "{what} needs {needed}, more than the memory budget of {budget} (set --memory-budget)"
    )]
    Resource {
        what: String,
        needed: String,
        budget: String,
    },
    /// A kernel too ill-conditioned for the requested accuracy (large-n solvers).
    #[error(
        "{what}: {}",
        ill_text(*.cond, *.achieved, *.tol)
    )]
    IllConditioned {
        what: String,
        cond: f64,
        achieved: f64,
        tol: f64,
    },
    /// JSON (de)serialization of a named file.
    #[error("{path}: {err}")]
    Json {
        path: PathBuf,
        err: serde_json::Error,
    },
}

/// Result alias used throughout the library.
/// What a failed factorization says about the matrix, whoever's it is: a clearly negative
/// eigenvalue (below −1e-8, far beyond rounding for kernels of entries O(1)…O(n)) means it is not a kernel (Gram) matrix at all; one at rounding level means a
/// singular kernel, as duplicate or parallel inputs make H^inf (seed 001, Remark 5.1).
fn pd_hint(min_eig: f64) -> &'static str {
    if min_eig < -1e-8 {
        "a kernel (Gram) matrix has no negative eigenvalues: check that the matrix given is one"
    } else {
        "the matrix is (numerically) singular: duplicate or parallel inputs make a kernel \
         matrix singular (for H^inf: seed 001, Remark 5.1)"
    }
}

/// The ill-conditioning message. A finite positive condition estimate is ill-conditioning;
/// an infinite (or NaN) one means a solver met a direction with p^T K p <= 0 in its working
/// precision: a kernel matrix that is singular at that precision (near-duplicate inputs, or
/// an f32 stage rounding a nearly singular kernel), not a user's mistake; a negative one
/// means the matrix given has a negative eigenvalue (the message then quotes no condition
/// number).
fn ill_text(cond: f64, achieved: f64, tol: f64) -> String {
    let numbers = format!(
        "estimated condition number {cond:.3e}, achieved relative error {achieved:.3e}, \
         requested {tol:.1e}"
    );
    if cond.is_finite() && cond > 0.0 {
        format!(
            "too ill-conditioned for the requested accuracy ({numbers}); near-duplicate inputs \
             make a kernel matrix nearly singular (for H^inf: seed 001, Remark 5.1)"
        )
    } else if cond.is_nan() || cond > 0.0 {
        format!(
            "singular to the solver's working precision ({numbers}): near-duplicate or \
             parallel inputs make a kernel matrix numerically singular (for H^inf: seed 001, \
             Remark 5.1); remove them, add a ridge, or use the f64 path"
        )
    } else {
        // a negative "condition number" (λ_max estimate < 0, or negative curvature) is no
        // condition number: quoting it (e.g. -4.5e307) would only confuse
        format!(
            "not positive definite (the solver met a negative eigenvalue or a direction v with \
             v^T K v < 0; requested relative error {tol:.1e}): a kernel (Gram) matrix has no \
             negative eigenvalues; check that the matrix given is one"
        )
    }
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An invalid-argument error for the flag or field `name`.
    pub fn invalid(name: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Invalid {
            name: name.into(),
            msg: msg.into(),
        }
    }
    /// A format error for the file `path`.
    pub fn format(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            msg: msg.into(),
        }
    }
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            err: source,
        }
    }
}
