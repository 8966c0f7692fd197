//! The empirical neural tangent kernel of a finite ReLU RNN ([`crate::models::rnn`]) with
//! respect to W, computed through the factorization of seed 004 eq. 23.
//!
//! For a scalar output f, ∇_W f = Σ_{ℓ=1}^L b_ℓ h_{ℓ−1}ᵀ with b_ℓ = ∂f/∂g_ℓ = (Back_ℓ D_ℓ)ᵀ
//! (eq. 21-22), so
//!
//! ⟨∇_W f(x_i), ∇_W f(x_j)⟩ = Σ_{ℓ,ℓ'} ⟨b_{i,ℓ}, b_{j,ℓ'}⟩ · ⟨h_{i,ℓ−1}, h_{j,ℓ'−1}⟩.
//!
//! (Seed 004 writes ⟨h_ℓ(x_i), h_{ℓ'}(x_j)⟩ in eq. 23 and eq. 46 writes h_ℓ in ∇f; the state
//! that multiplies W at step ℓ is h_{ℓ−1}, which is what is used here.) The two Gram matrices
//! come from one batched forward pass and one batched BPTT pass with E_L = ∂f/∂y_L; for every
//! ℓ one GEMM gives ⟨b_{·,ℓ}, b_{·,ℓ'}⟩ for all ℓ' ≥ ℓ and one more the hidden-state products,
//! so no m²-long gradient is ever formed.
//!
//! **Normalization** (issue 4's `widenet kernel rnn-ntk` contract): f is the last-step scalar
//! output Bᵀh_L (`Wang`) or the first output coordinate (B h_L)_1 (`Elman`), and
//!
//! H_ij = ⟨∇_W f(x_i), ∇_W f(x_j)⟩ / (m·σ_B²),
//!
//! σ_B² the variance B was drawn from (1/m for `Wang`, 1/d for `Elman`). This has a finite,
//! non-zero limit as m → ∞: ‖b_ℓ‖² = Θ(m σ_B²) and ‖h_ℓ‖² = Θ(1). Seed 004 is inconsistent
//! here — eq. 14 draws B from N(0, 1/m) while eq. 23 still divides by m (and Lemma 12 treats
//! ‖Back_ℓ‖ as O(√m), i.e. B ~ N(0, 1)); with B ~ N(0, 1/m) its H would vanish like 1/m. The
//! convention above equals eq. 23's (1/m)⟨·,·⟩ for B of unit variance.

use crate::error::{Error, Result};
use crate::linalg::{gemm_into, Matrix, Real, View};
use crate::models::rnn::{Deltas, Rnn, Trace};

/// The empirical NTK split by time: `h = diag + cross`.
#[derive(Clone, Debug)]
pub struct RnnNtk {
    /// H (n × n), normalized as the module documentation says.
    pub h: Matrix<f64>,
    /// The same-time part Σ_ℓ ⟨b_{i,ℓ}, b_{j,ℓ}⟩⟨h_{i,ℓ−1}, h_{j,ℓ−1}⟩ / (m σ_B²) (n × n).
    pub diag: Matrix<f64>,
    /// The cross-time part Σ_{ℓ≠ℓ'} (…) / (m σ_B²) (n × n), which vanishes as m → ∞
    /// (seed 004 Theorem 6).
    pub cross: Matrix<f64>,
    /// L × L: entry (ℓ−1, ℓ'−1) is the Frobenius norm over (i, j) of the normalized
    /// (ℓ, ℓ') term T^{ℓℓ'}_ij = ⟨b_{i,ℓ}, b_{j,ℓ'}⟩⟨h_{i,ℓ−1}, h_{j,ℓ'−1}⟩ / (m σ_B²)
    /// (symmetric, since T^{ℓ'ℓ} = (T^{ℓℓ'})ᵀ).
    pub blocks: Matrix<f64>,
}

impl RnnNtk {
    /// ‖cross‖_F / ‖h‖_F.
    pub fn cross_fraction(&self) -> f64 {
        self.cross.frobenius() / self.h.frobenius()
    }
}

/// The empirical NTK H (n × n) of `net` on a batch given as L step matrices (n × d_in).
pub fn rnn_ntk<T: Real>(net: &Rnn<T>, xs: &[Matrix<T>]) -> Result<Matrix<f64>> {
    Ok(rnn_ntk_with_blocks(net, xs)?.h)
}

/// ∂f/∂g_ℓ for every sample and step (f the kernel's scalar output), with the forward trace.
pub fn output_deltas<T: Real>(net: &Rnn<T>, xs: &[Matrix<T>]) -> Result<(Trace<T>, Deltas<T>)> {
    // ReLU's max(0, x) maps NaN to 0, so a NaN row would silently get a finite kernel row
    if xs.iter().any(|x| !x.all_finite()) {
        return Err(Error::Numerical(
            "RNN inputs contain non-finite values".into(),
        ));
    }
    let trace = net.forward(xs)?;
    let (n, steps) = (trace.batch(), trace.steps());
    // f = coordinate 0 of y_L (the only coordinate for `Wang`): E_L = e_1 for every sample.
    let e = Matrix::from_fn(n, net.output_dim(), |_, k| {
        if k == 0 {
            T::one()
        } else {
            T::zero()
        }
    });
    let mut dout: Vec<Option<Matrix<T>>> = vec![None; steps];
    dout[steps - 1] = Some(e);
    let deltas = net.backward(&trace, &dout)?;
    Ok((trace, deltas))
}

/// The empirical NTK with its same-time and cross-time parts and per-(ℓ, ℓ') block norms.
pub fn rnn_ntk_with_blocks<T: Real>(net: &Rnn<T>, xs: &[Matrix<T>]) -> Result<RnnNtk> {
    let (trace, deltas) = output_deltas(net, xs)?;
    let (n, steps, m) = (trace.batch(), trace.steps(), net.width());
    if n == 0 {
        return Err(Error::invalid("inputs", "the batch is empty"));
    }
    let norm = 1.0 / (m as f64 * net.b_variance());
    let nm = n * m;
    let b_all = deltas.stacked().as_slice();
    let h_data = &trace.stacked().as_slice()[..steps * nm];
    let mut diag = vec![0.0f64; n * n];
    let mut upper = vec![0.0f64; n * n]; // Σ_{ℓ<ℓ'} T^{ℓℓ'}
    let mut blocks = Matrix::<f64>::zeros(steps, steps);
    // The Gram products of step ℓ are n × (L − ℓ)·n: two buffers sized for ℓ = 0, shrunk in
    // place for the later (smaller) steps, so no step maps fresh pages.
    let mut gb_buf = vec![T::zero(); steps * n * n];
    let mut gh_buf = vec![T::zero(); steps * n * n];
    for l in 0..steps {
        crate::runtime::check_interrupt()?;
        let rest = steps - l;
        let bl = View::row_major(&b_all[l * nm..(l + 1) * nm], n, m)?;
        let br = View::row_major(&b_all[l * nm..], rest * n, m)?;
        let hl = View::row_major(&h_data[l * nm..(l + 1) * nm], n, m)?;
        let hr = View::row_major(&h_data[l * nm..], rest * n, m)?;
        // n × (rest·n): column block k is ⟨·_{i,ℓ}, ·_{j,ℓ+k}⟩
        gb_buf.truncate(rest * n * n);
        gh_buf.truncate(rest * n * n);
        let mut gb = Matrix::from_vec(n, rest * n, gb_buf)?;
        gemm_into(&mut gb, bl, br.t(), T::one(), false)?;
        let mut gh = Matrix::from_vec(n, rest * n, gh_buf)?;
        gemm_into(&mut gh, hl, hr.t(), T::one(), false)?;
        for k in 0..rest {
            let target = if k == 0 { &mut diag } else { &mut upper };
            let mut sq = 0.0;
            for i in 0..n {
                let rb = &gb.row(i)[k * n..(k + 1) * n];
                let rh = &gh.row(i)[k * n..(k + 1) * n];
                for ((t, &x), &y) in target[i * n..(i + 1) * n].iter_mut().zip(rb).zip(rh) {
                    let v = x.as_f64() * y.as_f64() * norm;
                    *t += v;
                    sq += v * v;
                }
            }
            let f = sq.sqrt();
            blocks.set(l, l + k, f);
            blocks.set(l + k, l, f);
        }
        gb_buf = gb.into_vec();
        gh_buf = gh.into_vec();
    }
    let diag = Matrix::from_vec(n, n, diag)?;
    let cross = Matrix::from_fn(n, n, |i, j| upper[i * n + j] + upper[j * n + i]);
    let h = Matrix::from_fn(n, n, |i, j| diag.get(i, j) + cross.get(i, j));
    if !h.all_finite() {
        return Err(Error::Numerical(
            "the empirical RNN NTK has non-finite entries".into(),
        ));
    }
    Ok(RnnNtk {
        h,
        diag,
        cross,
        blocks,
    })
}
