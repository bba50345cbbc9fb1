#!/usr/bin/env python3
"""What `diffevent deblur` gives on a file that states no threshold, per benchmark level.

For every sample of a benchmark suite (`diffevent benchmark --suite DIR`: one folder per sample
with blur.pfm, sharp.pfm, events.npz and meta.json), runs `diffevent --json deblur --ref
sharp.pfm` twice: without a threshold (the events file states none, so the CLI estimates it, as
for a recording of unknown threshold) and at the nominal threshold the benchmark tells every
method. Prints, per level, the mean PSNR of each and the median estimated threshold. Extra
arguments after `--` go to both deblur calls (e.g. `-- --preset noisy`).

Usage: python3 lab/scripts/deblur_at_estimate.py SUITE [--levels ideal realistic hard]
         [--diffevent build/diffevent] [-- DEBLUR_ARGS...]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

from suite_util import samples, suite_parser


def deblur(args, d, meta, out, extra):
    cmd = [args.diffevent, "--json", "deblur", "-b", os.path.join(d, "blur.pfm"), "-e",
           os.path.join(d, "events.npz"), "--exposure", "{}:{}".format(*meta["exposure_us"]),
           "-o", out, "--ref", os.path.join(d, "sharp.pfm")] + extra + args.deblur_args
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    argv = sys.argv[1:]
    rest = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    args = suite_parser(__doc__).parse_args(argv)
    args.deblur_args = rest
    print("| level | samples | median estimated c | deblur at the estimate (dB) | at the nominal (dB) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sharp.pfm")
        for level in args.levels:
            est, nom, cs = [], [], []
            for d, meta in samples(args.suite, level):
                a = deblur(args, d, meta, out, [])
                b = deblur(args, d, meta, out, ["--threshold", str(meta["nominal_threshold"])])
                est.append(a["psnr_db"])
                nom.append(b["psnr_db"])
                cs.append(a["threshold"])
            if est:
                print("| %s | %d | %.3f | %.2f | %.2f |" % (level, len(est), statistics.median(cs),
                                                          statistics.fmean(est), statistics.fmean(nom)),
                      flush=True)


if __name__ == "__main__":
    main()
