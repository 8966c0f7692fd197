//! The finite network of a composed *recurrent* architecture (issue 23: an
//! `rnn(...)` first layer in `widenet::models::composed`) against independent
//! references: central finite differences of its outputs (backpropagation
//! through time), the explicit Jacobian's J Jᵀ, seeds 002/004's hand-written
//! RNN (`widenet::models::rnn`: same weights, same outputs, empirical NTK and
//! GD), and Monte Carlo convergence of the empirical NTK/NNGP to the engine's
//! recurrent kernel.

use crate::compose_finite::{assert_converges, flat, perturbed};
use crate::support::{err_text, normal_matrix};
use widenet::kernels::compose::{Arch, Output};
use widenet::kernels::rnn_infinite::Preset;
use widenet::linalg::Matrix;
use widenet::models::composed::{ComposedNet, DenseParams};
use widenet::models::rnn::{split_steps, Rnn};
use widenet::models::rnn_ntk::rnn_ntk;

/// Recurrent architectures covering: closed-form and expression steps, a step
/// with its own dense layer (shared over time, and shaping h_0 = step(M_0)),
/// biases, h0 > 0, frozen W / A / β, gram=dot, and readout=all.
const ARCHS: &[&str] = &[
    "rnn(relu, len=3), dense",
    "rnn(erf, len=4, w=1.3, a=0.8, b=0.5, h0=0.7), dense(b=0.2)",
    "rnn(serial(dense(b=0.1), expr('tanh(z)')), len=3, h0=0.5, train_a=false), dense",
    "gram=dot; rnn(gelu, len=2, train_w=false, b=0.3), dense(w=0.9), relu, dense(b=0.1)",
    "rnn(sin, len=3, b=0.4, train_b=false, readout=all), dense, relu, dense",
];

fn arch(spec: &str) -> Arch {
    Arch::parse(spec).unwrap()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Inputs: `n` sequences of `len` steps of dimension `d` (n × len·d), mixed norms.
fn seqs(n: usize, len: usize, d: usize, seed: u64) -> Matrix<f64> {
    let mut x = normal_matrix(n, len * d, seed);
    x.row_mut(1).iter_mut().for_each(|v| *v *= 1.8);
    x.row_mut(n - 1).iter_mut().for_each(|v| *v *= 0.5);
    x
}

#[test]
fn backprop_through_time_matches_central_differences() {
    let (n, d, m) = (3, 2, 4);
    let mut worst = 0.0f64;
    for (a, spec) in ARCHS.iter().enumerate() {
        let ar = arch(spec);
        let len = ar.seq_len().unwrap();
        let x = seqs(n, len, d, 7 + a as u64);
        let net = ComposedNet::init(&ar, d, m, 300 + a as u64).unwrap();
        let nout = n * net.outputs_per_row();
        let j = net.jacobian(&x).unwrap();
        assert_eq!((j.rows(), j.cols()), (nout, net.num_trainable()), "{spec}");
        let f0 = net.apply(&x).unwrap();
        assert_eq!(f0.len(), nout, "{spec}");
        let y: Vec<f64> = (0..nout).map(|i| 0.3 - 0.2 * i as f64).collect();
        let (loss, grad) = net.loss_gradient(&x, &y).unwrap();
        let r: Vec<f64> = f0.iter().zip(&y).map(|(a, b)| a - b).collect();
        assert!((loss - 0.5 * r.iter().map(|v| v * v).sum::<f64>()).abs() < 1e-12);
        let h = 1e-5;
        let mut col = 0;
        for (k, &(tw, tb)) in net.trained().iter().enumerate() {
            let p = &net.params()[k];
            let nw = p.w.as_slice().len();
            let nb = p.b.as_ref().map_or(0, |b| b.len());
            let gk = flat(&grad[k]);
            assert_eq!(gk.len(), nw + nb);
            for (pos, &gp) in gk.iter().enumerate() {
                let trained = if pos < nw { tw } else { tb };
                if !trained {
                    assert_eq!(gp, 0.0, "{spec}: frozen entry {pos} of layer {k}");
                    continue;
                }
                let fp = ComposedNet::from_params(&ar, d, perturbed(net.params(), k, pos, h))
                    .unwrap()
                    .apply(&x)
                    .unwrap();
                let fm = ComposedNet::from_params(&ar, d, perturbed(net.params(), k, pos, -h))
                    .unwrap()
                    .apply(&x)
                    .unwrap();
                let fd: Vec<f64> = fp
                    .iter()
                    .zip(&fm)
                    .map(|(a, b)| (a - b) / (2.0 * h))
                    .collect();
                let jc: Vec<f64> = (0..nout).map(|i| j.get(i, col)).collect();
                let diff: Vec<f64> = fd.iter().zip(&jc).map(|(a, b)| a - b).collect();
                let rel = max_abs(&diff) / max_abs(&fd).max(1e-3);
                worst = worst.max(rel);
                assert!(rel < 1e-7, "{spec}: layer {k} entry {pos}: rel {rel:e}");
                // the loss gradient by backprop is Jᵀ(f − y)
                let jr: f64 = jc.iter().zip(&r).map(|(a, b)| a * b).sum();
                assert!(
                    (gp - jr).abs() <= 1e-12 * (1.0 + jr.abs()),
                    "{spec}: layer {k} entry {pos}: {gp} vs {jr}"
                );
                col += 1;
            }
        }
        assert_eq!(col, j.cols(), "{spec}");
    }
    println!("worst relative difference backprop vs central differences: {worst:.2e}");
}

#[test]
fn empirical_ntk_is_j_jt_for_recurrent_nets() {
    let (d, m) = (3, 5);
    for (a, spec) in ARCHS.iter().enumerate() {
        let ar = arch(spec);
        let len = ar.seq_len().unwrap();
        let net = ComposedNet::init(&ar, d, m, 40 + a as u64).unwrap();
        let (x, x2) = (seqs(4, len, d, 1), seqs(3, len, d, 2));
        let (j1, j2) = (net.jacobian(&x).unwrap(), net.jacobian(&x2).unwrap());
        for (k, ja, jb) in [
            (net.empirical_ntk(&x, None).unwrap(), &j1, &j1),
            (net.empirical_ntk(&x, Some(&x2)).unwrap(), &j1, &j2),
        ] {
            assert_eq!((k.rows(), k.cols()), (ja.rows(), jb.rows()), "{spec}");
            for i in 0..ja.rows() {
                for jj in 0..jb.rows() {
                    let e: f64 = ja.row(i).iter().zip(jb.row(jj)).map(|(p, q)| p * q).sum();
                    assert!(
                        (k.get(i, jj) - e).abs() <= 1e-12 * (1.0 + e.abs()),
                        "{spec} ({i}, {jj}): {} vs {e}",
                        k.get(i, jj)
                    );
                }
            }
        }
    }
}

/// The composed parameters equal to a seed network's: with W = √(2/m)·W̃,
/// A = (a/√m)·Ã, M_0 = M̃_0/√m and B = σ_B·B̃ the composed states are √m times
/// the seed's (ReLU is positively homogeneous), so f_composed = f_seed/(√2 σ_B)
/// and ∇_W̃ f_composed = ∇_W f_seed/(σ_B √m): the composed empirical NTK is the
/// seed's normalized one, ⟨∇_W f, ∇_W f'⟩/(m σ_B²) (crate::models::rnn_ntk).
fn composed_of(net: &Rnn<f64>, ar: &Arch) -> ComposedNet {
    let m = net.width();
    let sm = (m as f64).sqrt();
    let a_std = match &ar.net {
        widenet::kernels::compose::Layer::Serial(ls) => match &ls[0] {
            widenet::kernels::compose::Layer::Rnn(r) => r.a_std,
            _ => unreachable!(),
        },
        _ => unreachable!(),
    };
    let scale = |mat: &Matrix<f64>, c: f64| {
        Matrix::from_fn(mat.rows(), mat.cols(), |i, j| c * mat.get(i, j))
    };
    let params = vec![
        DenseParams {
            w: scale(&net.w, (m as f64 / 2.0).sqrt()),
            b: net.m0.as_ref().map(|v| v.iter().map(|x| x * sm).collect()),
        },
        DenseParams {
            w: scale(&net.a, sm / a_std),
            b: None,
        },
        DenseParams {
            w: scale(&net.b, 1.0 / net.b_variance().sqrt()),
            b: None,
        },
    ];
    ComposedNet::from_params(ar, net.input_dim(), params).unwrap()
}

#[test]
fn presets_equal_the_seeds_rnn_outputs_ntk_and_gd() {
    let (n, d, m, len) = (5, 3, 24, 4);
    let x = seqs(n, len, d, 17);
    let xs = split_steps(x.as_slice(), n, len, d).unwrap();
    let y: Vec<f64> = (0..n).map(|i| (i as f64 - 2.0) * 0.3).collect();
    for preset in [Preset::Elman, Preset::Wang] {
        let ar = Arch::rnn_preset(preset, len);
        let mut seed = Rnn::<f64>::init(preset, m, d, 1, len, 5).unwrap();
        let mut net = composed_of(&seed, &ar);
        let c = 1.0 / (2.0 * seed.b_variance()).sqrt();
        // outputs: f_composed = c·f_seed
        let fc = net.apply(&x).unwrap();
        let fs = seed.predict(&xs).unwrap().pop().unwrap().into_vec();
        let diff: Vec<f64> = fc.iter().zip(&fs).map(|(a, b)| a - c * b).collect();
        assert!(
            max_abs(&diff) < 1e-12 * max_abs(&fc),
            "{preset:?}: outputs {diff:?}"
        );
        // empirical NTK: the seed's normalized one
        let kc = net.empirical_ntk(&x, None).unwrap();
        let ks = rnn_ntk(&seed, &xs).unwrap();
        let diff: Vec<f64> = kc
            .as_slice()
            .iter()
            .zip(ks.as_slice())
            .map(|(a, b)| a - b)
            .collect();
        let rel = max_abs(&diff) / max_abs(ks.as_slice());
        assert!(rel < 1e-12, "{preset:?}: NTK relative difference {rel:e}");
        // GD: W̃ ← W̃ − η∇_W̃Φ is W ← W − η(2/m)·Σᵢ c·rᵢ∇_W f_seed(xᵢ), rᵢ = c·f_seed − yᵢ
        let eta = 0.05;
        let hist = net.train_gd(&x, &y, eta, 5).unwrap();
        for (k, &h) in hist.iter().enumerate() {
            let trace = seed.forward(&xs).unwrap();
            let f = seed.outputs(&trace, len).unwrap().into_vec();
            let r: Vec<f64> = f.iter().zip(&y).map(|(a, b)| c * a - b).collect();
            let loss = 0.5 * r.iter().map(|v| v * v).sum::<f64>();
            assert!(
                (loss - h).abs() < 1e-11 * loss,
                "{preset:?} step {k}: loss {h} vs seed {loss}"
            );
            if k + 1 == hist.len() {
                break;
            }
            let mut dout: Vec<Option<Matrix<f64>>> = vec![None; len];
            dout[len - 1] = Some(Matrix::from_fn(n, 1, |i, _| c * r[i]));
            let deltas = seed.backward(&trace, &dout).unwrap();
            let g = seed.weight_grad(&trace, &deltas).unwrap();
            seed.apply_update(&g, eta * 2.0 / m as f64).unwrap();
        }
        let back = composed_of(&seed, &ar);
        let diff: Vec<f64> = net.params()[0]
            .w
            .as_slice()
            .iter()
            .zip(back.params()[0].w.as_slice())
            .map(|(a, b)| a - b)
            .collect();
        assert!(
            max_abs(&diff) < 1e-11,
            "{preset:?}: W after GD {:e}",
            max_abs(&diff)
        );
        println!("{preset:?}: outputs, NTK (rel {rel:.1e}) and 5 GD steps agree");
    }
}

#[test]
fn recurrent_empirical_kernels_converge_to_the_composed_kernel() {
    // erf steps with a bias and h_0 = erf(M_0), on sequences of mixed norms
    let ar = arch("rnn(erf, len=3, w=1.2, a=0.9, b=0.3, h0=0.8), dense(b=0.1)");
    let x = seqs(6, 3, 3, 23);
    for output in [Output::Ntk, Output::Nngp] {
        assert_converges(&ar, &x, &[16, 32, 64, 128, 256, 512], 24, output, 0.2, -0.3);
    }
}

#[test]
fn recurrent_bad_input_names_the_argument() {
    let ar = arch("rnn(relu, len=3, readout=all), dense");
    let net = ComposedNet::init(&ar, 2, 4, 1).unwrap();
    let e = err_text(net.apply(&normal_matrix(2, 5, 1)));
    assert!(e.contains("x") && e.contains("len·d = 3·2 = 6"), "{e}");
    let x = normal_matrix(2, 6, 1);
    let mut net2 = net.clone();
    let e = err_text(net2.train_gd(&x, &[0.0, 1.0], 0.1, 1));
    assert!(
        e.contains("y") && e.contains("readout=all") && e.contains("6 outputs"),
        "{e}"
    );
    // an rnn anywhere but first: the kernel's message
    let e = err_text(ComposedNet::init(
        &arch("dense, rnn(relu, len=2), dense"),
        2,
        4,
        1,
    ));
    assert!(
        e.contains("layer 2 'rnn'") && e.contains("first layer"),
        "{e}"
    );
    // A with another number of rows than W
    let mut p = net.params().to_vec();
    p[1].w = Matrix::zeros(3, 2);
    let e = err_text(ComposedNet::from_params(&ar, 2, p));
    assert!(e.contains("params") && e.contains("layer 1 'rnn' A"), "{e}");
}

/// A step with its own trained dense layer makes h_0 = step(M_0) depend on the
/// parameters: the NTK starts from Θ_h^0 ≠ 0. With a linear step (a dense layer
/// alone) every map is linear, and the one-step kernels are, by hand, with
/// X = xᵀx'/d, v = h0², c, β the step's W_std, b_std and r the readout's:
/// K^0 = c²v + β², Θ_h^0 = K^0 (the step layer's own term at Σ = v, Θ = 0),
/// C^1 = w²K^0 + a²X, Θ_g^1 = w²Θ_h^0 + w²K^0 + a²X, K^1 = c²C^1 + β²,
/// Θ_h^1 = c²Θ_g^1 + c²C^1 + β², NNGP = r²K^1, NTK = r²Θ_h^1 + r²K^1.
#[test]
fn a_step_with_a_dense_layer_gives_h0_its_ntk_term() {
    let (w, a, c, beta, h0, r) = (0.9, 1.1, 1.3, 0.4, 0.7, 1.2);
    let ar = arch(&format!(
        "rnn(dense(w={c}, b={beta}), len=1, w={w}, a={a}, h0={h0}), dense(w={r})"
    ));
    let (n, d) = (5, 3);
    let x = seqs(n, 1, d, 3);
    let ntk = widenet::kernels::compose::composed_gram(&ar, &x, Output::Ntk).unwrap();
    let nngp = widenet::kernels::compose::composed_gram(&ar, &x, Output::Nngp).unwrap();
    let (w2, a2, c2, b2, r2) = (w * w, a * a, c * c, beta * beta, r * r);
    let k0 = c2 * h0 * h0 + b2;
    for i in 0..n {
        for j in 0..n {
            let xx: f64 = x
                .row(i)
                .iter()
                .zip(x.row(j))
                .map(|(p, q)| p * q)
                .sum::<f64>()
                / d as f64;
            let c1 = w2 * k0 + a2 * xx;
            let tg = w2 * k0 + w2 * k0 + a2 * xx;
            let k1 = c2 * c1 + b2;
            let th = c2 * tg + c2 * c1 + b2;
            let (e_ntk, e_nngp) = (r2 * th + r2 * k1, r2 * k1);
            assert!(
                (ntk.get(i, j) - e_ntk).abs() < 1e-14 * e_ntk.abs(),
                "NTK ({i}, {j})"
            );
            assert!(
                (nngp.get(i, j) - e_nngp).abs() < 1e-14 * e_nngp.abs(),
                "NNGP ({i}, {j})"
            );
        }
    }
}
