"""leader lease and outbox claims (high availability)

Revision ID: 0003_ha
Revises: 0003_analyst
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003_ha"
down_revision: str | None = "0003_analyst"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leader_lease",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("term", sa.BigInteger(), nullable=False),
        sa.Column("acquired_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_term", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_until", storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    # Columns are dropped in place (SQLite >= 3.35), never by copying the table: dropping the
    # old table there would delete its rows first, and by ON DELETE CASCADE / SET NULL the
    # rows that point at them (events' parties, reports' links, the outbox).
    with op.batch_alter_table("delivery", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claim_term")
    op.drop_table("leader_lease")
