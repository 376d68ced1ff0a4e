"""Labels edge cases (issue 19 items 3 and 6): ids that lost their leading zeros in Excel are
found against the store and never guessed; skipped rows are named by line; ``labels add`` warns
on an unknown customer or segment. Real store files (and PostgreSQL), real workbooks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.errors import DataError
from seglens.store import label_history, open_store, record_run, store_labels, table_counts
from seglens.store.id_padding import lost_zeros
from seglens.store.labels import label_warnings

runner = CliRunner()
RUN = pl.DataFrame(
    {"customer_id": ["00461", "00462", "12345"], "segment": ["Loyal", "New", "Loyal"]}
)


def _one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def store_url(db_url: str) -> str:
    """A store holding one run whose ids are zero-padded to five digits."""
    with open_store(db_url) as store:
        record_run(
            store, RUN, segmenter="rfm", parameters={}, as_of=datetime(2011, 6, 30), data_hash="x"
        )
    return db_url


@pytest.fixture
def excel_sheet(tmp_path: Path) -> Path:
    """What Excel saves after opening a CSV of zero-padded ids: the ids as numbers."""
    path = tmp_path / "audit.xlsx"
    pl.DataFrame(
        {"customer_id": [461, 462, 12345, 999], "segment": ["Loyal", "Loyal", "New", "New"]}
    ).write_excel(path)
    return path


def test_lost_zeros_are_refused_naming_lines_values_and_both_options(
    store_url: str, excel_sheet: Path
) -> None:
    out = runner.invoke(app, ["labels", "import", str(excel_sheet), "--db", store_url])
    text = _one_line(out.output)
    assert out.exit_code != 0
    assert (
        "2 customer id(s) match customers in the store only with their leading zeros restored "
        "(e.g. 461 -> 00461): a spreadsheet such as Excel dropped them" in text
    )
    assert f"file {excel_sheet}, column 'customer_id'" in text
    assert "first offending rows: line 2: '461', line 3: '462'" in text
    assert "--pad-ids" in text and "--no-pad-ids" in text and "5 digits" in text
    assert "Traceback" not in out.output
    with open_store(store_url) as store:
        assert table_counts(store)["labels"] == 0  # nothing stored


def test_pad_ids_restores_the_width_seen_in_the_store(store_url: str, excel_sheet: Path) -> None:
    out = runner.invoke(app, ["labels", "import", str(excel_sheet), "--db", store_url, "--pad-ids"])
    assert out.exit_code == 0, out.output
    text = _one_line(out.output)
    assert "restored the leading zeros of 2 ids (e.g. 461 -> 00461), as --pad-ids asked" in text
    assert "1 customers not in any run (kept): 999" in text  # never padded: matches nothing
    with open_store(store_url) as store:
        hist = label_history(store).sort("customer_id")
    assert hist["customer_id"].to_list() == ["00461", "00462", "12345", "999"]
    assert hist["judged_segment"].to_list() == ["Loyal", "New", "Loyal", None]


def test_no_pad_ids_keeps_the_ids_as_written(store_url: str, excel_sheet: Path) -> None:
    out = runner.invoke(
        app, ["labels", "import", str(excel_sheet), "--db", store_url, "--no-pad-ids"]
    )
    assert out.exit_code == 0, out.output
    assert "3 customers not in any run (kept): 461, 462, 999" in _one_line(out.output)
    with open_store(store_url) as store:
        ids = sorted(label_history(store)["customer_id"].to_list())
    assert ids == ["12345", "461", "462", "999"]


def test_lost_zeros_known_answers(store_url: str) -> None:
    assert lost_zeros(["461", "00461", "12345", "4610", "x1"], {"00461", "12345"}) == {
        "461": "00461"
    }
    assert lost_zeros(["461"], {"0461", "00461"}) == {}  # two widths match: not guessed
    assert lost_zeros(["461"], {"461", "00461"}) == {}  # the id as written exists
    table = pl.DataFrame({"customer_id": ["461", "12345"], "segment": ["Loyal", "Loyal"]})
    with open_store(store_url) as store, pytest.raises(DataError) as info:
        store_labels(store, table, source="s.csv", file_hash="7" * 64, lines=[5, 9])
    assert info.value.lines == (5,)
    assert info.value.values == ("461",)
    assert info.value.column == "customer_id"
    assert "pad_ids=True" in str(info.value)


def test_import_names_every_skipped_row_by_its_line(store_url: str, tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(
        "customer_id,segment\n00461,Loyal\n,New\n00462,\n12345,Loyal\n  ,New\n",
        encoding="utf-8",
    )
    out = runner.invoke(app, ["labels", "import", str(path), "--db", store_url])
    assert out.exit_code == 0, out.output
    text = _one_line(out.output)
    assert "2 labels added" in text
    assert "skipped 2 rows without a customer id (lines 3, 6)" in text
    assert "skipped 1 rows without a segment (lines 4)" in text


def test_import_refuses_an_id_the_database_cannot_hold_by_its_line(
    store_url: str, tmp_path: Path
) -> None:
    # SQLite would store it silently and PostgreSQL refuse it mid-import: both engines refuse
    # before writing, naming the file, line, column and value
    path = tmp_path / "labels.csv"
    path.write_text(
        f"customer_id,segment\n00461,Loyal\n,New\n{'x' * 201},Loyal\n", encoding="utf-8"
    )
    out = runner.invoke(app, ["labels", "import", str(path), "--db", store_url])
    text = _one_line(out.output)
    assert out.exit_code == 2, out.output
    assert f"file {path}, column 'customer_id'" in text
    assert "line 4: the value 'xxx" in text
    assert "(201 characters) is over the 200 characters the database allows" in text
    assert "nothing was written" in text
    with open_store(store_url) as store:
        assert table_counts(store)["labels"] == 0


def test_store_labels_refuses_a_nul_by_the_line_it_came_from(store_url: str) -> None:
    # a file with a NUL is refused by the reader as binary data; a table from the library
    # reaches the store with it, and is refused there by the line the caller gives
    table = pl.DataFrame({"customer_id": ["00461", "004\x0062"], "segment": ["Loyal", "New"]})
    with open_store(store_url) as store:
        with pytest.raises(DataError) as err:
            store_labels(store, table, source="crm.csv", file_hash="cd" * 32, lines=[7, 9])
        assert table_counts(store)["labels"] == 0
    assert err.value.message.startswith(
        "line 9: the value '004\\x0062' (6 characters) contains a NUL character"
    )
    assert err.value.column == "customer_id"


def test_labels_add_warns_on_unknown_customer_and_segment(store_url: str) -> None:
    out = runner.invoke(app, ["labels", "add", "461", "Loyl", "--db", store_url])
    assert out.exit_code == 0, out.output
    text = _one_line(out.output)
    assert (
        "warning: unknown customer '461': no segmentation run has it (did you mean '00461'? "
        "leading zeros); the label is kept" in text
    )
    assert "warning: unknown segment 'Loyl': run 1 uses Loyal, New; check the spelling" in text
    quiet = runner.invoke(app, ["labels", "add", "00461", "New", "--db", store_url])
    assert quiet.exit_code == 0, quiet.output
    assert "warning" not in quiet.output
    with open_store(store_url) as store:
        assert label_warnings(store, "00461", "[b]Loyal[/b]") == [
            "unknown segment '[b]Loyal[/b]': run 1 uses Loyal, New; check the spelling "
            "(the label is kept)"
        ]


def test_labels_add_without_a_run_warns_about_nothing(db_url: str) -> None:
    out = runner.invoke(app, ["labels", "add", "461", "Loyl", "--db", db_url])
    assert out.exit_code == 0, out.output
    assert "warning" not in out.output
    assert "(no run yet)" in out.output


def test_track_refuses_lost_zeros_before_storing_anything(db_url: str, tmp_path: Path) -> None:
    from tests.transactions import random_transactions

    tx = random_transactions(40).with_columns(
        pl.col("customer_id").str.replace("C", "00").alias("customer_id")  # C007 -> 00007
    )
    tx.write_csv(tmp_path / "tx.csv")
    (tmp_path / "labels.csv").write_text("customer_id,segment\n7,Loyal\n00008,New\n")
    args = ["track", str(tmp_path / "tx.csv"), "--as-of", "2011-09-30", "--db", db_url]
    out = runner.invoke(app, [*args, "--labels", str(tmp_path / "labels.csv")])
    text = _one_line(out.output)
    assert out.exit_code == 2, out.output
    assert "1 customer id(s) match customers of the transactions only with their leading" in text
    assert "(e.g. 7 -> 00007)" in text
    assert "first offending rows: line 2: '7'" in text
    assert "seglens labels import FILE --pad-ids" in text
    with open_store(db_url) as store:
        counts = table_counts(store)
    assert (counts["runs"], counts["labels"]) == (0, 0)  # refused before any write


def test_audit_estimate_refuses_lost_zeros_then_pads_them(db_url: str, tmp_path: Path) -> None:
    ids = [f"{i:05d}" for i in range(1, 121)]
    run = pl.DataFrame({"customer_id": ids, "segment": ["A", "B"] * 60})
    with open_store(db_url) as store:
        record_run(
            store, run, segmenter="rfm", parameters={}, as_of=datetime(2011, 6, 30), data_hash="x"
        )
    sheet = tmp_path / "audit.csv"
    drawn = runner.invoke(
        app, ["audit-sample", "--db", db_url, "--out", str(sheet), "--total", "40"]
    )
    assert drawn.exit_code == 0, drawn.output
    answered = pl.read_csv(sheet, infer_schema=False).with_columns(
        pl.col("customer_id").str.strip_chars_start("0"),  # what Excel saves
        pl.col("assigned_segment").alias("reviewer_segment"),
    )
    answered.write_csv(sheet)
    refused = runner.invoke(app, ["audit-estimate", str(sheet), "--db", db_url])
    assert refused.exit_code == 2, refused.output
    text = _one_line(refused.output)
    assert "customer id(s) match customers in the store only with their leading zeros" in text
    assert "give --pad-ids (seglens labels import, audit-estimate; pad_ids=True)" in text
    padded = runner.invoke(app, ["audit-estimate", str(sheet), "--db", db_url, "--pad-ids"])
    assert padded.exit_code == 0, padded.output
    assert f"{answered.height} answers stored as labels of run 1" in _one_line(padded.output)
    assert "Estimated accuracy (2011Q2, run 1): 100.0 %" in _one_line(padded.output)
    with open_store(db_url) as store:
        stored = set(label_history(store)["customer_id"].to_list())
    assert stored == set(answered["customer_id"].str.zfill(5).to_list())
