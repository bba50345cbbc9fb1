#!/usr/bin/python3
"""Exports a freshly initialised prior of the UNet family (unet.py) as TorchScript with the
metadata diffevent reads; `diffevent train-prior --init` trains it.

  python3 lab/priors/export_prior.py --preset s --channels 1 --out x_init.pt [--learn-sigma]
  python3 lab/priors/export_prior.py --from models/x_prior_grey.pt --channels 3 --perturb 0.1 --out x_rgb_init.pt
  python3 lab/priors/export_prior.py --list

--from starts from a trained prior of the family instead of random weights: its architecture
and weights, with the image channels changed if --channels differs. A grey prior expanded to RGB
predicts, for every channel, the noise of the channels' mean: the input convolution reads each
channel with the grey weights / sqrt(3) (so it sees sqrt(3) x the mean, whose noise has unit
variance again) and the output convolution writes the grey prediction / sqrt(3) to each channel
(the best guess of one channel's noise from their mean's). Fine-tuning then learns colour;
--perturb adds noise to those two convolutions so that it can start (an exact copy is a
symmetric point that training leaves slowly: the RGB x prior's loss stayed at 0.76 for 225 steps).
"""
import argparse
import json
import os
import sys

import torch

import unet


def export(cfg: unet.UNetConfig, out: str, seed: int, **meta) -> int:
    torch.manual_seed(seed)
    net = unet.UNetModel(cfg).eval()
    params = sum(p.numel() for p in net.parameters())
    unet.save_prior(net, out, unet.metadata(cfg, parameters=params, **meta))
    return params


def expand_channels(src: dict, cfg: unet.UNetConfig, src_channels: int, perturb: float = 0.0, seed: int = 0) -> dict:
    """`src` (a state dict of the family with `src_channels` image channels) as the weights of
    `cfg`: equal shapes copied, the input and output convolutions mapped between 1 and 3 channels.
    `perturb` > 0 adds Gaussian noise of that many times each mapped weight's std to the mapped
    weights: the exact mapping is a symmetric point (every channel read and written alike) that
    gradient descent leaves only slowly; the noise lets colour into the features from the start."""
    gen = torch.Generator().manual_seed(seed)
    net = unet.UNetModel(cfg)
    dst = net.state_dict()
    c_new = cfg.in_channels
    out = {}
    for k, v in dst.items():
        w = src.get(k)
        if w is None:
            raise ValueError(f"--from: the source prior has no parameter {k}; it is not of this family or preset")
        if w.shape == v.shape:
            out[k] = w.clone()
        elif k == "input_blocks.0.0.weight" and src_channels == 1 and c_new == 3:
            out[k] = w.repeat(1, 3, 1, 1) / 3 ** 0.5
        elif k == "input_blocks.0.0.weight" and src_channels == 3 and c_new == 1:
            out[k] = w.sum(1, keepdim=True) / 3 ** 0.5
        elif k.startswith("out.2.") and src_channels == 1 and c_new == 3 and not cfg.learn_sigma:
            out[k] = w.repeat(3, *([1] * (w.dim() - 1))) / 3 ** 0.5
        elif k.startswith("out.2.") and src_channels == 3 and c_new == 1 and not cfg.learn_sigma:
            out[k] = w.sum(0, keepdim=True) / 3 ** 0.5
        else:
            raise ValueError(f"--from: parameter {k} is {tuple(w.shape)} in the source prior, {tuple(v.shape)} here")
        if perturb > 0 and w.shape != v.shape and out[k].numel() > 1:
            out[k] = out[k] + perturb * out[k].std() * torch.randn(out[k].shape, generator=gen)
    return out


def load_family_prior(path: str, option: str):
    """A trained prior of this family: (TorchScript module, metadata, UNetConfig); anything else
    is a ValueError that names `option` and the file."""
    extra = {"metadata.json": ""}
    scripted = torch.jit.load(path, map_location="cpu", _extra_files=extra).eval()
    meta = json.loads(extra["metadata.json"] or "{}")
    if meta.get("architecture") != "guided-diffusion UNet" or "config" not in meta:
        raise ValueError(f"{option}: {path} is not a prior of the UNet family (its metadata has no UNet config)")
    return scripted, meta, unet.UNetConfig(**meta["config"])


class PerChannel(torch.nn.Module):
    """A grey prior applied to each channel of a C-channel image on its own (the channels
    folded into the batch): an RGB prior with no colour training, whose noise prediction per
    channel is the grey network's."""

    def __init__(self, grey: torch.nn.Module):
        super().__init__()
        self.grey = grey

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        eps = self.grey(x.reshape(n * c, 1, h, w), t.repeat_interleave(c))
        return eps.reshape(n, c, h, w)


def export_per_channel(src_path: str, channels: int, out: str) -> int:
    """Exports the grey prior at `src_path` as a `channels`-channel prior that runs it on every
    channel (PerChannel); metadata kept, `per_channel_of` added."""
    grey, meta, cfg = load_family_prior(src_path, "--per-channel")
    if cfg.in_channels != 1 or cfg.learn_sigma:
        raise ValueError(f"--per-channel: {src_path} must be a grey prior without learned variance")
    net = unet.UNetModel(cfg).eval()
    net.load_state_dict(grey.state_dict())
    wrapped = PerChannel(net).eval()
    params = sum(p.numel() for p in wrapped.parameters())
    md = {**meta, "channels": channels, "per_channel_of": os.path.basename(src_path)}
    unet.save_prior(wrapped, out, md)
    return params


def export_from(src_path: str, channels: int, out: str, kind: str = None, perturb: float = 0.0, seed: int = 0,
                attention_window: int = None) -> int:
    """Exports the prior at `src_path` (TorchScript of this family, with its metadata) with
    `channels` image channels: same architecture and weights, channels mapped, metadata kept
    (training provenance dropped, `initialised_from` added). attention_window (pixels; 0:
    global) replaces the source's: the same weights, attention within windows. Same channels
    and a new window only: the training record is kept (nothing was trained)."""
    scripted, meta, src_cfg = load_family_prior(src_path, "--from")
    window = src_cfg.attention_window if attention_window is None else attention_window
    if window < 0:
        raise ValueError(f"--attention-window {window} must be >= 0")
    cfg = unet.UNetConfig(**{**src_cfg.__dict__, "in_channels": channels, "attention_window": window})
    if channels == src_cfg.in_channels and not perturb:
        net = unet.UNetModel(cfg).eval()
        net.load_state_dict(scripted.state_dict())
        params = sum(p.numel() for p in net.parameters())
        md = {**meta, "config": cfg.to_dict(), "size_multiple": cfg.size_multiple(), "parameters": params,
              "attention": cfg.attention_kind()}
        if kind:
            md["kind"] = kind
        unet.save_prior(net, out, md)
        return params
    net = unet.UNetModel(cfg).eval()
    net.load_state_dict(expand_channels(scripted.state_dict(), cfg, src_cfg.in_channels, perturb, seed))
    params = sum(p.numel() for p in net.parameters())
    keep = {k: v for k, v in meta.items() if k not in ("channels", "config", "training", "parameters", "kind",
                                                      "learned_sigma", "size_multiple", "data_range", "architecture")}
    md = unet.metadata(cfg, parameters=params, **{**keep, "kind": kind or meta.get("kind", "x"),
                                                  "initialised_from": os.path.basename(src_path)})
    unet.save_prior(net, out, md)
    return params


def main(argv) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(unet.PRESETS), default="s")
    ap.add_argument("--channels", type=int, choices=(1, 3), default=1, help="1 grey, 3 RGB")
    ap.add_argument("--learn-sigma", action="store_true", help="also output the variance interpolation v")
    ap.add_argument("--schedule", choices=("linear", "cosine"), default="linear")
    ap.add_argument("--steps", type=int, default=1000, help="diffusion steps T")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kind", choices=("x", "r"), help="x: images, r: residuals (metadata only; default x, or --from's)")
    ap.add_argument("--from", dest="source", metavar="PRIOR", help="start from this trained prior (channels mapped to --channels)")
    ap.add_argument("--per-channel", action="store_true",
                    help="with --from (a grey prior): run it on every channel instead of mapping its convolutions")
    ap.add_argument("--perturb", type=float, default=0.0,
                    help="with --from: noise (relative to each mapped weight's std) on the mapped convolutions")
    ap.add_argument("--attention-window", type=int,
                    help="with --from: attention within windows of this many pixels (0: whole image; default: the source's)")
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
    try:
        if a.source:
            if a.per_channel and a.perturb:
                raise ValueError("--perturb maps convolutions; --per-channel runs the grey prior as it is: choose one")
            if not (0 <= a.perturb < 10):
                raise ValueError(f"--perturb {a.perturb} must be in [0, 10)")
            if a.per_channel:
                n = export_per_channel(a.source, a.channels, a.out)
            else:
                n = export_from(a.source, a.channels, a.out, a.kind, a.perturb, a.seed, a.attention_window)
            print(f"wrote {a.out}: {a.source} with {a.channels} channel(s), {n / 1e6:.2f} M parameters")
            return 0
        cfg = unet.UNetConfig(**{**unet.PRESETS[a.preset].__dict__, "in_channels": a.channels, "learn_sigma": a.learn_sigma})
        n = export(cfg, a.out, a.seed, schedule=a.schedule, num_timesteps=a.steps, preset=a.preset, kind=a.kind or "x")
    except (ValueError, RuntimeError, OSError) as e:
        print(f"export_prior: {e}", file=sys.stderr)
        return 2
    print(f"wrote {a.out}: preset {a.preset}, {a.channels} channel(s), {n / 1e6:.2f} M parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
