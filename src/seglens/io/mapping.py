"""Column mapping: ``--columns`` pairs, TOML config, and automatic recognition of common layouts."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from seglens.errors import DataError, UsageError
from seglens.io.report import MappedColumn
from seglens.io.synonyms import fold_name, local_synonyms
from seglens.tables import TRANSACTIONS, TableSpec

__all__ = [
    "EXTRA_FIELDS",
    "LAYOUTS",
    "NO_ORDER_ID_NOTE",
    "SYNONYMS",
    "Layout",
    "derived_order_id",
    "parse_column_mapping",
    "resolve_mapping",
]

EXTRA_FIELDS: Final = ("unit_price",)
"""Fields that are not canonical columns but can be mapped to derive one
(``amount = quantity * unit_price``)."""


@dataclass(frozen=True)
class Layout:
    """A well-known source layout: the columns that identify it and the mapping it implies."""

    key: str
    title: str
    mapping: Mapping[str, str]
    return_prefix: str | None = None


LAYOUTS: Final = (
    Layout(
        "uci-online-retail",
        "UCI Online Retail",
        {
            "customer_id": "CustomerID",
            "order_id": "InvoiceNo",
            "timestamp": "InvoiceDate",
            "quantity": "Quantity",
            "unit_price": "UnitPrice",
            "product_id": "StockCode",
        },
        return_prefix="C",
    ),
    Layout(
        "uci-online-retail-ii",
        "UCI Online Retail II",
        {
            "customer_id": "Customer ID",
            "order_id": "Invoice",
            "timestamp": "InvoiceDate",
            "quantity": "Quantity",
            "unit_price": "Price",
            "product_id": "StockCode",
        },
        return_prefix="C",
    ),
)

SYNONYMS: Final[Mapping[str, tuple[str, ...]]] = {
    "customer_id": (
        "customerid",
        "custid",
        "customer",
        "customerno",
        "customernumber",
        "customercode",
        "clientid",
        "client",
        "clientno",
        "userid",
        "memberid",
        "accountid",
        "shopperid",
        "buyerid",
        "custno",
        "customerkey",
    ),
    "order_id": (
        "orderid",
        "invoiceno",
        "invoice",
        "invoiceid",
        "invoicenumber",
        "orderno",
        "ordernumber",
        "order",
        "transactionid",
        "txnid",
        "receiptid",
        "receiptno",
        "basketid",
        "ticketid",
        "salesorder",
    ),
    "timestamp": (
        "timestamp",
        "invoicedate",
        "orderdate",
        "orderdatetime",
        "datetime",
        "date",
        "transactiondate",
        "transactiontime",
        "purchasedate",
        "txndate",
        "saledate",
        "createdat",
        "ordertime",
        "time",
    ),
    "amount": (
        "amount",
        "netamount",
        "totalamount",
        "linetotal",
        "linevalue",
        "lineamount",
        "total",
        "totalprice",
        "sales",
        "salesamount",
        "revenue",
        "netvalue",
        "value",
        "spend",
        "monetary",
    ),
    "unit_price": (
        "unitprice",
        "price",
        "priceeach",
        "unitcost",
        "itemprice",
        "priceperunit",
        "preis",
        "einzelpreis",
        "prix",
        "precio",
    ),
    "quantity": (
        "quantity",
        "qty",
        "units",
        "quantityordered",
        "itemcount",
        "menge",
        "anzahl",
        "quantite",
        "cantidad",
    ),
    "product_id": (
        "productid",
        "stockcode",
        "sku",
        "product",
        "productcode",
        "itemid",
        "itemcode",
        "articleid",
        "articleno",
        "item",
    ),
    "category": ("category", "productcategory", "department", "productgroup", "categoryname"),
    "channel": ("channel", "saleschannel", "orderchannel"),
    "is_return": ("isreturn", "return", "returned", "isrefund", "refund", "iscancelled"),
    "segment": (
        "segment",
        "segmentname",
        "cluster",
        "label",
        "group",
        "truesegment",
        "reviewersegment",
    ),
    "judged_segment": ("judgedsegment", "assignedsegment", "shownsegment"),
    "run_id": ("runid", "run", "segmentationrun"),
    "labeled_by": ("labeledby", "labelledby", "reviewer", "checkedby"),
    "labeled_at": ("labeledat", "labelledat", "reviewedat", "checkedat"),
    "source": ("source", "labelsource", "origin"),
    "note": ("note", "notes", "comment", "reason"),
}


LOCAL_SYNONYMS: Final[Mapping[str, tuple[str, ...]]] = local_synonyms()
"""German, French, Spanish, Italian, Dutch and Portuguese header names (folded), tried after
the English ones; the table is :data:`seglens.io.synonyms.LOCAL_HEADERS`."""

DESCRIPTION_NAMES: Final = ("productname", "productdescription", "itemname", "itemdescription")
"""A product name column stands in for ``product_id`` only when no product code column is found
(these, then the local ``product_description`` names, are tried after every code name)."""


NO_ORDER_ID_NOTE: Final = (
    "the source has no order id column: each customer's lines with the same timestamp are one "
    "order (order_id = the customer id and the timestamp as written, e.g. '00001 19970101'); "
    "map an order column with --columns order_id=<column> if there is one"
)


def derived_order_id(customer: str, timestamp: str) -> pl.Expr:
    """The order id of a source without one: customer id and timestamp as written, so the lines
    of one customer at one time are one order. Never null (a row without either is excluded by
    the timestamp or customer rule, not counted as a missing order id)."""
    parts = [pl.col(c).cast(pl.String).str.strip_chars() for c in (customer, timestamp)]
    return pl.concat_str(parts, separator=" ", ignore_nulls=True)


def _norm(name: str) -> str:
    return fold_name(name)


def _candidates(fld: str) -> tuple[str, ...]:
    """Folded names that identify ``fld``: its own name, English, then local names."""
    names = (_norm(fld), *SYNONYMS.get(fld, ()), *LOCAL_SYNONYMS.get(fld, ()))
    if fld == "product_id":
        names += (*DESCRIPTION_NAMES, *LOCAL_SYNONYMS.get("product_description", ()))
    return names


def parse_column_mapping(text: str | None) -> dict[str, str]:
    """Parse ``canonical=source`` pairs separated by commas.

    Parameters
    ----------
    text
        E.g. ``"customer_id=CustID,timestamp=OrderDate"``. Source names may contain spaces;
        surrounding whitespace is dropped. Quote a name containing a comma with double quotes.

    Returns
    -------
    dict
        Canonical column -> source column.

    Examples
    --------
    >>> parse_column_mapping("customer_id=CustID, timestamp=Order Date")
    {'customer_id': 'CustID', 'timestamp': 'Order Date'}
    """
    if text is None or not text.strip():
        return {}
    out: dict[str, str] = {}
    for pair in re.findall(r'(?:[^,"]|"[^"]*")+', text):
        if not pair.strip():
            continue
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip().replace('"', "").strip()
        if not sep or not key or not value:
            raise UsageError(
                f"cannot read the column mapping pair {pair.strip()!r}",
                hint="write canonical=source pairs separated by commas, e.g. "
                "--columns customer_id=CustID,timestamp=OrderDate",
            )
        if key in out:
            raise UsageError(
                f"the column mapping names {key!r} twice", hint="give each canonical column once"
            )
        out[key] = value
    return out


def _recognise(columns: Sequence[str], fields: Sequence[str]) -> dict[str, str]:
    """Map canonical fields to source columns by normalised-name synonyms (first match wins)."""
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(_norm(c), c)
    found: dict[str, str] = {}
    taken: set[str] = set()
    for fld in fields:
        for cand in _candidates(fld):
            col = by_norm.get(cand)
            if col is not None and col not in taken:
                found[fld] = col
                taken.add(col)
                break
    return found


def detect_layout(columns: Sequence[str]) -> Layout | None:
    """The known layout whose identifying columns are all present, if any."""
    have = set(columns)
    for layout in LAYOUTS:
        if set(layout.mapping.values()) <= have:
            return layout
    return None


def resolve_mapping(
    columns: Sequence[str],
    spec: TableSpec,
    *,
    explicit: Mapping[str, str],
    config: Mapping[str, str],
    source: str,
) -> tuple[list[MappedColumn], Layout | None]:
    """Decide which source column feeds each canonical column.

    Precedence: ``explicit`` (``--columns``) over ``config`` (TOML) over a recognised layout over
    name synonyms. Without an order id column, ``order_id`` is derived from the customer and the
    timestamp (:func:`derived_order_id`). Raises :class:`DataError` when a required column
    cannot be found.
    """
    fields = list(spec.names) + (list(EXTRA_FIELDS) if spec is TRANSACTIONS else [])
    for origin in (explicit, config):
        for key, col in origin.items():
            if key not in fields:
                raise UsageError(
                    f"{key!r} is not a column of the {spec.name} table",
                    hint=f"map one of: {', '.join(fields)}",
                )
            if col not in columns:
                close = difflib.get_close_matches(col, columns, n=3, cutoff=0.5)
                raise DataError(
                    f"the mapping says {key}={col}, but the source has no column {col!r}",
                    source=source,
                    column=col,
                    hint=(f"did you mean {' or '.join(map(repr, close))}? " if close else "")
                    + f"the source's columns are: {', '.join(columns)}",
                )
    chosen: dict[str, MappedColumn] = {}
    for origin, how in ((explicit, "explicit"), (config, "config")):
        for key, col in origin.items():
            chosen.setdefault(key, MappedColumn(key, col, how))
    layout = detect_layout(columns) if spec is TRANSACTIONS else None
    used = {m.source for m in chosen.values()}
    if layout is not None:
        for key, col in layout.mapping.items():
            if key not in chosen and col not in used:
                chosen[key] = MappedColumn(key, col, "layout")
                used.add(col)
    remaining = [c for c in columns if c not in used]
    for key, col in _recognise(remaining, [f for f in fields if f not in chosen]).items():
        chosen[key] = MappedColumn(key, col, "recognised")
    if (
        spec is TRANSACTIONS
        and "amount" not in chosen
        and {"quantity", "unit_price"} <= set(chosen)
    ):
        expr = f"{chosen['quantity'].source} * {chosen['unit_price'].source}"
        chosen["amount"] = MappedColumn("amount", expr, "derived")
    if (
        spec is TRANSACTIONS
        and "order_id" not in chosen
        and {"customer_id", "timestamp"} <= set(chosen)
    ):
        expr = f"{chosen['customer_id'].source} + {chosen['timestamp'].source}"
        chosen["order_id"] = MappedColumn("order_id", expr, "derived")
    # a transactions source never lacks order_id alone: it is derived once customer and time are
    missing = [
        f
        for f in spec.required
        if f not in chosen and not (spec is TRANSACTIONS and f == "order_id")
    ]
    if missing:
        hint_pairs = ",".join(f"{m}=<column>" for m in missing)
        extra = (
            " (or map quantity and unit_price and amount is their product)"
            if "amount" in missing
            else ""
        )
        one_col = len(columns) == 1
        looks_like_data = any(re.fullmatch(r"[-+]?[\d.,:/ -]+", c.strip()) for c in columns)
        raise DataError(
            f"required column(s) {', '.join(missing)} not found; the source's columns are: "
            f"{', '.join(repr(c) for c in columns)}",
            source=source,
            column=missing[0],
            hint=(
                (
                    "the sheet seems to have a single column: is the table on another sheet "
                    "(--sheet) or below a block of notes? "
                    if source.lower().endswith((".xlsx", ".xlsm"))
                    else "the file seems to have a single column: is the delimiter right? "
                    "(try --delimiter ';', '\\t', or ' ' for runs of spaces); "
                )
                if one_col
                else ""
            )
            + (
                "the first line looks like data: the file needs a header line; "
                if looks_like_data and not one_col
                else ""
            )
            + f"name them with --columns {hint_pairs}{extra}",
        )
    order = {f: i for i, f in enumerate(fields)}
    return sorted(chosen.values(), key=lambda m: order[m.canonical]), layout
