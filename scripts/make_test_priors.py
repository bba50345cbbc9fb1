#!/usr/bin/python3
"""Writes tiny TorchScript noise-prediction networks for the tests (Debian's python3-torch).

tests/data/tiny_prior.pt        forward(x [N,1,H,W], t [N] int64) -> eps [N,1,H,W]
tests/data/tiny_prior_sigma.pt  ... -> [N,2,H,W] (eps and the learned-range variance v)
tests/data/wide_prior.pt        eps from a 31x31 box mean (exposes tile seams)
tests/data/clamp_enhancer.pt    a TorchScript enhancer f(E, y) = max(E, 0.25) + 0.1 mean_c(y)
--bench-unet OUT.pt             a ~1M-parameter RGB UNet for bench/sampler_bench (not committed)
Each archive carries metadata.json. The weights are random but fixed (seed 0): the tests
check the interface, shapes, metadata and the sampler plumbing, not image quality.
"""
import json
import os
import sys

import torch


class Tiny(torch.nn.Module):
    def __init__(self, channels: int, learned_sigma: bool):
        super().__init__()
        out = 2 * channels if learned_sigma else channels
        self.conv1 = torch.nn.Conv2d(channels + 1, 8, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(8, out, 3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        tt = (t.to(x.dtype) / 1000.0).view(-1, 1, 1, 1).expand(x.shape[0], 1, x.shape[2], x.shape[3])
        h = torch.relu(self.conv1(torch.cat([x, tt], dim=1)))
        return torch.tanh(self.conv2(h))


class Wide(torch.nn.Module):
    """eps depends on a 31x31 neighbourhood (box mean): tiles that cut that context disagree at
    their borders, so it exposes seams that blending must hide."""

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        m = torch.nn.functional.avg_pool2d(x, 31, stride=1, padding=15, count_include_pad=False)
        return torch.tanh(2.0 * m) + 0.0 * t.to(x.dtype).view(-1, 1, 1, 1)


class ClampEnhancer(torch.nn.Module):
    """A TorchScript f(E): forward(E [N,1,H,W], y [N,C,H,W]) -> f(E) [N,1,H,W]. Here
    max(E, 0.25) + 0.1 * mean_c(y), simple enough for the tests to check exactly."""

    def forward(self, e: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.clamp(e, min=0.25) + 0.1 * y.mean(dim=1, keepdim=True)


class SmallUNet(torch.nn.Module):
    """A ~1M-parameter UNet (two levels, time embedding added per block) for benchmarks."""

    def __init__(self, channels: int = 3, width: int = 74):
        super().__init__()
        w = width
        self.temb = torch.nn.Sequential(torch.nn.Linear(1, w), torch.nn.SiLU(), torch.nn.Linear(w, w))
        self.inc = torch.nn.Conv2d(channels, w, 3, padding=1)
        self.d1 = torch.nn.Sequential(torch.nn.Conv2d(w, w, 3, padding=1), torch.nn.SiLU(), torch.nn.Conv2d(w, w, 3, padding=1))
        self.down = torch.nn.Conv2d(w, 2 * w, 3, stride=2, padding=1)
        self.mid = torch.nn.Sequential(torch.nn.Conv2d(2 * w, 2 * w, 3, padding=1), torch.nn.SiLU(),
                                       torch.nn.Conv2d(2 * w, 2 * w, 3, padding=1), torch.nn.SiLU(),
                                       torch.nn.Conv2d(2 * w, 2 * w, 3, padding=1))
        self.up = torch.nn.ConvTranspose2d(2 * w, w, 2, stride=2)
        self.u1 = torch.nn.Sequential(torch.nn.Conv2d(2 * w, w, 3, padding=1), torch.nn.SiLU(), torch.nn.Conv2d(w, w, 3, padding=1))
        self.out = torch.nn.Conv2d(w, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        e = self.temb((t.to(x.dtype) / 1000.0).view(-1, 1)).view(x.shape[0], -1, 1, 1)
        h0 = torch.nn.functional.silu(self.inc(x) + e)
        h1 = h0 + self.d1(h0)
        m = self.mid(torch.nn.functional.silu(self.down(h1)))
        u = self.up(m)
        return self.out(torch.nn.functional.silu(self.u1(torch.cat([u, h1], dim=1))))


def write_bench_unet(path: str) -> None:
    torch.manual_seed(0)
    net = SmallUNet().eval()
    params = sum(p.numel() for p in net.parameters())
    meta = {"channels": 3, "schedule": "linear", "num_timesteps": 1000, "learned_sigma": False, "size_multiple": 2}
    torch.jit.save(torch.jit.script(net), path, _extra_files={"metadata.json": json.dumps(meta)})
    print("wrote", path, "with", params, "parameters")


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--bench-unet":
        write_bench_unet(sys.argv[2])
        return 0
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data")
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    for name, sigma in (("tiny_prior.pt", False), ("tiny_prior_sigma.pt", True)):
        model = torch.jit.script(Tiny(1, sigma).eval())
        meta = {"channels": 1, "schedule": "linear", "num_timesteps": 1000, "learned_sigma": sigma, "size_multiple": 4}
        torch.jit.save(model, os.path.join(out_dir, name), _extra_files={"metadata.json": json.dumps(meta)})
        print("wrote", os.path.join(out_dir, name))
    meta = {"channels": 1, "schedule": "linear", "num_timesteps": 1000, "learned_sigma": False, "size_multiple": 1}
    torch.jit.save(torch.jit.script(Wide()), os.path.join(out_dir, "wide_prior.pt"), _extra_files={"metadata.json": json.dumps(meta)})
    print("wrote", os.path.join(out_dir, "wide_prior.pt"))
    torch.jit.save(torch.jit.script(ClampEnhancer()), os.path.join(out_dir, "clamp_enhancer.pt"))
    print("wrote", os.path.join(out_dir, "clamp_enhancer.pt"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
