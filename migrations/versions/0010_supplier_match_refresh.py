"""matching: suppliers whose stored matches are waiting to follow a profile change

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "supplier_match_refresh",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"],
            name=op.f("fk_supplier_match_refresh_organisation_id_organisation"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_supplier_match_refresh")),
    )


def downgrade():
    op.drop_table("supplier_match_refresh")
