#!/usr/bin/python3
"""Writes tiny TorchScript noise-prediction networks for the tests (Debian's python3-torch).

tests/data/tiny_prior.pt        forward(x [N,1,H,W], t [N] int64) -> eps [N,1,H,W]
tests/data/tiny_prior_sigma.pt  ... -> [N,2,H,W] (eps and the learned-range variance v)
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


def main() -> int:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data")
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    for name, sigma in (("tiny_prior.pt", False), ("tiny_prior_sigma.pt", True)):
        model = torch.jit.script(Tiny(1, sigma).eval())
        meta = {"channels": 1, "schedule": "linear", "num_timesteps": 1000, "learned_sigma": sigma, "size_multiple": 4}
        torch.jit.save(model, os.path.join(out_dir, name), _extra_files={"metadata.json": json.dumps(meta)})
        print("wrote", os.path.join(out_dir, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
