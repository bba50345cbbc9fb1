#!/usr/bin/env python3
"""Loss curves of `diffevent train-prior` logs as one PNG (python3-pil only) and a markdown table.

Reads the progress lines ("train-prior: step K/N  loss L  ...") of each log; a log holding
several runs (resumed trainings) is read in order, later lines for a step replacing earlier ones.
Usage: python3 lab/scripts/plot_loss.py OUT.png NAME=LOG [NAME=LOG ...] [--every 250]
"""
import math
import os
import re
import sys

from PIL import Image, ImageDraw

LINE = re.compile(r"train-prior: step (\d+)/\d+\s+loss ([0-9.eE+-]+)")
COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189)]


def read(path):
    points = {}
    with open(path) as f:
        for line in f:
            m = LINE.search(line)
            if m:
                points[int(m.group(1))] = float(m.group(2))
    if not points:
        sys.exit(f"plot_loss: no progress lines in '{path}'")
    return sorted(points.items())


def main():
    args = sys.argv[1:]
    every = 250
    if "--every" in args:
        i = args.index("--every")
        every = int(args[i + 1])
        del args[i:i + 2]
    if len(args) < 2 or any("=" not in a for a in args[1:]):
        sys.exit(__doc__.strip().splitlines()[-1])
    out, curves = args[0], [(a.split("=", 1)[0], read(a.split("=", 1)[1])) for a in args[1:]]
    W, H, L, R, T, B = 640, 360, 60, 20, 20, 40
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    max_step = max(p[-1][0] for _, p in curves)
    losses = [l for _, p in curves for _, l in p]
    lo, hi = math.log10(min(losses)), math.log10(max(losses))
    lo, hi = math.floor(lo), math.ceil(hi) if hi > lo else lo + 1

    def xy(step, loss):
        return (L + (W - L - R) * step / max_step, T + (H - T - B) * (hi - math.log10(loss)) / (hi - lo))

    d.rectangle([L, T, W - R, H - B], outline="black")
    for e in range(lo, hi + 1):
        y = xy(1, 10 ** e)[1]
        d.line([L, y, W - R, y], fill=(220, 220, 220))
        d.text((5, y - 6), f"1e{e}", fill="black")
    for k in range(5):
        step = max_step * k / 4
        x = xy(step, 10 ** lo)[0]
        d.text((x - 10, H - B + 5), f"{int(step)}", fill="black")
    d.text((W // 2 - 40, H - 18), "training step", fill="black")
    for i, (name, pts) in enumerate(curves):
        colour = COLOURS[i % len(COLOURS)]
        d.line([xy(s, l) for s, l in pts], fill=colour, width=2)
        d.text((W - R - 150, T + 8 + 14 * i), f"{name} (loss, log scale)", fill=colour)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    img.save(out + ".tmp", format="PNG", optimize=True)
    os.replace(out + ".tmp", out)  # never a half-written figure

    # Table: the mean of the logged losses in each window of `every` steps.
    names = [n for n, _ in curves]
    print("| steps | " + " | ".join(f"{n} loss" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for start in range(0, max_step, every):
        row = []
        for _, pts in curves:
            w = [l for s, l in pts if start < s <= start + every]
            row.append(f"{sum(w) / len(w):.4f}" if w else "")
        print(f"| {start + 1}-{start + every} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
