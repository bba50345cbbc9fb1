#!/usr/bin/python3
"""Exports a freshly initialised prior of the UNet family (unet.py) as TorchScript with the
metadata diffevent reads; `diffevent train-prior --init` trains it.

  python3 tools/priors/export_prior.py --preset s --channels 1 --out x_init.pt [--learn-sigma]
  python3 tools/priors/export_prior.py --list
"""
import argparse
import json
import sys

import torch

import unet


def export(cfg: unet.UNetConfig, out: str, seed: int, **meta) -> int:
    torch.manual_seed(seed)
    net = unet.UNetModel(cfg).eval()
    scripted = torch.jit.script(net)
    params = sum(p.numel() for p in net.parameters())
    md = unet.metadata(cfg, parameters=params, **meta)
    torch.jit.save(scripted, out, _extra_files={"metadata.json": json.dumps(md)})
    return params


def main(argv) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(unet.PRESETS), default="s")
    ap.add_argument("--channels", type=int, choices=(1, 3), default=1, help="1 grey, 3 RGB")
    ap.add_argument("--learn-sigma", action="store_true", help="also output the variance interpolation v")
    ap.add_argument("--schedule", choices=("linear", "cosine"), default="linear")
    ap.add_argument("--steps", type=int, default=1000, help="diffusion steps T")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kind", choices=("x", "r"), default="x", help="x: images, r: residuals (metadata only)")
    ap.add_argument("--out")
    ap.add_argument("--list", action="store_true", help="print the presets and their sizes")
    a = ap.parse_args(argv)
    if a.list:
        for name, cfg in sorted(unet.PRESETS.items(), key=lambda kv: kv[1].num_channels * len(kv[1].resolved_channel_mult())):
            n = sum(p.numel() for p in unet.UNetModel(cfg).parameters())
            print(f"{name:3s} {n / 1e6:6.2f} M parameters  {cfg.to_dict()}")
        return 0
    if not a.out:
        ap.error("--out is required")
    cfg = unet.UNetConfig(**{**unet.PRESETS[a.preset].__dict__, "in_channels": a.channels, "learn_sigma": a.learn_sigma})
    n = export(cfg, a.out, a.seed, schedule=a.schedule, num_timesteps=a.steps, preset=a.preset, kind=a.kind)
    print(f"wrote {a.out}: preset {a.preset}, {a.channels} channel(s), {n / 1e6:.2f} M parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
