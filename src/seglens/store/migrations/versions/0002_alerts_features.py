"""Alerts, per-run customer features, and the period kind of each KPI measurement.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``alerts`` and ``customer_features``; measurements gain ``period_kind``."""
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(50), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("period", sa.String(20), nullable=True),
        sa.Column("metric", sa.String(100), nullable=True),
        sa.Column("segment", sa.String(200), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_alerts_run_id_runs", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_table(
        "customer_features",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_customer_features_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "customer_id", name="pk_customer_features"),
    )
    op.create_index("ix_customer_features_customer_id", "customer_features", ["customer_id"])
    with op.batch_alter_table("kpi_measurements") as batch:
        batch.add_column(
            sa.Column("period_kind", sa.String(10), nullable=False, server_default="quarter")
        )


def downgrade() -> None:
    """Back to revision 0001."""
    with op.batch_alter_table("kpi_measurements") as batch:
        batch.drop_column("period_kind")
    op.drop_index("ix_customer_features_customer_id", "customer_features")
    op.drop_table("customer_features")
    op.drop_table("alerts")
