//! Unit tests of `widenet::models::ntk_exact` (formerly in src/models/ntk_exact.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use crate::support::max_abs_diff;
use widenet::error::Error;
use widenet::linalg::sym_eigenvalues;
use widenet::linalg::Matrix;
use widenet::models::learner::Learner;
use widenet::models::ntk_exact::*;
use widenet::models::resnet::Ntk;
use widenet::rng;
use widenet::train::sgd::{train, SgdConfig};

fn toy(n: usize, d: usize, k: usize, seed: u64) -> (Matrix<f64>, Matrix<f64>) {
    let mut g = rng::stream(seed, "ntk-exact-test");
    let x = Matrix::from_fn(n, d, |_, _| rng::normal(&mut g));
    let y = Matrix::from_fn(n, k, |_, _| rng::normal(&mut g));
    (x, y)
}

/// The learner `Ntk` of (d, m, k) from `net_seed` and a toy sample of n points (seed
/// `data_seed`) for it.
fn ntk_and_toy(
    (d, m, k, n): (usize, usize, usize, usize),
    net_seed: u64,
    data_seed: u64,
) -> (Ntk, Matrix<f64>, Matrix<f64>) {
    let (x, y) = toy(n, d, k, data_seed);
    (Ntk::new(d, m, k, net_seed).unwrap(), x, y)
}

/// ∇_W f_c(x_i) from `Ntk::loss_and_grads` on the one-sample batch x_i with
/// target out − e_c, whose loss gradient is exactly ∇f_c.
fn grad_of_output(ntk: &Ntk, x: &Matrix<f64>, i: usize, c: usize) -> Matrix<f64> {
    let xi = x.select_rows(&[i]);
    let out = ntk.forward(&xi).unwrap();
    let y = Matrix::from_fn(1, out.cols(), |_, j| {
        out.get(0, j) - if j == c { 1.0 } else { 0.0 }
    });
    ntk.loss_and_grads(&xi, &y).unwrap().1.remove(0)
}

fn inner(a: &Matrix<f64>, b: &Matrix<f64>) -> f64 {
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(u, v)| u * v)
        .sum()
}

#[test]
fn kernel_equals_gradient_inner_products_and_finite_differences() {
    let (d, m, k) = (3, 7, 2);
    let mut ntk = Ntk::new(d, m, k, 4).unwrap();
    // move W away from W⁽⁰⁾: the kernel depends on W⁽⁰⁾ only
    let mut g = rng::stream(9, "perturb");
    for v in ntk.w.as_mut_slice() {
        *v += 0.3 * rng::normal(&mut g);
    }
    let (x1, _) = toy(4, d, k, 1);
    let (x2, _) = toy(3, d, k, 2);
    let kmat = ntk_kernel(&ntk, &x1, &x2).unwrap();
    assert_eq!(kmat.shape(), (8, 6));
    let mut worst = 0.0f64;
    let mut off_block = 0.0f64;
    for i in 0..4 {
        for c in 0..k {
            let gi = grad_of_output(&ntk, &x1, i, c);
            for j in 0..3 {
                for c2 in 0..k {
                    let gj = grad_of_output(&ntk, &x2, j, c2);
                    let want = inner(&gi, &gj);
                    worst = worst.max((kmat.get(i * k + c, j * k + c2) - want).abs());
                    if c != c2 {
                        off_block = off_block.max(want.abs());
                    }
                }
            }
        }
    }
    assert!(
        worst < 1e-12,
        "kernel vs gradient inner products: {worst:e}"
    );
    // the output blocks are coupled (A's rows are not orthogonal)
    assert!(off_block > 1e-3, "off-diagonal blocks {off_block:e}");

    // one gradient by central finite differences of the forward pass
    // (f_lin is linear in W, so the difference quotient is exact up to rounding)
    let gi = grad_of_output(&ntk, &x1, 2, 1);
    let xi = x1.select_rows(&[2]);
    let h = 1e-3;
    for q in 0..ntk.w.as_slice().len() {
        let mut p = ntk.clone();
        p.w.as_mut_slice()[q] += h;
        let mut mn = ntk.clone();
        mn.w.as_mut_slice()[q] -= h;
        let fd =
            (p.forward(&xi).unwrap().get(0, 1) - mn.forward(&xi).unwrap().get(0, 1)) / (2.0 * h);
        assert!((fd - gi.as_slice()[q]).abs() < 1e-9, "entry {q}");
    }
}

#[test]
fn primal_and_dual_forms_agree() {
    let (d, m, k) = (3, 5, 2);
    let ntk = Ntk::new(d, m, k, 7).unwrap();
    // n k = 16 < m(d+1) = 20 and 40 > 20: one case each way
    for n in [8, 20] {
        let (x, y) = toy(n, d, k, 3 + n as u64);
        let (xt, _) = toy(6, d, k, 99);
        let ys = [y.clone()];
        let dual = NtkExact::with_form(&ntk, &x, &ys, NtkForm::Dual).unwrap();
        let primal = NtkExact::with_form(&ntk, &x, &ys, NtkForm::Primal).unwrap();
        assert_eq!(
            NtkExact::new(&ntk, &x, &y).unwrap().form(),
            if n * k <= m * (d + 1) {
                NtkForm::Dual
            } else {
                NtkForm::Primal
            }
        );
        for lambda in [1e-3, 0.1, 2.0] {
            let a = dual.solve(lambda).unwrap();
            let b = primal.solve(lambda).unwrap();
            let (pa, pb) = (a.forward(&xt).unwrap(), b.forward(&xt).unwrap());
            let diff = max_abs_diff(pa.as_slice(), pb.as_slice());
            assert!(diff < 1e-9, "n = {n}, lambda = {lambda}: {diff:e}");
        }
    }
}

#[test]
fn several_targets_share_one_factorization() {
    let (d, m, k, n) = (3, 6, 2, 7);
    let ntk = Ntk::new(d, m, k, 2).unwrap();
    let (x, y1) = toy(n, d, k, 1);
    let (_, y2) = toy(n, d, k, 2);
    let both = NtkExact::new_multi(&ntk, &x, &[y1.clone(), y2.clone()]).unwrap();
    let sols = both.solve_all(0.3).unwrap();
    for (sol, y) in sols.iter().zip([y1, y2]) {
        let alone = NtkExact::new(&ntk, &x, &y).unwrap().solve(0.3).unwrap();
        assert_eq!(sol.w, alone.w);
    }
}

/// At the solution the gradient of (1/n)Σ‖f_lin − y‖² + λ‖W − W⁽⁰⁾‖² vanishes:
/// 2 ∂L/∂W + 2λ(W − W⁽⁰⁾) = 0 with ∂L/∂W from the learner's own backward pass.
#[test]
fn ridge_solution_is_stationary() {
    let (ntk, x, y) = ntk_and_toy((4, 6, 3, 9), 11, 5);
    for form in [NtkForm::Dual, NtkForm::Primal] {
        let ex = NtkExact::with_form(&ntk, &x, std::slice::from_ref(&y), form).unwrap();
        let lambda = 0.05;
        let sol = ex.solve(lambda).unwrap();
        let (_, grads) = sol.loss_and_grads(&x, &y).unwrap();
        let mut worst = 0.0f64;
        for ((gv, w), w0) in grads[0]
            .as_slice()
            .iter()
            .zip(sol.w.as_slice())
            .zip(sol.w0.as_slice())
        {
            worst = worst.max((gv + lambda * (w - w0)).abs());
        }
        assert!(worst < 1e-10, "{form:?}: stationarity {worst:e}");
    }
}

/// Full-batch gradient descent (no momentum, no weight decay) on the Ntk
/// learner from W⁽⁰⁾ converges to the λ = 0 dual solution, the minimum-norm
/// interpolant: the SGD-trained `ntk` and `ntk-exact` are the same estimator
/// in that limit.
#[test]
fn full_batch_gd_converges_to_min_norm_solution() {
    let (ntk, x, y) = ntk_and_toy((3, 16, 2, 6), 21, 8);
    let (d, k, n) = (3, 2, 6);
    let (xt, _) = toy(20, d, k, 30);
    let ex = NtkExact::new(&ntk, &x, &y).unwrap();
    assert_eq!(ex.form(), NtkForm::Dual);
    let exact = ex.solve(0.0).unwrap();
    // interpolates
    let fit = exact.forward(&x).unwrap();
    for (u, v) in fit.as_slice().iter().zip(y.as_slice()) {
        assert!((u - v).abs() < 1e-9);
    }
    // GD on L = (1/2n)Σ‖·‖²: Hessian eigenvalues are eig(K)/n; step 1/λ_max
    let eig = sym_eigenvalues(ex.gram()).unwrap();
    let (lmax, lmin) = (eig[0] / n as f64, eig[eig.len() - 1] / n as f64);
    let lr = 1.0 / lmax;
    // contraction (1 − lr λ_min) per step; enough steps for ~1e-10
    let steps = ((1e-10f64).ln() / (1.0 - lr * lmin).ln()).ceil() as usize;
    assert!(steps < 200_000, "condition number too large: {steps} steps");
    let cfg = SgdConfig {
        lr,
        weight_decay: 0.0,
        momentum: 0.0,
        batch: n,
        epochs: steps,
        lr_drop: 1.0,
        seed: 1,
        diverge_ratio: 1e4,
    };
    let mut gd = ntk.clone();
    train(&mut gd, &x, &y, None, &cfg).unwrap();
    let (pa, pb) = (gd.forward(&xt).unwrap(), exact.forward(&xt).unwrap());
    let diff = max_abs_diff(pa.as_slice(), pb.as_slice());
    let wdiff =
        gd.w.as_slice()
            .iter()
            .zip(exact.w.as_slice())
            .map(|(u, v)| (u - v) * (u - v))
            .sum::<f64>()
            .sqrt();
    println!("GD ({steps} steps) vs exact: predictions {diff:.2e}, weights {wdiff:.2e}");
    assert!(diff < 1e-6, "test predictions differ by {diff:e}");
    assert!(wdiff < 1e-6, "weights differ by {wdiff:e}");
}

#[test]
fn bad_inputs_are_errors_naming_the_field() {
    let ntk = Ntk::new(3, 4, 2, 1).unwrap();
    let (x, y) = toy(5, 3, 2, 1);
    let ex = NtkExact::new(&ntk, &x, &y).unwrap();
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let e = ex.solve(bad).unwrap_err().to_string();
        assert!(e.contains("lambda"), "{e}");
    }
    let (_, y3) = toy(5, 3, 3, 1);
    assert!(matches!(NtkExact::new(&ntk, &x, &y3), Err(Error::Shape(_))));
    let (x4, _) = toy(5, 4, 2, 1);
    assert!(matches!(ntk_kernel(&ntk, &x4, &x), Err(Error::Shape(_))));
    assert!(NtkExact::new_multi(&ntk, &x, &[])
        .unwrap_err()
        .to_string()
        .contains("targets"));
    let empty = Matrix::zeros(0, 3);
    let e = NtkExact::new(&ntk, &empty, &Matrix::zeros(0, 2)).unwrap_err();
    assert!(e.to_string().contains("training set"), "{e}");
}
