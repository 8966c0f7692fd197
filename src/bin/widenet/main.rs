//! The `widenet` command line: one module per subcommand, each with its clap arguments
//! and a short `run` that calls the library (`widenet::commands` and the layers) and
//! prints a summary. Errors print as `error: …` and exit 1; Ctrl-C stops at the next
//! check (a second one exits 130).

use anyhow::Result;
use clap::{Parser, Subcommand};

mod analyze;
mod analyze_mnist;
mod bench;
mod complexity;
mod data;
mod kernel;
mod predict;
mod rejudge;
mod reproduce;
mod run;
mod train;

#[derive(Parser)]
#[command(
    name = "widenet",
    version,
    about = "Kernels, spectra, complexity measures and the papers' experiments for wide neural networks",
    long_about = "Run without a subcommand to reproduce every experiment at quick scale on built-in \
                  data: results go to widenet-results/ (report.html, JSON, CSV, PNG, SVG) and the \
                  papers' claims are printed with held / not held / inconclusive."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Memory budget for allocations sized by a file or a flag (e.g. 20G, 512M);
    /// default 75% of physical memory. Larger requests are refused up front; it decides
    /// `analyze`'s large-n path (dense, f32 or matrix-free); a kernel
    /// file larger than half of it is written in streaming mode (a few block rows in memory).
    #[arg(long, global = true)]
    memory_budget: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: every experiment at quick scale, report and claims table.
    Run(run::RunArgs),
    /// Compute a kernel matrix.
    Kernel {
        #[command(subcommand)]
        kind: kernel::KernelCmd,
    },
    /// Spectrum, label projections, complexity measure and predicted GD loss (JSON).
    Analyze(analyze::AnalyzeArgs),
    /// Seed 001's analysis (top-k spectrum, projections of even/odd and random
    /// labels, complexity measure) on every local MNIST image, all classes.
    AnalyzeMnist(analyze_mnist::AnalyzeMnistArgs),
    /// Train a learner network.
    Train {
        #[command(subcommand)]
        model: train::TrainCmd,
    },
    /// Export two-class, unit-norm arrays from MNIST or CIFAR-10 files.
    Data(data::DataArgs),
    /// Reproduce one of the papers' experiments.
    Reproduce(reproduce::ReproduceArgs),
    /// Recompute the claims of finished runs from their result.json without rerunning:
    /// DIR is an experiment directory (DIR/result.json) or an output directory
    /// (DIR/*/result.json). Prints the claims table and rewrites each result.json's
    /// claims (and DIR/report.html when DIR holds several experiments).
    Rejudge(rejudge::RejudgeArgs),
    /// Function and concept complexities of an analytic function (seeds 001-004).
    Complexity(complexity::ComplexityArgs),
    /// Benchmarks, as ratios against baselines measured in the same run.
    Bench(bench::BenchArgs),
    /// Infinite-width predictions on test points (gradient descent, ensemble, NNGP posterior).
    Predict(Box<predict::PredictCli>),
}

fn main() {
    // Ctrl-C asks long computations to stop at their next runtime::check_interrupt (they
    // unwind and write no partial output); a second Ctrl-C exits at once, for loops that
    // do not check yet.
    let _ = ctrlc::set_handler(|| {
        if widenet::runtime::interrupted() {
            std::process::exit(130);
        }
        widenet::runtime::request_interrupt();
    });
    if let Err(e) = dispatch(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    if let Some(b) = &cli.memory_budget {
        widenet::runtime::set_memory_budget(widenet::runtime::parse_bytes("--memory-budget", b)?);
    }
    match cli.command.unwrap_or(Command::Run(run::RunArgs::default())) {
        Command::Run(a) => run::run(a),
        Command::Kernel { kind } => kernel::run(kind),
        Command::Analyze(a) => analyze::run(a),
        Command::AnalyzeMnist(a) => analyze_mnist::run(a),
        Command::Train { model } => train::run(model),
        Command::Data(a) => data::run(a),
        Command::Reproduce(a) => reproduce::run(a),
        Command::Rejudge(a) => rejudge::run(a),
        Command::Complexity(a) => complexity::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Predict(a) => predict::run(*a),
    }
}
