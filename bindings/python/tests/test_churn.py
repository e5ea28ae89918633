"""Churn building blocks: logistic regression and classifier metrics."""

import math
import random

import pytest

import custscore
from custscore import models
from conftest import needs_numpy, needs_pandas


def logit(p):
    return math.log(p / (1 - p))


def test_logistic_fit_closed_form():
    # One binary feature, no penalty: the MLE is the two groups' log odds.
    x = [[0]] * 10 + [[1]] * 10
    y = [1] * 3 + [0] * 7 + [1] * 6 + [0] * 4
    fit = models.logistic_fit(x, y, l2=0)
    assert isinstance(fit, custscore.LogisticFit) and fit.converged
    assert math.isclose(fit.coef[0], logit(0.3), rel_tol=1e-8)
    assert math.isclose(fit.coef[1], logit(0.6) - logit(0.3), rel_tol=1e-8)
    assert fit.n == 20 and math.isclose(fit.base_rate, 0.45)
    assert len(fit.std_error) == 2 and fit.std_error[1] > 0
    assert fit.penalty == 0 and fit.n_constant == 0
    prob = fit.predict([[0], [1]])
    assert math.isclose(prob[0], 0.3, rel_tol=1e-8) and math.isclose(prob[1], 0.6, rel_tol=1e-8)
    assert list(models.logistic_predict([[0], [1]], fit.coef)) == list(prob)


def test_logistic_weights_penalty_constant_feature():
    rng = random.Random(7)
    x = [[rng.gauss(0, 1), 1.0] for _ in range(200)]
    y = [1 if rng.random() < 1 / (1 + math.exp(-2 * row[0])) else 0 for row in x]
    fit = models.logistic_fit(x, y)
    assert fit.n_constant == 1 and fit.coef[2] == 0
    assert fit.coef[1] > 0.5 and fit.penalty > 0
    w = [0.0] * 100 + [1.0] * 100
    half = models.logistic_fit(x, y, weight=w)
    assert half.n == 100
    with pytest.raises(custscore.InvalidInput) as info:
        models.logistic_fit([[1], [2]], [0, 0])
    assert "churned" in str(info.value)
    with pytest.raises(custscore.InvalidInput):
        models.logistic_fit([[1], [2]], [0, 2])
    with pytest.raises(custscore.InvalidInput):
        models.logistic_fit([[1], [2]], [0, 1, 1])
    with pytest.raises(custscore.InvalidInput):
        models.logistic_predict([[1, 2]], [0.1, 0.2])


def test_metrics():
    score = [0.9, 0.8, 0.7, 0.3, 0.2, 0.1]
    label = [1, 1, 0, 1, 0, 0]
    assert math.isclose(models.auc(score, label), 8 / 9)
    assert models.auc([0.5, 0.5], [0, 1]) == 0.5
    brier = models.brier(score, label)
    assert math.isclose(brier, sum((s - l) ** 2 for s, l in zip(score, label)) / 6)
    assert math.isclose(models.lift(score, label, 1 / 3), 2.0)
    bins = models.calibration(score, label, bins=3)
    assert len(bins) == 3 and isinstance(bins[0], custscore.CalibrationBin)
    assert [b.n for b in bins] == [2, 2, 2]
    assert math.isclose(bins[2].observed_rate, 1.0) and bins[0].p_min == 0.1
    with pytest.raises(custscore.InvalidInput):
        models.auc([0.1, 0.2], [1, 1])
    with pytest.raises(custscore.InvalidInput):
        models.brier([1.5], [1])
    with pytest.raises(custscore.InvalidInput):
        models.lift(score, label, 0)
    with pytest.raises(custscore.InvalidInput):
        models.calibration(score, label, bins=7)


@needs_numpy
def test_numpy_matrix_and_views():
    import numpy as np
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 3))
    y = (x @ np.array([1.0, -0.5, 0.0]) + rng.logistic(size=500) > 0).astype(float)
    fit = models.logistic_fit(x, y)
    assert isinstance(fit.coef, np.ndarray) and fit.coef.shape == (4,)
    p = fit.predict(x)
    manual = 1 / (1 + np.exp(-(fit.coef[0] + x @ fit.coef[1:])))
    assert np.allclose(p, manual, rtol=1e-12, atol=0)
    assert models.auc(p, y) > 0.7
    # Fortran-ordered input is converted to row-major
    assert np.array_equal(models.logistic_predict(np.asfortranarray(x), fit.coef), p)


@needs_pandas
def test_dataframe_features():
    import pandas as pd
    frame = pd.DataFrame({"tenure": [1, 5, 10, 20, 2, 30, 3, 40],
                          "charges": [70, 60, 50, 40, 80, 30, 75, 20]})
    y = pd.Series([1, 1, 0, 0, 1, 0, 0, 0])
    fit = models.logistic_fit(frame, y)
    assert len(fit.coef) == 3


# ---------------------------------------------------------------------------
# Churn on the store

from conftest import requires  # noqa: E402

store_churn = requires("custscore_churn_train", "custscore_churn_score_each")


def test_churn_band():
    from custscore import churn
    assert churn.churn_band(0.1) == "low"
    assert churn.churn_band(0.5) == "medium"
    assert churn.churn_band(0.9) == "high"
    assert churn.churn_band(0.5, 0.2, 0.45) == "high"


@store_churn
def test_window_model_card_and_scores(cdnow_copy):
    from custscore import churn
    with custscore.open(cdnow_copy) as store:
        with pytest.raises(custscore.NoModel):
            store.churn("1998-03-31")
        card = store.churn_train("1998-03-31", window_days=90, seed=3)
        assert isinstance(card, churn.ChurnCard)
        assert card.method == "window" and card.model_name == "churn"
        assert card.window_days == 90 and card.n_train > 1000 and card.n_holdout > 0
        assert 0.5 < card.auc <= 1 and card.coefs and card.calibration
        assert "(intercept)" in card.coefficients()
        assert isinstance(card.params, dict)
        again = store.churn_card()
        assert again.coefs == card.coefs and again.auc == card.auc
        rows = store.churn("1998-03-31")
        assert rows and isinstance(rows[0], churn.ChurnScore)
        first = rows[0]
        assert 0 <= first.probability <= 1 and first.band in ("low", "medium", "high")
        assert first.band == churn.churn_band(first.probability, card.band_medium,
                                              card.band_high)
        assert math.isclose(first.logit, first.logit_at_mean + sum(first.contributions.values()),
                            abs_tol=1e-9)
        assert len(first.reasons) <= 3
        plain = store.churn("1998-03-31", clv=False)
        assert [r.probability for r in plain] == [r.probability for r in rows]
        assert not any(r.has_clv for r in plain)
        trial = store.churn_train("1998-03-31", window_days=60, save=False,
                                  model_name="trial")
        assert trial.window_days == 60
        with pytest.raises(custscore.NoModel):
            store.churn_card("trial")
        with pytest.raises(custscore.InvalidInput):
            store.churn_train("1997-02-01", window_days=90)  # no history to learn from


@store_churn
def test_label_and_btyd_methods(cdnow_copy):
    with custscore.open(cdnow_copy) as store:
        keys = [s.customer for s in store.summary("1997-09-30")]
        with store.batch():
            for k, key in enumerate(keys):
                store.set_attribute(key, "Churn", "Yes" if k % 3 == 0 else "No")
                store.set_attribute(key, "Plan", ["basic", "plus", "pro"][k % 3])
        card = store.churn_train("1997-09-30", label="Churn", features=["Plan"],
                                 model_name="label")
        assert card.method == "label" and card.label == "Churn"
        scored = store.churn("1997-09-30", model_name="label")
        assert len(scored) == len(keys)
        with pytest.raises(custscore.NoModel):
            store.churn("1997-09-30", method="btyd")
        store.fit("1997-09-30", zero_revenue="purchase")
        btyd = store.churn("1997-09-30", method="btyd", window_days=90)
        assert all(0 <= r.probability <= 1 for r in btyd)
        assert btyd[0].contributions == {}
