"""Shared fixtures of the custscore Python binding tests.

Run by `make test-python` (part of `make check`) with CUSTSCORE_LIBRARY set
to the freshly built library; the CLI is found next to it (src/cli/custscore)
or through CUSTSCORE_CLI.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
BINDINGS = HERE.parent
ROOT = BINDINGS.parent.parent
sys.path.insert(0, str(BINDINGS))

import custscore  # noqa: E402
from custscore import _ffi  # noqa: E402

HEADER = ROOT / "include" / "custscore.h"
SAMPLE = ROOT / "data" / "cdnow_sample.txt"
SHARED = Path(os.environ.get("CUSTSCORE_SHARED_DATA", ROOT.parent / "shared" / "data"))

try:
    import numpy  # noqa: F401
    HAVE_NUMPY = True
except ImportError:
    HAVE_NUMPY = False
try:
    import pandas  # noqa: F401
    HAVE_PANDAS = True
except ImportError:
    HAVE_PANDAS = False

needs_numpy = pytest.mark.skipif(not HAVE_NUMPY, reason="numpy not installed")
needs_pandas = pytest.mark.skipif(not HAVE_PANDAS, reason="pandas not installed")


def requires(*names):
    """Skip a test when the loaded library lacks one of the C functions
    (the model modules land in the header before their code is built)."""
    missing = [n for n in names if not _ffi.available(n)]
    return pytest.mark.skipif(bool(missing), reason="library lacks %s" % ", ".join(missing))


def cli_path():
    env = os.environ.get("CUSTSCORE_CLI")
    if env and os.access(env, os.X_OK):
        return env
    candidate = Path(_ffi.LIBRARY_PATH).resolve().parent / "src" / "cli" / "custscore"
    if candidate.exists():
        return str(candidate)
    return shutil.which("custscore")


def c_compiler():
    return shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")


@pytest.fixture
def store():
    with custscore.open() as s:
        yield s


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "test.db"


@pytest.fixture(scope="session")
def cdnow_store(tmp_path_factory):
    """A store holding the bundled CDNOW sample (2,357 customers). Shared by
    the session: only read it (open it readonly=True); copy it with
    copy_store() to write."""
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.db"
    with custscore.open(path) as s:
        s.import_csv("orders", SAMPLE, whitespace=True, no_header=True,
                     map="customer=2,ts=3,revenue=5")
    return path


def copy_store(src, directory, name="copy.db"):
    """Copy a store file (closed, so no WAL to carry) into @p directory."""
    dst = Path(directory) / name
    shutil.copy(src, dst)
    return dst


@pytest.fixture
def cdnow_copy(cdnow_store, tmp_path):
    """A private, writable copy of the CDNOW store."""
    return copy_store(cdnow_store, tmp_path)


# ---------------------------------------------------------------------------
# Every declared C function that the library exports must be called at least
# once by the test session (counted through a thin wrapper installed here).

CALLED = set()


def _count_calls():
    for name in _ffi.DECLARED:
        if not _ffi.available(name):
            continue
        func = getattr(_ffi.lib, name)

        def wrapper(*args, _func=func, _name=name):
            CALLED.add(_name)
            return _func(*args)
        wrapper.__name__ = name
        wrapper._cfunc = func
        setattr(_ffi.lib, name, wrapper)


if os.environ.get("CUSTSCORE_PY_NO_CALL_COUNT") != "1":
    _count_calls()
