//! The ReLU RNN of seeds 002/004 (models::rnn) and its empirical NTK (models::rnn_ntk)
//! against independent references: finite differences, brute-force gradient inner products,
//! per-sample loops, the stated input transform and initialization variances.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use widenet::linalg::Matrix;
use widenet::models::rnn::{
    elman_input_transform, join_steps, one_hot, split_steps, Loss, Objective, Outputs, Preset, Rnn,
};
use widenet::models::rnn_ntk::{rnn_ntk, rnn_ntk_with_blocks};
use widenet::rng;

fn gaussian(n: usize, d: usize, scale: f64, g: &mut rng::WRng) -> Matrix<f64> {
    Matrix::from_fn(n, d, |_, _| scale * rng::normal(g))
}

fn sequence(n: usize, len: usize, d: usize, seed: u64) -> Vec<Matrix<f64>> {
    let mut g = rng::stream(seed, "test/x");
    (0..len).map(|_| gaussian(n, d, 1.0, &mut g)).collect()
}

/// Targets suited to `loss` at `count` output steps (n × d each).
fn targets(loss: Loss, count: usize, n: usize, d: usize, seed: u64) -> Vec<Matrix<f64>> {
    let mut g = rng::stream(seed, "test/y");
    (0..count)
        .map(|_| match loss {
            Loss::Logistic => Matrix::from_fn(n, d, |_, _| rng::rademacher(&mut g)),
            Loss::L2 => gaussian(n, d, 1.0, &mut g),
            Loss::CrossEntropy => {
                let cls: Vec<usize> = (0..n)
                    .map(|_| (rng::normal(&mut g).abs() * 10.0) as usize % d)
                    .collect();
                one_hot(&cls, d).unwrap()
            }
        })
        .collect()
}

/// Max |BPTT − central difference| over every entry of W, and the gradient's max entry.
fn fd_check(net: &Rnn<f64>, xs: &[Matrix<f64>], obj: &Objective, seed: u64) -> (f64, f64) {
    let len = xs.len();
    let count = obj.outputs.steps(len).count();
    let ys = targets(obj.loss, count, xs[0].rows(), net.output_dim(), seed);
    let lg = net.loss_and_grad(xs, &ys, obj).unwrap();
    let mean = |n: &Rnn<f64>| {
        let v = n.losses(xs, &ys, obj).unwrap();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!((mean(net) - lg.mean).abs() < 1e-12);
    let m = net.width();
    let eps = 1e-6;
    let mut worst: f64 = 0.0;
    let mut gmax: f64 = 0.0;
    let mut p = net.clone();
    for r in 0..m {
        for c in 0..m {
            let w0 = net.w.get(r, c);
            p.w.set(r, c, w0 + eps);
            let up = mean(&p);
            p.w.set(r, c, w0 - eps);
            let dn = mean(&p);
            p.w.set(r, c, w0);
            let fd = (up - dn) / (2.0 * eps);
            let g = lg.grad.get(r, c);
            worst = worst.max((fd - g).abs() / (1.0 + g.abs()));
            gmax = gmax.max(g.abs());
        }
    }
    (worst, gmax)
}

#[test]
fn bptt_matches_finite_differences() {
    let (m, d_in, n) = (10, 3, 3);
    let mut report = Vec::new();
    for &len in &[2usize, 3, 5] {
        // seed 002: d = 3 outputs, every loss, the paper's steps 3..L and all steps
        for loss in [Loss::Logistic, Loss::L2, Loss::CrossEntropy] {
            for outputs in [Outputs::From(3), Outputs::From(1), Outputs::Last] {
                if outputs.steps(len).count() == 0 {
                    continue;
                }
                let net =
                    Rnn::<f64>::init(Preset::Elman, m, d_in, 3, len, 11 + len as u64).unwrap();
                let xs = sequence(n, len, d_in, 5 + len as u64);
                let obj = Objective {
                    loss,
                    outputs,
                    scale: 0.7,
                };
                let (err, gmax) = fd_check(&net, &xs, &obj, 3);
                report.push(format!(
                    "elman L={len} {loss:?} {outputs:?}: {err:.2e} (|g| {gmax:.2e})"
                ));
                assert!(err < 1e-6, "elman L={len} {loss:?} {outputs:?}: {err:e}");
                assert!(gmax > 1e-4, "gradient unexpectedly zero");
            }
        }
        // seed 004: scalar output, logistic (eq. 16), sequence labelling (Remark 3.2), ℓ2
        for obj in [
            Objective::wang(),
            Objective::wang_sequence(),
            Objective {
                loss: Loss::L2,
                outputs: Outputs::Last,
                scale: 1.0,
            },
        ] {
            let net = Rnn::<f64>::init(Preset::Wang, m, d_in, 1, len, 21 + len as u64).unwrap();
            let xs = sequence(n, len, d_in, 7 + len as u64);
            let (err, gmax) = fd_check(&net, &xs, &obj, 4);
            report.push(format!("wang L={len} {obj:?}: {err:.2e} (|g| {gmax:.2e})"));
            assert!(err < 1e-6, "wang L={len} {obj:?}: {err:e}");
            assert!(gmax > 1e-4, "gradient unexpectedly zero");
        }
    }
    println!("{}", report.join("\n"));
}

#[test]
fn losses_have_their_closed_forms() {
    let mut g = [0.0; 3];
    // logistic: log 2 at 0, slope −y/2
    assert!((Loss::Logistic.value_and_grad(&[0.0], &[1.0], &mut g[..1]) - 2f64.ln()).abs() < 1e-15);
    assert!((g[0] + 0.5).abs() < 1e-15);
    // large margins stay finite and exact
    assert!((Loss::Logistic.value(&[800.0], &[-1.0]) - 800.0).abs() < 1e-9);
    assert!(Loss::Logistic.value(&[800.0], &[1.0]) < 1e-300);
    // ℓ2
    assert!((Loss::L2.value_and_grad(&[1.0, 2.0], &[0.0, 4.0], &mut g[..2]) - 2.5).abs() < 1e-15);
    assert_eq!(&g[..2], &[1.0, -2.0]);
    // cross-entropy on uniform logits: log d, gradient 1/d − y
    let v = Loss::CrossEntropy.value_and_grad(&[3.0, 3.0, 3.0], &[0.0, 1.0, 0.0], &mut g);
    assert!((v - 3f64.ln()).abs() < 1e-14);
    assert!((g[0] - 1.0 / 3.0).abs() < 1e-15 && (g[1] + 2.0 / 3.0).abs() < 1e-15);
}

/// Per-sample ∇_W f with f = (B h_L)_1, from the BPTT of a single-sample batch.
fn grad_f(net: &Rnn<f64>, xs: &[Matrix<f64>], i: usize) -> Matrix<f64> {
    let one: Vec<Matrix<f64>> = xs.iter().map(|x| x.select_rows(&[i])).collect();
    let trace = net.forward(&one).unwrap();
    let len = xs.len();
    let mut dout = vec![None; len];
    dout[len - 1] = Some(Matrix::from_fn(1, net.output_dim(), |_, k| {
        if k == 0 {
            1.0
        } else {
            0.0
        }
    }));
    let deltas = net.backward(&trace, &dout).unwrap();
    net.weight_grad(&trace, &deltas).unwrap()
}

#[test]
fn factorized_ntk_equals_brute_force_gradient_products() {
    let (n, d_in) = (4, 3);
    for preset in [Preset::Elman, Preset::Wang] {
        for &(len, m) in &[(2usize, 8usize), (3, 12), (5, 16)] {
            let d_out = if preset == Preset::Elman { 2 } else { 1 };
            let net = Rnn::<f64>::init(preset, m, d_in, d_out, len, 40 + len as u64).unwrap();
            let xs = sequence(n, len, d_in, 50 + len as u64);
            let grads: Vec<Matrix<f64>> = (0..n).map(|i| grad_f(&net, &xs, i)).collect();
            // the per-sample gradient of f itself against central differences of f
            {
                let f = |p: &Rnn<f64>| {
                    let one: Vec<Matrix<f64>> = xs.iter().map(|x| x.select_rows(&[1])).collect();
                    p.predict(&one).unwrap()[len - 1].get(0, 0)
                };
                let mut p = net.clone();
                let eps = 1e-6;
                for r in 0..m {
                    for c in 0..m {
                        let w0 = net.w.get(r, c);
                        p.w.set(r, c, w0 + eps);
                        let up = f(&p);
                        p.w.set(r, c, w0 - eps);
                        let dn = f(&p);
                        p.w.set(r, c, w0);
                        let fd = (up - dn) / (2.0 * eps);
                        let g = grads[1].get(r, c);
                        assert!(
                            (fd - g).abs() < 1e-7 * (1.0 + g.abs()),
                            "{preset:?} ∇f({r},{c})"
                        );
                    }
                }
            }
            let norm = 1.0 / (m as f64 * net.b_variance());
            let ntk = rnn_ntk_with_blocks(&net, &xs).unwrap();
            let plain = rnn_ntk(&net, &xs).unwrap();
            let mut worst: f64 = 0.0;
            for i in 0..n {
                for j in 0..n {
                    let brute: f64 = grads[i]
                        .as_slice()
                        .iter()
                        .zip(grads[j].as_slice())
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                        * norm;
                    let h = ntk.h.get(i, j);
                    worst = worst.max((h - brute).abs() / brute.abs().max(1e-3));
                    assert_eq!(plain.get(i, j), h);
                    assert!((ntk.diag.get(i, j) + ntk.cross.get(i, j) - h).abs() < 1e-12);
                }
            }
            assert!(
                worst < 1e-10,
                "{preset:?} L={len} m={m}: relative error {worst:e}"
            );
            // the L × L block norms: symmetric, and by the triangle inequality
            // ‖diag‖_F ≤ Σ_ℓ ‖T^{ℓℓ}‖_F, ‖cross‖_F ≤ Σ_{ℓ≠ℓ'} ‖T^{ℓℓ'}‖_F
            let (mut on, mut off) = (0.0, 0.0);
            for a in 0..len {
                for b in 0..len {
                    assert_eq!(ntk.blocks.get(a, b), ntk.blocks.get(b, a));
                    if a == b {
                        on += ntk.blocks.get(a, b);
                    } else {
                        off += ntk.blocks.get(a, b);
                    }
                }
            }
            assert!(ntk.diag.frobenius() <= on * (1.0 + 1e-12));
            assert!(ntk.cross.frobenius() <= off * (1.0 + 1e-12) + 1e-300);
        }
    }
}

#[test]
fn batched_forward_and_gradient_equal_per_sample_loop() {
    let (n, len, d_in, m) = (5, 4, 3, 16);
    for preset in [Preset::Elman, Preset::Wang] {
        let d_out = if preset == Preset::Elman { 3 } else { 1 };
        let net = Rnn::<f64>::init(preset, m, d_in, d_out, len, 9).unwrap();
        let xs = sequence(n, len, d_in, 10);
        let trace = net.forward(&xs).unwrap();
        // the (n, L, d) array layout: element (i, ℓ, k) at (i·L + ℓ)·d + k
        let arr = join_steps(&xs).unwrap();
        for i in 0..n {
            for l in 0..len {
                for k in 0..d_in {
                    assert_eq!(arr[(i * len + l) * d_in + k], xs[l].get(i, k));
                }
            }
        }
        assert_eq!(split_steps(&arr, n, len, d_in).unwrap(), xs);
        let trace_arr = net.forward_array(&arr, n, len).unwrap();
        assert_eq!(trace_arr.stacked(), trace.stacked());
        let obj = Objective {
            loss: Loss::L2,
            outputs: Outputs::From(1),
            scale: 1.0,
        };
        let ys = targets(Loss::L2, len, n, d_out, 2);
        let batch = net.loss_and_grad(&xs, &ys, &obj).unwrap();
        let mut mean_grad = Matrix::<f64>::zeros(m, m);
        for i in 0..n {
            let one: Vec<Matrix<f64>> = xs.iter().map(|x| x.select_rows(&[i])).collect();
            let t1 = net.forward(&one).unwrap();
            // hidden states by a plain per-sample loop (no GEMM): h_ℓ = relu(W h_{ℓ−1} + A x_ℓ)
            let mut h = net.h0();
            for l in 0..=len {
                if l > 0 {
                    h = (0..m)
                        .map(|r| {
                            let s: f64 = (0..m).map(|c| net.w.get(r, c) * h[c]).sum::<f64>()
                                + (0..d_in)
                                    .map(|k| net.a.get(r, k) * xs[l - 1].get(i, k))
                                    .sum::<f64>();
                            s.max(0.0)
                        })
                        .collect();
                }
                for r in 0..m {
                    assert!((trace.h(l)[i * m + r] - h[r]).abs() < 1e-12);
                    assert!((t1.h(l)[r] - h[r]).abs() < 1e-12);
                }
                if l > 0 {
                    let y = net.outputs(&trace, l).unwrap();
                    for k in 0..d_out {
                        let yk: f64 = (0..m).map(|r| net.b.get(k, r) * h[r]).sum();
                        assert!((y.get(i, k) - yk).abs() < 1e-12);
                    }
                }
            }
            let ys1: Vec<Matrix<f64>> = ys.iter().map(|y| y.select_rows(&[i])).collect();
            let single = net.loss_and_grad(&one, &ys1, &obj).unwrap();
            assert!((single.losses[0] - batch.losses[i]).abs() < 1e-12);
            for (acc, g) in mean_grad
                .as_mut_slice()
                .iter_mut()
                .zip(single.grad.as_slice())
            {
                *acc += g / n as f64;
            }
        }
        let diff = mean_grad
            .as_slice()
            .iter()
            .zip(batch.grad.as_slice())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            diff < 1e-12,
            "{preset:?}: batch gradient differs by {diff:e}"
        );
    }
}

#[test]
fn elman_input_transform_places_the_stated_values() {
    // Def. 3.1: x_1 = (0^{d_x}, 1), x_ℓ = (ε_x x*_ℓ, 0) for 2 ≤ ℓ ≤ L − 1, x_L = (0^{d_x}, ε_x)
    let (n, dx, len, eps) = (3, 4, 6, 0.25);
    let mut g = rng::stream(1, "test/xstar");
    let xstar: Vec<Matrix<f64>> = (0..len - 2).map(|_| gaussian(n, dx, 1.0, &mut g)).collect();
    let x = elman_input_transform(&xstar, eps).unwrap();
    assert_eq!(x.len(), len);
    for i in 0..n {
        assert_eq!(x[0].row(i), &[0.0, 0.0, 0.0, 0.0, 1.0]);
        for l in 1..len - 1 {
            for k in 0..dx {
                assert_eq!(x[l].get(i, k), eps * xstar[l - 1].get(i, k));
            }
            assert_eq!(x[l].get(i, dx), 0.0);
        }
        assert_eq!(x[len - 1].row(i), &[0.0, 0.0, 0.0, 0.0, eps]);
    }
    assert!(elman_input_transform::<f64>(&[], eps).is_err());
    assert!(elman_input_transform(&xstar, 0.0).is_err());
}

/// |mean| and |variance − σ²| in standard errors, for i.i.d. N(0, σ²) draws.
fn z_scores(v: &[f64], var: f64) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let s2 = v.iter().map(|x| x * x).sum::<f64>() / n;
    (
        (mean / (var / n).sqrt()).abs(),
        ((s2 - var) / (var * (2.0 / n).sqrt())).abs(),
    )
}

#[test]
fn initialization_variances_are_the_papers() {
    let (m, d_in, d_out, len) = (400, 5, 4, 4);
    let mf = m as f64;
    let e = Rnn::<f64>::init(Preset::Elman, m, d_in, d_out, len, 3).unwrap();
    let w = Rnn::<f64>::init(Preset::Wang, m, d_in, 1, len, 3).unwrap();
    let checks: Vec<(&str, &[f64], f64)> = vec![
        ("elman W", e.w.as_slice(), 2.0 / mf),
        ("elman A", e.a.as_slice(), 2.0 / mf),
        ("elman B", e.b.as_slice(), 1.0 / d_out as f64),
        ("wang W", w.w.as_slice(), 2.0 / mf),
        ("wang A", w.a.as_slice(), 2.0 / ((len as f64).powi(3) * mf)),
        ("wang B", w.b.as_slice(), 1.0 / mf),
        ("wang M0", w.m0.as_ref().unwrap(), 2.0 / mf),
    ];
    for (name, v, var) in checks {
        let (zm, zv) = z_scores(v, var);
        println!(
            "{name}: {} entries, mean z {zm:.2}, variance z {zv:.2}",
            v.len()
        );
        assert!(zm < 4.0 && zv < 4.0, "{name}: z-scores {zm} {zv}");
    }
    assert!(e.m0.is_none() && e.h0().iter().all(|&v| v == 0.0));
    assert_eq!((e.b.rows(), e.b.cols()), (d_out, m));
    assert_eq!(w.b_variance(), 1.0 / mf);
    assert_eq!(e.b_variance(), 1.0 / d_out as f64);
    // saved arrays: shapes of the CLI contract, and a rebuild gives the same network
    let arrays = w.param_arrays();
    let shapes: Vec<(&str, Vec<usize>)> =
        arrays.iter().map(|p| (p.name, p.shape.clone())).collect();
    assert_eq!(
        shapes,
        vec![
            ("w", vec![m, m]),
            ("a", vec![m, d_in]),
            ("b", vec![m]),
            ("m0", vec![m])
        ]
    );
    let get = |name: &str| arrays.iter().find(|p| p.name == name).unwrap().data.clone();
    let rebuilt = Rnn::from_parts(
        Preset::Wang,
        Matrix::from_vec(m, m, get("w")).unwrap(),
        Matrix::from_vec(m, d_in, get("a")).unwrap(),
        Matrix::from_vec(1, m, get("b")).unwrap(),
        Some(get("m0")),
        len,
    )
    .unwrap();
    let xs = sequence(2, len, d_in, 1);
    assert_eq!(rebuilt.predict(&xs).unwrap(), w.predict(&xs).unwrap());
    let e_shapes: Vec<Vec<usize>> = e.param_arrays().iter().map(|p| p.shape.clone()).collect();
    assert_eq!(e_shapes, vec![vec![m, m], vec![m, d_in], vec![d_out, m]]);
    // f32 nets of a seed are the rounded f64 nets
    let e32 = Rnn::<f32>::init(Preset::Elman, m, d_in, d_out, len, 3).unwrap();
    assert_eq!(e32.w.get(7, 9), e.w.get(7, 9) as f32);
}

#[test]
fn cross_time_terms_shrink_with_width() {
    // seed 004 Theorem 6: the ℓ ≠ ℓ' terms of eq. 23 vanish as m → ∞
    let (n, len, dx) = (4, 5, 3);
    let seeds = 4u64;
    for preset in [Preset::Wang, Preset::Elman] {
        let xs = match preset {
            Preset::Wang => sequence(n, len, dx, 77),
            Preset::Elman => {
                let xstar = sequence(n, len - 2, dx, 78);
                elman_input_transform(&xstar, 0.5).unwrap()
            }
        };
        let d_in = xs[0].cols();
        let mut fractions = Vec::new();
        for &m in &[64usize, 256, 1024] {
            let mut frac = 0.0;
            for s in 0..seeds {
                let net = Rnn::<f64>::init(preset, m, d_in, 1, len, 1000 + s).unwrap();
                frac += rnn_ntk_with_blocks(&net, &xs).unwrap().cross_fraction();
            }
            fractions.push(frac / seeds as f64);
        }
        println!("{preset:?}: ‖cross‖/‖H‖ at m = 64, 256, 1024: {fractions:?}");
        // measured (4 seeds, n = 4, L = 5): wang 0.172, 0.077, 0.043; elman 0.134, 0.075, 0.036
        assert!(
            fractions[1] < fractions[0] && fractions[2] < fractions[1],
            "{preset:?}: {fractions:?}"
        );
        assert!(
            fractions[2] < 0.5 * fractions[0],
            "{preset:?}: {fractions:?}"
        );
    }
}
