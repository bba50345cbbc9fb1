#!/usr/bin/python3
"""How good is a diffusion prior as an image denoiser? A direct quality check of x priors that
needs no sampler: each photo (grey, or RGB for RGB priors) (downscaled by area averaging to --width pixels, as the quality
benchmark does) gets Gaussian noise of standard deviation sigma (in linear [0, 1] units); the
prior's one-step clean prediction (Tweedie's formula at the timestep whose noise level matches,
x0 = (x_t - sqrt(1 - abar) eps) / sqrt(abar)) is compared with the photo. A useless prior gains
nothing over the noisy input; the gain grows with the prior's quality, so it tracks training
across training runs better than the loss does (the loss mixes all timesteps).

  python3 lab/priors/denoise_check.py --prior models/x_prior_grey.pt --photos data/photos/heldout
  python3 lab/priors/denoise_check.py --prior a.pt --prior b.pt --sigmas 0.01,0.02,0.05
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

EXTS = (".png", ".jpg", ".jpeg", ".pgm", ".ppm")


def load_prior(path):
    if not os.path.isfile(path):
        raise SystemExit(f"denoise_check: prior '{path}': no such file")
    extra = {"metadata.json": ""}
    try:
        net = torch.jit.load(path, map_location="cpu", _extra_files=extra).eval()
    except Exception as e:  # noqa: BLE001 - any load failure is reported by name
        raise SystemExit(f"denoise_check: prior '{path}' is not a TorchScript module: {e}")
    try:
        meta = json.loads(extra["metadata.json"] or "{}")
    except json.JSONDecodeError:
        raise SystemExit(f"denoise_check: prior '{path}': metadata.json is not JSON")
    return net, meta


def alpha_bar(meta):
    T = int(meta.get("num_timesteps", 1000))
    if meta.get("schedule", "linear") == "cosine":
        f = lambda t: math.cos((t / T + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
        betas = np.array([min(1 - f(i + 1) / f(i), 0.999) for i in range(T)])
    else:
        scale = 1000.0 / T
        betas = np.linspace(scale * 1e-4, scale * 0.02, T)
    return np.cumprod(1.0 - betas)


def load_photo(path, width, channels=1, multiple=4):
    from PIL import Image  # Debian's python3-pil

    im = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0
    lin = np.where(im <= 0.04045, im / 12.92, ((im + 0.055) / 1.055) ** 2.4)  # as train-prior reads PNGs
    if channels == 3:
        t = torch.tensor(lin, dtype=torch.float32).permute(2, 0, 1)[None].contiguous()
    else:
        grey = 0.299 * lin[..., 0] + 0.587 * lin[..., 1] + 0.114 * lin[..., 2]
        t = torch.tensor(grey, dtype=torch.float32)[None, None]
    if width and t.shape[-1] > width:
        h = max(4, round(t.shape[-2] * width / t.shape[-1]))
        t = F.interpolate(t, size=(h, width), mode="area")
    H, W = t.shape[-2] // multiple * multiple, t.shape[-1] // multiple * multiple  # the priors' size multiple
    return t[..., :H, :W]


def psnr(a, b):
    mse = float(torch.mean((a.clamp(0, 1) - b) ** 2))
    return 10 * math.log10(1.0 / max(mse, 1e-20))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prior", action="append", required=True, help="x prior (repeat to compare)")
    ap.add_argument("--photos", default="data/photos/heldout", help="folder of photos")
    ap.add_argument("--width", type=int, default=160, help="downscale to this width (0: full size)")
    ap.add_argument("--count", type=int, default=0, help="use the first N photos (0: all)")
    ap.add_argument("--sigmas", default="0.01,0.02,0.05,0.1", help="noise levels in linear [0, 1] units")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    try:
        sigmas = [float(s) for s in a.sigmas.split(",")]
    except ValueError:
        raise SystemExit(f"denoise_check: --sigmas '{a.sigmas}' is not a comma-separated list of numbers")
    if not sigmas or any(not (0 < s < 1) for s in sigmas):
        raise SystemExit(f"denoise_check: every sigma must be in (0, 1), got '{a.sigmas}'")
    if not os.path.isdir(a.photos):
        raise SystemExit(f"denoise_check: '{a.photos}' is not a folder")
    files = sorted(f for f in os.listdir(a.photos) if f.lower().endswith(EXTS))
    if a.count > 0:
        files = files[: a.count]
    if not files:
        raise SystemExit(f"denoise_check: no photos in '{a.photos}'")
    priors = [(p, *load_prior(p)) for p in a.prior]
    channels = {int(meta.get("channels", 1)) for _, _, meta in priors}
    if len(channels) != 1 or not channels <= {1, 3}:
        raise SystemExit(f"denoise_check: the priors must all be grey or all RGB, got channels {sorted(channels)}")
    channels = channels.pop()
    # Cropped to a multiple of every prior's size multiple, so all see the same pixels.
    multiple = 1
    for _, _, meta in priors:
        multiple = math.lcm(multiple, int(meta.get("size_multiple", 4)))
    photos = [load_photo(os.path.join(a.photos, f), a.width, channels, multiple) for f in files]
    torch.set_grad_enabled(False)

    print(f"Denoising check on {len(photos)} {'RGB' if channels == 3 else 'grey'} photos ({a.photos}, "
          f"{a.width or 'full'} px wide), "
          "PSNR in dB (mean over photos):\n")
    print("| sigma | t | noisy | " + " | ".join(os.path.basename(p) for p, _, _ in priors) + " |")
    print("|---|---|---|" + "---|" * len(priors))
    for sigma in sigmas:
        row, t_used = [], None
        noisy_psnr = []
        for name, net, meta in priors:
            ab = alpha_bar(meta)
            # The timestep whose x0 noise, sqrt((1 - abar) / abar) in [-1, 1] units, is 2 sigma.
            t = int(np.argmin(np.abs(np.sqrt((1 - ab) / ab) - 2 * sigma)))
            t_used = t
            gen = torch.Generator().manual_seed(a.seed)
            scores, noisy_psnr = [], []
            for x in photos:
                z = torch.randn(x.shape, generator=gen)
                x0 = 2 * x - 1
                noisy = x0 + 2 * sigma * z
                xt = math.sqrt(ab[t]) * noisy  # the forward process at t, up to the level mismatch
                eps = net(xt, torch.full((1,), t, dtype=torch.long))
                if eps.shape[1] != x.shape[1]:  # learned sigma: the first half is eps
                    eps = eps[:, : x.shape[1]]
                den = (xt - math.sqrt(1 - ab[t]) * eps) / math.sqrt(ab[t])
                scores.append(psnr((den.clamp(-1, 1) + 1) / 2, x))
                noisy_psnr.append(psnr((noisy + 1) / 2, x))
            row.append(f"{np.mean(scores):.2f}")
        print(f"| {sigma:g} | {t_used} | {np.mean(noisy_psnr):.2f} | " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
