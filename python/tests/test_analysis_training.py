"""Analysis, training, KRR, complexity, data and reproduce against numpy and the CLI."""
import gzip
import struct

import numpy as np
import pytest

import widenet
from conftest import h_inf_numpy, read_json


def _data(rng, n=30, d=6):
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.sign(rng.standard_normal(n))
    return x, y


def test_analyze_matches_numpy_eigh(rng):
    x, y = _data(rng)
    eta, steps = 0.1, 50
    a = widenet.analyze(x, y, eta=eta, steps=steps)
    h = h_inf_numpy(x)
    lam, v = np.linalg.eigh(h)
    lam, v = lam[::-1], v[:, ::-1]
    np.testing.assert_allclose(a.eigenvalues, lam, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.projections, np.abs(v.T @ y), rtol=1e-6, atol=1e-9)
    q = y @ np.linalg.solve(h, y)
    assert a.y_hinv_y == pytest.approx(q, rel=1e-8)
    assert a.complexity_measure == pytest.approx(np.sqrt(2 * q / len(y)), rel=1e-8)
    assert a.theorem_5_1_explicit == pytest.approx(a.complexity_measure, rel=1e-14)
    k = np.arange(steps + 1)[:, None]
    pred = 0.5 * (((1 - eta * lam) ** (2 * k)) * (v.T @ y) ** 2).sum(1)
    np.testing.assert_allclose(a.predicted_loss, pred, rtol=1e-8)
    assert a.max_stable_eta == pytest.approx(2 / lam[0], rel=1e-10)
    assert a.n == 30 and "eigenvalues=array(shape=(30,)" in repr(a)
    assert set(a.to_dict()) >= {"eigenvalues", "projections", "predicted_loss", "y_hinv_y"}


def test_analyze_bit_identical_to_cli(cli, rng, tmp_path):
    x, y = _data(rng, n=25)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    cli("analyze", "--x", tmp_path / "x.npy", "--y", tmp_path / "y.npy", "--eta", 0.05,
        "--steps", 20, "--out", tmp_path / "a.json")
    want = read_json(tmp_path / "a.json")
    a = widenet.analyze(x, y, eta=0.05, steps=20)
    for k in ("eigenvalues", "projections", "predicted_loss"):
        assert np.array_equal(getattr(a, k), np.array(want[k])), k
    assert a.y_hinv_y == want["y_hinv_y"]
    assert a.complexity_measure == want["complexity_measure"]
    # one schema: `widenet analyze` writes the fields of widenet.LargeAnalysis on the exact
    # path as on the large-n paths, so the typed class reads either file
    assert set(want) == set(widenet.LargeAnalysis.__dataclass_fields__)
    assert want["path"] == "exact" and want["tol"] is None
    cli("analyze", "--x", tmp_path / "x.npy", "--y", tmp_path / "y.npy", "--eta", 0.05,
        "--steps", 20, "--path", "dense", "--top-k", 5, "--out", tmp_path / "l.json")
    large = read_json(tmp_path / "l.json")
    assert set(large) == set(want) and large["path"] == "dense"
    np.testing.assert_allclose(large["y_hinv_y"], want["y_hinv_y"], rtol=1e-8)


def test_analyze_large_warns_like_analyze(rng):
    x, y = _data(rng, n=25)
    y01 = (y + 1) / 2
    with pytest.warns(UserWarning, match=r"\{0, 1\}"):
        r = widenet.analyze_large(x, y01, path="dense", top_k=5)
    assert any("{0, 1}" in w for w in r.warnings)
    lmax = np.linalg.eigvalsh(h_inf_numpy(x))[-1]
    with pytest.warns(UserWarning, match="2/lambda_max"):
        r = widenet.analyze_large(x, y, path="dense", top_k=5, eta=3.0 / lmax)
    assert r.max_stable_eta == pytest.approx(2 / lmax, rel=1e-10)


def test_analyze_large_takes_analyze_argument_order(rng):
    x, y = _data(rng, n=30)
    a = widenet.analyze(x, y, eta=0.1, steps=10)
    b = widenet.analyze_large(x, y, path="dense", top_k=30, eta=0.1, steps=10)
    np.testing.assert_allclose(b.eigenvalues, a.eigenvalues, rtol=1e-10)
    np.testing.assert_allclose(b.y_hinv_y, a.y_hinv_y, rtol=1e-9)
    # the old order still answers the same, with a FutureWarning that names the new one
    with pytest.warns(FutureWarning, match=r"analyze_large\(x, y\)"):
        c = widenet.analyze_large(y, x, path="dense", top_k=30, eta=0.1, steps=10)
    assert np.array_equal(c.eigenvalues, b.eigenvalues)
    with pytest.raises(ValueError, match="y"):
        widenet.analyze_large(x)


def _gd_numpy(x, y, w0, a, eta, steps):
    """Seed 001 eq. 6 replayed in numpy: f = a.relu(W x)/sqrt(m), Phi = 1/2 ||u - y||^2,
    dPhi/dw_r = (1/sqrt m) a_r sum_i (u_i - y_i) 1{w_r.x_i >= 0} x_i."""
    w = w0.copy()
    m = w.shape[0]
    losses = []
    for k in range(steps + 1):
        p = w @ x.T
        u = a @ np.maximum(p, 0) / np.sqrt(m)
        losses.append(0.5 * ((u - y) ** 2).sum())
        if k == steps:
            break
        s = (a[:, None] * (p >= 0)) * (u - y)[None, :] / np.sqrt(m)
        w = w - eta * s @ x
    return np.array(losses), w, u


def test_train_two_layer_replayed_in_numpy(rng):
    x, y = _data(rng, n=20, d=5)
    xt, yt = _data(rng, n=10, d=5)
    r = widenet.train_two_layer(x, y, x_test=xt, y_test=yt, width=64, kappa=1.0, eta=0.05,
                                steps=40, seed=7, precision="f64")
    assert r.iterations == 40 and r.stop == "iteration_limit"
    assert r.w0.shape == (64, 5) and r.w.shape == (64, 5) and r.a.shape == (64,)
    assert set(np.unique(r.a)) <= {-1.0, 1.0}
    loss, w, u = _gd_numpy(x, y, r.w0, r.a, 0.05, 40)
    np.testing.assert_allclose(r.loss, loss, rtol=1e-9)
    np.testing.assert_allclose(r.w, w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r.train_predictions, u, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r.w_dist_fro[-1], np.linalg.norm(w - r.w0), rtol=1e-9)
    # test metrics: l1 and 0-1 error of the final net on the test set
    ut = r.a @ np.maximum(r.w @ xt.T, 0) / 8.0
    assert r.test_l1[-1] == pytest.approx(np.abs(ut - yt).mean(), rel=1e-9)
    assert r.test_error[-1] == pytest.approx((np.sign(ut) != yt).mean())
    assert len(r.test_iteration) == 41 and r.loss[-1] < r.loss[0]


def test_train_two_layer_bit_identical_to_cli(cli, rng, tmp_path):
    x, y = _data(rng, n=16, d=4)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    cli("train", "two-layer", "--x", tmp_path / "x.npy", "--y", tmp_path / "y.npy",
        "--width", 100, "--kappa", 0.5, "--eta", 0.02, "--steps", 25, "--seed", 4,
        "--out", tmp_path / "run")
    r = widenet.train_two_layer(x, y, width=100, kappa=0.5, eta=0.02, steps=25, seed=4)
    m = read_json(tmp_path / "run" / "metrics.json")
    assert r.w0.dtype == np.float32              # the CLI's default precision
    assert np.array_equal(r.w0, np.load(tmp_path / "run" / "w0.npy"))
    assert np.array_equal(r.w, np.load(tmp_path / "run" / "w.npy"))
    assert np.array_equal(r.a, np.load(tmp_path / "run" / "a.npy"))
    assert np.array_equal(r.loss, np.array(m["loss"]))


def test_krr_matches_numpy_solve(rng):
    x, y = _data(rng, n=25)
    xt, _ = _data(rng, n=6)
    k, kt = widenet.relu_ntk(x), widenet.relu_ntk(xt, x)
    lam = 1e-3
    r = widenet.krr(k, y, lam=lam, k_test=kt)
    beta = np.linalg.solve(k + lam * len(y) * np.eye(len(y)), y)
    np.testing.assert_allclose(r.beta[:, 0], beta, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(r.predictions[:, 0], kt @ beta, rtol=1e-8, atol=1e-10)
    assert widenet.krr(k, np.stack([y, -y], 1), lam=lam).beta.shape == (25, 2)


def test_complexity_matches_cli(cli):
    for f, args in [("arctan(z/2)", ["--measure", "C", "--R", "1"]),
                    ("exp(2z)", ["--measure", "CN", "--R", "0.5", "--N", "2", "--L", "10"]),
                    ("sin", ["--measure", "ceps", "--R", "1e-4", "--eps", "0.01"]),
                    ("poly:0,1,0.5", ["--measure", "arora", "--R", "1"])]:
        import json
        want = json.loads(cli("complexity", f, *args, "--json"))
        kw = {"measure": args[1], "R": float(args[3])}
        rest = dict(zip(args[4::2], args[5::2]))
        if "--N" in rest:
            kw["N"] = int(rest["--N"])
        if "--L" in rest:
            kw["L"] = int(rest["--L"])
        if "--eps" in rest:
            kw["eps"] = float(rest["--eps"])
        c = widenet.complexity(f, **kw)
        wv = float("inf") if want["value"] == "inf" else want["value"]
        assert c.value == wv and c.finite == want["finite"], f
        assert c.equation == want["equation"] and c.measure == want["measure"]


def test_complexity_of_a_polynomial_is_finite_and_exp_grows():
    # C(f, R) is increasing in R for a series with positive coefficients
    a = widenet.complexity("exp", measure="C", R=0.5)
    b = widenet.complexity("exp", measure="C", R=1.0)
    assert a.finite and b.finite and b.value > a.value
    assert "Complexity(" in repr(a) and a.to_dict()["measure"] == "C"


def _write_idx(path, images, labels_path, labels):
    n, r, c = images.shape
    with gzip.open(str(path) + ".gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, r, c) + images.astype(np.uint8).tobytes())
    with open(labels_path, "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + labels.astype(np.uint8).tobytes())


def test_load_mnist_from_tiny_idx_files(cli, rng, tmp_path):
    imgs = rng.integers(0, 256, size=(12, 28, 28))
    labels = np.array([0, 1, 2, 1, 0, 3, 1, 0, 0, 1, 2, 0])
    _write_idx(tmp_path / "train-images-idx3-ubyte", imgs,
               tmp_path / "train-labels-idx1-ubyte", labels)
    x, y = widenet.load_mnist(tmp_path, classes=(1, 0))
    keep = (labels == 0) | (labels == 1)
    ref = imgs[keep].reshape(keep.sum(), -1).astype(float)
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(x, ref, rtol=1e-12)
    np.testing.assert_array_equal(y, np.where(labels[keep] == 1, 1.0, -1.0))
    cli("data", "mnist", "--dir", tmp_path, "--classes", "1,0", "--out-x", tmp_path / "x.npy",
        "--out-y", tmp_path / "y.npy")
    assert np.array_equal(x, np.load(tmp_path / "x.npy"))
    assert np.array_equal(y, np.load(tmp_path / "y.npy"))
    x3, _ = widenet.load_mnist(tmp_path, classes=(1, 0), limit=3)
    assert x3.shape == (3, 784)


def test_synthetic_generators():
    x, y = widenet.two_class_structured(40, 10, seed=2)
    assert x.shape == (40, 10) and set(np.unique(y)) == {-1.0, 1.0}
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0)
    x2, y2 = widenet.two_class_structured(40, 10, seed=2)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    s = widenet.unit_sphere(2000, 3, seed=1)
    np.testing.assert_allclose(np.linalg.norm(s, axis=1), 1.0)
    assert np.abs(s.mean(0)).max() < 0.08          # uniform on the sphere: mean ~ 0
    np.testing.assert_allclose(s.T @ s / 2000, np.eye(3) / 3, atol=0.05)


def test_reproduce_writes_the_cli_files_and_claims(cli, tmp_path):
    r = widenet.reproduce("complexity-examples", out=tmp_path / "py")
    cli("reproduce", "complexity-examples", "--out", tmp_path / "cli")
    want = read_json(tmp_path / "cli" / "complexity-examples" / "result.json")
    assert r.claims == want["claims"] and len(r.claims) > 0
    assert r.settings == want["settings"]
    assert (tmp_path / "py" / "complexity-examples" / "report.html").exists()
    assert r.result_path.endswith("result.json") and "complexity-examples" in r.table
    assert isinstance(r.all_held, bool)
    assert "complexity-examples" in widenet.EXPERIMENTS
    for c in r.claims:
        assert c["verdict"] in ("held", "not_held", "inconclusive")
        assert c["paper"]["seed"] in ("001", "002", "003", "004")


def test_reproduce_settings_go_through_the_cli_mechanism(cli, tmp_path):
    # the same settings by keyword and by --set give the same run, bit for bit
    s = widenet.experiment_settings("arora-sec6", sizes=[30, 60], d=3)
    assert s["sizes"] == [30, 60] and s["d"] == 3 and s["scale"] == "quick"
    assert widenet.experiment_settings("arora-sec6", scale="paper")["sizes"][0] == 250
    r = widenet.reproduce("arora-sec6", out=tmp_path / "py", sizes=[30, 60], d=3)
    cli("reproduce", "arora-sec6", "--out", tmp_path / "cli", "--set", "sizes=30,60",
        "--set", "d=3")
    want = read_json(tmp_path / "cli" / "arora-sec6" / "result.json")
    assert r.settings == want["settings"] == s
    assert r.results == want["results"] and r.claims == want["claims"]
    # rejudge recomputes the same table from the saved result
    table = widenet.rejudge(tmp_path / "py" / "arora-sec6", write=False)
    assert "arora-sec6" in table and "claims:" in table


def _rnn_numpy_step(x, y, p, eta):
    """One full-batch gradient step on W of seed 004's RNN in numpy (BPTT written out):
    h_0 = relu(m0), g_l = A x_l + W h_{l-1}, h_l = relu(g_l), f = b.h_L,
    objective = mean_i log(1 + exp(-y_i f_i)) (eq. 16)."""
    w, a, b = p["w0"], p["a"], p["b"]
    n, L, _ = x.shape
    hs = [np.tile(np.maximum(p["m0"], 0), (n, 1))]
    gs = []
    for l in range(L):
        g = x[:, l, :] @ a.T + hs[-1] @ w.T
        gs.append(g)
        hs.append(np.maximum(g, 0))
    f = hs[-1] @ b
    obj = np.mean(np.log1p(np.exp(-y * f)))
    df = -y / (1 + np.exp(y * f)) / n
    dh = np.outer(df, b)
    grad = np.zeros_like(w)
    for l in range(L - 1, -1, -1):
        dg = dh * (gs[l] > 0)
        grad += dg.T @ hs[l]
        dh = dg @ w
    return obj, w - eta * grad


def test_train_rnn_full_batch_step_replayed_in_numpy(rng):
    n, L, d, m = 12, 4, 3, 32
    x = rng.standard_normal((n, L, d)) / np.sqrt(d)
    y = np.sign(rng.standard_normal(n))
    r = widenet.train_rnn(x, y, preset="wang", width=m, eta=0.5, steps=1, batch=n,
                          eval_every=1, seed=5)
    assert set(r.params) == {"w", "a", "b", "m0"}
    p = dict(r.params, w0=r.w0)
    obj, w1 = _rnn_numpy_step(x, y, p, 0.5)
    assert r.train_objective[0] == pytest.approx(obj, rel=1e-10)
    np.testing.assert_allclose(r.params["w"], w1, rtol=1e-9, atol=1e-12)
    assert r.w_shift_fro == pytest.approx(np.linalg.norm(w1 - r.w0), rel=1e-9)
    # the network drawn is the one rnn_ntk draws from the same seed
    _, p_kernel = widenet.rnn_ntk(x, preset="wang", width=m, seed=5, return_params=True)
    assert np.array_equal(p_kernel["w"], r.w0)
    assert np.array_equal(p_kernel["a"], r.params["a"])
    # training lowers the objective
    long = widenet.train_rnn(x, y, preset="wang", width=m, eta=0.5, steps=60, batch=n,
                             eval_every=20, seed=5, x_test=x, y_test=y)
    assert long.train_objective[-1] < long.train_objective[0]
    assert len(long.test_objective) == len(long.step)


def test_train_resnet_last_replayed_in_numpy(rng):
    """Seed 003's conjugate-kernel learner out(x) = A relu(W(x, 1)) with A trained by
    full-batch SGD with momentum and weight decay, replayed in numpy; W is the random
    first layer that the "2layer" learner of the same seed starts from."""
    n, d, k, m = 30, 4, 2, 16
    x, xt = rng.standard_normal((n, d)), rng.standard_normal((7, d))
    y, yt = rng.standard_normal((n, k)), rng.standard_normal((7, k))
    w = widenet.train_resnet(x, y, learner="2layer", width=m, lr=0.1, epochs=0,
                             seed=3).initial_params[0]
    assert w.shape == (m, d + 1)
    lr, E, mu, wd = 0.2, 3, 0.9, 1e-3
    r = widenet.train_resnet(x, y, learner="last", width=m, lr=lr, epochs=E, batch=n,
                             momentum=mu, weight_decay=wd, seed=3, x_test=xt, y_test=yt)
    feats = lambda z: np.maximum(np.hstack([z, np.ones((len(z), 1))]) @ w.T, 0)
    h = feats(x)
    a = r.initial_params[0].copy()
    buf = np.zeros_like(a)
    losses = []
    for e in range(2 * E):
        out = h @ a.T
        losses.append(0.5 * ((out - y) ** 2).sum() / n)
        grad = ((out - y) / n).T @ h
        buf = mu * buf + grad + wd * a
        a -= (lr if e < E else lr / 10) * buf
    np.testing.assert_allclose(r.train_loss, losses, rtol=1e-9)
    np.testing.assert_allclose(r.params[0], a, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r.lr, [lr] * E + [lr / 10] * E)
    pred = feats(xt) @ a.T
    np.testing.assert_allclose(r.test_predictions, pred, rtol=1e-9, atol=1e-12)
    assert r.final_test_error == pytest.approx(((pred - yt) ** 2).sum(1).mean(), rel=1e-9)
    assert r.test_error[-1] == pytest.approx(r.final_test_error, rel=1e-12)
    with pytest.raises(ValueError, match="invalid learner"):
        widenet.train_resnet(x, y, learner="4resnet", width=m, lr=lr, epochs=1)
    for name in widenet.LEARNERS:      # every learner trains and lowers its training error
        q = widenet.train_resnet(x, y, learner=name, width=m, lr=0.05, epochs=5, batch=10)
        assert q.final_train_error < q.initial_train_error, name


def test_resnet_targets_match_their_formulas():
    x, y, sets = widenet.resnet_target("fig2", 200, seed=1)
    assert x.shape == (200, 30) and y.shape == (200, 8) and len(sets) == 8
    assert set(np.unique(x)) == {-1.0, 1.0}
    f = x[:, 0:16:2] * x[:, 1:16:2]
    g = np.stack([np.prod(f[:, s], axis=1) for s in sets], 1)
    np.testing.assert_array_equal(y, f + 0.3 * g)
    assert all(len(s) == 4 for s in sets)              # degree-4 parities of F
    x, y, (idx,) = widenet.resnet_target("thm2", 100, seed=2, d=16, k=4, alpha=0.5)
    np.testing.assert_allclose(np.abs(x), 0.25)
    f = 4.0 * x[:, idx]
    np.testing.assert_allclose(y, f + 0.5 * np.prod(f, axis=1, keepdims=True), rtol=1e-14)
    x, y, (idx,) = widenet.resnet_target("fig3", 100, seed=3, d=40)
    assert len(set(idx)) == 6
    np.testing.assert_allclose(y[:, 0], 40.0**3 * np.prod(x[:, idx], axis=1), rtol=1e-12)
    np.testing.assert_allclose(np.abs(y), 1.0, rtol=1e-12)
    x2, _, _ = widenet.resnet_target("fig3", 100, seed=4, d=40)
    assert not np.array_equal(x, x2)                   # the seed draws the inputs
    with pytest.raises(ValueError, match="invalid name"):
        widenet.resnet_target("fig9", 10)
    with pytest.raises(ValueError, match="d >= 6"):
        widenet.resnet_target("fig3", 10, d=3)


def test_rnn_concepts_match_eq9_and_eq11_in_numpy():
    c = widenet.rnn_concept(50, len=4, d=3, kind="additive", psi="sin", terms=2,
                            threshold=0.2, c_min=0.5, c_max=2.0, seed=1)
    assert c.x.shape == (50, 4, 3)
    norms = np.linalg.norm(c.x, axis=2)
    assert norms.min() >= 0.5 - 1e-12 and norms.max() <= 2.0 + 1e-12
    f = np.zeros(50)
    for (l,), b in zip(c.positions, c.betas):
        b = np.array(b)
        assert np.linalg.norm(b) == pytest.approx(1.0)
        f += np.sin(c.x[:, l - 1, :] @ b / norms[:, l - 1])
    assert len(c.positions) == 8                      # 2 terms at each of 4 positions
    np.testing.assert_allclose(c.f_raw, f, rtol=1e-12, atol=1e-14)
    assert np.all(np.abs(c.f_raw) >= 0.2)             # Theorem 2's margin after dropping
    np.testing.assert_allclose(c.f_star, c.f_raw / 0.2, rtol=1e-14)
    np.testing.assert_array_equal(c.y, np.sign(c.f_raw))
    assert np.all(c.y * c.f_star >= 1 - 1e-12)
    assert c.drawn == 50 + c.dropped
    v = widenet.rnn_concept(40, len=6, d=2, kind="n-variable", psi="poly:0,1,0.5",
                            terms=3, positions=[2, 5], beta_norm=0.8, threshold=0.05, seed=2)
    xs = np.concatenate([v.x[:, 1, :], v.x[:, 4, :]], axis=1)
    mx = np.maximum(np.linalg.norm(v.x[:, 1, :], axis=1), np.linalg.norm(v.x[:, 4, :], axis=1))
    f = sum((lambda z: z + 0.5 * z * z)(xs @ np.array(b) / (np.sqrt(2) * mx)) for b in v.betas)
    assert all(p == [2, 5] for p in v.positions)
    np.testing.assert_allclose(v.f_raw, f, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="invalid kind"):
        widenet.rnn_concept(5, len=2, d=2, kind="elman")


def test_elman_concept_matches_example_3_5_in_numpy():
    L, dx, d, p = 6, 4, 2, 3
    c = widenet.elman_concept(30, len=L, dx=dx, d=d, p=p, phi="sin", noise_sd=0.1, seed=4)
    assert c.x_star.shape == (30, L - 2, dx) and c.f_star.shape == (30, L - 2, d)
    np.testing.assert_allclose(np.linalg.norm(c.x_star, axis=2), 1.0, rtol=1e-12)
    np.testing.assert_allclose(c.x_star[:, :, -1], 0.5)
    for w in c.w:
        np.testing.assert_allclose(np.linalg.norm(w, axis=1), 1.0)
        np.testing.assert_allclose(w[:, -1], 0.0)
    for j in range(3, L + 1):
        f = sum(np.sin(c.x_star[:, i - 2, :] @ c.w[j - i - 1].T) @ c.a[j - i - 1].T
                for i in range(2, j))
        np.testing.assert_allclose(c.f_star[:, j - 3, :], f, rtol=1e-10, atol=1e-12)
    noise = c.targets - c.f_star
    assert 0.05 < noise.std() < 0.2
    assert c.opt == pytest.approx((L - 2) * d * 0.1**2 / 2)


def test_load_cifar10_from_a_tiny_batch_file(cli, rng, tmp_path):
    labels = np.array([3, 5, 3, 1, 5, 5, 3])
    pixels = rng.integers(0, 256, size=(7, 3072))
    rec = np.concatenate([labels[:, None], pixels], axis=1).astype(np.uint8)
    (tmp_path / "test_batch.bin").write_bytes(rec.tobytes())
    x, y = widenet.load_cifar10(tmp_path, classes=(5, 3), split="test")
    keep = (labels == 3) | (labels == 5)
    ref = pixels[keep].astype(float)
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    np.testing.assert_allclose(x, ref, rtol=1e-12)
    np.testing.assert_array_equal(y, np.where(labels[keep] == 5, 1.0, -1.0))
    cli("data", "cifar10", "--dir", tmp_path, "--classes", "5,3", "--split", "test",
        "--out-x", tmp_path / "x.npy", "--out-y", tmp_path / "y.npy")
    assert np.array_equal(x, np.load(tmp_path / "x.npy"))
    assert np.array_equal(y, np.load(tmp_path / "y.npy"))
    with pytest.raises(ValueError, match="invalid split"):
        widenet.load_cifar10(tmp_path, split="val")


def test_poly_target_and_corollary_6_2(rng):
    x = widenet.unit_sphere(300, 5, seed=3)
    y, betas, bound = widenet.poly_target(x, [(1.0, 1), (0.5, 2)], seed=1)
    b1, b2 = np.array(betas[0]), np.array(betas[1])
    np.testing.assert_allclose([np.linalg.norm(b1), np.linalg.norm(b2)], 1.0)
    np.testing.assert_allclose(y, x @ b1 + 0.5 * (x @ b2) ** 2, rtol=1e-12, atol=1e-14)
    assert bound == pytest.approx(3 * (1 * 1.0 + 2 * 0.5))
    # the bound holds for the measured y^T (H^inf)^-1 y (seed 001 Corollary 6.2)
    a = widenet.analyze(x, y, eta=1e-3, steps=1)
    assert np.sqrt(a.y_hinv_y) <= bound
    assert widenet.poly_target(x, [(1.0, 3)])[2] is None    # odd p > 1: no bound


def test_iters_is_the_deprecated_name_of_steps(rng):
    # issue 24: one name (steps) for a count of gradient steps in every function;
    # iters= still works, with a DeprecationWarning, and gives the same result
    x = rng.standard_normal((12, 3))
    y = np.sign(rng.standard_normal(12))
    a = widenet.analyze(x, y, eta=0.1, steps=7)
    with pytest.warns(DeprecationWarning, match="steps="):
        b = widenet.analyze(x, y, eta=0.1, iters=7)
    assert np.array_equal(a.predicted_loss, b.predicted_loss) and len(a.predicted_loss) == 8
    with pytest.warns(DeprecationWarning):
        c = widenet.analyze_large(x, y, eta=0.1, iters=7, path="dense", top_k=4)
    assert len(c.predicted_loss) == 8
    r = widenet.train_two_layer(x, y, eta=0.01, steps=3, width=20, seed=1)
    with pytest.warns(DeprecationWarning):
        r2 = widenet.train_two_layer(x, y, eta=0.01, iters=3, width=20, seed=1)
    assert np.array_equal(r.loss, r2.loss) and len(r.loss) == 4
    with pytest.raises(TypeError, match="steps= only"):
        widenet.analyze(x, y, eta=0.1, steps=7, iters=7)
    with pytest.raises(TypeError, match="steps"):
        widenet.analyze(x, y, eta=0.1)
