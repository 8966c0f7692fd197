"""widenet on a Dask cluster: kernels as lazy dask arrays and seed 001's analysis
(y^T K^-1 y, the complexity measure, the top-k spectrum and label projections, eq. 8's
predicted loss) with every kernel product running on the workers.

Needs ``dask[array]``, ``distributed`` and ``scipy``
(``pip install "dask[array]" distributed scipy``).

Design (see docs/dask.md for the cost model and cluster recipes):

- A kernel block is widenet's tile function (``_widenet.kernel_block``, the Rust
  ``kernels::tile::region`` over the kernel's ``TileKernel``), run with the GIL released
  on a worker. The block is cut along the same 256-wide tile grid as the single-machine
  drivers, lower tiles evaluated, upper tiles transposed, so every block equals the
  single-machine kernel's block bit for bit. Chunks are multiples of 256.
- :func:`kernel` returns a lazy ``dask.array``: one graph key holds the inputs, each
  lower block (J <= I) is one task, each upper block is the transpose of its twin (one
  evaluation per off-diagonal block).
- :class:`DistributedKernel` is the operator the solvers use. The lower blocks are
  grouped into a fixed number of *slots* (a function of n and the chunk only, never of
  the worker count), one task per slot and product returns its partial K·V, and the
  client sums the partials in slot order, so a product is bit-reproducible whatever the
  workers and whatever fails. With ``mode="persist"`` each slot's tiles are computed
  once and held in worker memory (the product task runs where its tiles are); with
  ``mode="matrix-free"`` every product recomputes its tiles from the inputs; with
  ``mode="mixed"`` (H^inf of f64 inputs whose f64 tiles do not fit) the f32 tiles are
  held as far as the budget goes and the rest recomputed, the solvers working on the
  f32 kernel under a flexible f64 CG. The mode is chosen from
  the memory budget (half the cluster's worker memory by default).
  The inputs are one task result on the cluster (recomputable by the scheduler if its
  worker dies), a dependency of every tile task: each worker fetches it from a peer
  when it first needs it (the kernel itself never travels, only n x b blocks).
- The solvers are the library's (``src/theory/large_n/``), run through the binding
  (``_widenet.analyze_operator``) on the cluster's products: this module keeps only the
  distribution (the graph, the slots, the persisted tiles, the products, the Cholesky
  factor and the block-Jacobi blocks on the workers) and hands its product (and its
  preconditioner) to the Rust solvers as Python callables, the GIL released between
  them. Modes "persist" and "matrix-free" (f64 products) run the single-machine dense
  path's algorithms: block Lanczos with full reorthogonalization and thick restarts on
  the f64 products, then CG for y^T K^-1 y preconditioned as the memory budget allows:
  when the persisted tiles and a Cholesky factor fit, the kernel factored on the workers
  by Dask's blocked Cholesky (``dask.array.linalg.cholesky``, f64 or f32) and applied by
  distributed triangular solves (the library's external-preconditioner hook; a couple
  of CG iterations); otherwise the spectral preconditioner M = V Theta V^T +
  sigma (I - V V^T) from the Ritz pairs (no extra products and nothing n x n on the
  client). Mode "mixed" runs the single-machine matrix-free path's (see
  :func:`_analyze_library`). The stopping rules, lambda_min's estimate, the reported
  accuracy ||r||^2 / (lambda_min q) and eq. 8 with its rigorous bounds are the
  library's, so the distributed result is the single-machine one (to rounding; bit
  for bit where the products are the same bits).
- Progress: ``progress=True`` prints one line per iteration with the accuracy reached
  and an ETA on stderr (or pass a callable). Ctrl-C cancels the in-flight futures and
  raises KeyboardInterrupt.
"""

from __future__ import annotations

import functools
import json
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import LargeAnalysis, _widenet, _arr, _int, _steps



def _version_tuple(version: str) -> Tuple[int, ...]:
    """The calendar release of a dask/distributed version, (year, month): the two
    packages are released together and a pair from different releases cannot work
    together (distributed imports dask internals that change between releases)."""
    parts = []
    for p in version.split(".")[:2]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits) if digits else -1)
    return tuple(parts)


def check_dask_versions(dask_version: Optional[str] = None,
                        distributed_version: Optional[str] = None) -> None:
    """Raise ImportError naming both versions when dask and distributed come from
    different releases (e.g. dask 2026.11.0 with distributed 2021.4.1, which pip picks
    when the newest dask has no matching distributed yet). The versions are read from
    the installed packages' metadata when not given, without importing distributed, so
    the message replaces distributed's own ImportError from inside its modules."""
    from importlib import metadata
    try:
        dv = dask_version or metadata.version("dask")
        sv = distributed_version or metadata.version("distributed")
    except metadata.PackageNotFoundError as e:
        raise ImportError(
            f"widenet.dask needs dask and distributed ({e.name} is not installed): "
            "pip install 'widenet[dask]' (or pip install 'dask[array,distributed]' scipy)"
        ) from e
    if _version_tuple(dv) != _version_tuple(sv):
        raise ImportError(
            f"widenet.dask: dask {dv} and distributed {sv} are from different releases and "
            "cannot work together (dask and distributed are released in lockstep); install a "
            f"matching pair, e.g. pip install 'dask[array,distributed]=={sv}' or "
            "pip install 'widenet[dask]'"
        )


check_dask_versions()

try:
    import dask
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph
except ImportError as e:  # pragma: no cover - exercised only without dask
    raise ImportError(
        "widenet.dask needs dask and distributed: pip install 'widenet[dask]' "
        "(or pip install 'dask[array,distributed]' scipy)"
    ) from e

__all__ = [
    "check_dask_versions",
    "KINDS",
    "TILE",
    "kernel",
    "kernel_block",
    "DistributedKernel",
    "CholeskyFactor",
    "DaskAnalysis",
    "analyze",
    "check_kernel",
]

#: Side of widenet's kernel tiles; chunks must be multiples of it.
TILE = 256
#: The kernels with a tile function, and the dimension of their inputs.
KINDS = {"relu_ntk": 2, "fc_ntk": 2, "fc_nngp": 2, "gaussian": 2, "arcsin": 2,
         "rnn_ntk": 3}
#: Relative symmetry tolerance of a user kernel: |K_ij - K_ji| <= tol sqrt(|K_ii K_jj|)
#: (the single-machine StoredKernel's SYMMETRY_TOL_F64 / _F32).
SYMMETRY_TOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}


# ------------------------------------------------------------------- task bodies


def kernel_block(kind: str, xa: np.ndarray, xb: Optional[np.ndarray] = None,
                 **params: Any) -> np.ndarray:
    """Block of the ``kind`` kernel: K(xa, xa) with ``xb`` None, else the lower block
    K[rows of xb, rows of xa] (xa a multiple of 256 rows, block J before block I); bit
    for bit the single-machine kernel's entries. Runs with the GIL released."""
    return _widenet.kernel_block(kind, xa, xb, **params)


def _lower_block(xj: np.ndarray, xi: np.ndarray, *, kind: str, same: bool,
                 params: Dict[str, Any]) -> np.ndarray:
    if same:
        return _widenet.kernel_block(kind, xi, None, **params)
    return _widenet.kernel_block(kind, xj, xi, **params)


def _rows(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.ascontiguousarray(x[lo:hi])


# -------------------------------------------------------------- the lazy kernel


def _check_chunk(chunk: int, n: int) -> int:
    chunk = _int(chunk, "chunk", TILE)
    if chunk % TILE:
        raise ValueError(f"invalid chunk: must be a multiple of {TILE}, got {chunk}")
    return min(chunk, max(TILE, -(-n // TILE) * TILE))


def _params(kind: str, precision: str, depth: int, trained: str, bandwidth: float,
            preset: Optional[str]) -> Dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"invalid kind: '{kind}' is not one of {', '.join(KINDS)}")
    if precision not in ("f64", "f32"):
        raise ValueError(f"invalid precision: expected 'f64' or 'f32', got {precision!r}")
    if precision == "f32" and kind != "relu_ntk":
        raise ValueError(f"invalid precision: f32 blocks exist for relu_ntk only, not {kind}")
    if kind == "rnn_ntk" and preset is None:
        raise ValueError("invalid preset: the rnn_ntk kernel needs preset='elman' or 'wang'")
    return dict(precision=precision, depth=int(depth), trained=str(trained),
                bandwidth=float(bandwidth), preset=preset)


def kernel(x: Any, kind: str = "relu_ntk", *, chunk: int = 2048, precision: str = "f64",
           depth: int = 3, trained: str = "all", bandwidth: float = 1.0,
           preset: Optional[str] = None) -> "da.Array":
    """The ``kind`` kernel of the rows of ``x`` (numpy or dask array, n x d; n x L x d for
    ``rnn_ntk``) as a lazy n x n dask array with square ``chunk`` x ``chunk`` blocks
    (a multiple of 256). Each lower block is one task running widenet's tile function;
    each upper block is the transpose of its twin, so computing the whole array evaluates
    every off-diagonal block once. ``x`` is one key of the graph (shipped once per worker
    that needs it); a dask ``x`` is rechunked to row blocks and used block by block.
    Computed, it equals ``widenet.relu_ntk(x)`` (``fc_ntk``, ``fc_nngp(depth=)``,
    ``gaussian(bandwidth=)``, ``arcsin``, ``rnn_ntk(preset=)``) bit for bit; ``precision``
    "f32" gives the float32 H^inf of ``relu_ntk(x, precision="f32")``."""
    params = _params(kind, precision, depth, trained, bandwidth, preset)
    nd = KINDS[kind]
    if isinstance(x, da.Array):
        if x.ndim != nd:
            raise ValueError(f"invalid x: expected a {nd}-D array, got shape {x.shape}")
        if x.dtype not in (np.float32, np.float64):
            x = x.astype(np.float64)
        n = int(x.shape[0])
        chunk = _check_chunk(chunk, n)
        xr = x.rechunk((chunk,) + tuple(-1 for _ in x.shape[1:]))
        blk = _flat_keys(xr.__dask_keys__())
        dsk: Dict[Any, Any] = {}
        deps = [xr]
        tok = dask.base.tokenize(xr.name, kind, chunk, params)
    else:
        xa = _arr(x, "x", nd)
        n = xa.shape[0]
        chunk = _check_chunk(chunk, n)
        tok = dask.base.tokenize(xa, kind, chunk, params)
        xname = "widenet-x-" + tok
        dsk = {xname: xa}
        nb = -(-n // chunk)
        blk = [("widenet-xrows-" + tok, i) for i in range(nb)]
        for i in range(nb):
            dsk[blk[i]] = (_rows, xname, i * chunk, min(n, (i + 1) * chunk))
        deps = []
    if n == 0:
        raise ValueError("invalid x: no samples")
    nb = -(-n // chunk)
    name = f"widenet-{kind}-" + tok
    dtype = np.float32 if precision == "f32" else np.float64
    for i in range(nb):
        for j in range(nb):
            if j < i:
                f = functools.partial(_lower_block, kind=kind, same=False, params=params)
                dsk[(name, i, j)] = (f, blk[j], blk[i])
            elif j == i:
                f = functools.partial(_lower_block, kind=kind, same=True, params=params)
                dsk[(name, i, j)] = (f, blk[j], blk[i])
            else:
                dsk[(name, i, j)] = (np.transpose, (name, j, i))
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=deps)
    chunks = tuple(min(chunk, n - i * chunk) for i in range(nb))
    return da.Array(graph, name, (chunks, chunks), dtype=dtype)


def _flat_keys(keys: Any) -> List[Any]:
    """The keys of the row blocks of an array chunked along its first axis only."""
    keys = list(keys)
    while isinstance(keys, list) and keys and isinstance(keys[0], list):
        keys = [k[0] for k in keys]
    return keys


# ------------------------------------------------------------ worker-side state


def _ident(x: Any) -> Any:
    return x


# ------------------------------------------------------------------- slots


def _slots(nb: int) -> List[List[Tuple[int, int]]]:
    """The lower blocks (J <= I) in a fixed number of groups of about equal work: at most
    16 groups, a function of nb only (so products are bit-reproducible on any cluster).
    Rows are dealt in the order 0, nb-1, 1, nb-2, ... (pairs of equal length)."""
    order: List[int] = []
    for i in range((nb + 1) // 2):
        order.append(i)
        if nb - 1 - i != i:
            order.append(nb - 1 - i)
    tiles = [(i, j) for i in order for j in range(i + 1)]
    s = max(1, min(16, len(tiles)))
    per = -(-len(tiles) // s)
    return [tiles[k:k + per] for k in range(0, len(tiles), per)]


def _slot_rows(pairs: Sequence[Tuple[int, int]], n: int, c: int) -> int:
    return min(n, max(i for i, _ in pairs) * c + c)


def _apply(pairs: Sequence[Tuple[int, int]], tiles: Sequence[np.ndarray], v: np.ndarray,
           n: int, c: int) -> np.ndarray:
    """Partial K·V of a slot: Y_I += K_IJ V_J and, for J < I, Y_J += K_IJ^T V_I."""
    hi = _slot_rows(pairs, n, c)
    y = np.zeros((hi, v.shape[1]), dtype=np.float64)
    # arrays received over the network may be misaligned, and numpy multiplies those
    # without BLAS (another summation order): aligned copies keep products reproducible
    v = np.require(v, np.float64, ["C", "A"])
    for (i, j), t in zip(pairs, tiles):
        t = np.require(t, None, ["C", "A"])
        ri, rj = slice(i * c, min(n, i * c + c)), slice(j * c, min(n, j * c + c))
        if t.dtype == np.float32:
            y[ri] += t @ v[rj].astype(np.float32)
            if j != i:
                y[rj] += t.T @ v[ri].astype(np.float32)
        else:
            y[ri] += t @ v[rj]
            if j != i:
                y[rj] += t.T @ v[ri]
    return y


def _make_tiles(x: np.ndarray, pairs: Sequence[Tuple[int, int]], n: int, c: int, kind: str,
                params: Dict[str, Any]) -> List[np.ndarray]:
    out = []
    for i, j in pairs:
        xi = x[i * c:min(n, i * c + c)]
        xj = x[j * c:min(n, j * c + c)]
        out.append(_widenet.kernel_block(kind, xi, None, **params) if i == j
                   else _widenet.kernel_block(kind, xj, xi, **params))
    return out


def _apply_free(x: np.ndarray, pairs: Sequence[Tuple[int, int]], v: np.ndarray, n: int, c: int,
                kind: str, params: Dict[str, Any]) -> np.ndarray:
    """Matrix-free: the slot's tiles recomputed from the inputs, applied, dropped."""
    v = np.require(v, np.float64, ["C", "A"])
    hi = _slot_rows(pairs, n, c)
    y = np.zeros((hi, v.shape[1]), dtype=np.float64)
    for i, j in pairs:
        xi = x[i * c:min(n, i * c + c)]
        t = _widenet.kernel_block(kind, xi, None, **params) if i == j else \
            _widenet.kernel_block(kind, x[j * c:min(n, j * c + c)], xi, **params)
        ri, rj = slice(i * c, min(n, i * c + c)), slice(j * c, min(n, j * c + c))
        vv = v.astype(np.float32) if t.dtype == np.float32 else v
        y[ri] += t @ vv[rj]
        if j != i:
            y[rj] += t.T @ vv[ri]
    return y


def _rows_of(i: int, n: int, c: int) -> int:
    return min(n, i * c + c) - i * c


def _f32_error(x: np.ndarray, pairs: Sequence[Tuple[int, int]], n: int, c: int, kind: str,
               params: Dict[str, Any], params32: Dict[str, Any]) -> float:
    """rms of the f64 tiles minus the f32 tiles over ``pairs``."""
    s = m = 0.0
    for t64, t32 in zip(_make_tiles(x, pairs, n, c, kind, params),
                        _make_tiles(x, pairs, n, c, kind, params32)):
        d = t64 - t32.astype(np.float64)
        s += float(np.sum(d * d))
        m += d.size
    return math.sqrt(s / m)


def _stack_tiles(*tiles: np.ndarray) -> List[np.ndarray]:
    return [np.asarray(t) for t in tiles]


def _apply_blocks(pairs: Sequence[Tuple[int, int]], v: np.ndarray, n: int, c: int,
                  *tiles: np.ndarray) -> np.ndarray:
    return _apply(pairs, [np.asarray(t) for t in tiles], v, n, c)


# ---------------------------------------------------- user kernels: validation


def _block_diag(t: np.ndarray) -> np.ndarray:
    return np.diag(np.asarray(t)).astype(np.float64)


def _check_pair(i: int, j: int, c: int, tij: np.ndarray, tji: np.ndarray,
                di: np.ndarray, dj: np.ndarray, tol: float) -> Optional[str]:
    """A refusal message for blocks (I, J), (J, I) of a user kernel, or None."""
    tij, tji = np.asarray(tij), np.asarray(tji)
    for (a, b, t) in ((i, j, tij), (j, i, tji)):
        bad = ~np.isfinite(t)
        if bad.any():
            p, q = np.argwhere(bad)[0]
            return (f"the kernel has a non-finite entry {t[p, q]} at "
                    f"({a * c + p}, {b * c + q})")
    diff = np.abs(tij.astype(np.float64) - tji.T.astype(np.float64))
    scale = np.sqrt(np.abs(np.outer(di, dj)))
    worst = diff - tol * scale
    if (worst > 0).any():
        p, q = np.unravel_index(np.argmax(worst / np.maximum(scale, 1e-300)), worst.shape)
        return (f"the kernel is not symmetric: K[{i * c + p}, {j * c + q}] = "
                f"{float(tij[p, q])!r} but K[{j * c + q}, {i * c + p}] = {float(tji[q, p])!r} "
                f"(relative tolerance {tol:g} "
                f"of sqrt(|K_ii K_jj|))")
    return None


def check_kernel(k: "da.Array", client: Any, *, chunk: Optional[int] = None,
                 tol: Optional[float] = None) -> "da.Array":
    """Checks a user kernel stored as a dask array (zarr, ``.npy`` tiles via
    ``da.from_npy_stack`` / ``from_delayed``, ...) tile-wise on the workers: square,
    finite, symmetric to ``tol`` relative to sqrt(|K_ii K_jj|) (default 1e-10 for
    float64, 1e-5 for float32, as for a single-machine kernel). Returns it rechunked to
    square blocks (``chunk``, a multiple of 256; default: its row chunk rounded); raises
    ValueError naming the worst entry."""
    if not isinstance(k, da.Array):
        raise ValueError(f"invalid kernel: expected a dask array, got {type(k).__name__}")
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"invalid kernel: a kernel must be a square n x n matrix, "
                         f"got shape {k.shape}")
    if k.dtype not in (np.float32, np.float64):
        raise ValueError(f"invalid kernel: expected float32 or float64, got {k.dtype}")
    n = int(k.shape[0])
    if chunk is None:
        chunk = max(TILE, (max(k.chunks[0]) // TILE) * TILE)
    chunk = _check_chunk(chunk, n)
    kr = k.rechunk((chunk, chunk))
    tol = SYMMETRY_TOL[np.dtype(k.dtype)] if tol is None else float(tol)
    nb = len(kr.chunks[0])
    blocks = kr.to_delayed()
    diags = [dask.delayed(_block_diag)(blocks[i, i]) for i in range(nb)]
    checks = [dask.delayed(_check_pair)(i, j, chunk, blocks[i, j], blocks[j, i], diags[i],
                                        diags[j], tol)
              for i in range(nb) for j in range(i + 1)]
    futs = client.compute(checks)
    msgs = _wait(client, futs, "kernel check")
    for m in msgs:
        if m is not None:
            raise ValueError(f"invalid kernel: {m}")
    return kr


# ------------------------------------------------------------- progress, waits


class _Progress:
    def __init__(self, what: str, show: Union[bool, Callable[[Dict[str, Any]], None]]):
        self.what, self.show, self.t0 = what, show, time.perf_counter()

    def __call__(self, it: int, err: float, target: float, rate: Optional[float]) -> None:
        if not self.show:
            return
        el = time.perf_counter() - self.t0
        eta = None
        if rate and rate > 0 and err > target > 0:
            eta = math.log(err / target) / rate * el / max(it, 1)
        info = dict(phase=self.what, iteration=it, error=err, target=target, elapsed=el,
                    eta=eta)
        if callable(self.show):
            self.show(info)
        else:
            e = "?" if eta is None else f"{eta:.0f} s"
            print(f"widenet.dask {self.what}: iteration {it}, accuracy {err:.2e} "
                  f"(target {target:.0e}), {el:.1f} s, ETA {e}", file=sys.stderr, flush=True)


def _wait(client: Any, futs: List[Any], what: str, timeout: Optional[float] = None) -> List[Any]:
    """Gathers ``futs`` (waiting at most ``timeout`` seconds when given); on Ctrl-C, a
    timeout or an error cancels them and re-raises."""
    from distributed import wait
    try:
        if timeout is not None:
            try:
                wait(futs, timeout=timeout)
            except TimeoutError:
                raise TimeoutError(f"{what} did not finish within {timeout} s") from None
        return client.gather(futs)
    except BaseException:
        client.cancel(futs)
        raise


def _settle(client: Any, futs: List[Any], what: str, timeout: Optional[float] = None) -> None:
    """Waits for ``futs`` to finish on the cluster, leaving their results there; raises
    the first task's exception; on Ctrl-C or a timeout releases them (the scheduler
    stops their work) and re-raises."""
    from distributed import wait
    try:
        try:
            wait(futs, timeout=timeout)
        except TimeoutError:
            raise TimeoutError(f"{what} did not finish within {timeout} s") from None
        for f in futs:
            if f.status == "error":
                f.result()  # raises the task's exception
    except BaseException:
        _release(futs)  # (cancel would also cancel the unwanted inner tasks: see there)
        raise


def _release(futs: List[Any]) -> None:
    """Drops this client's claim on ``futs``: the scheduler forgets them (and frees their
    memory) once nothing else needs them. Not ``client.cancel``: cancelling a key also
    cancels its dependents, and distributed asserts that each of those is still wanted
    by a client (tasks of a finished factorization or solve that the scheduler has not
    yet forgotten are not), which takes the scheduler down."""
    for f in futs:
        f.release()


# ------------------------------------------------------------ the operator


class DistributedKernel:
    """A symmetric n x n kernel on a Dask cluster, applied to n x b blocks by tasks on
    the workers (see the module docs). Build it with :meth:`from_inputs` or
    :meth:`from_array`; release the cluster memory with :meth:`close` (or ``with``)."""

    def __init__(self, client: Any, n: int, chunk: int, mode: str, *,
                 ref: Any = None, kind: Optional[str] = None,
                 params: Optional[Dict[str, Any]] = None, blocks: Any = None,
                 holders: Sequence[Any] = (), timeout: Optional[float] = None,
                 budget: Optional[int] = None):
        self.client, self.n, self.chunk, self.mode = client, n, chunk, mode
        #: Bytes of cluster memory the solvers may hold (tiles, a Cholesky factor).
        self.budget = _cluster_memory(client) // 2 if budget is None else int(budget)
        self.nb = -(-n // chunk)
        self.slots = _slots(self.nb)
        self._ref, self.kind, self.params, self._blocks = ref, kind, params, blocks
        self._holders = list(holders)
        self.timeout = timeout
        self.bytes_in = 0
        self.bytes_out = 0
        self._tiles: List[Any] = []
        #: mode "mixed": the f32 tiles held per slot (None: recomputed at every product)
        self._tiles32: List[Any] = []
        self._params32: Optional[Dict[str, Any]] = None
        #: Share of the lower tiles held in worker memory (f64 "persist", f32 "mixed").
        self.held_fraction = 1.0 if mode == "persist" else 0.0
        #: (precision, columns) of every product call, in order (the cost model's input;
        #: the column and call counts below are read off it).
        self.log: List[Tuple[str, int]] = []
        if mode == "mixed":
            if ref is None or kind != "relu_ntk" or (params or {}).get("precision") != "f64":
                raise ValueError("invalid mode: 'mixed' (f32 tiles under f64 products) needs "
                                 "the relu_ntk kernel of inputs in f64, not a stored kernel "
                                 "or another kind")
            self._params32 = dict(params or {}, precision="f32")
            # the slots in order, each held whole while the budget lasts; the products
            # are the same bits whichever are held (one f32 tile function)
            held = total = 0
            for pairs in self.slots:
                size = 4 * sum(_rows_of(i, n, chunk) * _rows_of(j, n, chunk)
                               for i, j in pairs)
                total += size
                if held + size <= self.budget:
                    held += size
                    self._tiles32.append(client.submit(_make_tiles, ref, pairs, n, chunk,
                                                       kind, self._params32, pure=False))
                else:
                    self._tiles32.append(None)
            self.held_fraction = held / total
        if mode == "persist":
            if ref is not None:
                self._tiles = [client.submit(_make_tiles, ref, pairs, n, chunk, kind, params,
                                             pure=False) for pairs in self.slots]
            else:
                self._tiles = [client.compute(dask.delayed(_stack_tiles)(
                    *[blocks[i, j] for i, j in pairs])) for pairs in self.slots]

    # -- constructors
    @classmethod
    def from_inputs(cls, client: Any, x: Any, kind: str = "relu_ntk", *, chunk: int = 2048,
                    mode: Optional[str] = None, memory_budget: Optional[int] = None,
                    precision: str = "f64", depth: int = 3, trained: str = "all",
                    bandwidth: float = 1.0, preset: Optional[str] = None,
                    timeout: Optional[float] = None) -> "DistributedKernel":
        """The ``kind`` kernel of the rows of ``x`` (numpy or dask). The inputs go to the
        cluster once (one task result every worker fetches once and keeps)."""
        params = _params(kind, precision, depth, trained, bandwidth, preset)
        nd = KINDS[kind]
        if isinstance(x, da.Array):
            if x.ndim != nd:
                raise ValueError(f"invalid x: expected a {nd}-D array, got shape {x.shape}")
            fut = client.compute(x.astype(np.float64) if x.dtype not in
                                 (np.float32, np.float64) else x)
        else:
            xa = _arr(x, "x", nd)
            with warnings.catch_warnings():
                # the inputs are meant to be one task of the graph (recomputable by the
                # scheduler if a worker dies), however large
                warnings.filterwarnings("ignore", message="Sending large graph")
                fut = client.submit(_ident, xa, pure=False)
        n = int(x.shape[0])
        if n < 2:
            raise ValueError(f"invalid x: need at least 2 samples, got {n}")
        chunk = _check_chunk(chunk, n)
        itemsize = 4 if precision == "f32" else 8
        mode = _choose_mode(client, n, chunk, itemsize, mode, memory_budget,
                            mixed_ok=kind == "relu_ntk" and precision == "f64")
        return cls(client, n, chunk, mode, ref=fut, kind=kind, params=params, holders=[fut],
                   timeout=timeout, budget=memory_budget)

    @classmethod
    def from_array(cls, client: Any, k: "da.Array", *, chunk: Optional[int] = None,
                   mode: Optional[str] = None, memory_budget: Optional[int] = None,
                   tol: Optional[float] = None, timeout: Optional[float] = None
                   ) -> "DistributedKernel":
        """A user kernel stored as a dask array, checked tile-wise on the workers
        (:func:`check_kernel`). ``mode="persist"`` holds its lower blocks in worker
        memory; ``"matrix-free"`` reads them from their source at every product."""
        kr = check_kernel(k, client, chunk=chunk, tol=tol)
        n, c = int(kr.shape[0]), int(kr.chunks[0][0])
        if n < 2:
            raise ValueError(f"invalid kernel: need at least 2 samples, got {n}")
        mode = _choose_mode(client, n, c, kr.dtype.itemsize, mode, memory_budget)
        return cls(client, n, c, mode, blocks=kr.to_delayed(), timeout=timeout,
                   budget=memory_budget)

    # -- the product
    def matmul(self, v: np.ndarray) -> np.ndarray:
        """K @ V (V: n or n x b, float64) as tasks on the workers; the partial results
        of the slots are summed on the client in slot order (bit-reproducible)."""
        v = np.asarray(v, dtype=np.float64)
        one = v.ndim == 1
        vm = np.ascontiguousarray(v[:, None] if one else v)
        if vm.shape[0] != self.n:
            raise ValueError(f"invalid V: {vm.shape[0]} rows against an n = {self.n} kernel")
        y = self._product(vm, "f64")
        return y[:, 0] if one else y

    __matmul__ = matmul

    def matmul32(self, v: np.ndarray) -> np.ndarray:
        """K32 @ V in mode "mixed": the f32 kernel (``precision="f32"`` tiles, held or
        recomputed, applied in f32 and summed in f64 in slot order): the operator of
        the Krylov phase and the inner CG. Bit-reproducible like :meth:`matmul`."""
        if self.mode != "mixed":
            raise ValueError(f"invalid mode: f32 products need mode 'mixed', not {self.mode!r}")
        vm = np.ascontiguousarray(np.asarray(v, dtype=np.float64))
        if vm.ndim != 2 or vm.shape[0] != self.n:
            raise ValueError(f"invalid V: expected {self.n} x b, got shape {vm.shape}")
        return self._product(vm, "f32")

    def _product(self, vm: np.ndarray, precision: str) -> np.ndarray:
        """One distributed product of the n x b block ``vm``: one task per slot, the
        partials summed in slot order; f64 (the kernel) or f32 (mode "mixed"'s K32)."""
        c, n = self.chunk, self.n
        with warnings.catch_warnings():
            # V is one task of the graph, not scattered data: a worker that dies holding
            # its only copy is then recovered by recomputing it (scattered data is lost)
            warnings.filterwarnings("ignore", message="Sending large graph")
            vf = self.client.submit(_ident, vm, pure=False)
        try:
            if precision == "f32":
                futs = [self.client.submit(_apply, pairs, tf, vf, n, c, pure=False)
                        if tf is not None else
                        self.client.submit(_apply_free, self._ref, pairs, vf, n, c, self.kind,
                                           self._params32, pure=False)
                        for pairs, tf in zip(self.slots, self._tiles32)]
            elif self.mode == "persist":
                futs = [self.client.submit(_apply, pairs, tf, vf, n, c, pure=False)
                        for pairs, tf in zip(self.slots, self._tiles)]
            elif self._ref is not None:
                futs = [self.client.submit(_apply_free, self._ref, pairs, vf, n, c, self.kind,
                                           self.params, pure=False) for pairs in self.slots]
            else:
                futs = [self.client.compute(dask.delayed(_apply_blocks)(
                    pairs, vf, n, c, *[self._blocks[i, j] for i, j in pairs]))
                    for pairs in self.slots]
            what = "kernel product" + (" (f32)" if precision == "f32" else "")
            parts = _wait(self.client, futs, what, self.timeout)
        finally:
            del vf
        y = np.zeros_like(vm)
        for p in parts:
            y[:p.shape[0]] += p
        self.log.append((precision, int(vm.shape[1])))
        self.bytes_in += vm.nbytes * len(self.client.scheduler_info()["workers"])
        self.bytes_out += sum(p.nbytes for p in parts)
        return y

    @property
    def products(self) -> int:
        """Columns multiplied in f64 products so far."""
        return sum(c for p, c in self.log if p != "f32")

    @property
    def products32(self) -> int:
        """Columns multiplied in f32 products so far (mode "mixed")."""
        return sum(c for p, c in self.log if p == "f32")

    @property
    def calls(self) -> int:
        """Product calls so far, either precision."""
        return len(self.log)

    def f32_error_rms(self) -> float:
        """rms(K - K32) over two sampled tiles (the first diagonal block and the last
        block row's first), computed on a worker: 2 n rms bounds ||K - K32||_2 as on the
        single-machine path (``f32_entry_rms``; ||E||_2 <= ||E||_F)."""
        if self._params32 is None:
            raise ValueError("invalid mode: needs mode 'mixed'")
        pairs = [(0, 0), (self.nb - 1, 0)] if self.nb > 1 else [(0, 0)]
        fut = self.client.submit(_f32_error, self._ref, pairs, self.n, self.chunk, self.kind,
                                 self.params, self._params32, pure=False)
        return float(_wait(self.client, [fut], "f32 rounding", self.timeout)[0])

    def diag(self) -> np.ndarray:
        """The diagonal K_ii (one product-free pass over the diagonal blocks)."""
        if self._ref is not None:
            futs = [self.client.submit(_diag_free, self._ref, i, self.n, self.chunk, self.kind,
                                       self.params, pure=False) for i in range(self.nb)]
        else:
            futs = [self.client.compute(dask.delayed(_block_diag)(self._blocks[i, i]))
                    for i in range(self.nb)]
        return np.concatenate(_wait(self.client, futs, "diagonal", self.timeout))

    def diag_block_inverses(self) -> List[np.ndarray]:
        """(K_II)^-1 for the diagonal blocks, factorized on the workers (Cholesky, an
        eigendecomposition with eigenvalues floored at rounding level where Cholesky
        fails), as the block-Jacobi part of the CG preconditioner."""
        futs = []
        for i in range(self.nb):
            if self.mode == "persist":
                s = next(k for k, pairs in enumerate(self.slots) if (i, i) in pairs)
                futs.append(self.client.submit(_inv_in_slot, self._tiles[s],
                                               self.slots[s].index((i, i)), pure=False))
            elif self._ref is not None:
                futs.append(self.client.submit(_inv_free, self._ref, i, self.n, self.chunk,
                                               self.kind, self.params, pure=False))
            else:
                futs.append(self.client.compute(dask.delayed(_spd_inverse)(
                    self._blocks[i, i])))
        return _wait(self.client, futs, "block-Jacobi factors", self.timeout)

    def close(self) -> None:
        """Releases the tiles and the inputs on the cluster."""
        _release(self._tiles + [t for t in self._tiles32 if t is not None] + self._holders)
        self._tiles, self._tiles32, self._holders = [], [], []

    def __enter__(self) -> "DistributedKernel":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def cholesky(self, precision: str = "f64") -> "CholeskyFactor":
        """The blocked Cholesky factor of the persisted kernel on the workers (see
        :class:`CholeskyFactor`); release it with its ``close``."""
        return CholeskyFactor(self, precision, timeout=self.timeout)


def _diag_free(x: np.ndarray, i: int, n: int, c: int, kind: str, params: Dict[str, Any]
               ) -> np.ndarray:
    return np.diag(_widenet.kernel_block(kind, x[i * c:min(n, i * c + c)], None, **params)
                   ).astype(np.float64)


def _spd_inverse(t: np.ndarray) -> np.ndarray:
    """The inverse of a symmetric positive (semi)definite block, symmetric positive
    definite itself (Cholesky; eigenvalues floored at n eps max where it fails)."""
    a = np.asarray(t, dtype=np.float64)
    a = 0.5 * (a + a.T)
    try:
        li = np.linalg.inv(np.linalg.cholesky(a))
        return li.T @ li
    except np.linalg.LinAlgError:
        w, q = np.linalg.eigh(a)
        w = np.maximum(w, len(w) * np.finfo(np.float64).eps * max(w.max(), 1e-300))
        return (q / w) @ q.T


def _inv_in_slot(tiles: Sequence[np.ndarray], k: int) -> np.ndarray:
    return _spd_inverse(tiles[k])


def _inv_free(x: np.ndarray, i: int, n: int, c: int, kind: str, params: Dict[str, Any]
              ) -> np.ndarray:
    return _spd_inverse(_widenet.kernel_block(kind, x[i * c:min(n, i * c + c)], None,
                                              **params))


def _cluster_memory(client: Any) -> int:
    ws = client.scheduler_info()["workers"].values()
    return int(sum(w.get("memory_limit", 0) or 0 for w in ws))


def _choose_mode(client: Any, n: int, c: int, itemsize: int, mode: Optional[str],
                 budget: Optional[int], mixed_ok: bool = False) -> str:
    """"persist" when the lower blocks fit the budget (default: half the workers' memory
    limits), else "mixed" where it exists (``mixed_ok``: H^inf of f64 inputs; f32 tiles
    held as far as the budget goes, see :func:`analyze`), else "matrix-free"."""
    if mode is not None:
        if mode not in ("persist", "matrix-free", "mixed"):
            raise ValueError(f"invalid mode: expected 'persist', 'mixed' or 'matrix-free', "
                             f"got {mode!r}")
        return mode
    nb = -(-n // c)
    need = nb * (nb + 1) // 2 * c * c * itemsize
    if budget is None:
        budget = _cluster_memory(client) // 2
    if need <= budget:
        return "persist"
    return "mixed" if mixed_ok else "matrix-free"


# ------------------------------------------------------- the Cholesky route


def _factor_block(tiles: Sequence[np.ndarray], k: int, i: int, j: int, n: int, c: int,
                  dtype: str, shift: float) -> np.ndarray:
    """Block (I, J), J <= I, of the matrix the blocked Cholesky factors: the persisted
    tile ``tiles[k]`` in the factor's precision, the diagonal shifted by ``shift`` (the
    f32 factor's, as on the single-machine f32 path), padded to c x c (dask's Cholesky
    needs equal square chunks): the short last block row gets zero rows and a unit
    diagonal, so the padded matrix is diag(K, I) and its factor diag(L, I)."""
    t = np.asarray(tiles[k])
    rows = min(n, i * c + c) - i * c
    if t.dtype == np.dtype(dtype) and rows == c and shift == 0.0:
        return t
    out = np.zeros((c, c), dtype=dtype)
    out[:t.shape[0], :t.shape[1]] = t
    if i == j:
        d = np.arange(rows)
        out[d, d] += np.asarray(shift, dtype=dtype)
        d = np.arange(rows, c)
        out[d, d] = 1.0
    return out


def _tile_diag_max(tiles: Sequence[np.ndarray], k: int) -> float:
    return float(np.max(np.diag(np.asarray(tiles[k]))))


def _block_product(u: np.ndarray, v: np.ndarray, transpose: bool) -> np.ndarray:
    """U v, or U^T v (a block of L = U^T), in the factor's precision."""
    return (u.T if transpose else u) @ v


def _block_solve(u: np.ndarray, rhs: np.ndarray, parts: Sequence[np.ndarray],
                 lower: bool) -> np.ndarray:
    """(U_ii^T or U_ii)^-1 (rhs - sum parts): one diagonal block of a blocked forward
    (``lower``: L_ii = U_ii^T) or back substitution."""
    from scipy.linalg import solve_triangular
    s = np.array(rhs, copy=True)
    for p in parts:
        s -= p
    return solve_triangular(u.T if lower else u, s, lower=lower)


class CholeskyFactor:
    """The blocked Cholesky factor L (K = L L^T) of a persisted :class:`DistributedKernel`,
    computed on the workers by ``dask.array.linalg.cholesky``'s graph from the persisted
    tiles (no tile moves to the client; the panel blocks move between workers) and held
    there as its lower blocks. :meth:`apply` is M^-1 R = L^-T L^-1 R by blocked
    triangular solves on the workers, one task per block (only R, the partial solutions
    and the block products of size chunk x b move). ``precision`` "f64" factors K itself
    (a non-positive pivot raises WidenetError); "f32" factors K + s I in float32 with
    s = 4 eps_32 sqrt(n) max K_ii, the single-machine f32 path's shift (half the memory
    and about half the flops' time; PCG's f64 products correct it)."""

    def __init__(self, op: DistributedKernel, precision: str = "f64",
                 timeout: Optional[float] = None):
        from dask.array.linalg import _cholesky
        from . import WidenetError
        if op.mode != "persist":
            raise ValueError("invalid preconditioner: the Cholesky route needs the tiles "
                             "persisted (mode='persist')")
        if precision not in ("f64", "f32"):
            raise ValueError(f"invalid factor_precision: expected 'f64' or 'f32', "
                             f"got {precision!r}")
        self.client, self.n, self.c, self.nb = op.client, op.n, op.chunk, op.nb
        self.precision, self.timeout = precision, timeout
        self.dtype = np.float32 if precision == "f32" else np.float64
        n, c, nb = self.n, self.c, self.nb
        where = {pair: (s, k) for s, pairs in enumerate(op.slots)
                 for k, pair in enumerate(pairs)}
        shift = 0.0
        if precision == "f32":
            futs = [self.client.submit(_tile_diag_max, op._tiles[where[i, i][0]],
                                       where[i, i][1], pure=False) for i in range(nb)]
            shift = 4.0 * float(np.finfo(np.float32).eps) * math.sqrt(n) * max(
                _wait(self.client, futs, "kernel diagonal", timeout))
        self.shift = shift
        tok = dask.base.tokenize(op._tiles, precision, n, c)
        name = "widenet-chol-in-" + tok
        dsk: Dict[Any, Any] = {}
        for i in range(nb):
            for j in range(nb):
                if j <= i:
                    s, k = where[i, j]
                    dsk[(name, i, j)] = (_factor_block, op._tiles[s], k, i, j, n, c,
                                         np.dtype(self.dtype).name, shift)
                else:
                    dsk[(name, i, j)] = (np.transpose, (name, j, i))
        chunks = ((c,) * nb, (c,) * nb)
        kd = da.Array(HighLevelGraph.from_collections(name, dsk, dependencies=[]), name,
                      chunks, dtype=self.dtype)
        lower, upper = _cholesky(kd)
        # hold only the computed blocks of L^T (the upper triangle; L's lower blocks are
        # their transposes): dask's graph also has zero blocks, never computed here
        ud = upper.to_delayed(optimize_graph=False)
        keys = [(j, i) for i in range(nb) for j in range(i + 1)]
        self._futs = self.client.compute([ud[j, i] for j, i in keys])
        try:
            _settle(self.client, self._futs, "blocked Cholesky factor")
        except np.linalg.LinAlgError as e:
            self.close()
            what = ("the shifted f32 kernel" if precision == "f32" else "the kernel")
            raise WidenetError(
                f"the {precision} Cholesky factor of {what} broke down on the workers "
                f"({e}): lambda_min(K) is below the rounding level (near-duplicate "
                f"inputs make H^inf singular, seed 001 Remark 5.1)") from None
        except BaseException:
            self.close()
            raise
        # U_ji = L_ij^T for j <= i, held on the workers
        self._ut = dict(zip(keys, self._futs))
        self.solves = 0

    @property
    def nbytes(self) -> int:
        """Bytes of the factor held on the workers (the lower blocks, padded)."""
        return self.nb * (self.nb + 1) // 2 * self.c * self.c * np.dtype(self.dtype).itemsize

    def apply(self, r: np.ndarray) -> np.ndarray:
        """L^-T L^-1 R for R n x b (float64 in and out; columns scaled to unit norm for an
        f32 factor and scaled back), by two blocked triangular solves on the workers:
        each off-diagonal block product a task beside its factor block, each diagonal
        solve a task beside its diagonal block (only R, the partial solutions and the
        chunk x b products move; the factor blocks stay where they are). The tasks are
        submitted directly, one per block, instead of a dask.array graph per call: a
        solve's latency is then a few scheduler round trips (issue 24: CI time)."""
        r = np.asarray(r, dtype=np.float64)
        b = r.shape[1]
        scale = np.linalg.norm(r, axis=0)
        scale[scale == 0] = 1.0
        rp = np.zeros((self.nb * self.c, b), dtype=self.dtype)
        rp[:self.n] = r / scale
        c, nb, ut, sub = self.c, self.nb, self._ut, self.client.submit
        # L z = r: z_i = L_ii^-1 (r_i - sum_{j<i} L_ij z_j), L_ij = U_ji^T
        z: List[Any] = []
        for i in range(nb):
            parts = [sub(_block_product, ut[j, i], z[j], True, pure=False) for j in range(i)]
            z.append(sub(_block_solve, ut[i, i], rp[i * c:(i + 1) * c], parts, True,
                         pure=False))
        # U x = z: x_i = U_ii^-1 (z_i - sum_{j>i} U_ij x_j)
        x: List[Any] = [None] * nb
        for i in reversed(range(nb)):
            parts = [sub(_block_product, ut[i, j], x[j], False, pure=False)
                     for j in range(i + 1, nb)]
            x[i] = sub(_block_solve, ut[i, i], z[i], parts, False, pure=False)
        try:
            out = _wait(self.client, x, "Cholesky triangular solves", self.timeout)
        finally:
            del z, x
        self.solves += 1
        return np.concatenate(out)[:self.n].astype(np.float64) * scale

    def close(self) -> None:
        """Releases the factor on the cluster."""
        _release(self._futs)
        self._futs = []


def _choose_preconditioner(op: DistributedKernel, preconditioner: Optional[str],
                           factor_precision: str) -> str:
    """The CG route: "cholesky" when the tiles are persisted and they, the factor and
    the factorization's working blocks fit the memory budget; else "spectral"."""
    if preconditioner is not None:
        return preconditioner
    if op.mode != "persist":
        return "spectral"
    c, nb = op.chunk, op.nb
    blocks = nb * (nb + 1) // 2 * c * c
    size = 4 if factor_precision == "f32" else 8
    # the tiles (f64), the factor, and (f32) the cast input blocks while it runs
    need = blocks * 8 + blocks * size * (2 if factor_precision == "f32" else 1)
    return "cholesky" if need <= op.budget else "spectral"


# ----------------------------------------------------------------- analyze


@dataclass(repr=False)
class DaskAnalysis(LargeAnalysis):
    """Seed 001's analysis computed on a Dask cluster: every field of
    :class:`widenet.LargeAnalysis` (the single-machine result, so the two stay in step;
    ``path`` names the route, e.g. "persist+cholesky-f64", and ``memory_budget`` is the
    cluster budget it was chosen with), plus the cluster's accounting. The added fields have defaults because
    :class:`widenet.LargeAnalysis` ends with defaulted fields (a dataclass rule)."""

    #: "persist" (tiles held in worker memory) or "matrix-free".
    mode: str = ''
    #: The CG preconditioner: "cholesky" (the blocked Cholesky factor on the workers),
    #: "spectral" or "block-jacobi".
    preconditioner: str = ''
    #: Precision of the Cholesky factor ("f64" or "f32"; "" without one).
    factor_precision: str = ''
    krylov_basis: int = 0
    #: Kernel products (columns), eigen-solve and CG together.
    products: int = 0
    #: Distributed products (rounds of tasks; each applies K to a block of columns).
    product_calls: int = 0
    #: Preconditioner applications by distributed triangular solves (Cholesky route),
    #: including the 30 Lanczos steps for lambda_min(M).
    triangular_solves: int = 0
    #: Bytes sent to the workers (the V blocks) and returned (the partials).
    bytes_to_workers: int = 0
    bytes_from_workers: int = 0
    #: Chunk (block side) and the number of product tasks per product.
    chunk: int = 0
    tasks_per_product: int = 0
    #: Share of the lower tiles held in worker memory (f64 in mode "persist", f32 in
    #: mode "mixed"; the rest recomputed at every product).
    held_fraction: float = 0.0
    #: Mode "mixed": f32 product columns (Krylov phase and inner CG) and the flexible
    #: f64 CG's iterations (one f64 pass each).
    products_f32: int = 0
    refinement_rounds: int = 0
    #: Mode "mixed": 2 n rms(K - K32), the bound on ||K - K32||_2 subtracted from
    #: lambda_min(K32).
    f32_rounding_bound: float = 0.0
    #: (precision, columns) of every distributed product call, in order.
    product_log: list = field(default_factory=list)


def analyze(x: Any = None, y: Any = None, *, client: Any, kernel: Any = None,
            kind: str = "relu_ntk", top_k: int = 10, eta: float = 1e-3,
            steps: Optional[int] = None,
            tol: float = 1e-6, eig_rtol: Optional[float] = None, chunk: int = 2048,
            mode: Optional[str] = None, memory_budget: Optional[int] = None,
            block: Optional[int] = None, max_basis: Optional[int] = None,
            max_cg_iters: int = 300, seed: int = 0, progress: Any = False,
            preconditioner: Optional[str] = None, factor_precision: str = "f64",
            timeout: Optional[float] = None, iters: Optional[int] = None,
            **kernel_params: Any) -> DaskAnalysis:
    """Seed 001's analysis on a Dask cluster (``client``, a ``distributed.Client``): the
    top-k eigenvalues and the projections |v_i^T y| (block Krylov, products on the
    workers, max relative residual reported), y^T K^-1 y and the complexity measure
    sqrt(2 y^T K^-1 y / n) (eq. 10) to relative accuracy ``tol`` (preconditioned CG,
    accuracy reached reported), and eq. 8's predicted loss with rigorous bounds (``steps``
    GD steps, default 1000; ``iters`` is its old name). The kernel is ``kind`` (relu_ntk = H^inf of eq. 3, fc_ntk, fc_nngp, gaussian, arcsin,
    rnn_ntk; ``kernel_params`` such as depth=, bandwidth=, preset=) of the rows of ``x``
    (numpy or dask), or a user ``kernel`` stored as a dask array (zarr, .npy tiles),
    checked tile-wise on the workers. ``mode`` "persist"/"mixed"/"matrix-free" (default:
    from ``memory_budget``, half the workers' memory: "persist" when the f64 tiles fit,
    else "mixed" for relu_ntk of f64 inputs, f32 tiles held as far as the budget goes,
    solved by a flexible f64 CG preconditioned by an inner CG on them, path "mixed+inner-cg").
    Every mode runs the library's solvers on the cluster's products (modes "persist" and
    "matrix-free": the single-machine dense path's algorithms on f64 products; "mixed":
    the matrix-free path's), with the library's stopping rules; ``eig_rtol`` (default:
    the path's, 1e-9 on f64 products) and ``max_basis`` (the Krylov basis cap; n makes
    the spectrum and eq. 8 exact) override block Lanczos's; ``progress`` hears of each
    product and triangular solve. ``preconditioner`` of the CG solve
    (default: "cholesky" when the persisted tiles and the factor fit ``memory_budget``,
    else "spectral"; the route taken is the result's ``path``): "cholesky" (the kernel
    factored on the workers by Dask's blocked Cholesky in ``factor_precision`` "f64" or
    "f32", applied by distributed triangular solves: a couple of CG iterations),
    "spectral" (deflation by the Ritz pairs of the Krylov basis) or "block-jacobi" (plus
    the diagonal blocks inverted on the workers; on MNIST it took more CG iterations
    than "spectral", see docs/dask.md). ``timeout`` bounds each product and each pair
    of triangular solves (s).
    Ctrl-C cancels the cluster work and raises KeyboardInterrupt. Arguments in
    :func:`widenet.analyze`'s order: ``analyze(x, y, client=...)``, or
    ``analyze(y=y, kernel=K, client=...)``."""
    from . import WidenetError, _x_then_y
    x, y = _x_then_y("widenet.dask.analyze", x, y)
    if y is None:
        raise ValueError("y: the labels are required (analyze(x, y, client=...) or "
                         "analyze(y=y, kernel=K, client=...))")
    clock = time.perf_counter()
    timings: List[Tuple[str, float]] = []

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings.append((name, now - clock))
        clock = now

    yv = _arr(y, "y", 1).astype(np.float64)
    if (x is None) == (kernel is None):
        raise ValueError("invalid x/kernel: give exactly one of x and kernel")
    if not (0 < tol < 1):
        raise ValueError(f"invalid tol: must lie in (0, 1), got {tol}")
    if not (eta > 0 and math.isfinite(eta)):
        raise ValueError(f"invalid eta: must be positive, got {eta}")
    steps = _steps(steps, iters, 1000)
    if kernel is not None:
        op = DistributedKernel.from_array(client, kernel if isinstance(kernel, da.Array)
                                          else da.from_array(np.asarray(kernel),
                                                             chunks=chunk),
                                          chunk=chunk, mode=mode,
                                          memory_budget=memory_budget, timeout=timeout)
    else:
        op = DistributedKernel.from_inputs(client, x, kind, chunk=chunk, mode=mode,
                                           memory_budget=memory_budget, timeout=timeout,
                                           **kernel_params)
    with op:
        n = op.n
        if yv.shape != (n,):
            raise ValueError(f"invalid y: expected length {n}, got shape {yv.shape}")
        if not np.all(np.isfinite(yv)) or not np.any(yv):
            raise ValueError("invalid y: must be finite and not all zero")
        lap("setup")
        if op.mode == "mixed":
            if preconditioner not in (None, "inner-cg"):
                raise ValueError(f"invalid preconditioner: mode 'mixed' solves by an inner CG "
                                 f"on the f32 tiles ('inner-cg'), not {preconditioner!r}")
            route = "inner-cg"
        else:
            route = _choose_preconditioner(op, preconditioner, factor_precision)
            if route not in ("cholesky", "spectral", "block-jacobi"):
                raise ValueError(f"invalid preconditioner: expected 'cholesky', 'spectral' or "
                                 f"'block-jacobi', got {route!r}")
        factor = None
        if route == "cholesky":
            _Progress("Cholesky factor (dask blocked)", progress)(0, math.nan, math.nan, None)
            try:
                factor = op.cholesky(factor_precision)
            except WidenetError as e:
                if preconditioner is not None:
                    raise
                warnings.warn(f"widenet.dask: {e}; falling back to spectral CG")
                route = "spectral"
            lap("cholesky factor")
        try:
            return _analyze_library(
                op, yv, route=route, factor=factor, top_k=_int(top_k, "top_k", 1),
                eta=float(eta), steps=steps, tol=float(tol), eig_rtol=eig_rtol, block=block,
                max_basis=max_basis, max_cg_iters=_int(max_cg_iters, "max_cg_iters", 1),
                seed=_int(seed, "seed"), progress=progress, lap=lap, timings=timings)
        finally:
            if factor is not None:
                factor.close()


def _analyze_library(op: DistributedKernel, yv: np.ndarray, *, route: str,
                     factor: Optional[CholeskyFactor], top_k: int, eta: float, steps: int,
                     tol: float, eig_rtol: Optional[float], block: Optional[int],
                     max_basis: Optional[int], max_cg_iters: int, seed: int, progress: Any,
                     lap: Callable[[str], None],
                     timings: List[Tuple[str, float]]) -> DaskAnalysis:
    """The analysis by the library's solvers on the cluster's products: the products
    (:meth:`DistributedKernel.matmul`, and in mode "mixed" :meth:`DistributedKernel.matmul32`)
    and the distributed preconditioner are handed to ``theory::large_n::analyze_operator``
    through the binding (the GIL released between products); only the products, the
    triangular solves and the block-Jacobi blocks run here, on the workers.

    - mode "mixed": the single-machine matrix-free path's algorithms (block Lanczos on
      K32, the spectral-cg preconditioner measured against the spectral one, f64
      Rayleigh-Ritz, Davidson and flexible CG);
    - modes "persist" and "matrix-free" (f64 products only): the single-machine dense
      path's (block Lanczos on f64 products, no refinement), with the CG preconditioned
      by the Cholesky factor on the workers (``route`` "cholesky": lambda_min(M) by
      Lanczos on M^-1, as for the dense path's factor), by the spectral deflation
      ("spectral") or by the diagonal blocks' inverses between the deflation
      ("block-jacobi", M^-1 = V Theta^-1 V^T + P B^-1 P).

    ``progress`` hears of each product call (phases "f32 products", "f64 passes" in
    mode "mixed", else "f64 products", and "Cholesky triangular solves"; iteration =
    the call's number)."""
    n = op.n
    mixed = op.mode == "mixed"
    rms = op.f32_error_rms() if mixed else 0.0
    p32 = _Progress("f32 products (library solvers)", progress)
    p64 = _Progress(("f64 passes" if mixed else "f64 products") + " (library solvers)",
                    progress)
    calls = {"f32": 0, "f64": 0}

    def product(precision: str, v: np.ndarray) -> np.ndarray:
        calls[precision] += 1
        (p32 if precision == "f32" else p64)(calls[precision], math.nan, math.nan, None)
        return op.matmul32(v) if precision == "f32" else op.matmul(v)

    kw: Dict[str, Any] = {}
    fp = ""
    if route == "cholesky":
        assert factor is not None
        fp = factor.precision
        psolve = _Progress("Cholesky triangular solves", progress)

        def solve(r: np.ndarray) -> np.ndarray:
            psolve(factor.solves + 1, math.nan, math.nan, None)
            return factor.apply(r)

        kw = dict(preconditioner=solve, preconditioner_name=f"cholesky-{fp}")
    elif route == "block-jacobi":
        binv = op.diag_block_inverses()
        c = op.chunk

        def jacobi(r: np.ndarray) -> np.ndarray:
            out = np.empty_like(r)
            for i, b in enumerate(binv):
                out[i * c:i * c + b.shape[0]] = b @ r[i * c:i * c + b.shape[0]]
            return out

        kw = dict(preconditioner=jacobi, preconditioner_name="block-jacobi", deflated=True)
        lap("block-Jacobi factors")
    d = json.loads(_widenet.analyze_operator(
        yv, n, functools.partial(product, "f64"),
        functools.partial(product, "f32") if mixed else None, f32_error_rms=rms,
        top_k=top_k, eta=eta, steps=steps, tol=tol, seed=seed,
        precond="auto" if mixed else "spectral" if route == "spectral" else None,
        block=block, max_cg_iters=max_cg_iters, path=None if mixed else "dense",
        eig_rtol=None if eig_rtol is None else float(eig_rtol),
        max_basis=None if max_basis is None else _int(max_basis, "max_basis", 1), **kw))
    lap("library solvers" + (" (f32 Krylov, f64 passes)" if mixed else " (f64 products)"))
    lab = d.pop("labels")[0]
    timings.extend((str(a), float(b)) for a, b in d["timings"])
    return DaskAnalysis(
        n=n, path=f"{op.mode}+{route}" + (f"-{fp}" if fp else ""), top_k=d["top_k"],
        eigenvalues=np.asarray(d["eigenvalues"], dtype=np.float64),
        projections=np.asarray(lab["projections"], dtype=np.float64),
        captured_fraction=lab["captured_fraction"], y_hinv_y=lab["y_hinv_y"],
        complexity_measure=lab["complexity_measure"],
        achieved_rel_error=lab["achieved_rel_error"], tol=d["tol"], eta=d["eta"],
        predicted_loss=np.asarray(lab["predicted_loss"], dtype=np.float64),
        predicted_loss_lower=np.asarray(lab["predicted_loss_lower"], dtype=np.float64),
        predicted_loss_upper=np.asarray(lab["predicted_loss_upper"], dtype=np.float64),
        max_stable_eta=d["max_stable_eta"], lambda_min_estimate=d["lambda_min_estimate"],
        condition_estimate=d["condition_estimate"],
        eig_max_rel_residual=d["eig_max_rel_residual"], eig_converged=d["eig_converged"],
        cg_iterations=lab["cg_iterations"], memory_budget=op.budget, timings=timings,
        krylov_products=d["krylov_products"], inner_cg_products=d["inner_cg_products"],
        mode=op.mode, preconditioner=route, factor_precision=fp,
        krylov_basis=d["krylov_basis"], products=op.products + op.products32,
        product_calls=op.calls,
        triangular_solves=factor.solves if factor is not None else 0,
        bytes_to_workers=op.bytes_in, bytes_from_workers=op.bytes_out, chunk=op.chunk,
        tasks_per_product=len(op.slots), held_fraction=op.held_fraction,
        products_f32=op.products32,
        refinement_rounds=sum(1 for p, _ in op.log if p != "f32") if mixed else 0,
        f32_rounding_bound=2.0 * n * rms, product_log=list(op.log))
