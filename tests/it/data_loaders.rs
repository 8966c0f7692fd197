//! Tests of the data loaders: .npy, MNIST IDX and CIFAR-10 binary records.
//!
//! Every reference is built independently in the test (by hand from the
//! format specifications), never by the code under test.

use crate::support::{err_text, gz, idx_images, idx_labels, npy_bytes};
use std::path::{Path, PathBuf};
use widenet::data::cifar::{load_cifar10, read_batch};
use widenet::data::mnist::{load_mnist, read_idx_images, read_idx_labels};
use widenet::data::npy::{
    atomic_write, read_array, read_matrix, read_vector, write_array, write_matrix, write_vector,
};
use widenet::data::{LabeledImages, Split};
use widenet::Matrix;

// ----------------------------------------------------------------------------
// helpers

/// Deterministic "pixel" bytes that differ from image to image.
fn pixels(n: usize, dim: usize, salt: u8) -> Vec<u8> {
    (0..n * dim)
        .map(|k| ((k * 31 + 7 * (k / dim) + salt as usize) % 256) as u8)
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn assert_names(msg: &str, path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy();
    assert!(msg.contains(&*name), "message {msg:?} should name {name}");
}

fn cifar_records(labels: &[u8], salt: u8) -> Vec<u8> {
    let mut b = Vec::new();
    for (i, &l) in labels.iter().enumerate() {
        b.push(l);
        b.extend((0..3072).map(|k| ((k + 13 * i + salt as usize) % 251) as u8));
    }
    b
}

// ----------------------------------------------------------------------------
// MNIST IDX

#[test]
fn idx_plain_and_gzip_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let px = pixels(5, 12, 3);
    let raw = idx_images(5, 3, 4, &px);
    let labs = [0u8, 9, 3, 3, 7];
    let plain = write(dir.path(), "imgs", &raw);
    let zipped = write(dir.path(), "imgs_zipped_no_ext", &gz(&raw));
    let plain_named_gz = write(dir.path(), "plain.gz", &raw);
    for p in [&plain, &zipped, &plain_named_gz] {
        let im = read_idx_images(p).unwrap();
        assert_eq!((im.count, im.rows, im.cols), (5, 3, 4));
        assert_eq!(im.dim(), 12);
        assert_eq!(im.pixels, px);
    }
    let lraw = idx_labels(5, &labs);
    let lp = write(dir.path(), "labs", &lraw);
    let lz = write(dir.path(), "labs.gz", &gz(&lraw));
    assert_eq!(read_idx_labels(&lp).unwrap(), labs);
    assert_eq!(read_idx_labels(&lz).unwrap(), labs);
}

#[test]
fn idx_corruptions_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let px = pixels(4, 6, 1);

    // bad magic: a labels file read as images, and garbage
    let p = write(
        dir.path(),
        "bad_magic_images",
        &idx_labels(4, &[1, 2, 3, 4]),
    );
    let m = err_text(read_idx_images(&p));
    assert_names(&m, &p);
    assert!(m.contains("magic"), "{m}");
    let p = write(dir.path(), "bad_magic_labels", &idx_images(4, 2, 3, &px));
    let m = err_text(read_idx_labels(&p));
    assert_names(&m, &p);
    assert!(m.contains("magic"), "{m}");

    // truncated pixel data (one byte short), plain and gzipped
    let raw = idx_images(4, 2, 3, &px[..px.len() - 1]);
    let p = write(dir.path(), "trunc_images", &raw);
    let m = err_text(read_idx_images(&p));
    assert_names(&m, &p);
    assert!(m.contains("truncated"), "{m}");
    let p = write(dir.path(), "trunc_images.gz", &gz(&raw));
    assert_names(&err_text(read_idx_images(&p)), &p);

    // truncated header
    let p = write(dir.path(), "short_header", &idx_images(4, 2, 3, &[])[..10]);
    assert_names(&err_text(read_idx_images(&p)), &p);
    let p = write(dir.path(), "empty", &[]);
    assert_names(&err_text(read_idx_images(&p)), &p);

    // truncated labels
    let p = write(dir.path(), "trunc_labels", &idx_labels(5, &[1, 2, 3, 4]));
    let m = err_text(read_idx_labels(&p));
    assert_names(&m, &p);
    assert!(m.contains("truncated"), "{m}");

    // label 10
    let p = write(dir.path(), "label10", &idx_labels(4, &[1, 2, 10, 4]));
    let m = err_text(read_idx_labels(&p));
    assert_names(&m, &p);
    assert!(m.contains("10"), "{m}");

    // bytes beyond what the header declares
    let mut extra = idx_images(4, 2, 3, &px);
    extra.push(0);
    let p = write(dir.path(), "extra_images", &extra);
    assert_names(&err_text(read_idx_images(&p)), &p);

    // a gzip stream cut short
    let z = gz(&idx_images(4, 2, 3, &px));
    let p = write(dir.path(), "cut.gz", &z[..z.len() / 2]);
    let m = err_text(read_idx_images(&p));
    assert_names(&m, &p);
    assert!(m.contains("gzip"), "{m}");

    // a missing file is an I/O error naming it
    let p = dir.path().join("does_not_exist");
    assert_names(&err_text(read_idx_images(&p)), &p);
}

#[test]
fn load_mnist_finds_standard_and_dotted_names() {
    let dir = tempfile::tempdir().unwrap();
    let train_px = pixels(6, 4, 5);
    let train_lab = [5u8, 0, 4, 1, 9, 2];
    let test_px = pixels(3, 4, 9);
    let test_lab = [7u8, 2, 1];
    // train: plain standard names; test: gzipped dotted names
    write(
        dir.path(),
        "train-images-idx3-ubyte",
        &idx_images(6, 2, 2, &train_px),
    );
    write(
        dir.path(),
        "train-labels-idx1-ubyte",
        &idx_labels(6, &train_lab),
    );
    write(
        dir.path(),
        "t10k-images.idx3-ubyte.gz",
        &gz(&idx_images(3, 2, 2, &test_px)),
    );
    write(
        dir.path(),
        "t10k-labels.idx1-ubyte.gz",
        &gz(&idx_labels(3, &test_lab)),
    );
    let tr = load_mnist(dir.path(), Split::Train).unwrap();
    assert_eq!(
        tr,
        LabeledImages {
            pixels: train_px.clone(),
            dim: 4,
            labels: train_lab.to_vec()
        }
    );
    assert_eq!(tr.n(), 6);
    assert_eq!(tr.image(2), &train_px[8..12]);
    let te = load_mnist(dir.path(), Split::Test).unwrap();
    assert_eq!(te.pixels, test_px);
    assert_eq!(te.labels, test_lab);
    assert_eq!(te.dim, 4);
}

#[test]
fn load_mnist_missing_files_and_count_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let m = err_text(load_mnist(dir.path(), Split::Test));
    for name in [
        "t10k-images-idx3-ubyte",
        "t10k-images-idx3-ubyte.gz",
        "t10k-images.idx3-ubyte",
        "t10k-images.idx3-ubyte.gz",
    ] {
        assert!(m.contains(name), "{m} should list {name}");
    }
    // images present, labels missing
    write(
        dir.path(),
        "t10k-images-idx3-ubyte",
        &idx_images(2, 1, 2, &[1, 2, 3, 4]),
    );
    let m = err_text(load_mnist(dir.path(), Split::Test));
    assert!(m.contains("t10k-labels-idx1-ubyte.gz"), "{m}");
    // labels with a different count
    write(
        dir.path(),
        "t10k-labels-idx1-ubyte",
        &idx_labels(3, &[1, 2, 3]),
    );
    let m = err_text(load_mnist(dir.path(), Split::Test));
    assert!(m.contains("t10k-images-idx3-ubyte") && m.contains("t10k-labels-idx1-ubyte"));
    assert!(m.contains('2') && m.contains('3'), "{m}");
}

// ----------------------------------------------------------------------------
// CIFAR-10

#[test]
fn cifar_batches_read_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let l1 = [0u8, 1, 9];
    let l3 = [3u8, 0];
    let b1 = cifar_records(&l1, 1);
    let b3 = cifar_records(&l3, 2);
    // batch 1 plain, batch 3 gzipped, batch 2 absent
    write(dir.path(), "data_batch_1.bin", &b1);
    write(dir.path(), "data_batch_3.bin.gz", &gz(&b3));
    write(
        dir.path(),
        "test_batch.bin.gz",
        &gz(&cifar_records(&[4], 7)),
    );
    let tr = load_cifar10(dir.path(), Split::Train).unwrap();
    assert_eq!(tr.dim, 3072);
    assert_eq!(tr.labels, vec![0, 1, 9, 3, 0]);
    // pixels: each record's bytes after its label byte, in order
    let mut want = Vec::new();
    for rec in b1.chunks(3073).chain(b3.chunks(3073)) {
        want.extend_from_slice(&rec[1..]);
    }
    assert_eq!(tr.pixels, want);
    let te = load_cifar10(dir.path(), Split::Test).unwrap();
    assert_eq!(te.labels, vec![4]);
    assert_eq!(te.pixels, cifar_records(&[4], 7)[1..].to_vec());
    assert_eq!(
        read_batch(dir.path().join("data_batch_1.bin"))
            .unwrap()
            .labels,
        l1
    );
}

#[test]
fn cifar_corruptions_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // missing files: the message lists what was looked for
    let m = err_text(load_cifar10(dir.path(), Split::Train));
    for name in ["data_batch_1.bin", "data_batch_5.bin.gz"] {
        assert!(m.contains(name), "{m} should list {name}");
    }
    let m = err_text(load_cifar10(dir.path(), Split::Test));
    assert!(m.contains("test_batch.bin"), "{m}");

    // size not a multiple of 3073
    let mut rec = cifar_records(&[1, 2], 0);
    rec.pop();
    let p = write(dir.path(), "test_batch.bin", &rec);
    let m = err_text(load_cifar10(dir.path(), Split::Test));
    assert_names(&m, &p);
    assert!(m.contains("3073"), "{m}");

    // label 10 in a gzipped batch
    std::fs::remove_file(&p).unwrap();
    let p = write(
        dir.path(),
        "data_batch_2.bin.gz",
        &gz(&cifar_records(&[1, 10], 0)),
    );
    let m = err_text(load_cifar10(dir.path(), Split::Train));
    assert_names(&m, &p);
    assert!(m.contains("10"), "{m}");
}

// ----------------------------------------------------------------------------
// .npy

fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The exact bytes of `np.save` for a float64 array of shape (2, 3).
fn reference_npy_2x3(data: &[f64; 6]) -> Vec<u8> {
    let b = npy_bytes(
        1,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
        &f64_bytes(data),
    );
    // 10 prefix bytes + 118 header bytes: the data starts at byte 128
    assert_eq!(&b[..10], b"\x93NUMPY\x01\x00\x76\x00");
    assert_eq!(b[127], b'\n');
    assert_eq!(b.len(), 128 + 48);
    b
}

#[test]
fn npy_hand_built_header_parses_and_writer_matches_it() {
    let dir = tempfile::tempdir().unwrap();
    let vals = [1.0, -2.5, 3.25, 0.0, 1e-300, f64::MAX];
    let reference = reference_npy_2x3(&vals);
    let p = write(dir.path(), "ref.npy", &reference);
    let (shape, data) = read_array::<f64>(&p).unwrap();
    assert_eq!(shape, vec![2, 3]);
    assert_eq!(data, vals.to_vec());
    let m = read_matrix::<f64>(&p).unwrap();
    assert_eq!(m.shape(), (2, 3));
    assert_eq!(m.get(1, 2), f64::MAX);
    assert_eq!(m.get(0, 1), -2.5);

    // our writer produces exactly numpy's bytes
    let out = dir.path().join("ours.npy");
    write_matrix(&out, &Matrix::from_vec(2, 3, vals.to_vec()).unwrap()).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), reference);
}

#[test]
fn npy_other_header_spellings_parse() {
    let dir = tempfile::tempdir().unwrap();
    // different key order, double quotes, 1-tuple, version 2.0 (u32 length)
    let data: Vec<u8> = [1.5f32, -0.25, 8.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let b = npy_bytes(
        2,
        "{\"shape\": (3,), \"fortran_order\": False, \"descr\": \"<f4\"}",
        &data,
    );
    assert_eq!(b.len() % 64, 12);
    let p = write(dir.path(), "v2.npy", &b);
    let (shape, data) = read_array::<f64>(&p).unwrap();
    assert_eq!(shape, vec![3]);
    assert_eq!(data, vec![1.5, -0.25, 8.0]);
    assert_eq!(read_vector::<f32>(&p).unwrap(), vec![1.5f32, -0.25, 8.0]);
}

#[test]
fn npy_round_trips_f32_f64_any_rank() {
    let dir = tempfile::tempdir().unwrap();
    let shapes: [&[usize]; 5] = [&[7], &[3, 4], &[2, 3, 4], &[0, 5], &[]];
    for (k, shape) in shapes.iter().enumerate() {
        let n: usize = shape.iter().product();
        let v64: Vec<f64> = (0..n).map(|i| (i as f64 - 3.0) / 7.0).collect();
        let v32: Vec<f32> = v64.iter().map(|&v| v as f32).collect();
        let p64 = dir.path().join(format!("a{k}_64.npy"));
        let p32 = dir.path().join(format!("a{k}_32.npy"));
        write_array(&p64, shape, &v64).unwrap();
        write_array(&p32, shape, &v32).unwrap();
        let (s, d) = read_array::<f64>(&p64).unwrap();
        assert_eq!((s.as_slice(), d), (*shape, v64.clone()));
        let (s, d) = read_array::<f32>(&p32).unwrap();
        assert_eq!((s.as_slice(), d), (*shape, v32.clone()));
        // cross-precision: f32 file widened exactly, f64 file rounded
        let (_, d) = read_array::<f64>(&p32).unwrap();
        assert_eq!(d, v32.iter().map(|&v| v as f64).collect::<Vec<_>>());
        let (_, d) = read_array::<f32>(&p64).unwrap();
        assert_eq!(d, v32);
        // dtype written: '<f4' / '<f8' in the header; the data starts at a 64-byte boundary
        let b32 = std::fs::read(&p32).unwrap();
        let b64 = std::fs::read(&p64).unwrap();
        assert!(String::from_utf8_lossy(&b32).contains("'descr': '<f4'"));
        assert!(String::from_utf8_lossy(&b64).contains("'descr': '<f8'"));
        assert_eq!((b32.len() - 4 * n) % 64, 0);
        assert_eq!((b64.len() - 8 * n) % 64, 0);
        let hl = u16::from_le_bytes([b64[8], b64[9]]) as usize;
        assert_eq!(b64[10 + hl - 1], b'\n');
    }
    // 1-D header is written as a Python 1-tuple
    let b = std::fs::read(dir.path().join("a0_64.npy")).unwrap();
    assert!(String::from_utf8_lossy(&b).contains("'shape': (7,)"));

    // vectors: write_vector, and 2-D single row / column read as vectors
    let v = vec![1.0f64, 2.0, 3.0];
    let p = dir.path().join("sub/dir/v.npy");
    write_vector(&p, &v).unwrap(); // creates parent directories
    assert_eq!(read_vector::<f64>(&p).unwrap(), v);
    write_array(&p, &[1, 3], &v).unwrap();
    assert_eq!(read_vector::<f64>(&p).unwrap(), v);
    write_array(&p, &[3, 1], &v).unwrap();
    assert_eq!(read_vector::<f64>(&p).unwrap(), v);
    // no temporary files left behind
    let left: Vec<_> = std::fs::read_dir(dir.path().join("sub/dir"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("v.npy")]);
}

#[test]
fn npy_rejects_wrong_shapes_dtypes_and_damage() {
    let dir = tempfile::tempdir().unwrap();
    let good = reference_npy_2x3(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);

    // matrix from a 3-D file, vector from a 2x3 file
    let p3 = dir.path().join("three.npy");
    write_array(&p3, &[2, 2, 2], &[0.0f64; 8]).unwrap();
    let m = err_text(read_matrix::<f64>(&p3));
    assert_names(&m, &p3);
    assert!(m.contains("(2, 2, 2)"), "{m}");
    let p = write(dir.path(), "mat.npy", &good);
    let m = err_text(read_vector::<f64>(&p));
    assert_names(&m, &p);
    assert!(m.contains("(2, 3)"), "{m}");

    // Fortran order and other dtypes, in otherwise valid files
    let six = f64_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let dict = |descr: &str, fortran: &str, shape: &str| {
        format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}")
    };
    let p = write(
        dir.path(),
        "fortran.npy",
        &npy_bytes(1, &dict("<f8", "True", "(2, 3)"), &six),
    );
    let m = err_text(read_array::<f64>(&p));
    assert_names(&m, &p);
    assert!(m.contains("Fortran"), "{m}");
    let p = write(
        dir.path(),
        "int.npy",
        &npy_bytes(1, &dict("<i8", "False", "(2, 3)"), &six),
    );
    let m = err_text(read_array::<f64>(&p));
    assert_names(&m, &p);
    assert!(m.contains("'<i8'") && m.contains("dtype"), "{m}");
    for descr in [">f8", "|u1", "<f2", "<c16"] {
        let p = write(
            dir.path(),
            "other.npy",
            &npy_bytes(1, &dict(descr, "False", "(2, 3)"), &six),
        );
        let m = err_text(read_array::<f64>(&p));
        assert!(m.contains(descr) && m.contains("other.npy"), "{m}");
    }
    let p = write(
        dir.path(),
        "record.npy",
        &npy_bytes(
            1,
            "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (6,), }",
            &six,
        ),
    );
    let m = err_text(read_array::<f64>(&p));
    assert!(m.contains("structured") && m.contains("record.npy"), "{m}");

    // truncated data, truncated header, trailing bytes, garbage, empty
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("trunc_data.npy", good[..good.len() - 3].to_vec()),
        ("trunc_header.npy", good[..40].to_vec()),
        ("trailing.npy", [good.clone(), vec![0u8; 8]].concat()),
        (
            "garbage.npy",
            (0..300u32).map(|i| (i * 97 % 256) as u8).collect(),
        ),
        ("empty.npy", vec![]),
        ("magic_only.npy", b"\x93NUMPY".to_vec()),
        ("bad_version.npy", {
            let mut g = good.clone();
            g[6] = 9;
            g
        }),
        (
            "bad_dict.npy",
            npy_bytes(1, &dict("<f8", "False", "(2, x)"), &six),
        ),
        (
            "no_shape.npy",
            npy_bytes(1, "{'descr': '<f8', 'fortran_order': False}", &six),
        ),
    ];
    for (name, bytes) in cases {
        let p = write(dir.path(), name, &bytes);
        let m = err_text(read_array::<f64>(&p));
        assert_names(&m, &p);
    }
}

#[test]
fn atomic_write_replaces_and_creates_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a/b/c.bin");
    atomic_write(&p, b"first").unwrap();
    atomic_write(&p, b"second").unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"second");
    assert_eq!(
        std::fs::read_dir(dir.path().join("a/b")).unwrap().count(),
        1
    );
}

// ----------------------------------------------------------------------------
// real data (shared/data), when present

fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        println!(
            "note: {} not found; skipping the real-data test",
            p.display()
        );
        None
    }
}

#[test]
fn real_mnist_and_cifar_match_the_readme() {
    let Some(root) = shared_data() else { return };
    let mnist = root.join("mnist");
    let te = load_mnist(&mnist, Split::Test).unwrap();
    assert_eq!(te.n(), 10_000);
    assert_eq!(te.dim, 784);
    assert_eq!(
        te.label_counts(),
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    assert_eq!(&te.labels[..10], &[7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    let mean = te.pixels.iter().map(|&p| p as f64).sum::<f64>() / te.pixels.len() as f64;
    assert!((mean - 33.8).abs() < 0.1, "mean pixel {mean}");

    let tr = load_mnist(&mnist, Split::Train).unwrap();
    assert_eq!(tr.n(), 17_435);
    assert_eq!(
        tr.label_counts(),
        [1732, 1981, 1693, 1821, 1678, 1539, 1727, 1844, 1676, 1744]
    );
    assert_eq!(
        &tr.labels[..20],
        &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5, 3, 6, 1, 7, 2, 8, 6, 9]
    );

    let cifar = root.join("cifar10-2class");
    let ctr = load_cifar10(&cifar, Split::Train).unwrap();
    assert_eq!(ctr.n(), 1041);
    assert_eq!(ctr.dim, 3072);
    assert_eq!(&ctr.label_counts()[..2], &[517, 524]);
    let cte = load_cifar10(&cifar, Split::Test).unwrap();
    assert_eq!(cte.n(), 198);
    assert_eq!(&cte.label_counts()[..2], &[105, 93]);
}
