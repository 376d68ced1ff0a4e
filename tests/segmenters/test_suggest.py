"""Which customers to label next (margin sampling spread over segments), and the loop through the
store: suggested labels come back as teaching labels and never enter the KPI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.errors import DataError, UsageError
from seglens.segmenters import latest_labels, suggest_labels, teaching_sheet
from seglens.store import label_events, open_store, record_run, store_labels
from seglens.tracking import measure_run
from tests.segmenters.seg_helpers import make_planted

runner = CliRunner()
NAMES = np.array(["A", "B", "C"])


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("SEGLENS_PSEUDONYM_KEY", "test-key")
    monkeypatch.delenv("SEGLENS_DB", raising=False)
    monkeypatch.delenv("SEGLENS_WEBHOOK_URL", raising=False)


def _overlapping(n: int = 600, seed: int = 0) -> tuple[pl.DataFrame, np.ndarray]:
    """Two segments along ``spend`` that overlap in the middle (the model is unsure there)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    spend = rng.normal(truth * 2.0, 1.0)
    df = pl.DataFrame(
        {
            "customer_id": [f"c{i:04d}" for i in range(n)],
            "spend": spend,
            "region": rng.choice(["n", "s"], n),
        }
    )
    return df, truth


def test_margin_sampling_asks_about_the_boundary_and_skips_labelled_customers() -> None:
    df, truth = _overlapping()
    labelled = df["customer_id"][:100]
    labs = pl.DataFrame({"customer_id": labelled, "segment": NAMES[truth[:100]]})
    s = suggest_labels(df, labs, 40)
    assert s.method == "margin" and s.n_labelled == 100 and s.n_candidates == 500
    got = s.customers
    assert got.columns == ["customer_id", "predicted_segment", "margin", "rank"]
    assert got.height == 40 and got["customer_id"].n_unique() == 40
    assert not set(got["customer_id"]) & set(labelled)
    spend = dict(zip(df["customer_id"], df["spend"], strict=True))
    picked = np.array([spend[c] for c in got["customer_id"]])
    asked = set(got["customer_id"])
    others = np.array([spend[c] for c in df["customer_id"][100:] if c not in asked])
    # closer to the boundary (spend ~ 1) than the customers not asked about
    assert np.median(np.abs(picked - 1.0)) < 0.5 * np.median(np.abs(others - 1.0))
    # spread over the predicted segments, least sure first in each
    assert got["predicted_segment"].value_counts()["count"].min() >= 15
    assert got["rank"].to_list() == list(range(1, 41))
    assert s.customers["margin"].max() < 0.6


def test_round_robin_spreads_a_batch_over_three_predicted_segments() -> None:
    df, truth = make_planted(3, 200, seed=2)
    y = NAMES[truth]
    idx = np.arange(0, 600, 6)
    labs = pl.DataFrame({"customer_id": df["customer_id"].gather(idx), "segment": y[idx]})
    s = suggest_labels(df, labs, 30, shortlist=1e9)
    counts = s.customers["predicted_segment"].value_counts()["count"].to_list()
    assert sorted(counts) == [10, 10, 10]


def test_first_batch_without_a_model_is_random_and_spread_over_the_run_segments() -> None:
    df, _ = _overlapping(300)
    assigned = pl.DataFrame({"customer_id": df["customer_id"], "segment": ["x"] * 250 + ["y"] * 50})
    labs = pl.DataFrame({"customer_id": ["c0000"], "segment": ["A"]})
    s = suggest_labels(df, labs, 20, assigned=assigned)
    assert s.method == "random" and "random batch" in s.reason
    seg = dict(assigned.iter_rows())
    counts = pl.Series([seg[c] for c in s.customers["customer_id"]]).value_counts()
    assert sorted(counts["count"].to_list()) == [10, 10]
    assert s.customers["margin"].null_count() == 20
    with pytest.raises(UsageError, match="at least one"):
        suggest_labels(df, labs, 0)
    everyone = pl.DataFrame({"customer_id": df["customer_id"], "segment": ["A"] * 300})
    with pytest.raises(DataError, match="nothing to suggest"):
        suggest_labels(df, everyone, 5)


def test_teaching_sheet_looks_like_an_audit_sheet_flagged_teach() -> None:
    df, truth = _overlapping(200)
    labs = pl.DataFrame({"customer_id": df["customer_id"][:60], "segment": NAMES[truth[:60]]})
    s = suggest_labels(df, labs, 5)
    assigned = pl.DataFrame({"customer_id": df["customer_id"], "segment": ["Loyal"] * 200})
    sheet = teaching_sheet(s, assigned, 7)
    assert sheet.columns == [
        "customer_id", "assigned_segment", "run_id", "purpose", "reviewer_segment", "note",
    ]  # fmt: skip
    assert sheet["customer_id"].to_list() == s.customers["customer_id"].to_list()
    assert set(sheet["purpose"]) == {"teach"} and set(sheet["run_id"]) == {7}
    assert sheet["reviewer_segment"].null_count() == 5
    assert "predicted_segment" not in sheet.columns  # reviewers do not see the model's guess


def test_latest_labels_keeps_one_label_per_customer_in_file_order_when_undated() -> None:
    ev = pl.DataFrame({"customer_id": ["a", "b", "a"], "segment": ["x", "y", "z"]})
    assert latest_labels(ev).rows() == [("a", "z"), ("b", "y")]


def _store_with_run(db: str, df: pl.DataFrame, truth: np.ndarray) -> int:
    assigned = pl.DataFrame(
        {"customer_id": df["customer_id"], "segment": NAMES[np.where(df["spend"] > 1.0, 1, 0)]}
    )
    with open_store(db) as store:
        return record_run(
            store,
            assigned,
            segmenter="test",
            parameters={},
            as_of=date(2024, 3, 31),
            data_hash="h",
            features=df,
        )


def test_suggested_labels_come_back_as_teaching_labels_and_never_count(tmp_path: Path) -> None:
    """The loop end to end: KPI labels, a suggested sheet filled in and imported; the KPI is
    measured on exactly the KPI labels (this test fails if one teaching label is counted)."""
    df, truth = _overlapping(400, seed=4)
    db = str(tmp_path / "store.db")
    run = _store_with_run(db, df, truth)
    kpi_ids = df["customer_id"][:60]
    kpi = pl.DataFrame({"customer_id": kpi_ids, "segment": NAMES[truth[:60]]})
    with open_store(db) as store:
        store_labels(store, kpi, source="audit.csv", file_hash="a" * 64, run_id=run)
        before = measure_run(store, run)
    sheet_path = tmp_path / "teach.csv"
    res = runner.invoke(
        app, ["labels", "suggest", "25", "--db", db, "--out", str(sheet_path), "--seed", "3"]
    )
    assert res.exit_code == 0, res.output
    assert "margin: a model learnt from 60 labels" in res.output
    assert "wrote 25 of 340 unlabelled customers of run" in res.output
    sheet = pl.read_csv(sheet_path, schema_overrides={"customer_id": pl.String})
    assert sheet.height == 25 and set(sheet["purpose"]) == {"teach"}
    assert not set(sheet["customer_id"]) & set(kpi_ids)
    answer = dict(zip(df["customer_id"], NAMES[truth], strict=True))
    filled = sheet.with_columns(
        pl.Series("reviewer_segment", [answer[c] for c in sheet["customer_id"]])
    )
    filled.write_csv(sheet_path)
    res = runner.invoke(app, ["labels", "import", str(sheet_path), "--db", db])
    assert res.exit_code == 0, res.output
    assert "25 labels added" in res.output and "stored as teaching labels" in res.output
    with open_store(db) as store:
        events = label_events(store)
        after = measure_run(store, run)
    teach = events.filter(pl.col("purpose") == "teach")
    assert teach.height == 25 and set(teach["customer_id"]) == set(sheet["customer_id"])
    assert set(teach["run_id"]) == {run}
    counted = after.selection.counted
    assert not set(counted["label_id"]) & set(teach["id"]), "a teaching label was counted"
    assert not set(counted["customer_id"]) & set(teach["customer_id"])
    acc, acc_before = after.kpis[0], before.kpis[0]
    assert (acc.metric, acc.n, acc.successes) == ("accuracy", 60, acc_before.successes)
    # the next batch learns from both kinds of labels and skips every labelled customer
    again = tmp_path / "teach2.csv"
    res = runner.invoke(app, ["labels", "suggest", "10", "--db", db, "--out", str(again)])
    assert res.exit_code == 0 and "learnt from 85 labels" in res.output
    second = pl.read_csv(again, schema_overrides={"customer_id": pl.String})
    assert not set(second["customer_id"]) & (set(kpi_ids) | set(sheet["customer_id"]))


def test_import_purpose_option_and_contradictions(tmp_path: Path) -> None:
    df, truth = _overlapping(100, seed=5)
    db = str(tmp_path / "store.db")
    run = _store_with_run(db, df, truth)
    plain = tmp_path / "plain.csv"
    pl.DataFrame({"customer_id": ["c0001", "c0002"], "segment": ["A", "B"]}).write_csv(plain)
    res = runner.invoke(app, ["labels", "import", str(plain), "--db", db, "--purpose", "teach"])
    assert res.exit_code == 0 and "stored as teaching labels" in res.output
    sheet = tmp_path / "sheet.csv"
    pl.DataFrame(
        {
            "customer_id": ["c0003"],
            "assigned_segment": ["A"],
            "run_id": [run],
            "purpose": ["teach"],
            "reviewer_segment": ["B"],
        }
    ).write_csv(sheet)
    res = runner.invoke(app, ["labels", "import", str(sheet), "--db", db, "--purpose", "kpi"])
    assert res.exit_code == 2 and "the file says purpose 'teach'" in res.output
    mixed = tmp_path / "mixed.csv"
    pl.DataFrame(
        {"customer_id": ["c0004", "c0005"], "segment": ["A", "B"], "purpose": ["kpi", "teach"]}
    ).write_csv(mixed)
    res = runner.invoke(app, ["labels", "import", str(mixed), "--db", db])
    assert res.exit_code == 2 and "name 2 purposes" in res.output
    res = runner.invoke(app, ["labels", "import", str(plain), "--db", db, "--purpose", "maybe"])
    assert res.exit_code == 2 and "unknown label purpose" in res.output
    with open_store(db) as store:
        events = label_events(store)
        m = measure_run(store, run)
    assert events.height == 2 and set(events["purpose"]) == {"teach"}
    assert m.selection.counts == {"fresh": 0, "carried": 0, "expired": 0}


def test_suggest_refuses_a_run_without_features(tmp_path: Path) -> None:
    db = str(tmp_path / "store.db")
    with open_store(db) as store:
        record_run(
            store,
            pl.DataFrame({"customer_id": ["1", "2"], "segment": ["A", "B"]}),
            segmenter="test",
            parameters={},
            as_of=date(2024, 3, 31),
            data_hash="h",
        )
    res = runner.invoke(app, ["labels", "suggest", "5", "--db", db])
    assert res.exit_code == 2 and "stored no customer features" in res.output
    res = runner.invoke(app, ["labels", "suggest", "5", "--db", db, "--run", "99"])
    assert res.exit_code == 2 and "no such segmentation run" in res.output
