"""Churn risk on the store: training a model (:meth:`custscore.Store.churn_train`),
its card (:meth:`custscore.Store.churn_card`), scoring every customer with a
probability, band, reasons and value at risk (:meth:`custscore.Store.churn`).

Higher probability = more likely to churn, everywhere. The array building
blocks (logistic regression, AUC, Brier, lift, calibration) are in
:mod:`custscore.models`. Methods and features: docs/models.md ("Churn risk").
"""

from __future__ import annotations

import ctypes
import json
from ctypes import byref
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from . import _convert, _ffi
from ._convert import cstr, to_time
from .results import CalibrationBin, Results

lib = _ffi.lib

__all__ = ["ChurnCoef", "ChurnCard", "ChurnScore", "churn_options", "churn_band"]


def churn_band(probability, band_medium=_ffi.CHURN_BAND_MEDIUM,
               band_high=_ffi.CHURN_BAND_HIGH) -> str:
    """Band name ("low", "medium", "high") of a probability under thresholds."""
    return lib.custscore_churn_band(float(probability), float(band_medium), float(band_high))


@dataclass
class ChurnCoef:
    """One coefficient of a churn model card."""
    name: str
    group: str
    coefficient: float      #: logit change per unit (> 0 raises the risk)
    std_error: float
    std_coefficient: float  #: logit change per standard deviation
    mean: float
    sd: float


@dataclass
class ChurnCard:
    """A churn model card: what the model is, what it was trained on and how
    well it did (metrics on the holdout when there is one)."""
    model_name: str
    method: str            #: "window", "label", "btyd", "btyd_alive"
    fitted_at: Any
    as_of: Any
    cutoff: Any
    window_days: float
    label: Optional[str]
    btyd_model: Optional[str]
    survey_model: Optional[str]
    prior_gap_days: float
    intercept: float
    coefs: List[ChurnCoef]
    l2: float
    iterations: int
    converged: bool
    n_train: int
    n_holdout: int
    base_rate: float
    holdout_base_rate: float
    train_auc: float
    auc: float
    brier: float
    lift_top_decile: float
    calibration: List[CalibrationBin]
    band_medium: float
    band_high: float
    params: Dict[str, Any]  #: the card's parameters as stored (parsed JSON)
    info: Dict[str, Any]    #: the card's info as stored (parsed JSON)

    @classmethod
    def _from_c(cls, c):
        s = _convert.pystr
        return cls(
            s(c.model_name), _convert.enum_name(c.method, _ffi.CHURN_METHOD),
            _convert.from_time(c.fitted_at), _convert.from_time(c.as_of),
            _convert.from_time(c.cutoff), c.window_days, s(c.label), s(c.btyd_model),
            s(c.survey_model), c.prior_gap_days, c.intercept,
            [ChurnCoef(s(k.name), s(k.group), k.coefficient, k.std_error, k.std_coefficient,
                       k.mean, k.sd) for k in c.coefs[:c.n_coefs]] if c.coefs else [],
            c.l2, c.iterations, bool(c.converged), c.n_train, c.n_holdout, c.base_rate,
            c.holdout_base_rate, c.train_auc, c.auc, c.brier, c.lift_top_decile,
            [CalibrationBin(b.n, b.p_min, b.p_max, b.mean_predicted, b.observed_rate)
             for b in c.calibration[:c.n_calibration]] if c.calibration else [],
            c.band_medium, c.band_high, _json(c.params_json), _json(c.info_json))

    def coefficients(self) -> Dict[str, float]:
        """{feature: coefficient}, the intercept under "(intercept)"."""
        out = {"(intercept)": self.intercept}
        out.update((k.name, k.coefficient) for k in self.coefs)
        return out


def _json(text):
    text = _convert.pystr(text)
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return {"text": text}


@dataclass
class ChurnScore:
    """One customer's churn score: probability, band, up to three reasons
    (group, words, logit contribution), every group's contribution, CLV and
    value at risk."""
    customer: str
    probability: float
    band: str
    band_level: int
    logit: float
    logit_at_mean: float
    reason1: str
    reason1_text: str
    reason1_contribution: float
    reason2: str
    reason2_text: str
    reason2_contribution: float
    reason3: str
    reason3_text: str
    reason3_contribution: float
    contributions: Dict[str, float]
    has_clv: bool
    clv: float
    value_at_risk: float

    @classmethod
    def _from_c(cls, c):
        s = _convert.pystr
        reasons = []
        for k in range(_ffi.CHURN_REASONS):
            if k < c.n_reasons:
                r = c.reason[k]
                reasons += [s(r.feature) or "", s(r.text) or "", r.contribution]
            else:
                reasons += ["", "", float("nan")]
        groups = {}
        if c.n_groups and c.groups and c.contribution:
            groups = {s(c.groups[k]): c.contribution[k] for k in range(c.n_groups)}
        return cls(s(c.customer), c.probability, s(c.band) or "", c.band_level, c.logit,
                   c.logit_at_mean, *reasons, groups, bool(c.has_clv), c.clv, c.value_at_risk)

    @property
    def reasons(self) -> List[str]:
        """The reasons in words, largest contribution first."""
        return [t for t in (self.reason1_text, self.reason2_text, self.reason3_text) if t]


def churn_options(method=None, window_days=0, label=None, label_positive=None, features=None,
                  behaviour=None, holdout=0.3, seed=1, l2=1.0, lookback_days=365.0,
                  complaint_days=90.0, rare_level=0.01, band_medium=0.0, band_high=0.0,
                  model_name=None, btyd_model=None, survey_model=None, save=True, clv=True):
    """custscore_churn_options from keyword arguments (and the objects to keep
    alive). @p method "window", "label", "btyd" or "btyd_alive" (None: label
    when @p label is given, else window; when scoring, the stored model's);
    @p features attribute names (a list or "a,b"; "*" for all);
    @p behaviour None (method's default), True or False; band thresholds 0
    mean the stored model's / the defaults; ``save=False`` trains without
    storing; ``clv=False`` scores without looking up the CLV (no value at
    risk)."""
    keep = []
    opt = _ffi.ChurnOptions()
    if method is not None:
        opt.method = _convert.enum(method, _ffi.CHURN_METHOD, "method")
    opt.window_days = float(window_days)
    if features is not None and not isinstance(features, str):
        features = ",".join(features)
    for name, value in (("label", label), ("label_positive", label_positive),
                        ("features", features), ("model_name", model_name),
                        ("btyd_model", btyd_model), ("survey_model", survey_model)):
        if value is not None:
            b = cstr(value, name)
            keep.append(b)
            setattr(opt, name, b)
    opt.behaviour = -1 if behaviour is None else (1 if behaviour else 0)
    opt.holdout = float(holdout)
    opt.seed = int(seed)
    opt.l2 = float(l2)
    opt.lookback_days = float(lookback_days)
    opt.complaint_days = float(complaint_days)
    opt.rare_level = float(rare_level)
    opt.band_medium = float(band_medium)
    opt.band_high = float(band_high)
    opt.no_store = 0 if save else 1
    opt.no_clv = 0 if clv else 1
    return opt, keep


def _card(ptr):
    try:
        return ChurnCard._from_c(ptr.contents)
    finally:
        lib.custscore_churn_card_free(ptr)


def store_churn_train(store, as_of, **options) -> ChurnCard:
    opt, keep = churn_options(**options)
    out = ctypes.POINTER(_ffi.ChurnCard)()
    with store._lock:
        lib.custscore_churn_train(store._h(), to_time(as_of, "as_of"), byref(opt), byref(out))
    return _card(out)


def store_churn_card(store, name=None) -> ChurnCard:
    out = ctypes.POINTER(_ffi.ChurnCard)()
    with store._lock:
        lib.custscore_churn_card_get(store._h(), cstr(name, "name"), byref(out))
    return _card(out)


def store_churn(store, as_of, **options) -> Results:
    from .store import _Callback, _call_each
    opt, keep = churn_options(**options)
    rows = Results()
    append = rows.append
    callback = _Callback(lambda c, payload: append(ChurnScore._from_c(c.contents)))
    cfunc = _ffi.CHURN_FN(callback)
    with store._lock:
        _call_each(lib.custscore_churn_score_each,
                   (store._h(), to_time(as_of, "as_of"), byref(opt), cfunc, None), callback)
    return rows
