//! The option enums' one convention (issue 24): every value's name round-trips through
//! `Display` and `FromStr`, clap's `ValueEnum` reads the same names, the names are the
//! ones the CLI help, the README and the Python docstrings document (listed here by
//! hand, the independent reference), and an unknown value's error names the argument
//! and lists every accepted value.

use clap::ValueEnum;
use std::fmt::{Debug, Display};
use std::str::FromStr;
use widenet::options::{self, OptionEnum};
use widenet::Error;

/// Checks `T` against its documented names `names` (in order), its argument `arg` and
/// extra accepted spellings `aliases` (alias, value name).
fn check<T>(arg: &str, names: &[&str], aliases: &[(&str, &str)])
where
    T: OptionEnum + FromStr<Err = Error> + Display + Debug + PartialEq + ValueEnum,
{
    let got: Vec<&str> = T::ALL.iter().map(|v| v.name()).collect();
    assert_eq!(got, names, "{arg}: the names");
    assert_eq!(T::ARG, arg);
    for v in T::ALL {
        let s = v.to_string();
        assert_eq!(s, v.name());
        assert_eq!(s.parse::<T>().unwrap(), *v, "{arg}: {s} round trip");
        // clap reads the same name (case-sensitively) to the same value
        assert_eq!(<T as ValueEnum>::from_str(&s, false).unwrap(), *v);
        let pv = v.to_possible_value().unwrap();
        assert_eq!(pv.get_name(), s);
    }
    assert_eq!(<T as ValueEnum>::value_variants().len(), names.len());
    for (alias, name) in aliases {
        assert_eq!(
            alias.parse::<T>().unwrap().name(),
            *name,
            "{arg}: alias {alias}"
        );
    }
    for bad in ["no-such-value", "", "DENSE"] {
        let e = bad.parse::<T>().unwrap_err();
        assert!(matches!(e, Error::Invalid { .. }), "{arg}: {e:?}");
        let e = e.to_string();
        assert!(e.starts_with(&format!("invalid {arg}: '{bad}'")), "{e}");
        for n in names {
            assert!(e.contains(n), "{arg}: {e} does not list {n}");
        }
        // the caller's spelling of the argument (a flag, a Python keyword) replaces it
        let e = options::parse::<T>("--the-flag", bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!("invalid --the-flag: '{bad}'")),
            "{e}"
        );
    }
}

#[test]
fn every_option_enum_round_trips_and_lists_its_values_on_error() {
    use widenet::data::{labeling::Splits, DatasetName, Split};
    use widenet::data::{resnet_targets::TargetName, rnn_concepts::ConceptKind};
    use widenet::experiments::common::Scale;
    use widenet::kernels::{compose::Output, fc::FcTrained, rnn_infinite::Preset};
    use widenet::linalg::Precision;
    use widenet::models::{resnet::LearnerKind, rnn::Loss};
    use widenet::theory::complexity::MeasureChoice;
    use widenet::theory::large_n::{PrecondChoice, SolverPath};
    use widenet::theory::predict::cli::{Mode, PathChoice};
    use widenet::theory::predict::{LossNorm, Schedule};

    check::<Preset>("preset", &["elman", "wang"], &[]);
    check::<Output>("output", &["ntk", "nngp"], &[]);
    check::<FcTrained>("trained", &["all", "hidden"], &[]);
    check::<LearnerKind>(
        "learner",
        &["3resnet", "3layer", "2layer", "last", "ntk"],
        &[],
    );
    check::<Loss>(
        "loss",
        &["logistic", "l2", "cross-entropy"],
        &[("ce", "cross-entropy")],
    );
    check::<LossNorm>("loss_norm", &["mean", "sum"], &[]);
    check::<Schedule>("schedule", &["flow", "steps"], &[]);
    check::<Mode>("mode", &["gd", "ensemble", "gp"], &[]);
    check::<PathChoice>("path", &["dense", "krylov", "matrix-free"], &[]);
    check::<SolverPath>("path", &["dense", "f32", "matrix-free"], &[]);
    check::<PrecondChoice>(
        "precond",
        &["auto", "cholesky", "spectral-cg", "spectral"],
        &[],
    );
    check::<Precision>(
        "precision",
        &["f32", "f64"],
        &[("float32", "f32"), ("float64", "f64")],
    );
    check::<Scale>("scale", &["quick", "paper"], &[]);
    check::<Split>("split", &["train", "test"], &[]);
    check::<Splits>("split", &["train", "test", "both"], &[]);
    check::<DatasetName>("dataset", &["mnist", "cifar10"], &[]);
    check::<ConceptKind>("kind", &["additive", "n-variable"], &[]);
    check::<TargetName>("name", &["fig2", "thm2", "fig3"], &[]);
    check::<MeasureChoice>(
        "measure",
        &["C", "CN", "ceps", "cs", "cs1", "arora"],
        &[
            ("C_N", "CN"),
            ("cepsilon", "ceps"),
            ("cs-resnet", "cs1"),
            ("cor6.2", "arora"),
        ],
    );
}

#[test]
fn an_unknown_value_error_reads_as_a_sentence() {
    use widenet::theory::large_n::SolverPath;
    let e = options::parse::<SolverPath>("--path", "sparse")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "invalid --path: 'sparse' is not one of dense, f32 or matrix-free"
    );
}

/// The flags whose value is an option enum, on the command line: an unknown value exits
/// with status 1 (the library's error, as for every string flag read with
/// `options::parse`; clap's own usage errors exit 2) and names the flag as written, with
/// every accepted value. Nothing is read or written first (the input files do not exist).
#[test]
fn cli_option_flags_name_the_flag_and_exit_with_status_1() {
    use crate::support::widenet_cli;
    let cases: Vec<(Vec<&str>, &str, &[&str])> = vec![
        (
            vec![
                "analyze", "--y", "y.npy", "--eta", "1", "--steps", "1", "--path", "bogus",
            ],
            "--path",
            &["dense", "f32", "matrix-free"],
        ),
        (
            vec![
                "analyze",
                "--y",
                "y.npy",
                "--eta",
                "1",
                "--steps",
                "1",
                "--precond",
                "bogus",
            ],
            "--precond",
            &["auto", "cholesky", "spectral-cg", "spectral"],
        ),
        (
            vec!["predict", "--y-train", "y.npy", "--path", "bogus"],
            "--path",
            &["dense", "krylov", "matrix-free"],
        ),
        (
            vec!["kernel", "fc-ntk", "--depth", "2", "--trained", "bogus"],
            "--trained",
            &["all", "hidden"],
        ),
        (
            vec!["kernel", "compose", "--arch", "dense", "--output", "bogus"],
            "--output",
            &["ntk", "nngp"],
        ),
        (
            vec!["kernel", "rnn-ntk", "--width", "4", "--preset", "bogus"],
            "--preset",
            &["elman", "wang"],
        ),
        (
            vec!["complexity", "exp", "--R", "1", "--measure", "bogus"],
            "--measure",
            &["C", "CN", "ceps", "cs", "cs1", "arora"],
        ),
    ];
    for (mut args, flag, accepted) in cases {
        if args[0] != "complexity" {
            // analyze's --x and predict's --x-train stand for the inputs
            let x = if args[0] == "predict" {
                "--x-train"
            } else {
                "--x"
            };
            args.extend([x, "no-such-X.npy", "--out", "no-such-dir/K.npy"]);
        }
        let o = widenet_cli(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "widenet {args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("invalid {flag}: 'bogus' is not one of")),
            "widenet {args:?}: {stderr}"
        );
        for v in accepted {
            assert!(stderr.contains(v), "{flag}: {v} missing in {stderr}");
        }
    }
}
