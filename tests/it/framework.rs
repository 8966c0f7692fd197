//! The experiment framework (issue 12): every setting of every experiment reaches the
//! run or is refused, the old flags are aliases or errors naming the experiment and the
//! flag, `rejudge` reproduces a run's verdicts from its result.json, and a claim whose
//! precondition fails is inconclusive.

use serde_json::{json, Value};
use std::path::Path;
use widenet::experiments::claim::QuoteKind;
use widenet::experiments::common::Scale;
use widenet::experiments::framework::{parse_assignment, setting_keys};
use widenet::experiments::quotes;
use widenet::experiments::suite::{self, registry, ReproduceOptions};

fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    key.split('.').fold(v, |v, k| &v[k])
}

/// A value different from `v` of the same type, as `--set` text.
fn perturbed(key: &str, v: &Value) -> String {
    match v {
        Value::Bool(b) => (!b).to_string(),
        Value::Number(n) if n.is_u64() => (n.as_u64().unwrap() + 1).to_string(),
        Value::Number(n) => format!("{}", n.as_f64().unwrap() * 1.5 + 0.25),
        // enum-valued text: another variant where one is known, else the same text
        Value::String(s) => match s.as_str() {
            "f32" => "f64".into(),
            "f64" => "f32".into(),
            "full" => "coordinate".into(),
            "sin" => "exp".into(),
            "exp" => "sin".into(),
            other => other.to_string(),
        },
        Value::Array(a) if a.len() >= 2 => {
            // drop the last element (lists of objects as JSON)
            let kept = Value::Array(a[..a.len() - 1].to_vec());
            if a[0].is_object() || a[0].is_array() {
                kept.to_string()
            } else {
                a[..a.len() - 1]
                    .iter()
                    .map(|x| match x {
                        Value::String(s) => s.clone(),
                        o => o.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            }
        }
        Value::Array(a) => Value::Array(a.clone()).to_string(),
        Value::Null => match key {
            "data" => "/nonexistent-widenet-data".into(),
            _ => "0.05".into(),
        },
        Value::Object(_) => unreachable!("nested settings are reached by dotted keys"),
    }
}

#[test]
fn every_setting_reaches_the_resolved_settings_or_is_refused_naming_it() {
    for exp in registry() {
        let base = exp.resolve(Scale::Quick, 3, &[]).unwrap();
        assert_eq!(base["seed"], 3, "{}", exp.name());
        let keys = exp.keys();
        let all = setting_keys(&base);
        assert!(keys.iter().all(|k| all.contains(k)), "{}", exp.name());
        // a field of a shared settings struct that this experiment does not use is refused
        for k in all.iter().filter(|k| !keys.contains(k)) {
            let m = exp
                .resolve(Scale::Quick, 3, &[(k.clone(), "1".into())])
                .unwrap_err()
                .to_string();
            assert!(m.contains("does not use") && m.contains(k.as_str()), "{m}");
        }
        let (mut accepted, mut refused) = (0, 0);
        for key in keys.iter().filter(|k| *k != "scale" && *k != "seed") {
            let text = perturbed(key, get(&base, key));
            match exp.resolve(Scale::Quick, 3, &[(key.clone(), text.clone())]) {
                Ok(v) => {
                    accepted += 1;
                    // the override is in the settings the run receives, and only it changed
                    let want = if text.starts_with('[') {
                        serde_json::from_str::<Value>(&text).unwrap()
                    } else {
                        let mut b = base.clone();
                        widenet::experiments::framework::apply_override(
                            exp.name(),
                            &mut b,
                            key,
                            &text,
                        )
                        .unwrap();
                        get(&b, key).clone()
                    };
                    assert_eq!(get(&v, key), &want, "{} {key}={text}", exp.name());
                    for other in keys.iter().filter(|k| *k != key) {
                        assert_eq!(get(&v, other), get(&base, other), "{} {other}", exp.name());
                    }
                }
                Err(e) => {
                    refused += 1;
                    let m = e.to_string();
                    assert!(
                        m.contains(&format!("--set {key}"))
                            || m.contains(key.rsplit('.').next().unwrap())
                            || m.contains("--data"),
                        "{}: refusing {key}={text} must name the setting: {m}",
                        exp.name()
                    );
                }
            }
        }
        assert!(
            accepted >= refused,
            "{}: {accepted} accepted, {refused} refused",
            exp.name()
        );
        // unknown keys are refused with the list of valid ones
        let m = exp
            .resolve(Scale::Quick, 0, &[("no_such_key".into(), "1".into())])
            .unwrap_err()
            .to_string();
        assert!(m.contains("no_such_key") && m.contains(exp.name()), "{m}");
        for k in keys.iter().filter(|k| *k != "scale" && *k != "seed") {
            assert!(
                m.contains(k.as_str()),
                "{}: {k} not listed in {m}",
                exp.name()
            );
        }
        // seed and scale have their own flags
        assert!(exp
            .resolve(Scale::Quick, 0, &[("seed".into(), "1".into())])
            .unwrap_err()
            .to_string()
            .contains("--seed"));
    }
}

#[test]
fn wrong_types_are_refused_naming_the_key() {
    let exp = suite::find("arora-fig1").unwrap();
    for (k, v) in [
        ("width", "wide"),
        ("width", "2.5"),
        ("kappa", "nan"),
        ("precision", "f16"),
        ("eta", "-1"),
        ("width", "0"),
    ] {
        let m = exp
            .resolve(Scale::Quick, 0, &[(k.into(), v.into())])
            .unwrap_err()
            .to_string();
        assert!(m.contains(k), "{k}={v}: {m}");
    }
    // integers may be written in scientific notation; optional settings clear with none
    let v = exp
        .resolve(
            Scale::Quick,
            0,
            &[
                ("width".into(), "1e3".into()),
                ("eta".into(), "0.5".into()),
                ("eta".into(), "none".into()),
            ],
        )
        .unwrap();
    assert_eq!(v["width"], 1000);
    assert!(v["eta"].is_null());
    assert!(parse_assignment("width").is_err());
    assert_eq!(
        parse_assignment("n-train=5").unwrap(),
        ("n_train".to_string(), "5".to_string())
    );
}

#[test]
fn old_flags_are_aliases_or_errors_naming_experiment_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    // the issue's example exits with an error now
    let mut o = ReproduceOptions::quick(dir.path(), 0);
    o.width = Some(5);
    o.eta = Some(1e9);
    let m = suite::reproduce("arora-sec6", &o).unwrap_err().to_string();
    assert!(m.contains("arora-sec6") && m.contains("--width"), "{m}");
    assert!(!dir.path().join("arora-sec6").exists(), "nothing ran");
    type Flag = (&'static str, fn(&mut ReproduceOptions));
    let flags: [Flag; 7] = [
        ("n-train", |o| o.n_train = Some(30)),
        ("width", |o| o.width = Some(40)),
        ("steps", |o| o.steps = Some(7)),
        ("eta", |o| o.eta = Some(0.25)),
        ("kappa", |o| o.kappa = Some(0.5)),
        ("precision", |o| {
            o.precision = Some(widenet::experiments::common::Precision::F64)
        }),
        ("data", |o| {
            o.data = Some("/nonexistent-widenet-data".into())
        }),
    ];
    let mut mapped = 0;
    for exp in registry() {
        for (flag, set) in &flags {
            let mut o = ReproduceOptions::quick(dir.path(), 0);
            set(&mut o);
            match suite::resolve(exp.name(), &o) {
                Ok(v) => {
                    mapped += 1;
                    let key = exp.flag_key(flag).expect("mapped flags have a key");
                    let got = get(&v, &key);
                    let expect = match *flag {
                        "n-train" => [json!(30), json!([30])],
                        "width" => [json!(40), json!(40)],
                        "steps" => [json!(7), json!(7)],
                        "eta" => [json!(0.25), json!(0.25)],
                        "kappa" => [json!(0.5), json!(0.5)],
                        "precision" => [json!("f64"), json!("f64")],
                        _ => unreachable!("--data to a missing directory is refused"),
                    };
                    assert!(
                        expect.contains(got),
                        "{} --{flag}: {key} = {got}",
                        exp.name()
                    );
                }
                Err(e) => {
                    let m = e.to_string();
                    assert!(m.contains(&format!("--{flag}")), "{}: {m}", exp.name());
                    if exp.flag_key(flag).is_none() {
                        assert!(m.contains(exp.name()), "{m}");
                    }
                }
            }
        }
    }
    // fig1, fig2: all but --data; elman: width, steps (steps), eta, precision; ...
    assert!(mapped >= 16, "{mapped} flag mappings");
}

/// Tiny settings of every experiment (seconds each in the test profile).
fn tiny(name: &str) -> Vec<(&'static str, &'static str)> {
    match name {
        "arora-fig1" => vec![("n_train", "20"), ("width", "60"), ("steps", "5")],
        "arora-fig2" => vec![
            ("n_train", "20"),
            ("n_test", "20"),
            ("width", "30"),
            ("steps", "20"),
            ("portions", "0,1"),
        ],
        "arora-sec6" => vec![("sizes", "20,40"), ("d", "3")],
        "complexity-examples" => vec![],
        "rnn-kernel" => vec![
            ("n", "3"),
            ("len", "2"),
            ("d", "2"),
            ("widths", "16,32"),
            ("repeats", "1"),
            ("presets", "wang"),
        ],
        "rnn-length" => vec![
            ("n", "20"),
            ("lens", "2,3,4"),
            ("sgd.lens", "2"),
            ("sgd.sizes", "10,20"),
            ("sgd.n_test", "20"),
            ("sgd.width", "8"),
            ("sgd.records", "2"),
            ("sgd.train_eval_subset", "10"),
        ],
        "rnn-nvar" => vec![
            ("n", "20"),
            ("len", "4"),
            ("ns", "2,3"),
            ("l0_for_n", "3"),
            ("l0s", "1,3"),
        ],
        "rnn-elman" => vec![
            ("lens", "4"),
            ("sizes", "8,16"),
            ("n_test", "16"),
            ("width", "8"),
            ("sweep_widths", "4,16"),
            ("steps", "20"),
            ("eval_every", "10"),
            ("rms_samples", "100"),
            ("train_eval_subset", "16"),
        ],
        "resnet-fig2a" | "resnet-fig2c" => {
            let mut v = vec![
                ("n_val", "20"),
                ("n_test", "20"),
                ("width", "8"),
                ("epochs", "1"),
                ("learners", "3resnet,2layer"),
                ("lrs", "0.1"),
                ("wds", "0"),
                ("ntk_exact", "false"),
                ("kernels", "gaussian"),
                ("lambdas", "0.01,1"),
            ];
            if name == "resnet-fig2a" {
                v.push(("sizes", "20,40"));
            } else {
                v.extend([("betas", "1"), ("n_fig2c", "20")]);
            }
            v
        }
        "resnet-fig3" => vec![
            ("n_train", "40"),
            ("n_val", "20"),
            ("n_test", "20"),
            ("widths", "8"),
            ("epochs", "1"),
            ("lrs", "0.5"),
            ("wds", "0"),
            ("base_epochs", "2"),
            ("base_width", "8"),
            ("base_lrs", "5"),
            ("base_wds", "0"),
        ],
        "resnet-kernel-bound" => vec![
            ("d", "8"),
            ("k", "2"),
            ("sizes", "4,8"),
            ("n_test", "50"),
            ("lambdas", "0.01,1"),
        ],
        "resnet-thm2-separation" => vec![
            ("d", "8"),
            ("k", "2"),
            ("n_train", "6"),
            ("n_test", "50"),
            ("lambdas", "0.01,1"),
            ("width", "8"),
            ("epochs", "1"),
        ],
        "arora-bounds" => vec![
            ("n_train", "20"),
            ("n_test", "20"),
            ("d", "5"),
            ("width", "40"),
            ("sweep_widths", "20,80"),
            ("steps", "7"),
            ("null_draws", "20"),
        ],
        "resnet-fg-dynamics" => vec![
            ("n_train", "40"),
            ("n_test", "40"),
            ("width", "8"),
            ("epochs", "1"),
        ],
        "resnet-fig2a-ablation" => vec![
            ("n_train", "40"),
            ("n_val", "20"),
            ("n_test", "20"),
            ("width", "8"),
            ("epochs", "1"),
            ("lrs", "0.05"),
            ("variants", "baseline"),
        ],
        "rnn-wang-checks" => vec![
            ("len", "2"),
            ("sizes", "10,20"),
            ("n_test", "20"),
            ("width", "8"),
            ("ntk_widths", "8,16"),
            ("ntk_n", "3"),
            ("ntk_repeats", "1"),
        ],
        "resnet-fig3b" => vec![
            ("d", "8"),
            ("n_train", "50"),
            ("n_test", "20"),
            ("widths", "10"),
            ("lrs", "0.1"),
            ("epochs", "1"),
        ],
        other => panic!("no tiny settings for {other}: add them here"),
    }
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Checks that the results (not only the recorded settings) reflect the tiny settings.
fn check_results_follow_settings(name: &str, r: &Value) {
    let len = |v: &Value| v.as_array().map(Vec::len).unwrap_or(usize::MAX);
    match name {
        "arora-fig1" => {
            assert_eq!(r["settings"]["width"], 60);
            assert_eq!(r["settings"]["n"], 20);
            assert_eq!(len(&r["runs"][0]["actual_loss"]), 6);
        }
        "arora-fig2" => {
            assert_eq!(len(&r["runs"]), 2);
            assert_eq!(r["settings"]["n_train"], 20);
            assert_eq!(r["settings"]["width"], 30);
        }
        "arora-sec6" => assert_eq!(len(&r["lambda_min"]), 2),
        "complexity-examples" => assert!(len(&r["rows"]) > 10),
        "rnn-kernel" => {
            assert_eq!(len(&r["presets"]), 1);
            assert_eq!(len(&r["presets"][0]["rel_error"]), 2);
        }
        "rnn-length" => {
            assert_eq!(len(&r["points"]), 3);
            assert_eq!(len(&r["curves"]), 1);
        }
        "rnn-nvar" => {
            assert_eq!(len(&r["by_n"]), 2);
            assert_eq!(len(&r["by_l0"]), 2);
            assert_eq!(r["by_n"][0]["len"], 4);
        }
        "rnn-elman" => assert_eq!(len(&r["lengths"]), 1),
        "resnet-fig2a" => {
            // 2 learners + 1 kernel at 2 sizes
            assert_eq!(len(&r["records"]), 6);
        }
        "resnet-fig2c" => assert_eq!(len(&r["records"]), 3),
        "resnet-fig3" => assert_eq!(r["settings"]["n_train"], 40),
        "resnet-kernel-bound" => assert_eq!(len(&r["points"]), 2 * 3),
        "resnet-thm2-separation" => {
            assert_eq!(len(&r["kernels"]), 3);
            assert_eq!(r["kernels"][0]["n"], 6);
            assert_eq!(len(&r["resnet"]["test_curve"]), 2);
        }
        "arora-bounds" => {
            assert_eq!(r["n"], 20);
            assert_eq!(r["d"], 5);
            assert_eq!(r["iterations"], 7);
        }
        "resnet-fg-dynamics" => assert_eq!(len(&r["epochs"]), 3),
        "resnet-fig2a-ablation" => {
            assert_eq!(len(&r["runs"]), 1);
            assert_eq!(r["runs"][0]["width"], 8);
        }
        "rnn-wang-checks" => {
            assert_eq!(len(&r["thm2"]), 2);
            assert_eq!(len(&r["cross_fraction"]), 2);
        }
        "resnet-fig3b" => {
            assert_eq!(len(&r["points"]), 1);
            assert_eq!(r["points"][0]["width"], 10);
        }
        other => panic!("no check for {other}"),
    }
}

#[test]
fn every_experiment_records_its_settings_and_rejudge_reproduces_its_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    for exp in registry() {
        let name = exp.name();
        let mut o = ReproduceOptions::quick(dir.path(), 1);
        o.set = tiny(name)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let resolved = suite::resolve(name, &o).unwrap();
        let t0 = std::time::Instant::now();
        let out = suite::reproduce(name, &o).unwrap_or_else(|e| panic!("{name}: {e}"));
        eprintln!("{name}: {:.1} s", t0.elapsed().as_secs_f64());
        let saved = read(&dir.path().join(name).join("result.json"));
        assert_eq!(saved["experiment"], name);
        assert_eq!(saved["settings"], resolved, "{name}: recorded settings");
        assert_eq!(out.settings, resolved);
        check_results_follow_settings(name, &saved["results"]);
        for c in saved["claims"].as_array().unwrap() {
            let v = c["verdict"].as_str().unwrap();
            assert!(["held", "not_held", "inconclusive"].contains(&v), "{v}");
            assert_eq!(v == "inconclusive", c["reason"].is_string(), "{c}");
        }
        // issue 26: every claim carries a statement, and a verbatim one is a registered
        // quote (which tests/claim_quotes.rs matches against the seed text)
        for c in &out.claims {
            let p = c
                .paper
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: claim without a statement: {}", c.claim));
            if p.kind == QuoteKind::Verbatim {
                assert!(
                    quotes::ALL.iter().any(|(_, q)| q.statement() == *p),
                    "{name}: verbatim quote not in quotes::ALL: {p:?}"
                );
            }
        }
        // rejudge recomputes the same verdicts from the file alone
        let r = widenet::report::run::rejudge(&dir.path().join(name), false).unwrap();
        assert_eq!(r.outputs.len(), 1);
        assert_eq!(r.outputs[0].claims, out.claims, "{name}: rejudged claims");
        assert_eq!(r.changed[0].1, 0);
    }
    // the whole directory at once, writing the report
    let r = widenet::report::run::rejudge(dir.path(), true).unwrap();
    assert_eq!(r.outputs.len(), registry().len());
    assert!(r.report.as_ref().unwrap().exists());
    assert!(r.table.contains("claims:"));
}

#[test]
fn a_failed_precondition_makes_the_verdict_inconclusive_and_rejudge_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[(&str, &str)]| {
        let mut o = ReproduceOptions::quick(dir.path(), 2);
        o.set = tiny(name)
            .into_iter()
            .chain(extra.iter().copied())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        suite::reproduce(name, &o).unwrap();
        dir.path().join(name).join("result.json")
    };
    // Fig. 2(a): the paper's statement is about N = 1,000; not run -> inconclusive
    let p = run("resnet-fig2a", &[]);
    let saved = read(&p);
    let c = &saved["claims"][0];
    assert_eq!(c["verdict"], "inconclusive", "{c}");
    assert!(c["reason"].as_str().unwrap().contains("1000"));
    assert_eq!(c["paper"]["seed"], "003");
    // kernel bound: a failed fit at some (kernel, N) -> inconclusive; edit the saved
    // result by hand and rejudge
    let p = run("resnet-kernel-bound", &[]);
    let mut saved = read(&p);
    assert_ne!(saved["claims"][0]["verdict"], "inconclusive");
    saved["results"]["points"][0]["population_error"] = Value::Null;
    std::fs::write(&p, serde_json::to_vec(&saved).unwrap()).unwrap();
    let r = widenet::report::run::rejudge(p.parent().unwrap(), true).unwrap();
    let c = &r.outputs[0].claims[0];
    assert!(c.is_inconclusive(), "{c:?}");
    assert_eq!(r.changed[0].1, 1);
    assert_eq!(read(&p)["claims"][0]["verdict"], "inconclusive");
    // rnn-nvar: Remark 2.2 is about small N; at N = 3 the claim cannot be tested
    let p = run("rnn-nvar", &[("n_for_l0", "3")]);
    let c = &read(&p)["claims"][0];
    assert_eq!(c["verdict"], "inconclusive", "{c}");
    assert!(c["reason"]
        .as_str()
        .unwrap()
        .contains("N small (e.g. N = 2)"));
}

/// NaN and ±inf in several float fields of a result (plain fields, a list's elements, an
/// `Option`) are written to result.json as "NaN" / "inf" / "-inf", read back bit for bit,
/// and rejudge gives the verdicts the claims function gives on the in-memory result; a file
/// written before (serde_json's `null` in a float field) still rejudges, null read as NaN.
#[test]
fn non_finite_results_survive_result_json_and_rejudge() {
    use widenet::artifacts::nonfinite;
    use widenet::experiments::complexity_examples::{ComplexityExamples, Examples};
    use widenet::experiments::framework::Experiment;
    let dir = tempfile::tempdir().unwrap();
    let o = ReproduceOptions::quick(dir.path(), 3);
    let mut out = suite::reproduce("complexity-examples", &o).unwrap();
    let p = dir.path().join("complexity-examples").join("result.json");
    let saved = read(&p);
    let s = serde_json::from_value(saved["settings"].clone()).unwrap();
    let mut r: ComplexityExamples = nonfinite::from_value(saved["results"].clone()).unwrap();
    // the run's own divergent series: computed value +inf, written as "inf"
    assert!(r.rows.iter().any(|x| x.computed_value == f64::INFINITY));
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    r.c1 = nan;
    r.rel_tol = -inf;
    r.rows[0].computed_value = nan;
    r.rows[1].log10_computed = -inf;
    r.rows[2].r = inf;
    r.rows[3].reference = Some(nan);
    let want = Examples.claims(&s, &r);
    assert!(!want.is_empty());
    out.claims = want.clone();
    out.files.clear();
    widenet::experiments::common::write_result(dir.path(), &mut out, &r).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(r#""c1": "NaN""#), "c1 not written as \"NaN\"");
    assert!(text.contains(r#""rel_tol": "-inf""#));
    let back: ComplexityExamples = nonfinite::from_value(read(&p)["results"].clone()).unwrap();
    assert!(back.c1.is_nan() && back.rel_tol == -inf);
    assert!(back.rows[0].computed_value.is_nan());
    assert_eq!(back.rows[1].log10_computed, -inf);
    assert_eq!(back.rows[2].r, inf);
    assert!(back.rows[3].reference.unwrap().is_nan());
    for (a, b) in back.rows.iter().zip(&r.rows).skip(4) {
        assert_eq!(a.computed_value.to_bits(), b.computed_value.to_bits());
        assert_eq!(a.log10_computed.to_bits(), b.log10_computed.to_bits());
    }
    let j = widenet::report::run::rejudge(p.parent().unwrap(), false).unwrap();
    assert_eq!(j.outputs[0].claims, want);
    assert_eq!(j.changed[0].1, 0);
    // an older file: NaN written as null by serde_json
    let mut old = read(&p);
    old["results"]["c1"] = Value::Null;
    old["results"]["rows"][0]["computed_value"] = Value::Null;
    std::fs::write(&p, serde_json::to_vec(&old).unwrap()).unwrap();
    let j = widenet::report::run::rejudge(p.parent().unwrap(), false).unwrap();
    assert_eq!(j.outputs[0].claims, want);
}

/// Issue 26: a run that diverged cannot refute a paper. `rnn-elman` at eta = 1e30 turns
/// every objective into NaN; Theorem 1's claim (and widenet's two checks) are inconclusive
/// with the reason, and Theorem 1's claim records the assumption it is outside of. At
/// Theorem 1's own step size (eta = none) and eps_x inside (0, 1) the claim is inside the
/// assumptions checked.
#[test]
fn a_diverged_elman_run_is_inconclusive_and_names_why() {
    let dir = tempfile::tempdir().unwrap();
    let elman = |extra: &[(&str, &str)]| {
        let mut o = ReproduceOptions::quick(dir.path(), 1);
        o.set = tiny("rnn-elman")
            .into_iter()
            .chain(extra.iter().copied())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        o
    };
    let o = elman(&[("eta", "1e30")]);
    let out = suite::reproduce("rnn-elman", &o).unwrap();
    // widenet's two checks, Theorem 1 and Theorem 1's log m across the width sweep
    assert_eq!(out.claims.len(), 4);
    for c in &out.claims {
        match &c.verdict {
            widenet::experiments::claim::Verdict::Inconclusive { reason } => {
                assert!(reason.contains("diverged"), "{reason}")
            }
            v => panic!("{}: {v:?}", c.claim),
        }
    }
    let thm = &out.claims[2];
    assert_eq!(thm.inside_assumptions(), Some(false));
    assert!(thm
        .assumptions
        .iter()
        .any(|a| !a.holds && a.name.starts_with("eta = Theta~")));
    // rejudge agrees
    let r = widenet::report::run::rejudge(&dir.path().join("rnn-elman"), false).unwrap();
    assert_eq!(r.outputs[0].claims, out.claims);
    // at Theorem 1's eta and eps_x = 0.5 the assumptions checked hold
    let out = suite::reproduce("rnn-elman", &elman(&[("eta", "none"), ("eps_x", "0.5")])).unwrap();
    assert_eq!(out.claims[2].inside_assumptions(), Some(true));
}

/// Issue 24: `steps` is the one name of a count of gradient steps; `iters`, its old name,
/// still means `steps` as a `--set` key (and `--iters` as a flag, tests/it/cli.rs) in every
/// experiment that has the setting, and a saved run that wrote `iters` still parses.
#[test]
fn iters_is_the_old_name_of_steps() {
    let dir = tempfile::tempdir().unwrap();
    let mut with_steps = 0;
    for exp in registry() {
        if !exp.keys().iter().any(|k| k == "steps") {
            assert_eq!(exp.flag_key("iters"), None, "{}", exp.name());
            continue;
        }
        with_steps += 1;
        assert_eq!(
            exp.flag_key("iters").as_deref(),
            Some("steps"),
            "{}",
            exp.name()
        );
        let mut o = ReproduceOptions::quick(dir.path(), 0);
        o.set = vec![("iters".into(), "7".into())];
        let v = suite::resolve(exp.name(), &o).unwrap();
        assert_eq!(v["steps"], json!(7), "{}", exp.name());
    }
    // arora-fig1, arora-fig2, arora-bounds, rnn-elman at least
    assert!(with_steps >= 4, "{with_steps} experiments with steps");
    // a result.json from before the rename: settings with "iters" parse as steps
    let fig1 = registry()
        .iter()
        .find(|e| e.name() == "arora-fig1")
        .unwrap();
    let mut s = fig1.resolve(Scale::Quick, 0, &[]).unwrap();
    let steps = s["steps"].clone();
    let obj = s.as_object_mut().unwrap();
    obj.remove("steps");
    obj.insert("iters".into(), steps.clone());
    let typed: widenet::experiments::arora_fig1::Fig1Config = serde_json::from_value(s).unwrap();
    assert_eq!(json!(typed.steps), steps);
}
