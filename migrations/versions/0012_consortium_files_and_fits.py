"""consortia: files shared with a team, and the suppliers that fit each open role and package

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consortium_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consortium_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consortium_id'], ['consortium.id'], name=op.f('fk_consortium_file_consortium_id_consortium'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_consortium_file_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_consortium_file_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consortium_file')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_consortium_file_stored_name'))
    )
    with op.batch_alter_table('consortium_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consortium_file_consortium_id'), ['consortium_id'], unique=False)

    op.create_table('partner_fit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('strength', sa.String(length=10), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_partner_fit_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['package_id'], ['subcontract_package.id'], name=op.f('fk_partner_fit_package_id_subcontract_package'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['partner_role.id'], name=op.f('fk_partner_fit_role_id_partner_role'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_fit'))
    )
    with op.batch_alter_table('partner_fit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_fit_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_fit_package_id'), ['package_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_fit_role_id'), ['role_id'], unique=False)



def downgrade():
    with op.batch_alter_table('partner_fit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_fit_role_id'))
        batch_op.drop_index(batch_op.f('ix_partner_fit_package_id'))
        batch_op.drop_index(batch_op.f('ix_partner_fit_organisation_id'))

    op.drop_table('partner_fit')
    with op.batch_alter_table('consortium_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consortium_file_consortium_id'))

    op.drop_table('consortium_file')
