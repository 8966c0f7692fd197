//! The recurrent complexity sqrt(ỹᵀ(H^∞)⁻¹ỹ) of seed 004 (Theorem 3, eqs. 20, 34, 37) on its
//! two concept classes, with the infinite-width kernel H^∞ of the `wang` preset
//! ([`crate::kernels::rnn_infinite::rnn_ntk_infinite`]) factored by Cholesky.
//!
//! - `rnn-length` ([`run_length`]): additive targets (eq. 9) against the sequence length L, and
//!   SGD learning curves on the same targets ([`learning_curves`]: Theorem 2's Algorithm 1 on the
//!   `wang` network, test 0-1 error against the number of samples N for several L; settings and
//!   the reasons for them in [`SgdCurveSettings::new`]).
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

//!
//! Files: this module holds what both experiments share (the measured point, the Cholesky
//! measurement, the log fits, the CSV/figure writer); `length.rs` is `rnn-length`'s kernel
//! part and experiment, `sgd_curves.rs` its SGD learning curves, `nvar.rs` is `rnn-nvar`.

pub mod length;
pub mod nvar;
pub mod sgd_curves;

pub use length::{
    remark_3_1_check, remark_4_2_check, run_length, LengthResult, LengthSettings, RnnLength,
};
pub use nvar::{run_nvar, spread_positions, NvarResult, NvarSettings, RnnNvar};
pub use sgd_curves::{learning_curves, CurvePoint, LearningCurve, SgdCurveSettings};

use super::claim::Claim;
use super::common::{spearman, ExperimentOutput, Precision, RunCache, Scale};
use super::framework::{run_typed, Artifacts, Context, Experiment};
use crate::artifacts::files::write_csv;
use crate::artifacts::plot::{save_figure, Figure, Series, Style};
use crate::data::rnn_concepts::{
    draw, AdditiveConcept, Concept, ConceptSample, InputSpec, NVariableConcept,
};
use crate::error::{Error, Result};
use crate::kernels::rnn_infinite::{backward_correlations, rnn_ntk_infinite};
use crate::linalg::least_squares;
use crate::linalg::{Cholesky, Matrix, Real};
use crate::models::rnn::{Objective, Preset, Rnn};
use crate::rng::{self, WRng};
use crate::taylor::AnalyticFn;
use crate::theory::complexity::{concept_additive, concept_n_variable, C1, REL_TOL};
use crate::train::rnn_sgd::{train_rnn_sgd, RnnData, RnnSgdConfig};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;

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

pub fn spec_of(len: usize, d: usize, c_min: f64, c_max: f64) -> InputSpec {
    InputSpec {
        len,
        d,
        c_min,
        c_max,
    }
}

#[allow(clippy::too_many_arguments)]
fn write_outputs(
    dir: &Path,
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
    Ok((vec![csv], vec![png]))
}
