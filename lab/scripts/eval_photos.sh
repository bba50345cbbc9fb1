#!/usr/bin/env bash
# Acceptance check for EDI: simulate noise-free data from natural photos, deblur with the true
# threshold (and with the estimated one), and print PSNR/SSIM against the ground truth.
# Usage: [MOTION=dx,dy,rot,zoom] [GREY=1] bash lab/scripts/eval_photos.sh [BUILD_DIR] [PHOTO ...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD=${1:-"$ROOT/build"}
shift || true
bash "$ROOT/scripts/fetch_photos.sh" "$ROOT/data/photos" >/dev/null
PHOTOS=("$@")
if [ ${#PHOTOS[@]} -eq 0 ]; then
  PHOTOS=(sk_astronaut sk_coffee sk_chelsea sk_motorcycle_left cv_graf1)
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
printf "%-22s %8s %10s %10s %8s %12s %8s\n" photo events blur_dB edi_dB gain auto_c auto_dB
for p in "${PHOTOS[@]}"; do
  "$BUILD/diffevent" simulate --image "$ROOT/data/photos/$p.png" --out "$OUT/$p" --size 256x192 --seed 1 \
    --motion "${MOTION:-24,8,0.02,1.02}" ${GREY:+--grey} >/dev/null
  j=$("$BUILD/diffevent" --json edi --blur "$OUT/$p/blur.png" --events "$OUT/$p/events.h5" --threshold 0.2 \
      --out "$OUT/$p/edi.png" --ref "$OUT/$p/sharp.png")
  a=$("$BUILD/diffevent" --json edi --blur "$OUT/$p/blur.png" --events "$OUT/$p/events.h5" --auto-threshold \
      --out "$OUT/$p/edi_auto.png" --ref "$OUT/$p/sharp.png")
  python3 - "$p" "$j" "$a" <<'PY'
import json, sys
p, j, a = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print("%-22s %8d %10.2f %10.2f %+8.2f %12.3f %8.2f" % (p, j["events_in_exposure"], j["blur_psnr_db"], j["psnr_db"],
      j["psnr_db"] - j["blur_psnr_db"], a["auto_threshold"]["c"], a["psnr_db"]))
PY
done
