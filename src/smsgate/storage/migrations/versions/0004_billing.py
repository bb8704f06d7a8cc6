"""billing: prices per message part, account balances, number intelligence and cost on messages

Revision ID: 0004_billing
Revises: 0003_password_md5
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_billing"
down_revision = "0003_password_md5"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REFUND_DUE = sa.text(
    "cost > 0 AND refunded_at IS NULL AND state IN ('failed', 'cancelled', 'expired')"
    " AND (reason IS NULL OR reason <> 'device_lost')"
)


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("operator", sa.String(100), server_default="", nullable=False))
        batch.add_column(sa.Column("region", sa.String(100), server_default="", nullable=False))
        batch.add_column(sa.Column("number_type", sa.String(24), server_default="", nullable=False))
        batch.add_column(sa.Column("mccmnc", sa.String(6), server_default="", nullable=False))
        batch.add_column(sa.Column("cost", sa.BigInteger(), server_default="0", nullable=False))
        batch.add_column(sa.Column("refunded_at", sa.DateTime(), nullable=True))
    op.create_index(
        "ix_messages_refund",
        "messages",
        ["id"],
        sqlite_where=REFUND_DUE,
        postgresql_where=REFUND_DUE,
    )
    op.create_table(
        "prices",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("prefix", sa.String(15), server_default="", nullable=False),
        sa.Column("operator", sa.String(100), server_default="", nullable=False),
        sa.Column("per_part", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "balances",
        sa.Column("account_id", Id, autoincrement=False, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )


def downgrade() -> None:
    op.drop_table("balances")
    op.drop_table("prices")
    op.drop_index("ix_messages_refund", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        for name in ("refunded_at", "cost", "mccmnc", "number_type", "region", "operator"):
            batch.drop_column(name)
