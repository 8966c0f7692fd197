//! Unit tests of `widenet::experiments::rnn_complexity::sgd_curves` (formerly in src/experiments/rnn_complexity/sgd_curves.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use length::LengthSettings;
use sgd_curves::{learning_curves, SgdCurveSettings};
use widenet::data::rnn_concepts::{draw, Concept};
use widenet::experiments::common::Scale;
use widenet::experiments::rnn_complexity::length::length_concept;
use widenet::experiments::rnn_complexity::*;
use widenet::rng;
use widenet::taylor::AnalyticFn;

#[test]
fn steps_follow_the_epoch_rule() {
    let mut s = SgdCurveSettings::new(Scale::Quick);
    // one pass with batch 1 is Algorithm 1: T = N
    assert_eq!(s.steps_for(400), 400);
    s.batch = 16;
    s.epochs = Some(2.0);
    assert_eq!(s.steps_for(100), 13); // ceil(200/16)
    s.epochs = None;
    s.steps = 77;
    assert_eq!(s.steps_for(100), 77);
    s.epochs = Some(0.0);
    assert!(s.validate().unwrap_err().to_string().contains("sgd.epochs"));
    let mut s = SgdCurveSettings::new(Scale::Quick);
    s.sizes = vec![];
    assert!(s.validate().unwrap_err().to_string().contains("sgd.sizes"));
    s.sizes = vec![10];
    s.eta = f64::NAN;
    assert!(s.validate().unwrap_err().to_string().contains("sgd.eta"));
}

#[test]
fn tiny_learning_curves_use_the_kernel_part_target_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = LengthSettings::new(Scale::Quick, 5);
    s.sgd.lens = vec![2, 3];
    s.sgd.sizes = vec![20, 80];
    s.sgd.n_test = 50;
    s.sgd.width = 16;
    s.sgd.records = 4;
    let curves = learning_curves(&s, dir.path()).unwrap();
    assert_eq!(curves.len(), 2);
    for c in &curves {
        assert_eq!(c.runs.len(), 2);
        for p in &c.runs {
            assert!(p.failed.is_none(), "{:?}", p.failed);
            // one pass with batch 1: T = N steps, records at 0, every ceil(N/4), N
            assert_eq!(*p.record_steps.last().unwrap(), p.n_train);
            assert_eq!(p.record_steps[1], p.n_train.div_ceil(4));
            // Theorem 2's average is the mean of the recorded test errors
            let mean = p.test_error_curve.iter().sum::<f64>() / p.test_error_curve.len() as f64;
            assert!((p.avg_test_error - mean).abs() < 1e-15);
            assert!((0.0..=1.0).contains(&p.test_error));
        }
        // the test labels are sign F* of the kernel part's target at that L
        let psi = AnalyticFn::parse(&s.psi).unwrap();
        let (concept, _) = length_concept(&s, c.len, &psi).unwrap();
        let spec = spec_of(c.len, s.d, s.c_min, s.c_max);
        let mut g = rng::stream(s.seed, &format!("rnn-length/L={}/sgd-test", c.len));
        let test = draw(
            &spec,
            &Concept::Additive(concept.clone()),
            50,
            s.threshold,
            1_000_000,
            &mut g,
        )
        .unwrap();
        for (i, &y) in test.labels.iter().enumerate() {
            let x: Vec<Vec<f64>> = test.xs.iter().map(|m| m.row(i).to_vec()).collect();
            assert_eq!(y, concept.eval_one(&x).signum());
        }
        let q = test.labels.iter().filter(|&&y| y > 0.0).count() as f64 / 50.0;
        assert_eq!(c.test_positive_fraction, q);
    }
    // a second call reuses the cached runs and returns the same numbers
    let again = learning_curves(&s, dir.path()).unwrap();
    assert_eq!(
        again[1].runs[1].test_error_curve,
        curves[1].runs[1].test_error_curve
    );
    assert!(dir.path().join("runs/sgd_L3_N80.json").exists());
}
