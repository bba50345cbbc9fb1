"""The noise-prediction network family of diffevent's priors: a UNet in the style of
guided-diffusion (ADM; Dhariwal & Nichol 2021).

The module tree and parameter names are those of guided-diffusion's `UNetModel`, so an ADM
checkpoint (a pickled state dict) loads into it by key names (convert_adm.py). Everything here
is TorchScript-able: exported priors are `torch.jit.script`ed modules with
forward(x [N,C,H,W], t [N]) -> eps [N,C,H,W] (or [N,2C,H,W] with learned variance), plus a
metadata.json the C++ library reads (DiffusionPrior).

Written from the architecture description in guided-diffusion's paper (Dhariwal & Nichol
2021), not copied from its source.
"""
import json
import math
import os
from dataclasses import dataclass, field, asdict
from typing import List, Optional, Tuple

import torch
from torch import nn
import torch.nn.functional as F


@dataclass
class UNetConfig:
    """guided-diffusion's model flags (create_model), with in_channels added for grey priors."""
    image_size: int = 64
    in_channels: int = 1
    num_channels: int = 64
    num_res_blocks: int = 2
    channel_mult: Tuple[float, ...] = ()          # () = guided-diffusion's default for image_size
    attention_resolutions: Tuple[int, ...] = (16, 8)  # as resolutions, like the "32,16,8" flag
    num_heads: int = 4
    num_head_channels: int = -1
    num_heads_upsample: int = -1
    use_scale_shift_norm: bool = True
    resblock_updown: bool = True
    use_new_attention_order: bool = False
    learn_sigma: bool = False
    dropout: float = 0.0
    conv_resample: bool = True
    # Self-attention within windows of this many input pixels per side (0: over the whole image,
    # guided-diffusion's). With the training size, a prior costs the same per pixel on any image
    # (global attention grows with the square of the pixels) and sees, on every window, the
    # token count it was trained on; on a training-size input both are the same network.
    attention_window: int = 0
    middle_attention: bool = True   # guided-diffusion always has it; False: an attention-free UNet
    # Pixel-unshuffle stem: the network runs on unshuffle x unshuffle blocks folded into channels
    # (FFDNet's sub-images), so its convolutions cost unshuffle^2 less per input pixel.
    unshuffle: int = 1
    # "resblock": guided-diffusion's ResBlock; "gated": NAFNet's gated block (GatedBlock below).
    block: str = "resblock"

    def resolved_channel_mult(self) -> Tuple[float, ...]:
        if self.channel_mult:
            return tuple(self.channel_mult)
        defaults = {512: (0.5, 1, 1, 2, 2, 4, 4), 256: (1, 1, 2, 2, 4, 4), 128: (1, 1, 2, 3, 4),
                    64: (1, 2, 3, 4), 32: (1, 2, 2, 2)}
        if self.image_size not in defaults:
            raise ValueError(f"no default channel_mult for image_size {self.image_size}: give channel_mult")
        return defaults[self.image_size]

    def attention_window_tokens(self, ds: int) -> int:
        """Window side in tokens at downsampling rate ds (0: global)."""
        return max(1, self.attention_window // ds) if self.attention_window > 0 else 0

    def attention_kind(self) -> str:
        """'global' (cost per pixel grows with the image), 'window' or 'none' (it does not)."""
        if not self.attention_resolutions and not self.middle_attention:
            return "none"
        return "window" if self.attention_window > 0 else "global"

    def attention_downsample_rates(self) -> List[int]:
        return [self.image_size // int(r) for r in self.attention_resolutions]

    def size_multiple(self) -> int:
        return self.unshuffle * 2 ** (len(self.resolved_channel_mult()) - 1)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channel_mult"] = list(self.resolved_channel_mult())
        d["attention_resolutions"] = list(self.attention_resolutions)
        return d


# Size presets for diffevent's own priors (grey; RGB adds a few parameters in the first and last
# convolutions). Parameter counts printed by `python3 lab/priors/export_prior.py --list`.
# Attention runs in windows of the training size (64 pixels), so cost per pixel does not grow
# with the image (docs/priors.md, "Architecture").
PRESETS = {
    "xs": UNetConfig(image_size=64, num_channels=32, num_res_blocks=1, channel_mult=(1, 2, 2),
                     attention_resolutions=(16,), num_head_channels=32, attention_window=64),
    "xs-noattn": UNetConfig(image_size=64, num_channels=32, num_res_blocks=1, channel_mult=(1, 2, 2),
                            attention_resolutions=(), num_head_channels=32, middle_attention=False),
    "xs-unshuffle": UNetConfig(image_size=64, num_channels=64, num_res_blocks=1, channel_mult=(1, 1, 2),
                               attention_resolutions=(8,), num_head_channels=32, attention_window=64, unshuffle=2),
    "xs-gated": UNetConfig(image_size=64, num_channels=64, num_res_blocks=1, channel_mult=(1, 2, 2),
                           attention_resolutions=(), num_head_channels=32, middle_attention=False,
                           block="gated"),
    "s": UNetConfig(image_size=64, num_channels=64, num_res_blocks=1, channel_mult=(1, 2, 2, 2),
                    attention_resolutions=(16,), num_head_channels=32, attention_window=64),
    "m": UNetConfig(image_size=64, num_channels=64, num_res_blocks=2, channel_mult=(1, 2, 2, 3),
                    attention_resolutions=(16, 8), num_head_channels=32, attention_window=64),
    "l": UNetConfig(image_size=64, num_channels=96, num_res_blocks=2, channel_mult=(1, 1, 2, 3),
                    attention_resolutions=(16, 8), num_head_channels=32, attention_window=64),
}


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding, [cos | sin] (cos first, as guided-diffusion)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(0, half, dtype=torch.float32, device=t.device) / half)
    args = t.to(torch.float32)[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2 == 1:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class GroupNorm32(nn.GroupNorm):
    """GroupNorm with 32 groups, computed in float32."""

    def __init__(self, channels: int):
        super().__init__(32, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.group_norm(x.float(), self.num_groups, self.weight, self.bias, self.eps).to(x.dtype)


def zero_module(m: nn.Module) -> nn.Module:
    for p in m.parameters():
        nn.init.zeros_(p)
    return m


class EmbConv2d(nn.Conv2d):
    """The stem convolution, taking (x, emb) like the other blocks (parameters as nn.Conv2d)."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight, self.bias)


class PassThrough(nn.Module):
    """Identity with the blocks' (x, emb) signature (no parameters, like guided-diffusion's)."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return x


class Upsample(nn.Module):
    def __init__(self, channels: int, use_conv: bool):
        super().__init__()
        self.use_conv = use_conv
        self.conv = nn.Conv2d(channels, channels, 3, padding=1) if use_conv else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        return self.conv(x)


class Downsample(nn.Module):
    def __init__(self, channels: int, use_conv: bool):
        super().__init__()
        self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1) if use_conv else nn.AvgPool2d(2, 2)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class ResBlock(nn.Module):
    def __init__(self, channels: int, emb_channels: int, dropout: float, out_channels: int,
                 use_scale_shift_norm: bool, up: bool = False, down: bool = False):
        super().__init__()
        self.use_scale_shift_norm = use_scale_shift_norm
        self.updown = up or down
        self.in_layers = nn.Sequential(GroupNorm32(channels), nn.SiLU(), nn.Conv2d(channels, out_channels, 3, padding=1))
        if up:
            self.h_upd, self.x_upd = Upsample(channels, False), Upsample(channels, False)
        elif down:
            self.h_upd, self.x_upd = Downsample(channels, False), Downsample(channels, False)
        else:
            self.h_upd, self.x_upd = PassThrough(), PassThrough()
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, 2 * out_channels if use_scale_shift_norm else out_channels))
        self.out_layers = nn.Sequential(GroupNorm32(out_channels), nn.SiLU(), nn.Dropout(p=dropout),
                                        zero_module(nn.Conv2d(out_channels, out_channels, 3, padding=1)))
        self.skip_connection = nn.Identity() if out_channels == channels else nn.Conv2d(channels, out_channels, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        if self.updown:
            h = self.in_layers[1](self.in_layers[0](x))
            h = self.h_upd(h, emb)
            x = self.x_upd(x, emb)
            h = self.in_layers[2](h)
        else:
            h = self.in_layers(x)
        e = self.emb_layers(emb).to(h.dtype)[:, :, None, None]
        if self.use_scale_shift_norm:
            scale, shift = torch.chunk(e, 2, dim=1)
            h = self.out_layers[0](h) * (1 + scale) + shift
            h = self.out_layers[3](self.out_layers[2](self.out_layers[1](h)))
        else:
            h = self.out_layers(h + e)
        return self.skip_connection(x) + h


class GatedBlock(nn.Module):
    """NAFNet's block (Chen et al., "Simple Baselines for Image Restoration", 2022) conditioned on
    the timestep: a norm whose scale and shift come from the time embedding, a 1x1 convolution to
    2c channels, a 3x3 depthwise one, SimpleGate (the two halves multiplied), a 1x1 back to c;
    then a gated feed-forward (1x1 to 2c, SimpleGate, 1x1). No activation besides the gates, and
    no global channel attention: its pooled statistics would change with the frame size (the
    prior runs on whole frames as well as on training patches). Same interface as ResBlock."""

    def __init__(self, channels: int, emb_channels: int, out_channels: int, up: bool = False, down: bool = False):
        super().__init__()
        self.updown = up or down
        if up:
            self.x_upd: nn.Module = Upsample(channels, False)
        elif down:
            self.x_upd = Downsample(channels, False)
        else:
            self.x_upd = PassThrough()
        self.skip_connection = nn.Identity() if out_channels == channels else nn.Conv2d(channels, out_channels, 1)
        c = out_channels
        self.norm1 = nn.GroupNorm(1, c)
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, 2 * c))
        self.expand = nn.Conv2d(c, 2 * c, 1)
        self.depthwise = nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2 * c)
        self.project = zero_module(nn.Conv2d(c, c, 1))
        self.norm2 = nn.GroupNorm(1, c)
        self.ffn_in = nn.Conv2d(c, 2 * c, 1)
        self.ffn_out = zero_module(nn.Conv2d(c, c, 1))

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        x = self.skip_connection(self.x_upd(x, emb))
        scale, shift = torch.chunk(self.emb_layers(emb).to(x.dtype)[:, :, None, None], 2, dim=1)
        h = self.depthwise(self.expand(self.norm1(x) * (1 + scale) + shift))
        a, b = torch.chunk(h, 2, dim=1)
        x = x + self.project(a * b)
        a, b = torch.chunk(self.ffn_in(self.norm2(x)), 2, dim=1)
        return x + self.ffn_out(a * b)


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, key_bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Scaled dot-product attention over [B*heads, ch, length] (q and k each scaled by
    ch^-1/4, softmax in float32), as guided-diffusion computes it. key_bias [B*heads, length]
    is added to the logits of each key (-inf: a padding token no query sees)."""
    scale = 1.0 / math.sqrt(math.sqrt(q.shape[1]))
    w = torch.einsum("bct,bcs->bts", q * scale, k * scale)
    if key_bias is not None:
        w = w + key_bias[:, None, :].to(w.dtype)
    w = torch.softmax(w.float(), dim=-1).to(w.dtype)
    return torch.einsum("bts,bcs->bct", w, v)


class QKVAttention(nn.Module):
    """Multi-head attention over a [B, 3C, L] qkv tensor. Legacy order (guided-diffusion's
    default): heads split before q/k/v; new order (use_new_attention_order): q, k, v first."""

    def __init__(self, n_heads: int, new_order: bool):
        super().__init__()
        self.n_heads = n_heads
        self.new_order = new_order

    def forward(self, qkv: torch.Tensor, key_bias: Optional[torch.Tensor] = None) -> torch.Tensor:
        bs, width, length = qkv.shape
        ch = width // (3 * self.n_heads)
        if self.new_order:
            q, k, v = (u.reshape(bs * self.n_heads, ch, length) for u in qkv.chunk(3, dim=1))
        else:
            q, k, v = qkv.reshape(bs * self.n_heads, ch * 3, length).split(ch, dim=1)
        bias = key_bias.repeat_interleave(self.n_heads, dim=0) if key_bias is not None else None
        return attend(q, k, v, bias).reshape(bs, -1, length)


class AttentionBlock(nn.Module):
    """Self-attention over the tokens of a feature map; with window > 0 (tokens per side), within
    non-overlapping windows: ceil(h / window) x ceil(w / window) of them, each of
    ceil(h / rows) x ceil(w / columns) tokens (at most window x window), the last row and column
    of windows padded and the padding masked, so the cost per token is bounded on any image."""

    def __init__(self, channels: int, num_heads: int, num_head_channels: int, new_order: bool, window: int = 0):
        super().__init__()
        self.window = window
        if num_head_channels != -1:
            if channels % num_head_channels:
                raise ValueError(f"{channels} channels are not a multiple of num_head_channels {num_head_channels}")
            num_heads = channels // num_head_channels
        self.norm = GroupNorm32(channels)
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.attention = QKVAttention(num_heads, new_order)
        self.proj_out = zero_module(nn.Conv1d(channels, channels, 1))

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        b, c, hh, ww = x.shape
        x = x.reshape(b, c, hh * ww)
        qkv = self.qkv(self.norm(x))
        if self.window <= 0 or (hh <= self.window and ww <= self.window):
            h = self.attention(qkv)
        else:
            h = self.windowed(qkv, b, hh, ww)
        return (x + self.proj_out(h)).reshape(b, c, hh, ww)

    def windowed(self, qkv: torch.Tensor, b: int, hh: int, ww: int) -> torch.Tensor:
        nh, nw = (hh + self.window - 1) // self.window, (ww + self.window - 1) // self.window
        sh, sw = (hh + nh - 1) // nh, (ww + nw - 1) // nw  # window size: equal parts, at most `window`
        ph, pw = nh * sh - hh, nw * sw - ww
        c3 = qkv.shape[1]
        grid = F.pad(qkv.reshape(b, c3, hh, ww), [0, pw, 0, ph])
        win = grid.reshape(b, c3, nh, sh, nw, sw).permute(0, 2, 4, 1, 3, 5).reshape(b * nh * nw, c3, sh * sw)
        bias: Optional[torch.Tensor] = None
        if ph > 0 or pw > 0:
            valid = F.pad(torch.ones(1, 1, hh, ww, dtype=qkv.dtype, device=qkv.device), [0, pw, 0, ph])
            valid = valid.reshape(nh, sh, nw, sw).permute(0, 2, 1, 3).reshape(nh * nw, sh * sw)
            bias = torch.where(valid > 0, torch.zeros_like(valid), torch.full_like(valid, -1e30)).repeat(b, 1)
        h = self.attention(win, bias)  # [b*nh*nw, c, sh*sw]
        c = h.shape[1]
        h = h.reshape(b, nh, nw, c, sh, sw).permute(0, 3, 1, 4, 2, 5).reshape(b, c, nh * sh, nw * sw)
        return h[:, :, :hh, :ww].reshape(b, c, hh * ww)


class TimestepEmbedSequential(nn.Sequential):
    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        for layer in self:
            x = layer(x, emb)
        return x


class UNetModel(nn.Module):
    """forward(x [N,C,H,W] in [-1,1], t [N]) -> eps [N,C,H,W] (or eps and v, [N,2C,H,W])."""

    def __init__(self, cfg: UNetConfig):
        super().__init__()
        mc = cfg.num_channels
        mult = cfg.resolved_channel_mult()
        attn = cfg.attention_downsample_rates()
        heads_up = cfg.num_heads if cfg.num_heads_upsample == -1 else cfg.num_heads_upsample
        self.model_channels = mc
        emb = 4 * mc
        self.time_embed = nn.Sequential(nn.Linear(mc, emb), nn.SiLU(), nn.Linear(emb, emb))

        if cfg.block not in ("resblock", "gated"):
            raise ValueError(f"block must be 'resblock' or 'gated', not {cfg.block!r}")

        def res(ci: int, co: int, up: bool = False, down: bool = False) -> nn.Module:
            if cfg.block == "gated":
                return GatedBlock(ci, emb, co, up=up, down=down)
            return ResBlock(ci, emb, cfg.dropout, co, cfg.use_scale_shift_norm, up=up, down=down)

        def attention(c: int, heads: int, ds: int) -> AttentionBlock:
            return AttentionBlock(c, heads, cfg.num_head_channels, cfg.use_new_attention_order,
                                  cfg.attention_window_tokens(ds))

        self.unshuffle = cfg.unshuffle
        cin = cfg.in_channels * cfg.unshuffle ** 2
        ch = input_ch = int(mult[0] * mc)
        self.input_blocks = nn.ModuleList([TimestepEmbedSequential(EmbConv2d(cin, ch, 3, padding=1))])
        chans = [ch]
        ds = 1
        for level, m in enumerate(mult):
            for _ in range(cfg.num_res_blocks):
                layers: List[nn.Module] = [res(ch, int(m * mc))]
                ch = int(m * mc)
                if ds in attn:
                    layers.append(attention(ch, cfg.num_heads, ds))
                self.input_blocks.append(TimestepEmbedSequential(*layers))
                chans.append(ch)
            if level != len(mult) - 1:
                self.input_blocks.append(TimestepEmbedSequential(
                    res(ch, ch, down=True) if cfg.resblock_updown else Downsample(ch, cfg.conv_resample)))
                chans.append(ch)
                ds *= 2
        middle: List[nn.Module] = [res(ch, ch)]
        if cfg.middle_attention:
            middle.append(attention(ch, cfg.num_heads, ds))
        middle.append(res(ch, ch))
        self.middle_block = TimestepEmbedSequential(*middle)
        self.output_blocks = nn.ModuleList([])
        for level, m in list(enumerate(mult))[::-1]:
            for i in range(cfg.num_res_blocks + 1):
                ich = chans.pop()
                layers = [res(ch + ich, int(mc * m))]
                ch = int(mc * m)
                if ds in attn:
                    layers.append(attention(ch, heads_up, ds))
                if level and i == cfg.num_res_blocks:
                    layers.append(res(ch, ch, up=True) if cfg.resblock_updown else Upsample(ch, cfg.conv_resample))
                    ds //= 2
                self.output_blocks.append(TimestepEmbedSequential(*layers))
        out_ch = cfg.in_channels * (2 if cfg.learn_sigma else 1) * cfg.unshuffle ** 2
        self.out = nn.Sequential(GroupNorm32(ch), nn.SiLU(), zero_module(nn.Conv2d(input_ch, out_ch, 3, padding=1)))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        emb = self.time_embed(timestep_embedding(t, self.model_channels))
        hs: List[torch.Tensor] = []
        h = F.pixel_unshuffle(x, self.unshuffle) if self.unshuffle > 1 else x
        for block in self.input_blocks:
            h = block(h, emb)
            hs.append(h)
        h = self.middle_block(h, emb)
        for block in self.output_blocks:
            h = block(torch.cat([h, hs.pop()], dim=1), emb)
        h = self.out(h)
        return F.pixel_shuffle(h, self.unshuffle) if self.unshuffle > 1 else h


def metadata(cfg: UNetConfig, schedule: str = "linear", num_timesteps: int = 1000, **extra) -> dict:
    """The metadata.json diffevent reads, plus the architecture for provenance."""
    m = {"channels": cfg.in_channels, "schedule": schedule, "num_timesteps": num_timesteps,
         "learned_sigma": cfg.learn_sigma, "size_multiple": cfg.size_multiple(), "data_range": [-1.0, 1.0],
         "attention": cfg.attention_kind(),
         "architecture": "guided-diffusion UNet", "config": cfg.to_dict()}
    m.update(extra)
    return m


def save_prior(module: torch.nn.Module, out: str, md: dict) -> None:
    """Scripts `module` (unless it is scripted already) and saves it with `md` as metadata.json:
    written beside `out` and renamed, so a failed export leaves no half-written prior. A target
    that cannot be written is an OSError naming it."""
    scripted = module if isinstance(module, torch.jit.ScriptModule) else torch.jit.script(module)
    tmp = out + ".tmp"
    try:
        torch.jit.save(scripted, tmp, _extra_files={"metadata.json": json.dumps(md)})
        os.replace(tmp, out)
    except (OSError, RuntimeError) as e:  # torch reports a missing folder as a RuntimeError
        raise OSError(f"cannot write {out}: {e}") from e
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
