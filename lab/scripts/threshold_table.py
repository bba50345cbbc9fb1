#!/usr/bin/env python3
"""How well `--auto-threshold` finds the simulation's threshold, per benchmark level.

For every sample of a benchmark suite (`diffevent benchmark --suite DIR`: one folder per sample
with blur.pfm, sharp.pfm, events.npz and meta.json), runs `diffevent --json edi --auto-threshold
--ref sharp.pfm` and prints, per level: the estimates within 20% of the true mean threshold, at
an end of the search interval, with the truth within two reported standard errors; the median
estimate and standard error, their range, and the mean PSNR of EDI at the estimates.

Usage: python3 lab/scripts/threshold_table.py SUITE [--levels ideal realistic hard]
         [--diffevent build/diffevent]
"""
import json
import os
import statistics
import subprocess
import tempfile

from suite_util import edi_command, samples, suite_parser


def main():
    args = suite_parser(__doc__).parse_args()
    print("| level | within 20% | at a bound | true c within 2 SE | median c | median SE | range | "
          "EDI at the estimate (dB) |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "edi.pfm")
        for level in args.levels:
            rows = []
            for d, meta in samples(args.suite, level):
                true_c = 0.5 * (meta["true_threshold_pos"] + meta["true_threshold_neg"])
                cmd = edi_command(args.diffevent, d, meta, out) + [
                    "--auto-threshold", "-r", os.path.join(d, "sharp.pfm")]
                j = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
                est = j["auto_threshold"]
                rows.append((true_c, est["c"], est["std_error"], est["at_bound"], j["psnr_db"]))
            if not rows:
                continue
            n = len(rows)
            within = sum(abs(c / t - 1) <= 0.2 for t, c, _, _, _ in rows)
            bound = sum(b for _, _, _, b, _ in rows)
            two_se = sum(abs(c - t) <= 2 * se for t, c, se, _, _ in rows)
            cs = [c for _, c, _, _, _ in rows]
            print(f"| {level} | {within}/{n} | {bound} | {two_se}/{n} | {statistics.median(cs):.3f} | "
                  f"{statistics.median(r[2] for r in rows):.3f} | {min(cs):.3f}-{max(cs):.3f} | "
                  f"{statistics.mean(r[4] for r in rows):.2f} |", flush=True)


if __name__ == "__main__":
    main()
