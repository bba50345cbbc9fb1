#!/usr/bin/env bash
# The GPU machine's whole check in one call: configure against PyTorch's LibTorch (CUDA) and the
# dependencies scripts/pack_gpu.sh packed into .devdeps; build the CUDA kernels, the library, the
# CLI, the gpu-labelled tests and the benchmarks; run the tests and compute-sanitizer memcheck on
# them; optionally fine-tune the four shipped priors on the GPU (--train-until S: in the
# background while the tests run, until S seconds after the script started); then the kernel,
# sampler and whole-frame deblur benchmarks. Figures and logs (logs.tgz) and the trained priors
# go to OUT (default $OUT or gpu-out); a summary is printed.
# Usage (prepared on a CPU machine):  bash scripts/pack_gpu.sh
#        (on the GPU machine, with .devdeps and out/gpu-data copied along):
#        bash scripts/gpu-check.sh [--train-until S] [--train-batch B]
# GPU_CHECK_CUDA=OFF GPU_CHECK_DEVICE=cpu run the same steps on a CPU machine (a dry run).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT=${OUT:-gpu-out}
TRAIN_UNTIL=0 TRAIN_BATCH=64
CUDA=${GPU_CHECK_CUDA:-ON} DEVICE=${GPU_CHECK_DEVICE:-cuda:0}
while [ $# -gt 0 ]; do
  case "$1" in
    --train-until) TRAIN_UNTIL=$2; shift 2 ;;
    --train-batch) TRAIN_BATCH=$2; shift 2 ;;
    *) echo "gpu-check: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
LOGS=build-gpu/logs
mkdir -p "$LOGS"
T0=$(date +%s)
say() { echo "[$(($(date +%s) - T0)) s] $*"; }
TORCH_PREFIX=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
export LD_LIBRARY_PATH="$ROOT/.devdeps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$LOGS/device.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$LOGS/device.txt"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$ROOT/.devdeps/usr;$TORCH_PREFIX" -DDIFFEVENT_WITH_CUDA=$CUDA -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DDIFFEVENT_WITH_HDF5=OFF -DDIFFEVENT_WITH_AEDAT_COMPRESSION=OFF -DDIFFEVENT_BUILD_CAPI=OFF \
  -DDIFFEVENT_BUILD_EXAMPLES=OFF -DDIFFEVENT_TEST_BINDINGS=OFF -DDIFFEVENT_TEST_PACKAGING=OFF >"$LOGS/configure.log" 2>&1 ||
  { tail -30 "$LOGS/configure.log"; exit 1; }
say "configured"

# Training first (the GPU is idle while the tests compile): the CLI, the photos back to PNG,
# one fine-tuning process per prior, each stopped by SIGINT at TRAIN_UNTIL (it then saves its
# EMA weights and a checkpoint).
PIDS=()
if [ "$TRAIN_UNTIL" -gt 0 ]; then
  mkdir -p build-gpu/photos build-gpu/train
  python3 - out/gpu-data build-gpu/photos <<'EOF' &
import os, sys
from PIL import Image
src, dst = sys.argv[1], sys.argv[2]
for f in sorted(os.listdir(src)):
    if f.endswith(".jpg"):
        Image.open(os.path.join(src, f)).convert("RGB").save(os.path.join(dst, f[:-4] + ".png"))
EOF
  conv=$!
  if cmake --build build-gpu -j"$(nproc)" --target diffevent_cli >"$LOGS/build_cli.log" 2>&1 && wait $conv; then
    secs=$((TRAIN_UNTIL - ($(date +%s) - T0)))
    [ "$secs" -lt 30 ] && secs=30
    say "CLI built; training for $secs s on $(ls build-gpu/photos | wc -l) photos"
    for spec in x_grey r_grey x_rgb r_rgb; do
      kind=${spec%%_*} colour=${spec#*_}
      extra=(--low-noise-fraction 0.8 --low-noise-max-t 60)
      [ "$kind" = r ] && extra=(--residual --residual-samples 960)
      OMP_NUM_THREADS=3 timeout -s INT -k 60 "$secs" build-gpu/diffevent train-prior \
        --init "models/${kind}_prior_${colour}.pt" --images build-gpu/photos --out "build-gpu/train/${kind}_prior_${colour}.pt" \
        --steps 1000000 --batch "$TRAIN_BATCH" --patch 64 --lr 1e-4 --ema 0.999 --seed 21 --scales 1,2,3,4 \
        --checkpoint-every 2000 --log-every 100 --device "$DEVICE" "${extra[@]}" >"$LOGS/train_${spec}.log" 2>&1 &
      PIDS+=($!)
    done
  else
    say "CLI build failed, no training"; tail -30 "$LOGS/build_cli.log"
  fi
fi

status=0
TARGETS=(gpu_test kernels_test alternating_sampler_test sampler_bench)
[ "$CUDA" = OFF ] || TARGETS+=(gpu_kernels_bench)
cmake --build build-gpu -j"$(nproc)" --target "${TARGETS[@]}" >"$LOGS/build.log" 2>&1 || { tail -40 "$LOGS/build.log"; status=1; }
say "tests built"
ctest --test-dir build-gpu -L gpu --output-on-failure >"$LOGS/ctest_gpu.log" 2>&1 || status=1
tail -4 "$LOGS/ctest_gpu.log"
ctest --test-dir build-gpu -R "Kernels|AlternatingSampler|Deblur" >"$LOGS/ctest_cpu_kernels.log" 2>&1 || status=1
tail -3 "$LOGS/ctest_cpu_kernels.log"
compute-sanitizer --tool memcheck --error-exitcode 3 build-gpu/tests/gpu_test >"$LOGS/memcheck.log" 2>&1 || status=1
grep -E "ERROR SUMMARY|PASSED|FAILED" "$LOGS/memcheck.log" | tail -3
say "tests and memcheck done"
tar -czf "$OUT/logs.tgz" -C build-gpu logs

if [ ${#PIDS[@]} -gt 0 ]; then
  wait "${PIDS[@]}"
  for spec in x_grey r_grey x_rgb r_rgb; do
    kind=${spec%%_*} colour=${spec#*_}
    grep -E "step [0-9]+/" "$LOGS/train_${spec}.log" | tail -1
    tail -1 "$LOGS/train_${spec}.log"
    f="build-gpu/train/${kind}_prior_${colour}.pt"
    [ -f "$f" ] && cp "$f" "$OUT/"
  done
  say "training done"
fi

python3 lab/priors/export_prior.py --preset s --channels 1 --out build-gpu/unet_s.pt >/dev/null
bench() {  # name, binary, options...
  local name=$1; shift
  "$@" --benchmark_out="$LOGS/$name.json" --benchmark_out_format=json >"$LOGS/$name.txt" 2>&1 || status=1
  grep -E "median|iterations:1/|Run on|ERROR" "$LOGS/$name.txt"
}
bench gpu_kernels_bench build-gpu/bench/gpu_kernels_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
DIFFEVENT_BENCH_UNET=build-gpu/unet_s.pt bench sampler_bench_cuda build-gpu/bench/sampler_bench \
  --benchmark_filter='GuidanceStep_Cuda|StepUNetCuda' --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
bench deblur_cuda build-gpu/bench/sampler_bench --benchmark_filter='Deblur_DefaultPresetCuda/(346|1280)' \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
bench deblur_cuda_4k timeout 120 build-gpu/bench/sampler_bench --benchmark_filter='Deblur_DefaultPresetCuda/3840'
say "benchmarks done"
tar -czf "$OUT/logs.tgz" -C build-gpu logs
exit $status
