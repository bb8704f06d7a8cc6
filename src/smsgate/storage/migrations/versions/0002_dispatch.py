"""dispatch: device limits (jitter, windows, timezone, SIM limits), usage counters, retries

Revision ID: 0002_dispatch
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_dispatch"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("jitter_ms", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("window_start", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("window_end", sa.String(length=8), nullable=True))
        batch.add_column(
            sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False)
        )
        batch.add_column(sa.Column("sim_limits", sa.Text(), server_default="{}", nullable=False))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("last_device_id", Id, nullable=True))
        batch.add_column(sa.Column("sim_used", sa.SmallInteger(), nullable=True))
        batch.create_index(
            "ix_messages_taken",
            ["taken_at"],
            unique=False,
            sqlite_where=sa.text("state = 'taken'"),
            postgresql_where=sa.text("state = 'taken'"),
        )
    op.create_table(
        "device_usage",
        sa.Column("device_id", Id, nullable=False),
        sa.Column("slot", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("messages", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_send_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("device_id", "slot"),
    )
    op.create_table(
        "device_recipients",
        sa.Column("device_id", Id, nullable=False),
        sa.Column("slot", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("device_id", "slot", "period_start", "phone"),
    )


def downgrade() -> None:
    op.drop_table("device_recipients")
    op.drop_table("device_usage")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index(
            "ix_messages_taken",
            sqlite_where=sa.text("state = 'taken'"),
            postgresql_where=sa.text("state = 'taken'"),
        )
        batch.drop_column("sim_used")
        batch.drop_column("last_device_id")
        batch.drop_column("next_attempt_at")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("sim_limits")
        batch.drop_column("timezone")
        batch.drop_column("window_end")
        batch.drop_column("window_start")
        batch.drop_column("jitter_ms")
