#!/usr/bin/env python3
"""Composed kernels (widenet.stax, issue 23) against neural-tangents' jitted ``kernel_fn``
of the same architecture, ratios measured in the same run (JSON lines on stdout).

For each architecture, on the same n x d inputs (MNIST's first n test images scaled to
[0, 1] when ../shared/data is there, else Gaussian inputs):

- widenet: ``net.ntk(x)`` in float64 (the Rust engine: one Gram GEMM, then the layer
  maps) and ``net.ntk(x32)`` on float32 inputs (the f32 path: an f32 GEMM, the maps in
  float64, a float32 kernel);
- the floor a composed kernel is measured against ("within 1.3x of the Gram GEMM"):
  widenet's own symmetric Gram of the same inputs, the composition ``dense`` through the
  same driver (float64 and float32), and numpy's full GEMM ``x @ x.T``;
- neural-tangents 0.6.5: ``jax.jit(kernel_fn)(x, None, "ntk")`` in float32 and float64,
  compile excluded (one warm-up call), best of ``--repeats``, each in a process of its
  own: float32 without ``jax_enable_x64`` (with it, neural-tangents returns a float64
  kernel for float32 inputs, i.e. computes in float64) and float64 with it; each
  worker saves its kernel for the agreement check;
- agreement: the largest relative difference max|a - b| / max|b| of widenet's float64
  kernel against neural-tangents' float64 one (off the diagonal and on it separately:
  on it widenet takes the angle exactly 0 where neural-tangents takes arccos of a
  rounded 1, ~1e-8 apart), and of each float32 kernel against its library's float64
  one (the price of float32).

The architectures: the depth-3 ReLU fc net Dense-Relu-Dense-Relu-Dense (issue 23's
benchmark) and the two-layer Dense-Relu-Dense (= seed 001's H^inf up to the Gram's
scale). neural-tangents is optional: without it only widenet and the GEMM are timed.
Both libraries use every core of the machine.

Usage: python benchmarks/compose_nt.py [--n 4000] [--d 784] [--repeats 3]
Run it with a Python that has both widenet and neural-tangents installed (e.g. a virtual
environment outside the repository: see the developers' guide), e.g.
``/path/to/venv/bin/python benchmarks/compose_nt.py --n 4000``.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np



def best(f, repeats):
    t = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        t = min(t, time.perf_counter() - t0)
    return t


def agreement(a, b):
    """max|a - b| / max|b| off the diagonal and on it, computed in float64."""
    scale = float(np.max(np.abs(b)))
    off, diag = 0.0, float(np.max(np.abs(np.diag(a).astype(np.float64) - np.diag(b)))) / scale
    for i in range(0, a.shape[0], 1000):  # blocks of rows: no n x n temporaries
        blk = np.abs(a[i:i + 1000].astype(np.float64) - b[i:i + 1000])
        for r in range(blk.shape[0]):
            blk[r, i + r] = 0.0
        off = max(off, float(np.max(blk)) / scale)
    return {"off_diagonal": off, "diagonal": diag}


def inputs(n, d, seed=0):
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "..", "shared", "data", "mnist", "t10k-images-idx3-ubyte.gz")
    if d == 784 and os.path.exists(path):
        import gzip
        with gzip.open(path, "rb") as f:
            raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
        x = raw.reshape(-1, 784)[:n].astype(np.float64) / 255.0
        if x.shape[0] == n:
            return x, "mnist-t10k"
    return np.random.default_rng(seed).standard_normal((n, d)), "gaussian"


def nt_kernel_fn(hidden):
    from neural_tangents import stax as nts
    layers = []
    for _ in range(hidden):
        layers += [nts.Dense(512, W_std=1.0), nts.Relu()]
    layers.append(nts.Dense(1, W_std=1.0))
    _, _, kernel_fn = nts.serial(*layers)
    return kernel_fn


def nt_available():
    try:
        import jax  # noqa: F401
        import neural_tangents  # noqa: F401
        return True
    except ImportError:
        return False


def nt_worker(a, hidden, prec, out):
    """neural-tangents' kernel in a process of its own (float64 needs jax_enable_x64,
    which makes float32 inputs compute in float64): saves it to ``out``, returns the
    best time."""
    cmd = [sys.executable, os.path.abspath(__file__), "--n", str(a.n), "--d", str(a.d),
           "--repeats", str(a.repeats), "--nt-worker", prec, "--hidden", str(hidden),
           "--out", out]
    r = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(r.stdout.strip().splitlines()[-1])["seconds"]


def run_worker(a):
    import jax
    if a.nt_worker == "f64":
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    x, _ = inputs(a.n, a.d)
    x = x.astype(np.float32 if a.nt_worker == "f32" else np.float64)
    kf = jax.jit(nt_kernel_fn(a.hidden), static_argnames="get")
    j = jnp.asarray(x)
    k = np.array(kf(j, None, "ntk").block_until_ready())  # compile, and a copy
    assert k.dtype == x.dtype, (k.dtype, x.dtype)
    np.save(a.out, k)
    del k
    t = best(lambda: kf(j, None, "ntk").block_until_ready(), a.repeats)
    print(json.dumps({"seconds": t}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--d", type=int, default=784)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--nt-worker", choices=["f32", "f64"], help=argparse.SUPPRESS)
    ap.add_argument("--hidden", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.nt_worker:
        return run_worker(a)
    from widenet import stax
    archs = {
        "fc3_relu": (stax.serial(stax.Dense(1.0), stax.Relu(), stax.Dense(1.0), stax.Relu(),
                                 stax.Dense(1.0)), 2),
        "two_layer_relu": (stax.serial(stax.Dense(1.0), stax.Relu(), stax.Dense(1.0)), 1),
    }
    x, source = inputs(a.n, a.d)
    x32 = x.astype(np.float32)
    meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "n": a.n, "d": a.d, "inputs": source}
    have_nt = nt_available()
    if have_nt:
        import jax
        meta["neural_tangents"] = __import__("neural_tangents").__version__
        meta["jax"] = jax.__version__
    else:
        meta["neural_tangents"] = "not installed"
    print(json.dumps(meta), flush=True)
    tmp = tempfile.mkdtemp(prefix="compose_nt-")

    gemm64 = best(lambda: x @ x.T, a.repeats)
    gemm32 = best(lambda: x32 @ x32.T, a.repeats)
    gram = stax.serial(stax.Dense(1.0))
    gram64 = best(lambda: gram.ntk(x), a.repeats)
    gram32 = best(lambda: gram.ntk(x32), a.repeats)
    for name, (net, hidden) in archs.items():
        rec = {"arch": name, "spec": net.spec, "numpy_gemm_f64_s": gemm64,
               "numpy_gemm_f32_s": gemm32, "widenet_gram_f64_s": gram64,
               "widenet_gram_f32_s": gram32}
        k_w = net.ntk(x)
        k_w32 = net.ntk(x32)
        assert k_w.dtype == np.float64 and k_w32.dtype == np.float32
        rec["widenet_f32_vs_f64"] = agreement(k_w32, k_w)
        del k_w32
        times = {"widenet_f64_s": lambda: net.ntk(x), "widenet_f32_s": lambda: net.ntk(x32)}
        for key, f in times.items():
            rec[key] = best(f, a.repeats)
        if have_nt:
            for prec in ("f32", "f64"):
                out = os.path.join(tmp, f"{name}-{prec}.npy")
                rec[f"nt_{prec}_s"] = nt_worker(a, hidden, prec, out)
            k_nt64 = np.load(os.path.join(tmp, f"{name}-f64.npy"))
            k_nt32 = np.load(os.path.join(tmp, f"{name}-f32.npy"))
            assert k_nt64.dtype == np.float64 and k_nt32.dtype == np.float32
            rec["max_rel_diff_vs_nt_f64"] = agreement(k_w, k_nt64)
            rec["nt_f32_vs_f64"] = agreement(k_nt32, k_nt64)
            del k_nt32, k_nt64
            for prec in ("f32", "f64"):
                os.remove(os.path.join(tmp, f"{name}-{prec}.npy"))
            # widenet again after neural-tangents ran, so that neither side has the warm
            # caches
            for key, f in times.items():
                rec[key] = min(rec[key], best(f, a.repeats))
            rec["speedup_f64_vs_nt_f32"] = rec["nt_f32_s"] / rec["widenet_f64_s"]
            rec["speedup_f64_vs_nt_f64"] = rec["nt_f64_s"] / rec["widenet_f64_s"]
            rec["speedup_f32_vs_nt_f32"] = rec["nt_f32_s"] / rec["widenet_f32_s"]
        del k_w
        rec["widenet_f64_over_gram_f64"] = rec["widenet_f64_s"] / gram64
        rec["widenet_f32_over_gram_f32"] = rec["widenet_f32_s"] / gram32
        rec["widenet_f64_over_numpy_gemm_f64"] = rec["widenet_f64_s"] / gemm64
        print(json.dumps(rec), flush=True)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
