#!/usr/bin/env bash
# A small evaluation: five simulated samples with realistic events (threshold sigma 0.05,
# 5 Hz noise per pixel, grey sensor); PSNR/SSIM of the blurry frame, EDI with the nominal
# threshold, EDI with the enhanced double integral (deblur with a huge data weight and no
# residual is exactly y / f(E)), and `diffevent deblur` with the CLI defaults (the shipped
# priors when installed, else the analytic prior).
# Usage: bash lab/scripts/eval_deblur.sh [BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD=${1:-"$ROOT/build"}
bash "$ROOT/scripts/fetch_photos.sh" "$ROOT/data/photos" >/dev/null
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
printf "%-20s %15s %15s %15s %15s\n" photo blurry EDI "EDI f(E)" deblur
for p in sk_astronaut sk_coffee sk_chelsea sk_motorcycle_left cv_graf1; do
  d="$OUT/$p"
  "$BUILD/diffevent" simulate --image "$ROOT/data/photos/$p.png" --out "$d" --size 256x192 --seed 2 --grey \
    --motion 24,8,0.02,1.02 --threshold-sigma 0.05 --noise-hz 5 >/dev/null
  e=$("$BUILD/diffevent" --json edi --blur "$d/blur.png" --events "$d/events.h5" --threshold 0.2 --out "$d/edi.png" --ref "$d/sharp.png")
  f=$("$BUILD/diffevent" --json deblur --blur "$d/blur.png" --events "$d/events.h5" --out "$d/edif.png" --ref "$d/sharp.png" \
      --s 1e9 --lambda-tv 0 --robust-residual 0 --steps 10 2>/dev/null)
  g=$("$BUILD/diffevent" --json deblur --blur "$d/blur.png" --events "$d/events.h5" --out "$d/deblur.png" --ref "$d/sharp.png" 2>/dev/null)
  python3 - "$p" "$e" "$f" "$g" <<'PY'
import json, sys
p, e, f, g = sys.argv[1], *(json.loads(a) for a in sys.argv[2:])
cell = lambda d, k="psnr_db", s="ssim": "%6.2f / %.3f" % (d[k], d[s])
print("%-20s %15s %15s %15s %15s" % (p, cell(e, "blur_psnr_db", "blur_ssim"), cell(e), cell(f), cell(g)))
PY
done
