//! Seed 001, Figure 1: GD convergence for true, random and worst-case labels, the
//! actual training loss next to eq. 8's prediction, and the spectrum of H^∞ with
//! the projections |v_iᵀy| of each label vector; for the true labels also the network's
//! measured test loss next to the kernel's prediction of it (`theory::predict`).

use super::claim::Claim;
use super::common::{load_two_class, DataSource, ExperimentOutput, Precision, RunCache, Scale};
use super::framework::{run_typed, Artifacts, Context, Experiment};
use super::quotes;
use crate::artifacts::files::write_csv;
use crate::artifacts::plot::{save_figure, Figure, Series, Style};
use crate::error::{Error, Result};
use crate::kernels::relu_ntk::h_inf_cross;
use crate::kernels::{empirical_gram, h_inf};
use crate::linalg::sym_eigen;
use crate::linalg::Matrix;
use crate::models::TwoLayerNet;
use crate::rng;
use crate::theory::bounds::lemma_5_3;
use crate::theory::predict::{gradient_descent_mse, Dynamics, LossNorm, Schedule};
use crate::theory::spectrum::{
    predicted_loss, predicted_movement, worst_case_labels, KernelAnalysis,
};
use crate::train::{train_two_layer_record, GdConfig, TwoLayerRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The experiment's settings (`--set key=value`); `eta = none` picks η from the
/// spectrum (see [`choose_eta`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fig1Config {
    /// Directory of MNIST or CIFAR-10 files (none: built-in synthetic data).
    pub data: Option<PathBuf>,
    /// Quick or paper scale.
    pub scale: Scale,
    /// Seed of every random draw.
    pub seed: u64,
    /// Training points (quick 200 / paper every available image, at most 10,000).
    pub n_train: usize,
    /// Width m (quick 8,000 / paper 10,000).
    pub width: usize,
    /// Initialization scale κ (paper: App. A's 10⁻²; quick: 1, see [`QUICK_KAPPA`]).
    pub kappa: f64,
    /// Step size η (none: App. A's 10⁻³ at paper scale, 1/λ_max(H^∞) at quick scale,
    /// capped at 1/λ_max(H^∞)).
    pub eta: Option<f64>,
    /// GD iterations (quick 1,000 / paper 5,000).
    #[serde(alias = "iters")]
    pub steps: usize,
    /// Training precision.
    pub precision: Precision,
    /// Network initializations (seeds seed, seed + 1, ...) over which Theorem 4.1's ε is
    /// compared at widths m/4 and m (one seed is noisy: issue 12).
    pub eps_seeds: usize,
}

impl Fig1Config {
    /// Defaults for `scale` (synthetic data).
    pub fn new(scale: Scale, seed: u64) -> Self {
        let quick = scale == Scale::Quick;
        Fig1Config {
            data: None,
            scale,
            seed,
            n_train: if quick { 200 } else { 10_000 },
            width: if quick { 8_000 } else { 10_000 },
            kappa: if quick { QUICK_KAPPA } else { 1e-2 },
            eta: None,
            steps: if quick { 1_000 } else { 5_000 },
            precision: Precision::F32,
            eps_seeds: 3,
        }
    }
}

/// The experiment `arora-fig1`.
pub struct Fig1;

impl Experiment for Fig1 {
    type Settings = Fig1Config;
    type Results = Fig1Result;
    fn name(&self) -> &'static str {
        "arora-fig1"
    }
    fn title(&self) -> &'static str {
        "Seed 001 Figure 1: convergence rate depends on the labels' projections"
    }
    fn settings(&self, scale: Scale, seed: u64) -> Fig1Config {
        Fig1Config::new(scale, seed)
    }
    fn validate(&self, s: &Fig1Config) -> Result<()> {
        use crate::validate::{count, positive, positive_opt, MAX_POINTS, MAX_STEPS, MAX_WIDTH};
        count("--set n_train", s.n_train, 2, MAX_POINTS)?;
        count("--set width", s.width, 4, MAX_WIDTH)?;
        count("--set steps", s.steps, 1, MAX_STEPS)?;
        positive("--set kappa", s.kappa)?;
        positive_opt("--set eta", s.eta)?;
        count("--set eps_seeds", s.eps_seeds, 1, 100)?;
        DataSource::detect(s.data.as_deref())?;
        Ok(())
    }
    fn run(&self, s: &Fig1Config, ctx: &Context) -> Result<(Fig1Result, Artifacts)> {
        compute(s, &ctx.dir("arora-fig1"), ctx.progress)
    }
    fn claims(&self, _s: &Fig1Config, r: &Fig1Result) -> Vec<Claim> {
        claims(r)
    }
}

/// The settings actually used (saved with the results).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Fig1Settings {
    /// Data source name.
    pub data: String,
    /// Scale.
    pub scale: Scale,
    /// Seed.
    pub seed: u64,
    /// Training points.
    pub n: usize,
    /// Input dimension.
    pub d: usize,
    /// Width m.
    pub width: usize,
    /// κ.
    pub kappa: f64,
    /// η used.
    pub eta: f64,
    /// Why η has that value.
    pub eta_note: String,
    /// Iterations.
    #[serde(alias = "iters")]
    pub steps: usize,
    /// Precision.
    pub precision: Precision,
}

/// One label set's run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LabelRun {
    /// "true", "random" or "worst-case".
    pub labels: String,
    /// |v_iᵀy| in the order of the eigenvalues.
    pub projections: Vec<f64>,
    /// Predicted loss Φ̃(k) of eq. 8 (ũ(0) = 0).
    pub predicted_loss: Vec<f64>,
    /// Eq. 7's linear dynamics started from the network's actual u(0):
    /// ½ Σ_i (1 − ηλ_i)^{2k} (v_iᵀ(y − u(0)))²; equal to eq. 8 when u(0) = 0.
    pub predicted_loss_from_u0: Vec<f64>,
    /// Actual training loss Φ(W(k)).
    pub actual_loss: Vec<f64>,
    /// ‖W(k) − W(0)‖_F.
    pub w_dist_fro: Vec<f64>,
    /// Fraction of activation patterns changed.
    pub pattern_changed: Vec<f64>,
    /// yᵀ(H^∞)⁻¹y.
    pub y_hinv_y: f64,
    /// Predicted ‖W(T) − W(0)‖_F from the linearized dynamics.
    pub predicted_movement: f64,
    /// The same dynamics with the network's initial kernel H(0) in place of H^∞.
    pub predicted_loss_h0: Vec<f64>,
    /// Theorem 4.1's ε, relative: max_k |‖y − u(k)‖ − ‖y − ũ(k)‖| / ‖y − u(0)‖, with ũ
    /// eq. 7's dynamics under H^∞ started from u(0).
    pub max_rel_deviation: f64,
    /// The same with H(0) in place of H^∞ (how lazy training is).
    pub max_rel_deviation_h0: f64,
    /// Φ(T)/Φ(0).
    pub final_loss_ratio: f64,
    /// Share of ‖y‖² on the top 10% of eigenvectors.
    pub top_decile_energy: f64,
    /// Measured max_r ‖w_r(T) − w_r(0)‖.
    pub max_neuron_movement: f64,
    /// Lemma C.1's bound on it, 4√n‖y − u(0)‖/(√m λ_0) (the first part of Lemma 5.3).
    pub lemma_5_3_per_neuron_bound: f64,
    /// Training seconds.
    pub seconds: f64,
    /// Iterations at which the test set was evaluated (true labels; else empty).
    #[serde(default)]
    pub test_iteration: Vec<usize>,
    /// The network's measured test ℓ1 loss (1/n') Σ |f(x) − y| at those iterations.
    #[serde(default)]
    pub test_l1: Vec<f64>,
    /// The same predicted from H^∞: the linearized network trained by GD from the
    /// network's own u(0) and f₀(X*) (Lee et al. 2019 eq. 9–10, `theory::predict`).
    #[serde(default)]
    pub predicted_test_l1: Vec<f64>,
}

/// Typed result of Figure 1.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fig1Result {
    /// Settings used.
    pub settings: Fig1Settings,
    /// Eigenvalues of H^∞, descending.
    pub eigenvalues: Vec<f64>,
    /// The three label runs.
    pub runs: Vec<LabelRun>,
    /// ‖H(0) − H^∞‖_F / ‖H^∞‖_F at this width.
    pub kernel_gap: f64,
    /// (m/4, ε of the random labels at width m/4).
    pub narrow_epsilon: (usize, f64),
    /// Theorem 4.1's ε of the random labels as (at m/4, at m), one pair per network
    /// initialization seed, seed + 1, ... (the first is the runs' own seed).
    #[serde(default)]
    pub epsilon_by_seed: Vec<(f64, f64)>,
}

/// max_k |sqrt(2Φ(k)) − sqrt(2Φ̃(k))| / sqrt(2Φ(0)): Theorem 4.1's ±ε on the residual
/// norm, relative to the initial residual.
fn residual_deviation(actual: &[f64], predicted: &[f64]) -> f64 {
    let r0 = (2.0 * actual[0]).sqrt().max(f64::MIN_POSITIVE);
    actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| ((2.0 * a).sqrt() - (2.0 * p.max(0.0)).sqrt()).abs() / r0)
        .fold(0.0, f64::max)
}

/// κ at quick scale. Theorem 4.1 needs each neuron's movement (about
/// sqrt(yᵀH⁻¹y)/√m) to be small next to its initial norm κ√d; at the paper's
/// κ = 10⁻² that takes a width far beyond a quick run, so quick runs use κ = 1 and
/// compare GD with eq. 7's dynamics started from the network's u(0) (identical to
/// eq. 8 when u(0) ≈ 0, as at κ = 10⁻²).
pub const QUICK_KAPPA: f64 = 1.0;

/// Input dimension of the built-in synthetic data.
pub const QUICK_D: usize = 100;

/// δ at which Theorem 4.1's assumption κ = O(εδ/√n) is checked (the run has no δ of its
/// own; 0.1 is `arora-bounds`' default).
pub const THEOREM_DELTA: f64 = 0.1;

/// Test points of the predicted-vs-measured test loss (at most the held-out set).
pub const TEST_POINTS: usize = 200;

/// Tolerance on Theorem 4.1's relative ε (see [`LabelRun::max_rel_deviation`]).
pub const FOLLOW_TOL: f64 = 0.1;
/// Tolerance on |‖W(T) − W(0)‖_F / predicted − 1|.
pub const MOVEMENT_TOL: f64 = 0.15;

/// Runs Figure 1 and writes its files under `out/arora-fig1/`.
pub fn run(cfg: &Fig1Config, out: &Path) -> Result<(ExperimentOutput, Fig1Result)> {
    run_typed(&Fig1, cfg, &Context::new(out))
}

fn compute(cfg: &Fig1Config, dir: &Path, progress: bool) -> Result<(Fig1Result, Artifacts)> {
    let quick = cfg.scale == Scale::Quick;
    let source = DataSource::detect(cfg.data.as_deref())?;
    let data = load_two_class(
        &source,
        Some(cfg.n_train),
        Some(TEST_POINTS),
        (cfg.n_train, TEST_POINTS),
        QUICK_D,
        cfg.seed,
    )?;
    let (x, y_true) = (&data.train.x, &data.train.y);
    let n = x.rows();
    let h = h_inf(x)?;
    let ka = KernelAnalysis::new(&h)?;
    let lmax = *ka
        .eigen
        .values
        .first()
        .ok_or_else(|| Error::invalid("--n-train", "no training points"))?;
    let (eta, eta_note) = choose_eta(cfg.eta, quick, lmax);
    let settings = Fig1Settings {
        data: source.name().to_string(),
        scale: cfg.scale,
        seed: cfg.seed,
        n,
        d: x.cols(),
        width: cfg.width,
        kappa: cfg.kappa,
        eta,
        eta_note,
        steps: cfg.steps,
        precision: cfg.precision,
    };
    // the network's own initial NTK H(0) (§3.4), rebuilt from the seed: GD in the lazy
    // regime follows its linear dynamics exactly; H(0) → H^∞ as m → ∞ (Lemma C.3)
    let net0 = TwoLayerNet::<f64>::init(settings.width, x.cols(), settings.kappa, cfg.seed)?;
    let h0 = empirical_gram(&net0.w, x)?;
    let (xt, yt) = (&data.test.x, &data.test.y);
    let f0_test = if xt.rows() > 0 {
        net0.predict(xt)?
    } else {
        vec![]
    };
    drop(net0);
    let kernel_gap = h0
        .as_slice()
        .iter()
        .zip(h.as_slice())
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt()
        / h.frobenius();
    let eig0 = sym_eigen(&h0)?;
    let y_norm = crate::linalg::norm2(y_true);
    let mut g = rng::stream(cfg.seed, "arora-fig1/random-labels");
    let y_random: Vec<f64> = (0..n).map(|_| rng::rademacher(&mut g)).collect();
    let y_worst = worst_case_labels(&ka.eigen, y_norm);
    let cache = RunCache::new(dir).verbose(progress);
    let gd = GdConfig {
        eta,
        max_steps: settings.steps,
        loss_tol: 0.0,
        eval_every: 1,
        progress,
    };
    let mut runs = Vec::new();
    for (label, y) in [
        ("true", y_true.clone()),
        ("random", y_random.clone()),
        ("worst-case", y_worst),
    ] {
        let analysis = ka.analyze(&y, eta, settings.steps)?;
        let (rec, _cached): (TwoLayerRecord, bool) = cache.get_or_run(label, &settings, || {
            train_two_layer_record(
                settings.precision,
                x,
                &y,
                (label == "true" && xt.rows() > 0).then_some((xt, yt.as_slice())),
                settings.width,
                settings.kappa,
                cfg.seed,
                &gd,
            )
        })?;
        let predicted_test_l1 = if rec.metrics.test_iteration.is_empty() {
            vec![]
        } else {
            predicted_test_l1(&h, x, xt, yt, &y, &rec, &f0_test, eta)?
        };
        let actual = rec.metrics.loss.clone();
        let phi0 = actual[0].max(f64::MIN_POSITIVE);
        let r0: Vec<f64> = y.iter().zip(&rec.u0).map(|(a, b)| a - b).collect();
        let proj_r0 = ka.eigen.project(&r0)?;
        let from_u0 = predicted_loss(&ka.eigen.values, &proj_r0, eta, settings.steps)?;
        let from_h0 = predicted_loss(&eig0.values, &eig0.project(&r0)?, eta, settings.steps)?;
        let max_dev = residual_deviation(&actual, &from_u0);
        let max_dev_h0 = residual_deviation(&actual, &from_h0);
        let signed: Vec<f64> = ka.eigen.project(&y)?;
        let top = (n / 10).max(1);
        let energy: f64 = signed.iter().map(|p| p * p).sum();
        let top_energy: f64 = signed[..top].iter().map(|p| p * p).sum::<f64>() / energy;
        runs.push(LabelRun {
            labels: label.to_string(),
            predicted_movement: predicted_movement(&ka.eigen.values, &proj_r0, eta, rec.iterations),
            projections: analysis.projections,
            predicted_loss: analysis.predicted_loss,
            predicted_loss_from_u0: from_u0,
            predicted_loss_h0: from_h0,
            max_rel_deviation_h0: max_dev_h0,
            final_loss_ratio: actual.last().copied().unwrap_or(f64::NAN) / phi0,
            actual_loss: actual,
            w_dist_fro: rec.metrics.w_dist_fro.clone(),
            pattern_changed: rec.metrics.pattern_changed.clone(),
            y_hinv_y: analysis.y_hinv_y,
            max_rel_deviation: max_dev,
            top_decile_energy: top_energy,
            max_neuron_movement: rec.metrics.w_dist_max.last().copied().unwrap_or(f64::NAN),
            lemma_5_3_per_neuron_bound: lemma_5_3(
                analysis.y_hinv_y,
                n,
                settings.width,
                *ka.eigen.values.last().expect("n >= 1"),
                crate::linalg::norm2(&r0),
            )?
            .per_neuron_bound,
            seconds: rec.seconds,
            test_iteration: rec.metrics.test_iteration.clone(),
            test_l1: rec.metrics.test_l1.clone(),
            predicted_test_l1,
        });
    }
    // Theorem 4.1's ε shrinks as m grows: the random labels again at width m/4
    let narrow = Fig1Settings {
        width: (settings.width / 4).max(1),
        ..settings.clone()
    };
    let (rec, _): (TwoLayerRecord, bool) = cache.get_or_run("random-narrow", &narrow, || {
        train_two_layer_record(
            narrow.precision,
            x,
            &y_random,
            None,
            narrow.width,
            narrow.kappa,
            cfg.seed,
            &gd,
        )
    })?;
    let r0: Vec<f64> = y_random.iter().zip(&rec.u0).map(|(a, b)| a - b).collect();
    let pred = predicted_loss(
        &ka.eigen.values,
        &ka.eigen.project(&r0)?,
        eta,
        settings.steps,
    )?;
    let narrow_epsilon = (narrow.width, residual_deviation(&rec.metrics.loss, &pred));
    let full_random = runs
        .iter()
        .find(|r: &&LabelRun| r.labels == "random")
        .map_or(f64::NAN, |r| r.max_rel_deviation);
    let mut epsilon_by_seed = vec![(narrow_epsilon.1, full_random)];
    for k in 1..cfg.eps_seeds {
        let init_seed = cfg.seed.wrapping_add(k as u64);
        let mut pair = [f64::NAN; 2];
        for (slot, width) in [(0, narrow.width), (1, settings.width)] {
            let key_settings = Fig1Settings {
                width,
                seed: init_seed,
                ..settings.clone()
            };
            let (rec, _): (TwoLayerRecord, bool) =
                cache.get_or_run(&format!("random-eps-{k}-m{width}"), &key_settings, || {
                    train_two_layer_record(
                        settings.precision,
                        x,
                        &y_random,
                        None,
                        width,
                        settings.kappa,
                        init_seed,
                        &gd,
                    )
                })?;
            let r0: Vec<f64> = y_random.iter().zip(&rec.u0).map(|(a, b)| a - b).collect();
            let pred = predicted_loss(
                &ka.eigen.values,
                &ka.eigen.project(&r0)?,
                eta,
                settings.steps,
            )?;
            pair[slot] = residual_deviation(&rec.metrics.loss, &pred);
        }
        epsilon_by_seed.push((pair[0], pair[1]));
    }
    let result = Fig1Result {
        settings: settings.clone(),
        eigenvalues: ka.eigen.values.clone(),
        runs,
        kernel_gap,
        narrow_epsilon,
        epsilon_by_seed,
    };
    let (figures, files) = write_files(&result, dir)?;
    let description = format!(
        "{}. Two-layer ReLU net (m = {}, kappa = {}), full-batch GD with eta = {:.3e} for {} \
         iterations on true, random (unif{{-1,1}}) and worst-case labels (eigenvector of \
         lambda_min(H^inf) scaled to ||y||); dashed lines are eq. 8's prediction.",
        data.description, settings.width, settings.kappa, eta, settings.steps
    );
    Ok((
        result,
        Artifacts {
            description,
            figures,
            files,
        },
    ))
}

/// The kernel's prediction of the network's test ℓ1 loss at the iterations the
/// training evaluated it: f_k(X*) = f₀(X*) + H^∞(X*, X) g_k(H^∞)(y − u(0)) for discrete
/// GD with step η on ½‖y − u‖² (seed 001 eq. 7 continued to test points).
#[allow(clippy::too_many_arguments)]
fn predicted_test_l1(
    h: &Matrix<f64>,
    x: &Matrix<f64>,
    xt: &Matrix<f64>,
    yt: &[f64],
    y: &[f64],
    rec: &TwoLayerRecord,
    f0_test: &[f64],
    eta: f64,
) -> Result<Vec<f64>> {
    let (n, nt) = (x.rows(), xt.rows());
    let d = Dynamics {
        times: rec
            .metrics
            .test_iteration
            .iter()
            .map(|&k| k as f64)
            .collect(),
        learning_rate: eta,
        schedule: Schedule::Steps,
        ridge: 0.0,
        loss_norm: LossNorm::Sum,
    };
    let p = gradient_descent_mse(
        h,
        &Matrix::from_vec(n, 1, y.to_vec())?,
        Some(&h_inf_cross(xt, x)?),
        Some(&Matrix::from_vec(n, 1, rec.u0.clone())?),
        Some(&Matrix::from_vec(nt, 1, f0_test.to_vec())?),
        &d,
    )?;
    Ok(p.test
        .unwrap_or_default()
        .iter()
        .map(|f| (0..nt).map(|i| (f.get(i, 0) - yt[i]).abs()).sum::<f64>() / nt as f64)
        .collect())
}

/// η: the user's value or App. A's 10⁻³ (paper) / 1/λ_max (quick), capped at
/// 1/λ_max(H^∞) so that eq. 7's linear dynamics contract on every eigenvector
/// (the paper's η = 10⁻³ refers to its own loss scaling; with Φ a sum over n
/// points it would exceed 2/λ_max for n in the thousands).
pub fn choose_eta(user: Option<f64>, quick: bool, lmax: f64) -> (f64, String) {
    let cap = 1.0 / lmax;
    match user {
        Some(e) => (e, "set by the user".to_string()),
        None if quick => (cap, format!("1/lambda_max(H^inf) = {cap:.4e}")),
        None if 1e-3 <= cap => (1e-3, "seed 001 App. A".to_string()),
        None => (
            cap,
            format!(
                "App. A's 1e-3 exceeds 1/lambda_max(H^inf) = {cap:.4e} for the summed loss; \
                 capped there"
            ),
        ),
    }
}

fn claims(r: &Fig1Result) -> Vec<Claim> {
    let get = |l: &str| r.runs.iter().find(|x| x.labels == l).expect("three runs");
    let (t, rnd, w) = (get("true"), get("random"), get("worst-case"));
    let mut c = vec![
        Claim::new(
            "true labels converge faster than random labels (Phi(T)/Phi(0) smaller)",
            t.final_loss_ratio < rnd.final_loss_ratio,
            json!({"true": t.final_loss_ratio, "random": rnd.final_loss_ratio}),
        )
        .quote(&quotes::A001_FASTER),
        Claim::new(
            "worst-case labels converge slowest",
            w.final_loss_ratio > rnd.final_loss_ratio && w.final_loss_ratio > t.final_loss_ratio,
            json!({"worst_case": w.final_loss_ratio, "random": rnd.final_loss_ratio, "true": t.final_loss_ratio}),
        )
        .quote(&quotes::A001_WORST),
        Claim::new(
            "true labels align with the top eigenvectors of H^inf more than random labels \
             (share of ||y||^2 on the top 10%)",
            t.top_decile_energy > rnd.top_decile_energy,
            json!({"true": t.top_decile_energy, "random": rnd.top_decile_energy}),
        )
        .quote(&quotes::A001_TRUE_ALIGN),
    ];
    // Theorem 4.1 assumes kappa = O(epsilon delta / sqrt(n)), with epsilon the absolute
    // deviation FOLLOW_TOL ||y - u(0)|| the claims test and delta = THEOREM_DELTA
    let n = r.settings.n as f64;
    let eps_abs = FOLLOW_TOL * (2.0 * t.actual_loss.first().copied().unwrap_or(f64::NAN)).sqrt();
    let kappa_c = r.settings.kappa * n.sqrt() / (eps_abs * THEOREM_DELTA);
    let kappa_ok = kappa_c <= super::arora_bounds::default_assumption_cap();
    let kappa_detail = format!(
        "kappa sqrt(n)/(epsilon delta) = {kappa_c:.3e} against the cap {} (kappa = {}, n = {}, \
         epsilon = {FOLLOW_TOL} ||y - u(0)|| = {eps_abs:.3e}, delta = {THEOREM_DELTA})",
        super::arora_bounds::default_assumption_cap(),
        r.settings.kappa,
        r.settings.n
    );
    let kappa_name = "kappa = O(epsilon delta / sqrt(n))";
    c.push(
        Claim::new(
            format!(
                "GD follows eq. 7-8's dynamics under H^inf for true labels (Theorem 4.1: \
             epsilon = max_k | ||y-u(k)|| - ||y-u~(k)|| | / ||y-u(0)|| <= {FOLLOW_TOL})"
            ),
            t.max_rel_deviation <= FOLLOW_TOL,
            json!({"epsilon": t.max_rel_deviation, "epsilon_H0": t.max_rel_deviation_h0,
               "kernel_gap": r.kernel_gap}),
        )
        .quote(&quotes::A001_THM_4_1)
        .assume(kappa_name, kappa_ok, kappa_detail.clone()),
    );
    // Theorem 4.1's epsilon at m/4 and m over several initializations: one seed is noisy,
    // so the verdict needs every seed to agree (else inconclusive), and the spread is shown
    let (m4, _) = r.narrow_epsilon;
    let pairs: Vec<(f64, f64)> = if r.epsilon_by_seed.is_empty() {
        vec![(r.narrow_epsilon.1, rnd.max_rel_deviation)]
    } else {
        r.epsilon_by_seed.clone()
    };
    let stats = |v: Vec<f64>| {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = if v.len() > 1 {
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            f64::NAN
        };
        (mean, sd)
    };
    let (mean4, sd4) = stats(pairs.iter().map(|p| p.0).collect());
    let (mean_m, sd_m) = stats(pairs.iter().map(|p| p.1).collect());
    let shrinks = pairs.iter().filter(|(a, b)| b < a).count();
    let mut eps_claim = Claim::new(
        format!(
            "Theorem 4.1's epsilon for random labels shrinks as the width grows (m/4 = {m4} -> \
             m = {}), at every one of {} network initializations",
            r.settings.width,
            pairs.len()
        ),
        shrinks == pairs.len(),
        json!({"epsilon_m_over_4_mean": mean4, "epsilon_m_over_4_sd": sd4,
               "epsilon_m_mean": mean_m, "epsilon_m_sd": sd_m,
               "per_seed_m_over_4_m": pairs, "seeds_shrinking": shrinks,
               "epsilon_H0": rnd.max_rel_deviation_h0}),
    );
    if shrinks > 0 && shrinks < pairs.len() {
        eps_claim = eps_claim.requires(
            false,
            format!(
                "the seeds disagree: epsilon shrinks at {shrinks} of {} initializations",
                pairs.len()
            ),
        );
    }
    c.push(
        eps_claim
            .requires(
                pairs.len() >= 2,
                "one initialization only: the comparison is noisier than the effect (set \
                 eps_seeds >= 2)",
            )
            .paper(
                "001",
                "Thm 4.1",
                "epsilon is reached for m = Omega(n^7 / (lambda_0^4 kappa^2 delta^4 epsilon^2)): \
                 the deviation shrinks as the width grows",
            )
            .assume(kappa_name, kappa_ok, kappa_detail),
    );
    let ratio = t.w_dist_fro.last().copied().unwrap_or(f64::NAN) / t.predicted_movement;
    c.push(
        Claim::new(
            format!(
                "§5.2's linearized trajectory (eq. 11), not Lemma 5.3's upper bound: \
             ||W(T) - W(0)||_F matches the linearized prediction, which tends to \
             sqrt(y^T (H^inf)^-1 y) (true labels, two-sided, within {:.0}%)",
                MOVEMENT_TOL * 100.0
            ),
            (ratio - 1.0).abs() <= MOVEMENT_TOL,
            json!({"measured": t.w_dist_fro.last(), "predicted_at_T": t.predicted_movement,
               "sqrt_y_hinv_y": t.y_hinv_y.sqrt(), "ratio": ratio}),
        )
        .quote(&quotes::A001_SEC_5_2),
    );
    c
}

fn write_files(r: &Fig1Result, dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let steps: Vec<f64> = (0..r.runs[0].actual_loss.len()).map(|k| k as f64).collect();
    let mut series = Vec::new();
    for (ci, run) in r.runs.iter().enumerate() {
        let mut s = Series::new(
            format!("{} labels (GD)", run.labels),
            steps.clone(),
            run.actual_loss.clone(),
            Style::Line,
        );
        s.color = Some(ci);
        series.push(s);
        let mut p = Series::new(
            format!("{} labels (eq. 7-8)", run.labels),
            (0..run.predicted_loss_from_u0.len())
                .map(|k| k as f64)
                .collect(),
            run.predicted_loss_from_u0.clone(),
            Style::Dashed,
        );
        p.color = Some(ci);
        series.push(p);
    }
    let fig_a = Figure {
        title: "Training loss: GD (solid) vs eq. 7-8 under H^inf (dashed)".into(),
        x_label: "iteration k".into(),
        y_label: "Phi(W(k))".into(),
        log_x: false,
        log_y: true,
        series,
    };
    let idx: Vec<f64> = (1..=r.eigenvalues.len()).map(|i| i as f64).collect();
    let mut series = vec![{
        let mut s = Series::new(
            "eigenvalues of H^inf",
            idx.clone(),
            r.eigenvalues.clone(),
            Style::Line,
        );
        s.color = Some(7);
        s
    }];
    for (ci, run) in r.runs.iter().enumerate() {
        let mut s = Series::new(
            format!("|v_i^T y|, {} labels", run.labels),
            idx.clone(),
            run.projections.clone(),
            Style::Points,
        );
        s.color = Some(ci);
        series.push(s);
    }
    let fig_b = Figure {
        title: "Spectrum of H^inf and projections of the labels".into(),
        x_label: "eigenvalue index i".into(),
        y_label: "value".into(),
        log_x: false,
        log_y: true,
        series,
    };
    let (a_png, _) = save_figure(&fig_a, dir, "fig1a_loss")?;
    let (b_png, _) = save_figure(&fig_b, dir, "fig1b_spectrum")?;
    let mut pngs = vec![a_png, b_png];
    let mut csvs = vec![];
    if let Some(run) = r.runs.iter().find(|run| !run.test_l1.is_empty()) {
        let k: Vec<f64> = run.test_iteration.iter().map(|&k| k as f64).collect();
        let fig_c = Figure {
            title: format!(
                "Test loss, {} labels: network (solid) vs the kernel's prediction (dashed)",
                run.labels
            ),
            x_label: "iteration k".into(),
            y_label: "test l1 loss".into(),
            log_x: false,
            log_y: false,
            series: vec![
                Series::new("measured", k.clone(), run.test_l1.clone(), Style::Line),
                Series::new(
                    "predicted (H^inf)",
                    k.clone(),
                    run.predicted_test_l1.clone(),
                    Style::Dashed,
                ),
            ],
        };
        pngs.push(save_figure(&fig_c, dir, "fig1c_test_loss")?.0);
        let csv = dir.join("test_loss.csv");
        write_csv(
            &csv,
            &["iteration", "measured_test_l1", "predicted_test_l1"],
            &[k, run.test_l1.clone(), run.predicted_test_l1.clone()],
        )?;
        csvs.push(csv);
    }
    let loss_csv = dir.join("loss_curves.csv");
    let mut headers = vec!["iteration".to_string()];
    let mut cols = vec![steps];
    for run in &r.runs {
        headers.push(format!("actual_{}", run.labels));
        cols.push(run.actual_loss.clone());
        headers.push(format!("predicted_eq8_{}", run.labels));
        cols.push(run.predicted_loss.clone());
        headers.push(format!("predicted_from_u0_{}", run.labels));
        cols.push(run.predicted_loss_from_u0.clone());
        headers.push(format!("predicted_h0_{}", run.labels));
        cols.push(run.predicted_loss_h0.clone());
    }
    write_csv(&loss_csv, &headers, &cols)?;
    let spec_csv = dir.join("spectrum.csv");
    let mut cols = vec![idx, r.eigenvalues.clone()];
    cols.extend(r.runs.iter().map(|run| run.projections.clone()));
    write_csv(
        &spec_csv,
        &[
            "index",
            "eigenvalue",
            "proj_true",
            "proj_random",
            "proj_worst_case",
        ],
        &cols,
    )?;
    csvs.splice(0..0, [loss_csv, spec_csv]);
    Ok((pngs, csvs))
}
