"""Alert subscriptions, the matches found for them and the emails that carried them."""
from datetime import datetime, timedelta

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.exceptions import DomainError
from portal.core.mixins import TimestampMixin, utcnow
from portal.extensions import db

FREQUENCIES = {
    "instant": ("As soon as we find a match", timedelta(0)),
    "daily": ("Once a day", timedelta(days=1)),
    "weekly": ("Once a week", timedelta(days=7)),
}
KINDS = {"search": "Saved search", "profile": "Matches for your organisation's profile"}


class AlertSubscription(TimestampMixin, db.Model):
    __tablename__ = "alert_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    source: Mapped[str] = mapped_column(String(30), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    frequency: Mapped[str] = mapped_column(String(10), nullable=False, default="daily")
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    user = relationship("User")
    items = relationship("AlertItem", back_populates="subscription", cascade="all, delete-orphan",
                         passive_deletes=True)

    def set_frequency(self, frequency):
        if frequency not in FREQUENCIES:
            raise DomainError("Choose how often you want emails", field="frequency")
        self.frequency = frequency

    @property
    def frequency_label(self):
        return FREQUENCIES[self.frequency][0]

    def is_due(self, now):
        """Whether a digest may go out now: instant always, others after their interval."""
        if self.last_sent_at is None:
            return True
        return now - self.last_sent_at >= FREQUENCIES[self.frequency][1]


class AlertItem(db.Model):
    """One version of one matching object for one subscription; unique, so it is sent once."""

    __tablename__ = "alert_item"
    __table_args__ = (UniqueConstraint("subscription_id", "object_type", "object_id", "version",
                                       name="uq_alert_item_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("alert_subscription.id", ondelete="CASCADE"), nullable=False, index=True)
    object_type: Mapped[str] = mapped_column(String(30), nullable=False)
    object_id: Mapped[int] = mapped_column(Integer, nullable=False)
    version: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    path: Mapped[str] = mapped_column(String(300), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(500))
    found_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("alert_delivery.id", ondelete="SET NULL"),
                                                    index=True)

    subscription = relationship("AlertSubscription", back_populates="items")


class AlertDelivery(db.Model):
    """An email that carried some alert items: what the person can see as 'sent'."""

    __tablename__ = "alert_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("alert_subscription.id", ondelete="CASCADE"), nullable=False, index=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    item_count: Mapped[int] = mapped_column(Integer, nullable=False)
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL"))

    subscription = relationship("AlertSubscription")
    items = relationship("AlertItem", order_by="AlertItem.id")
