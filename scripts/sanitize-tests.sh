#!/usr/bin/env bash
# Builds the native core with AddressSanitizer and UBSan (CMake option FASTSCRATCH_SANITIZE)
# into a venv of its own and runs the tests of the native kernels under it. Any out-of-bounds
# access, use-after-free or undefined behaviour in csrc/ stops the run with a report.
#   scripts/sanitize-tests.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/build-variant.sh
build_variant asan FASTSCRATCH_SANITIZE=ON

# Python itself is not instrumented: preload the runtimes, and leave leak checks off (CPython
# keeps objects alive until exit by design). A refused huge allocation must come back to NumPy
# as a MemoryError, as it does without ASan, not abort the run.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
python -c "import fastscratch._native._build_info as b; assert b.sanitizers == 'ON', b.sanitizers"
python -m pytest -q -p no:cacheprovider --backend native tests "$@"
