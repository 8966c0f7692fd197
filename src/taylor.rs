//! Analytic functions by their Taylor coefficients at 0, as the complexity
//! measures of the papers need them (seed 004 §2.1, seed 002 §2, seed 003 §5,
//! seed 001 §6).
//!
//! Every function here has an exact closed form for its coefficients c_i of
//! ψ(z) = Σ_i c_i z^i and for its radius of convergence:
//!
//! | function | coefficients | radius |
//! |---|---|---|
//! | `poly:c0,c1,…` (any user list) | as given | ∞ |
//! | exp(cz) − 1 | c^i / i!, i ≥ 1 | ∞ |
//! | sin(cz) | (−1)^k c^{2k+1}/(2k+1)! | ∞ |
//! | cos(cz) − 1 | (−1)^k c^{2k}/(2k)!, k ≥ 1 | ∞ |
//! | arctan(cz) | (−1)^k c^{2k+1}/(2k+1) | 1/\|c\| |
//! | z·arctan(cz) | (−1)^k c^{2k+1}/(2k+1) at z^{2k+2} | 1/\|c\| |
//! | tanh(cz) | (−1)^{n−1} 2 λ(2n) (2/π)^{2n} c^{2n−1} at z^{2n−1} | π/(2\|c\|) |
//! | sigmoid(cz) | 1/2 at z^0, then half the coefficients of tanh(cz/2) | π/\|c\| |
//!
//! **tanh.** The Bernoulli-number series tanh z = Σ_n 2^{2n}(2^{2n}−1)B_{2n} z^{2n−1}/(2n)!
//! is rewritten with |B_{2n}| = 2(2n)! ζ(2n)/(2π)^{2n} as
//! c_{2n−1} = (−1)^{n−1}·2·(2/π)^{2n}·λ(2n), where λ(s) = (1 − 2^{−s})ζ(s) = Σ_{k odd} k^{−s}
//! is Dirichlet's lambda function. λ(2), λ(4), λ(6), λ(8) use their closed forms
//! (π²/8, π⁴/96, π⁶/960, 17π⁸/161280); for s ≥ 10 the odd-k sum is taken (smallest
//! terms first) until k^{−s} < 1e−18, plus an integral bound on the rest. Every
//! coefficient is therefore accurate to a few ulps (relative error ≲ 1e−15), with
//! no cancellation and no growth of error with the degree, unlike the recurrence
//! for the derivatives of tanh. The first values are 1, −1/3, 2/15, −17/315, 62/2835.
//!
//! **sigmoid and the constant term.** [`AnalyticFn::Sigmoid`] is σ(cz) itself, so
//! its c_0 = σ(0) = 1/2 (σ(cz) = 1/2 + tanh(cz/2)/2). `exp` and `cos` are the
//! shifted exp(cz) − 1 and cos(cz) − 1 (the forms seeds 001 and 002 use, with
//! ψ(0) = 0). How each measure treats c_0 is stated in
//! [`crate::theory::complexity`]: eq. 6 and eq. 7 of seed 004 start at i = 1
//! (c_0 never counts); 𝔠_ε and 𝔠_s of seeds 002/003 start at i = 0 as written
//! (c_0 counts unless the caller asks for ψ − ψ(0)); seed 001's Cor. 6.2 has no
//! constant term, so a nonzero c_0 is an error there.
//!
//! Coefficients for the summation of long series are also given as logarithms
//! ([`AnalyticFn::ln_abs_coefficients`]) so that degrees where c_i underflows
//! f64 (e.g. 1/i! for i > 170) still contribute when multiplied by a large R^i.

use crate::error::{Error, Result};
use std::f64::consts::PI;
use std::fmt;

/// The names [`AnalyticFn::parse`] knows, for error messages and help text.
pub const KNOWN_FUNCTIONS: &str = "exp (= exp(z)-1), sin, cos (= cos(z)-1), tanh, sigmoid, \
     arctan(z/2), z*arctan(z/2), a scale inside any of them (exp(2z), sin(3z), tanh(0.5z), \
     exp(2*z), arctan(z/3)), and poly:c0,c1,...";

/// An analytic function ψ(z) = Σ_i c_i z^i with closed-form Taylor coefficients.
///
/// The field `c` is the scale inside the function (ψ(z) = f(cz)); it is finite and
/// nonzero.
#[derive(Clone, Debug, PartialEq)]
pub enum AnalyticFn {
    /// The polynomial Σ_i `coeffs[i]` z^i (also any user-given coefficient list).
    Poly(Vec<f64>),
    /// exp(cz) − 1.
    ExpM1 { c: f64 },
    /// sin(cz).
    Sin { c: f64 },
    /// cos(cz) − 1.
    CosM1 { c: f64 },
    /// arctan(cz) (seed 004 Example 2.1 has c = 1/2).
    Arctan { c: f64 },
    /// z·arctan(cz) (seed 001 Example 6.4 has c = 1/2).
    ZArctan { c: f64 },
    /// tanh(cz).
    Tanh { c: f64 },
    /// sigmoid(cz) = 1/(1 + e^{−cz}); its constant term is 1/2.
    Sigmoid { c: f64 },
}

/// Which powers of z can have nonzero coefficients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parity {
    /// Only odd powers (sin, arctan, tanh).
    Odd,
    /// Only even powers (cos − 1, z·arctan).
    Even,
    /// Any power.
    Any,
}

/// Dirichlet's lambda function λ(s) = Σ_{k odd ≥ 1} k^{−s} = (1 − 2^{−s}) ζ(s) at even s ≥ 2.
fn dirichlet_lambda_even(s: u32) -> f64 {
    debug_assert!(s >= 2 && s.is_multiple_of(2));
    match s {
        2 => PI * PI / 8.0,
        4 => PI.powi(4) / 96.0,
        6 => PI.powi(6) / 960.0,
        8 => 17.0 * PI.powi(8) / 161_280.0,
        _ => {
            let sf = s as f64;
            // Terms k^{-s} for odd k while they exceed 1e-18.
            let mut terms = Vec::new();
            let mut k = 3u64;
            loop {
                let t = (k as f64).powf(-sf);
                if t < 1e-18 {
                    break;
                }
                terms.push(t);
                k += 2;
            }
            // Σ_{odd j ≥ k} j^{-s} ≤ k^{-s} + ∫_k^∞ x^{-s} dx / 2.
            let kf = k as f64;
            let mut sum = kf.powf(-sf) + kf.powf(1.0 - sf) / (2.0 * (sf - 1.0));
            for t in terms.iter().rev() {
                sum += t;
            }
            1.0 + sum
        }
    }
}

/// |tanh coefficient| of z^{2n−1} for tanh(z), as a natural log: ln 2 + 2n ln(2/π) + ln λ(2n).
fn ln_abs_tanh_unit(n: u32) -> f64 {
    std::f64::consts::LN_2 + 2.0 * n as f64 * (2.0 / PI).ln() + dirichlet_lambda_even(2 * n).ln()
}

/// The tanh(z) coefficient of z^{2n−1} (n ≥ 1), with its sign.
fn tanh_unit(n: u32) -> f64 {
    let mag = 2.0 * (2.0 / PI).powi(2 * n as i32) * dirichlet_lambda_even(2 * n);
    if n % 2 == 1 {
        mag
    } else {
        -mag
    }
}

fn check_scale(c: f64, what: &str) -> Result<f64> {
    if !c.is_finite() || c == 0.0 {
        return Err(Error::invalid(
            "function",
            format!("the scale inside {what} must be finite and nonzero, got {c}"),
        ));
    }
    Ok(c)
}

/// Formats a scale c as the argument `z`, `z/k` or `cz`.
fn fmt_arg(c: f64) -> String {
    if c == 1.0 {
        return "z".to_string();
    }
    if c == -1.0 {
        return "-z".to_string();
    }
    let inv = 1.0 / c;
    if inv.abs() >= 2.0 && inv.fract() == 0.0 && inv.abs() < 1e6 {
        if inv > 0.0 {
            return format!("z/{inv}");
        }
        return format!("-z/{}", -inv);
    }
    format!("{c}z")
}

/// Parses the argument inside `name(...)`: `z`, `cz`, `c*z`, `z/k`, `cz/k`, `-z`.
fn parse_arg(arg: &str, full: &str) -> Result<f64> {
    let bad = || {
        Error::invalid(
            "function",
            format!("cannot read the argument '{arg}' of '{full}': write z, 2z, 2*z, 0.5z or z/2"),
        )
    };
    let zpos = arg.find('z').ok_or_else(bad)?;
    let (before, after) = (&arg[..zpos], &arg[zpos + 1..]);
    let before = before.strip_suffix('*').unwrap_or(before);
    let mut c = match before {
        "" | "+" => 1.0,
        "-" => -1.0,
        s => s.parse::<f64>().map_err(|_| bad())?,
    };
    if !after.is_empty() {
        let d = after.strip_prefix('/').ok_or_else(bad)?;
        let d: f64 = d.parse().map_err(|_| bad())?;
        if d == 0.0 {
            return Err(bad());
        }
        c /= d;
    }
    check_scale(c, full)
}

impl AnalyticFn {
    /// A polynomial (or any finite user coefficient list) c_0 + c_1 z + …; errors
    /// on an empty list or a non-finite coefficient.
    pub fn poly(coeffs: Vec<f64>) -> Result<Self> {
        if coeffs.is_empty() {
            return Err(Error::invalid(
                "function",
                "poly: needs at least one coefficient",
            ));
        }
        if let Some((i, c)) = coeffs.iter().enumerate().find(|(_, c)| !c.is_finite()) {
            return Err(Error::invalid(
                "function",
                format!("poly: coefficient c{i} = {c} is not finite"),
            ));
        }
        Ok(AnalyticFn::Poly(coeffs))
    }

    /// Parses a function name: `exp`, `sin`, `cos`, `tanh`, `sigmoid`, `arctan`,
    /// `z*arctan`, each optionally with an argument `(z)`, `(2z)`, `(2*z)`, `(0.5z)`,
    /// `(z/2)`; `exp(z)-1` and `cos(z)-1` spelled out; `poly:c0,c1,…`. Spaces are
    /// ignored and names are case-insensitive. `exp` means exp(cz) − 1 and `cos`
    /// means cos(cz) − 1 (see the module docs). Unknown names are an
    /// [`Error::Invalid`] naming `function` and listing the known ones.
    pub fn parse(s: &str) -> Result<Self> {
        let t: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(rest) = t.strip_prefix("poly:") {
            let coeffs = rest
                .split(',')
                .map(|p| {
                    p.parse::<f64>().map_err(|_| {
                        Error::invalid(
                            "function",
                            format!("poly: cannot read coefficient '{p}' in '{s}'"),
                        )
                    })
                })
                .collect::<Result<Vec<f64>>>()?;
            return AnalyticFn::poly(coeffs);
        }
        let unknown = || {
            Error::invalid(
                "function",
                format!("unknown function '{s}'; known functions are {KNOWN_FUNCTIONS}"),
            )
        };
        let (head, c, rest) = match t.find('(') {
            None => (t.as_str(), 1.0, ""),
            Some(open) => {
                let close = t.rfind(')').ok_or_else(unknown)?;
                if close < open {
                    return Err(unknown());
                }
                let c = parse_arg(&t[open + 1..close], s)?;
                (&t[..open], c, &t[close + 1..])
            }
        };
        let f = match (head, rest) {
            ("exp", "" | "-1") => AnalyticFn::ExpM1 { c },
            ("sin", "") => AnalyticFn::Sin { c },
            ("cos", "" | "-1") => AnalyticFn::CosM1 { c },
            ("tanh", "") => AnalyticFn::Tanh { c },
            ("sigmoid" | "sigma", "") => AnalyticFn::Sigmoid { c },
            ("arctan" | "atan", "") => AnalyticFn::Arctan { c },
            ("z*arctan" | "z*atan" | "zarctan", "") => AnalyticFn::ZArctan { c },
            _ => return Err(unknown()),
        };
        Ok(f)
    }

    /// The canonical name, e.g. `exp(2z)-1`, `arctan(z/2)`, `poly:0,1,0.5`.
    pub fn name(&self) -> String {
        match self {
            AnalyticFn::Poly(cs) => format!(
                "poly:{}",
                cs.iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            AnalyticFn::ExpM1 { c } => format!("exp({})-1", fmt_arg(*c)),
            AnalyticFn::Sin { c } => format!("sin({})", fmt_arg(*c)),
            AnalyticFn::CosM1 { c } => format!("cos({})-1", fmt_arg(*c)),
            AnalyticFn::Arctan { c } => format!("arctan({})", fmt_arg(*c)),
            AnalyticFn::ZArctan { c } => format!("z*arctan({})", fmt_arg(*c)),
            AnalyticFn::Tanh { c } => format!("tanh({})", fmt_arg(*c)),
            AnalyticFn::Sigmoid { c } => format!("sigmoid({})", fmt_arg(*c)),
        }
    }

    /// The radius of convergence of the Taylor series at 0: ∞ for entire
    /// functions and polynomials, 1/|c| for arctan(cz) and z·arctan(cz) (poles of
    /// arctan at ±i/c), π/(2|c|) for tanh(cz), π/|c| for sigmoid(cz).
    pub fn radius(&self) -> f64 {
        match self {
            AnalyticFn::Poly(_)
            | AnalyticFn::ExpM1 { .. }
            | AnalyticFn::Sin { .. }
            | AnalyticFn::CosM1 { .. } => f64::INFINITY,
            AnalyticFn::Arctan { c } | AnalyticFn::ZArctan { c } => 1.0 / c.abs(),
            AnalyticFn::Tanh { c } => PI / (2.0 * c.abs()),
            AnalyticFn::Sigmoid { c } => PI / c.abs(),
        }
    }

    /// True for polynomials (finitely many nonzero coefficients).
    pub fn is_polynomial(&self) -> bool {
        matches!(self, AnalyticFn::Poly(_))
    }

    /// The powers of z that can carry nonzero coefficients (ignoring c_0 of sigmoid).
    pub fn parity(&self) -> Parity {
        match self {
            AnalyticFn::Sin { .. } | AnalyticFn::Arctan { .. } | AnalyticFn::Tanh { .. } => {
                Parity::Odd
            }
            AnalyticFn::CosM1 { .. } | AnalyticFn::ZArctan { .. } => Parity::Even,
            _ => Parity::Any,
        }
    }

    /// The constant term c_0 = ψ(0) (1/2 for sigmoid, 0 for the shifted exp and cos).
    pub fn constant_term(&self) -> f64 {
        match self {
            AnalyticFn::Poly(cs) => cs[0],
            AnalyticFn::Sigmoid { .. } => 0.5,
            _ => 0.0,
        }
    }

    /// The Taylor coefficients c_0, …, c_degree (degree + 1 values) from the closed
    /// forms in the module docs. Factorials are built up by running products (a few
    /// ulps of relative error per coefficient; values below ~1e−308 underflow to 0,
    /// use [`AnalyticFn::ln_abs_coefficients`] there).
    pub fn coefficients(&self, degree: usize) -> Vec<f64> {
        let mut out = vec![0.0; degree + 1];
        match self {
            AnalyticFn::Poly(cs) => {
                for (o, c) in out.iter_mut().zip(cs.iter()) {
                    *o = *c;
                }
            }
            AnalyticFn::ExpM1 { c } | AnalyticFn::Sin { c } | AnalyticFn::CosM1 { c } => {
                // t_i = c^i / i!
                let mut t = 1.0;
                for (i, o) in out.iter_mut().enumerate() {
                    if i > 0 {
                        t *= c / i as f64;
                    }
                    *o = match self {
                        AnalyticFn::ExpM1 { .. } if i >= 1 => t,
                        AnalyticFn::Sin { .. } if i % 2 == 1 => {
                            if (i / 2).is_multiple_of(2) {
                                t
                            } else {
                                -t
                            }
                        }
                        AnalyticFn::CosM1 { .. } if i >= 2 && i.is_multiple_of(2) => {
                            if (i / 2).is_multiple_of(2) {
                                t
                            } else {
                                -t
                            }
                        }
                        _ => 0.0,
                    };
                }
            }
            AnalyticFn::Arctan { c } => {
                for (i, o) in out.iter_mut().enumerate().skip(1).step_by(2) {
                    let k = i / 2;
                    let v = c.powi(i as i32) / i as f64;
                    *o = if k.is_multiple_of(2) { v } else { -v };
                }
            }
            AnalyticFn::ZArctan { c } => {
                for (i, o) in out.iter_mut().enumerate().skip(2).step_by(2) {
                    let j = i - 1; // 2k + 1
                    let k = j / 2;
                    let v = c.powi(j as i32) / j as f64;
                    *o = if k.is_multiple_of(2) { v } else { -v };
                }
            }
            AnalyticFn::Tanh { c } => {
                for (i, o) in out.iter_mut().enumerate().skip(1).step_by(2) {
                    let n = i.div_ceil(2) as u32;
                    *o = tanh_unit(n) * c.powi(i as i32);
                }
            }
            AnalyticFn::Sigmoid { c } => {
                out[0] = 0.5;
                let h = c / 2.0;
                for (i, o) in out.iter_mut().enumerate().skip(1).step_by(2) {
                    let n = i.div_ceil(2) as u32;
                    *o = 0.5 * tanh_unit(n) * h.powi(i as i32);
                }
            }
        }
        out
    }

    /// The single coefficient c_i.
    pub fn coefficient(&self, i: usize) -> f64 {
        match self {
            AnalyticFn::Poly(cs) => cs.get(i).copied().unwrap_or(0.0),
            _ => self.coefficients(i)[i],
        }
    }

    /// ψ(z) evaluated by its closed form (std's exp_m1, sin, atan, tanh …), for
    /// checking truncated series against the function.
    pub fn eval(&self, z: f64) -> f64 {
        match self {
            AnalyticFn::Poly(cs) => cs.iter().rev().fold(0.0, |acc, c| acc * z + c),
            AnalyticFn::ExpM1 { c } => (c * z).exp_m1(),
            AnalyticFn::Sin { c } => (c * z).sin(),
            AnalyticFn::CosM1 { c } => {
                let s = (c * z / 2.0).sin();
                -2.0 * s * s
            }
            AnalyticFn::Arctan { c } => (c * z).atan(),
            AnalyticFn::ZArctan { c } => z * (c * z).atan(),
            AnalyticFn::Tanh { c } => (c * z).tanh(),
            AnalyticFn::Sigmoid { c } => 1.0 / (1.0 + (-c * z).exp()),
        }
    }

    /// The degree-`degree` Taylor polynomial of ψ (seed 002 Example 2.1's truncation).
    pub fn taylor_polynomial(&self, degree: usize) -> AnalyticFn {
        AnalyticFn::Poly(self.coefficients(degree))
    }

    /// Iterates (i, ln|c_i|) over the nonzero coefficients in increasing degree,
    /// from i = 0. Infinite for non-polynomials: the caller caps the degree.
    pub fn ln_abs_coefficients(&self) -> LnCoefficients<'_> {
        LnCoefficients {
            f: self,
            next: 0,
            ln_fact: 0.0,
        }
    }
}

impl fmt::Display for AnalyticFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Iterator of (i, ln|c_i|) over nonzero Taylor coefficients, from
/// [`AnalyticFn::ln_abs_coefficients`]. ln i! is accumulated as Σ ln k (relative
/// error ≲ 1e−13 for i ≤ 10⁶), so coefficients far below f64's range are exact in
/// log form.
pub struct LnCoefficients<'a> {
    f: &'a AnalyticFn,
    next: usize,
    /// ln(next − 1)! before the step, ln(next!) after.
    ln_fact: f64,
}

impl Iterator for LnCoefficients<'_> {
    type Item = (usize, f64);
    fn next(&mut self) -> Option<(usize, f64)> {
        loop {
            let i = self.next;
            if let AnalyticFn::Poly(cs) = self.f {
                if i >= cs.len() {
                    return None;
                }
            }
            self.next += 1;
            if i > 0 {
                self.ln_fact += (i as f64).ln();
            }
            let fi = i as f64;
            let v: Option<f64> = match self.f {
                AnalyticFn::Poly(cs) => (cs[i] != 0.0).then(|| cs[i].abs().ln()),
                AnalyticFn::ExpM1 { c } => (i >= 1).then(|| fi * c.abs().ln() - self.ln_fact),
                AnalyticFn::Sin { c } => (i % 2 == 1).then(|| fi * c.abs().ln() - self.ln_fact),
                AnalyticFn::CosM1 { c } => {
                    (i >= 2 && i.is_multiple_of(2)).then(|| fi * c.abs().ln() - self.ln_fact)
                }
                AnalyticFn::Arctan { c } => (i % 2 == 1).then(|| fi * c.abs().ln() - fi.ln()),
                AnalyticFn::ZArctan { c } => (i >= 2 && i.is_multiple_of(2))
                    .then(|| (fi - 1.0) * c.abs().ln() - (fi - 1.0).ln()),
                AnalyticFn::Tanh { c } => {
                    (i % 2 == 1).then(|| ln_abs_tanh_unit(i.div_ceil(2) as u32) + fi * c.abs().ln())
                }
                AnalyticFn::Sigmoid { c } => {
                    if i == 0 {
                        Some(0.5f64.ln())
                    } else if i % 2 == 1 {
                        Some(
                            0.5f64.ln()
                                + ln_abs_tanh_unit(i.div_ceil(2) as u32)
                                + fi * (c.abs() / 2.0).ln(),
                        )
                    } else {
                        None
                    }
                }
            };
            if let Some(l) = v {
                return Some((i, l));
            }
        }
    }
}
