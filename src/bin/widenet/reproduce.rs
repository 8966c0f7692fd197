//! `widenet reproduce NAME`: one of the papers' experiments
//! ([`widenet::commands::reproduce_cmd`]).

use anyhow::Result;
use std::path::PathBuf;
use widenet::commands::{reproduce_cmd, Reproduced};
use widenet::experiments::common::{Precision, Scale};
use widenet::experiments::suite::ReproduceOptions;

#[derive(clap::Args)]
pub struct ReproduceArgs {
    /// Experiment name (the registry in experiments::suite; an unknown name lists
    /// them all).
    name: String,
    /// Directory of MNIST or CIFAR-10 files (synthetic data otherwise).
    #[arg(long)]
    data: Option<PathBuf>,
    /// quick (seconds) or paper (the paper's settings).
    #[arg(long, value_enum, default_value = "quick")]
    scale: Scale,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory (results go to OUT/NAME/).
    #[arg(long, default_value = "widenet-results")]
    out: PathBuf,
    /// Override the number of training points (resnet-fig2a: run this one N only).
    #[arg(long)]
    n_train: Option<usize>,
    /// Override the width m.
    #[arg(long)]
    width: Option<usize>,
    /// Override the number of GD/SGD steps (formerly --iters).
    #[arg(long, alias = "iters")]
    steps: Option<usize>,
    /// Override the learning rate.
    #[arg(long)]
    eta: Option<f64>,
    /// Override the initialization scale kappa.
    #[arg(long)]
    kappa: Option<f64>,
    /// Override the training precision.
    #[arg(long, value_enum)]
    precision: Option<Precision>,
    /// Set any setting of the experiment by name: --set key=value (repeatable;
    /// lists comma-separated, `none` clears an optional setting). The old flags
    /// above are aliases of --set where the experiment has that setting, and an
    /// error where it does not. --show-settings lists the keys.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Print the resolved settings (defaults at --scale, overrides applied) and exit.
    #[arg(long)]
    show_settings: bool,
}

pub fn run(a: ReproduceArgs) -> Result<()> {
    let opts = ReproduceOptions {
        data: a.data,
        scale: a.scale,
        seed: a.seed,
        out: a.out,
        n_train: a.n_train,
        width: a.width,
        steps: a.steps,
        eta: a.eta,
        kappa: a.kappa,
        precision: a.precision,
        progress: true,
        set: Vec::new(),
    };
    match reproduce_cmd(&a.name, opts, &a.set, a.show_settings)? {
        Reproduced::Settings(s) => print!("{s}"),
        Reproduced::Ran {
            table,
            result,
            report,
        } => {
            println!("{table}");
            println!(
                "results: {}  report: {}",
                result.display(),
                report.display()
            );
        }
    }
    Ok(())
}
