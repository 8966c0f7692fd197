//! Data: loaders for real datasets (MNIST IDX, CIFAR-10 binary), `.npy`
//! exchange with numpy, label operations and synthetic concept classes.
//!
//! The real-data pipeline follows seed 001 (Arora et al., "Fine-Grained
//! Analysis of Optimization and Generalization for Overparameterized Two-Layer
//! Neural Networks"), Appendix A: keep the first two classes of MNIST or
//! CIFAR-10, label the first class +1 and the other −1, and scale every image
//! to unit Euclidean norm. [`mnist`] and [`cifar`] read the files into a
//! [`LabeledImages`]; [`labels`] turns that into a [`labels::Dataset`].

pub mod cifar;
pub mod labeling;
pub mod labels;
pub mod mnist;
pub mod npy;
pub mod synthetic;

pub use labels::Dataset;

use crate::error::{Error, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Which part of a dataset to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Split {
    /// The training set (MNIST `train-*`, CIFAR-10 `data_batch_*`).
    Train,
    /// The test set (MNIST `t10k-*`, CIFAR-10 `test_batch`).
    Test,
}

crate::options::option_enum!(Split, "split", { Train => "train", Test => "test" });

/// A dataset of labelled images that the loaders read (MNIST or CIFAR-10 files).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatasetName {
    /// MNIST IDX files.
    Mnist,
    /// CIFAR-10 binary batches.
    Cifar10,
}

crate::options::option_enum!(DatasetName, "dataset", { Mnist => "mnist", Cifar10 => "cifar10" });

/// Labelled 8-bit images, as stored by MNIST and CIFAR-10.
///
/// There are `n = labels.len()` images; image `i` is
/// `pixels[i * dim..(i + 1) * dim]` in the file's byte order (MNIST: 28×28
/// row-major; CIFAR-10: the red, green and blue 32×32 planes one after the
/// other).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabeledImages {
    /// All pixels, image after image.
    pub pixels: Vec<u8>,
    /// Pixels per image (784 for MNIST, 3072 for CIFAR-10).
    pub dim: usize,
    /// One class label per image (0..=9).
    pub labels: Vec<u8>,
}

impl LabeledImages {
    /// Number of images.
    pub fn n(&self) -> usize {
        self.labels.len()
    }

    /// The pixels of image `i`.
    ///
    /// # Panics
    /// When `i >= self.n()`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * self.dim..(i + 1) * self.dim]
    }

    /// How many images carry each label 0..=9 (labels above 9 are not counted).
    pub fn label_counts(&self) -> [usize; 10] {
        let mut c = [0usize; 10];
        for &l in &self.labels {
            if let Some(slot) = c.get_mut(l as usize) {
                *slot += 1;
            }
        }
        c
    }

    /// Checks that `pixels` holds exactly `n × dim` bytes.
    pub fn check(&self) -> Result<()> {
        let want = self.labels.len().checked_mul(self.dim);
        if want != Some(self.pixels.len()) {
            return Err(Error::Shape(format!(
                "{} pixel bytes cannot hold {} images of {} pixels",
                self.pixels.len(),
                self.labels.len(),
                self.dim
            )));
        }
        Ok(())
    }
}

/// Bytes inflated from a gzip file before the compression-ratio rule applies.
const GZ_FREE_BYTES: u64 = 64 << 20;
/// The largest compression ratio accepted beyond [`GZ_FREE_BYTES`]: image data
/// such as MNIST compresses about 6:1, while a gzip bomb reaches deflate's
/// maximum of about 1000:1.
const GZ_MAX_RATIO: u64 = 100;
/// The most bytes read from a stream whose length is unknown (a pipe, a
/// device such as `/dev/zero`) when no header bounds it.
const STREAM_MAX_BYTES: u64 = 4 << 30;

/// An input file opened for reading, inflated on the fly when it is
/// gzip-compressed (detected by the magic bytes `1f 8b`, not by the name).
pub(crate) struct Input {
    path: PathBuf,
    reader: Box<dyn Read>,
    /// Whether the file is gzip-compressed.
    pub(crate) gz: bool,
    /// The file's length on disk, when it is a regular file.
    pub(crate) file_len: Option<u64>,
}

impl Input {
    /// Opens `path`; reads nothing but the two magic bytes.
    pub(crate) fn open(path: &Path) -> Result<Input> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Err(Error::format(path, "is a directory, not a data file"));
        }
        let file_len = meta.is_file().then_some(meta.len());
        let mut buf = std::io::BufReader::new(file);
        let head = std::io::BufRead::fill_buf(&mut buf).map_err(|e| Error::io(path, e))?;
        let gz = head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b;
        let reader: Box<dyn Read> = if gz {
            Box::new(flate2::read::MultiGzDecoder::new(buf))
        } else {
            Box::new(buf)
        };
        Ok(Input {
            path: path.to_path_buf(),
            reader,
            gz,
            file_len,
        })
    }

    /// The most decompressed bytes accepted from this input: the memory
    /// budget, and for gzip also [`GZ_MAX_RATIO`] times the compressed size
    /// (at least [`GZ_FREE_BYTES`]); for a stream of unknown length at most
    /// [`STREAM_MAX_BYTES`].
    pub(crate) fn default_limit(&self) -> u64 {
        let budget = crate::runtime::memory_budget();
        let by_kind = match (self.gz, self.file_len) {
            (true, Some(len)) => GZ_FREE_BYTES.max(len.saturating_mul(GZ_MAX_RATIO)),
            (false, Some(len)) => len,
            (_, None) => STREAM_MAX_BYTES,
        };
        budget.min(by_kind)
    }

    fn read_err(&self, e: std::io::Error) -> Error {
        if self.gz {
            Error::format(
                &self.path,
                format!("gzip stream is corrupt or truncated ({e})"),
            )
        } else {
            Error::io(&self.path, e)
        }
    }

    /// Reads up to `buf.len()` bytes (fewer only at the end of the data).
    pub(crate) fn read_full(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut got = 0;
        while got < buf.len() {
            match self.reader.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.read_err(e)),
            }
        }
        Ok(got)
    }

    /// Reads the rest of the data into `out`, refusing (with an error naming
    /// the file and `what`) more than `limit` bytes; nothing beyond
    /// `limit + 1` bytes is ever inflated or read.
    pub(crate) fn read_rest(&mut self, out: &mut Vec<u8>, limit: u64, what: &str) -> Result<()> {
        let start = out.len();
        (&mut self.reader)
            .take(limit.saturating_add(1))
            .read_to_end(out)
            .map_err(|e| self.read_err(e))?;
        if (out.len() - start) as u64 > limit {
            out.truncate(start);
            return Err(self.too_long(limit, what));
        }
        Ok(())
    }

    fn too_long(&self, limit: u64, what: &str) -> Error {
        let kind = if self.gz { "decompressed data" } else { "file" };
        Error::format(
            &self.path,
            format!(
                "the {kind} holds more than {limit} bytes, the most accepted for {what} \
                 (a gzip bomb, trailing bytes or a device is refused before it is read whole)"
            ),
        )
    }
}

/// Reads a whole file, inflating it when it is gzip-compressed.
///
/// Compression is detected by the gzip magic bytes `1f 8b`, not by the file
/// name. Multi-member gzip files are read to the end. A damaged or truncated
/// gzip stream gives [`Error::Format`] naming the file. At most
/// [`Input::default_limit`] bytes are read: the memory budget, a compression
/// ratio of 100:1 beyond 64 MiB for gzip (a bomb is refused, naming the file),
/// and 4 GiB from a stream of unknown length.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    read_maybe_gz_at_most(path, u64::MAX, "a data file")
}

/// [`read_maybe_gz`] reading at most `cap` bytes (and at most
/// [`Input::default_limit`]); more is an error naming the file and `what`.
pub(crate) fn read_maybe_gz_at_most(path: &Path, cap: u64, what: &str) -> Result<Vec<u8>> {
    let mut input = Input::open(path)?;
    let limit = input.default_limit().min(cap);
    if let (false, Some(len)) = (input.gz, input.file_len) {
        if len > limit {
            return Err(input.too_long(limit, what));
        }
    }
    let mut out = Vec::new();
    input.read_rest(&mut out, limit, what)?;
    Ok(out)
}

/// The first of `names` (each tried as given and with `.gz` appended) that
/// exists in `dir`, or `None`. Returns the candidates tried, in order, as well.
pub(crate) fn find_file(dir: &Path, names: &[&str]) -> (Option<PathBuf>, Vec<String>) {
    let mut tried = Vec::new();
    for name in names {
        for cand in [name.to_string(), format!("{name}.gz")] {
            let p = dir.join(&cand);
            tried.push(cand);
            if p.is_file() {
                return (Some(p), tried);
            }
        }
    }
    (None, tried)
}
pub mod elman_concepts;
pub mod resnet_targets;
pub mod rnn_concepts;
