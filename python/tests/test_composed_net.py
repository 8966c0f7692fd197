"""The finite network of a composed architecture through the native binding
(python/src/composed.rs) against a numpy Dense-Relu-Dense network written here: the
outputs, the empirical NTK J J^T from hand-derived per-sample gradients, gradient descent,
and (loosely) the infinite-width NTK of the arc-cosine formulas (Cho & Saul 2009)."""

import numpy as np
import pytest

import widenet._widenet as native

SPEC = "dense(b=0.3), relu, dense(w=1.2, b=0.1)"
W1_STD, B1_STD, W2_STD, B2_STD = 1.0, 0.3, 1.2, 0.1


def _inputs(n, d, seed):
    return np.random.default_rng(seed).standard_normal((n, d))


def _forward(params, x):
    """NTK parameterization: z = W_std W h / sqrt(fan_in) + b_std b (gram=mean: h0 = x)."""
    w1, b1, w2, b2 = params
    d, m = x.shape[1], w1.shape[0]
    z1 = W1_STD * x @ w1.T / np.sqrt(d) + B1_STD * b1
    h = np.maximum(z1, 0.0)
    f = W2_STD * h @ w2.T / np.sqrt(m) + B2_STD * b2
    return z1, h, f[:, 0]


def _jacobian(params, x):
    """Per-sample gradients of f, in the binding's order: W1 (row-major), b1, W2, b2."""
    w1, _, w2, _ = params
    d, m = x.shape[1], w1.shape[0]
    z1, h, _ = _forward(params, x)
    g = W2_STD / np.sqrt(m) * w2[0] * (z1 >= 0)  # df/dz1, n x m
    dw1 = W1_STD / np.sqrt(d) * g[:, :, None] * x[:, None, :]
    db1 = B1_STD * g
    dw2 = W2_STD / np.sqrt(m) * h
    db2 = np.full((x.shape[0], 1), B2_STD)
    return np.concatenate([dw1.reshape(len(x), -1), db1, dw2, db2], axis=1)


def test_init_shapes_draws_and_reproducibility():
    params = native.composed_init(SPEC, 5, 16, 3)
    assert [p.shape for p in params] == [(16, 3), (16,), (1, 16), (1,)]
    again = native.composed_init(SPEC, 5, 16, 3)
    assert all(np.array_equal(a, b) for a, b in zip(params, again))
    other = native.composed_init(SPEC, 6, 16, 3)
    assert not np.array_equal(params[0], other[0])
    # NTK parameterization: N(0, 1) entries; standard: N(0, W_std^2 / fan_in)
    w = native.composed_init(SPEC, 1, 2000, 10)[0]
    assert abs(w.std() - 1.0) < 0.02 and abs(w.mean()) < 0.01
    w = native.composed_init("dense(w=2, param=standard), relu, dense", 1, 2000, 10)[0]
    assert abs(w.std() - 2.0 / np.sqrt(10)) < 0.02


def test_apply_and_empirical_ntk_match_numpy():
    x, x2 = _inputs(6, 4, 0), _inputs(3, 4, 1)
    params = native.composed_init(SPEC, 11, 24, 4)
    f = native.composed_apply(SPEC, params, x)
    assert f.shape == (6,)
    np.testing.assert_allclose(f, _forward(params, x)[2], rtol=1e-12, atol=1e-13)
    j1, j2 = _jacobian(params, x), _jacobian(params, x2)
    k = native.composed_empirical_ntk(SPEC, params, x)
    np.testing.assert_allclose(k, j1 @ j1.T, rtol=1e-12, atol=1e-13)
    k12 = native.composed_empirical_ntk(SPEC, params, x, x2)
    assert k12.shape == (6, 3)
    np.testing.assert_allclose(k12, j1 @ j2.T, rtol=1e-12, atol=1e-13)


def test_train_gd_matches_numpy_gradient_descent():
    x = _inputs(8, 3, 2)
    y = np.sin(np.arange(8.0))
    params = native.composed_init(SPEC, 3, 20, 3)
    eta, steps = 0.05, 6
    trained, hist = native.composed_train_gd(SPEC, params, x, y, eta=eta, steps=steps)
    assert hist.shape == (steps + 1,)
    assert hist[-1] < hist[0]
    p = [a.copy() for a in params]
    losses = []
    for k in range(steps + 1):
        r = _forward(p, x)[2] - y
        losses.append(0.5 * r @ r)
        if k == steps:
            break
        g = _jacobian(p, x).T @ r  # gradient of 1/2 sum (f - y)^2
        at = 0
        for a in p:
            a -= eta * g[at:at + a.size].reshape(a.shape)
            at += a.size
    np.testing.assert_allclose(hist, losses, rtol=1e-12)
    for a, b in zip(trained, p):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)
    # the input list is not changed
    assert all(np.array_equal(a, b) for a, b in zip(params, native.composed_init(SPEC, 3, 20, 3)))


def _infinite_ntk(x):
    """The NTK of SPEC at infinite width: Sigma1 = W1^2 x.x'/d + b1^2, the arc-cosine
    maps of ReLU, then the readout Theta = W2^2 Sigmadot Theta1 + W2^2 Sigma2 + b2^2."""
    d = x.shape[1]
    s1 = W1_STD**2 * x @ x.T / d + B1_STD**2
    q = np.sqrt(np.diag(s1))
    cos = np.clip(s1 / np.outer(q, q), -1.0, 1.0)
    th = np.arccos(cos)
    s2 = np.outer(q, q) * (np.sin(th) + (np.pi - th) * cos) / (2 * np.pi)
    sdot = (np.pi - th) / (2 * np.pi)
    return W2_STD**2 * sdot * s1 + W2_STD**2 * s2 + B2_STD**2


def test_empirical_ntk_approaches_the_infinite_kernel():
    x = _inputs(5, 4, 3)
    x[1] *= 2.0
    exact = _infinite_ntk(x)
    errs = []
    for width in (64, 4096):
        mean = np.mean([native.composed_empirical_ntk(SPEC, native.composed_init(SPEC, s, width, 4), x)
                        for s in range(4)], axis=0)
        errs.append(np.linalg.norm(mean - exact) / np.linalg.norm(exact))
    assert errs[1] < 0.05, errs
    assert errs[1] < errs[0], errs


def test_bad_input_names_the_argument():
    params = native.composed_init(SPEC, 0, 8, 3)
    x = _inputs(4, 3, 4)
    with pytest.raises(ValueError, match="width"):
        native.composed_init(SPEC, 0, 0, 3)
    with pytest.raises(ValueError, match="spec"):
        native.composed_init("dense, relu, bogus", 0, 8, 3)
    with pytest.raises(ValueError, match="spec.*readout"):
        native.composed_init("dense, relu", 0, 8, 3)
    with pytest.raises(ValueError, match="params"):
        native.composed_apply(SPEC, params[:3], x)
    with pytest.raises(ValueError, match="params"):
        native.composed_apply(SPEC, [params[1]] + params[1:], x)
    with pytest.raises(ValueError, match="params.*width 5 .the inputs' dimension"):
        native.composed_apply(SPEC, params, _inputs(4, 5, 4))
    with pytest.raises(ValueError, match="x: expected a 2-D array"):
        native.composed_apply(SPEC, params, np.zeros(3))
    with pytest.raises(ValueError, match="x2"):
        native.composed_empirical_ntk(SPEC, params, x, _inputs(2, 5, 4))
    with pytest.raises(ValueError, match="y"):
        native.composed_train_gd(SPEC, params, x, np.zeros(3), eta=0.1, steps=2)
    with pytest.raises(ValueError, match="eta"):
        native.composed_train_gd(SPEC, params, x, np.zeros(4), eta=0.0, steps=2)
    with pytest.raises(TypeError):
        native.composed_train_gd(SPEC, params, x, np.zeros(4), 0.1, 2)  # keywords only


def _rnn_forward(params, x, w_std, a_std, b_std, h0, readout_all):
    """numpy: g_t = w·W h_{t−1}/√m + a·A x_t/√d + b·β, h_t = erf(g_t), readout dense."""
    from math import erf
    verf = np.vectorize(erf)
    W, M0, A, beta, V = params
    n, L, d = x.shape
    m = W.shape[0]
    h = np.tile(verf(M0), (n, 1)) if h0 > 0 else np.zeros((n, m))
    outs = []
    for t in range(L):
        g = w_std * h @ W.T / np.sqrt(m) + a_std * x[:, t] @ A.T / np.sqrt(d) + b_std * beta
        h = verf(g)
        outs.append(h @ V.T / np.sqrt(m))
    f = np.stack(outs, axis=1)[..., 0]
    return f if readout_all else f[:, -1]


@pytest.mark.parametrize("readout", ["last", "all"])
def test_recurrent_net_matches_numpy(readout):
    from widenet import stax
    net = stax.serial(stax.Rnn(stax.Erf(), len=3, W_std=1.2, A_std=0.9, b_std=0.3,
                               h0_std=0.8, readout=readout), stax.Dense())
    n, L, d, m = 4, 3, 2, 5
    x = np.random.default_rng(3).standard_normal((n, L, d))
    params = net.init(7, m, d)
    assert [p.shape for p in params] == [(m, m), (m,), (m, d), (m,), (1, m)]
    args = (1.2, 0.9, 0.3, 0.8, readout == "all")
    f = net.apply(params, x)
    np.testing.assert_allclose(f, _rnn_forward(params, x, *args), rtol=1e-12, atol=1e-14)
    # the empirical NTK against numpy central differences of every trained entry
    # (M_0, the bias slot of W, is not trained)
    cols = []
    for k, p in enumerate(params):
        if k == 1:
            continue
        for idx in np.ndindex(p.shape):
            plus = [q.copy() for q in params]
            minus = [q.copy() for q in params]
            plus[k][idx] += 1e-6
            minus[k][idx] -= 1e-6
            cols.append((_rnn_forward(plus, x, *args) - _rnn_forward(minus, x, *args)) / 2e-6)
    J = np.stack([c.reshape(-1) for c in cols], axis=1)
    K = net.empirical_ntk(params, x)
    if readout == "all":
        assert K.shape == (n, L, n, L)
        K = K.reshape(n * L, n * L)
    np.testing.assert_allclose(K, J @ J.T, rtol=1e-6, atol=1e-8)
    # GD's first loss is ½‖f − y‖²; y of shape (n, L) for readout="all"
    y = np.zeros_like(f) + 0.5
    _, hist = net.train_gd(params, x, y, eta=0.1, steps=2)
    assert abs(hist[0] - 0.5 * np.sum((f - y) ** 2)) < 1e-12
    assert hist[2] < hist[0]
