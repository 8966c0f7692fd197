//! Library errors as Python exceptions (`WidenetError`, `ValueError`, `MemoryError`, …),
//! with the library's flag names turned into the Python keywords ([`pythonize`]).

use pyo3::exceptions::{
    PyKeyboardInterrupt, PyMemoryError, PyOSError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use widenet::Error;

pyo3::create_exception!(
    _widenet,
    WidenetError,
    PyRuntimeError,
    "A numerical failure in widenet: a kernel that is not positive definite, gradient \
     descent that diverged, or a non-finite intermediate value."
);

/// The Python exception for a library error (the message is the library's, naming the
/// argument, file or quantity).
pub(crate) fn py_err(e: Error) -> PyErr {
    let msg = pythonize(&e.to_string());
    match e {
        Error::Invalid { .. } | Error::Shape(_) | Error::Format { .. } | Error::Json { .. } => {
            PyValueError::new_err(msg)
        }
        Error::NotPositiveDefinite { .. }
        | Error::IllConditioned { .. }
        | Error::Diverged { .. }
        | Error::Numerical(_) => WidenetError::new_err(msg),
        Error::Resource { .. } => PyMemoryError::new_err(msg),
        Error::Interrupted => PyKeyboardInterrupt::new_err(msg),
        Error::Io { err, .. } => PyOSError::new_err((err.raw_os_error().unwrap_or(0), msg)),
    }
}

/// The library's message in Python's words: a command-line flag `--memory-budget` becomes
/// the call that sets it, `--set width` the keyword `width`, every other `--flag-name` the
/// keyword argument `flag_name` (`--eta 1e2` → `eta=1e2`; `--N` → `N`, as `complexity`
/// spells its keywords), since a Python caller has no flags.
pub(crate) fn pythonize(msg: &str) -> String {
    // an experiment's setting is a keyword of `reproduce` (`width=`), not `--set width`
    let msg = msg
        .replace(
            "set --memory-budget",
            "call widenet.set_memory_budget(bytes)",
        )
        .replace("--set ", "");
    let c: Vec<char> = msg.chars().collect();
    let mut out = String::with_capacity(msg.len());
    let mut i = 0;
    while i < c.len() {
        let flag = c[i] == '-'
            && c.get(i + 1) == Some(&'-')
            && c.get(i + 2).is_some_and(|x| x.is_ascii_alphabetic())
            && (i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '-'));
        if !flag {
            out.push(c[i]);
            i += 1;
            continue;
        }
        let mut j = i + 2;
        while j < c.len()
            && (c[j].is_ascii_alphanumeric()
                || (c[j] == '-' && j + 1 < c.len() && c[j + 1].is_ascii_alphanumeric()))
        {
            j += 1;
        }
        out.extend(c[i + 2..j].iter().map(|&x| if x == '-' { '_' } else { x }));
        // a value right after the flag: `--eta 1e2` → `eta=1e2`
        let numeric = |k: usize| c.get(k).is_some_and(|x| x.is_ascii_digit() || *x == '.');
        if c.get(j) == Some(&' ')
            && (numeric(j + 1) || (c.get(j + 1) == Some(&'-') && numeric(j + 2)))
        {
            out.push('=');
            j += 1;
        }
        i = j;
    }
    out
}

/// The option `s` of the keyword argument `keyword`, read with the library's `FromStr` (an
/// option enum, a labeling): a ValueError names `keyword` and lists the accepted values.
pub(crate) fn option<T: std::str::FromStr<Err = Error>>(keyword: &str, s: &str) -> PyResult<T> {
    widenet::options::parse(keyword, s).map_err(py_err)
}

pub(crate) fn invalid(name: &str, msg: impl Into<String>) -> PyErr {
    py_err(Error::invalid(name, msg))
}
