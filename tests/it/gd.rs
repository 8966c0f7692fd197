//! The two-layer net and GD (seed 001 §3-5) against finite differences, brute-force
//! recounts and the linear dynamics of eq. 7-8.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use widenet::kernels::h_inf;
use widenet::linalg::Matrix;
use widenet::models::TwoLayerNet;
use widenet::rng;
use widenet::theory::spectrum::{predicted_movement, KernelAnalysis};
use widenet::train::{train_gd, train_two_layer, GdConfig, StopReason};
use widenet::Error;

fn unit(n: usize, d: usize, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "test");
    let mut x = Matrix::from_fn(n, d, |_, _| rng::normal(&mut g));
    for i in 0..n {
        let s = x.row(i).iter().map(|v| v * v).sum::<f64>().sqrt();
        x.row_mut(i).iter_mut().for_each(|v| *v /= s);
    }
    x
}

fn signs(n: usize, seed: u64) -> Vec<f64> {
    crate::support::random_signs(n, seed, "labels")
}

#[test]
fn gradient_matches_finite_differences_of_phi() {
    let (n, d, m) = (7, 5, 30);
    let x = unit(n, d, 1);
    let y = signs(n, 2);
    let net = TwoLayerNet::<f64>::init(m, d, 1.0, 3).unwrap();
    let g = net.gradient(&x, &y).unwrap();
    let h = 1e-6;
    for r in [0, 7, 29] {
        for k in 0..d {
            let mut plus = net.clone();
            let mut minus = net.clone();
            plus.w.set(r, k, net.w.get(r, k) + h);
            minus.w.set(r, k, net.w.get(r, k) - h);
            let fd = (plus.loss(&x, &y).unwrap() - minus.loss(&x, &y).unwrap()) / (2.0 * h);
            assert!(
                (fd - g.get(r, k)).abs() < 1e-7,
                "w[{r},{k}]: fd {fd} vs {}",
                g.get(r, k)
            );
        }
    }
}

#[test]
fn init_follows_eq_1() {
    let (m, d, kappa) = (20_000, 3, 0.5);
    let net = TwoLayerNet::<f64>::init(m, d, kappa, 4).unwrap();
    let var = net.w.as_slice().iter().map(|v| v * v).sum::<f64>() / (m * d) as f64;
    assert!((var / (kappa * kappa) - 1.0).abs() < 0.03, "variance {var}");
    assert!(net.a.iter().all(|a| *a == 1.0 || *a == -1.0));
    let mean_a = net.a.iter().sum::<f64>() / m as f64;
    assert!(mean_a.abs() < 0.03);
    // same seed, same net; f32 is the f64 net rounded
    let n32 = TwoLayerNet::<f32>::init(m, d, kappa, 4).unwrap();
    assert!((n32.w.get(5, 1) as f64 - net.w.get(5, 1)).abs() < 1e-6);
}

#[test]
fn wide_net_follows_eq_8_and_moves_sqrt_y_hinv_y() {
    // small n, large m, small κ: Theorem 4.1 and Lemma 5.3. "Large" is relative to the
    // movement: each neuron moves about sqrt(yᵀH⁻¹y)/√m, which must be small next to
    // its initial norm κ√d for the activation patterns (and so H(k)) to stay put.
    let (n, d, m) = (20, 100, 50_000);
    let x = unit(n, d, 5);
    let y = signs(n, 6);
    let h = h_inf(&x).unwrap();
    let ka = KernelAnalysis::new(&h).unwrap();
    let eta = 1.0 / ka.eigen.values[0];
    let steps = 300;
    let a = ka.analyze(&y, eta, steps).unwrap();
    let cfg = GdConfig {
        eta,
        max_steps: steps,
        loss_tol: 0.0,
        eval_every: 1,
        progress: false,
    };
    let o = train_two_layer::<f64>(&x, &y, None, m, 0.05, 7, &cfg).unwrap();
    let phi0 = o.metrics.loss[0];
    let dev = o
        .metrics
        .loss
        .iter()
        .zip(&a.predicted_loss)
        .map(|(p, q)| (p - q).abs() / phi0)
        .fold(0.0, f64::max);
    eprintln!("max deviation {dev}");
    assert!(dev < 0.02, "max |Phi - predicted| / Phi(0) = {dev}");
    // converged: distance from init close to sqrt(y^T H^-1 y)
    assert!(
        o.metrics.loss.last().unwrap() / phi0 < 1e-4,
        "did not converge"
    );
    let moved = *o.metrics.w_dist_fro.last().unwrap();
    let target = a.y_hinv_y.sqrt();
    assert!(
        (moved / target - 1.0).abs() < 0.05,
        "moved {moved} vs sqrt(yHy) {target}"
    );
    // and the finite-k linearized prediction agrees at every checkpoint
    let proj = ka.eigen.project(&y).unwrap();
    for k in [3, 10, 100] {
        let p = predicted_movement(&ka.eigen.values, &proj, eta, k);
        let got = o.metrics.w_dist_fro[k];
        assert!((got / p - 1.0).abs() < 0.05, "k = {k}: {got} vs {p}");
    }
    // per-neuron movement is tiny compared with the total (Lemma 5.3 first part)
    assert!(*o.metrics.w_dist_max.last().unwrap() < moved / 10.0);
}

#[test]
fn recorded_distances_and_pattern_changes_match_a_recount() {
    let (n, d, m) = (12, 4, 200);
    let x = unit(n, d, 8);
    let y = signs(n, 9);
    let cfg = GdConfig {
        eta: 0.05,
        max_steps: 50,
        loss_tol: 0.0,
        eval_every: 1,
        progress: false,
    };
    let o = train_two_layer::<f64>(&x, &y, None, m, 0.1, 10, &cfg).unwrap();
    // brute-force recount of ‖W − W0‖_F, max_r ‖w_r − w0_r‖ and flipped patterns
    let mut fro = 0.0;
    let mut mx: f64 = 0.0;
    let mut flips = 0;
    for r in 0..m {
        let dr: f64 = (0..d)
            .map(|k| (o.net.w.get(r, k) - o.w0.get(r, k)).powi(2))
            .sum();
        fro += dr;
        mx = mx.max(dr.sqrt());
        for i in 0..n {
            let now: f64 = (0..d).map(|k| o.net.w.get(r, k) * x.get(i, k)).sum();
            let then: f64 = (0..d).map(|k| o.w0.get(r, k) * x.get(i, k)).sum();
            if (now >= 0.0) != (then >= 0.0) {
                flips += 1;
            }
        }
    }
    let last = o.metrics.loss.len() - 1;
    assert_eq!(last, 50);
    assert!((o.metrics.w_dist_fro[last] - fro.sqrt()).abs() < 1e-12);
    assert!((o.metrics.w_dist_max[last] - mx).abs() < 1e-12);
    assert!((o.metrics.pattern_changed[last] - flips as f64 / (m * n) as f64).abs() < 1e-15);
    assert_eq!(o.metrics.pattern_changed[0], 0.0);
    assert!(flips > 0, "choose a setting where some patterns flip");
    // the final loss equals a fresh evaluation of Φ at the final weights
    assert!((o.metrics.loss[last] - o.net.loss(&x, &y).unwrap()).abs() < 1e-12);
}

#[test]
fn f32_and_f64_training_agree() {
    let (n, d, m) = (30, 8, 1000);
    let x = unit(n, d, 11);
    let y = signs(n, 12);
    let cfg = GdConfig {
        eta: 0.05,
        max_steps: 100,
        loss_tol: 0.0,
        eval_every: 1,
        progress: false,
    };
    let a = train_two_layer::<f64>(&x, &y, None, m, 0.01, 13, &cfg).unwrap();
    let b = train_two_layer::<f32>(&x, &y, None, m, 0.01, 13, &cfg).unwrap();
    for (p, q) in a.metrics.loss.iter().zip(&b.metrics.loss) {
        assert!((p - q).abs() <= 1e-4 * p.max(1e-3), "{p} vs {q}");
    }
}

#[test]
fn loss_tolerance_stops_early_and_test_metrics_are_recorded() {
    let (n, d, m) = (16, 6, 2000);
    let x = unit(n, d, 14);
    let y = signs(n, 15);
    let xt = unit(10, d, 16);
    let yt = signs(10, 17);
    let cfg = GdConfig {
        eta: 0.2,
        max_steps: 100_000,
        loss_tol: 1e-3,
        eval_every: 10,
        progress: false,
    };
    let o = train_two_layer::<f64>(&x, &y, Some((&xt, &yt)), m, 0.01, 18, &cfg).unwrap();
    assert_eq!(o.stop, StopReason::LossTolerance);
    assert!(*o.metrics.loss.last().unwrap() <= 1e-3);
    assert!(o.metrics.loss[o.metrics.loss.len() - 2] > 1e-3);
    // test metrics at the end equal a direct evaluation
    let u = o.net.predict(&xt).unwrap();
    let l1 = u.iter().zip(&yt).map(|(a, b)| (a - b).abs()).sum::<f64>() / 10.0;
    let err = u
        .iter()
        .zip(&yt)
        .filter(|(a, b)| a.signum() != b.signum())
        .count() as f64
        / 10.0;
    assert_eq!(*o.metrics.test_iteration.last().unwrap(), o.iterations);
    assert!((o.metrics.test_l1.last().unwrap() - l1).abs() < 1e-12);
    assert!((o.metrics.test_error.last().unwrap() - err).abs() < 1e-12);
    // ℓ1 loss bounds the 0-1 error for ±1 labels
    assert!(l1 >= err);
}

#[test]
fn divergence_is_detected_with_a_suggestion() {
    let x = unit(20, 5, 19);
    let y = signs(20, 20);
    let net = TwoLayerNet::<f64>::init(100, 5, 0.1, 21).unwrap();
    let cfg = GdConfig {
        eta: 10.0,
        max_steps: 500,
        loss_tol: 0.0,
        eval_every: 1,
        progress: false,
    };
    match train_gd(net, &x, &y, None, &cfg) {
        Err(Error::Diverged { eta, suggest, .. }) => {
            assert_eq!(eta, 10.0);
            assert!(suggest < eta);
        }
        other => panic!("expected divergence, got {:?}", other.map(|o| o.iterations)),
    }
    let msg = train_gd(
        TwoLayerNet::<f64>::init(100, 5, 0.1, 21).unwrap(),
        &x,
        &y,
        None,
        &cfg,
    )
    .unwrap_err()
    .to_string();
    assert!(msg.contains("--eta"), "{msg}");
}

#[test]
fn shape_errors_are_reported() {
    let x = unit(5, 3, 22);
    let net = TwoLayerNet::<f64>::init(10, 4, 0.1, 23).unwrap();
    assert!(net
        .predict(&x)
        .unwrap_err()
        .to_string()
        .contains("dimension"));
    let net = TwoLayerNet::<f64>::init(10, 3, 0.1, 23).unwrap();
    let cfg = GdConfig::default();
    assert!(train_gd(net, &x, &[1.0, 2.0], None, &cfg)
        .unwrap_err()
        .to_string()
        .contains("labels"));
}

/// The forward pass and ‖W − W(0)‖ add their parallel partial sums in a fixed
/// order, so the same inputs give the same bits however many threads rayon has
/// and however it splits the work; the outputs equal a direct sum of eq. 2.
#[test]
fn outputs_and_distances_are_bitwise_reproducible_across_thread_counts() {
    let (n, d, m) = (37, 6, 3000);
    let x = unit(n, d, 4);
    let net = TwoLayerNet::<f64>::init(m, d, 1.0, 5).unwrap();
    let moved = TwoLayerNet::<f64>::init(m, d, 1.0, 6).unwrap();
    let run = |t: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
            .install(|| {
                let u = net.predict(&x).unwrap();
                let (fro, mx) = widenet::train::gd::weight_distances(&moved.w, &net.w);
                (
                    u.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    fro.to_bits(),
                    mx.to_bits(),
                )
            })
    };
    let base = run(1);
    for t in [2, 3, 4, 4, 4, 8] {
        assert!(run(t) == base, "{t} threads give different bits");
    }
    let u = net.predict(&x).unwrap();
    for i in 0..n {
        let direct: f64 = (0..m)
            .map(|r| {
                let z: f64 = (0..d).map(|k| net.w.get(r, k) * x.get(i, k)).sum();
                net.a[r] * z.max(0.0)
            })
            .sum::<f64>()
            / (m as f64).sqrt();
        assert!(
            (u[i] - direct).abs() < 1e-12,
            "output {i}: {} vs {direct}",
            u[i]
        );
    }
}
