//! The recurrent complexity sqrt(ỹᵀ(H^∞)⁻¹ỹ) of seed 004 (Theorem 3, eqs. 20, 34, 37) on its
//! two concept classes, with the infinite-width kernel H^∞ of the `wang` preset
//! ([`crate::kernels::rnn_infinite::rnn_ntk_infinite`]) factored by Cholesky.
//!
//! - `rnn-length` ([`run_length`], the kernel part of issue 4's `rnn-length`): additive targets
//!   (eq. 9) against the sequence length L.
//! - `rnn-nvar` ([`run_nvar`]): N-variable targets (eq. 11) against N (at fixed l_0) and against
//!   l_0 (at fixed N).
//!
//! **ỹ.** Theorem 3 defines ỹ = [F\*(x_1), …, F\*(x_n)]ᵀ, the target values (not the labels), for
//! an F\* with y_i F\*(x_i) ≥ 1. The samples come from [`crate::data::rnn_concepts::draw`]:
//! sequences with |F\*_raw| < τ are dropped and replaced, and F\* = F\*_raw/τ (see there), so
//! ỹ = F\*_raw/τ. Also recorded: sqrt(F\*_rawᵀ(H^∞)⁻¹F\*_raw) (= the above times τ), which is
//! what the closed form of eq. 10 / eq. 12 for the unscaled ψ bounds up to constants, and
//! sqrt(yᵀ(H^∞)⁻¹y) for the labels.
//!
//! **Closed form.** Next to each measured value: seed 004's C(F\*) for the unscaled ψ
//! (eq. 10 via [`concept_additive`], eq. 12 via [`concept_n_variable`] with C_0 = C_max/C_min
//! and C_1 = [`C1`]), as log10 since it can exceed f64.
//!
//! **Singular kernels.** When Cholesky finds H^∞ not numerically positive definite (smallest
//! pivot below 1e−13 of the largest diagonal entry), the point is skipped and the error (with
//! λ_min) recorded in `skipped`; fits and claims use the other points.
//!
//! **Criteria.**
//! - Length: a power law fits better than an exponential — the residual sum of squares of the
//!   least-squares line of ln c against ln L is at most that of ln c against L (both lines have two
//!   parameters). The exponent (slope in ln-ln) is reported.
//! - N-variable: the complexity at the largest N exceeds the one at the smallest N, and likewise
//!   for l_0 (all values and the slopes of ln c against N and against l_0 are reported).

use super::common::{relative_to, write_result, ExperimentOutput, Scale};
use super::rnn_kernel::least_squares;
use crate::data::rnn_concepts::{
    draw, AdditiveConcept, Concept, ConceptSample, InputSpec, NVariableConcept,
};
use crate::error::{Error, Result};
use crate::kernels::rnn_infinite::rnn_ntk_infinite;
use crate::linalg::Cholesky;
use crate::models::rnn::Preset;
use crate::report::plot::{save_figure, Figure, Series, Style};
use crate::report::table::{write_csv, Claim};
use crate::rng;
use crate::theory::complexity::{concept_additive, concept_n_variable, C1, REL_TOL};
use crate::theory::taylor::AnalyticFn;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// The measured complexities of one configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ComplexityPoint {
    /// Sequence length L.
    pub len: usize,
    /// N (1 for the additive class).
    pub n_vars: usize,
    /// l_0 (the additive class: L − 1).
    pub l0: usize,
    /// Positions l_1..l_N (empty for the additive class).
    pub positions: Vec<usize>,
    /// Sequences drawn.
    pub drawn: usize,
    /// Sequences dropped for |F\*_raw| < τ.
    pub dropped: usize,
    /// sqrt(ỹᵀ(H^∞)⁻¹ỹ), ỹ = F\*_raw/τ (None when skipped).
    pub complexity: Option<f64>,
    /// sqrt(F\*_rawᵀ(H^∞)⁻¹F\*_raw).
    pub complexity_raw: Option<f64>,
    /// sqrt(yᵀ(H^∞)⁻¹y) for the ±1 labels.
    pub complexity_labels: Option<f64>,
    /// log10 of seed 004's C(F\*) for the unscaled ψ (eq. 10 or eq. 12); "inf" is +∞.
    pub closed_form_log10: f64,
    /// For eq. 12: log10 of its L² C_N form and of its L³ C(ψ, 2^{l_0} C_0 √L) form.
    pub closed_form_parts_log10: Option<(f64, f64)>,
    /// Why the point was skipped (Cholesky's error), if it was.
    pub skipped: Option<String>,
}

fn measure(sample: &ConceptSample, len: usize, point: &mut ComplexityPoint) -> Result<()> {
    let h = rnn_ntk_infinite(Preset::Wang, &sample.xs)?;
    match Cholesky::new(&h, "H^inf (wang)") {
        Ok(ch) => {
            point.complexity = Some(ch.quad_inv(&sample.f_star)?.sqrt());
            point.complexity_raw = Some(ch.quad_inv(&sample.f_raw)?.sqrt());
            point.complexity_labels = Some(ch.quad_inv(&sample.labels)?.sqrt());
        }
        Err(e @ Error::NotPositiveDefinite { .. }) => {
            point.skipped = Some(format!("L = {len}: {e}"));
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

fn fitted(points: &[ComplexityPoint], x: impl Fn(&ComplexityPoint) -> f64) -> (Vec<f64>, Vec<f64>) {
    points
        .iter()
        .filter_map(|p| p.complexity.map(|c| (x(p), c.ln())))
        .unzip()
}

fn spec_of(len: usize, d: usize, c_min: f64, c_max: f64) -> InputSpec {
    InputSpec {
        len,
        d,
        c_min,
        c_max,
    }
}

// ---------------------------------------------------------------- rnn-length

/// Settings of `rnn-length` (kernel part).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LengthSettings {
    /// Scale.
    pub scale: Scale,
    /// Seed.
    pub seed: u64,
    /// Samples n.
    pub n: usize,
    /// Input dimension d.
    pub d: usize,
    /// C_min.
    pub c_min: f64,
    /// C_max.
    pub c_max: f64,
    /// Sequence lengths L.
    pub lens: Vec<usize>,
    /// ψ (an [`AnalyticFn::parse`] name), the same at every position.
    pub psi: String,
    /// Terms ψ_{ℓ,r} per position.
    pub per_position: usize,
    /// ‖β_{ℓ,r}‖.
    pub beta_norm: f64,
    /// τ: samples with |F\*_raw| < τ are dropped, F\* = F\*_raw/τ.
    pub threshold: f64,
}

impl LengthSettings {
    /// Defaults: quick n = 200, L ∈ {2, 4, …, 32}; paper n = 1000, L ∈ {2, 4, …, 128}; d = 3,
    /// norms in [0.5, 1], ψ = sin, one term per position, ‖β‖ = 1, τ = 0.1.
    pub fn new(scale: Scale, seed: u64) -> Self {
        let (n, lens) = match scale {
            Scale::Quick => (200, vec![2, 4, 8, 16, 32]),
            Scale::Paper => (1000, vec![2, 4, 8, 16, 32, 64, 128]),
        };
        LengthSettings {
            scale,
            seed,
            n,
            d: 3,
            c_min: 0.5,
            c_max: 1.0,
            lens,
            psi: "sin".into(),
            per_position: 1,
            beta_norm: 1.0,
            threshold: 0.1,
        }
    }
}

/// Typed result of `rnn-length`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LengthResult {
    /// Settings.
    pub settings: LengthSettings,
    /// One point per L.
    pub points: Vec<ComplexityPoint>,
    /// Slope of ln c against ln L (the power-law exponent).
    pub power_exponent: f64,
    /// Residual sum of squares of that fit.
    pub power_rss: f64,
    /// Slope of ln c against L (the exponential rate).
    pub exp_rate: f64,
    /// Residual sum of squares of that fit.
    pub exp_rss: f64,
}

/// Runs `rnn-length` (kernel part) and writes `out/rnn-length/`.
pub fn run_length(
    settings: &LengthSettings,
    out: &Path,
) -> Result<(ExperimentOutput, LengthResult)> {
    let t0 = Instant::now();
    let name = "rnn-length";
    let dir = out.join(name);
    let psi = AnalyticFn::parse(&settings.psi)?;
    let mut points = Vec::new();
    for &len in &settings.lens {
        let spec = spec_of(len, settings.d, settings.c_min, settings.c_max);
        spec.check()?;
        let mut g = rng::stream(settings.seed, &format!("rnn-length/L={len}"));
        let concept = AdditiveConcept::random(
            len,
            settings.d,
            settings.per_position,
            &psi,
            settings.beta_norm,
            &mut g,
        )?;
        let closed = concept_additive(&concept.psis_per_position(), spec.c0(), REL_TOL)?;
        let sample = draw(
            &spec,
            &Concept::Additive(concept),
            settings.n,
            settings.threshold,
            1000 * settings.n + 1000,
            &mut g,
        )?;
        let mut p = ComplexityPoint {
            len,
            n_vars: 1,
            l0: len - 1,
            positions: Vec::new(),
            drawn: sample.drawn,
            dropped: sample.dropped,
            complexity: None,
            complexity_raw: None,
            complexity_labels: None,
            closed_form_log10: closed.log10_value(),
            closed_form_parts_log10: None,
            skipped: None,
        };
        measure(&sample, len, &mut p)?;
        points.push(p);
    }
    let (lx, ly) = fitted(&points, |p| (p.len as f64).ln());
    let (power_exponent, _, power_rss) = least_squares(&lx, &ly);
    let (x, ly2) = fitted(&points, |p| p.len as f64);
    let (exp_rate, _, exp_rss) = least_squares(&x, &ly2);
    let result = LengthResult {
        settings: settings.clone(),
        points,
        power_exponent,
        power_rss,
        exp_rate,
        exp_rss,
    };
    let used = lx.len();
    let claims = vec![Claim::new(
        "additive targets (eq. 9): sqrt(y~^T (H^inf)^-1 y~) grows polynomially, not exponentially, \
         in L: the least-squares fit of ln c on ln L has a residual sum of squares no larger than \
         that of ln c on L (needs >= 3 non-skipped lengths)",
        used >= 3 && power_rss <= exp_rss,
        json!({
            "power_exponent": power_exponent, "power_rss": power_rss,
            "exp_rate_per_step": exp_rate, "exp_rss": exp_rss, "points_used": used,
            "complexity": result.points.iter().map(|p| p.complexity).collect::<Vec<_>>(),
            "lens": settings.lens,
        }),
    )];
    let lens: Vec<f64> = result.points.iter().map(|p| p.len as f64).collect();
    let (files, figs) = write_outputs(
        &dir,
        out,
        "rnn_length",
        "L",
        &lens,
        &result.points,
        "Seed 004: complexity of additive targets against the length L (wang H^inf)",
        "sequence length L",
    )?;
    let mut output = ExperimentOutput {
        name: name.to_string(),
        title: "Recurrent complexity of additive targets against L".into(),
        description: format!(
            "n = {} sequences, d = {}, ||X_l|| uniform in [{}, {}], L in {:?}; F* = sum_l \
             {}(beta_l^T X_l/||X_l||) ({} term(s) per position, ||beta|| = {}); samples with \
             |F*| < {} dropped, y~ = F*/{}. Complexity sqrt(y~^T (H^inf)^-1 y~) with the wang \
             preset's H^inf by Cholesky, next to seed 004 eq. 10 (log10, unscaled psi). Power-law \
             exponent {:.3} (RSS {:.3e}) against exponential rate {:.3}/step (RSS {:.3e}).",
            settings.n,
            settings.d,
            settings.c_min,
            settings.c_max,
            settings.lens,
            settings.psi,
            settings.per_position,
            settings.beta_norm,
            settings.threshold,
            settings.threshold,
            result.power_exponent,
            result.power_rss,
            result.exp_rate,
            result.exp_rss
        ),
        claims,
        figures: figs,
        files,
        settings: serde_json::to_value(settings).expect("settings serialize"),
        seconds: t0.elapsed().as_secs_f64(),
    };
    write_result(out, &mut output, &result)?;
    Ok((output, result))
}

#[allow(clippy::too_many_arguments)]
fn write_outputs(
    dir: &Path,
    out: &Path,
    stem: &str,
    x_name: &str,
    xv: &[f64],
    points: &[ComplexityPoint],
    title: &str,
    x_label: &str,
) -> Result<(Vec<std::path::PathBuf>, Vec<std::path::PathBuf>)> {
    let keep: Vec<(f64, &ComplexityPoint)> = xv
        .iter()
        .copied()
        .zip(points)
        .filter(|(_, p)| p.complexity.is_some())
        .collect();
    let kx: Vec<f64> = keep.iter().map(|(x, _)| *x).collect();
    let get = |f: &dyn Fn(&ComplexityPoint) -> Option<f64>| -> Vec<f64> {
        keep.iter().map(|(_, p)| f(p).unwrap_or(f64::NAN)).collect()
    };
    let fig = Figure {
        title: title.into(),
        x_label: x_label.into(),
        y_label: "sqrt(y~^T (H^inf)^-1 y~)".into(),
        log_x: false,
        log_y: true,
        series: vec![
            Series::new(
                "y~ = F*/tau",
                kx.clone(),
                get(&|p| p.complexity),
                Style::Line,
            )
            .with_color(0),
            Series::new(
                "y~ = F* raw",
                kx.clone(),
                get(&|p| p.complexity_raw),
                Style::Dashed,
            )
            .with_color(1),
            Series::new(
                "labels y",
                kx.clone(),
                get(&|p| p.complexity_labels),
                Style::Points,
            )
            .with_color(2),
        ],
    };
    let (png, _) = save_figure(&fig, dir, stem)?;
    let csv = dir.join(format!("{stem}.csv"));
    let col = |f: &dyn Fn(&ComplexityPoint) -> f64| -> Vec<f64> { points.iter().map(f).collect() };
    write_csv(
        &csv,
        &[
            x_name,
            "complexity",
            "complexity_raw",
            "complexity_labels",
            "closed_form_log10",
            "dropped",
            "drawn",
        ],
        &[
            xv.to_vec(),
            col(&|p| p.complexity.unwrap_or(f64::NAN)),
            col(&|p| p.complexity_raw.unwrap_or(f64::NAN)),
            col(&|p| p.complexity_labels.unwrap_or(f64::NAN)),
            col(&|p| p.closed_form_log10),
            col(&|p| p.dropped as f64),
            col(&|p| p.drawn as f64),
        ],
    )?;
    Ok((vec![relative_to(&csv, out)], vec![relative_to(&png, out)]))
}

// ---------------------------------------------------------------- rnn-nvar

/// Settings of `rnn-nvar`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NvarSettings {
    /// Scale.
    pub scale: Scale,
    /// Seed.
    pub seed: u64,
    /// Samples n.
    pub n: usize,
    /// Input dimension d.
    pub d: usize,
    /// C_min.
    pub c_min: f64,
    /// C_max.
    pub c_max: f64,
    /// Sequence length L.
    pub len: usize,
    /// ψ (an [`AnalyticFn::parse`] name).
    pub psi: String,
    /// Number of terms ψ_r.
    pub terms: usize,
    /// ‖β_r‖.
    pub beta_norm: f64,
    /// τ: samples with |F\*_raw| < τ are dropped, F\* = F\*_raw/τ.
    pub threshold: f64,
    /// The N swept at fixed l_0 = `l0_for_n` (positions spread evenly over
    /// L − l_0 .. L, both ends included).
    pub ns: Vec<usize>,
    /// l_0 of the N sweep.
    pub l0_for_n: usize,
    /// The l_0 swept at N = `n_for_l0` (positions spread evenly over L − l_0 .. L).
    pub l0s: Vec<usize>,
    /// N of the l_0 sweep.
    pub n_for_l0: usize,
}

impl NvarSettings {
    /// Defaults: quick n = 200, L = 8, N ∈ {2..6} at l_0 = 7, l_0 ∈ {1, 2, 3, 5, 7} at N = 2;
    /// paper n = 1000, L = 16, N ∈ {2..8} at l_0 = 15, l_0 ∈ {1, 2, 4, 8, 15} at N = 2; d = 3,
    /// norms in [0.5, 1], ψ = exp (e^z − 1, seed 004 Example 2.2), one term, ‖β‖ = 1, τ = 0.05.
    pub fn new(scale: Scale, seed: u64) -> Self {
        let (n, len, ns, l0s) = match scale {
            Scale::Quick => (200, 8, vec![2, 3, 4, 5, 6], vec![1, 2, 3, 5, 7]),
            Scale::Paper => (1000, 16, (2..=8).collect(), vec![1, 2, 4, 8, 15]),
        };
        NvarSettings {
            scale,
            seed,
            n,
            d: 3,
            c_min: 0.5,
            c_max: 1.0,
            len,
            psi: "exp".into(),
            terms: 1,
            beta_norm: 1.0,
            threshold: 0.05,
            ns,
            l0_for_n: len - 1,
            l0s,
            n_for_l0: 2,
        }
    }
}

/// Positions l_1..l_N spread evenly over L − l_0 ..= L (1-based; l_0 = max − min exactly when
/// N ≥ 2; N = 1 gives {L}).
pub fn spread_positions(len: usize, n_vars: usize, l0: usize) -> Vec<usize> {
    let start = len - l0;
    if n_vars <= 1 {
        return vec![len];
    }
    (0..n_vars)
        .map(|k| start + ((k * l0) as f64 / (n_vars - 1) as f64).round() as usize)
        .collect()
}

/// Typed result of `rnn-nvar`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NvarResult {
    /// Settings.
    pub settings: NvarSettings,
    /// The N sweep.
    pub by_n: Vec<ComplexityPoint>,
    /// The l_0 sweep.
    pub by_l0: Vec<ComplexityPoint>,
    /// Slope of ln c against N.
    pub rate_n: f64,
    /// Slope of ln c against l_0.
    pub rate_l0: f64,
}

fn nvar_point(
    s: &NvarSettings,
    psi: &AnalyticFn,
    n_vars: usize,
    l0: usize,
    tag: &str,
) -> Result<ComplexityPoint> {
    if l0 >= s.len {
        return Err(Error::invalid(
            "l0",
            format!("l0 = {l0} must be <= L - 1 = {}", s.len - 1),
        ));
    }
    let spec = spec_of(s.len, s.d, s.c_min, s.c_max);
    spec.check()?;
    let positions = spread_positions(s.len, n_vars, l0);
    let mut g = rng::stream(s.seed, &format!("rnn-nvar/{tag}/N={n_vars}/l0={l0}"));
    let concept = NVariableConcept::random(
        s.len,
        s.d,
        positions.clone(),
        s.terms,
        psi,
        s.beta_norm,
        &mut g,
    )?;
    let real_l0 = concept.l0();
    let closed = concept_n_variable(&concept.psis(), n_vars, s.len, real_l0, spec.c0(), C1)?;
    let sample = draw(
        &spec,
        &Concept::NVariable(concept),
        s.n,
        s.threshold,
        1000 * s.n + 1000,
        &mut g,
    )?;
    let mut p = ComplexityPoint {
        len: s.len,
        n_vars,
        l0: real_l0,
        positions,
        drawn: sample.drawn,
        dropped: sample.dropped,
        complexity: None,
        complexity_raw: None,
        complexity_labels: None,
        closed_form_log10: closed.value.log10_value(),
        closed_form_parts_log10: Some((
            closed.multinomial_form.log10_value(),
            closed.distance_form.log10_value(),
        )),
        skipped: None,
    };
    measure(&sample, s.len, &mut p)?;
    Ok(p)
}

fn grows(points: &[ComplexityPoint]) -> bool {
    let v: Vec<f64> = points.iter().filter_map(|p| p.complexity).collect();
    v.len() >= 2 && v[v.len() - 1] > v[0]
}

/// Runs `rnn-nvar` and writes `out/rnn-nvar/`.
pub fn run_nvar(settings: &NvarSettings, out: &Path) -> Result<(ExperimentOutput, NvarResult)> {
    let t0 = Instant::now();
    let name = "rnn-nvar";
    let dir = out.join(name);
    let psi = AnalyticFn::parse(&settings.psi)?;
    let by_n = settings
        .ns
        .iter()
        .map(|&nv| nvar_point(settings, &psi, nv, settings.l0_for_n, "by-n"))
        .collect::<Result<Vec<_>>>()?;
    let by_l0 = settings
        .l0s
        .iter()
        .map(|&l0| nvar_point(settings, &psi, settings.n_for_l0, l0, "by-l0"))
        .collect::<Result<Vec<_>>>()?;
    let (xn, yn) = fitted(&by_n, |p| p.n_vars as f64);
    let (xl, yl) = fitted(&by_l0, |p| p.l0 as f64);
    let rate_n = least_squares(&xn, &yn).0;
    let rate_l0 = least_squares(&xl, &yl).0;
    let result = NvarResult {
        settings: settings.clone(),
        by_n,
        by_l0,
        rate_n,
        rate_l0,
    };
    let vals = |ps: &[ComplexityPoint]| -> serde_json::Value {
        json!(ps
            .iter()
            .map(
                |p| json!({"N": p.n_vars, "l0": p.l0, "complexity": p.complexity,
                "closed_form_log10": p.closed_form_log10, "skipped": p.skipped})
            )
            .collect::<Vec<_>>())
    };
    let claims = vec![
        Claim::new(
            format!(
                "N-variable targets (eq. 11): sqrt(y~^T (H^inf)^-1 y~) at the largest N exceeds \
                 the one at the smallest N (l0 = {} fixed)",
                settings.l0_for_n
            ),
            grows(&result.by_n),
            json!({"points": vals(&result.by_n), "ln_slope_per_N": rate_n}),
        ),
        Claim::new(
            format!(
                "N-variable targets (eq. 11): sqrt(y~^T (H^inf)^-1 y~) at the largest l0 exceeds \
                 the one at the smallest l0 (N = {} fixed)",
                settings.n_for_l0
            ),
            grows(&result.by_l0),
            json!({"points": vals(&result.by_l0), "ln_slope_per_l0": rate_l0}),
        ),
    ];
    let xs_n: Vec<f64> = result.by_n.iter().map(|p| p.n_vars as f64).collect();
    let xs_l: Vec<f64> = result.by_l0.iter().map(|p| p.l0 as f64).collect();
    let (mut files, mut figs) = write_outputs(
        &dir,
        out,
        "rnn_nvar_by_n",
        "N",
        &xs_n,
        &result.by_n,
        "Seed 004: complexity of N-variable targets against N (wang H^inf)",
        "N (number of positions)",
    )?;
    let (f2, g2) = write_outputs(
        &dir,
        out,
        "rnn_nvar_by_l0",
        "l0",
        &xs_l,
        &result.by_l0,
        "Seed 004: complexity of N-variable targets against l0 (wang H^inf)",
        "l0 = max l_n - min l_n",
    )?;
    files.extend(f2);
    figs.extend(g2);
    let mut output = ExperimentOutput {
        name: name.to_string(),
        title: "Recurrent complexity of N-variable targets against N and l0".into(),
        description: format!(
            "n = {} sequences, L = {}, d = {}, ||X_l|| uniform in [{}, {}]; F* = sum_r \
             {}(<beta_r, [X_l1..X_lN]>/(sqrt(N) max ||X_ln||)) ({} term(s), ||beta|| = {}), \
             positions spread evenly over L - l0 .. L; samples with |F*| < {} dropped, y~ = F*/{}. \
             N in {:?} at l0 = {}; l0 in {:?} at N = {}. Complexity sqrt(y~^T (H^inf)^-1 y~) with \
             the wang preset's H^inf by Cholesky, next to seed 004 eq. 12 (log10, unscaled psi).",
            settings.n,
            settings.len,
            settings.d,
            settings.c_min,
            settings.c_max,
            settings.psi,
            settings.terms,
            settings.beta_norm,
            settings.threshold,
            settings.threshold,
            settings.ns,
            settings.l0_for_n,
            settings.l0s,
            settings.n_for_l0
        ),
        claims,
        figures: figs,
        files,
        settings: serde_json::to_value(settings).expect("settings serialize"),
        seconds: t0.elapsed().as_secs_f64(),
    };
    write_result(out, &mut output, &result)?;
    Ok((output, result))
}
