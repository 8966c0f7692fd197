//! The driver: chooses the path, runs the spectrum, the preconditioner, the
//! f64 passes and eq. 8, and reports what was reached.

use super::blocks::dotv;
use super::cg::{f64_passes, Cg};
use super::config::*;
use super::inner_cg::{spectral_cg_trial, F32Kernel, Trial, MAX_INNER};
use super::krylov::{block_lanczos, Spectrum};
use super::operator::*;
use super::precond::{
    chol_in_place_f32, chol_in_place_f64, ill_from_pivot, Factor, Precond, Preconditioner,
};
use super::quadrature::loss_curves;
use super::refine::Refine;
use crate::error::{Error, Result};
use crate::kernels::tile::{dense_f64, dense_with_progress, matvec_scratch_bytes, TileKernel};
use crate::kernels::tile_cache::TileCache;
use crate::linalg::{gemm_into, sym_eigen, Matrix, View};
use crate::runtime::profile::{prof, report, Phases};
use crate::runtime::{check_alloc, memory_budget, progress_bar};

/// Seed 001's analysis of the kernel `k` for the label vectors `labels`
/// (each of length n): top-k eigenpairs, projections and captured fraction,
/// yᵀK⁻¹y and the complexity measure to `cfg.tol`, and eq. 8's predicted loss.
pub fn analyze_kernel<L: AsRef<[f64]>>(
    k: &dyn TileKernel,
    labels: &[L],
    cfg: &LargeNConfig,
) -> Result<LargeNAnalysis> {
    analyze(Source::Kernel(k), labels, cfg, None)
}

/// [`analyze_kernel`] for a kernel known only through its products (a
/// [`LinearOperator`]: a Python callable, a cluster): the `matrix-free` path's
/// algorithms — block Lanczos on the f32 products, the spectral-cg
/// preconditioner measured against the spectral one (no Cholesky: nothing is
/// stored), f64 refinement and CG on the f64 products — with the same stopping
/// rules and reported accuracy. Given the same products, the result is the
/// `matrix-free` path's, bit for bit. `cfg.path` must be `None`, `matrix-free`
/// or `dense` (see [`analyze_operator_with`]).
pub fn analyze_operator<L: AsRef<[f64]>>(
    op: &dyn LinearOperator,
    labels: &[L],
    cfg: &LargeNConfig,
) -> Result<LargeNAnalysis> {
    analyze(Source::Operator(op), labels, cfg, None)
}

/// [`analyze_operator`] with the caller's preconditioner `pre` of the f64
/// solve (a Cholesky factor held elsewhere, a block-Jacobi one; `None`: the
/// path's own). With `cfg.path = Some(dense)` the operator's products are f64
/// ones only (its f32 product is never asked for) and the `dense` path's
/// algorithms run on them — block Lanczos on f64 products to `eig_rtol`
/// (default 1e-9), no refinement, CG preconditioned by `pre` (λ_min(M) by
/// Lanczos on M⁻¹, as for the dense path's factor) or by the top-k' spectral
/// deflation — so that an operator whose factor is the dense path's gives the
/// dense path's result (the one step it cannot take: with 2k ≥ n the dense
/// path decomposes the stored kernel fully; an operator runs Lanczos, whose
/// basis then is the whole space).
pub fn analyze_operator_with<L: AsRef<[f64]>>(
    op: &dyn LinearOperator,
    labels: &[L],
    cfg: &LargeNConfig,
    pre: Option<&dyn Preconditioner>,
) -> Result<LargeNAnalysis> {
    analyze(Source::Operator(op), labels, cfg, pre)
}

/// What is analysed: a kernel whose tiles can be computed (every path), or an
/// operator (the matrix-free path's algorithms on its products).
#[derive(Clone, Copy)]
enum Source<'a> {
    Kernel(&'a dyn TileKernel),
    Operator(&'a dyn LinearOperator),
}

fn analyze<L: AsRef<[f64]>>(
    src: Source<'_>,
    labels: &[L],
    cfg: &LargeNConfig,
    ext: Option<&dyn Preconditioner>,
) -> Result<LargeNAnalysis> {
    let labels: Vec<&[f64]> = labels.iter().map(|l| l.as_ref()).collect();
    let n = match src {
        Source::Kernel(k) => k.n(),
        Source::Operator(op) => op.size(),
    };
    if n < 2 {
        return Err(Error::invalid(
            "n",
            format!("need at least 2 samples, got {n}"),
        ));
    }
    if labels.is_empty() {
        return Err(Error::invalid("y", "no label vector given"));
    }
    for (l, y) in labels.iter().enumerate() {
        if y.len() != n {
            return Err(Error::Shape(format!(
                "label vector {l} has length {} against a {n}x{n} kernel",
                y.len()
            )));
        }
        if !y.iter().all(|v| v.is_finite()) || y.iter().all(|v| *v == 0.0) {
            return Err(Error::invalid(
                "y",
                format!("label vector {l} must be finite and not all zero"),
            ));
        }
    }
    if cfg.top_k == 0 || cfg.top_k > n {
        return Err(Error::invalid(
            "top-k",
            format!("must be in 1..={n}, got {}", cfg.top_k),
        ));
    }
    if !(cfg.tol > 0.0 && cfg.tol < 1.0) {
        return Err(Error::invalid(
            "tol",
            format!("must lie in (0, 1), got {}", cfg.tol),
        ));
    }
    if !(cfg.eta > 0.0 && cfg.eta.is_finite()) {
        return Err(Error::invalid(
            "eta",
            format!("must be positive, got {}", cfg.eta),
        ));
    }
    if let Some(r) = cfg.eig_rtol {
        if !(r > 0.0 && r < 1.0) {
            return Err(Error::invalid(
                "eig_rtol",
                format!("must lie in (0, 1), got {r}"),
            ));
        }
    }
    let kk = cfg.top_k;
    let kp = oversample(kk, n);
    let nl = labels.len();
    let show = cfg.show_progress && n >= 5_000;
    let path = match (src, cfg.path) {
        (Source::Operator(_), None | Some(SolverPath::MatrixFree)) => SolverPath::MatrixFree,
        (Source::Operator(_), Some(SolverPath::Dense)) => SolverPath::Dense,
        (Source::Operator(_), Some(p)) => {
            return Err(Error::invalid(
                "path",
                format!(
                    "the {} path stores the kernel; an operator known only through its \
                     products takes the matrix-free path (or the dense one: f64 products)",
                    p.name()
                ),
            ))
        }
        (Source::Kernel(_), p) => {
            p.unwrap_or_else(|| choose_path(n, kk, nl, cfg.block, memory_budget()))
        }
    };
    // the kernel's tiles, on every path but an operator's
    let (tk, src_op) = match src {
        Source::Kernel(k) => (Some(k), None),
        Source::Operator(op) => (None, Some(op)),
    };
    let kernel = || tk.expect("a path that stores the kernel has its tiles");
    let b = cfg
        .block
        .unwrap_or_else(|| default_block(kk, nl, path))
        .clamp(1, n);
    let m_cap = match cfg.max_basis {
        Some(m) => m.max(kp + b).min(n),
        None => basis_cap(kk, n, b),
    };
    // an operator stores nothing: the basis and a few blocks, whatever the path
    let need = path_bytes(
        if src_op.is_some() {
            SolverPath::MatrixFree
        } else {
            path
        },
        n,
        m_cap,
    );
    check_alloc(
        &format!("the {} path at n = {n} (basis {m_cap})", path.name()),
        need,
        1,
    )?;
    let ys = Matrix::from_fn(n, nl, |i, l| labels[l][i]);
    let ynorm = Matrix::from_fn(n, nl, |i, l| labels[l][i] / crate::linalg::norm2(labels[l]));
    let full_eig = path == SolverPath::Dense && 2 * kk >= n && src_op.is_none();

    // the phases as they end: the result's `timings` (reported with WIDENET_PROFILE)
    let mut phases = Phases::start();
    // 1. storage
    let dense = if path == SolverPath::Dense && src_op.is_none() {
        Some(dense_f64(kernel())?)
    } else {
        None
    };
    let mut stored32 = if path == SolverPath::F32 {
        Some(
            prof("kernel storage f32", || {
                dense_with_progress::<f32, _>(kernel(), show)
            })?
            .into_vec(),
        )
    } else {
        None
    };

    // the matrix-free path holds the f32 tiles that fit what the budget leaves
    // after the path's own blocks and the widest product's partial sums: a block
    // Krylov round (b columns) or an f64 pass (the k' Ritz vectors and ≤ 2 CG
    // columns per label plus the probe), its input and output blocks, and 256 MiB
    // for the threads' tiles and small temporaries
    let tiles = if let (SolverPath::MatrixFree, Some(k)) = (path, tk) {
        let cols = b.max(kp + 2 * nl + 1).min(n);
        let reserve = need
            + matvec_scratch_bytes(n, cols)
            + 2 * (n as u128) * (cols as u128) * 8
            + (1u128 << 28);
        let room = (memory_budget() as u128).saturating_sub(reserve);
        let c = prof("kernel tiles f32 (held part)", || {
            TileCache::new(k, room, show)
        })?;
        report(|| {
            format!(
                "matrix-free: {:.1}% of the f32 tiles held ({:.2} GB of {:.2} GB)",
                100.0 * c.held_fraction(),
                c.held_bytes() as f64 / 1e9,
                TileCache::full_bytes(n) as f64 / 1e9
            )
        });
        Some(c)
    } else {
        None
    };
    let tiled = tiles.as_ref().map(|c| KernelOp {
        kernel: kernel(),
        f32: F32Products::Tiles(c),
    });
    // the matrix-free path's operator: the tiles, or the caller's
    let free_op: Option<&dyn LinearOperator> = match src {
        Source::Operator(op) => Some(op),
        Source::Kernel(_) => tiled.as_ref().map(|t| t as &dyn LinearOperator),
    };
    phases.lap("storage");
    // 2. the spectrum
    let spec = if full_eig {
        let kd = dense.as_ref().expect("dense path stores the kernel");
        let e = sym_eigen(kd)?;
        let vecs = Matrix::from_fn(n, kp, |i, j| e.vectors.get(i, j));
        let proj: Vec<Vec<f64>> = (0..nl)
            .map(|l| e.project(labels[l]))
            .collect::<Result<_>>()?;
        Spectrum {
            vals: e.values[..kp].to_vec(),
            vecs,
            resid: vec![0.0; kp],
            tail_vals: e.values[kp..].to_vec(),
            tail_weights: proj
                .iter()
                .map(|p| p[kp..].iter().map(|v| v * v).collect())
                .collect(),
            converged: true,
            basis: 0,
            products: 0,
        }
    } else {
        let dense_op;
        let stored_op;
        let (op, precision, rtol): (&dyn LinearOperator, _, _) = match path {
            // an operator's f64 products
            SolverPath::Dense if src_op.is_some() => {
                (free_op.expect("built above"), Precision::F64, 1e-9)
            }
            SolverPath::Dense => {
                dense_op = DenseF64(dense.as_ref().expect("stored"));
                (&dense_op, Precision::F64, 1e-9)
            }
            SolverPath::F32 => {
                stored_op = KernelOp {
                    kernel: kernel(),
                    f32: F32Products::Stored(stored32.as_deref().expect("stored")),
                };
                (&stored_op, Precision::F32, 2e-6)
            }
            // f32 products on held or recomputed tiles (or the caller's), refined
            // in f64 below like the f32 path's
            SolverPath::MatrixFree => (free_op.expect("built above"), Precision::F32, 2e-6),
        };
        let rtol = cfg.eig_rtol.unwrap_or(rtol);
        block_lanczos(
            op, precision, n, &ynorm, kk, kp, b, m_cap, rtol, cfg.seed, show,
        )?
    };
    // On the f32 path the Ritz block is f32-accurate here; its f64 Rayleigh–Ritz
    // shares the f64 passes with the solve below (θ_1 to f32 accuracy suffices
    // for the preconditioner's messages).
    let mut spec = spec;
    let theta1 = spec.vals[0];
    phases.lap(if full_eig {
        "spectrum (full eigendecomposition)"
    } else {
        "spectrum (Krylov)"
    });
    // a kernel (Gram) matrix has no negative eigenvalues: a top-k Ritz value below zero
    // (beyond the f32 products' rounding of θ_1) means the matrix given is not one; said
    // here, before a solver would blame its conditioning on near-duplicate inputs
    let lowest = spec.vals[..kk]
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    if theta1 <= 0.0 || lowest < -1e-4 * theta1 {
        return Err(Error::IllConditioned {
            what: format!(
                "the kernel (its top-{kk} spectrum reaches {lowest:.3e}, its largest \
                 eigenvalue {theta1:.3e})"
            ),
            cond: f64::NEG_INFINITY,
            achieved: f64::INFINITY,
            tol: cfg.tol,
        });
    }
    // 3. the preconditioner (the f32 kernel is factored in place: the Krylov
    // phase no longer needs it, and the kernel is never held twice)
    let mut pre_name = match path {
        SolverPath::Dense => "cholesky-f64",
        SolverPath::F32 => "cholesky-f32",
        SolverPath::MatrixFree => "spectral",
    };
    let mut pre_inner: Option<Precond> = None;
    let spectral = |spec: &Spectrum| Precond::Spectral {
        v: spec.vecs.clone(),
        vals: spec.vals.clone(),
        sigma: *spec.vals.last().expect("k' >= 1"),
    };
    let pre = match path {
        _ if ext.is_some() => {
            let ext = ext.expect("matched");
            pre_name = ext.name();
            Precond::External {
                ext,
                defl: ext
                    .deflated()
                    .then(|| (spec.vecs.clone(), spec.vals.clone())),
            }
        }
        _ if cfg.precond == PrecondChoice::Spectral => {
            drop(stored32.take()); // the f32 path's kernel is not factored
            pre_name = "spectral";
            spectral(&spec)
        }
        // an operator with f64 products and no factor: the spectral deflation
        SolverPath::Dense if src_op.is_some() => {
            pre_name = "spectral";
            spectral(&spec)
        }
        SolverPath::Dense => {
            let kd = dense.as_ref().expect("stored");
            check_alloc("f64 Cholesky factor", (n * n) as u128, 8)?;
            let mut a = kd.as_slice().to_vec();
            let max_diag = (0..n).map(|i| kd.get(i, i)).fold(0.0, f64::max);
            prof("cholesky f64", || chol_in_place_f64(&mut a, n)).map_err(|f| {
                // a pivot went non-positive: λ_min is below the rounding level n·ε·max K_ii
                let level = n as f64 * f64::EPSILON * max_diag;
                ill_from_pivot(f, theta1, level, n, "f64", cfg.tol)
            })?;
            // a pivot at rounding level means numerically singular (duplicate inputs)
            let min_piv = (0..n)
                .map(|i| a[i * n + i] * a[i * n + i])
                .fold(f64::INFINITY, f64::min);
            if min_piv <= 1e-13 * max_diag {
                return Err(Error::IllConditioned {
                    what: "the kernel (f64 Cholesky pivot at rounding level)".into(),
                    cond: theta1 / min_piv.max(f64::MIN_POSITIVE),
                    achieved: f64::INFINITY,
                    tol: cfg.tol,
                });
            }
            Precond::Chol {
                f: Factor::F64(a),
                n,
            }
        }
        SolverPath::F32 => {
            let a = stored32.take().expect("stored");
            let max_diag = (0..n).map(|i| a[i * n + i] as f64).fold(0.0, f64::max);
            // a shift at f32 rounding level keeps the factorization alive for
            // moderately ill-conditioned kernels; CG with f64 products corrects it
            let shift = 4.0 * f32::EPSILON as f64 * (n as f64).sqrt() * max_diag;
            let mut a = if cfg.precond == PrecondChoice::Cholesky {
                a
            } else {
                let rms = sampled_f32_rms(kernel(), |bi, bj| Ok(stored_tile(&a, n, bi, bj)))?;
                let (trial, note) =
                    spectral_cg_trial(rms, F32Kernel::Full(a), &spec, &ys, cfg, theta1, shift)?;
                report(|| note);
                match trial {
                    Trial::Spectral(ic) => {
                        pre_name = "spectral-cg";
                        pre_inner = Some(Precond::Inner(ic));
                        Vec::new()
                    }
                    Trial::Other(F32Kernel::Full(a)) => a,
                    Trial::Other(F32Kernel::Op(_)) => unreachable!("the f32 path stores K"),
                }
            };
            if let Some(p) = pre_inner.take() {
                p
            } else {
                pre_name = "cholesky-f32";
                for i in 0..n {
                    a[i * n + i] += shift as f32;
                }
                prof("cholesky f32", || chol_in_place_f32(&mut a, n)).map_err(|f| {
                    // even the shifted f32 kernel lost definiteness: λ_min(K) ≲ 2·shift
                    ill_from_pivot(f, theta1, 2.0 * shift, n, "f32", cfg.tol)
                })?;
                Precond::Chol {
                    f: Factor::F32(a),
                    n,
                }
            }
        }
        SolverPath::MatrixFree => {
            match free_op {
                // --precond cholesky needs the stored kernel: the spectral
                // preconditioner with f64 products is this path's alternative
                Some(op) if cfg.precond != PrecondChoice::Cholesky => {
                    let rms = op.f32_entry_rms()?;
                    let (trial, note) =
                        spectral_cg_trial(rms, F32Kernel::Op(op), &spec, &ys, cfg, theta1, 0.0)?;
                    report(|| note);
                    match trial {
                        Trial::Spectral(ic) => {
                            pre_name = "spectral-cg";
                            Precond::Inner(ic)
                        }
                        Trial::Other(_) => spectral(&spec),
                    }
                }
                _ => spectral(&spec),
            }
        }
    };
    phases.lap("preconditioner");
    let lam_m = pre.lambda_min(n, cfg.seed)?;
    phases.lap("preconditioner lambda_min");
    let dense_op;
    let recomputed;
    let op64: &dyn LinearOperator = match path {
        SolverPath::Dense if src_op.is_some() => free_op.expect("built above"),
        SolverPath::Dense => {
            dense_op = DenseF64(dense.as_ref().expect("stored"));
            &dense_op
        }
        SolverPath::F32 => {
            recomputed = KernelOp {
                kernel: kernel(),
                f32: F32Products::F64,
            };
            &recomputed
        }
        SolverPath::MatrixFree => free_op.expect("built above"),
    };
    // 4. the f64 passes: Rayleigh–Ritz and Davidson steps of the f32 Ritz block
    // (f32 path) and preconditioned CG, sharing each product
    let mut refine = (path != SolverPath::Dense).then(|| {
        Refine::new(
            std::mem::replace(&mut spec.vecs, Matrix::zeros(0, 0)),
            spec.tail_vals.clone(),
            kk,
            cfg.seed,
        )
    });
    let mut solver = Cg::new(&pre, &ys, lam_m, cfg.tol, cfg.max_cg_iters, cfg.seed)?;
    let bar = progress_bar(
        cfg.max_cg_iters as u64,
        "f64 passes (Rayleigh-Ritz, y^T K^-1 y)",
        show,
    );
    spec.products += f64_passes(op64, refine.as_mut(), &mut solver, n, show, &bar)?;
    bar.finish_and_clear();
    if let Some(r) = refine {
        spec.vals = r.vals;
        spec.vecs = r.vecs;
        spec.resid = r.resid;
    }
    let cg = solver.finish(theta1)?;
    let inner_cg_products = match &pre {
        Precond::Inner(ic) => {
            report(|| {
                format!(
                    "inner cg: {} product columns on the f32 kernel, \
                     {} runs stopped at {MAX_INNER} iterations",
                    ic.products.get(),
                    ic.unconverged.get()
                )
            });
            ic.products.get()
        }
        _ => 0,
    };
    let theta1 = spec.vals[0];
    let lam_k = spec.vals[kk - 1];
    let eig_res = spec.resid[..kk].iter().cloned().fold(0.0, f64::max) / theta1.abs();
    let lam_min = cg
        .iter()
        .map(|c| c.lambda_min)
        .fold(f64::INFINITY, f64::min);
    let cond = theta1 / lam_min;
    // f64 rounding of the products alone perturbs q by about cond·√n·ε relative
    let floor = cond * (n as f64).sqrt() * f64::EPSILON;
    if floor > cfg.tol {
        return Err(Error::IllConditioned {
            what: "y^T K^-1 y (f64 rounding of the kernel alone exceeds the tolerance)".into(),
            cond,
            achieved: floor,
            tol: cfg.tol,
        });
    }

    phases.lap("f64 passes (Rayleigh-Ritz, Davidson, CG)");
    // 4. per label: projections, captured fraction, eq. 8
    let mut out = Vec::with_capacity(nl);
    for (l, y) in labels.iter().enumerate() {
        let mut proj = Matrix::zeros(spec.vecs.cols(), 1);
        gemm_into(
            &mut proj,
            spec.vecs.t(),
            View::row_major(y, n, 1)?,
            1.0,
            false,
        )?;
        let proj = proj.into_vec();
        let y2 = dotv(y, y);
        let top2: f64 = proj[..kk].iter().map(|p| p * p).sum();
        let rest = (y2 - top2).max(0.0);
        let top: Vec<(f64, f64)> = (0..kk).map(|i| (spec.vals[i], proj[i] * proj[i])).collect();
        let mut tail: Vec<(f64, f64)> = (kk..spec.vals.len())
            .map(|i| (spec.vals[i], proj[i] * proj[i]))
            .collect();
        // the Krylov tail's weights are of the normalized label (the first
        // Lanczos block): scaled by ‖y‖² to the pairs k..k' above, whose weights
        // are of y itself, before the rule is rescaled to the rest's mass
        tail.extend(
            spec.tail_vals
                .iter()
                .zip(&spec.tail_weights[l])
                .map(|(a, b)| (*a, *b * y2)),
        );
        let (mid, lo, hi) = loss_curves(&top, &tail, rest, lam_k, cfg.eta, cfg.steps);
        let c = &cg[l];
        out.push(LabelResult {
            projections: proj[..kk].iter().map(|p| p.abs()).collect(),
            captured_fraction: top2 / y2,
            y_hinv_y: c.q,
            complexity_measure: crate::theory::bounds::complexity_measure(c.q, n),
            achieved_rel_error: c.rel_err.max(floor),
            cg_iterations: c.iters,
            predicted_loss: mid,
            predicted_loss_lower: lo,
            predicted_loss_upper: hi,
        });
    }
    let timings = phases.finish();
    Ok(LargeNAnalysis {
        n,
        path,
        top_k: kk,
        eigenvalues: spec.vals[..kk].to_vec(),
        eig_max_rel_residual: eig_res,
        eig_converged: spec.converged,
        krylov_basis: spec.basis,
        lambda_min_estimate: lam_min,
        condition_estimate: cond,
        tol: cfg.tol,
        eta: cfg.eta,
        max_stable_eta: 2.0 / theta1,
        labels: out,
        timings,
        krylov_products: spec.products,
        preconditioner: pre_name.to_string(),
        inner_cg_products,
    })
}
