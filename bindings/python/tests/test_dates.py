"""Dates: datetime, date, ISO strings, epoch numbers, numpy/pandas times."""

import datetime as dt

import pytest

import custscore
from conftest import needs_numpy, needs_pandas

UTC = dt.timezone.utc
JAN1 = 1704067200  # 2024-01-01T00:00:00Z


@pytest.mark.parametrize("value", [
    "2024-01-01", "2024-01-01T00:00:00Z", "2024-01-01 00:00", "20240101", "@1704067200",
    "1704067200", b"2024-01-01", dt.date(2024, 1, 1), dt.datetime(2024, 1, 1),
    dt.datetime(2024, 1, 1, tzinfo=UTC),
    dt.datetime(2024, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    JAN1, float(JAN1), JAN1 + 0.75,
])
def test_to_time(value):
    assert custscore.to_time(value) == JAN1


def test_bad_dates():
    for bad in ("2023-02-30", "yesterday", ""):
        with pytest.raises(custscore.InvalidInput):
            custscore.to_time(bad)
    with pytest.raises(custscore.InvalidInput):
        custscore.to_time(float("nan"))
    with pytest.raises(custscore.InvalidInput):
        custscore.to_time(None)
    with pytest.raises(TypeError):
        custscore.to_time(True)
    with pytest.raises(TypeError):
        custscore.to_time([2024])


def test_parse_time_with_format():
    assert custscore.parse_time("01/02/2024 13:30", "%d/%m/%Y %H:%M") == \
        custscore.to_time("2024-02-01T13:30:00Z")
    assert custscore.parse_time(20240101) == JAN1
    with pytest.raises(custscore.InvalidInput):
        custscore.parse_time("2024-01-01", "%d/%m/%Y")


def test_format_and_from_time():
    assert custscore.format_time(JAN1) == "2024-01-01"
    assert custscore.format_time(JAN1 + 3661) == "2024-01-01T01:01:01Z"
    assert custscore.format_time(JAN1 + 3661, date_only=True) == "2024-01-01"
    assert custscore.format_time(dt.date(2024, 1, 1)) == "2024-01-01"
    assert custscore.from_time(JAN1) == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert custscore.from_time(0) is None


def test_format_time_buffer_too_small_is_out_of_range():
    import ctypes
    buf = ctypes.create_string_buffer(4)
    with pytest.raises(custscore.OutOfRange):
        custscore._ffi.lib.custscore_format_time(JAN1, 0, buf, len(buf))


def test_unit_days():
    assert custscore.unit_days("day") == 1
    assert custscore.unit_days("week") == 7
    assert custscore.unit_days("month") == 30.436875
    assert custscore.unit_days("YEAR") == 365.2425
    assert custscore.unit_days(2) == 7
    with pytest.raises(custscore.InvalidInput):
        custscore.unit_days("fortnight")
    with pytest.raises(custscore.InvalidInput):
        custscore._ffi.lib.custscore_unit_days(99)


@needs_numpy
def test_numpy_datetime64():
    import numpy as np
    assert custscore.to_time(np.datetime64("2024-01-01")) == JAN1
    assert custscore.to_time(np.datetime64("2024-01-01T00:00:00.5")) == JAN1
    assert custscore.to_time(np.int64(JAN1)) == JAN1
    with pytest.raises(custscore.InvalidInput):
        custscore.to_time(np.datetime64("NaT"))


@needs_pandas
def test_pandas_timestamp():
    import pandas as pd
    assert custscore.to_time(pd.Timestamp("2024-01-01")) == JAN1
    assert custscore.to_time(pd.Timestamp("2024-01-01 02:00", tz="Europe/Berlin")) == JAN1 + 3600


def test_version_functions():
    assert custscore.library_version().count(".") == 2
    assert custscore.library_version_number() >= 100
    assert custscore.__version__ == "%d.%d.%d" % custscore._ffi.WRITTEN_FOR
    assert custscore.errstr(-1)
    assert custscore.errstr(-999) == "unknown error"
