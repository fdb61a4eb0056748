"""Uploads: a gemeente's own aggregates (one measure per upload) and their values per region and period.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the uploads and their values."""
    op.create_table(
        "uploads",
        sa.Column("upload_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("gemeente_code", sa.String(6), nullable=False, index=True),
        sa.Column("measure_key", sa.String(40), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("boundary_year", sa.Integer, nullable=False),
        sa.Column("attention_when", sa.String(4), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("n_values", sa.Integer, nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("gemeente_code", "measure_key", name="uq_uploads_measure"),
    )
    op.create_table(
        "upload_values",
        sa.Column(
            "upload_id",
            sa.Integer,
            sa.ForeignKey("uploads.upload_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("region_code", sa.String(12), primary_key=True),
        sa.Column("period", sa.String(20), primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
    )


def downgrade() -> None:
    """Drop the uploads."""
    op.drop_table("upload_values")
    op.drop_table("uploads")
