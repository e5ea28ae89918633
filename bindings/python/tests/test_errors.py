"""Every exception type, provoked for real through the C library where the
library can be made to fail that way."""

import os
import sqlite3
import subprocess
import sys
import time

import pytest

import custscore
from custscore import _ffi
from conftest import BINDINGS, requires


def test_hierarchy():
    for cls in (custscore.InvalidInput, custscore.OutOfMemory, custscore.IOFailure,
                custscore.Busy, custscore.Corrupt, custscore.NotFound, custscore.NoModel,
                custscore.NoConvergence, custscore.SchemaTooNew, custscore.ReadOnly,
                custscore.OutOfRange, custscore.InternalError, custscore.Unavailable,
                custscore.Closed):
        assert issubclass(cls, custscore.Error)
    assert issubclass(custscore.InvalidInput, ValueError)
    assert issubclass(custscore.IOFailure, OSError)
    assert issubclass(custscore.NotFound, LookupError)
    assert issubclass(custscore.OutOfMemory, MemoryError)
    assert issubclass(custscore.OutOfRange, custscore.InvalidInput)


def test_error_carries_message_code_function(store):
    with pytest.raises(custscore.NotFound) as info:
        store.summary_one("nobody", "2024-01-01")
    err = info.value
    assert err.code == -6 and err.function == "custscore_summary_one"
    assert "nobody" in err.message and str(err) == err.message


def test_iofailure_is_an_oserror_with_the_message(tmp_path):
    err = custscore.IOFailure("disk full", -3, "f")
    assert str(err) == "disk full" and err.code == -3 and err.errno is None


def test_invalid_input_bad_csv_has_file_and_line(tmp_path, store):
    path = tmp_path / "orders.csv"
    path.write_text("customer,ts,revenue\nx,2024-01-01,12\ny,2024-13-45,3\n")
    with pytest.raises(custscore.InvalidInput) as info:
        store.import_csv("orders", path)
    assert "%s:3:" % path in str(info.value)


def test_not_found_missing_file_and_store(tmp_path, store):
    with pytest.raises(custscore.NotFound):
        store.import_csv("orders", tmp_path / "absent.csv")
    with pytest.raises(custscore.NotFound) as info:
        custscore.open(tmp_path / "absent.db", create=False)
    assert "absent.db" in str(info.value)


def test_busy_past_the_timeout(db_path):
    with custscore.open(db_path) as writer, custscore.open(db_path, busy_timeout=200) as other:
        writer.begin()  # BEGIN IMMEDIATE: holds the write lock
        writer.add_customer("a")
        start = time.monotonic()
        with pytest.raises(custscore.Busy) as info:
            other.add_customer("b")
        assert time.monotonic() - start >= 0.15
        assert info.value.code == -4
        writer.commit()
        other.add_customer("b")  # retryable once the lock is gone
        assert other.customer_count() == 2


def test_corrupt_not_a_database(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not an SQLite database, just some text\n" * 200)
    with pytest.raises(custscore.Corrupt) as info:
        custscore.open(path)
    assert info.value.code == -5 and str(info.value)


def test_schema_too_new(db_path):
    custscore.open(db_path).close()
    con = sqlite3.connect(str(db_path))
    con.execute("PRAGMA user_version = %d" % (_ffi.SCHEMA_VERSION + 100))
    con.commit()
    con.close()
    with pytest.raises(custscore.SchemaTooNew) as info:
        custscore.open(db_path)
    assert info.value.code == -9


def test_read_only(db_path):
    custscore.open(db_path).close()
    with custscore.open(db_path, readonly=True) as store:
        with pytest.raises(custscore.ReadOnly) as info:
            store.add_customer("a")
        assert info.value.code == -10
        store.customer_count()  # reads still work


def test_io_failure(tmp_path, store):
    store.add_order("a", "2024-01-01", 1.0)
    with pytest.raises(custscore.IOFailure) as info:
        store.value_write_csv(tmp_path / "no" / "such" / "dir" / "value.csv", "2024-02-01")
    assert isinstance(info.value, OSError) and info.value.code == -3


def test_out_of_range(store):
    rows = "\n".join("s%d,1,5,1,5,1,5" % i for i in range(_ffi.MAX_SEGMENT_RULES + 1))
    with pytest.raises(custscore.OutOfRange):
        custscore.value.SegmentTable.parse(rows)


def test_no_convergence_carries_the_last_iterate():
    x = [[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]]
    y = [0, 0, 1, 0, 1, 1]
    with pytest.raises(custscore.NoConvergence) as info:
        custscore.models.logistic_fit(x, y, max_iterations=1, tolerance=1e-300)
    assert info.value.code == -8
    assert info.value.result is not None and len(info.value.result.coef) == 2


@requires("custscore_model_load")
def test_no_model(store):
    with pytest.raises(custscore.NoModel) as info:
        store.load_model()
    assert info.value.code == -7
    store.add_order("a", "2024-01-01", 1.0)
    with pytest.raises(custscore.NoModel):
        store.clv("2024-02-01")


def test_out_of_memory_in_a_limited_process():
    """Limit the address space of a child process, then ask the library for
    a copy of a 128 MiB array: custscore_quantile's allocation fails."""
    code = r"""
import array, resource, sys
import custscore
values = array.array('d', [0.0]) * (16 * 1024 * 1024)
vm = 0
for line in open('/proc/self/status'):
    if line.startswith('VmSize:'):
        vm = int(line.split()[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (vm + 48 * 1024 * 1024, resource.RLIM_INFINITY))
try:
    custscore.value.quantile(values, 0.5)
except custscore.OutOfMemory as e:
    print('OOM', e.code, isinstance(e, MemoryError))
    sys.exit(0)
print('no error')
sys.exit(1)
"""
    env = dict(os.environ, PYTHONPATH=str(BINDINGS), CUSTSCORE_PY_NO_CALL_COUNT="1")
    env.pop("LD_PRELOAD", None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if "no error" in result.stdout:
        pytest.skip("the allocation did not fail under RLIMIT_AS here")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OOM -2 True" in result.stdout


def test_internal_error_mapping():
    """CUSTSCORE_EINTERNAL is a library bug and cannot be provoked on
    purpose; check the mapping the error checks use."""
    assert custscore.errors.error_class(-12) is custscore.InternalError
    with pytest.raises(custscore.InternalError) as info:
        _ffi._raise(-12, "", "custscore_x")
    assert "custscore_x" in str(info.value) and info.value.code == -12


def test_unavailable_stub():
    with pytest.raises(custscore.Unavailable):
        _ffi._missing("custscore_future")()


def test_enum_and_type_errors(store):
    with pytest.raises(custscore.InvalidInput):
        store.summary("2024-01-01", unit="fortnight")
    with pytest.raises(custscore.InvalidInput):
        store.summary("2024-01-01", zero_revenue="maybe")
    with pytest.raises(TypeError):
        store.summary(object())
