//! `widenet predict`: predictions on test points from .npy files, written as JSON,
//! CSV, .npy arrays and a PNG/SVG plot of the loss and error curves. The kernel comes
//! by name from the inputs (like `widenet analyze`) or as precomputed arrays.

use super::dense::{
    gp_inference_with, gradient_descent_mse_ensemble_with, gradient_descent_mse_with, NngpKernels,
    Spectrum,
};
use super::{Cov, Curves, Dynamics, TestTest};
use crate::artifacts::files::{write_csv, write_json};
use crate::artifacts::plot::{save_figure, Figure, Series};
use crate::data::npy::{read_array, read_matrix, write_array};
use crate::error::{Error, Result};
use crate::kernels::classic::{arcsin, arcsin_gram, gaussian, gaussian_gram};
use crate::kernels::fc::{fc_nngp, fc_nngp_gram, fc_ntk, fc_ntk_gram, FcTrained};
use crate::kernels::relu_ntk::{h_inf, h_inf_cross};
use crate::linalg::Matrix;
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

impl Mode {
    /// Parses the value of `--mode` / `mode=`.
    pub fn parse(name: &str, s: &str) -> Result<Self> {
        match s {
            "gd" => Ok(Mode::Gd),
            "ensemble" => Ok(Mode::Ensemble),
            "gp" => Ok(Mode::Gp),
            _ => Err(Error::invalid(
                name,
                format!("'{s}' is not a mode (gd, ensemble or gp)"),
            )),
        }
    }
}

/// A kernel named on the command line, computed from the inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedKernel {
    /// relu-ntk (H^∞, seed 001 eq. 3), fc-ntk, fc-nngp, gaussian or arcsin.
    pub name: String,
    /// Depth of fc-ntk / fc-nngp.
    pub depth: usize,
    /// Bandwidth h of the Gaussian kernel.
    pub bandwidth: f64,
}

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

impl NamedKernel {
    fn gram(&self, x: &Matrix<f64>, nngp: bool) -> Result<Matrix<f64>> {
        match (self.name.as_str(), nngp) {
            ("relu-ntk", false) => h_inf(x),
            ("fc-ntk", false) => fc_ntk_gram(x, self.depth, FcTrained::All),
            ("fc-ntk", true) | ("fc-nngp", _) => fc_nngp_gram(x, self.depth),
            ("gaussian", _) => gaussian_gram(x, self.bandwidth),
            ("arcsin", _) => arcsin_gram(x),
            _ => Err(self.unknown(nngp)),
        }
    }

    fn cross(&self, x1: &Matrix<f64>, x2: &Matrix<f64>, nngp: bool) -> Result<Matrix<f64>> {
        match (self.name.as_str(), nngp) {
            ("relu-ntk", false) => h_inf_cross(x1, x2),
            ("fc-ntk", false) => fc_ntk(x1, x2, self.depth, FcTrained::All),
            ("fc-ntk", true) | ("fc-nngp", _) => fc_nngp(x1, x2, self.depth),
            ("gaussian", _) => gaussian(x1, x2, self.bandwidth),
            ("arcsin", _) => arcsin(x1, x2),
            _ => Err(self.unknown(nngp)),
        }
    }

    fn unknown(&self, nngp: bool) -> Error {
        if nngp && self.name == "relu-ntk" {
            Error::invalid(
                "kernel",
                "relu-ntk has no NNGP here: use fc-ntk (its NNGP is fc-nngp) or give the \
                 NNGP arrays for --mode ensemble",
            )
        } else {
            Error::invalid(
                "kernel",
                format!(
                    "'{}' is not a kernel (relu-ntk, fc-ntk, fc-nngp, gaussian, arcsin)",
                    self.name
                ),
            )
        }
    }

    /// The blocks of the kernel (its NNGP when `nngp`) on the inputs; the test–test block
    /// when `test_test` is `Some(full)`.
    pub fn blocks(
        &self,
        x_train: &Matrix<f64>,
        x_test: &Matrix<f64>,
        nngp: bool,
        test_test: Option<bool>,
    ) -> Result<KernelBlocks> {
        if x_train.cols() != x_test.cols() {
            return Err(Error::Shape(format!(
                "x_test has {} features but x_train has {}",
                x_test.cols(),
                x_train.cols()
            )));
        }
        let train = self.gram(x_train, nngp)?;
        let test_train = self.cross(x_test, x_train, nngp)?;
        let test_test = match test_test {
            None => None,
            Some(true) => Some(self.gram(x_test, nngp)?),
            Some(false) => {
                let mut d = Vec::with_capacity(x_test.rows());
                for i in 0..x_test.rows() {
                    crate::runtime::check_interrupt()?;
                    let xi = x_test.select_rows(&[i]);
                    d.push(self.cross(&xi, &xi, nngp)?.get(0, 0));
                }
                Some(Matrix::from_vec(1, d.len(), d)?)
            }
        };
        Ok(KernelBlocks {
            train,
            test_train,
            test_test,
        })
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
    /// "dense", "krylov" (gd only: block Lanczos, no eigendecomposition) or `None`:
    /// dense when K, its eigenvectors and a copy (3n² f64) fit the memory budget.
    pub path: Option<String>,
    /// Accuracy requested of the Krylov path.
    pub tol: f64,
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
    /// "dense" (one eigendecomposition reused for every time) or "krylov".
    pub path: String,
    /// Krylov path: estimated relative error per time (rows) and output (columns).
    pub achieved_rel_error: Option<Vec<Vec<f64>>>,
    /// Krylov path: block Lanczos steps × block size (the basis size).
    pub krylov_basis: Option<usize>,
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
    /// Smallest and largest eigenvalue of the kernel + ridge (or noise).
    pub eig_range: (f64, f64),
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

/// The inputs of [`predict_blocks`].
pub struct PredictInputs<'a> {
    /// gd, ensemble or gp.
    pub mode: Mode,
    /// The NTK (gd, ensemble) or the NNGP (gp) blocks.
    pub kernel: &'a KernelBlocks,
    /// The NNGP blocks of `ensemble` (its covariance needs their test–test block).
    pub nngp: Option<&'a KernelBlocks>,
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
    /// Smallest and largest eigenvalue of the kernel + ridge (or noise).
    pub eig_range: (f64, f64),
    /// Number of test points.
    pub n_test: usize,
}

/// One dense prediction of any mode from kernel blocks (the CLI's and the Python
/// binding's common core): one eigendecomposition of the training kernel + ridge (gp:
/// + noise) serves every time, the gd outputs and the ensemble's covariance.
pub fn predict_blocks(inp: &PredictInputs<'_>) -> Result<PredictOutputs> {
    let mode = inp.mode;
    let mut dynamics = inp.dynamics.clone();
    if mode == Mode::Gp {
        super::check_ridge("noise", inp.noise)?;
        dynamics.times = vec![f64::INFINITY];
    } else {
        dynamics.validate()?;
    }
    if mode != Mode::Gd && (inp.f0_train.is_some() || inp.f0_test.is_some()) {
        return Err(Error::invalid(
            "f0_train",
            "initial outputs are for mode gd (the ensemble averages over them)",
        ));
    }
    let main = inp.kernel;
    let ridge = if mode == Mode::Gp {
        inp.noise
    } else {
        dynamics.ridge
    };
    let spec = Spectrum::new(&main.train, ridge, "k_train")?;
    let y = inp.y_train;
    let (train, test, cov) = match mode {
        Mode::Gd | Mode::Ensemble => {
            let gd = gradient_descent_mse_with(
                &spec,
                y,
                Some(&main.test_train),
                inp.f0_train,
                inp.f0_test,
                &dynamics,
            )?;
            let cov = match (inp.nngp, mode) {
                (None, Mode::Ensemble) => {
                    return Err(Error::invalid(
                        "nngp_train",
                        "the ensemble needs the NNGP kernels",
                    ))
                }
                (Some(k), Mode::Ensemble) if !matches!(k.test_test(), TestTest::None) => {
                    gradient_descent_mse_ensemble_with(
                        &spec,
                        &main.test_train,
                        y,
                        Some(NngpKernels {
                            train: &k.train,
                            test_train: &k.test_train,
                            test_test: k.test_test(),
                        }),
                        &dynamics,
                    )?
                    .cov
                }
                _ => None,
            };
            (gd.train, gd.test.unwrap_or_default(), cov)
        }
        Mode::Gp => {
            let g = gp_inference_with(&spec, y, &main.test_train, main.test_test(), ridge)?;
            let on_train = gp_inference_with(&spec, y, &main.train, TestTest::None, ridge)?;
            (vec![on_train.mean], vec![g.mean], g.cov.map(|c| vec![c]))
        }
    };
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
        eig_range: spec.range(),
        n_test: main.test_train.rows(),
    })
}

/// Runs `widenet predict`: computes the predictions and writes `predict.json`,
/// `curves.csv`, `curves.png`/`.svg`, `test_mean.npy` (T × n* × c) and, with a
/// covariance, `test_var.npy` (T × n*) into `args.out`.
pub fn run(args: &PredictArgs) -> Result<PredictReport> {
    args.dynamics.validate()?;
    let y = labels(&args.y_train)?;
    let y_test = opt_labels(&args.y_test)?;
    let want_cov = args.mode != Mode::Gd;
    let (main, nngp) = match &args.kernel {
        Some(nk) => {
            let why = "with --kernel";
            let x = read_matrix::<f64>(need(&args.x_train, "x-train", why)?)?;
            let xt = read_matrix::<f64>(need(&args.x_test, "x-test", why)?)?;
            let tt = want_cov.then_some(args.full_cov);
            match args.mode {
                Mode::Gd => (nk.blocks(&x, &xt, false, None)?, None),
                Mode::Gp => (nk.blocks(&x, &xt, true, tt)?, None),
                Mode::Ensemble => (
                    nk.blocks(&x, &xt, false, None)?,
                    Some(nk.blocks(&x, &xt, true, tt)?),
                ),
            }
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
            (main, nngp)
        }
    };
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
    let n = main.train.rows();
    let dense_fits = 3 * (n as u128) * (n as u128) * 8 <= crate::runtime::memory_budget() as u128;
    let krylov = match args.path.as_deref() {
        Some("krylov") => true,
        Some("dense") => false,
        None => !dense_fits,
        Some(other) => {
            return Err(Error::invalid(
                "path",
                format!("'{other}' is not a path (dense or krylov)"),
            ))
        }
    };
    if krylov && args.mode != Mode::Gd {
        return Err(Error::invalid(
            "path",
            "the krylov path computes --mode gd (the ensemble mean is gd from f0 = 0)",
        ));
    }
    let (test, curves, dynamics, n_test, var, eig_range, acc, basis);
    if krylov {
        let kp = super::krylov::gradient_descent_mse_krylov(
            super::krylov::Operator::Dense(&main.train),
            &y,
            Some(&main.test_train),
            f0.as_ref(),
            f0t.as_ref(),
            &args.dynamics,
            &super::krylov::KrylovConfig {
                tol: args.tol,
                ..Default::default()
            },
        )?;
        let pr = kp.prediction;
        test = pr.test.unwrap_or_default();
        curves = Curves::new(
            &pr.times,
            &pr.train,
            &y,
            y_test.as_ref().map(|yt| (test.as_slice(), yt)),
        )?;
        (dynamics, n_test, var, eig_range) = (
            args.dynamics.clone(),
            main.test_train.rows(),
            None,
            pr.eig_range,
        );
        (acc, basis) = (Some(kp.achieved_rel_error), Some(kp.blocks * kp.block_size));
    } else {
        let p = predict_blocks(&PredictInputs {
            mode: args.mode,
            kernel: &main,
            nngp: nngp.as_ref(),
            y_train: &y,
            y_test: y_test.as_ref(),
            f0_train: f0.as_ref(),
            f0_test: f0t.as_ref(),
            dynamics: &args.dynamics,
            noise: args.noise,
        })?;
        (test, curves, dynamics, n_test) = (p.test, p.curves, p.dynamics, p.n_test);
        var = p.cov.map(|cs| cs.iter().map(Cov::diag).collect::<Vec<_>>());
        (eig_range, acc, basis) = (p.eig_range, None, None);
    }
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
    write_curves(out, &curves)?;
    files.extend(["curves.csv", "curves.png", "curves.svg"].map(String::from));
    files.push("predict.json".to_string());
    let report = PredictReport {
        mode: args.mode,
        kernel: args.kernel.clone(),
        path: if krylov { "krylov" } else { "dense" }.into(),
        achieved_rel_error: acc,
        krylov_basis: basis,
        n_train: y.rows(),
        n_test,
        outputs: c,
        dynamics,
        noise: args.noise,
        eig_range,
        curves,
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
