"""accreditation: board members' declarations of interest

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('accreditation_board_declaration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('has_conflict', sa.Boolean(), nullable=False),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('declared_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['accreditation_application.id'], name=op.f('fk_accreditation_board_declaration_application_id_accreditation_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_accreditation_board_declaration_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accreditation_board_declaration')),
    sa.UniqueConstraint('application_id', 'user_id', name=op.f('uq_accreditation_board_declaration_application_id'))
    )
    with op.batch_alter_table('accreditation_board_declaration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accreditation_board_declaration_application_id'), ['application_id'], unique=False)



def downgrade():
    with op.batch_alter_table('accreditation_board_declaration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accreditation_board_declaration_application_id'))

    op.drop_table('accreditation_board_declaration')
