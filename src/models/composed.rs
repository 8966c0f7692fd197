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
use crate::kernels::compose::{Arch, FanIn, Gram, Layer, Param};
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

/// A compiled dense layer.
#[derive(Clone, Debug)]
struct DenseSpec {
    /// "layer 2" or "layer 3.2.1" (for error messages).
    path: String,
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
    bias: bool,
    trainable: bool,
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
}

/// Per dense layer: its input rows H and output sensitivities G (∂(seed·f)/∂z).
type LayerGrads = Vec<Option<(Matrix<f64>, Matrix<f64>)>>;

/// The finite network of a composed architecture, with its parameters.
#[derive(Clone, Debug)]
pub struct ComposedNet {
    arch: Arch,
    d: usize,
    input_scale: f64,
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

/// The output width of the k-th dense layer from (k, path, its `width` field,
/// whether it is the readout).
type OutWidth<'a> = dyn FnMut(usize, &str, Option<usize>, bool) -> Result<usize> + 'a;

/// Compiles the layer tree; `out_width(k, path, width field, readout)` gives the
/// output width of the k-th dense layer.
struct Builder<'a> {
    dense: Vec<DenseSpec>,
    out_width: &'a mut OutWidth<'a>,
}

impl Builder<'_> {
    #[allow(unreachable_patterns)] // the wildcard: layers added to the engine later (recurrent)
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
                let out = (self.out_width)(k, path, *wf, readout)?;
                let n = width as f64;
                let (w_mult, b_mult, w_init, b_init) = match param {
                    Param::Ntk => (w_std / n.sqrt(), *b_std, 1.0, 1.0),
                    Param::Standard => (1.0, 1.0, w_std / n.sqrt(), *b_std),
                };
                self.dense.push(DenseSpec {
                    path: path.to_string(),
                    fan_in: width,
                    out,
                    w_std: *w_std,
                    b_std: *b_std,
                    w_mult,
                    b_mult,
                    w_init,
                    b_init,
                    bias: *b_std > 0.0,
                    trainable: *trainable,
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
            other => {
                return Err(arch_err(format!(
                    "{path} '{}': the finite network does not implement this layer \
                     (recurrent layers have their own networks, crate::models::rnn)",
                    layer_name(other)
                )))
            }
        })
    }
}

fn check_x(x: &Matrix<f64>, d: usize, name: &str) -> Result<()> {
    if x.cols() != d {
        return Err(Error::invalid(
            name,
            format!(
                "inputs of dimension {} but the network takes d = {d}",
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
        arch.check_net()?;
        if d == 0 {
            return Err(Error::invalid(
                "d",
                "the input dimension must be at least 1",
            ));
        }
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
            let (node, w2) = b.layer(l, path, w, i + 1 == top.len())?;
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
            root,
            dense,
            params,
        }
    }

    /// The network of `arch` at width `width` for inputs of dimension `d`, its
    /// parameters drawn from `seed` as the parameterization says (module docs).
    pub fn init(arch: &Arch, d: usize, width: usize, seed: u64) -> Result<Self> {
        if width == 0 {
            return Err(Error::invalid("width", "must be at least 1"));
        }
        let (root, dense) = Self::compile(arch, d, &mut |_, path, wf, readout| {
            if readout {
                return match wf {
                    None | Some(1) => Ok(1),
                    Some(w) => Err(arch_err(format!(
                        "{path} 'dense': field 'width' = {w}, but the readout has one output"
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
        let (root, dense) = Self::compile(arch, d, &mut |k, path, wf, readout| {
            let (out, _) = *shapes.get(k).ok_or_else(|| {
                Error::invalid(
                    "params",
                    format!(
                        "{np} dense layers' parameters given but {path} is dense layer {}",
                        k + 1
                    ),
                )
            })?;
            let want = if readout { Some(1) } else { wf };
            if let Some(w) = want.filter(|&w| w != out) {
                return Err(Error::invalid(
                    "params",
                    format!("params for {path} 'dense' have {out} output rows, expected {w}"),
                ));
            }
            if out == 0 {
                return Err(Error::invalid(
                    "params",
                    format!("params for {path} 'dense' have 0 output rows"),
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
                        "weights of {} 'dense' are {}x{} but its input has width {}{}",
                        s.path,
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
                            "bias of {} 'dense' has {} entries, expected {}",
                            s.path,
                            b.len(),
                            s.out
                        ),
                    ))
                }
                (None, true) => {
                    return Err(Error::invalid(
                        "params",
                        format!("{} 'dense' has b > 0 but no bias was given", s.path),
                    ))
                }
                (Some(_), false) => {
                    return Err(Error::invalid(
                        "params",
                        format!(
                            "{} 'dense' has b = 0 (no bias) but a bias was given",
                            s.path
                        ),
                    ))
                }
                _ => {}
            }
            let finite = p.w.all_finite() && p.b.iter().flatten().all(|v| v.is_finite());
            if !finite {
                return Err(Error::invalid(
                    "params",
                    format!("parameters of {} 'dense' have non-finite entries", s.path),
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
    /// Number of trainable parameters (the columns of [`Self::jacobian`]).
    pub fn num_trainable(&self) -> usize {
        self.dense
            .iter()
            .filter(|s| s.trainable)
            .map(|s| s.out * (s.fan_in + s.bias as usize))
            .sum()
    }

    fn input(&self, x: &Matrix<f64>, name: &str) -> Result<Matrix<f64>> {
        check_x(x, self.d, name)?;
        let mut h = x.clone();
        if self.input_scale != 1.0 {
            let c = self.input_scale;
            h.as_mut_slice().iter_mut().for_each(|v| *v *= c);
        }
        Ok(h)
    }

    fn fwd(&self, node: &Node, h: Matrix<f64>, keep: bool) -> Result<(Matrix<f64>, Cache)> {
        Ok(match node {
            Node::Dense(k) => {
                let (s, p) = (&self.dense[*k], &self.params[*k]);
                let mut z = Matrix::try_zeros(h.rows(), s.out, "a dense layer's outputs")?;
                gemm_into(&mut z, h.view(), p.w.t(), s.w_mult, false)?;
                if let Some(b) = &p.b {
                    add_bias(&mut z, b, s.b_mult);
                }
                (z, if keep { Cache::Dense(h) } else { Cache::Plain })
            }
            Node::Act(m) => {
                let mut out = h.clone();
                out.as_mut_slice()
                    .par_iter_mut()
                    .for_each(|v| *v = m.point(*v).0);
                (out, if keep { Cache::Act(h) } else { Cache::Plain })
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
                if !keep {
                    outs.clear();
                }
                (out, Cache::Parallel { outs, caches })
            }
        })
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
                grads[*k] = Some((h, g));
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
            _ => unreachable!("the forward pass kept a cache for every layer"),
        })
    }

    /// Outputs f(xᵢ) for the rows of `x` (n × d).
    pub fn apply(&self, x: &Matrix<f64>) -> Result<Vec<f64>> {
        let (out, _) = self.fwd(&self.root, self.input(x, "x")?, false)?;
        Ok(out.into_vec())
    }

    /// Forward and backward pass seeded with ∂L/∂f(xᵢ) = `seed(f)`ᵢ: the outputs
    /// f and, per dense layer, its input rows and output sensitivities.
    fn backprop(
        &self,
        x: &Matrix<f64>,
        name: &str,
        seed: impl FnOnce(&[f64]) -> Result<Vec<f64>>,
    ) -> Result<(Vec<f64>, LayerGrads)> {
        let (out, cache) = self.fwd(&self.root, self.input(x, name)?, true)?;
        let f = out.into_vec();
        let s = seed(&f)?;
        let mut grads: LayerGrads = vec![None; self.dense.len()];
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
                format!("{} targets for {n} rows of x", y.len()),
            ));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid("y", format!("entry {i} is {}", y[i])));
        }
        Ok(())
    }

    /// Φ = ½ Σᵢ (f(xᵢ) − yᵢ)² and its gradient by backpropagation, one
    /// [`DenseParams`] per dense layer (zero for non-trainable layers).
    pub fn loss_gradient(&self, x: &Matrix<f64>, y: &[f64]) -> Result<(f64, Vec<DenseParams>)> {
        let (f, grads) = self.backprop(x, "x", |f| {
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
                if s.trainable {
                    let (h, g) = hg.expect("every dense layer is reached");
                    gemm_into(&mut w, g.t(), h.view(), s.w_mult, false)?;
                    if let Some(b) = &mut b {
                        *b = col_sums(&g).into_iter().map(|v| s.b_mult * v).collect();
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
        let (f, grads) = self.backprop(x, "x", ones)?;
        let n = f.len();
        let p = self.num_trainable();
        crate::runtime::check_alloc("the Jacobian (n x P)", n as u128 * p as u128, 8)?;
        let mut j = Matrix::zeros(n, p);
        for i in 0..n {
            let row = j.row_mut(i);
            let mut at = 0;
            for (s, hg) in self.dense.iter().zip(&grads) {
                if !s.trainable {
                    continue;
                }
                let (h, g) = hg.as_ref().expect("every dense layer is reached");
                for o in 0..s.out {
                    let go = g.get(i, o) * s.w_mult;
                    for (v, hj) in row[at..at + s.fan_in].iter_mut().zip(h.row(i)) {
                        *v = go * hj;
                    }
                    at += s.fan_in;
                }
                if s.bias {
                    for o in 0..s.out {
                        row[at + o] = g.get(i, o) * s.b_mult;
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
        let (f1, g1) = self.backprop(x, "x", ones)?;
        let other = x2.map(|x2| self.backprop(x2, "x2", ones)).transpose()?;
        let (n1, g2) = match &other {
            Some((f2, g2)) => (f2.len(), g2),
            None => (f1.len(), &g1),
        };
        let mut k = Matrix::try_zeros(f1.len(), n1, "the empirical NTK")?;
        let mut gg = Matrix::zeros(f1.len(), n1);
        let mut hh = Matrix::zeros(f1.len(), n1);
        for (s, (a, b)) in self.dense.iter().zip(g1.iter().zip(g2)) {
            if !s.trainable {
                continue;
            }
            let ((h1, gr1), (h2, gr2)) = (
                a.as_ref().expect("every dense layer is reached"),
                b.as_ref().expect("every dense layer is reached"),
            );
            gemm_into(&mut gg, gr1.view(), gr2.t(), 1.0, false)?;
            gemm_into(&mut hh, h1.view(), h2.t(), s.w_mult * s.w_mult, false)?;
            if s.bias {
                let c = s.b_mult * s.b_mult;
                hh.as_mut_slice().iter_mut().for_each(|v| *v += c);
            }
            k.as_mut_slice()
                .par_iter_mut()
                .zip(gg.as_slice().par_iter().zip(hh.as_slice().par_iter()))
                .for_each(|(kv, (g, h))| *kv += g * h);
        }
        Ok(k)
    }

    /// The empirical NNGP: the readout's covariance given its input features,
    /// W_std²/n·H H₂ᵀ + b_std² (n × n2; X2 = X when `x2` is None).
    pub fn empirical_nngp(&self, x: &Matrix<f64>, x2: Option<&Matrix<f64>>) -> Result<Matrix<f64>> {
        let feats = |x: &Matrix<f64>, name: &str| -> Result<Matrix<f64>> {
            let (_, mut g) = self.backprop(x, name, ones)?;
            Ok(g.pop().flatten().expect("the readout is reached").0)
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
        check_x(x, self.d, "x")?;
        self.check_y(y, x.rows())?;
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
                if !s.trainable {
                    continue;
                }
                p.w.as_mut_slice()
                    .iter_mut()
                    .zip(g.w.as_slice())
                    .for_each(|(w, d)| *w -= eta * d);
                if let (Some(b), Some(db)) = (&mut p.b, &g.b) {
                    b.iter_mut().zip(db).for_each(|(v, d)| *v -= eta * d);
                }
            }
        }
        Ok(history)
    }
}
