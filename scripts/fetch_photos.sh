#!/usr/bin/env bash
# Extracts permissively licensed natural photographs shipped in Debian packages (scikit-image
# and OpenCV sample data) into data/photos/ (ignored by git). Needs apt-get (no install).
# Usage: bash scripts/fetch_photos.sh [DEST]
set -euo pipefail
DEST=${1:-"$(cd "$(dirname "$0")/.." && pwd)/data/photos"}
mkdir -p "$DEST"
if [ -f "$DEST/.done" ]; then echo "photos already in $DEST"; exit 0; fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
apt-get download python3-skimage opencv-doc >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 || true; apt-get download python3-skimage opencv-doc >/dev/null; }
dpkg -x python3-skimage_*.deb skimage
dpkg -x opencv-doc_*.deb opencv
SK=skimage/usr/lib/python3/dist-packages/skimage/data
CV=opencv/usr/share/doc/opencv-doc/examples/data
# Natural photos only (no charts, text or synthetic patterns).
for f in astronaut.png coffee.png chelsea.png camera.png motorcycle_left.png brick.png grass.png gravel.png; do
  [ -f "$SK/$f" ] && cp "$SK/$f" "$DEST/sk_$f"
done
for f in graf1.png rubberwhale1.png chicky_512.png leuven.png; do
  [ -f "$CV/$f" ] && cp "$CV/$f" "$DEST/cv_$f"
done
touch "$DEST/.done"
ls "$DEST"
