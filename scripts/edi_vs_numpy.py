#!/usr/bin/env python3
"""EDI with the diffevent CLI against the same double integral written in NumPy.

Writes N random events (sorted by time, uniform over a W x H sensor and a 20 ms exposure) as
.npy and a grey blurry frame as PFM, then times, median of --repeat runs each, whole commands
that read the events and the frame, compute sharp = blurry / E at mid-exposure (EDI's step
model, threshold 0.2) and write the result:

  diffevent edi --blur B --events E --threshold 0.2 --out OUT.pfm
  python3 -c '<the NumPy double integral below>'   (numpy.load, vectorised per-pixel sums)

and checks that both give the same image (relative difference below 1e-3). Usage:
  python3 scripts/edi_vs_numpy.py --cli build/diffevent [--events 10000000] [--size 1280x720]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

NUMPY_EDI = r'''
import sys
import numpy as np
events_path, blur_path, out_path, c = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])

def read_pfm(path):
    with open(path, "rb") as f:
        kind = f.readline().strip()
        w, h = map(int, f.readline().split())
        scale = float(f.readline())
        data = np.fromfile(f, dtype="<f4" if scale < 0 else ">f4", count=w * h)
    return np.flipud(data.reshape(h, w))

ev = np.load(events_path)                     # structured (t [us], x, y, p)
t, x, y, p = ev["t"].astype(np.float64), ev["x"].astype(np.int64), ev["y"].astype(np.int64), ev["p"]
blur = read_pfm(blur_path)
h, w = blur.shape
t0, t1 = 0.0, 20000.0
tau = 0.5 * (t0 + t1)
pix = y * w + x
order = np.lexsort((t, pix))                  # by pixel, then time
pix, t, s = pix[order], t[order], np.where(p[order] > 0, c, -c)
# Level after each event relative to the pixel's start, and the level at tau.
csum = np.cumsum(s)
first = np.r_[True, pix[1:] != pix[:-1]]
start_of = np.maximum.accumulate(np.where(first, np.arange(len(pix)), 0))
base = np.where(start_of > 0, csum[start_of - 1], 0.0)
level = csum - base
level_tau = np.zeros(h * w)
before = t <= tau
last_before = np.zeros(h * w, dtype=np.int64) - 1
np.maximum.at(last_before, pix[before], np.nonzero(before)[0])
has = last_before >= 0
level_tau[has] = level[last_before[has]]
# Integral of exp(L(t) - L(tau)): the interval before each pixel's first event, then from each
# event to the next one of the same pixel (or to t1).
nxt = np.r_[t[1:], t1]
last = np.r_[pix[1:] != pix[:-1], True]
nxt[last] = t1
integral = np.full(h * w, t1 - t0)
first_t = np.full(h * w, t1)
first_t[pix[first]] = t[first]
integral = (first_t - t0) * np.exp(-level_tau)
integral += np.bincount(pix, weights=(nxt - t) * np.exp(level - level_tau[pix]), minlength=h * w)
E = np.maximum(integral / (t1 - t0), 1e-3).reshape(h, w)
sharp = (blur / E).astype("<f4")
with open(out_path, "wb") as f:
    f.write(b"Pf\n%d %d\n-1.0\n" % (w, h))
    np.flipud(sharp).tofile(f)
'''


def write_pfm(path, img):
    h, w = img.shape
    with open(path, "wb") as f:
        f.write(b"Pf\n%d %d\n-1.0\n" % (w, h))
        np.flipud(img.astype("<f4")).tofile(f)


def read_pfm(path):
    with open(path, "rb") as f:
        f.readline()
        w, h = map(int, f.readline().split())
        scale = float(f.readline())
        data = np.fromfile(f, dtype="<f4" if scale < 0 else ">f4", count=w * h)
    return np.flipud(data.reshape(h, w))


def timed(cmd, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", required=True, help="the diffevent program")
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    w, h = map(int, a.size.split("x"))
    rng = np.random.default_rng(a.seed)
    with tempfile.TemporaryDirectory() as d:
        ev_path, blur_path = os.path.join(d, "events.npy"), os.path.join(d, "blur.pfm")
        ev = np.zeros(a.events, dtype=[("t", "<i8"), ("x", "<u2"), ("y", "<u2"), ("p", "|i1")])
        ev["t"] = np.sort(rng.integers(0, 20001, a.events))
        ev["x"] = rng.integers(0, w, a.events)
        ev["y"] = rng.integers(0, h, a.events)
        ev["p"] = rng.integers(0, 2, a.events)
        np.save(ev_path, ev)
        write_pfm(blur_path, rng.uniform(0.2, 0.8, (h, w)).astype(np.float32))
        out_cli, out_np = os.path.join(d, "cli.pfm"), os.path.join(d, "np.pfm")
        cli = [a.cli, "edi", "--blur", blur_path, "--events", ev_path, "--exposure", "0:20000",
               "--threshold", "0.2", "--out", out_cli]
        numpy_cmd = [sys.executable, "-c", NUMPY_EDI, ev_path, blur_path, out_np, "0.2"]
        t_cli = timed(cli, a.repeat)
        t_np = timed(numpy_cmd, a.repeat)
        a_cli, a_np = read_pfm(out_cli), read_pfm(out_np)
        diff = float(np.max(np.abs(a_cli - a_np) / np.maximum(np.abs(a_np), 1e-6)))
        print(f"{a.events} events, {w} x {h}: diffevent edi {t_cli:.2f} s, NumPy {t_np:.2f} s, "
              f"{t_np / t_cli:.1f}x; largest relative difference {diff:.2e}")
        return 0 if diff < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
