//! The infinite-width prediction against real training: seed 001's two-layer ReLU
//! network (src/models/two_layer.rs) trained by full-batch GD (src/train/gd.rs, eq. 6 on
//! Φ = ½Σ(u − y)², so `LossNorm::Sum`, `Schedule::Steps`) at growing width m. Its test
//! outputs approach f₀(X*) + H^∞(X*, X)(H^∞)⁻¹(I − (I − ηH^∞)^k)(y − u(0)) from the
//! initialization the run returns, the gap shrinking with m (about 1/√m).

use widenet::kernels::relu_ntk::{h_inf, h_inf_cross};
use widenet::linalg::Matrix;
use widenet::models::two_layer::TwoLayerNet;
use widenet::rng;
use widenet::theory::predict::{gradient_descent_mse, Dynamics, LossNorm, Schedule};
use widenet::train::gd::{train_two_layer, GdConfig};

#[test]
fn trained_network_approaches_the_predicted_mean_as_width_grows() {
    let (n, n_test, d) = (20, 8, 5);
    let mut g = rng::stream(3, "predict-training");
    let x = widenet::data::synthetic::unit_sphere(n, d, &mut g);
    let xt = widenet::data::synthetic::unit_sphere(n_test, d, &mut g);
    let y: Vec<f64> = (0..n)
        .map(|i| if x.get(i, 0) > 0.0 { 1.0 } else { -1.0 })
        .collect();
    let (eta, steps) = (0.1, 300usize);
    let k = h_inf(&x).unwrap();
    let kt = h_inf_cross(&xt, &x).unwrap();
    let cfg = GdConfig {
        eta,
        max_steps: steps,
        ..GdConfig::default()
    };
    let dynamics = Dynamics {
        times: vec![steps as f64],
        learning_rate: eta,
        schedule: Schedule::Steps,
        ridge: 0.0,
        loss_norm: LossNorm::Sum,
    };
    let col = |v: Vec<f64>| Matrix::from_vec(v.len(), 1, v).unwrap();
    let mut errors = vec![];
    for m in [200usize, 2_000, 20_000] {
        let run = train_two_layer::<f64>(&x, &y, None, m, 1.0, 7, &cfg).unwrap();
        assert_eq!(run.iterations, steps);
        let init = TwoLayerNet {
            w: run.w0.clone(),
            a: run.net.a.clone(),
        };
        let f0 = col(run.u0.clone());
        let f0t = col(init.predict(&xt).unwrap());
        let p = gradient_descent_mse(
            &k,
            &col(y.clone()),
            Some(&kt),
            Some(&f0),
            Some(&f0t),
            &dynamics,
        )
        .unwrap();
        let pred = &p.test.as_ref().unwrap()[0];
        let got = run.net.predict(&xt).unwrap();
        let gap: f64 = got
            .iter()
            .zip(pred.as_slice())
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        let moved: f64 = pred
            .as_slice()
            .iter()
            .zip(f0t.as_slice())
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        // the train outputs too
        let tr_gap: f64 = run
            .u
            .iter()
            .zip(p.train[0].as_slice())
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        errors.push((m, gap / moved, tr_gap));
    }
    eprintln!("(m, test gap / test change, train gap): {errors:?}");
    for w in errors.windows(2) {
        assert!(
            w[1].1 < w[0].1 / 2.0,
            "test gap did not fall with m: {errors:?}"
        );
        assert!(
            w[1].2 < w[0].2 / 2.0,
            "train gap did not fall with m: {errors:?}"
        );
    }
    assert!(errors[2].1 < 0.05, "{errors:?}");
}
