//! The large-n path of gradient-descent predictions: no eigendecomposition of the
//! n × n kernel. The matrix functions e(K') and g(K') of the parent module (K' = K +
//! ridge·I) are applied to the residual block R = Y − f₀(X) by block Lanczos started
//! from R itself (the Krylov approximation f(K')R ≈ Q f(T) Qᵀ R, exact when the Krylov
//! space is invariant; Golub & Meurant, *Matrices, Moments and Quadrature*, ch. 7), with
//! full reorthogonalization. One Krylov space serves every time t and every output;
//! only products K'·Q (n × b blocks) touch the kernel, so it may be held dense or be a
//! [`TileKernel`] recomputed tile by tile.
//!
//! **Accuracy.** Because Q is orthonormal, the change of the approximation f(K')R
//! between the Krylov space of j blocks and that of j − [`CHECK_EVERY`] blocks is the
//! norm of the change of its coefficients in the basis; the iteration stops when, for
//! every time and output, that change relative to the approximation is below `tol`, and
//! reports it per time and output (`achieved_rel_error`). For t = ∞ (f = 1/λ, the
//! conjugate-gradient regime) convergence follows the condition number of K' as CG's does.

use super::{check_shape, Dynamics, GdPrediction};
use crate::error::{Error, Result};
use crate::kernels::tile::{matvec, TileKernel};
use crate::linalg::{gemm_into, matmul, sym_eigen, Matrix};
use crate::runtime::check_interrupt;

/// Block steps between convergence checks (and the lag of the error estimate).
pub const CHECK_EVERY: usize = 4;

/// How the training kernel is applied.
#[derive(Clone, Copy)]
pub enum Operator<'a> {
    /// A kernel held in memory (f64).
    Dense(&'a Matrix<f64>),
    /// A kernel computed tile by tile at every product (the tile grid of
    /// `kernels::tile`, so products are bit-identical at any thread count).
    Tiles(&'a dyn TileKernel),
}

impl Operator<'_> {
    fn n(&self) -> usize {
        match self {
            Operator::Dense(m) => m.rows(),
            Operator::Tiles(k) => k.n(),
        }
    }
    fn apply(&self, b: &Matrix<f64>) -> Result<Matrix<f64>> {
        match self {
            Operator::Dense(m) => matmul(m.view(), b.view()),
            Operator::Tiles(k) => matvec(*k, b),
        }
    }
}

/// Settings of the Krylov path.
#[derive(Clone, Debug)]
pub struct KrylovConfig {
    /// Requested relative accuracy of every prediction.
    pub tol: f64,
    /// Most block Lanczos steps (the basis holds at most this many blocks).
    pub max_blocks: usize,
}

impl Default for KrylovConfig {
    fn default() -> Self {
        KrylovConfig {
            tol: 1e-6,
            max_blocks: 300,
        }
    }
}

/// Predictions of the Krylov path with their estimated accuracy.
#[derive(Clone, Debug)]
pub struct KrylovPrediction {
    /// The predictions (`eig_range` holds the extreme Ritz values of K').
    pub prediction: GdPrediction,
    /// Estimated relative error of g(K')R (the test outputs' change) per time (rows)
    /// and output (columns).
    pub achieved_rel_error: Vec<Vec<f64>>,
    /// Block Lanczos steps taken.
    pub blocks: usize,
    /// Block size (the rank of R).
    pub block_size: usize,
    /// Whether every estimate met `tol`.
    pub converged: bool,
}

/// Orthonormalizes the columns of `w` in place by modified Gram–Schmidt (twice); returns
/// the c × c factor with W = Q·F, and the indices of the columns kept (norm above
/// `drop_tol` after orthogonalization). Dropped columns are zeroed.
fn mgs(w: &mut Matrix<f64>, drop_tol: f64) -> (Matrix<f64>, Vec<usize>) {
    let (n, c) = w.shape();
    let mut f = Matrix::zeros(c, c);
    let mut kept = vec![];
    let col = |w: &Matrix<f64>, j: usize| -> Vec<f64> { (0..n).map(|i| w.get(i, j)).collect() };
    for j in 0..c {
        let mut v = col(w, j);
        let norm0 = crate::linalg::norm2(&v);
        for _ in 0..2 {
            for &k in &kept {
                let q = col(w, k);
                let d = crate::linalg::dot(&v, &q);
                f.set(k, j, f.get(k, j) + d);
                v.iter_mut().zip(&q).for_each(|(a, b)| *a -= d * b);
            }
        }
        let nv = crate::linalg::norm2(&v);
        if nv > drop_tol * norm0.max(f64::MIN_POSITIVE) && nv > 0.0 {
            f.set(j, j, nv);
            for (i, a) in v.iter().enumerate() {
                w.set(i, j, a / nv);
            }
            kept.push(j);
        } else {
            for i in 0..n {
                w.set(i, j, 0.0);
            }
        }
    }
    (f, kept)
}

/// Keeps the columns `kept` of `w`.
fn select_cols(w: &Matrix<f64>, kept: &[usize]) -> Matrix<f64> {
    Matrix::from_fn(w.rows(), kept.len(), |i, j| w.get(i, kept[j]))
}

/// Gradient flow / descent predictions (as [`super::gradient_descent_mse`]) on the
/// Krylov path: `op` is the n × n training kernel, `k_test_train` the n* × n test–train
/// kernel (dense), `f0_train`/`f0_test` the initial outputs (zero when `None`).
pub fn gradient_descent_mse_krylov(
    op: Operator<'_>,
    y_train: &Matrix<f64>,
    k_test_train: Option<&Matrix<f64>>,
    f0_train: Option<&Matrix<f64>>,
    f0_test: Option<&Matrix<f64>>,
    dynamics: &Dynamics,
    cfg: &KrylovConfig,
) -> Result<KrylovPrediction> {
    dynamics.validate()?;
    if !(cfg.tol > 0.0 && cfg.tol < 1.0) {
        return Err(Error::invalid(
            "tol",
            format!("must lie in (0, 1), got {}", cfg.tol),
        ));
    }
    if cfg.max_blocks < CHECK_EVERY + 1 {
        return Err(Error::invalid(
            "max_blocks",
            format!(
                "must be at least {}, got {}",
                CHECK_EVERY + 1,
                cfg.max_blocks
            ),
        ));
    }
    let n = op.n();
    check_shape("y_train", y_train, Some((n, "training points")), None)?;
    let c = y_train.cols();
    if let Some(f) = f0_train {
        check_shape(
            "f0_train",
            f,
            Some((n, "training points")),
            Some((c, "outputs")),
        )?;
    }
    if let Some(k) = k_test_train {
        check_shape("k_test_train", k, None, Some((n, "training points")))?;
        if let Some(f) = f0_test {
            check_shape(
                "f0_test",
                f,
                Some((k.rows(), "test points")),
                Some((c, "outputs")),
            )?;
        }
    } else if f0_test.is_some() {
        return Err(Error::invalid(
            "f0_test",
            "initial test outputs need the test-train kernel k_test_train",
        ));
    }
    let norm = dynamics.loss_norm.value(n, c);
    let ridge = dynamics.ridge;

    // R = Y − f₀(X) = Q₁ B₀
    let mut r = y_train.clone();
    if let Some(f) = f0_train {
        for (a, b) in r.as_mut_slice().iter_mut().zip(f.as_slice()) {
            *a -= b;
        }
    }
    let mut q1 = r.clone();
    let (f, kept) = mgs(&mut q1, 1e-12);
    let b = kept.len();
    let mut blocks: Vec<Matrix<f64>> = vec![];
    // B₀ (b × c): rows of F for the kept columns
    let b0 = Matrix::from_fn(b, c, |i, j| f.get(kept[i], j));
    let mut alphas: Vec<Matrix<f64>> = vec![];
    let mut betas: Vec<Matrix<f64>> = vec![];
    let mut coeffs_prev: Option<Vec<Matrix<f64>>> = None;
    let mut achieved = vec![vec![0.0; c]; dynamics.times.len()];
    let mut converged = b == 0;
    let mut final_coeffs: Option<Coeffs> = None;
    if b > 0 {
        blocks.push(select_cols(&q1, &kept));
        let mut step = 0;
        loop {
            check_interrupt()?;
            let qj = blocks.last().expect("the first block is in").clone();
            let mut w = op.apply(&qj)?;
            if ridge != 0.0 {
                for (a, q) in w.as_mut_slice().iter_mut().zip(qj.as_slice()) {
                    *a += ridge * q;
                }
            }
            let a = matmul(qj.t(), w.view())?;
            // full reorthogonalization against every block, twice
            for _ in 0..2 {
                for qb in &blocks {
                    let h = matmul(qb.t(), w.view())?;
                    gemm_into(&mut w, qb.view(), h.view(), -1.0, true)?;
                }
            }
            alphas.push(a);
            step += 1;
            let (f, kept) = mgs(&mut w, 1e-10);
            // the Krylov space is invariant (exact) when nothing is left, and cannot
            // grow at block size b when part of the block is lost
            let invariant = kept.is_empty();
            let breakdown = kept.len() < b;
            let at_cap = step >= cfg.max_blocks || (step + 1) * b > n;
            if step % CHECK_EVERY == 0 || breakdown || at_cap {
                let (coeffs, train_coeffs, range) =
                    ritz_coeffs(&alphas, &betas, b, &b0, dynamics, norm)?;
                if invariant {
                    // the Krylov space is invariant: the approximation is exact
                    achieved
                        .iter_mut()
                        .for_each(|r| r.iter_mut().for_each(|v| *v = 0.0));
                    converged = true;
                } else if let Some(prev) = &coeffs_prev {
                    converged = true;
                    for (row, (cn, cp)) in achieved.iter_mut().zip(coeffs.iter().zip(prev)) {
                        for (j, slot) in row.iter_mut().enumerate() {
                            let (mut d2, mut n2) = (0.0, 0.0);
                            for i in 0..cn.rows() {
                                let p = if i < cp.rows() { cp.get(i, j) } else { 0.0 };
                                d2 += (cn.get(i, j) - p).powi(2);
                                n2 += cn.get(i, j).powi(2);
                            }
                            let e = if n2 > 0.0 {
                                (d2 / n2).sqrt()
                            } else {
                                d2.sqrt()
                            };
                            *slot = e;
                            if e.is_nan() || e > cfg.tol {
                                converged = false;
                            }
                        }
                    }
                }
                coeffs_prev = Some(coeffs.clone());
                final_coeffs = Some((coeffs, train_coeffs, range));
                if converged || at_cap || breakdown {
                    break;
                }
            }
            betas.push(Matrix::from_fn(b, b, |i, j| f.get(kept[i], j)));
            blocks.push(w);
        }
    }
    // assemble the outputs from the coefficients
    let m_test = k_test_train.map(|k| k.rows());
    let mut train = vec![];
    let mut test = m_test.map(|_| vec![]);
    let (coeffs, train_coeffs, range) = match final_coeffs {
        Some(x) => x,
        None => {
            let z = Matrix::zeros(0, c);
            (
                vec![z.clone(); dynamics.times.len()],
                vec![z; dynamics.times.len()],
                (0.0, 0.0),
            )
        }
    };
    for (ti, _) in dynamics.times.iter().enumerate() {
        check_interrupt()?;
        // f_t(X) = Y − Q e(T) E₁ B₀
        let mut ft = y_train.clone();
        let mut zt = Matrix::zeros(n, c);
        for (bi, qb) in blocks.iter().enumerate() {
            if bi * b >= coeffs[ti].rows() {
                break;
            }
            let rows: Vec<usize> = (bi * b..(bi + 1) * b).collect();
            gemm_into(
                &mut ft,
                qb.view(),
                train_coeffs[ti].select_rows(&rows).view(),
                -1.0,
                true,
            )?;
            gemm_into(
                &mut zt,
                qb.view(),
                coeffs[ti].select_rows(&rows).view(),
                1.0,
                true,
            )?;
        }
        train.push(ft);
        if let (Some(k), Some(test)) = (k_test_train, test.as_mut()) {
            // f_t(X*) = f₀(X*) + K(X*, X) Q g(T) E₁ B₀
            let mut out = match f0_test {
                Some(f) => f.clone(),
                None => Matrix::zeros(k.rows(), c),
            };
            gemm_into(&mut out, k.view(), zt.view(), 1.0, true)?;
            test.push(out);
        }
    }
    Ok(KrylovPrediction {
        prediction: GdPrediction {
            times: dynamics.times.clone(),
            train,
            test,
            eig_range: range,
        },
        achieved_rel_error: achieved,
        blocks: alphas.len(),
        block_size: b,
        converged,
    })
}

type Coeffs = (Vec<Matrix<f64>>, Vec<Matrix<f64>>, (f64, f64));

/// From the block tridiagonal T (diagonal blocks `alphas`, sub-diagonal `betas`), the
/// coefficients g(T) E₁ B₀ and e(T) E₁ B₀ for every time, and T's extreme eigenvalues.
fn ritz_coeffs(
    alphas: &[Matrix<f64>],
    betas: &[Matrix<f64>],
    b: usize,
    b0: &Matrix<f64>,
    dynamics: &Dynamics,
    norm: f64,
) -> Result<Coeffs> {
    let j = alphas.len();
    let m = j * b;
    let mut t = Matrix::zeros(m, m);
    for (k, a) in alphas.iter().enumerate() {
        for r in 0..b {
            for s in 0..b {
                // symmetrize the diagonal block (rounding)
                t.set(k * b + r, k * b + s, 0.5 * (a.get(r, s) + a.get(s, r)));
            }
        }
    }
    for (k, be) in betas.iter().enumerate().take(j.saturating_sub(1)) {
        for r in 0..b {
            for s in 0..b {
                // W_k = Q_{k+1} β_k: T[k+1, k] = β_k
                t.set((k + 1) * b + r, k * b + s, be.get(r, s));
                t.set(k * b + s, (k + 1) * b + r, be.get(r, s));
            }
        }
    }
    let e = sym_eigen(&t)?;
    // U₁ᵀ B₀: the first b rows of the eigenvectors
    let u1 = Matrix::from_fn(m, b, |i, r| e.vectors.get(r, i));
    let ub = matmul(u1.view(), b0.view())?; // m × c
    let range = (e.values[m - 1], e.values[0]);
    let mut g_out = vec![];
    let mut e_out = vec![];
    for &tt in &dynamics.times {
        if tt.is_infinite() && range.0 <= 0.0 {
            return Err(Error::NotPositiveDefinite {
                what: "k_train + ridge*I (a Ritz value), needed at t = inf".into(),
                min_eig: range.0,
            });
        }
        let (ev, gv): (Vec<f64>, Vec<f64>) = e
            .values
            .iter()
            .map(|&l| dynamics.factors(l, tt, norm))
            .unzip();
        let scale = |d: &[f64]| Matrix::from_fn(m, ub.cols(), |i, c| d[i] * ub.get(i, c));
        g_out.push(matmul(e.vectors.view(), scale(&gv).view())?);
        e_out.push(matmul(e.vectors.view(), scale(&ev).view())?);
    }
    Ok((g_out, e_out, range))
}
