//! Unit tests of `widenet::theory::bounds_004` (formerly in src/theory/bounds_004.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::theory::bounds_004::*;

#[test]
fn theorem_2_terms_by_hand() {
    // n = 100, ỹᵀH⁻¹ỹ = 20, δ = e^-2: 0.2 + 0.02 = 0.22
    let c = theorem_2_check(20.0, 100, (-2.0f64).exp(), 0.11).unwrap();
    assert!((c.kernel_term - 0.2).abs() < 1e-15);
    assert!((c.log_term - 0.02).abs() < 1e-15);
    assert!((c.ratio - 0.5).abs() < 1e-12);
    assert!(c.non_vacuous);
    assert!(!theorem_2_check(200.0, 100, 0.1, 0.1).unwrap().non_vacuous);
    assert!(theorem_2_check(20.0, 100, 0.5, 0.1).is_err());
    assert!(theorem_2_check(20.0, 0, 0.1, 0.1).is_err());
}

#[test]
fn iterate_average_matches_the_exact_mean_of_a_linear_curve() {
    // e(k) = 1 − k/T recorded at 0, 10, ..., 100 (T = 100): the trapezoid rule is exact on
    // a line, ∫ = T/2, so the average is 1/2; brute force over every k agrees to O(1/T).
    let steps: Vec<usize> = (0..=10).map(|j| 10 * j).collect();
    let e: Vec<f64> = steps.iter().map(|&k| 1.0 - k as f64 / 100.0).collect();
    let a = iterate_average(&steps, &e).unwrap();
    assert!((a - 0.5).abs() < 1e-15);
    let brute: f64 = (1..=100).map(|k| 1.0 - k as f64 / 100.0).sum::<f64>() / 100.0;
    assert!((a - brute).abs() <= 0.5 / 100.0 + 1e-15);
    assert!(iterate_average(&[0, 0], &[1.0, 1.0]).is_err());
    assert!(iterate_average(&[0], &[1.0]).is_err());
}
