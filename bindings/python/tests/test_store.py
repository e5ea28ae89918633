"""Store life cycle, ingest, CSV import, summary, retention; parity of the
summary with the CLI's --json output (same bits)."""

import datetime as dt
import json
import math
import subprocess
import threading

import pytest

import custscore
from conftest import SAMPLE, cli_path

UTC = dt.timezone.utc


# ---------------------------------------------------------------------------
# Life cycle


def test_open_in_memory_and_context_manager():
    with custscore.open() as store:
        assert not store.closed
        assert store.customer_count() == 0
        assert "open" in repr(store)
    assert store.closed
    assert "closed" in repr(store)


def test_closed_store_raises():
    store = custscore.open()
    store.close()
    store.close()  # harmless twice
    for call in (lambda: store.customer_count(), lambda: store.add_customer("a"),
                 lambda: store.summary("2020-01-01"), lambda: store.begin(),
                 lambda: store.errmsg, lambda: store.busy_timeout(10),
                 lambda: store.release_memory()):
        with pytest.raises(custscore.Closed):
            call()
    with pytest.raises(ValueError):  # Closed is a ValueError, as for closed files
        store.customer_count()
    with pytest.raises(custscore.Closed):
        with store:
            pass


def test_release_memory_then_same_summary(db_path):
    with custscore.open(db_path) as store:
        store.add_order("c1", "2024-01-02", 10.0, order_key="A")
        store.add_order("c1", "2024-02-02", 12.0, order_key="B")
        before = store.summary("2024-03-01")
        store.release_memory()
        assert store.summary("2024-03-01") == before
        store.add_order("c1", "2024-02-20", 5.0, order_key="C")
        assert store.summary("2024-03-01") != before


def test_context_manager_closes_on_exception(db_path):
    with pytest.raises(RuntimeError):
        with custscore.open(db_path) as store:
            store.add_customer("a")
            raise RuntimeError("boom")
    assert store.closed
    with custscore.open(db_path, create=False) as again:
        assert again.customer_count() == 1


def test_file_store_persists_and_pathlike(db_path):
    with custscore.open(db_path) as store:
        store.add_order("c1", "2024-01-02", 10.0)
        assert store.path == str(db_path)
    with custscore.open(str(db_path), create=False, readonly=True) as store:
        assert len(store) == 1
        assert store.readonly


def test_errmsg_and_errcode(store):
    assert store.errcode == 0
    with pytest.raises(custscore.NotFound):
        store.summary_one("missing", "2024-01-01")
    assert store.errcode == custscore.NotFound.c_code
    assert "missing" in store.errmsg
    store.customer_count()
    assert store.errcode == 0 and store.errmsg == ""


def test_busy_timeout_setter(store):
    store.busy_timeout(0)
    store.busy_timeout(250)


# ---------------------------------------------------------------------------
# Ingest


def test_add_customer_and_attributes(store):
    store.add_customer("k1")
    store.add_customer(42, created="2023-05-01")  # integer keys become text
    store.set_attribute("k1", "tenure", 12)
    store.set_attribute("k1", "contract", "Month-to-month")
    store.set_attribute("new", "tenure", 1.5)  # creates the customer
    assert store.customer_count() == 3
    with pytest.raises(TypeError):
        store.set_attribute("k1", "flag", True)
    with pytest.raises(custscore.InvalidInput):
        store.set_attribute("k1", "tenure", float("nan"))


def test_bad_keys_are_invalid_input(store):
    with pytest.raises(custscore.InvalidInput):
        store.add_customer("")
    with pytest.raises(custscore.InvalidInput):
        store.add_customer("x" * 256)
    with pytest.raises(custscore.InvalidInput) as info:
        store.add_customer("a\0b")  # ctypes would cut it silently
    assert "NUL" in str(info.value)


def test_add_order_replaces_same_key(store):
    assert store.add_order("c", "2024-01-01", 10.0, order_key="o1") is False
    assert store.add_order("c", "2024-01-01", 12.0, order_key="o1") is True
    s = store.summary_one("c", "2024-02-01")
    assert s.orders == 1 and s.revenue == 12.0


def test_add_orders_tuples_dicts_and_report(store):
    report = store.add_orders([
        ("a", "2024-01-01", 10.0),
        ("a", "o2", "2024-02-01", 20.0),
        ("b", "o3", dt.date(2024, 1, 5), 5.0, 2.0),
        {"customer": "b", "order": "o4", "ts": dt.datetime(2024, 3, 1, 12, tzinfo=UTC),
         "quantity": 2, "price": 3.5, "cost": 1.0},
        {"customer": "c", "ts": 1704153600, "revenue": 7.0},
    ])
    assert report == custscore.AddReport(added=5, replaced=0)
    again = store.add_orders([("a", "o2", "2024-02-01", 21.0)])
    assert again.replaced == 1
    s = store.summary_one("b", "2024-06-01")
    assert s.revenue == 12.0 and s.cost == 3.0 and s.profit == 9.0


def test_add_orders_is_all_or_nothing(store):
    with pytest.raises(custscore.InvalidInput):
        store.add_orders([("a", "2024-01-01", 1.0), ("b", "2024-01-01", float("inf"))])
    assert store.customer_count() == 0
    with pytest.raises(custscore.InvalidInput):
        store.add_orders([("a", "2024-01-01")])
    with pytest.raises(KeyError):
        store.add_orders([{"customer": "a", "revenue": 1.0}])
    assert store.customer_count() == 0


def test_batch_commit_and_rollback(store):
    with store.batch():
        store.add_customer("a")
        with store.batch():  # nested joins the outer one
            store.add_customer("b")
    assert store.customer_count() == 2
    with pytest.raises(RuntimeError):
        with store.batch():
            store.add_customer("c")
            raise RuntimeError
    assert store.customer_count() == 2
    store.begin()
    store.add_customer("d")
    store.rollback()
    store.rollback()  # no open batch: a no-op
    assert store.customer_count() == 2
    store.begin()
    store.add_customer("e")
    store.commit()
    assert store.customer_count() == 3


def test_bulk_customers_attributes_responses_complaints(store):
    assert store.add_customers(["a", ("b", "2023-01-01"),
                                {"customer": "c", "created": None, "tier": "gold",
                                 "score": 3}]) == 3
    assert store.set_attributes([("a", "tenure", 3), {"customer": "b", "name": "plan",
                                                      "value": "basic"}]) == 2
    assert store.add_responses([("a", "2024-01-01", "CUSA1", 8),
                                {"customer": "b", "ts": "2024-01-02", "item": "CUSA1",
                                 "value": 6}]) == 2
    store.add_response("c", "2024-01-03", "CUSA1", 9.0)
    assert store.add_complaints([("a", "2024-01-05", 2), ("b", "2024-01-06", 1,
                                                           "2024-01-09"),
                                 {"customer": "c", "ts": "2024-02-01", "severity": 3}]) == 3
    store.add_complaint("a", "2024-03-01", 1.0, resolved=dt.date(2024, 3, 2))
    assert store.customer_count() == 3


# ---------------------------------------------------------------------------
# CSV import

ORDERS = ("customer;order;date;amount;cost\n"
          "A;1;01/02/2024;10,5x;1\n")


def test_import_csv_with_options(tmp_path, store):
    path = tmp_path / "orders.csv"
    path.write_text("cust;inv;day;rev\nA;I1;02/01/2024;10.5\nB;C2;03/01/2024;4\n"
                    "A;I3;04/02/2024;20\n")
    report = store.import_csv("orders", path, map={"customer": "cust", "order": "inv",
                                                   "ts": "day", "revenue": "rev"},
                              delimiter=";", date_format="%d/%m/%Y", cancel_prefix="C")
    assert isinstance(report, custscore.ImportReport)
    assert (report.records, report.added, report.rejected) == (3, 3, 0)
    b = store.summary_one("B", "2024-03-01")
    assert b.revenue == -4.0  # a cancellation


def test_import_csv_bad_row_aborts_with_file_line_column(tmp_path, store):
    path = tmp_path / "bad.csv"
    path.write_text("customer,ts,revenue\na,2024-01-01,1\nb,2024-01-02,abc\n")
    with pytest.raises(custscore.InvalidInput) as info:
        store.import_csv("orders", path)
    message = str(info.value)
    assert message.startswith(str(path) + ":3:3:"), message
    assert "revenue" in message and "abc" in message
    assert info.value.code == -1 and info.value.function == "custscore_import_csv"
    assert store.customer_count() == 0  # all or nothing


def test_import_csv_skip_bad_reports_rejections(tmp_path, store):
    path = tmp_path / "bad.csv"
    rejects = tmp_path / "rejects.csv"
    path.write_text("customer,ts,revenue\na,2024-01-01,1\nb,2024-01-02,abc\n"
                    "c,notadate,3\nd,2024-01-04,4\n")
    seen = []
    report = store.import_csv("orders", path, skip_bad=True, rejects=rejects,
                              on_reject=lambda line, col, msg: seen.append(line))
    assert (report.added, report.rejected) == (2, 2)
    assert [r.line for r in report.rejections] == [3, 4] == seen
    assert report.rejections[0].column == 3
    assert "abc" in report.rejections[0].message
    assert rejects.exists() and "abc" in rejects.read_text()


def test_import_csv_on_reject_can_abort_and_exceptions_propagate(tmp_path, store):
    path = tmp_path / "bad.csv"
    path.write_text("customer,ts,revenue\na,2024-01-01,1\nb,2024-01-02,abc\n")
    with pytest.raises(custscore.Error):
        store.import_csv("orders", path, skip_bad=True, on_reject=lambda *a: True)
    assert store.customer_count() == 0

    def boom(*args):
        raise KeyError("from the callback")
    with pytest.raises(KeyError, match="from the callback"):
        store.import_csv("orders", path, skip_bad=True, on_reject=boom)
    assert store.customer_count() == 0


def test_import_whitespace_no_header_cdnow(store):
    report = store.import_csv("orders", SAMPLE, delimiter="whitespace", no_header=True,
                              map="customer=2,ts=3,revenue=5")
    assert report.records == 6919 and report.added == 6919
    assert store.customer_count() == 2357
    again = store.import_csv("orders", SAMPLE, whitespace=True, no_header=True,
                             map="customer=2,ts=3,revenue=5")
    assert again.replaced + again.added == 6919


def test_import_text_and_kinds(store):
    r = store.import_text("customers", "customer,created,tier\na,2024-01-01,gold\nb,,silver\n")
    assert r.added == 2
    r = store.import_text("responses", b"customer,ts,item,value\na,2024-02-01,CUSA1,8\n",
                          name="survey.csv")
    assert r.added == 1
    r = store.import_text("responses", "id,when,CUSA1,CUSA2\na,2024-02-02,7,8\nb,2024-02-02,5,\n",
                          wide=True, customer_column="id", date_column="when")
    assert r.added >= 3
    r = store.import_text("complaints", "customer,ts,severity,resolved\na,2024-03-01,2,\n")
    assert r.added == 1
    r = store.import_text("orders", "customer\tts\trevenue\na\t2024-01-01\t3\n", delimiter="tab")
    assert r.added == 1
    with pytest.raises(custscore.InvalidInput):
        store.import_text("bogus", "x")
    with pytest.raises(custscore.InvalidInput):
        store.import_text("orders", "a", delimiter="ab")
    with pytest.raises(TypeError):
        store.import_text("orders", "a", bogus=1)


def test_import_missing_file_is_not_found(tmp_path, store):
    with pytest.raises(custscore.NotFound) as info:
        store.import_csv("orders", tmp_path / "nope.csv")
    assert "nope.csv" in str(info.value)
    assert isinstance(info.value, LookupError)


# ---------------------------------------------------------------------------
# Summary


def test_summary_rows_and_one(store):
    store.add_orders([("a", "2024-01-01", 10.0), ("a", "2024-01-15", 20.0),
                      ("a", "2024-01-29", 30.0), ("b", "2024-01-10", 0.0)])
    store.add_customer("prospect")
    rows = store.summary("2024-02-05")
    assert [r.customer for r in rows] == ["a", "b", "prospect"]
    a = rows[0]
    assert a.x == 2 and a.t_x == 4.0 and a.T == 5.0 and a.mean_repeat_spend == 25.0
    assert a.first == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert rows[2].first is None and rows[2].orders == 0
    assert rows[1].x == 0 and rows[1].first is None  # a zero-revenue order is an adjustment
    b = store.summary_one("b", "2024-02-05", zero_revenue="purchase")
    assert b.first == dt.datetime(2024, 1, 10, tzinfo=UTC)
    days = store.summary("2024-02-05", unit="day", customer="a")
    assert len(days) == 1 and days[0].T == 35.0
    assert list(store.summary("2024-02-05").column("x")) == [2, 0, 0]


def test_summary_callback_exception_propagates(store, monkeypatch):
    store.add_orders([("a", "2024-01-01", 10.0), ("b", "2024-01-01", 10.0)])
    from custscore import results

    def broken(cls, s):
        raise ZeroDivisionError("in the callback")
    monkeypatch.setattr(results.Summary, "_from_c", classmethod(broken))
    with pytest.raises(ZeroDivisionError):
        store.summary("2024-02-01")
    monkeypatch.undo()
    assert len(store.summary("2024-02-01")) == 2  # the handle is still usable


@pytest.mark.skipif(cli_path() is None, reason="custscore CLI not built")
@pytest.mark.parametrize("unit,zero", [("week", "adjustment"), ("day", "purchase"),
                                       ("month", "purchase")])
def test_summary_parity_with_cli_json(cdnow_store, unit, zero):
    """The Python summary and `custscore summary --json` give the same bits."""
    out = subprocess.run([cli_path(), "--db", str(cdnow_store), "summary", "--as-of",
                          "1997-09-30", "--unit", unit, "--zero-revenue", zero, "--json"],
                         capture_output=True, text=True, check=True).stdout
    cli = json.loads(out)["customers"]
    with custscore.open(cdnow_store, create=False, readonly=True) as store:
        mine = store.summary("1997-09-30", unit=unit, zero_revenue=zero)
    assert len(mine) == len(cli) == 2357
    for py, c in zip(mine, cli):
        assert py.customer == c["customer"]
        assert (py.x, py.orders) == (c["x"], c["orders"])
        for name in ("t_x", "T", "revenue", "cost", "profit", "mean_repeat_spend"):
            assert getattr(py, name) == c[name], (py.customer, name)  # exact, %.17g
        first = None if py.first is None else custscore.format_time(py.first)
        assert first == c["first"]


def test_customer_count_and_len(store):
    store.add_customers(["a", "b", "c"])
    assert store.customer_count() == len(store) == 3


# ---------------------------------------------------------------------------
# Retention


def test_retention(cdnow_store):
    with custscore.open(cdnow_store, readonly=True) as store:
        report = store.retention("1997-12-31", period="month", max_periods=6)
    assert report.period == "month"
    assert report.as_of == dt.datetime(1997, 12, 31, tzinfo=UTC)
    assert [c.start.month for c in report.cohorts] == [1, 2, 3]
    # Customers whose only purchases are $0 rows have no purchase occasion.
    assert 2300 < sum(c.customers for c in report.cohorts) <= 2357
    first = report.cohorts[0]
    assert first.retention[0] == 1.0 and len(first.retention) <= 6
    assert len(report.periods) == 12
    assert math.isnan(report.periods[0].retention_rate)
    assert 0 < report.repeat_rate < 1
    with pytest.raises(custscore.InvalidInput):
        custscore.open().retention("2024-01-01", period="fortnight")


def test_threads_share_a_store_safely(store):
    """Calls on one Store from several threads are serialised by its lock."""
    errors = []

    def work(k):
        try:
            for i in range(50):
                store.add_order("t%d" % k, "2024-01-%02d" % (i % 28 + 1), 1.0,
                                order_key="%d-%d" % (k, i))
                store.customer_count()
        except Exception as exc:  # pragma: no cover - shows in the assertion
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert store.customer_count() == 4


def test_one_store_per_thread_on_one_file(db_path):
    with custscore.open(db_path) as s:
        s.add_customer("seed")
    errors = []

    def work(k):
        try:
            with custscore.open(db_path, busy_timeout=10000) as mine:
                mine.add_orders([("p%d" % k, "2024-01-01", float(i)) for i in range(20)])
                mine.summary("2024-02-01")
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with custscore.open(db_path) as s:
        assert s.customer_count() == 5
