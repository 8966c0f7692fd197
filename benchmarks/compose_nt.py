#!/usr/bin/env python3
"""Composed kernels (widenet.stax, issue 23) against neural-tangents' jitted ``kernel_fn``
of the same architecture, ratios measured in the same run (JSON lines on stdout).

For each architecture, on the same n x d inputs (MNIST's first n test images scaled to
[0, 1] when ../shared/data is there, else Gaussian inputs):

- widenet: ``net.ntk(x)`` (float64, the Rust engine: one Gram GEMM, then the layer maps);
- the raw Gram GEMM x xᵀ of the same shape in numpy (float64 and float32): the floor a
  composed kernel is measured against ("within 1.3x of the Gram GEMM");
- neural-tangents 0.6.5: ``jax.jit(kernel_fn)(x, None, "ntk")`` in float32 and float64
  (``jax_enable_x64``), compile excluded (one warm-up call), best of ``--repeats``;
- the largest relative difference between widenet's and neural-tangents' float64 kernels
  (a check that the two compute the same thing).

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
import time

import numpy as np

from widenet import stax


def best(f, repeats):
    t = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        t = min(t, time.perf_counter() - t0)
    return t


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


ARCHS = {
    "fc3_relu": (stax.serial(stax.Dense(1.0), stax.Relu(), stax.Dense(1.0), stax.Relu(),
                             stax.Dense(1.0)), 2),
    "two_layer_relu": (stax.serial(stax.Dense(1.0), stax.Relu(), stax.Dense(1.0)), 1),
}


def nt_kernel_fn(hidden):
    from neural_tangents import stax as nts
    layers = []
    for _ in range(hidden):
        layers += [nts.Dense(512, W_std=1.0), nts.Relu()]
    layers.append(nts.Dense(1, W_std=1.0))
    _, _, kernel_fn = nts.serial(*layers)
    return kernel_fn


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--d", type=int, default=784)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    x, source = inputs(a.n, a.d)
    x32 = x.astype(np.float32)
    meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "n": a.n, "d": a.d, "inputs": source}
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        have_nt = True
        meta["neural_tangents"] = __import__("neural_tangents").__version__
        meta["jax"] = jax.__version__
    except ImportError:
        have_nt = False
        meta["neural_tangents"] = "not installed"
    print(json.dumps(meta), flush=True)

    gemm64 = best(lambda: x @ x.T, a.repeats)
    gemm32 = best(lambda: x32 @ x32.T, a.repeats)
    for name, (net, hidden) in ARCHS.items():
        rec = {"arch": name, "spec": net.spec, "gemm_f64_s": gemm64, "gemm_f32_s": gemm32}
        k_w = net.ntk(x)
        rec["widenet_f64_s"] = best(lambda: net.ntk(x), a.repeats)
        rec["widenet_f64_over_gemm_f64"] = rec["widenet_f64_s"] / gemm64
        if have_nt:
            kf = jax.jit(nt_kernel_fn(hidden), static_argnames="get")
            j32, j64 = jnp.asarray(x32), jnp.asarray(x)
            k_nt64 = np.asarray(kf(j64, None, "ntk").block_until_ready())
            kf(j32, None, "ntk").block_until_ready()  # compile
            rec["nt_f32_s"] = best(lambda: kf(j32, None, "ntk").block_until_ready(), a.repeats)
            rec["nt_f64_s"] = best(lambda: kf(j64, None, "ntk").block_until_ready(), a.repeats)
            # again after neural-tangents ran, so that neither side has the warm caches
            rec["widenet_f64_s"] = min(rec["widenet_f64_s"], best(lambda: net.ntk(x), a.repeats))
            rec["widenet_f64_over_gemm_f64"] = rec["widenet_f64_s"] / gemm64
            rec["speedup_f64_vs_nt_f32"] = rec["nt_f32_s"] / rec["widenet_f64_s"]
            rec["speedup_f64_vs_nt_f64"] = rec["nt_f64_s"] / rec["widenet_f64_s"]
            rec["max_rel_diff_vs_nt_f64"] = float(np.max(np.abs(k_w - k_nt64))
                                                  / np.max(np.abs(k_nt64)))
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
