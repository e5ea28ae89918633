"""Customer value without a store: quantiles, score bins, RFM, segments,
profit rank, the whale curve, tiers (the customer pyramid) and lifecycle
stages, over arrays (numpy arrays when numpy is installed, else any
sequence). NaN marks a missing value, as in the C API.

Formulas and citations: docs/models.md ("Customer value"). Store versions:
:meth:`custscore.Store.value`, :meth:`custscore.Store.whale_curve`.
"""

from __future__ import annotations

import ctypes
from ctypes import byref, c_double, c_int, c_size_t

from . import _convert, _ffi
from ._convert import Out, cstr, doubles, to_time
from ._options import (lifecycle_options, rfm_options, segment_rules, tier_options,
                       value_options as _value_options)
from .results import (Results, RfmScores, SegmentRule, Value, WhaleCurve, WhaleSummary)

lib = _ffi.lib

__all__ = [
    "quantile", "score_bins", "segments_default", "segment_match", "SegmentTable",
    "rfm_score", "profit_rank", "whale_curve", "tier_count", "tier_name", "tiers_assign",
    "lifecycle_name", "lifecycle_of", "value_compute", "value_options",
]


def value_options(**options):
    """Check value options and return them as the C struct (for advanced
    use). The keyword arguments accepted by :meth:`custscore.Store.value`,
    :func:`value_compute` and friends:

    - RFM: ``bins`` (5), ``ties`` ("value" | "rank"), ``cut_offset`` (1.0),
      ``recency_thresholds`` (days), ``frequency_thresholds``,
      ``monetary_thresholds``, ``frequency`` ("occasions" | "orders"),
      ``monetary`` ("total" | "mean"), ``segments`` (None for the `rfm`
      package's table, a :class:`SegmentTable`, a CSV path, or a list of
      :class:`custscore.SegmentRule`);
    - tiers: ``tier_mode`` ("percentile" | "absolute"), ``tier_cuts``
      (default [0.2, 0.5]), ``tier_names``, ``tier_ties`` ("rank" | "value");
    - lifecycle: ``lifecycle_unit`` ("month"), ``lifecycle_window`` (12),
      ``lapse_after`` (12), ``new_max_repeats`` (1), ``overdue_factor`` (2),
      ``trend_tolerance`` (0.2);
    - ``profit_window`` (12; 0 for the whole history), ``profit_window_unit``
      ("month"), ``zero_revenue`` ("adjustment" | "purchase").
    """
    opt, _keep = _value_options(**options)
    opt._keep = _keep
    return opt


def quantile(values, p):
    """Sample quantile at probability @p p (R's default, type 7), NaN ignored."""
    arr = doubles(values, "values")
    out = c_double()
    lib.custscore_quantile(arr.ptr, arr.n, float(p), byref(out))
    return out.value


def score_bins(values, bins=5, ties="value", reverse=False, cut_offset=1.0, thresholds=None):
    """Score values into bins 1..bins (0 for NaN). Returns (scores, cuts):
    the bins - 1 lower bounds of bins 2..n."""
    arr = doubles(values, "values")
    opt = _ffi.BinOptions()
    keep = []
    opt.bins = int(bins)
    opt.ties = _convert.enum(ties, _ffi.TIES, "ties")
    opt.reverse = 1 if reverse else 0
    opt.cut_offset = float(cut_offset)
    if thresholds is not None:
        th = doubles(thresholds, "thresholds")
        keep.append(th)
        opt.thresholds, opt.n_thresholds = th.ptr, th.n
        n_bins = th.n + 1
    else:
        n_bins = max(int(bins), 1)
    scores = Out(arr.n, c_int)
    cuts = Out(max(n_bins - 1, 0))
    lib.custscore_score_bins(arr.ptr, arr.n, byref(opt), scores.ptr, cuts.ptr)
    return scores.value(), cuts.value()


def segments_default():
    """The default segment table (the R package `rfm`'s), as a list of
    :class:`custscore.SegmentRule`."""
    count = c_size_t()
    rules = lib.custscore_segments_default(byref(count))
    return [_rule(rules[i]) for i in range(count.value)]


def _rule(r):
    return SegmentRule(_convert.pystr(r.name), r.r_min, r.r_max, r.f_min, r.f_max, r.m_min,
                       r.m_max)


def segment_match(rules, r, f, m):
    """Index of the first rule matching the scores (r, f, m), or -1 (Others).
    @p rules: a list of SegmentRule, a :class:`SegmentTable`, or None for the
    default table."""
    keep = []
    if rules is None:
        count = c_size_t()
        ptr = lib.custscore_segments_default(byref(count))
        n = count.value
    else:
        ptr, n = segment_rules(rules, keep)
    return lib.custscore_segment_match(ptr, n, int(r), int(f), int(m))


class SegmentTable:
    """A segment table read from CSV (columns
    ``segment,r_min,r_max,f_min,f_max,m_min,m_max``), owned by the C library
    and freed with :meth:`close` (or when garbage collected). Usable as a
    sequence of :class:`custscore.SegmentRule` and as ``segments=`` option."""

    def __init__(self, handle):
        self._handle = handle

    @classmethod
    def parse(cls, text, name=None):
        """Parse CSV text (str or bytes); errors raise InvalidInput with
        "name:line:column: field: value: reason"."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        out = ctypes.POINTER(_ffi.Segments)()
        err = ctypes.create_string_buffer(512)
        lib.custscore_segments_parse(data, len(data), cstr(name, "name"), byref(out), err,
                                     len(err))
        return cls(out)

    @classmethod
    def load(cls, path):
        """Read a CSV file (NotFound when missing)."""
        out = ctypes.POINTER(_ffi.Segments)()
        err = ctypes.create_string_buffer(512)
        lib.custscore_segments_load(_convert.path_arg(path), byref(out), err, len(err))
        return cls(out)

    def close(self):
        """Free the table (harmless when already freed)."""
        handle, self._handle = self._handle, None
        if handle:
            lib.custscore_segments_free(handle)

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _table(self):
        if not self._handle:
            from .errors import Closed
            raise Closed("segment table is closed")
        return self._handle.contents

    def _rules_ptr(self):
        return self._table().rules

    def __len__(self):
        return self._table().count

    def __getitem__(self, index):
        table = self._table()
        if index < 0:
            index += table.count
        if not 0 <= index < table.count:
            raise IndexError(index)
        return _rule(table.rules[index])

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def match(self, r, f, m):
        """Index of the first rule matching (r, f, m), or -1."""
        return segment_match(self, r, f, m)


def rfm_score(recency_days, frequency, monetary, **options):
    """RFM scores of arrays of customers (recency in days, reversed so the
    most recent score highest); a customer with NaN in any of the three gets
    0s. Options as :func:`value_options` (RFM part). Returns :class:`RfmScores`."""
    (rec, freq, mon), n, _ = _convert.vectors(recency_days, frequency, monetary,
                                              names=("recency_days", "frequency", "monetary"))
    opt, keep = rfm_options(**options)
    r, f, m, seg = Out(n, c_int), Out(n, c_int), Out(n, c_int), Out(n, c_int)
    lib.custscore_rfm_score(rec.ptr, freq.ptr, mon.ptr, n, byref(opt), r.ptr, f.ptr, m.ptr,
                            seg.ptr)
    if opt.segments:
        names = [_convert.pystr(opt.segments[i].name) for i in range(opt.n_segments)]
    else:
        names = [rule.name for rule in segments_default()]
    seg_index = seg.value()
    seg_names = [names[i] if i >= 0 else _ffi.SEGMENT_OTHERS for i in list(seg_index)]
    del keep
    return RfmScores(r.value(), f.value(), m.value(), seg_index, seg_names)


def profit_rank(profit):
    """(rank, share): rank 1 the most profitable (ties in input order); share
    = profit / total (NaN when the total is <= 0)."""
    arr = doubles(profit, "profit")
    rank, share = Out(arr.n, ctypes.c_int64), Out(arr.n)
    lib.custscore_profit_rank(arr.ptr, arr.n, rank.ptr, share.ptr)
    return rank.value(), share.value()


def whale_curve(profit, n_points=101):
    """The whale curve of profits (Cooper & Kaplan 1991): @p n_points points
    (0 for the summary only). Returns :class:`custscore.WhaleCurve`."""
    arr = doubles(profit, "profit")
    n_points = int(n_points)
    cs = Out(n_points) if n_points else None
    ps = Out(n_points) if n_points else None
    summary = _ffi.WhaleSummary()
    lib.custscore_whale_curve(arr.ptr, arr.n, n_points, _convert.ptr(cs), _convert.ptr(ps),
                              byref(summary))
    return WhaleCurve(cs.value() if cs else [], ps.value() if ps else [],
                      WhaleSummary._from_c(summary))


def tier_count(**options):
    """Number of tiers the tier options define (default 4)."""
    opt, keep = tier_options(**options)
    return lib.custscore_tier_count(byref(opt))


def tier_name(tier, **options):
    """Name of tier @p tier (0 = best); InvalidInput when out of range."""
    opt, keep = tier_options(**options)
    return lib.custscore_tier_name(byref(opt), int(tier))


def tiers_assign(profit, **options):
    """Tier (0 = best) of each customer by profit."""
    arr = doubles(profit, "profit")
    opt, keep = tier_options(**options)
    out = Out(arr.n, c_int)
    lib.custscore_tiers_assign(arr.ptr, arr.n, byref(opt), out.ptr)
    return out.value()


def lifecycle_name(stage):
    """Name of a lifecycle stage number ("unknown" for others)."""
    return lib.custscore_lifecycle_name(int(stage))


def lifecycle_of(occasions, as_of, **options):
    """Lifecycle stage name of one customer from its purchase occasions
    (dates or Unix seconds, ascending). Options: lifecycle_unit,
    lifecycle_window, lapse_after, new_max_repeats, overdue_factor,
    trend_tolerance."""
    times = _convert.int64s([to_time(t, "occasion") for t in occasions], "occasions")
    opt = lifecycle_options(**options)
    stage = c_int()
    lib.custscore_lifecycle_of(times.ptr, times.n, to_time(as_of, "as_of"), byref(opt),
                               byref(stage))
    return _convert.enum_name(stage.value, _ffi.LIFECYCLE)


def value_compute(orders, as_of, **options):
    """Customer value of every customer of @p orders (no store): @p orders
    is a pandas DataFrame or an iterable of order rows as accepted by
    :meth:`custscore.Store.add_orders` (customer, ts, revenue[, cost]).
    Customers come out in order of first appearance. Returns a
    :class:`Results` of :class:`custscore.Value` whose ``info`` is the whale
    :class:`custscore.WhaleSummary`."""
    from .store import _order_rows
    groups = {}
    for customer, _order, ts, revenue, cost in _order_rows(orders):
        groups.setdefault(str(customer), []).append(
            (to_time(ts, "ts"), float(revenue), None if cost is None or
             _convert.is_missing(cost) else float(cost)))
    keys = list(groups)
    has_cost = any(c is not None for rows in groups.values() for _, _, c in rows)
    offsets, ts_all, rev_all, cost_all = [0], [], [], []
    for k in keys:
        for t, rev, c in sorted(groups[k], key=lambda row: row[0]):
            ts_all.append(t)
            rev_all.append(rev)
            cost_all.append(0.0 if c is None else c)
        offsets.append(len(ts_all))
    ckeys = [cstr(k, "customer") for k in keys]
    key_arr = (ctypes.c_char_p * len(ckeys))(*ckeys)
    off = (c_size_t * len(offsets))(*offsets)
    ts_arr = _convert.int64s(ts_all, "ts")
    rev_arr = doubles(rev_all, "revenue")
    cost_arr = doubles(cost_all, "cost") if has_cost else None
    arrays = _ffi.OrderArrays(len(keys), ctypes.cast(key_arr, ctypes.POINTER(ctypes.c_char_p)),
                              ctypes.cast(off, ctypes.POINTER(c_size_t)), ts_arr.ptr,
                              rev_arr.ptr, _convert.ptr(cost_arr))
    opt, keep = _value_options(**options)
    out = (_ffi.Value * max(len(keys), 1))()
    whale = _ffi.WhaleSummary()
    err = ctypes.create_string_buffer(512)
    lib.custscore_value_compute(byref(arrays), to_time(as_of, "as_of"), byref(opt), out,
                                byref(whale), err, len(err))
    rows = Results([Value._from_c(out[i]) for i in range(len(keys))],
                   WhaleSummary._from_c(whale))
    del keep
    return rows

