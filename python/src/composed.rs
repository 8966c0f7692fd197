//! `_widenet.composed_*`: the finite network of a composed architecture
//! (`widenet::models::composed`), for `widenet.stax`'s `init`, `apply`,
//! `empirical_ntk` and training. Parameters travel as a list of float64 arrays:
//! each dense layer's weights (out × in), then its bias (1-D) when the layer has
//! b > 0, in the spec's order; a recurrent layer gives W (with M_0 as its bias
//! when h0 > 0), then A (with β when b > 0), then its step's dense layers.

use super::{out1, out2, py_err, run, vector, Arr};
use numpy::ndarray::{Array1, Array2};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyList;
use widenet::kernels::compose::Arch;
use widenet::models::composed::ComposedNet;
use widenet::{Error, Matrix};

/// Library errors about the architecture name the Python argument, `spec`.
fn rename(e: Error) -> Error {
    match e {
        Error::Invalid { name, msg } if name == "arch" => Error::Invalid {
            name: "spec".into(),
            msg,
        },
        e => e,
    }
}

fn spec_err(e: Error) -> PyErr {
    py_err(rename(e))
}

fn parse(spec: &str) -> PyResult<Arch> {
    Arch::parse(spec).map_err(spec_err)
}

/// The parameter list as (shape, values), each array checked finite.
fn arrays(params: &[Arr<'_>]) -> PyResult<Vec<(Vec<usize>, Vec<f64>)>> {
    params
        .iter()
        .enumerate()
        .map(|(i, a)| Ok((a.shape(), super::values::<f64>(a, &format!("params[{i}]"))?)))
        .collect()
}

/// The network of `spec` with `params`, and the inputs `x` as its matrix: n × d,
/// or for a recurrent net of length L n × L × d sequences (or n × (L·d) rows).
fn net_and_x(
    spec: &str,
    params: &[Arr<'_>],
    x: &Arr<'_>,
    name: &str,
) -> PyResult<(ComposedNet, Matrix<f64>)> {
    let arch = parse(spec)?;
    let xm = super::compose::inputs(&arch, x, name)?;
    // d per step; a row length that is not len·d is refused by the net, naming x
    let d = (xm.cols() / arch.seq_len().unwrap_or(1)).max(1);
    let net = ComposedNet::from_arrays(&arch, d, arrays(params)?).map_err(spec_err)?;
    Ok((net, xm))
}

fn param_list<'py>(py: Python<'py>, net: &ComposedNet) -> PyResult<Bound<'py, PyList>> {
    let items: Vec<Bound<'py, PyAny>> = net
        .to_arrays()
        .into_iter()
        .map(|(shape, data)| match shape[..] {
            [r, c] => Array2::from_shape_vec((r, c), data)
                .expect("weights hold rows x cols values")
                .into_pyarray(py)
                .into_any(),
            _ => Array1::from_vec(data).into_pyarray(py).into_any(),
        })
        .collect();
    PyList::new(py, items)
}

/// Parameters of the network of `spec` at `width` for inputs of dimension `d`,
/// drawn from `seed` as each dense layer's parameterization says.
#[pyfunction]
#[pyo3(signature = (spec, seed, width, d))]
pub fn composed_init<'py>(
    py: Python<'py>,
    spec: &str,
    seed: u64,
    width: usize,
    d: usize,
) -> PyResult<Bound<'py, PyList>> {
    let arch = parse(spec)?;
    let net = run(py, || {
        ComposedNet::init(&arch, d, width, seed).map_err(rename)
    })?;
    param_list(py, &net)
}

/// The network's outputs f(x_i), one per row of `x` (a 1-D array).
#[pyfunction]
#[pyo3(signature = (spec, params, x))]
pub fn composed_apply<'py>(
    py: Python<'py>,
    spec: &str,
    params: Vec<Arr<'py>>,
    x: Arr<'py>,
) -> PyResult<Bound<'py, PyAny>> {
    let (net, xm) = net_and_x(spec, &params, &x, "x")?;
    Ok(out1(py, run(py, || net.apply(&xm))?))
}

/// The empirical NTK J(x) J(x2)ᵀ over the trainable parameters (x2 = x when None).
#[pyfunction]
#[pyo3(signature = (spec, params, x, x2=None))]
pub fn composed_empirical_ntk<'py>(
    py: Python<'py>,
    spec: &str,
    params: Vec<Arr<'py>>,
    x: Arr<'py>,
    x2: Option<Arr<'py>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (net, xm) = net_and_x(spec, &params, &x, "x")?;
    let x2m = x2
        .map(|a| super::compose::inputs(net.arch(), &a, "x2"))
        .transpose()?;
    Ok(out2(py, run(py, || net.empirical_ntk(&xm, x2m.as_ref()))?))
}

/// Full-batch gradient descent on ½ Σ (f(x_i) − y_i)² for `steps` steps of
/// size `eta`; returns the trained parameters and the loss at steps 0..=steps.
#[pyfunction]
#[pyo3(signature = (spec, params, x, y, *, eta, steps))]
pub fn composed_train_gd<'py>(
    py: Python<'py>,
    spec: &str,
    params: Vec<Arr<'py>>,
    x: Arr<'py>,
    y: Arr<'py>,
    eta: f64,
    steps: usize,
) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyAny>)> {
    let (mut net, xm) = net_and_x(spec, &params, &x, "x")?;
    let yv = vector(&y, "y")?;
    let hist = run(py, || net.train_gd(&xm, &yv, eta, steps))?;
    Ok((param_list(py, &net)?, out1(py, hist)))
}
