//! Seed 001, Figure 2: a portion p of the training and test labels is replaced by
//! unif{±1}; as p grows the complexity measure sqrt(2yᵀ(H^∞)⁻¹y/n) (eq. 10)
//! grows and tracks the test ℓ1 loss and 0-1 error of the trained network.

use super::arora_fig1::choose_eta;
use super::common::{
    load_two_class, relative_to, spearman, write_result, DataSource, ExperimentOutput, Precision,
    RunCache, Scale,
};
use crate::data::labels::randomize_labels;
use crate::error::Result;
use crate::kernels::h_inf;
use crate::linalg::{sym_eigenvalues, Cholesky};
use crate::report::plot::{save_figure, Figure, Series, Style};
use crate::report::table::{write_csv, Claim};
use crate::rng;
use crate::theory::bounds::{complexity_measure, lemma_5_4_rademacher, theorem_5_1};
use crate::train::{train_two_layer_record, GdConfig, TwoLayerRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// User-facing configuration (unset fields take the scale's defaults).
#[derive(Clone, Debug)]
pub struct Fig2Config {
    /// Data source.
    pub data: DataSource,
    /// Quick or paper scale.
    pub scale: Scale,
    /// Seed.
    pub seed: u64,
    /// Training points (quick 200 / paper all available ≤ 10,000).
    pub n_train: Option<usize>,
    /// Test points (quick 400 / paper all available ≤ 2,000).
    pub n_test: Option<usize>,
    /// Width m (quick 2,000 / paper 10,000).
    pub width: Option<usize>,
    /// κ (App. A: 10⁻²).
    pub kappa: f64,
    /// η (see [`choose_eta`]).
    pub eta: Option<f64>,
    /// Iteration cap (quick 8,000 / paper 20,000).
    pub iters: Option<usize>,
    /// Stop when Φ/n falls below this ("until the ℓ2 loss converges").
    pub loss_tol_per_sample: f64,
    /// Portions p of randomized labels.
    pub portions: Vec<f64>,
    /// Precision (default f32).
    pub precision: Option<Precision>,
    /// Progress bars.
    pub progress: bool,
}

impl Fig2Config {
    /// Defaults for `scale` on `data`.
    pub fn new(data: DataSource, scale: Scale, seed: u64) -> Self {
        Fig2Config {
            data,
            scale,
            seed,
            n_train: None,
            n_test: None,
            width: None,
            kappa: 1e-2,
            eta: None,
            iters: None,
            loss_tol_per_sample: 1e-3,
            portions: vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            precision: None,
            progress: false,
        }
    }
}

/// Settings used (saved with the results).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Fig2Settings {
    /// Data source.
    pub data: String,
    /// Scale.
    pub scale: Scale,
    /// Seed.
    pub seed: u64,
    /// Training points.
    pub n_train: usize,
    /// Test points.
    pub n_test: usize,
    /// Input dimension.
    pub d: usize,
    /// Width.
    pub width: usize,
    /// κ.
    pub kappa: f64,
    /// η.
    pub eta: f64,
    /// Why η has that value.
    pub eta_note: String,
    /// Iteration cap.
    pub iters: usize,
    /// Loss tolerance per sample.
    pub loss_tol_per_sample: f64,
    /// Precision.
    pub precision: Precision,
}

/// One portion p.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PortionRun {
    /// Portion of randomized labels.
    pub p: f64,
    /// yᵀ(H^∞)⁻¹y.
    pub y_hinv_y: f64,
    /// sqrt(2yᵀ(H^∞)⁻¹y/n), eq. 10.
    pub complexity_measure: f64,
    /// Theorem 5.1's explicit term plus App. D.3's 5/√n.
    pub bound_with_proof_constants: f64,
    /// Lemma 5.4's Rademacher bound for the class the trained net lies in, with
    /// B = ‖W(T) − W(0)‖_F and R = max_r ‖w_r(T) − w_r(0)‖ as measured, δ = 0.1.
    pub lemma_5_4_rademacher: f64,
    /// Test ℓ1 loss at the end of training.
    pub test_l1: f64,
    /// Test 0-1 error at the end of training.
    pub test_error: f64,
    /// Final training loss Φ.
    pub final_train_loss: f64,
    /// Iterations run.
    pub iterations: usize,
    /// ‖W(T) − W(0)‖_F.
    pub w_dist_fro: f64,
    /// Training seconds.
    pub seconds: f64,
}

/// Typed result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fig2Result {
    /// Settings.
    pub settings: Fig2Settings,
    /// One entry per p.
    pub runs: Vec<PortionRun>,
}

/// Runs Figure 2 and writes its files under `out/arora-fig2/`.
pub fn run(cfg: &Fig2Config, out: &Path) -> Result<(ExperimentOutput, Fig2Result)> {
    let t0 = Instant::now();
    let name = "arora-fig2";
    let dir = out.join(name);
    let quick = cfg.scale == Scale::Quick;
    let data = load_two_class(
        &cfg.data,
        cfg.n_train.or(Some(if quick { 200 } else { 10_000 })),
        cfg.n_test.or(Some(if quick { 400 } else { 2_000 })),
        (cfg.n_train.unwrap_or(200), cfg.n_test.unwrap_or(400)),
        super::arora_fig1::QUICK_D,
        cfg.seed,
    )?;
    let (x, xt) = (&data.train.x, &data.test.x);
    let n = x.rows();
    let h = h_inf(x)?;
    let chol = Cholesky::new(&h, "H^inf")?;
    // only λ_max is needed for the step size: eigenvalues, no eigenvectors
    let lmax = sym_eigenvalues(&h)?[0];
    let (eta, eta_note) = choose_eta(cfg.eta, quick, lmax);
    let settings = Fig2Settings {
        data: cfg.data.name().to_string(),
        scale: cfg.scale,
        seed: cfg.seed,
        n_train: n,
        n_test: xt.rows(),
        d: x.cols(),
        width: cfg.width.unwrap_or(if quick { 2_000 } else { 10_000 }),
        kappa: cfg.kappa,
        eta,
        eta_note,
        iters: cfg.iters.unwrap_or(if quick { 8_000 } else { 20_000 }),
        loss_tol_per_sample: cfg.loss_tol_per_sample,
        precision: cfg.precision.unwrap_or(Precision::F32),
    };
    let gd = GdConfig {
        eta,
        max_iters: settings.iters,
        loss_tol: cfg.loss_tol_per_sample * n as f64,
        eval_every: 50,
        progress: cfg.progress,
    };
    let cache = RunCache::new(&dir).verbose(cfg.progress);
    let mut runs = Vec::new();
    for &p in &cfg.portions {
        crate::runtime::check_interrupt()?;
        let mut g = rng::stream(cfg.seed, &format!("arora-fig2/labels/p={p}"));
        let y = randomize_labels(&data.train.y, p, &mut g)?;
        let yt = randomize_labels(&data.test.y, p, &mut g)?;
        let q = chol.quad_inv(&y)?;
        let key = format!("p{:.2}", p);
        let (rec, _): (TwoLayerRecord, bool) = cache.get_or_run(&key, &settings, || {
            train_two_layer_record(
                settings.precision,
                x,
                &y,
                Some((xt, &yt)),
                settings.width,
                settings.kappa,
                cfg.seed,
                &gd,
            )
        })?;
        let m = &rec.metrics;
        runs.push(PortionRun {
            p,
            y_hinv_y: q,
            complexity_measure: complexity_measure(q, n),
            bound_with_proof_constants: theorem_5_1(q, n).explicit_with_proof_constants,
            lemma_5_4_rademacher: lemma_5_4_rademacher(
                m.w_dist_fro.last().copied().unwrap_or(f64::NAN),
                m.w_dist_max.last().copied().unwrap_or(f64::NAN),
                n,
                settings.width,
                settings.kappa,
                0.1,
            )?,
            test_l1: m.test_l1.last().copied().unwrap_or(f64::NAN),
            test_error: m.test_error.last().copied().unwrap_or(f64::NAN),
            final_train_loss: m.loss.last().copied().unwrap_or(f64::NAN),
            iterations: rec.iterations,
            w_dist_fro: m.w_dist_fro.last().copied().unwrap_or(f64::NAN),
            seconds: rec.seconds,
        });
    }
    let result = Fig2Result {
        settings: settings.clone(),
        runs,
    };
    let claims = claims(&result);
    let ps: Vec<f64> = result.runs.iter().map(|r| r.p).collect();
    let col = |f: fn(&PortionRun) -> f64| result.runs.iter().map(f).collect::<Vec<f64>>();
    let fig = Figure {
        title: "Generalization vs the complexity measure as labels are randomized".into(),
        x_label: "portion p of random labels".into(),
        y_label: "value".into(),
        log_x: false,
        log_y: false,
        series: vec![
            Series::new("test l1 loss", ps.clone(), col(|r| r.test_l1), Style::Line),
            Series::new(
                "test 0-1 error",
                ps.clone(),
                col(|r| r.test_error),
                Style::Line,
            ),
            Series::new(
                "sqrt(2 y^T H^-1 y / n)",
                ps.clone(),
                col(|r| r.complexity_measure),
                Style::Dashed,
            ),
        ],
    };
    let (png, _) = save_figure(&fig, &dir, "fig2_complexity")?;
    let csv = dir.join("portions.csv");
    write_csv(
        &csv,
        &[
            "p",
            "complexity_measure",
            "y_hinv_y",
            "test_l1",
            "test_error",
            "final_train_loss",
            "iterations",
            "w_dist_fro",
        ],
        &[
            ps,
            col(|r| r.complexity_measure),
            col(|r| r.y_hinv_y),
            col(|r| r.test_l1),
            col(|r| r.test_error),
            col(|r| r.final_train_loss),
            col(|r| r.iterations as f64),
            col(|r| r.w_dist_fro),
        ],
    )?;
    let mut output = ExperimentOutput {
        name: name.to_string(),
        title: "Seed 001 Figure 2: the complexity measure tracks generalization".into(),
        description: format!(
            "{}. For each portion p a share p of train and test labels is replaced by \
             unif{{-1,1}}; GD (m = {}, kappa = {}, eta = {:.3e}) runs until Phi/n <= {} or {} \
             iterations.",
            data.description,
            settings.width,
            settings.kappa,
            eta,
            settings.loss_tol_per_sample,
            settings.iters
        ),
        claims,
        figures: vec![relative_to(&png, out)],
        files: vec![relative_to(&csv, out)],
        settings: serde_json::to_value(&settings).expect("settings serialize"),
        seconds: t0.elapsed().as_secs_f64(),
    };
    write_result(out, &mut output, &result)?;
    Ok((output, result))
}

fn claims(r: &Fig2Result) -> Vec<Claim> {
    let ps: Vec<f64> = r.runs.iter().map(|x| x.p).collect();
    let cm: Vec<f64> = r.runs.iter().map(|x| x.complexity_measure).collect();
    let te: Vec<f64> = r.runs.iter().map(|x| x.test_error).collect();
    let tl: Vec<f64> = r.runs.iter().map(|x| x.test_l1).collect();
    let rho_p = spearman(&ps, &cm);
    let rho_err = spearman(&cm, &te);
    let rho_l1 = spearman(&cm, &tl);
    let l1_above = r.runs.iter().all(|x| x.test_l1 >= x.test_error);
    vec![
        Claim::new(
            "the complexity measure grows with the portion p of random labels \
             (Spearman rho(p, measure) >= 0.9)",
            rho_p >= 0.9,
            json!({"rho": rho_p, "measure": cm}),
        ),
        Claim::new(
            "the complexity measure ranks the runs as the test error does \
             (Spearman rho(measure, test error) >= 0.8)",
            rho_err >= 0.8,
            json!({"rho": rho_err, "test_error": te}),
        ),
        Claim::new(
            "the complexity measure ranks the runs as the test l1 loss does \
             (Spearman rho(measure, test l1) >= 0.8)",
            rho_l1 >= 0.8,
            json!({"rho": rho_l1, "test_l1": tl}),
        ),
        Claim::new(
            "the test l1 loss upper-bounds the test classification error (Figure 2's note)",
            l1_above,
            json!({"test_l1": tl, "test_error": te}),
        ),
    ]
}
