#!/usr/bin/env bash
# The test command (README, CI): the Rust tests and the Python package's tests.
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
# the widenet crate then resolves exactly as in the Python extension's build, so every build
# below links the one build of it (the binding crate has no Rust tests of its own;
# python/tests tests it). Order (issue 24: CI time): the extension, the CLI and the examples
# first, then pytest starts while cargo builds the Rust tests, which then run beside it.
CARGO_FLAGS=(--release --workspace --features widenet-python/extension-module)
# 1. The Python extension's crate, compiled exactly as `pip install .` (maturin) will compile
# it: maturin's cargo command, environment and pyo3 configuration file (written below as
# maturin writes it, and left alone by maturin when unchanged). pyo3 compiles beside the
# widenet library, and maturin then finds the extension up to date. If maturin's settings
# ever differ, it simply compiles the extension again.
PY_MINOR="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
HOST="$(rustc -vV | sed -n 's/^host: //p')"
PYO3_CFG="$PWD/target/maturin/pyo3-config-$HOST-$PY_MINOR-abi3.txt"
mkdir -p target/maturin
if [ ! -f "$PYO3_CFG" ]; then
  printf 'implementation=CPython\nversion=3.9\ntarget_abi=CPython-abi3-3.9\nshared=true\nbuild_flags=\nsuppress_build_script_link_lines=false' >"$PYO3_CFG"
fi
env -u CARGO PYO3_BUILD_EXTENSION_MODULE=1 PYO3_CONFIG_FILE="$PYO3_CFG" \
  PYO3_ENVIRONMENT_SIGNATURE="cpython-$PY_MINOR-64bit" PYO3_PYTHON="$VENV/bin/python" \
  PYTHON_SYS_EXECUTABLE="$VENV/bin/python" \
  cargo rustc --profile release --features extension-module --manifest-path python/Cargo.toml \
  --lib --crate-type cdylib 2>&1 | tee target/extension-build.log
# 2. The CLI (the same binary the Rust tests use: pytest compares with it bit for bit) and the
# examples (built, so that they keep compiling; they are benchmarks, not run here).
cargo build "${CARGO_FLAGS[@]}" --bins --examples 2>&1 | tee target/cli-build.log
# 3. The Python package, then pytest in the background.
if ! wait "$venv"; then
  cat target/pyenv-setup.log
  echo "creating the Python test environment failed (above)" >&2
  exit 1
fi
# build once (maturin is on PATH for the build backend), then install over any old build
PATH="$VENV/bin:$PATH" "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-build-isolation --no-deps --force-reinstall .
WIDENET_CLI="$PWD/target/release/widenet" "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
  python/tests >target/pytest.log 2>&1 &
py_job=$!
trap 'kill $py_job 2>/dev/null || true' EXIT
# 4. The Rust tests: built while pytest runs, then run as cargo test runs them (from the
# package root; every CARGO_* value they read is compiled in) but without cargo.
cargo test "${CARGO_FLAGS[@]}" --tests --no-run 2>&1 | tee target/rust-build.log
mapfile -t TEST_BINS < <(sed -n 's/^ *Executable .*(\(.*\))$/\1/p' target/rust-build.log)
if [ "${#TEST_BINS[@]}" -eq 0 ]; then
  echo "no Rust test binaries found in cargo's output (target/rust-build.log)" >&2
  exit 1
fi
rs=0
for bin in "${TEST_BINS[@]}"; do
  echo "     Running $bin"
  "$bin" || rs=1
done >target/rust-tests.log 2>&1
py=0
wait "$py_job" || py=$?
trap - EXIT
echo "---- Python tests (pytest; exit status $py) ----"
cat target/pytest.log
echo "---- Rust tests (cargo test; exit status $rs) ----"
cat target/rust-tests.log
if [ "$rs" -ne 0 ] || [ "$py" -ne 0 ]; then
  echo "tests failed: Rust exit status $rs, Python (pytest) exit status $py" >&2
  exit 1
fi
