//! Unit tests of `widenet::data::resnet_targets` (formerly in src/data/resnet_targets.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::data::resnet_targets::*;
use widenet::linalg::Matrix;

#[test]
fn enumerated_cube_has_every_sign_pattern_once() {
    let x = enumerate_hypercube(4, 0.5).unwrap();
    assert_eq!(x.shape(), (16, 4));
    let mut seen: Vec<Vec<bool>> = (0..16)
        .map(|i| x.row(i).iter().map(|&v| v > 0.0).collect())
        .collect();
    assert!(x.as_slice().iter().all(|&v| v.abs() == 0.5));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 16);
    assert!(enumerate_hypercube(21, 1.0).is_err());
}

/// Figure 3's parity on every point of {±1/√d}^d (d = 8, 256 points):
/// y = d³ Π_t x_{i_t} is the product of the six chosen signs, so it is ±1,
/// balanced, and flips with each chosen coordinate and with no other.
#[test]
fn fig3_parity_on_enumerated_inputs() {
    let d = 8;
    let t = Fig3Target {
        d,
        indices: vec![7, 0, 3, 5, 1, 6],
    };
    let s = 1.0 / (d as f64).sqrt();
    let x = Matrix::from_fn(1 << d, d, |b, c| if (b >> c) & 1 == 1 { s } else { -s });
    let y = t.eval(&x).unwrap();
    let mut plus = 0;
    for b in 0..(1usize << d) {
        let negatives = t.indices.iter().filter(|&&c| (b >> c) & 1 == 0).count();
        let want = if negatives % 2 == 0 { 1.0 } else { -1.0 };
        assert!((y.get(b, 0) - want).abs() < 1e-12, "pattern {b:#010b}");
        plus += usize::from(want > 0.0);
        // flipping an unused coordinate (2 or 4) leaves y unchanged
        for c in [2, 4] {
            assert_eq!(y.get(b, 0), y.get(b ^ (1 << c), 0));
        }
    }
    assert_eq!(plus, 128);
    assert!(Fig3Target {
        d,
        indices: vec![1, 1, 2, 3, 4, 5]
    }
    .eval(&x)
    .is_err());
}
