"""Result types: plain dataclasses mirroring the C result structs, and
:class:`Results`, a list of them with ``to_pandas()`` and ``column()``.

Times are aware UTC ``datetime`` objects (None where the C API says 0 =
none); units and model kinds are their short names ("week", "bgnbd").
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import _convert, _ffi

__all__ = [
    "Results", "ImportReport", "Rejection", "AddReport", "Summary", "Value", "WhaleSummary",
    "WhaleCurve", "SegmentRule", "FitResult", "ClvRow", "ClvInfo", "ClvArrays", "HoldoutRow",
    "HoldoutCustomer", "HoldoutReport", "LogisticFit", "CalibrationBin", "RfmScores",
    "Cohort", "PeriodStats", "RetentionReport",
]


class Results(list):
    """A list of result rows (dataclasses) with conversions.

    ``info`` holds what the run used, when the C function reports it (e.g.
    :class:`ClvInfo` for :meth:`custscore.Store.clv`).
    """

    def __init__(self, rows=(), info=None):
        super().__init__(rows)
        self.info = info

    def column(self, name):
        """The values of one field over all rows: a numpy array when numpy
        is installed and the values are numbers, else a list."""
        values = [getattr(row, name) for row in self]
        np = _convert.np
        if np is not None and values and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return np.asarray(values)
        return values

    def to_pandas(self, index=None):
        """A pandas DataFrame with one row per result and one column per
        field (in the dataclass's order); ``index`` names a field to use as
        the index (e.g. "customer"). Requires pandas."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("to_pandas() needs pandas (pip install custscore[pandas])") from exc
        if self:
            names = [f.name for f in dataclasses.fields(self[0])]
        else:
            names = []
        frame = pd.DataFrame({name: [getattr(row, name) for row in self] for name in names},
                             columns=names)
        if index is not None:
            frame = frame.set_index(index)
        return frame

    def to_dicts(self) -> List[Dict[str, Any]]:
        """The rows as dictionaries."""
        return [dataclasses.asdict(row) for row in self]


@dataclass
class Rejection:
    """A CSV record rejected by an import with ``skip_bad``."""
    line: int     #: 1-based physical line where the record starts
    column: int   #: 1-based column (0 when not about a column)
    message: str  #: the full reason, "file:line:column: field: value: reason"


@dataclass
class ImportReport:
    """What :meth:`custscore.Store.import_csv` did."""
    lines: int = 0     #: physical lines read, header included
    records: int = 0   #: data records read
    added: int = 0     #: rows added
    replaced: int = 0  #: rows that replaced an existing one with the same key
    rejected: int = 0  #: bad records skipped (skip_bad only)
    rejections: List[Rejection] = field(default_factory=list)  #: the rejected records

    @classmethod
    def _from_c(cls, rep, rejections):
        return cls(rep.lines, rep.records, rep.added, rep.replaced, rep.rejected, rejections)


@dataclass
class AddReport:
    """What :meth:`custscore.Store.add_orders` (and the other bulk adds) did."""
    added: int = 0     #: rows added or replaced
    replaced: int = 0  #: of which replaced an existing order with the same key


@dataclass
class Summary:
    """One customer's summary (``custscore_summary``): the BTYD inputs."""
    customer: str
    first: Any             #: first purchase occasion (datetime, start of day) or None
    last: Any              #: last purchase occasion or None
    x: int                 #: repeat purchase occasions (frequency)
    t_x: float             #: time first -> last occasion, in the unit (recency)
    T: float               #: time first occasion -> as-of day, in the unit (age)
    orders: int            #: orders up to the as-of day, returns included
    revenue: float         #: total net revenue
    cost: float            #: total cost (0 when unknown)
    profit: float          #: revenue - cost
    mean_repeat_spend: float  #: mean revenue of the repeat occasions (0 when x = 0)

    @classmethod
    def _from_c(cls, s):
        return cls(_convert.pystr(s.customer), _convert.from_time(s.first),
                   _convert.from_time(s.last), s.x, s.t_x, s.T, s.orders, s.revenue, s.cost,
                   s.profit, s.mean_repeat_spend)


@dataclass
class Value:
    """One customer's value (``custscore_value``; a row of ``custscore value``)."""
    customer: Optional[str]
    recency_days: Optional[int]  #: days since the last purchase occasion; None without one
    frequency: int
    monetary: float
    r: int
    f: int
    m: int
    rfm_score: int
    segment: str
    segment_index: int
    revenue: float
    cost: float
    profit: float
    profit_share: float  #: NaN when the total profit is <= 0
    profit_rank: int
    tier: int
    tier_name: str
    lifecycle: str       #: "prospect", "new", "growing", "mature", "declining", "lapsed"
    first: Any
    last: Any
    orders: int

    @classmethod
    def _from_c(cls, v):
        return cls(_convert.pystr(v.customer), None if v.recency_days < 0 else v.recency_days,
                   v.frequency, v.monetary, v.r, v.f, v.m, v.rfm_score,
                   _convert.pystr(v.segment), v.segment_index, v.revenue, v.cost, v.profit,
                   v.profit_share, v.profit_rank, v.tier, _convert.pystr(v.tier_name),
                   _convert.enum_name(v.lifecycle, _ffi.LIFECYCLE), _convert.from_time(v.first),
                   _convert.from_time(v.last), v.orders)


@dataclass
class WhaleSummary:
    """Summary of the whale curve (``custscore_whale_summary``)."""
    customers: int
    total_profit: float
    peak_profit: float
    peak_height: float
    peak_customers: int
    peak_customer_share: float
    loss_tail: float
    loss_customers: int
    loss_customer_share: float
    zero_customers: int

    @classmethod
    def _from_c(cls, w):
        return cls(*[getattr(w, name) for name, _ in _ffi.WhaleSummary._fields_])


@dataclass
class WhaleCurve:
    """The whale curve: points (customer_share[i], profit_share[i]) and its summary."""
    customer_share: Any
    profit_share: Any
    summary: WhaleSummary


@dataclass
class SegmentRule:
    """A segment rule: scores within all three inclusive ranges match."""
    name: str
    r_min: int
    r_max: int
    f_min: int
    f_max: int
    m_min: int
    m_max: int


@dataclass
class RfmScores:
    """RFM scores of arrays of customers (:func:`custscore.value.rfm_score`)."""
    r: Any
    f: Any
    m: Any
    segment_index: Any  #: index into the rule table, -1 for "Others"
    segment: List[str]  #: segment names


def _dict_params(info):
    return {_convert.pystr(info.param_name[k]) or "p%d" % k: info.param[k]
            for k in range(info.n_params)}


@dataclass
class FitResult:
    """A fitted model (``custscore_fit_info``).

    ``params`` and ``std_error`` map the literature's parameter names (r,
    alpha, a, b / r, alpha, s, beta / p, q, gamma) to values. A FitResult can
    be passed wherever a model's parameters are expected, and has methods
    with both custscore's and the lifetimes package's names.
    """
    model: str
    unit: str
    name: str
    model_id: int
    as_of: Any
    fitted_at: Any
    params: Dict[str, float]
    std_error: Dict[str, float]
    cov_log: List[List[float]]
    loglik: float
    aic: float
    bic: float
    n: int
    n_unique: int
    n_excluded: int
    repeat_purchases: float
    status: str
    iterations: int
    evaluations: int
    gradient_norm: float
    starts: int
    starts_converged: int
    starts_agreeing: int
    penalty: float
    time_scale: float
    spend_frequency_corr: float
    mean_spend: float
    zero_revenue: str = "adjustment"  #: store fits: whether 0-revenue orders were purchases
    _info: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def _from_c(cls, info):
        names = [_convert.pystr(info.param_name[k]) or "p%d" % k for k in range(info.n_params)]
        copy = _ffi.FitInfo()
        ctypes_memmove(copy, info)
        return cls(
            _convert.enum_name(info.model, _ffi.MODEL), _convert.enum_name(info.unit, _ffi.UNIT),
            info.name.decode("utf-8", "replace"), info.model_id, _convert.from_time(info.as_of),
            _convert.from_time(info.fitted_at), _dict_params(info),
            {names[k]: info.std_error[k] for k in range(info.n_params)},
            [[info.cov_log[i][j] for j in range(info.n_params)] for i in range(info.n_params)],
            info.loglik, info.aic, info.bic, info.n, info.n_unique, info.n_excluded,
            info.repeat_purchases, _convert.enum_name(info.status, _ffi.FIT_STATUS),
            info.iterations, info.evaluations, info.gradient_norm, info.starts,
            info.starts_converged, info.starts_agreeing, info.penalty, info.time_scale,
            info.spend_frequency_corr, info.mean_spend,
            _convert.enum_name(info.zero, _ffi.ZERO_REVENUE), copy)

    @property
    def converged(self) -> bool:
        """True when the fit met its gradient test."""
        return self.status == "converged"

    # --- custscore names -------------------------------------------------
    def p_alive(self, x, t_x, T):
        """P(alive | x, t_x, T) (see :func:`custscore.models.p_alive`)."""
        from . import models
        return models.p_alive(self, x, t_x, T)

    def expected(self, t):
        """E[X(t)] for a new customer (see :func:`custscore.models.expected`)."""
        from . import models
        return models.expected(self, t)

    def conditional_expected(self, t, x, t_x, T):
        """E[purchases in the next t | x, t_x, T]."""
        from . import models
        return models.conditional_expected(self, t, x, t_x, T)

    def pmf(self, t, max_n):
        """P(X(t) = k), k = 0..max_n, for a new customer."""
        from . import models
        return models.pmf(self, t, max_n)

    def p_no_purchase(self, t, x, t_x, T):
        """P(no purchase in the next t | x, t_x, T)."""
        from . import models
        return models.p_no_purchase(self, t, x, t_x, T)

    def expected_spend(self, x, mean_spend):
        """Gamma-Gamma: E[spend per purchase | x, mean_spend]."""
        from . import models
        return models.gg_expected_spend(self, x, mean_spend)

    # --- lifetimes names -------------------------------------------------
    def conditional_probability_alive(self, frequency, recency, T):
        """lifetimes' name for :meth:`p_alive`."""
        return self.p_alive(frequency, recency, T)

    def expected_number_of_purchases_up_to_time(self, t):
        """lifetimes' name for :meth:`expected`."""
        return self.expected(t)

    def conditional_expected_number_of_purchases_up_to_time(self, t, frequency, recency, T):
        """lifetimes' name for :meth:`conditional_expected`."""
        return self.conditional_expected(t, frequency, recency, T)

    def probability_of_n_purchases_up_to_time(self, t, n):
        """lifetimes' name: P(X(t) = n) for a new customer."""
        return self.pmf(t, n)[n]

    def conditional_expected_average_profit(self, frequency, monetary_value):
        """lifetimes' name for :meth:`expected_spend` (Gamma-Gamma)."""
        return self.expected_spend(frequency, monetary_value)


def ctypes_memmove(dst, src):
    import ctypes
    ctypes.memmove(ctypes.byref(dst), ctypes.byref(src), ctypes.sizeof(src))


@dataclass
class ClvRow:
    """One customer's lifetime value (``custscore_clv_row``)."""
    customer: Optional[str]
    x: int
    t_x: float
    T: float
    mean_spend: float
    p_alive: float
    expected_purchases: float
    expected_spend: float
    clv: float
    clv_low: float   #: NaN without an interval
    clv_high: float  #: NaN without an interval

    @classmethod
    def _from_c(cls, r):
        return cls(_convert.pystr(r.customer), r.x, r.t_x, r.T, r.mean_spend, r.p_alive,
                   r.expected_purchases, r.expected_spend, r.clv, r.clv_low, r.clv_high)


@dataclass
class ClvInfo:
    """What a CLV run used (``custscore_clv_info``)."""
    purchase_model: str
    unit: str
    purchase_model_name: str
    spend_model_name: str
    purchase_model_id: int
    spend_model_id: int
    as_of: Any
    horizon: float
    horizon_unit: str
    horizon_in_unit: float
    periods: int
    discount_rate: float
    margin: float
    margin_from_costs: bool
    interval_level: float
    interval_draws: int
    seed: int
    customers: int
    total_clv: float

    @classmethod
    def _from_c(cls, i):
        return cls(_convert.enum_name(i.purchase_model, _ffi.MODEL),
                   _convert.enum_name(i.unit, _ffi.UNIT),
                   i.purchase_model_name.decode("utf-8", "replace"),
                   i.spend_model_name.decode("utf-8", "replace"), i.purchase_model_id,
                   i.spend_model_id, _convert.from_time(i.as_of), i.horizon,
                   _convert.enum_name(i.horizon_unit, _ffi.UNIT), i.horizon_in_unit, i.periods,
                   i.discount_rate, i.margin, bool(i.margin_from_costs), i.interval_level,
                   i.interval_draws, i.seed, i.customers, i.total_clv)


@dataclass
class ClvArrays:
    """CLV of arrays of customers (:func:`custscore.models.clv`)."""
    p_alive: Any
    expected_purchases: Any
    expected_spend: Any
    clv: Any
    clv_low: Any
    clv_high: Any
    info: ClvInfo


@dataclass
class HoldoutRow:
    """Calibration/holdout comparison for one calibration frequency x."""
    x: int
    customers: int
    actual: float
    predicted: float


@dataclass
class HoldoutCustomer:
    """One customer's holdout comparison."""
    customer: str
    x: int
    t_x: float
    T: float
    actual: int
    predicted: float


@dataclass
class HoldoutReport:
    """Result of :meth:`custscore.Store.holdout`."""
    calibration_end: Any
    holdout_end: Any
    holdout_length: float
    fit: FitResult
    customers: int
    actual_total: float
    predicted_total: float
    mae: float
    rmse: float
    correlation: float
    rows: List[HoldoutRow]
    per_customer: Results  #: HoldoutCustomer rows (empty unless asked for)


@dataclass
class LogisticFit:
    """A logistic regression fit (:func:`custscore.models.logistic_fit`)."""
    coef: Any       #: [p + 1], intercept first
    std_error: Any  #: [p + 1]
    iterations: int
    converged: bool
    loglik: float
    penalty: float
    n: int
    base_rate: float
    n_constant: int

    def predict(self, x):
        """Probabilities of the rows of @p x under these coefficients."""
        from . import models
        return models.logistic_predict(x, self.coef)


@dataclass
class CalibrationBin:
    """One bin of a calibration table."""
    n: int
    p_min: float
    p_max: float
    mean_predicted: float
    observed_rate: float


@dataclass
class Cohort:
    """The customers whose first purchase fell in one period (``custscore_cohort``)."""
    start: Any                      #: first second of the cohort's period (datetime, UTC)
    customers: int                  #: cohort size
    repeat_rate: float              #: share with a repeat occasion by the as-of day
    mean_interpurchase_days: float  #: NaN when no repeat buyer
    repeat_revenue_share: float     #: NaN when no revenue
    retention: Any                  #: [k]: share with an occasion k periods later ([0] = 1)

    @classmethod
    def _from_c(cls, c):
        np = _convert.np
        curve = [c.retention[k] for k in range(c.n_periods)]
        return cls(_convert.from_time(c.start) if c.start else _convert.from_epoch0(),
                   c.customers, c.repeat_rate, c.mean_interpurchase_days,
                   c.repeat_revenue_share, np.asarray(curve) if np is not None else curve)


@dataclass
class PeriodStats:
    """One calendar period's loyalty indicators (``custscore_period_stats``)."""
    start: Any
    active: int
    new_customers: int
    retention_rate: float        #: NaN for the first period
    repeat_purchase_rate: float
    mean_interpurchase_days: float
    revenue: float
    repeat_revenue_share: float

    @classmethod
    def _from_c(cls, p):
        return cls(_convert.from_time(p.start) if p.start else _convert.from_epoch0(), p.active,
                   p.new_customers, p.retention_rate, p.repeat_purchase_rate,
                   p.mean_interpurchase_days, p.revenue, p.repeat_revenue_share)


@dataclass
class RetentionReport:
    """Cohort retention and per-period loyalty indicators
    (:meth:`custscore.Store.retention`)."""
    period: str
    as_of: Any
    cohorts: Results   #: :class:`Cohort` rows, oldest first
    periods: Results   #: :class:`PeriodStats` rows, oldest first
    repeat_rate: float
    mean_interpurchase_days: float

    def retention_matrix(self):
        """Cohort x period retention as a pandas DataFrame indexed by cohort
        start (NaN beyond each cohort's curve). Requires pandas."""
        import pandas as pd
        return pd.DataFrame({c.start: pd.Series(list(c.retention)) for c in self.cohorts}).T


def isnan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)
