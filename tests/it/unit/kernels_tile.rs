//! Unit tests of `widenet::kernels::tile` (formerly in src/kernels/tile.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::kernels::relu_ntk::HInfKernel;
use widenet::kernels::tile::*;
use widenet::linalg::Matrix;

#[test]
fn regions_equal_the_dense_kernel_bit_for_bit() {
    let n = 2 * TILE + 37;
    let x = Matrix::from_fn(n, 5, |i, j| ((i * 7 + j * 3) % 11) as f64 - 4.5);
    let k = HInfKernel::new(&x).unwrap();
    let d = dense_f64(&k).unwrap();
    for (rows, cols) in [
        (0..n, 0..n),
        (TILE..n, 0..TILE),
        (0..TILE, TILE..n),
        (2 * TILE..n, 2 * TILE..n),
    ] {
        let mut out = vec![0.0f64; rows.len() * cols.len()];
        region(&k, rows.clone(), cols.clone(), &mut out).unwrap();
        for (ii, i) in rows.clone().enumerate() {
            for (jj, j) in cols.clone().enumerate() {
                assert_eq!(out[ii * cols.len() + jj].to_bits(), d.get(i, j).to_bits());
            }
        }
    }
    let mut out = vec![0.0f64; 3 * n];
    assert!(region(&k, 1..4, 0..n, &mut out).is_err());
}
