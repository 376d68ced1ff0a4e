"""CRM export: segments to HubSpot, Salesforce, CSV, Parquet or a database table."""

from __future__ import annotations

from seglens.export.crm import (
    FORMATS,
    ExportResult,
    escape_formula,
    export_segments,
    pseudonymize,
    read_export,
    unescape_formula,
)

__all__ = [
    "FORMATS",
    "ExportResult",
    "escape_formula",
    "export_segments",
    "pseudonymize",
    "read_export",
    "unescape_formula",
]
