//! Function complexities and concept complexities of the papers, computed from
//! Taylor coefficients ([`crate::taylor`]).
//!
//! | measure | definition | source |
//! |---|---|---|
//! | [`Measure::C`] | C(ψ,R) = 1 + Σ_{i≥1} i\|c_i\|R^i | seed 004 eq. 6 |
//! | [`Measure::CN`] | C_N(ψ,R) = 1 + Σ_{i≥1} L^N C_1^N √C_{N,i} (i/N)^N \|c_i\| R^i | seed 004 eq. 7 |
//! | [`Measure::Ceps`] | 𝔠_ε(φ,R) = Σ_{i≥0} ((C\*R)^i + (√log(1/ε)/√i · C\*R)^i)\|c_i\| | seed 002 §2, seed 003 §5 |
//! | [`Measure::Cs`] | 𝔠_s(φ,R) = C\* Σ_{i≥0} (i+1)^a R^i \|c_i\|, a = 1.75 (seed 002) or 1 (seed 003) | seed 002 §2, seed 003 §5 |
//! | [`Measure::Arora`] | 3 Σ_p p\|c_p\|R^p, p ∈ {1, 2, 4, …} | seed 001 Cor. 6.2 (eq. 13) with α_p = c_p, ‖β‖ = R |
//!
//! plus the concept complexities of seed 004 eq. 10 ([`concept_additive`]) and
//! eq. 12 ([`concept_n_variable`]), and the bound of seed 001 Cor. 6.2 for an
//! explicit sum of powers ([`arora_cor62_bound`]).
//!
//! **Constants.** [`C1`] = 101: seed 004 says only "C_1 > 100 is a large absolute
//! constant", and 101 is the least integer it allows (every function taking C_1
//! also accepts another value). [`C_STAR`] = 10⁴, the "e.g." of seeds 002 and 003.
//!
//! **Constant term c_0.** Eq. 6 and eq. 7 start at i = 1, so ψ(0) never counts.
//! 𝔠_ε and 𝔠_s start at i = 0 as seeds 002 and 003 write them, so c_0 counts
//! (for sigmoid, c_0 = 1/2 adds C\*/2 to 𝔠_s) unless `centered` is set, which
//! evaluates them on ψ − ψ(0) as seed 002's concept class assumes (Φ(0) = 0,
//! seed 002 §3). In 𝔠_ε the i = 0 term reads both powers as 1 (x⁰ = 1), so it is
//! 2|c_0|. Cor. 6.2 of seed 001 has no constant term (p ≥ 1): a nonzero c_0 is an
//! error there (write the function as in Example 6.3, cos(βᵀx) − 1).
//!
//! **Convergence.** Each series has an effective radius: the function's radius
//! divided by lim_i w_i^{1/i} of the measure's weights w_i — 1 for C, 𝔠_s and
//! Cor. 6.2, √N for C_N (C_{N,i}^{1/i} → N), C\* for 𝔠_ε. At R at or beyond it the
//! result is infinite ([`ComplexityValue::is_finite`] false, value +∞), never a
//! large finite number (every library function's series also diverges on the
//! boundary: its terms do not go to zero there). Below it, the terms are summed in
//! log space (values beyond f64's range, e.g. 𝔠_ε(e^z − 1, 1) ≈ e^{10⁴}, keep an
//! exact logarithm) until the tail, estimated as a geometric series whose ratio
//! is the larger of the last observed term ratio and the limiting ratio
//! (R/effective radius)^step, is below the relative accuracy [`REL_TOL`] = 1e−12
//! of the sum. This estimate is a rigorous bound whenever the term ratios are
//! monotone from there on, which holds for every library function under C, C_N,
//! 𝔠_s and Cor. 6.2. The degree is capped at [`MAX_DEGREE`]; a series not
//! converged by then is an [`Error::Numerical`].

use crate::error::{Error, Result};
use crate::taylor::AnalyticFn;
use serde::Serialize;
use serde_json::json;

/// Seed 004's C_1 ("C_1 > 100 is a large absolute constant", eq. 7): 101, the
/// least integer the paper allows.
pub const C1: f64 = 101.0;
/// Seeds 002/003's C\* ("a sufficiently large constant (e.g., 10⁴)", seed 002 §2).
pub const C_STAR: f64 = 1e4;
/// Exponent of (i + 1) in 𝔠_s in seed 002 §2.
pub const CS_EXPONENT_RNN: f64 = 1.75;
/// Exponent of (i + 1) in 𝔠_s in seed 003 §5 (footnote 7: tightened from 1.75).
pub const CS_EXPONENT_RESNET: f64 = 1.0;
/// Relative accuracy to which convergent series are summed.
pub const REL_TOL: f64 = 1e-12;
/// Largest degree summed before a series is declared not converged.
pub const MAX_DEGREE: usize = 4_000_000;

/// The value of a complexity measure: finite (a convergent series, possibly
/// beyond f64's range, kept exactly as a logarithm) or infinite (divergent).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComplexityValue {
    /// True when the series converges.
    pub is_finite: bool,
    /// The value as f64: +∞ when divergent, also +∞ when convergent but above
    /// f64::MAX (then read [`ComplexityValue::ln_value`]).
    #[serde(serialize_with = "ser_f64_or_str")]
    pub value: f64,
    /// Natural log of the value (+∞ when divergent).
    #[serde(serialize_with = "ser_f64_or_str")]
    pub ln_value: f64,
    /// Highest degree summed (0 when nothing was summed).
    pub degree: usize,
    /// Number of nonzero terms summed.
    pub terms: usize,
    /// Estimated relative size of the tail left out (0 for finite sums).
    pub rel_tail: f64,
    /// The equation and seed this value comes from.
    pub equation: String,
    /// Why the value is infinite, or other remarks.
    pub note: Option<String>,
}

fn ser_f64_or_str<S: serde::Serializer>(v: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(*v)
    } else if *v > 0.0 {
        s.serialize_str("inf")
    } else if *v < 0.0 {
        s.serialize_str("-inf")
    } else {
        s.serialize_str("nan")
    }
}

impl ComplexityValue {
    /// A divergent value with the reason.
    pub fn infinite(equation: impl Into<String>, why: impl Into<String>) -> Self {
        ComplexityValue {
            is_finite: false,
            value: f64::INFINITY,
            ln_value: f64::INFINITY,
            degree: 0,
            terms: 0,
            rel_tail: 0.0,
            equation: equation.into(),
            note: Some(why.into()),
        }
    }

    /// A finite value from its natural logarithm.
    pub fn from_ln(ln_value: f64, equation: impl Into<String>) -> Self {
        ComplexityValue {
            is_finite: true,
            value: ln_value.exp(),
            ln_value,
            degree: 0,
            terms: 0,
            rel_tail: 0.0,
            equation: equation.into(),
            note: None,
        }
    }

    /// log10 of the value (+∞ when divergent).
    pub fn log10_value(&self) -> f64 {
        self.ln_value / std::f64::consts::LN_10
    }

    /// The value multiplied by factor > 0 (stays infinite when infinite).
    pub fn scaled(mut self, factor: f64) -> Self {
        if self.is_finite {
            self.ln_value += factor.ln();
            self.value = self.ln_value.exp();
        }
        self
    }

    /// The sum of two values (infinite when either is).
    pub fn plus(mut self, other: &ComplexityValue) -> Self {
        if !self.is_finite {
            return self;
        }
        if !other.is_finite {
            let mut o = other.clone();
            o.equation = self.equation;
            return o;
        }
        let (a, b) = (self.ln_value, other.ln_value);
        let m = a.max(b);
        self.ln_value = if m == f64::NEG_INFINITY {
            m
        } else {
            m + ((a - m).exp() + (b - m).exp()).ln()
        };
        self.value = self.ln_value.exp();
        self.degree = self.degree.max(other.degree);
        self.terms += other.terms;
        self.rel_tail = self.rel_tail.max(other.rel_tail);
        self
    }

    /// The value for JSON: a number, the string "inf" when divergent, or (when
    /// convergent but beyond f64's range) a string like "8.81e4342".
    pub fn json_value(&self) -> serde_json::Value {
        if !self.is_finite {
            json!("inf")
        } else if self.value.is_finite() {
            json!(self.value)
        } else {
            json!(format_big(self.ln_value))
        }
    }
}

/// Formats e^{ln} in scientific notation even beyond f64's range.
pub fn format_big(ln: f64) -> String {
    let l10 = ln / std::f64::consts::LN_10;
    let e = l10.floor();
    let m = 10f64.powf(l10 - e);
    format!("{m:.6}e{e}")
}

impl std::fmt::Display for ComplexityValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.is_finite {
            write!(f, "inf")
        } else if self.value.is_finite() {
            write!(f, "{}", self.value)
        } else {
            write!(f, "{}", format_big(self.ln_value))
        }
    }
}

/// Running log-sum-exp.
#[derive(Clone, Copy)]
struct LogSum {
    m: f64,
    s: f64,
}

impl LogSum {
    fn new() -> Self {
        LogSum {
            m: f64::NEG_INFINITY,
            s: 0.0,
        }
    }
    fn add(&mut self, ln_t: f64) {
        if ln_t == f64::NEG_INFINITY {
            return;
        }
        if ln_t > self.m {
            self.s = self.s * (self.m - ln_t).exp() + 1.0;
            self.m = ln_t;
        } else {
            self.s += (ln_t - self.m).exp();
        }
    }
    fn ln(&self) -> f64 {
        if self.s == 0.0 {
            f64::NEG_INFINITY
        } else {
            self.m + self.s.ln()
        }
    }
}

/// The generic summation of `constant + Σ_i w_i |c_i| R^i` over the nonzero
/// coefficients with i ≥ `start`, with ln w_i from `ln_weight` (returning an
/// error rejects the coefficient), `growth` = lim w_i^{1/i}. See the module
/// docs for the convergence rule.
#[allow(clippy::too_many_arguments)]
fn sum_series(
    f: &AnalyticFn,
    r: f64,
    start: usize,
    constant: f64,
    growth: f64,
    rel_tol: f64,
    equation: &str,
    mut ln_weight: impl FnMut(usize) -> Result<f64>,
) -> Result<ComplexityValue> {
    check_r(r)?;
    if !(rel_tol > 0.0 && rel_tol < 1.0) {
        return Err(Error::invalid(
            "rel_tol",
            format!("must lie in (0, 1), got {rel_tol}"),
        ));
    }
    let eff_radius = f.radius() / growth;
    if r >= eff_radius {
        let why = if growth == 1.0 {
            format!(
                "R = {r} is at or beyond the radius of convergence {} of {}: the series diverges",
                f.radius(),
                f.name()
            )
        } else {
            format!(
                "R = {r} is at or beyond the effective radius {eff_radius} (= radius {} of {} / \
                 growth {growth} of the weights): the series diverges",
                f.radius(),
                f.name()
            )
        };
        return Ok(ComplexityValue::infinite(equation, why));
    }
    let q_inf = r / eff_radius; // per unit degree; 0 for entire functions
    let ln_r = r.ln();
    let mut sum = LogSum::new();
    if constant > 0.0 {
        sum.add(constant.ln());
    }
    let mut prev: Option<(usize, f64)> = None;
    let mut small_ratio_run = 0usize;
    let mut degree = 0usize;
    let mut terms = 0usize;
    let mut rel_tail = f64::INFINITY;
    let mut converged = false;
    let polynomial = f.is_polynomial();
    for (i, ln_c) in f.ln_abs_coefficients() {
        if i < start {
            continue;
        }
        if i > MAX_DEGREE {
            break;
        }
        if r == 0.0 && i > 0 {
            converged = true;
            rel_tail = 0.0;
            break;
        }
        let ln_w = ln_weight(i)?;
        let ln_t = ln_w + ln_c + if i == 0 { 0.0 } else { i as f64 * ln_r };
        sum.add(ln_t);
        degree = i;
        terms += 1;
        if let (Some((pi, pl)), false) = (prev, polynomial) {
            let step = (i - pi) as f64;
            let rho = ((ln_t - pl) / step).exp();
            let q = rho.max(q_inf).powf(step);
            if q < 1.0 {
                small_ratio_run += 1;
                let tail = (ln_t - sum.ln()).exp() * q / (1.0 - q);
                rel_tail = tail;
                if small_ratio_run >= 3 && tail <= rel_tol {
                    converged = true;
                    break;
                }
            } else {
                small_ratio_run = 0;
            }
        }
        prev = Some((i, ln_t));
    }
    if polynomial {
        converged = true;
        rel_tail = 0.0;
    }
    if !converged {
        return Err(Error::Numerical(format!(
            "{equation} for {} at R = {r} did not converge to relative accuracy {rel_tol} \
             by degree {MAX_DEGREE} (last relative tail estimate {rel_tail:.3e})",
            f.name()
        )));
    }
    let ln_value = sum.ln();
    Ok(ComplexityValue {
        is_finite: true,
        value: ln_value.exp(),
        ln_value,
        degree,
        terms,
        rel_tail,
        equation: equation.to_string(),
        note: None,
    })
}

fn check_r(r: f64) -> Result<()> {
    if r.is_nan() || r < 0.0 || r.is_infinite() {
        return Err(Error::invalid(
            "R",
            format!("must be finite and >= 0, got {r}"),
        ));
    }
    Ok(())
}

/// Seed 004 eq. 6: C(ψ,R) = 1 + Σ_{i≥1} i|c_i|R^i, summed to relative accuracy
/// `rel_tol`; infinite for R ≥ radius(ψ). Example: C(e^z − 1, R) = 1 + R e^R.
pub fn complexity_c(f: &AnalyticFn, r: f64, rel_tol: f64) -> Result<ComplexityValue> {
    sum_series(f, r, 1, 1.0, 1.0, rel_tol, "seed 004 eq. 6", |i| {
        Ok((i as f64).ln())
    })
}

/// Seed 004 eq. 7's C_{N,i}: the largest multinomial coefficient i!/(n_1!…n_N!)
/// over n_1 + … + n_N = i, all n_j > 0, exactly as an integer; `None` when it
/// overflows u128 or when N = 0. The maximum is at the balanced composition
/// (parts ⌊i/N⌋ and ⌈i/N⌉). For i < N no composition with positive parts exists;
/// this returns the natural extension i! (the maximum over n_j ≥ 0, which for
/// i ≥ N equals the maximum over n_j > 0) — see [`multinomial_max_positive`] for
/// the literal definition.
pub fn multinomial_max_exact(n: usize, i: usize) -> Option<u128> {
    if n == 0 {
        return None;
    }
    let (q, rem) = (i / n, i % n);
    // product of binomials: parts in order, Π_j binom(partial sum, part)
    let mut acc: u128 = 1;
    let mut total = 0usize;
    for j in 0..n {
        let part = if j < rem { q + 1 } else { q };
        for k in 1..=part {
            // acc *= (total + k) / k, exact at each step since the running value
            // is binom(total + k, k) times the previous product.
            acc = acc.checked_mul((total + k) as u128)?;
            acc /= k as u128;
        }
        total += part;
    }
    Some(acc)
}

/// The literal C_{N,i} of seed 004 eq. 7 (n_j > 0): `None` when i < N (no such
/// composition) or N = 0, else the same as [`multinomial_max_exact`] as f64
/// (log-space when it overflows u128).
pub fn multinomial_max_positive(n: usize, i: usize) -> Option<f64> {
    if n == 0 || i < n {
        return None;
    }
    Some(ln_multinomial_max(n, i).exp())
}

/// ln C_{N,i} (see [`multinomial_max_exact`] for the definition and the i < N
/// extension): exact (through u128) while it fits, otherwise
/// ln i! − r ln (q+1)! − (N − r) ln q! with i = qN + r and ln k! = Σ ln j
/// (relative error of C_{N,i} ≲ 1e−10 for i ≤ 10⁶). N must be ≥ 1.
pub fn ln_multinomial_max(n: usize, i: usize) -> f64 {
    assert!(n >= 1, "C_{{N,i}} needs N >= 1");
    if let Some(v) = multinomial_max_exact(n, i) {
        return (v as f64).ln();
    }
    let lf = |k: usize| -> f64 { (2..=k).map(|j| (j as f64).ln()).sum() };
    let (q, rem) = (i / n, i % n);
    lf(i) - rem as f64 * lf(q + 1) - (n - rem) as f64 * lf(q)
}

/// Incremental ln C_{N,i} for consecutive i (the series of eq. 7 needs all of
/// them): uses ln C_{N,i} = ln C_{N,i−1} + ln i − ln(n_j + 1), where n_j is the
/// smallest part of the balanced composition of i − 1.
struct LnMultinomial {
    n: usize,
    i: usize,
    ln: f64,
}

impl LnMultinomial {
    fn new(n: usize) -> Self {
        LnMultinomial { n, i: 0, ln: 0.0 }
    }
    fn at(&mut self, i: usize) -> f64 {
        if i < self.i || i > self.i + 64 {
            self.i = i;
            self.ln = ln_multinomial_max(self.n, i);
            return self.ln;
        }
        while self.i < i {
            // balanced composition of self.i has parts q (n − r of them) and
            // q + 1 (r of them); adding one unit raises a part of size q.
            let q = self.i / self.n;
            self.i += 1;
            self.ln += (self.i as f64).ln() - ((q + 1) as f64).ln();
        }
        self.ln
    }
}

/// Seed 004 eq. 7: C_N(ψ,R) = 1 + Σ_{i≥1} L^N C_1^N √C_{N,i} (i/N)^N |c_i| R^i,
/// with C_{N,i} from [`multinomial_max_exact`] (i! for i < N, see there), `l` the
/// sequence length L and `c1` the constant C_1 (use [`C1`]). Since
/// C_{N,i}^{1/i} → N, the series converges only for R < radius(ψ)/√N.
pub fn complexity_cn(
    f: &AnalyticFn,
    r: f64,
    n: usize,
    l: usize,
    c1: f64,
    rel_tol: f64,
) -> Result<ComplexityValue> {
    if n == 0 {
        return Err(Error::invalid("N", "C_N needs N >= 1"));
    }
    if l == 0 {
        return Err(Error::invalid("L", "C_N needs the sequence length L >= 1"));
    }
    if !(c1 > 0.0 && c1.is_finite()) {
        return Err(Error::invalid(
            "C1",
            format!("must be finite and > 0, got {c1}"),
        ));
    }
    let nf = n as f64;
    let base = nf * (l as f64).ln() + nf * c1.ln();
    let mut mult = LnMultinomial::new(n);
    sum_series(f, r, 1, 1.0, nf.sqrt(), rel_tol, "seed 004 eq. 7", |i| {
        Ok(base + 0.5 * mult.at(i) + nf * (i as f64 / nf).ln())
    })
}

/// Seeds 002 §2 / 003 §5: 𝔠_ε(φ,R) = Σ_{i≥0} ((C\*R)^i + (√log(1/ε)/√i · C\*R)^i)|c_i|
/// (the i = 0 term is 2|c_0|; with `centered` the sum is over ψ − ψ(0)), ε ∈ (0,1),
/// log natural. Converges only for R < radius(ψ)/C\*.
pub fn complexity_ceps(
    f: &AnalyticFn,
    r: f64,
    eps: f64,
    c_star: f64,
    centered: bool,
    rel_tol: f64,
) -> Result<ComplexityValue> {
    if !(eps > 0.0 && eps < 1.0) {
        return Err(Error::invalid(
            "eps",
            format!("must lie in (0, 1), got {eps}"),
        ));
    }
    if !(c_star > 0.0 && c_star.is_finite()) {
        return Err(Error::invalid(
            "C_star",
            format!("must be finite and > 0, got {c_star}"),
        ));
    }
    let a2 = (1.0 / eps).ln(); // (√log(1/ε))²
    let ln_cs = c_star.ln();
    sum_series(
        f,
        r,
        usize::from(centered),
        0.0,
        c_star,
        rel_tol,
        "seed 002 §2 / seed 003 §5 (c_eps)",
        |i| {
            if i == 0 {
                return Ok(2f64.ln());
            }
            let fi = i as f64;
            // ln(C*^i (1 + (a²/i)^{i/2})) with a stable softplus
            let x = 0.5 * fi * (a2 / fi).ln();
            let softplus = x.max(0.0) + (-x.abs()).exp().ln_1p();
            Ok(fi * ln_cs + softplus)
        },
    )
}

/// Seeds 002 §2 / 003 §5: 𝔠_s(φ,R) = C\* Σ_{i≥0} (i+1)^a R^i |c_i| with a =
/// `exponent` ([`CS_EXPONENT_RNN`] = 1.75 for seed 002, [`CS_EXPONENT_RESNET`] = 1
/// for seed 003); with `centered` the sum is over ψ − ψ(0).
pub fn complexity_cs(
    f: &AnalyticFn,
    r: f64,
    exponent: f64,
    c_star: f64,
    centered: bool,
    rel_tol: f64,
) -> Result<ComplexityValue> {
    if !(c_star > 0.0 && c_star.is_finite()) {
        return Err(Error::invalid(
            "C_star",
            format!("must be finite and > 0, got {c_star}"),
        ));
    }
    if !exponent.is_finite() {
        return Err(Error::invalid(
            "exponent",
            format!("must be finite, got {exponent}"),
        ));
    }
    let v = sum_series(
        f,
        r,
        usize::from(centered),
        0.0,
        1.0,
        rel_tol,
        "seed 002 §2 / seed 003 §5 (c_s)",
        |i| Ok(exponent * ((i + 1) as f64).ln()),
    )?;
    Ok(v.scaled(c_star))
}

/// [`arora_cor62_bound`] of a seed 001 §6 polynomial target (its terms
/// (α_j, ‖β_j‖, p_j)); an error when a power is neither 1 nor even.
pub fn poly_target_bound(t: &crate::data::synthetic::PolyTarget) -> Result<f64> {
    arora_cor62_bound(&t.cor62_terms())
}

/// Seed 001 Corollary 6.2 (eq. 13): for g(x) = Σ_j α_j (β_jᵀx)^{p_j}, the bound
/// √(yᵀ(H^∞)⁻¹y) ≤ 3 Σ_j p_j |α_j| ‖β_j‖^{p_j}. `terms` are (α_j, ‖β_j‖, p_j);
/// p_j must be 1 or even (Theorem 6.1), ‖β_j‖ ≥ 0. Seed 001's M_g (a bound on
/// yᵀ(H^∞)⁻¹y) is at most the square of this value.
pub fn arora_cor62_bound(terms: &[(f64, f64, u32)]) -> Result<f64> {
    let mut s = 0.0;
    for (j, &(alpha, beta, p)) in terms.iter().enumerate() {
        if !(p == 1 || (p >= 2 && p.is_multiple_of(2))) {
            return Err(Error::invalid(
                "p",
                format!("term {j} has p = {p}; seed 001 Cor. 6.2 allows only p = 1 or even p >= 2"),
            ));
        }
        if !alpha.is_finite() || beta.is_nan() || beta < 0.0 || !beta.is_finite() {
            return Err(Error::invalid(
                "terms",
                format!("term {j} needs finite alpha and finite norm >= 0, got ({alpha}, {beta})"),
            ));
        }
        s += p as f64 * alpha.abs() * beta.powi(p as i32);
    }
    Ok(3.0 * s)
}

/// Seed 001 Cor. 6.2 applied to a Taylor series g(x) = ψ(βᵀx) = Σ_p c_p (βᵀx)^p
/// with ‖β‖ = R (Examples 6.3, 6.4): 3 Σ_p p|c_p|R^p. Errors when ψ(0) ≠ 0 or a
/// coefficient of odd degree ≥ 3 is nonzero (Theorem 6.1 covers p = 1 and even p
/// only), naming the degree. Examples: cos(z) − 1 gives 3R sinh R;
/// z·arctan(z/2) gives 6(R²/(4 − R²) + (R/2) artanh(R/2)).
pub fn arora_series(f: &AnalyticFn, r: f64, rel_tol: f64) -> Result<ComplexityValue> {
    if f.constant_term() != 0.0 {
        return Err(Error::invalid(
            "function",
            format!(
                "{} has psi(0) = {} != 0; seed 001 Cor. 6.2 has no constant term (subtract it, \
                 as Example 6.3 does with cos(beta^T x) - 1)",
                f.name(),
                f.constant_term()
            ),
        ));
    }
    let name = f.name();
    sum_series(
        f,
        r,
        1,
        0.0,
        1.0,
        rel_tol,
        "seed 001 Cor. 6.2 (eq. 13)",
        |i| {
            if i >= 3 && i % 2 == 1 {
                return Err(Error::invalid(
                    "function",
                    format!(
                        "{name} has a nonzero Taylor coefficient at odd degree {i}; seed 001 \
                         Cor. 6.2 covers only p = 1 or even p"
                    ),
                ));
            }
            Ok((3.0 * i as f64).ln())
        },
    )
}

/// Seed 004 eq. 10, the additive concept class (eq. 9)
/// F\*(x) = Σ_{l=1}^{L} Σ_r ψ_{l,r}(β_{l,r}ᵀX_l/‖X_l‖):
/// C(F\*) = L³ Σ_l Σ_r C(ψ_{l,r}, C_0√L). `psis_per_position[l]` lists the ψ_{l,r}
/// of position l (L = its length, ≥ 1); `c0` is C_0 (the bound on
/// C_max/C_min of the input norms).
pub fn concept_additive(
    psis_per_position: &[Vec<AnalyticFn>],
    c0: f64,
    rel_tol: f64,
) -> Result<ComplexityValue> {
    let l = psis_per_position.len();
    if l == 0 {
        return Err(Error::invalid(
            "L",
            "the additive concept needs L >= 1 positions",
        ));
    }
    if !(c0 > 0.0 && c0.is_finite()) {
        return Err(Error::invalid(
            "C0",
            format!("must be finite and > 0, got {c0}"),
        ));
    }
    let r = c0 * (l as f64).sqrt();
    let mut total = ComplexityValue::from_ln(f64::NEG_INFINITY, "seed 004 eq. 10");
    for psis in psis_per_position {
        for psi in psis {
            total = total.plus(&complexity_c(psi, r, rel_tol)?);
        }
    }
    total.value = total.ln_value.exp();
    Ok(total.scaled((l as f64).powi(3)))
}

/// The two forms of seed 004 eq. 12 and their minimum.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NVariableComplexity {
    /// min(first, second): C(F\*) of eq. 12.
    pub value: ComplexityValue,
    /// L² Σ_r C_N(ψ_r, C_0√L).
    pub multinomial_form: ComplexityValue,
    /// L³ Σ_r C(ψ_r, 2^{l_0} C_0√L).
    pub distance_form: ComplexityValue,
}

/// Seed 004 eq. 12, the N-variable concept class (eq. 11)
/// F\*(x) = Σ_r ψ_r(⟨β_r, [X_{l_1},…,X_{l_N}]⟩/(√N max‖X_{l_n}‖)):
/// C(F\*) = min(L² Σ_r C_N(ψ_r, C_0√L), L³ Σ_r C(ψ_r, 2^{l_0} C_0√L)),
/// with the sums over r as in Remark 2.2, `l0` = max l_n − min l_n (≤ L − 1) and
/// `c1` the constant of eq. 7 ([`C1`]).
pub fn concept_n_variable(
    psis: &[AnalyticFn],
    n: usize,
    l: usize,
    l0: usize,
    c0: f64,
    c1: f64,
) -> Result<NVariableComplexity> {
    if psis.is_empty() {
        return Err(Error::invalid(
            "psis",
            "the N-variable concept needs at least one psi_r",
        ));
    }
    if l == 0 {
        return Err(Error::invalid("L", "needs L >= 1"));
    }
    if l0 >= l {
        return Err(Error::invalid(
            "l0",
            format!("l0 = {l0} must be <= L - 1 = {}", l - 1),
        ));
    }
    if !(c0 > 0.0 && c0.is_finite()) {
        return Err(Error::invalid(
            "C0",
            format!("must be finite and > 0, got {c0}"),
        ));
    }
    let lf = l as f64;
    let r = c0 * lf.sqrt();
    let mut first = ComplexityValue::from_ln(f64::NEG_INFINITY, "seed 004 eq. 12 (C_N form)");
    let mut second = ComplexityValue::from_ln(f64::NEG_INFINITY, "seed 004 eq. 12 (2^l0 form)");
    let r2 = r * 2f64.powi(l0 as i32);
    for psi in psis {
        first = first.plus(&complexity_cn(psi, r, n, l, c1, REL_TOL)?);
        second = second.plus(&complexity_c(psi, r2, REL_TOL)?);
    }
    let first = first.scaled(lf * lf);
    let second = second.scaled(lf.powi(3));
    let mut value = if first.ln_value <= second.ln_value {
        first.clone()
    } else {
        second.clone()
    };
    value.equation = "seed 004 eq. 12".to_string();
    Ok(NVariableComplexity {
        value,
        multinomial_form: first,
        distance_form: second,
    })
}

/// The measures the `complexity` command offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Measure {
    /// Seed 004 eq. 6 (with `l`: eq. 10 over L positions).
    C,
    /// Seed 004 eq. 7.
    CN,
    /// 𝔠_ε of seeds 002/003.
    Ceps,
    /// 𝔠_s of seeds 002/003.
    Cs,
    /// Seed 001 Cor. 6.2 on a Taylor series.
    Arora,
}

/// The measure a caller names (the `complexity` command's `--measure`, Python's
/// `measure=`): [`Measure`] plus, for 𝔠_s, which paper's exponent of (i + 1). Read
/// ignoring case and underscores (`CN`, `cn`, `C_N`; `ceps`, `c_eps`; `cs`, `c_s`);
/// also `cepsilon`, `cs-resnet` (= `cs1`) and `cor6.2` (= `arora`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeasureChoice {
    /// Seed 004 eq. 6.
    C,
    /// Seed 004 eq. 7.
    CN,
    /// 𝔠_ε of seeds 002/003.
    Ceps,
    /// 𝔠_s with seed 002's exponent 1.75 of (i + 1).
    Cs,
    /// 𝔠_s with seed 003's exponent 1 of (i + 1).
    Cs1,
    /// Seed 001 Cor. 6.2.
    Arora,
}

crate::options::option_enum!(MeasureChoice, "measure", loose, {
    C => "C"; "seed 004 eq. 6",
    CN => "CN"; "seed 004 eq. 7",
    Ceps => "ceps" | "cepsilon"; "c_eps of seeds 002/003",
    Cs => "cs"; "c_s of seed 002, (i+1)^1.75",
    Cs1 => "cs1" | "cs-resnet"; "c_s of seed 003, (i+1)",
    Arora => "arora" | "cor6.2"; "seed 001 Cor. 6.2",
});

impl MeasureChoice {
    /// The measure [`evaluate`] computes.
    pub fn measure(self) -> Measure {
        match self {
            MeasureChoice::C => Measure::C,
            MeasureChoice::CN => Measure::CN,
            MeasureChoice::Ceps => Measure::Ceps,
            MeasureChoice::Cs | MeasureChoice::Cs1 => Measure::Cs,
            MeasureChoice::Arora => Measure::Arora,
        }
    }

    /// The exponent of (i + 1) in 𝔠_s: seed 002's 1.75 for `cs`, seed 003's 1 for `cs1`;
    /// `None` for the other measures.
    pub fn cs_exponent(self) -> Option<f64> {
        match self {
            MeasureChoice::Cs => Some(CS_EXPONENT_RNN),
            MeasureChoice::Cs1 => Some(CS_EXPONENT_RESNET),
            _ => None,
        }
    }
}

impl Measure {
    /// The short name used on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Measure::C => "C",
            Measure::CN => "CN",
            Measure::Ceps => "ceps",
            Measure::Cs => "cs",
            Measure::Arora => "arora",
        }
    }
}

/// Settings of [`evaluate`]; `Default` gives C_1 = [`C1`], C\* = [`C_STAR`],
/// exponent 1.75, not centered, accuracy [`REL_TOL`], and no N, L, ε.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasureParams {
    /// N of eq. 7 (required by CN, rejected by the others).
    pub n: Option<usize>,
    /// Sequence length L: required by CN (eq. 7's L); with C, gives eq. 10 for one
    /// ψ at each of L positions; rejected by ceps, cs, arora.
    pub l: Option<usize>,
    /// ε of 𝔠_ε (required by ceps, rejected by the others).
    pub eps: Option<f64>,
    /// C_1 of eq. 7.
    pub c1: f64,
    /// C\* of 𝔠_ε, 𝔠_s.
    pub c_star: f64,
    /// Exponent of (i + 1) in 𝔠_s.
    pub cs_exponent: f64,
    /// Evaluate 𝔠_ε, 𝔠_s on ψ − ψ(0).
    pub centered: bool,
    /// Relative accuracy of the sums.
    pub rel_tol: f64,
}

impl Default for MeasureParams {
    fn default() -> Self {
        MeasureParams {
            n: None,
            l: None,
            eps: None,
            c1: C1,
            c_star: C_STAR,
            cs_exponent: CS_EXPONENT_RNN,
            centered: false,
            rel_tol: REL_TOL,
        }
    }
}

fn reject(flag: &str, measure: Measure, applies: &str) -> Error {
    Error::invalid(
        flag,
        format!(
            "{flag} does not apply to --measure {}; it applies to {applies}",
            measure.name()
        ),
    )
}

/// Evaluates `measure` of ψ = `f` at radius `r` (always the radius at which
/// the series is evaluated). `--L` meaning: for CN it is the sequence length L
/// of eq. 7 (required); for C it turns eq. 6 into seed 004 eq. 10 for the
/// additive concept with one ψ at each of the L positions,
/// C(F\*) = L³ · L · C(ψ, R) (the paper's R there is C_0√L: pass that as `r`);
/// ceps, cs and arora have no L (an error naming `--L`). N is only for CN and
/// ε only for ceps (errors naming `--N` / `--eps` otherwise).
pub fn evaluate(
    f: &AnalyticFn,
    measure: Measure,
    r: f64,
    params: &MeasureParams,
) -> Result<ComplexityValue> {
    check_r(r)?;
    if params.n.is_some() && measure != Measure::CN {
        return Err(reject("--N", measure, "--measure CN (seed 004 eq. 7)"));
    }
    if params.eps.is_some() && measure != Measure::Ceps {
        return Err(reject("--eps", measure, "--measure ceps"));
    }
    if params.l.is_some() && !matches!(measure, Measure::C | Measure::CN) {
        return Err(reject(
            "--L",
            measure,
            "--measure CN (L of seed 004 eq. 7) and --measure C (eq. 10 over L positions)",
        ));
    }
    match measure {
        Measure::C => {
            let v = complexity_c(f, r, params.rel_tol)?;
            match params.l {
                None => Ok(v),
                Some(0) => Err(Error::invalid("--L", "must be >= 1")),
                Some(l) => {
                    let mut v = v.scaled((l as f64).powi(4));
                    v.equation = "seed 004 eq. 10 (one psi at each of L positions)".into();
                    Ok(v)
                }
            }
        }
        Measure::CN => {
            let n = params.n.ok_or_else(|| {
                Error::invalid(
                    "--N",
                    "--measure CN (seed 004 eq. 7) needs --N (number of variables)",
                )
            })?;
            let l = params.l.ok_or_else(|| {
                Error::invalid(
                    "--L",
                    "--measure CN needs --L, the sequence length L in the factor L^N of seed 004 eq. 7",
                )
            })?;
            complexity_cn(f, r, n, l, params.c1, params.rel_tol)
        }
        Measure::Ceps => {
            let eps = params
                .eps
                .ok_or_else(|| Error::invalid("--eps", "--measure ceps needs --eps in (0, 1)"))?;
            complexity_ceps(f, r, eps, params.c_star, params.centered, params.rel_tol)
        }
        Measure::Cs => complexity_cs(
            f,
            r,
            params.cs_exponent,
            params.c_star,
            params.centered,
            params.rel_tol,
        ),
        Measure::Arora => arora_series(f, r, params.rel_tol),
    }
}

/// The `complexity` command's JSON: parses `function` ([`AnalyticFn::parse`])
/// and evaluates `measure` (a [`MeasureChoice`], which the caller parses naming its
/// argument) with [`evaluate`] at `R = r` with `--N n`, `--L l`, `--eps eps` and
/// default constants, and returns
/// `{"function", "input", "measure", "R", "value", "finite", "log10_value",
/// "equation", "radius", "effective_radius", "degree", "terms", "rel_tail",
/// "rel_tol", "c0", "N", "L", "eps", "C1", "C_star", "cs_exponent", "note"}`.
/// `value` is a number, or the string "inf" for a divergent series, or (for a
/// convergent series above f64::MAX) a string like "8.81e4342"; `radius` and
/// `effective_radius` are numbers or "inf"; absent settings are null.
pub fn complexity_json(
    function: &str,
    measure: MeasureChoice,
    r: f64,
    n: Option<usize>,
    l: Option<usize>,
    eps: Option<f64>,
) -> Result<serde_json::Value> {
    let f = AnalyticFn::parse(function)?;
    let m = measure.measure();
    let params = MeasureParams {
        n,
        l,
        eps,
        cs_exponent: measure.cs_exponent().unwrap_or(CS_EXPONENT_RNN),
        ..MeasureParams::default()
    };
    let v = evaluate(&f, m, r, &params)?;
    let growth = match m {
        Measure::CN => (n.unwrap_or(1) as f64).sqrt(),
        Measure::Ceps => params.c_star,
        _ => 1.0,
    };
    let num_or_inf = |x: f64| {
        if x.is_finite() {
            json!(x)
        } else {
            json!("inf")
        }
    };
    Ok(json!({
        "function": f.name(),
        "input": function,
        "measure": m.name(),
        "R": r,
        "value": v.json_value(),
        "finite": v.is_finite,
        "log10_value": num_or_inf(v.log10_value()),
        "equation": v.equation,
        "radius": num_or_inf(f.radius()),
        "effective_radius": num_or_inf(f.radius() / growth),
        "degree": v.degree,
        "terms": v.terms,
        "rel_tail": v.rel_tail,
        "rel_tol": params.rel_tol,
        "c0": f.constant_term(),
        "N": n,
        "L": l,
        "eps": eps,
        "C1": if m == Measure::CN { json!(params.c1) } else { json!(null) },
        "C_star": if matches!(m, Measure::Ceps | Measure::Cs) { json!(params.c_star) } else { json!(null) },
        "cs_exponent": if m == Measure::Cs { json!(params.cs_exponent) } else { json!(null) },
        "note": v.note,
    }))
}
