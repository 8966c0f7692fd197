//! Unit tests of `widenet::theory::hierarchical` (formerly in src/theory/hierarchical.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::data::resnet_targets::{Fig2Target, Thm2Target};
use widenet::linalg::Matrix;
use widenet::theory::complexity::C_STAR;
use widenet::theory::hierarchical::*;

fn corners(d: usize, scale: f64) -> impl Iterator<Item = Vec<f64>> {
    (0..1usize << d).map(move |m| {
        (0..d)
            .map(|i| if m >> i & 1 == 1 { scale } else { -scale })
            .collect()
    })
}

#[test]
fn polarization_reproduces_products_at_random_points() {
    use rand::Rng;
    let mut g = widenet::rng::stream(3, "test");
    for p in 1..=6 {
        let set: Vec<usize> = (0..p).map(|j| 2 * j + 1).collect();
        let c = product_concept(2 * p + 1, std::slice::from_ref(&set), 1.7).unwrap();
        c.check().unwrap();
        assert_eq!(c.p(), 1 << (p - 1));
        for _ in 0..20 {
            let u: Vec<f64> = (0..2 * p + 1).map(|_| g.random_range(-1.0..1.0)).collect();
            let direct = 1.7 * set.iter().map(|&i| u[i]).product::<f64>();
            let via = c.eval(&u).unwrap()[0];
            assert!((direct - via).abs() < 1e-12 * (1.0 + direct.abs()), "p={p}");
        }
    }
    // the constant by hand: c_2 = 4/(2·2) = 1, c_4 = 64/(8·24) = 1/3
    assert!((polarization_constant(2) - 1.0).abs() < 1e-14);
    assert!((polarization_constant(4) - 1.0 / 3.0).abs() < 1e-14);
}

#[test]
fn fig2_decomposition_equals_the_target_on_every_relevant_corner() {
    // d = 8 with k = 4 outputs so all 2^8 inputs can be enumerated; β = −1.5 tests signs
    let t = Fig2Target {
        d: 8,
        g_sets: vec![vec![0, 1], vec![1, 2], vec![2, 3], vec![3, 0]],
        alpha: 0.3,
        beta: -1.5,
    };
    let h = fig2_concept(&t).unwrap();
    for x in corners(8, 1.0) {
        let xm = Matrix::from_fn(1, 8, |_, j| x[j]);
        let want = t.eval(&xm).unwrap();
        let f = t.features(&xm).unwrap();
        let comp = t.composite(&f).unwrap();
        let got = h.eval(&x).unwrap();
        let got_c = h.eval_composite(&x).unwrap();
        for j in 0..4 {
            assert!((want.get(0, j) - got[j]).abs() < 1e-10);
            // Ĝ∘F̂ = G(F)/(|β|√k)
            let c = comp.get(0, j) / (1.5 * 2.0);
            assert!((c - got_c[j]).abs() < 1e-10);
        }
        // ‖F̂(u)‖ = 1
        let u: Vec<f64> = x.iter().map(|v| v / 8f64.sqrt()).collect();
        let n: f64 = h.f.eval(&u).unwrap().iter().map(|v| v * v).sum();
        assert!((n - 1.0).abs() < 1e-12);
    }
}

#[test]
fn thm2_decomposition_equals_the_target_on_every_corner() {
    let t = Thm2Target {
        d: 6,
        indices: vec![4, 1, 3],
        alpha: 0.25,
        beta: -0.5,
    };
    let h = thm2_concept(&t).unwrap();
    for x in corners(6, 1.0 / 6f64.sqrt()) {
        let xm = Matrix::from_fn(1, 6, |_, j| x[j]);
        let want = t.eval(&xm).unwrap();
        let got = h.eval(&x).unwrap();
        for (j, g) in got.iter().enumerate() {
            assert!((want.get(0, j) - g).abs() < 1e-10);
        }
    }
}

#[test]
fn complexities_of_fig2_match_the_closed_forms() {
    let t = Fig2Target::default();
    let c = fig2_complexity(&t).unwrap();
    let cs = |v: &serde_json::Value| v.as_f64().unwrap();
    // φ_F = (d/√k) t²: 𝔠_s = C*·3·d/√k; φ_G = k^{3/2}/3 t⁴: 𝔠_s = C*·5·k^{3/2}/3
    let (d, k) = (30.0f64, 8.0f64);
    assert!((cs(&c.f.c_s) / (C_STAR * 3.0 * d / k.sqrt()) - 1.0).abs() < 1e-12);
    assert!((cs(&c.g.c_s) / (C_STAR * 5.0 * k.powf(1.5) / 3.0) - 1.0).abs() < 1e-12);
    // 𝔠_ε of c t^p at ε = α: ((C*)^p + (√log(1/ε)/√p C*)^p) c
    let l = (1.0f64 / 0.3).ln();
    let want = (C_STAR.powi(2) + (l / 2.0) * C_STAR.powi(2)) * d / k.sqrt();
    assert!((cs(&c.f.c_eps) / want - 1.0).abs() < 1e-12);
    assert_eq!((c.f.p, c.g.p, c.composite.p), (2, 8, 128));
    // the composite (degree 8 in x) is far more complex than its parts
    assert!(c.log10_composite_over_parts > 2.0);
    assert!(c.alpha_max_theorem1 < 1e-6);
}

#[test]
fn bad_inputs_are_errors() {
    assert!(product_concept(3, &[vec![0, 5]], 1.0).is_err());
    assert!(product_concept(3, &[vec![0, 1], vec![2]], 1.0).is_err());
    assert!(product_concept(3, &[vec![0]], 0.0).is_err());
    let t = Fig2Target::new(0.3, 0.0);
    assert!(fig2_concept(&t).is_err());
}
