"""organisations: a policy or certificate on the profile can carry its document; accreditation:
a standard can name the kind of certificate it reuses from the profile

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filename', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('stored_name', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('file_kind', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('file_size', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('file_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('file_uploaded_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('accreditation_standard', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reuses_credential', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('accreditation_standard', schema=None) as batch_op:
        batch_op.drop_column('reuses_credential')
    with op.batch_alter_table('credential', schema=None) as batch_op:
        batch_op.drop_column('file_uploaded_at')
        batch_op.drop_column('file_sha256')
        batch_op.drop_column('file_size')
        batch_op.drop_column('file_kind')
        batch_op.drop_column('stored_name')
        batch_op.drop_column('filename')
