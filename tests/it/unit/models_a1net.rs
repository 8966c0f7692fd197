//! Unit tests of `widenet::models::a1net` (formerly in src/models/a1net.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::data::resnet_targets::{enumerate_hypercube, hypercube};
use widenet::linalg::Matrix;
use widenet::models::a1net::*;
use widenet::models::learner::Learner;
use widenet::rng;

fn sample_inputs(n: usize, d: usize, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "resnet-fig3-test-x");
    hypercube(n, d, 1.0 / (d as f64).sqrt(), &mut g)
}

/// The signs of x at `coords`, scaled to ±1/√d₀.
fn restrict(x: &Matrix<f64>, coords: &[usize]) -> Matrix<f64> {
    let s = 1.0 / (coords.len() as f64).sqrt();
    Matrix::from_fn(x.rows(), coords.len(), |i, t| {
        s * x.get(i, coords[t]).signum()
    })
}

#[test]
fn padding_and_duplication_keep_the_function_exactly() {
    let (d0, m0, d) = (6, 200, 40);
    let net = A1Net::new(d0, m0, 3).unwrap();
    let coords = [17, 3, 38, 0, 25, 9];
    let x = sample_inputs(300, d, 5);
    let want = net.forward(&restrict(&x, &coords)).unwrap();
    // also on all 64 sign patterns (the other 34 coordinates random)
    let all = enumerate_hypercube(d0, 1.0 / (d0 as f64).sqrt()).unwrap();
    let mut xe = sample_inputs(64, d, 6);
    for b in 0..64 {
        for (t, &c) in coords.iter().enumerate() {
            xe.set(b, c, all.get(b, t).signum() / (d as f64).sqrt());
        }
    }
    let want_e = net.forward(&all).unwrap();
    for m in [200, 400, 1000, 500, 302] {
        let big = net.embed(d, &coords, m).unwrap();
        assert_eq!(big.w.shape(), (m, d));
        for (xx, ww) in [(&x, &want), (&xe, &want_e)] {
            let got = big.forward(xx).unwrap();
            for (g, w) in got.as_slice().iter().zip(ww.as_slice()) {
                assert!((g - w).abs() < 1e-12, "m = {m}: {g} vs {w}");
            }
        }
        // unused coordinates are zero
        for r in 0..m {
            for c in (0..d).filter(|c| !coords.contains(c)) {
                assert_eq!(big.w.get(r, c), 0.0);
            }
        }
        // at a multiple of m0 the norm in units of √d is kept exactly:
        // ‖W*‖²_F = (d/d0)‖W‖²_F
        if m % m0 == 0 {
            let rel =
                (big.norm_over_sqrt_d() - net.norm_over_sqrt_d()).abs() / net.norm_over_sqrt_d();
            assert!(rel < 1e-12, "m = {m}: {rel:e}");
        }
    }
    // bad input names the field
    for (m, field) in [(100, "width"), (201, "width")] {
        let e = net.embed(d, &coords, m).unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
    let e = net.embed(d, &[1, 2, 3], 400).unwrap_err().to_string();
    assert!(e.contains("coords"), "{e}");
    let e = net
        .embed(d, &[1, 2, 3, 4, 5, 40], 400)
        .unwrap_err()
        .to_string();
    assert!(e.contains("coords"), "{e}");
}

#[test]
fn a1net_forward_and_gradient_by_hand() {
    let net = A1Net::new(3, 4, 1).unwrap();
    let x = Matrix::from_fn(5, 3, |i, j| ((i * 3 + j) as f64 * 0.7).sin());
    let y = Matrix::from_fn(5, 1, |i, _| (i as f64).cos());
    let out = net.forward(&x).unwrap();
    // by hand: a = (1, 1, -1, -1)/2
    for i in 0..5 {
        let mut f = 0.0;
        for r in 0..4 {
            let z: f64 = (0..3).map(|j| net.w.get(r, j) * x.get(i, j)).sum();
            f += if r < 2 { 0.5 } else { -0.5 } * z.max(0.0);
        }
        assert!((out.get(i, 0) - f).abs() < 1e-14);
    }
    // gradient against central finite differences of the loss
    let (_, g) = net.loss_and_grads(&x, &y).unwrap();
    let h = 1e-6;
    for q in 0..12 {
        let mut p = net.clone();
        p.w.as_mut_slice()[q] += h;
        let mut mn = net.clone();
        mn.w.as_mut_slice()[q] -= h;
        let fd = (p.loss(&x, &y).unwrap() - mn.loss(&x, &y).unwrap()) / (2.0 * h);
        assert!((fd - g[0].as_slice()[q]).abs() < 1e-8, "entry {q}");
    }
    assert!(A1Net::new(3, 5, 1)
        .unwrap_err()
        .to_string()
        .contains("width"));
}
