//! The spectral-cg preconditioner: the f32 kernel's inverse applied by an inner
//! CG on f32 products, and the measured trial that chooses it (or a Cholesky).

use super::blocks::{col, dotv};
use super::cg::tridiag_min;
use super::config::{LargeNConfig, PrecondChoice};
use super::krylov::Spectrum;
use super::operator::{product, stored_f32_product, LinearOperator, Precision};
use super::precond::{chol_in_place_f32, Precond};
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::runtime::check_interrupt;
use crate::runtime::profile::{prof, ProfTimer};

/// Most inner CG iterations per application of [`InnerCg`].
pub(super) const MAX_INNER: usize = 400;
/// Inner iterations of the measured trial that chooses the preconditioner.
pub(super) const TRIAL_INNER: usize = 30;
/// Applications of the preconditioner the outer solve is expected to need
/// (its first one, then one per outer iteration; two or three outer iterations
/// when the inner solve is accurate to √tol/10).
pub(super) const OUTER_APPLIES: f64 = 3.0;

/// The inverse of the stored f32 kernel K₃₂ applied approximately: CG on K₃₂
/// with f32 products (one GEMM over the stored kernel per iteration for every
/// column at once, memory bound) and f64 vectors, preconditioned by the top-k'
/// spectral deflation M_s = VΘVᵀ + σ(I − VVᵀ) of the Krylov phase. The outer
/// f64 CG is flexible (Polak–Ribière β) because this inverse is inexact.
///
/// λ_min: each inner run's CG coefficients give the Lanczos matrix of M_s⁻¹K₃₂;
/// its smallest Ritz value μ times λ_min(M_s) = σ estimates λ_min(K₃₂) (from
/// above as Ritz values do, but σ·λ_min(M_s⁻¹K₃₂) ≤ λ_min(K₃₂) is exact, so only
/// the Lanczos convergence is assumed, as for the Cholesky route's estimate).
/// The f64 kernel differs from the stored one by E = K − K₃₂ with
/// ‖E‖₂ ≤ ‖E‖_F ≈ n·rms(E_ij), the rms measured on sampled f64 tiles; the
/// estimate reported is λ_min(K₃₂) − 2n·rms(E_ij).
pub(super) struct InnerCg<'a> {
    pub(super) k: F32Kernel<'a>,
    pub(super) n: usize,
    pub(super) defl: Precond<'a>,
    pub(super) lam_defl: f64,
    pub(super) tol: f64,
    pub(super) max_it: usize,
    pub(super) e_bound: f64,
    pub(super) lam: std::cell::Cell<f64>,
    pub(super) products: std::cell::Cell<usize>,
    pub(super) unconverged: std::cell::Cell<usize>,
    /// Right-hand sides already solved (the labels, by the trial) and their solutions.
    pub(super) cache: std::cell::RefCell<Vec<(Vec<f64>, Vec<f64>)>>,
}

/// One inner run: the solutions, max_j ‖r_j‖/‖b_j‖ after each iteration, whether
/// every column reached the tolerance, seconds and iterations.
pub(super) struct InnerRun {
    x: Vec<Vec<f64>>,
    hist: Vec<f64>,
    converged: bool,
    secs: f64,
    iters: usize,
}

/// The f32 kernel the inner CG multiplies by: stored whole (the `f32` path,
/// owned so that the Cholesky route can take it back), or an operator's f32
/// products (the `matrix-free` path's tiles, held as far as the budget allows
/// and the rest recomputed in f32; or any [`LinearOperator`]).
pub(super) enum F32Kernel<'a> {
    Full(Vec<f32>),
    Op(&'a dyn LinearOperator),
}

impl F32Kernel<'_> {
    /// K₃₂ V (an interrupt checked first, timed when profiling).
    pub(super) fn product(&self, n: usize, v: &Matrix<f64>) -> Result<Matrix<f64>> {
        match self {
            F32Kernel::Full(k) => {
                check_interrupt()?;
                prof("product (stored f32)", || stored_f32_product(k, n, v))
            }
            F32Kernel::Op(op) => product(*op, Precision::F32, v, false),
        }
    }
}

impl InnerCg<'_> {
    pub(super) fn lambda_safe(&self) -> f64 {
        self.lam.get() - self.e_bound
    }

    /// CG for K₃₂x_j = b_j from x0 (or 0) until ‖r_j‖ ≤ tol·‖b_j‖ or `max_it`.
    pub(super) fn solve(
        &self,
        bs: &[Vec<f64>],
        x0: Option<&[Vec<f64>]>,
        max_it: usize,
    ) -> Result<InnerRun> {
        let _pt = ProfTimer::new("inner cg (f32 kernel)");
        let (n, c) = (self.n, bs.len());
        let t0 = std::time::Instant::now();
        let bnorm: Vec<f64> = bs.iter().map(|b| crate::linalg::norm2(b)).collect();
        let (mut x, mut r) = match x0 {
            Some(x0) => {
                let xm = Matrix::from_fn(n, c, |i, j| x0[j][i]);
                let kx = self.k.product(n, &xm)?;
                self.products.set(self.products.get() + c);
                let r = (0..c)
                    .map(|j| (0..n).map(|i| bs[j][i] - kx.get(i, j)).collect())
                    .collect();
                (x0.to_vec(), r)
            }
            None => (vec![vec![0.0; n]; c], bs.to_vec()),
        };
        let mut active: Vec<bool> = (0..c)
            .map(|j| bnorm[j] > 0.0 && crate::linalg::norm2(&r[j]) > self.tol * bnorm[j])
            .collect();
        let mut p = self.defl.apply_cols(&r)?;
        let mut rho: Vec<f64> = (0..c).map(|j| dotv(&r[j], &p[j])).collect();
        let (mut alphas, mut betas) = (vec![Vec::new(); c], vec![Vec::new(); c]);
        let mut hist = Vec::new();
        let mut iters = 0;
        while iters < max_it && active.iter().any(|a| *a) {
            check_interrupt()?;
            let idx: Vec<usize> = (0..c).filter(|&j| active[j]).collect();
            let pm = Matrix::from_fn(n, idx.len(), |i, a| p[idx[a]][i]);
            let w = self.k.product(n, &pm)?;
            self.products.set(self.products.get() + idx.len());
            iters += 1;
            for (a, &j) in idx.iter().enumerate() {
                let wj = col(&w, a);
                let pw = dotv(&p[j], &wj);
                if pw.is_nan() || pw <= 0.0 {
                    return Err(Error::IllConditioned {
                        what: "the stored f32 kernel (the inner CG of the spectral-cg \
                               preconditioner met p^T K p <= 0)"
                            .into(),
                        cond: f64::INFINITY,
                        achieved: f64::INFINITY,
                        tol: self.tol,
                    });
                }
                let alpha = rho[j] / pw;
                for i in 0..n {
                    x[j][i] += alpha * p[j][i];
                    r[j][i] -= alpha * wj[i];
                }
                alphas[j].push(alpha);
            }
            let rs: Vec<Vec<f64>> = idx.iter().map(|&j| r[j].clone()).collect();
            let us = self.defl.apply_cols(&rs)?;
            for (&j, u) in idx.iter().zip(us) {
                let rho_new = dotv(&r[j], &u);
                let beta = rho_new / rho[j];
                p[j].iter_mut()
                    .zip(&u)
                    .for_each(|(p, u)| *p = u + beta * *p);
                rho[j] = rho_new;
                betas[j].push(beta);
                if crate::linalg::norm2(&r[j]) <= self.tol * bnorm[j] {
                    active[j] = false;
                }
            }
            hist.push(
                (0..c)
                    .filter(|&j| bnorm[j] > 0.0)
                    .map(|j| crate::linalg::norm2(&r[j]) / bnorm[j])
                    .fold(0.0, f64::max),
            );
        }
        for j in 0..c {
            if alphas[j].len() >= 2 {
                let mu = tridiag_min(&alphas[j], &betas[j])?;
                self.lam.set(self.lam.get().min(mu * self.lam_defl));
            }
        }
        let converged = !active.iter().any(|a| *a);
        if !converged && max_it >= self.max_it {
            self.unconverged.set(self.unconverged.get() + 1);
        }
        Ok(InnerRun {
            x,
            hist,
            converged,
            secs: t0.elapsed().as_secs_f64(),
            iters,
        })
    }

    pub(super) fn apply_cols(&self, rs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        let mut out: Vec<Option<Vec<f64>>> = {
            let cache = self.cache.borrow();
            rs.iter()
                .map(|r| cache.iter().find(|(b, _)| b == r).map(|(_, x)| x.clone()))
                .collect()
        };
        let miss: Vec<usize> = (0..rs.len()).filter(|&j| out[j].is_none()).collect();
        if !miss.is_empty() {
            let bs: Vec<Vec<f64>> = miss.iter().map(|&j| rs[j].clone()).collect();
            let run = self.solve(&bs, None, self.max_it)?;
            for (&j, x) in miss.iter().zip(run.x) {
                out[j] = Some(x);
            }
        }
        Ok(out
            .into_iter()
            .map(|x| x.expect("every column solved or cached"))
            .collect())
    }
}

/// What the measured trial decided: the inner-CG preconditioner, or the f32
/// kernel handed back (for the Cholesky route when stored whole); plus a line
/// saying why.
pub(super) enum Trial<'a> {
    Spectral(Box<InnerCg<'a>>),
    Other(F32Kernel<'a>),
}

/// The spectral-cg preconditioner on the f32 path, or (in `auto`) the Cholesky
/// route when it is predicted faster: a trial of the inner CG on the labels and
/// a random probe for [`TRIAL_INNER`] iterations gives the iteration time and the
/// convergence rate, extrapolated to the inner tolerance; the Cholesky's cost is
/// a timed f32 Cholesky of the leading s × s block scaled by (n/s)³ plus the
/// triangular solves (about two passes over the factor each). An estimated
/// λ_min(K₃₂) not above the f32 rounding bound, or an extrapolation beyond
/// [`MAX_INNER`] iterations, means ill-conditioned: Cholesky in `auto`, the
/// [`Error::IllConditioned`] error when spectral-cg is forced. `f32_rms` is the
/// measured rms of K − K₃₂ per entry ([`LinearOperator::f32_entry_rms`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn spectral_cg_trial<'a>(
    f32_rms: f64,
    a: F32Kernel<'a>,
    spec: &Spectrum,
    ys: &Matrix<f64>,
    cfg: &LargeNConfig,
    theta1: f64,
    chol_shift: f64,
) -> Result<(Trial<'a>, String)> {
    let _pt = ProfTimer::new("spectral-cg trial");
    let (n, nl) = ys.shape();
    let forced = cfg.precond == PrecondChoice::SpectralCg;
    let e_bound = 2.0 * n as f64 * f32_rms;
    let sigma = *spec.vals.last().expect("k' >= 1");
    let lam_defl = spec.vals.iter().cloned().fold(sigma, f64::min);
    let ic = InnerCg {
        k: a,
        n,
        defl: Precond::Spectral {
            v: spec.vecs.clone(),
            vals: spec.vals.clone(),
            sigma,
        },
        lam_defl,
        tol: (0.1 * cfg.tol.sqrt()).clamp(1e-5, 1e-3),
        max_it: MAX_INNER,
        e_bound,
        lam: std::cell::Cell::new(f64::INFINITY),
        products: std::cell::Cell::new(0),
        unconverged: std::cell::Cell::new(0),
        cache: std::cell::RefCell::new(Vec::new()),
    };
    let mut rng = crate::rng::stream(cfg.seed, "large-n inner cg probe");
    let mut bs: Vec<Vec<f64>> = (0..nl).map(|l| col(ys, l)).collect();
    bs.push((0..n).map(|_| crate::rng::normal(&mut rng)).collect());
    let run = ic.solve(&bs, None, TRIAL_INNER)?;
    let t_it = run.secs / run.iters.max(1) as f64;
    // extrapolated iterations to the inner tolerance from the last ≤ 10 steps
    let h = &run.hist;
    let predicted = if run.converged {
        run.iters as f64
    } else {
        let w = 10.min(h.len().saturating_sub(1));
        if w == 0 {
            return Ok((Trial::Other(ic.k), "spectral-cg trial too short".into()));
        }
        let last = h[h.len() - 1];
        let rate = (last / h[h.len() - 1 - w].max(f64::MIN_POSITIVE)).powf(1.0 / w as f64);
        if rate < 1.0 && last > 0.0 {
            run.iters as f64 + (ic.tol / last).ln() / rate.ln()
        } else {
            f64::INFINITY
        }
    };
    let lam32 = ic.lam.get();
    let lam = ic.lambda_safe();
    let ill = lam.is_nan() || lam <= 0.0 || predicted > MAX_INNER as f64;
    let t_spec = t_it * ((predicted - run.iters as f64).max(0.0) + OUTER_APPLIES * predicted);
    let (t_chol, s) = match &ic.k {
        _ if forced || ill => (f64::NAN, 0),
        // no Cholesky without the whole kernel: the alternative is the spectral
        // preconditioner with f64 products, one f64 pass per outer iteration
        F32Kernel::Op(_) => (f64::INFINITY, 0),
        F32Kernel::Full(a) => {
            // a timed Cholesky of the leading s × s block, shifted like the route's
            let s = n.min(2048);
            let mut blk: Vec<f32> = (0..s * s).map(|x| a[(x / s) * n + x % s]).collect();
            for i in 0..s {
                blk[i * s + i] += chol_shift as f32;
            }
            let t = std::time::Instant::now();
            let _ = chol_in_place_f32(&mut blk, s);
            let ts = t.elapsed().as_secs_f64();
            (
                ts * (n as f64 / s as f64).powi(3) + (60.0 + 2.0 * OUTER_APPLIES) * t_it,
                s,
            )
        }
    };
    let tiles = matches!(ic.k, F32Kernel::Op(_));
    let chol = if s > 0 {
        format!("Cholesky of a {s}-block scaled to n: {t_chol:.1} s")
    } else if tiles {
        "no Cholesky (the kernel is held as tiles, not stored)".to_string()
    } else {
        "Cholesky not timed".to_string()
    };
    let note = format!(
        "spectral-cg trial: {} inner iterations at {t_it:.3} s, rel. residual {:.1e}, \
         extrapolated {predicted:.0} iterations to {:.0e} (predicted {t_spec:.1} s); \
         {chol}; lambda_min(K32) ~ {lam32:.3e}, f32 rounding bound {e_bound:.1e}",
        run.iters,
        h.last().copied().unwrap_or(0.0),
        ic.tol
    );
    if forced && ill {
        let cond = theta1 / lam.max(e_bound).max(f64::MIN_POSITIVE);
        // the alternative: the f32 Cholesky where the kernel is stored, else the
        // spectral preconditioner with f64 products that auto falls back to
        let (kernel, alt) = if tiles {
            (
                "f32 tiles",
                "use --precond auto (spectral preconditioner, f64 products)",
            )
        } else {
            ("stored f32 kernel", "use --precond cholesky")
        };
        return Err(Error::IllConditioned {
            what: format!("the {kernel} for the spectral-cg preconditioner ({note}); {alt}"),
            cond,
            achieved: f64::INFINITY,
            tol: cfg.tol,
        });
    }
    if !forced && (ill || t_chol <= t_spec) {
        return Ok((Trial::Other(ic.k), note));
    }
    // finish the labels' solves from the trial's iterates; they are the outer
    // solve's first preconditioner application
    let xl: Vec<Vec<f64>> = run.x[..nl].to_vec();
    let sol = if h.last().is_some_and(|&r| r <= ic.tol) {
        xl
    } else {
        ic.solve(&bs[..nl], Some(&xl), MAX_INNER)?.x
    };
    *ic.cache.borrow_mut() = bs.into_iter().take(nl).zip(sol).collect();
    Ok((Trial::Spectral(Box::new(ic)), note))
}
