//! Infinite-width predictions (src/theory/predict) against neural-tangents' fixtures
//! (float64, tests/fixtures/predict/gen_nt.py), brute-force gradient descent, kernel
//! ridge regression and the identities of the formulas; bad input gets errors that
//! name the argument.

use serde::Deserialize;
use widenet::error::Error;
use widenet::linalg::Matrix;
use widenet::models::krr::Krr;
use widenet::rng;
use widenet::theory::predict::dense::NngpKernels;
use widenet::theory::predict::{
    gp_inference, gradient_descent_mse, gradient_descent_mse_ensemble, Cov, Curves, Dynamics,
    LossNorm, Schedule, TestTest,
};

// ----------------------------------------------------------------- helpers

fn mat(rows: &[Vec<f64>]) -> Matrix<f64> {
    let r = rows.len();
    let c = rows.first().map_or(0, |x| x.len());
    Matrix::from_vec(r, c, rows.concat()).unwrap()
}

/// max |a − b| / max |b|: the norm-wise relative difference.
pub(crate) fn rel(a: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    let scale = b.as_slice().iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = a
        .as_slice()
        .iter()
        .zip(b.as_slice())
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    diff / scale.max(1e-300)
}

/// A random PSD kernel Φ Φᵀ / p + 0.1 I with its test–train block: rows 0..n train,
/// n..n+m test (Φ is (n + m) × p, p > n + m so the train block is well conditioned).
fn random_kernels(n: usize, m: usize, seed: u64) -> (Matrix<f64>, Matrix<f64>, Matrix<f64>) {
    let p = 3 * (n + m);
    let mut g = rng::stream(seed, "predict-test");
    let phi = Matrix::from_fn(n + m, p, |_, _| rng::normal(&mut g));
    let k = |i: usize, j: usize| -> f64 {
        let d: f64 = phi.row(i).iter().zip(phi.row(j)).map(|(a, b)| a * b).sum();
        d / p as f64 + if i == j { 0.1 } else { 0.0 }
    };
    let train = Matrix::from_fn(n, n, k);
    let test_train = Matrix::from_fn(m, n, |i, j| k(n + i, j));
    let test_test = Matrix::from_fn(m, m, |i, j| k(n + i, n + j));
    (train, test_train, test_test)
}

pub(crate) fn one_hot(n: usize, c: usize, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "predict-labels");
    let classes: Vec<usize> = (0..n)
        .map(|_| rand::Rng::random_range(&mut g, 0..c))
        .collect();
    Matrix::from_fn(n, c, |i, j| if classes[i] == j { 1.0 } else { 0.0 })
}

pub(crate) fn normal(n: usize, c: usize, scale: f64, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "predict-f0");
    Matrix::from_fn(n, c, |_, _| scale * rng::normal(&mut g))
}

// ----------------------------------------------------------------- neural-tangents

#[derive(Deserialize)]
struct GdCase {
    ridge: f64,
    train: Vec<Vec<Vec<f64>>>,
    test: Vec<Vec<Vec<f64>>>,
}

#[derive(Deserialize)]
struct EnsembleCase {
    ridge: f64,
    mean: Vec<Vec<Vec<f64>>>,
    cov: Vec<Vec<Vec<f64>>>,
}

#[derive(Deserialize)]
struct Gp {
    mean: Vec<Vec<f64>>,
    cov: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct Fixture {
    learning_rate: f64,
    times: Vec<f64>,
    noise: f64,
    y_train: Vec<Vec<f64>>,
    f0_train: Vec<Vec<f64>>,
    f0_test: Vec<Vec<f64>>,
    ntk_train: Vec<Vec<f64>>,
    nngp_train: Vec<Vec<f64>>,
    ntk_test_train: Vec<Vec<f64>>,
    nngp_test_train: Vec<Vec<f64>>,
    nngp_test_test: Vec<Vec<f64>>,
    gd: Vec<GdCase>,
    ensemble: Vec<EnsembleCase>,
    gp: Gp,
}

fn fixture() -> Fixture {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/predict/nt_predict.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn nt_dynamics(fx: &Fixture, ridge: f64) -> Dynamics {
    let mut times = fx.times.clone();
    times.push(f64::INFINITY); // neural-tangents' t = None
    Dynamics {
        times,
        learning_rate: fx.learning_rate,
        schedule: Schedule::Flow,
        ridge,
        loss_norm: LossNorm::Mean,
    }
}

const NT_TOL: f64 = 1e-8;

#[test]
fn gradient_descent_mse_matches_neural_tangents() {
    let fx = fixture();
    let (k, kt, y) = (
        mat(&fx.ntk_train),
        mat(&fx.ntk_test_train),
        mat(&fx.y_train),
    );
    let (f0, f0t) = (mat(&fx.f0_train), mat(&fx.f0_test));
    assert_eq!(fx.gd.len(), 2);
    for case in &fx.gd {
        let dynamics = nt_dynamics(&fx, case.ridge);
        let p = gradient_descent_mse(&k, &y, Some(&kt), Some(&f0), Some(&f0t), &dynamics).unwrap();
        let test = p.test.as_ref().unwrap();
        for (i, t) in dynamics.times.iter().enumerate() {
            let r_train = rel(&p.train[i], &mat(&case.train[i]));
            let r_test = rel(&test[i], &mat(&case.test[i]));
            assert!(
                r_train < NT_TOL && r_test < NT_TOL,
                "ridge {}, t = {t}: train {r_train:e}, test {r_test:e}",
                case.ridge
            );
        }
    }
}

#[test]
fn ensemble_matches_neural_tangents() {
    let fx = fixture();
    let y = mat(&fx.y_train);
    let (ntk, ntk_t) = (mat(&fx.ntk_train), mat(&fx.ntk_test_train));
    let (nngp, nngp_t, nngp_tt) = (
        mat(&fx.nngp_train),
        mat(&fx.nngp_test_train),
        mat(&fx.nngp_test_test),
    );
    let diag: Vec<f64> = (0..nngp_tt.rows()).map(|i| nngp_tt.get(i, i)).collect();
    for case in &fx.ensemble {
        let dynamics = nt_dynamics(&fx, case.ridge);
        for tt in [TestTest::Full(&nngp_tt), TestTest::Diag(&diag)] {
            let nngp_k = NngpKernels {
                train: &nngp,
                test_train: &nngp_t,
                test_test: tt,
            };
            let e =
                gradient_descent_mse_ensemble(&ntk, &ntk_t, &y, Some(nngp_k), &dynamics).unwrap();
            let covs = e.cov.as_ref().unwrap();
            for (i, t) in dynamics.times.iter().enumerate() {
                let want_cov = mat(&case.cov[i]);
                let r_mean = rel(&e.mean[i], &mat(&case.mean[i]));
                let r_cov = match &covs[i] {
                    Cov::Full(c) => rel(c, &want_cov),
                    Cov::Diag(d) => {
                        let dw: Vec<f64> = (0..d.len()).map(|j| want_cov.get(j, j)).collect();
                        rel(
                            &Matrix::from_vec(d.len(), 1, d.clone()).unwrap(),
                            &Matrix::from_vec(d.len(), 1, dw).unwrap(),
                        )
                    }
                };
                assert!(
                    r_mean < NT_TOL && r_cov < NT_TOL,
                    "ridge {}, t = {t}: mean {r_mean:e}, cov {r_cov:e}",
                    case.ridge
                );
            }
        }
    }
}

#[test]
fn gp_inference_matches_neural_tangents() {
    let fx = fixture();
    let (k, kt, ktt, y) = (
        mat(&fx.nngp_train),
        mat(&fx.nngp_test_train),
        mat(&fx.nngp_test_test),
        mat(&fx.y_train),
    );
    let g = gp_inference(&k, &y, &kt, TestTest::Full(&ktt), fx.noise).unwrap();
    let r_mean = rel(&g.mean, &mat(&fx.gp.mean));
    let Some(Cov::Full(c)) = &g.cov else {
        panic!("full covariance expected")
    };
    let r_cov = rel(c, &mat(&fx.gp.cov));
    assert!(
        r_mean < NT_TOL && r_cov < NT_TOL,
        "mean {r_mean:e}, cov {r_cov:e}"
    );
}

// ----------------------------------------------------------------- identities

#[test]
fn time_zero_returns_the_initial_outputs() {
    let (k, kt, _) = random_kernels(15, 6, 1);
    let y = one_hot(15, 3, 2);
    let (f0, f0t) = (normal(15, 3, 0.5, 3), normal(6, 3, 0.5, 4));
    for schedule in [Schedule::Flow, Schedule::Steps] {
        let d = Dynamics {
            times: vec![0.0],
            learning_rate: 0.3,
            schedule,
            ridge: 0.05,
            loss_norm: LossNorm::Sum,
        };
        let p = gradient_descent_mse(&k, &y, Some(&kt), Some(&f0), Some(&f0t), &d).unwrap();
        assert!(rel(&p.train[0], &f0) < 1e-13, "{schedule:?}");
        assert!(
            rel(&p.test.as_ref().unwrap()[0], &f0t) < 1e-13,
            "{schedule:?}"
        );
    }
}

#[test]
fn infinite_time_is_kernel_ridge_regression() {
    let (n, m) = (18, 7);
    let (k, kt, _) = random_kernels(n, m, 5);
    let y = one_hot(n, 4, 6);
    let lambda = 0.01; // seed 003 eq. 3.1's lambda: ridge = lambda * n
    let d = Dynamics {
        times: vec![f64::INFINITY, 1e12],
        ridge: lambda * n as f64,
        ..Dynamics::default()
    };
    let p = gradient_descent_mse(&k, &y, Some(&kt), None, None, &d).unwrap();
    let krr = Krr::fit(&k, &y, lambda).unwrap().predict(&kt).unwrap();
    let test = p.test.unwrap();
    assert!(rel(&test[0], &krr) < 1e-10, "{:e}", rel(&test[0], &krr));
    // t -> inf: a very long time converges to the same
    assert!(rel(&test[1], &krr) < 1e-9, "{:e}", rel(&test[1], &krr));
    // and the training outputs to the labels
    assert!(rel(&p.train[0], &y) < 1e-12);
}

/// Discrete gradient descent against the iteration itself:
/// f_{k+1}(X) = f_k(X) − (η/N)(K + ridge I)(f_k(X) − Y),
/// f_{k+1}(X*) = f_k(X*) − (η/N) K(X*, X)(f_k(X) − Y).
#[test]
fn discrete_steps_equal_the_iteration() {
    let (n, m, c) = (12, 5, 2);
    let (k, kt, _) = random_kernels(n, m, 7);
    let y = normal(n, c, 1.0, 8);
    let (f0, f0t) = (normal(n, c, 0.3, 9), normal(m, c, 0.3, 10));
    let ridge = 0.02;
    let eta = 0.4;
    let steps = [0usize, 1, 7, 40];
    for norm in [LossNorm::Mean, LossNorm::Sum] {
        let nn = norm.value(n, c);
        let d = Dynamics {
            times: steps.iter().map(|&s| s as f64).collect(),
            learning_rate: eta * if norm == LossNorm::Sum { 0.1 } else { 1.0 },
            schedule: Schedule::Steps,
            ridge,
            loss_norm: norm,
        };
        let p = gradient_descent_mse(&k, &y, Some(&kt), Some(&f0), Some(&f0t), &d).unwrap();
        let s = d.learning_rate / nn;
        let (mut f, mut ft) = (f0.clone(), f0t.clone());
        let mut done = 0;
        for (i, &target) in steps.iter().enumerate() {
            while done < target {
                let r = Matrix::from_fn(n, c, |a, b| f.get(a, b) - y.get(a, b));
                let nf = Matrix::from_fn(n, c, |a, b| {
                    let kr: f64 = (0..n).map(|j| k.get(a, j) * r.get(j, b)).sum();
                    f.get(a, b) - s * (kr + ridge * r.get(a, b))
                });
                ft = Matrix::from_fn(m, c, |a, b| {
                    let kr: f64 = (0..n).map(|j| kt.get(a, j) * r.get(j, b)).sum();
                    ft.get(a, b) - s * kr
                });
                f = nf;
                done += 1;
            }
            assert!(rel(&p.train[i], &f) < 1e-11, "{norm:?} step {target}");
            assert!(
                rel(&p.test.as_ref().unwrap()[i], &ft) < 1e-11,
                "{norm:?} step {target}"
            );
        }
    }
}

/// Gradient flow against many small discrete steps (first-order convergence: the
/// difference shrinks ~10x when the step does).
#[test]
fn flow_is_the_limit_of_small_steps() {
    let (n, m, c) = (10, 4, 2);
    let (k, kt, _) = random_kernels(n, m, 11);
    let y = normal(n, c, 1.0, 12);
    let flow = Dynamics {
        times: vec![5.0],
        learning_rate: 1.0,
        ridge: 0.0,
        loss_norm: LossNorm::Sum,
        schedule: Schedule::Flow,
    };
    let pf = gradient_descent_mse(&k, &y, Some(&kt), None, None, &flow).unwrap();
    let err = |h: f64| {
        let d = Dynamics {
            times: vec![(5.0 / h).round()],
            learning_rate: h,
            schedule: Schedule::Steps,
            ..flow.clone()
        };
        let p = gradient_descent_mse(&k, &y, Some(&kt), None, None, &d).unwrap();
        rel(&p.test.unwrap()[0], &pf.test.as_ref().unwrap()[0])
    };
    let (e1, e2) = (err(1e-2), err(1e-3));
    assert!(e1 < 1e-1 && e2 < e1 / 5.0, "{e1:e} {e2:e}");
}

/// With the NTK equal to the NNGP and no ridge, the ensemble at t = ∞ is the noiseless
/// GP posterior (Lee et al. 2019 §2.3.1), and its covariance at t = 0 is the prior.
#[test]
fn ensemble_limits() {
    let (n, m) = (14, 6);
    let (k, kt, ktt) = random_kernels(n, m, 13);
    let y = one_hot(n, 3, 14);
    let nngp = NngpKernels {
        train: &k,
        test_train: &kt,
        test_test: TestTest::Full(&ktt),
    };
    let d = Dynamics {
        times: vec![0.0, f64::INFINITY],
        ..Dynamics::default()
    };
    let e = gradient_descent_mse_ensemble(&k, &kt, &y, Some(nngp), &d).unwrap();
    let g = gp_inference(&k, &y, &kt, TestTest::Full(&ktt), 0.0).unwrap();
    let covs = e.cov.unwrap();
    let (Cov::Full(c0), Cov::Full(cinf), Some(Cov::Full(gc))) = (&covs[0], &covs[1], &g.cov) else {
        panic!("full covariances expected")
    };
    assert!(rel(&e.mean[0], &Matrix::zeros(m, 3)) == 0.0 || e.mean[0].frobenius() < 1e-14);
    assert!(rel(c0, &ktt) < 1e-13);
    assert!(rel(&e.mean[1], &g.mean) < 1e-10);
    assert!(rel(cinf, gc) < 1e-8, "{:e}", rel(cinf, gc));
}

/// A time whose factors g(t) are the same bits as an earlier time's reuses its outputs:
/// a repeated time, and a finite time long enough that every e^{−ηλt} is below the
/// rounding of 1 (g = 1/λ, as at t = ∞), give the outputs each time computed alone gives,
/// bit for bit; a time that is not converged (t = 5) is not taken for t = ∞.
#[test]
fn converged_and_repeated_times_reuse_the_same_bits() {
    let (n, m) = (14, 6);
    let (k, kt, ktt) = random_kernels(n, m, 13);
    let y = one_hot(n, 3, 14);
    let run = |times: Vec<f64>| {
        let nngp = NngpKernels {
            train: &k,
            test_train: &kt,
            test_test: TestTest::Full(&ktt),
        };
        let d = Dynamics {
            times,
            ..Dynamics::default()
        };
        gradient_descent_mse_ensemble(&k, &kt, &y, Some(nngp), &d).unwrap()
    };
    let all = run(vec![5.0, f64::INFINITY, 5.0, 1e300]);
    let alone: Vec<_> = [5.0, f64::INFINITY, 1e300]
        .iter()
        .map(|&t| run(vec![t]))
        .collect();
    let bits = |a: &Matrix<f64>| a.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let cov_bits = |c: &Cov| match c {
        Cov::Full(c) => bits(c),
        Cov::Diag(v) => v.iter().map(|x| x.to_bits()).collect(),
    };
    let covs = all.cov.as_ref().unwrap();
    for (i, j) in [(0, 0), (1, 1), (2, 0), (3, 2)] {
        assert_eq!(
            bits(&all.mean[i]),
            bits(&alone[j].mean[0]),
            "mean at time {i}"
        );
        let c1 = alone[j].cov.as_ref().unwrap();
        assert_eq!(
            cov_bits(&covs[i]),
            cov_bits(&c1[0]),
            "covariance at time {i}"
        );
    }
    // t = 1e300 is t = ∞ in floating point; t = 5 is not
    assert_eq!(bits(&alone[2].mean[0]), bits(&alone[1].mean[0]));
    assert!(rel(&all.mean[0], &all.mean[1]) > 1e-6);
}

/// Train, test–train and test–test blocks of Φ Φᵀ / p + diag·I (Φ (n + m) × p normal):
/// rank p when diag = 0.
fn gram_kernels(n: usize, m: usize, p: usize, diag: f64, seed: u64) -> [Matrix<f64>; 3] {
    let mut g = rng::stream(seed, "predict-gram");
    let phi = Matrix::from_fn(n + m, p, |_, _| rng::normal(&mut g) / (p as f64).sqrt());
    let k = widenet::linalg::gram(&phi);
    let at = |i: usize, j: usize| k.get(i, j) + if i == j { diag } else { 0.0 };
    [
        Matrix::from_fn(n, n, at),
        Matrix::from_fn(m, n, |i, j| at(n + i, j)),
        Matrix::from_fn(m, m, |i, j| at(n + i, n + j)),
    ]
}

/// The dense ensemble's covariance (its quadratic term through the Cholesky factor of
/// S = Vᵀ𝒦V, or S itself when 𝒦 is singular) against the formula in the original basis,
/// Σ_t = 𝒦** − M𝒦*ᵀ − 𝒦*Mᵀ + M𝒦Mᵀ with M = Θ*A_t: at t = ∞ A = (Θ + rI)⁻¹ by a Cholesky
/// solve, at a finite t A = V g(t) Vᵀ; full and diagonal, sizes across the product blocks.
#[test]
fn ensemble_covariance_equals_the_original_basis_formula() {
    use widenet::linalg::{matmul, sym_eigen, Cholesky};
    let (n, m, c, r) = (300, 200, 3, 0.05);
    let [ntk, ntk_t, _] = gram_kernels(n, m, 2 * (n + m), 0.1, 21);
    let y = one_hot(n, c, 22);
    let t = 40.0 * (n * c) as f64;
    let d = Dynamics {
        times: vec![t, f64::INFINITY],
        ridge: r,
        ..Dynamics::default()
    };
    let shifted = Matrix::from_fn(n, n, |i, j| ntk.get(i, j) + if i == j { r } else { 0.0 });
    let e = sym_eigen(&shifted).unwrap();
    let g: Vec<f64> = e
        .values
        .iter()
        .map(|l| (1.0 - (-t * l / (n * c) as f64).exp()) / l)
        .collect();
    let a_t = Matrix::from_fn(n, n, |i, j| {
        (0..n)
            .map(|k| e.vectors.get(i, k) * g[k] * e.vectors.get(j, k))
            .sum()
    });
    let m_t = matmul(ntk_t.view(), a_t.view()).unwrap();
    let b_inf = Cholesky::new(&shifted, "ntk")
        .unwrap()
        .solve_matrix(&ntk_t.transpose())
        .unwrap();
    let m_inf = b_inf.transpose();
    // a full-rank NNGP (Cholesky of S) and one of rank 40 < n (S singular: the plain form)
    for (rank, diag) in [(2 * (n + m), 0.1), (40, 0.0)] {
        let [k, k_t, k_tt] = gram_kernels(n, m, rank, diag, 23);
        let want = |mm: &Matrix<f64>| {
            let mk = matmul(mm.view(), k_t.t()).unwrap();
            let mkm = matmul(matmul(mm.view(), k.view()).unwrap().view(), mm.t()).unwrap();
            Matrix::from_fn(m, m, |i, j| {
                k_tt.get(i, j) - mk.get(i, j) - mk.get(j, i) + mkm.get(i, j)
            })
        };
        let wants = [want(&m_t), want(&m_inf)];
        let diag_tt: Vec<f64> = (0..m).map(|i| k_tt.get(i, i)).collect();
        for tt in [TestTest::Full(&k_tt), TestTest::Diag(&diag_tt)] {
            let nngp = NngpKernels {
                train: &k,
                test_train: &k_t,
                test_test: tt,
            };
            let got = gradient_descent_mse_ensemble(&ntk, &ntk_t, &y, Some(nngp), &d).unwrap();
            for (cov, want) in got.cov.unwrap().iter().zip(&wants) {
                let err = match cov {
                    Cov::Full(c) => rel(c, want),
                    Cov::Diag(v) => {
                        let w: Vec<f64> = (0..m).map(|i| want.get(i, i)).collect();
                        rel(
                            &Matrix::from_vec(m, 1, v.clone()).unwrap(),
                            &Matrix::from_vec(m, 1, w).unwrap(),
                        )
                    }
                };
                assert!(err < 1e-10, "NNGP of rank {rank}: {err:e}");
            }
        }
    }
}

/// `PathChoice::choose` counts every training kernel the mode stores: a budget that holds
/// gd's one kernel on a path but not the ensemble's two picks the next path for the
/// ensemble (the byte counts by hand, n = 1,000, n* = 100, basis 100, no ridge).
#[test]
fn path_choice_counts_the_ensembles_second_kernel() {
    use widenet::theory::predict::cli::PathChoice;
    let (n, nt, basis) = (1000u64, 100u64, 100u64);
    // dense: gd 3n² + n*n, the ensemble 5n² + 2n*n (the NNGP and S's factor beside it)
    let dense_gd = 8 * (3 * n * n + nt * n);
    let dense_ens = 8 * (5 * n * n + 2 * nt * n);
    // krylov: gd the kernel and its Cholesky factor, the ensemble the NNGP too
    let krylov_gd = 8 * (2 * n * n + n * basis);
    let krylov_ens = 8 * (3 * n * n + n * basis);
    assert_eq!(
        (dense_gd, dense_ens, krylov_gd, krylov_ens),
        (24_800_000, 41_600_000, 16_800_000, 24_800_000)
    );
    let pick = |kernels: usize, budget: u64| {
        PathChoice::choose(
            n as usize,
            nt as usize,
            false,
            basis as usize,
            true,
            kernels,
            budget,
        )
    };
    assert_eq!(pick(1, dense_gd), PathChoice::Dense);
    assert_eq!(pick(2, dense_gd), PathChoice::Krylov);
    assert_eq!(pick(2, dense_ens - 1), PathChoice::Krylov);
    assert_eq!(pick(2, dense_ens), PathChoice::Dense);
    assert_eq!(pick(1, krylov_ens - 8), PathChoice::Krylov);
    assert_eq!(pick(2, krylov_ens - 8), PathChoice::MatrixFree);
    assert_eq!(pick(2, krylov_ens), PathChoice::Krylov);
    assert_eq!(pick(1, krylov_gd - 1), PathChoice::MatrixFree);
    // a ridge adds the shifted copy
    let ridged = 8 * (4 * n * n + n * basis);
    let pick_r = |budget| PathChoice::choose(1000, 100, true, 100, true, 2, budget);
    assert_eq!(pick_r(ridged - 1), PathChoice::MatrixFree);
    assert_eq!(pick_r(ridged), PathChoice::Krylov);
}

#[test]
fn curves_count_errors_and_squared_errors() {
    let y = Matrix::from_vec(3, 2, vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0]).unwrap();
    let f = Matrix::from_vec(3, 2, vec![0.8, 0.1, 0.6, 0.2, 0.5, 0.4]).unwrap();
    let c = Curves::new(
        &[1.0],
        std::slice::from_ref(&f),
        &y,
        Some((std::slice::from_ref(&f), &y)),
    )
    .unwrap();
    let mse = (0.04 + 0.01 + 0.36 + 0.64 + 0.25 + 0.16) / 6.0;
    assert!((c.train_mse[0] - mse).abs() < 1e-15);
    assert_eq!(c.train_error[0], 1.0 / 3.0); // row 1: argmax 0, label 1
    let y1 = Matrix::from_vec(2, 1, vec![1.0, -1.0]).unwrap();
    let f1 = Matrix::from_vec(2, 1, vec![0.3, 0.2]).unwrap();
    let c1 = Curves::new(&[0.0], &[f1], &y1, None).unwrap();
    assert_eq!(c1.train_error[0], 0.5);
}

// ----------------------------------------------------------------- bad input

pub(crate) fn invalid_name(e: Error) -> String {
    match e {
        Error::Invalid { name, .. } => name,
        Error::Shape(msg) => msg,
        Error::NotPositiveDefinite { what, .. } => what,
        other => panic!("unexpected error kind: {other}"),
    }
}

#[test]
fn bad_input_names_the_argument() {
    let (k, kt, _) = random_kernels(8, 3, 15);
    let y = one_hot(8, 2, 16);
    let d = Dynamics::default();
    let name = |r: widenet::error::Result<widenet::theory::predict::GdPrediction>| {
        invalid_name(r.expect_err("an error"))
    };
    // mismatched shapes
    let short = one_hot(7, 2, 16);
    assert!(name(gradient_descent_mse(&k, &short, None, None, None, &d)).contains("y_train"));
    let kt_bad = Matrix::zeros(3, 7);
    assert!(
        name(gradient_descent_mse(&k, &y, Some(&kt_bad), None, None, &d)).contains("k_test_train")
    );
    let f0_bad = Matrix::zeros(8, 3);
    assert!(name(gradient_descent_mse(&k, &y, None, Some(&f0_bad), None, &d)).contains("f0_train"));
    let rect = Matrix::zeros(8, 7);
    assert!(name(gradient_descent_mse(&rect, &y, None, None, None, &d)).contains("k_train"));
    let f0t = Matrix::zeros(3, 2);
    assert_eq!(
        name(gradient_descent_mse(&k, &y, None, None, Some(&f0t), &d)),
        "f0_test"
    );
    let _ = kt;
    // negative times, ridge, learning rate; fractional steps
    let neg_t = Dynamics {
        times: vec![1.0, -1.0],
        ..Dynamics::default()
    };
    assert_eq!(
        name(gradient_descent_mse(&k, &y, None, None, None, &neg_t)),
        "times"
    );
    let neg_r = Dynamics {
        ridge: -0.1,
        ..Dynamics::default()
    };
    assert_eq!(
        name(gradient_descent_mse(&k, &y, None, None, None, &neg_r)),
        "ridge"
    );
    let bad_eta = Dynamics {
        learning_rate: 0.0,
        ..Dynamics::default()
    };
    assert_eq!(
        name(gradient_descent_mse(&k, &y, None, None, None, &bad_eta)),
        "learning_rate"
    );
    let frac = Dynamics {
        times: vec![1.5],
        schedule: Schedule::Steps,
        ..Dynamics::default()
    };
    assert_eq!(
        name(gradient_descent_mse(&k, &y, None, None, None, &frac)),
        "times"
    );
    let diverge = Dynamics {
        times: vec![3.0],
        schedule: Schedule::Steps,
        learning_rate: 1e6,
        ..Dynamics::default()
    };
    assert_eq!(
        name(gradient_descent_mse(&k, &y, None, None, None, &diverge)),
        "learning_rate"
    );
    // non-finite kernel and labels
    let mut k_nan = k.clone();
    k_nan.set(2, 3, f64::NAN);
    assert_eq!(
        name(gradient_descent_mse(&k_nan, &y, None, None, None, &d)),
        "k_train"
    );
    let mut y_inf = y.clone();
    y_inf.set(0, 0, f64::INFINITY);
    assert_eq!(
        name(gradient_descent_mse(&k, &y_inf, None, None, None, &d)),
        "y_train"
    );
    // non-symmetric and non-PSD kernels
    let mut k_asym = k.clone();
    k_asym.set(0, 1, k.get(0, 1) + 1.0);
    assert_eq!(
        name(gradient_descent_mse(&k_asym, &y, None, None, None, &d)),
        "k_train"
    );
    let mut k_neg = k.clone();
    for i in 0..8 {
        k_neg.set(i, i, k.get(i, i) - 10.0);
    }
    assert_eq!(
        name(gradient_descent_mse(&k_neg, &y, None, None, None, &d)),
        "k_train"
    );
    // a singular kernel has no t = inf limit without a ridge, but has one with it
    let ones = Matrix::from_fn(8, 8, |_, _| 1.0);
    assert!(name(gradient_descent_mse(&ones, &y, None, None, None, &d)).contains("k_train"));
    let ridged = Dynamics {
        ridge: 0.1,
        ..Dynamics::default()
    };
    assert!(gradient_descent_mse(&ones, &y, None, None, None, &ridged).is_ok());
    // the ensemble and GP name theirs
    let e = gradient_descent_mse_ensemble(&k, &kt_bad, &y, None, &d).unwrap_err();
    assert!(invalid_name(e).contains("ntk_test_train"));
    let g = gp_inference(&k, &y, &kt, TestTest::Diag(&[1.0]), 0.0).unwrap_err();
    assert!(invalid_name(g).contains("k_test_test"));
    let g = gp_inference(&k, &y, &kt, TestTest::None, -1.0).unwrap_err();
    assert_eq!(invalid_name(g), "noise");
}

// ----------------------------------------------------------------- the CLI

/// `widenet predict` on kernel arrays writes the library's predictions bit for bit, the
/// curves and the plots; bad flags name themselves.
#[test]
fn cli_writes_the_library_predictions() {
    use widenet::data::npy::{read_array, write_matrix};
    let dir = tempfile::tempdir().unwrap();
    let (k, kt, ktt) = random_kernels(16, 5, 31);
    let y = one_hot(16, 3, 32);
    let yt = one_hot(5, 3, 33);
    let p = |name: &str| dir.path().join(name);
    for (name, m) in [
        ("k.npy", &k),
        ("kt.npy", &kt),
        ("ktt.npy", &ktt),
        ("y.npy", &y),
        ("yt.npy", &yt),
    ] {
        write_matrix(p(name), m).unwrap();
    }
    let out = p("out");
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_widenet"))
            .args(["predict", "--k-train"])
            .arg(p("k.npy"))
            .arg("--k-test-train")
            .arg(p("kt.npy"))
            .arg("--y-train")
            .arg(p("y.npy"))
            .arg("--y-test")
            .arg(p("yt.npy"))
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let o = run(&[
        "--times",
        "0,3,100,inf",
        "--ridge",
        "0.01",
        "--learning-rate",
        "2",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d = Dynamics {
        times: vec![0.0, 3.0, 100.0, f64::INFINITY],
        learning_rate: 2.0,
        ridge: 0.01,
        ..Dynamics::default()
    };
    let lib = gradient_descent_mse(&k, &y, Some(&kt), None, None, &d).unwrap();
    let (shape, data) = read_array::<f64>(out.join("test_mean.npy")).unwrap();
    assert_eq!(shape, vec![4, 5, 3]);
    let want: Vec<f64> = lib
        .test
        .unwrap()
        .iter()
        .flat_map(|m| m.as_slice().to_vec())
        .collect();
    assert_eq!(data, want);
    let csv = std::fs::read_to_string(out.join("curves.csv")).unwrap();
    assert!(csv.starts_with("t,train_mse,train_error,test_mse,test_error\n"));
    assert!(csv.contains("\ninf,"));
    for f in ["curves.png", "curves.svg", "predict.json"] {
        assert!(out.join(f).exists(), "{f}");
    }
    // the krylov path: the same predictions to its accuracy, and says so
    let o = run(&[
        "--times",
        "0,3,100,inf",
        "--ridge",
        "0.01",
        "--learning-rate",
        "2",
        "--path",
        "krylov",
        "--tol",
        "1e-10",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, kry) = read_array::<f64>(out.join("test_mean.npy")).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("predict.json")).unwrap()).unwrap();
    assert_eq!(json["path"], "krylov");
    // n = 16 with 3 outputs: the basis stops one short of the whole space, and says so
    let reported = json["achieved_rel_error"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .fold(0.0f64, f64::max);
    let scale = want.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let err = kry
        .iter()
        .zip(&want)
        .fold(0.0f64, |a, (x, y)| a.max((x - y).abs()))
        / scale;
    assert!(
        err <= 10.0 * reported.max(1e-12),
        "error {err:e}, reported {reported:e}"
    );
    // gp with the variances
    write_matrix(p("kttd.npy"), &Matrix::from_fn(1, 5, |_, j| ktt.get(j, j))).unwrap();
    let o = run(&[
        "--mode",
        "gp",
        "--noise",
        "0.01",
        "--k-test-test",
        p("kttd.npy").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (shape, var) = read_array::<f64>(out.join("test_var.npy")).unwrap();
    assert_eq!(shape, vec![1, 5]);
    let g = gp_inference(&k, &y, &kt, TestTest::Full(&ktt), 0.01).unwrap();
    let want = g.cov.unwrap().diag();
    for (a, b) in var.iter().zip(&want) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1e-3), "{a} vs {b}");
    }
    // bad flags
    let o = run(&["--times", "1,-2"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("times"));
    let o = run(&["--schedule", "euler"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--schedule"));
}
