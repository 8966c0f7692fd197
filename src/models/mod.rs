//! Learner networks, one file per model.

pub mod composed;
pub mod two_layer;

pub use two_layer::TwoLayerNet;
pub mod a1net;
pub mod krr;
pub mod learner;
pub mod ntk_exact;
pub mod resnet;
pub mod rnn;
pub mod rnn_ntk;
