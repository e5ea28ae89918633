"""Low-level ctypes declarations of libcustscore (include/custscore.h).

This module finds and loads the shared library (the header's structs are
mirrored in :mod:`custscore._types`) and declares every C function once, with its
``argtypes``, ``restype`` and an ``errcheck`` that turns a negative return
code into a :class:`custscore.Error` subclass carrying the C message (the
python-libarchive-c ``ffi.py`` pattern). The Pythonic API is built on top of
it (store.py, models.py, value.py); use this module directly only for what
that API does not cover.

Library discovery, first match wins:

1. ``$CUSTSCORE_LIBRARY``: a path to the library file;
2. a library placed next to this package (``libcustscore.so.0``,
   ``libcustscore.so``, ``libcustscore.dylib``, ``custscore.dll``);
3. the system: ``ctypes.util.find_library('custscore')``.

``ImportError`` lists what was tried. The run-time library's major version
must be :data:`WRITTEN_FOR_MAJOR`. Functions declared here but missing from
an older library are replaced by stubs raising :class:`custscore.Unavailable`;
:func:`available` tells which.

ctypes releases the GIL for the duration of every call into a ``CDLL``, so
long C calls (imports, fits, scoring) let other Python threads run.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from ctypes import POINTER, c_char_p, c_double, c_int, c_int64, c_size_t, c_void_p

from . import errors
from ._types import *  # noqa: F401,F403 - the constants, enums, structs, callbacks
from ._types import STRUCTS  # noqa: F401 - every struct mirror (the layout tests walk it)

#: The C API version these bindings were written for (CUSTSCORE_VERSION_*).
WRITTEN_FOR = (0, 1, 0)
WRITTEN_FOR_MAJOR = WRITTEN_FOR[0]


# ---------------------------------------------------------------------------
# Loading the library.

_HERE = os.path.dirname(os.path.abspath(__file__))
_LOCAL_NAMES = {"win32": ["custscore.dll", "libcustscore.dll"],
                "darwin": ["libcustscore.0.dylib", "libcustscore.dylib"]}.get(
                    sys.platform, ["libcustscore.so.0", "libcustscore.so"])


def _load():
    tried = []
    env = os.environ.get("CUSTSCORE_LIBRARY")
    candidates = []
    if env:
        candidates.append(("$CUSTSCORE_LIBRARY", env))
    else:
        tried.append("$CUSTSCORE_LIBRARY: not set")
    for name in _LOCAL_NAMES:
        candidates.append(("next to the package", os.path.join(_HERE, name)))
    found = ctypes.util.find_library("custscore")
    if found:
        candidates.append(("ctypes.util.find_library('custscore')", found))
    else:
        tried.append("ctypes.util.find_library('custscore'): not found")
    for origin, path in candidates:
        if origin == "next to the package" and not os.path.exists(path):
            tried.append("%s: %s: no such file" % (origin, path))
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as exc:
            tried.append("%s: %s: %s" % (origin, path, exc))
            if origin == "$CUSTSCORE_LIBRARY":
                # An explicit choice that fails is not silently replaced.
                break
    raise ImportError("custscore: cannot load libcustscore; tried:\n  " + "\n  ".join(tried) +
                      "\nBuild it (make build) and set CUSTSCORE_LIBRARY=/path/to/libcustscore.so.0,"
                      " install it (make install), or copy it next to the custscore package.")


_dll, LIBRARY_PATH = _load()

# ---------------------------------------------------------------------------
# Error checking. errcheck functions receive (result, func, args); args are
# the converted arguments as passed to C.


def _text(value):
    """A C string result: bytes before the function is declared, str after."""
    if value is None:
        return ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _errstr(code):
    return _text(_dll.custscore_errstr(code))


def _raise(code, message, name):
    cls = errors.error_class(code)
    raise cls(message or "%s: %s" % (name, _errstr(code)), code, name)


def _handle_of(arg):
    """The custscore* of an argument (a pointer, or byref() of one)."""
    obj = getattr(arg, "_obj", arg)
    if isinstance(obj, HandleP) and obj:
        return obj
    return None


def _check_handle(result, func, args):
    """int return, first argument a store handle: the message comes from
    custscore_errmsg() of that handle."""
    if result < 0:
        db = _handle_of(args[0]) if args else None
        text = _text(_dll.custscore_errmsg(db)) if db else ""
        _raise(result, text, func.__name__)
    return result


def _check_code(result, func, args):
    """int return of a pure function without an error buffer."""
    if result < 0:
        _raise(result, "%s: %s" % (func.__name__, _errstr(result)), func.__name__)
    return result


def _check_errbuf(index):
    """int return of a pure function that writes its message to args[index]."""
    def check(result, func, args):
        if result < 0:
            buf = args[index]
            text = buf.value.decode("utf-8", "replace") if buf is not None else ""
            _raise(result, text or "%s: %s" % (func.__name__, _errstr(result)), func.__name__)
        return result
    return check


def _check_open(result, func, args):
    """custscore_open(): the handle comes back through the out-pointer even on
    failure; read its message, close it, raise."""
    if result < 0:
        db = _handle_of(args[2])
        text = _text(_dll.custscore_errmsg(db)) if db else ""
        if db:
            _dll.custscore_close(db)
            # The caller's pointer must not outlive the handle: set it to NULL.
            ctypes.memset(ctypes.addressof(args[2]._obj), 0, ctypes.sizeof(HandleP))
        _raise(result, text, func.__name__)
    return result


def _check_string(result, func, args):
    """const char * return that must not be NULL."""
    if result is None:
        _raise(errors.InvalidInput.c_code, "%s: invalid argument" % func.__name__, func.__name__)
    return result.decode("utf-8", "replace")


def _check_string_any(result, func, args):
    """const char * return that is never NULL by contract (version, errstr...)."""
    return "" if result is None else result.decode("utf-8", "replace")


def _check_positive(result, func, args):
    """double return where 0 means an invalid argument (custscore_unit_days)."""
    if not result > 0:
        _raise(errors.InvalidInput.c_code, "%s: unknown value %r" % (func.__name__, args[0]),
               func.__name__)
    return result


def _check_none(result, func, args):
    """Functions that cannot fail (void, or a value that is never an error)."""
    return result


# ---------------------------------------------------------------------------
# The declarations: (name, restype, argtypes, errcheck). One line per C
# function of include/custscore.h, grouped by the header's sections.

_H = HandleP
_S = c_char_p
_D = c_double_p
_E = c_char_p  # error buffer: char *errbuf (a create_string_buffer)

FUNCTIONS = [
    # core
    ("custscore_version", c_char_p, [], _check_string_any),
    ("custscore_version_number", c_int, [], _check_none),
    ("custscore_errstr", c_char_p, [c_int], _check_string_any),
    ("custscore_errmsg", c_char_p, [_H], _check_string_any),
    ("custscore_errcode", c_int, [_H], _check_none),
    ("custscore_open", c_int, [_S, c_int, POINTER(_H)], _check_open),
    ("custscore_close", c_int, [_H], _check_code),
    ("custscore_busy_timeout", c_int, [_H, c_int], _check_handle),
    ("custscore_release_memory", c_int, [_H], _check_handle),
    # ingest
    ("custscore_begin", c_int, [_H], _check_handle),
    ("custscore_commit", c_int, [_H], _check_handle),
    ("custscore_rollback", c_int, [_H], _check_handle),
    ("custscore_add_customer", c_int, [_H, _S, c_int64], _check_handle),
    ("custscore_set_attribute", c_int, [_H, _S, _S, c_double], _check_handle),
    ("custscore_set_attribute_text", c_int, [_H, _S, _S, _S], _check_handle),
    ("custscore_add_order", c_int, [_H, POINTER(Order), c_int_p], _check_handle),
    ("custscore_add_response", c_int, [_H, _S, c_int64, _S, c_double], _check_handle),
    ("custscore_add_complaint", c_int, [_H, _S, c_int64, c_double, c_int64], _check_handle),
    ("custscore_import_csv", c_int,
     [_H, c_int, _S, POINTER(ImportOptions), POINTER(ImportReport)], _check_handle),
    ("custscore_import_csv_buffer", c_int,
     [_H, c_int, c_char_p, c_size_t, _S, POINTER(ImportOptions), POINTER(ImportReport)],
     _check_handle),
    # summary
    ("custscore_summary_one", c_int,
     [_H, _S, c_int64, POINTER(SummaryOptions), POINTER(Summary)], _check_handle),
    ("custscore_summary_each", c_int,
     [_H, c_int64, POINTER(SummaryOptions), SUMMARY_FN, c_void_p], _check_handle),
    ("custscore_customer_count", c_int, [_H, c_int64_p], _check_handle),
    # dates
    ("custscore_parse_time", c_int, [_S, _S, c_int64_p], _check_code),
    ("custscore_format_time", c_int, [c_int64, c_int, c_char_p, c_size_t], _check_code),
    ("custscore_unit_days", c_double, [c_int], _check_positive),
    # value
    ("custscore_quantile", c_int, [_D, c_size_t, c_double, _D], _check_code),
    ("custscore_score_bins", c_int, [_D, c_size_t, POINTER(BinOptions), c_int_p, _D],
     _check_code),
    ("custscore_segments_default", POINTER(SegmentRule), [c_size_t_p], _check_none),
    ("custscore_segment_match", c_int,
     [POINTER(SegmentRule), c_size_t, c_int, c_int, c_int], _check_none),
    ("custscore_segments_parse", c_int,
     [c_char_p, c_size_t, _S, POINTER(POINTER(Segments)), _E, c_size_t], _check_errbuf(4)),
    ("custscore_segments_load", c_int, [_S, POINTER(POINTER(Segments)), _E, c_size_t],
     _check_errbuf(2)),
    ("custscore_segments_free", None, [POINTER(Segments)], _check_none),
    ("custscore_rfm_score", c_int,
     [_D, _D, _D, c_size_t, POINTER(RfmOptions), c_int_p, c_int_p, c_int_p, c_int_p],
     _check_code),
    ("custscore_profit_rank", c_int, [_D, c_size_t, c_int64_p, _D], _check_code),
    ("custscore_whale_curve", c_int, [_D, c_size_t, c_size_t, _D, _D, POINTER(WhaleSummary)],
     _check_code),
    ("custscore_tier_count", c_int, [POINTER(TierOptions)], _check_code),
    ("custscore_tier_name", c_char_p, [POINTER(TierOptions), c_int], _check_string),
    ("custscore_tiers_assign", c_int, [_D, c_size_t, POINTER(TierOptions), c_int_p],
     _check_code),
    ("custscore_lifecycle_name", c_char_p, [c_int], _check_string_any),
    ("custscore_lifecycle_of", c_int,
     [c_int64_p, c_size_t, c_int64, POINTER(LifecycleOptions), c_int_p], _check_code),
    ("custscore_value_compute", c_int,
     [POINTER(OrderArrays), c_int64, POINTER(ValueOptions), POINTER(Value),
      POINTER(WhaleSummary), _E, c_size_t], _check_errbuf(5)),
    ("custscore_value_each", c_int, [_H, c_int64, POINTER(ValueOptions), VALUE_FN, c_void_p],
     _check_handle),
    ("custscore_value_write_csv", c_int, [_H, c_int64, POINTER(ValueOptions), _S],
     _check_handle),
    ("custscore_value_whale", c_int,
     [_H, c_int64, POINTER(ValueOptions), c_size_t, _D, _D, POINTER(WhaleSummary)],
     _check_handle),
    # lifetime value
    ("custscore_model_name", c_char_p, [c_int], _check_string),
    ("custscore_model_parse", c_int, [_S, c_int_p], _check_code),
    ("custscore_btyd_loglik", c_int,
     [POINTER(BtydParams), c_size_t, _D, _D, _D, _D, _D, _D], _check_code),
    ("custscore_btyd_gradient", c_int,
     [POINTER(BtydParams), c_size_t, _D, _D, _D, _D, _D], _check_code),
    ("custscore_btyd_p_alive", c_int, [POINTER(BtydParams), c_size_t, _D, _D, _D, _D],
     _check_code),
    ("custscore_btyd_expected", c_int, [POINTER(BtydParams), c_size_t, _D, _D], _check_code),
    ("custscore_btyd_conditional_expected", c_int,
     [POINTER(BtydParams), c_double, c_size_t, _D, _D, _D, _D], _check_code),
    ("custscore_btyd_pmf", c_int, [POINTER(BtydParams), c_double, c_size_t, _D], _check_code),
    ("custscore_btyd_p_no_purchase", c_int,
     [POINTER(BtydParams), c_double, c_size_t, _D, _D, _D, _D], _check_code),
    ("custscore_gg_loglik", c_int, [POINTER(GgParams), c_size_t, _D, _D, _D], _check_code),
    ("custscore_gg_gradient", c_int, [POINTER(GgParams), c_size_t, _D, _D, _D], _check_code),
    ("custscore_gg_expected_spend", c_int, [POINTER(GgParams), c_size_t, _D, _D, _D],
     _check_code),
    ("custscore_btyd_fit", c_int,
     [POINTER(FitOptions), c_size_t, _D, _D, _D, _D, POINTER(FitInfo), _E, c_size_t],
     _check_errbuf(7)),
    ("custscore_gg_fit", c_int,
     [POINTER(FitOptions), c_size_t, _D, _D, POINTER(FitInfo), _E, c_size_t],
     _check_errbuf(5)),
    ("custscore_fit", c_int, [_H, c_int64, POINTER(FitOptions), POINTER(FitInfo)],
     _check_handle),
    ("custscore_model_load", c_int, [_H, _S, POINTER(FitInfo)], _check_handle),
    ("custscore_clv_arrays", c_int,
     [POINTER(FitInfo), POINTER(FitInfo), POINTER(ClvOptions), c_size_t, _D, _D, _D, _D,
      _D, _D, _D, _D, _D, _D, POINTER(ClvInfo)], _check_code),
    ("custscore_clv_each", c_int,
     [_H, c_int64, POINTER(ClvOptions), CLV_FN, c_void_p, POINTER(ClvInfo)], _check_handle),
    ("custscore_clv_one", c_int,
     [_H, _S, c_int64, POINTER(ClvOptions), POINTER(ClvRow), POINTER(ClvInfo)],
     _check_handle),
    ("custscore_clv_margin_multiple", c_int, [c_double, c_double, c_double, _D], _check_code),
    ("custscore_holdout", c_int,
     [_H, c_int64, c_int64, POINTER(FitOptions), c_int, HOLDOUT_FN, c_void_p,
      POINTER(HoldoutReport)], _check_handle),
    ("custscore_holdout_free", None, [POINTER(HoldoutReport)], _check_none),
    # churn: logistic regression and classifier metrics
    ("custscore_logistic_fit", c_int,
     [_D, c_size_t, c_size_t, _D, _D, POINTER(LogisticOptions), _D, _D,
      POINTER(LogisticInfo), _E, c_size_t], _check_errbuf(9)),
    ("custscore_logistic_predict", c_int, [_D, c_size_t, c_size_t, _D, _D], _check_code),
    ("custscore_auc", c_int, [_D, _D, c_size_t, _D], _check_code),
    ("custscore_brier", c_int, [_D, _D, c_size_t, _D], _check_code),
    ("custscore_lift", c_int, [_D, _D, c_size_t, c_double, _D], _check_code),
    ("custscore_calibration", c_int, [_D, _D, c_size_t, c_size_t, POINTER(CalibrationBin)],
     _check_code),
    # satisfaction index: PLS engine
    ("custscore_pls_fit", c_int,
     [_D, c_size_t, c_size_t, POINTER(PlsModel), POINTER(PlsOptions),
      POINTER(POINTER(PlsResult)), _E, c_size_t], _check_errbuf(6)),
    ("custscore_pls_result_free", None, [POINTER(PlsResult)], _check_none),
    # satisfaction index: survey models
    ("custscore_survey_model_new", c_int, [_S, POINTER(SurveyModelP)], _check_code),
    ("custscore_survey_model_template", c_int, [_S, POINTER(SurveyModelP)], _check_code),
    ("custscore_survey_model_parse", c_int,
     [c_char_p, c_size_t, _S, POINTER(SurveyModelP), _E, c_size_t], _check_errbuf(4)),
    ("custscore_survey_model_format", c_int, [SurveyModelP, c_char_p, c_size_t, c_size_t_p],
     _check_code),
    ("custscore_survey_model_name", c_char_p, [SurveyModelP], _check_string),
    ("custscore_survey_model_add_construct", c_int, [SurveyModelP, _S, c_int], _check_code),
    ("custscore_survey_model_add_item", c_int,
     [SurveyModelP, _S, _S, c_double, c_double, c_int], _check_code),
    ("custscore_survey_model_add_path", c_int, [SurveyModelP, _S, _S], _check_code),
    ("custscore_survey_model_set_target", c_int, [SurveyModelP, _S], _check_code),
    ("custscore_survey_model_set_scale", c_int, [SurveyModelP, _S, c_double, c_double],
     _check_code),
    ("custscore_survey_model_set_nps_item", c_int, [SurveyModelP, _S], _check_code),
    ("custscore_survey_model_map_items", c_int, [SurveyModelP, _S, _E, c_size_t],
     _check_errbuf(2)),
    ("custscore_survey_model_free", None, [SurveyModelP], _check_none),
    ("custscore_survey_model_save", c_int, [_H, SurveyModelP], _check_handle),
    ("custscore_survey_model_load", c_int, [_H, _S, POINTER(SurveyModelP)], _check_handle),
    # satisfaction index: index, per-customer satisfaction, NPS
    ("custscore_csi_fit", c_int,
     [SurveyModelP, _D, c_size_t, c_size_t, POINTER(c_char_p), POINTER(c_char_p),
      POINTER(CsiOptions), POINTER(POINTER(CsiResult)), _E, c_size_t], _check_errbuf(8)),
    ("custscore_csi_compute", c_int,
     [_H, SurveyModelP, POINTER(CsiOptions), POINTER(POINTER(CsiResult))], _check_handle),
    ("custscore_csi_result_free", None, [POINTER(CsiResult)], _check_none),
    ("custscore_csi_customers", c_int,
     [_H, SurveyModelP, POINTER(CsiResult), c_int64, CSI_CUSTOMER_FN, c_void_p],
     _check_handle),
    ("custscore_nps", c_int, [_D, c_size_t, POINTER(NpsResult)], _check_code),
    # satisfaction index: SERVQUAL and Kano
    ("custscore_servqual_dimension_name", c_char_p, [c_int], _check_string),
    ("custscore_servqual", c_int,
     [_D, _D, c_size_t, c_size_t, c_int_p, _D, POINTER(POINTER(ServqualResult)), _E, c_size_t],
     _check_errbuf(7)),
    ("custscore_servqual_compute", c_int,
     [_H, _S, _D, POINTER(POINTER(ServqualResult))], _check_handle),
    ("custscore_servqual_result_free", None, [POINTER(ServqualResult)], _check_none),
    ("custscore_kano_category_name", c_char_p, [c_int], _check_string),
    ("custscore_kano_classify", c_int, [c_int, c_int], _check_code),
    ("custscore_kano", c_int,
     [_D, _D, c_size_t, c_size_t, POINTER(c_char_p), POINTER(POINTER(KanoResult)), _E,
      c_size_t], _check_errbuf(6)),
    ("custscore_kano_compute", c_int, [_H, _S, POINTER(POINTER(KanoResult))], _check_handle),
    ("custscore_kano_result_free", None, [POINTER(KanoResult)], _check_none),
    # churn risk: models on the store
    ("custscore_churn_train", c_int,
     [_H, c_int64, POINTER(ChurnOptions), POINTER(POINTER(ChurnCard))], _check_handle),
    ("custscore_churn_card_get", c_int, [_H, _S, POINTER(POINTER(ChurnCard))], _check_handle),
    ("custscore_churn_card_free", None, [POINTER(ChurnCard)], _check_none),
    ("custscore_churn_score_each", c_int,
     [_H, c_int64, POINTER(ChurnOptions), CHURN_FN, c_void_p], _check_handle),
    ("custscore_churn_band", c_char_p, [c_double, c_double, c_double], _check_string),
    # scoring everything: snapshots, changes
    ("custscore_value_quadrant_name", c_char_p, [c_int], _check_string_any),
    ("custscore_loyalty_quadrant_name", c_char_p, [c_int], _check_string_any),
    ("custscore_score_all", c_int,
     [_H, c_int64, POINTER(ScoreOptions), SCORE_FN, c_void_p, POINTER(ScoreInfo)],
     _check_handle),
    ("custscore_snapshots", c_int, [_H, c_int64_p, c_size_t, c_size_t_p], _check_handle),
    ("custscore_snapshot_get", c_int, [_H, _S, c_int64, POINTER(SnapshotRow)], _check_handle),
    ("custscore_changes", c_int, [_H, c_int64, c_int64, CHANGE_FN, c_void_p], _check_handle),
    # report
    ("custscore_report_html", c_int, [_H, c_int64, POINTER(ReportOptions), _S], _check_handle),
    # loyalty and retention
    ("custscore_retention_compute", c_int,
     [_H, c_int64, POINTER(RetentionOptions), POINTER(POINTER(Retention))], _check_handle),
    ("custscore_retention_free", None, [POINTER(Retention)], _check_none),
]

#: Names of every C function these bindings declare.
DECLARED = tuple(name for name, *_ in FUNCTIONS)


class _Lib:
    """Namespace of the declared C functions (attribute = C name)."""


lib = _Lib()
_AVAILABLE = set()


def _missing(name):
    def stub(*args, **kwargs):
        raise errors.Unavailable(
            "%s is not exported by the loaded libcustscore %s (%s); these bindings need a "
            "newer library" % (name, _version_string(), LIBRARY_PATH), None, name)
    stub.__name__ = name
    return stub


def _declare():
    for name, restype, argtypes, errcheck in FUNCTIONS:
        try:
            func = getattr(_dll, name)
        except AttributeError:
            setattr(lib, name, _missing(name))
            continue
        func.restype = restype
        func.argtypes = argtypes
        func.errcheck = errcheck
        setattr(lib, name, func)
        _AVAILABLE.add(name)


def _version_string():
    try:
        return _text(_dll.custscore_version())
    except Exception:  # pragma: no cover - a broken library
        return "?"


# custscore_errstr/errmsg are used by the error checks themselves: give them
# their types before anything else.
_dll.custscore_errstr.restype = c_char_p
_dll.custscore_errstr.argtypes = [c_int]
_dll.custscore_errmsg.restype = c_char_p
_dll.custscore_errmsg.argtypes = [HandleP]
_dll.custscore_close.argtypes = [HandleP]
_dll.custscore_close.restype = c_int
_declare()


def available(name: str) -> bool:
    """True when the loaded library exports the C function @p name."""
    return name in _AVAILABLE


def require(name: str) -> None:
    """Raise :class:`custscore.Unavailable` unless the C function is exported."""
    if name not in _AVAILABLE:
        getattr(lib, name)()


def _check_version():
    number = lib.custscore_version_number()
    major = number // 10000
    if major != WRITTEN_FOR_MAJOR:
        raise ImportError(
            "custscore: the bindings were written for libcustscore %d.x, but %s is version %s"
            % (WRITTEN_FOR_MAJOR, LIBRARY_PATH, lib.custscore_version()))
    return number


LIBRARY_VERSION_NUMBER = _check_version()
LIBRARY_VERSION = lib.custscore_version()


def errstr(code: int) -> str:
    """Generic text of a C error code (custscore_errstr)."""
    return lib.custscore_errstr(code)
