//! Theory: spectra, predicted dynamics, complexity measures and bounds.

pub mod bounds;
pub mod complexity;
pub mod hierarchical;
pub mod spectrum;
pub mod taylor;
pub mod large_n;
