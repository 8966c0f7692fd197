//! Seed 002's concept class for Elman RNNs (Allen-Zhu & Li, §3.2 eq. 3.1 and Example 3.5) and
//! its input distribution (§3).
//!
//! # Inputs (§3)
//!
//! A true input sequence is x\* = (x\*_2, …, x\*_{L−1}), x\*_ℓ ∈ R^{d_x}, with ‖x\*_ℓ‖ = 1 and
//! last coordinate [x\*_ℓ]_{d_x} = ½ ("without loss of generality", footnote 2: the ½ plays the
//! role of a bias). [`ElmanInputSpec::draw_sequence`] draws every x\*_ℓ independently as
//! (√3/2 · u, ½), u uniform on the unit sphere of R^{d_x−1}, so both conditions hold exactly
//! (d_x ≥ 2). The network does not see x\* itself but Def. 3.1's actual inputs
//! x_1 = (0, 1), x_ℓ = (ε_x x\*_ℓ, 0), x_L = (0, ε_x), built by
//! [`crate::models::rnn::elman_input_transform`] (not repeated here). Batches are L − 2 step
//! matrices n × d_x, element 0 holding x\*_2 (the layout that function takes).
//!
//! # Targets (eq. 3.1)
//!
//! For j = 3..L and s = 1..d,
//!
//! F\*_{j,s}(x\*) = Σ_{i=2}^{j−1} Σ_r Φ_{i→j,r,s}(⟨w\*_{i→j,r,s}, x\*_i⟩),  Φ(0) = 0,
//!
//! w\* unit vectors ([`ElmanConcept`], one [`ElmanTerm`] per (i, j, r, s)). Each Φ is
//! [`Phi`]: Φ(z) = a·(φ(b z) − φ(0)) for any analytic φ of the function library
//! ([`AnalyticFn`]), so Φ(0) = 0 holds by construction even for φ with φ(0) ≠ 0 (sigmoid).
//! F\*_j only reads x\*_2..x\*_{j−1}: the label y\*_j is "off from the input sequence by one"
//! (Remark 3.4). Outputs are L − 2 matrices n × d, element 0 holding F\*_3, in the order
//! [`crate::models::rnn::Objective::elman`] takes targets (ℓ = 3..L).
//!
//! # Example 3.5 (per-lag two-layer nets)
//!
//! F\*_j(x\*) = Σ_{i=2}^{j−1} A\*_{j−i} φ̄(W_{j−i} x\*_i), one two-layer net (A\*_k ∈ R^{d×p},
//! W_k ∈ R^{p×d_x}) per lag k = j − i ∈ 1..L−2, φ̄ = φ − φ(0) ([`LagNets`]). It is the case
//! Φ_{i→j,r,s}(z) = [A\*_{j−i}]_{s,r} φ̄(‖w_r‖ z), w\* = w_r/‖w_r‖ (w_r row r of W_{j−i}) of
//! eq. 3.1 ([`LagNets::to_concept`]). The random constructor draws every row of W_k as a unit
//! vector with last coordinate 0 (the w\* of the proof of Lemma 5.1, App. G.1, which has
//! w\*_{d_x} = 0) and A\*_k with i.i.d. N(0, 1/p) entries.
//!
//! # Label noise and OPT (§3.2, §4)
//!
//! [`draw`] returns y\*_j = F\*_j(x\*) + ξ_j with ξ_j ~ N(0, σ² I_d) independent of x\*
//! (σ = 0: noise-free). OPT is "the population risk achieved by the best target function in
//! this concept class". For the ℓ2 loss G(z, y) = ½‖z − y‖² the Bayes predictor is
//! E[y\* | x\*] = F\*, which is in the class, so OPT = E Σ_{j=3}^L ½‖ξ_j‖² = (L − 2) d σ² / 2
//! exactly ([`opt_l2`]).

use crate::error::{Error, Result};
use crate::linalg::{norm2 as norm, Matrix};
use crate::rng::{self, WRng};
use crate::taylor::AnalyticFn;
use serde::{Deserialize, Serialize};

/// The last coordinate of every true input x\*_ℓ (seed 002 §3).
pub const LAST_COORD: f64 = 0.5;

/// Tolerance on ‖w\*‖ = 1 when a concept is built from given vectors.
const UNIT_TOL: f64 = 1e-9;

/// Seed 002 §3's input distribution: x\*_2..x\*_{L−1} ∈ R^{d_x}, ‖x\*_ℓ‖ = 1, [x\*_ℓ]_{d_x} = ½.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElmanInputSpec {
    /// Sequence length L of the network's input (≥ 3): L − 2 true inputs.
    pub len: usize,
    /// Dimension d_x of every true input (≥ 2: one free direction plus the ½).
    pub dx: usize,
}

impl ElmanInputSpec {
    /// Checks L ≥ 3 and d_x ≥ 2.
    pub fn check(&self) -> Result<()> {
        if self.len < 3 {
            return Err(Error::invalid(
                "L",
                format!(
                    "seed 002 needs L >= 3 (true inputs x*_2..x*_(L-1)), got {}",
                    self.len
                ),
            ));
        }
        if self.dx < 2 {
            return Err(Error::invalid(
                "d_x",
                format!(
                    "seed 002's inputs have last coordinate 1/2 and unit norm, so d_x >= 2, got {}",
                    self.dx
                ),
            ));
        }
        Ok(())
    }

    /// Number of true inputs, L − 2.
    pub fn steps(&self) -> usize {
        self.len - 2
    }

    /// One true input: (√3/2 · u, ½), u uniform on the unit sphere of R^{d_x−1}.
    pub fn draw_input(&self, g: &mut WRng) -> Vec<f64> {
        let free = (1.0 - LAST_COORD * LAST_COORD).sqrt();
        let mut v = rng::sphere_point(self.dx - 1, free, g);
        v.push(LAST_COORD);
        v
    }

    /// One true sequence x\*_2..x\*_{L−1} (L − 2 vectors of length d_x).
    pub fn draw_sequence(&self, g: &mut WRng) -> Vec<Vec<f64>> {
        (0..self.steps()).map(|_| self.draw_input(g)).collect()
    }

    /// n true sequences as L − 2 step matrices n × d_x (element 0 = x\*_2).
    pub fn draw_batch(&self, n: usize, g: &mut WRng) -> Result<Vec<Matrix<f64>>> {
        self.check()?;
        let rows: Vec<Vec<Vec<f64>>> = (0..n).map(|_| self.draw_sequence(g)).collect();
        Ok(to_steps(&rows, self.steps(), self.dx))
    }
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Rows of per-sample sequences (n × steps × dim) to `steps` matrices n × dim.
fn to_steps(rows: &[Vec<Vec<f64>>], steps: usize, dim: usize) -> Vec<Matrix<f64>> {
    (0..steps)
        .map(|l| Matrix::from_fn(rows.len(), dim, |i, k| rows[i][l][k]))
        .collect()
}

/// One link function of eq. 3.1: Φ(z) = `outer` · (φ(`inner` · z) − φ(0)), so Φ(0) = 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Phi {
    /// φ, any analytic function of the library.
    pub psi: AnalyticFn,
    /// The factor a outside.
    pub outer: f64,
    /// The factor b inside.
    pub inner: f64,
}

impl Phi {
    /// Φ(z) = a (φ(b z) − φ(0)).
    pub fn eval(&self, z: f64) -> f64 {
        self.outer * (self.psi.eval(self.inner * z) - self.psi.eval(0.0))
    }
}

/// One term Φ_{i→j,r,s}(⟨w\*, x\*_i⟩) of eq. 3.1 (positions 1-based as in the paper).
#[derive(Clone, Debug, PartialEq)]
pub struct ElmanTerm {
    /// The input position i (2 ≤ i ≤ j − 1).
    pub from: usize,
    /// The output position j (3 ≤ j ≤ L).
    pub to: usize,
    /// The output coordinate s (0-based, < d).
    pub out: usize,
    /// Φ_{i→j,r,s}.
    pub phi: Phi,
    /// w\*_{i→j,r,s} ∈ R^{d_x}, a unit vector.
    pub w: Vec<f64>,
}

/// Seed 002 eq. 3.1: F\*_{j,s}(x\*) = Σ of the terms with `to` = j and `out` = s.
#[derive(Clone, Debug, PartialEq)]
pub struct ElmanConcept {
    /// Sequence length L.
    pub len: usize,
    /// True input dimension d_x.
    pub dx: usize,
    /// Output dimension d.
    pub d: usize,
    /// The terms (any number per (i, j, s); the r of eq. 3.1 is their multiplicity).
    pub terms: Vec<ElmanTerm>,
}

impl ElmanConcept {
    /// Checks L ≥ 3, d_x ≥ 2, d ≥ 1, 2 ≤ i < j ≤ L, s < d, ‖w\*‖ = 1 (to 1e−9), w\* of length
    /// d_x and finite factors of Φ.
    pub fn new(len: usize, dx: usize, d: usize, terms: Vec<ElmanTerm>) -> Result<Self> {
        ElmanInputSpec { len, dx }.check()?;
        if d == 0 {
            return Err(Error::invalid("d", "the output dimension must be >= 1"));
        }
        for t in &terms {
            if !(t.from >= 2 && t.from < t.to && t.to <= len) {
                return Err(Error::invalid(
                    "term positions",
                    format!(
                        "eq. 3.1 needs 2 <= i < j <= L = {len}, got i = {}, j = {}",
                        t.from, t.to
                    ),
                ));
            }
            if t.out >= d {
                return Err(Error::invalid(
                    "term output",
                    format!("coordinate {} outside 0..{d}", t.out),
                ));
            }
            if t.w.len() != dx {
                return Err(Error::Shape(format!(
                    "w* has length {}, expected d_x = {dx}",
                    t.w.len()
                )));
            }
            let nw = norm(&t.w);
            if (nw - 1.0).abs() > UNIT_TOL || nw.is_nan() {
                return Err(Error::invalid(
                    "w*",
                    format!("eq. 3.1 needs unit vectors w*, got norm {nw}"),
                ));
            }
            if !(t.phi.outer.is_finite() && t.phi.inner.is_finite()) {
                return Err(Error::invalid(
                    "Phi",
                    format!(
                        "the factors of Phi must be finite, got a = {}, b = {}",
                        t.phi.outer, t.phi.inner
                    ),
                ));
            }
        }
        Ok(ElmanConcept { len, dx, d, terms })
    }

    /// The input distribution this concept is defined on.
    pub fn input_spec(&self) -> ElmanInputSpec {
        ElmanInputSpec {
            len: self.len,
            dx: self.dx,
        }
    }

    /// F\*_3..F\*_L for one true sequence x\*_2..x\*_{L−1} (L − 2 vectors of length d_x):
    /// L − 2 vectors of length d, element 0 = F\*_3.
    pub fn eval_one(&self, x: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let mut out = vec![vec![0.0; self.d]; self.len - 2];
        for t in &self.terms {
            let z = dot(&t.w, &x[t.from - 2]);
            out[t.to - 3][t.out] += t.phi.eval(z);
        }
        out
    }

    /// F\*_3..F\*_L of every sample of L − 2 step matrices n × d_x: L − 2 matrices n × d.
    pub fn eval(&self, xs: &[Matrix<f64>]) -> Result<Vec<Matrix<f64>>> {
        let steps = self.len - 2;
        if xs.len() != steps || xs.iter().any(|m| m.cols() != self.dx) {
            return Err(Error::Shape(format!(
                "the concept wants {steps} true input steps x*_2..x*_(L-1) of dimension {}",
                self.dx
            )));
        }
        let n = xs[0].rows();
        if xs.iter().any(|m| m.rows() != n) {
            return Err(Error::Shape(
                "true input steps with different batch sizes".into(),
            ));
        }
        let rows: Vec<Vec<Vec<f64>>> = (0..n)
            .map(|i| {
                let x: Vec<Vec<f64>> = xs.iter().map(|m| m.row(i).to_vec()).collect();
                self.eval_one(&x)
            })
            .collect();
        Ok(to_steps(&rows, steps, self.d))
    }

    /// The same concept with every Φ multiplied by `factor` (still in the class).
    pub fn scaled(&self, factor: f64) -> Result<Self> {
        if !factor.is_finite() {
            return Err(Error::invalid(
                "factor",
                format!("must be finite, got {factor}"),
            ));
        }
        let mut c = self.clone();
        for t in &mut c.terms {
            t.phi.outer *= factor;
        }
        Ok(c)
    }

    /// sqrt(mean over the samples, j = 3..L and s of F\*_{j,s}²) on a batch of true inputs.
    pub fn rms(&self, xs: &[Matrix<f64>]) -> Result<f64> {
        let f = self.eval(xs)?;
        let count: usize = f.iter().map(|m| m.as_slice().len()).sum();
        if count == 0 {
            return Err(Error::invalid("samples", "need at least one sample"));
        }
        let ss: f64 = f
            .iter()
            .flat_map(|m| m.as_slice().iter())
            .map(|v| v * v)
            .sum();
        Ok((ss / count as f64).sqrt())
    }

    /// The largest |a| and |b| over the terms' Φ(z) = a (φ(bz) − φ(0)) (0 without terms): the
    /// Taylor coefficients of Φ are a b^i c_i, so seed 002's 𝔠(Φ, R) = max over the Φ is at most
    /// max|a| · 𝔠(φ − φ(0), max|b| R) when every term shares φ.
    pub fn max_factors(&self) -> (f64, f64) {
        self.terms.iter().fold((0.0, 0.0), |(a, b), t| {
            (a.max(t.phi.outer.abs()), b.max(t.phi.inner.abs()))
        })
    }
}

/// Seed 002 Example 3.5: F\*_j(x\*) = Σ_{i=2}^{j−1} A\*_{j−i} φ̄(W_{j−i} x\*_i), φ̄ = φ − φ(0).
#[derive(Clone, Debug, PartialEq)]
pub struct LagNets {
    /// Sequence length L.
    pub len: usize,
    /// True input dimension d_x.
    pub dx: usize,
    /// Output dimension d.
    pub d: usize,
    /// φ (φ̄ = φ − φ(0) is applied, so Φ(0) = 0).
    pub phi: AnalyticFn,
    /// A\*_k (d × p) for the lags k = 1..L−2 (element k − 1).
    pub a: Vec<Matrix<f64>>,
    /// W_k (p × d_x) for the lags k = 1..L−2 (element k − 1).
    pub w: Vec<Matrix<f64>>,
}

impl LagNets {
    /// Checks L ≥ 3, d_x ≥ 2, L − 2 lags, A\*_k of shape d × p and W_k of shape p × d_x with one p.
    pub fn new(
        len: usize,
        dx: usize,
        d: usize,
        phi: AnalyticFn,
        a: Vec<Matrix<f64>>,
        w: Vec<Matrix<f64>>,
    ) -> Result<Self> {
        ElmanInputSpec { len, dx }.check()?;
        if d == 0 {
            return Err(Error::invalid("d", "the output dimension must be >= 1"));
        }
        if a.len() != len - 2 || w.len() != len - 2 {
            return Err(Error::Shape(format!(
                "Example 3.5 needs one net per lag 1..L-2 = {}: got {} A* and {} W",
                len - 2,
                a.len(),
                w.len()
            )));
        }
        let p = w[0].rows();
        if p == 0 {
            return Err(Error::invalid("p", "the hidden width must be >= 1"));
        }
        for (k, (ak, wk)) in a.iter().zip(&w).enumerate() {
            if ak.shape() != (d, p) || wk.shape() != (p, dx) {
                return Err(Error::Shape(format!(
                    "lag {}: A* is {}x{} and W is {}x{}, expected {d}x{p} and {p}x{dx}",
                    k + 1,
                    ak.rows(),
                    ak.cols(),
                    wk.rows(),
                    wk.cols()
                )));
            }
            if !(ak.all_finite() && wk.all_finite()) {
                return Err(Error::Numerical(format!(
                    "lag {}: non-finite weights",
                    k + 1
                )));
            }
        }
        Ok(LagNets {
            len,
            dx,
            d,
            phi,
            a,
            w,
        })
    }

    /// Random nets of hidden width p: rows of W_k unit vectors with last coordinate 0 (uniform
    /// on that sphere), A\*_k with i.i.d. N(0, 1/p) entries.
    pub fn random(
        len: usize,
        dx: usize,
        d: usize,
        p: usize,
        phi: &AnalyticFn,
        g: &mut WRng,
    ) -> Result<Self> {
        ElmanInputSpec { len, dx }.check()?;
        if p == 0 {
            return Err(Error::invalid("p", "the hidden width must be >= 1"));
        }
        let sd = (1.0 / p as f64).sqrt();
        let mut a = Vec::with_capacity(len - 2);
        let mut w = Vec::with_capacity(len - 2);
        for _ in 0..len - 2 {
            let rows: Vec<Vec<f64>> = (0..p)
                .map(|_| {
                    let mut v = rng::sphere_point(dx - 1, 1.0, g);
                    v.push(0.0);
                    v
                })
                .collect();
            w.push(Matrix::from_fn(p, dx, |r, k| rows[r][k]));
            a.push(Matrix::from_fn(d, p, |_, _| sd * rng::normal(g)));
        }
        Self::new(len, dx, d, phi.clone(), a, w)
    }

    /// Hidden width p.
    pub fn width(&self) -> usize {
        self.w[0].rows()
    }

    /// F\*_3..F\*_L for one true sequence, computed directly from the matrices (element 0 = F\*_3).
    pub fn eval_one(&self, x: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let p = self.width();
        let c0 = self.phi.eval(0.0);
        (3..=self.len)
            .map(|j| {
                let mut f = vec![0.0; self.d];
                for i in 2..j {
                    let (ak, wk) = (&self.a[j - i - 1], &self.w[j - i - 1]);
                    let hidden: Vec<f64> = (0..p)
                        .map(|r| self.phi.eval(dot(wk.row(r), &x[i - 2])) - c0)
                        .collect();
                    for (s, fs) in f.iter_mut().enumerate() {
                        *fs += dot(ak.row(s), &hidden);
                    }
                }
                f
            })
            .collect()
    }

    /// The same target in eq. 3.1's form: Φ_{i→j,r,s}(z) = [A\*_{j−i}]_{s,r} φ̄(‖w_r‖ z),
    /// w\* = w_r/‖w_r‖ (terms with a zero row w_r or a zero weight are left out: they vanish).
    pub fn to_concept(&self) -> Result<ElmanConcept> {
        let mut terms = Vec::new();
        for j in 3..=self.len {
            for i in 2..j {
                let (ak, wk) = (&self.a[j - i - 1], &self.w[j - i - 1]);
                for r in 0..self.width() {
                    let nw = norm(wk.row(r));
                    if nw == 0.0 {
                        continue;
                    }
                    let unit: Vec<f64> = wk.row(r).iter().map(|v| v / nw).collect();
                    for s in 0..self.d {
                        let coef = ak.get(s, r);
                        if coef == 0.0 {
                            continue;
                        }
                        terms.push(ElmanTerm {
                            from: i,
                            to: j,
                            out: s,
                            phi: Phi {
                                psi: self.phi.clone(),
                                outer: coef,
                                inner: nw,
                            },
                            w: unit.clone(),
                        });
                    }
                }
            }
        }
        ElmanConcept::new(self.len, self.dx, self.d, terms)
    }
}

/// OPT of seed 002 §3.2 for the ℓ2 loss G(z, y) = ½‖z − y‖² and labels y\*_j = F\*_j + ξ_j,
/// ξ_j ~ N(0, σ² I_d): F\* is the Bayes predictor and in the class, so
/// OPT = E Σ_{j=3}^L ½‖ξ_j‖² = (L − 2) d σ² / 2.
pub fn opt_l2(len: usize, d: usize, noise_sd: f64) -> f64 {
    len.saturating_sub(2) as f64 * d as f64 * noise_sd * noise_sd / 2.0
}

/// A sample of true sequences with their targets.
#[derive(Clone, Debug)]
pub struct ElmanSample {
    /// x\*_2..x\*_{L−1}: L − 2 matrices n × d_x (feed them through
    /// [`crate::models::rnn::elman_input_transform`]).
    pub x_star: Vec<Matrix<f64>>,
    /// F\*_3..F\*_L: L − 2 matrices n × d.
    pub f_star: Vec<Matrix<f64>>,
    /// The labels y\*_j = F\*_j + ξ_j: L − 2 matrices n × d.
    pub targets: Vec<Matrix<f64>>,
}

/// Draws n true sequences from the concept's input distribution and labels
/// y\*_j = F\*_j(x\*) + ξ_j, ξ_j ~ N(0, `noise_sd`² I_d) (inputs first, then the noise, from `g`).
pub fn draw(concept: &ElmanConcept, n: usize, noise_sd: f64, g: &mut WRng) -> Result<ElmanSample> {
    if !(noise_sd >= 0.0 && noise_sd.is_finite()) {
        return Err(Error::invalid(
            "noise_sd",
            format!("the label noise must be finite and >= 0, got {noise_sd}"),
        ));
    }
    if n == 0 {
        return Err(Error::invalid("n", "need at least one sample"));
    }
    let x_star = concept.input_spec().draw_batch(n, g)?;
    let f_star = concept.eval(&x_star)?;
    let targets = f_star
        .iter()
        .map(|f| {
            let mut t = f.clone();
            if noise_sd > 0.0 {
                for v in t.as_mut_slice() {
                    *v += noise_sd * rng::normal(g);
                }
            }
            t
        })
        .collect();
    Ok(ElmanSample {
        x_star,
        f_star,
        targets,
    })
}
