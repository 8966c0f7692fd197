//! Unit tests of `widenet::models::krr` (formerly in src/models/krr.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::data::resnet_targets::Fig2Target;
use widenet::kernels::classic::{arcsin, arcsin_gram};
use widenet::linalg::Matrix;
use widenet::models::krr::*;

/// The arcsin kernel is odd in x, so kernel ridge regression with it predicts
/// an odd function; on a test set closed under x ↦ −x its error against the
/// even target H is exactly mean‖f̂‖² + mean‖H‖².
#[test]
fn arcsin_krr_is_odd_and_cannot_fit_the_even_target() {
    let t = Fig2Target::new(0.3, 1.0);
    let (x, y) = t.sample(60, 11).unwrap();
    let (xh, _) = t.sample(40, 12).unwrap();
    let mut xt = Matrix::zeros(80, xh.cols());
    for i in 0..40 {
        for j in 0..xh.cols() {
            xt.set(i, j, xh.get(i, j));
            xt.set(i + 40, j, -xh.get(i, j));
        }
    }
    let yt = t.eval(&xt).unwrap();
    let fit = Krr::fit(&arcsin_gram(&x).unwrap(), &y, 1e-3).unwrap();
    let pred = fit.predict(&arcsin(&xt, &x).unwrap()).unwrap();
    let mut f2 = 0.0;
    for i in 0..40 {
        for c in 0..pred.cols() {
            let (a, b) = (pred.get(i, c), pred.get(i + 40, c));
            assert!((a + b).abs() < 1e-12, "row {i}: {a} vs {b}");
            f2 += a * a;
        }
        // H(−x) = H(x)
        assert_eq!(yt.row(i), yt.row(i + 40));
    }
    let h2 = yt.as_slice().iter().map(|v| v * v).sum::<f64>() / 80.0;
    let err = mean_sq_error(&pred, &yt).unwrap();
    assert!(
        (err - (f2 / 40.0 + h2)).abs() < 1e-10,
        "{err} vs {}",
        f2 / 40.0 + h2
    );
}
