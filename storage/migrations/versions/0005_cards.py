"""cards: digital business cards and pending /forget confirmations

Written by hand. Both tables belong to a person and go with it (ON DELETE CASCADE).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 04:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "card",
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("org", sa.String(length=120), nullable=False),
        sa.Column("regions", sa.String(length=600), nullable=False),
        sa.Column("topics", sa.String(length=600), nullable=False),
        sa.Column("about", sa.String(length=500), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_card_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_card")),
    )
    op.create_table(
        "forget_request",
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_forget_request_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_forget_request")),
    )


def downgrade() -> None:
    op.drop_table("forget_request")
    op.drop_table("card")
