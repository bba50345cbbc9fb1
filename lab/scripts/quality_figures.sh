#!/usr/bin/env bash
# Every figure of docs/quality.md (and the README's strips) that depends on the shipped priors,
# in one run: the held-out benchmark with the ablation and its montages, the presets' rows, deblur
# at the estimated threshold, the colour suite, the ni-joint montages and the README figure.
# Raw outputs (JSON, markdown tables, logs) go to OUT; the benchmark montages are written to
# OUT/images and, with --install-images, copied over docs/images (the ni-joint montages and the
# README strips are written to docs/images by their scripts). Each step is skipped when its output is in OUT,
# so an interrupted run resumes. The process should be alone on the machine (seconds are
# reported beside the figures). text_cambridge (not bundled) joins the ni-joint montages when
# NI_JOINT names a folder holding the bundled files and it.
# Usage: [NI_JOINT=DIR] bash lab/scripts/quality_figures.sh [BUILD_DIR] [OUT] [--install-images]
#        [--skip paper]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
BUILD=build OUT=out/quality_figures INSTALL=0 SKIP=
POS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --install-images) INSTALL=1; shift ;;
    --skip) SKIP="$SKIP $2"; shift 2 ;;
    *) POS+=("$1"); shift ;;
  esac
done
[ ${#POS[@]} -ge 1 ] && BUILD=${POS[0]}
[ ${#POS[@]} -ge 2 ] && OUT=${POS[1]}
CLI="$BUILD/diffevent"
PY=/usr/bin/python3
[ -x "$CLI" ] || { echo "quality_figures: build the CLI first ($CLI)" >&2; exit 2; }
bash scripts/fetch_photos.sh >/dev/null
mkdir -p "$OUT/images"
LEVELS=(ideal realistic hard mild noisy asymmetric refractory leak shake)
X=models/x_prior_grey.pt R=models/r_prior_grey.pt
step() {  # name, command...: runs once; stdout to OUT/name.out, stderr to OUT/name.err
  local name=$1; shift
  case " $SKIP " in *" $name "*) echo "quality_figures: $name skipped"; return ;; esac
  if [ -s "$OUT/$name.out" ]; then echo "quality_figures: $name done before"; return; fi
  echo "quality_figures: $name ($(date -u +%T))"
  if "$@" >"$OUT/$name.out.part" 2>"$OUT/$name.err"; then mv "$OUT/$name.out.part" "$OUT/$name.out"
  else echo "quality_figures: $name failed (see $OUT/$name.err)" >&2; exit 1; fi
}
step benchmark "$CLI" --json benchmark --suite out/suite --photos data/photos/heldout --size 160 --ablation \
  --levels "${LEVELS[@]}" --prior $X --residual-prior $R --report "$OUT/benchmark.md" --montage "$OUT/images" --montage-count 2
for p in fast best noisy paper; do
  step "preset_$p" "$CLI" --json benchmark --suite out/suite --levels ideal realistic hard --trained-only \
    --preset $p --prior $X --residual-prior $R --report "$OUT/preset_$p.md"
done
step at_estimate $PY lab/scripts/deblur_at_estimate.py out/suite --levels "${LEVELS[@]}" --diffevent "$CLI"
step colour "$CLI" --json benchmark --suite out/suite_rgb --colour --photos data/photos/heldout --size 160 \
  --levels ideal realistic hard --prior models/x_prior_rgb.pt --residual-prior models/r_prior_rgb.pt \
  --report "$OUT/colour.md" --montage "$OUT/images/colour" --montage-count 2
step ni_joint $PY lab/scripts/ni_joint_montage.py "$BUILD" "${NI_JOINT:-data/ni-joint}" --jobs 1
step readme $PY scripts/readme_figure.py "$BUILD"
if [ "$INSTALL" = 1 ]; then
  for f in "$OUT"/images/*.png; do
    b=$(basename "$f")
    [ -f "docs/images/bench_$b" ] && cp "$f" "docs/images/bench_$b"
    [ -f "docs/images/$b" ] && cp "$f" "docs/images/$b"
  done
  for f in "$OUT"/images/colour/*.png; do
    b=$(basename "$f")
    [ -f "docs/images/bench_colour_$b" ] && cp "$f" "docs/images/bench_colour_$b"
  done
  echo "quality_figures: montages copied over docs/images"
fi
echo "quality_figures: outputs in $OUT"
