"""English codes in storage: roles ``reader/analyst/admin`` and ``attention_when`` ``high/low``.

Version 0.3 stored the Dutch words (``lezer/analist/beheerder``, ``hoog/laag``); people still type
and read those (:mod:`wijkradar.texts`), the store keeps the codes.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ROLES = {"lezer": "reader", "analist": "analyst", "beheerder": "admin"}
ATTENTION = {"hoog": "high", "laag": "low"}


def _recode(table: str, column: str, codes: dict[str, str]) -> None:
    rows = sa.table(table, sa.column(column, sa.String))
    for old, new in codes.items():
        op.execute(rows.update().where(rows.c[column] == old).values({column: new}))


def upgrade() -> None:
    """Store the English codes."""
    _recode("memberships", "role", ROLES)
    _recode("uploads", "attention_when", ATTENTION)


def downgrade() -> None:
    """Store the Dutch words again."""
    _recode("memberships", "role", {new: old for old, new in ROLES.items()})
    _recode("uploads", "attention_when", {new: old for old, new in ATTENTION.items()})
