//! The default run and `reproduce`: every experiment by name, the HTML report and
//! the claims table.

use super::common::{relative_to, DataSource, ExperimentOutput, Precision, Scale};
use super::{arora_fig1, arora_fig2};
use crate::error::{Error, Result};
use crate::report::html::{write_report, ReportSection};
use crate::report::table::claims_table;
use std::path::{Path, PathBuf};

/// Names `widenet reproduce` accepts.
pub const EXPERIMENTS: &[&str] = &["arora-fig1", "arora-fig2", "complexity-examples"];

/// Options shared by every experiment.
#[derive(Clone, Debug)]
pub struct ReproduceOptions {
    /// `--data DIR` (synthetic when absent).
    pub data: Option<PathBuf>,
    /// `--scale`.
    pub scale: Scale,
    /// `--seed`.
    pub seed: u64,
    /// `--out`.
    pub out: PathBuf,
    /// Overrides: training points.
    pub n_train: Option<usize>,
    /// Overrides: width.
    pub width: Option<usize>,
    /// Overrides: iterations.
    pub iters: Option<usize>,
    /// Overrides: η.
    pub eta: Option<f64>,
    /// Overrides: precision.
    pub precision: Option<Precision>,
    /// Progress bars on stderr.
    pub progress: bool,
}

impl ReproduceOptions {
    /// Quick scale on synthetic data into `out`.
    pub fn quick(out: impl Into<PathBuf>, seed: u64) -> Self {
        ReproduceOptions {
            data: None,
            scale: Scale::Quick,
            seed,
            out: out.into(),
            n_train: None,
            width: None,
            iters: None,
            eta: None,
            precision: None,
            progress: false,
        }
    }
}

/// Runs one experiment by name, writing `out/NAME/result.json` and its figures.
pub fn reproduce(name: &str, opts: &ReproduceOptions) -> Result<ExperimentOutput> {
    let data = DataSource::detect(opts.data.as_deref())?;
    match name {
        "arora-fig1" => {
            let mut c = arora_fig1::Fig1Config::new(data, opts.scale, opts.seed);
            c.n_train = opts.n_train;
            c.width = opts.width;
            c.iters = opts.iters;
            c.eta = opts.eta;
            c.precision = opts.precision;
            c.progress = opts.progress;
            Ok(arora_fig1::run(&c, &opts.out)?.0)
        }
        "arora-fig2" => {
            let mut c = arora_fig2::Fig2Config::new(data, opts.scale, opts.seed);
            c.n_train = opts.n_train;
            c.width = opts.width;
            c.iters = opts.iters;
            c.eta = opts.eta;
            c.precision = opts.precision;
            c.progress = opts.progress;
            Ok(arora_fig2::run(&c, &opts.out)?.0)
        }
        "complexity-examples" => complexity_examples_output(&opts.out),
        other => Err(Error::invalid(
            "experiment",
            format!(
                "unknown experiment '{other}'; known: {}",
                EXPERIMENTS.join(", ")
            ),
        )),
    }
}

/// Writes `out/report.html` for finished experiments and returns the claims table.
pub fn finish_report(out: &Path, outputs: &[ExperimentOutput]) -> Result<(PathBuf, String)> {
    let sections: Vec<ReportSection> = outputs
        .iter()
        .map(|o| ReportSection {
            name: o.name.clone(),
            title: o.title.clone(),
            description: format!("{} ({:.1} s)", o.description, o.seconds),
            figures: o.figures.clone(),
            claims: o.claims.clone(),
            settings: o.settings.clone(),
            files: o.files.clone(),
        })
        .collect();
    let report = write_report(out, "widenet: the papers' claims, measured", &sections)?;
    let rows: Vec<(String, Vec<crate::report::table::Claim>)> = outputs
        .iter()
        .map(|o| (o.name.clone(), o.claims.clone()))
        .collect();
    Ok((report, claims_table(&rows)))
}

/// The main job: every experiment at quick scale on built-in data, the report and
/// the claims table. `on_done` is called after each experiment.
pub fn run_default(
    out: &Path,
    seed: u64,
    progress: bool,
    mut on_done: impl FnMut(&ExperimentOutput),
) -> Result<(Vec<ExperimentOutput>, PathBuf, String)> {
    let mut opts = ReproduceOptions::quick(out, seed);
    opts.progress = progress;
    let mut outputs = Vec::new();
    for name in EXPERIMENTS {
        let o = reproduce(name, &opts)?;
        on_done(&o);
        outputs.push(o);
    }
    let (report, table) = finish_report(out, &outputs)?;
    Ok((outputs, relative_to(&report, Path::new("")), table))
}

/// Runs the complexity-examples table (issue 3) and writes its files.
fn complexity_examples_output(_out: &Path) -> Result<ExperimentOutput> {
    Err(Error::invalid(
        "experiment",
        "complexity-examples is not wired yet",
    ))
}
