//! Power-law rates: fit y ≈ C·x^p by least squares on (ln x, ln y), with the standard error of
//! the exponent, and compare a fitted exponent with one a theorem predicts.
//!
//! Used for seed 004 Theorem 6 (eq. 26: the cross-time terms of the recurrent NTK are
//! O(L⁴ log⁴ m / m^{1/4}), an upper bound on the rate) and for seed 001 Fig. 1's eigenvalue
//! decay (λ_i against i).
//!
//! The standard error is the ordinary least-squares one, se(p) = sqrt(RSS/(k−2) / Σ(ln x − mean)²)
//! for k points; it is reported as a spread, not as a calibrated interval (the points of a
//! width sweep are not independent Gaussian errors in ln y).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A fitted power law y ≈ prefactor · x^exponent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PowerFit {
    /// The exponent p (slope of ln y against ln x).
    pub exponent: f64,
    /// C = exp(intercept).
    pub prefactor: f64,
    /// OLS standard error of p; NaN with fewer than three points.
    pub exponent_se: f64,
    /// Coefficient of determination of the log-log line (1 for an exact power law).
    pub r2: f64,
    /// Number of points fitted.
    pub points: usize,
}

/// Fits y ≈ C·x^p to positive finite (x, y) pairs (at least two distinct x).
pub fn fit_power_law(x: &[f64], y: &[f64]) -> Result<PowerFit> {
    if x.len() != y.len() {
        return Err(Error::Shape(format!(
            "{} abscissae against {} values in a power-law fit",
            x.len(),
            y.len()
        )));
    }
    for (name, v) in [("x", x), ("y", y)] {
        if let Some(bad) = v.iter().find(|t| !(t.is_finite() && **t > 0.0)) {
            return Err(Error::invalid(
                name,
                format!("a power-law fit needs positive finite values, got {bad}"),
            ));
        }
    }
    let lx: Vec<f64> = x.iter().map(|t| t.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|t| t.ln()).collect();
    let k = lx.len();
    let mx = lx.iter().sum::<f64>() / k.max(1) as f64;
    let my = ly.iter().sum::<f64>() / k.max(1) as f64;
    let sxx: f64 = lx.iter().map(|a| (a - mx) * (a - mx)).sum();
    if k < 2 || sxx <= 0.0 {
        return Err(Error::invalid(
            "x",
            "a power-law fit needs at least two distinct abscissae",
        ));
    }
    let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let syy: f64 = ly.iter().map(|b| (b - my) * (b - my)).sum();
    let p = sxy / sxx;
    let c = my - p * mx;
    let rss: f64 = lx
        .iter()
        .zip(&ly)
        .map(|(a, b)| (b - p * a - c).powi(2))
        .sum();
    let se = if k > 2 {
        (rss / (k - 2) as f64 / sxx).sqrt()
    } else {
        f64::NAN
    };
    let r2 = if syy > 0.0 { 1.0 - rss / syy } else { 1.0 };
    Ok(PowerFit {
        exponent: p,
        prefactor: c.exp(),
        exponent_se: se,
        r2,
        points: k,
    })
}

/// The exponent a rate function r has across a sweep: the least-squares slope of ln r(x)
/// against ln x at the sweep's points (the exponent [`fit_power_law`] would fit to an exact
/// r). For r(m) = log²m/m (seed 004 eq. 24) over m ∈ {128, 512, 2048} it is −0.674: a bound
/// with logarithmic factors is compared with a fitted exponent through this number.
pub fn rate_exponent(x: &[f64], rate: impl Fn(f64) -> f64) -> Result<f64> {
    let y: Vec<f64> = x.iter().map(|&t| rate(t)).collect();
    Ok(fit_power_law(x, &y)?.exponent)
}

/// The 97.5% quantile of Student's t with `dof` degrees of freedom: the half-width, in
/// standard errors, of a two-sided 95% interval for a least-squares slope fitted to dof + 2
/// points (standard table values to three decimals; 1.960, the normal's, beyond 120). With
/// three points (one degree of freedom) it is 12.706, not 1.96: the standard error of so
/// small a fit is itself uncertain. 0 degrees of freedom gives NaN (no interval).
pub fn t95(dof: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match dof {
        0 => f64::NAN,
        1..=30 => TABLE[dof - 1],
        31..=40 => 2.021,
        41..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

/// A fitted exponent against a predicted one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateComparison {
    /// The theorem's exponent (e.g. −1/4 for seed 004 eq. 26).
    pub predicted: f64,
    /// The fitted exponent.
    pub fitted: f64,
    /// Its standard error.
    pub fitted_se: f64,
    /// (fitted − predicted) / se (NaN when se is NaN or 0).
    pub z: f64,
    /// fitted ≤ predicted + `z_tol`·se: the measured quantity decays at least as fast as the
    /// bound's rate (an upper bound is consistent with any faster decay).
    pub at_least_as_fast: bool,
    /// |fitted − predicted| ≤ `z_tol`·se: the rate is the predicted one.
    pub matches: bool,
}

/// Compares `fit` with the `predicted` exponent at a tolerance of `z_tol` standard errors
/// (a NaN se counts as 0: the point estimate alone decides).
pub fn compare_rate(fit: &PowerFit, predicted: f64, z_tol: f64) -> RateComparison {
    let se = if fit.exponent_se.is_finite() {
        fit.exponent_se
    } else {
        0.0
    };
    let diff = fit.exponent - predicted;
    RateComparison {
        predicted,
        fitted: fit.exponent,
        fitted_se: fit.exponent_se,
        z: if se > 0.0 { diff / se } else { f64::NAN },
        at_least_as_fast: diff <= z_tol * se,
        matches: diff.abs() <= z_tol * se,
    }
}
