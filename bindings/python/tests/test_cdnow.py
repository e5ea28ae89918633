"""The CDNOW fits through Python return the published parameters (Fader,
Hardie & Lee 2005; Fader & Hardie 2013) - from ../shared/data when present."""

import csv
import math

import pytest

import custscore
from custscore import models
from conftest import SHARED, requires

DATA = SHARED / "lifetimes-datasets"
pytestmark = [
    requires("custscore_btyd_fit", "custscore_gg_fit", "custscore_fit"),
    pytest.mark.skipif(not (DATA / "cdnow_customers_summary_with_transactions.csv").exists(),
                       reason="../shared/data/lifetimes-datasets absent"),
]


def summary():
    with open(DATA / "cdnow_customers_summary_with_transactions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return ([float(r["x"]) for r in rows], [float(r["t_x"]) for r in rows],
            [float(r["T"]) for r in rows], [float(r["zbar"]) for r in rows])


def close(params, published, tol):
    return all(math.isclose(params[k], v, abs_tol=tol) for k, v in published.items())


def test_bgnbd_published():
    x, t_x, T, _ = summary()
    fit = models.bgnbd_fit(x, t_x, T)
    assert close(fit.params, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, 1e-3)
    assert math.isclose(fit.loglik, -9582.4, abs_tol=0.1) and fit.n == 2357


def test_pnbd_published():
    x, t_x, T, _ = summary()
    fit = models.pnbd_fit(x, t_x, T)
    assert close(fit.params, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, 0.01)
    assert math.isclose(fit.loglik, -9595.0, abs_tol=0.1)


def test_mbgnbd_published():
    x, t_x, T, _ = summary()
    fit = models.mbgnbd_fit(x, t_x, T)
    assert close(fit.params, {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}, 0.01)


def test_gamma_gamma_published():
    x, _, _, zbar = summary()
    fit = models.gg_fit(x, zbar)
    assert close(fit.params, {"p": 6.25, "q": 3.74, "gamma": 15.44}, 0.01)
    assert math.isclose(fit.loglik, -4055.92, abs_tol=0.01)
    assert fit.n == 946 and fit.n_excluded == 2357 - 946
    spend = models.gg_expected_spend(fit, x[:10], zbar[:10])
    published = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    assert all(math.isclose(a, b, abs_tol=0.01) for a, b in zip(spend, published))


def test_store_fit_on_the_shared_transactions(tmp_path):
    with custscore.open(tmp_path / "cdnow.db") as store:
        store.import_csv("orders", DATA / "CDNOW_sample.txt", whitespace=True, no_header=True,
                         map="customer=2,ts=3,revenue=5")
        fit = store.fit("1997-09-30", zero_revenue="purchase")
    assert close(fit.params, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, 1e-3)
