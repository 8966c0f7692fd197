//! The finite network of a composed architecture (issue 23,
//! `widenet::models::composed`) against independent references: central finite
//! differences of its outputs, the explicit Jacobian's J Jᵀ, seed 001's
//! hand-written two-layer network (same weights, same GD), and Monte Carlo
//! convergence of the empirical NTK/NNGP to the engine's infinite-width kernels.

use crate::support::{err_text, normal_matrix};
use widenet::kernels::compose::{composed_gram, Arch, Output};
use widenet::linalg::{least_squares, Matrix};
use widenet::models::composed::{ComposedNet, DenseParams};
use widenet::models::TwoLayerNet;
use widenet::train::gd::{train_gd, GdConfig};

/// Architectures covering every kind of layer the finite network implements:
/// closed-form and expression activations, biases, both parameterizations,
/// non-trainable layers and the three fan-ins.
const ARCHS: &[&str] = &[
    "dense(b=0.2), relu, dense(w=1.5, b=0.3), relu, dense",
    "gram=dot; dense, relu, dense(trainable=false)",
    "dense(w=1.2, b=0.4, width=6), erf, dense(param=standard, b=0.5, width=5), tanh_expr, dense(param=standard)",
    "dense, sum(identity, serial(relu, dense(b=0.1), scale(0.5))), gelu, dense(b=0.2)",
    "dense, prod(serial(sin, dense), serial(cos(a=0.7, b=1.3, c=0.2), dense)), dense, leaky_relu(0.2), dense",
    "dense(trainable=false), concat(serial(abs, dense(width=5)), serial(expr('z^2/2 + arctan(z)'), dense(width=7))), dense, exp(0.5, 0.3), dense",
    "dense(b=0.5), gaussian(1.1, -0.3), dense(w=0.8), abrelu(-0.4, 1.1), dense(b=0.1, trainable=false)",
];

fn arch(spec: &str) -> Arch {
    Arch::parse(&spec.replace("tanh_expr", "expr('tanh(z)')")).unwrap()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// A layer's parameters (or gradient) flat: W row-major, then b.
pub(crate) fn flat(p: &DenseParams) -> Vec<f64> {
    p.w.as_slice()
        .iter()
        .chain(p.b.iter().flatten())
        .copied()
        .collect()
}

/// Every trainable parameter as (layer, position in w then b), in the Jacobian's order.
pub(crate) fn perturbed(
    params: &[DenseParams],
    layer: usize,
    pos: usize,
    h: f64,
) -> Vec<DenseParams> {
    let mut p = params.to_vec();
    let nw = p[layer].w.as_slice().len();
    if pos < nw {
        p[layer].w.as_mut_slice()[pos] += h;
    } else {
        p[layer].b.as_mut().unwrap()[pos - nw] += h;
    }
    p
}

#[test]
fn jacobian_and_loss_gradient_match_central_differences() {
    let (n, d, m) = (4, 3, 5);
    let x = normal_matrix(n, d, 11);
    let y = [0.3, -0.5, 1.1, 0.2];
    let mut worst = 0.0f64;
    for (a, spec) in ARCHS.iter().enumerate() {
        let ar = arch(spec);
        let net = ComposedNet::init(&ar, d, m, 100 + a as u64).unwrap();
        let j = net.jacobian(&x).unwrap();
        assert_eq!(j.cols(), net.num_trainable(), "{spec}");
        let f0 = net.apply(&x).unwrap();
        // the loss gradient by backpropagation is Jᵀ(f − y), exactly as algebra
        let (_, grad) = net.loss_gradient(&x, &y).unwrap();
        let r: Vec<f64> = f0.iter().zip(&y).map(|(a, b)| a - b).collect();
        let h = 1e-5;
        let mut col = 0;
        let trainable: Vec<bool> = (0..net.params().len())
            .map(|k| !layer_frozen(&ar, k))
            .collect();
        for k in 0..net.params().len() {
            let gk = flat(&grad[k]);
            if !trainable[k] {
                assert!(
                    gk.iter().all(|&g| g == 0.0),
                    "{spec}: frozen layer {k} has a gradient"
                );
                continue;
            }
            for (pos, &g) in gk.iter().enumerate() {
                let f_at = |h: f64| {
                    ComposedNet::from_params(&ar, d, perturbed(net.params(), k, pos, h))
                        .unwrap()
                        .apply(&x)
                        .unwrap()
                };
                let (fp, fm) = (f_at(h), f_at(-h));
                let jg = r
                    .iter()
                    .enumerate()
                    .map(|(i, ri)| ri * j.get(i, col))
                    .sum::<f64>();
                assert!(
                    (jg - g).abs() <= 1e-12 * (1.0 + g.abs()),
                    "{spec}: loss gradient {g} vs J^T r {jg}"
                );
                for (i, (a, b)) in fp.iter().zip(&fm).enumerate() {
                    let fd = (a - b) / (2.0 * h);
                    let e = (fd - j.get(i, col)).abs() / (1.0 + fd.abs());
                    worst = worst.max(e);
                    assert!(
                        e <= 1e-6,
                        "{spec}: d f(x_{i}) / d params[{k}][{pos}]: backprop {} vs central \
                         difference {fd}",
                        j.get(i, col)
                    );
                }
                col += 1;
            }
        }
        assert_eq!(col, j.cols(), "{spec}");
    }
    println!("worst relative difference backprop vs central differences: {worst:.2e}");
}

/// Whether the k-th dense layer of `ar` (spec order) is `trainable=false`.
fn layer_frozen(ar: &Arch, k: usize) -> bool {
    use widenet::kernels::compose::Layer;
    fn walk(l: &Layer, out: &mut Vec<bool>) {
        match l {
            Layer::Dense { trainable, .. } => out.push(!trainable),
            Layer::Serial(ls) | Layer::Parallel { branches: ls, .. } => {
                ls.iter().for_each(|c| walk(c, out))
            }
            _ => {}
        }
    }
    let mut v = vec![];
    walk(&ar.net, &mut v);
    v[k]
}

#[test]
fn empirical_ntk_is_j_jt_and_nngp_the_readout_gram() {
    let (d, m) = (3, 7);
    let x = normal_matrix(5, d, 21);
    let x2 = normal_matrix(3, d, 22);
    for (a, spec) in ARCHS.iter().enumerate() {
        let ar = arch(spec);
        let net = ComposedNet::init(&ar, d, m, 200 + a as u64).unwrap();
        let (j1, j2) = (net.jacobian(&x).unwrap(), net.jacobian(&x2).unwrap());
        for (k, other, jo) in [
            (net.empirical_ntk(&x, None).unwrap(), &x, &j1),
            (net.empirical_ntk(&x, Some(&x2)).unwrap(), &x2, &j2),
        ] {
            assert_eq!(k.shape(), (x.rows(), other.rows()));
            let mut jjt = Matrix::zeros(x.rows(), other.rows());
            widenet::linalg::gemm_into(&mut jjt, j1.view(), jo.t(), 1.0, false).unwrap();
            let scale = max_abs(jjt.as_slice());
            let diff = k
                .as_slice()
                .iter()
                .zip(jjt.as_slice())
                .fold(0.0f64, |mx, (p, q)| mx.max((p - q).abs()));
            assert!(
                diff <= 1e-12 * scale,
                "{spec}: |NTK - J J^T| = {diff:e} of {scale:e}"
            );
        }
    }
    // with only the readout trained, the NTK is the readout's feature Gram: the NNGP
    let ar = Arch::parse("dense(b=0.3, trainable=false), erf, dense(w=1.3, b=0.5)").unwrap();
    let net = ComposedNet::init(&ar, d, 40, 5).unwrap();
    let ntk = net.empirical_ntk(&x, Some(&x2)).unwrap();
    let nngp = net.empirical_nngp(&x, Some(&x2)).unwrap();
    for (p, q) in ntk.as_slice().iter().zip(nngp.as_slice()) {
        assert!((p - q).abs() <= 1e-12 * q.abs().max(1.0), "{p} vs {q}");
    }
}

#[test]
fn gd_of_the_composed_two_layer_net_equals_seed_001_network() {
    let (n, d, m, steps, eta) = (12, 5, 64, 40, 0.05);
    let mut x = normal_matrix(n, d, 31);
    for i in 0..n {
        let r = widenet::linalg::norm2(x.row(i));
        x.row_mut(i).iter_mut().for_each(|v| *v /= r);
    }
    let y: Vec<f64> = (0..n)
        .map(|i| if i % 3 == 0 { 1.0 } else { -0.5 })
        .collect();
    let net = TwoLayerNet::<f64>::init(m, d, 1.0, 7).unwrap();
    // seed 001's f = (1/√m) Σ a_r relu(w_rᵀx): hidden W as the first dense layer,
    // the fixed signs a as the readout's (non-trainable) weights
    let ar = Arch::parse("gram=dot; dense, relu, dense(trainable=false)").unwrap();
    let params = vec![
        DenseParams {
            w: net.w.clone(),
            b: None,
        },
        DenseParams {
            w: Matrix::from_vec(1, m, net.a.clone()).unwrap(),
            b: None,
        },
    ];
    let mut comp = ComposedNet::from_params(&ar, d, params).unwrap();
    let u0 = net.predict(&x).unwrap();
    let c0 = comp.apply(&x).unwrap();
    for (a, b) in u0.iter().zip(&c0) {
        assert!((a - b).abs() <= 1e-13, "initial outputs {a} vs {b}");
    }
    let cfg = GdConfig {
        eta,
        max_steps: steps,
        loss_tol: 0.0,
        eval_every: 1,
        progress: false,
    };
    let out = train_gd(net, &x, &y, None, &cfg).unwrap();
    let hist = comp.train_gd(&x, &y, eta, steps).unwrap();
    assert_eq!(hist.len(), out.metrics.loss.len());
    assert!(hist[steps] < 0.5 * hist[0], "GD reduces the loss: {hist:?}");
    for (a, b) in hist.iter().zip(&out.metrics.loss) {
        assert!((a - b).abs() <= 1e-12 * b, "loss {a} vs seed 001's {b}");
    }
    let wc = &comp.params()[0].w;
    let scale = max_abs(out.net.w.as_slice());
    for (a, b) in wc.as_slice().iter().zip(out.net.w.as_slice()) {
        assert!((a - b).abs() <= 1e-12 * scale, "weights {a} vs {b}");
    }
    assert_eq!(comp.params()[1].w.as_slice(), out.net.a.as_slice());
}

/// Over `seeds` networks of width `width`: the root-mean-square relative error of
/// the empirical kernel, sqrt(mean_s ‖K̂_s − K‖²_F)/‖K‖_F, and the relative error
/// of their average, ‖mean_s K̂_s − K‖_F/‖K‖_F, against the infinite kernel K.
/// (A recurrent net's rows of x hold its len steps.)
fn mc_errors(ar: &Arch, x: &Matrix<f64>, width: usize, seeds: u64, output: Output) -> (f64, f64) {
    let exact = composed_gram(ar, x, output).unwrap();
    let d = x.cols() / ar.seq_len().unwrap_or(1);
    let mut mean = vec![0.0; exact.as_slice().len()];
    let mut sq = 0.0;
    for s in 0..seeds {
        let net = ComposedNet::init(ar, d, width, 1000 + s).unwrap();
        let k = match output {
            Output::Ntk => net.empirical_ntk(x, None).unwrap(),
            Output::Nngp => net.empirical_nngp(x, None).unwrap(),
        };
        mean.iter_mut()
            .zip(k.as_slice())
            .for_each(|(a, b)| *a += b / seeds as f64);
        sq += k
            .as_slice()
            .iter()
            .zip(exact.as_slice())
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            / seeds as f64;
    }
    let num: f64 = mean
        .iter()
        .zip(exact.as_slice())
        .map(|(a, b)| (a - b).powi(2))
        .sum();
    let den: f64 = exact.as_slice().iter().map(|v| v * v).sum();
    ((sq / den).sqrt(), (num / den).sqrt())
}

#[test]
fn empirical_kernels_converge_to_the_composed_kernel_at_rate_one_over_root_m() {
    // a residual network (seed 003's x + α·block) with biases, on inputs of mixed norms
    let ar = Arch::parse(
        "dense(b=0.2), sum(identity, serial(relu, dense(b=0.1), scale(0.7))), relu, dense(b=0.1)",
    )
    .unwrap();
    let mut x = normal_matrix(8, 4, 41);
    x.row_mut(1).iter_mut().for_each(|v| *v *= 2.5);
    x.row_mut(3).iter_mut().for_each(|v| *v *= 0.4);
    for output in [Output::Ntk, Output::Nngp] {
        assert_converges(
            &ar,
            &x,
            &[32, 64, 128, 256, 512, 1024],
            24,
            output,
            0.1,
            -0.25,
        );
    }
}

/// Fits the log-log slope of the RMS error ([`mc_errors`]) over `widths` and asserts
/// it in [−0.8, `slope_max`]; at the widest width, the RMS error below `rms_max` and
/// the error of the seeds' mean below 2·RMS/√seeds: the average over seeds is
/// unbiased, its error the fluctuation's, not a plateau (a wrong kernel would
/// leave its difference).
pub(crate) fn assert_converges(
    ar: &Arch,
    x: &Matrix<f64>,
    widths: &[usize],
    seeds: u64,
    output: Output,
    rms_max: f64,
    slope_max: f64,
) {
    let errs: Vec<(f64, f64)> = widths
        .iter()
        .map(|&w| mc_errors(ar, x, w, seeds, output))
        .collect();
    let lx: Vec<f64> = widths.iter().map(|&w| (w as f64).ln()).collect();
    let ly: Vec<f64> = errs.iter().map(|e| e.0.ln()).collect();
    let (slope, _, _) = least_squares(&lx, &ly);
    let shown: Vec<String> = errs
        .iter()
        .map(|e| format!("{:.3e}/{:.3e}", e.0, e.1))
        .collect();
    let name = output.name();
    println!(
        "[{ar}] {name}: rms/mean-of-{seeds} errors {shown:?} at m = {widths:?}, log-log slope \
         {slope:.3}"
    );
    assert!(
        (-0.8..=slope_max).contains(&slope),
        "[{ar}] {name}: slope {slope} of the error in m (errors {shown:?})"
    );
    let (rms, mean) = errs[widths.len() - 1];
    assert!(
        rms < rms_max && mean < 2.0 * rms / (seeds as f64).sqrt(),
        "[{ar}] {name}: at the widest width rms error {rms}, error of the mean {mean}"
    );
}

#[test]
fn results_are_bit_identical_at_any_thread_count() {
    let ar = arch(ARCHS[3]);
    let x = normal_matrix(40, 6, 51);
    let y: Vec<f64> = (0..40).map(|i| (i as f64 * 0.37).sin()).collect();
    let go = || {
        let mut net = ComposedNet::init(&ar, 6, 300, 9).unwrap();
        let k = net.empirical_ntk(&x, None).unwrap();
        let h = net.train_gd(&x, &y, 0.01, 3).unwrap();
        (k.into_vec(), h, net.into_params())
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(go);
    let many = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap()
        .install(go);
    let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.0), bits(&many.0));
    assert_eq!(bits(&one.1), bits(&many.1));
    assert_eq!(one.2, many.2);
}

#[test]
fn bad_input_names_the_argument() {
    let ar = Arch::parse("dense, relu, dense").unwrap();
    let x = normal_matrix(3, 4, 1);
    assert!(err_text(ComposedNet::init(&ar, 4, 0, 1)).contains("width"));
    assert!(err_text(ComposedNet::init(&ar, 0, 8, 1)).contains("invalid d"));
    let net = ComposedNet::init(&ar, 4, 8, 1).unwrap();
    let wrong = normal_matrix(3, 5, 1);
    assert!(err_text(net.apply(&wrong)).contains("invalid x"));
    assert!(err_text(net.empirical_ntk(&x, Some(&wrong))).contains("invalid x2"));
    assert!(err_text(net.loss_gradient(&x, &[1.0, 2.0])).contains("invalid y"));
    let mut net2 = net.clone();
    assert!(err_text(net2.train_gd(&x, &[1.0, 2.0, 3.0], -1.0, 3)).contains("invalid eta"));
    // parameters that do not fit the architecture
    let mut p = net.params().to_vec();
    p[0].w = Matrix::zeros(8, 3);
    let e = err_text(ComposedNet::from_params(&ar, 4, p));
    assert!(e.contains("params") && e.contains("layer 1"), "{e}");
    let e = err_text(ComposedNet::from_params(&ar, 4, net.params()[..1].to_vec()));
    assert!(e.contains("params"), "{e}");
    // architectures the finite network cannot build
    let e = err_text(ComposedNet::init(
        &Arch::parse("dense, relu").unwrap(),
        4,
        8,
        1,
    ));
    assert!(e.contains("readout") && e.contains("layer 2 'relu'"), "{e}");
    let e = err_text(ComposedNet::init(
        &Arch::parse("dense, sum(dense(width=3), dense(width=4)), dense").unwrap(),
        4,
        8,
        1,
    ));
    assert!(e.contains("layer 2 'sum'") && e.contains("width"), "{e}");
    // nets whose kernel the engine refuses are refused here too (an activation
    // needs a Gaussian input: the finite net would apply φ to x itself, the
    // kernel treat x as Gaussian), by the same message
    for (spec, needle) in [
        ("relu, dense", "layer 1 'relu'"),
        ("dense, relu, erf, dense", "layer 3 'erf'"),
        (
            "dense, concat(dense, serial(dense, sin)), relu, dense",
            "layer 3 'relu'",
        ),
        (
            "dense, concat(dense(width=4), dense), dense",
            "layer 2 'concat'",
        ),
    ] {
        let a = Arch::parse(spec).unwrap();
        let e = err_text(ComposedNet::init(&a, 4, 8, 1));
        let k = err_text(composed_gram(&a, &x, Output::Ntk));
        assert!(
            e.contains(needle) && e == k,
            "{spec}: net '{e}', kernel '{k}'"
        );
    }
    // a recurrent layer is refused by name (by the parser, or by the finite network
    // where the engine knows the layer)
    let e = match Arch::parse("dense, recurrent(serial(dense, relu), steps=3), dense") {
        Err(e) => e.to_string(),
        Ok(a) => err_text(ComposedNet::init(&a, 4, 8, 1)),
    };
    assert!(e.contains("recurrent"), "{e}");
}

#[test]
fn closed_form_activations_match_their_expressions_pointwise() {
    use widenet::kernels::compose::maps::{closed_point, ActMap};
    use widenet::kernels::compose::Act;
    // each closed form against the same function written as an expression (values
    // and derivatives by the expression parser's dual numbers)
    let cases = [
        (Act::Relu, "relu(z)"),
        (Act::LeakyRelu { alpha: 0.1 }, "relu(z) - 0.1*relu(-z)"),
        (
            Act::AbRelu { a: -0.3, b: 1.2 },
            "1.2*relu(z) + 0.3*relu(-z)",
        ),
        (Act::Abs, "abs(z)"),
        (Act::Sign, "sign(z)"),
        (
            Act::Erf {
                a: 1.5,
                b: 0.7,
                c: -0.2,
            },
            "1.5*erf(0.7z) - 0.2",
        ),
        (Act::Gelu, "z*(1 + erf(z/sqrt(2)))/2"),
        (
            Act::Sin {
                a: 0.8,
                b: 1.3,
                c: 0.4,
            },
            "0.8*sin(1.3z + 0.4)",
        ),
        (
            Act::Cos {
                a: 0.8,
                b: 1.3,
                c: 0.4,
            },
            "0.8*cos(1.3z + 0.4)",
        ),
        (Act::Exp { a: 0.6, b: 0.5 }, "0.6*exp(0.5z)"),
        (Act::Gaussian { a: 1.3, b: -0.4 }, "1.3*exp(-0.4*z^2)"),
    ];
    for (act, src) in cases {
        let closed = ActMap::new(&act).unwrap();
        let expr = ActMap::new(&Act::Expr {
            src: src.into(),
            nodes: 8,
        })
        .unwrap();
        for k in -12..=12 {
            let z = 0.37 * k as f64 + 0.011;
            let ((v1, d1), (v2, d2)) = (closed.point(z), expr.point(z));
            assert_eq!((v1, d1), closed_point(&act, z));
            assert!(
                (v1 - v2).abs() <= 1e-14 * (1.0 + v2.abs())
                    && (d1 - d2).abs() <= 1e-14 * (1.0 + d2.abs()),
                "{src} at {z}: ({v1}, {d1}) vs ({v2}, {d2})"
            );
        }
    }
}

#[test]
fn standard_parameterization_matches_its_kernel_at_the_stated_widths() {
    // the standard parameterization's NTK depends on the layer widths (the kernel
    // reads them from `width`), so the finite network is checked at those widths;
    // gram=dot exercises the input scaling h⁰ = √d·x of the first layer's n·Σ⁰ term
    let mut x = normal_matrix(6, 3, 61);
    x.row_mut(2).iter_mut().for_each(|v| *v *= 1.8);
    for spec in [
        "dense(param=standard, w=1.3, b=0.2, width=2048), erf, dense(param=standard, b=0.1)",
        "gram=dot; dense(param=standard, w=0.6, width=2048), relu, dense(w=1.1, b=0.3, param=standard)",
    ] {
        let ar = Arch::parse(spec).unwrap();
        for output in [Output::Ntk, Output::Nngp] {
            // every hidden width is fixed by `width=`: the `width` argument is unused
            let (rms, mean) = mc_errors(&ar, &x, 1, 8, output);
            println!("{spec} {}: rms {rms:.3e}, mean of 8 {mean:.3e}", output.name());
            assert!(
                rms < 0.1 && mean < 0.05,
                "{spec} {}: rms error {rms}, error of the mean {mean}",
                output.name()
            );
        }
    }
}

#[test]
fn cli_train_composed_writes_the_library_run() {
    use widenet::data::npy;
    let dir = tempfile::tempdir().unwrap();
    let x = normal_matrix(10, 3, 71);
    let y: Vec<f64> = (0..10).map(|i| (0.7 * i as f64).cos()).collect();
    let (xp, yp) = crate::support::write_xy(dir.path(), &x, &y);
    let out = dir.path().join("run");
    let spec = "dense(b=0.1), relu, dense";
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_widenet"))
            .args(["train", "composed", "--arch", spec, "--x"])
            .arg(&xp)
            .arg("--y")
            .arg(&yp)
            .args(extra)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
    };
    let o = run(&[
        "--width", "32", "--eta", "0.05", "--steps", "7", "--seed", "4",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // the same run through the library, bit for bit
    let mut net = ComposedNet::init(&Arch::parse(spec).unwrap(), 3, 32, 4).unwrap();
    let loss = net.train_gd(&x, &y, 0.05, 7).unwrap();
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let got: Vec<f64> = serde_json::from_value(m["loss"].clone()).unwrap();
    assert_eq!(got, loss);
    assert_eq!(m["spec"], spec);
    let arrays = net.to_arrays();
    assert_eq!(m["params"].as_array().unwrap().len(), arrays.len());
    for (i, (shape, data)) in arrays.iter().enumerate() {
        let (s2, d2) = npy::read_array::<f64>(out.join(format!("param{i}.npy"))).unwrap();
        assert_eq!((&s2, &d2), (shape, data));
    }
    // bad flags are named
    let o = run(&["--width", "0", "--eta", "0.05", "--steps", "7"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--width"));
}

#[test]
fn concatenation_of_unequal_widths_weighs_the_branches_by_width() {
    // one hidden layer per branch: the empirical NNGP and NTK of a finite network
    // average exactly to the infinite-width kernels (the first pre-activations are
    // exactly Gaussian, the readout independent of them), so the mean over seeds
    // must match the kernel within its standard error; widths 3:1
    let ar = Arch::parse(
        "concat(serial(dense(w=1.8, b=0.3, width=48), relu), \
         serial(dense(w=1.2, width=16), erf(a=0.6, b=0.8, c=0.0))), dense(b=0.2)",
    )
    .unwrap();
    let mut x = normal_matrix(6, 3, 77);
    x.row_mut(2).iter_mut().for_each(|v| *v *= 2.0);
    x.row_mut(4).iter_mut().for_each(|v| *v *= 0.5);
    // the same net with the branches averaged (equal widths 16:16) differs from it
    let even = Arch::parse(
        "concat(serial(dense(w=1.8, b=0.3, width=16), relu), \
         serial(dense(w=1.2, width=16), erf(a=0.6, b=0.8, c=0.0))), dense(b=0.2)",
    )
    .unwrap();
    let seeds = 600u64;
    for output in [Output::Nngp, Output::Ntk] {
        let exact = composed_gram(&ar, &x, output).unwrap();
        let averaged = composed_gram(&even, &x, output).unwrap();
        let nn = exact.as_slice().len();
        let (mut sum, mut sq) = (vec![0.0; nn], vec![0.0; nn]);
        for s in 0..seeds {
            let net = ComposedNet::init(&ar, 3, 8, 5000 + s).unwrap();
            let k = match output {
                Output::Ntk => net.empirical_ntk(&x, None).unwrap(),
                Output::Nngp => net.empirical_nngp(&x, None).unwrap(),
            };
            for (i, v) in k.as_slice().iter().enumerate() {
                sum[i] += v;
                sq[i] += v * v;
            }
        }
        let sf = seeds as f64;
        let (mut worst, mut worst_avg) = (0.0f64, 0.0f64);
        for i in 0..nn {
            let mean = sum[i] / sf;
            let se = ((sq[i] / sf - mean * mean).max(0.0) / (sf - 1.0)).sqrt();
            worst = worst.max((mean - exact.as_slice()[i]).abs() / se);
            worst_avg = worst_avg.max((mean - averaged.as_slice()[i]).abs() / se);
        }
        println!(
            "{}: worst |mean − kernel| {worst:.2} standard errors; against the plain \
             average of the branches {worst_avg:.1}",
            output.name()
        );
        assert!(worst < 4.5, "{}: {worst} standard errors", output.name());
        assert!(worst_avg > 10.0, "{}: {worst_avg}", output.name());
    }
}
