//! The one result of `widenet analyze` and `widenet.analyze_large`, whatever path computed
//! it: seed 001's analysis of one label vector (spectrum, projections, yᵀK⁻¹y, the
//! complexity measure of eq. 10, eq. 8's predicted loss) with the accuracy reached.
//!
//! The exact path (one full eigendecomposition and a Cholesky factor,
//! [`crate::theory::spectrum::KernelAnalysis`]) and the large-n paths
//! ([`crate::theory::large_n`]: dense, f32, matrix-free) fill the same fields, so a
//! consumer reads one schema; where the exact path has nothing to report (a requested
//! tolerance, a Krylov residual) the field is `null` and its doc says so.

use crate::theory::large_n::LargeNAnalysis;
use crate::theory::spectrum::{analysis_warnings, Analysis};

/// The `path` of the exact analysis (full eigendecomposition, Cholesky solve).
pub const EXACT_PATH: &str = "exact";

/// Seed 001's analysis of one label vector, as `widenet analyze` writes it (JSON) and
/// Python's `LargeAnalysis` reads it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AnalyzeReport {
    /// Number of samples.
    pub n: usize,
    /// "exact" (full eigendecomposition), or the large-n path: "dense", "f32",
    /// "matrix-free".
    pub path: String,
    /// k, the number of eigenpairs reported (n on the exact path).
    pub top_k: usize,
    /// Top-k eigenvalues, descending.
    pub eigenvalues: Vec<f64>,
    /// |v_iᵀy| on them.
    pub projections: Vec<f64>,
    /// Σ_{i≤k}(v_iᵀy)²/‖y‖².
    pub captured_fraction: f64,
    /// yᵀK⁻¹y (for H^∞: yᵀ(H^∞)⁻¹y, seed 001 Theorem 5.1).
    pub y_hinv_y: f64,
    /// sqrt(2 yᵀK⁻¹y / n) (seed 001, eq. 10).
    pub complexity_measure: f64,
    /// Estimated relative error of `y_hinv_y`: the solver's a-posteriori bound on the
    /// large-n paths; on the exact path the rounding estimate cond·√n·ε of a
    /// backward-stable Cholesky solve.
    pub achieved_rel_error: f64,
    /// Requested relative accuracy (`null` on the exact path: nothing is requested).
    pub tol: Option<f64>,
    /// η.
    pub eta: f64,
    /// Φ̃(t), t = 0..=steps (seed 001, eq. 8; on the large-n paths top-k exact, the
    /// rest by Krylov quadrature).
    pub predicted_loss: Vec<f64>,
    /// Rigorous lower bound of Φ̃(t) (equal to it on the exact path).
    pub predicted_loss_lower: Vec<f64>,
    /// Rigorous upper bound of Φ̃(t) (equal to it on the exact path).
    pub predicted_loss_upper: Vec<f64>,
    /// 2/λ_max: gradient descent with η above it diverges.
    pub max_stable_eta: f64,
    /// λ_min (estimated on the large-n paths).
    pub lambda_min_estimate: f64,
    /// λ_max/λ_min.
    pub condition_estimate: f64,
    /// max ‖Kv_i − λ_i v_i‖/λ_1 over the top k (`null` on the exact path: a dense
    /// symmetric eigensolver, not measured).
    pub eig_max_rel_residual: Option<f64>,
    /// Whether the eigen-solve converged (always on the exact path).
    pub eig_converged: bool,
    /// Conjugate-gradient iterations (0 on the exact path).
    pub cg_iterations: usize,
    /// The memory budget in bytes the path was chosen with.
    pub memory_budget: u64,
    /// Wall-clock seconds per phase.
    pub timings: Vec<(String, f64)>,
    /// Kernel products (columns) of the eigen-solve (0 on the exact path).
    pub krylov_products: usize,
    /// The solve's preconditioner (cholesky-f64, cholesky-f32, spectral-cg, spectral;
    /// "none" on the exact path, a direct Cholesky solve).
    pub preconditioner: String,
    /// Product columns with the stored f32 kernel in inner CG solves (spectral-cg).
    pub inner_cg_products: usize,
    /// What the caller should know before reading the numbers (η beyond 2/λ_max, labels
    /// in {0, 1}): the CLI prints each, Python raises each as a `UserWarning`.
    pub warnings: Vec<String>,
}

/// Σ_{i≤k}(v_iᵀy)²/‖y‖² from the projections |v_iᵀy| (0 for y = 0).
fn captured(projections: &[f64], y: &[f64]) -> f64 {
    let yy: f64 = y.iter().map(|v| v * v).sum();
    if yy > 0.0 {
        projections.iter().map(|p| p * p).sum::<f64>() / yy
    } else {
        0.0
    }
}

impl AnalyzeReport {
    /// One line for the command line: n, the path, λ_max and λ_min, yᵀK⁻¹y with its
    /// accuracy, the complexity measure and the captured fraction.
    pub fn summary(&self) -> String {
        format!(
            "n = {}, path {}, top-{} lambda_max = {:.4e}, lambda_min = {:.4e}, \
             y^T K^-1 y = {:.6e} (relative error <= {:.1e}), complexity = {:.6}, captured {:.4}",
            self.n,
            self.path,
            self.top_k,
            self.eigenvalues.first().copied().unwrap_or(f64::NAN),
            self.lambda_min_estimate,
            self.y_hinv_y,
            self.achieved_rel_error,
            self.complexity_measure,
            self.captured_fraction
        )
    }

    /// The report of the exact analysis `a` of labels `y` (the full spectrum; `timings`
    /// the phases measured by the caller).
    pub fn from_exact(
        a: Analysis,
        y: &[f64],
        memory_budget: u64,
        timings: Vec<(String, f64)>,
    ) -> Self {
        let lmax = a.eigenvalues.first().copied().unwrap_or(f64::NAN);
        let lmin = a.eigenvalues.last().copied().unwrap_or(f64::NAN);
        let cond = lmax / lmin;
        AnalyzeReport {
            n: a.n,
            path: EXACT_PATH.to_string(),
            top_k: a.eigenvalues.len(),
            captured_fraction: captured(&a.projections, y),
            achieved_rel_error: cond * (a.n as f64).sqrt() * f64::EPSILON,
            tol: None,
            predicted_loss_lower: a.predicted_loss.clone(),
            predicted_loss_upper: a.predicted_loss.clone(),
            lambda_min_estimate: lmin,
            condition_estimate: cond,
            eig_max_rel_residual: None,
            eig_converged: true,
            cg_iterations: 0,
            memory_budget,
            timings,
            krylov_products: 0,
            preconditioner: "none".to_string(),
            inner_cg_products: 0,
            eigenvalues: a.eigenvalues,
            projections: a.projections,
            y_hinv_y: a.y_hinv_y,
            complexity_measure: a.complexity_measure,
            eta: a.eta,
            predicted_loss: a.predicted_loss,
            max_stable_eta: a.max_stable_eta,
            warnings: a.warnings,
        }
    }

    /// The report of the large-n analysis `r` of the single label vector `y`.
    pub fn from_large(r: LargeNAnalysis, y: &[f64], memory_budget: u64) -> Self {
        let l = r
            .labels
            .into_iter()
            .next()
            .expect("one label vector in, one out");
        AnalyzeReport {
            n: r.n,
            path: r.path.name().to_string(),
            top_k: r.top_k,
            eigenvalues: r.eigenvalues,
            projections: l.projections,
            captured_fraction: l.captured_fraction,
            y_hinv_y: l.y_hinv_y,
            complexity_measure: l.complexity_measure,
            achieved_rel_error: l.achieved_rel_error,
            tol: Some(r.tol),
            eta: r.eta,
            predicted_loss: l.predicted_loss,
            predicted_loss_lower: l.predicted_loss_lower,
            predicted_loss_upper: l.predicted_loss_upper,
            max_stable_eta: r.max_stable_eta,
            lambda_min_estimate: r.lambda_min_estimate,
            condition_estimate: r.condition_estimate,
            eig_max_rel_residual: Some(r.eig_max_rel_residual),
            eig_converged: r.eig_converged,
            cg_iterations: l.cg_iterations,
            memory_budget,
            timings: r.timings,
            krylov_products: r.krylov_products,
            preconditioner: r.preconditioner,
            inner_cg_products: r.inner_cg_products,
            warnings: analysis_warnings(r.eta, r.max_stable_eta, y),
        }
    }
}
