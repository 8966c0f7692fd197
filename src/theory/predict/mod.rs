//! Infinite-width predictions on test points: the outputs of a network trained by
//! gradient descent on the squared loss, read off its kernel (Jacot et al. 2018;
//! Lee et al. 2019, "Wide neural networks of any depth evolve as linear models under
//! gradient descent", §2), and the Bayesian posterior of the NNGP.
//!
//! # Conventions (those of neural-tangents' `predict` module)
//!
//! Training minimizes L(f) = 1/(2N) Σ_i ‖f(x_i) − y_i‖² over the n training points with
//! c outputs each; N is [`LossNorm::Mean`]'s n·c (neural-tangents' `y_train.size`) or
//! [`LossNorm::Sum`]'s 1 (seed 001's ½Σ(u_i − y_i)², the normalization of its eq. 8).
//! The kernel of the dynamics is K' = K + ridge·I (the `ridge` is absolute, added to the
//! diagonal; neural-tangents' `diag_reg` with `diag_reg_absolute_scale=True`, or
//! `diag_reg · tr(K)/n` otherwise; `krr`'s λ of seed 003 eq. 3.1 is `ridge = λ n`). With
//! learning rate η and the eigendecomposition K' = V diag(λ_i) Vᵀ:
//!
//! - **gradient flow** ([`Schedule::Flow`], t ≥ 0 real, in units of steps):
//!   e_i(t) = exp(−η t λ_i / N);
//! - **gradient descent** ([`Schedule::Steps`], t a whole number of steps):
//!   e_i(t) = (1 − η λ_i / N)^t (seed 001 eq. 8's (I − ηH^∞)^k);
//! - g_i(t) = (1 − e_i(t)) / λ_i (its limit η t / N, resp. the same, at λ_i = 0), and at
//!   t = ∞: e_i = 0, g_i = 1/λ_i (kernel ridge regression with the ridge).
//!
//! Train outputs f_t(X) = Y + V e(t) Vᵀ (f₀(X) − Y); test outputs
//! f_t(X*) = f₀(X*) + K(X*, X) V g(t) Vᵀ (Y − f₀(X)) (Lee et al. 2019 eq. 9–10).
//! The **ensemble** over initializations (f₀ drawn from the NNGP 𝒦, trained with the
//! NTK Θ; Lee et al. 2019 eq. 16) has mean μ_t = Θ(X*, X) A_t Y and covariance
//! Σ_t = 𝒦(X*, X*) − M_t 𝒦(X, X*) − 𝒦(X*, X) M_tᵀ + M_t 𝒦(X, X) M_tᵀ with
//! A_t = V g(t) Vᵀ (V, λ of Θ + ridge·I) and M_t = Θ(X*, X) A_t. The **NNGP posterior**
//! with observation-noise variance σ² is 𝒦_*(𝒦 + σ²I)⁻¹Y and
//! 𝒦_** − 𝒦_*(𝒦 + σ²I)⁻¹𝒦_*ᵀ. As in neural-tangents, eigenvalues that rounding made
//! slightly negative enter e_i as 0; a kernel with an eigenvalue below
//! −[`PSD_TOL`]·λ_max is refused as not positive semidefinite.
//!
//! The dense path ([`dense`]) computes one symmetric eigendecomposition of K' and reuses
//! it for every t; the large-n paths ([`krylov`]) deflate the top-k eigenpairs and
//! evaluate the matrix functions on the rest by block Lanczos (t = ∞ on a stored kernel
//! by Cholesky), with the kernel stored or recomputed tile by tile ([`named`]), and
//! report their achieved accuracy per time and output.

pub mod cli;
pub mod curves;
pub mod dense;
pub mod krylov;
pub mod named;

pub use curves::{zero_one_error, Curves};
pub use dense::{gp_inference, gradient_descent_mse, gradient_descent_mse_ensemble, Spectrum};

use crate::error::{Error, Result};
use crate::linalg::Matrix;
use serde::{Deserialize, Serialize};

/// Eigenvalues of the training kernel below −`PSD_TOL`·λ_max make it "not positive
/// semidefinite" (rounding leaves a few ulps of λ_max·n; this is well above that).
pub const PSD_TOL: f64 = 1e-9;

/// The normalization N of the squared loss L(f) = 1/(2N) Σ_i ‖f(x_i) − y_i‖².
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LossNorm {
    /// N = n·c, the mean over training points and outputs (neural-tangents' convention).
    #[default]
    Mean,
    /// N = 1: ½ Σ ‖f(x_i) − y_i‖² (seed 001's loss, the normalization of its eq. 8).
    Sum,
}

crate::options::option_enum!(LossNorm, "loss_norm", { Mean => "mean", Sum => "sum" });

impl LossNorm {
    /// N for n training points with c outputs.
    pub fn value(self, n: usize, c: usize) -> f64 {
        match self {
            LossNorm::Mean => (n * c) as f64,
            LossNorm::Sum => 1.0,
        }
    }
}

/// Continuous gradient flow or discrete gradient descent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// Gradient flow: e^{−ηtK'/N}, t any real ≥ 0 (neural-tangents' `gradient_descent_mse`).
    #[default]
    Flow,
    /// Gradient descent with step η: (I − ηK'/N)^t, t a whole number of steps.
    Steps,
}

crate::options::option_enum!(Schedule, "schedule", { Flow => "flow", Steps => "steps" });

/// The training dynamics: times, learning rate, schedule, ridge and loss normalization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dynamics {
    /// Times t (steps, in units of the learning rate); `f64::INFINITY` is t = ∞.
    pub times: Vec<f64>,
    /// Learning rate η > 0.
    pub learning_rate: f64,
    /// Gradient flow or discrete steps.
    pub schedule: Schedule,
    /// Absolute ridge added to the diagonal of the training kernel (≥ 0).
    pub ridge: f64,
    /// The loss normalization N.
    pub loss_norm: LossNorm,
}

impl Default for Dynamics {
    fn default() -> Self {
        Dynamics {
            times: vec![f64::INFINITY],
            learning_rate: 1.0,
            schedule: Schedule::Flow,
            ridge: 0.0,
            loss_norm: LossNorm::Mean,
        }
    }
}

impl Dynamics {
    /// Checks every field, naming it.
    pub fn validate(&self) -> Result<()> {
        if self.times.is_empty() {
            return Err(Error::invalid("times", "no time given"));
        }
        for &t in &self.times {
            if t.is_nan() || t < 0.0 {
                return Err(Error::invalid(
                    "times",
                    format!("every time must be >= 0 (or inf), got {t}"),
                ));
            }
            if self.schedule == Schedule::Steps && t.is_finite() && t.fract() != 0.0 {
                return Err(Error::invalid(
                    "times",
                    format!("discrete gradient descent takes whole numbers of steps, got {t}"),
                ));
            }
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(Error::invalid(
                "learning_rate",
                format!("must be finite and > 0, got {}", self.learning_rate),
            ));
        }
        check_ridge("ridge", self.ridge)
    }

    /// (e_i(t), g_i(t)) of the module docs for one eigenvalue λ of K' (clamped at 0)
    /// and the normalization N.
    pub fn factors(&self, lambda: f64, t: f64, norm: f64) -> (f64, f64) {
        let l = lambda.max(0.0);
        if t.is_infinite() {
            return (0.0, 1.0 / l);
        }
        let s = self.learning_rate / norm;
        match self.schedule {
            Schedule::Flow => {
                let em1 = (-l * s * t).exp_m1();
                let g = if l > 0.0 { -em1 / l } else { s * t };
                (1.0 + em1, g)
            }
            Schedule::Steps => {
                let x = l * s;
                if l == 0.0 {
                    return (1.0, s * t);
                }
                if x < 1.0 {
                    // 1 − (1 − x)^t = −expm1(t·ln(1 − x)), accurate for small x
                    let em1 = (t * (-x).ln_1p()).exp_m1();
                    (1.0 + em1, -em1 / l)
                } else {
                    let e = (1.0 - x).powf(t);
                    (e, (1.0 - e) / l)
                }
            }
        }
    }
}

/// A ridge / noise variance: finite and ≥ 0, else an error naming `name`.
pub fn check_ridge(name: &str, v: f64) -> Result<()> {
    if !(v >= 0.0 && v.is_finite()) {
        return Err(Error::invalid(
            name,
            format!("must be finite and >= 0, got {v}"),
        ));
    }
    Ok(())
}

/// A test–test kernel: absent, its diagonal (variances only) or the full matrix.
#[derive(Clone, Copy, Debug)]
pub enum TestTest<'a> {
    /// No test–test kernel: no covariance is computed.
    None,
    /// k(x*_j, x*_j) for every test point: the variances are computed.
    Diag(&'a [f64]),
    /// The n* × n* test–test kernel: the full covariance is computed.
    Full(&'a Matrix<f64>),
}

/// A covariance over test points: its diagonal or the full matrix.
#[derive(Clone, Debug, PartialEq)]
pub enum Cov {
    /// The variances.
    Diag(Vec<f64>),
    /// The n* × n* covariance.
    Full(Matrix<f64>),
}

impl Cov {
    /// The variances (the diagonal).
    pub fn diag(&self) -> Vec<f64> {
        match self {
            Cov::Diag(v) => v.clone(),
            Cov::Full(m) => (0..m.rows()).map(|i| m.get(i, i)).collect(),
        }
    }
}

/// Gradient-descent predictions from given initial outputs.
#[derive(Clone, Debug)]
pub struct GdPrediction {
    /// The times, in the order given.
    pub times: Vec<f64>,
    /// f_t(X), one n × c matrix per time.
    pub train: Vec<Matrix<f64>>,
    /// f_t(X*), one n* × c matrix per time (when a test–train kernel was given).
    pub test: Option<Vec<Matrix<f64>>>,
    /// Smallest and largest eigenvalue of K + ridge·I.
    pub eig_range: (f64, f64),
}

/// The ensemble over initializations (NNGP and NTK together) on test points.
#[derive(Clone, Debug)]
pub struct EnsemblePrediction {
    /// The times, in the order given.
    pub times: Vec<f64>,
    /// The mean of f_t(X*), one n* × c matrix per time.
    pub mean: Vec<Matrix<f64>>,
    /// The covariance of f_t(X*) (shared by the c outputs), one per time, when a
    /// test–test NNGP kernel was given.
    pub cov: Option<Vec<Cov>>,
}

/// The NNGP posterior on test points.
#[derive(Clone, Debug)]
pub struct GpPosterior {
    /// Posterior mean, n* × c.
    pub mean: Matrix<f64>,
    /// Posterior covariance (shared by the c outputs), when a test–test kernel was given.
    pub cov: Option<Cov>,
}

// ----------------------------------------------------------------- validation

/// `m` must be finite, else an error naming `name`.
pub(crate) fn check_finite(name: &str, m: &Matrix<f64>) -> Result<()> {
    if !m.all_finite() {
        return Err(Error::invalid(name, "has non-finite entries (NaN or inf)"));
    }
    Ok(())
}

/// A square, finite, symmetric training kernel with `n` rows (named `name`).
pub(crate) fn check_train_kernel(name: &str, k: &Matrix<f64>) -> Result<()> {
    let (r, c) = k.shape();
    if r != c {
        return Err(Error::Shape(format!("{name} must be square, got {r}x{c}")));
    }
    if r == 0 {
        return Err(Error::invalid(name, "is empty (no training points)"));
    }
    check_finite(name, k)?;
    let scale = k.as_slice().iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for i in 0..r {
        for j in 0..i {
            if (k.get(i, j) - k.get(j, i)).abs() > 1e-10 * scale {
                return Err(Error::invalid(
                    name,
                    format!(
                        "is not symmetric: entry ({i}, {j}) = {:e} but ({j}, {i}) = {:e}",
                        k.get(i, j),
                        k.get(j, i)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `m` must be `rows × cols` (either may be `None` = any) and finite.
pub(crate) fn check_shape(
    name: &str,
    m: &Matrix<f64>,
    rows: Option<(usize, &str)>,
    cols: Option<(usize, &str)>,
) -> Result<()> {
    if let Some((r, what)) = rows {
        if m.rows() != r {
            return Err(Error::Shape(format!(
                "{name} has {} rows, expected {r} ({what})",
                m.rows()
            )));
        }
    }
    if let Some((c, what)) = cols {
        if m.cols() != c {
            return Err(Error::Shape(format!(
                "{name} has {} columns, expected {c} ({what})",
                m.cols()
            )));
        }
    }
    check_finite(name, m)
}

/// Checks a test–test kernel against n* test points.
pub(crate) fn check_test_test(name: &str, k: &TestTest<'_>, n_test: usize) -> Result<()> {
    match k {
        TestTest::None => Ok(()),
        TestTest::Diag(d) => {
            if d.len() != n_test {
                return Err(Error::Shape(format!(
                    "{name} (diagonal) has {} entries, expected {n_test} (test points)",
                    d.len()
                )));
            }
            if !d.iter().all(|v| v.is_finite()) {
                return Err(Error::invalid(name, "has non-finite entries (NaN or inf)"));
            }
            Ok(())
        }
        TestTest::Full(m) => check_shape(
            name,
            m,
            Some((n_test, "test points")),
            Some((n_test, "test points")),
        ),
    }
}
