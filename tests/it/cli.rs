//! The command line's stable interface: file names, JSON fields, and clear errors,
//! each checked against the library or an independent computation.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use std::path::Path;
use widenet::data::npy;
use widenet::kernels::h_inf;
use widenet::linalg::Matrix;
use widenet::rng;

use crate::support::widenet_cli as widenet;

fn ok(args: &[&str]) -> String {
    let o = widenet(args);
    assert!(
        o.status.success(),
        "widenet {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(args: &[&str]) -> String {
    let o = widenet(args);
    assert!(!o.status.success(), "widenet {args:?} should fail");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn unit(n: usize, d: usize, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "cli");
    let mut x = Matrix::from_fn(n, d, |_, _| rng::normal(&mut g));
    for i in 0..n {
        let s = x.row(i).iter().map(|v| v * v).sum::<f64>().sqrt();
        x.row_mut(i).iter_mut().for_each(|v| *v /= s);
    }
    x
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn kernel_relu_ntk_writes_h_inf() {
    let dir = tempfile::tempdir().unwrap();
    let x = unit(30, 6, 1);
    let xp = dir.path().join("X.npy");
    let hp = dir.path().join("H.npy");
    npy::write_matrix(&xp, &x).unwrap();
    ok(&["kernel", "relu-ntk", "--x", s(&xp), "--out", s(&hp)]);
    let h: Matrix<f64> = npy::read_matrix(&hp).unwrap();
    assert_eq!(h, h_inf(&x).unwrap());
    // an entry by hand: x_iᵀx_j (π − θ)/(2π)
    let c: f64 = x.row(2).iter().zip(x.row(7)).map(|(a, b)| a * b).sum();
    let want = c * (std::f64::consts::PI - c.acos()) / (2.0 * std::f64::consts::PI);
    assert!((h.get(2, 7) - want).abs() < 1e-14);
    // f32 in, f32 out
    let hp32 = dir.path().join("H32.npy");
    ok(&[
        "kernel",
        "relu-ntk",
        "--x",
        s(&xp),
        "--out",
        s(&hp32),
        "--precision",
        "f32",
    ]);
    let h32: Matrix<f32> = npy::read_matrix(&hp32).unwrap();
    assert!((h32.get(2, 7) as f64 - want).abs() < 1e-5);
}

#[test]
fn analyze_reports_spectrum_projections_and_prediction() {
    let dir = tempfile::tempdir().unwrap();
    let x = unit(25, 8, 2);
    let y = crate::support::random_signs(25, 3, "y");
    let (xp, yp) = crate::support::write_xy(dir.path(), &x, &y);
    // --iters is the old name of --steps (issue 24): the same analysis
    let analyze = |steps_flag: &str, name: &str| -> serde_json::Value {
        let out = dir.path().join(name);
        let args = ["--eta", "0.05", steps_flag, "40", "--out", s(&out)];
        ok(&[&["analyze", "--x", s(&xp), "--y", s(&yp)][..], &args[..]].concat());
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
    };
    let a = analyze("--steps", "a.json");
    let ev: Vec<f64> = a["eigenvalues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let pr: Vec<f64> = a["projections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let pl: Vec<f64> = a["predicted_loss"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(ev.len(), 25);
    assert!(
        ev.windows(2).all(|w| w[0] >= w[1]),
        "eigenvalues descending"
    );
    // trace identity: Σλ = tr H^∞ = n/2 for unit inputs
    assert!((ev.iter().sum::<f64>() - 12.5).abs() < 1e-10);
    // Parseval: Σ (v_iᵀy)² = ‖y‖²
    assert!((pr.iter().map(|p| p * p).sum::<f64>() - 25.0).abs() < 1e-9);
    assert_eq!(pl.len(), 41);
    assert!((pl[0] - 12.5).abs() < 1e-9, "Phi(0) = ||y||^2/2");
    // the predicted curve equals iterating eq. 7 directly
    let h = h_inf(&x).unwrap();
    let mut u = [0.0; 25];
    for k in 0..=40 {
        let phi: f64 = 0.5
            * u.iter()
                .zip(&y)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>();
        assert!(
            (phi - pl[k]).abs() < 1e-9 * phi.max(1.0),
            "k = {k}: {phi} vs {}",
            pl[k]
        );
        let r: Vec<f64> = u.iter().zip(&y).map(|(a, b)| a - b).collect();
        for i in 0..25 {
            u[i] -= 0.05 * (0..25).map(|j| h.get(i, j) * r[j]).sum::<f64>();
        }
    }
    let q = a["y_hinv_y"].as_f64().unwrap();
    let cm = a["complexity_measure"].as_f64().unwrap();
    assert!((cm - (2.0 * q / 25.0).sqrt()).abs() < 1e-12);
    let mut b = analyze("--iters", "a-iters.json");
    // (the same JSON but the wall-clock phase times)
    let mut a = a;
    for v in [&mut a, &mut b] {
        v.as_object_mut().unwrap().remove("timings");
    }
    assert_eq!(a, b);
}

#[test]
fn train_two_layer_writes_weights_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let x = unit(20, 5, 4);
    let y = crate::support::random_signs(20, 5, "y");
    let (xp, yp) = crate::support::write_xy(dir.path(), &x, &y);
    let out = dir.path().join("run");
    ok(&[
        "train",
        "two-layer",
        "--x",
        s(&xp),
        "--y",
        s(&yp),
        "--x-test",
        s(&xp),
        "--y-test",
        s(&yp),
        "--width",
        "300",
        "--kappa",
        "0.1",
        "--eta",
        "0.1",
        "--steps",
        "25",
        "--seed",
        "9",
        "--precision",
        "f64",
        "--out",
        s(&out),
    ]);
    let w0: Matrix<f64> = npy::read_matrix(out.join("w0.npy")).unwrap();
    let w: Matrix<f64> = npy::read_matrix(out.join("w.npy")).unwrap();
    let a: Vec<f64> = npy::read_vector(out.join("a.npy")).unwrap();
    assert_eq!(w0.shape(), (300, 5));
    assert_eq!(w.shape(), (300, 5));
    assert_eq!(a.len(), 300);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    let loss = m["loss"].as_array().unwrap();
    assert_eq!(loss.len(), 26);
    // the final loss recomputed from the saved weights (eq. 2 and 4)
    let mut phi = 0.0;
    for i in 0..20 {
        let f: f64 = (0..300)
            .map(|r| {
                a[r] * (0..5)
                    .map(|k| w.get(r, k) * x.get(i, k))
                    .sum::<f64>()
                    .max(0.0)
            })
            .sum::<f64>()
            / (300f64).sqrt();
        phi += 0.5 * (f - y[i]).powi(2);
    }
    assert!((loss[25].as_f64().unwrap() - phi).abs() < 1e-10);
    assert_eq!(m["settings"]["seed"], 9);
    // ‖W − W0‖_F from the files equals the recorded last distance
    let fro: f64 = w
        .as_slice()
        .iter()
        .zip(w0.as_slice())
        .map(|(p, q)| (p - q).powi(2))
        .sum::<f64>()
        .sqrt();
    let rec = m["w_dist_fro"].as_array().unwrap()[25].as_f64().unwrap();
    assert!((fro - rec).abs() < 1e-10);
}

#[test]
fn data_command_exports_two_classes_from_idx() {
    let dir = tempfile::tempdir().unwrap();
    // a 5-image IDX pair: labels 0, 1, 2, 1, 0
    let labels = [0u8, 1, 2, 1, 0];
    let mut img = vec![0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 2];
    for (i, _) in labels.iter().enumerate() {
        img.extend_from_slice(&[i as u8 + 1, 0, 3, 4]);
    }
    let mut lab = vec![0, 0, 8, 1, 0, 0, 0, 5];
    lab.extend_from_slice(&labels);
    std::fs::write(dir.path().join("train-images-idx3-ubyte"), &img).unwrap();
    std::fs::write(dir.path().join("train-labels-idx1-ubyte"), &lab).unwrap();
    let (xp, yp) = (dir.path().join("X.npy"), dir.path().join("y.npy"));
    ok(&[
        "data",
        "mnist",
        "--dir",
        s(dir.path()),
        "--classes",
        "0,1",
        "--split",
        "train",
        "--out-x",
        s(&xp),
        "--out-y",
        s(&yp),
    ]);
    let x: Matrix<f64> = npy::read_matrix(&xp).unwrap();
    let y: Vec<f64> = npy::read_vector(&yp).unwrap();
    assert_eq!(y, vec![1.0, -1.0, -1.0, 1.0]);
    assert_eq!(x.shape(), (4, 4));
    // image 0 is (1, 0, 3, 4), scaled to unit norm
    let n = (1.0f64 + 9.0 + 16.0).sqrt();
    assert!((x.get(0, 0) - 1.0 / n).abs() < 1e-15 && (x.get(0, 3) - 4.0 / n).abs() < 1e-15);
    // a truncated file: the error names it
    std::fs::write(dir.path().join("train-images-idx3-ubyte"), &img[..30]).unwrap();
    let e = err(&[
        "data",
        "mnist",
        "--dir",
        s(dir.path()),
        "--out-x",
        s(&xp),
        "--out-y",
        s(&yp),
    ]);
    assert!(e.contains("train-images-idx3-ubyte"), "{e}");
}

#[test]
fn bad_inputs_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.npy");
    let e = err(&[
        "kernel",
        "relu-ntk",
        "--x",
        s(&missing),
        "--out",
        s(&dir.path().join("H.npy")),
    ]);
    assert!(e.contains("nope.npy") && !e.contains("panicked"), "{e}");
    let garbage = dir.path().join("bad.npy");
    std::fs::write(&garbage, b"not an npy file at all").unwrap();
    let e = err(&[
        "kernel",
        "relu-ntk",
        "--x",
        s(&garbage),
        "--out",
        s(&dir.path().join("H.npy")),
    ]);
    assert!(e.contains("bad.npy") && !e.contains("panicked"), "{e}");
    // label count mismatch names both files
    let xp = dir.path().join("X.npy");
    let yp = dir.path().join("y.npy");
    npy::write_matrix(&xp, &unit(6, 3, 7)).unwrap();
    npy::write_vector(&yp, &[1.0f64, -1.0]).unwrap();
    let e = err(&[
        "analyze",
        "--x",
        s(&xp),
        "--y",
        s(&yp),
        "--eta",
        "0.1",
        "--steps",
        "3",
        "--out",
        s(&dir.path().join("a.json")),
    ]);
    assert!(e.contains("X.npy") && e.contains("y.npy"), "{e}");
    // duplicate inputs: not positive definite, smallest eigenvalue reported
    let mut x = unit(6, 3, 8);
    let r0 = x.row(0).to_vec();
    x.row_mut(1).copy_from_slice(&r0);
    npy::write_matrix(&xp, &x).unwrap();
    npy::write_vector(&yp, &[1.0f64, -1.0, 1.0, 1.0, -1.0, 1.0]).unwrap();
    let e = err(&[
        "analyze",
        "--x",
        s(&xp),
        "--y",
        s(&yp),
        "--eta",
        "0.1",
        "--steps",
        "3",
        "--out",
        s(&dir.path().join("a.json")),
    ]);
    assert!(
        e.contains("not positive definite") && e.contains("smallest eigenvalue"),
        "{e}"
    );
    // divergent learning rate
    npy::write_matrix(&xp, &unit(6, 3, 9)).unwrap();
    let e = err(&[
        "train",
        "two-layer",
        "--x",
        s(&xp),
        "--y",
        s(&yp),
        "--width",
        "50",
        "--eta",
        "100",
        "--steps",
        "50",
        "--out",
        s(&dir.path().join("t")),
    ]);
    assert!(e.contains("diverged") && e.contains("--eta"), "{e}");
    // unknown experiment
    let e = err(&["reproduce", "no-such-figure", "--out", s(dir.path())]);
    assert!(e.contains("arora-fig1"), "{e}");
    // unknown complexity function
    let e = err(&["complexity", "foo", "--measure", "C", "--R", "1"]);
    assert!(e.contains("foo") && e.contains("known functions"), "{e}");
}

#[test]
fn complexity_command_matches_closed_forms() {
    // seed 004 eq. 6: C(e^z − 1, R) = 1 + R e^R
    let out = ok(&[
        "complexity",
        "exp",
        "--measure",
        "C",
        "--R",
        "1.5",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let want = 1.0 + 1.5 * 1.5f64.exp();
    assert!((v["value"].as_f64().unwrap() - want).abs() < 1e-10 * want);
    assert_eq!(v["R"], 1.5);
    // arctan(z/2) has radius 2: divergent at R = 2, reported as "inf"
    let out = ok(&[
        "complexity",
        "arctan(z/2)",
        "--measure",
        "C",
        "--R",
        "2",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["value"], "inf");
}

#[test]
fn seed_003_kernel_commands() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = rng::stream(11, "k");
    let x = Matrix::from_fn(12, 4, |_, _| rng::normal(&mut g));
    let xp = dir.path().join("X.npy");
    npy::write_matrix(&xp, &x).unwrap();
    let dot =
        |i: usize, j: usize| -> f64 { x.row(i).iter().zip(x.row(j)).map(|(a, b)| a * b).sum() };
    // gaussian: exp(−‖x − y‖²/h) by hand
    let hp = dir.path().join("G.npy");
    ok(&[
        "kernel",
        "gaussian",
        "--x",
        s(&xp),
        "--bandwidth",
        "3",
        "--out",
        s(&hp),
    ]);
    let k: Matrix<f64> = npy::read_matrix(&hp).unwrap();
    let d2 = dot(2, 2) + dot(5, 5) - 2.0 * dot(2, 5);
    assert!((k.get(2, 5) - (-d2 / 3.0).exp()).abs() < 1e-13);
    // arcsin of the cosine by hand
    ok(&["kernel", "arcsin", "--x", s(&xp), "--out", s(&hp)]);
    let k: Matrix<f64> = npy::read_matrix(&hp).unwrap();
    let c = dot(1, 7) / (dot(1, 1) * dot(7, 7)).sqrt();
    assert!((k.get(1, 7) - c.asin()).abs() < 1e-13);
    // fc NTK, depth 2, hidden layer only, equals seed 001's H^inf / d (App. E's kernel)
    ok(&[
        "kernel",
        "fc-ntk",
        "--depth",
        "2",
        "--x",
        s(&xp),
        "--trained",
        "hidden",
        "--out",
        s(&hp),
    ]);
    let k: Matrix<f64> = npy::read_matrix(&hp).unwrap();
    let h = h_inf(&x).unwrap();
    assert!((k.get(3, 9) - h.get(3, 9) / 4.0).abs() < 1e-13);
    let e = err(&[
        "kernel",
        "gaussian",
        "--x",
        s(&xp),
        "--bandwidth",
        "-1",
        "--out",
        s(&hp),
    ]);
    assert!(e.contains("bandwidth"), "{e}");
}

#[test]
fn rnn_ntk_command_saves_a_network_that_rebuilds_the_kernel() {
    use widenet::models::rnn::{split_steps, Preset, Rnn};
    use widenet::models::rnn_ntk::rnn_ntk;
    let dir = tempfile::tempdir().unwrap();
    let (n, len, d) = (5, 4, 3);
    let mut g = rng::stream(12, "seq");
    let data: Vec<f64> = (0..n * len * d).map(|_| rng::normal(&mut g)).collect();
    let xp = dir.path().join("X.npy");
    npy::write_array(&xp, &[n, len, d], &data).unwrap();
    for preset in ["wang", "elman"] {
        let hp = dir.path().join(format!("H_{preset}.npy"));
        let pd = dir.path().join(format!("params_{preset}"));
        ok(&[
            "kernel",
            "rnn-ntk",
            "--preset",
            preset,
            "--x",
            s(&xp),
            "--width",
            "64",
            "--seed",
            "3",
            "--save-params",
            s(&pd),
            "--out",
            s(&hp),
        ]);
        let h: Matrix<f64> = npy::read_matrix(&hp).unwrap();
        assert_eq!(h.shape(), (n, n));
        // rebuild the network from the saved arrays and recompute the kernel
        let w: Matrix<f64> = npy::read_matrix(pd.join("w.npy")).unwrap();
        let a: Matrix<f64> = npy::read_matrix(pd.join("a.npy")).unwrap();
        let (p, net) = if preset == "wang" {
            let b: Vec<f64> = npy::read_vector(pd.join("b.npy")).unwrap();
            let m0: Vec<f64> = npy::read_vector(pd.join("m0.npy")).unwrap();
            let b = Matrix::from_vec(1, 64, b).unwrap();
            (
                Preset::Wang,
                Rnn::from_parts(Preset::Wang, w, a, b, Some(m0), len).unwrap(),
            )
        } else {
            let b: Matrix<f64> = npy::read_matrix(pd.join("b.npy")).unwrap();
            (
                Preset::Elman,
                Rnn::from_parts(Preset::Elman, w, a, b, None, len).unwrap(),
            )
        };
        assert_eq!(net.preset, p);
        let again = rnn_ntk(&net, &split_steps(&data, n, len, d).unwrap()).unwrap();
        for (u, v) in h.as_slice().iter().zip(again.as_slice()) {
            assert!((u - v).abs() <= 1e-12 * u.abs().max(1.0));
        }
        for i in 0..n {
            assert!(h.get(i, i) > 0.0);
        }
    }
    // the infinite-width kernel: symmetric, positive diagonal, and the empirical kernel
    // at a large width is close to it (averaged over seeds)
    let hi = dir.path().join("Hinf.npy");
    ok(&[
        "kernel",
        "rnn-ntk",
        "--preset",
        "elman",
        "--x",
        s(&xp),
        "--infinite",
        "--out",
        s(&hi),
    ]);
    let hinf: Matrix<f64> = npy::read_matrix(&hi).unwrap();
    let mut avg = Matrix::<f64>::zeros(n, n);
    for seed in 0..4u64 {
        let hp = dir.path().join("Hm.npy");
        let sd = seed.to_string();
        ok(&[
            "kernel",
            "rnn-ntk",
            "--preset",
            "elman",
            "--x",
            s(&xp),
            "--width",
            "2048",
            "--seed",
            &sd,
            "--out",
            s(&hp),
        ]);
        let h: Matrix<f64> = npy::read_matrix(&hp).unwrap();
        for (a, b) in avg.as_mut_slice().iter_mut().zip(h.as_slice()) {
            *a += b / 4.0;
        }
    }
    let diff: f64 = avg
        .as_slice()
        .iter()
        .zip(hinf.as_slice())
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(
        diff / hinf.frobenius() < 0.1,
        "relative error {}",
        diff / hinf.frobenius()
    );
    // a 2-D array is not a set of sequences
    let bad = dir.path().join("bad.npy");
    npy::write_matrix(&bad, &Matrix::<f64>::zeros(3, 3)).unwrap();
    let e = err(&[
        "kernel",
        "rnn-ntk",
        "--preset",
        "wang",
        "--x",
        s(&bad),
        "--width",
        "8",
        "--out",
        s(&dir.path().join("h.npy")),
    ]);
    assert!(e.contains("bad.npy") && e.contains("n x L x d"), "{e}");
}

/// WIDENET_PROFILE, for users: the large-n path's phases are reported on stderr as they
/// end (through the runtime's reporter), the same phases, in the same order, as the
/// JSON's `timings` records; without the variable nothing is reported.
#[test]
fn widenet_profile_reports_the_recorded_phases() {
    let dir = tempfile::tempdir().unwrap();
    let x = unit(40, 6, 8);
    let y = crate::support::random_signs(40, 9, "y");
    let (xp, yp) = crate::support::write_xy(dir.path(), &x, &y);
    let out = dir.path().join("a.json");
    let args = [
        "analyze",
        "--x",
        xp.to_str().unwrap(),
        "--y",
        yp.to_str().unwrap(),
        "--eta",
        "0.1",
        "--steps",
        "3",
        "--out",
        out.to_str().unwrap(),
        "--path",
        "dense",
        "--top-k",
        "4",
    ];
    let run = |profile: bool| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_widenet"));
        c.args(args).env_remove("WIDENET_PROFILE");
        if profile {
            c.env("WIDENET_PROFILE", "1");
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let quiet = run(false);
    assert!(!quiet.contains("[profile]"), "{quiet}");
    let loud = run(true);
    let reported: Vec<&str> = loud
        .lines()
        .filter_map(|l| l.strip_prefix("[profile] phase '"))
        .map(|l| l.split('\'').next().unwrap())
        .collect();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let recorded: Vec<&str> = json["timings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t[0].as_str().unwrap())
        .collect();
    assert_eq!(reported, recorded);
    assert_eq!(
        recorded,
        [
            "storage",
            "spectrum (Krylov)",
            "preconditioner",
            "preconditioner lambda_min",
            "f64 passes (Rayleigh-Ritz, Davidson, CG)"
        ]
    );
}
