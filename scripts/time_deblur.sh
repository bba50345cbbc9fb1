#!/usr/bin/env bash
# Seconds per frame of `diffevent deblur` for each preset at three frame sizes (160 x 120 from
# the quality benchmark's suite, a DAVIS 346 x 260 recording, 256 x 256 simulated), and of
# `diffevent edi` on the same inputs; median of REPEATS runs, each process alone on the machine.
# Usage: [PRESETS="fast balanced best"] bash scripts/time_deblur.sh [BUILD_DIR] [REPEATS]
# Needs: the benchmark suite (`diffevent benchmark --suite out/suite --photos data/photos/heldout`,
# docs/quality.md) for the 160 x 120 frame.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD=${1:-build}
REPEATS=${2:-3}
read -r -a PRESET_LIST <<< "${PRESETS:-fast balanced best}"
CLI="$ROOT/$BUILD/diffevent"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cd "$ROOT"
SUITE=out/suite/realistic/cv_building_0
[ -f "$SUITE/blur.pfm" ] || { echo "time_deblur: $SUITE missing: run the quality benchmark first (docs/quality.md)" >&2; exit 2; }
# A 256 x 256 frame simulated from a held-out photo (as the benchmark's realistic level).
"$CLI" simulate --image data/photos/heldout/sk_astronaut.png --out "$OUT/sq" --size 256x256 --exposure-us 20000 \
  --threshold 0.2 --threshold-sigma 0.05 --noise-hz 5 --seed 3 >/dev/null
events_of() { ls "$1"/events.h5 2>/dev/null || ls "$1"/events.npz; }
declare -A BLUR=([160x120]="$SUITE/blur.pfm" [346x260]=data/ni-joint/badminton.png [256x256]="$OUT/sq/blur.png")
declare -A EV=([160x120]="$SUITE/events.npz" [346x260]=data/ni-joint/badminton.mat [256x256]="$(events_of "$OUT/sq")")
declare -A EXP=([160x120]="0:20000" [346x260]=span [256x256]="0:20000")
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
seconds() {  # wall seconds of one command
  local t0 t1
  t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'
}
echo "| frame | edi |$(printf ' %s |' "${PRESET_LIST[@]}")"
echo "|---|---|$(printf -- '---|%.0s' "${PRESET_LIST[@]}")"
for size in 160x120 346x260 256x256; do
  args=(--blur "${BLUR[$size]}" --events "${EV[$size]}" --exposure "${EXP[$size]}" --threshold 0.2)
  row="| $size |"
  edi=$(for _ in $(seq "$REPEATS"); do seconds "$CLI" edi "${args[@]}" --out "$OUT/e.png"; done | median)
  row="$row $(printf '%.3f s' "$edi") |"
  for preset in "${PRESET_LIST[@]}"; do
    t=$(for _ in $(seq "$REPEATS"); do seconds "$CLI" deblur "${args[@]}" --preset "$preset" --out "$OUT/d.png"; done | median)
    row="$row $(awk -v t="$t" -v e="$edi" 'BEGIN {printf "%.2f s (%.0fx EDI)", t, t / e}') |"
  done
  echo "$row"
done
