//! The kernels: H^inf / ReLU NTK, the fc NTK and NNGP, Gaussian, arc-sine, the empirical
//! Gram, the RNN NTK, and one kernel block for `widenet.dask` (by the library's registry).

use crate::{convert::*, errors::*};
use numpy::ndarray::{Array2, ArrayD, IxDyn};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use widenet::experiments::common::Precision;
use widenet::{Matrix, Real};

/// H^∞ of seed 001 eq. 3 (Gram of `x`, or between the rows of `x` and `x2`).
#[pyfunction]
#[pyo3(signature = (x, x2=None, precision=None))]
pub(crate) fn relu_ntk<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    x2: Option<Arr<'py>>,
    precision: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let p = match precision {
        Some(p) => option::<Precision>("precision", p)?,
        None if x.is_f32() => Precision::F32,
        None => Precision::F64,
    };
    fn go<'py, T: Real + numpy::Element>(
        py: Python<'py>,
        x: &Arr<'py>,
        x2: Option<&Arr<'py>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let a: Matrix<T> = matrix(x, "x")?;
        let h = match x2 {
            None => run(py, || widenet::kernels::h_inf(&a))?,
            Some(b) => {
                let b: Matrix<T> = matrix(b, "x2")?;
                run(py, || widenet::kernels::h_inf_cross(&a, &b))?
            }
        };
        Ok(out2(py, h))
    }
    let (n, n2) = kernel_shape(&x, x2.as_ref());
    let elem = if p == Precision::F32 { 4 } else { 8 };
    check_kernel("the H^inf kernel", n, n2, elem)?;
    match p {
        Precision::F32 => go::<f32>(py, &x, x2.as_ref()),
        Precision::F64 => go::<f64>(py, &x, x2.as_ref()),
    }
}

/// Seconds of the library's H^∞ call on `x` (already converted), best of `repeats`: the
/// Rust-side reference of the benchmark's "Python call vs Rust call" ratio.
#[pyfunction]
#[pyo3(signature = (x, precision="f64", repeats=3))]
pub(crate) fn _time_relu_ntk(
    py: Python<'_>,
    x: Arr<'_>,
    precision: &str,
    repeats: usize,
) -> PyResult<f64> {
    fn go<T: Real>(py: Python<'_>, x: &Arr<'_>, repeats: usize) -> PyResult<f64> {
        let a: Matrix<T> = matrix(x, "x")?;
        run(py, || {
            let mut best = f64::INFINITY;
            for _ in 0..repeats.max(1) {
                let t = std::time::Instant::now();
                let h = widenet::kernels::h_inf(&a)?;
                best = best.min(t.elapsed().as_secs_f64());
                drop(h);
            }
            Ok(best)
        })
    }
    match option::<Precision>("precision", precision)? {
        Precision::F32 => go::<f32>(py, &x, repeats),
        Precision::F64 => go::<f64>(py, &x, repeats),
    }
}

/// Checks an rows × cols kernel of `elem` bytes per entry against the memory budget
/// before the library allocates it (an allocation failure would abort the interpreter).
pub(crate) fn check_kernel(what: &str, rows: usize, cols: usize, elem: u128) -> PyResult<()> {
    widenet::runtime::check_alloc(what, rows as u128 * cols as u128, elem)
        .map(drop)
        .map_err(py_err)
}

/// The kernel's shape from the argument shapes: (n, n) or (n, n2).
pub(crate) fn kernel_shape(x: &Arr<'_>, x2: Option<&Arr<'_>>) -> (usize, usize) {
    let n = x.shape().first().copied().unwrap_or(0);
    let n2 = x2.map_or(n, |b| b.shape().first().copied().unwrap_or(0));
    (n, n2)
}

pub(crate) fn pair<'py>(
    x: &Arr<'py>,
    x2: Option<&Arr<'py>>,
) -> PyResult<(Matrix<f64>, Option<Matrix<f64>>)> {
    let a = matrix::<f64>(x, "x")?;
    let b = x2.map(|b| matrix::<f64>(b, "x2")).transpose()?;
    Ok((a, b))
}

/// Fully connected ReLU NTK (or NNGP with `nngp=True`) of seed 003.
#[pyfunction]
#[pyo3(signature = (x, x2=None, depth=3, trained="all", nngp=false))]
pub(crate) fn fc_kernel<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    x2: Option<Arr<'py>>,
    depth: usize,
    trained: &str,
    nngp: bool,
) -> PyResult<Bound<'py, PyAny>> {
    use widenet::kernels::fc;
    let (n, n2) = kernel_shape(&x, x2.as_ref());
    check_kernel("the fully connected kernel", n, n2, 8)?;
    let (a, b) = pair(&x, x2.as_ref())?;
    let trained: fc::FcTrained = option("trained", trained)?;
    let h = run(py, || match (&b, nngp) {
        (None, false) => fc::fc_ntk_gram(&a, depth, trained),
        (Some(b), false) => fc::fc_ntk(&a, b, depth, trained),
        (None, true) => fc::fc_nngp_gram(&a, depth),
        (Some(b), true) => fc::fc_nngp(&a, b, depth),
    })?;
    Ok(out2_as(py, h, all_f32(&x, x2.as_ref())))
}

/// Gaussian kernel exp(−‖x − y‖²/h).
#[pyfunction]
#[pyo3(signature = (x, x2=None, bandwidth=1.0))]
pub(crate) fn gaussian<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    x2: Option<Arr<'py>>,
    bandwidth: f64,
) -> PyResult<Bound<'py, PyAny>> {
    use widenet::kernels::classic;
    let (n, n2) = kernel_shape(&x, x2.as_ref());
    check_kernel("the Gaussian kernel", n, n2, 8)?;
    let (a, b) = pair(&x, x2.as_ref())?;
    let h = run(py, || match &b {
        None => classic::gaussian_gram(&a, bandwidth),
        Some(b) => classic::gaussian(&a, b, bandwidth),
    })?;
    Ok(out2_as(py, h, all_f32(&x, x2.as_ref())))
}

/// Arc-sine kernel arcsin(⟨x, y⟩/(‖x‖‖y‖)).
#[pyfunction]
#[pyo3(signature = (x, x2=None))]
pub(crate) fn arcsin<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    x2: Option<Arr<'py>>,
) -> PyResult<Bound<'py, PyAny>> {
    use widenet::kernels::classic;
    let (n, n2) = kernel_shape(&x, x2.as_ref());
    check_kernel("the arcsin kernel", n, n2, 8)?;
    let (a, b) = pair(&x, x2.as_ref())?;
    let h = run(py, || match &b {
        None => classic::arcsin_gram(&a),
        Some(b) => classic::arcsin(&a, b),
    })?;
    Ok(out2_as(py, h, all_f32(&x, x2.as_ref())))
}

/// The empirical Gram H(W) of a two-layer net with hidden weights `w` (seed 001 eq. 5).
#[pyfunction]
#[pyo3(signature = (w, x, x2=None))]
pub(crate) fn empirical_gram<'py>(
    py: Python<'py>,
    w: Arr<'py>,
    x: Arr<'py>,
    x2: Option<Arr<'py>>,
) -> PyResult<Bound<'py, PyAny>> {
    let (n, n2) = kernel_shape(&x, x2.as_ref());
    let m = w.shape().first().copied().unwrap_or(0);
    check_kernel("the empirical Gram matrix", n, n2, 8)?;
    check_kernel("the activation patterns (m x n)", m, n.max(n2), 8)?;
    let f32s = w.is_f32() && all_f32(&x, x2.as_ref());
    if f32s {
        let (w, x) = (matrix::<f32>(&w, "w")?, matrix::<f32>(&x, "x")?);
        let x2 = x2.map(|a| matrix::<f32>(&a, "x2")).transpose()?;
        let h = run(py, || match &x2 {
            None => widenet::kernels::empirical_gram(&w, &x),
            Some(x2) => widenet::kernels::empirical_gram_cross(&w, &x, x2),
        })?;
        Ok(out2(py, h))
    } else {
        let (w, x) = (matrix::<f64>(&w, "w")?, matrix::<f64>(&x, "x")?);
        let x2 = x2.map(|a| matrix::<f64>(&a, "x2")).transpose()?;
        let h = run(py, || match &x2 {
            None => widenet::kernels::empirical_gram(&w, &x),
            Some(x2) => widenet::kernels::empirical_gram_cross(&w, &x, x2),
        })?;
        Ok(out2(py, h))
    }
}

/// The recurrent NTK (empirical at `width`, or infinite-width when `width` is None).
/// Returns (H, params) with params a dict of arrays (empty for infinite width).
#[pyfunction]
#[pyo3(signature = (x, preset, width=None, d_out=1, seed=0, x2=None))]
pub(crate) fn rnn_ntk<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    preset: &str,
    width: Option<usize>,
    d_out: usize,
    seed: u64,
    x2: Option<Arr<'py>>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyDict>)> {
    let seq_shape = |a: &Arr<'py>, name: &str| -> PyResult<(usize, usize, usize)> {
        match a.shape().as_slice() {
            &[n, l, d] => Ok((n, l, d)),
            s => Err(invalid(
                name,
                format!("expected an n x L x d array (one sequence per sample), got shape {s:?}"),
            )),
        }
    };
    let shape = seq_shape(&x, "x")?;
    let shape2 = x2.as_ref().map(|a| seq_shape(a, "x2")).transpose()?;
    let n_all = shape.0 + shape2.map_or(0, |s| s.0);
    check_kernel("the RNN NTK", n_all, n_all, 8)?;
    let data = values::<f64>(&x, "x")?;
    let data2 = x2.as_ref().map(|a| values::<f64>(a, "x2")).transpose()?;
    let preset = preset.to_string();
    let (h, params) = run(py, || match (&data2, shape2) {
        (Some(d2), Some(s2)) => widenet::commands::rnn_ntk_cross_arrays(
            &preset, &data, shape, d2, s2, width, d_out, seed,
        ),
        _ => widenet::commands::rnn_ntk_arrays(&preset, &data, shape, width, d_out, seed),
    })?;
    let d = PyDict::new(py);
    for p in params {
        let a = ArrayD::from_shape_vec(IxDyn(&p.shape), p.data)
            .expect("a parameter's buffer matches its shape");
        d.set_item(p.name, a.into_pyarray(py))?;
    }
    Ok((out2_as(py, h, all_f32(&x, x2.as_ref())), d))
}

/// Block (I, J) of one of widenet's kernels from the rows of the two blocks, bit for bit
/// the single-machine kernel's entries (the task body of `widenet.dask`): with `xb` None,
/// the diagonal block K(xa, xa); otherwise the lower block K[rows of xb, rows of xa] of
/// the kernel of the stacked inputs [xa; xb] (xa a whole number of 256-row tiles, block J
/// before block I). Every kernel here depends on its two inputs and per-sample
/// quantities only, so the block equals the one `tile::dense_*` computes at n.
#[pyfunction]
#[pyo3(signature = (kind, xa, xb=None, precision="f64", depth=3, trained="all",
    bandwidth=1.0, preset=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn kernel_block<'py>(
    py: Python<'py>,
    kind: &str,
    xa: Arr<'py>,
    xb: Option<Arr<'py>>,
    precision: &str,
    depth: usize,
    trained: &str,
    bandwidth: f64,
    preset: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    use widenet::kernels::tile::{region, TileKernel, TILE};
    let sa = xa.shape();
    let na = sa.first().copied().unwrap_or(0);
    let nb = xb
        .as_ref()
        .map_or(0, |b| b.shape().first().copied().unwrap_or(0));
    if let Some(b) = &xb {
        if b.shape()[1..] != sa[1..] {
            return Err(invalid(
                "xb",
                format!("shape {:?} does not match xa's {:?}", b.shape(), sa),
            ));
        }
        if na % TILE != 0 {
            return Err(invalid(
                "xa",
                format!("an off-diagonal block needs a multiple of {TILE} rows in xa, got {na}"),
            ));
        }
    }
    let (rows, cols) = if xb.is_some() {
        (na..na + nb, 0..na)
    } else {
        (0..na, 0..na)
    };
    check_kernel("the kernel block", rows.len(), cols.len(), 8)?;
    fn stacked<U: Real>(xa: &Arr<'_>, xb: Option<&Arr<'_>>) -> PyResult<Vec<U>> {
        let mut v = values::<U>(xa, "xa")?;
        if let Some(b) = xb {
            v.extend(values::<U>(b, "xb")?);
        }
        Ok(v)
    }
    fn cut<'py, T: widenet::kernels::tile::TileElem + numpy::Element, K: TileKernel + ?Sized>(
        py: Python<'py>,
        k: &K,
        rows: std::ops::Range<usize>,
        cols: std::ops::Range<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (r, c) = (rows.len(), cols.len());
        let out = run(py, || {
            let mut out = vec![T::zero(); r * c];
            region(k, rows, cols, &mut out)?;
            Ok(out)
        })?;
        Ok(Array2::from_shape_vec((r, c), out)
            .expect("the block's buffer matches its shape")
            .into_pyarray(py)
            .into_any())
    }
    let p = option::<Precision>("precision", precision)?;
    if p == Precision::F32 && kind != "relu_ntk" {
        return Err(invalid(
            "precision",
            format!("f32 blocks exist for relu_ntk only, not '{kind}'"),
        ));
    }
    let n = na + nb;
    let two_d = |v: Vec<f64>| -> PyResult<Matrix<f64>> {
        if sa.len() != 2 {
            return Err(invalid(
                "xa",
                format!("expected an n x d array, got shape {sa:?}"),
            ));
        }
        Matrix::from_vec(n, sa[1], v).map_err(py_err)
    };
    use widenet::kernels::{classic::ClassicKernel, fc, relu_ntk::HInfKernel};
    match kind {
        "relu_ntk" if p == Precision::F32 => {
            if sa.len() != 2 {
                return Err(invalid(
                    "xa",
                    format!("expected an n x d array, got shape {sa:?}"),
                ));
            }
            let m =
                Matrix::from_vec(n, sa[1], stacked::<f32>(&xa, xb.as_ref())?).map_err(py_err)?;
            let k = HInfKernel::from_f32(&m).map_err(py_err)?;
            cut::<f32, _>(py, &k, rows, cols)
        }
        "relu_ntk" => {
            let m = two_d(stacked::<f64>(&xa, xb.as_ref())?)?;
            cut::<f64, _>(py, &HInfKernel::new(&m).map_err(py_err)?, rows, cols)
        }
        "fc_ntk" | "fc_nngp" => {
            let m = two_d(stacked::<f64>(&xa, xb.as_ref())?)?;
            let k = if kind == "fc_ntk" {
                let t: fc::FcTrained = option("trained", trained)?;
                fc::FcKernel::ntk(&m, depth, t)
            } else {
                fc::FcKernel::nngp(&m, depth)
            }
            .map_err(py_err)?;
            cut::<f64, _>(py, &k, rows, cols)
        }
        "gaussian" | "arcsin" => {
            let m = two_d(stacked::<f64>(&xa, xb.as_ref())?)?;
            let k = if kind == "gaussian" {
                ClassicKernel::gaussian(&m, bandwidth)
            } else {
                ClassicKernel::arcsin(&m)
            }
            .map_err(py_err)?;
            cut::<f64, _>(py, &k, rows, cols)
        }
        "rnn_ntk" => {
            use widenet::models::rnn::{split_steps, Preset};
            if sa.len() != 3 {
                return Err(invalid(
                    "xa",
                    format!(
                        "expected an n x L x d array (one sequence per sample), got shape {sa:?}"
                    ),
                ));
            }
            let preset: Preset = option("preset", preset.unwrap_or(""))?;
            let v = stacked::<f64>(&xa, xb.as_ref())?;
            let xs = split_steps(&v, n, sa[1], sa[2]).map_err(py_err)?;
            let k =
                widenet::kernels::rnn_infinite::RnnInfKernel::new(preset, &xs).map_err(py_err)?;
            cut::<f64, _>(py, &k, rows, cols)
        }
        _ => Err(invalid(
            "kind",
            format!(
                "unknown kernel '{kind}' (relu_ntk, fc_ntk, fc_nngp, gaussian, arcsin, rnn_ntk)"
            ),
        )),
    }
}
