"""The store's read functions for the web app and the report: known values on a small store."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from seglens.store import (
    Store,
    add_label,
    customer_record,
    latest_run,
    list_imports,
    open_store,
    previous_run,
    record_import,
    record_run,
    run_features,
    run_info,
    run_segment_names,
    safe_url,
)


def _two_runs(store: Store) -> tuple[int, int]:
    """Run ``late`` (2024-06-30) is recorded before run ``early`` (2024-03-31)."""
    late = record_run(
        store,
        pl.DataFrame(
            {
                "customer_id": ["1", "2", "3"],
                "segment": ["Loyal", "At risk", "Loyal"],
                "revenue": [10.0, 2.5, None],
            }
        ),
        segmenter="RFMSegmenter",
        parameters={"bins": 5},
        as_of=date(2024, 6, 30),
        data_hash="h-late",
        features=pl.DataFrame(
            {"customer_id": ["3", "1", "2"], "recency": [5, 1, 90], "spend": [1.5, 10.0, 2.5]}
        ),
    )
    early = record_run(
        store,
        pl.DataFrame({"customer_id": ["1", "4"], "segment": ["New", "New"]}),
        segmenter="KMeansSegmenter",
        parameters={},
        as_of=date(2024, 3, 31),
        data_hash="h-early",
        features=pl.DataFrame({"customer_id": ["1", "4"], "recency": [30, 7]}),
    )
    return early, late


def test_runs_by_as_of_date_not_by_recording_order(db_url: str) -> None:
    with open_store(db_url) as store:
        assert latest_run(store) is None
        early, late = _two_runs(store)
        latest = latest_run(store)
        info = run_info(store, late)
        before = previous_run(store, late)
        assert previous_run(store, early) is None
        assert run_info(store, 9999) is None and previous_run(store, 9999) is None
    assert latest is not None and latest.id == late
    assert info is not None
    assert (info.segmenter, info.parameters, info.as_of, info.n_customers, info.data_hash) == (
        "RFMSegmenter",
        {"bins": 5},
        datetime(2024, 6, 30),
        3,
        "h-late",
    )
    assert info.seglens_version and isinstance(info.created_at, datetime)
    assert before is not None and (before.id, before.as_of) == (early, datetime(2024, 3, 31))


def test_segment_names_and_features_of_a_run(db_url: str) -> None:
    with open_store(db_url) as store:
        early, late = _two_runs(store)
        names = (run_segment_names(store, late), run_segment_names(store, early))
        feats = run_features(store, late)
        bare = record_run(
            store,
            pl.DataFrame({"customer_id": ["9"], "segment": ["X"]}),
            segmenter="X",
            parameters={},
            as_of=date(2024, 9, 30),
            data_hash="h",
        )
        none = run_features(store, bare)
        assert run_segment_names(store, 9999) == []
    assert names == (["At risk", "Loyal"], ["New"])
    want = pl.DataFrame(
        {"customer_id": ["1", "2", "3"], "recency": [1, 90, 5], "spend": [10.0, 2.5, 1.5]}
    )
    assert_frame_equal(feats, want)
    assert none.columns == ["customer_id"] and none.height == 0
    assert none.schema["customer_id"] == pl.String


def test_customer_record_gathers_runs_features_and_labels(db_url: str) -> None:
    with open_store(db_url) as store:
        early, late = _two_runs(store)
        add_label(store, "1", "At risk", labeled_by="ana", note="moved", run_id=early)
        add_label(store, "1", "Loyal", labeled_by="ben")
        one = customer_record(store, "1")
        only_early = customer_record(store, "4")
        assert customer_record(store, "nobody") is None
        add_label(store, "ghost", "Loyal")  # labelled, but in no run
        ghost = customer_record(store, "ghost")
    assert one is not None
    want = pl.DataFrame(
        {
            "run_id": [early, late],
            "as_of": [datetime(2024, 3, 31), datetime(2024, 6, 30)],
            "segment": ["New", "Loyal"],
            "revenue": [None, 10.0],
        },
        schema={
            "run_id": pl.Int64,
            "as_of": pl.Datetime("us"),
            "segment": pl.String,
            "revenue": pl.Float64,
        },
    )
    assert_frame_equal(one.segments, want)
    assert (one.features, one.features_run) == ({"recency": 1, "spend": 10.0}, late)
    labels = one.labels.select("segment", "labeled_by", "note", "run_id", "judged_segment")
    assert labels.rows() == [
        ("At risk", "ana", "moved", early, "New"),
        ("Loyal", "ben", None, late, "Loyal"),
    ]
    assert only_early is not None
    assert (only_early.features, only_early.features_run) == ({"recency": 7}, early)
    assert only_early.labels.is_empty()
    assert ghost is not None and ghost.segments.is_empty() and ghost.features_run is None
    assert ghost.labels["segment"].to_list() == ["Loyal"]


def test_list_imports_oldest_first_and_by_kind(db_url: str) -> None:
    with open_store(db_url) as store:
        assert list_imports(store).is_empty()
        for kind, src, h in (("transactions", "a.csv", "a"), ("labels", "b.csv", "b")):
            record_import(
                store,
                kind=kind,
                source=src,
                file_hash=h * 64,
                rows_read=10,
                rows_loaded=9,
                report={},
                actor="ana",
            )
        every = list_imports(store)
        labels = list_imports(store, "labels")
    assert every.select("kind", "source", "rows_read", "rows_loaded", "created_by").rows() == [
        ("transactions", "a.csv", 10, 9, "ana"),
        ("labels", "b.csv", 10, 9, "ana"),
    ]
    assert every["file_hash"].to_list() == ["a" * 64, "b" * 64]
    assert every["id"].is_sorted() and every.schema["created_at"] == pl.Datetime("us")
    assert labels["source"].to_list() == ["b.csv"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://ana:s3cret@db:5432/seglens",
            "postgresql+psycopg://ana:***@db:5432/seglens",
        ),
        ("postgresql+psycopg://ana@db/seglens", "postgresql+psycopg://ana@db/seglens"),
        ("sqlite:////data/seglens.db", "sqlite:////data/seglens.db"),
        ("/data/seglens.db", "/data/seglens.db"),
    ],
)
def test_safe_url_masks_only_the_password(url: str, shown: str) -> None:
    assert safe_url(url) == shown
