"""join policy: an AG takes members at once ("open") or on request; pending requests

Written by hand. Existing AGs stay open. A request belongs to its person and its AG and
goes with either (ON DELETE CASCADE).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("ag", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("join_policy", sa.String(length=16), server_default="open", nullable=False)
        )
    op.create_table(
        "join_request",
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("ag_id", _ID, nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_join_request_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ag_id"], ["ag.id"], name=op.f("fk_join_request_ag_id_ag"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", "ag_id", name=op.f("pk_join_request")),
    )
    with op.batch_alter_table("join_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_join_request_ag_id"), ["ag_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("join_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_join_request_ag_id"))
    op.drop_table("join_request")
    with op.batch_alter_table("ag", schema=None) as batch_op:
        batch_op.drop_column("join_policy")
