"""Labels bound to the run they judged (and their purpose: KPI evidence or teaching); stored
audit designs; stored comparisons; resolved alerts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

Existing labels are bound to the run that was current when they were recorded: the run with the
latest as-of date among those created at or before the label's ``recorded_at``, and
``judged_segment`` is that run's segment for the customer. Labels recorded before any run stay
unbound (``run_id`` null); the carry-forward policy counts them as expired.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the label binding, ``audit_designs``/``audit_members`` and the comparison columns."""
    op.create_table(
        "audit_designs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("strata", sa.JSON(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("allocation", sa.String(20), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("margin_pts", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_audit_designs_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_designs"),
    )
    op.create_index("ix_audit_designs_run_id", "audit_designs", ["run_id"])
    op.create_table(
        "audit_members",
        sa.Column("design_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("stratum", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["design_id"],
            ["audit_designs.id"],
            name="fk_audit_members_design_id_audit_designs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("design_id", "customer_id", name="pk_audit_members"),
    )
    op.create_index("ix_audit_members_customer_id", "audit_members", ["customer_id"])
    with op.batch_alter_table("labels") as batch:
        batch.add_column(sa.Column("run_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("judged_segment", sa.String(200), nullable=True))
        batch.add_column(sa.Column("purpose", sa.String(10), nullable=False, server_default="kpi"))
        batch.create_foreign_key(
            "fk_labels_run_id_runs", "runs", ["run_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_labels_run_id", ["run_id"])
    op.execute(
        """
        UPDATE labels SET run_id = (
            SELECT r.id FROM runs r WHERE r.created_at <= labels.recorded_at
            ORDER BY r.as_of DESC, r.id DESC LIMIT 1
        )
        """
    )
    op.execute(
        """
        UPDATE labels SET judged_segment = (
            SELECT a.segment FROM assignments a
            WHERE a.run_id = labels.run_id AND a.customer_id = labels.customer_id
        ) WHERE run_id IS NOT NULL
        """
    )
    with op.batch_alter_table("kpi_measurements") as batch:
        batch.add_column(sa.Column("se", sa.Float(), nullable=True))
        batch.add_column(sa.Column("design_id", sa.Integer(), nullable=True))
        for name in ("n_fresh", "n_carried", "n_expired", "compared_to_id", "n_paired"):
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
        for name in ("change_pts", "change_se", "change_ci_low", "change_ci_high"):
            batch.add_column(sa.Column(name, sa.Float(), nullable=True))
        batch.add_column(sa.Column("change_p_value", sa.Float(), nullable=True))
        batch.add_column(sa.Column("significant_drop", sa.Boolean(), nullable=True))
        batch.create_foreign_key(
            "fk_kpi_measurements_design_id_audit_designs",
            "audit_designs",
            ["design_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Back to revision 0003 (the binding, designs and comparisons are dropped)."""
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("resolved_at")
    with op.batch_alter_table("kpi_measurements") as batch:
        batch.drop_constraint("fk_kpi_measurements_design_id_audit_designs", type_="foreignkey")
        for name in (
            "se",
            "design_id",
            "n_fresh",
            "n_carried",
            "n_expired",
            "compared_to_id",
            "n_paired",
            "change_pts",
            "change_se",
            "change_ci_low",
            "change_ci_high",
            "change_p_value",
            "significant_drop",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("labels") as batch:
        batch.drop_index("ix_labels_run_id")
        batch.drop_constraint("fk_labels_run_id_runs", type_="foreignkey")
        batch.drop_column("purpose")
        batch.drop_column("judged_segment")
        batch.drop_column("run_id")
    op.drop_table("audit_members")
    op.drop_table("audit_designs")
