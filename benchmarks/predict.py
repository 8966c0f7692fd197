"""Dense infinite-width predictions: widenet against neural-tangents on the same arrays.

MNIST (the first N training images of shared/data/mnist, 10 one-hot outputs centred by
-0.1, and N_TEST test images), the fc ReLU NTK and NNGP of depth 3 (widenet.fc_ntk /
fc_nngp, f64, computed once and not timed), and T times including infinity. Timed in the
same run on the same arrays:

- widenet.predict(mode="ensemble") (one eigendecomposition of the NTK, reused for every t)
- neural_tangents.predict.gradient_descent_mse_ensemble (get="ntk", float64), fed the same
  arrays through a kernel_fn that looks them up by index;

both with compute_cov (the full test covariance) and for the mean alone. Prints JSON with
the seconds, the ratios nt/widenet and the largest difference between the two results.

Each variant runs --repeats rounds, widenet then neural-tangents, alternating, and the ratio
of each round is reported (quote ratios only: the machine may be shared). --nt-accuracy N
also measures neural-tangents' test accuracy at t = inf (its own stax fc ReLU NTK, depth 3,
all 10,000 test images) on the first N training images next to widenet's fc_ntk.

    python benchmarks/predict.py --n 5000 --n-test 1000 --times 20 --repeats 2
Needs the widenet package and, for the comparison, neural-tangents (jax, x64); without it
only widenet is timed. To run both in one process with neural-tangents' environment:
    mkdir -p /tmp/wn && ln -sf $PWD/target/pyenv/lib/python3.11/site-packages/widenet /tmp/wn/
    PYTHONPATH=/tmp/wn /work/ntenv/bin/python benchmarks/predict.py
"""
import argparse
import collections
import gzip
import json
import os
import struct
import time

import numpy as np

import widenet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        return np.frombuffer(data[16:], np.uint8).reshape(count, 784)
    return np.frombuffer(data[8:], np.uint8)


def load(data, n, n_test):
    d = os.path.join(data, "mnist")
    x = idx(os.path.join(d, "train-images-idx3-ubyte.gz"))[:n] / 255.0
    y = idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))[:n]
    xt = idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"))[:n_test] / 255.0
    yt = idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))[:n_test]
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    xt = xt / np.linalg.norm(xt, axis=1, keepdims=True)
    return x, np.eye(10)[y] - 0.1, xt, np.eye(10)[yt] - 0.1


def nt_setup():
    """neural-tangents with float64, or None when it is not installed."""
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import neural_tangents as nt
    except ImportError:
        return None
    return jax, nt


def nt_accuracy(data, n, n_test, rec):
    """neural-tangents' test accuracy at t = inf on the first n MNIST training images with
    its own fc ReLU NTK of depth 3 (stax), next to widenet's fc_ntk on the same subset.
    neural-tangents' batching needs n and n_test divisible by its batch size (500)."""
    jax, nt = nt_setup()
    from neural_tangents import stax
    x, y, xt, yt = load(data, n, n_test)
    layers = []
    for _ in range(3):
        layers += [stax.Dense(512, W_std=2 ** 0.5, b_std=0.0), stax.Relu()]
    _, _, kfn = stax.serial(*layers, stax.Dense(1, W_std=1.0, b_std=0.0))
    kfn = nt.batch(kfn, batch_size=500)
    t0 = time.perf_counter()
    pf = nt.predict.gradient_descent_mse_ensemble(kfn, x, y, diag_reg=1e-6)
    mean = np.asarray(pf(None, xt, "ntk", compute_cov=False))
    s = time.perf_counter() - t0
    t0 = time.perf_counter()
    # t = inf on the stored kernel by Cholesky, as neural-tangents does at t = None
    w = widenet.predict("fc_ntk", y, x_train=x, x_test=xt, depth=3, times=[np.inf],
                        ridge=1e-6 * np.trace(widenet.fc_ntk(x[:1], depth=3)), y_test=yt,
                        path="krylov")
    sw = time.perf_counter() - t0
    rec["accuracy_at_inf"] = {
        "n_train": n, "n_test": len(xt),
        "neural_tangents": float(np.mean(mean.argmax(1) == yt.argmax(1))),
        "widenet_fc_ntk": float(w.accuracy[-1]),
        "neural_tangents_s": s, "widenet_s": sw}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--times", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=1,
                    help="rounds of (widenet, neural-tangents) alternating, per variant")
    ap.add_argument("--nt-accuracy", type=int, default=0,
                    help="also measure neural-tangents' test accuracy at t = inf on this "
                    "many training images (0: skip)")
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    a = ap.parse_args()
    x, y, xt, yt = load(a.data, a.n, a.n_test)
    n, m = len(x), len(xt)
    ntk, ntk_t = widenet.fc_ntk(x, depth=3), widenet.fc_ntk(xt, x, depth=3)
    nngp, nngp_t = widenet.fc_nngp(x, depth=3), widenet.fc_nngp(xt, x, depth=3)
    nngp_tt = widenet.fc_nngp(xt, depth=3)
    lr = 1.0
    times = list(np.logspace(0, 6, a.times - 1) * y.size) + [np.inf]
    rec = {"n": n, "n_test": m, "outputs": 10, "times": len(times), "kernel": "fc depth 3",
           "repeats": a.repeats}

    def w_cov():
        return widenet.predict(ntk, y, ntk_t, mode="ensemble", times=times, learning_rate=lr,
                               nngp_train=nngp, nngp_test_train=nngp_t,
                               nngp_test_test=nngp_tt, y_test=yt)

    def w_mean():
        return widenet.predict(ntk, y, ntk_t, mode="gd", times=times, learning_rate=lr)

    peer = nt_setup()
    if peer is None:
        t0 = time.perf_counter()
        w = w_cov()
        rec["widenet_cov_s"] = time.perf_counter() - t0
        rec["test_error_at_inf"] = float(w.test_error[-1])
        rec["neural_tangents"] = "not installed"
        print(json.dumps(rec, indent=1))
        return
    jax, nt = peer
    # the same arrays, looked up by index (x = the row number)
    blocks = {"ntk": np.block([[ntk, ntk_t.T], [ntk_t, np.zeros((m, m))]]),
              "nngp": np.block([[nngp, nngp_t.T], [nngp_t, nngp_tt]])}
    kern = collections.namedtuple("Kernel", "nngp ntk", defaults=(None, None))

    def kernel_fn(x1, x2, get, **kw):
        i = np.asarray(x1[:, 0], int)
        j = i if x2 is None else np.asarray(x2[:, 0], int)
        pick = lambda g: jax.numpy.asarray(blocks[g][np.ix_(i, j)])  # noqa: E731
        if isinstance(get, str):
            return pick(get)
        return kern(**{g: pick(g) for g in get})

    ix, ixt = np.arange(n)[:, None], (n + np.arange(m))[:, None]
    ts = np.asarray(times[:-1])

    def nt_run(cov):
        pf = nt.predict.gradient_descent_mse_ensemble(kernel_fn, ix, y, learning_rate=lr)
        fin = pf(ts, ixt, "ntk", compute_cov=cov)
        inf = pf(None, ixt, "ntk", compute_cov=cov)
        jax.block_until_ready(inf)
        return fin, inf

    # alternate the two sides, round after round, so that the machine's load falls on both
    for key, cov, wf in (("cov", True, w_cov), ("mean", False, w_mean)):
        ws, ns = [], []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            w = wf()
            ws.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            fin, inf = nt_run(cov)
            ns.append(time.perf_counter() - t0)
        rec[f"widenet_{key}_s"] = ws
        rec[f"nt_{key}_s"] = ns
        rec[f"ratio_{key}_nt_over_widenet"] = [b / a_ for a_, b in zip(ws, ns)]
        rec[f"ratio_{key}_median"] = float(np.median(rec[f"ratio_{key}_nt_over_widenet"]))
        mean_fin = np.asarray(fin.mean if cov else fin)
        mean_inf = np.asarray(inf.mean if cov else inf)
        ref = w.test_mean
        d = max(np.abs(ref[:-1] - mean_fin).max(), np.abs(ref[-1] - mean_inf).max())
        rec[f"max_rel_diff_mean_{key}"] = float(d / np.abs(mean_fin).max())
        if cov:
            rec["test_error_at_inf"] = float(w.test_error[-1])
            c = np.concatenate([np.asarray(fin.covariance), np.asarray(inf.covariance)[None]])
            rec["max_rel_diff_cov"] = float(np.abs(w.test_cov - c).max() / np.abs(c).max())
    if a.nt_accuracy:
        nt_accuracy(a.data, a.nt_accuracy, 10000, rec)
    print(json.dumps(rec, indent=1))


if __name__ == "__main__":
    main()
