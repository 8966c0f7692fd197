//! Unit tests of `widenet::experiments::arora_bounds` (formerly in src/experiments/arora_bounds.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::experiments::arora_bounds::*;
use widenet::experiments::claim::{BoundRule, Verdict};
use widenet::experiments::common::{load_two_class, DataSource, Precision, Scale};
use widenet::experiments::framework::{Context, Experiment};
use widenet::kernels::h_inf;
use widenet::linalg::Cholesky;
use widenet::theory::bounds_001::{
    EigenDecay, MovementCheck, ProjectionUniformity, Theorem51Check,
};

fn results(final_loss: f64, test_loss: f64, total_ratio: f64) -> BoundsResults {
    let u = ProjectionUniformity {
        n: 10,
        top_decile_share: 0.1,
        ks: 0.05,
        ks_null_q95: 0.1,
        close_to_uniform: true,
    };
    BoundsResults {
        data: "hand-made".into(),
        n: 10,
        n_test: 10,
        d: 2,
        eta: 1e-3,
        lambda_max: 1.0,
        lambda_min: 0.1,
        iterations: 5,
        final_loss,
        theorem_5_1: Theorem51Check {
            n: 10,
            n_test: 10,
            explicit_term: 0.1,
            explicit_with_proof_constants: 0.2,
            log_term: 0.1,
            test_clipped_l1: test_loss,
            test_ramp: test_loss,
            train_clipped_l1: 0.0,
            implied_constant: ((test_loss - 0.1) / 0.1).max(0.0),
            below_explicit_term: test_loss <= 0.1,
        },
        test_error: 0.1,
        movement: MovementCheck {
            max_total_movement: total_ratio,
            total_bound_leading: 1.0,
            total_ratio,
            max_neuron_movement: 0.1,
            per_neuron_bound: 1.0,
            neuron_ratio: 0.1,
            eta_condition: false,
        },
        decay: EigenDecay {
            n: 10,
            decile_ratio: 0.5,
            top_decile_trace_share: 0.3,
            effective_rank_fraction: 0.5,
            power_law_exponent: 0.5,
        },
        true_uniformity: ProjectionUniformity {
            top_decile_share: 0.6,
            ks: 0.5,
            close_to_uniform: false,
            ..u.clone()
        },
        random_uniformity: u,
        seconds: 0.0,
        width_sweep: Vec::new(),
    }
}

#[test]
fn width_independence_has_three_verdicts() {
    let e = AroraBounds;
    let mut s = e.settings(Scale::Quick, 0);
    s.width = 20_000; // m kappa^2 >= 1 at every width below; kappa n/(lambda_0 delta) = 10
    let sweep = |loss: &dyn Fn(f64) -> f64, phi: f64| {
        let mut r = results(0.01, 0.3, 1.0);
        r.width_sweep = [10_000, 20_000, 40_000]
            .iter()
            .map(|&m| WidthPoint {
                width: m,
                test_clipped_l1: loss(m as f64),
                final_loss: phi,
            })
            .collect();
        r
    };
    // falling like m^-0.1 (exponent < 0 = the bound's): held
    let c = &e.claims(&s, &sweep(&|m| m.powf(-0.1), 0.01))[7];
    assert!(c.held(), "{c:?}");
    assert!(c.claim.contains("width m"));
    assert_eq!(c.inside_assumptions(), Some(true));
    // growing like m^0.5 (faster than a bound free of m allows): not held
    let c = &e.claims(&s, &sweep(&|m| 1e-3 * m.powf(0.5), 0.01))[7];
    assert_eq!(c.verdict, Verdict::NotHeld);
    // GD did not train at some width: inconclusive
    let c = &e.claims(&s, &sweep(&|m| m.powf(-0.1), 0.9))[7];
    assert!(matches!(&c.verdict, Verdict::Inconclusive { reason } if reason.contains("D.3")));
    // kappa = 1: kappa n/(lambda_0 delta) = 1000 > 10, named
    let mut wide = s.clone();
    wide.kappa = 1.0;
    let c = &e.claims(&wide, &sweep(&|m| m.powf(-0.1), 0.01))[7];
    assert!(
        matches!(&c.verdict, Verdict::Inconclusive { reason }
            if reason.contains("kappa = O(lambda_0 delta / n)")),
        "{c:?}"
    );
}

#[test]
fn verdicts_follow_the_hand_made_results() {
    let e = AroraBounds;
    let mut s = e.settings(Scale::Quick, 0);
    // n = 10, lambda_0 = 0.1, delta = 0.1, kappa = 0.01: kappa n/(lambda_0 delta) = 10,
    // at the cap; eta n^2/lambda_0 = 1; m kappa^2 = 2
    s.width = 20_000;
    let c = e.claims(&s, &results(0.01, 0.3, 1.05));
    let words: Vec<&str> = c.iter().map(|c| c.verdict.word()).collect();
    // eq. 9: (0.3 - 0.2)/0.1 = 1 <= 3/sqrt(2); Cor. 5.2: 0.1 <= 0.2; C.1 0.1 <= 1;
    // 5.3: (1.05 - 1)/10 <= 1; decay 0.5 > 0.1; uniform; aligned
    assert_eq!(
        words,
        ["held", "held", "held", "held", "not held", "held", "held"]
    );
    assert!(c
        .iter()
        .take(4)
        .all(|c| c.inside_assumptions() == Some(true)));
    match &c[0].rule {
        Some(BoundRule::CappedConstant { cap, implied }) => {
            assert!((cap - 3.0 / 2f64.sqrt()).abs() < 1e-12);
            assert!((implied - 1.0).abs() < 1e-9);
        }
        other => panic!("{other:?}"),
    }
    // rule (c) can fail: implied constants (0.6 - 0.2)/0.1 = 4 > 2.12 and
    // (50 - 1)/10 = 4.9 > 1 are not held
    let c = e.claims(&s, &results(0.01, 0.6, 50.0));
    assert_eq!(c[0].verdict, Verdict::NotHeld);
    assert_eq!(c[3].verdict, Verdict::NotHeld);
    // outside the assumptions: kappa = 1 gives kappa n/(lambda_0 delta) = 1000 > 10
    let mut wide = s.clone();
    wide.kappa = 1.0;
    let c = e.claims(&wide, &results(0.01, 0.6, 1.0));
    match &c[0].verdict {
        Verdict::Inconclusive { reason } => {
            assert!(reason.contains("kappa = O(lambda_0 delta / n)"), "{reason}")
        }
        v => panic!("{v:?}"),
    }
    assert_eq!(c[0].inside_assumptions(), Some(false));
    // m kappa^2 < 1 (the quick default m = 2,000 at kappa = 0.01) is outside too
    let c = e.claims(&e.settings(Scale::Quick, 0), &results(0.01, 0.3, 1.0));
    assert!(
        matches!(&c[0].verdict, Verdict::Inconclusive { reason } if reason.contains("m kappa^2"))
    );
    // a diverged run (NaN test loss) says nothing
    let c = e.claims(&s, &results(0.01, f64::NAN, 1.0));
    assert!(c[0].is_inconclusive());
    // GD did not train: the claims about the trained net are inconclusive
    let c = e.claims(&s, &results(3.0, 0.3, 1.0));
    assert!(c[..4].iter().all(|c| c.is_inconclusive()));
    assert!(!c[4].is_inconclusive());
}

#[test]
fn a_tiny_run_measures_what_the_library_computes() {
    let e = AroraBounds;
    let mut s = e.settings(Scale::Quick, 1);
    s.n_train = 40;
    s.n_test = 40;
    s.d = 10;
    s.width = 500;
    s.sweep_widths = vec![1_000, 250];
    s.steps = 300;
    s.null_draws = 50;
    s.precision = Precision::F64;
    let tmp = std::env::temp_dir().join(format!("widenet-arora-bounds-{}", std::process::id()));
    let (_, r) = widenet::experiments::framework::run_typed(&e, &s, &Context::new(&tmp)).unwrap();
    // the explicit term is eq. 10's measure, recomputed here from H^inf by Cholesky
    let data = load_two_class(&DataSource::Synthetic, None, None, (40, 40), 10, 1).unwrap();
    let h = h_inf(&data.train.x).unwrap();
    let q = Cholesky::new(&h, "H")
        .unwrap()
        .quad_inv(&data.train.y)
        .unwrap();
    assert!((r.theorem_5_1.explicit_term - (2.0 * q / 40.0).sqrt()).abs() < 1e-12);
    assert!((r.movement.total_bound_leading - q.sqrt()).abs() < 1e-12);
    assert_eq!(r.decay.n, 40);
    // the sweep: ascending widths, the main run's loss at its own width
    let ws: Vec<usize> = r.width_sweep.iter().map(|p| p.width).collect();
    assert_eq!(ws, [250, 500, 1_000]);
    assert_eq!(
        r.width_sweep[1].test_clipped_l1.to_bits(),
        r.theorem_5_1.test_clipped_l1.to_bits()
    );
    let saved = std::fs::read_to_string(tmp.join("arora-bounds/result.json")).unwrap();
    assert!(saved.contains("Thm 5.1"));
    let _ = std::fs::remove_dir_all(&tmp);
}
