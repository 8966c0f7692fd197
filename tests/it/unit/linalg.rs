//! src/linalg.rs: the half-flop products (symmetric, lower-triangular) against a triple
//! loop, and the eigensolver on a fixed thread count against the sequential one.

use widenet::linalg::{
    matmul, matmul_lower, matmul_symmetric, sym_eigen, sym_eigen_threads, Cholesky, Matrix,
};
use widenet::rng;

fn random(rows: usize, cols: usize, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "linalg-test");
    Matrix::from_fn(rows, cols, |_, _| rng::normal(&mut g))
}

/// Σ_k a_ik b_kj by a triple loop (the reference).
fn naive(a: &Matrix<f64>, b: &Matrix<f64>) -> Matrix<f64> {
    Matrix::from_fn(a.rows(), b.cols(), |i, j| {
        (0..a.cols()).map(|k| a.get(i, k) * b.get(k, j)).sum()
    })
}

fn max_abs_diff(a: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

/// XᵀKX (K symmetric) and W Wᵀ, at sizes that cross the block boundaries: equal to the
/// triple loop to rounding, exactly symmetric.
#[test]
fn symmetric_product_equals_the_triple_loop() {
    let (n, m) = (421, 203);
    let a = random(n, n, 1);
    let k = Matrix::from_fn(n, n, |i, j| a.get(i, j) + a.get(j, i));
    let x = random(n, m, 2);
    let kx = naive(&k, &x);
    let got = matmul_symmetric(x.t(), kx.view()).unwrap();
    let want = naive(&x.transpose(), &kx);
    let scale = want.as_slice().iter().fold(0.0f64, |s, v| s.max(v.abs()));
    assert!(max_abs_diff(&got, &want) < 1e-12 * scale);
    let w = random(m, n, 3);
    let ww = matmul_symmetric(w.view(), w.t()).unwrap();
    let want = naive(&w, &w.transpose());
    assert!(max_abs_diff(&ww, &want) < 1e-12 * n as f64);
    for i in 0..m {
        for j in 0..m {
            assert_eq!(ww.get(i, j), ww.get(j, i));
        }
    }
    assert!(matmul_symmetric(w.view(), w.view()).is_err());
}

/// A L for a lower-triangular L (a Cholesky factor, whose upper triangle is zero):
/// equal to the triple loop; the factor reproduces the matrix.
#[test]
fn lower_triangular_product_equals_the_triple_loop() {
    let n = 397;
    let b = random(n, n + 5, 4);
    let h = naive(&b, &b.transpose());
    let l = Cholesky::try_new(&h).unwrap().lower();
    for i in 0..n {
        for j in i + 1..n {
            assert_eq!(l.get(i, j), 0.0);
        }
    }
    let llt = naive(&l, &l.transpose());
    let scale = h.as_slice().iter().fold(0.0f64, |s, v| s.max(v.abs()));
    assert!(max_abs_diff(&llt, &h) < 1e-12 * scale);
    let a = random(150, n, 5);
    let got = matmul_lower(a.view(), &l).unwrap();
    let want = naive(&a, &l);
    let scale = want.as_slice().iter().fold(0.0f64, |s, v| s.max(v.abs()));
    assert!(max_abs_diff(&got, &want) < 1e-12 * scale);
    assert!(matmul_lower(a.view(), &a).is_err());
    // a singular matrix has no factor
    let mut s = h.clone();
    for j in 0..n {
        s.set(1, j, h.get(0, j));
        s.set(j, 1, h.get(j, 0));
    }
    s.set(1, 1, h.get(0, 0));
    assert!(Cholesky::try_new(&s).is_none());
}

/// The eigendecomposition on 4 threads (faer's parallel tridiagonalization and
/// divide-and-conquer, n above its parallel threshold of 314 remaining columns): H V = V Λ,
/// VᵀV = I (by GEMM), eigenvalues those of the sequential solver to rounding, and the
/// same bits on a second run.
#[test]
fn eigensolver_on_a_fixed_thread_count_is_accurate_and_repeatable() {
    let n = 420;
    let a = random(n, n, 6);
    let h = Matrix::from_fn(n, n, |i, j| a.get(i, j) + a.get(j, i));
    let e = sym_eigen_threads(&h, 4).unwrap();
    let seq = sym_eigen(&h).unwrap();
    let top = e.values[0].abs().max(e.values[n - 1].abs());
    for (x, y) in e.values.iter().zip(&seq.values) {
        assert!((x - y).abs() < 1e-12 * top, "{x} vs {y}");
    }
    assert!(e.values.windows(2).all(|w| w[0] >= w[1]));
    let hv = matmul(h.view(), e.vectors.view()).unwrap();
    let vl = Matrix::from_fn(n, n, |i, j| e.vectors.get(i, j) * e.values[j]);
    assert!(max_abs_diff(&hv, &vl) < 1e-11 * top);
    let vtv = matmul(e.vectors.t(), e.vectors.view()).unwrap();
    let eye = Matrix::from_fn(n, n, |i, j| if i == j { 1.0 } else { 0.0 });
    assert!(max_abs_diff(&vtv, &eye) < 1e-12);
    let again = sym_eigen_threads(&h, 4).unwrap();
    assert!(again.values == e.values && again.vectors == e.vectors);
}
