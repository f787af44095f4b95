"""welcome: the per-chat welcome setting and who was greeted (as keyed hashes)

Written by hand. Both tables belong to a chat and go with it (ON DELETE CASCADE).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "welcome_setting",
        sa.Column("chat_id", _ID, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chat.id"],
            name=op.f("fk_welcome_setting_chat_id_chat"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_welcome_setting")),
    )
    op.create_table(
        "welcome_seen",
        sa.Column("chat_id", _ID, nullable=False),
        sa.Column("who", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chat.id"], name=op.f("fk_welcome_seen_chat_id_chat"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("chat_id", "who", name=op.f("pk_welcome_seen")),
    )
    with op.batch_alter_table("welcome_seen", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_welcome_seen_who"), ["who"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("welcome_seen", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_welcome_seen_who"))
    op.drop_table("welcome_seen")
    op.drop_table("welcome_setting")
