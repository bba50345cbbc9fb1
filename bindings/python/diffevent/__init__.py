"""diffevent for Python: a thin ctypes layer over the C API (libdiffevent_c.so.1).

NumPy arrays in and out; handles are freed when their Python objects go (or on close()).
Errors raise DiffeventError carrying the C status and the library's message.

    import diffevent as de
    blurry = de.Image.read("blur.png")
    events = de.Events.read("events.h5")
    sharp = de.edi_deblur(blurry, events, threshold=0.2)
    sharp.write("sharp.png")
    x = sharp.to_numpy()                  # float32, shape (C, H, W), linear [0, 1]

The C library is found without environment variables: beside this package when it is imported
from an install's share/diffevent/python, then in the install it was copied from (the wheel
cmake --install writes there records it), then through the system loader. DIFFEVENT_LIBRARY (a path) overrides all.
"""
import ctypes as C
import os
import threading
import warnings

import numpy as np

__all__ = ["DiffeventError", "Context", "Image", "Events", "Recording", "Prior", "edi_deblur", "deblur", "deblur_defaults", "estimate_threshold", "estimate_sensor_threshold", "stated_threshold", "psnr", "ssim",
           "version", "has_torch", "shipped_prior_path", "EVENT_DTYPE", "PRESETS"]

__version__ = "0.1.0"  # the C library's version this binding was written for
from ._native import (DiffeventError, _DeblurParams, _EdiParams, _EventsInfo, _ImageReadParams, _SensorThresholdEstimate, _SensorThresholdParams, _ThresholdEstimate, _ThresholdParams,  # noqa: F401
                      _IngestParams, _PriorParams, _ReadParams, _RecordingParams, _check, _init, _lib, _progress_fn)

def version():
    return _lib.diffevent_version_string().decode()


def has_torch():
    return bool(_lib.diffevent_has_torch())


class _Handle:
    _destroy = None

    def __init__(self, ptr):
        self._ptr = ptr

    def close(self):
        if self._ptr:
            type(self)._destroy(self._ptr)
            self._ptr = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def _as_parameter_(self):
        if not self._ptr:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._ptr


class Context(_Handle):
    """Cancellation for the calls made with it; cancel() is safe from any thread."""
    _destroy = _lib.diffevent_context_destroy

    def __init__(self):
        out = C.c_void_p()
        _check(_lib.diffevent_context_create(None, C.byref(out)))
        super().__init__(out.value)

    def cancel(self):
        _check(_lib.diffevent_context_cancel(self))

    def reset_cancel(self):
        _check(_lib.diffevent_context_reset_cancel(self))


class Image(_Handle):
    """A float image, channels x height x width, in [0, 1] (linear unless said otherwise)."""
    _destroy = _lib.diffevent_image_destroy

    @classmethod
    def read(cls, path, max_pixels=None, max_side=None):
        """PNG or PFM. max_pixels, max_side: refuse larger images before allocating them
        (defaults 2**28 and 2**20; lower them for untrusted files)."""
        params = _init(_ImageReadParams, "diffevent_image_read_params_init")
        if max_pixels is not None:
            params.max_pixels = max_pixels
        if max_side is not None:
            params.max_side = max_side
        out = C.c_void_p()
        _check(_lib.diffevent_image_read_with_params(os.fsencode(path), C.byref(params), C.byref(out)))
        return cls(out.value)

    @classmethod
    def from_numpy(cls, array):
        """From a (H, W) or (C, H, W) array (copied as float32)."""
        a = np.ascontiguousarray(array, dtype=np.float32)
        if a.ndim == 2:
            a = a[None]
        if a.ndim != 3:
            raise ValueError(f"expected a (H, W) or (C, H, W) array, got shape {a.shape}")
        out = C.c_void_p()
        _check(_lib.diffevent_image_create(a.shape[0], a.shape[1], a.shape[2],
                                           a.ctypes.data_as(C.POINTER(C.c_float)), C.byref(out)))
        return cls(out.value)

    @property
    def shape(self):
        c, h, w = C.c_int32(), C.c_int32(), C.c_int32()
        _check(_lib.diffevent_image_shape(self, C.byref(c), C.byref(h), C.byref(w)))
        return (c.value, h.value, w.value)

    def to_numpy(self):
        a = np.empty(self.shape, dtype=np.float32)
        _check(_lib.diffevent_image_copy_data(self, a.ctypes.data_as(C.POINTER(C.c_float)), a.size))
        return a

    def write(self, path, bit_depth=8):
        """PNG (8 or 16 bit) or PFM by extension, written atomically."""
        _check(_lib.diffevent_image_write(self, os.fsencode(path), bit_depth))


EVENT_DTYPE = np.dtype([("x", "<u2"), ("y", "<u2"), ("t", "<i8"), ("p", "i1")])
"""Events as a structured array: pixel x, y; t in microseconds; p 1 (ON) or 0 (OFF)."""


class Events(_Handle):
    """An event stream (sorted by time, coordinates inside the sensor)."""
    _destroy = _lib.diffevent_events_destroy

    @classmethod
    def read(cls, path, context=None, max_events=None):
        """Any supported event file. max_events: refuse a file of more events before storing
        them (default 2**30)."""
        params = _init(_ReadParams, "diffevent_read_params_init")
        if max_events is not None:
            if max_events < 1:
                raise ValueError(f"max_events must be >= 1, got {max_events}")
            params.max_events = max_events
        out = C.c_void_p()
        _check(_lib.diffevent_events_read(context, os.fsencode(path), C.byref(params), C.byref(out)))
        return cls(out.value)

    @classmethod
    def from_numpy(cls, events, width, height, sort_if_unsorted=False):
        """From a structured array with fields x, y, t (microseconds) and p, as Tonic and
        dv-processing hold events (EVENT_DTYPE; dv-processing's "timestamp" and "polarity" are
        accepted too). p: {0, 1} or {-1, +1}, or bool; 0 (False, -1) is OFF."""
        a = np.asarray(events)
        names = a.dtype.names or ()

        def field(*choices):
            for name in choices:
                if name in names:
                    return a[name]
            raise ValueError(f"events: expected a structured array with fields x, y, t, p (EVENT_DTYPE); "
                             f"got fields {list(names) if names else 'none'} (dtype {a.dtype})")
        t, x, y, p = field("t", "timestamp"), field("x"), field("y"), field("p", "polarity")
        return cls.from_arrays(width, height, t, x, y, p, sort_if_unsorted=sort_if_unsorted)

    @classmethod
    def from_arrays(cls, width, height, t_us, x, y, polarity, sort_if_unsorted=False):
        """From separate arrays: t in microseconds, x/y pixels, polarity in {0,1} or {-1,+1}.
        Arrays already int64 (t), uint16 (x, y) and int8 (polarity) and contiguous are read in
        place; others are converted once."""
        t = np.ascontiguousarray(t_us, dtype=np.int64)
        xs = np.ascontiguousarray(x, dtype=np.uint16)
        ys = np.ascontiguousarray(y, dtype=np.uint16)
        ps = np.ascontiguousarray(polarity, dtype=np.int8)
        n = len(t)
        if not (len(xs) == len(ys) == len(ps) == n):
            raise ValueError(f"arrays differ in length: t {n}, x {len(xs)}, y {len(ys)}, polarity {len(ps)}")
        params = _init(_IngestParams, "diffevent_ingest_params_init")
        params.sort_if_unsorted = int(sort_if_unsorted)
        out = C.c_void_p()
        _check(_lib.diffevent_events_from_arrays(width, height, t.ctypes.data_as(C.POINTER(C.c_int64)),
                                                 xs.ctypes.data_as(C.POINTER(C.c_uint16)),
                                                 ys.ctypes.data_as(C.POINTER(C.c_uint16)),
                                                 ps.ctypes.data_as(C.POINTER(C.c_int8)), n, C.byref(params),
                                                 C.byref(out)))
        return cls(out.value)

    def info(self):
        i = _init(_EventsInfo, "diffevent_events_info_init")
        _check(_lib.diffevent_events_info_get(self, C.byref(i)))
        return {k: getattr(i, k) for k, _ in _EventsInfo._fields_ if k != "struct_size"}

    @property
    def size(self):
        """(width, height) of the sensor."""
        i = self.info()
        return i["width"], i["height"]

    def __len__(self):
        return self.info()["count"]

    def arrays(self):
        """(t_us int64, x uint16, y uint16, polarity int8 in {-1,+1}), one copy out of the library."""
        n = len(self)
        t, x, y, p = (np.empty(n, np.int64), np.empty(n, np.uint16), np.empty(n, np.uint16), np.empty(n, np.int8))
        _check(_lib.diffevent_events_copy_arrays(self, t.ctypes.data_as(C.POINTER(C.c_int64)),
                                                 x.ctypes.data_as(C.POINTER(C.c_uint16)),
                                                 y.ctypes.data_as(C.POINTER(C.c_uint16)),
                                                 p.ctypes.data_as(C.POINTER(C.c_int8)), n))
        return t, x, y, p

    def to_numpy(self):
        """A structured array of EVENT_DTYPE: x, y, t (microseconds), p (1 ON, 0 OFF)."""
        t, x, y, p = self.arrays()
        out = np.empty(len(t), EVENT_DTYPE)
        out["x"], out["y"], out["t"], out["p"] = x, y, t, p > 0
        return out


class Recording(_Handle):
    """A recording: frames with their exposures and the events of any window, read on demand
    (an AEDAT4 file with frames, an HDF5 file with images/, or a folder; docs/recordings.md).

        rec = de.Recording.open("run.aedat4")
        for i in range(len(rec)):
            sharp = de.edi_deblur(rec.image(i), rec.events(i))   # the frame's exposure travels along
    """
    _destroy = _lib.diffevent_recording_destroy

    @classmethod
    def open(cls, path, exposure_us=0, width=0, height=0, max_events=None, context=None):
        """exposure_us: exposure of frames that give only a timestamp. width/height: sensor size
        when the event data state none. max_events: most events one window may hold."""
        params = _init(_RecordingParams, "diffevent_recording_params_init")
        params.exposure_us, params.width, params.height = exposure_us, width, height
        if max_events is not None:
            params.max_events = max_events
        out = C.c_void_p()
        _check(_lib.diffevent_recording_open(context, os.fsencode(path), C.byref(params), C.byref(out)))
        rec = cls(out.value)
        rec.path = os.fspath(path)
        return rec

    def info(self):
        frames, w, h = C.c_uint64(), C.c_int32(), C.c_int32()
        _check(_lib.diffevent_recording_info(self, C.byref(frames), C.byref(w), C.byref(h)))
        return {"frames": frames.value, "width": w.value, "height": h.value,
                "layout": _lib.diffevent_recording_layout(self).decode()}

    def __len__(self):
        return self.info()["frames"]

    def frame(self, index):
        """(t0_us, t1_us, name) of frame index's exposure."""
        t0, t1 = C.c_int64(), C.c_int64()
        name = C.create_string_buffer(1024)
        _check(_lib.diffevent_recording_frame(self, index, C.byref(t0), C.byref(t1), name, len(name)))
        return t0.value, t1.value, name.value.decode()

    def image(self, index, context=None):
        out = C.c_void_p()
        _check(_lib.diffevent_recording_image(context, self, index, C.byref(out)))
        return Image(out.value)

    def events(self, index, context=None):
        """The events of the frame's exposure, carrying that exposure."""
        out = C.c_void_p()
        _check(_lib.diffevent_recording_events(context, self, index, C.byref(out)))
        return Events(out.value)

    def events_between(self, t0_us, t1_us, context=None):
        out = C.c_void_p()
        _check(_lib.diffevent_recording_events_between(context, self, t0_us, t1_us, C.byref(out)))
        return Events(out.value)


class Prior(_Handle):
    """A TorchScript diffusion prior (needs a library built with LibTorch)."""
    _destroy = _lib.diffevent_prior_destroy

    @staticmethod
    def _params(threads, device):
        p = _init(_PriorParams, "diffevent_prior_params_init")
        p.intra_op_threads = threads
        if device is not None:
            p.device = device.encode()
        return p

    @classmethod
    def load(cls, path, context=None, threads=0, device=None):
        """threads: CPU threads of the network (0: LibTorch's default). device: "cpu" or
        "cuda:N"."""
        out = C.c_void_p()
        p = cls._params(threads, device)
        _check(_lib.diffevent_prior_load(context, os.fsencode(path), C.addressof(p), C.byref(out)))
        return cls(out.value)

    @classmethod
    def shipped(cls, role="x", channels=1, context=None, threads=0, device=None):
        """The shipped prior for x or r, grey (1) or RGB (3), found as the CLI finds it
        (shipped_prior_path)."""
        out = C.c_void_p()
        p = cls._params(threads, device)
        _check(_lib.diffevent_prior_load_shipped(context, _role(role), channels, C.addressof(p), C.byref(out)))
        return cls(out.value)


def _role(role):
    roles = {"x": 0, "r": 1}
    if role not in roles:
        raise ValueError(f"role '{role}': expected 'x' or 'r'")
    return roles[role]


def shipped_prior_path(role="x", channels=1):
    """Where the shipped prior for x or r (grey: 1 channel, RGB: 3) is: $DIFFEVENT_MODELS, then
    the library's install (share/diffevent/models), then the source tree it was built from."""
    needed = C.c_size_t()
    status = _lib.diffevent_shipped_prior_path(_role(role), channels, None, 0, C.byref(needed))
    if status != 9:  # anything but "buffer too small" is the answer
        _check(status)
    buf = C.create_string_buffer(needed.value)
    _check(_lib.diffevent_shipped_prior_path(_role(role), channels, buf, needed.value, None))
    return os.fsdecode(buf.value)


def _edi_params(threshold, exposure, srgb, p=None):
    p = p if p is not None else _init(_EdiParams, "diffevent_edi_params_init")
    if threshold is not None:
        c_pos, c_neg = (threshold, threshold) if np.isscalar(threshold) else threshold
        p.c_pos, p.c_neg = c_pos, c_neg
    if exposure is not None:
        p.has_exposure, p.exposure_t0_us, p.exposure_t1_us = 1, exposure[0], exposure[1]
    p.linearize_srgb = int(srgb)
    return p


def estimate_threshold(blurry, events, exposure=None, srgb=False, interval=None, context=None):
    """EDI's threshold search (docs/edi.md): a dict with the symmetric threshold "c", its
    "std_error", "at_bound" (the estimate ended at an end of the search interval: suspect),
    "energy", "evaluations" and the "interval" searched. exposure: (t0, t1) us (default: the
    events file's); interval: (c_min, c_max) (default: the library's, 0.05 to 4)."""
    p = _edi_params(None, exposure, srgb)
    sp = _init(_ThresholdParams, "diffevent_threshold_params_init")
    if interval is not None:
        sp.c_min, sp.c_max = (float(v) for v in interval)
    e = _init(_ThresholdEstimate, "diffevent_threshold_estimate_init")
    _check(_lib.diffevent_estimate_threshold(context, blurry, events, C.byref(p), C.byref(sp), C.byref(e)))
    return {"c": e.c, "std_error": e.std_error, "at_bound": bool(e.at_bound), "energy": e.energy,
            "evaluations": e.evaluations, "interval": (sp.c_min, sp.c_max)}


def estimate_sensor_threshold(blurry, events, exposure=None, srgb=False, reference_at_start=False, context=None):
    """The sensor's own threshold from the blur its events explain (docs/edi.md, "The sensor's
    threshold"): a dict with the median per-pixel threshold "c", its "std_error", the
    "pixels" and "blocks" used, the median "motion_px" over the exposure, "at_bound", and per
    polarity "c_pos" and "c_neg" (0 where fewer than 25 pixels changed that way) with their
    "pixels_pos" and "pixels_neg".
    Unlike estimate_threshold it does not optimise the image: under a strong per-pixel
    mismatch the two differ. reference_at_start: every pixel's reference was reset when the
    exposure began (simulated data). Raises DiffeventError when the frame has too few moving
    edges."""
    p = _edi_params(None, exposure, srgb)
    sp = _init(_SensorThresholdParams, "diffevent_sensor_threshold_params_init")
    sp.reference_at_start = int(bool(reference_at_start))
    e = _init(_SensorThresholdEstimate, "diffevent_sensor_threshold_estimate_init")
    _check(_lib.diffevent_estimate_sensor_threshold(context, blurry, events, C.byref(p), C.byref(sp), C.byref(e)))
    return {"c": e.c, "std_error": e.std_error, "pixels": e.pixels, "blocks": e.blocks, "motion_px": e.motion_px,
            "at_bound": bool(e.at_bound), "c_pos": e.c_pos, "c_neg": e.c_neg, "pixels_pos": e.pixels_pos,
            "pixels_neg": e.pixels_neg}


def stated_threshold(events):
    """The (c_pos, c_neg) the events' file states (HDF5 contrast_threshold_pos/_neg), or None."""
    info = events.info()
    return (info["threshold_pos"], info["threshold_neg"]) if info["threshold_pos"] > 0 else None


def edi_deblur(blurry, events, threshold=None, exposure=None, srgb=False, context=None):
    """EDI: sharp = blurry / E. threshold: c or (c_pos, c_neg) (default: the library's nominal
    threshold); exposure: (t0, t1) us (default: the events file's)."""
    p = _edi_params(threshold, exposure, srgb)
    out = C.c_void_p()
    _check(_lib.diffevent_edi_deblur(context, blurry, events, C.byref(p), C.byref(out)))
    return Image(out.value)


PRESETS = {"fast": 0, "balanced": 1, "best": 2, "paper": 3, "noisy": 4}  # DIFFEVENT_PRESET_*


def deblur_defaults(preset=None):
    """The library's deblur options for a preset (default: balanced) as a dict of the
    diffevent_deblur_params fields, read from diffevent_deblur_params_init(_preset): what
    deblur() uses for every option it is not given."""
    p = _init(_DeblurParams, "diffevent_deblur_params_init")
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"preset '{preset}': expected one of {', '.join(PRESETS)}")
        _check(_lib.diffevent_deblur_params_init_preset(C.byref(p), PRESETS[preset]))
    skip = ("struct_size", "edi", "progress", "progress_user_data", "reserved0", "reserved_layout",
            "enhancer_path", "respacing")
    return {name: getattr(p, name) for name, _ in _DeblurParams._fields_ if name not in skip}


def deblur(blurry, events, steps=None, seed=0, threshold=None, exposure=None, srgb=False, x_prior="shipped",
           r_prior="shipped", progress=None, context=None, preset=None, **options):
    """DiffEvent deblurring (EBRD model, alternating sampler). Returns (sharp, residual, c).
    x_prior: "shipped" (default: the shipped prior for the frame's channels, as the CLI; the
    analytic prior with a warning when none is installed), a
    Prior, or "analytic" / None (the analytic Gaussian prior). r_prior: "shipped" (default: the
    shipped r prior when the preset runs one and x_prior is the shipped one, as the CLI), a
    Prior, or None (r = 0). preset: a key of PRESETS (default: the library's,
    balanced). progress(done, total) may return True to cancel. Other options: any field of
    diffevent_deblur_params (s, s_r, lambda_tv, lambda_l1, samples, antithetic, robust_residual,
    start_threshold_max, ddim, eta, guidance, ...), over the preset."""
    p = _init(_DeblurParams, "diffevent_deblur_params_init")
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"preset '{preset}': expected one of {', '.join(PRESETS)}")
        _check(_lib.diffevent_deblur_params_init_preset(C.byref(p), PRESETS[preset]))
    if steps is not None:  # else the library's default
        p.steps = steps
    p.seed = seed
    edi = _edi_params(threshold, exposure, srgb)
    p.edi = C.pointer(edi)
    keep = [edi]
    for k, v in options.items():
        if k not in dict(_DeblurParams._fields_) or k in ("struct_size", "edi", "progress", "progress_user_data",
                                                          "reserved0", "reserved_layout"):
            raise TypeError(f"deblur() got an unknown option '{k}'")
        if isinstance(v, str):
            v = v.encode()
            keep.append(v)
        setattr(p, k, v)
    error = []
    if progress is not None:
        def cb(_user, done, total):
            try:
                return 1 if progress(done, total) else 0
            except BaseException as e:  # noqa: B902 -- re-raised after the C call returns
                error.append(e)
                return 1
        p.progress = _progress_fn(cb)
    channels = blurry.shape[0]
    loaded = []
    if isinstance(x_prior, str) and x_prior not in ("shipped", "analytic"):
        raise ValueError(f"x_prior '{x_prior}': expected 'shipped', 'analytic', None or a Prior")
    if isinstance(r_prior, str) and r_prior != "shipped":
        raise ValueError(f"r_prior '{r_prior}': expected 'shipped', None or a Prior")
    if x_prior == "shipped" and _lib.diffevent_has_torch():
        try:
            shipped_prior_path("x", channels)
        except DiffeventError as e:  # as the CLI: a note, then the analytic prior
            warnings.warn(f"diffevent: {e}; using the analytic prior", stacklevel=2)
            x_prior = "analytic"
    if r_prior == "shipped":
        r_prior = Prior.shipped("r", channels, context) if x_prior == "shipped" and p.residual_prior else None
        if r_prior is not None:
            loaded.append(r_prior)
    if x_prior == "shipped":
        x_prior = Prior.shipped("x", channels, context)
        loaded.append(x_prior)
    elif x_prior == "analytic":
        x_prior = None
    sharp, residual, c = C.c_void_p(), C.c_void_p(), C.c_double()
    try:
        status = _lib.diffevent_deblur(context, blurry, events, x_prior, r_prior, C.byref(p), C.byref(sharp),
                                       C.byref(residual), C.byref(c))
    finally:
        for prior in loaded:
            prior.close()
    if error:
        raise error[0]
    _check(status)
    return Image(sharp.value), Image(residual.value), c.value


def psnr(reference, test, data_range=1.0):
    out = C.c_double()
    _check(_lib.diffevent_psnr(reference, test, data_range, C.byref(out)))
    return out.value


def ssim(reference, test, data_range=1.0):
    out = C.c_double()
    _check(_lib.diffevent_ssim(reference, test, data_range, C.byref(out)))
    return out.value
