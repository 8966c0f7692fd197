//! `widenet kernel compose`: the NNGP or NTK of an architecture given as a spec,
//! written as `.npy` like the other kernel subcommands, with the architecture
//! saved next to it (`<out>.arch.json`) so the file says which kernel it holds.

use super::{Arch, ComposedKernel, Output};
use crate::error::{Error, Result};
use crate::kernels::tile::{write_npy, NpyDtype, TileKernel};
use crate::linalg::Matrix;
use std::path::{Path, PathBuf};

/// What `kernel compose` wrote.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct ComposeRecord {
    /// The architecture's canonical spec (parses back to `arch`).
    pub spec: String,
    /// The architecture as a tree.
    pub arch: Arch,
    /// "ntk" or "nngp".
    pub output: Output,
    /// Number of inputs n and their dimension d.
    pub n: usize,
    pub d: usize,
    /// The inputs file.
    pub x: PathBuf,
    /// For expression activations: the largest relative change of the kernel on
    /// the first 16 inputs at twice the quadrature nodes.
    pub quadrature_accuracy: Option<f64>,
}

/// The sidecar path `<out>.arch.json`.
pub fn record_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".arch.json");
    PathBuf::from(s)
}

/// Computes the `output` kernel of `spec` on the rows of `x_path` into `out`
/// (f64 .npy, tile by tile) and writes the record next to it.
pub fn kernel_compose(
    spec: &str,
    x_path: &Path,
    output: Output,
    out: &Path,
) -> Result<ComposeRecord> {
    let arch = Arch::parse(spec)?;
    crate::validate::check_writable(out)?;
    let x: Matrix<f64> = crate::data::npy::read_matrix(x_path)?;
    if !x.all_finite() {
        return Err(Error::Numerical(format!(
            "{}: the inputs have non-finite entries",
            x_path.display()
        )));
    }
    let k = ComposedKernel::new(&arch, &x, output)?;
    let quadrature_accuracy = k.quadrature_accuracy(16)?;
    crate::runtime::clear_interrupt();
    write_npy(&k, out, NpyDtype::F64, true)?;
    let rec = ComposeRecord {
        spec: arch.to_string(),
        arch,
        output,
        n: k.n(),
        d: x.cols(),
        x: x_path.to_path_buf(),
        quadrature_accuracy,
    };
    crate::artifacts::files::write_json(record_path(out), &rec)?;
    Ok(rec)
}
