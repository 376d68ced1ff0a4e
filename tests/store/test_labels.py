"""Labels: append-only history, idempotent imports, unknown names reported, conflict policies."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from seglens.cli import app
from seglens.store import (
    add_label,
    current_labels,
    label_history,
    list_audit,
    open_store,
    record_run,
    store_labels,
    table_counts,
)

runner = CliRunner()


def _labels(rows: list[tuple[str, str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "segment": [r[1] for r in rows],
            "labeled_at": [datetime.fromisoformat(r[2]) if r[2] else None for r in rows],
        },
        schema={"customer_id": pl.String, "segment": pl.String, "labeled_at": pl.Datetime("us")},
    )


def test_same_file_twice_adds_nothing_and_overlapping_rows_are_skipped(db_url: str) -> None:
    first = _labels([("1", "A", "2011-01-01"), ("2", "B", "2011-01-02")])
    bigger = _labels([("1", "A", "2011-01-01"), ("2", "B", "2011-01-02"), ("3", "A", None)])
    with open_store(db_url) as store:
        r1 = store_labels(store, first, source="a.csv", file_hash="1" * 64)
        r2 = store_labels(store, first, source="a.csv", file_hash="1" * 64)
        r3 = store_labels(store, bigger, source="b.csv", file_hash="2" * 64)
        counts = table_counts(store)
    assert (r1.added, r2.added, r2.duplicate_file, r3.added, r3.already_present) == (
        2,
        0,
        True,
        1,
        2,
    )
    assert counts["labels"] == 3
    assert counts["imports"] == 2


def test_unknown_segments_are_skipped_and_unknown_customers_reported(db_url: str) -> None:
    run = pl.DataFrame({"customer_id": ["1", "2"], "segment": ["Loyal", "At risk"]})
    table = _labels([("1", "Loyal", None), ("9", "At risk", None), ("2", "Loyl", None)])
    with open_store(db_url) as store:
        run_id = record_run(
            store, run, segmenter="rfm", parameters={}, as_of=datetime(2011, 6, 30), data_hash="x"
        )
        res = store_labels(store, table, source="f.csv", file_hash="3" * 64)
        stored = label_history(store)["customer_id"].to_list()
    assert res.checked_against_run == run_id
    assert res.unknown_segments == {"Loyl": [4]}
    assert res.unknown_customers == ["9"]
    assert res.added == 2
    assert sorted(stored) == ["1", "9"]


def test_rows_without_customer_or_segment_are_reported_with_their_lines(db_url: str) -> None:
    table = pl.DataFrame({"customer_id": ["1", None, "3", " "], "segment": ["A", "B", None, "C"]})
    with open_store(db_url) as store:
        res = store_labels(store, table, source="f.csv", file_hash="4" * 64)
    assert res.invalid_lines == [3, 4, 5]
    assert res.added == 1


def test_latest_and_majority_policies_known_answer(db_url: str) -> None:
    table = _labels(
        [
            ("1", "A", "2011-01-01"),
            ("1", "A", "2011-01-02"),
            ("1", "B", "2011-01-03"),  # latest says B, majority says A
            ("2", "C", "2011-02-01"),
            ("2", "D", "2011-02-02"),  # tie: majority falls back to the most recent
        ]
    )
    with open_store(db_url) as store:
        res = store_labels(store, table, source="f.csv", file_hash="5" * 64)
        latest = current_labels(store, "latest")
        majority = current_labels(store, "majority")
        history = label_history(store, "1")
    assert res.conflicting_customers == ["1", "2"]
    assert latest.select("customer_id", "segment", "n_labels", "n_agreeing").rows() == [
        ("1", "B", 3, 1),
        ("2", "D", 2, 1),
    ]
    assert majority.select("customer_id", "segment", "n_agreeing").rows() == [
        ("1", "A", 2),
        ("2", "D", 1),
    ]
    assert history["segment"].to_list() == ["A", "A", "B"]  # history is kept


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["c1", "c2", "c3"]), st.sampled_from(["A", "B", "C"])),
        min_size=1,
        max_size=12,
    )
)
def test_latest_policy_is_the_last_label_added(
    tmp_path: Path, events: list[tuple[str, str]]
) -> None:
    db = tmp_path / f"h{abs(hash(tuple(events)))}.db"
    db.unlink(missing_ok=True)
    with open_store(str(db)) as store:
        for cid, seg in events:
            add_label(store, cid, seg, labeled_at=datetime(2011, 1, 1))  # same time: order decides
        got = dict(current_labels(store, "latest").select("customer_id", "segment").rows())
        n = label_history(store).height
    assert got == dict(events)
    assert n == len(events)


def test_add_label_writes_an_audit_entry_without_the_raw_customer_id(db_url: str) -> None:
    with open_store(db_url) as store:
        add_label(store, "CUST-77", "Loyal", labeled_by="ana")
        audit = list_audit(store)
    assert audit["action"].to_list() == ["label.add"]
    assert audit["subject"][0] != "CUST-77" and len(audit["subject"][0]) == 32


def test_cli_import_csv_and_xlsx_with_column_mapping(db_url: str, tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"Kunde": ["0042", "7"], "Segment": ["Loyal", "New"], "Wer": ["ana", "ben"]}
    )
    frame.write_csv(tmp_path / "fb.csv")
    frame.write_excel(tmp_path / "fb.xlsx")
    cols = "customer_id=Kunde,segment=Segment,labeled_by=Wer"
    out1 = runner.invoke(
        app, ["labels", "import", str(tmp_path / "fb.csv"), "--db", db_url, "--columns", cols]
    )
    out2 = runner.invoke(
        app, ["labels", "import", str(tmp_path / "fb.csv"), "--db", db_url, "--columns", cols]
    )
    out3 = runner.invoke(
        app, ["labels", "import", str(tmp_path / "fb.xlsx"), "--db", db_url, "--columns", cols]
    )
    assert out1.exit_code == 0, out1.output
    assert "2 labels added" in " ".join(out1.output.split())
    assert "could not be checked" in " ".join(out1.output.split())  # no run to check against
    assert "already imported" in " ".join(out2.output.split())
    assert out3.exit_code == 0, out3.output
    with open_store(db_url) as store:
        hist = label_history(store)
    assert sorted(hist["customer_id"].unique().to_list()) == ["0042", "7"]  # leading zero kept
    assert hist.height == 2  # the xlsx holds the same labels: nothing new
    assert set(hist["labeled_by"].to_list()) == {"ana", "ben"}


def test_cli_reports_problem_rows_by_their_line_in_the_file(db_url: str, tmp_path: Path) -> None:
    # line 3 has no customer id (the loader drops it), line 4 names a segment no run uses:
    # the report must say line 4, not the 3rd kept row
    run = pl.DataFrame({"customer_id": ["1", "2", "3"], "segment": ["Loyal", "New", "Loyal"]})
    with open_store(db_url) as store:
        record_run(
            store, run, segmenter="rfm", parameters={}, as_of=datetime(2011, 6, 30), data_hash="x"
        )
    (tmp_path / "fb.csv").write_text("customer_id,segment\n1,Loyal\n,New\n2,Loyl\n3,Loyal\n")
    out = runner.invoke(app, ["labels", "import", str(tmp_path / "fb.csv"), "--db", db_url])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "unknown segment 'Loyl': 1 rows skipped (rows 4)" in text
    assert "2 labels added" in text


def test_cli_reports_a_missing_column_without_traceback(db_url: str, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("who,what\n1,A\n")
    out = runner.invoke(app, ["labels", "import", str(tmp_path / "bad.csv"), "--db", db_url])
    assert out.exit_code == 2
    assert "Traceback" not in out.output


@pytest.mark.parametrize("policy", ["latest", "majority"])
def test_cli_show_current_labels_to_csv(db_url: str, tmp_path: Path, policy: str) -> None:
    with open_store(db_url) as store:
        add_label(store, "1", "A")
        add_label(store, "1", "B")
    out = runner.invoke(
        app,
        ["labels", "show", "--db", db_url, "--policy", policy, "--output", str(tmp_path / "c.csv")],
    )
    assert out.exit_code == 0, out.output
    assert pl.read_csv(tmp_path / "c.csv", infer_schema=False)["segment"].to_list() == ["B"]
