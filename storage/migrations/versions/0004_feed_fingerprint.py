"""the fingerprint of a feed's last stored body (issue 14)

Revision ID: 0004_fingerprint
Revises: 0003_ha
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_fingerprint"
down_revision: str | None = "0003_ha"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Feeds stored before have none: their next 200 is parsed, as every 200 was.
    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # Never by copying the table on SQLite: dropping the old `feed` there deletes its rows
    # first, and with them, by ON DELETE CASCADE, every item (foreign keys are on, and cannot
    # be turned off inside the migration's transaction). SQLite >= 3.35 drops a column in place.
    with op.batch_alter_table("feed", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("body_fingerprint")
