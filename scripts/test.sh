#!/usr/bin/env bash
# The test command: installs the Debian packages, checks the sources are clang-formatted
# (scripts/format.sh), then builds and tests three configurations:
# full, with LibTorch (build/); event half only, without LibTorch and with zlib for gzip HDF5
# (build-events/); and the full suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan/, scripts/sanitize.sh).
# DIFFEVENT_SKIP_SANITIZE=1 leaves out the third.
# .ci/run calls exactly this. Usage: bash scripts/test.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
JOBS=${JOBS:-2}
bash scripts/format.sh --check
echo "== configuration 1/3: full (DIFFEVENT_WITH_TORCH=ON) =="
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DDIFFEVENT_WITH_TORCH=ON -DDIFFEVENT_WERROR=ON
cmake --build build -j"$JOBS"
ctest --test-dir build --output-on-failure -j"$JOBS"
echo "== configuration 2/3: event half only (DIFFEVENT_WITH_TORCH=OFF) =="
# Also the build without libdeflate: gzip-compressed HDF5 inflated by zlib.
cmake -S . -B build-events -G Ninja -DCMAKE_BUILD_TYPE=Release -DDIFFEVENT_WITH_TORCH=OFF -DDIFFEVENT_WERROR=ON \
  -DDIFFEVENT_WITH_LIBDEFLATE=OFF
cmake --build build-events -j"$JOBS"
ctest --test-dir build-events --output-on-failure -j"$JOBS"
# The LibTorch-free library must not link LibTorch.
if ldd build-events/diffevent 2>/dev/null | grep -q torch; then
  echo "error: the event half links LibTorch" >&2
  exit 1
fi
if [ -z "${DIFFEVENT_SKIP_SANITIZE:-}" ]; then
  echo "== configuration 3/3: full, under ASan + UBSan =="
  JOBS=$JOBS bash scripts/sanitize.sh full
fi
echo "all tests passed in every configuration"
