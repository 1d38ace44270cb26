"""organisations: indexes for the directory's filters and their counts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_organisation_status", "organisation", ["status"])
    op.create_index("ix_organisation_area_area_code", "organisation_area", ["area_code"])
    op.create_index("ix_organisation_cpv_cpv_code", "organisation_cpv", ["cpv_code"])


def downgrade():
    op.drop_index("ix_organisation_cpv_cpv_code", table_name="organisation_cpv")
    op.drop_index("ix_organisation_area_area_code", table_name="organisation_area")
    op.drop_index("ix_organisation_status", table_name="organisation")
