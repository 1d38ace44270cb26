"""forward plan: an index in the plan's default order (most recently changed first)

A page of the forward plan is read from this index instead of sorting every entry on each
request.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_opportunity_plan_order", "opportunity", ["updated_at", "id"])


def downgrade():
    op.drop_index("ix_opportunity_plan_order", table_name="opportunity")
