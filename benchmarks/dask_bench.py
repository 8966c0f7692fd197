#!/usr/bin/env python3
"""widenet.dask against the single-process large-n path, and its cost model (issue 14).

Part A (n = --n, MNIST even/odd by default, d = 784): seed 001's analysis (top-k spectrum,
y^T H^-1 y to --tol, eq. 8) by widenet.analyze_large in this process (its default path
for the machine's memory budget, or --single-path) against widenet.dask.analyze on a
LocalCluster of --workers processes (one thread each, loopback). Prints both times,
their ratio, the agreement of y^T H^-1 y and the eigenvalues, and the cost model's
prediction of the distributed run.

Part B (n = --big-n, points on the sphere in --big-d dims, top --big-top-k): seed 001's
analysis by widenet.dask.analyze under --big-budget (at n = 100,000 the f64 tiles do not
fit, so mode "mixed": the f32 tiles held as far as the budget goes, the rest recomputed,
f64 tiles recomputed for the flexible CG's f64 passes), timed, with the cost model's prediction
for the run's own product calls next to it, and for n = 10^5, 10^6 on P workers.
--big-mode tiles-only measures the per-tile times and stops.

The cost model (docs/dask.md): per-tile times t_tile (evaluate a c x c block of the
kernel) and t_apply (apply a block to an n x b slice, both sides), measured on a worker,
and the communication per product (V to every worker, the slots' partials back),
measured as bytes, with the loopback/network bandwidth measured by a scatter:
  persisted:   T = B t_tile / P + N (B t_apply / P + comm / bw + S t_task)
  matrix-free: T = N (B (t_tile + t_apply) / P + comm / bw + S t_task)
  mixed:       T = h B t32 / P + sum over f32 calls of ((1 - h) B t32 + B a32(b)) / P
                   + sum over f64 calls of B (t64 + a64(b)) / P  (+ comm, S t_task per call)
               (h the share of f32 tiles held, a(b) the apply time for b columns)
  Cholesky:    T = persisted (N = Krylov rounds + CG's 1-3 products)
                   + (nb c)^3 / 3 / (P rate) + B c^2 s min(P - 1, nb) / bw
                   + N_solve 2 nb t_task
with B = nb (nb + 1) / 2 lower blocks, nb = n / c, S slot tasks per product, N products
(block rounds of the Krylov phase + CG iterations, + a few checks), rate the GEMM flop
rate of one worker (measured: a c x c x c product in the factor's precision, s bytes per
entry), the panel blocks of the factor sent to at most min(P - 1, nb) other workers, and
N_solve pairs of triangular solves (<= 4 block-Krylov rounds for lambda_min(M) + CG's),
each a chain of 2 nb dependent tasks. Every number is printed with the load average of the
machine at that moment (other jobs share it).

  python benchmarks/dask_bench.py --n 20000 --mnist ../shared/data/mnist --big-n 100000
"""
import argparse
import gzip
import json
import math
import os
import resource
import struct
import sys
import threading
import time

import numpy as np

# the tiles a run holds are its working set, not a cache: no spilling them to disk or
# pausing the workers at dask's default fractions of the memory limit (inherited by
# the worker processes through the environment)
os.environ.setdefault("DASK_DISTRIBUTED__WORKER__MEMORY__TARGET", "False")
os.environ.setdefault("DASK_DISTRIBUTED__WORKER__MEMORY__SPILL", "False")
os.environ.setdefault("DASK_DISTRIBUTED__WORKER__MEMORY__PAUSE", "False")

import widenet  # noqa: E402
import widenet.dask as wd  # noqa: E402


def load_avg():
    return "load %.2f %.2f %.2f" % os.getloadavg()


def mnist_even_odd(path, n):
    """The first n MNIST images (the training file, then the test file: the shared copy
    of the training file holds 17,435 images), unit norm, labels +1 even / -1 odd."""
    xs, ls = [], []
    for split in ("train", "t10k"):
        with gzip.open(os.path.join(path, f"{split}-images-idx3-ubyte.gz"), "rb") as f:
            _, m, r, c = struct.unpack(">IIII", f.read(16))
            xs.append(np.frombuffer(f.read(m * r * c), dtype=np.uint8).reshape(m, r * c))
        with gzip.open(os.path.join(path, f"{split}-labels-idx1-ubyte.gz"), "rb") as f:
            f.read(8)
            ls.append(np.frombuffer(f.read(m), dtype=np.uint8))
    x = np.concatenate(xs)[:n].astype(np.float64)
    lab = np.concatenate(ls)[:n]
    if len(x) < n:
        raise SystemExit(f"only {len(x)} MNIST images in {path}")
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, np.where(lab % 2 == 0, 1.0, -1.0)


def sphere(n, d, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.sign(x[:, 0] + 0.3 * x[:, 1] ** 2 - 0.1)
    return x, y


def tile_times(xa, xb, b, reps, precision="f64"):
    """Best of ``reps``: (evaluate one lower c x c block, apply it to an n x b block on
    both sides), in s, in the worker this runs on."""
    import time as _t
    import numpy as _np
    import widenet.dask as _wd
    best_t, best_a = math.inf, math.inf
    v = _np.random.default_rng(0).standard_normal((xa.shape[0] + xb.shape[0], b))
    for _ in range(reps):
        t0 = _t.perf_counter()
        t = _wd.kernel_block("relu_ntk", xa, xb, precision=precision, depth=3,
                             trained="all", bandwidth=1.0, preset=None)
        t1 = _t.perf_counter()
        _wd._apply([(1, 0)], [t], v, v.shape[0], xa.shape[0])
        t2 = _t.perf_counter()
        best_t, best_a = min(best_t, t1 - t0), min(best_a, t2 - t1)
    return best_t, best_a


def measure_tiles(client, x, c, b, reps=3):
    """t_tile, t_apply (s) on one worker for a c x c lower block, and the loopback
    bandwidth (bytes/s) of a 64 MiB scatter, and one empty task's round trip."""
    xa, xb = x[:c], x[c:2 * c]
    t_tile, t_apply = client.submit(tile_times, xa, xb, b, reps, pure=False).result()
    blob = np.ones(8 << 20)
    t0 = time.perf_counter()
    f = client.scatter(blob, broadcast=True, hash=False)
    f.result()
    bw = blob.nbytes * len(client.scheduler_info()["workers"]) / (time.perf_counter() - t0)
    del f
    t0 = time.perf_counter()
    for _ in range(20):
        client.submit(int, 1, pure=False).result()
    t_task = (time.perf_counter() - t0) / 20
    return t_tile, t_apply, bw, t_task


def measure_rate(client, c, dtype):
    """One worker's GEMM rate (flop/s) for a c x c x c product in ``dtype`` (the blocked
    Cholesky's update, which dominates its flops)."""
    def rate(c, dtype):
        import time as _t
        import numpy as _np
        g = _np.random.default_rng(0)
        a = g.standard_normal((c, c)).astype(dtype)
        b = g.standard_normal((c, c)).astype(dtype)
        best = math.inf
        for _ in range(3):
            t0 = _t.perf_counter()
            # two distinct operands: numpy sends a @ a.T to syrk, which does half the
            # flops, and the rate came out twice one core's (91 GFLOP/s f64 here)
            a @ b
            best = min(best, _t.perf_counter() - t0)
        return 2.0 * c ** 3 / best
    return client.submit(rate, c, dtype, pure=False).result()


def predict_cholesky(n, c, p, rate, itemsize, bw, t_task, n_solve):
    """Factor + triangular solves of the Cholesky route (s), and the panel traffic (bytes)."""
    nb = -(-n // c)
    blocks = nb * (nb + 1) / 2
    panel = blocks * c * c * itemsize * min(p - 1, nb)
    return (nb * c) ** 3 / 3 / (p * rate) + panel / bw + n_solve * 2 * nb * t_task, panel


def predict(n, c, p, b, products, t_tile, t_apply, bw, t_task, mode):
    nb = -(-n // c)
    blocks = nb * (nb + 1) / 2
    s = min(16, int(blocks))
    comm = n * b * 8 * p + s * n * b * 8  # V to each worker + the partials (upper bound)
    per = blocks * t_apply / p + comm / bw + s * t_task / max(1, p)
    if mode == "persist":
        return blocks * t_tile / p + products * per, comm
    return products * (per + blocks * t_tile / p), comm


def measure_mixed(client, x, c, cases, reps=2):
    """Mode "mixed"'s per-tile times on one worker: {(precision, b): (t_tile, t_apply)}
    for each (precision, column count) in ``cases``."""
    xa, xb = x[:c], x[c:2 * c]
    return {(p, b): client.submit(tile_times, xa, xb, b, reps, p, pure=False).result()
            for p, b in cases}


def predict_mixed(n, c, p, held, calls32, calls64, times, bw, t_task):
    """Mode "mixed" (s): the held f32 tiles computed once; every f32 product call
    recomputes the rest and applies all of them; every f64 call recomputes and applies
    all f64 tiles. ``calls32``/``calls64``: lists of column counts, one per call;
    ``times[(prec, b)] = (t_tile, t_apply)`` measured, t_apply interpolated linearly in
    b between the measured column counts."""
    nb = -(-n // c)
    blocks = nb * (nb + 1) / 2
    s = min(16, int(blocks))

    def apply_t(prec, b):
        pts = sorted((bb, ta) for (pp, bb), (_, ta) in times.items() if pp == prec)
        if len(pts) == 1:
            return pts[0][1] * b / pts[0][0]
        (b0, a0), (b1, a1) = pts[0], pts[-1]
        return a0 + (a1 - a0) * (b - b0) / (b1 - b0)

    def call(prec, b, recompute):
        comm = n * b * 8 * p + s * n * b * 8
        tt = next(t for (pp, _), (t, _) in times.items() if pp == prec)
        return (blocks * recompute * tt + blocks * apply_t(prec, b)) / p + comm / bw \
            + s * t_task / max(1, p)

    t = blocks * held * next(t for (pp, _), (t, _) in times.items() if pp == "f32") / p
    t += sum(call("f32", b, 1 - held) for b in calls32)
    t += sum(call("f64", b, 1.0) for b in calls64)
    return t



def _worker_rss():
    import psutil  # a dependency of distributed
    return psutil.Process().memory_info().rss


class PeakRss:
    """Peak resident memory of every worker process (sampled every ``every`` s through
    ``client.run``) and of this client process (getrusage), while the block runs."""

    def __init__(self, client, every=1.0):
        self.client, self.every, self.peak = client, every, {}
        self._stop = threading.Event()

    def _loop(self):
        while not self._stop.wait(self.every):
            try:
                for w, rss in self.client.run(_worker_rss).items():
                    self.peak[w] = max(self.peak.get(w, 0), rss)
            except Exception:  # a worker restarting: sample again next time
                pass

    def __enter__(self):
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()

    def line(self):
        client = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        ws = ", ".join(f"{v / 2**30:.2f}" for v in sorted(self.peak.values()))
        return (f"peak RSS: workers [{ws}] GiB (sampled each {self.every:g} s), client "
                f"{client / 2**30:.2f} GiB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--mnist", default=None, help="directory with MNIST's IDX files")
    ap.add_argument("--d", type=int, default=784, help="dims of synthetic data without --mnist")
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--chunk", type=int, default=2048)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--preconditioner", default=None,
                    help="force widenet.dask.analyze's CG route (cholesky, spectral)")
    ap.add_argument("--factor-precision", default="f64", choices=["f64", "f32"])
    ap.add_argument("--single-path", default=None, help="force analyze_large's path")
    ap.add_argument("--big-n", type=int, default=100000)
    ap.add_argument("--big-d", type=int, default=100)
    ap.add_argument("--big-top-k", type=int, default=101,
                    help="d = 100: H^inf's 101 top eigenvalues sit above a spectral gap")
    ap.add_argument("--big-budget", type=float, default=14e9,
                    help="memory_budget (bytes) of part B's analysis (f32 tiles held)")
    ap.add_argument("--big-force-mode", default=None,
                    help="force part B's mode (persist, mixed, matrix-free)")
    ap.add_argument("--big-chunk", type=int, default=4096)
    ap.add_argument("--big-mode", default="full", choices=["full", "tiles-only", "skip"])
    ap.add_argument("--worker-memory", default="5GiB")
    ap.add_argument("--skip-a", action="store_true", help="part B only")
    ap.add_argument("--assume-products", type=int, default=151,
                    help="product count for part B's extrapolation when part A is skipped")
    args = ap.parse_args()

    import distributed
    out = {"machine": f"{os.cpu_count()} cores", "workers": args.workers}
    if args.skip_a:
        x, y, data = None, None, "skipped"
    elif args.mnist:
        x, y = mnist_even_odd(args.mnist, args.n)
        data = f"MNIST even/odd, first {args.n} images (train, then test), d = 784, unit norm"
    else:
        x, y = sphere(args.n, args.d)
        data = f"unit sphere, d = {args.d}"
    print(f"# part A: n = {args.n}, {data}, top_k = {args.top_k}, tol = {args.tol}",
          flush=True)
    cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                       processes=True, host="127.0.0.1",
                                       dashboard_address=None,
                                       memory_limit=args.worker_memory, silence_logs=40)
    client = distributed.Client(cluster)
    try:
        n_prod = args.assume_products
        if not args.skip_a:
            t_tile, t_apply, bw, t_task = measure_tiles(client, x, args.chunk, 1)
            print(f"tiles (c = {args.chunk}, d = {x.shape[1]}, one worker): t_tile = {t_tile:.3f} s, "
                  f"t_apply(b=1) = {t_apply:.4f} s; scatter bandwidth {bw / 1e9:.2f} GB/s; "
                  f"empty task {t_task * 1e3:.1f} ms [{load_avg()}]", flush=True)
            fdt = "float32" if args.factor_precision == "f32" else "float64"
            rate = measure_rate(client, args.chunk, fdt)
            print(f"GEMM on one worker ({fdt}, {args.chunk}^3): {rate / 1e9:.2f} GFLOP/s "
                  f"[{load_avg()}]", flush=True)
            out["cost"] = dict(chunk=args.chunk, d=x.shape[1], t_tile=t_tile, t_apply=t_apply,
                               bandwidth=bw, t_task=t_task, rate=rate, rate_dtype=fdt,
                               load=os.getloadavg())

            t0 = time.perf_counter()
            with PeakRss(client) as mem_a:
                got = wd.analyze(x, y, client=client, top_k=args.top_k, tol=args.tol,
                                 chunk=args.chunk, progress=True,
                                 preconditioner=args.preconditioner,
                                 factor_precision=args.factor_precision)
            t_dask = time.perf_counter() - t0
            print(mem_a.line(), flush=True)
            print(f"widenet.dask.analyze: {t_dask:.1f} s, route {got.path}, "
                  f"{got.products} product columns, CG {got.cg_iterations} iterations, "
                  f"{got.triangular_solves} pairs of triangular solves, "
                  f"basis {got.krylov_basis}, y^T H^-1 y = {got.y_hinv_y:.10g} "
                  f"(achieved {got.achieved_rel_error:.1e}), timings {got.timings} "
                  f"[{load_avg()}]", flush=True)
            n_prod = got.product_calls
            pred, comm = predict(args.n, args.chunk, args.workers, 2, n_prod, t_tile, t_apply, bw,
                                 t_task, got.mode)
            if got.preconditioner == "cholesky":
                isz = 4 if got.factor_precision == "f32" else 8
                pc, panel = predict_cholesky(args.n, args.chunk, args.workers, rate, isz, bw,
                                             t_task, got.triangular_solves)
                print(f"cost model, Cholesky part: factor + solves predicted {pc:.1f} s "
                      f"(panel traffic {panel / 1e9:.2f} GB), measured "
                      f"{sum(t for k, t in got.timings if k in ('cholesky factor', 'cg')):.1f} s",
                      flush=True)
                pred += pc
            print(f"cost model for this run ({n_prod} products, {comm / 1e6:.1f} MB/product): "
                  f"predicted {pred:.1f} s, measured {t_dask:.1f} s", flush=True)
            out["dask"] = dict(seconds=t_dask, path=got.path, products=got.products,
                               n_products=n_prod, cg=got.cg_iterations, basis=got.krylov_basis,
                               solves=got.triangular_solves,
                               q=got.y_hinv_y, achieved=got.achieved_rel_error,
                               predicted=pred, load=os.getloadavg(), timings=got.timings,
                               bytes_to=got.bytes_to_workers, bytes_from=got.bytes_from_workers,
                               peak_worker_rss=sorted(mem_a.peak.values()))

            t0 = time.perf_counter()
            ref = widenet.analyze_large(x, y, top_k=args.top_k, tol=args.tol,
                                        path=args.single_path)
            t_one = time.perf_counter() - t0
            print(f"widenet.analyze_large: {t_one:.1f} s, path {ref.path}, "
                  f"y^T H^-1 y = {ref.y_hinv_y:.10g} (achieved {ref.achieved_rel_error:.1e}), "
                  f"timings {ref.timings} [{load_avg()}]", flush=True)
            rel_q = abs(got.y_hinv_y - ref.y_hinv_y) / ref.y_hinv_y
            rel_l = float(np.max(np.abs(got.eigenvalues - ref.eigenvalues) / ref.eigenvalues))
            print(f"ratio dask / single = {t_dask / t_one:.2f}; |dq|/q = {rel_q:.1e}; "
                  f"max eigenvalue rel diff = {rel_l:.1e}", flush=True)
            out["single"] = dict(seconds=t_one, path=ref.path, q=ref.y_hinv_y,
                                 load=os.getloadavg())
            out["ratio"] = t_dask / t_one

            # predictions at scale from the measured per-tile times (d as measured); the
            # Cholesky route with the Krylov phase's rounds (8 here) + 3 CG products
            n_kry = max(1, n_prod - got.cg_iterations - 1)
            for n in (100_000, 1_000_000):
                for p in (2, 16, 64):
                    c = 4096
                    tt = t_tile * (c / args.chunk) ** 2
                    ta = t_apply * (c / args.chunk) ** 2
                    t, _ = predict(n, c, p, 2, n_kry + 3, tt, ta, bw, t_task, "persist")
                    isz = 4 if args.factor_precision == "f32" else 8
                    pc, panel = predict_cholesky(n, c, p, rate, isz, bw, t_task, 7)
                    mem = (n // c + 1) * (n // c + 2) / 2 * c * c * (8 + isz) / p
                    print(f"predicted n = {n}, P = {p}, persist+cholesky-"
                          f"{args.factor_precision}: {(t + pc) / 3600:.2f} h (factor "
                          f"{pc / 3600:.2f} h, panel traffic {panel / 1e9:.0f} GB, "
                          f"{mem / 1e9:.0f} GB tiles + factor per worker)", flush=True)
                    # spectral CG: this run's product count if it took that route, else
                    # --assume-products (the spectral run's count at n = 20,000 was 142)
                    n_sp = args.assume_products if got.preconditioner == "cholesky" else n_prod
                    for mode in ("persist", "matrix-free"):
                        t, cm = predict(n, c, p, 2, n_sp, tt, ta, bw, t_task, mode)
                        mem = (n // c + 1) * (n // c + 2) / 2 * c * c * 8 / p
                        print(f"predicted n = {n}, P = {p}, {mode}+spectral: {t / 3600:.2f} h "
                              f"({n_sp} products, {cm / 1e6:.0f} MB/product"
                              + (f", {mem / 1e9:.0f} GB tiles per worker" if mode == "persist"
                                 else "") + ")", flush=True)

        if args.big_mode != "skip":
            xb, yb = sphere(args.big_n, args.big_d, seed=1)
            c = args.big_chunk
            # f64 at b = 2 comes with the bandwidth and task measurements
            t64, a64, bw, t_task = measure_tiles(client, xb, c, 2, reps=1)
            kp = args.big_top_k + max(args.big_top_k // 10, 8)
            kb = min(64, max(16, kp))
            times = measure_mixed(client, xb, c, [("f32", 2), ("f32", kb), ("f64", 1 + kp)])
            times[("f64", 2)] = (t64, a64)
            print(f"# part B: n = {args.big_n}, unit sphere d = {args.big_d}, c = {c}, "
                  f"top_k = {args.big_top_k}, budget {args.big_budget / 1e9:.1f} GB; per tile "
                  f"on one worker (t_tile, t_apply): "
                  + ", ".join(f"{p} b={b}: {t:.3f} s, {a:.4f} s" for (p, b), (t, a)
                              in sorted(times.items())) + f" [{load_avg()}]", flush=True)
            out["big_tiles"] = {f"{p} b={b}": v for (p, b), v in times.items()}
            if args.big_mode == "full":
                t0 = time.perf_counter()
                with PeakRss(client) as mem_b:
                    big = wd.analyze(xb, yb, client=client, top_k=args.big_top_k,
                                     tol=args.tol, chunk=c, progress=True,
                                     memory_budget=args.big_budget, mode=args.big_force_mode)
                t_big = time.perf_counter() - t0
                print(mem_b.line(), flush=True)
                print(f"complexity measure at n = {args.big_n}: {big.complexity_measure:.6g} "
                      f"(y^T H^-1 y = {big.y_hinv_y:.10g}, achieved "
                      f"{big.achieved_rel_error:.1e}), {t_big:.0f} s, path {big.path}, "
                      f"{big.held_fraction:.1%} of the tiles held, {big.products} product "
                      f"columns ({big.products_f32} f32), {big.product_calls} product calls, "
                      f"CG {big.cg_iterations}, f64 CG passes {big.refinement_rounds}, "
                      f"eig. max rel. residual {big.eig_max_rel_residual:.1e}, "
                      f"lambda_min ~ {big.lambda_min_estimate:.4g}, timings {big.timings} "
                      f"[{load_avg()}]", flush=True)
                calls32 = [b for pr, b in big.product_log if pr == "f32"]
                calls64 = [b for pr, b in big.product_log if pr == "f64"]
                if big.mode == "mixed":
                    pred = predict_mixed(args.big_n, c, args.workers, big.held_fraction,
                                         calls32, calls64, times, bw, t_task)
                    print(f"cost model for this run ({len(calls32)} f32 and {len(calls64)} "
                          f"f64 product calls): predicted {pred:.0f} s, measured {t_big:.0f} s",
                          flush=True)
                else:
                    pred = math.nan
                out["big"] = dict(seconds=t_big, path=big.path, cm=big.complexity_measure,
                                  q=big.y_hinv_y, achieved=big.achieved_rel_error,
                                  cg=big.cg_iterations, products=big.products,
                                  held=big.held_fraction, calls32=len(calls32),
                                  calls64=len(calls64), predicted=pred,
                                  timings=big.timings, load=os.getloadavg(),
                                  peak_worker_rss=sorted(mem_b.peak.values()))
                # the same model at 10^5 and 10^6 on P workers: the per-tile times and
                # this run's product calls, all tiles held when the budget allows
                for n in (100_000, 1_000_000):
                    for p in (2, 16, 64):
                        f32_tiles = (n / c) * (n / c + 1) / 2 * c * c * 4
                        held = min(1.0, p * args.big_budget / args.workers / f32_tiles)
                        t = predict_mixed(n, c, p, held, calls32, calls64, times, bw, t_task)
                        print(f"predicted n = {n}, P = {p}, mixed (f32 tiles {held:.0%} held "
                              f"at {args.big_budget / args.workers / 1e9:.1f} GB per worker, "
                              f"this run's product calls): {t / 3600:.2f} h", flush=True)
    finally:
        client.close()
        cluster.close()
    print(json.dumps(out, default=float))


if __name__ == "__main__":
    main()
