"""Deblur the frames of many recordings on a Dask distributed cluster (or in this process).

    python3 -m diffevent.cluster --scheduler tcp://HOST:8786 --input 'runs/*.aedat4' --out-dir out
    python3 -m diffevent.cluster --local 4 --input recordings.txt --out-dir out     # one machine

Each frame is one task. Workers load the priors once (a worker plugin) and keep recordings
open; each writes its frame's PNG and record (NNNNNN.json, last) atomically, so a frame is
either complete or absent. Tasks of a lost worker are run again elsewhere by the scheduler, and
the temporary files a killed worker leaves are removed when every frame has finished; frames
already complete are skipped when the same command runs again. The outputs are those
of `diffevent deblur-recording`: OUT/<recording>/NNNNNN.png, NNNNNN.json and manifest.json.
See docs/cluster.md.
"""
import argparse
import glob
import json
import os
import re
import secrets
import sys
import time

from . import (DiffeventError, Prior, Recording, deblur, deblur_defaults, edi_deblur, estimate_sensor_threshold,
               estimate_threshold, stated_threshold)

__all__ = ["expand_inputs", "plan", "deblur_recordings", "main"]

PLUGIN_NAME = "diffevent"


def expand_inputs(spec):
    """Recordings from a list of paths, a glob ('runs/*.aedat4'), a folder recording, or a text
    file listing one path (or glob) per line ('#' comments)."""
    if isinstance(spec, (list, tuple)):
        out = []
        for s in spec:
            out.extend(expand_inputs(s))
        return out
    spec = os.fspath(spec)
    if os.path.isfile(spec) and spec.endswith((".txt", ".lst", ".list")):
        base = os.path.dirname(os.path.abspath(spec))
        out = []
        with open(spec) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    out.extend(expand_inputs(line if os.path.isabs(line) else os.path.join(base, line)))
        return out
    if os.path.exists(spec):
        return [os.path.abspath(spec)]
    found = sorted(os.path.abspath(p) for p in glob.glob(spec))
    if not found:
        raise FileNotFoundError(f"diffevent.cluster: no recording matches '{spec}'")
    return found


def _threshold_range(value):
    """[c_min, c_max] from a (c_min, c_max) pair or a "MIN:MAX" string; ValueError naming it
    unless 0 < MIN < MAX <= 20 (the library's largest threshold)."""
    try:
        lo, hi = (float(v) for v in (value.split(":") if isinstance(value, str) else value))
    except (TypeError, ValueError):
        lo = hi = float("nan")
    if not 0 < lo < hi <= 20:
        raise ValueError(f"threshold range {value!r}: expected MIN:MAX with 0 < MIN < MAX <= 20")
    return [lo, hi]


def _settings(method, preset, threshold, seed, bit_depth, x_prior, r_prior, threshold_range=None,
              sensor_threshold=None):
    if method not in ("edi", "diffevent"):
        raise ValueError(f"method '{method}': expected 'edi' or 'diffevent'")
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth {bit_depth}: expected 8 or 16")
    # Without a threshold: the recording's statement, else each frame's estimate (as the CLI).
    s = {"method": method, "threshold": threshold if threshold is not None else "stated-or-estimated",
         "frames_per_exposure": 0, "bit_depth": bit_depth}
    if threshold is None and threshold_range is not None:
        s["threshold_range"] = _threshold_range(threshold_range)
    if method == "diffevent":
        s.update({"preset": preset or "default", "seed": seed, "x_prior": x_prior, "r_prior": r_prior})
    if sensor_threshold is not None:  # only when asked, so that records made without it stay valid
        s["sensor_threshold"] = {"reference_at_start": bool(sensor_threshold.get("reference_at_start", False))}
    return s


def _sensor_threshold(blurry, events, reference_at_start):
    """A frame's sensor threshold as its record holds it (edi --sensor-threshold's fields), or
    {"error": why} when the frame has too few moving edges."""
    try:
        e = estimate_sensor_threshold(blurry, events, reference_at_start=reference_at_start)
    except DiffeventError as err:
        if "sensor threshold: only" not in str(err):
            raise
        return {"error": str(err)}
    return {**e, "reference_at_start": reference_at_start}


def pooled_sensor_threshold(records):
    """The recording's sensor threshold: the median of its frames' estimates (a sensor setting
    holds over a recording), their spread (1.4826 median absolute deviation), how many frames
    had none and the medians of their per-polarity estimates; as deblur-recording's manifest
    states it."""
    cs = [r["sensor_threshold"]["c"] for r in records if "c" in r.get("sensor_threshold", {})]
    out = {"frames": len(cs), "frames_without_estimate": len(records) - len(cs)}
    if cs:
        def median(v):
            v = sorted(v)
            h = len(v) // 2
            return v[h] if len(v) % 2 else 0.5 * (v[h - 1] + v[h])
        m = median(cs)
        out.update(c=m, spread=1.4826 * median([abs(c - m) for c in cs]))
        for key in ("c_pos", "c_neg"):  # per polarity, over the frames with one
            v = [r["sensor_threshold"][key] for r in records if r.get("sensor_threshold", {}).get(key, 0) > 0]
            out[key] = median(v) if v else 0.0
    return out


def _record_complete(path, settings):
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("settings") != settings:
        return None
    out = os.path.join(os.path.dirname(path), record.get("output", ""))
    if not record.get("output") or not os.path.isfile(out) or os.path.getsize(out) == 0:
        return None
    return record


def plan(inputs, out_dir, settings):
    """The recordings (name, path, frames) and the frames still to do: a list of task dicts
    (recording path, frame index, output stem) and a dict of finished records per recording."""
    recordings, tasks, done = [], [], {}
    names = set()
    for path in inputs:
        rec = Recording.open(path)
        n = len(rec)
        rec.close()
        stem = os.path.basename(os.path.normpath(path))
        name = stem.rsplit(".", 1)[0] if os.path.isfile(path) else stem
        base, k = name, 2
        while name in names:  # two recordings of one name: name, name_2, ...
            name, k = f"{base}_{k}", k + 1
        names.add(name)
        recordings.append({"name": name, "path": path, "frames": n})
        done[name] = {}
        os.makedirs(os.path.join(out_dir, name), exist_ok=True)
        for i in range(n):
            stem_path = os.path.join(out_dir, name, f"{i:06d}")
            record = _record_complete(stem_path + ".json", settings)
            if record is not None:
                done[name][i] = record
            else:
                tasks.append({"recording": name, "path": path, "index": i, "stem": stem_path})
    return recordings, tasks, done


# What a writer leaves when it is killed mid-write: NAME is written through a hidden ".NAME.tmp"
# plus 16 hex digits beside it (the library's images, and the records below, alike).
_TEMPORARY = re.compile(r"^\.(\d{6}\.(png|json)|manifest\.json)\.tmp[0-9a-f]{16}$")


def _remove_temporaries(folder):
    """Removes the temporaries of frames' writers that died (a lost worker's frame was run
    again elsewhere). Called when every frame of the run has finished: no writer is left."""
    for f in os.listdir(folder):
        if _TEMPORARY.match(f):
            try:
                os.remove(os.path.join(folder, f))
            except FileNotFoundError:
                pass


def _write_json_atomically(path, obj):
    """Writes through a temporary beside `path` named as the library names its own (see
    _TEMPORARY), unique to this attempt, then renames it into place."""
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.tmp{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise


class FrameDeblurrer:
    """What a worker holds: the priors (loaded once, at setup) and open recordings."""

    def __init__(self, settings, threads=0, device=None):
        self.settings = settings
        self.threads = threads
        self.device = device
        self.priors = {}
        self.prior_loads = 0
        self.recordings = {}

    def _prior(self, role, channels):
        key = (role, channels)
        if key not in self.priors:
            which = self.settings["x_prior" if role == "x" else "r_prior"]
            if which == "shipped":
                self.priors[key] = Prior.shipped(role, channels, threads=self.threads, device=self.device)
            elif which in ("analytic", "none"):
                self.priors[key] = None
            else:
                self.priors[key] = Prior.load(which, threads=self.threads, device=self.device)
            self.prior_loads += self.priors[key] is not None
        return self.priors[key]

    def _recording(self, path):
        rec = self.recordings.get(path)
        if rec is None:
            if len(self.recordings) >= 8:
                self.recordings.pop(next(iter(self.recordings))).close()
            rec = self.recordings[path] = Recording.open(path)
        return rec

    def run(self, task):
        s = self.settings
        t_start = time.monotonic()
        rec = self._recording(task["path"])
        i = task["index"]
        t0, t1, name = rec.frame(i)
        blurry, events = rec.image(i), rec.events(i)
        extra = {}
        threshold = None if s["threshold"] == "stated-or-estimated" else s["threshold"]
        if threshold is None:
            threshold = stated_threshold(events)
            extra["threshold_source"] = "file" if threshold is not None else "estimated"
        if threshold is None:
            est = estimate_threshold(blurry, events, interval=s.get("threshold_range"))
            threshold = est["c"]
            extra.update(threshold_std_error=est["std_error"], threshold_at_bound=est["at_bound"])
        if "sensor_threshold" in s:
            extra["sensor_threshold"] = _sensor_threshold(blurry, events, s["sensor_threshold"]["reference_at_start"])
        c = threshold if isinstance(threshold, (int, float)) else threshold[0]
        if s["method"] == "edi":
            sharp = edi_deblur(blurry, events, threshold=threshold)
        else:
            channels = blurry.shape[0]
            preset = None if s["preset"] == "default" else s["preset"]
            r_runs = deblur_defaults(preset)["residual_prior"]
            xp = self._prior("x", channels)
            rp = self._prior("r", channels) if r_runs and s["r_prior"] != "none" else None
            sharp, _, _ = deblur(blurry, events, seed=s["seed"], threshold=threshold, preset=preset,
                                 x_prior=xp if xp is not None else "analytic", r_prior=rp)
        stem = task["stem"]
        sharp.write(stem + ".png", bit_depth=s["bit_depth"])  # atomic (temporary file, rename)
        record = {"index": i, "name": name, "exposure_us": [t0, t1], "events": len(events),
                  "threshold": c, "output": os.path.basename(stem) + ".png", "settings": s,
                  "seconds": time.monotonic() - t_start, **extra}
        _write_json_atomically(stem + ".json", record)  # last: the frame is complete
        return {"recording": task["recording"], "index": i, "record": record}

    def close(self):
        for p in self.priors.values():
            if p is not None:
                p.close()
        for r in self.recordings.values():
            r.close()
        self.priors, self.recordings = {}, {}


def _make_plugin(settings, threads, device):
    from distributed.diagnostics.plugin import WorkerPlugin

    class DeblurPlugin(WorkerPlugin):
        name = PLUGIN_NAME

        def __init__(self):
            self.deblurrer = None

        def setup(self, worker):
            self.deblurrer = FrameDeblurrer(settings, threads, device)

        def teardown(self, worker):
            if self.deblurrer is not None:
                self.deblurrer.close()

    return DeblurPlugin()


def _run_task(task):
    """The task a worker runs: its plugin's deblurrer does the frame."""
    from distributed import get_worker
    return get_worker().plugins[PLUGIN_NAME].deblurrer.run(task)


class _Progress:
    def __init__(self, total, done_before, quiet):
        self.total, self.done, self.quiet = total, done_before, quiet
        self.start, self.started = time.monotonic(), done_before
        self.last = -1e9

    def step(self):
        self.done += 1
        now = time.monotonic()
        if self.quiet or (now - self.last < 1.0 and self.done < self.total):
            return
        self.last = now
        rate = (self.done - self.started) / max(now - self.start, 1e-9)
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        print(f"diffevent.cluster: frame {self.done}/{self.total}  {rate:.2f} frame/s  {left:.0f} s left",
              file=sys.stderr, flush=True)


def deblur_recordings(inputs, out_dir, client=None, method="diffevent", preset=None, threshold=None, seed=0,
                      bit_depth=16, x_prior="shipped", r_prior="shipped", threads=0, device=None, retries=0,
                      quiet=False, threshold_range=None, sensor_threshold=False, reference_at_start=False):
    """Deblurs every frame of every recording in `inputs` (see expand_inputs) into out_dir.
    client: a distributed.Client (frames run on its workers, priors loaded once per worker), or
    None (frames run here, one after another). threshold_range: (c_min, c_max) of the threshold
    search for frames whose threshold is estimated (default: the library's, 0.05 to 4).
    sensor_threshold: also estimate each frame's sensor threshold (estimate_sensor_threshold;
    reference_at_start for simulated data) into its record, and their median into the manifest.
    Returns {recording name: manifest dict}. A rerun skips frames already complete with the
    same settings."""
    inputs = expand_inputs(inputs)
    settings = _settings(method, preset, threshold, seed, bit_depth, x_prior, r_prior, threshold_range,
                         {"reference_at_start": reference_at_start} if sensor_threshold else None)
    os.makedirs(out_dir, exist_ok=True)
    recordings, tasks, done = plan(inputs, out_dir, settings)
    total = sum(r["frames"] for r in recordings)
    progress = _Progress(total, total - len(tasks), quiet)
    if not quiet:
        print(f"diffevent.cluster: {len(recordings)} recordings, {total} frames, {total - len(tasks)} done before, "
              f"{len(tasks)} to do on {'the cluster' if client is not None else 'this process'}",
              file=sys.stderr, flush=True)
    if client is None:
        local = FrameDeblurrer(settings, threads, device)
        try:
            for task in tasks:
                r = local.run(task)
                done[r["recording"]][r["index"]] = r["record"]
                progress.step()
        finally:
            local.close()
    elif tasks:
        from distributed import as_completed
        client.register_worker_plugin(_make_plugin(settings, threads, device), name=PLUGIN_NAME)
        keys = [f"diffevent-frame-{t['recording']}-{t['index']}-{os.getpid()}-{time.time_ns()}" for t in tasks]
        futures = client.map(_run_task, tasks, key=keys, retries=retries, pure=False)
        try:
            for fut in as_completed(futures):
                r = fut.result()
                done[r["recording"]][r["index"]] = r["record"]
                progress.step()
        except BaseException:
            client.cancel(futures)
            raise
    manifests = {}
    for rec in recordings:
        _remove_temporaries(os.path.join(out_dir, rec["name"]))
        frames = [done[rec["name"]][i] for i in sorted(done[rec["name"]])]
        manifest = {"input": rec["path"], "frames_total": rec["frames"], "frames_done": len(frames),
                    "complete": len(frames) == rec["frames"], "settings": settings, "frames": frames}
        if sensor_threshold:
            manifest["sensor_threshold"] = pooled_sensor_threshold(frames)
        _write_json_atomically(os.path.join(out_dir, rec["name"], "manifest.json"), manifest)
        manifests[rec["name"]] = manifest
    return manifests


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m diffevent.cluster",
                                 description="Deblur the frames of many recordings on a Dask cluster.")
    ap.add_argument("--input", required=True, action="append",
                    help="recordings: paths, a glob, or a .txt list (repeatable)")
    ap.add_argument("--out-dir", required=True, help="output folder (one subfolder per recording)")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://HOST:8786)")
    where.add_argument("--local", type=int, metavar="N", help="start a LocalCluster of N worker processes")
    ap.add_argument("--method", default="diffevent", choices=["edi", "diffevent"])
    ap.add_argument("--preset", choices=["fast", "balanced", "best", "paper", "noisy"])
    ap.add_argument("--threshold", type=float,
                    help="contrast threshold (default: what the recording states, else each frame's estimate)")
    ap.add_argument("--threshold-range", metavar="MIN:MAX",
                    help="interval of the threshold search for estimated thresholds (default 0.05:4)")
    ap.add_argument("--sensor-threshold", action="store_true",
                    help="also estimate each frame's sensor threshold, and their median per recording")
    ap.add_argument("--reference-at-start", action="store_true",
                    help="with --sensor-threshold: the pixels' references were reset at each exposure (simulated data)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bit-depth", type=int, default=16, choices=[8, 16])
    ap.add_argument("--prior", default="shipped", help="x prior: 'shipped', 'analytic' or a .pt path")
    ap.add_argument("--residual-prior", default="shipped", help="r prior: 'shipped', 'none' or a .pt path")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads of each worker's network (0: all)")
    ap.add_argument("--device", help="cpu or cuda:N (GPU workers: one worker process per device)")
    ap.add_argument("--retries", type=int, default=0, help="retries of a frame whose task raised an error")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    if a.reference_at_start and not a.sensor_threshold:
        ap.error("--reference-at-start needs --sensor-threshold")
    threshold_range = None
    if a.threshold_range:
        try:
            threshold_range = _threshold_range(a.threshold_range)
        except ValueError as e:
            ap.error(f"--threshold-range: {e}")
    client = cluster = None
    try:
        if a.scheduler or a.local:
            from distributed import Client, LocalCluster
            if a.local:
                cluster = LocalCluster(n_workers=a.local, threads_per_worker=1, processes=True)
                client = Client(cluster)
            else:
                client = Client(a.scheduler)
        manifests = deblur_recordings(a.input, a.out_dir, client=client, method=a.method, preset=a.preset,
                                      threshold=a.threshold, seed=a.seed, bit_depth=a.bit_depth, x_prior=a.prior,
                                      r_prior=a.residual_prior, threads=a.threads, device=a.device,
                                      retries=a.retries, quiet=a.quiet, threshold_range=threshold_range,
                                      sensor_threshold=a.sensor_threshold, reference_at_start=a.reference_at_start)
    except KeyboardInterrupt:
        print("diffevent.cluster: interrupted; complete frames are kept, run again to finish", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    frames = sum(m["frames_total"] for m in manifests.values())
    print(f"diffevent.cluster: {frames} frames of {len(manifests)} recordings -> {a.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
