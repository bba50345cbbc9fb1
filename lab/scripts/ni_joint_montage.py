#!/usr/bin/env python3
"""Montages of the ni-joint DAVIS recordings (real data, no ground truth): blurry frame | EDI at
c = 0.2 | EDI with the threshold search | deblur at c = 0.2 | deblur with the threshold search
(shipped priors when installed, else the analytic prior; guided f(E)). Writes docs/images/ni_joint_<scene>.png and prints the markdown
table for docs/quality.md (estimated thresholds, seconds per frame).
Usage: /usr/bin/python3 lab/scripts/ni_joint_montage.py [BUILD_DIR] [DATA_DIR] [--steps N] [--jobs J]
(--jobs: scenes in parallel; the deblur seconds are then measured with J scenes sharing the CPU)"""
import argparse
import concurrent.futures as cf
import json
import os
import subprocess
import sys
import tempfile
import time

from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_ap = argparse.ArgumentParser()
_ap.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
_ap.add_argument("data", nargs="?", default=os.path.join(ROOT, "data", "ni-joint"))
_ap.add_argument("--steps", type=int, default=0, help="sampler steps (default: deblur's)")
_ap.add_argument("--jobs", type=int, default=1)
_ap.add_argument("--scenes", default="", help="comma-separated scene names (default: all)")
ARGS = _ap.parse_args()
BUILD, DATA = os.path.abspath(ARGS.build), os.path.abspath(ARGS.data)
CLI = os.path.join(BUILD, "diffevent")
STEPS = ["--steps", str(ARGS.steps)] if ARGS.steps > 0 else []
SCENES = [("badminton", "badminton"), ("keyboard", "keyboard"), ("toy", "toy"), ("text_cambridge", "text_cambridge"),
          ("night_run", "night_run"), ("low_light_model1", "low_light_model"), ("low_light_model2", "low_light_model")]


def run(*args):
    t = time.monotonic()
    out = subprocess.run([CLI, "--json", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out), time.monotonic() - t


def scene_row(scene, frame, out_dir):
    events, blur = os.path.join(DATA, scene + ".mat"), os.path.join(DATA, frame + ".png")
    if not (os.path.exists(events) and os.path.exists(blur)):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        common = ["--blur", blur, "--events", events, "--exposure", "span"]
        _, t_edi = run("edi", *common, "--threshold", "0.2", "--out", os.path.join(tmp, "edi.png"))
        auto, _ = run("edi", *common, "--auto-threshold", "--out", os.path.join(tmp, "auto.png"))
        deb, t_deb = run("deblur", *common, "--threshold", "0.2", "--enhance", "guided", "--seed", "0", *STEPS,
                         "--out", os.path.join(tmp, "deblur.png"))
        deb_auto, t_auto = run("deblur", *common, "--auto-threshold", "--enhance", "guided", "--seed", "0",
                               *STEPS, "--out", os.path.join(tmp, "deblur_auto.png"))
        tiles = [Image.open(p).convert("L") for p in
                 (blur, os.path.join(tmp, "edi.png"), os.path.join(tmp, "auto.png"), os.path.join(tmp, "deblur.png"),
                  os.path.join(tmp, "deblur_auto.png"))]
    w, h = tiles[0].size
    c_auto = auto["auto_threshold"]["c"]
    bound = " (at bound)" if auto["auto_threshold"]["at_bound"] else ""
    prior = "trained" if deb["x_prior"] != "analytic" else "analytic"
    labels = ["blurry", "EDI c=0.2", f"EDI auto c={c_auto:.2f}{bound}", f"deblur ({prior} prior) c=0.2",
              f"deblur ({prior} prior) auto c"]
    m = Image.new("L", (len(tiles) * w, h + 14), 0)
    d = ImageDraw.Draw(m)
    for i, (tile, label) in enumerate(zip(tiles, labels)):
        m.paste(tile, (i * w, 14))
        d.text((i * w + 3, 1), label, fill=255)
    path = os.path.join(out_dir, f"ni_joint_{scene}.png")
    m.save(path + ".tmp", format="PNG", optimize=True)  # never a half-written montage
    os.replace(path + ".tmp", path)
    t0, t1 = deb["exposure_us"]
    print(f"ni_joint_montage: {scene} done (deblur {t_deb:.1f} s)", file=sys.stderr, flush=True)
    return (f"| {scene} | {(t1 - t0) / 1000:.1f} ms | {c_auto:.2f}{bound} | {t_edi:.2f} | {t_deb:.2f} "
            f"| {t_auto:.2f} ({deb_auto['network_calls']} network calls) | [png](images/ni_joint_{scene}.png) |")


def main():
    out_dir = os.path.join(ROOT, "docs", "images")
    os.makedirs(out_dir, exist_ok=True)
    with cf.ThreadPoolExecutor(ARGS.jobs) as pool:
        chosen = [sf for sf in SCENES if not ARGS.scenes or sf[0] in ARGS.scenes.split(",")]
        rows = list(pool.map(lambda sf: scene_row(sf[0], sf[1], out_dir), chosen))
    print("| scene | exposure | auto c | EDI s | deblur s | deblur s at auto c | montage |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        if row:
            print(row)


if __name__ == "__main__":
    main()
