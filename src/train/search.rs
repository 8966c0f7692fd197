//! The learning-rate × weight-decay search of seed 003 App. A's SGD learners: the grid
//! searched in full or coordinate-wise ([`GridSearch`]), with the walk along App. A's
//! ladder {1, 2, 5}×10^k past an edge optimum ([`extend_edge`]), and [`HyperPoint`], the
//! record of one searched point (an lr/wd pair, or a λ of kernel ridge regression).

use crate::error::Result;
use crate::models::krr::KrrPoint;
use crate::train::sgd::{best_by_validation, ladder_step, GridPoint, PointOutcome, SgdConfig};
use serde::{Deserialize, Serialize};

/// How the SGD learners' learning rate × weight decay grid is searched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GridSearch {
    /// Every (lr, wd) pair: |lrs| · |wds| runs per learner and data setting.
    #[default]
    Full,
    /// Coordinate search: every lr at the first weight decay (`wds[0]`, 0 by default), then
    /// every other weight decay at the validation-best lr: |lrs| + |wds| − 1 runs. Paper scale
    /// uses it so that the whole Figure 2(a) sweep fits in about an hour on 2 cores (the full
    /// product of App. A's grid would take about 3×, measured in the issue note). With
    /// `edge_steps` > 0 ([`search_lr_wd`]), an axis whose validation-best value lies on the
    /// grid's edge is extended along App. A's ladder {1, 2, 5}×10^k ([`extend_edge`]).
    Coordinate,
}

/// One hyper-parameter point of a method (an lr/wd pair or a λ).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HyperPoint {
    /// Learning rate (SGD).
    pub lr: Option<f64>,
    /// Weight decay (SGD).
    pub weight_decay: Option<f64>,
    /// λ of eq. 3.1 (kernel ridge regression).
    pub lambda: Option<f64>,
    /// Final training error (None when diverged / not positive definite).
    pub train_error: Option<f64>,
    /// Validation error.
    pub val_error: Option<f64>,
    /// Test error.
    pub test_error: Option<f64>,
    /// Why the point has no errors (divergence, not positive definite).
    pub failure: Option<String>,
}

impl HyperPoint {
    /// A kernel-regression point at λ = `lambda` that could not be solved.
    pub fn failed_lambda(lambda: f64, why: String) -> Self {
        HyperPoint {
            lr: None,
            weight_decay: None,
            lambda: Some(lambda),
            train_error: None,
            val_error: None,
            test_error: None,
            failure: Some(why),
        }
    }

    /// The record of an SGD grid point (errors when it finished, the message when it
    /// diverged).
    pub fn from_sgd(p: &GridPoint) -> Self {
        match &p.outcome {
            PointOutcome::Finished {
                train_error,
                val_error,
                test_error,
                ..
            } => HyperPoint {
                lr: Some(p.lr),
                weight_decay: Some(p.weight_decay),
                lambda: None,
                train_error: Some(*train_error),
                val_error: Some(*val_error),
                test_error: Some(*test_error),
                failure: None,
            },
            PointOutcome::Diverged { message } => HyperPoint {
                lr: Some(p.lr),
                weight_decay: Some(p.weight_decay),
                lambda: None,
                train_error: None,
                val_error: None,
                test_error: None,
                failure: Some(message.clone()),
            },
        }
    }
}

impl From<KrrPoint> for HyperPoint {
    fn from(p: KrrPoint) -> Self {
        HyperPoint {
            lr: None,
            weight_decay: None,
            lambda: Some(p.lambda),
            train_error: p.train_error,
            val_error: p.val_error,
            test_error: p.test_error,
            failure: p.failure,
        }
    }
}

/// Makes the SGD configs of every (lr, wd) pair of its two axes.
pub type MakeConfigs<'a> = &'a dyn Fn(&[f64], &[f64]) -> Vec<SgdConfig>;

/// Trains configs (in parallel) and returns their grid points.
pub type RunConfigs<'a> = &'a dyn Fn(&[SgdConfig]) -> Result<Vec<GridPoint>>;

/// Runs the lr × wd grid (`lrs`, `wds`) as `search` says: `configs(lrs, wds)` makes the
/// configs of every (lr, wd) pair of its arguments, `run` trains them (in parallel) and
/// returns their points. [`GridSearch::Coordinate`] with `edge_steps` > 0 extends the lr
/// axis both ways and the weight decay upwards while the validation optimum is on an edge,
/// at most `edge_steps` values per edge ([`extend_edge`]).
pub fn search_lr_wd(
    search: GridSearch,
    lrs: &[f64],
    wds: &[f64],
    edge_steps: usize,
    configs: MakeConfigs,
    run: RunConfigs,
) -> Result<Vec<GridPoint>> {
    Ok(match search {
        GridSearch::Full => run(&configs(lrs, wds))?,
        GridSearch::Coordinate => {
            let wd0 = wds[0];
            // stage 1: every lr at wds[0], edges extended both ways
            let mut pts = run(&configs(lrs, &[wd0]))?;
            for up in [true, false] {
                extend_edge(
                    &mut pts,
                    |p| p.lr,
                    up,
                    edge_steps,
                    &|v| configs(v, &[wd0]),
                    run,
                )?;
            }
            // stage 2: every other wd at the stage-1 best lr, the largest edge extended
            if let Some(best) = best_by_validation(&pts).map(|i| pts[i].clone()) {
                let mut axis = vec![best.clone()];
                axis.extend(run(&configs(&[best.lr], &wds[1..]))?);
                let make = |v: &[f64]| configs(&[best.lr], v);
                extend_edge(&mut axis, |p| p.weight_decay, true, edge_steps, &make, run)?;
                pts.extend(axis.into_iter().skip(1));
            }
            pts
        }
    })
}

/// Ladder values run per round of [`extend_edge`] (a fixed number, not the thread count, so
/// that the points searched do not depend on the machine).
pub const EDGE_BATCH: usize = 2;

/// App. A searches lr and wd over the whole ladder {1, 2, 5}×10^k. `pts` vary along one
/// axis (`value` reads it; the other is fixed); while the validation-best point sits on
/// the axis's largest (`up`) or smallest positive value, the next [`EDGE_BATCH`] ladder
/// values past it are trained (in parallel, configs from `make`) and appended, at most
/// `max_steps` values in all. It stops as soon as the best is inside (a new value did
/// not improve) or a new value diverged (the edge is then that diverged value).
pub fn extend_edge(
    pts: &mut Vec<GridPoint>,
    value: fn(&GridPoint) -> f64,
    up: bool,
    max_steps: usize,
    make: &dyn Fn(&[f64]) -> Vec<SgdConfig>,
    run: RunConfigs,
) -> Result<()> {
    let mut added = 0;
    while added < max_steps {
        let Some(best) = best_by_validation(pts).map(|i| value(&pts[i])) else {
            return Ok(());
        };
        let positive = pts.iter().map(value).filter(|&v| v > 0.0);
        let edge = if up {
            positive.fold(f64::NEG_INFINITY, f64::max)
        } else {
            positive.fold(f64::INFINITY, f64::min)
        };
        if best != edge {
            return Ok(());
        }
        let mut next = Vec::new();
        let mut v = edge;
        for _ in 0..EDGE_BATCH.min(max_steps - added) {
            v = ladder_step(v, up)?;
            next.push(v);
        }
        added += next.len();
        pts.extend(run(&make(&next))?);
    }
    Ok(())
}
