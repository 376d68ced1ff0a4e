"""The ``seglens`` command line: thin commands over the library, one module per area.

Each module below registers its commands on :data:`seglens.cli._app.app` when imported.
"""

from __future__ import annotations

from seglens.cli import (  # noqa: F401  (imported for their command registrations)
    accuracy_cmd,
    audit_cmd,
    check_cmd,
    demo_cmd,
    features_cmd,
    impact_cmd,
    ingest_cmd,
    report_cmd,
    segment_cmd,
    store_cmd,
    web_cmd,
)
from seglens.cli._app import app

__all__ = ["app"]
