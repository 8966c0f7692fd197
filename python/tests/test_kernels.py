"""Kernels against numpy reimplementations of their formulas and against the CLI."""
import numpy as np
import pytest

import widenet
from conftest import h_inf_numpy


def test_relu_ntk_matches_closed_form_f64_and_f32(rng):
    x = rng.standard_normal((60, 7))
    ref = h_inf_numpy(x)
    h = widenet.relu_ntk(x)
    assert h.dtype == np.float64 and h.shape == (60, 60)
    np.testing.assert_allclose(h, ref, rtol=1e-10, atol=1e-8)
    assert np.array_equal(h, h.T)
    h32 = widenet.relu_ntk(x.astype(np.float32))
    assert h32.dtype == np.float32
    np.testing.assert_allclose(h32, ref, rtol=1e-4, atol=1e-4)
    # precision= overrides the input's dtype
    assert widenet.relu_ntk(x, precision="f32").dtype == np.float32
    assert widenet.h_inf is widenet.relu_ntk


def test_relu_ntk_cross_kernel(rng):
    x, xt = rng.standard_normal((30, 5)), rng.standard_normal((11, 5))
    k = widenet.relu_ntk(x, xt)
    assert k.shape == (30, 11)
    np.testing.assert_allclose(k, h_inf_numpy(x, xt), rtol=1e-10, atol=1e-12)


def test_relu_ntk_bit_identical_to_cli(cli, rng, tmp_path):
    x = rng.standard_normal((40, 9))
    np.save(tmp_path / "x.npy", x)
    for prec in ("f64", "f32"):
        cli("kernel", "relu-ntk", "--x", tmp_path / "x.npy", "--out", tmp_path / "h.npy",
            "--precision", prec)
        want = np.load(tmp_path / "h.npy")
        got = widenet.relu_ntk(x, precision=prec)
        assert got.dtype == want.dtype
        assert np.array_equal(got, want)


def test_memory_orders_and_dtypes_give_the_same_result(rng):
    big = rng.standard_normal((50, 24))
    view = big[::2, ::3]                      # non-contiguous
    ref = widenet.relu_ntk(np.ascontiguousarray(view))
    for variant in (view, np.asfortranarray(view), view.copy(order="C"), view.tolist()):
        got = widenet.relu_ntk(variant)
        assert got.dtype == np.float64
        assert np.array_equal(got, ref)
    assert np.array_equal(widenet.relu_ntk(view.astype(">f8")), ref)   # big-endian
    xi = rng.integers(-3, 4, size=(10, 4))
    np.testing.assert_array_equal(widenet.relu_ntk(xi), widenet.relu_ntk(xi.astype(float)))
    # float32 in any order stays float32, identical to the C-ordered float32 call
    v32 = view.astype(np.float32)
    assert np.array_equal(widenet.relu_ntk(np.asfortranarray(v32)), widenet.relu_ntk(v32))
    # the input is not modified, the output is a fresh, writable, C-ordered array
    before = big.copy()
    h = widenet.relu_ntk(big)
    assert np.array_equal(big, before)
    assert h.flags.c_contiguous and h.flags.writeable


def _fc_numpy(x1, x2, depth, hidden=False):
    """The recursion of seed 003's fc NTK, written independently (module docs of
    src/kernels/fc.rs): Sigma^1 = x.y/d; Sigma^{h+1} = sqrt(ab)(sin t + (pi - t) cos t)/(2pi);
    dSigma^{h+1} = (pi - t)/(2pi); Theta^{h+1} = Sigma^{h+1} + Theta^h dSigma^{h+1}."""
    d = x1.shape[1]
    s = x1 @ x2.T / d
    a = (x1 * x1).sum(1)[:, None] / d
    b = (x2 * x2).sum(1)[None, :] / d
    ntk = np.zeros_like(s) if (depth == 1 and hidden) else s.copy()
    for layer in range(2, depth + 1):
        nab = np.sqrt(a * b)
        c = np.clip(s / nab, -1, 1)
        t = np.arccos(c)
        s_next = nab * (np.sqrt(1 - c * c) + (np.pi - t) * c) / (2 * np.pi)
        dot = (np.pi - t) / (2 * np.pi)
        own = 0 if (layer == depth and hidden) else s_next
        ntk = own + ntk * dot
        s, a, b = s_next, a / 2, b / 2
    return ntk, s


def test_fc_ntk_and_nngp_match_numpy_recursion(rng):
    x, xt = rng.standard_normal((25, 6)), rng.standard_normal((8, 6))
    for depth in (1, 2, 4):
        ntk, nngp = _fc_numpy(x, xt, depth)
        np.testing.assert_allclose(widenet.fc_ntk(x, xt, depth=depth), ntk, rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(widenet.fc_nngp(x, xt, depth=depth), nngp, rtol=1e-10,
                                   atol=1e-12)
        g_ntk, _ = _fc_numpy(x, x, depth)
        np.testing.assert_allclose(widenet.fc_ntk(x, depth=depth), g_ntk, rtol=1e-6,
                                   atol=1e-7)
    hid, _ = _fc_numpy(x, xt, 3, hidden=True)
    np.testing.assert_allclose(widenet.fc_ntk(x, xt, depth=3, trained="hidden"), hid,
                               rtol=1e-10, atol=1e-12)


def test_gaussian_and_arcsin_match_numpy(rng):
    x, xt = rng.standard_normal((20, 5)), rng.standard_normal((7, 5))
    d2 = ((x[:, None, :] - xt[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(widenet.gaussian(x, xt, bandwidth=3.0), np.exp(-d2 / 3.0),
                               rtol=1e-10, atol=1e-14)
    g = widenet.gaussian(x, bandwidth=2.0)
    np.testing.assert_allclose(np.diag(g), 1.0)
    cos = (x @ xt.T) / np.outer(np.linalg.norm(x, axis=1), np.linalg.norm(xt, axis=1))
    np.testing.assert_allclose(widenet.arcsin(x, xt), np.arcsin(np.clip(cos, -1, 1)),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.diag(widenet.arcsin(x)), np.pi / 2)


def test_empirical_gram_matches_numpy_and_approaches_h_inf(rng):
    x = rng.standard_normal((15, 4))
    w = rng.standard_normal((300, 4))
    p = (w @ x.T >= 0).astype(float)
    ref = (x @ x.T) * (p.T @ p) / w.shape[0]
    np.testing.assert_allclose(widenet.empirical_gram(w, x), ref, rtol=1e-12, atol=1e-12)
    h32 = widenet.empirical_gram(w.astype(np.float32), x.astype(np.float32))
    assert h32.dtype == np.float32
    # H(W) -> H^inf as m grows (seed 001 Lemma 3.1): Monte-Carlo error ~ 1/sqrt(m)
    w_big = rng.standard_normal((40000, 4))
    err = np.abs(widenet.empirical_gram(w_big, x) - h_inf_numpy(x)).max()
    assert err < 0.05 * np.abs(h_inf_numpy(x)).max()


def test_rnn_ntk_bit_identical_to_cli_with_params(cli, rng, tmp_path):
    x = rng.standard_normal((5, 3, 2)) / np.sqrt(2)
    np.save(tmp_path / "x.npy", x)
    for preset in ("wang", "elman"):
        pdir = tmp_path / f"params-{preset}"
        pdir.mkdir()
        cli("kernel", "rnn-ntk", "--preset", preset, "--x", tmp_path / "x.npy", "--width",
            64, "--seed", 3, "--save-params", pdir, "--out", tmp_path / "h.npy")
        h, params = widenet.rnn_ntk(x, preset=preset, width=64, seed=3, return_params=True)
        assert np.array_equal(h, np.load(tmp_path / "h.npy"))
        names = {"w", "a", "b"} | ({"m0"} if preset == "wang" else set())
        assert set(params) == names
        for k, v in params.items():
            assert np.array_equal(v, np.load(pdir / f"{k}.npy")), k
        cli("kernel", "rnn-ntk", "--preset", preset, "--x", tmp_path / "x.npy",
            "--infinite", "--out", tmp_path / "hinf.npy")
        hinf = widenet.rnn_ntk(x, preset=preset)
        assert np.array_equal(hinf, np.load(tmp_path / "hinf.npy"))
        np.testing.assert_allclose(hinf, hinf.T)
        assert np.linalg.eigvalsh(hinf).min() > 0


def test_every_kernel_keeps_float32_inputs_float32(rng):
    # issue 24: relu_ntk and empirical_gram kept float32 while fc_ntk, fc_nngp, gaussian,
    # arcsin and rnn_ntk returned float64. They compute in float64 and round once, so the
    # float32 result is numpy's rounding of the float64 kernel of the same (float32) values.
    x32 = rng.standard_normal((12, 5)).astype(np.float32)
    t32 = rng.standard_normal((7, 5)).astype(np.float32)
    s32 = rng.standard_normal((6, 3, 2)).astype(np.float32)
    s2_32 = rng.standard_normal((4, 3, 2)).astype(np.float32)
    cases = [
        (lambda a, b=None: widenet.fc_ntk(a, b, depth=3), x32, t32),
        (lambda a, b=None: widenet.fc_ntk(a, b, depth=2, trained="hidden"), x32, t32),
        (lambda a, b=None: widenet.fc_nngp(a, b, depth=3), x32, t32),
        (lambda a, b=None: widenet.gaussian(a, b, bandwidth=2.0), x32, t32),
        (lambda a, b=None: widenet.arcsin(a, b), x32, t32),
        (lambda a, b=None: widenet.rnn_ntk(a, b, preset="elman"), s32, s2_32),
        (lambda a, b=None: widenet.rnn_ntk(a, b, preset="wang", width=16, seed=3), s32, s2_32),
    ]
    for f, a, b in cases:
        for args in ((a,), (a, b)):
            got = f(*args)
            want = f(*(v.astype(np.float64) for v in args))
            assert got.dtype == np.float32 and want.dtype == np.float64
            assert np.array_equal(got, want.astype(np.float32))
        # one float64 input: float64, the same values
        mixed = f(a, b.astype(np.float64))
        assert mixed.dtype == np.float64
        assert np.array_equal(mixed, f(a.astype(np.float64), b.astype(np.float64)))
