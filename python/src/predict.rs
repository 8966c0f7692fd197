//! `_widenet.predict`: infinite-width predictions on test points (the library's
//! `theory::predict`), arrays in and a dict of arrays out.

use super::{invalid, matrix, option, out1, out2, py_err, run, targets, Arr};
use numpy::ndarray::Array3;
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use widenet::theory::predict::cli::{
    predict as predict_core, KernelBlocks, KernelInput, Mode, NamedKernel, PathChoice,
    PredictRequest,
};
use widenet::theory::predict::{Cov, Dynamics};
use widenet::Matrix;

fn stack<'py>(py: Python<'py>, ms: Vec<Matrix<f64>>) -> Bound<'py, PyAny> {
    let (t, r, c) = (
        ms.len(),
        ms.first().map_or(0, |m| m.rows()),
        ms.first().map_or(0, |m| m.cols()),
    );
    let flat: Vec<f64> = ms.into_iter().flat_map(|m| m.into_vec()).collect();
    Array3::from_shape_vec((t, r, c), flat)
        .expect("predictions share one shape")
        .into_pyarray(py)
        .into_any()
}

/// A test–test kernel argument: n* × n* (full) or a vector of n* variances.
fn test_test(a: &Option<Arr<'_>>, name: &str) -> PyResult<Option<Matrix<f64>>> {
    match a {
        None => Ok(None),
        Some(a) if a.shape().len() == 1 => {
            let v = super::vector(a, name)?;
            Matrix::from_vec(1, v.len(), v).map(Some).map_err(py_err)
        }
        Some(a) => matrix::<f64>(a, name).map(Some),
    }
}

/// Predictions by `mode` ("gd", "ensemble", "gp") from kernel arrays (`k_train`,
/// `k_test_train`, ...) or a kernel by name (`kernel` with `x_train`, `x_test`); returns a
/// dict with `times`, `train` (T × n × c), `test_mean` (T × n* × c), `test_cov`
/// (T × n* × n* or T × n*, or None), the curves, `accuracy` (1 − test 0–1 error), `path`
/// `achieved_rel_error` (T × c on the large-n paths, else None) and `cov_rel_error` (T,
/// the covariance's estimated error relative to the prior scale on the large-n paths).
#[pyfunction]
#[pyo3(signature = (k_train, y_train, k_test_train, *, mode="gd", k_test_test=None,
    nngp_train=None, nngp_test_train=None, nngp_test_test=None, f0_train=None, f0_test=None,
    y_test=None, times=vec![f64::INFINITY], learning_rate=1.0, schedule="flow", ridge=0.0,
    loss_norm="mean", noise=0.0, kernel=None, x_train=None, x_test=None, depth=3,
    bandwidth=1.0, arch=None, full_cov=false, path=None, top_k=50, tol=1e-6))]
#[allow(clippy::too_many_arguments)]
pub fn predict<'py>(
    py: Python<'py>,
    k_train: Option<Arr<'py>>,
    y_train: Arr<'py>,
    k_test_train: Option<Arr<'py>>,
    mode: &str,
    k_test_test: Option<Arr<'py>>,
    nngp_train: Option<Arr<'py>>,
    nngp_test_train: Option<Arr<'py>>,
    nngp_test_test: Option<Arr<'py>>,
    f0_train: Option<Arr<'py>>,
    f0_test: Option<Arr<'py>>,
    y_test: Option<Arr<'py>>,
    times: Vec<f64>,
    learning_rate: f64,
    schedule: &str,
    ridge: f64,
    loss_norm: &str,
    noise: f64,
    kernel: Option<String>,
    x_train: Option<Arr<'py>>,
    x_test: Option<Arr<'py>>,
    depth: usize,
    bandwidth: f64,
    arch: Option<String>,
    full_cov: bool,
    path: Option<&str>,
    top_k: usize,
    tol: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let y = targets(&y_train, "y_train")?;
    let f0 = f0_train.map(|a| targets(&a, "f0_train")).transpose()?;
    let f0t = f0_test.map(|a| targets(&a, "f0_test")).transpose()?;
    let yt = y_test.map(|a| targets(&a, "y_test")).transpose()?;
    let dynamics = Dynamics {
        times,
        learning_rate,
        schedule: option("schedule", schedule)?,
        ridge,
        loss_norm: option("loss_norm", loss_norm)?,
    };
    let mode: Mode = option("mode", mode)?;
    let path = path.map(|p| option::<PathChoice>("path", p)).transpose()?;
    let named = NamedKernel::from_request(kernel, arch, depth, bandwidth);
    let (blocks, xs) = match &named {
        Some(_) => {
            for (v, name) in [
                (k_train.is_some(), "k_train"),
                (k_test_train.is_some(), "k_test_train"),
            ] {
                if v {
                    return Err(invalid(
                        name,
                        "give either kernel arrays or a kernel by name, not both",
                    ));
                }
            }
            let x =
                x_train.ok_or_else(|| invalid("x_train", "is required with a kernel by name"))?;
            let xt =
                x_test.ok_or_else(|| invalid("x_test", "is required with a kernel by name"))?;
            (
                None,
                Some((matrix::<f64>(&x, "x_train")?, matrix::<f64>(&xt, "x_test")?)),
            )
        }
        None => {
            let k =
                k_train.ok_or_else(|| invalid("k_train", "is required without a kernel name"))?;
            let kt = k_test_train
                .ok_or_else(|| invalid("k_test_train", "is required without a kernel name"))?;
            let nngp = match mode {
                Mode::Ensemble => {
                    let tr = nngp_train
                        .ok_or_else(|| invalid("nngp_train", "is required with mode='ensemble'"))?;
                    let tt = nngp_test_train.ok_or_else(|| {
                        invalid("nngp_test_train", "is required with mode='ensemble'")
                    })?;
                    Some(KernelBlocks {
                        train: matrix::<f64>(&tr, "nngp_train")?,
                        test_train: matrix::<f64>(&tt, "nngp_test_train")?,
                        test_test: test_test(&nngp_test_test, "nngp_test_test")?,
                    })
                }
                _ => None,
            };
            let kernel = KernelBlocks {
                train: matrix::<f64>(&k, "k_train")?,
                test_train: matrix::<f64>(&kt, "k_test_train")?,
                test_test: test_test(&k_test_test, "k_test_test")?,
            };
            (Some((kernel, nngp)), None)
        }
    };
    let input = match (&named, &xs, &blocks) {
        (Some(k), Some((x, xt)), _) => KernelInput::Named {
            kernel: k,
            x_train: x,
            x_test: xt,
            full_cov,
        },
        (_, _, Some((kernel, nngp))) => KernelInput::Arrays {
            kernel,
            nngp: nngp.as_ref(),
        },
        _ => unreachable!("a kernel by name has inputs, arrays otherwise"),
    };
    let c = y.cols();
    let p = run(py, || {
        predict_core(&PredictRequest {
            input,
            mode,
            y_train: &y,
            y_test: yt.as_ref(),
            f0_train: f0.as_ref(),
            f0_test: f0t.as_ref(),
            dynamics: &dynamics,
            noise,
            path,
            top_k,
            tol,
            show_progress: false,
        })
    })?;
    let (train, test, cov, curves, times) = (p.train, p.test, p.cov, p.curves, p.dynamics.times);
    let (path_name, acc) = (p.path, p.achieved_rel_error);
    let d = PyDict::new(py);
    d.set_item("cov_rel_error", p.cov_rel_error.map(|v| out1(py, v)))?;
    d.set_item("path", path_name)?;
    d.set_item(
        "achieved_rel_error",
        match acc {
            None => None,
            Some(a) => Some(out2(
                py,
                Matrix::from_vec(a.len(), c, a.concat()).map_err(py_err)?,
            )),
        },
    )?;
    d.set_item(
        "accuracy",
        curves
            .test_error
            .as_ref()
            .map(|e| out1(py, e.iter().map(|v| 1.0 - v).collect())),
    )?;
    d.set_item("times", out1(py, times))?;
    d.set_item("train", stack(py, train))?;
    d.set_item("test_mean", stack(py, test))?;
    match cov {
        None => d.set_item("test_cov", py.None())?,
        Some(cs) => match cs.first() {
            Some(Cov::Full(_)) => d.set_item(
                "test_cov",
                stack(
                    py,
                    cs.into_iter()
                        .map(|c| match c {
                            Cov::Full(m) => m,
                            Cov::Diag(v) => Matrix::from_vec(1, v.len(), v).expect("a row"),
                        })
                        .collect(),
                ),
            )?,
            _ => {
                let rows: Vec<Vec<f64>> = cs.iter().map(Cov::diag).collect();
                let m = Matrix::from_vec(
                    rows.len(),
                    rows.first().map_or(0, |r| r.len()),
                    rows.concat(),
                )
                .map_err(py_err)?;
                d.set_item("test_cov", out2(py, m))?
            }
        },
    }
    d.set_item("train_mse", out1(py, curves.train_mse))?;
    d.set_item("train_error", out1(py, curves.train_error))?;
    d.set_item("test_mse", curves.test_mse.map(|v| out1(py, v)))?;
    d.set_item("test_error", curves.test_error.map(|v| out1(py, v)))?;
    Ok(d)
}
