//! The large-n solvers behind the `LinearOperator` trait (issue 24): an operator
//! defined outside the library is analysed by the matrix-free path's algorithms,
//! bit for bit the kernel's result when its products are the kernel's, and to
//! the requested accuracy against a spectrum known in closed form.

use widenet::error::Error;
use widenet::kernels::relu_ntk::HInfKernel;
use widenet::kernels::tile::dense_f64;
use widenet::kernels::tile_cache::TileCache;
use widenet::linalg::{sym_eigen, Matrix};
use widenet::theory::large_n::operator::{DenseF64, F32Products, KernelOp, Precision};
use widenet::theory::large_n::{
    analyze_kernel, analyze_operator, analyze_operator_with, CostHint, LargeNAnalysis,
    LargeNConfig, LinearOperator, PrecondChoice, Preconditioner, SolverPath,
};

fn sphere(n: usize, d: usize, seed: u64) -> Matrix<f64> {
    crate::support::sphere(n, d, seed, "large-n operator test inputs")
}

fn signs(n: usize, seed: u64) -> Vec<f64> {
    crate::support::random_signs(n, seed, "large-n operator test labels")
}

/// Every number of the analysis but the wall-clock timings, bit for bit.
fn numbers(mut a: LargeNAnalysis) -> String {
    a.timings.clear();
    serde_json::to_string(&a).unwrap()
}

/// An operator defined by the caller that forwards to the kernel's own products
/// (counting them), as a binding's or a cluster's adapter does.
struct Forward<'a> {
    inner: KernelOp<'a>,
    calls: std::cell::Cell<[usize; 2]>,
}

impl LinearOperator for Forward<'_> {
    fn size(&self) -> usize {
        self.inner.size()
    }
    fn cost_hint(&self) -> CostHint {
        self.inner.cost_hint()
    }
    fn apply_f64(&self, v: &Matrix<f64>, show: bool) -> widenet::Result<Matrix<f64>> {
        let c = self.calls.get();
        self.calls.set([c[0] + v.cols(), c[1]]);
        self.inner.apply_f64(v, show)
    }
    fn apply_f32(&self, v: &Matrix<f64>, show: bool) -> widenet::Result<Matrix<f64>> {
        let c = self.calls.get();
        self.calls.set([c[0], c[1] + v.cols()]);
        self.inner.apply_f32(v, show)
    }
    fn f32_entry_rms(&self) -> widenet::Result<f64> {
        self.inner.f32_entry_rms()
    }
}

#[test]
fn an_operator_with_the_kernels_products_gives_the_matrix_free_result_bit_for_bit() {
    let n = 600; // tile rows 256, 256, 88
    let kern = HInfKernel::owned(sphere(n, 8, 1)).unwrap();
    let ys = vec![signs(n, 2), signs(n, 3)];
    // nothing held: every f32 tile recomputed (the same bits as held ones)
    let cache = TileCache::new(&kern, 0, false).unwrap();
    for precond in [PrecondChoice::SpectralCg, PrecondChoice::Cholesky] {
        let cfg = LargeNConfig {
            path: Some(SolverPath::MatrixFree),
            top_k: 10,
            tol: 1e-9,
            eta: 1e-2,
            steps: 15,
            precond,
            ..Default::default()
        };
        let op = Forward {
            inner: KernelOp {
                kernel: &kern,
                f32: F32Products::Tiles(&cache),
            },
            calls: std::cell::Cell::new([0, 0]),
        };
        let a = analyze_operator(
            &op,
            &ys,
            &LargeNConfig {
                path: None,
                ..cfg.clone()
            },
        )
        .unwrap();
        let b = analyze_kernel(&kern, &ys, &cfg).unwrap();
        let [f64_cols, f32_cols] = op.calls.get();
        // the Krylov phase (f32) and the f64 passes both went through the operator
        assert!(f32_cols >= b.krylov_basis, "{f32_cols} f32 columns");
        assert!(f64_cols > 0);
        assert_eq!(a.preconditioner, b.preconditioner);
        assert_eq!(numbers(a), numbers(b), "{precond:?}");
    }
}

/// K = Q diag(λ) Qᵀ with λ chosen, Q orthogonal, stored in f64 and in f32.
struct Known {
    k: Vec<f64>,
    k32: Vec<f32>,
    n: usize,
}

impl Known {
    fn product<T: Copy + Into<f64>>(a: &[T], n: usize, v: &Matrix<f64>, f32: bool) -> Matrix<f64> {
        let b = v.cols();
        let mut out = Matrix::zeros(n, b);
        for i in 0..n {
            for j in 0..b {
                let s = if f32 {
                    (0..n)
                        .map(|l| a[i * n + l].into() as f32 * v.get(l, j) as f32)
                        .sum::<f32>() as f64
                } else {
                    (0..n).map(|l| a[i * n + l].into() * v.get(l, j)).sum()
                };
                out.set(i, j, s);
            }
        }
        out
    }
}

impl LinearOperator for Known {
    fn size(&self) -> usize {
        self.n
    }
    fn cost_hint(&self) -> CostHint {
        CostHint {
            flops_per_column: 2.0 * (self.n * self.n) as f64,
            bytes_per_call: 8.0 * (self.n * self.n) as f64,
        }
    }
    fn apply_f64(&self, v: &Matrix<f64>, _: bool) -> widenet::Result<Matrix<f64>> {
        Ok(Self::product(&self.k, self.n, v, false))
    }
    fn apply_f32(&self, v: &Matrix<f64>, _: bool) -> widenet::Result<Matrix<f64>> {
        Ok(Self::product(&self.k32, self.n, v, true))
    }
    fn f32_entry_rms(&self) -> widenet::Result<f64> {
        let s: f64 = self
            .k
            .iter()
            .zip(&self.k32)
            .map(|(a, b)| (a - *b as f64).powi(2))
            .sum();
        Ok((s / self.k.len() as f64).sqrt())
    }
    fn product_name(&self, p: Precision) -> &'static str {
        match p {
            Precision::F64 => "product (test f64)",
            Precision::F32 => "product (test f32)",
        }
    }
}

#[test]
fn a_spectrum_known_in_closed_form_is_found_to_the_stated_accuracy() {
    let n = 240;
    // an orthogonal Q: the eigenvectors of a random symmetric matrix
    let mut rng = widenet::rng::stream(7, "large-n operator test Q");
    let mut g = Matrix::zeros(n, n);
    for i in 0..n {
        for j in 0..=i {
            let v = widenet::rng::normal(&mut rng);
            g.set(i, j, v);
            g.set(j, i, v);
        }
    }
    let q = sym_eigen(&g).unwrap().vectors;
    let lam: Vec<f64> = (0..n)
        .map(|i| 10.0 / (1.0 + i as f64).powf(1.5) + 0.05)
        .collect();
    let mut k = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            k[i * n + j] = (0..n).map(|l| q.get(i, l) * lam[l] * q.get(j, l)).sum();
        }
    }
    // exactly symmetric
    for i in 0..n {
        for j in 0..i {
            k[j * n + i] = k[i * n + j];
        }
    }
    let op = Known {
        k32: k.iter().map(|v| *v as f32).collect(),
        k,
        n,
    };
    let y = signs(n, 8);
    let qty: Vec<f64> = (0..n)
        .map(|l| (0..n).map(|i| q.get(i, l) * y[i]).sum())
        .collect();
    let exact: f64 = (0..n).map(|l| qty[l] * qty[l] / lam[l]).sum();
    let cfg = LargeNConfig {
        top_k: 8,
        tol: 1e-10,
        eta: 0.05,
        steps: 10,
        precond: PrecondChoice::SpectralCg,
        ..Default::default()
    };
    let a = analyze_operator(&op, &[&y], &cfg).unwrap();
    assert_eq!(a.path, SolverPath::MatrixFree);
    assert_eq!(a.preconditioner, "spectral-cg");
    for (i, (got, want)) in a.eigenvalues.iter().zip(&lam).enumerate() {
        let e = (got - want).abs() / want;
        assert!(e < 1e-10, "eigenvalue {i}: {got} vs {want} ({e:e})");
    }
    let l = &a.labels[0];
    let e = (l.y_hinv_y - exact).abs() / exact;
    assert!(
        e <= 1e-10 && l.achieved_rel_error <= 1e-10,
        "y^T K^-1 y: {e:e}"
    );
    // eq. 8 at t = 1 in closed form: ½Σ(1 − ηλ)²(q_lᵀy)²
    let phi1: f64 = 0.5
        * (0..n)
            .map(|l| (1.0 - 0.05 * lam[l]).powi(2) * qty[l] * qty[l])
            .sum::<f64>();
    assert!(l.predicted_loss_lower[1] <= phi1 * (1.0 + 1e-12));
    assert!(l.predicted_loss_upper[1] >= phi1 * (1.0 - 1e-12));
}

#[test]
fn an_operator_refuses_the_f32_path_that_stores_the_kernel() {
    let n = 50;
    let op = Known {
        k: (0..n * n)
            .map(|x| if x / n == x % n { 1.0 } else { 0.0 })
            .collect(),
        k32: (0..n * n)
            .map(|x| if x / n == x % n { 1.0 } else { 0.0 })
            .collect(),
        n,
    };
    let y = signs(n, 1);
    // (the dense path's algorithms run on an operator's f64 products: see below)
    let path = SolverPath::F32;
    let cfg = LargeNConfig {
        path: Some(path),
        top_k: 3,
        ..Default::default()
    };
    match analyze_operator(&op, &[&y], &cfg) {
        Err(e @ Error::Invalid { .. }) => {
            let m = e.to_string();
            assert!(m.contains("path") && m.contains(path.name()), "{m}");
        }
        other => panic!("{path:?}: {:?}", other.map(|a| a.n)),
    }
}

/// M⁻¹ = K⁻¹ exactly, from the full eigendecomposition (a factor held elsewhere,
/// computed differently from the dense path's Cholesky), counting its calls.
struct ExactInverse {
    v: Matrix<f64>,
    inv: Vec<f64>,
    calls: std::cell::Cell<usize>,
}

impl Preconditioner for ExactInverse {
    fn apply(&self, r: &Matrix<f64>) -> widenet::Result<Matrix<f64>> {
        self.calls.set(self.calls.get() + 1);
        let (n, c) = r.shape();
        let mut coef = Matrix::zeros(n, c);
        for j in 0..n {
            for a in 0..c {
                let s: f64 = (0..n).map(|i| self.v.get(i, j) * r.get(i, a)).sum();
                coef.set(j, a, s * self.inv[j]);
            }
        }
        Ok(Matrix::from_fn(n, c, |i, a| {
            (0..n).map(|j| self.v.get(i, j) * coef.get(j, a)).sum()
        }))
    }
    fn name(&self) -> &str {
        "exact-inverse"
    }
}

#[test]
fn an_operator_with_f64_products_gives_the_dense_path_result() {
    // the dense path's algorithms on an operator's f64 products (a cluster's): with
    // the stored kernel's own products and the spectral preconditioner, bit for bit
    // the dense path; with the caller's preconditioner (here K⁻¹ exactly, the dense
    // path's Cholesky factor to rounding), the same spectrum and eq. 8 bit for bit
    // and y^T K^-1 y, λ_min and the reported accuracy to rounding
    let n = 300;
    let kern = HInfKernel::owned(sphere(n, 7, 4)).unwrap();
    let ys = vec![signs(n, 5)];
    let k = dense_f64(&kern).unwrap();
    let cfg = LargeNConfig {
        path: Some(SolverPath::Dense),
        top_k: 6,
        tol: 1e-10,
        eta: 1e-2,
        steps: 20,
        ..Default::default()
    };
    let spectral = LargeNConfig {
        precond: PrecondChoice::Spectral,
        ..cfg.clone()
    };
    let a = analyze_operator(&DenseF64(&k), &ys, &spectral).unwrap();
    let b = analyze_kernel(&kern, &ys, &spectral).unwrap();
    assert_eq!(
        (a.preconditioner.as_str(), a.path),
        ("spectral", SolverPath::Dense)
    );
    assert_eq!(numbers(a), numbers(b));

    let e = sym_eigen(&k).unwrap();
    let ext = ExactInverse {
        inv: e.values.iter().map(|l| 1.0 / l).collect(),
        v: e.vectors,
        calls: std::cell::Cell::new(0),
    };
    let a = analyze_operator_with(&DenseF64(&k), &ys, &cfg, Some(&ext)).unwrap();
    let b = analyze_kernel(&kern, &ys, &cfg).unwrap();
    assert_eq!(
        (a.preconditioner.as_str(), b.preconditioner.as_str()),
        ("exact-inverse", "cholesky-f64")
    );
    // λ_min(M) by 30 Lanczos steps on M⁻¹, as for the dense path's factor, then CG
    assert!(ext.calls.get() > 30, "{} applications", ext.calls.get());
    assert_eq!(a.eigenvalues, b.eigenvalues);
    let (la, lb) = (&a.labels[0], &b.labels[0]);
    assert_eq!(la.predicted_loss, lb.predicted_loss);
    assert_eq!(la.cg_iterations, lb.cg_iterations);
    let close = |x: f64, y: f64, what: &str| {
        assert!((x - y).abs() <= 1e-12 * y.abs(), "{what}: {x} vs {y}");
    };
    close(la.y_hinv_y, lb.y_hinv_y, "y^T K^-1 y");
    close(a.lambda_min_estimate, b.lambda_min_estimate, "lambda_min");
    close(a.condition_estimate, b.condition_estimate, "condition");
    close(la.achieved_rel_error, lb.achieved_rel_error, "achieved");
}

/// The result's `timings` are the runtime's record of the phases that ran (issue 24:
/// profiling in the runtime), in order, named for what ran: the dense path's full
/// eigendecomposition where 2k ≥ n, the Krylov phase otherwise, on every path. (Names
/// only; no timing is asserted.)
#[test]
fn the_timings_record_the_phases_that_ran() {
    let (full, krylov) = ("spectrum (full eigendecomposition)", "spectrum (Krylov)");
    for (n, path, spectrum) in [
        (8, SolverPath::Dense, full),
        (120, SolverPath::Dense, krylov),
        (120, SolverPath::F32, krylov),
        (120, SolverPath::MatrixFree, krylov),
    ] {
        let kern = HInfKernel::owned(sphere(n, 8, 1)).unwrap();
        let cfg = LargeNConfig {
            path: Some(path),
            top_k: 4,
            tol: 1e-6,
            ..Default::default()
        };
        let a = analyze_kernel(&kern, &[signs(n, 2)], &cfg).unwrap();
        let names: Vec<&str> = a.timings.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "storage",
                spectrum,
                "preconditioner",
                "preconditioner lambda_min",
                "f64 passes (Rayleigh-Ritz, Davidson, CG)"
            ],
            "{path:?} at n = {n}"
        );
    }
}
