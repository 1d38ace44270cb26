"""organisations: an index in the directory's name order, so a page of the directory (sorted
by name, its default without a search) is read from the index instead of sorting every
organisation on each request

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_organisation_name_order", "organisation",
                    [sa.text("lower(name)"), "id"])


def downgrade():
    op.drop_index("ix_organisation_name_order", table_name="organisation")
