//! The f64 Rayleigh–Ritz and block-Davidson refinement of a Ritz block found
//! with f32 products.

use super::blocks::{at_b, mul};
use super::krylov::orthonormalize;
use super::quadrature::ritz_error_bounds;
use crate::error::Result;
use crate::linalg::{sym_eigen, Matrix};
use crate::runtime::profile::{report, ProfTimer};

/// Most f64 block-Davidson refinement steps after the f32 Krylov phase (each one
/// f64 product of the Ritz block; taken only while ‖r_i‖²/gap_i > 1e-11·θ_i).
pub(super) const DAVIDSON_STEPS: usize = 4;

/// Rayleigh–Ritz of K on the columns of `x` with f64 products `kx = K x`:
/// values, rotated vectors, residual norms and K times the rotated vectors.
pub(super) type RitzBlock = (Vec<f64>, Matrix<f64>, Vec<f64>, Matrix<f64>);

pub(super) fn hstack(a: &Matrix<f64>, b: &Matrix<f64>) -> Matrix<f64> {
    let (ca, cb) = (a.cols(), b.cols());
    Matrix::from_fn(a.rows(), ca + cb, |i, j| {
        if j < ca {
            a.get(i, j)
        } else {
            b.get(i, j - ca)
        }
    })
}

pub(super) fn rayleigh_ritz(x: &Matrix<f64>, kx: &Matrix<f64>) -> Result<RitzBlock> {
    let _pt = ProfTimer::new("rayleigh-ritz (f64)");
    let g = at_b(x, kx)?;
    let c = g.cols();
    let gs = Matrix::from_fn(c, c, |a, b| 0.5 * (g.get(a, b) + g.get(b, a)));
    let e = sym_eigen(&gs)?;
    let v = mul(x, &e.vectors)?;
    let kv = mul(kx, &e.vectors)?;
    let res = (0..c)
        .map(|j| {
            (0..v.rows())
                .map(|i| {
                    let d = kv.get(i, j) - e.values[j] * v.get(i, j);
                    d * d
                })
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    Ok((e.values, v, res, kv))
}

/// The f64 Rayleigh–Ritz and block-Davidson refinement of the f32 Ritz block, as
/// a state machine driven by [`f64_passes`]: first K times the Ritz block, then
/// K times the orthonormalized f64 residuals of the pairs whose estimated error
/// ‖r_i‖²/gap_i still exceeds 1e-11·θ_i (only those: the others are final).
pub(super) struct Refine {
    pub(super) vals: Vec<f64>,
    pub(super) vecs: Matrix<f64>,
    pub(super) resid: Vec<f64>,
    pub(super) kv: Option<Matrix<f64>>,
    pub(super) pending: Option<Matrix<f64>>,
    pub(super) tail_vals: Vec<f64>,
    pub(super) kk: usize,
    pub(super) steps: usize,
    /// Unconverged pairs and their worst relative error bound after the last step.
    pub(super) last: Option<(usize, f64)>,
    pub(super) rng: crate::rng::WRng,
}

impl Refine {
    pub(super) fn new(vecs: Matrix<f64>, tail_vals: Vec<f64>, kk: usize, seed: u64) -> Self {
        Refine {
            vals: Vec::new(),
            resid: Vec::new(),
            kv: None,
            pending: Some(vecs.clone()),
            vecs,
            tail_vals,
            kk,
            steps: 0,
            last: None,
            rng: crate::rng::stream(seed, "large-n davidson"),
        }
    }

    pub(super) fn wants(&self) -> Option<&Matrix<f64>> {
        self.pending.as_ref()
    }

    pub(super) fn absorb(&mut self, kq: Matrix<f64>) -> Result<()> {
        let q = self.pending.take().expect("absorb follows wants");
        let c = self.vecs.cols();
        let n = self.vecs.rows();
        match self.kv.take() {
            None => {
                let (vals, vecs, resid, kv) = rayleigh_ritz(&q, &kq)?;
                (self.vals, self.vecs, self.resid) = (vals, vecs, resid);
                self.kv = Some(kv);
            }
            Some(kv) => {
                let basis = hstack(&self.vecs, &q);
                let kb = hstack(&kv, &kq);
                let (v2, x2, r2, kv2) = rayleigh_ritz(&basis, &kb)?;
                self.vals = v2[..c].to_vec();
                self.vecs = Matrix::from_fn(n, c, |i, j| x2.get(i, j));
                self.kv = Some(Matrix::from_fn(n, c, |i, j| kv2.get(i, j)));
                self.resid = r2[..c].to_vec();
                self.steps += 1;
            }
        }
        if self.steps >= DAVIDSON_STEPS {
            return Ok(());
        }
        // Estimated eigenvalue error (quadratic residual bounds): where it exceeds
        // 1e-11·θ_i, expand.
        let vals = &self.vals;
        let bounds = ritz_error_bounds(vals, &self.resid, &self.tail_vals, self.kk.min(c));
        let bad: Vec<usize> = (0..self.kk.min(c))
            .filter(|&i| bounds[i] > 1e-11 * vals[i].abs())
            .collect();
        let worst = bad
            .iter()
            .map(|&i| bounds[i] / vals[i].abs())
            .fold(0.0, f64::max);
        // a step that did not cut the worst bound tenfold will not reach the target
        // in the steps left (each costs a full f64 pass over the kernel's tiles):
        // stop (f64 rounding of the products, or a cluster split across the edge
        // of the block); the residuals reached are reported either way
        let stalled = self.last.is_some_and(|(_, w)| worst > 0.1 * w);
        self.last = Some((bad.len(), worst));
        report(|| {
            let res = (0..self.kk.min(c))
                .map(|i| self.resid[i] / self.vals[0].abs())
                .fold(0.0, f64::max);
            format!(
                "refinement step {}: {} of {} pairs above the error target \
                 (worst bound/theta {worst:.1e}), max rel. residual {res:.1e}",
                self.steps,
                bad.len(),
                self.kk.min(c)
            )
        });
        if bad.is_empty() || stalled {
            return Ok(());
        }
        let kv = self.kv.as_ref().expect("set above");
        let r = Matrix::from_fn(n, bad.len(), |i, a| {
            let j = bad[a];
            kv.get(i, j) - vals[j] * self.vecs.get(i, j)
        });
        let (qr, _) = orthonormalize(r, std::slice::from_ref(&self.vecs), 0.0, &mut self.rng)?;
        self.pending = Some(qr);
        Ok(())
    }
}
