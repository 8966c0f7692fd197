//! The experiments at tiny scale: settings and seed saved, claims computed from the
//! recorded numbers, resuming from finished sub-runs, and a real-data smoke test.

#![allow(clippy::needless_range_loop)] // index loops mirror the formulas

use std::path::Path;
use widenet::experiments::arora_fig1::{self, Fig1Config};
use widenet::experiments::arora_fig2::{self, Fig2Config};
use widenet::experiments::common::{spearman, DataSource, Scale};

#[test]
fn fig1_records_are_consistent_with_the_theory() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = Fig1Config::new(Scale::Quick, 3);
    c.n_train = 40;
    c.width = 3000;
    c.steps = 150;
    let (out, r) = arora_fig1::run(&c, dir.path()).unwrap();
    assert_eq!(r.settings.seed, 3);
    assert_eq!(r.runs.len(), 3);
    // unit inputs: tr H^∞ = n/2
    assert!((r.eigenvalues.iter().sum::<f64>() - 20.0).abs() < 1e-9);
    for run in &r.runs {
        // Parseval on the projections: Σ|v_iᵀy|² = ‖y‖² = n (worst-case scaled to ‖y‖)
        let e: f64 = run.projections.iter().map(|p| p * p).sum();
        assert!((e - 40.0).abs() < 1e-8, "{}: {e}", run.labels);
        assert_eq!(run.actual_loss.len(), 151);
        assert!((run.predicted_loss[0] - 20.0).abs() < 1e-9);
    }
    // worst-case labels put all their weight on the last eigenvector
    let w = r.runs.iter().find(|x| x.labels == "worst-case").unwrap();
    assert!((w.projections[39] - 40f64.sqrt()).abs() < 1e-8);
    // the saved result carries the seed, settings and claims
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("arora-fig1/result.json")).unwrap())
            .unwrap();
    assert_eq!(j["settings"]["seed"], 3);
    assert_eq!(j["settings"]["width"], 3000);
    let claims = j["claims"].as_array().unwrap();
    assert_eq!(claims.len(), out.claims.len());
    for cl in claims {
        assert!(cl["claim"].is_string() && cl["verdict"].is_string() && !cl["measured"].is_null());
    }
    // the convergence claim is computed from the recorded curves
    let t = r.runs.iter().find(|x| x.labels == "true").unwrap();
    let rnd = r.runs.iter().find(|x| x.labels == "random").unwrap();
    let held = t.final_loss_ratio < rnd.final_loss_ratio;
    assert_eq!(claims[0]["verdict"], if held { "held" } else { "not_held" });
    assert!(dir.path().join("arora-fig1/fig1a_loss.png").exists());
    assert!(dir.path().join("arora-fig1/fig1b_spectrum.svg").exists());
    // the true labels' test loss, measured and predicted from H^∞ at the same iterations;
    // at k = 0 the prediction is the network's own initial output (f32 training: 1e-4)
    assert_eq!(t.test_iteration[0], 0);
    assert_eq!(t.test_l1.len(), t.predicted_test_l1.len());
    assert!((t.predicted_test_l1[0] - t.test_l1[0]).abs() <= 1e-4 * t.test_l1[0]);
    assert!(rnd.test_l1.is_empty());
    assert!(dir.path().join("arora-fig1/fig1c_test_loss.png").exists());
}

fn tiny_fig2(data: Option<std::path::PathBuf>, width: usize) -> Fig2Config {
    let mut c = Fig2Config::new(Scale::Quick, 5);
    c.data = data;
    c.n_train = 40;
    c.n_test = 40;
    c.width = width;
    c.steps = 300;
    c.portions = vec![0.0, 0.5, 1.0];
    c
}

#[test]
fn fig2_resumes_from_finished_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (_, first) = arora_fig2::run(&tiny_fig2(None, 500), dir.path()).unwrap();
    assert_eq!(first.runs.len(), 3);
    // complexity measure grows with p (true labels are simpler than random ones)
    assert!(first.runs[0].complexity_measure < first.runs[2].complexity_measure);
    // mark a finished sub-run: a restart with the same settings must reuse it
    let cached = dir.path().join("arora-fig2/runs/p0.50.json");
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cached).unwrap()).unwrap();
    v["result"]["seconds"] = serde_json::json!(12345.0);
    std::fs::write(&cached, serde_json::to_vec(&v).unwrap()).unwrap();
    let (_, again) = arora_fig2::run(&tiny_fig2(None, 500), dir.path()).unwrap();
    assert_eq!(again.runs[1].seconds, 12345.0);
    assert_eq!(again.runs[0].test_error, first.runs[0].test_error);
    // different settings do not reuse it
    let (_, other) = arora_fig2::run(&tiny_fig2(None, 600), dir.path()).unwrap();
    assert_ne!(other.runs[1].seconds, 12345.0);
}

#[test]
fn spearman_matches_hand_values() {
    assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]) - 1.0).abs() < 1e-15);
    assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-15);
    // ranks (1,2,3,4) vs (2,1,4,3): d² = 4, ρ = 1 − 6·4/(4·15) = 0.6
    assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[2.0, 1.0, 4.0, 3.0]) - 0.6).abs() < 1e-12);
}

#[test]
fn data_source_detection() {
    let dir = tempfile::tempdir().unwrap();
    let e = DataSource::detect(Some(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("--data") && e.contains("neither"), "{e}");
    std::fs::write(dir.path().join("test_batch.bin"), b"").unwrap();
    assert_eq!(
        DataSource::detect(Some(dir.path())).unwrap(),
        DataSource::Cifar10(dir.path().to_path_buf())
    );
    assert_eq!(DataSource::detect(None).unwrap(), DataSource::Synthetic);
}

#[test]
fn real_mnist_smoke() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    if !root.exists() {
        eprintln!("skipping: {} not present", root.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut c = tiny_fig2(Some(root), 500);
    c.n_train = 60;
    c.n_test = 100;
    let (out, r) = arora_fig2::run(&c, dir.path()).unwrap();
    assert_eq!(r.settings.data, "mnist");
    assert_eq!(r.settings.d, 784);
    assert_eq!(r.settings.n_train, 60);
    // MNIST 0 vs 1 with true labels: near-perfect test accuracy, far better than p = 1
    assert!(
        r.runs[0].test_error < 0.1,
        "test error {}",
        r.runs[0].test_error
    );
    assert!(r.runs[0].complexity_measure < r.runs[2].complexity_measure);
    assert!(!out.claims.is_empty());
}

#[test]
fn sec6_bounds_match_closed_forms_and_hold() {
    use widenet::experiments::arora_sec6::{self, Sec6Settings};
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sec6Settings::new(Scale::Quick, 1);
    s.sizes = vec![60, 120];
    let (out, r) = arora_sec6::run(&s, dir.path()).unwrap();
    let bounds: Vec<Option<f64>> = r.targets.iter().map(|t| t.bound).collect();
    // Cor. 6.2 by hand: linear 3·1·1; quadratic 3·2·(1 + 0.5 + 0.25); p = 4: 3·4;
    // cos(βᵀx) − 1 with ‖β‖ = 2: 3R sinh R; z arctan(z/2) at R = 1: 6(R²/(4−R²) + (R/2) artanh(R/2))
    let want = [
        3.0,
        10.5,
        12.0,
        6.0 * 2f64.sinh(),
        6.0 * (1.0 / 3.0 + 0.5 * 0.5f64.atanh()),
    ];
    for (b, w) in bounds.iter().zip(want) {
        assert!((b.unwrap() - w).abs() < 1e-9 * w, "{b:?} vs {w}");
    }
    assert!(bounds[5].is_none());
    // App. E's proof for p = 1 gives the sharper yᵀH⁻¹y ≤ 4α²‖β‖²
    assert!(r.targets[0].sqrt_y_hinv_y.iter().all(|v| *v <= 2.0 + 1e-9));
    // every bounded target's claim held
    assert!(out.claims.iter().take(5).all(|c| c.held()));
}
