//! The recurrent layer of the compositional kernel engine (issue 23) against
//! independent references: the hand-written infinite-width recurrent NTK of both
//! presets ([`widenet::kernels::rnn_infinite`], seed 004 eq. 25/28) and its forward
//! correlations, the feed-forward engine for a one-step recurrence, and the spec
//! grammar's errors.

use widenet::error::Error;
use widenet::kernels::compose::{
    composed_cross, composed_gram, sequence_input, Arch, ComposedKernel, Output,
};
use widenet::kernels::rnn_infinite::{forward_correlations, rnn_ntk_infinite, Preset};
use widenet::kernels::tile::dense_f64;
use widenet::linalg::Matrix;
use widenet::rng;

/// `len` step matrices n × d of standard normals (rnn_infinite's layout) and the
/// same data as one n × (len·d) matrix (the composed kernel's).
fn sequences(n: usize, len: usize, d: usize, seed: u64) -> (Vec<Matrix<f64>>, Matrix<f64>) {
    let mut g = rng::stream(seed, "test/compose-rnn");
    let flat = Matrix::from_fn(n, len * d, |_, _| rng::normal(&mut g));
    let steps = (0..len)
        .map(|t| Matrix::from_fn(n, d, |i, k| flat.get(i, t * d + k)))
        .collect();
    (steps, flat)
}

/// max |a − b| / max |b|.
fn rel(a: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    let scale = b.as_slice().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()))
        / scale
}

#[test]
fn presets_equal_the_hand_written_recurrent_ntk() {
    let (n, len, d) = (23, 6, 4);
    let (mut steps, mut flat) = sequences(n, len, d, 3);
    // a zero first step for two samples (an Elman pre-activation of variance 0),
    // and a repeated sequence (an off-diagonal pair of correlation 1)
    for i in [4, 9] {
        for k in 0..d {
            steps[0].set(i, k, 0.0);
            flat.set(i, k, 0.0);
        }
    }
    for (t, step) in steps.iter_mut().enumerate() {
        for k in 0..d {
            let v = step.get(2, k);
            step.set(7, k, v);
            flat.set(7, t * d + k, v);
        }
    }
    for preset in [Preset::Elman, Preset::Wang] {
        let arch = Arch::rnn_preset(preset, len);
        assert_eq!(Arch::parse(&arch.to_string()).unwrap(), arch);
        let want = rnn_ntk_infinite(preset, &steps).unwrap();
        let got = composed_gram(&arch, &flat, Output::Ntk).unwrap();
        let cross = composed_cross(&arch, &flat, &flat, Output::Ntk).unwrap();
        let (e, ec) = (rel(&got, &want), rel(&cross, &want));
        eprintln!("{preset:?}: composed NTK vs rnn_ntk_infinite {e:.2e} (cross {ec:.2e})");
        assert!(e < 1e-14 && ec < 1e-14, "{preset:?}: {e:e} {ec:e}");
        // the NNGP is ½ K^L (the readout of variance ½ on the last state, eq. 25)
        let k = forward_correlations(preset, &steps).unwrap();
        let mut half = k[len].clone();
        half.as_mut_slice().iter_mut().for_each(|v| *v *= 0.5);
        let nngp = composed_gram(&arch, &flat, Output::Nngp).unwrap();
        let e = rel(&nngp, &half);
        assert!(e < 1e-14, "{preset:?} NNGP: {e:e}");
    }
}

#[test]
fn cross_kernel_is_the_off_diagonal_block() {
    let (len, d) = (4, 3);
    let (_, a) = sequences(9, len, d, 5);
    let (_, b) = sequences(6, len, d, 6);
    let both = Matrix::from_fn(15, len * d, |i, k| {
        if i < 9 {
            a.get(i, k)
        } else {
            b.get(i - 9, k)
        }
    });
    let arch =
        Arch::parse("rnn(erf(b=0.7), len=4, w=1.3, a=0.8, b=0.2, h0=0.5), dense(b=0.1)").unwrap();
    for out in [Output::Nngp, Output::Ntk] {
        let full = dense_f64(&ComposedKernel::new(&arch, &both, out).unwrap()).unwrap();
        let cross = composed_cross(&arch, &a, &b, out).unwrap();
        let block = Matrix::from_fn(9, 6, |i, j| full.get(i, 9 + j));
        let e = rel(&cross, &block);
        assert!(e < 1e-14, "{}: {e:e}", out.name());
    }
}

/// One step from h_0 = 0 is a dense layer then the step: rnn(φ, len=1, a, b) =
/// dense(w=a, b), φ — the feed-forward engine (checked against neural-tangents) as
/// the reference, with A and β trained.
#[test]
fn one_step_is_a_dense_layer() {
    let (_, x) = sequences(11, 1, 5, 8);
    for (step, rest) in [
        ("erf", ", dense(w=1.1, b=0.3)"),
        ("serial(relu, dense(w=1.2), gelu)", ", dense"),
    ] {
        let rnn = Arch::parse(&format!("rnn({step}, len=1, w=0.9, a=1.4, b=0.4){rest}")).unwrap();
        let ff = Arch::parse(&format!("dense(w=1.4, b=0.4), {step}{rest}")).unwrap();
        for out in [Output::Nngp, Output::Ntk] {
            let e = rel(
                &composed_gram(&rnn, &x, out).unwrap(),
                &composed_gram(&ff, &x, out).unwrap(),
            );
            assert!(e < 1e-14, "{step} {}: {e:e}", out.name());
        }
    }
}

/// Training W adds w²K^{t−1} at each step: with W frozen (and A, β trained) the
/// NTK is smaller, and the difference at L = 2 is w²K^1·Σ̇^2 for a ReLU step — a
/// closed form by the arc-cosine kernel, computed here by hand.
#[test]
fn recurrent_weight_term_by_hand() {
    let (len, d) = (2, 3);
    let (_, x) = sequences(5, len, d, 9);
    let all = Arch::parse("gram=dot; rnn(relu, len=2, w=1.5, a=0.8)").unwrap();
    let frozen = Arch::parse("gram=dot; rnn(relu, len=2, w=1.5, a=0.8, train_w=false)").unwrap();
    let diff = {
        let mut a = composed_gram(&all, &x, Output::Ntk).unwrap();
        let b = composed_gram(&frozen, &x, Output::Ntk).unwrap();
        for (p, q) in a.as_mut_slice().iter_mut().zip(b.as_slice()) {
            *p -= q;
        }
        a
    };
    let relu = |q1: f64, q2: f64, s: f64| -> (f64, f64) {
        let r = (s / (q1 * q2).sqrt()).clamp(-1.0, 1.0);
        let th = r.acos();
        let pi = std::f64::consts::PI;
        (
            (q1 * q2).sqrt() * ((1.0 - r * r).max(0.0).sqrt() + (pi - th) * r) / (2.0 * pi),
            (pi - th) / (2.0 * pi),
        )
    };
    let (w2, a2) = (1.5f64 * 1.5, 0.8f64 * 0.8);
    for i in 0..5 {
        for j in 0..5 {
            let dot = |t: usize, p: usize, q: usize| -> f64 {
                (0..d)
                    .map(|k| x.get(p, t * d + k) * x.get(q, t * d + k))
                    .sum()
            };
            let c1 = |p: usize, q: usize| a2 * dot(0, p, q);
            let k1 = |p: usize, q: usize| relu(c1(p, p), c1(q, q), c1(p, q)).0;
            let c2 = |p: usize, q: usize| w2 * k1(p, q) + a2 * dot(1, p, q);
            let dot2 = relu(c2(i, i), c2(j, j), c2(i, j)).1;
            let want = w2 * k1(i, j) * dot2;
            let got = diff.get(i, j);
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1e-300),
                "({i}, {j}): {got:e} vs {want:e}"
            );
        }
    }
}

fn expect_invalid<T: std::fmt::Debug>(r: Result<T, Error>, needles: &[&str]) {
    let e = r.expect_err("must fail");
    assert!(matches!(e, Error::Invalid { .. }), "{e:?}");
    let msg = e.to_string();
    for n in needles {
        assert!(msg.contains(n), "{msg:?} lacks {n:?}");
    }
}

#[test]
fn bad_recurrent_specs_and_inputs_are_named() {
    expect_invalid(
        Arch::parse("rnn(relu)"),
        &["layer 1 'rnn'", "'len'", "required"],
    );
    expect_invalid(Arch::parse("rnn(len=3)"), &["layer 1 'rnn'", "'step'"]);
    expect_invalid(
        Arch::parse("rnn(relu, len=3, w=-1)"),
        &["layer 1 'rnn'", "'w'", "negative"],
    );
    expect_invalid(Arch::parse("rnn(relu, len=0)"), &["'len'"]);
    expect_invalid(
        Arch::parse("rnn(relu, len=2, readout=first)"),
        &["layer 1 'rnn'", "'readout'", "neither"],
    );
    expect_invalid(Arch::parse("rnn(relu, len=2.5)"), &["'len'", "whole"]);
    expect_invalid(Arch::parse("rnn(relu, len=2, h0=nan)"), &["'h0'"]);
    expect_invalid(Arch::parse("rnn(bogus, len=2)"), &["layer 1.1", "'bogus'"]);
    expect_invalid(
        Arch::parse("rnn(relu, len=2, train_w=maybe)"),
        &["'train_w'", "neither"],
    );
    // a recurrent layer anywhere but first
    let x = Matrix::from_fn(3, 4, |i, k| (i + k) as f64);
    for spec in ["dense, rnn(relu, len=2)", "rnn(rnn(relu, len=2), len=2)"] {
        let arch = Arch::parse(spec).unwrap();
        expect_invalid(
            ComposedKernel::new(&arch, &x, Output::Ntk).map(|_| ()),
            &["'rnn'", "first layer"],
        );
    }
    // rows that are not len steps
    let arch = Arch::parse("rnn(relu, len=3)").unwrap();
    expect_invalid(
        ComposedKernel::new(&arch, &x, Output::Ntk).map(|_| ()),
        &["x", "len = 3"],
    );
    // sequence inputs to a feed-forward net, or of the wrong length
    let ff = Arch::parse("dense, relu, dense").unwrap();
    expect_invalid(
        sequence_input(&ff, vec![0.0; 12], (3, 2, 2), "x"),
        &["x", "recurrent", "rnn("],
    );
    expect_invalid(
        sequence_input(&arch, vec![0.0; 12], (3, 2, 2), "x"),
        &["x", "L = 2", "len = 3"],
    );
    assert_eq!(
        sequence_input(&arch, vec![1.0; 18], (3, 3, 2), "x")
            .unwrap()
            .shape(),
        (3, 6)
    );
}

#[test]
fn recurrent_specs_round_trip() {
    for (spec, len) in [
        ("rnn(relu, len=5)", 5),
        (
            "gram=dot; rnn(serial(dense(w=1.2), erf), len=3, w=0.5, a=2.0, b=0.1, h0=1.0, \
             train_w=false, train_a=false, train_b=false), dense",
            3,
        ),
    ] {
        let a = Arch::parse(spec).unwrap();
        let shown = a.to_string();
        assert_eq!(Arch::parse(&shown).unwrap(), a, "{spec} -> {shown}");
        assert_eq!(Arch::parse(&shown).unwrap().to_string(), shown);
        assert_eq!(a.seq_len(), Some(len));
    }
    assert_eq!(Arch::parse("dense, relu").unwrap().seq_len(), None);
}

/// readout=all: the kernel over (sequence, step) pairs. Its (t, t) entries are
/// the readout=last kernel of the sequences cut after t steps (a recurrence does
/// not look ahead), computed by the other code path; the cross kernel is the
/// off-diagonal block. (The cross-time entries are checked against a Monte Carlo
/// of finite networks in python/tests/test_stax.py.)
#[test]
fn readout_all_is_every_prefix() {
    let (n, len, d) = (5, 4, 3);
    let (_, x) = sequences(n, len, d, 11);
    let base = "rnn(erf(b=0.8), len=4, w=1.2, a=0.9, b=0.3, h0=0.7";
    let all = Arch::parse(&format!("{base}, readout=all), dense(b=0.2)")).unwrap();
    assert_eq!(Arch::parse(&all.to_string()).unwrap(), all);
    for out in [Output::Nngp, Output::Ntk] {
        let k = composed_gram(&all, &x, out).unwrap();
        assert_eq!(k.shape(), (n * len, n * len));
        for t in 1..=len {
            let cut = Matrix::from_fn(n, t * d, |i, c| x.get(i, c));
            let last = Arch::parse(&format!(
                "{}, dense(b=0.2)",
                base.replace("len=4", &format!("len={t}")) + ")"
            ))
            .unwrap();
            let want = composed_gram(&last, &cut, out).unwrap();
            let got = Matrix::from_fn(n, n, |i, j| k.get(i * len + t - 1, j * len + t - 1));
            let e = rel(&got, &want);
            assert!(e < 1e-14, "{} t = {t}: {e:e}", out.name());
        }
        let (_, y) = sequences(3, len, d, 12);
        let cross = composed_cross(&all, &x, &y, out).unwrap();
        let both = Matrix::from_fn(n + 3, len * d, |i, c| {
            if i < n {
                x.get(i, c)
            } else {
                y.get(i - n, c)
            }
        });
        let full = composed_gram(&all, &both, out).unwrap();
        let block = Matrix::from_fn(n * len, 3 * len, |r, c| full.get(r, n * len + c));
        let e = rel(&cross, &block);
        assert!(e < 1e-14, "{} cross: {e:e}", out.name());
        let self_cross = composed_cross(&all, &x, &x, out).unwrap();
        assert!(rel(&self_cross, &k) < 1e-14);
    }
}
