//! Unit tests of `widenet::models::resnet` (formerly in src/models/resnet.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::linalg::{gemm_into, Matrix};
use widenet::models::learner::{residual, Learner};
use widenet::models::resnet::*;
use widenet::rng;

// The learners' formulas written plainly (fresh matrices, no scratch buffers, the
// branchy mask of the first implementation): the references the buffered
// implementations must reproduce bit for bit.

fn resnet3_reference(
    net: &ResNet3,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
) -> (Matrix<f64>, f64, Vec<Matrix<f64>>) {
    let k = net.a.rows();
    let x1 = augment(x);
    let p1 = mul_nt(&x1, &net.w).unwrap();
    let o1 = mul_nt(&relu(&p1), &net.a).unwrap();
    let o1a = augment(&o1);
    let p2 = mul_nt(&o1a, &net.v).unwrap();
    let mut out = o1;
    gemm_into(&mut out, relu(&p2).view(), net.a.t(), 1.0, true).unwrap();
    let (loss, g) = residual(&out, y).unwrap();
    let mut dp2 = mul_nn(&g, &net.a).unwrap();
    mask_branchy(&mut dp2, &p2);
    let dv = mul_tn(&dp2, &o1a).unwrap();
    let do1a = mul_nn(&dp2, &net.v).unwrap();
    let do1 = Matrix::from_fn(g.rows(), k, |i, j| g.get(i, j) + do1a.get(i, j));
    let mut dp1 = mul_nn(&do1, &net.a).unwrap();
    mask_branchy(&mut dp1, &p1);
    let dw = mul_tn(&dp1, &x1).unwrap();
    (out, loss, vec![dw, dv])
}

fn mask_branchy(g: &mut Matrix<f64>, p: &Matrix<f64>) {
    for (gv, pv) in g.as_mut_slice().iter_mut().zip(p.as_slice()) {
        if *pv < 0.0 {
            *gv = 0.0;
        }
    }
}

fn fc2_reference(
    net: &Fc2,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
) -> (Matrix<f64>, f64, Vec<Matrix<f64>>) {
    let x1 = augment(x);
    let p = mul_nt(&x1, &net.w).unwrap();
    let out = mul_nt(&relu(&p), &net.a).unwrap();
    let (loss, g) = residual(&out, y).unwrap();
    let mut dp = mul_nn(&g, &net.a).unwrap();
    mask_branchy(&mut dp, &p);
    (out, loss, vec![mul_tn(&dp, &x1).unwrap()])
}

fn fc3_reference(
    net: &Fc3,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
) -> (Matrix<f64>, f64, Vec<Matrix<f64>>) {
    let m = net.a.cols();
    let x1 = augment(x);
    let p1 = mul_nt(&x1, &net.w1).unwrap();
    let h1a = augment(&relu(&p1));
    let p2 = mul_nt(&h1a, &net.w2).unwrap();
    let out = mul_nt(&relu(&p2), &net.a).unwrap();
    let (loss, g) = residual(&out, y).unwrap();
    let mut dp2 = mul_nn(&g, &net.a).unwrap();
    mask_branchy(&mut dp2, &p2);
    let dw2 = mul_tn(&dp2, &h1a).unwrap();
    let dh1a = mul_nn(&dp2, &net.w2).unwrap();
    let mut dp1 = first_cols(&dh1a, m);
    mask_branchy(&mut dp1, &p1);
    let dw1 = mul_tn(&dp1, &x1).unwrap();
    (out, loss, vec![dw1, dw2])
}

fn last_reference(
    net: &Last,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
) -> (Matrix<f64>, f64, Vec<Matrix<f64>>) {
    let h = relu(&mul_nt(&augment(x), &net.w0).unwrap());
    let out = mul_nt(&h, &net.a).unwrap();
    let (loss, g) = residual(&out, y).unwrap();
    (out, loss, vec![mul_tn(&g, &h).unwrap()])
}

fn ntk_reference(
    net: &Ntk,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
) -> (Matrix<f64>, f64, Vec<Matrix<f64>>) {
    let x1 = augment(x);
    let p0 = mul_nt(&x1, &net.w0).unwrap();
    let mut z = mul_nt(&x1, &net.w).unwrap();
    mask_branchy(&mut z, &p0);
    let out = mul_nt(&z, &net.a).unwrap();
    let (loss, g) = residual(&out, y).unwrap();
    let mut dz = mul_nn(&g, &net.a).unwrap();
    mask_branchy(&mut dz, &p0);
    (out, loss, vec![mul_tn(&dz, &x1).unwrap()])
}

fn batch(n: usize, c: usize, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "test/resnet-scratch");
    Matrix::from_fn(n, c, |_, _| rng::normal(&mut g))
}

/// Every learner's forward pass and gradients equal the plain formulas bit for bit, with
/// an empty pool and after its scratch buffers were used by other batch sizes and
/// learners (whose leftover values must not leak into a result).
#[test]
fn buffered_passes_equal_the_plain_formulas_bit_for_bit() {
    let (d, m, k) = (7, 40, 3);
    let mut net3 = ResNet3::new(d, m, k, Init::Experiment, 0.5, 1).unwrap();
    net3.w.as_mut_slice()[3] += 0.25; // away from the initialization
    let fc2 = Fc2::new(d, m, k, 2).unwrap();
    let fc3 = Fc3::new(d, m, k, 3).unwrap();
    let last = Last::new(d, m, k, 4).unwrap();
    let mut ntk = Ntk::new(d, m, k, 5).unwrap();
    ntk.w.as_mut_slice()[1] -= 0.5;
    type Case<'a> = (
        &'a dyn Learner,
        Box<dyn Fn(&Matrix<f64>, &Matrix<f64>) -> (Matrix<f64>, f64, Vec<Matrix<f64>>) + 'a>,
    );
    let cases: Vec<Case> = vec![
        (&net3, Box::new(|x, y| resnet3_reference(&net3, x, y))),
        (&fc2, Box::new(|x, y| fc2_reference(&fc2, x, y))),
        (&fc3, Box::new(|x, y| fc3_reference(&fc3, x, y))),
        (&last, Box::new(|x, y| last_reference(&last, x, y))),
        (&ntk, Box::new(|x, y| ntk_reference(&ntk, x, y))),
    ];
    let check = |n: usize, seed: u64| {
        let (x, y) = (batch(n, d, seed), batch(n, k, seed + 100));
        for (learner, reference) in &cases {
            let (out, loss, grads) = reference(&x, &y);
            assert_eq!(learner.forward(&x).unwrap(), out, "{}", learner.name());
            let (l2, g2) = learner.loss_and_grads(&x, &y).unwrap();
            assert_eq!(l2.to_bits(), loss.to_bits(), "{}", learner.name());
            assert_eq!(g2, grads, "{}", learner.name());
        }
    };
    // each test runs on a fresh thread: the first check starts with an empty pool
    for (n, seed) in [(9, 10), (25, 11), (9, 12), (3, 13), (25, 14)] {
        check(n, seed);
    }
}
