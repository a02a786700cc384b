"""the organiser's side: archived events, the venue's time zone, the report's share link

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # plain ADD COLUMN on both databases (a batch would copy `events`: see 0003)
    op.add_column('events', sa.Column('archived_at', sa.DateTime(), nullable=True))
    op.add_column('events', sa.Column('time_zone', sa.String(length=64), nullable=True))
    op.add_column('events', sa.Column('report_share_hash', sa.String(length=64), nullable=True))


def downgrade():
    # SQLite >= 3.35 and PostgreSQL both drop a plain column in place
    op.execute("ALTER TABLE events DROP COLUMN report_share_hash")
    op.execute("ALTER TABLE events DROP COLUMN time_zone")
    op.execute("ALTER TABLE events DROP COLUMN archived_at")
