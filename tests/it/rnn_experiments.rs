//! Seed 004's concept-class generators and the recurrent kernel / complexity experiments at
//! tiny scale, against independent references.

#![allow(clippy::needless_range_loop)] // index loops mirror the checks

use widenet::data::rnn_concepts::{
    draw, draw_inputs, AdditiveConcept, AdditiveTerm, Concept, InputSpec, NVariableConcept,
    NVariableTerm,
};
use widenet::experiments::common::Scale;
use widenet::experiments::rnn_complexity::{self, spread_positions, LengthSettings, NvarSettings};
use widenet::experiments::rnn_kernel::{self, RnnKernelSettings};
use widenet::rng;
use widenet::taylor::AnalyticFn;

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

#[test]
fn inputs_have_the_stated_norms() {
    let spec = InputSpec {
        len: 5,
        d: 4,
        c_min: 0.3,
        c_max: 2.0,
    };
    let xs = draw_inputs(&spec, 200, 1, "t").unwrap();
    assert_eq!(xs.len(), 5);
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for m in &xs {
        assert_eq!(m.shape(), (200, 4));
        for i in 0..200 {
            let r = norm(m.row(i));
            assert!((0.3 - 1e-12..=2.0 + 1e-12).contains(&r), "{r}");
            lo = lo.min(r);
            hi = hi.max(r);
        }
    }
    // the norms fill the interval
    assert!(lo < 0.4 && hi > 1.9, "{lo} {hi}");
}

#[test]
fn additive_target_matches_a_hand_evaluation() {
    // L = 2, d = 2: F* = sin(b1^T X1/||X1||) + (exp(b2^T X2/||X2||) - 1) + sin(b3^T X2/||X2||)
    let c = AdditiveConcept::new(
        2,
        2,
        vec![
            AdditiveTerm {
                position: 1,
                psi: AnalyticFn::parse("sin").unwrap(),
                beta: vec![0.6, 0.8],
            },
            AdditiveTerm {
                position: 2,
                psi: AnalyticFn::parse("exp").unwrap(),
                beta: vec![1.0, 0.0],
            },
            AdditiveTerm {
                position: 2,
                psi: AnalyticFn::parse("sin").unwrap(),
                beta: vec![0.0, -0.5],
            },
        ],
    )
    .unwrap();
    let x = vec![vec![3.0, 4.0], vec![0.0, 2.0]];
    // X1/||X1|| = (0.6, 0.8): b1·u = 1; X2/||X2|| = (0, 1): b2·u = 0, b3·u = -0.5
    let want = 1f64.sin() + 0.0 + (-0.5f64).sin();
    assert!((c.eval_one(&x) - want).abs() < 1e-14);
    assert_eq!(c.psis_per_position()[1].len(), 2);
    // ||beta|| > 1 and out-of-range positions are rejected
    assert!(AdditiveConcept::new(
        2,
        2,
        vec![AdditiveTerm {
            position: 1,
            psi: AnalyticFn::parse("sin").unwrap(),
            beta: vec![1.0, 1.0],
        }]
    )
    .is_err());
    assert!(AdditiveConcept::new(
        2,
        2,
        vec![AdditiveTerm {
            position: 3,
            psi: AnalyticFn::parse("sin").unwrap(),
            beta: vec![1.0, 0.0],
        }]
    )
    .is_err());
}

#[test]
fn n_variable_target_matches_a_hand_evaluation() {
    // L = 3, d = 1, positions (1, 3): z = (b1 X1 + b2 X3)/(sqrt(2) max(|X1|, |X3|))
    let c = NVariableConcept::new(
        3,
        1,
        vec![1, 3],
        vec![NVariableTerm {
            psi: AnalyticFn::parse("poly:0,1,2").unwrap(),
            beta: vec![0.6, -0.8],
        }],
    )
    .unwrap();
    assert_eq!(c.l0(), 2);
    assert_eq!(c.n_vars(), 2);
    let x = vec![vec![2.0], vec![100.0], vec![-1.0]];
    let z = (0.6 * 2.0 + 0.8) / (2f64.sqrt() * 2.0);
    let want = z + 2.0 * z * z;
    assert!((c.eval_one(&x) - want).abs() < 1e-14);
}

#[test]
fn positions_control_l0() {
    assert_eq!(spread_positions(8, 2, 3), vec![5, 8]);
    assert_eq!(spread_positions(8, 3, 7), vec![1, 5, 8]);
    for n in 2..=6 {
        let p = spread_positions(8, n, 7);
        assert_eq!(p.len(), n);
        assert_eq!(p.iter().max().unwrap() - p.iter().min().unwrap(), 7);
        let mut q = p.clone();
        q.dedup();
        assert_eq!(q.len(), n, "distinct positions {p:?}");
    }
}

#[test]
fn samples_satisfy_the_margin_and_count_drops() {
    let spec = InputSpec {
        len: 4,
        d: 3,
        c_min: 0.5,
        c_max: 1.0,
    };
    let mut g = rng::stream(7, "test");
    let psi = AnalyticFn::parse("exp").unwrap();
    let concept = NVariableConcept::random(4, 3, vec![2, 4], 1, &psi, 1.0, &mut g).unwrap();
    let concept = Concept::NVariable(concept);
    let s = draw(&spec, &concept, 100, 0.2, 100_000, &mut g).unwrap();
    assert_eq!(s.labels.len(), 100);
    assert_eq!(s.drawn, 100 + s.dropped);
    assert!(s.dropped > 0, "a threshold of 0.2 drops some samples");
    // recompute F* from the returned inputs: the raw values, the scale and the margin
    let raw = concept.eval(&s.xs).unwrap();
    for i in 0..100 {
        assert!((raw[i] - s.f_raw[i]).abs() < 1e-14);
        assert!(raw[i].abs() >= 0.2);
        assert!((s.f_star[i] - raw[i] / 0.2).abs() < 1e-12);
        assert!(s.labels[i] * s.f_star[i] >= 1.0, "margin at {i}");
        assert_eq!(s.labels[i], raw[i].signum());
        for m in &s.xs {
            let r = norm(m.row(i));
            assert!((0.5 - 1e-12..=1.0 + 1e-12).contains(&r));
        }
    }
    // an impossible threshold is an error, not a hang
    assert!(draw(&spec, &concept, 10, 1e6, 500, &mut g).is_err());
}

#[test]
fn rnn_kernel_tiny_writes_claims_and_errors_decrease() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = RnnKernelSettings::new(Scale::Quick, 5);
    s.n = 4;
    s.len = 3;
    s.widths = vec![64, 1024];
    s.repeats = 2;
    let (out, r) = rnn_kernel::run(&s, dir.path()).unwrap();
    assert_eq!(r.presets.len(), 2);
    for p in &r.presets {
        assert!(
            p.rel_error[1] < p.rel_error[0],
            "{}: {:?}",
            p.preset,
            p.rel_error
        );
        assert!(p.rate < 0.0);
        assert!(p.cross_fraction.iter().all(|c| c.is_finite()));
    }
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("rnn-kernel/result.json")).unwrap())
            .unwrap();
    assert_eq!(j["settings"]["seed"], 5);
    assert_eq!(j["claims"].as_array().unwrap().len(), out.claims.len());
    assert!(!out.claims.is_empty());
    assert!(dir.path().join("rnn-kernel/rnn_kernel.png").exists());
    assert!(dir.path().join("rnn-kernel/rnn_kernel.csv").exists());
}

fn hand_slope(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (sx, sy) = (x.iter().sum::<f64>(), y.iter().sum::<f64>());
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| a * b).sum();
    let sxx: f64 = x.iter().map(|a| a * a).sum();
    (n * sxy - sx * sy) / (n * sxx - sx * sx)
}

#[test]
fn rnn_length_tiny_is_finite_and_the_exponent_is_a_least_squares_fit() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = LengthSettings::new(Scale::Quick, 2);
    s.n = 12;
    s.lens = vec![2, 3, 4, 6];
    // a small SGD part (its own tests are in src/experiments/rnn_complexity.rs)
    s.sgd.lens = vec![2, 3];
    s.sgd.sizes = vec![20, 40];
    s.sgd.n_test = 20;
    s.sgd.width = 16;
    let (out, r) = rnn_complexity::run_length(&s, dir.path()).unwrap();
    let (mut x, mut y, mut xl) = (Vec::new(), Vec::new(), Vec::new());
    for p in &r.points {
        let c = p
            .complexity
            .unwrap_or_else(|| panic!("skipped: {:?}", p.skipped));
        assert!(c.is_finite() && c > 0.0);
        // y~ = F*/tau: the raw complexity is tau times the scaled one
        assert!((p.complexity_raw.unwrap() - c * s.threshold).abs() < 1e-9 * c);
        assert!(p.closed_form_log10.is_finite());
        x.push((p.len as f64).ln());
        xl.push(p.len as f64);
        y.push(c.ln());
    }
    assert!((r.power_exponent - hand_slope(&x, &y)).abs() < 1e-9);
    assert!((r.exp_rate - hand_slope(&xl, &y)).abs() < 1e-9);
    // the kernel claim, Theorem 4's eq. 20, the two learning-curve claims, Remark 4.2 and
    // Remark 3.1
    assert_eq!(out.claims.len(), 6);
    // Remark 4.2's K(L) = min F^1 lies between 1/2 (F^1_ii) and Remark 4.2's naive
    // estimate 2^-L / 2 (every factor Sigma(rho) >= 1/2 for the non-negative rho of ReLU
    // features)
    assert_eq!(r.backward_min.len(), r.points.len());
    for (k, p) in r.backward_min.iter().zip(&r.points) {
        assert!(
            *k <= 0.5 + 1e-15 && *k >= 0.5f64.powi(p.len as i32 + 1),
            "{k} at {}",
            p.len
        );
    }
    // eq. 20's implied constant is the worst measured complexity over eq. 10's closed form
    let worst = r
        .points
        .iter()
        .map(|p| p.complexity_raw.unwrap() / 10f64.powf(p.closed_form_log10))
        .fold(0.0f64, f64::max);
    assert_eq!(out.claims[1].held(), worst <= s.eq20_constant_cap);
    assert_eq!(
        out.claims[1].measured["measured_over_closed_form"]
            .as_array()
            .unwrap()
            .len(),
        r.points.len()
    );
    assert_eq!(r.curves.len(), 2);
    assert!(dir.path().join("rnn-length/result.json").exists());
}

#[test]
fn rnn_nvar_tiny_is_finite_and_slopes_match() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = NvarSettings::new(Scale::Quick, 3);
    s.n = 12;
    s.len = 5;
    s.ns = vec![2, 3, 4];
    s.l0_for_n = 4;
    s.l0s = vec![1, 2, 4];
    let (out, r) = rnn_complexity::run_nvar(&s, dir.path()).unwrap();
    assert_eq!(out.claims.len(), 2);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for p in &r.by_n {
        let c = p.complexity.expect("not skipped");
        assert!(c.is_finite() && c > 0.0);
        assert_eq!(p.l0, 4);
        x.push(p.n_vars as f64);
        y.push(c.ln());
    }
    assert!((r.rate_n - hand_slope(&x, &y)).abs() < 1e-9);
    for (p, &l0) in r.by_l0.iter().zip(&s.l0s) {
        assert_eq!(p.l0, l0);
        assert_eq!(p.positions, vec![5 - l0, 5]);
        assert!(p.complexity.unwrap().is_finite());
    }
    assert!(dir.path().join("rnn-nvar/result.json").exists());
}
