//! Conversion between numpy arrays and the library's matrices (copied once, every entry
//! checked finite and named), results back as numpy arrays, and [`run`]: the GIL released
//! around the library call, Ctrl-C watched.

use crate::errors::*;
use numpy::ndarray::{Array1, Array2, ArrayViewD};
use numpy::{IntoPyArray, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::sync::{Condvar, Mutex};
use std::time::Duration;
use widenet::{Error, Matrix, Real};

/// A float32 or float64 numpy array (the Python layer converts everything else).
#[derive(FromPyObject)]
pub(crate) enum Arr<'py> {
    F64(PyReadonlyArrayDyn<'py, f64>),
    F32(PyReadonlyArrayDyn<'py, f32>),
}

/// Runs `f` on a worker thread with the GIL released; the calling thread polls for
/// signals every 50 ms. On KeyboardInterrupt (or any exception a signal handler raises)
/// it requests the library's interrupt, waits for the worker to unwind with
/// `Error::Interrupted` (long loops check about every second or more often), clears the
/// flag and re-raises the handler's exception.
pub(crate) fn run<R: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> widenet::Result<R> + Send,
) -> PyResult<R> {
    // `done` turns true when the worker finishes (also when it panics: the guard's drop)
    let done = (Mutex::new(false), Condvar::new());
    let done = &done;
    std::thread::scope(|s| {
        let worker = s.spawn(move || {
            struct Finish<'a>(&'a (Mutex<bool>, Condvar));
            impl Drop for Finish<'_> {
                fn drop(&mut self) {
                    *self.0 .0.lock().unwrap_or_else(|e| e.into_inner()) = true;
                    self.0 .1.notify_all();
                }
            }
            let _finish = Finish(done);
            f()
        });
        loop {
            let finished = py.detach(|| {
                let g = done.0.lock().unwrap_or_else(|e| e.into_inner());
                let (g, _) = done
                    .1
                    .wait_timeout_while(g, Duration::from_millis(50), |d| !*d)
                    .unwrap_or_else(|e| e.into_inner());
                *g
            });
            if finished {
                break;
            }
            if let Err(signal) = py.check_signals() {
                widenet::runtime::request_interrupt();
                let _ = py.detach(|| worker.join());
                widenet::runtime::clear_interrupt();
                return Err(signal);
            }
        }
        match py.detach(|| worker.join()) {
            Ok(r) => {
                if matches!(r, Err(Error::Interrupted)) {
                    // another thread's KeyboardInterrupt stopped this call too
                    widenet::runtime::clear_interrupt();
                }
                r.map_err(py_err)
            }
            Err(_) => Err(PyRuntimeError::new_err(
                "widenet: internal error (a worker thread panicked); please report it",
            )),
        }
    })
}

impl Arr<'_> {
    pub(crate) fn shape(&self) -> Vec<usize> {
        match self {
            Arr::F64(a) => a.shape().to_vec(),
            Arr::F32(a) => a.shape().to_vec(),
        }
    }
    pub(crate) fn is_f32(&self) -> bool {
        matches!(self, Arr::F32(_))
    }
}

/// The entry (as a tuple) at flat row-major position `k` of `shape`.
pub(crate) fn unravel(mut k: usize, shape: &[usize]) -> String {
    let mut idx = vec![0; shape.len()];
    for (i, &s) in shape.iter().enumerate().rev() {
        if s > 0 {
            idx[i] = k % s;
            k /= s;
        }
    }
    let parts: Vec<String> = idx.iter().map(|v| v.to_string()).collect();
    format!("({})", parts.join(", "))
}

/// Copies `v` (any memory order) into a row-major vector of `U`, once, checking
/// finiteness.
pub(crate) fn collect_view<T: Copy + Into<f64>, U: Real>(
    v: ArrayViewD<'_, T>,
    name: &str,
) -> PyResult<Vec<U>> {
    let mut out = Vec::with_capacity(v.len());
    for (k, &x) in v.iter().enumerate() {
        let x: f64 = x.into();
        if !x.is_finite() {
            return Err(invalid(
                name,
                format!(
                    "entry {} is {x}; every value must be finite",
                    unravel(k, v.shape())
                ),
            ));
        }
        out.push(U::of(x));
    }
    Ok(out)
}

/// The values of `a` in row-major order, converted to `U`, checked finite.
pub(crate) fn values<U: Real>(a: &Arr<'_>, name: &str) -> PyResult<Vec<U>> {
    match a {
        Arr::F64(x) => collect_view(x.as_array(), name),
        Arr::F32(x) => collect_view(x.as_array(), name),
    }
}

/// A 2-D argument as a library matrix in precision `U`.
pub(crate) fn matrix<U: Real>(a: &Arr<'_>, name: &str) -> PyResult<Matrix<U>> {
    let shape = a.shape();
    if shape.len() != 2 {
        return Err(invalid(
            name,
            format!(
                "expected a 2-D array (one sample per row), got {} dimension(s) with shape {shape:?}",
                shape.len()
            ),
        ));
    }
    let v = values::<U>(a, name)?;
    Matrix::from_vec(shape[0], shape[1], v).map_err(py_err)
}

/// A 1-D argument as a vector of f64.
pub(crate) fn vector(a: &Arr<'_>, name: &str) -> PyResult<Vec<f64>> {
    let shape = a.shape();
    if shape.len() != 1 {
        return Err(invalid(
            name,
            format!("expected a 1-D array, got shape {shape:?}"),
        ));
    }
    values::<f64>(a, name)
}

/// An error naming `name` unless `got` (labels or targets) matches `rows`:
/// "{got} {noun} for {rows} {of}".
pub(crate) fn check_count(
    name: &str,
    got: usize,
    noun: &str,
    rows: usize,
    of: &str,
) -> PyResult<()> {
    if got != rows {
        return Err(invalid(name, format!("{got} {noun} for {rows} {of}")));
    }
    Ok(())
}

/// The optional test set of the training functions: both `x_test` and `y_test` converted
/// (and checked against the training data) by `convert`, or neither; one alone is an
/// error naming both arguments.
pub(crate) fn test_pair<'py, T>(
    x_test: &Option<Arr<'py>>,
    y_test: &Option<Arr<'py>>,
    noun: &str,
    convert: impl FnOnce(&Arr<'py>, &Arr<'py>) -> PyResult<T>,
) -> PyResult<Option<T>> {
    match (x_test, y_test) {
        (Some(a), Some(b)) => convert(a, b).map(Some),
        (None, None) => Ok(None),
        _ => Err(invalid(
            "x_test/y_test",
            format!("give both the test inputs and the test {noun}, or neither"),
        )),
    }
}

/// Whether every given input array is float32: the kernels computed in float64 then
/// return float32, so every kernel keeps its inputs' dtype alike (issue 24).
pub(crate) fn all_f32(x: &Arr<'_>, x2: Option<&Arr<'_>>) -> bool {
    x.is_f32() && x2.is_none_or(|a| a.is_f32())
}

/// A float64 kernel as numpy, rounded once to float32 when `f32` (the inputs' dtype,
/// [`all_f32`]).
pub(crate) fn out2_as(py: Python<'_>, m: Matrix<f64>, f32: bool) -> Bound<'_, PyAny> {
    if f32 {
        let (r, c) = m.shape();
        let v: Vec<f32> = m.into_vec().into_iter().map(|e| e as f32).collect();
        out2(py, Matrix::from_vec(r, c, v).expect("the same shape"))
    } else {
        out2(py, m)
    }
}

pub(crate) fn out2<T: numpy::Element + Real>(py: Python<'_>, m: Matrix<T>) -> Bound<'_, PyAny> {
    let (r, c) = m.shape();
    Array2::from_shape_vec((r, c), m.into_vec())
        .expect("a matrix's buffer has rows x cols values")
        .into_pyarray(py)
        .into_any()
}

pub(crate) fn out1<T: numpy::Element>(py: Python<'_>, v: Vec<T>) -> Bound<'_, PyAny> {
    Array1::from_vec(v).into_pyarray(py).into_any()
}

/// Sequences (n, L, d) as L step matrices in precision `T`.
pub(crate) fn sequences<T: Real>(a: &Arr<'_>, name: &str) -> PyResult<Vec<Matrix<T>>> {
    let shape = a.shape();
    if shape.len() != 3 {
        return Err(invalid(
            name,
            format!("expected an n x L x d array (one sequence per sample), got shape {shape:?}"),
        ));
    }
    let data = values::<T>(a, name)?;
    widenet::models::rnn::split_steps(&data, shape[0], shape[1], shape[2]).map_err(py_err)
}

/// Targets as an n × k matrix (a vector is one column).
pub(crate) fn targets(a: &Arr<'_>, name: &str) -> PyResult<Matrix<f64>> {
    match a.shape().len() {
        1 => {
            let v = vector(a, name)?;
            Matrix::from_vec(v.len(), 1, v).map_err(py_err)
        }
        _ => matrix::<f64>(a, name),
    }
}
