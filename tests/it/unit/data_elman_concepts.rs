//! Unit tests of `widenet::data::elman_concepts` (formerly in src/data/elman_concepts.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::data::elman_concepts::*;
use widenet::linalg::norm2 as norm;
use widenet::rng;
use widenet::taylor::AnalyticFn;

fn spec() -> ElmanInputSpec {
    ElmanInputSpec { len: 6, dx: 4 }
}

#[test]
fn inputs_have_unit_norm_and_last_coordinate_half() {
    let mut g = rng::stream(1, "test");
    let xs = spec().draw_batch(50, &mut g).unwrap();
    assert_eq!(xs.len(), 4);
    for m in &xs {
        for i in 0..m.rows() {
            assert!((norm(m.row(i)) - 1.0).abs() < 1e-12);
            assert_eq!(m.get(i, 3), 0.5);
        }
    }
    // the free part is spread over its sphere (not constant)
    assert!((xs[0].get(0, 0) - xs[0].get(1, 0)).abs() > 1e-6);
}

#[test]
fn bad_settings_are_named_errors() {
    let bad = ElmanInputSpec { len: 2, dx: 4 }.check().unwrap_err();
    assert!(bad.to_string().contains("L"));
    let bad = ElmanInputSpec { len: 5, dx: 1 }.check().unwrap_err();
    assert!(bad.to_string().contains("d_x"));
    let phi = Phi {
        psi: AnalyticFn::parse("sin").unwrap(),
        outer: 1.0,
        inner: 1.0,
    };
    let term = |from, to, w: Vec<f64>| ElmanTerm {
        from,
        to,
        out: 0,
        phi: phi.clone(),
        w,
    };
    let e = ElmanConcept::new(5, 2, 1, vec![term(3, 3, vec![1.0, 0.0])]).unwrap_err();
    assert!(e.to_string().contains("term positions"), "{e}");
    let e = ElmanConcept::new(5, 2, 1, vec![term(1, 3, vec![1.0, 0.0])]).unwrap_err();
    assert!(e.to_string().contains("term positions"), "{e}");
    let e = ElmanConcept::new(5, 2, 1, vec![term(2, 3, vec![1.0, 1.0])]).unwrap_err();
    assert!(e.to_string().contains("w*"), "{e}");
    let mut g = rng::stream(0, "t");
    let c = ElmanConcept::new(5, 2, 1, vec![]).unwrap();
    let e = draw(&c, 3, -1.0, &mut g).unwrap_err();
    assert!(e.to_string().contains("noise_sd"), "{e}");
    let e = LagNets::random(5, 3, 1, 0, &AnalyticFn::parse("sin").unwrap(), &mut g).unwrap_err();
    assert!(e.to_string().contains("p"), "{e}");
}

#[test]
fn phi_vanishes_at_zero_even_for_sigmoid() {
    for name in ["sigmoid", "exp", "cos", "tanh(2z)", "poly:3,1,2"] {
        let phi = Phi {
            psi: AnalyticFn::parse(name).unwrap(),
            outer: -1.7,
            inner: 0.6,
        };
        assert_eq!(phi.eval(0.0), 0.0, "{name}");
    }
    // and otherwise a (φ(bz) − φ(0)) against the closed form: sigmoid(0.6·0.5) − 1/2
    let phi = Phi {
        psi: AnalyticFn::parse("sigmoid").unwrap(),
        outer: 2.0,
        inner: 0.6,
    };
    let want = 2.0 * (1.0 / (1.0 + (-0.3f64).exp()) - 0.5);
    assert!((phi.eval(0.5) - want).abs() < 1e-15);
}

#[test]
fn hand_computed_instance() {
    // L = 4, d_x = 2, d = 1; x*_2 = (√3/2, 1/2), x*_3 = (−√3/2, 1/2).
    // Terms: 2→3: 2·sin(z) with w = (1, 0); 2→4: z² (poly) with w = (0, 1);
    //        3→4: exp(z) − 1 with w = (1, 0).
    let s3 = 3f64.sqrt() / 2.0;
    let x = vec![vec![s3, 0.5], vec![-s3, 0.5]];
    let t = |from, to, f: &str, outer, w: Vec<f64>| ElmanTerm {
        from,
        to,
        out: 0,
        phi: Phi {
            psi: AnalyticFn::parse(f).unwrap(),
            outer,
            inner: 1.0,
        },
        w,
    };
    let c = ElmanConcept::new(
        4,
        2,
        1,
        vec![
            t(2, 3, "sin", 2.0, vec![1.0, 0.0]),
            t(2, 4, "poly:0,0,1", 1.0, vec![0.0, 1.0]),
            t(3, 4, "exp", 1.0, vec![1.0, 0.0]),
        ],
    )
    .unwrap();
    let f = c.eval_one(&x);
    let f3 = 2.0 * s3.sin();
    let f4 = 0.25 + ((-s3).exp() - 1.0);
    assert!((f[0][0] - f3).abs() < 1e-14, "{} vs {f3}", f[0][0]);
    assert!((f[1][0] - f4).abs() < 1e-14, "{} vs {f4}", f[1][0]);
}

#[test]
fn outputs_depend_only_on_earlier_inputs() {
    let mut g = rng::stream(3, "test");
    let phi = AnalyticFn::parse("exp").unwrap();
    let nets = LagNets::random(6, 4, 2, 3, &phi, &mut g).unwrap();
    let c = nets.to_concept().unwrap();
    let x = spec().draw_sequence(&mut g);
    let base = c.eval_one(&x);
    // perturb x*_ℓ (ℓ = 2..5): F*_j for j ≤ ℓ must not change, F*_{ℓ+1} must
    for pos in 2..=5usize {
        let mut y = x.clone();
        y[pos - 2] = spec().draw_input(&mut g);
        let f = c.eval_one(&y);
        for j in 3..=6usize {
            let same = f[j - 3] == base[j - 3];
            if j <= pos {
                assert!(same, "F*_{j} changed when x*_{pos} moved");
            } else if j == pos + 1 {
                assert!(!same, "F*_{j} ignores x*_{pos}");
            }
        }
    }
}

#[test]
fn lag_nets_match_their_eq_3_1_form_and_direct_sum() {
    let mut g = rng::stream(4, "test");
    let phi = AnalyticFn::parse("sigmoid").unwrap();
    let mut nets = LagNets::random(5, 3, 2, 2, &phi, &mut g).unwrap();
    // a row that is not a unit vector exercises the ‖w_r‖ rescaling
    for v in nets.w[1].row_mut(0) {
        *v *= 1.9;
    }
    let c = nets.to_concept().unwrap();
    assert_eq!(c.terms.len(), 6 * 2 * 2); // (j, i) pairs × p × d
    let sig = |z: f64| 1.0 / (1.0 + (-z).exp()) - 0.5;
    let spec = ElmanInputSpec { len: 5, dx: 3 };
    for _ in 0..5 {
        let x = spec.draw_sequence(&mut g);
        let a = nets.eval_one(&x);
        let b = c.eval_one(&x);
        // independent reference: explicit sums with the closed-form sigmoid
        for j in 3..=5usize {
            for s in 0..2 {
                let mut want = 0.0;
                for i in 2..j {
                    let k = j - i - 1;
                    for r in 0..2 {
                        want += nets.a[k].get(s, r) * sig(dot(nets.w[k].row(r), &x[i - 2]));
                    }
                }
                assert!((a[j - 3][s] - want).abs() < 1e-13);
                assert!((b[j - 3][s] - want).abs() < 1e-13);
            }
        }
    }
    // the random rows have last coordinate 0 and unit norm
    for k in [0usize, 2] {
        for r in 0..2 {
            assert_eq!(nets.w[k].get(r, 2), 0.0);
            assert!((norm(nets.w[k].row(r)) - 1.0).abs() < 1e-12);
        }
    }
}

#[test]
fn noise_and_opt() {
    // OPT = (L − 2) d σ² / 2 against the empirical mean of Σ_j ½‖y* − F*‖²
    let mut g = rng::stream(5, "test");
    let phi = AnalyticFn::parse("sin").unwrap();
    let c = LagNets::random(5, 3, 2, 2, &phi, &mut g)
        .unwrap()
        .to_concept()
        .unwrap();
    let n = 4000;
    let s = draw(&c, n, 0.3, &mut g).unwrap();
    let mut total = 0.0;
    for (t, f) in s.targets.iter().zip(&s.f_star) {
        for (a, b) in t.as_slice().iter().zip(f.as_slice()) {
            total += 0.5 * (a - b) * (a - b);
        }
    }
    let emp = total / n as f64;
    let opt = opt_l2(5, 2, 0.3);
    assert!((opt - 0.27).abs() < 1e-15);
    // sd of the mean: sqrt(2·6·(σ²/2)²/n) ≈ 0.0025; allow 5 sd
    assert!((emp - opt).abs() < 0.0125, "{emp} vs {opt}");
    // noise-free labels are F* itself and F* matches eval on the inputs
    let s0 = draw(&c, 7, 0.0, &mut g).unwrap();
    assert_eq!(s0.targets, s0.f_star);
    assert_eq!(c.eval(&s0.x_star).unwrap(), s0.f_star);
    // scaling multiplies every value, and the rms with it
    let r = c.rms(&s0.x_star).unwrap();
    let c2 = c.scaled(3.0).unwrap();
    assert!((c2.rms(&s0.x_star).unwrap() - 3.0 * r).abs() < 1e-12 * (1.0 + r));
}
