"""test mode: messages the simulated phone takes, and only it (messages.test)

Revision ID: 0010_test_mode
Revises: 0009_message_groups
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_test_mode"
down_revision = "0009_message_groups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN on both (a batch would rebuild the SQLite table and lose `priority DESC`
    # in the queue index)
    op.add_column(
        "messages",
        sa.Column("test", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    # what the simulated phone was handed before test mode existed was test traffic too
    op.execute(
        "UPDATE messages SET test = true WHERE device_id IN "
        "(SELECT id FROM devices WHERE kind = 'simulator')"
    )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("test")
