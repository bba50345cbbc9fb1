"""Tests of the prior tooling (lab/priors): the guided-diffusion (ADM) converter on randomly
initialised small ADM-configured networks saved as guided-diffusion saves them (a pickled
OrderedDict state dict), and the exported priors' contract. Run by ctest (prior_tools_test)."""
import collections
import contextlib
import io
import json
import os
import sys
import tempfile
import unittest
import zipfile

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "lab", "priors"))
import convert_adm  # noqa: E402
import export_prior  # noqa: E402
import unet  # noqa: E402

# Small networks with the released checkpoints' switches, and the other code paths.
CONFIGS = {
    "uncond256-like": "--attention_resolutions 16,8 --class_cond False --diffusion_steps 1000 --image_size 32 "
                      "--learn_sigma True --noise_schedule linear --num_channels 32 --num_head_channels 16 "
                      "--num_res_blocks 1 --resblock_updown True --use_fp16 True --use_scale_shift_norm True "
                      "--channel_mult 1,2,2",
    "new-attention-order, conv resampling, cosine": "--attention_resolutions 8 --image_size 32 --num_channels 32 "
                      "--num_heads 2 --num_res_blocks 2 --resblock_updown False --use_scale_shift_norm False "
                      "--use_new_attention_order True --noise_schedule cosine --diffusion_steps 4000 --channel_mult 1,2",
    "grey, learned sigma": "--attention_resolutions 16 --image_size 32 --num_channels 32 --num_head_channels 32 "
                      "--num_res_blocks 1 --resblock_updown True --learn_sigma True --in_channels 1 --channel_mult 1,2",
}


def random_adm_checkpoint(flags: str, path: str, seed: int = 0) -> torch.nn.Module:
    """An ADM-configured network with every parameter random (the zero-initialised output
    convolutions too, so they matter), saved like guided-diffusion: torch.save(state_dict)."""
    cfg, _, _ = convert_adm.parse_flags(flags)
    torch.manual_seed(seed)
    net = unet.UNetModel(cfg).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0.0, 0.1)
    state = collections.OrderedDict((k, v.clone()) for k, v in net.state_dict().items())
    torch.save(state, path)
    return net


class ConvertAdmTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def test_converted_network_predicts_the_same_noise(self):
        for name, flags in CONFIGS.items():
            with self.subTest(name):
                ckpt = os.path.join(self.tmp.name, "model.pt")
                out = os.path.join(self.tmp.name, "converted.pt")
                source = random_adm_checkpoint(flags, ckpt)
                convert_adm.convert(ckpt, flags, out)
                files = {"metadata.json": ""}
                converted = torch.jit.load(out, _extra_files=files)
                meta = json.loads(files["metadata.json"])
                cfg, schedule, steps = convert_adm.parse_flags(flags)
                self.assertEqual(meta["schedule"], schedule)
                self.assertEqual(meta["num_timesteps"], steps)
                self.assertEqual(meta["learned_sigma"], cfg.learn_sigma)
                self.assertEqual(meta["channels"], cfg.in_channels)
                torch.manual_seed(1)
                x = torch.randn(2, cfg.in_channels, 32, 64)
                t = torch.tensor([3, 777])
                with torch.no_grad():
                    want = source(x, t)
                    got = converted(x, t)
                self.assertEqual(tuple(got.shape), (2, cfg.in_channels * (2 if cfg.learn_sigma else 1), 32, 64))
                self.assertLessEqual((got - want).abs().max().item(), 1e-5)
                self.assertGreater(want.abs().max().item(), 1e-3)  # the comparison is not vacuous

    def test_mismatched_flags_name_the_offending_key(self):
        ckpt = os.path.join(self.tmp.name, "model.pt")
        random_adm_checkpoint(CONFIGS["uncond256-like"], ckpt)
        wider = CONFIGS["uncond256-like"].replace("--num_channels 32", "--num_channels 64")
        with self.assertRaisesRegex(SystemExit, "time_embed.0.weight' has shape"):
            convert_adm.convert(ckpt, wider, os.path.join(self.tmp.name, "x.pt"))
        fewer = CONFIGS["uncond256-like"].replace("--num_res_blocks 1", "--num_res_blocks 2")
        with self.assertRaisesRegex(SystemExit, "missing keys"):
            convert_adm.convert(ckpt, fewer, os.path.join(self.tmp.name, "x.pt"))
        with self.assertRaisesRegex(SystemExit, "class-conditional"):
            convert_adm.parse_flags("--class_cond True")

    def test_bad_checkpoints_are_named_and_leave_no_output(self):
        flags = CONFIGS["grey, learned sigma"]
        good = os.path.join(self.tmp.name, "good.pt")
        random_adm_checkpoint(flags, good)
        state = torch.load(good)
        garbage = os.path.join(self.tmp.name, "garbage.pt")
        with open(garbage, "wb") as f:
            f.write(b"not a checkpoint at all" * 10)
        a_list = os.path.join(self.tmp.name, "list.pt")
        torch.save([torch.zeros(1)], a_list)
        not_tensors = os.path.join(self.tmp.name, "strings.pt")
        torch.save({**state, "note": "hello"}, not_tensors)
        with_nan = os.path.join(self.tmp.name, "nan.pt")
        key = sorted(k for k in state if k.endswith("weight"))[0]
        state[key] = state[key].clone()
        state[key].view(-1)[3] = float("nan")
        torch.save(state, with_nan)
        out = os.path.join(self.tmp.name, "out.pt")
        cases = [
            (os.path.join(self.tmp.name, "absent.pt"), out, "absent.pt': no such file"),
            (garbage, out, "garbage.pt' is not a PyTorch state dict"),
            (a_list, out, "holds a list, expected a state dict"),
            (not_tensors, out, r"entries \['note'\] are not tensors"),
            (with_nan, out, f"'{key}' in .*nan.pt holds NaN or infinite values"),
            (good, os.path.join(self.tmp.name, "no", "such", "dir", "out.pt"), "cannot write"),
        ]
        for ckpt, target, message in cases:
            with self.subTest(message):
                with self.assertRaisesRegex(SystemExit, message):
                    convert_adm.convert(ckpt, flags, target)
                self.assertFalse(os.path.exists(target))
                self.assertFalse(os.path.exists(target + ".tmp"))
        convert_adm.convert(good, flags, out)  # the same call with a good checkpoint writes it
        self.assertTrue(os.path.isfile(out))
        self.assertFalse(os.path.exists(out + ".tmp"))

    def test_exported_presets_follow_the_prior_contract(self):
        out = os.path.join(self.tmp.name, "xs.pt")
        n = export_prior.export(unet.UNetConfig(**{**unet.PRESETS["xs"].__dict__, "in_channels": 3}), out, seed=0,
                                schedule="linear", num_timesteps=1000)
        self.assertGreater(n, 1_000_000)
        self.assertIn("extra/metadata.json", [os.path.basename(os.path.dirname(p)) + "/" + os.path.basename(p)
                                              for p in zipfile.ZipFile(out).namelist()])
        files = {"metadata.json": ""}
        m = torch.jit.load(out, _extra_files=files)
        meta = json.loads(files["metadata.json"])
        self.assertEqual((meta["channels"], meta["size_multiple"], meta["learned_sigma"]), (3, 4, False))
        x = torch.randn(1, 3, 24, 40)  # any multiple of size_multiple
        self.assertEqual(tuple(m(x, torch.tensor([5])).shape), (1, 3, 24, 40))
        # A target that cannot be written is named, with no traceback and nothing left behind.
        bad = os.path.join(self.tmp.name, "no", "such", "dir", "xs.pt")
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = export_prior.main(["--preset", "xs", "--channels", "1", "--out", bad])
        self.assertEqual(rc, 2)
        self.assertIn(f"export_prior: cannot write {bad}", err.getvalue())
        self.assertFalse(os.path.exists(bad + ".tmp"))

    def test_every_preset_scripts_and_the_gated_block_learns_through_its_gates(self):
        # Each preset exports as TorchScript and keeps the image size; a fresh network predicts
        # exactly zero (zero-initialised outputs). The gated block (NAFNet's) with random
        # weights is not the identity, differs from the ResBlock, and its gradient reaches the
        # input convolution (the gates pass it).
        for name, preset in unet.PRESETS.items():
            if preset.num_channels > 64:
                continue  # the large presets cost minutes to script; same code paths
            with self.subTest(name):
                out = os.path.join(self.tmp.name, f"{name}.pt")
                export_prior.export(unet.UNetConfig(**{**preset.__dict__, "in_channels": 1}), out, seed=0,
                                    schedule="linear", num_timesteps=1000)
                m = torch.jit.load(out)
                mult = preset.unshuffle * 2 ** (len(preset.resolved_channel_mult()) - 1)
                x = torch.randn(2, 1, 3 * mult, 5 * mult)
                y = m(x, torch.tensor([5, 500]))
                self.assertEqual(y.shape, x.shape)
                self.assertEqual(float(y.abs().max()), 0.0)
        cfg = unet.UNetConfig(**{**unet.PRESETS["xs-gated"].__dict__, "in_channels": 1})
        torch.manual_seed(0)
        net = unet.UNetModel(cfg)
        with torch.no_grad():
            for p in net.parameters():
                p.normal_(0, 0.05)
        x = torch.randn(1, 1, 16, 24)
        y = net(x, torch.tensor([10]))
        self.assertGreater(float(y.std()), 1e-4)
        y.square().mean().backward()
        grad = net.input_blocks[0][0].weight.grad
        self.assertIsNotNone(grad)
        self.assertGreater(float(grad.abs().max()), 0.0)
        with self.assertRaisesRegex(ValueError, "block must be"):
            unet.UNetModel(unet.UNetConfig(**{**unet.PRESETS["xs"].__dict__, "block": "nafnet"}))

    def test_grey_prior_expanded_to_rgb_predicts_the_noise_of_the_channels_mean(self):
        # A "trained" grey prior: every parameter random (the zero-initialised output too).
        cfg = unet.UNetConfig(**{**unet.PRESETS["xs"].__dict__, "in_channels": 1})
        grey_path, rgb_path = os.path.join(self.tmp.name, "grey.pt"), os.path.join(self.tmp.name, "rgb.pt")
        torch.manual_seed(3)
        net = unet.UNetModel(cfg).eval()
        with torch.no_grad():
            for p in net.parameters():
                p.normal_(0, 0.05)
        md = unet.metadata(cfg, kind="r", training={"steps": 7})
        torch.jit.save(torch.jit.script(net), grey_path, _extra_files={"metadata.json": json.dumps(md)})
        export_prior.export_from(grey_path, 3, rgb_path)
        files = {"metadata.json": ""}
        rgb = torch.jit.load(rgb_path, _extra_files=files)
        meta = json.loads(files["metadata.json"])
        self.assertEqual((meta["channels"], meta["kind"], meta["initialised_from"]), (3, "r", "grey.pt"))
        self.assertNotIn("training", meta)
        # The RGB network on channels z sees the grey network's input sum(z) / sqrt(3) and writes
        # the grey prediction / sqrt(3) to every channel.
        z, t = torch.randn(2, 3, 32, 48), torch.tensor([5, 700])
        with torch.no_grad():
            want = net(z.sum(1, keepdim=True) / 3 ** 0.5, t) / 3 ** 0.5
            got = rgb(z, t)
        self.assertEqual(tuple(got.shape), (2, 3, 32, 48))
        for c in range(3):
            self.assertLess((got[:, c:c + 1] - want).abs().max().item(), 1e-5)
        # And back to grey: the input reads the channels' sum / sqrt(3), the output their sum / sqrt(3).
        back_path = os.path.join(self.tmp.name, "back.pt")
        export_prior.export_from(rgb_path, 1, back_path)
        u = torch.randn(2, 1, 32, 48)
        with torch.no_grad():
            self.assertLess((torch.jit.load(back_path)(u, t) - net(u, t)).abs().max().item(), 1e-5)
        # --per-channel: the grey network on every channel on its own.
        pc_path = os.path.join(self.tmp.name, "pc.pt")
        export_prior.export_per_channel(grey_path, 3, pc_path)
        files = {"metadata.json": ""}
        pc = torch.jit.load(pc_path, _extra_files=files)
        self.assertEqual(json.loads(files["metadata.json"])["channels"], 3)
        with torch.no_grad():
            got = pc(z, t)
            for c in range(3):
                self.assertLess((got[:, c:c + 1] - net(z[:, c:c + 1], t)).abs().max().item(), 1e-5)
        with self.assertRaisesRegex(ValueError, "must be a grey prior"):
            export_prior.export_per_channel(rgb_path, 3, os.path.join(self.tmp.name, "x.pt"))
        # Not a prior of this family: named.
        other = os.path.join(self.tmp.name, "other.pt")
        torch.jit.save(torch.jit.script(torch.nn.Conv2d(1, 1, 1)), other, _extra_files={"metadata.json": "{}"})
        with self.assertRaisesRegex(ValueError, "not a prior of the UNet family"):
            export_prior.export_from(other, 3, os.path.join(self.tmp.name, "x.pt"))

    def test_windowed_attention_is_attention_within_each_window(self):
        # Given an attention block with 4-token windows and a 7 x 10 token map (2 x 3 windows of
        # ceil(7/2) x ceil(10/3) = 4 x 4 tokens: rows 4 + 3, columns 4 + 4 + 2, the last ones
        # padded and the padding masked)...
        torch.manual_seed(3)
        block = unet.AttentionBlock(32, 2, -1, False, window=4).eval()
        with torch.no_grad():
            for p in block.parameters():
                p.normal_(0.0, 0.3)
        x = torch.randn(2, 32, 7, 10)
        with torch.no_grad():
            out = block(x, torch.zeros(2, 1))
            # ...each window's output is the global block run on that window alone (its tokens
            # only: the GroupNorm statistics are the whole map's, as in the block).
            qkv = block.qkv(block.norm(x.reshape(2, 32, 70))).reshape(2, 96, 7, 10)
            expect = torch.empty(2, 32, 7, 10)
            for r0, r1 in ((0, 4), (4, 7)):
                for c0, c1 in ((0, 4), (4, 8), (8, 10)):
                    w = qkv[:, :, r0:r1, c0:c1].reshape(2, 96, -1)
                    h = block.proj_out(block.attention(w)).reshape(2, 32, r1 - r0, c1 - c0)
                    expect[:, :, r0:r1, c0:c1] = x[:, :, r0:r1, c0:c1] + h
        self.assertLess((out - expect).abs().max().item(), 1e-5)
        # A map no larger than a window is attended as a whole: the global block exactly.
        glob = unet.AttentionBlock(32, 2, -1, False, window=0).eval()
        glob.load_state_dict(block.state_dict())
        small = torch.randn(1, 32, 4, 3)
        with torch.no_grad():
            self.assertTrue(torch.equal(block(small, torch.zeros(1, 1)), glob(small, torch.zeros(1, 1))))

    def test_prior_reexported_with_windows_is_the_same_network_at_its_training_size(self):
        # Given a trained-like xs prior with global attention, re-exported with 64-pixel windows:
        src = os.path.join(self.tmp.name, "global.pt")
        cfg = unet.UNetConfig(**{**unet.PRESETS["xs"].__dict__, "attention_window": 0})
        export_prior.export(cfg, src, seed=4, schedule="linear", num_timesteps=1000, kind="x")
        out = os.path.join(self.tmp.name, "windowed.pt")
        export_prior.export_from(src, 1, out, attention_window=64)
        files_a, files_b = {"metadata.json": ""}, {"metadata.json": ""}
        a = torch.jit.load(src, _extra_files=files_a)
        b = torch.jit.load(out, _extra_files=files_b)
        meta_a, meta_b = json.loads(files_a["metadata.json"]), json.loads(files_b["metadata.json"])
        self.assertEqual((meta_a["attention"], meta_b["attention"]), ("global", "window"))
        self.assertEqual(meta_b["config"]["attention_window"], 64)
        self.assertEqual(meta_b["kind"], "x")
        with torch.no_grad():
            for p in a.parameters():  # non-zero output convolutions, so attention matters
                p.add_(0.05 * torch.randn_like(p))
        b.load_state_dict(a.state_dict())
        t = torch.tensor([30])
        x64, x128 = torch.randn(1, 1, 64, 64), torch.randn(1, 1, 128, 96)
        with torch.no_grad():
            self.assertTrue(torch.equal(a(x64, t), b(x64, t)))  # the same network on a training-size input
            self.assertGreater((a(x128, t) - b(x128, t)).abs().max().item(), 1e-4)  # windows on a larger one
        with self.assertRaisesRegex(ValueError, "--attention-window -1 must be >= 0"):
            export_prior.export_from(src, 1, os.path.join(self.tmp.name, "bad.pt"), attention_window=-1)

    def test_timestep_embedding_is_cos_then_sin(self):
        e = unet.timestep_embedding(torch.tensor([0, 1]), 8)
        self.assertTrue(torch.allclose(e[0], torch.tensor([1.0] * 4 + [0.0] * 4)))
        freqs = torch.exp(-torch.log(torch.tensor(10000.0)) * torch.arange(4) / 4)
        self.assertTrue(torch.allclose(e[1], torch.cat([torch.cos(freqs), torch.sin(freqs)])))


if __name__ == "__main__":
    unittest.main()
