//! The large-n solvers on an operator known only through Python callables
//! (`widenet.dask`'s distributed kernel, or any user's): the callables are
//! adapted to `widenet::theory::large_n::LinearOperator` and the analysis runs
//! in the library (`analyze_operator`), on a worker thread with the GIL
//! released; the GIL is taken only for each product call, and Ctrl-C is
//! checked between products (`run`).

use super::{invalid, option, run, values, Arr};
use numpy::PyArrayMethods;
use pyo3::prelude::*;
use std::sync::Mutex;
use widenet::theory::large_n::{
    analyze_operator_with, CostHint, LargeNConfig, LinearOperator, PrecondChoice, Preconditioner,
    SolverPath,
};
use widenet::{Error, Matrix};

/// A symmetric operator given by `matmul(v)` (f64 products) and optionally
/// `matmul32(v)` (products with the kernel rounded to f32), each taking and
/// returning an n × b float array.
struct PyOperator {
    n: usize,
    matmul: Py<PyAny>,
    matmul32: Option<Py<PyAny>>,
    f32_rms: f64,
    /// The first exception a callable raised (the analysis stops on it).
    failure: Mutex<Option<PyErr>>,
}

impl PyOperator {
    fn call(&self, f: &Py<PyAny>, name: &str, v: &Matrix<f64>) -> widenet::Result<Matrix<f64>> {
        call_block(f, name, v, &self.failure)
    }
}

/// `f(v)` for an n × b block `v`, checked to be an n × b float array; an
/// exception is stored in `failure` (the first one wins) and unwinds the
/// analysis as [`Error::Interrupted`], to be raised in its place.
fn call_block(
    f: &Py<PyAny>,
    name: &str,
    v: &Matrix<f64>,
    failure: &Mutex<Option<PyErr>>,
) -> widenet::Result<Matrix<f64>> {
    let (n, b) = v.shape();
    let got = Python::attach(|py| -> PyResult<Vec<f64>> {
        let arr = numpy::PyArray1::from_slice(py, v.as_slice()).reshape([n, b])?;
        let out = f.call1(py, (arr,))?;
        let a: Arr<'_> = out.extract(py)?;
        if a.shape() != [n, b] {
            return Err(invalid(
                name,
                format!("returned shape {:?}, expected ({n}, {b})", a.shape()),
            ));
        }
        values::<f64>(&a, &format!("{name}'s result"))
    });
    match got {
        Ok(x) => Matrix::from_vec(n, b, x),
        Err(e) => {
            let mut f = failure.lock().unwrap_or_else(|e| e.into_inner());
            f.get_or_insert(e);
            // unwinds the analysis; the stored exception is raised instead
            Err(Error::Interrupted)
        }
    }
}

/// A preconditioner given by `apply(r)` (M⁻¹R for n × c float64 blocks), e.g.
/// `widenet.dask`'s Cholesky factor held on the workers.
struct PyPreconditioner<'a> {
    apply: Py<PyAny>,
    name: String,
    deflated: bool,
    failure: &'a Mutex<Option<PyErr>>,
}

impl Preconditioner for PyPreconditioner<'_> {
    fn apply(&self, r: &Matrix<f64>) -> widenet::Result<Matrix<f64>> {
        call_block(&self.apply, "preconditioner", r, self.failure)
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn deflated(&self) -> bool {
        self.deflated
    }
}

impl LinearOperator for PyOperator {
    fn size(&self) -> usize {
        self.n
    }
    fn cost_hint(&self) -> CostHint {
        let n = self.n as f64;
        CostHint {
            flops_per_column: 2.0 * n * n,
            bytes_per_call: 0.0,
        }
    }
    fn apply_f64(&self, v: &Matrix<f64>, _show: bool) -> widenet::Result<Matrix<f64>> {
        self.call(&self.matmul, "matmul", v)
    }
    fn apply_f32(&self, v: &Matrix<f64>, _show: bool) -> widenet::Result<Matrix<f64>> {
        match &self.matmul32 {
            Some(f) => self.call(f, "matmul32", v),
            None => self.call(&self.matmul, "matmul", v),
        }
    }
    fn f32_entry_rms(&self) -> widenet::Result<f64> {
        Ok(self.f32_rms)
    }
    fn product_name(
        &self,
        precision: widenet::theory::large_n::operator::Precision,
    ) -> &'static str {
        match precision {
            widenet::theory::large_n::operator::Precision::F64 => "product (python f64)",
            widenet::theory::large_n::operator::Precision::F32 => "product (python f32)",
        }
    }
}

/// Seed 001's large-n analysis (`theory::large_n::analyze_operator`) of the
/// symmetric operator whose products `matmul(v)` (and `matmul32(v)`, the kernel
/// rounded to f32; default: `matmul`) return K·v for n × b float64 blocks `v`,
/// for the label vectors `y` (1-D, or 2-D with one label vector per row):
/// block Lanczos on the f32 products, f64 refinement and (flexible) CG on the
/// f64 products, the matrix-free path's algorithms and stopping rules.
/// `f32_error_rms` is the rms of K − K₃₂ per entry (0 without `matmul32`).
/// `path="dense"` (no `matmul32`): the products are f64 only and the dense
/// path's algorithms run on them (`analyze_operator_with`). `preconditioner`
/// (a callable, `preconditioner(r)` = M⁻¹R for n × c float64 blocks, reported
/// as `preconditioner_name`; with `deflated`, applied between the top-k' Ritz
/// pairs' deflation, block-Jacobi style) replaces the path's own preconditioner.
/// `eig_rtol` and `max_basis` override block Lanczos's stopping rule and basis
/// cap. Returns the `LargeNAnalysis` as JSON. An exception raised by a callable
/// stops the analysis and propagates.
#[pyfunction]
#[pyo3(signature = (y, n, matmul, matmul32=None, f32_error_rms=0.0, top_k=100, eta=1e-3,
    steps=1000, tol=1e-6, seed=0, precond=None, block=None, max_cg_iters=300, path=None,
    preconditioner=None, preconditioner_name="external", deflated=false, eig_rtol=None,
    max_basis=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn analyze_operator(
    py: Python<'_>,
    y: Arr<'_>,
    n: usize,
    matmul: Py<PyAny>,
    matmul32: Option<Py<PyAny>>,
    f32_error_rms: f64,
    top_k: usize,
    eta: f64,
    steps: usize,
    tol: f64,
    seed: u64,
    precond: Option<String>,
    block: Option<usize>,
    max_cg_iters: usize,
    path: Option<String>,
    preconditioner: Option<Py<PyAny>>,
    preconditioner_name: &str,
    deflated: bool,
    eig_rtol: Option<f64>,
    max_basis: Option<usize>,
) -> PyResult<String> {
    let shape = y.shape();
    let yv = values::<f64>(&y, "y")?;
    let labels: Vec<Vec<f64>> = match shape.as_slice() {
        [m] if *m == n => vec![yv],
        [_, m] if *m == n => yv.chunks_exact(n).map(|c| c.to_vec()).collect(),
        _ => {
            return Err(invalid(
                "y",
                format!("expected shape ({n},) or (labels, {n}), got {shape:?}"),
            ))
        }
    };
    if !(f32_error_rms >= 0.0 && f32_error_rms.is_finite()) {
        return Err(invalid(
            "f32_error_rms",
            format!("must be finite and non-negative, got {f32_error_rms}"),
        ));
    }
    if matmul32.is_none() && f32_error_rms != 0.0 {
        return Err(invalid(
            "f32_error_rms",
            "describes matmul32's kernel; give matmul32 too",
        ));
    }
    let precond = precond
        .map(|s| option::<PrecondChoice>("precond", &s))
        .transpose()?
        .unwrap_or_default();
    let path = match path.as_deref() {
        None | Some("matrix-free") => None,
        Some("dense") if matmul32.is_some() => {
            return Err(invalid(
                "path",
                "'dense' runs on f64 products only; give no matmul32",
            ))
        }
        Some("dense") => Some(SolverPath::Dense),
        Some(p) => {
            return Err(invalid(
                "path",
                format!("expected 'matrix-free' or 'dense', got '{p}'"),
            ))
        }
    };
    if preconditioner.is_none() && deflated {
        return Err(invalid("deflated", "describes a preconditioner; give one"));
    }
    let op = PyOperator {
        n,
        matmul,
        matmul32,
        f32_rms: f32_error_rms,
        failure: Mutex::new(None),
    };
    let cfg = LargeNConfig {
        top_k,
        tol,
        eta,
        steps,
        seed,
        block,
        max_cg_iters,
        precond,
        show_progress: false,
        path,
        eig_rtol,
        max_basis,
    };
    let ext = preconditioner.map(|apply| PyPreconditioner {
        apply,
        name: preconditioner_name.to_string(),
        deflated,
        failure: &op.failure,
    });
    let r = run(py, || {
        analyze_operator_with(
            &op,
            &labels,
            &cfg,
            ext.as_ref().map(|p| p as &dyn Preconditioner),
        )
    });
    if let Some(e) = op.failure.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(e);
    }
    let r = r?;
    serde_json::to_string(&r).map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))
}
