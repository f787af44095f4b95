"""polls: poll, options, posted messages, ballots and choices, survey runs

Reviewed by hand after autogenerate. Works on SQLite (batch mode for the indexes) and
PostgreSQL; every constraint is named so a later migration can address it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 03:41:02.357515
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "poll",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("short_id", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ag_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("multi", sa.Boolean(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("survey_key", sa.String(length=64), nullable=True),
        sa.Column("standing_key", sa.String(length=64), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ag_id"], ["ag.id"], name=op.f("fk_poll_ag_id_ag"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["person.id"],
            name=op.f("fk_poll_created_by_person"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll")),
        sa.UniqueConstraint("short_id", name=op.f("uq_poll_short_id")),
        sa.UniqueConstraint("standing_key", name=op.f("uq_poll_standing_key")),
    )
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_ag_id"), ["ag_id"], unique=False)

    op.create_table(
        "survey_run",
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_survey_run_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_survey_run")),
    )
    op.create_table(
        "poll_ballot",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("poll_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "person_id IS NULL OR token IS NULL", name=op.f("ck_poll_ballot_one_identity")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_poll_ballot_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll.id"], name=op.f("fk_poll_ballot_poll_id_poll"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_ballot")),
        sa.UniqueConstraint("poll_id", "person_id", name="uq_poll_ballot_person"),
        sa.UniqueConstraint("poll_id", "token", name="uq_poll_ballot_token"),
    )
    with op.batch_alter_table("poll_ballot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_ballot_person_id"), ["person_id"], unique=False)

    op.create_table(
        "poll_message",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("poll_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("native_id", sa.String(length=255), nullable=True),
        sa.Column("native_voters", sa.Integer(), nullable=True),
        sa.Column("network_closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll.id"], name=op.f("fk_poll_message_poll_id_poll"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_message")),
        sa.UniqueConstraint("platform", "native_id", name=op.f("uq_poll_message_platform")),
        sa.UniqueConstraint("poll_id", "platform", "chat_id", name=op.f("uq_poll_message_poll_id")),
    )
    op.create_table(
        "poll_option",
        sa.Column("poll_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll.id"], name=op.f("fk_poll_option_poll_id_poll"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("poll_id", "position", name=op.f("pk_poll_option")),
    )
    op.create_table(
        "poll_choice",
        sa.Column(
            "ballot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["poll_ballot.id"],
            name=op.f("fk_poll_choice_ballot_id_poll_ballot"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll.id"], name=op.f("fk_poll_choice_poll_id_poll"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ballot_id", "position", name=op.f("pk_poll_choice")),
    )
    with op.batch_alter_table("poll_choice", schema=None) as batch_op:
        batch_op.create_index("ix_poll_choice_poll_position", ["poll_id", "position"], unique=False)

    op.create_table(
        "poll_native_count",
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["poll_message.id"],
            name=op.f("fk_poll_native_count_message_id_poll_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "position", name=op.f("pk_poll_native_count")),
    )


def downgrade() -> None:
    op.drop_table("poll_native_count")
    with op.batch_alter_table("poll_choice", schema=None) as batch_op:
        batch_op.drop_index("ix_poll_choice_poll_position")

    op.drop_table("poll_choice")
    op.drop_table("poll_option")
    op.drop_table("poll_message")
    with op.batch_alter_table("poll_ballot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poll_ballot_person_id"))

    op.drop_table("poll_ballot")
    op.drop_table("survey_run")
    with op.batch_alter_table("poll", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poll_ag_id"))

    op.drop_table("poll")
