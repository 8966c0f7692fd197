//! Spectra of H^∞ and the predicted GD dynamics (seed 001, §4).
//!
//! With H^∞ = Σ_i λ_i v_i v_iᵀ, the linear dynamics of eq. 7
//! (ũ(0) = 0, ũ(k+1) = ũ(k) − ηH^∞(ũ(k) − y)) give
//! ‖y − ũ(k)‖² = Σ_i (1 − ηλ_i)^{2k} (v_iᵀy)² (eq. 8), which Theorem 4.1 shows
//! the real network's residual follows.

use crate::error::{Error, Result};
use crate::linalg::{sym_eigen, Cholesky, Matrix, SymEigen};
use serde::{Deserialize, Serialize};

/// Predicted training loss Φ̃(k) = ½ Σ_i (1 − ηλ_i)^{2k} (v_iᵀy)² for k = 0..=steps (eq. 8).
///
/// `eigenvalues` and `projections` are paired (any order).
pub fn predicted_loss(
    eigenvalues: &[f64],
    projections: &[f64],
    eta: f64,
    steps: usize,
) -> Result<Vec<f64>> {
    if eigenvalues.len() != projections.len() {
        return Err(Error::Shape(format!(
            "{} eigenvalues but {} projections",
            eigenvalues.len(),
            projections.len()
        )));
    }
    if !(eta > 0.0 && eta.is_finite()) {
        return Err(Error::invalid(
            "eta",
            format!("must be positive, got {eta}"),
        ));
    }
    let ratio: Vec<f64> = eigenvalues
        .iter()
        .map(|&l| (1.0 - eta * l) * (1.0 - eta * l))
        .collect();
    let mut term: Vec<f64> = projections.iter().map(|p| p * p).collect();
    // steps + 1 points: checked (no overflow at steps = usize::MAX) against the budget
    let len = crate::runtime::check_alloc("the predicted loss curve", steps as u128 + 1, 8)?;
    let mut out = Vec::with_capacity(len);
    for k in 0..=steps {
        if k > 0 {
            term.iter_mut().zip(&ratio).for_each(|(t, r)| *t *= r);
        }
        out.push(0.5 * term.iter().sum::<f64>());
    }
    Ok(out)
}

/// The largest step size for which the linear dynamics of eq. 7 contract: 2/λ_max.
pub fn max_stable_eta(eigenvalues: &[f64]) -> f64 {
    let lmax = eigenvalues.iter().cloned().fold(0.0f64, f64::max);
    2.0 / lmax
}

/// Worst-case labels (seed 001, Fig. 1): the unit eigenvector of λ_min(H^∞),
/// scaled to Euclidean norm `norm` (that of the true labels).
pub fn worst_case_labels(eig: &SymEigen, norm: f64) -> Vec<f64> {
    let n = eig.values.len();
    (0..n).map(|i| eig.vectors.get(i, n - 1) * norm).collect()
}

/// Everything `widenet analyze` reports for one label vector.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Analysis {
    /// Number of samples n.
    pub n: usize,
    /// Eigenvalues of H^∞, descending.
    pub eigenvalues: Vec<f64>,
    /// |v_iᵀy|, in the order of `eigenvalues`.
    pub projections: Vec<f64>,
    /// yᵀ(H^∞)⁻¹y (Cholesky).
    pub y_hinv_y: f64,
    /// sqrt(2 yᵀ(H^∞)⁻¹y / n) (eq. 10).
    pub complexity_measure: f64,
    /// Step size used for the prediction.
    pub eta: f64,
    /// Φ̃(k) = ½‖y − ũ(k)‖², k = 0..=steps (eq. 8).
    pub predicted_loss: Vec<f64>,
    /// 2/λ_max: GD with η above this diverges.
    pub max_stable_eta: f64,
    /// What the caller should know before reading the numbers (η beyond 2/λ_max, labels
    /// that are not ±1): the CLI prints each, Python raises each as a `UserWarning`.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// The analysis' warnings for step size `eta` and labels `y` ([`Analysis::warnings`]).
/// Arguments are named `eta` and `y`, as the library, the CLI (`--eta`, `--y`) and Python
/// (`eta=`, `y`) all call them.
pub fn analysis_warnings(eta: f64, max_stable_eta: f64, y: &[f64]) -> Vec<String> {
    let mut w = Vec::new();
    if eta > max_stable_eta {
        w.push(format!(
            "eta = {eta:e} exceeds 2/lambda_max = {max_stable_eta:e}: gradient descent at this \
             step size diverges (the predicted loss grows)"
        ));
    }
    let pm1 = y.iter().all(|&v| v == 1.0 || v == -1.0);
    let zero_one = y.iter().all(|&v| v == 0.0 || v == 1.0);
    if !pm1 && zero_one {
        w.push(
            "labels y are in {0, 1}: seed 001's complexity measure and Theorem 5.1 are stated \
             for labels y_i in {-1, +1} (map them with 2y - 1)"
                .to_string(),
        );
    }
    w
}

/// The spectral analysis of one kernel, shared by several label vectors: the
/// eigendecomposition and Cholesky factor are computed once.
pub struct KernelAnalysis {
    /// The eigendecomposition of H^∞.
    pub eigen: SymEigen,
    chol: Cholesky,
}

impl KernelAnalysis {
    /// Decomposes `h` (eigh and Cholesky); errors if it is not positive definite.
    pub fn new(h: &Matrix<f64>) -> Result<Self> {
        let chol = Cholesky::new(h, "H^inf")?;
        let eigen = sym_eigen(h)?;
        Ok(KernelAnalysis { eigen, chol })
    }

    /// yᵀ(H^∞)⁻¹y.
    pub fn y_hinv_y(&self, y: &[f64]) -> Result<f64> {
        self.chol.quad_inv(y)
    }

    /// The analysis of label vector `y` at step size `eta` for `steps` iterations.
    pub fn analyze(&self, y: &[f64], eta: f64, steps: usize) -> Result<Analysis> {
        let proj = self.eigen.project(y)?;
        let predicted = predicted_loss(&self.eigen.values, &proj, eta, steps)?;
        let q = self.y_hinv_y(y)?;
        let n = y.len();
        Ok(Analysis {
            n,
            eigenvalues: self.eigen.values.clone(),
            projections: proj.iter().map(|p| p.abs()).collect(),
            y_hinv_y: q,
            complexity_measure: crate::theory::bounds::complexity_measure(q, n),
            eta,
            predicted_loss: predicted,
            max_stable_eta: max_stable_eta(&self.eigen.values),
            warnings: analysis_warnings(eta, max_stable_eta(&self.eigen.values), y),
        })
    }
}

/// Predicted distance from initialization after k steps of the linearized dynamics
/// (seed 001, §5.2 with H^∞ for H(0)): vec(W̃(k)) = Z H⁻¹(I − (I − ηH)^k) y, so
/// ‖W̃(k) − W̃(0)‖_F² = Σ_i (1 − (1 − ηλ_i)^k)² (v_iᵀy)² / λ_i, which tends to
/// yᵀ(H^∞)⁻¹y (Lemma 5.3) as k → ∞.
pub fn predicted_movement(eigenvalues: &[f64], projections: &[f64], eta: f64, k: usize) -> f64 {
    eigenvalues
        .iter()
        .zip(projections)
        .filter(|(l, _)| **l > 0.0)
        .map(|(&l, &p)| {
            let decay = (1.0 - eta * l).powi(k.min(i32::MAX as usize) as i32);
            (1.0 - decay).powi(2) * p * p / l
        })
        .sum::<f64>()
        .sqrt()
}
