"""The customer store: :func:`open` and :class:`Store`.

A :class:`Store` wraps one ``custscore *`` handle (one SQLite connection).
It is a context manager that closes the handle on exit; any use after
:meth:`Store.close` raises :class:`custscore.Closed`.

Threads: the C library allows a handle to be used by one thread at a time.
A Store serialises its calls with a lock, so sharing one between threads is
safe but not parallel; for parallel work open one Store per thread (also on
the same file: SQLite's WAL mode lets readers run beside the writer). ctypes
releases the GIL during every C call, so long calls (imports, fits,
scoring) do not hold up other Python threads.
"""

from __future__ import annotations

import contextlib
import ctypes
import numbers
import os
import threading
from ctypes import byref, c_int, c_int64

from . import _convert, _ffi
from ._convert import cstr, key, to_time, opt_time
from ._options import (clv_options, fit_options, retention_options, summary_options,
                       value_options)
from .errors import Closed, InvalidInput, NoConvergence
from .results import (AddReport, ClvInfo, ClvRow, Cohort, FitResult, HoldoutCustomer,
                      HoldoutReport, HoldoutRow, ImportReport, PeriodStats, Rejection, Results,
                      RetentionReport, Summary, Value, WhaleCurve, WhaleSummary)

lib = _ffi.lib

__all__ = ["open", "Store"]


def open(path=None, create=True, readonly=False, busy_timeout=None):  # noqa: A001
    """Open (creating or migrating when needed) a customer store.

    Args:
        path: database file (str or PathLike); None or ":memory:" for a
            private in-memory store.
        create: create the file when it does not exist (else
            :class:`custscore.NotFound`); ignored with ``readonly``.
        readonly: open read-only; writes raise :class:`custscore.ReadOnly`.
        busy_timeout: milliseconds to wait for a lock held by another
            connection before :class:`custscore.Busy` (default 5000).

    Returns:
        a :class:`Store`, to use as a context manager.

    Raises:
        NotFound, IOFailure, Corrupt (not a custscore/SQLite database),
        SchemaTooNew (written by a newer custscore), Busy, OutOfMemory.
    """
    return Store(path, create=create, readonly=readonly, busy_timeout=busy_timeout)


class _Callback:
    """Runs a Python function from a C callback; an exception stops the C
    iteration (nonzero return) and is re-raised after the call."""

    def __init__(self, func):
        self.func = func
        self.error = None

    def __call__(self, *args):
        try:
            result = self.func(*args)
        except BaseException as exc:  # noqa: B902 - re-raised after the C call
            self.error = exc
            return 1
        return 1 if result else 0

    def reraise(self):
        if self.error is not None:
            error, self.error = self.error, None
            raise error


def _call_each(func, make_args, callback):
    """Call a C iteration function, re-raising an exception of the callback."""
    try:
        rc = func(*make_args)
    except Exception:
        callback.reraise()
        raise
    callback.reraise()
    return rc


class Store:
    """A customer store (an SQLite database). See :func:`custscore.open`."""

    def __init__(self, path=None, create=True, readonly=False, busy_timeout=None):
        self._lock = threading.RLock()
        self._db = None
        self._batch = 0
        self.path = None if path is None else os.fspath(path)
        # A read-only store is never created (the C library refuses the mix).
        flags = _ffi.OPEN_CREATE if create and not readonly else 0
        if readonly:
            flags |= _ffi.OPEN_READONLY
        handle = _ffi.HandleP()
        lib.custscore_open(cstr(path, "path"), flags, byref(handle))
        self._db = handle
        self.readonly = bool(readonly)
        if busy_timeout is not None:
            self.busy_timeout(busy_timeout)

    # --- life cycle -----------------------------------------------------
    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._db is None

    def _h(self):
        db = self._db
        if db is None:
            raise Closed("store %s is closed" % (self.path or ":memory:"))
        return db

    def close(self):
        """Close the store (rolling back an open batch). Calling it again is harmless."""
        with self._lock:
            db, self._db = self._db, None
            if db is not None:
                lib.custscore_close(db)

    def __enter__(self):
        self._h()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self):
        state = "closed" if self.closed else "open"
        return "<custscore.Store %s %s>" % (self.path or ":memory:", state)

    def busy_timeout(self, milliseconds: int) -> None:
        """Wait up to @p milliseconds for a lock held by another connection
        before failing with :class:`custscore.Busy` (0 fails at once)."""
        with self._lock:
            lib.custscore_busy_timeout(self._h(), int(milliseconds))

    def release_memory(self) -> None:
        """Free the memory the store keeps between calls (the order history
        loaded last, SQLite's page cache); the next call loads again."""
        with self._lock:
            lib.custscore_release_memory(self._h())

    @property
    def errmsg(self) -> str:
        """Message of the last failing call on this store ("" after a success)."""
        with self._lock:
            return lib.custscore_errmsg(self._h())

    @property
    def errcode(self) -> int:
        """C error code of the last call on this store (0 after a success)."""
        with self._lock:
            return lib.custscore_errcode(self._h())

    # --- batches ----------------------------------------------------------
    def begin(self):
        """Start a batch: the following adds form one transaction."""
        with self._lock:
            lib.custscore_begin(self._h())
            self._batch += 1

    def commit(self):
        """Commit the open batch."""
        with self._lock:
            lib.custscore_commit(self._h())
            self._batch = 0

    def rollback(self):
        """Roll back the open batch (a no-op when none is open)."""
        with self._lock:
            lib.custscore_rollback(self._h())
            self._batch = 0

    @contextlib.contextmanager
    def batch(self):
        """Context manager: one transaction, committed on success, rolled
        back on an exception. Nested use joins the outer batch."""
        with self._lock:
            if self._batch:
                yield self
                return
            self.begin()
            try:
                yield self
            except BaseException:
                if self._db is not None:
                    self.rollback()
                raise
            self.commit()

    # --- ingest -----------------------------------------------------------
    def add_customer(self, customer, created=None):
        """Add a customer (or update its creation time). @p created is a
        date/time or None when unknown."""
        with self._lock:
            lib.custscore_add_customer(self._h(), key(customer), opt_time(created, "created"))

    def set_attribute(self, customer, name, value):
        """Set an attribute of a customer: a number (finite) or a text
        (categorical, e.g. "Contract" = "Month-to-month")."""
        with self._lock:
            if isinstance(value, (str, bytes)):
                lib.custscore_set_attribute_text(self._h(), key(customer),
                                                 key(name, "attribute"), cstr(value, "value"))
            else:
                if isinstance(value, bool) or not isinstance(value, numbers.Real):
                    raise TypeError("attribute %r: expected a number or str, got %s"
                                    % (name, type(value).__name__))
                lib.custscore_set_attribute(self._h(), key(customer), key(name, "attribute"),
                                            float(value))

    def add_order(self, customer, ts, revenue, order_key=None, cost=None) -> bool:
        """Add one order; returns True when it replaced an order with the
        same customer and order key."""
        order = _ffi.Order()
        keep = _fill_order(order, customer, order_key, ts, revenue, cost)
        replaced = c_int()
        with self._lock:
            lib.custscore_add_order(self._h(), byref(order), byref(replaced))
        del keep
        return bool(replaced.value)

    def add_orders(self, rows) -> AddReport:
        """Add many orders in one transaction (all or nothing).

        @p rows is an iterable of tuples ``(customer, ts, revenue)``,
        ``(customer, order_key, ts, revenue)`` or ``(customer, order_key, ts,
        revenue, cost)``, of dicts with the keys ``customer``, ``order`` (or
        ``order_key``), ``ts``, ``revenue`` (or ``quantity`` and ``price``),
        ``cost``, or a pandas DataFrame with those columns.
        """
        report = AddReport()
        order = _ffi.Order()
        replaced = c_int()
        keep = None
        with self._lock, self.batch():
            db = self._h()
            add = lib.custscore_add_order
            for row in _order_rows(rows):
                keep = _fill_order(order, *row)
                add(db, byref(order), byref(replaced))
                report.added += 1
                report.replaced += replaced.value
            del keep
        return report

    def add_customers(self, rows) -> int:
        """Add many customers in one transaction: keys, ``(key, created)``
        tuples, dicts with ``customer`` and optional ``created`` (other keys
        become attributes), or a DataFrame. Returns the number of rows."""
        count = 0
        with self._lock, self.batch():
            for row in _records(rows):
                if isinstance(row, dict):
                    row = dict(row)
                    customer = row.pop("customer")
                    created = row.pop("created", None)
                    self.add_customer(customer, created)
                    for name, value in row.items():
                        if value is not None and not _convert.is_missing(value):
                            self.set_attribute(customer, name, value)
                elif isinstance(row, (tuple, list)):
                    self.add_customer(*row)
                else:
                    self.add_customer(row)
                count += 1
        return count

    def set_attributes(self, rows) -> int:
        """Set many attributes in one transaction: ``(customer, name,
        value)`` tuples or dicts with those keys. Returns the number of rows."""
        count = 0
        with self._lock, self.batch():
            for row in _records(rows):
                if isinstance(row, dict):
                    self.set_attribute(row["customer"], row["name"], row["value"])
                else:
                    self.set_attribute(*row)
                count += 1
        return count

    def add_response(self, customer, ts, item, value):
        """Add one survey answer: @p item (e.g. "CUSA1") answered @p value."""
        with self._lock:
            lib.custscore_add_response(self._h(), key(customer), to_time(ts, "ts"),
                                       key(item, "item"), float(value))

    def add_responses(self, rows) -> int:
        """Add many survey answers in one transaction: ``(customer, ts,
        item, value)`` tuples, dicts with those keys, or a DataFrame."""
        count = 0
        with self._lock, self.batch():
            for row in _records(rows):
                if isinstance(row, dict):
                    self.add_response(row["customer"], row["ts"], row["item"], row["value"])
                else:
                    self.add_response(*row)
                count += 1
        return count

    def add_complaint(self, customer, ts, severity, resolved=None):
        """Add a complaint of @p severity (e.g. 1 minor .. 3 severe);
        @p resolved is when it was resolved, None while unresolved."""
        with self._lock:
            lib.custscore_add_complaint(self._h(), key(customer), to_time(ts, "ts"),
                                        float(severity), opt_time(resolved, "resolved"))

    def add_complaints(self, rows) -> int:
        """Add many complaints in one transaction: ``(customer, ts, severity
        [, resolved])`` tuples, dicts with those keys, or a DataFrame."""
        count = 0
        with self._lock, self.batch():
            for row in _records(rows):
                if isinstance(row, dict):
                    self.add_complaint(row["customer"], row["ts"], row["severity"],
                                       row.get("resolved"))
                else:
                    self.add_complaint(*row)
                count += 1
        return count

    # --- CSV import ---------------------------------------------------------
    def import_csv(self, kind, path, **options) -> ImportReport:
        """Import a CSV file in one transaction.

        Args:
            kind: "orders", "customers", "responses" or "complaints".
            path: the file ("-" reads standard input).
            map: column map, "field=COLUMN,..." or a dict {field: column}
                (COLUMN a header name or a 1-based position).
            delimiter: ",", ";", "\\t" or "tab", or "whitespace".
            whitespace: columns separated by runs of blanks (CDNOW files).
            no_header: the first line is data.
            date_format: strptime-style format; None detects ISO 8601,
                YYYYMMDD and Unix seconds.
            skip_bad: skip bad records instead of aborting; each is reported
                in the result's ``rejections`` (and to ``on_reject``).
            rejects: path of a CSV file receiving the rejected records.
            on_reject: optional callable(line, column, message); return True
                to abort the import (the store is then unchanged).
            cancel_prefix: order keys with this prefix are cancellations.
            wide, customer_column, date_column, default_ts: wide responses.

        Returns:
            an :class:`ImportReport`.

        Raises:
            InvalidInput (bad record without skip_bad: the message says
            "file:line:column: field: value: reason"), NotFound (no such
            file), IOFailure, ReadOnly, Busy.
        """
        return self._import(kind, path, None, None, options)

    def import_text(self, kind, data, name=None, **options) -> ImportReport:
        """Import CSV text (str or bytes) held in memory; as :meth:`import_csv`.
        @p name stands for the file name in messages ("<memory>" when None)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        return self._import(kind, None, bytes(data), name, options)

    def _import(self, kind, path, data, name, options):
        opt = _ffi.ImportOptions()
        keep = []
        rejections = []
        user = options.pop("on_reject", None)

        def on_reject(line, column, message, payload):
            text = _convert.pystr(message)
            rejections.append(Rejection(line, column, text))
            if user is not None:
                return user(line, column, text)
            return 0

        callback = _Callback(on_reject)
        cfunc = _ffi.REJECT_FN(callback)
        _fill_import_options(opt, options, keep)
        if opt.skip_bad:
            opt.on_reject = cfunc
        report = _ffi.ImportReport()
        kind_value = _convert.enum(kind, _ffi.KIND, "kind")
        with self._lock:
            db = self._h()
            try:
                if data is None:
                    lib.custscore_import_csv(db, kind_value, _convert.path_arg(path), byref(opt),
                                             byref(report))
                else:
                    lib.custscore_import_csv_buffer(db, kind_value, data, len(data),
                                                    cstr(name, "name"), byref(opt),
                                                    byref(report))
            except Exception:
                callback.reraise()
                raise
            callback.reraise()
        del keep, cfunc
        return ImportReport._from_c(report, rejections)

    # --- summary --------------------------------------------------------------
    def summary(self, as_of, unit="week", zero_revenue="adjustment", customer=None) -> Results:
        """Per-customer summary as of a date (every customer, ordered by key):
        a :class:`Results` list of :class:`Summary` (to_pandas() available).
        With @p customer, a list with that customer only."""
        if customer is not None:
            return Results([self.summary_one(customer, as_of, unit, zero_revenue)])
        opt = summary_options(unit, zero_revenue)
        rows = Results()
        append = rows.append
        from_c = Summary._from_c
        callback = _Callback(lambda s, payload: append(from_c(s.contents)))
        cfunc = _ffi.SUMMARY_FN(callback)
        with self._lock:
            _call_each(lib.custscore_summary_each,
                       (self._h(), to_time(as_of, "as_of"), byref(opt), cfunc, None), callback)
        return rows

    def summary_one(self, customer, as_of, unit="week", zero_revenue="adjustment") -> Summary:
        """The summary of one customer (:class:`custscore.NotFound` when unknown)."""
        opt = summary_options(unit, zero_revenue)
        out = _ffi.Summary()
        with self._lock:
            lib.custscore_summary_one(self._h(), key(customer), to_time(as_of, "as_of"),
                                      byref(opt), byref(out))
            return Summary._from_c(out)

    def customer_count(self) -> int:
        """Number of customers in the store."""
        out = c_int64()
        with self._lock:
            lib.custscore_customer_count(self._h(), byref(out))
        return out.value

    def __len__(self):
        return self.customer_count()

    # --- customer value ------------------------------------------------------
    def value(self, as_of, **options) -> Results:
        """Customer value of every customer as of a date (RFM scores and
        segment, profit contribution, tier, lifecycle): a :class:`Results`
        list of :class:`Value`, ordered by key. Options: see
        :func:`custscore.value.value_options`."""
        opt, keep = value_options(**options)
        rows = Results()
        append = rows.append
        from_c = Value._from_c
        callback = _Callback(lambda v, payload: append(from_c(v.contents)))
        cfunc = _ffi.VALUE_FN(callback)
        with self._lock:
            _call_each(lib.custscore_value_each,
                       (self._h(), to_time(as_of, "as_of"), byref(opt), cfunc, None), callback)
        del keep
        return rows

    def value_write_csv(self, path, as_of, **options) -> None:
        """Write the customer value CSV (the `custscore value` columns) to
        @p path ("-" for standard output), atomically."""
        opt, keep = value_options(**options)
        with self._lock:
            lib.custscore_value_write_csv(self._h(), to_time(as_of, "as_of"), byref(opt),
                                          _convert.path_arg(path))
        del keep

    def whale_curve(self, as_of, n_points=101, **options) -> WhaleCurve:
        """The whale curve of the store's customers (profit in the value
        options' profit window): @p n_points points (0 for the summary only)."""
        opt, keep = value_options(**options)
        n_points = int(n_points)
        cs = _convert.Out(n_points) if n_points else None
        ps = _convert.Out(n_points) if n_points else None
        summary = _ffi.WhaleSummary()
        with self._lock:
            lib.custscore_value_whale(self._h(), to_time(as_of, "as_of"), byref(opt), n_points,
                                      _convert.ptr(cs), _convert.ptr(ps), byref(summary))
        del keep
        return WhaleCurve(cs.value() if cs else [], ps.value() if ps else [],
                          WhaleSummary._from_c(summary))

    # --- lifetime value ----------------------------------------------------------
    def fit(self, as_of, model="bgnbd", unit="week", penalty=0.0, starts=0, max_iterations=0,
            tolerance=0.0, name=None, save=True, zero_revenue="adjustment") -> FitResult:
        """Fit a model on the store's orders as of a date and (unless
        ``save=False``) save it under @p name (default the model's short
        name). @p model is "bgnbd", "mbgnbd", "pnbd" or "gg"; @p unit the
        time unit of the summary; @p zero_revenue "purchase" counts
        zero-revenue orders as purchase occasions (CDNOW, lifetimes).

        Raises NoConvergence (with ``.result``), InvalidInput, ReadOnly."""
        opt, keep = fit_options(model, unit, penalty, starts, max_iterations, tolerance, name,
                                no_store=not save, zero_revenue=zero_revenue)
        info = _ffi.FitInfo()
        with self._lock:
            try:
                lib.custscore_fit(self._h(), to_time(as_of, "as_of"), byref(opt), byref(info))
            except NoConvergence as exc:
                exc.result = FitResult._from_c(info)
                raise
        del keep
        return FitResult._from_c(info)

    def load_model(self, name=None) -> FitResult:
        """The latest saved model called @p name, or with None the latest
        purchase model (:class:`custscore.NoModel` when there is none)."""
        info = _ffi.FitInfo()
        with self._lock:
            lib.custscore_model_load(self._h(), cstr(name, "name"), byref(info))
        return FitResult._from_c(info)

    def clv(self, as_of, customer=None, **options) -> Results:
        """Lifetime value of every customer with a purchase by @p as_of
        (or of one @p customer) with the saved models: a :class:`Results`
        list of :class:`ClvRow` whose ``info`` is a :class:`ClvInfo`.

        Options: horizon (12), horizon_unit ("month"), discount_rate (0.10,
        annual), margin (None: from the store's costs, else 1),
        interval_level (0.90; 0 for none), interval_draws (200), seed (1),
        purchase_model (None: the latest), spend_model (None: "gg")."""
        opt, keep = clv_options(**options)
        info = _ffi.ClvInfo()
        when = to_time(as_of, "as_of")
        rows = Results()
        with self._lock:
            if customer is not None:
                row = _ffi.ClvRow()
                lib.custscore_clv_one(self._h(), key(customer), when, byref(opt), byref(row),
                                      byref(info))
                rows.append(ClvRow._from_c(row))
            else:
                append = rows.append
                from_c = ClvRow._from_c
                callback = _Callback(lambda r, payload: append(from_c(r.contents)))
                cfunc = _ffi.CLV_FN(callback)
                _call_each(lib.custscore_clv_each,
                           (self._h(), when, byref(opt), cfunc, None, byref(info)), callback)
        del keep
        rows.info = ClvInfo._from_c(info)
        return rows

    def holdout(self, calibration_end, holdout_end, model="bgnbd", unit="week", censor=7,
                per_customer=False, **fit_args) -> HoldoutReport:
        """Validate a purchase model on a holdout period (fitted on the orders
        up to @p calibration_end, not saved): the calibration/holdout table
        by calibration frequency, errors, and with ``per_customer=True`` each
        customer's actual and predicted holdout purchases."""
        opt, keep = fit_options(model, unit, fit_args.pop("penalty", 0.0),
                                fit_args.pop("starts", 0), fit_args.pop("max_iterations", 0),
                                fit_args.pop("tolerance", 0.0), None, True,
                                fit_args.pop("zero_revenue", "adjustment"))
        if fit_args:
            raise TypeError("holdout: unexpected arguments %s" % ", ".join(fit_args))
        report = _ffi.HoldoutReport()
        customers = Results()
        cfunc = None
        callback = None
        if per_customer:
            def each(c, payload):
                c = c.contents
                customers.append(HoldoutCustomer(_convert.pystr(c.customer), c.x, c.t_x, c.T,
                                                 c.actual, c.predicted))
            callback = _Callback(each)
            cfunc = _ffi.HOLDOUT_FN(callback)
        else:
            cfunc = _ffi.HOLDOUT_FN()
        with self._lock:
            args = (self._h(), to_time(calibration_end, "calibration_end"),
                    to_time(holdout_end, "holdout_end"), byref(opt), int(censor), cfunc, None,
                    byref(report))
            try:
                if callback is not None:
                    _call_each(lib.custscore_holdout, args, callback)
                else:
                    lib.custscore_holdout(*args)
                rows = [HoldoutRow(report.rows[i].x, report.rows[i].customers,
                                   report.rows[i].actual, report.rows[i].predicted)
                        for i in range(report.n_rows)]
                return HoldoutReport(
                    _convert.from_time(report.calibration_end),
                    _convert.from_time(report.holdout_end), report.holdout_length,
                    FitResult._from_c(report.fit), report.customers, report.actual_total,
                    report.predicted_total, report.mae, report.rmse, report.correlation, rows,
                    customers)
            finally:
                lib.custscore_holdout_free(byref(report))
                del keep


    # --- satisfaction --------------------------------------------------------------
    def save_survey_model(self, model) -> None:
        """Store a :class:`custscore.csi.SurveyModel` with the data (not
        stored again when equal to the latest stored one)."""
        _csi().store_save_survey_model(self, model)

    def load_survey_model(self, name):
        """The latest stored survey model called @p name, else the built-in
        template of that name (NotFound for neither)."""
        return _csi().store_load_survey_model(self, name)

    def csi(self, model="ecsi", **options):
        """The satisfaction index from the survey responses in the store:
        a :class:`custscore.csi.CsiResult`. @p model is a SurveyModel or a
        name (stored model or template). Options: scheme, scaling, missing,
        min_respondents, bootstrap, seed, level, from_, to, by ("month",
        "quarter", "year", "attribute"), by_attribute, nps_item, save
        (see :func:`custscore.csi.csi_options`)."""
        return _csi().store_csi(self, model, **options)

    def csi_customers(self, model="ecsi", fit=None, as_of=None) -> Results:
        """Per-customer satisfaction 0-100 from each customer's latest
        answers: a :class:`Results` of
        :class:`custscore.csi.CustomerSatisfaction`, ordered by key. Weights
        from @p fit (a CsiResult), else the index saved with the model, else
        equal."""
        return _csi().store_csi_customers(self, model, fit, as_of)

    def servqual(self, mapping=None, importance=None):
        """SERVQUAL gaps from the store's responses (@p mapping
        "DIMENSION=EXP/PERC+...", None for the 22-item SQE/SQP instrument):
        a :class:`custscore.csi.ServqualResult`."""
        from . import instruments
        return instruments.store_servqual(self, mapping, importance)

    def kano(self, mapping):
        """Kano analysis from the store's responses: @p mapping
        "FEATURE=FUNCTIONAL/DYSFUNCTIONAL,..." or a dict {feature:
        (functional, dysfunctional)}; a list of :class:`custscore.csi.KanoFeature`."""
        from . import instruments
        return instruments.store_kano(self, mapping)

    # --- churn risk -----------------------------------------------------------------
    def churn_train(self, as_of, **options):
        """Train a churn model on the store as of a date and store its card
        (unless ``save=False``); returns the :class:`custscore.churn.ChurnCard`.
        Options: method ("window" | "label" | "btyd" | "btyd_alive"),
        window_days (90), label, label_positive, features, behaviour,
        holdout (0.3), seed, l2, lookback_days, complaint_days, rare_level,
        band_medium, band_high, model_name, btyd_model, survey_model (see
        :func:`custscore.churn.churn_options`).

        Raises InvalidInput (e.g. nobody or everybody churned in the
        window), NoModel (a BTYD method without a fitted model),
        NoConvergence, ReadOnly."""
        return _churn().store_churn_train(self, as_of, **options)

    def churn_card(self, name=None):
        """The newest stored churn model card called @p name (None: "churn")."""
        return _churn().store_churn_card(self, name)

    def churn(self, as_of, **options) -> Results:
        """Churn risk of every customer as of a date with the stored model:
        a :class:`Results` of :class:`custscore.churn.ChurnScore`
        (probability, band, reasons, value at risk), ordered by key."""
        return _churn().store_churn(self, as_of, **options)

    # --- scoring everything ---------------------------------------------------------
    def score_all(self, as_of, save=True, rows=True, **options) -> Results:
        """Score every customer as of a date in one pass - value, lifetime
        value, churn, satisfaction, loyalty, the value matrix and loyalty
        quadrants - and (with ``save``) store the snapshot. Returns a
        :class:`Results` of :class:`custscore.scoring.Score` (empty with
        ``rows=False``) whose ``info`` is a :class:`custscore.scoring.ScoreInfo`.
        Options: see :func:`custscore.scoring.score_options`."""
        return _scoring().store_score_all(self, as_of, rows=rows, save=save, **options)

    def snapshots(self) -> list:
        """As-of times (datetimes) of the saved snapshots, newest first."""
        return _scoring().store_snapshots(self)

    def snapshot(self, customer, as_of=None):
        """One customer's saved scores at @p as_of (None: the latest
        snapshot holding the customer): a :class:`custscore.scoring.SnapshotRow`."""
        return _scoring().store_snapshot_get(self, customer, as_of)

    def changes(self, since, until=None) -> Results:
        """Customers whose tier, segment or churn band moved between the
        snapshot at @p since and the one at @p until (None: the latest),
        largest value at stake first: :class:`custscore.scoring.Change` rows."""
        return _scoring().store_changes(self, since, until)

    def report_html(self, path, as_of, title=None, top=20, survey_model=None,
                    csi_bootstrap=-1, seed=1, max_points=1500, **score_options) -> None:
        """Write the self-contained HTML report for managers (inline CSS and
        SVG, no scripts) as of a date to @p path ("-": standard output),
        atomically. Reads the store only. Parts that cannot be computed
        (no model, no survey) get a note instead of failing. Options: the
        title, rows of the top tables, the survey model, the satisfaction
        bootstrap and its seed, points per scatter chart, and the scoring
        options of :meth:`score_all`."""
        _scoring().store_report_html(self, path, as_of, title, top, survey_model,
                                     csi_bootstrap, seed, max_points, **score_options)

    # --- loyalty and retention ---------------------------------------------------
    def retention(self, as_of, period="month", max_periods=24, since=None) -> RetentionReport:
        """Cohort retention and per-period loyalty indicators (retention
        rate, repeat purchase rate, inter-purchase time, repeat revenue
        share) from the orders up to @p as_of. @p period: "month" (calendar
        months), "week" (ISO weeks), "day" or "year"; cohorts starting
        before @p since are ignored."""
        opt = retention_options(period, max_periods, since)
        out = ctypes.POINTER(_ffi.Retention)()
        with self._lock:
            lib.custscore_retention_compute(self._h(), to_time(as_of, "as_of"), byref(opt),
                                            byref(out))
        try:
            r = out.contents
            return RetentionReport(
                _convert.enum_name(r.period, _ffi.UNIT), _convert.from_time(r.as_of),
                Results([Cohort._from_c(r.cohorts[i]) for i in range(r.n_cohorts)]),
                Results([PeriodStats._from_c(r.periods[i]) for i in range(r.n_periods)]),
                r.repeat_rate, r.mean_interpurchase_days)
        finally:
            lib.custscore_retention_free(out)


# ---------------------------------------------------------------------------
# Helpers


def _csi():
    from . import csi
    return csi


def _churn():
    from . import churn
    return churn


def _scoring():
    from . import scoring
    return scoring


def _fill_order(order, customer, order_key, ts, revenue, cost=None):
    ckey = key(customer)
    okey = None if order_key is None or _convert.is_missing(order_key) else key(order_key,
                                                                                 "order")
    order.customer = ckey
    order.order_key = okey
    order.ts = to_time(ts, "ts")
    order.revenue = float(revenue)
    if cost is None or _convert.is_missing(cost):
        order.cost = 0.0
        order.has_cost = 0
    else:
        order.cost = float(cost)
        order.has_cost = 1
    return (ckey, okey)


def _records(rows):
    """Rows of a DataFrame (as dicts) or any iterable, unchanged."""
    if _convert.is_dataframe(rows):
        columns = list(rows.columns)
        for values in rows.itertuples(index=False, name=None):
            yield dict(zip(columns, values))
        return
    yield from rows


def _order_rows(rows):
    """Normalise order rows to (customer, order_key, ts, revenue, cost)."""
    if _convert.is_dataframe(rows):
        yield from _convert.dataframe_orders(rows)
        return
    for row in rows:
        if isinstance(row, dict):
            revenue = row.get("revenue")
            if revenue is None and "quantity" in row and "price" in row:
                revenue = float(row["quantity"]) * float(row["price"])
            if revenue is None:
                raise InvalidInput("order %r: revenue (or quantity and price) required" % (row,),
                                   -1)
            yield (row["customer"], row.get("order", row.get("order_key")), row["ts"], revenue,
                   row.get("cost"))
        elif len(row) == 3:
            yield (row[0], None, row[1], row[2], None)
        elif len(row) == 4:
            yield (row[0], row[1], row[2], row[3], None)
        elif len(row) == 5:
            yield tuple(row)
        else:
            raise InvalidInput("order %r: expected (customer, ts, revenue), (customer, order, "
                               "ts, revenue) or (customer, order, ts, revenue, cost)" % (row,),
                               -1)


def _fill_import_options(opt, options, keep):
    def text(name, value):
        b = cstr(value, name)
        keep.append(b)
        return b

    for name, value in options.items():
        if value is None:
            continue
        if name == "map":
            if isinstance(value, dict):
                value = ",".join("%s=%s" % (k, v) for k, v in value.items())
            opt.map = text("map", value)
        elif name == "delimiter":
            if value == "whitespace":
                opt.whitespace = 1
            else:
                d = {"tab": "\t", "comma": ",", "semicolon": ";"}.get(value, value)
                b = cstr(d, "delimiter")
                if len(b) != 1:
                    raise InvalidInput("delimiter: %r: expected one character, 'tab' or "
                                       "'whitespace'" % (value,), -1)
                opt.delimiter = b
        elif name in ("whitespace", "no_header", "skip_bad", "wide"):
            setattr(opt, name, 1 if value else 0)
        elif name == "date_format":
            opt.date_format = text(name, value)
        elif name in ("rejects", "rejects_path"):
            opt.rejects_path = text(name, os.fspath(value))
        elif name in ("cancel_prefix", "customer_column", "date_column"):
            setattr(opt, name, text(name, str(value)))
        elif name == "default_ts":
            opt.default_ts = to_time(value, "default_ts")
        else:
            raise TypeError("import_csv: unexpected option %r" % name)

