"""widenet.dask on a LocalCluster of 2 worker processes (loopback, one thread each):
distributed kernels against the single-machine kernels bit for bit, the distributed
analysis against widenet.analyze_large / widenet.analyze (and numpy), a killed worker,
Ctrl-C, and the refusal of non-finite or asymmetric user kernels."""
import _thread
import contextlib
import os
import signal
import threading
import time

import numpy as np
import pytest

import widenet

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
import dask.array as da  # noqa: E402

import widenet.dask as wd  # noqa: E402
from conftest import h_inf_numpy  # noqa: E402

T = 60  # seconds: the bound on every distributed product in these tests


def test_version_check_names_both_versions():
    # issue 27: the pair pip picked on 2026-12-06 (newest dask, distributed backtracked)
    with pytest.raises(ImportError, match=r"dask 2026\.11\.0 and distributed 2021\.4\.1"):
        wd.check_dask_versions("2026.11.0", "2021.4.1")
    with pytest.raises(ImportError, match="widenet\\[dask\\]"):
        wd.check_dask_versions("2026.11.0", "2026.8.0")
    # lockstep pairs pass, including a distributed post-release (2023.3.2.1)
    wd.check_dask_versions("2026.8.0", "2026.8.0")
    wd.check_dask_versions("2023.3.2", "2023.3.2.1")
    # the installed pair is one that imports (the module imported above)
    from importlib import metadata
    assert wd._version_tuple(metadata.version("dask")) == \
        wd._version_tuple(metadata.version("distributed"))


@contextlib.contextmanager
def _cluster():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       memory_limit="2GiB", silence_logs=40)
    c = distributed.Client(cluster, timeout=60)
    try:
        yield c
    finally:
        c.close(timeout=20)
        cluster.close(timeout=20)


@pytest.fixture(scope="module")
def client():
    with _cluster() as c:
        yield c


def _sphere(rng, n, d):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _bits_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(
        a.view(np.uint8), b.view(np.uint8))


def test_every_distributed_kernel_equals_the_single_machine_kernel_bit_for_bit(client, rng):
    n = 2 * 256 + 77  # three block rows, the last one short
    x = rng.standard_normal((n, 7))
    seqs = rng.standard_normal((300, 3, 2))
    cases = [
        ("relu_ntk", x, {}, widenet.relu_ntk(x)),
        ("relu_ntk", x, {"precision": "f32"}, widenet.relu_ntk(x, precision="f32")),
        ("fc_ntk", x, {"depth": 3}, widenet.fc_ntk(x, depth=3)),
        ("fc_nngp", x, {"depth": 2}, widenet.fc_nngp(x, depth=2)),
        ("gaussian", x, {"bandwidth": 2.5}, widenet.gaussian(x, bandwidth=2.5)),
        ("arcsin", x, {}, widenet.arcsin(x)),
        ("rnn_ntk", seqs, {"preset": "elman"}, widenet.rnn_ntk(seqs, preset="elman")),
    ]
    for kind, xs, params, ref in cases:
        k = wd.kernel(xs, kind, chunk=256, **params)
        got = k.compute(scheduler=client)
        assert _bits_equal(got, ref), kind
    # inputs given as a dask array (any chunking): the same bits
    k = wd.kernel(da.from_array(x, chunks=(100, 3)), "relu_ntk", chunk=512)
    assert _bits_equal(k.compute(scheduler=client), cases[0][3])
    # a block on its own, through the tile function
    b = wd.kernel_block("relu_ntk", x[:256], x[256:512])
    assert _bits_equal(b, cases[0][3][256:512, :256])


def test_symmetric_kernels_evaluate_each_off_diagonal_block_once(rng):
    x = rng.standard_normal((1000, 3))
    k = wd.kernel(x, chunk=256)  # 4 x 4 blocks
    graph = dict(k.__dask_graph__())
    evals = [key for key in graph if isinstance(key, tuple) and key[0] == k.name
             and key[2] <= key[1]]
    assert len(evals) == 10  # the lower block triangle: 4 * 5 / 2
    # the upper blocks are the transposes of the lower ones
    got = k.compute(scheduler="sync")
    assert _bits_equal(got, got.T.copy())
    with pytest.raises(ValueError, match="chunk"):
        wd.kernel(x, chunk=300)
    with pytest.raises(ValueError, match="kind"):
        wd.kernel(x, "laplace")


@pytest.mark.parametrize("mode", ["persist", "matrix-free"])
def test_distributed_products_match_numpy(client, rng, mode):
    n = 700
    x = _sphere(rng, n, 5)
    h = h_inf_numpy(x)
    v = rng.standard_normal((n, 3))
    with wd.DistributedKernel.from_inputs(client, x, chunk=256, mode=mode, timeout=T) as op:
        assert op.mode == mode
        y1 = op.matmul(v)
        y2 = op.matmul(v)
        np.testing.assert_allclose(y1, h @ v, rtol=1e-12, atol=1e-12 * np.abs(h @ v).max())
        assert _bits_equal(y1, y2)  # reproducible
        np.testing.assert_allclose(op.diag(), np.diag(h), rtol=1e-15)


def test_distributed_analysis_matches_the_single_machine_paths(client, rng):
    n, k = 300, 6
    x = _sphere(rng, n, 8)
    y = np.sign(x[:, 0] + 0.1)
    h = widenet.relu_ntk(x)
    lam = np.linalg.eigvalsh(h)[::-1]
    eta = 1.0 / lam[0]
    ref = widenet.analyze_large(x, y, top_k=k, tol=1e-11, eta=eta, steps=40)
    got = wd.analyze(x, y, client=client, top_k=k, tol=1e-11, eta=eta, steps=40, chunk=256,
                     timeout=T)
    np.testing.assert_allclose(got.eigenvalues, ref.eigenvalues, rtol=1e-8)
    np.testing.assert_allclose(got.eigenvalues, lam[:k], rtol=1e-10)
    np.testing.assert_allclose(got.y_hinv_y, ref.y_hinv_y, rtol=1e-8)
    np.testing.assert_allclose(got.complexity_measure, ref.complexity_measure, rtol=1e-8)
    np.testing.assert_allclose(got.projections, ref.projections, rtol=1e-6, atol=1e-8)
    assert got.achieved_rel_error <= 1e-11 and got.eig_max_rel_residual <= 1e-8
    # eq. 8: both curves lie within the other's rigorous bounds
    assert np.all(got.predicted_loss_lower <= ref.predicted_loss * (1 + 1e-9))
    assert np.all(ref.predicted_loss <= got.predicted_loss_upper * (1 + 1e-9))
    # with the Krylov space grown to all of R^n the quadrature is exact: eq. 8, y^T H^-1 y
    # and the spectrum equal seed 001's full analysis (widenet.analyze) to 1e-8
    full = widenet.analyze(x, y, eta=eta, steps=40)
    ex = wd.analyze(x, y, client=client, top_k=k, tol=1e-11, eig_rtol=1e-300, eta=eta,
                    steps=40, chunk=256, block=32, max_basis=n, mode="persist", timeout=T)
    assert ex.krylov_basis == n
    np.testing.assert_allclose(ex.predicted_loss, full.predicted_loss, rtol=1e-8)
    np.testing.assert_allclose(ex.y_hinv_y, full.y_hinv_y, rtol=1e-8)
    np.testing.assert_allclose(ex.eigenvalues, full.eigenvalues[:k], rtol=1e-10)


ACCURACY_FIELDS = ("achieved_rel_error", "lambda_min_estimate", "condition_estimate",
                   "max_stable_eta", "captured_fraction")


def _same_analysis(got, ref, rtol=1e-12, accuracy=True, achieved_rtol=1e-12):
    """Eigenvalues, y^T K^-1 y, eq. 8 with its bounds and (``accuracy``) the reported
    accuracy fields of ``got`` equal ``ref``'s to ``rtol`` (the achieved accuracy, a
    residual's norm, to ``achieved_rtol``)."""
    for f in ("eigenvalues", "predicted_loss", "predicted_loss_lower",
              "predicted_loss_upper", "y_hinv_y", "complexity_measure"):
        np.testing.assert_allclose(getattr(got, f), getattr(ref, f), rtol=rtol, err_msg=f)
    if accuracy:
        for f in ACCURACY_FIELDS:
            np.testing.assert_allclose(getattr(got, f), getattr(ref, f), err_msg=f,
                                       rtol=achieved_rtol if f == "achieved_rel_error"
                                       else rtol)
        assert got.cg_iterations == ref.cg_iterations


@pytest.mark.parametrize("mode,pre,fp,precond", [
    ("persist", "cholesky", "f64", None), ("persist", "spectral", "f64", "spectral"),
    ("matrix-free", "spectral", "f64", "spectral"), ("persist", "cholesky", "f32", None),
    ("persist", "block-jacobi", "f64", None)])
def test_each_route_is_the_single_machine_analysis_to_1e12(client, rng, mode, pre, fp,
                                                           precond):
    # the routes hand the cluster's f64 products (and the distributed preconditioner) to
    # the library's dense-path solvers: with the same kernel and settings the result is
    # analyze_large(path="dense")'s (the Cholesky factor, f64: the dense path's own
    # preconditioner; "spectral": its precond="spectral"), to rounding of the products.
    # The f32 factor and block-Jacobi have no single-machine twin: their spectrum and
    # eq. 8 are the dense path's (the same Krylov phase), y^T K^-1 y to tol.
    n, k, eta = 600, 5, 0.01
    x = _sphere(rng, n, 10)
    y = np.sign(x[:, 0] - 0.1)
    kw = dict(top_k=k, tol=1e-9, eta=eta, steps=30)
    ref = widenet.analyze_large(x, y, path="dense", precond=precond, **kw)
    got = wd.analyze(x, y, client=client, chunk=256, mode=mode, preconditioner=pre,
                     factor_precision=fp, timeout=T, **kw)
    assert got.path == f"{mode}+{pre}" + (f"-{fp}" if pre == "cholesky" else "")
    assert ref.preconditioner == ("spectral" if precond else "cholesky-f64")
    twin = pre != "block-jacobi" and fp == "f64"
    # the spectral CG stops after dozens of iterations with ||r||^2 / (lambda q) near
    # tol: its residual r = y - K z carries the products' rounding (relative 1e-9 of it
    # here), so the reported accuracy agrees to that; with the factor, CG stops at the
    # rounding floor cond sqrt(n) eps, a function of lambda_min alone
    _same_analysis(got, ref, accuracy=twin, rtol=1e-12 if twin else 1e-9,
                   achieved_rtol=1e-12 if pre == "cholesky" else 1e-6)
    np.testing.assert_allclose(got.eigenvalues, ref.eigenvalues, rtol=1e-12)
    np.testing.assert_allclose(got.predicted_loss, ref.predicted_loss, rtol=1e-12)
    np.testing.assert_allclose(got.projections, ref.projections, rtol=1e-10)
    assert got.achieved_rel_error <= 1e-9
    # numpy's solve on the same kernel (independent of both)
    h = h_inf_numpy(x)
    np.testing.assert_allclose(got.y_hinv_y, float(y @ np.linalg.solve(h, y)), rtol=1e-8)
    # the result is the single-machine result type with the cluster's fields added
    assert isinstance(got, widenet.LargeAnalysis)
    assert set(ref.to_dict()) <= set(got.to_dict())
    if pre == "cholesky":
        # the factor makes M = K (f64) or K + s I (f32): a handful of CG iterations
        # against the spectral route's dozens
        assert got.cg_iterations <= (2 if fp == "f64" else 6)
        assert got.triangular_solves >= 31  # 30 Lanczos steps on M^-1 for lambda_min(M), CG
        assert 0.5 < got.lambda_min_estimate / np.linalg.eigvalsh(h)[0] < 2
    else:
        assert got.triangular_solves == 0


def test_the_cholesky_factor_applies_the_inverse_of_the_kernel(client, rng):
    # M^-1 R by the blocked triangular solves on the workers against numpy's solve on
    # the same kernel: n = 700 at chunk 256 (three block rows, the last one padded),
    # f64 (M = K) and f32 (M = K + s I in float32, to its rounding)
    n = 700
    x = _sphere(rng, n, 12)
    r = rng.standard_normal((n, 3))
    k = h_inf_numpy(x)
    want = np.linalg.solve(k, r)
    with wd.DistributedKernel.from_inputs(client, x, chunk=256, mode="persist",
                                          timeout=T) as op:
        for precision, rtol in (("f64", 1e-9), ("f32", 1e-2)):
            f = op.cholesky(precision)
            try:
                got = f.apply(r)
                assert got.dtype == np.float64 and got.shape == (n, 3)
                shifted = np.linalg.solve(k + f.shift * np.eye(n), r)
                np.testing.assert_allclose(got, shifted, rtol=0,
                                           atol=rtol * np.abs(shifted).max())
                if precision == "f64":
                    assert f.shift == 0.0
                    np.testing.assert_allclose(got, want, rtol=0,
                                               atol=1e-9 * np.abs(want).max())
                assert f.solves == 1
            finally:
                f.close()


def test_the_cg_route_follows_the_memory_budget(client, rng):
    n = 600
    x = _sphere(rng, n, 6)
    y = np.sign(x[:, 2])
    tiles = 3 * 4 // 2 * 256 * 256 * 8  # the lower blocks at chunk 256, f64
    kw = dict(client=client, top_k=3, tol=1e-6, chunk=256, timeout=T)
    # (the other routes are checked to 1e-12 against the single machine above: here the
    # route chosen is the point, and the same y^T K^-1 y to their tolerance)
    a = wd.analyze(x, y, memory_budget=2 * tiles, **dict(kw, tol=1e-9))  # tiles + f64 factor fit
    b = wd.analyze(x, y, memory_budget=2 * tiles - 1, **kw)  # only the tiles fit
    c = wd.analyze(x, y, memory_budget=tiles - 1, **kw)  # nothing fits
    d = wd.analyze(x, y, memory_budget=2 * tiles, factor_precision="f32", **kw)
    e = wd.analyze(x, y, memory_budget=tiles - 1, mode="matrix-free", **kw)
    # the f64 tiles do not fit: H^inf of f64 inputs goes to mode "mixed" (f32 tiles,
    # here all of them: they are half the size)
    assert (a.path, b.path, c.path, d.path, e.path) == (
        "persist+cholesky-f64", "persist+spectral", "mixed+inner-cg",
        "persist+cholesky-f32", "matrix-free+spectral")
    assert c.held_fraction == 1.0 and e.held_fraction == 0.0 and a.held_fraction == 1.0
    assert a.memory_budget == 2 * tiles
    for r in (b, c, d, e):
        np.testing.assert_allclose(r.y_hinv_y, a.y_hinv_y, rtol=1e-5)
    with pytest.raises(ValueError, match="persisted"):
        wd.analyze(x, y, mode="matrix-free", preconditioner="cholesky", **kw)
    with pytest.raises(ValueError, match="factor_precision"):
        wd.analyze(x, y, preconditioner="cholesky", factor_precision="f16", **kw)


def test_the_mixed_mode_is_the_single_machine_analysis_whatever_part_of_the_tiles_is_held(
        client, rng):
    # n = 700 at chunk 256: 6 lower tiles (one a short row), one per slot
    n, k = 700, 5
    x = _sphere(rng, n, 12)
    y = np.sign(x[:, 0] - 0.1)
    ref = widenet.analyze_large(x, y, top_k=k, tol=1e-11)
    q_np = float(y @ np.linalg.solve(h_inf_numpy(x), y))
    lam = np.linalg.eigvalsh(h_inf_numpy(x))[::-1][:k]
    f32_tiles = 4 * (256 * 256 * 3 + 256 * 188 * 2 + 188 * 188)
    runs = []
    # (every tile held: the budget test's mode "mixed" run)
    for budget in (f32_tiles // 2, 0):
        got = wd.analyze(x, y, client=client, top_k=k, tol=1e-10, chunk=256, mode="mixed",
                         memory_budget=budget, timeout=T)
        assert got.path == "mixed+inner-cg" and got.preconditioner == "inner-cg"
        runs.append(got)
        np.testing.assert_allclose(got.y_hinv_y, ref.y_hinv_y, rtol=1e-8)
        np.testing.assert_allclose(got.y_hinv_y, q_np, rtol=1e-8)
        np.testing.assert_allclose(got.eigenvalues, ref.eigenvalues, rtol=1e-8)
        np.testing.assert_allclose(got.eigenvalues, lam, rtol=1e-8)
        # the reported accuracy holds: the error against numpy is within it
        assert got.achieved_rel_error <= 1e-10
        assert abs(got.y_hinv_y - q_np) / q_np <= got.achieved_rel_error + 1e-13
        assert got.refinement_rounds >= 2 and got.products_f32 > got.products - got.products_f32
        # the f32 rounding bound subtracted from lambda_min is a bound: ||K - K32||_2
        k64, k32 = h_inf_numpy(x), widenet.relu_ntk(x, precision="f32").astype(np.float64)
        assert np.linalg.norm(k64 - k32, 2) <= got.f32_rounding_bound
        assert got.lambda_min_estimate <= np.linalg.eigvalsh(k64)[0] * (1 + 1e-6)
    assert 0 < runs[0].held_fraction < 1 and runs[1].held_fraction == 0.0
    # held or recomputed, the f32 tiles are the same bits: so is every result
    for r in runs[1:]:
        assert r.y_hinv_y == runs[0].y_hinv_y
        assert _bits_equal(r.eigenvalues, runs[0].eigenvalues)
        assert _bits_equal(r.predicted_loss, runs[0].predicted_loss)
    # the f32 products: the f32 kernel (numpy on the same f32 matrix) applied in f64
    with wd.DistributedKernel.from_inputs(client, x, chunk=256, mode="mixed",
                                          memory_budget=f32_tiles // 2, timeout=T) as op:
        v = rng.standard_normal((n, 3))
        k32 = widenet.relu_ntk(x, precision="f32").astype(np.float64)
        np.testing.assert_allclose(op.matmul32(v), k32 @ v, rtol=0,
                                   atol=1e-5 * np.abs(k32 @ v).max())
    with pytest.raises(ValueError, match="mixed"):
        wd.analyze(x, y, client=client, top_k=k, chunk=256, mode="mixed",
                   preconditioner="spectral", timeout=T)
    with pytest.raises(ValueError, match="mixed"):
        wd.DistributedKernel.from_inputs(client, x, kind="gaussian", chunk=256, mode="mixed")


def test_the_eq8_and_lanczos_helpers_are_the_rust_functions(rng):
    # eq. 8 (seed 001): 1/2 sum (1 - eta lambda)^{2t} w, top exact, tail rescaled to rest,
    # written out with numpy as the independent reference
    top = np.array([[3.0, 0.5], [1.0, 0.25]])
    tail = np.array([[0.3, 0.1], [0.05, 0.3]])
    rest, lam_k, eta, steps = 0.2, 1.0, 0.4, 30
    mid, lo, hi = widenet._widenet.loss_curves(top, tail, rest, lam_k, eta, steps)
    t = np.arange(steps + 1)[:, None]
    g = lambda lam: (1 - eta * lam) ** (2 * t)  # noqa: E731
    tw = tail[:, 1] * rest / tail[:, 1].sum()
    topp = (g(top[:, 0]) * top[:, 1]).sum(1)
    np.testing.assert_allclose(mid, 0.5 * (topp + (g(tail[:, 0]) * tw).sum(1)), rtol=1e-12)
    gk = g(np.array([lam_k]))[:, 0]
    np.testing.assert_allclose(lo, 0.5 * (topp + rest * gk), rtol=1e-12)
    np.testing.assert_allclose(hi, 0.5 * (topp + rest * np.maximum(gk, 1)), rtol=1e-12)
    with pytest.raises(ValueError, match="top"):
        widenet._widenet.loss_curves(top[:, :1], tail, rest, lam_k, eta, steps)
    # CG's coefficients of an SPD system: its Lanczos matrix's smallest eigenvalue
    a = rng.standard_normal((40, 40))
    a = a @ a.T + 0.5 * np.eye(40)
    b = rng.standard_normal(40)
    x, r = np.zeros(40), b.copy()
    p, rho, al, be = r.copy(), r @ r, [], []
    for _ in range(15):
        w = a @ p
        al.append(rho / (p @ w))
        x += al[-1] * p
        r -= al[-1] * w
        be.append((r @ r) / rho)
        rho = r @ r
        p = r + be[-1] * p
    # the Lanczos matrix of CG (Saad, Iterative Methods, 6.7.3) written out in numpy;
    # its Ritz values lie in the spectrum of a
    m = len(al)
    tm = np.diag([1 / al[i] + (be[i - 1] / al[i - 1] if i else 0) for i in range(m)])
    off = [np.sqrt(be[i]) / al[i] for i in range(m - 1)]
    tm += np.diag(off, 1) + np.diag(off, -1)
    got = widenet._widenet.tridiag_min(al, be)
    np.testing.assert_allclose(got, np.linalg.eigvalsh(tm)[0], rtol=1e-10)
    assert got >= np.linalg.eigvalsh(a)[0] * (1 - 1e-10)
    with pytest.raises(ValueError, match="alpha"):
        widenet._widenet.tridiag_min([], [])
    # Lanczos: the largest eigenvalue of a (30 steps of a 40 x 40 operator)
    lmax = np.linalg.eigvalsh(a)[-1]
    got = widenet._widenet.lanczos_largest(40, 30, 0, lambda v: a @ v)
    assert got <= lmax * (1 + 1e-12) and got > lmax * (1 - 1e-6)

    def stop(v):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        widenet._widenet.lanczos_largest(40, 30, 0, stop)


def test_a_user_kernel_in_npy_tiles_gets_the_same_analysis(client, rng, tmp_path):
    n, k = 400, 5
    x = _sphere(rng, n, 6)
    y = np.sign(x[:, 1])
    h = widenet.relu_ntk(x)
    da.to_npy_stack(str(tmp_path / "k"), da.from_array(h, chunks=(128, n)), axis=0)
    stored = da.from_npy_stack(str(tmp_path / "k"))
    ref = widenet.analyze_large(y=y, kernel=h, top_k=k, tol=1e-11)
    # (block-Jacobi with two diagonal blocks takes about 90 CG iterations to 1e-9 here,
    # each a pass over the stored tiles: it is asked for 1e-6)
    for mode, pre, tol in (("persist", "spectral", 1e-9),
                           ("matrix-free", "block-jacobi", 1e-6)):
        got = wd.analyze(y=y, kernel=stored, client=client, top_k=k, tol=tol, chunk=256,
                         mode=mode, preconditioner=pre, timeout=T)
        assert got.mode == mode
        np.testing.assert_allclose(got.eigenvalues, ref.eigenvalues, rtol=1e-8)
        np.testing.assert_allclose(got.y_hinv_y, ref.y_hinv_y, rtol=100 * tol)


def test_non_finite_or_asymmetric_user_kernels_are_refused(client, rng):
    n = 600
    h = widenet.relu_ntk(_sphere(rng, n, 4))
    y = np.ones(n)
    bad = h.copy()
    bad[300, 5] = np.nan
    with pytest.raises(ValueError, match=r"non-finite entry nan at \(300, 5\)"):
        wd.analyze(y=y, kernel=da.from_array(bad, chunks=256), client=client, timeout=T)
    asym = h.copy()
    asym[1, 400] += 1e-6 * h[1, 1]
    with pytest.raises(ValueError, match=r"not symmetric: K\[1, 400\] = -0.0818"):
        wd.analyze(y=y, kernel=da.from_array(asym, chunks=256), client=client, timeout=T)
    with pytest.raises(ValueError, match="square"):
        wd.check_kernel(da.from_array(h[:, :10]), client)
    # within the f64 tolerance (rounding-level asymmetry) it is accepted
    ok = h.copy()
    ok[1, 400] *= 1 + 1e-14
    assert wd.check_kernel(da.from_array(ok, chunks=256), client).shape == (n, n)


def test_ctrl_c_cancels_the_cluster_work(client, rng):
    x = _sphere(rng, 3000, 64)
    y = np.sign(x[:, 0])
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            wd.analyze(x, y, client=client, top_k=4, chunk=256, mode="matrix-free",
                       tol=1e-12, eig_rtol=1e-300, max_basis=400, timeout=T)
    finally:
        timer.cancel()
    deadline = time.time() + 20
    while time.time() < deadline and any(client.processing().values()):
        time.sleep(0.1)
    assert not any(client.processing().values())


@pytest.mark.parametrize("mode,pre", [("persist", "spectral"), ("matrix-free", "spectral"),
                                      ("persist", "cholesky"), ("mixed", "inner-cg")])
def test_a_killed_worker_does_not_change_the_answer(client, rng, mode, pre):
    n = 700
    x = _sphere(rng, n, 16)
    y = np.sign(x[:, 0] + 0.2)
    # (the answer is compared bit for bit, so any tolerance tests it: a loose one keeps
    # the rounds of products few; mode "mixed" needs two f64 passes for its kill)
    kw = dict(top_k=3, tol=1e-10 if mode == "mixed" else 1e-8, chunk=256, mode=mode,
              timeout=T, preconditioner=pre)
    ref = wd.analyze(x, y, client=client, **kw)
    # the kill goes to a cluster of its own: the shared one never waits for a nanny to
    # bring a worker back (that wait once took over 60 s after a long module run)
    with _cluster() as own:
        _killed_worker_run(own, x, y, kw, ref, pre)


def _killed_worker_run(client, x, y, kw, ref, pre):
    pids = client.run(os.getpid)
    killed = []
    # spectral CG: inside a product; Cholesky route (CG takes 1-2 iterations): inside
    # the distributed triangular solves of lambda_min(M)'s Lanczos, so the factor
    # blocks (and the tiles they came from) the dead worker held are recomputed
    phase, at = {"spectral": ("f64 products", 2), "cholesky": ("Cholesky triangular", 1),
                 "inner-cg": ("f64 passes", 2)}[pre]

    def kill_one(info):
        # a timer lands the kill inside the next product / pair of solves
        if info["phase"].startswith(phase) and info["iteration"] == at and not killed:
            pid = sorted(pids.values())[0]
            killed.append(pid)
            timer = threading.Timer(0.02, os.kill, (pid, signal.SIGKILL))
            timers.append(timer)
            timer.start()

    timers = []
    got = wd.analyze(x, y, client=client, progress=kill_one, **kw)
    assert killed
    for timer in timers:
        timer.join()
    # the worker did die (the scheduler drops it within seconds of the kill)
    deadline = time.time() + T
    while killed[0] in client.run(os.getpid).values() and time.time() < deadline:
        time.sleep(0.1)
    assert killed[0] not in client.run(os.getpid).values()
    # products are summed in a fixed order from deterministic tiles: bit for bit
    assert got.y_hinv_y == ref.y_hinv_y
    assert _bits_equal(got.eigenvalues, ref.eigenvalues)
    assert _bits_equal(got.predicted_loss, ref.predicted_loss)


def test_the_mixed_mode_runs_the_library_solvers_on_the_cluster_products(client, rng):
    # mode "mixed" hands the cluster's f32 and f64 products to the Rust solvers
    # (theory::large_n::analyze_operator, the matrix-free path's code): the f64-refined
    # numbers equal the single-machine matrix-free path's to 1e-12; the projections and
    # eq. 8 carry the f32 Krylov vectors' accuracy (~1e-7), as the single machine's do
    n, k = 700, 5
    x = _sphere(rng, n, 12)
    y = np.sign(x[:, 0] - 0.1)
    ref = widenet.analyze_large(x, y, top_k=k, tol=1e-10, path="matrix-free")
    got = wd.analyze(x, y, client=client, top_k=k, tol=1e-10, chunk=256, mode="mixed",
                     memory_budget=10**6, timeout=T)
    assert ref.preconditioner == "spectral-cg" and got.path == "mixed+inner-cg"
    np.testing.assert_allclose(got.eigenvalues, ref.eigenvalues, rtol=1e-12)
    np.testing.assert_allclose(got.y_hinv_y, ref.y_hinv_y, rtol=1e-12)
    np.testing.assert_allclose(got.complexity_measure, ref.complexity_measure, rtol=1e-12)
    np.testing.assert_allclose(got.max_stable_eta, ref.max_stable_eta, rtol=1e-12)
    np.testing.assert_allclose(got.projections, ref.projections, rtol=1e-5)
    np.testing.assert_allclose(got.predicted_loss, ref.predicted_loss, rtol=1e-5)
    # every product ran on the workers: f32 ones for the Krylov phase and inner CG,
    # f64 passes for the refinement and the outer CG
    assert got.products_f32 >= got.krylov_basis and got.refinement_rounds >= 2
    assert got.products == got.products_f32 + sum(c for p, c in got.product_log
                                                  if p == "f64")
