//! Kernels by name for predictions: any kernel of the registry
//! ([`crate::kernels::registry`], the names `analyze` and `kernel_block` take,
//! including composed architectures), evaluated on the stacked inputs [X; X*] so that
//! one tile kernel gives the train–train, test–train and test–test blocks, stored or
//! recomputed tile by tile.

use super::cli::KernelBlocks;
use crate::error::{Error, Result};
use crate::kernels::registry::{self, KernelParams, KERNELS};
use crate::kernels::tile::{dense_with_progress, TileElem, TileKernel, TILE};
use crate::linalg::Matrix;
use crate::runtime::{check_interrupt, progress_bar};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// A kernel by its registry name and parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedKernel {
    /// A registry name (relu_ntk, fc_ntk, fc_nngp, gaussian, arcsin, compose; dashes
    /// may stand for the underscores).
    pub name: String,
    /// Depth of fc_ntk / fc_nngp.
    pub depth: usize,
    /// Bandwidth h of the Gaussian kernel.
    pub bandwidth: f64,
    /// The architecture spec of `compose` (docs/compose.md).
    #[serde(default)]
    pub arch: Option<String>,
}

impl NamedKernel {
    /// The kernel a caller asked for by name and/or architecture (the CLI's `--kernel`
    /// and `--arch`, Python's `kernel=` and `arch=`): `None` when neither is given (the
    /// kernel is then given as arrays); an architecture alone means `compose`.
    pub fn from_request(
        name: Option<String>,
        arch: Option<String>,
        depth: usize,
        bandwidth: f64,
    ) -> Option<Self> {
        match (name, arch) {
            (None, None) => None,
            (name, arch) => Some(NamedKernel {
                name: name.unwrap_or_else(|| "compose".into()),
                depth,
                bandwidth,
                arch,
            }),
        }
    }

    /// The registry name and parameters of the kernel (`nngp`: of its NNGP, for the
    /// ensemble's covariance and the GP posterior).
    pub fn resolve(&self, nngp: bool) -> Result<(String, KernelParams)> {
        let name = self.name.replace('-', "_");
        if !KERNELS.iter().any(|k| k.name == name && k.input_rank == 2) {
            return Err(Error::invalid(
                "kernel",
                format!(
                    "'{}' is not a kernel of n x d inputs ({})",
                    self.name,
                    KERNELS
                        .iter()
                        .filter(|k| k.input_rank == 2)
                        .map(|k| k.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if self.arch.is_some() && name != "compose" {
            return Err(Error::invalid(
                "arch",
                format!("an architecture spec is for the compose kernel, not '{name}'"),
            ));
        }
        let mut p = KernelParams {
            depth: Some(self.depth),
            bandwidth: Some(self.bandwidth),
            arch: self.arch.clone(),
            ..Default::default()
        };
        let name = match (name.as_str(), nngp) {
            ("relu_ntk", true) => {
                return Err(Error::invalid(
                    "kernel",
                    "relu_ntk (H^inf) has no NNGP here: use fc_ntk (its NNGP is fc_nngp), \
                     compose, or the NNGP arrays",
                ))
            }
            ("fc_ntk", true) => "fc_nngp".to_string(),
            ("compose", true) => {
                p.output = Some("nngp".into());
                name
            }
            _ => name,
        };
        Ok((name, p))
    }

    /// The tile kernel (its NNGP when `nngp`) on the rows of `x`.
    pub fn tile_kernel<'a>(
        &self,
        x: &'a Matrix<f64>,
        nngp: bool,
    ) -> Result<Box<dyn TileKernel + 'a>> {
        let (name, p) = self.resolve(nngp)?;
        registry::build(&name, x, &p)
    }

    /// The blocks of the kernel (its NNGP when `nngp`) on the inputs, stored; the
    /// test–test block full (`Some(true)`), its diagonal (`Some(false)`) or none.
    pub fn blocks(
        &self,
        x_train: &Matrix<f64>,
        x_test: &Matrix<f64>,
        nngp: bool,
        test_test: Option<bool>,
        show: bool,
    ) -> Result<KernelBlocks> {
        let stacked = stack(x_train, x_test)?;
        let k = self.tile_kernel(&stacked, nngp)?;
        let (n, all) = (x_train.rows(), stacked.rows());
        let train = dense_with_progress::<f64, _>(&Leading { k: &*k, n }, show)?;
        let test_train = region(&*k, n..all, 0..n, show)?;
        let test_test = match test_test {
            None => None,
            Some(true) => Some(region(&*k, n..all, n..all, show)?),
            Some(false) => {
                let d = k.diag()?;
                Some(Matrix::from_vec(1, all - n, d[n..].to_vec())?)
            }
        };
        Ok(KernelBlocks {
            train,
            test_train,
            test_test,
        })
    }
}

/// The inputs [X; X*] (the test rows after the training rows).
pub fn stack(x_train: &Matrix<f64>, x_test: &Matrix<f64>) -> Result<Matrix<f64>> {
    if x_train.cols() != x_test.cols() {
        return Err(Error::Shape(format!(
            "x_test has {} features but x_train has {}",
            x_test.cols(),
            x_train.cols()
        )));
    }
    if x_train.rows() == 0 {
        return Err(Error::invalid("x_train", "is empty (no training points)"));
    }
    if x_test.rows() == 0 {
        return Err(Error::invalid("x_test", "is empty (no test points)"));
    }
    for (name, x) in [("x_train", x_train), ("x_test", x_test)] {
        super::check_finite(name, x)?;
    }
    let mut data = x_train.as_slice().to_vec();
    data.extend_from_slice(x_test.as_slice());
    Matrix::from_vec(x_train.rows() + x_test.rows(), x_train.cols(), data)
}

/// The leading n × n block of a kernel (the training points of [X; X*]).
pub struct Leading<'a> {
    /// The kernel on the stacked inputs.
    pub k: &'a dyn TileKernel,
    /// n.
    pub n: usize,
}

impl TileKernel for Leading<'_> {
    fn n(&self) -> usize {
        self.n
    }
    fn name(&self) -> String {
        self.k.name()
    }
    fn tile_f64(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f64]) -> Result<()> {
        crate::kernels::tile::check_tile(self.n, &rows, &cols, out.len())?;
        self.k.tile_f64(rows, cols, out)
    }
    fn tile_f32(&self, rows: Range<usize>, cols: Range<usize>, out: &mut [f32]) -> Result<()> {
        crate::kernels::tile::check_tile(self.n, &rows, &cols, out.len())?;
        self.k.tile_f32(rows, cols, out)
    }
    fn cost_per_entry(&self) -> f64 {
        self.k.cost_per_entry()
    }
}

/// K[rows, cols] stored (f64), TILE rows at a time in parallel (each row's bits depend
/// on nothing but the row), with progress and interrupt checks.
pub fn region(
    k: &dyn TileKernel,
    rows: Range<usize>,
    cols: Range<usize>,
    show: bool,
) -> Result<Matrix<f64>> {
    let (r, w) = (rows.len(), cols.len());
    crate::runtime::check_alloc("a test kernel block", (r * w) as u128, 8)?;
    let chunks = r.div_ceil(TILE);
    let bar = progress_bar(chunks as u64, "test kernel block", show);
    let parts: Vec<Vec<f64>> = (0..chunks)
        .into_par_iter()
        .map(|ci| -> Result<Vec<f64>> {
            check_interrupt()?;
            let r0 = rows.start + ci * TILE;
            let r1 = (r0 + TILE).min(rows.end);
            let mut out = vec![0.0; (r1 - r0) * w];
            f64::tile(k, r0..r1, cols.clone(), &mut out)?;
            bar.inc(1);
            Ok(out)
        })
        .collect::<Result<_>>()?;
    bar.finish_and_clear();
    Matrix::from_vec(r, w, parts.concat())
}
