"""50 concurrent writers x 20 label corrections: nothing lost, nothing fails, on both engines."""

from __future__ import annotations

import threading

import polars as pl

from seglens.store import (
    LabelImportResult,
    add_label,
    label_history,
    list_audit,
    open_store,
    store_labels,
    table_counts,
)

WRITERS = 50
CORRECTIONS = 20


def test_concurrent_label_corrections_are_all_kept(db_url: str) -> None:
    open_store(db_url).close()  # schema created once, as on first use
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(w: int) -> None:
        try:
            with open_store(db_url) as store:  # own engine and connection, like a process
                start.wait()
                for i in range(CORRECTIONS):
                    add_label(
                        store,
                        f"cust-{(w * 7 + i) % 40}",
                        f"segment-{i % 5}",
                        labeled_by=f"writer-{w}",
                        note=f"correction {w}/{i}",
                    )
        except BaseException as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open_store(db_url) as store:
        labels = label_history(store)
        audit = list_audit(store)
    assert errors == []
    assert labels.height == WRITERS * CORRECTIONS
    assert audit.filter(audit["action"] == "label.add").height == WRITERS * CORRECTIONS
    notes = set(labels["note"].to_list())
    assert notes == {f"correction {w}/{i}" for w in range(WRITERS) for i in range(CORRECTIONS)}


def test_the_same_file_imported_concurrently_is_stored_once(db_url: str) -> None:
    open_store(db_url).close()
    table = pl.DataFrame(
        {"customer_id": [f"c{i}" for i in range(300)], "segment": ["A", "B", "C"] * 100}
    )
    results: list[LabelImportResult] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def importer() -> None:
        try:
            with open_store(db_url) as store:
                start.wait()
                results.append(store_labels(store, table, source="f.csv", file_hash="9" * 64))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=importer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open_store(db_url) as store:
        counts = table_counts(store)
    assert errors == []
    assert sorted(r.added for r in results) == [0] * 7 + [300]
    assert (counts["labels"], counts["imports"]) == (300, 1)
