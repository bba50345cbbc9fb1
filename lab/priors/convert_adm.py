#!/usr/bin/python3
"""Converts a guided-diffusion (ADM) checkpoint, a pickled state dict such as
256x256_diffusion_uncond.pt, into a TorchScript prior with diffevent's metadata.

The architecture is rebuilt from the model flags (those the checkpoint was trained with, as in
guided-diffusion's README), the state dict is loaded by key names (strictly: a missing or extra
key is an error naming it), and the module is scripted and saved with metadata.json.

  python3 lab/priors/convert_adm.py --checkpoint 256x256_diffusion_uncond.pt \\
      --flags "--attention_resolutions 32,16,8 --class_cond False --diffusion_steps 1000 \\
               --image_size 256 --learn_sigma True --noise_schedule linear --num_channels 256 \\
               --num_head_channels 64 --num_res_blocks 2 --resblock_updown True \\
               --use_fp16 True --use_scale_shift_norm True" \\
      --out adm256_uncond.pt
  python3 lab/priors/convert_adm.py --checkpoint ... --known 256x256_diffusion_uncond --out ...
"""
import argparse
import os
import shlex
import sys

import torch

import unet

# Flags of the released unconditional checkpoints (guided-diffusion README).
KNOWN = {
    "256x256_diffusion_uncond": "--attention_resolutions 32,16,8 --class_cond False --diffusion_steps 1000 "
    "--image_size 256 --learn_sigma True --noise_schedule linear --num_channels 256 --num_head_channels 64 "
    "--num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True",
    "lsun_bedroom": "--attention_resolutions 32,16,8 --class_cond False --diffusion_steps 1000 --dropout 0.1 "
    "--image_size 256 --learn_sigma True --noise_schedule linear --num_channels 256 --num_head_channels 64 "
    "--num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True",
}


def parse_flags(flags: str):
    """guided-diffusion's model and diffusion flags -> (UNetConfig, schedule, steps)."""
    p = argparse.ArgumentParser(prog="flags", add_help=False)
    b = lambda s: {"true": True, "false": False}[s.lower()]  # noqa: E731
    p.add_argument("--image_size", type=int, default=64)
    p.add_argument("--num_channels", type=int, default=128)
    p.add_argument("--num_res_blocks", type=int, default=2)
    p.add_argument("--num_heads", type=int, default=4)
    p.add_argument("--num_heads_upsample", type=int, default=-1)
    p.add_argument("--num_head_channels", type=int, default=-1)
    p.add_argument("--attention_resolutions", default="16,8")
    p.add_argument("--channel_mult", default="")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--class_cond", type=b, default=False)
    p.add_argument("--use_checkpoint", type=b, default=False)
    p.add_argument("--use_scale_shift_norm", type=b, default=True)
    p.add_argument("--resblock_updown", type=b, default=False)
    p.add_argument("--use_fp16", type=b, default=False)
    p.add_argument("--use_new_attention_order", type=b, default=False)
    p.add_argument("--learn_sigma", type=b, default=False)
    p.add_argument("--diffusion_steps", type=int, default=1000)
    p.add_argument("--noise_schedule", default="linear")
    p.add_argument("--in_channels", type=int, default=3)
    a, unknown = p.parse_known_args(shlex.split(flags))
    if a.class_cond:
        raise SystemExit("convert_adm: class-conditional checkpoints are not supported (diffevent priors are unconditional)")
    ignored = [u for u in unknown if u.startswith("--")]
    if ignored:
        print(f"convert_adm: ignoring sampling flags {ignored}", file=sys.stderr)
    mult = tuple(float(m) if "." in m else int(m) for m in a.channel_mult.split(",")) if a.channel_mult else ()
    cfg = unet.UNetConfig(image_size=a.image_size, in_channels=a.in_channels, num_channels=a.num_channels,
                          num_res_blocks=a.num_res_blocks, channel_mult=mult,
                          attention_resolutions=tuple(int(r) for r in a.attention_resolutions.split(",") if r),
                          num_heads=a.num_heads, num_head_channels=a.num_head_channels,
                          num_heads_upsample=a.num_heads_upsample, use_scale_shift_norm=a.use_scale_shift_norm,
                          resblock_updown=a.resblock_updown, use_new_attention_order=a.use_new_attention_order,
                          learn_sigma=a.learn_sigma, dropout=a.dropout)
    return cfg, a.noise_schedule, a.diffusion_steps


def load_state_dict(checkpoint: str) -> dict:
    """Reads a guided-diffusion checkpoint: a pickled dict of tensors (torch.save(state_dict)).
    Read with weights_only, so a checkpoint cannot run code on load; anything else is named."""
    if not os.path.isfile(checkpoint):
        raise SystemExit(f"convert_adm: checkpoint '{checkpoint}': no such file")
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure to read is reported by name
        raise SystemExit(f"convert_adm: checkpoint '{checkpoint}' is not a PyTorch state dict: {e}")
    if not isinstance(state, dict):
        raise SystemExit(f"convert_adm: {checkpoint} holds a {type(state).__name__}, expected a state dict")
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise SystemExit(f"convert_adm: {checkpoint}: entries {bad[:5]} are not tensors (expected a state dict)")
    return state


def convert(checkpoint: str, flags: str, out: str) -> torch.jit.ScriptModule:
    cfg, schedule, steps = parse_flags(flags)
    if schedule not in ("linear", "cosine"):
        raise SystemExit(f"convert_adm: noise schedule '{schedule}' is not supported (linear or cosine)")
    state = load_state_dict(checkpoint)
    net = unet.UNetModel(cfg)
    mine = net.state_dict()
    missing = sorted(set(mine) - set(state))
    extra = sorted(set(state) - set(mine))
    if missing or extra:
        raise SystemExit(f"convert_adm: {checkpoint} does not match the flags: missing keys {missing[:5]}"
                         f"{' ...' if len(missing) > 5 else ''}, unexpected keys {extra[:5]}{' ...' if len(extra) > 5 else ''}")
    for k, v in state.items():
        if tuple(v.shape) != tuple(mine[k].shape):
            raise SystemExit(f"convert_adm: '{k}' has shape {tuple(v.shape)} in the checkpoint, {tuple(mine[k].shape)} from the flags")
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise SystemExit(f"convert_adm: '{k}' in {checkpoint} holds NaN or infinite values")
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    net.eval()
    scripted = torch.jit.script(net)
    md = unet.metadata(cfg, schedule=schedule, num_timesteps=steps, source=checkpoint.split("/")[-1],
                       parameters=sum(p.numel() for p in net.parameters()))
    try:
        unet.save_prior(scripted, out, md)
    except OSError as e:
        raise SystemExit(f"convert_adm: {e}")
    return scripted


def main(argv) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="guided-diffusion state dict (.pt)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--flags", help="the model and diffusion flags the checkpoint was trained with")
    g.add_argument("--known", choices=sorted(KNOWN), help="flags of a released checkpoint")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    convert(a.checkpoint, a.flags or KNOWN[a.known], a.out)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
