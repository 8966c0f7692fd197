//! Unit tests of `widenet::experiments::resnet_fig2::fig2c` (formerly in src/experiments/resnet_fig2/fig2c.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use fig2c::run_fig2c;
use widenet::experiments::common::Scale;
use widenet::experiments::resnet_fig2::*;
use widenet::models::krr::mean_sq_error;
use widenet::models::learner::Learner;
use widenet::models::ntk_exact::NtkExact;
use widenet::models::resnet::Ntk;

fn tiny(seed: u64) -> Fig2Settings {
    let mut s = Fig2Settings::new(Scale::Quick, seed);
    s.sizes = vec![30];
    s.betas = vec![0.5, 2.0];
    s.n_fig2c = 30;
    s.n_val = 40;
    s.n_test = 50;
    s.width = 12;
    s.learners = vec![];
    s.kernels = vec![];
    s.ntk_lambdas = vec![1e-3, 1e-1];
    s
}

/// `ntk-exact` in Figure 2(c) (all β solved with one factorization per λ, then
/// resumed from the cache) against a direct solve per β with the same A, W⁽⁰⁾.
#[test]
fn ntk_exact_records_recompute_directly_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let s = tiny(3);
    let (_, r) = run_fig2c(&s, dir.path()).unwrap();
    assert_eq!(r.records.len(), 2);
    let init = sub_seed(3, "resnet-fig2/init/ntk");
    let ntk = Ntk::new(30, 12, 8, init).unwrap();
    for &beta in &s.betas {
        let mut t = s.target.clone();
        t.beta = beta;
        let data = fig2_data(&s, &t, 30).unwrap();
        let rec = r.record(NTK_EXACT, 30, beta).unwrap();
        let ex = NtkExact::new(&ntk, &data.train.0, &data.train.1).unwrap();
        for (p, &l) in rec.grid.iter().zip(&s.ntk_lambdas) {
            let sol = ex.solve(l).unwrap();
            let te = mean_sq_error(&sol.forward(&data.test.0).unwrap(), &data.test.1).unwrap();
            let rel = (p.test_error.unwrap() - te).abs() / te;
            assert!(rel < 1e-10, "beta {beta}, lambda {l}: {rel:e}");
            assert_eq!(p.lambda, Some(l));
        }
    }
    // rerun in the same directory: every record comes from the cache
    let (_, r2) = run_fig2c(&s, dir.path()).unwrap();
    for (a, b) in r.records.iter().zip(&r2.records) {
        assert_eq!(a.grid, b.grid);
    }
    // an empty λ grid is an error naming the field
    let mut bad = tiny(3);
    bad.ntk_lambdas.clear();
    let e = run_fig2a(&bad, dir.path()).unwrap_err().to_string();
    assert!(e.contains("ntk_lambdas"), "{e}");
}
