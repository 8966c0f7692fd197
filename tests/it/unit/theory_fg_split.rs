//! Unit tests of `widenet::theory::fg_split` (formerly in src/theory/fg_split.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::data::resnet_targets::enumerate_hypercube;
use widenet::data::resnet_targets::Fig2Target;
use widenet::linalg::Matrix;
use widenet::theory::fg_split::*;

fn small_target() -> Fig2Target {
    // k = 3 outputs on d = 7 (coordinate 6 unused), G_j a product of two F coordinates
    Fig2Target {
        d: 7,
        g_sets: vec![vec![0, 1], vec![1, 2], vec![0, 2]],
        alpha: 0.3,
        beta: 1.0,
    }
}

#[test]
fn parseval_on_the_whole_cube() {
    // out_j = a_j F_j + b_j G_j + c_j x_6 (x_6 is orthogonal to every F and G): on all 2^7
    // points the split is exact: F part Σ(1 − a_j)², G part Σ(0.3 − b_j)², rest Σ c_j².
    let t = small_target();
    let x = enumerate_hypercube(7, 1.0).unwrap();
    let f = t.features(&x).unwrap();
    let g = t.composite(&f).unwrap();
    let (a, b, c) = ([0.9, 1.2, 0.0], [0.0, 0.3, 0.5], [0.1, -0.2, 0.4]);
    let out = Matrix::from_fn(x.rows(), 3, |i, j| {
        a[j] * f.get(i, j) + b[j] * g.get(i, j) + c[j] * x.get(i, 6)
    });
    let s = fg_split(&t, &x, &out).unwrap();
    let fe: f64 = a.iter().map(|v| (1.0 - v) * (1.0 - v)).sum();
    let ge: f64 = b.iter().map(|v| (0.3 - v) * (0.3 - v)).sum();
    let re: f64 = c.iter().map(|v| v * v).sum();
    assert!((s.f_part - fe).abs() < 1e-12);
    assert!((s.g_part - ge).abs() < 1e-12);
    assert!((s.rest - re).abs() < 1e-12);
    assert!((s.total - (fe + ge + re)).abs() < 1e-12);
    assert!((s.g_unlearned - 3.0 * 0.09).abs() < 1e-15);
}

#[test]
fn learning_only_f_leaves_the_g_part_at_k_alpha_squared() {
    // out = F exactly: F part 0, αG part kα², total kα² (brute force over the cube).
    let t = small_target();
    let x = enumerate_hypercube(7, 1.0).unwrap();
    let out = t.features(&x).unwrap();
    let s = fg_split(&t, &x, &out).unwrap();
    assert!(s.f_part.abs() < 1e-12);
    assert!((s.g_part - s.g_unlearned).abs() < 1e-12);
    assert!((s.total - s.g_unlearned).abs() < 1e-12);
    // out = H: everything 0
    let s = fg_split(&t, &x, &t.eval(&x).unwrap()).unwrap();
    assert!(s.total.abs() < 1e-12 && s.f_part.abs() < 1e-12 && s.g_part.abs() < 1e-12);
    assert!(fg_split(&t, &x, &Matrix::zeros(x.rows(), 2)).is_err());
}
