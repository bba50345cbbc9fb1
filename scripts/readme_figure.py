#!/usr/bin/env python3
"""The README's before/after strips, made with the CLI on the bundled data:
docs/images/readme_simulated.png (data/sample: blurry | EDI | DiffEvent | ground truth, with PSNR)
and docs/images/readme_real.png (a DAVIS346 recording from ni-joint: blurry | EDI | DiffEvent,
threshold estimated). Prints the seconds each deblur took.
Usage: /usr/bin/python3 scripts/readme_figure.py [BUILD_DIR] [--preset fast|balanced|best|paper|noisy]"""
import argparse
import json
import os
import subprocess
import tempfile
import time

from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("build", nargs="?", default=os.path.join(ROOT, "build"))
ap.add_argument("--preset", default="balanced")
args = ap.parse_args()
CLI = os.path.join(os.path.abspath(args.build), "diffevent")


def cli(*argv):
    t0 = time.monotonic()
    out = subprocess.run([CLI, "--json", *argv], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1]), time.monotonic() - t0


def font(size):
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default()


def strip(panels, path, scale):
    """panels: [(image path, label)]; each scaled by `scale` (nearest), labelled above."""
    images = [Image.open(p).convert("L") for p, _ in panels]
    w, h = images[0].width * scale, images[0].height * scale
    bar, gap = 22, 4
    out = Image.new("L", (len(images) * w + (len(images) - 1) * gap, h + bar), 255)
    draw = ImageDraw.Draw(out)
    f = font(14)
    for i, (img, (_, label)) in enumerate(zip(images, panels)):
        x = i * (w + gap)
        out.paste(img.resize((w, h), Image.NEAREST), (x, bar))
        draw.text((x + 4, 3), label, fill=0, font=f)
    out.save(path, optimize=True)
    print("wrote", os.path.relpath(path, ROOT))


with tempfile.TemporaryDirectory() as tmp:
    sample = os.path.join(ROOT, "data", "sample")
    blur, events, sharp = (os.path.join(sample, f) for f in ("blur.png", "events.h5", "sharp.png"))
    edi, _ = cli("edi", "-b", blur, "-e", events, "-c", "0.2", "-o", os.path.join(tmp, "edi.png"), "-r", sharp)
    deb, secs = cli("deblur", "-b", blur, "-e", events, "-c", "0.2", "-p", args.preset,
                    "-o", os.path.join(tmp, "deblur.png"), "-r", sharp)
    blurry_db = cli("eval", "-r", sharp, "-t", blur)[0]["psnr_db"]
    print(f"simulated 128 x 96: deblur ({args.preset}) {secs:.1f} s")
    strip([(blur, f"blurry  {blurry_db:.1f} dB"), (os.path.join(tmp, "edi.png"), f"EDI  {edi['psnr_db']:.1f} dB"),
           (os.path.join(tmp, "deblur.png"), f"DiffEvent  {deb['psnr_db']:.1f} dB"), (sharp, "ground truth")],
          os.path.join(ROOT, "docs", "images", "readme_simulated.png"), 2)

    real = os.path.join(ROOT, "data", "ni-joint")
    blur, events = os.path.join(real, "badminton.png"), os.path.join(real, "badminton.mat")
    edi, _ = cli("edi", "-b", blur, "-e", events, "--exposure", "span", "--auto-threshold",
                 "-o", os.path.join(tmp, "real_edi.png"))
    deb, secs = cli("deblur", "-b", blur, "-e", events, "--exposure", "span", "--auto-threshold", "-p", args.preset,
                    "-o", os.path.join(tmp, "real_deblur.png"))
    print(f"DAVIS346 badminton 346 x 260: deblur ({args.preset}) {secs:.1f} s, c = {deb['threshold']:.2f}")
    strip([(blur, "blurry (DAVIS346 frame)"), (os.path.join(tmp, "real_edi.png"), f"EDI  c = {edi['threshold']['c_pos']:.2f}"),
           (os.path.join(tmp, "real_deblur.png"), "DiffEvent")],
          os.path.join(ROOT, "docs", "images", "readme_real.png"), 1)
