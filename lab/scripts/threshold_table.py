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
import statistics

from suite_util import edi_json, level_rows, suite_parser, true_threshold


def main():
    args = suite_parser(__doc__).parse_args()

    def row(d, meta, out):
        j = edi_json(args.diffevent, d, meta, out, ["--auto-threshold"])
        est = j["auto_threshold"]
        return true_threshold(meta), est["c"], est["std_error"], est["at_bound"], j["psnr_db"]

    print("| level | within 20% | at a bound | true c within 2 SE | median c | median SE | range | "
          "EDI at the estimate (dB) |")
    print("|---|---|---|---|---|---|---|---|")
    for level, rows in level_rows(args, row):
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
