//! Benchmarks printed as ratios against baselines measured in the same run
//! (`widenet bench`). No timing is asserted anywhere: these are for tracking.

use crate::error::Result;
use crate::kernels::h_inf;
use crate::kernels::rnn_infinite::rnn_ntk_infinite;
use crate::linalg::{gemm_into, sym_eigen, sym_eigenvalues, Matrix, Real, View};
use crate::models::resnet::LearnerKind;
use crate::models::rnn::{Loss, Objective, Preset, Rnn};
use crate::models::rnn_ntk::rnn_ntk;
use crate::models::TwoLayerNet;
use crate::rng;
use crate::train::rnn_sgd::{sgd_step, RnnData};
use crate::train::sgd::SgdState;
use crate::train::{train_gd, GdConfig};
use serde::Serialize;
use std::time::Instant;

/// One measurement.
#[derive(Clone, Debug, Serialize)]
pub struct BenchRecord {
    /// What was timed.
    pub name: String,
    /// Best wall-clock seconds over the repetitions.
    pub seconds: f64,
    /// Achieved GFLOP/s where a flop count is meaningful.
    pub gflops: Option<f64>,
    /// Seconds of the baseline measured in the same run (what `ratio` divides by).
    pub baseline: Option<f64>,
    /// seconds / baseline.
    pub ratio: Option<f64>,
    /// Sizes and notes.
    pub detail: String,
}

/// Problem sizes.
#[derive(Clone, Debug)]
pub struct BenchSizes {
    /// GD: width.
    pub m: usize,
    /// GD: samples.
    pub n: usize,
    /// Input dimension.
    pub d: usize,
    /// H^∞ samples.
    pub n_kernel: usize,
    /// eigh size.
    pub n_eigh: usize,
    /// Repetitions (best of).
    pub reps: usize,
    /// RNN: width m (SGD step and empirical NTK).
    pub rnn_m: usize,
    /// RNN: sequence length L.
    pub rnn_len: usize,
    /// RNN: input dimension d_in.
    pub rnn_d: usize,
    /// RNN SGD: batch size.
    pub rnn_batch: usize,
    /// RNN empirical NTK: samples.
    pub rnn_ntk_n: usize,
    /// RNN infinite-width H^∞: samples.
    pub rnn_inf_n: usize,
    /// ResNet learners: width m.
    pub resnet_m: usize,
    /// ResNet learners: input dimension d.
    pub resnet_d: usize,
    /// ResNet learners: outputs k.
    pub resnet_k: usize,
    /// ResNet learners: batch size.
    pub resnet_batch: usize,
    /// ResNet learners: repetitions (best of; the steps are short).
    pub resnet_reps: usize,
}

impl BenchSizes {
    /// The issues' sizes: GD m = 10,000, n = 2,000, d = 784; H^∞ n = 10,000; eigh n = 4,000;
    /// RNN m = 1,024, L = 20, batch 64, empirical NTK n = 500, H^∞ n = 2,000; ResNet learners
    /// m = 1,000, d = 30, k = 8, batch 50.
    pub fn full() -> Self {
        BenchSizes {
            m: 10_000,
            n: 2_000,
            d: 784,
            n_kernel: 10_000,
            n_eigh: 4_000,
            reps: 3,
            rnn_m: 1_024,
            rnn_len: 20,
            rnn_d: 10,
            rnn_batch: 64,
            rnn_ntk_n: 500,
            rnn_inf_n: 2_000,
            resnet_m: 1_000,
            resnet_d: 30,
            resnet_k: 8,
            resnet_batch: 50,
            resnet_reps: 60,
        }
    }
    /// Small sizes for a smoke run (seconds).
    pub fn quick() -> Self {
        BenchSizes {
            m: 2_000,
            n: 500,
            d: 256,
            n_kernel: 2_000,
            n_eigh: 800,
            reps: 2,
            rnn_m: 128,
            rnn_len: 6,
            rnn_d: 5,
            rnn_batch: 16,
            rnn_ntk_n: 40,
            rnn_inf_n: 200,
            resnet_m: 100,
            resnet_d: 10,
            resnet_k: 4,
            resnet_batch: 10,
            resnet_reps: 5,
        }
    }
}

fn best_of(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..reps.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn random<T: Real>(rows: usize, cols: usize, seed: u64) -> Matrix<T> {
    let mut g = rng::stream(seed, "bench");
    Matrix::from_fn(rows, cols, |_, _| T::of(rng::normal(&mut g)))
}

fn unit_rows(rows: usize, cols: usize, seed: u64) -> Matrix<f64> {
    let mut x = random::<f64>(rows, cols, seed);
    for i in 0..rows {
        let nrm = crate::linalg::norm2(x.row(i));
        x.row_mut(i).iter_mut().for_each(|v| *v /= nrm);
    }
    x
}

/// The benchmark groups, in the order they run: a record's name starts with its group's.
pub const GROUPS: [&str; 9] = [
    "gemm_f32",
    "gd_iteration",
    "h_inf",
    "eigh",
    "rnn_sgd_step",
    "rnn_empirical_ntk",
    "rnn_infinite",
    "resnet_step",
    "large_n",
];

/// Runs every benchmark, calling `report` after each record (for progress).
pub fn run(sizes: &BenchSizes, report: impl FnMut(&BenchRecord)) -> Result<Vec<BenchRecord>> {
    run_only(sizes, &[], report)
}

/// Whether a group or record `name` is selected by `only` (empty: everything): some entry is a
/// prefix of the name, or the name a prefix of the entry (so `rnn` selects every RNN record and
/// `resnet_step_ntk` the ResNet group, then that learner alone).
pub fn selected(only: &[String], name: &str) -> bool {
    only.is_empty()
        || only
            .iter()
            .any(|s| name.starts_with(s.as_str()) || s.starts_with(name))
}

/// Runs the benchmarks selected by `only` (see [`GROUPS`]; empty: all of them), calling
/// `report` after each record.
pub fn run_only(
    sizes: &BenchSizes,
    only: &[String],
    mut report: impl FnMut(&BenchRecord),
) -> Result<Vec<BenchRecord>> {
    let mut out = Vec::new();
    let mut push = |r: BenchRecord, out: &mut Vec<BenchRecord>| {
        if selected(only, &r.name) {
            report(&r);
            out.push(r);
        }
    };
    let want = |g: &str| selected(only, g);
    if want("gemm_f32") || want("gd_iteration") {
        classic_gemm_gd(sizes, &mut |r| push(r, &mut out))?;
    }
    if want("h_inf") {
        push(classic_h_inf(sizes)?, &mut out);
    }
    if want("eigh") {
        for r in classic_eigh(sizes)? {
            push(r, &mut out);
        }
    }
    if want("rnn_sgd_step") {
        for preset in [Preset::Elman, Preset::Wang] {
            let name = format!("rnn_sgd_step_{}", preset.name());
            if want(&name) {
                push(rnn_sgd_record(sizes, preset)?, &mut out);
            }
        }
    }
    if want("rnn_empirical_ntk") {
        push(rnn_ntk_record(sizes)?, &mut out);
    }
    if want("rnn_infinite") {
        push(rnn_infinite_record(sizes)?, &mut out);
    }
    if want("large_n") {
        for r in large_n_records(sizes)? {
            push(r, &mut out);
        }
    }
    if want("resnet_step") {
        for kind in LearnerKind::ALL {
            let name = format!("resnet_step_{}", kind.name());
            if want(&name) {
                push(resnet_record(sizes, kind)?, &mut out);
            }
        }
    }
    Ok(out)
}

fn classic_gemm_gd(sizes: &BenchSizes, push: &mut dyn FnMut(BenchRecord)) -> Result<()> {
    let BenchSizes { m, n, d, reps, .. } = *sizes;
    // raw GEMM, f32: P = W Xᵀ (m × d times d × n), gemm crate vs faer's matmul
    let w = random::<f32>(m, d, 1);
    let x32: Matrix<f32> = unit_rows(n, d, 2).cast();
    let mut p = Matrix::<f32>::zeros(m, n);
    let flops = 2.0 * m as f64 * n as f64 * d as f64;
    let t_gemm = best_of(reps, || {
        gemm_into(&mut p, w.view(), x32.t(), 1.0, false).expect("shapes agree");
    });
    let wf = faer::Mat::<f32>::from_fn(m, d, |i, j| w.get(i, j));
    let xf = faer::Mat::<f32>::from_fn(d, n, |i, j| x32.get(j, i));
    let mut pf = faer::Mat::<f32>::zeros(m, n);
    let t_faer = best_of(reps, || {
        faer::linalg::matmul::matmul(
            pf.as_mut(),
            faer::Accum::Replace,
            wf.as_ref(),
            xf.as_ref(),
            1.0f32,
            faer::Par::rayon(0),
        );
    });
    push(BenchRecord {
        name: "gemm_f32".into(),
        seconds: t_gemm,
        gflops: Some(flops / t_gemm / 1e9),
        baseline: Some(t_faer),
        ratio: Some(t_gemm / t_faer),
        detail: format!(
            "W X^T, {m}x{d} * {d}x{n}, gemm crate (runtime-dispatched AVX-512); baseline: \
                 faer matmul of the same shape at {:.0} GFLOP/s",
            flops / t_faer / 1e9
        ),
    });

    // one GD iteration vs its two raw GEMMs (W Xᵀ and S X)
    let mut s = Matrix::<f32>::zeros(m, n);
    let mut g = Matrix::<f32>::zeros(m, d);
    let t_two = best_of(reps, || {
        gemm_into(&mut p, w.view(), x32.t(), 1.0, false).expect("shapes agree");
        gemm_into(&mut g, s.view(), x32.view(), -1e-3, true).expect("shapes agree");
    });
    s.as_mut_slice()[0] = 0.0;
    let y: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let net = TwoLayerNet::<f32>::init(m, d, 1e-2, 3)?;
    let time_iters = |k: usize| -> Result<f64> {
        let cfg = GdConfig {
            eta: 1e-4,
            max_steps: k,
            loss_tol: 0.0,
            eval_every: 1,
            progress: false,
        };
        let t = Instant::now();
        train_gd(net.clone(), &x32, &y, None, &cfg)?;
        Ok(t.elapsed().as_secs_f64())
    };
    let k = 4;
    let mut t_iter = f64::INFINITY;
    for _ in 0..reps.max(1) {
        let t_long = time_iters(k + 1)?;
        let t_short = time_iters(1)?;
        t_iter = t_iter.min((t_long - t_short) / k as f64);
    }
    push(BenchRecord {
        name: "gd_iteration".into(),
        seconds: t_iter,
        gflops: Some(2.0 * flops / t_iter / 1e9),
        baseline: Some(t_two),
        ratio: Some(t_iter / t_two),
        detail: format!(
            "one full-batch GD step (eq. 6) with its per-iteration records, m = {m}, d = {d}, \
                 n = {n}, f32; baseline: the two raw GEMMs W X^T and S X"
        ),
    });
    Ok(())
}

fn classic_h_inf(sizes: &BenchSizes) -> Result<BenchRecord> {
    let BenchSizes { d, reps, .. } = *sizes;
    // H^∞ (f64) vs the raw X Xᵀ GEMM
    let nk = sizes.n_kernel;
    let xk = unit_rows(nk, d, 4);
    let mut gk = Matrix::<f64>::zeros(nk, nk);
    let t_raw = best_of(reps, || {
        gemm_into(&mut gk, xk.view(), xk.t(), 1.0, false).expect("shapes agree");
    });
    drop(gk);
    let t_h = best_of(reps, || {
        let _ = h_inf(&xk).expect("finite inputs");
    });
    Ok(BenchRecord {
        name: "h_inf".into(),
        seconds: t_h,
        gflops: Some(2.0 * (nk * nk) as f64 * d as f64 / t_h / 1e9),
        baseline: Some(t_raw),
        ratio: Some(t_h / t_raw),
        detail: format!(
            "H^inf (eq. 3) for n = {nk}, d = {d}, f64; baseline: the raw X X^T GEMM \
                 (gflops counts the full product's flops)"
        ),
    })
}

/// The large-n analysis (issue 11 part B) on the f32 and matrix-free paths,
/// n = `n_eigh`, top-k = n/40, against two baselines timed in the same run: the
/// dense f64 analysis of the same kernel (H^∞, full eigendecomposition and
/// Cholesky, today's `analyze`) and the raw X Xᵀ GEMM of the same shape.
fn large_n_records(sizes: &BenchSizes) -> Result<Vec<BenchRecord>> {
    use crate::kernels::relu_ntk::HInfKernel;
    use crate::theory::large_n::{analyze_kernel, LargeNConfig, SolverPath};
    use crate::theory::spectrum::KernelAnalysis;
    let (n, d) = (sizes.n_eigh, sizes.d);
    let k = (n / 40).max(5);
    let x = unit_rows(n, d, 7);
    let y: Vec<f64> = (0..n)
        .map(|i| if x.get(i, 0) >= 0.0 { 1.0 } else { -1.0 })
        .collect();
    let mut g = Matrix::<f64>::zeros(n, n);
    let t_gemm = best_of(sizes.reps, || {
        gemm_into(&mut g, x.view(), x.t(), 1.0, false).expect("shapes agree");
    });
    drop(g);
    let t_dense = best_of(1, || {
        let h = h_inf(&x).expect("finite inputs");
        let ka = KernelAnalysis::new(&h).expect("positive definite");
        let _ = ka.analyze(&y, 1e-3, 10).expect("analysis");
    });
    let kern = HInfKernel::owned(x)?;
    let mut out = Vec::new();
    for path in [SolverPath::F32, SolverPath::MatrixFree] {
        let cfg = LargeNConfig {
            path: Some(path),
            top_k: k,
            tol: 1e-6,
            steps: 10,
            ..Default::default()
        };
        let mut res = None;
        let t = best_of(1, || {
            res = Some(analyze_kernel(&kern, std::slice::from_ref(&y), &cfg));
        });
        let a = res.expect("timed once")?;
        out.push(BenchRecord {
            name: format!("large_n_{}", path.name().replace('-', "_")),
            seconds: t,
            gflops: None,
            baseline: Some(t_dense),
            ratio: Some(t / t_dense),
            detail: format!(
                "H^inf analysis, n = {n}, d = {d}, top-{k}, y^T H^-1 y to 1e-6 (achieved {:.1e}, \
                 {} Krylov products, {} CG iterations); baseline: dense f64 analysis (H^inf, \
                 eigh, Cholesky) of the same kernel; raw X X^T GEMM {t_gemm:.3} s \
                 (ratio to GEMM {:.1})",
                a.labels[0].achieved_rel_error,
                a.krylov_products,
                a.labels[0].cg_iterations,
                t / t_gemm
            ),
        });
    }
    Ok(out)
}

fn classic_eigh(sizes: &BenchSizes) -> Result<Vec<BenchRecord>> {
    let d = sizes.d;

    // eigh: full eigendecomposition vs LAPACK's divide-and-conquer (scipy's evd
    // driver, timed on the same matrix in a subprocess when python3 with scipy is
    // installed), and eigenvalues only
    let ne = sizes.n_eigh;
    let he = h_inf(&unit_rows(ne, d, 5))?;
    let t_vals = best_of(1, || {
        let _ = sym_eigenvalues(&he).expect("symmetric");
    });
    let t_eig = best_of(1, || {
        let _ = sym_eigen(&he).expect("symmetric");
    });
    let scipy = scipy_evd_seconds(&he);
    let (baseline, what) = match scipy {
        Some(t) => (
            t,
            "scipy.linalg.eigh(driver='evd') on the same matrix".to_string(),
        ),
        None => (
            t_vals,
            "eigenvalues only (python3 with scipy not found; reference on this 2-core machine: \
             scipy evd 6.9-7.3 s at n = 4,000)"
                .to_string(),
        ),
    };
    Ok(vec![
        BenchRecord {
            name: "eigh".into(),
            seconds: t_eig,
            gflops: None,
            baseline: Some(baseline),
            ratio: Some(t_eig / baseline),
            detail: format!(
                "full symmetric eigendecomposition of an H^inf, n = {ne} (faer); baseline: {what}"
            ),
        },
        BenchRecord {
            name: "eigh_values_only".into(),
            seconds: t_vals,
            gflops: None,
            baseline: Some(t_eig),
            ratio: Some(t_vals / t_eig),
            detail: format!(
                "eigenvalues only, n = {ne} (what the complexity-measure path pays when it needs \
                 lambda_max); baseline: the full eigendecomposition"
            ),
        },
    ])
}

/// One GEMM of a baseline, `dst (m × n) = op(a) (m × k) · op(b) (k × n)` through
/// [`gemm_into`]: `ta` means a is stored k × m (row-major) and passed transposed, `tb` that b is
/// stored n × k and passed transposed; `acc` accumulates into dst.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmShape {
    /// Rows of the product.
    pub m: usize,
    /// Columns of the product.
    pub n: usize,
    /// Inner dimension.
    pub k: usize,
    /// a is passed as the transpose of a k × m matrix.
    pub ta: bool,
    /// b is passed as the transpose of an n × k matrix.
    pub tb: bool,
    /// Accumulate into dst.
    pub acc: bool,
}

impl GemmShape {
    const fn new(m: usize, n: usize, k: usize, ta: bool, tb: bool, acc: bool) -> Self {
        GemmShape {
            m,
            n,
            k,
            ta,
            tb,
            acc,
        }
    }
    /// a b.
    pub const fn nn(m: usize, n: usize, k: usize) -> Self {
        Self::new(m, n, k, false, false, false)
    }
    /// a bᵀ.
    pub const fn nt(m: usize, n: usize, k: usize) -> Self {
        Self::new(m, n, k, false, true, false)
    }
    /// aᵀ b.
    pub const fn tn(m: usize, n: usize, k: usize) -> Self {
        Self::new(m, n, k, true, false, false)
    }
    /// The same product accumulated into dst.
    pub const fn acc(self, acc: bool) -> Self {
        GemmShape { acc, ..self }
    }
    /// 2mnk.
    pub fn flops(&self) -> f64 {
        2.0 * self.m as f64 * self.n as f64 * self.k as f64
    }
}

/// Σ 2mnk over a list of GEMMs.
pub fn total_flops(shapes: &[GemmShape]) -> f64 {
    shapes.iter().map(GemmShape::flops).sum()
}

/// Seconds of one pass over `shapes`, each product called through [`gemm_into`] on random
/// operands of its shape and layout, best of `reps` passes. Only the GEMM calls are timed: the
/// destination of each call is allocated and written (so its pages are mapped and in cache, as
/// in the code being compared) before its timer starts.
pub fn time_gemms<T: Real>(shapes: &[GemmShape], reps: usize, seed: u64) -> Result<f64> {
    let a_len = shapes.iter().map(|s| s.m * s.k).max().unwrap_or(0);
    let b_len = shapes.iter().map(|s| s.k * s.n).max().unwrap_or(0);
    let pa = random::<T>(1, a_len, seed).into_vec();
    let pb = random::<T>(1, b_len, seed + 1).into_vec();
    let mut best = f64::INFINITY;
    for _ in 0..reps.max(1) {
        let mut total = 0.0;
        for s in shapes {
            let mut dst = Matrix::from_vec(s.m, s.n, vec![T::one(); s.m * s.n])?;
            let a = if s.ta {
                View::row_major(&pa[..s.m * s.k], s.k, s.m)?.t()
            } else {
                View::row_major(&pa[..s.m * s.k], s.m, s.k)?
            };
            let b = if s.tb {
                View::row_major(&pb[..s.k * s.n], s.n, s.k)?.t()
            } else {
                View::row_major(&pb[..s.k * s.n], s.k, s.n)?
            };
            let t = Instant::now();
            gemm_into(&mut dst, a, b, T::one(), s.acc)?;
            total += t.elapsed().as_secs_f64();
        }
        best = best.min(total);
    }
    Ok(best)
}

/// The GEMMs of a forward pass of [`Rnn::forward`] over a batch of `b` sequences
/// (per step ℓ: X_ℓ Aᵀ, then H_{ℓ−1} Wᵀ accumulated).
fn rnn_forward_gemms(b: usize, m: usize, d_in: usize, len: usize) -> Vec<GemmShape> {
    (0..len)
        .flat_map(|_| [GemmShape::nt(b, m, d_in), GemmShape::nt(b, m, m).acc(true)])
        .collect()
}

/// The GEMMs of [`Rnn::backward`] with output gradients at the steps `out` (1-based): per step
/// ℓ = L..1, E_ℓ B where ℓ ∈ out, then δ_{ℓ+1} W (accumulated when E_ℓ B was written) for ℓ < L.
fn rnn_backward_gemms(
    b: usize,
    m: usize,
    d_out: usize,
    len: usize,
    out: &[usize],
) -> Vec<GemmShape> {
    let mut v = Vec::new();
    for l in (1..=len).rev() {
        let has = out.contains(&l);
        if has {
            v.push(GemmShape::nn(b, m, d_out));
        }
        if l < len {
            v.push(GemmShape::nn(b, m, m).acc(has));
        }
    }
    v
}

/// The GEMMs one mini-batch SGD step of [`sgd_step`] performs: the forward pass, the outputs
/// H_ℓ Bᵀ of the objective's steps, the backward pass and ∇_W = Σ_ℓ δ_ℓᵀ H_{ℓ−1} (one GEMM).
pub fn rnn_sgd_gemms(
    b: usize,
    m: usize,
    d_in: usize,
    d_out: usize,
    len: usize,
    obj: &Objective,
) -> Vec<GemmShape> {
    let out: Vec<usize> = obj.outputs.steps(len).collect();
    let mut v = rnn_forward_gemms(b, m, d_in, len);
    v.extend(out.iter().map(|_| GemmShape::nt(b, d_out, m)));
    v.extend(rnn_backward_gemms(b, m, d_out, len, &out));
    v.push(GemmShape::tn(m, m, len * b));
    v
}

/// The GEMMs of the factorized empirical NTK ([`crate::models::rnn_ntk`]) on n sequences: the
/// forward pass, the backward pass from f = (B h_L)_1, and for every step ℓ the two Gram
/// products ⟨b_{·,ℓ}, b_{·,ℓ'}⟩ and ⟨h_{·,ℓ−1}, h_{·,ℓ'−1}⟩ for all ℓ' ≥ ℓ (n × (L − ℓ + 1)n).
pub fn rnn_ntk_gemms(n: usize, m: usize, d_in: usize, d_out: usize, len: usize) -> Vec<GemmShape> {
    let mut v = rnn_forward_gemms(n, m, d_in, len);
    v.extend(rnn_backward_gemms(n, m, d_out, len, &[len]));
    for l in 0..len {
        let g = GemmShape::nt(n, (len - l) * n, m);
        v.extend([g, g]);
    }
    v
}

fn rnn_sgd_record(sizes: &BenchSizes, preset: Preset) -> Result<BenchRecord> {
    let (m, len, d_in, b) = (sizes.rnn_m, sizes.rnn_len, sizes.rnn_d, sizes.rnn_batch);
    let (d_out, obj) = match preset {
        Preset::Elman => (4, Objective::elman(Loss::L2, 0.1)),
        Preset::Wang => (1, Objective::wang()),
    };
    let mut net = Rnn::<f32>::init(preset, m, d_in, d_out, len, 11)?;
    let n_train = 4 * b;
    let scale = 1.0 / (d_in as f32).sqrt();
    let xs: Vec<Matrix<f32>> = (0..len)
        .map(|l| {
            let mut x = random::<f32>(n_train, d_in, 100 + l as u64);
            x.as_mut_slice().iter_mut().for_each(|v| *v *= scale);
            x
        })
        .collect();
    let count = obj.outputs.steps(len).count();
    let targets: Vec<Matrix<f64>> = (0..count)
        .map(|c| match preset {
            Preset::Elman => random::<f64>(n_train, d_out, 200 + c as u64),
            Preset::Wang => Matrix::from_fn(n_train, 1, |i, _| if i % 2 == 0 { 1.0 } else { -1.0 }),
        })
        .collect();
    let data = RnnData::new(xs, targets)?;
    let mut g = rng::stream(12, "bench/rnn-sgd");
    let idx = crate::train::rnn_sgd::sample_indices(&mut g, n_train, b);
    let reps = (3 * sizes.reps).max(5);
    let mut err = None;
    sgd_step(&mut net, &data, &idx, &obj, 1e-6)?; // warm-up
    let t_step = best_of(reps, || {
        if let Err(e) = sgd_step(&mut net, &data, &idx, &obj, 1e-6) {
            err = Some(e);
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    let shapes = rnn_sgd_gemms(b, m, d_in, d_out, len, &obj);
    let flops = total_flops(&shapes);
    let t_raw = time_gemms::<f32>(&shapes, reps, 13)?;
    Ok(BenchRecord {
        name: format!("rnn_sgd_step_{}", preset.name()),
        seconds: t_step,
        gflops: Some(flops / t_step / 1e9),
        baseline: Some(t_raw),
        ratio: Some(t_step / t_raw),
        detail: format!(
            "one mini-batch SGD step on W (train::rnn_sgd::sgd_step: batch gather, forward, \
             objective, BPTT, grad, update), {} preset, m = {m}, L = {len}, d_in = {d_in}, \
             d_out = {d_out}, batch {b}, f32; baseline: its {} raw GEMMs (forward and backward \
             per step, outputs, weight gradient) at {:.0} GFLOP/s",
            preset.name(),
            shapes.len(),
            flops / t_raw / 1e9
        ),
    })
}

fn rnn_ntk_record(sizes: &BenchSizes) -> Result<BenchRecord> {
    let (m, len, d_in, n) = (sizes.rnn_m, sizes.rnn_len, sizes.rnn_d, sizes.rnn_ntk_n);
    let net = Rnn::<f64>::init(Preset::Wang, m, d_in, 1, len, 21)?;
    let xs: Vec<Matrix<f64>> = (0..len)
        .map(|l| unit_rows(n, d_in, 300 + l as u64))
        .collect();
    let reps = sizes.reps;
    let mut err = None;
    let t_ntk = best_of(reps, || {
        if let Err(e) = rnn_ntk(&net, &xs) {
            err = Some(e);
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    let shapes = rnn_ntk_gemms(n, m, d_in, 1, len);
    let flops = total_flops(&shapes);
    let t_raw = time_gemms::<f64>(&shapes, reps, 22)?;
    Ok(BenchRecord {
        name: "rnn_empirical_ntk".into(),
        seconds: t_ntk,
        gflops: Some(flops / t_ntk / 1e9),
        baseline: Some(t_raw),
        ratio: Some(t_ntk / t_raw),
        detail: format!(
            "empirical recurrent NTK (eq. 23 factorization, with its diag/cross split and block \
             norms), wang preset, n = {n}, L = {len}, m = {m}, d_in = {d_in}, f64; baseline: \
             the {} GEMMs of the factorization (forward, backward, Gram products) at \
             {:.0} GFLOP/s",
            shapes.len(),
            flops / t_raw / 1e9
        ),
    })
}

fn rnn_infinite_record(sizes: &BenchSizes) -> Result<BenchRecord> {
    let (len, d_in, n) = (sizes.rnn_len, sizes.rnn_d, sizes.rnn_inf_n);
    let xs: Vec<Matrix<f64>> = (0..len)
        .map(|l| unit_rows(n, d_in, 400 + l as u64))
        .collect();
    let mut err = None;
    let t = best_of(sizes.reps, || {
        if let Err(e) = rnn_ntk_infinite(Preset::Wang, &xs) {
            err = Some(e);
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    let elems = (n * n * len) as f64;
    Ok(BenchRecord {
        name: "rnn_infinite".into(),
        seconds: t,
        gflops: None,
        baseline: None,
        ratio: None,
        detail: format!(
            "infinite-width recurrent H^inf (eq. 25/28 recursion), wang preset, n = {n}, \
             L = {len}, d_in = {d_in}: {:.2} ns per n^2 L element (target: seconds)",
            t / elems * 1e9
        ),
    })
}

/// The GEMMs of one `loss_and_grads` of a learner of [`crate::models::resnet`] on a batch of
/// `b` rows (d inputs, width m, k outputs), in the order the learner performs them.
pub fn resnet_gemms(kind: LearnerKind, b: usize, d: usize, m: usize, k: usize) -> Vec<GemmShape> {
    let d1 = d + 1;
    match kind {
        LearnerKind::ResNet3 => vec![
            GemmShape::nt(b, m, d1),          // P1 = (x,1) Wᵀ
            GemmShape::nt(b, k, m),           // out_1 = σ(P1) Aᵀ
            GemmShape::nt(b, m, k + 1),       // P2 = (out_1,1) Vᵀ
            GemmShape::nt(b, k, m).acc(true), // out += σ(P2) Aᵀ
            GemmShape::nn(b, m, k),           // G A
            GemmShape::tn(m, k + 1, b),       // ∂V
            GemmShape::nn(b, k + 1, m),       // ∂P2 V
            GemmShape::nn(b, m, k),           // ∂out_1 A
            GemmShape::tn(m, d1, b),          // ∂W
        ],
        LearnerKind::Fc3 => vec![
            GemmShape::nt(b, m, d1),    // P1
            GemmShape::nt(b, m, m + 1), // P2 = (σ(P1),1) W2ᵀ
            GemmShape::nt(b, k, m),     // out
            GemmShape::nn(b, m, k),     // G A
            GemmShape::tn(m, m + 1, b), // ∂W2
            GemmShape::nn(b, m + 1, m), // ∂P2 W2
            GemmShape::tn(m, d1, b),    // ∂W1
        ],
        LearnerKind::Fc2 => vec![
            GemmShape::nt(b, m, d1), // P
            GemmShape::nt(b, k, m),  // out
            GemmShape::nn(b, m, k),  // G A
            GemmShape::tn(m, d1, b), // ∂W
        ],
        LearnerKind::Last => vec![
            GemmShape::nt(b, m, d1), // features
            GemmShape::nt(b, k, m),  // out
            GemmShape::tn(k, m, b),  // ∂A = Gᵀ σ(·)
        ],
        LearnerKind::Ntk => vec![
            GemmShape::nt(b, m, d1), // W⁽⁰⁾(x,1)
            GemmShape::nt(b, m, d1), // W(x,1)
            GemmShape::nt(b, k, m),  // out
            GemmShape::nn(b, m, k),  // G A
            GemmShape::tn(m, d1, b), // ∂W
        ],
    }
}

fn resnet_record(sizes: &BenchSizes, kind: LearnerKind) -> Result<BenchRecord> {
    let BenchSizes {
        resnet_m: m,
        resnet_d: d,
        resnet_k: k,
        resnet_batch: b,
        resnet_reps: reps,
        ..
    } = *sizes;
    let mut learner = kind.build(d, m, k, 31)?;
    let mut state = SgdState::new(&*learner, 0.9, 1e-4);
    let x = unit_rows(b, d, 32);
    let y = random::<f64>(b, k, 33);
    let mut err = None;
    for _ in 0..2 {
        state.step(&mut *learner, &x, &y, 1e-4)?; // warm-up
    }
    let t_step = best_of(reps, || {
        if let Err(e) = state.step(&mut *learner, &x, &y, 1e-4) {
            err = Some(e);
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    let shapes = resnet_gemms(kind, b, d, m, k);
    let flops = total_flops(&shapes);
    let t_raw = time_gemms::<f64>(&shapes, reps, 34)?;
    Ok(BenchRecord {
        name: format!("resnet_step_{}", kind.name()),
        seconds: t_step,
        gflops: Some(flops / t_step / 1e9),
        baseline: Some(t_raw),
        ratio: Some(t_step / t_raw),
        detail: format!(
            "one mini-batch step of {} (loss_and_grads + train::sgd momentum/weight-decay \
             update, {} trained scalars), m = {m}, d = {d}, k = {k}, batch {b}, f64, best of \
             {reps}; baseline: its {} raw GEMMs at {:.1} GFLOP/s",
            kind.name(),
            learner.num_trained(),
            shapes.len(),
            flops / t_raw / 1e9
        ),
    })
}

/// Seconds scipy's divide-and-conquer eigh takes on `h` (best of 1), or `None`
/// when python3 with numpy and scipy is not available.
fn scipy_evd_seconds(h: &Matrix<f64>) -> Option<f64> {
    let dir = std::env::temp_dir().join(format!("widenet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("h.npy");
    crate::data::npy::write_matrix(&path, h).ok()?;
    let script = "import sys, time, numpy, scipy.linalg\n\
                  a = numpy.load(sys.argv[1])\n\
                  t = time.perf_counter()\n\
                  scipy.linalg.eigh(a, driver='evd')\n\
                  print(time.perf_counter() - t)\n";
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .ok();
    let _ = std::fs::remove_dir_all(&dir);
    let out = out?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}
