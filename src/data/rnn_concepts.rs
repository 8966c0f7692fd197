//! Seed 004's concept classes for recurrent networks (Wang, Shen, Hu, Cao, §2.2), with inputs
//! and ±1 labels satisfying Theorem 2's margin.
//!
//! # Inputs
//!
//! A sequence x = (X_1, …, X_L), X_ℓ ∈ R^d, is drawn with every X_ℓ independent:
//! X_ℓ = r_ℓ u_ℓ, u_ℓ uniform on the unit sphere S^{d−1} (a normalized standard Gaussian) and
//! r_ℓ uniform on [C_min, C_max], so C_min ≤ ‖X_ℓ‖ ≤ C_max exactly (§2.2's assumption, with
//! C_0 = C_max/C_min). Sequences are returned as L step matrices n × d (row i of step ℓ is
//! X_ℓ of sample i), the layout [`crate::models::rnn_ntk::rnn_ntk`] and
//! [`crate::kernels::rnn_infinite::rnn_ntk_infinite`] take.
//!
//! # Targets
//!
//! - Additive class (eq. 9): F\*(x) = Σ_ℓ Σ_r ψ_{ℓ,r}(β_{ℓ,r}ᵀX_ℓ/‖X_ℓ‖) ([`AdditiveConcept`]).
//! - N-variable class (eq. 11): F\*(x) = Σ_r ψ_r(⟨β_r, [X_{l_1},…,X_{l_N}]⟩/(√N max_n ‖X_{l_n}‖))
//!   with chosen positions l_1..l_N, so l_0 = max l_n − min l_n is controlled
//!   ([`NVariableConcept`]).
//!
//! Positions are **1-based** as in the paper (1 ≤ l ≤ L). Every ‖β‖ ≤ 1 (checked); the random
//! constructors draw β uniformly on the sphere of radius `beta_norm` ≤ 1. ψ is any
//! [`AnalyticFn`] (note `exp` is e^z − 1 and `cos` is cos z − 1 there).
//!
//! # Labels and margin (Theorem 2)
//!
//! Theorem 2 needs y_i·F\*(x_i) ≥ 1 for every sample. [`draw`] does both of the operations the
//! issue allows, in this order:
//!
//! 1. **Drop**: a drawn sequence whose raw value satisfies |F\*_raw(x)| < τ (the `threshold`) is
//!    discarded and a fresh sequence is drawn in its place, until n sequences are kept (at most
//!    `max_draws` attempts; more is an error). The number dropped is reported.
//! 2. **Rescale**: the kept values are multiplied by s = 1/τ, so F\* = s·F\*_raw and
//!    y·F\* = |F\*_raw|/τ ≥ 1 on every kept sample. s·F\*_raw is in the same class with every ψ
//!    replaced by s·ψ.
//!
//! Labels are y = sign F\* (never 0 on kept samples since τ > 0). s is a fixed constant (not
//! fitted to the sample), so values from different configurations drawn with the same τ are
//! comparable.

use crate::error::{Error, Result};
use crate::linalg::{norm2 as norm, Matrix};
use crate::rng::{self, WRng};
use crate::taylor::AnalyticFn;
use rand::Rng;

/// The input distribution: L steps of dimension d with norms uniform in [C_min, C_max].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InputSpec {
    /// Sequence length L.
    pub len: usize,
    /// Dimension d of every X_ℓ.
    pub d: usize,
    /// Smallest norm C_min > 0.
    pub c_min: f64,
    /// Largest norm C_max ≥ C_min.
    pub c_max: f64,
}

impl InputSpec {
    /// Checks L, d ≥ 1 and 0 < C_min ≤ C_max < ∞.
    pub fn check(&self) -> Result<()> {
        if self.len == 0 {
            return Err(Error::invalid("L", "the sequence length must be >= 1"));
        }
        if self.d == 0 {
            return Err(Error::invalid("d", "the input dimension must be >= 1"));
        }
        if !(self.c_min > 0.0 && self.c_min <= self.c_max && self.c_max.is_finite()) {
            return Err(Error::invalid(
                "C_min, C_max",
                format!(
                    "need 0 < C_min <= C_max < inf, got {} and {}",
                    self.c_min, self.c_max
                ),
            ));
        }
        Ok(())
    }

    /// C_0 = C_max / C_min (seed 004 §2.2).
    pub fn c0(&self) -> f64 {
        self.c_max / self.c_min
    }

    /// One sequence: L vectors of length d.
    pub fn draw_sequence(&self, g: &mut WRng) -> Vec<Vec<f64>> {
        (0..self.len)
            .map(|_| {
                let u = rng::sphere_point(self.d, 1.0, g);
                let r = self.c_min + (self.c_max - self.c_min) * g.random::<f64>();
                u.into_iter().map(|v| v * r).collect()
            })
            .collect()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn check_beta(beta: &[f64], len: usize) -> Result<()> {
    if beta.len() != len {
        return Err(Error::Shape(format!(
            "beta has length {}, expected {len}",
            beta.len()
        )));
    }
    let nb = norm(beta);
    if nb.is_nan() || nb > 1.0 + 1e-12 {
        return Err(Error::invalid(
            "beta",
            format!("seed 004 needs ||beta|| <= 1, got {nb}"),
        ));
    }
    Ok(())
}

fn check_norm(beta_norm: f64) -> Result<()> {
    if !(beta_norm > 0.0 && beta_norm <= 1.0) {
        return Err(Error::invalid(
            "beta_norm",
            format!("must be in (0, 1], got {beta_norm}"),
        ));
    }
    Ok(())
}

/// One term ψ(βᵀX_ℓ/‖X_ℓ‖) of the additive class.
#[derive(Clone, Debug, PartialEq)]
pub struct AdditiveTerm {
    /// The position ℓ (1-based).
    pub position: usize,
    /// ψ_{ℓ,r}.
    pub psi: AnalyticFn,
    /// β_{ℓ,r} ∈ R^d, ‖β‖ ≤ 1.
    pub beta: Vec<f64>,
}

/// Seed 004 eq. 9: F\*(x) = Σ_terms ψ(βᵀX_ℓ/‖X_ℓ‖).
#[derive(Clone, Debug, PartialEq)]
pub struct AdditiveConcept {
    /// Sequence length L.
    pub len: usize,
    /// Input dimension d.
    pub d: usize,
    /// The terms (any number per position).
    pub terms: Vec<AdditiveTerm>,
}

impl AdditiveConcept {
    /// Checks positions in 1..=L and every β of length d with ‖β‖ ≤ 1.
    pub fn new(len: usize, d: usize, terms: Vec<AdditiveTerm>) -> Result<Self> {
        for t in &terms {
            if t.position == 0 || t.position > len {
                return Err(Error::invalid(
                    "position",
                    format!("{} is outside 1..={len}", t.position),
                ));
            }
            check_beta(&t.beta, d)?;
        }
        Ok(AdditiveConcept { len, d, terms })
    }

    /// `per_position` terms ψ at every position 1..=L, each β uniform on the sphere of radius
    /// `beta_norm` ∈ (0, 1].
    pub fn random(
        len: usize,
        d: usize,
        per_position: usize,
        psi: &AnalyticFn,
        beta_norm: f64,
        g: &mut WRng,
    ) -> Result<Self> {
        check_norm(beta_norm)?;
        let mut terms = Vec::new();
        for position in 1..=len {
            for _ in 0..per_position {
                terms.push(AdditiveTerm {
                    position,
                    psi: psi.clone(),
                    beta: rng::sphere_point(d, beta_norm, g),
                });
            }
        }
        Self::new(len, d, terms)
    }

    /// F\*(x) for one sequence (L vectors of length d).
    pub fn eval_one(&self, x: &[Vec<f64>]) -> f64 {
        self.terms
            .iter()
            .map(|t| {
                let xl = &x[t.position - 1];
                t.psi.eval(dot(&t.beta, xl) / norm(xl))
            })
            .sum()
    }

    /// The ψ's of each position (index ℓ − 1), as [`crate::theory::complexity::concept_additive`]
    /// takes them.
    pub fn psis_per_position(&self) -> Vec<Vec<AnalyticFn>> {
        let mut v = vec![Vec::new(); self.len];
        for t in &self.terms {
            v[t.position - 1].push(t.psi.clone());
        }
        v
    }
}

/// One term ψ_r(⟨β_r, [X_{l_1},…,X_{l_N}]⟩/(√N max‖X_{l_n}‖)).
#[derive(Clone, Debug, PartialEq)]
pub struct NVariableTerm {
    /// ψ_r.
    pub psi: AnalyticFn,
    /// β_r ∈ R^{N d} (block n multiplies X_{l_n}), ‖β_r‖ ≤ 1.
    pub beta: Vec<f64>,
}

/// Seed 004 eq. 11.
#[derive(Clone, Debug, PartialEq)]
pub struct NVariableConcept {
    /// Sequence length L.
    pub len: usize,
    /// Input dimension d.
    pub d: usize,
    /// l_1..l_N (1-based, repeats allowed).
    pub positions: Vec<usize>,
    /// The terms Σ_r.
    pub terms: Vec<NVariableTerm>,
}

impl NVariableConcept {
    /// Checks N ≥ 1, positions in 1..=L and every β of length N·d with ‖β‖ ≤ 1.
    pub fn new(
        len: usize,
        d: usize,
        positions: Vec<usize>,
        terms: Vec<NVariableTerm>,
    ) -> Result<Self> {
        if positions.is_empty() {
            return Err(Error::invalid("positions", "N must be >= 1"));
        }
        if let Some(&p) = positions.iter().find(|&&p| p == 0 || p > len) {
            return Err(Error::invalid(
                "positions",
                format!("{p} is outside 1..={len}"),
            ));
        }
        for t in &terms {
            check_beta(&t.beta, positions.len() * d)?;
        }
        Ok(NVariableConcept {
            len,
            d,
            positions,
            terms,
        })
    }

    /// `count` terms ψ with β uniform on the sphere of radius `beta_norm` in R^{N d}.
    pub fn random(
        len: usize,
        d: usize,
        positions: Vec<usize>,
        count: usize,
        psi: &AnalyticFn,
        beta_norm: f64,
        g: &mut WRng,
    ) -> Result<Self> {
        check_norm(beta_norm)?;
        let nd = positions.len() * d;
        let terms = (0..count)
            .map(|_| NVariableTerm {
                psi: psi.clone(),
                beta: rng::sphere_point(nd, beta_norm, g),
            })
            .collect();
        Self::new(len, d, positions, terms)
    }

    /// N.
    pub fn n_vars(&self) -> usize {
        self.positions.len()
    }

    /// l_0 = max l_n − min l_n.
    pub fn l0(&self) -> usize {
        let mx = *self.positions.iter().max().expect("N >= 1");
        let mn = *self.positions.iter().min().expect("N >= 1");
        mx - mn
    }

    /// F\*(x) for one sequence (L vectors of length d).
    pub fn eval_one(&self, x: &[Vec<f64>]) -> f64 {
        let nf = self.positions.len() as f64;
        let mx = self
            .positions
            .iter()
            .map(|&p| norm(&x[p - 1]))
            .fold(0.0, f64::max);
        let den = nf.sqrt() * mx;
        self.terms
            .iter()
            .map(|t| {
                let s: f64 = self
                    .positions
                    .iter()
                    .enumerate()
                    .map(|(k, &p)| dot(&t.beta[k * self.d..(k + 1) * self.d], &x[p - 1]))
                    .sum();
                t.psi.eval(s / den)
            })
            .sum()
    }

    /// The ψ_r, as [`crate::theory::complexity::concept_n_variable`] takes them.
    pub fn psis(&self) -> Vec<AnalyticFn> {
        self.terms.iter().map(|t| t.psi.clone()).collect()
    }
}

/// Either concept class.
#[derive(Clone, Debug, PartialEq)]
pub enum Concept {
    /// Eq. 9.
    Additive(AdditiveConcept),
    /// Eq. 11.
    NVariable(NVariableConcept),
}

/// The concept class by name (Python's `rnn_concept(kind=)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConceptKind {
    /// Eq. 9 ([`AdditiveConcept`]).
    Additive,
    /// Eq. 11 ([`NVariableConcept`]).
    NVariable,
}

crate::options::option_enum!(ConceptKind, "kind", {
    Additive => "additive"; "seed 004 eq. 9",
    NVariable => "n-variable"; "seed 004 eq. 11",
});

impl Concept {
    /// A random concept of class `kind` on sequences of `len` inputs in R^d: `terms` terms
    /// ψ (per position for [`ConceptKind::Additive`], in all for
    /// [`ConceptKind::NVariable`], which reads the 1-based `positions`, default [1, L]),
    /// each β uniform on the sphere of radius `beta_norm`. `positions` with the additive
    /// class is an error naming `positions` (eq. 9 has a term at every position).
    #[allow(clippy::too_many_arguments)]
    pub fn random(
        kind: ConceptKind,
        len: usize,
        d: usize,
        positions: Option<Vec<usize>>,
        terms: usize,
        psi: &AnalyticFn,
        beta_norm: f64,
        g: &mut WRng,
    ) -> Result<Concept> {
        Ok(match kind {
            ConceptKind::Additive => {
                if positions.is_some() {
                    return Err(Error::invalid(
                        "positions",
                        "applies to kind n-variable (eq. 9's additive concept has terms at \
                         every position)",
                    ));
                }
                Concept::Additive(AdditiveConcept::random(len, d, terms, psi, beta_norm, g)?)
            }
            ConceptKind::NVariable => {
                let pos = positions.unwrap_or_else(|| vec![1, len]);
                Concept::NVariable(NVariableConcept::random(
                    len, d, pos, terms, psi, beta_norm, g,
                )?)
            }
        })
    }

    /// (L, d).
    pub fn shape(&self) -> (usize, usize) {
        match self {
            Concept::Additive(c) => (c.len, c.d),
            Concept::NVariable(c) => (c.len, c.d),
        }
    }

    /// The raw F\*(x) of one sequence.
    pub fn eval_one(&self, x: &[Vec<f64>]) -> f64 {
        match self {
            Concept::Additive(c) => c.eval_one(x),
            Concept::NVariable(c) => c.eval_one(x),
        }
    }

    /// The raw F\* of every sample of L step matrices n × d.
    pub fn eval(&self, xs: &[Matrix<f64>]) -> Result<Vec<f64>> {
        let (len, d) = self.shape();
        if xs.len() != len || xs.iter().any(|m| m.cols() != d) {
            return Err(Error::Shape(format!(
                "the concept wants {len} steps of dimension {d}"
            )));
        }
        let n = xs[0].rows();
        if xs.iter().any(|m| m.rows() != n) {
            return Err(Error::Shape("steps with different batch sizes".into()));
        }
        Ok((0..n)
            .map(|i| {
                let x: Vec<Vec<f64>> = xs.iter().map(|m| m.row(i).to_vec()).collect();
                self.eval_one(&x)
            })
            .collect())
    }
}

/// A labelled sample of sequences with Theorem 2's margin (see the module documentation).
#[derive(Clone, Debug)]
pub struct ConceptSample {
    /// L step matrices n × d.
    pub xs: Vec<Matrix<f64>>,
    /// F\*(x_i) = s·F\*_raw(x_i), with y_i F\*(x_i) ≥ 1 (ỹ of seed 004 Theorem 3).
    pub f_star: Vec<f64>,
    /// F\*_raw(x_i), before rescaling.
    pub f_raw: Vec<f64>,
    /// y_i = sign F\*(x_i) ∈ {−1, +1}.
    pub labels: Vec<f64>,
    /// s = 1/τ.
    pub scale: f64,
    /// τ: sequences with |F\*_raw| < τ were dropped.
    pub threshold: f64,
    /// Sequences drawn in all (kept + dropped).
    pub drawn: usize,
    /// Sequences dropped for |F\*_raw| < τ.
    pub dropped: usize,
}

/// Draws n sequences from `spec` with labels from `concept`: sequences with
/// |F\*_raw| < `threshold` are dropped and replaced; the kept F\* are multiplied by
/// 1/`threshold` so that y·F\* ≥ 1. Errors when more than `max_draws` sequences would be
/// needed (the threshold is too high for this concept) or on shape mismatches.
pub fn draw(
    spec: &InputSpec,
    concept: &Concept,
    n: usize,
    threshold: f64,
    max_draws: usize,
    g: &mut WRng,
) -> Result<ConceptSample> {
    spec.check()?;
    if concept.shape() != (spec.len, spec.d) {
        return Err(Error::Shape(format!(
            "the concept is for (L, d) = {:?}, the inputs are ({}, {})",
            concept.shape(),
            spec.len,
            spec.d
        )));
    }
    if !(threshold > 0.0 && threshold.is_finite()) {
        return Err(Error::invalid(
            "threshold",
            format!("the margin threshold must be finite and > 0, got {threshold}"),
        ));
    }
    let mut rows: Vec<Vec<Vec<f64>>> = Vec::with_capacity(n);
    let mut f_raw = Vec::with_capacity(n);
    let mut drawn = 0usize;
    while rows.len() < n {
        if drawn >= max_draws {
            return Err(Error::invalid(
                "threshold",
                format!(
                    "only {} of {n} sequences had |F*| >= {threshold} after {drawn} draws",
                    rows.len()
                ),
            ));
        }
        drawn += 1;
        let x = spec.draw_sequence(g);
        let f = concept.eval_one(&x);
        if !f.is_finite() {
            return Err(Error::Numerical(format!("F*(x) = {f} is not finite")));
        }
        if f.abs() >= threshold {
            rows.push(x);
            f_raw.push(f);
        }
    }
    let xs = (0..spec.len)
        .map(|l| Matrix::from_fn(n, spec.d, |i, k| rows[i][l][k]))
        .collect();
    let scale = 1.0 / threshold;
    let f_star: Vec<f64> = f_raw.iter().map(|f| f * scale).collect();
    let labels = f_star.iter().map(|f| f.signum()).collect();
    Ok(ConceptSample {
        xs,
        f_star,
        f_raw,
        labels,
        scale,
        threshold,
        drawn,
        dropped: drawn - n,
    })
}

/// n sequences from `spec` with no target (for kernels), from a fresh stream of `seed`.
pub fn draw_inputs(
    spec: &InputSpec,
    n: usize,
    seed: u64,
    purpose: &str,
) -> Result<Vec<Matrix<f64>>> {
    spec.check()?;
    let mut g = rng::stream(seed, purpose);
    let rows: Vec<Vec<Vec<f64>>> = (0..n).map(|_| spec.draw_sequence(&mut g)).collect();
    Ok((0..spec.len)
        .map(|l| Matrix::from_fn(n, spec.d, |i, k| rows[i][l][k]))
        .collect())
}
