#!/usr/bin/env bash
# The test command (README, CI): the Rust tests, then the Python package's tests.
# On a fresh machine with Rust and Python 3.9+ it creates a virtual environment under
# target/pyenv, installs the pinned test environment python/requirements-test.lock from PyPI
# (maturin, numpy, pytest, matplotlib for the notebook plots, dask[array] + distributed + scipy
# for widenet.dask, and their dependencies, each at an exact version), builds and installs the
# widenet package (`pip install .`, release profile) and runs pytest on python/tests.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "the pinned test environment (python/requirements-test.lock) needs Python 3.11+; the package itself needs 3.9+"'
VENV="$PWD/target/pyenv"
mkdir -p target
# the Python environment is installed while cargo builds and runs the Rust tests (pip
# mostly waits on the disk and the network; issue 24: CI time)
(
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r python/requirements-test.lock
) >target/pyenv-setup.log 2>&1 &
venv=$!
trap 'kill $venv 2>/dev/null || true' EXIT

# release profile, and the whole workspace with the features maturin gives the binding crate:
# the widenet crate then resolves exactly as in the Python extension's build, so
# `pip install .` below links this build of it instead of compiling it again (the binding
# crate has no Rust tests of its own; python/tests tests it)
cargo test --release --workspace --features widenet-python/extension-module --tests

if ! wait "$venv"; then
  cat target/pyenv-setup.log
  echo "creating the Python test environment failed (above)" >&2
  exit 1
fi
trap - EXIT
# build once (maturin is on PATH for the build backend), then install over any old build
PATH="$VENV/bin:$PATH" "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-build-isolation --no-deps --force-reinstall .
# the CLI that `cargo test` built, for the bit-for-bit comparisons
WIDENET_CLI="$PWD/target/release/widenet" "$VENV/bin/python" -m pytest -q -p no:cacheprovider python/tests
