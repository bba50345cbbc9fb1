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

from suite_util import edi_json, level_rows, suite_parser, true_threshold


def main():
    ap = suite_parser(__doc__)
    ap.add_argument("--points", type=int, default=25)
    args = ap.parse_args()
    grid = [0.05 * 20 ** (k / (args.points - 1)) for k in range(args.points)]

    def row(d, meta, out):
        edi = lambda extra: edi_json(args.diffevent, d, meta, out, extra)  # noqa: E731
        true_c = true_threshold(meta)
        best_db, best_c = max((edi(["-c", str(c)])["psnr_db"], c) for c in grid)
        auto = edi(["--auto-threshold"])
        return (true_c, best_c, best_db, edi(["-c", str(true_c)])["psnr_db"], auto["threshold"]["c_pos"],
                auto["psnr_db"])

    print("| level | samples | true c | best-PSNR c (median, range) | within 20% of true: best-PSNR c | "
          "within 20%: `--auto-threshold` | EDI dB at best c / at true c / at the estimate |")
    print("|---|---|---|---|---|---|---|")
    for level, rows in level_rows(args, row):
        within = lambda k: sum(abs(r[k] / r[0] - 1) <= 0.2 for r in rows)  # noqa: E731
        best = sorted(r[1] for r in rows)
        mean = lambda k: sum(r[k] for r in rows) / len(rows)  # noqa: E731
        print(f"| {level} | {len(rows)} | {rows[0][0]:.3g} | {best[len(best) // 2]:.3f} "
              f"({best[0]:.3f}-{best[-1]:.3f}) | {within(1)}/{len(rows)} | "
              f"{within(4)}/{len(rows)} | {mean(2):.2f} / {mean(3):.2f} / {mean(5):.2f} |")


if __name__ == "__main__":
    main()
