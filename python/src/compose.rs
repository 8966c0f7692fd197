//! `_widenet.compose_*`: the compositional kernel engine (`widenet.stax`'s native
//! half): specs parsed and printed by the library's parser, kernels computed by
//! `widenet::kernels::compose` with the GIL released.

use super::{check_kernel, invalid, matrix, option, out2, py_err, run, values, Arr};
use pyo3::prelude::*;
use widenet::kernels::compose::{
    composed_cross, composed_gram, sequence_input, Arch, ComposedKernel, Gram, Output,
};
use widenet::kernels::rnn_infinite::Preset;
use widenet::kernels::tile::dense_f32;
use widenet::Matrix;

/// Parses `spec`; returns (canonical spec, the net as one layer's spec, "mean" or
/// "dot", the sequence length of a recurrent net or None, whether it reads out
/// every step).
#[pyfunction]
pub fn compose_spec(spec: &str) -> PyResult<(String, String, String, Option<usize>, bool)> {
    let arch = Arch::parse(spec).map_err(py_err)?;
    // a top-level list prints bare; as one layer it is a serial(...)
    let one = arch.net.to_string();
    let gram = match arch.gram {
        Gram::Mean => "mean",
        Gram::Dot => "dot",
    };
    Ok((
        arch.to_string(),
        one,
        gram.into(),
        arch.seq_len(),
        arch.readout_all(),
    ))
}

/// The spec of `rnn_ntk_infinite`'s preset ("elman" or "wang") of length `len`.
#[pyfunction]
pub fn compose_rnn_preset(preset: &str, len: usize) -> PyResult<String> {
    let p: Preset = option("preset", preset)?;
    if len == 0 {
        return Err(invalid("len", "a sequence needs at least one step"));
    }
    Ok(Arch::rnn_preset(p, len).to_string())
}

/// The inputs as the library's matrix: n × d, or n × L × d sequences (flattened to
/// n × (L·d), and only for a recurrent net of length L).
pub(crate) fn inputs(arch: &Arch, a: &Arr<'_>, name: &str) -> PyResult<Matrix<f64>> {
    match a.shape().as_slice() {
        &[n, l, d] => {
            sequence_input(arch, values::<f64>(a, name)?, (n, l, d), name).map_err(py_err)
        }
        _ => matrix::<f64>(a, name),
    }
}

/// The `output` ("ntk" or "nngp") kernel of the architecture `spec` on the rows of
/// `x`, or between the rows of `x` and `x2`: float64, or float32 when every input
/// is float32 (the f32 tiles of [`ComposedKernel`]: an f32 GEMM, the maps in f64).
#[pyfunction]
#[pyo3(signature = (spec, x, x2=None, output="ntk"))]
pub fn compose_kernel<'py>(
    py: Python<'py>,
    spec: &str,
    x: Arr<'py>,
    x2: Option<Arr<'py>>,
    output: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let arch = Arch::parse(spec).map_err(py_err)?;
    let out: Output = option("output", output)?;
    // float32 inputs (all of them): the f32 path, a float32 kernel
    let f32 = x.is_f32() && x2.as_ref().is_none_or(|b| b.is_f32());
    let xm = inputs(&arch, &x, "x")?;
    let x2m = x2.as_ref().map(|a| inputs(&arch, a, "x2")).transpose()?;
    check_kernel(
        "the composed kernel",
        xm.rows(),
        x2m.as_ref().map_or(xm.rows(), |m| m.rows()),
        if f32 { 4 } else { 8 },
    )?;
    if f32 {
        let k = run(py, || match &x2m {
            None => dense_f32(&ComposedKernel::from_f32(&arch, &xm.cast::<f32>(), out)?),
            // the cross kernel of the (exactly widened) inputs in f64, rounded
            Some(b) => Ok(composed_cross(&arch, &xm, b, out)?.cast::<f32>()),
        })?;
        return Ok(out2(py, k));
    }
    let k = run(py, || match &x2m {
        None => composed_gram(&arch, &xm, out),
        Some(b) => composed_cross(&arch, &xm, b, out),
    })?;
    Ok(out2(py, k))
}

/// For expression activations: the largest relative change of the `output` kernel
/// on the first `rows` inputs at twice the quadrature nodes (the accuracy reached);
/// None for a net of closed forms only.
#[pyfunction]
#[pyo3(signature = (spec, x, output="ntk", rows=16))]
pub fn compose_quadrature_accuracy(
    py: Python<'_>,
    spec: &str,
    x: Arr<'_>,
    output: &str,
    rows: usize,
) -> PyResult<Option<f64>> {
    let arch = Arch::parse(spec).map_err(py_err)?;
    let out: Output = option("output", output)?;
    let xm = inputs(&arch, &x, "x")?;
    run(py, || {
        ComposedKernel::new(&arch, &xm, out)?.quadrature_accuracy(rows)
    })
}
