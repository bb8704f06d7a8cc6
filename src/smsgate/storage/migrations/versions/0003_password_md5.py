"""accounts: a hash of the password's md5, for vendor APIs that sign in with md5(password)

Revision ID: 0003_password_md5
Revises: 0002_android
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_password_md5"
down_revision = "0002_android"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # argon2 of the lower-case hex md5 of the password, set with the password (null until then)
    op.add_column("accounts", sa.Column("password_md5_hash", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("accounts", "password_md5_hash")
