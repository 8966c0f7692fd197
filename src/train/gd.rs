//! Full-batch gradient descent on the two-layer net (seed 001, eq. 6):
//! vec(W(k+1)) = vec(W(k)) − η Z(k)(u(k) − y), with the second layer fixed.
//!
//! Per iteration it records the training loss Φ(W(k)), ‖W(k) − W(0)‖_F,
//! max_r ‖w_r(k) − w_r(0)‖ (Lemma 5.3's two quantities), the fraction of
//! activation patterns 1{w_rᵀx_i ≥ 0} that differ from k = 0, and, with a test
//! set, the test ℓ1 loss and 0-1 error (Figure 2's quantities).

use crate::error::{Error, Result};
use crate::linalg::{Matrix, Real};
use crate::models::two_layer::{half_sq_loss, Patterns, TwoLayerNet};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Settings of one GD run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GdConfig {
    /// Learning rate η of eq. 6.
    pub eta: f64,
    /// Iteration limit T (the loss is recorded for k = 0..=T).
    pub max_steps: usize,
    /// Stop once Φ(W(k)) ≤ this.
    pub loss_tol: f64,
    /// Evaluate the test set every this many iterations (and at the last).
    pub eval_every: usize,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

impl Default for GdConfig {
    fn default() -> Self {
        GdConfig {
            eta: 1e-3,
            max_steps: 1000,
            loss_tol: 0.0,
            eval_every: 1,
            progress: false,
        }
    }
}

/// A held-out set evaluated during training.
pub struct TestSet<'a, T> {
    /// Inputs, one per row.
    pub x: &'a Matrix<T>,
    /// Labels.
    pub y: &'a [f64],
}

/// Per-iteration records (all indexed by the iteration k they were measured at).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GdMetrics {
    /// Φ(W(k)) = ½‖y − u(k)‖², k = 0..=T.
    pub loss: Vec<f64>,
    /// ‖W(k) − W(0)‖_F.
    pub w_dist_fro: Vec<f64>,
    /// max_r ‖w_r(k) − w_r(0)‖.
    pub w_dist_max: Vec<f64>,
    /// Fraction of (r, i) with 1{w_r(k)ᵀx_i ≥ 0} ≠ 1{w_r(0)ᵀx_i ≥ 0}.
    pub pattern_changed: Vec<f64>,
    /// Iterations at which the test set was evaluated.
    pub test_iteration: Vec<usize>,
    /// Test ℓ1 loss (1/n') Σ |f(x) − y|.
    pub test_l1: Vec<f64>,
    /// Test 0-1 error (1/n') Σ 1{sign f(x) ≠ y}.
    pub test_error: Vec<f64>,
}

/// Why training stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Φ reached the loss tolerance.
    LossTolerance,
    /// The iteration limit was reached.
    IterationLimit,
}

/// The result of a GD run.
#[derive(Clone, Debug)]
pub struct GdOutcome<T> {
    /// The trained network W(T).
    pub net: TwoLayerNet<T>,
    /// The initial weights W(0).
    pub w0: Matrix<T>,
    /// Per-iteration records.
    pub metrics: GdMetrics,
    /// Iterations performed.
    pub iterations: usize,
    /// Why it stopped.
    pub stop: StopReason,
    /// Final training predictions u(T).
    pub u: Vec<f64>,
    /// Initial training predictions u(0).
    pub u0: Vec<f64>,
}

/// ‖W − W0‖_F and max_r ‖w_r − w0_r‖, in f64.
pub fn weight_distances<T: Real>(w: &Matrix<T>, w0: &Matrix<T>) -> (f64, f64) {
    let d = w.cols().max(1);
    // per-row squared distances in parallel, summed in row order (a parallel
    // reduce would add in an order that depends on work stealing)
    let rows: Vec<f64> = w
        .as_slice()
        .par_chunks(d)
        .zip(w0.as_slice().par_chunks(d))
        .map(|(a, b)| {
            a.iter()
                .zip(b)
                .map(|(&x, &y)| {
                    let t = x.as_f64() - y.as_f64();
                    t * t
                })
                .sum()
        })
        .collect();
    let sum: f64 = rows.iter().sum();
    let mx = rows.iter().cloned().fold(0.0, f64::max);
    (sum.sqrt(), mx.sqrt())
}

/// Test ℓ1 loss and 0-1 error of predictions `u` against labels `y`
/// (a prediction of exactly 0 counts as an error).
pub fn l1_and_error(u: &[f64], y: &[f64]) -> (f64, f64) {
    let n = y.len().max(1) as f64;
    let l1 = u.iter().zip(y).map(|(a, b)| (a - b).abs()).sum::<f64>() / n;
    let err = u
        .iter()
        .zip(y)
        .filter(|(a, b)| !(a.signum() == b.signum() && **a != 0.0))
        .count() as f64
        / n;
    (l1, err)
}

/// Runs full-batch GD (eq. 6) from `net` on (x, y).
///
/// Errors: shape mismatches, and divergence — a non-finite loss or one that grows
/// past Φ(W(0)) — with a suggestion of a smaller η.
pub fn train_gd<T: Real>(
    mut net: TwoLayerNet<T>,
    x: &Matrix<T>,
    y: &[f64],
    test: Option<TestSet<'_, T>>,
    cfg: &GdConfig,
) -> Result<GdOutcome<T>> {
    if y.len() != x.rows() {
        return Err(Error::Shape(format!(
            "{} labels for {} training inputs",
            y.len(),
            x.rows()
        )));
    }
    if let Some(t) = &test {
        if t.y.len() != t.x.rows() {
            return Err(Error::Shape(format!(
                "{} test labels for {} test inputs",
                t.y.len(),
                t.x.rows()
            )));
        }
    }
    if !(cfg.eta > 0.0 && cfg.eta.is_finite()) {
        return Err(Error::invalid(
            "eta",
            format!("must be positive, got {}", cfg.eta),
        ));
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err(Error::Numerical("labels contain non-finite values".into()));
    }
    // ReLU's max(0, x) maps NaN to 0, so a NaN input would "train" to NaN weights
    if !x.all_finite() {
        return Err(Error::Numerical(
            "training inputs contain non-finite values".into(),
        ));
    }
    if let Some(t) = &test {
        if !t.x.all_finite() || t.y.iter().any(|v| !v.is_finite()) {
            return Err(Error::Numerical(
                "test inputs or labels contain non-finite values".into(),
            ));
        }
    }
    let (m, n) = (net.width(), x.rows());
    if n == 0 || x.cols() == 0 {
        return Err(Error::invalid(
            "inputs",
            format!("empty training set ({n} x {})", x.cols()),
        ));
    }
    let w0 = net.w.clone();
    let mut p = Matrix::try_zeros(m, n, "the pre-activations (m x n)")?;
    let mut p_test = Matrix::zeros(0, 0);
    let mut metrics = GdMetrics::default();
    let mut reference: Option<Patterns> = None;
    let mut u0: Vec<f64> = Vec::new();
    let bar = if cfg.progress {
        let b = ProgressBar::new(cfg.max_steps as u64);
        b.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({eta})")
                .expect("static template")
                .progress_chars("=> "),
        );
        b.set_prefix("GD");
        b
    } else {
        ProgressBar::with_draw_target(Some(cfg.max_steps as u64), ProgressDrawTarget::hidden())
    };
    let eval_every = cfg.eval_every.max(1);
    let mut k = 0usize;
    let (u, stop) = loop {
        if let Err(e) = crate::runtime::check_interrupt() {
            bar.abandon();
            return Err(e);
        }
        let u = net.forward_into(x, &mut p)?;
        let loss = half_sq_loss(&u, y);
        if reference.is_none() {
            reference = Some(Patterns::from_preactivations(&p));
            u0 = u.clone();
        }
        let (dfro, dmax) = weight_distances(&net.w, &w0);
        metrics.loss.push(loss);
        metrics.w_dist_fro.push(dfro);
        metrics.w_dist_max.push(dmax);
        let last = k == cfg.max_steps || loss <= cfg.loss_tol;
        if let Some(t) = &test {
            if k.is_multiple_of(eval_every) || last {
                let ut = net.forward_into(t.x, &mut p_test)?;
                let (l1, err) = l1_and_error(&ut, t.y);
                metrics.test_iteration.push(k);
                metrics.test_l1.push(l1);
                metrics.test_error.push(err);
            }
        }
        let start = metrics.loss[0];
        if k == 0 && !loss.is_finite() {
            // before any step: the inputs or the initialization overflow, not eta
            bar.abandon();
            return Err(Error::Numerical(format!(
                "the initial loss is {loss}: the network's outputs overflow at \
                 initialization (inputs of very large norm, or kappa too large); \
                 the learning rate is not the cause"
            )));
        }
        if !loss.is_finite() || (k > 0 && loss > start * (1.0 + 1e-6) + 1e-12) {
            bar.abandon();
            return Err(Error::Diverged {
                iter: k,
                loss,
                start,
                eta: cfg.eta,
                suggest: cfg.eta / 10.0,
            });
        }
        let frac = |f: u64| f as f64 / (m as f64 * n as f64);
        if last {
            let refp = reference.as_ref().expect("set at k = 0");
            metrics
                .pattern_changed
                .push(frac(refp.count_differences(&p)));
            let stop = if loss <= cfg.loss_tol {
                StopReason::LossTolerance
            } else {
                StopReason::IterationLimit
            };
            break (u, stop);
        }
        let e: Vec<f64> = u.iter().zip(y).map(|(a, b)| a - b).collect();
        let flips = net.gradient_signal_in_place(&mut p, &e, reference.as_ref());
        metrics.pattern_changed.push(frac(flips));
        net.apply_update(&p, x, cfg.eta)?;
        k += 1;
        if k.is_multiple_of(16) || k == cfg.max_steps {
            bar.set_position(k as u64);
            bar.set_message(format!("loss {loss:.4e}"));
        }
    };
    bar.finish_and_clear();
    Ok(GdOutcome {
        net,
        w0,
        metrics,
        iterations: k,
        stop,
        u,
        u0,
    })
}

/// Initializes the two-layer net of eq. 1 from `seed` and trains it by GD in precision `T`
/// (inputs and labels are given in f64 and converted).
pub fn train_two_layer<T: Real>(
    x: &Matrix<f64>,
    y: &[f64],
    test: Option<(&Matrix<f64>, &[f64])>,
    width: usize,
    kappa: f64,
    seed: u64,
    cfg: &GdConfig,
) -> Result<GdOutcome<T>> {
    let net = TwoLayerNet::<T>::init(width, x.cols(), kappa, seed)?;
    let xt: Matrix<T> = x.cast();
    let test_t = test.map(|(tx, ty)| (tx.cast::<T>(), ty));
    let ts = test_t.as_ref().map(|(tx, ty)| TestSet { x: tx, y: ty });
    train_gd(net, &xt, y, ts, cfg)
}

/// The record of one training run that experiments keep (no weights).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TwoLayerRecord {
    /// Per-iteration metrics.
    pub metrics: GdMetrics,
    /// Iterations performed.
    pub iterations: usize,
    /// Why training stopped.
    pub stop: StopReason,
    /// Final training predictions u(T).
    pub u: Vec<f64>,
    /// Initial training predictions u(0).
    pub u0: Vec<f64>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// [`train_two_layer`] in the named precision, keeping only the record.
#[allow(clippy::too_many_arguments)] // mirrors train_two_layer plus the precision
pub fn train_two_layer_record(
    precision: crate::linalg::Precision,
    x: &Matrix<f64>,
    y: &[f64],
    test: Option<(&Matrix<f64>, &[f64])>,
    width: usize,
    kappa: f64,
    seed: u64,
    cfg: &GdConfig,
) -> Result<TwoLayerRecord> {
    use crate::linalg::Precision;
    let t0 = std::time::Instant::now();
    let (metrics, iterations, stop, u, u0) = match precision {
        Precision::F32 => {
            let o = train_two_layer::<f32>(x, y, test, width, kappa, seed, cfg)?;
            (o.metrics, o.iterations, o.stop, o.u, o.u0)
        }
        Precision::F64 => {
            let o = train_two_layer::<f64>(x, y, test, width, kappa, seed, cfg)?;
            (o.metrics, o.iterations, o.stop, o.u, o.u0)
        }
    };
    Ok(TwoLayerRecord {
        metrics,
        iterations,
        stop,
        u,
        u0,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
