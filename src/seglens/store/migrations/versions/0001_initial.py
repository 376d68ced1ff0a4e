"""Initial schema: imports, runs, assignments, labels, KPI measurements, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the first version of the store."""
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_loaded", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_imports"),
        sa.UniqueConstraint("kind", "file_hash", name="uq_imports_kind_file_hash"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segmenter", sa.String(200), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("data_hash", sa.String(64), nullable=False),
        sa.Column("seglens_version", sa.String(50), nullable=False),
        sa.Column("n_customers", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_as_of", "runs", ["as_of"])
    op.create_table(
        "assignments",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("segment", sa.String(200), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_assignments_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "customer_id", name="pk_assignments"),
    )
    op.create_index("ix_assignments_customer_id", "assignments", ["customer_id"])
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("segment", sa.String(200), nullable=False),
        sa.Column("labeled_by", sa.String(200), nullable=True),
        sa.Column("labeled_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name="fk_labels_import_id_imports", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_labels"),
        sa.UniqueConstraint("fingerprint", name="uq_labels_fingerprint"),
    )
    op.create_index("ix_labels_customer_id", "labels", ["customer_id"])
    op.create_index("ix_labels_import_id", "labels", ["import_id"])
    op.create_table(
        "kpi_measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("metric", sa.String(100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_kpi_measurements_run_id_runs", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_kpi_measurements"),
    )
    op.create_index("ix_kpi_measurements_metric_period", "kpi_measurements", ["metric", "period"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])


def downgrade() -> None:
    """Drop everything revision 0001 created."""
    for table in ("audit_log", "kpi_measurements", "labels", "assignments", "runs", "imports"):
        op.drop_table(table)
