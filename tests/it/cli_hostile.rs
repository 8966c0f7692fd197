//! The command line under hostile arguments (issue 13): each case must exit
//! non-zero, print a message naming the flag or file at fault, and never
//! panic, abort or hang.

use crate::support::npy_bytes;
use std::path::Path;
use widenet::data::npy;
use widenet::linalg::Matrix;

use crate::support::widenet_cli as widenet;

#[test]
fn hostile_arguments_fail_cleanly_naming_the_culprit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // leaked: the case table borrows these paths for the whole test
    let p = |name: &str| -> &'static str {
        Box::leak(d.join(name).to_string_lossy().into_owned().into_boxed_str())
    };
    // inputs: a good X (unit rows) and y, a NaN X, a huge-norm X, an RNN X
    let x = Matrix::from_fn(6, 3, |i, j| {
        let v = [(i as f64).cos(), (i as f64).sin(), 0.3 * (j as f64 + 1.0)];
        v[j] / (v.iter().map(|a| a * a).sum::<f64>()).sqrt()
    });
    npy::write_matrix(d.join("X.npy"), &x).unwrap();
    npy::write_vector(d.join("y.npy"), &[1.0, -1.0, 1.0, -1.0, 1.0, -1.0]).unwrap();
    let mut xn = x.clone();
    xn.set(4, 2, f64::NAN);
    npy::write_matrix(d.join("Xnan.npy"), &xn).unwrap();
    let big = Matrix::from_fn(6, 3, |i, j| x.get(i, j) * 1e200);
    npy::write_matrix(d.join("Xbig.npy"), &big).unwrap();
    npy::write_array(d.join("S.npy"), &[2, 3, 2], &[0.5f64; 12]).unwrap();
    let mut sn = vec![0.5f64; 12];
    sn[7] = f64::NAN;
    npy::write_array(d.join("Snan.npy"), &[2, 3, 2], &sn).unwrap();
    std::fs::write(
        d.join("deep.npy"),
        npy_bytes(
            1,
            &format!(
                "{{'descr': '<f8', 'fortran_order': False, 'shape': {}{}, }}",
                "(".repeat(50_000),
                ")".repeat(50_000)
            ),
            &[],
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("empty_rows.npy"),
        npy_bytes(
            1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999, 0), }",
            &[],
        ),
    )
    .unwrap();
    std::fs::write(d.join("blocker"), b"not a directory").unwrap();
    // a directory already owned by a live run (this test's own process)
    std::fs::create_dir_all(d.join("busy")).unwrap();
    std::fs::write(
        d.join("busy").join(widenet::lock::LOCK_NAME),
        format!("{}\n", std::process::id()),
    )
    .unwrap();

    let (xs, ys) = (p("X.npy"), p("y.npy"));
    let out = p("out.npy");
    let raw: Vec<(Vec<&str>, &[&str])> = vec![
        // .npy headers and shapes
        (
            vec!["kernel", "arcsin", "--x", p("deep.npy"), "--out", out],
            &["deep.npy", "nest"],
        ),
        (
            vec![
                "kernel",
                "relu-ntk",
                "--x",
                p("empty_rows.npy"),
                "--out",
                out,
            ],
            &["empty_rows.npy", "empty"],
        ),
        (
            vec!["kernel", "relu-ntk", "--x", "/dev/zero", "--out", out],
            &["/dev/zero", "magic"],
        ),
        (
            vec![
                "kernel",
                "gaussian",
                "--x",
                xs,
                "--bandwidth",
                "0",
                "--out",
                out,
            ],
            &["--bandwidth"],
        ),
        // flags with huge or empty values
        (
            vec![
                "kernel",
                "rnn-ntk",
                "--preset",
                "elman",
                "--x",
                p("S.npy"),
                "--width",
                "3000000",
                "--out",
                out,
            ],
            &["memory budget"],
        ),
        (
            vec![
                "kernel",
                "rnn-ntk",
                "--preset",
                "elman",
                "--x",
                p("S.npy"),
                "--width",
                "1000000000",
                "--out",
                out,
            ],
            &["--width"],
        ),
        (
            vec![
                "kernel",
                "rnn-ntk",
                "--preset",
                "elman",
                "--x",
                p("Snan.npy"),
                "--width",
                "8",
                "--out",
                out,
            ],
            &["Snan.npy", "NaN"],
        ),
        (
            vec![
                "kernel",
                "rnn-ntk",
                "--preset",
                "wang",
                "--x",
                p("Snan.npy"),
                "--infinite",
                "--out",
                out,
            ],
            &["Snan.npy", "NaN"],
        ),
        (
            vec![
                "kernel",
                "fc-ntk",
                "--depth",
                "1000000000",
                "--x",
                xs,
                "--out",
                out,
            ],
            &["--depth"],
        ),
        (
            vec!["kernel", "fc-ntk", "--depth", "0", "--x", xs, "--out", out],
            &["--depth"],
        ),
        (
            vec![
                "kernel",
                "fc-ntk",
                "--depth",
                "3",
                "--x",
                p("Xbig.npy"),
                "--out",
                out,
            ],
            &["non-finite"],
        ),
        // analyze: eta, steps, NaN
        (
            vec![
                "analyze",
                "--x",
                xs,
                "--y",
                ys,
                "--eta",
                "1e300",
                "--steps",
                "100",
                "--out",
                p("a.json"),
            ],
            &["--eta", "2/lambda_max"],
        ),
        (
            vec![
                "analyze",
                "--x",
                xs,
                "--y",
                ys,
                "--eta",
                "0.1",
                "--steps",
                "18446744073709551615",
                "--out",
                p("a.json"),
            ],
            &["--steps"],
        ),
        (
            vec![
                "analyze",
                "--x",
                xs,
                "--y",
                ys,
                "--eta",
                "NaN",
                "--steps",
                "10",
                "--out",
                p("a.json"),
            ],
            &["--eta"],
        ),
        (
            vec![
                "analyze",
                "--x",
                p("Xnan.npy"),
                "--y",
                ys,
                "--eta",
                "0.1",
                "--steps",
                "10",
                "--out",
                p("a.json"),
            ],
            &["Xnan.npy", "NaN"],
        ),
        // train: flags, NaN, unwritable output, a busy output directory
        (
            vec![
                "train",
                "two-layer",
                "--x",
                xs,
                "--y",
                ys,
                "--eta",
                "0.1",
                "--steps",
                "18446744073709551615",
                "--out",
                p("t"),
            ],
            &["--steps"],
        ),
        (
            vec![
                "train",
                "two-layer",
                "--x",
                xs,
                "--y",
                ys,
                "--eta",
                "0.1",
                "--steps",
                "5",
                "--width",
                "0",
                "--out",
                p("t"),
            ],
            &["--width"],
        ),
        (
            vec![
                "train",
                "two-layer",
                "--x",
                p("Xnan.npy"),
                "--y",
                ys,
                "--eta",
                "0.1",
                "--steps",
                "5",
                "--width",
                "10",
                "--out",
                p("t"),
            ],
            &["Xnan.npy", "NaN"],
        ),
        (
            vec![
                "train",
                "two-layer",
                "--x",
                xs,
                "--y",
                ys,
                "--eta",
                "0.1",
                "--steps",
                "5",
                "--width",
                "10",
                "--out",
                p("blocker/t"),
            ],
            &["blocker"],
        ),
        (
            vec![
                "train",
                "two-layer",
                "--x",
                xs,
                "--y",
                ys,
                "--eta",
                "0.1",
                "--steps",
                "5",
                "--width",
                "10",
                "--out",
                p("busy"),
            ],
            &["busy", "in use"],
        ),
        (
            vec![
                "train",
                "two-layer",
                "--x",
                xs,
                "--y",
                ys,
                "--eta",
                "-1",
                "--steps",
                "5",
                "--width",
                "10",
                "--out",
                p("t"),
            ],
            &["--eta"],
        ),
        // reproduce overrides and a busy --out
        (
            vec!["reproduce", "arora-fig1", "--n-train", "0", "--out", p("r")],
            &["--n-train"],
        ),
        (
            vec![
                "reproduce",
                "arora-fig1",
                "--steps",
                "18446744073709551615",
                "--out",
                p("r"),
            ],
            &["--steps"],
        ),
        (
            vec![
                "reproduce",
                "arora-fig1",
                "--width",
                "30000000000",
                "--out",
                p("r"),
            ],
            &["--width"],
        ),
        (
            vec!["reproduce", "arora-fig1", "--eta", "inf", "--out", p("r")],
            &["--eta"],
        ),
        (
            vec!["reproduce", "arora-fig1", "--out", p("busy")],
            &["busy", "in use"],
        ),
        (vec!["run", "--out", p("busy")], &["busy", "in use"]),
        // data export: one file for both outputs, a bad limit
        (
            vec![
                "data",
                "mnist",
                "--dir",
                p("."),
                "--out-x",
                p("same.npy"),
                "--out-y",
                p("same.npy"),
            ],
            &["--out-x", "--out-y"],
        ),
        (
            vec![
                "data",
                "mnist",
                "--dir",
                p("."),
                "--limit",
                "0",
                "--out-x",
                p("a.npy"),
                "--out-y",
                p("b.npy"),
            ],
            &["--limit"],
        ),
        // a memory budget that is not a size, and one that refuses a modest kernel
        (
            vec![
                "--memory-budget",
                "lots",
                "kernel",
                "arcsin",
                "--x",
                xs,
                "--out",
                out,
            ],
            &["--memory-budget"],
        ),
        (
            vec![
                "kernel",
                "rnn-ntk",
                "--preset",
                "elman",
                "--x",
                p("S.npy"),
                "--width",
                "2000",
                "--memory-budget",
                "1M",
                "--out",
                out,
            ],
            &["memory budget", "1.0 MiB"],
        ),
        // complexity: non-finite radius, huge N
        (
            vec!["complexity", "exp", "--measure", "C", "--R", "NaN"],
            &["R"],
        ),
        (
            vec!["complexity", "poly:1,nan", "--measure", "C", "--R", "1"],
            &["function"],
        ),
    ];
    let cases: Vec<(Vec<String>, &[&str])> = raw
        .into_iter()
        .map(|(args, want)| (args.into_iter().map(String::from).collect(), want))
        .collect();

    let mut failures = Vec::new();
    for (args, want) in &cases {
        let o = widenet(args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        let stdout = String::from_utf8_lossy(&o.stdout);
        let text = format!("{stderr}{stdout}");
        let problem = if o.status.success() {
            Some("exited 0".to_string())
        } else if o.status.code().is_none() {
            Some(format!("killed by a signal ({:?})", o.status))
        } else if text.contains("panicked") || text.contains("RUST_BACKTRACE") {
            Some("panicked".to_string())
        } else {
            want.iter()
                .find(|w| !text.contains(**w))
                .map(|w| format!("message does not contain {w:?}"))
        };
        if let Some(p) = problem {
            failures.push(format!(
                "widenet {}: {p}\n  {}",
                args.join(" "),
                text.trim()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // nothing was written where a refusal happened
    assert!(!Path::new(&out).exists());
    assert!(!d.join("a.json").exists());
    // the busy directory's lock still belongs to its owner
    assert!(d.join("busy").join(widenet::lock::LOCK_NAME).exists());
}
