//! The infinite-width limit H^∞ of the empirical recurrent NTK of
//! [`crate::models::rnn_ntk`], for both presets of [`crate::models::rnn`] (seed 004 §4.1:
//! eq. 23 NTK, eq. 25 forward correlation, eq. 28 backward correlation, Theorem 6).
//!
//! # The quantity
//!
//! With g_ℓ = W h_{ℓ−1} + A x_ℓ, h_ℓ = relu(g_ℓ), f the scalar output at step L (Bᵀh_L for
//! `Wang`, (B h_L)_1 for `Elman`) and b_ℓ = ∂f/∂g_ℓ,
//!
//! H_ij = ⟨∇_W f(x_i), ∇_W f(x_j)⟩ / (m σ_B²)
//!      = Σ_{ℓ,ℓ'} [⟨b_{iℓ}, b_{jℓ'}⟩ / (m σ_B²)] · ⟨h_{i,ℓ−1}, h_{j,ℓ'−1}⟩,
//!
//! σ_B² = 1/m (`Wang`) or 1/d (`Elman`): issue 4's normalization (seed 004 eq. 23 divides by m
//! but eq. 14 draws B from N(0, 1/m); dividing by m σ_B² instead equals eq. 23 for B of unit
//! variance and has a finite, non-zero limit).
//!
//! # Forward correlations (eq. 25)
//!
//! Both presets draw W ~ N(0, 2/m), so ‖h_ℓ‖² = Θ(1) (not Θ(m)): the limits are of the
//! *unnormalized* inner products, K^ℓ_ij = lim_{m→∞} ⟨h_{i,ℓ}, h_{j,ℓ}⟩. Conditionally on the
//! past, the coordinates of (g_{iℓ}, g_{jℓ}) are i.i.d. centred Gaussian pairs with covariance
//! (2/m)·C^ℓ, where
//!
//! C^ℓ_ij = K^{ℓ−1}_ij + s·⟨x_{iℓ}, x_{jℓ}⟩,  s = 1 (`Elman`, A ~ N(0, 2/m)),
//!                                            s = 1/L³ (`Wang`, A ~ N(0, 2/(L³m))),
//!
//! so by the law of large numbers K^ℓ_ij = m·E[relu(u)relu(v)] with Cov(u, v) = (2/m)C^ℓ, i.e.
//!
//! K^ℓ_ij = κ(C^ℓ_ij; C^ℓ_ii, C^ℓ_jj),
//! κ(c; q_1, q_2) = 2·E[relu(u)relu(v)] (Var u = q_1, Var v = q_2, Cov = c)
//!               = √(q_1 q_2)·(1/π)(√(1 − ρ²) + (π − arccos ρ)ρ),  ρ = c/√(q_1 q_2)
//!
//! ([`arccos_map`]; the 1/(2π) of the degree-1 arc-cosine kernel times the factor 2 of the He
//! variance). κ keeps the diagonal (κ(q; q, q) = q), so K^ℓ_ii = C^ℓ_ii =
//! K^0_ii + s Σ_{k≤ℓ} ‖x_{ik}‖², which is eq. 25's Q_l for `Wang`. The starting point is
//! K^0 = 0 for `Elman` (h_0 = 0) and K^0_ij = 1 for every pair for `Wang`: h_0 = relu(M_0) is
//! the same vector for all inputs and ‖relu(M_0)‖² → m·½·(2/m) = 1 — eq. 25's "1 +" in K^1.
//!
//! The unit-variance map ρ ↦ (1/π)(√(1 − ρ²) + (π − arccos ρ)ρ) is the dual activation of
//! √2·relu: with the normalized probabilists' Hermite functions h_r = He_r/√(r!), it equals
//! Σ_r μ_r² ρ^r ([`arccos_map_series`]) with μ_r = √2·a_r, a_r the Hermite coefficients of relu
//! ([`relu_hermite_coefficients`]):
//!
//! a_0 = 1/√(2π), a_1 = 1/2, a_{2k+1} = 0 (k ≥ 1),
//! a_{2k} = (−1)^{k+1} (2k − 3)!! / (√(2π) √((2k)!)) (k ≥ 1, (−1)!! = 1),
//!
//! from E[relu(z) He_r(z)] = He_{r−2}(0)/√(2π) (two integrations by parts) and
//! He_{2k}(0) = (−1)^k (2k − 1)!!. So μ_0 = 1/√π, μ_1 = 1/√2 and Σ μ_r² = 2E[relu²] = 1.
//! Seed 004 writes μ_r = (1/√(2π))∫_0^∞ √(2x) h_r(x) e^{−x²/2} dx, where "√(2x)" must be read
//! as √2·x (with √(2x) the series would not reproduce K^ℓ_ii = Q_l).
//!
//! # Backward correlations (eq. 27-28)
//!
//! b_L = D_L Bᵀ and b_ℓ = D_ℓ Wᵀ b_{ℓ+1}. In the limit (gradient independence, valid because B
//! is drawn independently with mean zero) Wᵀ b_{ℓ+1} has i.i.d. Gaussian coordinate pairs with
//! covariance (2/m)⟨b_{i,ℓ+1}, b_{j,ℓ+1}⟩, independent of the activation patterns D. Hence, with
//! ρ^ℓ_ij = C^ℓ_ij/√(C^ℓ_ii C^ℓ_jj) the pre-activation correlation at step ℓ and
//! P(u > 0, v > 0) = (π − arccos ρ)/(2π),
//!
//! ⟨b_{iL}, b_{jL}⟩/(m σ_B²) → (π − arccos ρ^L)/(2π) = ½ Σ(ρ^L),
//! ⟨b_{iℓ}, b_{jℓ}⟩ → 2·P(u > 0, v > 0)·⟨b_{i,ℓ+1}, b_{j,ℓ+1}⟩ = Σ(ρ^ℓ)·⟨b_{i,ℓ+1}, b_{j,ℓ+1}⟩,
//!
//! Σ(x) = ½ + arcsin(x)/π = (π − arccos x)/π ([`derivative_map`], eq. 28). The factor 2 of the
//! 2/m variance of W is exactly what turns the probability (π − arccos ρ)/(2π) into eq. 28's
//! Σ(ρ); the last step has no W and keeps the bare probability, ½ Σ(ρ^L). Therefore
//!
//! F^ℓ_ij = lim ⟨b_{iℓ}, b_{jℓ}⟩/(m σ_B²) = ½ Π_{s=ℓ}^{L} Σ(ρ^s_ij)
//!
//! ([`backward_correlations`]). Where a pre-activation variance C^s_ii is zero (an `Elman`
//! sequence whose first steps are zero) g ≡ 0, D = 0 (the ReLU derivative is read off h > 0)
//! and the factor is 0, as is K^s.
//!
//! # Cross-time terms (Theorem 6)
//!
//! For ℓ < ℓ', b_{iℓ} carries ℓ' − ℓ more factors Wᵀ than b_{jℓ'}; under gradient independence
//! these are fresh centred Gaussian maps, so ⟨b_{iℓ}, b_{jℓ'}⟩/(m σ_B²) = O(m^{−1/2}) → 0, while
//! the forward cross-time products ⟨h_{i,ℓ−1}, h_{j,ℓ'−1}⟩ stay Θ(1) (they do *not* vanish). The
//! cross-time part of H therefore tends to 0 and
//!
//! H^∞_ij = Σ_{ℓ=1}^{L} F^ℓ_ij · K^{ℓ−1}_ij.
//!
//! The `Elman` ℓ = 1 term is 0 (K^0 = 0); the `Wang` ℓ = 1 term is F^1_ij (K^0 = 1). The
//! diagonal is H^∞_ii = ½ Σ_{ℓ=1}^{L} K^{ℓ−1}_ii. The tests (tests/rnn_infinite.rs) check the
//! limit, and the vanishing of the cross-time part, against [`crate::models::rnn_ntk`].
//!
//! **Seed inconsistencies.** Besides the normalization above and "√(2x)": eq. 23 pairs
//! Back_l D_l with h_l where the state multiplying W at step l is h_{l−1}; eq. 29 states
//! F^l ⪰ (1/K)Σ(·) with K ≤ O(1/L⁴), impossible as written since F^l ≤ ½ — Remark 4.2 shows the
//! intended statement is F^l − K·(·) ⪰ 0 for a constant K > 0.
//!
//! **Cost.** H^∞ is one scalar recursion of length L per pair (i ≤ j), rows in parallel:
//! O(n² L (d + 1)) work, n² memory. [`rnn_ntk_infinite`] runs the recursion for a block of
//! pairs (i, j < i) at once, lane by lane with no branches (arccos by [`acos_select`]), so it
//! vectorizes (AVX-512 or AVX2 chosen at run time), and accumulates H forward in ℓ,
//! H = ½ acc_L with acc_ℓ = (acc_{ℓ−1} + K^{ℓ−1}) Σ(ρ^ℓ), which needs no per-step storage.

use crate::error::{Error, Result};
use crate::kernels::arccos::{acos_select, relu_j, relu_j_of};
use crate::kernels::tile::{check_tile, dense_f64, TileKernel};
use crate::linalg::Matrix;
use std::f64::consts::PI;
use std::ops::Range;

/// Which paper's network: initialization, h_0 and output shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Seed 002, Def. 3.3: h_0 = 0, W, A ~ N(0, 2/m), B (d × m) ~ N(0, 1/d).
    Elman,
    /// Seed 004, eq. 14: h_0 = φ(M_0), M_0, W ~ N(0, 2/m), A ~ N(0, 2/(L³m)), B ∈ R^m ~ N(0, 1/m).
    Wang,
}

crate::options::option_enum!(Preset, "preset", { Elman => "elman", Wang => "wang" });

/// The Hermite coefficients a_0..a_{terms−1} of relu in the orthonormal basis
/// h_r = He_r/√(r!) of L²(N(0, 1)): a_0 = 1/√(2π), a_1 = ½, a_{2k+1} = 0 (k ≥ 1),
/// a_{2k} = (−1)^{k+1}(2k − 3)!!/(√(2π)√((2k)!)) (k ≥ 1). Computed by the ratio
/// a_{2k+2}/a_{2k} = −(2k − 1)/√((2k + 1)(2k + 2)), so no factorial overflows.
pub fn relu_hermite_coefficients(terms: usize) -> Vec<f64> {
    let c0 = 1.0 / (2.0 * PI).sqrt();
    let mut a = vec![0.0; terms];
    let mut even = c0 / 2f64.sqrt(); // a_2 = (−1)!!/(√(2π)√2!)
    for (r, v) in a.iter_mut().enumerate() {
        *v = match r {
            0 => c0,
            1 => 0.5,
            _ if r % 2 == 1 => 0.0,
            _ => {
                let k = (r / 2) as f64;
                let cur = even;
                even *= -(2.0 * k - 1.0) / ((2.0 * k + 1.0) * (2.0 * k + 2.0)).sqrt();
                cur
            }
        };
    }
    a
}

/// Seed 004's μ_r (eq. 25): the Hermite coefficients of √2·relu, μ_r = √2·a_r
/// ([`relu_hermite_coefficients`]); μ_0 = 1/√π, μ_1 = 1/√2, Σ_r μ_r² = 1.
pub fn hermite_coefficients(terms: usize) -> Vec<f64> {
    relu_hermite_coefficients(terms)
        .into_iter()
        .map(|a| a * 2f64.sqrt())
        .collect()
}

/// The unit-variance arc-cosine map of √2·relu, (1/π)(√(1 − ρ²) + (π − arccos ρ)ρ) =
/// 2E[relu(u)relu(v)] for standard Gaussians of correlation ρ (clamped to [−1, 1]).
#[inline]
pub fn arccos_map_unit(rho: f64) -> f64 {
    relu_j_of(rho).1 / PI
}

/// κ(ρ; q_1, q_2) = 2E[relu(u)relu(v)] for centred Gaussians with Var u = q_1, Var v = q_2 and
/// correlation ρ: √(q_1 q_2)·(1/π)(√(1 − ρ²) + (π − arccos ρ)ρ) — the He-scaled (W ~ N(0, 2/m))
/// layer map of eq. 25. Zero when q_1 q_2 = 0.
#[inline]
pub fn arccos_map(rho: f64, q1: f64, q2: f64) -> f64 {
    let s = (q1 * q2).max(0.0).sqrt();
    if s == 0.0 {
        0.0
    } else {
        s * arccos_map_unit(rho)
    }
}

/// The truncated Hermite series Σ_{r<terms} μ_r² ρ^r of eq. 25 (μ_r from
/// [`hermite_coefficients`]); tends to [`arccos_map_unit`] as `terms` grows (geometrically for
/// |ρ| < 1, like terms^{−3/2} at |ρ| = 1).
pub fn arccos_map_series(rho: f64, terms: usize) -> f64 {
    let mut p = 1.0;
    let mut s = 0.0;
    for mu in hermite_coefficients(terms) {
        s += mu * mu * p;
        p *= rho;
    }
    s
}

/// Eq. 28: Σ(ρ) = ½ + arcsin(ρ)/π = (π − arccos ρ)/π = 2·P(u > 0, v > 0) for standard
/// Gaussians of correlation ρ (clamped to [−1, 1]): the derivative kernel
/// 2E[relu'(u)relu'(v)] of the He-scaled layer.
#[inline]
pub fn derivative_map(rho: f64) -> f64 {
    0.5 + rho.clamp(-1.0, 1.0).asin() / PI
}

/// The input scale s of the pre-activation covariance: 1 (`Elman`) or 1/L³ (`Wang`).
pub fn input_scale(preset: Preset, len: usize) -> f64 {
    match preset {
        Preset::Elman => 1.0,
        Preset::Wang => 1.0 / (len as f64).powi(3),
    }
}

/// K^0_ij (the same for every pair): 0 for `Elman` (h_0 = 0), 1 for `Wang` (‖relu(M_0)‖² → 1).
pub fn initial_correlation(preset: Preset) -> f64 {
    match preset {
        Preset::Elman => 0.0,
        Preset::Wang => 1.0,
    }
}

/// Validated inputs: the per-step rows, the diagonal variances q_i^ℓ = C^ℓ_ii (ℓ = 1..L).
pub struct Setup<'a> {
    /// The inputs transposed, for the lane-wise dot products: xt[ℓ][k·n + j] = x_{j,ℓ+1,k}.
    xt: Vec<Vec<f64>>,
    /// q transposed: qt[ℓ·n + i] = C^{ℓ+1}_ii.
    qt: Vec<f64>,
    d: usize,
    xs: &'a [Matrix<f64>],
    n: usize,
    len: usize,
    scale: f64,
    k0: f64,
    /// n × L: q[i·L + ℓ − 1] = C^ℓ_ii = K^0 + s Σ_{k≤ℓ} ‖x_{ik}‖².
    q: Vec<f64>,
}

impl<'a> Setup<'a> {
    pub fn new(preset: Preset, xs: &'a [Matrix<f64>]) -> Result<Self> {
        let first = xs.first().ok_or_else(|| {
            Error::invalid("inputs", "a sequence needs at least one step (L ≥ 1)")
        })?;
        let (n, d) = first.shape();
        if n == 0 {
            return Err(Error::invalid("inputs", "the batch is empty"));
        }
        for (l, x) in xs.iter().enumerate() {
            if x.shape() != (n, d) {
                return Err(Error::Shape(format!(
                    "input step {} is {}x{} but step 1 is {n}x{d}",
                    l + 1,
                    x.rows(),
                    x.cols()
                )));
            }
            if !x.all_finite() {
                return Err(Error::Numerical(format!(
                    "input step {} has non-finite entries",
                    l + 1
                )));
            }
        }
        let len = xs.len();
        let scale = input_scale(preset, len);
        let k0 = initial_correlation(preset);
        let mut q = vec![0.0; n * len];
        for i in 0..n {
            let mut acc = k0;
            for (l, x) in xs.iter().enumerate() {
                acc += scale * x.row(i).iter().map(|v| v * v).sum::<f64>();
                q[i * len + l] = acc;
            }
        }
        let xt = xs
            .iter()
            .map(|x| {
                let mut t = vec![0.0; d * n];
                for j in 0..n {
                    for (k, &v) in x.row(j).iter().enumerate() {
                        t[k * n + j] = v;
                    }
                }
                t
            })
            .collect();
        let mut qt = vec![0.0; n * len];
        for i in 0..n {
            for l in 0..len {
                qt[l * n + i] = q[i * len + l];
            }
        }
        Ok(Setup {
            xt,
            qt,
            d,
            xs,
            n,
            len,
            scale,
            k0,
            q,
        })
    }

    /// Lane-wise [`Setup::ntk_entry`] for row i and the columns j0..j0 + out.len() (all < i):
    /// out[c] = H^∞_{i, j0+c}. `scratch` holds 3 × out.len() values.
    #[inline(always)]
    fn ntk_block(&self, i: usize, j0: usize, out: &mut [f64], scratch: &mut [f64]) {
        let (n, len, d) = (self.n, self.len, self.d);
        let w = out.len();
        let (kk, rest) = scratch.split_at_mut(w);
        let (acc, rest) = rest.split_at_mut(w);
        let dot = &mut rest[..w];
        kk.iter_mut().for_each(|v| *v = self.k0);
        acc.iter_mut().for_each(|v| *v = 0.0);
        for l in 0..len {
            dot.iter_mut().for_each(|v| *v = 0.0);
            let xi = self.xs[l].row(i);
            for (k, &xv) in xi.iter().enumerate().take(d) {
                let col = &self.xt[l][k * n + j0..k * n + j0 + w];
                for (dv, &cv) in dot.iter_mut().zip(col) {
                    *dv += xv * cv;
                }
            }
            let qi = self.q[i * len + l];
            let qj = &self.qt[l * n + j0..l * n + j0 + w];
            let scale = self.scale;
            for (((kv, av), &dv), &qv) in kk.iter_mut().zip(acc.iter_mut()).zip(&*dot).zip(qj) {
                let c = *kv + scale * dv;
                let s = (qi * qv).sqrt();
                let rho = (c / s).clamp(-1.0, 1.0);
                let (j0, j1) = relu_j(rho, acos_select(rho));
                let k_new = s * j1 / PI;
                let sig = j0 / PI;
                let zero = s == 0.0;
                // acc_ℓ = (acc_{ℓ−1} + K^{ℓ−1}) Σ(ρ^ℓ)
                *av = (*av + *kv) * if zero { 0.0 } else { sig };
                *kv = if zero { 0.0 } else { k_new };
            }
        }
        for (o, &a) in out.iter_mut().zip(&*acc) {
            *o = 0.5 * a;
        }
    }

    /// H^∞_{i, j0..j0 + out.len()} for columns j ≠ i (the lane recursion is
    /// symmetric in i and j bit for bit), in blocks of [`BLOCK`] lanes.
    #[inline(always)]
    fn ntk_lanes(&self, i: usize, j0: usize, out: &mut [f64], scratch: &mut [f64]) {
        for (b, o) in out.chunks_mut(BLOCK).enumerate() {
            self.ntk_block(i, j0 + b * BLOCK, o, scratch);
        }
    }

    /// The scalar recursion for pair (i, j): k[ℓ] = K^ℓ_ij (ℓ = 0..L, length L + 1) and
    /// sig[ℓ − 1] = the step-ℓ derivative factor Σ(ρ^ℓ_ij) (0 where a variance is 0).
    fn pair(&self, i: usize, j: usize, k: &mut [f64], sig: &mut [f64]) {
        let len = self.len;
        k[0] = self.k0;
        for l in 0..len {
            let xi = self.xs[l].row(i);
            let xj = self.xs[l].row(j);
            let dot: f64 = xi.iter().zip(xj).map(|(a, b)| a * b).sum();
            let c = k[l] + self.scale * dot;
            let (qi, qj) = (self.q[i * len + l], self.q[j * len + l]);
            let s = (qi * qj).sqrt();
            if s == 0.0 {
                k[l + 1] = 0.0;
                sig[l] = 0.0;
                continue;
            }
            // i = j: ρ = 1 exactly (a rounded ratio below 1 would sit on arccos's steep branch)
            let rho = if i == j {
                1.0
            } else {
                (c / s).clamp(-1.0, 1.0)
            };
            let (j0, j1) = relu_j(rho, rho.acos());
            k[l + 1] = s * j1 / PI;
            sig[l] = j0 / PI;
        }
    }

    /// H^∞_ij = Σ_ℓ F^ℓ_ij K^{ℓ−1}_ij, F^ℓ = ½ Π_{s≥ℓ} Σ(ρ^s), from one pair recursion.
    pub fn ntk_entry(&self, i: usize, j: usize, k: &mut [f64], sig: &mut [f64]) -> f64 {
        self.pair(i, j, k, sig);
        let mut f = 0.5;
        let mut h = 0.0;
        for l in (0..self.len).rev() {
            f *= sig[l];
            h += f * k[l];
        }
        h
    }
}

/// Lanes per block of [`Setup::ntk_block`] (its working set, 3 × BLOCK values, stays in L1).
pub const BLOCK: usize = 256;

/// [`Setup::ntk_lanes`] compiled for the best instruction set the CPU has.
fn ntk_lanes_dispatch(st: &Setup<'_>, i: usize, j0: usize, out: &mut [f64], scratch: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512(st: &Setup<'_>, i: usize, j0: usize, o: &mut [f64], s: &mut [f64]) {
            st.ntk_lanes(i, j0, o, s)
        }
        #[target_feature(enable = "avx2")]
        unsafe fn avx2(st: &Setup<'_>, i: usize, j0: usize, o: &mut [f64], s: &mut [f64]) {
            st.ntk_lanes(i, j0, o, s)
        }
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            return unsafe { avx512(st, i, j0, out, scratch) };
        }
        if is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { avx2(st, i, j0, out, scratch) };
        }
    }
    st.ntk_lanes(i, j0, out, scratch)
}

/// The infinite-width recurrent NTK of a batch of sequences as a [`TileKernel`]:
/// entry (i, j) is the pair recursion of [`rnn_ntk_infinite`], run lane by lane
/// (vectorized) over the columns of a tile row, with the scalar recursion (ρ = 1
/// exactly) on the diagonal.
pub struct RnnInfKernel<'a> {
    st: Setup<'a>,
    preset: Preset,
}

impl<'a> RnnInfKernel<'a> {
    /// The kernel of the sequences `xs` (L step matrices n × d_in) for `preset`.
    pub fn new(preset: Preset, xs: &'a [Matrix<f64>]) -> Result<Self> {
        Ok(RnnInfKernel {
            st: Setup::new(preset, xs)?,
            preset,
        })
    }
}

impl TileKernel for RnnInfKernel<'_> {
    fn n(&self) -> usize {
        self.st.n
    }
    fn name(&self) -> String {
        format!(
            "RNN NTK ({:?}, infinite width, L = {})",
            self.preset, self.st.len
        )
    }
    fn tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) -> Result<()> {
        check_tile(self.st.n, &rows, &cols, out.len())?;
        let w = cols.len();
        if w == 0 {
            return Ok(());
        }
        let len = self.st.len;
        let (mut k, mut sig) = (vec![0.0; len + 1], vec![0.0; len]);
        let mut scratch = vec![0.0; 3 * BLOCK];
        for (ii, row) in out.chunks_exact_mut(w).enumerate() {
            let i = rows.start + ii;
            if cols.contains(&i) {
                let at = i - cols.start;
                let (left, right) = row.split_at_mut(at);
                ntk_lanes_dispatch(&self.st, i, cols.start, left, &mut scratch);
                right[0] = self.st.ntk_entry(i, i, &mut k, &mut sig);
                ntk_lanes_dispatch(&self.st, i, i + 1, &mut right[1..], &mut scratch);
            } else {
                ntk_lanes_dispatch(&self.st, i, cols.start, row, &mut scratch);
            }
        }
        if !out.iter().all(|v| v.is_finite()) {
            return Err(Error::Numerical(
                "the infinite-width RNN NTK has non-finite entries".into(),
            ));
        }
        Ok(())
    }
    fn cost_per_entry(&self) -> f64 {
        self.st.len as f64 * (2.0 * self.st.d as f64 + 40.0)
    }
}

/// The forward correlations K^0..K^L (L + 1 matrices n × n) of eq. 25 in the normalization of
/// the module documentation: K^ℓ_ij = lim_{m→∞} ⟨h_{i,ℓ}, h_{j,ℓ}⟩. `xs` holds L step matrices
/// n × d_in (the layout [`crate::models::rnn_ntk::rnn_ntk`] takes); for `Wang` the sequence
/// length L = `xs.len()` sets the input scale 1/L³.
pub fn forward_correlations(preset: Preset, xs: &[Matrix<f64>]) -> Result<Vec<Matrix<f64>>> {
    let st = Setup::new(preset, xs)?;
    let (n, len) = (st.n, st.len);
    let mut out: Vec<Matrix<f64>> = (0..=len).map(|_| Matrix::zeros(n, n)).collect();
    let mut k = vec![0.0; len + 1];
    let mut sig = vec![0.0; len];
    for i in 0..n {
        for j in 0..=i {
            st.pair(i, j, &mut k, &mut sig);
            for (m, &v) in out.iter_mut().zip(&k) {
                m.set(i, j, v);
                m.set(j, i, v);
            }
        }
    }
    Ok(out)
}

/// The same-time backward correlations F^1..F^L (L matrices n × n; element ℓ − 1 is F^ℓ):
/// F^ℓ_ij = lim_{m→∞} ⟨b_{iℓ}, b_{jℓ}⟩/(m σ_B²) = ½ Π_{s=ℓ}^{L} Σ(ρ^s_ij) (eq. 27-28).
pub fn backward_correlations(preset: Preset, xs: &[Matrix<f64>]) -> Result<Vec<Matrix<f64>>> {
    let st = Setup::new(preset, xs)?;
    let (n, len) = (st.n, st.len);
    let mut out: Vec<Matrix<f64>> = (0..len).map(|_| Matrix::zeros(n, n)).collect();
    let mut k = vec![0.0; len + 1];
    let mut sig = vec![0.0; len];
    for i in 0..n {
        for j in 0..=i {
            st.pair(i, j, &mut k, &mut sig);
            let mut f = 0.5;
            for l in (0..len).rev() {
                f *= sig[l];
                out[l].set(i, j, f);
                out[l].set(j, i, f);
            }
        }
    }
    Ok(out)
}

/// H^∞ (n × n): the m → ∞ limit of [`crate::models::rnn_ntk::rnn_ntk`] for `preset`,
/// H^∞_ij = Σ_{ℓ=1}^{L} F^ℓ_ij K^{ℓ−1}_ij (the cross-time terms vanish; see the module
/// documentation). `xs`: L step matrices n × d_in. The tile driver
/// [`crate::kernels::tile::dense_f64`] over [`RnnInfKernel`]: tile rows in parallel, each pair
/// i ≤ j once, the pairs of a row lane by lane (vectorized), then mirrored.
pub fn rnn_ntk_infinite(preset: Preset, xs: &[Matrix<f64>]) -> Result<Matrix<f64>> {
    dense_f64(&RnnInfKernel::new(preset, xs)?)
}
