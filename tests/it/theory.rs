//! Seed 001's theory: Theorem 6.1 / Cor. 6.2, the spectral identities behind
//! eq. 8 and Lemma 5.3, and the bound formulas, against independent computations.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use widenet::data::synthetic::{unit_sphere, PolyTarget};
use widenet::kernels::h_inf;
use widenet::linalg::{sym_eigen, Cholesky, Matrix};
use widenet::rng;
use widenet::theory::bounds::{complexity_measure, lemma_5_3, lemma_5_4_rademacher, theorem_5_1};
use widenet::theory::spectrum::{
    predicted_loss, predicted_movement, worst_case_labels, KernelAnalysis,
};

#[test]
fn theorem_6_1_holds_on_random_data_for_p_1_2_4() {
    for (seed, p) in [(1u64, 1u32), (2, 2), (3, 4)] {
        let mut g = rng::stream(seed, "thm61");
        let x = unit_sphere(60, 10, &mut g);
        let h = h_inf(&x).unwrap();
        let chol = Cholesky::new(&h, "H").unwrap();
        for trial in 0..5 {
            let alpha = 0.3 + trial as f64;
            // ‖β‖ away from 1 so that the ‖β‖^p factor matters
            let target = PolyTarget::random(10, &[(alpha, p)], &mut g);
            let scale = 0.5 + 0.4 * trial as f64;
            let mut t = target.clone();
            t.terms[0].beta.iter_mut().for_each(|b| *b *= scale);
            let y = t.eval(&x).unwrap();
            let lhs = chol.quad_inv(&y).unwrap().sqrt();
            let rhs = widenet::theory::complexity::poly_target_bound(&t).unwrap();
            let want = 3.0 * p as f64 * alpha * scale.powi(p as i32);
            assert!((rhs - want).abs() < 1e-12 * want);
            assert!(
                lhs <= rhs,
                "p = {p}: sqrt(y^T H^-1 y) = {lhs} > bound {rhs}"
            );
            assert!(lhs > 0.0);
        }
    }
}

#[test]
fn corollary_6_2_bounds_sums_and_triangle_inequality_holds() {
    let mut g = rng::stream(4, "cor62");
    let x = unit_sphere(50, 8, &mut g);
    let chol = Cholesky::new(&h_inf(&x).unwrap(), "H").unwrap();
    let t = PolyTarget::random(8, &[(1.0, 1), (-2.0, 2), (0.5, 4)], &mut g);
    let y = t.eval(&x).unwrap();
    let total = chol.quad_inv(&y).unwrap().sqrt();
    assert!(total <= widenet::theory::complexity::poly_target_bound(&t).unwrap());
    // sqrt(yᵀH⁻¹y) is a norm: sub-additive over the terms (the step to Cor. 6.2)
    let parts: f64 = t
        .terms
        .iter()
        .map(|term| {
            let single = PolyTarget {
                terms: vec![term.clone()],
            };
            chol.quad_inv(&single.eval(&x).unwrap()).unwrap().sqrt()
        })
        .sum();
    assert!(total <= parts + 1e-9);
    let bad = PolyTarget::random(8, &[(1.0, 3)], &mut g);
    assert!(
        widenet::theory::complexity::poly_target_bound(&bad).is_err(),
        "p = 3 is outside Theorem 6.1"
    );
}

fn unit(n: usize, d: usize, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "t");
    unit_sphere(n, d, &mut g)
}

#[test]
fn spectral_identities() {
    let x = unit(30, 6, 5);
    let h = h_inf(&x).unwrap();
    let ka = KernelAnalysis::new(&h).unwrap();
    let mut g = rng::stream(6, "y");
    let y: Vec<f64> = (0..30).map(|_| rng::rademacher(&mut g)).collect();
    // V Λ Vᵀ reconstructs H
    let e = sym_eigen(&h).unwrap();
    for i in 0..30 {
        for j in 0..30 {
            let r: f64 = (0..30)
                .map(|k| e.vectors.get(i, k) * e.values[k] * e.vectors.get(j, k))
                .sum();
            assert!((r - h.get(i, j)).abs() < 1e-12);
        }
    }
    // yᵀH⁻¹y by Cholesky equals Σ (v_iᵀy)²/λ_i
    let proj = ka.eigen.project(&y).unwrap();
    let spectral: f64 = proj
        .iter()
        .zip(&ka.eigen.values)
        .map(|(p, l)| p * p / l)
        .sum();
    let q = ka.y_hinv_y(&y).unwrap();
    assert!((q - spectral).abs() < 1e-9 * q);
    // the linearized movement tends to sqrt(yᵀH⁻¹y) (Lemma 5.3 / §5.2) and is 0 at k = 0
    let eta = 1.0 / ka.eigen.values[0];
    assert_eq!(predicted_movement(&ka.eigen.values, &proj, eta, 0), 0.0);
    let far = predicted_movement(&ka.eigen.values, &proj, eta, 10_000_000);
    assert!(
        (far - q.sqrt()).abs() < 1e-6 * q.sqrt(),
        "{far} vs {}",
        q.sqrt()
    );
    // eq. 8 at k = 0 is ‖y‖²/2 and decreases monotonically for η < 2/λ_max
    let pl = predicted_loss(&ka.eigen.values, &proj, eta, 100).unwrap();
    assert!((pl[0] - 15.0).abs() < 1e-10);
    assert!(pl.windows(2).all(|w| w[1] <= w[0]));
    // worst-case labels: an eigenvector of λ_min scaled to ‖y‖
    let yw = worst_case_labels(&ka.eigen, 30f64.sqrt());
    let norm = yw.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!((norm - 30f64.sqrt()).abs() < 1e-10);
    let lmin = *ka.eigen.values.last().unwrap();
    for i in 0..30 {
        let hv: f64 = (0..30).map(|j| h.get(i, j) * yw[j]).sum();
        assert!((hv - lmin * yw[i]).abs() < 1e-9);
    }
    // complexity measure (eq. 10) and Theorem 5.1's explicit term agree
    let cm = complexity_measure(q, 30);
    assert!((cm - (2.0 * q / 30.0).sqrt()).abs() < 1e-15);
    let t = theorem_5_1(q, 30);
    assert_eq!(t.explicit_term, cm);
    assert!((t.explicit_with_proof_constants - cm - 5.0 / 30f64.sqrt()).abs() < 1e-15);
}

#[test]
fn lemma_formulas_by_hand() {
    // Lemma 5.4 with B = 2, R = 0.01, n = 100, m = 10,000, κ = 0.1, δ = 0.1:
    // 2/√200 · (1 + (2 ln 20 / 10⁴)^{1/4}) + 2·10⁻⁴·100/0.1 + 0.01·sqrt(2 ln 20)
    let l = 20f64.ln();
    let want =
        2.0 / 200f64.sqrt() * (1.0 + (2.0 * l / 1e4).powf(0.25)) + 0.2 + 0.01 * (2.0 * l).sqrt();
    let got = lemma_5_4_rademacher(2.0, 0.01, 100, 10_000, 0.1, 0.1).unwrap();
    assert!((got - want).abs() < 1e-14);
    assert!(lemma_5_4_rademacher(2.0, 0.01, 100, 10_000, 0.1, 1.5).is_err());
    // Lemma C.1: 4√n‖y − u(0)‖/(√m λ0) with n = 16, ‖·‖ = 4, m = 100, λ0 = 0.5
    let l53 = lemma_5_3(9.0, 16, 100, 0.5, 4.0).unwrap();
    assert!((l53.per_neuron_bound - 4.0 * 4.0 * 4.0 / (10.0 * 0.5)).abs() < 1e-14);
    assert_eq!(l53.total_movement, 3.0);
    assert!(lemma_5_3(9.0, 16, 100, 0.0, 4.0).is_err());
}
