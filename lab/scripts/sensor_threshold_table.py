#!/usr/bin/env python3
"""How well `edi --sensor-threshold` finds the simulation's threshold, per benchmark level.

For every sample of a benchmark suite (`diffevent benchmark --suite DIR`: one folder per sample
with blur.pfm, sharp.pfm, events.npz and meta.json), runs `diffevent --json edi --auto-threshold
--sensor-threshold --reference-at-start --ref sharp.pfm` (the suite's simulator starts every
pixel at its reference level) and prints, per level: the sensor estimates within 20% of the
true mean threshold, the truth within two reported standard errors, the median ratio of
estimate to truth and its range, the mean PSNR of EDI at the sensor estimate, beside them
the sharpness search's estimates within 20% (`--auto-threshold`, the threshold the output uses),
and the median ratios of the per-polarity estimates to the simulation's ON and OFF thresholds.

Usage: python3 lab/scripts/sensor_threshold_table.py SUITE [--levels ideal realistic hard]
         [--diffevent build/diffevent]
"""
import statistics

from suite_util import edi_json, level_rows, suite_parser, true_threshold


def main():
    args = suite_parser(__doc__).parse_args()

    def row(d, meta, out):
        j = edi_json(args.diffevent, d, meta, out,
                     ["--auto-threshold", "--sensor-threshold", "--reference-at-start"])
        s = j["sensor_threshold"]
        if "c" not in s:  # too few moving edges: no estimate, counted as a miss
            return true_threshold(meta), None, None, None, j["auto_threshold"]["c"], None
        at_sensor = edi_json(args.diffevent, d, meta, out, ["-c", repr(s["c"])])["psnr_db"]
        # Per polarity, against the simulation's own ON and OFF thresholds.
        polarity = (s["c_pos"] / meta["true_threshold_pos"], s["c_neg"] / meta["true_threshold_neg"])
        return true_threshold(meta), s["c"], s["std_error"], at_sensor, j["auto_threshold"]["c"], polarity

    print("| level | sensor estimate within 20% | no estimate | true c within 2 SE | "
          "median estimate / true | range | EDI at the sensor estimate (dB) | "
          "sharpness search within 20% | median ON / true ON, OFF / true OFF |")
    print("|---|---|---|---|---|---|---|---|---|")
    for level, all_rows in level_rows(args, row):
        n = len(all_rows)
        search = sum(abs(r[4] / r[0] - 1) <= 0.2 for r in all_rows)
        rows = [r for r in all_rows if r[1] is not None]
        within = sum(abs(r[1] / r[0] - 1) <= 0.2 for r in rows)
        two_se = sum(abs(r[1] - r[0]) <= 2 * r[2] for r in rows)
        ratios = [r[1] / r[0] for r in rows]
        on = statistics.median(r[5][0] for r in rows)
        off = statistics.median(r[5][1] for r in rows)
        print(f"| {level} | {within}/{n} | {n - len(rows)} | {two_se}/{n} | "
              f"{statistics.median(ratios):.2f} | "
              f"{min(ratios):.2f}-{max(ratios):.2f} | {statistics.mean(r[3] for r in rows):.2f} | "
              f"{search}/{n} | {on:.2f}, {off:.2f} |", flush=True)


if __name__ == "__main__":
    main()
