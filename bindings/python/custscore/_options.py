"""Builders of the C options structs from keyword arguments.

Each returns the filled ctypes struct (initialised as the header's
``*_INIT`` macro) and, where the struct points to Python-owned memory, a
list of objects to keep alive while the struct is in use.
"""

from __future__ import annotations

import ctypes
import os

from . import _convert, _ffi
from ._convert import cstr, enum, unit
from .errors import InvalidInput


def summary_options(unit_name="week", zero_revenue="adjustment"):
    opt = _ffi.SummaryOptions()
    opt.unit = unit(unit_name)
    opt.zero = enum(zero_revenue, _ffi.ZERO_REVENUE, "zero_revenue")
    return opt


def _thresholds(values, what, keep):
    if values is None:
        return None, 0
    arr = _convert.doubles(values, what)
    keep.append(arr)
    return arr.ptr, arr.n


def segment_rules(segments, keep):
    """(pointer, count) of a segment table given as None (the default), a
    :class:`custscore.value.SegmentTable`, a path to a CSV table, or a list
    of :class:`custscore.SegmentRule` / tuples (name, r_min, r_max, f_min,
    f_max, m_min, m_max)."""
    from .value import SegmentTable
    if segments is None:
        return None, 0
    if isinstance(segments, (str, os.PathLike)):
        segments = SegmentTable.load(segments)
    if isinstance(segments, SegmentTable):
        keep.append(segments)
        return segments._rules_ptr(), len(segments)
    rules = list(segments)
    arr = (_ffi.SegmentRule * len(rules))()
    for i, rule in enumerate(rules):
        if not isinstance(rule, (tuple, list)):
            rule = (rule.name, rule.r_min, rule.r_max, rule.f_min, rule.f_max, rule.m_min,
                    rule.m_max)
        name = cstr(rule[0], "segment name", allow_none=False)
        keep.append(name)
        arr[i].name = name
        (arr[i].r_min, arr[i].r_max, arr[i].f_min, arr[i].f_max, arr[i].m_min,
         arr[i].m_max) = (int(v) for v in rule[1:7])
    keep.append(arr)
    return ctypes.cast(arr, ctypes.POINTER(_ffi.SegmentRule)), len(rules)


def fill_rfm(opt, keep, bins=5, ties="value", cut_offset=1.0, recency_thresholds=None,
             frequency_thresholds=None, monetary_thresholds=None, frequency="occasions",
             monetary="total", segments=None):
    opt.bins = int(bins)
    opt.ties = enum(ties, _ffi.TIES, "ties")
    opt.cut_offset = float(cut_offset)
    opt.recency_thresholds, opt.n_recency_thresholds = _thresholds(
        recency_thresholds, "recency_thresholds", keep)
    opt.frequency_thresholds, opt.n_frequency_thresholds = _thresholds(
        frequency_thresholds, "frequency_thresholds", keep)
    opt.monetary_thresholds, opt.n_monetary_thresholds = _thresholds(
        monetary_thresholds, "monetary_thresholds", keep)
    opt.frequency = enum(frequency, _ffi.FREQUENCY_BASIS, "frequency")
    opt.monetary = enum(monetary, _ffi.MONETARY_BASIS, "monetary")
    opt.segments, opt.n_segments = segment_rules(segments, keep)
    return opt


def fill_tiers(opt, keep, tier_mode="percentile", tier_cuts=None, tier_names=None,
               tier_ties="rank"):
    opt.mode = enum(tier_mode, _ffi.TIER_MODE, "tier_mode")
    opt.cuts, opt.n_cuts = _thresholds(tier_cuts, "tier_cuts", keep)
    if tier_names is not None:
        names = [cstr(n, "tier name", allow_none=False) for n in tier_names]
        arr = (ctypes.c_char_p * len(names))(*names)
        keep.extend([names, arr])
        opt.names = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p))
        opt.n_names = len(names)
    opt.ties = enum(tier_ties, _ffi.TIES, "tier_ties")
    return opt


def fill_lifecycle(opt, lifecycle_unit="month", lifecycle_window=12.0, lapse_after=12.0,
                   new_max_repeats=1, overdue_factor=2.0, trend_tolerance=0.2):
    opt.unit = unit(lifecycle_unit, "lifecycle_unit")
    opt.window = float(lifecycle_window)
    opt.lapse_after = float(lapse_after)
    opt.new_max_repeats = int(new_max_repeats)
    opt.overdue_factor = float(overdue_factor)
    opt.trend_tolerance = float(trend_tolerance)
    return opt


_RFM_KEYS = ("bins", "ties", "cut_offset", "recency_thresholds", "frequency_thresholds",
             "monetary_thresholds", "frequency", "monetary", "segments")
_TIER_KEYS = ("tier_mode", "tier_cuts", "tier_names", "tier_ties")
_LIFECYCLE_KEYS = ("lifecycle_unit", "lifecycle_window", "lapse_after", "new_max_repeats",
                   "overdue_factor", "trend_tolerance")


def _split(kwargs, keys):
    return {k: kwargs.pop(k) for k in keys if k in kwargs}


def rfm_options(**kwargs):
    keep = []
    opt = fill_rfm(_ffi.RfmOptions(), keep, **kwargs)
    return opt, keep


def tier_options(**kwargs):
    keep = []
    opt = fill_tiers(_ffi.TierOptions(), keep, **kwargs)
    return opt, keep


def lifecycle_options(**kwargs):
    return fill_lifecycle(_ffi.LifecycleOptions(), **kwargs)


def value_options(**kwargs):
    """custscore_value_options from keyword arguments (see
    :func:`custscore.value.value_options` for the list)."""
    keep = []
    opt = _ffi.ValueOptions()
    fill_rfm(opt.rfm, keep, **_split(kwargs, _RFM_KEYS))
    fill_tiers(opt.tiers, keep, **_split(kwargs, _TIER_KEYS))
    fill_lifecycle(opt.lifecycle, **_split(kwargs, _LIFECYCLE_KEYS))
    if "profit_window" in kwargs:
        opt.profit_window = float(kwargs.pop("profit_window"))
    if "profit_window_unit" in kwargs:
        opt.profit_window_unit = unit(kwargs.pop("profit_window_unit"), "profit_window_unit")
    if "zero_revenue" in kwargs:
        opt.zero = enum(kwargs.pop("zero_revenue"), _ffi.ZERO_REVENUE, "zero_revenue")
    if kwargs:
        raise TypeError("unexpected value options: %s" % ", ".join(sorted(kwargs)))
    return opt, keep


def fit_options(model="bgnbd", unit_name="week", penalty=0.0, starts=0, max_iterations=0,
                tolerance=0.0, name=None, no_store=False, zero_revenue="adjustment"):
    keep = []
    opt = _ffi.FitOptions()
    opt.zero = enum(zero_revenue, _ffi.ZERO_REVENUE, "zero_revenue")
    opt.model = enum(model, _ffi.MODEL, "model")
    opt.unit = unit(unit_name)
    opt.penalty = float(penalty)
    opt.starts = int(starts)
    opt.max_iterations = int(max_iterations)
    opt.tolerance = float(tolerance)
    if name is not None:
        b = cstr(name, "name")
        keep.append(b)
        opt.name = b
    opt.no_store = 1 if no_store else 0
    return opt, keep


def clv_options(horizon=12.0, horizon_unit="month", discount_rate=0.10, margin=None,
                interval_level=0.90, interval_draws=200, seed=1, purchase_model=None,
                spend_model=None):
    keep = []
    opt = _ffi.ClvOptions()
    opt.horizon = float(horizon)
    opt.horizon_unit = unit(horizon_unit, "horizon_unit")
    opt.discount_rate = float(discount_rate)
    opt.margin = 0.0 if margin is None else float(margin)
    if margin is not None and opt.margin == 0.0:
        raise InvalidInput("margin: 0 would mean 'from the store'; pass None for that", -1)
    opt.interval_level = 0.0 if interval_level is None else float(interval_level)
    opt.interval_draws = int(interval_draws)
    opt.seed = int(seed)
    for field, value in (("purchase_model", purchase_model), ("spend_model", spend_model)):
        if value is not None:
            b = cstr(value, field)
            keep.append(b)
            setattr(opt, field, b)
    return opt, keep


def retention_options(period="month", max_periods=24, since=None):
    opt = _ffi.RetentionOptions()
    opt.period = unit(period, "period")
    opt.max_periods = int(max_periods)
    opt.since = _convert.opt_time(since, "since")
    return opt


def logistic_options(l2=1.0, max_iterations=100, tolerance=1e-10):
    opt = _ffi.LogisticOptions()
    opt.l2 = float(l2)
    opt.max_iterations = int(max_iterations)
    opt.tolerance = float(tolerance)
    return opt
