//! Seed 004 Theorem 2 / Theorem 3 measured against SGD (issue 12 §3).
//!
//! Theorem 3 (eq. 19): with ỹ = (F*(x_1), …, F*(x_n)) on the n training sequences and H^∞ the
//! recurrent NTK's limit, Algorithm 1 (n SGD steps, one sample each) satisfies
//!
//! (1/n) Σ_{k=1..n} L^{0-1}_D(W^k) ≤ Õ(ỹᵀ(H^∞)⁻¹ỹ / n) + O(log(1/δ)/n),
//!
//! and Theorem 2 (eq. 17) replaces ỹᵀ(H^∞)⁻¹ỹ by its bound O(C*)² (Theorem 4, eq. 20). Neither
//! states constants; the check evaluates the terms with constant 1 and reports the ratio of the
//! measured average error to them (the constant the bound would need).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Eq. 19 with unit constants next to the measured left-hand side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Theorem2Check {
    /// n: training sequences = SGD steps.
    pub n: usize,
    /// ỹᵀ(H^∞)⁻¹ỹ on the training set.
    pub y_hinv_y: f64,
    /// ỹᵀ(H^∞)⁻¹ỹ / n.
    pub kernel_term: f64,
    /// log(1/δ)/n.
    pub log_term: f64,
    /// kernel_term + log_term: eq. 19 with unit constants.
    pub bound: f64,
    /// The measured (1/n) Σ_k L^{0-1}_D(W^k) (test-set estimate over the recorded iterates).
    pub avg_test_error: f64,
    /// avg_test_error / bound: the constant eq. 19 would need here (≤ 1 means the unit-constant
    /// bound holds).
    pub ratio: f64,
    /// bound < 1: the bound says something about a 0-1 error.
    pub non_vacuous: bool,
}

/// Builds [`Theorem2Check`] (δ ∈ (0, e⁻¹] as Theorem 2 assumes).
pub fn theorem_2_check(
    y_hinv_y: f64,
    n: usize,
    delta: f64,
    avg_test_error: f64,
) -> Result<Theorem2Check> {
    if !(delta > 0.0 && delta <= (-1.0f64).exp()) {
        return Err(Error::invalid(
            "delta",
            format!("Theorem 2 assumes delta in (0, 1/e], got {delta}"),
        ));
    }
    if n == 0 {
        return Err(Error::invalid("n", "no training sequences"));
    }
    if !(y_hinv_y.is_finite() && y_hinv_y >= 0.0) {
        return Err(Error::invalid(
            "y_hinv_y",
            format!("must be finite and >= 0, got {y_hinv_y}"),
        ));
    }
    let kernel_term = y_hinv_y / n as f64;
    let log_term = (1.0 / delta).ln() / n as f64;
    let bound = kernel_term + log_term;
    Ok(Theorem2Check {
        n,
        y_hinv_y,
        kernel_term,
        log_term,
        bound,
        avg_test_error,
        ratio: avg_test_error / bound,
        non_vacuous: bound < 1.0,
    })
}

/// (1/T) Σ_{k=1..T} e(k) from records e(step_j) taken at increasing steps (step 0 first),
/// reading e as piecewise linear between records: the trapezoid rule over [0, T] divided by T.
/// It estimates the left side of eq. 17/19 from a run recorded every few steps.
pub fn iterate_average(steps: &[usize], errors: &[f64]) -> Result<f64> {
    if steps.len() != errors.len() || steps.len() < 2 {
        return Err(Error::Shape(format!(
            "{} record steps against {} errors (need at least 2)",
            steps.len(),
            errors.len()
        )));
    }
    if steps.windows(2).any(|w| w[1] <= w[0]) {
        return Err(Error::invalid("steps", "record steps must increase"));
    }
    let t = (*steps.last().expect("len >= 2") - steps[0]) as f64;
    let area: f64 = steps
        .windows(2)
        .zip(errors.windows(2))
        .map(|(s, e)| (s[1] - s[0]) as f64 * 0.5 * (e[0] + e[1]))
        .sum();
    Ok(area / t)
}
