//! The large-n path of gradient-descent predictions: no eigendecomposition of the
//! n × n kernel, only products with it through the large-n solvers'
//! [`LinearOperator`] (a stored matrix, or tiles recomputed from the inputs).
//!
//! With K' = K + ridge·I and R = Y − f₀(X), the parent module's outputs need e_t(K')R
//! and g_t(K')R for every time t. They are computed in one subspace
//! W = [V, Q₁, …, Q_j] (orthonormal, n × m):
//!
//! 1. **Top-k deflation.** V holds the top k' Ritz vectors of K from the large-n block
//!    Lanczos ([`crate::theory::large_n`], started from R). They enter W exactly, so
//!    the directions of the largest eigenvalues — where e^{−ηtK'} varies fastest and
//!    gradient descent first fits the labels — are represented with no Krylov error.
//! 2. **The remaining space.** Block Lanczos on K' with full reorthogonalization
//!    against W (the large-n `orthonormalize`), started from R with V projected out,
//!    adds Q₁, Q₂, …; T = Wᵀ K' W is assembled from the products (its V block is
//!    diag(θ + ridge), exact since V = Q_L U for the Lanczos basis Q_L with T_L U = U Θ).
//!    The Galerkin approximation f(K')R ≈ W f(T) WᵀR (Golub & Meurant, *Matrices,
//!    Moments and Quadrature*, ch. 7) is exact once W is invariant; one subspace serves
//!    every t and every output. For f = 1/λ (t = ∞, kernel ridge regression) it is the
//!    block CG iterate, deflated of the top k'.
//! 3. **t = ∞ on a stored kernel**: an f64 Cholesky factorization of K' instead
//!    (sequential, so bit-identical at any thread count).
//!
//! The residual K'V − VΘ of the Ritz vectors is not in W, so it sets a floor under the
//! achievable accuracy: the top-k phase runs to a relative Ritz residual of `tol`
//! (clamped to [1e-10, 1e-3]). The subspace phase runs on a pool of [`KRYLOV_THREADS`]
//! threads whatever `RAYON_NUM_THREADS` is: the dense GEMMs and QR factorizations split
//! their work by the pool's size, so the results are bit-identical at any thread count.
//!
//! **Accuracy, reported per time and output (`achieved_rel_error`).** Since W is
//! orthonormal, the change of W f(T)WᵀR between the subspace now and the one
//! [`CHECK_EVERY`] blocks earlier is the norm of the change of its coefficients; that
//! change relative to the approximation is the estimate, and for t = ∞ it is raised to
//! the residual bound ‖R − K'Z‖/(θ_min‖Z‖) (the residual from the block recurrence,
//! θ_min the smallest Ritz value). The iteration stops when every estimate is below
//! `tol`. The Cholesky solve reports the change one step of iterative refinement makes.

use super::{check_shape, Dynamics, GdPrediction};
use crate::error::{Error, Result};
use crate::kernels::tile::{TileElem, TileKernel, TILE};
use crate::linalg::{gemm_into, matmul, norm2, sym_eigen, Cholesky, Matrix};
use crate::runtime::{check_interrupt, progress_bar};
use crate::theory::large_n::krylov::{block_lanczos, orthonormalize, Basis, ProjectOut};
use crate::theory::large_n::operator::{LinearOperator, Precision};
use rayon::prelude::*;

/// Block steps between convergence checks (and the lag of the error estimate).
pub const CHECK_EVERY: usize = 4;

/// Threads of the subspace phase, whatever RAYON_NUM_THREADS says (see the module docs).
pub const KRYLOV_THREADS: usize = 8;

/// Settings of the large-n path.
#[derive(Clone, Debug)]
pub struct KrylovConfig {
    /// Requested relative accuracy of every prediction.
    pub tol: f64,
    /// Top eigenpairs deflated (at most n/4 are used; none below n = 100).
    pub top_k: usize,
    /// Most columns of the Krylov basis beyond the top-k vectors.
    pub max_basis: usize,
    /// Seed of the random part of the top-k phase's starting block.
    pub seed: u64,
    /// Progress bars (with ETA) on stderr.
    pub show_progress: bool,
}

impl Default for KrylovConfig {
    fn default() -> Self {
        KrylovConfig {
            tol: 1e-6,
            top_k: 50,
            max_basis: 3000,
            seed: 0,
            show_progress: false,
        }
    }
}

/// The test–train kernel K(X*, X), as a stored matrix or as tiles.
#[derive(Clone, Copy)]
pub enum TestKernel<'a> {
    /// n* × n, stored.
    Dense(&'a Matrix<f64>),
    /// Rows `n_train..` and columns `..n_train` of a kernel on the stacked inputs
    /// [X; X*], recomputed tile by tile at the product.
    Tiles {
        /// The kernel on [X; X*].
        kernel: &'a dyn TileKernel,
        /// n.
        n_train: usize,
    },
}

impl TestKernel<'_> {
    /// n*.
    pub fn rows(&self) -> usize {
        match self {
            TestKernel::Dense(m) => m.rows(),
            TestKernel::Tiles { kernel, n_train } => kernel.n() - n_train,
        }
    }

    /// n.
    pub fn cols(&self) -> usize {
        match self {
            TestKernel::Dense(m) => m.cols(),
            TestKernel::Tiles { n_train, .. } => *n_train,
        }
    }

    /// K(X*, X) Z for Z n × b. The tiled form computes TILE rows at a time (in
    /// parallel; each row's bits depend on nothing but the row), with progress and
    /// interrupt checks per row block.
    pub fn apply(&self, z: &Matrix<f64>, show: bool) -> Result<Matrix<f64>> {
        match self {
            TestKernel::Dense(m) => matmul(m.view(), z.view()),
            TestKernel::Tiles { kernel, n_train } => {
                let (n, ns, b) = (*n_train, self.rows(), z.cols());
                let chunks = ns.div_ceil(TILE);
                let bar = progress_bar(chunks as u64, "test-train products", show);
                let parts: Vec<Matrix<f64>> = (0..chunks)
                    .into_par_iter()
                    .map(|ci| -> Result<Matrix<f64>> {
                        check_interrupt()?;
                        let r0 = n + ci * TILE;
                        let r1 = (r0 + TILE).min(n + ns);
                        let mut out = Matrix::zeros(r1 - r0, b);
                        let mut buf = vec![];
                        for c0 in (0..n).step_by(8 * TILE) {
                            let c1 = (c0 + 8 * TILE).min(n);
                            buf.resize((r1 - r0) * (c1 - c0), 0.0);
                            f64::tile(*kernel, r0..r1, c0..c1, &mut buf)?;
                            let kv = crate::linalg::View::row_major(&buf, r1 - r0, c1 - c0)?;
                            let zr = z.select_rows(&(c0..c1).collect::<Vec<_>>());
                            gemm_into(&mut out, kv, zr.view(), 1.0, true)?;
                        }
                        bar.inc(1);
                        Ok(out)
                    })
                    .collect::<Result<_>>()?;
                bar.finish_and_clear();
                let mut data = Vec::with_capacity(ns * b);
                for p in parts {
                    data.extend(p.into_vec());
                }
                Matrix::from_vec(ns, b, data)
            }
        }
    }
}

/// Predictions of the large-n path with their estimated accuracy.
#[derive(Clone, Debug)]
pub struct KrylovPrediction {
    /// The predictions (`eig_range`: the smallest and largest Ritz values of K').
    pub prediction: GdPrediction,
    /// Estimated relative error of g(K')R (the test outputs' change) per time (rows)
    /// and output (columns).
    pub achieved_rel_error: Vec<Vec<f64>>,
    /// Top eigenpairs deflated (k' of the block Lanczos phase).
    pub top_k: usize,
    /// Columns of the Krylov basis beyond them.
    pub basis: usize,
    /// How t = ∞ was computed: "cholesky", "krylov", or "" (no t = ∞).
    pub infinite_time: String,
    /// Whether every estimate met `tol`.
    pub converged: bool,
}

/// Gradient flow / descent predictions (as [`super::gradient_descent_mse`]) on the
/// large-n path: `op` is the n × n training kernel (without the ridge), `stored` the same
/// kernel when it is held in f64 (t = ∞ is then a Cholesky solve), `test` the test–train
/// kernel, `f0_train`/`f0_test` the initial outputs (zero when `None`).
#[allow(clippy::too_many_arguments)]
pub fn gradient_descent_mse_krylov(
    op: &(dyn LinearOperator + Sync),
    stored: Option<&Matrix<f64>>,
    y_train: &Matrix<f64>,
    test: Option<&TestKernel<'_>>,
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
    if cfg.max_basis < 1 {
        return Err(Error::invalid("max_basis", "must be at least 1"));
    }
    let n = op.size();
    if let Some(s) = stored {
        check_shape("k_train", s, Some((n, "training points")), None)?;
    }
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
    match test {
        Some(k) => {
            if k.cols() != n {
                return Err(Error::Shape(format!(
                    "k_test_train has {} columns, expected {n} (training points)",
                    k.cols()
                )));
            }
            if let Some(f) = f0_test {
                check_shape(
                    "f0_test",
                    f,
                    Some((k.rows(), "test points")),
                    Some((c, "outputs")),
                )?;
            }
        }
        None if f0_test.is_some() => {
            return Err(Error::invalid(
                "f0_test",
                "initial test outputs need the test-train kernel k_test_train",
            ))
        }
        None => {}
    }
    let norm = dynamics.loss_norm.value(n, c);
    let ridge = dynamics.ridge;
    let times = &dynamics.times;
    let nt = times.len();

    // R = Y − f₀(X)
    let mut r = y_train.clone();
    if let Some(f) = f0_train {
        for (a, b) in r.as_mut_slice().iter_mut().zip(f.as_slice()) {
            *a -= b;
        }
    }
    // which times the subspace serves, and t = ∞ by Cholesky
    let by_chol = |t: f64| t.is_infinite() && stored.is_some();
    let krylov_times: Vec<usize> = (0..nt).filter(|&i| !by_chol(times[i])).collect();
    let any_inf = times.iter().any(|t| t.is_infinite());

    let mut z_all = vec![Matrix::zeros(n, c); nt]; // g_t(K')R
    let mut e_all = vec![Matrix::zeros(n, c); nt]; // e_t(K')R
    let mut achieved = vec![vec![0.0; c]; nt];
    let mut converged = true;
    let (mut kp, mut basis_cols) = (0, 0);
    let mut range = (f64::NAN, f64::NAN);
    let r_zero = r.as_slice().iter().all(|v| *v == 0.0);

    if !krylov_times.is_empty() && !r_zero {
        // A fixed pool: the GEMMs and QR factorizations of the subspace split their
        // work by the pool's size, so a fixed size makes the bits independent of
        // RAYON_NUM_THREADS (the tile products are deterministic at any size).
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(KRYLOV_THREADS)
            .build()
            .map_err(|e| Error::Numerical(format!("the Krylov thread pool: {e}")))?;
        let kd = pool.install(|| Krylov::run(op, &r, dynamics, &krylov_times, norm, cfg))?;
        for (&ti, (z, e)) in krylov_times.iter().zip(kd.z.into_iter().zip(kd.e)) {
            z_all[ti] = z;
            e_all[ti] = e;
        }
        for (&ti, a) in krylov_times.iter().zip(kd.achieved) {
            achieved[ti] = a;
        }
        (kp, basis_cols, converged, range) = (kd.top_k, kd.basis, kd.converged, kd.range);
    }
    if let (Some(k), true) = (stored, any_inf && !r_zero) {
        let (z, acc) = cholesky_solve(k, ridge, &r)?;
        for ti in (0..nt).filter(|&i| times[i].is_infinite()) {
            z_all[ti] = z.clone();
            achieved[ti] = acc.clone();
            converged &= acc.iter().all(|e| *e <= cfg.tol);
        }
    }

    // train outputs f_t(X) = Y − e_t(K')R
    let train: Vec<Matrix<f64>> = e_all
        .iter()
        .map(|e| {
            let mut f = y_train.clone();
            for (a, b) in f.as_mut_slice().iter_mut().zip(e.as_slice()) {
                *a -= b;
            }
            f
        })
        .collect();
    // test outputs f_t(X*) = f₀(X*) + K(X*, X) g_t(K')R, one product for every time
    let test_out = match test {
        None => None,
        Some(k) => {
            let zs = Matrix::from_fn(n, nt * c, |i, j| z_all[j / c].get(i, j % c));
            let kz = k.apply(&zs, cfg.show_progress)?;
            let m = k.rows();
            Some(
                (0..nt)
                    .map(|ti| {
                        Matrix::from_fn(m, c, |i, j| {
                            f0_test.map_or(0.0, |f| f.get(i, j)) + kz.get(i, ti * c + j)
                        })
                    })
                    .collect(),
            )
        }
    };
    Ok(KrylovPrediction {
        prediction: GdPrediction {
            times: times.clone(),
            train,
            test: test_out,
            eig_range: range,
        },
        achieved_rel_error: achieved,
        top_k: kp,
        basis: basis_cols,
        infinite_time: match (any_inf, stored.is_some()) {
            (false, _) => String::new(),
            (true, true) => "cholesky".into(),
            (true, false) => "krylov".into(),
        },
        converged,
    })
}

/// Z = K'⁻¹R by an f64 Cholesky factorization of K' = K + ridge·I, with the relative
/// change per column of one step of iterative refinement as its accuracy.
fn cholesky_solve(k: &Matrix<f64>, ridge: f64, r: &Matrix<f64>) -> Result<(Matrix<f64>, Vec<f64>)> {
    let what = "k_train + ridge*I (needed at t = inf)";
    let shifted;
    let kr = if ridge != 0.0 {
        let mut m = k.clone();
        for i in 0..m.rows() {
            m.set(i, i, m.get(i, i) + ridge);
        }
        shifted = m;
        &shifted
    } else {
        k
    };
    let ch = Cholesky::new(kr, what)?;
    let (n, c) = r.shape();
    let mut z = Matrix::zeros(n, c);
    for j in 0..c {
        check_interrupt()?;
        let col: Vec<f64> = (0..n).map(|i| r.get(i, j)).collect();
        for (i, v) in ch.solve(&col)?.into_iter().enumerate() {
            z.set(i, j, v);
        }
    }
    // one refinement step: d = K'⁻¹(R − K'Z); its size relative to Z is the error
    let mut res = r.clone();
    gemm_into(&mut res, kr.view(), z.view(), -1.0, true)?;
    let mut acc = vec![0.0; c];
    for (j, a) in acc.iter_mut().enumerate() {
        let col: Vec<f64> = (0..n).map(|i| res.get(i, j)).collect();
        let d = ch.solve(&col)?;
        let zn = norm2(&(0..n).map(|i| z.get(i, j)).collect::<Vec<_>>());
        *a = if zn > 0.0 { norm2(&d) / zn } else { norm2(&d) };
    }
    Ok((z, acc))
}

/// What the subspace phase returns, for the times it serves (in their order).
struct Krylov {
    z: Vec<Matrix<f64>>,
    e: Vec<Matrix<f64>>,
    achieved: Vec<Vec<f64>>,
    top_k: usize,
    basis: usize,
    converged: bool,
    range: (f64, f64),
}

/// Coefficients in W of g_t(K')R and e_t(K')R for each served time, T's extreme
/// eigenvalues, and for t = ∞ the residual factor (the last block's rows of the
/// coefficients).
struct Coeffs {
    g: Vec<Matrix<f64>>,
    e: Vec<Matrix<f64>>,
    range: (f64, f64),
}

impl Krylov {
    fn run(
        op: &(dyn LinearOperator + Sync),
        r: &Matrix<f64>,
        dynamics: &Dynamics,
        served: &[usize],
        norm: f64,
        cfg: &KrylovConfig,
    ) -> Result<Krylov> {
        let (n, c) = r.shape();
        let ridge = dynamics.ridge;
        let times: Vec<f64> = served.iter().map(|&i| dynamics.times[i]).collect();
        let show = cfg.show_progress;
        let mut rng = crate::rng::stream(cfg.seed, "predict krylov basis");
        // 1. the top k' Ritz pairs of K (block Lanczos of the large-n solvers)
        let k = if n >= 100 { cfg.top_k.min(n / 4) } else { 0 };
        let (vals, vecs) = if k > 0 {
            let kp = (k + (k / 10).max(8)).min(n);
            let b = (kp / 4).clamp(8, 64).max(c + 4).min(n);
            let m_cap = (4 * kp).max(kp + 6 * b).min(n);
            let s = block_lanczos(
                op,
                Precision::F64,
                n,
                r,
                k,
                kp,
                b,
                m_cap,
                // the Ritz residual of V bounds what the subspace can reach (V enters
                // W exactly, but K'V − VΘ does not), so V is made as accurate as asked
                cfg.tol.clamp(1e-10, 1e-3),
                cfg.seed,
                show,
            )?;
            (s.vals, s.vecs)
        } else {
            (vec![], Matrix::zeros(n, 0))
        };
        let kp = vals.len();
        let cap = (kp + cfg.max_basis).min(n);
        let mut basis = Basis::new(n, cap);
        let mut t = Matrix::zeros(cap, cap);
        if kp > 0 {
            basis.push(&vecs);
            for (i, v) in vals.iter().enumerate() {
                t.set(i, i, v + ridge);
            }
        }
        drop(vecs);
        // 2. the first block: R with V projected out
        let scale_r = norm2(r.as_slice()).max(f64::MIN_POSITIVE);
        let mut z0 = r.clone();
        basis.project_out(&mut z0)?;
        let (q1, _) = orthonormalize(z0, &basis, 1e-14 * scale_r, &mut rng)?;
        let full0 = basis.len() >= n;
        if !full0 {
            basis.push(&q1);
        }
        // WᵀR: R lies in span(V, Q₁)
        let wr0 = basis.proj(r)?;
        let (mut oj, mut bj) = (kp, if full0 { 0 } else { q1.cols() });
        drop(q1);
        let bar = progress_bar(cap as u64, "matrix functions (block Lanczos)", show);
        let mut prev: Option<Vec<Matrix<f64>>> = None;
        let mut achieved = vec![vec![f64::INFINITY; c]; times.len()];
        let mut steps = 0usize;
        let mut scale = 0.0f64;
        loop {
            let m = basis.len();
            let (rn, full, at_cap) = if bj == 0 {
                (Matrix::zeros(0, 0), true, false)
            } else {
                check_interrupt()?;
                let qj = basis.cols(oj, bj);
                let mut w = op.apply_f64(&qj, false)?;
                if ridge != 0.0 {
                    for (a, q) in w.as_mut_slice().iter_mut().zip(qj.as_slice()) {
                        *a += ridge * q;
                    }
                }
                if scale == 0.0 {
                    scale = norm2(w.as_slice()).max(f64::MIN_POSITIVE);
                }
                // the column block WᵀK'Q_j of T, and K'Q_j − W(WᵀK'Q_j)
                let cc = basis.proj(&w)?;
                basis.sub(&mut w, &cc)?;
                for a in 0..m {
                    for bb in 0..bj {
                        t.set(a, oj + bb, cc.get(a, bb));
                        t.set(oj + bb, a, cc.get(a, bb));
                    }
                }
                for a in 0..bj {
                    for bb in 0..a {
                        let v = 0.5 * (t.get(oj + a, oj + bb) + t.get(oj + bb, oj + a));
                        t.set(oj + a, oj + bb, v);
                        t.set(oj + bb, oj + a, v);
                    }
                }
                steps += 1;
                bar.set_position(m as u64);
                if m >= n {
                    (Matrix::zeros(0, bj), true, false)
                } else if m + bj > cap {
                    (Matrix::zeros(0, bj), false, true)
                } else {
                    let (qn, rn) = orthonormalize(w, &basis, 1e-13 * scale, &mut rng)?;
                    basis.push(&qn);
                    (rn, false, false)
                }
            };
            // the subspace of the check is the first m columns (the block just pushed,
            // if any, is the next one)
            let check = full || at_cap || steps.is_multiple_of(CHECK_EVERY);
            if check {
                let co = coefficients(&t, m, &wr0, dynamics, &times, norm)?;
                let mut ok = true;
                for (ti, est) in achieved.iter_mut().enumerate() {
                    let g = &co.g[ti];
                    for (j, slot) in est.iter_mut().enumerate() {
                        let gn = (0..m).map(|a| g.get(a, j).powi(2)).sum::<f64>().sqrt();
                        let rel = |d: f64| if gn > 0.0 { d / gn } else { d };
                        let mut e = if full {
                            0.0
                        } else if let Some(p) = &prev {
                            let pm = p[ti].rows();
                            let d2: f64 = (0..m)
                                .map(|a| {
                                    let pv = if a < pm { p[ti].get(a, j) } else { 0.0 };
                                    (g.get(a, j) - pv).powi(2)
                                })
                                .sum();
                            rel(d2.sqrt())
                        } else {
                            f64::INFINITY
                        };
                        if times[ti].is_infinite() && !full && rn.rows() > 0 {
                            // ‖R − K'Z‖ = ‖R_{j+1} (last block of the coefficients)‖
                            let mut s = 0.0;
                            for a in 0..rn.rows() {
                                let v: f64 =
                                    (0..bj).map(|bb| rn.get(a, bb) * g.get(oj + bb, j)).sum();
                                s += v * v;
                            }
                            e = e.max(rel(s.sqrt() / co.range.0));
                        }
                        *slot = e;
                        if e.is_nan() || e > cfg.tol {
                            ok = false;
                        }
                    }
                }
                if ok || full || at_cap {
                    bar.finish_and_clear();
                    // assemble W C for every time in one product each
                    let mut cg = Matrix::zeros(m, 2 * times.len() * c);
                    for (ti, (g, e)) in co.g.iter().zip(&co.e).enumerate() {
                        for a in 0..m {
                            for j in 0..c {
                                cg.set(a, 2 * ti * c + j, g.get(a, j));
                                cg.set(a, (2 * ti + 1) * c + j, e.get(a, j));
                            }
                        }
                    }
                    basis.truncate(m);
                    let mut wv = Matrix::zeros(n, 2 * times.len() * c);
                    gemm_into(&mut wv, basis.view()?, cg.view(), 1.0, false)?;
                    let pick = |off: usize| Matrix::from_fn(n, c, |i, j| wv.get(i, off + j));
                    return Ok(Krylov {
                        z: (0..times.len()).map(|ti| pick(2 * ti * c)).collect(),
                        e: (0..times.len()).map(|ti| pick((2 * ti + 1) * c)).collect(),
                        achieved,
                        top_k: kp,
                        basis: m - kp,
                        converged: ok,
                        range: co.range,
                    });
                }
                prev = Some(co.g);
            }
            let pushed = basis.len() - m;
            (oj, bj) = (m, pushed);
        }
    }
}

/// From T (its leading m × m block), the coefficients g_t(T)WᵀR and e_t(T)WᵀR for every
/// time and T's extreme eigenvalues (smallest, largest).
fn coefficients(
    t: &Matrix<f64>,
    m: usize,
    wr0: &Matrix<f64>,
    dynamics: &Dynamics,
    times: &[f64],
    norm: f64,
) -> Result<Coeffs> {
    let tm = Matrix::from_fn(m, m, |a, b| t.get(a, b));
    let eig = sym_eigen(&tm)?;
    let c = wr0.cols();
    // Uᵀ WᵀR (WᵀR is zero beyond its first rows)
    let wr = Matrix::from_fn(
        m,
        c,
        |a, j| if a < wr0.rows() { wr0.get(a, j) } else { 0.0 },
    );
    let ur = matmul(eig.vectors.t(), wr.view())?;
    let range = (eig.values[m - 1], eig.values[0]);
    let mut g = vec![];
    let mut e = vec![];
    for &tt in times {
        if tt.is_infinite() && range.0 <= 0.0 {
            return Err(Error::NotPositiveDefinite {
                what: "k_train + ridge*I (a Ritz value), needed at t = inf".into(),
                min_eig: range.0,
            });
        }
        let (ev, gv): (Vec<f64>, Vec<f64>) = eig
            .values
            .iter()
            .map(|&l| dynamics.factors(l, tt, norm))
            .unzip();
        let scale = |d: &[f64]| Matrix::from_fn(m, c, |i, j| d[i] * ur.get(i, j));
        g.push(matmul(eig.vectors.view(), scale(&gv).view())?);
        e.push(matmul(eig.vectors.view(), scale(&ev).view())?);
    }
    Ok(Coeffs { g, e, range })
}
