#!/usr/bin/env bash
# The threaded paths under ThreadSanitizer (GCC). Two parts:
#  1. build-tsan/, without LibTorch: the multi-threaded double integral (EventIntegrator
#     num_threads), the C API from several threads at once (contexts, shared images and events,
#     per-thread errors, a read cancelled from another thread: capi_thread_test) and the rest of
#     the event half's tests.
#  2. build-tsan-torch/, with LibTorch: capi_thread_test again, now with the sampler cancelled
#     from another thread. Only diffevent's code is instrumented; LibTorch (Debian's build is
#     not) enters through the C API's plugin, and reports with a frame inside LibTorch, its
#     OpenMP runtime or BLAS are suppressed (tests/sanitizer/tsan.supp).
# The CLI, examples, bindings and packaging tests are left out.
# Usage: bash scripts/tsan.sh [events|torch|all]   (default all)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
MODE=${1:-all}
TSAN="-fsanitize=thread -fno-omit-frame-pointer -g"
configure() {  # configure DIR TORCH
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDIFFEVENT_WITH_TORCH="$2" \
    -DDIFFEVENT_BUILD_BENCH=OFF -DDIFFEVENT_BUILD_EXAMPLES=OFF -DDIFFEVENT_BUILD_CLI=OFF \
    -DDIFFEVENT_TEST_BINDINGS=OFF -DDIFFEVENT_TEST_PACKAGING=OFF \
    -DCMAKE_C_FLAGS="$TSAN" -DCMAKE_CXX_FLAGS="$TSAN" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
}
# halt_on_error: the first race fails the test that found it.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tests/sanitizer/tsan.supp"
if [ "$MODE" = events ] || [ "$MODE" = all ]; then
  configure build-tsan OFF
  cmake --build build-tsan -j"${JOBS:-2}"
  ctest --test-dir build-tsan --output-on-failure -j"${JOBS:-2}" -LE "bindings|packaging|gpu" -E "capi_abi_check"
  echo "tsan: the event half and the C API's threads are clean under ThreadSanitizer"
fi
if [ "$MODE" = torch ] || [ "$MODE" = all ]; then
  configure build-tsan-torch ON
  cmake --build build-tsan-torch -j"${JOBS:-2}" --target capi_thread_test diffevent_c_torch
  ctest --test-dir build-tsan-torch --output-on-failure -R "^CApiThreads\\."
  echo "tsan: the C API's threads, the sampler's cancellation included, are clean under ThreadSanitizer"
fi
