//! Preconditioners of the f64 solve: a Cholesky factor (f64 or f32, in place),
//! the top-k' spectral deflation, and a caller's [`Preconditioner`] (e.g. a
//! Cholesky factor held on a cluster's workers); the inner-CG one is in
//! [`super::inner_cg`].

use super::blocks::{at_b, col};
use super::inner_cg::InnerCg;
use super::krylov::lanczos_largest;
use crate::error::{Error, Result};
use crate::linalg::{gemm_into, Matrix};
use crate::runtime::profile::ProfTimer;
use faer::dyn_stack::{MemBuffer, MemStack};

/// A Cholesky factor held column-major (lower triangle), f32 or f64.
pub(super) enum Factor {
    F64(Vec<f64>),
    F32(Vec<f32>),
}

/// Why an in-place Cholesky failed: the pivot index and the smallest pivot seen.
pub(super) struct CholFail {
    pub(super) index: usize,
}

macro_rules! chol_fns {
    ($fac:ident, $solve:ident, $t:ty) => {
        /// Cholesky of the symmetric matrix held in `a` (n × n; row- and
        /// column-major agree), in place, lower triangle in column-major order.
        pub(super) fn $fac(a: &mut [$t], n: usize) -> std::result::Result<(), CholFail> {
            let par = faer::get_global_parallelism();
            let mut mem = MemBuffer::new(
                faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<$t>(
                    n,
                    par,
                    Default::default(),
                ),
            );
            let mat = faer::MatMut::from_column_major_slice_mut(a, n, n);
            faer::linalg::cholesky::llt::factor::cholesky_in_place(
                mat,
                Default::default(),
                par,
                MemStack::new(&mut mem),
                Default::default(),
            )
            .map(|_| ())
            .map_err(|e| match e {
                faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index } => {
                    CholFail { index }
                }
            })
        }

        /// Solves L Lᵀ X = R in place for the factor of `$fac`, R n × c column-major
        /// (all c right-hand sides in one pass over the factor).
        pub(super) fn $solve(l: &[$t], n: usize, r: &mut [$t], c: usize) {
            let par = faer::get_global_parallelism();
            let lm = faer::MatRef::from_column_major_slice(l, n, n);
            let rhs = faer::MatMut::from_column_major_slice_mut(r, n, c);
            faer::linalg::triangular_solve::solve_lower_triangular_in_place(lm, rhs, par);
            let rhs = faer::MatMut::from_column_major_slice_mut(r, n, c);
            faer::linalg::triangular_solve::solve_upper_triangular_in_place(
                lm.transpose(),
                rhs,
                par,
            );
        }
    };
}
chol_fns!(chol_in_place_f64, chol_solve_f64, f64);
chol_fns!(chol_in_place_f32, chol_solve_f32, f32);

/// A preconditioner given by the caller: M⁻¹ applied to n × c row-major blocks
/// (symmetric positive definite; deterministic for a run to be reproducible).
/// The solvers treat it as they treat a stored Cholesky factor: λ_min(M) by 30
/// steps of Lanczos on M⁻¹ ([`lanczos_largest`]), then CG with M.
pub trait Preconditioner {
    /// M⁻¹R for the n × c block R.
    fn apply(&self, r: &Matrix<f64>) -> Result<Matrix<f64>>;

    /// The name reported as the analysis's `preconditioner`.
    fn name(&self) -> &str;

    /// Whether the solver deflates the top-k' Ritz pairs around it:
    /// M⁻¹ = VΘ⁻¹Vᵀ + P B⁻¹ P with P = I − VVᵀ and B⁻¹ this preconditioner's
    /// apply (a block-Jacobi B, say); `false` uses it as M⁻¹ itself.
    fn deflated(&self) -> bool {
        false
    }
}

pub(super) enum Precond<'a> {
    Chol {
        f: Factor,
        n: usize,
    },
    /// M = VΘVᵀ + σ(I − VVᵀ): M⁻¹r = V(Θ⁻¹ − σ⁻¹)Vᵀr + r/σ.
    Spectral {
        v: Matrix<f64>,
        vals: Vec<f64>,
        sigma: f64,
    },
    /// K₃₂⁻¹ applied approximately by an inner CG on the f32 kernel.
    Inner(Box<InnerCg<'a>>),
    /// The caller's M⁻¹, deflated by the Ritz pairs `(v, vals)` when given.
    External {
        ext: &'a dyn Preconditioner,
        defl: Option<(Matrix<f64>, Vec<f64>)>,
    },
}

impl Precond<'_> {
    pub(super) fn apply(&self, r: &[f64]) -> Result<Vec<f64>> {
        Ok(self
            .apply_cols(std::slice::from_ref(&r.to_vec()))?
            .pop()
            .expect("one column in, one out"))
    }

    /// M⁻¹ applied to each vector of `rs` (one pass over a Cholesky factor for all).
    pub(super) fn apply_cols(&self, rs: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        let _pt = ProfTimer::new("preconditioner apply");
        if rs.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Precond::Chol { f, n } => {
                let (n, c) = (*n, rs.len());
                match f {
                    Factor::F64(l) => {
                        let mut x: Vec<f64> = rs.concat();
                        chol_solve_f64(l, n, &mut x, c);
                        Ok(x.chunks_exact(n).map(|v| v.to_vec()).collect())
                    }
                    Factor::F32(l) => {
                        // scale each column into f32 range-safe units, solve, scale back
                        let scales: Vec<f64> = rs
                            .iter()
                            .map(|r| r.iter().fold(0.0f64, |a, v| a.max(v.abs())))
                            .map(|s| if s == 0.0 { 1.0 } else { s })
                            .collect();
                        let mut x: Vec<f32> = rs
                            .iter()
                            .zip(&scales)
                            .flat_map(|(r, s)| r.iter().map(move |v| (v / s) as f32))
                            .collect();
                        chol_solve_f32(l, n, &mut x, c);
                        Ok(x.chunks_exact(n)
                            .zip(&scales)
                            .map(|(v, s)| v.iter().map(|x| *x as f64 * s).collect())
                            .collect())
                    }
                }
            }
            Precond::Spectral { v, vals, sigma } => {
                let (n, c) = (v.rows(), rs.len());
                let r = Matrix::from_fn(n, c, |i, j| rs[j][i]);
                let mut coef = at_b(v, &r)?;
                for (j, l) in vals.iter().enumerate() {
                    for a in 0..c {
                        coef.set(j, a, coef.get(j, a) * (1.0 / l - 1.0 / sigma));
                    }
                }
                let mut out = Matrix::from_fn(n, c, |i, j| rs[j][i] / sigma);
                gemm_into(&mut out, v.view(), coef.view(), 1.0, true)?;
                Ok((0..c).map(|j| col(&out, j)).collect())
            }
            Precond::Inner(ic) => ic.apply_cols(rs),
            Precond::External { ext, defl } => {
                let (n, c) = (rs[0].len(), rs.len());
                let mut r = Matrix::from_fn(n, c, |i, j| rs[j][i]);
                // M⁻¹r = VΘ⁻¹Vᵀr + B⁻¹(r − VVᵀr) when deflated (P B⁻¹ P: B⁻¹'s
                // output projected too, so M stays symmetric)
                let mut top = None;
                if let Some((v, vals)) = defl {
                    let coef = at_b(v, &r)?;
                    gemm_into(&mut r, v.view(), coef.view(), -1.0, true)?;
                    top = Some((v, vals, coef));
                }
                let mut out = ext.apply(&r)?;
                if out.shape() != (n, c) {
                    return Err(Error::Shape(format!(
                        "the preconditioner '{}' returned {:?} for a {n}x{c} block",
                        ext.name(),
                        out.shape()
                    )));
                }
                if !out.as_slice().iter().all(|x| x.is_finite()) {
                    return Err(Error::invalid(
                        "preconditioner",
                        format!("'{}' returned non-finite entries", ext.name()),
                    ));
                }
                if let Some((v, vals, mut coef)) = top {
                    let back = at_b(v, &out)?;
                    gemm_into(&mut out, v.view(), back.view(), -1.0, true)?;
                    for (j, l) in vals.iter().enumerate() {
                        for a in 0..c {
                            coef.set(j, a, coef.get(j, a) / l);
                        }
                    }
                    gemm_into(&mut out, v.view(), coef.view(), 1.0, true)?;
                }
                Ok((0..c).map(|j| col(&out, j)).collect())
            }
        }
    }

    /// The λ_min(K) estimate of the inner-CG preconditioner (`None` for the others).
    pub(super) fn inner_lambda(&self) -> Option<f64> {
        match self {
            Precond::Inner(ic) => Some(ic.lambda_safe()),
            _ => None,
        }
    }

    /// λ_min(M): closed form for the spectral preconditioner, Lanczos on M⁻¹
    /// (its largest eigenvalue, 1/λ_min(M)) for a Cholesky factor or the
    /// caller's preconditioner.
    pub(super) fn lambda_min(&self, n: usize, seed: u64) -> Result<f64> {
        match self {
            Precond::Spectral { vals, sigma, .. } => {
                Ok(vals.iter().cloned().fold(*sigma, f64::min))
            }
            Precond::Chol { .. } | Precond::External { .. } => {
                let top = lanczos_largest(n, 30, seed, |v| self.apply(v))?;
                Ok(1.0 / top)
            }
            Precond::Inner(ic) => Ok(ic.lambda_safe()),
        }
    }
}

pub(super) fn ill_from_pivot(
    f: CholFail,
    theta1: f64,
    level: f64,
    n: usize,
    prec: &str,
    tol: f64,
) -> Error {
    Error::IllConditioned {
        what: format!(
            "the kernel ({prec} Cholesky preconditioner broke down at pivot {} of {n})",
            f.index
        ),
        cond: theta1 / level.max(f64::MIN_POSITIVE),
        achieved: f64::INFINITY,
        tol,
    }
}
