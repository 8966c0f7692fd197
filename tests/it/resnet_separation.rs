//! `resnet-thm2-separation` (seed 003 Theorem 2 against Corollary 7.1 on one instance): the
//! claim gives each of the three verdicts on synthetic results (so it can fail), names the
//! assumption or the reason when inconclusive, the kernel side is `resnet-kernel-bound`'s
//! on the same instance, and `rejudge` of a saved run reproduces (and follows edits of) the
//! verdict.

use serde_json::Value;
use widenet::experiments::claim::{BoundRule, Claim, QuoteKind, Verdict};
use widenet::experiments::common::Scale;
use widenet::experiments::quotes;
use widenet::experiments::resnet_kernel_bound::{self, BoundPoint, KernelBoundSettings};
use widenet::experiments::resnet_separation::{
    d_scale, n_limit, separation_claim, ResNetSide, SeparationResults, SeparationSettings,
};
use widenet::experiments::suite::{self, ReproduceOptions};

fn results(s: &SeparationSettings, resnet_error: f64, kernel_error: f64) -> SeparationResults {
    SeparationResults {
        target: widenet::data::resnet_targets::Thm2Target::random(s.d, s.k, s.alpha, 0).unwrap(),
        train_seed: 1,
        test_seed: 2,
        kernels: s
            .kernels
            .iter()
            .map(|k| BoundPoint {
                kernel: k.name().to_string(),
                n: s.n_train,
                population_error: Some(kernel_error),
                best_lambda: Some(1e-3),
                grid: Vec::new(),
            })
            .collect(),
        kernel_seconds: 0.0,
        resnet: ResNetSide {
            initial_train_error: 7.0,
            final_train_error: resnet_error / 2.0,
            test_error: resnet_error,
            test_curve: vec![1.0, resnet_error],
            split: None,
            diverged: None,
            seconds: 0.0,
        },
    }
}

fn reason(c: &Claim) -> &str {
    match &c.verdict {
        Verdict::Inconclusive { reason } => reason,
        v => panic!("expected inconclusive, got {v:?}"),
    }
}

#[test]
fn the_range_and_scale_match_numpy() {
    // numpy: 1000**3 / np.log(1000)**6 and 6**2 * np.log(6)**2
    assert!((n_limit(1000, 6) - 9204.036653113972).abs() < 1e-8);
    assert!((n_limit(100, 6) - 104.83973000187622).abs() < 1e-10);
    assert!((d_scale(6) - 115.57447184046244).abs() < 1e-10);
}

#[test]
fn the_claim_gives_each_verdict() {
    let s = SeparationSettings::new(Scale::Paper, 0);
    // α = 0.3: floor α²/4 = 0.0225, α⁴ = 0.0081, cap 2 α⁴ = 0.0162
    assert_eq!((s.d, s.k, s.n_train), (1000, 6, 9000));
    let c = separation_claim(&s, &results(&s, 0.01, 0.6));
    assert!(c.held(), "{c:?}");
    assert_eq!(c.inside_assumptions(), Some(true));
    match c.rule {
        Some(BoundRule::CappedConstant { cap, implied }) => {
            assert_eq!(cap, 2.0);
            assert!((implied - 0.01 / 0.0081).abs() < 1e-12);
        }
        ref r => panic!("{r:?}"),
    }
    let p = c.paper.as_ref().unwrap();
    assert_eq!(p.kind, QuoteKind::Verbatim);
    assert_eq!(*p, quotes::R003_COR_7_1_EXAMPLE.statement());
    assert_eq!(c.measured["min_kernel_error"], 0.6);
    // ResNet above the floor: not held
    let c = separation_claim(&s, &results(&s, 0.05, 0.6));
    assert_eq!(c.verdict, Verdict::NotHeld);
    // below the floor 0.0225 but above the capped 2 α⁴ = 0.0162: not held (rule (c))
    let c = separation_claim(&s, &results(&s, 0.02, 0.6));
    assert_eq!(c.verdict, Verdict::NotHeld);
    // a kernel below the floor: no separation on this instance: not held
    let c = separation_claim(&s, &results(&s, 0.01, 0.02));
    assert_eq!(c.verdict, Verdict::NotHeld);
    // a higher cap set before the run admits 0.02 (implied 2.47)
    let mut s3 = s.clone();
    s3.alpha4_cap = 3.0;
    assert!(separation_claim(&s3, &results(&s3, 0.02, 0.6)).held());
}

#[test]
fn the_claim_is_inconclusive_only_with_a_named_reason() {
    let s = SeparationSettings::new(Scale::Paper, 0);
    let mut r = results(&s, 0.01, 0.6);
    r.resnet.diverged = Some("loss 1e30".into());
    r.resnet.test_error = f64::NAN;
    r.resnet.final_train_error = f64::NAN;
    assert!(reason(&separation_claim(&s, &r)).contains("diverged"));
    // trained to nothing: final training error above half its initial value
    let mut r = results(&s, 6.0, 0.6);
    r.resnet.final_train_error = 5.0;
    assert!(reason(&separation_claim(&s, &r)).contains("did not train"));
    // no kernel side
    let mut r = results(&s, 0.01, 0.6);
    r.kernels.clear();
    assert!(reason(&separation_claim(&s, &r)).contains("kernel side"));
    // a kernel fit that failed
    let mut r = results(&s, 0.01, 0.6);
    r.kernels[1].population_error = None;
    assert!(reason(&separation_claim(&s, &r)).contains("ridge regression failed"));
    // quick scale: d = 100 below Lemma E.3's k² ln² k = 115.6, even with a held-looking result
    let q = SeparationSettings::new(Scale::Quick, 0);
    let c = separation_claim(&q, &results(&q, 0.01, 0.6));
    assert!(reason(&c).contains("Lemma E.3"), "{c:?}");
    assert_eq!(c.inside_assumptions(), Some(false));
    // N beyond d^{k/2}/ln^k d = 9,204
    let mut s2 = s.clone();
    s2.n_train = 9300;
    let c = separation_claim(&s2, &results(&s2, 0.01, 0.6));
    assert!(reason(&c).contains("N <= d^(k/2)"), "{c:?}");
    // k = 3 is below Theorem 2's k >= 4
    let mut s2 = s.clone();
    s2.k = 3;
    assert!(reason(&separation_claim(&s2, &results(&s2, 0.01, 0.6))).contains("k >= 4"));
}

fn read(p: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn the_kernel_side_is_the_kernel_bound_instance_and_rejudge_follows_the_saved_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = ReproduceOptions::quick(dir.path(), 3);
    o.set = [
        ("d", "40"),
        ("k", "4"),
        ("n_train", "8"),
        ("n_test", "200"),
        ("width", "8"),
        ("epochs", "2"),
        ("lambdas", "0.001,0.1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let out = suite::reproduce("resnet-thm2-separation", &o).unwrap();
    let p = dir.path().join("resnet-thm2-separation/result.json");
    let mut saved = read(&p);
    // the same instance as resnet-kernel-bound at (d, k, α, seed): identical kernel errors
    let mut kb = KernelBoundSettings::new(Scale::Quick, 3);
    kb.d = 40;
    kb.k = 4;
    kb.sizes = vec![8];
    kb.n_test = 200;
    kb.lambdas = vec![0.001, 0.1];
    let (_, kr) = resnet_kernel_bound::run(&kb, tempfile::tempdir().unwrap().path()).unwrap();
    for (a, b) in kr
        .points
        .iter()
        .zip(saved["results"]["kernels"].as_array().unwrap())
    {
        assert_eq!(b["kernel"], a.kernel.as_str());
        assert_eq!(b["population_error"].as_f64(), a.population_error);
    }
    assert_eq!(saved["results"]["train_seed"], kr.train_seed);
    // d = 40 >= k² ln² k = 30.7 and N = 8 <= 40²/ln⁴ 40 = 8.64: inside the assumptions,
    // so the verdict is held or not held from the numbers (3resnet on 8 points: not held)
    let c = &out.claims[0];
    assert_eq!(c.inside_assumptions(), Some(true), "{c:?}");
    let resnet = saved["results"]["resnet"]["test_error"].as_f64().unwrap();
    let kmin = saved["results"]["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["population_error"].as_f64().unwrap())
        .fold(f64::INFINITY, f64::min);
    let floor = 0.3 * 0.3 / 4.0;
    if !c.is_inconclusive() {
        assert_eq!(
            c.held(),
            resnet < floor && resnet <= 2.0 * 0.3f64.powi(4) && kmin > floor
        );
    }
    let r = widenet::report::run::rejudge(p.parent().unwrap(), false).unwrap();
    assert_eq!(r.outputs[0].claims, out.claims);
    // edit the saved ResNet error: rejudge follows it
    saved["results"]["resnet"]["test_error"] = 0.01.into();
    saved["results"]["resnet"]["final_train_error"] = 0.005.into();
    for k in saved["results"]["kernels"].as_array_mut().unwrap() {
        k["population_error"] = 0.5.into();
    }
    std::fs::write(&p, serde_json::to_vec(&saved).unwrap()).unwrap();
    let r = widenet::report::run::rejudge(p.parent().unwrap(), true).unwrap();
    assert!(
        r.outputs[0].claims[0].held(),
        "{:?}",
        r.outputs[0].claims[0]
    );
    saved["results"]["resnet"]["test_error"] = 0.3.into();
    std::fs::write(&p, serde_json::to_vec(&saved).unwrap()).unwrap();
    let r = widenet::report::run::rejudge(p.parent().unwrap(), true).unwrap();
    assert_eq!(r.outputs[0].claims[0].verdict, Verdict::NotHeld);
    assert_eq!(read(&p)["claims"][0]["verdict"], "not_held");
}
