//! Unit tests of `widenet::kernels::arccos` (formerly in src/kernels/arccos.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use std::f64::consts::PI;
use widenet::kernels::arccos::*;

#[test]
fn acos_select_is_within_one_ulp_of_libm() {
    let mut xs: Vec<f64> = (0..=200_000).map(|k| -1.0 + k as f64 * 1e-5).collect();
    for base in [-1.0, -0.5, 0.0, 0.5, 1.0f64] {
        for e in 1..60 {
            let t = 2f64.powi(-e);
            xs.extend([base - t, base + t]);
        }
    }
    xs.extend([-1.0, 1.0, 0.5, -0.5, 0.0, -0.0]);
    for x in xs.into_iter().filter(|x| (-1.0..=1.0).contains(x)) {
        let (got, want) = (acos_select(x), x.acos());
        let ulps = (got.to_bits() as i64 - want.to_bits() as i64).abs();
        assert!(ulps <= 1, "acos({x:e}) = {got:e}, libm {want:e}");
    }
    assert_eq!(acos_select(1.0), 0.0);
    assert_eq!(acos_select(-1.0), PI);
    assert!(acos_select(f64::NAN).is_nan());
}

/// J₀/(2π) and J₁/(2π) against a Monte-Carlo estimate of the two Gaussian
/// expectations they stand for.
#[test]
fn j_functions_are_the_gaussian_expectations() {
    let mut g = widenet::rng::stream(3, "test/arccos");
    let m = 400_000;
    for rho in [-0.9, -0.3, 0.0, 0.5, 0.95] {
        let (mut e0, mut e1) = (0.0, 0.0);
        for _ in 0..m {
            let a = widenet::rng::normal(&mut g);
            let b = widenet::rng::normal(&mut g);
            let u = a;
            let v = rho * a + (1.0f64 - rho * rho).sqrt() * b;
            if u > 0.0 && v > 0.0 {
                e0 += 1.0;
                e1 += u * v;
            }
        }
        let (j0, j1) = relu_j_of(rho);
        let (e0, e1) = (e0 / m as f64, e1 / m as f64);
        assert!((e0 - j0 / (2.0 * PI)).abs() < 4e-3, "rho {rho}: {e0} vs J0");
        assert!((e1 - j1 / (2.0 * PI)).abs() < 6e-3, "rho {rho}: {e1} vs J1");
    }
    assert_eq!(relu_j_of(1.0), (PI, 1.0 * PI));
    assert_eq!(relu_j_of(2.0), relu_j_of(1.0));
}

/// relu_lanes (four lanes at a time under AVX2, the scalar loop for the rest) has
/// exactly the bits of relu_pair on every branch of it and of acos_select: |ρ| < ½,
/// ρ ≤ −½, ρ ≥ ½, ρ = ±1, a covariance past √(q₁q₂) (clamped), zero variances, NaN.
#[test]
fn relu_lanes_equal_relu_pair_bit_for_bit() {
    let mut g = widenet::rng::stream(5, "test/relu_lanes");
    let mut cases: Vec<(f64, f64, f64)> = vec![
        (1.0, 1.0, 1.0),
        (1.0, 1.0, -1.0),
        (2.0, 0.5, 1.0 + 1e-15),
        (2.0, 0.5, -1.0 - 1e-15),
        (0.0, 3.0, 0.0),
        (0.0, 0.0, 0.0),
        (1.0, 1.0, 0.5),
        (1.0, 1.0, -0.5),
        (1.0, 1.0, 0.0),
        (1.0, 1.0, -0.0),
        (f64::NAN, 1.0, 0.3),
        (1.0, 1.0, f64::NAN),
        (4.0, 9.0, 6.0 * (1.0 - 1e-12)),
    ];
    for _ in 0..997 {
        let (a, b) = (
            widenet::rng::normal(&mut g).exp(),
            widenet::rng::normal(&mut g).exp(),
        );
        let r = widenet::rng::normal(&mut g).tanh();
        cases.push((a, b, r * (a * b).sqrt()));
    }
    let w = cases.len(); // not a multiple of 4: the scalar tail too
    let (mut q1, mut q2, mut s, mut t): (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) = (
        cases.iter().map(|c| c.0).collect(),
        cases.iter().map(|c| c.1).collect(),
        cases.iter().map(|c| c.2).collect(),
        (0..w).map(|k| 0.25 + k as f64).collect(),
    );
    relu_lanes(&mut q1, &mut q2, &mut s, &mut t);
    for (k, &(a, b, c)) in cases.iter().enumerate() {
        let (s2, dot) = relu_pair(a, b, c);
        let want = [a * 0.5, b * 0.5, s2, (0.25 + k as f64) * dot];
        for (got, want) in [q1[k], q2[k], s[k], t[k]].iter().zip(want) {
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "lane {k} ({a}, {b}, {c}): {got:e} vs {want:e}"
            );
        }
    }
}
