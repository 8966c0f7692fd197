//! Unit tests of `widenet::experiments::rnn_wang_checks` (formerly in src/experiments/rnn_wang_checks.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::data::rnn_concepts::{draw_inputs, AdditiveConcept, InputSpec};
use widenet::experiments::claim::{BoundRule, Verdict};
use widenet::experiments::common::Scale;
use widenet::experiments::framework::{Context, Experiment};
use widenet::experiments::rnn_wang_checks::*;
use widenet::rng;
use widenet::taylor::AnalyticFn;
use widenet::theory::bounds_004::theorem_2_check;
use widenet::theory::rate_fit::{compare_rate, PowerFit};

#[test]
fn prefix_values_end_at_the_concept() {
    let mut g = rng::stream(1, "t");
    let psi = AnalyticFn::parse("sin").unwrap();
    let c = AdditiveConcept::random(3, 2, 1, &psi, 1.0, &mut g).unwrap();
    let sp = InputSpec {
        len: 3,
        d: 2,
        c_min: 0.5,
        c_max: 1.0,
    };
    let xs = draw_inputs(&sp, 5, 2, "t").unwrap();
    let p = prefix_values(&c, &xs);
    for i in 0..5 {
        let seq: Vec<Vec<f64>> = xs.iter().map(|x| x.row(i).to_vec()).collect();
        assert!((p.get(i, 2) - c.eval_one(&seq)).abs() < 1e-12);
        // the first prefix is the position-1 term alone, computed by hand
        let t = &c.terms[0];
        let x1 = &seq[0];
        let nx = (x1[0] * x1[0] + x1[1] * x1[1]).sqrt();
        let v = ((t.beta[0] * x1[0] + t.beta[1] * x1[1]) / nx).sin();
        assert!((p.get(i, 0) - v).abs() < 1e-12);
    }
}

/// Results with one Theorem 2 run per (n, average test error), y~^T H^-1 y~ = 4.
fn synthetic(runs: &[(usize, f64)]) -> WangChecksResults {
    let fit = PowerFit {
        exponent: -0.5,
        prefactor: 1.0,
        exponent_se: 0.01,
        r2: 0.99,
        points: 3,
    };
    WangChecksResults {
        thm2: runs
            .iter()
            .map(|&(n, e)| Thm2Run {
                check: theorem_2_check(4.0, n, 0.1, e).unwrap(),
                final_test_error: e,
                seconds: 0.0,
            })
            .collect(),
        thm2_rate: None,
        seq: SeqLabelRun {
            n: 10,
            step_error: vec![0.1],
            step_baseline: vec![0.5],
            seconds: 0.0,
        },
        cross_fraction: vec![0.1, 0.05],
        cross_vs_quarter: compare_rate(&fit, -0.25, 2.0),
        cross_fit: fit,
    }
}

#[test]
fn theorem_2_with_a_capped_constant_can_fail() {
    let e = WangChecks;
    let s = e.settings(Scale::Quick, 0);
    // n = 100: bound (4 + ln 10)/100 = 0.063; error 0.05 -> C = 0.79 <= 1: held
    let c = &e.claims(&s, &synthetic(&[(10, 0.4), (100, 0.05)]))[0];
    assert_eq!(c.verdict, Verdict::Held);
    assert_eq!(c.inside_assumptions(), Some(true));
    // error 0.2 -> C = 3.2 > 1: not held (the n = 10 run is vacuous and not judged)
    let c = &e.claims(&s, &synthetic(&[(10, 0.4), (100, 0.2)]))[0];
    assert_eq!(c.verdict, Verdict::NotHeld);
    match &c.rule {
        Some(BoundRule::CappedConstant { cap, implied }) => {
            assert_eq!(*cap, 1.0);
            assert!((implied - 0.2 / ((4.0 + 10f64.ln()) / 100.0)).abs() < 1e-9);
        }
        r => panic!("{r:?}"),
    }
    // a cap of 5 set before the run covers it
    let mut s5 = s.clone();
    s5.constant_cap = 5.0;
    assert!(e.claims(&s5, &synthetic(&[(100, 0.2)]))[0].held());
    // a diverged run (NaN error) and delta outside (0, 1/e] are inconclusive, naming why
    let c = &e.claims(&s, &synthetic(&[(100, f64::NAN)]))[0];
    assert!(matches!(&c.verdict, Verdict::Inconclusive { reason } if reason.contains("diverged")));
    let mut sd = s.clone();
    sd.delta = 0.5;
    let c = &e.claims(&sd, &synthetic(&[(100, 0.05)]))[0];
    assert!(
        matches!(&c.verdict, Verdict::Inconclusive { reason } if reason.contains("delta in (0, 1/e]"))
    );
}

#[test]
fn a_tiny_run_and_its_verdicts() {
    let e = WangChecks;
    let mut s = e.settings(Scale::Quick, 3);
    s.len = 2;
    s.sizes = vec![20, 40];
    s.n_test = 50;
    s.width = 16;
    s.ntk_widths = vec![16, 64, 256];
    s.ntk_n = 4;
    s.ntk_repeats = 2;
    let tmp = std::env::temp_dir().join(format!("widenet-wang-{}", std::process::id()));
    let (out, r) = widenet::experiments::framework::run_typed(&e, &s, &Context::new(&tmp)).unwrap();
    assert_eq!(r.thm2.len(), 2);
    assert_eq!(r.seq.step_error.len(), 2);
    assert_eq!(out.claims.len(), 3 + usize::from(r.thm2_rate.is_some()));
    // eq. 19's kernel term is y~^T H^-1 y~/n, recomputed here on the first 20 sequences
    let c = &r.thm2[0].check;
    assert!((c.kernel_term * 20.0 - c.y_hinv_y).abs() < 1e-9 * c.y_hinv_y.max(1.0));
    let _ = std::fs::remove_dir_all(&tmp);
}
