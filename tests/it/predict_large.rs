//! The large-n prediction paths (src/theory/predict/krylov.rs: top-k deflation plus block
//! Lanczos on the large-n `LinearOperator`, Cholesky at t = ∞ on a stored kernel) against
//! the dense path's eigendecomposition, to their reported accuracy; predictions from a
//! kernel by name against the array form on independently computed kernels; the ensemble's
//! covariance and the NNGP posterior on the large-n path against the dense path; bit-identical
//! results at 1 and 2 threads; bad input named.

use super::predict::{invalid_name, normal, one_hot, rel};
use widenet::kernels::fc::{fc_nngp, fc_nngp_gram, fc_ntk, fc_ntk_gram, FcTrained};
use widenet::kernels::relu_ntk::{h_inf, h_inf_cross};
use widenet::kernels::tile::matvec;
use widenet::linalg::Matrix;
use widenet::rng;
use widenet::theory::large_n::operator::{DenseF64, F32Products, KernelOp};
use widenet::theory::predict::cli::{
    predict, KernelBlocks, KernelInput, Mode, NamedKernel, PathChoice, PredictOutputs,
    PredictRequest,
};
use widenet::theory::predict::dense::NngpKernels;
use widenet::theory::predict::krylov::{
    gp_inference_krylov, gradient_descent_mse_ensemble_krylov, gradient_descent_mse_krylov,
    KrylovConfig, NngpOperators, TestKernel,
};
use widenet::theory::predict::{
    gp_inference, gradient_descent_mse, gradient_descent_mse_ensemble, Cov, Dynamics, LossNorm,
    Schedule, TestTest,
};

fn sphere(n: usize, d: usize, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "predict-large inputs");
    widenet::data::synthetic::unit_sphere(n, d, &mut g)
}

fn named(name: &str) -> NamedKernel {
    NamedKernel {
        name: name.into(),
        depth: 3,
        bandwidth: 1.0,
        arch: None,
    }
}

fn request<'a>(
    input: KernelInput<'a>,
    y: &'a Matrix<f64>,
    d: &'a Dynamics,
    path: Option<PathChoice>,
) -> PredictRequest<'a> {
    PredictRequest {
        input,
        mode: Mode::Gd,
        y_train: y,
        y_test: None,
        f0_train: None,
        f0_test: None,
        dynamics: d,
        noise: 0.0,
        path,
        top_k: 30,
        tol: 1e-8,
        show_progress: false,
    }
}

/// The largest reported error per time.
fn reported(a: &[Vec<f64>]) -> Vec<f64> {
    a.iter()
        .map(|r| r.iter().fold(0.0f64, |m, v| m.max(*v)))
        .collect()
}

/// Every test output of `large` within 10x its reported accuracy of `dense` (the change
/// from f0(X*) against the reported relative error of g(K')R).
fn assert_within_reported(large: &PredictOutputs, dense: &[Matrix<f64>], f0t: &Matrix<f64>) {
    let est = reported(large.achieved_rel_error.as_ref().expect("a large-n path"));
    let moved =
        |f: &Matrix<f64>| Matrix::from_fn(f.rows(), f.cols(), |a, b| f.get(a, b) - f0t.get(a, b));
    for (i, t) in large.dynamics.times.iter().enumerate() {
        let err = rel(&moved(&large.test[i]), &moved(&dense[i]));
        assert!(
            err <= 10.0 * est[i].max(1e-11),
            "{} path, t = {t}: error {err:e}, reported {:e}",
            large.path,
            est[i]
        );
    }
}

/// The Krylov path at n = 1,200 (top 30 deflated, basis far below n) against the dense
/// eigendecomposition, flow and discrete steps, with t = ∞ by Krylov (operator only) and
/// by Cholesky (stored kernel): every test prediction within 10x its reported accuracy,
/// the accuracy met, the train outputs to 1e-7.
#[test]
fn krylov_path_equals_dense_path_to_its_reported_accuracy() {
    let (n, m, c) = (1200, 40, 3);
    let x = sphere(n, 12, 21);
    let xt = sphere(m, 12, 22);
    let k = h_inf(&x).unwrap();
    let kt = h_inf_cross(&xt, &x).unwrap();
    let y = one_hot(n, c, 22);
    let f0 = normal(n, c, 0.1, 23);
    let f0t = normal(m, c, 0.1, 24);
    let base = Dynamics {
        times: vec![0.0, 10.0, 100.0, 1e3, 1e4, f64::INFINITY],
        learning_rate: 0.01,
        schedule: Schedule::Flow,
        ridge: 0.05,
        loss_norm: LossNorm::Sum,
    };
    let cfg = KrylovConfig {
        tol: 1e-8,
        top_k: 30,
        ..Default::default()
    };
    for (schedule, times) in [
        (Schedule::Flow, base.times.clone()),
        (
            Schedule::Steps,
            vec![0.0, 7.0, 300.0, 5000.0, f64::INFINITY],
        ),
    ] {
        let d = Dynamics {
            times,
            schedule,
            ..base.clone()
        };
        let dense = gradient_descent_mse(&k, &y, Some(&kt), Some(&f0), Some(&f0t), &d).unwrap();
        for stored in [None, Some(&k)] {
            let kr = gradient_descent_mse_krylov(
                &DenseF64(&k),
                stored,
                &y,
                Some(&TestKernel::Dense(&kt)),
                Some(&f0),
                Some(&f0t),
                &d,
                &cfg,
            )
            .unwrap();
            assert!(kr.converged, "{:?}", kr.achieved_rel_error);
            assert_eq!(kr.top_k, 38, "k' = k + 8 Ritz pairs deflated");
            assert!(kr.basis < n / 3, "basis {} of n = {n}", kr.basis);
            assert_eq!(
                kr.infinite_time,
                if stored.is_some() {
                    "cholesky"
                } else {
                    "krylov"
                }
            );
            let out = PredictOutputs {
                dynamics: d.clone(),
                train: kr.prediction.train.clone(),
                test: kr.prediction.test.clone().unwrap(),
                cov: None,
                curves: widenet::theory::predict::Curves::new(
                    &d.times,
                    &kr.prediction.train,
                    &y,
                    None,
                )
                .unwrap(),
                eig_range: Some(kr.prediction.eig_range),
                n_test: m,
                path: "krylov".into(),
                achieved_rel_error: Some(kr.achieved_rel_error.clone()),
                krylov_basis: Some(kr.basis),
                top_k: Some(kr.top_k),
                cov_rel_error: None,
            };
            assert_within_reported(&out, dense.test.as_ref().unwrap(), &f0t);
            for (i, t) in d.times.iter().enumerate() {
                assert!(
                    rel(&kr.prediction.train[i], &dense.train[i]) < 1e-7,
                    "{schedule:?} t = {t}"
                );
            }
        }
    }
}

/// The matrix-free path on a kernel by name (H^∞ recomputed by tiles at every product,
/// the test–train block by tiles) against the dense path on arrays from `h_inf` /
/// `h_inf_cross`, and the stored-kernel path by name, at n = 1,000.
#[test]
fn matrix_free_by_name_equals_dense_arrays_to_its_reported_accuracy() {
    let (n, m, c) = (1000, 30, 4);
    let x = sphere(n, 10, 31);
    let xt = sphere(m, 10, 32);
    let y = one_hot(n, c, 33);
    let d = Dynamics {
        times: vec![0.0, 30.0, 3e3, f64::INFINITY],
        learning_rate: 1.0,
        ridge: 0.02,
        ..Dynamics::default()
    };
    let blocks = KernelBlocks {
        train: h_inf(&x).unwrap(),
        test_train: h_inf_cross(&xt, &x).unwrap(),
        test_test: None,
    };
    let arrays = KernelInput::Arrays {
        kernel: &blocks,
        nngp: None,
    };
    let dense = predict(&request(arrays, &y, &d, Some(PathChoice::Dense))).unwrap();
    assert_eq!(dense.path, "dense");
    let kern = named("relu_ntk");
    for path in [PathChoice::MatrixFree, PathChoice::Krylov] {
        let input = KernelInput::Named {
            kernel: &kern,
            x_train: &x,
            x_test: &xt,
            full_cov: false,
        };
        let large = predict(&request(input, &y, &d, Some(path))).unwrap();
        assert_eq!(large.path, path.name());
        assert!(large.krylov_basis.unwrap() < n / 2);
        assert_within_reported(&large, &dense.test, &Matrix::zeros(m, c));
    }
}

/// The matrix-free operator's products are the stored kernel's to rounding (the tiles of
/// the stacked inputs' leading block are the training kernel).
#[test]
fn leading_block_of_the_stacked_kernel_is_the_training_kernel() {
    let x = sphere(300, 6, 41);
    let xt = sphere(20, 6, 42);
    let stacked = widenet::theory::predict::named::stack(&x, &xt).unwrap();
    let k = named("relu_ntk").tile_kernel(&stacked, false).unwrap();
    let lead = widenet::theory::predict::named::Leading { k: &*k, n: 300 };
    let op = KernelOp {
        kernel: &lead,
        f32: F32Products::F64,
    };
    let v = normal(300, 2, 1.0, 43);
    let want = widenet::linalg::matmul(h_inf(&x).unwrap().view(), v.view()).unwrap();
    use widenet::theory::large_n::LinearOperator;
    assert!(rel(&op.apply_f64(&v, false).unwrap(), &want) < 1e-12);
    assert!(rel(&matvec(&lead, &v).unwrap(), &want) < 1e-12);
}

/// A kernel by name gives the array form's predictions on kernels computed by the
/// independent closed forms (`fc_ntk`, `fc_nngp` of seed 003 §3): gd and the ensemble
/// (mean and variances), and gp.
#[test]
fn kernel_by_name_equals_the_array_form() {
    let (n, m, c) = (60, 12, 3);
    let x = sphere(n, 5, 51);
    let xt = sphere(m, 5, 52);
    let y = one_hot(n, c, 53);
    let d = Dynamics {
        times: vec![0.0, 5.0, 500.0, f64::INFINITY],
        ridge: 1e-3,
        ..Dynamics::default()
    };
    let ntk = KernelBlocks {
        train: fc_ntk_gram(&x, 3, FcTrained::All).unwrap(),
        test_train: fc_ntk(&xt, &x, 3, FcTrained::All).unwrap(),
        test_test: None,
    };
    let nngp_tt = fc_nngp(&xt, &xt, 3).unwrap();
    let nngp = KernelBlocks {
        train: fc_nngp_gram(&x, 3).unwrap(),
        test_train: fc_nngp(&xt, &x, 3).unwrap(),
        test_test: Some(Matrix::from_fn(1, m, |_, j| nngp_tt.get(j, j))),
    };
    let kern = named("fc-ntk");
    for mode in [Mode::Gd, Mode::Ensemble, Mode::Gp] {
        let arrays = match mode {
            Mode::Gp => KernelInput::Arrays {
                kernel: &nngp,
                nngp: None,
            },
            _ => KernelInput::Arrays {
                kernel: &ntk,
                nngp: Some(&nngp),
            },
        };
        let by_name = KernelInput::Named {
            kernel: &kern,
            x_train: &x,
            x_test: &xt,
            full_cov: false,
        };
        let mut ra = request(arrays, &y, &d, None);
        let mut rn = request(by_name, &y, &d, None);
        (ra.mode, rn.mode, ra.noise, rn.noise) = (mode, mode, 1e-3, 1e-3);
        let a = predict(&ra).unwrap();
        let b = predict(&rn).unwrap();
        assert_eq!((a.path.as_str(), b.path.as_str()), ("dense", "dense"));
        for (pa, pb) in a.test.iter().zip(&b.test) {
            assert!(rel(pb, pa) < 1e-9, "{mode:?}: {:e}", rel(pb, pa));
        }
        match (&a.cov, &b.cov) {
            (None, None) => assert_eq!(mode, Mode::Gd),
            (Some(ca), Some(cb)) => {
                for (u, v) in ca.iter().zip(cb) {
                    let (u, v) = (u.diag(), v.diag());
                    let s = u.iter().fold(0.0f64, |a, b| a.max(b.abs()));
                    for (p, q) in u.iter().zip(&v) {
                        assert!((p - q).abs() <= 1e-9 * s, "{mode:?}: {p} vs {q}");
                    }
                }
            }
            _ => panic!("{mode:?}: one form has a covariance, the other not"),
        }
    }
}

/// Bad input names the argument: mismatched shapes, negative times and ridge, unknown
/// kernels, a kernel with no NNGP, matrix-free on arrays, the large-n ensemble without
/// its NNGP.
#[test]
fn bad_input_names_the_argument() {
    let (n, m) = (20, 4);
    let x = sphere(n, 3, 61);
    let xt = sphere(m, 3, 62);
    let y = one_hot(n, 2, 63);
    let d = Dynamics::default();
    let kern = named("relu_ntk");
    let by_name = |xt: &'static Matrix<f64>| KernelInput::Named {
        kernel: Box::leak(Box::new(kern.clone())),
        x_train: Box::leak(Box::new(x.clone())),
        x_test: xt,
        full_cov: false,
    };
    let err = |r: PredictRequest<'_>| match predict(&r) {
        Err(e) => invalid_name(e),
        Ok(_) => panic!("accepted bad input"),
    };
    let xt4: &'static Matrix<f64> = Box::leak(Box::new(sphere(m, 4, 64)));
    assert!(err(request(by_name(xt4), &y, &d, None)).contains("x_test"));
    let xt3: &'static Matrix<f64> = Box::leak(Box::new(xt.clone()));
    let y_bad = one_hot(n + 1, 2, 65);
    assert!(err(request(by_name(xt3), &y_bad, &d, None)).contains("y_train"));
    for path in [None, Some(PathChoice::MatrixFree)] {
        let neg_t = Dynamics {
            times: vec![1.0, -1.0],
            ..d.clone()
        };
        assert_eq!(err(request(by_name(xt3), &y, &neg_t, path)), "times");
        let neg_ridge = Dynamics {
            ridge: -0.1,
            ..d.clone()
        };
        assert_eq!(err(request(by_name(xt3), &y, &neg_ridge, path)), "ridge");
    }
    for name in ["resnet", "rnn_ntk"] {
        let k = named(name);
        let input = KernelInput::Named {
            kernel: &k,
            x_train: &x,
            x_test: &xt,
            full_cov: false,
        };
        assert_eq!(err(request(input, &y, &d, None)), "kernel");
    }
    let mut r = request(by_name(xt3), &y, &d, None);
    r.mode = Mode::Gp;
    assert_eq!(err(r), "kernel", "relu_ntk has no NNGP");
    let blocks = KernelBlocks {
        train: h_inf(&x).unwrap(),
        test_train: h_inf_cross(&xt, &x).unwrap(),
        test_test: None,
    };
    let arrays = || KernelInput::Arrays {
        kernel: &blocks,
        nngp: None,
    };
    assert_eq!(
        err(request(arrays(), &y, &d, Some(PathChoice::MatrixFree))),
        "path"
    );
    let mut r = request(arrays(), &y, &d, Some(PathChoice::Krylov));
    r.mode = Mode::Ensemble;
    assert_eq!(err(r), "nngp_train", "the ensemble without its NNGP");
    // the large-n ensemble and GP check their NNGP blocks, naming them
    let bad_nngp = KernelBlocks {
        train: h_inf(&x).unwrap(),
        test_train: h_inf_cross(&sphere(m + 1, 3, 66), &x).unwrap(),
        test_test: Some(Matrix::from_fn(1, m + 1, |_, _| 1.0)),
    };
    let mut r = request(
        KernelInput::Arrays {
            kernel: &blocks,
            nngp: Some(&bad_nngp),
        },
        &y,
        &d,
        Some(PathChoice::Krylov),
    );
    r.mode = Mode::Ensemble;
    assert!(err(r).contains("nngp_test_train"));
    let gp_blocks = KernelBlocks {
        train: h_inf(&x).unwrap(),
        test_train: h_inf_cross(&xt, &x).unwrap(),
        test_test: Some(Matrix::from_fn(1, m + 2, |_, _| 1.0)),
    };
    let mut r = request(
        KernelInput::Arrays {
            kernel: &gp_blocks,
            nngp: None,
        },
        &y,
        &d,
        Some(PathChoice::Krylov),
    );
    (r.mode, r.noise) = (Mode::Gp, 0.1);
    assert!(err(r).contains("k_test_test"));
    let mut r = request(arrays(), &y, &d, Some(PathChoice::Krylov));
    r.tol = 0.0;
    assert_eq!(err(r), "tol");
    let arch_on_fc = NamedKernel {
        arch: Some("dense, relu, dense".into()),
        ..named("fc_ntk")
    };
    let input = KernelInput::Named {
        kernel: &arch_on_fc,
        x_train: &x,
        x_test: &xt,
        full_cov: false,
    };
    assert_eq!(err(request(input, &y, &d, None)), "arch");
}

/// `widenet predict --kernel ... --path matrix-free|krylov` writes the same bits at 1 and
/// at 2 threads (RAYON_NUM_THREADS), and a composed kernel by `--arch` runs.
#[test]
fn large_n_paths_are_bit_identical_at_1_and_2_threads() {
    use widenet::data::npy::write_matrix;
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let (n, m) = (700, 40);
    write_matrix(p("x.npy"), &sphere(n, 8, 71)).unwrap();
    write_matrix(p("xt.npy"), &sphere(m, 8, 72)).unwrap();
    write_matrix(p("y.npy"), &one_hot(n, 3, 73)).unwrap();
    write_matrix(p("yt.npy"), &one_hot(m, 3, 74)).unwrap();
    let run = |threads: &str, path: &str, kernel: &[&str], out: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_widenet"))
            .env("RAYON_NUM_THREADS", threads)
            .arg("predict")
            .args(kernel)
            .arg("--x-train")
            .arg(p("x.npy"))
            .arg("--x-test")
            .arg(p("xt.npy"))
            .arg("--y-train")
            .arg(p("y.npy"))
            .arg("--y-test")
            .arg(p("yt.npy"))
            .args([
                "--times",
                "0,10,1000,inf",
                "--ridge",
                "0.01",
                "--top-k",
                "20",
                "--tol",
                "1e-8",
                "--path",
                path,
            ])
            .arg("--out")
            .arg(p(out))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(p(out).join("test_mean.npy")).unwrap()
    };
    for path in ["matrix-free", "krylov"] {
        let one = run("1", path, &["--kernel", "relu_ntk"], "one");
        let two = run("2", path, &["--kernel", "relu_ntk"], "two");
        assert!(
            one == two,
            "{path}: the predictions differ between 1 and 2 threads"
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p("two").join("predict.json")).unwrap())
                .unwrap();
        assert_eq!(json["path"], path);
        assert!(json["achieved_rel_error"].is_array());
    }
    run("2", "dense", &["--arch", "dense, relu, dense"], "arch");
    // the ensemble's mean and variances on the stored-kernel path
    let ens = ["--kernel", "fc_ntk", "--mode", "ensemble"];
    let one = run("1", "krylov", &ens, "ens1");
    let two = run("2", "krylov", &ens, "ens2");
    assert!(
        one == two,
        "ensemble: the means differ between 1 and 2 threads"
    );
    let var = |out: &str| std::fs::read(p(out).join("test_var.npy")).unwrap();
    assert!(
        var("ens1") == var("ens2"),
        "ensemble: the variances differ between 1 and 2 threads"
    );
    // the dense path's eigendecomposition runs on a fixed thread count (n = 700: faer
    // splits its tridiagonalization), so its bits too are those at 1 thread
    let one = run("1", "dense", &ens, "dens1");
    let two = run("2", "dense", &ens, "dens2");
    assert!(
        one == two,
        "dense ensemble: the means differ between 1 and 2 threads"
    );
    assert!(
        var("dens1") == var("dens2"),
        "dense ensemble: the variances differ between 1 and 2 threads"
    );
    // eig_range: the dense path's; absent (not NaN) when a Cholesky solve did all of gp's
    // work on the large-n path
    let json = |out: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p(out).join("predict.json")).unwrap())
            .unwrap()
    };
    let r = &json("dens2")["eig_range"];
    assert!(r[0].as_f64().unwrap() > 0.0 && r[1].as_f64().unwrap() >= r[0].as_f64().unwrap());
    run(
        "2",
        "krylov",
        &["--kernel", "fc_ntk", "--mode", "gp", "--noise", "0.1"],
        "gp",
    );
    let gp = json("gp");
    assert!(gp.get("eig_range").is_none(), "{}", gp["eig_range"]);
    assert!(!std::fs::read_to_string(p("gp").join("predict.json"))
        .unwrap()
        .contains("NaN"));
}

/// fc NTK and NNGP blocks (the closed forms of seed 003 §3) on n training and m test
/// points: (Θ, Θ*, 𝒦, 𝒦*, 𝒦**).
fn fc_blocks(n: usize, m: usize, seed: u64) -> [Matrix<f64>; 5] {
    let x = sphere(n, 10, seed);
    let xt = sphere(m, 10, seed + 1);
    [
        fc_ntk_gram(&x, 3, FcTrained::All).unwrap(),
        fc_ntk(&xt, &x, 3, FcTrained::All).unwrap(),
        fc_nngp_gram(&x, 3).unwrap(),
        fc_nngp(&xt, &x, 3).unwrap(),
        fc_nngp(&xt, &xt, 3).unwrap(),
    ]
}

/// Every entry of a large-n covariance within 10x its reported accuracy of the dense
/// one, relative to the prior scale √(𝒦**_ii 𝒦**_jj).
fn assert_cov_within(large: &Cov, dense: &Cov, kss: &Matrix<f64>, reported: f64, what: &str) {
    let s = |i: usize| kss.get(i, i).sqrt();
    let tol = 10.0 * reported.max(1e-11);
    match (large, dense) {
        (Cov::Full(a), Cov::Full(b)) => {
            for i in 0..a.rows() {
                for j in 0..a.cols() {
                    let e = (a.get(i, j) - b.get(i, j)).abs() / (s(i) * s(j));
                    assert!(
                        e <= tol,
                        "{what}: entry ({i}, {j}) off by {e:e}, reported {reported:e}"
                    );
                }
            }
        }
        (a, b) => {
            for (i, (u, v)) in a.diag().iter().zip(b.diag()).enumerate() {
                let e = (u - v).abs() / (s(i) * s(i));
                assert!(
                    e <= tol,
                    "{what}: variance {i} off by {e:e}, reported {reported:e}"
                );
            }
        }
    }
}

/// The ensemble over initializations on the large-n path (top 30 of Θ deflated, block
/// Lanczos per block of test points; t = ∞ by Krylov, or by Cholesky on the stored
/// kernel) against the dense eigendecomposition at n = 1,000: the mean within 10x its
/// reported accuracy, the covariance (full, and the variances alone) within 10x its
/// reported accuracy relative to the prior scale, and at t = 0 the prior 𝒦** itself.
#[test]
fn ensemble_on_the_large_n_path_equals_dense_to_its_reported_accuracy() {
    let (n, m, c) = (1000, 8, 2);
    let [ntk, ntk_t, nngp, nngp_t, nngp_tt] = fc_blocks(n, m, 81);
    let y = one_hot(n, c, 83);
    let d = Dynamics {
        times: vec![0.0, 1e3, 1e6, f64::INFINITY],
        ridge: 1.0,
        ..Dynamics::default()
    };
    let dense = gradient_descent_mse_ensemble(
        &ntk,
        &ntk_t,
        &y,
        Some(NngpKernels {
            train: &nngp,
            test_train: &nngp_t,
            test_test: TestTest::Full(&nngp_tt),
        }),
        &d,
    )
    .unwrap();
    let dense_cov = dense.cov.unwrap();
    let diag: Vec<f64> = (0..m).map(|j| nngp_tt.get(j, j)).collect();
    let cfg = KrylovConfig {
        tol: 1e-7,
        top_k: 30,
        ..Default::default()
    };
    for (stored, tt) in [
        (None, TestTest::Full(&nngp_tt)),
        (Some(&ntk), TestTest::Diag(&diag)),
    ] {
        let e = gradient_descent_mse_ensemble_krylov(
            &DenseF64(&ntk),
            stored,
            &TestKernel::Dense(&ntk_t),
            &y,
            Some(NngpOperators {
                train: &DenseF64(&nngp),
                test_train: TestKernel::Dense(&nngp_t),
                test_test: tt,
            }),
            &d,
            &cfg,
        )
        .unwrap();
        let what = if stored.is_some() {
            "cholesky"
        } else {
            "krylov"
        };
        assert!(e.mean.converged, "{what}: {:?}", e.mean.achieved_rel_error);
        assert_eq!(e.mean.top_k, 38, "k' = k + 8 Ritz pairs deflated");
        assert!(e.mean.basis < n / 3, "basis {} of n = {n}", e.mean.basis);
        let est = reported(&e.mean.achieved_rel_error);
        let mean = e.mean.prediction.test.as_ref().unwrap();
        for (i, t) in d.times.iter().enumerate() {
            let err = if i == 0 {
                mean[0]
                    .as_slice()
                    .iter()
                    .fold(0.0f64, |a, v| a.max(v.abs()))
            } else {
                rel(&mean[i], &dense.mean[i])
            };
            assert!(
                err <= 10.0 * est[i].max(1e-11),
                "{what} mean, t = {t}: {err:e} vs {:e}",
                est[i]
            );
        }
        let cov = e.cov.unwrap();
        for (i, t) in d.times.iter().enumerate() {
            let r = cov.achieved_rel_error[i];
            assert!(r < 1e-4, "{what}, t = {t}: reported {r:e}");
            assert_cov_within(
                &cov.cov[i],
                &dense_cov[i],
                &nngp_tt,
                r,
                &format!("{what}, t = {t}"),
            );
        }
        // t = 0: the prior, exactly
        assert_eq!(cov.cov[0].diag(), diag, "{what}: t = 0 is the NNGP prior");
    }
}

/// The NNGP posterior on the large-n path (t = ∞ by Krylov, or by Cholesky on the stored
/// kernel) against the dense eigendecomposition at n = 1,000: the test mean within 10x
/// its reported accuracy, the variances and the full covariance within 10x theirs, and
/// the train mean against the dense posterior mean evaluated at the training points (1e-8).
#[test]
fn gp_posterior_on_the_large_n_path_equals_dense_to_its_reported_accuracy() {
    let (n, m, c) = (1000, 8, 2);
    let [_, _, nngp, nngp_t, nngp_tt] = fc_blocks(n, m, 91);
    let y = one_hot(n, c, 93);
    let noise = 0.3;
    let dense = gp_inference(&nngp, &y, &nngp_t, TestTest::Full(&nngp_tt), noise).unwrap();
    let dense_train = gp_inference(&nngp, &y, &nngp, TestTest::None, noise).unwrap();
    let diag: Vec<f64> = (0..m).map(|j| nngp_tt.get(j, j)).collect();
    let cfg = KrylovConfig {
        tol: 1e-9,
        top_k: 30,
        ..Default::default()
    };
    for (stored, tt) in [
        (None, TestTest::Diag(&diag)),
        (Some(&nngp), TestTest::Full(&nngp_tt)),
    ] {
        let g = gp_inference_krylov(
            &DenseF64(&nngp),
            stored,
            &TestKernel::Dense(&nngp_t),
            &y,
            tt,
            noise,
            &cfg,
        )
        .unwrap();
        let what = g.infinite_time.clone();
        let est = g.achieved_rel_error.iter().fold(0.0f64, |a, v| a.max(*v));
        assert!(est < 1e-7, "{what}: reported {est:e}");
        let err = rel(&g.mean, &dense.mean);
        assert!(
            err <= 10.0 * est.max(1e-11),
            "{what} mean: {err:e} vs {est:e}"
        );
        let err = rel(&g.train, &dense_train.mean);
        assert!(err < 1e-8, "{what} train mean: {err:e}");
        let cov = g.cov.unwrap();
        let r = cov.achieved_rel_error[0];
        assert_cov_within(&cov.cov[0], dense.cov.as_ref().unwrap(), &nngp_tt, r, &what);
    }
}
