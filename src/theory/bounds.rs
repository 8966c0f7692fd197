//! Generalization and movement bounds of seed 001 (§5, §6, App. C-E).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The data-dependent complexity measure sqrt(2 yᵀ(H^∞)⁻¹y / n) (seed 001, eq. 10).
pub fn complexity_measure(y_hinv_y: f64, n: usize) -> f64 {
    (2.0 * y_hinv_y / n as f64).sqrt()
}

/// Theorem 5.1's bound on the population loss of a 1-Lipschitz loss in [0, 1].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Theorem51Bound {
    /// The explicit term sqrt(2 yᵀ(H^∞)⁻¹y / n) of eq. 9.
    pub explicit_term: f64,
    /// The explicit term plus the 5/√n that App. D.3's proof carries before folding it
    /// into the O(·) term (training loss 1/√n + twice the 2/√n Rademacher slack).
    pub explicit_with_proof_constants: f64,
    /// The remaining term, which the paper states only up to constants.
    pub o_term: String,
}

/// Theorem 5.1 (eq. 9) for `n` samples with yᵀ(H^∞)⁻¹y = `y_hinv_y`.
pub fn theorem_5_1(y_hinv_y: f64, n: usize) -> Theorem51Bound {
    let explicit = complexity_measure(y_hinv_y, n);
    Theorem51Bound {
        explicit_term: explicit,
        explicit_with_proof_constants: explicit + 5.0 / (n as f64).sqrt(),
        o_term: "O(sqrt(log(n/(lambda_0 delta))/n)): not computed (constants not given)"
            .to_string(),
    }
}

/// Lemma 5.3's two movement quantities.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Lemma53 {
    /// sqrt(yᵀ(H^∞)⁻¹y): the leading term of the bound on ‖W(k) − W(0)‖_F (exact for
    /// the linearized dynamics of eq. 11 with H(0) in place of H^∞, §5.2).
    pub total_movement: f64,
    /// Lemma C.1's per-neuron bound 4√n‖y − u(0)‖ / (√m λ_0) on ‖w_r(k) − w_r(0)‖.
    pub per_neuron_bound: f64,
}

/// Lemma 5.3 (with Lemma C.1's explicit per-neuron constant).
pub fn lemma_5_3(
    y_hinv_y: f64,
    n: usize,
    m: usize,
    lambda0: f64,
    initial_residual_norm: f64,
) -> Result<Lemma53> {
    if lambda0.is_nan() || lambda0 <= 0.0 {
        return Err(Error::invalid(
            "lambda_0",
            format!("lambda_min(H^inf) must be positive, got {lambda0:e}"),
        ));
    }
    Ok(Lemma53 {
        total_movement: y_hinv_y.sqrt(),
        per_neuron_bound: 4.0 * (n as f64).sqrt() * initial_residual_norm
            / ((m as f64).sqrt() * lambda0),
    })
}

/// Lemma 5.4's bound on the empirical Rademacher complexity of
/// {f_{W,a} : ‖w_r − w_r(0)‖ ≤ R ∀r, ‖W − W(0)‖_F ≤ B}:
/// B/√(2n) (1 + (2 log(2/δ)/m)^{1/4}) + 2R²√m/κ + R sqrt(2 log(2/δ)).
pub fn lemma_5_4_rademacher(
    b: f64,
    r: f64,
    n: usize,
    m: usize,
    kappa: f64,
    delta: f64,
) -> Result<f64> {
    if !(delta > 0.0 && delta < 1.0) {
        return Err(Error::invalid(
            "delta",
            format!("must lie in (0, 1), got {delta}"),
        ));
    }
    if kappa.is_nan() || kappa <= 0.0 {
        return Err(Error::invalid(
            "kappa",
            format!("must be positive, got {kappa}"),
        ));
    }
    let l = (2.0 / delta).ln();
    let (nf, mf) = (n as f64, m as f64);
    Ok(b / (2.0 * nf).sqrt() * (1.0 + (2.0 * l / mf).powf(0.25))
        + 2.0 * r * r * mf.sqrt() / kappa
        + r * (2.0 * l).sqrt())
}
