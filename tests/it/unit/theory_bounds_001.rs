//! Unit tests of `widenet::theory::bounds_001` (formerly in src/theory/bounds_001.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::data::synthetic::unit_sphere;
use widenet::kernels::relu_ntk::h_inf;
use widenet::linalg::{sym_eigen, Cholesky};
use widenet::models::two_layer::TwoLayerNet;
use widenet::rng;
use widenet::theory::bounds_001::*;
use widenet::train::gd::{train_gd, GdConfig};

#[test]
fn losses_have_the_properties_theorem_5_1_and_cor_5_2_need() {
    // 1-Lipschitz in u (brute force on a grid), values in [0, 1], ℓ(y, y) = 0, and the ramp
    // loss bounds the 0-1 loss from above.
    for &y in &[-1.0, 1.0, 0.3] {
        assert_eq!(clipped_l1(y, y), 0.0);
        let mut prev: Option<f64> = None;
        for k in -400..=400 {
            let u = k as f64 * 0.01;
            let v = clipped_l1(u, y);
            assert!((0.0..=1.0).contains(&v));
            if let Some(p) = prev {
                assert!((v - p).abs() <= 0.01 + 1e-12);
            }
            prev = Some(v);
        }
    }
    for &y in &[-1.0, 1.0] {
        assert_eq!(ramp(y, y), 0.0);
        for k in -300..=300 {
            let u = k as f64 * 0.01;
            let zero_one = if u * y <= 0.0 { 1.0 } else { 0.0 };
            assert!(ramp(u, y) >= zero_one);
            assert!((ramp(u, y) - ramp(u + 0.01, y)).abs() <= 0.01 + 1e-12);
        }
    }
    assert_eq!(clipped_l1(3.0, 1.0), 1.0);
    assert!((clipped_l1(0.25, 1.0) - 0.75).abs() < 1e-15);
    assert!((ramp(0.25, 1.0) - 0.75).abs() < 1e-15);
}

#[test]
fn theorem_5_1_check_by_hand() {
    // n = 4, yᵀH⁻¹y = 2: explicit term sqrt(2·2/4) = 1, with proof constants 1 + 5/2.
    let y = [1.0, -1.0, 1.0, -1.0];
    let u = [0.9, -1.2, 3.0, 0.5];
    let c = theorem_5_1_check(2.0, 0.5, 0.1, (&u, &y), (&u, &y)).unwrap();
    assert!((c.explicit_term - 1.0).abs() < 1e-15);
    assert!((c.explicit_with_proof_constants - 3.5).abs() < 1e-15);
    // clipped: 0.1, 0.2, 1, 1 -> 0.575; ramp: 0.1, 0, 0, 1 -> 0.275
    assert!((c.test_clipped_l1 - 0.575).abs() < 1e-12);
    assert!((c.test_ramp - 0.275).abs() < 1e-12);
    assert!((c.log_term - ((4.0f64 / 0.05).ln() / 4.0).sqrt()).abs() < 1e-15);
    assert!(c.below_explicit_term && c.implied_constant == 0.0);
    assert!(theorem_5_1_check(2.0, 0.0, 0.1, (&u, &y), (&u, &y)).is_err());
    assert!(theorem_5_1_check(2.0, 0.5, 1.0, (&u, &y), (&u, &y)).is_err());
}

#[test]
fn gd_stays_within_lemma_c1_and_near_lemma_5_3() {
    // A small wide net in the lazy regime: n = 12 on the sphere in R^5, m = 20,000,
    // κ = 1 (so u(0) is O(1) and the linearized movement is sqrt(rᵀ(H^∞)⁻¹r) with
    // r = y − u(0); Lemma 5.3's κ → 0 form is its r = y case), trained until the loss is
    // tiny. The measured movements come from the GD loop's own records and are checked
    // against independently computed bounds (H^∞ in closed form, Cholesky, eigenvalues).
    let mut g = rng::stream(3, "bounds-001-test");
    let x = unit_sphere(12, 5, &mut g);
    let y: Vec<f64> = (0..12)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let h = h_inf(&x).unwrap();
    let lambda0 = *sym_eigen(&h).unwrap().values.last().unwrap();
    let net = TwoLayerNet::<f64>::init(20_000, 5, 1.0, 11).unwrap();
    let cfg = GdConfig {
        eta: 0.2,
        max_steps: 6000,
        loss_tol: 1e-8,
        ..Default::default()
    };
    let out = train_gd(net, &x, &y, None, &cfg).unwrap();
    let r: Vec<f64> = y.iter().zip(&out.u0).map(|(a, b)| a - b).collect();
    let q = Cholesky::new(&h, "H^inf").unwrap().quad_inv(&r).unwrap();
    let c = movement_check(
        &out.metrics.w_dist_fro,
        &out.metrics.w_dist_max,
        q,
        12,
        20_000,
        lambda0,
        widenet::linalg::norm2(&r),
        cfg.eta,
    )
    .unwrap();
    assert!(c.neuron_ratio < 1.0, "{c:?}");
    assert!((c.total_ratio - 1.0).abs() < 0.1, "{c:?}");
    assert!(!c.eta_condition);
    assert!(movement_check(&[], &[], q, 12, 10, lambda0, 1.0, 0.1).is_err());
}

#[test]
fn eigen_decay_of_known_spectra() {
    // λ_i = i^{-2}: exponent 2 exactly; decile ratio (n/10)^{-2}; flat spectrum: effective
    // rank n, exponent 0, top share 0.1.
    let n = 100;
    let pw: Vec<f64> = (1..=n).map(|i| (i as f64).powi(-2)).collect();
    let d = eigen_decay(&pw).unwrap();
    assert!((d.power_law_exponent - 2.0).abs() < 1e-10);
    assert!((d.decile_ratio - 0.01).abs() < 1e-15);
    let flat = vec![1.0; n];
    let d = eigen_decay(&flat).unwrap();
    assert!((d.effective_rank_fraction - 1.0).abs() < 1e-12);
    assert!((d.top_decile_trace_share - 0.1).abs() < 1e-12);
    assert!(d.power_law_exponent.abs() < 1e-12);
    assert!(eigen_decay(&[1.0, 2.0, 0.5, 0.1]).is_err());
    assert!(eigen_decay(&[1.0, 0.5, 0.1, 0.0]).is_err());
}

#[test]
fn projection_uniformity_against_closed_forms() {
    // All energy on the first eigenvector: KS = 1 − 1/n; equal energy: KS = 0.
    let mut p = vec![0.0; 50];
    p[0] = 2.0;
    assert!((energy_ks(&p) - (1.0 - 1.0 / 50.0)).abs() < 1e-15);
    assert!(energy_ks(&[0.5; 50]) < 1e-15);
    let u = projection_uniformity(&p, 200, 1).unwrap();
    assert!(!u.close_to_uniform && (u.top_decile_share - 1.0).abs() < 1e-15);
    // The Monte-Carlo null: (v_iᵀy)² i.i.d. χ²₁ (mean 1, variance 2), so the normalized
    // cumulative energy minus k/n is sqrt(2/n) times a Brownian bridge for large n, whose
    // sup has 95% quantile 1.358 (Kolmogorov).
    let n = 4000;
    let u = projection_uniformity(&vec![1.0; n], 400, 2).unwrap();
    let asym = 1.358 * (2.0 / n as f64).sqrt();
    assert!(
        (u.ks_null_q95 / asym - 1.0).abs() < 0.12,
        "{} vs {asym}",
        u.ks_null_q95
    );
    assert!(u.close_to_uniform);
    assert!(projection_uniformity(&[0.0, 0.0], 100, 1).is_err());
}
