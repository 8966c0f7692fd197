//! Theory: spectra, predicted dynamics, complexity measures and bounds.
