//! `widenet analyze-mnist`: seed 001's analysis on every local MNIST image
//! ([`widenet::commands::analyze_mnist`]).

use anyhow::Result;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct AnalyzeMnistArgs {
    /// Directory with the MNIST IDX files.
    #[arg(long)]
    dir: PathBuf,
    /// Number of top eigenpairs.
    #[arg(long, default_value_t = 1000)]
    top_k: usize,
    /// Use at most this many images (train first).
    #[arg(long)]
    max_n: Option<usize>,
    /// Relative accuracy of y^T H^-1 y.
    #[arg(long, default_value_t = 1e-6)]
    tol: f64,
    /// Seed of the random labels and the solvers.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output JSON file.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(a: AnalyzeMnistArgs) -> Result<()> {
    let r = widenet::commands::analyze_mnist(&a.dir, a.top_k, a.max_n, a.tol, a.seed, &a.out)?;
    let an = &r.analysis;
    for (name, l) in r.labelings.iter().zip(&an.labels) {
        eprintln!(
            "{name}: y^T H^-1 y = {:.6e} (rel. error <= {:.1e}), complexity = {:.6}, \
             top-{} captures {:.4} of ||y||^2",
            l.y_hinv_y, l.achieved_rel_error, l.complexity_measure, an.top_k, l.captured_fraction
        );
    }
    eprintln!(
        "n = {} ({} train + {} test), path {}, lambda_max = {:.4e}, lambda_k = {:.4e}; wrote {}",
        an.n,
        r.n_train,
        r.n_test,
        an.path.name(),
        an.eigenvalues[0],
        an.eigenvalues.last().copied().unwrap_or(f64::NAN),
        a.out.display()
    );
    Ok(())
}
