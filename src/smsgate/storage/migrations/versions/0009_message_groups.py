"""message groups: recipients leased together to one device; the SMSGate app's client messages

Revision ID: 0009_message_groups
Revises: 0008_senders
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_message_groups"
down_revision = "0008_senders"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GROUPED = sa.text("group_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("group_id", Id, nullable=True))
    op.create_index(
        "ix_messages_group",
        "messages",
        ["group_id"],
        unique=False,
        sqlite_where=GROUPED,
        postgresql_where=GROUPED,
    )
    op.create_table(
        "app_messages",
        sa.Column("account_id", Id, autoincrement=False, nullable=False),
        sa.Column("external_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "external_id"),
    )


def downgrade() -> None:
    op.drop_table("app_messages")
    op.drop_index("ix_messages_group", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("group_id")
