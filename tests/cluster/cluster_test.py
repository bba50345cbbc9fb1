#!/usr/bin/env python3
"""diffevent.cluster on a Dask LocalCluster: 2 worker processes on loopback deblur a simulated
10-frame recording while one worker is killed mid-run; every frame must come out exactly once,
with the bytes of the single-process run, and each worker must load the priors once.
Usage: cluster_test.py DIFFEVENT_CLI WORK_DIR [edi|diffevent]
(DIFFEVENT_LIBRARY and PYTHONPATH point at the build's C library and the source package)."""
import filecmp
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

FRAMES = 10

from distributed import Client, LocalCluster

import diffevent.cluster as dc



def main():
    # Worker processes start by importing this file: everything runs from here, not on import.
    CLI, WORK = sys.argv[1], sys.argv[2]
    METHOD = sys.argv[3] if len(sys.argv) > 3 else "diffevent"
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "sample", "sharp.png")
    subprocess.run([CLI, "simulate", "-i", src, "-o", os.path.join(WORK, "sim"), "--size", "96x72", "--video",
                    str(FRAMES), "--frame-interval-us", "30000", "--seed", "4", "--grey", "--motion", "8,-3,0.01,1.01"],
                   check=True, capture_output=True)
    rec = os.path.join(WORK, "sim", "recording.aedat4")
    opts = dict(method=METHOD, preset="fast", seed=3, threads=1, quiet=True)

    single = os.path.join(WORK, "single")
    t = time.monotonic()
    dc.deblur_recordings([rec], single, client=None, **opts)
    print(f"single process: {FRAMES} frames in {time.monotonic() - t:.1f} s")
    # The AEDAT4 recording states no threshold: each frame's is estimated, never a silent default.
    first = json.load(open(os.path.join(single, "recording", "000000.json")))
    if first.get("threshold_source") != "estimated" or not first.get("threshold_std_error", -1) >= 0:
        sys.exit(f"FAIL: expected an estimated threshold with its standard error: {first}")
    # Temporaries that killed writers left (their frame then run again) are removed once the
    # run has finished; other files are left alone.
    frames_single = os.path.join(single, "recording")
    os.remove(os.path.join(frames_single, "000003.json"))
    planted = [".000003.json.tmp00000000000000ff", ".000003.png.tmp0123456789abcdef"]
    for f in planted + ["notes.txt"]:
        open(os.path.join(frames_single, f), "w").close()
    dc.deblur_recordings([rec], single, client=None, **opts)
    left = set(os.listdir(frames_single))
    if left & set(planted) or "notes.txt" not in left or "000003.json" not in left:
        sys.exit(f"FAIL: after a rerun the recording's folder holds {sorted(left)}")
    os.remove(os.path.join(frames_single, "notes.txt"))
    # sensor_threshold: each frame's sensor threshold in its record and their median in the
    # manifest (the simulator's 0.2; the video's references run on between exposures).
    sensed = os.path.join(WORK, "sensed")
    m = dc.deblur_recordings([rec], sensed, client=None, method="edi", threshold=0.2, quiet=True,
                             sensor_threshold=True)["recording"]
    pooled = m["sensor_threshold"]
    if (pooled["frames"] + pooled["frames_without_estimate"] != FRAMES or pooled["frames"] < FRAMES // 2
            or not 0.16 <= pooled["c"] <= 0.24 or any("sensor_threshold" not in f for f in m["frames"])
            or "sensor_threshold" not in m["settings"]):
        sys.exit(f"FAIL: sensor_threshold: expected a pooled estimate near 0.2: {pooled}")
    # threshold_range bounds each frame's search, and the settings name it (a rerun with another
    # interval redoes the frames).
    ranged = os.path.join(WORK, "ranged")
    dc.deblur_recordings([rec], ranged, client=None, method="edi", quiet=True, threshold_range=(0.3, 0.5))
    for i in range(FRAMES):
        r = json.load(open(os.path.join(ranged, "recording", f"{i:06d}.json")))
        if not 0.3 <= r["threshold"] <= 0.5 or r["settings"].get("threshold_range") != [0.3, 0.5]:
            sys.exit(f"FAIL: threshold_range (0.3, 0.5) not kept: {r}")

    out = os.path.join(WORK, "cluster")
    frames_dir = os.path.join(out, "recording")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        result, error = {}, []

        def run():
            try:
                result.update(dc.deblur_recordings([rec], out, client=client, **opts))
            except BaseException as e:  # noqa: B902 -- reported by the main thread
                error.append(e)

        worker = threading.Thread(target=run)
        worker.start()
        deadline = time.monotonic() + 300
        while True:
            done = [f for f in os.listdir(frames_dir)] if os.path.isdir(frames_dir) else []
            done = [f for f in done if f.endswith(".json") and f != "manifest.json"]
            if len(done) >= 2:
                break
            if not worker.is_alive() or time.monotonic() > deadline:
                sys.exit(f"FAIL: the run ended or stalled before two frames ({error})")
            time.sleep(0.01)
        pids = client.run(os.getpid)
        victim = sorted(pids)[0]
        os.kill(pids[victim], signal.SIGKILL)
        print(f"killed worker {victim} (pid {pids[victim]}) after {len(done)} frames")
        worker.join(timeout=300)
        if worker.is_alive() or error:
            sys.exit(f"FAIL: the cluster run did not finish: {error}")
        if len(done) >= FRAMES:
            sys.exit("FAIL: every frame was done before the kill; nothing was lost")
        loads = client.run(lambda dask_worker: dask_worker.plugins[dc.PLUGIN_NAME].deblurrer.prior_loads)
        print(f"prior loads per worker: {loads}")
        if METHOD == "diffevent" and any(v > 2 for v in loads.values()):
            sys.exit(f"FAIL: a worker loaded the priors more than once per role: {loads}")

    manifest = json.load(open(os.path.join(frames_dir, "manifest.json")))
    indices = [f["index"] for f in manifest["frames"]]
    if indices != list(range(FRAMES)) or not manifest["complete"]:
        sys.exit(f"FAIL: frames {indices} (complete: {manifest['complete']}), expected each of 0..{FRAMES - 1} once")
    pngs = sorted(f for f in os.listdir(frames_dir) if f.endswith(".png"))
    if pngs != [f"{i:06d}.png" for i in range(FRAMES)]:
        sys.exit(f"FAIL: outputs {pngs}")
    stray = [f for f in os.listdir(frames_dir) if not f.endswith((".png", ".json"))]
    if stray:
        sys.exit(f"FAIL: stray files {stray}")
    _, mismatch, errors = filecmp.cmpfiles(os.path.join(single, "recording"), frames_dir, pngs, shallow=False)
    if mismatch or errors:
        sys.exit(f"FAIL: bytes differ from the single-process run: {mismatch + errors}")
    # A rerun skips every frame.
    again = dc.plan(dc.expand_inputs([rec]), out, dc._settings(METHOD, "fast", None, 3, 16, "shipped", "shipped"))
    if again[1]:
        sys.exit(f"FAIL: a rerun would redo {len(again[1])} frames")
    print(f"cluster_test ({METHOD}): ok: {FRAMES} frames once each, identical to the single-process run")


if __name__ == "__main__":
    main()
