//! Training: losses, optimizers and training loops.

pub mod gd;

pub use gd::{
    train_gd, train_two_layer, train_two_layer_record, GdConfig, GdMetrics, GdOutcome, StopReason,
    TestSet, TwoLayerRecord,
};
pub mod rnn_sgd;
pub mod search;
pub mod sgd;
