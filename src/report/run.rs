//! The default run, `rejudge` and the HTML report of finished experiments: the report
//! layer's use of the experiment registry ([`crate::experiments::suite`]).

use crate::error::Result;
use crate::experiments::claim::Claim;
use crate::experiments::common::ExperimentOutput;
use crate::experiments::framework::{find_results, rejudge_file, store_rejudged};
use crate::experiments::suite::{names, registry, reproduce, ReproduceOptions};
use crate::report::html::{write_report, ReportSection};
use crate::report::table::claims_table;
use std::path::{Path, PathBuf};

/// What `widenet rejudge DIR` found and did.
#[derive(Clone, Debug)]
pub struct Rejudged {
    /// The recomputed claims, one entry per experiment.
    pub outputs: Vec<ExperimentOutput>,
    /// The claims table.
    pub table: String,
    /// Each result.json and how many verdicts changed.
    pub changed: Vec<(PathBuf, usize)>,
    /// The rewritten report (when `write`).
    pub report: Option<PathBuf>,
}

/// Recomputes the claims of the finished runs under `dir` (`dir/result.json` or
/// `dir/*/result.json`) from their saved settings and results, without rerunning.
/// With `write`, each result.json gets the new claims and `dir/report.html` is
/// rewritten.
pub fn rejudge(dir: &Path, write: bool) -> Result<Rejudged> {
    let paths = find_results(dir)?;
    let mut outputs = Vec::new();
    let mut changed = Vec::new();
    for p in &paths {
        let (saved, claims) = rejudge_file(registry(), p)?;
        let n_changed = if saved.claims.len() != claims.len() {
            claims.len().max(saved.claims.len())
        } else {
            saved
                .claims
                .iter()
                .zip(&claims)
                .filter(|(a, b)| a.verdict != b.verdict)
                .count()
        };
        if write {
            store_rejudged(p, &saved, &claims)?;
        }
        changed.push((p.clone(), n_changed));
        outputs.push(saved.to_output(claims));
    }
    // files are named relative to the directory above the experiment directories
    let out = paths[0]
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let rows: Vec<(String, Vec<Claim>)> = outputs
        .iter()
        .map(|o| (o.name.clone(), o.claims.clone()))
        .collect();
    let (report, table) = if write {
        let (r, t) = finish_report(&out, dir, &outputs)?;
        (Some(r), t)
    } else {
        (None, claims_table(&rows))
    };
    Ok(Rejudged {
        outputs,
        table,
        changed,
        report,
    })
}

/// Writes `report_dir/report.html` and `report_dir/claims_by_paper.md` for finished
/// experiments whose files are named relative to `out`, and returns the report's path and
/// the claims table.
pub fn finish_report(
    out: &Path,
    report_dir: &Path,
    outputs: &[ExperimentOutput],
) -> Result<(PathBuf, String)> {
    let sections: Vec<ReportSection> = outputs
        .iter()
        .map(|o| ReportSection {
            name: o.name.clone(),
            title: o.title.clone(),
            description: format!("{} ({:.1} s)", o.description, o.seconds),
            figures: o.figures.iter().map(|f| out.join(f)).collect(),
            claims: o.claims.clone(),
            settings: o.settings.clone(),
            files: o.files.iter().map(|f| out.join(f)).collect(),
        })
        .collect();
    let report = write_report(
        report_dir,
        "widenet: the papers' claims, measured",
        &sections,
    )?;
    let rows: Vec<(String, Vec<Claim>)> = outputs
        .iter()
        .map(|o| (o.name.clone(), o.claims.clone()))
        .collect();
    crate::artifacts::files::atomic_write(
        report_dir.join("claims_by_paper.md"),
        crate::report::by_paper::claims_by_paper_markdown(&rows).as_bytes(),
    )?;
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
    for name in names() {
        let o = reproduce(name, &opts)?;
        on_done(&o);
        outputs.push(o);
    }
    let (report, table) = finish_report(out, out, &outputs)?;
    Ok((outputs, report, table))
}
