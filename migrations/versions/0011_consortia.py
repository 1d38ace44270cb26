"""consortia: teaming board, partner invitations, consortia, sub-contract packages, payment reports and concerns

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payment_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('prime_organisation_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('invoiced_on', sa.Date(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('within_terms', sa.Boolean(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_payment_report_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_payment_report_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['prime_organisation_id'], ['organisation.id'], name=op.f('fk_payment_report_prime_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_payment_report_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_report'))
    )
    with op.batch_alter_table('payment_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_report_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_report_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_report_prime_organisation_id'), ['prime_organisation_id'], unique=False)

    op.create_table('subcontract_package',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('cpv_codes', sa.JSON(), nullable=False),
    sa.Column('area_codes', sa.JSON(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('recommended_tier', sa.Integer(), nullable=True),
    sa.Column('how_to_respond', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_subcontract_package_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_subcontract_package_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_subcontract_package_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subcontract_package'))
    )
    with op.batch_alter_table('subcontract_package', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subcontract_package_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subcontract_package_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subcontract_package_status'), ['status'], unique=False)

    op.create_table('supply_chain_concern',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('prime_organisation_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('withhold_name', sa.Boolean(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answered_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_user_id'], ['user.id'], name=op.f('fk_supply_chain_concern_answered_by_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_supply_chain_concern_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_supply_chain_concern_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['prime_organisation_id'], ['organisation.id'], name=op.f('fk_supply_chain_concern_prime_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_supply_chain_concern_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_chain_concern'))
    )
    with op.batch_alter_table('supply_chain_concern', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_chain_concern_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_chain_concern_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_chain_concern_prime_organisation_id'), ['prime_organisation_id'], unique=False)

    op.create_table('subcontract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('prime_organisation_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_subcontract_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_subcontract_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['package_id'], ['subcontract_package.id'], name=op.f('fk_subcontract_package_id_subcontract_package'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['prime_organisation_id'], ['organisation.id'], name=op.f('fk_subcontract_prime_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subcontract'))
    )
    with op.batch_alter_table('subcontract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subcontract_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subcontract_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subcontract_package_id'), ['package_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subcontract_prime_organisation_id'), ['prime_organisation_id'], unique=False)

    op.create_table('subcontract_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=15), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_subcontract_response_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['package_id'], ['subcontract_package.id'], name=op.f('fk_subcontract_response_package_id_subcontract_package'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_subcontract_response_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subcontract_response')),
    sa.UniqueConstraint('package_id', 'organisation_id', name=op.f('uq_subcontract_response_package_id'))
    )
    with op.batch_alter_table('subcontract_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subcontract_response_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subcontract_response_package_id'), ['package_id'], unique=False)

    op.create_table('teaming_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_teaming_post_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lot_id'], ['opportunity_lot.id'], name=op.f('fk_teaming_post_lot_id_opportunity_lot'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_teaming_post_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_teaming_post_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teaming_post'))
    )
    with op.batch_alter_table('teaming_post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teaming_post_lot_id'), ['lot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_teaming_post_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_teaming_post_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('consortium',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('lead_organisation_id', sa.Integer(), nullable=False),
    sa.Column('interest_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('charter_version', sa.Integer(), nullable=False),
    sa.Column('payment_days', sa.Integer(), nullable=True),
    sa.Column('management_fee', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('risk_sharing', sa.Text(), nullable=True),
    sa.Column('disputes', sa.Text(), nullable=True),
    sa.Column('charter_updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['interest_id'], ['opportunity_interest.id'], name=op.f('fk_consortium_interest_id_opportunity_interest'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_organisation_id'], ['organisation.id'], name=op.f('fk_consortium_lead_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lot_id'], ['opportunity_lot.id'], name=op.f('fk_consortium_lot_id_opportunity_lot'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_consortium_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['teaming_post.id'], name=op.f('fk_consortium_post_id_teaming_post'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consortium'))
    )
    with op.batch_alter_table('consortium', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consortium_lead_organisation_id'), ['lead_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consortium_opportunity_id'), ['opportunity_id'], unique=False)

    op.create_table('partner_role',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('delivers', sa.Text(), nullable=True),
    sa.Column('cpv_codes', sa.JSON(), nullable=False),
    sa.Column('area_codes', sa.JSON(), nullable=False),
    sa.Column('client_group_ids', sa.JSON(), nullable=False),
    sa.Column('recommended_tier', sa.Integer(), nullable=True),
    sa.Column('work_share', sa.Integer(), nullable=True),
    sa.Column('value_share', sa.Integer(), nullable=True),
    sa.Column('filled_by_organisation_id', sa.Integer(), nullable=True),
    sa.Column('filled_at', sa.DateTime(), nullable=True),
    sa.Column('removed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['filled_by_organisation_id'], ['organisation.id'], name=op.f('fk_partner_role_filled_by_organisation_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['post_id'], ['teaming_post.id'], name=op.f('fk_partner_role_post_id_teaming_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_role'))
    )
    with op.batch_alter_table('partner_role', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_role_post_id'), ['post_id'], unique=False)

    op.create_table('consortium_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consortium_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=15), nullable=False),
    sa.Column('delivers', sa.Text(), nullable=True),
    sa.Column('area_codes', sa.JSON(), nullable=False),
    sa.Column('work_share', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('value_share', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.Column('left_at', sa.DateTime(), nullable=True),
    sa.Column('confirmed_version', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('confirmed_by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_user_id'], ['user.id'], name=op.f('fk_consortium_member_confirmed_by_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['consortium_id'], ['consortium.id'], name=op.f('fk_consortium_member_consortium_id_consortium'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_consortium_member_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consortium_member')),
    sa.UniqueConstraint('consortium_id', 'organisation_id', name=op.f('uq_consortium_member_consortium_id'))
    )
    with op.batch_alter_table('consortium_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consortium_member_consortium_id'), ['consortium_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consortium_member_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('consortium_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consortium_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consortium_id'], ['consortium.id'], name=op.f('fk_consortium_message_consortium_id_consortium'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_consortium_message_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_consortium_message_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consortium_message'))
    )
    with op.batch_alter_table('consortium_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consortium_message_consortium_id'), ['consortium_id'], unique=False)

    op.create_table('partner_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('role_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('invited_by_organisation_id', sa.Integer(), nullable=False),
    sa.Column('invited_by_user_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answered_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_user_id'], ['user.id'], name=op.f('fk_partner_invitation_answered_by_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['invited_by_organisation_id'], ['organisation.id'], name=op.f('fk_partner_invitation_invited_by_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_user_id'], ['user.id'], name=op.f('fk_partner_invitation_invited_by_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lot_id'], ['opportunity_lot.id'], name=op.f('fk_partner_invitation_lot_id_opportunity_lot'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_partner_invitation_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_partner_invitation_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['role_id'], ['partner_role.id'], name=op.f('fk_partner_invitation_role_id_partner_role'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_invitation'))
    )
    with op.batch_alter_table('partner_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_invitation_invited_by_organisation_id'), ['invited_by_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_invitation_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_invitation_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_invitation_role_id'), ['role_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_invitation_status'), ['status'], unique=False)

    op.create_table('partner_invitation_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['partner_invitation.id'], name=op.f('fk_partner_invitation_reply_invitation_id_partner_invitation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_partner_invitation_reply_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_partner_invitation_reply_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_invitation_reply'))
    )
    with op.batch_alter_table('partner_invitation_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_invitation_reply_invitation_id'), ['invitation_id'], unique=False)



def downgrade():
    with op.batch_alter_table('partner_invitation_reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_invitation_reply_invitation_id'))

    op.drop_table('partner_invitation_reply')
    with op.batch_alter_table('partner_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_invitation_status'))
        batch_op.drop_index(batch_op.f('ix_partner_invitation_role_id'))
        batch_op.drop_index(batch_op.f('ix_partner_invitation_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_partner_invitation_opportunity_id'))
        batch_op.drop_index(batch_op.f('ix_partner_invitation_invited_by_organisation_id'))

    op.drop_table('partner_invitation')
    with op.batch_alter_table('consortium_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consortium_message_consortium_id'))

    op.drop_table('consortium_message')
    with op.batch_alter_table('consortium_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consortium_member_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_consortium_member_consortium_id'))

    op.drop_table('consortium_member')
    with op.batch_alter_table('partner_role', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_role_post_id'))

    op.drop_table('partner_role')
    with op.batch_alter_table('consortium', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consortium_opportunity_id'))
        batch_op.drop_index(batch_op.f('ix_consortium_lead_organisation_id'))

    op.drop_table('consortium')
    with op.batch_alter_table('teaming_post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teaming_post_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_teaming_post_opportunity_id'))
        batch_op.drop_index(batch_op.f('ix_teaming_post_lot_id'))

    op.drop_table('teaming_post')
    with op.batch_alter_table('subcontract_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subcontract_response_package_id'))
        batch_op.drop_index(batch_op.f('ix_subcontract_response_organisation_id'))

    op.drop_table('subcontract_response')
    with op.batch_alter_table('subcontract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subcontract_prime_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_subcontract_package_id'))
        batch_op.drop_index(batch_op.f('ix_subcontract_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_subcontract_opportunity_id'))

    op.drop_table('subcontract')
    with op.batch_alter_table('supply_chain_concern', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supply_chain_concern_prime_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_supply_chain_concern_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_supply_chain_concern_opportunity_id'))

    op.drop_table('supply_chain_concern')
    with op.batch_alter_table('subcontract_package', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subcontract_package_status'))
        batch_op.drop_index(batch_op.f('ix_subcontract_package_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_subcontract_package_opportunity_id'))

    op.drop_table('subcontract_package')
    with op.batch_alter_table('payment_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_report_prime_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_payment_report_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_payment_report_opportunity_id'))

    op.drop_table('payment_report')
