//! The infinite-width NTK and NNGP (conjugate) kernels of a fully connected
//! ReLU network, one of the "correlation kernels" of seed 003 §3 (item 6, the
//! NTK for fully connected nets of its reference [18]; the conjugate kernel is
//! item 5).
//!
//! The network has D weight layers (D − 1 hidden ReLU layers), no biases, and
//! the NTK parameterization with unit weight variance:
//! h¹ = W¹x/√d, h^{l+1} = W^{l+1}σ(h^l)/√n, f = h^D, every W entry ~ N(0, 1).
//! As the widths n → ∞ (issue 5, the `widenet kernel fc-ntk` contract):
//!
//! - Σ¹(x, x') = xᵀx'/d;
//! - Σ^{h+1}(x, x') = E[σ(u)σ(v)] = √(Σ_xx Σ_x'x') (sin θ + (π − θ) cos θ)/(2π),
//! - Σ̇^{h+1}(x, x') = E[σ'(u)σ'(v)] = (π − θ)/(2π),
//!
//!   with (u, v) ~ N(0, Σ^h restricted to {x, x'}) and cos θ = Σ^h_xx'/√(Σ^h_xx Σ^h_x'x');
//! - Θ¹ = Σ¹, Θ^{h+1} = Σ^{h+1} + Θ^h Σ̇^{h+1}.
//!
//! The NTK is Θ^D and the conjugate kernel (NNGP of the output) is Σ^D. There is
//! no factor 2 in Σ^{h+1} (W_std = 1, as neural-tangents' `serial(Dense, Relu) ×
//! (D − 1) + Dense` with `W_std = 1`, `b_std = None`), so the diagonal halves at
//! every ReLU layer: Σ^h_xx = ‖x‖²/(d·2^{h−1}).
//!
//! With [`FcTrained::Hidden`] only the hidden layers W¹…W^{D−1} are trained (seed
//! 003, App. A: "we only train hidden weights"): the last layer's own term Σ^D is
//! dropped, Θ_hidden = Θ^{D−1} Σ̇^D.

use crate::error::{Error, Result};
use crate::kernels::arccos::relu_pair;
use crate::kernels::compose::{composed_cross, Arch, ComposedKernel, Output};
use crate::kernels::tile::{dense_f64, TileKernel};
use crate::linalg::Matrix;
use std::ops::Range;

/// Which weights the NTK differentiates with respect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum FcTrained {
    /// Every layer (Θ^D).
    All,
    /// Hidden layers only: Θ^D minus the last layer's own term Σ^D.
    Hidden,
}

crate::options::option_enum!(FcTrained, "trained", { All => "all", Hidden => "hidden" });

/// Σ^D and Θ^D for one pair of inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FcEntry {
    /// The conjugate kernel (NNGP) Σ^D(x, x').
    pub nngp: f64,
    /// The NTK Θ^D(x, x') (or its hidden-layer part).
    pub ntk: f64,
}

/// The recursion for one pair, from the first-layer covariances
/// `s12` = Σ¹(x, x') = xᵀx'/d, `s11` = Σ¹(x, x), `s22` = Σ¹(x', x').
///
/// `same` marks a diagonal entry of a Gram matrix (x' = x): θ = 0 exactly at
/// every layer, avoiding arccos of a rounded cosine slightly below 1 (whose error
/// is ~√eps). A pair with a zero input has Σ = Θ = 0 at every layer (cos θ is set
/// to 0, which does not matter since every term carries a factor Σ¹ = 0).
/// `depth` ≥ 1; with `Hidden` and depth 1 the result is 0 (no hidden layer).
#[inline]
pub fn fc_entry(
    s12: f64,
    s11: f64,
    s22: f64,
    depth: usize,
    trained: FcTrained,
    same: bool,
) -> FcEntry {
    let mut sig = s12;
    let mut ntk = if depth == 1 && trained == FcTrained::Hidden {
        0.0
    } else {
        s12
    };
    let (mut a, mut b) = (s11, s22);
    for layer in 2..=depth {
        let (sig_next, dot) = if same {
            (0.5 * (a * b).sqrt(), 0.5)
        } else {
            relu_pair(a, b, sig)
        };
        let own = if layer == depth && trained == FcTrained::Hidden {
            0.0
        } else {
            sig_next
        };
        ntk = own + ntk * dot;
        sig = sig_next;
        a *= 0.5;
        b *= 0.5;
    }
    FcEntry { nngp: sig, ntk }
}

fn check_inputs(
    x1: &Matrix<f64>,
    x2: &Matrix<f64>,
    depth: usize,
    trained: FcTrained,
) -> Result<()> {
    if depth == 0 {
        return Err(Error::invalid(
            "depth",
            "a fully connected net needs at least one weight layer (depth >= 1)",
        ));
    }
    if depth == 1 && trained == FcTrained::Hidden {
        return Err(Error::invalid(
            "trained",
            "'hidden' needs depth >= 2: a depth-1 net has no hidden layer",
        ));
    }
    if x1.cols() != x2.cols() {
        return Err(Error::Shape(format!(
            "inputs of dimension {} and {} in one kernel",
            x1.cols(),
            x2.cols()
        )));
    }
    if x1.cols() == 0 {
        return Err(Error::invalid("x", "inputs of dimension 0"));
    }
    for (name, x) in [("x1", x1), ("x2", x2)] {
        if !x.all_finite() {
            return Err(Error::Numerical(format!(
                "input matrix {name} has non-finite entries"
            )));
        }
    }
    Ok(())
}

/// The fc net as a composition (`kernels::compose`, docs/compose.md): D dense
/// layers with ReLU between them, the last one not trained for
/// [`FcTrained::Hidden`]; its NTK and NNGP are this module's recursion, bit for bit
/// (the composition's maps perform [`fc_entry`]'s operations in the same order).
/// The kernels below are computed by it: a tile is one GEMM and a row-wise,
/// vectorized pass per layer, faster than [`fc_entry`] per entry
/// (`examples/compose_bench.rs`), so [`fc_entry`] stays as the scalar recursion
/// only (and the tests' reference).
pub fn fc_arch(depth: usize, trained: FcTrained) -> Arch {
    let mut layers = vec!["dense"; 2 * depth.max(1) - 1];
    for l in layers.iter_mut().skip(1).step_by(2) {
        *l = "relu";
    }
    if trained == FcTrained::Hidden {
        *layers.last_mut().expect("depth >= 1") = "dense(trainable=false)";
    }
    Arch::parse(&layers.join(", ")).expect("the fc composition parses")
}

fn cross(
    x1: &Matrix<f64>,
    x2: &Matrix<f64>,
    depth: usize,
    trained: FcTrained,
    output: Output,
) -> Result<Matrix<f64>> {
    check_inputs(x1, x2, depth, trained)?;
    composed_cross(&fc_arch(depth, trained), x1, x2, output)
}

/// The fully connected ReLU NTK or NNGP of the rows of X as a [`TileKernel`]: its
/// composition ([`fc_arch`]), whose tile is one GEMM for Σ¹ = XᵢXⱼᵀ/d and then the
/// layers' maps (θ = 0 exactly on the diagonal). Its f32 tiles are the f64 tiles
/// rounded once.
pub struct FcKernel<'a> {
    inner: ComposedKernel<'a>,
    depth: usize,
    trained: FcTrained,
    output: Output,
}

impl<'a> FcKernel<'a> {
    /// The NTK Θ^D (`trained` layers) of the rows of `x`.
    pub fn ntk(x: &'a Matrix<f64>, depth: usize, trained: FcTrained) -> Result<Self> {
        Self::new(x, depth, trained, Output::Ntk)
    }

    /// The conjugate kernel Σ^D of the rows of `x`.
    pub fn nngp(x: &'a Matrix<f64>, depth: usize) -> Result<Self> {
        Self::new(x, depth, FcTrained::All, Output::Nngp)
    }

    fn new(x: &'a Matrix<f64>, depth: usize, trained: FcTrained, output: Output) -> Result<Self> {
        check_inputs(x, x, depth, trained)?;
        Ok(FcKernel {
            inner: ComposedKernel::new(&fc_arch(depth, trained), x, output)?,
            depth,
            trained,
            output,
        })
    }
}

impl TileKernel for FcKernel<'_> {
    fn n(&self) -> usize {
        self.inner.n()
    }
    fn name(&self) -> String {
        match self.output {
            Output::Ntk => format!("fc-ntk depth {} ({})", self.depth, self.trained.name()),
            Output::Nngp => format!("fc-nngp depth {}", self.depth),
        }
    }
    fn tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) -> Result<()> {
        self.inner.tile_f64(rows, cols, out)
    }
    fn cost_per_entry(&self) -> f64 {
        self.inner.cost_per_entry()
    }
}

/// The infinite-width NTK Θ^D(x1_i, x2_j) of a depth-`depth` fully connected ReLU
/// net (see the module docs), rows of `x1` (n1 × d) against rows of `x2` (n2 × d).
pub fn fc_ntk(
    x1: &Matrix<f64>,
    x2: &Matrix<f64>,
    depth: usize,
    trained: FcTrained,
) -> Result<Matrix<f64>> {
    cross(x1, x2, depth, trained, Output::Ntk)
}

/// The NTK Gram matrix Θ^D(x_i, x_j) of the rows of `x` (exactly symmetric,
/// θ = 0 on the diagonal).
pub fn fc_ntk_gram(x: &Matrix<f64>, depth: usize, trained: FcTrained) -> Result<Matrix<f64>> {
    dense_f64(&FcKernel::ntk(x, depth, trained)?)
}

/// The conjugate kernel (NNGP of the output) Σ^D(x1_i, x2_j).
pub fn fc_nngp(x1: &Matrix<f64>, x2: &Matrix<f64>, depth: usize) -> Result<Matrix<f64>> {
    cross(x1, x2, depth, FcTrained::All, Output::Nngp)
}

/// The conjugate-kernel Gram matrix Σ^D(x_i, x_j) of the rows of `x`.
pub fn fc_nngp_gram(x: &Matrix<f64>, depth: usize) -> Result<Matrix<f64>> {
    dense_f64(&FcKernel::nngp(x, depth)?)
}
