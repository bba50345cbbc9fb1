#!/usr/bin/env bash
# Prepares what a bare GPU machine (CUDA, CMake, ninja and PyTorch with LibTorch, nothing else)
# needs for scripts/gpu-check.sh:
#   .devdeps/      this machine's fmt, GoogleTest/GoogleMock, Google Benchmark, CLI11,
#                  nlohmann_json, libpng and zlib (Debian builds: headers, libraries, CMake package
#                  files), found there with -DCMAKE_PREFIX_PATH=.devdeps/usr
#   out/gpu-data/  the training photographs (data/photos/train) as JPEG, quality 95, a fifth of
#                  their PNG size; gpu-check.sh turns them back into PNG with Pillow
# Both folders are ignored by git; copy them to the GPU machine with the working tree.
# Usage: bash scripts/pack_gpu.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
out=.devdeps
ml=usr/lib/x86_64-linux-gnu
rm -rf "$out"
mkdir -p "$out/usr/include" "$out/$ml/cmake" "$out/usr/share/cmake"
for d in fmt gtest gmock benchmark CLI nlohmann libpng16; do cp -a "/usr/include/$d" "$out/usr/include/"; done
cp -a /usr/include/png.h /usr/include/pngconf.h /usr/include/pnglibconf.h /usr/include/zlib.h /usr/include/zconf.h \
  "$out/usr/include/"

for c in CLI11 nlohmann_json; do cp -a "/usr/share/cmake/$c" "$out/usr/share/cmake/"; done
for c in GTest benchmark fmt; do cp -a "/$ml/cmake/$c" "$out/$ml/cmake/"; done
cp -a /$ml/libgtest*.a /$ml/libgmock*.a /$ml/libbenchmark* /$ml/libfmt.so* /$ml/libpng16.so* /$ml/libpng.so "$out/$ml/"
cp -L /$ml/libz.so "$out/$ml/libz.so"
ln -sf libz.so "$out/$ml/libz.so.1"
[ -d data/photos/train ] || bash scripts/fetch_photos.sh
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
rm -rf out/gpu-data
mkdir -p out/gpu-data
"$PY" - data/photos/train out/gpu-data <<'EOF'
import os, sys
from PIL import Image
src, dst = sys.argv[1], sys.argv[2]
for f in sorted(os.listdir(src)):
    if f.endswith(".png"):
        Image.open(os.path.join(src, f)).convert("RGB").save(os.path.join(dst, f[:-4] + ".jpg"), quality=95)
EOF
du -sh "$out" out/gpu-data
