//! Unit tests of `widenet::bench` (formerly in src/bench.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::bench::*;
use widenet::models::resnet::LearnerKind;
use widenet::models::rnn::{Loss, Objective};

/// The baselines' GEMM lists against flop counts derived by hand from the models'
/// equations (the count of each list is what `gflops` and the baselines rest on).
#[test]
fn gemm_lists_match_the_hand_counted_flops() {
    let (b, m, d_in, len) = (64usize, 1024usize, 10usize, 20usize);
    let f = |x: usize| x as f64;
    // forward: L × (X Aᵀ + H Wᵀ); per output step: H Bᵀ and E B; backward: (L − 1) δ W;
    // gradient: δᵀ H over all L·b rows
    let forward = f(len) * 2.0 * f(b * m) * f(d_in + m);
    let common = forward + f(len - 1) * 2.0 * f(b * m * m) + 2.0 * f(m * m) * f(len * b);
    let wang = rnn_sgd_gemms(b, m, d_in, 1, len, &Objective::wang());
    assert_eq!(wang.len(), 2 * len + 2 + (len - 1) + 1);
    assert_eq!(total_flops(&wang), common + 2.0 * (2.0 * f(b * m)));
    let d_out = 4;
    let elman = rnn_sgd_gemms(b, m, d_in, d_out, len, &Objective::elman(Loss::L2, 1.0));
    let outs = len - 2; // steps 3..L
    assert_eq!(elman.len(), 2 * len + 2 * outs + (len - 1) + 1);
    assert_eq!(
        total_flops(&elman),
        common + f(outs) * 2.0 * (2.0 * f(b * m * d_out))
    );
    // the backward GEMM δ_{ℓ+1} W accumulates exactly where E_ℓ B was written first
    let acc = elman.iter().filter(|s| s.acc && s.k == m && !s.tb).count();
    assert_eq!(acc, outs - 1);

    // NTK: forward and backward on n samples, then Σ_ℓ 2 · 2n·(L − ℓ + 1)n·m
    let n = 500usize;
    let ntk = rnn_ntk_gemms(n, m, d_in, 1, len);
    let fwd = f(len) * 2.0 * f(n * m) * f(d_in + m);
    let bwd = 2.0 * f(n * m) + f(len - 1) * 2.0 * f(n * m * m);
    let gram = 2.0 * f(n * n * m) * f(len * (len + 1));
    assert_eq!(total_flops(&ntk), fwd + bwd + gram);

    // ResNet learners, batch b, d inputs (+1 bias), width m, k outputs
    let (b, d, m, k) = (50usize, 30usize, 1000usize, 8usize);
    let fl = |kind| total_flops(&resnet_gemms(kind, b, d, m, k));
    let first = 2.0 * f(b * m * (d + 1)); // (x,1) Wᵀ, and ∂W = ∂Pᵀ (x,1)
    let out = 2.0 * f(b * k * m); // σ(P) Aᵀ, and G A
    assert_eq!(fl(LearnerKind::Fc2), 2.0 * first + 2.0 * out);
    assert_eq!(fl(LearnerKind::Ntk), 3.0 * first + 2.0 * out);
    assert_eq!(fl(LearnerKind::Last), first + 2.0 * out);
    let second = 2.0 * f(b * m * (m + 1));
    assert_eq!(fl(LearnerKind::Fc3), 2.0 * first + 3.0 * second + 2.0 * out);
    let v = 2.0 * f(b * m * (k + 1));
    assert_eq!(fl(LearnerKind::ResNet3), 2.0 * first + 3.0 * v + 4.0 * out);
}

#[test]
fn records_are_selected_by_prefix() {
    let only = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(selected(&[], "h_inf"));
    assert!(selected(&only(&["rnn"]), "rnn_infinite"));
    assert!(selected(&only(&["rnn"]), "rnn_sgd_step_wang"));
    assert!(!selected(&only(&["rnn"]), "resnet_step"));
    assert!(selected(&only(&["resnet_step_ntk"]), "resnet_step"));
    assert!(selected(&only(&["resnet_step_ntk"]), "resnet_step_ntk"));
    assert!(!selected(&only(&["resnet_step_ntk"]), "resnet_step_last"));
    assert!(selected(&only(&["gemm", "eigh"]), "eigh_values_only"));
}

/// Smoke run of the quick sizes of the RNN and ResNet records: every record is produced
/// once, in order, with positive finite times and ratios.
#[test]
fn quick_rnn_and_resnet_records_run() {
    let mut seen = Vec::new();
    let recs = run_only(
        &BenchSizes::quick(),
        &["rnn".to_string(), "resnet".to_string()],
        |r| seen.push(r.name.clone()),
    )
    .unwrap();
    let names: Vec<&str> = recs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "rnn_sgd_step_elman",
            "rnn_sgd_step_wang",
            "rnn_empirical_ntk",
            "rnn_infinite",
            "resnet_step_3resnet",
            "resnet_step_3layer",
            "resnet_step_2layer",
            "resnet_step_last",
            "resnet_step_ntk",
        ]
    );
    assert_eq!(seen, names);
    for r in &recs {
        assert!(r.seconds > 0.0 && r.seconds.is_finite(), "{}", r.name);
        if r.name != "rnn_infinite" {
            let ratio = r.ratio.unwrap();
            assert!(ratio > 0.0 && ratio.is_finite(), "{}: {ratio}", r.name);
            assert!(r.gflops.unwrap() > 0.0, "{}", r.name);
        }
    }
}
