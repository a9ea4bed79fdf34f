#!/usr/bin/env bash
# Builds the native core without SIMD clones (CMake option FASTSCRATCH_SIMD_CLONES=OFF: only the
# baseline x86-64 code every CPU runs) into a venv of its own, then runs the native kernels'
# tests and `fastscratch check` on it. A wheel's default clone is this very code: on the AVX-512
# machines here the dispatching build never runs it, so this is how it gets tested.
#   scripts/test-baseline.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/baseline-venv
python3 -m venv "$venv"
. "$venv/bin/activate"
python -m pip install --quiet scikit-build-core cython cython-cmake scipy-openblas32 numpy \
    threadpoolctl tqdm pytest hypothesis
python -m pip install --quiet --no-build-isolation --force-reinstall --no-deps \
    -Cbuild-dir=build/baseline -Ccmake.define.FASTSCRATCH_SIMD_CLONES=OFF .
python -c "import fastscratch._native as n; assert n.simd_clones() == [], n.simd_clones()"
python -m pytest -q -p no:cacheprovider --backend native tests/test_native_*.py "$@"
python -m fastscratch check
