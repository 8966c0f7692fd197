//! The default run and `reproduce`: every experiment by name, the HTML report and
//! the claims table.

use super::common::{relative_to, DataSource, ExperimentOutput, Precision, Scale};
use super::framework::{Context, Registered};
use super::{arora_fig1, arora_fig2};
use crate::error::{Error, Result};
use crate::report::html::{write_report, ReportSection};
use crate::report::table::claims_table;
use std::path::{Path, PathBuf};

/// Names `widenet reproduce` accepts.
pub const EXPERIMENTS: &[&str] = &[
    "arora-fig1",
    "arora-fig2",
    "arora-sec6",
    "arora-bounds",
    "complexity-examples",
    "rnn-kernel",
    "rnn-length",
    "rnn-nvar",
    "rnn-elman",
    "rnn-wang-checks",
    "resnet-fig2a",
    "resnet-fig2c",
    "resnet-fg-dynamics",
    "resnet-fig2a-ablation",
    "resnet-fig3",
    "resnet-fig3b",
    "resnet-kernel-bound",
];

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
    /// Overrides: κ.
    pub kappa: Option<f64>,
    /// Overrides: precision.
    pub precision: Option<Precision>,
    /// Progress bars on stderr.
    pub progress: bool,
    /// `--set key=value`: any setting of the experiment by name.
    pub set: Vec<(String, String)>,
}

impl ReproduceOptions {
    /// Checks the overrides' ranges before any work, naming the flag: counts in
    /// [`crate::validate`]'s ranges (at least 2 training points: a kernel
    /// spectrum needs a λ_max and a λ_min), finite positive η and κ.
    pub fn validate(&self) -> Result<()> {
        use crate::validate::{count_opt, positive_opt, MAX_ITERS, MAX_POINTS, MAX_WIDTH};
        count_opt("--n-train", self.n_train, 2, MAX_POINTS)?;
        count_opt("--width", self.width, 1, MAX_WIDTH)?;
        count_opt("--iters", self.iters, 1, MAX_ITERS)?;
        positive_opt("--eta", self.eta)?;
        positive_opt("--kappa", self.kappa)?;
        Ok(())
    }

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
            kappa: None,
            precision: None,
            progress: false,
            set: Vec::new(),
        }
    }

    /// The overrides for `exp`: the old flags (`--width`, `--iters`, `--eta`,
    /// `--n-train`, `--kappa`, `--precision`, `--data`) as aliases of the settings
    /// they name there, then every `--set`. A flag the experiment has no setting for
    /// is refused, naming the experiment and the flag.
    pub fn overrides(&self, exp: &dyn Registered) -> Result<Vec<(String, String)>> {
        let precision = self.precision.map(|p| match p {
            Precision::F32 => "f32".to_string(),
            Precision::F64 => "f64".to_string(),
        });
        let flags: [(&str, Option<String>); 7] = [
            ("data", self.data.as_ref().map(|p| p.display().to_string())),
            ("n-train", self.n_train.map(|v| v.to_string())),
            ("width", self.width.map(|v| v.to_string())),
            ("iters", self.iters.map(|v| v.to_string())),
            ("eta", self.eta.map(|v| format!("{v:e}"))),
            ("kappa", self.kappa.map(|v| format!("{v:e}"))),
            ("precision", precision),
        ];
        let mut out = Vec::new();
        for (flag, value) in flags {
            let Some(value) = value else { continue };
            let Some(key) = exp.flag_key(flag) else {
                let mut keys = exp.keys();
                keys.retain(|k| k != "scale" && k != "seed");
                return Err(Error::invalid(
                    format!("--{flag}"),
                    format!(
                        "experiment '{}' has no such setting (its settings, for --set key=value: {})",
                        exp.name(),
                        keys.join(", ")
                    ),
                ));
            };
            out.push((key, value));
        }
        // a --set key that is an old flag's name (e.g. iters for a setting called
        // steps) means that setting; unknown keys are refused by the resolver
        let keys = exp.keys();
        for (k, v) in &self.set {
            let key = if keys.contains(k) {
                k.clone()
            } else {
                exp.flag_key(k).unwrap_or_else(|| k.clone())
            };
            out.push((key, v.clone()));
        }
        Ok(out)
    }
}

/// Every experiment, once: adding an experiment is one line here (plus its module in
/// `experiments/mod.rs`).
static REGISTRY: &[&dyn Registered] = &[
    &super::arora_sec6::Sec6,
    &super::arora_bounds::AroraBounds,
    &super::resnet_hierarchy::FgDynamics,
    &super::resnet_hierarchy::Fig2aAblation,
    &super::rnn_wang_checks::WangChecks,
    &super::resnet_fig3b::Fig3b,
];

/// The registered experiments, in the default run's order.
pub fn registry() -> &'static [&'static dyn Registered] {
    REGISTRY
}

/// The registered experiment called `name`, or an error listing the names.
pub fn find(name: &str) -> Result<&'static dyn Registered> {
    REGISTRY
        .iter()
        .copied()
        .find(|e| e.name() == name)
        .ok_or_else(|| {
            Error::invalid(
                "experiment",
                format!(
                    "unknown experiment '{name}'; known: {}",
                    EXPERIMENTS.join(", ")
                ),
            )
        })
}

/// The settings `reproduce NAME` with `opts` would run with (defaults at the scale,
/// the old flags and every `--set` applied, validated), for `--show-settings`.
pub fn resolve(name: &str, opts: &ReproduceOptions) -> Result<serde_json::Value> {
    opts.validate()?;
    let exp = find(name)?;
    exp.resolve(opts.scale, opts.seed, &opts.overrides(exp)?)
}

/// Runs one experiment by name, writing `out/NAME/result.json` and its figures.
pub fn reproduce(name: &str, opts: &ReproduceOptions) -> Result<ExperimentOutput> {
    opts.validate()?;
    if let Ok(exp) = find(name) {
        let settings = exp.resolve(opts.scale, opts.seed, &opts.overrides(exp)?)?;
        let ctx = Context {
            out: opts.out.clone(),
            progress: opts.progress,
        };
        return exp.run_json(&settings, &ctx);
    }
    let data = DataSource::detect(opts.data.as_deref())?;
    match name {
        "arora-fig1" => {
            let mut c = arora_fig1::Fig1Config::new(data, opts.scale, opts.seed);
            c.n_train = opts.n_train;
            c.width = opts.width;
            c.iters = opts.iters;
            c.eta = opts.eta;
            c.kappa = opts.kappa;
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
            if let Some(k) = opts.kappa {
                c.kappa = k;
            }
            c.precision = opts.precision;
            c.progress = opts.progress;
            Ok(arora_fig2::run(&c, &opts.out)?.0)
        }
        "rnn-kernel" => {
            let settings = super::rnn_kernel::RnnKernelSettings::new(opts.scale, opts.seed);
            Ok(super::rnn_kernel::run(&settings, &opts.out)?.0)
        }
        "rnn-length" => {
            let settings = super::rnn_complexity::LengthSettings::new(opts.scale, opts.seed);
            Ok(super::rnn_complexity::run_length(&settings, &opts.out)?.0)
        }
        "rnn-nvar" => {
            let settings = super::rnn_complexity::NvarSettings::new(opts.scale, opts.seed);
            Ok(super::rnn_complexity::run_nvar(&settings, &opts.out)?.0)
        }
        "rnn-elman" => {
            let mut settings = super::rnn_elman::ElmanSettings::new(opts.scale, opts.seed);
            if let Some(m) = opts.width {
                settings.width = m;
            }
            if let Some(t) = opts.iters {
                settings.steps = t;
                settings.eval_every = (t / 10).max(1);
            }
            if opts.eta.is_some() {
                settings.eta = opts.eta;
            }
            if let Some(p) = opts.precision {
                settings.precision = p;
            }
            settings.progress = opts.progress;
            Ok(super::rnn_elman::run(&settings, &opts.out)?.0)
        }
        "resnet-fig2a" => {
            let mut settings = super::resnet_fig2::Fig2Settings::new(opts.scale, opts.seed);
            settings.progress = opts.progress;
            if let Some(n) = opts.n_train {
                settings.sizes = vec![n];
            }
            Ok(super::resnet_fig2::run_fig2a(&settings, &opts.out)?.0)
        }
        "resnet-fig2c" => {
            let mut settings = super::resnet_fig2::Fig2Settings::new(opts.scale, opts.seed);
            settings.progress = opts.progress;
            Ok(super::resnet_fig2::run_fig2c(&settings, &opts.out)?.0)
        }
        "resnet-fig3" => {
            let mut settings = super::resnet_fig3::Fig3Settings::new(opts.scale, opts.seed);
            settings.progress = opts.progress;
            Ok(super::resnet_fig3::run(&settings, &opts.out)?.0)
        }
        "resnet-kernel-bound" => {
            let settings =
                super::resnet_kernel_bound::KernelBoundSettings::new(opts.scale, opts.seed);
            Ok(super::resnet_kernel_bound::run(&settings, &opts.out)?.0)
        }
        "complexity-examples" => complexity_examples_output(&opts.out, opts.seed),
        other => Err(Error::invalid(
            "experiment",
            format!(
                "unknown experiment '{other}'; known: {}",
                EXPERIMENTS.join(", ")
            ),
        )),
    }
}

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
    use super::framework::{find_results, rejudge_file, store_rejudged};
    let paths = find_results(dir)?;
    let mut outputs = Vec::new();
    let mut changed = Vec::new();
    for p in &paths {
        let (saved, claims) = rejudge_file(REGISTRY, p)?;
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
    let rows: Vec<(String, Vec<crate::report::table::Claim>)> = outputs
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

/// Writes `report_dir/report.html` for finished experiments whose files are named
/// relative to `out`, and returns the report's path and the claims table.
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
    let (report, table) = finish_report(out, out, &outputs)?;
    Ok((outputs, report, table))
}

/// Runs the complexity-examples table (issue 3): one claim per worked example of
/// the papers, the full table as CSV and JSON, and a plot of C(ψ, R) (seed 004
/// eq. 6) against R for the library's functions, which ends at each radius of
/// convergence.
fn complexity_examples_output(out: &Path, seed: u64) -> Result<ExperimentOutput> {
    use crate::report::plot::{save_figure, Figure, Series, Style};
    use crate::report::table::{atomic_write, Claim};
    use crate::theory::complexity::complexity_c;
    use crate::theory::taylor::AnalyticFn;
    let t0 = std::time::Instant::now();
    let name = "complexity-examples";
    let dir = out.join(name);
    let table = super::complexity_examples::run()?;
    // one claim per (paper, example)
    let mut groups: Vec<(String, Vec<&super::complexity_examples::ExampleRow>)> = Vec::new();
    for row in &table.rows {
        let key = format!("{} {}", row.paper, row.example);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(row),
            None => groups.push((key, vec![row])),
        }
    }
    let claims: Vec<Claim> = groups
        .iter()
        .map(|(key, rows)| {
            let held = rows.iter().all(|r| r.consistent);
            let mut measured = serde_json::Map::new();
            for r in rows {
                measured.insert(
                    format!("{} {} R={}", r.measure, r.function, r.r),
                    serde_json::Value::String(r.computed.clone()),
                );
            }
            let measured = serde_json::Value::Object(measured);
            Claim::new(
                format!(
                    "{key}: computed values agree with the paper's statement ({} cases; details in \
                     examples.csv)",
                    rows.len()
                ),
                held,
                measured,
            )
        })
        .collect();
    let csv = dir.join("examples.csv");
    atomic_write(&csv, table.to_csv().as_bytes())?;
    let grid: Vec<f64> = (1..=60).map(|i| i as f64 * 0.05).collect();
    let mut series = Vec::new();
    for spec in [
        "exp",
        "sin",
        "tanh",
        "arctan(z/2)",
        "z*arctan(z/2)",
        "sigmoid",
    ] {
        let f = AnalyticFn::parse(spec)?;
        let ys: Vec<f64> = grid
            .iter()
            .map(|&r| {
                complexity_c(&f, r, 1e-12)
                    .map(|v| if v.is_finite { v.value } else { f64::NAN })
                    .unwrap_or(f64::NAN)
            })
            .collect();
        series.push(Series::new(
            format!("C({}, R)", f.name()),
            grid.clone(),
            ys,
            Style::Line,
        ));
    }
    let fig = Figure {
        title:
            "Seed 004 eq. 6: C(psi, R) = 1 + sum_i i |c_i| R^i (ends at the radius of convergence)"
                .into(),
        x_label: "R".into(),
        y_label: "C(psi, R)".into(),
        log_x: false,
        log_y: true,
        series,
    };
    let (png, _) = save_figure(&fig, &dir, "complexity_vs_r")?;
    let settings = serde_json::json!({"seed": seed, "C1": table.c1, "C_star": table.c_star,
        "rel_tol": table.rel_tol, "note": "deterministic: the seed is recorded but unused"});
    let mut output = ExperimentOutput {
        name: name.to_string(),
        title: "Function and concept complexities of the papers' worked examples".into(),
        description: format!(
            "{} rows: seed 004 Examples 2.1-2.2, seed 001 Examples 6.1-6.4, seed 002 Example 2.1 \
             and seed 003's measure, each computed from exact Taylor coefficients and checked \
             against the closed form or order the paper states.",
            table.rows.len()
        ),
        claims,
        figures: vec![relative_to(&png, out)],
        files: vec![relative_to(&csv, out)],
        settings,
        seconds: t0.elapsed().as_secs_f64(),
    };
    super::common::write_result(out, &mut output, &table)?;
    Ok(output)
}
