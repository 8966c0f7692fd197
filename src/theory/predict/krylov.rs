//! The large-n path of gradient-descent predictions: no eigendecomposition of the
//! n × n kernel, only products with it through the large-n solvers'
//! [`LinearOperator`] (a stored matrix, or tiles recomputed from the inputs).
//!
//! With K' = K + ridge·I and R = Y − f₀(X), the parent module's outputs need e_t(K')R
//! and g_t(K')R for every time t. They are computed in one subspace
//! W = [V, Q₁, …, Q_j] (orthonormal, n × m):
//!
//! 1. **Top-k deflation.** V holds the top k' Ritz vectors of K from the large-n block
//!    Lanczos ([`crate::theory::large_n`], started from R). They enter W exactly, so
//!    the directions of the largest eigenvalues — where e^{−ηtK'} varies fastest and
//!    gradient descent first fits the labels — are represented with no Krylov error.
//! 2. **The remaining space.** Block Lanczos on K' with full reorthogonalization
//!    against W (the large-n `orthonormalize`), started from R with V projected out,
//!    adds Q₁, Q₂, …; T = Wᵀ K' W is assembled from the products (its V block is
//!    diag(θ + ridge), exact since V = Q_L U for the Lanczos basis Q_L with T_L U = U Θ).
//!    The Galerkin approximation f(K')R ≈ W f(T) WᵀR (Golub & Meurant, *Matrices,
//!    Moments and Quadrature*, ch. 7) is exact once W is invariant; one subspace serves
//!    every t and every output. For f = 1/λ (t = ∞, kernel ridge regression) it is the
//!    block CG iterate, deflated of the top k'.
//! 3. **t = ∞ on a stored kernel**: an f64 Cholesky factorization of K' instead
//!    (sequential, so bit-identical at any thread count).
//!
//! The residual K'V − VΘ of the Ritz vectors is not in W, so it sets a floor under the
//! achievable accuracy: the top-k phase runs to a relative Ritz residual of `tol`
//! (clamped to [1e-10, 1e-3]). The subspace phase runs on a pool of [`KRYLOV_THREADS`]
//! threads whatever `RAYON_NUM_THREADS` is: the dense GEMMs and QR factorizations split
//! their work by the pool's size, so the results are bit-identical at any thread count.
//!
//! **Accuracy, reported per time and output (`achieved_rel_error`).** Since W is
//! orthonormal, the change of W f(T)WᵀR between the subspace now and the one
//! [`CHECK_EVERY`] blocks earlier is the norm of the change of its coefficients; that
//! change relative to the approximation is the estimate, and for t = ∞ it is raised to
//! the residual bound ‖R − K'Z‖/(θ_min‖Z‖) (the residual from the block recurrence,
//! θ_min the smallest Ritz value). The iteration stops when every estimate is below
//! `tol`. The Cholesky solve reports the change one step of iterative refinement makes.

use super::{check_shape, Cov, Dynamics, GdPrediction, TestTest};
use crate::error::{Error, Result};
use crate::kernels::tile::{TileElem, TileKernel, TILE};
use crate::linalg::{gemm_into, matmul, norm2, sym_eigen, Cholesky, Matrix};
use crate::runtime::{check_interrupt, progress_bar};
use crate::theory::large_n::krylov::{block_lanczos, orthonormalize, Basis, ProjectOut};
use crate::theory::large_n::operator::{LinearOperator, Precision};
use rayon::prelude::*;

/// Block steps between convergence checks (and the lag of the error estimate).
pub const CHECK_EVERY: usize = 4;

/// Threads of the subspace phase, whatever RAYON_NUM_THREADS says (see the module docs).
pub const KRYLOV_THREADS: usize = 8;

/// Settings of the large-n path.
#[derive(Clone, Debug)]
pub struct KrylovConfig {
    /// Requested relative accuracy of every prediction.
    pub tol: f64,
    /// Top eigenpairs deflated (at most n/4 are used; none below n = 100).
    pub top_k: usize,
    /// Most columns of the Krylov basis beyond the top-k vectors.
    pub max_basis: usize,
    /// Seed of the random part of the top-k phase's starting block.
    pub seed: u64,
    /// Progress bars (with ETA) on stderr.
    pub show_progress: bool,
}

impl Default for KrylovConfig {
    fn default() -> Self {
        KrylovConfig {
            tol: 1e-6,
            top_k: 50,
            max_basis: 3000,
            seed: 0,
            show_progress: false,
        }
    }
}

/// The test–train kernel K(X*, X), as a stored matrix or as tiles.
#[derive(Clone, Copy)]
pub enum TestKernel<'a> {
    /// n* × n, stored.
    Dense(&'a Matrix<f64>),
    /// Rows `n_train..` and columns `..n_train` of a kernel on the stacked inputs
    /// [X; X*], recomputed tile by tile at the product.
    Tiles {
        /// The kernel on [X; X*].
        kernel: &'a dyn TileKernel,
        /// n.
        n_train: usize,
    },
}

impl TestKernel<'_> {
    /// n*.
    pub fn rows(&self) -> usize {
        match self {
            TestKernel::Dense(m) => m.rows(),
            TestKernel::Tiles { kernel, n_train } => kernel.n() - n_train,
        }
    }

    /// n.
    pub fn cols(&self) -> usize {
        match self {
            TestKernel::Dense(m) => m.cols(),
            TestKernel::Tiles { n_train, .. } => *n_train,
        }
    }

    /// K(X*, X)ᵀ restricted to the test points `rows`: n × |rows| (the kernels of those
    /// test points against every training point, as columns).
    pub fn rows_t(&self, rows: std::ops::Range<usize>) -> Result<Matrix<f64>> {
        let n = self.cols();
        let b = rows.len();
        match self {
            TestKernel::Dense(m) => Ok(Matrix::from_fn(n, b, |i, j| m.get(rows.start + j, i))),
            TestKernel::Tiles { kernel, n_train } => {
                let mut buf = vec![0.0; b * n];
                f64::tile(
                    *kernel,
                    (n_train + rows.start)..(n_train + rows.end),
                    0..n,
                    &mut buf,
                )?;
                Ok(Matrix::from_fn(n, b, |i, j| buf[j * n + i]))
            }
        }
    }

    /// K(X*, X) Z for Z n × b. The tiled form computes TILE rows at a time (in
    /// parallel; each row's bits depend on nothing but the row), with progress and
    /// interrupt checks per row block.
    pub fn apply(&self, z: &Matrix<f64>, show: bool) -> Result<Matrix<f64>> {
        match self {
            TestKernel::Dense(m) => matmul(m.view(), z.view()),
            TestKernel::Tiles { kernel, n_train } => {
                let (n, ns, b) = (*n_train, self.rows(), z.cols());
                let chunks = ns.div_ceil(TILE);
                let bar = progress_bar(chunks as u64, "test-train products", show);
                let parts: Vec<Matrix<f64>> = (0..chunks)
                    .into_par_iter()
                    .map(|ci| -> Result<Matrix<f64>> {
                        check_interrupt()?;
                        let r0 = n + ci * TILE;
                        let r1 = (r0 + TILE).min(n + ns);
                        let mut out = Matrix::zeros(r1 - r0, b);
                        let mut buf = vec![];
                        for c0 in (0..n).step_by(8 * TILE) {
                            let c1 = (c0 + 8 * TILE).min(n);
                            buf.resize((r1 - r0) * (c1 - c0), 0.0);
                            f64::tile(*kernel, r0..r1, c0..c1, &mut buf)?;
                            let kv = crate::linalg::View::row_major(&buf, r1 - r0, c1 - c0)?;
                            let zr = z.select_rows(&(c0..c1).collect::<Vec<_>>());
                            gemm_into(&mut out, kv, zr.view(), 1.0, true)?;
                        }
                        bar.inc(1);
                        Ok(out)
                    })
                    .collect::<Result<_>>()?;
                bar.finish_and_clear();
                let mut data = Vec::with_capacity(ns * b);
                for p in parts {
                    data.extend(p.into_vec());
                }
                Matrix::from_vec(ns, b, data)
            }
        }
    }
}

/// Predictions of the large-n path with their estimated accuracy.
#[derive(Clone, Debug)]
pub struct KrylovPrediction {
    /// The predictions (`eig_range`: the smallest and largest Ritz values of K'; NaN
    /// when the subspace phase did not run: t = ∞ alone, solved by Cholesky).
    pub prediction: GdPrediction,
    /// Estimated relative error of g(K')R (the test outputs' change) per time (rows)
    /// and output (columns).
    pub achieved_rel_error: Vec<Vec<f64>>,
    /// Top eigenpairs deflated (k' of the block Lanczos phase).
    pub top_k: usize,
    /// Columns of the Krylov basis beyond them.
    pub basis: usize,
    /// How t = ∞ was computed: "cholesky", "krylov", or "" (no t = ∞).
    pub infinite_time: String,
    /// Whether every estimate met `tol`.
    pub converged: bool,
}

/// Gradient flow / descent predictions (as [`super::gradient_descent_mse`]) on the
/// large-n path: `op` is the n × n training kernel (without the ridge), `stored` the same
/// kernel when it is held in f64 (t = ∞ is then a Cholesky solve), `test` the test–train
/// kernel, `f0_train`/`f0_test` the initial outputs (zero when `None`).
#[allow(clippy::too_many_arguments)]
pub fn gradient_descent_mse_krylov(
    op: &(dyn LinearOperator + Sync),
    stored: Option<&Matrix<f64>>,
    y_train: &Matrix<f64>,
    test: Option<&TestKernel<'_>>,
    f0_train: Option<&Matrix<f64>>,
    f0_test: Option<&Matrix<f64>>,
    dynamics: &Dynamics,
    cfg: &KrylovConfig,
) -> Result<KrylovPrediction> {
    dynamics.validate()?;
    let n = check_inputs(op, stored, y_train, test, cfg)?;
    let c = y_train.cols();
    if let Some(f) = f0_train {
        check_shape(
            "f0_train",
            f,
            Some((n, "training points")),
            Some((c, "outputs")),
        )?;
    }
    match (test, f0_test) {
        (Some(k), Some(f)) => check_shape(
            "f0_test",
            f,
            Some((k.rows(), "test points")),
            Some((c, "outputs")),
        )?,
        (None, Some(_)) => {
            return Err(Error::invalid(
                "f0_test",
                "initial test outputs need the test-train kernel k_test_train",
            ))
        }
        _ => {}
    }
    // R = Y − f₀(X)
    let mut r = y_train.clone();
    if let Some(f) = f0_train {
        for (a, b) in r.as_mut_slice().iter_mut().zip(f.as_slice()) {
            *a -= b;
        }
    }
    let norm = dynamics.loss_norm.value(n, c);
    fixed_pool()?.install(|| {
        let solver = Solver::new(op, stored, &r, dynamics, norm, cfg)?;
        let solved = solver.solve(&r)?;
        gd_outputs(&solver, solved, y_train, test, f0_test)
    })
}

/// Shapes and settings shared by the large-n entry points; returns n.
fn check_inputs(
    op: &(dyn LinearOperator + Sync),
    stored: Option<&Matrix<f64>>,
    y_train: &Matrix<f64>,
    test: Option<&TestKernel<'_>>,
    cfg: &KrylovConfig,
) -> Result<usize> {
    if !(cfg.tol > 0.0 && cfg.tol < 1.0) {
        return Err(Error::invalid(
            "tol",
            format!("must lie in (0, 1), got {}", cfg.tol),
        ));
    }
    if cfg.max_basis < 1 {
        return Err(Error::invalid("max_basis", "must be at least 1"));
    }
    let n = op.size();
    if let Some(s) = stored {
        check_shape("k_train", s, Some((n, "training points")), None)?;
    }
    check_shape("y_train", y_train, Some((n, "training points")), None)?;
    if let Some(k) = test {
        if k.cols() != n {
            return Err(Error::Shape(format!(
                "k_test_train has {} columns, expected {n} (training points)",
                k.cols()
            )));
        }
    }
    Ok(n)
}

/// A pool of [`KRYLOV_THREADS`]: the GEMMs and QR factorizations of the subspace split
/// their work by the pool's size, so a fixed size makes the bits independent of
/// RAYON_NUM_THREADS (the tile products are deterministic at any size).
fn fixed_pool() -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(KRYLOV_THREADS)
        .build()
        .map_err(|e| Error::Numerical(format!("the Krylov thread pool: {e}")))
}

/// Train outputs f_t(X) = Y − e_t(K')R and test outputs f_t(X*) = f₀(X*) + K(X*, X)
/// g_t(K')R (one product for every time) from the solves of R.
fn gd_outputs(
    solver: &Solver<'_>,
    solved: Krylov,
    y_train: &Matrix<f64>,
    test: Option<&TestKernel<'_>>,
    f0_test: Option<&Matrix<f64>>,
) -> Result<KrylovPrediction> {
    let times = &solver.dynamics.times;
    let (n, c) = y_train.shape();
    let nt = times.len();
    let train: Vec<Matrix<f64>> = solved
        .e
        .iter()
        .map(|e| {
            let mut f = y_train.clone();
            for (a, b) in f.as_mut_slice().iter_mut().zip(e.as_slice()) {
                *a -= b;
            }
            f
        })
        .collect();
    let test_out = match test {
        None => None,
        Some(k) => {
            let z = &solved.z;
            let zs = Matrix::from_fn(n, nt * c, |i, j| z[j / c].get(i, j % c));
            let kz = k.apply(&zs, solver.cfg.show_progress)?;
            let m = k.rows();
            Some(
                (0..nt)
                    .map(|ti| {
                        Matrix::from_fn(m, c, |i, j| {
                            f0_test.map_or(0.0, |f| f.get(i, j)) + kz.get(i, ti * c + j)
                        })
                    })
                    .collect(),
            )
        }
    };
    Ok(KrylovPrediction {
        prediction: GdPrediction {
            times: times.clone(),
            train,
            test: test_out,
            eig_range: solved.range,
        },
        achieved_rel_error: solved.achieved,
        top_k: solved.top_k,
        basis: solved.basis,
        infinite_time: solver.infinite_time(),
        converged: solved.converged,
    })
}

/// The NNGP side of the ensemble's covariance on the large-n path.
#[derive(Clone, Copy)]
pub struct NngpOperators<'a> {
    /// 𝒦(X, X), n × n.
    pub train: &'a (dyn LinearOperator + Sync),
    /// 𝒦(X*, X), n* × n.
    pub test_train: TestKernel<'a>,
    /// 𝒦(X*, X*): its diagonal (the variances are computed) or the full matrix.
    pub test_test: TestTest<'a>,
}

/// A covariance of test outputs from the large-n path, with its estimated accuracy.
#[derive(Clone, Debug)]
pub struct KrylovCov {
    /// One per time: the variances or the full n* × n* covariance.
    pub cov: Vec<Cov>,
    /// Per time: the estimated error of every entry Σ_ij relative to the prior scale
    /// √(𝒦**_ii 𝒦**_jj), the largest over the entries (see [`covariance_krylov`]).
    pub achieved_rel_error: Vec<f64>,
}

/// The ensemble on the large-n path: the mean (gradient descent from f₀ = 0, with its
/// accuracy) and the covariance when NNGP operators with a test–test block are given.
#[derive(Clone, Debug)]
pub struct EnsembleKrylov {
    /// The mean of f_t(X*) (`prediction.test`) and f_t(X) (`prediction.train`).
    pub mean: KrylovPrediction,
    /// The covariance of f_t(X*) (shared by the outputs).
    pub cov: Option<KrylovCov>,
}

/// The ensemble over initializations (as [`super::gradient_descent_mse_ensemble`],
/// Lee et al. 2019 eq. 16) on the large-n path: `ntk` the NTK operator Θ (without the
/// ridge; `stored` when held in f64), `ntk_test` Θ(X*, X), and the NNGP operators for
/// the covariance Σ_t = 𝒦** − 𝒦_*B_t − B_tᵀ𝒦_*ᵀ + B_tᵀ𝒦B_t with B_t = g_t(Θ')Θ_*ᵀ.
/// One top-k deflation of Θ serves the mean and every test point's solves.
#[allow(clippy::too_many_arguments)]
pub fn gradient_descent_mse_ensemble_krylov(
    ntk: &(dyn LinearOperator + Sync),
    stored: Option<&Matrix<f64>>,
    ntk_test: &TestKernel<'_>,
    y_train: &Matrix<f64>,
    nngp: Option<NngpOperators<'_>>,
    dynamics: &Dynamics,
    cfg: &KrylovConfig,
) -> Result<EnsembleKrylov> {
    dynamics.validate()?;
    let n = check_inputs(ntk, stored, y_train, Some(ntk_test), cfg)?;
    let n_test = ntk_test.rows();
    if let Some(k) = &nngp {
        if k.train.size() != n {
            return Err(Error::Shape(format!(
                "nngp_train is {0}x{0}, expected {n}x{n} (training points)",
                k.train.size()
            )));
        }
        if k.test_train.rows() != n_test || k.test_train.cols() != n {
            return Err(Error::Shape(format!(
                "nngp_test_train is {}x{}, expected {n_test}x{n} (test x training points)",
                k.test_train.rows(),
                k.test_train.cols()
            )));
        }
        super::check_test_test("nngp_test_test", &k.test_test, n_test)?;
    }
    let norm = dynamics.loss_norm.value(n, y_train.cols());
    fixed_pool()?.install(|| {
        let solver = Solver::new(ntk, stored, y_train, dynamics, norm, cfg)?;
        let solved = solver.solve(y_train)?;
        let mean = gd_outputs(&solver, solved, y_train, Some(ntk_test), None)?;
        let cov = match nngp {
            Some(k) if !matches!(k.test_test, TestTest::None) => Some(covariance_krylov(
                &solver,
                ntk_test,
                Some((k.train, &k.test_train)),
                &k.test_test,
            )?),
            _ => None,
        };
        Ok(EnsembleKrylov { mean, cov })
    })
}

/// The NNGP posterior on the large-n path.
#[derive(Clone, Debug)]
pub struct GpKrylov {
    /// The posterior mean on the training points, 𝒦(𝒦 + σ²I)⁻¹Y = Y − σ²Z.
    pub train: Matrix<f64>,
    /// The posterior mean on the test points, 𝒦_*Z, n* × c.
    pub mean: Matrix<f64>,
    /// The estimated relative error of Z = (𝒦 + σ²I)⁻¹Y per output.
    pub achieved_rel_error: Vec<f64>,
    /// The posterior covariance, when a test–test block was given (one entry).
    pub cov: Option<KrylovCov>,
    /// Top eigenpairs deflated (0 when a Cholesky factorization solved everything).
    pub top_k: usize,
    /// Columns of the Krylov basis beyond them (of the mean's solve).
    pub basis: usize,
    /// "cholesky" (stored kernel) or "krylov".
    pub infinite_time: String,
}

/// The NNGP posterior (as [`super::gp_inference`]) on the large-n path: `op` is 𝒦(X, X)
/// (`stored` when held in f64: then a Cholesky factorization of 𝒦 + σ²I solves
/// everything), `test` 𝒦(X*, X), `test_test` 𝒦(X*, X*) (diagonal, full or none);
/// mean 𝒦_*(𝒦 + σ²I)⁻¹Y, covariance 𝒦** − 𝒦_*B with B = (𝒦 + σ²I)⁻¹𝒦_*ᵀ.
pub fn gp_inference_krylov(
    op: &(dyn LinearOperator + Sync),
    stored: Option<&Matrix<f64>>,
    test: &TestKernel<'_>,
    y_train: &Matrix<f64>,
    test_test: TestTest<'_>,
    noise: f64,
    cfg: &KrylovConfig,
) -> Result<GpKrylov> {
    super::check_ridge("noise", noise)?;
    check_inputs(op, stored, y_train, Some(test), cfg)?;
    super::check_test_test("k_test_test", &test_test, test.rows())?;
    let dynamics = Dynamics {
        ridge: noise,
        ..Dynamics::default()
    };
    fixed_pool()?.install(|| {
        let solver = Solver::new(op, stored, y_train, &dynamics, 1.0, cfg)?;
        let mut solved = solver.solve(y_train)?;
        let z = solved.z.pop().expect("one time, t = inf");
        let mut train = y_train.clone();
        for (a, b) in train.as_mut_slice().iter_mut().zip(z.as_slice()) {
            *a -= noise * b;
        }
        let mean = test.apply(&z, cfg.show_progress)?;
        let cov = match test_test {
            TestTest::None => None,
            tt => Some(covariance_krylov(&solver, test, None, &tt)?),
        };
        Ok(GpKrylov {
            train,
            mean,
            achieved_rel_error: solved.achieved.pop().expect("one time"),
            cov,
            top_k: solved.top_k,
            basis: solved.basis,
            infinite_time: solver.infinite_time(),
        })
    })
}

/// Test points per block of right-hand sides in [`covariance_krylov`].
pub const COV_BLOCK: usize = 32;

/// The covariance of the test outputs from the solves B_t = f_t(K')Θ_*ᵀ (K' the
/// solver's kernel + ridge, Θ_* = `test`), [`COV_BLOCK`] test points at a time:
///
/// - the ensemble (`nngp` = (𝒦, 𝒦_*)): Σ_t = 𝒦** − 𝒦_*B_t − B_tᵀ𝒦_*ᵀ + B_tᵀ𝒦B_t;
/// - the GP posterior (`nngp` = `None`, K = 𝒦, f = 1/λ): Σ = 𝒦** − 𝒦_*B.
///
/// Accuracy: a relative error ε_j of the solve b_j (the solver's estimate) changes
/// Σ_ij by at most a_i c_j + a_j c_i (ensemble; half that for the GP) to first order,
/// with a_j = ε_j‖b_j‖ and c_j = ‖𝒦_*ᵀe_j‖ + ‖𝒦b_j‖ (GP: ‖𝒦_*ᵀe_j‖). The reported
/// error is that bound relative to s_i s_j, s_j = √𝒦**_jj, the largest over the entries
/// computed: 2a_jc_j/s_j² for the variances, 2 max(a/s)·max(c/s) for the full matrix.
/// With the diagonal only nothing n* × n* is formed, and the solves of one block are
/// dropped before the next.
fn covariance_krylov(
    solver: &Solver<'_>,
    test: &TestKernel<'_>,
    nngp: Option<(&(dyn LinearOperator + Sync), &TestKernel<'_>)>,
    test_test: &TestTest<'_>,
) -> Result<KrylovCov> {
    let n = test.cols();
    let ns = test.rows();
    let nt = solver.dynamics.times.len();
    let show = solver.cfg.show_progress;
    let full = matches!(test_test, TestTest::Full(_));
    let kss = |j: usize| match test_test {
        TestTest::Diag(d) => d[j],
        TestTest::Full(m) => m.get(j, j),
        TestTest::None => unreachable!("a covariance needs the test-test kernel"),
    };
    let scale = |j: usize| kss(j).abs().sqrt().max(f64::MIN_POSITIVE);
    let factor = if nngp.is_some() { 2.0 } else { 1.0 };
    // per time: a_j/s_j and c_j/s_j, and the variances (diagonal form)
    let mut a_s = vec![vec![0.0; ns]; nt];
    let mut c_s = vec![vec![0.0; ns]; nt];
    let mut var = vec![vec![0.0; ns]; nt];
    // full form: B_t and 𝒦B_t for every test point
    let mut b_all: Vec<Matrix<f64>> = Vec::new();
    let mut kb_all: Vec<Matrix<f64>> = Vec::new();
    if full {
        crate::runtime::check_alloc(
            "the solves of the full covariance",
            (2 * nt * n * ns) as u128,
            8,
        )?;
        b_all = vec![Matrix::zeros(n, ns); nt];
        if nngp.is_some() {
            kb_all = vec![Matrix::zeros(n, ns); nt];
        }
    }
    let blocks = ns.div_ceil(COV_BLOCK);
    let bar = progress_bar(blocks as u64, "covariance (test points)", show);
    let col_norm = |m: &Matrix<f64>, j: usize| {
        (0..m.rows())
            .map(|i| m.get(i, j).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let dot = |a: &Matrix<f64>, b: &Matrix<f64>, j: usize| {
        (0..a.rows())
            .map(|i| a.get(i, j) * b.get(i, j))
            .sum::<f64>()
    };
    for bi in 0..blocks {
        check_interrupt()?;
        let (j0, j1) = (bi * COV_BLOCK, ((bi + 1) * COV_BLOCK).min(ns));
        let th = test.rows_t(j0..j1)?;
        let ks = match nngp {
            Some((_, kst)) => kst.rows_t(j0..j1)?,
            None => th.clone(),
        };
        let solved = solver.solve(&th)?;
        for (ti, b) in solved.z.iter().enumerate() {
            let kb = match nngp {
                Some((k, _)) => Some(k.apply_f64(b, false)?),
                None => None,
            };
            for jj in 0..(j1 - j0) {
                let j = j0 + jj;
                let s = scale(j);
                let mut cj = col_norm(&ks, jj);
                if let Some(kb) = &kb {
                    cj += col_norm(kb, jj);
                }
                a_s[ti][j] = solved.achieved[ti][jj] * col_norm(b, jj) / s;
                c_s[ti][j] = cj / s;
                if !full {
                    let cross = dot(&ks, b, jj);
                    var[ti][j] = match &kb {
                        Some(kb) => kss(j) - 2.0 * cross + dot(b, kb, jj),
                        None => kss(j) - cross,
                    };
                }
            }
            if full {
                for i in 0..n {
                    for jj in 0..(j1 - j0) {
                        b_all[ti].set(i, j0 + jj, b.get(i, jj));
                        if let Some(kb) = &kb {
                            kb_all[ti].set(i, j0 + jj, kb.get(i, jj));
                        }
                    }
                }
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let achieved = (0..nt)
        .map(|ti| {
            if full {
                let am = a_s[ti].iter().fold(0.0f64, |m, v| m.max(*v));
                let cm = c_s[ti].iter().fold(0.0f64, |m, v| m.max(*v));
                factor * am * cm
            } else {
                (0..ns)
                    .map(|j| factor * a_s[ti][j] * c_s[ti][j])
                    .fold(0.0f64, f64::max)
            }
        })
        .collect();
    let cov = if let TestTest::Full(k) = test_test {
        let ks_test = nngp.map_or(test, |(_, kst)| kst);
        (0..nt)
            .map(|ti| {
                check_interrupt()?;
                // X = 𝒦_* B (n* × n*); ensemble: + Bᵀ𝒦B − Xᵀ, GP: symmetrized
                let x = ks_test.apply(&b_all[ti], show)?;
                let quad = match nngp {
                    Some(_) => Some(matmul(b_all[ti].t(), kb_all[ti].view())?),
                    None => None,
                };
                Ok(Cov::Full(Matrix::from_fn(ns, ns, |i, j| match &quad {
                    Some(q) => {
                        k.get(i, j) - x.get(i, j) - x.get(j, i) + 0.5 * (q.get(i, j) + q.get(j, i))
                    }
                    None => k.get(i, j) - 0.5 * (x.get(i, j) + x.get(j, i)),
                })))
            })
            .collect::<Result<Vec<_>>>()?
    } else {
        var.into_iter().map(Cov::Diag).collect()
    };
    Ok(KrylovCov {
        cov,
        achieved_rel_error: achieved,
    })
}

/// f64 Cholesky solves of K' = K + ridge·I on a stored kernel, factored once.
struct CholSolve<'a> {
    k: &'a Matrix<f64>,
    shifted: Option<Matrix<f64>>,
    ch: Cholesky,
}

impl<'a> CholSolve<'a> {
    fn new(k: &'a Matrix<f64>, ridge: f64) -> Result<Self> {
        let what = "k_train + ridge*I (needed at t = inf)";
        let shifted = (ridge != 0.0).then(|| {
            let mut m = k.clone();
            for i in 0..m.rows() {
                m.set(i, i, m.get(i, i) + ridge);
            }
            m
        });
        let ch = Cholesky::new(shifted.as_ref().unwrap_or(k), what)?;
        Ok(CholSolve { k, shifted, ch })
    }

    /// Z = K'⁻¹R, with the relative change per column of one step of iterative
    /// refinement as its accuracy.
    fn solve(&self, r: &Matrix<f64>) -> Result<(Matrix<f64>, Vec<f64>)> {
        check_interrupt()?;
        let kr = self.shifted.as_ref().unwrap_or(self.k);
        let z = self.ch.solve_matrix(r)?;
        // one refinement step: d = K'⁻¹(R − K'Z); its size relative to Z is the error
        let mut res = r.clone();
        gemm_into(&mut res, kr.view(), z.view(), -1.0, true)?;
        let d = self.ch.solve_matrix(&res)?;
        let (n, c) = r.shape();
        let acc = (0..c)
            .map(|j| {
                let dn = norm2(&(0..n).map(|i| d.get(i, j)).collect::<Vec<_>>());
                let zn = norm2(&(0..n).map(|i| z.get(i, j)).collect::<Vec<_>>());
                if zn > 0.0 {
                    dn / zn
                } else {
                    dn
                }
            })
            .collect();
        Ok((z, acc))
    }
}

/// The top k' Ritz pairs of K (the large-n block Lanczos), deflated by every solve of
/// one prediction.
struct Deflation {
    vals: Vec<f64>,
    vecs: Matrix<f64>,
}

impl Deflation {
    /// From the block Lanczos started from `r` (none below n = 100, at most n/4).
    fn compute(
        op: &(dyn LinearOperator + Sync),
        r: &Matrix<f64>,
        cfg: &KrylovConfig,
    ) -> Result<Self> {
        let (n, c) = r.shape();
        let k = if n >= 100 { cfg.top_k.min(n / 4) } else { 0 };
        if k == 0 {
            return Ok(Deflation {
                vals: vec![],
                vecs: Matrix::zeros(n, 0),
            });
        }
        let kp = (k + (k / 10).max(8)).min(n);
        let b = (kp / 4).clamp(8, 64).max(c + 4).min(n);
        let m_cap = (4 * kp).max(kp + 6 * b).min(n);
        let s = block_lanczos(
            op,
            Precision::F64,
            n,
            r,
            k,
            kp,
            b,
            m_cap,
            // the Ritz residual of V bounds what the subspace can reach (V enters
            // W exactly, but K'V − VΘ does not), so V is made as accurate as asked
            cfg.tol.clamp(1e-10, 1e-3),
            cfg.seed,
            cfg.show_progress,
        )?;
        Ok(Deflation {
            vals: s.vals,
            vecs: s.vecs,
        })
    }
}

/// The solves of one prediction: e_t(K')R and g_t(K')R for every time, for any
/// right-hand sides R — finite times (and t = ∞ without a stored kernel) in one
/// deflated Krylov subspace per R, t = ∞ on a stored kernel by Cholesky.
struct Solver<'a> {
    op: &'a (dyn LinearOperator + Sync),
    chol: Option<CholSolve<'a>>,
    defl: Deflation,
    dynamics: &'a Dynamics,
    norm: f64,
    cfg: &'a KrylovConfig,
    krylov_times: Vec<usize>,
}

impl<'a> Solver<'a> {
    /// The deflation from `start` (the labels) and, with a stored kernel and t = ∞, the
    /// Cholesky factor.
    fn new(
        op: &'a (dyn LinearOperator + Sync),
        stored: Option<&'a Matrix<f64>>,
        start: &Matrix<f64>,
        dynamics: &'a Dynamics,
        norm: f64,
        cfg: &'a KrylovConfig,
    ) -> Result<Self> {
        let times = &dynamics.times;
        let any_inf = times.iter().any(|t| t.is_infinite());
        let chol = match stored {
            Some(k) if any_inf => Some(CholSolve::new(k, dynamics.ridge)?),
            _ => None,
        };
        let krylov_times: Vec<usize> = (0..times.len())
            .filter(|&i| !(times[i].is_infinite() && chol.is_some()))
            .collect();
        let start_zero = start.as_slice().iter().all(|v| *v == 0.0);
        let defl = if krylov_times.is_empty() || start_zero {
            Deflation::compute(
                op,
                start,
                &KrylovConfig {
                    top_k: 0,
                    ..cfg.clone()
                },
            )?
        } else {
            Deflation::compute(op, start, cfg)?
        };
        Ok(Solver {
            op,
            chol,
            defl,
            dynamics,
            norm,
            cfg,
            krylov_times,
        })
    }

    /// How t = ∞ is computed: "cholesky", "krylov", or "" (no t = ∞).
    fn infinite_time(&self) -> String {
        match (
            self.dynamics.times.iter().any(|t| t.is_infinite()),
            self.chol.is_some(),
        ) {
            (false, _) => String::new(),
            (true, true) => "cholesky".into(),
            (true, false) => "krylov".into(),
        }
    }

    fn solve(&self, r: &Matrix<f64>) -> Result<Krylov> {
        let (n, c) = r.shape();
        let times = &self.dynamics.times;
        let nt = times.len();
        let mut out = Krylov {
            z: vec![Matrix::zeros(n, c); nt],
            e: vec![Matrix::zeros(n, c); nt],
            achieved: vec![vec![0.0; c]; nt],
            top_k: 0,
            basis: 0,
            converged: true,
            range: (f64::NAN, f64::NAN),
        };
        if r.as_slice().iter().all(|v| *v == 0.0) {
            return Ok(out);
        }
        if !self.krylov_times.is_empty() {
            let kd = Krylov::run(
                self.op,
                r,
                &self.defl,
                self.dynamics,
                &self.krylov_times,
                self.norm,
                self.cfg,
            )?;
            for (k, (&ti, (z, e))) in self
                .krylov_times
                .iter()
                .zip(kd.z.into_iter().zip(kd.e))
                .enumerate()
            {
                out.z[ti] = z;
                out.e[ti] = e;
                out.achieved[ti] = kd.achieved[k].clone();
            }
            (out.top_k, out.basis, out.converged, out.range) =
                (kd.top_k, kd.basis, kd.converged, kd.range);
        }
        if let Some(ch) = &self.chol {
            let (z, acc) = ch.solve(r)?;
            for ti in (0..nt).filter(|&i| times[i].is_infinite()) {
                out.z[ti] = z.clone();
                out.converged &= acc.iter().all(|e| *e <= self.cfg.tol);
                out.achieved[ti] = acc.clone();
            }
        }
        Ok(out)
    }
}

/// Per-time solutions: what the subspace phase returns for the times it serves, and what
/// [`Solver::solve`] returns for every time of the dynamics (in their order).
struct Krylov {
    z: Vec<Matrix<f64>>,
    e: Vec<Matrix<f64>>,
    achieved: Vec<Vec<f64>>,
    top_k: usize,
    basis: usize,
    converged: bool,
    range: (f64, f64),
}

/// Coefficients in W of g_t(K')R and e_t(K')R for each served time, T's extreme
/// eigenvalues, and for t = ∞ the residual factor (the last block's rows of the
/// coefficients).
struct Coeffs {
    g: Vec<Matrix<f64>>,
    e: Vec<Matrix<f64>>,
    range: (f64, f64),
}

impl Krylov {
    fn run(
        op: &(dyn LinearOperator + Sync),
        r: &Matrix<f64>,
        defl: &Deflation,
        dynamics: &Dynamics,
        served: &[usize],
        norm: f64,
        cfg: &KrylovConfig,
    ) -> Result<Krylov> {
        let (n, c) = r.shape();
        let ridge = dynamics.ridge;
        let times: Vec<f64> = served.iter().map(|&i| dynamics.times[i]).collect();
        let show = cfg.show_progress;
        let mut rng = crate::rng::stream(cfg.seed, "predict krylov basis");
        // 1. the top k' Ritz pairs of K, computed once per prediction
        let (vals, vecs) = (&defl.vals, &defl.vecs);
        let kp = vals.len();
        let cap = (kp + cfg.max_basis).min(n);
        let mut basis = Basis::new(n, cap);
        let mut t = Matrix::zeros(cap, cap);
        if kp > 0 {
            basis.push(vecs);
            for (i, v) in vals.iter().enumerate() {
                t.set(i, i, v + ridge);
            }
        }
        // 2. the first block: R with V projected out
        let scale_r = norm2(r.as_slice()).max(f64::MIN_POSITIVE);
        let mut z0 = r.clone();
        basis.project_out(&mut z0)?;
        let (q1, _) = orthonormalize(z0, &basis, 1e-14 * scale_r, &mut rng)?;
        let full0 = basis.len() >= n;
        if !full0 {
            basis.push(&q1);
        }
        // WᵀR: R lies in span(V, Q₁)
        let wr0 = basis.proj(r)?;
        let (mut oj, mut bj) = (kp, if full0 { 0 } else { q1.cols() });
        drop(q1);
        let bar = progress_bar(cap as u64, "matrix functions (block Lanczos)", show);
        let mut prev: Option<Vec<Matrix<f64>>> = None;
        let mut achieved = vec![vec![f64::INFINITY; c]; times.len()];
        let mut steps = 0usize;
        let mut scale = 0.0f64;
        loop {
            let m = basis.len();
            let (rn, full, at_cap) = if bj == 0 {
                (Matrix::zeros(0, 0), true, false)
            } else {
                check_interrupt()?;
                let qj = basis.cols(oj, bj);
                let mut w = op.apply_f64(&qj, false)?;
                if ridge != 0.0 {
                    for (a, q) in w.as_mut_slice().iter_mut().zip(qj.as_slice()) {
                        *a += ridge * q;
                    }
                }
                if scale == 0.0 {
                    scale = norm2(w.as_slice()).max(f64::MIN_POSITIVE);
                }
                // the column block WᵀK'Q_j of T, and K'Q_j − W(WᵀK'Q_j)
                let cc = basis.proj(&w)?;
                basis.sub(&mut w, &cc)?;
                for a in 0..m {
                    for bb in 0..bj {
                        t.set(a, oj + bb, cc.get(a, bb));
                        t.set(oj + bb, a, cc.get(a, bb));
                    }
                }
                for a in 0..bj {
                    for bb in 0..a {
                        let v = 0.5 * (t.get(oj + a, oj + bb) + t.get(oj + bb, oj + a));
                        t.set(oj + a, oj + bb, v);
                        t.set(oj + bb, oj + a, v);
                    }
                }
                steps += 1;
                bar.set_position(m as u64);
                if m >= n {
                    (Matrix::zeros(0, bj), true, false)
                } else if m + bj > cap {
                    (Matrix::zeros(0, bj), false, true)
                } else {
                    let (qn, rn) = orthonormalize(w, &basis, 1e-13 * scale, &mut rng)?;
                    basis.push(&qn);
                    (rn, false, false)
                }
            };
            // the subspace of the check is the first m columns (the block just pushed,
            // if any, is the next one)
            let check = full || at_cap || steps.is_multiple_of(CHECK_EVERY);
            if check {
                let co = coefficients(&t, m, &wr0, dynamics, &times, norm)?;
                let mut ok = true;
                for (ti, est) in achieved.iter_mut().enumerate() {
                    let g = &co.g[ti];
                    for (j, slot) in est.iter_mut().enumerate() {
                        let gn = (0..m).map(|a| g.get(a, j).powi(2)).sum::<f64>().sqrt();
                        let rel = |d: f64| if gn > 0.0 { d / gn } else { d };
                        let mut e = if full {
                            0.0
                        } else if let Some(p) = &prev {
                            let pm = p[ti].rows();
                            let d2: f64 = (0..m)
                                .map(|a| {
                                    let pv = if a < pm { p[ti].get(a, j) } else { 0.0 };
                                    (g.get(a, j) - pv).powi(2)
                                })
                                .sum();
                            rel(d2.sqrt())
                        } else {
                            f64::INFINITY
                        };
                        if times[ti].is_infinite() && !full && rn.rows() > 0 {
                            // ‖R − K'Z‖ = ‖R_{j+1} (last block of the coefficients)‖
                            let mut s = 0.0;
                            for a in 0..rn.rows() {
                                let v: f64 =
                                    (0..bj).map(|bb| rn.get(a, bb) * g.get(oj + bb, j)).sum();
                                s += v * v;
                            }
                            e = e.max(rel(s.sqrt() / co.range.0));
                        }
                        *slot = e;
                        if e.is_nan() || e > cfg.tol {
                            ok = false;
                        }
                    }
                }
                if ok || full || at_cap {
                    bar.finish_and_clear();
                    // assemble W C for every time in one product each
                    let mut cg = Matrix::zeros(m, 2 * times.len() * c);
                    for (ti, (g, e)) in co.g.iter().zip(&co.e).enumerate() {
                        for a in 0..m {
                            for j in 0..c {
                                cg.set(a, 2 * ti * c + j, g.get(a, j));
                                cg.set(a, (2 * ti + 1) * c + j, e.get(a, j));
                            }
                        }
                    }
                    basis.truncate(m);
                    let mut wv = Matrix::zeros(n, 2 * times.len() * c);
                    gemm_into(&mut wv, basis.view()?, cg.view(), 1.0, false)?;
                    let pick = |off: usize| Matrix::from_fn(n, c, |i, j| wv.get(i, off + j));
                    return Ok(Krylov {
                        z: (0..times.len()).map(|ti| pick(2 * ti * c)).collect(),
                        e: (0..times.len()).map(|ti| pick((2 * ti + 1) * c)).collect(),
                        achieved,
                        top_k: kp,
                        basis: m - kp,
                        converged: ok,
                        range: co.range,
                    });
                }
                prev = Some(co.g);
            }
            let pushed = basis.len() - m;
            (oj, bj) = (m, pushed);
        }
    }
}

/// From T (its leading m × m block), the coefficients g_t(T)WᵀR and e_t(T)WᵀR for every
/// time and T's extreme eigenvalues (smallest, largest).
fn coefficients(
    t: &Matrix<f64>,
    m: usize,
    wr0: &Matrix<f64>,
    dynamics: &Dynamics,
    times: &[f64],
    norm: f64,
) -> Result<Coeffs> {
    let tm = Matrix::from_fn(m, m, |a, b| t.get(a, b));
    let eig = sym_eigen(&tm)?;
    let c = wr0.cols();
    // Uᵀ WᵀR (WᵀR is zero beyond its first rows)
    let wr = Matrix::from_fn(
        m,
        c,
        |a, j| if a < wr0.rows() { wr0.get(a, j) } else { 0.0 },
    );
    let ur = matmul(eig.vectors.t(), wr.view())?;
    let range = (eig.values[m - 1], eig.values[0]);
    let mut g = vec![];
    let mut e = vec![];
    for &tt in times {
        if tt.is_infinite() && range.0 <= 0.0 {
            return Err(Error::NotPositiveDefinite {
                what: "k_train + ridge*I (a Ritz value), needed at t = inf".into(),
                min_eig: range.0,
            });
        }
        let (ev, gv): (Vec<f64>, Vec<f64>) = eig
            .values
            .iter()
            .map(|&l| dynamics.factors(l, tt, norm))
            .unzip();
        let scale = |d: &[f64]| Matrix::from_fn(m, c, |i, j| d[i] * ur.get(i, j));
        g.push(matmul(eig.vectors.view(), scale(&gv).view())?);
        e.push(matmul(eig.vectors.view(), scale(&ev).view())?);
    }
    Ok(Coeffs { g, e, range })
}
