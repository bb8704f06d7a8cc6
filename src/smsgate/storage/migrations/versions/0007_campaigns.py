"""campaigns: contact lists, contacts, the opt-out list, campaigns; messages.campaign_id

Revision ID: 0007_campaigns
Revises: 0006_webhooks
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_campaigns"
down_revision = "0006_webhooks"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CAMPAIGN = sa.text("campaign_id IS NOT NULL")
LIVE = sa.text("state IN ('scheduled', 'expanding')")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("campaign_id", Id, nullable=True))
    op.create_index(
        "ix_messages_campaign",
        "messages",
        ["campaign_id", "state"],
        unique=False,
        sqlite_where=CAMPAIGN,
        postgresql_where=CAMPAIGN,
    )
    op.create_table(
        "contact_lists",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_contact_lists_account_name", "contact_lists", ["account_id", "name"], unique=True
    )
    op.create_table(
        "contacts",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("phone_original", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("fields", sa.Text(), server_default="{}", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contacts_account_phone", "contacts", ["account_id", "phone"], unique=True)
    op.create_table(
        "list_members",
        sa.Column("list_id", Id, autoincrement=False, nullable=False),
        sa.Column("contact_id", Id, autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["list_id"], ["contact_lists.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("list_id", "contact_id"),
    )
    op.create_index("ix_list_members_contact", "list_members", ["contact_id"], unique=False)
    op.create_table(
        "optouts",
        sa.Column("account_id", Id, autoincrement=False, nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "phone"),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lists", sa.String(length=2000), nullable=False),
        sa.Column("devices", sa.String(length=400), server_default="", nullable=False),
        sa.Column("sim_slot", sa.SmallInteger(), nullable=True),
        sa.Column("priority", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("send_at", sa.DateTime(), nullable=False),
        sa.Column("cursor", sa.String(length=20), server_default="", nullable=False),
        sa.Column("expanded", sa.Integer(), server_default="0", nullable=False),
        sa.Column("skipped", sa.Integer(), server_default="0", nullable=False),
        sa.Column("invalid", sa.Integer(), server_default="0", nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("expanded_at", sa.DateTime(), nullable=True),
        sa.Column("paused_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_campaigns_account", "campaigns", ["account_id", "id"], unique=False)
    op.create_index(
        "ix_campaigns_live",
        "campaigns",
        ["send_at"],
        unique=False,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.drop_table("campaigns")
    op.drop_table("optouts")
    op.drop_table("list_members")
    op.drop_table("contacts")
    op.drop_table("contact_lists")
    op.drop_index("ix_messages_campaign", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("campaign_id")
