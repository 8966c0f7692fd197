"""widenet.stax against independent references: neural-tangents' stax in float64 (the
fixtures of tests/fixtures/compose, made by gen_nt.py), the documented dense/ReLU
formulas evaluated in numpy, the hand-written recurrent NTK (widenet.rnn_ntk) for the
recurrent presets, and a Monte Carlo finite RNN for a recurrent NNGP."""

import json
import math

import numpy as np
import pytest

import widenet
from widenet import _widenet, stax

from conftest import ROOT

FIX = ROOT / "tests" / "fixtures" / "compose"


def _max_rel(a, b):
    """max |a − b| relative to the pair's scale √|b_ii b_jj| (or |b_ij| if larger)."""
    d = np.sqrt(np.abs(np.diag(b)))
    scale = np.maximum(np.outer(d, d), np.abs(b))
    return float(np.max(np.abs(a - b) / np.maximum(scale, 1e-300)))


@pytest.fixture(scope="module")
def nt():
    x = np.load(FIX / "x.npy")
    k = np.load(FIX / "nt_kernels.npy")
    specs = json.loads((FIX / "archs.json").read_text())
    assert k.shape == (len(specs), 2, x.shape[0], x.shape[0]) and len(specs) >= 25
    return x, k, specs


def test_neural_tangents_fixtures_through_from_spec(nt):
    x, k, specs = nt
    worst = 0.0
    for a, spec in enumerate(specs):
        net = stax.from_spec(spec)
        assert stax.from_spec(net.spec) == net
        for o, f in enumerate((net.nngp, net.ntk)):
            e = _max_rel(f(x), k[a, o])
            worst = max(worst, e)
            assert e < 1e-10, (spec, o, e)
    print(f"worst relative difference to neural-tangents: {worst:.2e}")


def _rebuilt():
    """Some fixture architectures rebuilt with the Python constructors."""
    D, R = stax.Dense, stax.Relu
    block = stax.serial(D(), R(), D(), stax.Scale(0.5))
    return {
        "serial(dense, relu, dense, relu, dense)": stax.serial(D(), R(), D(), R(), D()),
        "serial(dense(w=1.3, b=0.2), relu, dense(w=1.3, b=0.2), relu, dense(w=1.3, b=0.2))":
            stax.serial(D(1.3, 0.2), R(), D(1.3, 0.2), R(), D(1.3, 0.2)),
        "serial(dense(b=0.5), leaky_relu(alpha=0.1), dense(w=1.5))":
            stax.serial(D(b_std=0.5), stax.LeakyRelu(0.1), D(1.5)),
        "serial(dense, abrelu(a=-0.3, b=1.2), dense, abrelu(a=0.5, b=2.0), dense)":
            stax.serial(D(), stax.ABRelu(-0.3, 1.2), D(), stax.ABRelu(0.5, 2.0), D()),
        "serial(dense(w=1.1, b=0.1), abs, dense)": stax.serial(D(1.1, 0.1), stax.Abs(), D()),
        "serial(dense, sign, dense)": stax.serial(D(), stax.Sign(), D()),
        "serial(dense(b=0.3), erf(a=1.0, b=1.0, c=0.0), dense, erf(a=1.5, b=0.7, c=0.2), dense)":
            stax.serial(D(b_std=0.3), stax.Erf(), D(), stax.Erf(1.5, 0.7, 0.2), D()),
        "serial(dense, gelu, dense(b=0.1), gelu, dense)":
            stax.serial(D(), stax.Gelu(), D(b_std=0.1), stax.Gelu(), D()),
        "serial(dense, sin(a=1.2, b=0.6, c=0.4), dense)":
            stax.serial(D(), stax.Sin(1.2, 0.6, 0.4), D()),
        "serial(dense(w=0.7), cos(a=0.9, b=1.3, c=-0.3), dense)":
            stax.serial(D(0.7), stax.Cos(0.9, 1.3, -0.3), D()),
        "serial(dense(w=0.6), exp(a=0.8, b=0.5), dense)":
            stax.serial(D(0.6), stax.Exp(0.8, 0.5), D()),
        "serial(dense, gaussian(a=1.3, b=-0.4), dense, relu, dense)":
            stax.serial(D(), stax.Gaussian(1.3, -0.4), D(), R(), D()),
        "serial(dense(w=1.2, b=0.3, param=standard, width=64), relu, dense(param=standard, "
        "width=32), relu, dense(param=standard, width=1))":
            stax.serial(D(1.2, 0.3, "standard", width=64), R(),
                        D(parameterization="standard", width=32), R(),
                        D(parameterization="standard", width=1)),
        "serial(dense(trainable=false), relu, dense, relu, dense)":
            stax.serial(D(trainable=False), R(), D(), R(), D()),
        # seed 003's x + α·block, directly and neural-tangents style
        "serial(dense, sum(identity, serial(dense, relu, dense, scale(0.5))), relu, dense)":
            stax.serial(D(), stax.FanInSum(stax.Identity(), block), R(), D()),
        "serial(dense(b=0.1), sum(identity, serial(dense, relu, dense, scale(1.0))), "
        "sum(identity, serial(dense, erf(a=1.0, b=1.0, c=0.0), dense, scale(0.3))), relu, dense)":
            stax.serial(D(b_std=0.1),
                        stax.FanOut(2), stax.parallel(stax.Identity(), stax.serial(D(), R(), D())),
                        stax.FanInSum(),
                        stax.FanInSum(stax.Identity(), stax.serial(D(), stax.Erf(), D()),
                                      scales=[1.0, 0.3]),
                        R(), D()),
        "serial(dense, prod(serial(dense, relu), serial(dense, cos(a=1.0, b=1.0, c=0.0))), dense)":
            stax.serial(D(), stax.FanOut(2),
                        stax.parallel(stax.serial(D(), R()), stax.serial(D(), stax.Cos())),
                        stax.FanInProd(), D()),
        "serial(dense, concat(serial(dense, sin(a=1.0, b=1.0, c=0.0)), serial(dense, "
        "cos(a=1.0, b=1.0, c=0.0))), dense)":
            stax.serial(D(), stax.FanInConcat(stax.serial(D(), stax.Sin()),
                                              stax.serial(D(), stax.Cos())), D()),
    }


def test_python_constructors_build_the_same_kernels(nt):
    x, k, specs = nt
    for spec, net in _rebuilt().items():
        a = specs.index(spec)
        want = stax.from_spec(spec)
        # the scale(1.0) branch of a fixture is the unscaled branch of FanInSum
        if "scale(1.0)" not in spec:
            assert net == want, (spec, net.spec, want.spec)
        assert _max_rel(net.nngp(x), k[a, 0]) < 1e-10, spec
        assert _max_rel(net.ntk(x), k[a, 1]) < 1e-10, spec


def test_documented_dense_relu_formulas():
    """The module docstring's maps, evaluated in numpy for dense(W, b), relu, dense(W, b)
    (arc-cosine kernel of degree 1 for E[relu relu], (π − θ)/(2π) for E[relu' relu'])."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 5)) * rng.uniform(0.5, 2.0, size=(7, 1))
    W, b = 1.7, 0.4
    s0 = x @ x.T / x.shape[1]
    s1 = W**2 * s0 + b**2
    t1 = s1.copy()
    q = np.sqrt(np.outer(np.diag(s1), np.diag(s1)))
    rho = np.clip(s1 / q, -1, 1)
    th = np.arccos(rho)
    np.fill_diagonal(th, 0.0)
    e = q * (np.sin(th) + (np.pi - th) * np.cos(th)) / (2 * np.pi)
    ed = (np.pi - th) / (2 * np.pi)
    s2 = W**2 * e + b**2
    t2 = W**2 * ed * t1 + s2
    net = stax.serial(stax.Dense(W, b), stax.Relu(), stax.Dense(W, b))
    assert _max_rel(net.nngp(x), s2) < 1e-12
    assert _max_rel(net.ntk(x), t2) < 1e-12
    # gram="dot" drops the 1/d
    dot = stax.serial(stax.Dense(W, b), stax.Relu(), stax.Dense(W, b), gram="dot")
    assert dot.spec.startswith("gram=dot; ")
    assert _max_rel(dot.nngp(x / math.sqrt(5)), s2) < 1e-12


def test_cross_kernels():
    rng = np.random.default_rng(2)
    x, x2 = rng.normal(size=(6, 4)), rng.normal(size=(3, 4))
    net = stax.serial(stax.Dense(1.2, 0.1), stax.Erf(), stax.Dense())
    full = net.ntk(np.vstack([x, x2]))
    assert _max_rel(net.ntk(x, x), net.ntk(x)) < 1e-14
    c = net.ntk(x, x2)
    assert c.shape == (6, 3)
    assert np.max(np.abs(c - full[:6, 6:])) <= 1e-14 * np.max(np.abs(full))


def test_float32_inputs_take_the_f32_path():
    # float32 inputs: a float32 kernel (an f32 GEMM, the maps in float64), within
    # the f32 inner products' rounding of the float64 kernel of the same values
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 20)).astype(np.float32)
    x2 = rng.normal(size=(7, 20)).astype(np.float32)
    net = stax.serial(stax.Dense(1.0, 0.1), stax.Relu(), stax.Dense(1.0), stax.Relu(),
                      stax.Dense(1.0))
    k32, k64 = net.ntk(x), net.ntk(x.astype(np.float64))
    assert k32.dtype == np.float32 and k64.dtype == np.float64
    assert np.array_equal(k32, k32.T)
    assert _max_rel(k32.astype(np.float64), k64) < 2e-6
    c32 = net.ntk(x, x2)
    assert c32.dtype == np.float32
    assert np.array_equal(c32, net.ntk(x.astype(np.float64), x2.astype(np.float64))
                          .astype(np.float32))
    # a float64 partner keeps the float64 kernel
    assert net.ntk(x, x2.astype(np.float64)).dtype == np.float64


@pytest.mark.parametrize("preset", ["elman", "wang"])
def test_recurrent_presets_equal_rnn_ntk(preset):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(9, 5, 3))
    net = stax.rnn_preset(preset, 5)
    assert net.seq_len == 5 and stax.from_spec(net.spec) == net
    want = widenet.rnn_ntk(x, preset=preset)
    e = _max_rel(net.ntk(x), want)
    assert e < 1e-14, e
    x2 = rng.normal(size=(4, 5, 3))
    want2 = widenet.rnn_ntk(x, x2, preset=preset)
    assert np.max(np.abs(net.ntk(x, x2) - want2)) <= 1e-13 * np.max(np.abs(want2))
    # the same net from the constructors
    L = 5
    a = math.sqrt(2.0) if preset == "elman" else math.sqrt(2.0 / L**3)
    h0 = 0.0 if preset == "elman" else math.sqrt(2.0)
    built = stax.serial(stax.Rnn(stax.Relu(), L, W_std=math.sqrt(2.0), A_std=a, h0_std=h0,
                                 train_A=False, train_b=False),
                        stax.Dense(math.sqrt(0.5), trainable=False), gram="dot")
    assert built == net, (built.spec, net.spec)


def test_recurrent_nngp_against_a_finite_network():
    """Monte Carlo: the state covariance h_L·h_L'/m of erf RNNs of width m (numpy, 200
    independent draws) against the infinite-width NNGP, within 4 standard errors plus
    1/m (the finite-width bias). The per-draw fluctuation is O(1/√m); the estimate is
    unbiased to O(1/m), and W_std off by 0.05 already fails (checked by hand)."""
    rng = np.random.default_rng(4)
    n, L, d, m, draws = 4, 3, 2, 250, 200
    x = rng.normal(size=(n, L, d))
    w, a, b, h0 = 1.3, 0.9, 0.3, 0.8
    net = stax.serial(stax.Rnn(stax.Erf(), L, W_std=w, A_std=a, b_std=b, h0_std=h0))
    want = net.nngp(x)  # the state covariance E[h_i h_j] per unit
    from scipy.special import erf
    ks = []
    for _ in range(draws):
        W = rng.normal(size=(m, m))
        A = rng.normal(size=(m, d))
        beta = rng.normal(size=m)
        h = np.tile(erf(h0 * rng.normal(size=m)), (n, 1))  # h_0 = erf(M_0), one vector
        for t in range(L):
            h = erf(w * h @ W.T / math.sqrt(m) + a * x[:, t] @ A.T / math.sqrt(d) + b * beta)
        ks.append(h @ h.T / m)
    est = np.mean(ks, axis=0)
    se = np.std(ks, axis=0, ddof=1) / math.sqrt(draws)
    err = np.abs(est - want)
    assert np.all(err <= 4 * se + 1.0 / m), (err, se)


def _finite_rnn_all(x, w, a, b, h0, m, rng):
    """One finite erf RNN of width m (numpy): the state covariances h_{i,t}·h_{j,u}/m and
    the empirical NTK of f_{i,t} = v·h_{i,t}/√m with respect to W alone, by
    backpropagation through time, both n x L x n x L."""
    from scipy.special import erf
    n, L, d = x.shape
    W, A = rng.normal(size=(m, m)), rng.normal(size=(m, d))
    beta, v = rng.normal(size=m), rng.normal(size=m)
    h = np.tile(erf(h0 * rng.normal(size=m)), (n, 1))
    hs, gs = [h], []
    for t in range(L):
        g = w * h @ W.T / math.sqrt(m) + a * x[:, t] @ A.T / math.sqrt(d) + b * beta
        h = erf(g)
        gs.append(g)
        hs.append(h)
    H = np.stack(hs[1:], axis=1)
    K = np.einsum("itk,juk->itju", H, H) / m
    dphi = [2 / math.sqrt(math.pi) * np.exp(-g**2) for g in gs]
    G = np.zeros((n, L, m, m))  # ∂f_{i,t}/∂W = Σ_l (w/√m) δ_l h_{l−1}ᵀ
    for t in range(L):
        delta = dphi[t] * v / math.sqrt(m)
        for l in range(t, -1, -1):
            G[:, t] += (w / math.sqrt(m)) * np.einsum("ik,il->ikl", delta, hs[l])
            if l > 0:
                delta = dphi[l - 1] * ((w / math.sqrt(m)) * delta @ W)
    return K, np.einsum("itkl,jukl->itju", G, G)


def test_readout_all_against_finite_networks():
    """Monte Carlo: the NNGP and the W-only NTK over (sequence, step) pairs, cross-time
    entries included, of 150 finite erf RNNs of width 250 against readout="all"'s
    kernels, within 4 standard errors plus 1/m. W_std off by 0.05 fails both
    (5.6 and 8.4 standard errors, checked by hand)."""
    rng = np.random.default_rng(6)
    n, L, d, m, draws = 3, 3, 2, 250, 150
    x = rng.normal(size=(n, L, d))
    w, a, b, h0 = 1.2, 0.9, 0.3, 0.7
    net = stax.serial(stax.Rnn(stax.Erf(), L, W_std=w, A_std=a, b_std=b, h0_std=h0,
                               train_A=False, train_b=False, readout="all"),
                      stax.Dense(trainable=False))
    assert net.readout_all and "readout=all" in net.spec
    ks, ts = zip(*(_finite_rnn_all(x, w, a, b, h0, m, rng) for _ in range(draws)))
    for name, samples, want in (("nngp", ks, net.nngp(x)), ("ntk", ts, net.ntk(x))):
        assert want.shape == (n, L, n, L)
        est = np.mean(samples, axis=0)
        se = np.std(samples, axis=0, ddof=1) / math.sqrt(draws)
        err = np.abs(est - want)
        assert np.all(err <= 4 * se + 1.0 / m), (name, err.max(), se.max())
    # the last step of readout="all" is readout="last"
    last = stax.serial(stax.Rnn(stax.Erf(), L, W_std=w, A_std=a, b_std=b, h0_std=h0,
                                train_A=False, train_b=False), stax.Dense(trainable=False))
    assert _max_rel(net.ntk(x)[:, -1, :, -1], last.ntk(x)) < 1e-13
    x2 = rng.normal(size=(2, L, d))
    assert net.ntk(x, x2).shape == (n, L, 2, L)


def test_expression_activations_report_their_accuracy():
    """Activation("erf(z)") by quadrature against the closed form Erf(): the reported
    accuracy (change at twice the nodes) tracks the actual error (within 2x at 48
    nodes, where it is 1.1e-5: erf' = (2/√π)e^{−z²} is hard for Hermite nodes at
    variance ~1), and with 4 nodes both are larger."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 4))
    closed = stax.serial(stax.Dense(b_std=0.2), stax.Erf(), stax.Dense())
    assert closed.quadrature_accuracy(x) is None
    want = closed.ntk(x)
    errs, reported = [], []
    for nodes in (4, 48):
        net = stax.serial(stax.Dense(b_std=0.2), stax.Activation("erf(z)", nodes=nodes),
                          stax.Dense())
        errs.append(_max_rel(net.ntk(x), want))
        reported.append(net.quadrature_accuracy(x))
    assert errs[1] < 1e-4 and 0.5 <= reported[1] / errs[1] <= 2.0, (errs, reported)
    assert errs[0] > 10 * errs[1] and reported[0] > 10 * reported[1], (errs, reported)


def test_bad_specs_name_the_layer_and_field():
    with pytest.raises(ValueError, match=r"layer 2 'bogus'|layer 2: unknown layer 'bogus'"):
        stax.from_spec("dense, bogus")
    with pytest.raises(ValueError, match=r"layer 1 'dense': field 'w'.*negative"):
        stax.from_spec("dense(w=-1)")
    with pytest.raises(ValueError, match=r"stax.Dense.*field 'w'.*negative.*W_std"):
        stax.Dense(-1.0)
    with pytest.raises(ValueError, match=r"stax.Erf.*field 'b'.*number"):
        stax.Erf(b=float("nan"))
    with pytest.raises(ValueError, match=r"stax.Activation.*'expr'.*field 'src'"):
        stax.Activation("tanh(")
    with pytest.raises(ValueError, match=r"parameterization"):
        stax.Dense(parameterization="mean-field")
    with pytest.raises(ValueError, match=r"layer 1 'rnn': field 'len'"):
        stax.from_spec("rnn(relu)")
    with pytest.raises(ValueError, match=r"layer 1 'rnn': field 'readout'"):
        stax.from_spec("rnn(relu, len=2, readout=first)")
    with pytest.raises(ValueError, match=r"stax.Rnn: invalid readout"):
        stax.Rnn(stax.Relu(), 2, readout="first")
    with pytest.raises(ValueError, match=r"layer 2 'rnn'.*first layer"):
        stax.from_spec("dense, rnn(relu, len=2)").ntk(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"FanOut\(2\)"):
        stax.serial(stax.FanOut(2), stax.parallel(stax.Identity()), stax.FanInSum())
    with pytest.raises(ValueError, match=r"gram"):
        stax.serial(stax.serial(stax.Dense(), gram="dot"), stax.Relu())


def test_sequence_inputs_need_a_recurrent_net():
    x = np.ones((3, 4, 2))
    with pytest.raises(ValueError, match=r"x: sequence inputs .*recurrent"):
        stax.serial(stax.Dense(), stax.Relu()).ntk(x)
    net = stax.Rnn(stax.Relu(), 5)
    with pytest.raises(ValueError, match=r"L = 4.*len = 5"):
        net.ntk(x)
    with pytest.raises(ValueError, match=r"x2: sequence inputs"):
        stax.Dense().ntk(np.ones((3, 2)), x)
    # n x (L·d) rows are the flattened sequences
    y = np.random.default_rng(5).normal(size=(3, 5, 2))
    assert np.array_equal(net.ntk(y), net.ntk(y.reshape(3, 10)))


def test_finite_network_of_a_stax_net_tends_to_its_kernel():
    """Net.init/apply/empirical_ntk/train_gd on the finite network of the same
    architecture: the empirical NTK averaged over seeds approaches Net.ntk as the width
    grows (Monte Carlo, the error falling with m), apply is the readout, and the GD loss
    history starts at the loss of apply's outputs and falls."""
    net = stax.serial(stax.Dense(b_std=0.1), stax.Relu(), stax.Dense(W_std=1.5), stax.Erf(),
                      stax.Dense())
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3))
    theta = net.ntk(x)
    errs = []
    for m in (32, 2048):
        emp = np.mean([net.empirical_ntk(net.init(s, m, 3), x) for s in range(6)], axis=0)
        errs.append(np.abs(emp - theta).max() / np.abs(theta).max())
    assert errs[1] < 0.05 and errs[1] < errs[0] / 2, errs
    params = net.init(1, 64, 3)
    f = net.apply(params, x)
    assert f.shape == (5,)
    y = np.sign(rng.normal(size=5))
    new, loss = net.train_gd(params, x, y, eta=0.1, steps=20)
    assert loss.shape == (21,)
    assert loss[0] == pytest.approx(0.5 * np.sum((f - y) ** 2), rel=1e-12)
    assert loss[-1] < loss[0]
    assert loss[-1] == pytest.approx(0.5 * np.sum((net.apply(new, x) - y) ** 2), rel=1e-12)
    with pytest.raises(ValueError, match="width"):
        net.init(0, 0, 3)
