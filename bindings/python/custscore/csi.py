"""Customer satisfaction: PLS path modelling, survey models, the satisfaction
index (ACSI/ECSI form), per-customer satisfaction and NPS (SERVQUAL and Kano
live in :mod:`custscore.instruments` and are re-exported here).

Pure functions take a data matrix (numpy array, pandas DataFrame or lists;
NaN marks a missing answer); the store versions are methods of
:class:`custscore.Store` (``csi``, ``csi_customers``, ``servqual``, ``kano``,
``save_survey_model``, ``load_survey_model``). Formulas and citations:
docs/models.md ("Satisfaction index").
"""

from __future__ import annotations

import ctypes
from ctypes import byref, c_char_p, c_int, c_size_t
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import _convert, _ffi
from ._convert import cstr, doubles, key
from .errors import Closed, Error, InvalidInput, NoConvergence, OutOfRange
from .results import Results

lib = _ffi.lib

from .instruments import (KanoFeature, ServqualResult, kano, kano_category_name,  # noqa: E402
                          kano_classify, servqual, servqual_dimension_name)

__all__ = [
    "SurveyModel", "PlsResult", "pls_fit", "CsiEstimate", "CsiResult", "CsiDriver", "csi_fit",
    "NpsResult", "nps", "CustomerSatisfaction", "csi_options",
    # re-exported from custscore.instruments
    "ServqualResult", "servqual", "servqual_dimension_name", "KanoFeature", "kano",
    "kano_classify", "kano_category_name",
]

_ERRBUF = 1024


def _array(ptr, n, np_ok=True):
    """n doubles at a C pointer -> numpy array (a copy) or list; None for NULL."""
    if not ptr:
        return None
    values = ptr[:n]
    np = _convert.np
    return np.asarray(values, dtype=float) if np is not None and np_ok else list(values)


def _matrix_out(ptr, rows, cols):
    if not ptr:
        return None
    np = _convert.np
    values = ptr[:rows * cols]
    if np is not None:
        return np.asarray(values, dtype=float).reshape(rows, cols)
    return [values[i * cols:(i + 1) * cols] for i in range(rows)]


def _strings(ptr, n):
    return [_convert.pystr(ptr[i]) for i in range(n)] if ptr else []

# ---------------------------------------------------------------------------
# Survey models


class SurveyModel:
    """A survey model: which items measure which construct (with their answer
    scales and reverse coding), each construct's mode, the paths, the target
    (satisfaction) construct and the NPS item. Owned by the C library; freed
    by :meth:`close`, on leaving a ``with`` block, or when collected.

    Build one with ``SurveyModel("name")`` and the ``add_*`` methods,
    :meth:`template` ("acsi", "ecsi", "ccsi", "scsb", "five"), :meth:`parse`
    (the text format of docs/survey-model-format.md) or
    :meth:`custscore.Store.load_survey_model`.
    """

    def __init__(self, name=None, _handle=None):
        if _handle is None:
            handle = _ffi.SurveyModelP()
            lib.custscore_survey_model_new(cstr(name, "model name", allow_none=False),
                                           byref(handle))
            _handle = handle
        self._handle = _handle

    @classmethod
    def template(cls, name):
        """A built-in model: "acsi", "ecsi", "ccsi", "scsb" or "five"
        (NotFound for another name)."""
        handle = _ffi.SurveyModelP()
        try:
            lib.custscore_survey_model_template(cstr(name, "template", allow_none=False),
                                                byref(handle))
        except Error as exc:
            raise type(exc)("survey model template %r: %s (built-in: acsi, ecsi, ccsi, scsb, "
                            "five)" % (name, exc.message), exc.code, exc.function) from None
        return cls(_handle=handle)

    @classmethod
    def parse(cls, text, source_name=None):
        """Parse the text format; errors raise InvalidInput with
        "source:line:column: reason"."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        handle = _ffi.SurveyModelP()
        err = ctypes.create_string_buffer(_ERRBUF)
        lib.custscore_survey_model_parse(data, len(data), cstr(source_name, "source_name"),
                                         byref(handle), err, len(err))
        return cls(_handle=handle)

    def _h(self):
        if not self._handle:
            raise Closed("survey model is closed")
        return self._handle

    def close(self):
        """Free the model (harmless when already freed)."""
        handle, self._handle = self._handle, None
        if handle:
            lib.custscore_survey_model_free(handle)

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

    @property
    def name(self) -> str:
        """The model's name."""
        return lib.custscore_survey_model_name(self._h())

    def format(self) -> str:
        """The model in the text format (parse() reads it back to an equal model)."""
        needed = c_size_t()
        try:
            lib.custscore_survey_model_format(self._h(), None, 0, byref(needed))
        except OutOfRange:
            pass
        buf = ctypes.create_string_buffer(needed.value + 1)
        lib.custscore_survey_model_format(self._h(), buf, len(buf), byref(needed))
        return buf.value.decode("utf-8")

    __str__ = format

    def __repr__(self):
        return "<custscore.SurveyModel %s>" % (self.name if self._handle else "closed")

    def _context(self, what, call, *args):
        try:
            call(self._h(), *args)
        except InvalidInput as exc:
            raise type(exc)("survey model %s: %s: %s" % (self.name, what, exc.message),
                            exc.code, exc.function) from None
        except Exception as exc:
            if hasattr(exc, "message"):
                raise type(exc)("survey model %s: %s: %s" % (self.name, what, exc.message),
                                exc.code, exc.function) from None
            raise
        return self

    def add_construct(self, name, mode="A"):
        """Add a construct; @p mode "A" (reflective) or "B" (formative)."""
        code = _convert.enum("mode_" + mode.lower() if isinstance(mode, str) else mode,
                             _ffi.PLS_MODE, "mode")
        return self._context("construct %r" % name, lib.custscore_survey_model_add_construct,
                             key(name, "construct"), code)

    def add_item(self, construct, item, scale_min=1.0, scale_max=10.0, reversed=False):
        """Add an item of @p construct answered on scale_min..scale_max;
        a reversed item is recoded as max + min - answer."""
        return self._context("item %r" % item, lib.custscore_survey_model_add_item,
                             key(construct, "construct"), key(item, "item"), float(scale_min),
                             float(scale_max), 1 if reversed else 0)

    def add_path(self, source, target):
        """Add the path source -> target."""
        return self._context("path %s -> %s" % (source, target),
                             lib.custscore_survey_model_add_path, key(source, "construct"),
                             key(target, "construct"))

    def set_target(self, construct):
        """Make @p construct the target (satisfaction) construct."""
        return self._context("target %r" % construct, lib.custscore_survey_model_set_target,
                             key(construct, "construct"))

    def set_scale(self, scale_min, scale_max, item=None):
        """Set the answer scale of @p item, or of every item when None."""
        return self._context("scale", lib.custscore_survey_model_set_scale,
                             cstr(item, "item"), float(scale_min), float(scale_max))

    def set_nps_item(self, item):
        """Name the 0-10 "would you recommend" item (None: none)."""
        return self._context("NPS item", lib.custscore_survey_model_set_nps_item,
                             cstr(item, "item"))

    def map_items(self, mapping):
        """Map column names to constructs: "CONSTRUCT=COL+COL,..." or a dict
        {construct: [columns]} (a column may carry modifiers, e.g.
        "q8(reverse)" or "q9(0..10)")."""
        if isinstance(mapping, dict):
            mapping = ",".join("%s=%s" % (c, v if isinstance(v, str) else "+".join(v))
                               for c, v in mapping.items())
        err = ctypes.create_string_buffer(_ERRBUF)
        lib.custscore_survey_model_map_items(self._h(), cstr(mapping, "mapping"), err, len(err))
        return self


def _model_arg(model, store=None):
    """(SurveyModel, owned) from a SurveyModel or a name (template or stored)."""
    if isinstance(model, SurveyModel):
        return model, False
    if store is not None:
        return store.load_survey_model(model), True
    return SurveyModel.template(model), True

# ---------------------------------------------------------------------------
# PLS engine


@dataclass
class PlsResult:
    """A PLS path model fit (``custscore_pls_result``); arrays are numpy
    arrays when numpy is installed (k x k matrices [from, to])."""
    n_rows: int
    n_dropped: int
    n_items: int
    n_constructs: int
    converged: bool
    iterations: int
    last_change: float
    item_column: List[int]
    item_construct: List[int]
    rows: List[int]
    item_mean: Any
    item_sd: Any
    weights: Any
    raw_weights: Any
    index_weights: Any
    loadings: Any
    cross_loadings: Any
    paths: Any
    total_effects: Any
    r2: Any
    r2_adj: Any
    alpha: Any
    rho_c: Any
    ave: Any
    gof: float
    construct_mean: Any
    scores: Any
    boot_resamples: int
    boot_failed: int
    level: float
    weights_se: Any
    weights_low: Any
    weights_high: Any
    paths_se: Any
    paths_low: Any
    paths_high: Any
    construct_mean_se: Any
    construct_mean_low: Any
    construct_mean_high: Any

    @classmethod
    def _from_c(cls, r):
        p, k, n = r.n_items, r.n_constructs, r.n_rows
        return cls(
            n, r.n_dropped, p, k, bool(r.converged), r.iterations, r.last_change,
            list(r.item_column[:p]) if r.item_column else [],
            list(r.item_construct[:p]) if r.item_construct else [],
            list(r.rows[:n]) if r.rows else [], _array(r.item_mean, p), _array(r.item_sd, p),
            _array(r.weights, p), _array(r.raw_weights, p), _array(r.index_weights, p),
            _array(r.loadings, p), _matrix_out(r.cross_loadings, p, k),
            _matrix_out(r.paths, k, k), _matrix_out(r.total_effects, k, k), _array(r.r2, k),
            _array(r.r2_adj, k), _array(r.alpha, k), _array(r.rho_c, k), _array(r.ave, k),
            r.gof, _array(r.construct_mean, k), _matrix_out(r.scores, n, k), r.boot_resamples,
            r.boot_failed, r.level, _array(r.weights_se, p), _array(r.weights_low, p),
            _array(r.weights_high, p), _matrix_out(r.paths_se, k, k),
            _matrix_out(r.paths_low, k, k), _matrix_out(r.paths_high, k, k),
            _array(r.construct_mean_se, k), _array(r.construct_mean_low, k),
            _array(r.construct_mean_high, k))


def _data_matrix(data, columns=None):
    """(DoubleArray, n_rows, n_cols, column names or None) of a matrix or DataFrame."""
    if _convert.is_dataframe(data):
        if columns is None:
            columns = [str(c) for c in data.columns]
        data = data.to_numpy(dtype="float64")
    from .models import _matrix
    arr, n, p = _matrix(data, "data")
    if columns is not None and len(columns) != p:
        raise InvalidInput("columns: %d names for %d data columns" % (len(columns), p), -1)
    return arr, n, p, columns


def _set_enum(opt, name, value, table, prefix=""):
    if value is not None:
        text = prefix + value.lower() if isinstance(value, str) else value
        setattr(opt, name, _convert.enum(text, table, name))


def pls_fit(data, item_construct, paths, modes=None, scheme="path", scaling="standardize",
            variance_n=False, tolerance=0.0, max_iterations=0, missing="mean",
            no_sign_fix=False, bootstrap=0, seed=0, level=0.0, scores=True):
    """Fit a PLS path model to a data matrix (rows = respondents).

    Args:
        data: n_rows x n_cols matrix (NaN: missing answer) or DataFrame.
        item_construct: construct index (0..k-1) of each column, -1 for a
            column outside the model.
        paths: k x k 0/1 matrix (nested lists or an array; paths[from][to])
            or a list of (from, to) tuples.
        modes: "A" or "B" per construct (None: all Mode A).
        scheme: "path", "centroid" or "factorial"; scaling: "standardize" or
            "center"; missing: "mean" or "listwise"; bootstrap: resamples.

    Raises NoConvergence with ``.result`` (the last iterate) when the
    weights did not converge.
    """
    arr, n_rows, n_cols, _ = _data_matrix(data)
    ic = [int(c) for c in item_construct]
    if len(ic) != n_cols:
        raise InvalidInput("item_construct: %d entries for %d columns" % (len(ic), n_cols), -1)
    k = max(ic) + 1 if ic else 0
    np = _convert.np
    if isinstance(paths, (list, tuple)) and paths and all(isinstance(p, tuple) for p in paths):
        flat = [0] * (k * k)
        for source, target in paths:
            flat[int(source) * k + int(target)] = 1
    elif np is not None:
        flat = [int(v) for v in np.asarray(paths).reshape(-1)]
    else:
        flat = [int(v) for row in paths for v in row]
    ic_arr = (c_int * len(ic))(*ic)
    path_arr = (c_int * len(flat))(*flat)
    mode_arr = None
    if modes is not None:
        codes = [_convert.enum("mode_" + m.lower() if isinstance(m, str) else m, _ffi.PLS_MODE,
                               "modes") for m in modes]
        mode_arr = (c_int * len(codes))(*codes)
    model = _ffi.PlsModel(k, ctypes.cast(ic_arr, _ffi.c_int_p),
                          ctypes.cast(mode_arr, _ffi.c_int_p) if mode_arr else None,
                          ctypes.cast(path_arr, _ffi.c_int_p))
    opt = _ffi.PlsOptions()
    _set_enum(opt, "scheme", scheme, _ffi.PLS_SCHEME)
    _set_enum(opt, "scaling", scaling, _ffi.PLS_SCALING)
    _set_enum(opt, "missing", missing, _ffi.PLS_MISSING, "missing_")
    opt.variance_n = 1 if variance_n else 0
    if tolerance:
        opt.tolerance = float(tolerance)
    if max_iterations:
        opt.max_iterations = int(max_iterations)
    opt.no_sign_fix = 1 if no_sign_fix else 0
    opt.bootstrap = int(bootstrap)
    opt.seed = int(seed)
    if level:
        opt.level = float(level)
    opt.no_scores = 0 if scores else 1
    out = ctypes.POINTER(_ffi.PlsResult)()
    err = ctypes.create_string_buffer(_ERRBUF)
    try:
        lib.custscore_pls_fit(arr.ptr, n_rows, n_cols, byref(model), byref(opt), byref(out), err,
                              len(err))
        return PlsResult._from_c(out.contents)
    except NoConvergence as exc:
        if out:
            exc.result = PlsResult._from_c(out.contents)
        raise
    finally:
        if out:
            lib.custscore_pls_result_free(out)

# ---------------------------------------------------------------------------
# Satisfaction index


@dataclass
class NpsResult:
    """Net Promoter Score (Reichheld 2003) of 0-10 answers."""
    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float   #: -100 .. 100; NaN when n = 0
    se: float
    low: float   #: 95% interval
    high: float

    @classmethod
    def _from_c(cls, r):
        return cls(r.n, r.promoters, r.passives, r.detractors, r.nps, r.se, r.low, r.high)


def nps(answers) -> NpsResult:
    """NPS of 0-10 answers (NaN skipped); InvalidInput for an answer outside 0..10."""
    arr = doubles(answers, "answers")
    out = _ffi.NpsResult()
    lib.custscore_nps(arr.ptr, arr.n, byref(out))
    return NpsResult._from_c(out)


@dataclass
class CsiDriver:
    """One row of the importance-performance table."""
    construct: str
    importance: float   #: total effect on the target
    performance: float  #: the construct's index 0-100
    high_importance: bool


@dataclass
class CsiEstimate:
    """One index estimate (overall or one group). Per-item arrays follow
    ``CsiResult.item_names``, per-construct ones ``construct_names``;
    ``paths`` etc. are k x k [from, to]."""
    group: str
    period_start: Any
    period_end: Any
    n: int
    n_dropped: int
    status: str     #: "ok", "fixed_weights", "negative_weight", "no_convergence", "no_data"
    message: str
    converged: bool
    iterations: int
    index: float
    index_se: float
    index_low: float
    index_high: float
    index_equal: float
    construct_index: Any
    construct_index_low: Any
    construct_index_high: Any
    weights: Any
    outer_weights: Any
    outer_weights_se: Any
    outer_weights_low: Any
    outer_weights_high: Any
    loadings: Any
    paths: Any
    paths_se: Any
    paths_low: Any
    paths_high: Any
    total_effects: Any
    r2: Any
    r2_adj: Any
    alpha: Any
    rho_c: Any
    ave: Any
    gof: float
    nps: Optional[NpsResult]
    drivers: List[CsiDriver]

    @classmethod
    def _from_c(cls, e, p, k, construct_names):
        return cls(
            _convert.pystr(e.group) or "", _convert.from_time(e.period_start),
            _convert.from_time(e.period_end), e.n, e.n_dropped,
            _convert.enum_name(e.status, _ffi.CSI_STATUS), _convert.pystr(e.message) or "",
            bool(e.converged), e.iterations, e.index, e.index_se, e.index_low, e.index_high,
            e.index_equal, _array(e.construct_index, k), _array(e.construct_index_low, k),
            _array(e.construct_index_high, k), _array(e.weights, p), _array(e.outer_weights, p),
            _array(e.outer_weights_se, p), _array(e.outer_weights_low, p),
            _array(e.outer_weights_high, p), _array(e.loadings, p), _matrix_out(e.paths, k, k),
            _matrix_out(e.paths_se, k, k), _matrix_out(e.paths_low, k, k),
            _matrix_out(e.paths_high, k, k), _matrix_out(e.total_effects, k, k),
            _array(e.r2, k), _array(e.r2_adj, k), _array(e.alpha, k), _array(e.rho_c, k),
            _array(e.ave, k), e.gof, NpsResult._from_c(e.nps) if e.has_nps else None,
            [CsiDriver(construct_names[d.construct], d.importance, d.performance,
                       bool(d.high_importance)) for d in e.drivers[:e.n_drivers]]
            if e.drivers else [])


class _Owned:
    """Frees a C result when the last Python reference goes."""

    def __init__(self, ptr, free):
        self.ptr = ptr
        self._free = free

    def __del__(self):
        ptr, self.ptr = self.ptr, None
        if ptr:
            try:
                self._free(ptr)
            except Exception:  # pragma: no cover - interpreter shutdown
                pass


@dataclass
class CsiResult:
    """A satisfaction index (``custscore_csi_result``): the overall estimate
    and one per group. It can be passed to
    :meth:`custscore.Store.csi_customers` as the source of the weights."""
    model: str
    item_names: List[str]
    item_construct: List[int]
    construct_names: List[str]
    model_paths: List[List[int]]  #: k x k, 1 where the model has the path from -> to
    target: str
    nps_item: Optional[str]
    scheme: str
    overall: CsiEstimate
    groups: List[CsiEstimate]
    _owned: Any = field(default=None, repr=False, compare=False)

    @property
    def index(self) -> float:
        """The overall index 0-100 of the target construct."""
        return self.overall.index

    def paths_dict(self, estimate=None) -> Dict[str, float]:
        """{"From->To": coefficient} of the model's paths."""
        e = estimate or self.overall
        names = self.construct_names
        out = {}
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                if self.model_paths[i][j]:
                    out["%s->%s" % (a, b)] = float(e.paths[i][j])
        return out

    def weights_dict(self, estimate=None) -> Dict[str, float]:
        """{item: index weight}."""
        e = estimate or self.overall
        return {item: float(w) for item, w in zip(self.item_names, e.weights)}

    def r2_dict(self, estimate=None) -> Dict[str, float]:
        """{construct: R²} of the endogenous constructs."""
        e = estimate or self.overall
        return {c: float(v) for c, v in zip(self.construct_names, e.r2) if v == v}

    @classmethod
    def _from_c(cls, ptr, owned=True):
        r = ptr.contents
        p, k = r.n_items, r.n_constructs
        constructs = _strings(r.construct_names, k)
        flat = list(r.paths[:k * k]) if r.paths else [0] * (k * k)
        return cls(
            _convert.pystr(r.model), _strings(r.item_names, p),
            list(r.item_construct[:p]) if r.item_construct else [], constructs,
            [flat[i * k:(i + 1) * k] for i in range(k)],
            constructs[r.target] if r.target < k else "", _convert.pystr(r.nps_item),
            _convert.enum_name(r.scheme, _ffi.PLS_SCHEME),
            CsiEstimate._from_c(r.overall, p, k, constructs),
            [CsiEstimate._from_c(r.groups[i], p, k, constructs) for i in range(r.n_groups)],
            _Owned(ptr, lib.custscore_csi_result_free) if owned else None)


def csi_options(scheme=None, scaling=None, tolerance=0.0, max_iterations=0, missing=None,
                min_respondents=0, bootstrap=0, seed=0, level=0.0, from_=None, to=None,
                by=None, by_attribute=None, nps_item=None, save=False):
    """custscore_csi_options from keyword arguments (and the objects to keep
    alive): scheme ("centroid" default, "path", "factorial"), scaling
    ("center" default, "standardize"), missing ("mean", "listwise"),
    min_respondents, bootstrap, seed, level, and for the store from_/to
    (dates), by ("month", "quarter", "year", "attribute"), by_attribute,
    nps_item, save."""
    keep = []
    opt = _ffi.CsiOptions()
    _set_enum(opt, "scheme", scheme, _ffi.PLS_SCHEME)
    _set_enum(opt, "scaling", scaling, _ffi.PLS_SCALING)
    _set_enum(opt, "missing", missing, _ffi.PLS_MISSING, "missing_")
    if tolerance:
        opt.tolerance = float(tolerance)
    if max_iterations:
        opt.max_iterations = int(max_iterations)
    opt.min_respondents = int(min_respondents)
    opt.bootstrap = int(bootstrap)
    opt.seed = int(seed)
    if level:
        opt.level = float(level)
    setattr(opt, "from", _convert.opt_time(from_, "from"))
    opt.to = _convert.opt_time(to, "to")
    if by is not None:
        opt.by = _convert.enum(by, _ffi.CSI_BY, "by")
    if by_attribute is not None:
        b = cstr(by_attribute, "by_attribute")
        keep.append(b)
        opt.by_attribute = b
        if by is None:
            opt.by = _ffi.CSI_BY["attribute"]
    if nps_item is not None:
        b = cstr(nps_item, "nps_item")
        keep.append(b)
        opt.nps_item = b
    opt.save = 1 if save else 0
    return opt, keep


def _c_strings(values, what):
    encoded = [None if v is None else cstr(str(v), what) for v in values]
    arr = (c_char_p * len(encoded))(*encoded)
    return arr, encoded


def csi_fit(model, data, columns=None, groups=None, **options) -> CsiResult:
    """The satisfaction index from a data matrix, without a store.

    @p model is a :class:`SurveyModel` or a template name ("ecsi" ...);
    @p data a DataFrame (its column names are used) or a matrix with
    @p columns names; @p groups an optional label per row. Options: see
    :func:`csi_options`. Raises NoConvergence with ``.result`` when the
    overall fit did not converge."""
    survey, owned = _model_arg(model)
    try:
        arr, n_rows, n_cols, columns = _data_matrix(data, columns)
        if columns is None:
            raise InvalidInput("csi_fit: column names required (a DataFrame or columns=...)", -1)
        col_arr, keep_cols = _c_strings(columns, "column")
        group_arr = None
        if groups is not None:
            groups = list(groups)
            if len(groups) != n_rows:
                raise InvalidInput("groups: %d labels for %d rows" % (len(groups), n_rows), -1)
            group_arr, keep_groups = _c_strings(groups, "group")
        opt, keep = csi_options(**options)
        out = ctypes.POINTER(_ffi.CsiResult)()
        err = ctypes.create_string_buffer(_ERRBUF)
        try:
            lib.custscore_csi_fit(survey._h(), arr.ptr, n_rows, n_cols, col_arr, group_arr,
                                  byref(opt), byref(out), err, len(err))
        except NoConvergence as exc:
            if out:
                exc.result = CsiResult._from_c(out)
            raise
        except Exception:
            if out:
                lib.custscore_csi_result_free(out)
            raise
        return CsiResult._from_c(out)
    finally:
        if owned:
            survey.close()


@dataclass
class CustomerSatisfaction:
    """One customer's satisfaction 0-100 from its latest answers."""
    customer: str
    ts: Any  #: the day of the answers used (datetime)
    satisfaction: float

# ---------------------------------------------------------------------------
# Store functions (methods of custscore.Store call these)


def store_save_survey_model(store, model):
    with store._lock:
        lib.custscore_survey_model_save(store._h(), model._h())


def store_load_survey_model(store, name):
    handle = _ffi.SurveyModelP()
    with store._lock:
        lib.custscore_survey_model_load(store._h(), key(name, "model"), byref(handle))
    return SurveyModel(_handle=handle)


def store_csi(store, model, **options):
    survey, owned = _model_arg(model, store)
    try:
        opt, keep = csi_options(**options)
        out = ctypes.POINTER(_ffi.CsiResult)()
        with store._lock:
            try:
                lib.custscore_csi_compute(store._h(), survey._h(), byref(opt), byref(out))
            except NoConvergence as exc:
                if out:
                    exc.result = CsiResult._from_c(out)
                raise
            except Exception:
                if out:
                    lib.custscore_csi_result_free(out)
                raise
        return CsiResult._from_c(out)
    finally:
        if owned:
            survey.close()


def store_csi_customers(store, model, fit=None, as_of=None):
    from .store import _Callback, _call_each
    survey, owned = _model_arg(model, store)
    rows = Results()

    def each(customer, ts, satisfaction, payload):
        rows.append(CustomerSatisfaction(_convert.pystr(customer), _convert.from_time(ts),
                                         satisfaction))
    callback = _Callback(each)
    cfunc = _ffi.CSI_CUSTOMER_FN(callback)
    fit_ptr = None
    if fit is not None:
        if not isinstance(fit, CsiResult) or fit._owned is None or not fit._owned.ptr:
            raise InvalidInput("fit: a CsiResult from csi() or csi_fit() expected", -1)
        fit_ptr = fit._owned.ptr
    try:
        with store._lock:
            _call_each(lib.custscore_csi_customers,
                       (store._h(), survey._h(), fit_ptr, _convert.opt_time(as_of, "as_of"),
                        cfunc, None), callback)
    finally:
        if owned:
            survey.close()
    return rows
