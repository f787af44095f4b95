"""notices: private notices about polls and Terminumfragen (nudges, everyone answered, the
deadline passed, the picked date), one row per notice and person; `ag.nudge_minutes`

Written by hand after the models (storage/notices/models.py, storage/models.py Ag), checked
by the test that compares migrations and models.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("ag", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nudge_minutes", sa.Integer(), nullable=True))

    op.create_table(
        "notice",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_notice_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
        sa.UniqueConstraint("kind", "subject", "person_id", name=op.f("uq_notice_kind")),
    )
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_subject"), ["subject"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_person_id"))
        batch_op.drop_index(batch_op.f("ix_notice_subject"))
    op.drop_table("notice")
    with op.batch_alter_table("ag", schema=None) as batch_op:
        batch_op.drop_column("nudge_minutes")
