"""custscore: customer value, lifetime value, satisfaction index and churn
risk, from Python (ctypes bindings of libcustscore).

>>> import custscore
>>> with custscore.open("shop.db") as store:
...     store.import_csv("orders", "orders.csv")
...     rows = store.summary("2026-01-01", unit="week")

Modules: :mod:`custscore.store` (the :class:`Store`), :mod:`custscore.models`
(BTYD, Gamma-Gamma, CLV, logistic regression and metrics over arrays),
:mod:`custscore.value` (RFM, segments, whale curve, tiers, lifecycle over
arrays), :mod:`custscore.errors`, :mod:`custscore.results` (dataclasses) and
:mod:`custscore._ffi` (the raw ctypes declarations). See docs/python.md.

The shared library is found through ``$CUSTSCORE_LIBRARY``, then next to
this package, then the system; see :mod:`custscore._ffi`.
"""

from . import _ffi
from ._convert import format_time, from_time, to_time
from .errors import (Busy, Closed, Corrupt, Error, IOFailure, InternalError, InvalidInput,
                     NoConvergence, NoModel, NotFound, OutOfMemory, OutOfRange, ReadOnly,
                     SchemaTooNew, Unavailable)
from .results import (AddReport, CalibrationBin, ClvArrays, ClvInfo, ClvRow, FitResult,
                      HoldoutCustomer, HoldoutReport, HoldoutRow, ImportReport, LogisticFit,
                      Rejection, Results, RfmScores, SegmentRule, Summary, Value, WhaleCurve,
                      WhaleSummary, Cohort, PeriodStats, RetentionReport)
from .store import Store, open  # noqa: A004
from . import churn, csi, models, scoring, value  # noqa: E402
from .csi import SurveyModel  # noqa: E402

#: Version of these bindings (the C API version they were written for).
__version__ = "%d.%d.%d" % _ffi.WRITTEN_FOR

#: Path of the loaded shared library.
LIBRARY_PATH = _ffi.LIBRARY_PATH


def library_version() -> str:
    """Version of the loaded libcustscore, "MAJOR.MINOR.PATCH"."""
    return _ffi.lib.custscore_version()


def library_version_number() -> int:
    """Version of the loaded libcustscore as MAJOR*10000 + MINOR*100 + PATCH."""
    return _ffi.lib.custscore_version_number()


def errstr(code: int) -> str:
    """Generic description of a C error code (custscore_errstr)."""
    return _ffi.lib.custscore_errstr(int(code))


def unit_days(unit) -> float:
    """Length of a time unit in days: "day" 1, "week" 7, "month" 30.436875
    (365.2425 / 12, never a hidden 30-day month), "year" 365.2425."""
    from ._convert import unit as _unit
    return _ffi.lib.custscore_unit_days(_unit(unit))


def parse_time(text, format=None) -> int:  # noqa: A002
    """Parse a date/time text (ISO 8601, YYYYMMDD, Unix seconds, or the
    strptime-style @p format) to Unix seconds, UTC, as the library does."""
    return to_time(text if isinstance(text, (str, bytes)) else str(text), "date", format)


def available(name: str) -> bool:
    """True when the loaded library exports the C function @p name (e.g.
    "custscore_fit"); a newer binding on an older library raises
    :class:`Unavailable` for the others."""
    return _ffi.available(name)


__all__ = [
    "open", "Store", "models", "value", "csi", "churn", "scoring", "SurveyModel", "library_version", "library_version_number",
    "errstr", "unit_days", "parse_time", "format_time", "to_time", "from_time", "available",
    "LIBRARY_PATH", "__version__",
    "Error", "InvalidInput", "OutOfMemory", "IOFailure", "Busy", "Corrupt", "NotFound",
    "NoModel", "NoConvergence", "SchemaTooNew", "ReadOnly", "OutOfRange", "InternalError",
    "Unavailable", "Closed",
    "Results", "ImportReport", "Rejection", "AddReport", "Summary", "Value", "WhaleSummary",
    "WhaleCurve", "SegmentRule", "RfmScores", "FitResult", "ClvRow", "ClvInfo", "ClvArrays",
    "HoldoutRow", "HoldoutCustomer", "HoldoutReport", "LogisticFit", "CalibrationBin",
    "Cohort", "PeriodStats", "RetentionReport",
]
