//! Kernels: closed-form infinite-width kernels and empirical Gram matrices.

pub mod empirical;
pub mod relu_ntk;

pub use empirical::{empirical_gram, empirical_gram_cross};
pub use relu_ntk::{h_inf, h_inf_cross};
pub mod arccos;
pub mod classic;
pub mod compose;
pub mod fc;
pub mod registry;
pub mod rnn_infinite;
pub mod stored;
pub mod tile;
pub mod tile_cache;
