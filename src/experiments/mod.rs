//! Experiments: one module per paper figure (config in, typed result out).

pub mod arora_bounds;
pub mod arora_fig1;
pub mod arora_fig2;
pub mod arora_sec6;
pub mod claim;
pub mod common;
pub mod complexity_examples;
pub mod framework;
pub mod large_n_mnist;
pub mod quotes;
pub mod resnet_fig2;
pub mod resnet_fig3;
pub mod resnet_fig3b;
pub mod resnet_hierarchy;
pub mod resnet_kernel_bound;
pub mod resnet_separation;
pub mod rnn_complexity;
pub mod rnn_elman;
pub mod rnn_kernel;
pub mod rnn_wang_checks;
pub mod suite;
