//! Unit tests of `widenet::experiments::rnn_complexity::nvar` (formerly in src/experiments/rnn_complexity/nvar.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::experiments::claim::{BoundRule, Claim, Verdict};
use widenet::experiments::rnn_complexity::nvar::*;
use widenet::experiments::rnn_complexity::*;

/// A by-l0 point with measured complexity `c` and eq. 12's l0-independent form 10^`free`.
fn point(l0: usize, c: f64, free: f64) -> ComplexityPoint {
    ComplexityPoint {
        len: 8,
        n_vars: 2,
        l0,
        positions: vec![8 - l0, 8],
        drawn: 100,
        dropped: 0,
        complexity: Some(c),
        complexity_raw: Some(c),
        complexity_labels: None,
        closed_form_log10: free,
        closed_form_parts_log10: Some((free, 300.0 + l0 as f64)),
        skipped: None,
    }
}

const L0S: [usize; 5] = [1, 2, 3, 5, 7];

#[test]
fn flat_or_polynomial_growth_under_the_l0_free_form_holds() {
    // c = 1 + 0.05 l0: flat; c = l0^2: polynomial of degree 2 < 3
    for f in [|l: f64| 1.0 + 0.05 * l, |l: f64| l * l] {
        let ps: Vec<_> = L0S.iter().map(|&l| point(l, f(l as f64), 3.0)).collect();
        let c = remark_2_2_check(&ps, 2, 3.0, 8);
        assert_eq!(c.verdict, Verdict::Held, "{:?}", c.rule);
        assert_eq!(c.inside_assumptions(), Some(true));
        assert!(matches!(c.rule, Some(BoundRule::Scaling { .. })));
    }
}

/// c = e^(k l0) at L0S: fitted exponent of c against l0 and its standard error, from
/// numpy's least squares on (ln l0, k l0) (5 points, 3 degrees of freedom).
const EXP2_FIT: (f64, f64) = (6.053_934_774_684_15, 0.984_456_118_412_283_1);
const EXP3_FIT: (f64, f64) = (9.080_902_162_026_227, 1.476_684_177_618_424_8);

fn exponential(k: f64) -> Vec<ComplexityPoint> {
    // the l0-free form 10^20 is never exceeded: only the growth is tested
    L0S.iter()
        .map(|&l| point(l, (k * l as f64).exp(), 20.0))
        .collect()
}

fn interval(c: &Claim) -> (f64, f64, f64) {
    match c.rule {
        Some(BoundRule::Scaling {
            fitted,
            ci_low,
            ci_high,
            ..
        }) => (fitted, ci_low, ci_high),
        ref r => panic!("{r:?}"),
    }
}

#[test]
fn exponential_growth_in_l0_is_not_held_even_under_the_bound() {
    // c = e^(3 l0): exponent 9.08 ± 3.182 · 1.48, the interval [4.38, 13.78] lies above 3
    let c = remark_2_2_check(&exponential(3.0), 2, 3.0, 8);
    assert_eq!(c.verdict, Verdict::NotHeld);
    let (fitted, lo, hi) = interval(&c);
    let (p, se) = EXP3_FIT;
    assert!((fitted - p).abs() < 1e-9, "{fitted}");
    assert!((lo - (p - 3.182 * se)).abs() < 1e-9, "{lo}");
    assert!((hi - (p + 3.182 * se)).abs() < 1e-9, "{hi}");
}

#[test]
fn the_interval_is_student_t_with_k_minus_2_degrees_of_freedom() {
    // c = e^(2 l0): exponent 6.05, standard error 0.98. The normal's ±1.96 se interval
    // [4.12, 7.98] would lie above 3 (not held); Student's t with 5 - 2 = 3 degrees of
    // freedom (3.182, the table value) gives [2.92, 9.19], which reaches 3: held, as
    // Claim::scaling_fit judges every sweep
    let c = remark_2_2_check(&exponential(2.0), 2, 3.0, 8);
    let (fitted, lo, hi) = interval(&c);
    let (p, se) = EXP2_FIT;
    assert!((fitted - p).abs() < 1e-9, "{fitted}");
    assert!((lo - (p - 3.182 * se)).abs() < 1e-9, "{lo}");
    assert!((hi - (p + 3.182 * se)).abs() < 1e-9, "{hi}");
    assert!(p - 1.96 * se > 3.0 && lo < 3.0);
    assert_eq!(c.verdict, Verdict::Held);
}

#[test]
fn too_few_l0_values_are_inconclusive() {
    // two l0 values: no degree of freedom left for an interval
    let ps: Vec<_> = [1, 7].iter().map(|&l| point(l, 1.0, 3.0)).collect();
    match remark_2_2_check(&ps, 2, 3.0, 8).verdict {
        Verdict::Inconclusive { reason } => {
            assert!(reason.contains("2 point(s)"), "{reason}")
        }
        v => panic!("{v:?}"),
    }
}

#[test]
fn exceeding_the_l0_free_form_is_not_held() {
    // flat, but above eq. 12's l0-independent form at l0 = 7
    let ps: Vec<_> = L0S
        .iter()
        .map(|&l| point(l, if l == 7 { 2000.0 } else { 900.0 }, 3.0))
        .collect();
    assert_eq!(remark_2_2_check(&ps, 2, 3.0, 8).verdict, Verdict::NotHeld);
}

#[test]
fn large_n_is_outside_the_remark() {
    let ps: Vec<_> = L0S.iter().map(|&l| point(l, 1.0, 3.0)).collect();
    match remark_2_2_check(&ps, 5, 3.0, 8).verdict {
        Verdict::Inconclusive { reason } => assert!(reason.contains("N small"), "{reason}"),
        v => panic!("{v:?}"),
    }
}
