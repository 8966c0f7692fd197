//! Seed 003's Concept 1 (Allen-Zhu & Li, §5, eq. 5.1-5.2) for the parity targets of its
//! experiments, and the function complexities 𝔠_ε, 𝔠_s of their parts.
//!
//! Concept 1 writes a target as H(x) = F(x) + αG(F(x)) with
//! F_r(x) = Σ_{i∈[p_F]} a_{r,i} F_{r,i}(⟨w_{r,i}, x⟩), G_r(h) = Σ_{i∈[p_G]} b_{r,i} G_{r,i}(⟨v_{r,i}, h⟩),
//! |a|, |b| ≤ 1, ‖w‖ = ‖v‖ = 1/√2, ‖x‖ = 1 and ‖F(x)‖ = 1; footnote 8 absorbs any other scale
//! into the activation (φ'(t) = φ(Bt)). The targets of Figure 2 and Theorem 2 are products
//! of coordinates on a hypercube, so they are not written in this form by the seed; here is
//! the documented decomposition every ResNet experiment reports.
//!
//! **1. Normalization.** With u = x/‖x‖ (‖x‖ is constant on a hypercube: √d for Figure 2's
//! {±1}^d, 1 for Theorem 2's {±1/√d}^d) and S = |β|√k (the constant ‖βF(x)‖, F(x) ∈ {±1}^k),
//!
//!   H(x)/S = F̂(u) + α Ĝ(F̂(u)),   F̂ = sign(β)·F/√k (‖F̂‖ = 1),   Ĝ(h) = G(√k·sign(β)·h)/(|β|√k),
//!
//! so the target divided by the constant S is exactly in Concept 1 form with the same α (the
//! squared error scales by S²).
//!
//! **2. Polarization** (the identity of the seed's App. E.4, with the vectors rescaled to
//! ‖w‖ = 1/√2): for p coordinates S = {s_1..s_p} of a vector u,
//!
//!   Π_{j≤p} u_{s_j} = c_p Σ_{ε∈{±1}^p, ε_1 = +1} (Π_j ε_j) ⟨w_ε, u⟩^p,
//!   w_ε = Σ_j ε_j e_{s_j}/√(2p),   c_p = (2p)^{p/2} / (2^{p−1} p!).
//!
//! (The full sum over ε ∈ {±1}^p has the factor 1/(2^p p!); the terms of ε and −ε are equal,
//! so half of them with twice the weight remain.) A degree-p product is therefore a two-layer
//! concept with p = 2^{p−1} terms, coefficients a = ±1 and the single activation
//! φ(t) = scale · c_p · t^p, whose Taylor series has one coefficient.
//!
//! **3. Complexities** (seed 003 §5, C\* = [`C_STAR`], exponent of (i + 1) = 1): for a
//! monomial φ(t) = c t^p, 𝔠_s(φ, 1) = C\*(p + 1)|c| and 𝔠_ε(φ, 1) = ((C\*)^p + (√log(1/ε)/√p ·
//! C\*)^p)|c|, computed by [`complexity_cs`] / [`complexity_ceps`] on the Taylor coefficients.
//! ε = α is reported, the accuracy at which Theorem 1's width M = poly(𝔠_α(F), 𝔠_α(G)) is
//! stated. Next to them: Fact B.3's bounds 𝔅_F ≤ √(k p_F 𝔠_s(F)), 𝔏_G ≤ √(k p_G 𝔠_s(G)),
//! Theorem 1's range α < 1/(k p_G 𝔠_s(G)) (its Θ̃ taken as 1), and the complexity of the
//! composed Ĝ∘F̂ written directly as one two-layer concept of x (a product of every x
//! coordinate it touches): the price a one-shot learner such as a kernel pays (seed 003 §3,
//! "the complexity of G(F) is as high as C_F^k").

use crate::data::resnet_targets::{Fig2Target, Thm2Target};
use crate::error::{Error, Result};
use crate::taylor::AnalyticFn;
use crate::theory::complexity::{
    complexity_ceps, complexity_cs, CS_EXPONENT_RESNET, C_STAR, REL_TOL,
};
use serde::Serialize;

/// One term a·φ(⟨w, u⟩) of eq. 5.2; w is sparse (coordinate, value).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ridge {
    /// The outer coefficient a ∈ [−1, 1].
    pub a: f64,
    /// The inner vector w (‖w‖ = 1/√2), as (coordinate, value) pairs.
    pub w: Vec<(usize, f64)>,
}

impl Ridge {
    fn project(&self, u: &[f64]) -> f64 {
        self.w.iter().map(|&(i, v)| v * u[i]).sum()
    }
}

/// A two-layer smooth concept u ↦ (Σ_i a_{r,i} φ(⟨w_{r,i}, u⟩))_r (eq. 5.2) with one
/// activation φ shared by every term.
#[derive(Clone, Debug, Serialize)]
pub struct TwoLayerConcept {
    /// Input dimension.
    pub dim: usize,
    /// The activation φ (here a monomial scale·c_p·t^p).
    #[serde(serialize_with = "ser_fn_name")]
    pub activation: AnalyticFn,
    /// The terms of each output coordinate r.
    pub outputs: Vec<Vec<Ridge>>,
}

fn ser_fn_name<S: serde::Serializer>(f: &AnalyticFn, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&f.name())
}

impl TwoLayerConcept {
    /// The concept at one input u (length `dim`).
    pub fn eval(&self, u: &[f64]) -> Result<Vec<f64>> {
        if u.len() != self.dim {
            return Err(Error::Shape(format!(
                "input of length {} for a concept on dimension {}",
                u.len(),
                self.dim
            )));
        }
        Ok(self
            .outputs
            .iter()
            .map(|terms| {
                terms
                    .iter()
                    .map(|t| t.a * self.activation.eval(t.project(u)))
                    .sum()
            })
            .collect())
    }

    /// p: the largest number of terms of an output coordinate.
    pub fn p(&self) -> usize {
        self.outputs.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// Checks Concept 1's normalization: |a| ≤ 1 and ‖w‖ = 1/√2 for every term.
    pub fn check(&self) -> Result<()> {
        for (r, terms) in self.outputs.iter().enumerate() {
            for (i, t) in terms.iter().enumerate() {
                let norm = t.w.iter().map(|&(_, v)| v * v).sum::<f64>().sqrt();
                if t.a.abs() > 1.0 + 1e-12 || (norm - 0.5f64.sqrt()).abs() > 1e-12 {
                    return Err(Error::Numerical(format!(
                        "term ({r}, {i}) has |a| = {} and ||w|| = {norm}: Concept 1 needs |a| <= 1, \
                         ||w|| = 1/sqrt(2)",
                        t.a.abs()
                    )));
                }
            }
        }
        Ok(())
    }
}

/// c_p = (2p)^{p/2} / (2^{p−1} p!) of the polarization identity (module docs, step 2).
pub fn polarization_constant(p: usize) -> f64 {
    let pf = p as f64;
    let ln_fact: f64 = (1..=p).map(|i| (i as f64).ln()).sum();
    (0.5 * pf * (2.0 * pf).ln() - (pf - 1.0) * 2f64.ln() - ln_fact).exp()
}

/// The 2^{p−1} terms of Π_{j} u_{set_j} = c_p Σ_ε (Π ε) ⟨w_ε, u⟩^p (module docs, step 2), with
/// a = sign(`sign`)·Π ε.
pub fn parity_ridges(set: &[usize], sign: f64) -> Vec<Ridge> {
    let p = set.len();
    let inv = 1.0 / (2.0 * p as f64).sqrt();
    (0..1usize << (p.saturating_sub(1)))
        .map(|mask| {
            // ε_1 = +1; ε_{j+1} = −1 when bit j of mask is set
            let eps: Vec<f64> = (0..p)
                .map(|j| {
                    if j > 0 && mask >> (j - 1) & 1 == 1 {
                        -1.0
                    } else {
                        1.0
                    }
                })
                .collect();
            let prod: f64 = eps.iter().product();
            Ridge {
                a: sign.signum() * prod,
                w: set.iter().zip(&eps).map(|(&i, &e)| (i, e * inv)).collect(),
            }
        })
        .collect()
}

/// Output r = `scale` · Π_{i ∈ sets[r]} u_i as a two-layer concept (every set of the same
/// size p ≥ 1, indices below `dim`): activation |scale|·c_p·t^p, the sign of `scale` in a.
pub fn product_concept(dim: usize, sets: &[Vec<usize>], scale: f64) -> Result<TwoLayerConcept> {
    let p = sets.first().map(Vec::len).unwrap_or(0);
    if p == 0 || sets.iter().any(|s| s.len() != p) {
        return Err(Error::invalid(
            "sets",
            "every output must be a product of the same number p >= 1 of coordinates",
        ));
    }
    if let Some(&i) = sets.iter().flatten().find(|&&i| i >= dim) {
        return Err(Error::invalid(
            "sets",
            format!("coordinate {i} is out of range for dimension {dim}"),
        ));
    }
    if !(scale.is_finite() && scale != 0.0) {
        return Err(Error::invalid(
            "scale",
            format!("must be finite and nonzero, got {scale}"),
        ));
    }
    let mut coeffs = vec![0.0; p + 1];
    coeffs[p] = scale.abs() * polarization_constant(p);
    Ok(TwoLayerConcept {
        dim,
        activation: AnalyticFn::poly(coeffs)?,
        outputs: sets.iter().map(|s| parity_ridges(s, scale)).collect(),
    })
}

/// A target in Concept 1 form: H(x) = `output_scale` · (F̂(u) + α Ĝ(F̂(u))) with
/// u = x/`input_norm`, and the composed Ĝ∘F̂ written as one two-layer concept of u.
#[derive(Clone, Debug, Serialize)]
pub struct HierarchicalConcept {
    /// F̂ (input u, ‖u‖ = 1; ‖F̂(u)‖ = 1).
    pub f: TwoLayerConcept,
    /// Ĝ (input F̂(u)).
    pub g: TwoLayerConcept,
    /// Ĝ∘F̂ as one two-layer concept of u.
    pub composite: TwoLayerConcept,
    /// α.
    pub alpha: f64,
    /// ‖x‖ on the target's input domain.
    pub input_norm: f64,
    /// S = |β|√k.
    pub output_scale: f64,
}

impl HierarchicalConcept {
    /// H(x) from the decomposition (for checking it against the target's own definition).
    pub fn eval(&self, x: &[f64]) -> Result<Vec<f64>> {
        let u: Vec<f64> = x.iter().map(|v| v / self.input_norm).collect();
        let f = self.f.eval(&u)?;
        let g = self.g.eval(&f)?;
        Ok(f.iter()
            .zip(&g)
            .map(|(a, b)| self.output_scale * (a + self.alpha * b))
            .collect())
    }

    /// Ĝ(F̂(x/‖x‖)) from the composite concept (equals `g.eval(f.eval(u))`).
    pub fn eval_composite(&self, x: &[f64]) -> Result<Vec<f64>> {
        let u: Vec<f64> = x.iter().map(|v| v / self.input_norm).collect();
        self.composite.eval(&u)
    }
}

fn check_beta(beta: f64) -> Result<()> {
    if beta == 0.0 || !beta.is_finite() {
        return Err(Error::invalid(
            "beta",
            format!("Concept 1 needs ||F(x)|| = 1 after scaling, impossible for beta = {beta}"),
        ));
    }
    Ok(())
}

/// Figure 2's target (seed 003 App. A) in Concept 1 form: u = x/√d,
/// F̂_r(u) = sign(β)(d/√k) u_{2r} u_{2r+1} (two terms, φ_F(t) = (d/√k) t²),
/// Ĝ_j(h) = (k^{(q−1)/2}/|β|) Π_{t∈T_j} h_t (2^{q−1} terms, q = |T_j| = 4), and
/// Ĝ_j∘F̂ = G_j(F)/(|β|√k) = (d^q/(|β|√k)) Π over the 2q coordinates of x it touches.
pub fn fig2_concept(t: &Fig2Target) -> Result<HierarchicalConcept> {
    t.validate()?;
    check_beta(t.beta)?;
    let (d, k) = (t.d, t.k());
    let (df, kf) = (d as f64, k as f64);
    let sb = t.beta.signum();
    let f_sets: Vec<Vec<usize>> = (0..k).map(|r| vec![2 * r, 2 * r + 1]).collect();
    let f = product_concept(d, &f_sets, sb * df / kf.sqrt())?;
    let q = t.g_sets[0].len();
    if t.g_sets.iter().any(|s| s.len() != q) {
        return Err(Error::invalid(
            "g_sets",
            "the decomposition needs every output of G to have the same degree",
        ));
    }
    let g = product_concept(
        k,
        &t.g_sets,
        sb.powi(q as i32) * kf.powf((q as f64 - 1.0) / 2.0) / t.beta.abs(),
    )?;
    let comp_sets: Vec<Vec<usize>> = t
        .g_sets
        .iter()
        .map(|s| s.iter().flat_map(|&r| [2 * r, 2 * r + 1]).collect())
        .collect();
    let composite = product_concept(
        d,
        &comp_sets,
        df.powi(q as i32) / (t.beta.abs() * kf.sqrt()),
    )?;
    Ok(HierarchicalConcept {
        f,
        g,
        composite,
        alpha: t.alpha,
        input_norm: df.sqrt(),
        output_scale: t.beta.abs() * kf.sqrt(),
    })
}

/// Theorem 2's instance (seed 003 §7; x ∈ {±1/√d}^d, ‖x‖ = 1) in Concept 1 form:
/// F̂_r(x) = sign(β)√(d/k) x_{i_r} (one term, φ_F(t) = √(2d/k) t),
/// Ĝ_r(h) = (k^{(k−1)/2}/|β|) sign(β)^k Π_j h_j (2^{k−1} terms), and
/// Ĝ∘F̂ = G(F)/(|β|√k) = (d^{k/2}/(|β|√k)) Π_j x_{i_j}.
pub fn thm2_concept(t: &Thm2Target) -> Result<HierarchicalConcept> {
    t.validate()?;
    check_beta(t.beta)?;
    let (d, k) = (t.d, t.k());
    let (df, kf) = (d as f64, k as f64);
    let sb = t.beta.signum();
    let f_sets: Vec<Vec<usize>> = t.indices.iter().map(|&i| vec![i]).collect();
    let f = product_concept(d, &f_sets, sb * (df / kf).sqrt())?;
    let all: Vec<usize> = (0..k).collect();
    let sk = sb.powi(k as i32);
    let g = product_concept(
        k,
        &vec![all; k],
        sk * kf.powf((kf - 1.0) / 2.0) / t.beta.abs(),
    )?;
    let composite = product_concept(
        d,
        &vec![t.indices.clone(); k],
        df.powf(kf / 2.0) / (t.beta.abs() * kf.sqrt()),
    )?;
    Ok(HierarchicalConcept {
        f,
        g,
        composite,
        alpha: t.alpha,
        input_norm: 1.0,
        output_scale: t.beta.abs() * kf.sqrt(),
    })
}

/// 𝔠_ε and 𝔠_s of one two-layer concept's activation (seed 003 §5).
#[derive(Clone, Debug, Serialize)]
pub struct PartComplexity {
    /// The activation φ.
    pub activation: String,
    /// Number of terms per output p.
    pub p: usize,
    /// 𝔠_s(φ, 1) (a number, or "inf").
    pub c_s: serde_json::Value,
    /// 𝔠_ε(φ, 1) at ε = `eps` of [`ConceptComplexity`].
    pub c_eps: serde_json::Value,
    /// log10 𝔠_s.
    pub log10_c_s: f64,
}

fn part(c: &TwoLayerConcept, eps: f64, c_star: f64) -> Result<(PartComplexity, f64)> {
    let cs = complexity_cs(
        &c.activation,
        1.0,
        CS_EXPONENT_RESNET,
        c_star,
        false,
        REL_TOL,
    )?;
    let ce = complexity_ceps(&c.activation, 1.0, eps, c_star, false, REL_TOL)?;
    Ok((
        PartComplexity {
            activation: c.activation.name(),
            p: c.p(),
            c_s: cs.json_value(),
            c_eps: ce.json_value(),
            log10_c_s: cs.log10_value(),
        },
        cs.value,
    ))
}

/// Seed 003's complexities of a [`HierarchicalConcept`] (module docs, step 3).
#[derive(Clone, Debug, Serialize)]
pub struct ConceptComplexity {
    /// C\*.
    pub c_star: f64,
    /// ε of 𝔠_ε (= α, Theorem 1's accuracy).
    pub eps: f64,
    /// k.
    pub k: usize,
    /// F̂.
    pub f: PartComplexity,
    /// Ĝ.
    pub g: PartComplexity,
    /// Ĝ∘F̂ as one two-layer concept of x (what a one-shot learner faces).
    pub composite: PartComplexity,
    /// Fact B.3: 𝔅_F ≤ √(k p_F 𝔠_s(F)).
    pub b_f_bound: f64,
    /// Fact B.3: 𝔏_G ≤ √(k p_G 𝔠_s(G)).
    pub l_g_bound: f64,
    /// Theorem 1's range of α: α < 1/(k p_G 𝔠_s(G)) (Θ̃ taken as 1).
    pub alpha_max_theorem1: f64,
    /// The target's α.
    pub alpha: f64,
    /// The constant S with H = S·(F̂ + αĜ(F̂)).
    pub output_scale: f64,
    /// log10 of 𝔠_s(Ĝ∘F̂) / (𝔠_s(F̂) + 𝔠_s(Ĝ)).
    pub log10_composite_over_parts: f64,
    /// How the target was written in Concept 1 form.
    pub decomposition: String,
}

impl ConceptComplexity {
    /// One sentence for experiment descriptions.
    pub fn summary(&self) -> String {
        let v = |x: &serde_json::Value| match x.as_f64() {
            Some(f) => format!("{:.3e}", f / self.c_star),
            None => x.to_string(),
        };
        format!(
            "Seed 003 Concept 1 complexities of the target (decomposition in \
             src/theory/hierarchical.rs; C* = {:.0e}, values in units of C*): c_s(F) = {} \
             (p_F = {}), c_s(G) = {} (p_G = {}), c_s of G(F) written as one two-layer concept \
             of x = {} (p = {}): 10^{:.1} times the parts, the one-shot price a kernel pays; \
             Theorem 1's range alpha < 1/(k p_G c_s(G)) = {:.1e} (alpha = {}).",
            self.c_star,
            v(&self.f.c_s),
            self.f.p,
            v(&self.g.c_s),
            self.g.p,
            v(&self.composite.c_s),
            self.composite.p,
            self.log10_composite_over_parts,
            self.alpha_max_theorem1,
            self.alpha
        )
    }
}

/// The complexities of `h` with C\* = `c_star` and ε = α (or `eps` when α ∉ (0, 1)).
pub fn concept_complexity(
    h: &HierarchicalConcept,
    c_star: f64,
    eps_fallback: f64,
    decomposition: &str,
) -> Result<ConceptComplexity> {
    h.f.check()?;
    h.g.check()?;
    h.composite.check()?;
    let eps = if h.alpha > 0.0 && h.alpha < 1.0 {
        h.alpha
    } else {
        eps_fallback
    };
    let k = h.f.outputs.len();
    let (f, cs_f) = part(&h.f, eps, c_star)?;
    let (g, cs_g) = part(&h.g, eps, c_star)?;
    let (composite, cs_c) = part(&h.composite, eps, c_star)?;
    let kf = k as f64;
    Ok(ConceptComplexity {
        c_star,
        eps,
        k,
        b_f_bound: (kf * f.p as f64 * cs_f).sqrt(),
        l_g_bound: (kf * g.p as f64 * cs_g).sqrt(),
        alpha_max_theorem1: 1.0 / (kf * g.p as f64 * cs_g),
        alpha: h.alpha,
        output_scale: h.output_scale,
        log10_composite_over_parts: (cs_c / (cs_f + cs_g)).log10(),
        f,
        g,
        composite,
        decomposition: decomposition.to_string(),
    })
}

/// [`concept_complexity`] of Figure 2's target with C\* = [`C_STAR`].
pub fn fig2_complexity(t: &Fig2Target) -> Result<ConceptComplexity> {
    concept_complexity(
        &fig2_concept(t)?,
        C_STAR,
        0.1,
        "u = x/sqrt(d); H/S = F^(u) + alpha G^(F^(u)), S = |beta| sqrt(k); every product of \
         coordinates written by polarization (seed 003 App. E.4) with ||w|| = 1/sqrt(2), \
         |a| = 1 and the scale in the activation (footnote 8); see src/theory/hierarchical.rs",
    )
}

/// [`concept_complexity`] of Theorem 2's instance with C\* = [`C_STAR`].
pub fn thm2_complexity(t: &Thm2Target) -> Result<ConceptComplexity> {
    concept_complexity(
        &thm2_concept(t)?,
        C_STAR,
        0.1,
        "x on {+-1/sqrt(d)}^d has norm 1; H/S = F^(x) + alpha G^(F^(x)), S = |beta| sqrt(k); F^ \
         one ridge per output, G^ the product of all k coordinates by polarization (seed 003 App. \
         E.4) with ||v|| = 1/sqrt(2); see src/theory/hierarchical.rs",
    )
}
