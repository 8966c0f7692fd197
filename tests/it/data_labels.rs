//! Tests of label operations (seed 001, Appendix A) and synthetic data.

use crate::support::err_text;
use widenet::data::labels::{
    dataset_from_npy, normalize_rows, randomize_labels, randomize_labels_with_indices,
    train_val_split, two_class, Dataset,
};
use widenet::data::npy::{write_matrix, write_vector};
use widenet::data::synthetic::{
    structured_train_test, two_class_structured, unit_sphere, PolyTarget, PolyTerm,
};
use widenet::data::LabeledImages;
use widenet::linalg::sym_eigen;
use widenet::rng::stream;
use widenet::Matrix;

fn row_norm(r: &[f64]) -> f64 {
    r.iter().map(|v| v * v).sum::<f64>().sqrt()
}

// ----------------------------------------------------------------------------
// two_class

fn toy_images() -> LabeledImages {
    // image i has pixels [i, 2i, 3i] (shifted so none is all zero)
    let labels = vec![3u8, 0, 1, 1, 7, 0, 3, 1];
    let pixels = (0..labels.len())
        .flat_map(|i| [i as u8 + 1, 2 * i as u8 + 1, 3 * i as u8 + 1])
        .collect();
    LabeledImages {
        pixels,
        dim: 3,
        labels,
    }
}

#[test]
fn two_class_keeps_two_classes_in_file_order() {
    let im = toy_images();
    let ds = two_class(&im, 0, 1, None).unwrap();
    // images 1 (class 0), 2, 3 (class 1), 5 (class 0), 7 (class 1)
    let idx = [1usize, 2, 3, 5, 7];
    assert_eq!(ds.y, vec![1.0, -1.0, -1.0, 1.0, -1.0]);
    assert_eq!((ds.n(), ds.d()), (5, 3));
    for (r, &i) in idx.iter().enumerate() {
        let want = [i as f64 + 1.0, 2.0 * i as f64 + 1.0, 3.0 * i as f64 + 1.0];
        assert_eq!(ds.x.row(r), &want);
    }
    // swapping the classes flips the labels; a limit keeps the first ones
    let sw = two_class(&im, 1, 0, Some(3)).unwrap();
    assert_eq!(sw.y, vec![-1.0, 1.0, 1.0]);
    assert_eq!(sw.x.row(2), ds.x.row(2));
    // errors
    assert!(err_text(two_class(&im, 1, 1, None)).contains("differ"));
    assert!(err_text(two_class(&im, 0, 5, None)).contains("class 5"));
    assert!(err_text(two_class(&im, 0, 1, Some(0))).contains("limit"));
    let mut bad = im.clone();
    bad.pixels.pop();
    assert!(two_class(&bad, 0, 1, None).is_err());
}

// ----------------------------------------------------------------------------
// normalize_rows

#[test]
fn normalize_rows_gives_unit_norms_and_keeps_directions() {
    let mut rng = stream(1, "test/normalize");
    let x0 = Matrix::from_fn(50, 17, |i, j| {
        widenet::rng::normal(&mut rng) * (1.0 + i as f64) * if j == 0 { 1e6 } else { 1.0 }
    });
    let mut x = x0.clone();
    normalize_rows(&mut x).unwrap();
    for i in 0..x.rows() {
        assert!((row_norm(x.row(i)) - 1.0).abs() < 1e-12);
        let n0 = row_norm(x0.row(i));
        for j in 0..x.cols() {
            assert!((x.get(i, j) * n0 - x0.get(i, j)).abs() <= 1e-9 * n0);
        }
    }
    // an all-zero row is an error naming its index, leaving x unchanged
    let mut z = Matrix::from_vec(3, 2, vec![1.0, 2.0, 3.0, 4.0, 0.0, 0.0]).unwrap();
    let before = z.clone();
    let m = err_text(normalize_rows(&mut z));
    assert!(m.contains("row 2"), "{m}");
    assert_eq!(z, before);
}

// ----------------------------------------------------------------------------
// train_val_split

#[test]
fn train_val_split_is_random_and_disjoint() {
    let n = 40;
    // row i identifies example i; its label is i as well
    let ds = Dataset::new(
        Matrix::from_fn(n, 2, |i, j| (i * 10 + j) as f64),
        (0..n).map(|i| i as f64).collect(),
    )
    .unwrap();
    let mut rng = stream(7, "test/split");
    let (tr, va) = train_val_split(&ds, 25, 10, &mut rng).unwrap();
    assert_eq!((tr.n(), va.n()), (25, 10));
    let mut seen = vec![false; n];
    for part in [&tr, &va] {
        for r in 0..part.n() {
            let i = part.y[r] as usize;
            assert!(!seen[i], "example {i} appears twice");
            seen[i] = true;
            assert_eq!(part.x.row(r), ds.x.row(i), "row and label stay together");
        }
    }
    // not simply the first 25: some of the last 15 examples are in train
    assert!(tr.y.iter().any(|&v| v >= 25.0));
    // a different stream gives a different split
    let (tr2, _) = train_val_split(&ds, 25, 10, &mut stream(8, "test/split")).unwrap();
    assert_ne!(tr.y, tr2.y);
    let m = err_text(train_val_split(&ds, 31, 10, &mut rng));
    assert!(m.contains("40"), "{m}");
}

// ----------------------------------------------------------------------------
// randomize_labels

#[test]
fn randomize_labels_p0_changes_nothing_and_bad_p_is_rejected() {
    let y: Vec<f64> = (0..30)
        .map(|i| if i % 3 == 0 { 1.0 } else { -1.0 })
        .collect();
    let mut rng = stream(3, "test/rand");
    assert_eq!(randomize_labels(&y, 0.0, &mut rng).unwrap(), y);
    for p in [-0.1, 1.1, f64::NAN, f64::INFINITY] {
        let m = err_text(randomize_labels(&y, p, &mut rng));
        assert!(m.contains("invalid p"), "{m}");
    }
}

#[test]
fn randomize_labels_p1_is_unbiased_rademacher() {
    // all-(+1) labels: after p = 1 every label is an independent unif{±1}
    let n = 1000;
    let y = vec![1.0; n];
    let mut rng = stream(4, "test/rand");
    let draws = 20;
    let mut sum = 0.0;
    for _ in 0..draws {
        let r = randomize_labels(&y, 1.0, &mut rng).unwrap();
        assert!(r.iter().all(|&v| v == 1.0 || v == -1.0));
        sum += r.iter().sum::<f64>();
    }
    let mean = sum / (n * draws) as f64;
    // mean of 20,000 Rademacher draws has sd 1/sqrt(20000) ≈ 0.007
    assert!(
        mean.abs() < 5.0 / ((n * draws) as f64).sqrt(),
        "mean {mean}"
    );
}

#[test]
fn randomize_labels_redraws_exactly_round_pn_positions() {
    // labels 0.0 can never be drawn, so the re-drawn positions are exactly the
    // nonzero ones afterwards
    for (n, p, k) in [
        (101usize, 0.3, 30usize),
        (5, 0.5, 3),
        (10, 0.04, 0),
        (7, 1.0, 7),
    ] {
        let y = vec![0.0; n];
        let mut rng = stream(n as u64, "test/count");
        let (r, idx) = randomize_labels_with_indices(&y, p, &mut rng).unwrap();
        let redrawn: Vec<usize> = (0..n).filter(|&i| r[i] != 0.0).collect();
        assert_eq!(redrawn.len(), k, "n={n} p={p}");
        assert_eq!(redrawn, idx);
        assert!(r.iter().all(|&v| v == 0.0 || v.abs() == 1.0));
    }
    // the chosen set is uniform: each index is chosen with frequency ≈ p
    let n = 20;
    let trials = 4000;
    let mut hits = vec![0usize; n];
    let mut rng = stream(5, "test/uniform");
    for _ in 0..trials {
        let (_, idx) = randomize_labels_with_indices(&vec![0.0; n], 0.25, &mut rng).unwrap();
        assert_eq!(idx.len(), 5);
        for i in idx {
            hits[i] += 1;
        }
    }
    // binomial(4000, 0.25): sd ≈ 27.4; allow 5 sd
    for (i, &h) in hits.iter().enumerate() {
        assert!(
            (h as f64 - 1000.0).abs() < 137.0,
            "index {i} chosen {h} times"
        );
    }
    // seeded: the same stream gives the same labels
    let y: Vec<f64> = (0..50)
        .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let a = randomize_labels(&y, 0.5, &mut stream(9, "x")).unwrap();
    let b = randomize_labels(&y, 0.5, &mut stream(9, "x")).unwrap();
    assert_eq!(a, b);
}

// ----------------------------------------------------------------------------
// dataset_from_npy

#[test]
fn dataset_from_npy_checks_row_counts() {
    let dir = tempfile::tempdir().unwrap();
    let x = Matrix::from_vec(3, 2, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let xp = dir.path().join("x.npy");
    let yp = dir.path().join("y.npy");
    let y4 = dir.path().join("y4.npy");
    write_matrix(&xp, &x).unwrap();
    write_vector(&yp, &[1.0f32, -1.0, 1.0]).unwrap();
    write_vector(&y4, &[1.0f64, -1.0, 1.0, 1.0]).unwrap();
    let ds = dataset_from_npy(&xp, &yp).unwrap();
    assert_eq!(ds.x, x);
    assert_eq!(ds.y, vec![1.0, -1.0, 1.0]);
    let m = err_text(dataset_from_npy(&xp, &y4));
    assert!(m.contains("x.npy") && m.contains("y4.npy"), "{m}");
}

// ----------------------------------------------------------------------------
// synthetic

#[test]
fn poly_target_matches_hand_computation() {
    let g = PolyTarget {
        terms: vec![
            PolyTerm {
                alpha: 3.0,
                beta: vec![1.0, 2.0],
                p: 2,
            },
            PolyTerm {
                alpha: -1.0,
                beta: vec![0.0, 1.0],
                p: 1,
            },
            PolyTerm {
                alpha: 0.5,
                beta: vec![1.0, 0.0],
                p: 3,
            },
        ],
    };
    let x = Matrix::from_vec(2, 2, vec![1.0, 1.0, 2.0, -1.0]).unwrap();
    // row 1: 3·(1+2)² − 1·1 + 0.5·1³ = 27 − 1 + 0.5
    // row 2: 3·(2−2)² − 1·(−1) + 0.5·2³ = 0 + 1 + 4
    assert_eq!(g.eval(&x).unwrap(), vec![26.5, 5.0]);
    // p = 3 is odd and > 1: eq. (13) does not apply and the bound is refused
    assert!(!g.bound_applies());
    assert!(widenet::theory::complexity::poly_target_bound(&g).is_err());
    // without it, eq. (13): 3 Σ p|α|‖β‖^p = 3 (2·3·5 + 1·1·1)
    let g2 = PolyTarget {
        terms: g.terms[..2].to_vec(),
    };
    assert!(
        (widenet::theory::complexity::poly_target_bound(&g2).unwrap() - 3.0 * (30.0 + 1.0)).abs()
            < 1e-12
    );
    let bad = Matrix::from_vec(1, 3, vec![1.0, 1.0, 1.0]).unwrap();
    assert!(err_text(g.eval(&bad)).contains("dimension 2"));

    let r = PolyTarget::random(6, &[(1.0, 1), (-2.0, 2), (0.5, 4)], &mut stream(2, "poly"));
    assert_eq!(r.terms.len(), 3);
    assert!(r.bound_applies());
    for t in &r.terms {
        assert_eq!(t.beta.len(), 6);
        assert!((row_norm(&t.beta) - 1.0).abs() < 1e-12);
    }
    assert_eq!((r.terms[1].alpha, r.terms[1].p), (-2.0, 2));
    assert!(
        (widenet::theory::complexity::poly_target_bound(&r).unwrap() - 3.0 * (1.0 + 4.0 + 2.0))
            .abs()
            < 1e-12
    );
}

#[test]
fn unit_sphere_is_uniform_on_the_sphere() {
    let (n, d) = (4000, 5);
    let x = unit_sphere(n, d, &mut stream(11, "sphere"));
    assert_eq!(x.shape(), (n, d));
    for i in 0..n {
        assert!((row_norm(x.row(i)) - 1.0).abs() < 1e-12);
    }
    for j in 0..d {
        let mean = (0..n).map(|i| x.get(i, j)).sum::<f64>() / n as f64;
        let second = (0..n).map(|i| x.get(i, j).powi(2)).sum::<f64>() / n as f64;
        // each coordinate has mean 0 and variance 1/d: sd of the mean ≈ 0.007
        assert!(mean.abs() < 0.04, "coordinate {j} mean {mean}");
        assert!(
            (second - 1.0 / d as f64).abs() < 0.02,
            "coordinate {j} E[x²] {second}"
        );
    }
}

/// H^∞_ij = x_iᵀx_j (π − arccos(x_iᵀx_j)) / (2π) (seed 001, eq. 3), written
/// out here independently of widenet's kernels.
fn ntk_gram(x: &Matrix<f64>) -> Matrix<f64> {
    let n = x.rows();
    Matrix::from_fn(n, n, |i, j| {
        let c: f64 = x.row(i).iter().zip(x.row(j)).map(|(a, b)| a * b).sum();
        let c = c.clamp(-1.0, 1.0);
        c * (std::f64::consts::PI - c.acos()) / (2.0 * std::f64::consts::PI)
    })
}

#[test]
fn structured_dataset_is_balanced_normalized_and_reproducible() {
    let ds = two_class_structured(301, 20, 42);
    assert_eq!((ds.n(), ds.d()), (301, 20));
    assert_eq!(ds.y.iter().filter(|&&v| v == 1.0).count(), 151);
    assert_eq!(ds.y.iter().filter(|&&v| v == -1.0).count(), 150);
    for i in 0..ds.n() {
        assert!((row_norm(ds.x.row(i)) - 1.0).abs() < 1e-12);
    }
    assert_eq!(two_class_structured(301, 20, 42), ds);
    assert_ne!(two_class_structured(301, 20, 43).x, ds.x);
    let (tr, te) = structured_train_test(301, 100, 20, 42);
    assert_eq!(tr, ds);
    assert_eq!(te.n(), 100);
    assert_eq!(te.y.iter().sum::<f64>(), 0.0);
    // small dimensions work too
    let small = two_class_structured(10, 2, 1);
    assert_eq!(small.d(), 2);
}

#[test]
fn structured_labels_are_learnable_but_not_separable() {
    // nearest-class-mean classifier fit on train, scored on test
    let (tr, te) = structured_train_test(2000, 2000, 30, 5);
    let d = tr.d();
    let mut w = vec![0.0; d];
    for i in 0..tr.n() {
        for (wj, xj) in w.iter_mut().zip(tr.x.row(i)) {
            *wj += tr.y[i] * xj;
        }
    }
    let errors = (0..te.n())
        .filter(|&i| {
            let s: f64 = w.iter().zip(te.x.row(i)).map(|(a, b)| a * b).sum();
            s * te.y[i] <= 0.0
        })
        .count();
    let err = errors as f64 / te.n() as f64;
    println!("nearest-mean test error {err}");
    assert!(err > 0.003 && err < 0.15, "linear test error {err}");

    // labels align with the top eigenvectors of H^∞ (seed 001, §4), random
    // labels do not
    let ds = two_class_structured(300, 20, 6);
    let eig = sym_eigen(&ntk_gram(&ds.x)).unwrap();
    let top_energy = |y: &[f64]| {
        let proj = eig.project(y).unwrap();
        let total: f64 = proj.iter().map(|v| v * v).sum();
        proj[..5].iter().map(|v| v * v).sum::<f64>() / total
    };
    let true_frac = top_energy(&ds.y);
    let mut rng = stream(6, "test/random-labels");
    let rand: Vec<f64> = (0..ds.n())
        .map(|_| widenet::rng::rademacher(&mut rng))
        .collect();
    let rand_frac = top_energy(&rand);
    println!("top-5 energy: true {true_frac}, random {rand_frac}");
    assert!(
        true_frac > 0.5,
        "true labels: {true_frac} of ‖y‖² in the top 5"
    );
    assert!(
        rand_frac < 0.15,
        "random labels: {rand_frac} of ‖y‖² in the top 5"
    );
}
