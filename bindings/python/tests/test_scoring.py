"""Scoring everything: score_all, snapshots, changes."""

import math

import pytest

import custscore
from custscore import scoring
from conftest import requires

pytestmark = requires("custscore_score_all", "custscore_snapshots", "custscore_changes")


def test_quadrant_names():
    assert scoring.value_quadrant_name(1) == "value"
    assert scoring.value_quadrant_name(0) == "unclassified"
    assert scoring.loyalty_quadrant_name(1) == "apostle"
    assert scoring.loyalty_quadrant_name(4) == "defector"


def test_score_without_models_then_with(cdnow_copy):
    with custscore.open(cdnow_copy) as store:
        bare = store.score_all("1997-09-30", save=False)
        assert isinstance(bare.info, scoring.ScoreInfo) and not bare.info.has_clv
        assert math.isnan(bare[0].clv) and bare[0].clv_note
        assert bare[0].value_quadrant == "unclassified"
        store.fit("1997-09-30", zero_revenue="purchase")
        store.fit("1997-09-30", model="gg", zero_revenue="purchase")
        rows = store.score_all("1997-09-30")
        assert rows.info.has_clv and rows.info.saved and rows.info.customers == len(rows)
        first = rows[0]
        assert isinstance(first, scoring.Score) and first.customer == "0001"
        assert first.clv > 0 and 0 <= first.p_alive <= 1 and first.clv_note == ""
        assert first.rfm_score == first.r * 100 + first.f * 10 + first.m
        assert sum(rows.info.value_quadrant_count.values()) == len(rows)
        clv = store.clv("1997-09-30")
        assert first.clv == clv[0].clv  # same bits as the CLV function
        assert store.snapshots()[0] == custscore.from_time(custscore.to_time("1997-09-30"))
        snap = store.snapshot("0001")
        assert isinstance(snap, scoring.SnapshotRow) and snap.clv == first.clv
        assert snap.data.get("customer") == "0001"
        store.score_all("1998-06-30", rows=False)
        assert len(store.snapshots()) == 2
        changes = store.changes("1997-09-30")
        assert changes and isinstance(changes[0], scoring.Change)
        stakes = [c.value_at_stake for c in changes]
        assert stakes == sorted(stakes, reverse=True)
        assert any(c.tier_changed or c.segment_changed or c.band_changed for c in changes)
        with pytest.raises(custscore.NotFound):
            store.snapshot("nobody")
        with pytest.raises(custscore.NotFound):
            store.changes("1990-01-01", "1990-02-01")


def test_score_read_only_needs_no_store(cdnow_store):
    with custscore.open(cdnow_store, readonly=True) as store:
        with pytest.raises(custscore.ReadOnly):
            store.score_all("1997-09-30", rows=False)
        rows = store.score_all("1997-09-30", save=False, band_high=0.8, bins=3,
                               horizon=6)
        assert not rows.info.saved and len(rows) == 2357


@pytest.mark.skipif(not custscore.available("custscore_score_all"), reason="no score_all")
def test_score_to_pandas(cdnow_store):
    pd = pytest.importorskip("pandas")
    with custscore.open(cdnow_store, readonly=True) as store:
        frame = store.score_all("1997-09-30", save=False).to_pandas(index="customer")
    assert frame.shape[0] == 2357
    assert {"clv", "churn_probability", "band", "reason1", "value_quadrant"} <= set(frame)
    assert isinstance(frame.index, pd.Index)


@requires("custscore_report_html")
def test_report_html(cdnow_store, tmp_path):
    out = tmp_path / "report.html"
    with custscore.open(cdnow_store, readonly=True) as store:
        store.report_html(out, "1997-09-30", title="CDNOW <test>", top=5, csi_bootstrap=0,
                          max_points=200, bins=3)
    html = out.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "CDNOW &lt;test&gt;" in html and 'data-chart="whale"' in html
    assert "<script" not in html.lower()
    with custscore.open(cdnow_store, readonly=True) as store:
        with pytest.raises(custscore.InvalidInput):
            store.report_html(out, "1997-09-30", top=-1)
        with pytest.raises(custscore.IOFailure):
            store.report_html(tmp_path / "no" / "dir" / "r.html", "1997-09-30")
