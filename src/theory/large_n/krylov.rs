//! Block Lanczos with full reorthogonalization and thick restarts (the top of
//! the spectrum plus a Gauss quadrature rule for the rest), and plain Lanczos
//! for the largest eigenvalue of a positive operator.

use super::blocks::{at_b, dotv, mul, sub_ac, thin_qr};
use super::operator::{product, LinearOperator, Precision};
use crate::error::Result;
use crate::linalg::{gemm_into, sym_eigen, sym_eigenvalues, Matrix, View};
use crate::runtime::profile::{prof, ProfTimer};
use crate::runtime::{check_interrupt, progress_bar};

/// Orthonormalizes `z` against the blocks `qs` (two passes of block
/// Gram–Schmidt) and within itself: returns (Q, R) with (I − PPᵀ)z = QR.
/// Directions lost to cancellation (|R_jj| ≤ `tiny`) are replaced by random
/// vectors orthogonal to everything, with zero rows in R, so the basis always
/// grows by b orthonormal columns.
pub(crate) fn orthonormalize<P: ProjectOut + ?Sized>(
    mut z: Matrix<f64>,
    qs: &P,
    tiny: f64,
    rng: &mut crate::rng::WRng,
) -> Result<(Matrix<f64>, Matrix<f64>)> {
    // One block Gram–Schmidt pass here (callers subtract one already), a second
    // only where it cancelled much (Kahan–Parlett "twice is enough").
    let before = crate::linalg::norm2(z.as_slice());
    qs.project_out(&mut z)?;
    if crate::linalg::norm2(z.as_slice()) < 0.7 * before {
        qs.project_out(&mut z)?;
    }
    let (mut q1, mut r1) = thin_qr(&z);
    let b = z.cols();
    let mut replaced = false;
    for j in 0..b {
        if r1.get(j, j).abs() <= tiny {
            replaced = true;
            for i in 0..b {
                r1.set(j, i, 0.0);
            }
            for i in 0..q1.rows() {
                q1.set(i, j, crate::rng::normal(rng));
            }
        }
    }
    // A second round (only when columns were replaced or z was tiny, i.e. mostly
    // rounding) makes Q orthogonal to the old blocks to working precision.
    let min_r = (0..b)
        .map(|j| r1.get(j, j).abs())
        .fold(f64::INFINITY, f64::min);
    if !replaced && min_r > 1e-3 * before.max(f64::MIN_POSITIVE) {
        return Ok((q1, r1));
    }
    for _ in 0..2 {
        qs.project_out(&mut q1)?;
    }
    let (q2, r2) = thin_qr(&q1);
    let r = if replaced {
        // columns that were replaced keep a zero row in R; the others pick up r2
        let mut r = mul(&r2, &r1)?;
        for j in 0..b {
            if r1.get(j, j) == 0.0 {
                for i in 0..b {
                    r.set(j, i, 0.0);
                }
            }
        }
        r
    } else {
        mul(&r2, &r1)?
    };
    // The QR's sign convention may flip columns; R absorbs it through r2.
    Ok((q2, r))
}

/// The top of the spectrum plus a quadrature rule for the rest.
pub(crate) struct Spectrum {
    /// Top k' eigenvalue estimates, descending.
    pub(crate) vals: Vec<f64>,
    /// Their vectors (n × k'), orthonormal.
    pub(crate) vecs: Matrix<f64>,
    /// ‖Kv_i − θ_i v_i‖ for the top k'.
    pub(super) resid: Vec<f64>,
    /// Further Ritz values (quadrature nodes beyond k').
    pub(super) tail_vals: Vec<f64>,
    /// Quadrature weights (x_jᵀy_l)² of the tail nodes, one vector per label.
    pub(super) tail_weights: Vec<Vec<f64>>,
    pub(super) converged: bool,
    pub(super) basis: usize,
    pub(super) products: usize,
}

/// Something whose orthonormal columns Q can be projected out of a block:
/// z ← z − Q(Qᵀz).
pub(crate) trait ProjectOut {
    fn project_out(&self, z: &mut Matrix<f64>) -> Result<()>;
}

impl ProjectOut for [Matrix<f64>] {
    fn project_out(&self, z: &mut Matrix<f64>) -> Result<()> {
        for q in self {
            let c = at_b(q, z)?;
            sub_ac(z, q, &c)?;
        }
        Ok(())
    }
}

/// The Krylov basis in one row-major n × cap buffer (columns 0..m in use), so
/// that the projections against the whole basis are two large GEMMs (Qᵀz and
/// z − QC, classical Gram–Schmidt applied twice) rather than two small GEMMs per
/// block, which ran far below the GEMM rate at n in the tens of thousands.
pub(crate) struct Basis {
    data: Vec<f64>,
    n: usize,
    cap: usize,
    m: usize,
}

impl Basis {
    pub(crate) fn new(n: usize, cap: usize) -> Self {
        Basis {
            data: vec![0.0; n * cap],
            n,
            cap,
            m: 0,
        }
    }

    pub(crate) fn view(&self) -> Result<View<'_, f64>> {
        View::leading_cols(&self.data, self.n, self.m, self.cap)
    }

    /// Columns in use.
    pub(crate) fn len(&self) -> usize {
        self.m
    }

    /// Keeps the first `m` columns in use.
    pub(crate) fn truncate(&mut self, m: usize) {
        self.m = self.m.min(m);
    }

    /// Appends the columns of `q` (at most cap − m of them).
    pub(crate) fn push(&mut self, q: &Matrix<f64>) {
        let (b, m, cap) = (q.cols(), self.m, self.cap);
        assert!(m + b <= cap, "Krylov basis capacity");
        for (row, src) in self
            .data
            .chunks_exact_mut(cap)
            .zip(q.as_slice().chunks_exact(b.max(1)))
        {
            row[m..m + b].copy_from_slice(&src[..b]);
        }
        self.m += b;
    }

    /// Columns off..off + b as a matrix.
    pub(crate) fn cols(&self, off: usize, b: usize) -> Matrix<f64> {
        Matrix::from_fn(self.n, b, |i, j| self.data[i * self.cap + off + j])
    }

    /// Qᵀz over the columns in use.
    pub(crate) fn proj(&self, z: &Matrix<f64>) -> Result<Matrix<f64>> {
        let mut c = Matrix::zeros(self.m, z.cols());
        gemm_into(&mut c, self.view()?.t(), z.view(), 1.0, false)?;
        Ok(c)
    }

    /// z −= Q c.
    pub(crate) fn sub(&self, z: &mut Matrix<f64>, c: &Matrix<f64>) -> Result<()> {
        gemm_into(z, self.view()?, c.view(), -1.0, true)
    }

    /// Q U[:m, :kp] (Ritz vectors from the eigenvectors U of T).
    pub(crate) fn times(&self, u: &Matrix<f64>, kp: usize) -> Result<Matrix<f64>> {
        let m = self.m;
        let ub = Matrix::from_fn(m, kp, |a, c| u.get(a, c));
        let mut out = Matrix::zeros(self.n, kp);
        gemm_into(&mut out, self.view()?, ub.view(), 1.0, false)?;
        Ok(out)
    }
}

impl ProjectOut for Basis {
    fn project_out(&self, z: &mut Matrix<f64>) -> Result<()> {
        if self.m == 0 {
            return Ok(());
        }
        let c = self.proj(z)?;
        self.sub(z, &c)
    }
}

/// Block Lanczos on `op`'s products in `precision`, with full
/// reorthogonalization and Rayleigh–Ritz on the whole basis, started from the labels plus Gaussian columns. Stops when the top-k
/// Ritz residuals ‖Kx_i − θ_i x_i‖ (from the block recurrence: ‖R_{j+1} u_i^{(j)}‖)
/// fall below `rtol`·θ_1, or at the basis cap.
#[allow(clippy::too_many_arguments)]
pub(crate) fn block_lanczos(
    op: &dyn LinearOperator,
    precision: Precision,
    n: usize,
    labels: &Matrix<f64>,
    k: usize,
    kp: usize,
    b: usize,
    m_cap: usize,
    rtol: f64,
    seed: u64,
    show: bool,
) -> Result<Spectrum> {
    let mut rng = crate::rng::stream(seed, "large-n block lanczos start");
    let nl = labels.cols();
    // When the basis may reach R^n (cap plus one block beyond n, small n or k near n),
    // a block could need more new directions than remain, and orthonormalizing rounding
    // noise would corrupt T: take the whole space as the one block instead (Q = I, so
    // T = K exactly and the spectrum is the operator's, from n product columns).
    let whole = m_cap + b > n;
    let start = if whole {
        Matrix::from_fn(n, n, |i, j| if i == j { 1.0 } else { 0.0 })
    } else {
        Matrix::from_fn(n, b, |i, j| {
            if j < nl {
                labels.get(i, j)
            } else {
                crate::rng::normal(&mut rng)
            }
        })
    };
    let (q0, _) = orthonormalize(start, &[] as &[Matrix<f64>], 0.0, &mut rng)?;
    let mut basis = Basis::new(n, if whole { n } else { m_cap.max(kp + b) });
    basis.push(&q0);
    // the current block: columns oj..oj + bj of the basis
    let (mut oj, mut bj) = (0usize, q0.cols());
    drop(q0);
    let mut t = Matrix::zeros(basis.cap, basis.cap);
    let bar = progress_bar(m_cap as u64, "top-k eigenpairs (block Lanczos)", show);
    let mut scale = 0.0f64;
    let mut next_check = kp;
    let mut restarts = 0usize;
    let mut products = 0usize;
    let result: (Vec<f64>, Matrix<f64>, Vec<f64>, bool);
    loop {
        check_interrupt()?;
        let w = product(op, precision, &basis.cols(oj, bj), false)?;
        products += bj;
        if scale == 0.0 {
            scale = crate::linalg::norm2(w.as_slice()).max(f64::MIN_POSITIVE);
        }
        let _pt = ProfTimer::new("lanczos: block recurrence (GS)");
        // the coefficients QᵀKQ_j (a column block of T) and Z = KQ_j − Q(QᵀKQ_j)
        let mut z = w;
        let c = basis.proj(&z)?;
        basis.sub(&mut z, &c)?;
        let m = basis.m;
        for a in 0..m {
            for bb in 0..bj {
                let v = c.get(a, bb);
                t.set(a, oj + bb, v);
                t.set(oj + bb, a, v);
            }
        }
        // symmetrize the diagonal block (rounding of the f32/f64 product)
        for a in 0..bj {
            for bb in 0..a {
                let v = 0.5 * (t.get(oj + a, oj + bb) + t.get(oj + bb, oj + a));
                t.set(oj + a, oj + bb, v);
                t.set(oj + bb, oj + a, v);
            }
        }
        drop(_pt);
        debug_assert_eq!(m, oj + bj);
        bar.set_position(m as u64);
        // Z = (I − QQᵀ)KQ_j = Q_{j+1} R_{j+1}: the next block and the residuals
        let (qn, rn) = if m >= n {
            (Matrix::zeros(n, 0), Matrix::zeros(0, bj))
        } else {
            prof("lanczos: orthonormalize", || {
                orthonormalize(z, &basis, 1e-13 * scale, &mut rng)
            })?
        };
        let full = m >= n;
        let at_cap = !full && m + qn.cols() > m_cap;
        if m >= next_check || full || at_cap {
            let tm = Matrix::from_fn(m, m, |a, bb| t.get(a, bb));
            let eig = prof("lanczos: eig of T", || sym_eigen(&tm))?;
            let theta1 = eig.values[0].abs().max(f64::MIN_POSITIVE);
            // ‖Kx_i − θ_i x_i‖ = ‖R_{j+1} u_i[last block]‖ (zero once the basis is R^n)
            let res: Vec<f64> = (0..kp.min(m))
                .map(|i| {
                    let mut s = 0.0;
                    for a in 0..rn.rows() {
                        let mut v = 0.0;
                        for bb in 0..bj {
                            v += rn.get(a, bb) * eig.vectors.get(oj + bb, i);
                        }
                        s += v * v;
                    }
                    s.sqrt()
                })
                .collect();
            let ok = m >= kp && res.iter().take(k).all(|&r| r <= rtol * theta1);
            if ok || full || (at_cap && restarts >= MAX_RESTARTS) {
                result = (eig.values, eig.vectors, res, ok || full);
                break;
            }
            if at_cap {
                // Thick restart (block Krylov–Schur): keep the top k' Ritz vectors
                // X (T = diag θ there) and the next block; the coupling XᵀKQ_{j+1}
                // is computed from the next product like every other entry of T.
                restarts += 1;
                let x = prof("lanczos: ritz vectors", || basis.times(&eig.vectors, kp))?;
                t = Matrix::zeros(basis.cap, basis.cap);
                for i in 0..kp {
                    t.set(i, i, eig.values[i]);
                }
                basis.m = 0;
                basis.push(&x);
                basis.push(&qn);
                (oj, bj) = (kp, qn.cols());
                next_check = kp + b;
                continue;
            }
            next_check = (m + m / 5).max(m + b);
        }
        basis.push(&qn);
        (oj, bj) = (m, qn.cols());
    }
    bar.finish_and_clear();
    let (theta, u, res, converged) = result;
    let m = theta.len();
    let kp = kp.min(m);
    // the basis may hold the unused next block beyond m
    basis.m = m;
    let vecs = prof("lanczos: ritz vectors", || basis.times(&u, kp))?;
    // Quadrature weights of the tail Ritz pairs: (u_jᵀ Qᵀ y)².
    let qty = basis.proj(labels)?;
    let tail_vals: Vec<f64> = theta[kp..].to_vec();
    let mut tail_weights = vec![Vec::with_capacity(m - kp); nl];
    for jj in kp..m {
        for (l, tw) in tail_weights.iter_mut().enumerate() {
            let s: f64 = (0..m).map(|a| u.get(a, jj) * qty.get(a, l)).sum();
            tw.push(s * s);
        }
    }
    Ok(Spectrum {
        vals: theta[..kp].to_vec(),
        vecs,
        resid: res,
        tail_vals,
        tail_weights,
        converged,
        basis: m,
        products,
    })
}

/// Most thick restarts of block Lanczos before it reports non-convergence.
pub(super) const MAX_RESTARTS: usize = 30;

/// Largest eigenvalue of a symmetric positive operator by `steps` of Lanczos
/// with full reorthogonalization (an estimate from below that converges fast).
pub fn lanczos_largest(
    n: usize,
    steps: usize,
    seed: u64,
    mut apply: impl FnMut(&[f64]) -> Result<Vec<f64>>,
) -> Result<f64> {
    let mut rng = crate::rng::stream(seed, "large-n lanczos lambda_min");
    let mut q: Vec<f64> = (0..n).map(|_| crate::rng::normal(&mut rng)).collect();
    let nq = crate::linalg::norm2(&q);
    q.iter_mut().for_each(|v| *v /= nq);
    let mut basis: Vec<Vec<f64>> = vec![q];
    let mut alpha = Vec::new();
    let mut beta: Vec<f64> = Vec::new();
    for _ in 0..steps.min(n) {
        check_interrupt()?;
        let qj = basis.last().expect("basis starts non-empty").clone();
        let mut w = apply(&qj)?;
        alpha.push(dotv(&w, &qj));
        for _ in 0..2 {
            for b in &basis {
                let c = dotv(&w, b);
                w.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
            }
        }
        let nb = crate::linalg::norm2(&w);
        if nb <= 1e-14 * alpha[0].abs() || basis.len() == n {
            break;
        }
        beta.push(nb);
        w.iter_mut().for_each(|x| *x /= nb);
        basis.push(w);
    }
    let m = alpha.len();
    let t = Matrix::from_fn(m, m, |i, j| {
        if i == j {
            alpha[i]
        } else if i + 1 == j || j + 1 == i {
            beta[i.min(j)]
        } else {
            0.0
        }
    });
    Ok(sym_eigenvalues(&t)?[0])
}
