"""The Python package speaks Python (issue 24 item 4): messages name keyword arguments,
not command-line flags; warnings are ``warnings.warn``; the memory budget is settable."""

import numpy as np
import pytest

import widenet


def _data(n=12, d=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = np.where(np.arange(n) % 3 == 0, 1.0, -1.0)
    return x, y


def test_errors_name_keywords_not_flags():
    x, y = _data()
    with pytest.raises(widenet.WidenetError) as e:
        widenet.train_two_layer(x, y, eta=1e9, steps=5)
    msg = str(e.value)
    assert "--" not in msg and "eta=" in msg, msg


def test_analyze_warns_beyond_the_stable_step_and_on_zero_one_labels():
    x, y = _data()
    lmax = np.linalg.eigvalsh(widenet.h_inf(x))[-1]
    with pytest.warns(UserWarning, match="2/lambda_max"):
        a = widenet.analyze(x, y, eta=2.05 / lmax, steps=10)
    assert a.max_stable_eta == pytest.approx(2 / lmax, rel=1e-10)
    with pytest.warns(UserWarning, match=r"\{0, 1\}"):
        widenet.analyze(x, (y + 1) / 2, eta=1.0 / lmax, steps=10)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = widenet.analyze(x, y, eta=1.0 / lmax, steps=10)
    assert a.warnings == []


def test_a_users_kernel_is_not_blamed_on_h_inf():
    with pytest.raises(widenet.WidenetError, match="negative eigenvalues"):
        widenet.krr(-np.eye(5), np.ones(5), lam=0.0)
    with pytest.raises(widenet.WidenetError) as e:
        widenet.krr(np.ones((5, 5)), np.ones(5), lam=0.0)
    assert "singular" in str(e.value) and "make H^inf singular" not in str(e.value)


def test_huge_inputs_give_an_error_not_a_wrong_gaussian_kernel():
    x, _ = _data()
    with pytest.raises(ValueError, match="overflows"):
        widenet.gaussian(x * 1e200, bandwidth=1.0)
    # at norms about 1e100 the kernel is exact: it depends on |x - y|^2 / h only
    k = widenet.gaussian(x * 1e100, bandwidth=1e200)
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(k, np.exp(-d2), rtol=1e-12, atol=1e-300)


def test_the_memory_budget_is_set_from_python_and_named_in_python_words():
    x, y = _data(n=200, d=5)
    try:
        assert widenet.set_memory_budget(10_000) == 10_000
        with pytest.raises(MemoryError) as e:
            widenet.relu_ntk(x)
        msg = str(e.value)
        assert "widenet.set_memory_budget" in msg and "--" not in msg, msg
    finally:
        default = widenet.set_memory_budget(0)
    assert default > 10_000
    assert widenet.relu_ntk(x).shape == (200, 200)


def test_rnn_ntk_refuses_a_d_out_it_would_ignore():
    x = np.random.default_rng(0).normal(size=(3, 4, 2))
    with pytest.raises(ValueError, match="d_out = 3 has no effect"):
        widenet.rnn_ntk(x, preset="wang", width=16, d_out=3)
    with pytest.raises(ValueError, match="d_out = 3 has no effect"):
        widenet.rnn_ntk(x, preset="elman", d_out=3)
    _, p = widenet.rnn_ntk(x, preset="elman", width=16, d_out=3, return_params=True)
    assert p["b"].shape == (3, 16)


def test_load_mnist_all_classes(rng, tmp_path):
    import gzip
    import struct

    imgs = rng.integers(0, 256, size=(9, 28, 28))
    imgs[:, 0, 0] = 1  # no all-zero image
    labels = np.array([7, 1, 2, 9, 0, 3, 5, 8, 4])
    with gzip.open(str(tmp_path / "t10k-images-idx3-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, 9, 28, 28) + imgs.astype(np.uint8).tobytes())
    with open(tmp_path / "t10k-labels-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">II", 0x801, 9) + labels.astype(np.uint8).tobytes())
    x, y = widenet.load_mnist(tmp_path, classes=None, split="test")
    ref = imgs.reshape(9, -1).astype(float)
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(x, ref, rtol=1e-12)
    assert y.dtype == np.int64 and np.array_equal(y, labels)
    x4, y4 = widenet.load_mnist(tmp_path, classes=None, split="test", limit=4)
    assert np.array_equal(x4, x[:4]) and np.array_equal(y4, labels[:4])
    with pytest.raises(ValueError, match="split"):
        widenet.load_mnist(tmp_path, classes=None, split="validation")


def test_train_test_forms_of_empirical_gram_and_rnn_ntk(rng):
    w = rng.normal(size=(50, 3))
    x, x2 = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    act = lambda z: (z @ w.T >= 0).astype(float)  # noqa: E731
    want = (x @ x2.T) * (act(x) @ act(x2).T) / 50
    np.testing.assert_allclose(widenet.empirical_gram(w, x, x2), want, rtol=1e-13)
    s, s2 = rng.normal(size=(3, 4, 2)), rng.normal(size=(2, 4, 2))
    k = widenet.rnn_ntk(s, s2, preset="wang")
    full = widenet.rnn_ntk(np.concatenate([s, s2]), preset="wang")
    np.testing.assert_allclose(k, full[:3, 3:], rtol=1e-12)
    with pytest.raises(ValueError, match="x2"):
        widenet.rnn_ntk(s, rng.normal(size=(2, 5, 2)), preset="wang")


def test_rnn_concept_draws_an_independent_test_set_of_the_same_concept():
    kw = dict(len=3, d=4, psi="sin", terms=1, threshold=0.05, seed=5)
    tr = widenet.rnn_concept(30, **kw)
    te = widenet.rnn_concept(20, sample_seed=9, **kw)
    again = widenet.rnn_concept(30, sample_seed=5, **kw)  # the default is sample_seed=seed
    assert np.array_equal(tr.x, again.x) and np.array_equal(tr.y, again.y)
    assert tr.betas == te.betas and tr.positions == te.positions
    assert not np.allclose(tr.x[:20], te.x)
    # the test labels are the same concept's: eq. 9 evaluated in numpy from the betas
    f = np.zeros(20)
    for pos, beta in zip(te.positions, te.betas):
        xl = te.x[:, pos[0] - 1, :]
        f += np.sin(xl @ np.array(beta) / np.linalg.norm(xl, axis=1))
    np.testing.assert_allclose(te.f_raw, f, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(te.y, np.sign(f))


def test_analyze_takes_a_users_kernel_like_analyze_large():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((12, 4))
    y = np.where(rng.standard_normal(12) > 0, 1.0, -1.0)
    a = widenet.analyze(x, y, eta=0.1, steps=5)
    b = widenet.analyze(y=y, kernel=widenet.relu_ntk(x), eta=0.1, steps=5)
    np.testing.assert_array_equal(a.eigenvalues, b.eigenvalues)
    assert a.y_hinv_y == b.y_hinv_y
    k = widenet.gaussian(x, bandwidth=4.0)
    c = widenet.analyze(y=y, kernel=k, eta=0.1, steps=5)
    np.testing.assert_allclose(c.eigenvalues, np.linalg.eigvalsh(k)[::-1], rtol=1e-10)
    np.testing.assert_allclose(c.y_hinv_y, y @ np.linalg.solve(k, y), rtol=1e-9)
    with pytest.raises(ValueError, match="x/kernel"):
        widenet.analyze(x, y, kernel=k, eta=0.1, steps=5)
    with pytest.raises(ValueError, match="invalid y"):
        widenet.analyze(x, eta=0.1, steps=5)


def test_complexity_errors_name_the_python_keywords():
    with pytest.raises(ValueError) as e:
        widenet.complexity("exp", measure="CN", R=1.0, N=2)
    assert str(e.value).startswith("invalid L:") and "--" not in str(e.value), e.value
    with pytest.raises(ValueError) as e:
        widenet.complexity("exp", measure="C", R=1.0, N=2)
    assert str(e.value).startswith("invalid N: N does not apply to measure C"), e.value


def test_a_negative_definite_kernel_is_not_blamed_on_near_duplicate_inputs():
    k = -np.diag(1.0 + np.arange(12))
    y = np.array([1.0, -1.0] * 6)
    for path in ("dense", "f32", "matrix-free"):
        with pytest.raises(widenet.WidenetError) as e:
            widenet.analyze_large(y=y, kernel=k, path=path, top_k=3)
        m = str(e.value)
        assert "negative eigenvalues" in m and "duplicate" not in m, (path, m)
        assert "condition number -" not in m, (path, m)
