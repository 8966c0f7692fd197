//! Unit tests of `widenet::train::search` (formerly in src/train/search.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::error::Result;
use widenet::train::search::*;
use widenet::train::sgd::{best_by_validation, GridPoint, PointOutcome, SgdConfig};
use widenet::train::sgd::{grid_125, TrainHistory};

/// A smooth validation error with its minimum at lr = 0.5, wd = 2e-3 (both on the
/// ladder); wd = 0 is worse than any positive wd.
fn val(lr: f64, wd: f64) -> f64 {
    let l = (lr.log10() - 0.5f64.log10()).powi(2);
    let w = if wd == 0.0 {
        10.0
    } else {
        0.1 * (wd.log10() - 2e-3f64.log10()).powi(2)
    };
    l + w
}

fn fake_run(cfgs: &[SgdConfig]) -> Result<Vec<GridPoint>> {
    Ok(cfgs
        .iter()
        .map(|c| GridPoint {
            lr: c.lr,
            weight_decay: c.weight_decay,
            outcome: PointOutcome::Finished {
                train_error: 0.0,
                val_error: val(c.lr, c.weight_decay),
                test_error: 0.0,
                history: TrainHistory {
                    initial_train_error: 0.0,
                    epochs: Vec::new(),
                    final_train_error: 0.0,
                    final_test_error: None,
                },
            },
        })
        .collect())
}

fn configs(lrs: &[f64], wds: &[f64]) -> Vec<SgdConfig> {
    lrs.iter()
        .flat_map(|&lr| wds.iter().map(move |&wd| SgdConfig::paper(lr, wd, 1, 0)))
        .collect()
}

fn best(pts: &[GridPoint]) -> (f64, f64) {
    let i = best_by_validation(pts).unwrap();
    (pts[i].lr, pts[i].weight_decay)
}

/// Full runs every pair; coordinate without edge steps runs |lrs| + |wds| − 1 points
/// and picks the wd at the lr found at wds[0].
#[test]
fn full_and_plain_coordinate_point_counts() {
    let (lrs, wds) = ([0.01, 0.02, 0.05], [0.0, 1e-5, 1e-4]);
    let full = search_lr_wd(GridSearch::Full, &lrs, &wds, 0, &configs, &fake_run).unwrap();
    assert_eq!(full.len(), 9);
    let coord = search_lr_wd(GridSearch::Coordinate, &lrs, &wds, 0, &configs, &fake_run).unwrap();
    assert_eq!(coord.len(), 3 + 3 - 1);
    // the separable error makes the coordinate optimum the full grid's optimum
    assert_eq!(best(&coord), best(&full));
    assert_eq!(best(&full), (0.05, 1e-4));
}

/// With enough edge steps the walk reaches the ladder's optimum, found here by brute
/// force over the whole ladder; with too few it stops after `edge_steps` values.
#[test]
fn edge_walk_reaches_the_ladder_optimum() {
    let ladder_lr = grid_125(-3, 1);
    let ladder_wd: Vec<f64> = std::iter::once(0.0).chain(grid_125(-6, -1)).collect();
    let brute = ladder_lr
        .iter()
        .flat_map(|&l| ladder_wd.iter().map(move |&w| (l, w)))
        .min_by(|a, b| val(a.0, a.1).total_cmp(&val(b.0, b.1)))
        .unwrap();
    assert_eq!(brute, (0.5, 2e-3));
    let (lrs, wds) = ([0.01, 0.02], [0.0, 1e-5]);
    let pts = search_lr_wd(GridSearch::Coordinate, &lrs, &wds, 10, &configs, &fake_run).unwrap();
    assert_eq!(best(&pts), brute);
    // lr: 0.01, 0.02, then 0.05 .. 2 in batches of EDGE_BATCH (0.5 is inside once 1, 2 ran)
    let lr_axis: Vec<f64> = pts
        .iter()
        .filter(|p| p.weight_decay == 0.0)
        .map(|p| p.lr)
        .collect();
    assert_eq!(lr_axis, vec![0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0]);
    // a short walk: 6 wd values past 1e-5 end at 1e-3, short of 2e-3
    let short = search_lr_wd(GridSearch::Coordinate, &lrs, &wds, 6, &configs, &fake_run).unwrap();
    assert_eq!(best(&short), (0.5, 1e-3));
}
