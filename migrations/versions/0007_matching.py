"""matching: stored matches, invitations, dismissed recommendations

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = "0006"
branch_labels = None
depends_on = '0002'


def upgrade():
    op.create_table('opportunity_match',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('signals', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('first_matched_at', sa.DateTime(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_match_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_opportunity_match_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_match')),
    sa.UniqueConstraint('opportunity_id', 'organisation_id', name=op.f('uq_opportunity_match_opportunity_id'))
    )
    with op.batch_alter_table('opportunity_match', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_match_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_match_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('opportunity_match_refresh',
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=True),
    sa.Column('stale', sa.Boolean(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('kept', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_match_refresh_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('opportunity_id', name=op.f('pk_opportunity_match_refresh'))
    )
    with op.batch_alter_table('opportunity_match_refresh', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_match_refresh_stale'), ['stale'], unique=False)

    op.create_table('recommendation_dismissal',
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('dismissed_by_id', sa.Integer(), nullable=True),
    sa.Column('dismissed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dismissed_by_id'], ['user.id'], name=op.f('fk_recommendation_dismissal_dismissed_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_recommendation_dismissal_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_recommendation_dismissal_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organisation_id', 'opportunity_id', name=op.f('pk_recommendation_dismissal'))
    )
    with op.batch_alter_table('recommendation_dismissal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommendation_dismissal_opportunity_id'), ['opportunity_id'], unique=False)

    op.create_table('match_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('invited_by_organisation_id', sa.Integer(), nullable=False),
    sa.Column('invited_by_user_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invited_by_organisation_id'], ['organisation.id'], name=op.f('fk_match_invitation_invited_by_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_user_id'], ['user.id'], name=op.f('fk_match_invitation_invited_by_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lot_id'], ['opportunity_lot.id'], name=op.f('fk_match_invitation_lot_id_opportunity_lot'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_match_invitation_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_match_invitation_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_invitation')),
    sa.UniqueConstraint('opportunity_id', 'organisation_id', 'invited_by_organisation_id', name=op.f('uq_match_invitation_opportunity_id'))
    )
    with op.batch_alter_table('match_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_invitation_invited_by_organisation_id'), ['invited_by_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_invitation_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_invitation_organisation_id'), ['organisation_id'], unique=False)



def downgrade():
    with op.batch_alter_table('match_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_invitation_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_match_invitation_opportunity_id'))
        batch_op.drop_index(batch_op.f('ix_match_invitation_invited_by_organisation_id'))

    op.drop_table('match_invitation')
    with op.batch_alter_table('recommendation_dismissal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recommendation_dismissal_opportunity_id'))

    op.drop_table('recommendation_dismissal')
    with op.batch_alter_table('opportunity_match_refresh', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_match_refresh_stale'))

    op.drop_table('opportunity_match_refresh')
    with op.batch_alter_table('opportunity_match', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_match_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_opportunity_match_opportunity_id'))

    op.drop_table('opportunity_match')
