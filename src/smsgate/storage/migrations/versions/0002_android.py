"""android: SMSGate app phones (links, holds, receipts, sign-in codes) and its client API

Revision ID: 0002_android
Revises: 0002_dispatch
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_android"
down_revision = "0002_dispatch"  # after the dispatch columns (linear history)
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REFERENCED = sa.text("reference IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "device_links",
        sa.Column("device_id", Id, autoincrement=False, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("hook_secret", sa.String(length=64), nullable=False),
        sa.Column("signing_key", sa.String(length=64), nullable=False),
        sa.Column("push_token", sa.String(length=256), nullable=True),
        sa.Column("stream_seen_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("device_id"),
        sa.UniqueConstraint("hook_secret"),
    )
    op.create_table(
        "holds",
        sa.Column("message_id", Id, autoincrement=False, nullable=False),
        sa.Column("device_id", Id, nullable=False),
        sa.Column("acked_at", sa.DateTime(), nullable=True),
        sa.Column("cancel_requested_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index("ix_holds_device", "holds", ["device_id", "message_id"], unique=False)
    op.create_table(
        "receipts",
        sa.Column("device_id", Id, autoincrement=False, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("device_id", "key"),
    )
    op.create_index("ix_receipts_received", "receipts", ["received_at"], unique=False)
    op.create_table(
        "sign_in_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("valid_until", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("code_hash"),
    )
    op.create_table(
        "app_webhooks",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("external_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", Id, nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_app_webhooks_account", "app_webhooks", ["account_id", "external_id"], unique=True
    )
    op.create_table(
        "app_settings",
        sa.Column("account_id", Id, autoincrement=False, nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_index(
        "ix_messages_account_reference",
        "messages",
        ["account_id", "reference"],
        unique=False,
        sqlite_where=REFERENCED,
        postgresql_where=REFERENCED,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_messages_account_reference",
        table_name="messages",
        sqlite_where=REFERENCED,
        postgresql_where=REFERENCED,
    )
    op.drop_table("app_settings")
    op.drop_index("ix_app_webhooks_account", table_name="app_webhooks")
    op.drop_table("app_webhooks")
    op.drop_table("sign_in_codes")
    op.drop_index("ix_receipts_received", table_name="receipts")
    op.drop_table("receipts")
    op.drop_index("ix_holds_device", table_name="holds")
    op.drop_table("holds")
    op.drop_table("device_links")
