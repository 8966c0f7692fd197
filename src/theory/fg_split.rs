//! The test error of a learner on seed 003's target H = βF + αG(F) split into the part of F
//! and the part of αG (seed 003 §1 and Theorem 1's hierarchy: "we would like to first learn F,
//! and then we could learn G(F) much easier with the help of F").
//!
//! On x uniform on {−1, 1}^d the coordinates F_j(x) = x_{2j}x_{2j+1} and
//! G_j(F(x)) = Π_{t∈S_j} F_t are distinct Walsh monomials (degree 2 and degree 2|S_j|), so they
//! are orthonormal in L²: writing out_j = c_{F,j}F_j + c_{G,j}G_j + r_j with r_j orthogonal to
//! both, Parseval gives
//!
//! E‖out − H‖² = Σ_j (β − c_{F,j})² + Σ_j (α − c_{G,j})² + Σ_j E r_j²,
//!
//! the **F part**, the **αG part** and the rest. The αG part is kα² when the learner has not
//! picked up G at all (c_G = 0) — the level seed 003's Fig. 2 uses ("test error above kα² means
//! αG(F) is not learned") — and 0 when it has. The coefficients are estimated on a test
//! sample as c_{F,j} = mean_i out_ij F_j(x_i) (exact on the whole cube).

use crate::data::resnet_targets::Fig2Target;
use crate::error::{Error, Result};
use crate::linalg::Matrix;
use serde::{Deserialize, Serialize};

/// The split of one learner's test error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FgSplit {
    /// Σ_j (β − c_{F,j})².
    pub f_part: f64,
    /// Σ_j (α − c_{G,j})².
    pub g_part: f64,
    /// E‖out − H‖² on the sample (seed 003's test error).
    pub total: f64,
    /// total − f_part − g_part (the error outside span{F_j, G_j}, up to sampling error).
    pub rest: f64,
    /// kα²: the αG part of a learner that has not learned G.
    pub g_unlearned: f64,
}

/// Splits the error of predictions `out` (n × k) at inputs `x` (n × d) on `target`.
pub fn fg_split(target: &Fig2Target, x: &Matrix<f64>, out: &Matrix<f64>) -> Result<FgSplit> {
    let f = target.features(x)?;
    let g = target.composite(&f)?;
    split_parts(&f, &g, target.alpha, target.beta, out)
}

/// The split of `out` (n × k) against H = βF + αG given F's and G(F)'s values `f` and `g`
/// (n × k each) at the sample's inputs, whose columns are distinct Walsh monomials: seed 003
/// Figure 2's target ([`fg_split`]) or Theorem 2's instance, where F_j = √d x_{i_j} and every
/// output of G(F) is the degree-k parity Π_j F_j.
pub fn split_parts(
    f: &Matrix<f64>,
    g: &Matrix<f64>,
    alpha: f64,
    beta: f64,
    out: &Matrix<f64>,
) -> Result<FgSplit> {
    let (n, k) = (f.rows(), f.cols());
    if out.rows() != n || out.cols() != k || g.rows() != n || g.cols() != k {
        return Err(Error::Shape(format!(
            "predictions {}x{} for F {n}x{k} and G {}x{}",
            out.rows(),
            out.cols(),
            g.rows(),
            g.cols()
        )));
    }
    if n == 0 {
        return Err(Error::invalid("x", "no test inputs"));
    }
    if !out.all_finite() {
        return Err(Error::Numerical("predictions are not finite".into()));
    }
    let nf = n as f64;
    let (mut fp, mut gp, mut tot) = (0.0, 0.0, 0.0);
    for j in 0..k {
        let (mut cf, mut cg) = (0.0, 0.0);
        for i in 0..n {
            let o = out.get(i, j);
            cf += o * f.get(i, j);
            cg += o * g.get(i, j);
            let h = beta * f.get(i, j) + alpha * g.get(i, j);
            tot += (o - h) * (o - h);
        }
        fp += (beta - cf / nf).powi(2);
        gp += (alpha - cg / nf).powi(2);
    }
    let total = tot / nf;
    Ok(FgSplit {
        f_part: fp,
        g_part: gp,
        total,
        rest: total - fp - gp,
        g_unlearned: k as f64 * alpha * alpha,
    })
}
