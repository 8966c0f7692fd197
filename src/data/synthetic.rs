//! Synthetic data: uniform points on the unit sphere, the polynomial concept
//! class of seed 001 §6 (eq. 12), and a built-in structured two-class dataset
//! for runs that need no files.

use super::labels::{normalize_rows, Dataset};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::rng::{self, WRng};
use serde::{Deserialize, Serialize};

/// `n` points drawn uniformly from the unit sphere S^{d−1} ⊂ R^d (normalized
/// standard Gaussian vectors), one per row. `d = 0` gives an n × 0 matrix.
pub fn unit_sphere(n: usize, d: usize, rng: &mut WRng) -> Matrix<f64> {
    let mut x = Matrix::zeros(n, d);
    if d == 0 {
        return x;
    }
    for i in 0..n {
        x.row_mut(i)
            .copy_from_slice(&rng::sphere_point(d, 1.0, rng));
    }
    x
}

/// One term α (βᵀx)^p of a polynomial target (seed 001, eq. 12).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolyTerm {
    /// Output weight α_j.
    pub alpha: f64,
    /// Direction β_j ∈ R^d.
    pub beta: Vec<f64>,
    /// Power p_j.
    pub p: u32,
}

/// A target y = g(x) = Σ_j α_j (β_jᵀx)^{p_j} (seed 001, §6, eq. 12).
///
/// Corollary 6.2 of seed 001: when every p_j ∈ {1, 2, 4, 6, …}, the labels
/// satisfy sqrt(yᵀ(H^∞)⁻¹y) ≤ 3 Σ_j p_j |α_j| ‖β_j‖₂^{p_j} (eq. 13), so such
/// targets are provably learnable by a wide two-layer ReLU network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolyTarget {
    /// The terms of the sum.
    pub terms: Vec<PolyTerm>,
}

impl PolyTarget {
    /// A target with β_j drawn independently and uniformly from the unit
    /// sphere in R^d, and (α_j, p_j) taken from `specs`.
    pub fn random(d: usize, specs: &[(f64, u32)], rng: &mut WRng) -> Self {
        let terms = specs
            .iter()
            .map(|&(alpha, p)| PolyTerm {
                alpha,
                beta: if d == 0 {
                    Vec::new()
                } else {
                    rng::sphere_point(d, 1.0, rng)
                },
                p,
            })
            .collect();
        PolyTarget { terms }
    }

    /// g(x_i) for every row x_i of `x`. Errors when some β_j's length differs
    /// from the number of columns of `x`.
    pub fn eval(&self, x: &Matrix<f64>) -> Result<Vec<f64>> {
        for (j, t) in self.terms.iter().enumerate() {
            if t.beta.len() != x.cols() {
                return Err(Error::Shape(format!(
                    "polynomial term {j} has a direction of dimension {} but the inputs have {} columns",
                    t.beta.len(),
                    x.cols()
                )));
            }
        }
        Ok((0..x.rows())
            .map(|i| {
                let xi = x.row(i);
                self.terms
                    .iter()
                    .map(|t| {
                        let z: f64 = t.beta.iter().zip(xi).map(|(b, v)| b * v).sum();
                        t.alpha * pow_u32(z, t.p)
                    })
                    .sum()
            })
            .collect())
    }

    /// True when every power is 1 or even, the case covered by Theorem 6.1 /
    /// Corollary 6.2 of seed 001.
    pub fn bound_applies(&self) -> bool {
        self.terms
            .iter()
            .all(|t| t.p == 1 || (t.p >= 2 && t.p.is_multiple_of(2)))
    }

    /// The terms (α_j, ‖β_j‖₂, p_j) of seed 001 eq. (13), the form
    /// `theory::complexity::arora_cor62_bound` takes (its right-hand side
    /// 3 Σ_j p_j |α_j| ‖β_j‖₂^{p_j} bounds sqrt(yᵀ(H^∞)⁻¹y); `theory::complexity::poly_target_bound`
    /// evaluates it for this target).
    pub fn cor62_terms(&self) -> Vec<(f64, f64, u32)> {
        self.terms
            .iter()
            .map(|t| {
                (
                    t.alpha,
                    t.beta.iter().map(|b| b * b).sum::<f64>().sqrt(),
                    t.p,
                )
            })
            .collect()
    }
}

fn pow_u32(z: f64, p: u32) -> f64 {
    match i32::try_from(p) {
        Ok(k) => z.powi(k),
        Err(_) => z.powf(p as f64),
    }
}

// ---------------------------------------------------------------------------
// The built-in structured two-class dataset.

/// Separation of each class mean from the origin (before normalization).
const MEAN_NORM: f64 = 1.0;
/// Standard deviation of the class-independent noise along the two
/// directions in which the means differ.
const SIGNAL_NOISE: f64 = 0.5;
/// Standard deviation along the label-independent nuisance direction u₂.
const NUISANCE: f64 = 0.5;
/// Large / small standard deviations of the class-dependent directions u₃, u₄.
const ANISO: (f64, f64) = (0.7, 0.2);
/// Total standard deviation of the isotropic noise (spread over all d coordinates).
const ISO: f64 = 0.3;

/// Orthonormal directions u₀ … u_{k−1}, k = min(d, 5), uniformly random
/// (Gram–Schmidt on Gaussian vectors).
fn structured_basis(d: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = rng::stream(seed, "data/structured/basis");
    let k = d.min(5);
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(k);
    while basis.len() < k {
        let mut v: Vec<f64> = (0..d).map(|_| rng::normal(&mut rng)).collect();
        for u in &basis {
            let c: f64 = u.iter().zip(&v).map(|(a, b)| a * b).sum();
            for (vi, ui) in v.iter_mut().zip(u) {
                *vi -= c * ui;
            }
        }
        let nrm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if nrm > 1e-8 {
            basis.push(v.into_iter().map(|a| a / nrm).collect());
        }
    }
    basis
}

fn structured_sample(n: usize, d: usize, basis: &[Vec<f64>], rng: &mut WRng) -> Dataset {
    let n_pos = n.div_ceil(2);
    let order = rng::permutation(rng, n);
    let y: Vec<f64> = order
        .iter()
        .map(|&k| if k < n_pos { 1.0 } else { -1.0 })
        .collect();
    let mut x = Matrix::zeros(n, d);
    let iso = ISO / (d as f64).sqrt();
    for (i, &yi) in y.iter().enumerate() {
        let (s3, s4) = if yi > 0.0 {
            (ANISO.0, ANISO.1)
        } else {
            (ANISO.1, ANISO.0)
        };
        // coefficients along u0..u4: mean part plus anisotropic noise
        let coef = [
            yi * MEAN_NORM * 0.8 + SIGNAL_NOISE * rng::normal(rng),
            yi * MEAN_NORM * 0.6 + SIGNAL_NOISE * rng::normal(rng),
            NUISANCE * rng::normal(rng),
            s3 * rng::normal(rng),
            s4 * rng::normal(rng),
        ];
        let row = x.row_mut(i);
        for v in row.iter_mut() {
            *v = iso * rng::normal(rng);
        }
        for (c, u) in coef.iter().zip(basis) {
            for (v, ui) in row.iter_mut().zip(u) {
                *v += c * ui;
            }
        }
    }
    // every row has a nonzero isotropic part with probability 1
    normalize_rows(&mut x).expect("structured rows are nonzero with probability 1");
    Dataset { x, y }
}

/// A built-in structured two-class dataset of `n` unit-norm points in R^d,
/// labels ±1 balanced (⌈n/2⌉ are +1), reproducible from `seed`.
///
/// Construction. Five orthonormal directions u₀ … u₄ are drawn at random
/// (fewer when d < 5; the missing ones are dropped). A point of class
/// y ∈ {±1} is
///
/// x̃ = y·(0.8 u₀ + 0.6 u₁) + 0.5 (g₀u₀ + g₁u₁) + 0.5 g₂u₂ + s₃(y) g₃u₃ + s₄(y) g₄u₄ + (0.3/√d) ε,
///
/// with g_k ~ N(0, 1), ε ~ N(0, I_d), and class-dependent scales
/// (s₃, s₄) = (0.7, 0.2) for y = +1 and (0.2, 0.7) for y = −1; then
/// x = x̃/‖x̃‖. So the two anisotropic Gaussian clusters have means ±μ,
/// ‖μ‖ = 1, differing in two directions; along μ each class has standard
/// deviation ≈ 0.5, so about Φ(−2) ≈ 2% of the points lie on the wrong side
/// of the best linear separator (the classes overlap and are not trivially
/// separable), while the class-dependent covariance along u₃, u₄ adds a
/// quadratic component. The label direction carries the largest variance of
/// the data (1.25, against at most 0.27 in any other direction), so the labels align with
/// the top eigenvectors of the NTK Gram matrix H^∞ (seed 001, §4 and
/// Figure 1: labels aligned with top eigenvectors are learned fast and
/// generalize), as the real MNIST / CIFAR two-class labels do. With n = 300,
/// d = 20 the top 5 eigenvectors of H^∞ hold about 90% of ‖y‖², against about
/// 2% for random labels; a nearest-class-mean classifier errs on about 2% of
/// fresh points.
///
/// Equal to the training half of [`structured_train_test`] with the same
/// `n`, `d` and `seed`.
///
/// # Panics
/// When `d == 0` (a point of R⁰ cannot have unit norm).
pub fn two_class_structured(n: usize, d: usize, seed: u64) -> Dataset {
    assert!(d >= 1, "two_class_structured needs dimension d >= 1");
    let basis = structured_basis(d, seed);
    let mut rng = rng::stream(seed, "data/structured/train");
    structured_sample(n, d, &basis, &mut rng)
}

/// Training and test sets drawn independently from the distribution of
/// [`two_class_structured`] (same directions, separate random streams), each
/// balanced. The training set equals `two_class_structured(n_train, d, seed)`.
///
/// # Panics
/// When `d == 0`.
pub fn structured_train_test(
    n_train: usize,
    n_test: usize,
    d: usize,
    seed: u64,
) -> (Dataset, Dataset) {
    assert!(d >= 1, "structured_train_test needs dimension d >= 1");
    let basis = structured_basis(d, seed);
    let mut r_train = rng::stream(seed, "data/structured/train");
    let mut r_test = rng::stream(seed, "data/structured/test");
    (
        structured_sample(n_train, d, &basis, &mut r_train),
        structured_sample(n_test, d, &basis, &mut r_test),
    )
}
