//! `widenet kernel …`: a kernel matrix from inputs, written as .npy
//! (`widenet::commands::kernel_*`, [`widenet::kernels::compose::command`]).

use anyhow::{Context, Result};
use clap::Subcommand;
use std::path::PathBuf;
use widenet::commands;
use widenet::kernels::compose::command as compose;
use widenet::linalg::Precision;
use widenet::options::parse;

#[derive(Subcommand)]
pub enum KernelCmd {
    /// Infinite-width NTK of a fully connected ReLU net (NTK parameterization, no biases).
    FcNtk(FcNtkArgs),
    /// Gaussian kernel exp(-||x - y||^2 / h) (seed 003 §3).
    Gaussian(GaussianArgs),
    /// Arc-sine kernel arcsin(<x, y> / (||x|| ||y||)) (seed 003 §3).
    Arcsin(ArcsinArgs),
    /// NNGP or NTK of any architecture given as a spec (docs/compose.md), e.g.
    /// --arch "dense(b=0.1), relu, sum(identity, serial(dense, erf, dense, scale(0.5))), dense".
    Compose(ComposeArgs),
    /// Empirical NTK of a ReLU RNN at finite width (seed 004 eq. 23; presets elman, wang).
    RnnNtk(RnnNtkArgs),
    /// H^inf of a two-layer ReLU net (seed 001, eq. 3).
    ReluNtk(ReluNtkArgs),
}

#[derive(clap::Args)]
pub struct FcNtkArgs {
    /// Number of weight layers D (D - 1 hidden layers).
    #[arg(long)]
    depth: usize,
    /// Inputs, one sample per row (.npy).
    #[arg(long)]
    x: PathBuf,
    /// all: every layer trained; hidden: the last layer's own term dropped.
    #[arg(long, default_value = "all")]
    trained: String,
    /// Output .npy (n x n, f64).
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct GaussianArgs {
    #[arg(long)]
    x: PathBuf,
    /// The bandwidth h.
    #[arg(long)]
    bandwidth: f64,
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct ArcsinArgs {
    #[arg(long)]
    x: PathBuf,
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct ComposeArgs {
    /// The architecture spec.
    #[arg(long)]
    arch: String,
    #[arg(long)]
    x: PathBuf,
    /// ntk or nngp.
    #[arg(long, default_value = "ntk")]
    output: String,
    /// Output .npy (n x n, f64); the architecture is saved to <out>.arch.json.
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct RnnNtkArgs {
    /// elman (seed 002 Def. 3.3) or wang (seed 004 eq. 14).
    #[arg(long)]
    preset: String,
    /// Sequences, n x L x d_in (.npy), already in the network's input form.
    #[arg(long)]
    x: PathBuf,
    /// Width m of the empirical kernel.
    #[arg(
        long,
        required_unless_present = "infinite",
        conflicts_with = "infinite"
    )]
    width: Option<usize>,
    /// The infinite-width limit instead of the kernel at a finite width.
    #[arg(long)]
    infinite: bool,
    /// Output dimension d of the elman preset (wang has a scalar output).
    #[arg(long, default_value_t = 1)]
    d_out: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Directory for w.npy, a.npy, b.npy (and m0.npy for wang).
    #[arg(long)]
    save_params: Option<PathBuf>,
    /// Output .npy (n x n, f64).
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct ReluNtkArgs {
    /// Inputs, one sample per row (.npy).
    #[arg(long)]
    x: PathBuf,
    /// Output .npy (n x n).
    #[arg(long)]
    out: PathBuf,
    /// Precision of the computation and the output.
    #[arg(long, value_enum, default_value = "f64")]
    precision: Precision,
}

pub fn run(kind: KernelCmd) -> Result<()> {
    match kind {
        KernelCmd::ReluNtk(a) => {
            let (n, d) = commands::kernel_relu_ntk(&a.x, &a.out, a.precision)
                .with_context(|| format!("computing H^inf of {}", a.x.display()))?;
            eprintln!(
                "wrote {} ({n}x{n} H^inf of {n} inputs in dimension {d})",
                a.out.display()
            );
        }
        KernelCmd::FcNtk(a) => {
            let n =
                commands::kernel_fc_ntk(&a.x, a.depth, parse("--trained", &a.trained)?, &a.out)?;
            eprintln!(
                "wrote {} ({n}x{n} fc NTK, depth {}, {})",
                a.out.display(),
                a.depth,
                a.trained
            );
        }
        KernelCmd::Gaussian(a) => {
            let n = commands::kernel_gaussian(&a.x, a.bandwidth, &a.out)?;
            eprintln!(
                "wrote {} ({n}x{n} Gaussian kernel, h = {})",
                a.out.display(),
                a.bandwidth
            );
        }
        KernelCmd::Arcsin(a) => {
            let n = commands::kernel_arcsin(&a.x, &a.out)?;
            eprintln!("wrote {} ({n}x{n} arc-sine kernel)", a.out.display());
        }
        KernelCmd::Compose(a) => {
            let r = compose::kernel_compose(&a.arch, &a.x, parse("--output", &a.output)?, &a.out)?;
            let acc = r
                .quadrature_accuracy
                .map(|q| format!(", quadrature accuracy {q:.1e}"))
                .unwrap_or_default();
            eprintln!(
                "wrote {} ({n}x{n} {} of [{}]{acc}) and {}",
                a.out.display(),
                r.output.name(),
                r.spec,
                compose::record_path(&a.out).display(),
                n = r.n
            );
        }
        KernelCmd::RnnNtk(a) => {
            let (n, len, d) = commands::kernel_rnn_ntk(
                parse("--preset", &a.preset)?,
                &a.x,
                a.width,
                a.d_out,
                a.seed,
                a.save_params.as_deref(),
                &a.out,
            )?;
            let which = a
                .width
                .map_or("infinite width".to_string(), |m| format!("m = {m}"));
            eprintln!(
                "wrote {} ({n}x{n} RNN NTK, preset {}, L = {len}, d_in = {d}, {which})",
                a.out.display(),
                a.preset
            );
        }
    }
    Ok(())
}
