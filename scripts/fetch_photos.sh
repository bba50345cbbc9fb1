#!/usr/bin/env bash
# Extracts permissively licensed natural photographs shipped in Debian packages (scikit-image
# and OpenCV sample data, the photographs among KDE Plasma's wallpapers) into data/photos/
# (ignored by git), split into train/ (for the priors and the default sweep) and heldout/ (the
# quality benchmark; training never sees them). JPEGs are converted to PNG with python3-pil
# (every scikit-image and OpenCV photo is also copied flat into DEST); the wallpapers, 2560 to
# 5120 pixels wide, are area-downscaled to 1024 pixels on their long side, near the detail per
# pixel of the others. Needs apt-get download (no install).
# Usage: bash scripts/fetch_photos.sh [DEST]
set -euo pipefail
DEST=${1:-"$(cd "$(dirname "$0")/.." && pwd)/data/photos"}
mkdir -p "$DEST/train" "$DEST/heldout"
if [ -f "$DEST/.done-v3" ]; then echo "photos already in $DEST"; exit 0; fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
PKGS="python3-skimage opencv-doc plasma-workspace-wallpapers"
apt-get download $PKGS >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 || true; apt-get download $PKGS >/dev/null; }
dpkg -x python3-skimage_*.deb skimage
dpkg -x opencv-doc_*.deb opencv
dpkg -x plasma-workspace-wallpapers_*.deb plasma
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
# KDE Plasma wallpapers that are photographs (LGPL-3.0, each wallpaper's metadata.json names
# author and licence); the rest of that package, and the ukui, lomiri and GNOME wallpapers, are
# digital art. The largest size of each, downscaled; training split only.
WALLPAPERS="BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite OneStandsOut Path summer_1am"
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
for name in $WALLPAPERS; do
  dir=plasma/usr/share/wallpapers/$name/contents/images
  [ -d "$dir" ] || { echo "fetch_photos: wallpaper $name missing, skipped" >&2; continue; }
  "$PY" - "$dir" "$DEST/train/kde_$name.png" <<'PYEOF'
import os, sys
from PIL import Image
folder, out = sys.argv[1], sys.argv[2]
def area(f):
    with Image.open(os.path.join(folder, f)) as im:
        return im.size[0] * im.size[1]
files = [f for f in os.listdir(folder) if f.lower().endswith((".jpg", ".jpeg", ".png"))]
im = Image.open(os.path.join(folder, max(files, key=area))).convert("RGB")
scale = 1024 / max(im.size)
im.resize((round(im.size[0] * scale), round(im.size[1] * scale)), Image.BOX).save(out)
PYEOF
done
copy "$HELDOUT" "$DEST/heldout"
touch "$DEST/.done-v3"
echo "train: $(ls "$DEST/train" | wc -l) photos, heldout: $(ls "$DEST/heldout" | wc -l) photos in $DEST"
