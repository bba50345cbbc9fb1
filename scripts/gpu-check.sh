#!/usr/bin/env bash
# The GPU machine's whole check in one call (device tool; see ../shared/DEVICE.md): configure
# against PyTorch's LibTorch (CUDA) and the carried .devdeps, build the CUDA kernels, the
# gpu-labelled tests and the benchmarks, run the tests, compute-sanitizer memcheck on them, the
# kernel and sampler benchmarks; write JSON and a log under OUT (default $OUT or gpu-out).
# Usage (here):  bash ../shared/device/pack-devdeps.sh   then device run with carry [".devdeps"]:
#   bash scripts/gpu-check.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
TORCH_PREFIX=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
export LD_LIBRARY_PATH="$ROOT/.devdeps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/device.txt"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$ROOT/.devdeps/usr;$TORCH_PREFIX" -DDIFFEVENT_WITH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DDIFFEVENT_WITH_PNG=OFF -DDIFFEVENT_WITH_HDF5=OFF -DDIFFEVENT_WITH_AEDAT_COMPRESSION=OFF \
  -DDIFFEVENT_BUILD_CLI=OFF -DDIFFEVENT_BUILD_CAPI=OFF -DDIFFEVENT_BUILD_EXAMPLES=OFF \
  -DDIFFEVENT_TEST_BINDINGS=OFF -DDIFFEVENT_TEST_PACKAGING=OFF >"$OUT/configure.log"
cmake --build build-gpu -j"$(nproc)" --target gpu_test kernels_test alternating_sampler_test gpu_kernels_bench sampler_bench \
  >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
status=0
ctest --test-dir build-gpu -L gpu --output-on-failure 2>&1 | tee "$OUT/ctest_gpu.log" | tail -15 || status=1
ctest --test-dir build-gpu -R "Kernels|AlternatingSampler" 2>&1 | tail -3 || status=1
compute-sanitizer --tool memcheck --error-exitcode 3 build-gpu/tests/gpu_test >"$OUT/memcheck.log" 2>&1 || status=1
tail -3 "$OUT/memcheck.log"
python3 tools/priors/export_prior.py --preset s --channels 1 --out build-gpu/unet_s.pt >/dev/null
build-gpu/bench/gpu_kernels_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out="$OUT/gpu_kernels_bench.json" --benchmark_out_format=json 2>&1 | grep -E "median|Run on|^[A-Z]" | tee "$OUT/gpu_kernels_bench.txt"
DIFFEVENT_BENCH_UNET=build-gpu/unet_s.pt build-gpu/bench/sampler_bench --benchmark_filter=Cuda --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_out="$OUT/sampler_bench_cuda.json" --benchmark_out_format=json 2>&1 \
  | grep -E "median|Run on|^[A-Z]" | tee "$OUT/sampler_bench_cuda.txt"
exit $status
