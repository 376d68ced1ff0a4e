"""A European CRM export of the real Online Retail data (issue 19, done-when): the test writes it
from the raw file - ``;``-separated, decimal comma, day-first dates, Windows-1252, CRLF, German
headers (product code and description included) and German country names - and loading it must
give the same canonical table, every column and every row, as loading the original."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from seglens.io import LoadedTable, load_transactions

COUNTRIES = {
    "United Kingdom": "Vereinigtes Königreich",
    "Germany": "Deutschland",
    "France": "Frankreich",
    "Austria": "Österreich",
    "Switzerland": "Schweiz",
    "Spain": "Spanien",
    "Belgium": "Belgien",
    "Netherlands": "Niederlande",
    "Denmark": "Dänemark",
    "Sweden": "Schweden",
}
"""German names of some of the file's countries (one-to-one, so no two lines become equal)."""


def _german_export(raw: pl.DataFrame, path: Path) -> None:
    """Write ``raw`` (the original file as text) the way a German CRM exports it."""
    when = pl.col("InvoiceDate").str.to_datetime("%Y-%m-%d %H:%M:%S")
    export = raw.select(
        pl.col("InvoiceNo").alias("Rechnungsnummer"),
        pl.col("StockCode").alias("Artikelnummer"),
        pl.col("Description").alias("Bezeichnung"),
        pl.col("Quantity").alias("Menge"),
        when.dt.strftime("%d.%m.%Y %H:%M").alias("Rechnungsdatum"),
        pl.col("UnitPrice").str.replace(".", ",", literal=True).alias("Einzelpreis"),
        pl.col("CustomerID").str.replace(r"\.0$", "").alias("Kundennummer"),
        pl.col("Country").replace(COUNTRIES).alias("Land"),
    )
    text = export.write_csv(separator=";", line_terminator="\r\n")
    path.write_bytes(text.encode("cp1252"))


@pytest.fixture(scope="module")
def both(
    online_retail_csv: Path,
    online_retail_loaded: LoadedTable,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[LoadedTable, LoadedTable, bytes]:
    raw = pl.read_csv(online_retail_csv, infer_schema=False)
    # the original's times all have zero seconds, so a CRM's dd.mm.yyyy HH:MM loses nothing
    assert raw.filter(~pl.col("InvoiceDate").str.ends_with(":00")).height == 0
    path = tmp_path_factory.mktemp("crm") / "Rechnungspositionen.csv"
    _german_export(raw, path)
    return online_retail_loaded, load_transactions(path), path.read_bytes()


def test_the_export_is_what_a_european_crm_writes(
    both: tuple[LoadedTable, LoadedTable, bytes],
) -> None:
    *_, data = both
    head = data.split(b"\r\n", 2)
    assert head[0] == (
        b"Rechnungsnummer;Artikelnummer;Bezeichnung;Menge;Rechnungsdatum;Einzelpreis;"
        b"Kundennummer;Land"
    )
    assert head[1] == (
        b"536365;85123A;WHITE HANGING HEART T-LIGHT HOLDER;6;01.12.2010 08:26;2,55;17850;"
        b"Vereinigtes K\xf6nigreich"
    )
    data.decode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_the_german_export_gives_the_original_canonical_table(
    both: tuple[LoadedTable, LoadedTable, bytes],
) -> None:
    original, german, _ = both
    assert german.table.height == original.table.height > 390_000
    assert_frame_equal(german.table, original.table)  # every column, every row, in order
    assert german.mapping == {
        "customer_id": "Kundennummer",
        "order_id": "Rechnungsnummer",
        "timestamp": "Rechnungsdatum",
        "amount": "Menge * Einzelpreis",
        "quantity": "Menge",
        "product_id": "Artikelnummer",
        "unit_price": "Einzelpreis",
    }
    details = german.report.details
    assert details["delimiter"] == "semicolon"
    assert details["encoding"] == "cp1252"
    assert details["timestamp_format"] == "%d.%m.%Y %H:%M"
    assert details["decimal_comma"] == ["Einzelpreis"]
    assert details["return_prefix"] == "C"
    # every rule matched the same rows, except the float ids the original writes (17850.0)
    counts = {r.rule: (r.rows, r.rows_excluded) for r in german.report.rules}
    expected = {r.rule: (r.rows, r.rows_excluded) for r in original.report.rules}
    assert expected.pop("customer_id_decimal")[0] == 406_829
    assert counts.pop("customer_id_decimal") == (0, 0)
    assert counts == expected
