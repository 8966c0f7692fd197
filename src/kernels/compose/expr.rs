//! Activations written as expressions in z (`"tanh(z)"`, `"arctan(z/2)"`,
//! `"z^2 + sin(z)"`), evaluated with their derivative by forward-mode dual
//! numbers, for the Gauss–Hermite dual maps of [`super::maps`].
//!
//! The complexity calculators' parser ([`crate::taylor::AnalyticFn::parse`])
//! accepts the named analytic functions with a scale (`tanh(0.5z)`,
//! `arctan(z/2)`); every such spelling means the same function here, except that
//! `exp` and `cos` are the functions themselves, not the shifted exp − 1 and
//! cos − 1 of the Taylor measures. Beyond those, this grammar takes sums,
//! products, quotients, powers (`^`, also `**`) and compositions of
//! sin cos tan tanh sinh cosh exp log sqrt abs arctan/atan sigmoid erf relu sign,
//! the constants `pi` and `e`, and implicit products like `2z` or `3(z+1)`.

use crate::error::{Error, Result};

/// A parsed expression in z.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    node: Node,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Z,
    C(f64),
    Neg(Box<Node>),
    Bin(char, Box<Node>, Box<Node>),
    F(Fun, Box<Node>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fun {
    Sin,
    Cos,
    Tan,
    Tanh,
    Sinh,
    Cosh,
    Exp,
    Log,
    Sqrt,
    Abs,
    Atan,
    Sigmoid,
    Erf,
    Relu,
    Sign,
}

const FUNS: &str = "sin cos tan tanh sinh cosh exp log sqrt abs arctan atan sigmoid erf relu sign";

fn err(msg: String) -> Error {
    Error::invalid("expr", msg)
}

/// erf(x) to about 1e−16 relative: erf x = (2/√π) e^{−x²} Σ_n 2ⁿ x^{2n+1}/(2n+1)!!
/// (every term positive, no cancellation), and ±1 for |x| ≥ 6 (erfc(6) < 3e−17).
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x.abs() >= 6.0 {
        return x.signum();
    }
    let x2 = x * x;
    let mut term = x;
    let mut sum = x;
    let mut n = 0.0;
    while term.abs() > 1e-17 * sum.abs() {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
    }
    std::f64::consts::FRAC_2_SQRT_PI * (-x2).exp() * sum
}

/// sign(v), 0 at 0.
fn sgn(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Value and derivative.
#[derive(Clone, Copy, Debug)]
struct Dual(f64, f64);

impl Fun {
    fn parse(s: &str) -> Option<Fun> {
        Some(match s {
            "sin" => Fun::Sin,
            "cos" => Fun::Cos,
            "tan" => Fun::Tan,
            "tanh" => Fun::Tanh,
            "sinh" => Fun::Sinh,
            "cosh" => Fun::Cosh,
            "exp" => Fun::Exp,
            "log" | "ln" => Fun::Log,
            "sqrt" => Fun::Sqrt,
            "abs" => Fun::Abs,
            "arctan" | "atan" => Fun::Atan,
            "sigmoid" | "sigma" => Fun::Sigmoid,
            "erf" => Fun::Erf,
            "relu" => Fun::Relu,
            "sign" => Fun::Sign,
            _ => return None,
        })
    }

    fn apply(self, Dual(v, d): Dual) -> Dual {
        let (f, df) = match self {
            Fun::Sin => (v.sin(), v.cos()),
            Fun::Cos => (v.cos(), -v.sin()),
            Fun::Tan => (v.tan(), 1.0 / (v.cos() * v.cos())),
            Fun::Tanh => {
                let t = v.tanh();
                (t, 1.0 - t * t)
            }
            Fun::Sinh => (v.sinh(), v.cosh()),
            Fun::Cosh => (v.cosh(), v.sinh()),
            Fun::Exp => {
                let e = v.exp();
                (e, e)
            }
            Fun::Log => (v.ln(), 1.0 / v),
            Fun::Sqrt => {
                let r = v.sqrt();
                (r, 0.5 / r)
            }
            Fun::Abs => (v.abs(), sgn(v)),
            Fun::Atan => (v.atan(), 1.0 / (1.0 + v * v)),
            Fun::Sigmoid => {
                let s = 1.0 / (1.0 + (-v).exp());
                (s, s * (1.0 - s))
            }
            Fun::Erf => (erf(v), std::f64::consts::FRAC_2_SQRT_PI * (-v * v).exp()),
            Fun::Relu => (v.max(0.0), if v > 0.0 { 1.0 } else { 0.0 }),
            Fun::Sign => (sgn(v), 0.0),
        };
        Dual(f, df * d)
    }
}

impl Node {
    fn eval(&self, z: Dual) -> Dual {
        match self {
            Node::Z => z,
            Node::C(c) => Dual(*c, 0.0),
            Node::Neg(a) => {
                let Dual(v, d) = a.eval(z);
                Dual(-v, -d)
            }
            Node::F(f, a) => f.apply(a.eval(z)),
            Node::Bin(op, a, b) => {
                let (Dual(u, du), Dual(v, dv)) = (a.eval(z), b.eval(z));
                match op {
                    '+' => Dual(u + v, du + dv),
                    '-' => Dual(u - v, du - dv),
                    '*' => Dual(u * v, du * v + u * dv),
                    '/' => Dual(u / v, (du * v - u * dv) / (v * v)),
                    _ => {
                        // u^v: a constant integer exponent keeps negative bases
                        if let Node::C(p) = **b {
                            let val = if p.fract() == 0.0 && p.abs() < 64.0 {
                                u.powi(p as i32)
                            } else {
                                u.powf(p)
                            };
                            let der = if p == 0.0 {
                                0.0
                            } else if p.fract() == 0.0 && p.abs() < 64.0 {
                                p * u.powi(p as i32 - 1) * du
                            } else {
                                p * u.powf(p - 1.0) * du
                            };
                            Dual(val, der)
                        } else {
                            let val = u.powf(v);
                            Dual(val, val * (dv * u.ln() + v * du / u))
                        }
                    }
                }
            }
        }
    }
}

impl Expr {
    /// Parses an expression in z (see the module docs); errors name the
    /// expression and what did not parse.
    pub fn parse(src: &str) -> Result<Expr> {
        let cs: Vec<char> = src
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase()
            .replace("**", "^")
            .chars()
            .collect();
        if cs.is_empty() {
            return Err(err("an empty expression".into()));
        }
        let mut p = P { cs, i: 0, src };
        let node = p.sum()?;
        if p.i < p.cs.len() {
            return Err(err(format!(
                "'{src}': unexpected '{}' at character {}",
                p.cs[p.i],
                p.i + 1
            )));
        }
        Ok(Expr { node })
    }

    /// φ(z) and φ'(z).
    #[inline]
    pub fn eval(&self, z: f64) -> (f64, f64) {
        let Dual(v, d) = self.node.eval(Dual(z, 1.0));
        (v, d)
    }

    /// Refuses an expression whose value or derivative is not finite at the
    /// points a standard Gaussian puts its mass on (|z| ≤ 8 and 0), or that is
    /// constant (a zero derivative everywhere gives a zero NTK: likely a typo).
    pub fn check_differentiable(&self) -> Result<()> {
        let mut any = false;
        for k in -32..=32 {
            let z = k as f64 * 0.25 + 1e-3;
            let (v, d) = self.eval(z);
            if !v.is_finite() || !d.is_finite() {
                return Err(err(format!(
                    "not finite or not differentiable at z = {z}: value {v}, derivative {d}"
                )));
            }
            any |= d != 0.0;
        }
        let (v0, _) = self.eval(0.0);
        if !v0.is_finite() {
            return Err(err(format!("not finite at z = 0 (value {v0})")));
        }
        if !any {
            return Err(err(
                "its derivative is zero everywhere (a constant activation)".into(),
            ));
        }
        Ok(())
    }
}

struct P<'a> {
    cs: Vec<char>,
    i: usize,
    src: &'a str,
}

impl P<'_> {
    fn peek(&self) -> Option<char> {
        self.cs.get(self.i).copied()
    }
    fn bad(&self, what: &str) -> Error {
        err(format!(
            "'{}': {what} at character {}",
            self.src,
            self.i + 1
        ))
    }
    fn sum(&mut self) -> Result<Node> {
        let mut a = self.product()?;
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.i += 1;
            let b = self.product()?;
            a = Node::Bin(op, Box::new(a), Box::new(b));
        }
        Ok(a)
    }
    fn product(&mut self) -> Result<Node> {
        let mut a = self.unary()?;
        loop {
            match self.peek() {
                Some(op @ ('*' | '/')) => {
                    self.i += 1;
                    let b = self.unary()?;
                    a = Node::Bin(op, Box::new(a), Box::new(b));
                }
                // implicit product: 2z, 3(z+1), 2sin(z)
                Some(c) if c == '(' || c.is_alphabetic() => {
                    let b = self.power()?;
                    a = Node::Bin('*', Box::new(a), Box::new(b));
                }
                _ => return Ok(a),
            }
        }
    }
    fn unary(&mut self) -> Result<Node> {
        match self.peek() {
            Some('-') => {
                self.i += 1;
                Ok(Node::Neg(Box::new(self.unary()?)))
            }
            Some('+') => {
                self.i += 1;
                self.unary()
            }
            _ => self.power(),
        }
    }
    fn power(&mut self) -> Result<Node> {
        let base = self.atom()?;
        if self.peek() == Some('^') {
            self.i += 1;
            let e = self.unary()?; // right-associative, -z^2 = -(z^2) handled by unary
            return Ok(Node::Bin('^', Box::new(base), Box::new(e)));
        }
        Ok(base)
    }
    fn atom(&mut self) -> Result<Node> {
        match self.peek() {
            None => Err(self.bad("the expression ends early")),
            Some('(') => {
                self.i += 1;
                let e = self.sum()?;
                if self.peek() != Some(')') {
                    return Err(self.bad("missing ')'"));
                }
                self.i += 1;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                let s = self.i;
                while let Some(c) = self.peek() {
                    let exp_sign =
                        (c == '-' || c == '+') && self.i > s && self.cs[self.i - 1] == 'e';
                    if c.is_ascii_digit()
                        || c == '.'
                        || exp_sign
                        || (c == 'e'
                            && self
                                .cs
                                .get(self.i + 1)
                                .is_some_and(|d| d.is_ascii_digit() || *d == '-' || *d == '+'))
                    {
                        self.i += 1;
                    } else {
                        break;
                    }
                }
                let t: String = self.cs[s..self.i].iter().collect();
                t.parse::<f64>()
                    .map(Node::C)
                    .map_err(|_| err(format!("'{}': '{t}' is not a number", self.src)))
            }
            Some(c) if c.is_alphabetic() => {
                let s = self.i;
                while self.peek().is_some_and(|c| c.is_alphabetic()) {
                    self.i += 1;
                }
                let name: String = self.cs[s..self.i].iter().collect();
                match name.as_str() {
                    "z" => return Ok(Node::Z),
                    "pi" => return Ok(Node::C(std::f64::consts::PI)),
                    "e" => return Ok(Node::C(std::f64::consts::E)),
                    _ => {}
                }
                let f = Fun::parse(&name).ok_or_else(|| {
                    err(format!(
                        "'{}': unknown name '{name}' (the variable is z; functions: {FUNS})",
                        self.src
                    ))
                })?;
                if self.peek() != Some('(') {
                    return Err(self.bad(&format!("'{name}' needs an argument in parentheses")));
                }
                let arg = self.atom()?;
                Ok(Node::F(f, Box::new(arg)))
            }
            Some(c) => Err(self.bad(&format!("unexpected '{c}'"))),
        }
    }
}
