//! Training the seeds' networks (two-layer, RNN, ResNet) and kernel ridge regression.

use crate::{convert::*, errors::*};
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use widenet::experiments::common::Precision;
use widenet::{Matrix, Real};

/// The two-layer net of seed 001 §3.1 trained by full-batch GD (eq. 6).
#[pyfunction]
#[pyo3(signature = (x, y, x_test=None, y_test=None, width=10000, kappa=0.01, eta=1e-4,
    steps=2000, loss_tol=0.0, seed=0, precision="f32"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn train_two_layer<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    y: Arr<'py>,
    x_test: Option<Arr<'py>>,
    y_test: Option<Arr<'py>>,
    width: usize,
    kappa: f64,
    eta: f64,
    steps: usize,
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
        max_steps: steps,
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
    match option::<Precision>("precision", precision)? {
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

/// A ReLU RNN (preset elman or wang) trained on W by SGD (seed 002 Algorithm 1 / seed 004
/// Theorem 2), labels `y` (n) as the target of every output step of the objective.
#[pyfunction]
#[pyo3(signature = (x, y, preset, width, loss="logistic", outputs=None, scale=1.0, eta=1e-2,
    steps=1000, batch=1, eval_every=50, seed=0, x_test=None, y_test=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn train_rnn<'py>(
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
    use widenet::models::rnn::{Objective, Outputs, Preset, Rnn};
    use widenet::train::rnn_sgd::{train_rnn_sgd, RnnData, RnnSgdConfig};
    let preset: Preset = option("preset", preset)?;
    let obj = Objective {
        loss: option("loss", loss)?,
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

/// One of seed 003's learners (3resnet, 3layer, 2layer, last, ntk) trained by mini-batch
/// SGD with momentum and weight decay on App. A's schedule (E epochs at lr, E at
/// lr / lr_drop).
#[pyfunction]
#[pyo3(signature = (x, y, learner, width, lr, epochs, weight_decay=0.0, momentum=0.9,
    batch=50, lr_drop=10.0, seed=0, x_test=None, y_test=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn train_resnet<'py>(
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
    let kind: LearnerKind = option("learner", learner)?;
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
pub(crate) fn krr<'py>(
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
