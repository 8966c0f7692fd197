//! MNIST in the IDX format (LeCun et al. 1998), plain or gzip-compressed.
//!
//! All IDX integers are big-endian. An images file starts with a 16-byte
//! header — magic 2051 (`00 00 08 03`: unsigned bytes, 3 dimensions), the image
//! count, the number of rows and of columns — followed by `count·rows·cols`
//! pixel bytes, image after image, row-major. A labels file starts with an
//! 8-byte header — magic 2049 (`00 00 08 01`) and the count — followed by
//! `count` label bytes in 0..=9.
//!
//! Seed 001 (Appendix A) trains on the first two MNIST classes; see
//! [`crate::data::labels::two_class`].

use super::{find_file, Input, LabeledImages, Split};
use crate::error::{Error, Result};
use std::path::Path;

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 2051;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 2049;

/// The contents of an IDX images file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Images {
    /// Number of images.
    pub count: usize,
    /// Rows per image (28 for MNIST).
    pub rows: usize,
    /// Columns per image (28 for MNIST).
    pub cols: usize,
    /// `count · rows · cols` pixel bytes, image after image, each row-major.
    pub pixels: Vec<u8>,
}

impl Images {
    /// Pixels per image (rows × cols).
    pub fn dim(&self) -> usize {
        self.rows * self.cols
    }
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn check_magic(path: &Path, bytes: &[u8], want: u32, what: &str) -> Result<()> {
    if bytes.len() < 4 {
        return Err(Error::format(
            path,
            format!(
                "file too short for an IDX {what} header ({} bytes)",
                bytes.len()
            ),
        ));
    }
    let magic = be_u32(bytes, 0);
    if magic != want {
        let other = match magic {
            IMAGES_MAGIC => " (this is an IDX images file)",
            LABELS_MAGIC => " (this is an IDX labels file)",
            _ => "",
        };
        return Err(Error::format(
            path,
            format!("bad IDX magic number {magic} for {what}: expected {want}{other}"),
        ));
    }
    Ok(())
}

fn check_length(path: &Path, got: usize, header: usize, body: usize, what: &str) -> Result<()> {
    let have = got - header;
    if have < body {
        return Err(Error::format(
            path,
            format!("truncated: the header declares {body} bytes of {what} but only {have} follow"),
        ));
    }
    if have > body {
        return Err(Error::format(
            path,
            format!(
                "{} unexpected bytes after the {body} bytes of {what} the header declares",
                have - body
            ),
        ));
    }
    Ok(())
}

/// Parses the bytes of an IDX images file; `path` only names it in errors.
pub fn parse_idx_images(path: &Path, bytes: &[u8]) -> Result<Images> {
    let (body, _) = images_body(path, bytes)?;
    let count = be_u32(bytes, 4) as usize;
    let rows = be_u32(bytes, 8) as usize;
    let cols = be_u32(bytes, 12) as usize;
    check_length(
        path,
        bytes.len(),
        16,
        body,
        &format!("pixels ({count} images of {rows}x{cols})"),
    )?;
    Ok(Images {
        count,
        rows,
        cols,
        pixels: bytes[16..].to_vec(),
    })
}

/// Parses the bytes of an IDX labels file; `path` only names it in errors.
pub fn parse_idx_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    check_magic(path, bytes, LABELS_MAGIC, "labels")?;
    if bytes.len() < 8 {
        return Err(Error::format(
            path,
            format!("truncated IDX labels header: {} of 8 bytes", bytes.len()),
        ));
    }
    let count = be_u32(bytes, 4) as usize;
    check_length(
        path,
        bytes.len(),
        8,
        count,
        &format!("labels ({count} labels)"),
    )?;
    let labels = bytes[8..].to_vec();
    if let Some((i, &l)) = labels.iter().enumerate().find(|(_, &l)| l > 9) {
        return Err(Error::format(
            path,
            format!("label {l} at index {i} is outside 0..=9"),
        ));
    }
    Ok(labels)
}

/// Reads the header (`header_len` bytes) of an IDX file, asks `declared` for
/// the body size it declares (which checks the magic), checks that size
/// against the file's length and the memory budget, and only then reads the
/// body: at most the declared bytes are ever read or inflated.
fn read_idx_bounded(
    path: &Path,
    header_len: usize,
    declared: impl Fn(&[u8]) -> Result<(usize, String)>,
) -> Result<Vec<u8>> {
    let mut input = Input::open(path)?;
    let mut bytes = vec![0u8; header_len];
    let got = input.read_full(&mut bytes)?;
    bytes.truncate(got);
    let (body, what) = declared(&bytes)?;
    if let (false, Some(len)) = (input.gz, input.file_len) {
        check_length(path, len as usize, header_len, body, &what)?;
    }
    crate::runtime::check_alloc(&format!("{} ({what})", path.display()), body as u128, 1)?;
    bytes.reserve_exact(body);
    input.read_rest(&mut bytes, body as u64, &what)?;
    Ok(bytes)
}

fn images_body(path: &Path, bytes: &[u8]) -> Result<(usize, String)> {
    check_magic(path, bytes, IMAGES_MAGIC, "images")?;
    if bytes.len() < 16 {
        return Err(Error::format(
            path,
            format!("truncated IDX images header: {} of 16 bytes", bytes.len()),
        ));
    }
    let count = be_u32(bytes, 4) as usize;
    let rows = be_u32(bytes, 8) as usize;
    let cols = be_u32(bytes, 12) as usize;
    if rows == 0 || cols == 0 {
        return Err(Error::format(
            path,
            format!("IDX header declares empty images ({rows}x{cols})"),
        ));
    }
    let body = count
        .checked_mul(rows)
        .and_then(|v| v.checked_mul(cols))
        .ok_or_else(|| {
            Error::format(
                path,
                format!("IDX header declares too many pixels ({count} x {rows} x {cols})"),
            )
        })?;
    Ok((body, format!("pixels ({count} images of {rows}x{cols})")))
}

/// Reads an IDX images file (magic 2051), plain or gzip-compressed (detected
/// by its magic bytes). Errors name the file: bad magic, a header or pixel
/// data shorter than declared, or bytes left over after the declared data.
/// The header is checked before the pixels are read, and at most the declared
/// number of bytes is read or inflated (a gzip bomb is refused).
pub fn read_idx_images(path: impl AsRef<Path>) -> Result<Images> {
    let path = path.as_ref();
    let bytes = read_idx_bounded(path, 16, |h| images_body(path, h))?;
    parse_idx_images(path, &bytes)
}

/// Reads an IDX labels file (magic 2049), plain or gzip-compressed. Errors
/// name the file: bad magic, truncation, leftover bytes, or a label above 9.
/// As for images, at most the declared number of bytes is read.
pub fn read_idx_labels(path: impl AsRef<Path>) -> Result<Vec<u8>> {
    let path = path.as_ref();
    let bytes = read_idx_bounded(path, 8, |h| {
        check_magic(path, h, LABELS_MAGIC, "labels")?;
        if h.len() < 8 {
            return Err(Error::format(
                path,
                format!("truncated IDX labels header: {} of 8 bytes", h.len()),
            ));
        }
        let count = be_u32(h, 4) as usize;
        Ok((count, format!("labels ({count} labels)")))
    })?;
    parse_idx_labels(path, &bytes)
}

/// The standard file names of one MNIST split, images then labels, each of
/// which is also accepted with `.gz` appended.
pub fn file_names(split: Split) -> ([&'static str; 2], [&'static str; 2]) {
    match split {
        Split::Train => (
            ["train-images-idx3-ubyte", "train-images.idx3-ubyte"],
            ["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"],
        ),
        Split::Test => (
            ["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"],
            ["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"],
        ),
    }
}

/// Loads one MNIST split from `dir`, which holds the standard files
/// (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, or the dotted variants
/// such as `train-images.idx3-ubyte`), each optionally gzipped as `*.gz`.
///
/// Errors: a missing file (listing every name looked for), any error of
/// [`read_idx_images`] / [`read_idx_labels`], or image and label counts that
/// differ (naming both files).
pub fn load_mnist(dir: impl AsRef<Path>, split: Split) -> Result<LabeledImages> {
    let dir = dir.as_ref();
    let (img_names, lab_names) = file_names(split);
    let locate = |names: &[&str], what: &str| {
        let (found, tried) = find_file(dir, names);
        found.ok_or_else(|| {
            Error::format(
                dir,
                format!(
                    "no MNIST {split} {what} file found; looked for {}",
                    tried.join(", ")
                ),
            )
        })
    };
    let img_path = locate(&img_names, "images")?;
    let lab_path = locate(&lab_names, "labels")?;
    let images = read_idx_images(&img_path)?;
    let labels = read_idx_labels(&lab_path)?;
    if images.count != labels.len() {
        return Err(Error::Shape(format!(
            "{} holds {} images but {} holds {} labels",
            img_path.display(),
            images.count,
            lab_path.display(),
            labels.len()
        )));
    }
    let dim = images.dim();
    Ok(LabeledImages {
        pixels: images.pixels,
        dim,
        labels,
    })
}

/// MNIST from `dir` (the files of [`load_mnist`]), the splits asked for (train,
/// test or both, train first), every image `labeling` keeps with its ±1 label
/// ([`crate::data::labeling`]: even-odd, one-vs-rest:K, pair:A,B), rows scaled to
/// unit norm (seed 001 §3.1): e.g. all 27,435 local images as one analysis.
pub fn load_labeled(
    dir: impl AsRef<Path>,
    splits: crate::data::labeling::Splits,
    labeling: crate::data::labeling::Labeling,
) -> Result<crate::data::Dataset> {
    let dir = dir.as_ref();
    let images = crate::data::labeling::load_splits(splits, |s| load_mnist(dir, s))?;
    Ok(crate::data::labeling::label_images(&images, labeling, None)?.0)
}
