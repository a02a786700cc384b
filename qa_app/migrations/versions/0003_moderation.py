"""the moderator's power: seats, the audit log, blocklists, suggestions, bans' times

Every moderator key becomes a seat's key (events lose their one key): each event's old key is
kept as a seat named "Moderator", so its link keeps working (its sessions do not: they named the
key's generation and now name a seat, so the console trades the link for a session again).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 12:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('moderator_seats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_moderator_seats_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderator_seats')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_moderator_seats_key_hash'))
    )
    with op.batch_alter_table('moderator_seats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderator_seats_event_id'), ['event_id'], unique=False)

    op.create_table('moderation_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.Integer(), nullable=True),
    sa.Column('admin_id', sa.Integer(), nullable=True),
    sa.Column('who', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('undo', sa.JSON(), nullable=True),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undone_by', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_moderation_actions_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seat_id'], ['moderator_seats.id'], name=op.f('fk_moderation_actions_seat_id_moderator_seats'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['admin_id'], ['admins.id'], name=op.f('fk_moderation_actions_admin_id_admins'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_moderation_actions_question_id_questions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_actions'))
    )
    with op.batch_alter_table('moderation_actions', schema=None) as batch_op:
        batch_op.create_index('ix_moderation_actions_event_id_id', ['event_id', 'id'], unique=False)

    # plain ADD COLUMN on both databases: a batch would copy `events`, and dropping the old table
    # with SQLite's foreign keys on would cascade into every issue and question
    op.add_column('events', sa.Column('blocklist', sa.Text(), server_default='', nullable=False))
    op.add_column('events', sa.Column('builtin_blocklists', sa.String(length=16), server_default='', nullable=False))
    op.add_column('questions', sa.Column('held_reason', sa.String(length=200), nullable=True))
    op.add_column('questions', sa.Column('similar_to', sa.JSON(), nullable=True))
    op.add_column('participants', sa.Column('banned_at', sa.DateTime(), nullable=True))

    op.execute(
        "INSERT INTO moderator_seats (event_id, name, key_hash, created_at)"
        " SELECT id, 'Moderator', moderator_key_hash, created_at FROM events"
    )
    # SQLite >= 3.35 and PostgreSQL both drop a plain column in place
    op.execute("ALTER TABLE events DROP COLUMN moderator_key_hash")
    op.execute("ALTER TABLE events DROP COLUMN moderator_key_generation")


def downgrade():
    op.add_column('events', sa.Column('moderator_key_hash', sa.String(length=128), server_default='', nullable=False))
    op.add_column('events', sa.Column('moderator_key_generation', sa.Integer(), server_default='1', nullable=False))
    op.execute(
        "UPDATE events SET moderator_key_hash = COALESCE((SELECT key_hash FROM moderator_seats"
        " WHERE moderator_seats.event_id = events.id AND revoked_at IS NULL"
        " ORDER BY moderator_seats.id LIMIT 1), '')"
    )
    op.execute("ALTER TABLE participants DROP COLUMN banned_at")
    op.execute("ALTER TABLE questions DROP COLUMN similar_to")
    op.execute("ALTER TABLE questions DROP COLUMN held_reason")
    op.execute("ALTER TABLE events DROP COLUMN builtin_blocklists")
    op.execute("ALTER TABLE events DROP COLUMN blocklist")
    op.drop_table('moderation_actions')
    op.drop_table('moderator_seats')
