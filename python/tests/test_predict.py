"""widenet.predict against numpy on the same arrays (numpy's eigh, the formulas of
neural-tangents' predict module written out independently), and its argument errors."""
import numpy as np
import pytest

import widenet


def _kernels(n, m, seed):
    rng = np.random.default_rng(seed)
    phi = rng.standard_normal((n + m, 3 * (n + m)))
    k = phi @ phi.T / phi.shape[1] + 0.1 * np.eye(n + m)
    return k[:n, :n], k[n:, :n], k[n:, n:]


def _np_gd(k, kt, y, f0, f0t, times, lr, ridge, norm, steps=False):
    lam, v = np.linalg.eigh(k + ridge * np.eye(len(k)))
    r = v.T @ (y - f0)
    train, test = [], []
    for t in times:
        if np.isinf(t):
            e, g = np.zeros_like(lam), 1.0 / lam
        elif steps:
            e = (1.0 - lr * lam / norm) ** t
            g = (1.0 - e) / lam
        else:
            e = np.exp(-lr * lam * t / norm)
            g = (1.0 - e) / lam
        train.append(y - v @ (e[:, None] * r))
        test.append(f0t + kt @ v @ (g[:, None] * r))
    return np.array(train), np.array(test), v, lam


def test_gd_matches_numpy_eigh():
    n, m, c = 30, 9, 4
    k, kt, _ = _kernels(n, m, 0)
    rng = np.random.default_rng(1)
    y = np.eye(c)[rng.integers(0, c, n)]
    yt = np.eye(c)[rng.integers(0, c, m)]
    f0, f0t = 0.2 * rng.standard_normal((n, c)), 0.2 * rng.standard_normal((m, c))
    times = [0.0, 1.0, 50.0, 2000.0, np.inf]
    for schedule, ts in [("flow", times), ("steps", [0.0, 3.0, 40.0, np.inf])]:
        p = widenet.predict(k, y, kt, times=ts, learning_rate=0.5, ridge=0.01,
                            schedule=schedule, f0_train=f0, f0_test=f0t, y_test=yt)
        tr, te, _, _ = _np_gd(k, kt, y, f0, f0t, ts, 0.5, 0.01, n * c,
                              steps=schedule == "steps")
        assert isinstance(p, widenet.Prediction)
        assert p.train.shape == (len(ts), n, c) and p.test_mean.shape == (len(ts), m, c)
        np.testing.assert_allclose(p.train, tr, rtol=0, atol=1e-10 * np.abs(tr).max())
        np.testing.assert_allclose(p.test_mean, te, rtol=0, atol=1e-10 * np.abs(te).max())
        mse = ((te - yt[None]) ** 2).mean(axis=(1, 2))
        np.testing.assert_allclose(p.test_mse, mse, rtol=1e-12)
        err = (te.argmax(-1) != yt.argmax(-1)[None]).mean(axis=1)
        np.testing.assert_array_equal(p.test_error, err)


def test_ensemble_and_gp_match_numpy():
    n, m = 25, 7
    ntk, ntk_t, _ = _kernels(n, m, 2)
    nngp, nngp_t, nngp_tt = _kernels(n, m, 3)
    y = np.random.default_rng(4).standard_normal((n, 2))
    times = [0.0, 10.0, np.inf]
    p = widenet.predict(ntk, y, ntk_t, mode="ensemble", times=times, learning_rate=1.0,
                        nngp_train=nngp, nngp_test_train=nngp_t, nngp_test_test=nngp_tt)
    _, te, v, lam = _np_gd(ntk, ntk_t, y, np.zeros_like(y), np.zeros((m, 2)), times, 1.0,
                           0.0, y.size)
    np.testing.assert_allclose(p.test_mean, te, rtol=0, atol=1e-10 * np.abs(te).max())
    for i, t in enumerate(times):
        g = 1.0 / lam if np.isinf(t) else -np.expm1(-lam * t / y.size) / lam
        mm = ntk_t @ v @ np.diag(g) @ v.T
        cov = nngp_tt - mm @ nngp_t.T - nngp_t @ mm.T + mm @ nngp @ mm.T
        np.testing.assert_allclose(p.test_cov[i], cov, rtol=0, atol=1e-10 * np.abs(cov).max())
    # the diagonal alone gives the variances
    d = widenet.predict(ntk, y, ntk_t, mode="ensemble", times=times, nngp_train=nngp,
                        nngp_test_train=nngp_t, nngp_test_test=np.diag(nngp_tt).copy())
    assert d.test_cov.shape == (3, m)
    np.testing.assert_allclose(d.test_cov, np.diagonal(p.test_cov, axis1=1, axis2=2),
                               rtol=0, atol=1e-12)
    # NNGP posterior with observation noise
    g = widenet.predict(nngp, y, nngp_t, mode="gp", noise=1e-2, k_test_test=nngp_tt)
    a = np.linalg.solve(nngp + 1e-2 * np.eye(n), np.c_[y, nngp_t.T])
    np.testing.assert_allclose(g.test_mean[0], nngp_t @ a[:, :2], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g.test_cov[0], nngp_tt - nngp_t @ a[:, 2:], rtol=1e-9,
                               atol=1e-12)


def test_bad_arguments_name_the_keyword():
    k, kt, _ = _kernels(6, 2, 5)
    y = np.ones(6)
    with pytest.raises(ValueError, match="times"):
        widenet.predict(k, y, kt, times=[-1.0])
    with pytest.raises(ValueError, match="ridge"):
        widenet.predict(k, y, kt, ridge=-1.0)
    with pytest.raises(ValueError, match="k_test_train"):
        widenet.predict(k, y, kt[:, :5])
    with pytest.raises(ValueError, match="k_train"):
        widenet.predict(k - 10 * np.eye(6), y, kt)
    with pytest.raises(ValueError, match="mode"):
        widenet.predict(k, y, kt, mode="bayes")
    with pytest.raises(ValueError, match="nngp_train"):
        widenet.predict(k, y, kt, mode="ensemble")
    with pytest.raises(ValueError, match="y_train"):
        widenet.predict(k, y[:5], kt)
    bad = k.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="k_train"):
        widenet.predict(bad, y, kt)


def _sphere(n, d, rng):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_kernel_by_name_equals_the_array_form():
    rng = np.random.default_rng(6)
    n, m, c = 40, 9, 3
    x, xt = _sphere(n, 4, rng), _sphere(m, 4, rng)
    y, yt = np.eye(c)[rng.integers(0, c, n)], np.eye(c)[rng.integers(0, c, m)]
    times = [0.0, 10.0, 1000.0, np.inf]
    k, kt = widenet.fc_ntk(x, depth=3), widenet.fc_ntk(xt, x, depth=3)
    a = widenet.predict(k, y, kt, times=times, ridge=1e-3, y_test=yt)
    b = widenet.predict("fc_ntk", y, x_train=x, x_test=xt, depth=3, times=times, ridge=1e-3,
                        y_test=yt)
    assert a.path == b.path == "dense" and b.achieved_rel_error is None
    np.testing.assert_allclose(b.test_mean, a.test_mean, rtol=0,
                               atol=1e-9 * np.abs(a.test_mean).max())
    # accuracy: the fraction of argmax hits, counted here with numpy
    acc = (b.test_mean.argmax(-1) == yt.argmax(-1)[None]).mean(axis=1)
    np.testing.assert_array_equal(b.accuracy, acc)
    # the krylov path (no eigendecomposition) within 10x its reported accuracy
    h, ht = widenet.relu_ntk(x), widenet.relu_ntk(xt, x)
    d = widenet.predict(h, y, ht, times=times, ridge=1e-2)
    for path in ("krylov", "matrix-free"):
        kr = widenet.predict(kernel="relu_ntk", y_train=y, x_train=x, x_test=xt, times=times,
                             ridge=1e-2, path=path, tol=1e-10)
        assert kr.path == path and kr.achieved_rel_error.shape == (len(times), c)
        err = np.abs(kr.test_mean - d.test_mean).max(axis=(1, 2)) / np.abs(d.test_mean).max()
        assert np.all(err <= 10 * np.maximum(kr.achieved_rel_error.max(axis=1), 1e-12))


def test_kernel_by_name_bad_arguments_name_the_keyword():
    rng = np.random.default_rng(7)
    x, xt = _sphere(12, 3, rng), _sphere(4, 3, rng)
    y = np.ones(12)
    with pytest.raises(ValueError, match="kernel"):
        widenet.predict("no_such_kernel", y, x_train=x, x_test=xt)
    with pytest.raises(ValueError, match="x_test"):
        widenet.predict("relu_ntk", y, x_train=x, x_test=_sphere(4, 5, rng))
    with pytest.raises(ValueError, match="x_test"):
        widenet.predict("relu_ntk", y, x_train=x)
    with pytest.raises(ValueError, match="path"):
        widenet.predict("relu_ntk", y, x_train=x, x_test=xt, path="sideways")
    with pytest.raises(ValueError, match="ridge"):
        widenet.predict("relu_ntk", y, x_train=x, x_test=xt, ridge=-1.0, path="matrix-free")
    with pytest.raises(ValueError, match="times"):
        widenet.predict("relu_ntk", y, x_train=x, x_test=xt, times=[-2.0])
    with pytest.raises(ValueError, match="y_train"):
        widenet.predict("relu_ntk", y[:5], x_train=x, x_test=xt)


def test_ensemble_and_gp_on_the_krylov_path_match_numpy():
    # n = 400 (top 50 eigenpairs deflated) against numpy's eigh, within the reported accuracy
    rng = np.random.default_rng(8)
    n, m = 400, 6
    x, xt = _sphere(n, 5, rng), _sphere(m, 5, rng)
    y = np.eye(2)[rng.integers(0, 2, n)]
    ntk, ntk_t = widenet.fc_ntk(x, depth=3), widenet.fc_ntk(xt, x, depth=3)
    nngp, nngp_t, nngp_tt = (widenet.fc_nngp(x, depth=3), widenet.fc_nngp(xt, x, depth=3),
                             widenet.fc_nngp(xt, depth=3))
    times, ridge = [0.0, 1e3, np.inf], 1.0
    kr = widenet.predict("fc_ntk", y, x_train=x, x_test=xt, mode="ensemble", times=times,
                         ridge=ridge, path="krylov", tol=1e-9)
    assert kr.path == "krylov" and kr.test_cov.shape == (3, m)
    lam, v = np.linalg.eigh(ntk + ridge * np.eye(n))
    s = np.diag(nngp_tt)
    for i, t in enumerate(times):
        g = 1.0 / lam if np.isinf(t) else -np.expm1(-lam * t / y.size) / lam
        mm = ntk_t @ v @ np.diag(g) @ v.T
        mean = mm @ y
        var = np.diag(nngp_tt - mm @ nngp_t.T - nngp_t @ mm.T + mm @ nngp @ mm.T)
        err = np.abs(kr.test_mean[i] - mean).max() / max(np.abs(mean).max(), 1e-300)
        assert err <= 10 * max(kr.achieved_rel_error[i].max(), 1e-11)
        assert np.all(np.abs(kr.test_cov[i] - var) / s <= 10 * max(kr.cov_rel_error[i], 1e-11))
    # the NNGP posterior, matrix-free (t = inf by Krylov), variances
    gp = widenet.predict("fc_ntk", y, x_train=x, x_test=xt, mode="gp", noise=0.3,
                         path="matrix-free", tol=1e-9)
    a = np.linalg.solve(nngp + 0.3 * np.eye(n), np.c_[y, nngp_t.T])
    mean, var = nngp_t @ a[:, :2], s - np.einsum("ij,ji->i", nngp_t, a[:, 2:])
    assert np.abs(gp.test_mean[0] - mean).max() <= 10 * max(gp.achieved_rel_error.max(),
                                                             1e-11) * np.abs(mean).max()
    assert np.all(np.abs(gp.test_cov[0] - var) / s <= 10 * max(gp.cov_rel_error[0], 1e-11))
