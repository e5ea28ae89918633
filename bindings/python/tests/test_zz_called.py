"""Runs last: every C function the library exports and _ffi declares was
called by this test session (through the Pythonic API or directly)."""

import os

import pytest

from custscore import _ffi
from conftest import CALLED


def test_every_available_function_was_called(request):
    session = request.session
    if os.environ.get("CUSTSCORE_PY_NO_CALL_COUNT") == "1":
        pytest.skip("call counting disabled")
    if request.config.option.keyword or request.config.option.markexpr or \
            session.testscollected < 100:
        pytest.skip("only meaningful for the whole suite")
    if session.testsfailed:
        pytest.skip("other tests failed")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped"):
        # Some functions are only reached by the tests on ../shared/data;
        # without it (skipped tests) the count would blame the data, not the code.
        pytest.skip("some tests were skipped (../shared/data absent?)")
    available = [name for name in _ffi.DECLARED if _ffi.available(name)]
    uncalled = [name for name in available if name not in CALLED]
    assert not uncalled, "never called by the tests: %s" % ", ".join(uncalled)
