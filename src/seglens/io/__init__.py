"""Loading transactions (and other tables) from files, databases and frames, with a cleaning report.

>>> from seglens.io import parse_column_mapping
>>> parse_column_mapping("customer_id=CustID,amount=Total")
{'customer_id': 'CustID', 'amount': 'Total'}
"""

from __future__ import annotations

from seglens.io.config import DEFAULT_NON_PRODUCT_CODES, IngestOptions, read_config
from seglens.io.load import load_transactions
from seglens.io.mapping import LAYOUTS, parse_column_mapping
from seglens.io.report import CleaningReport, LoadedTable, MappedColumn, RuleResult
from seglens.io.sources import DEFAULT_MAX_BYTES, open_source
from seglens.io.tables_load import load_table

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_NON_PRODUCT_CODES",
    "LAYOUTS",
    "CleaningReport",
    "IngestOptions",
    "LoadedTable",
    "MappedColumn",
    "RuleResult",
    "load_table",
    "load_transactions",
    "open_source",
    "parse_column_mapping",
    "read_config",
]
