"""widenet: the theory of wide neural networks, numpy in, numpy out.

The kernels that govern wide networks' training (seed 001's H^inf, the fully connected
ReLU NTK/NNGP, Gaussian, arc-sine, the empirical Gram H(W), the recurrent NTK), the
analysis of a dataset under them (spectrum, label projections, eq. 8's predicted loss,
y^T (H^inf)^-1 y, the complexity measure and Theorem 5.1's bound), the papers' learners
(seed 001's two-layer net by gradient descent, kernel ridge regression), the
function-complexity calculators and one-call reproductions of the papers' experiments.

Every computation runs in the Rust library with the GIL released (other Python threads
keep running) and stops within about a second on Ctrl-C (KeyboardInterrupt). Inputs are
any array-like of floats (float32 or float64, any memory order; integer arrays become
float64), copied once; a NaN, an infinity or a wrong shape raises ``ValueError`` naming
the argument. Numerical failures (a kernel that is not positive definite, divergent
gradient descent) raise :class:`WidenetError`, a ``RuntimeError``.

The seeds cited in the docstrings: 001 Arora, Du, Hu, Li, Wang (2019), *Fine-grained
analysis of optimization and generalization for overparameterized two-layer networks*;
002 Allen-Zhu, Li (2019), *Can SGD learn recurrent neural networks with provable
generalization?*; 003 Allen-Zhu, Li (2019), *What can ResNet learn efficiently, going
beyond kernels?*; 004 Wang et al., the RNN kernel paper (its eq. 6-14, 23-28).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field, asdict
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from . import _widenet
from ._widenet import WidenetError, set_memory_budget

__all__ = [
    "WidenetError",
    "set_memory_budget",
    "relu_ntk",
    "h_inf",
    "fc_ntk",
    "fc_nngp",
    "gaussian",
    "arcsin",
    "empirical_gram",
    "rnn_ntk",
    "analyze",
    "Analysis",
    "analyze_large",
    "LargeAnalysis",
    "train_two_layer",
    "TwoLayerResult",
    "krr",
    "KrrResult",
    "train_rnn",
    "RnnResult",
    "train_resnet",
    "ResnetResult",
    "LEARNERS",
    "complexity",
    "Complexity",
    "reproduce",
    "experiment_settings",
    "rejudge",
    "ReproduceResult",
    "EXPERIMENTS",
    "load_mnist",
    "load_cifar10",
    "two_class_structured",
    "unit_sphere",
    "resnet_target",
    "rnn_concept",
    "RnnConcept",
    "elman_concept",
    "ElmanConcept",
    "poly_target",
    "predict",
    "Prediction",
]

__version__ = "0.1.0"

ArrayLike = Any
PathLike = Union[str, "os.PathLike[str]"]

#: The experiment names :func:`reproduce` accepts.
EXPERIMENTS: Tuple[str, ...] = tuple(_widenet.experiment_names())


def _arr(x: ArrayLike, name: str, ndim: Optional[int] = None) -> np.ndarray:
    """``x`` as a float32/float64 ndarray (no copy when it already is one; the native
    side copies once into the library's row-major layout, checking finiteness)."""
    try:
        a = np.asarray(x)
    except Exception as e:  # ragged lists and the like
        raise ValueError(f"invalid {name}: cannot convert to an array ({e})") from None
    if a.dtype.kind == "f" and not a.dtype.isnative:  # e.g. big-endian data from a file
        a = a.astype(a.dtype.newbyteorder("="))
    if a.dtype.kind in "biu":
        a = a.astype(np.float64)
    elif a.dtype == np.float16:
        a = a.astype(np.float32)
    elif a.dtype not in (np.float32, np.float64):
        raise ValueError(
            f"invalid {name}: expected real float32 or float64 values, got dtype {a.dtype}"
        )
    if ndim is not None and a.ndim != ndim:
        what = {1: "a 1-D array", 2: "a 2-D array (one sample per row)",
                3: "a 3-D array n x L x d (one sequence per sample)"}[ndim]
        raise ValueError(f"invalid {name}: expected {what}, got shape {a.shape}")
    return a


def _int(v: Any, name: str, lo: int = 0, none_ok: bool = False) -> Optional[int]:
    """A non-negative (>= lo) integer argument, or ValueError naming it."""
    if v is None and none_ok:
        return None
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise ValueError(f"invalid {name}: expected an integer, got {v!r}")
    if v < lo:
        raise ValueError(f"invalid {name}: must be at least {lo}, got {v}")
    return int(v)


def _steps(steps: Optional[int], iters: Optional[int], default: Optional[int] = None) -> int:
    """``steps``, or ``iters``, its old name (issue 24: one name for a count of gradient
    steps), still read with a DeprecationWarning."""
    if iters is not None:
        if steps is not None:
            raise TypeError("give steps= only (iters= is its old name)")
        warnings.warn("iters= is now called steps=; iters= will be removed",
                      DeprecationWarning, stacklevel=3)
        steps = iters
    if steps is None:
        if default is None:
            raise TypeError("missing keyword argument: steps")
        steps = default
    return _int(steps, "steps")


def _opt(x: Optional[ArrayLike], name: str, ndim: int) -> Optional[np.ndarray]:
    return None if x is None else _arr(x, name, ndim)


# ---------------------------------------------------------------------------- kernels


def relu_ntk(x: ArrayLike, x2: Optional[ArrayLike] = None, *,
             precision: Optional[str] = None) -> np.ndarray:
    """H^inf of a two-layer ReLU network (seed 001, eq. 3).

    ``H_ij = E_{w~N(0,I)}[x_i^T x_j 1{w^T x_i >= 0, w^T x_j >= 0}]
    = x_i^T x_j (pi - theta_ij) / (2 pi)``, theta_ij the angle between x_i and x_j.

    Args:
        x: n x d inputs, one sample per row.
        x2: optional n2 x d inputs; then the n x n2 cross-kernel (train-test).
        precision: "f32" or "f64"; by default float32 inputs give float32 (the fast path),
            everything else float64.

    Returns:
        The n x n (or n x n2) kernel in the chosen precision.
    """
    return _widenet.relu_ntk(_arr(x, "x", 2), _opt(x2, "x2", 2), precision)


#: Alias of :func:`relu_ntk`.
h_inf = relu_ntk


def fc_ntk(x: ArrayLike, x2: Optional[ArrayLike] = None, *, depth: int,
           trained: str = "all") -> np.ndarray:
    """Infinite-width NTK Theta^D of a fully connected ReLU net with ``depth`` weight
    layers (NTK parameterization, no biases; seed 003's "NTK" baseline, recursion of its
    reference [18]).

    Sigma^1 = x^T y / d; Sigma^h = E[relu(u) relu(v)] under Sigma^{h-1} (W_std = 1,
    neural-tangents' convention: no factor 2, so Sigma^h(x, x) = |x|^2 / (d 2^(h-1)));
    Sigma'^h = E[relu'(u) relu'(v)]; Theta^1 = Sigma^1,
    Theta^h = Theta^{h-1} Sigma'^h + Sigma^h. He scaling (seed 001's c_sigma = 2) is a
    different kernel: W_std = sqrt(2) on every layer after a ReLU, the composition
    ``dense, relu, dense(w=1.4142135623730951), ..., relu, dense(w=1.4142135623730951)``
    (docs/compose.md); at depth D both its Sigma^D and Theta^D are 2^(D-1) times these.
    ``trained="hidden"`` drops the last layer's own term.

    dtype: float32 when ``x`` (and ``x2``) are float32 (computed in float64, rounded
    once), else float64, as every widenet kernel keeps its inputs' dtype.
    """
    return _widenet.fc_kernel(_arr(x, "x", 2), _opt(x2, "x2", 2), _int(depth, "depth", 1),
                              trained, False)


def fc_nngp(x: ArrayLike, x2: Optional[ArrayLike] = None, *, depth: int) -> np.ndarray:
    """The conjugate kernel (NNGP) Sigma^D of the same fully connected ReLU net.

    dtype: float32 when ``x`` (and ``x2``) are float32 (computed in float64, rounded
    once), else float64, as every widenet kernel keeps its inputs' dtype."""
    return _widenet.fc_kernel(_arr(x, "x", 2), _opt(x2, "x2", 2), _int(depth, "depth", 1),
                              "all", True)


def gaussian(x: ArrayLike, x2: Optional[ArrayLike] = None, *, bandwidth: float) -> np.ndarray:
    """Gaussian kernel exp(-||x - y||^2 / h) with bandwidth h (seed 003 §3).

    dtype: float32 when ``x`` (and ``x2``) are float32 (computed in float64, rounded
    once), else float64, as every widenet kernel keeps its inputs' dtype."""
    return _widenet.gaussian(_arr(x, "x", 2), _opt(x2, "x2", 2), float(bandwidth))


def arcsin(x: ArrayLike, x2: Optional[ArrayLike] = None) -> np.ndarray:
    """Arc-sine kernel arcsin(<x, y> / (||x|| ||y||)) (seed 003 §3).

    dtype: float32 when ``x`` (and ``x2``) are float32 (computed in float64, rounded
    once), else float64, as every widenet kernel keeps its inputs' dtype."""
    return _widenet.arcsin(_arr(x, "x", 2), _opt(x2, "x2", 2))


def empirical_gram(w: ArrayLike, x: ArrayLike, x2: Optional[ArrayLike] = None
                   ) -> np.ndarray:
    """The Gram matrix H(W) of a two-layer ReLU net with hidden weights ``w`` (m x d)
    (seed 001, eq. 5): ``H_ij = x_i^T x_j / m * sum_r 1{w_r^T x_i >= 0, w_r^T x_j >= 0}``;
    with ``x2``, the train-test form between the rows of ``x`` and of ``x2``.
    float32 when ``w`` and the inputs are all float32, else float64."""
    return _widenet.empirical_gram(_arr(w, "w", 2), _arr(x, "x", 2), _opt(x2, "x2", 2))


def rnn_ntk(x: ArrayLike, x2: Optional[ArrayLike] = None, *, preset: str, width: Optional[int] = None, d_out: int = 1,
            seed: int = 0, return_params: bool = False
            ) -> Union[np.ndarray, Tuple[np.ndarray, Dict[str, np.ndarray]]]:
    """The NTK of a ReLU RNN, normalized as <grad_W f(x_i), grad_W f(x_j)> / (m sigma_B^2).

    Args:
        x: n x L x d_in sequences, already in the network's input form.
        x2: optional n2 x L x d_in sequences: the train-test kernel K(x_i, x2_j) of the
            same network (same ``width`` and ``seed``) or of the infinite-width limit,
            computed as the off-diagonal block of the kernel of both sets together.
        preset: "elman" (seed 002 Def. 3.3) or "wang" (seed 004 eq. 14).
        width: the width m of the empirical kernel (seed 004 eq. 23's factorization, the
            parameters drawn from ``seed``); None for the infinite-width limit (forward
            correlations of eq. 25, backward of eq. 28).
        d_out: output dimension of the elman preset at a finite width (the kernel is that
            of the first output); anything but 1 is an error for wang (a scalar output) and
            for the infinite-width kernel (the same for every output).
        return_params: also return the parameters drawn (w: m x m, a: m x d_in,
            b: d_out x m or m, and for wang m0: m, float64); an empty dict for infinite
            width.

    The kernel is float32 when ``x`` (and ``x2``) are float32 (computed in float64,
    rounded once), else float64, as every widenet kernel keeps its inputs' dtype.
    """
    h, params = _widenet.rnn_ntk(_arr(x, "x", 3), preset, _int(width, "width", 1, True),
                                 _int(d_out, "d_out", 1), _int(seed, "seed"),
                                 _opt(x2, "x2", 3))
    return (h, params) if return_params else h


# --------------------------------------------------------------------------- analysis


@dataclass(repr=False)
class _Result:
    """Base of the typed results: attributes, a short ``repr`` and ``to_dict()``."""

    def to_dict(self) -> Dict[str, Any]:
        """The fields as a dict (arrays stay numpy arrays)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def __repr__(self) -> str:
        parts = []
        for k in self.__dataclass_fields__:
            v = getattr(self, k)
            if isinstance(v, np.ndarray):
                s = f"array(shape={v.shape}, dtype={v.dtype})"
            elif isinstance(v, float):
                s = f"{v:.6g}"
            else:
                s = repr(v)
                if isinstance(v, (list, dict, str)) and len(s) > 80:
                    s = f"<{type(v).__name__} of {len(v)}>"  # keep the repr one line
            parts.append(f"{k}={s}")
        return f"{type(self).__name__}({', '.join(parts)})"


@dataclass(repr=False)
class Analysis(_Result):
    """What :func:`analyze` computes for (X, y) under H^inf (seed 001)."""

    #: Number of samples.
    n: int
    #: Eigenvalues of H^inf, descending.
    eigenvalues: np.ndarray
    #: |v_i^T y| for the eigenvectors in the same order (Theorem 4.1's projections).
    projections: np.ndarray
    #: y^T (H^inf)^-1 y (by Cholesky).
    y_hinv_y: float
    #: sqrt(2 y^T (H^inf)^-1 y / n), eq. 10.
    complexity_measure: float
    #: The eta of the predicted curve.
    eta: float
    #: Phi(k) = 1/2 sum_i (1 - eta lambda_i)^{2k} (v_i^T y)^2, k = 0..steps (eq. 8).
    predicted_loss: np.ndarray
    #: 2 / lambda_max: the largest step for which the linear dynamics of eq. 7 contract.
    max_stable_eta: float
    #: Theorem 5.1's explicit term sqrt(2 y^T (H^inf)^-1 y / n).
    theorem_5_1_explicit: float
    #: The same with the proof's constants.
    theorem_5_1_with_proof_constants: float
    #: The O(.) term Theorem 5.1 adds (as text).
    theorem_5_1_o_term: str
    #: What to know before reading the numbers (eta beyond 2/lambda_max, labels not +-1);
    #: each is also raised as a ``UserWarning`` by :func:`analyze`.
    warnings: List[str] = field(default_factory=list)


def analyze(x: Optional[ArrayLike] = None, y: Optional[ArrayLike] = None, *,
            kernel: Optional[ArrayLike] = None, eta: float, steps: Optional[int] = None,
            iters: Optional[int] = None) -> Analysis:
    """Spectrum, label projections, predicted loss (eq. 8), y^T (H^inf)^-1 y, the
    complexity measure (eq. 10) and Theorem 5.1's bound, for inputs ``x`` (n x d) and
    labels ``y`` (n), under H^inf of seed 001 eq. 3 (float64); or, as
    :func:`analyze_large` takes it, under any symmetric PSD ``kernel`` matrix you bring
    (``analyze(y=y, kernel=K)``; the fields keep their names, ``y_hinv_y`` is then
    y^T K^-1 y). ``steps``: the number of GD steps of the predicted loss (``iters`` is its
    old name)."""
    steps = _steps(steps, iters)
    if y is None:
        raise ValueError("invalid y: the labels are required (analyze(x, y) or "
                         "analyze(y=y, kernel=K))")
    d = _widenet.analyze(None if x is None else _arr(x, "x", 2), _arr(y, "y", 1),
                         float(eta), steps,
                         None if kernel is None else _arr(kernel, "kernel", 2))
    a = Analysis(**d)
    for w in a.warnings:
        warnings.warn(w, UserWarning, stacklevel=2)
    return a


@dataclass(repr=False)
class LargeAnalysis(_Result):
    """What :func:`analyze_large` computes: seed 001's analysis without a full
    eigendecomposition (issue "Full-dataset scale")."""

    #: Number of samples.
    n: int
    #: "dense", "f32" (kernel stored in f32, f64 solves) or "matrix-free" (``widenet
    #: analyze``'s JSON, the same schema, also says "exact": a full eigendecomposition).
    path: str
    #: k, the number of top eigenpairs.
    top_k: int
    #: The top-k eigenvalues, descending (block Lanczos, f64 Rayleigh-Ritz).
    eigenvalues: np.ndarray
    #: |v_i^T y| on them.
    projections: np.ndarray
    #: sum_{i<=k} (v_i^T y)^2 / ||y||^2.
    captured_fraction: float
    #: y^T K^-1 y (preconditioned CG, f64 products).
    y_hinv_y: float
    #: sqrt(2 y^T K^-1 y / n), eq. 10.
    complexity_measure: float
    #: Estimated relative error of ``y_hinv_y`` (an a-posteriori bound).
    achieved_rel_error: float
    #: The requested relative accuracy (None on the exact path).
    tol: Optional[float]
    #: The eta of the predicted curve.
    eta: float
    #: eq. 8, top-k exact plus Krylov quadrature for the rest.
    predicted_loss: np.ndarray
    #: A rigorous lower bound of eq. 8.
    predicted_loss_lower: np.ndarray
    #: A rigorous upper bound of eq. 8.
    predicted_loss_upper: np.ndarray
    #: 2 / lambda_max.
    max_stable_eta: float
    #: Estimated lambda_min.
    lambda_min_estimate: float
    #: Estimated lambda_max / lambda_min.
    condition_estimate: float
    #: max ||K v_i - lambda_i v_i|| / lambda_1 over the top k (None on the exact path).
    eig_max_rel_residual: Optional[float]
    #: Whether the Krylov phase converged.
    eig_converged: bool
    #: Conjugate-gradient iterations.
    cg_iterations: int
    #: The memory budget (bytes) the path was chosen with.
    memory_budget: int
    #: Wall-clock seconds per phase.
    timings: list
    #: Kernel products (columns) of the eigen-solve.
    krylov_products: int
    #: The solve's preconditioner: "cholesky-f64", "cholesky-f32", "spectral-cg", "spectral".
    preconditioner: str = ""
    #: Product columns with the stored f32 kernel spent in inner CG solves (spectral-cg).
    inner_cg_products: int = 0
    #: What to know before reading the numbers (eta beyond 2 / lambda_max, labels in
    #: {0, 1}); each was also raised as a ``UserWarning``.
    warnings: list = field(default_factory=list)


def _x_then_y(fn: str, x: Any, y: Any) -> Tuple[Any, Any]:
    """(x, y) as :func:`analyze` orders them; the old order ``fn(y, x)`` (a 1-D first
    argument) still works for now, with a ``FutureWarning``."""
    if x is not None and np.ndim(x) == 1 and (y is None or np.ndim(y) == 2):
        warnings.warn(f"{fn}(y, x) is the old argument order: call {fn}(x, y) (inputs "
                      "first, as analyze(x, y)), or pass y= and kernel= by keyword",
                      FutureWarning, stacklevel=3)
        return y, x
    return x, y


def analyze_large(x: Optional[ArrayLike] = None, y: Optional[ArrayLike] = None, *,
                  kernel: Optional[ArrayLike] = None, eta: float = 1e-3,
                  steps: Optional[int] = None, top_k: Optional[int] = None,
                  path: Optional[str] = None, tol: float = 1e-6, seed: int = 0,
                  precond: Optional[str] = None,
                  iters: Optional[int] = None) -> LargeAnalysis:
    """Seed 001's analysis at whole-dataset scale: the top-k eigenpairs of the kernel and
    the projections |v_i^T y| on them (block Lanczos), y^T K^-1 y and the complexity
    measure sqrt(2 y^T K^-1 y / n) (eq. 10) to relative accuracy ``tol`` with the accuracy
    reached, and eq. 8's predicted loss with rigorous bounds, without a full
    eigendecomposition. The kernel is H^inf (eq. 3) of ``x``, or any symmetric PSD
    ``kernel`` matrix you bring (e.g. a neural-tangents kernel). ``path`` forces
    "dense", "f32" or "matrix-free"; by default it follows the memory budget. A kernel
    too ill-conditioned for ``tol`` raises :class:`WidenetError` with its estimated
    condition number. ``precond`` ("auto", "cholesky", "spectral-cg") picks the f32
    path's preconditioner (default: measured); "spectral" takes the top-k' spectral
    deflation alone on any path (no factorization: one f64 product per CG iteration). Arguments in :func:`analyze`'s order:
    ``analyze_large(x, y)``, or ``analyze_large(y=y, kernel=K)``. ``steps`` (default 1000;
    ``iters`` is its old name): the GD steps of the predicted loss."""
    steps = _steps(steps, iters, 1000)
    x, y = _x_then_y("analyze_large", x, y)
    if y is None:
        raise ValueError("y: the labels are required (analyze_large(x, y) or "
                         "analyze_large(y=y, kernel=K))")
    d = json.loads(_widenet.analyze_large(
        _arr(y, "y", 1),
        None if x is None else _arr(x, "x", 2),
        None if kernel is None else _arr(kernel, "kernel", 2),
        float(eta), steps,
        None if top_k is None else _int(top_k, "top_k", 1),
        path, float(tol), _int(seed, "seed"), precond))
    for k in ("eigenvalues", "projections", "predicted_loss", "predicted_loss_lower",
              "predicted_loss_upper"):
        d[k] = np.asarray(d[k], dtype=np.float64)
    for w in d.get("warnings", []):
        warnings.warn(w, UserWarning, stacklevel=2)
    return LargeAnalysis(**d)


# --------------------------------------------------------------------------- training


@dataclass(repr=False)
class TwoLayerResult(_Result):
    """A gradient-descent run of seed 001's two-layer net f(x) = (1/sqrt m) sum_r a_r
    relu(w_r^T x): per-iteration history and weights."""

    #: Iterations performed.
    iterations: int
    #: "iteration_limit" or "loss_tolerance".
    stop: str
    #: Phi(W(k)) = 1/2 ||y - u(k)||^2 for k = 0..iterations.
    loss: np.ndarray
    #: ||W(k) - W(0)||_F.
    w_dist_fro: np.ndarray
    #: max_r ||w_r(k) - w_r(0)||.
    w_dist_max: np.ndarray
    #: Fraction of activation patterns that changed since W(0).
    pattern_changed: np.ndarray
    #: Iterations at which the test set was evaluated.
    test_iteration: np.ndarray
    #: Test l1 loss at those iterations.
    test_l1: np.ndarray
    #: Test 0-1 error at those iterations.
    test_error: np.ndarray
    #: u(T), the final training predictions.
    train_predictions: np.ndarray
    #: u(0), the initial training predictions.
    initial_predictions: np.ndarray
    #: W(0), m x d.
    w0: np.ndarray
    #: The fixed output weights a (m), each +-1.
    a: np.ndarray
    #: W(T), m x d.
    w: np.ndarray


def train_two_layer(x: ArrayLike, y: ArrayLike, *, eta: float, steps: Optional[int] = None,
                    x_test: Optional[ArrayLike] = None, y_test: Optional[ArrayLike] = None,
                    width: int = 10_000, kappa: float = 1e-2, loss_tol: float = 0.0,
                    seed: int = 0, precision: str = "f32",
                    iters: Optional[int] = None) -> TwoLayerResult:
    """Trains the two-layer ReLU net of seed 001 §3.1 by full-batch gradient descent.

    f_{W,a}(x) = (1/sqrt(m)) sum_r a_r relu(w_r^T x), w_r(0) ~ N(0, kappa^2 I),
    a_r ~ unif{-1, 1} fixed; W(k+1) = W(k) - eta dPhi/dW (eq. 6) on
    Phi(W) = 1/2 sum_i (y_i - f(x_i))^2 for ``steps`` steps (or until
    Phi <= ``loss_tol``; ``iters`` is the old name of ``steps``). Keywords and defaults are
    those of ``widenet train two-layer``; the initialization is drawn from ``seed`` exactly
    as the CLI draws it.
    """
    steps = _steps(steps, iters)
    d = _widenet.train_two_layer(
        _arr(x, "x", 2), _arr(y, "y", 1), _opt(x_test, "x_test", 2),
        _opt(y_test, "y_test", 1), _int(width, "width", 1), float(kappa), float(eta),
        steps, float(loss_tol), _int(seed, "seed"), precision)
    return TwoLayerResult(**d)


@dataclass(repr=False)
class RnnResult(_Result):
    """An SGD run of a ReLU RNN on its recurrent weights W."""

    #: Steps at which the objective was evaluated.
    step: np.ndarray
    #: The training objective (mean over the set) at those steps.
    train_objective: np.ndarray
    #: The mini-batch objective of the step before (NaN at step 0).
    batch_objective: np.ndarray
    #: The test objective (empty without a test set).
    test_objective: np.ndarray
    #: The test 0-1 error of sign(f) (logistic loss with a test set only).
    test_error: np.ndarray
    #: ||W(T) - W(0)||_F.
    w_shift_fro: float
    #: W(0), m x m.
    w0: np.ndarray
    #: The final parameters: w (W(T), m x m), a (m x d_in), b, and m0 for wang.
    params: Dict[str, np.ndarray]


def train_rnn(x: ArrayLike, y: ArrayLike, *, preset: str, width: int, eta: float = 1e-2,
              steps: int = 1000, batch: int = 1, loss: str = "logistic",
              outputs: Optional[int] = None, scale: float = 1.0, eval_every: int = 50,
              seed: int = 0, x_test: Optional[ArrayLike] = None,
              y_test: Optional[ArrayLike] = None) -> RnnResult:
    """Trains the recurrent weights W of a ReLU RNN by SGD (seed 002 Algorithm 1, seed 004
    Theorem 2): h_l = relu(W h_{l-1} + A x_l), outputs B h_l, A and B fixed at their
    random initialization (drawn from ``seed`` as :func:`rnn_ntk` draws them).

    Args:
        x: n x L x d_in sequences; y: n labels, the target of every output step used.
        preset: "wang" (seed 004 eq. 14, h_0 = relu(M_0)) or "elman" (seed 002, h_0 = 0).
        loss: "logistic" (seed 004 eq. 16, labels +-1), "l2" or "cross-entropy".
        outputs: None for the last step's output only (eq. 16), or s for steps s..L
            (seed 002's objective uses s = 3).
        scale: the output scaling lambda of seed 002 §4 (1 for seed 004).
        batch: samples per step (drawn with replacement; batch >= n is full-batch GD).
    """
    d = _widenet.train_rnn(
        _arr(x, "x", 3), _arr(y, "y", 1), preset, _int(width, "width", 1), loss,
        _int(outputs, "outputs", 1, True), float(scale), float(eta), _int(steps, "steps"),
        _int(batch, "batch", 1), _int(eval_every, "eval_every", 1), _int(seed, "seed"),
        _opt(x_test, "x_test", 3), _opt(y_test, "y_test", 1))
    return RnnResult(**d)


#: The learners of seed 003 Figure 2 that :func:`train_resnet` trains.
LEARNERS: Tuple[str, ...] = ("3resnet", "3layer", "2layer", "last", "ntk")


@dataclass(repr=False)
class ResnetResult(_Result):
    """An SGD run of one of seed 003's learners: per-epoch history and weights."""

    #: Epoch numbers 1..2E.
    epoch: np.ndarray
    #: The learning rate of each epoch (lr for E epochs, lr / lr_drop after).
    lr: np.ndarray
    #: Mean batch loss 1/2 ||out - y||^2 over each epoch (before each step).
    train_loss: np.ndarray
    #: Test error E||out(x) - y||^2 after each epoch (NaN without a test set).
    test_error: np.ndarray
    #: Training error E||out(x) - y||^2 at initialization and at the end.
    initial_train_error: float
    final_train_error: float
    #: Test error at the end (None without a test set).
    final_test_error: Optional[float]
    #: The trained weight groups at initialization and at the end (e.g. [W] for
    #: "2layer", [A] for "last", [W, V] for "3resnet").
    initial_params: List[np.ndarray]
    params: List[np.ndarray]
    #: out(x_test) of the trained learner (None without a test set).
    test_predictions: Optional[np.ndarray]


def train_resnet(x: ArrayLike, y: ArrayLike, *, learner: str, width: int, lr: float,
                 epochs: int, weight_decay: float = 0.0, momentum: float = 0.9,
                 batch: int = 50, lr_drop: float = 10.0, seed: int = 0,
                 x_test: Optional[ArrayLike] = None,
                 y_test: Optional[ArrayLike] = None) -> ResnetResult:
    """Trains one of seed 003's learners (:data:`LEARNERS`: the three-layer ResNet, the
    three- and two-layer fully connected nets, the conjugate kernel "last" and the
    finite-width NTK "ntk") by mini-batch SGD with momentum and weight decay on App. A's
    schedule: 2E epochs, the last E at lr / lr_drop, loss 1/2 E||out(x) - y||^2.

    ``y`` is a vector or an n x k matrix of targets. Learners built with the same seed
    share their random first layer ("2layer", "last" and "ntk": out(x) = A relu(W(x, 1)),
    W ~ N(0, 1/d), bias and A ~ N(0, 1/m)); the shuffling is drawn from ``seed`` too.
    """
    y_arr = _arr(y, "y")
    if y_arr.ndim not in (1, 2):
        raise ValueError(f"invalid y: expected a 1-D or 2-D array, got shape {y_arr.shape}")
    yt = None if y_test is None else _arr(y_test, "y_test")
    if learner not in LEARNERS:
        raise ValueError(f"invalid learner: {learner!r} is not one of {', '.join(LEARNERS)}")
    d = _widenet.train_resnet(
        _arr(x, "x", 2), y_arr, learner, _int(width, "width", 1), float(lr),
        _int(epochs, "epochs"), float(weight_decay), float(momentum), _int(batch, "batch", 1),
        float(lr_drop), _int(seed, "seed"), _opt(x_test, "x_test", 2), yt)
    return ResnetResult(**d)


@dataclass(repr=False)
class KrrResult(_Result):
    """Kernel ridge regression's coefficients and, if asked, predictions."""

    #: beta = (K + lambda n I)^-1 Y, n x k (k = 1 for a label vector).
    beta: np.ndarray
    #: K_test beta (n_test x k), or None without ``k_test``.
    predictions: Optional[np.ndarray]
    #: The ridge lambda of eq. 3.1.
    lam: float


def krr(k_train: ArrayLike, y_train: ArrayLike, *, lam: float,
        k_test: Optional[ArrayLike] = None) -> KrrResult:
    """Kernel ridge regression (seed 003 eq. 3.1): beta = (K + lambda n I)^-1 Y by
    Cholesky, n the number of training samples; with ``k_test`` (n_test x n, the
    test-train kernel) also the predictions K_test beta. ``y_train`` is a vector or an
    n x k matrix. A K + lambda n I that is not positive definite raises WidenetError."""
    y = _arr(y_train, "y_train")
    if y.ndim not in (1, 2):
        raise ValueError(f"invalid y_train: expected a 1-D or 2-D array, got shape {y.shape}")
    beta, pred = _widenet.krr(_arr(k_train, "k_train", 2), y, float(lam),
                              _opt(k_test, "k_test", 2))
    return KrrResult(beta=beta, predictions=pred, lam=float(lam))


# ------------------------------------------------------------------------- complexity


@dataclass(repr=False)
class Complexity(_Result):
    """A function complexity as ``widenet complexity --json`` reports it."""

    #: The function's canonical name.
    function: str
    #: The measure (C, CN, ceps, cs, arora).
    measure: str
    #: The radius R.
    R: float
    #: The value (``math.inf`` when the series diverges).
    value: float
    #: Whether the value is finite.
    finite: bool
    #: log10 of the value (``inf`` when infinite).
    log10_value: float
    #: The equation evaluated.
    equation: str
    #: Every other field of the JSON (radius, terms, note, ...).
    details: Dict[str, Any] = field(default_factory=dict)


def _num(v: Any) -> Any:
    return float("inf") if v == "inf" else v


def complexity(function: str, *, measure: str = "C", R: float = 1.0,
               N: Optional[int] = None, L: Optional[int] = None,
               eps: Optional[float] = None) -> Complexity:
    """Function and concept complexities of an analytic function (exact Taylor
    coefficients; divergent series give ``inf``).

    Args:
        function: exp, sin, cos, tanh, sigmoid, "arctan(z/2)", "z*arctan(z/2)", a scale
            inside ("exp(2z)"), or "poly:c0,c1,...".
        measure: "C" (seed 004 eq. 6), "CN" (eq. 7), "ceps" / "cs" (seeds 002/003),
            "cs1" (cs with seed 003's exponent 1 of (i+1)), "arora" (seed 001 Cor. 6.2);
            case and underscores are ignored ("C_N" is "CN").
        R: the radius at which the series is evaluated.
        N: number of variables (CN); L: sequence length (C, CN); eps: target error (ceps).

    Example: ``complexity("arctan(z/2)", measure="C", R=1.0).value``.
    """
    v = json.loads(_widenet.complexity(function, measure, float(R), _int(N, "N", 1, True),
                                       _int(L, "L", 1, True), eps))
    known = {"function", "measure", "R", "value", "finite", "log10_value", "equation"}
    return Complexity(
        function=v["function"], measure=v["measure"], R=float(v["R"]),
        value=float(_num(v["value"])), finite=bool(v["finite"]),
        log10_value=float(_num(v["log10_value"])), equation=v["equation"],
        details={k: _num(x) for k, x in v.items() if k not in known})


# -------------------------------------------------------------------------- reproduce

def _setting_text(key: str, v: Any) -> str:
    """A setting's value as the text ``--set key=value`` takes."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ",".join(_setting_text(key, x) for x in v)
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    if isinstance(v, (int, float, str, np.integer, np.floating)):
        return str(v)
    raise ValueError(f"invalid setting {key}: {v!r} is not a number, text, bool, list or None")


@dataclass(repr=False)
class ReproduceResult(_Result):
    """One reproduced experiment: its claims and results, and the files written."""

    #: The experiment's name.
    name: str
    #: The papers' claims: dicts with "claim", "paper" (seed, location, quote, and kind:
    #: "verbatim", "paraphrase" or "check"), "verdict" ("held", "not_held" or
    #: "inconclusive", with "reason"), "measured", and for bounds "rule" and
    #: "assumptions" (each with name, holds, detail).
    claims: List[Dict[str, Any]]
    #: Every setting, including the seed.
    settings: Dict[str, Any]
    #: The experiment's results (as in result.json).
    results: Any
    #: OUT/NAME/result.json.
    result_path: str
    #: OUT/NAME/report.html.
    report_path: str
    #: The claims table the CLI prints.
    table: str

    @property
    def all_held(self) -> bool:
        """Whether every claim held."""
        return all(c.get("verdict") == "held" for c in self.claims)


def _check_name(name: str) -> None:
    if name not in EXPERIMENTS:
        raise ValueError(
            f"invalid name: '{name}' is not one of {', '.join(EXPERIMENTS)}")


def _settings_pairs(settings: Dict[str, Any], data: Optional[PathLike]) -> List[Tuple[str, str]]:
    pairs = [(str(k), _setting_text(k, v)) for k, v in settings.items()]
    if data is not None:
        pairs.append(("data", os.fspath(data)))
    return pairs


def reproduce(name: str, scale: str = "quick", seed: int = 0,
              out: PathLike = "widenet-results", data: Optional[PathLike] = None,
              **settings: Any) -> ReproduceResult:
    """Runs one of the papers' experiments like ``widenet reproduce NAME`` and writes
    the same files (OUT/NAME/result.json, CSV, PNG/SVG figures, report.html).

    Args:
        name: one of :data:`EXPERIMENTS`.
        scale: "quick" (seconds) or "paper" (the paper's settings).
        seed: seed of every random draw.
        out: output directory; results go to OUT/NAME/.
        data: a directory of MNIST or CIFAR-10 files, for experiments with a ``data``
            setting (built-in data otherwise).
        **settings: any setting of the experiment by name, as ``--set key=value``
            (lists as Python lists, None clears an optional setting); the old names
            n_train, width, steps, eta, kappa, precision are aliases where the
            experiment has that setting. :func:`experiment_settings` lists them;
            an unknown key raises ValueError listing the valid ones.
    """
    _check_name(name)
    result_path, report_path, table = _widenet.reproduce(
        name, scale, _int(seed, "seed"), os.fspath(out), _settings_pairs(settings, data),
        False)
    with open(result_path, encoding="utf-8") as f:
        r = json.load(f)
    return ReproduceResult(name=name, claims=r.get("claims", []),
                           settings=r.get("settings", {}), results=r.get("results"),
                           result_path=str(result_path), report_path=str(report_path),
                           table=table)


def experiment_settings(name: str, scale: str = "quick", seed: int = 0,
                        data: Optional[PathLike] = None, **settings: Any) -> Dict[str, Any]:
    """The settings :func:`reproduce` would run ``name`` with (defaults at ``scale``,
    ``settings`` applied and validated), like ``widenet reproduce NAME --show-settings``;
    runs nothing."""
    _check_name(name)
    text, _, _ = _widenet.reproduce(name, scale, _int(seed, "seed"), ".",
                                    _settings_pairs(settings, data), True)
    return json.loads(text)


def rejudge(dir: PathLike, write: bool = True) -> str:
    """Recomputes the claims of finished runs under ``dir`` (an experiment directory
    with result.json, or an output directory) without rerunning, like ``widenet
    rejudge DIR``; returns the claims table. With ``write``, result.json and
    report.html get the new verdicts."""
    return _widenet.rejudge(os.fspath(dir), bool(write))


# ------------------------------------------------------------------------------- data


def load_mnist(dir: PathLike, *, classes: Optional[Tuple[int, int]] = (0, 1),
               split: str = "train", limit: Optional[int] = None
               ) -> Tuple[np.ndarray, np.ndarray]:
    """MNIST (IDX files, plain or gzipped, in ``dir``) as the experiments use it: X
    (n x 784, float64, unit-norm rows). With two ``classes`` (default), the images of
    those two with y = +1 for ``classes[0]`` and -1 for ``classes[1]`` (seed 001 App. A);
    with ``classes=None``, every image with its class 0-9 (int64; one-hot it for
    :func:`predict`). ``limit`` keeps the first N images."""
    return _load("mnist", dir, classes, split, limit)


def load_cifar10(dir: PathLike, *, classes: Optional[Tuple[int, int]] = (0, 1),
                 split: str = "train", limit: Optional[int] = None
                 ) -> Tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 (binary batches in ``dir``): X (n x 3072, float64, unit-norm rows) and
    y, as :func:`load_mnist` (two classes as +-1, or ``classes=None`` for all ten)."""
    return _load("cifar10", dir, classes, split, limit)


def _load(dataset: str, dir: PathLike, classes: Any, split: str, limit: Any
          ) -> Tuple[np.ndarray, np.ndarray]:
    if classes is None:
        return _widenet.load_all_classes(dataset, os.fspath(dir), split,
                                         _int(limit, "limit", 0, True))
    return _widenet.load_two_class(dataset, os.fspath(dir), _classes(classes), split,
                                   _int(limit, "limit", 0, True))


def two_class_structured(n: int, d: int, *, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """The built-in structured two-class dataset the experiments use without files:
    X (n x d, unit-norm rows) and y (+-1)."""
    return _widenet.two_class_structured(_int(n, "n"), _int(d, "d", 1), _int(seed, "seed"))


def unit_sphere(n: int, d: int, *, seed: int = 0) -> np.ndarray:
    """n points drawn uniformly from the unit sphere in R^d (seed 001 §6's inputs)."""
    return _widenet.unit_sphere(_int(n, "n"), _int(d, "d", 1), _int(seed, "seed"))


def _classes(c: Any) -> Tuple[int, int]:
    try:
        a, b = c
    except (TypeError, ValueError):
        raise ValueError(f"invalid classes: expected two labels 0-9 like (0, 1), got {c!r}") from None
    return (_int(a, "classes"), _int(b, "classes"))


def resnet_target(name: str, n: int, *, seed: int = 0, d: Optional[int] = None,
                  k: Optional[int] = None, alpha: float = 0.3, beta: float = 1.0,
                  index_seed: int = 0) -> Tuple[np.ndarray, np.ndarray, List[List[int]]]:
    """Seed 003's concept classes, as (x, y, indices):

    - "fig2" (Figure 2, App. A): x uniform on {-1, 1}^d (d = 30), F_t(x) = x_{2t} x_{2t+1}
      (0-based, t < 8), G_j(F) = prod_{t in S_j} F_t (the paper's degree-4 sets S_j,
      returned as ``indices``), y = beta F + alpha G(F) (alpha = 0.3, beta = 1);
    - "thm2" (Theorem 2): x uniform on {+-1/sqrt(d)}^d (d = 16), F = W* x with
      W* = sqrt(d) (e_{i_1}, ..., e_{i_k}) (k = 4, the i's drawn from ``index_seed`` and
      returned), y_j = beta F_j + alpha prod_l F_l;
    - "fig3" (Figure 3): x uniform on {+-1/sqrt(d)}^d (d = 40),
      y = d^3 x_{i_1} ... x_{i_6} (the six i's drawn from ``index_seed``).

    Inputs come from ``seed``: a training and a test set need different seeds.
    """
    if name not in ("fig2", "thm2", "fig3"):
        raise ValueError(f"invalid name: {name!r} is not one of fig2, thm2, fig3")
    x, y, idx = _widenet.resnet_target(
        name, _int(n, "n"), _int(seed, "seed"), _int(d, "d", 1, True), _int(k, "k", 1, True),
        float(alpha), float(beta), _int(index_seed, "index_seed"))
    return x, y, [list(map(int, i)) for i in idx]


@dataclass(repr=False)
class RnnConcept(_Result):
    """A labelled sample of seed 004's concept classes (see :func:`rnn_concept`)."""

    #: n x L x d sequences (the layout of :func:`rnn_ntk` and :func:`train_rnn`).
    x: np.ndarray
    #: Labels sign(F*) in {-1, +1}.
    y: np.ndarray
    #: F* = F*_raw / threshold, so y F* >= 1 (Theorem 2's margin).
    f_star: np.ndarray
    #: F*_raw before rescaling.
    f_raw: np.ndarray
    #: 1 / threshold.
    scale: float
    #: Sequences drawn in all, and dropped for |F*_raw| < threshold.
    drawn: int
    dropped: int
    #: Per term: its position(s) l (1-based) and its beta.
    positions: List[List[int]]
    betas: List[List[float]]


def rnn_concept(n: int, *, len: int, d: int, kind: str = "additive", psi: str = "sin",
                terms: int = 1, positions: Optional[List[int]] = None,
                beta_norm: float = 1.0, threshold: float = 0.1, c_min: float = 1.0,
                c_max: float = 1.0, seed: int = 0,
                max_draws: Optional[int] = None,
                sample_seed: Optional[int] = None) -> RnnConcept:
    """Seed 004's concept classes for recurrent networks, with labels that satisfy
    Theorem 2's margin.

    Inputs: X_l = r_l u_l, u_l uniform on the sphere S^{d-1}, r_l uniform on
    [c_min, c_max]. Targets:

    - "additive" (eq. 9): F*(x) = sum_l sum_{r<terms} psi(beta_{l,r}^T X_l / ||X_l||);
    - "n-variable" (eq. 11): F*(x) = sum_{r<terms} psi(<beta_r, [X_{l_1}, ..., X_{l_N}]> /
      (sqrt(N) max_n ||X_{l_n}||)) for ``positions`` l_1..l_N (1-based; default [1, L]).

    Every beta is uniform on the sphere of radius ``beta_norm`` <= 1; psi is an analytic
    function as in :func:`complexity` (there "exp" is e^z - 1 and "cos" is cos z - 1).
    Sequences with |F*_raw| < ``threshold`` are redrawn (at most ``max_draws``), the
    kept values are scaled by 1/threshold, and y = sign F*.

    The concept (every beta) is drawn from ``seed``, the sequences from ``sample_seed``
    (default: ``seed``): the same ``seed`` with another ``sample_seed`` gives an
    independent test set of the same concept.
    """
    d_ = _widenet.rnn_concept(
        _int(n, "n"), _int(len, "len", 1), _int(d, "d", 1), kind, psi, _int(terms, "terms", 1),
        None if positions is None else [_int(p, "positions", 1) for p in positions],
        float(beta_norm), float(threshold), float(c_min), float(c_max), _int(seed, "seed"),
        _int(max_draws, "max_draws", 1, True), _int(sample_seed, "sample_seed", 0, True))
    return RnnConcept(**d_)


@dataclass(repr=False)
class ElmanConcept(_Result):
    """A sample of seed 002's Elman concept class (see :func:`elman_concept`)."""

    #: The true inputs x*_2..x*_{L-1}: n x (L - 2) x dx.
    x_star: np.ndarray
    #: F*_3..F*_L: n x (L - 2) x d.
    f_star: np.ndarray
    #: y*_j = F*_j + xi_j (label noise N(0, noise_sd^2 I)): n x (L - 2) x d.
    targets: np.ndarray
    #: A*_k (d x p) and W_k (p x dx) of the lags k = 1..L-2 (element k - 1).
    a: List[np.ndarray]
    w: List[np.ndarray]
    #: OPT = (L - 2) d noise_sd^2 / 2, the l2 risk of the best function in the class.
    opt: float


def elman_concept(n: int, *, len: int, dx: int, d: int = 1, p: int = 4, phi: str = "sin",
                  noise_sd: float = 0.0, seed: int = 0) -> ElmanConcept:
    """Seed 002's concept class (eq. 3.1) in Example 3.5's form:
    F*_j(x*) = sum_{i=2}^{j-1} A*_{j-i} phibar(W_{j-i} x*_i), phibar = phi - phi(0), one
    two-layer net per lag (rows of W_k unit vectors with last coordinate 0, A*_k with
    N(0, 1/p) entries). Inputs (§3): ||x*_l|| = 1 with last coordinate 1/2. Labels
    y*_j = F*_j + xi_j. The network's actual inputs are built from x* by Def. 3.1.
    """
    r = _widenet.elman_concept(_int(n, "n", 1), _int(len, "len", 3), _int(dx, "dx", 2),
                               _int(d, "d", 1), _int(p, "p", 1), phi, float(noise_sd),
                               _int(seed, "seed"))
    return ElmanConcept(**r)


def poly_target(x: ArrayLike, terms: List[Tuple[float, int]], *, seed: int = 0
                ) -> Tuple[np.ndarray, List[List[float]], Optional[float]]:
    """Seed 001 §6's targets g(x) = sum_j alpha_j (beta_j^T x)^{p_j} on the rows of ``x``,
    for ``terms`` = [(alpha_j, p_j), ...] with beta_j uniform on the unit sphere (drawn
    from ``seed``). Returns (y, betas, bound): Corollary 6.2's bound
    3 sum_j p_j |alpha_j| ||beta_j||^{p_j} on sqrt(y^T (H^inf)^-1 y) (eq. 13), or None when
    some p_j is neither 1 nor even (Theorem 6.1 does not apply).
    """
    ts = []
    for t in terms:
        try:
            a, p = t
        except (TypeError, ValueError):
            raise ValueError(f"invalid terms: expected (alpha, p) pairs, got {t!r}") from None
        ts.append((float(a), _int(p, "terms")))
    y, betas, bound = _widenet.poly_target(_arr(x, "x", 2), ts, _int(seed, "seed"))
    return y, betas, bound


# -------------------------------------------------------------------------- predict


@dataclass(repr=False)
class Prediction(_Result):
    """Infinite-width predictions at every time of :func:`predict`."""

    #: The times t (steps; ``inf`` is kernel ridge regression / the posterior).
    times: np.ndarray
    #: Outputs on the training points, T x n x c (mode "gp": the posterior mean there).
    train: np.ndarray
    #: Outputs on the test points (mode "ensemble": their mean), T x n_test x c.
    test_mean: np.ndarray
    #: Covariance of the test outputs over initializations / the posterior, shared by the
    #: c outputs: T x n_test x n_test (full test-test kernel given), T x n_test (its
    #: diagonal given: the variances), or None.
    test_cov: Optional[np.ndarray]
    #: Train mean squared error (over all n*c entries) per time.
    train_mse: np.ndarray
    #: Train 0-1 error per time (argmax for one-hot labels, sign for one output).
    train_error: np.ndarray
    #: Test mean squared error per time, or None without ``y_test``.
    test_mse: Optional[np.ndarray]
    #: Test 0-1 error per time, or None without ``y_test``.
    test_error: Optional[np.ndarray]
    #: Test accuracy (1 - the test 0-1 error: argmax for one-hot labels) per time, or
    #: None without ``y_test``.
    accuracy: Optional[np.ndarray]
    #: "dense" (one eigendecomposition), "krylov" (kernel stored, no eigendecomposition)
    #: or "matrix-free" (kernel recomputed by tiles at every product).
    path: str
    #: Large-n paths: the estimated relative error of every prediction, T x c (time,
    #: output); None on the dense path.
    achieved_rel_error: Optional[np.ndarray]
    #: Large-n paths with a covariance: its estimated error per time (T), relative to the
    #: prior scale sqrt(K**_ii K**_jj), the largest over the entries; else None.
    cov_rel_error: Optional[np.ndarray]
    #: "gd", "ensemble" or "gp".
    mode: str


def predict(k_train: Any = None, y_train: Optional[ArrayLike] = None,
            k_test_train: Optional[ArrayLike] = None, *,
            mode: str = "gd", times: Any = (float("inf"),), learning_rate: float = 1.0,
            schedule: str = "flow", ridge: float = 0.0, loss_norm: str = "mean",
            k_test_test: Optional[ArrayLike] = None,
            nngp_train: Optional[ArrayLike] = None,
            nngp_test_train: Optional[ArrayLike] = None,
            nngp_test_test: Optional[ArrayLike] = None,
            f0_train: Optional[ArrayLike] = None, f0_test: Optional[ArrayLike] = None,
            y_test: Optional[ArrayLike] = None, noise: float = 0.0,
            kernel: Optional[str] = None, x_train: Optional[ArrayLike] = None,
            x_test: Optional[ArrayLike] = None, depth: int = 3, bandwidth: float = 1.0,
            arch: Optional[str] = None, full_cov: bool = False, path: Optional[str] = None,
            top_k: int = 50, tol: float = 1e-6) -> Prediction:
    """Outputs of an infinitely wide network on test points (the CLI's ``widenet predict``;
    neural-tangents' ``predict`` conventions; Lee et al. 2019, *Wide neural networks of any
    depth evolve as linear models under gradient descent*, Sec. 2).

    Training minimizes 1/(2N) sum ||f(x_i) - y_i||^2 (``loss_norm="mean"``: N = n*c as in
    neural-tangents; ``"sum"``: N = 1 as in seed 001's eq. 8) with learning rate eta on
    the kernel K' = ``k_train`` + ``ridge`` I (absolute ridge). With K' = V diag(l) V^T:

    - ``mode="gd"``: f_t(X) = Y + V e(t) V^T (f0(X) - Y) and
      f_t(X*) = f0(X*) + K(X*, X) V (1 - e(t))/l V^T (Y - f0(X)), with
      e(t) = exp(-eta t l / N) (``schedule="flow"``) or (1 - eta l / N)^t
      (``schedule="steps"``, whole t); t = inf is kernel ridge regression. ``f0_train``
      / ``f0_test`` default to 0.
    - ``mode="ensemble"``: ``k_train``/``k_test_train`` are the NTK; the mean over random
      initializations is the gd prediction from f0 = 0, and with the NNGP
      (``nngp_train``, ``nngp_test_train``, ``nngp_test_test`` full or its diagonal) the
      covariance K** - M K*^T - K* M^T + M K M^T, M = Theta* V (1 - e(t))/l V^T
      (Lee et al. 2019 eq. 16, neural-tangents' ``gradient_descent_mse_ensemble``).
    - ``mode="gp"``: the kernels are the NNGP; posterior mean K*(K + noise I)^-1 Y and,
      with ``k_test_test``, covariance K** - K*(K + noise I)^-1 K*^T (``gp_inference``).

    The kernel is given as arrays (``k_train``, ``k_test_train``, ...) or by name:
    ``kernel`` (any of the registry: "relu_ntk", "fc_ntk" with ``depth``, "fc_nngp",
    "gaussian" with ``bandwidth``, "arcsin", or ``arch`` = an architecture spec for
    "compose") computed on ``x_train`` (n x d) and ``x_test`` (n_test x d); a string as
    the first argument is taken as ``kernel``. For the ensemble and gp the NNGP of the
    named kernel is used (``full_cov``: the full test covariance, else the variances).

    ``path`` "dense": one eigendecomposition of K' serves every time. "krylov" (the
    kernel stored) and "matrix-free" (a kernel by name recomputed by tiles), every mode:
    no eigendecomposition; the top ``top_k`` eigenpairs are deflated and the rest
    evaluated by block Lanczos to relative accuracy ``tol`` (t = inf on a stored kernel by
    Cholesky), reported per time and output in ``achieved_rel_error``; a covariance
    solves for every test point (32 at a time; the variances need nothing n_test x
    n_test) and reports its accuracy in ``cov_rel_error``. By default the
    path follows n and the memory budget. With ``y_test`` the test curves (and
    ``accuracy``) are computed too. Shapes: ``k_train`` n x n, ``y_train`` n or n x c,
    ``k_test_train`` n_test x n. A kernel that is not symmetric positive semidefinite
    raises ValueError naming it; t = inf on a singular K' raises WidenetError."""
    if isinstance(k_train, str):
        if kernel is not None:
            raise ValueError("invalid kernel: given twice (first argument and kernel=)")
        k_train, kernel = None, k_train
    if y_train is None:
        raise ValueError("invalid y_train: is required")
    y = _arr(y_train, "y_train")
    if y.ndim not in (1, 2):
        raise ValueError(f"invalid y_train: expected a 1-D or 2-D array, got shape {y.shape}")
    t = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if t.ndim != 1:
        raise ValueError(f"invalid times: expected a list of numbers, got shape {t.shape}")
    tt = _arr(k_test_test, "k_test_test") if k_test_test is not None else None
    ntt = _arr(nngp_test_test, "nngp_test_test") if nngp_test_test is not None else None
    d = _widenet.predict(
        _opt(k_train, "k_train", 2), y, _opt(k_test_train, "k_test_train", 2),
        mode=str(mode), k_test_test=tt,
        nngp_train=_opt(nngp_train, "nngp_train", 2),
        nngp_test_train=_opt(nngp_test_train, "nngp_test_train", 2),
        nngp_test_test=ntt,
        f0_train=_opt(f0_train, "f0_train", y.ndim if y.ndim == 2 else 1),
        f0_test=None if f0_test is None else _arr(f0_test, "f0_test"),
        y_test=None if y_test is None else _arr(y_test, "y_test"),
        times=[float(v) for v in t], learning_rate=float(learning_rate),
        schedule=str(schedule), ridge=float(ridge), loss_norm=str(loss_norm),
        noise=float(noise), kernel=None if kernel is None else str(kernel),
        x_train=_opt(x_train, "x_train", 2), x_test=_opt(x_test, "x_test", 2),
        depth=_int(depth, "depth", 1), bandwidth=float(bandwidth),
        arch=None if arch is None else str(arch), full_cov=bool(full_cov),
        path=None if path is None else str(path), top_k=_int(top_k, "top_k"),
        tol=float(tol))
    return Prediction(mode=str(mode), **d)


# widenet.stax (issue 23): architectures as values and their infinite-width kernels
from . import stax  # noqa: E402
