#!/usr/bin/env python3
"""Sweep of deblur's defaults (threshold noise model, s, s', lambda_tv, lambda_l1, enhancer, start, samples, steps) with trained priors.

Runs on training-side photos only (data/photos/train by default), never on the benchmark's
held-out suite, at the realistic event-noise level. Coordinate search: the parameters are swept
one after the other in GRID's order (the values of one parameter run in parallel), each
starting from the best setting so far; the result is then scored at each step count. Every run
is one `diffevent benchmark --trained-only` call, so the sweep scores exactly what the
benchmark and `deblur` run.
Results: a markdown table on stdout and in OUT/sweep.md, raw JSON rows in OUT/runs.jsonl (a run
already there is not repeated, so an interrupted sweep resumes).

Usage: python3 lab/scripts/sweep_defaults.py --prior models/x_prior_grey.pt
         --residual-prior models/r_prior_grey.pt [--photos DIR] [--count 10] [--size 96]
         [--steps 20] [--jobs 2] [--out out/sweep]
"""
import argparse
import concurrent.futures as cf
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The starting point: the regime the threshold noise model opens (docs/priors.md): per-pixel
# data weights, a warm start from EDI, averaged posterior samples, no TV (the weights make the
# TV step relative to a smaller curvature).
BASE = {"s": 1.5e4, "s_r": 1e3, "lambda_tv": 0.0, "lambda_l1": 3000.0, "enhance": "guided", "start": 0.1,
        "threshold_sigma": 0.05, "samples": 3}
# The noise model first: it sets what s means (the weight of a pixel whose expected residual
# is 0.01) and how much the priors may correct. lambda_l1 stays high: y = f(E) x + r fixes only
# the sum, and a weak L1 term lets the r prior's drift into x (docs/priors.md).
GRID = {
    "threshold_sigma": [0.0, 0.025, 0.05, 0.1],
    "s": [3750.0, 7500.0, 1.5e4, 3e4, 1e5],
    "lambda_tv": [0.0, 10.0, 100.0],
    "lambda_l1": [300.0, 3000.0],
    "s_r": [1e3, 1e4],
    "enhance": ["guided", "identity"],
    # Warm start (SamplerOptions::start): the fraction of the schedule sampling starts from.
    "start": [1.0, 0.2, 0.1, 0.05],
    "samples": [1, 3, 8],
}
FLAGS = {"s": "--s", "s_r": "--s-r", "lambda_tv": "--lambda-tv", "lambda_l1": "--lambda-l1", "enhance": "--enhance",
         "start": "--start", "threshold_sigma": "--threshold-sigma", "samples": "--samples"}


def key(cfg: dict, steps: int) -> str:
    return json.dumps({**cfg, "steps": steps}, sort_keys=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prior", required=True)
    ap.add_argument("--residual-prior", required=True)
    ap.add_argument("--photos", default=os.path.join(ROOT, "data/photos/train"))
    ap.add_argument("--count", type=int, default=10, help="photos used (the first COUNT by name)")
    ap.add_argument("--size", type=int, default=96, help="sample width (height 3/4 of it)")
    ap.add_argument("--steps", type=int, default=100, help="sampler steps of the one-at-a-time runs (spacing the whole schedule; a warm start runs start * steps of them)")
    ap.add_argument("--step-counts", default="50,100,200", help="step counts scored for the combination")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cli", default=os.path.join(ROOT, "build/diffevent"))
    ap.add_argument("--out", default=os.path.join(ROOT, "out/sweep"))
    a = ap.parse_args()

    if "heldout" in os.path.abspath(a.photos).split(os.sep):
        sys.exit("sweep_defaults: refusing to sweep on held-out photos (the benchmark's)")
    for f in (a.prior, a.residual_prior, a.cli):
        if not os.path.exists(f):
            sys.exit(f"sweep_defaults: '{f}' does not exist")
    os.makedirs(a.out, exist_ok=True)
    photos = os.path.join(a.out, "photos")
    suite = os.path.join(a.out, "suite")
    if not os.path.isdir(suite):
        shutil.rmtree(photos, ignore_errors=True)
        os.makedirs(photos)
        names = sorted(n for n in os.listdir(a.photos) if n.lower().endswith((".png", ".pfm")))[: a.count]
        if not names:
            sys.exit(f"sweep_defaults: no PNG or PFM photos in '{a.photos}'")
        for n in names:
            os.symlink(os.path.abspath(os.path.join(a.photos, n)), os.path.join(photos, n))
        # Simulate once (also scores the EDI rows, the reference the sweep must beat).
        ref = subprocess.run([a.cli, "--json", "benchmark", "--suite", suite, "--photos", photos, "--size", str(a.size),
                              "--levels", "realistic", "--steps", "1"], capture_output=True, text=True)
        if ref.returncode != 0:
            sys.exit(f"sweep_defaults: simulating the suite failed: {ref.stderr.strip()}")
        with open(os.path.join(a.out, "reference.json"), "w") as f:
            f.write(ref.stdout)

    runs_path = os.path.join(a.out, "runs.jsonl")
    done = {}
    if os.path.exists(runs_path):
        for line in open(runs_path):
            r = json.loads(line)
            done[r["key"]] = r

    def run(cfg: dict, steps: int) -> dict:
        k = key(cfg, steps)
        if k in done:
            return done[k]
        cmd = [a.cli, "--json", "benchmark", "--suite", suite, "--levels", "realistic", "--trained-only",
               "--prior", a.prior, "--residual-prior", a.residual_prior, "--steps", str(steps)]
        for name, flag in FLAGS.items():
            cmd += [flag, str(cfg[name])]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
        row = [r for r in json.loads(p.stdout) if r["method"] == "deblur (trained priors)"][0]
        r = {"key": k, "cfg": cfg, "steps": steps, "psnr_db": row["psnr_db"], "ssim": row["ssim"],
             "seconds_per_frame": row["seconds_per_frame"], "samples": row["samples"]}
        with open(runs_path, "a") as f:
            f.write(json.dumps(r) + "\n")
        print(f"sweep: {k} -> {r['psnr_db']:.2f} dB", file=sys.stderr, flush=True)
        done[k] = r
        return r

    best = dict(BASE)
    sweeps = []  # (parameter, [(value, run)]) in the order swept
    for name, values in GRID.items():
        cfgs = [{**best, name: v} for v in values]
        with cf.ThreadPoolExecutor(a.jobs) as pool:
            results = list(pool.map(lambda c: run(c, a.steps), cfgs))
        sweeps.append((name, dict(best), list(zip(values, results))))
        # Ties keep the current value (a parameter without effect stays where it was).
        best[name] = max(zip(values, results), key=lambda vr: (vr[1]["psnr_db"], vr[0] == best[name]))[0]
    counts = [int(s) for s in a.step_counts.split(",")]
    with cf.ThreadPoolExecutor(a.jobs) as pool:
        combined = list(pool.map(lambda n: run(best, n), counts))

    ref = json.load(open(os.path.join(a.out, "reference.json")))
    lines = [f"Sweep on {len(os.listdir(photos))} training-side photos ({a.photos}), {a.size} px wide, realistic level.",
             "", "Reference rows (same suite):", "", "| method | PSNR (dB) | SSIM |", "|---|---|---|"]
    lines += [f"| {r['method']} | {r['psnr_db']:.2f} | {r['ssim']:.4f} |" for r in ref if r["method"].startswith(("blurry", "EDI"))]
    lines += ["", f"Coordinate search from {BASE}, {a.steps} steps (each parameter from the best setting so far):", "",
              "| parameter | value | PSNR (dB) | SSIM | s/frame |", "|---|---|---|---|---|"]
    for name, _, runs in sweeps:
        for v, r in runs:
            mark = " (best)" if v == best[name] else ""
            lines.append(f"| {name} | {v}{mark} | {r['psnr_db']:.2f} | {r['ssim']:.4f} | {r['seconds_per_frame']:.2f} |")
    lines += ["", f"Best setting {best}:", "", "| steps | PSNR (dB) | SSIM | s/frame |", "|---|---|---|---|"]
    lines += [f"| {r['steps']} | {r['psnr_db']:.2f} | {r['ssim']:.4f} | {r['seconds_per_frame']:.2f} |" for r in combined]
    text = "\n".join(lines) + "\n"
    tmp = os.path.join(a.out, "sweep.md.tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, os.path.join(a.out, "sweep.md"))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
