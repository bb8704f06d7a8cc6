"""request_counts: request limits counted per key and window, shared by every node

Revision ID: 0005_request_counts
Revises: 0004_billing
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_request_counts"
down_revision = "0004_billing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_counts",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start"),
    )
    op.create_index("ix_request_counts_expiry", "request_counts", ["expires_at"])


def downgrade() -> None:
    op.drop_table("request_counts")
