#!/usr/bin/env bash
# The threaded paths under ThreadSanitizer (GCC), in build-tsan/: the multi-threaded double
# integral (EventIntegrator num_threads), the C API from several threads at once (contexts,
# shared images and events, cancellation from another thread: capi_thread_test), and the rest
# of the event half's tests. LibTorch is left out: Debian's build is not instrumented, and
# test binaries that link it crash at start under TSan (LibTorch 1.13), so the sampler's
# cancellation from another thread is not checked here. The CLI, examples, bindings and
# packaging tests are left out too.
# Usage: bash scripts/tsan.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
TSAN="-fsanitize=thread -fno-omit-frame-pointer -g"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDIFFEVENT_WITH_TORCH=OFF \
  -DDIFFEVENT_BUILD_BENCH=OFF -DDIFFEVENT_BUILD_EXAMPLES=OFF -DDIFFEVENT_BUILD_CLI=OFF \
  -DDIFFEVENT_TEST_BINDINGS=OFF -DDIFFEVENT_TEST_PACKAGING=OFF \
  -DCMAKE_C_FLAGS="$TSAN" -DCMAKE_CXX_FLAGS="$TSAN" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build build-tsan -j"${JOBS:-2}"
# halt_on_error: the first race fails the test that found it.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
ctest --test-dir build-tsan --output-on-failure -j"${JOBS:-2}" -LE "bindings|packaging|gpu" -E "capi_abi_check"
echo "tsan: the threaded paths are clean under ThreadSanitizer"
