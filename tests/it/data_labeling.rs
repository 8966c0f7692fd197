//! Whole datasets with a two-class labeling (src/data/labeling.rs,
//! `data::mnist::load_labeled`, `widenet data mnist --classes all`), on small IDX
//! files built here from the format specification, plus a smoke test on the
//! local MNIST when it exists.

use crate::support::{idx_images, idx_labels};
use std::path::Path;
use std::process::Command;
use widenet::data::labeling::{Labeling, Splits};
use widenet::data::mnist::load_labeled;
use widenet::data::npy;
use widenet::Matrix;

const DIM: usize = 6; // 2 x 3 images

/// Image k of a split: distinct, never all zero.
fn pixel_bytes(n: usize, salt: usize) -> Vec<u8> {
    (0..n * DIM)
        .map(|k| (1 + (k * 37 + salt * 11 + k / DIM) % 250) as u8)
        .collect()
}

const TRAIN: [u8; 12] = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5];
const TEST: [u8; 5] = [7, 2, 1, 0, 4];

fn write_split(dir: &Path, prefix: &str, labels: &[u8], salt: usize) {
    let px = pixel_bytes(labels.len(), salt);
    std::fs::write(
        dir.join(format!("{prefix}-images-idx3-ubyte")),
        idx_images(labels.len() as u32, 2, 3, &px),
    )
    .unwrap();
    std::fs::write(
        dir.join(format!("{prefix}-labels-idx1-ubyte")),
        idx_labels(labels.len() as u32, labels),
    )
    .unwrap();
}

fn mnist_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_split(dir.path(), "train", &TRAIN, 1);
    write_split(dir.path(), "t10k", &TEST, 2);
    dir
}

/// The expected set, built from the bytes: every kept image, unit norm.
fn expected(splits: Splits, keep: impl Fn(u8) -> Option<f64>) -> (Matrix<f64>, Vec<f64>) {
    let mut parts: Vec<(&[u8], Vec<u8>)> = Vec::new();
    if splits != Splits::Test {
        parts.push((&TRAIN, pixel_bytes(TRAIN.len(), 1)));
    }
    if splits != Splits::Train {
        parts.push((&TEST, pixel_bytes(TEST.len(), 2)));
    }
    let (mut rows, mut y) = (Vec::new(), Vec::new());
    for (labels, px) in parts {
        for (i, &c) in labels.iter().enumerate() {
            if let Some(l) = keep(c) {
                let img: Vec<f64> = px[i * DIM..(i + 1) * DIM]
                    .iter()
                    .map(|&p| p as f64)
                    .collect();
                let s = img.iter().map(|v| v * v).sum::<f64>().sqrt();
                rows.extend(img.iter().map(|v| v / s));
                y.push(l);
            }
        }
    }
    (Matrix::from_vec(y.len(), DIM, rows).unwrap(), y)
}

fn assert_same(got: &widenet::data::Dataset, want: &(Matrix<f64>, Vec<f64>), what: &str) {
    assert_eq!(got.y, want.1, "{what}: labels");
    assert_eq!(got.x.shape(), want.0.shape(), "{what}: shape");
    for (a, b) in got.x.as_slice().iter().zip(want.0.as_slice()) {
        assert!((a - b).abs() <= 1e-15, "{what}: {a} vs {b}");
    }
}

#[test]
fn every_labeling_keeps_the_right_images_with_the_right_signs() {
    let dir = mnist_dir();
    let pm = |b: bool| if b { 1.0 } else { -1.0 };
    for splits in [Splits::Train, Splits::Test, Splits::Both] {
        let ds = load_labeled(dir.path(), splits, Labeling::EvenOdd).unwrap();
        assert_same(&ds, &expected(splits, |c| Some(pm(c % 2 == 0))), "even-odd");
    }
    let ds = load_labeled(dir.path(), Splits::Both, Labeling::OneVsRest(1)).unwrap();
    assert_eq!(ds.n(), TRAIN.len() + TEST.len());
    assert_same(
        &ds,
        &expected(Splits::Both, |c| Some(pm(c == 1))),
        "one-vs-rest:1",
    );
    let ds = load_labeled(dir.path(), Splits::Both, Labeling::Pair(4, 1)).unwrap();
    let keep = |c: u8| match c {
        4 => Some(1.0),
        1 => Some(-1.0),
        _ => None,
    };
    assert_same(&ds, &expected(Splits::Both, keep), "pair:4,1");
    assert_eq!(ds.n(), 7); // 4: two train + one test; 1: three train + one test
                           // a side with no image: class 8 never occurs
    let e = load_labeled(dir.path(), Splits::Both, Labeling::OneVsRest(8))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("--labeling") && e.contains("one-vs-rest:8"),
        "{e}"
    );
    // a missing split names the directory
    let only_train = tempfile::tempdir().unwrap();
    write_split(only_train.path(), "train", &TRAIN, 1);
    let e = load_labeled(only_train.path(), Splits::Both, Labeling::EvenOdd)
        .unwrap_err()
        .to_string();
    assert!(e.contains("t10k"), "{e}");
}

#[test]
fn labelings_parse_and_name_themselves() {
    for s in ["even-odd", "one-vs-rest:3", "pair:0,1", "pair:9,2"] {
        assert_eq!(s.parse::<Labeling>().unwrap().name(), s);
    }
    assert_eq!(Labeling::EvenOdd.positive_classes(), vec![0, 2, 4, 6, 8]);
    assert_eq!(Labeling::OneVsRest(7).positive_classes(), vec![7]);
    assert_eq!(Labeling::Pair(3, 5).label(4), None);
    for bad in [
        "odd-even",
        "one-vs-rest:10",
        "pair:1,1",
        "pair:1",
        "pair:a,b",
        "",
    ] {
        let e = widenet::options::parse::<Labeling>("--labeling", bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--labeling"), "{bad}: {e}");
    }
}

#[test]
fn the_data_command_writes_all_classes_and_names_the_labeling() {
    let dir = mnist_dir();
    let out = tempfile::tempdir().unwrap();
    let (px, py) = (out.path().join("X.npy"), out.path().join("y.npy"));
    let st = Command::new(env!("CARGO_BIN_EXE_widenet"))
        .args(["data", "mnist", "--dir"])
        .arg(dir.path())
        .args([
            "--classes",
            "all",
            "--labeling",
            "one-vs-rest:3",
            "--split",
            "both",
            "--out-x",
        ])
        .arg(&px)
        .arg("--out-y")
        .arg(&py)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let x: Matrix<f64> = npy::read_matrix(&px).unwrap();
    let y: Vec<f64> = npy::read_vector(&py).unwrap();
    let want = expected(Splits::Both, |c| Some(if c == 3 { 1.0 } else { -1.0 }));
    assert_eq!(y, want.1);
    assert_eq!(x.shape(), want.0.shape());
    let side: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("y.json")).unwrap()).unwrap();
    assert_eq!(side["labeling"], "one-vs-rest:3");
    assert_eq!(side["split"], "both");
    assert_eq!(side["n"], 17);
    assert_eq!(side["n_positive"], 2);
    assert_eq!(side["class_counts"][1], 4);
    // --classes all without a labeling is refused, naming the flag
    let st = Command::new(env!("CARGO_BIN_EXE_widenet"))
        .args(["data", "mnist", "--dir"])
        .arg(dir.path())
        .args(["--classes", "all", "--out-x"])
        .arg(&px)
        .arg("--out-y")
        .arg(&py)
        .output()
        .unwrap();
    assert!(!st.status.success());
    assert!(String::from_utf8_lossy(&st.stderr).contains("--labeling"));
}

#[test]
fn the_local_mnist_loads_whole_when_present() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    if !dir.exists() {
        eprintln!("skipped: {} does not exist", dir.display());
        return;
    }
    let ds = load_labeled(&dir, Splits::Both, Labeling::EvenOdd).unwrap();
    assert_eq!((ds.n(), ds.d()), (17_435 + 10_000, 784));
    for i in (0..ds.n()).step_by(997) {
        let s: f64 = ds.x.row(i).iter().map(|v| v * v).sum();
        assert!((s - 1.0).abs() < 1e-12);
    }
    let pos = ds.y.iter().filter(|&&v| v > 0.0).count();
    assert!(pos > 0 && pos < ds.n());
}
