//! Seed 003 Figure 3 and App. A.1 ("SGD does not converge to minimal norm
//! solution"): on the degree-6 parity y = d³ x_{i1}⋯x_{i6}, x uniform on
//! {±1/√d}^d ([`Fig3Target`]), with d = 40 and N = 5,000 training samples,
//!
//! (a) SGD on the two-layer net F(W; x) = aᵀσ(Wx) ([`A1Net`]: a ∈ {±1/√m}^m with
//!     exactly m/2 of each sign, fixed; W trained; no biases), searched over
//!     widths m, learning rates and weight decays with App. A's optimizer, finds
//!     no solution with test error E|F(W; x) − y|² below 0.69, nor one with small
//!     training error and small Frobenius norm;
//! (b) hand-built W* (footnote 13) reach small test error at small norm: train an
//!     m₀ = 200 net on the d₀ = 6 problem (only the six relevant coordinates), pad
//!     its input weights with d − 6 zero columns, duplicate rows and rescale to
//!     width m ([`A1Net::embed`]); the paper's three have ‖W*‖_F ≈ 9.7√d, 12.5√d,
//!     13.8√d with test errors ≤ 0.12, 0.037, 0.011.
//!
//! Footnote 13 made exact. The d₀ = 6 inputs are ±1/√6 and the d = 40 inputs
//! ±1/√40, so zero-padding alone changes the pre-activations by √(6/40); the
//! padded weights are multiplied by √(d/d₀) so that each neuron sees the same
//! value on inputs with the same six signs. Copy q of source row j (c_j copies in
//! all) is scaled by γ_j = √m/(c_j√m₀), which keeps Σ_copies (±1/√m) γ_j σ(w_j·x) =
//! (±1/√m₀) σ(w_j·x) by positive homogeneity of σ, so the embedded net computes
//! exactly the d₀ net's function of the six relevant signs. When m is a multiple
//! of m₀ (c_j = m/m₀), ‖W*‖²_F = (d/d₀)‖W‖²_F: the norm in units of √d is the d₀
//! net's ‖W‖_F/√d₀, for every d and m (why the paper can state it "for every
//! even m ≥ 200 and every d ≥ 6"); otherwise c_j ∈ {⌊m/m₀⌋, ⌈m/m₀⌉}, the extra
//! copies going to the rows of largest norm (whose share of ‖W*‖² shrinks), and
//! the norm is measured.
//!
//! The d₀ = 6 problem has only 2⁶ = 64 inputs: the d₀ net is trained (App. A's SGD)
//! on all of them, so its training error is its exact population error, and the
//! embedded W*'s test error on the d = 40 problem equals it in expectation (it
//! is also measured on the d = 40 test sample). Candidates come from a weight
//! decay × learning rate grid (weight decay trades norm for error); for each of
//! the paper's (norm ν, error ε) points the reported W* is the candidate of
//! lowest error among those with norm ≤ ν(1 + `norm_slack`) ("≈ ν√d").
//!
//! Test error is E|F(W; x) − y|² (the seed's App. A.1), estimated on `n_test`
//! fresh points; norms are reported as ‖W‖_F/√d. Every grid point of (a) and (b)
//! is stored by [`RunCache`] as it finishes (the d₀ nets with their weights), so
//! a rerun resumes.

use super::common::{relative_to, write_result, ExperimentOutput, RunCache, Scale};
use crate::data::resnet_targets::Fig3Target;
use crate::error::{Error, Result};
use crate::linalg::{matmul, Matrix};
use crate::models::krr::mean_sq_error;
use crate::models::resnet::{residual, Learner};
use crate::report::plot::{save_figure, Figure, Series, Style};
use crate::report::table::{write_csv, Claim};
use crate::rng;
use crate::train::sgd::{grid_125, train, SgdConfig};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// App. A.1's two-layer network F(W; x) = aᵀσ(Wx): no biases, a ∈ {±1/√m}^m fixed
/// with a_r = +1/√m for r < m/2 and −1/√m for r ≥ m/2, W (m × d) trained. The
/// loss is the [`Learner`] convention L = (1/2n) Σ_i (F(W; x_i) − y_i)².
#[derive(Clone, Debug, PartialEq)]
pub struct A1Net {
    /// Hidden weights W (m × d), trained.
    pub w: Matrix<f64>,
}

impl A1Net {
    /// A net of even width m on R^d with W ~ N(0, 1/d) (App. A's initialization of
    /// input weights), drawn from `rng::stream(seed, "a1net-init")`.
    pub fn new(d: usize, m: usize, seed: u64) -> Result<Self> {
        if d == 0 {
            return Err(Error::invalid("d", "input dimension must be positive"));
        }
        check_width(m)?;
        let mut g = rng::stream(seed, "a1net-init");
        let s = 1.0 / (d as f64).sqrt();
        Ok(A1Net {
            w: Matrix::from_fn(m, d, |_, _| s * rng::normal(&mut g)),
        })
    }

    /// The net with hidden weights `w` (its width must be even and positive).
    pub fn from_weights(w: Matrix<f64>) -> Result<Self> {
        check_width(w.rows())?;
        if w.cols() == 0 {
            return Err(Error::invalid("d", "input dimension must be positive"));
        }
        Ok(A1Net { w })
    }

    /// Width m.
    pub fn width(&self) -> usize {
        self.w.rows()
    }

    /// a_r: +1/√m for the first half of the neurons, −1/√m for the second.
    pub fn output_weight(&self, r: usize) -> f64 {
        let m = self.width();
        let s = 1.0 / (m as f64).sqrt();
        if r < m / 2 {
            s
        } else {
            -s
        }
    }

    /// ‖W‖_F / √d: the Frobenius norm in the seed's units.
    pub fn norm_over_sqrt_d(&self) -> f64 {
        self.w.frobenius() / (self.w.cols() as f64).sqrt()
    }

    /// Footnote 13's construction (module documentation): the net on R^d, of even
    /// width m ≥ this width, that computes on every x ∈ {±1/√d}^d exactly what this
    /// net (on R^{d₀}, d₀ = `coords.len()` = its input dimension) computes on the
    /// signs of x at `coords`, scaled to ±1/√d₀. Column t of W goes to column
    /// coords[t] multiplied by √(d/d₀), the other columns are zero; each source
    /// neuron gets c_j ∈ {⌊m/m₀⌋, ⌈m/m₀⌉} copies among the new neurons of its sign
    /// (the extra copies to the rows of largest norm), each scaled by
    /// √m/(c_j √m₀). At a multiple of m₀, ‖W*‖_F/√d = ‖W‖_F/√d₀ exactly.
    pub fn embed(&self, d: usize, coords: &[usize], m: usize) -> Result<A1Net> {
        let (m0, d0) = self.w.shape();
        if coords.len() != d0 {
            return Err(Error::invalid(
                "coords",
                format!("{} coordinates for a net on d0 = {d0}", coords.len()),
            ));
        }
        for (a, &c) in coords.iter().enumerate() {
            if c >= d {
                return Err(Error::invalid(
                    "coords",
                    format!("coordinate {c} out of range for d = {d}"),
                ));
            }
            if coords[..a].contains(&c) {
                return Err(Error::invalid(
                    "coords",
                    format!("coordinate {c} appears twice"),
                ));
            }
        }
        check_width(m)?;
        if m < m0 {
            return Err(Error::invalid(
                "width",
                format!("cannot keep the function of a width-{m0} net at width {m} < {m0}"),
            ));
        }
        let (h0, h) = (m0 / 2, m / 2);
        let pad = (d as f64 / d0 as f64).sqrt();
        let row_norm2 = |j: usize| self.w.row(j).iter().map(|v| v * v).sum::<f64>();
        let mut w = Matrix::zeros(m, d);
        let mut q = 0;
        for half in 0..2 {
            // every source row of this sign gets h / h0 copies; the h mod h0 extra
            // copies go to the rows of largest norm, whose copies then shrink most
            let mut order: Vec<usize> = (half * h0..(half + 1) * h0).collect();
            order.sort_by(|&i, &j| row_norm2(j).total_cmp(&row_norm2(i)).then(i.cmp(&j)));
            let mut copies = vec![h / h0; m0];
            for &j in &order[..h % h0] {
                copies[j] += 1;
            }
            for (j, &c_j) in copies.iter().enumerate().skip(half * h0).take(h0) {
                let gamma = (m as f64).sqrt() / (c_j as f64 * (m0 as f64).sqrt());
                for _ in 0..c_j {
                    for (t, &c) in coords.iter().enumerate() {
                        w.set(q, c, pad * gamma * self.w.get(j, t));
                    }
                    q += 1;
                }
            }
        }
        debug_assert_eq!(q, m);
        Ok(A1Net { w })
    }
}

fn check_width(m: usize) -> Result<()> {
    if m < 2 || !m.is_multiple_of(2) {
        return Err(Error::invalid(
            "width",
            format!("App. A.1's net needs an even width m >= 2 (m/2 of each sign of a), got {m}"),
        ));
    }
    Ok(())
}

impl A1Net {
    fn check_input(&self, x: &Matrix<f64>) -> Result<()> {
        if x.cols() != self.w.cols() {
            return Err(Error::Shape(format!(
                "inputs with {} columns for a net on d = {}",
                x.cols(),
                self.w.cols()
            )));
        }
        Ok(())
    }

    /// a as a vector.
    fn output_weights(&self) -> Vec<f64> {
        (0..self.width()).map(|r| self.output_weight(r)).collect()
    }

    /// Pre-activations P = X Wᵀ (n × m) and outputs σ(P) a (n × 1).
    fn pass(&self, x: &Matrix<f64>) -> Result<(Matrix<f64>, Matrix<f64>)> {
        self.check_input(x)?;
        let p = matmul(x.view(), self.w.t())?;
        let a = self.output_weights();
        let out = Matrix::from_fn(x.rows(), 1, |i, _| {
            p.row(i)
                .iter()
                .zip(&a)
                .map(|(&v, ar)| ar * v.max(0.0))
                .sum()
        });
        Ok((p, out))
    }
}

impl Learner for A1Net {
    fn name(&self) -> &'static str {
        "a1-2layer"
    }
    fn input_dim(&self) -> usize {
        self.w.cols()
    }
    fn output_dim(&self) -> usize {
        1
    }
    fn forward(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        Ok(self.pass(x)?.1)
    }
    /// ∂L/∂W = ((g aᵀ) ⊙ 1{P ≥ 0})ᵀ X, g = (out − y)/n.
    fn loss_and_grads(&self, x: &Matrix<f64>, y: &Matrix<f64>) -> Result<(f64, Vec<Matrix<f64>>)> {
        let (p, out) = self.pass(x)?;
        let (loss, g) = residual(&out, y)?;
        let mut dp = p;
        let a = self.output_weights();
        for (i, row) in dp.as_mut_slice().chunks_mut(a.len()).enumerate() {
            let gi = g.get(i, 0);
            for (v, ar) in row.iter_mut().zip(&a) {
                *v = if *v >= 0.0 { gi * ar } else { 0.0 };
            }
        }
        Ok((loss, vec![matmul(dp.t(), x.view())?]))
    }
    fn params(&self) -> Vec<&Matrix<f64>> {
        vec![&self.w]
    }
    fn params_mut(&mut self) -> Vec<&mut Matrix<f64>> {
        vec![&mut self.w]
    }
}

/// All 2^p points of {−s, +s}^p, one per row; row b has coordinate t equal to
/// +s when bit t of b is set.
pub fn enumerate_hypercube(p: usize, s: f64) -> Result<Matrix<f64>> {
    if p > 20 {
        return Err(Error::invalid(
            "p",
            format!("2^{p} points is too many to enumerate"),
        ));
    }
    Ok(Matrix::from_fn(1 << p, p, |b, t| {
        if (b >> t) & 1 == 1 {
            s
        } else {
            -s
        }
    }))
}

/// One of the paper's hand-built W*: ‖W*‖_F ≈ `norm`·√d with test error ≤ `error`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaperPoint {
    /// ‖W*‖_F / √d.
    pub norm: f64,
    /// Test error bound.
    pub error: f64,
}

/// Settings (saved with the results).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fig3Settings {
    /// Scale.
    pub scale: Scale,
    /// Seed (parity coordinates, data, initializations, shuffling).
    pub seed: u64,
    /// Input dimension d (40 in the seed).
    pub d: usize,
    /// Training samples N (5,000 in the seed).
    pub n_train: usize,
    /// Validation samples (selection of m, lr, wd).
    pub n_val: usize,
    /// Test samples (the reported test error).
    pub n_test: usize,
    /// (a) widths m searched.
    pub widths: Vec<usize>,
    /// (a) learning rates searched.
    pub lrs: Vec<f64>,
    /// (a) weight decays searched.
    pub wds: Vec<f64>,
    /// (a) E: epochs per phase of App. A's schedule.
    pub epochs: usize,
    /// (b) width m₀ of the small net (200 in the seed).
    pub base_width: usize,
    /// (b) input dimension d₀ of the small problem (6: the parity's coordinates).
    pub base_d: usize,
    /// (b) learning rates of the small net.
    pub base_lrs: Vec<f64>,
    /// (b) weight decays of the small net (they set the norm of W*).
    pub base_wds: Vec<f64>,
    /// (b) E of the small net (its training set is the 64 points of {±1/√6}^6).
    pub base_epochs: usize,
    /// The paper's W* (norm, error) points.
    pub paper_points: Vec<PaperPoint>,
    /// "≈ ν√d" means ‖W*‖_F ≤ ν(1 + norm_slack)√d.
    pub norm_slack: f64,
    /// The paper's bound on SGD's best test error (0.69).
    pub sgd_error_bound: f64,
    /// Say on stderr which grid points are reused / saved.
    #[serde(skip)]
    pub progress: bool,
}

impl Fig3Settings {
    /// Quick: d = 40 and N = 5,000 as in the seed, SGD at m ∈ {200, 1000}, lr ∈
    /// {0.5, 5}, wd ∈ {0, 10⁻³}, E = 10 (short runs, a few seconds in all; larger
    /// learning rates fit more of the training set at a larger norm); the d₀ = 6 nets
    /// at lr ∈ {5, 10} (10 is the largest stable {1,2,5}×10^k rate) over nine weight
    /// decays 0 … 10⁻³, E = 500 (weight decay sets the norm of W*). Paper: the
    /// seed's grid, m ∈ {200, 500, 1000, …, 100,000}, lr ∈ {1,2,5}×10^{−2..1},
    /// wd ∈ {0, 10⁻⁵, 10⁻⁴, 10⁻³}, E = 400 (432 runs, the widest ~10¹⁴ flops each:
    /// days on 2 cores); the d₀ nets at lr ∈ {1,2,5}×10^{−1..1} over
    /// {0} ∪ {1, 1.5, 2, 3, 4, 5, 7}×10^{−5..−3}, E = 4,000.
    pub fn new(scale: Scale, seed: u64) -> Self {
        let paper_points = vec![
            PaperPoint {
                norm: 9.7,
                error: 0.12,
            },
            PaperPoint {
                norm: 12.5,
                error: 0.037,
            },
            PaperPoint {
                norm: 13.8,
                error: 0.011,
            },
        ];
        let base = Fig3Settings {
            scale,
            seed,
            d: 40,
            n_train: 5000,
            n_val: 1000,
            n_test: 2000,
            widths: vec![200, 1000],
            lrs: vec![0.5, 5.0],
            wds: vec![0.0, 1e-3],
            epochs: 10,
            base_width: 200,
            base_d: 6,
            base_lrs: vec![5.0, 10.0],
            base_wds: vec![0.0, 5e-5, 1e-4, 1.5e-4, 2e-4, 3e-4, 4e-4, 5e-4, 1e-3],
            base_epochs: 500,
            paper_points,
            norm_slack: 0.02,
            sgd_error_bound: 0.69,
            progress: false,
        };
        match scale {
            Scale::Quick => base,
            Scale::Paper => Fig3Settings {
                n_val: 5000,
                n_test: 10_000,
                widths: vec![200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000],
                lrs: grid_125(-2, 1),
                wds: vec![0.0, 1e-5, 1e-4, 1e-3],
                epochs: 400,
                base_lrs: grid_125(-1, 1),
                base_wds: std::iter::once(0.0)
                    .chain((-5..=-3).flat_map(|e| {
                        [1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0].map(|c| c * 10f64.powi(e))
                    }))
                    .collect(),
                base_epochs: 4000,
                ..base
            },
        }
    }

    fn validate(&self) -> Result<()> {
        if self.base_d == 0 || self.d < self.base_d {
            return Err(Error::invalid(
                "d/base_d",
                format!(
                    "need 1 <= base_d <= d, got base_d = {}, d = {}",
                    self.base_d, self.d
                ),
            ));
        }
        if self.base_d > 20 {
            return Err(Error::invalid(
                "base_d",
                format!(
                    "the small problem is enumerated: base_d <= 20, got {}",
                    self.base_d
                ),
            ));
        }
        if self.n_train == 0 || self.n_val == 0 || self.n_test == 0 {
            return Err(Error::invalid(
                "n_train/n_val/n_test",
                "every split needs at least one sample",
            ));
        }
        check_width(self.base_width)?;
        for &m in &self.widths {
            check_width(m)?;
        }
        if self.widths.is_empty() || self.lrs.is_empty() || self.wds.is_empty() {
            return Err(Error::invalid("widths/lrs/wds", "empty SGD grid"));
        }
        if self.base_lrs.is_empty() || self.base_wds.is_empty() {
            return Err(Error::invalid("base_lrs/base_wds", "empty grid for W*"));
        }
        if !(self.norm_slack.is_finite() && self.norm_slack >= 0.0) {
            return Err(Error::invalid("norm_slack", "must be finite and >= 0"));
        }
        Ok(())
    }
}

/// Seeds of the parity's coordinates and of the three d = 40 samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fig3Seeds {
    /// [`Fig3Target::random`]'s seed.
    pub target: u64,
    /// Training sample.
    pub train: u64,
    /// Validation sample.
    pub val: u64,
    /// Test sample.
    pub test: u64,
}

impl Fig3Seeds {
    /// The seeds derived from the run seed.
    pub fn from_seed(seed: u64) -> Self {
        let draw = |p: &str| rng::stream(seed, p).random::<u64>();
        Fig3Seeds {
            target: draw("resnet-fig3/target"),
            train: draw("resnet-fig3/data/train"),
            val: draw("resnet-fig3/data/val"),
            test: draw("resnet-fig3/data/test"),
        }
    }
}

/// One SGD grid point of (a).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SgdRecord {
    /// Width m.
    pub width: usize,
    /// Learning rate.
    pub lr: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// Final training error E|F − y|² (None when diverged).
    pub train_error: Option<f64>,
    /// Validation error.
    pub val_error: Option<f64>,
    /// Test error.
    pub test_error: Option<f64>,
    /// ‖W‖_F / √d of the solution.
    pub norm_over_sqrt_d: Option<f64>,
    /// Why the point has no errors.
    pub failure: Option<String>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// One trained d₀ net of (b), a W* candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaseRecord {
    /// Learning rate.
    pub lr: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// Exact population error on the 2^{d₀} inputs (None when diverged).
    pub population_error: Option<f64>,
    /// ‖W‖_F / √d₀ (= ‖W*‖_F / √d of its embedding at a multiple of m₀).
    pub norm_over_sqrt_d: Option<f64>,
    /// The trained weights (m₀ × d₀, row-major), to build W* on a rerun.
    pub weights: Option<Vec<f64>>,
    /// Why the point has no errors.
    pub failure: Option<String>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// A hand-built W* for one of the paper's points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WStarRecord {
    /// The paper's point it is compared with.
    pub paper: PaperPoint,
    /// Index into `base` of the d₀ net it was built from (None: no candidate
    /// within the norm budget).
    pub base_index: Option<usize>,
    /// Weight decay of that d₀ net.
    pub base_weight_decay: Option<f64>,
    /// Its exact population error (= the expected d = 40 test error).
    pub population_error: Option<f64>,
    /// One entry per width m of (a) (built at m₀ where m < m₀): (m, ‖W*‖_F/√d,
    /// test error on the d = 40 test sample).
    pub embedded: Vec<(usize, f64, f64)>,
    /// The test error ≤ the paper's bound and the norm within the budget.
    pub held: bool,
}

/// Typed result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fig3Result {
    /// Settings.
    pub settings: Fig3Settings,
    /// Derived seeds.
    pub seeds: Fig3Seeds,
    /// The parity's coordinates (0-based).
    pub indices: Vec<usize>,
    /// (a): every SGD grid point.
    pub sgd: Vec<SgdRecord>,
    /// (a): index of the validation-selected point.
    pub sgd_selected: Option<usize>,
    /// (a): index of the best test error (the paper's choice).
    pub sgd_best: Option<usize>,
    /// (b): every d₀ net (weights left out here; they are in `runs/`).
    pub base: Vec<BaseRecord>,
    /// (b): the W* for each paper point.
    pub w_star: Vec<WStarRecord>,
}

#[derive(Serialize)]
struct SgdKey<'a> {
    d: usize,
    n_train: usize,
    n_val: usize,
    n_test: usize,
    seed: u64,
    width: usize,
    lr: f64,
    weight_decay: f64,
    epochs: usize,
    indices: &'a [usize],
}

#[derive(Serialize)]
struct BaseKey {
    base_d: usize,
    base_width: usize,
    seed: u64,
    lr: f64,
    weight_decay: f64,
    epochs: usize,
}

fn sub_seed(seed: u64, purpose: &str) -> u64 {
    rng::stream(seed, purpose).random::<u64>()
}

/// Trains an [`A1Net`] with App. A's SGD: `Ok(Ok(final training error))`, or
/// `Ok(Err(message))` when it diverged (recorded, not raised).
fn train_net(
    net: &mut A1Net,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
    cfg: &SgdConfig,
) -> Result<std::result::Result<f64, String>> {
    match train(net, x, y, None, cfg) {
        Ok(h) => Ok(Ok(h.final_train_error)),
        Err(e @ Error::Diverged { .. }) => Ok(Err(e.to_string())),
        Err(e) => Err(e),
    }
}

fn run_sgd_point(
    s: &Fig3Settings,
    data: &Fig3Data,
    width: usize,
    lr: f64,
    wd: f64,
) -> Result<SgdRecord> {
    let t0 = Instant::now();
    let init = sub_seed(s.seed, &format!("resnet-fig3/init/m{width}"));
    let shuffle = sub_seed(s.seed, &format!("resnet-fig3/sgd/m{width}"));
    let mut net = A1Net::new(s.d, width, init)?;
    let cfg = SgdConfig::paper(lr, wd, s.epochs, shuffle);
    let (train_error, val_error, test_error, norm, failure) =
        match train_net(&mut net, &data.train.0, &data.train.1, &cfg)? {
            Ok(tr) => (
                Some(tr),
                Some(mean_sq_error(&net.forward(&data.val.0)?, &data.val.1)?),
                Some(mean_sq_error(&net.forward(&data.test.0)?, &data.test.1)?),
                Some(net.norm_over_sqrt_d()),
                None,
            ),
            Err(msg) => (None, None, None, None, Some(msg)),
        };
    Ok(SgdRecord {
        width,
        lr,
        weight_decay: wd,
        train_error,
        val_error,
        test_error,
        norm_over_sqrt_d: norm,
        failure,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

fn run_base_point(
    s: &Fig3Settings,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
    lr: f64,
    wd: f64,
) -> Result<BaseRecord> {
    let t0 = Instant::now();
    let init = sub_seed(s.seed, "resnet-fig3/base-init");
    let shuffle = sub_seed(s.seed, "resnet-fig3/base-sgd");
    let mut net = A1Net::new(s.base_d, s.base_width, init)?;
    let cfg = SgdConfig::paper(lr, wd, s.base_epochs, shuffle);
    let rec = match train_net(&mut net, x, y, &cfg)? {
        Ok(err) => BaseRecord {
            lr,
            weight_decay: wd,
            population_error: Some(err),
            norm_over_sqrt_d: Some(net.norm_over_sqrt_d()),
            weights: Some(net.w.as_slice().to_vec()),
            failure: None,
            seconds: 0.0,
        },
        Err(msg) => BaseRecord {
            lr,
            weight_decay: wd,
            population_error: None,
            norm_over_sqrt_d: None,
            weights: None,
            failure: Some(msg),
            seconds: 0.0,
        },
    };
    Ok(BaseRecord {
        seconds: t0.elapsed().as_secs_f64(),
        ..rec
    })
}

struct Fig3Data {
    train: (Matrix<f64>, Matrix<f64>),
    val: (Matrix<f64>, Matrix<f64>),
    test: (Matrix<f64>, Matrix<f64>),
}

/// The d₀ net of `rec` as an [`A1Net`].
fn base_net(s: &Fig3Settings, rec: &BaseRecord) -> Result<Option<A1Net>> {
    rec.weights
        .as_ref()
        .map(|w| A1Net::from_weights(Matrix::from_vec(s.base_width, s.base_d, w.clone())?))
        .transpose()
}

/// Runs Figure 3 / App. A.1; writes `out/resnet-fig3/`.
pub fn run(settings: &Fig3Settings, out: &Path) -> Result<(ExperimentOutput, Fig3Result)> {
    let t0 = Instant::now();
    settings.validate()?;
    let s = settings;
    let name = "resnet-fig3";
    let dir = out.join(name);
    std::fs::create_dir_all(&dir).map_err(|err| Error::Io {
        path: dir.clone(),
        err,
    })?;
    let cache = RunCache::new(&dir).verbose(s.progress);
    let seeds = Fig3Seeds::from_seed(s.seed);
    let target = Fig3Target::random(s.d, seeds.target)?;
    let data = Fig3Data {
        train: target.sample(s.n_train, seeds.train)?,
        val: target.sample(s.n_val, seeds.val)?,
        test: target.sample(s.n_test, seeds.test)?,
    };

    // (a) SGD over widths × learning rates × weight decays, in parallel
    let grid: Vec<(usize, f64, f64)> = s
        .widths
        .iter()
        .flat_map(|&m| {
            s.lrs
                .iter()
                .flat_map(move |&lr| s.wds.iter().map(move |&wd| (m, lr, wd)))
        })
        .collect();
    let sgd = grid
        .par_iter()
        .map(|&(m, lr, wd)| {
            let key = SgdKey {
                d: s.d,
                n_train: s.n_train,
                n_val: s.n_val,
                n_test: s.n_test,
                seed: s.seed,
                width: m,
                lr,
                weight_decay: wd,
                epochs: s.epochs,
                indices: &target.indices,
            };
            Ok(cache
                .get_or_run(&format!("sgd_m{m}_lr{lr}_wd{wd}"), &key, || {
                    run_sgd_point(s, &data, m, lr, wd)
                })?
                .0)
        })
        .collect::<Result<Vec<SgdRecord>>>()?;
    let argmin = |f: &dyn Fn(&SgdRecord) -> Option<f64>| {
        sgd.iter()
            .enumerate()
            .filter_map(|(i, r)| f(r).filter(|v| v.is_finite()).map(|v| (i, v)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    };
    let sgd_selected = argmin(&|r| r.val_error);
    let sgd_best = argmin(&|r| r.test_error);

    // (b) the d₀ nets on all 2^{d₀} inputs of the small problem
    let small = Fig3Target {
        d: s.base_d,
        indices: (0..s.base_d).collect(),
    };
    let xs = enumerate_hypercube(s.base_d, 1.0 / (s.base_d as f64).sqrt())?;
    let ys = small.eval(&xs)?;
    let base_grid: Vec<(f64, f64)> = s
        .base_lrs
        .iter()
        .flat_map(|&lr| s.base_wds.iter().map(move |&wd| (lr, wd)))
        .collect();
    let base = base_grid
        .par_iter()
        .map(|&(lr, wd)| {
            let key = BaseKey {
                base_d: s.base_d,
                base_width: s.base_width,
                seed: s.seed,
                lr,
                weight_decay: wd,
                epochs: s.base_epochs,
            };
            Ok(cache
                .get_or_run(&format!("base_lr{lr}_wd{wd}"), &key, || {
                    run_base_point(s, &xs, &ys, lr, wd)
                })?
                .0)
        })
        .collect::<Result<Vec<BaseRecord>>>()?;

    // W* for each paper point: the lowest-error candidate within its norm budget
    let mut w_star = Vec::new();
    for p in &s.paper_points {
        let budget = p.norm * (1.0 + s.norm_slack);
        let pick = base
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((i, r.population_error?, r.norm_over_sqrt_d?)))
            .filter(|&(_, e, nrm)| e.is_finite() && nrm <= budget)
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let rec = match pick {
            None => WStarRecord {
                paper: *p,
                base_index: None,
                base_weight_decay: None,
                population_error: None,
                embedded: Vec::new(),
                held: false,
            },
            Some((i, pop, _)) => {
                let net0 = base_net(s, &base[i])?.ok_or_else(|| {
                    Error::Numerical("a finished d0 net has no stored weights".into())
                })?;
                let mut embedded = Vec::new();
                for &m in &s.widths {
                    let net = net0.embed(s.d, &target.indices, m.max(s.base_width))?;
                    let err = mean_sq_error(&net.forward(&data.test.0)?, &data.test.1)?;
                    embedded.push((net.width(), net.norm_over_sqrt_d(), err));
                }
                let held = embedded
                    .iter()
                    .all(|&(_, nrm, e)| nrm <= budget && e <= p.error);
                WStarRecord {
                    paper: *p,
                    base_index: Some(i),
                    base_weight_decay: Some(base[i].weight_decay),
                    population_error: Some(pop),
                    embedded,
                    held,
                }
            }
        };
        w_star.push(rec);
    }

    let result = Fig3Result {
        settings: s.clone(),
        seeds,
        indices: target.indices.clone(),
        sgd,
        sgd_selected,
        sgd_best,
        base: base
            .into_iter()
            .map(|b| BaseRecord { weights: None, ..b })
            .collect(),
        w_star,
    };
    let claims = claims(&result);
    let (png, csv_sgd, csv_base) = save_outputs(&result, &dir)?;
    let mut output = ExperimentOutput {
        name: name.to_string(),
        title: "Seed 003 Figure 3 (App. A.1): SGD does not find the small-norm solutions".into(),
        description: describe(s),
        claims,
        figures: vec![relative_to(&png, out)],
        files: vec![relative_to(&csv_sgd, out), relative_to(&csv_base, out)],
        settings: serde_json::to_value(s).expect("settings serialize"),
        seconds: t0.elapsed().as_secs_f64(),
    };
    write_result(out, &mut output, &result)?;
    Ok((output, result))
}

fn claims(r: &Fig3Result) -> Vec<Claim> {
    let s = &r.settings;
    let best = r.sgd_best.map(|i| &r.sgd[i]);
    let selected = r.sgd_selected.map(|i| &r.sgd[i]);
    let best_err = best.and_then(|b| b.test_error);
    let mut out = vec![Claim::new(
        format!(
            "SGD (widths {:?}, lr {:?}, wd {:?}, E = {}) finds no solution with test error \
             below {} on d = {}, N = {} (best test error over the grid, the paper's choice)",
            s.widths, s.lrs, s.wds, s.epochs, s.sgd_error_bound, s.d, s.n_train
        ),
        best_err.is_some_and(|e| e > s.sgd_error_bound),
        json!({
            "best_test_error": best_err,
            "best_point": best.map(|b| json!({"width": b.width, "lr": b.lr,
                "weight_decay": b.weight_decay, "norm_over_sqrt_d": b.norm_over_sqrt_d,
                "train_error": b.train_error})),
            "validation_selected_test_error": selected.and_then(|b| b.test_error),
            "diverged_points": r.sgd.iter().filter(|p| p.test_error.is_none()).count(),
        }),
    )];
    // small training error and small norm at once: the W*'s largest error and norm
    if let (Some(emax), Some(nmax)) = (
        s.paper_points.iter().map(|p| p.error).reduce(f64::max),
        s.paper_points.iter().map(|p| p.norm).reduce(f64::max),
    ) {
        let fitted: Vec<&SgdRecord> = r
            .sgd
            .iter()
            .filter(|p| p.train_error.is_some_and(|e| e <= emax))
            .collect();
        let small = fitted
            .iter()
            .filter(|p| p.norm_over_sqrt_d.is_some_and(|n| n <= nmax))
            .count();
        out.push(Claim::new(
            format!(
                "no SGD solution has both training error <= {emax} and ||W||_F <= {nmax} sqrt(d)"
            ),
            small == 0,
            json!({
                "solutions_with_train_error_at_most": fitted.len(),
                "of_which_with_small_norm": small,
                "smallest_norm_over_sqrt_d_among_them": fitted.iter()
                    .filter_map(|p| p.norm_over_sqrt_d).reduce(f64::min),
                "all_norms_over_sqrt_d": r.sgd.iter().map(|p| p.norm_over_sqrt_d).collect::<Vec<_>>(),
            }),
        ));
    }
    for w in &r.w_star {
        out.push(Claim::new(
            format!(
                "a hand-built W* (m0 = {}, d0 = {} net, zero-padded and duplicated) with \
                 ||W*||_F ~ {} sqrt(d) (at most {:.2} sqrt(d)) reaches test error <= {} on d = {}",
                s.base_width,
                s.base_d,
                w.paper.norm,
                w.paper.norm * (1.0 + s.norm_slack),
                w.paper.error,
                s.d
            ),
            w.held,
            json!({
                "d0_population_error": w.population_error,
                "d0_weight_decay": w.base_weight_decay,
                "embedded_width_norm_over_sqrt_d_test_error": w.embedded,
            }),
        ));
    }
    out
}

fn nan(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

/// Figure 3(a)-style scatter (test error against ‖W‖_F/√d) and two CSVs.
fn save_outputs(
    r: &Fig3Result,
    dir: &Path,
) -> Result<(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf)> {
    // interpolating d₀ nets reach ~1e-30: drawn at a floor to keep the axis readable
    const FLOOR: f64 = 1e-3;
    let s = &r.settings;
    let mut fig = Figure::new(
        format!(
            "Seed 003 Fig. 3: degree-6 parity, d = {}, N = {}: SGD solutions vs hand-built W*",
            s.d, s.n_train
        ),
        "||W||_F / sqrt(d)",
        "test error E|F(W;x) - y|^2",
    )
    .with_log(false, true);
    for (c, &m) in s.widths.iter().enumerate() {
        let pts: Vec<&SgdRecord> = r
            .sgd
            .iter()
            .filter(|p| p.width == m && p.test_error.is_some())
            .collect();
        fig.push(
            Series::new(
                format!("SGD, m = {m}"),
                pts.iter().map(|p| nan(p.norm_over_sqrt_d)).collect(),
                pts.iter().map(|p| nan(p.test_error)).collect(),
                Style::Points,
            )
            .with_color(c),
        );
    }
    let cands: Vec<&BaseRecord> = r
        .base
        .iter()
        .filter(|b| b.population_error.is_some())
        .collect();
    fig.push(
        Series::new(
            format!("W* candidates (d0 net, population error, floor {FLOOR:e})"),
            cands.iter().map(|b| nan(b.norm_over_sqrt_d)).collect(),
            cands
                .iter()
                .map(|b| nan(b.population_error).max(FLOOR))
                .collect(),
            Style::Points,
        )
        .with_color(s.widths.len()),
    );
    let built: Vec<(f64, f64)> = r
        .w_star
        .iter()
        .flat_map(|w| w.embedded.iter().map(|&(_, n, e)| (n, e.max(FLOOR))))
        .collect();
    fig.push(
        Series::new(
            format!("W* embedded in d = {} (test error)", s.d),
            built.iter().map(|p| p.0).collect(),
            built.iter().map(|p| p.1).collect(),
            Style::Points,
        )
        .with_color(s.widths.len() + 1),
    );
    fig.push(
        Series::new(
            "paper's W* (norm, error bound)",
            s.paper_points.iter().map(|p| p.norm).collect(),
            s.paper_points.iter().map(|p| p.error).collect(),
            Style::Points,
        )
        .with_color(s.widths.len() + 2),
    );
    let (png, _) = save_figure(&fig, dir, "fig3_error_vs_norm")?;
    let csv_sgd = dir.join("fig3_sgd.csv");
    write_csv(
        &csv_sgd,
        &[
            "width",
            "lr",
            "weight_decay",
            "train_error",
            "val_error",
            "test_error",
            "norm_over_sqrt_d",
        ],
        &[
            r.sgd.iter().map(|p| p.width as f64).collect(),
            r.sgd.iter().map(|p| p.lr).collect(),
            r.sgd.iter().map(|p| p.weight_decay).collect(),
            r.sgd.iter().map(|p| nan(p.train_error)).collect(),
            r.sgd.iter().map(|p| nan(p.val_error)).collect(),
            r.sgd.iter().map(|p| nan(p.test_error)).collect(),
            r.sgd.iter().map(|p| nan(p.norm_over_sqrt_d)).collect(),
        ],
    )?;
    let csv_base = dir.join("fig3_wstar_candidates.csv");
    write_csv(
        &csv_base,
        &["lr", "weight_decay", "population_error", "norm_over_sqrt_d"],
        &[
            r.base.iter().map(|b| b.lr).collect(),
            r.base.iter().map(|b| b.weight_decay).collect(),
            r.base.iter().map(|b| nan(b.population_error)).collect(),
            r.base.iter().map(|b| nan(b.norm_over_sqrt_d)).collect(),
        ],
    )?;
    Ok((png, csv_sgd, csv_base))
}

fn describe(s: &Fig3Settings) -> String {
    format!(
        "y = d^3 x_i1...x_i6 (six random coordinates), x uniform on {{+-1/sqrt(d)}}^d, d = {d}, \
         N = {n} training, {nv} validation, {nt} test points. (a) App. A.1's net a^T relu(Wx) \
         (a = +-1/sqrt(m), half each, fixed; no biases; W ~ N(0, 1/d)) trained by App. A's SGD \
         (momentum 0.9, batch 50, {e} + {e} epochs with lr/10) over m in {ms:?}, lr in {lrs:?}, \
         wd in {wds:?}. (b) W*: m0 = {m0} nets trained the same way on all 2^{d0} inputs of the \
         d0 = {d0} problem (E = {e0}, lr in {blr:?}, wd in {bwd:?}), zero-padded to d (columns \
         scaled by sqrt(d/d0)), rows duplicated and rescaled to width m (footnote 13); for each \
         of the paper's points the lowest-error candidate with norm <= (1 + {sl}) x the paper's.",
        d = s.d,
        n = s.n_train,
        nv = s.n_val,
        nt = s.n_test,
        e = s.epochs,
        ms = s.widths,
        lrs = s.lrs,
        wds = s.wds,
        m0 = s.base_width,
        d0 = s.base_d,
        e0 = s.base_epochs,
        blr = s.base_lrs,
        bwd = s.base_wds,
        sl = s.norm_slack,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::resnet_targets::hypercube;

    fn sample_inputs(n: usize, d: usize, seed: u64) -> Matrix<f64> {
        let mut g = rng::stream(seed, "resnet-fig3-test-x");
        hypercube(n, d, 1.0 / (d as f64).sqrt(), &mut g)
    }

    /// The signs of x at `coords`, scaled to ±1/√d₀.
    fn restrict(x: &Matrix<f64>, coords: &[usize]) -> Matrix<f64> {
        let s = 1.0 / (coords.len() as f64).sqrt();
        Matrix::from_fn(x.rows(), coords.len(), |i, t| {
            s * x.get(i, coords[t]).signum()
        })
    }

    #[test]
    fn padding_and_duplication_keep_the_function_exactly() {
        let (d0, m0, d) = (6, 200, 40);
        let net = A1Net::new(d0, m0, 3).unwrap();
        let coords = [17, 3, 38, 0, 25, 9];
        let x = sample_inputs(300, d, 5);
        let want = net.forward(&restrict(&x, &coords)).unwrap();
        // also on all 64 sign patterns (the other 34 coordinates random)
        let all = enumerate_hypercube(d0, 1.0 / (d0 as f64).sqrt()).unwrap();
        let mut xe = sample_inputs(64, d, 6);
        for b in 0..64 {
            for (t, &c) in coords.iter().enumerate() {
                xe.set(b, c, all.get(b, t).signum() / (d as f64).sqrt());
            }
        }
        let want_e = net.forward(&all).unwrap();
        for m in [200, 400, 1000, 500, 302] {
            let big = net.embed(d, &coords, m).unwrap();
            assert_eq!(big.w.shape(), (m, d));
            for (xx, ww) in [(&x, &want), (&xe, &want_e)] {
                let got = big.forward(xx).unwrap();
                for (g, w) in got.as_slice().iter().zip(ww.as_slice()) {
                    assert!((g - w).abs() < 1e-12, "m = {m}: {g} vs {w}");
                }
            }
            // unused coordinates are zero
            for r in 0..m {
                for c in (0..d).filter(|c| !coords.contains(c)) {
                    assert_eq!(big.w.get(r, c), 0.0);
                }
            }
            // at a multiple of m0 the norm in units of √d is kept exactly:
            // ‖W*‖²_F = (d/d0)‖W‖²_F
            if m % m0 == 0 {
                let rel = (big.norm_over_sqrt_d() - net.norm_over_sqrt_d()).abs()
                    / net.norm_over_sqrt_d();
                assert!(rel < 1e-12, "m = {m}: {rel:e}");
            }
        }
        // bad input names the field
        for (m, field) in [(100, "width"), (201, "width")] {
            let e = net.embed(d, &coords, m).unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
        let e = net.embed(d, &[1, 2, 3], 400).unwrap_err().to_string();
        assert!(e.contains("coords"), "{e}");
        let e = net
            .embed(d, &[1, 2, 3, 4, 5, 40], 400)
            .unwrap_err()
            .to_string();
        assert!(e.contains("coords"), "{e}");
    }

    #[test]
    fn a1net_forward_and_gradient_by_hand() {
        let net = A1Net::new(3, 4, 1).unwrap();
        let x = Matrix::from_fn(5, 3, |i, j| ((i * 3 + j) as f64 * 0.7).sin());
        let y = Matrix::from_fn(5, 1, |i, _| (i as f64).cos());
        let out = net.forward(&x).unwrap();
        // by hand: a = (1, 1, -1, -1)/2
        for i in 0..5 {
            let mut f = 0.0;
            for r in 0..4 {
                let z: f64 = (0..3).map(|j| net.w.get(r, j) * x.get(i, j)).sum();
                f += if r < 2 { 0.5 } else { -0.5 } * z.max(0.0);
            }
            assert!((out.get(i, 0) - f).abs() < 1e-14);
        }
        // gradient against central finite differences of the loss
        let (_, g) = net.loss_and_grads(&x, &y).unwrap();
        let h = 1e-6;
        for q in 0..12 {
            let mut p = net.clone();
            p.w.as_mut_slice()[q] += h;
            let mut mn = net.clone();
            mn.w.as_mut_slice()[q] -= h;
            let fd = (p.loss(&x, &y).unwrap() - mn.loss(&x, &y).unwrap()) / (2.0 * h);
            assert!((fd - g[0].as_slice()[q]).abs() < 1e-8, "entry {q}");
        }
        assert!(A1Net::new(3, 5, 1)
            .unwrap_err()
            .to_string()
            .contains("width"));
    }

    #[test]
    fn enumerated_cube_has_every_sign_pattern_once() {
        let x = enumerate_hypercube(4, 0.5).unwrap();
        assert_eq!(x.shape(), (16, 4));
        let mut seen: Vec<Vec<bool>> = (0..16)
            .map(|i| x.row(i).iter().map(|&v| v > 0.0).collect())
            .collect();
        assert!(x.as_slice().iter().all(|&v| v.abs() == 0.5));
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 16);
        assert!(enumerate_hypercube(21, 1.0).is_err());
    }

    fn tiny(seed: u64) -> Fig3Settings {
        let mut s = Fig3Settings::new(Scale::Quick, seed);
        s.d = 10;
        s.n_train = 60;
        s.n_val = 30;
        s.n_test = 40;
        s.widths = vec![4, 8];
        s.lrs = vec![0.5];
        s.wds = vec![0.0];
        s.epochs = 2;
        s.base_width = 4;
        s.base_lrs = vec![5.0];
        s.base_wds = vec![0.0, 1e-3];
        s.base_epochs = 20;
        s
    }

    /// End to end at tiny scale: settings saved, the W* picks and SGD's best
    /// recomputed from the records, W* rebuilt from the cached d₀ weights with
    /// its recorded population error and test error, and reruns (fresh and
    /// resumed) identical.
    #[test]
    fn tiny_run_records_recompute() {
        let dir = tempfile::tempdir().unwrap();
        let s = tiny(4);
        let (out, r) = run(&s, dir.path()).unwrap();
        let j: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join("resnet-fig3/result.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(j["settings"]["seed"], 4);
        assert_eq!(j["settings"]["d"], 10);
        assert_eq!(out.claims.len(), 2 + s.paper_points.len());
        assert_eq!(r.sgd.len(), 2);
        assert_eq!(r.base.len(), 2);
        // SGD's best = lowest test error; the claim follows from it
        let best = r
            .sgd
            .iter()
            .filter_map(|p| p.test_error)
            .fold(f64::INFINITY, f64::min);
        assert_eq!(r.sgd[r.sgd_best.unwrap()].test_error, Some(best));
        assert_eq!(out.claims[0].held, best > 0.69);
        // each W*: lowest population error within the norm budget, rebuilt from
        // the cached weights (the d₀ net's error on the 64 inputs by hand)
        let seeds = Fig3Seeds::from_seed(4);
        let target = Fig3Target::random(10, seeds.target).unwrap();
        let (xt, yt) = target.sample(40, seeds.test).unwrap();
        let xs = enumerate_hypercube(6, 1.0 / 6f64.sqrt()).unwrap();
        let cache = RunCache::new(&dir.path().join("resnet-fig3"));
        assert!(r.w_star.iter().all(|w| w.base_index.is_some()));
        for w in &r.w_star {
            let budget = w.paper.norm * (1.0 + s.norm_slack);
            let want = r
                .base
                .iter()
                .enumerate()
                .filter(|(_, b)| b.norm_over_sqrt_d.is_some_and(|n| n <= budget))
                .min_by(|a, b| {
                    a.1.population_error
                        .unwrap()
                        .total_cmp(&b.1.population_error.unwrap())
                })
                .map(|(i, _)| i);
            assert_eq!(w.base_index, want);
            let Some(i) = w.base_index else { continue };
            let b = &r.base[i];
            let key = BaseKey {
                base_d: 6,
                base_width: 4,
                seed: 4,
                lr: b.lr,
                weight_decay: b.weight_decay,
                epochs: 20,
            };
            let cached: BaseRecord = cache
                .load(&format!("base_lr{}_wd{}", b.lr, b.weight_decay), &key)
                .unwrap();
            let net0 = base_net(&s, &cached).unwrap().unwrap();
            let f = net0.forward(&xs).unwrap();
            let pop: f64 = (0..64)
                .map(|p| {
                    let y: f64 = xs.row(p).iter().map(|v| v.signum()).product();
                    (f.get(p, 0) - y).powi(2)
                })
                .sum::<f64>()
                / 64.0;
            assert!((pop - w.population_error.unwrap()).abs() < 1e-12);
            let big = net0.embed(10, &target.indices, 8).unwrap();
            let te = mean_sq_error(&big.forward(&xt).unwrap(), &yt).unwrap();
            assert!((te - w.embedded[1].2).abs() < 1e-12);
        }
        // identical from a fresh directory and when resumed (up to wall-clock seconds)
        let (_, r2) = run(&s, tempfile::tempdir().unwrap().path()).unwrap();
        let (_, r3) = run(&s, dir.path()).unwrap();
        for other in [&r2, &r3] {
            let errs = |x: &Fig3Result| {
                x.sgd
                    .iter()
                    .map(|p| (p.test_error, p.norm_over_sqrt_d))
                    .chain(
                        x.base
                            .iter()
                            .map(|b| (b.population_error, b.norm_over_sqrt_d)),
                    )
                    .collect::<Vec<_>>()
            };
            assert_eq!(errs(&r), errs(other));
            assert_eq!(r.w_star, other.w_star);
        }
    }

    #[test]
    fn settings_errors_name_the_field() {
        let mut s = Fig3Settings::new(Scale::Quick, 0);
        s.widths = vec![201];
        assert!(s.validate().unwrap_err().to_string().contains("width"));
        let mut s = Fig3Settings::new(Scale::Quick, 0);
        s.base_d = 50;
        assert!(s.validate().unwrap_err().to_string().contains("base_d"));
        let mut s = Fig3Settings::new(Scale::Quick, 0);
        s.n_train = 0;
        assert!(s.validate().unwrap_err().to_string().contains("n_train"));
    }
}
