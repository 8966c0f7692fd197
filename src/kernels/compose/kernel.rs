//! A composed architecture as a [`TileKernel`]: one GEMM for the inputs' Gram,
//! then the layers' maps entry by entry (a small stack machine compiled once
//! from the layer tree), plus cross kernels K(X, X') for train–test use.
//!
//! Per pair (x, x') the state is the NNGP covariance (Var u = q₁, Var v = q₂,
//! Cov = s) and the NTK Θ. The maps (Lee et al. 2018; Jacot et al. 2018;
//! Novak et al. 2020 for the combinators):
//! - dense, NTK parameterization: Σ ↦ W²Σ + b², Θ ↦ W²Θ + (W²Σ + b²) if trainable;
//! - dense, standard parameterization: Σ ↦ W²Σ + b², Θ ↦ W²Θ + n·Σ + [b > 0]
//!   (n the input width: d, or the previous dense layer's `width`);
//! - activation φ: Σ ↦ E[φ(u)φ(v)], Θ ↦ E[φ'(u)φ'(v)]·Θ ([`super::maps`]);
//! - scale α: Σ ↦ α²Σ, Θ ↦ α²Θ;
//! - sum of branches: Σ = ΣᵢΣᵢ, Θ = ΣᵢΘᵢ; concat: their averages; product:
//!   Σ = ΠᵢΣᵢ, Θ = Σᵢ Θᵢ Π_{j≠i} Σⱼ.

use super::arch::{Arch, FanIn, Gram, Layer, Param};
use super::maps::{ActMap, Cov};
use crate::error::{Error, Result};
use crate::kernels::tile::{check_tile, inner_tile, TileKernel};
use crate::linalg::{gemm_into, Matrix};
use std::ops::Range;

/// Deepest nesting of parallel branches the stack machine holds.
const MAX_STACK: usize = 32;
/// Stack depth evaluated without a heap allocation.
const SMALL_STACK: usize = 4;

#[derive(Clone, Debug)]
enum Op {
    Dense {
        w2: f64,
        b2: f64,
        trainable: bool,
        /// Some(n · (own-term scale)) for the standard parameterization.
        standard: Option<(f64, f64)>,
    },
    Act(ActMap),
    Scale(f64),
    /// Push a copy of the entry `k` places below the top.
    Pick(usize),
    /// Pop `n` branch results and their input, push the joined result.
    Join(usize, FanIn),
}

/// One pair's state: NNGP covariances and NTK.
#[derive(Clone, Copy, Debug, Default)]
struct St {
    q1: f64,
    q2: f64,
    s: f64,
    t: f64,
}

/// Which kernel of the architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    /// The NTK Θ.
    Ntk,
    /// The NNGP Σ.
    Nngp,
}

impl Output {
    /// "ntk" or "nngp".
    pub fn name(self) -> &'static str {
        match self {
            Output::Ntk => "ntk",
            Output::Nngp => "nngp",
        }
    }
    /// Parses "ntk" or "nngp".
    pub fn parse(s: &str) -> Result<Output> {
        match s {
            "ntk" => Ok(Output::Ntk),
            "nngp" => Ok(Output::Nngp),
            _ => Err(Error::invalid(
                "output",
                format!("'{s}' is neither 'ntk' nor 'nngp'"),
            )),
        }
    }
}

/// An architecture compiled to maps: evaluate a pair with [`Program::entry`].
#[derive(Clone, Debug)]
pub struct Program {
    ops: Vec<Op>,
    gram: Gram,
    /// Largest number of stack entries in use at once.
    max_depth: usize,
}

struct Compiler {
    ops: Vec<Op>,
    depth: usize,
    max_depth: usize,
}

impl Compiler {
    /// Compiles `l` applied to the top of the stack. `width` is the current
    /// layer width (None when unknown), `gauss` whether the current values are
    /// centred Gaussian in the limit (a dense layer's output, possibly scaled or
    /// summed); returns both after `l`.
    fn layer(
        &mut self,
        l: &Layer,
        path: &str,
        (width, gauss): (Option<usize>, bool),
    ) -> Result<(Option<usize>, bool)> {
        Ok(match l {
            Layer::Dense {
                w_std,
                b_std,
                param,
                trainable,
                width: out,
            } => {
                let standard = match param {
                    Param::Ntk => None,
                    Param::Standard => {
                        let n = width.ok_or_else(|| {
                            Error::invalid(
                                "arch",
                                format!(
                                    "{path} 'dense': field 'param' = standard needs the input width \
                                     (give the previous dense layer a width=N)"
                                ),
                            )
                        })?;
                        Some((n as f64, if *b_std > 0.0 { 1.0 } else { 0.0 }))
                    }
                };
                self.ops.push(Op::Dense {
                    w2: w_std * w_std,
                    b2: b_std * b_std,
                    trainable: *trainable,
                    standard,
                });
                (*out, true)
            }
            Layer::Act(a) => {
                self.ops
                    .push(Op::Act(ActMap::new(a).map_err(|e| {
                        Error::invalid("arch", format!("{path} 'expr': {e}"))
                    })?));
                (width, false)
            }
            Layer::Identity => (width, gauss),
            Layer::Scale(a) => {
                self.ops.push(Op::Scale(a * a));
                (width, gauss)
            }
            Layer::Serial(ls) => {
                let mut w = (width, gauss);
                for (i, c) in ls.iter().enumerate() {
                    w = self.layer(c, &format!("{path}.{}", i + 1), w)?;
                }
                w
            }
            Layer::Parallel { fanin, branches } => {
                let mut w_out = None;
                let mut all_gauss = true;
                for (k, b) in branches.iter().enumerate() {
                    self.ops.push(Op::Pick(k));
                    self.depth += 1;
                    self.max_depth = self.max_depth.max(self.depth);
                    if self.max_depth > MAX_STACK {
                        return Err(Error::invalid(
                            "arch",
                            format!("{path}: branches nested deeper than {MAX_STACK}"),
                        ));
                    }
                    let (w, g) = self.layer(b, &format!("{path}.{}", k + 1), (width, gauss))?;
                    if *fanin == FanIn::Sum && !g {
                        // kernels add only for uncorrelated branches: each must end in a
                        // dense layer (or be the identity of one), as neural-tangents requires
                        return Err(Error::invalid(
                            "arch",
                            format!(
                                "{path} 'sum': branch {} does not end in a dense layer (nor is the \
                                 identity of one's output), so the branches are correlated and \
                                 their kernels do not add; put a dense layer at its end",
                                k + 1
                            ),
                        ));
                    }
                    all_gauss &= g;
                    w_out = w_out.or(w);
                }
                self.depth -= branches.len();
                self.ops.push(Op::Join(branches.len(), *fanin));
                match fanin {
                    FanIn::Concat => (w_out.map(|w| w * branches.len()), all_gauss),
                    FanIn::Sum => (w_out, true),
                    FanIn::Prod => (w_out, branches.len() == 1 && all_gauss),
                }
            }
        })
    }
}

impl Program {
    /// Compiles `arch` for inputs of dimension `d`.
    pub fn new(arch: &Arch, d: usize) -> Result<Program> {
        arch.validate()?;
        let mut c = Compiler {
            ops: vec![],
            depth: 1,
            max_depth: 1,
        };
        let mut state = (Some(d), false);
        for (path, l) in arch.top_layers() {
            state = c.layer(l, &path, state)?;
        }
        Ok(Program {
            ops: c.ops,
            gram: arch.gram,
            max_depth: c.max_depth,
        })
    }

    /// The factor of the input Gram: 1/d (`gram=mean`) or 1 (`gram=dot`).
    pub fn gram_scale(&self, d: usize) -> f64 {
        1.0 / self.gram_div(d)
    }

    /// The divisor of the inputs' squared norms: d (`gram=mean`) or 1 (`gram=dot`),
    /// divided (not multiplied by 1/d) as [`crate::kernels::fc`] does, bit for bit.
    pub fn gram_div(&self, d: usize) -> f64 {
        match self.gram {
            Gram::Mean => d as f64,
            Gram::Dot => 1.0,
        }
    }

    /// Whether some activation is evaluated by quadrature.
    pub fn has_quadrature(&self) -> bool {
        self.ops
            .iter()
            .any(|o| matches!(o, Op::Act(ActMap::Quad { .. })))
    }

    /// (NNGP, NTK) of one pair from its input covariances: `s` = Σ⁰(x, x'),
    /// `q1` = Σ⁰(x, x), `q2` = Σ⁰(x', x'); `same` for x = x' (correlation exactly 1).
    pub fn entry(&self, s: f64, q1: f64, q2: f64, same: bool) -> (f64, f64) {
        // a small stack on the stack for the usual nets (zeroing MAX_STACK
        // entries per pair cost as much as the maps of a depth-3 ReLU net)
        if self.max_depth < SMALL_STACK {
            self.run(&mut [St::default(); SMALL_STACK], s, q1, q2, same)
        } else {
            self.run(
                &mut vec![St::default(); self.max_depth + 1],
                s,
                q1,
                q2,
                same,
            )
        }
    }

    #[inline(always)]
    fn run(&self, stack: &mut [St], s: f64, q1: f64, q2: f64, same: bool) -> (f64, f64) {
        let mut top = 0usize; // index of the top entry
        stack[0] = St { q1, q2, s, t: 0.0 };
        for op in &self.ops {
            match op {
                Op::Dense {
                    w2,
                    b2,
                    trainable,
                    standard,
                } => {
                    let e = &mut stack[top];
                    let own = match standard {
                        None => w2 * e.s + b2,
                        Some((n, one)) => n * e.s + one,
                    };
                    e.s = w2 * e.s + b2;
                    e.q1 = w2 * e.q1 + b2;
                    e.q2 = w2 * e.q2 + b2;
                    e.t = if *trainable { own + e.t * w2 } else { e.t * w2 };
                }
                Op::Act(m) => {
                    let e = &mut stack[top];
                    let (s2, dot) = m.pair(Cov {
                        q1: e.q1,
                        q2: e.q2,
                        s: e.s,
                        same,
                    });
                    if same {
                        e.q1 = s2;
                        e.q2 = s2;
                    } else {
                        e.q1 = m.var(e.q1);
                        e.q2 = m.var(e.q2);
                    }
                    e.s = s2;
                    e.t *= dot;
                }
                Op::Scale(a2) => {
                    let e = &mut stack[top];
                    e.s *= a2;
                    e.q1 *= a2;
                    e.q2 *= a2;
                    e.t *= a2;
                }
                Op::Pick(k) => {
                    stack[top + 1] = stack[top - k];
                    top += 1;
                }
                Op::Join(n, fanin) => {
                    let br = &stack[top + 1 - n..=top];
                    let out = match fanin {
                        FanIn::Sum | FanIn::Concat => {
                            let mut o = br[0];
                            for b in &br[1..] {
                                o.s += b.s;
                                o.q1 += b.q1;
                                o.q2 += b.q2;
                                o.t += b.t;
                            }
                            if *fanin == FanIn::Concat {
                                let k = *n as f64;
                                o.s /= k;
                                o.q1 /= k;
                                o.q2 /= k;
                                o.t /= k;
                            }
                            o
                        }
                        FanIn::Prod => {
                            let mut o = br[0];
                            for b in &br[1..] {
                                o.t = o.t * b.s + o.s * b.t;
                                o.s *= b.s;
                                o.q1 *= b.q1;
                                o.q2 *= b.q2;
                            }
                            o
                        }
                    };
                    top -= n;
                    stack[top] = out;
                }
            }
        }
        let e = stack[top];
        (e.s, e.t)
    }
}

fn check_x(x: &Matrix<f64>, name: &str) -> Result<()> {
    if x.cols() == 0 {
        return Err(Error::invalid(name, "inputs of dimension 0"));
    }
    if !x.all_finite() {
        return Err(Error::Numerical(format!(
            "input matrix {name} has non-finite entries"
        )));
    }
    Ok(())
}

fn sq_norms(x: &Matrix<f64>, div: f64) -> Vec<f64> {
    (0..x.rows())
        .map(|i| x.row(i).iter().map(|v| v * v).sum::<f64>() / div)
        .collect()
}

#[inline(always)]
fn pick(o: Output, (nngp, ntk): (f64, f64)) -> f64 {
    match o {
        Output::Ntk => ntk,
        Output::Nngp => nngp,
    }
}

/// The NTK or NNGP of a composed architecture over the rows of X, as a
/// [`TileKernel`]: a tile is one GEMM for Σ⁰ = XᵢXⱼᵀ·(1/d or 1), then
/// [`Program::entry`] per entry (correlation exactly 1 on the diagonal).
pub struct ComposedKernel<'a> {
    x: &'a Matrix<f64>,
    arch: Arch,
    prog: Program,
    output: Output,
    nrm: Vec<f64>,
    scale: f64,
}

impl<'a> ComposedKernel<'a> {
    /// The `output` kernel of `arch` on the rows of `x`.
    pub fn new(arch: &Arch, x: &'a Matrix<f64>, output: Output) -> Result<Self> {
        check_x(x, "x")?;
        let prog = Program::new(arch, x.cols())?;
        let scale = prog.gram_scale(x.cols());
        Ok(ComposedKernel {
            x,
            arch: arch.clone(),
            nrm: sq_norms(x, prog.gram_div(x.cols())),
            prog,
            output,
            scale,
        })
    }

    /// The architecture this kernel is built from.
    pub fn arch(&self) -> &Arch {
        &self.arch
    }

    /// For architectures with expression activations: the largest relative
    /// difference, over the pairs of the first `rows` inputs, between this
    /// kernel and the same architecture at twice the quadrature nodes (capped at
    /// 400): the accuracy the quadrature reached. `None` without quadrature.
    pub fn quadrature_accuracy(&self, rows: usize) -> Result<Option<f64>> {
        if !self.prog.has_quadrature() {
            return Ok(None);
        }
        let fine = Arch {
            gram: self.arch.gram,
            net: double_nodes(&self.arch.net),
        };
        let r = rows.min(self.x.rows());
        let k2 = ComposedKernel::new(&fine, self.x, self.output)?;
        let mut a = vec![0.0; r * r];
        let mut b = vec![0.0; r * r];
        self.tile_f64(0..r, 0..r, &mut a)?;
        k2.tile_f64(0..r, 0..r, &mut b)?;
        let scale = b
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .max(f64::MIN_POSITIVE);
        Ok(Some(
            a.iter()
                .zip(&b)
                .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()))
                / scale,
        ))
    }
}

fn double_nodes(l: &Layer) -> Layer {
    use super::arch::{Act, MAX_NODES};
    match l {
        Layer::Act(Act::Expr { src, nodes }) => Layer::Act(Act::Expr {
            src: src.clone(),
            nodes: (2 * nodes).min(MAX_NODES),
        }),
        Layer::Serial(ls) => Layer::Serial(ls.iter().map(double_nodes).collect()),
        Layer::Parallel { fanin, branches } => Layer::Parallel {
            fanin: *fanin,
            branches: branches.iter().map(double_nodes).collect(),
        },
        o => o.clone(),
    }
}

impl TileKernel for ComposedKernel<'_> {
    fn n(&self) -> usize {
        self.x.rows()
    }
    fn name(&self) -> String {
        format!("composed {} [{}]", self.output.name(), self.arch)
    }
    fn tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) -> Result<()> {
        check_tile(self.n(), &rows, &cols, out.len())?;
        let d = self.x.cols();
        inner_tile(
            self.x.as_slice(),
            d,
            rows.clone(),
            cols.clone(),
            self.scale,
            out,
        );
        let w = cols.len();
        if w == 0 {
            return Ok(());
        }
        for (ii, row) in out.chunks_exact_mut(w).enumerate() {
            let i = rows.start + ii;
            let ni = self.nrm[i];
            for (jj, v) in row.iter_mut().enumerate() {
                let j = cols.start + jj;
                *v = if i == j {
                    pick(self.output, self.prog.entry(ni, ni, ni, true))
                } else {
                    pick(self.output, self.prog.entry(*v, ni, self.nrm[j], false))
                };
            }
        }
        Ok(())
    }
    fn cost_per_entry(&self) -> f64 {
        2.0 * self.x.cols() as f64 + 30.0 * self.prog.ops.len() as f64
    }
}

/// The `output` kernel of `arch` between the rows of `x1` (n1 × d) and of `x2`
/// (n2 × d): one GEMM, then the maps (rows in parallel; interruptible).
pub fn composed_cross(
    arch: &Arch,
    x1: &Matrix<f64>,
    x2: &Matrix<f64>,
    output: Output,
) -> Result<Matrix<f64>> {
    check_x(x1, "x1")?;
    check_x(x2, "x2")?;
    if x1.cols() != x2.cols() {
        return Err(Error::Shape(format!(
            "inputs of dimension {} and {} in one kernel",
            x1.cols(),
            x2.cols()
        )));
    }
    let prog = Program::new(arch, x1.cols())?;
    let scale = prog.gram_scale(x1.cols());
    let div = prog.gram_div(x1.cols());
    let (n1, n2) = (sq_norms(x1, div), sq_norms(x2, div));
    let mut g = Matrix::try_zeros(x1.rows(), x2.rows(), "the composed kernel matrix")?;
    gemm_into(&mut g, x1.view(), x2.t(), scale, false)?;
    let c = x2.rows();
    crate::kernels::classic::map_cross(&mut g, |v, i, j| {
        // a row of x1 equal to a row of x2 is a diagonal entry (correlation
        // exactly 1: arccos of a rounded one is off by ~1e-8); only pairs
        // with a correlation within 1e-12 of 1 are compared
        let same = v * v >= (1.0 - 1e-12) * n1[i] * n2[j] && x1.row(i) == x2.row(j);
        if same {
            pick(output, prog.entry(n1[i], n1[i], n1[i], true))
        } else {
            pick(output, prog.entry(v, n1[i], n2[j], false))
        }
    })?;
    if let Some(p) = g.as_slice().iter().position(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!(
            "the composed {} kernel [{arch}] has a non-finite entry at ({}, {})",
            output.name(),
            p / c.max(1),
            p % c.max(1)
        )));
    }
    Ok(g)
}

/// The dense Gram matrix of the rows of `x` (exactly symmetric, correlation 1
/// on the diagonal).
pub fn composed_gram(arch: &Arch, x: &Matrix<f64>, output: Output) -> Result<Matrix<f64>> {
    crate::kernels::tile::dense_f64(&ComposedKernel::new(arch, x, output)?)
}
