//! The recurrent complexity sqrt(ỹᵀ(H^∞)⁻¹ỹ) of seed 004 (Theorem 3, eqs. 20, 34, 37) on its
//! two concept classes, with the infinite-width kernel H^∞ of the `wang` preset
//! ([`crate::kernels::rnn_infinite::rnn_ntk_infinite`]) factored by Cholesky.
//!
//! - `rnn-length` ([`run_length`]): additive targets (eq. 9) against the sequence length L, and
//!   SGD learning curves on the same targets ([`learning_curves`]: Theorem 2's Algorithm 1 on the
//!   `wang` network, test 0-1 error against the number of samples N for several L; settings and
//!   the reasons for them in [`SgdCurveSettings::new`]).
//! - `rnn-nvar` ([`run_nvar`]): N-variable targets (eq. 11) against N (at fixed l_0) and against
//!   l_0 (at fixed N).
//!
//! **ỹ.** Theorem 3 defines ỹ = [F\*(x_1), …, F\*(x_n)]ᵀ, the target values (not the labels), for
//! an F\* with y_i F\*(x_i) ≥ 1. The samples come from [`crate::data::rnn_concepts::draw`]:
//! sequences with |F\*_raw| < τ are dropped and replaced, and F\* = F\*_raw/τ (see there), so
//! ỹ = F\*_raw/τ. Also recorded: sqrt(F\*_rawᵀ(H^∞)⁻¹F\*_raw) (= the above times τ), which is
//! what the closed form of eq. 10 / eq. 12 for the unscaled ψ bounds up to constants, and
//! sqrt(yᵀ(H^∞)⁻¹y) for the labels.
//!
//! **Closed form.** Next to each measured value: seed 004's C(F\*) for the unscaled ψ
//! (eq. 10 via [`concept_additive`], eq. 12 via [`concept_n_variable`] with C_0 = C_max/C_min
//! and C_1 = [`C1`]), as log10 since it can exceed f64.
//!
//! **Singular kernels.** When Cholesky finds H^∞ not numerically positive definite (smallest
//! pivot below 1e−13 of the largest diagonal entry), the point is skipped and the error (with
//! λ_min) recorded in `skipped`; fits and claims use the other points.
//!
//! **Criteria.**
//! - Length: a power law fits better than an exponential — the residual sum of squares of the
//!   least-squares line of ln c against ln L is at most that of ln c against L (both lines have two
//!   parameters). The exponent (slope in ln-ln) is reported.
//! - N-variable: the complexity at the largest N exceeds the one at the smallest N, and likewise
//!   for l_0 (all values and the slopes of ln c against N and against l_0 are reported).

use super::common::{spearman, ExperimentOutput, Precision, RunCache, Scale};
use super::framework::{run_typed, Artifacts, Context, Experiment};
use crate::data::rnn_concepts::{
    draw, AdditiveConcept, Concept, ConceptSample, InputSpec, NVariableConcept,
};
use crate::error::{Error, Result};
use crate::kernels::rnn_infinite::rnn_ntk_infinite;
use crate::linalg::least_squares;
use crate::linalg::{Cholesky, Matrix, Real};
use crate::models::rnn::{Objective, Preset, Rnn};
use crate::report::plot::{save_figure, Figure, Series, Style};
use crate::report::table::{write_csv, Claim};
use crate::rng::{self, WRng};
use crate::theory::complexity::{concept_additive, concept_n_variable, C1, REL_TOL};
use crate::theory::taylor::AnalyticFn;
use crate::train::rnn_sgd::{train_rnn_sgd, RnnData, RnnSgdConfig};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;

/// The measured complexities of one configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ComplexityPoint {
    /// Sequence length L.
    pub len: usize,
    /// N (1 for the additive class).
    pub n_vars: usize,
    /// l_0 (the additive class: L − 1).
    pub l0: usize,
    /// Positions l_1..l_N (empty for the additive class).
    pub positions: Vec<usize>,
    /// Sequences drawn.
    pub drawn: usize,
    /// Sequences dropped for |F\*_raw| < τ.
    pub dropped: usize,
    /// sqrt(ỹᵀ(H^∞)⁻¹ỹ), ỹ = F\*_raw/τ (None when skipped).
    pub complexity: Option<f64>,
    /// sqrt(F\*_rawᵀ(H^∞)⁻¹F\*_raw).
    pub complexity_raw: Option<f64>,
    /// sqrt(yᵀ(H^∞)⁻¹y) for the ±1 labels.
    pub complexity_labels: Option<f64>,
    /// log10 of seed 004's C(F\*) for the unscaled ψ (eq. 10 or eq. 12); "inf" is +∞.
    pub closed_form_log10: f64,
    /// For eq. 12: log10 of its L² C_N form and of its L³ C(ψ, 2^{l_0} C_0 √L) form.
    pub closed_form_parts_log10: Option<(f64, f64)>,
    /// Why the point was skipped (Cholesky's error), if it was.
    pub skipped: Option<String>,
}

fn measure(sample: &ConceptSample, len: usize, point: &mut ComplexityPoint) -> Result<()> {
    let h = rnn_ntk_infinite(Preset::Wang, &sample.xs)?;
    match Cholesky::new(&h, "H^inf (wang)") {
        Ok(ch) => {
            point.complexity = Some(ch.quad_inv(&sample.f_star)?.sqrt());
            point.complexity_raw = Some(ch.quad_inv(&sample.f_raw)?.sqrt());
            point.complexity_labels = Some(ch.quad_inv(&sample.labels)?.sqrt());
        }
        Err(e @ Error::NotPositiveDefinite { .. }) => {
            point.skipped = Some(format!("L = {len}: {e}"));
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

fn fitted(points: &[ComplexityPoint], x: impl Fn(&ComplexityPoint) -> f64) -> (Vec<f64>, Vec<f64>) {
    points
        .iter()
        .filter_map(|p| p.complexity.map(|c| (x(p), c.ln())))
        .unzip()
}

fn spec_of(len: usize, d: usize, c_min: f64, c_max: f64) -> InputSpec {
    InputSpec {
        len,
        d,
        c_min,
        c_max,
    }
}

// ---------------------------------------------------------------- rnn-length

/// Settings of `rnn-length`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LengthSettings {
    /// Scale.
    pub scale: Scale,
    /// Seed.
    pub seed: u64,
    /// Samples n.
    pub n: usize,
    /// Input dimension d.
    pub d: usize,
    /// C_min.
    pub c_min: f64,
    /// C_max.
    pub c_max: f64,
    /// Sequence lengths L.
    pub lens: Vec<usize>,
    /// ψ (an [`AnalyticFn::parse`] name), the same at every position.
    pub psi: String,
    /// Terms ψ_{ℓ,r} per position.
    pub per_position: usize,
    /// ‖β_{ℓ,r}‖.
    pub beta_norm: f64,
    /// τ: samples with |F\*_raw| < τ are dropped, F\* = F\*_raw/τ.
    pub threshold: f64,
    /// SGD learning curves: the settings of the second part (see [`SgdCurveSettings`]).
    pub sgd: SgdCurveSettings,
}

/// Settings of `rnn-length`'s SGD learning curves (seed 004 Theorem 2's setting): the `wang`
/// network (eq. 14) trained on W by mini-batch SGD (batch 1 = Algorithm 1) with the logistic
/// loss on y·f (eq. 16), labels y = sign F\* of the same additive target as the kernel part at
/// that L (same stream), with the same margin rule (drop |F\*_raw| < τ).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SgdCurveSettings {
    /// Sequence lengths L of the curves (each gets its own target, as in the kernel part).
    pub lens: Vec<usize>,
    /// Training-set sizes N (nested prefixes of one pool per L).
    pub sizes: Vec<usize>,
    /// Test sequences per L.
    pub n_test: usize,
    /// Width m.
    pub width: usize,
    /// Step size η.
    pub eta: f64,
    /// SGD steps T at every N (when `epochs` is `None`).
    pub steps: usize,
    /// Passes over the data: T = ceil(epochs · N / batch) (one pass with batch 1 is Theorem 2's
    /// Algorithm 1, T = n); `None` uses `steps` at every N.
    pub epochs: Option<f64>,
    /// Samples per step.
    pub batch: usize,
    /// Records per run (every ceil(T / records) steps, plus step 0 and the last).
    pub records: usize,
    /// Training objective over at most this many training samples.
    pub train_eval_subset: usize,
    /// Precision of training.
    pub precision: Precision,
    /// Progress bars on stderr (not part of the results).
    #[serde(skip)]
    pub progress: bool,
}

impl SgdCurveSettings {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if self.lens.is_empty() || self.lens.contains(&0) {
            return Err(Error::invalid(
                "sgd.lens",
                format!("need at least one L >= 1, got {:?}", self.lens),
            ));
        }
        if self.sizes.is_empty() || self.sizes.contains(&0) {
            return Err(Error::invalid(
                "sgd.sizes",
                format!("need at least one N >= 1, got {:?}", self.sizes),
            ));
        }
        for (name, v) in [
            ("sgd.n_test", self.n_test),
            ("sgd.width", self.width),
            ("sgd.batch", self.batch),
            ("sgd.records", self.records),
            ("sgd.train_eval_subset", self.train_eval_subset),
        ] {
            if v == 0 {
                return Err(Error::invalid(name, "must be at least 1"));
            }
        }
        if !(self.eta > 0.0 && self.eta.is_finite()) {
            return Err(Error::invalid(
                "sgd.eta",
                format!("must be positive and finite, got {}", self.eta),
            ));
        }
        if let Some(e) = self.epochs {
            if !(e > 0.0 && e.is_finite()) {
                return Err(Error::invalid(
                    "sgd.epochs",
                    format!("must be positive and finite, got {e}"),
                ));
            }
        }
        Ok(())
    }

    /// SGD steps at training-set size N.
    pub fn steps_for(&self, n: usize) -> usize {
        match self.epochs {
            Some(e) => ((e * n as f64) / self.batch as f64).ceil().max(1.0) as usize,
            None => self.steps,
        }
    }
}

impl LengthSettings {
    /// Defaults: quick n = 200, L ∈ {2, 4, …, 32}; paper n = 1000, L ∈ {2, 4, …, 128}; d = 3,
    /// norms in [0.5, 1], ψ = sin, one term per position, ‖β‖ = 1, τ = 0.1.
    pub fn new(scale: Scale, seed: u64) -> Self {
        let (n, lens) = match scale {
            Scale::Quick => (200, vec![2, 4, 8, 16, 32]),
            Scale::Paper => (1000, vec![2, 4, 8, 16, 32, 64, 128]),
        };
        LengthSettings {
            scale,
            seed,
            n,
            d: 3,
            c_min: 0.5,
            c_max: 1.0,
            lens,
            psi: "sin".into(),
            per_position: 1,
            beta_norm: 1.0,
            threshold: 0.1,
            sgd: SgdCurveSettings::new(scale),
        }
    }
}

impl SgdCurveSettings {
    /// Defaults: Theorem 2's Algorithm 1 exactly (batch 1, one pass: T = N draws with
    /// replacement from the N training sequences), η = 0.1, 20 records, f32. Quick:
    /// L ∈ {2, 4, 8}, N ∈ {100, 400, 1600, 6400}, 500 test sequences, m = 128. Paper:
    /// L ∈ {2, 4, 8, 16}, N ∈ {100, 400, …, 25600}, 2000 test sequences, m = 512.
    ///
    /// Why one pass: with a fixed T and several epochs the `wang` network underfits at these
    /// widths (measured at m = 128, L = 2: full-batch GD with η = 0.2 takes the training loss of
    /// 50 sequences only from 0.686 to 0.464 in 2000 steps; η = 1 oscillates), so the curves
    /// would measure optimization, not samples. η = 0.1: η ≥ 0.25 diverges at L = 8 with
    /// mini-batches of 32, and the finite-width kernel at m = 128 is 10–40× worse conditioned
    /// along the labels than H^∞ (y^T H^-1 y ≈ 5000–10000 against 150–360 for n = 100).
    pub fn new(scale: Scale) -> Self {
        let (lens, sizes, n_test, width) = match scale {
            Scale::Quick => (vec![2, 4, 8], vec![100, 400, 1600, 6400], 500, 128),
            Scale::Paper => (
                vec![2, 4, 8, 16],
                vec![100, 400, 1600, 6400, 25_600],
                2000,
                512,
            ),
        };
        SgdCurveSettings {
            lens,
            sizes,
            n_test,
            width,
            eta: 0.1,
            steps: 1000,
            epochs: Some(1.0),
            batch: 1,
            records: 20,
            train_eval_subset: 256,
            precision: Precision::F32,
            progress: false,
        }
    }
}

/// Typed result of `rnn-length`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LengthResult {
    /// Settings.
    pub settings: LengthSettings,
    /// One point per L.
    pub points: Vec<ComplexityPoint>,
    /// Slope of ln c against ln L (the power-law exponent).
    pub power_exponent: f64,
    /// Residual sum of squares of that fit.
    pub power_rss: f64,
    /// Slope of ln c against L (the exponential rate).
    pub exp_rate: f64,
    /// Residual sum of squares of that fit.
    pub exp_rss: f64,
    /// SGD learning curves, one per L of `settings.sgd.lens`.
    pub curves: Vec<LearningCurve>,
}

/// One SGD run of the learning curves.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CurvePoint {
    /// L.
    pub len: usize,
    /// N.
    pub n_train: usize,
    /// Final test 0-1 error of sign(f) (NaN if the run failed).
    pub test_error: f64,
    /// Mean test error over the records (steps 0, every ⌈T/records⌉, T): an estimate of
    /// Theorem 2's (1/T) Σ_k L^{0-1}_D(W^k).
    pub avg_test_error: f64,
    /// Lowest test error over the records.
    pub best_test_error: f64,
    /// Final mean test logistic loss.
    pub test_loss: f64,
    /// Final mean training logistic loss.
    pub train_loss: f64,
    /// Steps of the records.
    pub record_steps: Vec<usize>,
    /// Test error at the records.
    pub test_error_curve: Vec<f64>,
    /// ‖W_T − W_0‖_F.
    pub w_shift_fro: f64,
    /// Seconds.
    pub seconds: f64,
    /// Why the run failed (e.g. divergence), if it did.
    pub failed: Option<String>,
}

/// The SGD learning curve of one L.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LearningCurve {
    /// L.
    pub len: usize,
    /// Sequences drawn for the training pool and the test set.
    pub drawn: usize,
    /// Of which dropped for |F\*_raw| < τ.
    pub dropped: usize,
    /// Fraction of +1 labels in the test set (the error of the better constant is min(q, 1 − q)).
    pub test_positive_fraction: f64,
    /// One run per N, in `sizes` order.
    pub runs: Vec<CurvePoint>,
    /// Spearman correlation of N with the final test error.
    pub spearman_n_error: f64,
}

/// The additive target of length L (eq. 9) and the stream it was drawn from, which then draws
/// the kernel part's sample: the same target for the kernel part and the learning curves.
fn length_concept(
    settings: &LengthSettings,
    len: usize,
    psi: &AnalyticFn,
) -> Result<(AdditiveConcept, WRng)> {
    let mut g = rng::stream(settings.seed, &format!("rnn-length/L={len}"));
    let concept = AdditiveConcept::random(
        len,
        settings.d,
        settings.per_position,
        psi,
        settings.beta_norm,
        &mut g,
    )?;
    Ok((concept, g))
}

/// Cache key of one learning-curve run: everything that changes it.
#[derive(Serialize)]
struct CurveKey<'a> {
    seed: u64,
    d: usize,
    c_min: f64,
    c_max: f64,
    psi: &'a str,
    per_position: usize,
    beta_norm: f64,
    threshold: f64,
    sgd: &'a SgdCurveSettings,
    len: usize,
    n_train: usize,
}

fn train_curve_point<T: Real>(
    s: &SgdCurveSettings,
    train: &ConceptSample,
    test: &ConceptSample,
    len: usize,
    n: usize,
    seed: u64,
) -> Result<CurvePoint> {
    let obj = Objective::wang();
    let idx: Vec<usize> = (0..n).collect();
    let xs: Vec<Matrix<T>> = train
        .xs
        .iter()
        .map(|m| m.select_rows(&idx).cast())
        .collect();
    let train_data = RnnData::from_labels(xs, &train.labels[..n], &obj)?;
    let test_xs: Vec<Matrix<T>> = test.xs.iter().map(|m| m.cast()).collect();
    let test_data = RnnData::from_labels(test_xs, &test.labels, &obj)?;
    let tag = format!("rnn-length/L={len}");
    let init: u64 = rng::stream(seed, &format!("{tag}/sgd-init")).random();
    let net = Rnn::<T>::wang(s.width, train.xs[0].cols(), len, init)?;
    let steps = s.steps_for(n);
    let cfg = RnnSgdConfig {
        eta: s.eta,
        steps,
        batch: s.batch,
        eval_every: steps.div_ceil(s.records).max(1),
        eval_subset: Some(s.train_eval_subset),
        progress: s.progress,
        seed: rng::stream(seed, &format!("{tag}/N={n}/sgd")).random(),
    };
    let mut p = CurvePoint {
        len,
        n_train: n,
        test_error: f64::NAN,
        avg_test_error: f64::NAN,
        best_test_error: f64::NAN,
        test_loss: f64::NAN,
        train_loss: f64::NAN,
        record_steps: Vec::new(),
        test_error_curve: Vec::new(),
        w_shift_fro: f64::NAN,
        seconds: 0.0,
        failed: None,
    };
    match train_rnn_sgd(net, &train_data, Some(&test_data), &obj, &cfg) {
        Ok(o) => {
            let h = o.history;
            p.test_error = *h.test_error.last().unwrap_or(&f64::NAN);
            p.best_test_error = h.test_error.iter().cloned().fold(f64::INFINITY, f64::min);
            p.avg_test_error = h.test_error.iter().sum::<f64>() / h.test_error.len().max(1) as f64;
            p.test_loss = *h.test_objective.last().unwrap_or(&f64::NAN);
            p.train_loss = *h.train_objective.last().unwrap_or(&f64::NAN);
            p.record_steps = h.step;
            p.test_error_curve = h.test_error;
            p.w_shift_fro = h.w_shift_fro;
            p.seconds = h.seconds;
        }
        Err(e @ (Error::Diverged { .. } | Error::Numerical(_))) => p.failed = Some(e.to_string()),
        Err(e) => return Err(e),
    }
    Ok(p)
}

/// SGD test error against N for every L of `settings.sgd` (the second part of `rnn-length`);
/// each (L, N) run is cached in `dir/runs/`.
pub fn learning_curves(settings: &LengthSettings, dir: &Path) -> Result<Vec<LearningCurve>> {
    let s = &settings.sgd;
    s.validate()?;
    let psi = AnalyticFn::parse(&settings.psi)?;
    let cache = RunCache::new(dir).verbose(s.progress);
    let n_max = *s.sizes.iter().max().expect("validated");
    let max_draws = |n: usize| 1000 * n + 1000;
    let mut curves = Vec::new();
    for &len in &s.lens {
        let spec = spec_of(len, settings.d, settings.c_min, settings.c_max);
        spec.check()?;
        let (concept, _) = length_concept(settings, len, &psi)?;
        let concept = Concept::Additive(concept);
        let tag = format!("rnn-length/L={len}");
        let mut g = rng::stream(settings.seed, &format!("{tag}/sgd-train"));
        let train = draw(
            &spec,
            &concept,
            n_max,
            settings.threshold,
            max_draws(n_max),
            &mut g,
        )?;
        let mut g = rng::stream(settings.seed, &format!("{tag}/sgd-test"));
        let test = draw(
            &spec,
            &concept,
            s.n_test,
            settings.threshold,
            max_draws(s.n_test),
            &mut g,
        )?;
        let mut runs = Vec::new();
        for &n in &s.sizes {
            let key = CurveKey {
                seed: settings.seed,
                d: settings.d,
                c_min: settings.c_min,
                c_max: settings.c_max,
                psi: &settings.psi,
                per_position: settings.per_position,
                beta_norm: settings.beta_norm,
                threshold: settings.threshold,
                sgd: s,
                len,
                n_train: n,
            };
            let (p, _) =
                cache.get_or_run(&format!("sgd_L{len}_N{n}"), &key, || match s.precision {
                    Precision::F32 => {
                        train_curve_point::<f32>(s, &train, &test, len, n, settings.seed)
                    }
                    Precision::F64 => {
                        train_curve_point::<f64>(s, &train, &test, len, n, settings.seed)
                    }
                })?;
            runs.push(p);
        }
        let ns: Vec<f64> = runs.iter().map(|p| p.n_train as f64).collect();
        let errs: Vec<f64> = runs.iter().map(|p| p.test_error).collect();
        curves.push(LearningCurve {
            len,
            drawn: train.drawn + test.drawn,
            dropped: train.dropped + test.dropped,
            test_positive_fraction: test.labels.iter().filter(|&&y| y > 0.0).count() as f64
                / test.labels.len() as f64,
            runs,
            spearman_n_error: spearman(&ns, &errs),
        });
    }
    Ok(curves)
}

/// Runs `rnn-length` (the kernel part and the SGD learning curves) and writes
/// `out/rnn-length/` (result.json, rnn_length.csv, rnn_length_sgd.csv, both figures and the
/// cached SGD runs in runs/).
pub fn run_length(
    settings: &LengthSettings,
    out: &Path,
) -> Result<(ExperimentOutput, LengthResult)> {
    run_typed(&RnnLength, settings, &Context::new(out))
}

fn compute_run_length(
    settings: &LengthSettings,
    dir: &Path,
    progress: bool,
) -> Result<(LengthResult, Artifacts)> {
    let mut own = settings.clone();
    own.sgd.progress = progress;
    let settings = &own;
    let psi = AnalyticFn::parse(&settings.psi)?;
    let mut points = Vec::new();
    for &len in &settings.lens {
        let spec = spec_of(len, settings.d, settings.c_min, settings.c_max);
        spec.check()?;
        let (concept, mut g) = length_concept(settings, len, &psi)?;
        let closed = concept_additive(&concept.psis_per_position(), spec.c0(), REL_TOL)?;
        let sample = draw(
            &spec,
            &Concept::Additive(concept),
            settings.n,
            settings.threshold,
            1000 * settings.n + 1000,
            &mut g,
        )?;
        let mut p = ComplexityPoint {
            len,
            n_vars: 1,
            l0: len - 1,
            positions: Vec::new(),
            drawn: sample.drawn,
            dropped: sample.dropped,
            complexity: None,
            complexity_raw: None,
            complexity_labels: None,
            closed_form_log10: closed.log10_value(),
            closed_form_parts_log10: None,
            skipped: None,
        };
        measure(&sample, len, &mut p)?;
        points.push(p);
    }
    let (lx, ly) = fitted(&points, |p| (p.len as f64).ln());
    let (power_exponent, _, power_rss) = least_squares(&lx, &ly);
    let (x, ly2) = fitted(&points, |p| p.len as f64);
    let (exp_rate, _, exp_rss) = least_squares(&x, &ly2);
    let curves = learning_curves(settings, dir)?;
    let result = LengthResult {
        settings: settings.clone(),
        points,
        power_exponent,
        power_rss,
        exp_rate,
        exp_rss,
        curves,
    };
    let lens: Vec<f64> = result.points.iter().map(|p| p.len as f64).collect();
    let (mut files, mut figs) = write_outputs(
        dir,
        "rnn_length",
        "L",
        &lens,
        &result.points,
        "Seed 004: complexity of additive targets against the length L (wang H^inf)",
        "sequence length L",
    )?;
    let (f2, g2) = write_curves(dir, &result.curves)?;
    files.extend(f2);
    figs.extend(g2);
    let description = format!(
            "n = {} sequences, d = {}, ||X_l|| uniform in [{}, {}], L in {:?}; F* = sum_l \
             {}(beta_l^T X_l/||X_l||) ({} term(s) per position, ||beta|| = {}); samples with \
             |F*| < {} dropped, y~ = F*/{}. Complexity sqrt(y~^T (H^inf)^-1 y~) with the wang \
             preset's H^inf by Cholesky, next to seed 004 eq. 10 (log10, unscaled psi). Power-law \
             exponent {:.3} (RSS {:.3e}) against exponential rate {:.3}/step (RSS {:.3e}). \
             SGD learning curves (seed 004 Theorem 2's setting): the wang network (eq. 14), m = {}, \
             trained on W by SGD (batch {}, eta = {}, {}, {:?}) with the logistic loss on y f \
             (eq. 16), labels y = sign F* of the same target at each L in {:?} (same margin \
             rule), N in {:?}, {} test sequences; test 0-1 error of sign(f) averaged over the \
             iterates (Theorem 2's quantity, solid) and at the last one (dashed).",
            settings.n,
            settings.d,
            settings.c_min,
            settings.c_max,
            settings.lens,
            settings.psi,
            settings.per_position,
            settings.beta_norm,
            settings.threshold,
            settings.threshold,
            result.power_exponent,
            result.power_rss,
            result.exp_rate,
            result.exp_rss,
            settings.sgd.width,
            settings.sgd.batch,
            settings.sgd.eta,
            match settings.sgd.epochs {
                Some(e) => format!("T = {e} x N / batch steps"),
                None => format!("T = {} steps at every N", settings.sgd.steps),
            },
            settings.sgd.precision,
            settings.sgd.lens,
            settings.sgd.sizes,
            settings.sgd.n_test
        );
    Ok((
        result,
        Artifacts {
            description,
            figures: figs,
            files,
        },
    ))
}

fn smallest_largest(c: &LearningCurve) -> (&CurvePoint, &CurvePoint) {
    let lo = c.runs.iter().min_by_key(|p| p.n_train).expect(">= 1 run");
    let hi = c.runs.iter().max_by_key(|p| p.n_train).expect(">= 1 run");
    (lo, hi)
}

/// The learning curves' claims, on Theorem 2's quantity (1/T) Σ_k L^{0-1}_D(W^k) (the test
/// error averaged over the records): (1) for every L it is lower at the largest N than at the
/// smallest N (eq. 17 bounds it by Õ(C\*²/N)); (2) at the largest N it is at least 0.1 below the
/// better constant predictor's error min(q, 1 − q) (q the test set's fraction of +1) for every
/// L: the target is learned at every length, not only at short ones.
/// The claims of `rnn-length`, from its saved result.
fn length_claims(r: &LengthResult) -> Vec<Claim> {
    let (lx, _) = fitted(&r.points, |p| (p.len as f64).ln());
    let (power_exponent, power_rss, exp_rate, exp_rss) =
        (r.power_exponent, r.power_rss, r.exp_rate, r.exp_rss);
    let used = lx.len();
    let mut claims = vec![Claim::new(
        "additive targets (eq. 9): sqrt(y~^T (H^inf)^-1 y~) grows polynomially, not exponentially, \
         in L: the least-squares fit of ln c on ln L has a residual sum of squares no larger than \
         that of ln c on L (needs >= 3 non-skipped lengths)",
        used >= 3 && power_rss <= exp_rss,
        json!({
            "power_exponent": power_exponent, "power_rss": power_rss,
            "exp_rate_per_step": exp_rate, "exp_rss": exp_rss, "points_used": used,
            "complexity": r.points.iter().map(|p| p.complexity).collect::<Vec<_>>(),
            "lens": r.settings.lens,
        }),
    )];
    claims.extend(curve_claims(&r.curves));
    claims
}

fn curve_claims(curves: &[LearningCurve]) -> Vec<Claim> {
    if curves.is_empty() {
        return Vec::new();
    }
    let falls = curves.iter().all(|c| {
        let (lo, hi) = smallest_largest(c);
        hi.avg_test_error < lo.avg_test_error
    });
    let margin = 0.1;
    let baseline = |c: &LearningCurve| c.test_positive_fraction.min(1.0 - c.test_positive_fraction);
    let learned = curves.iter().all(|c| {
        let (_, hi) = smallest_largest(c);
        hi.avg_test_error <= baseline(c) - margin
    });
    vec![
        Claim::new(
            "seed 004 Theorem 2 (Algorithm 1 on W, logistic loss, additive targets): the SGD \
             test error averaged over the iterates falls with the number of samples: for every \
             L it is lower at the largest N than at the smallest N",
            falls,
            json!(curves
                .iter()
                .map(|c| json!({
                    "L": c.len,
                    "N": c.runs.iter().map(|p| p.n_train).collect::<Vec<_>>(),
                    "avg_test_error": c.runs.iter().map(|p| p.avg_test_error).collect::<Vec<_>>(),
                    "final_test_error": c.runs.iter().map(|p| p.test_error).collect::<Vec<_>>(),
                    "spearman_N_final_error": c.spearman_n_error,
                }))
                .collect::<Vec<_>>()),
        ),
        Claim::new(
            format!(
                "seed 004 Theorem 2: SGD learns additive targets at every length: at the largest \
                 N the iterate-averaged test error is at least {margin} below the better constant \
                 predictor's for every L"
            ),
            learned,
            json!(curves
                .iter()
                .map(|c| {
                    let (_, hi) = smallest_largest(c);
                    json!({"L": c.len, "N": hi.n_train, "avg_test_error": hi.avg_test_error,
                           "final_test_error": hi.test_error,
                           "constant_predictor_error": baseline(c), "failed": hi.failed})
                })
                .collect::<Vec<_>>()),
        ),
    ]
}

fn write_curves(
    dir: &Path,
    curves: &[LearningCurve],
) -> Result<(Vec<std::path::PathBuf>, Vec<std::path::PathBuf>)> {
    if curves.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut fig = Figure::new(
        "Seed 004: SGD test error against N for additive targets (wang, logistic loss)",
        "training samples N",
        "test 0-1 error",
    )
    .with_log(true, false);
    for (k, c) in curves.iter().enumerate() {
        let ns: Vec<f64> = c.runs.iter().map(|p| p.n_train as f64).collect();
        fig.push(
            Series::new(
                format!("L = {}, averaged over iterates", c.len),
                ns.clone(),
                c.runs.iter().map(|p| p.avg_test_error).collect(),
                Style::Line,
            )
            .with_color(k),
        );
        fig.push(
            Series::new(
                format!("L = {}, final iterate", c.len),
                ns,
                c.runs.iter().map(|p| p.test_error).collect(),
                Style::Dashed,
            )
            .with_color(k),
        );
    }
    let ns: Vec<f64> = curves[0].runs.iter().map(|p| p.n_train as f64).collect();
    let (nmin, nmax) = (
        ns.iter().cloned().fold(f64::INFINITY, f64::min),
        ns.iter().cloned().fold(0.0, f64::max),
    );
    fig.push(
        Series::new(
            "chance (0.5)",
            vec![nmin, nmax],
            vec![0.5, 0.5],
            Style::Dashed,
        )
        .with_color(7),
    );
    let (png, _) = save_figure(&fig, dir, "rnn_length_sgd")?;
    let rows: Vec<&CurvePoint> = curves.iter().flat_map(|c| c.runs.iter()).collect();
    let col = |f: &dyn Fn(&CurvePoint) -> f64| -> Vec<f64> { rows.iter().map(|p| f(p)).collect() };
    let csv = dir.join("rnn_length_sgd.csv");
    write_csv(
        &csv,
        &[
            "L",
            "N",
            "test_error",
            "avg_test_error",
            "best_test_error",
            "test_loss",
            "train_loss",
            "w_shift_fro",
            "seconds",
        ],
        &[
            col(&|p| p.len as f64),
            col(&|p| p.n_train as f64),
            col(&|p| p.test_error),
            col(&|p| p.avg_test_error),
            col(&|p| p.best_test_error),
            col(&|p| p.test_loss),
            col(&|p| p.train_loss),
            col(&|p| p.w_shift_fro),
            col(&|p| p.seconds),
        ],
    )?;
    Ok((vec![csv], vec![png]))
}

#[allow(clippy::too_many_arguments)]
fn write_outputs(
    dir: &Path,
    stem: &str,
    x_name: &str,
    xv: &[f64],
    points: &[ComplexityPoint],
    title: &str,
    x_label: &str,
) -> Result<(Vec<std::path::PathBuf>, Vec<std::path::PathBuf>)> {
    let keep: Vec<(f64, &ComplexityPoint)> = xv
        .iter()
        .copied()
        .zip(points)
        .filter(|(_, p)| p.complexity.is_some())
        .collect();
    let kx: Vec<f64> = keep.iter().map(|(x, _)| *x).collect();
    let get = |f: &dyn Fn(&ComplexityPoint) -> Option<f64>| -> Vec<f64> {
        keep.iter().map(|(_, p)| f(p).unwrap_or(f64::NAN)).collect()
    };
    let fig = Figure {
        title: title.into(),
        x_label: x_label.into(),
        y_label: "sqrt(y~^T (H^inf)^-1 y~)".into(),
        log_x: false,
        log_y: true,
        series: vec![
            Series::new(
                "y~ = F*/tau",
                kx.clone(),
                get(&|p| p.complexity),
                Style::Line,
            )
            .with_color(0),
            Series::new(
                "y~ = F* raw",
                kx.clone(),
                get(&|p| p.complexity_raw),
                Style::Dashed,
            )
            .with_color(1),
            Series::new(
                "labels y",
                kx.clone(),
                get(&|p| p.complexity_labels),
                Style::Points,
            )
            .with_color(2),
        ],
    };
    let (png, _) = save_figure(&fig, dir, stem)?;
    let csv = dir.join(format!("{stem}.csv"));
    let col = |f: &dyn Fn(&ComplexityPoint) -> f64| -> Vec<f64> { points.iter().map(f).collect() };
    write_csv(
        &csv,
        &[
            x_name,
            "complexity",
            "complexity_raw",
            "complexity_labels",
            "closed_form_log10",
            "dropped",
            "drawn",
        ],
        &[
            xv.to_vec(),
            col(&|p| p.complexity.unwrap_or(f64::NAN)),
            col(&|p| p.complexity_raw.unwrap_or(f64::NAN)),
            col(&|p| p.complexity_labels.unwrap_or(f64::NAN)),
            col(&|p| p.closed_form_log10),
            col(&|p| p.dropped as f64),
            col(&|p| p.drawn as f64),
        ],
    )?;
    Ok((vec![csv], vec![png]))
}

// ---------------------------------------------------------------- rnn-nvar

/// Settings of `rnn-nvar`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NvarSettings {
    /// Scale.
    pub scale: Scale,
    /// Seed.
    pub seed: u64,
    /// Samples n.
    pub n: usize,
    /// Input dimension d.
    pub d: usize,
    /// C_min.
    pub c_min: f64,
    /// C_max.
    pub c_max: f64,
    /// Sequence length L.
    pub len: usize,
    /// ψ (an [`AnalyticFn::parse`] name).
    pub psi: String,
    /// Number of terms ψ_r.
    pub terms: usize,
    /// ‖β_r‖.
    pub beta_norm: f64,
    /// τ: samples with |F\*_raw| < τ are dropped, F\* = F\*_raw/τ.
    pub threshold: f64,
    /// The N swept at fixed l_0 = `l0_for_n` (positions spread evenly over
    /// L − l_0 .. L, both ends included).
    pub ns: Vec<usize>,
    /// l_0 of the N sweep.
    pub l0_for_n: usize,
    /// The l_0 swept at N = `n_for_l0` (positions spread evenly over L − l_0 .. L).
    pub l0s: Vec<usize>,
    /// N of the l_0 sweep.
    pub n_for_l0: usize,
}

impl NvarSettings {
    /// Defaults: quick n = 200, L = 8, N ∈ {2..6} at l_0 = 7, l_0 ∈ {1, 2, 3, 5, 7} at N = 2;
    /// paper n = 1000, L = 16, N ∈ {2..8} at l_0 = 15, l_0 ∈ {1, 2, 4, 8, 15} at N = 2; d = 3,
    /// norms in [0.5, 1], ψ = exp (e^z − 1, seed 004 Example 2.2), one term, ‖β‖ = 1, τ = 0.05.
    pub fn new(scale: Scale, seed: u64) -> Self {
        let (n, len, ns, l0s) = match scale {
            Scale::Quick => (200, 8, vec![2, 3, 4, 5, 6], vec![1, 2, 3, 5, 7]),
            Scale::Paper => (1000, 16, (2..=8).collect(), vec![1, 2, 4, 8, 15]),
        };
        NvarSettings {
            scale,
            seed,
            n,
            d: 3,
            c_min: 0.5,
            c_max: 1.0,
            len,
            psi: "exp".into(),
            terms: 1,
            beta_norm: 1.0,
            threshold: 0.05,
            ns,
            l0_for_n: len - 1,
            l0s,
            n_for_l0: 2,
        }
    }
}

/// Positions l_1..l_N spread evenly over L − l_0 ..= L (1-based; l_0 = max − min exactly when
/// N ≥ 2; N = 1 gives {L}).
pub fn spread_positions(len: usize, n_vars: usize, l0: usize) -> Vec<usize> {
    let start = len - l0;
    if n_vars <= 1 {
        return vec![len];
    }
    (0..n_vars)
        .map(|k| start + ((k * l0) as f64 / (n_vars - 1) as f64).round() as usize)
        .collect()
}

/// Typed result of `rnn-nvar`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NvarResult {
    /// Settings.
    pub settings: NvarSettings,
    /// The N sweep.
    pub by_n: Vec<ComplexityPoint>,
    /// The l_0 sweep.
    pub by_l0: Vec<ComplexityPoint>,
    /// Slope of ln c against N.
    pub rate_n: f64,
    /// Slope of ln c against l_0.
    pub rate_l0: f64,
}

fn nvar_point(
    s: &NvarSettings,
    psi: &AnalyticFn,
    n_vars: usize,
    l0: usize,
    tag: &str,
) -> Result<ComplexityPoint> {
    if l0 >= s.len {
        return Err(Error::invalid(
            "l0",
            format!("l0 = {l0} must be <= L - 1 = {}", s.len - 1),
        ));
    }
    let spec = spec_of(s.len, s.d, s.c_min, s.c_max);
    spec.check()?;
    let positions = spread_positions(s.len, n_vars, l0);
    let mut g = rng::stream(s.seed, &format!("rnn-nvar/{tag}/N={n_vars}/l0={l0}"));
    let concept = NVariableConcept::random(
        s.len,
        s.d,
        positions.clone(),
        s.terms,
        psi,
        s.beta_norm,
        &mut g,
    )?;
    let real_l0 = concept.l0();
    let closed = concept_n_variable(&concept.psis(), n_vars, s.len, real_l0, spec.c0(), C1)?;
    let sample = draw(
        &spec,
        &Concept::NVariable(concept),
        s.n,
        s.threshold,
        1000 * s.n + 1000,
        &mut g,
    )?;
    let mut p = ComplexityPoint {
        len: s.len,
        n_vars,
        l0: real_l0,
        positions,
        drawn: sample.drawn,
        dropped: sample.dropped,
        complexity: None,
        complexity_raw: None,
        complexity_labels: None,
        closed_form_log10: closed.value.log10_value(),
        closed_form_parts_log10: Some((
            closed.multinomial_form.log10_value(),
            closed.distance_form.log10_value(),
        )),
        skipped: None,
    };
    measure(&sample, s.len, &mut p)?;
    Ok(p)
}

/// Measured complexity over eq. 12's bound C(F*) at each point, both for the unscaled ψ:
/// sqrt(F*_rawᵀ(H^∞)⁻¹F*_raw) / C(F*) (None when the point was skipped).
fn bound_ratios(ps: &[ComplexityPoint]) -> Vec<Option<f64>> {
    ps.iter()
        .map(|p| {
            p.complexity_raw
                .map(|c| c / 10f64.powf(p.closed_form_log10))
        })
        .collect()
}

/// The claims of `rnn-nvar` (seed 004 Remark 2.2, eq. 12), from its saved result.
fn nvar_claims(r: &NvarResult) -> Vec<Claim> {
    let s = &r.settings;
    let vals = |ps: &[ComplexityPoint]| -> serde_json::Value {
        json!(ps
            .iter()
            .zip(bound_ratios(ps))
            .map(
                |(p, ratio)| json!({"N": p.n_vars, "l0": p.l0, "complexity": p.complexity,
                "complexity_raw": p.complexity_raw,
                "bound_log10": p.closed_form_log10,
                "bound_parts_log10": p.closed_form_parts_log10,
                "measured_over_bound": ratio, "skipped": p.skipped})
            )
            .collect::<Vec<_>>())
    };
    let all_measured = |ps: &[ComplexityPoint]| ps.iter().all(|p| p.complexity_raw.is_some());
    let under =
        |ps: &[ComplexityPoint]| bound_ratios(ps).iter().all(|r| r.is_some_and(|x| x <= 1.0));
    // the l0 form of eq. 12, L^3 C(psi, 2^l0 C0 sqrt(L)), next to the measured growth
    let l0_form: Vec<f64> = r
        .by_l0
        .iter()
        .filter_map(|p| p.closed_form_parts_log10.map(|(_, b)| b))
        .collect();
    let measured_l0: Vec<f64> = r.by_l0.iter().filter_map(|p| p.complexity_raw).collect();
    let growth = |v: &[f64]| match (v.first(), v.last()) {
        (Some(a), Some(b)) if v.len() >= 2 => b / a,
        _ => f64::NAN,
    };
    let measured_growth = growth(&measured_l0);
    let l0_form_growth_log10 = match (l0_form.first(), l0_form.last()) {
        (Some(a), Some(b)) if l0_form.len() >= 2 => b - a,
        _ => f64::NAN,
    };
    let small_n = s.n_for_l0 <= 2;
    vec![
        Claim::new(
            format!(
                "N = {} with l0 up to {} (of L - 1 = {}): the measured complexity stays under \
                 eq. 12's bound at every l0 (ratio measured/bound <= 1), and grows by a factor \
                 far below the exponential l0 form L^3 C(psi, 2^l0 C0 sqrt(L)) of the bound \
                 (measured growth < 10^(growth of that form in log10) / 10)",
                s.n_for_l0,
                s.l0s.iter().max().copied().unwrap_or(0),
                s.len.saturating_sub(1)
            ),
            under(&r.by_l0)
                && measured_growth.is_finite()
                && (!l0_form_growth_log10.is_finite()
                    || measured_growth.log10() < l0_form_growth_log10 - 1.0),
            json!({"points": vals(&r.by_l0), "measured_growth_over_l0": measured_growth,
                   "l0_form_growth_log10": l0_form_growth_log10,
                   "ln_slope_per_l0": r.rate_l0}),
        )
        .paper(
            "004",
            "Remark 2.2",
            "when N is small (e.g. N = 2), even if l0 = L - 1, functions of the form \
             f(beta^T [X_l, X_(l+l0)]) are still learnable with a low complexity",
        )
        .requires(
            all_measured(&r.by_l0),
            "a point's H^inf was not positive definite",
        )
        .requires(
            small_n,
            "the remark is about small N (N = 2); set n_for_l0 = 2",
        ),
        Claim::new(
            format!(
                "eq. 12's bound holds at every N (l0 = {} fixed): measured complexity / bound \
                 <= 1; the bound grows exponentially in N, the measured complexity by the \
                 fitted ln-slope per N shown",
                s.l0_for_n
            ),
            under(&r.by_n),
            json!({"points": vals(&r.by_n), "ln_slope_per_N": r.rate_n}),
        )
        .paper(
            "004",
            "Remark 2.2, eq. 12",
            "the complexity sum_r C_N(psi_r, C0 sqrt(L)) and sum_r C(psi_r, 2^l0 C0 sqrt(L)) are \
             exponential in N and l0 respectively, and C(F*) is less or equal than both",
        )
        .requires(
            all_measured(&r.by_n),
            "a point's H^inf was not positive definite",
        ),
    ]
}

/// Runs `rnn-nvar` and writes `out/rnn-nvar/`.
pub fn run_nvar(settings: &NvarSettings, out: &Path) -> Result<(ExperimentOutput, NvarResult)> {
    run_typed(&RnnNvar, settings, &Context::new(out))
}

fn compute_run_nvar(
    settings: &NvarSettings,
    dir: &Path,
    progress: bool,
) -> Result<(NvarResult, Artifacts)> {
    let _ = progress;
    let psi = AnalyticFn::parse(&settings.psi)?;
    let by_n = settings
        .ns
        .iter()
        .map(|&nv| nvar_point(settings, &psi, nv, settings.l0_for_n, "by-n"))
        .collect::<Result<Vec<_>>>()?;
    let by_l0 = settings
        .l0s
        .iter()
        .map(|&l0| nvar_point(settings, &psi, settings.n_for_l0, l0, "by-l0"))
        .collect::<Result<Vec<_>>>()?;
    let (xn, yn) = fitted(&by_n, |p| p.n_vars as f64);
    let (xl, yl) = fitted(&by_l0, |p| p.l0 as f64);
    let rate_n = least_squares(&xn, &yn).0;
    let rate_l0 = least_squares(&xl, &yl).0;
    let result = NvarResult {
        settings: settings.clone(),
        by_n,
        by_l0,
        rate_n,
        rate_l0,
    };
    let xs_n: Vec<f64> = result.by_n.iter().map(|p| p.n_vars as f64).collect();
    let xs_l: Vec<f64> = result.by_l0.iter().map(|p| p.l0 as f64).collect();
    let (mut files, mut figs) = write_outputs(
        dir,
        "rnn_nvar_by_n",
        "N",
        &xs_n,
        &result.by_n,
        "Seed 004: complexity of N-variable targets against N (wang H^inf)",
        "N (number of positions)",
    )?;
    let (f2, g2) = write_outputs(
        dir,
        "rnn_nvar_by_l0",
        "l0",
        &xs_l,
        &result.by_l0,
        "Seed 004: complexity of N-variable targets against l0 (wang H^inf)",
        "l0 = max l_n - min l_n",
    )?;
    files.extend(f2);
    figs.extend(g2);
    let description = format!(
        "n = {} sequences, L = {}, d = {}, ||X_l|| uniform in [{}, {}]; F* = sum_r \
             {}(<beta_r, [X_l1..X_lN]>/(sqrt(N) max ||X_ln||)) ({} term(s), ||beta|| = {}), \
             positions spread evenly over L - l0 .. L; samples with |F*| < {} dropped, y~ = F*/{}. \
             N in {:?} at l0 = {}; l0 in {:?} at N = {}. Complexity sqrt(y~^T (H^inf)^-1 y~) with \
             the wang preset's H^inf by Cholesky, next to seed 004 eq. 12 (log10, unscaled psi).",
        settings.n,
        settings.len,
        settings.d,
        settings.c_min,
        settings.c_max,
        settings.psi,
        settings.terms,
        settings.beta_norm,
        settings.threshold,
        settings.threshold,
        settings.ns,
        settings.l0_for_n,
        settings.l0s,
        settings.n_for_l0
    );
    Ok((
        result,
        Artifacts {
            description,
            figures: figs,
            files,
        },
    ))
}

/// The experiment `rnn-length`.
pub struct RnnLength;

impl Experiment for RnnLength {
    type Settings = LengthSettings;
    type Results = LengthResult;
    fn name(&self) -> &'static str {
        "rnn-length"
    }
    fn title(&self) -> &'static str {
        "Recurrent complexity of additive targets against L, and SGD learning curves"
    }
    fn settings(&self, scale: Scale, seed: u64) -> LengthSettings {
        LengthSettings::new(scale, seed)
    }
    fn validate(&self, s: &LengthSettings) -> Result<()> {
        if s.lens.is_empty() || s.lens.contains(&0) {
            return Err(Error::invalid(
                "--set lens",
                format!("need at least one L >= 1, got {:?}", s.lens),
            ));
        }
        s.sgd.validate()
    }
    fn run(&self, s: &LengthSettings, ctx: &Context) -> Result<(LengthResult, Artifacts)> {
        compute_run_length(s, &ctx.dir("rnn-length"), ctx.progress)
    }
    fn claims(&self, s: &LengthSettings, r: &LengthResult) -> Vec<Claim> {
        let _ = s;
        super::claim::cite(
            length_claims(r),
            &[
                (
                    "004",
                    "Thm 1 (informal), §2.2",
                    "For (4) [additive targets], C(F*) is almost-polynomial in L",
                ),
                (
                    "004",
                    "Thm 2",
                    "SGD (Algorithm 1) on the RNN learns sign F* with 0-1 test error going \
                     down with the number of samples as sqrt(C(F*)^2 / n)",
                ),
            ],
        )
    }
}

/// The experiment `rnn-nvar`.
pub struct RnnNvar;

impl Experiment for RnnNvar {
    type Settings = NvarSettings;
    type Results = NvarResult;
    fn name(&self) -> &'static str {
        "rnn-nvar"
    }
    fn title(&self) -> &'static str {
        "Recurrent complexity of N-variable targets against N and l0"
    }
    fn settings(&self, scale: Scale, seed: u64) -> NvarSettings {
        NvarSettings::new(scale, seed)
    }
    fn run(&self, s: &NvarSettings, ctx: &Context) -> Result<(NvarResult, Artifacts)> {
        compute_run_nvar(s, &ctx.dir("rnn-nvar"), ctx.progress)
    }
    fn claims(&self, s: &NvarSettings, r: &NvarResult) -> Vec<Claim> {
        let _ = s;
        nvar_claims(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_the_epoch_rule() {
        let mut s = SgdCurveSettings::new(Scale::Quick);
        // one pass with batch 1 is Algorithm 1: T = N
        assert_eq!(s.steps_for(400), 400);
        s.batch = 16;
        s.epochs = Some(2.0);
        assert_eq!(s.steps_for(100), 13); // ceil(200/16)
        s.epochs = None;
        s.steps = 77;
        assert_eq!(s.steps_for(100), 77);
        s.epochs = Some(0.0);
        assert!(s.validate().unwrap_err().to_string().contains("sgd.epochs"));
        let mut s = SgdCurveSettings::new(Scale::Quick);
        s.sizes = vec![];
        assert!(s.validate().unwrap_err().to_string().contains("sgd.sizes"));
        s.sizes = vec![10];
        s.eta = f64::NAN;
        assert!(s.validate().unwrap_err().to_string().contains("sgd.eta"));
    }

    #[test]
    fn tiny_learning_curves_use_the_kernel_part_target_and_resume() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = LengthSettings::new(Scale::Quick, 5);
        s.sgd.lens = vec![2, 3];
        s.sgd.sizes = vec![20, 80];
        s.sgd.n_test = 50;
        s.sgd.width = 16;
        s.sgd.records = 4;
        let curves = learning_curves(&s, dir.path()).unwrap();
        assert_eq!(curves.len(), 2);
        for c in &curves {
            assert_eq!(c.runs.len(), 2);
            for p in &c.runs {
                assert!(p.failed.is_none(), "{:?}", p.failed);
                // one pass with batch 1: T = N steps, records at 0, every ceil(N/4), N
                assert_eq!(*p.record_steps.last().unwrap(), p.n_train);
                assert_eq!(p.record_steps[1], p.n_train.div_ceil(4));
                // Theorem 2's average is the mean of the recorded test errors
                let mean = p.test_error_curve.iter().sum::<f64>() / p.test_error_curve.len() as f64;
                assert!((p.avg_test_error - mean).abs() < 1e-15);
                assert!((0.0..=1.0).contains(&p.test_error));
            }
            // the test labels are sign F* of the kernel part's target at that L
            let psi = AnalyticFn::parse(&s.psi).unwrap();
            let (concept, _) = length_concept(&s, c.len, &psi).unwrap();
            let spec = spec_of(c.len, s.d, s.c_min, s.c_max);
            let mut g = rng::stream(s.seed, &format!("rnn-length/L={}/sgd-test", c.len));
            let test = draw(
                &spec,
                &Concept::Additive(concept.clone()),
                50,
                s.threshold,
                1_000_000,
                &mut g,
            )
            .unwrap();
            for (i, &y) in test.labels.iter().enumerate() {
                let x: Vec<Vec<f64>> = test.xs.iter().map(|m| m.row(i).to_vec()).collect();
                assert_eq!(y, concept.eval_one(&x).signum());
            }
            let q = test.labels.iter().filter(|&&y| y > 0.0).count() as f64 / 50.0;
            assert_eq!(c.test_positive_fraction, q);
        }
        // a second call reuses the cached runs and returns the same numbers
        let again = learning_curves(&s, dir.path()).unwrap();
        assert_eq!(
            again[1].runs[1].test_error_curve,
            curves[1].runs[1].test_error_curve
        );
        assert!(dir.path().join("runs/sgd_L3_N80.json").exists());
    }
}
