"""The cleaning report and the loaded-table result.

Every cleaning rule says what it did and to how many rows. The report's
:meth:`CleaningReport.to_dict` form is the stable JSON schema documented in
``docs/ingestion.md`` (``schema_version`` 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

import polars as pl

from seglens import _html

__all__ = ["REPORT_SCHEMA_VERSION", "CleaningReport", "LoadedTable", "MappedColumn", "RuleResult"]

REPORT_SCHEMA_VERSION: Final = 1

Action = Literal["excluded", "flagged", "fixed", "warned", "kept", "not_applied"]


@dataclass(frozen=True)
class RuleResult:
    """What one cleaning rule found and did.

    Parameters
    ----------
    rule
        Stable rule id, e.g. ``"missing_customer_id"`` (the full list is in ``docs/ingestion.md``).
    action
        ``excluded`` (rows removed), ``flagged`` (rows kept and marked, e.g. ``is_return``),
        ``fixed`` (values rewritten), ``warned`` (nothing changed, worth knowing), ``kept``
        (matched but deliberately kept) or ``not_applied`` (the rule had nothing to work on).
    rows
        Rows of the input that match the rule, counted independently of the other rules.
    rows_excluded
        Rows this rule removed that no earlier rule had already removed; these add up to
        ``rows_read - rows_kept``.
    description
        One sentence: what the rule checks and what it did.
    examples
        Up to five matching rows: ``{"line": int, "column": str, "value": str}``.
    """

    rule: str
    action: Action
    rows: int
    description: str
    rows_excluded: int = 0
    examples: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (keys: rule, action, rows, rows_excluded, description, examples)."""
        return {
            "rule": self.rule,
            "action": self.action,
            "rows": self.rows,
            "rows_excluded": self.rows_excluded,
            "description": self.description,
            "examples": [dict(e) for e in self.examples],
        }


@dataclass(frozen=True)
class MappedColumn:
    """Where one canonical column came from.

    ``source`` is the source column name (or an expression such as ``Quantity * UnitPrice``);
    ``how`` is ``explicit`` (``--columns``), ``config`` (TOML file), ``layout`` (a recognised
    layout), ``recognised`` (a known column-name synonym), ``derived`` (computed) or ``default``.
    """

    canonical: str
    source: str
    how: str


@dataclass
class CleaningReport:
    """What loading and cleaning did to one source.

    Examples
    --------
    >>> import polars as pl
    >>> from seglens.io import load_transactions
    >>> frame = pl.DataFrame({
    ...     "CustID": ["007", None], "Invoice": ["1", "2"],
    ...     "Date": ["2024-01-05", "2024-01-06"], "Total": ["9.50", "3"]})
    >>> loaded = load_transactions(frame, columns="customer_id=CustID,order_id=Invoice,"
    ...                            "timestamp=Date,amount=Total")
    >>> loaded.report.rows_read, loaded.report.rows_kept
    (2, 1)
    >>> loaded.report.rule("missing_customer_id").rows
    1
    """

    source: str
    table: str
    format: str
    rows_read: int = 0
    rows_kept: int = 0
    customers_read: int | None = None
    customers_kept: int | None = None
    columns_read: list[str] = field(default_factory=list)
    mapping: list[MappedColumn] = field(default_factory=list)
    layout: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    rules: list[RuleResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_excluded(self) -> int:
        """Rows read but not kept."""
        return self.rows_read - self.rows_kept

    def rule(self, rule_id: str) -> RuleResult:
        """The result of one rule by id (``KeyError`` if that rule did not run)."""
        for r in self.rules:
            if r.rule == rule_id:
                return r
        raise KeyError(rule_id)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON-able form; keys are documented in ``docs/ingestion.md``."""
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "source": self.source,
            "table": self.table,
            "format": self.format,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_excluded": self.rows_excluded,
            "customers_read": self.customers_read,
            "customers_kept": self.customers_kept,
            "columns_read": list(self.columns_read),
            "layout": self.layout,
            "mapping": {m.canonical: {"source": m.source, "how": m.how} for m in self.mapping},
            "details": dict(self.details),
            "rules": [r.to_dict() for r in self.rules],
            "warnings": list(self.warnings),
        }


@dataclass
class LoadedTable:
    """A canonical table plus how it was obtained.

    Attributes
    ----------
    table
        The canonical table (columns and dtypes of :mod:`seglens.tables`).
    report
        The cleaning report.
    mapping
        Canonical column -> source column (or derivation such as ``Quantity * UnitPrice``).
    source
        A printable name of the source (path, URL without password, or ``<polars DataFrame>``).
    lines
        The source line (or sheet row) number of each kept row, in table order, so that later
        checks can point at the row as it is in the file; None where the loader does not keep
        them.
    """

    table: pl.DataFrame
    report: CleaningReport
    mapping: dict[str, str]
    source: str
    lines: pl.Series | None = None

    def _repr_html_(self) -> str:
        """Notebook view: rows kept of read, the source, the rules that matched, the first rows."""
        rep = self.report
        matched = [r for r in rep.rules if r.rows]
        rules = _html.table(
            ["rule", "action", "rows", "excluded"],
            [(r.rule, r.action, r.rows, r.rows_excluded) for r in matched],
            total=len(matched),
        )
        facts = [
            ("n", f"{self.table.height:,} rows kept of {rep.rows_read:,} read"),
            ("excluded", rep.rows_excluded),
            ("customers", rep.customers_kept),
            ("source", self.source),
        ]
        body = (rules if matched else "") + _html.frame_table(self.table)
        return _html.card(f"LoadedTable ({rep.table})", facts, body)
