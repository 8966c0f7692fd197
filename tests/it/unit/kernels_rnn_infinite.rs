//! Unit tests of `widenet::kernels::rnn_infinite` (formerly in src/kernels/rnn_infinite.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::kernels::rnn_infinite::*;
use widenet::linalg::Matrix;

/// The blocked, lane-wise kernel against the scalar pair recursion, pair by pair, across
/// several blocks, with zero-variance pairs (an Elman sequence whose first step is 0).
#[test]
fn vectorized_rows_match_the_scalar_recursion() {
    let (n, len, d) = (2 * BLOCK + 37, 4, 3);
    let mut g = widenet::rng::stream(7, "test/rnn-infinite");
    let mut xs: Vec<Matrix<f64>> = (0..len)
        .map(|_| Matrix::from_fn(n, d, |_, _| widenet::rng::normal(&mut g)))
        .collect();
    for preset in [Preset::Elman, Preset::Wang] {
        if preset == Preset::Elman {
            xs[0] = Matrix::zeros(n, d);
            for k in 0..d {
                xs[1].set(5, k, 0.0); // sample 5 also has a zero second step
            }
        }
        let h = rnn_ntk_infinite(preset, &xs).unwrap();
        let st = Setup::new(preset, &xs).unwrap();
        let (mut k, mut sig) = (vec![0.0; len + 1], vec![0.0; len]);
        for i in 0..n {
            for j in 0..=i {
                let want = st.ntk_entry(i, j, &mut k, &mut sig);
                let got = h.get(i, j);
                assert!(
                    (got - want).abs() <= 1e-13 * want.abs().max(1e-300),
                    "{preset:?} ({i}, {j}): {got:e} vs {want:e}"
                );
                assert_eq!(h.get(j, i), got);
            }
        }
    }
}
