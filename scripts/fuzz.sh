#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan + libFuzzer) in build-fuzz/ (or
# $FUZZ_BUILD) and runs each for SECONDS (default 600) on a corpus seeded with small valid files.
# Usage: bash scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: text hdf5 evt2 evt3 dat aedat4
# mat npy npz capi_ingest; default all). Logs: build-fuzz/logs/<target>.log; findings (crash-*,
# leak-*, oom-*, timeout-*) land in build-fuzz/findings/<target>/ and make the script fail.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SECONDS_PER_TARGET=${1:-600}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(evt2 evt3 dat aedat4 mat npy npz hdf5 capi_ingest text)
command -v clang++ >/dev/null || { echo "fuzz: clang++ not found: apt-get install clang libclang-rt-14-dev" >&2; exit 2; }
B=${FUZZ_BUILD:-build-fuzz}
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
CC=clang CXX=clang++ cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDIFFEVENT_WITH_TORCH=OFF -DDIFFEVENT_BUILD_FUZZERS=ON -DDIFFEVENT_BUILD_TESTS=OFF \
  -DDIFFEVENT_BUILD_BENCH=OFF -DDIFFEVENT_BUILD_EXAMPLES=OFF -DDIFFEVENT_BUILD_CLI=OFF \
  -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$B" -j"${JOBS:-2}" --target fuzzers
F=$B/tests/fuzz
rm -rf $B/seeds && "$F/make_fuzz_seeds" $B/seeds >/dev/null
mkdir -p $B/logs
status=0
export LSAN_OPTIONS="suppressions=$ROOT/tests/fuzz/lsan.supp:print_suppressions=0"
# ASAN_OPTIONS below: libhdf5 answers some corrupt files with multi-terabyte mallocs; glibc
# returns NULL there and HDF5 reports an error, so the sanitizer allocator does the same
# (allocator_may_return_null). Our own C++ allocations still fail loudly: operator new throws
# bad_alloc, which the harness does not catch.
for t in "${TARGETS[@]}"; do
  corpus=$B/corpus/$t
  findings=$B/findings/$t
  mkdir -p "$corpus" "$findings"
  [ -d "$B/seeds/$t" ] && cp -n $B/seeds/"$t"/* "$corpus"/ 2>/dev/null || true
  echo "== fuzz_$t for ${SECONDS_PER_TARGET}s =="
  # libhdf5 is built without frame pointers: unwind fully so the suppression can see H5F_open.
  opts="allocator_may_return_null=1"
  [ "$t" = hdf5 ] && opts="$opts:fast_unwind_on_malloc=0"
  # -rss_limit_mb / -malloc_limit_mb: a reader must not allocate far beyond its input.
  if ! ASAN_OPTIONS="$opts" "$F/fuzz_$t" "$corpus" -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=20 \
       -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$findings/" \
       >"$B/logs/$t.log" 2>&1; then
    echo "fuzz_$t: FINDING (see $B/logs/$t.log, $findings)"
    status=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov: " "$B/logs/$t.log" | tail -3 || true
done
exit $status
