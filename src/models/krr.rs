//! Kernel ridge regression, the kernel method of seed 003 eq. 3.1, with vector
//! outputs: given a kernel matrix K (n × n) of the training inputs and targets
//! Y (n × k, one sample per row), minimize over β ∈ R^{n×k}
//!
//! (1/n) Σ_i ‖Σ_j K(x_i, x_j) β_j − y_i‖² + λ Tr(βᵀKβ)   (eq. 3.1).
//!
//! Setting the gradient (2/n) K(Kβ − Y) + 2λKβ to zero gives
//! K((K + λnI)β − Y) = 0, so (for λ > 0, or λ = 0 and K positive definite) the
//! unique minimizer is β = (K + λ n I)⁻¹ Y. **λ convention:** `lambda` here is
//! exactly eq. 3.1's λ; the ridge added to K is λ·n. The learned function is
//! 𝔎(x) = Σ_j K(x, x_j) β_j, i.e. predictions K(x_test, x_train) β.
//!
//! The test error is seed 003's E‖out(x) − y‖²₂: squared errors summed over the k
//! outputs, averaged over samples ([`mean_sq_error`]).

use crate::error::{Error, Result};
use crate::kernels::classic::{arcsin, arcsin_gram, gaussian, gaussian_gram};
use crate::kernels::fc::{fc_ntk, fc_ntk_gram, FcTrained};
use crate::linalg::{gemm_into, Cholesky, Matrix};
use serde::{Deserialize, Serialize};

/// A fitted kernel ridge regression: the coefficients β (n × k) of eq. 3.1.
#[derive(Clone, Debug)]
pub struct Krr {
    alpha: Matrix<f64>,
    lambda: f64,
}

fn check_lambda(lambda: f64) -> Result<()> {
    if !(lambda >= 0.0 && lambda.is_finite()) {
        return Err(Error::invalid(
            "lambda",
            format!("the ridge of eq. 3.1 must be finite and >= 0, got {lambda}"),
        ));
    }
    Ok(())
}

fn check_train(k_train: &Matrix<f64>, y_train: &Matrix<f64>) -> Result<()> {
    let (n, c) = k_train.shape();
    if n != c {
        return Err(Error::Shape(format!(
            "training kernel must be square, got {n}x{c}"
        )));
    }
    if y_train.rows() != n {
        return Err(Error::Shape(format!(
            "{} training targets against a {n}x{n} kernel",
            y_train.rows()
        )));
    }
    if n == 0 {
        return Err(Error::invalid("training set", "no training samples"));
    }
    if !y_train.all_finite() {
        return Err(Error::Numerical("training targets are not finite".into()));
    }
    Ok(())
}

impl Krr {
    /// Solves β = (K + λ n I)⁻¹ Y by Cholesky (λ of eq. 3.1, n = number of training
    /// samples). `k_train` must be symmetric; when K + λnI is not positive definite
    /// the error is [`Error::NotPositiveDefinite`] with its smallest eigenvalue.
    pub fn fit(k_train: &Matrix<f64>, y_train: &Matrix<f64>, lambda: f64) -> Result<Self> {
        check_lambda(lambda)?;
        check_train(k_train, y_train)?;
        let n = k_train.rows();
        let mut a = k_train.clone();
        let ridge = lambda * n as f64;
        for i in 0..n {
            a.set(i, i, a.get(i, i) + ridge);
        }
        let chol = Cholesky::new(
            &a,
            &format!("kernel matrix K + lambda*n*I (lambda = {lambda:e}, n = {n})"),
        )?;
        let k = y_train.cols();
        let mut alpha = Matrix::zeros(n, k);
        let mut col = vec![0.0; n];
        for c in 0..k {
            for (i, v) in col.iter_mut().enumerate() {
                *v = y_train.get(i, c);
            }
            let z = chol.solve(&col)?;
            for (i, v) in z.into_iter().enumerate() {
                alpha.set(i, c, v);
            }
        }
        if !alpha.all_finite() {
            return Err(Error::Numerical(
                "kernel ridge regression coefficients are not finite".into(),
            ));
        }
        Ok(Krr { alpha, lambda })
    }

    /// The coefficients β (n_train × k).
    pub fn alpha(&self) -> &Matrix<f64> {
        &self.alpha
    }

    /// The λ of eq. 3.1 used in the fit.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// Predictions K(x_test, x_train) β for a cross-kernel `k_test_train`
    /// (n_test × n_train): an n_test × k matrix.
    pub fn predict(&self, k_test_train: &Matrix<f64>) -> Result<Matrix<f64>> {
        if k_test_train.cols() != self.alpha.rows() {
            return Err(Error::Shape(format!(
                "test kernel with {} columns against {} training samples",
                k_test_train.cols(),
                self.alpha.rows()
            )));
        }
        let mut out = Matrix::zeros(k_test_train.rows(), self.alpha.cols());
        gemm_into(&mut out, k_test_train.view(), self.alpha.view(), 1.0, false)?;
        Ok(out)
    }
}

/// Seed 003's test error E‖out(x) − y‖²₂: the squared error summed over the k
/// outputs, averaged over the n samples (rows).
pub fn mean_sq_error(pred: &Matrix<f64>, y: &Matrix<f64>) -> Result<f64> {
    if pred.shape() != y.shape() {
        return Err(Error::Shape(format!(
            "predictions {}x{} against targets {}x{}",
            pred.rows(),
            pred.cols(),
            y.rows(),
            y.cols()
        )));
    }
    if y.rows() == 0 {
        return Err(Error::invalid("targets", "no samples to average over"));
    }
    let s: f64 = pred
        .as_slice()
        .iter()
        .zip(y.as_slice())
        .map(|(a, b)| (a - b) * (a - b))
        .sum();
    Ok(s / y.rows() as f64)
}

/// The outcome of [`search_lambda`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LambdaSearch {
    /// The grid value with the smallest validation error (the first on ties).
    pub best_lambda: f64,
    /// Its validation error.
    pub best_error: f64,
    /// The grid, in the order given.
    pub grid: Vec<f64>,
    /// The validation error at each grid value; `None` where K + λnI was not
    /// positive definite (e.g. λ = 0 with a singular kernel).
    pub errors: Vec<Option<f64>>,
}

/// Fits eq. 3.1 for every λ in `grid` on (`k_train`, `y_train`) and scores
/// predictions `k_val_train` β against `y_val` with [`mean_sq_error`].
/// Grid points whose system is not positive definite are recorded as `None`;
/// when none succeeds, the last such error is returned.
pub fn search_lambda(
    k_train: &Matrix<f64>,
    y_train: &Matrix<f64>,
    k_val_train: &Matrix<f64>,
    y_val: &Matrix<f64>,
    grid: &[f64],
) -> Result<LambdaSearch> {
    if grid.is_empty() {
        return Err(Error::invalid("lambda grid", "no values to search"));
    }
    for &l in grid {
        check_lambda(l)?;
    }
    check_train(k_train, y_train)?;
    if k_val_train.cols() != k_train.rows() || k_val_train.rows() != y_val.rows() {
        return Err(Error::Shape(format!(
            "validation kernel {}x{} against {} training and {} validation samples",
            k_val_train.rows(),
            k_val_train.cols(),
            k_train.rows(),
            y_val.rows()
        )));
    }
    if y_val.cols() != y_train.cols() {
        return Err(Error::Shape(format!(
            "validation targets with {} outputs against training targets with {}",
            y_val.cols(),
            y_train.cols()
        )));
    }
    let mut errors = Vec::with_capacity(grid.len());
    let mut best: Option<(f64, f64)> = None;
    let mut last_err = None;
    for &l in grid {
        crate::runtime::check_interrupt()?;
        match Krr::fit(k_train, y_train, l) {
            Ok(m) => {
                let e = mean_sq_error(&m.predict(k_val_train)?, y_val)?;
                errors.push(Some(e));
                if best.is_none_or(|(_, be)| e < be) {
                    best = Some((l, e));
                }
            }
            Err(e @ (Error::NotPositiveDefinite { .. } | Error::Numerical(_))) => {
                errors.push(None);
                last_err = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    match best {
        Some((best_lambda, best_error)) => Ok(LambdaSearch {
            best_lambda,
            best_error,
            grid: grid.to_vec(),
            errors,
        }),
        None => Err(last_err.expect("an empty result has at least one failure")),
    }
}
/// A kernel for kernel ridge regression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelKind {
    /// exp(−‖x − y‖²/h) with h = `gaussian_bandwidth`.
    Gaussian,
    /// arcsin(⟨x, y⟩/(‖x‖‖y‖)).
    Arcsin,
    /// The infinite-width NTK of a fully connected ReLU net of depth `ntk_depth`,
    /// hidden layers trained (as App. A's NTK).
    FcNtk,
}

impl KernelKind {
    /// All three.
    pub const ALL: [KernelKind; 3] = [KernelKind::Gaussian, KernelKind::Arcsin, KernelKind::FcNtk];

    /// Report name ("krr-gaussian", "krr-arcsin", "krr-fc-ntk").
    pub fn name(self) -> &'static str {
        match self {
            KernelKind::Gaussian => "krr-gaussian",
            KernelKind::Arcsin => "krr-arcsin",
            KernelKind::FcNtk => "krr-fc-ntk",
        }
    }

    /// Gram matrix K(x_i, x_j) of the rows of `x`.
    pub fn gram(self, x: &Matrix<f64>, bandwidth: f64, depth: usize) -> Result<Matrix<f64>> {
        match self {
            KernelKind::Gaussian => gaussian_gram(x, bandwidth),
            KernelKind::Arcsin => arcsin_gram(x),
            KernelKind::FcNtk => fc_ntk_gram(x, depth, FcTrained::Hidden),
        }
    }

    /// Cross kernel K(x1_i, x2_j).
    pub fn cross(
        self,
        x1: &Matrix<f64>,
        x2: &Matrix<f64>,
        bandwidth: f64,
        depth: usize,
    ) -> Result<Matrix<f64>> {
        match self {
            KernelKind::Gaussian => gaussian(x1, x2, bandwidth),
            KernelKind::Arcsin => arcsin(x1, x2),
            KernelKind::FcNtk => fc_ntk(x1, x2, depth, FcTrained::Hidden),
        }
    }
}

/// Eq. 3.1 fitted at one λ: train / validation / test errors, or why K + λnI could not
/// be factored.
#[derive(Clone, Debug, PartialEq)]
pub struct KrrPoint {
    /// λ of eq. 3.1.
    pub lambda: f64,
    /// Training error (None when the fit failed).
    pub train_error: Option<f64>,
    /// Validation error.
    pub val_error: Option<f64>,
    /// Test error.
    pub test_error: Option<f64>,
    /// Why the point has no errors (not positive definite, not finite).
    pub failure: Option<String>,
}

/// Fits eq. 3.1 at every λ and scores train / validation / test errors.
pub fn krr_grid(
    k_train: &Matrix<f64>,
    y: &Matrix<f64>,
    k_val: &Matrix<f64>,
    y_val: &Matrix<f64>,
    k_test: &Matrix<f64>,
    y_test: &Matrix<f64>,
    lambdas: &[f64],
) -> Result<Vec<KrrPoint>> {
    lambdas
        .iter()
        .map(|&l| match Krr::fit(k_train, y, l) {
            Ok(m) => Ok(KrrPoint {
                lambda: l,
                train_error: Some(mean_sq_error(&m.predict(k_train)?, y)?),
                val_error: Some(mean_sq_error(&m.predict(k_val)?, y_val)?),
                test_error: Some(mean_sq_error(&m.predict(k_test)?, y_test)?),
                failure: None,
            }),
            Err(e @ (Error::NotPositiveDefinite { .. } | Error::Numerical(_))) => Ok(KrrPoint {
                lambda: l,
                train_error: None,
                val_error: None,
                test_error: None,
                failure: Some(e.to_string()),
            }),
            Err(e) => Err(e),
        })
        .collect()
}
