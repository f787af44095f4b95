"""connect_confirm: a code is confirmed by the account that typed it; what each side of a
link brought, so that /disconnect can give it back; wrong codes an account typed

Written by hand. `connect_code.claimed_by` is the account that was shown what a link would
do (only it may confirm); `connect_share` and `connect_miss` rows belong to an account and
go with it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("connect_code", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", _ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_connect_code_claimed_by_account"),
            "account",
            ["claimed_by"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "connect_share",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ag_id", _ID, nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_connect_share_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ag_id"], ["ag.id"], name=op.f("fk_connect_share_ag_id_ag"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_share")),
    )
    with op.batch_alter_table("connect_share", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connect_share_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "connect_miss",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_connect_miss_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_miss")),
    )
    with op.batch_alter_table("connect_miss", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connect_miss_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("connect_miss", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_miss_account_id"))
    op.drop_table("connect_miss")
    with op.batch_alter_table("connect_share", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_share_account_id"))
    op.drop_table("connect_share")
    with op.batch_alter_table("connect_code", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_connect_code_claimed_by_account"), type_="foreignkey"
        )
        batch_op.drop_column("claimed_by")
