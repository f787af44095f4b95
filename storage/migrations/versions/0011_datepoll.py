"""datepoll: Terminumfragen (issue 15): the poll, its dates, answers per date and person,
and where its summary was posted

Written from the models (storage/datepoll/models.py) by autogenerate, checked by hand.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 07:27:37.205936
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "date_poll",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("short_id", sa.String(length=8), nullable=False),
        sa.Column("ag_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("picked_position", sa.Integer(), nullable=True),
        sa.Column(
            "meeting_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "occurrence_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ag_id"], ["ag.id"], name=op.f("fk_date_poll_ag_id_ag"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["person.id"],
            name=op.f("fk_date_poll_created_by_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_date_poll_meeting_id_meeting"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["occurrence_id"],
            ["meeting_occurrence.id"],
            name=op.f("fk_date_poll_occurrence_id_meeting_occurrence"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_date_poll")),
        sa.UniqueConstraint("short_id", name=op.f("uq_date_poll_short_id")),
    )
    with op.batch_alter_table("date_poll", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_date_poll_ag_id"), ["ag_id"], unique=False)

    op.create_table(
        "date_poll_answer",
        sa.Column("poll_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("answer", sa.String(length=8), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_date_poll_answer_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["date_poll.id"],
            name=op.f("fk_date_poll_answer_poll_id_date_poll"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "poll_id", "position", "person_id", name=op.f("pk_date_poll_answer")
        ),
    )
    with op.batch_alter_table("date_poll_answer", schema=None) as batch_op:
        batch_op.create_index("ix_date_poll_answer_person", ["person_id"], unique=False)

    op.create_table(
        "date_poll_message",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("poll_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["date_poll.id"],
            name=op.f("fk_date_poll_message_poll_id_date_poll"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_date_poll_message")),
        sa.UniqueConstraint(
            "poll_id", "platform", "chat_id", name=op.f("uq_date_poll_message_poll_id")
        ),
    )
    op.create_table(
        "date_poll_option",
        sa.Column("poll_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["date_poll.id"],
            name=op.f("fk_date_poll_option_poll_id_date_poll"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("poll_id", "position", name=op.f("pk_date_poll_option")),
    )


def downgrade() -> None:

    op.drop_table("date_poll_option")
    op.drop_table("date_poll_message")
    with op.batch_alter_table("date_poll_answer", schema=None) as batch_op:
        batch_op.drop_index("ix_date_poll_answer_person")

    op.drop_table("date_poll_answer")
    with op.batch_alter_table("date_poll", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_date_poll_ag_id"))

    op.drop_table("date_poll")
