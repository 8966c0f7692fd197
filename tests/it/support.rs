//! Fixtures shared by the integration tests: small files built in the formats the loaders
//! read (IDX, gzip, `.npy`), seeded inputs and labels, comparisons, the binary, and the
//! error-text helper. One copy here instead of one per test file; tests/process includes
//! this file too (`#[path]`), so the two test binaries share one copy.

use std::io::Write;
use widenet::{rng, Matrix};

/// The message of an error that must occur (panics naming the value otherwise).
pub fn err_text<T: std::fmt::Debug>(r: widenet::Result<T>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// `bytes` gzip-compressed.
pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// An IDX image file (magic 2051): `count` images of `rows` × `cols`, then `pixels`.
pub fn idx_images(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut b = 2051u32.to_be_bytes().to_vec();
    for v in [count, rows, cols] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b.extend_from_slice(pixels);
    b
}

/// An IDX label file (magic 2049) declaring `count` labels, then `labels`.
pub fn idx_labels(count: u32, labels: &[u8]) -> Vec<u8> {
    let mut b = 2049u32.to_be_bytes().to_vec();
    b.extend_from_slice(&count.to_be_bytes());
    b.extend_from_slice(labels);
    b
}

/// A `.npy` file with header text `dict`, format `major`.0, followed by `data`.
pub fn npy_bytes(major: u8, dict: &str, data: &[u8]) -> Vec<u8> {
    let prefix = if major == 1 { 10 } else { 12 };
    let mut header = dict.to_string();
    while !(prefix + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut b = b"\x93NUMPY".to_vec();
    b.extend_from_slice(&[major, 0]);
    if major == 1 {
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        b.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    b.extend_from_slice(header.as_bytes());
    b.extend_from_slice(data);
    b
}

/// `f` run on a rayon pool of its own with `threads` threads (bit-for-bit checks
/// across thread counts without touching the global pool).
#[allow(dead_code)] // tests/process includes this file too
pub fn on_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(f)
}

/// An n × d matrix of independent N(0, 1) entries from the seeded stream "test".
pub fn normal_matrix(n: usize, d: usize, seed: u64) -> Matrix<f64> {
    let mut g = rng::stream(seed, "test");
    Matrix::from_fn(n, d, |_, _| rng::normal(&mut g))
}

/// Runs the `widenet` binary with `args` (no backtrace variable, so a panic would show
/// as one, not as a backtrace hint).
pub fn widenet_cli<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_widenet"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the binary runs")
}

/// n points uniform on the unit sphere of R^d from the seeded stream `stream`.
pub fn sphere(n: usize, d: usize, seed: u64, stream: &str) -> Matrix<f64> {
    widenet::data::synthetic::unit_sphere(n, d, &mut rng::stream(seed, stream))
}

/// n independent ±1 labels (Rademacher) from the seeded stream `stream`.
pub fn random_signs(n: usize, seed: u64, stream: &str) -> Vec<f64> {
    let mut g = rng::stream(seed, stream);
    (0..n).map(|_| rng::rademacher(&mut g)).collect()
}

/// max_i |a_i − b_i| (0 for empty slices); panics on different lengths.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "max_abs_diff of different lengths");
    a.iter()
        .zip(b)
        .map(|(u, v)| (u - v).abs())
        .fold(0.0, f64::max)
}

/// Writes inputs `x` to `dir/X.npy` and labels `y` to `dir/y.npy`; returns the two paths.
pub fn write_xy(
    dir: &std::path::Path,
    x: &Matrix<f64>,
    y: &[f64],
) -> (std::path::PathBuf, std::path::PathBuf) {
    let (xp, yp) = (dir.join("X.npy"), dir.join("y.npy"));
    widenet::data::npy::write_matrix(&xp, x).unwrap();
    widenet::data::npy::write_vector(&yp, y).unwrap();
    (xp, yp)
}
