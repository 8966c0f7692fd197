//! Whole datasets with a two-class ±1 labeling: every image of every class (or
//! of two classes) with a named rule that maps its class to +1 or −1, so that a
//! whole dataset (all of local MNIST: train + test) is one analysis of seed 001
//! (spectrum, projections, complexity measure), not only its first two classes.
//!
//! Labelings ([`Labeling`]): `even-odd` (+1 for 0, 2, 4, 6, 8), `one-vs-rest:K`
//! (+1 for class K) and `pair:A,B` (only classes A and B, +1 for A: the two-class
//! set of seed 001 App. A, [`crate::data::labels::two_class`]).

use super::labels::{normalize_rows, Dataset};
use super::{LabeledImages, Split};
use crate::error::{Error, Result};
use crate::linalg::Matrix;

/// A rule from class (0..=9) to a ±1 label; classes it drops get `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Labeling {
    /// Every class: +1 for even digits, −1 for odd ones.
    EvenOdd,
    /// Every class: +1 for class K, −1 for all others.
    OneVsRest(u8),
    /// Only classes A and B: +1 for A, −1 for B.
    Pair(u8, u8),
}

/// Reads `even-odd`, `one-vs-rest:K` or `pair:A,B` (classes 0-9); an error names
/// `labeling` ([`crate::options::parse`] names the caller's flag or keyword instead).
impl std::str::FromStr for Labeling {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::invalid(
                "labeling",
                format!("'{s}': {why} (use even-odd, one-vs-rest:K or pair:A,B with classes 0-9)"),
            )
        };
        let class = |t: &str| -> Result<u8> {
            match t.trim().parse::<u8>() {
                Ok(c) if c <= 9 => Ok(c),
                _ => Err(bad(&format!("'{t}' is not a class 0-9"))),
            }
        };
        let t = s.trim();
        if t == "even-odd" {
            return Ok(Labeling::EvenOdd);
        }
        if let Some(k) = t.strip_prefix("one-vs-rest:") {
            return Ok(Labeling::OneVsRest(class(k)?));
        }
        if let Some(p) = t.strip_prefix("pair:") {
            let parts: Vec<&str> = p.split(',').collect();
            if parts.len() != 2 {
                return Err(bad("a pair needs two classes A,B"));
            }
            let (a, b) = (class(parts[0])?, class(parts[1])?);
            if a == b {
                return Err(bad("the two classes of a pair must differ"));
            }
            return Ok(Labeling::Pair(a, b));
        }
        Err(bad("unknown labeling"))
    }
}

impl Labeling {
    /// The canonical name (`even-odd`, `one-vs-rest:3`, `pair:0,1`), which
    /// `FromStr` reads back.
    pub fn name(&self) -> String {
        match self {
            Labeling::EvenOdd => "even-odd".into(),
            Labeling::OneVsRest(k) => format!("one-vs-rest:{k}"),
            Labeling::Pair(a, b) => format!("pair:{a},{b}"),
        }
    }

    /// The label of class `c`: +1, −1, or `None` when the labeling drops it.
    pub fn label(&self, c: u8) -> Option<f64> {
        let pm = |b: bool| if b { 1.0 } else { -1.0 };
        match *self {
            Labeling::EvenOdd => Some(pm(matches!(c, 0 | 2 | 4 | 6 | 8))),
            Labeling::OneVsRest(k) => Some(pm(c == k)),
            Labeling::Pair(a, b) => {
                if c == a {
                    Some(1.0)
                } else if c == b {
                    Some(-1.0)
                } else {
                    None
                }
            }
        }
    }

    /// The classes labelled +1, in increasing order.
    pub fn positive_classes(&self) -> Vec<u8> {
        (0..10).filter(|&c| self.label(c) == Some(1.0)).collect()
    }
}

impl std::fmt::Display for Labeling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// Which splits to load: one of them, or both (train first, then test).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Splits {
    /// The training set.
    Train,
    /// The test set.
    Test,
    /// Training then test images, as one set.
    Both,
}

crate::options::option_enum!(Splits, "split", {
    Train => "train",
    Test => "test",
    Both => "both"; "Train then test, as one set (with --classes all or A,B)",
});

impl Splits {
    /// The splits in load order.
    pub fn parts(self) -> &'static [Split] {
        match self {
            Splits::Train => &[Split::Train],
            Splits::Test => &[Split::Test],
            Splits::Both => &[Split::Train, Split::Test],
        }
    }
}

/// Loads `splits` with `load` (e.g. [`crate::data::mnist::load_mnist`]) and
/// concatenates them in order.
pub fn load_splits(
    splits: Splits,
    mut load: impl FnMut(Split) -> Result<LabeledImages>,
) -> Result<LabeledImages> {
    let mut all: Option<LabeledImages> = None;
    for &s in splits.parts() {
        let part = load(s)?;
        all = Some(match all {
            None => part,
            Some(mut a) => {
                if a.dim != part.dim {
                    return Err(Error::Shape(format!(
                        "the train images have {} pixels but the test images {}",
                        a.dim, part.dim
                    )));
                }
                a.pixels.extend_from_slice(&part.pixels);
                a.labels.extend_from_slice(&part.labels);
                a
            }
        });
    }
    Ok(all.expect("every Splits has at least one part"))
}

/// The images `labeling` keeps, in order, with their ±1 labels, rows scaled to
/// unit norm (seed 001 §3.1); `limit` keeps the first N. Also returns the class
/// of each kept image. Errors: a labeling with an empty side (a class that does
/// not occur, or every image on one side), `limit == Some(0)`, an all-zero image.
pub fn label_images(
    images: &LabeledImages,
    labeling: Labeling,
    limit: Option<usize>,
) -> Result<(Dataset, Vec<u8>)> {
    images.check()?;
    if limit == Some(0) {
        return Err(Error::invalid("limit", "must be at least 1"));
    }
    let cap = limit.unwrap_or(usize::MAX);
    let mut data = Vec::new();
    let (mut y, mut classes) = (Vec::new(), Vec::new());
    for (i, &c) in images.labels.iter().enumerate() {
        if y.len() >= cap {
            break;
        }
        if let Some(l) = labeling.label(c) {
            y.push(l);
            classes.push(c);
            data.extend(images.image(i).iter().map(|&p| p as f64));
        }
    }
    let pos = y.iter().filter(|&&v| v > 0.0).count();
    if pos == 0 || pos == y.len() {
        return Err(Error::invalid(
            "--labeling",
            format!(
                "{labeling} gives {pos} images labelled +1 and {} labelled -1 among the {} \
                 images; both sides need at least one",
                y.len() - pos,
                images.n()
            ),
        ));
    }
    let mut x = Matrix::from_vec(y.len(), images.dim, data)?;
    normalize_rows(&mut x)?;
    Ok((Dataset::new(x, y)?, classes))
}

/// The settings of a labelled export, for the JSON sidecar and messages.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LabeledSummary {
    /// "mnist" or "cifar10".
    pub dataset: String,
    /// "train", "test" or "both".
    pub split: String,
    /// The labeling's name ([`Labeling::name`]).
    pub labeling: String,
    /// The classes labelled +1.
    pub positive_classes: Vec<u8>,
    /// Number of images kept.
    pub n: usize,
    /// Pixels per image.
    pub d: usize,
    /// Kept images per class 0..9.
    pub class_counts: [usize; 10],
    /// Images labelled +1 and −1.
    pub n_positive: usize,
    /// Images labelled −1.
    pub n_negative: usize,
}

impl LabeledSummary {
    /// The summary of a labelled set.
    pub fn new(
        dataset: &str,
        splits: Splits,
        labeling: Labeling,
        ds: &Dataset,
        classes: &[u8],
    ) -> Self {
        let mut counts = [0usize; 10];
        for &c in classes {
            counts[c as usize] += 1;
        }
        let pos = ds.y.iter().filter(|&&v| v > 0.0).count();
        LabeledSummary {
            dataset: dataset.into(),
            split: splits.name().into(),
            labeling: labeling.name(),
            positive_classes: labeling.positive_classes(),
            n: ds.n(),
            d: ds.d(),
            class_counts: counts,
            n_positive: pos,
            n_negative: ds.n() - pos,
        }
    }
}
