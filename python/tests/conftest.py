"""Shared helpers: the CLI binary (for bit-for-bit comparisons) and numpy references."""
import json
import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


# A process started in the background by a non-interactive shell inherits SIGINT ignored,
# and Python then installs no handler: `_thread.interrupt_main()` is a no-op and the
# Ctrl-C tests (widenet's and widenet.dask's) would wait for a call that never stops.
# The tests need Python's own handler, as in an interactive session.
signal.signal(signal.SIGINT, signal.default_int_handler)


def _cli_path():
    env = os.environ.get("WIDENET_CLI")
    if env:
        return Path(env)
    for p in (ROOT / "target" / "debug" / "widenet", ROOT / "target" / "release" / "widenet"):
        if p.exists():
            return p
    return None


@pytest.fixture(scope="session")
def cli():
    """Runs `widenet ARGS...` and returns its stdout. The test command (test.sh) builds
    the CLI with `cargo test` first and points WIDENET_CLI at it, so these comparisons
    run in CI; a bare `pytest` without a built CLI skips them."""
    path = _cli_path()
    if path is None or not path.exists():
        pytest.skip("the widenet CLI is not built (run ./test.sh or cargo build)")

    def run(*args):
        r = subprocess.run([str(path), *map(str, args)], capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, r.stderr
        return r.stdout

    return run


def h_inf_numpy(x, x2=None):
    """Seed 001 eq. 3 in closed form: x_i.x_j (pi - theta_ij) / (2 pi)."""
    x = np.asarray(x, dtype=np.float64)
    x2 = x if x2 is None else np.asarray(x2, dtype=np.float64)
    g = x @ x2.T
    n1 = np.linalg.norm(x, axis=1)
    n2 = np.linalg.norm(x2, axis=1)
    c = np.clip(g / np.outer(n1, n2), -1.0, 1.0)
    h = g * (np.pi - np.arccos(c)) / (2 * np.pi)
    if x2 is x:
        # theta_ii = 0 exactly: ||x_i||^2 / 2 (a rounded cosine just below 1 would put
        # arccos on its steep branch, an error ~ sqrt(eps))
        np.fill_diagonal(h, 0.5 * n1**2)
    return h


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)
