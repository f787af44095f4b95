"""one ballot per account: poll_ballot.account_id, unique per poll

Written by hand. A named ballot records the account that cast it; the database holds
one ballot per poll and account (as it holds one per poll and person), and an anonymous
ballot never carries an account. Existing named ballots get the account of their person
on the network they were cast on.

Ballots without any voter in polls that are not closed are deleted: they are votes of
people who used `/forget` while the poll ran, and the same account could vote again as
a new person (issue 11). Forgetting now withdraws such votes; this applies that rule to
the votes forgotten before.

SQLite adds the column with ALTER TABLE (foreign key and check inline) and the unique
constraint as a unique index: recreating `poll_ballot` in batch mode would drop the old
table, and with foreign keys on, that deletes every `poll_choice` row (ON DELETE CASCADE).

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_BACKFILL = """
UPDATE poll_ballot SET account_id = (
    SELECT MIN(account.id) FROM account
    WHERE account.person_id = poll_ballot.person_id
      AND account.platform = poll_ballot.platform
)
WHERE person_id IS NOT NULL
"""
_VOTERLESS_OPEN = """
SELECT poll_ballot.id FROM poll_ballot JOIN poll ON poll.id = poll_ballot.poll_id
WHERE poll.closed_at IS NULL AND poll_ballot.person_id IS NULL AND poll_ballot.token IS NULL
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE poll_ballot ADD COLUMN account_id INTEGER"
            " CONSTRAINT fk_poll_ballot_account_id_account"
            " REFERENCES account (id) ON DELETE SET NULL"
            " CONSTRAINT ck_poll_ballot_account_or_token"
            " CHECK (account_id IS NULL OR token IS NULL)"
        )
        op.execute(_BACKFILL)
        op.create_index(
            "uq_poll_ballot_account", "poll_ballot", ["poll_id", "account_id"], unique=True
        )
    else:
        op.add_column("poll_ballot", sa.Column("account_id", _ID, nullable=True))
        op.create_foreign_key(
            op.f("fk_poll_ballot_account_id_account"),
            "poll_ballot",
            "account",
            ["account_id"],
            ["id"],
            ondelete="SET NULL",
        )
        op.create_check_constraint(
            op.f("ck_poll_ballot_account_or_token"),
            "poll_ballot",
            "account_id IS NULL OR token IS NULL",
        )
        op.execute(_BACKFILL)
        op.create_unique_constraint(
            "uq_poll_ballot_account", "poll_ballot", ["poll_id", "account_id"]
        )
    op.create_index(op.f("ix_poll_ballot_account_id"), "poll_ballot", ["account_id"])
    op.execute(f"DELETE FROM poll_choice WHERE ballot_id IN ({_VOTERLESS_OPEN})")
    op.execute(f"DELETE FROM poll_ballot WHERE id IN ({_VOTERLESS_OPEN})")


def downgrade() -> None:
    op.drop_index(op.f("ix_poll_ballot_account_id"), table_name="poll_ballot")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("uq_poll_ballot_account", "poll_ballot", type_="unique")
        op.drop_constraint(op.f("ck_poll_ballot_account_or_token"), "poll_ballot", type_="check")
        op.drop_constraint(
            op.f("fk_poll_ballot_account_id_account"), "poll_ballot", type_="foreignkey"
        )
        op.drop_column("poll_ballot", "account_id")
        return
    op.drop_index("uq_poll_ballot_account", table_name="poll_ballot")
    # SQLite drops a column with a foreign key only by recreating the table, which
    # deletes the choices (ON DELETE CASCADE): they are kept aside and put back.
    op.execute("CREATE TEMPORARY TABLE poll_choice_kept AS SELECT * FROM poll_choice")
    with op.batch_alter_table("poll_ballot", recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_poll_ballot_account_or_token"), type_="check")
        batch_op.drop_column("account_id")
    op.execute(
        "INSERT INTO poll_choice (ballot_id, position, poll_id)"
        " SELECT ballot_id, position, poll_id FROM poll_choice_kept"
        " WHERE NOT EXISTS (SELECT 1 FROM poll_choice c"
        " WHERE c.ballot_id = poll_choice_kept.ballot_id"
        " AND c.position = poll_choice_kept.position)"
    )
    op.execute("DROP TABLE poll_choice_kept")
