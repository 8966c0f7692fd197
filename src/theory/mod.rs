//! Theory: spectra, predicted dynamics, complexity measures and bounds.

pub mod bounds;
pub mod complexity;
pub mod hierarchical;
pub mod large_n;
pub mod spectrum;
pub mod taylor;
pub mod bounds_001;
pub mod rate_fit;
