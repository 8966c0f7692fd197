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

impl Split {
    /// "train" or "test".
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

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

/// Reads a whole file, inflating it when it is gzip-compressed.
///
/// Compression is detected by the gzip magic bytes `1f 8b`, not by the file
/// name. Multi-member gzip files are read to the end. A damaged or truncated
/// gzip stream gives [`Error::Format`] naming the file.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if raw.len() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
        let mut out = Vec::with_capacity(raw.len().saturating_mul(4));
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| {
                Error::format(path, format!("gzip stream is corrupt or truncated ({e})"))
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
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
