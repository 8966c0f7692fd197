//! The two-layer ReLU network of seed 001, §3.1:
//!
//! f_{W,a}(x) = (1/√m) Σ_{r=1}^m a_r σ(w_rᵀx), σ = ReLU (eq. 2),
//! w_r(0) ~ N(0, κ²I), a_r ~ unif{−1, +1} (eq. 1), a fixed during training,
//! Φ(W) = ½ Σ_i (y_i − f(x_i))² (eq. 4, a sum, not a mean), and
//! ∂Φ/∂w_r = (a_r/√m) Σ_i (u_i − y_i) 1{w_rᵀx_i ≥ 0} x_i (eq. 5).
//!
//! The forward pass, the gradient signal and the weight update are separate
//! methods so the GD loop ([`crate::train::gd`]) can fuse its bookkeeping into
//! them without re-deriving the math.

use crate::error::{Error, Result};
use crate::linalg::{gemm_into, Matrix, Real};
use crate::rng;
use rayon::prelude::*;

/// The network's parameters: hidden weights W (m × d, row r = w_r) and fixed output signs a.
#[derive(Clone, Debug)]
pub struct TwoLayerNet<T> {
    /// Hidden weights, one neuron per row.
    pub w: Matrix<T>,
    /// Output weights a_r ∈ {−1, +1} (not trained).
    pub a: Vec<T>,
}

/// Bit patterns 1{w_rᵀx_i ≥ 0}, one row of `words` u64s per neuron.
#[derive(Clone, Debug)]
pub struct Patterns {
    words: usize,
    bits: Vec<u64>,
}

/// Bit j set when chunk[j] ≥ 0 (the ReLU derivative convention 1{z ≥ 0} of eq. 5).
#[inline(always)]
fn sign_mask<T: Real>(chunk: &[T]) -> u64 {
    let mut mask = 0u64;
    for (j, v) in chunk.iter().enumerate() {
        mask |= ((*v >= T::zero()) as u64) << j;
    }
    mask
}

impl Patterns {
    /// The activation pattern stored in a pre-activation matrix P (m × n).
    pub fn from_preactivations<T: Real>(p: &Matrix<T>) -> Self {
        let n = p.cols();
        let words = n.div_ceil(64).max(1);
        let mut bits = vec![0u64; p.rows() * words];
        bits.par_chunks_mut(words)
            .zip(p.as_slice().par_chunks(n.max(1)))
            .for_each(|(b, row)| {
                for (word, chunk) in b.iter_mut().zip(row.chunks(64)) {
                    *word = sign_mask(chunk);
                }
            });
        Patterns { words, bits }
    }
    /// Number of entries of P whose sign pattern differs from this one.
    pub fn count_differences<T: Real>(&self, p: &Matrix<T>) -> u64 {
        let n = p.cols().max(1);
        p.as_slice()
            .par_chunks(n)
            .enumerate()
            .map(|(r, row)| {
                self.row(r)
                    .iter()
                    .zip(row.chunks(64))
                    .map(|(word, chunk)| (sign_mask(chunk) ^ word).count_ones() as u64)
                    .sum::<u64>()
            })
            .sum()
    }
    fn row(&self, r: usize) -> &[u64] {
        &self.bits[r * self.words..(r + 1) * self.words]
    }
}

impl<T: Real> TwoLayerNet<T> {
    /// Random initialization of eq. 1 from `seed`: w_r ~ N(0, κ²I), a_r ~ unif{±1}.
    /// Draws are made in f64 and rounded, so the f32 and f64 nets of one seed agree.
    pub fn init(m: usize, d: usize, kappa: f64, seed: u64) -> Result<Self> {
        if m == 0 {
            return Err(Error::invalid("width", "m must be at least 1"));
        }
        if !(kappa > 0.0 && kappa.is_finite()) {
            return Err(Error::invalid(
                "kappa",
                format!("must be positive, got {kappa}"),
            ));
        }
        // W, W(0) and the gradient are m x d each: checked before anything is drawn
        crate::runtime::check_alloc(
            &format!("two-layer weights W, W(0) and the gradient (3 x {m}x{d})"),
            3 * m as u128 * d as u128,
            std::mem::size_of::<T>() as u128,
        )?;
        let mut g = rng::stream(seed, "two-layer/w0");
        let w = Matrix::from_fn(m, d, |_, _| T::of(kappa * rng::normal(&mut g)));
        let mut g = rng::stream(seed, "two-layer/a");
        let a = (0..m).map(|_| T::of(rng::rademacher(&mut g))).collect();
        Ok(TwoLayerNet { w, a })
    }

    /// Width m.
    pub fn width(&self) -> usize {
        self.w.rows()
    }
    /// Input dimension d.
    pub fn dim(&self) -> usize {
        self.w.cols()
    }

    fn check_x(&self, x: &Matrix<T>) -> Result<()> {
        if x.cols() != self.dim() {
            return Err(Error::Shape(format!(
                "inputs have dimension {} but the network expects {}",
                x.cols(),
                self.dim()
            )));
        }
        Ok(())
    }

    /// Pre-activations P = W Xᵀ (m × n) into `p`, and the outputs
    /// u_i = (1/√m) Σ_r a_r σ(P_ri) (eq. 2), accumulated in f64.
    pub fn forward_into(&self, x: &Matrix<T>, p: &mut Matrix<T>) -> Result<Vec<f64>> {
        self.check_x(x)?;
        let (m, n) = (self.width(), x.rows());
        if p.shape() != (m, n) {
            *p = Matrix::zeros(m, n);
        }
        gemm_into(p, self.w.view(), x.t(), T::one(), false)?;
        let scale = 1.0 / (m as f64).sqrt();
        // u = aᵀ relu(P): a column reduction over rows, in blocks of 32 rows whose
        // partial sums (in T, branch-free so it vectorizes) are flushed to f64. Each
        // parallel task takes a fixed group of blocks and the groups' partial sums
        // are added in order, so the result does not depend on how rayon splits the
        // work: a run is bit-for-bit reproducible from its seed.
        const ROWS: usize = 32;
        const GROUP: usize = 8;
        let nn = n.max(1);
        let partials: Vec<Vec<f64>> = p
            .as_slice()
            .par_chunks(nn * ROWS * GROUP)
            .enumerate()
            .map(|(g, group)| {
                let mut acc = vec![0.0f64; n];
                let mut part = vec![T::zero(); n];
                for (cb, rows) in group.chunks(nn * ROWS).enumerate() {
                    let c = g * GROUP + cb;
                    part.iter_mut().for_each(|s| *s = T::zero());
                    for (k, row) in rows.chunks(nn).enumerate() {
                        let ar = self.a[c * ROWS + k];
                        for (s, &v) in part.iter_mut().zip(row) {
                            *s += ar * v.max(T::zero());
                        }
                    }
                    for (a, s) in acc.iter_mut().zip(&part) {
                        *a += s.as_f64();
                    }
                }
                acc
            })
            .collect();
        let mut u = vec![0.0f64; n];
        for part in &partials {
            u.iter_mut().zip(part).for_each(|(x, y)| *x += y);
        }
        Ok(u.into_iter().map(|v| v * scale).collect())
    }

    /// Network outputs f(x_i) for the rows of `x`.
    pub fn predict(&self, x: &Matrix<T>) -> Result<Vec<f64>> {
        let mut p = Matrix::zeros(0, 0);
        self.forward_into(x, &mut p)
    }

    /// Φ(W) = ½ Σ_i (y_i − f(x_i))² (eq. 4).
    pub fn loss(&self, x: &Matrix<T>, y: &[f64]) -> Result<f64> {
        let u = self.predict(x)?;
        check_len(y.len(), u.len())?;
        Ok(half_sq_loss(&u, y))
    }

    /// Turns P into the gradient signal S_ri = (a_r/√m) 1{P_ri ≥ 0} (u_i − y_i), in place
    /// (eq. 5: ∂Φ/∂w_r = Σ_i S_ri x_i). With `reference`, also counts the entries whose
    /// activation differs from it (returned; 0 without a reference).
    pub fn gradient_signal_in_place(
        &self,
        p: &mut Matrix<T>,
        residual: &[f64],
        reference: Option<&Patterns>,
    ) -> u64 {
        let (m, n) = p.shape();
        let scale = 1.0 / (m as f64).sqrt();
        let e: Vec<T> = residual.iter().map(|&v| T::of(v)).collect();
        p.as_mut_slice()
            .par_chunks_mut(n.max(1))
            .enumerate()
            .map(|(r, row)| {
                let ar = self.a[r] * T::of(scale);
                let mut flips = 0u64;
                if let Some(refp) = reference {
                    let bits = refp.row(r);
                    for (word, chunk) in bits.iter().zip(row.chunks(64)) {
                        flips += (sign_mask(chunk) ^ word).count_ones() as u64;
                    }
                }
                for (v, &ei) in row.iter_mut().zip(&e) {
                    let on = *v >= T::zero();
                    *v = if on { ar * ei } else { T::zero() };
                }
                flips
            })
            .sum()
    }

    /// W ← W − η S X, the update of eq. 6 given the gradient signal S (m × n).
    pub fn apply_update(&mut self, s: &Matrix<T>, x: &Matrix<T>, eta: f64) -> Result<()> {
        gemm_into(&mut self.w, s.view(), x.view(), T::of(-eta), true)
    }

    /// ∇_W Φ (m × d), eq. 5, at the current weights.
    pub fn gradient(&self, x: &Matrix<T>, y: &[f64]) -> Result<Matrix<T>> {
        let mut p = Matrix::zeros(0, 0);
        let u = self.forward_into(x, &mut p)?;
        check_len(y.len(), u.len())?;
        let e: Vec<f64> = u.iter().zip(y).map(|(a, b)| a - b).collect();
        self.gradient_signal_in_place(&mut p, &e, None);
        let mut g = Matrix::zeros(self.width(), self.dim());
        gemm_into(&mut g, p.view(), x.view(), T::one(), false)?;
        Ok(g)
    }
}

fn check_len(ny: usize, nx: usize) -> Result<()> {
    if ny != nx {
        return Err(Error::Shape(format!("{ny} labels for {nx} inputs")));
    }
    Ok(())
}

/// ½ Σ (u_i − y_i)², the squared loss of eq. 4.
pub fn half_sq_loss(u: &[f64], y: &[f64]) -> f64 {
    0.5 * u.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>()
}
