//! The learners of seed 003 (Allen-Zhu & Li, "What Can ResNet Learn Efficiently,
//! Going Beyond Kernels?"), all with vector outputs out(x) ∈ R^k and all batched:
//! a batch is a matrix with one sample per row (X is n × d, outputs are n × k).
//!
//! - [`ResNet3`] (`3resnet`): the three-layer ResNet of eq. (2.1),
//!   out(x) = A(σ(Wx + b1) + σ(Uσ(Wx + b1) + b2)), trained in the re-parameterized
//!   form of §6. Absorbing the biases, W(x, 1) = Wx + b1, and writing U = V_{:,1..k} A,
//!   b2 = V_{:,k+1} (the paper's "U = VA"), eq. (2.1) becomes
//!
//!   out_1(x) = A σ((W⁽⁰⁾ + W)(x, 1)),
//!   out(x)   = out_1(x) + A σ((V⁽⁰⁾ + V)(out_1(x), 1)),
//!
//!   so the second hidden layer consumes the k-dimensional out_1(x) (with a 1
//!   appended for its bias), not the m-dimensional hidden layer: V is m × (k + 1).
//!   [`eq21_forward`] evaluates eq. (2.1) for an arbitrary U and the tests check
//!   that both forms agree when U = V_{:,1..k} A. Only W and V are trained (A,
//!   W⁽⁰⁾, V⁽⁰⁾ are fixed), with learning rates η_w and η_v = `lr_v_ratio` · η_w.
//! - [`Fc2`], [`Fc3`] (`2layer`, `3layer`): fully connected ReLU nets with biases
//!   on the hidden layers, out = Aσ(W(x,1)) and out = Aσ(W2(σ(W1(x,1)),1)); the
//!   hidden weights are trained, the output layer A is fixed (App. A, "following [2]").
//! - [`Last`] (`last`, the conjugate kernel): the random features σ(W⁽⁰⁾(x,1)) of
//!   an [`Fc2`] are frozen and only the output layer A is trained.
//! - [`Ntk`] (`ntk`, finite-width NTK): the [`Fc2`] network linearized at its
//!   initialization in the hidden weights, f_lin(x; W) = f(x; W⁽⁰⁾) + ⟨∇_W f(x; W⁽⁰⁾), W − W⁽⁰⁾⟩.
//!   Because σ(z) = 1{z ≥ 0}z this is exactly f_lin(x; W) = A(D⁽⁰⁾(x) W(x,1)),
//!   D⁽⁰⁾(x) = diag 1{W⁽⁰⁾(x,1) ≥ 0}: a linear model in W.
//!
//! Conventions (shared by every learner, see [`Learner`]):
//! - loss: Obj = ½‖out(x) − y‖²₂ (eq. 6.1) averaged over the rows of the batch,
//!   L = (1/2n) Σ_i ‖out(x_i) − y_i‖²; the gradients are those of this L.
//!   (The test error of App. A, E‖out(x) − y‖², is 2L: see
//!   [`crate::models::krr::mean_sq_error`].)
//! - σ = ReLU with derivative 1{z ≥ 0} (the D matrices of §6).
//! - every trained matrix is stored in full (W⁽⁰⁾ + W, not the deviation W), as
//!   PyTorch would hold it; footnote 10 of the seed notes that SGD on W⁽⁰⁾ + W
//!   and on W are the same. Weight decay in [`crate::train::sgd`] therefore pulls
//!   the full weights toward 0, as PyTorch's `weight_decay` does in App. A.
//!   [`ResNet3::deviation`] returns W and V themselves.
//! - computations are in f64.
//!
//! Initializations ([`Init`]):
//! - `Experiment` (App. A): A, V and every bias ~ N(0, 1/m), the input weights
//!   W ~ N(0, 1/d). The extracted seed text prints "N(1, 1/m)" for A and V; that
//!   is an extraction error (SYSTEM.md §D: N(0, 1/m)), and N(0, ·) is used. The
//!   fully connected nets use the same rule ("similar initialization"): a layer
//!   fed by the m hidden units (Fc3's W2) ~ N(0, 1/m).
//! - `Theory { sigma_w, sigma_v }` (§6, below Table 1, ResNet3 only):
//!   A ~ N(0, 1/m), W⁽⁰⁾ ~ N(0, σ_w²), V⁽⁰⁾ ~ N(0, σ_v²/m), bias columns included;
//!   Table 1 takes σ_w = m^{−1/8} ([`Init::table1`]).

use crate::error::{Error, Result};
use crate::linalg::{gemm_into, matmul, Matrix};
use crate::models::learner::{residual, Learner};
use crate::rng::{self, WRng};

/// How the fixed and initial weights are drawn (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// App. A: A, V, biases ~ N(0, 1/m); input weights ~ N(0, 1/d).
    Experiment,
    /// §6 / Table 1: A ~ N(0, 1/m), W⁽⁰⁾ ~ N(0, σ_w²), V⁽⁰⁾ ~ N(0, σ_v²/m).
    Theory { sigma_w: f64, sigma_v: f64 },
}

impl Init {
    /// Table 1's choice σ_w = m^{−1/8} with the given σ_v (the paper sets
    /// σ_v = 1/τ_v², problem dependent; Theorem 1 allows σ_v ∈ [polylog m, m^0.37]).
    pub fn table1(m: usize, sigma_v: f64) -> Self {
        Init::Theory {
            sigma_w: (m as f64).powf(-0.125),
            sigma_v,
        }
    }
}

fn check_dims(d: usize, m: usize, k: usize) -> Result<()> {
    if d == 0 || m == 0 || k == 0 {
        return Err(Error::invalid(
            "d/m/k",
            format!("dimensions must be positive, got d = {d}, m = {m}, k = {k}"),
        ));
    }
    Ok(())
}

/// An r × c matrix of i.i.d. N(0, std²) draws.
fn gaussian(r: usize, c: usize, std: f64, g: &mut WRng) -> Matrix<f64> {
    Matrix::from_fn(r, c, |_, _| std * rng::normal(g))
}

/// A weight matrix m × (fan_in + 1) whose last column is the bias: weights
/// ~ N(0, w_std²), bias ~ N(0, b_std²).
fn weights_with_bias(m: usize, fan_in: usize, w_std: f64, b_std: f64, g: &mut WRng) -> Matrix<f64> {
    Matrix::from_fn(m, fan_in + 1, |_, j| {
        let s = if j < fan_in { w_std } else { b_std };
        s * rng::normal(g)
    })
}

/// (x, 1): the batch with a column of ones appended (n × (c + 1)).
pub fn augment(x: &Matrix<f64>) -> Matrix<f64> {
    let c = x.cols();
    Matrix::from_fn(
        x.rows(),
        c + 1,
        |i, j| if j < c { x.get(i, j) } else { 1.0 },
    )
}

/// a bᵀ.
pub fn mul_nt(a: &Matrix<f64>, b: &Matrix<f64>) -> Result<Matrix<f64>> {
    matmul(a.view(), b.t())
}

/// aᵀ b.
pub fn mul_tn(a: &Matrix<f64>, b: &Matrix<f64>) -> Result<Matrix<f64>> {
    matmul(a.t(), b.view())
}

/// a b.
pub fn mul_nn(a: &Matrix<f64>, b: &Matrix<f64>) -> Result<Matrix<f64>> {
    matmul(a.view(), b.view())
}

pub fn relu(p: &Matrix<f64>) -> Matrix<f64> {
    let mut h = p.clone();
    relu_in_place(&mut h);
    h
}

fn relu_in_place(h: &mut Matrix<f64>) {
    h.as_mut_slice().iter_mut().for_each(|v| *v = v.max(0.0));
}

/// h ← σ(p) (same shapes).
fn relu_into(h: &mut Matrix<f64>, p: &Matrix<f64>) {
    for (hv, pv) in h.as_mut_slice().iter_mut().zip(p.as_slice()) {
        *hv = pv.max(0.0);
    }
}

/// h ← (σ(p), 1): p is n × m, h is n × (m + 1).
fn relu_augment_into(h: &mut Matrix<f64>, p: &Matrix<f64>) {
    let m = p.cols();
    for (hr, pr) in h
        .as_mut_slice()
        .chunks_exact_mut(m + 1)
        .zip(p.as_slice().chunks_exact(m))
    {
        for (hv, pv) in hr.iter_mut().zip(pr) {
            *hv = pv.max(0.0);
        }
        hr[m] = 1.0;
    }
}

/// g ← g ⊙ 1{p ≥ 0} (written as a select, not a branch: the signs of p are random, and a
/// mispredicted branch per element cost more than the GEMMs at paper scale).
fn mask_by(g: &mut Matrix<f64>, p: &Matrix<f64>) {
    for (gv, &pv) in g.as_mut_slice().iter_mut().zip(p.as_slice()) {
        *gv = if pv < 0.0 { 0.0 } else { *gv };
    }
}

/// dst = a bᵀ into an existing matrix of the right shape.
fn nt_into(dst: &mut Matrix<f64>, a: &Matrix<f64>, b: &Matrix<f64>) -> Result<()> {
    gemm_into(dst, a.view(), b.t(), 1.0, false)
}

/// dst = a b into an existing matrix of the right shape.
fn nn_into(dst: &mut Matrix<f64>, a: &Matrix<f64>, b: &Matrix<f64>) -> Result<()> {
    gemm_into(dst, a.view(), b.view(), 1.0, false)
}

/// Per-thread reusable buffers for the n × m temporaries of the forward and backward
/// passes, so that a training step allocates only its outputs and gradients (a step at
/// paper scale is ~0.1-1 ms, and fresh multi-100 KB allocations cost page faults every step).
/// Buffers are taken out of the pool while in use (no borrow is held across a GEMM, which may
/// run other rayon jobs on this thread) and put back afterwards.
mod scratch {
    use crate::linalg::Matrix;
    use std::cell::RefCell;

    /// Buffers kept per thread.
    const MAX_BUFFERS: usize = 8;
    /// Larger buffers (more elements) are not kept.
    const MAX_LEN: usize = 1 << 22;

    thread_local! {
        static POOL: RefCell<Vec<Vec<f64>>> = const { RefCell::new(Vec::new()) };
    }

    /// A rows × cols matrix from this thread's pool. Its contents are unspecified (finite
    /// values left by an earlier use, or zeros): every caller overwrites all of it.
    pub(super) fn take(rows: usize, cols: usize) -> Matrix<f64> {
        let len = rows * cols;
        let mut v = POOL
            .with(|p| {
                let mut p = p.borrow_mut();
                let fit = (0..p.len())
                    .filter(|&i| p[i].capacity() >= len)
                    .min_by_key(|&i| p[i].capacity())
                    .or_else(|| (0..p.len()).max_by_key(|&i| p[i].capacity()));
                fit.map(|i| p.swap_remove(i))
            })
            .unwrap_or_default();
        v.resize(len, 0.0);
        Matrix::from_vec(rows, cols, v).expect("the buffer has rows × cols values")
    }

    /// Returns buffers to this thread's pool.
    pub(super) fn give<const N: usize>(ms: [Matrix<f64>; N]) {
        POOL.with(|p| {
            let mut p = p.borrow_mut();
            for m in ms {
                let v = m.into_vec();
                if p.len() < MAX_BUFFERS && v.capacity() <= MAX_LEN {
                    p.push(v);
                }
            }
        });
    }
}

/// The first c columns of a matrix.
pub fn first_cols(a: &Matrix<f64>, c: usize) -> Matrix<f64> {
    Matrix::from_fn(a.rows(), c, |i, j| a.get(i, j))
}

fn check_input(x: &Matrix<f64>, d: usize) -> Result<()> {
    if x.cols() != d {
        return Err(Error::Shape(format!(
            "inputs with {} columns for a learner on d = {d}",
            x.cols()
        )));
    }
    Ok(())
}

/// Eq. (2.1) for arbitrary weights: out(x) = A(σ(Wx + b1) + σ(Uσ(Wx + b1) + b2)),
/// with A k × m, W m × d, U m × m and b1, b2 of length m (a plain, unbatched
/// reference evaluation, one row of x at a time).
pub fn eq21_forward(
    x: &Matrix<f64>,
    a: &Matrix<f64>,
    w: &Matrix<f64>,
    b1: &[f64],
    u: &Matrix<f64>,
    b2: &[f64],
) -> Result<Matrix<f64>> {
    let (k, m) = a.shape();
    let d = x.cols();
    if w.shape() != (m, d) || u.shape() != (m, m) || b1.len() != m || b2.len() != m {
        return Err(Error::Shape(format!(
            "eq. (2.1) with A {k}x{m}, W {}x{}, U {}x{}, |b1| = {}, |b2| = {} on d = {d}",
            w.rows(),
            w.cols(),
            u.rows(),
            u.cols(),
            b1.len(),
            b2.len()
        )));
    }
    let mut out = Matrix::zeros(x.rows(), k);
    for i in 0..x.rows() {
        let h1: Vec<f64> = (0..m)
            .map(|r| (crate::linalg::dot(w.row(r), x.row(i)) + b1[r]).max(0.0))
            .collect();
        let h2: Vec<f64> = (0..m)
            .map(|r| (crate::linalg::dot(u.row(r), &h1) + b2[r]).max(0.0))
            .collect();
        for j in 0..k {
            let v: f64 = (0..m).map(|r| a.get(j, r) * (h1[r] + h2[r])).sum();
            out.set(i, j, v);
        }
    }
    Ok(out)
}

/// Weights (W, b1, U, b2) of eq. (2.1): W m × d, b1 of length m, U m × m, b2 of length m.
pub type Eq21Weights = (Matrix<f64>, Vec<f64>, Matrix<f64>, Vec<f64>);

/// The three-layer ResNet of eq. (2.1) in the re-parameterized form of §6.
#[derive(Clone, Debug)]
pub struct ResNet3 {
    /// Output weights A (k × m), fixed.
    pub a: Matrix<f64>,
    /// W⁽⁰⁾ + W (m × (d + 1), last column the bias b1), trained.
    pub w: Matrix<f64>,
    /// V⁽⁰⁾ + V (m × (k + 1), last column the bias b2), trained.
    pub v: Matrix<f64>,
    /// W⁽⁰⁾, the initialization (fixed).
    pub w0: Matrix<f64>,
    /// V⁽⁰⁾, the initialization (fixed).
    pub v0: Matrix<f64>,
    /// η_v / η_w: the learning-rate multiplier of V.
    pub lr_v_ratio: f64,
}

/// The intermediate values of one ResNet3 forward pass (`p1`, `p2` and the spare n × m
/// buffer `h` come from [`scratch`]; [`ResNetPass::recycle`] returns them).
struct ResNetPass {
    x1: Matrix<f64>,
    p1: Matrix<f64>,
    o1a: Matrix<f64>,
    p2: Matrix<f64>,
    h: Matrix<f64>,
    out: Matrix<f64>,
}

impl ResNetPass {
    fn recycle(self) -> Matrix<f64> {
        scratch::give([self.p1, self.p2, self.h]);
        self.out
    }
}

impl ResNet3 {
    /// A ResNet on R^d with m hidden units per layer and k outputs, drawn from
    /// `rng::stream(seed, "resnet3-init")`; W = V = 0 (the full weights equal W⁽⁰⁾, V⁽⁰⁾).
    pub fn new(
        d: usize,
        m: usize,
        k: usize,
        init: Init,
        lr_v_ratio: f64,
        seed: u64,
    ) -> Result<Self> {
        check_dims(d, m, k)?;
        if !(lr_v_ratio.is_finite() && lr_v_ratio >= 0.0) {
            return Err(Error::invalid(
                "lr_v_ratio",
                format!("must be finite and ≥ 0, got {lr_v_ratio}"),
            ));
        }
        let mut g = rng::stream(seed, "resnet3-init");
        let inv_sqrt_m = 1.0 / (m as f64).sqrt();
        let a = gaussian(k, m, inv_sqrt_m, &mut g);
        let (w0, v0) = match init {
            Init::Experiment => (
                weights_with_bias(m, d, 1.0 / (d as f64).sqrt(), inv_sqrt_m, &mut g),
                gaussian(m, k + 1, inv_sqrt_m, &mut g),
            ),
            Init::Theory { sigma_w, sigma_v } => {
                if !(sigma_w.is_finite() && sigma_v.is_finite() && sigma_w >= 0.0 && sigma_v >= 0.0)
                {
                    return Err(Error::invalid(
                        "sigma_w/sigma_v",
                        format!("must be finite and ≥ 0, got {sigma_w}, {sigma_v}"),
                    ));
                }
                (
                    gaussian(m, d + 1, sigma_w, &mut g),
                    gaussian(m, k + 1, sigma_v * inv_sqrt_m, &mut g),
                )
            }
        };
        Ok(ResNet3 {
            a,
            w: w0.clone(),
            v: v0.clone(),
            w0,
            v0,
            lr_v_ratio,
        })
    }

    /// Width m.
    pub fn width(&self) -> usize {
        self.a.cols()
    }

    /// The learned deviations (W, V) = (w − W⁽⁰⁾, v − V⁽⁰⁾) of §6.
    pub fn deviation(&self) -> (Matrix<f64>, Matrix<f64>) {
        let sub = |p: &Matrix<f64>, q: &Matrix<f64>| {
            Matrix::from_fn(p.rows(), p.cols(), |i, j| p.get(i, j) - q.get(i, j))
        };
        (sub(&self.w, &self.w0), sub(&self.v, &self.v0))
    }

    /// The weights of eq. (2.1) equivalent to the current parameters:
    /// (W, b1, U, b2) with W(x,1) = Wx + b1, U = V_{:,1..k} A, b2 = V_{:,k+1}.
    pub fn to_eq21(&self) -> Result<Eq21Weights> {
        let (m, d1) = self.w.shape();
        let k = self.a.rows();
        let w = first_cols(&self.w, d1 - 1);
        let b1 = (0..m).map(|r| self.w.get(r, d1 - 1)).collect();
        let u = mul_nn(&first_cols(&self.v, k), &self.a)?;
        let b2 = (0..m).map(|r| self.v.get(r, k)).collect();
        Ok((w, b1, u, b2))
    }

    /// out_1(x) = Aσ((W⁽⁰⁾ + W)(x,1)) (n × k), the first block's output.
    pub fn out1(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        check_input(x, self.input_dim())?;
        let p1 = mul_nt(&augment(x), &self.w)?;
        mul_nt(&relu(&p1), &self.a)
    }

    fn pass(&self, x: &Matrix<f64>) -> Result<ResNetPass> {
        check_input(x, self.input_dim())?;
        let (n, m, k) = (x.rows(), self.width(), self.a.rows());
        let x1 = augment(x);
        let mut p1 = scratch::take(n, m);
        let mut p2 = scratch::take(n, m);
        let mut h = scratch::take(n, m);
        let mut out = Matrix::zeros(n, k);
        let res = (|| -> Result<Matrix<f64>> {
            nt_into(&mut p1, &x1, &self.w)?;
            relu_into(&mut h, &p1);
            nt_into(&mut out, &h, &self.a)?;
            let o1a = augment(&out);
            nt_into(&mut p2, &o1a, &self.v)?;
            relu_into(&mut h, &p2);
            gemm_into(&mut out, h.view(), self.a.t(), 1.0, true)?;
            Ok(o1a)
        })();
        match res {
            Ok(o1a) => Ok(ResNetPass {
                x1,
                p1,
                o1a,
                p2,
                h,
                out,
            }),
            Err(e) => {
                scratch::give([p1, p2, h]);
                Err(e)
            }
        }
    }
}

impl Learner for ResNet3 {
    fn name(&self) -> &'static str {
        "3resnet"
    }
    fn input_dim(&self) -> usize {
        self.w.cols() - 1
    }
    fn output_dim(&self) -> usize {
        self.a.rows()
    }
    fn forward(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        Ok(self.pass(x)?.recycle())
    }
    /// With G = (out − y)/n: ∂L/∂P2 = (G A) ⊙ 1{P2 ≥ 0}, ∂L/∂V = (∂L/∂P2)ᵀ(out_1, 1);
    /// ∂L/∂out_1 = G + (∂L/∂P2 · V)_{:,1..k}; ∂L/∂P1 = (∂L/∂out_1 · A) ⊙ 1{P1 ≥ 0},
    /// ∂L/∂W = (∂L/∂P1)ᵀ(x, 1).
    fn loss_and_grads(&self, x: &Matrix<f64>, y: &Matrix<f64>) -> Result<(f64, Vec<Matrix<f64>>)> {
        let mut s = self.pass(x)?;
        let res = (|| {
            let (loss, g) = residual(&s.out, y)?;
            let k = self.a.rows();
            // ∂L/∂P2 and then ∂L/∂P1 reuse the spare buffer h
            let dp = &mut s.h;
            nn_into(dp, &g, &self.a)?;
            mask_by(dp, &s.p2);
            let dv = mul_tn(dp, &s.o1a)?;
            let do1a = mul_nn(dp, &self.v)?;
            let do1 = Matrix::from_fn(g.rows(), k, |i, j| g.get(i, j) + do1a.get(i, j));
            nn_into(dp, &do1, &self.a)?;
            mask_by(dp, &s.p1);
            let dw = mul_tn(dp, &s.x1)?;
            Ok((loss, vec![dw, dv]))
        })();
        s.recycle();
        res
    }
    fn params(&self) -> Vec<&Matrix<f64>> {
        vec![&self.w, &self.v]
    }
    fn params_mut(&mut self) -> Vec<&mut Matrix<f64>> {
        vec![&mut self.w, &mut self.v]
    }
    fn lr_multipliers(&self) -> Vec<f64> {
        vec![1.0, self.lr_v_ratio]
    }
}

/// The two-layer fully connected ReLU net out(x) = Aσ(W(x,1)), W trained.
#[derive(Clone, Debug)]
pub struct Fc2 {
    /// Output weights A (k × m), fixed.
    pub a: Matrix<f64>,
    /// Hidden weights with bias column (m × (d + 1)), trained.
    pub w: Matrix<f64>,
}

impl Fc2 {
    /// App. A initialization from `rng::stream(seed, "fc2-init")`: W ~ N(0, 1/d),
    /// bias and A ~ N(0, 1/m). [`Last`] and [`Ntk`] built with the same seed share it.
    pub fn new(d: usize, m: usize, k: usize, seed: u64) -> Result<Self> {
        check_dims(d, m, k)?;
        let mut g = rng::stream(seed, "fc2-init");
        let inv_sqrt_m = 1.0 / (m as f64).sqrt();
        let a = gaussian(k, m, inv_sqrt_m, &mut g);
        let w = weights_with_bias(m, d, 1.0 / (d as f64).sqrt(), inv_sqrt_m, &mut g);
        Ok(Fc2 { a, w })
    }
}

impl Learner for Fc2 {
    fn name(&self) -> &'static str {
        "2layer"
    }
    fn input_dim(&self) -> usize {
        self.w.cols() - 1
    }
    fn output_dim(&self) -> usize {
        self.a.rows()
    }
    fn forward(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        check_input(x, self.input_dim())?;
        let mut h = scratch::take(x.rows(), self.a.cols());
        let res = (|| {
            nt_into(&mut h, &augment(x), &self.w)?;
            relu_in_place(&mut h);
            mul_nt(&h, &self.a)
        })();
        scratch::give([h]);
        res
    }
    /// ∂L/∂W = ((G A) ⊙ 1{P ≥ 0})ᵀ(x, 1), G = (out − y)/n.
    fn loss_and_grads(&self, x: &Matrix<f64>, y: &Matrix<f64>) -> Result<(f64, Vec<Matrix<f64>>)> {
        check_input(x, self.input_dim())?;
        let (n, m) = (x.rows(), self.a.cols());
        let x1 = augment(x);
        let mut p = scratch::take(n, m);
        let mut h = scratch::take(n, m);
        let res = (|| {
            nt_into(&mut p, &x1, &self.w)?;
            relu_into(&mut h, &p);
            let out = mul_nt(&h, &self.a)?;
            let (loss, g) = residual(&out, y)?;
            // ∂L/∂P reuses h
            nn_into(&mut h, &g, &self.a)?;
            mask_by(&mut h, &p);
            Ok((loss, vec![mul_tn(&h, &x1)?]))
        })();
        scratch::give([p, h]);
        res
    }
    fn params(&self) -> Vec<&Matrix<f64>> {
        vec![&self.w]
    }
    fn params_mut(&mut self) -> Vec<&mut Matrix<f64>> {
        vec![&mut self.w]
    }
}

/// The three-layer fully connected ReLU net out(x) = Aσ(W2(σ(W1(x,1)), 1)),
/// W1 and W2 trained.
#[derive(Clone, Debug)]
pub struct Fc3 {
    /// Output weights A (k × m), fixed.
    pub a: Matrix<f64>,
    /// First hidden layer with bias column (m × (d + 1)), trained.
    pub w1: Matrix<f64>,
    /// Second hidden layer with bias column (m × (m + 1)), trained.
    pub w2: Matrix<f64>,
}

impl Fc3 {
    /// App. A initialization from `rng::stream(seed, "fc3-init")`: W1 ~ N(0, 1/d),
    /// W2, the biases and A ~ N(0, 1/m).
    pub fn new(d: usize, m: usize, k: usize, seed: u64) -> Result<Self> {
        check_dims(d, m, k)?;
        let mut g = rng::stream(seed, "fc3-init");
        let s = 1.0 / (m as f64).sqrt();
        let a = gaussian(k, m, s, &mut g);
        let w1 = weights_with_bias(m, d, 1.0 / (d as f64).sqrt(), s, &mut g);
        let w2 = gaussian(m, m + 1, s, &mut g);
        Ok(Fc3 { a, w1, w2 })
    }
}

impl Learner for Fc3 {
    fn name(&self) -> &'static str {
        "3layer"
    }
    fn input_dim(&self) -> usize {
        self.w1.cols() - 1
    }
    fn output_dim(&self) -> usize {
        self.a.rows()
    }
    fn forward(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        check_input(x, self.input_dim())?;
        let (n, m) = (x.rows(), self.a.cols());
        let mut p1 = scratch::take(n, m);
        let mut h1a = scratch::take(n, m + 1);
        let mut p2 = scratch::take(n, m);
        let res = (|| {
            nt_into(&mut p1, &augment(x), &self.w1)?;
            relu_augment_into(&mut h1a, &p1);
            nt_into(&mut p2, &h1a, &self.w2)?;
            relu_in_place(&mut p2);
            mul_nt(&p2, &self.a)
        })();
        scratch::give([p1, h1a, p2]);
        res
    }
    fn loss_and_grads(&self, x: &Matrix<f64>, y: &Matrix<f64>) -> Result<(f64, Vec<Matrix<f64>>)> {
        check_input(x, self.input_dim())?;
        let (n, m) = (x.rows(), self.a.cols());
        let x1 = augment(x);
        let mut p1 = scratch::take(n, m);
        let mut h1a = scratch::take(n, m + 1);
        let mut p2 = scratch::take(n, m);
        let mut h = scratch::take(n, m);
        let mut dh1a = scratch::take(n, m + 1);
        let res = (|| {
            nt_into(&mut p1, &x1, &self.w1)?;
            relu_augment_into(&mut h1a, &p1);
            nt_into(&mut p2, &h1a, &self.w2)?;
            relu_into(&mut h, &p2);
            let out = mul_nt(&h, &self.a)?;
            let (loss, g) = residual(&out, y)?;
            // ∂L/∂P2, then ∂L/∂P1, reuse h
            nn_into(&mut h, &g, &self.a)?;
            mask_by(&mut h, &p2);
            let dw2 = mul_tn(&h, &h1a)?;
            nn_into(&mut dh1a, &h, &self.w2)?;
            for ((dst, src), pr) in h
                .as_mut_slice()
                .chunks_exact_mut(m)
                .zip(dh1a.as_slice().chunks_exact(m + 1))
                .zip(p1.as_slice().chunks_exact(m))
            {
                for ((dv, &sv), &pv) in dst.iter_mut().zip(&src[..m]).zip(pr) {
                    *dv = if pv < 0.0 { 0.0 } else { sv };
                }
            }
            let dw1 = mul_tn(&h, &x1)?;
            Ok((loss, vec![dw1, dw2]))
        })();
        scratch::give([p1, h1a, p2, h, dh1a]);
        res
    }
    fn params(&self) -> Vec<&Matrix<f64>> {
        vec![&self.w1, &self.w2]
    }
    fn params_mut(&mut self) -> Vec<&mut Matrix<f64>> {
        vec![&mut self.w1, &mut self.w2]
    }
}

/// The conjugate kernel ("last"): out(x) = Aσ(W⁽⁰⁾(x,1)) with W⁽⁰⁾ fixed and A trained.
#[derive(Clone, Debug)]
pub struct Last {
    /// Output weights A (k × m), trained.
    pub a: Matrix<f64>,
    /// Random first layer with bias column (m × (d + 1)), fixed.
    pub w0: Matrix<f64>,
}

impl Last {
    /// The [`Fc2`] drawn with `seed`, with its roles of fixed and trained swapped.
    pub fn new(d: usize, m: usize, k: usize, seed: u64) -> Result<Self> {
        Ok(Self::from_fc2(&Fc2::new(d, m, k, seed)?))
    }
    /// The conjugate-kernel learner on the random features of `net`.
    pub fn from_fc2(net: &Fc2) -> Self {
        Last {
            a: net.a.clone(),
            w0: net.w.clone(),
        }
    }
    /// The random features σ(W⁽⁰⁾(x,1)) (n × m).
    pub fn features(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        check_input(x, self.input_dim())?;
        let mut h = mul_nt(&augment(x), &self.w0)?;
        relu_in_place(&mut h);
        Ok(h)
    }

    /// [`Last::features`] into a buffer of [`scratch`] (returned to it by the caller).
    fn features_scratch(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        check_input(x, self.input_dim())?;
        let mut h = scratch::take(x.rows(), self.a.cols());
        if let Err(e) = nt_into(&mut h, &augment(x), &self.w0) {
            scratch::give([h]);
            return Err(e);
        }
        relu_in_place(&mut h);
        Ok(h)
    }
}

impl Learner for Last {
    fn name(&self) -> &'static str {
        "last"
    }
    fn input_dim(&self) -> usize {
        self.w0.cols() - 1
    }
    fn output_dim(&self) -> usize {
        self.a.rows()
    }
    fn forward(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        let h = self.features_scratch(x)?;
        let res = mul_nt(&h, &self.a);
        scratch::give([h]);
        res
    }
    /// ∂L/∂A = Gᵀ σ(W⁽⁰⁾(x,1)), G = (out − y)/n (L is quadratic in A).
    fn loss_and_grads(&self, x: &Matrix<f64>, y: &Matrix<f64>) -> Result<(f64, Vec<Matrix<f64>>)> {
        let h = self.features_scratch(x)?;
        let res = (|| {
            let out = mul_nt(&h, &self.a)?;
            let (loss, g) = residual(&out, y)?;
            Ok((loss, vec![mul_tn(&g, &h)?]))
        })();
        scratch::give([h]);
        res
    }
    fn params(&self) -> Vec<&Matrix<f64>> {
        vec![&self.a]
    }
    fn params_mut(&mut self) -> Vec<&mut Matrix<f64>> {
        vec![&mut self.a]
    }
}

/// The finite-width NTK model: [`Fc2`] linearized in its hidden weights at W⁽⁰⁾,
/// f_lin(x; W) = A(D⁽⁰⁾(x) W(x,1)), D⁽⁰⁾(x) = diag 1{W⁽⁰⁾(x,1) ≥ 0}.
#[derive(Clone, Debug)]
pub struct Ntk {
    /// Output weights A (k × m), fixed.
    pub a: Matrix<f64>,
    /// The linearization point W⁽⁰⁾ (m × (d + 1)), fixed.
    pub w0: Matrix<f64>,
    /// The trained hidden weights W (m × (d + 1)), starting at W⁽⁰⁾.
    pub w: Matrix<f64>,
}

impl Ntk {
    /// The linearization of the [`Fc2`] drawn with `seed`.
    pub fn new(d: usize, m: usize, k: usize, seed: u64) -> Result<Self> {
        Ok(Self::from_fc2(&Fc2::new(d, m, k, seed)?))
    }
    /// The linearization of `net` at its current weights.
    pub fn from_fc2(net: &Fc2) -> Self {
        Ntk {
            a: net.a.clone(),
            w0: net.w.clone(),
            w: net.w.clone(),
        }
    }
    /// (x,1), the masks' pre-activations W⁽⁰⁾(x,1) and the masked linear pre-activations
    /// D⁽⁰⁾W(x,1) (the last two in [`scratch`] buffers, returned to it by the caller).
    fn pass(&self, x: &Matrix<f64>) -> Result<(Matrix<f64>, Matrix<f64>, Matrix<f64>)> {
        check_input(x, self.input_dim())?;
        let (n, m) = (x.rows(), self.a.cols());
        let x1 = augment(x);
        let mut p0 = scratch::take(n, m);
        let mut z = scratch::take(n, m);
        let res = nt_into(&mut p0, &x1, &self.w0).and_then(|_| nt_into(&mut z, &x1, &self.w));
        if let Err(e) = res {
            scratch::give([p0, z]);
            return Err(e);
        }
        mask_by(&mut z, &p0);
        Ok((x1, p0, z))
    }
}

impl Learner for Ntk {
    fn name(&self) -> &'static str {
        "ntk"
    }
    fn input_dim(&self) -> usize {
        self.w.cols() - 1
    }
    fn output_dim(&self) -> usize {
        self.a.rows()
    }
    fn forward(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        let (_, p0, z) = self.pass(x)?;
        let res = mul_nt(&z, &self.a);
        scratch::give([p0, z]);
        res
    }
    /// ∂L/∂W = ((G A) ⊙ 1{W⁽⁰⁾(x,1) ≥ 0})ᵀ(x, 1): the same for every W.
    fn loss_and_grads(&self, x: &Matrix<f64>, y: &Matrix<f64>) -> Result<(f64, Vec<Matrix<f64>>)> {
        let (x1, p0, mut z) = self.pass(x)?;
        let res = (|| {
            let out = mul_nt(&z, &self.a)?;
            let (loss, g) = residual(&out, y)?;
            // ∂L/∂Z reuses z
            nn_into(&mut z, &g, &self.a)?;
            mask_by(&mut z, &p0);
            Ok((loss, vec![mul_tn(&z, &x1)?]))
        })();
        scratch::give([p0, z]);
        res
    }
    fn params(&self) -> Vec<&Matrix<f64>> {
        vec![&self.w]
    }
    fn params_mut(&mut self) -> Vec<&mut Matrix<f64>> {
        vec![&mut self.w]
    }
}

/// The learners of Figure 2, by name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LearnerKind {
    /// [`ResNet3`] with the experiment initialization and η_v = η_w.
    ResNet3,
    /// [`Fc3`].
    Fc3,
    /// [`Fc2`].
    Fc2,
    /// [`Last`].
    Last,
    /// [`Ntk`].
    Ntk,
}

// The report names ("3resnet", "3layer", "2layer", "last", "ntk").
crate::options::option_enum!(LearnerKind, "learner", {
    ResNet3 => "3resnet",
    Fc3 => "3layer",
    Fc2 => "2layer",
    Last => "last",
    Ntk => "ntk",
});

impl LearnerKind {
    /// All five, in Figure 2's legend order.
    pub const ALL: [LearnerKind; 5] = [
        LearnerKind::ResNet3,
        LearnerKind::Fc3,
        LearnerKind::Fc2,
        LearnerKind::Last,
        LearnerKind::Ntk,
    ];
    /// A freshly initialized learner (App. A initialization) of width m.
    pub fn build(self, d: usize, m: usize, k: usize, seed: u64) -> Result<Box<dyn Learner>> {
        Ok(match self {
            LearnerKind::ResNet3 => Box::new(ResNet3::new(d, m, k, Init::Experiment, 1.0, seed)?),
            LearnerKind::Fc3 => Box::new(Fc3::new(d, m, k, seed)?),
            LearnerKind::Fc2 => Box::new(Fc2::new(d, m, k, seed)?),
            LearnerKind::Last => Box::new(Last::new(d, m, k, seed)?),
            LearnerKind::Ntk => Box::new(Ntk::new(d, m, k, seed)?),
        })
    }
}
