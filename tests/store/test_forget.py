"""`forget` removes a customer everywhere; on SQLite not a byte of their id is left on disk."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from seglens.cli import app
from seglens.store import (
    add_label,
    current_labels,
    forget_customer,
    list_audit,
    open_store,
    pseudonym,
    record_run,
    run_assignments,
    store_labels,
    table_counts,
)

GONE = "CUST-ZX81-forget-me"
KEPT = "CUST-KEEP-0001"


def _populate(db_url: str) -> None:
    people = [GONE, KEPT, *[f"other-{i}" for i in range(300)]]
    assignments = pl.DataFrame(
        {"customer_id": people, "segment": ["Loyal"] * len(people), "revenue": [10.0] * len(people)}
    )
    features = pl.DataFrame({"customer_id": people, "n_orders": list(range(len(people)))})
    with open_store(db_url) as store:
        record_run(
            store,
            assignments,
            segmenter="rfm",
            parameters={},
            as_of=datetime(2011, 6, 30),
            data_hash="h",
            features=features,
        )
        labels = pl.DataFrame({"customer_id": [GONE, KEPT], "segment": ["Loyal", "Loyal"]})
        store_labels(
            store,
            labels,
            source="fb.csv",
            file_hash="f" * 64,
            report={"offending_values": [GONE, "x"], "first": GONE},
        )
        for i in range(5):
            add_label(store, GONE, "At risk", labeled_by="ana", note=f"call {i}")
            add_label(store, KEPT, "Loyal", labeled_by="ana")


def _disk_bytes(db: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


def test_forget_leaves_no_bytes_of_the_id_in_sqlite_files(tmp_path: Path) -> None:
    db = tmp_path / "forget.db"
    _populate(str(db))
    assert GONE.encode() in _disk_bytes(db)  # the search does find it before
    with open_store(str(db)) as store:
        res = forget_customer(store, GONE)
    disk = _disk_bytes(db)
    assert GONE.encode() not in disk
    assert KEPT.encode() in disk  # only that customer went
    assert res.removed == {"labels": 6, "assignments": 1, "customer_features": 1}
    assert res.reports_scrubbed == 1
    assert res.checkpointed


def test_forget_removes_rows_everywhere_and_audits_by_pseudonym(db_url: str) -> None:
    _populate(db_url)
    with open_store(db_url) as store:
        before = table_counts(store)
        forget_customer(store, GONE)
        after = table_counts(store)
        current = current_labels(store)
        assigned = run_assignments(store, 1)
        audit = list_audit(store)
    assert before["labels"] - after["labels"] == 6
    assert before["assignments"] - after["assignments"] == 1
    assert GONE not in current["customer_id"].to_list()
    assert GONE not in assigned["customer_id"].to_list()
    assert KEPT in current["customer_id"].to_list()
    entry = audit.filter(audit["action"] == "customer.forget")
    assert entry["subject"].to_list() == [pseudonym(GONE, b"test-key")]


def test_cli_forget(db_url: str) -> None:
    _populate(db_url)
    out = CliRunner().invoke(app, ["forget", GONE, "--db", db_url, "--yes"])
    assert out.exit_code == 0, out.output
    assert "6 labels" in out.output
    with open_store(db_url) as store:
        assert GONE not in current_labels(store)["customer_id"].to_list()
