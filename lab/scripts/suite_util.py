"""What the lab scripts that read a benchmark suite share: their common arguments and the walk
over a level's samples (`diffevent benchmark --suite DIR` writes DIR/LEVEL/SAMPLE/ with
blur.pfm, sharp.pfm, events.npz and meta.json)."""
import argparse
import glob
import json
import os


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
