//! Unit tests of `widenet::experiments::resnet_fig3` (formerly in src/experiments/resnet_fig3.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::data::resnet_targets::{enumerate_hypercube, Fig3Target};
use widenet::experiments::common::{RunCache, Scale};
use widenet::experiments::resnet_fig3::*;
use widenet::models::krr::mean_sq_error;
use widenet::models::learner::Learner;

fn tiny(seed: u64) -> Fig3Settings {
    let mut s = Fig3Settings::new(Scale::Quick, seed);
    s.d = 10;
    s.n_train = 60;
    s.n_val = 30;
    s.n_test = 40;
    s.widths = vec![4, 8];
    s.lrs = vec![0.5];
    s.wds = vec![0.0];
    s.epochs = 2;
    s.base_width = 4;
    s.base_lrs = vec![5.0];
    s.base_wds = vec![0.0, 1e-3];
    s.base_epochs = 20;
    s
}

/// End to end at tiny scale: settings saved, the W* picks and SGD's best
/// recomputed from the records, W* rebuilt from the cached d₀ weights with
/// its recorded population error and test error, and reruns (fresh and
/// resumed) identical.
#[test]
fn tiny_run_records_recompute() {
    let dir = tempfile::tempdir().unwrap();
    let s = tiny(4);
    let (out, r) = run(&s, dir.path()).unwrap();
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("resnet-fig3/result.json")).unwrap())
            .unwrap();
    assert_eq!(j["settings"]["seed"], 4);
    assert_eq!(j["settings"]["d"], 10);
    assert_eq!(out.claims.len(), 2 + s.paper_points.len());
    assert_eq!(r.sgd.len(), 2);
    assert_eq!(r.base.len(), 2);
    // SGD's best = lowest test error; the claim follows from it
    let best = r
        .sgd
        .iter()
        .filter_map(|p| p.test_error)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(r.sgd[r.sgd_best.unwrap()].test_error, Some(best));
    // held / not held when SGD fitted the training set, else inconclusive
    let min_train = r
        .sgd
        .iter()
        .filter_map(|p| p.train_error)
        .fold(f64::INFINITY, f64::min);
    let fit = s.paper_points.iter().map(|p| p.error).fold(0.0, f64::max);
    if min_train <= fit {
        assert_eq!(out.claims[0].held(), best > 0.69);
    } else {
        assert!(out.claims[0].is_inconclusive(), "{:?}", out.claims[0]);
    }
    // each W*: lowest population error within the norm budget, rebuilt from
    // the cached weights (the d₀ net's error on the 64 inputs by hand)
    let seeds = Fig3Seeds::from_seed(4);
    let target = Fig3Target::random(10, seeds.target).unwrap();
    let (xt, yt) = target.sample(40, seeds.test).unwrap();
    let xs = enumerate_hypercube(6, 1.0 / 6f64.sqrt()).unwrap();
    let cache = RunCache::new(&dir.path().join("resnet-fig3"));
    assert!(r.w_star.iter().all(|w| w.base_index.is_some()));
    for w in &r.w_star {
        let budget = w.paper.norm * (1.0 + s.norm_slack);
        let want = r
            .base
            .iter()
            .enumerate()
            .filter(|(_, b)| b.norm_over_sqrt_d.is_some_and(|n| n <= budget))
            .min_by(|a, b| {
                a.1.population_error
                    .unwrap()
                    .total_cmp(&b.1.population_error.unwrap())
            })
            .map(|(i, _)| i);
        assert_eq!(w.base_index, want);
        let Some(i) = w.base_index else { continue };
        let b = &r.base[i];
        let key = BaseKey {
            base_d: 6,
            base_width: 4,
            seed: 4,
            lr: b.lr,
            weight_decay: b.weight_decay,
            epochs: 20,
        };
        let cached: BaseRecord = cache
            .load(&format!("base_lr{}_wd{}", b.lr, b.weight_decay), &key)
            .unwrap();
        let net0 = base_net(&s, &cached).unwrap().unwrap();
        let f = net0.forward(&xs).unwrap();
        let pop: f64 = (0..64)
            .map(|p| {
                let y: f64 = xs.row(p).iter().map(|v| v.signum()).product();
                (f.get(p, 0) - y).powi(2)
            })
            .sum::<f64>()
            / 64.0;
        assert!((pop - w.population_error.unwrap()).abs() < 1e-12);
        let big = net0.embed(10, &target.indices, 8).unwrap();
        let te = mean_sq_error(&big.forward(&xt).unwrap(), &yt).unwrap();
        assert!((te - w.embedded[1].2).abs() < 1e-12);
    }
    // identical from a fresh directory and when resumed (up to wall-clock seconds)
    let (_, r2) = run(&s, tempfile::tempdir().unwrap().path()).unwrap();
    let (_, r3) = run(&s, dir.path()).unwrap();
    for other in [&r2, &r3] {
        let errs = |x: &Fig3Result| {
            x.sgd
                .iter()
                .map(|p| (p.test_error, p.norm_over_sqrt_d))
                .chain(
                    x.base
                        .iter()
                        .map(|b| (b.population_error, b.norm_over_sqrt_d)),
                )
                .collect::<Vec<_>>()
        };
        assert_eq!(errs(&r), errs(other));
        assert_eq!(r.w_star, other.w_star);
    }
}

#[test]
fn settings_errors_name_the_field() {
    let mut s = Fig3Settings::new(Scale::Quick, 0);
    s.widths = vec![201];
    assert!(s.validate().unwrap_err().to_string().contains("width"));
    let mut s = Fig3Settings::new(Scale::Quick, 0);
    s.base_d = 50;
    assert!(s.validate().unwrap_err().to_string().contains("base_d"));
    let mut s = Fig3Settings::new(Scale::Quick, 0);
    s.n_train = 0;
    assert!(s.validate().unwrap_err().to_string().contains("n_train"));
}
