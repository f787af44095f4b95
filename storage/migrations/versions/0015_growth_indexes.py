"""growth indexes: the columns a person's own rows are found by, so that `/mydata`, `/forget`
and merging two people cost the same with 200 or 20,000 people (benchmarks/growth.py):
`reminder_delivery.person_id` (the largest table: one row per reminder and target),
`meeting.created_by`, `poll.created_by`, `date_poll.created_by`. Only indexes.

Written by hand after the models, checked by the test that compares migrations and models.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 14:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_reminder_delivery_person_id", "reminder_delivery", "person_id"),
    ("ix_meeting_created_by", "meeting", "created_by"),
    ("ix_poll_created_by", "poll", "created_by"),
    ("ix_date_poll_created_by", "date_poll", "created_by"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
