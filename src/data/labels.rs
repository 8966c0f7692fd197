//! Datasets of unit-norm inputs with ±1 labels, and the label operations of
//! seed 001's experiments (Appendix A):
//!
//! * keep the first two classes, label +1 for the first and −1 for the other
//!   ([`two_class`]);
//! * scale every input to ‖x‖₂ = 1, the standing assumption of §3.1
//!   ([`normalize_rows`]);
//! * split into training and validation sets ([`train_val_split`]);
//! * for Figure 2, replace the labels of a portion p of the data, chosen
//!   uniformly at random, by unif{−1, +1} ([`randomize_labels`]).

use super::npy;
use super::LabeledImages;
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use crate::rng::{self, WRng};
use std::path::Path;

/// Inputs (one per row) and real-valued labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// n × d inputs, one per row.
    pub x: Matrix<f64>,
    /// n labels (±1 for classification).
    pub y: Vec<f64>,
}

impl Dataset {
    /// Builds a dataset, checking that there is one label per row.
    pub fn new(x: Matrix<f64>, y: Vec<f64>) -> Result<Self> {
        if x.rows() != y.len() {
            return Err(Error::Shape(format!(
                "{} inputs but {} labels",
                x.rows(),
                y.len()
            )));
        }
        Ok(Dataset { x, y })
    }
    /// Number of examples.
    pub fn n(&self) -> usize {
        self.y.len()
    }
    /// Input dimension.
    pub fn d(&self) -> usize {
        self.x.cols()
    }
    /// The examples listed in `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Dataset {
        Dataset {
            x: self.x.select_rows(idx),
            y: idx.iter().map(|&i| self.y[i]).collect(),
        }
    }
}

/// The images of classes `first` and `second`, in file order, with label +1
/// for `first` and −1 for `second` (seed 001, Appendix A); pixels become f64
/// unchanged (scale is irrelevant once [`normalize_rows`] is applied).
///
/// `limit` keeps only the first `limit` such images. Errors: `first ==
/// second`, a class that does not occur at all, `limit == Some(0)`, or
/// inconsistent `images`.
pub fn two_class(
    images: &LabeledImages,
    first: u8,
    second: u8,
    limit: Option<usize>,
) -> Result<Dataset> {
    images.check()?;
    if first == second {
        return Err(Error::invalid(
            "classes",
            format!("the two classes must differ, both are {first}"),
        ));
    }
    if limit == Some(0) {
        return Err(Error::invalid("limit", "must be at least 1"));
    }
    for c in [first, second] {
        if !images.labels.contains(&c) {
            return Err(Error::invalid(
                "classes",
                format!("class {c} does not occur among the {} images", images.n()),
            ));
        }
    }
    let cap = limit.unwrap_or(usize::MAX);
    let mut data = Vec::new();
    let mut y = Vec::new();
    for (i, &l) in images.labels.iter().enumerate() {
        if y.len() >= cap {
            break;
        }
        let label = if l == first {
            1.0
        } else if l == second {
            -1.0
        } else {
            continue;
        };
        y.push(label);
        data.extend(images.image(i).iter().map(|&p| p as f64));
    }
    let x = Matrix::from_vec(y.len(), images.dim, data)?;
    Ok(Dataset { x, y })
}

/// Scales every row to unit Euclidean norm (seed 001, §3.1 and Appendix A:
/// ‖x_i‖₂ = 1).
///
/// An all-zero or non-finite row is an error naming its index; `x` is left
/// unchanged in that case.
pub fn normalize_rows(x: &mut Matrix<f64>) -> Result<()> {
    let norms: Vec<f64> = (0..x.rows())
        .map(|i| x.row(i).iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    for (i, &nrm) in norms.iter().enumerate() {
        if !nrm.is_finite() {
            return Err(Error::Numerical(format!(
                "row {i} has a non-finite entry; cannot scale it to unit norm"
            )));
        }
        if nrm == 0.0 {
            return Err(Error::Numerical(format!(
                "row {i} is all zeros; it cannot be scaled to unit norm \
                 (seed 001 assumes every input has ‖x‖ = 1)"
            )));
        }
    }
    for (i, &nrm) in norms.iter().enumerate() {
        for v in x.row_mut(i) {
            *v /= nrm;
        }
    }
    Ok(())
}

/// A random disjoint split of `ds` into `n_train` training and `n_val`
/// validation examples (each kept in the original order). Errors when
/// `n_train + n_val > n`.
pub fn train_val_split(
    ds: &Dataset,
    n_train: usize,
    n_val: usize,
    rng: &mut WRng,
) -> Result<(Dataset, Dataset)> {
    let n = ds.n();
    match n_train.checked_add(n_val) {
        Some(t) if t <= n => {}
        _ => {
            return Err(Error::invalid(
                "split",
                format!(
                    "{n_train} training + {n_val} validation examples exceed the {n} available"
                ),
            ))
        }
    }
    let perm = rng::permutation(rng, n);
    let mut tr = perm[..n_train].to_vec();
    let mut va = perm[n_train..n_train + n_val].to_vec();
    tr.sort_unstable();
    va.sort_unstable();
    Ok((ds.select(&tr), ds.select(&va)))
}

/// Like [`randomize_labels`], also returning the re-drawn indices (sorted).
pub fn randomize_labels_with_indices(
    y: &[f64],
    p: f64,
    rng: &mut WRng,
) -> Result<(Vec<f64>, Vec<usize>)> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::invalid(
            "p",
            format!("the portion of random labels must lie in [0, 1], got {p}"),
        ));
    }
    let n = y.len();
    let k = ((p * n as f64).round() as usize).min(n);
    let mut idx = rng::permutation(rng, n);
    idx.truncate(k);
    idx.sort_unstable();
    let mut out = y.to_vec();
    for &i in &idx {
        out[i] = rng::rademacher(rng);
    }
    Ok((out, idx))
}

/// Replaces the labels of a portion `p` of the examples by independent
/// unif{−1, +1} draws (seed 001, Appendix A, Figure 2): round(p·n) indices
/// are chosen uniformly at random without replacement. About half of the
/// re-drawn labels keep their old value. `p` outside [0, 1] is an error.
pub fn randomize_labels(y: &[f64], p: f64, rng: &mut WRng) -> Result<Vec<f64>> {
    randomize_labels_with_indices(y, p, rng).map(|(v, _)| v)
}

/// Loads a dataset from two `.npy` files: `x_path` an n × d matrix, `y_path`
/// a vector of n labels (float32 or float64). Errors when the counts differ,
/// naming both files.
pub fn dataset_from_npy(x_path: impl AsRef<Path>, y_path: impl AsRef<Path>) -> Result<Dataset> {
    let (xp, yp) = (x_path.as_ref(), y_path.as_ref());
    let x = npy::read_matrix::<f64>(xp)?;
    let y = npy::read_vector::<f64>(yp)?;
    if x.rows() != y.len() {
        return Err(Error::Shape(format!(
            "{} has {} rows but {} has {} labels",
            xp.display(),
            x.rows(),
            yp.display(),
            y.len()
        )));
    }
    Ok(Dataset { x, y })
}
