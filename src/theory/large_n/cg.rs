//! The outer preconditioned conjugate gradients for yᵀK⁻¹y (flexible with the
//! inner-CG preconditioner) and the f64 passes it shares with the refinement.

use super::blocks::{col, dotv};
use super::operator::{product, LinearOperator, Precision};
use super::precond::Precond;
use super::refine::Refine;
use crate::error::{Error, Result};
use crate::linalg::{sym_eigenvalues, Matrix};

pub(super) struct CgOut {
    pub(super) q: f64,
    pub(super) rel_err: f64,
    pub(super) lambda_min: f64,
    pub(super) iters: usize,
}

pub fn tridiag_min(alpha: &[f64], beta: &[f64]) -> Result<f64> {
    // Lanczos matrix of the preconditioned operator from CG's coefficients.
    let m = alpha.len();
    let t = Matrix::from_fn(m, m, |i, j| {
        if i == j {
            1.0 / alpha[i]
                + if i > 0 {
                    beta[i - 1] / alpha[i - 1]
                } else {
                    0.0
                }
        } else if i + 1 == j || j + 1 == i {
            let a = i.min(j);
            beta[a].sqrt() / alpha[a]
        } else {
            0.0
        }
    });
    Ok(*sym_eigenvalues(&t)?
        .last()
        .expect("a non-empty tridiagonal matrix has eigenvalues"))
}

/// Preconditioned CG for K z_l = y_l, all labels at once, as a state machine
/// driven by [`f64_passes`]: every pass multiplies K by the search directions
/// and by the current iterates together (one tile recomputation for both), so
/// the residual r = y − Kz is re-anchored to a direct f64 product every pass
/// and the convergence test ‖r‖²/(λ̂_min q) ≤ tol needs no extra product: after
/// the update z' = z + αp the residual y − Kz − αKp is the true residual of z'
/// up to one axpy's rounding.
pub(super) struct Cg<'a> {
    pre: &'a Precond<'a>,
    y: Vec<Vec<f64>>,
    z: Vec<Vec<f64>>,
    r: Vec<Vec<f64>>,
    p: Vec<Vec<f64>>,
    rho: Vec<f64>,
    alphas: Vec<Vec<f64>>,
    betas: Vec<Vec<f64>>,
    iters: Vec<usize>,
    done: Vec<Option<CgOut>>,
    nl: usize,
    lam: f64,
    lam_m: f64,
    tol: f64,
    probe_live: bool,
    /// A label's direction had pᵀKp ≤ 0: K is not positive definite (numerically).
    broke: bool,
    passes: usize,
    max_iter: usize,
    /// The columns of the pending product: (column kind, label index).
    cols: Vec<(bool, usize)>,
    /// Flexible CG (the inner-CG preconditioner is inexact and varies): α = pᵀr/pᵀKp,
    /// Polak–Ribière β = uᵀ(r − r_prev)/ρ_prev, λ_min from the preconditioner.
    flex: bool,
    /// The residuals the preconditioner was last applied to (flexible CG).
    r_prev: Vec<Vec<f64>>,
}

impl<'a> Cg<'a> {
    pub(super) fn new(
        pre: &'a Precond<'a>,
        ys: &Matrix<f64>,
        lam_m: f64,
        tol: f64,
        max_iter: usize,
        seed: u64,
    ) -> Result<Self> {
        let (n, nl) = ys.shape();
        // Column nl is a random probe: its CG recurrence estimates λ_min for every
        // direction, including near-null ones the labels happen to miss (a label
        // vector orthogonal to a near-duplicate direction must not hide it).
        let mut rng = crate::rng::stream(seed, "large-n cg probe");
        let mut y: Vec<Vec<f64>> = (0..nl).map(|l| col(ys, l)).collect();
        y.push((0..n).map(|_| crate::rng::normal(&mut rng)).collect());
        let nc = nl + 1;
        let r = y.clone();
        let flex = pre.inner_lambda().is_some();
        let u = if flex {
            // no probe: λ_min comes from the inner CG's own Lanczos coefficients
            let mut u = pre.apply_cols(&r[..nl])?;
            u.push(vec![0.0; n]);
            u
        } else {
            pre.apply_cols(&r)?
        };
        let rho = (0..nc).map(|l| dotv(&r[l], &u[l])).collect();
        Ok(Cg {
            flex,
            r_prev: if flex { r.clone() } else { Vec::new() },
            pre,
            z: vec![vec![0.0; n]; nc],
            r,
            p: u,
            rho,
            alphas: vec![Vec::new(); nc],
            betas: vec![Vec::new(); nc],
            iters: vec![0; nc],
            done: (0..nc).map(|_| None).collect(),
            y,
            nl,
            lam: pre.inner_lambda().unwrap_or(f64::INFINITY),
            lam_m,
            tol,
            probe_live: !flex,
            broke: false,
            passes: 0,
            max_iter,
            cols: Vec::new(),
        })
    }

    pub(super) fn estimate(q: f64, rr: f64, lam: f64) -> f64 {
        if q > 0.0 && lam > 0.0 {
            rr / (lam * q)
        } else {
            f64::INFINITY
        }
    }

    /// The vectors K must multiply next (directions, then iterates), or `None`
    /// when every label is done, K broke definiteness, or the pass cap is reached.
    pub(super) fn wants(&mut self) -> Option<Vec<&[f64]>> {
        self.cols.clear();
        let nl = self.nl;
        let active: Vec<usize> = (0..nl).filter(|&l| self.done[l].is_none()).collect();
        if active.is_empty() || self.broke || self.passes >= self.max_iter {
            return None;
        }
        for &l in &active {
            self.cols.push((true, l));
        }
        if self.probe_live {
            self.cols.push((true, nl));
        }
        for &l in &active {
            if self.iters[l] > 0 {
                self.cols.push((false, l));
            }
        }
        Some(
            self.cols
                .iter()
                .map(|&(dir, l)| {
                    if dir {
                        self.p[l].as_slice()
                    } else {
                        self.z[l].as_slice()
                    }
                })
                .collect(),
        )
    }

    /// Takes the products of the columns [`Cg::wants`] returned, in that order.
    pub(super) fn absorb(&mut self, prods: &[Vec<f64>]) -> Result<()> {
        self.passes += 1;
        let nl = self.nl;
        let cols = std::mem::take(&mut self.cols);
        // re-anchor: r = y − Kz from the direct product
        for (&(dir, l), kz) in cols.iter().zip(prods) {
            if !dir {
                let (y, r) = (&self.y[l], &mut self.r[l]);
                r.iter_mut()
                    .zip(y.iter().zip(kz))
                    .for_each(|(r, (y, k))| *r = y - k);
            }
        }
        let mut updated = Vec::new();
        for (&(dir, l), w) in cols.iter().zip(prods) {
            if !dir {
                continue;
            }
            let pw = dotv(&self.p[l], w);
            if pw.is_nan() || pw <= 0.0 {
                if l == nl {
                    // the probe's direction vanished (Krylov space exhausted) or
                    // K is not positive definite along it
                    self.probe_live = false;
                    if pw < 0.0 {
                        self.lam = self.lam.min(0.0);
                    }
                } else {
                    self.lam = self.lam.min(0.0);
                    self.broke = true;
                }
                continue;
            }
            let alpha = if self.flex {
                dotv(&self.p[l], &self.r[l]) / pw
            } else {
                self.rho[l] / pw
            };
            let (z, r, p) = (&mut self.z[l], &mut self.r[l], &self.p[l]);
            for i in 0..z.len() {
                z[i] += alpha * p[i];
                r[i] -= alpha * w[i];
            }
            self.alphas[l].push(alpha);
            self.iters[l] += 1;
            updated.push(l);
        }
        // one block preconditioner solve for every updated column
        let rs: Vec<Vec<f64>> = updated.iter().map(|&l| self.r[l].clone()).collect();
        let us = self.pre.apply_cols(&rs)?;
        for (&l, u) in updated.iter().zip(us) {
            let rho_new = dotv(&self.r[l], &u);
            let beta = if self.flex {
                let b = (rho_new - dotv(&self.r_prev[l], &u)) / self.rho[l];
                self.r_prev[l].clone_from(&self.r[l]);
                b
            } else {
                rho_new / self.rho[l]
            };
            self.p[l]
                .iter_mut()
                .zip(&u)
                .for_each(|(p, u)| *p = u + beta * *p);
            self.rho[l] = rho_new;
            self.betas[l].push(beta);
            if let Some(lam) = self.pre.inner_lambda() {
                // the inner runs on the outer residuals may lower the estimate
                self.lam = self.lam.min(lam);
            } else {
                let mu = tridiag_min(&self.alphas[l], &self.betas[l])?;
                self.lam = self.lam.min(mu * self.lam_m);
            }
            if l == nl && rho_new <= 1e-28 * dotv(&self.y[l], &self.y[l]) {
                self.probe_live = false;
            }
        }
        for &l in &updated {
            if l < nl {
                let q = dotv(&self.y[l], &self.z[l]) + dotv(&self.z[l], &self.r[l]);
                let est = Self::estimate(q, dotv(&self.r[l], &self.r[l]), self.lam);
                if est <= self.tol {
                    self.done[l] = Some(CgOut {
                        q,
                        rel_err: est,
                        lambda_min: self.lam,
                        iters: self.iters[l],
                    });
                }
            }
        }
        Ok(())
    }

    /// The results, or the ill-conditioning error naming the estimated condition.
    pub(super) fn finish(self, theta1: f64) -> Result<Vec<CgOut>> {
        let (lam, tol, nl) = (self.lam, self.tol, self.nl);
        let mut out = Vec::with_capacity(nl);
        for (l, d) in self.done.into_iter().take(nl).enumerate() {
            match d {
                Some(mut o) if o.lambda_min > 0.0 && lam > 0.0 => {
                    // the probe may have lowered λ_min after this label finished
                    let rr = o.rel_err * o.q * o.lambda_min;
                    o.rel_err = o.rel_err.max(Self::estimate(o.q, rr, lam));
                    o.lambda_min = lam;
                    if o.rel_err > tol {
                        return Err(Error::IllConditioned {
                            what: format!("y^T K^-1 y for label vector {l}"),
                            cond: theta1 / lam,
                            achieved: o.rel_err,
                            tol,
                        });
                    }
                    out.push(o);
                }
                _ => {
                    let q = dotv(&self.y[l], &self.z[l]) + dotv(&self.z[l], &self.r[l]);
                    let achieved = Self::estimate(q, dotv(&self.r[l], &self.r[l]), lam);
                    return Err(Error::IllConditioned {
                        what: format!("y^T K^-1 y for label vector {l}"),
                        cond: if lam > 0.0 {
                            theta1 / lam
                        } else {
                            f64::INFINITY
                        },
                        achieved,
                        tol,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// once (or reads the stored f64 kernel) and applies them to every column the
/// refinement and the conjugate gradients want, so the tile cost is paid
/// max(passes of either) times rather than their sum. Returns the number of
/// product columns.
pub(super) fn f64_passes(
    op: &dyn LinearOperator,
    mut refine: Option<&mut Refine>,
    cg: &mut Cg<'_>,
    n: usize,
    show: bool,
    bar: &indicatif::ProgressBar,
) -> Result<usize> {
    let mut columns = 0;
    loop {
        let cg_cols: Vec<Vec<f64>> = cg
            .wants()
            .map(|v| v.into_iter().map(|c| c.to_vec()).collect())
            .unwrap_or_default();
        let rf = refine.as_deref().and_then(|r| r.wants());
        let rc = rf.map_or(0, |m| m.cols());
        if cg_cols.is_empty() && rc == 0 {
            return Ok(columns);
        }
        let nc = cg_cols.len();
        let m = Matrix::from_fn(n, rc + nc, |i, j| {
            if j < rc {
                rf.expect("rc > 0").get(i, j)
            } else {
                cg_cols[j - rc][i]
            }
        });
        let km = product(op, Precision::F64, &m, show && n >= 20_000)?;
        bar.inc(1);
        columns += rc + nc;
        if let Some(r) = refine.as_deref_mut() {
            if rc > 0 {
                r.absorb(Matrix::from_fn(n, rc, |i, j| km.get(i, j)))?;
            }
        }
        if nc > 0 {
            let prods: Vec<Vec<f64>> = (0..nc).map(|j| col(&km, rc + j)).collect();
            cg.absorb(&prods)?;
        }
    }
}
