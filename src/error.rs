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
        "{what} is not positive definite (smallest eigenvalue {min_eig:.3e}); \
         duplicate or parallel inputs make H^inf singular (seed 001, Remark 5.1)"
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
        "{what}: too ill-conditioned for the requested accuracy (estimated condition number \
         {cond:.3e}, achieved relative error {achieved:.3e}, requested {tol:.1e}); \
         near-duplicate inputs make H^inf (nearly) singular (seed 001, Remark 5.1)"
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
