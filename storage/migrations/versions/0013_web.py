"""web: link tokens of the bot's web side (`web_token`, stored as keyed hashes) and, for
calendar feeds, `meeting.sequence` and `meeting.changed_at`

Written by hand after the models (storage/web/models.py, storage/meetings/models.py),
checked by the test that compares migrations and models.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sequence", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "web_token",
        sa.Column("id", _ID, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_web_token_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_token")),
        sa.UniqueConstraint("digest", name=op.f("uq_web_token_digest")),
    )
    with op.batch_alter_table("web_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_token_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_token_person_id"))
    op.drop_table("web_token")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("changed_at")
        batch_op.drop_column("sequence")
