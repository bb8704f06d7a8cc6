"""senders: the sender names an account may send from, and the name each message asked for

Revision ID: 0008_senders
Revises: 0007_campaigns
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_senders"
down_revision = "0007_campaigns"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("sender_name", sa.String(64), server_default="", nullable=False))
    op.create_table(
        "senders",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_senders_account_name", "senders", ["account_id", "name"], unique=True)


def downgrade() -> None:
    op.drop_table("senders")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("sender_name")
