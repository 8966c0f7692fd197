//! Unit tests of `widenet::experiments::resnet_hierarchy` (formerly in src/experiments/resnet_hierarchy.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::error::Error;
use widenet::experiments::common::Scale;
use widenet::experiments::framework::{Context, Experiment};
use widenet::experiments::resnet_hierarchy::*;
use widenet::theory::fg_split::FgSplit;

#[test]
fn fg_claim_verdicts_on_hand_made_results() {
    let e = FgDynamics;
    let s = e.settings(Scale::Quick, 0);
    let split = |f: f64, g: f64| FgSplit {
        f_part: f,
        g_part: g,
        total: f + g,
        rest: 0.0,
        g_unlearned: 0.72,
    };
    let epochs: Vec<FgEpoch> = [(8.0, 0.72), (1.0, 0.72), (0.1, 0.2), (0.05, 0.1)]
        .iter()
        .enumerate()
        .map(|(i, &(f, g))| FgEpoch {
            epoch: i,
            split: split(f, g),
        })
        .collect();
    let r = FgResults {
        f_learned_epoch: first_below(&epochs, |p| p.f_part, 4.0),
        g_learned_epoch: first_below(&epochs, |p| p.g_part, 0.36),
        final_train_error: 0.1,
        seconds: 0.0,
        epochs,
    };
    assert_eq!((r.f_learned_epoch, r.g_learned_epoch), (Some(1), Some(2)));
    assert!(e.claims(&s, &r)[0].held());
    let mut r2 = r.clone();
    r2.g_learned_epoch = None;
    assert!(e.claims(&s, &r2)[0].is_inconclusive());
    let mut r3 = r;
    r3.g_learned_epoch = Some(1);
    assert_eq!(e.claims(&s, &r3)[0].verdict.word(), "not held");
}

#[test]
fn a_tiny_fg_run_splits_its_own_test_error() {
    // the recorded total at the last epoch is the learner's test error, recomputed here
    let e = FgDynamics;
    let mut s = e.settings(Scale::Quick, 2);
    s.n_train = 100;
    s.n_test = 200;
    s.train.width = 16;
    s.train.epochs = 2;
    let tmp = std::env::temp_dir().join(format!("widenet-fg-{}", std::process::id()));
    let (_, r) = widenet::experiments::framework::run_typed(&e, &s, &Context::new(&tmp)).unwrap();
    assert_eq!(r.epochs.len(), 5);
    for ep in &r.epochs {
        let p = &ep.split;
        assert!((p.f_part + p.g_part + p.rest - p.total).abs() < 1e-9);
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn ablation_verdicts_need_app_a_protocol() {
    let e = Fig2aAblation;
    let s = e.settings(Scale::Paper, 0);
    let run = |epochs: usize, test: f64| AblationRun {
        variant: "baseline".into(),
        width: 1000,
        epochs,
        init: InitChoice::Experiment,
        lr_v_ratio: 1.0,
        selected: Some((0.05, 0.0, test, 0.01)),
        best_test: Some((0.05, 0.0, test)),
        diverged: 0,
        seconds: 0.0,
    };
    let r = |runs| AblationResults {
        threshold: 0.72,
        runs,
    };
    // E = 400, above k alpha^2: not held; below: held (and the summary held)
    let c = e.claims(&s, &r(vec![run(400, 0.9)]));
    assert_eq!(c[0].verdict.word(), "not held");
    assert_eq!(c[1].verdict.word(), "not held");
    let c = e.claims(&s, &r(vec![run(400, 0.5)]));
    assert!(c[0].held() && c[1].held());
    // E = 100 above the threshold: inconclusive, not a failure of the paper
    let c = e.claims(&s, &r(vec![run(100, 0.9)]));
    assert!(c[0].is_inconclusive() && c[1].is_inconclusive());
    // E = 100 below the threshold still reproduces
    let c = e.claims(&s, &r(vec![run(100, 0.5)]));
    assert!(c[0].held() && c[1].held());
}

#[test]
fn ablation_settings_refuse_unknown_variants() {
    let e = Fig2aAblation;
    let mut s = e.settings(Scale::Quick, 0);
    assert!(e.validate(&s).is_ok());
    s.variants = vec!["wider".into()];
    assert!(matches!(e.validate(&s), Err(Error::Invalid { name, .. }) if name == "--set variants"));
}
