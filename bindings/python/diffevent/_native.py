"""The C library and its declarations: finding and loading libdiffevent_c.so.1, the parameter
structs mirrored from diffevent.h (checked against the library's struct_size), the function
signatures, and turning a failed status into DiffeventError."""
import ctypes as C
import os

_SONAME = "libdiffevent_c.so.1"


def _candidates():
    """(path, where it came from) in the order tried."""
    env = os.environ.get("DIFFEVENT_LIBRARY")
    if env:
        return [(env, "DIFFEVENT_LIBRARY")]
    found = []
    try:
        from . import _install  # written by `cmake --install` beside this file
        here = os.path.dirname(os.path.abspath(__file__))
        found.append((os.path.normpath(os.path.join(here, _install.RELATIVE_LIBDIR, _SONAME)),
                      "the install this package sits in"))
        found.append((os.path.join(_install.LIBDIR, _SONAME), "the install this package was copied from"))
    except ImportError:
        pass
    found.append((_SONAME, "the system loader"))
    return found


def _load():
    tried = []
    for path, where in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(f"{path} ({where}): no such file")
            continue
        try:
            return C.CDLL(path)
        except OSError as e:
            tried.append(f"{path} ({where}): {e}")
    raise ImportError("diffevent: the C library libdiffevent_c.so.1 was not found; tried " + "; ".join(tried) +
                      ". Install diffevent (cmake --install BUILD --prefix PREFIX), then "
                      "pip install PREFIX/share/diffevent/python/diffevent-*.whl, or set DIFFEVENT_LIBRARY to the library's path")


_lib = _load()
_status = C.c_int32
_progress_fn = C.CFUNCTYPE(C.c_int32, C.c_void_p, C.c_int64, C.c_int64)


class DiffeventError(RuntimeError):
    """A failed C API call: .status (int), .status_name and the message."""

    def __init__(self, status, message):
        self.status = status
        self.status_name = _lib.diffevent_status_name(status).decode()
        super().__init__(f"{self.status_name}: {message}")


class _EdiParams(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("has_exposure", C.c_int32), ("exposure_t0_us", C.c_int64),
                ("exposure_t1_us", C.c_int64), ("has_tau", C.c_int32), ("linearize_srgb", C.c_int32),
                ("tau_us", C.c_int64), ("c_pos", C.c_double), ("c_neg", C.c_double),
                ("c_pos_map", C.POINTER(C.c_float)), ("c_neg_map", C.POINTER(C.c_float)),
                ("min_integral", C.c_double)]


class _DeblurParams(C.Structure):
    # API version 7: the EDI parameters by pointer (diffevent.h).
    _fields_ = [("struct_size", C.c_uint32), ("steps", C.c_int32), ("edi", C.POINTER(_EdiParams)),
                ("auto_threshold", C.c_int32), ("enhancer_kind", C.c_int32), ("enhancer_path", C.c_char_p),
                ("guided_radius", C.c_int32), ("guidance", C.c_int32), ("guided_eps", C.c_double),
                ("respacing", C.c_char_p), ("ddim", C.c_int32), ("variance", C.c_int32), ("eta", C.c_double),
                ("s", C.c_double), ("s_r", C.c_double), ("lambda_tv", C.c_double), ("lambda_l1", C.c_double),
                ("min_prior_variance", C.c_double), ("clip", C.c_int32), ("tile_size", C.c_int32),
                ("tile_stride", C.c_int32), ("integral", C.c_int32), ("tile_above_pixels", C.c_int64),
                ("seed", C.c_uint64), ("progress", _progress_fn), ("progress_user_data", C.c_void_p),
                ("start", C.c_double), ("threshold_sigma", C.c_double), ("samples", C.c_int32),
                ("antithetic", C.c_int32), ("residual_prior", C.c_int32), ("reserved0", C.c_int32),
                ("reserved_layout", C.c_uint64 * 10), ("start_threshold", C.c_double),
                ("robust_residual", C.c_double), ("start_threshold_max", C.c_double)]


class _EventsInfo(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("width", C.c_int32), ("height", C.c_int32), ("format", C.c_int32),
                ("size_inferred", C.c_int32), ("has_image", C.c_int32), ("count", C.c_uint64),
                ("count_on", C.c_uint64), ("t_begin_us", C.c_int64), ("t_end_us", C.c_int64),
                ("exposure_count", C.c_uint64), ("threshold_pos", C.c_double), ("threshold_neg", C.c_double)]


class _ThresholdParams(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("num_times", C.c_int32), ("c_min", C.c_double),
                ("c_max", C.c_double), ("tolerance", C.c_double), ("lambda_tv", C.c_double)]


class _ThresholdEstimate(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("evaluations", C.c_int32), ("c", C.c_double),
                ("energy", C.c_double), ("at_bound", C.c_int32), ("reserved0", C.c_int32),
                ("std_error", C.c_double)]


class _SensorThresholdParams(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("block_px", C.c_int32), ("max_motion_px", C.c_double),
                ("min_peak", C.c_double), ("gradient_quantile", C.c_double), ("c_min", C.c_double),
                ("c_max", C.c_double), ("reference_at_start", C.c_int32), ("reserved0", C.c_int32)]


class _SensorThresholdEstimate(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("blocks", C.c_int32), ("c", C.c_double), ("std_error", C.c_double),
                ("pixels", C.c_int64), ("motion_px", C.c_double), ("at_bound", C.c_int32), ("reserved0", C.c_int32),
                ("c_pos", C.c_double), ("c_neg", C.c_double), ("pixels_pos", C.c_int64), ("pixels_neg", C.c_int64)]


class _ReadParams(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("format", C.c_int32), ("sort_if_unsorted", C.c_int32),
                ("width", C.c_int32), ("height", C.c_int32), ("time_shift", C.c_int32), ("swap_xy", C.c_int32),
                ("float_time_is_seconds", C.c_int32), ("progress", C.c_void_p), ("progress_user_data", C.c_void_p),
                ("max_events", C.c_uint64)]


class _ImageReadParams(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("reserved0", C.c_int32), ("max_pixels", C.c_int64),
                ("max_side", C.c_int64)]


class _RecordingParams(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("format", C.c_int32), ("width", C.c_int32), ("height", C.c_int32),
                ("exposure_us", C.c_int64), ("max_events", C.c_uint64)]


class _PriorParams(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("half_precision", C.c_int32), ("device", C.c_char_p),
                ("intra_op_threads", C.c_int32), ("keep_malloc_settings", C.c_int32)]


class _IngestParams(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("polarity_encoding", C.c_int32), ("sort_if_unsorted", C.c_int32)]


def _sig(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype, f.argtypes = restype, list(argtypes)


_P = C.c_void_p
_PP = C.POINTER(C.c_void_p)
_sig("diffevent_version_string", C.c_char_p)
_sig("diffevent_recording_params_init", None, C.POINTER(_RecordingParams))
_sig("diffevent_prior_params_init", None, C.POINTER(_PriorParams))
_sig("diffevent_recording_open", _status, _P, C.c_char_p, C.POINTER(_RecordingParams), _PP)
_sig("diffevent_recording_destroy", None, _P)
_sig("diffevent_recording_info", _status, _P, C.POINTER(C.c_uint64), C.POINTER(C.c_int32), C.POINTER(C.c_int32))
_sig("diffevent_recording_layout", C.c_char_p, _P)
_sig("diffevent_recording_frame", _status, _P, C.c_uint64, C.POINTER(C.c_int64), C.POINTER(C.c_int64), C.c_char_p,
     C.c_size_t)
_sig("diffevent_recording_image", _status, _P, _P, C.c_uint64, _PP)
_sig("diffevent_recording_events", _status, _P, _P, C.c_uint64, _PP)
_sig("diffevent_recording_events_between", _status, _P, _P, C.c_int64, C.c_int64, _PP)
_sig("diffevent_has_torch", C.c_int32)
_sig("diffevent_last_error", C.c_char_p)
_sig("diffevent_status_name", C.c_char_p, _status)
_sig("diffevent_context_create", _status, _P, _PP)
_sig("diffevent_context_destroy", None, _P)
_sig("diffevent_context_cancel", _status, _P)
_sig("diffevent_context_reset_cancel", _status, _P)
_sig("diffevent_image_create", _status, C.c_int32, C.c_int32, C.c_int32, C.POINTER(C.c_float), _PP)
_sig("diffevent_image_read", _status, C.c_char_p, _PP)
_sig("diffevent_image_read_params_init", None, C.POINTER(_ImageReadParams))
_sig("diffevent_image_read_with_params", _status, C.c_char_p, C.POINTER(_ImageReadParams), _PP)
_sig("diffevent_read_params_init", None, C.POINTER(_ReadParams))
_sig("diffevent_image_write", _status, _P, C.c_char_p, C.c_int32)
_sig("diffevent_image_destroy", None, _P)
_sig("diffevent_image_shape", _status, _P, C.POINTER(C.c_int32), C.POINTER(C.c_int32), C.POINTER(C.c_int32))
_sig("diffevent_image_copy_data", _status, _P, C.POINTER(C.c_float), C.c_size_t)
_sig("diffevent_psnr", _status, _P, _P, C.c_double, C.POINTER(C.c_double))
_sig("diffevent_ssim", _status, _P, _P, C.c_double, C.POINTER(C.c_double))
_sig("diffevent_events_read", _status, _P, C.c_char_p, _P, _PP)
_sig("diffevent_ingest_params_init", None, C.POINTER(_IngestParams))
_sig("diffevent_events_from_arrays", _status, C.c_int32, C.c_int32, C.POINTER(C.c_int64), C.POINTER(C.c_uint16),
     C.POINTER(C.c_uint16), C.POINTER(C.c_int8), C.c_size_t, C.POINTER(_IngestParams), _PP)
_sig("diffevent_events_destroy", None, _P)
_sig("diffevent_events_info_init", None, C.POINTER(_EventsInfo))
_sig("diffevent_events_info_get", _status, _P, C.POINTER(_EventsInfo))
_sig("diffevent_events_copy_arrays", _status, _P, C.POINTER(C.c_int64), C.POINTER(C.c_uint16),
     C.POINTER(C.c_uint16), C.POINTER(C.c_int8), C.c_size_t)
_sig("diffevent_edi_params_init", None, C.POINTER(_EdiParams))
_sig("diffevent_edi_deblur", _status, _P, _P, _P, C.POINTER(_EdiParams), _PP)
_sig("diffevent_threshold_params_init", None, C.POINTER(_ThresholdParams))
_sig("diffevent_threshold_estimate_init", None, C.POINTER(_ThresholdEstimate))
_sig("diffevent_estimate_threshold", _status, _P, _P, _P, C.POINTER(_EdiParams), C.POINTER(_ThresholdParams),
     C.POINTER(_ThresholdEstimate))
_sig("diffevent_sensor_threshold_params_init", None, C.POINTER(_SensorThresholdParams))
_sig("diffevent_sensor_threshold_estimate_init", None, C.POINTER(_SensorThresholdEstimate))
_sig("diffevent_estimate_sensor_threshold", _status, _P, _P, _P, C.POINTER(_EdiParams),
     C.POINTER(_SensorThresholdParams), C.POINTER(_SensorThresholdEstimate))
_sig("diffevent_deblur_params_init", None, C.POINTER(_DeblurParams))
_sig("diffevent_deblur_params_init_preset", _status, C.POINTER(_DeblurParams), C.c_int32)
_sig("diffevent_deblur", _status, _P, _P, _P, _P, _P, C.POINTER(_DeblurParams), _PP, _PP, C.POINTER(C.c_double))
_sig("diffevent_prior_load", _status, _P, C.c_char_p, _P, _PP)
_sig("diffevent_prior_load_shipped", _status, _P, C.c_int32, C.c_int32, _P, _PP)
_sig("diffevent_shipped_prior_path", _status, C.c_int32, C.c_int32, C.c_char_p, C.c_size_t, C.POINTER(C.c_size_t))
_sig("diffevent_prior_destroy", None, _P)


def _check(status):
    if status != 0:
        raise DiffeventError(status, _lib.diffevent_last_error().decode(errors="replace"))


def _init(struct_type, init_name):
    """A parameter struct filled by the library's _init, checked against our layout."""
    p = struct_type()
    getattr(_lib, init_name)(C.byref(p))
    if p.struct_size != C.sizeof(struct_type):
        raise DiffeventError(7, f"{struct_type.__name__}: the library's struct has {p.struct_size} bytes, "
                                f"this binding's {C.sizeof(struct_type)} (version mismatch)")
    return p
