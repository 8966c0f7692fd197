//! Issue 26 item 3, the papers' central results as claims: each check gives *held* on a
//! synthetic result that satisfies the statement, *not held* on one that violates it, and
//! *inconclusive* naming the assumption or the reason when the run cannot test it. The
//! synthetic sweeps are exact power laws (or a hand-computed learning curve), so the fitted
//! exponents are known in closed form.

use widenet::experiments::claim::{BoundRule, Claim, Verdict};
use widenet::experiments::common::Scale;
use widenet::experiments::rnn_complexity::{
    remark_3_1_check, remark_4_2_check, ComplexityPoint, CurvePoint, LearningCurve,
    SgdCurveSettings,
};
use widenet::experiments::rnn_kernel::theorem_5_check;
use widenet::kernels::rnn_infinite::Preset;

fn reason(c: &Claim) -> &str {
    match &c.verdict {
        Verdict::Inconclusive { reason } => reason,
        v => panic!("expected inconclusive, got {v:?}"),
    }
}

fn fitted(c: &Claim) -> (f64, f64, f64) {
    match &c.rule {
        Some(BoundRule::Scaling {
            fitted,
            ci_low,
            ci_high,
            ..
        }) => (*fitted, *ci_low, *ci_high),
        r => panic!("{r:?}"),
    }
}

#[test]
fn scaling_fit_judges_the_interval_against_the_exponent() {
    let x = [1.0, 2.0, 4.0, 8.0];
    // y = x^-1 with a multiplicative wobble: exponent near -1, finite interval
    let y: Vec<f64> = x
        .iter()
        .zip([1.1, 0.9, 1.1, 0.9])
        .map(|(t, w)| w / t)
        .collect();
    let c = Claim::scaling_fit("c", "x", -0.5, &x, &y, serde_json::json!({}));
    let (p, lo, hi) = fitted(&c);
    assert!(lo < p && p < hi && hi < -0.5, "{p} [{lo}, {hi}]");
    assert!(c.held());
    // 4 points, 2 degrees of freedom: the half-width is t = 4.303 standard errors (Student's
    // t, whose dof-2 quantile is 0.95 sqrt(2 / (4 x 0.975 x 0.025)) in closed form)
    let se = c.measured["fit"]["exponent_se"].as_f64().unwrap();
    let t2 = 0.95 * (2.0f64 / (4.0 * 0.975 * 0.025)).sqrt();
    assert!(((hi - p) / se - t2).abs() < 1e-3, "{}", (hi - p) / se);
    // the same data against a bound exponent of -1.5: the interval lies above it
    let c = Claim::scaling_fit("c", "x", -1.5, &x, &y, serde_json::json!({}));
    assert_eq!(c.verdict, Verdict::NotHeld);
    assert_eq!(c.measured["sweep"]["x"][3], 8.0);
    // two points: no interval
    let c = Claim::scaling_fit("c", "x", 0.0, &x[..2], &y[..2], serde_json::json!({}));
    assert!(reason(&c).contains("at least 3"));
    // a zero value cannot be fitted on a log scale
    let c = Claim::scaling_fit(
        "c",
        "x",
        0.0,
        &x,
        &[1.0, 0.0, 1.0, 1.0],
        serde_json::json!({}),
    );
    assert!(reason(&c).contains("cannot be fitted"));
}

#[test]
fn theorem_5_can_fail() {
    let widths = [128, 512, 2048];
    let dev = |p: f64| -> Vec<f64> { widths.iter().map(|&m| (m as f64).powf(p)).collect() };
    // falling like 1/m: faster than log^2 m / m's -0.674 over this sweep: held
    let c = theorem_5_check("wang", &widths, &dev(-1.0));
    assert!(c.held(), "{c:?}");
    assert_eq!(c.inside_assumptions(), Some(true));
    match &c.rule {
        Some(BoundRule::Scaling { bound_exponent, .. }) => {
            assert!((bound_exponent + 0.674).abs() < 1e-3)
        }
        r => panic!("{r:?}"),
    }
    // falling like m^-0.3: slower than the bound allows: not held
    assert_eq!(
        theorem_5_check("wang", &widths, &dev(-0.3)).verdict,
        Verdict::NotHeld
    );
    // another network than eq. 14's: inconclusive naming the assumption
    let c = theorem_5_check("elman", &widths, &dev(-1.0));
    assert!(reason(&c).contains("eq. 14"), "{c:?}");
    // two widths: below the scale a fitted interval needs
    let c = theorem_5_check("wang", &widths[..2], &dev(-1.0)[..2]);
    assert!(reason(&c).contains("at least 3"));
}

#[test]
fn remark_4_2_can_fail() {
    let lens = [4, 8, 16, 32, 64];
    // K(L) = L^-2 / 2: polynomial of degree 2 <= 4: held
    let poly: Vec<f64> = lens.iter().map(|&l| 0.5 / (l * l) as f64).collect();
    let c = remark_4_2_check(Preset::Wang, &lens, &poly, 4.0);
    assert!(c.held(), "{c:?}");
    assert!((fitted(&c).0 - 2.0).abs() < 1e-12);
    // K(L) = 2^-L: Remark 4.2's naive exponential; 1/K = 2^L is no power law, and its
    // least-squares log-log slope over 4..64 is about 14 with an interval above 4: not held
    let expo: Vec<f64> = lens.iter().map(|&l| 0.5f64.powi(l as i32)).collect();
    let c = remark_4_2_check(Preset::Wang, &lens, &expo, 4.0);
    assert_eq!(c.verdict, Verdict::NotHeld, "{c:?}");
    assert!(fitted(&c).1 > 4.0);
    // the Elman preset's limit is not Theorem 6's network: inconclusive naming it
    let c = remark_4_2_check(Preset::Elman, &lens, &poly, 4.0);
    assert!(reason(&c).contains("wang preset"), "{c:?}");
}

fn curve(len: usize, errors: &[(usize, f64)]) -> LearningCurve {
    LearningCurve {
        len,
        drawn: 0,
        dropped: 0,
        test_positive_fraction: 0.5,
        runs: errors
            .iter()
            .map(|&(n, e)| CurvePoint {
                len,
                n_train: n,
                test_error: e,
                avg_test_error: e,
                best_test_error: e,
                test_loss: 0.0,
                train_loss: 0.0,
                record_steps: Vec::new(),
                test_error_curve: Vec::new(),
                w_shift_fro: 0.0,
                seconds: 0.0,
                failed: None,
            })
            .collect(),
        spearman_n_error: -1.0,
    }
}

fn point(len: usize, c: f64) -> ComplexityPoint {
    ComplexityPoint {
        len,
        n_vars: 1,
        l0: len - 1,
        positions: Vec::new(),
        drawn: 0,
        dropped: 0,
        complexity: Some(c),
        complexity_raw: Some(c),
        complexity_labels: Some(c),
        closed_form_log10: 0.0,
        closed_form_parts_log10: None,
        skipped: None,
    }
}

/// Curves reaching error 0.3 exactly at N_eps(L) (grid points 100, 400, 1600, 6400 with the
/// error 0.3 placed on the grid), C* = 1 at every L, so (L C*)^2 = L^2.
fn remark_3_1_case(n_eps: [usize; 3]) -> (Vec<LearningCurve>, Vec<ComplexityPoint>) {
    let lens = [2, 4, 8];
    let curves = lens
        .iter()
        .zip(n_eps)
        .map(|(&l, ne)| {
            let runs: Vec<(usize, f64)> = [100, 400, 1600, 6400, 25_600]
                .iter()
                .map(|&n| {
                    (
                        n,
                        if n < ne {
                            0.45
                        } else if n == ne {
                            0.3
                        } else {
                            0.2
                        },
                    )
                })
                .collect();
            curve(l, &runs)
        })
        .collect();
    (curves, lens.iter().map(|&l| point(l, 1.0)).collect())
}

#[test]
fn remark_3_1_can_fail() {
    let mut sgd = SgdCurveSettings::new(Scale::Quick);
    sgd.eta = 0.05; // eta m = 6.4 <= 10: inside Theorem 2's eta = O(1/m)
                    // N_eps = 400, 1600, 6400 against L^2 = 4, 16, 64: exponent 1 (= the bound's): held
    let (c, p) = remark_3_1_case([400, 1600, 6400]);
    let claim = remark_3_1_check(&c, &p, &sgd, 0.3);
    assert!(claim.held(), "{claim:?}");
    assert!((fitted(&claim).0 - 1.0).abs() < 1e-9);
    assert_eq!(claim.inside_assumptions(), Some(true));
    // N_eps = 200, 3200, 51200: exponent 2 in L^2: not held
    let lens = [2, 4, 8];
    let curves: Vec<LearningCurve> = lens
        .iter()
        .zip([(100, 400), (1600, 6400), (25_600, 102_400)])
        .map(|(&l, (a, b))| curve(l, &[(a / 4, 0.45), (a, 0.4), (b, 0.2)]))
        .collect();
    // error 0.3 is halfway (in error) between the runs at a and 4a: ln N_eps = ln a + ln 2,
    // N_eps = 2a: 200, 3200, 51200 against 4, 16, 64: exponent ln 16 / ln 4 = 2
    let points: Vec<ComplexityPoint> = lens.iter().map(|&l| point(l, 1.0)).collect();
    let claim = remark_3_1_check(&curves, &points, &sgd, 0.3);
    assert_eq!(claim.verdict, Verdict::NotHeld, "{claim:?}");
    assert!((fitted(&claim).0 - 2.0).abs() < 1e-12);
    assert!((claim.measured["N_eps"][0].as_f64().unwrap() - 200.0).abs() < 1e-9);
    // a curve that never reaches eps: the scale is below the claim
    let mut short = curves.clone();
    short[2] = curve(8, &[(100, 0.45), (400, 0.4)]);
    let claim = remark_3_1_check(&short, &points, &sgd, 0.3);
    assert!(reason(&claim).contains("not reached"), "{claim:?}");
    // eta m = 12.8 > 10: outside Theorem 2's eta = O(1/m), named
    sgd.eta = 0.1;
    let (c, p) = remark_3_1_case([400, 1600, 6400]);
    let claim = remark_3_1_check(&c, &p, &sgd, 0.3);
    assert!(reason(&claim).contains("eta = O(1/m)"), "{claim:?}");
}
