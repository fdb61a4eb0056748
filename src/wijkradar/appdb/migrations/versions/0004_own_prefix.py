"""An upload's measure is ``own-<key>`` in goals, not ``eigen-<key>`` (English codes in storage).

Goals on a gemeente's own uploads stored the measure id with the Dutch prefix up to 0.3; the site
still reads an old link's ``eigen-<key>`` as ``own-<key>`` (:func:`wijkradar.renamed.upload_code`).

Revision ID: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _reprefix(old: str, new: str) -> None:
    goals = sa.table("goals", sa.column("measure_id", sa.String))
    op.execute(
        goals.update()
        .where(goals.c.measure_id.startswith(old, autoescape=True))
        .values(measure_id=new + sa.func.substr(goals.c.measure_id, len(old) + 1))
    )


def upgrade() -> None:
    """Store the English prefix."""
    _reprefix("eigen-", "own-")


def downgrade() -> None:
    """Store the Dutch prefix again."""
    _reprefix("own-", "eigen-")
