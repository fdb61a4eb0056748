"""Users with roles per gemeente, sessions, login attempts, goals, interventions, audit log.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tables of version 1."""
    op.create_table(
        "users",
        sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("password", sa.String(200), nullable=False),
        sa.Column("national_admin", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("gemeente_code", sa.String(6), primary_key=True),
        sa.Column("role", sa.String(10), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False),
        sa.Column("form_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "login_attempts",
        sa.Column("attempt_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
        sa.Column("success", sa.Boolean, nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "goals",
        sa.Column("goal_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("gemeente_code", sa.String(6), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("measure_id", sa.String(100), nullable=False),
        sa.Column("population_group", sa.String(40), nullable=False),
        sa.Column("area_name", sa.String(200), nullable=False),
        sa.Column("area_codes", sa.JSON, nullable=False),
        sa.Column("baseline_period", sa.String(20), nullable=False),
        sa.Column("baseline_value", sa.Float, nullable=False),
        sa.Column("target_value", sa.Float, nullable=False),
        sa.Column("target_year", sa.Integer, nullable=False),
        sa.Column("direction", sa.String(4), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "interventions",
        sa.Column("intervention_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("gemeente_code", sa.String(6), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("theme", sa.String(40), nullable=False),
        sa.Column("area_codes", sa.JSON, nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("budget", sa.Float, nullable=True),
        sa.Column("partners", sa.String(500), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("goal_ids", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column(
            "entry_id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("gemeente_code", sa.String(6), nullable=False, index=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("object", sa.String(200), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
    )


def downgrade() -> None:
    """Drop every table of version 1."""
    for table in (
        "audit_log",
        "interventions",
        "goals",
        "settings",
        "login_attempts",
        "sessions",
        "memberships",
    ):
        op.drop_table(table)
    op.drop_table("users")
