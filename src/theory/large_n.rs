//! Seed 001's analysis at large n (issue 11 part B): the top-k spectrum of a
//! kernel and the label projections on it, yᵀK⁻¹y and the complexity measure
//! (eq. 10) to a stated accuracy, and eq. 8's predicted loss, without a full
//! eigendecomposition and, when memory is short, without storing the kernel.
//!
//! Three paths, chosen from n and the memory budget (or forced):
//! - `dense`: the kernel in f64 (16n² bytes with its Cholesky factor), products
//!   and a Cholesky preconditioner in f64 (when top-k is at least n/2, a full
//!   eigendecomposition: today's `KernelAnalysis`);
//! - `f32`: the kernel stored in f32 (4n² bytes). Block Lanczos runs on f32
//!   products, then an f64 Rayleigh–Ritz with f64 products of the Ritz block
//!   (recomputed tile by tile from the inputs) makes the eigenvalues f64-accurate.
//!   The stored kernel is then Cholesky-factored in place in f32 and used as the
//!   preconditioner of an f64 conjugate-gradient solve whose products are f64,
//!   or (`PrecondChoice::SpectralCg`, no n³ factorization) its inverse is applied
//!   by an inner CG on the stored kernel deflated by the top Ritz pairs, under a
//!   flexible outer CG; `Auto` measures which is faster (see `InnerCg`);
//! - `matrix-free`: the whole kernel does not fit; the f32 tiles of its lower
//!   block triangle are held as far as the budget allows (all of them take 2n²
//!   bytes) and the rest are recomputed in f32 at every product
//!   ([`TileCache`]; the products are the same bits whatever part is held).
//!   Block Lanczos, the inner CG of the spectral-cg preconditioner and the f64
//!   refinement then run as on the `f32` path, with the f64 products recomputed
//!   tile by tile; when the inner CG would not converge (an ill-conditioned
//!   kernel) the preconditioner is the top-k' spectral deflation alone, with one
//!   f64 pass per CG iteration.
//!
//! Accuracy (the numbers are reported, never assumed): with z the solve's result
//! and r = y − Kz its f64 residual, q = yᵀz + zᵀr satisfies
//! yᵀK⁻¹y − q = rᵀK⁻¹r ∈ [0, ‖r‖²/λ_min], so the relative error is at most
//! ‖r‖²/(λ_min q) (second order in r); λ_min is estimated from CG's own Lanczos
//! coefficients times λ_min of the preconditioner. When the estimated condition
//! number λ_1/λ_min puts f64 rounding above the requested tolerance, or CG does
//! not reach it, the result is an [`Error::IllConditioned`] naming the estimated
//! condition number (near-duplicate inputs make H^∞ singular, seed 001 Remark 5.1).
//!
//! Eq. 8 without the full spectrum: Φ̃(t) = ½Σ_i (1 − ηλ_i)^{2t}(v_iᵀy)² is exact
//! over the top-k pairs; the rest, of mass R = ‖y‖² − Σ_{i≤k}(v_iᵀy)², is evaluated
//! by Gauss quadrature from the Krylov space (the label vectors are in the first
//! Lanczos block, so the Ritz pairs beyond k with weights (x_jᵀy)² are a block
//! Gauss rule for yᵀf(K)y) and bounded rigorously: every remaining eigenvalue lies
//! in [0, λ_k], so the rest lies between R·min and R·max of (1 − ηλ)^{2t} there.

use crate::error::{Error, Result};
use crate::kernels::tile::{block, matvec_scratch_bytes, n_blocks, TileKernel};
use crate::kernels::tile::{dense_f64, dense_with_progress, matvec_with_progress as matvec};
use crate::kernels::tile_cache::TileCache;
use crate::linalg::{gemm_into, sym_eigen, sym_eigenvalues, Matrix, View};
use crate::runtime::{check_alloc, check_interrupt, memory_budget, progress_bar};
use faer::dyn_stack::{MemBuffer, MemStack};
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

impl SolverPath {
    /// The flag spelling (`dense`, `f32`, `matrix-free`).
    pub fn name(self) -> &'static str {
        match self {
            SolverPath::Dense => "dense",
            SolverPath::F32 => "f32",
            SolverPath::MatrixFree => "matrix-free",
        }
    }

    /// Parses the value of the flag `flag`.
    pub fn parse(flag: &str, s: &str) -> Result<Self> {
        match s {
            "dense" => Ok(SolverPath::Dense),
            "f32" => Ok(SolverPath::F32),
            "matrix-free" => Ok(SolverPath::MatrixFree),
            _ => Err(Error::invalid(
                flag,
                format!("'{s}' is not a path (dense, f32 or matrix-free)"),
            )),
        }
    }
}

/// The preconditioner of the f64 solve on the f32 path.
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
}

impl PrecondChoice {
    /// The flag spelling (`auto`, `cholesky`, `spectral-cg`).
    pub fn name(self) -> &'static str {
        match self {
            PrecondChoice::Auto => "auto",
            PrecondChoice::Cholesky => "cholesky",
            PrecondChoice::SpectralCg => "spectral-cg",
        }
    }

    /// Parses the value of the flag `flag`.
    pub fn parse(flag: &str, s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(PrecondChoice::Auto),
            "cholesky" => Ok(PrecondChoice::Cholesky),
            "spectral-cg" => Ok(PrecondChoice::SpectralCg),
            _ => Err(Error::invalid(
                flag,
                format!("'{s}' is not a preconditioner (auto, cholesky or spectral-cg)"),
            )),
        }
    }
}

/// Settings of [`analyze_kernel`].
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
    pub iters: usize,
    /// Block size of block Lanczos (`None`: chosen from k and the path).
    pub block: Option<usize>,
    /// Most conjugate-gradient iterations before giving up.
    pub max_cg_iters: usize,
    /// Seed of the random part of the starting block.
    pub seed: u64,
    /// Progress bars on stderr for steps over a few seconds.
    pub show_progress: bool,
    /// Preconditioner of the f64 solve on the f32 path (ignored on the others).
    pub precond: PrecondChoice,
}

impl Default for LargeNConfig {
    fn default() -> Self {
        LargeNConfig {
            path: None,
            top_k: 100,
            tol: 1e-6,
            eta: 1e-3,
            iters: 1000,
            block: None,
            max_cg_iters: 300,
            seed: 0,
            show_progress: false,
            precond: PrecondChoice::Auto,
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
    /// Φ̃(t), t = 0..=iters: exact top-k part plus the quadrature of the rest (eq. 8).
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

fn oversample(k: usize, n: usize) -> usize {
    (k + (k / 10).max(8)).min(n)
}

fn default_block(k: usize, labels: usize, path: SolverPath) -> usize {
    let kp = k + (k / 10).max(8);
    let b = match path {
        SolverPath::MatrixFree => (kp / 2).clamp(16, 512),
        _ => (kp / 4).clamp(8, 64),
    };
    b.max(labels + 4)
}

fn basis_cap(k: usize, n: usize, b: usize) -> usize {
    let kp = oversample(k, n);
    (4 * kp).max(kp + 6 * b).min(n)
}

// ---------------------------------------------------------------- profiling

/// Per-phase wall-clock accumulators, filled only when the environment variable
/// `WIDENET_PROFILE` is set (printed to stderr at the end of [`analyze_kernel`]):
/// how the large-n path's time splits between products, reorthogonalization,
/// Rayleigh–Ritz and the solve, measured rather than guessed.
static PROFILE: std::sync::Mutex<Vec<(&'static str, f64, usize)>> =
    std::sync::Mutex::new(Vec::new());

fn profiling() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("WIDENET_PROFILE").is_some())
}

/// Runs `f`, adding its wall-clock time to the accumulator `name` when profiling.
fn prof<R>(name: &'static str, f: impl FnOnce() -> R) -> R {
    if !profiling() {
        return f();
    }
    let t = std::time::Instant::now();
    let r = f();
    let dt = t.elapsed().as_secs_f64();
    let mut p = PROFILE.lock().unwrap_or_else(|e| e.into_inner());
    match p.iter_mut().find(|e| e.0 == name) {
        Some(e) => {
            e.1 += dt;
            e.2 += 1;
        }
        None => p.push((name, dt, 1)),
    }
    r
}

/// A scope timer for [`prof`]'s accumulators (for code with early returns).
struct ProfTimer(&'static str, Option<std::time::Instant>);

impl ProfTimer {
    fn new(name: &'static str) -> Self {
        ProfTimer(name, profiling().then(std::time::Instant::now))
    }
}

impl Drop for ProfTimer {
    fn drop(&mut self) {
        if let Some(t) = self.1 {
            let dt = t.elapsed().as_secs_f64();
            let mut p = PROFILE.lock().unwrap_or_else(|e| e.into_inner());
            match p.iter_mut().find(|e| e.0 == self.0) {
                Some(e) => {
                    e.1 += dt;
                    e.2 += 1;
                }
                None => p.push((self.0, dt, 1)),
            }
        }
    }
}

fn print_profile() {
    if !profiling() {
        return;
    }
    let mut p = PROFILE.lock().unwrap_or_else(|e| e.into_inner());
    for (name, t, c) in p.iter() {
        eprintln!("[profile] {name:<34} {t:9.3} s  {c:6} calls");
    }
    p.clear();
}

// ---------------------------------------------------------------- operators

/// A symmetric operator applied to n × b row-major blocks.
enum Op<'a> {
    Dense(&'a Matrix<f64>),
    F32 {
        k: &'a [f32],
        n: usize,
    },
    /// f32 products on the held tiles, the others recomputed in f32.
    Tiles(&'a TileCache<'a>),
    Free(&'a dyn TileKernel),
}

impl Op<'_> {
    fn apply(&self, v: &Matrix<f64>, show: bool) -> Result<Matrix<f64>> {
        check_interrupt()?;
        let name = match self {
            Op::Dense(_) => "product (dense f64)",
            Op::F32 { .. } => "product (stored f32)",
            Op::Tiles(_) => "product (f32 tiles, held or recomputed)",
            Op::Free(_) => "product (tiles f64)",
        };
        prof(name, || self.apply_inner(v, show))
    }

    fn apply_inner(&self, v: &Matrix<f64>, show: bool) -> Result<Matrix<f64>> {
        match self {
            Op::Dense(k) => {
                let mut out = Matrix::zeros(k.rows(), v.cols());
                gemm_into(&mut out, k.view(), v.view(), 1.0, false)?;
                Ok(out)
            }
            Op::F32 { k, n } => {
                let v32: Matrix<f32> = v.cast();
                let mut out = Matrix::<f32>::zeros(*n, v.cols());
                gemm_into(
                    &mut out,
                    View::row_major(k, *n, *n)?,
                    v32.view(),
                    1.0,
                    false,
                )?;
                Ok(out.cast())
            }
            Op::Tiles(c) => c.product(v, show),
            Op::Free(k) => matvec(*k, v, show),
        }
    }
}

/// `aᵀb` for row-major blocks with the same number of rows.
fn at_b(a: &Matrix<f64>, b: &Matrix<f64>) -> Result<Matrix<f64>> {
    let mut out = Matrix::zeros(a.cols(), b.cols());
    gemm_into(&mut out, a.t(), b.view(), 1.0, false)?;
    Ok(out)
}

/// `z -= a c`.
fn sub_ac(z: &mut Matrix<f64>, a: &Matrix<f64>, c: &Matrix<f64>) -> Result<()> {
    gemm_into(z, a.view(), c.view(), -1.0, true)
}

/// `a c` as a new matrix.
fn mul(a: &Matrix<f64>, c: &Matrix<f64>) -> Result<Matrix<f64>> {
    let mut out = Matrix::zeros(a.rows(), c.cols());
    gemm_into(&mut out, a.view(), c.view(), 1.0, false)?;
    Ok(out)
}

fn col(m: &Matrix<f64>, j: usize) -> Vec<f64> {
    (0..m.rows()).map(|i| m.get(i, j)).collect()
}

fn dotv(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Thin QR of a row-major n × b block through faer: (Q, R).
fn thin_qr(z: &Matrix<f64>) -> (Matrix<f64>, Matrix<f64>) {
    let (n, b) = z.shape();
    let fm = faer::Mat::from_fn(n, b, |i, j| z.get(i, j));
    let qr = fm.qr();
    let q = qr.compute_thin_Q();
    let r = qr.thin_R();
    (
        Matrix::from_fn(n, b, |i, j| q[(i, j)]),
        Matrix::from_fn(b, b, |i, j| r[(i, j)]),
    )
}

/// Orthonormalizes `z` against the blocks `qs` (two passes of block
/// Gram–Schmidt) and within itself: returns (Q, R) with (I − PPᵀ)z = QR.
/// Directions lost to cancellation (|R_jj| ≤ `tiny`) are replaced by random
/// vectors orthogonal to everything, with zero rows in R, so the basis always
/// grows by b orthonormal columns.
fn orthonormalize<P: ProjectOut + ?Sized>(
    mut z: Matrix<f64>,
    qs: &P,
    tiny: f64,
    rng: &mut crate::rng::WRng,
) -> Result<(Matrix<f64>, Matrix<f64>)> {
    // One block Gram–Schmidt pass here (callers subtract one already), a second
    // only where it cancelled much (Kahan–Parlett "twice is enough").
    let before = crate::linalg::norm2(z.as_slice());
    qs.project_out(&mut z)?;
    if crate::linalg::norm2(z.as_slice()) < 0.7 * before {
        qs.project_out(&mut z)?;
    }
    let (mut q1, mut r1) = thin_qr(&z);
    let b = z.cols();
    let mut replaced = false;
    for j in 0..b {
        if r1.get(j, j).abs() <= tiny {
            replaced = true;
            for i in 0..b {
                r1.set(j, i, 0.0);
            }
            for i in 0..q1.rows() {
                q1.set(i, j, crate::rng::normal(rng));
            }
        }
    }
    // A second round (only when columns were replaced or z was tiny, i.e. mostly
    // rounding) makes Q orthogonal to the old blocks to working precision.
    let min_r = (0..b)
        .map(|j| r1.get(j, j).abs())
        .fold(f64::INFINITY, f64::min);
    if !replaced && min_r > 1e-3 * before.max(f64::MIN_POSITIVE) {
        return Ok((q1, r1));
    }
    for _ in 0..2 {
        qs.project_out(&mut q1)?;
    }
    let (q2, r2) = thin_qr(&q1);
    let r = if replaced {
        // columns that were replaced keep a zero row in R; the others pick up r2
        let mut r = mul(&r2, &r1)?;
        for j in 0..b {
            if r1.get(j, j) == 0.0 {
                for i in 0..b {
                    r.set(j, i, 0.0);
                }
            }
        }
        r
    } else {
        mul(&r2, &r1)?
    };
    // The QR's sign convention may flip columns; R absorbs it through r2.
    Ok((q2, r))
}

// ------------------------------------------------------------- the spectrum

/// Most f64 block-Davidson refinement steps after the f32 Krylov phase (each one
/// f64 product of the Ritz block; taken only while ‖r_i‖²/gap_i > 1e-11·θ_i).
const DAVIDSON_STEPS: usize = 4;

/// The top of the spectrum plus a quadrature rule for the rest.
struct Spectrum {
    /// Top k' eigenvalue estimates, descending.
    vals: Vec<f64>,
    /// Their vectors (n × k'), orthonormal.
    vecs: Matrix<f64>,
    /// ‖Kv_i − θ_i v_i‖ for the top k'.
    resid: Vec<f64>,
    /// Further Ritz values (quadrature nodes beyond k').
    tail_vals: Vec<f64>,
    /// Quadrature weights (x_jᵀy_l)² of the tail nodes, one vector per label.
    tail_weights: Vec<Vec<f64>>,
    converged: bool,
    basis: usize,
    products: usize,
}

/// Something whose orthonormal columns Q can be projected out of a block:
/// z ← z − Q(Qᵀz).
trait ProjectOut {
    fn project_out(&self, z: &mut Matrix<f64>) -> Result<()>;
}

impl ProjectOut for [Matrix<f64>] {
    fn project_out(&self, z: &mut Matrix<f64>) -> Result<()> {
        for q in self {
            let c = at_b(q, z)?;
            sub_ac(z, q, &c)?;
        }
        Ok(())
    }
}

/// The Krylov basis in one row-major n × cap buffer (columns 0..m in use), so
/// that the projections against the whole basis are two large GEMMs (Qᵀz and
/// z − QC, classical Gram–Schmidt applied twice) rather than two small GEMMs per
/// block, which ran far below the GEMM rate at n in the tens of thousands.
struct Basis {
    data: Vec<f64>,
    n: usize,
    cap: usize,
    m: usize,
}

impl Basis {
    fn new(n: usize, cap: usize) -> Self {
        Basis {
            data: vec![0.0; n * cap],
            n,
            cap,
            m: 0,
        }
    }

    fn view(&self) -> Result<View<'_, f64>> {
        View::leading_cols(&self.data, self.n, self.m, self.cap)
    }

    /// Appends the columns of `q` (at most cap − m of them).
    fn push(&mut self, q: &Matrix<f64>) {
        let (b, m, cap) = (q.cols(), self.m, self.cap);
        assert!(m + b <= cap, "Krylov basis capacity");
        for (row, src) in self
            .data
            .chunks_exact_mut(cap)
            .zip(q.as_slice().chunks_exact(b.max(1)))
        {
            row[m..m + b].copy_from_slice(&src[..b]);
        }
        self.m += b;
    }

    /// Columns off..off + b as a matrix.
    fn cols(&self, off: usize, b: usize) -> Matrix<f64> {
        Matrix::from_fn(self.n, b, |i, j| self.data[i * self.cap + off + j])
    }

    /// Qᵀz over the columns in use.
    fn proj(&self, z: &Matrix<f64>) -> Result<Matrix<f64>> {
        let mut c = Matrix::zeros(self.m, z.cols());
        gemm_into(&mut c, self.view()?.t(), z.view(), 1.0, false)?;
        Ok(c)
    }

    /// z −= Q c.
    fn sub(&self, z: &mut Matrix<f64>, c: &Matrix<f64>) -> Result<()> {
        gemm_into(z, self.view()?, c.view(), -1.0, true)
    }

    /// Q U[:m, :kp] (Ritz vectors from the eigenvectors U of T).
    fn times(&self, u: &Matrix<f64>, kp: usize) -> Result<Matrix<f64>> {
        let m = self.m;
        let ub = Matrix::from_fn(m, kp, |a, c| u.get(a, c));
        let mut out = Matrix::zeros(self.n, kp);
        gemm_into(&mut out, self.view()?, ub.view(), 1.0, false)?;
        Ok(out)
    }
}

impl ProjectOut for Basis {
    fn project_out(&self, z: &mut Matrix<f64>) -> Result<()> {
        if self.m == 0 {
            return Ok(());
        }
        let c = self.proj(z)?;
        self.sub(z, &c)
    }
}

/// Block Lanczos with full reorthogonalization and Rayleigh–Ritz on the whole
/// basis, started from the labels plus Gaussian columns. Stops when the top-k
/// Ritz residuals ‖Kx_i − θ_i x_i‖ (from the block recurrence: ‖R_{j+1} u_i^{(j)}‖)
/// fall below `rtol`·θ_1, or at the basis cap.
#[allow(clippy::too_many_arguments)]
fn block_lanczos(
    op: &Op<'_>,
    n: usize,
    labels: &Matrix<f64>,
    k: usize,
    kp: usize,
    b: usize,
    m_cap: usize,
    rtol: f64,
    seed: u64,
    show: bool,
) -> Result<Spectrum> {
    let mut rng = crate::rng::stream(seed, "large-n block lanczos start");
    let nl = labels.cols();
    let mut start = Matrix::zeros(n, b);
    for i in 0..n {
        for j in 0..b {
            let v = if j < nl {
                labels.get(i, j)
            } else {
                crate::rng::normal(&mut rng)
            };
            start.set(i, j, v);
        }
    }
    let (q0, _) = orthonormalize(start, &[] as &[Matrix<f64>], 0.0, &mut rng)?;
    let mut basis = Basis::new(n, m_cap.max(kp + b));
    basis.push(&q0);
    // the current block: columns oj..oj + bj of the basis
    let (mut oj, mut bj) = (0usize, q0.cols());
    drop(q0);
    let mut t = Matrix::zeros(basis.cap, basis.cap);
    let bar = progress_bar(m_cap as u64, "top-k eigenpairs (block Lanczos)", show);
    let mut scale = 0.0f64;
    let mut next_check = kp;
    let mut restarts = 0usize;
    let mut products = 0usize;
    let result: (Vec<f64>, Matrix<f64>, Vec<f64>, bool);
    loop {
        check_interrupt()?;
        let w = op.apply(&basis.cols(oj, bj), false)?;
        products += bj;
        if scale == 0.0 {
            scale = crate::linalg::norm2(w.as_slice()).max(f64::MIN_POSITIVE);
        }
        let _pt = ProfTimer::new("lanczos: block recurrence (GS)");
        // the coefficients QᵀKQ_j (a column block of T) and Z = KQ_j − Q(QᵀKQ_j)
        let mut z = w;
        let c = basis.proj(&z)?;
        basis.sub(&mut z, &c)?;
        let m = basis.m;
        for a in 0..m {
            for bb in 0..bj {
                let v = c.get(a, bb);
                t.set(a, oj + bb, v);
                t.set(oj + bb, a, v);
            }
        }
        // symmetrize the diagonal block (rounding of the f32/f64 product)
        for a in 0..bj {
            for bb in 0..a {
                let v = 0.5 * (t.get(oj + a, oj + bb) + t.get(oj + bb, oj + a));
                t.set(oj + a, oj + bb, v);
                t.set(oj + bb, oj + a, v);
            }
        }
        drop(_pt);
        debug_assert_eq!(m, oj + bj);
        bar.set_position(m as u64);
        // Z = (I − QQᵀ)KQ_j = Q_{j+1} R_{j+1}: the next block and the residuals
        let (qn, rn) = if m >= n {
            (Matrix::zeros(n, 0), Matrix::zeros(0, bj))
        } else {
            prof("lanczos: orthonormalize", || {
                orthonormalize(z, &basis, 1e-13 * scale, &mut rng)
            })?
        };
        let full = m >= n;
        let at_cap = !full && m + qn.cols() > m_cap;
        if m >= next_check || full || at_cap {
            let tm = Matrix::from_fn(m, m, |a, bb| t.get(a, bb));
            let eig = prof("lanczos: eig of T", || sym_eigen(&tm))?;
            let theta1 = eig.values[0].abs().max(f64::MIN_POSITIVE);
            // ‖Kx_i − θ_i x_i‖ = ‖R_{j+1} u_i[last block]‖ (zero once the basis is R^n)
            let res: Vec<f64> = (0..kp.min(m))
                .map(|i| {
                    let mut s = 0.0;
                    for a in 0..rn.rows() {
                        let mut v = 0.0;
                        for bb in 0..bj {
                            v += rn.get(a, bb) * eig.vectors.get(oj + bb, i);
                        }
                        s += v * v;
                    }
                    s.sqrt()
                })
                .collect();
            let ok = m >= kp && res.iter().take(k).all(|&r| r <= rtol * theta1);
            if ok || full || (at_cap && restarts >= MAX_RESTARTS) {
                result = (eig.values, eig.vectors, res, ok || full);
                break;
            }
            if at_cap {
                // Thick restart (block Krylov–Schur): keep the top k' Ritz vectors
                // X (T = diag θ there) and the next block; the coupling XᵀKQ_{j+1}
                // is computed from the next product like every other entry of T.
                restarts += 1;
                let x = prof("lanczos: ritz vectors", || basis.times(&eig.vectors, kp))?;
                t = Matrix::zeros(basis.cap, basis.cap);
                for i in 0..kp {
                    t.set(i, i, eig.values[i]);
                }
                basis.m = 0;
                basis.push(&x);
                basis.push(&qn);
                (oj, bj) = (kp, qn.cols());
                next_check = kp + b;
                continue;
            }
            next_check = (m + m / 5).max(m + b);
        }
        basis.push(&qn);
        (oj, bj) = (m, qn.cols());
    }
    bar.finish_and_clear();
    let (theta, u, res, converged) = result;
    let m = theta.len();
    let kp = kp.min(m);
    // the basis may hold the unused next block beyond m
    basis.m = m;
    let vecs = prof("lanczos: ritz vectors", || basis.times(&u, kp))?;
    // Quadrature weights of the tail Ritz pairs: (u_jᵀ Qᵀ y)².
    let qty = basis.proj(labels)?;
    let tail_vals: Vec<f64> = theta[kp..].to_vec();
    let mut tail_weights = vec![Vec::with_capacity(m - kp); nl];
    for jj in kp..m {
        for (l, tw) in tail_weights.iter_mut().enumerate() {
            let s: f64 = (0..m).map(|a| u.get(a, jj) * qty.get(a, l)).sum();
            tw.push(s * s);
        }
    }
    Ok(Spectrum {
        vals: theta[..kp].to_vec(),
        vecs,
        resid: res,
        tail_vals,
        tail_weights,
        converged,
        basis: m,
        products,
    })
}

/// Most thick restarts of block Lanczos before it reports non-convergence.
const MAX_RESTARTS: usize = 30;

/// Rayleigh–Ritz of K on the columns of `x` with f64 products `kx = K x`:
/// values, rotated vectors, residual norms and K times the rotated vectors.
type RitzBlock = (Vec<f64>, Matrix<f64>, Vec<f64>, Matrix<f64>);

fn hstack(a: &Matrix<f64>, b: &Matrix<f64>) -> Matrix<f64> {
    let (ca, cb) = (a.cols(), b.cols());
    Matrix::from_fn(a.rows(), ca + cb, |i, j| {
        if j < ca {
            a.get(i, j)
        } else {
            b.get(i, j - ca)
        }
    })
}

fn rayleigh_ritz(x: &Matrix<f64>, kx: &Matrix<f64>) -> Result<RitzBlock> {
    let _pt = ProfTimer::new("rayleigh-ritz (f64)");
    let g = at_b(x, kx)?;
    let c = g.cols();
    let gs = Matrix::from_fn(c, c, |a, b| 0.5 * (g.get(a, b) + g.get(b, a)));
    let e = sym_eigen(&gs)?;
    let v = mul(x, &e.vectors)?;
    let kv = mul(kx, &e.vectors)?;
    let res = (0..c)
        .map(|j| {
            (0..v.rows())
                .map(|i| {
                    let d = kv.get(i, j) - e.values[j] * v.get(i, j);
                    d * d
                })
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    Ok((e.values, v, res, kv))
}

// --------------------------------------------------------- preconditioners

/// A Cholesky factor held column-major (lower triangle), f32 or f64.
enum Factor {
    F64(Vec<f64>),
    F32(Vec<f32>),
}

/// Why an in-place Cholesky failed: the pivot index and the smallest pivot seen.
struct CholFail {
    index: usize,
}

macro_rules! chol_fns {
    ($fac:ident, $solve:ident, $t:ty) => {
        /// Cholesky of the symmetric matrix held in `a` (n × n; row- and
        /// column-major agree), in place, lower triangle in column-major order.
        fn $fac(a: &mut [$t], n: usize) -> std::result::Result<(), CholFail> {
            let par = faer::get_global_parallelism();
            let mut mem = MemBuffer::new(
                faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<$t>(
                    n,
                    par,
                    Default::default(),
                ),
            );
            let mat = faer::MatMut::from_column_major_slice_mut(a, n, n);
            faer::linalg::cholesky::llt::factor::cholesky_in_place(
                mat,
                Default::default(),
                par,
                MemStack::new(&mut mem),
                Default::default(),
            )
            .map(|_| ())
            .map_err(|e| match e {
                faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index } => {
                    CholFail { index }
                }
            })
        }

        /// Solves L Lᵀ X = R in place for the factor of `$fac`, R n × c column-major
        /// (all c right-hand sides in one pass over the factor).
        fn $solve(l: &[$t], n: usize, r: &mut [$t], c: usize) {
            let par = faer::get_global_parallelism();
            let lm = faer::MatRef::from_column_major_slice(l, n, n);
            let rhs = faer::MatMut::from_column_major_slice_mut(r, n, c);
            faer::linalg::triangular_solve::solve_lower_triangular_in_place(lm, rhs, par);
            let rhs = faer::MatMut::from_column_major_slice_mut(r, n, c);
            faer::linalg::triangular_solve::solve_upper_triangular_in_place(
                lm.transpose(),
                rhs,
                par,
            );
        }
    };
}
chol_fns!(chol_in_place_f64, chol_solve_f64, f64);
chol_fns!(chol_in_place_f32, chol_solve_f32, f32);

enum Precond<'a> {
    Chol {
        f: Factor,
        n: usize,
    },
    /// M = VΘVᵀ + σ(I − VVᵀ): M⁻¹r = V(Θ⁻¹ − σ⁻¹)Vᵀr + r/σ.
    Spectral {
        v: Matrix<f64>,
        vals: Vec<f64>,
        sigma: f64,
    },
    /// K₃₂⁻¹ applied approximately by an inner CG on the f32 kernel.
    Inner(Box<InnerCg<'a>>),
}

impl Precond<'_> {
    fn apply(&self, r: &[f64]) -> Result<Vec<f64>> {
        Ok(self
            .apply_cols(std::slice::from_ref(&r.to_vec()))?
            .pop()
            .expect("one column in, one out"))
    }

    /// M⁻¹ applied to each vector of `rs` (one pass over a Cholesky factor for all).
    fn apply_cols(&self, rs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        let _pt = ProfTimer::new("preconditioner apply");
        if rs.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Precond::Chol { f, n } => {
                let (n, c) = (*n, rs.len());
                match f {
                    Factor::F64(l) => {
                        let mut x: Vec<f64> = rs.concat();
                        chol_solve_f64(l, n, &mut x, c);
                        Ok(x.chunks_exact(n).map(|v| v.to_vec()).collect())
                    }
                    Factor::F32(l) => {
                        // scale each column into f32 range-safe units, solve, scale back
                        let scales: Vec<f64> = rs
                            .iter()
                            .map(|r| r.iter().fold(0.0f64, |a, v| a.max(v.abs())))
                            .map(|s| if s == 0.0 { 1.0 } else { s })
                            .collect();
                        let mut x: Vec<f32> = rs
                            .iter()
                            .zip(&scales)
                            .flat_map(|(r, s)| r.iter().map(move |v| (v / s) as f32))
                            .collect();
                        chol_solve_f32(l, n, &mut x, c);
                        Ok(x.chunks_exact(n)
                            .zip(&scales)
                            .map(|(v, s)| v.iter().map(|x| *x as f64 * s).collect())
                            .collect())
                    }
                }
            }
            Precond::Spectral { v, vals, sigma } => {
                let (n, c) = (v.rows(), rs.len());
                let r = Matrix::from_fn(n, c, |i, j| rs[j][i]);
                let mut coef = at_b(v, &r)?;
                for (j, l) in vals.iter().enumerate() {
                    for a in 0..c {
                        coef.set(j, a, coef.get(j, a) * (1.0 / l - 1.0 / sigma));
                    }
                }
                let mut out = Matrix::from_fn(n, c, |i, j| rs[j][i] / sigma);
                gemm_into(&mut out, v.view(), coef.view(), 1.0, true)?;
                Ok((0..c).map(|j| col(&out, j)).collect())
            }
            Precond::Inner(ic) => ic.apply_cols(rs),
        }
    }

    /// The λ_min(K) estimate of the inner-CG preconditioner (`None` for the others).
    fn inner_lambda(&self) -> Option<f64> {
        match self {
            Precond::Inner(ic) => Some(ic.lambda_safe()),
            _ => None,
        }
    }

    /// λ_min(M): closed form for the spectral preconditioner, Lanczos on M⁻¹
    /// (its largest eigenvalue, 1/λ_min(M)) for a Cholesky factor.
    fn lambda_min(&self, n: usize, seed: u64) -> Result<f64> {
        match self {
            Precond::Spectral { vals, sigma, .. } => {
                Ok(vals.iter().cloned().fold(*sigma, f64::min))
            }
            Precond::Chol { .. } => {
                let top = lanczos_largest(n, 30, seed, |v| self.apply(v))?;
                Ok(1.0 / top)
            }
            Precond::Inner(ic) => Ok(ic.lambda_safe()),
        }
    }
}

// ------------------------------------------- inner CG on the stored kernel

/// Most inner CG iterations per application of [`InnerCg`].
const MAX_INNER: usize = 400;
/// Inner iterations of the measured trial that chooses the preconditioner.
const TRIAL_INNER: usize = 30;
/// Applications of the preconditioner the outer solve is expected to need
/// (its first one, then one per outer iteration; two or three outer iterations
/// when the inner solve is accurate to √tol/10).
const OUTER_APPLIES: f64 = 3.0;

/// The inverse of the stored f32 kernel K₃₂ applied approximately: CG on K₃₂
/// with f32 products (one GEMM over the stored kernel per iteration for every
/// column at once, memory bound) and f64 vectors, preconditioned by the top-k'
/// spectral deflation M_s = VΘVᵀ + σ(I − VVᵀ) of the Krylov phase. The outer
/// f64 CG is flexible (Polak–Ribière β) because this inverse is inexact.
///
/// λ_min: each inner run's CG coefficients give the Lanczos matrix of M_s⁻¹K₃₂;
/// its smallest Ritz value μ times λ_min(M_s) = σ estimates λ_min(K₃₂) (from
/// above as Ritz values do, but σ·λ_min(M_s⁻¹K₃₂) ≤ λ_min(K₃₂) is exact, so only
/// the Lanczos convergence is assumed, as for the Cholesky route's estimate).
/// The f64 kernel differs from the stored one by E = K − K₃₂ with
/// ‖E‖₂ ≤ ‖E‖_F ≈ n·rms(E_ij), the rms measured on sampled f64 tiles; the
/// estimate reported is λ_min(K₃₂) − 2n·rms(E_ij).
struct InnerCg<'a> {
    k: F32Kernel<'a>,
    n: usize,
    defl: Precond<'a>,
    lam_defl: f64,
    tol: f64,
    max_it: usize,
    e_bound: f64,
    lam: std::cell::Cell<f64>,
    products: std::cell::Cell<usize>,
    unconverged: std::cell::Cell<usize>,
    /// Right-hand sides already solved (the labels, by the trial) and their solutions.
    cache: std::cell::RefCell<Vec<(Vec<f64>, Vec<f64>)>>,
}

/// One inner run: the solutions, max_j ‖r_j‖/‖b_j‖ after each iteration, whether
/// every column reached the tolerance, seconds and iterations.
struct InnerRun {
    x: Vec<Vec<f64>>,
    hist: Vec<f64>,
    converged: bool,
    secs: f64,
    iters: usize,
}

/// The f32 kernel the inner CG multiplies by: stored whole (the `f32` path), or
/// its lower-triangle tiles held as far as the budget allows, the rest
/// recomputed in f32 (the `matrix-free` path).
enum F32Kernel<'a> {
    Full(Vec<f32>),
    Tiles(TileCache<'a>),
}

impl F32Kernel<'_> {
    fn op(&self, n: usize) -> Op<'_> {
        match self {
            F32Kernel::Full(k) => Op::F32 { k, n },
            F32Kernel::Tiles(c) => Op::Tiles(c),
        }
    }

    /// The f32 entries of tile (bi, bj), row-major, with its shape.
    fn tile(&self, bi: usize, bj: usize, n: usize) -> Result<(Vec<f32>, usize, usize)> {
        match self {
            F32Kernel::Full(a) => {
                let (r, c) = (block(bi, n), block(bj, n));
                let t = r
                    .clone()
                    .flat_map(|i| a[i * n + c.start..i * n + c.end].iter().copied())
                    .collect();
                Ok((t, r.len(), c.len()))
            }
            F32Kernel::Tiles(c) => c.entries(bi, bj),
        }
    }
}

impl InnerCg<'_> {
    fn lambda_safe(&self) -> f64 {
        self.lam.get() - self.e_bound
    }

    /// CG for K₃₂x_j = b_j from x0 (or 0) until ‖r_j‖ ≤ tol·‖b_j‖ or `max_it`.
    fn solve(&self, bs: &[Vec<f64>], x0: Option<&[Vec<f64>]>, max_it: usize) -> Result<InnerRun> {
        let _pt = ProfTimer::new("inner cg (f32 kernel)");
        let (n, c) = (self.n, bs.len());
        let t0 = std::time::Instant::now();
        let op = self.k.op(n);
        let bnorm: Vec<f64> = bs.iter().map(|b| crate::linalg::norm2(b)).collect();
        let (mut x, mut r) = match x0 {
            Some(x0) => {
                let xm = Matrix::from_fn(n, c, |i, j| x0[j][i]);
                let kx = op.apply(&xm, false)?;
                self.products.set(self.products.get() + c);
                let r = (0..c)
                    .map(|j| (0..n).map(|i| bs[j][i] - kx.get(i, j)).collect())
                    .collect();
                (x0.to_vec(), r)
            }
            None => (vec![vec![0.0; n]; c], bs.to_vec()),
        };
        let mut active: Vec<bool> = (0..c)
            .map(|j| bnorm[j] > 0.0 && crate::linalg::norm2(&r[j]) > self.tol * bnorm[j])
            .collect();
        let mut p = self.defl.apply_cols(&r)?;
        let mut rho: Vec<f64> = (0..c).map(|j| dotv(&r[j], &p[j])).collect();
        let (mut alphas, mut betas) = (vec![Vec::new(); c], vec![Vec::new(); c]);
        let mut hist = Vec::new();
        let mut iters = 0;
        while iters < max_it && active.iter().any(|a| *a) {
            check_interrupt()?;
            let idx: Vec<usize> = (0..c).filter(|&j| active[j]).collect();
            let pm = Matrix::from_fn(n, idx.len(), |i, a| p[idx[a]][i]);
            let w = op.apply(&pm, false)?;
            self.products.set(self.products.get() + idx.len());
            iters += 1;
            for (a, &j) in idx.iter().enumerate() {
                let wj = col(&w, a);
                let pw = dotv(&p[j], &wj);
                if pw.is_nan() || pw <= 0.0 {
                    return Err(Error::IllConditioned {
                        what: "the stored f32 kernel (the inner CG of the spectral-cg \
                               preconditioner met p^T K p <= 0)"
                            .into(),
                        cond: f64::INFINITY,
                        achieved: f64::INFINITY,
                        tol: self.tol,
                    });
                }
                let alpha = rho[j] / pw;
                for i in 0..n {
                    x[j][i] += alpha * p[j][i];
                    r[j][i] -= alpha * wj[i];
                }
                alphas[j].push(alpha);
            }
            let rs: Vec<Vec<f64>> = idx.iter().map(|&j| r[j].clone()).collect();
            let us = self.defl.apply_cols(&rs)?;
            for (&j, u) in idx.iter().zip(us) {
                let rho_new = dotv(&r[j], &u);
                let beta = rho_new / rho[j];
                p[j].iter_mut()
                    .zip(&u)
                    .for_each(|(p, u)| *p = u + beta * *p);
                rho[j] = rho_new;
                betas[j].push(beta);
                if crate::linalg::norm2(&r[j]) <= self.tol * bnorm[j] {
                    active[j] = false;
                }
            }
            hist.push(
                (0..c)
                    .filter(|&j| bnorm[j] > 0.0)
                    .map(|j| crate::linalg::norm2(&r[j]) / bnorm[j])
                    .fold(0.0, f64::max),
            );
        }
        for j in 0..c {
            if alphas[j].len() >= 2 {
                let mu = tridiag_min(&alphas[j], &betas[j])?;
                self.lam.set(self.lam.get().min(mu * self.lam_defl));
            }
        }
        let converged = !active.iter().any(|a| *a);
        if !converged && max_it >= self.max_it {
            self.unconverged.set(self.unconverged.get() + 1);
        }
        Ok(InnerRun {
            x,
            hist,
            converged,
            secs: t0.elapsed().as_secs_f64(),
            iters,
        })
    }

    fn apply_cols(&self, rs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        let mut out: Vec<Option<Vec<f64>>> = {
            let cache = self.cache.borrow();
            rs.iter()
                .map(|r| cache.iter().find(|(b, _)| b == r).map(|(_, x)| x.clone()))
                .collect()
        };
        let miss: Vec<usize> = (0..rs.len()).filter(|&j| out[j].is_none()).collect();
        if !miss.is_empty() {
            let bs: Vec<Vec<f64>> = miss.iter().map(|&j| rs[j].clone()).collect();
            let run = self.solve(&bs, None, self.max_it)?;
            for (&j, x) in miss.iter().zip(run.x) {
                out[j] = Some(x);
            }
        }
        Ok(out
            .into_iter()
            .map(|x| x.expect("every column solved or cached"))
            .collect())
    }
}

/// What the measured trial decided: the inner-CG preconditioner, or the f32
/// kernel handed back (for the Cholesky route when stored whole); plus a line
/// saying why.
enum Trial<'a> {
    Spectral(Box<InnerCg<'a>>),
    Other(F32Kernel<'a>),
}

/// ‖K − K₃₂‖ per entry, measured: the rms of f64 minus f32 entries over two
/// sampled tiles (the leading diagonal tile and the last tile row's first tile).
fn f32_entry_rms(k: &dyn TileKernel, a: &F32Kernel<'_>, n: usize) -> Result<f64> {
    let mut sum = 0.0;
    let mut cnt = 0usize;
    let nb = n_blocks(n);
    for (bi, bj) in [(0, 0), (nb - 1, 0)] {
        let (t32, r, c) = a.tile(bi, bj, n)?;
        let mut t = vec![0.0f64; r * c];
        k.tile_f64(block(bi, n), block(bj, n), &mut t)?;
        for (x, y) in t.iter().zip(&t32) {
            let e = x - *y as f64;
            sum += e * e;
            cnt += 1;
        }
    }
    Ok((sum / cnt as f64).sqrt())
}

/// The spectral-cg preconditioner on the f32 path, or (in `auto`) the Cholesky
/// route when it is predicted faster: a trial of the inner CG on the labels and
/// a random probe for [`TRIAL_INNER`] iterations gives the iteration time and the
/// convergence rate, extrapolated to the inner tolerance; the Cholesky's cost is
/// a timed f32 Cholesky of the leading s × s block scaled by (n/s)³ plus the
/// triangular solves (about two passes over the factor each). An estimated
/// λ_min(K₃₂) not above the f32 rounding bound, or an extrapolation beyond
/// [`MAX_INNER`] iterations, means ill-conditioned: Cholesky in `auto`, the
/// [`Error::IllConditioned`] error when spectral-cg is forced.
#[allow(clippy::too_many_arguments)]
fn spectral_cg_trial<'a>(
    k: &dyn TileKernel,
    a: F32Kernel<'a>,
    spec: &Spectrum,
    ys: &Matrix<f64>,
    cfg: &LargeNConfig,
    theta1: f64,
    chol_shift: f64,
) -> Result<(Trial<'a>, String)> {
    let _pt = ProfTimer::new("spectral-cg trial");
    let (n, nl) = ys.shape();
    let forced = cfg.precond == PrecondChoice::SpectralCg;
    let e_bound = 2.0 * n as f64 * f32_entry_rms(k, &a, n)?;
    let sigma = *spec.vals.last().expect("k' >= 1");
    let lam_defl = spec.vals.iter().cloned().fold(sigma, f64::min);
    let ic = InnerCg {
        k: a,
        n,
        defl: Precond::Spectral {
            v: spec.vecs.clone(),
            vals: spec.vals.clone(),
            sigma,
        },
        lam_defl,
        tol: (0.1 * cfg.tol.sqrt()).clamp(1e-5, 1e-3),
        max_it: MAX_INNER,
        e_bound,
        lam: std::cell::Cell::new(f64::INFINITY),
        products: std::cell::Cell::new(0),
        unconverged: std::cell::Cell::new(0),
        cache: std::cell::RefCell::new(Vec::new()),
    };
    let mut rng = crate::rng::stream(cfg.seed, "large-n inner cg probe");
    let mut bs: Vec<Vec<f64>> = (0..nl).map(|l| col(ys, l)).collect();
    bs.push((0..n).map(|_| crate::rng::normal(&mut rng)).collect());
    let run = ic.solve(&bs, None, TRIAL_INNER)?;
    let t_it = run.secs / run.iters.max(1) as f64;
    // extrapolated iterations to the inner tolerance from the last ≤ 10 steps
    let h = &run.hist;
    let predicted = if run.converged {
        run.iters as f64
    } else {
        let w = 10.min(h.len().saturating_sub(1));
        if w == 0 {
            return Ok((Trial::Other(ic.k), "spectral-cg trial too short".into()));
        }
        let last = h[h.len() - 1];
        let rate = (last / h[h.len() - 1 - w].max(f64::MIN_POSITIVE)).powf(1.0 / w as f64);
        if rate < 1.0 && last > 0.0 {
            run.iters as f64 + (ic.tol / last).ln() / rate.ln()
        } else {
            f64::INFINITY
        }
    };
    let lam32 = ic.lam.get();
    let lam = ic.lambda_safe();
    let ill = lam.is_nan() || lam <= 0.0 || predicted > MAX_INNER as f64;
    let t_spec = t_it * ((predicted - run.iters as f64).max(0.0) + OUTER_APPLIES * predicted);
    let (t_chol, s) = match &ic.k {
        _ if forced || ill => (f64::NAN, 0),
        // no Cholesky without the whole kernel: the alternative is the spectral
        // preconditioner with f64 products, one f64 pass per outer iteration
        F32Kernel::Tiles(_) => (f64::INFINITY, 0),
        F32Kernel::Full(a) => {
            // a timed Cholesky of the leading s × s block, shifted like the route's
            let s = n.min(2048);
            let mut blk: Vec<f32> = (0..s * s).map(|x| a[(x / s) * n + x % s]).collect();
            for i in 0..s {
                blk[i * s + i] += chol_shift as f32;
            }
            let t = std::time::Instant::now();
            let _ = chol_in_place_f32(&mut blk, s);
            let ts = t.elapsed().as_secs_f64();
            (
                ts * (n as f64 / s as f64).powi(3) + (60.0 + 2.0 * OUTER_APPLIES) * t_it,
                s,
            )
        }
    };
    let tiles = matches!(ic.k, F32Kernel::Tiles(_));
    let chol = if s > 0 {
        format!("Cholesky of a {s}-block scaled to n: {t_chol:.1} s")
    } else if tiles {
        "no Cholesky (the kernel is held as tiles, not stored)".to_string()
    } else {
        "Cholesky not timed".to_string()
    };
    let note = format!(
        "spectral-cg trial: {} inner iterations at {t_it:.3} s, rel. residual {:.1e}, \
         extrapolated {predicted:.0} iterations to {:.0e} (predicted {t_spec:.1} s); \
         {chol}; lambda_min(K32) ~ {lam32:.3e}, f32 rounding bound {e_bound:.1e}",
        run.iters,
        h.last().copied().unwrap_or(0.0),
        ic.tol
    );
    if forced && ill {
        let cond = theta1 / lam.max(e_bound).max(f64::MIN_POSITIVE);
        // the alternative: the f32 Cholesky where the kernel is stored, else the
        // spectral preconditioner with f64 products that auto falls back to
        let (kernel, alt) = if tiles {
            (
                "f32 tiles",
                "use --precond auto (spectral preconditioner, f64 products)",
            )
        } else {
            ("stored f32 kernel", "use --precond cholesky")
        };
        return Err(Error::IllConditioned {
            what: format!("the {kernel} for the spectral-cg preconditioner ({note}); {alt}"),
            cond,
            achieved: f64::INFINITY,
            tol: cfg.tol,
        });
    }
    if !forced && (ill || t_chol <= t_spec) {
        return Ok((Trial::Other(ic.k), note));
    }
    // finish the labels' solves from the trial's iterates; they are the outer
    // solve's first preconditioner application
    let xl: Vec<Vec<f64>> = run.x[..nl].to_vec();
    let sol = if h.last().is_some_and(|&r| r <= ic.tol) {
        xl
    } else {
        ic.solve(&bs[..nl], Some(&xl), MAX_INNER)?.x
    };
    *ic.cache.borrow_mut() = bs.into_iter().take(nl).zip(sol).collect();
    Ok((Trial::Spectral(Box::new(ic)), note))
}

/// Largest eigenvalue of a symmetric positive operator by `steps` of Lanczos
/// with full reorthogonalization (an estimate from below that converges fast).
pub fn lanczos_largest(
    n: usize,
    steps: usize,
    seed: u64,
    mut apply: impl FnMut(&[f64]) -> Result<Vec<f64>>,
) -> Result<f64> {
    let mut rng = crate::rng::stream(seed, "large-n lanczos lambda_min");
    let mut q: Vec<f64> = (0..n).map(|_| crate::rng::normal(&mut rng)).collect();
    let nq = crate::linalg::norm2(&q);
    q.iter_mut().for_each(|v| *v /= nq);
    let mut basis: Vec<Vec<f64>> = vec![q];
    let mut alpha = Vec::new();
    let mut beta: Vec<f64> = Vec::new();
    for _ in 0..steps.min(n) {
        check_interrupt()?;
        let qj = basis.last().expect("basis starts non-empty").clone();
        let mut w = apply(&qj)?;
        alpha.push(dotv(&w, &qj));
        for _ in 0..2 {
            for b in &basis {
                let c = dotv(&w, b);
                w.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
            }
        }
        let nb = crate::linalg::norm2(&w);
        if nb <= 1e-14 * alpha[0].abs() || basis.len() == n {
            break;
        }
        beta.push(nb);
        w.iter_mut().for_each(|x| *x /= nb);
        basis.push(w);
    }
    let m = alpha.len();
    let t = Matrix::from_fn(m, m, |i, j| {
        if i == j {
            alpha[i]
        } else if i + 1 == j || j + 1 == i {
            beta[i.min(j)]
        } else {
            0.0
        }
    });
    Ok(sym_eigenvalues(&t)?[0])
}

// ------------------------------------------------------ conjugate gradients

struct CgOut {
    q: f64,
    rel_err: f64,
    lambda_min: f64,
    iters: usize,
}

pub fn tridiag_min(alpha: &[f64], beta: &[f64]) -> Result<f64> {
    // Lanczos matrix of the preconditioned operator from CG's coefficients.
    let m = alpha.len();
    let t = Matrix::from_fn(m, m, |i, j| {
        if i == j {
            1.0 / alpha[i]
                + if i > 0 {
                    beta[i - 1] / alpha[i - 1]
                } else {
                    0.0
                }
        } else if i + 1 == j || j + 1 == i {
            let a = i.min(j);
            beta[a].sqrt() / alpha[a]
        } else {
            0.0
        }
    });
    Ok(*sym_eigenvalues(&t)?
        .last()
        .expect("a non-empty tridiagonal matrix has eigenvalues"))
}

/// Preconditioned CG for K z_l = y_l, all labels at once, as a state machine
/// driven by [`f64_passes`]: every pass multiplies K by the search directions
/// and by the current iterates together (one tile recomputation for both), so
/// the residual r = y − Kz is re-anchored to a direct f64 product every pass
/// and the convergence test ‖r‖²/(λ̂_min q) ≤ tol needs no extra product: after
/// the update z' = z + αp the residual y − Kz − αKp is the true residual of z'
/// up to one axpy's rounding.
struct Cg<'a> {
    pre: &'a Precond<'a>,
    y: Vec<Vec<f64>>,
    z: Vec<Vec<f64>>,
    r: Vec<Vec<f64>>,
    p: Vec<Vec<f64>>,
    rho: Vec<f64>,
    alphas: Vec<Vec<f64>>,
    betas: Vec<Vec<f64>>,
    iters: Vec<usize>,
    done: Vec<Option<CgOut>>,
    nl: usize,
    lam: f64,
    lam_m: f64,
    tol: f64,
    probe_live: bool,
    /// A label's direction had pᵀKp ≤ 0: K is not positive definite (numerically).
    broke: bool,
    passes: usize,
    max_iter: usize,
    /// The columns of the pending product: (column kind, label index).
    cols: Vec<(bool, usize)>,
    /// Flexible CG (the inner-CG preconditioner is inexact and varies): α = pᵀr/pᵀKp,
    /// Polak–Ribière β = uᵀ(r − r_prev)/ρ_prev, λ_min from the preconditioner.
    flex: bool,
    /// The residuals the preconditioner was last applied to (flexible CG).
    r_prev: Vec<Vec<f64>>,
}

impl<'a> Cg<'a> {
    fn new(
        pre: &'a Precond<'a>,
        ys: &Matrix<f64>,
        lam_m: f64,
        tol: f64,
        max_iter: usize,
        seed: u64,
    ) -> Result<Self> {
        let (n, nl) = ys.shape();
        // Column nl is a random probe: its CG recurrence estimates λ_min for every
        // direction, including near-null ones the labels happen to miss (a label
        // vector orthogonal to a near-duplicate direction must not hide it).
        let mut rng = crate::rng::stream(seed, "large-n cg probe");
        let mut y: Vec<Vec<f64>> = (0..nl).map(|l| col(ys, l)).collect();
        y.push((0..n).map(|_| crate::rng::normal(&mut rng)).collect());
        let nc = nl + 1;
        let r = y.clone();
        let flex = pre.inner_lambda().is_some();
        let u = if flex {
            // no probe: λ_min comes from the inner CG's own Lanczos coefficients
            let mut u = pre.apply_cols(&r[..nl])?;
            u.push(vec![0.0; n]);
            u
        } else {
            pre.apply_cols(&r)?
        };
        let rho = (0..nc).map(|l| dotv(&r[l], &u[l])).collect();
        Ok(Cg {
            flex,
            r_prev: if flex { r.clone() } else { Vec::new() },
            pre,
            z: vec![vec![0.0; n]; nc],
            r,
            p: u,
            rho,
            alphas: vec![Vec::new(); nc],
            betas: vec![Vec::new(); nc],
            iters: vec![0; nc],
            done: (0..nc).map(|_| None).collect(),
            y,
            nl,
            lam: pre.inner_lambda().unwrap_or(f64::INFINITY),
            lam_m,
            tol,
            probe_live: !flex,
            broke: false,
            passes: 0,
            max_iter,
            cols: Vec::new(),
        })
    }

    fn estimate(q: f64, rr: f64, lam: f64) -> f64 {
        if q > 0.0 && lam > 0.0 {
            rr / (lam * q)
        } else {
            f64::INFINITY
        }
    }

    /// The vectors K must multiply next (directions, then iterates), or `None`
    /// when every label is done, K broke definiteness, or the pass cap is reached.
    fn wants(&mut self) -> Option<Vec<&[f64]>> {
        self.cols.clear();
        let nl = self.nl;
        let active: Vec<usize> = (0..nl).filter(|&l| self.done[l].is_none()).collect();
        if active.is_empty() || self.broke || self.passes >= self.max_iter {
            return None;
        }
        for &l in &active {
            self.cols.push((true, l));
        }
        if self.probe_live {
            self.cols.push((true, nl));
        }
        for &l in &active {
            if self.iters[l] > 0 {
                self.cols.push((false, l));
            }
        }
        Some(
            self.cols
                .iter()
                .map(|&(dir, l)| {
                    if dir {
                        self.p[l].as_slice()
                    } else {
                        self.z[l].as_slice()
                    }
                })
                .collect(),
        )
    }

    /// Takes the products of the columns [`Cg::wants`] returned, in that order.
    fn absorb(&mut self, prods: &[Vec<f64>]) -> Result<()> {
        self.passes += 1;
        let nl = self.nl;
        let cols = std::mem::take(&mut self.cols);
        // re-anchor: r = y − Kz from the direct product
        for (&(dir, l), kz) in cols.iter().zip(prods) {
            if !dir {
                let (y, r) = (&self.y[l], &mut self.r[l]);
                r.iter_mut()
                    .zip(y.iter().zip(kz))
                    .for_each(|(r, (y, k))| *r = y - k);
            }
        }
        let mut updated = Vec::new();
        for (&(dir, l), w) in cols.iter().zip(prods) {
            if !dir {
                continue;
            }
            let pw = dotv(&self.p[l], w);
            if pw.is_nan() || pw <= 0.0 {
                if l == nl {
                    // the probe's direction vanished (Krylov space exhausted) or
                    // K is not positive definite along it
                    self.probe_live = false;
                    if pw < 0.0 {
                        self.lam = self.lam.min(0.0);
                    }
                } else {
                    self.lam = self.lam.min(0.0);
                    self.broke = true;
                }
                continue;
            }
            let alpha = if self.flex {
                dotv(&self.p[l], &self.r[l]) / pw
            } else {
                self.rho[l] / pw
            };
            let (z, r, p) = (&mut self.z[l], &mut self.r[l], &self.p[l]);
            for i in 0..z.len() {
                z[i] += alpha * p[i];
                r[i] -= alpha * w[i];
            }
            self.alphas[l].push(alpha);
            self.iters[l] += 1;
            updated.push(l);
        }
        // one block preconditioner solve for every updated column
        let rs: Vec<Vec<f64>> = updated.iter().map(|&l| self.r[l].clone()).collect();
        let us = self.pre.apply_cols(&rs)?;
        for (&l, u) in updated.iter().zip(us) {
            let rho_new = dotv(&self.r[l], &u);
            let beta = if self.flex {
                let b = (rho_new - dotv(&self.r_prev[l], &u)) / self.rho[l];
                self.r_prev[l].clone_from(&self.r[l]);
                b
            } else {
                rho_new / self.rho[l]
            };
            self.p[l]
                .iter_mut()
                .zip(&u)
                .for_each(|(p, u)| *p = u + beta * *p);
            self.rho[l] = rho_new;
            self.betas[l].push(beta);
            if let Some(lam) = self.pre.inner_lambda() {
                // the inner runs on the outer residuals may lower the estimate
                self.lam = self.lam.min(lam);
            } else {
                let mu = tridiag_min(&self.alphas[l], &self.betas[l])?;
                self.lam = self.lam.min(mu * self.lam_m);
            }
            if l == nl && rho_new <= 1e-28 * dotv(&self.y[l], &self.y[l]) {
                self.probe_live = false;
            }
        }
        for &l in &updated {
            if l < nl {
                let q = dotv(&self.y[l], &self.z[l]) + dotv(&self.z[l], &self.r[l]);
                let est = Self::estimate(q, dotv(&self.r[l], &self.r[l]), self.lam);
                if est <= self.tol {
                    self.done[l] = Some(CgOut {
                        q,
                        rel_err: est,
                        lambda_min: self.lam,
                        iters: self.iters[l],
                    });
                }
            }
        }
        Ok(())
    }

    /// The results, or the ill-conditioning error naming the estimated condition.
    fn finish(self, theta1: f64) -> Result<Vec<CgOut>> {
        let (lam, tol, nl) = (self.lam, self.tol, self.nl);
        let mut out = Vec::with_capacity(nl);
        for (l, d) in self.done.into_iter().take(nl).enumerate() {
            match d {
                Some(mut o) if o.lambda_min > 0.0 && lam > 0.0 => {
                    // the probe may have lowered λ_min after this label finished
                    let rr = o.rel_err * o.q * o.lambda_min;
                    o.rel_err = o.rel_err.max(Self::estimate(o.q, rr, lam));
                    o.lambda_min = lam;
                    if o.rel_err > tol {
                        return Err(Error::IllConditioned {
                            what: format!("y^T K^-1 y for label vector {l}"),
                            cond: theta1 / lam,
                            achieved: o.rel_err,
                            tol,
                        });
                    }
                    out.push(o);
                }
                _ => {
                    let q = dotv(&self.y[l], &self.z[l]) + dotv(&self.z[l], &self.r[l]);
                    let achieved = Self::estimate(q, dotv(&self.r[l], &self.r[l]), lam);
                    return Err(Error::IllConditioned {
                        what: format!("y^T K^-1 y for label vector {l}"),
                        cond: if lam > 0.0 {
                            theta1 / lam
                        } else {
                            f64::INFINITY
                        },
                        achieved,
                        tol,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// The f64 Rayleigh–Ritz and block-Davidson refinement of the f32 Ritz block, as
/// a state machine driven by [`f64_passes`]: first K times the Ritz block, then
/// K times the orthonormalized f64 residuals of the pairs whose estimated error
/// ‖r_i‖²/gap_i still exceeds 1e-11·θ_i (only those: the others are final).
struct Refine {
    vals: Vec<f64>,
    vecs: Matrix<f64>,
    resid: Vec<f64>,
    kv: Option<Matrix<f64>>,
    pending: Option<Matrix<f64>>,
    tail_vals: Vec<f64>,
    kk: usize,
    steps: usize,
    /// Unconverged pairs and their worst relative error bound after the last step.
    last: Option<(usize, f64)>,
    rng: crate::rng::WRng,
}

impl Refine {
    fn new(vecs: Matrix<f64>, tail_vals: Vec<f64>, kk: usize, seed: u64) -> Self {
        Refine {
            vals: Vec::new(),
            resid: Vec::new(),
            kv: None,
            pending: Some(vecs.clone()),
            vecs,
            tail_vals,
            kk,
            steps: 0,
            last: None,
            rng: crate::rng::stream(seed, "large-n davidson"),
        }
    }

    fn wants(&self) -> Option<&Matrix<f64>> {
        self.pending.as_ref()
    }

    fn absorb(&mut self, kq: Matrix<f64>) -> Result<()> {
        let q = self.pending.take().expect("absorb follows wants");
        let c = self.vecs.cols();
        let n = self.vecs.rows();
        match self.kv.take() {
            None => {
                let (vals, vecs, resid, kv) = rayleigh_ritz(&q, &kq)?;
                (self.vals, self.vecs, self.resid) = (vals, vecs, resid);
                self.kv = Some(kv);
            }
            Some(kv) => {
                let basis = hstack(&self.vecs, &q);
                let kb = hstack(&kv, &kq);
                let (v2, x2, r2, kv2) = rayleigh_ritz(&basis, &kb)?;
                self.vals = v2[..c].to_vec();
                self.vecs = Matrix::from_fn(n, c, |i, j| x2.get(i, j));
                self.kv = Some(Matrix::from_fn(n, c, |i, j| kv2.get(i, j)));
                self.resid = r2[..c].to_vec();
                self.steps += 1;
            }
        }
        if self.steps >= DAVIDSON_STEPS {
            return Ok(());
        }
        // Estimated eigenvalue error (quadratic residual bounds): where it exceeds
        // 1e-11·θ_i, expand.
        let vals = &self.vals;
        let bounds = ritz_error_bounds(vals, &self.resid, &self.tail_vals, self.kk.min(c));
        let bad: Vec<usize> = (0..self.kk.min(c))
            .filter(|&i| bounds[i] > 1e-11 * vals[i].abs())
            .collect();
        let worst = bad
            .iter()
            .map(|&i| bounds[i] / vals[i].abs())
            .fold(0.0, f64::max);
        // a step that did not cut the worst bound tenfold will not reach the target
        // in the steps left (each costs a full f64 pass over the kernel's tiles):
        // stop (f64 rounding of the products, or a cluster split across the edge
        // of the block); the residuals reached are reported either way
        let stalled = self.last.is_some_and(|(_, w)| worst > 0.1 * w);
        self.last = Some((bad.len(), worst));
        if profiling() {
            let res = (0..self.kk.min(c))
                .map(|i| self.resid[i] / self.vals[0].abs())
                .fold(0.0, f64::max);
            eprintln!(
                "[profile] refinement step {}: {} of {} pairs above the error target \
                 (worst bound/theta {worst:.1e}), max rel. residual {res:.1e}",
                self.steps,
                bad.len(),
                self.kk.min(c)
            );
        }
        if bad.is_empty() || stalled {
            return Ok(());
        }
        let kv = self.kv.as_ref().expect("set above");
        let r = Matrix::from_fn(n, bad.len(), |i, a| {
            let j = bad[a];
            kv.get(i, j) - vals[j] * self.vecs.get(i, j)
        });
        let (qr, _) = orthonormalize(r, std::slice::from_ref(&self.vecs), 0.0, &mut self.rng)?;
        self.pending = Some(qr);
        Ok(())
    }
}

/// Estimated errors of the Ritz values θ_i, i < `kk` (`vals` descending, with
/// residual norms `resid`; `tail` the further Ritz values below them): the
/// smallest quadratic residual bound ‖R_C‖²_F/gap_C over windows C ∋ i of up to
/// 32 consecutive Ritz values, gap_C the distance from C to its nearest outside
/// neighbours. A window of one is the usual ‖r_i‖²/gap_i; wider windows keep the
/// members of a tight cluster (whose own gaps are tiny) from counting as
/// unconverged when the cluster as a whole is well separated: the block form of
/// the quadratic residual bound (Mathias, Linear Algebra Appl. 1998), with the
/// outside spectrum represented by the other Ritz values as for a single pair.
fn ritz_error_bounds(vals: &[f64], resid: &[f64], tail: &[f64], kk: usize) -> Vec<f64> {
    const WINDOW: usize = 32;
    let c = vals.len();
    let all: Vec<f64> = vals.iter().chain(tail).cloned().collect();
    let mut pre = vec![0.0; c + 1];
    for i in 0..c {
        pre[i + 1] = pre[i] + resid[i] * resid[i];
    }
    (0..kk.min(c))
        .map(|i| {
            let mut best = f64::INFINITY;
            for a in i.saturating_sub(WINDOW - 1)..=i {
                for b in i..c.min(a + WINDOW) {
                    let left = if a > 0 {
                        (all[a - 1] - all[a]).abs()
                    } else {
                        f64::INFINITY
                    };
                    let right = if b + 1 < all.len() {
                        (all[b] - all[b + 1]).abs()
                    } else {
                        f64::INFINITY
                    };
                    let gap = left.min(right);
                    if gap > 0.0 {
                        best = best.min((pre[b + 1] - pre[a]) / gap);
                    }
                }
            }
            best
        })
        .collect()
}

/// The f64 passes after the Krylov phase: each pass recomputes the kernel's tiles
/// once (or reads the stored f64 kernel) and applies them to every column the
/// refinement and the conjugate gradients want, so the tile cost is paid
/// max(passes of either) times rather than their sum. Returns the number of
/// product columns.
fn f64_passes(
    op: &Op<'_>,
    mut refine: Option<&mut Refine>,
    cg: &mut Cg<'_>,
    n: usize,
    show: bool,
    bar: &indicatif::ProgressBar,
) -> Result<usize> {
    let mut columns = 0;
    loop {
        let cg_cols: Vec<Vec<f64>> = cg
            .wants()
            .map(|v| v.into_iter().map(|c| c.to_vec()).collect())
            .unwrap_or_default();
        let rf = refine.as_deref().and_then(|r| r.wants());
        let rc = rf.map_or(0, |m| m.cols());
        if cg_cols.is_empty() && rc == 0 {
            return Ok(columns);
        }
        let nc = cg_cols.len();
        let m = Matrix::from_fn(n, rc + nc, |i, j| {
            if j < rc {
                rf.expect("rc > 0").get(i, j)
            } else {
                cg_cols[j - rc][i]
            }
        });
        let km = op.apply(&m, show && n >= 20_000)?;
        bar.inc(1);
        columns += rc + nc;
        if let Some(r) = refine.as_deref_mut() {
            if rc > 0 {
                r.absorb(Matrix::from_fn(n, rc, |i, j| km.get(i, j)))?;
            }
        }
        if nc > 0 {
            let prods: Vec<Vec<f64>> = (0..nc).map(|j| col(&km, rc + j)).collect();
            cg.absorb(&prods)?;
        }
    }
}

// ------------------------------------------------------------ eq. 8 parts

pub fn loss_curves(
    top: &[(f64, f64)],
    tail: &[(f64, f64)],
    rest: f64,
    lam_k: f64,
    eta: f64,
    iters: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let tail_sum: f64 = tail.iter().map(|t| t.1).sum();
    let scale = if tail_sum > 0.0 { rest / tail_sum } else { 0.0 };
    let mut top_t: Vec<f64> = top.iter().map(|t| t.1).collect();
    let top_r: Vec<f64> = top.iter().map(|t| (1.0 - eta * t.0).powi(2)).collect();
    let mut tail_t: Vec<f64> = tail.iter().map(|t| t.1 * scale).collect();
    let tail_r: Vec<f64> = tail.iter().map(|t| (1.0 - eta * t.0).powi(2)).collect();
    let rk = (1.0 - eta * lam_k).powi(2);
    let mut gk = 1.0; // (1 − ηλ_k)^{2t}
    let (mut mid, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
    for t in 0..=iters {
        if t > 0 {
            top_t.iter_mut().zip(&top_r).for_each(|(a, r)| *a *= r);
            tail_t.iter_mut().zip(&tail_r).for_each(|(a, r)| *a *= r);
            gk *= rk;
        }
        let top_sum: f64 = top_t.iter().sum();
        let tail_mass = if tail_sum > 0.0 {
            tail_t.iter().sum::<f64>()
        } else {
            rest * gk
        };
        // over λ ∈ [0, λ_k]: max of (1 − ηλ)^{2t} is at an end point; the min is 0
        // when 1/η lies inside, else at λ_k
        let gmax = gk.max(1.0);
        let gmin = if eta * lam_k >= 1.0 { 0.0 } else { gk };
        mid.push(0.5 * (top_sum + tail_mass));
        lo.push(0.5 * (top_sum + rest * gmin));
        hi.push(0.5 * (top_sum + rest * gmax));
    }
    (mid, lo, hi)
}

// ----------------------------------------------------------------- driver

/// Seed 001's analysis of the kernel `k` for the label vectors `labels`
/// (each of length n): top-k eigenpairs, projections and captured fraction,
/// yᵀK⁻¹y and the complexity measure to `cfg.tol`, and eq. 8's predicted loss.
pub fn analyze_kernel<L: AsRef<[f64]>>(
    k: &dyn TileKernel,
    labels: &[L],
    cfg: &LargeNConfig,
) -> Result<LargeNAnalysis> {
    let labels: Vec<&[f64]> = labels.iter().map(|l| l.as_ref()).collect();
    let n = k.n();
    if n < 2 {
        return Err(Error::invalid(
            "n",
            format!("need at least 2 samples, got {n}"),
        ));
    }
    if labels.is_empty() {
        return Err(Error::invalid("y", "no label vector given"));
    }
    for (l, y) in labels.iter().enumerate() {
        if y.len() != n {
            return Err(Error::Shape(format!(
                "label vector {l} has length {} against a {n}x{n} kernel",
                y.len()
            )));
        }
        if !y.iter().all(|v| v.is_finite()) || y.iter().all(|v| *v == 0.0) {
            return Err(Error::invalid(
                "y",
                format!("label vector {l} must be finite and not all zero"),
            ));
        }
    }
    if cfg.top_k == 0 || cfg.top_k > n {
        return Err(Error::invalid(
            "top-k",
            format!("must be in 1..={n}, got {}", cfg.top_k),
        ));
    }
    if !(cfg.tol > 0.0 && cfg.tol < 1.0) {
        return Err(Error::invalid(
            "tol",
            format!("must lie in (0, 1), got {}", cfg.tol),
        ));
    }
    if !(cfg.eta > 0.0 && cfg.eta.is_finite()) {
        return Err(Error::invalid(
            "eta",
            format!("must be positive, got {}", cfg.eta),
        ));
    }
    let kk = cfg.top_k;
    let kp = oversample(kk, n);
    let nl = labels.len();
    let show = cfg.show_progress && n >= 5_000;
    let path = cfg
        .path
        .unwrap_or_else(|| choose_path(n, kk, nl, cfg.block, memory_budget()));
    let b = cfg
        .block
        .unwrap_or_else(|| default_block(kk, nl, path))
        .clamp(1, n);
    let m_cap = basis_cap(kk, n, b);
    let need = path_bytes(path, n, m_cap);
    check_alloc(
        &format!("the {} path at n = {n} (basis {m_cap})", path.name()),
        need,
        1,
    )?;
    let ys = Matrix::from_fn(n, nl, |i, l| labels[l][i]);
    let ynorm = Matrix::from_fn(n, nl, |i, l| labels[l][i] / crate::linalg::norm2(labels[l]));
    let full_eig = path == SolverPath::Dense && 2 * kk >= n;

    let mut timings: Vec<(String, f64)> = Vec::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |name: &str, timings: &mut Vec<(String, f64)>| {
        let dt = clock.elapsed().as_secs_f64();
        if profiling() {
            // as each phase ends, so that a run stopped early still tells its split
            eprintln!("[profile] phase '{name}' done: {dt:.3} s");
        }
        timings.push((name.to_string(), dt));
        clock = std::time::Instant::now();
    };
    // 1. storage
    let dense = if path == SolverPath::Dense {
        Some(dense_f64(k)?)
    } else {
        None
    };
    let mut stored32 = if path == SolverPath::F32 {
        Some(
            prof("kernel storage f32", || {
                dense_with_progress::<f32, _>(k, show)
            })?
            .into_vec(),
        )
    } else {
        None
    };

    // the matrix-free path holds the f32 tiles that fit what the budget leaves
    // after the path's own blocks and the widest product's partial sums: a block
    // Krylov round (b columns) or an f64 pass (the k' Ritz vectors and ≤ 2 CG
    // columns per label plus the probe), its input and output blocks, and 256 MiB
    // for the threads' tiles and small temporaries
    let mut tiles = if path == SolverPath::MatrixFree {
        let cols = b.max(kp + 2 * nl + 1).min(n);
        let reserve = need
            + matvec_scratch_bytes(n, cols)
            + 2 * (n as u128) * (cols as u128) * 8
            + (1u128 << 28);
        let room = (memory_budget() as u128).saturating_sub(reserve);
        let c = prof("kernel tiles f32 (held part)", || {
            TileCache::new(k, room, show)
        })?;
        if profiling() {
            eprintln!(
                "[profile] matrix-free: {:.1}% of the f32 tiles held ({:.2} GB of {:.2} GB)",
                100.0 * c.held_fraction(),
                c.held_bytes() as f64 / 1e9,
                TileCache::full_bytes(n) as f64 / 1e9
            );
        }
        Some(c)
    } else {
        None
    };
    lap("storage", &mut timings);
    // 2. the spectrum
    let spec = if full_eig {
        let kd = dense.as_ref().expect("dense path stores the kernel");
        let e = sym_eigen(kd)?;
        let vecs = Matrix::from_fn(n, kp, |i, j| e.vectors.get(i, j));
        let proj: Vec<Vec<f64>> = (0..nl)
            .map(|l| e.project(labels[l]))
            .collect::<Result<_>>()?;
        Spectrum {
            vals: e.values[..kp].to_vec(),
            vecs,
            resid: vec![0.0; kp],
            tail_vals: e.values[kp..].to_vec(),
            tail_weights: proj
                .iter()
                .map(|p| p[kp..].iter().map(|v| v * v).collect())
                .collect(),
            converged: true,
            basis: 0,
            products: 0,
        }
    } else {
        let (op, rtol) = match path {
            SolverPath::Dense => (Op::Dense(dense.as_ref().expect("stored")), 1e-9),
            SolverPath::F32 => (
                Op::F32 {
                    k: stored32.as_deref().expect("stored"),
                    n,
                },
                2e-6,
            ),
            // f32 products on held or recomputed tiles, refined in f64 below like
            // the f32 path's
            SolverPath::MatrixFree => (Op::Tiles(tiles.as_ref().expect("built above")), 2e-6),
        };
        block_lanczos(&op, n, &ynorm, kk, kp, b, m_cap, rtol, cfg.seed, show)?
    };
    // On the f32 path the Ritz block is f32-accurate here; its f64 Rayleigh–Ritz
    // shares the f64 passes with the solve below (θ_1 to f32 accuracy suffices
    // for the preconditioner's messages).
    let mut spec = spec;
    let theta1 = spec.vals[0];
    lap("spectrum (Krylov)", &mut timings);
    // 3. the preconditioner (the f32 kernel is factored in place: the Krylov
    // phase no longer needs it, and the kernel is never held twice)
    let mut pre_name = match path {
        SolverPath::Dense => "cholesky-f64",
        SolverPath::F32 => "cholesky-f32",
        SolverPath::MatrixFree => "spectral",
    };
    let mut pre_inner: Option<Precond> = None;
    let pre = match path {
        SolverPath::Dense => {
            let kd = dense.as_ref().expect("stored");
            check_alloc("f64 Cholesky factor", (n * n) as u128, 8)?;
            let mut a = kd.as_slice().to_vec();
            let max_diag = (0..n).map(|i| kd.get(i, i)).fold(0.0, f64::max);
            prof("cholesky f64", || chol_in_place_f64(&mut a, n)).map_err(|f| {
                // a pivot went non-positive: λ_min is below the rounding level n·ε·max K_ii
                let level = n as f64 * f64::EPSILON * max_diag;
                ill_from_pivot(f, theta1, level, n, "f64", cfg.tol)
            })?;
            // a pivot at rounding level means numerically singular (duplicate inputs)
            let min_piv = (0..n)
                .map(|i| a[i * n + i] * a[i * n + i])
                .fold(f64::INFINITY, f64::min);
            if min_piv <= 1e-13 * max_diag {
                return Err(Error::IllConditioned {
                    what: "the kernel (f64 Cholesky pivot at rounding level)".into(),
                    cond: theta1 / min_piv.max(f64::MIN_POSITIVE),
                    achieved: f64::INFINITY,
                    tol: cfg.tol,
                });
            }
            Precond::Chol {
                f: Factor::F64(a),
                n,
            }
        }
        SolverPath::F32 => {
            let a = stored32.take().expect("stored");
            let max_diag = (0..n).map(|i| a[i * n + i] as f64).fold(0.0, f64::max);
            // a shift at f32 rounding level keeps the factorization alive for
            // moderately ill-conditioned kernels; CG with f64 products corrects it
            let shift = 4.0 * f32::EPSILON as f64 * (n as f64).sqrt() * max_diag;
            let mut a = if cfg.precond == PrecondChoice::Cholesky {
                a
            } else {
                let (trial, note) =
                    spectral_cg_trial(k, F32Kernel::Full(a), &spec, &ys, cfg, theta1, shift)?;
                if profiling() {
                    eprintln!("[profile] {note}");
                }
                match trial {
                    Trial::Spectral(ic) => {
                        pre_name = "spectral-cg";
                        pre_inner = Some(Precond::Inner(ic));
                        Vec::new()
                    }
                    Trial::Other(F32Kernel::Full(a)) => a,
                    Trial::Other(F32Kernel::Tiles(_)) => unreachable!("the f32 path stores K"),
                }
            };
            if let Some(p) = pre_inner.take() {
                p
            } else {
                pre_name = "cholesky-f32";
                for i in 0..n {
                    a[i * n + i] += shift as f32;
                }
                prof("cholesky f32", || chol_in_place_f32(&mut a, n)).map_err(|f| {
                    // even the shifted f32 kernel lost definiteness: λ_min(K) ≲ 2·shift
                    ill_from_pivot(f, theta1, 2.0 * shift, n, "f32", cfg.tol)
                })?;
                Precond::Chol {
                    f: Factor::F32(a),
                    n,
                }
            }
        }
        SolverPath::MatrixFree => {
            let spectral = |spec: &Spectrum| Precond::Spectral {
                v: spec.vecs.clone(),
                vals: spec.vals.clone(),
                sigma: *spec.vals.last().expect("k' >= 1"),
            };
            match tiles.take() {
                // --precond cholesky needs the stored kernel: the spectral
                // preconditioner with f64 products is this path's alternative
                Some(c) if cfg.precond != PrecondChoice::Cholesky => {
                    let (trial, note) =
                        spectral_cg_trial(k, F32Kernel::Tiles(c), &spec, &ys, cfg, theta1, 0.0)?;
                    if profiling() {
                        eprintln!("[profile] {note}");
                    }
                    match trial {
                        Trial::Spectral(ic) => {
                            pre_name = "spectral-cg";
                            Precond::Inner(ic)
                        }
                        Trial::Other(_) => spectral(&spec),
                    }
                }
                _ => spectral(&spec),
            }
        }
    };
    lap("preconditioner", &mut timings);
    let lam_m = pre.lambda_min(n, cfg.seed)?;
    lap("preconditioner lambda_min", &mut timings);
    let op64 = match path {
        SolverPath::Dense => Op::Dense(dense.as_ref().expect("stored")),
        _ => Op::Free(k),
    };
    // 4. the f64 passes: Rayleigh–Ritz and Davidson steps of the f32 Ritz block
    // (f32 path) and preconditioned CG, sharing each product
    let mut refine = (path != SolverPath::Dense).then(|| {
        Refine::new(
            std::mem::replace(&mut spec.vecs, Matrix::zeros(0, 0)),
            spec.tail_vals.clone(),
            kk,
            cfg.seed,
        )
    });
    let mut solver = Cg::new(&pre, &ys, lam_m, cfg.tol, cfg.max_cg_iters, cfg.seed)?;
    let bar = progress_bar(
        cfg.max_cg_iters as u64,
        "f64 passes (Rayleigh-Ritz, y^T K^-1 y)",
        show,
    );
    spec.products += f64_passes(&op64, refine.as_mut(), &mut solver, n, show, &bar)?;
    bar.finish_and_clear();
    if let Some(r) = refine {
        spec.vals = r.vals;
        spec.vecs = r.vecs;
        spec.resid = r.resid;
    }
    let cg = solver.finish(theta1)?;
    let inner_cg_products = match &pre {
        Precond::Inner(ic) => {
            if profiling() {
                eprintln!(
                    "[profile] inner cg: {} product columns on the f32 kernel, \
                     {} runs stopped at {MAX_INNER} iterations",
                    ic.products.get(),
                    ic.unconverged.get()
                );
            }
            ic.products.get()
        }
        _ => 0,
    };
    let theta1 = spec.vals[0];
    let lam_k = spec.vals[kk - 1];
    let eig_res = spec.resid[..kk].iter().cloned().fold(0.0, f64::max) / theta1.abs();
    let lam_min = cg
        .iter()
        .map(|c| c.lambda_min)
        .fold(f64::INFINITY, f64::min);
    let cond = theta1 / lam_min;
    // f64 rounding of the products alone perturbs q by about cond·√n·ε relative
    let floor = cond * (n as f64).sqrt() * f64::EPSILON;
    if floor > cfg.tol {
        return Err(Error::IllConditioned {
            what: "y^T K^-1 y (f64 rounding of the kernel alone exceeds the tolerance)".into(),
            cond,
            achieved: floor,
            tol: cfg.tol,
        });
    }

    lap("f64 passes (Rayleigh-Ritz, Davidson, CG)", &mut timings);
    // 4. per label: projections, captured fraction, eq. 8
    let mut out = Vec::with_capacity(nl);
    for (l, y) in labels.iter().enumerate() {
        let mut proj = Matrix::zeros(spec.vecs.cols(), 1);
        gemm_into(
            &mut proj,
            spec.vecs.t(),
            View::row_major(y, n, 1)?,
            1.0,
            false,
        )?;
        let proj = proj.into_vec();
        let y2 = dotv(y, y);
        let top2: f64 = proj[..kk].iter().map(|p| p * p).sum();
        let rest = (y2 - top2).max(0.0);
        let top: Vec<(f64, f64)> = (0..kk).map(|i| (spec.vals[i], proj[i] * proj[i])).collect();
        let mut tail: Vec<(f64, f64)> = (kk..spec.vals.len())
            .map(|i| (spec.vals[i], proj[i] * proj[i]))
            .collect();
        tail.extend(
            spec.tail_vals
                .iter()
                .zip(&spec.tail_weights[l])
                .map(|(a, b)| (*a, *b)),
        );
        let (mid, lo, hi) = loss_curves(&top, &tail, rest, lam_k, cfg.eta, cfg.iters);
        let c = &cg[l];
        out.push(LabelResult {
            projections: proj[..kk].iter().map(|p| p.abs()).collect(),
            captured_fraction: top2 / y2,
            y_hinv_y: c.q,
            complexity_measure: crate::theory::bounds::complexity_measure(c.q, n),
            achieved_rel_error: c.rel_err.max(floor),
            cg_iterations: c.iters,
            predicted_loss: mid,
            predicted_loss_lower: lo,
            predicted_loss_upper: hi,
        });
    }
    print_profile();
    Ok(LargeNAnalysis {
        n,
        path,
        top_k: kk,
        eigenvalues: spec.vals[..kk].to_vec(),
        eig_max_rel_residual: eig_res,
        eig_converged: spec.converged,
        krylov_basis: spec.basis,
        lambda_min_estimate: lam_min,
        condition_estimate: cond,
        tol: cfg.tol,
        eta: cfg.eta,
        max_stable_eta: 2.0 / theta1,
        labels: out,
        timings,
        krylov_products: spec.products,
        preconditioner: pre_name.to_string(),
        inner_cg_products,
    })
}

fn ill_from_pivot(f: CholFail, theta1: f64, level: f64, n: usize, prec: &str, tol: f64) -> Error {
    Error::IllConditioned {
        what: format!(
            "the kernel ({prec} Cholesky preconditioner broke down at pivot {} of {n})",
            f.index
        ),
        cond: theta1 / level.max(f64::MIN_POSITIVE),
        achieved: f64::INFINITY,
        tol,
    }
}
