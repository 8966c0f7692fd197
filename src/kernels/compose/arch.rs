//! An architecture as a value: a tree of layers, parsed from a short text spec,
//! printed back by `Display` (the two round-trip), and serialized with serde so
//! that a result can save the architecture its kernel came from.
//!
//! Spec syntax (spaces ignored outside quotes):
//!
//! ```text
//! [gram=mean|dot;] layer, layer, ...          (a top-level list is a serial net)
//! layer := dense(w=1, b=0, param=ntk|standard, trainable=true, width=N)
//!        | relu | leaky_relu(alpha=0.01) | abrelu(a=.., b=..) | abs | sign
//!        | erf(a=1, b=1, c=0) | gelu | sin(a=1, b=1, c=0) | cos(a=1, b=1, c=0)
//!        | exp(a=1, b=1) | gaussian(a=1, b=-1) | expr('tanh(z)', nodes=48)
//!        | identity | scale(alpha)
//!        | serial(layer, ...) | sum(layer, ...) | prod(layer, ...) | concat(layer, ...)
//!        | rnn(step, len=L, w=1, a=1, b=0, h0=0, train_w=true, train_a=true, train_b=true,
//!              readout=last|all)
//! ```
//!
//! `rnn` (only as the net's first layer: it reads the input sequence) runs the
//! step layers over a sequence of `len` steps with the state fed back,
//! g_t = w·W h_{t−1}/√m + a·A x_t/√d + b·β, h_t = step(g_t) (seed 002 Def. 3.3,
//! seed 004 eq. 14), and passes h_L on; `h0` = 0 starts from h_0 = 0 (Elman),
//! `h0` > 0 from h_0 = step(M_0) with M_0 ~ N(0, h0²) per unit, the same vector
//! for every input (Wang). Its input rows hold the L steps one after the other
//! (an n × L × d array flattened to n × (L·d)). `readout=last` passes h_L on;
//! `readout=all` every h_t (sequence labelling: the kernel is over the n·L pairs
//! (sequence i, step t), row i·L + t).
//!
//! `gram=mean` (the default, neural-tangents' convention) starts from the input
//! covariance xᵀx'/d; `gram=dot` from xᵀx' (seed 001's H^∞ and seed 003's
//! Gaussian/arc-sine kernels use the plain inner product). Positional numbers fill
//! a layer's fields in the order listed (`dense(2, 0.1)` is w = 2, b = 0.1).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a dense layer scales its weights (Lee et al. 2018; Novak et al. 2020).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Param {
    /// f = W_std·W h/√n + b_std·b, every entry of W and b ~ N(0, 1).
    Ntk,
    /// f = W h + b, W_ij ~ N(0, W_std²/n), b ~ N(0, b_std²); the NTK then depends
    /// on the layer widths (the `width` of the previous dense layer, d for the first).
    Standard,
}

/// The first covariance the layers start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Gram {
    /// Σ⁰(x, x') = xᵀx'/d (neural-tangents).
    Mean,
    /// Σ⁰(x, x') = xᵀx' (seed 001 eq. 3, seed 003 §3's Gaussian and arc-sine).
    Dot,
}

/// An elementwise nonlinearity with its infinite-width dual map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Act {
    /// max(z, 0).
    Relu,
    /// z for z > 0, alpha·z otherwise.
    LeakyRelu { alpha: f64 },
    /// a·min(z, 0) + b·max(z, 0).
    AbRelu { a: f64, b: f64 },
    /// |z|.
    Abs,
    /// sign(z) (the step; its derivative is 0 almost everywhere).
    Sign,
    /// a·erf(b z) + c.
    Erf { a: f64, b: f64, c: f64 },
    /// z·Φ(z) (exact, not the tanh approximation).
    Gelu,
    /// a·sin(b z + c).
    Sin { a: f64, b: f64, c: f64 },
    /// a·cos(b z + c).
    Cos { a: f64, b: f64, c: f64 },
    /// a·exp(b z).
    Exp { a: f64, b: f64 },
    /// a·exp(b z²).
    Gaussian { a: f64, b: f64 },
    /// Any expression in z, by Gauss–Hermite quadrature with `nodes` nodes per axis.
    Expr { src: String, nodes: usize },
}

/// One layer of an architecture (a tree: combinators hold layers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Layer {
    /// A fully connected layer.
    Dense {
        w_std: f64,
        b_std: f64,
        param: Param,
        trainable: bool,
        width: Option<usize>,
    },
    /// An elementwise activation.
    Act(Act),
    /// The identity (a skip branch).
    Identity,
    /// Multiplies the output by a constant α (a branch scale: x + α·block).
    Scale(f64),
    /// Layers applied one after the other.
    Serial(Vec<Layer>),
    /// Branches applied to the same input, joined by `fanin`.
    Parallel { fanin: FanIn, branches: Vec<Layer> },
    /// A recurrent layer over the input sequence (the net's first layer).
    Rnn(Box<Rnn>),
}

/// A recurrent layer: g_t = w·W h_{t−1}/√m + a·A x_t/√d + b·β, h_t = step(g_t),
/// t = 1..len, in the NTK parameterization (every entry of W, A, β ~ N(0, 1)); the
/// output is the last state h_len (seed 004 eq. 14 with W, A, M_0 scaled by their
/// standard deviations; seed 002 Def. 3.3 for h_0 = 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rnn {
    /// The layers applied to the pre-activation at every step (e.g. `relu`).
    pub step: Layer,
    /// The sequence length L.
    pub len: usize,
    /// Standard deviation of the recurrent weight W.
    pub w_std: f64,
    /// Standard deviation of the input weight A.
    pub a_std: f64,
    /// Standard deviation of the bias β.
    pub b_std: f64,
    /// 0: h_0 = 0; > 0: h_0 = step(M_0), M_0 ~ N(0, h0²) per unit (not trained).
    pub h0_std: f64,
    /// Which of W, A, β are trained (their gradients enter the NTK).
    pub train_w: bool,
    pub train_a: bool,
    pub train_b: bool,
    /// The output: the last state h_L, or every state h_1..h_L (sequence labelling).
    #[serde(default)]
    pub readout: Readout,
}

/// What a recurrent layer outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Readout {
    /// The last state: one output per sequence.
    #[default]
    Last,
    /// Every state: L outputs per sequence; the kernel is over (sequence, step)
    /// pairs, row i·L + t.
    All,
}

/// How parallel branches are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FanIn {
    /// Sum of the branches' outputs (independent branches: kernels add).
    Sum,
    /// Elementwise product of the branches' outputs (kernels multiply).
    Prod,
    /// Concatenation of the branches (kernels average, weighted by the branches'
    /// widths as neural-tangents' `FanInConcat` does).
    Concat,
}

/// An architecture: the first covariance and the layer tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Arch {
    pub gram: Gram,
    pub net: Layer,
}

pub(crate) const DEFAULT_NODES: usize = 48;
pub(crate) const MAX_NODES: usize = 400;

/// The layer names the parser knows (for error messages).
pub const KNOWN_LAYERS: &str = "dense, relu, leaky_relu, abrelu, abs, sign, erf, gelu, sin, cos, \
     exp, gaussian, expr, identity, scale, serial, sum, prod, concat, rnn";

impl Layer {
    /// A dense layer with NTK parameterization, trainable, no width.
    pub fn dense(w_std: f64, b_std: f64) -> Layer {
        Layer::Dense {
            w_std,
            b_std,
            param: Param::Ntk,
            trainable: true,
            width: None,
        }
    }
}

impl Arch {
    /// Parses a spec (see the module docs); errors name the layer and the field.
    pub fn parse(spec: &str) -> Result<Arch> {
        let toks = tokenize(spec)?;
        let mut p = Parser { toks, pos: 0 };
        let mut gram = Gram::Mean;
        if matches!(p.peek(), Some(Tok::Ident(s)) if s == "gram")
            && matches!(p.toks.get(1), Some(Tok::Eq))
        {
            p.pos += 2;
            gram = match p.next() {
                Some(Tok::Ident(s)) if s == "mean" => Gram::Mean,
                Some(Tok::Ident(s)) if s == "dot" => Gram::Dot,
                t => {
                    return Err(arch_err(format!(
                        "gram: expected 'mean' or 'dot', found {}",
                        show(&t)
                    )))
                }
            };
            match p.next() {
                Some(Tok::Semi) => {}
                t => {
                    return Err(arch_err(format!(
                        "expected ';' after gram=..., found {}",
                        show(&t)
                    )))
                }
            }
        }
        let mut layers = vec![];
        loop {
            let path = format!("layer {}", layers.len() + 1);
            layers.push(p.layer(&path)?);
            match p.next() {
                None => break,
                Some(Tok::Comma) => {}
                t => {
                    return Err(arch_err(format!(
                        "after {path}: expected ',' or the end, found {}",
                        show(&t)
                    )))
                }
            }
        }
        let net = if layers.len() == 1 {
            layers.pop().expect("one layer")
        } else {
            Layer::Serial(layers)
        };
        let arch = Arch { gram, net };
        arch.validate()?;
        Ok(arch)
    }

    /// Checks every field (finite, non-negative standard deviations, node counts,
    /// expressions that parse and are differentiable), naming the layer and field.
    pub fn validate(&self) -> Result<()> {
        self.top_layers()
            .try_for_each(|(path, l)| validate_layer(l, &path))
    }

    /// Checks, for the architecture as a whole network on the raw input, that
    /// every layer receives what its infinite-width map assumes ([`check_flow`]).
    /// The kernel engine ([`super::Program::new`]) and the finite network
    /// ([`crate::models::composed`]) both call this, so a spec means the same
    /// network to both or is refused by both. (A spec that is only a fragment,
    /// such as a lone `relu` to be put in a larger net, parses.)
    pub fn check_net(&self) -> Result<()> {
        self.validate()?;
        self.top_layers()
            .try_fold(Flow::INPUT, |f, (path, l)| check_flow(l, &path, f))
            .map(|_| ())
    }

    /// [`crate::kernels::rnn_infinite`]'s presets as compositions of length `len`
    /// (its NTK, [`crate::kernels::rnn_infinite::rnn_ntk_infinite`], is this
    /// architecture's NTK):
    /// `gram=dot; rnn(relu, len=L, w=√2, a=√2 (Elman) | √(2/L³) (Wang), h0=0 (Elman) | √2 (Wang),
    /// train_a=false, train_b=false), dense(w=√½, trainable=false)`.
    /// W ~ N(0, 2/m) and A ~ N(0, 2/m) or N(0, 2/(L³m)) (seed 002 Def. 3.3, seed 004
    /// eq. 14) are w = √2 and a = √2 or √(2/L³) on the plain inner product of the steps;
    /// h_0 = relu(M_0), M_0 ~ N(0, 2/m), is h0 = √2; only W is trained. The readout
    /// of standard deviation √½ (not trained) converts the NTK parameterization's
    /// gradient, ∂/∂W̃ = (√2/√m)·∂/∂W, to rnn_ntk_infinite's normalization
    /// ⟨∇_W f, ∇_W f'⟩/(m σ_B²): its NTK is ½ of that of a unit readout.
    pub fn rnn_preset(preset: crate::kernels::rnn_infinite::Preset, len: usize) -> Arch {
        use crate::kernels::rnn_infinite::{input_scale, Preset};
        let two = std::f64::consts::SQRT_2;
        Arch {
            gram: Gram::Dot,
            net: Layer::Serial(vec![
                Layer::Rnn(Box::new(Rnn {
                    step: Layer::Act(Act::Relu),
                    len,
                    w_std: two,
                    a_std: (2.0 * input_scale(preset, len)).sqrt(),
                    b_std: 0.0,
                    h0_std: if preset == Preset::Wang { two } else { 0.0 },
                    train_w: true,
                    train_a: false,
                    train_b: false,
                    readout: Readout::Last,
                })),
                Layer::Dense {
                    w_std: std::f64::consts::FRAC_1_SQRT_2,
                    b_std: 0.0,
                    param: Param::Ntk,
                    trainable: false,
                    width: None,
                },
            ]),
        }
    }

    /// Whether the net is recurrent with `readout=all` (a kernel over (sequence,
    /// step) pairs).
    pub fn readout_all(&self) -> bool {
        matches!(self.top_layers().next(), Some((_, Layer::Rnn(r))) if r.readout == Readout::All)
    }

    /// The sequence length of a recurrent net (its first layer an `rnn`), None
    /// for a feed-forward net.
    pub fn seq_len(&self) -> Option<usize> {
        match self.top_layers().next() {
            Some((_, Layer::Rnn(r))) => Some(r.len),
            _ => None,
        }
    }

    /// The top-level layers with their paths ("layer 1", "layer 2", ...): the
    /// members of a top-level serial list, or the one layer.
    pub(crate) fn top_layers(&self) -> impl Iterator<Item = (String, &Layer)> {
        let ls: &[Layer] = match &self.net {
            Layer::Serial(ls) => ls,
            l => std::slice::from_ref(l),
        };
        ls.iter()
            .enumerate()
            .map(|(i, l)| (format!("layer {}", i + 1), l))
    }
}

fn arch_err(msg: String) -> Error {
    Error::invalid("arch", msg)
}

fn field_err(path: &str, layer: &str, field: &str, msg: impl fmt::Display) -> Error {
    arch_err(format!("{path} '{layer}': field '{field}' {msg}"))
}

fn validate_layer(l: &Layer, path: &str) -> Result<()> {
    let finite = |layer: &str, field: &str, v: f64| -> Result<()> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(field_err(
                path,
                layer,
                field,
                format!("= {v} is not finite"),
            ))
        }
    };
    // finite, non-negative standard deviations
    let stds = |layer: &str, fields: &[(&str, f64)]| -> Result<()> {
        for &(f, v) in fields {
            finite(layer, f, v)?;
            if v < 0.0 {
                return Err(field_err(
                    path,
                    layer,
                    f,
                    format!("= {v} is a negative standard deviation"),
                ));
            }
        }
        Ok(())
    };
    match l {
        Layer::Dense {
            w_std,
            b_std,
            width,
            ..
        } => {
            stds("dense", &[("w", *w_std), ("b", *b_std)])?;
            if *width == Some(0) {
                return Err(field_err(
                    path,
                    "dense",
                    "width",
                    "= 0: a layer needs at least one unit",
                ));
            }
        }
        Layer::Act(a) => {
            let name = act_name(a);
            for (f, v) in act_fields(a) {
                finite(name, f, v)?;
            }
            if let Act::Expr { src, nodes } = a {
                if *nodes < 2 || *nodes > MAX_NODES {
                    return Err(field_err(
                        path,
                        "expr",
                        "nodes",
                        format!("= {nodes} is outside 2..={MAX_NODES}"),
                    ));
                }
                super::expr::Expr::parse(src)
                    .and_then(|e| e.check_differentiable())
                    .map_err(|e| field_err(path, "expr", "src", format!("'{src}': {e}")))?;
            }
        }
        Layer::Identity => {}
        Layer::Scale(a) => finite("scale", "alpha", *a)?,
        Layer::Rnn(r) => {
            stds(
                "rnn",
                &[
                    ("w", r.w_std),
                    ("a", r.a_std),
                    ("b", r.b_std),
                    ("h0", r.h0_std),
                ],
            )?;
            if r.len == 0 {
                return Err(field_err(
                    path,
                    "rnn",
                    "len",
                    "= 0: a sequence needs at least one step",
                ));
            }
            validate_layer(&r.step, &format!("{path}.1"))?;
        }
        Layer::Serial(ls) | Layer::Parallel { branches: ls, .. } => {
            if ls.is_empty() {
                return Err(arch_err(format!(
                    "{path}: a combinator needs at least one layer"
                )));
            }
            for (i, c) in ls.iter().enumerate() {
                validate_layer(c, &format!("{path}.{}", i + 1))?;
            }
        }
    }
    Ok(())
}

/// What the layers after a layer may assume of its output in the infinite-width
/// limit (neural-tangents' `Kernel.is_gaussian` and channel widths).
#[derive(Clone, Copy, Debug)]
struct Flow {
    /// A centred Gaussian process (a dense layer's output, possibly scaled, or a
    /// sum of such): what an activation's dual map E[φ(u)φ(v)] assumes.
    gauss: bool,
    /// Otherwise what it is, for the error message.
    what: &'static str,
    /// A width fixed by the spec (the input's d, or a dense layer's `width=N`),
    /// rather than the network width m that goes to infinity.
    fixed: bool,
}

impl Flow {
    /// The raw input x: deterministic, neither Gaussian nor of width m.
    const INPUT: Flow = Flow {
        gauss: false,
        what: "the raw input x (deterministic, not a Gaussian: put a dense layer first)",
        fixed: true,
    };
}

/// Checks that each layer gets what its infinite-width map assumes, with
/// neural-tangents' rules (Novak et al. 2020; `stax` refuses the same specs):
/// - an activation's input must be Gaussian — not the raw input (the finite
///   network would apply φ to x itself, a deterministic map, while the dual map
///   treats its input as Gaussian), nor another activation's output, a
///   concatenation (blocks of different covariances) or a product;
/// - `sum` adds kernels only of independent Gaussian branches (each ending in a
///   dense layer, or the identity of one's output);
/// - `concat` weights its branches' kernels by their widths, so the widths must
///   all be fixed (the input's d, `width=N`) or all the network width m: a mix
///   has no infinite-width ratio.
fn check_flow(l: &Layer, path: &str, f: Flow) -> Result<Flow> {
    Ok(match l {
        Layer::Dense { width, .. } => Flow {
            gauss: true,
            what: "",
            fixed: width.is_some(),
        },
        Layer::Act(a) => {
            if !f.gauss {
                return Err(arch_err(format!(
                    "{path} '{}': an activation's infinite-width map needs a Gaussian input (a \
                     dense layer's output), but its input is {}",
                    act_name(a),
                    f.what
                )));
            }
            Flow {
                gauss: false,
                what: "an activation's output (not a Gaussian: put a dense layer between)",
                fixed: f.fixed,
            }
        }
        Layer::Identity | Layer::Scale(_) => f,
        Layer::Serial(ls) => {
            let mut g = f;
            for (i, c) in ls.iter().enumerate() {
                g = check_flow(c, &format!("{path}.{}", i + 1), g)?;
            }
            g
        }
        Layer::Rnn(r) => {
            // the step reads the pre-activation W h + A x + b, a Gaussian of width m
            let step_in = Flow {
                gauss: true,
                what: "",
                fixed: false,
            };
            let g = check_flow(&r.step, &format!("{path}.1"), step_in)?;
            Flow {
                what: if g.gauss {
                    ""
                } else {
                    "a recurrent layer's states (not a Gaussian: put a dense layer between)"
                },
                ..g
            }
        }
        Layer::Parallel { fanin, branches } => {
            let name = match fanin {
                FanIn::Sum => "sum",
                FanIn::Prod => "prod",
                FanIn::Concat => "concat",
            };
            let outs = branches
                .iter()
                .enumerate()
                .map(|(k, b)| check_flow(b, &format!("{path}.{}", k + 1), f))
                .collect::<Result<Vec<Flow>>>()?;
            let single = outs.len() == 1;
            match fanin {
                FanIn::Sum => {
                    if let Some(k) = outs.iter().position(|o| !o.gauss) {
                        return Err(arch_err(format!(
                            "{path} 'sum': branch {} does not end in a dense layer (nor is the \
                             identity of one's output): its output is {}, so the branches \
                             are not independent Gaussians and their kernels do not add; put \
                             a dense layer at its end",
                            k + 1,
                            outs[k].what
                        )));
                    }
                    Flow {
                        gauss: true,
                        what: "",
                        fixed: outs[0].fixed,
                    }
                }
                FanIn::Prod => Flow {
                    gauss: single && outs[0].gauss,
                    what: if single {
                        outs[0].what
                    } else {
                        "a product of branches (not a Gaussian: put a dense layer between)"
                    },
                    fixed: outs[0].fixed,
                },
                FanIn::Concat => {
                    if let Some(k) = outs.iter().position(|o| o.fixed != outs[0].fixed) {
                        let w = |o: &Flow| {
                            if o.fixed {
                                "a fixed width (the input's d or a dense layer's width=N)"
                            } else {
                                "the network width m"
                            }
                        };
                        return Err(arch_err(format!(
                            "{path} '{name}': branch 1 has {} but branch {} has {}; the \
                             kernel weights concatenated branches by their widths, which \
                             have no ratio as m grows: give every branch's last dense layer \
                             a width=N, or none",
                            w(&outs[0]),
                            k + 1,
                            w(&outs[k])
                        )));
                    }
                    Flow {
                        gauss: single && outs[0].gauss,
                        what: if single {
                            outs[0].what
                        } else {
                            "a concatenation (blocks of different covariances, not one \
                             Gaussian: put a dense layer between)"
                        },
                        fixed: outs[0].fixed,
                    }
                }
            }
        }
    })
}

pub(crate) fn act_name(a: &Act) -> &'static str {
    match a {
        Act::Relu => "relu",
        Act::LeakyRelu { .. } => "leaky_relu",
        Act::AbRelu { .. } => "abrelu",
        Act::Abs => "abs",
        Act::Sign => "sign",
        Act::Erf { .. } => "erf",
        Act::Gelu => "gelu",
        Act::Sin { .. } => "sin",
        Act::Cos { .. } => "cos",
        Act::Exp { .. } => "exp",
        Act::Gaussian { .. } => "gaussian",
        Act::Expr { .. } => "expr",
    }
}

/// (field, value) of an activation's numeric fields, in positional order.
fn act_fields(a: &Act) -> Vec<(&'static str, f64)> {
    match *a {
        Act::LeakyRelu { alpha } => vec![("alpha", alpha)],
        Act::AbRelu { a, b } => vec![("a", a), ("b", b)],
        Act::Erf { a, b, c } | Act::Sin { a, b, c } | Act::Cos { a, b, c } => {
            vec![("a", a), ("b", b), ("c", c)]
        }
        Act::Exp { a, b } | Act::Gaussian { a, b } => vec![("a", a), ("b", b)],
        _ => vec![],
    }
}

// ---------------------------------------------------------------- tokens

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Num(f64, String),
    Str(String),
    LParen,
    RParen,
    Comma,
    Eq,
    Semi,
}

fn show(t: &Option<Tok>) -> String {
    match t {
        None => "the end of the spec".into(),
        Some(Tok::Ident(s)) => format!("'{s}'"),
        Some(Tok::Num(_, s)) => format!("'{s}'"),
        Some(Tok::Str(s)) => format!("'{s}' (quoted)"),
        Some(Tok::LParen) => "'('".into(),
        Some(Tok::RParen) => "')'".into(),
        Some(Tok::Comma) => "','".into(),
        Some(Tok::Eq) => "'='".into(),
        Some(Tok::Semi) => "';'".into(),
    }
}

fn tokenize(s: &str) -> Result<Vec<Tok>> {
    let cs: Vec<char> = s.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' => (out.push(Tok::LParen), i += 1).1,
            ')' => (out.push(Tok::RParen), i += 1).1,
            ',' => (out.push(Tok::Comma), i += 1).1,
            '=' => (out.push(Tok::Eq), i += 1).1,
            ';' => (out.push(Tok::Semi), i += 1).1,
            '\'' | '"' => {
                let end = cs[i + 1..].iter().position(|&d| d == c).ok_or_else(|| {
                    arch_err(format!("unterminated quote at character {}", i + 1))
                })?;
                out.push(Tok::Str(cs[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            _ if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let start = i;
                i += 1;
                while i < cs.len()
                    && (cs[i].is_ascii_alphanumeric()
                        || cs[i] == '.'
                        || ((cs[i] == '-' || cs[i] == '+') && matches!(cs[i - 1], 'e' | 'E')))
                {
                    i += 1;
                }
                let t: String = cs[start..i].iter().collect();
                let v = t
                    .parse::<f64>()
                    .map_err(|_| arch_err(format!("'{t}' is not a number")))?;
                out.push(Tok::Num(v, t));
            }
            _ if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Ident(
                    cs[start..i].iter().collect::<String>().to_ascii_lowercase(),
                ));
            }
            _ => {
                return Err(arch_err(format!(
                    "unexpected character '{c}' at position {}",
                    i + 1
                )))
            }
        }
    }
    if out.is_empty() {
        return Err(arch_err("empty architecture spec".into()));
    }
    Ok(out)
}

// ---------------------------------------------------------------- parser

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

/// One argument inside a layer's parentheses.
enum Arg {
    Layer(Layer),
    Key(String, Tok),
    Pos(Tok),
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn layer(&mut self, path: &str) -> Result<Layer> {
        let name = match self.next() {
            Some(Tok::Ident(s)) => s,
            t => {
                return Err(arch_err(format!(
                    "{path}: expected a layer name, found {}",
                    show(&t)
                )))
            }
        };
        let combinator = matches!(name.as_str(), "serial" | "sum" | "prod" | "concat");
        let mut args: Vec<Arg> = vec![];
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            if self.peek() == Some(&Tok::RParen) {
                self.pos += 1;
            } else {
                loop {
                    let sub = format!("{path}.{}", args.len() + 1);
                    // an rnn's first argument is its step (unless it is a key=value)
                    let step = name == "rnn"
                        && args.is_empty()
                        && !matches!(
                            (self.peek(), self.toks.get(self.pos + 1)),
                            (Some(Tok::Ident(_)), Some(Tok::Eq))
                        );
                    args.push(self.arg(combinator || step, &sub, &name)?);
                    match self.next() {
                        Some(Tok::Comma) => {}
                        Some(Tok::RParen) => break,
                        t => {
                            return Err(arch_err(format!(
                                "{path} '{name}': expected ',' or ')', found {}",
                                show(&t)
                            )))
                        }
                    }
                }
            }
        }
        build(&name, args, path)
    }

    fn arg(&mut self, combinator: bool, path: &str, parent: &str) -> Result<Arg> {
        if combinator {
            return Ok(Arg::Layer(self.layer(path)?));
        }
        match (self.peek().cloned(), self.toks.get(self.pos + 1)) {
            (Some(Tok::Ident(k)), Some(Tok::Eq)) => {
                self.pos += 2;
                match self.next() {
                    Some(t @ (Tok::Num(..) | Tok::Ident(_) | Tok::Str(_))) => Ok(Arg::Key(k, t)),
                    t => Err(arch_err(format!(
                        "'{parent}': field '{k}' has no value (found {})",
                        show(&t)
                    ))),
                }
            }
            (Some(t @ (Tok::Num(..) | Tok::Str(_) | Tok::Ident(_))), _) => {
                self.pos += 1;
                Ok(Arg::Pos(t))
            }
            (t, _) => Err(arch_err(format!("'{parent}': unexpected {}", show(&t)))),
        }
    }
}

/// The fields of a parametrized layer, filled from positional and key=value args.
struct Fields<'a> {
    path: &'a str,
    layer: &'a str,
    names: &'a [&'a str],
    vals: Vec<Option<Tok>>,
}

impl<'a> Fields<'a> {
    fn new(path: &'a str, layer: &'a str, names: &'a [&'a str], args: Vec<Arg>) -> Result<Self> {
        let mut vals: Vec<Option<Tok>> = vec![None; names.len()];
        let mut npos = 0;
        for a in args {
            match a {
                Arg::Layer(_) => unreachable!("layers only inside combinators"),
                Arg::Pos(t) => {
                    if npos >= names.len() {
                        return Err(arch_err(format!(
                            "{path} '{layer}': too many values (fields: {})",
                            if names.is_empty() {
                                "none".into()
                            } else {
                                names.join(", ")
                            }
                        )));
                    }
                    vals[npos] = Some(t);
                    npos += 1;
                }
                Arg::Key(k, t) => {
                    let i = names.iter().position(|n| *n == k).ok_or_else(|| {
                        arch_err(format!(
                            "{path} '{layer}': unknown field '{k}' (fields: {})",
                            if names.is_empty() {
                                "none".into()
                            } else {
                                names.join(", ")
                            }
                        ))
                    })?;
                    if vals[i].is_some() {
                        return Err(field_err(path, layer, &k, "is given twice"));
                    }
                    vals[i] = Some(t);
                }
            }
        }
        Ok(Fields {
            path,
            layer,
            names,
            vals,
        })
    }

    fn tok(&self, f: &str) -> Option<&Tok> {
        let i = self
            .names
            .iter()
            .position(|n| *n == f)
            .expect("known field");
        self.vals[i].as_ref()
    }

    fn num(&self, f: &str, default: Option<f64>) -> Result<f64> {
        match self.tok(f) {
            None => default.ok_or_else(|| field_err(self.path, self.layer, f, "is required")),
            Some(Tok::Num(v, _)) => Ok(*v),
            Some(t) => Err(field_err(
                self.path,
                self.layer,
                f,
                format!("must be a number, found {}", show(&Some(t.clone()))),
            )),
        }
    }

    /// A whole-number field below `max` (None when absent).
    fn whole(&self, f: &str, max: f64) -> Result<Option<usize>> {
        match self.tok(f) {
            None => Ok(None),
            Some(Tok::Num(v, _)) if *v >= 0.0 && v.fract() == 0.0 && *v < max => {
                Ok(Some(*v as usize))
            }
            Some(t) => Err(field_err(
                self.path,
                self.layer,
                f,
                format!("must be a whole number, found {}", show(&Some(t.clone()))),
            )),
        }
    }

    /// A field of two words: false for `first` (or absent), true for `second`.
    fn second(&self, f: &str, first: &str, second: &str) -> Result<bool> {
        match self.word(f)?.as_deref() {
            None => Ok(false),
            Some(w) if w == first => Ok(false),
            Some(w) if w == second => Ok(true),
            Some(o) => Err(field_err(
                self.path,
                self.layer,
                f,
                format!("= '{o}' is neither '{first}' nor '{second}'"),
            )),
        }
    }

    /// A true/false field (true when absent).
    fn flag(&self, f: &str) -> Result<bool> {
        Ok(!self.second(f, "true", "false")?)
    }

    fn word(&self, f: &str) -> Result<Option<String>> {
        match self.tok(f) {
            None => Ok(None),
            Some(Tok::Ident(s)) | Some(Tok::Str(s)) => Ok(Some(s.clone())),
            Some(Tok::Num(_, s)) => Ok(Some(s.clone())),
            Some(t) => Err(field_err(
                self.path,
                self.layer,
                f,
                format!("unexpected {}", show(&Some(t.clone()))),
            )),
        }
    }
}

fn build(name: &str, args: Vec<Arg>, path: &str) -> Result<Layer> {
    let layers = |args: Vec<Arg>| -> Vec<Layer> {
        args.into_iter()
            .map(|a| match a {
                Arg::Layer(l) => l,
                _ => unreachable!("combinator args are layers"),
            })
            .collect()
    };
    let act = |a: Act| Ok(Layer::Act(a));
    Ok(match name {
        "serial" => Layer::Serial(layers(args)),
        "sum" | "prod" | "concat" => Layer::Parallel {
            fanin: match name {
                "sum" => FanIn::Sum,
                "prod" => FanIn::Prod,
                _ => FanIn::Concat,
            },
            branches: layers(args),
        },
        "rnn" => {
            let mut args = args;
            let step = match args.first() {
                Some(Arg::Layer(_)) => match args.remove(0) {
                    Arg::Layer(l) => l,
                    _ => unreachable!("checked just above"),
                },
                _ => {
                    return Err(field_err(
                        path,
                        name,
                        "step",
                        "is required: the step's layers come first, e.g. rnn(relu, len=5)",
                    ))
                }
            };
            let f = Fields::new(
                path,
                name,
                &[
                    "len", "w", "a", "b", "h0", "train_w", "train_a", "train_b", "readout",
                ],
                args,
            )?;
            let len = f
                .whole("len", 1e9)?
                .ok_or_else(|| field_err(path, name, "len", "is required (the sequence length)"))?;
            Layer::Rnn(Box::new(Rnn {
                step,
                len,
                w_std: f.num("w", Some(1.0))?,
                a_std: f.num("a", Some(1.0))?,
                b_std: f.num("b", Some(0.0))?,
                h0_std: f.num("h0", Some(0.0))?,
                train_w: f.flag("train_w")?,
                train_a: f.flag("train_a")?,
                train_b: f.flag("train_b")?,
                readout: if f.second("readout", "last", "all")? {
                    Readout::All
                } else {
                    Readout::Last
                },
            }))
        }
        "dense" => {
            let f = Fields::new(path, name, &["w", "b", "param", "trainable", "width"], args)?;
            let param = if f.second("param", "ntk", "standard")? {
                Param::Standard
            } else {
                Param::Ntk
            };
            let trainable = f.flag("trainable")?;
            let width = f.whole("width", 1e15)?;
            Layer::Dense {
                w_std: f.num("w", Some(1.0))?,
                b_std: f.num("b", Some(0.0))?,
                param,
                trainable,
                width,
            }
        }
        "identity" => {
            Fields::new(path, name, &[], args)?;
            Layer::Identity
        }
        "scale" => Layer::Scale(Fields::new(path, name, &["alpha"], args)?.num("alpha", None)?),
        "relu" | "abs" | "sign" | "gelu" => {
            Fields::new(path, name, &[], args)?;
            return act(match name {
                "relu" => Act::Relu,
                "abs" => Act::Abs,
                "sign" => Act::Sign,
                _ => Act::Gelu,
            });
        }
        "leaky_relu" => {
            let f = Fields::new(path, name, &["alpha"], args)?;
            return act(Act::LeakyRelu {
                alpha: f.num("alpha", Some(0.01))?,
            });
        }
        "abrelu" => {
            let f = Fields::new(path, name, &["a", "b"], args)?;
            return act(Act::AbRelu {
                a: f.num("a", None)?,
                b: f.num("b", None)?,
            });
        }
        "erf" | "sin" | "cos" => {
            let f = Fields::new(path, name, &["a", "b", "c"], args)?;
            let (a, b, c) = (
                f.num("a", Some(1.0))?,
                f.num("b", Some(1.0))?,
                f.num("c", Some(0.0))?,
            );
            return act(match name {
                "erf" => Act::Erf { a, b, c },
                "sin" => Act::Sin { a, b, c },
                _ => Act::Cos { a, b, c },
            });
        }
        "exp" | "gaussian" => {
            let f = Fields::new(path, name, &["a", "b"], args)?;
            let a = f.num("a", Some(1.0))?;
            return act(if name == "exp" {
                Act::Exp {
                    a,
                    b: f.num("b", Some(1.0))?,
                }
            } else {
                Act::Gaussian {
                    a,
                    b: f.num("b", Some(-1.0))?,
                }
            });
        }
        "expr" => {
            let f = Fields::new(path, name, &["src", "nodes"], args)?;
            let src = f.word("src")?.ok_or_else(|| {
                field_err(
                    path,
                    name,
                    "src",
                    "is required (an expression in z, quoted)",
                )
            })?;
            let nodes = f.whole("nodes", 1e9)?.unwrap_or(DEFAULT_NODES);
            return act(Act::Expr { src, nodes });
        }
        _ => {
            return Err(arch_err(format!(
                "{path}: unknown layer '{name}'; known layers are {KNOWN_LAYERS}"
            )))
        }
    })
}

// ---------------------------------------------------------------- display

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.gram == Gram::Dot {
            write!(f, "gram=dot; ")?;
        }
        match &self.net {
            // a top-level serial net prints as its list (parses back to the same)
            Layer::Serial(ls) if ls.len() > 1 => write_list(f, ls),
            l => write!(f, "{l}"),
        }
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, ls: &[Layer]) -> fmt::Result {
    for (i, l) in ls.iter().enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{l}")?;
    }
    Ok(())
}

/// `name` or `name(k=v, ...)` listing the fields that differ from their defaults.
fn write_fields(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    fields: &[(&str, f64, Option<f64>)],
) -> fmt::Result {
    let shown: Vec<String> = fields
        .iter()
        .filter(|(_, v, d)| d.is_none_or(|d| d.to_bits() != v.to_bits()))
        .map(|(k, v, _)| format!("{k}={v:?}"))
        .collect();
    if shown.is_empty() {
        write!(f, "{name}")
    } else {
        write!(f, "{name}({})", shown.join(", "))
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Dense {
                w_std,
                b_std,
                param,
                trainable,
                width,
            } => {
                let mut parts = vec![];
                if w_std.to_bits() != 1f64.to_bits() {
                    parts.push(format!("w={w_std:?}"));
                }
                if b_std.to_bits() != 0f64.to_bits() {
                    parts.push(format!("b={b_std:?}"));
                }
                if *param == Param::Standard {
                    parts.push("param=standard".into());
                }
                if !trainable {
                    parts.push("trainable=false".into());
                }
                if let Some(w) = width {
                    parts.push(format!("width={w}"));
                }
                if parts.is_empty() {
                    write!(f, "dense")
                } else {
                    write!(f, "dense({})", parts.join(", "))
                }
            }
            Layer::Act(a) => match a {
                Act::Expr { src, nodes } => {
                    let q = if src.contains('\'') { '"' } else { '\'' };
                    if *nodes == DEFAULT_NODES {
                        write!(f, "expr({q}{src}{q})")
                    } else {
                        write!(f, "expr({q}{src}{q}, nodes={nodes})")
                    }
                }
                _ => {
                    let defaults: &[Option<f64>] = match a {
                        Act::LeakyRelu { .. } => &[Some(0.01)],
                        Act::AbRelu { .. } => &[None, None],
                        Act::Erf { .. } | Act::Sin { .. } | Act::Cos { .. } => {
                            &[Some(1.0), Some(1.0), Some(0.0)]
                        }
                        Act::Exp { .. } => &[Some(1.0), Some(1.0)],
                        Act::Gaussian { .. } => &[Some(1.0), Some(-1.0)],
                        _ => &[],
                    };
                    let fields: Vec<(&str, f64, Option<f64>)> = act_fields(a)
                        .into_iter()
                        .zip(defaults)
                        .map(|((k, v), d)| (k, v, *d))
                        .collect();
                    write_fields(f, act_name(a), &fields)
                }
            },
            Layer::Rnn(r) => {
                write!(f, "rnn({}, len={}", r.step, r.len)?;
                for (k, v, d) in [
                    ("w", r.w_std, 1.0),
                    ("a", r.a_std, 1.0),
                    ("b", r.b_std, 0.0),
                    ("h0", r.h0_std, 0.0),
                ] {
                    if v.to_bits() != f64::to_bits(d) {
                        write!(f, ", {k}={v:?}")?;
                    }
                }
                for (k, v) in [
                    ("train_w", r.train_w),
                    ("train_a", r.train_a),
                    ("train_b", r.train_b),
                ] {
                    if !v {
                        write!(f, ", {k}=false")?;
                    }
                }
                if r.readout == Readout::All {
                    write!(f, ", readout=all")?;
                }
                write!(f, ")")
            }
            Layer::Identity => write!(f, "identity"),
            Layer::Scale(a) => write!(f, "scale({a:?})"),
            Layer::Serial(ls) => {
                write!(f, "serial(")?;
                write_list(f, ls)?;
                write!(f, ")")
            }
            Layer::Parallel { fanin, branches } => {
                let n = match fanin {
                    FanIn::Sum => "sum",
                    FanIn::Prod => "prod",
                    FanIn::Concat => "concat",
                };
                write!(f, "{n}(")?;
                write_list(f, branches)?;
                write!(f, ")")
            }
        }
    }
}
