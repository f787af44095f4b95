"""cluster: several bot processes on one database (issue 17): lease columns on every row
that is sent once (`reminder`, `reminder_delivery`, `notice`, `poll_message`), and the
tables `bot_state`, `rate_bucket`, `outbox_message`

Written by hand after the models (storage/leases.py, storage/cluster/models.py), checked by
the test that compares migrations and models.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_LEASED = ("reminder", "reminder_delivery", "notice", "poll_message")


def _lease_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    for table in _LEASED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in _lease_columns():
                batch_op.add_column(column)

    op.create_table(
        "bot_state",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_bot_state")),
    )
    op.create_table(
        "rate_bucket",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_bucket")),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", _ID, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("send_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        *_lease_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("send_key", name=op.f("uq_outbox_message_send_key")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_message_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_status"))
    op.drop_table("outbox_message")
    op.drop_table("rate_bucket")
    op.drop_table("bot_state")
    for table in reversed(_LEASED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("lease_until")
            batch_op.drop_column("lease_owner")
