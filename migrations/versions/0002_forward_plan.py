"""forward plan: opportunities, lots, documents, questions, interest and awards

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 21:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('opportunity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('ocid', sa.String(length=120), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('outcomes', sa.Text(), nullable=True),
    sa.Column('main_cpv_code', sa.String(length=8), nullable=True),
    sa.Column('value_min', sa.BigInteger(), nullable=True),
    sa.Column('value_max', sa.BigInteger(), nullable=True),
    sa.Column('value_basis', sa.String(length=12), nullable=False),
    sa.Column('whole_life_value', sa.BigInteger(), nullable=True),
    sa.Column('contract_months', sa.Integer(), nullable=True),
    sa.Column('extension_months', sa.Integer(), nullable=True),
    sa.Column('market_engagement_on', sa.Date(), nullable=True),
    sa.Column('engagement_details', sa.Text(), nullable=True),
    sa.Column('tender_publish_on', sa.Date(), nullable=True),
    sa.Column('question_deadline', sa.DateTime(), nullable=True),
    sa.Column('closing_at', sa.DateTime(), nullable=True),
    sa.Column('contract_start_on', sa.Date(), nullable=True),
    sa.Column('procurement_route', sa.String(length=30), nullable=True),
    sa.Column('suitable_vcse', sa.Boolean(), nullable=False),
    sa.Column('suitable_sme', sa.Boolean(), nullable=False),
    sa.Column('consortium_welcome', sa.Boolean(), nullable=False),
    sa.Column('subcontracting_expected', sa.Boolean(), nullable=False),
    sa.Column('reservation', sa.String(length=20), nullable=True),
    sa.Column('reservation_area_code', sa.String(length=9), nullable=True),
    sa.Column('accreditation_tier', sa.Integer(), nullable=True),
    sa.Column('accreditation_requirement', sa.String(length=10), nullable=False),
    sa.Column('contact_role', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['main_cpv_code'], ['cpv_code.code'], name=op.f('fk_opportunity_main_cpv_code_cpv_code')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_opportunity_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reservation_area_code'], ['area.code'], name=op.f('fk_opportunity_reservation_area_code_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity')),
    sa.UniqueConstraint('ocid', name=op.f('uq_opportunity_ocid')),
    sa.UniqueConstraint('organisation_id', 'reference', name=op.f('uq_opportunity_organisation_id'))
    )
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_closing_at'), ['closing_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_main_cpv_code'), ['main_cpv_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_procurement_route'), ['procurement_route'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_tender_publish_on'), ['tender_publish_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_whole_life_value'), ['whole_life_value'], unique=False)

    op.create_table('opportunity_area',
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=9), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['area.code'], name=op.f('fk_opportunity_area_area_code_area')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_area_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('opportunity_id', 'area_code', name=op.f('pk_opportunity_area'))
    )
    op.create_table('opportunity_award',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('awarded_on', sa.Date(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_award_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_award')),
    sa.UniqueConstraint('opportunity_id', name=op.f('uq_opportunity_award_opportunity_id'))
    )
    op.create_table('opportunity_cpv',
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('cpv_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['cpv_code'], ['cpv_code.code'], name=op.f('fk_opportunity_cpv_cpv_code_cpv_code')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_cpv_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('opportunity_id', 'cpv_code', name=op.f('pk_opportunity_cpv'))
    )
    op.create_table('opportunity_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_document_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_opportunity_document_uploaded_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_document')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_opportunity_document_stored_name'))
    )
    with op.batch_alter_table('opportunity_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_document_opportunity_id'), ['opportunity_id'], unique=False)

    op.create_table('opportunity_interest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_interest_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_opportunity_interest_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_opportunity_interest_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_interest')),
    sa.UniqueConstraint('opportunity_id', 'organisation_id', name=op.f('uq_opportunity_interest_opportunity_id'))
    )
    with op.batch_alter_table('opportunity_interest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_interest_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_interest_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('opportunity_lot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('value_min', sa.BigInteger(), nullable=True),
    sa.Column('value_max', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_lot_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_lot')),
    sa.UniqueConstraint('opportunity_id', 'number', name=op.f('uq_opportunity_lot_opportunity_id'))
    )
    with op.batch_alter_table('opportunity_lot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_lot_opportunity_id'), ['opportunity_id'], unique=False)

    op.create_table('opportunity_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('asked_by_id', sa.Integer(), nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('published_question', sa.Text(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('asked_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['asked_by_id'], ['user.id'], name=op.f('fk_opportunity_question_asked_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_question_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_opportunity_question_organisation_id_organisation'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_question'))
    )
    with op.batch_alter_table('opportunity_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_question_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_question_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('opportunity_social_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('theme', sa.String(length=30), nullable=False),
    sa.Column('weighting', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_social_value_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_social_value')),
    sa.UniqueConstraint('opportunity_id', 'theme', name=op.f('uq_opportunity_social_value_opportunity_id'))
    )
    with op.batch_alter_table('opportunity_social_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_social_value_opportunity_id'), ['opportunity_id'], unique=False)

    op.create_table('opportunity_term',
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_term_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['term_id'], ['vocabulary_term.id'], name=op.f('fk_opportunity_term_term_id_vocabulary_term')),
    sa.PrimaryKeyConstraint('opportunity_id', 'term_id', name=op.f('pk_opportunity_term'))
    )
    op.create_table('opportunity_award_winner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('is_vcse', sa.Boolean(), nullable=False),
    sa.Column('is_sme', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['opportunity_award.id'], name=op.f('fk_opportunity_award_winner_award_id_opportunity_award'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_opportunity_award_winner_organisation_id_organisation'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_award_winner'))
    )
    with op.batch_alter_table('opportunity_award_winner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunity_award_winner_award_id'), ['award_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunity_award_winner_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('opportunity_lot_area',
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=9), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['area.code'], name=op.f('fk_opportunity_lot_area_area_code_area')),
    sa.ForeignKeyConstraint(['lot_id'], ['opportunity_lot.id'], name=op.f('fk_opportunity_lot_area_lot_id_opportunity_lot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lot_id', 'area_code', name=op.f('pk_opportunity_lot_area'))
    )
    op.create_table('opportunity_lot_cpv',
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('cpv_code', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['cpv_code'], ['cpv_code.code'], name=op.f('fk_opportunity_lot_cpv_cpv_code_cpv_code')),
    sa.ForeignKeyConstraint(['lot_id'], ['opportunity_lot.id'], name=op.f('fk_opportunity_lot_cpv_lot_id_opportunity_lot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lot_id', 'cpv_code', name=op.f('pk_opportunity_lot_cpv'))
    )


def downgrade():
    op.drop_table('opportunity_lot_cpv')
    op.drop_table('opportunity_lot_area')
    with op.batch_alter_table('opportunity_award_winner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_award_winner_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_opportunity_award_winner_award_id'))

    op.drop_table('opportunity_award_winner')
    op.drop_table('opportunity_term')
    with op.batch_alter_table('opportunity_social_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_social_value_opportunity_id'))

    op.drop_table('opportunity_social_value')
    with op.batch_alter_table('opportunity_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_question_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_opportunity_question_opportunity_id'))

    op.drop_table('opportunity_question')
    with op.batch_alter_table('opportunity_lot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_lot_opportunity_id'))

    op.drop_table('opportunity_lot')
    with op.batch_alter_table('opportunity_interest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_interest_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_opportunity_interest_opportunity_id'))

    op.drop_table('opportunity_interest')
    with op.batch_alter_table('opportunity_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_document_opportunity_id'))

    op.drop_table('opportunity_document')
    op.drop_table('opportunity_cpv')
    op.drop_table('opportunity_award')
    op.drop_table('opportunity_area')
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunity_whole_life_value'))
        batch_op.drop_index(batch_op.f('ix_opportunity_tender_publish_on'))
        batch_op.drop_index(batch_op.f('ix_opportunity_status'))
        batch_op.drop_index(batch_op.f('ix_opportunity_published_at'))
        batch_op.drop_index(batch_op.f('ix_opportunity_procurement_route'))
        batch_op.drop_index(batch_op.f('ix_opportunity_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_opportunity_main_cpv_code'))
        batch_op.drop_index(batch_op.f('ix_opportunity_closing_at'))

    op.drop_table('opportunity')
