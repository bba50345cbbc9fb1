#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (GCC), in build-asan/.
# Every diffevent target is instrumented (DIFFEVENT_SANITIZE=ON); any report fails the test
# that triggered it (UBSan does not recover; LeakSanitizer runs at exit). The bindings and
# packaging tests are left out: they load the library into other runtimes (Python, Go, Rust)
# or rebuild it, and run in the normal configurations.
# Usage: bash scripts/sanitize.sh [events|full]   (default full: with LibTorch)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
MODE=${1:-full}
TORCH=ON
[ "$MODE" = events ] && TORCH=OFF
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDIFFEVENT_SANITIZE=ON \
  -DDIFFEVENT_WITH_TORCH=$TORCH -DDIFFEVENT_BUILD_BENCH=OFF -DDIFFEVENT_TEST_BINDINGS=OFF \
  -DDIFFEVENT_TEST_PACKAGING=OFF >/dev/null
cmake --build build-asan -j"${JOBS:-2}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$ROOT/tests/sanitizer/lsan.supp:print_suppressions=0"
ctest --test-dir build-asan --output-on-failure -j"${JOBS:-2}" -LE "bindings|packaging" -E "capi_abi_check"
echo "sanitize: the suite is clean under ASan + UBSan ($MODE)"
