#!/usr/bin/env bash
# Regenerates the bundled simulated sample in data/sample/ from a Debian-shipped photo
# (scikit-image's "camera", BSD-3-Clause). Usage: bash scripts/make_sample.sh BUILD_DIR
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
bash "$ROOT/scripts/fetch_photos.sh" "$ROOT/data/photos"
cd "$ROOT"  # relative paths, so meta.json names its source without this machine's folders
"$BUILD/diffevent" simulate --image data/photos/sk_camera.png --out data/sample \
  --size 128x96 --exposure-us 20000 --threshold 0.2 --seed 7 --motion 14,-6,0.02,1.02
rm -f "$ROOT/data/sample/events.txt"   # the HDF5 copy carries the same events, the blur and the exposure
