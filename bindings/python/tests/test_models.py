"""Lifetime value: BTYD and Gamma-Gamma array functions, fits, CLV, holdout,
saved models; numpy and list inputs; parity between the store and array
paths (same bits)."""

import math

import pytest

import custscore
from custscore import models
from conftest import HAVE_NUMPY, copy_store, needs_numpy, requires

pytestmark = requires("custscore_btyd_p_alive", "custscore_fit")

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PNBD = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def test_params_forms():
    b = models.btyd_params(BGNBD)
    assert b.model == 1 and b.r == 0.243
    assert models.btyd_params(PNBD).model == 3
    assert models.btyd_params((0.5, 10, 0.6, 11), model="pnbd").beta == 11
    assert models.btyd_params(dict(BGNBD, model="mbgnbd")).model == 2
    assert models.btyd_params(b) is b
    with pytest.raises(custscore.InvalidInput):
        models.btyd_params({"r": 1, "alpha": 2})
    with pytest.raises(custscore.InvalidInput):
        models.btyd_params((1, 2, 3))
    with pytest.raises(custscore.InvalidInput):
        models.btyd_params(BGNBD, model="gg")
    assert models.gg_params(GG).gamma == 15.44
    assert models.gg_params((1, 2, 3)).q == 2
    with pytest.raises(custscore.InvalidInput):
        models.gg_params({"p": 1})


def test_published_bgnbd_predictions(fitted):
    # Fader, Hardie & Lee (2005), at the CDNOW estimates (full precision)
    purchase = fitted[0]
    assert math.isclose(models.bgnbd_conditional_expected(purchase, 39, 2, 30.43, 38.86),
                        1.226, abs_tol=5e-4)
    expected = models.expected(purchase, [1, 3, 32, 78])
    for got, want in zip(expected, [0.0532, 0.1506, 1.0437, 1.8576]):
        assert math.isclose(got, want, abs_tol=5e-4)
    assert isinstance(models.expected(purchase, 39), float)


def test_published_pnbd_predictions():
    assert math.isclose(models.pnbd_conditional_expected(PNBD, 52, 26, 30.86, 31), 25.46,
                        abs_tol=0.01)
    assert math.isclose(models.pnbd_p_alive(PNBD, 26, 30.86, 31), 0.998, abs_tol=5e-4)


def test_every_purchase_function_and_model():
    x, t_x, T = [0, 2, 5], [0, 30.43, 20], [38.86, 38.86, 30]
    for params in (BGNBD, dict(BGNBD, model="mbgnbd"), PNBD):
        pa = models.p_alive(params, x, t_x, T)
        assert all(0 <= p <= 1 for p in pa)
        ce = models.conditional_expected(params, 10, x, t_x, T)
        assert all(v >= 0 for v in ce)
        nb = models.p_no_purchase(params, 10, x, t_x, T)
        assert all(0 <= v <= 1 for v in nb)
        pmf = models.pmf(params, 39, 30)
        assert len(pmf) == 31 and math.isclose(sum(pmf), 1, abs_tol=1e-3)
        ll = models.loglik(params, x, t_x, T)
        each = models.loglik_each(params, x, t_x, T)
        assert math.isclose(ll, sum(each), rel_tol=1e-12)
        assert math.isclose(models.loglik(params, x, t_x, T, weights=[2, 1, 1]),
                            ll + each[0], rel_tol=1e-12)
        assert len(models.gradient(params, x, t_x, T)) == 4
    # model-specific names fix the model for dict parameters
    assert models.mbgnbd_p_alive(BGNBD, 0, 0, 30) < models.bgnbd_p_alive(BGNBD, 0, 0, 30)
    assert models.bgnbd_expected(BGNBD, 39) == models.expected(BGNBD, 39)
    assert models.bgnbd_pmf(BGNBD, 39, 3)[0] == models.pmf(BGNBD, 39, 3)[0]
    assert models.bgnbd_p_no_purchase(BGNBD, 5, 1, 2, 3) == models.p_no_purchase(BGNBD, 5, 1,
                                                                                  2, 3)
    assert models.bgnbd_loglik(BGNBD, 1, 2, 3) == models.loglik(BGNBD, 1, 2, 3)
    assert models.bgnbd_loglik_each(BGNBD, 1, 2, 3) == models.loglik_each(BGNBD, 1, 2, 3)
    assert list(models.bgnbd_gradient(BGNBD, 1, 2, 3)) == list(models.gradient(BGNBD, 1, 2, 3))


def test_gradient_matches_finite_differences():
    x, t_x, T = [0, 1, 4, 7], [0, 5, 20, 30], [30, 31, 33, 38]
    grad = models.gradient(BGNBD, x, t_x, T)
    for k, name in enumerate(("r", "alpha", "a", "b")):
        h = 1e-6 * BGNBD[name]
        up = dict(BGNBD, **{name: BGNBD[name] + h})
        down = dict(BGNBD, **{name: BGNBD[name] - h})
        numeric = (models.loglik(up, x, t_x, T) - models.loglik(down, x, t_x, T)) / (2 * h)
        assert math.isclose(grad[k], numeric, rel_tol=1e-5, abs_tol=1e-6)


def test_bad_inputs_raise():
    with pytest.raises(custscore.InvalidInput):
        models.p_alive(BGNBD, [1], [5], [3])  # t_x > T
    with pytest.raises(custscore.InvalidInput):
        models.p_alive(BGNBD, [1, 2], [0.5], [3, 4, 5])
    with pytest.raises(custscore.InvalidInput):
        models.p_alive(dict(BGNBD, r=-1), 1, 1, 2)
    with pytest.raises(custscore.OutOfRange):
        models.pmf(BGNBD, 10, 2_000_000)


def test_gamma_gamma_functions():
    x, m = [1, 3, 10], [20.0, 35.0, 50.0]
    ll = models.gg_loglik(GG, x, m)
    assert math.isfinite(ll)
    assert len(models.gg_gradient(GG, x, m)) == 3
    spend = models.gg_expected_spend(GG, [0] + x, [0.0] + m)
    assert math.isclose(spend[0], GG["p"] * GG["gamma"] / (GG["q"] - 1), rel_tol=1e-12)
    with pytest.raises(custscore.InvalidInput):
        models.gg_expected_spend({"p": 1, "q": 0.5, "gamma": 1}, [0], [0])


def test_clv_margin_multiple_and_names():
    assert math.isclose(models.clv_margin_multiple(100, 0.8, 0.1), 100 * 0.8 / 0.3)
    with pytest.raises(custscore.InvalidInput):
        models.clv_margin_multiple(100, 1.2, 0.1)
    assert models.model_name("pnbd") == "pnbd" and models.model_name(4) == "gg"
    assert models.model_parse("Pareto/NBD") == "pnbd"
    assert models.model_parse("gamma-gamma") == "gg"
    with pytest.raises(custscore.InvalidInput):
        models.model_parse("arima")
    with pytest.raises(custscore.InvalidInput):
        models.model_name(99)


@pytest.fixture(scope="module")
def fitted_store(cdnow_store, tmp_path_factory):
    """A copy of the CDNOW store with BG/NBD and Gamma-Gamma models saved."""
    path = copy_store(cdnow_store, tmp_path_factory.mktemp("fitted"))
    with custscore.open(path) as store:
        store.fit("1997-09-30", zero_revenue="purchase")
        store.fit("1997-09-30", model="gg", zero_revenue="purchase")
    return path


@pytest.fixture(scope="module")
def fitted(fitted_store):
    with custscore.open(fitted_store, readonly=True) as store:
        purchase = store.load_model("bgnbd")
        spend = store.load_model("gg")
        summary = store.summary("1997-09-30", zero_revenue="purchase")
    return purchase, spend, summary


def test_store_fit_is_the_published_bgnbd(fitted):
    purchase, spend, _ = fitted
    assert isinstance(purchase, custscore.FitResult)
    assert purchase.model == "bgnbd" and purchase.unit == "week" and purchase.converged
    assert purchase.name == "bgnbd" and purchase.model_id > 0 and purchase.n == 2357
    for name, want in BGNBD.items():
        assert math.isclose(purchase.params[name], want, abs_tol=1e-3), name
    assert math.isclose(purchase.loglik, -9582.4, abs_tol=0.05)
    assert set(purchase.std_error) == set(BGNBD)
    assert len(purchase.cov_log) == 4
    for name, want in GG.items():
        assert math.isclose(spend.params[name], want, abs_tol=0.01), name
    assert math.isclose(spend.loglik, -4055.92, abs_tol=0.01)
    assert spend.zero_revenue == "purchase"


def test_array_fit_equals_store_fit(fitted):
    purchase, spend, summary = fitted
    buyers = [s for s in summary if s.first is not None]
    x = [s.x for s in buyers]
    t_x = [s.t_x for s in buyers]
    T = [s.T for s in buyers]
    mine = models.fit(x, t_x, T)
    assert mine.params == purchase.params  # same data, same code: same bits
    assert mine.loglik == purchase.loglik and mine.name == "" and mine.model_id == 0
    gg = models.gg_fit(x, [s.mean_repeat_spend for s in buyers])
    assert gg.params == spend.params
    assert models.bgnbd_fit(x, t_x, T).params == mine.params


def test_store_clv_equals_array_clv(fitted, fitted_store):
    purchase, spend, summary = fitted
    with custscore.open(fitted_store, readonly=True) as store:
        rows = store.clv("1997-09-30", horizon=39, horizon_unit="week", discount_rate=0.15)
        one = store.clv("1997-09-30", customer="0001", horizon=39, horizon_unit="week",
                        discount_rate=0.15)
        assert store.load_model().params == purchase.params
        assert store.load_model("gg").params == spend.params
    assert isinstance(rows.info, custscore.ClvInfo)
    assert rows.info.customers == len(rows) == 2357 and rows.info.periods == 39
    assert one[0] == rows[0]
    buyers = [s for s in summary if s.first is not None]
    out = models.clv(purchase, spend, [s.x for s in buyers], [s.t_x for s in buyers],
                     [s.T for s in buyers], [s.mean_repeat_spend for s in buyers],
                     horizon=39, horizon_unit="week", discount_rate=0.15)
    assert isinstance(out, custscore.ClvArrays)
    for k, row in enumerate(rows):
        assert row.p_alive == out.p_alive[k]
        assert row.expected_purchases == out.expected_purchases[k]
        assert row.clv == out.clv[k]
        assert row.clv_low == out.clv_low[k] and row.clv_high == out.clv_high[k]
    # the CLV's p_alive is the model's
    assert rows[0].p_alive == purchase.p_alive(rows[0].x, rows[0].t_x, rows[0].T)
    assert rows[0].expected_spend == spend.expected_spend(rows[0].x, rows[0].mean_spend)
    partial = models.clv(purchase, spend, 2, 30.43, 38.86, 22.0, outputs=("clv",))
    assert partial.p_alive is None and isinstance(partial.clv, float)
    bare = models.clv(BGNBD, GG, 2, 30.43, 38.86, 22.0, interval_level=0)
    assert math.isnan(bare.clv_low) and bare.clv > 0


def test_lifetimes_names_on_fit_results(fitted):
    purchase, spend, _ = fitted
    assert purchase.conditional_probability_alive(2, 30.43, 38.86) == \
        purchase.p_alive(2, 30.43, 38.86)
    assert purchase.conditional_expected_number_of_purchases_up_to_time(39, 2, 30.43, 38.86) \
        == purchase.conditional_expected(39, 2, 30.43, 38.86)
    assert purchase.expected_number_of_purchases_up_to_time(39) == purchase.expected(39)
    assert purchase.probability_of_n_purchases_up_to_time(39, 2) == purchase.pmf(39, 2)[2]
    assert 0 <= purchase.p_no_purchase(10, 2, 30.43, 38.86) <= 1
    assert spend.conditional_expected_average_profit(2, 22.0) == spend.expected_spend(2, 22.0)


def test_fit_options_names_and_no_save(cdnow_copy):
    with custscore.open(cdnow_copy) as store:
        pn = store.fit("1997-09-30", model="pnbd", name="pareto-test", starts=2,
                       zero_revenue="purchase")
        assert pn.name == "pareto-test" and pn.model == "pnbd"
        for name, want in PNBD.items():
            assert math.isclose(pn.params[name], want, rel_tol=5e-3), name
        trial = store.fit("1997-09-30", model="mbgnbd", save=False, unit="day")
        assert trial.model_id == 0 and trial.unit == "day"
        with pytest.raises(custscore.NoModel):
            store.load_model("never-fitted")


def test_fit_no_convergence_carries_result(cdnow_store):
    with custscore.open(cdnow_store, readonly=True) as store:
        with pytest.raises(custscore.NoConvergence) as info:
            store.fit("1997-09-30", model="pnbd", max_iterations=1, starts=1, save=False,
                      tolerance=1e-300)
    assert isinstance(info.value.result, custscore.FitResult)
    assert info.value.result.status != "converged"
    with pytest.raises(custscore.NoConvergence) as info:
        models.fit([1, 2, 3, 0], [5, 6, 7, 0], [10, 10, 10, 10], max_iterations=1, starts=1,
                   tolerance=1e-300)
    assert info.value.result is not None


def test_holdout(cdnow_store):
    with custscore.open(cdnow_store, readonly=True) as store:
        report = store.holdout("1997-09-30", "1998-06-30", censor=7, per_customer=True,
                               zero_revenue="purchase")
    assert isinstance(report, custscore.HoldoutReport)
    assert report.customers == 2357 and len(report.rows) == 8
    assert math.isclose(report.holdout_length, 39, abs_tol=0.01)
    assert report.fit.model == "bgnbd" and report.fit.model_id == 0
    assert sum(r.customers for r in report.rows) == 2357
    assert len(report.per_customer) == 2357
    assert math.isclose(sum(c.predicted for c in report.per_customer), report.predicted_total,
                        rel_tol=1e-9)
    assert 0 < report.correlation <= 1
    with custscore.open(cdnow_store, readonly=True) as store:
        quick = store.holdout("1997-09-30", "1998-06-30")
        assert quick.per_customer == [] and quick.rows
        with pytest.raises(custscore.InvalidInput):
            store.holdout("1998-06-30", "1997-09-30")


@needs_numpy
def test_numpy_arrays_in_place_and_same_results():
    import numpy as np
    x = np.array([0.0, 2.0, 5.0])
    t_x = np.array([0.0, 30.43, 20.0])
    T = np.array([38.86, 38.86, 30.0])
    out = models.p_alive(BGNBD, x, t_x, T)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert out.tolist() == list(models.p_alive(BGNBD, x.tolist(), t_x.tolist(), T.tolist()))
    # integer arrays and non-contiguous views are converted
    assert models.p_alive(BGNBD, np.array([0, 2, 5]), t_x, T).tolist() == out.tolist()
    assert models.p_alive(BGNBD, x[::-1], t_x[::-1], T[::-1]).tolist() == out[::-1].tolist()
    # scalars broadcast
    assert models.conditional_expected(BGNBD, 39, x, t_x, 38.86).shape == (3,)


def test_lists_without_numpy_semantics():
    out = models.p_alive(BGNBD, [0, 2], [0, 30.43], [38.86, 38.86])
    assert len(out) == 2
    if not HAVE_NUMPY:
        assert isinstance(out, list)
    import array
    arr = array.array("d", [0, 2])
    assert list(models.p_alive(BGNBD, arr, [0, 30.43], [38.86, 38.86])) == list(out)


@needs_numpy
def test_gil_is_released_during_c_calls():
    """While one thread is inside a long C call, another thread keeps running
    Python code (ctypes releases the GIL for CDLL calls)."""
    import threading
    import time
    import numpy as np
    rng = np.random.default_rng(1)
    n = 400_000
    T = rng.uniform(27, 39, n)
    x = rng.poisson(1.0, n).astype(float)
    t_x = np.where(x > 0, T * rng.random(n), 0.0)
    window = {}

    def work():
        window["start"] = time.perf_counter()
        for _ in range(3):
            models.conditional_expected(BGNBD, 52.0, x, t_x, T)
        window["end"] = time.perf_counter()
    ticks = []
    thread = threading.Thread(target=work)
    thread.start()
    while thread.is_alive():
        ticks.append(time.perf_counter())
    thread.join()
    inside = [t for t in ticks if window["start"] < t < window["end"]]
    assert window["end"] - window["start"] > 0.01
    assert len(inside) > 100, "the main thread did not run during the C call"
