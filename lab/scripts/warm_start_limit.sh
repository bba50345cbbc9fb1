#!/usr/bin/env bash
# How far the warm start should follow a large threshold: training-side photos simulated at
# true thresholds 1.0, 1.5 and 2.5 (mismatch a quarter of c, 5 Hz noise), deblurred at the true
# threshold with --start-threshold-max LIMIT (0: no limit). Prints one line per photo, c and
# limit (PSNR dB, seconds, network calls), then the means.
# Usage: bash lab/scripts/warm_start_limit.sh [BUILD_DIR] [LIMITS...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD=${1:-build}
shift || true
LIMITS=("${@:-0.4 0.6 1.0 0}")
read -r -a LIMITS <<< "${LIMITS[*]}"
CLI="$ROOT/$BUILD/diffevent"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
RESULTS="$OUT/results.txt"
for photo in cv_aero1 cv_board kde_FallenLeaf cv_rubberwhale1 kde_ColorfulCups; do
  for c in 1.0 1.5 2.5; do
    sim="$OUT/${photo}_$c"
    sigma=$(awk -v c="$c" 'BEGIN {print 0.25 * c}')
    "$CLI" simulate -i "$ROOT/data/photos/train/$photo.png" -o "$sim" --size 240x180 --grey --srgb \
      -c "$c" --threshold-sigma "$sigma" --noise-hz 5 --seed 3 >/dev/null
    for limit in "${LIMITS[@]}"; do
      "$CLI" --json deblur -b "$sim/blur.png" -e "$sim/events.h5" --threshold "$c" \
        --ref "$sim/sharp.png" -o "$OUT/out.png" --start-threshold-max "$limit" 2>/dev/null |
        python3 -c "import json, sys; j = json.load(sys.stdin); print('$photo', '$c', '$limit', \
round(j['psnr_db'], 3), round(j['seconds'], 2), j['network_calls'])" | tee -a "$RESULTS"
    done
  done
done
echo "| true c | limit | PSNR (dB) | s/frame | network calls |"
echo "|---|---|---|---|---|"
awk '{k = $2 " " $3; n[k]++; p[k] += $4; s[k] += $5; c[k] += $6; if (!(k in o)) {o[k] = ++m; key[m] = k}}
     END {for (i = 1; i <= m; i++) {k = key[i]; split(k, a, " ");
          printf "| %s | %s | %.2f | %.2f | %.1f |\n", a[1], a[2], p[k] / n[k], s[k] / n[k], c[k] / n[k]}}' "$RESULTS"
