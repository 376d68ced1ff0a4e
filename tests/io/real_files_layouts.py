"""Layout cases of the issue 19 corpus (same :class:`Case` shape as ``real_files.py``): headers
in six languages, whitespace-separated logs, files without an order id, Excel workbooks with
hidden rows, merged cells and notes first."""

from __future__ import annotations

from collections.abc import Callable

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


def _amounts(loaded: LoadedTable, expected: list[float]) -> None:
    assert loaded.table["amount"].to_list() == expected
