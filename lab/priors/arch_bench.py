#!/usr/bin/python3
"""Cost per pixel of the prior architectures (presets of unet.py): one forward of one image at
each size, TorchScript frozen and optimised for inference as the library runs it, on the
threads given; median of repeats, in microseconds per pixel.

  python3 lab/priors/arch_bench.py --threads 1 --sizes 128x128,256x256,348x260
"""
import argparse
import statistics
import sys
import time

import torch

import unet


def parse_sizes(text):
    out = []
    for item in text.split(","):
        w, h = item.lower().split("x")
        out.append((int(w), int(h)))
    return out


def cost_us_per_px(cfg, w, h, repeats, batch=1):
    net = unet.UNetModel(cfg).eval()
    m = cfg.size_multiple()
    w, h = (w + m - 1) // m * m, (h + m - 1) // m * m
    frozen = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.script(net)))
    x = torch.randn(batch, cfg.in_channels, h, w)
    t = torch.full((batch,), 30, dtype=torch.long)
    times = []
    with torch.inference_mode():
        frozen(x, t)  # warm-up (and the profiling run of the executor)
        frozen(x, t)
        for _ in range(repeats):
            t0 = time.perf_counter()
            frozen(x, t)
            times.append(time.perf_counter() - t0)
    return statistics.median(times) / (batch * w * h) * 1e6


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="xs-global,xs,xs-noattn,xs-unshuffle")
    ap.add_argument("--sizes", default="128x128,256x256,348x260")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    sizes = parse_sizes(a.sizes)
    print("| preset | parameters | " + " | ".join(f"{w}x{h} us/px" for w, h in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for name in a.presets.split(","):
        if name == "xs-global":  # the xs network with attention over the whole image
            cfg = unet.UNetConfig(**{**unet.PRESETS["xs"].__dict__, "attention_window": 0})
        else:
            cfg = unet.PRESETS[name]
        n = sum(p.numel() for p in unet.UNetModel(cfg).parameters())
        cells = [f"{cost_us_per_px(cfg, w, h, a.repeats):.1f}" for w, h in sizes]
        print(f"| {name} | {n / 1e6:.2f} M | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
