//! CIFAR-10 in its binary-release record format (Krizhevsky 2009), plain or
//! gzip-compressed.
//!
//! A batch file has no header: it is a sequence of 3073-byte records, each a
//! label byte (0..=9) followed by 3072 pixel bytes — the 1024 red, then 1024
//! green, then 1024 blue values of a 32×32 image, each plane row-major. The
//! training set is `data_batch_1.bin` .. `data_batch_5.bin`, the test set
//! `test_batch.bin`.
//!
//! Seed 001 (Appendix A) uses the first two classes (airplane = +1,
//! automobile = −1); see [`crate::data::labels::two_class`].

use super::{find_file, read_maybe_gz_at_most, LabeledImages, Split};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Pixels per CIFAR-10 image (3 colour planes of 32×32).
pub const PIXELS: usize = 3072;
/// Bytes per record: one label byte and the pixels.
pub const RECORD: usize = PIXELS + 1;
/// The most records read from one batch file: 100 times an official batch
/// (10000 records), so that a gzip bomb or a device is refused early.
pub const MAX_RECORDS: usize = 1_000_000;

fn read_batch_bytes(path: &Path) -> Result<Vec<u8>> {
    read_maybe_gz_at_most(
        path,
        (MAX_RECORDS * RECORD) as u64,
        &format!("a CIFAR-10 batch ({MAX_RECORDS} records of {RECORD} bytes)"),
    )
}

/// Parses the bytes of a CIFAR-10 batch file, appending its records to
/// `out`; `path` only names the file in errors.
pub fn parse_batch(path: &Path, bytes: &[u8], out: &mut LabeledImages) -> Result<()> {
    if !bytes.len().is_multiple_of(RECORD) {
        return Err(Error::format(
            path,
            format!(
                "wrong record size or truncated file: {} bytes is not a multiple of the \
                 {RECORD}-byte CIFAR-10 record ({} whole records and {} bytes left over)",
                bytes.len(),
                bytes.len() / RECORD,
                bytes.len() % RECORD
            ),
        ));
    }
    let n = bytes.len() / RECORD;
    out.labels.reserve(n);
    out.pixels.reserve(n * PIXELS);
    for (i, rec) in bytes.chunks_exact(RECORD).enumerate() {
        if rec[0] > 9 {
            return Err(Error::format(
                path,
                format!(
                    "label {} of record {i} (byte offset {}) is outside 0..=9",
                    rec[0],
                    i * RECORD
                ),
            ));
        }
        out.labels.push(rec[0]);
        out.pixels.extend_from_slice(&rec[1..]);
    }
    Ok(())
}

/// Reads one CIFAR-10 batch file (plain or gzip, detected by magic bytes).
pub fn read_batch(path: impl AsRef<Path>) -> Result<LabeledImages> {
    let path = path.as_ref();
    let bytes = read_batch_bytes(path)?;
    let mut out = LabeledImages {
        pixels: Vec::new(),
        dim: PIXELS,
        labels: Vec::new(),
    };
    parse_batch(path, &bytes, &mut out)?;
    Ok(out)
}

/// The batch files of a split in `dir` that exist, in order, and every name
/// looked for.
fn batch_files(dir: &Path, split: Split) -> (Vec<PathBuf>, Vec<String>) {
    let names: Vec<String> = match split {
        Split::Train => (1..=5).map(|k| format!("data_batch_{k}.bin")).collect(),
        Split::Test => vec!["test_batch.bin".to_string()],
    };
    let mut found = Vec::new();
    let mut tried = Vec::new();
    for name in &names {
        let (f, t) = find_file(dir, &[name.as_str()]);
        tried.extend(t);
        if let Some(p) = f {
            found.push(p);
        }
    }
    (found, tried)
}

/// Loads one CIFAR-10 split from `dir`.
///
/// Train reads whichever of `data_batch_1.bin` .. `data_batch_5.bin` are
/// present (at least one is required), in that order; Test reads
/// `test_batch.bin`. Each may be gzipped (`*.gz`). When `dir` holds none of
/// them, its `cifar-10-batches-bin` subdirectory (the layout of the official
/// archive) is tried as well.
///
/// Errors name the file: a size that is not a multiple of 3073 bytes, a
/// label above 9, or no batch file at all (listing the names looked for).
pub fn load_cifar10(dir: impl AsRef<Path>, split: Split) -> Result<LabeledImages> {
    let dir = dir.as_ref();
    let (mut files, tried) = batch_files(dir, split);
    if files.is_empty() {
        let sub = dir.join("cifar-10-batches-bin");
        if sub.is_dir() {
            files = batch_files(&sub, split).0;
        }
    }
    if files.is_empty() {
        return Err(Error::format(
            dir,
            format!(
                "no CIFAR-10 {split} batch file found; looked for {} (also under \
                 cifar-10-batches-bin/)",
                tried.join(", ")
            ),
        ));
    }
    let mut out = LabeledImages {
        pixels: Vec::new(),
        dim: PIXELS,
        labels: Vec::new(),
    };
    for f in &files {
        let bytes = read_batch_bytes(f)?;
        parse_batch(f, &bytes, &mut out)?;
    }
    Ok(out)
}
