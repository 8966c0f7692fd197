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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    #[test]
    fn exact_power_law_is_recovered() {
        let x = [10.0, 40.0, 160.0, 640.0, 2560.0];
        let y: Vec<f64> = x.iter().map(|m: &f64| 3.0 * m.powf(-0.25)).collect();
        let f = fit_power_law(&x, &y).unwrap();
        assert!((f.exponent + 0.25).abs() < 1e-12);
        assert!((f.prefactor - 3.0).abs() < 1e-10);
        assert!(f.exponent_se < 1e-10);
        assert!((f.r2 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn standard_error_matches_the_closed_form_on_three_points() {
        // ln x = (0, 1, 2), ln y = (0, 1, 3): slope 1.5, intercept −1/6, residuals
        // (1/6, −1/3, 1/6), RSS = 1/6, Sxx = 2, se = sqrt(RSS/1/2) = sqrt(1/12).
        let x = [1.0, 1f64.exp(), 2f64.exp()];
        let y = [1.0, 1f64.exp(), 3f64.exp()];
        let f = fit_power_law(&x, &y).unwrap();
        assert!((f.exponent - 1.5).abs() < 1e-12);
        assert!((f.prefactor.ln() + 1.0 / 6.0).abs() < 1e-12);
        assert!((f.exponent_se - (1.0f64 / 12.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn monte_carlo_averages_fall_like_m_to_the_minus_half() {
        // |mean of m standard normals| has E = sqrt(2/(π m)): the fitted exponent of the
        // average over 400 repeats is −1/2 within a few standard errors, and it is faster
        // than Theorem 6's −1/4.
        let mut g = rng::stream(7, "rate-fit-test");
        let ms = [16usize, 64, 256, 1024, 4096];
        let y: Vec<f64> = ms
            .iter()
            .map(|&m| {
                (0..400)
                    .map(|_| ((0..m).map(|_| rng::normal(&mut g)).sum::<f64>() / m as f64).abs())
                    .sum::<f64>()
                    / 400.0
            })
            .collect();
        let x: Vec<f64> = ms.iter().map(|&m| m as f64).collect();
        let f = fit_power_law(&x, &y).unwrap();
        assert!((f.exponent + 0.5).abs() < 0.05, "{f:?}");
        let c = compare_rate(&f, -0.25, 2.0);
        assert!(c.at_least_as_fast && !c.matches, "{c:?}");
        let c = compare_rate(&f, -0.5, 4.0);
        assert!(c.matches, "{c:?}");
    }

    #[test]
    fn bad_input_is_refused_with_its_name() {
        assert!(matches!(
            fit_power_law(&[1.0, 2.0], &[1.0, 0.0]),
            Err(Error::Invalid { name, .. }) if name == "y"
        ));
        assert!(matches!(
            fit_power_law(&[2.0, 2.0], &[1.0, 3.0]),
            Err(Error::Invalid { name, .. }) if name == "x"
        ));
        assert!(fit_power_law(&[1.0], &[1.0, 2.0]).is_err());
    }

    #[test]
    fn rate_exponent_of_log_squared_over_m_is_the_two_point_slope() {
        // three points equally spaced in ln m: the least-squares slope is the slope between
        // the end points, computed here by hand
        let r = |m: f64| m.ln().powi(2) / m;
        let two = ((r(2048.0)).ln() - (r(128.0)).ln()) / (2048f64.ln() - 128f64.ln());
        let p = rate_exponent(&[128.0, 512.0, 2048.0], r).unwrap();
        assert!((p - two).abs() < 1e-12, "{p} {two}");
        assert!((p + 0.674).abs() < 1e-3, "{p}");
        // an exact power law gives its exponent
        assert!((rate_exponent(&[1.0, 4.0, 9.0], |x| x.powf(-0.25)).unwrap() + 0.25).abs() < 1e-12);
    }

    #[test]
    fn t_quantiles_match_their_closed_forms() {
        // dof 1 is the Cauchy distribution: tan(π (p − ½)) at p = 0.975
        let cauchy = (std::f64::consts::PI * 0.475).tan();
        assert!((t95(1) - cauchy).abs() < 5e-4, "{cauchy}");
        // dof 2: t = (2p − 1) sqrt(2 / (4 p (1 − p)))
        let p = 0.975f64;
        let two = (2.0 * p - 1.0) * (2.0 / (4.0 * p * (1.0 - p))).sqrt();
        assert!((t95(2) - two).abs() < 5e-4, "{two}");
        // decreasing towards the normal's 1.96
        assert!((1..200).all(|k| t95(k) >= t95(k + 1) && t95(k) >= 1.96));
        assert!(t95(0).is_nan());
    }
}
