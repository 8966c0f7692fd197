//! The experiment registry and `reproduce`: every experiment by name, its settings resolved
//! from the scale, seed and overrides. The default run, `rejudge` and the HTML report are
//! `report::run` (the report layer sits above the experiments).

use super::common::{ExperimentOutput, Precision, Scale};
use super::framework::{Context, Registered};
use super::{arora_fig1, arora_fig2};
use crate::error::{Error, Result};
use std::path::PathBuf;

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
    pub steps: Option<usize>,
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
        use crate::validate::{count_opt, positive_opt, MAX_POINTS, MAX_STEPS, MAX_WIDTH};
        count_opt("--n-train", self.n_train, 2, MAX_POINTS)?;
        count_opt("--width", self.width, 1, MAX_WIDTH)?;
        count_opt("--steps", self.steps, 1, MAX_STEPS)?;
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
            steps: None,
            eta: None,
            kappa: None,
            precision: None,
            progress: false,
            set: Vec::new(),
        }
    }

    /// The overrides for `exp`: the old flags (`--width`, `--steps`, `--eta`,
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
            ("steps", self.steps.map(|v| v.to_string())),
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
        // a --set key that is an old flag's name (e.g. steps for a setting called
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
    &arora_fig1::Fig1,
    &arora_fig2::Fig2,
    &super::arora_sec6::Sec6,
    &super::arora_bounds::AroraBounds,
    &super::complexity_examples::Examples,
    &super::rnn_kernel::RnnKernel,
    &super::rnn_complexity::RnnLength,
    &super::rnn_complexity::RnnNvar,
    &super::rnn_elman::Elman,
    &super::rnn_wang_checks::WangChecks,
    &super::resnet_fig2::Fig2A,
    &super::resnet_fig2::Fig2C,
    &super::resnet_hierarchy::FgDynamics,
    &super::resnet_hierarchy::Fig2aAblation,
    &super::resnet_fig3::Fig3,
    &super::resnet_fig3b::Fig3b,
    &super::resnet_kernel_bound::KernelBound,
    &super::resnet_separation::Separation,
];

/// The names `widenet reproduce` accepts, in the default run's order.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|e| e.name()).collect()
}

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
                format!("unknown experiment '{name}'; known: {}", names().join(", ")),
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
    let exp = find(name)?;
    let settings = exp.resolve(opts.scale, opts.seed, &opts.overrides(exp)?)?;
    let ctx = Context {
        out: opts.out.clone(),
        progress: opts.progress,
    };
    exp.run_json(&settings, &ctx)
}
