"""Exceptions raised by the custscore bindings.

Every failing C call raises a subclass of :class:`Error` carrying the C error
code (``code``, a negative ``CUSTSCORE_E*`` value), the library's detailed
message (``message``: for calls on a store, ``custscore_errmsg()`` of the
handle, e.g. ``orders.csv:3:4: revenue: 'abc': not a number ...``) and the C
function that failed (``function``).

The classes also derive from the closest built-in exception where one fits,
so generic handlers keep working: :class:`InvalidInput` is a ``ValueError``,
:class:`NotFound` a ``LookupError``, :class:`IOFailure` an ``OSError``,
:class:`OutOfMemory` a ``MemoryError``.
"""

from __future__ import annotations

__all__ = [
    "Error", "InvalidInput", "OutOfMemory", "IOFailure", "Busy", "Corrupt",
    "NotFound", "NoModel", "NoConvergence", "SchemaTooNew", "ReadOnly",
    "OutOfRange", "InternalError", "Unavailable", "Closed", "error_class", "CODES",
]

#: The C error codes (``enum custscore_error``), by name.
CODES = {
    "CUSTSCORE_OK": 0,
    "CUSTSCORE_EINVAL": -1,
    "CUSTSCORE_ENOMEM": -2,
    "CUSTSCORE_EIO": -3,
    "CUSTSCORE_EBUSY": -4,
    "CUSTSCORE_ECORRUPT": -5,
    "CUSTSCORE_ENOTFOUND": -6,
    "CUSTSCORE_ENOMODEL": -7,
    "CUSTSCORE_ENOCONV": -8,
    "CUSTSCORE_ESCHEMA": -9,
    "CUSTSCORE_EREADONLY": -10,
    "CUSTSCORE_ERANGE": -11,
    "CUSTSCORE_EINTERNAL": -12,
}


class Error(Exception):
    """Base class of every custscore error.

    Attributes:
        code: the negative C error code (``CUSTSCORE_E*``), or None for errors
            raised by the bindings themselves (:class:`Unavailable`).
        message: the library's detailed message (what and where).
        function: name of the C function that failed ("" when unknown).
    """

    #: C error code this class stands for (None: raised by the bindings).
    c_code = None

    def __init__(self, message: str = "", code: int | None = None, function: str = ""):
        # Only the message goes to the base class: OSError would read a
        # second positional argument as errno.
        super().__init__(message)
        self.message = message
        self.code = self.c_code if code is None else code
        self.function = function

    def __str__(self) -> str:
        return self.message


class InvalidInput(Error, ValueError):
    """Bad argument or bad input data (``CUSTSCORE_EINVAL``)."""
    c_code = -1


class OutOfMemory(Error, MemoryError):
    """Memory could not be allocated (``CUSTSCORE_ENOMEM``)."""
    c_code = -2


class IOFailure(Error, OSError):
    """I/O error, disk full or a file that cannot be opened (``CUSTSCORE_EIO``)."""
    c_code = -3


class Busy(Error):
    """The database is locked by another connection past the busy timeout
    (``CUSTSCORE_EBUSY``); the operation can be retried."""
    c_code = -4


class Corrupt(Error):
    """The file is corrupt or not a custscore/SQLite database (``CUSTSCORE_ECORRUPT``)."""
    c_code = -5


class NotFound(Error, LookupError):
    """Customer, file or object not found (``CUSTSCORE_ENOTFOUND``)."""
    c_code = -6


class NoModel(Error):
    """No fitted model of the requested kind is saved in the store (``CUSTSCORE_ENOMODEL``)."""
    c_code = -7


class NoConvergence(Error):
    """A model fit did not converge (``CUSTSCORE_ENOCONV``).

    ``result`` holds what the fit reached (a :class:`custscore.FitResult` or
    similar) when the C function reports it, else None.
    """
    c_code = -8
    result = None


class SchemaTooNew(Error):
    """The store was written by a newer custscore (``CUSTSCORE_ESCHEMA``)."""
    c_code = -9


class ReadOnly(Error):
    """A write was attempted on a store opened read-only (``CUSTSCORE_EREADONLY``)."""
    c_code = -10


class OutOfRange(InvalidInput):
    """A value or size is outside the supported limits (``CUSTSCORE_ERANGE``)."""
    c_code = -11


class InternalError(Error):
    """An internal error in the library: a bug, please report it (``CUSTSCORE_EINTERNAL``)."""
    c_code = -12


class Unavailable(Error, NotImplementedError):
    """The loaded libcustscore does not export a function these bindings
    declare (the library is older than the bindings)."""


class Closed(Error, ValueError):
    """A :class:`custscore.Store` was used after it was closed."""


_BY_CODE = {cls.c_code: cls for cls in (
    InvalidInput, OutOfMemory, IOFailure, Busy, Corrupt, NotFound, NoModel,
    NoConvergence, SchemaTooNew, ReadOnly, OutOfRange, InternalError)}


def error_class(code: int) -> type:
    """The :class:`Error` subclass for a negative C error code
    (:class:`Error` itself for an unknown code)."""
    return _BY_CODE.get(code, Error)
