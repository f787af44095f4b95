"""one ballot per account: poll_ballot.account_id, unique per poll

Written by hand. A named ballot records the account that cast it; the database holds
one ballot per poll and account (as it holds one per poll and person), and an anonymous
ballot never carries an account. Existing named ballots get the account of their person
on the network they were cast on.

Ballots without any voter in polls that are not closed are deleted: they are votes of
people who used `/forget` while the poll ran, and the same account could vote again as
a new person (issue 11). Forgetting now withdraws such votes; this applies that rule to
the votes forgotten before.

On SQLite the table is recreated (batch mode), so every constraint is a named table
constraint as in the models; the choices are kept aside meanwhile, since dropping the
old table would delete them (ON DELETE CASCADE). The unique constraint is added after
the backfill (SQLite checks it while copying the rows).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 19:00:00
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision = "0008"
down_revision = "0007"
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


@contextmanager
def _choices_kept() -> Iterator[None]:
    """SQLite changes a table by recreating it, and dropping the old `poll_ballot` deletes
    every `poll_choice` (ON DELETE CASCADE, foreign keys are on): keep them aside."""
    op.execute("CREATE TEMPORARY TABLE poll_choice_kept AS SELECT * FROM poll_choice")
    yield
    op.execute(
        "INSERT INTO poll_choice (ballot_id, position, poll_id)"
        " SELECT ballot_id, position, poll_id FROM poll_choice_kept k"
        " WHERE EXISTS (SELECT 1 FROM poll_ballot b WHERE b.id = k.ballot_id)"
        " AND NOT EXISTS (SELECT 1 FROM poll_choice c"
        " WHERE c.ballot_id = k.ballot_id AND c.position = k.position)"
    )
    op.execute("DROP TABLE poll_choice_kept")


@contextmanager
def _ballots() -> Iterator[BatchOperations]:
    """Change `poll_ballot`; on SQLite by recreating it, its choices kept."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    with (
        _choices_kept() if sqlite else nullcontext(),
        op.batch_alter_table("poll_ballot", recreate="always" if sqlite else "auto") as batch,
    ):
        yield batch


def upgrade() -> None:
    with _ballots() as batch:
        batch.add_column(sa.Column("account_id", _ID, nullable=True))
        batch.create_foreign_key(
            batch.f("fk_poll_ballot_account_id_account"),
            "account",
            ["account_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_check_constraint(
            batch.f("ck_poll_ballot_account_or_token"), "account_id IS NULL OR token IS NULL"
        )
        batch.create_index(batch.f("ix_poll_ballot_account_id"), ["account_id"])
    op.execute(_BACKFILL)
    with _ballots() as batch:
        batch.create_unique_constraint("uq_poll_ballot_account", ["poll_id", "account_id"])
    op.execute(f"DELETE FROM poll_choice WHERE ballot_id IN ({_VOTERLESS_OPEN})")
    op.execute(f"DELETE FROM poll_ballot WHERE id IN ({_VOTERLESS_OPEN})")


def downgrade() -> None:
    with _ballots() as batch:
        batch.drop_constraint("uq_poll_ballot_account", type_="unique")
        batch.drop_index(batch.f("ix_poll_ballot_account_id"))
        batch.drop_constraint(batch.f("ck_poll_ballot_account_or_token"), type_="check")
        batch.drop_constraint(batch.f("fk_poll_ballot_account_id_account"), type_="foreignkey")
        batch.drop_column("account_id")
