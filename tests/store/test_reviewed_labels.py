"""Reviewed labels (what the web app writes): bound to the run shown, all or none, idempotent."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from seglens.errors import UsageError
from seglens.store import (
    IdempotencyConflictError,
    LabelBatch,
    ReviewedLabel,
    Store,
    add_reviewed_labels,
    add_user,
    label_history,
    list_audit,
    open_store,
    record_run,
    table_counts,
)


def _runs(store: Store) -> tuple[int, int]:
    """An older run (customers 1-2, segments New/Lost) and the latest (1-3, Loyal/At risk)."""
    old = record_run(
        store,
        pl.DataFrame({"customer_id": ["1", "2"], "segment": ["New", "Lost"]}),
        segmenter="X",
        parameters={},
        as_of=date(2024, 3, 31),
        data_hash="a",
    )
    new = record_run(
        store,
        pl.DataFrame({"customer_id": ["1", "2", "3"], "segment": ["Loyal", "At risk", "Loyal"]}),
        segmenter="X",
        parameters={},
        as_of=date(2024, 6, 30),
        data_hash="b",
    )
    return old, new


def test_labels_are_bound_to_the_run_and_segment_shown(db_url: str) -> None:
    with open_store(db_url) as store:
        old, new = _runs(store)
        done = add_reviewed_labels(
            store,
            [
                ReviewedLabel("1", "At risk", "moved away"),  # latest run, its segment
                ReviewedLabel("2", "New", run_id=old, judged_segment="Lost"),
                ReviewedLabel("3", "New", run_id=old),  # the old run did not segment "3"
            ],
            labeled_by="ana",
            source="web",
        )
        stored = label_history(store).select(
            "customer_id", "segment", "note", "labeled_by", "source", "run_id", "judged_segment"
        )
        ids = label_history(store)["id"].to_list()
        audit = list_audit(store).filter(action="label.add")
    assert not done.replayed
    assert [
        (r["customer_id"], r["segment"], r["note"], r["run_id"], r["judged_segment"])
        for r in done.labels
    ] == [
        ("1", "At risk", "moved away", new, "Loyal"),
        ("2", "New", None, old, "Lost"),
        ("3", "New", None, old, None),
    ]
    assert {(r["labeled_by"], r["source"]) for r in done.labels} == {("ana", "web")}
    assert all(r["labeled_at"].endswith("+00:00") for r in done.labels)
    assert stored.rows() == [
        ("1", "At risk", "moved away", "ana", "web", new, "Loyal"),
        ("2", "New", None, "ana", "web", old, "Lost"),
        ("3", "New", None, "ana", "web", old, None),
    ]
    assert [r["id"] for r in done.labels] == ids
    assert audit.height == 3 and set(audit["actor"]) == {"ana"}
    assert None not in audit["subject"].to_list() and "1" not in audit["subject"].to_list()


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (ReviewedLabel("1", "Gold"), "unknown segment"),
        (ReviewedLabel("1", "Loyal", run_id=1_000), "no segmentation run 1000"),
        (ReviewedLabel("9", "Loyal"), "in no segmentation run"),
        (ReviewedLabel("1", "New"), "unknown segment"),  # the old run's segment, not the latest's
        (
            ReviewedLabel("1", "Loyal", judged_segment="At risk"),
            "run 2 put 'Loyal' on customer '1'",
        ),
        (
            ReviewedLabel("3", "New", run_id=1, judged_segment="Lost"),
            "run 1 does not segment customer '3', not 'Lost'",
        ),
    ],
)
def test_a_batch_with_one_bad_item_stores_nothing(
    db_url: str, item: ReviewedLabel, message: str
) -> None:
    with open_store(db_url) as store:
        old, _ = _runs(store)
        assert old == 1
        good = ReviewedLabel("2", "Loyal")
        with pytest.raises(UsageError, match=message):
            add_reviewed_labels(store, [good, item], labeled_by="ana", source="api")
        counts = table_counts(store)
    assert counts["labels"] == 0


def test_no_run_or_no_items_is_refused(db_url: str) -> None:
    with open_store(db_url) as store:
        with pytest.raises(UsageError, match="no segmentation run yet"):
            add_reviewed_labels(store, [ReviewedLabel("1", "A")], labeled_by="a", source="web")
        _runs(store)
        with pytest.raises(UsageError, match="no labels"):
            add_reviewed_labels(store, [], labeled_by="a", source="web")
        with pytest.raises(UsageError, match="pass user_id"):
            add_reviewed_labels(
                store,
                [ReviewedLabel("1", "Loyal")],
                labeled_by="a",
                source="web",
                idempotency_key="k",
            )


def test_an_idempotency_key_replays_the_first_answer(db_url: str) -> None:
    with open_store(db_url) as store:
        old, _ = _runs(store)
        ana = add_user(store, "ana", "h", role="reviewer")
        bo = add_user(store, "bo", "h", role="reviewer")
        items = [ReviewedLabel("1", "Loyal"), ReviewedLabel("2", "New", run_id=old)]

        def send(user: int, batch: list[ReviewedLabel], key: str = "k1") -> LabelBatch:
            return add_reviewed_labels(
                store, batch, labeled_by="x", source="api", user_id=user, idempotency_key=key
            )

        first = send(ana, items)
        again = send(ana, items)
        with pytest.raises(IdempotencyConflictError, match="different request"):
            send(ana, items[:1])
        with pytest.raises(IdempotencyConflictError):
            send(ana, [ReviewedLabel("2", "New")])  # same content bound to another run
        other_user = send(bo, items)  # keys are per user
        counts = table_counts(store)
    assert (first.replayed, again.replayed, other_user.replayed) == (False, True, False)
    assert again.labels == first.labels
    assert [(r["customer_id"], r["run_id"]) for r in first.labels] == [("1", 2), ("2", old)]
    assert counts["labels"] == 4 and counts["idempotency_keys"] == 2
