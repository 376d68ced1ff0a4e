"""Layout cases of the issue 19 corpus (same :class:`Case` shape as ``real_files.py``): headers
in six languages, whitespace-separated logs, files without an order id, Excel workbooks with
hidden rows, merged cells and notes first."""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seglens.errors import DataError
from seglens.io import LoadedTable

from .real_files import Case, both, d, rows

# --- headers in six languages ---------------------------------------------------------------
# (language, header line, the mapping it must give); every file holds the same two lines
_HEADERS = [
    (
        "de",
        "Kundennummer;Rechnungsnummer;Rechnungsdatum;Artikelnummer;Bezeichnung;Menge;"
        "Einzelpreis;Land;Retoure",
        ("Kundennummer", "Rechnungsnummer", "Rechnungsdatum", "Artikelnummer", "Menge"),
    ),
    (
        "fr",
        " N° Client ;NUMÉRO DE FACTURE;Date de commande;Référence;Désignation;Quantité;"
        "Prix unitaire;Pays;Retourné",
        (" N° Client ", "NUMÉRO DE FACTURE", "Date de commande", "Référence", "Quantité"),
    ),
    (
        "es",
        "Número de cliente;Número de factura;Fecha;Código de producto;Descripción;Cantidad;"
        "Precio unitario;País;Devolución",
        ("Número de cliente", "Número de factura", "Fecha", "Código de producto", "Cantidad"),
    ),
    (
        "it",
        "Codice cliente;Numero fattura;Data ordine;Codice articolo;Descrizione;Quantità;"
        "Prezzo unitario;Paese;Reso",
        ("Codice cliente", "Numero fattura", "Data ordine", "Codice articolo", "Quantità"),
    ),
    (
        "nl",
        "Klantnummer;Factuurnummer;Orderdatum;Artikelnummer;Omschrijving;Aantal;Eenheidsprijs;"
        "Land;Geretourneerd",
        ("Klantnummer", "Factuurnummer", "Orderdatum", "Artikelnummer", "Aantal"),
    ),
    (
        "pt",
        "Código do cliente;Número da fatura;Data do pedido;Código do produto;Descrição;"
        "Quantidade;Preço unitário;País;Devolução",
        (
            "Código do cliente",
            "Número da fatura",
            "Data do pedido",
            "Código do produto",
            "Quantidade",
        ),
    ),
]
_BODY = (
    "00461;F-1;05.03.2024;85123A;Tasse;6;2,55;X;nein",
    "00462;F-2;06.03.2024;71053;Lampe;-1;3,39;X;ja",
)


def _mapped(expected: tuple[str, ...]) -> Callable[[LoadedTable], None]:
    names = ("customer_id", "order_id", "timestamp", "product_id", "quantity")

    def check(loaded: LoadedTable) -> None:
        for canonical, source in zip(names, expected, strict=True):
            assert loaded.mapping[canonical] == source, loaded.mapping
        t = loaded.table
        assert t["customer_id"].to_list() == ["00461", "00462"]
        assert t["order_id"].to_list() == ["F-1", "F-2"]
        assert t["timestamp"].to_list() == [d(2024, 3, 5), d(2024, 3, 6)]
        assert t["product_id"].to_list() == ["85123A", "71053"]
        assert t["quantity"].to_list() == [6.0, -1.0]
        assert t["amount"].to_list() == [6 * 2.55, -3.39]
        assert t["is_return"].to_list() == [False, True]

    return check


SYNONYM_CASES = [
    Case(
        f"headers_{lang}",
        rows(*_BODY, head=head + "\n", enc="cp1252"),
        _mapped(expected),
    )
    for lang, head, expected in _HEADERS
]


def _product_from_description(loaded: LoadedTable) -> None:
    assert loaded.mapping["product_id"] == "Désignation"
    assert loaded.table["product_id"].to_list() == ["Tasse à café", "Lampe"]


def _labels_mapped(loaded: LoadedTable) -> None:
    assert loaded.mapping == {
        "customer_id": "Kundennummer",
        "segment": "Kundensegment",
        "labeled_by": "Geprüft von",
        "labeled_at": "Prüfdatum",
        "source": "Quelle",
        "note": "Bemerkung",
    }
    t = loaded.table
    assert t["customer_id"].to_list() == ["00461", "00462"]
    assert t["segment"].to_list() == ["Champions", "Verloren"]
    assert t["labeled_by"].to_list() == ["Jürgen", "Käthe"]
    assert t["labeled_at"].to_list() == [d(2024, 3, 5), d(2024, 3, 6)]
    assert t["source"].to_list() == ["Vertrieb", "Service"]
    assert t["note"].to_list() == ["umgezogen", None]


def _labels_mapped_es(loaded: LoadedTable) -> None:
    assert loaded.mapping == {
        "customer_id": "Cliente",
        "segment": "Segmento",
        "labeled_by": "Revisado por",
        "labeled_at": "Fecha de revisión",
        "judged_segment": "Segmento asignado",
    }
    assert loaded.table["judged_segment"].to_list() == ["Leales", "Nuevos"]
    assert loaded.table["labeled_at"].to_list() == [d(2024, 3, 5), d(2024, 3, 6)]


SYNONYM_CASES += [
    Case(
        "headers_fr_description_as_product",
        rows(
            "C1;F1;2024-03-05;Tasse à café;12,50",
            "C2;F2;2024-03-06;Lampe;3,00",
            head="Client;Facture;Date;Désignation;Montant\n",
            enc="cp1252",
        ),
        both(_product_from_description, lambda t: _amounts(t, [12.5, 3.0])),
    ),
    Case(
        "labels_headers_de",
        rows(
            "00461;Champions;Jürgen;05.03.2024;Vertrieb;umgezogen",
            "00462;Verloren;Käthe;06.03.2024;Service;",
            head="Kundennummer;Kundensegment;Geprüft von;Prüfdatum;Quelle;Bemerkung\n",
            enc="cp1252",
        ),
        _labels_mapped,
        table="labels",
    ),
    Case(
        "labels_headers_es",
        rows(
            "C1,Champions,Ana,2024-03-05,Leales",
            "C2,Perdidos,Luis,2024-03-06,Nuevos",
            head="Cliente,Segmento,Revisado por,Fecha de revisión,Segmento asignado\n",
        ),
        _labels_mapped_es,
        table="labels",
    ),
]


_LABEL_HEADERS = [
    ("fr", "N° client;Segment;Vérifié par;Date de vérification;Origine;Commentaire"),
    ("it", "Codice cliente;Segmento;Verificato da;Data revisione;Fonte;Commento"),
    ("nl", "Klantnummer;Segment;Beoordelaar;Beoordelingsdatum;Bron;Opmerking"),
    ("pt", "Código do cliente;Segmento;Revisado por;Data da revisão;Origem;Observação"),
]


def _labels_all_columns(loaded: LoadedTable) -> None:
    assert set(loaded.mapping) == {
        "customer_id",
        "segment",
        "labeled_by",
        "labeled_at",
        "source",
        "note",
    }, loaded.mapping
    t = loaded.table
    assert t["customer_id"].to_list() == ["00461", "00462"]
    assert t["segment"].to_list() == ["Fidèles", "Perdus"]
    assert t["labeled_by"].to_list() == ["Zoë", "Luís"]
    assert t["labeled_at"].to_list() == [d(2024, 3, 25), d(2024, 3, 26)]
    assert t["source"].to_list() == ["audit", "service"]
    assert t["note"].to_list() == ["déménagé", None]


SYNONYM_CASES += [
    Case(
        f"labels_headers_{lang}",
        rows(
            "00461;Fidèles;Zoë;25/03/2024;audit;déménagé",
            "00462;Perdus;Luís;26/03/2024;service;",
            head=head + "\n",
            enc="cp1252",
        ),
        _labels_all_columns,
        table="labels",
    )
    for lang, head in _LABEL_HEADERS
]


def _amounts(loaded: LoadedTable, expected: list[float]) -> None:
    assert loaded.table["amount"].to_list() == expected


# --- whitespace-separated logs and sources without an order id ------------------------------
CDNOW = b"00001 19970101 1 11.77\n00002  19970112 1 12.00\n00002 19970112 5 77.00\n" + (
    b"00003\t19970102   2  20.76\n"
)


def _columns(**expected: list[object]) -> Callable[[LoadedTable], None]:
    def check(loaded: LoadedTable) -> None:
        for name, values in expected.items():
            assert loaded.table[name].to_list() == values, name

    return check


def _details(**expected: object) -> Callable[[LoadedTable], None]:
    def check(loaded: LoadedTable) -> None:
        for key, value in expected.items():
            assert loaded.report.details[key] == value, loaded.report.details

    return check


def _warned(*phrases: str) -> Callable[[LoadedTable], None]:
    def check(loaded: LoadedTable) -> None:
        text = "\n".join(loaded.report.warnings)
        for phrase in phrases:
            assert phrase in text, text

    return check


def _order_derived(source: str) -> Callable[[LoadedTable], None]:
    def check(loaded: LoadedTable) -> None:
        assert loaded.mapping["order_id"] == source
        mapped = {m.canonical: m.how for m in loaded.report.mapping}
        assert mapped["order_id"] == "derived"
        assert loaded.report.rule("missing_order_id").rows == 0

    return check


_CDNOW_VALUES = _columns(
    customer_id=["00001", "00002", "00002", "00003"],
    order_id=["00001 19970101", "00002 19970112", "00002 19970112", "00003 19970102"],
    timestamp=[d(1997, 1, 1), d(1997, 1, 12), d(1997, 1, 12), d(1997, 1, 2)],
    quantity=[1.0, 1.0, 5.0, 2.0],
    amount=[11.77, 12.0, 77.0, 20.76],
)
_NO_HEADER = (
    "the file has no header line; its columns were named from their values (column 1 = "
    "customer_id, column 2 = date, column 3 = quantity, column 4 = amount)"
)
_TEN = b"".join(f"{i:05d} 199701{i + 1:02d} 1 {i}.50\n".encode() for i in range(1, 11))

WHITESPACE_CASES = [
    Case(
        "ws_cdnow_no_header",
        CDNOW,
        both(
            _CDNOW_VALUES,
            _details(delimiter="whitespace", header=False, timestamp_format="%Y%m%d"),
            _warned(_NO_HEADER, "the source has no order id column"),
            _order_derived("customer_id + date"),
        ),
        suffix=".txt",
    ),
    Case(
        "ws_cdnow_crlf_padded_cp1252",
        b"  00001 19970101 1 11.77  \r\n00002  19970112 1 12.00\r\n00002 19970112 5 77.00\r\n"
        b"00003\t19970102   2  20.76\r\n",
        both(_CDNOW_VALUES, _details(delimiter="whitespace")),
        suffix=".txt",
    ),
    Case(
        "ws_lifetimes_sample_five_columns",
        b"   4      1 19970101  2  29.33\n   4      1 19970118  2  29.73\n"
        b"  18      2 19970101  1  11.77\n",
        both(
            _columns(
                customer_id=["4", "4", "18"],
                timestamp=[d(1997, 1, 1), d(1997, 1, 18), d(1997, 1, 1)],
                quantity=[2.0, 2.0, 1.0],
                amount=[29.33, 29.73, 11.77],
            ),
            _warned("column 1 = customer_id, column 2 = column_2, column 3 = date"),
        ),
        suffix=".txt",
    ),
    Case(
        "ws_with_header_tabs_and_spaces",
        b"customer   date        amount\nA\t2024-01-05  10\nB   2024-01-06\t3.5\n",
        both(
            _columns(
                customer_id=["A", "B"],
                order_id=["A 2024-01-05", "B 2024-01-06"],
                amount=[10.0, 3.5],
            ),
            _details(delimiter="whitespace", header=True),
        ),
        suffix=".log",
    ),
    Case(
        "ws_given_space_delimiter",
        CDNOW,
        _CDNOW_VALUES,
        options={"delimiter": " "},
        suffix=".txt",
    ),
    Case(
        "ws_short_line_excluded_with_its_line",
        _TEN + b"00011 19970112 1\n" + _TEN * 10,
        lambda t: _rule_line(t, "unparseable_amount", 11),
        suffix=".txt",
    ),
    Case(
        "ws_bad_date_names_line_and_value",
        b"00001 19970102 1 1.50\n00002 19970132 1 2.50\n" + _TEN,
        error=DataError,
        phrases=("1 of 12 rows have missing or unreadable dates", "--date-format"),
        lines=(2,),
        column="date",
        values=("19970132",),
        suffix=".txt",
    ),
    Case(
        "ws_no_header_unrecognised",
        b"1 2 3\n4 5 6\n",
        error=DataError,
        phrases=("'column_1', 'column_2', 'column_3'", "--columns customer_id=<column>"),
        suffix=".txt",
    ),
    Case(
        "ws_text_ids_no_header",
        b"C001 19970101 1 11.77\nC002 19970112 2 9.50\n",
        both(
            _columns(customer_id=["C001", "C002"], amount=[11.77, 9.5], quantity=[1.0, 2.0]),
            _details(header=False),
        ),
        suffix=".txt",
    ),
    Case(
        "ws_gzip_compressed",
        gzip.compress(CDNOW),
        both(_CDNOW_VALUES, _details(delimiter="whitespace", compression="gzip")),
        suffix=".txt.gz",
    ),
    Case(
        "csv_without_order_id",
        rows(
            "A,2024-01-05 10:00,10",
            "A,2024-01-05 10:00,4",
            "A,2024-01-06 09:00,3",
            ",2024-01-07 08:00,4",
            head="Kunde,Datum,Betrag\n",
        ),
        both(
            _columns(
                customer_id=["A", "A", "A"],
                order_id=["A 2024-01-05 10:00", "A 2024-01-05 10:00", "A 2024-01-06 09:00"],
                amount=[10.0, 4.0, 3.0],
            ),
            _order_derived("Kunde + Datum"),
            lambda t: _rule_line(t, "missing_customer_id", 5),
            _warned("one order (order_id = the customer id and the timestamp as written"),
        ),
    ),
]


def _rule_line(loaded: LoadedTable, rule: str, line: int) -> None:
    result = loaded.report.rule(rule)
    assert result.rows == 1, result
    assert result.examples[0]["line"] == line, result.examples


# --- Excel: hidden rows, merged cells, notes first ------------------------------------------
HEAD_ROW = ["customer_id", "order_id", "timestamp", "amount"]


def _book(*sheets: tuple[str, Callable[[Any], None]]) -> Callable[[Path], None]:
    """A workbook writer: each sheet named and filled by its builder."""

    def write(path: Path) -> None:
        import openpyxl

        wb = openpyxl.Workbook()
        first = wb.active
        for i, (title, build) in enumerate(sheets):
            ws = first if i == 0 else wb.create_sheet(title)
            ws.title = title
            build(ws)
        wb.save(path)

    return write


def _orders(n: int, *, head: bool = True) -> Callable[[Any], None]:
    def build(ws: Any) -> None:
        if head:
            ws.append(HEAD_ROW)
        for i in range(1, n + 1):
            ws.append([f"C{i}", f"O{i}", dt.datetime(2024, 1, i), i * 1.5])

    return build


def _hidden(ws: Any) -> None:
    _orders(6)(ws)
    ws.row_dimensions[3].hidden = True
    ws.row_dimensions[6].hidden = True


def _merged_down(ws: Any) -> None:
    ws.append(["Kunde", "Rechnung", "Datum", "Betrag"])
    for i, who in enumerate(["C1", None, None, "C2"], start=1):
        ws.append([who, f"O{i}", dt.datetime(2024, 1, i), float(i)])
    ws.merge_cells("A2:A4")


def _merged_across(ws: Any) -> None:
    _orders(3)(ws)
    ws.merge_cells("A3:B3")


def _merged_into_header(ws: Any) -> None:
    _orders(3)(ws)
    ws.merge_cells("B1:B2")


def _notes_first(ws: Any, *, bad: bool = False) -> None:
    ws.append(["CRM export 2024-03-05"])
    ws.append(["Filter: all customers"])
    ws.append([])
    ws.merge_cells("A1:D1")
    _orders(3)(ws)
    if bad:
        ws.append(["C9", "O9", dt.datetime(2024, 1, 9), "abc"])


def _readme(ws: Any) -> None:
    ws.append(["This workbook holds the orders of January."])
    ws.append(["Questions: crm@example.com"])


def _hide_sheet(ws: Any) -> None:
    _orders(1)(ws)
    ws.sheet_state = "hidden"


_ORDERS_6 = _columns(
    customer_id=[f"C{i}" for i in range(1, 7)],
    amount=[i * 1.5 for i in range(1, 7)],
    timestamp=[d(2024, 1, i) for i in range(1, 7)],
)

EXCEL_CASES = [
    Case(
        "xlsx_hidden_rows_loaded_and_reported",
        _book(("Orders", _hidden)),
        both(
            _ORDERS_6,
            _details(hidden_rows={"Orders": 2}),
            _warned("2 hidden row(s) in sheet 'Orders' (rows 3, 6) were loaded like the others"),
        ),
        suffix=".xlsx",
    ),
    Case(
        "xlsx_merged_down_a_column_filled",
        _book(("Orders", _merged_down)),
        both(
            _columns(customer_id=["C1", "C1", "C1", "C2"], order_id=["O1", "O2", "O3", "O4"]),
            _details(merged_filled={"Orders": 1}),
            _warned("1 merged range(s) in sheet 'Orders' (A2:A4) were filled"),
        ),
        suffix=".xlsx",
    ),
    Case(
        "xlsx_merged_across_columns_refused",
        _book(("Orders", _merged_across)),
        error=DataError,
        phrases=("merged cells A3:B3 in sheet 'Orders' span columns", "Unmerge Cells"),
        lines=(3,),
        values=("A3:B3",),
        suffix=".xlsx",
    ),
    Case(
        "xlsx_merged_header_into_data_refused",
        _book(("Orders", _merged_into_header)),
        error=DataError,
        phrases=("merged cells B1:B2 in sheet 'Orders' join the header with data rows", "Unmerge"),
        lines=(2,),
        values=("B1:B2",),
        suffix=".xlsx",
    ),
    Case(
        "xlsx_notes_block_above_the_header",
        _book(("Export", _notes_first)),
        both(
            _columns(customer_id=["C1", "C2", "C3"], amount=[1.5, 3.0, 4.5]),
            _details(header_row={"Export": 4}),
            _warned(
                "sheet 'Export': rows 1-3 above the header (row 4) were read as notes, not data "
                "(first: 'CRM export 2024-03-05')"
            ),
        ),
        suffix=".xlsx",
    ),
    Case(
        "xlsx_notes_block_rows_keep_their_numbers",
        _book(("Export", lambda ws: _notes_first(ws, bad=True))),
        error=DataError,
        phrases=("first offending rows: line 8: \"sheet Export: 'abc'\"",),
        lines=(8,),
        column="amount",
        suffix=".xlsx",
    ),
    Case(
        "xlsx_notes_sheet_first_refused_listing_sheets",
        _book(("Read me", _readme), ("Orders", _orders(2))),
        error=DataError,
        phrases=(
            "the first sheet, 'Read me', holds no table (notes first?); the workbook's sheets: "
            "'Read me' (no table: 2 line(s) of text); 'Orders' (4 columns: customer_id, "
            "order_id, timestamp, amount, about 2 rows)",
            "choose the sheet with --sheet 'Orders' (or --sheet 1)",
        ),
        suffix=".xlsx",
    ),
    Case(
        "xlsx_notes_sheet_first_with_sheet_chosen",
        _book(("Read me", _readme), ("Orders", _orders(2))),
        _columns(customer_id=["C1", "C2"], amount=[1.5, 3.0]),
        options={"sheet": "Orders"},
        suffix=".xlsx",
    ),
    Case(
        "xlsx_all_sheets_pass_over_the_notes_sheet",
        _book(("Read me", _readme), ("Orders", _orders(2))),
        both(
            _columns(customer_id=["C1", "C2"]),
            _warned("sheet 'Read me' holds no table and was not read"),
        ),
        options={"sheet": "*"},
        suffix=".xlsx",
    ),
    Case(
        "xlsx_several_tables_first_read_others_listed",
        _book(("Orders", _orders(6)), ("Old", _hide_sheet)),
        both(
            _ORDERS_6,
            _warned(
                "the workbook has 2 sheets and the first, 'Orders', was read; all: 'Orders' "
                "(4 columns: customer_id, order_id, timestamp, amount, about 6 rows); 'Old' "
                "(4 columns: customer_id, order_id, timestamp, amount, about 1 rows, hidden); "
                "choose another with --sheet NAME"
            ),
        ),
        suffix=".xlsx",
    ),
]
