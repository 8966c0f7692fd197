//! SGD on the recurrent weights W of the ReLU RNN ([`crate::models::rnn`]): Algorithm 1 of
//! seeds 002 and 004 and its mini-batch form.
//!
//! **Algorithm.** Each step draws `batch` indices uniformly *with replacement* from the training
//! set (b = 1 is Algorithm 1 of both papers: "randomly sample (x*, y*) from the data set"), and
//! moves W ← W − η ∇_W Obj, Obj the batch mean of [`Objective`] over the drawn samples
//! ([`Rnn::loss_and_grad`]). Only W is trained (A, B and M_0 stay at their initialization); seed
//! 002's W' is `net.w − w0`. The indices come from `rng::stream(seed, `[`SAMPLE_PURPOSE`]`)`,
//! `batch` draws of `random_range(0..n)` per step in order ([`sample_indices`]), so a run can be
//! replayed exactly. A batch of `batch ≥ n` uses the whole training set in order instead (full-
//! batch gradient descent, no draws).
//!
//! **Defaults of seed 002's Theorem 1.** η = Θ̃(1/(ε L² d² m)) and λ = Θ̃(ε/(L² d)), d the output
//! dimension (B ∈ R^{d×m}). The theorem fixes them only up to constants and log factors; this
//! module takes the constants [`C_ETA`] = [`C_LAMBDA`] = 1 ([`theorem1_eta`],
//! [`theorem1_lambda`]).
//!
//! **Records** (every `eval_every` steps, at step 0 and at the last step): the training objective
//! (mean over the whole training set, or over a fixed subset of `eval_subset` samples drawn
//! without replacement from `rng::stream(seed, `[`EVAL_PURPOSE`]`)`), the batch objective of the
//! step, and, with a test set, the test objective and — for the logistic loss — the test 0-1
//! error of sign(f) against the ±1 labels, f the first output coordinate at the last step (f =
//! Bᵀh_L for `wang`) and the labels those of the last output step's targets (an output of exactly
//! 0 counts as an error).
//!
//! **Divergence.** A non-finite batch or training objective, or one above
//! [`DIVERGE_RATIO`] × the training objective at step 0, stops the run with
//! [`Error::Diverged`] suggesting η/10.

use crate::error::{Error, Result};
use crate::linalg::{Matrix, Real};
use crate::models::rnn::{Loss, Objective, Rnn};
use crate::rng::{self, WRng};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::Rng;
use serde::Serialize;

/// The constant in seed 002 Theorem 1's η = C_ETA / (ε L² d² m) (the theorem gives Θ̃ only).
pub const C_ETA: f64 = 1.0;
/// The constant in seed 002 Theorem 1's λ = C_LAMBDA · ε / (L² d) (the theorem gives Θ̃ only).
pub const C_LAMBDA: f64 = 1.0;
/// An objective above this multiple of its value at step 0 counts as divergence.
pub const DIVERGE_RATIO: f64 = 1e6;
/// Purpose label of the sampling stream (`rng::stream(seed, SAMPLE_PURPOSE)`).
pub const SAMPLE_PURPOSE: &str = "rnn-sgd/sample";
/// Purpose label of the stream that picks the fixed training-evaluation subset.
pub const EVAL_PURPOSE: &str = "rnn-sgd/eval-subset";
/// Samples per forward pass when evaluating (bounds the (L + 1)·n × m trace).
const EVAL_CHUNK: usize = 256;

/// Seed 002 Theorem 1's learning rate η = C_ETA / (ε L² d² m).
pub fn theorem1_eta(eps: f64, len: usize, d: usize, m: usize) -> f64 {
    let l = len as f64;
    let d = d as f64;
    C_ETA / (eps * l * l * d * d * m as f64)
}

/// Seed 002 Theorem 1's output scaling λ = C_LAMBDA · ε / (L² d).
pub fn theorem1_lambda(eps: f64, len: usize, d: usize) -> f64 {
    let l = len as f64;
    C_LAMBDA * eps / (l * l * d as f64)
}

/// Seed 002's objective (§4) with Theorem 1's λ: Σ_{j=3..L} G(λ F_j, y*_j).
pub fn theorem1_objective(loss: Loss, eps: f64, len: usize, d: usize) -> Objective {
    Objective::elman(loss, theorem1_lambda(eps, len, d))
}

/// A training or test set of sequences with their targets.
#[derive(Clone, Debug)]
pub struct RnnData<T> {
    /// L step matrices, n × d_in each.
    pub xs: Vec<Matrix<T>>,
    /// One n × d_out matrix per output step of the objective, in increasing ℓ (see
    /// [`Rnn::losses`]).
    pub targets: Vec<Matrix<f64>>,
}

impl<T: Real> RnnData<T> {
    /// Checks that all step matrices and targets have n rows.
    pub fn new(xs: Vec<Matrix<T>>, targets: Vec<Matrix<f64>>) -> Result<Self> {
        let n = xs
            .first()
            .ok_or_else(|| Error::invalid("inputs", "a sequence needs at least one step"))?
            .rows();
        if n == 0 {
            return Err(Error::invalid("data", "the set has no samples"));
        }
        if xs.iter().any(|x| x.rows() != n) || targets.iter().any(|t| t.rows() != n) {
            return Err(Error::Shape(format!(
                "every input step and target matrix must have {n} rows"
            )));
        }
        if targets
            .iter()
            .any(|t| t.as_slice().iter().any(|v| !v.is_finite()))
        {
            return Err(Error::Numerical("targets contain non-finite values".into()));
        }
        // ReLU's max(0, x) maps NaN to 0: a NaN input would be silently ignored
        if xs.iter().any(|x| !x.all_finite()) {
            return Err(Error::Numerical("inputs contain non-finite values".into()));
        }
        Ok(RnnData { xs, targets })
    }

    /// Scalar labels (e.g. ±1 from [`crate::data::rnn_concepts::draw`]) repeated as the n × 1
    /// target of every output step of `obj`.
    pub fn from_labels(xs: Vec<Matrix<T>>, labels: &[f64], obj: &Objective) -> Result<Self> {
        let len = xs.len();
        let count = obj.outputs.steps(len).count();
        let t = Matrix::from_fn(labels.len(), 1, |i, _| labels[i]);
        Self::new(xs, vec![t; count])
    }

    /// Number of samples n.
    pub fn len(&self) -> usize {
        self.xs.first().map_or(0, |x| x.rows())
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The samples `idx` (repeats allowed), in that order.
    pub fn select(&self, idx: &[usize]) -> RnnData<T> {
        RnnData {
            xs: self.xs.iter().map(|x| x.select_rows(idx)).collect(),
            targets: self.targets.iter().map(|t| t.select_rows(idx)).collect(),
        }
    }
}

/// Settings of one run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RnnSgdConfig {
    /// Step size η.
    pub eta: f64,
    /// Number of SGD steps T.
    pub steps: usize,
    /// Samples per step (1 = Algorithm 1); ≥ n means the whole training set (full-batch GD).
    pub batch: usize,
    /// Record every this many steps (and at step 0 and the last step).
    pub eval_every: usize,
    /// Training objective over this many fixed samples (`None`: the whole training set).
    pub eval_subset: Option<usize>,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Seed of the sampling and evaluation-subset streams.
    pub seed: u64,
}

impl Default for RnnSgdConfig {
    fn default() -> Self {
        RnnSgdConfig {
            eta: 1e-2,
            steps: 1000,
            batch: 1,
            eval_every: 50,
            eval_subset: None,
            progress: false,
            seed: 0,
        }
    }
}

impl RnnSgdConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if !(self.eta > 0.0 && self.eta.is_finite()) {
            return Err(Error::invalid(
                "eta",
                format!("must be positive and finite, got {}", self.eta),
            ));
        }
        if self.batch == 0 {
            return Err(Error::invalid("batch", "must be at least 1"));
        }
        if self.eval_subset == Some(0) {
            return Err(Error::invalid("eval_subset", "must be at least 1"));
        }
        Ok(())
    }
}

/// What a run recorded (index k of every vector is the k-th record, at `step[k]`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct RnnSgdHistory {
    /// Steps at which the records were taken (0 = initialization).
    pub step: Vec<usize>,
    /// Training objective (mean over the evaluation set) at those steps.
    pub train_objective: Vec<f64>,
    /// Objective of the last batch before the record (NaN at step 0).
    pub batch_objective: Vec<f64>,
    /// Test objective (empty without a test set).
    pub test_objective: Vec<f64>,
    /// Test 0-1 error of sign(f) (empty without a test set or for a non-logistic loss).
    pub test_error: Vec<f64>,
    /// η used.
    pub eta: f64,
    /// Batch size used (min(batch, n)).
    pub batch: usize,
    /// Samples the training objective is averaged over.
    pub train_eval_size: usize,
    /// Steps performed.
    pub steps: usize,
    /// ‖W(T) − W(0)‖_F (seed 002's ‖W'‖_F).
    pub w_shift_fro: f64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct RnnSgdOutcome<T> {
    /// The trained network (W = W(0) + W').
    pub net: Rnn<T>,
    /// W(0).
    pub w0: Matrix<T>,
    /// The records.
    pub history: RnnSgdHistory,
}

/// `batch` indices drawn uniformly with replacement from 0..n: the draws of one step.
pub fn sample_indices(g: &mut WRng, n: usize, batch: usize) -> Vec<usize> {
    (0..batch).map(|_| g.random_range(0..n)).collect()
}

/// One step W ← W − η ∇_W Obj on the samples `idx` of `data` (repeats allowed); returns the
/// batch objective before the step.
pub fn sgd_step<T: Real>(
    net: &mut Rnn<T>,
    data: &RnnData<T>,
    idx: &[usize],
    obj: &Objective,
    eta: f64,
) -> Result<f64> {
    let b = data.select(idx);
    let lg = net.loss_and_grad(&b.xs, &b.targets, obj)?;
    net.apply_update(&lg.grad, eta)?;
    Ok(lg.mean)
}

/// The mean objective over `data` and, for the logistic loss, the 0-1 error of sign(f) at the
/// last step against the last output step's labels; evaluated in chunks.
pub fn evaluate<T: Real>(
    net: &Rnn<T>,
    data: &RnnData<T>,
    obj: &Objective,
) -> Result<(f64, Option<f64>)> {
    let n = data.len();
    let len = data.xs.len();
    let mut total = 0.0;
    let mut wrong = 0usize;
    let logistic = obj.loss == Loss::Logistic;
    let mut start = 0;
    while start < n {
        let end = (start + EVAL_CHUNK).min(n);
        let idx: Vec<usize> = (start..end).collect();
        let chunk;
        let part = if start == 0 && end == n {
            data
        } else {
            chunk = data.select(&idx);
            &chunk
        };
        let trace = net.forward(&part.xs)?;
        let losses = net.losses(&part.xs, &part.targets, obj)?;
        total += losses.iter().sum::<f64>();
        if logistic {
            let f = net.outputs(&trace, len)?;
            let labels = part
                .targets
                .last()
                .ok_or_else(|| Error::invalid("targets", "the objective has no output steps"))?;
            for i in 0..part.len() {
                let fi = f.get(i, 0).as_f64();
                let yi = labels.get(i, 0);
                if !(fi != 0.0 && fi.signum() == yi.signum()) {
                    wrong += 1;
                }
            }
        }
        start = end;
    }
    let err = logistic.then(|| wrong as f64 / n as f64);
    Ok((total / n as f64, err))
}

/// Runs SGD on W from `net` on `train`, recording on `test` when given.
///
/// Errors: invalid settings, shape mismatches, and divergence ([`Error::Diverged`]).
pub fn train_rnn_sgd<T: Real>(
    mut net: Rnn<T>,
    train: &RnnData<T>,
    test: Option<&RnnData<T>>,
    obj: &Objective,
    cfg: &RnnSgdConfig,
) -> Result<RnnSgdOutcome<T>> {
    cfg.validate()?;
    let t0 = std::time::Instant::now();
    let n = train.len();
    if n == 0 {
        return Err(Error::invalid("training set", "has no samples"));
    }
    let eval_set;
    let eval: &RnnData<T> = match cfg.eval_subset {
        Some(k) if k < n => {
            let mut g = rng::stream(cfg.seed, EVAL_PURPOSE);
            let mut idx = rng::permutation(&mut g, n);
            idx.truncate(k);
            eval_set = train.select(&idx);
            &eval_set
        }
        _ => train,
    };
    let w0 = net.w.clone();
    let full = cfg.batch >= n;
    let all: Vec<usize> = if full { (0..n).collect() } else { Vec::new() };
    let mut g = rng::stream(cfg.seed, SAMPLE_PURPOSE);
    let eval_every = cfg.eval_every.max(1);
    let mut hist = RnnSgdHistory {
        eta: cfg.eta,
        batch: cfg.batch.min(n),
        train_eval_size: eval.len(),
        ..Default::default()
    };
    let bar = if cfg.progress {
        let b = ProgressBar::new(cfg.steps as u64);
        b.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({eta})")
                .expect("static template")
                .progress_chars("=> "),
        );
        b.set_prefix("RNN SGD");
        b
    } else {
        ProgressBar::with_draw_target(Some(cfg.steps as u64), ProgressDrawTarget::hidden())
    };
    let diverged = |iter: usize, loss: f64, start: f64| Error::Diverged {
        iter,
        loss,
        start,
        eta: cfg.eta,
        suggest: cfg.eta / 10.0,
    };
    let mut start = f64::NAN;
    let mut limit = f64::INFINITY;
    let mut batch_obj = f64::NAN;
    for k in 0..=cfg.steps {
        crate::runtime::check_interrupt()?;
        if k % eval_every == 0 || k == cfg.steps {
            let (tr, _) = evaluate(&net, eval, obj)?;
            if k == 0 {
                start = tr;
            }
            hist.step.push(k);
            hist.train_objective.push(tr);
            hist.batch_objective.push(batch_obj);
            if let Some(t) = test {
                let (to, te) = evaluate(&net, t, obj)?;
                hist.test_objective.push(to);
                if let Some(e) = te {
                    hist.test_error.push(e);
                }
            }
            if !start.is_finite() {
                bar.abandon();
                return Err(Error::Numerical(format!(
                    "the training objective at initialization is {start}"
                )));
            }
            if k == 0 {
                limit = DIVERGE_RATIO * start.max(f64::MIN_POSITIVE);
            }
            if !tr.is_finite() || tr > limit {
                bar.abandon();
                return Err(diverged(k, tr, start));
            }
            bar.set_message(format!("objective {tr:.4e}"));
        }
        if k == cfg.steps {
            break;
        }
        let idx = if full {
            all.clone()
        } else {
            sample_indices(&mut g, n, cfg.batch)
        };
        batch_obj = sgd_step(&mut net, train, &idx, obj, cfg.eta)?;
        if !batch_obj.is_finite() || batch_obj > limit {
            bar.abandon();
            return Err(diverged(k, batch_obj, start));
        }
        if (k + 1) % 16 == 0 {
            bar.set_position((k + 1) as u64);
        }
    }
    bar.finish_and_clear();
    hist.steps = cfg.steps;
    hist.w_shift_fro = w_shift(&net.w, &w0);
    hist.seconds = t0.elapsed().as_secs_f64();
    Ok(RnnSgdOutcome {
        net,
        w0,
        history: hist,
    })
}

/// ‖W − W0‖_F.
fn w_shift<T: Real>(w: &Matrix<T>, w0: &Matrix<T>) -> f64 {
    w.as_slice()
        .iter()
        .zip(w0.as_slice())
        .map(|(&a, &b)| {
            let t = a.as_f64() - b.as_f64();
            t * t
        })
        .sum::<f64>()
        .sqrt()
}
