#!/usr/bin/env python3
"""Benchmarks of widenet's Python API, as ratios measured in the same run (JSON on stdout).

- H^inf (seed 001 eq. 3) at n x d, float32 and float64: widenet.relu_ntk against the same
  closed form in numpy (one GEMM, norms, arccos), and against the library call timed on
  the Rust side (``_widenet._time_relu_ntk``: the same function on already-converted
  data), so ``python_over_rust`` is the cost of the binding (conversion, GIL release,
  worker thread, result hand-over);
- one GD iteration of the two-layer net at width m, n points, d dims (float32): the
  difference of two widenet.train_two_layer runs against one numpy iteration (forward
  pass, residual, gradient GEMM, update) in float32;
- the complexity measure sqrt(2 y^T (H^inf)^-1 y / n) at n points: widenet.analyze
  (H^inf, eigendecomposition, Cholesky) against numpy (closed form, eigh, solve);
- neural-tangents' NTK of the same net (stax Dense-Relu-Dense) when it is installed
  (skipped otherwise).

Usage: python benchmarks/python_api.py [--n 10000] [--d 784] [--gd-m 10000] [--gd-n 2000]
       [--cm-n 10000] [--repeats 3] [--quick] [--only h_inf,gd,complexity,neural_tangents]
Ratios > 1 mean widenet is faster (``*_speedup``) or the binding costs more
(``python_over_rust``).
"""
import argparse
import json
import platform
import time

import numpy as np

import widenet
from widenet import _widenet


def best(f, repeats):
    t = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        t = min(t, time.perf_counter() - t0)
    return t


def h_inf_numpy(x):
    g = x @ x.T
    nrm = np.sqrt(np.einsum("ij,ij->i", x, x))
    c = np.clip(g / np.outer(nrm, nrm), -1, 1)
    return g * (np.pi - np.arccos(c)) / (2 * np.pi)


def bench_h_inf(n, d, repeats, rng):
    out = []
    x64 = rng.standard_normal((n, d))
    for dtype in (np.float32, np.float64):
        x = x64.astype(dtype)
        name = "f32" if dtype == np.float32 else "f64"
        t_py = best(lambda: widenet.relu_ntk(x), repeats)
        t_rust = _widenet._time_relu_ntk(x, name, repeats)
        t_np = best(lambda: h_inf_numpy(x), repeats)
        out.append({"name": f"h_inf_{name}", "n": n, "d": d, "widenet_s": t_py,
                    "rust_s": t_rust, "numpy_s": t_np,
                    "python_over_rust": t_py / t_rust, "numpy_speedup": t_np / t_py})
    return out, x64


def bench_gd(m, n, d, repeats, rng):
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.sign(rng.standard_normal(n))
    k = 5
    kw = dict(width=m, kappa=1e-2, eta=1e-4, seed=0, precision="f32")
    t0 = best(lambda: widenet.train_two_layer(x, y, steps=0, **kw), repeats)
    tk = best(lambda: widenet.train_two_layer(x, y, steps=k, **kw), repeats)
    t_iter = max(tk - t0, 1e-9) / k
    r = widenet.train_two_layer(x, y, steps=0, **kw)
    w, a = r.w0.copy(), r.a.astype(np.float32)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    s = np.float32(1 / np.sqrt(m))

    def np_iter():
        nonlocal w
        p = w @ x32.T
        u = (a @ np.maximum(p, 0)) * s
        g = ((p >= 0) * a[:, None]) * ((u - y32) * s)[None, :]
        w = w - np.float32(1e-4) * (g @ x32)

    t_np = best(np_iter, repeats)
    return {"name": "gd_iteration_f32", "m": m, "n": n, "d": d, "widenet_s": t_iter,
            "numpy_s": t_np, "numpy_speedup": t_np / t_iter}


def bench_complexity(n, d, rng):
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.sign(rng.standard_normal(n))
    t0 = time.perf_counter()
    a = widenet.analyze(x, y, eta=1e-3, steps=1)
    t_w = time.perf_counter() - t0
    t0 = time.perf_counter()
    h = h_inf_numpy(x)
    lam, v = np.linalg.eigh(h)
    q = y @ np.linalg.solve(h, y)
    cm = np.sqrt(2 * q / n)
    t_np = time.perf_counter() - t0
    return {"name": "complexity_measure", "n": n, "d": d, "widenet_s": t_w, "numpy_s": t_np,
            "numpy_speedup": t_np / t_w,
            "agree_rel": abs(a.complexity_measure - cm) / cm}


def bench_neural_tangents(x, repeats):
    try:
        import jax
        from neural_tangents import stax
    except ImportError:
        return {"name": "neural_tangents", "skipped": "neural-tangents/JAX not installed"}
    _, _, kernel_fn = stax.serial(stax.Dense(1), stax.Relu(), stax.Dense(1))
    xj = jax.numpy.asarray(x.astype(np.float32))
    t_nt = best(lambda: np.asarray(kernel_fn(xj, None, "ntk")), repeats)
    t_w = best(lambda: widenet.relu_ntk(x.astype(np.float32)), repeats)
    return {"name": "neural_tangents_ntk_vs_h_inf_f32", "n": x.shape[0], "d": x.shape[1],
            "neural_tangents_s": t_nt, "widenet_s": t_w, "speedup": t_nt / t_w}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--d", type=int, default=784)
    ap.add_argument("--gd-m", type=int, default=10_000)
    ap.add_argument("--gd-n", type=int, default=2_000)
    ap.add_argument("--cm-n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    ap.add_argument("--only", default="h_inf,gd,complexity,neural_tangents",
                    help="comma-separated subset of h_inf,gd,complexity,neural_tangents")
    a = ap.parse_args()
    if a.quick:
        a.n, a.d, a.gd_m, a.gd_n, a.cm_n, a.repeats = 1000, 784, 1000, 500, 1000, 2
    only = set(a.only.split(","))
    rng = np.random.default_rng(0)
    records = []
    if "h_inf" in only:
        records += bench_h_inf(a.n, a.d, a.repeats, rng)[0]
    if "gd" in only:
        records.append(bench_gd(a.gd_m, a.gd_n, a.d, a.repeats, rng))
    if "complexity" in only:
        records.append(bench_complexity(a.cm_n, a.d, rng))
    if "neural_tangents" in only:
        x = rng.standard_normal((a.n, a.d))
        records.append(bench_neural_tangents(x, a.repeats))
    print(json.dumps({"machine": platform.machine(), "numpy": np.__version__,
                      "widenet": widenet.__version__, "records": records}, indent=1))


if __name__ == "__main__":
    main()
