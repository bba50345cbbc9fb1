#!/usr/bin/env python3
"""Which single contrast threshold gives the best EDI frame: a scan against the ground truth.

For every sample of a benchmark suite (`diffevent benchmark --suite DIR` writes one folder per
sample with blur.pfm, sharp.pfm, events.npz and meta.json), runs `diffevent --json edi -c C
--ref sharp.pfm` over log-spaced C in [0.05, 1] and reports, per level, the C of the best PSNR
beside the simulation's true mean threshold and the estimate of `--auto-threshold`. Under
strong per-pixel mismatch the best single C is not the mean threshold; this shows by how much.

Usage: python3 lab/scripts/threshold_psnr_scan.py SUITE [--levels ideal realistic hard]
         [--diffevent build/diffevent] [--points 25]
"""
import json
import os
import subprocess
import tempfile

from suite_util import edi_command, samples, suite_parser


def edi(args, d, meta, out, extra):
    cmd = edi_command(args.diffevent, d, meta, out) + ["-r", os.path.join(d, "sharp.pfm")] + extra
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    ap = suite_parser(__doc__)
    ap.add_argument("--points", type=int, default=25)
    args = ap.parse_args()
    grid = [0.05 * 20 ** (k / (args.points - 1)) for k in range(args.points)]
    print("| level | samples | true c | best-PSNR c (median, range) | within 20% of true: best-PSNR c | "
          "within 20%: `--auto-threshold` | EDI dB at best c / at true c / at the estimate |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "edi.pfm")
        for level in args.levels:
            rows = []
            for d, meta in samples(args.suite, level):
                true_c = 0.5 * (meta["true_threshold_pos"] + meta["true_threshold_neg"])
                scan = [(edi(args, d, meta, out, ["-c", str(c)])["psnr_db"], c) for c in grid]
                best_db, best_c = max(scan)
                at_true = edi(args, d, meta, out, ["-c", str(true_c)])["psnr_db"]
                auto = edi(args, d, meta, out, ["--auto-threshold"])
                rows.append((true_c, best_c, best_db, at_true, auto["threshold"]["c_pos"],
                             auto["psnr_db"]))
            if not rows:
                continue
            within = lambda k: sum(abs(r[k] / r[0] - 1) <= 0.2 for r in rows)
            best = sorted(r[1] for r in rows)
            mean = lambda k: sum(r[k] for r in rows) / len(rows)
            print(f"| {level} | {len(rows)} | {rows[0][0]:.3g} | {best[len(best) // 2]:.3f} "
                  f"({best[0]:.3f}-{best[-1]:.3f}) | {within(1)}/{len(rows)} | "
                  f"{within(4)}/{len(rows)} | {mean(2):.2f} / {mean(3):.2f} / {mean(5):.2f} |")


if __name__ == "__main__":
    main()
