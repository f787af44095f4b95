"""connect: one-time codes that link two accounts of one person

Only a keyed hash of each code is stored, with its account, expiry and whether it was used.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 04:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "connect_code",
        sa.Column("id", _ID, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_connect_code_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_connect_code_code_hash")),
    )
    with op.batch_alter_table("connect_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connect_code_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("connect_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_code_account_id"))
    op.drop_table("connect_code")
