"""Pure model functions over arrays: the BTYD purchase models (BG/NBD,
MBG/NBD, Pareto/NBD), the Gamma-Gamma spend model, residual CLV, logistic
regression and classifier metrics.

Every function hands whole arrays to one C call (the ``custscore_*`` array
functions) - no per-customer Python loop - so scoring millions of customers
costs what the C library costs. Inputs may be numpy arrays (float64 arrays
are used in place), pandas Series, lists or scalars; outputs are numpy arrays
when numpy is installed, else lists, and a float when every per-customer
input was a scalar.

Parameters (``params``) may be a :class:`custscore.FitResult`, a dict with
the literature's names (``{"r": .., "alpha": .., "a": .., "b": ..}``, with
an optional ``"model"``; ``s`` and ``beta`` mean Pareto/NBD), or a tuple in
that order. Times (x, t_x, T, t) are in the unit the parameters were fitted
in. The model-specific names (``bgnbd_p_alive``, ``pnbd_conditional_expected``,
...) fix the model.

Formulas and citations: docs/models.md, "Lifetime value" and "Churn".
"""

from __future__ import annotations

import ctypes
from ctypes import byref, c_double, c_int

from . import _convert, _ffi
from ._convert import Out, doubles, vectors
from ._options import clv_options, fit_options, logistic_options
from .errors import InvalidInput, NoConvergence
from .results import CalibrationBin, ClvArrays, ClvInfo, FitResult, LogisticFit

lib = _ffi.lib

__all__ = [
    "btyd_params", "gg_params", "loglik", "loglik_each", "gradient", "p_alive", "expected",
    "conditional_expected", "pmf", "p_no_purchase", "gg_loglik", "gg_gradient",
    "gg_expected_spend", "fit", "gg_fit", "clv", "clv_margin_multiple", "model_name",
    "model_parse", "logistic_fit", "logistic_predict", "auc", "brier", "lift", "calibration",
]

_PURCHASE_MODELS = ("bgnbd", "mbgnbd", "pnbd")

# ---------------------------------------------------------------------------
# Parameters


def btyd_params(params, model=None):
    """A ``custscore_btyd_params`` struct from a FitResult, dict, tuple or
    struct. @p model ("bgnbd", "mbgnbd", "pnbd") applies when @p params does
    not say."""
    if isinstance(params, _ffi.BtydParams):
        return params
    out = _ffi.BtydParams()
    if isinstance(params, FitResult):
        model = params.model
        values = params.params
    elif isinstance(params, dict):
        values = params
        model = params.get("model", model)
        if model is None:
            model = "pnbd" if "s" in params or "beta" in params else "bgnbd"
    else:
        seq = [float(v) for v in params]
        if len(seq) != 4:
            raise InvalidInput("params: expected 4 values (r, alpha, a, b) or (r, alpha, s, "
                               "beta), got %d" % len(seq), -1)
        model = model or "bgnbd"
        names = ("r", "alpha", "s", "beta") if model == "pnbd" else ("r", "alpha", "a", "b")
        values = dict(zip(names, seq))
    code = _convert.enum(model, _ffi.MODEL, "model")
    if code == _ffi.MODEL["gg"]:
        raise InvalidInput("params: a Gamma-Gamma model is not a purchase model", -1)
    out.model = code
    try:
        out.r = float(values["r"])
        out.alpha = float(values["alpha"])
        if code == _ffi.MODEL["pnbd"]:
            out.s = float(values["s"])
            out.beta = float(values["beta"])
        else:
            out.a = float(values["a"])
            out.b = float(values["b"])
    except KeyError as exc:
        raise InvalidInput("params: %s missing for model %s" % (exc, model), -1) from None
    return out


def gg_params(params):
    """A ``custscore_gg_params`` struct from a FitResult, dict (p, q, gamma),
    tuple or struct."""
    if isinstance(params, _ffi.GgParams):
        return params
    if isinstance(params, FitResult):
        if params.model != "gg":
            raise InvalidInput("params: a %s model is not a Gamma-Gamma model" % params.model,
                               -1)
        params = params.params
    if isinstance(params, dict):
        try:
            return _ffi.GgParams(float(params["p"]), float(params["q"]), float(params["gamma"]))
        except KeyError as exc:
            raise InvalidInput("params: %s missing for the Gamma-Gamma model" % exc, -1) from None
    seq = [float(v) for v in params]
    if len(seq) != 3:
        raise InvalidInput("params: expected (p, q, gamma)", -1)
    return _ffi.GgParams(*seq)


def _result(out, scalar):
    return out.value(scalar)

# ---------------------------------------------------------------------------
# Purchase models


def loglik(params, x, t_x, T, weights=None, model=None):
    """Log-likelihood of a purchase model summed over customers (or
    patterns weighted by @p weights)."""
    p = btyd_params(params, model)
    (xa, ta, Ta), n, _ = vectors(x, t_x, T, names=("x", "t_x", "T"))
    w = _convert.optional_doubles(weights, n, "weights")
    out = c_double()
    lib.custscore_btyd_loglik(byref(p), n, xa.ptr, ta.ptr, Ta.ptr, _convert.ptr(w), None,
                              byref(out))
    return out.value


def loglik_each(params, x, t_x, T, model=None):
    """Individual log-likelihoods of each customer."""
    p = btyd_params(params, model)
    (xa, ta, Ta), n, scalar = vectors(x, t_x, T, names=("x", "t_x", "T"))
    out = Out(n)
    lib.custscore_btyd_loglik(byref(p), n, xa.ptr, ta.ptr, Ta.ptr, None, out.ptr, None)
    return _result(out, scalar)


def gradient(params, x, t_x, T, weights=None, model=None):
    """Gradient of the summed log-likelihood in (r, alpha, a, b) or, for
    Pareto/NBD, (r, alpha, s, beta)."""
    p = btyd_params(params, model)
    (xa, ta, Ta), n, _ = vectors(x, t_x, T, names=("x", "t_x", "T"))
    w = _convert.optional_doubles(weights, n, "weights")
    out = Out(4)
    lib.custscore_btyd_gradient(byref(p), n, xa.ptr, ta.ptr, Ta.ptr, _convert.ptr(w), out.ptr)
    return out.value()


def p_alive(params, x, t_x, T, model=None):
    """P(alive | x, t_x, T) of each customer (lifetimes:
    ``conditional_probability_alive``)."""
    p = btyd_params(params, model)
    (xa, ta, Ta), n, scalar = vectors(x, t_x, T, names=("x", "t_x", "T"))
    out = Out(n)
    lib.custscore_btyd_p_alive(byref(p), n, xa.ptr, ta.ptr, Ta.ptr, out.ptr)
    return _result(out, scalar)


def expected(params, t, model=None):
    """E[X(t)]: expected repeat purchases in (0, t] of a new customer
    (lifetimes: ``expected_number_of_purchases_up_to_time``)."""
    p = btyd_params(params, model)
    (ta,), n, scalar = vectors(t, names=("t",))
    out = Out(n)
    lib.custscore_btyd_expected(byref(p), n, ta.ptr, out.ptr)
    return _result(out, scalar)


def conditional_expected(params, t, x, t_x, T, model=None):
    """E[purchases in (T, T + t] | x, t_x, T] of each customer (lifetimes:
    ``conditional_expected_number_of_purchases_up_to_time``)."""
    p = btyd_params(params, model)
    (xa, ta, Ta), n, scalar = vectors(x, t_x, T, names=("x", "t_x", "T"))
    out = Out(n)
    lib.custscore_btyd_conditional_expected(byref(p), float(t), n, xa.ptr, ta.ptr, Ta.ptr,
                                            out.ptr)
    return _result(out, scalar)


def pmf(params, t, max_n, model=None):
    """P(X(t) = k), k = 0..max_n, for a new customer (lifetimes:
    ``probability_of_n_purchases_up_to_time`` for one k)."""
    p = btyd_params(params, model)
    out = Out(int(max_n) + 1)
    lib.custscore_btyd_pmf(byref(p), float(t), int(max_n), out.ptr)
    return out.value()


def p_no_purchase(params, t, x, t_x, T, model=None):
    """P(no purchase in (T, T + t] | x, t_x, T) of each customer."""
    p = btyd_params(params, model)
    (xa, ta, Ta), n, scalar = vectors(x, t_x, T, names=("x", "t_x", "T"))
    out = Out(n)
    lib.custscore_btyd_p_no_purchase(byref(p), float(t), n, xa.ptr, ta.ptr, Ta.ptr, out.ptr)
    return _result(out, scalar)

# ---------------------------------------------------------------------------
# Gamma-Gamma


def gg_loglik(params, x, mean_spend):
    """Gamma-Gamma log-likelihood of customers with x >= 1."""
    p = gg_params(params)
    (xa, ma), n, _ = vectors(x, mean_spend, names=("x", "mean_spend"))
    out = c_double()
    lib.custscore_gg_loglik(byref(p), n, xa.ptr, ma.ptr, byref(out))
    return out.value


def gg_gradient(params, x, mean_spend):
    """Gradient of :func:`gg_loglik` in (p, q, gamma)."""
    p = gg_params(params)
    (xa, ma), n, _ = vectors(x, mean_spend, names=("x", "mean_spend"))
    out = Out(3)
    lib.custscore_gg_gradient(byref(p), n, xa.ptr, ma.ptr, out.ptr)
    return out.value()


def gg_expected_spend(params, x, mean_spend):
    """E[spend per purchase | x, mean_spend] (lifetimes:
    ``conditional_expected_average_profit``); x = 0 gets the population mean."""
    p = gg_params(params)
    (xa, ma), n, scalar = vectors(x, mean_spend, names=("x", "mean_spend"))
    out = Out(n)
    lib.custscore_gg_expected_spend(byref(p), n, xa.ptr, ma.ptr, out.ptr)
    return _result(out, scalar)

# ---------------------------------------------------------------------------
# Fits


def fit(x, t_x, T, model="bgnbd", unit="week", weights=None, penalty=0.0, starts=0,
        max_iterations=0, tolerance=0.0):
    """Fit a purchase model on arrays (no store) by maximum likelihood.
    @p unit names the unit of t_x and T (echoed in the result). Raises
    NoConvergence carrying ``.result`` (the last point) when it did not
    converge."""
    opt, keep = fit_options(model, unit, penalty, starts, max_iterations, tolerance)
    (xa, ta, Ta), n, _ = vectors(x, t_x, T, names=("x", "t_x", "T"))
    w = _convert.optional_doubles(weights, n, "weights")
    info = _ffi.FitInfo()
    err = ctypes.create_string_buffer(1024)
    try:
        lib.custscore_btyd_fit(byref(opt), n, xa.ptr, ta.ptr, Ta.ptr, _convert.ptr(w),
                               byref(info), err, len(err))
    except NoConvergence as exc:
        exc.result = FitResult._from_c(info)
        raise
    return FitResult._from_c(info)


def gg_fit(x, mean_spend, penalty=0.0, starts=0, max_iterations=0, tolerance=0.0):
    """Fit the Gamma-Gamma spend model on arrays (customers with x >= 1 and
    mean_spend > 0 enter; the rest are counted in ``n_excluded``)."""
    opt, keep = fit_options("gg", "week", penalty, starts, max_iterations, tolerance)
    (xa, ma), n, _ = vectors(x, mean_spend, names=("x", "mean_spend"))
    info = _ffi.FitInfo()
    err = ctypes.create_string_buffer(1024)
    try:
        lib.custscore_gg_fit(byref(opt), n, xa.ptr, ma.ptr, byref(info), err, len(err))
    except NoConvergence as exc:
        exc.result = FitResult._from_c(info)
        raise
    return FitResult._from_c(info)


def _fit_info(params, spend=False, unit="week"):
    """A custscore_fit_info for CLV from a FitResult, or from bare
    parameters (no covariance: use interval_level=0)."""
    if isinstance(params, FitResult) and params._info is not None:
        return params._info
    info = _ffi.FitInfo()
    info.unit = _convert.unit(unit)
    if spend:
        g = gg_params(params)
        info.model = _ffi.MODEL["gg"]
        info.n_params = 3
        info.gg = g
        for k, v in enumerate((g.p, g.q, g.gamma)):
            info.param[k] = v
    else:
        b = btyd_params(params)
        info.model = b.model
        info.n_params = 4
        info.btyd = b
        last = (b.s, b.beta) if b.model == _ffi.MODEL["pnbd"] else (b.a, b.b)
        for k, v in enumerate((b.r, b.alpha) + last):
            info.param[k] = v
    return info


def clv(purchase, spend, x, t_x, T, mean_spend, horizon=12.0, horizon_unit="month",
        discount_rate=0.10, margin=None, interval_level=0.90, interval_draws=200, seed=1,
        unit="week", outputs=("p_alive", "expected_purchases", "expected_spend", "clv",
                              "clv_low", "clv_high")):
    """Discounted residual lifetime value of arrays of customers.

    @p purchase is a fitted purchase model, @p spend a fitted Gamma-Gamma
    model (FitResults; bare parameters work with ``interval_level=0``, their
    time unit given by @p unit). x, t_x, T are in the purchase model's unit.
    ``margin`` None means 1. @p outputs names the arrays to compute (the
    others come back as None). Returns :class:`custscore.ClvArrays`.
    """
    opt, keep = clv_options(horizon, horizon_unit, discount_rate, margin, interval_level,
                            interval_draws, seed)
    pinfo = _fit_info(purchase, False, unit)
    sinfo = _fit_info(spend, True, unit)
    (xa, ta, Ta, ma), n, scalar = vectors(x, t_x, T, mean_spend,
                                          names=("x", "t_x", "T", "mean_spend"))
    names = ("p_alive", "expected_purchases", "expected_spend", "clv", "clv_low", "clv_high")
    unknown = set(outputs) - set(names)
    if unknown:
        raise InvalidInput("outputs: unknown %s" % ", ".join(sorted(unknown)), -1)
    outs = {name: Out(n) if name in outputs else None for name in names}
    info = _ffi.ClvInfo()
    lib.custscore_clv_arrays(byref(pinfo), byref(sinfo), byref(opt), n, xa.ptr, ta.ptr, Ta.ptr,
                             ma.ptr, *[_convert.ptr(outs[name]) for name in names], byref(info))
    values = [None if outs[name] is None else outs[name].value(scalar) for name in names]
    return ClvArrays(*values, ClvInfo._from_c(info))


def clv_margin_multiple(margin, retention, discount):
    """Gupta & Lehmann (2003) margin multiple m r / (1 + d - r)."""
    out = c_double()
    lib.custscore_clv_margin_multiple(float(margin), float(retention), float(discount),
                                      byref(out))
    return out.value


def model_name(model):
    """Short name of a model ("bgnbd", "mbgnbd", "pnbd", "gg") from its C value or name."""
    code = _convert.enum(model, _ffi.MODEL, "model") if isinstance(model, str) else int(model)
    return lib.custscore_model_name(code)


def model_parse(name):
    """Parse a model name (case-insensitive; also "bg/nbd", "pareto/nbd",
    "gamma-gamma"); returns the short name."""
    out = c_int()
    lib.custscore_model_parse(_convert.cstr(name, "model", allow_none=False), byref(out))
    return lib.custscore_model_name(out.value)

# ---------------------------------------------------------------------------
# Logistic regression and classifier metrics


def _matrix(x, what="x"):
    """A row-major n x p matrix of doubles -> (DoubleArray, n, p)."""
    np = _convert.np
    if np is not None:
        if _convert.is_dataframe(x):
            x = x.to_numpy(dtype="float64")
        arr = np.ascontiguousarray(x, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2:
            raise InvalidInput("%s: expected a 2-D matrix, got %d dimensions" % (what, arr.ndim),
                               -1)
        n, p = arr.shape
        return doubles(arr, what), n, p
    rows = [list(r) if not isinstance(r, (int, float)) else [r] for r in x]
    n = len(rows)
    p = len(rows[0]) if rows else 0
    if any(len(r) != p for r in rows):
        raise InvalidInput("%s: rows of different lengths" % what, -1)
    return doubles([float(v) for r in rows for v in r], what), n, p


def logistic_fit(x, y, weight=None, l2=1.0, max_iterations=100, tolerance=1e-10):
    """Fit an L2-penalised logistic regression P(y = 1 | x) on an n x p
    matrix @p x and 0/1 labels @p y (1 = churned). Returns
    :class:`custscore.LogisticFit` (coef[0] the intercept). Raises
    NoConvergence (``.result`` the last iterate) when the iterations ran out."""
    xa, n, p = _matrix(x)
    ya = doubles(y, "y")
    if ya.n != n:
        raise InvalidInput("y: %d labels for %d rows" % (ya.n, n), -1)
    w = _convert.optional_doubles(weight, n, "weight")
    opt = logistic_options(l2, max_iterations, tolerance)
    coef, se = Out(p + 1), Out(p + 1)
    info = _ffi.LogisticInfo()
    err = ctypes.create_string_buffer(512)

    def result():
        return LogisticFit(coef.value(), se.value(), info.iterations, bool(info.converged),
                           info.loglik, info.penalty, info.n, info.base_rate, info.n_constant)
    try:
        lib.custscore_logistic_fit(xa.ptr, n, p, ya.ptr, _convert.ptr(w), byref(opt), coef.ptr,
                                   se.ptr, byref(info), err, len(err))
    except NoConvergence as exc:
        exc.result = result()
        raise
    return result()


def logistic_predict(x, coef):
    """Probabilities of the rows of @p x under @p coef ([p + 1], intercept first)."""
    xa, n, p = _matrix(x)
    ca = doubles(coef, "coef")
    if ca.n != p + 1:
        raise InvalidInput("coef: %d values for %d features (expected p + 1)" % (ca.n, p), -1)
    out = Out(n)
    lib.custscore_logistic_predict(xa.ptr, n, p, ca.ptr, out.ptr)
    return out.value()


def _pair(a, b, names):
    (aa, ba), n, _ = vectors(a, b, names=names)
    return aa, ba, n


def auc(score, label):
    """Area under the ROC curve (ties count one half)."""
    s, lab, n = _pair(score, label, ("score", "label"))
    out = c_double()
    lib.custscore_auc(s.ptr, lab.ptr, n, byref(out))
    return out.value


def brier(prob, label):
    """Brier score: mean squared difference of probabilities and labels."""
    s, lab, n = _pair(prob, label, ("prob", "label"))
    out = c_double()
    lib.custscore_brier(s.ptr, lab.ptr, n, byref(out))
    return out.value


def lift(score, label, fraction=0.1):
    """Lift of the top @p fraction of customers by score."""
    s, lab, n = _pair(score, label, ("score", "label"))
    out = c_double()
    lib.custscore_lift(s.ptr, lab.ptr, n, float(fraction), byref(out))
    return out.value


def calibration(prob, label, bins=10):
    """Calibration table of @p bins equal-size groups by predicted
    probability, lowest first: a list of :class:`custscore.CalibrationBin`."""
    s, lab, n = _pair(prob, label, ("prob", "label"))
    out = (_ffi.CalibrationBin * max(int(bins), 1))()
    lib.custscore_calibration(s.ptr, lab.ptr, n, int(bins), out)
    return [CalibrationBin(b.n, b.p_min, b.p_max, b.mean_predicted, b.observed_rate)
            for b in out[:int(bins)]]

# ---------------------------------------------------------------------------
# Model-specific names: bgnbd_p_alive(params, x, t_x, T), pnbd_fit(x, t_x, T) ...


def _specialise(model):
    def make(func, name):
        def specific(*args, **kwargs):
            if func is fit:
                kwargs["model"] = model
            else:
                kwargs.setdefault("model", model)
            return func(*args, **kwargs)
        specific.__name__ = name
        specific.__qualname__ = name
        specific.__doc__ = "%s with the %s model: see :func:`%s`." % (
            func.__name__, model, func.__name__)
        return specific
    for func in (p_alive, expected, conditional_expected, pmf, p_no_purchase, loglik,
                 loglik_each, gradient, fit):
        name = "%s_%s" % (model, func.__name__)
        globals()[name] = make(func, name)
        __all__.append(name)


for _model in _PURCHASE_MODELS:
    _specialise(_model)
