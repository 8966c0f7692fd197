//! Seed 001's analysis (Fig. 1(b)'s spectrum and projections, eq. 10's
//! complexity measure) on the whole local MNIST, all classes, through the
//! large-n solvers (issue 11 part B).
//!
//! Every train and test image (unit-norm rows, as App. A scales them) is one
//! sample; labels are a two-class view of the ten digits (+1 for even digits,
//! −1 for odd), and, for contrast, uniformly random ±1 labels (seeded).
//! INTEGRATOR: part A's all-classes loader can replace `load_all` here.

use crate::data::{mnist, Split};
use crate::error::{Error, Result};
use crate::kernels::relu_ntk::HInfKernel;
use crate::linalg::Matrix;
use crate::theory::large_n::{analyze_kernel, LargeNAnalysis, LargeNConfig};
use serde::Serialize;
use std::path::Path;

/// Settings of the run (also written to the result).
#[derive(Clone, Debug, Serialize)]
pub struct MnistLargeNConfig {
    /// Number of top eigenpairs.
    pub top_k: usize,
    /// Use at most this many images (train first, then test); `None`: all.
    pub max_n: Option<usize>,
    /// Relative accuracy of yᵀ(H^∞)⁻¹y.
    pub tol: f64,
    /// Seed of the random labels and the solvers.
    pub seed: u64,
    /// η and iterations of eq. 8's predicted loss.
    pub eta: f64,
    /// Iterations of the predicted loss.
    pub steps: usize,
}

/// The result: settings, the labelings' names and the analysis.
#[derive(Clone, Debug, Serialize)]
pub struct MnistLargeN {
    /// Settings.
    pub settings: MnistLargeNConfig,
    /// "even/odd (+1 even)" and "random ±1".
    pub labelings: Vec<String>,
    /// Images used from the train and the test split.
    pub n_train: usize,
    /// Images used from the test split.
    pub n_test: usize,
    /// The analysis (labels in the order of `labelings`).
    pub analysis: LargeNAnalysis,
}

/// All images of both splits as unit-norm f64 rows, and their digits.
pub fn load_all(dir: &Path, max_n: Option<usize>) -> Result<(Matrix<f64>, Vec<u8>, usize)> {
    let mut rows: Vec<f64> = Vec::new();
    let mut digits = Vec::new();
    let mut n_train = 0;
    let mut dim = 0;
    for split in [Split::Train, Split::Test] {
        let li = mnist::load_mnist(dir, split)?;
        dim = li.dim;
        for (i, &lab) in li.labels.iter().enumerate() {
            if max_n.is_some_and(|m| digits.len() >= m) {
                break;
            }
            let px = &li.pixels[i * li.dim..(i + 1) * li.dim];
            let v: Vec<f64> = px.iter().map(|&p| p as f64 / 255.0).collect();
            let s = crate::linalg::norm2(&v);
            if s == 0.0 {
                return Err(Error::format(dir, format!("{split} image {i} is all zero")));
            }
            rows.extend(v.iter().map(|x| x / s));
            digits.push(lab);
            if split == Split::Train {
                n_train += 1;
            }
        }
    }
    let n = digits.len();
    Ok((Matrix::from_vec(n, dim, rows)?, digits, n_train))
}

/// Runs the analysis on the MNIST files in `dir` and writes `out` (JSON).
pub fn run(dir: &Path, cfg: &MnistLargeNConfig, out: &Path, show: bool) -> Result<MnistLargeN> {
    let (x, digits, n_train) = load_all(dir, cfg.max_n)?;
    let n = digits.len();
    let even: Vec<f64> = digits
        .iter()
        .map(|&d| if d % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let mut rng = crate::rng::stream(cfg.seed, "mnist large-n random labels");
    let random: Vec<f64> = (0..n)
        .map(|_| {
            if crate::rng::normal(&mut rng) >= 0.0 {
                1.0
            } else {
                -1.0
            }
        })
        .collect();
    let kern = HInfKernel::owned(x)?;
    let lc = LargeNConfig {
        top_k: cfg.top_k.min(n),
        tol: cfg.tol,
        eta: cfg.eta,
        steps: cfg.steps,
        seed: cfg.seed,
        show_progress: show,
        ..Default::default()
    };
    let analysis = analyze_kernel(&kern, &[even, random], &lc)?;
    let res = MnistLargeN {
        settings: cfg.clone(),
        labelings: vec!["even/odd (+1 even)".into(), "random ±1".into()],
        n_train,
        n_test: n - n_train,
        analysis,
    };
    crate::artifacts::files::write_json(out, &res)?;
    Ok(res)
}
