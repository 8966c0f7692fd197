//! `widenet analyze`: spectrum, label projections, complexity measure and predicted GD
//! loss, as JSON ([`widenet::commands::analyze_cmd`]).

use anyhow::Result;
use std::path::PathBuf;
use widenet::commands::{analyze_cmd, AnalyzeLargeArgs};
use widenet::options::parse;

#[derive(clap::Args)]
pub struct AnalyzeArgs {
    /// Inputs, one sample per row (.npy, f32 or f64); the kernel is H^inf of them.
    #[arg(long, required_unless_present = "kernel", conflicts_with = "kernel")]
    x: Option<PathBuf>,
    /// A precomputed symmetric PSD kernel (.npy, n x n) instead of --x.
    #[arg(long)]
    kernel: Option<PathBuf>,
    /// Labels (.npy vector).
    #[arg(long)]
    y: PathBuf,
    /// Learning rate eta of the predicted dynamics (eq. 8).
    #[arg(long)]
    eta: f64,
    /// Number of GD steps of the predicted loss curve (formerly --iters).
    #[arg(long, alias = "iters")]
    steps: usize,
    /// Output JSON file.
    #[arg(long)]
    out: PathBuf,
    /// Force a path: dense (f64 kernel), f32 (f32 kernel, f64 solves) or matrix-free.
    #[arg(long)]
    path: Option<String>,
    /// Number of top eigenpairs (large-n path; default min(n, 1000)).
    #[arg(long)]
    top_k: Option<usize>,
    /// Relative accuracy of y^T H^-1 y on the large-n path.
    #[arg(long, default_value_t = 1e-6)]
    tol: f64,
    /// Seed of the Krylov start block and the CG probe (large-n path).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Preconditioner of the f32 path's solve: auto (measured), cholesky (f32
    /// factor), spectral-cg (inner CG on the stored f32 kernel) or spectral (the top-k'
    /// spectral deflation alone, on every path).
    #[arg(long)]
    precond: Option<String>,
}

pub fn run(a: AnalyzeArgs) -> Result<()> {
    let r = analyze_cmd(&AnalyzeLargeArgs {
        x: a.x,
        kernel: a.kernel,
        y: a.y,
        eta: a.eta,
        steps: a.steps,
        out: a.out.clone(),
        path: a.path.as_deref().map(|p| parse("--path", p)).transpose()?,
        top_k: a.top_k,
        tol: a.tol,
        seed: a.seed,
        precond: a
            .precond
            .as_deref()
            .map(|p| parse("--precond", p))
            .transpose()?,
    })?;
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!("{}; wrote {}", r.summary(), a.out.display());
    Ok(())
}
