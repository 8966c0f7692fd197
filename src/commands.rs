//! The subcommands behind `widenet …`: each reads its inputs, calls the library
//! and writes files other programs can rely on (names documented in the README).

use crate::artifacts::files::write_json;
use crate::data::labels::{normalize_rows, two_class};
use crate::data::{cifar, mnist, npy, DatasetName, Split};
use crate::error::{Error, Result};
use crate::kernels::h_inf;
use crate::kernels::tile::{write_npy, NpyDtype, TileKernel};
use crate::linalg::Precision;
use crate::linalg::{Matrix, Real};
use crate::theory::spectrum::KernelAnalysis;
use crate::train::{train_two_layer, GdConfig};
use crate::validate::{self, check_writable, finite_matrix, finite_output};
use serde_json::json;
use std::path::{Path, PathBuf};

/// `widenet kernel relu-ntk`: H^∞ (eq. 3) of the rows of X, written as .npy.
///
/// The matrix is written tile by tile into a memory-mapped temporary file next to
/// `out` ([`crate::kernels::tile::write_npy`]), renamed at the end: it is never held
/// twice, and an error or Ctrl-C leaves no file.
pub fn kernel_relu_ntk(x_path: &Path, out: &Path, precision: Precision) -> Result<(usize, usize)> {
    use crate::kernels::relu_ntk::HInfKernel;
    match precision {
        Precision::F64 => {
            let x: Matrix<f64> = read_input_matrix(x_path, out)?;
            write_kernel(&HInfKernel::new(&x)?, out, NpyDtype::F64)?;
            Ok(x.shape())
        }
        Precision::F32 => {
            let x: Matrix<f32> = read_input_matrix(x_path, out)?;
            write_kernel(&HInfKernel::from_f32(&x)?, out, NpyDtype::F32)?;
            Ok(x.shape())
        }
    }
}

/// Writes a tile kernel to `out` through the tile-by-tile `.npy` writer, with a
/// progress bar on stderr.
fn write_kernel<K: TileKernel + ?Sized>(k: &K, out: &Path, dtype: NpyDtype) -> Result<()> {
    crate::runtime::clear_interrupt();
    let mode = write_npy(k, out, dtype, true)?;
    if mode == crate::kernels::tile::WriteMode::Streaming {
        eprintln!(
            "{} written in streaming mode: the n x n matrix exceeds half the memory budget ({})",
            out.display(),
            crate::runtime::fmt_bytes(crate::runtime::memory_budget() as u128)
        );
    }
    Ok(())
}

/// Reads an input matrix, refusing NaN/Inf (naming the file), after checking
/// that `out` can be written, so that a bad output path fails before the work.
fn read_input_matrix<T: Real>(x_path: &Path, out: &Path) -> Result<Matrix<T>> {
    check_writable(out)?;
    let x: Matrix<T> = npy::read_matrix(x_path)?;
    finite_matrix(x_path, &x)?;
    Ok(x)
}

/// Reads inputs and labels, refusing NaN/Inf in either (naming the file).
fn read_xy(x_path: &Path, y_path: &Path) -> Result<(Matrix<f64>, Vec<f64>)> {
    let ds = crate::data::labels::dataset_from_npy(x_path, y_path)?;
    finite_matrix(x_path, &ds.x)?;
    validate::finite_values(y_path, &ds.y)?;
    Ok((ds.x, ds.y))
}

/// `widenet analyze` on the exact path: spectrum, projections, yᵀ(H^∞)⁻¹y, complexity
/// measure and the predicted loss curve, as JSON in the one schema of [`AnalyzeReport`].
pub fn analyze(
    x_path: &Path,
    y_path: &Path,
    eta: f64,
    steps: usize,
    out: &Path,
) -> Result<AnalyzeReport> {
    validate::positive("--eta", eta)?;
    validate::count("--steps", steps, 0, validate::MAX_STEPS)?;
    check_writable(out)?;
    let (x, y) = read_xy(x_path, y_path)?;
    let start = std::time::Instant::now();
    let a = analyze_arrays(&x, &y, eta, steps)?;
    let timings = vec![("analysis".to_string(), start.elapsed().as_secs_f64())];
    let rep = AnalyzeReport::from_exact(a, &y, crate::runtime::memory_budget(), timings);
    write_json(out, &rep)?;
    Ok(rep)
}

/// The array-level twin of [`analyze`] (used by the Python package): H^∞ of the rows of
/// `x`, its spectrum, the projections of `y`, yᵀ(H^∞)⁻¹y, the complexity measure and the
/// predicted loss curve of eq. 8.
pub fn analyze_arrays(
    x: &Matrix<f64>,
    y: &[f64],
    eta: f64,
    steps: usize,
) -> Result<crate::theory::spectrum::Analysis> {
    check_labels(y, x.rows(), "inputs")?;
    analyze_gram(&h_inf(x)?, y, eta, steps)
}

/// `y` has one finite label for each of the `n` `what` (inputs, kernel rows).
fn check_labels(y: &[f64], n: usize, what: &str) -> Result<()> {
    if y.len() != n {
        return Err(Error::Shape(format!("{} labels for {n} {what}", y.len())));
    }
    validate::finite_values(Path::new("y"), y)
}

/// [`analyze_arrays`] of a kernel matrix `k` the caller brings instead of H^∞ of inputs
/// (n × n, finite, symmetric like a `--kernel` file; a neural-tangents kernel, say):
/// its spectrum, the projections of `y`, yᵀK⁻¹y, the complexity measure and eq. 8 with K
/// in H^∞'s place. Errors name `kernel` and `y`.
pub fn analyze_kernel_arrays(
    k: Matrix<f64>,
    y: &[f64],
    eta: f64,
    steps: usize,
) -> Result<crate::theory::spectrum::Analysis> {
    check_labels(y, k.rows(), "kernel rows")?;
    // validated as a stored kernel is: square, finite, symmetric
    let k =
        crate::kernels::tile::dense_f64(&crate::kernels::stored::StoredKernel::from_matrix(k)?)?;
    analyze_gram(&k, y, eta, steps)
}

/// The exact analysis of the kernel matrix `h` (H^∞ or a caller's) for labels `y`.
fn analyze_gram(
    h: &Matrix<f64>,
    y: &[f64],
    eta: f64,
    steps: usize,
) -> Result<crate::theory::spectrum::Analysis> {
    let ka = KernelAnalysis::new(h)?;
    let a = ka.analyze(y, eta, steps)?;
    if let Err(e) = finite_output("the predicted loss curve", &a.predicted_loss) {
        // blame eta only when it is the cause: above 2/lambda_max eq. 8's factors
        // (1 - eta lambda)^2 exceed 1 and the curve grows geometrically
        return Err(if eta > a.max_stable_eta {
            Error::invalid(
                "--eta",
                format!(
                    "eta = {eta:e} exceeds 2/lambda_max = {:e}: the predicted loss grows \
                     geometrically and overflowed; use --eta below {:e}",
                    a.max_stable_eta, a.max_stable_eta
                ),
            )
        } else {
            e
        });
    }
    Ok(a)
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
    pub steps: usize,
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
    validate::count("--width", args.width, 1, validate::MAX_WIDTH)?;
    validate::count("--steps", args.steps, 0, validate::MAX_STEPS)?;
    validate::positive("--eta", args.eta)?;
    validate::positive("--kappa", args.kappa)?;
    validate::non_negative("--loss-tol", args.loss_tol)?;
    // the loss and two weight distances are kept for each of the steps + 1 steps
    crate::runtime::check_alloc(
        "the per-iteration metrics of --steps + 1 steps",
        3 * (args.steps as u128 + 1),
        8,
    )?;
    check_writable(&args.out.join("metrics.json"))?;
    let _lock = crate::lock::OutputLock::acquire(&args.out)?;
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
        max_steps: args.steps,
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
            "width": args.width, "kappa": args.kappa, "eta": args.eta, "steps": args.steps,
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
    validate::distinct_outputs(("--out-x", out_x), ("--out-y", out_y))?;
    check_writable(out_x)?;
    check_writable(out_y)?;
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
    if let Some(l) = limit {
        validate::count("--limit", l, 1, validate::MAX_POINTS)?;
    }
    let images = match dataset.parse::<DatasetName>()? {
        DatasetName::Mnist => mnist::load_mnist(dir, split)?,
        DatasetName::Cifar10 => cifar::load_cifar10(dir, split)?,
    };
    let mut ds = two_class(&images, classes.0, classes.1, limit)?;
    normalize_rows(&mut ds.x)?;
    Ok(ds)
}

/// The train–test form of [`rnn_ntk_arrays`]: K(x_i, x2_j) for sequences `data`
/// (n₁ × L × d) and `data2` (n₂ × L × d), the same network (same `seed` and `width`) or the
/// infinite-width limit. Computed as the kernel of both sets together, whose off-diagonal
/// block it is (the recursions couple every pair through time only), at (n₁ + n₂)² cost.
#[allow(clippy::too_many_arguments)]
pub fn rnn_ntk_cross_arrays(
    preset: &str,
    data: &[f64],
    shape: (usize, usize, usize),
    data2: &[f64],
    shape2: (usize, usize, usize),
    width: Option<usize>,
    d_out: usize,
    seed: u64,
) -> Result<(Matrix<f64>, Vec<crate::models::rnn::ParamArray>)> {
    let (n1, len, d) = shape;
    if (shape2.1, shape2.2) != (len, d) {
        return Err(Error::Shape(format!(
            "x2 holds sequences of {} steps of {} features, x of {len} steps of {d}",
            shape2.1, shape2.2
        )));
    }
    let both: Vec<f64> = data.iter().chain(data2).copied().collect();
    let (k, params) = rnn_ntk_arrays(preset, &both, (n1 + shape2.0, len, d), width, d_out, seed)?;
    let cross = Matrix::from_fn(n1, shape2.0, |i, j| k.get(i, n1 + j));
    Ok((cross, params))
}

/// Every class of a split of MNIST or CIFAR-10 (the first `limit` images), as the
/// two-class loader prepares its rows (pixels as f64, unit-norm rows, seed 001 §3.1),
/// with the class labels 0..=9 unchanged: the multi-class (one-hot) analyses' input.
pub fn load_all_classes(
    dataset: &str,
    dir: &Path,
    split: Split,
    limit: Option<usize>,
) -> Result<(Matrix<f64>, Vec<u8>)> {
    if let Some(l) = limit {
        validate::count("--limit", l, 1, validate::MAX_POINTS)?;
    }
    let images = match dataset.parse::<DatasetName>()? {
        DatasetName::Mnist => mnist::load_mnist(dir, split)?,
        DatasetName::Cifar10 => cifar::load_cifar10(dir, split)?,
    };
    images.check()?;
    let n = limit.map_or(images.n(), |l| l.min(images.n()));
    let data: Vec<f64> = (0..n)
        .flat_map(|i| images.image(i).iter().map(|&p| p as f64))
        .collect();
    let mut x = Matrix::from_vec(n, images.dim, data)?;
    normalize_rows(&mut x)?;
    Ok((x, images.labels[..n].to_vec()))
}

/// `widenet data mnist|cifar10 --classes all --labeling L`: every image of the
/// splits asked for that the labeling keeps, with its ±1 label, unit-norm rows;
/// writes X, y and a JSON sidecar naming the labeling (`y` with extension
/// `.json`: [`crate::data::labeling::LabeledSummary`]).
#[allow(clippy::too_many_arguments)]
pub fn export_labeled(
    dataset: &str,
    dir: &Path,
    splits: crate::data::labeling::Splits,
    labeling: crate::data::labeling::Labeling,
    limit: Option<usize>,
    out_x: &Path,
    out_y: &Path,
) -> Result<crate::data::labeling::LabeledSummary> {
    use crate::data::labeling::{label_images, load_splits, LabeledSummary};
    let images = match dataset.parse::<DatasetName>()? {
        DatasetName::Mnist => load_splits(splits, |s| mnist::load_mnist(dir, s))?,
        DatasetName::Cifar10 => load_splits(splits, |s| cifar::load_cifar10(dir, s))?,
    };
    let (ds, classes) = label_images(&images, labeling, limit)?;
    let summary = LabeledSummary::new(dataset, splits, labeling, &ds, &classes);
    npy::write_matrix(out_x, &ds.x)?;
    npy::write_vector(out_y, &ds.y)?;
    write_json(out_y.with_extension("json"), &summary)?;
    Ok(summary)
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

/// The settings of `widenet data`.
#[derive(Clone, Debug)]
pub struct DataArgs {
    /// Which dataset's files `dir` holds.
    pub dataset: DatasetName,
    /// The directory with the dataset's files.
    pub dir: PathBuf,
    /// `--classes`: two classes `A,B` (the first labelled +1) or `all`.
    pub classes: String,
    /// `--labeling` (with `--classes all`): `even-odd`, `one-vs-rest:K` or `pair:A,B`.
    pub labeling: Option<String>,
    /// Which split(s).
    pub split: crate::data::labeling::Splits,
    /// Keep only the first `limit` images.
    pub limit: Option<usize>,
    /// Output inputs (.npy, n × d).
    pub out_x: PathBuf,
    /// Output labels (.npy, n).
    pub out_y: PathBuf,
}

/// What `widenet data` wrote.
#[derive(Clone, Debug)]
pub enum DataExport {
    /// Two classes of one split (`--classes A,B`): n × d inputs.
    TwoClass {
        /// Number of images.
        n: usize,
        /// Their dimension.
        d: usize,
    },
    /// A labeling (`--classes all --labeling L`, or `--split both`), with its sidecar.
    Labeled(crate::data::labeling::LabeledSummary),
}

/// `widenet data mnist|cifar10`: decides between the two-class export
/// ([`export_two_class`]) and a labeling of every class ([`export_labeled`]): `--classes
/// all` needs `--labeling`, `--labeling` needs `--classes all`, and `--split both` with
/// `--classes A,B` is the labeling `pair:A,B`.
pub fn export_data(a: &DataArgs) -> Result<DataExport> {
    use crate::data::labeling::{Labeling, Splits};
    let labeled = match (a.classes.trim(), a.labeling.as_deref()) {
        ("all", Some(l)) => Some(crate::options::parse::<Labeling>("--labeling", l)?),
        ("all", None) => {
            return Err(Error::invalid(
                "--classes",
                "all needs --labeling even-odd, one-vs-rest:K or pair:A,B",
            ))
        }
        (_, Some(_)) => {
            return Err(Error::invalid(
                "--labeling",
                "needs --classes all (--classes A,B is the same as pair:A,B)",
            ))
        }
        (c, None) if a.split == Splits::Both => {
            let (x, y) = parse_classes(c)?;
            Some(Labeling::Pair(x, y))
        }
        _ => None,
    };
    let name = a.dataset.name();
    if let Some(labeling) = labeled {
        let s = export_labeled(name, &a.dir, a.split, labeling, a.limit, &a.out_x, &a.out_y)?;
        return Ok(DataExport::Labeled(s));
    }
    let split = match a.split {
        Splits::Train => Split::Train,
        Splits::Test => Split::Test,
        Splits::Both => unreachable!("--split both goes through the labeled path"),
    };
    let classes = parse_classes(&a.classes)?;
    let (n, d) = export_two_class(name, &a.dir, classes, split, a.limit, &a.out_x, &a.out_y)?;
    Ok(DataExport::TwoClass { n, d })
}

/// `widenet kernel fc-ntk`: the infinite-width NTK of a fully connected ReLU net with
/// `depth` weight layers (seed 003's "NTK" baseline; the recursion is in
/// [`crate::kernels::fc`]), f64.
pub fn kernel_fc_ntk(
    x_path: &Path,
    depth: usize,
    trained: crate::kernels::fc::FcTrained,
    out: &Path,
) -> Result<usize> {
    validate::count("--depth", depth, 1, validate::MAX_DEPTH)?;
    let x: Matrix<f64> = read_input_matrix(x_path, out)?;
    let k = crate::kernels::fc::FcKernel::ntk(&x, depth, trained)?;
    // a zero diagonal entry of a nonzero input is underflow, not a kernel value
    let diag = k.diag()?;
    if let Some(i) = (0..x.rows()).find(|&i| diag[i] == 0.0 && x.row(i).iter().any(|&v| v != 0.0)) {
        return Err(Error::Numerical(format!(
            "the fc NTK of depth {depth} underflowed to zero (at input {i}: the diagonal halves \
             at every layer, Sigma^D_xx = |x|^2/(d 2^(D-1))); use a smaller --depth"
        )));
    }
    write_kernel(&k, out, NpyDtype::F64)?;
    Ok(x.rows())
}

/// `widenet kernel gaussian`: exp(−‖x − y‖²/h) (seed 003 §3), f64.
pub fn kernel_gaussian(x_path: &Path, bandwidth: f64, out: &Path) -> Result<usize> {
    validate::positive("--bandwidth", bandwidth)?;
    let x: Matrix<f64> = read_input_matrix(x_path, out)?;
    let k = crate::kernels::classic::ClassicKernel::gaussian(&x, bandwidth)?;
    write_kernel(&k, out, NpyDtype::F64)?;
    Ok(x.rows())
}

/// `widenet kernel arcsin`: arcsin(⟨x, y⟩/(‖x‖‖y‖)) (seed 003 §3), f64.
pub fn kernel_arcsin(x_path: &Path, out: &Path) -> Result<usize> {
    let x: Matrix<f64> = read_input_matrix(x_path, out)?;
    let k = crate::kernels::classic::ClassicKernel::arcsin(&x)?;
    write_kernel(&k, out, NpyDtype::F64)?;
    Ok(x.rows())
}

/// `widenet kernel rnn-ntk`: the NTK of a ReLU RNN, normalized as
/// ⟨∇_W f(x_i), ∇_W f(x_j)⟩/(m σ_B²). With `width = Some(m)` the empirical kernel at
/// that width (seed 004 eq. 23's factorization; the parameters go to `save_params` as
/// w.npy, a.npy, b.npy and, for `wang`, m0.npy); with `None` its infinite-width limit
/// ([`crate::kernels::rnn_infinite`]). X is n × L × d_in, already in the network's
/// input form. `save_params` is created first (with its parents).
pub fn kernel_rnn_ntk(
    preset: crate::kernels::rnn_infinite::Preset,
    x_path: &Path,
    width: Option<usize>,
    d_out: usize,
    seed: u64,
    save_params: Option<&Path>,
    out: &Path,
) -> Result<(usize, usize, usize)> {
    use crate::models::rnn::split_steps;
    if let Some(dir) = save_params {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    validate::count_opt("--width", width, 1, validate::MAX_WIDTH)?;
    validate::count("--d-out", d_out, 1, 1_000_000)?;
    check_writable(out)?;
    let (shape, data) = npy::read_array::<f64>(x_path)?;
    if shape.len() != 3 {
        return Err(Error::format(
            x_path,
            format!("expected an n x L x d array (one sequence per sample), got shape {shape:?}"),
        ));
    }
    let (n, len, d) = (shape[0], shape[1], shape[2]);
    if n == 0 || len == 0 || d == 0 {
        return Err(Error::format(
            x_path,
            format!("empty array of shape {shape:?}: at least one sample, step and feature"),
        ));
    }
    validate::finite_values(x_path, &data)?;
    if let Some(m) = width {
        // the weights hold m x m, the forward trace and the deltas L n x m states
        // each, the Gram products 2 L n x n buffers (crate::models::rnn_ntk)
        let (m, n, l) = (m as u128, n as u128, len as u128);
        crate::runtime::check_alloc(
            &format!("the width-{m} RNN NTK of {n} sequences of length {l}"),
            m * m + 4 * l * n * m + 2 * l * n * n + 4 * n * n,
            8,
        )?;
    }
    let xs = split_steps(&data, n, len, d)?;
    let Some(width) = width else {
        crate::runtime::check_alloc(
            &format!("the infinite-width RNN NTK of {n} sequences of length {len}"),
            (len as u128 + 2) * n as u128 * n as u128,
            8,
        )?;
        if save_params.is_some() {
            return Err(Error::invalid(
                "--save-params",
                "the infinite-width kernel has no parameters to save",
            ));
        }
        let k = crate::kernels::rnn_infinite::RnnInfKernel::new(preset, &xs)?;
        write_kernel(&k, out, NpyDtype::F64)?;
        return Ok((n, len, d));
    };
    let (h, params) = rnn_ntk_arrays(preset.name(), &data, (n, len, d), Some(width), d_out, seed)?;
    finite_output("the RNN NTK", h.as_slice())?;
    if let Some(dir) = save_params {
        for p in params {
            npy::write_array(dir.join(format!("{}.npy", p.name)), &p.shape, &p.data)?;
        }
    }
    npy::write_matrix(out, &h)?;
    Ok((n, len, d))
}

/// Arguments of `widenet analyze` that reach the large-n path (issue 11).
#[derive(Clone, Debug)]
pub struct AnalyzeLargeArgs {
    /// Inputs (H^∞ of them), or `None` with `kernel`.
    pub x: Option<PathBuf>,
    /// A precomputed kernel `.npy` instead of `x`.
    pub kernel: Option<PathBuf>,
    /// Labels.
    pub y: PathBuf,
    /// η of eq. 8.
    pub eta: f64,
    /// Iterations of the predicted loss.
    pub steps: usize,
    /// Output JSON.
    pub out: PathBuf,
    /// `--path` (dense, f32, matrix-free).
    pub path: Option<crate::theory::large_n::SolverPath>,
    /// `--top-k`.
    pub top_k: Option<usize>,
    /// `--tol`.
    pub tol: f64,
    /// `--seed`.
    pub seed: u64,
    /// `--precond` (auto, cholesky, spectral-cg, spectral).
    pub precond: Option<crate::theory::large_n::PrecondChoice>,
}

pub use crate::theory::analysis_report::AnalyzeReport;

/// `widenet analyze` on the large-n path, or `None` when today's full dense
/// analysis applies (inputs given, no large-n flag, and about 32n² bytes for
/// the kernel, its Cholesky factor and eigenvectors fit the memory budget).
pub fn analyze_large_n(a: &AnalyzeLargeArgs) -> Result<Option<AnalyzeReport>> {
    use crate::kernels::tile::TileKernel;
    use crate::kernels::{relu_ntk::HInfKernel, stored::StoredKernel};
    use crate::theory::large_n::LargeNConfig;
    let budget = crate::runtime::memory_budget();
    let path = a.path;
    let kern: Box<dyn TileKernel> = match (&a.x, &a.kernel) {
        (Some(xp), None) => {
            let x: Matrix<f64> = npy::read_matrix(xp)?;
            let n = x.rows() as u128;
            if path.is_none() && a.top_k.is_none() && 32 * n * n <= budget as u128 {
                return Ok(None);
            }
            Box::new(HInfKernel::owned(x)?)
        }
        (None, Some(kp)) => {
            // memory-mapped and validated (square, finite, symmetric), never read whole
            Box::new(StoredKernel::open(kp)?)
        }
        _ => return Err(Error::invalid("--x/--kernel", "give exactly one of them")),
    };
    let y: Vec<f64> = npy::read_vector(&a.y)?;
    let cfg = LargeNConfig {
        path,
        tol: a.tol,
        eta: a.eta,
        steps: a.steps,
        seed: a.seed,
        show_progress: true,
        precond: a.precond.unwrap_or_default(),
        ..Default::default()
    };
    let y_name = format!("--y {}", a.y.display());
    let rep = large_n_report_named(kern.as_ref(), &y, &y_name, a.top_k, cfg)?;
    write_json(&a.out, &rep)?;
    Ok(Some(rep))
}

/// `widenet analyze`: the large-n path where it applies ([`analyze_large_n`]), else the
/// exact analysis of the inputs ([`analyze`]); writes the one [`AnalyzeReport`] schema.
pub fn analyze_cmd(a: &AnalyzeLargeArgs) -> Result<AnalyzeReport> {
    match analyze_large_n(a)? {
        Some(r) => Ok(r),
        None => {
            let x =
                a.x.as_deref()
                    .ok_or_else(|| Error::invalid("--x", "is required"))?;
            analyze(x, &a.y, a.eta, a.steps, &a.out)
        }
    }
}

/// `widenet analyze-mnist`: seed 001's analysis of every local MNIST image
/// ([`crate::experiments::large_n_mnist`]) with the predicted loss at η = 1e-3 for 1000
/// iterations; writes `out`.
pub fn analyze_mnist(
    dir: &Path,
    top_k: usize,
    max_n: Option<usize>,
    tol: f64,
    seed: u64,
    out: &Path,
) -> Result<crate::experiments::large_n_mnist::MnistLargeN> {
    use crate::experiments::large_n_mnist::{run, MnistLargeNConfig};
    let cfg = MnistLargeNConfig {
        top_k,
        max_n,
        tol,
        seed,
        eta: 1e-3,
        steps: 1000,
    };
    run(dir, &cfg, out, true)
}

/// What `widenet reproduce` did: printed the settings, or ran the experiment.
#[derive(Clone, Debug)]
pub enum Reproduced {
    /// `--show-settings`: the resolved settings, as text.
    Settings(String),
    /// The experiment ran: its claims table, its result.json and the report.
    Ran {
        /// The claims table.
        table: String,
        /// OUT/NAME/result.json.
        result: PathBuf,
        /// The HTML report.
        report: PathBuf,
    },
}

/// `widenet reproduce NAME`: applies the `--set key=value` assignments to `opts`,
/// checks them, then prints the resolved settings (`show_settings`) or runs the
/// experiment into OUT/NAME/ (owning OUT while it runs) and writes its report.
pub fn reproduce_cmd(
    name: &str,
    mut opts: crate::experiments::suite::ReproduceOptions,
    set: &[String],
    show_settings: bool,
) -> Result<Reproduced> {
    use crate::experiments::{framework, suite};
    opts.set = set
        .iter()
        .map(|a| framework::parse_assignment(a))
        .collect::<Result<Vec<_>>>()?;
    opts.validate()?;
    if show_settings {
        let resolved = suite::resolve(name, &opts)?;
        return Ok(Reproduced::Settings(framework::show_settings(
            name, opts.scale, &resolved,
        )));
    }
    let out = opts.out.clone();
    let _lock = crate::lock::OutputLock::acquire(&out)?;
    let o = suite::reproduce(name, &opts)?;
    let (report, table) =
        crate::report::run::finish_report(&out, &out.join(name), std::slice::from_ref(&o))?;
    Ok(Reproduced::Ran {
        table,
        result: out.join(name).join("result.json"),
        report,
    })
}

/// The large-n analysis of one label vector on any kernel (inputs' H^∞, a stored
/// kernel file, a user's array): top-k spectrum and projections, yᵀK⁻¹y to
/// `cfg.tol` with the accuracy reached, eq. 8 with its bounds. `top_k = None`
/// takes every eigenpair when the dense analysis fits the memory budget, else
/// min(n, 1000). Shared by `widenet analyze` and the Python package.
pub fn large_n_report(
    kern: &dyn crate::kernels::tile::TileKernel,
    y: &[f64],
    top_k: Option<usize>,
    cfg: crate::theory::large_n::LargeNConfig,
) -> Result<AnalyzeReport> {
    large_n_report_named(kern, y, "y", top_k, cfg)
}

/// [`large_n_report`] with the labels' argument or file named in errors
/// (`y` for the Python argument, `--y FILE` for the command line): the one
/// check of y's length.
pub fn large_n_report_named(
    kern: &dyn crate::kernels::tile::TileKernel,
    y: &[f64],
    y_name: &str,
    top_k: Option<usize>,
    cfg: crate::theory::large_n::LargeNConfig,
) -> Result<AnalyzeReport> {
    use crate::theory::large_n::analyze_kernel;
    let n = kern.n();
    if y.len() != n {
        return Err(Error::invalid(
            y_name,
            format!("{} labels for a kernel of {n} samples", y.len()),
        ));
    }
    validate::finite_values(Path::new(y_name), y)?;
    let budget = crate::runtime::memory_budget();
    let n128 = n as u128;
    let top_k = top_k.unwrap_or(if 32 * n128 * n128 <= budget as u128 {
        n
    } else {
        n.min(1000)
    });
    let cfg = crate::theory::large_n::LargeNConfig { top_k, ..cfg };
    let r = analyze_kernel(kern, &[y], &cfg)?;
    Ok(AnalyzeReport::from_large(r, y, budget))
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
    let preset: Preset = preset.parse()?;
    let (n, len, d) = shape;
    if n == 0 || len == 0 || d == 0 {
        return Err(Error::Shape(format!(
            "empty sequences of shape ({n}, {len}, {d}): at least one sample, step and feature"
        )));
    }
    validate::finite_values(Path::new("x"), data)?;
    if let Some(m) = width {
        validate::count("width", m, 1, validate::MAX_WIDTH)?;
        // the weights hold m x m, the forward trace and the deltas L n x m states
        // each, the Gram products 2 L n x n buffers (crate::models::rnn_ntk)
        let (m, n, l) = (m as u128, n as u128, len as u128);
        crate::runtime::check_alloc(
            &format!("the width-{m} RNN NTK of {n} sequences of length {l}"),
            m * m + 4 * l * n * m + 2 * l * n * n + 4 * n * n,
            8,
        )?;
    }
    // d_out is a parameter of the finite elman network only: say so instead of ignoring it
    if d_out != 1 && (preset == Preset::Wang || width.is_none()) {
        return Err(Error::invalid(
            "d_out",
            format!(
                "d_out = {d_out} has no effect here: {}; leave it at 1",
                if preset == Preset::Wang {
                    "the wang preset (seed 004 eq. 14) has a scalar output"
                } else {
                    "the infinite-width NTK (no width) is the same kernel for every output \
                     (Θ ⊗ I), computed once"
                }
            ),
        ));
    }
    let xs = split_steps(data, n, len, d)?;
    let Some(width) = width else {
        let h = crate::kernels::rnn_infinite::rnn_ntk_infinite(preset, &xs)?;
        return Ok((h, Vec::new()));
    };
    let net = Rnn::<f64>::init(preset, width, d, d_out, len, seed)?;
    let h = crate::models::rnn_ntk::rnn_ntk(&net, &xs)?;
    Ok((h, net.param_arrays()))
}

/// Arguments of `widenet train composed`.
#[derive(Clone, Debug)]
pub struct TrainComposedArgs {
    /// The architecture's spec (docs/compose.md).
    pub arch: String,
    /// Training inputs and targets.
    pub x: PathBuf,
    pub y: PathBuf,
    /// Width m of the dense layers without a `width` field.
    pub width: usize,
    pub eta: f64,
    pub steps: usize,
    pub seed: u64,
    /// Output directory.
    pub out: PathBuf,
}

/// What `widenet train composed` wrote to `metrics.json`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct ComposedRun {
    /// The architecture's canonical spec and its tree.
    pub spec: String,
    pub arch: crate::kernels::compose::Arch,
    pub width: usize,
    pub seed: u64,
    pub eta: f64,
    pub steps: usize,
    pub n: usize,
    pub d: usize,
    /// Φ = ½ Σ (f(xᵢ) − yᵢ)² at steps 0..=steps.
    pub loss: Vec<f64>,
    /// f(xᵢ) after training.
    pub predictions: Vec<f64>,
    /// The trained parameters' files (`param{i}.npy`: each dense layer's weights,
    /// then its bias when it has one).
    pub params: Vec<String>,
}

/// `widenet train composed`: the finite network of `--arch` at `--width`, trained by
/// full-batch GD ([`crate::models::composed::ComposedNet::train_gd`]); writes
/// `metrics.json` and the trained parameters as `.npy`.
pub fn train_composed_cmd(a: &TrainComposedArgs) -> Result<ComposedRun> {
    use crate::models::composed::ComposedNet;
    validate::count("--width", a.width, 1, validate::MAX_WIDTH)?;
    validate::count("--steps", a.steps, 0, validate::MAX_STEPS)?;
    validate::positive("--eta", a.eta)?;
    let arch = crate::kernels::compose::Arch::parse(&a.arch)?;
    check_writable(&a.out.join("metrics.json"))?;
    let _lock = crate::lock::OutputLock::acquire(&a.out)?;
    let (x, y) = read_xy(&a.x, &a.y)?;
    // a recurrent net's rows hold its len steps (n × L·d): d per step
    let d = (x.cols() / arch.seq_len().unwrap_or(1)).max(1);
    let mut net = ComposedNet::init(&arch, d, a.width, a.seed)?;
    let loss = net.train_gd(&x, &y, a.eta, a.steps)?;
    let predictions = net.apply(&x)?;
    let mut params = vec![];
    for (i, (shape, data)) in net.to_arrays().iter().enumerate() {
        let name = format!("param{i}.npy");
        npy::write_array(a.out.join(&name), shape, data)?;
        params.push(name);
    }
    let run = ComposedRun {
        spec: arch.to_string(),
        arch,
        width: a.width,
        seed: a.seed,
        eta: a.eta,
        steps: a.steps,
        n: x.rows(),
        d,
        loss,
        predictions,
        params,
    };
    write_json(a.out.join("metrics.json"), &run)?;
    Ok(run)
}
