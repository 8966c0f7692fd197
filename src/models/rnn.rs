//! The ReLU recurrent network of seeds 002 and 004, one implementation with two presets.
//!
//! Both papers use the same recursion (σ = φ = ReLU)
//!
//! h_ℓ = σ(W h_{ℓ−1} + A x_ℓ),  ℓ = 1..L,  outputs y_ℓ = B h_ℓ,
//!
//! and differ only in h_0, the initialization variances and which outputs enter the loss:
//!
//! - [`Preset::Elman`] (seed 002, Def. 3.3): h_0 = 0, W, A ~ N(0, 2/m), B ∈ R^{d×m} ~ N(0, 1/d),
//!   outputs y_ℓ = B h_ℓ ∈ R^d; the objective Σ_{j=3..L} G(λ F_j(x*; W + W'), y*_j) (§4) is
//!   [`Objective::elman`]. The actual inputs come from the true ones through Def. 3.1
//!   ([`elman_input_transform`]).
//! - [`Preset::Wang`] (seed 004, eq. 14): h_0 = φ(M_0), M_0, W ~ N(0, 2/m), A ~ N(0, 2/(L³m)),
//!   B ∈ R^m ~ N(0, 1/m) (stored as a 1 × m matrix), f = Bᵀh_L; logistic loss on y·f
//!   (eq. 16, [`Objective::wang`]) or the sequence-labelling loss Σ_ℓ ℓ(y·f_ℓ), f_ℓ = Bᵀh_ℓ
//!   (Remark 3.2, [`Objective::wang_sequence`]).
//!
//! Only W is trained in both papers. Seed 002 writes the trained matrix as W + W' with W'_0 = 0;
//! since ∇_{W'} = ∇_W (its footnote 3) this module stores the current matrix W + W' in `w` and
//! [`Rnn::apply_update`] moves it; a trainer that needs W' keeps a copy of the initial `w`.
//!
//! **Batches and layouts.** A mini-batch of n sequences of length L is either a slice of L
//! matrices, step ℓ (0-based ℓ−1) being n × d_in with row i = x_{i,ℓ}, or one row-major array of
//! shape (n, L, d_in) — sample-major, numpy's C order of an (n, L, d) array: element (i, ℓ, k)
//! at `i·L·d + ℓ·d + k` ([`split_steps`] converts it). Every time step is one GEMM over the
//! batch, H_ℓ = relu(H_{ℓ−1} Wᵀ + X_ℓ Aᵀ), with hidden states as rows.
//!
//! **Gradients.** Back-propagation through time, batched: with δ_ℓ = ∂Obj/∂g_ℓ (rows per sample,
//! g_ℓ the pre-activation), δ_ℓ = (E_ℓ B + δ_{ℓ+1} W) ⊙ D_ℓ, E_ℓ = ∂Obj/∂y_ℓ, and
//! ∇_W Obj = Σ_ℓ δ_ℓᵀ H_{ℓ−1} (one GEMM over all steps and samples). In the notation of
//! seed 004 (eq. 21-22) the row of δ_ℓ for f alone is Back_ℓ D_ℓ.
//!
//! **ReLU derivative.** D_ℓ = diag 1{g_ℓ > 0} as in seed 004 eq. 21, read off h_ℓ > 0. Seed 002
//! (footnote 4) sets σ'(0) = 1 instead; the two differ only where a pre-activation is exactly
//! zero, which has probability zero under the Gaussian initialization unless an input and h_{ℓ−1}
//! are both zero.

use crate::error::{Error, Result};
use crate::linalg::{gemm_into, Matrix, Real, View};
use crate::rng;

/// Which paper's network (defined with the infinite-width kernel, which needs it too).
pub use crate::kernels::rnn_infinite::Preset;

/// A ReLU RNN: W (m × m), A (m × d_in), B (d_out × m) and, for `Wang`, M_0 (length m).
#[derive(Clone, Debug)]
pub struct Rnn<T> {
    /// Which paper's network.
    pub preset: Preset,
    /// The recurrent weights W (+ W' once trained), m × m.
    pub w: Matrix<T>,
    /// Input weights A, m × d_in (fixed).
    pub a: Matrix<T>,
    /// Output weights B, d_out × m (fixed); for `Wang` the 1 × m row Bᵀ.
    pub b: Matrix<T>,
    /// M_0 ∈ R^m with h_0 = φ(M_0) (`Wang`); `None` for `Elman` (h_0 = 0).
    pub m0: Option<Vec<T>>,
    /// The sequence length L the initialization assumed (A's variance 2/(L³m) for `Wang`).
    pub seq_len: usize,
}

/// One named parameter array for saving (e.g. as .npy): name, shape, row-major f64 data.
#[derive(Clone, Debug)]
pub struct ParamArray {
    /// "w", "a", "b" or "m0".
    pub name: &'static str,
    /// The array's shape.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f64>,
}

/// The hidden states of a forward pass over a batch of n sequences of length L.
#[derive(Clone, Debug)]
pub struct Trace<T> {
    n: usize,
    steps: usize,
    /// (L + 1)·n × m: block ℓ (rows ℓn..(ℓ+1)n) holds H_ℓ, one row per sample, ℓ = 0..L.
    h: Matrix<T>,
}

impl<T: Real> Trace<T> {
    /// Batch size n.
    pub fn batch(&self) -> usize {
        self.n
    }
    /// Sequence length L.
    pub fn steps(&self) -> usize {
        self.steps
    }
    /// Width m.
    pub fn width(&self) -> usize {
        self.h.cols()
    }
    /// H_ℓ (n × m, row-major), ℓ = 0..=L.
    pub fn h(&self, l: usize) -> &[T] {
        let nm = self.n * self.width();
        &self.h.as_slice()[l * nm..(l + 1) * nm]
    }
    /// H_ℓ as a view (n × m).
    pub fn h_view(&self, l: usize) -> View<'_, T> {
        View::row_major(self.h(l), self.n, self.width()).expect("block has n·m values")
    }
    /// All hidden states stacked, (L + 1)·n × m, block ℓ = H_ℓ.
    pub fn stacked(&self) -> &Matrix<T> {
        &self.h
    }
    /// H_0..H_{L−1} stacked ((L·n) × m): the inputs h_{ℓ−1} of the W products.
    pub fn previous_view(&self) -> View<'_, T> {
        let nm = self.n * self.width();
        View::row_major(
            &self.h.as_slice()[..self.steps * nm],
            self.steps * self.n,
            self.width(),
        )
        .expect("L blocks of n·m values")
    }
}

/// The pre-activation gradients δ_ℓ = ∂Obj/∂g_ℓ of a backward pass.
#[derive(Clone, Debug)]
pub struct Deltas<T> {
    n: usize,
    steps: usize,
    /// (L·n) × m: block ℓ−1 (rows (ℓ−1)n..ℓn) holds δ_ℓ, ℓ = 1..L.
    d: Matrix<T>,
}

impl<T: Real> Deltas<T> {
    /// δ_ℓ (n × m, row-major), ℓ = 1..=L.
    pub fn delta(&self, l: usize) -> &[T] {
        assert!(
            l >= 1 && l <= self.steps,
            "step {l} outside 1..={}",
            self.steps
        );
        let nm = self.n * self.d.cols();
        &self.d.as_slice()[(l - 1) * nm..l * nm]
    }
    /// δ_1..δ_L stacked, (L·n) × m.
    pub fn stacked(&self) -> &Matrix<T> {
        &self.d
    }
}

/// A loss G(z, y) on one sample's output vector z ∈ R^{d_out} at one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Σ_k log(1 + e^{−y_k z_k}) with labels y_k = ±1 (seed 004 eq. 16; one coordinate for `Wang`).
    Logistic,
    /// ½ Σ_k (z_k − y_k)² (ℓ2 regression, seed 002 §3.1).
    L2,
    /// −Σ_k y_k log softmax(z)_k with y a probability vector, e.g. one-hot (seed 002 §3.1).
    CrossEntropy,
}

crate::options::option_enum!(Loss, "loss", {
    Logistic => "logistic",
    L2 => "l2",
    CrossEntropy => "cross-entropy" | "ce",
});

impl Loss {
    /// G(z, y) and, when `grad` is given, ∂G/∂z written into it. The one place the losses live.
    pub fn eval(self, z: &[f64], y: &[f64], grad: Option<&mut [f64]>) -> f64 {
        debug_assert_eq!(z.len(), y.len());
        match self {
            Loss::Logistic => {
                // log(1 + e^{−t}) = max(−t, 0) + log(1 + e^{−|t|}), t = y z; ∂/∂z = −y/(1 + e^{t})
                let value = z
                    .iter()
                    .zip(y)
                    .map(|(&zk, &yk)| {
                        let t = yk * zk;
                        (-t).max(0.0) + (-t.abs()).exp().ln_1p()
                    })
                    .sum();
                if let Some(g) = grad {
                    for ((gk, &zk), &yk) in g.iter_mut().zip(z).zip(y) {
                        let t = yk * zk;
                        // 1/(1 + e^t) = σ(−t), computed without overflow
                        let s = if t >= 0.0 {
                            let e = (-t).exp();
                            e / (1.0 + e)
                        } else {
                            1.0 / (1.0 + t.exp())
                        };
                        *gk = -yk * s;
                    }
                }
                value
            }
            Loss::L2 => {
                if let Some(g) = grad {
                    for ((gk, &zk), &yk) in g.iter_mut().zip(z).zip(y) {
                        *gk = zk - yk;
                    }
                }
                0.5 * z.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>()
            }
            Loss::CrossEntropy => {
                // Σ_k y_k (lse(z) − z_k); ∂/∂z_j = softmax(z)_j Σ_k y_k − y_j
                let zmax = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let sum_e: f64 = z.iter().map(|&v| (v - zmax).exp()).sum();
                let lse = zmax + sum_e.ln();
                let mass: f64 = y.iter().sum();
                if let Some(g) = grad {
                    for ((gk, &zk), &yk) in g.iter_mut().zip(z).zip(y) {
                        *gk = (zk - lse).exp() * mass - yk;
                    }
                }
                z.iter().zip(y).map(|(&zk, &yk)| yk * (lse - zk)).sum()
            }
        }
    }

    /// G(z, y).
    pub fn value(self, z: &[f64], y: &[f64]) -> f64 {
        self.eval(z, y, None)
    }

    /// ∂G/∂z into `grad`, returning G(z, y).
    pub fn value_and_grad(self, z: &[f64], y: &[f64], grad: &mut [f64]) -> f64 {
        self.eval(z, y, Some(grad))
    }
}

/// Which time steps' outputs enter the objective (1-based ℓ, as in the papers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outputs {
    /// Only ℓ = L (seed 004 eq. 16).
    Last,
    /// ℓ = s..L (s = 3 for seed 002's objective, s = 1 for seed 004's Remark 3.2).
    From(usize),
}

impl Outputs {
    /// The steps 1..=L that enter the objective, in increasing order.
    pub fn steps(self, len: usize) -> std::ops::RangeInclusive<usize> {
        match self {
            Outputs::Last => len..=len,
            Outputs::From(s) => s.max(1)..=len,
        }
    }
}

/// The training objective: (1/n) Σ_i Σ_{ℓ ∈ outputs} G(λ y_ℓ(x_i), target_{i,ℓ}).
///
/// The batch mean makes a batch of one sample exactly Algorithm 1 of both papers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Objective {
    /// G.
    pub loss: Loss,
    /// Which steps' outputs enter the objective.
    pub outputs: Outputs,
    /// The output scaling λ of seed 002 (§4, G(λ F_j, y*_j)); 1 for seed 004.
    pub scale: f64,
}

impl Objective {
    /// Seed 004 eq. 16: logistic loss on y·f, f = Bᵀh_L.
    pub fn wang() -> Self {
        Objective {
            loss: Loss::Logistic,
            outputs: Outputs::Last,
            scale: 1.0,
        }
    }
    /// Seed 004 Remark 3.2: Σ_{ℓ=1..L} log(1 + e^{−y_ℓ f_ℓ}), f_ℓ = Bᵀh_ℓ.
    pub fn wang_sequence() -> Self {
        Objective {
            loss: Loss::Logistic,
            outputs: Outputs::From(1),
            scale: 1.0,
        }
    }
    /// Seed 002 §4: Σ_{j=3..L} G(λ F_j, y*_j).
    pub fn elman(loss: Loss, lambda: f64) -> Self {
        Objective {
            loss,
            outputs: Outputs::From(3),
            scale: lambda,
        }
    }
}

/// ∂Obj/∂y_ℓ for ℓ = 1..L (n × d_out each), `None` where step ℓ's output is not used.
pub type OutputGrads<T> = Vec<Option<Matrix<T>>>;

/// Per-sample objective values and the gradient of their batch mean with respect to W.
#[derive(Clone, Debug)]
pub struct LossGrad<T> {
    /// Σ_{ℓ ∈ outputs} G(λ y_ℓ(x_i), target_{i,ℓ}) for each sample i.
    pub losses: Vec<f64>,
    /// The batch mean of `losses` (the objective).
    pub mean: f64,
    /// ∇_W of `mean` (m × m).
    pub grad: Matrix<T>,
}

/// Splits a row-major (n, L, d) array (sample-major, numpy C order) into L step matrices n × d.
pub fn split_steps<T: Real>(x: &[T], n: usize, len: usize, d: usize) -> Result<Vec<Matrix<T>>> {
    if x.len() != n * len * d {
        return Err(Error::Shape(format!(
            "{} values cannot fill an ({n}, {len}, {d}) sequence array",
            x.len()
        )));
    }
    Ok((0..len)
        .map(|l| Matrix::from_fn(n, d, |i, k| x[(i * len + l) * d + k]))
        .collect())
}

/// Joins L step matrices (n × d each) into one row-major (n, L, d) array, the inverse of
/// [`split_steps`].
pub fn join_steps<T: Real>(xs: &[Matrix<T>]) -> Result<Vec<T>> {
    let (n, d) = check_steps(xs, None)?;
    let len = xs.len();
    let mut out = vec![T::zero(); n * len * d];
    for (l, x) in xs.iter().enumerate() {
        for i in 0..n {
            out[(i * len + l) * d..(i * len + l + 1) * d].copy_from_slice(x.row(i));
        }
    }
    Ok(out)
}

/// Seed 002 Def. 3.1: true inputs x*_2..x*_{L−1} (L − 2 matrices n × d_x) to actual inputs
/// x_1..x_L (L matrices n × (d_x + 1)): x_1 = (0^{d_x}, 1), x_ℓ = (ε_x x*_ℓ, 0) for
/// 2 ≤ ℓ ≤ L − 1 and x_L = (0^{d_x}, ε_x).
pub fn elman_input_transform<T: Real>(x_star: &[Matrix<T>], eps_x: f64) -> Result<Vec<Matrix<T>>> {
    if x_star.is_empty() {
        return Err(Error::invalid(
            "x*",
            "Def. 3.1 needs at least one true input step (L ≥ 3)",
        ));
    }
    if !(eps_x > 0.0 && eps_x.is_finite()) {
        return Err(Error::invalid(
            "eps_x",
            format!("must be positive, got {eps_x}"),
        ));
    }
    let (n, dx) = check_steps(x_star, None)?;
    let e = T::of(eps_x);
    let mut out = Vec::with_capacity(x_star.len() + 2);
    out.push(Matrix::from_fn(n, dx + 1, |_, k| {
        if k == dx {
            T::one()
        } else {
            T::zero()
        }
    }));
    for x in x_star {
        out.push(Matrix::from_fn(n, dx + 1, |i, k| {
            if k < dx {
                e * x.get(i, k)
            } else {
                T::zero()
            }
        }));
    }
    out.push(Matrix::from_fn(n, dx + 1, |_, k| {
        if k == dx {
            e
        } else {
            T::zero()
        }
    }));
    Ok(out)
}

/// Checks that all steps share one shape (and, if given, the input dimension); returns (n, d).
fn check_steps<T: Real>(xs: &[Matrix<T>], d_in: Option<usize>) -> Result<(usize, usize)> {
    let first = xs
        .first()
        .ok_or_else(|| Error::invalid("inputs", "a sequence needs at least one step (L ≥ 1)"))?;
    let (n, d) = first.shape();
    for (l, x) in xs.iter().enumerate() {
        if x.shape() != (n, d) {
            return Err(Error::Shape(format!(
                "input step {} is {}x{} but step 1 is {n}x{d}",
                l + 1,
                x.rows(),
                x.cols()
            )));
        }
    }
    if let Some(di) = d_in {
        if d != di {
            return Err(Error::Shape(format!(
                "inputs have dimension {d} but the network expects {di}"
            )));
        }
    }
    Ok((n, d))
}

fn gaussian<T: Real>(rows: usize, cols: usize, var: f64, seed: u64, purpose: &str) -> Matrix<T> {
    let sd = var.sqrt();
    let mut g = rng::stream(seed, purpose);
    Matrix::from_fn(rows, cols, |_, _| T::of(sd * rng::normal(&mut g)))
}

impl<T: Real> Rnn<T> {
    /// Random initialization of `preset` from `seed`, width m, input dimension d_in, output
    /// dimension d_out (must be 1 for `Wang`) and sequence length L (enters A's variance for
    /// `Wang` only). Draws are made in f64 and rounded, so the f32 and f64 nets of one seed agree.
    pub fn init(
        preset: Preset,
        m: usize,
        d_in: usize,
        d_out: usize,
        seq_len: usize,
        seed: u64,
    ) -> Result<Self> {
        if m == 0 {
            return Err(Error::invalid("width", "m must be at least 1"));
        }
        if d_in == 0 {
            return Err(Error::invalid("input dimension", "must be at least 1"));
        }
        if seq_len == 0 {
            return Err(Error::invalid("sequence length", "L must be at least 1"));
        }
        crate::runtime::check_alloc(
            &format!("RNN weights (W {m}x{m}, A {m}x{d_in}, B {d_out}x{m})"),
            m as u128 * (m as u128 + d_in as u128 + d_out as u128 + 1),
            std::mem::size_of::<T>() as u128,
        )?;
        let mf = m as f64;
        match preset {
            Preset::Elman => {
                if d_out == 0 {
                    return Err(Error::invalid("output dimension", "d must be at least 1"));
                }
                Ok(Rnn {
                    preset,
                    w: gaussian(m, m, 2.0 / mf, seed, "rnn/w"),
                    a: gaussian(m, d_in, 2.0 / mf, seed, "rnn/a"),
                    b: gaussian(d_out, m, 1.0 / d_out as f64, seed, "rnn/b"),
                    m0: None,
                    seq_len,
                })
            }
            Preset::Wang => {
                if d_out != 1 {
                    return Err(Error::invalid(
                        "output dimension",
                        format!("the wang preset has a scalar output f = Bᵀh_L, got d = {d_out}"),
                    ));
                }
                let l3 = (seq_len as f64).powi(3);
                let m0 = gaussian::<T>(1, m, 2.0 / mf, seed, "rnn/m0").into_vec();
                Ok(Rnn {
                    preset,
                    w: gaussian(m, m, 2.0 / mf, seed, "rnn/w"),
                    a: gaussian(m, d_in, 2.0 / (l3 * mf), seed, "rnn/a"),
                    b: gaussian(1, m, 1.0 / mf, seed, "rnn/b"),
                    m0: Some(m0),
                    seq_len,
                })
            }
        }
    }

    /// Seed 002's network (Def. 3.3).
    pub fn elman(m: usize, d_in: usize, d_out: usize, seed: u64) -> Result<Self> {
        Self::init(Preset::Elman, m, d_in, d_out, 1, seed)
    }

    /// Seed 004's network (eq. 14) for sequences of length L.
    pub fn wang(m: usize, d_in: usize, seq_len: usize, seed: u64) -> Result<Self> {
        Self::init(Preset::Wang, m, d_in, 1, seq_len, seed)
    }

    /// Rebuilds a network from saved arrays (the inverse of [`Rnn::param_arrays`]), checking shapes.
    pub fn from_parts(
        preset: Preset,
        w: Matrix<T>,
        a: Matrix<T>,
        b: Matrix<T>,
        m0: Option<Vec<T>>,
        seq_len: usize,
    ) -> Result<Self> {
        let m = w.rows();
        if m == 0 || w.cols() != m {
            return Err(Error::Shape(format!(
                "w must be square and non-empty, got {}x{}",
                w.rows(),
                w.cols()
            )));
        }
        if a.rows() != m || a.cols() == 0 {
            return Err(Error::Shape(format!(
                "a must be {m}x(d_in ≥ 1), got {}x{}",
                a.rows(),
                a.cols()
            )));
        }
        if b.cols() != m || b.rows() == 0 {
            return Err(Error::Shape(format!(
                "b must be (d_out ≥ 1)x{m}, got {}x{}",
                b.rows(),
                b.cols()
            )));
        }
        match (preset, &m0) {
            (Preset::Wang, Some(v)) if v.len() == m && b.rows() == 1 => {}
            (Preset::Wang, _) => {
                return Err(Error::Shape(format!(
                    "the wang preset needs m0 of length {m} and b of length {m}"
                )))
            }
            (Preset::Elman, None) => {}
            (Preset::Elman, Some(_)) => {
                return Err(Error::invalid(
                    "m0",
                    "the elman preset has h_0 = 0 and no m0",
                ))
            }
        }
        Ok(Rnn {
            preset,
            w,
            a,
            b,
            m0,
            seq_len: seq_len.max(1),
        })
    }

    /// Width m.
    pub fn width(&self) -> usize {
        self.w.rows()
    }
    /// Input dimension d_in.
    pub fn input_dim(&self) -> usize {
        self.a.cols()
    }
    /// Output dimension d_out (1 for `Wang`).
    pub fn output_dim(&self) -> usize {
        self.b.rows()
    }
    /// The variance σ_B² B was drawn from: 1/d for `Elman`, 1/m for `Wang`.
    pub fn b_variance(&self) -> f64 {
        match self.preset {
            Preset::Elman => 1.0 / self.output_dim() as f64,
            Preset::Wang => 1.0 / self.width() as f64,
        }
    }
    /// h_0 (length m): 0 for `Elman`, φ(M_0) for `Wang`.
    pub fn h0(&self) -> Vec<T> {
        match &self.m0 {
            Some(m0) => m0.iter().map(|&v| v.max(T::zero())).collect(),
            None => vec![T::zero(); self.width()],
        }
    }

    /// The parameters as named arrays: w (m × m), a (m × d_in), b (d_out × m, or m for `Wang`)
    /// and, for `Wang`, m0 (m), converted to f64.
    pub fn param_arrays(&self) -> Vec<ParamArray> {
        let f = |v: &[T]| v.iter().map(|x| x.as_f64()).collect::<Vec<f64>>();
        let m = self.width();
        let mut out = vec![
            ParamArray {
                name: "w",
                shape: vec![m, m],
                data: f(self.w.as_slice()),
            },
            ParamArray {
                name: "a",
                shape: vec![m, self.input_dim()],
                data: f(self.a.as_slice()),
            },
        ];
        let b_shape = match self.preset {
            Preset::Wang => vec![m],
            Preset::Elman => vec![self.output_dim(), m],
        };
        out.push(ParamArray {
            name: "b",
            shape: b_shape,
            data: f(self.b.as_slice()),
        });
        if let Some(m0) = &self.m0 {
            out.push(ParamArray {
                name: "m0",
                shape: vec![m],
                data: f(m0),
            });
        }
        out
    }

    /// Forward pass over a batch given as L step matrices (n × d_in each):
    /// H_ℓ = relu(H_{ℓ−1} Wᵀ + X_ℓ Aᵀ), one GEMM over the batch per step.
    pub fn forward(&self, xs: &[Matrix<T>]) -> Result<Trace<T>> {
        let (n, _) = check_steps(xs, Some(self.input_dim()))?;
        let m = self.width();
        let steps = xs.len();
        let mut h = Matrix::zeros((steps + 1) * n, m);
        let h0 = self.h0();
        for row in 0..n {
            h.row_mut(row).copy_from_slice(&h0);
        }
        let nm = n * m;
        let mut g = Matrix::zeros(n, m);
        for (l, x) in xs.iter().enumerate() {
            // G = X_ℓ Aᵀ + H_{ℓ−1} Wᵀ, then H_ℓ = relu(G)
            gemm_into(&mut g, x.view(), self.a.t(), T::one(), false)?;
            {
                let prev = View::row_major(&h.as_slice()[l * nm..(l + 1) * nm], n, m)?;
                gemm_into(&mut g, prev, self.w.t(), T::one(), true)?;
            }
            let dst = &mut h.as_mut_slice()[(l + 1) * nm..(l + 2) * nm];
            for (d, &v) in dst.iter_mut().zip(g.as_slice()) {
                *d = v.max(T::zero());
            }
        }
        Ok(Trace { n, steps, h })
    }

    /// [`Rnn::forward`] on a row-major (n, L, d_in) array (sample-major, numpy C order).
    pub fn forward_array(&self, x: &[T], n: usize, len: usize) -> Result<Trace<T>> {
        self.forward(&split_steps(x, n, len, self.input_dim())?)
    }

    /// Outputs y_ℓ = B h_ℓ for every sample at step ℓ (1..=L): n × d_out.
    pub fn outputs(&self, trace: &Trace<T>, l: usize) -> Result<Matrix<T>> {
        if l == 0 || l > trace.steps {
            return Err(Error::invalid(
                "step",
                format!("{l} outside 1..={}", trace.steps),
            ));
        }
        let mut y = Matrix::zeros(trace.n, self.output_dim());
        gemm_into(&mut y, trace.h_view(l), self.b.t(), T::one(), false)?;
        Ok(y)
    }

    /// Outputs at every step: element ℓ−1 is y_ℓ (n × d_out).
    pub fn predict(&self, xs: &[Matrix<T>]) -> Result<Vec<Matrix<T>>> {
        let trace = self.forward(xs)?;
        (1..=trace.steps).map(|l| self.outputs(&trace, l)).collect()
    }

    /// Back-propagation through time. `dout[ℓ−1]` is ∂Obj/∂y_ℓ (n × d_out) or `None` where
    /// step ℓ's output does not enter the objective. Returns δ_ℓ = ∂Obj/∂g_ℓ for ℓ = 1..L:
    /// δ_L = (E_L B) ⊙ D_L, δ_ℓ = (E_ℓ B + δ_{ℓ+1} W) ⊙ D_ℓ; one GEMM with W per step.
    pub fn backward(&self, trace: &Trace<T>, dout: &[Option<Matrix<T>>]) -> Result<Deltas<T>> {
        let (n, steps, m) = (trace.n, trace.steps, self.width());
        if dout.len() != steps {
            return Err(Error::Shape(format!(
                "{} output gradients for a sequence of length {steps}",
                dout.len()
            )));
        }
        let nm = n * m;
        let mut d = Matrix::zeros(steps * n, m);
        let mut dh = Matrix::zeros(n, m);
        for l in (1..=steps).rev() {
            let mut any = false;
            if let Some(e) = &dout[l - 1] {
                if e.shape() != (n, self.output_dim()) {
                    return Err(Error::Shape(format!(
                        "output gradient at step {l} is {}x{}, expected {n}x{}",
                        e.rows(),
                        e.cols(),
                        self.output_dim()
                    )));
                }
                gemm_into(&mut dh, e.view(), self.b.view(), T::one(), false)?;
                any = true;
            }
            if l < steps {
                let next = View::row_major(&d.as_slice()[l * nm..(l + 1) * nm], n, m)?;
                gemm_into(&mut dh, next, self.w.view(), T::one(), any)?;
                any = true;
            }
            if !any {
                continue; // δ_ℓ = 0 (already zero)
            }
            let hl = trace.h(l);
            let dst = &mut d.as_mut_slice()[(l - 1) * nm..l * nm];
            for ((o, &v), &hv) in dst.iter_mut().zip(dh.as_slice()).zip(hl) {
                *o = if hv > T::zero() { v } else { T::zero() };
            }
        }
        Ok(Deltas { n, steps, d })
    }

    /// ∇_W = Σ_ℓ δ_ℓᵀ H_{ℓ−1} (m × m), one GEMM over all steps and samples.
    pub fn weight_grad(&self, trace: &Trace<T>, deltas: &Deltas<T>) -> Result<Matrix<T>> {
        if deltas.n != trace.n || deltas.steps != trace.steps {
            return Err(Error::Shape(
                "deltas and trace come from different batches".into(),
            ));
        }
        let m = self.width();
        let mut g = Matrix::zeros(m, m);
        gemm_into(&mut g, deltas.d.t(), trace.previous_view(), T::one(), false)?;
        Ok(g)
    }

    /// Per-sample objective values, and the output gradients E_ℓ of the batch mean (when `grad`).
    fn objective_parts(
        &self,
        trace: &Trace<T>,
        targets: &[Matrix<f64>],
        obj: &Objective,
        grad: bool,
    ) -> Result<(Vec<f64>, OutputGrads<T>)> {
        let (n, steps, dout) = (trace.n, trace.steps, self.output_dim());
        let range = obj.outputs.steps(steps);
        let count = range.clone().count();
        if targets.len() != count {
            return Err(Error::Shape(format!(
                "{} target matrices for the {count} output steps {:?} of a length-{steps} sequence",
                targets.len(),
                range
            )));
        }
        if !(obj.scale.is_finite()) {
            return Err(Error::invalid("lambda", "must be finite"));
        }
        let mut losses = vec![0.0; n];
        let mut es: OutputGrads<T> = vec![None; steps];
        let lam = obj.scale;
        let mut z = vec![0.0; dout];
        let mut gz = vec![0.0; dout];
        for (t, l) in targets.iter().zip(range) {
            if t.shape() != (n, dout) {
                return Err(Error::Shape(format!(
                    "targets at step {l} are {}x{}, expected {n}x{dout}",
                    t.rows(),
                    t.cols()
                )));
            }
            let y = self.outputs(trace, l)?;
            let mut e = if grad {
                Some(Matrix::<T>::zeros(n, dout))
            } else {
                None
            };
            for (i, loss_i) in losses.iter_mut().enumerate() {
                for (zk, &yk) in z.iter_mut().zip(y.row(i)) {
                    *zk = lam * yk.as_f64();
                }
                if let Some(e) = e.as_mut() {
                    *loss_i += obj.loss.value_and_grad(&z, t.row(i), &mut gz);
                    // ∂/∂y = λ G'(λ y) / n (batch mean)
                    for (ek, &g) in e.row_mut(i).iter_mut().zip(&gz) {
                        *ek = T::of(lam * g / n as f64);
                    }
                } else {
                    *loss_i += obj.loss.value(&z, t.row(i));
                }
            }
            es[l - 1] = e;
        }
        Ok((losses, es))
    }

    /// Per-sample objective values Σ_{ℓ ∈ outputs} G(λ y_ℓ(x_i), target_{i,ℓ}).
    ///
    /// `targets` holds one n × d_out matrix per output step, in increasing ℓ: labels ±1 for
    /// `Logistic`, real targets for `L2`, probability rows (e.g. [`one_hot`]) for `CrossEntropy`.
    pub fn losses(
        &self,
        xs: &[Matrix<T>],
        targets: &[Matrix<f64>],
        obj: &Objective,
    ) -> Result<Vec<f64>> {
        let trace = self.forward(xs)?;
        Ok(self.objective_parts(&trace, targets, obj, false)?.0)
    }

    /// The per-sample objective values and ∇_W of their batch mean, by batched BPTT.
    pub fn loss_and_grad(
        &self,
        xs: &[Matrix<T>],
        targets: &[Matrix<f64>],
        obj: &Objective,
    ) -> Result<LossGrad<T>> {
        let trace = self.forward(xs)?;
        let (losses, es) = self.objective_parts(&trace, targets, obj, true)?;
        let deltas = self.backward(&trace, &es)?;
        let grad = self.weight_grad(&trace, &deltas)?;
        let mean = losses.iter().sum::<f64>() / losses.len() as f64;
        Ok(LossGrad { losses, mean, grad })
    }

    /// One SGD step on W (= W + W' of seed 002): W ← W − η ∇.
    pub fn apply_update(&mut self, grad: &Matrix<T>, eta: f64) -> Result<()> {
        if grad.shape() != self.w.shape() {
            return Err(Error::Shape(format!(
                "gradient {}x{} for W {}x{}",
                grad.rows(),
                grad.cols(),
                self.width(),
                self.width()
            )));
        }
        let s = T::of(eta);
        for (w, &g) in self.w.as_mut_slice().iter_mut().zip(grad.as_slice()) {
            *w -= s * g;
        }
        Ok(())
    }
}

/// One-hot rows (n × d) for class indices, the cross-entropy targets.
pub fn one_hot(classes: &[usize], d: usize) -> Result<Matrix<f64>> {
    if let Some(&c) = classes.iter().find(|&&c| c >= d) {
        return Err(Error::invalid("class", format!("{c} outside 0..{d}")));
    }
    Ok(Matrix::from_fn(classes.len(), d, |i, k| {
        if classes[i] == k {
            1.0
        } else {
            0.0
        }
    }))
}
