//! Unit tests of `widenet::theory::rate_fit` (formerly in src/theory/rate_fit.rs; the library is built without a
//! unit-test harness of its own, see tests/it/unit/mod.rs).

use widenet::error::Error;
use widenet::rng;
use widenet::theory::rate_fit::*;

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
