//! The subcommands behind `widenet …`: each reads its inputs, calls the library
//! and writes files other programs can rely on (names documented in the README).

use crate::data::labels::{normalize_rows, two_class};
use crate::data::{cifar, mnist, npy, Split};
use crate::error::{Error, Result};
use crate::experiments::common::Precision;
use crate::kernels::h_inf;
use crate::linalg::{Matrix, Real};
use crate::report::table::write_json;
use crate::theory::spectrum::KernelAnalysis;
use crate::train::{train_two_layer, GdConfig};
use serde_json::json;
use std::path::{Path, PathBuf};

/// `widenet kernel relu-ntk`: H^∞ (eq. 3) of the rows of X, written as .npy.
pub fn kernel_relu_ntk(x_path: &Path, out: &Path, precision: Precision) -> Result<(usize, usize)> {
    match precision {
        Precision::F64 => {
            let x: Matrix<f64> = npy::read_matrix(x_path)?;
            let h = h_inf(&x)?;
            npy::write_matrix(out, &h)?;
            Ok(x.shape())
        }
        Precision::F32 => {
            let x: Matrix<f32> = npy::read_matrix(x_path)?;
            let h = h_inf(&x)?;
            npy::write_matrix(out, &h)?;
            Ok(x.shape())
        }
    }
}

fn read_xy(x_path: &Path, y_path: &Path) -> Result<(Matrix<f64>, Vec<f64>)> {
    let ds = crate::data::labels::dataset_from_npy(x_path, y_path)?;
    Ok((ds.x, ds.y))
}

/// `widenet analyze`: spectrum, projections, yᵀ(H^∞)⁻¹y, complexity measure and the
/// predicted loss curve, as JSON.
pub fn analyze(
    x_path: &Path,
    y_path: &Path,
    eta: f64,
    iters: usize,
    out: &Path,
) -> Result<crate::theory::spectrum::Analysis> {
    let (x, y) = read_xy(x_path, y_path)?;
    let a = analyze_arrays(&x, &y, eta, iters)?;
    write_json(out, &a)?;
    Ok(a)
}

/// The array-level twin of [`analyze`] (used by the Python package): H^∞ of the rows of
/// `x`, its spectrum, the projections of `y`, yᵀ(H^∞)⁻¹y, the complexity measure and the
/// predicted loss curve of eq. 8.
pub fn analyze_arrays(
    x: &Matrix<f64>,
    y: &[f64],
    eta: f64,
    iters: usize,
) -> Result<crate::theory::spectrum::Analysis> {
    if y.len() != x.rows() {
        return Err(Error::Shape(format!(
            "{} labels for {} inputs",
            y.len(),
            x.rows()
        )));
    }
    let h = h_inf(x)?;
    let ka = KernelAnalysis::new(&h)?;
    ka.analyze(y, eta, iters)
}

/// Arguments of `widenet train two-layer`.
#[derive(Clone, Debug)]
pub struct TrainArgs {
    /// Training inputs.
    pub x: PathBuf,
    /// Training labels.
    pub y: PathBuf,
    /// Optional test inputs.
    pub x_test: Option<PathBuf>,
    /// Optional test labels.
    pub y_test: Option<PathBuf>,
    /// Width m.
    pub width: usize,
    /// κ.
    pub kappa: f64,
    /// η.
    pub eta: f64,
    /// Iterations T.
    pub iters: usize,
    /// Stop early when Φ ≤ this.
    pub loss_tol: f64,
    /// Seed.
    pub seed: u64,
    /// Precision.
    pub precision: Precision,
    /// Output directory.
    pub out: PathBuf,
    /// Progress bar.
    pub progress: bool,
}

/// `widenet train two-layer`: trains the net of seed 001 §3.1 by GD and writes
/// metrics.json, w0.npy, a.npy and w.npy.
pub fn train_two_layer_cmd(args: &TrainArgs) -> Result<serde_json::Value> {
    let (x, y) = read_xy(&args.x, &args.y)?;
    let test = match (&args.x_test, &args.y_test) {
        (Some(a), Some(b)) => Some(read_xy(a, b)?),
        (None, None) => None,
        _ => {
            return Err(Error::invalid(
                "--x-test/--y-test",
                "give both the test inputs and the test labels, or neither",
            ))
        }
    };
    if let Some((tx, _)) = &test {
        if tx.cols() != x.cols() {
            return Err(Error::Shape(format!(
                "test inputs have dimension {} but training inputs {}",
                tx.cols(),
                x.cols()
            )));
        }
    }
    match args.precision {
        Precision::F32 => train_and_save::<f32>(args, &x, &y, test.as_ref()),
        Precision::F64 => train_and_save::<f64>(args, &x, &y, test.as_ref()),
    }
}

fn train_and_save<T: Real>(
    args: &TrainArgs,
    x: &Matrix<f64>,
    y: &[f64],
    test: Option<&(Matrix<f64>, Vec<f64>)>,
) -> Result<serde_json::Value> {
    let cfg = GdConfig {
        eta: args.eta,
        max_iters: args.iters,
        loss_tol: args.loss_tol,
        eval_every: 1,
        progress: args.progress,
    };
    let t0 = std::time::Instant::now();
    let o = train_two_layer::<T>(
        x,
        y,
        test.map(|(a, b)| (a, b.as_slice())),
        args.width,
        args.kappa,
        args.seed,
        &cfg,
    )?;
    let seconds = t0.elapsed().as_secs_f64();
    std::fs::create_dir_all(&args.out).map_err(|e| Error::io(&args.out, e))?;
    npy::write_matrix(args.out.join("w0.npy"), &o.w0)?;
    npy::write_vector(args.out.join("a.npy"), &o.net.a)?;
    npy::write_matrix(args.out.join("w.npy"), &o.net.w)?;
    let metrics = json!({
        "settings": {
            "x": args.x, "y": args.y, "x_test": args.x_test, "y_test": args.y_test,
            "width": args.width, "kappa": args.kappa, "eta": args.eta, "iters": args.iters,
            "loss_tol": args.loss_tol, "seed": args.seed, "precision": T::NAME,
            "n": x.rows(), "d": x.cols(),
        },
        "iterations": o.iterations,
        "stop": o.stop,
        "seconds": seconds,
        "loss": o.metrics.loss,
        "w_dist_fro": o.metrics.w_dist_fro,
        "w_dist_max": o.metrics.w_dist_max,
        "pattern_changed": o.metrics.pattern_changed,
        "test_iteration": o.metrics.test_iteration,
        "test_l1": o.metrics.test_l1,
        "test_error": o.metrics.test_error,
        "train_predictions": o.u,
    });
    write_json(args.out.join("metrics.json"), &metrics)?;
    Ok(metrics)
}

/// `widenet data mnist|cifar10`: the two-class, unit-norm arrays the experiments use
/// (label +1 for the first class, −1 for the second, seed 001 App. A).
pub fn export_two_class(
    dataset: &str,
    dir: &Path,
    classes: (u8, u8),
    split: Split,
    limit: Option<usize>,
    out_x: &Path,
    out_y: &Path,
) -> Result<(usize, usize)> {
    let ds = load_two_class(dataset, dir, classes, split, limit)?;
    npy::write_matrix(out_x, &ds.x)?;
    npy::write_vector(out_y, &ds.y)?;
    Ok(ds.x.shape())
}

/// The array-level twin of [`export_two_class`] (used by the Python package): the
/// two-class, unit-norm dataset of `classes` from the MNIST or CIFAR-10 files in `dir`.
pub fn load_two_class(
    dataset: &str,
    dir: &Path,
    classes: (u8, u8),
    split: Split,
    limit: Option<usize>,
) -> Result<crate::data::labels::Dataset> {
    let images = match dataset {
        "mnist" => mnist::load_mnist(dir, split)?,
        "cifar10" => cifar::load_cifar10(dir, split)?,
        other => {
            return Err(Error::invalid(
                "dataset",
                format!("'{other}' is not one of mnist, cifar10"),
            ))
        }
    };
    let mut ds = two_class(&images, classes.0, classes.1, limit)?;
    normalize_rows(&mut ds.x)?;
    Ok(ds)
}

/// Parses `--classes A,B`.
pub fn parse_classes(s: &str) -> Result<(u8, u8)> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let bad = || {
        Error::invalid(
            "--classes",
            format!("expected two labels 0-9 like 0,1, got '{s}'"),
        )
    };
    if parts.len() != 2 {
        return Err(bad());
    }
    let a: u8 = parts[0].parse().map_err(|_| bad())?;
    let b: u8 = parts[1].parse().map_err(|_| bad())?;
    if a > 9 || b > 9 || a == b {
        return Err(bad());
    }
    Ok((a, b))
}

/// `widenet kernel fc-ntk`: the infinite-width NTK of a fully connected ReLU net with
/// `depth` weight layers (seed 003's "NTK" baseline; the recursion is in
/// [`crate::kernels::fc`]), f64.
pub fn kernel_fc_ntk(x_path: &Path, depth: usize, trained: &str, out: &Path) -> Result<usize> {
    let x: Matrix<f64> = npy::read_matrix(x_path)?;
    let trained = crate::kernels::fc::FcTrained::parse(trained)?;
    let h = crate::kernels::fc::fc_ntk_gram(&x, depth, trained)?;
    npy::write_matrix(out, &h)?;
    Ok(x.rows())
}

/// `widenet kernel gaussian`: exp(−‖x − y‖²/h) (seed 003 §3), f64.
pub fn kernel_gaussian(x_path: &Path, bandwidth: f64, out: &Path) -> Result<usize> {
    let x: Matrix<f64> = npy::read_matrix(x_path)?;
    let h = crate::kernels::classic::gaussian_gram(&x, bandwidth)?;
    npy::write_matrix(out, &h)?;
    Ok(x.rows())
}

/// `widenet kernel arcsin`: arcsin(⟨x, y⟩/(‖x‖‖y‖)) (seed 003 §3), f64.
pub fn kernel_arcsin(x_path: &Path, out: &Path) -> Result<usize> {
    let x: Matrix<f64> = npy::read_matrix(x_path)?;
    let h = crate::kernels::classic::arcsin_gram(&x)?;
    npy::write_matrix(out, &h)?;
    Ok(x.rows())
}

/// `widenet kernel rnn-ntk`: the NTK of a ReLU RNN, normalized as
/// ⟨∇_W f(x_i), ∇_W f(x_j)⟩/(m σ_B²). With `width = Some(m)` the empirical kernel at
/// that width (seed 004 eq. 23's factorization; the parameters go to `save_params` as
/// w.npy, a.npy, b.npy and, for `wang`, m0.npy); with `None` its infinite-width limit
/// ([`crate::kernels::rnn_infinite`]). X is n × L × d_in, already in the network's
/// input form.
pub fn kernel_rnn_ntk(
    preset: &str,
    x_path: &Path,
    width: Option<usize>,
    d_out: usize,
    seed: u64,
    save_params: Option<&Path>,
    out: &Path,
) -> Result<(usize, usize, usize)> {
    use crate::models::rnn::Preset;
    let preset = Preset::parse(preset)?;
    let (shape, data) = npy::read_array::<f64>(x_path)?;
    if shape.len() != 3 {
        return Err(Error::format(
            x_path,
            format!("expected an n x L x d array (one sequence per sample), got shape {shape:?}"),
        ));
    }
    let (n, len, d) = (shape[0], shape[1], shape[2]);
    if width.is_none() && save_params.is_some() {
        return Err(Error::invalid(
            "--save-params",
            "the infinite-width kernel has no parameters to save",
        ));
    }
    let (h, params) = rnn_ntk_arrays(preset.name(), &data, (n, len, d), width, d_out, seed)?;
    if let Some(dir) = save_params {
        for p in params {
            npy::write_array(dir.join(format!("{}.npy", p.name)), &p.shape, &p.data)?;
        }
    }
    npy::write_matrix(out, &h)?;
    Ok((n, len, d))
}

/// The array-level twin of [`kernel_rnn_ntk`] (used by the Python package): the RNN NTK
/// of the sequences `data` (row-major n × L × d_in, `shape` = (n, L, d_in)); with
/// `width = Some(m)` the empirical kernel at width m drawn from `seed`, returned with the
/// parameters it drew (w, a, b and, for `wang`, m0); with `None` the infinite-width limit
/// and no parameters.
pub fn rnn_ntk_arrays(
    preset: &str,
    data: &[f64],
    shape: (usize, usize, usize),
    width: Option<usize>,
    d_out: usize,
    seed: u64,
) -> Result<(Matrix<f64>, Vec<crate::models::rnn::ParamArray>)> {
    use crate::models::rnn::{split_steps, Preset, Rnn};
    let preset = Preset::parse(preset)?;
    let (n, len, d) = shape;
    let xs = split_steps(data, n, len, d)?;
    let Some(width) = width else {
        let h = crate::kernels::rnn_infinite::rnn_ntk_infinite(preset, &xs)?;
        return Ok((h, Vec::new()));
    };
    let d_out = if preset == Preset::Wang { 1 } else { d_out };
    let net = Rnn::<f64>::init(preset, width, d, d_out, len, seed)?;
    let h = crate::kernels::rnn_ntk::rnn_ntk(&net, &xs)?;
    Ok((h, net.param_arrays()))
}
