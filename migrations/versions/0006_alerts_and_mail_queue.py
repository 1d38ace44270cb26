"""Email alerts; outbox messages queued for SMTP after commit

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=10), nullable=False, server_default="stored"))
        batch_op.add_column(sa.Column("headers", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_message_status"), ["status"], unique=False)
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)
        batch_op.alter_column("attempts", server_default=None)

    op.create_table(
        "alert_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_alert_subscription_user_id_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_subscription")),
    )
    with op.batch_alter_table("alert_subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_subscription_user_id"), ["user_id"], unique=False)

    op.create_table(
        "alert_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["outbox_message_id"], ["outbox_message.id"],
                                name=op.f("fk_alert_delivery_outbox_message_id_outbox_message"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["subscription_id"], ["alert_subscription.id"],
                                name=op.f("fk_alert_delivery_subscription_id_alert_subscription"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_delivery")),
    )
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_delivery_subscription_id"), ["subscription_id"], unique=False)

    op.create_table(
        "alert_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=30), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["alert_delivery.id"],
                                name=op.f("fk_alert_item_delivery_id_alert_delivery"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["subscription_id"], ["alert_subscription.id"],
                                name=op.f("fk_alert_item_subscription_id_alert_subscription"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_item")),
        sa.UniqueConstraint("subscription_id", "object_type", "object_id", "version",
                            name="uq_alert_item_once"),
    )
    with op.batch_alter_table("alert_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_item_delivery_id"), ["delivery_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_item_subscription_id"), ["subscription_id"], unique=False)


def downgrade():
    op.drop_table("alert_item")
    op.drop_table("alert_delivery")
    op.drop_table("alert_subscription")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_status"))
        for column in ("sent_at", "attempts", "message_id", "headers", "status"):
            batch_op.drop_column(column)
