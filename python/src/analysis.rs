//! Seed 001's analysis: `analyze` (exact), `analyze_large` (the large-n paths), and the
//! library's quadrature/Lanczos pieces `widenet.dask` reuses.

use crate::{convert::*, errors::*};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use widenet::Error;

/// Spectrum, projections, yᵀ(H^∞)⁻¹y, complexity measure, predicted loss (eq. 8) and
/// Theorem 5.1's explicit term, as a dict.
#[pyfunction]
#[pyo3(signature = (x, y, eta, steps, kernel=None))]
pub(crate) fn analyze<'py>(
    py: Python<'py>,
    x: Option<Arr<'py>>,
    y: Arr<'py>,
    eta: f64,
    steps: usize,
    kernel: Option<Arr<'py>>,
) -> PyResult<Bound<'py, PyDict>> {
    let yv = vector(&y, "y")?;
    let (m, is_kernel) = match (x, kernel) {
        (Some(x), None) => (matrix::<f64>(&x, "x")?, false),
        (None, Some(k)) => (matrix::<f64>(&k, "kernel")?, true),
        _ => return Err(invalid("x/kernel", "give exactly one of x and kernel")),
    };
    let a = run(py, move || {
        if is_kernel {
            widenet::commands::analyze_kernel_arrays(m, &yv, eta, steps)
        } else {
            widenet::commands::analyze_arrays(&m, &yv, eta, steps)
        }
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

/// Seed 001's analysis on the large-n path (`widenet analyze --top-k/--path/--kernel`):
/// the top-k spectrum and label projections by block Lanczos, yᵀK⁻¹y to `tol` by
/// preconditioned CG with the accuracy reached, eq. 8 with rigorous bounds. The kernel
/// is H^∞ of `x` or the user's symmetric `kernel`. `precond` ("auto", "cholesky",
/// "spectral-cg") picks the f32 path's preconditioner. Returns the report as JSON text.
#[pyfunction]
#[pyo3(signature = (y, x=None, kernel=None, eta=1e-3, steps=1000, top_k=None, path=None,
    tol=1e-6, seed=0, precond=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn analyze_large<'py>(
    py: Python<'py>,
    y: Arr<'py>,
    x: Option<Arr<'py>>,
    kernel: Option<Arr<'py>>,
    eta: f64,
    steps: usize,
    top_k: Option<usize>,
    path: Option<String>,
    tol: f64,
    seed: u64,
    precond: Option<String>,
) -> PyResult<String> {
    use widenet::kernels::{relu_ntk::HInfKernel, stored::StoredKernel, tile::TileKernel};
    use widenet::theory::large_n::{LargeNConfig, PrecondChoice, SolverPath};
    let precond = precond
        .map(|s| option::<PrecondChoice>("precond", &s))
        .transpose()?
        .unwrap_or_default();
    let yv = vector(&y, "y")?;
    let path = path.map(|s| option::<SolverPath>("path", &s)).transpose()?;
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
            steps,
            seed,
            show_progress: false,
            precond,
            ..Default::default()
        };
        widenet::commands::large_n_report(kern.as_ref(), &yv, top_k, cfg)
    })?;
    serde_json::to_string(&rep).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// Seed 001 eq. 8 as the large-n path evaluates it (`theory::large_n::loss_curves`):
/// Φ(t) = ½ Σ (1 − ηλ)^{2t} w for t = 0..=steps from the top pairs `top` (k × 2 rows
/// [λ_i, (v_iᵀy)²]) exactly and the rest (mass `rest`) by the Gauss nodes `tail` (m × 2
/// rows [node, weight], weights rescaled to `rest`), with the rigorous range over
/// λ ∈ [0, `lam_k`]. Returns (predicted, lower, upper). Used by `widenet.dask`.
#[pyfunction]
#[pyo3(signature = (top, tail, rest, lam_k, eta, steps))]
pub(crate) fn loss_curves<'py>(
    py: Python<'py>,
    top: Arr<'py>,
    tail: Arr<'py>,
    rest: f64,
    lam_k: f64,
    eta: f64,
    steps: usize,
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
    widenet::runtime::check_alloc("predicted loss curves", 3 * (steps as u128 + 1), 8)
        .map_err(py_err)?;
    let (mid, lo, hi) =
        py.detach(|| widenet::theory::large_n::loss_curves(&top, &tail, rest, lam_k, eta, steps));
    Ok((out1(py, mid), out1(py, lo), out1(py, hi)))
}

/// Smallest eigenvalue of the preconditioned operator from preconditioned CG's
/// coefficients α_i, β_i (its Lanczos matrix; `theory::large_n::tridiag_min`); times
/// λ_min(M) it estimates λ_min(K). `beta` needs at least len(alpha) − 1 values.
#[pyfunction]
pub(crate) fn tridiag_min(alpha: Vec<f64>, beta: Vec<f64>) -> PyResult<f64> {
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
pub(crate) fn lanczos_largest(
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
