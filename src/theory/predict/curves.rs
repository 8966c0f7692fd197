//! Loss and accuracy curves of predictions against time: the mean squared error
//! (1/(n c)) Σ_i ‖f(x_i) − y_i‖² over all entries, and the 0–1 error (argmax of the
//! outputs against the argmax of one-hot labels; the sign against ±1 labels when there
//! is one output).

use crate::error::{Error, Result};
use crate::linalg::Matrix;
use serde::{Deserialize, Serialize};

/// Train and test curves against time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    /// The times (`null` in JSON for t = ∞).
    pub times: Vec<f64>,
    /// Train mean squared error (1/(n c)) Σ ‖f − y‖² per time.
    pub train_mse: Vec<f64>,
    /// Train 0–1 error per time.
    pub train_error: Vec<f64>,
    /// Test mean squared error per time (when test labels were given).
    pub test_mse: Option<Vec<f64>>,
    /// Test 0–1 error per time (when test labels were given).
    pub test_error: Option<Vec<f64>>,
}

/// Mean over all entries of (f − y)²; `name` names y in errors.
pub fn mse(f: &Matrix<f64>, y: &Matrix<f64>, name: &str) -> Result<f64> {
    if f.shape() != y.shape() {
        return Err(Error::Shape(format!(
            "{name} is {}x{} but the predictions are {}x{}",
            y.rows(),
            y.cols(),
            f.rows(),
            f.cols()
        )));
    }
    let s: f64 = f
        .as_slice()
        .iter()
        .zip(y.as_slice())
        .map(|(a, b)| (a - b) * (a - b))
        .sum();
    Ok(s / (y.rows() * y.cols()).max(1) as f64)
}

fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}

/// Fraction of rows misclassified: argmax(f) ≠ argmax(y) (first index on ties), or for
/// one output sign(f) ≠ sign(y) (f = 0 counts as an error).
pub fn zero_one_error(f: &Matrix<f64>, y: &Matrix<f64>, name: &str) -> Result<f64> {
    mse(f, y, name)?; // the shape check
    let n = y.rows();
    if n == 0 {
        return Ok(0.0);
    }
    let wrong = (0..n)
        .filter(|&i| {
            if y.cols() == 1 {
                f.get(i, 0) * y.get(i, 0) <= 0.0
            } else {
                argmax(f.row(i)) != argmax(y.row(i))
            }
        })
        .count();
    Ok(wrong as f64 / n as f64)
}

impl Curves {
    /// The curves of train predictions (and test predictions with test labels).
    pub fn new(
        times: &[f64],
        train: &[Matrix<f64>],
        y_train: &Matrix<f64>,
        test: Option<(&[Matrix<f64>], &Matrix<f64>)>,
    ) -> Result<Self> {
        let per =
            |fs: &[Matrix<f64>], y: &Matrix<f64>, name: &str| -> Result<(Vec<f64>, Vec<f64>)> {
                let mut m = Vec::with_capacity(fs.len());
                let mut e = Vec::with_capacity(fs.len());
                for f in fs {
                    m.push(mse(f, y, name)?);
                    e.push(zero_one_error(f, y, name)?);
                }
                Ok((m, e))
            };
        let (train_mse, train_error) = per(train, y_train, "y_train")?;
        let (test_mse, test_error) = match test {
            Some((fs, y)) => {
                let (m, e) = per(fs, y, "y_test")?;
                (Some(m), Some(e))
            }
            None => (None, None),
        };
        Ok(Curves {
            times: times.to_vec(),
            train_mse,
            train_error,
            test_mse,
            test_error,
        })
    }
}
