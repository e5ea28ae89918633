"""Scoring everything: :meth:`custscore.Store.score_all`, saved snapshots and
the changes between them, with their result dataclasses.

A :class:`Score` row is flat (one column per field in ``to_pandas()``): the
customer value fields, then lifetime value, churn, satisfaction, loyalty and
the two quadrants, as the CLI's ``custscore score`` prints them.
"""

from __future__ import annotations

import json
from ctypes import byref, c_int64, c_size_t
from dataclasses import dataclass
from typing import Any, Dict, List

from . import _convert, _ffi
from ._convert import cstr, key, to_time
from ._options import clv_options, value_options
from .results import Results, Value

lib = _ffi.lib

__all__ = ["Score", "ScoreInfo", "SnapshotRow", "Change", "score_options",
           "value_quadrant_name", "loyalty_quadrant_name"]

_VALUE_FIELDS = [f for f in Value.__dataclass_fields__ if f != "customer"]


def value_quadrant_name(quadrant) -> str:
    """Name of a value-matrix quadrant number ("value", "potential",
    "maintain", "low value", "unclassified")."""
    return lib.custscore_value_quadrant_name(int(quadrant))


def loyalty_quadrant_name(quadrant) -> str:
    """Name of a loyalty quadrant number ("apostle", "mercenary", "hostage",
    "defector", "unclassified")."""
    return lib.custscore_loyalty_quadrant_name(int(quadrant))


def _make_score_class():
    """Score: customer, the Value fields, then the score fields."""
    from dataclasses import make_dataclass
    fields = [("customer", str)] + [(name, Any) for name in _VALUE_FIELDS] + [
        ("current_value", float), ("repeat_purchases", int),
        ("mean_interpurchase_days", float), ("p_alive", float),
        ("expected_purchases", float), ("expected_spend", float), ("clv", float),
        ("clv_low", float), ("clv_high", float), ("clv_note", str),
        ("churn_probability", float), ("band", str), ("reason1", str), ("reason2", str),
        ("reason3", str), ("reason1_contribution", float), ("reason2_contribution", float),
        ("reason3_contribution", float), ("value_at_risk", float), ("churn_note", str),
        ("satisfaction", float), ("satisfaction_ts", Any), ("satisfaction_note", str),
        ("loyalty", float), ("value_quadrant", str), ("loyalty_quadrant", str)]
    cls = make_dataclass("Score", fields, namespace={"__module__": __name__})
    cls.__doc__ = ("Every score of one customer (``custscore_score``), flat: the "
                   ":class:`custscore.Value` fields, lifetime value, churn (band, three "
                   "reasons with their logit contributions, value at risk), satisfaction, "
                   "loyalty and the value/loyalty quadrants. NaN where a part could not be "
                   "computed; the ``*_note`` fields say why.")
    return cls


Score = _make_score_class()


def _score_from_c(s):
    v = Value._from_c(s.value)
    reasons = [_convert.pystr(s.reason[k]) or "" for k in range(_ffi.REASONS)]
    return Score(
        _convert.pystr(s.customer), *[getattr(v, name) for name in _VALUE_FIELDS],
        s.current_value, s.repeat_purchases, s.mean_interpurchase_days, s.p_alive,
        s.expected_purchases, s.expected_spend, s.clv, s.clv_low, s.clv_high,
        _convert.pystr(s.clv_note) or "", s.churn_probability, _convert.pystr(s.band) or "",
        *reasons, *list(s.reason_contribution), s.value_at_risk,
        _convert.pystr(s.churn_note) or "", s.satisfaction,
        _convert.from_time(s.satisfaction_ts), _convert.pystr(s.satisfaction_note) or "",
        s.loyalty, lib.custscore_value_quadrant_name(s.value_quadrant),
        lib.custscore_loyalty_quadrant_name(s.loyalty_quadrant))


@dataclass
class ScoreInfo:
    """What a scoring run used and found (``custscore_score_info``)."""
    as_of: Any
    customers: int
    has_clv: bool
    has_churn: bool
    has_satisfaction: bool
    current_value_split: float
    future_value_split: float
    satisfaction_split: float
    loyalty_split: float
    value_quadrant_count: Dict[str, int]
    loyalty_quadrant_count: Dict[str, int]
    band_count: Dict[str, int]
    total_profit: float
    total_clv: float
    total_value_at_risk: float
    saved: bool

    @classmethod
    def _from_c(cls, i):
        return cls(_convert.from_time(i.as_of), i.customers, bool(i.has_clv),
                   bool(i.has_churn), bool(i.has_satisfaction), i.current_value_split,
                   i.future_value_split, i.satisfaction_split, i.loyalty_split,
                   {lib.custscore_value_quadrant_name(q): i.value_quadrant_count[q]
                    for q in range(5)},
                   {lib.custscore_loyalty_quadrant_name(q): i.loyalty_quadrant_count[q]
                    for q in range(5)},
                   dict(zip(("low", "medium", "high"), i.band_count)), i.total_profit,
                   i.total_clv, i.total_value_at_risk, bool(i.saved))


@dataclass
class SnapshotRow:
    """One customer's saved scores (``custscore_snapshot_row``); ``data`` is
    the whole saved row (every field of the score) parsed from its JSON."""
    customer: str
    as_of: Any
    scored_at: Any
    rfm_score: int
    segment: str
    tier: str
    lifecycle: str
    profit: float
    current_value: float
    clv: float
    p_alive: float
    churn_probability: float
    band: str
    value_at_risk: float
    satisfaction: float
    value_quadrant: str
    loyalty_quadrant: str
    data: Dict[str, Any]

    @classmethod
    def _from_c(cls, r):
        text = _convert.pystr(r.json)
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {"json": text}
        s = _convert.pystr
        return cls(s(r.customer), _convert.from_time(r.as_of), _convert.from_time(r.scored_at),
                   r.rfm_score, s(r.segment), s(r.tier), s(r.lifecycle), r.profit,
                   r.current_value, r.clv, r.p_alive, r.churn_probability, s(r.band),
                   r.value_at_risk, r.satisfaction, s(r.value_quadrant), s(r.loyalty_quadrant),
                   data)


@dataclass
class Change:
    """A customer whose tier, segment or churn band moved between two snapshots."""
    customer: str
    before: SnapshotRow
    after: SnapshotRow
    tier_changed: bool
    segment_changed: bool
    band_changed: bool
    value_at_stake: float


def score_options(save=True, current_value_split=None, future_value_split=None,
                  satisfaction_split=None, loyalty_split=None, band_medium=0.0, band_high=0.0,
                  survey_model=None, **options):
    """custscore_score_options from keyword arguments: the value options
    (see :func:`custscore.value.value_options`), the CLV options (horizon,
    horizon_unit, discount_rate, margin, interval_level, interval_draws,
    seed, purchase_model, spend_model), the split points (None: medians),
    the churn bands, the survey model name and ``save``."""
    clv_keys = ("horizon", "horizon_unit", "discount_rate", "margin", "interval_level",
                "interval_draws", "seed", "purchase_model", "spend_model")
    clv_args = {k: options.pop(k) for k in clv_keys if k in options}
    opt = _ffi.ScoreOptions()
    vopt, keep = value_options(**options)
    copt, keep2 = clv_options(**clv_args)
    opt.value = vopt
    opt.clv = copt
    keep += keep2
    nan = float("nan")
    for name, value in (("current_value_split", current_value_split),
                        ("future_value_split", future_value_split),
                        ("satisfaction_split", satisfaction_split),
                        ("loyalty_split", loyalty_split)):
        setattr(opt, name, nan if value is None else float(value))
    opt.band_medium = float(band_medium)
    opt.band_high = float(band_high)
    if survey_model is not None:
        b = cstr(survey_model, "survey_model")
        keep.append(b)
        opt.survey_model = b
    opt.no_store = 0 if save else 1
    return opt, keep


def store_score_all(store, as_of, rows=True, **options):
    from .store import _Callback, _call_each
    opt, keep = score_options(**options)
    info = _ffi.ScoreInfo()
    out = Results()
    if rows:
        append = out.append
        callback = _Callback(lambda s, payload: append(_score_from_c(s.contents)))
    else:
        callback = _Callback(lambda s, payload: 0)
    cfunc = _ffi.SCORE_FN(callback) if rows else _ffi.SCORE_FN()
    with store._lock:
        _call_each(lib.custscore_score_all,
                   (store._h(), to_time(as_of, "as_of"), byref(opt), cfunc, None, byref(info)),
                   callback)
    del keep
    out.info = ScoreInfo._from_c(info)
    return out


def store_report_html(store, path, as_of, title=None, top=20, survey_model=None,
                      csi_bootstrap=-1, seed=1, max_points=1500, **score_args):
    score, keep = score_options(**score_args)
    opt = _ffi.ReportOptions()
    opt.score = score
    for name, value in (("title", title), ("survey_model", survey_model)):
        if value is not None:
            b = cstr(value, name)
            keep.append(b)
            setattr(opt, name, b)
    opt.top = int(top)
    opt.csi_bootstrap = int(csi_bootstrap)
    opt.seed = int(seed)
    opt.max_points = int(max_points)
    with store._lock:
        lib.custscore_report_html(store._h(), to_time(as_of, "as_of"), byref(opt),
                                  _convert.path_arg(path))
    del keep


def store_snapshots(store) -> List[Any]:
    count = c_size_t()
    with store._lock:
        lib.custscore_snapshots(store._h(), None, 0, byref(count))
        while True:
            capacity = count.value
            buf = (c_int64 * max(capacity, 1))()
            lib.custscore_snapshots(store._h(), buf, capacity, byref(count))
            if count.value <= capacity:
                break
    return [_convert.from_time(buf[i]) for i in range(count.value)]


def store_snapshot_get(store, customer, as_of=None) -> SnapshotRow:
    row = _ffi.SnapshotRow()
    with store._lock:
        lib.custscore_snapshot_get(store._h(), key(customer), _convert.opt_time(as_of, "as_of"),
                                   byref(row))
        return SnapshotRow._from_c(row)


def store_changes(store, since, until=None) -> Results:
    from .store import _Callback, _call_each
    out = Results()

    def each(c, payload):
        c = c.contents
        out.append(Change(_convert.pystr(c.customer), SnapshotRow._from_c(c.before),
                          SnapshotRow._from_c(c.after), bool(c.tier_changed),
                          bool(c.segment_changed), bool(c.band_changed), c.value_at_stake))
    callback = _Callback(each)
    cfunc = _ffi.CHANGE_FN(callback)
    with store._lock:
        _call_each(lib.custscore_changes,
                   (store._h(), to_time(since, "since"), _convert.opt_time(until, "until"),
                    cfunc, None), callback)
    return out

