"""What the lab scripts that read a benchmark suite share: their common arguments and the walk
over a level's samples (`diffevent benchmark --suite DIR` writes DIR/LEVEL/SAMPLE/ with
blur.pfm, sharp.pfm, events.npz and meta.json)."""
import argparse
import glob
import json
import os
import subprocess
import tempfile


def suite_parser(doc):
    """An argument parser with SUITE, --levels and --diffevent."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("suite")
    ap.add_argument("--levels", nargs="+", default=["ideal", "realistic", "hard"])
    ap.add_argument("--diffevent", default="build/diffevent")
    return ap


def samples(suite, level):
    """(folder, meta) of each sample of one level, in name order."""
    for m in sorted(glob.glob(os.path.join(suite, level, "*", "meta.json"))):
        with open(m) as f:
            yield os.path.dirname(m), json.load(f)


def edi_command(diffevent, d, meta, out):
    """`diffevent --json edi` on one sample, writing `out`; append -c / --auto-threshold."""
    return [diffevent, "--json", "edi", "-b", os.path.join(d, "blur.pfm"), "-e",
            os.path.join(d, "events.npz"), "--exposure", "{}:{}".format(*meta["exposure_us"]),
            "-o", out]


def true_threshold(meta):
    """The simulation's mean threshold (of its ON and OFF thresholds)."""
    return 0.5 * (meta["true_threshold_pos"] + meta["true_threshold_neg"])


def edi_json(diffevent, d, meta, out, extra):
    """`diffevent --json edi` on one sample, scored against its sharp frame; the parsed JSON."""
    cmd = edi_command(diffevent, d, meta, out) + ["-r", os.path.join(d, "sharp.pfm")] + extra
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def level_rows(args, row):
    """(level, rows) for each of args.levels with samples: rows[i] = row(d, meta, out) for its
    samples in name order, `out` a scratch output path in a temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "edi.pfm")
        for level in args.levels:
            rows = [row(d, meta, out) for d, meta in samples(args.suite, level)]
            if rows:
                yield level, rows


def read_pfm(path):
    """A PFM image (the suite's blur.pfm and sharp.pfm) as a float64 array of shape (H, W, C)."""
    import numpy as np  # here: the scripts that only run the CLI need no NumPy
    with open(path, "rb") as f:
        kind = f.readline().strip()
        w, h = map(int, f.readline().split())
        scale = float(f.readline())
        data = np.fromfile(f, dtype="<f4" if scale < 0 else ">f4")
    if kind not in (b"Pf", b"PF"):
        raise SystemExit(f"{path}: not a PFM image")
    return np.flipud(data.reshape(h, w, 3 if kind == b"PF" else 1)).astype(np.float64)
