//! The finite-width NTK learner of seed 003 (App. A: "we also implement NTK with
//! respect to only hidden weights") solved exactly, as kernel ridge regression
//! (eq. 3.1) with its empirical NTK, instead of trained by SGD.
//!
//! [`Ntk`] is the two-layer net out(x) = Aσ(W(x,1)) linearized in W at W⁽⁰⁾:
//! f_lin(x; W) = f(x; W⁽⁰⁾) + ⟨∇_W f(x; W⁽⁰⁾), W − W⁽⁰⁾⟩ = A(D⁽⁰⁾(x) W(x,1)), with
//! D⁽⁰⁾(x) = diag S(x), S_r(x) = 1{w_r⁽⁰⁾·(x,1) ≥ 0}. For output c,
//! ∇_{w_r} f_c(x) = A_cr S_r(x) (x,1), so the empirical NTK is the (n k) × (n k) matrix
//!
//! K((x,c), (x',c')) = ⟨∇f_c(x), ∇f_c'(x')⟩ = ⟨(x,1),(x',1)⟩ Σ_r A_cr A_c'r S_r(x) S_r(x').
//!
//! It is not block-diagonal in the outputs: A's rows are random Gaussian vectors,
//! nearly but not exactly orthogonal, so the off-diagonal blocks (c ≠ c') are
//! O(1/√m) and are kept; the full coupled system is solved. Rows and columns are
//! indexed i·k + c (sample-major, as the n × k target matrix is stored).
//!
//! The estimator ([`NtkExact::solve`]) minimizes eq. 3.1's objective in the
//! network's parameters,
//!
//! (1/n) Σ_i ‖f_lin(x_i; W) − y_i‖² + λ ‖W − W⁽⁰⁾‖²_F,
//!
//! i.e. kernel ridge regression of the residual r = y − f(x; W⁽⁰⁾) on K (whose RKHS
//! norm is ‖W − W⁽⁰⁾‖_F). Two equal forms, by the push-through identity
//! Φᵀ(ΦΦᵀ + λnI)⁻¹ = (ΦᵀΦ + λnI)⁻¹Φᵀ (Φ the (n k) × m(d+1) Jacobian, K = ΦΦᵀ):
//!
//! - dual ([`NtkForm::Dual`]): (K + λnI)β = r, W − W⁽⁰⁾ = Φᵀβ;
//! - primal ([`NtkForm::Primal`]): (ΦᵀΦ + λnI) vec(W − W⁽⁰⁾) = Φᵀr, with
//!   ΦᵀΦ[(r,j),(s,l)] = (AᵀA)_rs Σ_i S_r(x_i) S_s(x_i) (x_i,1)_j (x_i,1)_l.
//!
//! [`NtkExact::new`] picks the smaller system (n k against m(d+1)); both are
//! factored by Cholesky ([`crate::linalg::Cholesky`]). At λ = 0 the dual gives the
//! minimum-norm interpolant (n k ≤ m(d+1)), which is where full-batch gradient
//! descent on the [`Ntk`] learner started at W⁽⁰⁾ converges (its updates stay in
//! the row space of Φ); the tests check that, and the kernel against gradient
//! inner products from [`Ntk`]'s own `loss_and_grads`.
//!
//! The result of a solve is an [`Ntk`] learner whose W is the solution, so its
//! predictions come from the same forward pass as the SGD-trained `ntk`.
//! Note: SGD's weight decay pulls the full weights toward 0 (PyTorch's rule, see
//! [`crate::models::resnet`]), while λ here pulls W toward W⁽⁰⁾; the two
//! regularizers differ, the unregularized limits agree.

use crate::error::{Error, Result};
use crate::linalg::{matmul, Cholesky, Matrix};
use crate::models::learner::Learner;
use crate::models::resnet::{augment, Ntk};
use serde::{Deserialize, Serialize};

/// Which linear system [`NtkExact`] factors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NtkForm {
    /// The (n k) × (n k) empirical NTK K (kernel form).
    Dual,
    /// The m(d+1) × m(d+1) matrix ΦᵀΦ (parameter form).
    Primal,
}

/// (x,1) and the activation pattern S_ir = 1{w_r⁽⁰⁾·(x_i,1) ≥ 0} (n × m) of the
/// linearization point (the convention 1{z ≥ 0} of [`Ntk`]).
fn pattern(ntk: &Ntk, x: &Matrix<f64>) -> Result<(Matrix<f64>, Matrix<f64>)> {
    if x.cols() != ntk.input_dim() {
        return Err(Error::Shape(format!(
            "inputs with {} columns for an NTK on d = {}",
            x.cols(),
            ntk.input_dim()
        )));
    }
    let x1 = augment(x);
    let mut s = matmul(x1.view(), ntk.w0.t())?;
    s.as_mut_slice()
        .iter_mut()
        .for_each(|v| *v = if *v >= 0.0 { 1.0 } else { 0.0 });
    Ok((x1, s))
}

/// T[(i,c), r] = A_cr S_ir ((n k) × m): the gradient of f_c(x_i) is T[(i,c), r] (x_i,1)
/// in row r.
fn weighted_patterns(a: &Matrix<f64>, s: &Matrix<f64>) -> Matrix<f64> {
    let k = a.rows();
    Matrix::from_fn(s.rows() * k, a.cols(), |row, r| {
        a.get(row % k, r) * s.get(row / k, r)
    })
}

/// The empirical NTK K((x1_i, c), (x2_j, c')) of the [`Ntk`] learner (module
/// documentation): an (n1 k) × (n2 k) matrix, rows i·k + c, columns j·k + c'.
/// It depends on A and W⁽⁰⁾ only (the model is linear in W).
pub fn ntk_kernel(ntk: &Ntk, x1: &Matrix<f64>, x2: &Matrix<f64>) -> Result<Matrix<f64>> {
    let (a1, s1) = pattern(ntk, x1)?;
    let (a2, s2) = pattern(ntk, x2)?;
    kernel_from_patterns(&ntk.a, &a1, &s1, &a2, &s2)
}

fn kernel_from_patterns(
    a: &Matrix<f64>,
    x1: &Matrix<f64>,
    s1: &Matrix<f64>,
    x2: &Matrix<f64>,
    s2: &Matrix<f64>,
) -> Result<Matrix<f64>> {
    let k = a.rows();
    let t1 = weighted_patterns(a, s1);
    let t2 = weighted_patterns(a, s2);
    let mut kmat = matmul(t1.view(), t2.t())?;
    let g = matmul(x1.view(), x2.t())?;
    let cols = kmat.cols();
    for (row, chunk) in kmat.as_mut_slice().chunks_mut(cols).enumerate() {
        let gi = g.row(row / k);
        for (col, v) in chunk.iter_mut().enumerate() {
            *v *= gi[col / k];
        }
    }
    Ok(kmat)
}

/// ΦᵀΦ (module documentation), m(d+1) × m(d+1), index r(d+1) + j as W is stored.
fn primal_gram(a: &Matrix<f64>, x1: &Matrix<f64>, s: &Matrix<f64>) -> Result<Matrix<f64>> {
    let (n, p1) = x1.shape();
    let m = s.cols();
    let p = m * p1;
    let z = Matrix::from_fn(n, p, |i, q| s.get(i, q / p1) * x1.get(i, q % p1));
    let mut h = matmul(z.t(), z.view())?;
    let b = matmul(a.t(), a.view())?;
    for (q, chunk) in h.as_mut_slice().chunks_mut(p).enumerate() {
        let br = b.row(q / p1);
        for (q2, v) in chunk.iter_mut().enumerate() {
            *v *= br[q2 / p1];
        }
    }
    Ok(h)
}

/// Φᵀ applied to per-(sample, output) coefficients C (n × k):
/// (Φᵀ vec C) as an m × (d+1) matrix, ((C A) ⊙ S)ᵀ (x,1).
fn back_project(
    a: &Matrix<f64>,
    x1: &Matrix<f64>,
    s: &Matrix<f64>,
    c: &Matrix<f64>,
) -> Result<Matrix<f64>> {
    let mut ca = matmul(c.view(), a.view())?;
    for (v, sv) in ca.as_mut_slice().iter_mut().zip(s.as_slice()) {
        *v *= sv;
    }
    matmul(ca.t(), x1.view())
}

/// Kernel ridge regression with the empirical NTK of an [`Ntk`] learner on one
/// set of training inputs and one or more target matrices (sharing the
/// factorization, made once per λ by [`NtkExact::solve`] / [`NtkExact::solve_all`]).
#[derive(Clone, Debug)]
pub struct NtkExact {
    base: Ntk,
    form: NtkForm,
    gram: Matrix<f64>,
    rhs: Vec<Vec<f64>>,
    x1: Matrix<f64>,
    s: Matrix<f64>,
    n: usize,
}

impl NtkExact {
    /// Sets up the regression of y (n × k) on the NTK of `ntk` at its linearization
    /// point W⁽⁰⁾ (`ntk.w` is ignored), in the smaller of the two forms.
    pub fn new(ntk: &Ntk, x: &Matrix<f64>, y: &Matrix<f64>) -> Result<Self> {
        Self::new_multi(ntk, x, std::slice::from_ref(y))
    }

    /// [`NtkExact::new`] for several target matrices on the same inputs (e.g.
    /// Figure 2(c)'s β values), solved with one factorization per λ.
    pub fn new_multi(ntk: &Ntk, x: &Matrix<f64>, ys: &[Matrix<f64>]) -> Result<Self> {
        let nk = x.rows() * ntk.output_dim();
        let p = ntk.w0.rows() * ntk.w0.cols();
        let form = if nk <= p {
            NtkForm::Dual
        } else {
            NtkForm::Primal
        };
        Self::with_form(ntk, x, ys, form)
    }

    /// [`NtkExact::new_multi`] in a chosen form.
    pub fn with_form(
        ntk: &Ntk,
        x: &Matrix<f64>,
        ys: &[Matrix<f64>],
        form: NtkForm,
    ) -> Result<Self> {
        let n = x.rows();
        let k = ntk.output_dim();
        if n == 0 {
            return Err(Error::invalid("training set", "no training samples"));
        }
        if ys.is_empty() {
            return Err(Error::invalid("targets", "no target matrix"));
        }
        if !x.all_finite() {
            return Err(Error::Numerical(
                "NTK regression: training inputs are not finite".into(),
            ));
        }
        for y in ys {
            if y.shape() != (n, k) {
                return Err(Error::Shape(format!(
                    "targets {}x{} for {n} inputs and an NTK with k = {k} outputs",
                    y.rows(),
                    y.cols()
                )));
            }
            if !y.all_finite() {
                return Err(Error::Numerical(
                    "NTK regression: training targets are not finite".into(),
                ));
            }
        }
        let base = Ntk {
            a: ntk.a.clone(),
            w0: ntk.w0.clone(),
            w: ntk.w0.clone(),
        };
        let f0 = base.forward(x)?;
        let (x1, s) = pattern(&base, x)?;
        let gram = match form {
            NtkForm::Dual => kernel_from_patterns(&base.a, &x1, &s, &x1, &s)?,
            NtkForm::Primal => primal_gram(&base.a, &x1, &s)?,
        };
        let rhs = ys
            .iter()
            .map(|y| {
                let resid = Matrix::from_fn(n, k, |i, c| y.get(i, c) - f0.get(i, c));
                Ok(match form {
                    NtkForm::Dual => resid.into_vec(),
                    NtkForm::Primal => back_project(&base.a, &x1, &s, &resid)?.into_vec(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(NtkExact {
            base,
            form,
            gram,
            rhs,
            x1,
            s,
            n,
        })
    }

    /// The form being solved.
    pub fn form(&self) -> NtkForm {
        self.form
    }

    /// Size of the factored system (n k or m(d+1)).
    pub fn system_size(&self) -> usize {
        self.gram.rows()
    }

    /// The factored matrix: K (dual) or ΦᵀΦ (primal).
    pub fn gram(&self) -> &Matrix<f64> {
        &self.gram
    }

    /// The minimizer of (1/n) Σ_i ‖f_lin(x_i; W) − y_i‖² + λ‖W − W⁽⁰⁾‖²_F (eq. 3.1
    /// with the empirical NTK; λ = 0 is the minimum-norm interpolant in the dual
    /// form and least squares in the primal form) for the first target matrix, as
    /// an [`Ntk`] learner with that W. A system that is not numerically positive
    /// definite at this λ is [`Error::NotPositiveDefinite`].
    pub fn solve(&self, lambda: f64) -> Result<Ntk> {
        let chol = self.factor(lambda)?;
        self.solution(&chol, 0, lambda)
    }

    /// [`NtkExact::solve`] for every target matrix, in order, with one factorization.
    pub fn solve_all(&self, lambda: f64) -> Result<Vec<Ntk>> {
        let chol = self.factor(lambda)?;
        (0..self.rhs.len())
            .map(|t| self.solution(&chol, t, lambda))
            .collect()
    }

    fn factor(&self, lambda: f64) -> Result<Cholesky> {
        if !(lambda.is_finite() && lambda >= 0.0) {
            return Err(Error::invalid(
                "lambda",
                format!("the ridge of eq. 3.1 must be finite and >= 0, got {lambda}"),
            ));
        }
        let mut h = self.gram.clone();
        let ridge = lambda * self.n as f64;
        for i in 0..h.rows() {
            h.set(i, i, h.get(i, i) + ridge);
        }
        let what = match self.form {
            NtkForm::Dual => "empirical NTK K + lambda*n*I",
            NtkForm::Primal => "NTK parameter Gram Phi^T Phi + lambda*n*I",
        };
        Cholesky::new(&h, &format!("{what} (lambda = {lambda:e}, n = {})", self.n))
    }

    fn solution(&self, chol: &Cholesky, target: usize, lambda: f64) -> Result<Ntk> {
        let z = chol.solve(&self.rhs[target])?;
        let (m, p1) = self.base.w0.shape();
        let delta = match self.form {
            NtkForm::Dual => {
                let beta = Matrix::from_vec(self.n, self.base.output_dim(), z)?;
                back_project(&self.base.a, &self.x1, &self.s, &beta)?
            }
            NtkForm::Primal => Matrix::from_vec(m, p1, z)?,
        };
        if !delta.all_finite() {
            return Err(Error::Numerical(format!(
                "NTK regression at lambda = {lambda:e}: solution is not finite"
            )));
        }
        let mut out = self.base.clone();
        for (w, dv) in out.w.as_mut_slice().iter_mut().zip(delta.as_slice()) {
            *w += dv;
        }
        Ok(out)
    }
}
