//! Unit tests of `widenet::kernels::tile_cache` (formerly in src/kernels/tile_cache.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::kernels::relu_ntk::HInfKernel;
use widenet::kernels::tile::{dense_f32, dense_f64, matvec};
use widenet::kernels::tile_cache::*;
use widenet::linalg::Matrix;

fn inputs(n: usize, d: usize) -> Matrix<f64> {
    let mut g = widenet::rng::stream(5, "tile cache test");
    Matrix::from_fn(n, d, |_, _| widenet::rng::normal(&mut g))
}

/// Whatever the budget (nothing, some, every tile held), the product equals
/// the f32 dense kernel times V to f32 accuracy, the f64 product to the f32
/// rounding level, and is bit-identical across budgets.
#[test]
fn product_matches_dense_and_is_the_same_at_every_budget() {
    let n = 600; // three tile rows: 256, 256, 88
    let x = inputs(n, 7);
    let k = HInfKernel::new(&x).unwrap();
    let v = inputs(n, 3);
    let d32 = dense_f32(&k).unwrap();
    let d64 = dense_f64(&k).unwrap();
    let mut results = Vec::new();
    let full = TileCache::full_bytes(n);
    assert_eq!(full, (256 * 256 * 3 + 256 * 88 * 2 + 88 * 88) as u128 * 4);
    for budget in [0, full / 3, full - 1, full] {
        let c = TileCache::new(&k, budget, false).unwrap();
        assert_eq!(c.held_fraction() == 1.0, budget == full);
        assert!(c.held_bytes() <= budget);
        let y = c.product(&v, false).unwrap();
        // reference: the dense f32 matrix in f64 arithmetic
        for i in 0..n {
            for j in 0..3 {
                let (mut e32, mut e64, mut s) = (0.0, 0.0, 0.0);
                for l in 0..n {
                    let vv = v.get(l, j) as f32 as f64;
                    e32 += d32.get(i, l) as f64 * vv;
                    e64 += d64.get(i, l) * v.get(l, j);
                    s += (d64.get(i, l) * v.get(l, j)).abs();
                }
                assert!((y.get(i, j) - e32).abs() <= 1e-5 * s, "{i},{j}");
                assert!((y.get(i, j) - e64).abs() <= 1e-5 * s, "{i},{j}");
            }
        }
        results.push(y);
    }
    for r in &results[1..] {
        assert_eq!(r.as_slice(), results[0].as_slice());
    }
    // and the f64 tile product agrees with it to f32 level
    let y64 = matvec(&k, &v).unwrap();
    let m = y64.as_slice().iter().fold(0.0f64, |a, v| a.max(v.abs()));
    for (a, b) in y64.as_slice().iter().zip(results[0].as_slice()) {
        assert!((a - b).abs() <= 1e-5 * m);
    }
}

#[test]
fn entries_are_the_stored_values_in_either_orientation() {
    let n = 300;
    let x = inputs(n, 5);
    let k = HInfKernel::new(&x).unwrap();
    let d32 = dense_f32(&k).unwrap();
    let c = TileCache::new(&k, TileCache::full_bytes(n) / 2, false).unwrap();
    for (bi, bj) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
        let (t, r, cc) = c.entries(bi, bj).unwrap();
        for i in 0..r {
            for j in 0..cc {
                assert_eq!(t[i * cc + j], d32.get(bi * 256 + i, bj * 256 + j));
            }
        }
    }
}
