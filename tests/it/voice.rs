//! Messages and warnings that speak about the caller's own object (issue 24 item 4):
//! inputs whose squared norms overflow are refused instead of giving a wrong kernel, a
//! failed factorization of a user's matrix does not blame H^inf, and the analysis' warnings
//! (η beyond 2/λ_max, {0, 1} labels) come from the library.

use crate::support::{err_text, normal_matrix};
use widenet::kernels::classic::{arcsin, gaussian, gaussian_gram};
use widenet::models::krr::Krr;
use widenet::theory::spectrum::{analysis_warnings, KernelAnalysis};
use widenet::Matrix;

#[test]
fn gaussian_kernel_of_huge_inputs_is_exact_or_refused() {
    let x = normal_matrix(5, 3, 1);
    let k = gaussian_gram(&x, 1.0).unwrap();
    // norms about 1e100: squares about 1e200 are finite, and exp(-|cx - cy|^2 / (c^2 h))
    // must equal exp(-|x - y|^2 / h) (the kernel depends on |x - y|^2/h only)
    let c = 1e100;
    let xc = Matrix::from_fn(5, 3, |i, j| x.get(i, j) * c);
    let kc = gaussian(&xc, &xc, c * c).unwrap();
    for i in 0..5 {
        for j in 0..5 {
            let (a, b) = (kc.get(i, j), k.get(i, j));
            assert!(
                (a - b).abs() <= 1e-12 * b.max(1e-300),
                "({i},{j}): {a} vs {b}"
            );
        }
    }
    // norms about 1e200: the squares overflow; before, every entry came out 1
    let xh = Matrix::from_fn(5, 3, |i, j| x.get(i, j) * 1e200);
    let m = err_text(gaussian(&xh, &x, 1.0));
    assert!(
        m.contains("x1") && m.contains("row 0") && m.contains("overflows"),
        "{m}"
    );
    let m = err_text(gaussian(&x, &xh, 1.0));
    assert!(m.contains("x2"), "{m}");
    let m = err_text(gaussian_gram(&xh, f64::MAX));
    assert!(m.contains("overflows"), "{m}");
    let m = err_text(arcsin(&xh, &xh));
    assert!(m.contains("overflows"), "{m}");
}

#[test]
fn a_failed_factorization_names_the_users_matrix_and_its_cause() {
    let y = Matrix::from_fn(4, 1, |i, _| if i % 2 == 0 { 1.0 } else { -1.0 });
    // negative definite: not a kernel at all
    let neg = Matrix::from_fn(4, 4, |i, j| if i == j { -1.0 } else { 0.0 });
    let m = err_text(Krr::fit(&neg, &y, 0.0));
    assert!(
        m.contains("negative eigenvalues") && !m.contains("duplicate"),
        "{m}"
    );
    // singular (rank one): the duplicate-inputs explanation, not specific to H^inf
    let ones = Matrix::from_fn(4, 4, |_, _| 1.0);
    let m = err_text(Krr::fit(&ones, &y, 0.0));
    assert!(m.contains("singular") && m.contains("duplicate"), "{m}");
    assert!(!m.contains("make H^inf singular"), "{m}");
}

#[test]
fn analysis_warns_about_eta_beyond_the_stable_range_and_zero_one_labels() {
    let x = normal_matrix(8, 4, 2);
    let h = widenet::kernels::h_inf(&x).unwrap();
    let ka = KernelAnalysis::new(&h).unwrap();
    let lmax = ka.eigen.values[0];
    let pm: Vec<f64> = (0..8)
        .map(|i| if i % 3 == 0 { 1.0 } else { -1.0 })
        .collect();
    let zo: Vec<f64> = pm.iter().map(|v| (v + 1.0) / 2.0).collect();
    // inside the stable range, ±1 labels: nothing to say
    let a = ka.analyze(&pm, 1.0 / lmax, 20).unwrap();
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    // 2/λ_max is the boundary of eq. 8's contraction: just above it, a warning
    let a = ka.analyze(&pm, 2.01 / lmax, 20).unwrap();
    assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
    assert!(a.warnings[0].contains("2/lambda_max"), "{:?}", a.warnings);
    let a = ka.analyze(&zo, 1.0 / lmax, 20).unwrap();
    assert_eq!(a.warnings.len(), 1);
    assert!(a.warnings[0].contains("{0, 1}"), "{:?}", a.warnings);
    // general real labels (regression) are not flagged
    assert!(analysis_warnings(0.1, 1.0, &[0.3, -1.2, 2.0]).is_empty());
    assert!(analysis_warnings(0.1, 1.0, &[0.0, 0.0]).len() == 1);
}

#[test]
fn rnn_ntk_refuses_a_d_out_it_would_ignore() {
    let data: Vec<f64> = (0..2 * 3 * 2).map(|i| 0.1 * i as f64 - 0.5).collect();
    for (preset, width) in [("wang", Some(8)), ("wang", None), ("elman", None)] {
        let m = err_text(widenet::commands::rnn_ntk_arrays(
            preset,
            &data,
            (2, 3, 2),
            width,
            3,
            0,
        ));
        assert!(m.contains("d_out = 3"), "{preset} {width:?}: {m}");
    }
    // where it is a parameter (the finite elman network), it changes the draw of B
    let k1 = widenet::commands::rnn_ntk_arrays("elman", &data, (2, 3, 2), Some(8), 1, 0).unwrap();
    let k3 = widenet::commands::rnn_ntk_arrays("elman", &data, (2, 3, 2), Some(8), 3, 0).unwrap();
    assert_eq!(
        k3.1.iter().find(|p| p.name == "b").unwrap().shape,
        vec![3, 8]
    );
    assert_ne!(k1.0.as_slice(), k3.0.as_slice());
}

#[test]
fn train_test_forms_of_the_empirical_gram_and_the_rnn_ntk_match_their_pairs() {
    use widenet::kernels::{empirical_gram, empirical_gram_cross};
    let (w, x1, x2) = (
        normal_matrix(40, 3, 5),
        normal_matrix(4, 3, 6),
        normal_matrix(3, 3, 7),
    );
    // the cross form against the formula of eq. 5, entry by entry
    let c = empirical_gram_cross(&w, &x1, &x2).unwrap();
    for i in 0..4 {
        for j in 0..3 {
            let (a, b) = (x1.row(i), x2.row(j));
            let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(p, q)| p * q).sum::<f64>();
            let both = (0..40)
                .filter(|&r| dot(w.row(r), a) >= 0.0 && dot(w.row(r), b) >= 0.0)
                .count() as f64;
            let want = dot(a, b) * both / 40.0;
            assert!((c.get(i, j) - want).abs() <= 1e-13 * want.abs().max(1e-300));
        }
    }
    // and the same set twice is the Gram matrix
    let g = empirical_gram(&w, &x1).unwrap();
    let gc = empirical_gram_cross(&w, &x1, &x1).unwrap();
    for (a, b) in g.as_slice().iter().zip(gc.as_slice()) {
        assert!((a - b).abs() <= 1e-14 * a.abs().max(1e-300));
    }
    // RNN: each entry of the cross kernel is the off-diagonal entry of the pair's kernel
    let s1: Vec<f64> = (0..2 * 3 * 2).map(|i| (0.37 * i as f64).sin()).collect();
    let s2: Vec<f64> = (0..3 * 3 * 2).map(|i| (0.53 * i as f64).cos()).collect();
    for (preset, width) in [("elman", None), ("wang", None), ("elman", Some(16))] {
        let (k, _) = widenet::commands::rnn_ntk_cross_arrays(
            preset,
            &s1,
            (2, 3, 2),
            &s2,
            (3, 3, 2),
            width,
            1,
            3,
        )
        .unwrap();
        assert_eq!(k.shape(), (2, 3));
        for i in 0..2 {
            for j in 0..3 {
                let pair: Vec<f64> = s1[i * 6..(i + 1) * 6]
                    .iter()
                    .chain(&s2[j * 6..(j + 1) * 6])
                    .copied()
                    .collect();
                let (kp, _) =
                    widenet::commands::rnn_ntk_arrays(preset, &pair, (2, 3, 2), width, 1, 3)
                        .unwrap();
                let (a, b) = (k.get(i, j), kp.get(0, 1));
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs().max(1e-12),
                    "{preset} {width:?} ({i},{j}): {a} vs {b}"
                );
            }
        }
    }
    let m = err_text(widenet::commands::rnn_ntk_cross_arrays(
        "wang",
        &s1,
        (2, 3, 2),
        &s2[..12],
        (3, 2, 2),
        None,
        1,
        0,
    ));
    assert!(m.contains("x2"), "{m}");
}

/// A negative definite kernel on the large-n path: "not positive definite", naming the
/// user's kernel, with no (negative) condition number quoted (it once read "estimated
/// condition number -4.494e307"); on every path.
#[test]
fn a_negative_definite_kernel_on_the_large_n_path_quotes_no_condition_number() {
    use widenet::kernels::stored::StoredKernel;
    use widenet::theory::large_n::{analyze_kernel, LargeNConfig, SolverPath};
    let n = 12;
    let neg = Matrix::from_fn(n, n, |i, j| if i == j { -1.0 - i as f64 } else { 0.0 });
    let y: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let k = StoredKernel::from_matrix(neg).unwrap();
    for path in [SolverPath::Dense, SolverPath::F32, SolverPath::MatrixFree] {
        let cfg = LargeNConfig {
            path: Some(path),
            top_k: 3,
            ..Default::default()
        };
        let m = err_text(analyze_kernel(&k, std::slice::from_ref(&y), &cfg));
        assert!(
            m.contains("not positive definite") && m.contains("negative eigenvalues"),
            "{path:?}: {m}"
        );
        assert!(!m.contains("condition number -"), "{path:?}: {m}");
        assert!(!m.contains("H^inf"), "{path:?}: {m}");
    }
}

/// `analyze` of a kernel the caller brings (issue 24: one argument order, `kernel=` in
/// both analyses): H^∞ given as a matrix gives the inputs' analysis bit for bit; another
/// kernel's yᵀK⁻¹y is the one a Cholesky solve gives; a kernel that is not one, or labels
/// of the wrong count, are refused naming the argument.
#[test]
fn the_exact_analysis_takes_a_users_kernel() {
    use widenet::commands::{analyze_arrays, analyze_kernel_arrays};
    let x = normal_matrix(9, 3, 4);
    let y: Vec<f64> = (0..9)
        .map(|i| if i % 3 == 0 { 1.0 } else { -1.0 })
        .collect();
    let h = widenet::kernels::h_inf(&x).unwrap();
    let a = analyze_arrays(&x, &y, 0.1, 5).unwrap();
    let b = analyze_kernel_arrays(h, &y, 0.1, 5).unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    // a Gaussian kernel: yᵀK⁻¹y by Cholesky (L Lᵀ z = y)
    let g = gaussian_gram(&x, 2.0).unwrap();
    let c = analyze_kernel_arrays(g.clone(), &y, 0.1, 5).unwrap();
    // L Lᵀ = K by hand (Cholesky–Banachiewicz), then L z = y: yᵀK⁻¹y = |z|²
    let n = 9;
    let mut l = Matrix::zeros(n, n);
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l.get(i, k) * l.get(j, k)).sum();
            let v = if i == j {
                (g.get(i, i) - s).sqrt()
            } else {
                (g.get(i, j) - s) / l.get(j, j)
            };
            l.set(i, j, v);
        }
    }
    let mut z = y.clone();
    for i in 0..n {
        for j in 0..i {
            z[i] -= l.get(i, j) * z[j];
        }
        z[i] /= l.get(i, i);
    }
    let q: f64 = z.iter().map(|v| v * v).sum();
    assert!((c.y_hinv_y - q).abs() <= 1e-10 * q, "{} vs {q}", c.y_hinv_y);
    // not a kernel: asymmetric; the labels' count
    let mut asym = g.clone();
    asym.set(0, 1, asym.get(0, 1) + 0.5);
    let m = err_text(analyze_kernel_arrays(asym, &y, 0.1, 5));
    assert!(m.contains("kernel") && m.contains("symmetric"), "{m}");
    let m = err_text(analyze_kernel_arrays(g, &y[..5], 0.1, 5));
    assert!(m.contains("5 labels"), "{m}");
}
