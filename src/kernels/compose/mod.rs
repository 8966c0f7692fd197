//! The compositional kernel engine (issue 23): an architecture is a value
//! ([`arch::Arch`], a tree of layers parsed from a text spec), and its
//! infinite-width NNGP and NTK are one [`kernel::ComposedKernel`] (a
//! [`crate::kernels::tile::TileKernel`], so `analyze`, the large-n path and `krr`
//! take it unchanged). The layer table with every map's formula and source is in
//! docs/compose.md.

pub mod arch;
pub mod command;
pub mod expr;
pub mod kernel;
pub mod maps;

pub use arch::{Act, Arch, FanIn, Gram, Layer, Param, Readout, Rnn};
pub use kernel::{composed_cross, composed_gram, sequence_input, ComposedKernel, Output, Program};
