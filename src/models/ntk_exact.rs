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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::sym_eigenvalues;
    use crate::rng;
    use crate::train::sgd::{train, SgdConfig};

    fn toy(n: usize, d: usize, k: usize, seed: u64) -> (Matrix<f64>, Matrix<f64>) {
        let mut g = rng::stream(seed, "ntk-exact-test");
        let x = Matrix::from_fn(n, d, |_, _| rng::normal(&mut g));
        let y = Matrix::from_fn(n, k, |_, _| rng::normal(&mut g));
        (x, y)
    }

    /// ∇_W f_c(x_i) from `Ntk::loss_and_grads` on the one-sample batch x_i with
    /// target out − e_c, whose loss gradient is exactly ∇f_c.
    fn grad_of_output(ntk: &Ntk, x: &Matrix<f64>, i: usize, c: usize) -> Matrix<f64> {
        let xi = x.select_rows(&[i]);
        let out = ntk.forward(&xi).unwrap();
        let y = Matrix::from_fn(1, out.cols(), |_, j| {
            out.get(0, j) - if j == c { 1.0 } else { 0.0 }
        });
        ntk.loss_and_grads(&xi, &y).unwrap().1.remove(0)
    }

    fn inner(a: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
        a.as_slice()
            .iter()
            .zip(b.as_slice())
            .map(|(u, v)| u * v)
            .sum()
    }

    #[test]
    fn kernel_equals_gradient_inner_products_and_finite_differences() {
        let (d, m, k) = (3, 7, 2);
        let mut ntk = Ntk::new(d, m, k, 4).unwrap();
        // move W away from W⁽⁰⁾: the kernel depends on W⁽⁰⁾ only
        let mut g = rng::stream(9, "perturb");
        for v in ntk.w.as_mut_slice() {
            *v += 0.3 * rng::normal(&mut g);
        }
        let (x1, _) = toy(4, d, k, 1);
        let (x2, _) = toy(3, d, k, 2);
        let kmat = ntk_kernel(&ntk, &x1, &x2).unwrap();
        assert_eq!(kmat.shape(), (8, 6));
        let mut worst = 0.0f64;
        let mut off_block = 0.0f64;
        for i in 0..4 {
            for c in 0..k {
                let gi = grad_of_output(&ntk, &x1, i, c);
                for j in 0..3 {
                    for c2 in 0..k {
                        let gj = grad_of_output(&ntk, &x2, j, c2);
                        let want = inner(&gi, &gj);
                        worst = worst.max((kmat.get(i * k + c, j * k + c2) - want).abs());
                        if c != c2 {
                            off_block = off_block.max(want.abs());
                        }
                    }
                }
            }
        }
        assert!(
            worst < 1e-12,
            "kernel vs gradient inner products: {worst:e}"
        );
        // the output blocks are coupled (A's rows are not orthogonal)
        assert!(off_block > 1e-3, "off-diagonal blocks {off_block:e}");

        // one gradient by central finite differences of the forward pass
        // (f_lin is linear in W, so the difference quotient is exact up to rounding)
        let gi = grad_of_output(&ntk, &x1, 2, 1);
        let xi = x1.select_rows(&[2]);
        let h = 1e-3;
        for q in 0..ntk.w.as_slice().len() {
            let mut p = ntk.clone();
            p.w.as_mut_slice()[q] += h;
            let mut mn = ntk.clone();
            mn.w.as_mut_slice()[q] -= h;
            let fd = (p.forward(&xi).unwrap().get(0, 1) - mn.forward(&xi).unwrap().get(0, 1))
                / (2.0 * h);
            assert!((fd - gi.as_slice()[q]).abs() < 1e-9, "entry {q}");
        }
    }

    #[test]
    fn primal_and_dual_forms_agree() {
        let (d, m, k) = (3, 5, 2);
        let ntk = Ntk::new(d, m, k, 7).unwrap();
        // n k = 16 < m(d+1) = 20 and 40 > 20: one case each way
        for n in [8, 20] {
            let (x, y) = toy(n, d, k, 3 + n as u64);
            let (xt, _) = toy(6, d, k, 99);
            let ys = [y.clone()];
            let dual = NtkExact::with_form(&ntk, &x, &ys, NtkForm::Dual).unwrap();
            let primal = NtkExact::with_form(&ntk, &x, &ys, NtkForm::Primal).unwrap();
            assert_eq!(
                NtkExact::new(&ntk, &x, &y).unwrap().form(),
                if n * k <= m * (d + 1) {
                    NtkForm::Dual
                } else {
                    NtkForm::Primal
                }
            );
            for lambda in [1e-3, 0.1, 2.0] {
                let a = dual.solve(lambda).unwrap();
                let b = primal.solve(lambda).unwrap();
                let (pa, pb) = (a.forward(&xt).unwrap(), b.forward(&xt).unwrap());
                let diff = pa
                    .as_slice()
                    .iter()
                    .zip(pb.as_slice())
                    .map(|(u, v)| (u - v).abs())
                    .fold(0.0, f64::max);
                assert!(diff < 1e-9, "n = {n}, lambda = {lambda}: {diff:e}");
            }
        }
    }

    #[test]
    fn several_targets_share_one_factorization() {
        let (d, m, k, n) = (3, 6, 2, 7);
        let ntk = Ntk::new(d, m, k, 2).unwrap();
        let (x, y1) = toy(n, d, k, 1);
        let (_, y2) = toy(n, d, k, 2);
        let both = NtkExact::new_multi(&ntk, &x, &[y1.clone(), y2.clone()]).unwrap();
        let sols = both.solve_all(0.3).unwrap();
        for (sol, y) in sols.iter().zip([y1, y2]) {
            let alone = NtkExact::new(&ntk, &x, &y).unwrap().solve(0.3).unwrap();
            assert_eq!(sol.w, alone.w);
        }
    }

    /// At the solution the gradient of (1/n)Σ‖f_lin − y‖² + λ‖W − W⁽⁰⁾‖² vanishes:
    /// 2 ∂L/∂W + 2λ(W − W⁽⁰⁾) = 0 with ∂L/∂W from the learner's own backward pass.
    #[test]
    fn ridge_solution_is_stationary() {
        let (d, m, k, n) = (4, 6, 3, 9);
        let ntk = Ntk::new(d, m, k, 11).unwrap();
        let (x, y) = toy(n, d, k, 5);
        for form in [NtkForm::Dual, NtkForm::Primal] {
            let ex = NtkExact::with_form(&ntk, &x, std::slice::from_ref(&y), form).unwrap();
            let lambda = 0.05;
            let sol = ex.solve(lambda).unwrap();
            let (_, grads) = sol.loss_and_grads(&x, &y).unwrap();
            let mut worst = 0.0f64;
            for ((gv, w), w0) in grads[0]
                .as_slice()
                .iter()
                .zip(sol.w.as_slice())
                .zip(sol.w0.as_slice())
            {
                worst = worst.max((gv + lambda * (w - w0)).abs());
            }
            assert!(worst < 1e-10, "{form:?}: stationarity {worst:e}");
        }
    }

    /// Full-batch gradient descent (no momentum, no weight decay) on the Ntk
    /// learner from W⁽⁰⁾ converges to the λ = 0 dual solution, the minimum-norm
    /// interpolant: the SGD-trained `ntk` and `ntk-exact` are the same estimator
    /// in that limit.
    #[test]
    fn full_batch_gd_converges_to_min_norm_solution() {
        let (d, m, k, n) = (3, 16, 2, 6);
        let ntk = Ntk::new(d, m, k, 21).unwrap();
        let (x, y) = toy(n, d, k, 8);
        let (xt, _) = toy(20, d, k, 30);
        let ex = NtkExact::new(&ntk, &x, &y).unwrap();
        assert_eq!(ex.form(), NtkForm::Dual);
        let exact = ex.solve(0.0).unwrap();
        // interpolates
        let fit = exact.forward(&x).unwrap();
        for (u, v) in fit.as_slice().iter().zip(y.as_slice()) {
            assert!((u - v).abs() < 1e-9);
        }
        // GD on L = (1/2n)Σ‖·‖²: Hessian eigenvalues are eig(K)/n; step 1/λ_max
        let eig = sym_eigenvalues(ex.gram()).unwrap();
        let (lmax, lmin) = (eig[0] / n as f64, eig[eig.len() - 1] / n as f64);
        let lr = 1.0 / lmax;
        // contraction (1 − lr λ_min) per step; enough steps for ~1e-10
        let steps = ((1e-10f64).ln() / (1.0 - lr * lmin).ln()).ceil() as usize;
        assert!(steps < 200_000, "condition number too large: {steps} steps");
        let cfg = SgdConfig {
            lr,
            weight_decay: 0.0,
            momentum: 0.0,
            batch: n,
            epochs: steps,
            lr_drop: 1.0,
            seed: 1,
            diverge_ratio: 1e4,
        };
        let mut gd = ntk.clone();
        train(&mut gd, &x, &y, None, &cfg).unwrap();
        let (pa, pb) = (gd.forward(&xt).unwrap(), exact.forward(&xt).unwrap());
        let diff = pa
            .as_slice()
            .iter()
            .zip(pb.as_slice())
            .map(|(u, v)| (u - v).abs())
            .fold(0.0, f64::max);
        let wdiff =
            gd.w.as_slice()
                .iter()
                .zip(exact.w.as_slice())
                .map(|(u, v)| (u - v) * (u - v))
                .sum::<f64>()
                .sqrt();
        println!("GD ({steps} steps) vs exact: predictions {diff:.2e}, weights {wdiff:.2e}");
        assert!(diff < 1e-6, "test predictions differ by {diff:e}");
        assert!(wdiff < 1e-6, "weights differ by {wdiff:e}");
    }

    #[test]
    fn bad_inputs_are_errors_naming_the_field() {
        let ntk = Ntk::new(3, 4, 2, 1).unwrap();
        let (x, y) = toy(5, 3, 2, 1);
        let ex = NtkExact::new(&ntk, &x, &y).unwrap();
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let e = ex.solve(bad).unwrap_err().to_string();
            assert!(e.contains("lambda"), "{e}");
        }
        let (_, y3) = toy(5, 3, 3, 1);
        assert!(matches!(NtkExact::new(&ntk, &x, &y3), Err(Error::Shape(_))));
        let (x4, _) = toy(5, 4, 2, 1);
        assert!(matches!(ntk_kernel(&ntk, &x4, &x), Err(Error::Shape(_))));
        assert!(NtkExact::new_multi(&ntk, &x, &[])
            .unwrap_err()
            .to_string()
            .contains("targets"));
        let empty = Matrix::zeros(0, 3);
        let e = NtkExact::new(&ntk, &empty, &Matrix::zeros(0, 2)).unwrap_err();
        assert!(e.to_string().contains("training set"), "{e}");
    }
}
