//! The settings of the large-n analysis, its result types, the three paths
//! and what each needs in memory.

use serde::{Deserialize, Serialize};

/// How the kernel is held while it is analysed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SolverPath {
    /// The kernel stored in f64.
    Dense,
    /// The kernel stored in f32, f64 products recomputed from the inputs.
    F32,
    /// The kernel not stored whole: its f32 tiles held as far as the memory
    /// budget allows, the rest recomputed at every product.
    MatrixFree,
}

crate::options::option_enum!(SolverPath, "path", {
    Dense => "dense",
    F32 => "f32",
    MatrixFree => "matrix-free",
});

/// The preconditioner of the f64 solve (`Auto` and `Cholesky` are the paths'
/// defaults; `Spectral` is honoured on every path).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PrecondChoice {
    /// Measured: a trial of the inner solve against a timed Cholesky of a block.
    #[default]
    Auto,
    /// The stored f32 kernel factored in place (n³/3 flops).
    Cholesky,
    /// The stored f32 kernel's inverse applied by an inner CG on f32 products,
    /// preconditioned by the top-k' spectral deflation; flexible outer CG.
    SpectralCg,
    /// The top-k' spectral deflation alone, one f64 product per CG iteration
    /// (the matrix-free path's fallback; on the dense path, no factorization).
    Spectral,
}

crate::options::option_enum!(PrecondChoice, "precond", {
    Auto => "auto",
    Cholesky => "cholesky",
    SpectralCg => "spectral-cg",
    Spectral => "spectral",
});

/// Settings of [`super::analyze_kernel`].
#[derive(Clone, Debug)]
pub struct LargeNConfig {
    /// Forced path; `None` chooses from n and the memory budget.
    pub path: Option<SolverPath>,
    /// Number of top eigenpairs k.
    pub top_k: usize,
    /// Requested relative accuracy of yᵀK⁻¹y (the complexity measure then has half of it).
    pub tol: f64,
    /// Step size of the predicted loss (eq. 8).
    pub eta: f64,
    /// Iterations of the predicted loss curve.
    pub steps: usize,
    /// Block size of block Lanczos (`None`: chosen from k and the path).
    pub block: Option<usize>,
    /// Most conjugate-gradient iterations before giving up.
    pub max_cg_iters: usize,
    /// Seed of the random part of the starting block.
    pub seed: u64,
    /// Progress bars on stderr for steps over a few seconds.
    pub show_progress: bool,
    /// Preconditioner of the f64 solve: `Auto`/`Cholesky`/`SpectralCg` choose on
    /// the f32 path (the dense path factors, the matrix-free path measures);
    /// `Spectral` takes the top-k' deflation on every path.
    pub precond: PrecondChoice,
    /// Stopping rule of block Lanczos, max_{i<k} ‖Kx_i − θ_i x_i‖ ≤ rtol·θ_1
    /// (`None`: the path's, 1e-9 on f64 products and 2e-6 on f32 ones).
    pub eig_rtol: Option<f64>,
    /// Krylov basis cap before a thick restart (`None`: max(4k', k' + 6b));
    /// n takes the whole space, so the spectrum and eq. 8 are exact.
    pub max_basis: Option<usize>,
}

impl Default for LargeNConfig {
    fn default() -> Self {
        LargeNConfig {
            path: None,
            top_k: 100,
            tol: 1e-6,
            eta: 1e-3,
            steps: 1000,
            block: None,
            max_cg_iters: 300,
            seed: 0,
            show_progress: false,
            precond: PrecondChoice::Auto,
            eig_rtol: None,
            max_basis: None,
        }
    }
}

/// The results for one label vector.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LabelResult {
    /// |v_iᵀy| for the top-k eigenvectors, in the order of the eigenvalues.
    pub projections: Vec<f64>,
    /// Σ_{i≤k}(v_iᵀy)² / ‖y‖².
    pub captured_fraction: f64,
    /// yᵀK⁻¹y.
    pub y_hinv_y: f64,
    /// sqrt(2 yᵀK⁻¹y / n) (seed 001 eq. 10).
    pub complexity_measure: f64,
    /// Estimated relative error of `y_hinv_y`: ‖r‖²/(λ_min q).
    pub achieved_rel_error: f64,
    /// Conjugate-gradient iterations (each one f64 product with K).
    pub cg_iterations: usize,
    /// Φ̃(t), t = 0..=steps: exact top-k part plus the quadrature of the rest (eq. 8).
    pub predicted_loss: Vec<f64>,
    /// Rigorous lower bound of Φ̃(t) (rest at its smallest over [0, λ_k]).
    pub predicted_loss_lower: Vec<f64>,
    /// Rigorous upper bound of Φ̃(t) (rest at its largest over [0, λ_k]).
    pub predicted_loss_upper: Vec<f64>,
}

/// Everything the large-n analysis reports.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LargeNAnalysis {
    /// Number of samples.
    pub n: usize,
    /// The path used.
    pub path: SolverPath,
    /// k.
    pub top_k: usize,
    /// The top-k eigenvalues, descending.
    pub eigenvalues: Vec<f64>,
    /// max_i ‖Kv_i − λ_i v_i‖ / λ_1 over the top k, from f64 products.
    pub eig_max_rel_residual: f64,
    /// Whether the Krylov phase met its residual tolerance before its basis cap.
    pub eig_converged: bool,
    /// Size of the Krylov basis (0 for a full eigendecomposition).
    pub krylov_basis: usize,
    /// Estimated smallest eigenvalue of K.
    pub lambda_min_estimate: f64,
    /// λ_1 / λ_min estimate.
    pub condition_estimate: f64,
    /// Requested relative accuracy of yᵀK⁻¹y.
    pub tol: f64,
    /// Step size of the predicted loss.
    pub eta: f64,
    /// 2/λ_max.
    pub max_stable_eta: f64,
    /// One entry per label vector, in the order given.
    pub labels: Vec<LabelResult>,
    /// Wall-clock seconds per phase (storage, spectrum, factorization, solve).
    pub timings: Vec<(String, f64)>,
    /// Number of Krylov products (columns) and f64 refinement steps taken.
    pub krylov_products: usize,
    /// The preconditioner of the solve: `cholesky-f64`, `cholesky-f32`,
    /// `spectral-cg` (inner CG on the stored f32 kernel) or `spectral`.
    #[serde(default)]
    pub preconditioner: String,
    /// Products with the stored f32 kernel (columns) spent in inner CG solves.
    #[serde(default)]
    pub inner_cg_products: usize,
}

/// Bytes the path needs besides the caller's inputs (kernel storage plus the
/// n × m Krylov basis and a few n × k' blocks).
pub fn path_bytes(path: SolverPath, n: usize, basis: usize) -> u128 {
    let n = n as u128;
    let blocks = 3 * n * basis as u128 * 8;
    match path {
        SolverPath::Dense => 16 * n * n + blocks,
        SolverPath::F32 => 4 * n * n + blocks,
        SolverPath::MatrixFree => blocks,
    }
}

/// Bytes the analysis of n samples with `n_labels` label vectors and top `k`
/// needs on `path` (block size `block`, or the default for the path).
pub fn path_need(
    path: SolverPath,
    n: usize,
    k: usize,
    n_labels: usize,
    block: Option<usize>,
) -> u128 {
    let b = block
        .unwrap_or_else(|| default_block(k, n_labels, path))
        .clamp(1, n.max(1));
    path_bytes(path, n, basis_cap(k, n, b))
}

/// The path chosen within `budget` bytes: dense f64 when it fits, else f32
/// storage, else matrix-free.
pub fn choose_path(
    n: usize,
    k: usize,
    n_labels: usize,
    block: Option<usize>,
    budget: u64,
) -> SolverPath {
    let b = budget as u128;
    if path_need(SolverPath::Dense, n, k, n_labels, block) <= b {
        SolverPath::Dense
    } else if path_need(SolverPath::F32, n, k, n_labels, block) <= b {
        SolverPath::F32
    } else {
        SolverPath::MatrixFree
    }
}

pub(super) fn oversample(k: usize, n: usize) -> usize {
    (k + (k / 10).max(8)).min(n)
}

pub(super) fn default_block(k: usize, labels: usize, path: SolverPath) -> usize {
    let kp = k + (k / 10).max(8);
    let b = match path {
        SolverPath::MatrixFree => (kp / 2).clamp(16, 512),
        _ => (kp / 4).clamp(8, 64),
    };
    b.max(labels + 4)
}

pub(super) fn basis_cap(k: usize, n: usize, b: usize) -> usize {
    let kp = oversample(k, n);
    (4 * kp).max(kp + 6 * b).min(n)
}
