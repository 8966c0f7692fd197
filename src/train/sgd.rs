//! Mini-batch SGD with momentum and weight decay, as seed 003's App. A runs it
//! ("the default SGD optimizer of pytorch, with momentum 0.9, mini-batch size 50";
//! learning rate and weight decay searched over {1, 2, 5}×10^{−k}; E epochs, then
//! the learning rate divided by 10 for E more epochs, E = 400 in the paper).
//!
//! The update is PyTorch's `torch.optim.SGD` (dampening 0, no Nesterov), per
//! trained group with learning-rate multiplier c (see [`Learner::lr_multipliers`]):
//!
//! g ← ∇L + λ θ,  b ← μ b + g (b = 0 before the first step),  θ ← θ − η c b,
//!
//! with L the learner's batch loss (1/2n) Σ_i ‖out(x_i) − y_i‖² ([`crate::models::resnet`]).
//! Each epoch visits the training set in a fresh permutation drawn from
//! `rng::stream(seed, "sgd-shuffle")` in batches of `batch` rows (the last batch
//! may be smaller, as PyTorch's default `drop_last = false`).
//!
//! Test error is seed 003's E‖out(x) − y‖²: summed over the k outputs, averaged
//! over samples ([`mean_sq_error`]). Divergence — a non-finite batch loss, or a
//! batch loss above `diverge_ratio` times the loss at initialization — stops the
//! run with [`Error::Diverged`]; [`grid_search`] records such a point as diverged.

use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::models::krr::mean_sq_error;
use crate::models::learner::Learner;
use crate::rng;
use rayon::prelude::*;
use serde::Serialize;

/// Settings of one SGD run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SgdConfig {
    /// Learning rate η of the first phase.
    pub lr: f64,
    /// Weight decay λ (L2 on the trained parameters, added to the gradient).
    pub weight_decay: f64,
    /// Momentum μ (0.9 in App. A).
    pub momentum: f64,
    /// Mini-batch size (50 in App. A).
    pub batch: usize,
    /// E: epochs per phase; the run has 2E epochs, the second E at η / `lr_drop`.
    pub epochs: usize,
    /// Learning-rate divisor of the second phase (10 in App. A).
    pub lr_drop: f64,
    /// Seed of the shuffling stream.
    pub seed: u64,
    /// A batch loss above `diverge_ratio` × (initial training loss) counts as divergence.
    pub diverge_ratio: f64,
}

impl SgdConfig {
    /// App. A's settings (momentum 0.9, batch 50, ÷10 after E epochs) with η, λ, E.
    pub fn paper(lr: f64, weight_decay: f64, epochs: usize, seed: u64) -> Self {
        SgdConfig {
            lr,
            weight_decay,
            momentum: 0.9,
            batch: 50,
            epochs,
            lr_drop: 10.0,
            seed,
            diverge_ratio: 1e4,
        }
    }

    /// The learning rate of epoch `e` (0-based): η for e < E, η / `lr_drop` after.
    pub fn lr_at(&self, e: usize) -> f64 {
        if e < self.epochs {
            self.lr
        } else {
            self.lr / self.lr_drop
        }
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        let pos = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::invalid(
                    name,
                    format!("must be finite and > 0, got {v}"),
                ))
            }
        };
        pos("lr", self.lr)?;
        pos("lr_drop", self.lr_drop)?;
        pos("diverge_ratio", self.diverge_ratio)?;
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::invalid(
                "weight_decay",
                format!("must be finite and ≥ 0, got {}", self.weight_decay),
            ));
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return Err(Error::invalid(
                "momentum",
                format!("must lie in [0, 1), got {}", self.momentum),
            ));
        }
        if self.batch == 0 {
            return Err(Error::invalid("batch", "must be ≥ 1"));
        }
        Ok(())
    }
}

/// The optimizer state: one momentum buffer per trained group.
#[derive(Clone, Debug)]
pub struct SgdState {
    bufs: Vec<Matrix<f64>>,
    momentum: f64,
    weight_decay: f64,
    steps: usize,
}

impl SgdState {
    /// Zero buffers shaped like `learner`'s trained groups.
    pub fn new(learner: &dyn Learner, momentum: f64, weight_decay: f64) -> Self {
        SgdState {
            bufs: learner
                .params()
                .iter()
                .map(|p| Matrix::zeros(p.rows(), p.cols()))
                .collect(),
            momentum,
            weight_decay,
            steps: 0,
        }
    }

    /// Number of steps taken.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// One step on the batch (x, y) at learning rate `lr`; returns the batch loss
    /// before the step. Parameters are left untouched when the loss is not finite.
    pub fn step(
        &mut self,
        learner: &mut dyn Learner,
        x: &Matrix<f64>,
        y: &Matrix<f64>,
        lr: f64,
    ) -> Result<f64> {
        let (loss, grads) = learner.loss_and_grads(x, y)?;
        if !loss.is_finite() {
            return Ok(loss);
        }
        let mults = learner.lr_multipliers();
        let (mu, wd) = (self.momentum, self.weight_decay);
        for (((p, g), b), c) in learner
            .params_mut()
            .into_iter()
            .zip(&grads)
            .zip(self.bufs.iter_mut())
            .zip(mults)
        {
            let eta = lr * c;
            for ((pv, gv), bv) in p
                .as_mut_slice()
                .iter_mut()
                .zip(g.as_slice())
                .zip(b.as_mut_slice())
            {
                let d = gv + wd * *pv;
                *bv = mu * *bv + d;
                *pv -= eta * *bv;
            }
        }
        self.steps += 1;
        Ok(loss)
    }
}

/// One epoch's record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochRecord {
    /// Epoch number, 1-based.
    pub epoch: usize,
    /// Learning rate used in this epoch.
    pub lr: f64,
    /// Mean over the epoch's samples of the batch loss ½‖out − y‖² (before each step).
    pub train_loss: f64,
    /// Test error E‖out(x) − y‖² after the epoch, when a test set was given.
    pub test_error: Option<f64>,
}

/// The outcome of [`train`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainHistory {
    /// Training error E‖out(x) − y‖² at initialization.
    pub initial_train_error: f64,
    /// One record per epoch (2E of them).
    pub epochs: Vec<EpochRecord>,
    /// Training error E‖out(x) − y‖² on the whole training set at the end.
    pub final_train_error: f64,
    /// Test error at the end, when a test set was given.
    pub final_test_error: Option<f64>,
}

fn error_of(learner: &dyn Learner, x: &Matrix<f64>, y: &Matrix<f64>) -> Result<f64> {
    mean_sq_error(&learner.forward(x)?, y)
}

/// Trains `learner` in place on (x, y) for 2E epochs with the App. A schedule,
/// recording the test error on `test` after every epoch.
pub fn train(
    learner: &mut dyn Learner,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
    test: Option<(&Matrix<f64>, &Matrix<f64>)>,
    cfg: &SgdConfig,
) -> Result<TrainHistory> {
    train_observed(learner, x, y, test, cfg, &mut |_, _| Ok(()))
}

/// [`train`], calling `observe(epoch, learner)` after every epoch (1-based) — e.g. to
/// split the test error into the parts of the target a learner has learned so far.
pub fn train_observed(
    learner: &mut dyn Learner,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
    test: Option<(&Matrix<f64>, &Matrix<f64>)>,
    cfg: &SgdConfig,
    observe: &mut dyn FnMut(usize, &dyn Learner) -> Result<()>,
) -> Result<TrainHistory> {
    cfg.validate()?;
    let n = x.rows();
    if n == 0 || y.rows() != n {
        return Err(Error::Shape(format!(
            "{n} training inputs against {} targets",
            y.rows()
        )));
    }
    let initial_train_error = error_of(learner, x, y)?;
    if !initial_train_error.is_finite() {
        return Err(Error::Numerical(
            "training error at initialization is not finite".into(),
        ));
    }
    // L = ½ E‖·‖²: the batch losses are compared against this start.
    let start = 0.5 * initial_train_error;
    let limit = cfg.diverge_ratio * start.max(1e-8);
    let mut state = SgdState::new(learner, cfg.momentum, cfg.weight_decay);
    let mut shuffle = rng::stream(cfg.seed, "sgd-shuffle");
    let mut epochs = Vec::with_capacity(2 * cfg.epochs);
    for e in 0..2 * cfg.epochs {
        let lr = cfg.lr_at(e);
        let perm = rng::permutation(&mut shuffle, n);
        let mut sum = 0.0;
        for idx in perm.chunks(cfg.batch) {
            crate::runtime::check_interrupt()?;
            let (xb, yb) = (x.select_rows(idx), y.select_rows(idx));
            let loss = state.step(learner, &xb, &yb, lr)?;
            if !loss.is_finite() || loss > limit {
                return Err(Error::Diverged {
                    iter: state.steps(),
                    loss,
                    start,
                    eta: cfg.lr,
                    suggest: cfg.lr / 10.0,
                });
            }
            sum += loss * idx.len() as f64;
        }
        let test_error = match test {
            Some((tx, ty)) => Some(error_of(learner, tx, ty)?),
            None => None,
        };
        observe(e + 1, &*learner)?;
        epochs.push(EpochRecord {
            epoch: e + 1,
            lr,
            train_loss: sum / n as f64,
            test_error,
        });
    }
    let final_train_error = error_of(learner, x, y)?;
    if !final_train_error.is_finite() {
        return Err(Error::Diverged {
            iter: state.steps(),
            loss: final_train_error,
            start,
            eta: cfg.lr,
            suggest: cfg.lr / 10.0,
        });
    }
    let final_test_error = match test {
        Some((tx, ty)) => Some(error_of(learner, tx, ty)?),
        None => None,
    };
    Ok(TrainHistory {
        initial_train_error,
        epochs,
        final_train_error,
        final_test_error,
    })
}

/// The grid {1, 2, 5}×10^e for e = lo_exp..=hi_exp, ascending.
pub fn grid_125(lo_exp: i32, hi_exp: i32) -> Vec<f64> {
    (lo_exp..=hi_exp)
        .flat_map(|e| [1.0, 2.0, 5.0].map(|c| c * 10f64.powi(e)))
        .collect()
}

/// The neighbour of `v` on App. A's ladder {1, 2, 5}×10^k (k ∈ Z): the next value
/// above it (`up`) or below it, written c·10^e exactly as [`grid_125`] writes it (so
/// the values compare equal to the grid's). `v` must be on the ladder.
pub fn ladder_step(v: f64, up: bool) -> Result<f64> {
    if !(v > 0.0 && v.is_finite()) {
        return Err(Error::invalid(
            "grid",
            format!("{v} is not on the {{1, 2, 5}}x10^k ladder"),
        ));
    }
    let mut e = v.log10().floor() as i32;
    let mantissa = v / 10f64.powi(e);
    // log10 can land just below an exact power of ten: 10 reads as 1·10^(e+1)
    let snapped = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .position(|&c| (mantissa - c).abs() <= 1e-9 * c);
    let mut i = match snapped {
        Some(3) => {
            e += 1;
            0
        }
        Some(i) => i as i32,
        None => {
            return Err(Error::invalid(
                "grid",
                format!("{v} is not on the {{1, 2, 5}}x10^k ladder"),
            ))
        }
    };
    i += if up { 1 } else { -1 };
    if i == 3 {
        (i, e) = (0, e + 1);
    } else if i < 0 {
        (i, e) = (2, e - 1);
    }
    Ok([1.0, 2.0, 5.0][i as usize] * 10f64.powi(e))
}

/// A data split: inputs (n × d) and targets (n × k).
#[derive(Clone, Copy, Debug)]
pub struct Split<'a> {
    /// Inputs, one sample per row.
    pub x: &'a Matrix<f64>,
    /// Targets, one sample per row.
    pub y: &'a Matrix<f64>,
}

/// How one grid point ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum PointOutcome {
    /// Trained to the end.
    Finished {
        /// Final training error E‖out − y‖².
        train_error: f64,
        /// Final validation error (the default selection criterion).
        val_error: f64,
        /// Final test error.
        test_error: f64,
        /// The per-epoch record (test error after every epoch).
        history: TrainHistory,
    },
    /// SGD diverged; the message says where.
    Diverged {
        /// The [`Error::Diverged`] message.
        message: String,
    },
}

/// One (learning rate, weight decay) point of a grid search.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GridPoint {
    /// Learning rate η (first phase).
    pub lr: f64,
    /// Weight decay λ.
    pub weight_decay: f64,
    /// How it ended.
    pub outcome: PointOutcome,
}

impl GridPoint {
    /// (validation, test) errors of a finished point.
    pub fn errors(&self) -> Option<(f64, f64)> {
        match &self.outcome {
            PointOutcome::Finished {
                val_error,
                test_error,
                ..
            } => Some((*val_error, *test_error)),
            PointOutcome::Diverged { .. } => None,
        }
    }
}

/// The outcome of [`grid_search`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GridResult {
    /// Every grid point, in (lr, wd) row-major order of the inputs.
    pub points: Vec<GridPoint>,
    /// Index of the point with the lowest validation error (the default
    /// choice); `None` when every point diverged.
    pub by_validation: Option<usize>,
    /// Index of the point with the lowest test error: the paper's choice
    /// ("present the best one in terms of testing accuracy", App. A), which
    /// selects on the test set and is therefore optimistic.
    pub paper_choice_best_test: Option<usize>,
}

impl GridResult {
    /// Test error of the validation-selected point.
    pub fn selected_test_error(&self) -> Option<f64> {
        self.by_validation
            .and_then(|i| self.points[i].errors())
            .map(|e| e.1)
    }
    /// The best test error over the grid (the paper's choice, labelled as such).
    pub fn paper_best_test_error(&self) -> Option<f64> {
        self.paper_choice_best_test
            .and_then(|i| self.points[i].errors())
            .map(|e| e.1)
    }
    /// Number of diverged points.
    pub fn diverged(&self) -> usize {
        self.points.iter().filter(|p| p.errors().is_none()).count()
    }
}

/// Trains one grid point: a fresh learner from `factory(seed)`, SGD with `cfg`, then its
/// validation and test errors. With `per_epoch_test` the history also records the test
/// error after every epoch (one more forward pass over `test` per epoch).
/// Divergence becomes [`PointOutcome::Diverged`]; other errors propagate.
pub fn run_point<F>(
    factory: &F,
    train_set: Split,
    val: Split,
    test: Split,
    cfg: &SgdConfig,
    per_epoch_test: bool,
) -> Result<GridPoint>
where
    F: Fn(u64) -> Result<Box<dyn Learner>> + Sync,
{
    let mut learner = factory(cfg.seed)?;
    let outcome = match train(
        learner.as_mut(),
        train_set.x,
        train_set.y,
        per_epoch_test.then_some((test.x, test.y)),
        cfg,
    ) {
        Ok(history) => {
            let val_error = error_of(learner.as_ref(), val.x, val.y)?;
            let test_error = match history.final_test_error {
                Some(e) => e,
                None => error_of(learner.as_ref(), test.x, test.y)?,
            };
            PointOutcome::Finished {
                train_error: history.final_train_error,
                val_error,
                test_error,
                history,
            }
        }
        Err(e @ Error::Diverged { .. }) => PointOutcome::Diverged {
            message: e.to_string(),
        },
        Err(e) => return Err(e),
    };
    Ok(GridPoint {
        lr: cfg.lr,
        weight_decay: cfg.weight_decay,
        outcome,
    })
}

/// Grid search over learning rates × weight decays with App. A's SGD
/// ([`SgdConfig::paper`], E = `epochs`), grid points in parallel (rayon).
/// Every point starts from `factory(seed)` (the same initialization) and
/// shuffles with `seed`. Selection is by validation error; the best test error
/// is reported too, labelled as the paper's choice.
#[allow(clippy::too_many_arguments)]
pub fn grid_search<F>(
    factory: F,
    train_set: Split,
    val: Split,
    test: Split,
    lrs: &[f64],
    wds: &[f64],
    epochs: usize,
    seed: u64,
) -> Result<GridResult>
where
    F: Fn(u64) -> Result<Box<dyn Learner>> + Sync,
{
    let cfgs: Vec<SgdConfig> = lrs
        .iter()
        .flat_map(|&lr| {
            wds.iter()
                .map(move |&wd| SgdConfig::paper(lr, wd, epochs, seed))
        })
        .collect();
    grid_search_with(&factory, train_set, val, test, &cfgs, &|_| {})
}

/// [`grid_search`] over explicit configurations, calling `on_done` with each
/// point as it finishes (from the worker thread; e.g. to save it to disk).
pub fn grid_search_with<F>(
    factory: &F,
    train_set: Split,
    val: Split,
    test: Split,
    cfgs: &[SgdConfig],
    on_done: &(dyn Fn(&GridPoint) + Sync),
) -> Result<GridResult>
where
    F: Fn(u64) -> Result<Box<dyn Learner>> + Sync,
{
    if cfgs.is_empty() {
        return Err(Error::invalid(
            "grid",
            "no learning rate / weight decay points",
        ));
    }
    let points = cfgs
        .par_iter()
        .map(|cfg| {
            let p = run_point(factory, train_set, val, test, cfg, true)?;
            on_done(&p);
            Ok(p)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(select(points))
}

/// Index of the finished point with the lowest finite `key` of its (validation, test)
/// errors (the first of equal ones).
fn argmin_by(points: &[GridPoint], key: fn((f64, f64)) -> f64) -> Option<usize> {
    points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.errors().map(|e| (i, key(e))))
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// Index of the finished point of lowest validation error (the default selection).
pub fn best_by_validation(points: &[GridPoint]) -> Option<usize> {
    argmin_by(points, |e| e.0)
}

/// Picks the validation-best and test-best finished points.
pub fn select(points: Vec<GridPoint>) -> GridResult {
    let by_validation = best_by_validation(&points);
    let paper_choice_best_test = argmin_by(&points, |e| e.1);
    GridResult {
        points,
        by_validation,
        paper_choice_best_test,
    }
}
