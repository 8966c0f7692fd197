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

    python benchmarks/predict.py --n 5000 --n-test 1000 --times 20
Needs the widenet package and, for the comparison, neural-tangents (jax, x64).
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--times", type=int, default=20)
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    a = ap.parse_args()
    x, y, xt, yt = load(a.data, a.n, a.n_test)
    n, m = len(x), len(xt)
    ntk, ntk_t = widenet.fc_ntk(x, depth=3), widenet.fc_ntk(xt, x, depth=3)
    nngp, nngp_t = widenet.fc_nngp(x, depth=3), widenet.fc_nngp(xt, x, depth=3)
    nngp_tt = widenet.fc_nngp(xt, depth=3)
    lr = 1.0
    times = list(np.logspace(0, 6, a.times - 1) * y.size) + [np.inf]
    rec = {"n": n, "n_test": m, "outputs": 10, "times": len(times), "kernel": "fc depth 3"}

    t0 = time.perf_counter()
    w = widenet.predict(ntk, y, ntk_t, mode="ensemble", times=times, learning_rate=lr,
                        nngp_train=nngp, nngp_test_train=nngp_t, nngp_test_test=nngp_tt,
                        y_test=yt)
    rec["widenet_cov_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    wm = widenet.predict(ntk, y, ntk_t, mode="gd", times=times, learning_rate=lr)
    rec["widenet_mean_s"] = time.perf_counter() - t0
    rec["test_error_at_inf"] = float(w.test_error[-1])
    rec["test_error_curve"] = [float(v) for v in w.test_error]
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import neural_tangents as nt
    except ImportError:
        rec["neural_tangents"] = "not installed"
        print(json.dumps(rec, indent=1))
        return
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
    for cov in (True, False):
        t0 = time.perf_counter()
        pf = nt.predict.gradient_descent_mse_ensemble(kernel_fn, ix, y, learning_rate=lr)
        fin = pf(ts, ixt, "ntk", compute_cov=cov)
        inf = pf(None, ixt, "ntk", compute_cov=cov)
        jax.block_until_ready(inf)
        s = time.perf_counter() - t0
        mean_fin = np.asarray(fin.mean if cov else fin)
        mean_inf = np.asarray(inf.mean if cov else inf)
        key = "cov" if cov else "mean"
        rec[f"nt_{key}_s"] = s
        rec[f"ratio_{key}_nt_over_widenet"] = s / rec[f"widenet_{key}_s"]
        ref = (w if cov else wm).test_mean
        d = max(np.abs(ref[:-1] - mean_fin).max(), np.abs(ref[-1] - mean_inf).max())
        rec[f"max_abs_diff_{key}"] = float(d / np.abs(mean_fin).max())
        if cov:
            c = np.concatenate([np.asarray(fin.covariance), np.asarray(inf.covariance)[None]])
            rec["max_rel_diff_cov"] = float(np.abs(w.test_cov - c).max() / np.abs(c).max())
    print(json.dumps(rec, indent=1))


if __name__ == "__main__":
    main()
