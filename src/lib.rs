//! # widenet
//!
//! A toolkit for the theory of wide (over-parameterized) neural networks: the
//! kernels that govern their training, spectra and predicted dynamics,
//! data-dependent complexity measures and bounds, the exact learner networks of
//! the papers, and one-command reproductions of the papers' experiments.
//!
//! Layout: [`data`] (loaders, synthetic concepts, label operations),
//! [`kernels`] (closed-form and empirical kernels), [`models`] (learner
//! networks), [`train`] (losses and training loops), [`theory`] (spectra,
//! predicted dynamics, bounds), [`experiments`] (one module per paper figure),
//! [`report`] (plots, JSON/CSV, HTML), [`bench`] (performance measurements).

pub mod artifacts;
pub mod bench;
pub mod commands;
pub mod data;
pub mod error;
pub mod experiments;
pub mod kernels;
pub mod linalg;
pub mod lock;
pub mod models;
pub mod options;
pub mod report;
pub mod rng;
pub mod runtime;
pub mod taylor;
pub mod theory;
pub mod train;
pub mod validate;

pub use error::{Error, Result};
pub use linalg::{Matrix, Real};
