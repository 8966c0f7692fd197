//! The infinite-width dual maps of the activations: for centred Gaussians
//! (u, v) with Var u = q₁, Var v = q₂, Cov(u, v) = s,
//! Σ' = E[φ(u)φ(v)] and Σ̇ = E[φ'(u)φ'(v)] (the NTK then maps Θ ↦ Σ̇·Θ).
//! The formulas and their sources are tabled in docs/compose.md.
//!
//! Closed forms: ReLU, ABReLU (LeakyReLU, Abs) from Cho & Saul (2009)'s
//! arc-cosine functions J₀, J₁ ([`crate::kernels::arccos`], seed 001 eq. 3,
//! seed 003 §3); Sign, Erf (Williams 1997), Sin/Cos, Exp and Gaussian as in
//! Novak et al. (2020, neural-tangents); GELU by Gaussian conditioning (below).
//! Expressions: Gauss–Hermite quadrature with `nodes` nodes per axis.

use super::arch::Act;
use super::expr::{erf, Expr};
use crate::kernels::arccos::{relu_j, relu_pair};
use std::f64::consts::PI;

/// A covariance pair: Var u = q1, Var v = q2, Cov(u, v) = s; `same` marks x = x'
/// (a Gram diagonal), where the correlation is exactly 1.
#[derive(Clone, Copy, Debug)]
pub struct Cov {
    pub q1: f64,
    pub q2: f64,
    pub s: f64,
    pub same: bool,
}

/// An activation ready to evaluate: closed forms, or an expression with its
/// Gauss–Hermite rule.
#[derive(Clone, Debug)]
pub enum ActMap {
    Closed(Act),
    Quad {
        expr: Expr,
        /// √2·(Gauss–Hermite nodes), so z = node is a standard normal point.
        z: Vec<f64>,
        /// weights / √π (sum to 1).
        w: Vec<f64>,
    },
}

impl ActMap {
    /// Compiles an activation (the expression parsed, the rule computed).
    pub fn new(a: &Act) -> crate::error::Result<ActMap> {
        Ok(match a {
            Act::Expr { src, nodes } => {
                let expr = Expr::parse(src)?;
                let (z, w) = gauss_hermite_normal(*nodes);
                ActMap::Quad { expr, z, w }
            }
            other => ActMap::Closed(other.clone()),
        })
    }

    /// (Σ', Σ̇) of one covariance pair.
    #[inline]
    pub fn pair(&self, c: Cov) -> (f64, f64) {
        match self {
            ActMap::Closed(a) => closed_pair(a, c),
            ActMap::Quad { expr, z, w } => quad_pair(&|t| expr.eval(t), c, z, w),
        }
    }

    /// φ(z) and φ'(z) at one point: the finite network's activation
    /// ([`crate::models::composed`]), from the same definitions as the dual maps
    /// ([`closed_point`] for closed forms, the parsed expression otherwise).
    #[inline]
    pub fn point(&self, z: f64) -> (f64, f64) {
        match self {
            ActMap::Closed(a) => closed_point(a, z),
            ActMap::Quad { expr, .. } => expr.eval(z),
        }
    }

    /// Σ' of the diagonal: E[φ(u)²] with Var u = q.
    #[inline]
    pub fn var(&self, q: f64) -> f64 {
        match self {
            ActMap::Closed(Act::Relu) => 0.5 * q,
            _ => {
                self.pair(Cov {
                    q1: q,
                    q2: q,
                    s: q,
                    same: true,
                })
                .0
            }
        }
    }
}

/// φ(z) and φ'(z) of a closed-form activation, as its [`Act`] variant defines it
/// (the functions whose Gaussian expectations [`closed_pair`] gives). Kinks take
/// the right derivative (ReLU: 1{z ≥ 0}, seed 001 eq. 5); sign' = 0.
pub fn closed_point(act: &Act, z: f64) -> (f64, f64) {
    let abrelu = |a: f64, b: f64| {
        if z >= 0.0 {
            (b * z, b)
        } else {
            (a * z, a)
        }
    };
    match *act {
        Act::Relu => abrelu(0.0, 1.0),
        Act::LeakyRelu { alpha } => abrelu(alpha, 1.0),
        Act::AbRelu { a, b } => abrelu(a, b),
        Act::Abs => abrelu(-1.0, 1.0),
        Act::Sign => (
            if z > 0.0 {
                1.0
            } else if z < 0.0 {
                -1.0
            } else {
                0.0
            },
            0.0,
        ),
        Act::Erf { a, b, c } => (
            a * erf(b * z) + c,
            a * b * std::f64::consts::FRAC_2_SQRT_PI * (-(b * z) * (b * z)).exp(),
        ),
        Act::Gelu => {
            let cdf = 0.5 * (1.0 + erf(z * std::f64::consts::FRAC_1_SQRT_2));
            let pdf = (-0.5 * z * z).exp() / (2.0 * PI).sqrt();
            (z * cdf, cdf + z * pdf)
        }
        Act::Sin { a, b, c } => (a * (b * z + c).sin(), a * b * (b * z + c).cos()),
        Act::Cos { a, b, c } => (a * (b * z + c).cos(), -a * b * (b * z + c).sin()),
        Act::Exp { a, b } => {
            let e = (b * z).exp();
            (a * e, a * b * e)
        }
        Act::Gaussian { a, b } => {
            let e = (b * z * z).exp();
            (a * e, 2.0 * a * b * z * e)
        }
        Act::Expr { .. } => unreachable!("expressions are ActMap::Quad"),
    }
}

/// Gauss–Hermite rule for a standard normal: points z_i and weights w_i with
/// Σ w_i f(z_i) ≈ E[f(Z)], Z ~ N(0, 1), exact for polynomials of degree < 2n.
/// Nodes by Newton's method on the orthonormal Hermite recurrence (Numerical
/// Recipes' `gauher`), symmetric by construction.
pub fn gauss_hermite_normal(n: usize) -> (Vec<f64>, Vec<f64>) {
    let pim4 = PI.powf(-0.25);
    let mut x = vec![0.0; n];
    let mut w = vec![0.0; n];
    let m = n.div_ceil(2);
    let mut z = 0.0f64;
    for i in 0..m {
        z = match i {
            0 => (2.0 * n as f64 + 1.0).sqrt() - 1.85575 * (2.0 * n as f64 + 1.0).powf(-1.0 / 6.0),
            1 => z - 1.14 * (n as f64).powf(0.426) / z,
            2 => 1.86 * z - 0.86 * x[0],
            3 => 1.91 * z - 0.91 * x[1],
            _ => 2.0 * z - x[i - 2],
        };
        let mut pp = 0.0;
        for _ in 0..100 {
            let mut p1 = pim4;
            let mut p2 = 0.0;
            for j in 0..n {
                let p3 = p2;
                p2 = p1;
                p1 = z * (2.0 / (j as f64 + 1.0)).sqrt() * p2
                    - (j as f64 / (j as f64 + 1.0)).sqrt() * p3;
            }
            pp = (2.0 * n as f64).sqrt() * p2;
            let z1 = z;
            z = z1 - p1 / pp;
            if (z - z1).abs() <= 1e-15 * z.abs().max(1.0) {
                break;
            }
        }
        x[i] = z;
        x[n - 1 - i] = -z;
        w[i] = 2.0 / (pp * pp);
        w[n - 1 - i] = w[i];
    }
    if n % 2 == 1 {
        x[m - 1] = 0.0;
    }
    let s = std::f64::consts::SQRT_2;
    let norm = PI.sqrt();
    (
        x.iter().map(|v| v * s).collect(),
        w.iter().map(|v| v / norm).collect(),
    )
}

/// (E[φ(u)φ(v)], E[φ'(u)φ'(v)]) by the 2-D product rule: u = √q₁ z₁,
/// v = √q₂ (ρ z₁ + √(1 − ρ²) z₂), z₁, z₂ independent standard normals.
pub fn quad_pair(f: &dyn Fn(f64) -> (f64, f64), c: Cov, z: &[f64], w: &[f64]) -> (f64, f64) {
    let (r1, r2) = (c.q1.sqrt(), c.q2.sqrt());
    if c.same {
        let (mut a, mut b) = (0.0, 0.0);
        for (zi, wi) in z.iter().zip(w) {
            let (v, d) = f(r1 * zi);
            a += wi * v * v;
            b += wi * d * d;
        }
        return (a, b);
    }
    let rho = if r1 * r2 > 0.0 {
        (c.s / (r1 * r2)).clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let perp = ((1.0 - rho) * (1.0 + rho)).max(0.0).sqrt();
    let (mut a, mut b) = (0.0, 0.0);
    for (zi, wi) in z.iter().zip(w) {
        let (fu, du) = f(r1 * zi);
        let (mut ia, mut ib) = (0.0, 0.0);
        for (zj, wj) in z.iter().zip(w) {
            let (fv, dv) = f(r2 * (rho * zi + perp * zj));
            ia += wj * fv;
            ib += wj * dv;
        }
        a += wi * fu * ia;
        b += wi * du * ib;
    }
    (a, b)
}

/// cos θ = s/√(q₁q₂) clamped, with √(q₁q₂); `None` when a variance is 0.
#[inline(always)]
fn corr(c: Cov) -> (f64, f64) {
    let nab = (c.q1 * c.q2).sqrt();
    let rho = if c.same {
        1.0
    } else if nab == 0.0 {
        0.0
    } else {
        (c.s / nab).clamp(-1.0, 1.0)
    };
    (nab, rho)
}

/// ABReLU a·min(z, 0) + b·max(z, 0): Σ' = √(q₁q₂)/(2π)·[(a² + b²)J₁(θ) − 2ab·J₁(π − θ)],
/// Σ̇ = [(a² + b²)(π − θ) + 2ab·θ]/(2π) (φ = b·relu(z) − a·relu(−z) in Cho & Saul's J's).
fn abrelu(a: f64, b: f64, c: Cov) -> (f64, f64) {
    let (nab, rho) = corr(c);
    let th = if c.same { 0.0 } else { rho.acos() };
    let (j0, j1) = relu_j(rho, th);
    let j1_opp = ((1.0 - rho) * (1.0 + rho)).max(0.0).sqrt() - th * rho;
    let sq = a * a + b * b;
    (
        nab * (sq * j1 - 2.0 * a * b * j1_opp) / (2.0 * PI),
        (sq * j0 + 2.0 * a * b * th) / (2.0 * PI),
    )
}

/// GELU z·Φ(z). With ξ₁, ξ₂ independent standard normals, Φ(u) = P(a > 0 | u) for
/// a = u − ξ₁ (likewise b = v − ξ₂), so E[gelu(u)gelu(v)] = E[uv·1{a>0}1{b>0}] and
/// gelu'(u) = Φ(u) + uφ(u) = E[1{a>0} + u·δ(a) | u]: both are Gaussian integrals of
/// (u, v, a, b), evaluated by regressing (u, v) on (a, b). Cov(a, b) = M =
/// [[q₁+1, s], [s, q₂+1]], never singular.
fn gelu(c: Cov) -> (f64, f64) {
    let (q1, q2, s) = if c.same {
        (c.q1, c.q1, c.q1)
    } else {
        (c.q1, c.q2, c.s)
    };
    let (ma, mb, mc) = (q1 + 1.0, q2 + 1.0, s);
    let det = ma * mb - mc * mc;
    // u = α₁a + β₁b + e₁, v = α₂a + β₂b + e₂ (Cov(u,a) = q1, Cov(u,b) = s,
    // Cov(v,a) = s, Cov(v,b) = q2), M⁻¹ = [[mb, −mc], [−mc, ma]]/det
    let (al1, be1) = ((q1 * mb - s * mc) / det, (s * ma - q1 * mc) / det);
    let (al2, be2) = ((s * mb - q2 * mc) / det, (q2 * ma - s * mc) / det);
    let ce = s - (al1 * s + be1 * q2); // residual Cov(e₁, e₂) = Cov(u,v) − Cov(u,(a,b)) M⁻¹ Cov((a,b),v)
    let sab = (ma * mb).sqrt();
    let rho = (mc / sab).clamp(-1.0, 1.0);
    let th = rho.acos();
    let sin = ((1.0 - rho) * (1.0 + rho)).max(0.0).sqrt();
    let p = (PI - th) / (2.0 * PI);
    let eab = sab * (sin + (PI - th) * rho) / (2.0 * PI);
    let eaa = ma * ((PI - th) + sin * rho) / (2.0 * PI);
    let ebb = mb * ((PI - th) + sin * rho) / (2.0 * PI);
    let nngp = al1 * al2 * eaa + (al1 * be2 + be1 * al2) * eab + be1 * be2 * ebb + ce * p;
    // E[u δ(a) 1{b>0}] = p_a(0)·Cov(u,b | a=0)/√Var(b | a=0)·φ(0)
    let inv2pi = 1.0 / (2.0 * PI);
    let vb_a = mb - mc * mc / ma;
    let va_b = ma - mc * mc / mb;
    let u_da_b = (s - q1 * mc / ma) / vb_a.sqrt() * inv2pi / ma.sqrt();
    let v_db_a = (s - q2 * mc / mb) / va_b.sqrt() * inv2pi / mb.sqrt();
    // E[uv δ(a)δ(b)] = p_ab(0,0)·Cov(u,v | a=b=0)
    let uv_dd = ce * inv2pi / det.sqrt();
    (nngp, p + u_da_b + v_db_a + uv_dd)
}

/// (Σ', Σ̇) of a closed-form activation.
pub fn closed_pair(act: &Act, c: Cov) -> (f64, f64) {
    match *act {
        Act::Relu => {
            // the order of operations of crate::kernels::fc::fc_entry, bit for bit
            if c.same {
                (0.5 * (c.q1 * c.q2).sqrt(), 0.5)
            } else {
                relu_pair(c.q1, c.q2, c.s)
            }
        }
        Act::LeakyRelu { alpha } => abrelu(alpha, 1.0, c),
        Act::AbRelu { a, b } => abrelu(a, b, c),
        Act::Abs => abrelu(-1.0, 1.0, c),
        Act::Sign => {
            // E[sign u sign v] = 1 − 2θ/π = (2/π) arcsin ρ; sign' = 0 a.e.
            let (nab, rho) = corr(c);
            if nab == 0.0 {
                (0.0, 0.0)
            } else {
                (2.0 / PI * rho.asin(), 0.0)
            }
        }
        Act::Erf { a, b, c: shift } => {
            let (q1, q2, s) = if c.same {
                (c.q1, c.q1, c.q1)
            } else {
                (c.q1, c.q2, c.s)
            };
            let b2 = 2.0 * b * b;
            let (d1, d2) = (1.0 + b2 * q1, 1.0 + b2 * q2);
            let arg = (b2 * s / (d1 * d2).sqrt()).clamp(-1.0, 1.0);
            (
                a * a * 2.0 / PI * arg.asin() + shift * shift,
                a * a * b * b * 4.0 / PI / (d1 * d2 - b2 * b2 * s * s).sqrt(),
            )
        }
        Act::Gelu => gelu(c),
        Act::Sin { a, b, c: ph } | Act::Cos { a, b, c: ph } => {
            let (q1, q2, s) = if c.same {
                (c.q1, c.q1, c.q1)
            } else {
                (c.q1, c.q2, c.s)
            };
            let bb = b * b;
            let em = (-0.5 * bb * (q1 + q2 - 2.0 * s)).exp();
            let ep = (-0.5 * bb * (q1 + q2 + 2.0 * s)).exp() * (2.0 * ph).cos();
            // sin: ½[E cos(b(u−v)) − E cos(b(u+v) + 2c)]; cos: the sign of the second term flips
            let sgn = if matches!(act, Act::Sin { .. }) {
                1.0
            } else {
                -1.0
            };
            (
                0.5 * a * a * (em - sgn * ep),
                0.5 * a * a * bb * (em + sgn * ep),
            )
        }
        Act::Exp { a, b } => {
            let (q1, q2, s) = if c.same {
                (c.q1, c.q1, c.q1)
            } else {
                (c.q1, c.q2, c.s)
            };
            let e = (0.5 * b * b * (q1 + q2 + 2.0 * s)).exp();
            (a * a * e, a * a * b * b * e)
        }
        Act::Gaussian { a, b } => {
            // E[exp(b(u² + v²))] = det(I − 2bC)^{−1/2}; E[uv·exp(b(u² + v²))] = s·det^{−3/2}
            let (q1, q2, s) = if c.same {
                (c.q1, c.q1, c.q1)
            } else {
                (c.q1, c.q2, c.s)
            };
            let det = (1.0 - 2.0 * b * q1) * (1.0 - 2.0 * b * q2) - 4.0 * b * b * s * s;
            let r = 1.0 / det.sqrt();
            (a * a * r, 4.0 * a * a * b * b * s * r * r * r)
        }
        Act::Expr { .. } => unreachable!("expressions are ActMap::Quad"),
    }
}
