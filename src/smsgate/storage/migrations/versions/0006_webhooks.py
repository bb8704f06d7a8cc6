"""webhooks: the events outbox, webhooks, deliveries and their attempts; two-way numbers

Revision ID: 0006_webhooks
Revises: 0005_request_counts
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_webhooks"
down_revision = "0005_request_counts"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("sim_numbers", sa.Text(), server_default="{}", nullable=False))
        batch.add_column(
            sa.Column("reachable", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("sender", sa.String(length=20), nullable=True))
    op.create_index(
        "ix_messages_conversation",
        "messages",
        ["account_id", "sender", "to", "id"],
        sqlite_where=sa.text("sender IS NOT NULL"),
        postgresql_where=sa.text("sender IS NOT NULL"),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "account_id", Id, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("events", sa.String(length=400), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_webhooks_account", "webhooks", ["account_id", "id"])
    op.create_table(
        "events",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message_id", Id, nullable=True),
        sa.Column("inbound_id", Id, nullable=True),
        sa.Column("device_id", Id, nullable=True),
        sa.Column("detail", sa.String(length=40), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("fanned_at", sa.DateTime(), nullable=True),
    )
    op.create_index(
        "ix_events_unfanned",
        "events",
        ["id"],
        sqlite_where=sa.text("fanned_at IS NULL"),
        postgresql_where=sa.text("fanned_at IS NULL"),
    )
    op.create_index("ix_events_account", "events", ["account_id", "id"])
    op.create_table(
        "deliveries",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("event_id", Id, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "webhook_id", Id, sa.ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("give_up_at", sa.DateTime(), nullable=False),
        sa.Column("last_status", sa.SmallInteger(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
    )
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index("ix_deliveries_account", "deliveries", ["account_id", "id"])
    op.create_index("ix_deliveries_event", "deliveries", ["event_id"])
    op.create_index("ix_deliveries_webhook", "deliveries", ["webhook_id"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "delivery_id", Id, sa.ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("response", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
    )
    op.create_index("ix_delivery_attempts_delivery", "delivery_attempts", ["delivery_id", "id"])


def downgrade() -> None:
    op.drop_table("delivery_attempts")
    op.drop_table("deliveries")
    op.drop_table("events")
    op.drop_table("webhooks")
    op.drop_index("ix_messages_conversation", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("sender")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("reachable")
        batch.drop_column("sim_numbers")
