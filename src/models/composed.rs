//! The finite network of a composed architecture (issue 23): the network whose
//! infinite-width NNGP and NTK [`crate::kernels::compose::ComposedKernel`]
//! computes, at a finite width m — parameters initialized as the
//! parameterization says (seeded), forward pass, gradients by backpropagation,
//! the empirical NTK J Jᵀ and NNGP, and full-batch gradient descent on the
//! squared loss. With it, seed 001's question (does gradient descent follow the
//! kernel's prediction?) can be asked of any composed architecture.
//!
//! Conventions, matching the kernel engine's maps layer by layer
//! ([`crate::kernels::compose::kernel`]):
//! - the input is h⁰ = x (`gram=mean`, Σ⁰ = xᵀx'/d) or h⁰ = √d·x (`gram=dot`,
//!   Σ⁰ = xᵀx'), a vector of fan-in d: every Σ is the per-unit mean (1/n)·hᵀh';
//! - dense, NTK parameterization: z = W_std·W h/√n + b_std·b with every entry of
//!   W, b ~ N(0, 1) (Jacot et al. 2018; seed 001 eq. 1–2 is `gram=dot; dense,
//!   relu, dense(trainable=false)` with a = the readout's weights);
//! - dense, standard parameterization: z = W h + b, W_ij ~ N(0, W_std²/n),
//!   b ~ N(0, b_std²) (Lee et al. 2018);
//!   a layer has a bias only when b_std > 0 (the kernel's [b > 0]);
//! - a dense layer outputs its `width` field if given, else m; the readout — the
//!   last top-level layer, which must be dense — outputs one unit (the network
//!   is scalar-valued; each output unit of a wider readout has the same kernel);
//! - activations φ, φ' from [`ActMap::point`], the definitions the dual maps use;
//!   `scale(α)` multiplies by α; `sum`/`prod` join equal-width branches
//!   elementwise, `concat` stacks them (so the next dense layer weighs each
//!   branch by its width, as the kernel does);
//! - nets whose kernel the engine would not compute the same way are refused
//!   ([`Arch::check_net`]): an activation on the raw input or on another
//!   activation's output, for instance (φ(x) is deterministic, not Gaussian);
//! - a recurrent layer `rnn(step, len=L, w, a, b, h0, ...)` (the net's first
//!   layer; rows of x hold the L steps of d values one after the other):
//!   g_t = w·W h_{t−1}/√s + a·A x_t/√d + b·β, h_t = step(g_t), t = 1..L, with
//!   every entry of W (m × s, s the step's output width), A (m × d), β (m) ~
//!   N(0, 1), weights shared by all steps (seed 004 eq. 14 with W, A, M_0 scaled
//!   by their standard deviations; seed 002 Def. 3.3); h_0 = 0 (h0 = 0) or
//!   step(M_0), M_0 ~ N(0, h0²) per unit, the same vector for every input and
//!   never trained. Its parameters are two dense entries: W with M_0 in its bias
//!   slot, then A with β; the step's dense layers follow. Gradients are by
//!   backpropagation through time (a shared weight's gradient is the sum of
//!   its uses', and the empirical NTK sums every pair of uses (t, u)).
//!   `readout=last` passes h_L on; `readout=all` passes every h_t on, as row
//!   i·L + t − 1, so the net has L outputs per input row;
//! - the loss is Φ(θ) = ½ Σᵢ (f(xᵢ) − yᵢ)² (seed 001 eq. 4, a sum) and GD is
//!   θ ← θ − η ∇Φ on the trainable layers (seed 001 eq. 6).
//!
//! The empirical NTK Θ̂(x, x') = Σ_θ ∂f(x)/∂θ · ∂f(x')/∂θ over the trainable
//! parameters is formed layer by layer without the Jacobian: for a dense layer
//! with input rows H and backpropagated output sensitivities G (one row per
//! input, the batch backward pass seeded with ones), its weights contribute
//! c_W²·(G Gᵀ)∘(H Hᵀ) and its bias c_b²·G Gᵀ (c the multipliers above). The
//! empirical NNGP is the readout's conditional covariance given its input
//! features: W_std²/n·H Hᵀ + b_std².
//!
//! Everything is deterministic: draws from [`crate::rng::stream`] per layer
//! and purpose, in row-major order; products through [`gemm_into`] and
//! elementwise maps, so results are bit-identical at any thread count.

use crate::error::{Error, Result};
use crate::kernels::compose::maps::ActMap;
use crate::kernels::compose::{Arch, FanIn, Gram, Layer, Param, Readout, Rnn};
use crate::linalg::{gemm_into, Matrix};
use crate::rng;
use rayon::prelude::*;

/// One dense layer's parameters: weights (out × in, one output unit per row)
/// and the bias (out), present when the layer's b_std > 0.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseParams {
    pub w: Matrix<f64>,
    pub b: Option<Vec<f64>>,
}

/// A compiled dense layer (or a recurrent layer's W or A with its bias).
#[derive(Clone, Debug)]
struct DenseSpec {
    /// "layer 2 'dense'", "layer 3.2.1 'dense'" or "layer 1 'rnn' W" (for error
    /// messages).
    label: String,
    fan_in: usize,
    out: usize,
    w_std: f64,
    b_std: f64,
    /// Multiplier of W h in the forward pass: W_std/√n (ntk) or 1 (standard).
    w_mult: f64,
    /// Multiplier of b: b_std (ntk) or 1 (standard).
    b_mult: f64,
    /// Standard deviation of the initial draws of W: 1 (ntk) or W_std/√n.
    w_init: f64,
    /// Standard deviation of the initial draws of b: 1 (ntk) or b_std.
    b_init: f64,
    /// Whether the bias entry exists (for a recurrent layer's W: M_0, h0 > 0).
    bias: bool,
    /// Whether W is trained.
    train_w: bool,
    /// Whether the bias is trained (when there is one).
    train_b: bool,
}

/// A compiled recurrent layer: dense-layer indices of W (its bias slot holds
/// M_0 when h0 > 0, never trained) and A (its bias β when b > 0).
#[derive(Clone, Debug)]
struct RnnNode {
    w: usize,
    a: usize,
    step: Node,
    len: usize,
    /// The input dimension per step.
    d: usize,
    /// readout=all: every state is an output (row i·L + t).
    all: bool,
}

/// The layer tree with dense layers replaced by their index.
#[derive(Clone, Debug)]
enum Node {
    Dense(usize),
    Act(ActMap),
    Identity,
    Scale(f64),
    Serial(Vec<Node>),
    Parallel { fanin: FanIn, branches: Vec<Node> },
    Rnn(Box<RnnNode>),
}

/// What the backward pass needs from the forward pass.
enum Cache {
    Dense(Matrix<f64>),
    Act(Matrix<f64>),
    Plain,
    Serial(Vec<Cache>),
    Parallel {
        outs: Vec<Matrix<f64>>,
        caches: Vec<Cache>,
    },
    /// The step inputs x_1..x_L, states h_0..h_{L−1} and the step's caches
    /// (t = 0: h_0 = step(M_0), None for h_0 = 0).
    Rnn {
        xs: Vec<Matrix<f64>>,
        states: Vec<Matrix<f64>>,
        steps: Vec<Option<Cache>>,
        /// Run per output ([`Keep::PerOutput`]): copy i·L + t read out at step t + 1.
        expand: bool,
    },
}

/// What the forward pass keeps for a backward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keep {
    /// Nothing (outputs only).
    No,
    /// The caches: the backward pass sums over the outputs (a loss gradient).
    Yes,
    /// The caches, one backward row per output (Jacobian rows, the empirical
    /// NTK): a readout=all recurrent layer runs each sequence once per output
    /// step t, copy (i, t) read out at step t only, so that row i·L + t − 1 of
    /// every sensitivity belongs to output (i, t) alone.
    PerOutput,
}

/// A recurrent layer's cache, taken apart: inputs, states, step caches, expand.
type Parts = (Vec<Matrix<f64>>, Vec<Matrix<f64>>, Vec<Option<Cache>>, bool);

/// Per dense layer, one entry per use (a recurrent layer's weights are used at
/// every step): its input rows H and output sensitivities G (∂(seed·f)/∂z).
/// The gradient of a shared weight is the sum over its uses.
type LayerGrads = Vec<Vec<(Matrix<f64>, Matrix<f64>)>>;

/// The finite network of a composed architecture, with its parameters.
#[derive(Clone, Debug)]
pub struct ComposedNet {
    arch: Arch,
    d: usize,
    input_scale: f64,
    /// The sequence length L (1 for a feed-forward net): rows of x hold L·d values.
    seq: usize,
    /// Outputs per input row: L for readout=all, else 1.
    outs_per_row: usize,
    root: Node,
    dense: Vec<DenseSpec>,
    params: Vec<DenseParams>,
}

/// A layer's name as the spec spells it (`dense`, `relu`, `sum`, ...).
fn layer_name(l: &Layer) -> String {
    let s = l.to_string();
    s.split('(').next().unwrap_or(&s).to_string()
}

fn arch_err(msg: String) -> Error {
    Error::invalid("arch", msg)
}

/// The output width of the k-th dense layer from (k, its label, its `width`
/// field, whether it is the readout).
type OutWidth<'a> = dyn FnMut(usize, &str, Option<usize>, bool) -> Result<usize> + 'a;

/// Compiles the layer tree; `out_width(k, label, width field, readout)` gives the
/// output width of the k-th dense layer.
struct Builder<'a> {
    dense: Vec<DenseSpec>,
    out_width: &'a mut OutWidth<'a>,
}

impl Builder<'_> {
    /// Compiles a recurrent layer reading inputs of dimension `d` per step;
    /// returns it with its state width. Dense indices: W, A, then the step's.
    fn rnn(&mut self, r: &Rnn, path: &str, d: usize) -> Result<(Node, usize)> {
        let (lw, la) = (format!("{path} 'rnn' W"), format!("{path} 'rnn' A"));
        let kw = self.dense.len();
        let m = (self.out_width)(kw, &lw, None, false)?;
        let recurrent = DenseSpec {
            label: lw,
            fan_in: 0, // the state width, set once the step is compiled
            out: m,
            w_std: r.w_std,
            b_std: r.h0_std,
            w_mult: 0.0,
            b_mult: 1.0,
            w_init: 1.0,
            b_init: r.h0_std,
            bias: r.h0_std > 0.0,
            train_w: r.train_w,
            train_b: false,
        };
        self.dense.push(recurrent);
        let ka = self.dense.len();
        let ma = (self.out_width)(ka, &la, None, false)?;
        if ma != m {
            return Err(Error::invalid(
                "params",
                format!("{la} has {ma} output rows but W has {m}: both give the pre-activation"),
            ));
        }
        self.dense.push(DenseSpec {
            label: la,
            fan_in: d,
            out: m,
            w_std: r.a_std,
            b_std: r.b_std,
            w_mult: r.a_std / (d as f64).sqrt(),
            b_mult: r.b_std,
            w_init: 1.0,
            b_init: 1.0,
            bias: r.b_std > 0.0,
            train_w: r.train_a,
            train_b: r.train_b,
        });
        let (step, s) = self.layer(&r.step, &format!("{path}.1"), m, false)?;
        let w = &mut self.dense[kw];
        w.fan_in = s;
        w.w_mult = r.w_std / (s as f64).sqrt();
        Ok((
            Node::Rnn(Box::new(RnnNode {
                w: kw,
                a: ka,
                step,
                len: r.len,
                d,
                all: r.readout == Readout::All,
            })),
            s,
        ))
    }

    fn layer(
        &mut self,
        l: &Layer,
        path: &str,
        width: usize,
        readout: bool,
    ) -> Result<(Node, usize)> {
        Ok(match l {
            Layer::Dense {
                w_std,
                b_std,
                param,
                trainable,
                width: wf,
            } => {
                let k = self.dense.len();
                let label = format!("{path} 'dense'");
                let out = (self.out_width)(k, &label, *wf, readout)?;
                let n = width as f64;
                let (w_mult, b_mult, w_init, b_init) = match param {
                    Param::Ntk => (w_std / n.sqrt(), *b_std, 1.0, 1.0),
                    Param::Standard => (1.0, 1.0, w_std / n.sqrt(), *b_std),
                };
                self.dense.push(DenseSpec {
                    label,
                    fan_in: width,
                    out,
                    w_std: *w_std,
                    b_std: *b_std,
                    w_mult,
                    b_mult,
                    w_init,
                    b_init,
                    bias: *b_std > 0.0,
                    train_w: *trainable,
                    train_b: *trainable,
                });
                (Node::Dense(k), out)
            }
            Layer::Act(a) => (
                Node::Act(ActMap::new(a).map_err(|e| arch_err(format!("{path} 'expr': {e}")))?),
                width,
            ),
            Layer::Identity => (Node::Identity, width),
            Layer::Scale(a) => (Node::Scale(*a), width),
            Layer::Serial(ls) => {
                let mut nodes = Vec::with_capacity(ls.len());
                let mut w = width;
                for (i, c) in ls.iter().enumerate() {
                    let (node, w2) = self.layer(c, &format!("{path}.{}", i + 1), w, false)?;
                    nodes.push(node);
                    w = w2;
                }
                (Node::Serial(nodes), w)
            }
            Layer::Parallel { fanin, branches } => {
                let mut nodes = Vec::with_capacity(branches.len());
                let mut widths = Vec::with_capacity(branches.len());
                for (i, b) in branches.iter().enumerate() {
                    let (node, w) = self.layer(b, &format!("{path}.{}", i + 1), width, false)?;
                    nodes.push(node);
                    widths.push(w);
                }
                let out = match fanin {
                    FanIn::Concat => widths.iter().sum(),
                    FanIn::Sum | FanIn::Prod => {
                        if let Some(i) = widths.iter().position(|&w| w != widths[0]) {
                            return Err(arch_err(format!(
                                "{path} '{}': branch 1 has width {} but branch {} has width {}; \
                                 branches joined elementwise need equal widths",
                                layer_name(l),
                                widths[0],
                                i + 1,
                                widths[i]
                            )));
                        }
                        widths[0]
                    }
                };
                (
                    Node::Parallel {
                        fanin: *fanin,
                        branches: nodes,
                    },
                    out,
                )
            }
            // a recurrent layer reads the input sequence: Program::new (called
            // first) refuses one anywhere but first, with the kernel's message
            Layer::Rnn(_) => {
                return Err(arch_err(format!(
                    "{path} 'rnn': a recurrent layer must be the net's first layer"
                )))
            }
        })
    }
}

/// Checks inputs of `d` columns per step, `seq` steps per row.
fn check_x(x: &Matrix<f64>, d: usize, seq: usize, name: &str) -> Result<()> {
    if x.cols() != d * seq {
        let takes = if seq == 1 {
            format!("d = {d}")
        } else {
            format!(
                "len·d = {seq}·{d} = {} columns (the {seq} steps of a sequence one after the other)",
                d * seq
            )
        };
        return Err(Error::invalid(
            name,
            format!(
                "inputs of dimension {} but the network takes {takes}",
                x.cols()
            ),
        ));
    }
    if x.rows() == 0 {
        return Err(Error::invalid(name, "no inputs (0 rows)"));
    }
    if !x.all_finite() {
        return Err(Error::invalid(name, "non-finite entries"));
    }
    Ok(())
}

/// z ← z + c·b on every row.
fn add_bias(z: &mut Matrix<f64>, b: &[f64], c: f64) {
    let w = b.len();
    z.as_mut_slice().par_chunks_mut(w.max(1)).for_each(|row| {
        for (v, bi) in row.iter_mut().zip(b) {
            *v += c * bi;
        }
    });
}

/// Column sums of G (one row per input) in row order: Gᵀ1.
fn col_sums(g: &Matrix<f64>) -> Vec<f64> {
    let mut s = vec![0.0; g.cols()];
    for i in 0..g.rows() {
        for (a, v) in s.iter_mut().zip(g.row(i)) {
            *a += v;
        }
    }
    s
}

/// The backward seed ∂L/∂f(xᵢ) = 1: row i of each sensitivity is then ∂f(xᵢ)/∂z.
fn ones(f: &[f64]) -> Result<Vec<f64>> {
    Ok(vec![1.0; f.len()])
}

/// Row-wise elementwise product a ← a ∘ b.
fn hadamard(a: &mut Matrix<f64>, b: &Matrix<f64>) {
    a.as_mut_slice()
        .par_iter_mut()
        .zip(b.as_slice().par_iter())
        .for_each(|(x, y)| *x *= y);
}

impl ComposedNet {
    /// Compiles `arch` for inputs of dimension `d`, dense output widths from
    /// `out_width` (without parameters yet).
    fn compile(
        arch: &Arch,
        d: usize,
        out_width: &mut OutWidth<'_>,
    ) -> Result<(Node, Vec<DenseSpec>)> {
        if d == 0 {
            return Err(Error::invalid(
                "d",
                "the input dimension must be at least 1",
            ));
        }
        // the kernel's compiler: the nets it refuses are refused with its message
        crate::kernels::compose::Program::new(arch, d)?;
        let top: Vec<(String, &Layer)> = arch.top_layers().collect();
        let (last_path, last) = top.last().expect("an architecture has a layer");
        if !matches!(last, Layer::Dense { .. }) {
            return Err(arch_err(format!(
                "the finite network needs a scalar readout: the last layer ({last_path} '{}') \
                 must be 'dense'",
                layer_name(last)
            )));
        }
        let mut b = Builder {
            dense: vec![],
            out_width,
        };
        let mut nodes = Vec::with_capacity(top.len());
        let mut w = d;
        for (i, (path, l)) in top.iter().enumerate() {
            let (node, w2) = match l {
                Layer::Rnn(r) if i == 0 => b.rnn(r, path, d)?,
                _ => b.layer(l, path, w, i + 1 == top.len())?,
            };
            nodes.push(node);
            w = w2;
        }
        Ok((Node::Serial(nodes), b.dense))
    }

    fn assemble(
        arch: &Arch,
        d: usize,
        root: Node,
        dense: Vec<DenseSpec>,
        params: Vec<DenseParams>,
    ) -> Self {
        ComposedNet {
            arch: arch.clone(),
            d,
            input_scale: match arch.gram {
                Gram::Mean => 1.0,
                Gram::Dot => (d as f64).sqrt(),
            },
            seq: arch.seq_len().unwrap_or(1),
            outs_per_row: if arch.readout_all() {
                arch.seq_len().unwrap_or(1)
            } else {
                1
            },
            root,
            dense,
            params,
        }
    }

    /// The network of `arch` at width `width` for inputs of dimension `d` (per
    /// step for a recurrent net, whose inputs have len·d columns), its
    /// parameters drawn from `seed` as the parameterization says (module docs).
    pub fn init(arch: &Arch, d: usize, width: usize, seed: u64) -> Result<Self> {
        if width == 0 {
            return Err(Error::invalid("width", "must be at least 1"));
        }
        let (root, dense) = Self::compile(arch, d, &mut |_, label, wf, readout| {
            if readout {
                return match wf {
                    None | Some(1) => Ok(1),
                    Some(w) => Err(arch_err(format!(
                        "{label}: field 'width' = {w}, but the readout has one output"
                    ))),
                };
            }
            Ok(wf.unwrap_or(width))
        })?;
        let count: u128 = dense
            .iter()
            .map(|s| (s.out as u128) * (s.fan_in as u128 + 1))
            .sum();
        crate::runtime::check_alloc("the composed network's parameters", count, 8)?;
        let params = dense
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let mut g = rng::stream(seed, &format!("composed/dense{k}/w"));
                let w = Matrix::from_fn(s.out, s.fan_in, |_, _| s.w_init * rng::normal(&mut g));
                let b = s.bias.then(|| {
                    let mut g = rng::stream(seed, &format!("composed/dense{k}/b"));
                    (0..s.out).map(|_| s.b_init * rng::normal(&mut g)).collect()
                });
                DenseParams { w, b }
            })
            .collect();
        Ok(Self::assemble(arch, d, root, dense, params))
    }

    /// The network of `arch` with given parameters (one [`DenseParams`] per dense
    /// layer, in the spec's order; the widths are read from the weights' shapes).
    /// Errors name `params[k]` and the layer when a shape does not fit.
    pub fn from_params(arch: &Arch, d: usize, params: Vec<DenseParams>) -> Result<Self> {
        let np = params.len();
        let shapes: Vec<(usize, usize)> = params.iter().map(|p| p.w.shape()).collect();
        let (root, dense) = Self::compile(arch, d, &mut |k, label, wf, readout| {
            let (out, _) = *shapes.get(k).ok_or_else(|| {
                Error::invalid(
                    "params",
                    format!(
                        "{np} dense layers' parameters given but {label} is dense layer {}",
                        k + 1
                    ),
                )
            })?;
            let want = if readout { Some(1) } else { wf };
            if let Some(w) = want.filter(|&w| w != out) {
                return Err(Error::invalid(
                    "params",
                    format!("params for {label} have {out} output rows, expected {w}"),
                ));
            }
            if out == 0 {
                return Err(Error::invalid(
                    "params",
                    format!("params for {label} have 0 output rows"),
                ));
            }
            Ok(out)
        })?;
        if dense.len() != np {
            return Err(Error::invalid(
                "params",
                format!(
                    "{np} dense layers' parameters for {} dense layers",
                    dense.len()
                ),
            ));
        }
        for (s, p) in dense.iter().zip(&params) {
            if p.w.cols() != s.fan_in {
                return Err(Error::invalid(
                    "params",
                    format!(
                        "weights of {} are {}x{} but its input has width {}{}",
                        s.label,
                        p.w.rows(),
                        p.w.cols(),
                        s.fan_in,
                        if s.fan_in == d {
                            " (the inputs' dimension d)"
                        } else {
                            ""
                        }
                    ),
                ));
            }
            match (&p.b, s.bias) {
                (Some(b), true) if b.len() != s.out => {
                    return Err(Error::invalid(
                        "params",
                        format!(
                            "bias of {} has {} entries, expected {}",
                            s.label,
                            b.len(),
                            s.out
                        ),
                    ))
                }
                (None, true) => {
                    return Err(Error::invalid(
                        "params",
                        format!("{} has b > 0 but no bias was given", s.label),
                    ))
                }
                (Some(_), false) => {
                    return Err(Error::invalid(
                        "params",
                        format!("{} has b = 0 (no bias) but a bias was given", s.label),
                    ))
                }
                _ => {}
            }
            let finite = p.w.all_finite() && p.b.iter().flatten().all(|v| v.is_finite());
            if !finite {
                return Err(Error::invalid(
                    "params",
                    format!("parameters of {} have non-finite entries", s.label),
                ));
            }
        }
        Ok(Self::assemble(arch, d, root, dense, params))
    }

    /// [`Self::from_params`] from a flat list of arrays as (shape, row-major
    /// values): each dense layer's weights (2-D, out × in), followed by its bias
    /// (1-D) when the layer has one — the order [`Self::to_arrays`] gives.
    /// Errors name `params[i]`.
    pub fn from_arrays(arch: &Arch, d: usize, arrays: Vec<(Vec<usize>, Vec<f64>)>) -> Result<Self> {
        let mut params: Vec<DenseParams> = Vec::new();
        for (i, (shape, data)) in arrays.into_iter().enumerate() {
            let bad = |msg: String| Error::invalid("params", format!("params[{i}]: {msg}"));
            match shape[..] {
                [r, c] => params.push(DenseParams {
                    w: Matrix::from_vec(r, c, data).map_err(|e| bad(e.to_string()))?,
                    b: None,
                }),
                [n] => match params.last_mut() {
                    Some(DenseParams { b: b @ None, .. }) => {
                        if data.len() != n {
                            return Err(bad(format!("{} values for shape ({n},)", data.len())));
                        }
                        *b = Some(data)
                    }
                    _ => {
                        return Err(bad(
                            "a 1-D array (a bias) must follow its layer's 2-D weights".into(),
                        ))
                    }
                },
                _ => {
                    return Err(bad(format!(
                        "shape {shape:?}: expected 2-D weights or a 1-D bias"
                    )))
                }
            }
        }
        Self::from_params(arch, d, params)
    }

    /// The parameters as a flat list of (shape, row-major values): each dense
    /// layer's weights (out × in), then its bias when it has one.
    pub fn to_arrays(&self) -> Vec<(Vec<usize>, Vec<f64>)> {
        let mut out = Vec::new();
        for p in &self.params {
            out.push((vec![p.w.rows(), p.w.cols()], p.w.as_slice().to_vec()));
            if let Some(b) = &p.b {
                out.push((vec![b.len()], b.clone()));
            }
        }
        out
    }

    /// The architecture.
    pub fn arch(&self) -> &Arch {
        &self.arch
    }
    /// Input dimension d.
    pub fn dim(&self) -> usize {
        self.d
    }
    /// The parameters, one entry per dense layer in the spec's order.
    pub fn params(&self) -> &[DenseParams] {
        &self.params
    }
    /// The parameters, taken out.
    pub fn into_params(self) -> Vec<DenseParams> {
        self.params
    }
    /// Per dense entry of [`Self::params`]: whether its weights and its bias
    /// are trained (the bias only when it exists; a recurrent layer's M_0 never).
    pub fn trained(&self) -> Vec<(bool, bool)> {
        self.dense
            .iter()
            .map(|s| (s.train_w, s.bias && s.train_b))
            .collect()
    }
    /// Outputs per input row: len for a recurrent net with readout=all, else 1.
    pub fn outputs_per_row(&self) -> usize {
        self.outs_per_row
    }
    /// Number of trainable parameters (the columns of [`Self::jacobian`]).
    pub fn num_trainable(&self) -> usize {
        self.dense
            .iter()
            .map(|s| s.out * (s.fan_in * s.train_w as usize + (s.bias && s.train_b) as usize))
            .sum()
    }

    fn input(&self, x: &Matrix<f64>, name: &str) -> Result<Matrix<f64>> {
        check_x(x, self.d, self.seq, name)?;
        let mut h = x.clone();
        if self.input_scale != 1.0 {
            let c = self.input_scale;
            h.as_mut_slice().iter_mut().for_each(|v| *v *= c);
        }
        Ok(h)
    }

    fn fwd(&self, node: &Node, h: Matrix<f64>, keep: Keep) -> Result<(Matrix<f64>, Cache)> {
        Ok(match node {
            Node::Dense(k) => {
                let (s, p) = (&self.dense[*k], &self.params[*k]);
                let mut z = Matrix::try_zeros(h.rows(), s.out, "a dense layer's outputs")?;
                gemm_into(&mut z, h.view(), p.w.t(), s.w_mult, false)?;
                if let Some(b) = &p.b {
                    add_bias(&mut z, b, s.b_mult);
                }
                let kept = keep != Keep::No;
                (z, if kept { Cache::Dense(h) } else { Cache::Plain })
            }
            Node::Act(m) => {
                let mut out = h.clone();
                out.as_mut_slice()
                    .par_iter_mut()
                    .for_each(|v| *v = m.point(*v).0);
                let kept = keep != Keep::No;
                (out, if kept { Cache::Act(h) } else { Cache::Plain })
            }
            Node::Identity => (h, Cache::Plain),
            Node::Scale(a) => {
                let mut h = h;
                h.as_mut_slice().iter_mut().for_each(|v| *v *= a);
                (h, Cache::Plain)
            }
            Node::Serial(ns) => {
                let mut caches = Vec::with_capacity(ns.len());
                let mut h = h;
                for n in ns {
                    let (o, c) = self.fwd(n, h, keep)?;
                    h = o;
                    caches.push(c);
                }
                (h, Cache::Serial(caches))
            }
            Node::Parallel { fanin, branches } => {
                let mut outs = Vec::with_capacity(branches.len());
                let mut caches = Vec::with_capacity(branches.len());
                for b in branches {
                    let (o, c) = self.fwd(b, h.clone(), keep)?;
                    outs.push(o);
                    caches.push(c);
                }
                let out = match fanin {
                    FanIn::Sum | FanIn::Prod => {
                        let mut o = outs[0].clone();
                        for b in &outs[1..] {
                            if *fanin == FanIn::Sum {
                                o.as_mut_slice()
                                    .iter_mut()
                                    .zip(b.as_slice())
                                    .for_each(|(x, y)| *x += y);
                            } else {
                                hadamard(&mut o, b);
                            }
                        }
                        o
                    }
                    FanIn::Concat => {
                        let w: usize = outs.iter().map(|o| o.cols()).sum();
                        let mut o = Matrix::try_zeros(h.rows(), w, "a concatenation")?;
                        for i in 0..h.rows() {
                            let row = o.row_mut(i);
                            let mut at = 0;
                            for b in &outs {
                                row[at..at + b.cols()].copy_from_slice(b.row(i));
                                at += b.cols();
                            }
                        }
                        o
                    }
                };
                if keep == Keep::No {
                    outs.clear();
                }
                (out, Cache::Parallel { outs, caches })
            }
            Node::Rnn(r) => self.fwd_rnn(r, &h, keep)?,
        })
    }

    /// A recurrent layer over the sequences in the rows of `x` (n × L·d):
    /// g_t = w·W h_{t−1}/√s + a·A x_t/√d + b·β, h_t = step(g_t) (seed 004 eq. 14
    /// in the NTK parameterization, the arch module's docs), h_0 = 0 or
    /// step(M_0) for every input. Outputs h_L (n × s) or, for readout=all, every
    /// h_t at row i·L + t − 1 (n·L × s).
    fn fwd_rnn(&self, r: &RnnNode, x: &Matrix<f64>, keep: Keep) -> Result<(Matrix<f64>, Cache)> {
        let expand = r.all && keep == Keep::PerOutput;
        // Keep::PerOutput: copy (i, t) of sequence i at row i·L + t
        let copies = if expand { r.len } else { 1 };
        let n = x.rows() * copies;
        let (sw, pw) = (&self.dense[r.w], &self.params[r.w]);
        let (sa, pa) = (&self.dense[r.a], &self.params[r.a]);
        let (m, s, d) = (sw.out, sw.fan_in, r.d);
        let mut states = Vec::with_capacity(r.len + 1);
        let mut steps = Vec::with_capacity(r.len + 1);
        let mut xs = Vec::with_capacity(r.len);
        match &pw.b {
            Some(m0) => {
                let g0 = Matrix::from_fn(n, m, |_, j| m0[j]);
                let (h0, c) = self.fwd(&r.step, g0, keep)?;
                states.push(h0);
                steps.push(Some(c));
            }
            None => {
                states.push(Matrix::try_zeros(n, s, "a recurrent layer's states")?);
                steps.push(None);
            }
        }
        for t in 0..r.len {
            let xt = Matrix::from_fn(n, d, |i, k| x.get(i / copies, t * d + k));
            let mut g = Matrix::try_zeros(n, m, "a recurrent layer's pre-activations")?;
            gemm_into(&mut g, xt.view(), pa.w.t(), sa.w_mult, false)?;
            gemm_into(&mut g, states[t].view(), pw.w.t(), sw.w_mult, true)?;
            if let Some(b) = &pa.b {
                add_bias(&mut g, b, sa.b_mult);
            }
            let (ht, c) = self.fwd(&r.step, g, keep)?;
            states.push(ht);
            steps.push(Some(c));
            if keep != Keep::No {
                xs.push(xt);
            }
        }
        let out = if expand {
            Matrix::from_fn(n, s, |i, c| states[i % r.len + 1].get(i, c))
        } else if r.all {
            let mut o = Matrix::try_zeros(n * r.len, s, "a recurrent layer's states")?;
            for i in 0..n {
                for t in 0..r.len {
                    o.row_mut(i * r.len + t)
                        .copy_from_slice(states[t + 1].row(i));
                }
            }
            o
        } else {
            states.pop().expect("a sequence has a step")
        };
        if keep == Keep::No {
            return Ok((out, Cache::Plain));
        }
        states.truncate(r.len);
        let cache = Cache::Rnn {
            xs,
            states,
            steps,
            expand,
        };
        Ok((out, cache))
    }

    /// Backpropagation through time of a recurrent layer: δh_{t−1} =
    /// w/√s·(∂g_t)·W plus step t − 1's own output sensitivity (readout=all);
    /// W's and A's uses (h_{t−1}, ∂g_t) and (x_t, ∂g_t) go to `grads`, the
    /// step's dense layers' through the step's backward pass (h_0 = step(M_0)
    /// included: the step's weights shape h_0 too).
    fn bwd_rnn(
        &self,
        r: &RnnNode,
        (mut xs, mut states, mut steps, expand): Parts,
        g: Matrix<f64>,
        grads: &mut LayerGrads,
    ) -> Result<Matrix<f64>> {
        let (sw, pw) = (&self.dense[r.w], &self.params[r.w]);
        let s = sw.fan_in;
        let n = if r.all && !expand {
            g.rows() / r.len
        } else {
            g.rows()
        };
        let mut carried: Option<Matrix<f64>> = None;
        let mut last = Some(g.clone());
        for t in (1..=r.len).rev() {
            let own = if expand {
                // copy i·L + t − 1 is read out at step t only
                Some(Matrix::from_fn(n, s, |i, c| {
                    if i % r.len == t - 1 {
                        g.get(i, c)
                    } else {
                        0.0
                    }
                }))
            } else if r.all {
                Some(Matrix::from_fn(n, s, |i, c| g.get(i * r.len + t - 1, c)))
            } else {
                last.take()
            };
            let gt = match (own, carried.take()) {
                (Some(mut a), Some(b)) => {
                    a.as_mut_slice()
                        .iter_mut()
                        .zip(b.as_slice())
                        .for_each(|(x, y)| *x += y);
                    a
                }
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => unreachable!("the last step has the output's sensitivity"),
            };
            let cache = steps.pop().flatten().expect("every step has a cache");
            let dg = self.bwd(&r.step, cache, gt, grads)?;
            let hprev = states.pop().expect("a state per step");
            let xt = xs.pop().expect("an input per step");
            let mut dh = Matrix::try_zeros(n, s, "a recurrent layer's gradient")?;
            gemm_into(&mut dh, dg.view(), pw.w.view(), sw.w_mult, false)?;
            grads[r.a].push((xt, dg.clone()));
            grads[r.w].push((hprev, dg));
            carried = Some(dh);
        }
        if let (Some(Some(c)), Some(dh)) = (steps.pop(), carried) {
            self.bwd(&r.step, c, dh, grads)?;
        }
        // the recurrent layer reads the input: no layer before it needs ∂/∂x
        Ok(Matrix::zeros(n, 0))
    }

    /// Backward pass: `g` = ∂L/∂(node output) row by row; returns ∂L/∂(node
    /// input) and stores each dense layer's (input, output sensitivity) in `grads`.
    fn bwd(
        &self,
        node: &Node,
        cache: Cache,
        g: Matrix<f64>,
        grads: &mut LayerGrads,
    ) -> Result<Matrix<f64>> {
        Ok(match (node, cache) {
            (Node::Dense(k), Cache::Dense(h)) => {
                let (s, p) = (&self.dense[*k], &self.params[*k]);
                // the input's sensitivity is needed unless this is the first layer
                // on the input; it is cheap next to the forward pass, so always formed
                let mut gin = Matrix::try_zeros(g.rows(), s.fan_in, "a layer's gradient")?;
                gemm_into(&mut gin, g.view(), p.w.view(), s.w_mult, false)?;
                grads[*k].push((h, g));
                gin
            }
            (Node::Act(m), Cache::Act(pre)) => {
                let mut g = g;
                g.as_mut_slice()
                    .par_iter_mut()
                    .zip(pre.as_slice().par_iter())
                    .for_each(|(gi, z)| *gi *= m.point(*z).1);
                g
            }
            (Node::Identity, _) => g,
            (Node::Scale(a), _) => {
                let mut g = g;
                g.as_mut_slice().iter_mut().for_each(|v| *v *= a);
                g
            }
            (Node::Serial(ns), Cache::Serial(cs)) => {
                let mut g = g;
                for (n, c) in ns.iter().zip(cs).rev() {
                    g = self.bwd(n, c, g, grads)?;
                }
                g
            }
            (Node::Parallel { fanin, branches }, Cache::Parallel { outs, caches }) => {
                let mut total: Option<Matrix<f64>> = None;
                let mut at = 0;
                for (i, (b, c)) in branches.iter().zip(caches).enumerate() {
                    let gb = match fanin {
                        FanIn::Sum => g.clone(),
                        FanIn::Prod => {
                            let mut gb = g.clone();
                            for (j, o) in outs.iter().enumerate() {
                                if j != i {
                                    hadamard(&mut gb, o);
                                }
                            }
                            gb
                        }
                        FanIn::Concat => {
                            let w = outs[i].cols();
                            let gb = Matrix::from_fn(g.rows(), w, |r, c| g.get(r, at + c));
                            at += w;
                            gb
                        }
                    };
                    let gi = self.bwd(b, c, gb, grads)?;
                    match &mut total {
                        None => total = Some(gi),
                        Some(t) => t
                            .as_mut_slice()
                            .iter_mut()
                            .zip(gi.as_slice())
                            .for_each(|(x, y)| *x += y),
                    }
                }
                total.expect("a combinator has a branch")
            }
            (
                Node::Rnn(r),
                Cache::Rnn {
                    xs,
                    states,
                    steps,
                    expand,
                },
            ) => self.bwd_rnn(r, (xs, states, steps, expand), g, grads)?,
            _ => unreachable!("the forward pass kept a cache for every layer"),
        })
    }

    /// Outputs f(xᵢ) for the rows of `x` (n × d).
    pub fn apply(&self, x: &Matrix<f64>) -> Result<Vec<f64>> {
        let (out, _) = self.fwd(&self.root, self.input(x, "x")?, Keep::No)?;
        Ok(out.into_vec())
    }

    /// Forward and backward pass seeded with ∂L/∂f(xᵢ) = `seed(f)`ᵢ: the outputs
    /// f and, per dense layer, its input rows and output sensitivities.
    fn backprop(
        &self,
        x: &Matrix<f64>,
        name: &str,
        keep: Keep,
        seed: impl FnOnce(&[f64]) -> Result<Vec<f64>>,
    ) -> Result<(Vec<f64>, LayerGrads)> {
        let (out, cache) = self.fwd(&self.root, self.input(x, name)?, keep)?;
        let f = out.into_vec();
        let s = seed(&f)?;
        let mut grads: LayerGrads = vec![vec![]; self.dense.len()];
        self.bwd(
            &self.root,
            cache,
            Matrix::from_vec(f.len(), 1, s)?,
            &mut grads,
        )?;
        Ok((f, grads))
    }

    fn check_y(&self, y: &[f64], n: usize) -> Result<()> {
        if y.len() != n {
            return Err(Error::invalid(
                "y",
                if self.outs_per_row == 1 {
                    format!("{} targets for {n} rows of x", y.len())
                } else {
                    format!(
                        "{} targets for {n} outputs (readout=all: one per step of each row of x, \
                         row i·len + t)",
                        y.len()
                    )
                },
            ));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid("y", format!("entry {i} is {}", y[i])));
        }
        Ok(())
    }

    /// Φ = ½ Σᵢ (f(xᵢ) − yᵢ)² and its gradient by backpropagation, one
    /// [`DenseParams`] per dense layer (zero for non-trainable layers; a
    /// recurrent layer's weights get the sum over the steps, backpropagation
    /// through time).
    pub fn loss_gradient(&self, x: &Matrix<f64>, y: &[f64]) -> Result<(f64, Vec<DenseParams>)> {
        let (f, grads) = self.backprop(x, "x", Keep::Yes, |f| {
            self.check_y(y, f.len())?;
            Ok(f.iter().zip(y).map(|(a, b)| a - b).collect())
        })?;
        let loss = super::two_layer::half_sq_loss(&f, y);
        let g = self
            .dense
            .iter()
            .zip(&self.params)
            .zip(grads)
            .map(|((s, p), hg)| {
                let mut w = Matrix::zeros(s.out, s.fan_in);
                let mut b = p.b.as_ref().map(|b| vec![0.0; b.len()]);
                for (u, (h, g)) in hg.iter().enumerate() {
                    if s.train_w {
                        gemm_into(&mut w, g.t(), h.view(), s.w_mult, u > 0)?;
                    }
                    if let (Some(b), true) = (&mut b, s.train_b) {
                        for (a, v) in b.iter_mut().zip(col_sums(g)) {
                            *a += s.b_mult * v;
                        }
                    }
                }
                Ok(DenseParams { w, b })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((loss, g))
    }

    /// The Jacobian J (n × P): row i = ∂f(xᵢ)/∂θ over the trainable parameters,
    /// layer by layer in the spec's order, each layer's W row-major then b.
    pub fn jacobian(&self, x: &Matrix<f64>) -> Result<Matrix<f64>> {
        let (f, grads) = self.backprop(x, "x", Keep::PerOutput, ones)?;
        let n = f.len();
        let p = self.num_trainable();
        crate::runtime::check_alloc("the Jacobian (n x P)", n as u128 * p as u128, 8)?;
        let mut j = Matrix::zeros(n, p);
        for i in 0..n {
            let row = j.row_mut(i);
            let mut at = 0;
            for (s, hg) in self.dense.iter().zip(&grads) {
                // a weight used at several steps: the sum of the uses' gradients
                if s.train_w {
                    for (h, g) in hg {
                        for o in 0..s.out {
                            let go = g.get(i, o) * s.w_mult;
                            let cols = &mut row[at + o * s.fan_in..at + (o + 1) * s.fan_in];
                            for (v, hj) in cols.iter_mut().zip(h.row(i)) {
                                *v += go * hj;
                            }
                        }
                    }
                    at += s.out * s.fan_in;
                }
                if s.bias && s.train_b {
                    for (_, g) in hg {
                        for o in 0..s.out {
                            row[at + o] += g.get(i, o) * s.b_mult;
                        }
                    }
                    at += s.out;
                }
            }
        }
        Ok(j)
    }

    /// The empirical NTK Θ̂(X, X2) = J(X) J(X2)ᵀ (n × n2; X2 = X when `x2` is
    /// None), formed layer by layer as (G G₂ᵀ)∘(H H₂ᵀ) without the Jacobian.
    pub fn empirical_ntk(&self, x: &Matrix<f64>, x2: Option<&Matrix<f64>>) -> Result<Matrix<f64>> {
        let (f1, g1) = self.backprop(x, "x", Keep::PerOutput, ones)?;
        let other = x2
            .map(|x2| self.backprop(x2, "x2", Keep::PerOutput, ones))
            .transpose()?;
        let (n1, g2) = match &other {
            Some((f2, g2)) => (f2.len(), g2),
            None => (f1.len(), &g1),
        };
        let mut k = Matrix::try_zeros(f1.len(), n1, "the empirical NTK")?;
        let mut gg = Matrix::zeros(f1.len(), n1);
        let mut hh = Matrix::zeros(f1.len(), n1);
        for (s, (a, b)) in self.dense.iter().zip(g1.iter().zip(g2)) {
            let train_b = s.bias && s.train_b;
            if !(s.train_w || train_b) {
                continue;
            }
            // a weight used at several steps: every pair of uses (t, u)
            for (h1, gr1) in a {
                for (h2, gr2) in b {
                    gemm_into(&mut gg, gr1.view(), gr2.t(), 1.0, false)?;
                    let c = if train_b { s.b_mult * s.b_mult } else { 0.0 };
                    if s.train_w {
                        gemm_into(&mut hh, h1.view(), h2.t(), s.w_mult * s.w_mult, false)?;
                        if train_b {
                            hh.as_mut_slice().iter_mut().for_each(|v| *v += c);
                        }
                    } else {
                        hh.as_mut_slice().iter_mut().for_each(|v| *v = c);
                    }
                    k.as_mut_slice()
                        .par_iter_mut()
                        .zip(gg.as_slice().par_iter().zip(hh.as_slice().par_iter()))
                        .for_each(|(kv, (g, h))| *kv += g * h);
                }
            }
        }
        Ok(k)
    }

    /// The empirical NNGP: the readout's covariance given its input features,
    /// W_std²/n·H H₂ᵀ + b_std² (n × n2; X2 = X when `x2` is None).
    pub fn empirical_nngp(&self, x: &Matrix<f64>, x2: Option<&Matrix<f64>>) -> Result<Matrix<f64>> {
        let feats = |x: &Matrix<f64>, name: &str| -> Result<Matrix<f64>> {
            let (_, mut g) = self.backprop(x, name, Keep::Yes, ones)?;
            let readout = g.pop().and_then(|u| u.into_iter().next());
            Ok(readout.expect("the readout is reached").0)
        };
        let h1 = feats(x, "x")?;
        let h2 = x2.map(|x2| feats(x2, "x2")).transpose()?;
        let h2 = h2.as_ref().unwrap_or(&h1);
        let s = self.dense.last().expect("a readout");
        let mut k = Matrix::try_zeros(h1.rows(), h2.rows(), "the empirical NNGP")?;
        gemm_into(
            &mut k,
            h1.view(),
            h2.t(),
            s.w_std * s.w_std / s.fan_in as f64,
            false,
        )?;
        let c = s.b_std * s.b_std;
        k.as_mut_slice().iter_mut().for_each(|v| *v += c);
        Ok(k)
    }

    /// Full-batch gradient descent on Φ = ½ Σᵢ (f(xᵢ) − yᵢ)² for `steps` steps
    /// of θ ← θ − η ∇Φ (trainable layers only). Returns Φ at k = 0, …, steps.
    /// Checks for Ctrl-C every step; a non-finite loss stops it with
    /// [`Error::Diverged`].
    pub fn train_gd(
        &mut self,
        x: &Matrix<f64>,
        y: &[f64],
        eta: f64,
        steps: usize,
    ) -> Result<Vec<f64>> {
        if !(eta > 0.0 && eta.is_finite()) {
            return Err(Error::invalid(
                "eta",
                format!("must be positive and finite, got {eta}"),
            ));
        }
        check_x(x, self.d, self.seq, "x")?;
        self.check_y(y, x.rows() * self.outs_per_row)?;
        let mut history = Vec::with_capacity(steps + 1);
        for k in 0..=steps {
            crate::runtime::check_interrupt()?;
            let (loss, grad) = self.loss_gradient(x, y)?;
            if !loss.is_finite() {
                return Err(Error::Diverged {
                    iter: k,
                    loss,
                    start: history.first().copied().unwrap_or(loss),
                    eta,
                    suggest: eta / 10.0,
                });
            }
            history.push(loss);
            if k == steps {
                break;
            }
            for ((s, p), g) in self.dense.iter().zip(&mut self.params).zip(grad) {
                if s.train_w {
                    p.w.as_mut_slice()
                        .iter_mut()
                        .zip(g.w.as_slice())
                        .for_each(|(w, d)| *w -= eta * d);
                }
                if let (Some(b), Some(db), true) = (&mut p.b, &g.b, s.train_b) {
                    b.iter_mut().zip(db).for_each(|(v, d)| *v -= eta * d);
                }
            }
        }
        Ok(history)
    }
}
