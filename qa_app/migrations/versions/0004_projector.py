"""the projector: the screen's mode (questions or the join slide) and the issue clock

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # plain ADD COLUMN on both databases (a batch would copy `events`: see 0003)
    op.add_column('events', sa.Column('screen_mode', sa.String(length=16), server_default='questions', nullable=False))
    op.add_column('events', sa.Column('clock_on', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('issues', sa.Column('extra_minutes', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    # SQLite >= 3.35 and PostgreSQL both drop a plain column in place
    op.execute("ALTER TABLE issues DROP COLUMN extra_minutes")
    op.execute("ALTER TABLE events DROP COLUMN clock_on")
    op.execute("ALTER TABLE events DROP COLUMN screen_mode")
