#!/usr/bin/env bash
# Builds the native core without SIMD clones (CMake option FASTSCRATCH_SIMD_CLONES=OFF: only the
# baseline x86-64 code every CPU runs) into a venv of its own, then runs the native kernels'
# tests and `fastscratch check` on it. A wheel's default clone is this very code: on the AVX-512
# machines here the dispatching build never runs it, so this is how it gets tested.
#   scripts/test-baseline.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/build-variant.sh
build_variant baseline FASTSCRATCH_SIMD_CLONES=OFF
python -c "import fastscratch._native as n; assert n.simd_clones() == [], n.simd_clones()"
python -m pytest -q -p no:cacheprovider --backend native tests/test_native_*.py "$@"
python -m fastscratch check
