//! `widenet._widenet`: the native half of the Python package. It only converts
//! arguments and results, releases the GIL and watches for Ctrl-C; every computation is
//! a call into the `widenet` library (the public, documented API is the Python layer in
//! `python/widenet/`, which names and documents the arguments).
//!
//! Conventions:
//! - Arrays arrive as float32 or float64 numpy arrays of any memory order (the Python
//!   layer turns integer arrays and array-likes into float64 first); each is copied once
//!   into the library's row-major matrix, checking that every entry is finite and naming
//!   the argument and the entry otherwise.
//! - Results leave as numpy arrays that take over the library's buffers (no copy).
//! - Every computation runs on a worker thread with the GIL released ([`run`]); the
//!   calling thread polls for signals every 50 ms and on KeyboardInterrupt asks the
//!   library to stop ([`widenet::runtime::request_interrupt`]), waits for it, and raises.

use numpy::ndarray::{Array1, Array2, ArrayD, ArrayViewD, IxDyn};
use numpy::{IntoPyArray, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{
    PyKeyboardInterrupt, PyMemoryError, PyOSError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex};
use std::time::Duration;
use widenet::experiments::common::{Precision, Scale};
use widenet::{Error, Matrix, Real};

mod composed;
mod predict;
mod solver;

pyo3::create_exception!(
    _widenet,
    WidenetError,
    PyRuntimeError,
    "A numerical failure in widenet: a kernel that is not positive definite, gradient \
     descent that diverged, or a non-finite intermediate value."
);

/// The Python exception for a library error (the message is the library's, naming the
/// argument, file or quantity).
fn py_err(e: Error) -> PyErr {
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
/// keyword argument `flag_name`
/// (`--eta 1e2` → `eta=1e2`), since a Python caller has no flags.
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
            && c.get(i + 2).is_some_and(|x| x.is_ascii_lowercase())
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

/// Sets the process-wide memory budget in bytes that every allocation check and path
/// choice reads (the CLI's `--memory-budget`); 0 restores the default, 75% of physical
/// memory. Returns the budget now in force.
#[pyfunction]
fn set_memory_budget(bytes: u64) -> u64 {
    widenet::runtime::set_memory_budget(bytes);
    widenet::runtime::memory_budget()
}

fn invalid(name: &str, msg: impl Into<String>) -> PyErr {
    py_err(Error::invalid(name, msg))
}

/// Runs `f` on a worker thread with the GIL released; the calling thread polls for
/// signals every 50 ms. On KeyboardInterrupt (or any exception a signal handler raises)
/// it requests the library's interrupt, waits for the worker to unwind with
/// `Error::Interrupted` (long loops check about every second or more often), clears the
/// flag and re-raises the handler's exception.
fn run<R: Send>(py: Python<'_>, f: impl FnOnce() -> widenet::Result<R> + Send) -> PyResult<R> {
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

/// A float32 or float64 numpy array (the Python layer converts everything else).
#[derive(FromPyObject)]
enum Arr<'py> {
    F64(PyReadonlyArrayDyn<'py, f64>),
    F32(PyReadonlyArrayDyn<'py, f32>),
}

impl Arr<'_> {
    fn shape(&self) -> Vec<usize> {
        match self {
            Arr::F64(a) => a.shape().to_vec(),
            Arr::F32(a) => a.shape().to_vec(),
        }
    }
    fn is_f32(&self) -> bool {
        matches!(self, Arr::F32(_))
    }
}

/// The entry (as a tuple) at flat row-major position `k` of `shape`.
fn unravel(mut k: usize, shape: &[usize]) -> String {
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
fn collect_view<T: Copy + Into<f64>, U: Real>(
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
fn values<U: Real>(a: &Arr<'_>, name: &str) -> PyResult<Vec<U>> {
    match a {
        Arr::F64(x) => collect_view(x.as_array(), name),
        Arr::F32(x) => collect_view(x.as_array(), name),
    }
}

/// A 2-D argument as a library matrix in precision `U`.
fn matrix<U: Real>(a: &Arr<'_>, name: &str) -> PyResult<Matrix<U>> {
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
fn vector(a: &Arr<'_>, name: &str) -> PyResult<Vec<f64>> {
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
fn check_count(name: &str, got: usize, noun: &str, rows: usize, of: &str) -> PyResult<()> {
    if got != rows {
        return Err(invalid(name, format!("{got} {noun} for {rows} {of}")));
    }
    Ok(())
}

/// The optional test set of the training functions: both `x_test` and `y_test` converted
/// (and checked against the training data) by `convert`, or neither; one alone is an
/// error naming both arguments.
fn test_pair<'py, T>(
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

fn out2<T: numpy::Element + Real>(py: Python<'_>, m: Matrix<T>) -> Bound<'_, PyAny> {
    let (r, c) = m.shape();
    Array2::from_shape_vec((r, c), m.into_vec())
        .expect("a matrix's buffer has rows x cols values")
        .into_pyarray(py)
        .into_any()
}

fn out1<T: numpy::Element>(py: Python<'_>, v: Vec<T>) -> Bound<'_, PyAny> {
    Array1::from_vec(v).into_pyarray(py).into_any()
}

fn parse_precision(p: &str) -> PyResult<Precision> {
    match p {
        "f32" | "float32" => Ok(Precision::F32),
        "f64" | "float64" => Ok(Precision::F64),
        other => Err(invalid(
            "precision",
            format!("'{other}' is not one of f32, f64"),
        )),
    }
}

/// H^∞ of seed 001 eq. 3 (Gram of `x`, or between the rows of `x` and `x2`).
#[pyfunction]
#[pyo3(signature = (x, x2=None, precision=None))]
fn relu_ntk<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    x2: Option<Arr<'py>>,
    precision: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let p = match precision {
        Some(p) => parse_precision(p)?,
        None if x.is_f32() => Precision::F32,
        None => Precision::F64,
    };
    fn go<'py, T: Real + numpy::Element>(
        py: Python<'py>,
        x: &Arr<'py>,
        x2: Option<&Arr<'py>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let a: Matrix<T> = matrix(x, "x")?;
        let h = match x2 {
            None => run(py, || widenet::kernels::h_inf(&a))?,
            Some(b) => {
                let b: Matrix<T> = matrix(b, "x2")?;
                run(py, || widenet::kernels::h_inf_cross(&a, &b))?
            }
        };
        Ok(out2(py, h))
    }
    let (n, n2) = kernel_shape(&x, x2.as_ref());
    let elem = if p == Precision::F32 { 4 } else { 8 };
    check_kernel("the H^inf kernel", n, n2, elem)?;
    match p {
        Precision::F32 => go::<f32>(py, &x, x2.as_ref()),
        Precision::F64 => go::<f64>(py, &x, x2.as_ref()),
    }
}

/// Seconds of the library's H^∞ call on `x` (already converted), best of `repeats`: the
/// Rust-side reference of the benchmark's "Python call vs Rust call" ratio.
#[pyfunction]
#[pyo3(signature = (x, precision="f64", repeats=3))]
fn _time_relu_ntk(py: Python<'_>, x: Arr<'_>, precision: &str, repeats: usize) -> PyResult<f64> {
    fn go<T: Real>(py: Python<'_>, x: &Arr<'_>, repeats: usize) -> PyResult<f64> {
        let a: Matrix<T> = matrix(x, "x")?;
        run(py, || {
            let mut best = f64::INFINITY;
            for _ in 0..repeats.max(1) {
                let t = std::time::Instant::now();
                let h = widenet::kernels::h_inf(&a)?;
                best = best.min(t.elapsed().as_secs_f64());
                drop(h);
            }
            Ok(best)
        })
    }
    match parse_precision(precision)? {
        Precision::F32 => go::<f32>(py, &x, repeats),
        Precision::F64 => go::<f64>(py, &x, repeats),
    }
}

/// Checks an rows × cols kernel of `elem` bytes per entry against the memory budget
/// before the library allocates it (an allocation failure would abort the interpreter).
fn check_kernel(what: &str, rows: usize, cols: usize, elem: u128) -> PyResult<()> {
    widenet::runtime::check_alloc(what, rows as u128 * cols as u128, elem)
        .map(drop)
        .map_err(py_err)
}

/// The kernel's shape from the argument shapes: (n, n) or (n, n2).
fn kernel_shape(x: &Arr<'_>, x2: Option<&Arr<'_>>) -> (usize, usize) {
    let n = x.shape().first().copied().unwrap_or(0);
    let n2 = x2.map_or(n, |b| b.shape().first().copied().unwrap_or(0));
    (n, n2)
}

fn pair<'py>(x: &Arr<'py>, x2: Option<&Arr<'py>>) -> PyResult<(Matrix<f64>, Option<Matrix<f64>>)> {
    let a = matrix::<f64>(x, "x")?;
    let b = x2.map(|b| matrix::<f64>(b, "x2")).transpose()?;
    Ok((a, b))
}

/// Fully connected ReLU NTK (or NNGP with `nngp=True`) of seed 003.
#[pyfunction]
#[pyo3(signature = (x, x2=None, depth=3, trained="all", nngp=false))]
fn fc_kernel<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    x2: Option<Arr<'py>>,
    depth: usize,
    trained: &str,
    nngp: bool,
) -> PyResult<Bound<'py, PyAny>> {
    use widenet::kernels::fc;
    let (n, n2) = kernel_shape(&x, x2.as_ref());
    check_kernel("the fully connected kernel", n, n2, 8)?;
    let (a, b) = pair(&x, x2.as_ref())?;
    let trained = fc::FcTrained::parse(trained).map_err(py_err)?;
    let h = run(py, || match (&b, nngp) {
        (None, false) => fc::fc_ntk_gram(&a, depth, trained),
        (Some(b), false) => fc::fc_ntk(&a, b, depth, trained),
        (None, true) => fc::fc_nngp_gram(&a, depth),
        (Some(b), true) => fc::fc_nngp(&a, b, depth),
    })?;
    Ok(out2(py, h))
}

/// Gaussian kernel exp(−‖x − y‖²/h).
#[pyfunction]
#[pyo3(signature = (x, x2=None, bandwidth=1.0))]
fn gaussian<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    x2: Option<Arr<'py>>,
    bandwidth: f64,
) -> PyResult<Bound<'py, PyAny>> {
    use widenet::kernels::classic;
    let (n, n2) = kernel_shape(&x, x2.as_ref());
    check_kernel("the Gaussian kernel", n, n2, 8)?;
    let (a, b) = pair(&x, x2.as_ref())?;
    let h = run(py, || match &b {
        None => classic::gaussian_gram(&a, bandwidth),
        Some(b) => classic::gaussian(&a, b, bandwidth),
    })?;
    Ok(out2(py, h))
}

/// Arc-sine kernel arcsin(⟨x, y⟩/(‖x‖‖y‖)).
#[pyfunction]
#[pyo3(signature = (x, x2=None))]
fn arcsin<'py>(py: Python<'py>, x: Arr<'py>, x2: Option<Arr<'py>>) -> PyResult<Bound<'py, PyAny>> {
    use widenet::kernels::classic;
    let (n, n2) = kernel_shape(&x, x2.as_ref());
    check_kernel("the arcsin kernel", n, n2, 8)?;
    let (a, b) = pair(&x, x2.as_ref())?;
    let h = run(py, || match &b {
        None => classic::arcsin_gram(&a),
        Some(b) => classic::arcsin(&a, b),
    })?;
    Ok(out2(py, h))
}

/// The empirical Gram H(W) of a two-layer net with hidden weights `w` (seed 001 eq. 5).
#[pyfunction]
#[pyo3(signature = (w, x, x2=None))]
fn empirical_gram<'py>(
    py: Python<'py>,
    w: Arr<'py>,
    x: Arr<'py>,
    x2: Option<Arr<'py>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (n, n2) = kernel_shape(&x, x2.as_ref());
    let m = w.shape().first().copied().unwrap_or(0);
    check_kernel("the empirical Gram matrix", n, n2, 8)?;
    check_kernel("the activation patterns (m x n)", m, n.max(n2), 8)?;
    let f32s = w.is_f32() && x.is_f32() && x2.as_ref().is_none_or(|a| a.is_f32());
    if f32s {
        let (w, x) = (matrix::<f32>(&w, "w")?, matrix::<f32>(&x, "x")?);
        let x2 = x2.map(|a| matrix::<f32>(&a, "x2")).transpose()?;
        let h = run(py, || match &x2 {
            None => widenet::kernels::empirical_gram(&w, &x),
            Some(x2) => widenet::kernels::empirical_gram_cross(&w, &x, x2),
        })?;
        Ok(out2(py, h))
    } else {
        let (w, x) = (matrix::<f64>(&w, "w")?, matrix::<f64>(&x, "x")?);
        let x2 = x2.map(|a| matrix::<f64>(&a, "x2")).transpose()?;
        let h = run(py, || match &x2 {
            None => widenet::kernels::empirical_gram(&w, &x),
            Some(x2) => widenet::kernels::empirical_gram_cross(&w, &x, x2),
        })?;
        Ok(out2(py, h))
    }
}

/// The recurrent NTK (empirical at `width`, or infinite-width when `width` is None).
/// Returns (H, params) with params a dict of arrays (empty for infinite width).
#[pyfunction]
#[pyo3(signature = (x, preset, width=None, d_out=1, seed=0, x2=None))]
fn rnn_ntk<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    preset: &str,
    width: Option<usize>,
    d_out: usize,
    seed: u64,
    x2: Option<Arr<'py>>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
    let seq_shape = |a: &Arr<'py>, name: &str| -> PyResult<(usize, usize, usize)> {
        match a.shape().as_slice() {
            &[n, l, d] => Ok((n, l, d)),
            s => Err(invalid(
                name,
                format!("expected an n x L x d array (one sequence per sample), got shape {s:?}"),
            )),
        }
    };
    let shape = seq_shape(&x, "x")?;
    let shape2 = x2.as_ref().map(|a| seq_shape(a, "x2")).transpose()?;
    let n_all = shape.0 + shape2.map_or(0, |s| s.0);
    check_kernel("the RNN NTK", n_all, n_all, 8)?;
    let data = values::<f64>(&x, "x")?;
    let data2 = x2.as_ref().map(|a| values::<f64>(a, "x2")).transpose()?;
    let preset = preset.to_string();
    let (h, params) = run(py, || match (&data2, shape2) {
        (Some(d2), Some(s2)) => widenet::commands::rnn_ntk_cross_arrays(
            &preset, &data, shape, d2, s2, width, d_out, seed,
        ),
        _ => widenet::commands::rnn_ntk_arrays(&preset, &data, shape, width, d_out, seed),
    })?;
    let d = PyDict::new(py);
    for p in params {
        let a = ArrayD::from_shape_vec(IxDyn(&p.shape), p.data)
            .expect("a parameter's buffer matches its shape");
        d.set_item(p.name, a.into_pyarray(py))?;
    }
    Ok((out2(py, h), d))
}

/// Spectrum, projections, yᵀ(H^∞)⁻¹y, complexity measure, predicted loss (eq. 8) and
/// Theorem 5.1's explicit term, as a dict.
#[pyfunction]
#[pyo3(signature = (x, y, eta, iters))]
fn analyze<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    y: Arr<'py>,
    eta: f64,
    iters: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let xm = matrix::<f64>(&x, "x")?;
    let yv = vector(&y, "y")?;
    let a = run(py, || {
        widenet::commands::analyze_arrays(&xm, &yv, eta, iters)
    })?;
    let t = widenet::theory::bounds::theorem_5_1(a.y_hinv_y, a.n);
    let d = PyDict::new(py);
    d.set_item("n", a.n)?;
    d.set_item("eigenvalues", out1(py, a.eigenvalues))?;
    d.set_item("projections", out1(py, a.projections))?;
    d.set_item("y_hinv_y", a.y_hinv_y)?;
    d.set_item("complexity_measure", a.complexity_measure)?;
    d.set_item("eta", a.eta)?;
    d.set_item("predicted_loss", out1(py, a.predicted_loss))?;
    d.set_item("max_stable_eta", a.max_stable_eta)?;
    d.set_item("warnings", a.warnings)?;
    d.set_item("theorem_5_1_explicit", t.explicit_term)?;
    d.set_item(
        "theorem_5_1_with_proof_constants",
        t.explicit_with_proof_constants,
    )?;
    d.set_item("theorem_5_1_o_term", t.o_term)?;
    Ok(d)
}

/// The two-layer net of seed 001 §3.1 trained by full-batch GD (eq. 6).
#[pyfunction]
#[pyo3(signature = (x, y, x_test=None, y_test=None, width=10000, kappa=0.01, eta=1e-4,
    iters=2000, loss_tol=0.0, seed=0, precision="f32"))]
#[allow(clippy::too_many_arguments)]
fn train_two_layer<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    y: Arr<'py>,
    x_test: Option<Arr<'py>>,
    y_test: Option<Arr<'py>>,
    width: usize,
    kappa: f64,
    eta: f64,
    iters: usize,
    loss_tol: f64,
    seed: u64,
    precision: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let xm = matrix::<f64>(&x, "x")?;
    let yv = vector(&y, "y")?;
    check_count("y", yv.len(), "labels", xm.rows(), "rows of x")?;
    let test = test_pair(&x_test, &y_test, "labels", |a, b| {
        let (tx, ty) = (matrix::<f64>(a, "x_test")?, vector(b, "y_test")?);
        check_count("y_test", ty.len(), "labels", tx.rows(), "rows of x_test")?;
        if tx.cols() != xm.cols() {
            return Err(invalid(
                "x_test",
                format!("{} columns but x has {}", tx.cols(), xm.cols()),
            ));
        }
        Ok((tx, ty))
    })?;
    let cfg = widenet::train::GdConfig {
        eta,
        max_iters: iters,
        loss_tol,
        eval_every: 1,
        progress: false,
    };
    let d = PyDict::new(py);
    fn fill<'py, T: Real + numpy::Element>(
        py: Python<'py>,
        d: &Bound<'py, PyDict>,
        o: widenet::train::GdOutcome<T>,
    ) -> PyResult<()> {
        d.set_item("iterations", o.iterations)?;
        d.set_item(
            "stop",
            match o.stop {
                widenet::train::StopReason::LossTolerance => "loss_tolerance",
                widenet::train::StopReason::IterationLimit => "iteration_limit",
            },
        )?;
        d.set_item("loss", out1(py, o.metrics.loss))?;
        d.set_item("w_dist_fro", out1(py, o.metrics.w_dist_fro))?;
        d.set_item("w_dist_max", out1(py, o.metrics.w_dist_max))?;
        d.set_item("pattern_changed", out1(py, o.metrics.pattern_changed))?;
        let ti: Vec<u64> = o.metrics.test_iteration.iter().map(|&k| k as u64).collect();
        d.set_item("test_iteration", out1(py, ti))?;
        d.set_item("test_l1", out1(py, o.metrics.test_l1))?;
        d.set_item("test_error", out1(py, o.metrics.test_error))?;
        d.set_item("train_predictions", out1(py, o.u))?;
        d.set_item("initial_predictions", out1(py, o.u0))?;
        d.set_item("w0", out2(py, o.w0))?;
        d.set_item("a", out1(py, o.net.a))?;
        d.set_item("w", out2(py, o.net.w))?;
        Ok(())
    }
    let t = test.as_ref().map(|(a, b)| (a, b.as_slice()));
    match parse_precision(precision)? {
        Precision::F32 => {
            let o = run(py, || {
                widenet::train::train_two_layer::<f32>(&xm, &yv, t, width, kappa, seed, &cfg)
            })?;
            fill(py, &d, o)?;
        }
        Precision::F64 => {
            let o = run(py, || {
                widenet::train::train_two_layer::<f64>(&xm, &yv, t, width, kappa, seed, &cfg)
            })?;
            fill(py, &d, o)?;
        }
    }
    Ok(d)
}

/// Sequences (n, L, d) as L step matrices in precision `T`.
fn sequences<T: Real>(a: &Arr<'_>, name: &str) -> PyResult<Vec<Matrix<T>>> {
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

/// A ReLU RNN (preset elman or wang) trained on W by SGD (seed 002 Algorithm 1 / seed 004
/// Theorem 2), labels `y` (n) as the target of every output step of the objective.
#[pyfunction]
#[pyo3(signature = (x, y, preset, width, loss="logistic", outputs=None, scale=1.0, eta=1e-2,
    steps=1000, batch=1, eval_every=50, seed=0, x_test=None, y_test=None))]
#[allow(clippy::too_many_arguments)]
fn train_rnn<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    y: Arr<'py>,
    preset: &str,
    width: usize,
    loss: &str,
    outputs: Option<usize>,
    scale: f64,
    eta: f64,
    steps: usize,
    batch: usize,
    eval_every: usize,
    seed: u64,
    x_test: Option<Arr<'py>>,
    y_test: Option<Arr<'py>>,
) -> PyResult<Bound<'py, PyDict>> {
    use widenet::models::rnn::{Loss, Objective, Outputs, Preset, Rnn};
    use widenet::train::rnn_sgd::{train_rnn_sgd, RnnData, RnnSgdConfig};
    let preset = Preset::parse(preset).map_err(py_err)?;
    let obj = Objective {
        loss: Loss::parse(loss).map_err(py_err)?,
        outputs: outputs.map_or(Outputs::Last, Outputs::From),
        scale,
    };
    let xs = sequences::<f64>(&x, "x")?;
    let yv = vector(&y, "y")?;
    let n = xs[0].rows();
    check_count("y", yv.len(), "labels", n, "sequences in x")?;
    let (len, d) = (xs.len(), xs[0].cols());
    let test = test_pair(&x_test, &y_test, "labels", |a, b| {
        let (tx, ty) = (sequences::<f64>(a, "x_test")?, vector(b, "y_test")?);
        check_count(
            "y_test",
            ty.len(),
            "labels",
            tx[0].rows(),
            "sequences in x_test",
        )?;
        if tx.len() != len || tx[0].cols() != d {
            return Err(invalid(
                "x_test",
                format!(
                    "sequences of length {} and dimension {}, but x has {len} and {d}",
                    tx.len(),
                    tx[0].cols()
                ),
            ));
        }
        Ok((tx, ty))
    })?;
    let cfg = RnnSgdConfig {
        eta,
        steps,
        batch,
        eval_every,
        eval_subset: None,
        progress: false,
        seed,
    };
    let o = run(py, || {
        let train = RnnData::from_labels(xs, &yv, &obj)?;
        let test = test
            .map(|(tx, ty)| RnnData::from_labels(tx, &ty, &obj))
            .transpose()?;
        let net = Rnn::<f64>::init(preset, width, d, 1, len, seed)?;
        train_rnn_sgd(net, &train, test.as_ref(), &obj, &cfg)
    })?;
    let h = o.history;
    let dct = PyDict::new(py);
    let steps_rec: Vec<u64> = h.step.iter().map(|&k| k as u64).collect();
    dct.set_item("step", out1(py, steps_rec))?;
    dct.set_item("train_objective", out1(py, h.train_objective))?;
    dct.set_item("batch_objective", out1(py, h.batch_objective))?;
    dct.set_item("test_objective", out1(py, h.test_objective))?;
    dct.set_item("test_error", out1(py, h.test_error))?;
    dct.set_item("w_shift_fro", h.w_shift_fro)?;
    dct.set_item("w0", out2(py, o.w0))?;
    let params = PyDict::new(py);
    for p in o.net.param_arrays() {
        let a = ArrayD::from_shape_vec(IxDyn(&p.shape), p.data)
            .expect("a parameter's buffer matches its shape");
        params.set_item(p.name, a.into_pyarray(py))?;
    }
    dct.set_item("params", params)?;
    Ok(dct)
}

/// Targets as an n × k matrix (a vector is one column).
fn targets(a: &Arr<'_>, name: &str) -> PyResult<Matrix<f64>> {
    match a.shape().len() {
        1 => {
            let v = vector(a, name)?;
            Matrix::from_vec(v.len(), 1, v).map_err(py_err)
        }
        _ => matrix::<f64>(a, name),
    }
}

/// One of seed 003's learners (3resnet, 3layer, 2layer, last, ntk) trained by mini-batch
/// SGD with momentum and weight decay on App. A's schedule (E epochs at lr, E at
/// lr / lr_drop).
#[pyfunction]
#[pyo3(signature = (x, y, learner, width, lr, epochs, weight_decay=0.0, momentum=0.9,
    batch=50, lr_drop=10.0, seed=0, x_test=None, y_test=None))]
#[allow(clippy::too_many_arguments)]
fn train_resnet<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    y: Arr<'py>,
    learner: &str,
    width: usize,
    lr: f64,
    epochs: usize,
    weight_decay: f64,
    momentum: f64,
    batch: usize,
    lr_drop: f64,
    seed: u64,
    x_test: Option<Arr<'py>>,
    y_test: Option<Arr<'py>>,
) -> PyResult<Bound<'py, PyDict>> {
    use widenet::models::resnet::LearnerKind;
    use widenet::train::sgd::{train, SgdConfig};
    let kind = LearnerKind::parse(learner).map_err(py_err)?;
    let xm = matrix::<f64>(&x, "x")?;
    let ym = targets(&y, "y")?;
    check_count("y", ym.rows(), "targets", xm.rows(), "rows of x")?;
    let test = test_pair(&x_test, &y_test, "targets", |a, b| {
        let (tx, ty) = (matrix::<f64>(a, "x_test")?, targets(b, "y_test")?);
        if ty.rows() != tx.rows() || ty.cols() != ym.cols() {
            return Err(invalid(
                "y_test",
                format!(
                    "{}x{} targets for {} rows of x_test and {} outputs",
                    ty.rows(),
                    ty.cols(),
                    tx.rows(),
                    ym.cols()
                ),
            ));
        }
        Ok((tx, ty))
    })?;
    let cfg = SgdConfig {
        lr,
        weight_decay,
        momentum,
        batch,
        epochs,
        lr_drop,
        seed,
        diverge_ratio: 1e4,
    };
    let (hist, initial, trained, pred) = run(py, || {
        let mut net = kind.build(xm.cols(), width, ym.cols(), seed)?;
        let initial: Vec<Matrix<f64>> = net.params().into_iter().cloned().collect();
        let hist = train(
            net.as_mut(),
            &xm,
            &ym,
            test.as_ref().map(|(a, b)| (a, b)),
            &cfg,
        )?;
        let trained: Vec<Matrix<f64>> = net.params().into_iter().cloned().collect();
        let pred = test.as_ref().map(|(a, _)| net.forward(a)).transpose()?;
        Ok((hist, initial, trained, pred))
    })?;
    let d = PyDict::new(py);
    let ep: Vec<u64> = hist.epochs.iter().map(|e| e.epoch as u64).collect();
    d.set_item("epoch", out1(py, ep))?;
    d.set_item(
        "lr",
        out1(py, hist.epochs.iter().map(|e| e.lr).collect::<Vec<_>>()),
    )?;
    d.set_item(
        "train_loss",
        out1(
            py,
            hist.epochs.iter().map(|e| e.train_loss).collect::<Vec<_>>(),
        ),
    )?;
    let te: Vec<f64> = hist
        .epochs
        .iter()
        .map(|e| e.test_error.unwrap_or(f64::NAN))
        .collect();
    d.set_item("test_error", out1(py, te))?;
    d.set_item("initial_train_error", hist.initial_train_error)?;
    d.set_item("final_train_error", hist.final_train_error)?;
    d.set_item("final_test_error", hist.final_test_error)?;
    let to_list = |ms: Vec<Matrix<f64>>| -> Vec<Bound<'py, PyAny>> {
        ms.into_iter().map(|m| out2(py, m)).collect()
    };
    d.set_item("initial_params", to_list(initial))?;
    d.set_item("params", to_list(trained))?;
    d.set_item("test_predictions", pred.map(|p| out2(py, p)))?;
    Ok(d)
}

/// Kernel ridge regression (seed 003 eq. 3.1): β = (K + λnI)⁻¹Y and, with `k_test`,
/// the predictions K_test β. Returns (beta, predictions or None).
#[pyfunction]
#[pyo3(signature = (k_train, y_train, lam, k_test=None))]
fn krr<'py>(
    py: Python<'py>,
    k_train: Arr<'py>,
    y_train: Arr<'py>,
    lam: f64,
    k_test: Option<Arr<'py>>,
) -> PyResult<(Bound<'py, PyAny>, Option<Bound<'py, PyAny>>)> {
    let k = matrix::<f64>(&k_train, "k_train")?;
    let y = targets(&y_train, "y_train")?;
    let kt = k_test.map(|a| matrix::<f64>(&a, "k_test")).transpose()?;
    let (beta, pred) = run(py, || {
        let m = widenet::models::krr::Krr::fit(&k, &y, lam)?;
        let pred = kt.as_ref().map(|t| m.predict(t)).transpose()?;
        Ok((m.alpha().clone(), pred))
    })?;
    Ok((out2(py, beta), pred.map(|p| out2(py, p))))
}

/// Complexity of an analytic function, as the CLI's `complexity --json` JSON text.
#[pyfunction]
#[pyo3(signature = (function, measure="C", r=1.0, n=None, l=None, eps=None))]
fn complexity(
    py: Python<'_>,
    function: &str,
    measure: &str,
    r: f64,
    n: Option<usize>,
    l: Option<usize>,
    eps: Option<f64>,
) -> PyResult<String> {
    let (f, m) = (function.to_string(), measure.to_string());
    let v = run(py, || {
        widenet::theory::complexity::complexity_json(&f, &m, r, n, l, eps)
    })?;
    Ok(v.to_string())
}

/// Runs one experiment like `widenet reproduce NAME` (writing OUT/NAME/result.json, the
/// figures and OUT/NAME/report.html); returns (result.json path, report path, claims table).
/// `settings` are (key, value text) pairs, exactly as `--set key=value` (the old flag
/// names n_train, width, iters, eta, kappa, precision, data are aliases where the
/// experiment has that setting); unknown keys raise ValueError listing the valid ones.
/// With `show_only`, nothing runs: the first element is the resolved settings as JSON.
#[pyfunction]
#[pyo3(signature = (name, scale="quick", seed=0, out=PathBuf::from("widenet-results"),
    settings=Vec::new(), show_only=false))]
fn reproduce(
    py: Python<'_>,
    name: &str,
    scale: &str,
    seed: u64,
    out: PathBuf,
    settings: Vec<(String, String)>,
    show_only: bool,
) -> PyResult<(String, String, String)> {
    use widenet::experiments::suite;
    let scale = match scale {
        "quick" => Scale::Quick,
        "paper" => Scale::Paper,
        other => {
            return Err(invalid(
                "scale",
                format!("'{other}' is not one of quick, paper"),
            ))
        }
    };
    let mut opts = suite::ReproduceOptions::quick(out.clone(), seed);
    opts.scale = scale;
    opts.set = settings;
    let name = name.to_string();
    run(py, || {
        if show_only {
            let v = suite::resolve(&name, &opts)?;
            return Ok((v.to_string(), String::new(), String::new()));
        }
        let o = suite::reproduce(&name, &opts)?;
        let (report, table) =
            widenet::report::run::finish_report(&out, &out.join(&name), std::slice::from_ref(&o))?;
        Ok((
            out.join(&name).join("result.json").display().to_string(),
            report.display().to_string(),
            table,
        ))
    })
}

/// Recomputes the claims of finished runs under `dir` without rerunning (as
/// `widenet rejudge DIR`); returns the claims table. With `write`, the result files
/// and report are rewritten.
#[pyfunction]
#[pyo3(signature = (dir, write=true))]
fn rejudge(py: Python<'_>, dir: PathBuf, write: bool) -> PyResult<String> {
    run(py, || Ok(widenet::report::run::rejudge(&dir, write)?.table))
}

/// The names `reproduce` accepts.
#[pyfunction]
fn experiment_names() -> Vec<&'static str> {
    widenet::experiments::suite::names()
}

/// Two classes of MNIST or CIFAR-10 from `dir`, unit-norm rows, labels ±1.
#[pyfunction]
#[pyo3(signature = (dataset, dir, classes=(0, 1), split="train", limit=None))]
fn load_two_class<'py>(
    py: Python<'py>,
    dataset: &str,
    dir: PathBuf,
    classes: (u8, u8),
    split: &str,
    limit: Option<usize>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let split = match split {
        "train" => widenet::data::Split::Train,
        "test" => widenet::data::Split::Test,
        other => {
            return Err(invalid(
                "split",
                format!("'{other}' is not one of train, test"),
            ))
        }
    };
    let (a, b) = classes;
    if a > 9 || b > 9 || a == b {
        return Err(invalid(
            "classes",
            format!("expected two different labels 0-9, got ({a}, {b})"),
        ));
    }
    let dataset = dataset.to_string();
    let ds = run(py, || {
        widenet::commands::load_two_class(&dataset, &dir, classes, split, limit)
    })?;
    Ok((out2(py, ds.x), out1(py, ds.y)))
}

/// Every class of a split (unit-norm rows, labels 0..=9 as int64).
#[pyfunction]
#[pyo3(signature = (dataset, dir, split="train", limit=None))]
fn load_all_classes<'py>(
    py: Python<'py>,
    dataset: &str,
    dir: PathBuf,
    split: &str,
    limit: Option<usize>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let split = match split {
        "train" => widenet::data::Split::Train,
        "test" => widenet::data::Split::Test,
        other => {
            return Err(invalid(
                "split",
                format!("'{other}' is not one of train, test"),
            ))
        }
    };
    let dataset = dataset.to_string();
    let (x, labels) = run(py, || {
        widenet::commands::load_all_classes(&dataset, &dir, split, limit)
    })?;
    let labels: Vec<i64> = labels.into_iter().map(i64::from).collect();
    Ok((out2(py, x), labels.into_pyarray(py).into_any()))
}

/// The built-in structured two-class dataset (unit-norm rows, labels ±1).
#[pyfunction]
#[pyo3(signature = (n, d, seed=0))]
fn two_class_structured<'py>(
    py: Python<'py>,
    n: usize,
    d: usize,
    seed: u64,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    if d == 0 {
        return Err(invalid("d", "the dimension must be at least 1"));
    }
    widenet::runtime::check_alloc("two_class_structured inputs", n as u128 * d as u128, 8)
        .map_err(py_err)?;
    let ds = run(py, || {
        Ok(widenet::data::synthetic::two_class_structured(n, d, seed))
    })?;
    Ok((out2(py, ds.x), out1(py, ds.y)))
}

/// Inputs, targets and the index sets of a drawn concept.
type Sample<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>, Vec<Vec<usize>>);

/// Seed 003's concept classes: "fig2" (Figure 2's H = βF + αG(F) on {±1}^d), "thm2"
/// (Theorem 2's hard instance on {±1/√d}^d) and "fig3" (Figure 3's degree-6 parity).
/// Returns (x, y, indices): indices are Figure 2's G sets, or the chosen coordinates.
#[pyfunction]
#[pyo3(signature = (name, n, seed=0, d=None, k=None, alpha=0.3, beta=1.0, index_seed=0))]
#[allow(clippy::too_many_arguments)]
fn resnet_target<'py>(
    py: Python<'py>,
    name: &str,
    n: usize,
    seed: u64,
    d: Option<usize>,
    k: Option<usize>,
    alpha: f64,
    beta: f64,
    index_seed: u64,
) -> PyResult<Sample<'py>> {
    use widenet::data::resnet_targets::{Fig2Target, Fig3Target, Thm2Target};
    let name = name.to_string();
    let (x, y, idx) = run(py, || match name.as_str() {
        "fig2" => {
            let mut t = Fig2Target::new(alpha, beta);
            if let Some(d) = d {
                t.d = d;
            }
            let (x, y) = t.sample(n, seed)?;
            Ok((x, y, t.g_sets))
        }
        "thm2" => {
            let d = d.unwrap_or(16);
            let mut t = Thm2Target::random(d, k.unwrap_or(4), alpha, index_seed)?;
            t.beta = beta;
            let (x, y) = t.sample(n, seed)?;
            Ok((x, y, vec![t.indices]))
        }
        "fig3" => {
            let t = Fig3Target::random(d.unwrap_or(40), index_seed)?;
            let (x, y) = t.sample(n, seed)?;
            Ok((x, y, vec![t.indices]))
        }
        other => Err(Error::invalid(
            "name",
            format!("'{other}' is not one of fig2, thm2, fig3"),
        )),
    })?;
    Ok((out2(py, x), out2(py, y), idx))
}

/// Seed 004's concept classes for RNNs (eq. 9 additive, eq. 11 N-variable) with inputs of
/// norms in [c_min, c_max] and ±1 labels with Theorem 2's margin (see
/// `widenet::data::rnn_concepts::draw`).
#[pyfunction]
#[pyo3(signature = (n, len, d, kind="additive", psi="sin", terms=1, positions=None,
    beta_norm=1.0, threshold=0.1, c_min=1.0, c_max=1.0, seed=0, max_draws=None,
    sample_seed=None))]
#[allow(clippy::too_many_arguments)]
fn rnn_concept<'py>(
    py: Python<'py>,
    n: usize,
    len: usize,
    d: usize,
    kind: &str,
    psi: &str,
    terms: usize,
    positions: Option<Vec<usize>>,
    beta_norm: f64,
    threshold: f64,
    c_min: f64,
    c_max: f64,
    seed: u64,
    max_draws: Option<usize>,
    sample_seed: Option<u64>,
) -> PyResult<Bound<'py, PyDict>> {
    use widenet::data::rnn_concepts::{
        draw, AdditiveConcept, Concept, InputSpec, NVariableConcept,
    };
    use widenet::taylor::AnalyticFn;
    let spec = InputSpec {
        len,
        d,
        c_min,
        c_max,
    };
    let f = AnalyticFn::parse(psi).map_err(py_err)?;
    let kind = kind.to_string();
    let (sample, concept) = run(py, || {
        spec.check()?;
        let mut g = widenet::rng::stream(seed, "python/rnn-concept");
        let concept = match kind.as_str() {
            "additive" => Concept::Additive(AdditiveConcept::random(
                len, d, terms, &f, beta_norm, &mut g,
            )?),
            "n-variable" => {
                let pos = positions.clone().unwrap_or_else(|| vec![1, len]);
                Concept::NVariable(NVariableConcept::random(
                    len, d, pos, terms, &f, beta_norm, &mut g,
                )?)
            }
            other => {
                return Err(Error::invalid(
                    "kind",
                    format!("'{other}' is not one of additive, n-variable"),
                ))
            }
        };
        // the concept from `seed`, the sequences from `sample_seed` (default `seed`): one
        // concept, independent training and test draws
        let mut gx = widenet::rng::stream(sample_seed.unwrap_or(seed), "python/rnn-concept-x");
        let s = draw(
            &spec,
            &concept,
            n,
            threshold,
            max_draws.unwrap_or(1000 * n.max(1)),
            &mut gx,
        )?;
        Ok((s, concept))
    })?;
    // x as n × L × d (sample-major, the layout rnn_ntk and train_rnn take)
    let mut x = vec![0.0; n * len * d];
    for (l, m) in sample.xs.iter().enumerate() {
        for i in 0..n {
            x[(i * len + l) * d..(i * len + l + 1) * d].copy_from_slice(m.row(i));
        }
    }
    let dct = PyDict::new(py);
    let xa = ArrayD::from_shape_vec(IxDyn(&[n, len, d]), x).expect("n * L * d values");
    dct.set_item("x", xa.into_pyarray(py))?;
    dct.set_item("y", out1(py, sample.labels))?;
    dct.set_item("f_star", out1(py, sample.f_star))?;
    dct.set_item("f_raw", out1(py, sample.f_raw))?;
    dct.set_item("scale", sample.scale)?;
    dct.set_item("drawn", sample.drawn)?;
    dct.set_item("dropped", sample.dropped)?;
    let (pos, betas): (Vec<Vec<usize>>, Vec<Vec<f64>>) = match concept {
        Concept::Additive(c) => c
            .terms
            .into_iter()
            .map(|t| (vec![t.position], t.beta))
            .unzip(),
        Concept::NVariable(c) => c
            .terms
            .into_iter()
            .map(|t| (c.positions.clone(), t.beta))
            .unzip(),
    };
    dct.set_item("positions", pos)?;
    dct.set_item("betas", betas)?;
    Ok(dct)
}

/// L − 2 step matrices n × c as one n × (L − 2) × c array (sample-major).
fn stack_steps<'py>(py: Python<'py>, ms: &[Matrix<f64>]) -> Bound<'py, PyAny> {
    let steps = ms.len();
    let (n, c) = ms.first().map_or((0, 0), |m| m.shape());
    let mut v = vec![0.0; n * steps * c];
    for (l, m) in ms.iter().enumerate() {
        for i in 0..n {
            v[(i * steps + l) * c..(i * steps + l + 1) * c].copy_from_slice(m.row(i));
        }
    }
    ArrayD::from_shape_vec(IxDyn(&[n, steps, c]), v)
        .expect("n * steps * c values")
        .into_pyarray(py)
        .into_any()
}

/// Seed 002's concept class for Elman RNNs in Example 3.5's form (per-lag two-layer nets),
/// its inputs x*_2..x*_{L−1} and noisy labels.
#[pyfunction]
#[pyo3(signature = (n, len, dx, d=1, p=4, phi="sin", noise_sd=0.0, seed=0))]
#[allow(clippy::too_many_arguments)]
fn elman_concept<'py>(
    py: Python<'py>,
    n: usize,
    len: usize,
    dx: usize,
    d: usize,
    p: usize,
    phi: &str,
    noise_sd: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    use widenet::data::elman_concepts::{draw, opt_l2, LagNets};
    use widenet::taylor::AnalyticFn;
    let f = AnalyticFn::parse(phi).map_err(py_err)?;
    let (nets, sample) = run(py, || {
        let mut g = widenet::rng::stream(seed, "python/elman-concept");
        let nets = LagNets::random(len, dx, d, p, &f, &mut g)?;
        let concept = nets.to_concept()?;
        let mut gx = widenet::rng::stream(seed, "python/elman-concept-x");
        let sample = draw(&concept, n, noise_sd, &mut gx)?;
        Ok((nets, sample))
    })?;
    let dct = PyDict::new(py);
    dct.set_item("x_star", stack_steps(py, &sample.x_star))?;
    dct.set_item("f_star", stack_steps(py, &sample.f_star))?;
    dct.set_item("targets", stack_steps(py, &sample.targets))?;
    let a: Vec<_> = nets.a.into_iter().map(|m| out2(py, m)).collect();
    let w: Vec<_> = nets.w.into_iter().map(|m| out2(py, m)).collect();
    dct.set_item("a", a)?;
    dct.set_item("w", w)?;
    dct.set_item("opt", opt_l2(len, d, noise_sd))?;
    Ok(dct)
}

/// Targets, directions β_j and Corollary 6.2's bound.
type PolyOut<'py> = (Bound<'py, PyAny>, Vec<Vec<f64>>, Option<f64>);

/// Seed 001 §6's polynomial targets g(x) = Σ_j α_j (β_jᵀx)^{p_j} on the rows of `x`, β_j
/// uniform on the unit sphere (from `seed`); returns (y, betas, Cor. 6.2's bound on
/// sqrt(yᵀ(H^∞)⁻¹y), None when a power is neither 1 nor even).
#[pyfunction]
#[pyo3(signature = (x, terms, seed=0))]
fn poly_target<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    terms: Vec<(f64, u32)>,
    seed: u64,
) -> PyResult<PolyOut<'py>> {
    use widenet::data::synthetic::PolyTarget;
    let xm = matrix::<f64>(&x, "x")?;
    if terms.is_empty() {
        return Err(invalid("terms", "give at least one (alpha, p) term"));
    }
    let (y, t) = run(py, || {
        let mut g = widenet::rng::stream(seed, "python/poly-target");
        let t = PolyTarget::random(xm.cols(), &terms, &mut g);
        Ok((t.eval(&xm)?, t))
    })?;
    let bound = if t.bound_applies() {
        Some(widenet::theory::complexity::poly_target_bound(&t).map_err(py_err)?)
    } else {
        None
    };
    let betas = t.terms.into_iter().map(|t| t.beta).collect();
    Ok((out1(py, y), betas, bound))
}

/// n points drawn uniformly from the unit sphere in R^d.
#[pyfunction]
#[pyo3(signature = (n, d, seed=0))]
fn unit_sphere(py: Python<'_>, n: usize, d: usize, seed: u64) -> PyResult<Bound<'_, PyAny>> {
    if d == 0 {
        return Err(invalid("d", "the dimension must be at least 1"));
    }
    widenet::runtime::check_alloc("unit_sphere points", n as u128 * d as u128, 8)
        .map_err(py_err)?;
    let x = run(py, || {
        let mut g = widenet::rng::stream(seed, "python/unit_sphere");
        Ok(widenet::data::synthetic::unit_sphere(n, d, &mut g))
    })?;
    Ok(out2(py, x))
}

/// Seed 001's analysis on the large-n path (`widenet analyze --top-k/--path/--kernel`):
/// the top-k spectrum and label projections by block Lanczos, yᵀK⁻¹y to `tol` by
/// preconditioned CG with the accuracy reached, eq. 8 with rigorous bounds. The kernel
/// is H^∞ of `x` or the user's symmetric `kernel`. `precond` ("auto", "cholesky",
/// "spectral-cg") picks the f32 path's preconditioner. Returns the report as JSON text.
#[pyfunction]
#[pyo3(signature = (y, x=None, kernel=None, eta=1e-3, iters=1000, top_k=None, path=None,
    tol=1e-6, seed=0, precond=None))]
#[allow(clippy::too_many_arguments)]
fn analyze_large<'py>(
    py: Python<'py>,
    y: Arr<'py>,
    x: Option<Arr<'py>>,
    kernel: Option<Arr<'py>>,
    eta: f64,
    iters: usize,
    top_k: Option<usize>,
    path: Option<String>,
    tol: f64,
    seed: u64,
    precond: Option<String>,
) -> PyResult<String> {
    use widenet::kernels::{relu_ntk::HInfKernel, stored::StoredKernel, tile::TileKernel};
    use widenet::theory::large_n::{LargeNConfig, PrecondChoice, SolverPath};
    let precond = precond
        .map(|s| PrecondChoice::parse("precond", &s))
        .transpose()
        .map_err(py_err)?
        .unwrap_or_default();
    let yv = vector(&y, "y")?;
    let path = path
        .map(|s| SolverPath::parse("path", &s))
        .transpose()
        .map_err(py_err)?;
    let (m, is_kernel) = match (x, kernel) {
        (Some(x), None) => (matrix::<f64>(&x, "x")?, false),
        (None, Some(k)) => (matrix::<f64>(&k, "kernel")?, true),
        _ => return Err(invalid("x/kernel", "give exactly one of x and kernel")),
    };
    let rep = run(py, move || {
        let kern: Box<dyn TileKernel> = if is_kernel {
            Box::new(StoredKernel::from_matrix(m)?)
        } else {
            Box::new(HInfKernel::owned(m)?)
        };
        let cfg = LargeNConfig {
            path,
            tol,
            eta,
            iters,
            seed,
            show_progress: false,
            precond,
            ..Default::default()
        };
        widenet::commands::large_n_report(kern.as_ref(), &yv, top_k, cfg)
    })?;
    serde_json::to_string(&rep).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// Block (I, J) of one of widenet's kernels from the rows of the two blocks, bit for bit
/// the single-machine kernel's entries (the task body of `widenet.dask`): with `xb` None,
/// the diagonal block K(xa, xa); otherwise the lower block K[rows of xb, rows of xa] of
/// the kernel of the stacked inputs [xa; xb] (xa a whole number of 256-row tiles, block J
/// before block I). Every kernel here depends on its two inputs and per-sample
/// quantities only, so the block equals the one `tile::dense_*` computes at n.
#[pyfunction]
#[pyo3(signature = (kind, xa, xb=None, precision="f64", depth=3, trained="all",
    bandwidth=1.0, preset=None))]
#[allow(clippy::too_many_arguments)]
fn kernel_block<'py>(
    py: Python<'py>,
    kind: &str,
    xa: Arr<'py>,
    xb: Option<Arr<'py>>,
    precision: &str,
    depth: usize,
    trained: &str,
    bandwidth: f64,
    preset: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    use widenet::kernels::tile::{region, TileKernel, TILE};
    let sa = xa.shape();
    let na = sa.first().copied().unwrap_or(0);
    let nb = xb
        .as_ref()
        .map_or(0, |b| b.shape().first().copied().unwrap_or(0));
    if let Some(b) = &xb {
        if b.shape()[1..] != sa[1..] {
            return Err(invalid(
                "xb",
                format!("shape {:?} does not match xa's {:?}", b.shape(), sa),
            ));
        }
        if na % TILE != 0 {
            return Err(invalid(
                "xa",
                format!("an off-diagonal block needs a multiple of {TILE} rows in xa, got {na}"),
            ));
        }
    }
    let (rows, cols) = if xb.is_some() {
        (na..na + nb, 0..na)
    } else {
        (0..na, 0..na)
    };
    check_kernel("the kernel block", rows.len(), cols.len(), 8)?;
    fn stacked<U: Real>(xa: &Arr<'_>, xb: Option<&Arr<'_>>) -> PyResult<Vec<U>> {
        let mut v = values::<U>(xa, "xa")?;
        if let Some(b) = xb {
            v.extend(values::<U>(b, "xb")?);
        }
        Ok(v)
    }
    fn cut<'py, T: widenet::kernels::tile::TileElem + numpy::Element, K: TileKernel + ?Sized>(
        py: Python<'py>,
        k: &K,
        rows: std::ops::Range<usize>,
        cols: std::ops::Range<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (r, c) = (rows.len(), cols.len());
        let out = run(py, || {
            let mut out = vec![T::zero(); r * c];
            region(k, rows, cols, &mut out)?;
            Ok(out)
        })?;
        Ok(Array2::from_shape_vec((r, c), out)
            .expect("the block's buffer matches its shape")
            .into_pyarray(py)
            .into_any())
    }
    let p = parse_precision(precision)?;
    if p == Precision::F32 && kind != "relu_ntk" {
        return Err(invalid(
            "precision",
            format!("f32 blocks exist for relu_ntk only, not '{kind}'"),
        ));
    }
    let n = na + nb;
    let two_d = |v: Vec<f64>| -> PyResult<Matrix<f64>> {
        if sa.len() != 2 {
            return Err(invalid(
                "xa",
                format!("expected an n x d array, got shape {sa:?}"),
            ));
        }
        Matrix::from_vec(n, sa[1], v).map_err(py_err)
    };
    use widenet::kernels::{classic::ClassicKernel, fc, relu_ntk::HInfKernel};
    match kind {
        "relu_ntk" if p == Precision::F32 => {
            if sa.len() != 2 {
                return Err(invalid(
                    "xa",
                    format!("expected an n x d array, got shape {sa:?}"),
                ));
            }
            let m =
                Matrix::from_vec(n, sa[1], stacked::<f32>(&xa, xb.as_ref())?).map_err(py_err)?;
            let k = HInfKernel::from_f32(&m).map_err(py_err)?;
            cut::<f32, _>(py, &k, rows, cols)
        }
        "relu_ntk" => {
            let m = two_d(stacked::<f64>(&xa, xb.as_ref())?)?;
            cut::<f64, _>(py, &HInfKernel::new(&m).map_err(py_err)?, rows, cols)
        }
        "fc_ntk" | "fc_nngp" => {
            let m = two_d(stacked::<f64>(&xa, xb.as_ref())?)?;
            let k = if kind == "fc_ntk" {
                let t = fc::FcTrained::parse(trained).map_err(py_err)?;
                fc::FcKernel::ntk(&m, depth, t)
            } else {
                fc::FcKernel::nngp(&m, depth)
            }
            .map_err(py_err)?;
            cut::<f64, _>(py, &k, rows, cols)
        }
        "gaussian" | "arcsin" => {
            let m = two_d(stacked::<f64>(&xa, xb.as_ref())?)?;
            let k = if kind == "gaussian" {
                ClassicKernel::gaussian(&m, bandwidth)
            } else {
                ClassicKernel::arcsin(&m)
            }
            .map_err(py_err)?;
            cut::<f64, _>(py, &k, rows, cols)
        }
        "rnn_ntk" => {
            use widenet::models::rnn::{split_steps, Preset};
            if sa.len() != 3 {
                return Err(invalid(
                    "xa",
                    format!(
                        "expected an n x L x d array (one sequence per sample), got shape {sa:?}"
                    ),
                ));
            }
            let preset = Preset::parse(preset.unwrap_or("")).map_err(py_err)?;
            let v = stacked::<f64>(&xa, xb.as_ref())?;
            let xs = split_steps(&v, n, sa[1], sa[2]).map_err(py_err)?;
            let k =
                widenet::kernels::rnn_infinite::RnnInfKernel::new(preset, &xs).map_err(py_err)?;
            cut::<f64, _>(py, &k, rows, cols)
        }
        _ => Err(invalid(
            "kind",
            format!(
                "unknown kernel '{kind}' (relu_ntk, fc_ntk, fc_nngp, gaussian, arcsin, rnn_ntk)"
            ),
        )),
    }
}

/// Seed 001 eq. 8 as the large-n path evaluates it (`theory::large_n::loss_curves`):
/// Φ(t) = ½ Σ (1 − ηλ)^{2t} w for t = 0..=iters from the top pairs `top` (k × 2 rows
/// [λ_i, (v_iᵀy)²]) exactly and the rest (mass `rest`) by the Gauss nodes `tail` (m × 2
/// rows [node, weight], weights rescaled to `rest`), with the rigorous range over
/// λ ∈ [0, `lam_k`]. Returns (predicted, lower, upper). Used by `widenet.dask`.
#[pyfunction]
#[pyo3(signature = (top, tail, rest, lam_k, eta, iters))]
fn loss_curves<'py>(
    py: Python<'py>,
    top: Arr<'py>,
    tail: Arr<'py>,
    rest: f64,
    lam_k: f64,
    eta: f64,
    iters: usize,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    fn pairs(a: &Arr<'_>, name: &str) -> PyResult<Vec<(f64, f64)>> {
        let shape = a.shape();
        if shape.len() != 2 || shape[1] != 2 {
            return Err(invalid(
                name,
                format!("expected a k x 2 array of [eigenvalue, weight] rows, got shape {shape:?}"),
            ));
        }
        let v = values::<f64>(a, name)?;
        Ok(v.chunks_exact(2).map(|p| (p[0], p[1])).collect())
    }
    let (top, tail) = (pairs(&top, "top")?, pairs(&tail, "tail")?);
    for (name, x) in [("rest", rest), ("lam_k", lam_k), ("eta", eta)] {
        if !x.is_finite() {
            return Err(invalid(name, format!("must be finite, got {x}")));
        }
    }
    widenet::runtime::check_alloc("predicted loss curves", 3 * (iters as u128 + 1), 8)
        .map_err(py_err)?;
    let (mid, lo, hi) =
        py.detach(|| widenet::theory::large_n::loss_curves(&top, &tail, rest, lam_k, eta, iters));
    Ok((out1(py, mid), out1(py, lo), out1(py, hi)))
}

/// Smallest eigenvalue of the preconditioned operator from preconditioned CG's
/// coefficients α_i, β_i (its Lanczos matrix; `theory::large_n::tridiag_min`); times
/// λ_min(M) it estimates λ_min(K). `beta` needs at least len(alpha) − 1 values.
#[pyfunction]
fn tridiag_min(alpha: Vec<f64>, beta: Vec<f64>) -> PyResult<f64> {
    if alpha.is_empty() || beta.len() + 1 < alpha.len() {
        return Err(invalid(
            "alpha/beta",
            format!(
                "need at least one alpha and len(alpha) - 1 betas, got {} and {}",
                alpha.len(),
                beta.len()
            ),
        ));
    }
    if alpha.iter().chain(&beta).any(|x| !x.is_finite()) || alpha.contains(&0.0) {
        return Err(invalid("alpha/beta", "must be finite, alpha non-zero"));
    }
    widenet::theory::large_n::tridiag_min(&alpha, &beta).map_err(py_err)
}

/// Largest eigenvalue of a symmetric positive operator of size `n` by `steps` of Lanczos
/// with full reorthogonalization from a start vector seeded by `seed`
/// (`theory::large_n::lanczos_largest`); `apply(v)` returns the operator times the 1-D
/// float64 array `v`. An exception raised by `apply` (Ctrl-C on a cluster wait) stops
/// it and propagates. Used by `widenet.dask` for λ_min of a preconditioner.
#[pyfunction]
fn lanczos_largest(
    py: Python<'_>,
    n: usize,
    steps: usize,
    seed: u64,
    apply: Bound<'_, PyAny>,
) -> PyResult<f64> {
    if n == 0 || steps == 0 {
        return Err(invalid("n/steps", "must be positive"));
    }
    let mut failure: Option<PyErr> = None;
    let r = widenet::theory::large_n::lanczos_largest(n, steps, seed, |v| {
        let got = apply
            .call1((numpy::PyArray1::from_slice(py, v),))
            .and_then(|o| {
                let a: Arr<'_> = o.extract()?;
                if a.shape() != [n] {
                    return Err(invalid(
                        "apply",
                        format!("returned shape {:?}, expected ({n},)", a.shape()),
                    ));
                }
                values::<f64>(&a, "apply's result")
            });
        got.map_err(|e| {
            failure = Some(e);
            Error::Interrupted
        })
    });
    if let Some(e) = failure {
        return Err(e);
    }
    r.map_err(py_err)
}

#[pymodule]
fn _widenet(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("WidenetError", m.py().get_type::<WidenetError>())?;
    m.add_function(wrap_pyfunction!(set_memory_budget, m)?)?;
    m.add_function(wrap_pyfunction!(load_all_classes, m)?)?;
    m.add_function(wrap_pyfunction!(relu_ntk, m)?)?;
    m.add_function(wrap_pyfunction!(_time_relu_ntk, m)?)?;
    m.add_function(wrap_pyfunction!(fc_kernel, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian, m)?)?;
    m.add_function(wrap_pyfunction!(arcsin, m)?)?;
    m.add_function(wrap_pyfunction!(empirical_gram, m)?)?;
    m.add_function(wrap_pyfunction!(rnn_ntk, m)?)?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_large, m)?)?;
    m.add_function(wrap_pyfunction!(kernel_block, m)?)?;
    m.add_function(wrap_pyfunction!(loss_curves, m)?)?;
    m.add_function(wrap_pyfunction!(tridiag_min, m)?)?;
    m.add_function(wrap_pyfunction!(lanczos_largest, m)?)?;
    m.add_function(wrap_pyfunction!(train_two_layer, m)?)?;
    m.add_function(wrap_pyfunction!(krr, m)?)?;
    m.add_function(wrap_pyfunction!(train_rnn, m)?)?;
    m.add_function(wrap_pyfunction!(train_resnet, m)?)?;
    m.add_function(wrap_pyfunction!(complexity, m)?)?;
    m.add_function(wrap_pyfunction!(reproduce, m)?)?;
    m.add_function(wrap_pyfunction!(rejudge, m)?)?;
    m.add_function(wrap_pyfunction!(experiment_names, m)?)?;
    m.add_function(wrap_pyfunction!(load_two_class, m)?)?;
    m.add_function(wrap_pyfunction!(two_class_structured, m)?)?;
    m.add_function(wrap_pyfunction!(unit_sphere, m)?)?;
    m.add_function(wrap_pyfunction!(resnet_target, m)?)?;
    m.add_function(wrap_pyfunction!(rnn_concept, m)?)?;
    m.add_function(wrap_pyfunction!(elman_concept, m)?)?;
    m.add_function(wrap_pyfunction!(poly_target, m)?)?;
    m.add_function(wrap_pyfunction!(solver::analyze_operator, m)?)?;
    m.add_function(wrap_pyfunction!(predict::predict, m)?)?;
    m.add_function(wrap_pyfunction!(composed::composed_init, m)?)?;
    m.add_function(wrap_pyfunction!(composed::composed_apply, m)?)?;
    m.add_function(wrap_pyfunction!(composed::composed_empirical_ntk, m)?)?;
    m.add_function(wrap_pyfunction!(composed::composed_train_gd, m)?)?;
    Ok(())
}
