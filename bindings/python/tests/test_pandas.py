"""DataFrames in and out (skipped without pandas)."""

import datetime as dt

import pytest

import custscore
from conftest import needs_pandas

pytestmark = needs_pandas


def test_add_orders_from_dataframe(store):
    import pandas as pd
    frame = pd.DataFrame({
        "customer": ["a", "a", "b", "c"],
        "order": ["o1", "o2", None, "o4"],
        "ts": pd.to_datetime(["2024-01-01", "2024-02-01 10:00", "2024-01-05", "2024-03-01"]),
        "revenue": [10.0, 20.0, 5.0, 7.5],
        "cost": [4.0, None, 1.0, float("nan")],
    })
    report = store.add_orders(frame)
    assert report.added == 4
    a = store.summary_one("a", "2024-03-01")
    assert a.revenue == 30 and a.cost == 4 and a.x == 1
    aware = frame.assign(ts=frame["ts"].dt.tz_localize("Europe/Berlin"))
    store.add_orders(aware.iloc[:1].assign(order="z1"))
    z = [r for r in store.summary("2024-03-01") if r.customer == "a"][0]
    assert z.orders == 3  # 2024-01-01 00:00 Berlin is 2023-12-31 23:00 UTC
    assert z.first == dt.datetime(2023, 12, 31, tzinfo=dt.timezone.utc)


def test_dataframe_quantity_price_and_string_dates(store):
    import pandas as pd
    frame = pd.DataFrame({"customer": [1, 2], "ts": ["2024-01-01", "20240102"],
                          "quantity": [2, 3], "price": [1.5, 2.0]})
    store.add_orders(frame)
    rows = store.summary("2024-02-01").to_pandas(index="customer")
    assert rows.loc["1", "revenue"] == 3.0 and rows.loc["2", "revenue"] == 6.0
    with pytest.raises(custscore.InvalidInput):
        store.add_orders(pd.DataFrame({"customer": ["a"], "ts": ["2024-01-01"]}))
    with pytest.raises(custscore.InvalidInput):
        store.add_orders(pd.DataFrame({"customer": ["a"],
                                       "ts": pd.to_datetime([None]), "revenue": [1.0]}))


def test_other_bulk_adds_from_dataframes(store):
    import pandas as pd
    store.add_customers(pd.DataFrame({"customer": ["a", "b"], "created": ["2024-01-01", None],
                                      "segment": ["x", None], "score": [1.5, float("nan")]}))
    store.add_responses(pd.DataFrame({"customer": ["a"], "ts": ["2024-01-02"],
                                      "item": ["CUSA1"], "value": [8]}))
    store.add_complaints(pd.DataFrame({"customer": ["b"], "ts": ["2024-01-03"],
                                       "severity": [2], "resolved": [None]}))
    store.set_attributes(pd.DataFrame({"customer": ["a"], "name": ["tier"], "value": ["gold"]}))
    assert store.customer_count() == 2


def test_results_to_pandas_types(store):
    import pandas as pd
    store.add_orders([("a", "2024-01-01", 10.0), ("a", "2024-01-10", 5.0),
                      ("b", "2024-01-03", 2.0)])
    store.add_customer("prospect")
    frame = store.summary("2024-02-01").to_pandas()
    assert list(frame.columns) == ["customer", "first", "last", "x", "t_x", "T", "orders",
                                   "revenue", "cost", "profit", "mean_repeat_spend"]
    assert str(frame["first"].dtype).startswith("datetime64[ns, UTC]")
    assert frame["first"].isna().tolist() == [False, False, True]
    assert frame["x"].tolist() == [1, 0, 0]
    value = store.value("2024-02-01").to_pandas(index="customer")
    assert value.loc["a", "lifecycle"] in ("new", "growing", "mature")
    assert custscore.Results().to_pandas().empty
    assert store.summary("2024-02-01").to_dicts()[0]["customer"] == "a"
    report = store.retention("2024-02-01")
    assert isinstance(report.retention_matrix(), pd.DataFrame)
    assert not report.cohorts.to_pandas().empty


def test_value_compute_from_dataframe():
    import pandas as pd
    frame = pd.DataFrame({"customer": ["a", "b", "a"], "ts": ["2024-01-01", "2024-01-02",
                                                              "2024-02-01"],
                          "revenue": [10.0, 3.0, 4.0], "cost": [1.0, 1.0, 1.0]})
    rows = custscore.value.value_compute(frame, "2024-03-01")
    assert [r.customer for r in rows] == ["a", "b"] and rows[0].profit == 12.0
