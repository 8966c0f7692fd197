#!/usr/bin/env python3
"""Large-n analysis (issue 11 part B): widenet against numpy/scipy on the same matrix.

Builds the inputs (all local MNIST images with even/odd labels, or synthetic points on
the sphere), then times in separate processes (so each peak RSS is its own, measured
with /usr/bin/time -v):
  * numpy:  H^inf (eq. 3) + np.linalg.cholesky + scipy.linalg.cho_solve -> y^T H^-1 y
  * scipy:  H^inf + scipy.linalg.eigh(subset_by_index=[n-k, n-1]) -> top-k spectrum
  * widenet analyze --path f32|matrix-free|dense --top-k k --tol 1e-6 (kernel, top-k
    spectrum with projections, complexity measure and predicted loss, all included)
and prints times, ratios, peak memory and the agreement of y^T H^-1 y and the top-k
eigenvalues. Needs numpy and scipy (install them in a venv outside the repository).

  python benchmarks/large_n.py --widenet target/release/widenet --n 8000 --top-k 200
  python benchmarks/large_n.py --widenet target/release/widenet --mnist ../shared/data/mnist --top-k 1000
"""
import argparse, gzip, json, os, re, subprocess, sys, time

# H^inf (eq. 3) computed in place in one n x n array (row chunks), so numpy's peak
# memory is its own Cholesky's (the kernel plus np.linalg.cholesky's factor), not
# the temporaries of a one-line formula.
HINF = r'''
def hinf(X):
    # X @ X.T takes OpenBLAS's syrk path, which crashed (SIGSEGV) at n = 27,435 with
    # scipy-openblas 0.3.31 here; a plain GEMM with a copied transpose does not
    G = X @ np.ascontiguousarray(X.T)
    nr = np.sqrt(np.diag(G)).copy()
    for s in range(0, G.shape[0], 1024):
        g = G[s:s + 1024]
        c = np.clip(g / np.outer(nr[s:s + 1024], nr), -1, 1)
        g *= (np.pi - np.arccos(c)) / (2 * np.pi)
    np.fill_diagonal(G, 0.5 * nr * nr)
    return G
'''

NUMPY_CHOL = r'''
import json, sys, time, numpy as np, scipy.linalg as sl
''' + HINF + r'''
X = np.load(sys.argv[1]); y = np.load(sys.argv[2])
t0 = time.perf_counter()
H = hinf(X)
t1 = time.perf_counter()
L = np.linalg.cholesky(H); z = sl.cho_solve((L, True), y); q = float(y @ z)
t2 = time.perf_counter()
json.dump({"kernel_s": t1 - t0, "solve_s": t2 - t1, "q": q}, open(sys.argv[3], "w"))
'''

# numpy's own np.linalg.cholesky crashes (SIGSEGV in OpenBLAS's threaded syrk) on this
# machine for n >= 16,000 with 2 threads (scipy-openblas 0.3.31 and openblas 0.3.23 alike:
# the n^2 * 8 bytes of the matrix pass 2^31); with OPENBLAS_NUM_THREADS=1 it completes.
# This route is the same LAPACK/BLAS on both cores: a right-looking blocked Cholesky in
# place, np.linalg.cholesky on 4,096-blocks, scipy's solve_triangular for the panel and
# a GEMM per block row for the trailing update (each call well below the crash size).
NUMPY_CHOL_BLOCKED = r'''
import json, sys, time, numpy as np, scipy.linalg as sl
''' + HINF + r'''
X = np.load(sys.argv[1]); y = np.load(sys.argv[2])
t0 = time.perf_counter()
H = hinf(X)
t1 = time.perf_counter()
n = H.shape[0]; nb = 4096
for j in range(0, n, nb):
    e = min(j + nb, n)
    H[j:e, j:e] = np.linalg.cholesky(H[j:e, j:e])
    if e < n:
        # L_ij = A_ij L_jj^-T
        H[e:, j:e] = sl.solve_triangular(H[j:e, j:e], H[e:, j:e].T, lower=True).T
        for i in range(e, n, nb):
            f = min(i + nb, n)
            H[i:f, e:f] -= H[i:f, j:e] @ H[e:f, j:e].T
# L z = y, then L^T w = z, by blocks (no copy of the n x n factor)
blocks = [(j, min(j + nb, n)) for j in range(0, n, nb)]
z = y.astype(np.float64).copy()
for j, e in blocks:
    z[j:e] = sl.solve_triangular(H[j:e, j:e], z[j:e], lower=True)
    z[e:] -= H[e:, j:e] @ z[j:e]
for j, e in reversed(blocks):
    z[j:e] = sl.solve_triangular(H[j:e, j:e], z[j:e], lower=True, trans='T')
    z[:j] -= H[j:e, :j].T @ z[j:e]
q = float(y @ z)
t2 = time.perf_counter()
json.dump({"kernel_s": t1 - t0, "solve_s": t2 - t1, "q": q}, open(sys.argv[3], "w"))
'''

SCIPY_EIGH = r'''
import json, sys, time, numpy as np, scipy.linalg as sl
''' + HINF + r'''
X = np.load(sys.argv[1]); k = int(sys.argv[2])
if len(sys.argv) > 4:
    X = X[:int(sys.argv[4])]
t0 = time.perf_counter()
H = hinf(X)
t1 = time.perf_counter()
n = H.shape[0]
w = sl.eigh(H, subset_by_index=[n - k, n - 1], eigvals_only=False, overwrite_a=True)[0]
t2 = time.perf_counter()
json.dump({"kernel_s": t1 - t0, "eigh_s": t2 - t1, "eigenvalues": sorted(w.tolist(), reverse=True)},
          open(sys.argv[3], "w"))
'''


def timed(cmd, env=None):
    """Runs cmd under /usr/bin/time -v: (wall seconds, peak RSS in GiB, stderr)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True,
                       env=None if env is None else {**os.environ, **env})
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr[-3000:]}")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return wall, (int(m.group(1)) / 2**20 if m else float("nan")), p.stderr


def widenet_cmd(a, X_p, y_p, out, k, precond):
    """The widenet analyze command line of this benchmark."""
    cmd = [a.widenet, "analyze", "--x", X_p, "--y", y_p, "--eta", "1e-3", "--steps", "10",
           "--out", out, "--path", a.path, "--top-k", str(k), "--tol", "1e-6",
           "--memory-budget", a.memory_budget]
    if precond:
        cmd += ["--precond", precond]
    cmd += a.widenet_args.split()
    print("$ " + " ".join(cmd), flush=True)
    return cmd


def idx(path):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        b = f.read()
    import numpy as np
    magic = int.from_bytes(b[:4], "big")
    if magic == 2051:
        n, r, c = (int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
        return np.frombuffer(b, np.uint8, offset=16).reshape(n, r * c)
    n = int.from_bytes(b[4:8], "big")
    return np.frombuffer(b, np.uint8, offset=8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--widenet", required=True)
    ap.add_argument("--mnist", help="directory of the MNIST IDX files (all images, even/odd)")
    ap.add_argument("--n", type=int, default=8000, help="synthetic: samples on the sphere")
    ap.add_argument("--d", type=int, default=784)
    ap.add_argument("--top-k", type=int, default=200)
    ap.add_argument("--path", default="f32")
    ap.add_argument("--memory-budget", default="6G")
    ap.add_argument("--workdir", default="/tmp/widenet-large-n")
    ap.add_argument("--skip-scipy", action="store_true")
    ap.add_argument("--skip-widenet", action="store_true",
                    help="reuse widenet.json and widenet_time.json from an earlier run in --workdir")
    ap.add_argument("--skip-numpy", action="store_true",
                    help="no numpy Cholesky (n = 60,000: numpy cannot hold the f64 kernel here)")
    ap.add_argument("--numpy-threads", type=int, default=0,
                    help="OPENBLAS_NUM_THREADS for numpy's own Cholesky (1 avoids its crash "
                         "at n >= 16,000 here); 0: as set in the environment")
    ap.add_argument("--numpy-blocked", action="store_true",
                    help="also run the blocked Cholesky route (same LAPACK/BLAS, all threads; "
                         "numpy's own cholesky crashes here with 2 threads at n >= 16,000)")
    ap.add_argument("--scipy-n", type=int, default=0,
                    help="run scipy's eigh on the first N samples only and extrapolate its "
                         "time to n with the n^3 law (stated in the output)")
    ap.add_argument("--widenet-args", default="",
                    help="extra arguments for widenet analyze (e.g. '--block 128')")
    ap.add_argument("--precond", default=None,
                    help="widenet analyze --precond (auto, cholesky, spectral-cg)")
    ap.add_argument("--precond-baseline", default=None,
                    help="also run widenet with this --precond (e.g. cholesky) in the same run "
                         "and print the time ratio and the agreement of the results")
    a = ap.parse_args()
    import numpy as np
    os.makedirs(a.workdir, exist_ok=True)
    X_p, y_p = os.path.join(a.workdir, "X.npy"), os.path.join(a.workdir, "y.npy")
    if a.mnist:
        xs, ls = [], []
        for pre in ["train", "t10k"]:
            xs.append(idx(os.path.join(a.mnist, f"{pre}-images-idx3-ubyte.gz")))
            ls.append(idx(os.path.join(a.mnist, f"{pre}-labels-idx1-ubyte.gz")))
        X = np.concatenate(xs).astype(np.float64) / 255.0
        lab = np.concatenate(ls)
        y = np.where(lab % 2 == 0, 1.0, -1.0)
        what = f"all local MNIST ({X.shape[0]} images, d = {X.shape[1]}), even/odd labels"
    else:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((a.n, a.d))
        y = np.sign(X[:, 0] + 0.5 * X[:, 1])
        what = f"synthetic sphere points n = {a.n}, d = {a.d}"
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    np.save(X_p, X); np.save(y_p, y)
    n, k = X.shape[0], a.top_k
    print(f"{what}; top-{k}; threads: OMP/OPENBLAS as set in the environment, widenet all cores; "
          f"load average before: {os.getloadavg()}")
    py = sys.executable
    res = {}
    w_out = os.path.join(a.workdir, "widenet.json")
    wt_p = os.path.join(a.workdir, "widenet_time.json")
    if a.skip_widenet:
        t, rss = json.load(open(wt_p))
        print(f"(widenet not rerun: its time and peak memory from {wt_p})")
    else:
        t, rss, err = timed(widenet_cmd(a, X_p, y_p, w_out, k, a.precond))
        json.dump([t, rss], open(wt_p, "w"))
        # widenet's stderr (with WIDENET_PROFILE=1: the per-phase split) next to its JSON
        open(os.path.join(a.workdir, "widenet.stderr"), "w").write(err)
    wj = json.load(open(w_out))
    res["widenet"] = (t, rss)
    print(f"widenet ({a.path}): {t:.1f} s, peak {rss:.2f} GiB; phases {wj['timings']}")
    print(f"  y^T H^-1 y = {wj['y_hinv_y']:.10e} (claimed rel. error <= {wj['achieved_rel_error']:.1e}), "
          f"{wj['krylov_products']} product columns, {wj['cg_iterations']} CG iterations, "
          f"eig. max rel. residual {wj['eig_max_rel_residual']:.1e}, converged {wj['eig_converged']}")
    print(f"  preconditioner {wj.get('preconditioner')}, inner CG product columns "
          f"{wj.get('inner_cg_products')}, lambda_min estimate {wj['lambda_min_estimate']:.4e}")
    if a.precond_baseline:
        b_out = os.path.join(a.workdir, "widenet_baseline.json")
        print(f"load average before the baseline: {os.getloadavg()}")
        tb, rssb, errb = timed(widenet_cmd(a, X_p, y_p, b_out, k, a.precond_baseline))
        open(os.path.join(a.workdir, "widenet_baseline.stderr"), "w").write(errb)
        bj = json.load(open(b_out))
        rq = abs(wj["y_hinv_y"] - bj["y_hinv_y"]) / abs(bj["y_hinv_y"])
        ev = np.array(bj["eigenvalues"]); wv = np.array(wj["eigenvalues"])
        print(f"widenet --precond {a.precond_baseline} ({bj.get('preconditioner')}): {tb:.1f} s, "
              f"peak {rssb:.2f} GiB; phases {bj['timings']}")
        print(f"  ratio (time) baseline / widenet = {tb / t:.2f}; y^T H^-1 y rel. diff {rq:.2e} "
              f"(claimed {wj['achieved_rel_error']:.1e} and {bj['achieved_rel_error']:.1e}); "
              f"top-{k} eigenvalues max rel. diff {np.max(np.abs(wv - ev) / ev):.2e}")
    def cholesky_route(key, label, script, out_name, env=None):
        """Runs one numpy Cholesky route, prints its time and its agreement with widenet."""
        c_out = os.path.join(a.workdir, out_name)
        print(label, flush=True)
        t, rss, _ = timed([py, "-c", script, X_p, y_p, c_out], env)
        cj = json.load(open(c_out))
        res[key] = (t, rss)
        print(f"{key}: {t:.1f} s total (kernel {cj['kernel_s']:.1f} s, "
              f"factor + solve {cj['solve_s']:.1f} s), peak {rss:.2f} GiB")
        rq = abs(wj["y_hinv_y"] - cj["q"]) / abs(cj["q"])
        print(f"  y^T H^-1 y: widenet {wj['y_hinv_y']:.10e} (claimed rel. error <= "
              f"{wj['achieved_rel_error']:.1e}), numpy {cj['q']:.10e}, rel. diff {rq:.2e}")

    if not a.skip_numpy:
        env = {"OPENBLAS_NUM_THREADS": str(a.numpy_threads)} if a.numpy_threads else None
        cholesky_route("chol", "numpy cholesky + cho_solve"
                       + (f" with OPENBLAS_NUM_THREADS={a.numpy_threads}" if env else ""),
                       NUMPY_CHOL, "chol.json", env)
    if a.numpy_blocked:
        cholesky_route("chol_blocked", "numpy blocked Cholesky (np.linalg.cholesky on 4,096-blocks, "
                       "solve_triangular, GEMM)", NUMPY_CHOL_BLOCKED, "chol_blocked.json")
    if not a.skip_scipy:
        e_out = os.path.join(a.workdir, "eigh.json")
        ns = a.scipy_n if 0 < a.scipy_n < n else n
        t, rss, _ = timed([py, "-c", SCIPY_EIGH, X_p, str(k), e_out, str(ns)])
        ej = json.load(open(e_out))
        scale = (n / ns) ** 3
        res["eigh"] = (t * scale, rss)
        print(f"scipy eigh(subset_by_index) top-{k} at n = {ns}: {t:.1f} s total (kernel "
              f"{ej['kernel_s']:.1f} s, eigh {ej['eigh_s']:.1f} s), peak {rss:.2f} GiB")
        if ns < n:
            print(f"  extrapolated to n = {n} by the n^3 law: {t * scale:.0f} s (x{scale:.2f}; "
                  f"eigenvalues not comparable)")
        else:
            ev = np.array(ej["eigenvalues"]); wv = np.array(wj["eigenvalues"])
            print(f"  top-{k} eigenvalues: max rel. diff {np.max(np.abs(wv - ev) / ev):.2e}")
    tw = res["widenet"][0]
    print("ratios (time): "
          + (f"cholesky route / widenet = {res['chol'][0] / tw:.2f}" if "chol" in res else "")
          + (f", blocked cholesky / widenet = {res['chol_blocked'][0] / tw:.2f}"
             if "chol_blocked" in res else "")
          + (f", scipy eigh / widenet = {res['eigh'][0] / tw:.2f}" if "eigh" in res else ""))
    print(f"peak memory: widenet {res['widenet'][1]:.2f} GiB"
          + (f", numpy cholesky {res['chol'][1]:.2f} GiB" if "chol" in res else "")
          + (f", scipy eigh {res['eigh'][1]:.2f} GiB (at its n)" if "eigh" in res else ""))
    print(f"load average after the run: {os.getloadavg()}")


if __name__ == "__main__":
    main()
