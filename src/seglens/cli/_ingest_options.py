"""The ingest options, defined once for every command that reads transactions.

``seglens ingest``, ``features``, ``track``, ``clv``, ``economics``, ``forecast`` and
``discover`` all load transactions through :func:`seglens.io.load_transactions`; each takes the
same options with the same names and help, added by :func:`with_ingest_options`::

    @app.command()
    @with_ingest_options()
    def clv(transactions: Path, ..., ingest_args: IngestArgs) -> None:
        loaded = ingest_args.load(transactions, as_of=end)

The command's own ``--as-of`` (its meaning differs per command) goes to :meth:`IngestArgs.load`.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from seglens.errors import UsageError
from seglens.io.sources import DEFAULT_MAX_BYTES

if TYPE_CHECKING:
    import datetime as dt

    from seglens.io import LoadedTable

__all__ = ["IngestArgs", "parse_size", "with_ingest_options"]

_F = TypeVar("_F", bound=Callable[..., Any])
_DEFAULT_MAX_SIZE = f"{DEFAULT_MAX_BYTES // 10**6}MB"


_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def parse_size(text: str) -> int | None:
    """``"2GB"`` -> 2_000_000_000; ``"none"``/``"0"`` -> no limit."""
    t = text.strip().lower().replace(" ", "")
    if t in {"none", "0", "off", "unlimited"}:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]*)", t)
    if not m or m.group(2) not in _UNITS:
        raise UsageError(f"cannot read the size {text!r}", hint="write e.g. 500MB, 2GB or none")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


@dataclass(frozen=True)
class IngestArgs:
    """The ingest options as given on the command line (``None``: not given, the default)."""

    columns: str | None = None
    ingest_config: Path | None = None
    sheet: str | None = None
    table: str | None = None
    query: str | None = None
    date_format: str | None = None
    decimal: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    non_product_codes: str | None = None
    keep_duplicates: bool | None = None
    keep_zero_price: bool | None = None
    max_size: str = _DEFAULT_MAX_SIZE

    def given(self) -> list[str]:
        """The options given on the command line, as their flags (for refusals)."""
        return [
            _FLAGS[f.name]
            for f in fields(self)
            if getattr(self, f.name) != f.default and f.name != "columns"
        ]

    def keywords(self) -> dict[str, Any]:
        """The keyword arguments of :func:`seglens.io.load_transactions` these options mean."""
        codes = self.non_product_codes
        return {
            "columns": self.columns,
            "config": self.ingest_config,
            "sheet": self.sheet,
            "table": self.table,
            "query": self.query,
            "date_format": self.date_format,
            "decimal": self.decimal,
            "delimiter": self.delimiter.replace("\\t", "\t") if self.delimiter else None,
            "encoding": self.encoding,
            "non_product_codes": [c.strip() for c in codes.split(",")] if codes else None,
            "drop_duplicates": None if self.keep_duplicates is None else not self.keep_duplicates,
            "drop_zero_price": None if self.keep_zero_price is None else not self.keep_zero_price,
            "max_bytes": parse_size(self.max_size),
        }

    def load(
        self, source: str | os.PathLike[str], *, as_of: str | dt.date | None = None
    ) -> LoadedTable:
        """Load ``source`` with these options (and the command's ``as_of``, if any)."""
        from seglens.io import load_transactions

        return load_transactions(str(source), as_of=as_of, **self.keywords())

    def refuse(self, why: str, *, hint: str) -> None:
        """Stop when any loader option was given to a path that does not load (``why``)."""
        given = self.given()
        if given:
            raise UsageError(f"{', '.join(given)}: {why}", hint=hint)


_HELP = "Reading the transactions"
_FLAGS: dict[str, str] = {
    "columns": "--columns",
    "ingest_config": "--ingest-config",
    "sheet": "--sheet",
    "table": "--table",
    "query": "--query",
    "date_format": "--date-format",
    "decimal": "--decimal",
    "delimiter": "--delimiter",
    "encoding": "--encoding",
    "non_product_codes": "--non-product-codes",
    "keep_duplicates": "--keep-duplicates/--drop-duplicates",
    "keep_zero_price": "--keep-zero-price/--drop-zero-price",
    "max_size": "--max-size",
}


def _annotations(config_alias: bool) -> dict[str, Any]:
    """Each option's Typer annotation (one definition: ingest and every other command)."""

    def opt(*decls: str, help: str) -> Any:
        return typer.Option(*decls, help=help, rich_help_panel=_HELP)

    text = str | None
    return {
        "columns": Annotated[
            text,
            opt(
                "--columns",
                help="canonical=source pairs, e.g. customer_id=CustID,timestamp=OrderDate",
            ),
        ],
        "ingest_config": Annotated[
            Path | None,
            # a bracket in help text is Rich markup: escaped, so that it reads [columns]
            opt(
                *(("--config", "--ingest-config") if config_alias else ("--ingest-config",)),
                help="TOML file with \\[columns] and \\[ingest] tables (docs/ingestion.md)",
            ),
        ],
        "sheet": Annotated[
            text, opt("--sheet", help="Excel sheet name or 0-based index; '*' reads all sheets")
        ],
        "table": Annotated[text, opt("--table", help="database table to read")],
        "query": Annotated[text, opt("--query", help="SQL query to read")],
        "date_format": Annotated[
            text,
            opt(
                "--date-format",
                help="strftime format of the dates, e.g. %d/%m/%Y (default: detected; two-digit "
                "years %y read 00-69 as 20xx, 70-99 as 19xx)",
            ),
        ],
        "decimal": Annotated[
            text,
            opt(
                "--decimal",
                help="decimal separator of numbers, . (1,234.56) or , (1.234,56); default: "
                "decided per column from its values",
            ),
        ],
        "delimiter": Annotated[
            text, opt("--delimiter", help="field delimiter of text files (default: sniffed)")
        ],
        "encoding": Annotated[
            text,
            opt(
                "--encoding",
                help="text encoding, e.g. utf-8, cp1252, shift_jis (default: detected; "
                "UTF-8/16/32, Windows-1252, and East-Asian or Cyrillic encodings on clear "
                "evidence)",
            ),
        ],
        "non_product_codes": Annotated[
            text,
            opt("--non-product-codes", help="comma-separated product codes that are not products"),
        ],
        "keep_duplicates": Annotated[
            bool | None,
            opt(
                "--keep-duplicates/--drop-duplicates",
                help="keep or exclude exact duplicate lines (default: excluded, but kept in a "
                "canonical seglens table or a file without order ids)",
            ),
        ],
        "keep_zero_price": Annotated[
            bool | None,
            opt(
                "--keep-zero-price/--drop-zero-price",
                help="keep or exclude zero-value lines (default: kept and counted: a "
                "zero-value order is a purchase occasion, as in lifetimes)",
            ),
        ],
        "max_size": Annotated[
            str, opt("--max-size", help="refuse larger files (e.g. 500MB, 5GB, none)")
        ],
    }


def with_ingest_options(*, config_alias: bool = True) -> Callable[[_F], _F]:
    """Add the ingest options to a command with an ``ingest_args: IngestArgs`` parameter.

    ``config_alias``: also accept ``--config`` for ``--ingest-config`` (not on commands whose
    ``--config`` is another file, such as ``track``'s tracking settings).
    """

    def decorate(func: _F) -> _F:
        signature = inspect.signature(func, eval_str=True)
        if "ingest_args" not in signature.parameters:
            raise TypeError(f"{func.__name__} needs an ingest_args: IngestArgs parameter")
        kept = [p for p in signature.parameters.values() if p.name != "ingest_args"]
        defaults = IngestArgs()
        added = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=getattr(defaults, name),
                annotation=annotation,
            )
            for name, annotation in _annotations(config_alias).items()
        ]

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in _FLAGS if name in kwargs}
            return func(*args, ingest_args=IngestArgs(**values), **kwargs)

        params = [*kept, *added]
        command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command  # type: ignore[return-value]

    return decorate
