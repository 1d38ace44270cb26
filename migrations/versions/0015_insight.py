"""insight: contracts, share targets, self-assessment ratings, social value commitments, and
which areas count in which on the market map

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _fk(table, column, target, ondelete):
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], ondelete=ondelete,
                                   name=op.f(f'fk_{table}_{column}_{target}'))


def upgrade():
    op.create_table('area_cover',
    sa.Column('area_code', sa.String(length=9), nullable=False),
    sa.Column('unit_code', sa.String(length=9), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['area.code'], name=op.f('fk_area_cover_area_code_area'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_code'], ['area.code'], name=op.f('fk_area_cover_unit_code_area'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('area_code', 'unit_code', name=op.f('pk_area_cover'))
    )
    with op.batch_alter_table('area_cover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_area_cover_unit_code'), ['unit_code'], unique=False)

    op.create_table('contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('supplier_names', sa.String(length=600), nullable=True),
    sa.Column('main_cpv_code', sa.String(length=8), nullable=True),
    sa.Column('value', sa.BigInteger(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('extension_ends_on', sa.Date(), nullable=True),
    sa.Column('any_vcse', sa.Boolean(), nullable=False),
    sa.Column('any_sme', sa.Boolean(), nullable=False),
    sa.Column('reprocurement_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    _fk('contract', 'organisation_id', 'organisation', 'CASCADE'),
    _fk('contract', 'award_id', 'opportunity_award', 'CASCADE'),
    _fk('contract', 'reprocurement_id', 'opportunity', 'SET NULL'),
    sa.ForeignKeyConstraint(['main_cpv_code'], ['cpv_code.code'],
                            name=op.f('fk_contract_main_cpv_code_cpv_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract')),
    sa.UniqueConstraint('award_id', name=op.f('uq_contract_award_id'))
    )
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.create_index('ix_contract_organisation_ends', ['organisation_id', 'ends_on'], unique=False)

    op.create_table('share_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('measure', sa.String(length=20), nullable=False),
    sa.Column('baseline_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('target_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    _fk('share_target', 'organisation_id', 'organisation', 'CASCADE'),
    _fk('share_target', 'set_by_id', 'user', 'SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_target')),
    sa.UniqueConstraint('organisation_id', 'year', 'measure',
                        name=op.f('uq_share_target_organisation_id'))
    )

    op.create_table('maturity_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('sub_area', sa.String(length=60), nullable=False),
    sa.Column('current_level', sa.Integer(), nullable=False),
    sa.Column('target_level', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('evidence_url', sa.String(length=500), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    _fk('maturity_rating', 'organisation_id', 'organisation', 'CASCADE'),
    _fk('maturity_rating', 'recorded_by_id', 'user', 'SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maturity_rating'))
    )
    with op.batch_alter_table('maturity_rating', schema=None) as batch_op:
        batch_op.create_index('ix_maturity_rating_org_area', ['organisation_id', 'sub_area', 'recorded_at'], unique=False)

    op.create_table('social_value_commitment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=12), nullable=False),
    sa.Column('measure', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('made_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    _fk('social_value_commitment', 'opportunity_id', 'opportunity', 'CASCADE'),
    _fk('social_value_commitment', 'organisation_id', 'organisation', 'CASCADE'),
    _fk('social_value_commitment', 'made_by_id', 'user', 'SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_value_commitment'))
    )
    with op.batch_alter_table('social_value_commitment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_social_value_commitment_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_social_value_commitment_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('social_value_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commitment_id', sa.Integer(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('reported_at', sa.DateTime(), nullable=False),
    _fk('social_value_report', 'commitment_id', 'social_value_commitment', 'CASCADE'),
    _fk('social_value_report', 'reported_by_id', 'user', 'SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_value_report')),
    sa.UniqueConstraint('commitment_id', 'period_end',
                        name=op.f('uq_social_value_report_commitment_id'))
    )


def downgrade():
    op.drop_table('social_value_report')
    with op.batch_alter_table('social_value_commitment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_social_value_commitment_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_social_value_commitment_opportunity_id'))
    op.drop_table('social_value_commitment')
    with op.batch_alter_table('maturity_rating', schema=None) as batch_op:
        batch_op.drop_index('ix_maturity_rating_org_area')
    op.drop_table('maturity_rating')
    op.drop_table('share_target')
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_index('ix_contract_organisation_ends')
    op.drop_table('contract')
    with op.batch_alter_table('area_cover', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_area_cover_unit_code'))
    op.drop_table('area_cover')
