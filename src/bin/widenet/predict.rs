//! `widenet predict`: infinite-width predictions on test points (the logic is
//! [`widenet::theory::predict::cli`]).

use anyhow::Result;
use std::path::PathBuf;
use widenet::options::parse;
use widenet::theory::predict::cli::{self, NamedKernel, PredictArgs};
use widenet::theory::predict::Dynamics;

/// Infinite-width predictions on test points: gradient flow / descent on the squared
/// loss (`--mode gd`), the ensemble over initializations (`ensemble`: mean and
/// variance from the NTK and NNGP) or the NNGP posterior (`gp`). Writes predict.json,
/// curves.csv, curves.png/svg, test_mean.npy (times x n_test x outputs) and test_var.npy.
#[derive(clap::Args)]
pub struct PredictCli {
    /// gd, ensemble or gp.
    #[arg(long, default_value = "gd")]
    mode: String,
    /// A kernel by name, computed from --x-train/--x-test: any of the registry
    /// (relu_ntk = H^inf, fc_ntk (its NNGP is fc_nngp), fc_nngp, gaussian, arcsin,
    /// compose with --arch; dashes may replace underscores). Without it, give the arrays.
    #[arg(long)]
    kernel: Option<String>,
    /// An architecture spec (docs/compose.md): its NTK (NNGP for gp and the ensemble's
    /// covariance) is the kernel; implies --kernel compose.
    #[arg(long)]
    arch: Option<String>,
    /// Depth of fc-ntk / fc-nngp.
    #[arg(long, default_value_t = 3)]
    depth: usize,
    /// Bandwidth h of the Gaussian kernel exp(-||x-y||^2/h).
    #[arg(long, default_value_t = 1.0)]
    bandwidth: f64,
    /// Training inputs (.npy, n x d), with --kernel.
    #[arg(long)]
    x_train: Option<PathBuf>,
    /// Test inputs (.npy, n_test x d), with --kernel.
    #[arg(long)]
    x_test: Option<PathBuf>,
    /// Train-train kernel (.npy, n x n): the NTK (gd, ensemble) or the NNGP (gp).
    #[arg(long)]
    k_train: Option<PathBuf>,
    /// Test-train kernel (.npy, n_test x n).
    #[arg(long)]
    k_test_train: Option<PathBuf>,
    /// Test-test kernel (.npy, n_test x n_test, or its diagonal as a vector) for gp.
    #[arg(long)]
    k_test_test: Option<PathBuf>,
    /// NNGP train-train (.npy) for --mode ensemble with arrays.
    #[arg(long)]
    nngp_train: Option<PathBuf>,
    /// NNGP test-train (.npy) for --mode ensemble with arrays.
    #[arg(long)]
    nngp_test_train: Option<PathBuf>,
    /// NNGP test-test (.npy, full or diagonal) for --mode ensemble with arrays.
    #[arg(long)]
    nngp_test_test: Option<PathBuf>,
    /// Training labels (.npy, a vector of +-1 or an n x c one-hot matrix).
    #[arg(long)]
    y_train: PathBuf,
    /// Test labels (.npy), for the test curves.
    #[arg(long)]
    y_test: Option<PathBuf>,
    /// Initial outputs on the training points (.npy, n x c; gd; default 0).
    #[arg(long)]
    f0_train: Option<PathBuf>,
    /// Initial outputs on the test points (.npy, n_test x c; gd; default 0).
    #[arg(long)]
    f0_test: Option<PathBuf>,
    /// Times (steps), comma-separated; `inf` is kernel ridge regression.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0,1,10,100,1000,10000,inf"
    )]
    times: Vec<f64>,
    /// Learning rate eta.
    #[arg(long, default_value_t = 1.0)]
    learning_rate: f64,
    /// flow (continuous time) or steps (discrete gradient descent, whole t).
    #[arg(long, default_value = "flow")]
    schedule: String,
    /// Absolute ridge added to the diagonal of the training kernel.
    #[arg(long, default_value_t = 0.0)]
    ridge: f64,
    /// Loss normalization: mean (1/(2nc) sum, neural-tangents) or sum (1/2 sum, seed 001).
    #[arg(long, default_value = "mean")]
    loss_norm: String,
    /// Observation-noise variance of --mode gp.
    #[arg(long, default_value_t = 0.0)]
    noise: f64,
    /// Full test covariance (kernel by name) instead of the variances only.
    #[arg(long)]
    full_cov: bool,
    /// dense (one eigendecomposition), krylov (the kernel stored, top-k deflation and
    /// block Lanczos, Cholesky at t = inf) or matrix-free (a kernel by name: tiles
    /// recomputed at every product), every mode; accuracy reported per time and output
    /// (a covariance's in cov_rel_error). Default:
    /// dense when 3n^2 + n_test*n f64 fit the memory budget (the ensemble: 5n^2 +
    /// 2 n_test*n, its NNGP counted), else krylov when every kernel stored and the
    /// Cholesky factor do, else matrix-free.
    #[arg(long)]
    path: Option<String>,
    /// Top eigenpairs deflated on the krylov and matrix-free paths.
    #[arg(long, default_value_t = 50)]
    top_k: usize,
    /// Relative accuracy requested of the krylov and matrix-free paths.
    #[arg(long, default_value_t = 1e-6)]
    tol: f64,
    /// Progress bars with ETA on stderr.
    #[arg(long)]
    progress: bool,
    /// Output directory.
    #[arg(long, default_value = "widenet-predict")]
    out: PathBuf,
}

/// Runs `widenet predict` and prints a summary line.
pub fn run(a: PredictCli) -> Result<()> {
    let args = PredictArgs {
        kernel: NamedKernel::from_request(a.kernel, a.arch, a.depth, a.bandwidth),
        x_train: a.x_train,
        x_test: a.x_test,
        k_train: a.k_train,
        k_test_train: a.k_test_train,
        k_test_test: a.k_test_test,
        nngp_train: a.nngp_train,
        nngp_test_train: a.nngp_test_train,
        nngp_test_test: a.nngp_test_test,
        y_train: a.y_train,
        y_test: a.y_test,
        f0_train: a.f0_train,
        f0_test: a.f0_test,
        mode: parse("--mode", &a.mode)?,
        dynamics: Dynamics {
            times: a.times,
            learning_rate: a.learning_rate,
            schedule: parse("--schedule", &a.schedule)?,
            ridge: a.ridge,
            loss_norm: parse("--loss-norm", &a.loss_norm)?,
        },
        noise: a.noise,
        full_cov: a.full_cov,
        path: a.path.as_deref().map(|p| parse("--path", p)).transpose()?,
        top_k: a.top_k,
        tol: a.tol,
        show_progress: a.progress,
        out: a.out,
    };
    let r = cli::run(&args)?;
    let c = &r.curves;
    let last = c.times.len() - 1;
    let test = match (&c.test_mse, &c.test_error) {
        (Some(m), Some(e)) => format!(", test MSE {:.4e}, test 0-1 error {:.4}", m[last], e[last]),
        _ => String::new(),
    };
    let acc = match &r.achieved_rel_error {
        Some(a) => format!(
            ", achieved relative error <= {:.1e}",
            a.iter().flatten().fold(0.0f64, |m, v| m.max(*v))
        ),
        None => String::new(),
    };
    eprintln!(
        "n = {}, n_test = {}, {} outputs, path {}{acc} ({:.1} s); at t = {}: train MSE {:.4e}{test}; wrote {}",
        r.n_train,
        r.n_test,
        r.outputs,
        r.path,
        r.seconds,
        c.times[last],
        c.train_mse[last],
        args.out.display()
    );
    Ok(())
}
