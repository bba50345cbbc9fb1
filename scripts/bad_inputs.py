#!/usr/bin/env python3
"""Builds malformed inputs, feeds each to diffevent (CLI, C API through the Python binding) and
prints the catalogue in docs/bad-inputs.md: what was tried and the error it gives. Every CLI run
is measured (/usr/bin/time): the script fails when one ends on a signal, takes more than 5 s,
holds more than 500 MB or leaves a temporary file behind.
Usage: python3 scripts/bad_inputs.py BUILD_DIR > docs/bad-inputs.md"""
import os
import shutil
import struct
import zlib
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
CLI = os.path.join(BUILD, "diffevent")
os.environ["DIFFEVENT_LIBRARY"] = os.path.join(BUILD, "capi", "libdiffevent_c.so.1")
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import numpy as np  # noqa: E402

import diffevent as de  # noqa: E402

SAMPLE = os.path.join(ROOT, "data", "sample")
rows = []


MAX_SECONDS, MAX_MB = 5.0, 500.0
STATS = {"runs": 0, "slowest": (0.0, ""), "largest": (0.0, ""), "failures": []}
WORK = []  # the folder whose temporary files are checked after each run


def cli(*args):
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        r = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", t.name, CLI, *args], capture_output=True, text=True)
        seconds, kb = t.read().split()[-2:]
    msg = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
    if msg.startswith("Command terminated by signal") or msg.startswith("Command exited with"):
        msg = (r.stderr.strip().splitlines()[:-1] or ["(no message)"])[-1]
    seconds, mb = float(seconds), float(kb) / 1024
    what = " ".join(args[:1])
    STATS["runs"] += 1
    STATS["slowest"] = max(STATS["slowest"], (seconds, what))
    STATS["largest"] = max(STATS["largest"], (mb, what))
    if r.returncode < 0 or "terminated by signal" in r.stderr:
        STATS["failures"].append(f"{args}: ended on a signal ({r.returncode})")
    if seconds > MAX_SECONDS or mb > MAX_MB:
        STATS["failures"].append(f"{args}: {seconds:.2f} s, {mb:.0f} MB")
    for folder in WORK:
        left = [n for n in os.listdir(folder) if ".tmp" in n]
        if left:
            STATS["failures"].append(f"{args}: left {left}")
    return r.returncode, msg


def add(group, what, rc, msg, tmp):
    rows.append((group, what, rc, msg.replace(tmp, "…").replace(ROOT, "…")))


def lying_png(w, h):
    """A 69-byte PNG whose IHDR declares w x h grey pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", b"\x78\x9c\x63\x60\x00\x00\x00\x02\x00\x01\x00\x00") + chunk(b"IEND", b""))


def npy(descr, shape, data=b""):
    """An .npy file (version 1.0) with this dtype descriptor, shape and data bytes."""
    d = "{'descr': %s, 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    d += " " * ((64 - (10 + len(d) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(d)) + d.encode() + data


def stored_zip(members):
    """A zip of stored members, as numpy.savez writes them."""
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def aedat4_recording(frame, w=8, h=6):
    """An uncompressed AEDAT4 file with one event packet and one frame packet built from `frame`:
    a dict of Frame fields (t0, t1, fmt, sx, sy, px, py, pixels)."""
    xml = ('<dv version="2.0"><node name="outInfo" path="/outInfo/">'
           '<node name="0" path="/outInfo/0/"><attr key="compression" type="string">NONE</attr>'
           '<attr key="typeIdentifier" type="string">EVTS</attr><node name="info" path="/outInfo/0/info/">'
           f'<attr key="sizeX" type="int">{w}</attr><attr key="sizeY" type="int">{h}</attr></node></node>'
           '<node name="1" path="/outInfo/1/"><attr key="compression" type="string">NONE</attr>'
           '<attr key="typeIdentifier" type="string">FRME</attr><node name="info" path="/outInfo/1/info/">'
           f'<attr key="sizeX" type="int">{w}</attr><attr key="sizeY" type="int">{h}</attr></node></node>'
           '</node></dv>').encode()
    hdr = struct.pack("<I", 16) + struct.pack("<5H", 10, 20, 4, 8, 16) + b"\0\0" + struct.pack("<IIqI", 12, 0, -1, 4)
    hdr += struct.pack("<I", len(xml)) + xml + b"\0"
    ev = struct.pack("<I", 16) + b"EVTS" + struct.pack("<3H", 6, 8, 4) + b"\0\0" + struct.pack("<IIII", 8, 8, 0, 1)
    ev += struct.pack("<qHHB3x", 5, 1, 1, 1)
    at = [8, 16, 24, 32, 40, 64, 4, 6, 56, 58, 60, 48]
    fr = struct.pack("<I", 40) + b"FRME" + struct.pack("<14H", 28, 68, *at) + b"\0" * 4 + struct.pack("<I", 32)
    fr += struct.pack("<hh", frame["sx"], frame["sy"])
    fr += struct.pack("<6q", (frame["t0"] + frame["t1"]) // 2, frame["t0"], frame["t1"], frame["t0"], frame["t1"],
                      frame["t1"] - frame["t0"])
    fr += struct.pack("<hhIb3x", frame["px"], frame["py"], 8, frame["fmt"])
    fr += struct.pack("<I", len(frame["pixels"])) + frame["pixels"]
    fr += b"\0" * ((4 - len(fr) % 4) % 4)
    out = b"#!AER-DAT4.0\r\n" + struct.pack("<I", len(hdr)) + hdr
    for sid, body in ((0, ev), (1, fr)):
        body = struct.pack("<I", len(body)) + body
        out += struct.pack("<ii", sid, len(body)) + body
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="diffevent_bad_")
    WORK.append(tmp)

    def f(name, data):
        p = os.path.join(tmp, name)
        with open(p, "wb") as h:
            h.write(data if isinstance(data, bytes) else data.encode())
        return p

    good = os.path.join(SAMPLE, "events.h5")
    for ext in ("npy", "dat", "raw", "npz", "aedat4"):
        subprocess.run([CLI, "convert", good, os.path.join(tmp, f"ok.{ext}")], check=True, capture_output=True)

    def truncated(ext, keep):
        b = open(os.path.join(tmp, f"ok.{ext}"), "rb").read()
        return f(f"cut.{ext}", b[:keep(len(b))])

    events = [
        ("empty file", f("empty.raw", b"")),
        ("unknown bytes", f("x.bin", b"\x01\x02\x03\x04garbage")),
        ("AEDAT4 with a wrong version in the magic", f("v.aedat4", "#!AER-DAT9.9\r\nxxxxxxxx")),
        ("MAT file that is not MATLAB v5", f("t.mat", "x" * 200)),
        (".npy with a bad magic", f("m.npy", b"\x93NUMPZ\x01\x00xxxxxxxx")),
        ("NumPy .npy cut 3 bytes short", truncated("npy", lambda n: n - 3)),
        ("Prophesee DAT cut 3 bytes short", truncated("dat", lambda n: n - 3)),
        ("EVT 2.0 RAW cut mid-word", truncated("raw", lambda n: n - 3)),
        (".npz cut 3 bytes short", truncated("npz", lambda n: n - 3)),
        ("AEDAT4 cut in half", truncated("aedat4", lambda n: n // 2)),
        ("HDF5 cut in half", f("half.h5", open(good, "rb").read()[: os.path.getsize(good) // 2])),
        ("text: x outside the stated 10x10 sensor", f("c.txt", "10 10\n0.1 3 4 1\n0.2 10 4 1\n")),
        ("text: decreasing timestamps", f("d.txt", "10 10\n0.3 3 4 1\n0.2 1 4 0\n")),
        ("text: a word where x should be", f("w.txt", "0.1 3 4 1\n0.2 oops 4 1\n")),
        ("text: polarity 7", f("p.txt", "0.1 3 4 7\n")),
        ("text: timestamp beyond int64 microseconds", f("big.txt", "111111111111111 1 1 1\n")),
        ("text: timestamp 1e300", f("inf.txt", "1e300 1 1 1\n")),
        ("RAW header naming an unknown encoding", f("h.raw", "% evt 9.0\n% end\n")),
        ("a file that does not exist", os.path.join(tmp, "nope.h5")),
        (".npy of dtype |V0 (raw bytes of size 0), shape (10, 4)", f("v0.npy", npy("'|V0'", "(10, 4)"))),
        (".npy of dtype |V1, shape (70000, 4), 16 bytes of data", f("v1.npy", npy("'|V1'", "(70000, 4)", b"x" * 16))),
        (".npy structured dtype with a |V-13 padding field",
         f("pad.npy", npy("[('t', '<i8'), ('', '|V-13'), ('x', '<u2'), ('y', '<u2'), ('p', '|i1')]", "(3,)", bytes(64)))),
        (".npy float times: NaN first", f("nan.npy", npy("'<f8'", "(2, 4)", struct.pack("<8d", float("nan"), 1, 2, 1, 0.5, 1, 2, 1)))),
        (".npy float times: 1e300 later", f("big.npy", npy("'<f8'", "(2, 4)", struct.pack("<8d", 0.5, 1, 2, 1, 1e300, 1, 2, 1)))),
        (".npy float times: -inf", f("minf.npy", npy("'<f8'", "(1, 4)", struct.pack("<4d", float("-inf"), 1, 2, 1)))),
        (".npz member events.npy of dtype |V0", f("v0.npz", stored_zip([("events.npy", npy("'|V0'", "(10, 4)"))]))),
        (".npz column shape (2^61 + 1,)", f("s61.npz", stored_zip(
            [("t.npy", npy("'<i8'", "(2305843009213693953,)", struct.pack("<3q", 10, 20, 30))),
             ("x.npy", npy("'<u2'", "(3,)", struct.pack("<3H", 1, 2, 3))), ("y.npy", npy("'<u2'", "(3,)", struct.pack("<3H", 1, 2, 3))),
             ("p.npy", npy("'|i1'", "(3,)", b"\x01\x00\x01"))]))),
        (".npz column shape (2^32, 2^32)", f("s32.npz", stored_zip(
            [("t.npy", npy("'<i8'", "(4294967296, 4294967296)", struct.pack("<3q", 10, 20, 30))),
             ("x.npy", npy("'<u2'", "(3,)", struct.pack("<3H", 1, 2, 3))), ("y.npy", npy("'<u2'", "(3,)", struct.pack("<3H", 1, 2, 3))),
             ("p.npy", npy("'|i1'", "(3,)", b"\x01\x00\x01"))]))),
    ]
    for what, path in events:
        rc, msg = cli("info", path)
        add("event files (`diffevent info FILE`)", what, rc, msg, tmp)

    # AEDAT4 packet sizes beyond the file (fuzzer finding).
    b = bytearray(open(os.path.join(tmp, "ok.aedat4"), "rb").read())
    hlen = struct.unpack_from("<I", b, 14)[0]
    b[18 + hlen + 7] = 0x3F
    rc, msg = cli("info", f("p.aedat4", bytes(b)))
    add("event files (`diffevent info FILE`)", "AEDAT4 packet claiming ~1 GiB", rc, msg, tmp)
    # A ZSTD packet of run-length blocks that would expand to 40 MiB (a decompression bomb).
    b = bytearray(open(os.path.join(tmp, "ok.aedat4"), "rb").read())
    hlen = struct.unpack_from("<I", b, 14)[0]
    struct.pack_into("<i", b, 38, 3)  # IOHeader compression: ZSTD
    bomb = b"\x28\xb5\x2f\xfd\x00\x38" + b"".join(
        (131072 << 3 | 1 << 1 | (k == 319)).to_bytes(3, "little") + b"x" for k in range(320))
    at = 18 + hlen
    b = b[:at + 4] + struct.pack("<i", len(bomb)) + bomb
    rc, msg = cli("info", f("bomb.aedat4", bytes(b)))
    add("event files (`diffevent info FILE`)", "AEDAT4 ZSTD packet expanding to 40 MiB from 1.3 KB", rc, msg, tmp)
    rc, msg = cli("info", os.path.join(ROOT, "tests", "data", "fuzz", "npz_claims_4gb.npz"))
    add("event files (`diffevent info FILE`)", "NPZ member claiming 4 GB from 1.6 KB (fuzzer)", rc, msg, tmp)
    b = bytearray(open(os.path.join(tmp, "ok.aedat4"), "rb").read())
    b[16] = 0x10
    rc, msg = cli("info", f("hdr.aedat4", bytes(b)))
    add("event files (`diffevent info FILE`)", "AEDAT4 header size beyond the file (fuzzer)", rc, msg, tmp)
    # HDF5 files that crash or overflow libhdf5 1.10.8 itself, stopped by our header vetting.
    for name, what in [("h5_libhdf5_fpe.h5", "HDF5 chunk layout with no dimensions (libhdf5: SIGFPE)"),
                       ("h5_root_header_4gb.h5", "HDF5 root group header claiming 4 GB (libhdf5: 4 GB malloc)"),
                       ("h5_shared_continuation.h5", "HDF5 continuation message of 0 bytes, flagged shared"),
                       ("h5_short_unfiltered_chunk.h5", "HDF5 unfiltered chunk shorter than a chunk (libhdf5: overflow)"),
                       ("h5_element_size_mismatch.h5", "HDF5 chunk element size unlike the datatype's (libhdf5: overflow)"),
                       ("h5_chunk_4gb.h5", "HDF5 chunk index claiming 4 GB stored"),
                       ("h5_attribute_value_overflow.h5",
                        "HDF5 root attribute whose value runs past its message (libhdf5: overflow)")]:
        rc, msg = cli("info", os.path.join(ROOT, "tests", "data", "fuzz", name))
        add("event files (`diffevent info FILE`)", what + " (fuzzer)", rc, msg, tmp)
    for name, what in [("h5_threshold_nan.h5", "HDF5 stating a NaN contrast threshold"),
                       ("h5_threshold_alone.h5", "HDF5 stating the ON threshold alone")]:
        rc, msg = cli("info", os.path.join(ROOT, "tests", "data", "fuzz", name))
        add("event files (`diffevent info FILE`)", what, rc, msg, tmp)
    mat = b"MATLAB 5.0 MAT-file".ljust(116) + bytes(8) + struct.pack("<H", 0x0100) + b"IM"
    body = (struct.pack("<IIII", 6, 8, 6, 0) + struct.pack("<IIii", 5, 8, 51, 4) + struct.pack("<II", 1, 6) + b"events\0\0"
            + struct.pack("<II", 9, 8 * 4 * 50) + bytes(8 * 4 * 50))
    mat += struct.pack("<II", 14, len(body)) + body
    rc, msg = cli("info", f("rows.mat", mat))
    add("event files (`diffevent info FILE`)", "MAT matrix whose dimensions exceed its data (fuzzer)", rc, msg, tmp)

    blur = os.path.join(SAMPLE, "blur.png")
    png = open(blur, "rb").read()
    images = [
        ("PNG cut in half", ["edi", "--blur", f("half.png", png[: len(png) // 2]), "--events", good, "--out", os.path.join(tmp, "o.png")]),
        ("frame size differs from the sensor", ["edi", "--blur", f("s.pfm", b"Pf\n4 4\n-1.0\n" + b"\0" * 64), "--events", good, "--out", os.path.join(tmp, "o.png")]),
        ("PFM with a NaN pixel", ["edi", "--blur", f("nan.pfm", b"Pf\n2 1\n-1.0\n" + struct.pack("<ff", float("nan"), 0.5)), "--events", f("e.txt", "2 1\n0.1 0 0 1\n"), "--exposure", "0:200000", "--out", os.path.join(tmp, "o.png")]),
        ("exposure given as '5:2'", ["edi", "--blur", blur, "--events", good, "--exposure", "5:2", "--out", os.path.join(tmp, "o.png")]),
        ("output in a folder that does not exist", ["edi", "--blur", blur, "--events", good, "--out", os.path.join(tmp, "no", "o.png")]),
        ("prior file that does not exist", ["deblur", "--blur", blur, "--events", good, "--prior", os.path.join(tmp, "none.pt"), "--out", os.path.join(tmp, "o.png")]),
        ("prior that is not TorchScript", ["deblur", "--blur", blur, "--events", good, "--prior", f("bad.pt", "not a zip"), "--out", os.path.join(tmp, "o.png")]),
        ("--device gpu7 with a TorchScript prior", ["deblur", "--blur", blur, "--events", good, "--prior", os.path.join(ROOT, "tests", "data", "tiny_prior.pt"), "--device", "gpu7", "--out", os.path.join(tmp, "o.png")]),
        ("--device cuda:0 with the analytic prior", ["deblur", "--blur", blur, "--events", good, "--device", "cuda:0", "--out", os.path.join(tmp, "o.png")]),
        ("--steps 0", ["deblur", "--blur", blur, "--events", good, "--steps", "0", "--out", os.path.join(tmp, "o.png")]),
        ("PNG whose zTXt chunk header claims 1.97 GB (fuzzer)", ["edi", "--blur", f("ztxt.png", lying_png(4, 4)[:33] + struct.pack(">I", 1970632053) + b"zTXtabc"), "--events", good, "--out", os.path.join(tmp, "o.png")]),
        ("69-byte PNG whose header claims 100000 x 100000 pixels", ["edi", "--blur", f("huge.png", lying_png(100000, 100000)), "--events", good, "--out", os.path.join(tmp, "o.png")]),
        ("PFM header claiming 100000 x 100000 pixels", ["edi", "--blur", f("huge.pfm", b"Pf\n100000 100000\n-1.0\n" + b"\0" * 16), "--events", good, "--out", os.path.join(tmp, "o.png")]),
        ("exposure [INT64_MIN, INT64_MAX]", ["edi", "--blur", blur, "--events", good, "--exposure", "-9223372036854775808:9223372036854775807", "--out", os.path.join(tmp, "o.png")]),
        ("--threshold-pos -1", ["edi", "--blur", blur, "--events", good, "--threshold-pos", "-1", "--out", os.path.join(tmp, "o.png")]),
        ("--threshold-neg nan", ["edi", "--blur", blur, "--events", good, "--threshold-neg", "nan", "--out", os.path.join(tmp, "o.png")]),
        ("--frames 100000 on 128 x 96", ["edi", "--blur", blur, "--events", good, "--frames", "100000", "--frames-dir", os.path.join(tmp, "fr"), "--out", os.path.join(tmp, "o.png")]),
        ("simulate --noise-hz 1e12", ["simulate", "--image", os.path.join(SAMPLE, "sharp.png"), "--out", os.path.join(tmp, "sim"), "--noise-hz", "1e12"]),
        ("simulate --threshold 1e-9 (billions of events)", ["simulate", "--image", os.path.join(SAMPLE, "sharp.png"), "--out", os.path.join(tmp, "sim"), "--threshold", "1e-9"]),
    ]
    for what, args in images:
        rc, msg = cli(*args)
        add("frames, options and models (`diffevent edi` / `deblur`)", what, rc, msg, tmp)

    # Recordings: frames with exposures (AEDAT4 frames streams, HDF5 images/, folders).
    good_frame = dict(t0=0, t1=20, fmt=0, sx=8, sy=6, px=0, py=0, pixels=bytes(48))
    out_dir = os.path.join(tmp, "rec_out")
    folder = os.path.join(tmp, "folder_rec")
    os.makedirs(folder)
    open(os.path.join(folder, "0.png"), "wb").write(png)
    shutil.copy(good, os.path.join(folder, "events.h5"))
    open(os.path.join(folder, "timestamps.txt"), "w").write("0 abc\n")
    two = os.path.join(tmp, "two_event_files")
    os.makedirs(two)
    open(os.path.join(two, "0.png"), "wb").write(png)
    for n in ("a.h5", "b.h5"):
        shutil.copy(good, os.path.join(two, n))
    open(os.path.join(two, "timestamps.txt"), "w").write("0 20000\n")
    orphan = os.path.join(tmp, "orphan")
    os.makedirs(orphan)
    open(os.path.join(orphan, "scene.png"), "wb").write(png)
    shutil.copy(good, os.path.join(orphan, "other.h5"))
    lying = os.path.join(tmp, "lying_frame")
    os.makedirs(lying)
    open(os.path.join(lying, "0.png"), "wb").write(lying_png(100000, 100000))
    shutil.copy(good, os.path.join(lying, "events.h5"))
    open(os.path.join(lying, "timestamps.txt"), "w").write("0 20000\n")
    recordings = [
        ("AEDAT4 frame whose pixels are fewer than 8 x 6", f("short.aedat4", aedat4_recording(dict(good_frame, pixels=bytes(5))))),
        ("AEDAT4 frame claiming 32767 x 32767 pixels", f("huge.aedat4", aedat4_recording(dict(good_frame, sx=32767, sy=32767)))),
        ("AEDAT4 frame whose exposure ends before it starts", f("backwards.aedat4", aedat4_recording(dict(good_frame, t0=50, t1=20)))),
        ("AEDAT4 frame of pixel format 7", f("fmt.aedat4", aedat4_recording(dict(good_frame, fmt=7)))),
        ("AEDAT4 frame that is a region of interest", f("roi.aedat4", aedat4_recording(dict(good_frame, px=2)))),
        ("AEDAT4 file without frames", os.path.join(tmp, "ok.aedat4")),
        ("text event file as a recording", f("ev.txt", "2 2\n0.1 0 0 1\n")),
        ("folder whose timestamps.txt says '0 abc'", folder),
        ("folder with timestamps.txt and two event files", two),
        ("folder whose event file has no image", orphan),
        ("folder frame: a 69-byte PNG claiming 100000 x 100000", lying),
    ]
    for what, path in recordings:
        shutil.rmtree(out_dir, ignore_errors=True)
        rc, msg = cli("deblur-recording", "--input", path, "--out-dir", out_dir, "--method", "edi", "--no-video")
        add("recordings (`diffevent deblur-recording --method edi`)", what, rc, msg, tmp)
    ok_rec = f("good.aedat4", aedat4_recording(good_frame))
    for what, extra in [("--frames-per-exposure 100000", ["--frames-per-exposure", "100000"]),
                        ("--method fast", ["--method", "fast"]), ("--memory-budget-mb 0", ["--memory-budget-mb", "0"])]:
        args = ["deblur-recording", "--input", ok_rec, "--out-dir", out_dir, "--no-video"] + extra
        if "--method" not in extra:
            args += ["--method", "edi"]
        rc, msg = cli(*args)
        add("recordings (`diffevent deblur-recording --method edi`)", what, rc, msg, tmp)

    capi = "C API (through bindings/python)"

    def err(what, fn):
        try:
            fn()
            add(capi, what, 0, "(accepted)", tmp)
        except de.DiffeventError as e:
            add(capi, what, e.status, str(e), tmp)
        except (TypeError, ValueError) as e:
            add(capi, what, "-", f"{type(e).__name__}: {e}", tmp)

    err("arrays with decreasing times", lambda: de.Events.from_arrays(4, 3, [5, 1], [0, 0], [0, 0], [1, 1]))
    err("x = 4 on a 4x3 sensor", lambda: de.Events.from_arrays(4, 3, [1, 2], [0, 4], [0, 0], [1, 1]))
    err("polarity 3", lambda: de.Events.from_arrays(4, 3, [1], [0], [0], [3]))
    err("sensor width 0", lambda: de.Events.from_arrays(0, 3, [1], [0], [0], [1]))
    nan_img = de.Image.from_numpy(np.array([[np.nan, 0.5]]))  # images may hold anything; users check
    err("EDI of an image holding a NaN", lambda: de.edi_deblur(nan_img, de.Events.from_arrays(2, 1, [5], [0], [0], [1]),
                                                              exposure=(0, 10)))
    err("PSNR of 1x2 against 2x1", lambda: de.psnr(de.Image.from_numpy(np.zeros((1, 2))), de.Image.from_numpy(np.zeros((2, 1)))))
    ev = de.Events.from_arrays(64, 64, [10, 20], [1, 2], [1, 2], [1, 0])
    img = de.Image.from_numpy(np.full((64, 64), 0.5))
    err("deblur cancelled by its progress callback", lambda: de.deblur(img, ev, steps=20, exposure=(0, 30), progress=lambda d, t: True))
    err("EDI exposure [30, 10]", lambda: de.edi_deblur(img, ev, exposure=(30, 10)))
    err("EDI exposure [INT64_MIN, INT64_MAX]", lambda: de.edi_deblur(img, ev, exposure=(-2**63, 2**63 - 1)))
    err("EDI threshold -0.2", lambda: de.edi_deblur(img, ev, threshold=-0.2, exposure=(0, 30)))
    err("frame 32x32 for a 64x64 sensor", lambda: de.edi_deblur(de.Image.from_numpy(np.zeros((32, 32))), ev, exposure=(0, 30)))

    print("# Bad inputs and the errors they give\n")
    print("Generated by `python3 scripts/bad_inputs.py build > docs/bad-inputs.md` (the CLI and the C API")
    print("through the Python binding). `exit` is the CLI's exit status or the C API's status code. The")
    print("fuzzers (`scripts/fuzz.sh`, [fuzzing.md](fuzzing.md)) go further: their findings")
    print("are listed there, each with its regression test. No input here crashes, hangs or")
    print("leaves a partial output file: the script measures every CLI run and fails on a signal,")
    print(f"more than {MAX_SECONDS:.0f} s, more than {MAX_MB:.0f} MB resident or a temporary file left behind.")
    print(f"This catalogue: {STATS['runs']} CLI runs, the slowest {STATS['slowest'][0]:.2f} s"
          f" (`{STATS['slowest'][1]}`), the largest {STATS['largest'][0]:.0f} MB resident (`{STATS['largest'][1]}`).\n")
    group = None
    for g, what, rc, msg in rows:
        if g != group:
            print(f"\n## {g}\n\n| input | exit | message |\n|---|---|---|")
            group = g
        print(f"| {what.replace('|', chr(92) + '|')} | {rc} | {msg.replace('|', chr(92) + '|')} |")
    if STATS["failures"]:
        print("bad_inputs: " + "; ".join(STATS["failures"]), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
