"""organisations: a site administrator's check of buyers and accreditation bodies

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

TYPES_NEEDING_VERIFICATION = ('commissioner', 'accreditation_body')


def upgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verified_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('verified_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('verification_basis', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('verification_note', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_organisation_verified_by_id_user'), 'user',
                                    ['verified_by_id'], ['id'], ondelete='SET NULL')
    # Buyers and bodies already here have been publishing and assessing; they keep doing so.
    organisation = sa.table('organisation', sa.column('org_type', sa.String),
                            sa.column('verified_at', sa.DateTime),
                            sa.column('verification_basis', sa.String),
                            sa.column('verification_note', sa.Text))
    op.execute(organisation.update()
               .where(organisation.c.org_type.in_(TYPES_NEEDING_VERIFICATION))
               .values(verified_at=datetime.now(timezone.utc).replace(tzinfo=None),
                       verification_basis='other',
                       verification_note='Verified before verification was recorded'))


def downgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_organisation_verified_by_id_user'),
                                 type_='foreignkey')
        batch_op.drop_column('verification_note')
        batch_op.drop_column('verification_basis')
        batch_op.drop_column('verified_by_id')
        batch_op.drop_column('verified_at')
