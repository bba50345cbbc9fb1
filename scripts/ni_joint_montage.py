#!/usr/bin/env python3
"""Montages of the ni-joint DAVIS recordings (real data, no ground truth): blurry frame | EDI at
c = 0.2 | EDI with the threshold search | deblur at c = 0.2 | deblur with the threshold search
(shipped priors when installed, else the analytic prior; guided f(E)). Writes docs/images/ni_joint_<scene>.png and prints the markdown
table for docs/quality.md (estimated thresholds, seconds per frame).
Usage: /usr/bin/python3 scripts/ni_joint_montage.py [BUILD_DIR] [DATA_DIR]"""
import json
import os
import subprocess
import sys
import tempfile
import time

from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
DATA = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "..", "shared", "data", "real", "ni-joint", "data"))
CLI = os.path.join(BUILD, "diffevent")
SCENES = [("badminton", "badminton"), ("keyboard", "keyboard"), ("toy", "toy"), ("text_cambridge", "text_cambridge"),
          ("night_run", "night_run"), ("low_light_model1", "low_light_model"), ("low_light_model2", "low_light_model")]


def run(*args):
    t = time.monotonic()
    out = subprocess.run([CLI, "--json", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out), time.monotonic() - t


def main():
    out_dir = os.path.join(ROOT, "docs", "images")
    os.makedirs(out_dir, exist_ok=True)
    print("| scene | exposure | auto c | EDI s | deblur s | montage |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for scene, frame in SCENES:
            events, blur = os.path.join(DATA, scene + ".mat"), os.path.join(DATA, frame + ".png")
            if not (os.path.exists(events) and os.path.exists(blur)):
                continue
            common = ["--blur", blur, "--events", events, "--exposure", "span"]
            _, t_edi = run("edi", *common, "--threshold", "0.2", "--out", os.path.join(tmp, "edi.png"))
            auto, _ = run("edi", *common, "--auto-threshold", "--out", os.path.join(tmp, "auto.png"))
            deb, t_deb = run("deblur", *common, "--threshold", "0.2", "--enhance", "guided", "--seed", "0",
                             "--out", os.path.join(tmp, "deblur.png"))
            run("deblur", *common, "--auto-threshold", "--enhance", "guided", "--seed", "0", "--out", os.path.join(tmp, "deblur_auto.png"))
            tiles = [Image.open(p).convert("L") for p in
                     (blur, os.path.join(tmp, "edi.png"), os.path.join(tmp, "auto.png"), os.path.join(tmp, "deblur.png"),
                      os.path.join(tmp, "deblur_auto.png"))]
            w, h = tiles[0].size
            c_auto = auto["auto_threshold"]["c"]
            bound = " (at bound)" if auto["auto_threshold"]["at_bound"] else ""
            labels = ["blurry", "EDI c=0.2", f"EDI auto c={c_auto:.2f}{bound}", f"deblur ({deb['x_prior']} prior) c=0.2",
                      f"deblur ({deb['x_prior']} prior) auto c"]
            m = Image.new("L", (len(tiles) * w, h + 14), 0)
            d = ImageDraw.Draw(m)
            for i, (tile, label) in enumerate(zip(tiles, labels)):
                m.paste(tile, (i * w, 14))
                d.text((i * w + 3, 1), label, fill=255)
            path = os.path.join(out_dir, f"ni_joint_{scene}.png")
            m.save(path + ".tmp", format="PNG", optimize=True)  # never a half-written montage
            os.replace(path + ".tmp", path)
            t0, t1 = deb["exposure_us"]
            print(f"| {scene} | {(t1 - t0) / 1000:.1f} ms | {c_auto:.2f}{bound} | {t_edi:.2f} | {t_deb:.2f} "
                  f"| [png](images/ni_joint_{scene}.png) |")


if __name__ == "__main__":
    main()
