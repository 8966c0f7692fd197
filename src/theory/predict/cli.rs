//! `widenet predict`: predictions on test points from .npy files, written as JSON,
//! CSV, .npy arrays and a PNG/SVG plot of the loss and error curves. The kernel comes
//! by name from the inputs (like `widenet analyze`) or as precomputed arrays.

use super::dense::{
    gp_inference_with, gradient_descent_mse_ensemble_with, gradient_descent_mse_with, NngpKernels,
    Spectrum,
};
use super::krylov::{
    gp_inference_krylov, gradient_descent_mse_ensemble_krylov, gradient_descent_mse_krylov,
    KrylovCov, KrylovPrediction, NngpOperators, TestKernel,
};
pub use super::named::NamedKernel;
use super::{Cov, Curves, Dynamics, TestTest};
use crate::artifacts::files::{write_csv, write_json};
use crate::artifacts::plot::{save_figure, Figure, Series};
use crate::data::npy::{read_array, read_matrix, write_array};
use crate::error::{Error, Result};
use crate::kernels::tile::{dense_with_progress, TileKernel};
use crate::linalg::Matrix;
use crate::theory::large_n::operator::{DenseF64, F32Products, KernelOp};
use crate::theory::large_n::LinearOperator;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What is predicted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Gradient flow / descent from given (or zero) initial outputs.
    Gd,
    /// The ensemble over initializations: mean and variance (needs the NNGP too).
    Ensemble,
    /// The NNGP posterior with observation noise.
    Gp,
}

crate::options::option_enum!(Mode, "mode", { Gd => "gd", Ensemble => "ensemble", Gp => "gp" });

/// The three blocks of a kernel: train–train, test–train and test–test (full or diagonal).
pub struct KernelBlocks {
    /// n × n.
    pub train: Matrix<f64>,
    /// n* × n.
    pub test_train: Matrix<f64>,
    /// n* × n*, or 1 × n* holding the diagonal.
    pub test_test: Option<Matrix<f64>>,
}

impl KernelBlocks {
    /// The test–test block as a [`TestTest`].
    pub fn test_test(&self) -> TestTest<'_> {
        match &self.test_test {
            None => TestTest::None,
            Some(m) if m.rows() == 1 && m.cols() != 1 => TestTest::Diag(m.as_slice()),
            Some(m) if m.rows() == m.cols() => TestTest::Full(m),
            Some(m) => TestTest::Diag(m.as_slice()),
        }
    }
}

/// Everything `widenet predict` needs.
#[derive(Clone, Debug)]
pub struct PredictArgs {
    /// A kernel by name (needs `x_train`, `x_test`), or `None` for arrays.
    pub kernel: Option<NamedKernel>,
    /// Training inputs (.npy, n × d).
    pub x_train: Option<PathBuf>,
    /// Test inputs (.npy, n* × d).
    pub x_test: Option<PathBuf>,
    /// Kernel arrays: train–train (n × n), test–train (n* × n), test–test (n* × n* or n*).
    /// For `gd` and `ensemble` the NTK, for `gp` the NNGP.
    pub k_train: Option<PathBuf>,
    /// See `k_train`.
    pub k_test_train: Option<PathBuf>,
    /// See `k_train`.
    pub k_test_test: Option<PathBuf>,
    /// NNGP arrays of `ensemble` (train–train, test–train, test–test).
    pub nngp_train: Option<PathBuf>,
    /// See `nngp_train`.
    pub nngp_test_train: Option<PathBuf>,
    /// See `nngp_train`.
    pub nngp_test_test: Option<PathBuf>,
    /// Training labels (.npy, n or n × c).
    pub y_train: PathBuf,
    /// Test labels, for the test curves.
    pub y_test: Option<PathBuf>,
    /// Initial outputs (gd), zero when absent.
    pub f0_train: Option<PathBuf>,
    /// See `f0_train`.
    pub f0_test: Option<PathBuf>,
    /// gd, ensemble or gp.
    pub mode: Mode,
    /// Times, learning rate, schedule, ridge, loss normalization.
    pub dynamics: Dynamics,
    /// Observation-noise variance of `gp`.
    pub noise: f64,
    /// Full test–test covariance instead of variances (kernel by name).
    pub full_cov: bool,
    /// "dense", "krylov", "matrix-free" or `None` (chosen from n and the memory
    /// budget); see [`PathChoice`].
    pub path: Option<PathChoice>,
    /// Top eigenpairs deflated on the large-n paths.
    pub top_k: usize,
    /// Accuracy requested of the large-n paths.
    pub tol: f64,
    /// Progress bars (with ETA) on stderr.
    pub show_progress: bool,
    /// Output directory.
    pub out: PathBuf,
}

/// What `widenet predict` writes to `predict.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PredictReport {
    /// gd, ensemble or gp.
    pub mode: Mode,
    /// The kernel by name, or `None` for arrays.
    pub kernel: Option<NamedKernel>,
    /// "dense" (one eigendecomposition reused for every time), "krylov" (the kernel
    /// stored, no eigendecomposition) or "matrix-free" (the kernel recomputed by tiles).
    pub path: String,
    /// Large-n paths: estimated relative error per time (rows) and output (columns).
    pub achieved_rel_error: Option<Vec<Vec<f64>>>,
    /// Large-n paths: columns of the Krylov basis beyond the deflated eigenvectors.
    pub krylov_basis: Option<usize>,
    /// Large-n paths: eigenpairs deflated.
    #[serde(default)]
    pub top_k: Option<usize>,
    /// Large-n paths with a covariance: its estimated error per time, relative to the
    /// prior scale √(k**_ii k**_jj) (the largest over the entries).
    #[serde(default)]
    pub cov_rel_error: Option<Vec<f64>>,
    /// Wall-clock seconds of the computation (reading and writing files excluded).
    #[serde(default)]
    pub seconds: f64,
    /// Training points.
    pub n_train: usize,
    /// Test points.
    pub n_test: usize,
    /// Outputs per point.
    pub outputs: usize,
    /// The dynamics (times: `null` is t = ∞).
    pub dynamics: Dynamics,
    /// Observation noise (gp).
    pub noise: f64,
    /// Smallest and largest eigenvalue of the kernel + ridge (or noise): exact on the
    /// dense path, the Ritz values' on the large-n paths. Absent when no eigenvalue was
    /// computed: on the large-n paths a Cholesky factorization of the stored kernel does
    /// all the work of gp and of t = ∞ alone, and needs none (see
    /// [`PredictOutputs::eig_range`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eig_range: Option<(f64, f64)>,
    /// Loss and 0–1 error curves against time.
    pub curves: Curves,
    /// Files written, relative to the output directory.
    pub files: Vec<String>,
}

fn labels(path: &Path) -> Result<Matrix<f64>> {
    let (shape, data) = read_array::<f64>(path)?;
    match shape.as_slice() {
        [n] => Matrix::from_vec(*n, 1, data),
        [n, c] => Matrix::from_vec(*n, *c, data),
        _ => Err(Error::format(
            path,
            format!("labels must be a vector or an n x c matrix, got shape {shape:?}"),
        )),
    }
}

fn opt_labels(p: &Option<PathBuf>) -> Result<Option<Matrix<f64>>> {
    p.as_deref().map(labels).transpose()
}

fn need<'a>(p: &'a Option<PathBuf>, flag: &str, why: &str) -> Result<&'a Path> {
    p.as_deref()
        .ok_or_else(|| Error::invalid(flag, format!("is required {why}")))
}

/// A test–test array: n* × n*, or a vector (n*, or 1 × n*) of variances.
fn read_test_test(p: &Option<PathBuf>) -> Result<Option<Matrix<f64>>> {
    let Some(p) = p else { return Ok(None) };
    let (shape, data) = read_array::<f64>(p)?;
    match shape.as_slice() {
        [n] => Ok(Some(Matrix::from_vec(1, *n, data)?)),
        [r, c] => Ok(Some(Matrix::from_vec(*r, *c, data)?)),
        _ => Err(Error::format(
            p,
            format!("a test-test kernel must be n x n or a vector, got shape {shape:?}"),
        )),
    }
}

fn array_blocks(
    train: &Option<PathBuf>,
    test_train: &Option<PathBuf>,
    test_test: &Option<PathBuf>,
    flags: [&str; 2],
) -> Result<KernelBlocks> {
    let why = "when no --kernel name is given";
    Ok(KernelBlocks {
        train: read_matrix(need(train, flags[0], why)?)?,
        test_train: read_matrix(need(test_train, flags[1], why)?)?,
        test_test: read_test_test(test_test)?,
    })
}

/// What [`predict_blocks`] returns.
pub struct PredictOutputs {
    /// The dynamics used (gp: the single time ∞).
    pub dynamics: Dynamics,
    /// Train outputs per time (gp: the posterior mean on the training points).
    pub train: Vec<Matrix<f64>>,
    /// Test outputs (the ensemble's mean) per time.
    pub test: Vec<Matrix<f64>>,
    /// The test covariance per time (ensemble with an NNGP test–test block, gp with a
    /// test–test block).
    pub cov: Option<Vec<Cov>>,
    /// Curves against time.
    pub curves: Curves,
    /// Smallest and largest eigenvalue of the kernel + ridge (or noise): exact on the
    /// dense path, the extreme Ritz values of the subspace phase on the large-n paths;
    /// `None` when the large-n path computed no eigenvalue (gp, or gd and the ensemble
    /// with t = ∞ as their only time, on a stored kernel: the Cholesky solve needs none,
    /// and an estimate would cost a Lanczos run of its own).
    pub eig_range: Option<(f64, f64)>,
    /// Number of test points.
    pub n_test: usize,
    /// "dense", "krylov" or "matrix-free".
    pub path: String,
    /// Large-n paths: estimated relative error per time (rows) and output (columns).
    pub achieved_rel_error: Option<Vec<Vec<f64>>>,
    /// Large-n paths: columns of the Krylov basis beyond the deflated eigenvectors.
    pub krylov_basis: Option<usize>,
    /// Large-n paths: eigenpairs deflated.
    pub top_k: Option<usize>,
    /// Large-n paths with a covariance: its estimated error per time, relative to the
    /// prior scale √(k**_ii k**_jj) (the largest over the entries).
    pub cov_rel_error: Option<Vec<f64>>,
}

/// Initial outputs are for mode gd only.
fn check_no_f0(req: &PredictRequest<'_>) -> Result<()> {
    if req.mode != Mode::Gd && (req.f0_train.is_some() || req.f0_test.is_some()) {
        return Err(Error::invalid(
            "f0_train",
            "initial outputs are for mode gd (the ensemble averages over them)",
        ));
    }
    Ok(())
}

/// One dense prediction of any mode from the kernel blocks `kernel` (the NTK for gd and
/// the ensemble, the NNGP for gp) and the ensemble's NNGP blocks `nngp`, for the labels,
/// initial outputs, dynamics and noise of `inp` (its kernel input, path and large-n
/// settings are not used): one eigendecomposition of the training kernel + ridge (gp:
/// + noise) serves every time, the gd outputs and the ensemble's covariance.
pub fn predict_blocks(
    kernel: &KernelBlocks,
    nngp: Option<&KernelBlocks>,
    inp: &PredictRequest<'_>,
) -> Result<PredictOutputs> {
    let mode = inp.mode;
    let mut dynamics = inp.dynamics.clone();
    if mode == Mode::Gp {
        super::check_ridge("noise", inp.noise)?;
        dynamics.times = vec![f64::INFINITY];
    } else {
        dynamics.validate()?;
    }
    check_no_f0(inp)?;
    let main = kernel;
    let ridge = if mode == Mode::Gp {
        inp.noise
    } else {
        dynamics.ridge
    };
    let spec = Spectrum::new(&main.train, ridge, "k_train")?;
    let y = inp.y_train;
    let (train, test, cov) = match mode {
        Mode::Gd => {
            let gd = gradient_descent_mse_with(
                &spec,
                y,
                Some(&main.test_train),
                inp.f0_train,
                inp.f0_test,
                &dynamics,
            )?;
            (gd.train, gd.test.unwrap_or_default(), None)
        }
        Mode::Ensemble => {
            let k = nngp.ok_or_else(|| {
                Error::invalid("nngp_train", "the ensemble needs the NNGP kernels")
            })?;
            // the test mean (f₀ = 0: gd's test outputs) and covariance; gd the train outputs
            let e = gradient_descent_mse_ensemble_with(
                &spec,
                &main.test_train,
                y,
                Some(NngpKernels {
                    train: &k.train,
                    test_train: &k.test_train,
                    test_test: k.test_test(),
                }),
                &dynamics,
            )?;
            let gd = gradient_descent_mse_with(&spec, y, None, None, None, &dynamics)?;
            (gd.train, e.mean, e.cov)
        }
        Mode::Gp => {
            let g = gp_inference_with(&spec, y, &main.test_train, main.test_test(), ridge)?;
            let on_train = gp_inference_with(&spec, y, &main.train, TestTest::None, ridge)?;
            (vec![on_train.mean], vec![g.mean], g.cov.map(|c| vec![c]))
        }
    };
    crate::runtime::profile::print_profile();
    let curves = Curves::new(
        &dynamics.times,
        &train,
        y,
        inp.y_test.map(|yt| (test.as_slice(), yt)),
    )?;
    Ok(PredictOutputs {
        dynamics,
        train,
        test,
        cov,
        curves,
        eig_range: Some(spec.range()),
        n_test: main.test_train.rows(),
        path: "dense".into(),
        achieved_rel_error: None,
        krylov_basis: None,
        top_k: None,
        cov_rel_error: None,
    })
}

/// How the kernel is held and the predictions computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathChoice {
    /// One eigendecomposition of the stored kernel, reused for every time (every mode).
    Dense,
    /// The kernel stored in f64, no eigendecomposition: top-k deflation plus block
    /// Lanczos for finite times, a Cholesky solve at t = ∞ (every mode).
    Krylov,
    /// The kernel recomputed tile by tile at every product (a kernel by name; every mode).
    MatrixFree,
}

crate::options::option_enum!(PathChoice, "path", {
    Dense => "dense",
    Krylov => "krylov",
    MatrixFree => "matrix-free",
});

impl PathChoice {
    /// The path within `budget` bytes for n training and n* test points when the mode
    /// stores `kernels` training kernels (the ensemble 2: the NTK and the NNGP; gd and gp
    /// 1), counted in f64:
    /// - dense when 3n² + 2(kernels − 1)n² + kernels·n*n fit: the kernel, its
    ///   eigenvectors and the eigensolver's copy; per further kernel (the ensemble's NNGP)
    ///   the kernel and its projection S = Vᵀ𝒦V (or S's Cholesky factor); the test–train
    ///   blocks;
    /// - krylov when (kernels + 1 + ridge)n² + n·basis fit: every kernel stored, the
    ///   Cholesky factor of the one the dynamics run on (plus a shifted copy with a
    ///   ridge) and a Krylov basis of `basis` columns;
    /// - matrix-free otherwise (arrays are stored already: never matrix-free).
    pub fn choose(
        n: usize,
        n_test: usize,
        ridge: bool,
        basis: usize,
        named: bool,
        kernels: usize,
        budget: u64,
    ) -> Self {
        let (n, nt, b, k) = (n as u128, n_test as u128, budget as u128, kernels as u128);
        let dense = 8 * ((3 + 2 * k.saturating_sub(1)) * n * n + k * nt * n);
        let krylov = 8 * ((k + 1 + ridge as u128) * n * n + n * basis as u128);
        if dense <= b {
            PathChoice::Dense
        } else if krylov <= b || !named {
            PathChoice::Krylov
        } else {
            PathChoice::MatrixFree
        }
    }
}

/// Where the kernel comes from.
pub enum KernelInput<'a> {
    /// Kernel arrays: the NTK (gd, ensemble) or NNGP (gp) blocks, and the NNGP blocks of
    /// the ensemble.
    Arrays {
        /// See the enum.
        kernel: &'a KernelBlocks,
        /// See the enum.
        nngp: Option<&'a KernelBlocks>,
    },
    /// A kernel by name on the inputs.
    Named {
        /// The kernel.
        kernel: &'a NamedKernel,
        /// n × d.
        x_train: &'a Matrix<f64>,
        /// n* × d.
        x_test: &'a Matrix<f64>,
        /// The full test covariance (ensemble, gp) instead of the variances.
        full_cov: bool,
    },
}

/// Everything one prediction needs (the common core of `widenet predict` and Python's
/// `widenet.predict`).
pub struct PredictRequest<'a> {
    /// The kernel.
    pub input: KernelInput<'a>,
    /// gd, ensemble or gp.
    pub mode: Mode,
    /// n × c labels.
    pub y_train: &'a Matrix<f64>,
    /// n* × c test labels, for the test curves.
    pub y_test: Option<&'a Matrix<f64>>,
    /// Initial outputs (gd only).
    pub f0_train: Option<&'a Matrix<f64>>,
    /// See `f0_train`.
    pub f0_test: Option<&'a Matrix<f64>>,
    /// Times, learning rate, schedule, ridge, loss normalization.
    pub dynamics: &'a Dynamics,
    /// Observation-noise variance (gp).
    pub noise: f64,
    /// A forced path, or `None` to choose from n and the memory budget.
    pub path: Option<PathChoice>,
    /// Top eigenpairs deflated on the large-n paths.
    pub top_k: usize,
    /// Accuracy requested of the large-n paths.
    pub tol: f64,
    /// Progress bars on stderr.
    pub show_progress: bool,
}

/// One prediction of any mode from a kernel by name or arrays, on the path the request
/// forces or the memory budget chooses: the dense path ([`predict_blocks`]) or the
/// large-n paths ([`super::krylov`], mode gd).
pub fn predict(req: &PredictRequest<'_>) -> Result<PredictOutputs> {
    let mode = req.mode;
    if mode == Mode::Gp {
        super::check_ridge("noise", req.noise)?;
    } else {
        req.dynamics.validate()?;
    }
    if !(req.tol > 0.0 && req.tol < 1.0) {
        return Err(Error::invalid(
            "tol",
            format!("must lie in (0, 1), got {}", req.tol),
        ));
    }
    let kcfg = super::krylov::KrylovConfig {
        tol: req.tol,
        top_k: req.top_k,
        show_progress: req.show_progress,
        ..Default::default()
    };
    let (n, n_test, named) = match &req.input {
        KernelInput::Arrays { kernel, .. } => {
            (kernel.train.rows(), kernel.test_train.rows(), false)
        }
        KernelInput::Named {
            x_train, x_test, ..
        } => (x_train.rows(), x_test.rows(), true),
    };
    let path = req.path.unwrap_or_else(|| {
        PathChoice::choose(
            n,
            n_test,
            req.dynamics.ridge != 0.0,
            kcfg.top_k + kcfg.max_basis,
            named,
            if mode == Mode::Ensemble { 2 } else { 1 },
            crate::runtime::memory_budget(),
        )
    });
    // the outputs of a large-n path
    let finish = |dynamics: Dynamics,
                  train: Vec<Matrix<f64>>,
                  test: Vec<Matrix<f64>>,
                  info: (Vec<Vec<f64>>, usize, usize, (f64, f64)),
                  cov: Option<KrylovCov>|
     -> Result<PredictOutputs> {
        let curves = Curves::new(
            &dynamics.times,
            &train,
            req.y_train,
            req.y_test.map(|yt| (test.as_slice(), yt)),
        )?;
        let (achieved, basis, top_k, range) = info;
        // NaN: no Ritz value was computed (see `PredictOutputs::eig_range`)
        let eig_range = (range.0.is_finite() && range.1.is_finite()).then_some(range);
        let (cov, cov_rel_error) = match cov {
            Some(c) => (Some(c.cov), Some(c.achieved_rel_error)),
            None => (None, None),
        };
        Ok(PredictOutputs {
            dynamics,
            train,
            test,
            cov,
            curves,
            eig_range,
            n_test,
            path: path.name().into(),
            achieved_rel_error: Some(achieved),
            krylov_basis: Some(basis),
            top_k: Some(top_k),
            cov_rel_error,
        })
    };
    // the outputs of gradient descent's large-n prediction (gd's, or the ensemble's mean)
    let finish_gd = |kp: KrylovPrediction, cov: Option<KrylovCov>| {
        let info = (
            kp.achieved_rel_error,
            kp.basis,
            kp.top_k,
            kp.prediction.eig_range,
        );
        let test = kp.prediction.test.unwrap_or_default();
        finish(req.dynamics.clone(), kp.prediction.train, test, info, cov)
    };
    check_no_f0(req)?;
    let dense =
        |kernel: &KernelBlocks, nngp: Option<&KernelBlocks>| predict_blocks(kernel, nngp, req);
    // a large-n path of any mode: `op`, `stored`, `test` are the NTK (gd, ensemble) or the
    // NNGP (gp, with its test–test block `tt`); `nngp` the ensemble's NNGP operators
    let large = |op: &(dyn LinearOperator + Sync),
                 stored: Option<&Matrix<f64>>,
                 test: &TestKernel<'_>,
                 nngp: Option<NngpOperators<'_>>,
                 tt: TestTest<'_>|
     -> Result<PredictOutputs> {
        let y = req.y_train;
        match mode {
            Mode::Gd => {
                let kp = gradient_descent_mse_krylov(
                    op,
                    stored,
                    y,
                    Some(test),
                    req.f0_train,
                    req.f0_test,
                    req.dynamics,
                    &kcfg,
                )?;
                finish_gd(kp, None)
            }
            Mode::Ensemble => {
                if nngp.is_none() {
                    return Err(Error::invalid(
                        "nngp_train",
                        "the ensemble needs the NNGP kernels",
                    ));
                }
                let e = gradient_descent_mse_ensemble_krylov(
                    op,
                    stored,
                    test,
                    y,
                    nngp,
                    req.dynamics,
                    &kcfg,
                )?;
                finish_gd(e.mean, e.cov)
            }
            Mode::Gp => {
                let g = gp_inference_krylov(op, stored, test, y, tt, req.noise, &kcfg)?;
                let dynamics = Dynamics {
                    times: vec![f64::INFINITY],
                    ..req.dynamics.clone()
                };
                let info = (
                    vec![g.achieved_rel_error],
                    g.basis,
                    g.top_k,
                    (f64::NAN, f64::NAN),
                );
                finish(dynamics, vec![g.train], vec![g.mean], info, g.cov)
            }
        }
    };
    match (&req.input, path) {
        (KernelInput::Arrays { kernel, nngp }, PathChoice::Dense) => dense(kernel, *nngp),
        (KernelInput::Arrays { kernel, nngp }, PathChoice::Krylov) => {
            super::check_train_kernel("k_train", &kernel.train)?;
            super::check_finite("k_test_train", &kernel.test_train)?;
            let nngp_op = match nngp {
                Some(b) if mode == Mode::Ensemble => {
                    super::check_train_kernel("nngp_train", &b.train)?;
                    super::check_finite("nngp_test_train", &b.test_train)?;
                    Some(DenseF64(&b.train))
                }
                _ => None,
            };
            let nn = match (nngp, &nngp_op) {
                (Some(b), Some(o)) => Some(NngpOperators {
                    train: o,
                    test_train: TestKernel::Dense(&b.test_train),
                    test_test: b.test_test(),
                }),
                _ => None,
            };
            large(
                &DenseF64(&kernel.train),
                Some(&kernel.train),
                &TestKernel::Dense(&kernel.test_train),
                nn,
                kernel.test_test(),
            )
        }
        (KernelInput::Arrays { .. }, PathChoice::MatrixFree) => Err(Error::invalid(
            "path",
            "matrix-free recomputes a kernel by name from x_train and x_test; kernel \
             arrays are stored (use dense or krylov)",
        )),
        (
            KernelInput::Named {
                kernel,
                x_train,
                x_test,
                full_cov,
            },
            PathChoice::Dense,
        ) => {
            let show = req.show_progress;
            let tt = (mode != Mode::Gd).then_some(*full_cov);
            let (main, nngp) = match mode {
                Mode::Gd => (kernel.blocks(x_train, x_test, false, None, show)?, None),
                Mode::Gp => (kernel.blocks(x_train, x_test, true, tt, show)?, None),
                Mode::Ensemble => (
                    kernel.blocks(x_train, x_test, false, None, show)?,
                    Some(kernel.blocks(x_train, x_test, true, tt, show)?),
                ),
            };
            dense(&main, nngp.as_ref())
        }
        (
            KernelInput::Named {
                kernel,
                x_train,
                x_test,
                full_cov,
            },
            _,
        ) => {
            let show = req.show_progress;
            let stacked = super::named::stack(x_train, x_test)?;
            // the NTK (gd, ensemble) or the NNGP (gp) on [X; X*], and the ensemble's NNGP
            let k = kernel.tile_kernel(&stacked, mode == Mode::Gp)?;
            let k2 = match mode {
                Mode::Ensemble => Some(kernel.tile_kernel(&stacked, true)?),
                _ => None,
            };
            let cov_kernel: Option<&dyn TileKernel> = match mode {
                Mode::Gd => None,
                Mode::Gp => Some(&*k),
                Mode::Ensemble => k2.as_deref(),
            };
            let all = n + n_test;
            let tt_store = match cov_kernel {
                None => None,
                Some(ck) if *full_cov => Some(super::named::region(ck, n..all, n..all, show)?),
                Some(ck) => Some(Matrix::from_vec(1, n_test, ck.diag()?[n..].to_vec())?),
            };
            let tt = match &tt_store {
                None => TestTest::None,
                Some(m) if *full_cov => TestTest::Full(m),
                Some(m) => TestTest::Diag(m.as_slice()),
            };
            let lead = super::named::Leading { k: &*k, n };
            let test = TestKernel::Tiles {
                kernel: &*k,
                n_train: n,
            };
            let lead2 = k2.as_deref().map(|k2| super::named::Leading { k: k2, n });
            let test2 = k2.as_deref().map(|k2| TestKernel::Tiles {
                kernel: k2,
                n_train: n,
            });
            if path == PathChoice::Krylov {
                let stored = dense_with_progress::<f64, _>(&lead, show)?;
                let stored2 = lead2
                    .as_ref()
                    .map(|l| dense_with_progress::<f64, _>(l, show))
                    .transpose()?;
                let op2 = stored2.as_ref().map(DenseF64);
                let op2d = op2.as_ref().map(|o| o as &(dyn LinearOperator + Sync));
                large(
                    &DenseF64(&stored),
                    Some(&stored),
                    &test,
                    nngp_ops(op2d, test2, tt),
                    tt,
                )
            } else {
                let op = KernelOp {
                    kernel: &lead,
                    f32: F32Products::F64,
                };
                let op2 = lead2.as_ref().map(|l| KernelOp {
                    kernel: l,
                    f32: F32Products::F64,
                });
                let op2d = op2.as_ref().map(|o| o as &(dyn LinearOperator + Sync));
                large(&op, None, &test, nngp_ops(op2d, test2, tt), tt)
            }
        }
    }
}

/// The ensemble's NNGP operators when both its products are there.
fn nngp_ops<'a>(
    train: Option<&'a (dyn LinearOperator + Sync)>,
    test_train: Option<TestKernel<'a>>,
    test_test: TestTest<'a>,
) -> Option<NngpOperators<'a>> {
    match (train, test_train) {
        (Some(train), Some(test_train)) => Some(NngpOperators {
            train,
            test_train,
            test_test,
        }),
        _ => None,
    }
}

/// Runs `widenet predict`: computes the predictions and writes `predict.json`,
/// `curves.csv`, `curves.png`/`.svg`, `test_mean.npy` (T × n* × c) and, with a
/// covariance, `test_var.npy` (T × n*) into `args.out`.
pub fn run(args: &PredictArgs) -> Result<PredictReport> {
    args.dynamics.validate()?;
    let path = args.path;
    let y = labels(&args.y_train)?;
    let y_test = opt_labels(&args.y_test)?;
    let f0 = args
        .f0_train
        .as_deref()
        .map(read_matrix::<f64>)
        .transpose()?;
    let f0t = args
        .f0_test
        .as_deref()
        .map(read_matrix::<f64>)
        .transpose()?;
    let (xs, arrays) = match &args.kernel {
        Some(_) => {
            let why = "with --kernel";
            let x = read_matrix::<f64>(need(&args.x_train, "x-train", why)?)?;
            let xt = read_matrix::<f64>(need(&args.x_test, "x-test", why)?)?;
            (Some((x, xt)), None)
        }
        None => {
            let main = array_blocks(
                &args.k_train,
                &args.k_test_train,
                &args.k_test_test,
                ["k-train", "k-test-train"],
            )?;
            let nngp = match args.mode {
                Mode::Ensemble => Some(array_blocks(
                    &args.nngp_train,
                    &args.nngp_test_train,
                    &args.nngp_test_test,
                    ["nngp-train", "nngp-test-train"],
                )?),
                _ => None,
            };
            (None, Some((main, nngp)))
        }
    };
    let input = match (&args.kernel, &xs, &arrays) {
        (Some(k), Some((x, xt)), _) => KernelInput::Named {
            kernel: k,
            x_train: x,
            x_test: xt,
            full_cov: args.full_cov,
        },
        (_, _, Some((main, nngp))) => KernelInput::Arrays {
            kernel: main,
            nngp: nngp.as_ref(),
        },
        _ => unreachable!("a kernel by name has inputs, arrays otherwise"),
    };
    let start = std::time::Instant::now();
    let p = predict(&PredictRequest {
        input,
        mode: args.mode,
        y_train: &y,
        y_test: y_test.as_ref(),
        f0_train: f0.as_ref(),
        f0_test: f0t.as_ref(),
        dynamics: &args.dynamics,
        noise: args.noise,
        path,
        top_k: args.top_k,
        tol: args.tol,
        show_progress: args.show_progress,
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let var = p
        .cov
        .as_ref()
        .map(|cs| cs.iter().map(Cov::diag).collect::<Vec<_>>());
    let (test, n_test) = (&p.test, p.n_test);
    let c = y.cols();
    let out = &args.out;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut files = vec![];
    let flat: Vec<f64> = test.iter().flat_map(|m| m.as_slice().to_vec()).collect();
    write_array(out.join("test_mean.npy"), &[test.len(), n_test, c], &flat)?;
    files.push("test_mean.npy".to_string());
    if let Some(v) = &var {
        let flat: Vec<f64> = v.concat();
        write_array(out.join("test_var.npy"), &[v.len(), n_test], &flat)?;
        files.push("test_var.npy".to_string());
    }
    write_curves(out, &p.curves)?;
    files.extend(["curves.csv", "curves.png", "curves.svg"].map(String::from));
    files.push("predict.json".to_string());
    let report = PredictReport {
        mode: args.mode,
        kernel: args.kernel.clone(),
        path: p.path,
        achieved_rel_error: p.achieved_rel_error,
        krylov_basis: p.krylov_basis,
        top_k: p.top_k,
        cov_rel_error: p.cov_rel_error,
        seconds,
        n_train: y.rows(),
        n_test,
        outputs: c,
        dynamics: p.dynamics,
        noise: args.noise,
        eig_range: p.eig_range,
        curves: p.curves,
        files,
    };
    write_json(out.join("predict.json"), &report)?;
    Ok(report)
}

/// `curves.csv` (t, train_mse, train_error[, test_mse, test_error]; t = inf written
/// as `inf`) and the plot `curves.png`/`.svg` (log time axis; t = 0 and t = ∞ placed at
/// its ends).
pub fn write_curves(out: &Path, c: &Curves) -> Result<()> {
    let mut headers = vec!["t", "train_mse", "train_error"];
    let mut cols = vec![c.times.clone(), c.train_mse.clone(), c.train_error.clone()];
    if let (Some(m), Some(e)) = (&c.test_mse, &c.test_error) {
        headers.extend(["test_mse", "test_error"]);
        cols.extend([m.clone(), e.clone()]);
    }
    write_csv(out.join("curves.csv"), &headers, &cols)?;
    save_figure(
        &curves_figure(c, "infinite-width prediction"),
        out,
        "curves",
    )?;
    Ok(())
}

/// The curves against time on a log axis: t = 0 is drawn at a tenth of the smallest
/// positive time and t = ∞ at ten times the largest finite one.
pub fn curves_figure(c: &Curves, title: &str) -> Figure {
    let finite: Vec<f64> = c
        .times
        .iter()
        .copied()
        .filter(|t| t.is_finite() && *t > 0.0)
        .collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(0.0, f64::max);
    let (lo, hi) = if finite.is_empty() {
        (1.0, 1.0)
    } else {
        (lo, hi)
    };
    let x: Vec<f64> = c
        .times
        .iter()
        .map(|&t| {
            if t.is_infinite() {
                hi * 10.0
            } else if t == 0.0 {
                lo / 10.0
            } else {
                t
            }
        })
        .collect();
    let mut fig = Figure::new(
        title,
        "t (steps; ends: t = 0 and t = inf)",
        "MSE / 0-1 error",
    )
    .with_log(true, false);
    let mut add = |name: &str, y: &[f64], color: usize, dashed: bool| {
        let s = if dashed {
            Series::dashed(name, x.clone(), y.to_vec())
        } else {
            Series::line(name, x.clone(), y.to_vec())
        };
        fig.push(s.with_color(color));
    };
    add("train MSE", &c.train_mse, 0, false);
    add("train 0-1 error", &c.train_error, 0, true);
    if let (Some(m), Some(e)) = (&c.test_mse, &c.test_error) {
        add("test MSE (predicted)", m, 1, false);
        add("test 0-1 error (predicted)", e, 1, true);
    }
    fig
}
