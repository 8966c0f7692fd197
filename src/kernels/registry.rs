//! One table of kernel names: what each is, its parameters, the rank of its
//! inputs, whether it has an f32 path, and (for inputs n × d) its constructor.
//! Meant to serve the CLI, the Python binding's `kernel_block` and
//! `widenet.dask`'s `KINDS` (which mirrors [`KERNELS`]; tests/compose.rs checks
//! that the two agree).

use crate::error::{Error, Result};
use crate::kernels::compose::{Arch, ComposedKernel, Output};
use crate::kernels::tile::TileKernel;
use crate::kernels::{classic::ClassicKernel, fc, relu_ntk::HInfKernel};
use crate::linalg::Matrix;

/// One kernel of the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KernelInfo {
    /// The name used by `kernel_block`, `widenet.dask` and results.
    pub name: &'static str,
    /// 2 for inputs n × d, 3 for sequences n × L × d.
    pub input_rank: usize,
    /// The parameters it reads from [`KernelParams`].
    pub params: &'static [&'static str],
    /// Whether an f32 tile path exists.
    pub f32: bool,
    /// One line: what it is and where it comes from.
    pub summary: &'static str,
}

/// Every kernel with a tile function.
pub const KERNELS: &[KernelInfo] = &[
    KernelInfo {
        name: "relu_ntk",
        input_rank: 2,
        params: &[],
        f32: true,
        summary:
            "H^inf, seed 001 eq. 3 (= compose 'gram=dot; dense, relu, dense(trainable=false)')",
    },
    KernelInfo {
        name: "fc_ntk",
        input_rank: 2,
        params: &["depth", "trained"],
        f32: false,
        summary:
            "fully connected ReLU NTK of depth D, seed 003 §3 (= compose 'dense, relu, ..., dense')",
    },
    KernelInfo {
        name: "fc_nngp",
        input_rank: 2,
        params: &["depth"],
        f32: false,
        summary: "fully connected ReLU NNGP of depth D, seed 003 §3",
    },
    KernelInfo {
        name: "gaussian",
        input_rank: 2,
        params: &["bandwidth"],
        f32: false,
        summary: "exp(-|x - y|^2 / h), seed 003 §3",
    },
    KernelInfo {
        name: "arcsin",
        input_rank: 2,
        params: &[],
        f32: false,
        summary: "arcsin(<x, y> / (|x| |y|)), seed 003 §3",
    },
    KernelInfo {
        name: "rnn_ntk",
        input_rank: 3,
        params: &["preset"],
        f32: false,
        summary: "infinite-width recurrent NTK, seed 004 §4.1 (presets elman, wang)",
    },
    KernelInfo {
        name: "compose",
        input_rank: 2,
        params: &["arch", "output"],
        f32: false,
        summary: "NNGP or NTK of any architecture spec (docs/compose.md)",
    },
];

/// The parameters of [`build`]; each kernel reads those its [`KernelInfo`] lists
/// (defaults: depth 3, trained "all", bandwidth 1, output "ntk").
#[derive(Clone, Debug, Default)]
pub struct KernelParams {
    pub depth: Option<usize>,
    pub trained: Option<String>,
    pub bandwidth: Option<f64>,
    pub preset: Option<String>,
    pub arch: Option<String>,
    pub output: Option<String>,
}

/// The registry entry of `name`, or an error listing the names.
pub fn info(name: &str) -> Result<&'static KernelInfo> {
    KERNELS.iter().find(|k| k.name == name).ok_or_else(|| {
        Error::invalid(
            "kind",
            format!(
                "unknown kernel '{name}' ({})",
                KERNELS
                    .iter()
                    .map(|k| k.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// The f64 tile kernel `name` of the rows of `x` (inputs n × d).
pub fn build<'a>(
    name: &str,
    x: &'a Matrix<f64>,
    p: &KernelParams,
) -> Result<Box<dyn TileKernel + 'a>> {
    let k = info(name)?;
    if k.input_rank != 2 {
        return Err(Error::invalid(
            "kind",
            format!("'{name}' takes sequences (n x L x d), not an n x d matrix"),
        ));
    }
    let depth = p.depth.unwrap_or(3);
    Ok(match name {
        "relu_ntk" => Box::new(HInfKernel::new(x)?),
        "fc_ntk" => {
            let t: fc::FcTrained = p.trained.as_deref().unwrap_or("all").parse()?;
            Box::new(fc::FcKernel::ntk(x, depth, t)?)
        }
        "fc_nngp" => Box::new(fc::FcKernel::nngp(x, depth)?),
        "gaussian" => Box::new(ClassicKernel::gaussian(x, p.bandwidth.unwrap_or(1.0))?),
        "arcsin" => Box::new(ClassicKernel::arcsin(x)?),
        "compose" => {
            let spec = p.arch.as_deref().ok_or_else(|| {
                Error::invalid("arch", "the compose kernel needs an architecture spec")
            })?;
            let out: Output = p.output.as_deref().unwrap_or("ntk").parse()?;
            Box::new(ComposedKernel::new(&Arch::parse(spec)?, x, out)?)
        }
        _ => unreachable!("every rank-2 kernel of KERNELS has a constructor"),
    })
}
