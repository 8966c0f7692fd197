//! H^∞ (seed 001 eq. 3) and the empirical Gram matrix against independent references.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use widenet::kernels::relu_ntk::h_inf_series_entry;
use widenet::kernels::{empirical_gram, h_inf, h_inf_cross};
use widenet::linalg::{sym_eigenvalues, Cholesky, Matrix};
use widenet::rng;

fn gaussian(n: usize, d: usize, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "test");
    Matrix::from_fn(n, d, |_, _| rng::normal(&mut g))
}

fn unit(n: usize, d: usize, seed: u64) -> Matrix<f64> {
    let mut x = gaussian(n, d, seed);
    for i in 0..n {
        let s = x.row(i).iter().map(|v| v * v).sum::<f64>().sqrt();
        x.row_mut(i).iter_mut().for_each(|v| *v /= s);
    }
    x
}

#[test]
fn h_inf_matches_monte_carlo_expectation() {
    // eq. 3 as an expectation over w ~ N(0, I), inputs of various norms
    let (n, d) = (6, 5);
    let mut x = gaussian(n, d, 1);
    for i in 0..n {
        let s = 0.5 + i as f64 * 0.3;
        x.row_mut(i).iter_mut().for_each(|v| *v *= s);
    }
    let h = h_inf(&x).unwrap();
    let samples = 200_000;
    let mut g = rng::stream(2, "mc");
    let mut sum = vec![0.0; n * n];
    let mut sq = vec![0.0; n * n];
    for _ in 0..samples {
        let w: Vec<f64> = (0..d).map(|_| rng::normal(&mut g)).collect();
        let act: Vec<bool> = (0..n)
            .map(|i| x.row(i).iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() >= 0.0)
            .collect();
        for i in 0..n {
            for j in 0..n {
                let v = if act[i] && act[j] {
                    x.row(i)
                        .iter()
                        .zip(x.row(j))
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                } else {
                    0.0
                };
                sum[i * n + j] += v;
                sq[i * n + j] += v * v;
            }
        }
    }
    for i in 0..n {
        for j in 0..n {
            let mean = sum[i * n + j] / samples as f64;
            let var = sq[i * n + j] / samples as f64 - mean * mean;
            let se = (var / samples as f64).sqrt();
            let diff = (h.get(i, j) - mean).abs();
            assert!(
                diff <= 5.0 * se + 1e-12,
                "({i},{j}): closed form {} vs MC {mean} (se {se})",
                h.get(i, j)
            );
        }
    }
}

#[test]
fn h_inf_matches_appendix_e_series() {
    // App. E: H^∞ = K/4 + (1/2π) Σ_l (2l−3)!!/(2l−2)!! K^{∘2l}/(2l−1) for unit-norm inputs
    let x = unit(40, 8, 3);
    let h = h_inf(&x).unwrap();
    // off the diagonal |k| < 1 and the series converges geometrically; on it
    // (k = 1) the terms decay only like l^(-3/2), so it is checked in closed form
    let mut checked = 0;
    for i in 0..40 {
        for j in 0..40 {
            let k: f64 = x.row(i).iter().zip(x.row(j)).map(|(a, b)| a * b).sum();
            if i == j || k.abs() > 0.98 {
                continue;
            }
            let s = h_inf_series_entry(k, 2_000);
            assert!(
                (h.get(i, j) - s).abs() < 1e-10,
                "({i},{j}) k={k}: {} vs series {s}",
                h.get(i, j)
            );
            checked += 1;
        }
    }
    assert!(checked > 1000);
    // the diagonal of unit inputs is exactly 1/2 (θ = 0)
    assert!((h.get(0, 0) - 0.5).abs() < 1e-14);
}

#[test]
fn h_inf_is_symmetric_psd_and_blocked_path_matches_cross() {
    // n above the tile size so the blocked path and the mirror are exercised
    let x = gaussian(600, 12, 4);
    let h = h_inf(&x).unwrap();
    let hc = h_inf_cross(&x, &x).unwrap();
    let mut maxdiff: f64 = 0.0;
    for i in 0..600 {
        // the diagonal is set in closed form (θ = 0) by the blocked path; the
        // direct path's rounded cos θ_ii puts arccos within ~sqrt(eps) of it
        assert!((h.get(i, i) - hc.get(i, i)).abs() < 1e-7 * h.get(i, i));
        for j in 0..600 {
            assert_eq!(h.get(i, j), h.get(j, i));
            if i != j {
                maxdiff = maxdiff.max((h.get(i, j) - hc.get(i, j)).abs());
            }
        }
    }
    assert!(maxdiff < 1e-12, "blocked vs direct differ by {maxdiff}");
    let ev = sym_eigenvalues(&h).unwrap();
    // no two inputs parallel: positive definite (Remark 5.1)
    assert!(
        *ev.last().unwrap() > 0.0,
        "lambda_min = {}",
        ev.last().unwrap()
    );
    assert!(Cholesky::new(&h, "H").is_ok());
}

#[test]
fn h_inf_f32_agrees_with_f64() {
    let x = unit(300, 20, 5);
    let h64 = h_inf(&x).unwrap();
    let h32 = h_inf(&x.cast::<f32>()).unwrap();
    // arccos is ill-conditioned near ±1: an f32 inner product of nearly parallel
    // inputs loses digits, so the tolerance is looser where |cos θ| is close to 1
    for i in 0..300 {
        for j in 0..300 {
            let (a, b) = (h64.get(i, j), h32.get(i, j) as f64);
            let c: f64 = x.row(i).iter().zip(x.row(j)).map(|(p, q)| p * q).sum();
            let tol = if i == j {
                1e-7
            } else {
                1e-6 / (1.0 - c.abs()).sqrt().max(1e-3)
            };
            assert!((a - b).abs() < tol, "({i},{j}) cos {c}: {a} vs {b}");
        }
    }
}

#[test]
fn empirical_gram_converges_to_h_inf() {
    // H(0) → H^∞ as m grows (Lemma C.3's concentration): error shrinks like 1/√m
    let x = unit(15, 6, 6);
    let h = h_inf(&x).unwrap();
    let rel = |m: usize| {
        let mut g = rng::stream(7, "w");
        let w = Matrix::from_fn(m, 6, |_, _| 0.01 * rng::normal(&mut g));
        let he = empirical_gram(&w, &x).unwrap();
        let num: f64 = he
            .as_slice()
            .iter()
            .zip(h.as_slice())
            .map(|(a, b)| (a - b).powi(2))
            .sum();
        (num / h.frobenius().powi(2)).sqrt()
    };
    let (e1, e2) = (rel(100), rel(40_000));
    assert!(e2 < 0.02, "m = 40,000: relative error {e2}");
    assert!(
        e2 < e1 / 8.0,
        "error does not shrink like 1/sqrt(m): {e1} -> {e2}"
    );
}

#[test]
fn duplicate_inputs_give_a_not_positive_definite_error() {
    let mut x = unit(10, 4, 8);
    let r0 = x.row(0).to_vec();
    x.row_mut(5).copy_from_slice(&r0);
    let h = h_inf(&x).unwrap();
    let err = Cholesky::new(&h, "H^inf")
        .err()
        .expect("singular kernel must be rejected");
    let msg = err.to_string();
    assert!(
        msg.contains("not positive definite") && msg.contains("smallest eigenvalue"),
        "{msg}"
    );
}

#[test]
fn non_finite_inputs_are_rejected() {
    let mut x = unit(5, 3, 9);
    x.set(2, 1, f64::NAN);
    assert!(h_inf(&x).unwrap_err().to_string().contains("non-finite"));
}
