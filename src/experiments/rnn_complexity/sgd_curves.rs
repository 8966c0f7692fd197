//! `rnn-length`'s SGD learning curves (seed 004 Theorem 2's Algorithm 1 on the `wang`
//! network): test 0-1 error against the number of samples N for several L, their claims and
//! their figure.

use super::length::length_concept;
use super::*;

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
pub(super) fn curve_claims(curves: &[LearningCurve]) -> Vec<Claim> {
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

pub(super) fn write_curves(
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
