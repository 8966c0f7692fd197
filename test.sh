#!/usr/bin/env bash
# The test command (README, CI): the Rust tests, then the Python package's tests.
# On a fresh machine with Rust and Python 3.9+ it creates a virtual environment under
# target/pyenv, installs maturin, numpy, pytest, matplotlib (for the notebook plots) and dask[array] +
# distributed + scipy (widenet.dask; scipy for dask's blocked Cholesky and triangular solves)
# from PyPI, builds and installs the
# widenet package (`pip install .`, release profile) and runs pytest on python/tests.
set -euo pipefail
cd "$(dirname "$0")"

cargo test

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 9), "widenet needs Python 3.9+"'
VENV="$PWD/target/pyenv"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  "maturin>=1.5,<2.0" numpy pytest matplotlib "dask[array]" distributed scipy
# build once (maturin is on PATH for the build backend), then install over any old build
PATH="$VENV/bin:$PATH" "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-build-isolation --no-deps --force-reinstall .
# the CLI that `cargo test` built, for the bit-for-bit comparisons
WIDENET_CLI="$PWD/target/debug/widenet" "$VENV/bin/python" -m pytest -q -p no:cacheprovider python/tests
