//! The dense path: one symmetric eigendecomposition of K + ridge·I (faer, on a fixed
//! number of threads, [`EVD_THREADS`], so bit-identical at any thread count), reused for
//! every time t. The formulas are in the parent module's docs.
//!
//! The ensemble's covariance at each time t, Σ_t = 𝒦** − A_tQᵀ − QA_tᵀ + A_t S A_tᵀ
//! (A_t = Θ(X*, X)V diag(g(t)), Q = 𝒦(X*, X)V, S = Vᵀ𝒦(X, X)V), takes its quadratic
//! term through the Cholesky factor S = LLᵀ, computed once: A_t S A_tᵀ = (A_tL)(A_tL)ᵀ,
//! a triangular product and a symmetric one (half the flops each of the GEMMs
//! X = A_tS/2 − Q, XA_tᵀ of the plain form, which is kept for an S that is not
//! numerically positive definite).

use super::{
    check_ridge, check_shape, check_test_test, check_train_kernel, Cov, Dynamics,
    EnsemblePrediction, GdPrediction, GpPosterior, TestTest, PSD_TOL,
};
use crate::error::{Error, Result};
use crate::linalg::{
    dot, gemm_into, matmul, matmul_lower, matmul_symmetric, sym_eigen_threads, Cholesky, Matrix,
};
use crate::runtime::check_interrupt;
use crate::runtime::profile::prof;

/// Threads of the dense path's eigendecomposition, fixed (not the caller's pool size) so
/// that its bits are the same at any RAYON_NUM_THREADS (see [`sym_eigen_threads`]). Two:
/// on the shared 2-core machine of benchmarks/README.md, 8 threads (as the Krylov pool)
/// made faer's parallel eigensolver slower than sequential at n = 2,000 (its threads
/// wait on each other) and 2 ran as fast as 1 under load.
pub const EVD_THREADS: usize = 2;

/// The eigendecomposition K + ridge·I = V diag(λ) Vᵀ of a training kernel.
#[derive(Clone, Debug)]
pub struct Spectrum {
    /// Eigenvalues of K + ridge·I, descending.
    pub values: Vec<f64>,
    /// Orthonormal eigenvectors as columns (n × n), in the order of `values`.
    pub vectors: Matrix<f64>,
    /// The ridge that was added.
    pub ridge: f64,
    name: String,
}

impl Spectrum {
    /// Decomposes K + ridge·I after checking that `k` (called `name` in errors) is
    /// square, finite, symmetric and positive semidefinite.
    pub fn new(k: &Matrix<f64>, ridge: f64, name: &str) -> Result<Self> {
        check_train_kernel(name, k)?;
        check_ridge("ridge", ridge)?;
        let n = k.rows();
        let mut a = k.clone();
        for i in 0..n {
            a.set(i, i, a.get(i, i) + ridge);
        }
        let e = prof("dense: eigendecomposition", || {
            sym_eigen_threads(&a, EVD_THREADS)
        })?;
        let max = e.values[0];
        let min = e.values[n - 1];
        if min < -PSD_TOL * max.abs().max(f64::MIN_POSITIVE) {
            return Err(Error::invalid(
                name,
                format!(
                    "is not positive semidefinite: smallest eigenvalue of it + ridge*I is \
                     {min:.3e} (largest {max:.3e}, ridge {ridge:e})"
                ),
            ));
        }
        Ok(Spectrum {
            values: e.values,
            vectors: e.vectors,
            ridge,
            name: name.to_string(),
        })
    }

    /// Number of training points.
    pub fn n(&self) -> usize {
        self.values.len()
    }

    /// (smallest, largest) eigenvalue.
    pub fn range(&self) -> (f64, f64) {
        (self.values[self.n() - 1], self.values[0])
    }

    /// Refuses t = ∞ when K + ridge·I is singular (the limit does not exist).
    fn check_times(&self, dynamics: &Dynamics) -> Result<()> {
        if dynamics.times.iter().any(|t| t.is_infinite()) && self.range().0 <= 0.0 {
            return Err(Error::NotPositiveDefinite {
                what: format!(
                    "{} + ridge*I (ridge = {:e}), needed at t = inf",
                    self.name, self.ridge
                ),
                min_eig: self.range().0,
            });
        }
        Ok(())
    }

    /// The stable-step check of discrete gradient descent: |1 − ηλ/N| ≤ 1 for every λ.
    fn check_steps(&self, dynamics: &Dynamics, norm: f64) -> Result<()> {
        if dynamics.schedule == super::Schedule::Steps {
            let max_eta = 2.0 * norm / self.range().1;
            if dynamics.learning_rate > max_eta {
                return Err(Error::invalid(
                    "learning_rate",
                    format!(
                        "{:e} makes discrete gradient descent diverge: it must be at most \
                         2N/lambda_max = {max_eta:e}",
                        dynamics.learning_rate
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_ridge_matches(&self, ridge: f64) -> Result<()> {
        if self.ridge != ridge {
            return Err(Error::invalid(
                "ridge",
                format!(
                    "the spectrum was computed with ridge {:e}, the call asks for {ridge:e}",
                    self.ridge
                ),
            ));
        }
        Ok(())
    }

    /// Vᵀ B.
    pub fn to_eigenbasis(&self, b: &Matrix<f64>) -> Result<Matrix<f64>> {
        matmul(self.vectors.t(), b.view())
    }

    /// B V (B's columns indexed by the training points).
    pub fn times_vectors(&self, b: &Matrix<f64>) -> Result<Matrix<f64>> {
        matmul(b.view(), self.vectors.view())
    }

    /// (e(t), g(t)) for every eigenvalue.
    fn factors(&self, dynamics: &Dynamics, t: f64, norm: f64) -> (Vec<f64>, Vec<f64>) {
        self.values
            .iter()
            .map(|&l| dynamics.factors(l, t, norm))
            .unzip()
    }
}

/// diag(d) · B.
fn scale_rows(d: &[f64], b: &Matrix<f64>) -> Matrix<f64> {
    Matrix::from_fn(b.rows(), b.cols(), |i, j| d[i] * b.get(i, j))
}

/// B · diag(d).
fn scale_cols(b: &Matrix<f64>, d: &[f64]) -> Matrix<f64> {
    Matrix::from_fn(b.rows(), b.cols(), |i, j| b.get(i, j) * d[j])
}

fn check_labels(y: &Matrix<f64>, n: usize) -> Result<()> {
    check_shape("y_train", y, Some((n, "training points")), None)?;
    if y.cols() == 0 {
        return Err(Error::invalid("y_train", "has no outputs (0 columns)"));
    }
    Ok(())
}

/// Gradient flow / descent on the squared loss from initial outputs `f0_train` (n × c)
/// and `f0_test` (n* × c), both zero when `None` (neural-tangents'
/// `predict.gradient_descent_mse`): f_t on the training points and, given the
/// test–train kernel `k_test_train` (n* × n), on the test points, for every time of
/// `dynamics`. `k_train` is n × n, `y_train` n × c.
pub fn gradient_descent_mse(
    k_train: &Matrix<f64>,
    y_train: &Matrix<f64>,
    k_test_train: Option<&Matrix<f64>>,
    f0_train: Option<&Matrix<f64>>,
    f0_test: Option<&Matrix<f64>>,
    dynamics: &Dynamics,
) -> Result<GdPrediction> {
    dynamics.validate()?;
    let spec = Spectrum::new(k_train, dynamics.ridge, "k_train")?;
    gradient_descent_mse_with(&spec, y_train, k_test_train, f0_train, f0_test, dynamics)
}

/// [`gradient_descent_mse`] with the eigendecomposition of K + ridge·I given (its
/// `ridge` must be `dynamics.ridge`).
pub fn gradient_descent_mse_with(
    spec: &Spectrum,
    y_train: &Matrix<f64>,
    k_test_train: Option<&Matrix<f64>>,
    f0_train: Option<&Matrix<f64>>,
    f0_test: Option<&Matrix<f64>>,
    dynamics: &Dynamics,
) -> Result<GdPrediction> {
    dynamics.validate()?;
    spec.check_ridge_matches(dynamics.ridge)?;
    let n = spec.n();
    check_labels(y_train, n)?;
    let c = y_train.cols();
    if let Some(f) = f0_train {
        check_shape(
            "f0_train",
            f,
            Some((n, "training points")),
            Some((c, "outputs of y_train")),
        )?;
    }
    let n_test = match k_test_train {
        Some(k) => {
            check_shape("k_test_train", k, None, Some((n, "training points")))?;
            Some(k.rows())
        }
        None => None,
    };
    match (f0_test, n_test) {
        (Some(_), None) => {
            return Err(Error::invalid(
                "f0_test",
                "initial test outputs need the test-train kernel k_test_train",
            ))
        }
        (Some(f), Some(nt)) => check_shape(
            "f0_test",
            f,
            Some((nt, "rows of k_test_train")),
            Some((c, "outputs of y_train")),
        )?,
        _ => {}
    }
    spec.check_times(dynamics)?;
    let norm = dynamics.loss_norm.value(n, c);
    spec.check_steps(dynamics, norm)?;

    // R = Vᵀ (Y − f₀(X))
    let mut resid = y_train.clone();
    if let Some(f) = f0_train {
        for (r, v) in resid.as_mut_slice().iter_mut().zip(f.as_slice()) {
            *r -= v;
        }
    }
    let (r, p) = prof("dense: eigenbasis", || {
        let p = match k_test_train {
            Some(k) => Some(spec.times_vectors(k)?),
            None => None,
        };
        Ok::<_, Error>((spec.to_eigenbasis(&resid)?, p))
    })?;
    let _timer = crate::runtime::profile::ProfTimer::new("dense: gd outputs (all times)");
    let mut train = Vec::with_capacity(dynamics.times.len());
    let mut test = p.as_ref().map(|_| Vec::with_capacity(dynamics.times.len()));
    for &t in &dynamics.times {
        check_interrupt()?;
        let (e, g) = spec.factors(dynamics, t, norm);
        // f_t(X) = Y − V e(t) R
        let mut ft = y_train.clone();
        gemm_into(
            &mut ft,
            spec.vectors.view(),
            scale_rows(&e, &r).view(),
            -1.0,
            true,
        )?;
        train.push(ft);
        if let (Some(p), Some(test)) = (&p, test.as_mut()) {
            // f_t(X*) = f₀(X*) + K(X*, X) V g(t) R
            let mut ft = match f0_test {
                Some(f) => f.clone(),
                None => Matrix::zeros(p.rows(), c),
            };
            gemm_into(&mut ft, p.view(), scale_rows(&g, &r).view(), 1.0, true)?;
            test.push(ft);
        }
    }
    Ok(GdPrediction {
        times: dynamics.times.clone(),
        train,
        test,
        eig_range: spec.range(),
    })
}

/// The NNGP kernels of an ensemble prediction's covariance.
#[derive(Clone, Copy, Debug)]
pub struct NngpKernels<'a> {
    /// 𝒦(X, X), n × n.
    pub train: &'a Matrix<f64>,
    /// 𝒦(X*, X), n* × n.
    pub test_train: &'a Matrix<f64>,
    /// 𝒦(X*, X*): its diagonal (variances) or the full matrix (covariance).
    pub test_test: TestTest<'a>,
}

/// The ensemble over random initializations of infinitely wide networks trained by
/// gradient flow / descent (neural-tangents' `predict.gradient_descent_mse_ensemble`,
/// `get="ntk"`; Lee et al. 2019 eq. 16): the mean of f_t(X*) from the NTK Θ
/// (`ntk_train` n × n, `ntk_test_train` n* × n) and, given the NNGP kernels, its
/// covariance.
pub fn gradient_descent_mse_ensemble(
    ntk_train: &Matrix<f64>,
    ntk_test_train: &Matrix<f64>,
    y_train: &Matrix<f64>,
    nngp: Option<NngpKernels<'_>>,
    dynamics: &Dynamics,
) -> Result<EnsemblePrediction> {
    dynamics.validate()?;
    let spec = Spectrum::new(ntk_train, dynamics.ridge, "ntk_train")?;
    gradient_descent_mse_ensemble_with(&spec, ntk_test_train, y_train, nngp, dynamics)
}

/// [`gradient_descent_mse_ensemble`] with the eigendecomposition of Θ + ridge·I given.
pub fn gradient_descent_mse_ensemble_with(
    spec: &Spectrum,
    ntk_test_train: &Matrix<f64>,
    y_train: &Matrix<f64>,
    nngp: Option<NngpKernels<'_>>,
    dynamics: &Dynamics,
) -> Result<EnsemblePrediction> {
    dynamics.validate()?;
    spec.check_ridge_matches(dynamics.ridge)?;
    let n = spec.n();
    check_labels(y_train, n)?;
    let c = y_train.cols();
    check_shape(
        "ntk_test_train",
        ntk_test_train,
        None,
        Some((n, "training points")),
    )?;
    let n_test = ntk_test_train.rows();
    if let Some(k) = &nngp {
        check_shape(
            "nngp_train",
            k.train,
            Some((n, "training points")),
            Some((n, "training points")),
        )?;
        check_shape(
            "nngp_test_train",
            k.test_train,
            Some((n_test, "rows of ntk_test_train")),
            Some((n, "training points")),
        )?;
        check_test_test("nngp_test_test", &k.test_test, n_test)?;
    }
    spec.check_times(dynamics)?;
    let norm = dynamics.loss_norm.value(n, c);
    spec.check_steps(dynamics, norm)?;

    let (ry, p) = prof("dense: eigenbasis", || {
        Ok::<_, Error>((
            spec.to_eigenbasis(y_train)?,
            spec.times_vectors(ntk_test_train)?,
        ))
    })?;
    let cov_parts = match &nngp {
        Some(k) if !matches!(k.test_test, TestTest::None) => {
            Some(prof("dense: covariance setup (Q, S, L)", || {
                CovParts::new(spec, k)
            })?)
        }
        _ => None,
    };
    let mut mean: Vec<Matrix<f64>> = Vec::with_capacity(dynamics.times.len());
    let mut covs: Option<Vec<Cov>> = cov_parts.as_ref().map(|_| Vec::new());
    // the factors g(t) of each time computed so far: a time whose factors are the same
    // bits as an earlier time's (every e^{-ηλt} below the rounding of 1, as at t = ∞,
    // or a repeated time) has the same outputs, bit for bit, and reuses them
    let mut seen: Vec<Vec<u64>> = Vec::new();
    for &t in &dynamics.times {
        check_interrupt()?;
        let (_, g) = spec.factors(dynamics, t, norm);
        let bits: Vec<u64> = g.iter().map(|v| v.to_bits()).collect();
        let earlier = seen.iter().position(|b| *b == bits);
        seen.push(bits);
        if let Some(k) = earlier {
            mean.push(mean[k].clone());
            if let Some(covs) = covs.as_mut() {
                covs.push(covs[k].clone());
            }
            continue;
        }
        mean.push(prof("dense: mean per time", || {
            matmul(p.view(), scale_rows(&g, &ry).view())
        })?);
        if let (Some(parts), Some(covs)) = (&cov_parts, covs.as_mut()) {
            let a = scale_cols(&p, &g);
            covs.push(prof("dense: covariance per time", || parts.at(&a))?);
        }
    }
    Ok(EnsemblePrediction {
        times: dynamics.times.clone(),
        mean,
        cov: covs,
    })
}

/// What the ensemble's covariance shares between times: Q = 𝒦(X*, X)V, the test–test
/// kernel and S = Vᵀ𝒦(X, X)V, held as its Cholesky factor when it has one.
struct CovParts<'a> {
    q: Matrix<f64>,
    s: Quadratic,
    test_test: TestTest<'a>,
}

/// S = Vᵀ𝒦(X, X)V as the covariance's quadratic term uses it.
enum Quadratic {
    /// L with S = LLᵀ.
    Factor(Matrix<f64>),
    /// S itself (not numerically positive definite: 𝒦 singular or nearly).
    Plain(Matrix<f64>),
}

impl<'a> CovParts<'a> {
    fn new(spec: &Spectrum, k: &NngpKernels<'a>) -> Result<Self> {
        let q = spec.times_vectors(k.test_train)?;
        // S = Vᵀ(𝒦V), symmetric: its lower half only
        let s = matmul_symmetric(spec.vectors.t(), spec.times_vectors(k.train)?.view())?;
        let s = match Cholesky::try_new(&s) {
            Some(c) => Quadratic::Factor(c.lower()),
            None => Quadratic::Plain(s),
        };
        Ok(CovParts {
            q,
            s,
            test_test: k.test_test,
        })
    }

    /// Σ_t from A_t = Θ(X*, X)V diag(g(t)).
    fn at(&self, a: &Matrix<f64>) -> Result<Cov> {
        let l = match &self.s {
            Quadratic::Plain(s) => {
                // Σ = 𝒦** − A Qᵀ − Q Aᵀ + A S Aᵀ = 𝒦** + X Aᵀ + (X Aᵀ)ᵀ, X = A S / 2 − Q
                let q = &self.q;
                let mut x = q.clone();
                gemm_into(&mut x, a.view(), s.view(), 0.5, false)?;
                for (xv, qv) in x.as_mut_slice().iter_mut().zip(q.as_slice()) {
                    *xv -= qv;
                }
                return covariance(&self.test_test, &x, a);
            }
            Quadratic::Factor(l) => l,
        };
        // Σ = 𝒦** − A Qᵀ − Q Aᵀ + W Wᵀ, W = A L
        let w = matmul_lower(a.view(), l)?;
        match self.test_test {
            TestTest::None => unreachable!("no covariance is asked for without a test-test kernel"),
            TestTest::Diag(d) => Ok(Cov::Diag(
                d.iter()
                    .enumerate()
                    .map(|(j, &kjj)| {
                        kjj - 2.0 * dot(a.row(j), self.q.row(j)) + dot(w.row(j), w.row(j))
                    })
                    .collect(),
            )),
            TestTest::Full(k) => {
                let aq = matmul(a.view(), self.q.t())?;
                let ww = matmul_symmetric(w.view(), w.t())?;
                let m = k.rows();
                Ok(Cov::Full(Matrix::from_fn(m, m, |i, j| {
                    k.get(i, j) - aq.get(i, j) - aq.get(j, i) + ww.get(i, j)
                })))
            }
        }
    }
}

/// 𝒦** + X Aᵀ + (X Aᵀ)ᵀ, full or its diagonal only.
fn covariance(k_tt: &TestTest<'_>, x: &Matrix<f64>, a: &Matrix<f64>) -> Result<Cov> {
    match k_tt {
        TestTest::None => unreachable!("no covariance is asked for without a test-test kernel"),
        TestTest::Diag(d) => Ok(Cov::Diag(
            d.iter()
                .enumerate()
                .map(|(j, &kjj)| kjj + 2.0 * dot(x.row(j), a.row(j)))
                .collect(),
        )),
        TestTest::Full(k) => {
            let xa = matmul(x.view(), a.t())?;
            let m = k.rows();
            Ok(Cov::Full(Matrix::from_fn(m, m, |i, j| {
                k.get(i, j) + xa.get(i, j) + xa.get(j, i)
            })))
        }
    }
}

/// The NNGP posterior with observation-noise variance `noise` (neural-tangents'
/// `predict.gp_inference`, `get="nngp"`, `diag_reg=noise` absolute):
/// mean 𝒦*(𝒦 + σ²I)⁻¹Y and, given the test–test kernel, covariance
/// 𝒦** − 𝒦*(𝒦 + σ²I)⁻¹𝒦*ᵀ (shared by the outputs).
pub fn gp_inference(
    k_train: &Matrix<f64>,
    y_train: &Matrix<f64>,
    k_test_train: &Matrix<f64>,
    k_test_test: TestTest<'_>,
    noise: f64,
) -> Result<GpPosterior> {
    check_ridge("noise", noise)?;
    let spec = Spectrum::new(k_train, noise, "k_train")?;
    gp_inference_with(&spec, y_train, k_test_train, k_test_test, noise)
}

/// [`gp_inference`] with the eigendecomposition of 𝒦 + noise·I given.
pub fn gp_inference_with(
    spec: &Spectrum,
    y_train: &Matrix<f64>,
    k_test_train: &Matrix<f64>,
    k_test_test: TestTest<'_>,
    noise: f64,
) -> Result<GpPosterior> {
    check_ridge("noise", noise)?;
    spec.check_ridge_matches(noise)?;
    let n = spec.n();
    check_labels(y_train, n)?;
    check_shape(
        "k_test_train",
        k_test_train,
        None,
        Some((n, "training points")),
    )?;
    check_test_test("k_test_test", &k_test_test, k_test_train.rows())?;
    let inf = Dynamics {
        ridge: noise,
        ..Dynamics::default()
    };
    spec.check_times(&inf)?;
    let inv: Vec<f64> = spec.values.iter().map(|l| 1.0 / l).collect();
    let q = spec.times_vectors(k_test_train)?;
    let ry = spec.to_eigenbasis(y_train)?;
    let mean = matmul(q.view(), scale_rows(&inv, &ry).view())?;
    // Σ = 𝒦** + X Aᵀ + (X Aᵀ)ᵀ with A = Q diag(1/λ), X = −Q/2
    let cov = match k_test_test {
        TestTest::None => None,
        tt => {
            let a = scale_cols(&q, &inv);
            let mut x = q;
            x.as_mut_slice().iter_mut().for_each(|v| *v *= -0.5);
            Some(covariance(&tt, &x, &a)?)
        }
    };
    Ok(GpPosterior { mean, cov })
}
