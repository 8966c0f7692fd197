//! Unit tests of `widenet::experiments::rnn_elman` (formerly in src/experiments/rnn_elman.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::experiments::common::Scale;
use widenet::experiments::rnn_elman::*;
use widenet::linalg::Matrix;

#[test]
fn step_size_and_lambda_follow_theorem_1() {
    let mut s = ElmanSettings::new(Scale::Quick, 0);
    s.eps = 0.2;
    s.d = 3;
    s.width = 50;
    s.c_lambda = 2.0;
    s.c_eta = 5.0;
    // λ = C_λ ε/(L² d), η = C_η/(ε L² d² m), by hand at L = 4
    let lam = 2.0 * 0.2 / (16.0 * 3.0);
    assert!((s.lambda_for(4) - lam).abs() < 1e-15 * lam);
    let eta = 5.0 / (0.2 * 16.0 * 9.0 * 50.0);
    assert!((s.theorem_eta_for(4) - eta).abs() < 1e-15 * eta);
    s.eta = None;
    assert_eq!(s.eta_for(4), s.theorem_eta_for(4));
    s.eta = Some(1e-3);
    assert_eq!(s.eta_for(4), 1e-3);
    assert_eq!(s.eps_x_for(5), 1.0);
    s.eps_x = None;
    assert_eq!(s.eps_x_for(5), 0.02);
}

#[test]
fn bad_settings_name_the_field() {
    let mut s = ElmanSettings::new(Scale::Quick, 0);
    s.lens = vec![2];
    assert!(s.validate().unwrap_err().to_string().contains("lens"));
    let mut s = ElmanSettings::new(Scale::Quick, 0);
    s.noise_sd = -0.1;
    assert!(s.validate().unwrap_err().to_string().contains("noise_sd"));
    let mut s = ElmanSettings::new(Scale::Quick, 0);
    s.phi = "nope".into();
    assert!(s.validate().unwrap_err().to_string().contains("function"));
    let mut s = ElmanSettings::new(Scale::Quick, 0);
    s.eta = Some(0.0);
    assert!(s.validate().unwrap_err().to_string().contains("eta"));
}

#[test]
fn reference_objectives_match_their_definitions() {
    // mean_sq against a hand computation: two samples, two steps, d = 1
    let a = vec![
        Matrix::from_vec(2, 1, vec![1.0, 2.0]).unwrap(),
        Matrix::from_vec(2, 1, vec![0.0, -1.0]).unwrap(),
    ];
    let b = vec![
        Matrix::from_vec(2, 1, vec![0.5, 2.0]).unwrap(),
        Matrix::from_vec(2, 1, vec![1.0, -1.0]).unwrap(),
    ];
    // zero predictor: (½(1 + 0) + ½(4 + 1))/2 = 1.5; against b: (½(¼ + 1) + 0)/2 = 0.3125
    assert!((mean_sq(&a, None) - 1.5).abs() < 1e-15);
    assert!((mean_sq(&a, Some(&b)) - 0.3125).abs() < 1e-15);
}

/// A result whose width sweep has the averaged test objective OPT + excess(m) at
/// m = 32, 64, 128 (OPT = 0.02, zero predictor 1.0) and η at `eta_ratio` x Theorem 1's.
fn sweep_result(excess: &dyn Fn(f64) -> f64, eta_ratio: f64) -> ElmanResult {
    let s = ElmanSettings::new(Scale::Quick, 0);
    let run = |m: usize| ElmanRun {
        len: 4,
        n_train: 512,
        eta: 0.1,
        eta_over_theorem: eta_ratio,
        lambda: 0.1,
        test_objective: 0.02 + excess(m as f64),
        test_objective_avg: 0.02 + excess(m as f64),
        train_objective: 0.0,
        record_steps: Vec::new(),
        test_curve: Vec::new(),
        w_shift_fro: 1.0,
        seconds: 0.0,
        failed: None,
    };
    ElmanResult {
        lengths: vec![ElmanLength {
            len: 4,
            eps_x: 0.5,
            lambda: 0.1,
            eta: 0.1,
            eta_theorem: 0.1 / eta_ratio,
            target_scale: 1.0,
            opt: 0.02,
            opt_test: 0.02,
            zero_objective: 1.0,
            runs: vec![run(128)],
            spearman_n_objective: -1.0,
        }],
        width_sweep: [32, 64, 128]
            .iter()
            .map(|&m| ElmanWidthRun {
                width: m,
                opt: 0.02,
                run: run(m),
            })
            .collect(),
        settings: s,
    }
}

#[test]
fn log_m_has_three_verdicts() {
    let judge = |r: &ElmanResult| {
        let ratio = r.lengths[0].eta / r.lengths[0].eta_theorem;
        let ok = (0.1..=10.0).contains(&ratio);
        log_m_check(r, (ok, ratio), (true, &[0.5]))
    };
    // log m's exponent over 32..128 is (ln ln 128 - ln ln 32)/ln 4 = 0.242
    let bound = ((128f64.ln()).ln() - (32f64.ln()).ln()) / 4f64.ln();
    // the excess falls like m^-0.5: held
    let c = judge(&sweep_result(&|m| m.powf(-0.5), 1.0));
    assert!(c.held(), "{c:?}");
    match &c.rule {
        Some(widenet::experiments::claim::BoundRule::Scaling { bound_exponent, .. }) => {
            assert!(
                (bound_exponent - bound).abs() < 1e-3,
                "{bound_exponent} {bound}"
            )
        }
        r => panic!("{r:?}"),
    }
    // the excess grows like m^0.5 (the sample complexity growing polynomially): not held
    let c = judge(&sweep_result(&|m| 0.01 * m.powf(0.5), 1.0));
    assert_eq!(c.verdict.word(), "not held", "{c:?}");
    // eta 100 x Theorem 1's: outside, named
    let c = judge(&sweep_result(&|m| m.powf(-0.5), 100.0));
    assert!(
        matches!(&c.verdict, widenet::experiments::claim::Verdict::Inconclusive { reason }
            if reason.contains("eta = Theta~")),
        "{c:?}"
    );
    // nothing learned at some width (objective above the zero predictor's): inconclusive
    let c = judge(&sweep_result(&|m| 2.0 * m.powf(-0.1), 1.0));
    assert!(
        matches!(&c.verdict, widenet::experiments::claim::Verdict::Inconclusive { reason }
            if reason.contains("learned nothing")),
        "{c:?}"
    );
    // a diverged width
    let mut r = sweep_result(&|m| m.powf(-0.5), 1.0);
    r.width_sweep[1].run.test_objective_avg = f64::NAN;
    assert!(
        matches!(&judge(&r).verdict, widenet::experiments::claim::Verdict::Inconclusive { reason }
            if reason.contains("diverged"))
    );
}

#[test]
fn tiny_run_learns_and_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = ElmanSettings::new(Scale::Quick, 3);
    s.lens = vec![4];
    s.sizes = vec![8, 64];
    s.n_test = 64;
    s.width = 32;
    s.sweep_widths = vec![64, 16];
    s.steps = 150;
    s.eval_every = 50;
    s.rms_samples = 200;
    let (out, r) = run(&s, dir.path()).unwrap();
    assert_eq!(out.claims.len(), 4);
    // the width sweep: ascending, the main width's run is the largest N's run
    let ws: Vec<usize> = r.width_sweep.iter().map(|w| w.width).collect();
    assert_eq!(ws, [16, 32, 64]);
    assert_eq!(
        r.width_sweep[1].run.test_objective.to_bits(),
        r.lengths[0].runs[1].test_objective.to_bits()
    );
    let l = &r.lengths[0];
    assert!((l.opt - 2.0 * 2.0 * 0.01 / 2.0).abs() < 1e-15);
    for x in &l.runs {
        assert!(x.failed.is_none(), "{:?}", x.failed);
        // SGD moved the test objective below the zero predictor's
        assert!(
            x.test_objective < l.zero_objective,
            "{x:?} vs {}",
            l.zero_objective
        );
    }
    // the cache returns the same numbers, and a fresh directory reproduces them
    let (_, again) = run(&s, dir.path()).unwrap();
    assert_eq!(
        again.lengths[0].runs[1].test_objective,
        l.runs[1].test_objective
    );
    let dir2 = tempfile::tempdir().unwrap();
    let (_, fresh) = run(&s, dir2.path()).unwrap();
    assert_eq!(
        fresh.lengths[0].runs[1].test_objective,
        l.runs[1].test_objective
    );
    assert!(dir.path().join("rnn-elman/result.json").exists());
    assert!(dir.path().join("rnn-elman/rnn_elman.csv").exists());
}
