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
//! - sum of branches: Σ = ΣᵢΣᵢ, Θ = ΣᵢΘᵢ; concat: their averages weighted by
//!   the branches' widths nᵢ/Σⱼnⱼ (plain means for equal widths, as
//!   neural-tangents' `FanInConcat`); product:
//!   Σ = ΠᵢΣᵢ, Θ = Σᵢ Θᵢ Π_{j≠i} Σⱼ;
//! - recurrent layer (the first layer; X^t = Σ⁰(x_t, x'_t) the step-t input
//!   covariance, K the state's covariance, K^0 = 0 for h_0 = 0 and
//!   E[step(M_0)²] for every pair otherwise, Θ_h^0 = 0 for h_0 = 0 and
//!   otherwise the step's map of (Σ = h0², Θ = 0): the NTK terms of the step's
//!   own trained dense layers, through which h_0 = step(M_0) depends on the
//!   parameters; 0 for a step of activations only):
//!   C^t = w²K^{t−1} + a²X^t + b² (seed 004 eq. 25's pre-activation covariance),
//!   Θ_g^t = w²Θ_h^{t−1} + [W trained]·w²K^{t−1} + [A trained]·a²X^t + [β trained]·b²,
//!   (K^t, Θ_h^t) = the step's maps of (C^t, Θ_g^t); the output is (K^L, Θ_h^L).
//!   For a ReLU step this is seed 004 eq. 25 (forward) and eq. 28 (backward,
//!   F^ℓ = ½ Π_{s≥ℓ} Σ(ρ^s) unrolled as Θ_h^t = Σ̇^t·(w²Θ_h^{t−1} + w²K^{t−1})),
//!   with the cross-time terms vanishing as Theorem 6 shows
//!   ([`crate::kernels::rnn_infinite`] derives it; `rnn_preset` builds its two
//!   presets as compositions).

use super::arch::{Arch, FanIn, Gram, Layer, Param, Readout, Rnn};
use super::maps::{ActMap, Cov};
use crate::error::{Error, Result};
use crate::kernels::tile::{check_tile, gemm_tile, inner_tile, TileKernel};
use crate::linalg::{gemm_into, Matrix};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

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
    /// Pop the branch results and their input, push Σᵢ wᵢ·(branch i) with the
    /// weights wᵢ = nᵢ/Σⱼnⱼ of branches of unequal widths nᵢ (a concatenation).
    Concat(Vec<f64>),
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

crate::options::option_enum!(Output, "output", { Ntk => "ntk", Nngp => "nngp" });

/// An architecture compiled to maps: evaluate a pair with [`Program::entry`]
/// (or [`Program::entry_seq`] for a recurrent net).
#[derive(Clone, Debug)]
pub struct Program {
    /// The recurrent first layer, if any.
    rnn: Option<Box<RnnProg>>,
    ops: Vec<Op>,
    gram: Gram,
    /// Largest number of stack entries in use at once.
    max_depth: usize,
}

/// A compiled recurrent layer (see the module documentation).
#[derive(Clone, Debug)]
struct RnnProg {
    step: Program,
    len: usize,
    w2: f64,
    a2: f64,
    b2: f64,
    train_w: bool,
    train_a: bool,
    train_b: bool,
    /// K^0 (the same for every pair).
    k0: f64,
    /// Θ_h^0: h_0 = step(M_0) depends on the step's own trained dense layers
    /// (their NTK terms at covariance h0²); 0 for a step without any, or h_0 = 0.
    th0: f64,
    /// h0² (0: h_0 = 0).
    h0v: f64,
    /// readout=all: every state is an output.
    all: bool,
}

struct Compiler {
    ops: Vec<Op>,
    depth: usize,
    max_depth: usize,
}

impl Compiler {
    /// Compiles `l` applied to the top of the stack. `width` is the current
    /// layer width (None for the network width m); returns the width after `l`.
    /// The architecture is validated ([`Arch::validate`]): activations get
    /// Gaussian inputs, sums independent Gaussian branches, and a concatenation's
    /// widths are all fixed or all m.
    fn layer(&mut self, l: &Layer, path: &str, width: Option<usize>) -> Result<Option<usize>> {
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
                *out
            }
            Layer::Act(a) => {
                self.ops
                    .push(Op::Act(ActMap::new(a).map_err(|e| {
                        Error::invalid("arch", format!("{path} 'expr': {e}"))
                    })?));
                width
            }
            Layer::Rnn(_) => {
                return Err(Error::invalid(
                    "arch",
                    format!(
                        "{path} 'rnn': a recurrent layer must be the net's first layer (it \
                         reads the input sequence); nest the other layers after it"
                    ),
                ))
            }
            Layer::Identity => width,
            Layer::Scale(a) => {
                self.ops.push(Op::Scale(a * a));
                width
            }
            Layer::Serial(ls) => {
                let mut w = width;
                for (i, c) in ls.iter().enumerate() {
                    w = self.layer(c, &format!("{path}.{}", i + 1), w)?;
                }
                w
            }
            Layer::Parallel { fanin, branches } => {
                let mut widths = Vec::with_capacity(branches.len());
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
                    widths.push(self.layer(b, &format!("{path}.{}", k + 1), width)?);
                }
                self.depth -= branches.len();
                match fanin {
                    FanIn::Concat => {
                        // all fixed or all m (Arch::validate); equal widths average
                        // (neural-tangents' FanInConcat), unequal ones weigh by width
                        let fixed: Option<Vec<usize>> = widths.iter().copied().collect();
                        match &fixed {
                            Some(ws) if ws.iter().any(|&w| w != ws[0]) => {
                                let total: usize = ws.iter().sum();
                                self.ops.push(Op::Concat(
                                    ws.iter().map(|&w| w as f64 / total as f64).collect(),
                                ));
                            }
                            _ => self.ops.push(Op::Join(branches.len(), FanIn::Concat)),
                        }
                        fixed.map(|ws| ws.iter().sum())
                    }
                    FanIn::Sum | FanIn::Prod => {
                        self.ops.push(Op::Join(branches.len(), *fanin));
                        widths.iter().copied().flatten().next()
                    }
                }
            }
        })
    }
}

impl Program {
    /// Compiles `arch` for inputs of dimension `d` (per step for a recurrent net).
    pub fn new(arch: &Arch, d: usize) -> Result<Program> {
        arch.check_net()?;
        let mut c = Compiler {
            ops: vec![],
            depth: 1,
            max_depth: 1,
        };
        let mut state = Some(d);
        let mut rnn = None;
        for (k, (path, l)) in arch.top_layers().enumerate() {
            match l {
                Layer::Rnn(r) if k == 0 => {
                    let (prog, st) = RnnProg::new(r, arch.gram, &path)?;
                    rnn = Some(Box::new(prog));
                    state = st;
                }
                _ => state = c.layer(l, &path, state)?,
            }
        }
        Ok(Program {
            rnn,
            ops: c.ops,
            gram: arch.gram,
            max_depth: c.max_depth,
        })
    }

    /// The sequence length of a recurrent program, None for a feed-forward one.
    pub fn seq_len(&self) -> Option<usize> {
        self.rnn.as_ref().map(|r| r.len)
    }

    /// Number of maps evaluated per pair (the cost model's unit).
    fn cost(&self) -> usize {
        self.ops.len()
            + self
                .rnn
                .as_ref()
                .map_or(0, |r| r.len * (r.step.ops.len() + 1))
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
            || self.rnn.as_ref().is_some_and(|r| r.step.has_quadrature())
    }

    /// (NNGP, NTK) of one pair from its input covariances: `s` = Σ⁰(x, x'),
    /// `q1` = Σ⁰(x, x), `q2` = Σ⁰(x', x'); `same` for x = x' (correlation exactly 1).
    /// For a feed-forward program (a recurrent one takes [`Program::entry_seq`]).
    pub fn entry(&self, s: f64, q1: f64, q2: f64, same: bool) -> (f64, f64) {
        debug_assert!(self.rnn.is_none(), "a recurrent program takes entry_seq");
        let e = self.eval(St { q1, q2, s, t: 0.0 }, same);
        (e.s, e.t)
    }

    /// (NNGP, NTK) of one pair of sequences of a recurrent program from the
    /// step covariances: `s[t]` = Σ⁰(x_t, x'_t), `q1[t]` = Σ⁰(x_t, x_t),
    /// `q2[t]` = Σ⁰(x'_t, x'_t) (t < L); `same` for x = x'.
    pub fn entry_seq(&self, s: &[f64], q1: &[f64], q2: &[f64], same: bool) -> (f64, f64) {
        let r = self
            .rnn
            .as_ref()
            .expect("entry_seq is for a recurrent program");
        let e = self.eval(r.run(s, q1, q2, same), same);
        (e.s, e.t)
    }

    /// Whether the program outputs every step of a sequence (readout=all).
    pub fn readout_all(&self) -> bool {
        self.rnn.as_ref().is_some_and(|r| r.all)
    }

    /// readout=all: the L × L `output` values of the sequences `xi`, `xj` (rows of
    /// L·d values) into vals[t·L + u]; `c1`, `c2` their C^{t,t}
    /// ([`RnnProg::diag_pre`]), `scale` the input Gram's factor.
    #[allow(clippy::too_many_arguments)]
    fn block_all(
        &self,
        (xi, xj, d): (&[f64], &[f64], usize),
        scale: f64,
        c1: &[f64],
        c2: &[f64],
        same: bool,
        output: Output,
        (xx, st): (&mut [f64], &mut [St]),
        vals: &mut [f64],
    ) {
        let r = self.rnn.as_ref().expect("a recurrent program");
        for (k, v) in xx.iter_mut().enumerate() {
            let (t, u) = (k / r.len, k % r.len);
            let (a, b) = (&xi[t * d..(t + 1) * d], &xj[u * d..(u + 1) * d]);
            *v = a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>() * scale;
        }
        r.run_all(xx, c1, c2, same, st);
        for (k, (v, e)) in vals.iter_mut().zip(st.iter()).enumerate() {
            let e = self.eval(*e, same && k / r.len == k % r.len);
            *v = pick(output, (e.s, e.t));
        }
    }

    /// readout=all: every sequence's C^{t,t} (n × L) from the step norms.
    fn diag_all(&self, nrm: &[f64], n: usize) -> Vec<f64> {
        let r = self.rnn.as_ref().expect("a recurrent program");
        (0..n)
            .flat_map(|i| {
                let q: Vec<f64> = (0..r.len).map(|t| nrm[t * n + i]).collect();
                r.diag_pre(&q)
            })
            .collect()
    }

    /// The ops applied to the pair state `init`.
    fn eval(&self, init: St, same: bool) -> St {
        // a small stack on the stack for the usual nets (zeroing MAX_STACK
        // entries per pair cost as much as the maps of a depth-3 ReLU net)
        if self.max_depth < SMALL_STACK {
            self.run(&mut [St::default(); SMALL_STACK], init, same)
        } else {
            self.run(&mut vec![St::default(); self.max_depth + 1], init, same)
        }
    }

    #[inline(always)]
    fn run(&self, stack: &mut [St], init: St, same: bool) -> St {
        let mut top = 0usize; // index of the top entry
        stack[0] = init;
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
                                // equal widths: the plain mean
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
                Op::Concat(ws) => {
                    let n = ws.len();
                    let br = &stack[top + 1 - n..=top];
                    let mut o = St::default();
                    for (b, w) in br.iter().zip(ws) {
                        o.s += w * b.s;
                        o.q1 += w * b.q1;
                        o.q2 += w * b.q2;
                        o.t += w * b.t;
                    }
                    top -= n;
                    stack[top] = o;
                }
            }
        }
        stack[top]
    }
}

/// Entry `k` of a lane buffer: its q1, q2, s and t arrays (`w` values each).
#[inline(always)]
fn entry4(buf: &mut [f64], k: usize, w: usize) -> [&mut [f64]; 4] {
    let (q1, rest) = buf[4 * k * w..4 * (k + 1) * w].split_at_mut(w);
    let (q2, rest) = rest.split_at_mut(w);
    let (s, t) = rest.split_at_mut(w);
    [q1, q2, s, t]
}

impl Program {
    /// The ops on `w` pairs at once (one row of a tile): `buf` holds
    /// `max_depth + 1` stack entries of 4·`w` values (q1, q2, s, t arrays); entry 0
    /// is the pairs' input on entry and their result on exit. Every lane takes
    /// exactly the operations of [`Program::run`] (same = false) in the same
    /// order, so its bits equal [`Program::entry`]'s; the layer-by-layer loops
    /// over the lanes vectorize (ReLU's arccos is branch-free,
    /// [`crate::kernels::arccos::relu_pair`]). Compiled for the best instruction set
    /// the CPU has; no operation is fused or reordered, so the bits are the same on
    /// every one.
    fn run_lanes(&self, buf: &mut [f64], w: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f")]
            unsafe fn avx512(p: &Program, buf: &mut [f64], w: usize) {
                p.lanes_impl(buf, w)
            }
            #[target_feature(enable = "avx2")]
            unsafe fn avx2(p: &Program, buf: &mut [f64], w: usize) {
                p.lanes_impl(buf, w)
            }
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU supports AVX-512F (checked just above).
                return unsafe { avx512(self, buf, w) };
            }
            if is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above).
                return unsafe { avx2(self, buf, w) };
            }
        }
        self.lanes_impl(buf, w)
    }

    #[inline(always)]
    fn lanes_impl(&self, buf: &mut [f64], w: usize) {
        let e = 4 * w;
        let mut top = 0usize;
        for op in &self.ops {
            match op {
                Op::Dense {
                    w2,
                    b2,
                    trainable,
                    standard,
                } => {
                    let (w2, b2) = (*w2, *b2);
                    let [q1, q2, s, t] = entry4(buf, top, w);
                    for v in q1.iter_mut().chain(q2.iter_mut()) {
                        *v = w2 * *v + b2;
                    }
                    // the NTK's own term: W²Σ + b² (ntk) or n·Σ + [b > 0] (standard)
                    let (c, d) = standard.unwrap_or((w2, b2));
                    for (sv, tv) in s.iter_mut().zip(t.iter_mut()) {
                        let own = c * *sv + d;
                        *sv = w2 * *sv + b2;
                        *tv = if *trainable { own + *tv * w2 } else { *tv * w2 };
                    }
                }
                Op::Act(m) => {
                    let [q1, q2, s, t] = entry4(buf, top, w);
                    act_lanes(m, q1, q2, s, t);
                }
                Op::Scale(a2) => buf[top * e..(top + 1) * e]
                    .iter_mut()
                    .for_each(|v| *v *= a2),
                Op::Pick(k) => {
                    let (lo, hi) = buf.split_at_mut((top + 1) * e);
                    hi[..e].copy_from_slice(&lo[(top - k) * e..(top - k + 1) * e]);
                    top += 1;
                }
                Op::Join(n, fanin) => {
                    let base = top - n;
                    let (lo, hi) = buf.split_at_mut((base + 1) * e);
                    let dst = &mut lo[base * e..];
                    let br = &hi[..n * e];
                    dst.copy_from_slice(&br[..e]);
                    match fanin {
                        FanIn::Sum | FanIn::Concat => {
                            for b in br[e..].chunks_exact(e) {
                                dst.iter_mut().zip(b).for_each(|(o, v)| *o += v);
                            }
                            if *fanin == FanIn::Concat {
                                let k = *n as f64;
                                dst.iter_mut().for_each(|o| *o /= k);
                            }
                        }
                        FanIn::Prod => {
                            let (oq, os) = dst.split_at_mut(2 * w);
                            let (os, ot) = os.split_at_mut(w);
                            for b in br[e..].chunks_exact(e) {
                                let (bq, bs) = b.split_at(2 * w);
                                let (bs, bt) = bs.split_at(w);
                                for (((o_t, o_s), b_s), b_t) in
                                    ot.iter_mut().zip(os.iter_mut()).zip(bs).zip(bt)
                                {
                                    *o_t = *o_t * b_s + *o_s * b_t;
                                    *o_s *= b_s;
                                }
                                oq.iter_mut().zip(bq).for_each(|(o, v)| *o *= v);
                            }
                        }
                    }
                    top = base;
                }
                Op::Concat(ws) => {
                    let base = top - ws.len();
                    let (lo, hi) = buf.split_at_mut((base + 1) * e);
                    let dst = &mut lo[base * e..];
                    dst.iter_mut().for_each(|o| *o = 0.0);
                    for (b, wt) in hi.chunks_exact(e).zip(ws) {
                        dst.iter_mut().zip(b).for_each(|(o, v)| *o += wt * v);
                    }
                    top = base;
                }
            }
        }
        debug_assert_eq!(top, 0);
    }
}

/// An activation's maps on lanes (off the diagonal): ReLU vectorized
/// ([`crate::kernels::arccos::relu_lanes`]),
/// the others pair by pair through [`ActMap::pair`] — the operations of
/// [`Program::run`] either way.
#[inline(always)]
fn act_lanes(m: &ActMap, q1: &mut [f64], q2: &mut [f64], s: &mut [f64], t: &mut [f64]) {
    use super::arch::Act;
    if let ActMap::Closed(Act::Relu) = m {
        crate::kernels::arccos::relu_lanes(q1, q2, s, t);
        return;
    }
    for (((a, b), c), d) in q1.iter_mut().zip(q2.iter_mut()).zip(s.iter_mut()).zip(t) {
        let (s2, dot) = m.pair(Cov {
            q1: *a,
            q2: *b,
            s: *c,
            same: false,
        });
        *a = m.var(*a);
        *b = m.var(*b);
        *c = s2;
        *d *= dot;
    }
}

impl RnnProg {
    /// Compiles a recurrent layer; returns it with the width after it.
    fn new(r: &Rnn, gram: Gram, path: &str) -> Result<(RnnProg, Option<usize>)> {
        let mut c = Compiler {
            ops: vec![],
            depth: 1,
            max_depth: 1,
        };
        let st = c.layer(&r.step, &format!("{path}.1"), None)?;
        let step = Program {
            rnn: None,
            ops: c.ops,
            gram,
            max_depth: c.max_depth,
        };
        // h_0 = step(M_0), the same vector for every input: K^0 = E[step(u)²], u ~ N(0, h0²)
        // and Θ_h^0 the step's map of Θ_g = 0 (M_0 is not trained)
        let (k0, th0) = if r.h0_std > 0.0 {
            let v = r.h0_std * r.h0_std;
            let h = step.eval(
                St {
                    q1: v,
                    q2: v,
                    s: v,
                    t: 0.0,
                },
                true,
            );
            (h.s, h.t)
        } else {
            (0.0, 0.0)
        };
        Ok((
            RnnProg {
                step,
                len: r.len,
                w2: r.w_std * r.w_std,
                a2: r.a_std * r.a_std,
                b2: r.b_std * r.b_std,
                train_w: r.train_w,
                train_a: r.train_a,
                train_b: r.train_b,
                k0,
                th0,
                h0v: r.h0_std * r.h0_std,
                all: r.readout == Readout::All,
            },
            st,
        ))
    }

    /// K^{0,t} between h_0 and a state of pre-activation variance `var`:
    /// E[step(M_0)·step(g)] with M_0 independent of g (M_0 is drawn apart from W,
    /// A, β), i.e. the step's map at covariance 0; 0 for h_0 = 0.
    fn k0_cross(&self, var: f64) -> f64 {
        if self.h0v == 0.0 {
            return 0.0;
        }
        let st = St {
            q1: self.h0v,
            q2: var,
            s: 0.0,
            t: 0.0,
        };
        self.step.eval(st, false).s
    }

    /// The pre-activation variances C^{t,t} (t = 1..L) of one sequence from its
    /// step norms `q`.
    fn diag_pre(&self, q: &[f64]) -> Vec<f64> {
        let mut k = self.k0;
        q.iter()
            .map(|&qt| {
                let c = self.w2 * k + self.a2 * qt + self.b2;
                let st = St {
                    q1: c,
                    q2: c,
                    s: c,
                    t: 0.0,
                };
                k = self.step.eval(st, true).s;
                c
            })
            .collect()
    }

    /// readout=all: the states (h_{t+1} of x, h_{u+1} of x') into out[t·L + u]
    /// (the recursion of the module docs on the grid of step pairs; the
    /// pre-activation NTK couples (t, u) to (t − 1, u − 1) only, the paths of
    /// unequal length through W vanishing as in seed 004 Theorem 6).
    /// `xx[t·L + u]` = Σ⁰(x_{t+1}, x'_{u+1}); `c1`, `c2` the sequences' C^{t,t}.
    fn run_all(&self, xx: &[f64], c1: &[f64], c2: &[f64], same: bool, out: &mut [St]) {
        let l = self.len;
        let (w2, a2, b2) = (self.w2, self.a2, self.b2);
        for t in 0..l {
            for u in 0..l {
                let (kk, th) = match (t, u) {
                    (0, 0) => (self.k0, self.th0),
                    (0, _) => (self.k0_cross(c2[u - 1]), 0.0),
                    (_, 0) => (self.k0_cross(c1[t - 1]), 0.0),
                    _ => {
                        let p = out[(t - 1) * l + u - 1];
                        (p.s, p.t)
                    }
                };
                let x = xx[t * l + u];
                let mut tg = w2 * th;
                if self.train_w {
                    tg += w2 * kk;
                }
                if self.train_a {
                    tg += a2 * x;
                }
                if self.train_b {
                    tg += b2;
                }
                let g = St {
                    q1: c1[t],
                    q2: c2[u],
                    s: w2 * kk + a2 * x + b2,
                    t: tg,
                };
                out[t * l + u] = self.step.eval(g, same && t == u);
            }
        }
    }

    /// The state (K^L, Θ_h^L) of the last step (the recursion of the module docs).
    fn run(&self, x: &[f64], q1: &[f64], q2: &[f64], same: bool) -> St {
        let mut h = St {
            q1: self.k0,
            q2: self.k0,
            s: self.k0,
            t: self.th0,
        };
        let (w2, a2, b2) = (self.w2, self.a2, self.b2);
        for t in 0..self.len {
            let mut th = w2 * h.t;
            if self.train_w {
                th += w2 * h.s;
            }
            if self.train_a {
                th += a2 * x[t];
            }
            if self.train_b {
                th += b2;
            }
            let g = St {
                q1: w2 * h.q1 + a2 * q1[t] + b2,
                q2: w2 * h.q2 + a2 * q2[t] + b2,
                s: w2 * h.s + a2 * x[t] + b2,
                t: th,
            };
            h = self.step.eval(g, same);
        }
        h
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

/// The input dimension per step: d for a feed-forward net, cols / L for a
/// recurrent one (whose rows hold the L steps one after the other).
fn step_dim(arch: &Arch, x: &Matrix<f64>, name: &str) -> Result<usize> {
    match arch.seq_len() {
        None => Ok(x.cols()),
        Some(len) if x.cols().is_multiple_of(len) => Ok(x.cols() / len),
        Some(len) => Err(Error::invalid(
            name,
            format!(
                "{} columns are not len = {len} steps of one dimension (layer 1 'rnn' reads \
                 each row as its L steps one after the other: n × (L·d))",
                x.cols()
            ),
        )),
    }
}

fn sq_norms(x: &Matrix<f64>, div: f64) -> Vec<f64> {
    (0..x.rows())
        .map(|i| x.row(i).iter().map(|v| v * v).sum::<f64>() / div)
        .collect()
}

/// Squared norms per step, divided by `div`: out[t·n + i] = ‖x_{i,t}‖²/div.
fn step_norms(x: &Matrix<f64>, len: usize, d: usize, div: f64) -> Vec<f64> {
    let n = x.rows();
    let mut out = vec![0.0; len * n];
    for i in 0..n {
        for (t, c) in x.row(i).chunks_exact(d).enumerate() {
            out[t * n + i] = c.iter().map(|v| v * v).sum::<f64>() / div;
        }
    }
    out
}

/// The rows of `n × L × d` sequences (`data` row-major, shape `(n, len, d)`) as the
/// n × (L·d) input matrix of `arch`, which must be recurrent with that length:
/// a sequence given to a feed-forward net, or of the wrong length, is an error
/// naming `name`.
pub fn sequence_input(
    arch: &Arch,
    data: Vec<f64>,
    (n, len, d): (usize, usize, usize),
    name: &str,
) -> Result<Matrix<f64>> {
    match arch.seq_len() {
        None => Err(Error::invalid(
            name,
            format!(
                "sequence inputs (n × L × d = {n} × {len} × {d}) need a recurrent net (an \
                 rnn(...) first layer), and [{arch}] has none; flatten them to n × (L·d) to \
                 read each sequence as one vector"
            ),
        )),
        Some(l) if l != len => Err(Error::invalid(
            name,
            format!("sequences of L = {len} steps, but layer 1 'rnn' has len = {l}"),
        )),
        Some(_) => Matrix::from_vec(n, len * d, data),
    }
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
///
/// For a recurrent net (an `rnn` first layer of length L) each row of X holds
/// the L steps one after the other (n × (L·d)); a tile is then one GEMM per
/// step (strided, no copy) and [`Program::entry_seq`] per entry.
///
/// The f32 tiles ([`TileKernel::tile_f32`], the fast path, as H^∞'s) of a
/// feed-forward net multiply the inputs rounded to f32 (one f32 GEMM, twice the
/// f64 one's speed), widen the inner products to f64 and apply the maps in f64,
/// rounding each entry to f32 once; a recurrent net's f32 tiles round its f64
/// tiles.
pub struct ComposedKernel<'a> {
    x: Cow<'a, Matrix<f64>>,
    /// The inputs in f32 for the f32 tiles (given, or `x` rounded on first use).
    x32: OnceLock<Matrix<f32>>,
    arch: Arch,
    prog: Program,
    output: Output,
    /// ‖x_i‖²/div, or per step for a recurrent net (nrm[t·n + i]).
    nrm: Vec<f64>,
    scale: f64,
    /// The input dimension (per step for a recurrent net).
    d: usize,
    /// readout=all: each sequence's C^{t,t} (n × L), else empty.
    diag: Vec<f64>,
}

impl<'a> ComposedKernel<'a> {
    /// The `output` kernel of `arch` on the rows of `x` (n × d, or n × (L·d) for
    /// a recurrent net).
    pub fn new(arch: &Arch, x: &'a Matrix<f64>, output: Output) -> Result<Self> {
        Self::build(arch, Cow::Borrowed(x), None, output)
    }

    /// The kernel of f32 inputs: the f32 tiles multiply `x` as given, the f64
    /// tiles its exact widening (the same kernel in f64).
    pub fn from_f32(
        arch: &Arch,
        x: &Matrix<f32>,
        output: Output,
    ) -> Result<ComposedKernel<'static>> {
        ComposedKernel::build(arch, Cow::Owned(x.cast::<f64>()), Some(x.clone()), output)
    }

    fn build(
        arch: &Arch,
        x: Cow<'a, Matrix<f64>>,
        x32: Option<Matrix<f32>>,
        output: Output,
    ) -> Result<Self> {
        check_x(&x, "x")?;
        let d = step_dim(arch, &x, "x")?;
        let prog = Program::new(arch, d)?;
        let scale = prog.gram_scale(d);
        let div = prog.gram_div(d);
        let nrm = match prog.seq_len() {
            None => sq_norms(&x, div),
            Some(len) => step_norms(&x, len, d, div),
        };
        let lock = OnceLock::new();
        if let Some(v) = x32 {
            let _ = lock.set(v);
        }
        let diag = if prog.readout_all() {
            prog.diag_all(&nrm, x.rows())
        } else {
            vec![]
        };
        Ok(ComposedKernel {
            x,
            x32: lock,
            arch: arch.clone(),
            nrm,
            prog,
            output,
            scale,
            d,
            diag,
        })
    }

    /// readout=all: the tile's entries (i·L + t, j·L + u), one L × L block per
    /// pair of sequences it touches.
    fn tile_all(&self, len: usize, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) {
        let (d, w) = (self.d, cols.len());
        let mut xx = vec![0.0; len * len];
        let mut st = vec![St::default(); len * len];
        let mut vals = vec![0.0; len * len];
        for i in rows.start / len..=(rows.end - 1) / len {
            for j in cols.start / len..=(cols.end - 1) / len {
                self.prog.block_all(
                    (self.x.row(i), self.x.row(j), d),
                    self.scale,
                    &self.diag[i * len..(i + 1) * len],
                    &self.diag[j * len..(j + 1) * len],
                    i == j,
                    self.output,
                    (&mut xx, &mut st),
                    &mut vals,
                );
                for t in 0..len {
                    let r = i * len + t;
                    if !rows.contains(&r) {
                        continue;
                    }
                    for u in 0..len {
                        let c = j * len + u;
                        if cols.contains(&c) {
                            out[(r - rows.start) * w + c - cols.start] = vals[t * len + u];
                        }
                    }
                }
            }
        }
    }

    /// A recurrent net's tile: one strided GEMM per step, then the recursion.
    fn tile_seq(&self, len: usize, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) {
        let (n, d, w, m) = (self.x.rows(), self.d, cols.len(), out.len());
        let stride = self.x.cols();
        let xs = self.x.as_slice();
        let mut dots = vec![0.0; len * m];
        for (t, buf) in dots.chunks_exact_mut(m).enumerate() {
            gemm_tile(
                buf,
                (rows.len(), w, d),
                (&xs[rows.start * stride + t * d..], stride, 1),
                (&xs[cols.start * stride + t * d..], 1, stride),
                self.scale,
                false,
            );
        }
        let (mut s, mut q1, mut q2) = (vec![0.0; len], vec![0.0; len], vec![0.0; len]);
        for (k, v) in out.iter_mut().enumerate() {
            let (i, j) = (rows.start + k / w, cols.start + k % w);
            for t in 0..len {
                s[t] = dots[t * m + k];
                q1[t] = self.nrm[t * n + i];
                q2[t] = self.nrm[t * n + j];
            }
            *v = if i == j {
                pick(self.output, self.prog.entry_seq(&q1, &q1, &q1, true))
            } else {
                pick(self.output, self.prog.entry_seq(&s, &q1, &q2, false))
            };
        }
    }

    /// The lane buffer of [`Self::map_row`] for tile rows of `w` columns.
    fn lane_buf(&self, w: usize) -> Vec<f64> {
        vec![0.0; 4 * w * (self.prog.max_depth + 1)]
    }

    /// A feed-forward tile row i (a row at a time, layer by layer over the row:
    /// [`Program::run_lanes`]): `fill` writes the row's Σ⁰(x_i, x_j), j ∈ `cols`;
    /// returns the row's kernel values, the diagonal (correlation exactly 1)
    /// evaluated pair by pair.
    fn map_row<'b>(
        &self,
        i: usize,
        cols: &Range<usize>,
        buf: &'b mut [f64],
        fill: impl FnOnce(&mut [f64]),
    ) -> &'b [f64] {
        let w = cols.len();
        let ni = self.nrm[i];
        {
            let [q1, q2, s, t] = entry4(buf, 0, w);
            q1.fill(ni);
            q2.copy_from_slice(&self.nrm[cols.clone()]);
            fill(s);
            t.fill(0.0);
        }
        self.prog.run_lanes(buf, w);
        let k = match self.output {
            Output::Nngp => 2,
            Output::Ntk => 3,
        };
        let res = &mut buf[k * w..(k + 1) * w];
        if cols.contains(&i) {
            res[i - cols.start] = pick(self.output, self.prog.entry(ni, ni, ni, true));
        }
        res
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
        let r = rows.min(self.n());
        let k2 = ComposedKernel::new(&fine, &self.x, self.output)?;
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
        Layer::Rnn(r) => Layer::Rnn(Box::new(Rnn {
            step: double_nodes(&r.step),
            ..(**r).clone()
        })),
        o => o.clone(),
    }
}

impl TileKernel for ComposedKernel<'_> {
    fn n(&self) -> usize {
        if self.prog.readout_all() {
            self.x.rows() * self.prog.seq_len().unwrap_or(1)
        } else {
            self.x.rows()
        }
    }
    fn name(&self) -> String {
        format!("composed {} [{}]", self.output.name(), self.arch)
    }
    fn tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) -> Result<()> {
        check_tile(self.n(), &rows, &cols, out.len())?;
        if let Some(len) = self.prog.seq_len() {
            if cols.is_empty() || rows.is_empty() {
                return Ok(());
            }
            if self.prog.readout_all() {
                self.tile_all(len, rows, cols, out);
            } else {
                self.tile_seq(len, rows, cols, out);
            }
            return Ok(());
        }
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
        let mut buf = self.lane_buf(w);
        for (ii, row) in out.chunks_exact_mut(w).enumerate() {
            let res = self.map_row(rows.start + ii, &cols, &mut buf, |s| s.copy_from_slice(row));
            row.copy_from_slice(res);
        }
        Ok(())
    }
    fn tile_f32(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f32]) -> Result<()> {
        check_tile(self.n(), &rows, &cols, out.len())?;
        let w = cols.len();
        if self.prog.seq_len().is_some() || w == 0 || rows.is_empty() {
            let mut buf = vec![0.0f64; out.len()];
            self.tile_f64(rows, cols, &mut buf)?;
            out.iter_mut().zip(&buf).for_each(|(o, v)| *o = *v as f32);
            return Ok(());
        }
        // the raw f32 inner products, widened and scaled in f64
        let x32 = self.x32.get_or_init(|| self.x.cast::<f32>());
        inner_tile(
            x32.as_slice(),
            x32.cols(),
            rows.clone(),
            cols.clone(),
            1.0,
            out,
        );
        let mut buf = self.lane_buf(w);
        let scale = self.scale;
        for (ii, row) in out.chunks_exact_mut(w).enumerate() {
            let res = self.map_row(rows.start + ii, &cols, &mut buf, |s| {
                s.iter_mut()
                    .zip(row.iter())
                    .for_each(|(a, b)| *a = *b as f64 * scale)
            });
            row.iter_mut().zip(res).for_each(|(o, v)| *o = *v as f32);
        }
        Ok(())
    }
    fn cost_per_entry(&self) -> f64 {
        2.0 * self.x.cols() as f64 + 30.0 * self.prog.cost() as f64
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
    let d = step_dim(arch, x1, "x1")?;
    let prog = Program::new(arch, d)?;
    let scale = prog.gram_scale(d);
    let div = prog.gram_div(d);
    let c = x2.rows();
    if prog.readout_all() {
        return cross_all(&prog, (x1, x2, d), (scale, div), output);
    }
    let mut g = Matrix::try_zeros(x1.rows(), x2.rows(), "the composed kernel matrix")?;
    if let Some(len) = prog.seq_len() {
        let (n1, n2) = (step_norms(x1, len, d, div), step_norms(x2, len, d, div));
        let (r1, r2) = (x1.rows(), x2.rows());
        crate::kernels::classic::map_cross(&mut g, |_, i, j| {
            let (a, b) = (x1.row(i), x2.row(j));
            let q1: Vec<f64> = (0..len).map(|t| n1[t * r1 + i]).collect();
            if a == b {
                return pick(output, prog.entry_seq(&q1, &q1, &q1, true));
            }
            let q2: Vec<f64> = (0..len).map(|t| n2[t * r2 + j]).collect();
            let s: Vec<f64> = a
                .chunks_exact(d)
                .zip(b.chunks_exact(d))
                .map(|(u, v)| u.iter().zip(v).map(|(p, q)| p * q).sum::<f64>() * scale)
                .collect();
            pick(output, prog.entry_seq(&s, &q1, &q2, false))
        })?;
    } else {
        let (n1, n2) = (sq_norms(x1, div), sq_norms(x2, div));
        gemm_into(&mut g, x1.view(), x2.t(), scale, false)?;
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
    }
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

/// readout=all's cross kernel: (n1·L) × (n2·L), sequences of x1 in parallel.
fn cross_all(
    prog: &Program,
    (x1, x2, d): (&Matrix<f64>, &Matrix<f64>, usize),
    (scale, div): (f64, f64),
    output: Output,
) -> Result<Matrix<f64>> {
    use rayon::prelude::*;
    let len = prog.seq_len().expect("a recurrent program");
    let (r1, r2) = (x1.rows(), x2.rows());
    let c1 = prog.diag_all(&step_norms(x1, len, d, div), r1);
    let c2 = prog.diag_all(&step_norms(x2, len, d, div), r2);
    let mut g = Matrix::try_zeros(r1 * len, r2 * len, "the composed kernel matrix")?;
    let wide = r2 * len;
    g.as_mut_slice()
        .par_chunks_mut((len * wide).max(1))
        .enumerate()
        .for_each(|(i, rows)| {
            if crate::runtime::interrupted() {
                return;
            }
            let mut xx = vec![0.0; len * len];
            let mut st = vec![St::default(); len * len];
            let mut vals = vec![0.0; len * len];
            for j in 0..r2 {
                prog.block_all(
                    (x1.row(i), x2.row(j), d),
                    scale,
                    &c1[i * len..(i + 1) * len],
                    &c2[j * len..(j + 1) * len],
                    x1.row(i) == x2.row(j),
                    output,
                    (&mut xx, &mut st),
                    &mut vals,
                );
                for t in 0..len {
                    rows[t * wide + j * len..t * wide + (j + 1) * len]
                        .copy_from_slice(&vals[t * len..(t + 1) * len]);
                }
            }
        });
    crate::runtime::check_interrupt()?;
    if g.as_slice().iter().any(|v| !v.is_finite()) {
        return Err(Error::Numerical(format!(
            "the composed {} kernel has a non-finite entry",
            output.name()
        )));
    }
    Ok(g)
}

/// The dense Gram matrix of the rows of `x` (exactly symmetric, correlation 1
/// on the diagonal).
pub fn composed_gram(arch: &Arch, x: &Matrix<f64>, output: Output) -> Result<Matrix<f64>> {
    crate::kernels::tile::dense_f64(&ComposedKernel::new(arch, x, output)?)
}
