//! `widenet train …`: a learner network trained by full-batch GD
//! ([`widenet::commands::train_two_layer_cmd`], [`widenet::commands::train_composed_cmd`]).

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;
use widenet::commands::{self, TrainArgs, TrainComposedArgs};
use widenet::linalg::Precision;

#[derive(Subcommand)]
pub enum TrainCmd {
    /// The two-layer ReLU net of seed 001 by full-batch GD (eq. 6).
    TwoLayer(TwoLayerArgs),
    /// The finite network of any architecture (a spec, docs/compose.md) by full-batch
    /// GD on the squared loss; writes metrics.json (loss per step) and param{i}.npy.
    Composed(ComposedArgs),
}

#[derive(clap::Args)]
pub struct TwoLayerArgs {
    #[arg(long)]
    x: PathBuf,
    #[arg(long)]
    y: PathBuf,
    #[arg(long)]
    x_test: Option<PathBuf>,
    #[arg(long)]
    y_test: Option<PathBuf>,
    /// Width m.
    #[arg(long, default_value_t = 10_000)]
    width: usize,
    /// Initialization scale kappa.
    #[arg(long, default_value_t = 1e-2)]
    kappa: f64,
    /// Learning rate eta.
    #[arg(long)]
    eta: f64,
    /// GD steps T (formerly --iters).
    #[arg(long, alias = "iters")]
    steps: usize,
    /// Stop once the training loss Phi falls to this.
    #[arg(long, default_value_t = 0.0)]
    loss_tol: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_enum, default_value = "f32")]
    precision: Precision,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct ComposedArgs {
    /// The architecture, e.g. "dense(b=0.1), relu, dense".
    #[arg(long)]
    arch: String,
    #[arg(long)]
    x: PathBuf,
    #[arg(long)]
    y: PathBuf,
    /// Width m of the dense layers without a width field.
    #[arg(long, default_value_t = 512)]
    width: usize,
    /// Learning rate eta.
    #[arg(long)]
    eta: f64,
    /// GD steps.
    #[arg(long)]
    steps: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(model: TrainCmd) -> Result<()> {
    match model {
        TrainCmd::TwoLayer(a) => {
            let m = commands::train_two_layer_cmd(&TrainArgs {
                x: a.x,
                y: a.y,
                x_test: a.x_test,
                y_test: a.y_test,
                width: a.width,
                kappa: a.kappa,
                eta: a.eta,
                steps: a.steps,
                loss_tol: a.loss_tol,
                seed: a.seed,
                precision: a.precision,
                out: a.out.clone(),
                progress: true,
            })?;
            let loss = m["loss"].as_array().and_then(|l| l.last().cloned());
            eprintln!(
                "trained {} iterations, final loss {}; wrote {}/metrics.json, w0.npy, a.npy, w.npy",
                m["iterations"],
                loss.unwrap_or_default(),
                a.out.display()
            );
        }
        TrainCmd::Composed(a) => {
            let r = commands::train_composed_cmd(&TrainComposedArgs {
                arch: a.arch,
                x: a.x,
                y: a.y,
                width: a.width,
                eta: a.eta,
                steps: a.steps,
                seed: a.seed,
                out: a.out.clone(),
            })?;
            eprintln!(
                "trained [{}] at width {} for {} steps, loss {:.4e} -> {:.4e}; wrote {}/metrics.json and {} parameter files",
                r.spec,
                r.width,
                r.steps,
                r.loss.first().copied().unwrap_or(f64::NAN),
                r.loss.last().copied().unwrap_or(f64::NAN),
                a.out.display(),
                r.params.len()
            );
        }
    }
    Ok(())
}
