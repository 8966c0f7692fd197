//! What every experiment shares: data sources, scales, precision, the typed
//! output, the result file, and resumable sub-runs.

use super::claim::Claim;
use crate::artifacts::files::{read_json, write_json};
use crate::artifacts::nonfinite::{self, Encoded};
use crate::data::labels::{normalize_rows, two_class, Dataset};
use crate::data::{cifar, mnist, synthetic, Split};
use crate::error::{Error, Result};
use crate::rng;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How big a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Small n and m: seconds, for the default run and smoke checks.
    Quick,
    /// The paper's settings (seed 001 App. A) on every available image.
    Paper,
}

crate::options::option_enum!(Scale, "scale", { Quick => "quick", Paper => "paper" });

// Precision lives next to the real types (linalg); re-exported here for the experiments.
pub use crate::linalg::Precision;

/// Where an experiment's data comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    /// The built-in structured two-class dataset (no files).
    Synthetic,
    /// MNIST IDX files in a directory.
    Mnist(PathBuf),
    /// CIFAR-10 binary batches in a directory.
    Cifar10(PathBuf),
}

fn has_any(dir: &Path, names: &[&str]) -> bool {
    names.iter().any(|n| dir.join(n).exists())
}

impl DataSource {
    /// `None` gives synthetic data; a directory is recognised by its files
    /// (MNIST's IDX names or CIFAR-10's `data_batch_N.bin` / `test_batch.bin`,
    /// plain or .gz). A directory holding `mnist/` or `cifar10*/` folders is not
    /// guessed: name the folder itself.
    pub fn detect(dir: Option<&Path>) -> Result<Self> {
        let Some(dir) = dir else {
            return Ok(DataSource::Synthetic);
        };
        if !dir.is_dir() {
            return Err(Error::invalid(
                "--data",
                format!("{} is not a directory", dir.display()),
            ));
        }
        let mnist_names = [
            "train-images-idx3-ubyte",
            "train-images-idx3-ubyte.gz",
            "t10k-images-idx3-ubyte",
            "t10k-images-idx3-ubyte.gz",
            "train-images.idx3-ubyte",
        ];
        let cifar_names = [
            "data_batch_1.bin",
            "data_batch_1.bin.gz",
            "test_batch.bin",
            "test_batch.bin.gz",
        ];
        if has_any(dir, &mnist_names) {
            Ok(DataSource::Mnist(dir.to_path_buf()))
        } else if has_any(dir, &cifar_names) {
            Ok(DataSource::Cifar10(dir.to_path_buf()))
        } else {
            Err(Error::invalid(
                "--data",
                format!(
                    "{} holds neither MNIST IDX files ({}) nor CIFAR-10 binary batches ({})",
                    dir.display(),
                    mnist_names.join(", "),
                    cifar_names.join(", ")
                ),
            ))
        }
    }

    /// A short name for settings and titles.
    pub fn name(&self) -> &'static str {
        match self {
            DataSource::Synthetic => "synthetic",
            DataSource::Mnist(_) => "mnist",
            DataSource::Cifar10(_) => "cifar10",
        }
    }
}

/// A two-class train/test pair with unit-norm inputs and ±1 labels.
pub struct TwoClassData {
    /// Training set.
    pub train: Dataset,
    /// Held-out set.
    pub test: Dataset,
    /// What was loaded, for the report.
    pub description: String,
}

fn subsample(ds: Dataset, cap: Option<usize>, seed: u64, purpose: &str) -> Dataset {
    match cap {
        Some(c) if c < ds.n() => {
            let mut g = rng::stream(seed, purpose);
            let mut idx = rng::permutation(&mut g, ds.n());
            idx.truncate(c);
            idx.sort_unstable();
            ds.select(&idx)
        }
        _ => ds,
    }
}

/// Loads the two classes 0 (label +1) and 1 (label −1) of a real dataset, as seed
/// 001 App. A does, every image scaled to unit norm; `cap_train` / `cap_test`
/// keep a seeded random subset. Synthetic data draws `synthetic_n` = (train, test)
/// points in dimension `synthetic_d`.
pub fn load_two_class(
    source: &DataSource,
    cap_train: Option<usize>,
    cap_test: Option<usize>,
    synthetic_n: (usize, usize),
    synthetic_d: usize,
    seed: u64,
) -> Result<TwoClassData> {
    let (train, test, what) = match source {
        DataSource::Synthetic => {
            let (tr, te) =
                synthetic::structured_train_test(synthetic_n.0, synthetic_n.1, synthetic_d, seed);
            (
                tr,
                te,
                format!("built-in structured two-class data, d = {synthetic_d}"),
            )
        }
        DataSource::Mnist(dir) => {
            let tr = two_class(&mnist::load_mnist(dir, Split::Train)?, 0, 1, None)?;
            let te = two_class(&mnist::load_mnist(dir, Split::Test)?, 0, 1, None)?;
            (
                tr,
                te,
                format!("MNIST digits 0 (+1) / 1 (-1) from {}", dir.display()),
            )
        }
        DataSource::Cifar10(dir) => {
            let tr = two_class(&cifar::load_cifar10(dir, Split::Train)?, 0, 1, None)?;
            let te = two_class(&cifar::load_cifar10(dir, Split::Test)?, 0, 1, None)?;
            (
                tr,
                te,
                format!(
                    "CIFAR-10 airplane (+1) / automobile (-1) from {}",
                    dir.display()
                ),
            )
        }
    };
    let (cap_train, cap_test) = match source {
        DataSource::Synthetic => (None, None),
        _ => (cap_train, cap_test),
    };
    let mut train = subsample(train, cap_train, seed, "data/subsample/train");
    let mut test = subsample(test, cap_test, seed, "data/subsample/test");
    normalize_rows(&mut train.x)?;
    normalize_rows(&mut test.x)?;
    let description = format!(
        "{what}: {} training and {} test points, unit-norm inputs",
        train.n(),
        test.n()
    );
    Ok(TwoClassData {
        train,
        test,
        description,
    })
}

/// The typed output every experiment returns.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExperimentOutput {
    /// The experiment's command name (e.g. `arora-fig1`).
    pub name: String,
    /// A title for the report.
    pub title: String,
    /// What was run, on what data.
    pub description: String,
    /// The papers' claims with their verdicts.
    pub claims: Vec<Claim>,
    /// Figures (PNG) written, relative to the experiment directory's parent.
    pub figures: Vec<PathBuf>,
    /// Data files written (JSON, CSV), relative to the same parent.
    pub files: Vec<PathBuf>,
    /// Every setting, including the seed.
    pub settings: serde_json::Value,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Writes `out/NAME/result.json` (NAME = `output.name`): the experiment, its settings
/// and seed, its claims and its results; and records the file in `output.files`.
pub fn write_result<R: Serialize>(
    out: &Path,
    output: &mut ExperimentOutput,
    results: &R,
) -> Result<()> {
    #[derive(Serialize)]
    struct ResultFile<'a, R> {
        experiment: &'a str,
        title: &'a str,
        description: &'a str,
        settings: &'a serde_json::Value,
        claims: &'a [Claim],
        seconds: f64,
        figures: &'a [PathBuf],
        files: &'a [PathBuf],
        results: Encoded<'a, R>,
    }
    let path = out.join(&output.name).join("result.json");
    write_json(
        &path,
        &ResultFile {
            experiment: &output.name,
            title: &output.title,
            description: &output.description,
            settings: &output.settings,
            claims: &output.claims,
            seconds: output.seconds,
            figures: &output.figures,
            files: &output.files,
            // NaN and ±inf as "NaN", "inf", "-inf": rejudge reads them back exactly
            results: Encoded(results),
        },
    )?;
    output.files.push(relative_to(&path, out));
    Ok(())
}

/// Finished sub-runs of an experiment, stored one JSON file each under
/// `dir/runs/`, so an interrupted run started again with the same settings
/// resumes where it stopped (each file is written atomically when its sub-run ends).
pub struct RunCache {
    dir: PathBuf,
    verbose: bool,
}

#[derive(Serialize, Deserialize)]
struct CachedRun<S, R> {
    settings: S,
    result: R,
}

impl RunCache {
    /// A cache in `experiment_dir/runs`.
    pub fn new(experiment_dir: &Path) -> Self {
        RunCache {
            dir: experiment_dir.join("runs"),
            verbose: false,
        }
    }

    /// Says on stderr which sub-runs are reused and which are saved.
    pub fn verbose(mut self, on: bool) -> Self {
        self.verbose = on;
        self
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The stored result of sub-run `key`, if one exists with exactly these settings.
    pub fn load<S: Serialize, R: DeserializeOwned>(&self, key: &str, settings: &S) -> Option<R> {
        let path = self.path(key);
        if !path.exists() {
            return None;
        }
        let cached: CachedRun<serde_json::Value, serde_json::Value> = read_json(&path).ok()?;
        let want = serde_json::to_value(settings).ok()?;
        if cached.settings != want {
            return None;
        }
        nonfinite::from_value(cached.result).ok()
    }

    /// Stores the result of sub-run `key`.
    pub fn store<S: Serialize, R: Serialize>(
        &self,
        key: &str,
        settings: &S,
        result: &R,
    ) -> Result<()> {
        let result = Encoded(result);
        write_json(self.path(key), &CachedRun { settings, result })
    }

    /// Returns the cached result of `key` or computes and stores it; the flag says
    /// whether it came from the cache.
    pub fn get_or_run<S: Serialize, R: Serialize + DeserializeOwned>(
        &self,
        key: &str,
        settings: &S,
        run: impl FnOnce() -> Result<R>,
    ) -> Result<(R, bool)> {
        if let Some(r) = self.load(key, settings) {
            if self.verbose {
                eprintln!("  reusing finished run {}", self.path(key).display());
            }
            return Ok((r, true));
        }
        let r = run()?;
        self.store(key, settings, &r)?;
        if self.verbose {
            eprintln!("  saved run {}", self.path(key).display());
        }
        Ok((r, false))
    }
}

/// Spearman's rank correlation (average ranks for ties); NaN when undefined.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            for &k in &idx[i..=j] {
                r[k] = avg;
            }
            i = j + 1;
        }
        r
    }
    if a.len() != b.len() || a.len() < 2 {
        return f64::NAN;
    }
    // a failed (diverged) run's NaN has no rank: ranking it as an extreme value would
    // report a correlation that the data do not support, so the result is undefined
    if a.iter().chain(b).any(|v| !v.is_finite()) {
        return f64::NAN;
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// Path of `p` relative to `base` when it lies inside it.
pub fn relative_to(p: &Path, base: &Path) -> PathBuf {
    p.strip_prefix(base)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| p.to_path_buf())
}
