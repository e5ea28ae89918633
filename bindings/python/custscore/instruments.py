"""SERVQUAL gaps (Parasuraman, Zeithaml & Berry 1988) and Kano analysis
(Kano et al. 1984; Berger et al. 1993) from paired survey answers, as
arrays or from the store (:meth:`custscore.Store.servqual`,
:meth:`custscore.Store.kano`). Also importable from :mod:`custscore.csi`.
"""

from __future__ import annotations

import ctypes
from ctypes import byref, c_int
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from . import _convert, _ffi
from ._convert import cstr, doubles
from .errors import InvalidInput

lib = _ffi.lib

__all__ = ["ServqualResult", "servqual", "servqual_dimension_name", "KanoFeature", "kano",
           "kano_classify", "kano_category_name"]

_ERRBUF = 1024


def _array(ptr, n):
    if not ptr:
        return None
    values = ptr[:n]
    np = _convert.np
    return np.asarray(values, dtype=float) if np is not None else list(values)


def _strings(ptr, n):
    return [_convert.pystr(ptr[i]) for i in range(n)] if ptr else []


def _c_strings(values, what):
    encoded = [None if v is None else cstr(str(v), what) for v in values]
    arr = (ctypes.c_char_p * len(encoded))(*encoded)
    return arr, encoded



def servqual_dimension_name(dimension) -> str:
    """Name of a SERVQUAL dimension (0 tangibles .. 4 empathy)."""
    return lib.custscore_servqual_dimension_name(int(dimension))


@dataclass
class ServqualResult:
    """SERVQUAL gaps (perception - expectation; negative: below expectations)."""
    item_names: List[str]
    item_dimension: List[str]
    item_n: List[int]
    expectation: Any
    perception: Any
    gap: Any
    dimension_items: Dict[str, int]
    dimension_expectation: Dict[str, float]
    dimension_perception: Dict[str, float]
    dimension_gap: Dict[str, float]
    overall_gap: float
    weighted_gap: float
    weakest: Optional[str]

    @classmethod
    def _from_c(cls, r):
        n = r.n_items
        dims = list(_ffi.SERVQUAL)
        return cls(_strings(r.item_names, n),
                   [dims[d] if 0 <= d < len(dims) else str(d) for d in r.item_dimension[:n]]
                   if r.item_dimension else [],
                   list(r.item_n[:n]) if r.item_n else [], _array(r.expectation, n),
                   _array(r.perception, n), _array(r.gap, n),
                   dict(zip(dims, r.dimension_items)),
                   dict(zip(dims, r.dimension_expectation)),
                   dict(zip(dims, r.dimension_perception)), dict(zip(dims, r.dimension_gap)),
                   r.overall_gap, r.weighted_gap, dims[r.weakest] if r.weakest >= 0 else None)


def _importance(importance, keep):
    if importance is None:
        return None
    if isinstance(importance, dict):
        importance = [float(importance.get(d, 0.0)) for d in _ffi.SERVQUAL]
    arr = doubles(importance, "importance")
    if arr.n != _ffi.SERVQUAL_DIMENSIONS:
        raise InvalidInput("importance: 5 values (one per dimension) expected", -1)
    keep.append(arr)
    return arr.ptr


def _servqual_result(out):
    try:
        return ServqualResult._from_c(out.contents)
    finally:
        lib.custscore_servqual_result_free(out)


def servqual(expectation, perception, dimension, importance=None) -> ServqualResult:
    """SERVQUAL gaps from paired answer matrices (n_rows x n_items, NaN
    missing); @p dimension gives each item's dimension (name or 0..4);
    @p importance the dimensions' importance points (list of 5 or dict)."""
    from .models import _matrix
    e, n_rows, n_items = _matrix(expectation, "expectation")
    p, n2, m2 = _matrix(perception, "perception")
    if (n2, m2) != (n_rows, n_items):
        raise InvalidInput("perception: shape differs from expectation", -1)
    dims = [_convert.enum(d, _ffi.SERVQUAL, "dimension") for d in dimension]
    if len(dims) != n_items:
        raise InvalidInput("dimension: %d entries for %d items" % (len(dims), n_items), -1)
    dim_arr = (c_int * max(len(dims), 1))(*dims)
    keep = []
    out = ctypes.POINTER(_ffi.ServqualResult)()
    err = ctypes.create_string_buffer(_ERRBUF)
    lib.custscore_servqual(e.ptr, p.ptr, n_rows, n_items, dim_arr, _importance(importance, keep),
                           byref(out), err, len(err))
    return _servqual_result(out)


def kano_category_name(category) -> str:
    """Name of a Kano category (0 attractive .. 5 questionable)."""
    return lib.custscore_kano_category_name(int(category))


def kano_classify(functional, dysfunctional) -> str:
    """Kano category name of one answer pair (answers coded 1 like .. 5
    dislike); InvalidInput when an answer is not 1..5."""
    return lib.custscore_kano_category_name(
        lib.custscore_kano_classify(int(functional), int(dysfunctional)))


@dataclass
class KanoFeature:
    """One feature's Kano result."""
    name: Optional[str]
    n: int
    count: Dict[str, int]        #: answer pairs by category
    category: Optional[str]      #: most frequent (None when n = 0)
    better: float
    worse: float


def _kano_result(out):
    try:
        r = out.contents
        names = [lib.custscore_kano_category_name(i) for i in range(_ffi.KANO_CATEGORIES)]
        return [KanoFeature(_convert.pystr(f.name), f.n, dict(zip(names, f.count)),
                            names[f.category] if 0 <= f.category < len(names) else None,
                            f.better, f.worse) for f in r.features[:r.n_features]]
    finally:
        lib.custscore_kano_result_free(out)


def kano(functional, dysfunctional, names=None) -> List[KanoFeature]:
    """Kano analysis of answer matrices (n_rows x n_features, coded 1..5,
    NaN missing); a DataFrame's column names name the features."""
    from .models import _matrix
    if names is None and _convert.is_dataframe(functional):
        names = [str(c) for c in functional.columns]
    f, n_rows, n_features = _matrix(functional, "functional")
    d, n2, m2 = _matrix(dysfunctional, "dysfunctional")
    if (n2, m2) != (n_rows, n_features):
        raise InvalidInput("dysfunctional: shape differs from functional", -1)
    name_arr = None
    if names is not None:
        name_arr, keep = _c_strings(names, "name")
    out = ctypes.POINTER(_ffi.KanoResult)()
    err = ctypes.create_string_buffer(_ERRBUF)
    lib.custscore_kano(f.ptr, d.ptr, n_rows, n_features, name_arr, byref(out), err, len(err))
    return _kano_result(out)


# ---------------------------------------------------------------------------
# Store functions (methods of custscore.Store call these)


def store_servqual(store, mapping=None, importance=None):
    keep = []
    out = ctypes.POINTER(_ffi.ServqualResult)()
    with store._lock:
        lib.custscore_servqual_compute(store._h(), cstr(mapping, "mapping"),
                                       _importance(importance, keep), byref(out))
    return _servqual_result(out)


def store_kano(store, mapping):
    if isinstance(mapping, dict):
        mapping = ",".join("%s=%s/%s" % (f, *pair) if not isinstance(pair, str) else
                           "%s=%s" % (f, pair) for f, pair in mapping.items())
    out = ctypes.POINTER(_ffi.KanoResult)()
    with store._lock:
        lib.custscore_kano_compute(store._h(), cstr(mapping, "mapping", allow_none=False),
                                   byref(out))
    return _kano_result(out)
