"""The library's large-n solvers on an operator given as Python callables
(``_widenet.analyze_operator``, what ``widenet.dask`` hands its products to), against
numpy's dense eigh and solve on the same kernel."""
import json

import numpy as np
import pytest

import widenet
from widenet import _widenet
from conftest import h_inf_numpy


def _sphere(rng, n, d):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


class _Dense:
    """K and its f32 rounding as products, counting the columns of each."""

    def __init__(self, k):
        self.k, self.k32 = k, k.astype(np.float32)
        self.cols = {"f64": 0, "f32": 0}

    def matmul(self, v):
        assert v.dtype == np.float64 and v.flags.c_contiguous
        self.cols["f64"] += v.shape[1]
        return self.k @ v

    def matmul32(self, v):
        self.cols["f32"] += v.shape[1]
        return self.k32 @ v.astype(np.float32)

    def rms(self):
        return float(np.sqrt(np.mean((self.k - self.k32.astype(np.float64)) ** 2)))


def test_a_python_operator_is_analysed_to_the_stated_accuracy(rng):
    n, k = 300, 6
    x = _sphere(rng, n, 7)
    h = h_inf_numpy(x)
    ys = np.stack([np.sign(x[:, 0] + 0.1), np.sign(rng.standard_normal(n))])
    lam, vec = np.linalg.eigh(h)
    lam, vec = lam[::-1], vec[:, ::-1]
    op = _Dense(h)
    d = json.loads(_widenet.analyze_operator(ys, n, op.matmul, op.matmul32,
                                             f32_error_rms=op.rms(), top_k=k, tol=1e-10,
                                             eta=1.0 / lam[0], steps=20))
    assert d["path"] == "matrix-free" and d["n"] == n and len(d["labels"]) == 2
    # the Krylov phase ran on the f32 products, the refinement and CG on the f64 ones
    assert op.cols["f32"] >= d["krylov_basis"] and op.cols["f64"] > 0
    np.testing.assert_allclose(d["eigenvalues"], lam[:k], rtol=1e-10)
    for y, lab in zip(ys, d["labels"]):
        q = y @ np.linalg.solve(h, y)
        assert abs(lab["y_hinv_y"] - q) / q <= max(lab["achieved_rel_error"], 1e-13) * 10
        assert lab["achieved_rel_error"] <= 1e-10
        # eigenvectors are accurate to residual / gap (f64 refinement of f32 Ritz vectors)
        np.testing.assert_allclose(lab["projections"], np.abs(vec[:, :k].T @ y), rtol=1e-6)
        # eq. 8 at t = 1 in closed form lies within the reported bounds
        phi1 = 0.5 * np.sum((1 - lam / lam[0]) ** 2 * (vec.T @ y) ** 2)
        assert lab["predicted_loss_lower"][1] <= phi1 * (1 + 1e-12)
        assert lab["predicted_loss_upper"][1] >= phi1 * (1 - 1e-12)
    # the same analysis as the single-machine matrix-free path on the same kernel
    ref = widenet.analyze_large(y=ys[0], kernel=h, top_k=k, tol=1e-10, path="matrix-free")
    np.testing.assert_allclose(d["eigenvalues"], ref.eigenvalues, rtol=1e-10)
    np.testing.assert_allclose(d["labels"][0]["y_hinv_y"], ref.y_hinv_y, rtol=1e-9)


def test_f64_products_alone_serve_both_precisions(rng):
    n = 200
    x = _sphere(rng, n, 5)
    h = h_inf_numpy(x)
    y = np.sign(x[:, 1])
    op = _Dense(h)
    d = json.loads(_widenet.analyze_operator(y, n, op.matmul, top_k=4, tol=1e-9))
    assert op.cols["f32"] == 0
    np.testing.assert_allclose(d["eigenvalues"], np.linalg.eigvalsh(h)[::-1][:4], rtol=1e-10)
    q = y @ np.linalg.solve(h, y)
    np.testing.assert_allclose(d["labels"][0]["y_hinv_y"], q, rtol=1e-8)


def test_a_failing_or_malformed_operator_is_reported_by_name(rng):
    n = 60
    h = h_inf_numpy(_sphere(rng, n, 4))
    y = np.ones(n)

    def boom(v):
        raise RuntimeError("the cluster went away")

    with pytest.raises(RuntimeError, match="cluster went away"):
        _widenet.analyze_operator(y, n, boom, top_k=3)
    with pytest.raises(ValueError, match=r"matmul.*\(60, "):
        _widenet.analyze_operator(y, n, lambda v: h @ v[:, :1], top_k=3)
    with pytest.raises(ValueError, match="matmul32"):
        _widenet.analyze_operator(y, n, lambda v: h @ v, lambda v: (h @ v)[:-1], top_k=3)
    with pytest.raises(ValueError, match="matmul's result"):
        _widenet.analyze_operator(y, n, lambda v: np.full_like(v, np.nan), top_k=3)
    with pytest.raises(ValueError, match="invalid y"):
        _widenet.analyze_operator(np.ones(n + 1), n, lambda v: h @ v, top_k=3)
    with pytest.raises(ValueError, match="f32_error_rms"):
        _widenet.analyze_operator(y, n, lambda v: h @ v, f32_error_rms=1e-7, top_k=3)
    with pytest.raises(ValueError, match="precond"):
        _widenet.analyze_operator(y, n, lambda v: h @ v, top_k=3, precond="lu")
    with pytest.raises(ValueError, match="path"):
        _widenet.analyze_operator(y, n, lambda v: h @ v, top_k=3, path="f32")
    with pytest.raises(ValueError, match="path"):
        _widenet.analyze_operator(y, n, lambda v: h @ v, lambda v: h @ v, top_k=3,
                                  path="dense")
    with pytest.raises(ValueError, match="deflated"):
        _widenet.analyze_operator(y, n, lambda v: h @ v, top_k=3, deflated=True)
    with pytest.raises(ValueError, match="preconditioner"):
        _widenet.analyze_operator(y, n, lambda v: h @ v, top_k=3, path="dense",
                                  preconditioner=lambda r: r[:-1])
    with pytest.raises(RuntimeError, match="factor lost"):
        _widenet.analyze_operator(y, n, lambda v: h @ v, top_k=3, path="dense",
                                  preconditioner=lambda r: (_ for _ in ()).throw(
                                      RuntimeError("factor lost")))
    with pytest.raises(ValueError, match="eig_rtol"):
        _widenet.analyze_operator(y, n, lambda v: h @ v, top_k=3, eig_rtol=0.0)


def test_an_external_preconditioner_gives_the_dense_path_analysis(rng):
    # the products and the Cholesky factor as callables (numpy's, not the library's):
    # the dense path's algorithms on them give analyze_large(path="dense")'s result
    # to rounding, reported accuracy included; block-Jacobi between the spectral
    # deflation (deflated=True) solves to the stated accuracy
    n, k = 400, 5
    x = _sphere(rng, n, 9)
    h = h_inf_numpy(x)
    y = np.sign(x[:, 0] + 0.2)
    lo = np.linalg.cholesky(h)
    calls = []

    def chol(r):
        calls.append(r.shape[1])
        return np.linalg.solve(lo.T, np.linalg.solve(lo, r))

    kw = dict(top_k=k, tol=1e-10, eta=0.05, steps=30)
    d = json.loads(_widenet.analyze_operator(y, n, lambda v: h @ v, path="dense",
                                             preconditioner=chol,
                                             preconditioner_name="cholesky-f64", **kw))
    ref = widenet.analyze_large(y=y, kernel=h, path="dense", **kw)
    lab = d["labels"][0]
    assert d["path"] == "dense" and d["preconditioner"] == "cholesky-f64"
    assert ref.preconditioner == "cholesky-f64"
    # 30 Lanczos steps on M^-1 for lambda_min(M), then CG
    assert len(calls) >= 31 and lab["cg_iterations"] == ref.cg_iterations <= 2
    for f in ("eigenvalues", "max_stable_eta", "lambda_min_estimate", "condition_estimate"):
        np.testing.assert_allclose(d[f], getattr(ref, f), rtol=1e-12, err_msg=f)
    for f in ("y_hinv_y", "achieved_rel_error", "predicted_loss", "predicted_loss_lower",
              "predicted_loss_upper", "projections", "captured_fraction"):
        np.testing.assert_allclose(lab[f], getattr(ref, f), rtol=1e-12, err_msg=f)
    q = y @ np.linalg.solve(h, y)
    assert abs(lab["y_hinv_y"] - q) / q <= 1e-12
    # block-Jacobi: the diagonal 100 x 100 blocks inverted, deflated by the Ritz pairs
    binv = [np.linalg.inv(h[i:i + 100, i:i + 100]) for i in range(0, n, 100)]

    def jacobi(r):
        return np.concatenate([b @ r[i * 100:(i + 1) * 100] for i, b in enumerate(binv)])

    d = json.loads(_widenet.analyze_operator(y, n, lambda v: h @ v, path="dense",
                                             preconditioner=jacobi, deflated=True,
                                             preconditioner_name="block-jacobi", **kw))
    lab = d["labels"][0]
    assert d["preconditioner"] == "block-jacobi" and lab["achieved_rel_error"] <= 1e-10
    assert abs(lab["y_hinv_y"] - q) / q <= lab["achieved_rel_error"] + 1e-13
    np.testing.assert_allclose(d["eigenvalues"], ref.eigenvalues, rtol=1e-12)
