//! `widenet._widenet`: the native half of the Python package. It only converts
//! arguments and results, releases the GIL and watches for Ctrl-C; every computation is
//! a call into the `widenet` library (the public, documented API is the Python layer in
//! `python/widenet/`, which names and documents the arguments).
//!
//! Conventions:
//! - Arrays arrive as float32 or float64 numpy arrays of any memory order (the Python
//!   layer turns integer arrays and array-likes into float64 first); each is copied once
//!   into the library's row-major matrix, checking that every entry is finite and naming
//!   the argument and the entry otherwise.
//! - Results leave as numpy arrays that take over the library's buffers (no copy).
//! - Every computation runs on a worker thread with the GIL released ([`run`]); the
//!   calling thread polls for signals every 50 ms and on KeyboardInterrupt asks the
//!   library to stop ([`widenet::runtime::request_interrupt`]), waits for it, and raises.

// The binding by area; the registration below names each function (the modules'
// items are glob-imported here, and the shared conversions reach every module).
mod analysis;
mod convert;
mod data;
mod errors;
mod experiments;
mod kernels;
mod training;

use analysis::*;
use convert::*;
use data::*;
use errors::*;
use experiments::*;
use kernels::*;
use pyo3::prelude::*;
use training::*;

mod compose;
mod composed;
mod predict;
mod solver;

/// Sets the process-wide memory budget in bytes that every allocation check and path
/// choice reads (the CLI's `--memory-budget`); 0 restores the default, 75% of physical
/// memory. Returns the budget now in force.
#[pyfunction]
fn set_memory_budget(bytes: u64) -> u64 {
    widenet::runtime::set_memory_budget(bytes);
    widenet::runtime::memory_budget()
}

#[pymodule]
fn _widenet(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("WidenetError", m.py().get_type::<WidenetError>())?;
    m.add_function(wrap_pyfunction!(set_memory_budget, m)?)?;
    m.add_function(wrap_pyfunction!(load_all_classes, m)?)?;
    m.add_function(wrap_pyfunction!(relu_ntk, m)?)?;
    m.add_function(wrap_pyfunction!(_time_relu_ntk, m)?)?;
    m.add_function(wrap_pyfunction!(fc_kernel, m)?)?;
    m.add_function(wrap_pyfunction!(gaussian, m)?)?;
    m.add_function(wrap_pyfunction!(arcsin, m)?)?;
    m.add_function(wrap_pyfunction!(empirical_gram, m)?)?;
    m.add_function(wrap_pyfunction!(rnn_ntk, m)?)?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_large, m)?)?;
    m.add_function(wrap_pyfunction!(kernel_block, m)?)?;
    m.add_function(wrap_pyfunction!(loss_curves, m)?)?;
    m.add_function(wrap_pyfunction!(tridiag_min, m)?)?;
    m.add_function(wrap_pyfunction!(lanczos_largest, m)?)?;
    m.add_function(wrap_pyfunction!(train_two_layer, m)?)?;
    m.add_function(wrap_pyfunction!(krr, m)?)?;
    m.add_function(wrap_pyfunction!(train_rnn, m)?)?;
    m.add_function(wrap_pyfunction!(train_resnet, m)?)?;
    m.add_function(wrap_pyfunction!(complexity, m)?)?;
    m.add_function(wrap_pyfunction!(reproduce, m)?)?;
    m.add_function(wrap_pyfunction!(rejudge, m)?)?;
    m.add_function(wrap_pyfunction!(experiment_names, m)?)?;
    m.add_function(wrap_pyfunction!(load_two_class, m)?)?;
    m.add_function(wrap_pyfunction!(two_class_structured, m)?)?;
    m.add_function(wrap_pyfunction!(unit_sphere, m)?)?;
    m.add_function(wrap_pyfunction!(resnet_target, m)?)?;
    m.add_function(wrap_pyfunction!(rnn_concept, m)?)?;
    m.add_function(wrap_pyfunction!(elman_concept, m)?)?;
    m.add_function(wrap_pyfunction!(poly_target, m)?)?;
    m.add_function(wrap_pyfunction!(solver::analyze_operator, m)?)?;
    m.add_function(wrap_pyfunction!(predict::predict, m)?)?;
    // widenet.stax (issue 23)
    m.add_function(wrap_pyfunction!(compose::compose_spec, m)?)?;
    m.add_function(wrap_pyfunction!(compose::compose_kernel, m)?)?;
    m.add_function(wrap_pyfunction!(compose::compose_rnn_preset, m)?)?;
    m.add_function(wrap_pyfunction!(compose::compose_quadrature_accuracy, m)?)?;
    m.add_function(wrap_pyfunction!(composed::composed_init, m)?)?;
    m.add_function(wrap_pyfunction!(composed::composed_apply, m)?)?;
    m.add_function(wrap_pyfunction!(composed::composed_empirical_ntk, m)?)?;
    m.add_function(wrap_pyfunction!(composed::composed_train_gd, m)?)?;
    Ok(())
}
