"""Conversions between Python values and the C API's types: dates, strings,
enum names and arrays (numpy when installed, else ctypes arrays and lists)."""

from __future__ import annotations

import calendar
import ctypes
import datetime as _dt
import math
import numbers
import os
from ctypes import c_double, c_int, c_int64

from . import _ffi
from .errors import InvalidInput

try:  # optional
    import numpy as np
except ImportError:  # pragma: no cover - exercised when numpy is absent
    np = None

UTC = _dt.timezone.utc
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = _dt.datetime(1970, 1, 1)

# ---------------------------------------------------------------------------
# Strings


def cstr(value, what="string", allow_none=True):
    """str/bytes/PathLike -> NUL-free UTF-8 bytes for a const char * argument."""
    if value is None:
        if allow_none:
            return None
        raise InvalidInput("%s: required" % what, -1)
    if isinstance(value, os.PathLike):
        value = os.fsencode(value)
    elif isinstance(value, str):
        value = value.encode("utf-8")
    elif not isinstance(value, (bytes, bytearray)):
        raise TypeError("%s: expected str, got %s" % (what, type(value).__name__))
    value = bytes(value)
    if b"\0" in value:
        # ctypes would silently cut the string at the NUL.
        raise InvalidInput("%s: %r: contains a NUL character" % (what, value), -1)
    return value


def key(value, what="customer"):
    """A customer key (or other key) given as str, bytes or an integer."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = str(int(value))
    return cstr(value, what, allow_none=False)


def pystr(value):
    """const char * from C (bytes or None) -> str or None."""
    return None if value is None else value.decode("utf-8", "replace")


def path_arg(value, what="path"):
    return cstr(os.fspath(value) if isinstance(value, os.PathLike) else value, what,
                allow_none=False)

# ---------------------------------------------------------------------------
# Enums: accept the short names of the CLI (case-insensitive) or the C value.


def enum(value, table, what):
    if isinstance(value, str):
        try:
            return table[value.lower()]
        except KeyError:
            raise InvalidInput("%s: %r: expected one of %s" % (what, value, ", ".join(table)),
                               -1) from None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and \
            int(value) in table.values():
        return int(value)
    raise InvalidInput("%s: %r: expected one of %s" % (what, value, ", ".join(table)), -1)


def enum_name(value, table):
    for name, number in table.items():
        if number == value:
            return name
    return str(value)


def unit(value, what="unit"):
    return enum(value, _ffi.UNIT, what)

# ---------------------------------------------------------------------------
# Dates and times: Unix seconds (int64, UTC) in C.


def to_time(value, what="date", fmt=None):
    """Unix seconds (UTC) from a datetime, date, ISO 8601 / YYYYMMDD string
    (parsed by custscore_parse_time, or with the strptime-style @p fmt), an
    epoch number, numpy.datetime64 or pandas.Timestamp. Naive datetimes are
    taken as UTC, as the C library takes local times without a zone."""
    if value is None:
        raise InvalidInput("%s: required" % what, -1)
    if isinstance(value, bool):
        raise TypeError("%s: expected a date, got bool" % what)
    if isinstance(value, _dt.datetime):
        offset = value.utcoffset()
        naive = value.replace(tzinfo=None)
        if offset:
            naive = naive - offset
        # Floor division: whole seconds, also before 1970 (and pandas
        # Timestamps, whose utctimetuple() is broken for pytz zones).
        return int((naive - _NAIVE_EPOCH) // _dt.timedelta(seconds=1))
    if isinstance(value, _dt.date):
        return calendar.timegm(value.timetuple())
    if isinstance(value, (str, bytes)):
        out = c_int64()
        text = cstr(value, what, allow_none=False)
        try:
            _ffi.lib.custscore_parse_time(text, cstr(fmt, "date format"), ctypes.byref(out))
        except InvalidInput as exc:
            raise InvalidInput("%s: %r: not a date (ISO 8601 YYYY-MM-DD[THH:MM[:SS]][Z], "
                               "YYYYMMDD, Unix seconds%s)" %
                               (what, pystr(text), ", or the format %r" % fmt if fmt else ""),
                               exc.code, exc.function) from None
        return out.value
    if np is not None and isinstance(value, np.datetime64):
        if np.isnat(value):
            raise InvalidInput("%s: NaT is not a date" % what, -1)
        return int(value.astype("datetime64[s]").astype(np.int64))
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise InvalidInput("%s: %r: not a finite epoch time" % (what, value), -1)
        return math.floor(value)
    raise TypeError("%s: expected datetime, date, str or a number, got %s"
                    % (what, type(value).__name__))


def opt_time(value, what="date"):
    """As to_time(), with None (or 0) meaning 0 ("unknown" in the C API)."""
    return 0 if value is None else to_time(value, what)


def from_time(seconds):
    """Unix seconds -> aware UTC datetime; None for 0 ("none" in the C API)."""
    if not seconds:
        return None
    return _EPOCH + _dt.timedelta(seconds=int(seconds))


def from_epoch0():
    """1970-01-01 as an aware datetime (a real time 0, not "none")."""
    return _EPOCH


def format_time(seconds, date_only=False):
    """ISO 8601 text of Unix seconds, as the library formats it
    ("YYYY-MM-DD" at midnight or with date_only, else "YYYY-MM-DDTHH:MM:SSZ")."""
    buf = ctypes.create_string_buffer(32)
    _ffi.lib.custscore_format_time(to_time(seconds), 1 if date_only else 0, buf, len(buf))
    return buf.value.decode()

# ---------------------------------------------------------------------------
# Arrays. Inputs are converted without copying when they already are
# contiguous float64 (numpy) or a writable buffer of doubles; outputs are
# numpy arrays when numpy is installed, else lists.


class DoubleArray:
    """A C double array view of a Python sequence; keeps the storage alive."""

    __slots__ = ("ptr", "n", "keep")

    def __init__(self, values, what, ctype=c_double, numpy_dtype="float64"):
        if np is not None and not isinstance(values, (bytes, str)):
            arr = np.ascontiguousarray(values, dtype=numpy_dtype)
            if arr.ndim == 0:
                arr = arr.reshape(1)
            elif arr.ndim != 1:
                arr = arr.reshape(-1)
            self.keep = arr
            self.n = arr.size
            self.ptr = arr.ctypes.data_as(ctypes.POINTER(ctype))
            return
        if isinstance(values, numbers.Real):
            values = [values]
        try:
            mv = memoryview(values)
        except TypeError:
            mv = None
        if mv is not None and mv.format == ctype._type_ and mv.contiguous and not mv.readonly:
            arr = (ctype * (mv.nbytes // ctypes.sizeof(ctype))).from_buffer(values)
        else:
            try:
                seq = list(values)
                arr = (ctype * len(seq))(*seq)
            except TypeError as exc:
                raise TypeError("%s: expected a sequence of numbers (%s)" % (what, exc)) from None
        self.keep = arr
        self.n = len(arr)
        self.ptr = ctypes.cast(arr, ctypes.POINTER(ctype))


def doubles(values, what="values"):
    return DoubleArray(values, what)


def int64s(values, what="values"):
    return DoubleArray(values, what, c_int64, "int64")


def is_scalar(value):
    return isinstance(value, numbers.Real) or (np is not None and np.ndim(value) == 0
                                               and not isinstance(value, (str, bytes)))


def vectors(*values, names=()):
    """Convert several per-customer inputs to double arrays of one length n;
    scalars are repeated. Returns (arrays, n, all_scalar)."""
    all_scalar = all(is_scalar(v) for v in values)
    lengths = {len(v) if not is_scalar(v) else None for v in values} - {None}
    if len(lengths) > 1:
        raise InvalidInput("arrays of different lengths: %s" % ", ".join(
            "%s=%d" % (name, len(v)) for name, v in zip(names, values) if not is_scalar(v)), -1)
    n = lengths.pop() if lengths else 1
    out = []
    for i, v in enumerate(values):
        what = names[i] if i < len(names) else "array"
        if is_scalar(v):
            if np is not None:
                out.append(doubles(np.full(n, float(v)), what))
            else:
                out.append(doubles([float(v)] * n, what))
        else:
            out.append(doubles(v, what))
    return out, n, all_scalar


def optional_doubles(values, n, what):
    if values is None:
        return None
    arr = doubles(values, what)
    if arr.n != n:
        raise InvalidInput("%s: %d values for %d customers" % (what, arr.n, n), -1)
    return arr


class Out:
    """An output array of n C values (double, int or int64)."""

    __slots__ = ("ptr", "n", "keep")

    def __init__(self, n, ctype=c_double):
        if np is not None:
            dtype = {c_double: np.float64, c_int: np.intc, c_int64: np.int64}[ctype]
            arr = np.empty(n, dtype=dtype)
            self.ptr = arr.ctypes.data_as(ctypes.POINTER(ctype))
        else:
            arr = (ctype * n)()
            self.ptr = ctypes.cast(arr, ctypes.POINTER(ctype))
        self.keep = arr
        self.n = n

    def value(self, scalar=False):
        if scalar:
            v = self.keep[0]
            return v.item() if hasattr(v, "item") else v
        if np is not None:
            return self.keep
        return list(self.keep)


def ptr(arr):
    """The C pointer of a DoubleArray/Out, or None."""
    return None if arr is None else arr.ptr

# ---------------------------------------------------------------------------
# Tables (pandas DataFrames, optional)


def is_dataframe(obj):
    """True for a pandas DataFrame (without importing pandas)."""
    cls = type(obj)
    return cls.__name__ == "DataFrame" and cls.__module__.startswith("pandas")


def is_missing(value):
    """None, NaN, NaT or pandas.NA."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd
    except ImportError:
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _time_column(series):
    """A DataFrame column of times -> list of Unix seconds (vectorised for
    datetime64 columns, else per value through to_time())."""
    import pandas as pd
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        if series.isna().any():
            raise InvalidInput("ts: missing date (NaT) in the DataFrame", -1)
        return series.to_numpy().astype("datetime64[s]").astype("int64").tolist()
    return [to_time(v, "ts") for v in series.tolist()]


def dataframe_orders(frame):
    """Order rows (customer, order_key, ts, revenue, cost) of a DataFrame with
    columns customer, order (or order_key), ts, revenue (or quantity and
    price), cost (optional)."""
    columns = set(frame.columns)
    for required in ("customer", "ts"):
        if required not in columns:
            raise InvalidInput("orders DataFrame: column %r missing (columns: %s)"
                               % (required, ", ".join(map(str, frame.columns))), -1)
    n = len(frame)
    customers = frame["customer"].tolist()
    order_col = "order" if "order" in columns else "order_key" if "order_key" in columns else None
    orders = frame[order_col].tolist() if order_col else [None] * n
    ts = _time_column(frame["ts"])
    if "revenue" in columns:
        revenue = frame["revenue"].astype("float64").tolist()
    elif "quantity" in columns and "price" in columns:
        revenue = (frame["quantity"].astype("float64") * frame["price"].astype("float64")).tolist()
    else:
        raise InvalidInput("orders DataFrame: column 'revenue' (or 'quantity' and 'price') "
                           "missing", -1)
    cost = frame["cost"].tolist() if "cost" in columns else [None] * n
    return zip(customers, orders, ts, revenue, cost)
