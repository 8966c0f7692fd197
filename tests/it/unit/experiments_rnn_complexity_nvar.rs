//! Unit tests of `widenet::experiments::rnn_complexity::nvar` (formerly in src/experiments/rnn_complexity/nvar.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::experiments::claim::{BoundRule, Verdict};
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

#[test]
fn exponential_growth_in_l0_is_not_held_even_under_the_bound() {
    // c = e^(2 l0): fitted exponent in l0 about 6.05, standard error about 0.99, so the
    // 95% interval lies above 3; the l0-free form 10^20 is not exceeded
    let ps: Vec<_> = L0S
        .iter()
        .map(|&l| point(l, (2.0 * l as f64).exp(), 20.0))
        .collect();
    let c = remark_2_2_check(&ps, 2, 3.0, 8);
    assert_eq!(c.verdict, Verdict::NotHeld);
    match c.rule {
        Some(BoundRule::Scaling { fitted, ci_low, .. }) => {
            assert!((fitted - 6.05).abs() < 0.05, "{fitted}");
            assert!(ci_low > 3.0);
        }
        r => panic!("{r:?}"),
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
