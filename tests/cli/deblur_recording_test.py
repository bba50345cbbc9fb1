#!/usr/bin/env python3
"""deblur-recording end to end: a simulated 10-frame recording written as AEDAT4 and as HDF5,
deblurred (EDI and diffevent) from each; every frame's PSNR against its ground truth, the same
bytes from both formats, and an interrupted run that a rerun completes with the same bytes.
Usage: deblur_recording_test.py DIFFEVENT_CLI WORK_DIR [--no-diffusion]"""
import filecmp
import json
import os
import shutil
import signal
import subprocess
import sys
import time

CLI, WORK = sys.argv[1], sys.argv[2]
DIFFUSION = "--no-diffusion" not in sys.argv[3:]
FRAMES = 10


def run(*args, check=True):
    p = subprocess.run([CLI, *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


def psnr(ref, test):
    return json.loads(run("--json", "eval", "-r", ref, "-t", test).stdout)["psnr_db"]


def outputs(d):
    return sorted(f for f in os.listdir(d) if f.endswith(".png"))


def same_bytes(a, b, what):
    fa, fb = outputs(a), outputs(b)
    if fa != fb or len(fa) < FRAMES:
        sys.exit(f"FAIL: {what}: outputs differ: {fa} vs {fb}")
    _, mismatch, errors = filecmp.cmpfiles(a, b, fa, shallow=False)
    if mismatch or errors:
        sys.exit(f"FAIL: {what}: different bytes in {mismatch + errors}")


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
sim = os.path.join(WORK, "sim")
src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "sample", "sharp.png")
run("simulate", "-i", src, "-o", sim, "--size", "64x48", "--video", str(FRAMES),
    "--frame-interval-us", "30000", "--seed", "11", "--grey", "--motion", "9,-4,0.01,1.01")
meta = json.load(open(os.path.join(sim, "meta.json")))
recordings = [os.path.join(sim, r) for r in meta["recordings"]]
if len(recordings) < 2:
    print("note: HDF5 not compiled in; AEDAT4 only")


def check_psnr(out, method, floor):
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    if not manifest["complete"] or len(manifest["frames"]) != FRAMES:
        sys.exit(f"FAIL: {out}: manifest not complete: {manifest['frames_done']} frames")
    worst, worst_gain, gains = 99.0, 99.0, []
    for f in manifest["frames"]:
        i = f["index"]
        gt = os.path.join(sim, "sharp", f"{i:06d}.png")
        got = psnr(gt, os.path.join(out, f["output"]))
        gain = got - psnr(gt, os.path.join(sim, "blur", f"{i:06d}.png"))
        worst, worst_gain = min(worst, got), min(worst_gain, gain)
        gains.append(gain)
        if f["exposure_us"] != meta["exposures_us"][i]:
            sys.exit(f"FAIL: frame {i}: exposure {f['exposure_us']} != {meta['exposures_us'][i]}")
    mean_gain = sum(gains) / len(gains)
    if worst < floor or worst_gain < 0.5 or mean_gain < 3.0:
        sys.exit(f"FAIL: {method}: the worst frame is {worst:.2f} dB against its ground truth "
                 f"(floor {floor}), {worst_gain:.2f} dB above its blurry frame (floor 0.5), "
                 f"{mean_gain:.2f} dB on average (floor 3)")
    print(f"{method}: every frame >= {worst:.2f} dB and >= {worst_gain:.2f} dB above its blurry "
          f"frame ({mean_gain:.2f} dB on average)")
    return worst


# The threshold: the HDF5 recording states the simulator's (0.2), the AEDAT4 one states none,
# so each of its frames gets an estimate with its standard error; never a silent default.
for rec in recordings:
    out = os.path.join(WORK, "thr_" + os.path.basename(rec).replace(".", "_"))
    p = run("deblur-recording", "-i", rec, "-o", out, "--method", "edi", "--no-video")
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    source = manifest["settings"]["threshold_source"]
    frames = manifest["frames"]
    if rec.endswith(".h5"):
        if source != "file" or any(f["threshold"] != 0.2 for f in frames):
            sys.exit(f"FAIL: {rec}: expected the stated threshold 0.2: {source} {frames}")
    elif (source != "estimated" or "states no contrast threshold" not in p.stderr
          or any(not (0.05 <= f["threshold"] <= 1 and f["threshold_std_error"] >= 0) for f in frames)):
        sys.exit(f"FAIL: {rec}: expected an estimate per frame and a note: {source} {p.stderr} {frames}")

# EDI from both formats at the same threshold: the same bytes, every frame well above the
# blurry input.
edi_outs = []
for rec in recordings:
    out = os.path.join(WORK, "edi_" + os.path.basename(rec).replace(".", "_"))
    run("deblur-recording", "-i", rec, "-o", out, "--method", "edi", "--no-video",
        "--frames-per-exposure", "3", "-c", "0.2")
    check_psnr(out, "edi " + os.path.basename(rec), 30.0)
    edi_outs.append(out)
for other in edi_outs[1:]:
    same_bytes(edi_outs[0], other, "edi aedat4 vs hdf5")

# --sensor-threshold: each frame's estimate of the sensor's own threshold in its record, their
# median in the manifest (the simulator's 0.2; the video's references run on between exposures,
# so the default random phase is the model); the output at the given threshold is unchanged.
out = os.path.join(WORK, "sensor")
p = run("deblur-recording", "-i", recordings[0], "-o", out, "--method", "edi", "--no-video", "-c", "0.2",
        "--frames-per-exposure", "3", "--sensor-threshold")
pooled = json.load(open(os.path.join(out, "manifest.json")))["sensor_threshold"]
frames = json.load(open(os.path.join(out, "manifest.json")))["frames"]
if (pooled["frames"] + pooled["frames_without_estimate"] != FRAMES or pooled["frames"] < FRAMES // 2
        or not 0.16 <= pooled["c"] <= 0.24 or any("sensor_threshold" not in f for f in frames)
        or "sensor threshold: c =" not in p.stdout):
    sys.exit(f"FAIL: --sensor-threshold: expected a pooled estimate near 0.2: {pooled} {p.stdout}")
same_bytes(edi_outs[0], out, "edi with and without --sensor-threshold")

# The before/after video: through ffmpeg when it is on PATH, else a note and no video.
for path_env, expect_video in ([os.environ.get("PATH", ""), True], ["", False]):
    if expect_video and not shutil.which("ffmpeg"):
        continue
    out = os.path.join(WORK, "video" if expect_video else "no_video")
    p = subprocess.run([CLI, "deblur-recording", "-i", recordings[0], "-o", out, "--method", "edi",
                        "-c", "0.2"],
                       capture_output=True, text=True, env=dict(os.environ, PATH=path_env))
    if p.returncode != 0:
        sys.exit(f"FAIL: deblur-recording with video: {p.stderr}")
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    has = os.path.getsize(os.path.join(out, "before_after.mp4")) > 0 if expect_video else \
        os.path.exists(os.path.join(out, "before_after.mp4"))
    if has != expect_video or ("video" in manifest) != expect_video:
        sys.exit(f"FAIL: video expected {expect_video}, got file {has}, manifest {manifest.get('video')}")
    if not expect_video and "ffmpeg is not on PATH" not in p.stderr:
        sys.exit(f"FAIL: no note about ffmpeg: {p.stderr}")
    if [f for f in os.listdir(out) if f.startswith(".")]:
        sys.exit(f"FAIL: temporary video files left in {out}")
    print("video:", "before_after.mp4 made" if expect_video else "a note without ffmpeg")

if DIFFUSION:
    args = ["--preset", "fast", "--no-video", "--seed", "5", "-c", "0.2"]
    full = []
    for rec in recordings:
        out = os.path.join(WORK, "diff_" + os.path.basename(rec).replace(".", "_"))
        run("deblur-recording", "-i", rec, "-o", out, *args)
        check_psnr(out, "diffevent " + os.path.basename(rec), 30.0)
        full.append(out)
    for other in full[1:]:
        same_bytes(full[0], other, "diffevent aedat4 vs hdf5")
    # Interrupted after some frames (one at a time), then completed by a rerun.
    out = os.path.join(WORK, "interrupted")
    cmd = [CLI, "deblur-recording", "-i", recordings[0], "-o", out, "--jobs", "1", *args]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not os.path.exists(os.path.join(out, "000002.json")):
        if p.poll() is not None or time.time() > deadline:
            sys.exit(f"FAIL: the run ended or stalled before frame 2 (rc {p.poll()})")
        time.sleep(0.02)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    if p.returncode == 0:
        sys.exit("FAIL: the interrupted run reported success")
    done = [f for f in os.listdir(out) if f.endswith(".json") and f != "manifest.json"]
    if len(done) >= FRAMES:
        sys.exit("FAIL: the run finished before the interrupt; nothing to resume")
    leftovers = [f for f in os.listdir(out) if not (f.endswith(".png") or f.endswith(".json"))]
    if leftovers:
        sys.exit(f"FAIL: an interrupted run left {leftovers}")
    partial = json.load(open(os.path.join(out, "manifest.json")))
    if partial["complete"] or partial["frames_done"] != len(done):
        sys.exit(f"FAIL: the interrupted manifest says {partial['frames_done']} done, {len(done)} records")
    print(f"interrupted after {len(done)} frames: {err.strip().splitlines()[-1]}")
    # What a run killed mid-write (SIGKILL) would leave: temporaries of an unfinished frame. A
    # complete rerun removes them; other hidden files stay.
    dead = [f".{FRAMES - 1:06d}.png.tmp0123456789abcdef", f".{FRAMES - 1:06d}.json.tmp00000000000000ff"]
    for f in dead + [".keep"]:
        open(os.path.join(out, f), "w").close()
    rerun = run("deblur-recording", "-i", recordings[0], "-o", out, "--jobs", "1", *args)
    if f"{len(done)} done before" not in rerun.stderr:
        sys.exit(f"FAIL: the rerun did not skip the {len(done)} finished frames: {rerun.stderr}")
    hidden = sorted(f for f in os.listdir(out) if f.startswith("."))
    if hidden != [".keep"]:
        sys.exit(f"FAIL: after a complete rerun the hidden files are {hidden}, expected only .keep")
    os.remove(os.path.join(out, ".keep"))
    same_bytes(full[0], out, "interrupted + rerun vs one run")

print("deblur_recording_test: ok")
