//! Theory: spectra, predicted dynamics, complexity measures and bounds.

pub mod analysis_report;
pub mod bounds;
pub mod bounds_001;
pub mod bounds_004;
pub mod complexity;
pub mod fg_split;
pub mod hierarchical;
pub mod large_n;
pub mod predict;
pub mod rate_fit;
pub mod spectrum;
/// The analytic functions ψ (a low-level module: the concept classes in `data` use it too).
pub use crate::taylor;
