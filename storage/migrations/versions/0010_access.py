"""access: the way into an AG's chats (invite links, what happens to strangers' join
requests, whether /leave removes), rights the bot lacks per chat, alliance-wide settings

Written by hand. Existing AGs leave strangers' join requests to the chat's admins and do
not remove anyone on /leave; chats have no invite link until one is needed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 05:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("ag", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("leave_removes", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("strangers", sa.String(length=16), server_default="admins", nullable=False)
        )
    with op.batch_alter_table("chat", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invite_link", sa.String(length=255), nullable=True))
    op.create_table(
        "chat_problem",
        sa.Column("chat_id", _ID, nullable=False),
        sa.Column("right", sa.String(length=32), nullable=False),
        sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chat.id"], name=op.f("fk_chat_problem_chat_id_chat"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("chat_id", "right", name=op.f("pk_chat_problem")),
    )
    op.create_table(
        "bot_setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=1024), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_bot_setting")),
    )


def downgrade() -> None:
    op.drop_table("bot_setting")
    op.drop_table("chat_problem")
    with op.batch_alter_table("chat", schema=None) as batch_op:
        batch_op.drop_column("invite_link")
    with op.batch_alter_table("ag", schema=None) as batch_op:
        batch_op.drop_column("strangers")
        batch_op.drop_column("leave_removes")
