//! Seed 003's learners and SGD against independent references: finite
//! differences, hand-written forward passes and a hand-rolled momentum update.

use crate::support::max_abs_diff;
use widenet::data::resnet_targets::Fig2Target;
use widenet::error::Error;
use widenet::linalg::Matrix;
use widenet::models::learner::Learner;
use widenet::models::resnet::{eq21_forward, Fc2, Fc3, Init, Last, LearnerKind, Ntk, ResNet3};
use widenet::rng;
use widenet::train::sgd::{grid_125, grid_search, ladder_step, train, SgdConfig, SgdState, Split};

fn gauss(r: usize, c: usize, s: f64, seed: u64, what: &str) -> Matrix<f64> {
    let mut g = rng::stream(seed, what);
    Matrix::from_fn(r, c, |_, _| s * rng::normal(&mut g))
}

fn relu(z: f64) -> f64 {
    z.max(0.0)
}

/// Moves every trained group by N(0, s²) noise so gradients are tested away from init.
fn perturb(l: &mut dyn Learner, s: f64, seed: u64) {
    for (i, p) in l.params_mut().into_iter().enumerate() {
        let noise = gauss(p.rows(), p.cols(), s, seed + i as u64, "perturb");
        for (a, b) in p.as_mut_slice().iter_mut().zip(noise.as_slice()) {
            *a += b;
        }
    }
}

/// Largest |analytic − central difference| / max(1, scale) over every trained entry.
fn fd_check(l: &mut dyn Learner, x: &Matrix<f64>, y: &Matrix<f64>) -> f64 {
    let (_, grads) = l.loss_and_grads(x, y).unwrap();
    let h = 1e-6;
    let mut worst = 0.0f64;
    let ngroups = grads.len();
    for (gi, grad) in grads.iter().enumerate().take(ngroups) {
        for e in 0..grad.as_slice().len() {
            let orig = l.params()[gi].as_slice()[e];
            l.params_mut()[gi].as_mut_slice()[e] = orig + h;
            let lp = l.loss(x, y).unwrap();
            l.params_mut()[gi].as_mut_slice()[e] = orig - h;
            let lm = l.loss(x, y).unwrap();
            l.params_mut()[gi].as_mut_slice()[e] = orig;
            let fd = (lp - lm) / (2.0 * h);
            let an = grad.as_slice()[e];
            worst = worst.max((an - fd).abs() / an.abs().max(1e-3));
        }
    }
    worst
}

fn toy(n: usize, d: usize, k: usize, seed: u64) -> (Matrix<f64>, Matrix<f64>) {
    (
        gauss(n, d, 1.0, seed, "toy-x"),
        gauss(n, k, 1.0, seed, "toy-y"),
    )
}

#[test]
fn gradients_match_finite_differences() {
    let (d, m, k, n) = (4, 7, 3, 5);
    let (x, y) = toy(n, d, k, 1);
    let mut learners: Vec<Box<dyn Learner>> = vec![
        Box::new(ResNet3::new(d, m, k, Init::Experiment, 1.0, 2).unwrap()),
        Box::new(
            ResNet3::new(
                d,
                m,
                k,
                Init::Theory {
                    sigma_w: 0.8,
                    sigma_v: 3.0,
                },
                0.5,
                3,
            )
            .unwrap(),
        ),
        Box::new(Fc2::new(d, m, k, 4).unwrap()),
        Box::new(Fc3::new(d, m, k, 5).unwrap()),
        Box::new(Last::new(d, m, k, 6).unwrap()),
        Box::new(Ntk::new(d, m, k, 7).unwrap()),
    ];
    for (i, l) in learners.iter_mut().enumerate() {
        perturb(l.as_mut(), 0.1, 100 + i as u64);
        let err = fd_check(l.as_mut(), &x, &y);
        println!("{} (#{i}): max relative FD error {err:.3e}", l.name());
        assert!(err < 1e-5, "{}: FD error {err:e}", l.name());
    }
}

#[test]
fn ntk_model_equals_network_at_init() {
    let (d, m, k, n) = (5, 9, 2, 6);
    let (x, y) = toy(n, d, k, 11);
    let net = Fc2::new(d, m, k, 12).unwrap();
    let lin = Ntk::from_fc2(&net);
    let (f, fl) = (net.forward(&x).unwrap(), lin.forward(&x).unwrap());
    let dout = max_abs_diff(f.as_slice(), fl.as_slice());
    let (_, g) = net.loss_and_grads(&x, &y).unwrap();
    let (_, gl) = lin.loss_and_grads(&x, &y).unwrap();
    let dgrad = max_abs_diff(g[0].as_slice(), gl[0].as_slice());
    println!("ntk at W0: max |f - f_lin| = {dout:.3e}, max |grad diff| = {dgrad:.3e}");
    assert!(dout < 1e-12 && dgrad < 1e-12);
    // Away from W0 the linear model is exactly linear in W: f_lin(W0 + 2Δ) − f_lin(W0)
    // = 2 (f_lin(W0 + Δ) − f_lin(W0)).
    let mut l1 = lin.clone();
    perturb(&mut l1, 0.3, 13);
    let mut l2 = lin.clone();
    for ((p2, p1), p0) in
        l2.w.as_mut_slice()
            .iter_mut()
            .zip(l1.w.as_slice())
            .zip(lin.w.as_slice())
    {
        *p2 = p0 + 2.0 * (p1 - p0);
    }
    let (o0, o1, o2) = (fl, l1.forward(&x).unwrap(), l2.forward(&x).unwrap());
    for i in 0..o0.as_slice().len() {
        let (a, b, c) = (o0.as_slice()[i], o1.as_slice()[i], o2.as_slice()[i]);
        assert!((c - a - 2.0 * (b - a)).abs() < 1e-12);
    }
}

#[test]
fn last_trains_only_the_output_layer() {
    let (d, m, k, n) = (6, 10, 3, 20);
    let (x, y) = toy(n, d, k, 21);
    let mut l = Last::new(d, m, k, 22).unwrap();
    let before = l.clone();
    let cfg = SgdConfig::paper(0.05, 1e-3, 2, 23);
    train(&mut l, &x, &y, None, &cfg).unwrap();
    assert_eq!(l.w0, before.w0, "random features must stay fixed");
    let moved = (0..k * m)
        .map(|e| (l.a.as_slice()[e] - before.a.as_slice()[e]).abs())
        .fold(0.0, f64::max);
    println!("last: output layer moved by up to {moved:.3e}, features unchanged");
    assert!(moved > 1e-3);
    assert_eq!(l.num_trained(), k * m);
    // and the hidden-trained nets leave A fixed
    let mut f = Fc2::new(d, m, k, 22).unwrap();
    let a0 = f.a.clone();
    train(&mut f, &x, &y, None, &cfg).unwrap();
    assert_eq!(f.a, a0);
    assert_eq!(f.num_trained(), m * (d + 1));
}

#[test]
fn resnet_reparameterized_form_by_hand() {
    let (d, m, k, n) = (3, 5, 2, 4);
    let (x, _) = toy(n, d, k, 31);
    let net = ResNet3::new(
        d,
        m,
        k,
        Init::Theory {
            sigma_w: 1.0,
            sigma_v: 2.0,
        },
        1.0,
        32,
    )
    .unwrap();
    let (dw, dv) = net.deviation();
    assert!(dw.frobenius() == 0.0 && dv.frobenius() == 0.0, "W = V = 0");
    let out = net.forward(&x).unwrap();
    let mut worst = 0.0f64;
    for i in 0..n {
        // out_1 = A σ(W0 (x, 1))
        let h1: Vec<f64> = (0..m)
            .map(|r| {
                relu((0..d).map(|c| net.w0.get(r, c) * x.get(i, c)).sum::<f64>() + net.w0.get(r, d))
            })
            .collect();
        let o1: Vec<f64> = (0..k)
            .map(|j| (0..m).map(|r| net.a.get(j, r) * h1[r]).sum())
            .collect();
        // out = out_1 + A σ(V0 (out_1, 1))
        let h2: Vec<f64> = (0..m)
            .map(|r| relu((0..k).map(|c| net.v0.get(r, c) * o1[c]).sum::<f64>() + net.v0.get(r, k)))
            .collect();
        for (j, o1j) in o1.iter().enumerate() {
            let want = o1j + (0..m).map(|r| net.a.get(j, r) * h2[r]).sum::<f64>();
            worst = worst.max((out.get(i, j) - want).abs());
        }
    }
    println!("resnet3 at W = V = 0 vs hand: max diff {worst:.3e}");
    assert!(worst < 1e-12);
    // eq. (2.1) with U = V_{:,1..k} A, b2 = V_{:,k+1} agrees with the §6 form, also after moving W, V
    let mut moved = net.clone();
    perturb(&mut moved, 0.2, 33);
    let (w, b1, u, b2) = moved.to_eq21().unwrap();
    let e21 = eq21_forward(&x, &moved.a, &w, &b1, &u, &b2).unwrap();
    let f6 = moved.forward(&x).unwrap();
    let diff = max_abs_diff(e21.as_slice(), f6.as_slice());
    println!("eq. (2.1) vs §6 form: max diff {diff:.3e}");
    assert!(diff < 1e-12);
}

fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mu = v.iter().sum::<f64>() / n;
    (mu, v.iter().map(|x| (x - mu) * (x - mu)).sum::<f64>() / n)
}

fn check(name: &str, v: &[f64], var: f64, tol: f64) {
    let (mu, s2) = mean_var(v);
    println!(
        "{name}: mean {mu:+.4}, variance {s2:.5} (want {var:.5}, ratio {:.3})",
        s2 / var
    );
    assert!(
        mu.abs() < 4.0 * (var / v.len() as f64).sqrt() + 1e-12,
        "{name} mean"
    );
    assert!((s2 / var - 1.0).abs() < tol, "{name} variance");
}

#[test]
fn initializations_draw_the_stated_variances() {
    let (d, m, k) = (30, 400, 8);
    let col = |a: &Matrix<f64>, c: usize| (0..a.rows()).map(|r| a.get(r, c)).collect::<Vec<_>>();
    let weights = |a: &Matrix<f64>, c: usize| {
        (0..a.rows())
            .flat_map(|r| a.row(r)[..c].to_vec())
            .collect::<Vec<_>>()
    };
    // App. A: A, V, biases ~ N(0, 1/m); W ~ N(0, 1/d)
    let e = ResNet3::new(d, m, k, Init::Experiment, 1.0, 41).unwrap();
    check("exp A", e.a.as_slice(), 1.0 / m as f64, 0.1);
    check("exp W", &weights(&e.w0, d), 1.0 / d as f64, 0.1);
    check("exp b1", &col(&e.w0, d), 1.0 / m as f64, 0.25);
    check("exp V", e.v0.as_slice(), 1.0 / m as f64, 0.1);
    // Table 1: A ~ N(0, 1/m), W0 ~ N(0, σ_w²), V0 ~ N(0, σ_v²/m)
    let (sw, sv) = (0.6, 3.0);
    let t = ResNet3::new(
        d,
        m,
        k,
        Init::Theory {
            sigma_w: sw,
            sigma_v: sv,
        },
        1.0,
        42,
    )
    .unwrap();
    check("theory A", t.a.as_slice(), 1.0 / m as f64, 0.1);
    check("theory W0", t.w0.as_slice(), sw * sw, 0.1);
    check("theory V0", t.v0.as_slice(), sv * sv / m as f64, 0.1);
    assert!(
        matches!(Init::table1(4096, 1.0), Init::Theory { sigma_w, .. } if (sigma_w - 0.35355339059327373).abs() < 1e-12)
    );
    // fully connected nets
    let f3 = Fc3::new(d, m, k, 43).unwrap();
    check("fc3 W1", &weights(&f3.w1, d), 1.0 / d as f64, 0.1);
    check("fc3 W2", f3.w2.as_slice(), 1.0 / m as f64, 0.05);
}

#[test]
fn momentum_matches_hand_rolled_update() {
    let (d, m, k, n) = (4, 6, 2, 8);
    let (x, y) = toy(n, d, k, 51);
    let mut l = Last::new(d, m, k, 52).unwrap();
    let h = l.features(&x).unwrap();
    let (lr, wd, mu) = (0.1, 0.01, 0.9);
    // hand: g = (1/n) Σ_i (A h_i − y_i) h_iᵀ + wd A; b = μ b + g; A −= lr b
    let mut a = l.a.clone();
    let mut b = Matrix::<f64>::zeros(k, m);
    let mut state = SgdState::new(&l, mu, wd);
    for step in 0..3 {
        let mut g = Matrix::<f64>::zeros(k, m);
        for i in 0..n {
            for j in 0..k {
                let o: f64 = (0..m).map(|r| a.get(j, r) * h.get(i, r)).sum();
                let res = (o - y.get(i, j)) / n as f64;
                for r in 0..m {
                    g.set(j, r, g.get(j, r) + res * h.get(i, r));
                }
            }
        }
        for j in 0..k {
            for r in 0..m {
                let gg = g.get(j, r) + wd * a.get(j, r);
                b.set(j, r, mu * b.get(j, r) + gg);
                a.set(j, r, a.get(j, r) - lr * b.get(j, r));
            }
        }
        state.step(&mut l, &x, &y, lr).unwrap();
        let diff = max_abs_diff(a.as_slice(), l.a.as_slice());
        println!("step {}: max |A_hand − A_sgd| = {diff:.3e}", step + 1);
        assert!(diff < 1e-13);
    }
    // on this convex quadratic the loss decreases
    let mut l = Last::new(d, m, k, 52).unwrap();
    let mut state = SgdState::new(&l, mu, 0.0);
    let l0 = l.loss(&x, &y).unwrap();
    for _ in 0..200 {
        state.step(&mut l, &x, &y, 0.05).unwrap();
    }
    let l1 = l.loss(&x, &y).unwrap();
    println!("last, full-batch momentum SGD: loss {l0:.4} -> {l1:.4}");
    assert!(l1 < 0.5 * l0);
}

#[test]
fn resnet_learning_rate_ratio_scales_v_step() {
    let (d, m, k, n) = (4, 6, 2, 8);
    let (x, y) = toy(n, d, k, 55);
    let base = ResNet3::new(d, m, k, Init::Experiment, 1.0, 56).unwrap();
    let (_, g) = base.loss_and_grads(&x, &y).unwrap();
    let mut r = base.clone();
    r.lr_v_ratio = 0.25;
    let mut st = SgdState::new(&r, 0.9, 0.0);
    st.step(&mut r, &x, &y, 0.1).unwrap();
    for e in 0..g[1].as_slice().len() {
        let want = base.v.as_slice()[e] - 0.025 * g[1].as_slice()[e];
        assert!((r.v.as_slice()[e] - want).abs() < 1e-14);
    }
    for e in 0..g[0].as_slice().len() {
        let want = base.w.as_slice()[e] - 0.1 * g[0].as_slice()[e];
        assert!((r.w.as_slice()[e] - want).abs() < 1e-14);
    }
}

#[test]
fn schedule_divides_learning_rate_after_e_epochs() {
    let cfg = SgdConfig::paper(0.2, 0.0, 3, 61);
    assert_eq!(cfg.momentum, 0.9);
    assert_eq!(cfg.batch, 50);
    let (x, y) = toy(120, 4, 2, 62);
    let mut l = Fc2::new(4, 8, 2, 63).unwrap();
    let cfg = SgdConfig { lr: 0.01, ..cfg };
    let hist = train(&mut l, &x, &y, Some((&x, &y)), &cfg).unwrap();
    let lrs: Vec<f64> = hist.epochs.iter().map(|e| e.lr).collect();
    println!("per-epoch learning rates {lrs:?}");
    assert_eq!(lrs.len(), 6);
    assert!(lrs[..3].iter().all(|&v| v == 0.01));
    assert!(lrs[3..].iter().all(|&v| (v - 0.001).abs() < 1e-18));
    assert!(hist.epochs.iter().all(|e| e.test_error.is_some()));
    let g = grid_125(-2, -1);
    let want = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5];
    assert!(g.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-15));
}

/// One step along App. A's ladder {1, 2, 5}×10^k gives grid_125's neighbours, bit for
/// bit, in both directions; values off the ladder are refused, naming the grid.
#[test]
fn ladder_steps_walk_grid_125_exactly() {
    let g = grid_125(-6, 3);
    for w in g.windows(2) {
        assert_eq!(ladder_step(w[0], true).unwrap(), w[1]);
        assert_eq!(ladder_step(w[1], false).unwrap(), w[0]);
    }
    for bad in [0.0, -1.0, 3e-2, 1.5, f64::NAN, f64::INFINITY] {
        let e = ladder_step(bad, true).unwrap_err().to_string();
        assert!(e.contains("grid") && e.contains("ladder"), "{bad}: {e}");
    }
}

#[test]
fn divergent_learning_rate_is_reported_not_panicked() {
    let (d, m, k) = (6, 16, 2);
    let (x, y) = toy(100, d, k, 71);
    let mut l = Fc2::new(d, m, k, 72).unwrap();
    let r = train(&mut l, &x, &y, None, &SgdConfig::paper(1e3, 0.0, 2, 73));
    match r {
        Err(Error::Diverged { iter, loss, .. }) => {
            println!("lr = 1e3 diverged at step {iter}, loss {loss:.3e}")
        }
        other => panic!("expected divergence, got {other:?}"),
    }
    let (xv, yv) = toy(50, d, k, 74);
    let (xt, yt) = toy(50, d, k, 75);
    let res = grid_search(
        |s| LearnerKind::Fc2.build(d, m, k, s),
        Split { x: &x, y: &y },
        Split { x: &xv, y: &yv },
        Split { x: &xt, y: &yt },
        &[1e-2, 1e3],
        &[0.0, 1e-3],
        2,
        76,
    )
    .unwrap();
    println!(
        "grid: {} of {} diverged; selected by validation: {:?}; paper's choice (best test): {:?}",
        res.diverged(),
        res.points.len(),
        res.by_validation,
        res.paper_choice_best_test
    );
    assert_eq!(res.points.len(), 4);
    assert_eq!(res.diverged(), 2);
    let sel = res.by_validation.unwrap();
    assert_eq!(res.points[sel].lr, 1e-2);
    assert!(res.selected_test_error().unwrap().is_finite());
    assert!(res.paper_best_test_error().unwrap() <= res.selected_test_error().unwrap());
}

#[test]
fn end_to_end_fig2_reduces_training_error() {
    let target = Fig2Target::default();
    let (x, y) = target.sample(200, 81).unwrap();
    let (xt, yt) = target.sample(200, 82).unwrap();
    let (d, k) = (x.cols(), y.cols());
    for kind in LearnerKind::ALL {
        let mut l = kind.build(d, 64, k, 83).unwrap();
        let hist = train(
            l.as_mut(),
            &x,
            &y,
            Some((&xt, &yt)),
            &SgdConfig::paper(0.05, 1e-4, 10, 84),
        )
        .unwrap();
        println!(
            "{}: train error {:.3} -> {:.3}, test error {:.3}",
            kind.name(),
            hist.initial_train_error,
            hist.final_train_error,
            hist.final_test_error.unwrap()
        );
        assert!(hist.final_train_error < 0.8 * hist.initial_train_error);
    }
}
