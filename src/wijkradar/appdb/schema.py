"""The operational store's tables (SQLAlchemy Core): what users change, as opposed to the warehouse.

Users and their roles per gemeente, server-side sessions, login attempts, a gemeente's goals and
interventions, its uploads and the audit log. The same tables on SQLite and PostgreSQL; Alembic
migrations (``migrations/versions``) create and change them.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

ROLES: Final = ("reader", "analyst", "admin")  # who sees, who edits, who manages users (texts.ROLE_NL)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password", String(200), nullable=False),
    Column("national_admin", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", Integer, ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True),
    Column("gemeente_code", String(6), primary_key=True),
    Column("role", String(10), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),  # sha256 of the cookie's token
    Column("user_id", Integer, ForeignKey("users.user_id", ondelete="CASCADE"), nullable=False),
    Column("form_token", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("attempt_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", DateTime, nullable=False, index=True),
    Column("success", Boolean, nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

goals = Table(
    "goals",
    metadata,
    Column("goal_id", Integer, primary_key=True, autoincrement=True),
    Column("gemeente_code", String(6), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("measure_id", String(100), nullable=False),
    Column("population_group", String(40), nullable=False),
    Column("area_name", String(200), nullable=False),
    Column("area_codes", JSON, nullable=False),
    Column("baseline_period", String(20), nullable=False),
    Column("baseline_value", Float, nullable=False),
    Column("target_value", Float, nullable=False),
    Column("target_year", Integer, nullable=False),
    Column("direction", String(4), nullable=False),
    Column("owner", String(200), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
)

interventions = Table(
    "interventions",
    metadata,
    Column("intervention_id", Integer, primary_key=True, autoincrement=True),
    Column("gemeente_code", String(6), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("theme", String(40), nullable=False, default=""),
    Column("area_codes", JSON, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=True),
    Column("budget", Float, nullable=True),
    Column("partners", String(500), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("goal_ids", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("entry_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("user_name", String(64), nullable=False),
    Column("gemeente_code", String(6), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("object", String(200), nullable=False),
    Column("detail", String(500), nullable=False, default=""),
)

uploads = Table(
    "uploads",
    metadata,
    Column("upload_id", Integer, primary_key=True, autoincrement=True),
    Column("gemeente_code", String(6), nullable=False, index=True),
    Column("measure_key", String(40), nullable=False),  # theme and measure "own-<key>"
    Column("label", String(200), nullable=False),
    Column("unit", String(20), nullable=False, default=""),
    Column("level", String(10), nullable=False),
    Column("boundary_year", Integer, nullable=False),
    Column("attention_when", String(4), nullable=False, default="high"),
    Column("file_name", String(200), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("n_values", Integer, nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", DateTime, nullable=False),
    UniqueConstraint("gemeente_code", "measure_key", name="uq_uploads_measure"),
)

upload_values = Table(
    "upload_values",
    metadata,
    Column("upload_id", Integer, ForeignKey("uploads.upload_id", ondelete="CASCADE"), primary_key=True),
    Column("region_code", String(12), primary_key=True),
    Column("period", String(20), primary_key=True),
    Column("value", Float, nullable=False),
)
