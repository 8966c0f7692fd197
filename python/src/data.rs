//! Datasets and concept classes: MNIST/CIFAR-10 loaders, synthetic targets of the seeds.

use crate::{convert::*, errors::*};
use numpy::ndarray::{ArrayD, IxDyn};
use numpy::IntoPyArray;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;
use widenet::Matrix;

/// Two classes of MNIST or CIFAR-10 from `dir`, unit-norm rows, labels ±1.
#[pyfunction]
#[pyo3(signature = (dataset, dir, classes=(0, 1), split="train", limit=None))]
pub(crate) fn load_two_class<'py>(
    py: Python<'py>,
    dataset: &str,
    dir: PathBuf,
    classes: (u8, u8),
    split: &str,
    limit: Option<usize>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let split: widenet::data::Split = option("split", split)?;
    let (a, b) = classes;
    if a > 9 || b > 9 || a == b {
        return Err(invalid(
            "classes",
            format!("expected two different labels 0-9, got ({a}, {b})"),
        ));
    }
    let dataset = dataset.to_string();
    let ds = run(py, || {
        widenet::commands::load_two_class(&dataset, &dir, classes, split, limit)
    })?;
    Ok((out2(py, ds.x), out1(py, ds.y)))
}

/// Every class of a split (unit-norm rows, labels 0..=9 as int64).
#[pyfunction]
#[pyo3(signature = (dataset, dir, split="train", limit=None))]
pub(crate) fn load_all_classes<'py>(
    py: Python<'py>,
    dataset: &str,
    dir: PathBuf,
    split: &str,
    limit: Option<usize>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let split: widenet::data::Split = option("split", split)?;
    let dataset = dataset.to_string();
    let (x, labels) = run(py, || {
        widenet::commands::load_all_classes(&dataset, &dir, split, limit)
    })?;
    let labels: Vec<i64> = labels.into_iter().map(i64::from).collect();
    Ok((out2(py, x), labels.into_pyarray(py).into_any()))
}

/// The built-in structured two-class dataset (unit-norm rows, labels ±1).
#[pyfunction]
#[pyo3(signature = (n, d, seed=0))]
pub(crate) fn two_class_structured<'py>(
    py: Python<'py>,
    n: usize,
    d: usize,
    seed: u64,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    if d == 0 {
        return Err(invalid("d", "the dimension must be at least 1"));
    }
    widenet::runtime::check_alloc("two_class_structured inputs", n as u128 * d as u128, 8)
        .map_err(py_err)?;
    let ds = run(py, || {
        Ok(widenet::data::synthetic::two_class_structured(n, d, seed))
    })?;
    Ok((out2(py, ds.x), out1(py, ds.y)))
}

/// Inputs, targets and the index sets of a drawn concept.
pub(crate) type Sample<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>, Vec<Vec<usize>>);

/// Seed 003's concept classes: "fig2" (Figure 2's H = βF + αG(F) on {±1}^d), "thm2"
/// (Theorem 2's hard instance on {±1/√d}^d) and "fig3" (Figure 3's degree-6 parity).
/// Returns (x, y, indices): indices are Figure 2's G sets, or the chosen coordinates.
#[pyfunction]
#[pyo3(signature = (name, n, seed=0, d=None, k=None, alpha=0.3, beta=1.0, index_seed=0))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn resnet_target<'py>(
    py: Python<'py>,
    name: &str,
    n: usize,
    seed: u64,
    d: Option<usize>,
    k: Option<usize>,
    alpha: f64,
    beta: f64,
    index_seed: u64,
) -> PyResult<Sample<'py>> {
    use widenet::data::resnet_targets::{Fig2Target, Fig3Target, TargetName, Thm2Target};
    let name: TargetName = option("name", name)?;
    let (x, y, idx) = run(py, || match name {
        TargetName::Fig2 => {
            let mut t = Fig2Target::new(alpha, beta);
            if let Some(d) = d {
                t.d = d;
            }
            let (x, y) = t.sample(n, seed)?;
            Ok((x, y, t.g_sets))
        }
        TargetName::Thm2 => {
            let d = d.unwrap_or(16);
            let mut t = Thm2Target::random(d, k.unwrap_or(4), alpha, index_seed)?;
            t.beta = beta;
            let (x, y) = t.sample(n, seed)?;
            Ok((x, y, vec![t.indices]))
        }
        TargetName::Fig3 => {
            let t = Fig3Target::random(d.unwrap_or(40), index_seed)?;
            let (x, y) = t.sample(n, seed)?;
            Ok((x, y, vec![t.indices]))
        }
    })?;
    Ok((out2(py, x), out2(py, y), idx))
}

/// Seed 004's concept classes for RNNs (eq. 9 additive, eq. 11 N-variable) with inputs of
/// norms in [c_min, c_max] and ±1 labels with Theorem 2's margin (see
/// `widenet::data::rnn_concepts::draw`).
#[pyfunction]
#[pyo3(signature = (n, len, d, kind="additive", psi="sin", terms=1, positions=None,
    beta_norm=1.0, threshold=0.1, c_min=1.0, c_max=1.0, seed=0, max_draws=None,
    sample_seed=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn rnn_concept<'py>(
    py: Python<'py>,
    n: usize,
    len: usize,
    d: usize,
    kind: &str,
    psi: &str,
    terms: usize,
    positions: Option<Vec<usize>>,
    beta_norm: f64,
    threshold: f64,
    c_min: f64,
    c_max: f64,
    seed: u64,
    max_draws: Option<usize>,
    sample_seed: Option<u64>,
) -> PyResult<Bound<'py, PyDict>> {
    use widenet::data::rnn_concepts::{draw, Concept, ConceptKind, InputSpec};
    use widenet::taylor::AnalyticFn;
    let spec = InputSpec {
        len,
        d,
        c_min,
        c_max,
    };
    let f = AnalyticFn::parse(psi).map_err(py_err)?;
    let kind: ConceptKind = option("kind", kind)?;
    let (sample, concept) = run(py, || {
        spec.check()?;
        let mut g = widenet::rng::stream(seed, "python/rnn-concept");
        let concept = Concept::random(kind, len, d, positions, terms, &f, beta_norm, &mut g)?;
        // the concept from `seed`, the sequences from `sample_seed` (default `seed`): one
        // concept, independent training and test draws
        let mut gx = widenet::rng::stream(sample_seed.unwrap_or(seed), "python/rnn-concept-x");
        let s = draw(
            &spec,
            &concept,
            n,
            threshold,
            max_draws.unwrap_or(1000 * n.max(1)),
            &mut gx,
        )?;
        Ok((s, concept))
    })?;
    // x as n × L × d (sample-major, the layout rnn_ntk and train_rnn take)
    let mut x = vec![0.0; n * len * d];
    for (l, m) in sample.xs.iter().enumerate() {
        for i in 0..n {
            x[(i * len + l) * d..(i * len + l + 1) * d].copy_from_slice(m.row(i));
        }
    }
    let dct = PyDict::new(py);
    let xa = ArrayD::from_shape_vec(IxDyn(&[n, len, d]), x).expect("n * L * d values");
    dct.set_item("x", xa.into_pyarray(py))?;
    dct.set_item("y", out1(py, sample.labels))?;
    dct.set_item("f_star", out1(py, sample.f_star))?;
    dct.set_item("f_raw", out1(py, sample.f_raw))?;
    dct.set_item("scale", sample.scale)?;
    dct.set_item("drawn", sample.drawn)?;
    dct.set_item("dropped", sample.dropped)?;
    let (pos, betas): (Vec<Vec<usize>>, Vec<Vec<f64>>) = match concept {
        Concept::Additive(c) => c
            .terms
            .into_iter()
            .map(|t| (vec![t.position], t.beta))
            .unzip(),
        Concept::NVariable(c) => c
            .terms
            .into_iter()
            .map(|t| (c.positions.clone(), t.beta))
            .unzip(),
    };
    dct.set_item("positions", pos)?;
    dct.set_item("betas", betas)?;
    Ok(dct)
}

/// L − 2 step matrices n × c as one n × (L − 2) × c array (sample-major).
pub(crate) fn stack_steps<'py>(py: Python<'py>, ms: &[Matrix<f64>]) -> Bound<'py, PyAny> {
    let steps = ms.len();
    let (n, c) = ms.first().map_or((0, 0), |m| m.shape());
    let mut v = vec![0.0; n * steps * c];
    for (l, m) in ms.iter().enumerate() {
        for i in 0..n {
            v[(i * steps + l) * c..(i * steps + l + 1) * c].copy_from_slice(m.row(i));
        }
    }
    ArrayD::from_shape_vec(IxDyn(&[n, steps, c]), v)
        .expect("n * steps * c values")
        .into_pyarray(py)
        .into_any()
}

/// Seed 002's concept class for Elman RNNs in Example 3.5's form (per-lag two-layer nets),
/// its inputs x*_2..x*_{L−1} and noisy labels.
#[pyfunction]
#[pyo3(signature = (n, len, dx, d=1, p=4, phi="sin", noise_sd=0.0, seed=0))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn elman_concept<'py>(
    py: Python<'py>,
    n: usize,
    len: usize,
    dx: usize,
    d: usize,
    p: usize,
    phi: &str,
    noise_sd: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    use widenet::data::elman_concepts::{draw, opt_l2, LagNets};
    use widenet::taylor::AnalyticFn;
    let f = AnalyticFn::parse(phi).map_err(py_err)?;
    let (nets, sample) = run(py, || {
        let mut g = widenet::rng::stream(seed, "python/elman-concept");
        let nets = LagNets::random(len, dx, d, p, &f, &mut g)?;
        let concept = nets.to_concept()?;
        let mut gx = widenet::rng::stream(seed, "python/elman-concept-x");
        let sample = draw(&concept, n, noise_sd, &mut gx)?;
        Ok((nets, sample))
    })?;
    let dct = PyDict::new(py);
    dct.set_item("x_star", stack_steps(py, &sample.x_star))?;
    dct.set_item("f_star", stack_steps(py, &sample.f_star))?;
    dct.set_item("targets", stack_steps(py, &sample.targets))?;
    let a: Vec<_> = nets.a.into_iter().map(|m| out2(py, m)).collect();
    let w: Vec<_> = nets.w.into_iter().map(|m| out2(py, m)).collect();
    dct.set_item("a", a)?;
    dct.set_item("w", w)?;
    dct.set_item("opt", opt_l2(len, d, noise_sd))?;
    Ok(dct)
}

/// Targets, directions β_j and Corollary 6.2's bound.
pub(crate) type PolyOut<'py> = (Bound<'py, PyAny>, Vec<Vec<f64>>, Option<f64>);

/// Seed 001 §6's polynomial targets g(x) = Σ_j α_j (β_jᵀx)^{p_j} on the rows of `x`, β_j
/// uniform on the unit sphere (from `seed`); returns (y, betas, Cor. 6.2's bound on
/// sqrt(yᵀ(H^∞)⁻¹y), None when a power is neither 1 nor even).
#[pyfunction]
#[pyo3(signature = (x, terms, seed=0))]
pub(crate) fn poly_target<'py>(
    py: Python<'py>,
    x: Arr<'py>,
    terms: Vec<(f64, u32)>,
    seed: u64,
) -> PyResult<PolyOut<'py>> {
    use widenet::data::synthetic::PolyTarget;
    let xm = matrix::<f64>(&x, "x")?;
    if terms.is_empty() {
        return Err(invalid("terms", "give at least one (alpha, p) term"));
    }
    let (y, t) = run(py, || {
        let mut g = widenet::rng::stream(seed, "python/poly-target");
        let t = PolyTarget::random(xm.cols(), &terms, &mut g);
        Ok((t.eval(&xm)?, t))
    })?;
    let bound = if t.bound_applies() {
        Some(widenet::theory::complexity::poly_target_bound(&t).map_err(py_err)?)
    } else {
        None
    };
    let betas = t.terms.into_iter().map(|t| t.beta).collect();
    Ok((out1(py, y), betas, bound))
}

/// n points drawn uniformly from the unit sphere in R^d.
#[pyfunction]
#[pyo3(signature = (n, d, seed=0))]
pub(crate) fn unit_sphere(
    py: Python<'_>,
    n: usize,
    d: usize,
    seed: u64,
) -> PyResult<Bound<'_, PyAny>> {
    if d == 0 {
        return Err(invalid("d", "the dimension must be at least 1"));
    }
    widenet::runtime::check_alloc("unit_sphere points", n as u128 * d as u128, 8)
        .map_err(py_err)?;
    let x = run(py, || {
        let mut g = widenet::rng::stream(seed, "python/unit_sphere");
        Ok(widenet::data::synthetic::unit_sphere(n, d, &mut g))
    })?;
    Ok(out2(py, x))
}
