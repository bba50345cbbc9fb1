#!/usr/bin/env python3
"""What a residual prior could learn: the spatial structure of EDI's true residual.

For every sample of a benchmark suite (`diffevent benchmark --suite DIR` writes one folder per
sample with blur.pfm, sharp.pfm, events.npz and meta.json), the true residual of the model
y = E x + r is r = y - E x_true, with E the double integral at the threshold the methods are
told (the paper's step integral, `diffevent edi`: E = y / edi, clamped to
[min_integral, 1 / min_integral]). A prior over r can only add what
r's neighbourhood predicts about it; the per-pixel size of r is already in the threshold noise
model's data weights. So the script reports, per level (means over samples):

- rms r (linear intensity, data range 1);
- rho: the correlation of r with its right and lower neighbours;
- R2: the fraction of r's variance that the best linear predictor from its 8 neighbours
  explains (least squares over the frame, per sample).

A white residual (rho and R2 near 0) holds nothing for a spatial prior to learn.

Usage: python3 lab/scripts/residual_structure.py SUITE [--levels ideal realistic hard]
         [--diffevent build/diffevent] [--min-integral 0.1]
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

from suite_util import edi_command, read_pfm, samples, suite_parser


def read_grey(path):
    img = read_pfm(path)
    if img.shape[2] != 1:
        raise SystemExit(f"{path}: a grey PFM was expected (the suite's grey levels)")
    return img[..., 0]


def structure(r):
    rho = 0.5 * (np.corrcoef(r[:, 1:].ravel(), r[:, :-1].ravel())[0, 1] +
                 np.corrcoef(r[1:].ravel(), r[:-1].ravel())[0, 1])
    h, w = r.shape
    centre = r[1:-1, 1:-1].ravel()
    neighbours = np.stack([r[1 + a:h - 1 + a, 1 + b:w - 1 + b].ravel()
                           for a in (-1, 0, 1) for b in (-1, 0, 1) if (a, b) != (0, 0)], 1)
    coef, *_ = np.linalg.lstsq(neighbours, centre, rcond=None)
    r2 = 1 - np.var(centre - neighbours @ coef) / np.var(centre)
    return np.sqrt(np.mean(r * r)), rho, r2


def main():
    ap = suite_parser(__doc__)
    ap.add_argument("--min-integral", type=float, default=0.1)
    args = ap.parse_args()
    print("| level | samples | rms r | rho (neighbour correlation) | R2 (8 neighbours) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for level in args.levels:
            rows = []
            for d, meta in samples(args.suite, level):
                out = os.path.join(tmp, "edi.pfm")
                subprocess.run(edi_command(args.diffevent, d, meta, out) +
                               ["-c", str(meta["nominal_threshold"])],
                               check=True, stdout=subprocess.DEVNULL)
                y = read_grey(os.path.join(d, "blur.pfm"))
                x = read_grey(os.path.join(d, "sharp.pfm"))
                edi = read_grey(out)
                # Clamped: beyond [0.1, 10] lie pixels whose own threshold is far off, which
                # the threshold noise model's data weights discount whatever r is.
                E = np.clip(np.where(edi > 0, y / np.maximum(edi, 1e-6), 1.0), args.min_integral,
                            1 / args.min_integral)
                rows.append(structure(y - E * x))
            if not rows:
                print(f"{level}: no samples under {args.suite}", file=sys.stderr)
                continue
            m = np.mean(rows, axis=0)
            print(f"| {level} | {len(rows)} | {m[0]:.4f} | {m[1]:.3f} | {m[2]:.3f} |")


if __name__ == "__main__":
    main()
