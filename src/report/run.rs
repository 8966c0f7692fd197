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
use std::sync::Mutex;

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
/// the claims table. The experiments run concurrently on the rayon pool
/// ([`run_concurrently`]); `on_done` is called after each experiment, in the order they
/// finish.
pub fn run_default(
    out: &Path,
    seed: u64,
    progress: bool,
    on_done: impl FnMut(&ExperimentOutput) + Send,
) -> Result<(Vec<ExperimentOutput>, PathBuf, String)> {
    let mut opts = ReproduceOptions::quick(out, seed);
    opts.progress = progress;
    let outputs = run_concurrently(&names(), &opts, on_done)?;
    let (report, table) = finish_report(out, out, &outputs)?;
    Ok((outputs, report, table))
}

/// CPU seconds of each experiment's quick-scale run, measured once (`widenet reproduce NAME`
/// under `/usr/bin/time`, user + sys, 2026-12-07): only the order in which
/// [`run_concurrently`] starts the experiments, heaviest first, so that the long ones
/// overlap the short ones. A name not listed counts as 0; a wrong figure only costs
/// wall-clock time, never changes a result.
const QUICK_CPU_SECONDS: &[(&str, f64)] = &[
    ("arora-fig2", 134.0),
    ("arora-fig1", 87.0),
    ("arora-bounds", 15.0),
    ("arora-sec6", 8.0),
    ("rnn-elman", 7.0),
];

/// Runs the named experiments with `opts` and returns their outputs in the order of
/// `names`, each written to `opts.out/NAME/` as [`reproduce`] writes it.
///
/// On a pool of more than one thread the experiments run concurrently, started
/// heaviest first ([`QUICK_CPU_SECONDS`]), each still parallel inside: the two long
/// GD experiments overlap the many short ones, whose serial parts (eigendecompositions,
/// figures, files) would otherwise leave a core idle. Every experiment's result is the same
/// bits at any thread count and whatever runs beside it (its random streams come from the
/// seed and its name; no state is shared between experiments), so the outputs equal a
/// sequential run's. Progress bars are drawn only on a one-thread pool, where the
/// experiments run one after the other in `names` order (bars of concurrent experiments
/// would overwrite each other); `on_done` reports each finished experiment either way.
/// The first error in `names` order is returned, after the other experiments finish.
pub fn run_concurrently(
    names: &[&str],
    opts: &ReproduceOptions,
    on_done: impl FnMut(&ExperimentOutput) + Send,
) -> Result<Vec<ExperimentOutput>> {
    let on_done = Mutex::new(on_done);
    let finish = |o: Result<ExperimentOutput>| {
        if let Ok(o) = &o {
            (on_done.lock().unwrap_or_else(|e| e.into_inner()))(o);
        }
        o
    };
    if rayon::current_num_threads() <= 1 {
        return names.iter().map(|n| finish(reproduce(n, opts))).collect();
    }
    let quiet = ReproduceOptions {
        progress: false,
        ..opts.clone()
    };
    let cost = |n: &str| {
        QUICK_CPU_SECONDS
            .iter()
            .find(|(k, _)| *k == n)
            .map_or(0.0, |(_, c)| *c)
    };
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| cost(names[b]).total_cmp(&cost(names[a])));
    let slots: Vec<Mutex<Option<Result<ExperimentOutput>>>> =
        names.iter().map(|_| Mutex::new(None)).collect();
    // a scope's owner thread runs its spawns newest first and the other threads steal
    // the oldest: spawning heaviest first puts the heaviest on the thieves at once and
    // lets the owner work up from the lightest
    rayon::scope(|s| {
        for &i in &order {
            let (slot, quiet, finish) = (&slots[i], &quiet, &finish);
            s.spawn(move |_| {
                let o = finish(reproduce(names[i], quiet));
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(o);
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every spawned experiment stores its output")
        })
        .collect()
}
