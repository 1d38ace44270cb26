"""organisations and the index change log: indexes for counting and for versions

The directory counts organisations by status, type and income band from an index alone,
instead of reading every row; the forward plan reads the newest change to its entries (the
version its kept filter counts depend on) from an index instead of scanning the log.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_organisation_counting", "organisation",
                    ["status", "org_type", "income_band"])
    op.create_index("ix_index_changes_type_newest", "index_changes", ["document_type", "id"])


def downgrade():
    op.drop_index("ix_index_changes_type_newest", table_name="index_changes")
    op.drop_index("ix_organisation_counting", table_name="organisation")
