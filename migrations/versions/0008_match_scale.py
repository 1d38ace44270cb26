"""matching: keep the scale of each entry's stored scores, so one supplier can be scored again

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("opportunity_match_refresh", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_best", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("text_leader_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("buyer_clue", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("candidates", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("opportunity_match_refresh", schema=None) as batch_op:
        batch_op.drop_column("candidates")
        batch_op.drop_column("buyer_clue")
        batch_op.drop_column("text_leader_id")
        batch_op.drop_column("text_best")
