//! A requested interrupt (Ctrl-C in the CLI, KeyboardInterrupt in Python) stops every long
//! library loop with `Error::Interrupted`, and clearing it lets the same calls finish.
//! The interrupt flag is process-wide, so no other test may run beside it (the binary's
//! tests run one at a time, `crate::serial`).

use widenet::error::Error;
use widenet::kernels::{classic, fc, h_inf, h_inf_cross, rnn_infinite};
use widenet::linalg::Matrix;
use widenet::models::krr;
use widenet::models::rnn::{Objective, Preset, Rnn};
use widenet::models::rnn_ntk;
use widenet::rng;
use widenet::runtime::{clear_interrupt, request_interrupt};
use widenet::train::rnn_sgd::{train_rnn_sgd, RnnData, RnnSgdConfig};
use widenet::train::{train_two_layer, GdConfig};

fn gauss(n: usize, d: usize, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "test/interrupt");
    Matrix::from_fn(n, d, |_, _| rng::normal(&mut g))
}

/// Runs every long computation once on small inputs, returning each call's result.
fn all_calls() -> Vec<(&'static str, Result<(), Error>)> {
    let x = gauss(40, 5, 1);
    let x2 = gauss(7, 5, 2);
    let y: Vec<f64> = (0..40)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let xs: Vec<Matrix<f64>> = (0..3).map(|l| gauss(40, 2, 10 + l)).collect();
    let gd = GdConfig {
        eta: 1e-3,
        max_steps: 5,
        loss_tol: 0.0,
        eval_every: 1,
        progress: false,
    };
    let k = h_inf(&x).unwrap_or_else(|_| Matrix::zeros(40, 40));
    let ym = Matrix::from_fn(40, 1, |i, _| y[i]);
    let obj = Objective::wang();
    let sgd = RnnSgdConfig {
        steps: 3,
        ..RnnSgdConfig::default()
    };
    vec![
        ("h_inf", h_inf(&x).map(drop)),
        ("h_inf f32", h_inf(&x.cast::<f32>()).map(drop)),
        ("h_inf_cross", h_inf_cross(&x, &x2).map(drop)),
        (
            "fc_ntk_gram",
            fc::fc_ntk_gram(&x, 3, fc::FcTrained::All).map(drop),
        ),
        (
            "fc_ntk",
            fc::fc_ntk(&x, &x2, 3, fc::FcTrained::All).map(drop),
        ),
        ("gaussian", classic::gaussian_gram(&x, 2.0).map(drop)),
        ("arcsin", classic::arcsin(&x, &x2).map(drop)),
        (
            "rnn infinite",
            rnn_infinite::rnn_ntk_infinite(Preset::Wang, &xs).map(drop),
        ),
        (
            "rnn empirical",
            Rnn::<f64>::init(Preset::Wang, 16, 2, 1, 3, 0)
                .and_then(|net| rnn_ntk::rnn_ntk(&net, &xs))
                .map(drop),
        ),
        (
            "gd",
            train_two_layer::<f64>(&x, &y, None, 20, 1.0, 0, &gd).map(drop),
        ),
        (
            "krr search",
            krr::search_lambda(&k, &ym, &k, &ym, &[1e-3, 1e-2]).map(drop),
        ),
        (
            "rnn sgd",
            RnnData::from_labels(xs.clone(), &y, &obj).and_then(|d| {
                let net = Rnn::<f64>::init(Preset::Wang, 16, 2, 1, 3, 0)?;
                train_rnn_sgd(net, &d, None, &obj, &sgd).map(drop)
            }),
        ),
    ]
}

#[test]
fn a_requested_interrupt_stops_every_long_loop_and_clearing_it_resumes() {
    let _serial = crate::serial();
    request_interrupt();
    for (name, r) in all_calls() {
        assert!(
            matches!(r, Err(Error::Interrupted)),
            "{name} did not stop on the interrupt: {r:?}"
        );
    }
    clear_interrupt();
    for (name, r) in all_calls() {
        assert!(r.is_ok(), "{name} failed after clear_interrupt: {r:?}");
    }
}
