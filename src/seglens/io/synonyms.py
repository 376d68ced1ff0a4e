"""Header names in German, French, Spanish, Italian, Dutch and Portuguese for every canonical
column of the transactions and labels tables: one table of data, read by the column mapper.

Names are written here as a user would type them (accents, spaces, capitals); they are compared
after :func:`fold_name`, which drops accents, case, spaces and punctuation, so ``Quantité``,
``QUANTITE`` and ``quantite`` are the same header. English names are in
:data:`seglens.io.mapping.SYNONYMS` and are tried first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Final

__all__ = ["LANGUAGES", "LOCAL_HEADERS", "fold_name", "local_synonyms"]

LANGUAGES: Final = ("de", "fr", "es", "it", "nl", "pt")

LOCAL_HEADERS: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
    "customer_id": {
        "de": ("Kundennummer", "Kundennr", "Kunden-ID", "Kunde", "KdNr", "Kundencode"),
        "fr": ("Numéro client", "N° client", "Code client", "ID client", "Client"),
        "es": ("Número de cliente", "Código de cliente", "ID cliente", "Nº cliente", "Cliente"),
        "it": ("Codice cliente", "Numero cliente", "ID cliente", "Cliente"),
        "nl": ("Klantnummer", "Klantnr", "Klant-ID", "Klantcode", "Klant"),
        "pt": ("Número do cliente", "Código do cliente", "ID do cliente", "Cliente"),
    },
    "order_id": {
        "de": (
            "Rechnungsnummer",
            "Rechnungsnr",
            "Rechnung",
            "Bestellnummer",
            "Bestellung",
            "Auftragsnummer",
            "Belegnummer",
        ),
        "fr": ("Numéro de facture", "N° facture", "Facture", "Numéro de commande", "Commande"),
        "es": ("Número de factura", "Factura", "Número de pedido", "Pedido", "Nº pedido"),
        "it": ("Numero fattura", "Fattura", "Numero ordine", "Ordine"),
        "nl": ("Factuurnummer", "Factuur", "Ordernummer", "Bestelnummer", "Bestelling"),
        "pt": ("Número da fatura", "Fatura", "Número do pedido", "Pedido", "Nota fiscal"),
    },
    "timestamp": {
        "de": ("Rechnungsdatum", "Bestelldatum", "Belegdatum", "Datum", "Zeitpunkt"),
        "fr": ("Date de facture", "Date de commande", "Date", "Horodatage"),
        "es": ("Fecha de factura", "Fecha del pedido", "Fecha de pedido", "Fecha"),
        "it": ("Data fattura", "Data ordine", "Data"),
        "nl": ("Factuurdatum", "Orderdatum", "Besteldatum", "Datum"),
        "pt": ("Data da fatura", "Data do pedido", "Data"),
    },
    "amount": {
        "de": ("Betrag", "Gesamtbetrag", "Umsatz", "Gesamtpreis", "Summe", "Wert"),
        "fr": ("Montant", "Montant total", "Total", "Chiffre d'affaires", "Valeur"),
        "es": ("Importe", "Importe total", "Monto", "Total", "Ventas", "Valor"),
        "it": ("Importo", "Importo totale", "Totale", "Fatturato", "Valore"),
        "nl": ("Bedrag", "Totaalbedrag", "Totaal", "Omzet", "Waarde"),
        "pt": ("Valor", "Valor total", "Montante", "Total", "Vendas"),
    },
    "unit_price": {
        "de": ("Einzelpreis", "Stückpreis", "Preis"),
        "fr": ("Prix unitaire", "Prix"),
        "es": ("Precio unitario", "Precio"),
        "it": ("Prezzo unitario", "Prezzo"),
        "nl": ("Eenheidsprijs", "Stukprijs", "Prijs"),
        "pt": ("Preço unitário", "Valor unitário", "Preço"),
    },
    "quantity": {
        "de": ("Menge", "Anzahl", "Stück", "Stückzahl"),
        "fr": ("Quantité", "Qté"),
        "es": ("Cantidad", "Unidades"),
        "it": ("Quantità", "Qtà"),
        "nl": ("Aantal", "Hoeveelheid"),
        "pt": ("Quantidade", "Qtd", "Qtde"),
    },
    "product_id": {
        "de": ("Artikelnummer", "Artikelnr", "Artikel", "Produktnummer", "Produkt"),
        "fr": ("Référence", "Code produit", "Code article", "Article", "Produit"),
        "es": ("Código de producto", "Referencia", "Artículo", "Producto"),
        "it": ("Codice articolo", "Codice prodotto", "Articolo", "Prodotto"),
        "nl": ("Artikelnummer", "Productcode", "Artikel", "Product"),
        "pt": ("Código do produto", "Referência", "Artigo", "Produto"),
    },
    "product_description": {
        # not a canonical column: a product name stands in for product_id only when the file
        # has no product code column (tried after every code name)
        "de": ("Bezeichnung", "Artikelbezeichnung", "Beschreibung", "Produktname"),
        "fr": ("Désignation", "Libellé", "Description"),
        "es": ("Descripción", "Nombre del producto"),
        "it": ("Descrizione", "Nome prodotto"),
        "nl": ("Omschrijving", "Productnaam"),
        "pt": ("Descrição", "Nome do produto"),
    },
    "category": {
        "de": ("Kategorie", "Warengruppe", "Produktgruppe"),
        "fr": ("Catégorie", "Famille", "Rayon"),
        "es": ("Categoría", "Familia"),
        "it": ("Categoria", "Reparto"),
        "nl": ("Categorie", "Productgroep"),
        "pt": ("Categoria", "Departamento"),
    },
    "channel": {
        "de": ("Vertriebskanal", "Kanal"),
        "fr": ("Canal de vente", "Canal"),
        "es": ("Canal de venta", "Canal"),
        "it": ("Canale di vendita", "Canale"),
        "nl": ("Verkoopkanaal", "Kanaal"),
        "pt": ("Canal de venda", "Canal"),
    },
    "is_return": {
        "de": ("Retoure", "Rückgabe", "Storno", "Storniert"),
        "fr": ("Retour", "Retourné", "Annulé", "Avoir"),
        "es": ("Devolución", "Devuelto", "Anulado"),
        "it": ("Reso", "Restituito", "Annullato"),
        "nl": ("Retour", "Geretourneerd", "Geannuleerd"),
        "pt": ("Devolução", "Devolvido", "Cancelado"),
    },
    "segment": {
        "de": ("Segment", "Kundensegment", "Gruppe"),
        "fr": ("Segment", "Segment client", "Groupe"),
        "es": ("Segmento", "Segmento de cliente", "Grupo"),
        "it": ("Segmento", "Segmento cliente", "Gruppo"),
        "nl": ("Segment", "Klantsegment", "Groep"),
        "pt": ("Segmento", "Segmento do cliente", "Grupo"),
    },
    "judged_segment": {
        "de": ("Zugewiesenes Segment", "Angezeigtes Segment", "Bisheriges Segment"),
        "fr": ("Segment attribué", "Segment affiché"),
        "es": ("Segmento asignado", "Segmento mostrado"),
        "it": ("Segmento assegnato", "Segmento mostrato"),
        "nl": ("Toegewezen segment", "Getoond segment"),
        "pt": ("Segmento atribuído", "Segmento mostrado"),
    },
    "run_id": {
        "de": ("Lauf", "Lauf-ID", "Segmentierungslauf"),
        "fr": ("Exécution", "ID exécution"),
        "es": ("Ejecución", "ID ejecución"),
        "it": ("Esecuzione", "ID esecuzione"),
        "nl": ("Run-ID", "Segmentatierun"),
        "pt": ("Execução", "ID execução"),
    },
    "labeled_by": {
        "de": ("Prüfer", "Geprüft von", "Bearbeiter", "Bewertet von"),
        "fr": ("Vérifié par", "Évaluateur", "Relecteur", "Contrôlé par"),
        "es": ("Revisor", "Revisado por", "Evaluador"),
        "it": ("Revisore", "Verificato da", "Valutatore"),
        "nl": ("Beoordelaar", "Gecontroleerd door", "Beoordeeld door"),
        "pt": ("Revisor", "Revisado por", "Avaliador"),
    },
    "labeled_at": {
        "de": ("Geprüft am", "Prüfdatum", "Bewertet am"),
        "fr": ("Vérifié le", "Date de vérification", "Date d'évaluation"),
        "es": ("Revisado el", "Fecha de revisión"),
        "it": ("Verificato il", "Data di revisione", "Data revisione"),
        "nl": ("Gecontroleerd op", "Beoordeeld op", "Beoordelingsdatum"),
        "pt": ("Revisado em", "Data da revisão", "Data de revisão"),
    },
    "source": {
        "de": ("Quelle", "Herkunft"),
        "fr": ("Source", "Origine"),
        "es": ("Fuente", "Origen"),
        "it": ("Fonte", "Origine"),
        "nl": ("Bron", "Herkomst"),
        "pt": ("Fonte", "Origem"),
    },
    "note": {
        "de": ("Notiz", "Bemerkung", "Kommentar", "Begründung"),
        "fr": ("Commentaire", "Remarque", "Motif"),
        "es": ("Nota", "Comentario", "Observación", "Motivo"),
        "it": ("Nota", "Commento", "Osservazione", "Motivo"),
        "nl": ("Notitie", "Opmerking", "Toelichting", "Reden"),
        "pt": ("Nota", "Comentário", "Observação", "Motivo"),
    },
    "purpose": {
        "de": ("Zweck",),
        "fr": ("Objectif", "But"),
        "es": ("Propósito", "Finalidad"),
        "it": ("Scopo", "Finalità"),
        "nl": ("Doel",),
        "pt": ("Finalidade", "Propósito"),
    },
}
"""Canonical column -> language -> header names, most specific first within a language."""


def fold_name(name: str) -> str:
    """A header name without accents, case, spaces or punctuation (``N° Client`` -> ``noclient``).

    >>> fold_name(" Quantité "), fold_name("Stück-Preis"), fold_name("Straße")
    ('quantite', 'stuckpreis', 'strasse')
    """
    plain = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]", "", plain)


def local_synonyms() -> dict[str, tuple[str, ...]]:
    """Folded local names per canonical column, in the table's order, each name once."""
    out: dict[str, tuple[str, ...]] = {}
    for canonical, by_language in LOCAL_HEADERS.items():
        seen: dict[str, None] = {}
        for lang in LANGUAGES:
            for name in by_language.get(lang, ()):
                seen.setdefault(fold_name(name), None)
        out[canonical] = tuple(seen)
    return out
