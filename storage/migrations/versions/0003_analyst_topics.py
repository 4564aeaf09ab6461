"""event topics and per-chat keyword filters

Revision ID: 0003_analyst
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_analyst"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Events stored before topics existed get none; the server default fills them in place.
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("topics", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("chat", schema=None) as batch_op:
        batch_op.add_column(sa.Column("filter_words", sa.Text(), nullable=True))


def downgrade() -> None:
    # Columns are dropped in place (SQLite >= 3.35), never by copying the table: dropping the
    # old table there would delete its rows first, and by ON DELETE CASCADE / SET NULL the
    # rows that point at them (events' parties, reports' links, the outbox).
    with op.batch_alter_table("chat", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("filter_words")
    with op.batch_alter_table("event", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("topics")
