//! The complexity calculators and the papers' experiments (`reproduce`, `rejudge`).

use crate::{convert::*, errors::*};
use pyo3::prelude::*;
use std::path::PathBuf;
use widenet::experiments::common::Scale;

/// Complexity of an analytic function, as the CLI's `complexity --json` JSON text.
#[pyfunction]
#[pyo3(signature = (function, measure="C", r=1.0, n=None, l=None, eps=None))]
pub(crate) fn complexity(
    py: Python<'_>,
    function: &str,
    measure: &str,
    r: f64,
    n: Option<usize>,
    l: Option<usize>,
    eps: Option<f64>,
) -> PyResult<String> {
    let m = option("measure", measure)?;
    let f = function.to_string();
    let v = run(py, || {
        widenet::theory::complexity::complexity_json(&f, m, r, n, l, eps)
    })?;
    Ok(v.to_string())
}

/// Runs one experiment like `widenet reproduce NAME` (writing OUT/NAME/result.json, the
/// figures and OUT/NAME/report.html); returns (result.json path, report path, claims table).
/// `settings` are (key, value text) pairs, exactly as `--set key=value` (the old flag
/// names n_train, width, steps, eta, kappa, precision, data are aliases where the
/// experiment has that setting); unknown keys raise ValueError listing the valid ones.
/// With `show_only`, nothing runs: the first element is the resolved settings as JSON.
#[pyfunction]
#[pyo3(signature = (name, scale="quick", seed=0, out=PathBuf::from("widenet-results"),
    settings=Vec::new(), show_only=false))]
pub(crate) fn reproduce(
    py: Python<'_>,
    name: &str,
    scale: &str,
    seed: u64,
    out: PathBuf,
    settings: Vec<(String, String)>,
    show_only: bool,
) -> PyResult<(String, String, String)> {
    use widenet::experiments::suite;
    let scale: Scale = option("scale", scale)?;
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
pub(crate) fn rejudge(py: Python<'_>, dir: PathBuf, write: bool) -> PyResult<String> {
    run(py, || Ok(widenet::report::run::rejudge(&dir, write)?.table))
}

/// The names `reproduce` accepts.
#[pyfunction]
pub(crate) fn experiment_names() -> Vec<&'static str> {
    widenet::experiments::suite::names()
}
