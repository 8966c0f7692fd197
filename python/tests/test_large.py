"""The large-n analysis (analyze_large) against numpy's dense eigh and solve on the same
kernel, on every path, for inputs and for a kernel the user brings."""
import numpy as np
import pytest

import widenet
from conftest import h_inf_numpy


def _sphere(rng, n, d):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("path", ["dense", "f32", "matrix-free"])
def test_large_n_paths_match_numpy(rng, path):
    n, k = 240, 8
    x = _sphere(rng, n, 6)
    y = np.sign(x[:, 0] + 0.1)
    h = h_inf_numpy(x)
    lam, vec = np.linalg.eigh(h)
    lam, vec = lam[::-1], vec[:, ::-1]
    q = y @ np.linalg.solve(h, y)
    eta = 1.0 / lam[0]  # a stable step: eq. 8 decays
    a = widenet.analyze_large(x, y, top_k=k, path=path, tol=1e-9, eta=eta, steps=50)
    assert a.path == path and a.n == n and a.top_k == k
    np.testing.assert_allclose(a.eigenvalues, lam[:k], rtol=1e-10)
    np.testing.assert_allclose(a.y_hinv_y, q, rtol=1e-8)
    np.testing.assert_allclose(a.complexity_measure, np.sqrt(2 * q / n), rtol=1e-8)
    assert a.achieved_rel_error <= 1e-9
    proj = np.abs(vec[:, :k].T @ y)
    # f32 products (stored kernel, or the matrix-free path's f32 tiles) limit the vectors
    tol = 1e-8 if path == "dense" else 1e-5
    np.testing.assert_allclose(a.projections, proj, atol=tol * np.sqrt(n))
    # eq. 8 on the whole spectrum lies inside the reported bounds (rigorous up to the
    # accuracy of the top-k projections: f32 products limit them to ~1e-6 relative)
    full = 0.5 * np.array([np.sum((1 - eta * lam) ** (2 * t) * (vec.T @ y) ** 2)
                           for t in range(51)])
    slack = 1e-9 if path == "dense" else 1e-5
    assert np.all(a.predicted_loss_lower <= full * (1 + slack))
    assert np.all(full <= a.predicted_loss_upper * (1 + slack))
    assert a.predicted_loss_lower[-1] < full[0]  # the bounds are not vacuous


def test_bring_your_own_kernel_matches_inputs(rng):
    x = _sphere(rng, 150, 5)
    y = np.sign(x[:, 1])
    h = h_inf_numpy(x)
    a = widenet.analyze_large(y=y, kernel=h, top_k=5, path="matrix-free", tol=1e-9)
    b = widenet.analyze_large(x, y, top_k=5, path="matrix-free", tol=1e-9)
    np.testing.assert_allclose(a.y_hinv_y, b.y_hinv_y, rtol=1e-8)
    np.testing.assert_allclose(a.eigenvalues, b.eigenvalues, rtol=1e-10)


def test_bad_kernels_are_refused(rng):
    x = _sphere(rng, 40, 4)
    h = h_inf_numpy(x)
    y = np.ones(40)
    bad = h.copy()
    bad[0, 1] += 1e-3
    with pytest.raises(ValueError, match="not symmetric"):
        widenet.analyze_large(y=y, kernel=bad, top_k=3)
    nan = h.copy()
    nan[2, 2] = np.nan
    with pytest.raises(ValueError, match="kernel"):
        widenet.analyze_large(y=y, kernel=nan, top_k=3)
    with pytest.raises(ValueError, match="x/kernel"):
        widenet.analyze_large(x, y, kernel=h)
    with pytest.raises(ValueError, match="path"):
        widenet.analyze_large(x, y, path="gpu")


@pytest.mark.parametrize("precond", ["spectral-cg", "cholesky"])
def test_f32_preconditioners_match_numpy(rng, precond):
    # d = 30 < n: a well-conditioned H^inf, the spectral-cg route's regime
    n, k = 300, 8
    x = _sphere(rng, n, 30)
    y = np.sign(x[:, 0] + 0.1)
    h = h_inf_numpy(x)
    q = y @ np.linalg.solve(h, y)
    a = widenet.analyze_large(x, y, top_k=k, path="f32", tol=1e-10, steps=5, precond=precond)
    assert a.preconditioner == ("spectral-cg" if precond == "spectral-cg" else "cholesky-f32")
    np.testing.assert_allclose(a.y_hinv_y, q, rtol=1e-8)
    np.testing.assert_allclose(a.eigenvalues, np.linalg.eigvalsh(h)[::-1][:k], rtol=1e-10)
    with pytest.raises(ValueError, match="precond"):
        widenet.analyze_large(x, y, top_k=k, path="f32", precond="lu")
