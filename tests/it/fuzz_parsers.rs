//! Property-based fuzzing of the parsers that read user input: `.npy`, IDX
//! (MNIST), CIFAR-10 batches and the `complexity` command's function and
//! measure parser. Random and mutated inputs must never panic, and must give
//! either an error that names the file (or the flag) or a result consistent
//! with its own declared shape.
//!
//! Each target starts from valid inputs and applies random mutations (bit
//! flips, interesting bytes, truncation, splices of header tokens, rewritten
//! length and shape fields), from a seeded ChaCha stream, so every failure is
//! reproducible from its iteration number.
//!
//! The test suite runs a short campaign. A long one:
//!
//! ```text
//! WIDENET_FUZZ_ITERS=200000 WIDENET_FUZZ_SEED=7 cargo test --release --test it fuzz_parsers -- --nocapture
//! ```
//!
//! (`WIDENET_FUZZ_ITERS` is the number of inputs per target, default 400, a
//! quarter of that for CIFAR's 3 KB records; `WIDENET_FUZZ_SEED` picks another
//! campaign, default 0. The test profile is optimized and keeps overflow checks
//! and debug assertions on, which is what a fuzz run wants.)

use crate::support::gz;
use rand::Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use widenet::data::{cifar, mnist, npy, LabeledImages};
use widenet::rng::{self, WRng};

fn iters() -> usize {
    std::env::var("WIDENET_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}

fn seed() -> u64 {
    std::env::var("WIDENET_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Runs `check` on `input`; a panic is reported with the target, the
/// iteration and the input, then re-raised.
fn guarded(target: &str, k: usize, input: &[u8], check: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(check)).is_err() {
        panic!(
            "{target}: iteration {k} (seed {}) panicked on input {} bytes: {:?}",
            seed(),
            input.len(),
            String::from_utf8_lossy(&input[..input.len().min(600)])
        );
    }
}

const INTERESTING: &[u8] = b"(){}[],:'\" 0123456789\n-.eLTFx\x00\xff\x93";
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "'",
    "\"",
    "'descr'",
    "'shape'",
    "'fortran_order'",
    "'<f8'",
    "'<f4'",
    "'>f8'",
    "'|u1'",
    "True",
    "False",
    "None",
    "0",
    "1",
    "-1",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999",
    "4294967296",
    "1e400",
    "0x10",
    "3L",
    "\\",
    "\\x00",
    "b'x'",
    "1j",
    "((((",
    "))))",
    "[[[[",
    "{{{{",
    " ",
];

/// Applies 1-4 random mutations to `b`.
fn mutate(g: &mut WRng, b: &mut Vec<u8>) {
    let n_ops = g.random_range(1..=4);
    for _ in 0..n_ops {
        let len = b.len();
        match g.random_range(0..9) {
            0 if len > 0 => {
                let i = g.random_range(0..len);
                b[i] ^= 1 << g.random_range(0..8);
            }
            1 if len > 0 => {
                let i = g.random_range(0..len);
                b[i] = INTERESTING[g.random_range(0..INTERESTING.len())];
            }
            2 if len > 0 => {
                let i = g.random_range(0..len);
                b[i] = g.random();
            }
            3 => b.truncate(g.random_range(0..=len)),
            4 => {
                let i = g.random_range(0..=len);
                let t = TOKENS[g.random_range(0..TOKENS.len())].as_bytes();
                let reps = if g.random_range(0..10) == 0 {
                    g.random_range(1..2000)
                } else {
                    1
                };
                let ins: Vec<u8> = t.iter().copied().cycle().take(t.len() * reps).collect();
                b.splice(i..i, ins);
            }
            5 if len > 0 => {
                // duplicate or delete a range
                let i = g.random_range(0..len);
                let j = g.random_range(i..=len.min(i + 64));
                if g.random() {
                    let chunk = b[i..j].to_vec();
                    b.splice(i..i, chunk);
                } else {
                    b.drain(i..j);
                }
            }
            6 if len >= 12 => {
                // rewrite a 4-byte field (a length, a count) with an extreme value
                let i = g.random_range(0..=len.min(16).saturating_sub(4));
                let v: u32 = match g.random_range(0..4) {
                    0 => 0,
                    1 => u32::MAX,
                    2 => g.random_range(0..100),
                    _ => g.random(),
                };
                let bytes = if g.random() {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                b[i..i + 4].copy_from_slice(&bytes);
            }
            7 => {
                let extra = g.random_range(1..40);
                b.extend((0..extra).map(|_| g.random::<u8>()));
            }
            _ => {
                if len > 0 {
                    let i = g.random_range(0..len);
                    b[i] = b[i].wrapping_add(1);
                }
            }
        }
    }
}

fn random_shape(g: &mut WRng) -> Vec<usize> {
    let nd = g.random_range(0..4);
    (0..nd).map(|_| g.random_range(0..5)).collect()
}

/// A valid `.npy` file, from our writer or a hand-built header spelling.
fn npy_seed(g: &mut WRng) -> Vec<u8> {
    let shape = random_shape(g);
    let n: usize = shape.iter().product();
    let vals: Vec<f64> = (0..n).map(|_| rng::normal(g)).collect();
    match g.random_range(0..3) {
        0 => npy::encode_array(&shape, &vals).unwrap(),
        1 => {
            let v32: Vec<f32> = vals.iter().map(|&v| v as f32).collect();
            npy::encode_array(&shape, &v32).unwrap()
        }
        _ => {
            // version 2 or 3, double quotes, list shape
            let dims: Vec<String> = shape.iter().map(|s| s.to_string()).collect();
            let dict = format!(
                "{{\"shape\": [{}], \"descr\": \"<f8\", \"fortran_order\": False}}",
                dims.join(", ")
            );
            let mut header = dict.into_bytes();
            while !(12 + header.len() + 1).is_multiple_of(64) {
                header.push(b' ');
            }
            header.push(b'\n');
            let mut b = b"\x93NUMPY".to_vec();
            b.extend_from_slice(&[g.random_range(2..=3u8), 0]);
            b.extend_from_slice(&(header.len() as u32).to_le_bytes());
            b.extend_from_slice(&header);
            for v in &vals {
                b.extend_from_slice(&v.to_le_bytes());
            }
            b
        }
    }
}

fn assert_names(target: &str, msg: &str, name: &str) {
    assert!(
        msg.contains(name),
        "{target}: the error should name {name}: {msg}"
    );
}

fn tmpfile(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn fuzz_npy() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = rng::stream(seed(), "fuzz/npy");
    let (mut ok, mut err) = (0usize, 0usize);
    for k in 0..iters() {
        let mut b = npy_seed(&mut g);
        if k % 8 != 0 {
            mutate(&mut g, &mut b);
        }
        let name = "fuzz-input.npy";
        let via_file = k % 5 == 0;
        guarded("npy", k, &b, || {
            let r = if via_file {
                npy::read_array::<f64>(tmpfile(dir.path(), name, &b))
            } else {
                npy::parse_array::<f64>(Path::new(name), &b)
            };
            match r {
                Ok((shape, data)) => {
                    assert_eq!(shape.iter().product::<usize>(), data.len());
                    assert!(data.len() * 4 <= b.len(), "more values than bytes");
                    ok += 1;
                }
                Err(e) => {
                    assert_names("npy", &e.to_string(), name);
                    err += 1;
                }
            }
            // the 2-D and 1-D readers on the same bytes
            if via_file {
                let p = dir.path().join(name);
                if let Ok(m) = npy::read_matrix::<f32>(&p) {
                    assert!(m.rows() > 0 && m.cols() > 0);
                }
                if let Ok(v) = npy::read_vector::<f64>(&p) {
                    assert!(!v.is_empty());
                }
            }
        });
    }
    eprintln!("fuzz_npy: {} inputs, {ok} parsed, {err} refused", iters());
    assert!(ok > 0 && err > 0, "the campaign should reach both outcomes");
}

fn idx_images(count: u32, rows: u32, cols: u32, g: &mut WRng) -> Vec<u8> {
    let mut b = 2051u32.to_be_bytes().to_vec();
    for v in [count, rows, cols] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    b.extend((0..count * rows * cols).map(|_| g.random::<u8>()));
    b
}

fn idx_labels(count: u32, g: &mut WRng) -> Vec<u8> {
    let mut b = 2049u32.to_be_bytes().to_vec();
    b.extend_from_slice(&count.to_be_bytes());
    b.extend((0..count).map(|_| g.random_range(0..10u8)));
    b
}

#[test]
fn fuzz_idx() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = rng::stream(seed(), "fuzz/idx");
    let (mut ok, mut err) = (0usize, 0usize);
    for k in 0..iters() {
        let images = g.random();
        let mut b = if images {
            let (c, r, w) = (
                g.random_range(0..6),
                g.random_range(1..5),
                g.random_range(1..5),
            );
            idx_images(c, r, w, &mut g)
        } else {
            idx_labels(g.random_range(0..20), &mut g)
        };
        if k % 8 != 0 {
            mutate(&mut g, &mut b);
        }
        let mode = k % 4; // 0: bytes, 1: plain file, 2: gzip file, 3: gzip of a cut stream
        let name = if mode >= 2 { "fuzz-idx.gz" } else { "fuzz-idx" };
        guarded("idx", k, &b, || {
            let path = Path::new(name);
            let file = |bytes: &[u8]| tmpfile(dir.path(), name, bytes);
            let r_img = |p: &Path, bytes: &[u8]| match mode {
                0 => mnist::parse_idx_images(p, bytes),
                _ => mnist::read_idx_images(p),
            };
            let data: Vec<u8> = match mode {
                2 => gz(&b),
                3 => {
                    let z = gz(&b);
                    let cut = g.random_range(0..=z.len());
                    z[..cut].to_vec()
                }
                _ => b.clone(),
            };
            let p = if mode == 0 {
                path.to_path_buf()
            } else {
                file(&data)
            };
            match r_img(&p, &data) {
                Ok(im) => {
                    assert_eq!(im.pixels.len(), im.count * im.rows * im.cols);
                    ok += 1;
                }
                Err(e) => {
                    assert_names("idx", &e.to_string(), name);
                    err += 1;
                }
            }
            let labels = match mode {
                0 => mnist::parse_idx_labels(path, &data),
                _ => mnist::read_idx_labels(&p),
            };
            match labels {
                Ok(l) => assert!(l.iter().all(|&v| v <= 9)),
                Err(e) => assert_names("idx", &e.to_string(), name),
            }
        });
    }
    eprintln!(
        "fuzz_idx: {} inputs, {ok} image files parsed, {err} refused",
        iters()
    );
    assert!(ok > 0 && err > 0);
}

#[test]
fn fuzz_cifar() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = rng::stream(seed(), "fuzz/cifar");
    let (mut ok, mut err) = (0usize, 0usize);
    for k in 0..iters() / 4 + 1 {
        let n = g.random_range(0..3);
        let mut b: Vec<u8> = Vec::with_capacity(n * cifar::RECORD);
        for _ in 0..n {
            b.push(g.random_range(0..10));
            b.extend((0..cifar::PIXELS).map(|_| g.random::<u8>()));
        }
        if k % 8 != 0 {
            mutate(&mut g, &mut b);
        }
        let name = if k % 3 == 2 {
            "fuzz.bin.gz"
        } else {
            "fuzz.bin"
        };
        guarded("cifar", k, &b, || {
            let r = match k % 3 {
                0 => {
                    let mut out = LabeledImages {
                        pixels: Vec::new(),
                        dim: cifar::PIXELS,
                        labels: Vec::new(),
                    };
                    cifar::parse_batch(Path::new(name), &b, &mut out).map(|_| out)
                }
                1 => cifar::read_batch(tmpfile(dir.path(), name, &b)),
                _ => cifar::read_batch(tmpfile(dir.path(), name, &gz(&b))),
            };
            match r {
                Ok(out) => {
                    assert_eq!(out.pixels.len(), out.labels.len() * cifar::PIXELS);
                    assert!(out.labels.iter().all(|&l| l <= 9));
                    ok += 1;
                }
                Err(e) => {
                    assert_names("cifar", &e.to_string(), name);
                    err += 1;
                }
            }
        });
    }
    eprintln!("fuzz_cifar: {ok} parsed, {err} refused");
    assert!(ok > 0 && err > 0);
}

const FN_TOKENS: &[&str] = &[
    "exp", "sin", "cos", "tanh", "sigmoid", "sigma", "arctan", "atan", "z*arctan", "zarctan",
    "poly:", "(", ")", "z", "*", "/", "-", "-1", "2", "0.5", "0", "1e308", "1e-320", "nan", "inf",
    "-inf", ",", ".", "e", " ", "Z", "1", "3", "1e9", "(z/2)", "(2z)", "(0z)",
];
const MEASURES: &[&str] = &[
    "C", "CN", "ceps", "cs", "arora", "c_n", "CS", "", "x", "cs:2",
];

fn fuzz_r(g: &mut WRng) -> f64 {
    const R: &[f64] = &[
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1.0,
        0.0,
        1e-300,
        0.5,
        1.0,
        1.999,
        2.0,
        10.0,
        1e300,
        f64::MAX,
        f64::MIN_POSITIVE,
    ];
    if g.random() {
        R[g.random_range(0..R.len())]
    } else {
        g.random_range(0.0..5.0)
    }
}

fn fuzz_count(g: &mut WRng) -> Option<usize> {
    const N: &[usize] = &[0, 1, 2, 3, 10, 1000, 1_000_000_000, usize::MAX];
    match g.random_range(0..3) {
        0 => None,
        1 => Some(N[g.random_range(0..N.len())]),
        _ => Some(g.random_range(1..20)),
    }
}

#[test]
fn fuzz_complexity_parser() {
    let mut g = rng::stream(seed(), "fuzz/complexity");
    let (mut ok, mut err) = (0usize, 0usize);
    let mut slowest = (0.0f64, String::new());
    for k in 0..iters() {
        let parts = g.random_range(1..6);
        let mut f: String = (0..parts)
            .map(|_| FN_TOKENS[g.random_range(0..FN_TOKENS.len())])
            .collect();
        if k % 2 == 1 {
            // a well-formed function with a random scale, to reach the evaluators
            const NAMES: &[&str] = &[
                "exp", "sin", "cos", "tanh", "sigmoid", "arctan", "z*arctan", "exp(z)-1",
            ];
            let name = NAMES[g.random_range(0..NAMES.len())];
            f = if g.random() || name.contains('(') {
                name.to_string()
            } else {
                format!("{name}({}z)", g.random_range(0.1..4.0))
            };
        } else if k % 10 == 0 {
            // a long coefficient list
            let n = g.random_range(1..3000);
            f = format!(
                "poly:{}",
                (0..n)
                    .map(|_| format!("{}", rng::normal(&mut g)))
                    .collect::<Vec<_>>()
                    .join(",")
            );
        }
        let mut fb = f.into_bytes();
        if k % 6 == 0 {
            mutate(&mut g, &mut fb);
        }
        let f = String::from_utf8_lossy(&fb).into_owned();
        let measure = MEASURES[g.random_range(0..MEASURES.len())];
        let r = fuzz_r(&mut g);
        let (mut n, mut l) = (fuzz_count(&mut g), fuzz_count(&mut g));
        let mut eps = match g.random_range(0..3) {
            0 => None,
            1 => Some(fuzz_r(&mut g)),
            _ => Some(g.random_range(0.0..1.0)),
        };
        if k % 2 == 1 {
            // the flags each measure takes, with hostile values among them
            match measure {
                "C" => (n, eps) = (None, None),
                "CN" | "c_n" => eps = None,
                "ceps" => (n, l) = (None, None),
                _ => (n, l, eps) = (None, None, None),
            }
        }
        let t0 = std::time::Instant::now();
        guarded("complexity", k, f.as_bytes(), || {
            let parsed = widenet::options::parse("--measure", measure);
            match parsed
                .and_then(|m| widenet::theory::complexity::complexity_json(&f, m, r, n, l, eps))
            {
                Ok(v) => {
                    // a value is a number or a string ("inf", or "8.81e4342" beyond f64)
                    let val = &v["value"];
                    assert!(val.is_number() || val.is_string(), "{v}");
                    if v["finite"] == serde_json::json!(true) {
                        assert_ne!(val.as_str(), Some("inf"), "{v}");
                    }
                    ok += 1;
                }
                Err(e) => {
                    let m = e.to_string();
                    assert!(!m.is_empty());
                    err += 1;
                }
            }
        });
        let secs = t0.elapsed().as_secs_f64();
        if secs > slowest.0 {
            let shown: String = f.chars().take(60).collect();
            slowest = (
                secs,
                format!("{shown:?} --measure {measure} --R {r} --N {n:?} --L {l:?} --eps {eps:?}"),
            );
        }
    }
    eprintln!(
        "fuzz_complexity_parser: {} inputs, {ok} evaluated, {err} refused; slowest {:.3} s: {}",
        iters(),
        slowest.0,
        slowest.1
    );
    assert!(ok > 0 && err > 0);
}
