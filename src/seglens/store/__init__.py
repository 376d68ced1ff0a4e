"""The seglens store: a real database of imports, runs, labels, KPI history, alerts and audit.

Open it with :func:`open_store` (SQLite by default, PostgreSQL by URL); the schema is created or
upgraded on first use. See ``docs/store.md``.
"""

from __future__ import annotations

from seglens.store.core import Store, file_sha256, open_store, pseudonym
from seglens.store.engine import default_db_path, resolve_db_url, schema_url
from seglens.store.forget import ForgetResult, forget_customer
from seglens.store.labels import (
    POLICIES,
    LabelImportResult,
    Policy,
    RunBinding,
    add_label,
    current_labels,
    label_events,
    label_history,
    resolve_binding,
    store_labels,
)
from seglens.store.migrate import current_revision, head_revision, upgrade
from seglens.store.runs import (
    KpiRecord,
    acknowledge_alert,
    frame_sha256,
    kpi_table,
    list_alerts,
    list_audit,
    list_runs,
    record_alert,
    record_import,
    record_kpi,
    record_run,
    run_assignments,
    table_counts,
)

__all__ = [
    "POLICIES",
    "ForgetResult",
    "KpiRecord",
    "LabelImportResult",
    "Policy",
    "RunBinding",
    "Store",
    "acknowledge_alert",
    "add_label",
    "current_labels",
    "current_revision",
    "default_db_path",
    "file_sha256",
    "forget_customer",
    "frame_sha256",
    "head_revision",
    "kpi_table",
    "label_events",
    "label_history",
    "list_alerts",
    "list_audit",
    "list_runs",
    "open_store",
    "pseudonym",
    "record_alert",
    "record_import",
    "record_kpi",
    "record_run",
    "resolve_binding",
    "resolve_db_url",
    "run_assignments",
    "schema_url",
    "store_labels",
    "table_counts",
    "upgrade",
]
