//! Seed 003 Theorem 2: kernel methods cannot learn the hard instance with fewer
//! than about d^{k/2} samples. F(x) = W*x with W* = √d(e_{i1}, …, e_{ik}),
//! G(y) = (Π_j y_j)_{i∈[k]}, x uniform on {±1/√d}^d, H = F + αG(F)
//! ([`Thm2Target`]); for every N ≤ O(d^{k/2}/log^k d) the optimum of eq. 3.1 with
//! any correlation kernel has population error E‖H(x) − 𝔎(x)‖² > α²/4.
//!
//! `resnet-kernel-bound` ([`run`]) fits kernel ridge regression (Gaussian, arcsin,
//! infinite-width fc NTK) for growing N ≤ d^{k/2} and estimates the population
//! error on `n_test` fresh points. λ is taken as the grid value with the lowest
//! estimated population error — the most favourable choice for the kernel — so
//! the check is against the strongest predictor of the λ grid.

use super::claim::Claim;
use super::common::{ExperimentOutput, Scale};
use super::framework::{run_typed, Artifacts, Context, Experiment};
use crate::artifacts::files::write_csv;
use crate::artifacts::plot::{save_figure, Figure, Series, Style};
use crate::data::resnet_targets::Thm2Target;
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::models::krr::{krr_grid, KernelKind};
use crate::rng;
use crate::theory::hierarchical::thm2_complexity;
use crate::train::search::HyperPoint;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;

/// Settings (saved with the results).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KernelBoundSettings {
    /// Scale.
    pub scale: Scale,
    /// Seed (W*'s coordinates, training and test samples).
    pub seed: u64,
    /// Input dimension d.
    pub d: usize,
    /// k (Theorem 2 needs k ≥ 4).
    pub k: usize,
    /// α.
    pub alpha: f64,
    /// Training-set sizes N (each ≤ d^{k/2}).
    pub sizes: Vec<usize>,
    /// Fresh test points estimating the population error.
    pub n_test: usize,
    /// Kernels.
    pub kernels: Vec<KernelKind>,
    /// λ grid of eq. 3.1.
    pub lambdas: Vec<f64>,
    /// Gaussian bandwidth h (‖x‖ = 1 here).
    pub gaussian_bandwidth: f64,
    /// Depth of the fc NTK.
    pub ntk_depth: usize,
}

impl KernelBoundSettings {
    /// Quick: d = 16, k = 4 (d^{k/2} = 256), N ∈ {16, 32, 64, 128, 256}, 10,000 test
    /// points. Paper: d = 32, k = 4 (d^{k/2} = 1,024), N ∈ {32, …, 1024}, 50,000.
    pub fn new(scale: Scale, seed: u64) -> Self {
        let (d, sizes, n_test) = match scale {
            Scale::Quick => (16, vec![16, 32, 64, 128, 256], 10_000),
            Scale::Paper => (32, vec![32, 64, 128, 256, 512, 1024], 50_000),
        };
        KernelBoundSettings {
            scale,
            seed,
            d,
            k: 4,
            alpha: 0.3,
            sizes,
            n_test,
            kernels: KernelKind::ALL.to_vec(),
            lambdas: vec![1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0],
            gaussian_bandwidth: 1.0,
            ntk_depth: 2,
        }
    }

    /// Theorem 2's lower bound α²/4.
    pub fn threshold(&self) -> f64 {
        self.alpha * self.alpha / 4.0
    }

    /// d^{k/2}.
    pub fn n_limit(&self) -> f64 {
        (self.d as f64).powf(self.k as f64 / 2.0)
    }
}

/// One kernel at one N.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoundPoint {
    /// Kernel name.
    pub kernel: String,
    /// Training-set size.
    pub n: usize,
    /// The lowest estimated population error over the λ grid.
    pub population_error: Option<f64>,
    /// The λ achieving it.
    pub best_lambda: Option<f64>,
    /// Every λ (val_error is not used here and equals the test error).
    pub grid: Vec<HyperPoint>,
}

/// Typed result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KernelBoundResult {
    /// Settings.
    pub settings: KernelBoundSettings,
    /// The instance (W*'s coordinates).
    pub target: Thm2Target,
    /// Seeds of the training sample (nested prefixes) and the test sample
    /// ([`Thm2Target::sample`]).
    pub train_seed: u64,
    /// See `train_seed`.
    pub test_seed: u64,
    /// α²/4.
    pub threshold: f64,
    /// Every (kernel, N).
    pub points: Vec<BoundPoint>,
    /// Seed 003 §5's 𝔠_ε / 𝔠_s of F, G and G∘F
    /// ([`crate::theory::hierarchical::ConceptComplexity`]).
    pub target_complexity: serde_json::Value,
}

/// Theorem 2's instance as `resnet-kernel-bound` draws it from `seed`: W*'s coordinates
/// ([`Thm2Target::random`]), `n_train` training points (smaller training sets are its
/// prefixes) and `n_test` fresh test points, each from its own stream of `seed`, so that
/// every experiment on this instance (`resnet-thm2-separation`'s kernel and ResNet sides)
/// sees the same W*, H and samples at the same (d, k, α, seed).
pub struct Thm2Draw {
    /// The instance.
    pub target: Thm2Target,
    /// Seed of the training sample.
    pub train_seed: u64,
    /// Seed of the test sample.
    pub test_seed: u64,
    /// Training inputs (n_train × d) and targets (n_train × k).
    pub train: (Matrix<f64>, Matrix<f64>),
    /// Test inputs and targets.
    pub test: (Matrix<f64>, Matrix<f64>),
}

impl Thm2Draw {
    /// Draws the instance and both samples.
    pub fn new(
        d: usize,
        k: usize,
        alpha: f64,
        seed: u64,
        n_train: usize,
        n_test: usize,
    ) -> Result<Self> {
        let target = Thm2Target::random(d, k, alpha, seed)?;
        let train_seed = rng::stream(seed, "resnet-kernel-bound/train").random::<u64>();
        let test_seed = rng::stream(seed, "resnet-kernel-bound/test").random::<u64>();
        let train = target.sample(n_train, train_seed)?;
        let test = target.sample(n_test, test_seed)?;
        Ok(Thm2Draw {
            target,
            train_seed,
            test_seed,
            train,
            test,
        })
    }
}

/// Kernel ridge regression (eq. 3.1) with every kernel at every training-set size (prefixes
/// of `draw`'s training sample) over the λ grid; each point keeps the lowest population
/// error estimated on the test sample (the most favourable λ for the kernel).
pub fn kernel_points(
    kernels: &[KernelKind],
    sizes: &[usize],
    draw: &Thm2Draw,
    bandwidth: f64,
    depth: usize,
    lambdas: &[f64],
) -> Result<Vec<BoundPoint>> {
    let ((xall, yall), (xt, yt)) = (&draw.train, &draw.test);
    let mut points = Vec::new();
    for &kernel in kernels {
        for &n in sizes {
            if n > xall.rows() {
                return Err(Error::invalid(
                    "sizes",
                    format!("N = {n} exceeds the {} points drawn", xall.rows()),
                ));
            }
            let idx: Vec<usize> = (0..n).collect();
            let (x, y) = (xall.select_rows(&idx), yall.select_rows(&idx));
            let k_train = kernel.gram(&x, bandwidth, depth)?;
            let k_test = kernel.cross(xt, &x, bandwidth, depth)?;
            let grid: Vec<HyperPoint> = krr_grid(&k_train, &y, &k_test, yt, &k_test, yt, lambdas)?
                .into_iter()
                .map(HyperPoint::from)
                .collect();
            let best = grid
                .iter()
                .filter_map(|p| {
                    p.test_error
                        .filter(|e| e.is_finite())
                        .map(|e| (p.lambda, e))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1));
            points.push(BoundPoint {
                kernel: kernel.name().to_string(),
                n,
                population_error: best.map(|b| b.1),
                best_lambda: best.and_then(|b| b.0),
                grid,
            });
        }
    }
    Ok(points)
}

/// Runs the experiment and writes `out/resnet-kernel-bound/`.
pub fn run(
    settings: &KernelBoundSettings,
    out: &Path,
) -> Result<(ExperimentOutput, KernelBoundResult)> {
    run_typed(&KernelBound, settings, &Context::new(out))
}

fn compute_run(
    settings: &KernelBoundSettings,
    dir: &Path,
    progress: bool,
) -> Result<(KernelBoundResult, Artifacts)> {
    let _ = progress;
    let s = settings;
    let n_max = s
        .sizes
        .iter()
        .copied()
        .max()
        .ok_or_else(|| Error::invalid("sizes", "at least one training-set size is needed"))?;
    if s.n_test == 0 || s.kernels.is_empty() || s.lambdas.is_empty() {
        return Err(Error::invalid(
            "n_test/kernels/lambdas",
            "need test points, a kernel and a λ grid",
        ));
    }
    let draw = Thm2Draw::new(s.d, s.k, s.alpha, s.seed, n_max, s.n_test)?;
    let complexity = thm2_complexity(&draw.target)?;
    let points = kernel_points(
        &s.kernels,
        &s.sizes,
        &draw,
        s.gaussian_bandwidth,
        s.ntk_depth,
        &s.lambdas,
    )?;
    let Thm2Draw {
        target,
        train_seed,
        test_seed,
        ..
    } = draw;
    let threshold = s.threshold();
    let result = KernelBoundResult {
        settings: s.clone(),
        target: target.clone(),
        train_seed,
        test_seed,
        threshold,
        points,
        target_complexity: serde_json::to_value(&complexity).expect("complexity serializes"),
    };
    let ns: Vec<f64> = s.sizes.iter().map(|&n| n as f64).collect();
    let mut fig = Figure::new(
        format!(
            "Seed 003 Thm. 2: kernel regression on the hard instance (d = {}, k = {}, alpha = {})",
            s.d, s.k, s.alpha
        ),
        "N (training samples)",
        format!("population error ({} fresh points)", s.n_test),
    )
    .with_log(true, true);
    let mut headers = vec!["n".to_string()];
    let mut cols = vec![ns.clone()];
    for (i, k) in s.kernels.iter().enumerate() {
        let ys: Vec<f64> = result
            .points
            .iter()
            .filter(|p| p.kernel == k.name())
            .map(|p| p.population_error.unwrap_or(f64::NAN))
            .collect();
        fig.push(Series::new(k.name(), ns.clone(), ys.clone(), Style::Line).with_color(i));
        headers.push(format!("{}_population_error", k.name()));
        cols.push(ys);
    }
    fig.push(
        Series::new(
            format!("alpha^2/4 = {threshold:.4}"),
            ns.clone(),
            vec![threshold; ns.len()],
            Style::Dashed,
        )
        .with_color(s.kernels.len()),
    );
    let (png, _) = save_figure(&fig, dir, "kernel_bound")?;
    let csv = dir.join("kernel_bound.csv");
    write_csv(&csv, &headers, &cols)?;
    let description = format!(
        "x uniform on {{+-1/sqrt(d)}}^d, d = {}, H = W*x + alpha (prod_j sqrt(d) x_ij) 1_k \
             with k = {} coordinates {:?}, alpha = {}. Kernel ridge regression (eq. 3.1, \
             Cholesky) with {:?} (Gaussian bandwidth {}, fc-NTK depth {}, hidden layers) for N in \
             {:?} <= d^(k/2) = {:.0} (nested training sets); population error estimated on {} \
             fresh points; lambda in {:?}, the lowest estimated population error reported (the \
             most favourable lambda for the kernel). {}",
        s.d,
        s.k,
        target.indices,
        s.alpha,
        s.kernels.iter().map(|k| k.name()).collect::<Vec<_>>(),
        s.gaussian_bandwidth,
        s.ntk_depth,
        s.sizes,
        s.n_limit(),
        s.n_test,
        s.lambdas,
        complexity.summary()
    );
    Ok((
        result,
        Artifacts {
            description,
            figures: vec![png.clone()],
            files: vec![csv.clone()],
        },
    ))
}

/// Theorem 2's claim, from the saved points.
fn claims(result: &KernelBoundResult) -> Vec<Claim> {
    let threshold = result.threshold;
    let s = &result.settings;
    let min_err = result
        .points
        .iter()
        .filter_map(|p| p.population_error)
        .fold(f64::INFINITY, f64::min);
    let all_fitted = result.points.iter().all(|p| p.population_error.is_some());
    let errors: serde_json::Map<String, serde_json::Value> = s
        .kernels
        .iter()
        .map(|k| {
            let v: Vec<Option<f64>> = result
                .points
                .iter()
                .filter(|p| p.kernel == k.name())
                .map(|p| p.population_error)
                .collect();
            (k.name().to_string(), json!(v))
        })
        .collect();
    let in_range = result
        .settings
        .sizes
        .iter()
        .all(|&n| n as f64 <= result.settings.n_limit());
    vec![Claim::new(
        format!(
            "Theorem 2: for every N <= d^(k/2) = {:.0} tried (d = {}, k = {}), kernel ridge \
             regression with every kernel has population error above alpha^2/4 = {threshold:.4} \
             (best lambda of the grid)",
            result.settings.n_limit(),
            result.settings.d,
            result.settings.k
        ),
        min_err > threshold,
        json!({
            "threshold_alpha2_over_4": threshold,
            "min_error": min_err,
            "sizes": result.settings.sizes,
            "all_sizes_within_d_pow_k_over_2": in_range,
            "population_error": errors,
            "n_test": result.settings.n_test,
        }),
    )
    .paper(
        "003",
        "Thm 2",
        "for N <= d^(k/2) (up to log factors), no kernel method's population error \
         goes below alpha^2/4 on this instance",
    )
    .requires(
        all_fitted,
        "a kernel's ridge regression failed at some (N, lambda)",
    )
    .requires(
        in_range,
        "some N exceeds d^(k/2): the theorem makes no statement there",
    )]
}

/// The experiment `resnet-kernel-bound`.
pub struct KernelBound;

impl Experiment for KernelBound {
    type Settings = KernelBoundSettings;
    type Results = KernelBoundResult;
    fn name(&self) -> &'static str {
        "resnet-kernel-bound"
    }
    fn title(&self) -> &'static str {
        "Seed 003 Theorem 2: kernel methods on the hard instance"
    }
    fn settings(&self, scale: Scale, seed: u64) -> KernelBoundSettings {
        KernelBoundSettings::new(scale, seed)
    }
    fn run(
        &self,
        s: &KernelBoundSettings,
        ctx: &Context,
    ) -> Result<(KernelBoundResult, Artifacts)> {
        compute_run(s, &ctx.dir("resnet-kernel-bound"), ctx.progress)
    }
    fn claims(&self, s: &KernelBoundSettings, r: &KernelBoundResult) -> Vec<Claim> {
        let _ = s;
        claims(r)
    }
}
