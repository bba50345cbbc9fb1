#!/usr/bin/env bash
# Reproduces the shipped grey priors, models/x_prior_grey.pt and models/r_prior_grey.pt: the
# Debian photographs (scripts/fetch_photos.sh; training split only), an `xs` UNet from
# lab/priors/export_prior.py, then `diffevent train-prior` for the x prior and, with
# --residual, for the r prior. Every run resumes from the checkpoints in WORK, so a CPU
# machine can train in several runs in the background; logs (the loss curve) are appended to
# WORK/{x,r}_train.log. Without a checkpoint in WORK, a prior already in models/ is the starting
# point (its EMA weights, a fresh Adam): WORK is not kept across machines, models/ is.
# --only x|r trains one of the two (run both at once on a 2-core machine: LibTorch uses one
# thread each). --scales (default 1,2,3,4) also trains on area-downscaled copies of the photos:
# the benchmark's frames are photos downscaled about 4x, whose detail per pixel is denser.
# --low-noise F (default 0.8, x prior only) draws that fraction of each batch's timesteps below
# --low-noise-max-t (default 60), where deblurring's guided steps (the default warm start runs
# t = 40 ... 0) use the prior; the shipped x prior's steps 3500-6150 used 0.5 and 200, its
# steps 6150-9775 these defaults (docs/priors.md). --channels 3 trains the RGB priors
# ({x,r}_prior_rgb.pt, logs WORK/{x,r}_rgb_train.log) on the colour photos, starting from the
# grey priors in models/ expanded to three channels (lab/priors/export_prior.py --from,
# --perturb 0.1) when
# they are there, from a random `PRESET` UNet otherwise. SIGINT (Ctrl-C) saves the prior and a checkpoint; --install copies the priors
# into models/.
# Usage: bash lab/scripts/train_priors.sh [--device cuda:0] [--steps N] [--preset xs] [--only x|r]
#                                     [--ema D] [--lr LR] [--scales LIST] [--low-noise F]
#                                     [--low-noise-max-t T] [--channels 1|3] [--install]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DEVICE=cpu STEPS=20000 PRESET=xs INSTALL=0 ONLY= EMA=0.995 SCALES=1,2,3,4 LOW_NOISE=0.8 LOW_NOISE_MAX_T=60 LR=1e-4 CHANNELS=1
WORK=${WORK:-out/training} BUILD=${BUILD:-build}
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --preset) PRESET=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --ema) EMA=$2; shift 2 ;;
    --lr) LR=$2; shift 2 ;;
    --scales) SCALES=$2; shift 2 ;;
    --low-noise) LOW_NOISE=$2; shift 2 ;;
    --low-noise-max-t) LOW_NOISE_MAX_T=$2; shift 2 ;;
    --channels) CHANNELS=$2; shift 2 ;;
    --install) INSTALL=1; shift ;;
    *) echo "train_priors: unknown option $1" >&2; exit 2 ;;
  esac
done
PY=python3
$PY -c "import torch" 2>/dev/null || PY=/usr/bin/python3
[ -d data/photos/train ] || bash scripts/fetch_photos.sh
[ -x "$BUILD/diffevent" ] || { echo "train_priors: build the CLI first ($BUILD/diffevent)" >&2; exit 2; }
case "$CHANNELS" in
  1) COLOUR=grey TAG= ;;
  3) COLOUR=rgb TAG=_rgb ;;
  *) echo "train_priors: --channels must be 1 or 3, got $CHANNELS" >&2; exit 2 ;;
esac
mkdir -p "$WORK"
for kind in x r; do  # the starting networks: random, or (RGB) the grey prior expanded
  init="$WORK/${kind}_init$TAG.pt"
  [ -f "$init" ] && continue
  if [ "$CHANNELS" = 3 ] && [ -f "models/${kind}_prior_grey.pt" ]; then
    $PY lab/priors/export_prior.py --from "models/${kind}_prior_grey.pt" --channels 3 --perturb 0.1 --out "$init"
  else
    $PY lab/priors/export_prior.py --preset "$PRESET" --channels "$CHANNELS" --kind $kind \
      --seed $([ $kind = x ] && echo 0 || echo 1) --out "$init"
  fi
done
train() {  # name, extra options...
  local name=$1; shift
  local kind=${name%%_*}
  local resume=() init="$WORK/${kind}_init$TAG.pt" log="$WORK/${kind}${TAG}_train.log"
  if [ -f "$WORK/$name.pt.ckpt" ]; then resume=(--resume "$WORK/$name.pt.ckpt")
  elif [ -f "models/$name.pt" ]; then init="models/$name.pt"; fi
  echo "== $name: $STEPS steps on $DEVICE $(date -u +%FT%TZ) ==" >>"$log"
  "$BUILD/diffevent" train-prior --init "$init" --images data/photos/train --out "$WORK/$name.pt" \
    --steps "$STEPS" --batch 16 --patch 64 --lr "$LR" --ema "$EMA" --seed 1 --scales "$SCALES" --checkpoint-every 100 --log-every 25 \
    --device "$DEVICE" "${resume[@]}" "$@" 2>&1 | tee -a "$log"
}
[ "$ONLY" = r ] || train x_prior_$COLOUR --low-noise-fraction "$LOW_NOISE" --low-noise-max-t "$LOW_NOISE_MAX_T"
[ "$ONLY" = x ] || train r_prior_$COLOUR --residual --residual-samples 160
if [ "$INSTALL" = 1 ]; then
  mkdir -p models
  cp "$WORK/x_prior_$COLOUR.pt" "$WORK/r_prior_$COLOUR.pt" models/
  ls -la models/
fi
