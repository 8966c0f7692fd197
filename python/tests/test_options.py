"""Option values from Python (issue 24: one convention for option enums): an unknown
value raises a ValueError that names the keyword argument as the caller wrote it and
lists every accepted value (the library's one FromStr, as the CLI uses), and the
documented spellings are accepted."""

import numpy as np
import pytest

import widenet


def _x(n=6, d=3, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _expect(call, keyword, accepted):
    with pytest.raises(ValueError) as e:
        call()
    msg = str(e.value)
    assert msg.startswith(f"invalid {keyword}: 'bogus'"), msg
    for v in accepted:
        assert v in msg, (v, msg)
    assert "--" not in msg, msg  # Python's keyword, not a CLI flag


def test_unknown_option_values_name_the_keyword_and_list_the_accepted_ones():
    x = _x()
    y = np.array([1.0, -1, 1, -1, 1, -1])
    k = widenet.relu_ntk(x)
    _expect(lambda: widenet.relu_ntk(x, precision="bogus"), "precision", ["f32", "f64"])
    _expect(lambda: widenet.fc_ntk(x, depth=2, trained="bogus"), "trained", ["all", "hidden"])
    _expect(lambda: widenet.analyze_large(x, y, path="bogus"), "path",
            ["dense", "f32", "matrix-free"])
    _expect(lambda: widenet.analyze_large(x, y, precond="bogus"), "precond",
            ["auto", "cholesky", "spectral-cg"])
    _expect(lambda: widenet.predict(k, y, mode="bogus"), "mode", ["gd", "ensemble", "gp"])
    _expect(lambda: widenet.predict(k, y, schedule="bogus"), "schedule", ["flow", "steps"])
    _expect(lambda: widenet.predict(k, y, loss_norm="bogus"), "loss_norm", ["mean", "sum"])
    _expect(lambda: widenet.train_resnet(x, y, learner="bogus", width=4, lr=0.1, epochs=1),
            "learner", ["3resnet", "3layer", "2layer", "last", "ntk"])


def test_documented_spellings_are_accepted_alike():
    x = _x()
    # precision: the CLI's f32/f64 and numpy's float32/float64 name the same computation
    a = widenet.relu_ntk(x, precision="float64")
    b = widenet.relu_ntk(x, precision="f64")
    assert a.dtype == b.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    c = widenet.relu_ntk(x.astype(np.float32), precision="float32")
    assert c.dtype == np.float32
    # trained: "all" equals the default
    np.testing.assert_array_equal(widenet.fc_ntk(x, depth=2, trained="all"),
                                  widenet.fc_ntk(x, depth=2))


def test_the_remaining_string_options_name_their_keyword():
    _expect(lambda: widenet.complexity("exp", measure="bogus"), "measure",
            ["C", "CN", "ceps", "cs", "cs1", "arora"])
    _expect(lambda: widenet.rnn_concept(5, len=2, d=2, kind="bogus"), "kind",
            ["additive", "n-variable"])
    _expect(lambda: widenet.resnet_target("bogus", 4), "name", ["fig2", "thm2", "fig3"])
    # the measure's documented spellings: case and underscores ignored, cs1 = seed 003's c_s
    a = widenet.complexity("exp", measure="C_N", R=1.0, N=2, L=3)
    b = widenet.complexity("exp", measure="cn", R=1.0, N=2, L=3)
    assert a.value == b.value and a.measure == b.measure == "CN"
    c = widenet.complexity("exp", measure="cs1", R=0.5)
    # c_s = C* sum_{i>=1} (i+1) R^i / i! of "exp" (e^z - 1): C* ((1 + R) e^R - 1)
    assert c.details["cs_exponent"] == 1.0
    np.testing.assert_allclose(c.value, c.details["C_star"] * (1.5 * np.exp(0.5) - 1),
                               rtol=1e-10)
    # positions belong to the n-variable concept only
    with pytest.raises(ValueError, match="invalid positions"):
        widenet.rnn_concept(5, len=2, d=2, kind="additive", positions=[1, 2])
