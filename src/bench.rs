//! Benchmarks printed as ratios against baselines measured in the same run
//! (`widenet bench`). No timing is asserted anywhere: these are for tracking.

use crate::error::Result;
use crate::kernels::h_inf;
use crate::linalg::{gemm_into, sym_eigen, sym_eigenvalues, Matrix, Real};
use crate::models::TwoLayerNet;
use crate::rng;
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
}

impl BenchSizes {
    /// The sizes: GD m = 10,000, n = 2,000, d = 784; H^∞ n = 10,000; eigh n = 4,000.
    pub fn full() -> Self {
        BenchSizes {
            m: 10_000,
            n: 2_000,
            d: 784,
            n_kernel: 10_000,
            n_eigh: 4_000,
            reps: 3,
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

/// Runs every benchmark, calling `report` after each record (for progress).
pub fn run(sizes: &BenchSizes, mut report: impl FnMut(&BenchRecord)) -> Result<Vec<BenchRecord>> {
    let mut out = Vec::new();
    let mut push = |r: BenchRecord, out: &mut Vec<BenchRecord>| {
        report(&r);
        out.push(r);
    };
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
    push(
        BenchRecord {
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
        },
        &mut out,
    );

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
            max_iters: k,
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
    push(
        BenchRecord {
            name: "gd_iteration".into(),
            seconds: t_iter,
            gflops: Some(2.0 * flops / t_iter / 1e9),
            baseline: Some(t_two),
            ratio: Some(t_iter / t_two),
            detail: format!(
                "one full-batch GD step (eq. 6) with its per-iteration records, m = {m}, d = {d}, \
                 n = {n}, f32; baseline: the two raw GEMMs W X^T and S X"
            ),
        },
        &mut out,
    );

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
    push(
        BenchRecord {
            name: "h_inf".into(),
            seconds: t_h,
            gflops: Some(2.0 * (nk * nk) as f64 * d as f64 / t_h / 1e9),
            baseline: Some(t_raw),
            ratio: Some(t_h / t_raw),
            detail: format!(
                "H^inf (eq. 3) for n = {nk}, d = {d}, f64; baseline: the raw X X^T GEMM \
                 (gflops counts the full product's flops)"
            ),
        },
        &mut out,
    );

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
    push(
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
        &mut out,
    );
    push(
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
        &mut out,
    );
    Ok(out)
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
