"""The dashboard's "What more labels buy" panel and ``GET /api/learning`` (issue 18 item 2).

The seeded store's latest run has 24 counted labels: too few for a curve. Labelling 76 more of
its customers (100 in all) makes one; the panel and the API must then show what
``learning_curve`` gives for the same inputs and sizes, and a second view must not refit.
"""

from __future__ import annotations

import html
import re
from typing import Any

import polars as pl
import pytest

from seglens.segmenters import SupervisedSegmenter, learning_curve
from seglens.settings import Settings
from seglens.store import add_label, run_assignments, run_features
from seglens.tracking import run_labels
from seglens.web import learning as web_learning
from tests.web.conftest import Client, Seeded

NOT_KPI = "The model's out-of-fold agreement with the labels — not the KPI"


def _label_more(seeded: Seeded, upto: int = 100) -> None:
    """Label the latest run's first ``upto`` customers (the 24 seeded ones stay as they are)."""
    latest = run_assignments(seeded.store, seeded.runs[1]).sort("customer_id")
    for cid, seg in latest.select("customer_id", "segment").head(upto).iter_rows():
        if cid not in seeded.labelled:
            add_label(seeded.store, cid, seg, labeled_by="sales", source="crm-sheet")


def _direct(seeded: Seeded) -> Any:
    """``learning_curve`` called directly on the run's stored features and counted labels."""
    run_id = seeded.runs[1]
    counted = run_labels(seeded.store, run_id).counted.select(
        "customer_id", pl.col("segment").alias("label")
    )
    known = run_features(seeded.store, run_id).join(counted, on="customer_id").sort("customer_id")
    n = known.height
    assert n == 100
    sizes = [25, 50, 75]
    assert web_learning.curve_sizes(n) == sizes
    return learning_curve(
        SupervisedSegmenter(random_state=run_id),
        known.drop("label"),
        known["label"].to_list(),
        sizes=sizes,
        n_draws=web_learning.N_DRAWS,
        n_splits=web_learning.N_SPLITS,
        random_state=run_id,
        confidence=Settings().confidence,
    )


def test_panel_and_api_show_the_curve_learning_curve_gives(
    seeded: Seeded, clients: dict[str, Client]
) -> None:
    _label_more(seeded)
    want = _direct(seeded)
    viewer = clients["viewer"]
    page = viewer.get("/").text
    api = viewer.get("/api/learning")
    assert api.status_code == 200
    got = api.json()
    assert got["ready"] is True and got["run_id"] == seeded.runs[1] and got["n_labels"] == 100
    assert "not the KPI" in got["what"]
    assert [(p["n_labels"], p["n_train"], p["method"], p["draws"]) for p in got["points"]] == [
        (p.n_labels, p.n_train, p.method, len(p.draws_pct)) for p in want.points
    ]
    for mine, theirs in zip(got["points"], want.points, strict=True):
        a = mine["agreement"]
        assert a["value_pct"] == pytest.approx(theirs.accuracy.value_pct)
        assert a["ci_low_pct"] == pytest.approx(theirs.accuracy.ci_low_pct)
        assert a["ci_high_pct"] == pytest.approx(theirs.accuracy.ci_high_pct)
    assert got["projection"] == want.projection.message
    assert got["projection_status"] == want.projection.status

    assert "What more labels buy" in page and NOT_KPI in page
    table = page.split('data-testid="learning-table"')[1].split("</table>")[0]
    rows = re.findall(
        r"<tr><td>(\d+)</td><td>(\d+)</td><td>([\d.]+)</td>\s*<td>([\d.]+)–([\d.]+)</td>", table
    )
    assert rows == [
        (
            str(p.n_labels),
            str(p.n_train),
            f"{p.accuracy.value_pct:.1f}",
            f"{p.accuracy.ci_low_pct:.1f}",
            f"{p.accuracy.ci_high_pct:.1f}",
        )
        for p in want.points
    ]
    proj = page.split('data-testid="learning-projection"')[1].split("</p>")[0]
    assert html.escape(want.projection.message) in proj


def test_too_few_labels_the_panel_says_how_many_it_needs(
    seeded: Seeded, clients: dict[str, Client]
) -> None:
    page = clients["viewer"].get("/").text
    reason = page.split('data-testid="learning-reason"')[1].split("</p>")[0]
    assert f"at least {web_learning.MIN_LABELS} labels" in reason and "there are 24" in reason
    assert 'data-testid="learning-table"' not in page
    got = clients["viewer"].get("/api/learning").json()
    assert got["ready"] is False and got["points"] == [] and got["n_labels"] == 24
    assert got["min_labels"] == web_learning.MIN_LABELS and "24" in got["reason"]


def test_a_second_view_does_not_refit_until_a_label_arrives(
    seeded: Seeded, clients: dict[str, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    _label_more(seeded, upto=60)
    calls = []

    def counting(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        return learning_curve(*args, **kw)

    monkeypatch.setattr(web_learning, "learning_curve", counting)
    viewer = clients["viewer"]
    first = viewer.get("/api/learning").json()
    assert viewer.get("/").status_code == 200
    assert viewer.get("/api/learning").json() == first
    assert len(calls) == 1
    latest = run_assignments(seeded.store, seeded.runs[1]).sort("customer_id")
    cid, seg = latest.select("customer_id", "segment").row(70)
    add_label(seeded.store, cid, seg, labeled_by="sales", source="crm-sheet")
    assert viewer.get("/api/learning").json()["n_labels"] == first["n_labels"] + 1
    assert len(calls) == 2


def test_the_api_needs_a_viewer(clients: dict[str, Client]) -> None:
    assert clients["anonymous"].get("/api/learning").status_code == 401
    assert "/api/learning" in clients["viewer"].get("/openapi.json").json()["paths"]
