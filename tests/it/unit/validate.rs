//! Unit tests of `widenet::validate` (formerly in src/validate.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use std::path::Path;
use widenet::linalg::Matrix;
use widenet::validate::*;

#[test]
fn ranges_and_reals_name_the_flag() {
    assert_eq!(count("--width", 5, 1, 10).unwrap(), 5);
    let e = count("--width", 0, 1, 10).unwrap_err().to_string();
    assert!(e.contains("--width") && e.contains("1..=10"), "{e}");
    assert!(count("--steps", usize::MAX, 1, MAX_STEPS).is_err());
    for bad in [f64::NAN, f64::INFINITY, 0.0, -1.0] {
        let e = positive("--eta", bad).unwrap_err().to_string();
        assert!(e.contains("--eta"), "{e}");
    }
    assert!(non_negative("--loss-tol", 0.0).is_ok());
    assert!(non_negative("--loss-tol", -0.1).is_err());
}

#[test]
fn non_finite_entries_are_located() {
    let m = Matrix::from_vec(2, 3, vec![0.0, 1.0, 2.0, 3.0, f64::NAN, 5.0]).unwrap();
    let e = finite_matrix(Path::new("x.npy"), &m)
        .unwrap_err()
        .to_string();
    assert!(e.contains("x.npy") && e.contains("row 1, column 1"), "{e}");
    let e = finite_values(Path::new("y.npy"), &[1.0, f64::INFINITY])
        .unwrap_err()
        .to_string();
    assert!(e.contains("y.npy") && e.contains("index 1"), "{e}");
    assert!(finite_output("H", &[1.0f32, 2.0]).is_ok());
    assert!(finite_output("H", &[f32::NEG_INFINITY]).is_err());
}
