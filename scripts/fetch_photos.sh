#!/usr/bin/env bash
# Extracts permissively licensed natural photographs shipped in Debian packages (scikit-image
# and OpenCV sample data) into data/photos/ (ignored by git), split into train/ (for the
# priors and the default sweep) and heldout/ (the quality benchmark; training never sees them).
# JPEGs are converted to PNG with python3-pil (every photo is also copied flat into DEST). Needs apt-get download (no install).
# Usage: bash scripts/fetch_photos.sh [DEST]
set -euo pipefail
DEST=${1:-"$(cd "$(dirname "$0")/.." && pwd)/data/photos"}
mkdir -p "$DEST/train" "$DEST/heldout"
if [ -f "$DEST/.done-v2" ]; then echo "photos already in $DEST"; exit 0; fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
apt-get download python3-skimage opencv-doc >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 || true; apt-get download python3-skimage opencv-doc >/dev/null; }
dpkg -x python3-skimage_*.deb skimage
dpkg -x opencv-doc_*.deb opencv
SK=skimage/usr/lib/python3/dist-packages/skimage/data
CV=opencv/usr/share/doc/opencv-doc/examples/data
# Natural photographs only: no charts, text, drawings, renders, paintings or microscopy.
# Views of one scene (stereo pairs, sequences) stay on one side of the split. The held-out
# set includes the five photos docs/data.md reserved earlier (astronaut, coffee, chelsea,
# motorcycle_left, graf1) and camera (data/sample).
TRAIN="sk:brick.png sk:grass.png sk:gravel.png sk:rocket.jpg
       cv:rubberwhale1.png cv:rubberwhale2.png cv:chicky_512.png cv:aero1.jpg cv:aero3.jpg cv:aloeL.jpg
       cv:apple.jpg cv:butterfly.jpg cv:messi5.jpg cv:orange.jpg cv:basketball1.png cv:basketball2.png
       cv:board.jpg cv:ela_original.jpg cv:squirrel_cls.jpg cv:stuff.jpg"
HELDOUT="sk:astronaut.png sk:coffee.png sk:chelsea.png sk:motorcycle_left.png sk:motorcycle_right.png
         sk:camera.png cv:graf1.png cv:graf3.png cv:building.jpg cv:fruits.jpg cv:baboon.jpg cv:home.jpg
         cv:leuvenA.jpg cv:leuvenB.jpg"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
copy() {  # copy SET DIR: each "pkg:file" to DIR/pkg_name.png
  for item in $1; do
    src=${item#*:}
    case ${item%%:*} in sk) path="$SK/$src" ;; cv) path="$CV/$src" ;; esac
    [ -f "$path" ] || { echo "fetch_photos: $path missing, skipped" >&2; continue; }
    out="$2/${item%%:*}_${src%.*}.png"
    "$PY" -c "import sys; from PIL import Image; Image.open(sys.argv[1]).convert('RGB').save(sys.argv[2])" "$path" "$out"
    cp "$out" "$DEST/"  # flat copies too, for the evaluation scripts (data/photos/NAME.png)
  done
}
copy "$TRAIN" "$DEST/train"
copy "$HELDOUT" "$DEST/heldout"
touch "$DEST/.done-v2"
echo "train: $(ls "$DEST/train" | wc -l) photos, heldout: $(ls "$DEST/heldout" | wc -l) photos in $DEST"
