//! Unit tests of `widenet::kernels::relu_ntk` (formerly in src/kernels/relu_ntk.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::kernels::relu_ntk::*;
use widenet::kernels::tile::{dense_f64, inner_tile, TileKernel};
use widenet::linalg::Matrix;

/// The vectorized f32 tile map against the scalar eq. 3 ([`h_inf_entry`], libm's
/// arccos) on the same f32 inner products: within one f32 ulp (the arccos of the two
/// differs by at most one f64 ulp), the diagonal ‖x_i‖²/2 exactly, zero rows zero.
#[test]
fn f32_tile_map_is_eq3_within_one_ulp() {
    let mut g = widenet::rng::stream(5, "test/relu_ntk f32 map");
    let (n, d) = (300, 7);
    let mut x = Matrix::from_fn(n, d, |_, _| widenet::rng::normal(&mut g) as f32);
    for j in 0..d {
        x.set(17, j, 0.0); // a zero input
        x.set(40, j, x.get(39, j)); // a duplicate: cos θ = 1 off the diagonal
        x.set(41, j, -x.get(39, j)); // an opposite: cos θ = −1
    }
    let k = HInfKernel::from_f32(&x).unwrap();
    let (rows, cols) = (0..n, 0..n);
    let mut got = vec![0f32; n * n];
    k.tile_f32(rows.clone(), cols.clone(), &mut got).unwrap();
    let mut gram = vec![0f32; n * n];
    inner_tile(x.as_slice(), d, rows, cols, 1.0, &mut gram);
    let norms: Vec<f64> = (0..n).map(|i| widenet::linalg::norm2(x.row(i))).collect();
    let mut worst = 0i64;
    for i in 0..n {
        for j in 0..n {
            let want = if i == j {
                h_inf_diag(norms[i]) as f32
            } else {
                h_inf_entry(gram[i * n + j] as f64, norms[i], norms[j]) as f32
            };
            let v = got[i * n + j];
            if i == 17 || j == 17 {
                assert_eq!(v, 0.0, "zero input at ({i}, {j})");
            }
            if i == j {
                assert_eq!(v, want, "diagonal {i}");
            }
            let ulps = (v.to_bits() as i64 - want.to_bits() as i64).abs();
            assert!(ulps <= 1 || v == want, "({i}, {j}): {v:e} against {want:e}");
            worst = worst.max(ulps);
        }
    }
    // and the map is H^∞ itself: against the f64 kernel to f32 accuracy
    let x64 = x.cast::<f64>();
    let h64 = dense_f64(&HInfKernel::new(&x64).unwrap()).unwrap();
    let scale = (0..n).map(|i| h64.get(i, i)).fold(0.0, f64::max);
    for i in 0..n {
        for j in 0..n {
            let e = (got[i * n + j] as f64 - h64.get(i, j)).abs();
            assert!(e <= 1e-5 * scale, "({i}, {j}): {e:e}");
        }
    }
    assert!(worst <= 1);
}
