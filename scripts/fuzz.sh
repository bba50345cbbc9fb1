#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan + libFuzzer) and runs each for SECONDS
# (default 600) on a corpus that persists between runs, seeded with small valid files, the
# hostile inputs of the regression tests and tests/data/fuzz/, with a dictionary per format.
# Usage: bash scripts/fuzz.sh [SECONDS] [TARGET...]
#   targets: evt2 evt3 dat aedat4 mat npy npz numpy hdf5 text image capi_ingest deblur_params
#   (default all; deblur_params needs LibTorch and is built in its own tree, build-fuzz-torch/).
# Environment: FUZZ_BUILD (build-fuzz), FUZZ_CORPUS (FUZZ_BUILD/corpus: new entries are kept
# there), FUZZ_PARALLEL (harnesses run at once, default 1), FUZZ_SUMMARY (the summary file,
# FUZZ_BUILD/summary.tsv), JOBS (compile jobs, default 2).
# Output: one line per harness (executions, exec/s, coverage, features, corpus, new entries,
# peak RSS), also in FUZZ_SUMMARY; logs in FUZZ_BUILD/logs/<target>.log. Findings
# (crash-*, leak-*, oom-*, timeout-*) land in FUZZ_BUILD/findings/<target>/ and make the script
# fail.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SECONDS_PER_TARGET=${1:-600}
shift || true
TARGETS=("$@")
ALL=(evt2 evt3 dat aedat4 mat npy npz numpy hdf5 text image capi_ingest deblur_params)
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")
for t in "${TARGETS[@]}"; do
  [[ " ${ALL[*]} " == *" $t "* ]] || { echo "fuzz: unknown target '$t' (one of: ${ALL[*]})" >&2; exit 64; }
done
command -v clang++ >/dev/null || { echo "fuzz: clang++ not found: apt-get install clang libclang-rt-14-dev" >&2; exit 2; }
B=${FUZZ_BUILD:-build-fuzz}
BT=${B}-torch
CORPUS=${FUZZ_CORPUS:-$B/corpus}
SUMMARY=${FUZZ_SUMMARY:-$B/summary.tsv}
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
configure() {  # configure DIR TORCH
  CC=clang CXX=clang++ cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DDIFFEVENT_WITH_TORCH="$2" -DDIFFEVENT_BUILD_FUZZERS=ON -DDIFFEVENT_BUILD_TESTS=OFF \
    -DDIFFEVENT_BUILD_BENCH=OFF -DDIFFEVENT_BUILD_EXAMPLES=OFF -DDIFFEVENT_BUILD_CLI=OFF \
    -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
}
configure "$B" OFF
cmake --build "$B" -j"${JOBS:-2}" --target fuzzers
if [[ " ${TARGETS[*]} " == *" deblur_params "* ]]; then
  configure "$BT" ON
  cmake --build "$BT" -j"${JOBS:-2}" --target fuzz_deblur_params
fi
rm -rf "$B/seeds" && "$B/tests/fuzz/make_fuzz_seeds" "$B/seeds" >/dev/null
mkdir -p "$B/logs"
export LSAN_OPTIONS="suppressions=$ROOT/tests/fuzz/lsan.supp:print_suppressions=0"

run_one() {
  local t=$1 bin=$B/tests/fuzz/fuzz_$1
  [ "$t" = deblur_params ] && bin=$BT/tests/fuzz/fuzz_$t
  local corpus=$CORPUS/$t findings=$B/findings/$t log=$B/logs/$t.log
  mkdir -p "$corpus" "$findings"
  [ -d "$B/seeds/$t" ] && cp -n "$B/seeds/$t"/* "$corpus"/ 2>/dev/null || true
  case $t in  # inputs of the regression tests that came from fuzzing
    hdf5) cp -n tests/data/fuzz/h5_* "$corpus"/ ;;
    npz | numpy) cp -n tests/data/fuzz/npz_* "$corpus"/ ;;
  esac
  local dict=""
  case $t in
    evt2 | evt3) dict=tests/fuzz/dict/evt.dict ;;
    numpy) dict=tests/fuzz/dict/npy.dict ;;
    *) [ -f "tests/fuzz/dict/$t.dict" ] && dict=tests/fuzz/dict/$t.dict ;;
  esac
  local before
  before=$(find "$corpus" -type f | wc -l)
  # ASAN_OPTIONS: libhdf5 answers some corrupt files with multi-terabyte mallocs; glibc returns
  # NULL there and HDF5 reports an error, so the sanitizer allocator does the same
  # (allocator_may_return_null). Our own C++ allocations still fail loudly: operator new throws
  # bad_alloc, which the harnesses do not catch. libhdf5 is built without frame pointers:
  # unwind fully there so the suppression can see H5F_open.
  local opts="allocator_may_return_null=1"
  [ "$t" = hdf5 ] && opts="$opts:fast_unwind_on_malloc=0"
  local status=0
  # -rss_limit_mb / -malloc_limit_mb: a reader must not allocate far beyond its input.
  ASAN_OPTIONS="$opts" "$bin" "$corpus" ${dict:+-dict=$dict} -max_total_time="$SECONDS_PER_TARGET" \
    -max_len=65536 -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$findings/" >"$log" 2>&1 || status=$?
  local after execs rate rss cov ft
  after=$(find "$corpus" -type f | wc -l)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  local result=clean
  [ $status -ne 0 ] && result="FINDING (see $log, $findings)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s MB\t%s\t%s\n' "$t" "$SECONDS_PER_TARGET" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "$after" "${rss:-?}" "$((after - before))" "$result" >>"$SUMMARY"
  echo "fuzz_$t: ${execs:-?} executions (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus $after (+$((after - before))), peak ${rss:-?} MB: $result"
  return $status
}

printf 'harness\tseconds\texecutions\texec/s\tcov\tft\tcorpus\tpeak RSS\tnew entries\tresult\n' >"$SUMMARY"
echo "fuzzing ${#TARGETS[@]} harnesses for ${SECONDS_PER_TARGET}s each, ${FUZZ_PARALLEL:-1} at a time"
status=0
pids=()
for t in "${TARGETS[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "${FUZZ_PARALLEL:-1}" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
