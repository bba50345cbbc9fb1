#!/usr/bin/env python3
"""Colour frames through the grey prior: deblur the luminance, keep the frame's colour ratios.

E is shared by the three channels (events measure luminance), so y / f(E) keeps the blurry
frame's colour ratios whatever E is. This deblurs the frame's luminance (Rec. 601, as the library
makes grey) with `diffevent deblur` and the grey prior, and scales the blurry RGB frame by the
luminance's gain: x = y * L_deblurred / L_blurry. For every sample of a colour benchmark suite
(`diffevent benchmark --colour --suite DIR`) it prints, per level, the mean PSNR over the three
channels against the sharp frame and the seconds per deblur call; compare with the suite's
"deblur (trained priors)" row for the RGB prior. Extra arguments after `--` go to deblur.

Usage: python3 lab/scripts/luminance_colour.py SUITE [--levels ideal realistic hard]
         [--diffevent build/diffevent] [-- DEBLUR_ARGS...]
"""
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from suite_util import read_pfm, samples, suite_parser


def write_pfm(path, a):
    a = np.ascontiguousarray(a[::-1].astype("<f4"))
    with open(path, "wb") as f:
        f.write(b"PF\n" if a.shape[2] == 3 else b"Pf\n")
        f.write(f"{a.shape[1]} {a.shape[0]}\n-1.0\n".encode())
        f.write(a.tobytes())


def psnr(a, b):
    return 10 * math.log10(1.0 / max(float(np.mean((np.clip(a, 0, 1) - b) ** 2)), 1e-20))


def main():
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = suite_parser(__doc__).parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    print("| level | luminance through the grey prior (dB) | s per deblur call | samples |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        lum_in, lum_out = os.path.join(tmp, "lum.pfm"), os.path.join(tmp, "lum_deblurred.pfm")
        for level in args.levels:
            scores, seconds = [], []
            for d, meta in samples(args.suite, level):
                y, sharp = read_pfm(os.path.join(d, "blur.pfm")), read_pfm(os.path.join(d, "sharp.pfm"))
                if y.shape[2] != 3:
                    raise SystemExit(f"luminance_colour: {d} is not a colour sample (benchmark --colour)")
                lum = 0.299 * y[..., 0] + 0.587 * y[..., 1] + 0.114 * y[..., 2]
                write_pfm(lum_in, lum[..., None])
                t0 = time.monotonic()
                subprocess.run([args.diffevent, "deblur", "-b", lum_in, "-e", os.path.join(d, "events.npz"),
                                "--exposure", "{}:{}".format(*meta["exposure_us"]),
                                "-c", str(meta["nominal_threshold"]), "-o", lum_out, *extra],
                               check=True, capture_output=True)
                seconds.append(time.monotonic() - t0)
                gain = read_pfm(lum_out)[..., 0] / np.maximum(lum, 1e-6)
                scores.append(psnr(y * gain[..., None], sharp))
            if scores:
                print(f"| {level} | {np.mean(scores):.2f} | {np.median(seconds):.2f} | {len(scores)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
