"""search: the index change log, which every host's search indexes follow

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'index_changes',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('document_type', sa.String(length=40), nullable=False),
        sa.Column('key', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_index_changes')),
    )
    with op.batch_alter_table('index_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_changes_created_at'), ['created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('index_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_index_changes_created_at'))
    op.drop_table('index_changes')
