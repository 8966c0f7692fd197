//! All integration tests and the library's unit tests (`unit/`) in one binary: one build
//! and one link of the shared code instead of one per file (issue 24 item 5). Each file is
//! a module, named as before (`cargo test --test it predict::` runs one of them). The tests
//! that set process-wide state (the interrupt flag, the memory budget), which would reach
//! the tests running beside them here, are the binary `tests/process/`.

mod claim_quotes;
mod claims_central;
mod cli;
mod cli_hostile;
mod complexity;
mod compose;
mod compose_finite;
mod compose_finite_rnn;
mod compose_rnn;
mod data_labeling;
mod data_labels;
mod data_loaders;
mod experiments;
mod fc_kernels;
mod framework;
mod fuzz_parsers;
mod gd;
mod hardening;
mod kernels;
mod krr;
mod large_n_operator;
mod layering;
mod options;
mod predict;
mod predict_large;
mod predict_training;
mod report;
mod resnet;
mod resnet_experiments;
mod resnet_separation;
mod rnn;
mod rnn_experiments;
mod rnn_infinite;
mod rnn_sgd;
mod support;
mod theory;
mod tiles;
mod unit;
mod voice;
