//! Seed 001's analysis at large n (issue 11 part B): the top-k spectrum of a
//! kernel and the label projections on it, yᵀK⁻¹y and the complexity measure
//! (eq. 10) to a stated accuracy, and eq. 8's predicted loss, without a full
//! eigendecomposition and, when memory is short, without storing the kernel.
//!
//! Three paths, chosen from n and the memory budget (or forced):
//! - `dense`: the kernel in f64 (16n² bytes with its Cholesky factor), products
//!   and a Cholesky preconditioner in f64 (when top-k is at least n/2, a full
//!   eigendecomposition: today's `KernelAnalysis`);
//! - `f32`: the kernel stored in f32 (4n² bytes). Block Lanczos runs on f32
//!   products, then an f64 Rayleigh–Ritz with f64 products of the Ritz block
//!   (recomputed tile by tile from the inputs) makes the eigenvalues f64-accurate.
//!   The stored kernel is then Cholesky-factored in place in f32 and used as the
//!   preconditioner of an f64 conjugate-gradient solve whose products are f64,
//!   or (`PrecondChoice::SpectralCg`, no n³ factorization) its inverse is applied
//!   by an inner CG on the stored kernel deflated by the top Ritz pairs, under a
//!   flexible outer CG; `Auto` measures which is faster (see `InnerCg`);
//! - `matrix-free`: the whole kernel does not fit; the f32 tiles of its lower
//!   block triangle are held as far as the budget allows (all of them take 2n²
//!   bytes) and the rest are recomputed in f32 at every product
//!   ([`TileCache`]; the products are the same bits whatever part is held).
//!   Block Lanczos, the inner CG of the spectral-cg preconditioner and the f64
//!   refinement then run as on the `f32` path, with the f64 products recomputed
//!   tile by tile; when the inner CG would not converge (an ill-conditioned
//!   kernel) the preconditioner is the top-k' spectral deflation alone, with one
//!   f64 pass per CG iteration.
//!
//! Accuracy (the numbers are reported, never assumed): with z the solve's result
//! and r = y − Kz its f64 residual, q = yᵀz + zᵀr satisfies
//! yᵀK⁻¹y − q = rᵀK⁻¹r ∈ [0, ‖r‖²/λ_min], so the relative error is at most
//! ‖r‖²/(λ_min q) (second order in r); λ_min is estimated from CG's own Lanczos
//! coefficients times λ_min of the preconditioner. When the estimated condition
//! number λ_1/λ_min puts f64 rounding above the requested tolerance, or CG does
//! not reach it, the result is an [`Error::IllConditioned`] naming the estimated
//! condition number (near-duplicate inputs make H^∞ singular, seed 001 Remark 5.1).
//!
//! Eq. 8 without the full spectrum: Φ̃(t) = ½Σ_i (1 − ηλ_i)^{2t}(v_iᵀy)² is exact
//! over the top-k pairs; the rest, of mass R = ‖y‖² − Σ_{i≤k}(v_iᵀy)², is evaluated
//! by Gauss quadrature from the Krylov space (the label vectors are in the first
//! Lanczos block, so the Ritz pairs beyond k with weights (x_jᵀy)² are a block
//! Gauss rule for yᵀf(K)y) and bounded rigorously: every remaining eigenvalue lies
//! in [0, λ_k], so the rest lies between R·min and R·max of (1 − ηλ)^{2t} there.
//!
//! The modules, one idea each (read in this order):
//! - [`config`]: the settings, the result types, the paths and their memory need;
//! - [`operator`]: the [`LinearOperator`] trait (products of a block of vectors
//!   in f64 and in f32, the size, a cost hint) and the single-machine operators
//!   (dense f64, stored f32, f32 tiles plus f64 recomputation);
//! - [`krylov`]: block Lanczos with thick restarts, and Lanczos for λ_max;
//! - [`precond`]: Cholesky factors, the spectral deflation and the caller's
//!   [`Preconditioner`] (a factor held on a cluster);
//! - [`inner_cg`]: the spectral-cg preconditioner (inner CG on f32 products) and
//!   the measured trial that chooses it;
//! - [`cg`]: the outer preconditioned (flexible) CG and the shared f64 passes;
//! - [`refine`]: f64 Rayleigh–Ritz and block-Davidson refinement of the Ritz block;
//! - [`quadrature`]: eq. 8's loss curves (Gauss quadrature for the rest of the
//!   spectrum, rigorous bounds) and the Ritz error bounds;
//! - [`driver`]: [`analyze_kernel`], which chooses a path and runs the above.
//!
//! Per-phase profiling (`WIDENET_PROFILE`) lives in [`crate::runtime::profile`].

mod blocks;
pub mod cg;
pub mod config;
pub mod driver;
mod inner_cg;
pub mod krylov;
pub mod operator;
mod precond;
pub mod quadrature;
mod refine;

pub use cg::tridiag_min;
pub use config::{
    choose_path, path_bytes, path_need, LabelResult, LargeNAnalysis, LargeNConfig, PrecondChoice,
    SolverPath,
};
pub use driver::{analyze_kernel, analyze_operator, analyze_operator_with};
pub use krylov::lanczos_largest;
pub use operator::{CostHint, LinearOperator};
pub use precond::Preconditioner;
pub use quadrature::loss_curves;
