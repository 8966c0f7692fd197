//! The `widenet` command line: parses arguments and calls the library.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use widenet::bench;
use widenet::commands;
use widenet::data::Split;
use widenet::experiments::common::{Precision, Scale};
use widenet::experiments::suite;
use widenet::report::run as report_run;

mod predict_args;

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

#[derive(Clone, Copy, ValueEnum)]
enum PrecisionArg {
    F32,
    F64,
}

impl From<PrecisionArg> for Precision {
    fn from(p: PrecisionArg) -> Self {
        match p {
            PrecisionArg::F32 => Precision::F32,
            PrecisionArg::F64 => Precision::F64,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ScaleArg {
    Quick,
    Paper,
}

#[derive(Clone, Copy, ValueEnum)]
enum SplitArg {
    Train,
    Test,
    /// Train then test, as one set (with --classes all or A,B).
    Both,
}

#[derive(Clone, Copy, ValueEnum)]
enum DatasetArg {
    Mnist,
    Cifar10,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: every experiment at quick scale, report and claims table.
    Run {
        /// Output directory.
        #[arg(long, default_value = "widenet-results")]
        out: PathBuf,
        /// Seed of every random draw.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Compute a kernel matrix.
    Kernel {
        #[command(subcommand)]
        kind: KernelCmd,
    },
    /// Spectrum, label projections, complexity measure and predicted GD loss (JSON).
    Analyze {
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
        /// Number of iterations of the predicted loss curve.
        #[arg(long)]
        iters: usize,
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
        /// factor) or spectral-cg (inner CG on the stored f32 kernel).
        #[arg(long)]
        precond: Option<String>,
    },
    /// Seed 001's analysis (top-k spectrum, projections of even/odd and random
    /// labels, complexity measure) on every local MNIST image, all classes.
    AnalyzeMnist {
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
    },
    /// Train a learner network.
    Train {
        #[command(subcommand)]
        model: TrainCmd,
    },
    /// Export two-class, unit-norm arrays from MNIST or CIFAR-10 files.
    Data {
        /// Dataset.
        dataset: DatasetArg,
        /// Directory with the dataset's files.
        #[arg(long)]
        dir: PathBuf,
        /// The two classes, first gets label +1; or `all` (every class, labelled by
        /// --labeling).
        #[arg(long, default_value = "0,1")]
        classes: String,
        /// With --classes all: even-odd, one-vs-rest:K or pair:A,B (+1 for the even
        /// digits, for class K, for A). Named in the sidecar Y.json next to --out-y.
        #[arg(long)]
        labeling: Option<String>,
        /// Which split.
        #[arg(long, value_enum, default_value = "train")]
        split: SplitArg,
        /// Keep only the first N images of the two classes.
        #[arg(long)]
        limit: Option<usize>,
        /// Output inputs (.npy, n x d, f64).
        #[arg(long)]
        out_x: PathBuf,
        /// Output labels (.npy, n, f64).
        #[arg(long)]
        out_y: PathBuf,
    },
    /// Reproduce one of the papers' experiments.
    Reproduce {
        /// Experiment name (the registry in experiments::suite; an unknown name lists
        /// them all).
        name: String,
        /// Directory of MNIST or CIFAR-10 files (synthetic data otherwise).
        #[arg(long)]
        data: Option<PathBuf>,
        /// quick (seconds) or paper (the paper's settings).
        #[arg(long, value_enum, default_value = "quick")]
        scale: ScaleArg,
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
        /// Override the iteration count.
        #[arg(long)]
        iters: Option<usize>,
        /// Override the learning rate.
        #[arg(long)]
        eta: Option<f64>,
        /// Override the initialization scale kappa.
        #[arg(long)]
        kappa: Option<f64>,
        /// Override the training precision.
        #[arg(long, value_enum)]
        precision: Option<PrecisionArg>,
        /// Set any setting of the experiment by name: --set key=value (repeatable;
        /// lists comma-separated, `none` clears an optional setting). The old flags
        /// above are aliases of --set where the experiment has that setting, and an
        /// error where it does not. --show-settings lists the keys.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Print the resolved settings (defaults at --scale, overrides applied) and exit.
        #[arg(long)]
        show_settings: bool,
    },
    /// Recompute the claims of finished runs from their result.json without rerunning:
    /// DIR is an experiment directory (DIR/result.json) or an output directory
    /// (DIR/*/result.json). Prints the claims table and rewrites each result.json's
    /// claims (and DIR/report.html when DIR holds several experiments).
    Rejudge {
        /// An experiment or output directory.
        dir: PathBuf,
        /// Print only; leave the result files as they are.
        #[arg(long)]
        dry_run: bool,
    },
    /// Function and concept complexities of an analytic function (seeds 001-004).
    Complexity {
        /// exp, sin, cos, tanh, sigmoid, arctan(z/2), z*arctan(z/2), a scale inside
        /// (exp(2z), sin(3z)), or poly:c0,c1,...
        function: String,
        /// C (seed 004 eq. 6), CN (eq. 7), ceps / cs (seeds 002/003), arora (seed 001 Cor. 6.2).
        #[arg(long)]
        measure: String,
        /// The radius R at which the series is evaluated.
        #[arg(long = "R")]
        r: f64,
        /// Number of variables N (measure CN).
        #[arg(long = "N")]
        n: Option<usize>,
        /// Sequence length L (measures CN and C).
        #[arg(long = "L")]
        l: Option<usize>,
        /// Target error epsilon (measure ceps).
        #[arg(long)]
        eps: Option<f64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Benchmarks, as ratios against baselines measured in the same run.
    Bench {
        /// Print a JSON list of records.
        #[arg(long)]
        json: bool,
        /// Small sizes (a smoke run of a few seconds).
        #[arg(long)]
        quick: bool,
        /// Run only the records whose names start with one of these (comma-separated, e.g.
        /// `rnn,resnet_step_ntk`); default: all.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Infinite-width predictions on test points (gradient descent, ensemble, NNGP posterior).
    Predict(Box<predict_args::PredictCli>),
}

#[derive(Subcommand)]
enum KernelCmd {
    /// Infinite-width NTK of a fully connected ReLU net (NTK parameterization, no biases).
    FcNtk {
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
    },
    /// Gaussian kernel exp(-||x - y||^2 / h) (seed 003 §3).
    Gaussian {
        #[arg(long)]
        x: PathBuf,
        /// The bandwidth h.
        #[arg(long)]
        bandwidth: f64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Arc-sine kernel arcsin(<x, y> / (||x|| ||y||)) (seed 003 §3).
    Arcsin {
        #[arg(long)]
        x: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// NNGP or NTK of any architecture given as a spec (docs/compose.md), e.g.
    /// --arch "dense(b=0.1), relu, sum(identity, serial(dense, erf, dense, scale(0.5))), dense".
    Compose {
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
    },
    /// Empirical NTK of a ReLU RNN at finite width (seed 004 eq. 23; presets elman, wang).
    RnnNtk {
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
    },
    /// H^inf of a two-layer ReLU net (seed 001, eq. 3).
    ReluNtk {
        /// Inputs, one sample per row (.npy).
        #[arg(long)]
        x: PathBuf,
        /// Output .npy (n x n).
        #[arg(long)]
        out: PathBuf,
        /// Precision of the computation and the output.
        #[arg(long, value_enum, default_value = "f64")]
        precision: PrecisionArg,
    },
}

#[derive(Subcommand)]
enum TrainCmd {
    /// The two-layer ReLU net of seed 001 by full-batch GD (eq. 6).
    TwoLayer {
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
        /// Iterations T.
        #[arg(long)]
        iters: usize,
        /// Stop once the training loss Phi falls to this.
        #[arg(long, default_value_t = 0.0)]
        loss_tol: f64,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, value_enum, default_value = "f32")]
        precision: PrecisionArg,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// The finite network of any architecture (a spec, docs/compose.md) by full-batch
    /// GD on the squared loss; writes metrics.json (loss per step) and param{i}.npy.
    Composed {
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
    },
}

fn default_run(out: PathBuf, seed: u64) -> Result<()> {
    eprintln!(
        "widenet: running every experiment at quick scale into {}",
        out.display()
    );
    use widenet::experiments::claim::tally;
    let (outputs, report, table) = report_run::run_default(&out, seed, true, |o| {
        let (held, not_held, inconclusive) = tally(&o.claims);
        eprintln!(
            "  {:<22} {:>6.1} s  {held} held, {not_held} not held, {inconclusive} inconclusive",
            o.name, o.seconds,
        );
    })?;
    println!("{table}");
    let (held, not_held, inconclusive) = tally(outputs.iter().flat_map(|o| &o.claims));
    println!(
        "{held} held, {not_held} not held, {inconclusive} inconclusive. Report: {}",
        report.display()
    );
    Ok(())
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
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    if let Some(b) = &cli.memory_budget {
        widenet::runtime::set_memory_budget(widenet::runtime::parse_bytes("--memory-budget", b)?);
    }
    let command = cli.command.unwrap_or(Command::Run {
        out: PathBuf::from("widenet-results"),
        seed: 0,
    });
    match command {
        Command::Run { out, seed } => {
            // one owner per output directory (released when this arm ends)
            let _lock = widenet::lock::OutputLock::acquire(&out)?;
            default_run(out, seed)?
        }
        Command::Kernel {
            kind: KernelCmd::ReluNtk { x, out, precision },
        } => {
            let (n, d) = commands::kernel_relu_ntk(&x, &out, precision.into())
                .with_context(|| format!("computing H^inf of {}", x.display()))?;
            eprintln!(
                "wrote {} ({n}x{n} H^inf of {n} inputs in dimension {d})",
                out.display()
            );
        }
        Command::Kernel {
            kind:
                KernelCmd::FcNtk {
                    depth,
                    x,
                    trained,
                    out,
                },
        } => {
            let n = commands::kernel_fc_ntk(&x, depth, &trained, &out)?;
            eprintln!(
                "wrote {} ({n}x{n} fc NTK, depth {depth}, {trained})",
                out.display()
            );
        }
        Command::Kernel {
            kind: KernelCmd::Gaussian { x, bandwidth, out },
        } => {
            let n = commands::kernel_gaussian(&x, bandwidth, &out)?;
            eprintln!(
                "wrote {} ({n}x{n} Gaussian kernel, h = {bandwidth})",
                out.display()
            );
        }
        Command::Kernel {
            kind: KernelCmd::Arcsin { x, out },
        } => {
            let n = commands::kernel_arcsin(&x, &out)?;
            eprintln!("wrote {} ({n}x{n} arc-sine kernel)", out.display());
        }
        Command::Kernel {
            kind:
                KernelCmd::Compose {
                    arch,
                    x,
                    output,
                    out,
                },
        } => {
            let r = widenet::kernels::compose::command::kernel_compose(&arch, &x, &output, &out)?;
            let acc = r
                .quadrature_accuracy
                .map(|a| format!(", quadrature accuracy {a:.1e}"))
                .unwrap_or_default();
            eprintln!(
                "wrote {} ({n}x{n} {} of [{}]{acc}) and {}",
                out.display(),
                r.output.name(),
                r.spec,
                widenet::kernels::compose::command::record_path(&out).display(),
                n = r.n
            );
        }
        Command::Kernel {
            kind:
                KernelCmd::RnnNtk {
                    preset,
                    x,
                    width,
                    infinite: _,
                    d_out,
                    seed,
                    save_params,
                    out,
                },
        } => {
            if let Some(dir) = &save_params {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            let (n, len, d) = commands::kernel_rnn_ntk(
                &preset,
                &x,
                width,
                d_out,
                seed,
                save_params.as_deref(),
                &out,
            )?;
            let which = width.map_or("infinite width".to_string(), |m| format!("m = {m}"));
            eprintln!(
                "wrote {} ({n}x{n} RNN NTK, preset {preset}, L = {len}, d_in = {d}, {which})",
                out.display()
            );
        }
        Command::AnalyzeMnist {
            dir,
            top_k,
            max_n,
            tol,
            seed,
            out,
        } => {
            let cfg = widenet::experiments::large_n_mnist::MnistLargeNConfig {
                top_k,
                max_n,
                tol,
                seed,
                eta: 1e-3,
                iters: 1000,
            };
            let r = widenet::experiments::large_n_mnist::run(&dir, &cfg, &out, true)?;
            let a = &r.analysis;
            for (name, l) in r.labelings.iter().zip(&a.labels) {
                eprintln!(
                    "{name}: y^T H^-1 y = {:.6e} (rel. error <= {:.1e}), complexity = {:.6}, \
                     top-{} captures {:.4} of ||y||^2",
                    l.y_hinv_y,
                    l.achieved_rel_error,
                    l.complexity_measure,
                    a.top_k,
                    l.captured_fraction
                );
            }
            eprintln!(
                "n = {} ({} train + {} test), path {}, lambda_max = {:.4e}, lambda_k = {:.4e}; wrote {}",
                a.n,
                r.n_train,
                r.n_test,
                a.path.name(),
                a.eigenvalues[0],
                a.eigenvalues.last().copied().unwrap_or(f64::NAN),
                out.display()
            );
        }
        Command::Analyze {
            x,
            kernel,
            y,
            eta,
            iters,
            out,
            path,
            top_k,
            tol,
            seed,
            precond,
        } => {
            let large = commands::AnalyzeLargeArgs {
                x: x.clone(),
                kernel,
                y: y.clone(),
                eta,
                iters,
                out: out.clone(),
                path,
                top_k,
                tol,
                seed,
                precond,
            };
            let r = match commands::analyze_large_n(&large)? {
                Some(r) => r,
                None => {
                    let x = x.context("--x is required")?;
                    commands::analyze(&x, &y, eta, iters, &out)?
                }
            };
            for w in &r.warnings {
                eprintln!("warning: {w}");
            }
            eprintln!("{}; wrote {}", r.summary(), out.display());
        }
        Command::Train {
            model:
                TrainCmd::TwoLayer {
                    x,
                    y,
                    x_test,
                    y_test,
                    width,
                    kappa,
                    eta,
                    iters,
                    loss_tol,
                    seed,
                    precision,
                    out,
                },
        } => {
            let args = commands::TrainArgs {
                x,
                y,
                x_test,
                y_test,
                width,
                kappa,
                eta,
                iters,
                loss_tol,
                seed,
                precision: precision.into(),
                out: out.clone(),
                progress: true,
            };
            let m = commands::train_two_layer_cmd(&args)?;
            let loss = m["loss"].as_array().and_then(|l| l.last().cloned());
            eprintln!(
                "trained {} iterations, final loss {}; wrote {}/metrics.json, w0.npy, a.npy, w.npy",
                m["iterations"],
                loss.unwrap_or_default(),
                out.display()
            );
        }
        Command::Train {
            model:
                TrainCmd::Composed {
                    arch,
                    x,
                    y,
                    width,
                    eta,
                    steps,
                    seed,
                    out,
                },
        } => {
            let r = commands::train_composed_cmd(&commands::TrainComposedArgs {
                arch,
                x,
                y,
                width,
                eta,
                steps,
                seed,
                out: out.clone(),
            })?;
            eprintln!(
                "trained [{}] at width {} for {} steps, loss {:.4e} -> {:.4e}; wrote {}/metrics.json and {} parameter files",
                r.spec,
                r.width,
                r.steps,
                r.loss.first().copied().unwrap_or(f64::NAN),
                r.loss.last().copied().unwrap_or(f64::NAN),
                out.display(),
                r.params.len()
            );
        }
        Command::Data {
            dataset,
            dir,
            classes,
            labeling,
            split,
            limit,
            out_x,
            out_y,
        } => {
            let name = match dataset {
                DatasetArg::Mnist => "mnist",
                DatasetArg::Cifar10 => "cifar10",
            };
            use widenet::data::labeling::{Labeling, Splits};
            let labeled = match (classes.trim(), labeling.as_deref()) {
                ("all", Some(l)) => Some(Labeling::parse(l)?),
                ("all", None) => anyhow::bail!(
                    "--classes all needs --labeling even-odd, one-vs-rest:K or pair:A,B"
                ),
                (_, Some(_)) => anyhow::bail!(
                    "--labeling needs --classes all (--classes A,B is the same as pair:A,B)"
                ),
                (c, None) if matches!(split, SplitArg::Both) => {
                    let (a, b) = commands::parse_classes(c)?;
                    Some(Labeling::Pair(a, b))
                }
                _ => None,
            };
            if let Some(labeling) = labeled {
                let splits = match split {
                    SplitArg::Train => Splits::Train,
                    SplitArg::Test => Splits::Test,
                    SplitArg::Both => Splits::Both,
                };
                let s =
                    commands::export_labeled(name, &dir, splits, labeling, limit, &out_x, &out_y)?;
                eprintln!(
                    "wrote {} x {} inputs to {} and labels to {} ({} {}, labeling {}: {} \
                     labelled +1 (classes {:?}), {} labelled -1; settings in {})",
                    s.n,
                    s.d,
                    out_x.display(),
                    out_y.display(),
                    s.dataset,
                    s.split,
                    s.labeling,
                    s.n_positive,
                    s.positive_classes,
                    s.n_negative,
                    out_y.with_extension("json").display()
                );
                return Ok(());
            }
            let split = match split {
                SplitArg::Train => Split::Train,
                SplitArg::Test => Split::Test,
                SplitArg::Both => unreachable!("--split both goes through the labeled path"),
            };
            let classes = commands::parse_classes(&classes)?;
            let (n, d) =
                commands::export_two_class(name, &dir, classes, split, limit, &out_x, &out_y)?;
            eprintln!(
                "wrote {n} x {d} inputs to {} and labels to {}",
                out_x.display(),
                out_y.display()
            );
        }
        Command::Reproduce {
            name,
            data,
            scale,
            seed,
            out,
            n_train,
            width,
            iters,
            eta,
            kappa,
            precision,
            set,
            show_settings,
        } => {
            let set = set
                .iter()
                .map(|a| widenet::experiments::framework::parse_assignment(a))
                .collect::<widenet::Result<Vec<_>>>()?;
            let opts = suite::ReproduceOptions {
                data,
                scale: match scale {
                    ScaleArg::Quick => Scale::Quick,
                    ScaleArg::Paper => Scale::Paper,
                },
                seed,
                out: out.clone(),
                n_train,
                width,
                iters,
                eta,
                kappa,
                precision: precision.map(Into::into),
                progress: true,
                set,
            };
            opts.validate()?;
            if show_settings {
                let resolved = suite::resolve(&name, &opts)?;
                print!(
                    "{}",
                    widenet::experiments::framework::show_settings(&name, opts.scale, &resolved)
                );
                return Ok(());
            }
            let _lock = widenet::lock::OutputLock::acquire(&out)?;
            let o = suite::reproduce(&name, &opts)?;
            let (report, table) =
                report_run::finish_report(&out, &out.join(&name), std::slice::from_ref(&o))?;
            println!("{table}");
            println!(
                "results: {}  report: {}",
                out.join(&name).join("result.json").display(),
                report.display()
            );
        }
        Command::Rejudge { dir, dry_run } => {
            let r = report_run::rejudge(&dir, !dry_run)?;
            println!("{}", r.table);
            for (path, changed) in &r.changed {
                if *changed > 0 {
                    println!("{}: {changed} verdict(s) changed", path.display());
                }
            }
            if let Some(report) = &r.report {
                println!("report: {}", report.display());
            }
        }
        Command::Complexity {
            function,
            measure,
            r,
            n,
            l,
            eps,
            json,
        } => {
            let v =
                widenet::theory::complexity::complexity_json(&function, &measure, r, n, l, eps)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!(
                    "{} of {} at R = {}: {}",
                    v["measure"].as_str().unwrap_or(&measure),
                    v["function"].as_str().unwrap_or(&function),
                    r,
                    match &v["value"] {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }
                );
                if let Some(note) = v["note"].as_str() {
                    println!("note: {note}");
                }
            }
        }
        Command::Bench { json, quick, only } => {
            let sizes = if quick {
                bench::BenchSizes::quick()
            } else {
                bench::BenchSizes::full()
            };
            let records = bench::run_only(&sizes, &only, |r| {
                if !json {
                    println!(
                        "{:<21} {:>10}  {:>8}  ratio {:>6}  {}",
                        r.name,
                        if r.seconds < 1e-3 {
                            format!("{:.1} us", r.seconds * 1e6)
                        } else if r.seconds < 1.0 {
                            format!("{:.2} ms", r.seconds * 1e3)
                        } else {
                            format!("{:.3} s", r.seconds)
                        },
                        r.gflops.map(|g| format!("{g:.0} GF/s")).unwrap_or_default(),
                        r.ratio.map(|x| format!("{x:.2}")).unwrap_or_default(),
                        r.detail
                    );
                }
            })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&records)?);
            }
        }
        Command::Predict(a) => predict_args::run(*a)?,
    }
    Ok(())
}
