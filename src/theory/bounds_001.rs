//! Seed 001's bounds measured against a trained network (issue 12 §3): Theorem 5.1's explicit
//! term against the test loss of a 1-Lipschitz loss in [0, 1]; Lemma 5.3's total movement and
//! Lemma C.1's per-neuron movement against their bounds; Fig. 1's "the eigenvalues admit a fast
//! decay" and "projections of random labels are close to being uniform" as numbers.
//!
//! The bounds themselves are in [`crate::theory::bounds`] (written once, used here).

use crate::error::{Error, Result};
use crate::rng;
use crate::theory::bounds::{lemma_5_3, theorem_5_1};
use crate::theory::rate_fit::fit_power_law;
use serde::{Deserialize, Serialize};

/// ℓ(u, y) = min(|u − y|, 1): 1-Lipschitz in u, values in [0, 1], ℓ(y, y) = 0 — a loss
/// Theorem 5.1 (eq. 9) applies to.
pub fn clipped_l1(u: f64, y: f64) -> f64 {
    (u - y).abs().min(1.0)
}

/// The ramp loss of App. D.4 (proof of Corollary 5.2), for y ∈ {±1}: 1 for uy ≤ 0, 1 − uy on
/// (0, 1), 0 for uy ≥ 1. It bounds the 0-1 loss from above.
pub fn ramp(u: f64, y: f64) -> f64 {
    (1.0 - u * y).clamp(0.0, 1.0)
}

/// (1/n) Σ_i loss(u_i, y_i).
pub fn mean_loss(u: &[f64], y: &[f64], loss: fn(f64, f64) -> f64) -> Result<f64> {
    if u.len() != y.len() || u.is_empty() {
        return Err(Error::Shape(format!(
            "{} predictions against {} labels",
            u.len(),
            y.len()
        )));
    }
    if u.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(Error::Numerical(
            "predictions or labels are not finite".into(),
        ));
    }
    Ok(u.iter().zip(y).map(|(&a, &b)| loss(a, b)).sum::<f64>() / u.len() as f64)
}

/// Theorem 5.1 (eq. 9) against a trained net: L_D(f) ≤ sqrt(2yᵀ(H^∞)⁻¹y/n) +
/// O(sqrt(log(n/(λ₀δ))/n)), with L_D estimated on a held-out test set.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Theorem51Check {
    /// Training samples n.
    pub n: usize,
    /// Test samples behind the estimates.
    pub n_test: usize,
    /// sqrt(2yᵀ(H^∞)⁻¹y/n), eq. 9's explicit term.
    pub explicit_term: f64,
    /// The explicit term + 5/√n of App. D.3's proof (see [`theorem_5_1`]).
    pub explicit_with_proof_constants: f64,
    /// sqrt(log(n/(λ₀δ))/n): eq. 9's O(·) term without its constant.
    pub log_term: f64,
    /// Test loss of [`clipped_l1`] (the 1-Lipschitz loss clipped to [0, 1]).
    pub test_clipped_l1: f64,
    /// Test loss of the ramp loss (Cor. 5.2).
    pub test_ramp: f64,
    /// Training loss of [`clipped_l1`] (App. D.3 (i): ≤ 1/√n once Φ ≤ ½).
    pub train_clipped_l1: f64,
    /// (test_clipped_l1 − explicit_term)/log_term, floored at 0: the constant the O(·) term
    /// would need for eq. 9 to hold here.
    pub implied_constant: f64,
    /// test_clipped_l1 ≤ explicit_term.
    pub below_explicit_term: bool,
}

/// Builds [`Theorem51Check`] from yᵀ(H^∞)⁻¹y, λ₀ = λ_min(H^∞), δ and the net's predictions.
pub fn theorem_5_1_check(
    y_hinv_y: f64,
    lambda0: f64,
    delta: f64,
    (u_train, y_train): (&[f64], &[f64]),
    (u_test, y_test): (&[f64], &[f64]),
) -> Result<Theorem51Check> {
    if !(delta > 0.0 && delta < 1.0) {
        return Err(Error::invalid(
            "delta",
            format!("must lie in (0, 1), got {delta}"),
        ));
    }
    if !(lambda0.is_finite() && lambda0 > 0.0) {
        return Err(Error::invalid(
            "lambda_0",
            format!("lambda_min(H^inf) must be positive, got {lambda0:e}"),
        ));
    }
    if !(y_hinv_y.is_finite() && y_hinv_y >= 0.0) {
        return Err(Error::invalid(
            "y_hinv_y",
            format!("must be finite and >= 0, got {y_hinv_y}"),
        ));
    }
    let n = y_train.len();
    let bound = theorem_5_1(y_hinv_y, n);
    let test = mean_loss(u_test, y_test, clipped_l1)?;
    let log_term = ((n as f64 / (lambda0 * delta)).ln().max(0.0) / n as f64).sqrt();
    Ok(Theorem51Check {
        n,
        n_test: y_test.len(),
        explicit_term: bound.explicit_term,
        explicit_with_proof_constants: bound.explicit_with_proof_constants,
        log_term,
        test_clipped_l1: test,
        test_ramp: mean_loss(u_test, y_test, ramp)?,
        train_clipped_l1: mean_loss(u_train, y_train, clipped_l1)?,
        implied_constant: if log_term > 0.0 {
            ((test - bound.explicit_term) / log_term).max(0.0)
        } else {
            f64::NAN
        },
        below_explicit_term: test <= bound.explicit_term,
    })
}

/// Lemma 5.3 / Lemma C.1 against a GD trajectory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MovementCheck {
    /// max_k ‖W(k) − W(0)‖_F over the recorded iterations.
    pub max_total_movement: f64,
    /// sqrt(yᵀ(H^∞)⁻¹y), Lemma 5.3's leading term (the O(nκ/(λ₀δ)) and m^{−1/4} terms have no
    /// stated constants).
    pub total_bound_leading: f64,
    /// max_total_movement / total_bound_leading.
    pub total_ratio: f64,
    /// max_k max_r ‖w_r(k) − w_r(0)‖.
    pub max_neuron_movement: f64,
    /// Lemma C.1's 4√n‖y − u(0)‖/(√m λ₀) (explicit constant).
    pub per_neuron_bound: f64,
    /// max_neuron_movement / per_neuron_bound.
    pub neuron_ratio: f64,
    /// η ≤ λ₀/n²: Lemma C.1 / 5.3's step-size condition η = O(λ₀/n²) with constant 1 (the
    /// lemma's argument needs ‖y − u(k)‖ to contract, eq. 14).
    pub eta_condition: bool,
}

/// Builds [`MovementCheck`] from per-iteration ‖W(k) − W(0)‖_F and max_r ‖w_r(k) − w_r(0)‖
/// ([`crate::train::GdMetrics`]'s `w_dist_fro`, `w_dist_max`).
#[allow(clippy::too_many_arguments)]
pub fn movement_check(
    w_dist_fro: &[f64],
    w_dist_max: &[f64],
    y_hinv_y: f64,
    n: usize,
    m: usize,
    lambda0: f64,
    initial_residual_norm: f64,
    eta: f64,
) -> Result<MovementCheck> {
    if w_dist_fro.is_empty() || w_dist_max.is_empty() {
        return Err(Error::invalid("trajectory", "no recorded iterations"));
    }
    let b = lemma_5_3(y_hinv_y, n, m, lambda0, initial_residual_norm)?;
    let mx = |v: &[f64]| v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let (tot, neu) = (mx(w_dist_fro), mx(w_dist_max));
    Ok(MovementCheck {
        max_total_movement: tot,
        total_bound_leading: b.total_movement,
        total_ratio: tot / b.total_movement,
        max_neuron_movement: neu,
        per_neuron_bound: b.per_neuron_bound,
        neuron_ratio: neu / b.per_neuron_bound,
        eta_condition: eta <= lambda0 / (n as f64 * n as f64),
    })
}

/// How fast the eigenvalues of H^∞ decay (Fig. 1(b): "the eigenvalues of H^∞ admit a fast
/// decay").
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EigenDecay {
    /// n.
    pub n: usize,
    /// λ_{⌈n/10⌉} / λ₁.
    pub decile_ratio: f64,
    /// Σ_{i ≤ ⌈n/10⌉} λ_i / Σ_i λ_i: the trace share of the top 10%.
    pub top_decile_trace_share: f64,
    /// (Σλ)² / Σλ²: the effective rank, as a fraction of n.
    pub effective_rank_fraction: f64,
    /// p of λ_i ≈ C i^{−p} fitted over i = 1..⌈n/2⌉ (the bottom half is flattened by
    /// λ_min > 0; a power law is the decay a smooth kernel on the sphere shows).
    pub power_law_exponent: f64,
}

/// [`EigenDecay`] of eigenvalues in descending order (all must be positive and finite).
pub fn eigen_decay(eigs_desc: &[f64]) -> Result<EigenDecay> {
    let n = eigs_desc.len();
    if n < 4 {
        return Err(Error::invalid(
            "eigenvalues",
            format!("need at least 4, got {n}"),
        ));
    }
    if eigs_desc.windows(2).any(|w| w[1] > w[0]) {
        return Err(Error::invalid("eigenvalues", "must be in descending order"));
    }
    if eigs_desc.iter().any(|l| !(l.is_finite() && *l > 0.0)) {
        return Err(Error::invalid(
            "eigenvalues",
            "must be positive and finite (H^inf is positive definite)",
        ));
    }
    let top = n.div_ceil(10);
    let tr: f64 = eigs_desc.iter().sum();
    let sq: f64 = eigs_desc.iter().map(|l| l * l).sum();
    let half = n.div_ceil(2).max(2);
    let idx: Vec<f64> = (1..=half).map(|i| i as f64).collect();
    let fit = fit_power_law(&idx, &eigs_desc[..half])?;
    Ok(EigenDecay {
        n,
        decile_ratio: eigs_desc[top - 1] / eigs_desc[0],
        top_decile_trace_share: eigs_desc[..top].iter().sum::<f64>() / tr,
        effective_rank_fraction: tr * tr / sq / n as f64,
        power_law_exponent: -fit.exponent,
    })
}

/// How close the label energy (v_iᵀy)² is to uniform over the eigenvectors (Fig. 1(b):
/// "projections of random labels are close to being uniform").
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProjectionUniformity {
    /// n.
    pub n: usize,
    /// Σ_{i ≤ ⌈n/10⌉} (v_iᵀy)² / ‖y‖²: 0.1 for exactly uniform energy.
    pub top_decile_share: f64,
    /// max_k |Σ_{i≤k} (v_iᵀy)² / ‖y‖² − k/n|: the Kolmogorov-Smirnov distance of the cumulative
    /// energy from uniform.
    pub ks: f64,
    /// The 95% quantile of the same distance when the projections are i.i.d. N(0, 1), i.e. for
    /// Gaussian labels independent of the data, whatever the eigenvectors (Monte-Carlo).
    pub ks_null_q95: f64,
    /// ks ≤ ks_null_q95.
    pub close_to_uniform: bool,
}

/// The KS distance of the cumulative energy of `projections` (eigenvector order) from k/n.
pub fn energy_ks(projections: &[f64]) -> f64 {
    let n = projections.len();
    let tot: f64 = projections.iter().map(|p| p * p).sum();
    let mut acc = 0.0;
    let mut ks: f64 = 0.0;
    for (k, p) in projections.iter().enumerate() {
        acc += p * p;
        ks = ks.max((acc / tot - (k + 1) as f64 / n as f64).abs());
    }
    ks
}

/// [`ProjectionUniformity`] of `projections` (|v_iᵀy| or v_iᵀy in the eigenvalues' order), with
/// the null quantile from `draws` Monte-Carlo vectors of stream `seed`.
pub fn projection_uniformity(
    projections: &[f64],
    draws: usize,
    seed: u64,
) -> Result<ProjectionUniformity> {
    let n = projections.len();
    if n < 2 || projections.iter().any(|p| !p.is_finite()) {
        return Err(Error::invalid(
            "projections",
            format!("need at least 2 finite values, got {n}"),
        ));
    }
    if projections.iter().all(|p| *p == 0.0) {
        return Err(Error::invalid("projections", "the label vector is zero"));
    }
    if draws < 20 {
        return Err(Error::invalid(
            "draws",
            format!("need at least 20 for a 95% quantile, got {draws}"),
        ));
    }
    let tot: f64 = projections.iter().map(|p| p * p).sum();
    let top = n.div_ceil(10);
    let ks = energy_ks(projections);
    let mut g = rng::stream(seed, "projection-uniformity-null");
    let mut z = vec![0.0; n];
    let mut null: Vec<f64> = (0..draws)
        .map(|_| {
            z.iter_mut().for_each(|t| *t = rng::normal(&mut g));
            energy_ks(&z)
        })
        .collect();
    null.sort_by(f64::total_cmp);
    let q95 = null[((0.95 * draws as f64).ceil() as usize).min(draws) - 1];
    Ok(ProjectionUniformity {
        n,
        top_decile_share: projections[..top].iter().map(|p| p * p).sum::<f64>() / tot,
        ks,
        ks_null_q95: q95,
        close_to_uniform: ks <= q95,
    })
}
