"""Use cases for alerts: subscribe, change, stop, and the run that finds and sends matches.

The run is safe to repeat and to interrupt. Finding matches and sending them are separate steps,
each committed per subscription: a match is recorded once (a unique key on the object's version),
and an email is written to the outbox in the same transaction that marks its matches as sent. A
crash therefore leaves each subscription either untouched or finished, never half-sent.
"""
from dataclasses import dataclass

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.alerts.models import KINDS, AlertDelivery, AlertItem, AlertSubscription
from portal.alerts.sources import SOURCES, find_hits
from portal.core.audit import record
from portal.core.exceptions import DomainError, NotFound
from portal.core.mail import send_email
from portal.core.mixins import utcnow
from portal.extensions import db

MAX_ITEMS_PER_EMAIL = 50


def _unsubscribe_serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="alert-unsubscribe")


def unsubscribe_token(subscription):
    return _unsubscribe_serializer().dumps(subscription.id)


def subscribe(user, source, name, params, frequency, kind="search"):
    """Save a search (or a profile alert) for `user`."""
    if source not in SOURCES:
        raise DomainError("Unknown kind of alert")
    if kind not in KINDS:
        raise DomainError("Unknown kind of alert")
    name = (name or "").strip()
    if not name:
        raise DomainError("Enter a name for the alert", field="name")
    subscription = AlertSubscription(user=user, kind=kind, source=source, name=name[:120],
                                     params={k: v for k, v in params.items() if v})
    subscription.set_frequency(frequency)
    db.session.add(subscription)
    db.session.flush()
    record("alert.subscribed", subscription, actor_id=user.id, source=source, frequency=frequency)
    db.session.commit()
    return subscription


def own_subscription(user, subscription_id):
    subscription = db.session.get(AlertSubscription, subscription_id)
    if subscription is None or subscription.user_id != user.id:
        raise NotFound("Not found")
    return subscription


def list_subscriptions(user):
    return db.session.scalars(select(AlertSubscription).where(AlertSubscription.user_id == user.id)
                              .order_by(AlertSubscription.created_at.desc())).all()


def recent_deliveries(user, limit=20):
    return db.session.scalars(
        select(AlertDelivery).join(AlertSubscription)
        .where(AlertSubscription.user_id == user.id)
        .order_by(AlertDelivery.sent_at.desc(), AlertDelivery.id.desc()).limit(limit)).all()


def change_frequency(user, subscription_id, frequency):
    subscription = own_subscription(user, subscription_id)
    subscription.set_frequency(frequency)
    subscription.active = True
    record("alert.changed", subscription, actor_id=user.id, frequency=frequency)
    db.session.commit()
    return subscription


def stop(user, subscription_id):
    subscription = own_subscription(user, subscription_id)
    db.session.delete(subscription)
    record("alert.deleted", None, actor_id=user.id, subscription_id=subscription_id)
    db.session.commit()


def subscription_for_token(token):
    try:
        subscription_id = _unsubscribe_serializer().loads(token)
    except BadSignature:
        raise DomainError("This unsubscribe link is not valid")
    subscription = db.session.get(AlertSubscription, subscription_id)
    if subscription is None:
        raise DomainError("This alert no longer exists")
    return subscription


def unsubscribe(token):
    """Stop an alert from the link in its email (no sign-in needed: the link is signed)."""
    subscription = subscription_for_token(token)
    if subscription.active:
        subscription.active = False
        record("alert.unsubscribed", subscription, actor_id=subscription.user_id)
        db.session.commit()
    return subscription


@dataclass
class RunReport:
    subscriptions: int = 0
    new_items: int = 0
    emails: int = 0
    items_sent: int = 0


def _active_subscriptions():
    return db.session.scalars(select(AlertSubscription.id).where(AlertSubscription.active.is_(True))
                              .order_by(AlertSubscription.id)).all()


def collect(subscription):
    """Record hits not seen before for this subscription. Returns how many were new."""
    seen = set(db.session.execute(
        select(AlertItem.object_type, AlertItem.object_id, AlertItem.version)
        .where(AlertItem.subscription_id == subscription.id)).all())
    new = [hit for hit in find_hits(subscription)
           if (hit.object_type, hit.object_id, hit.version) not in seen]
    for hit in new:
        db.session.add(AlertItem(subscription_id=subscription.id, object_type=hit.object_type,
                                 object_id=hit.object_id, version=hit.version, title=hit.title[:300],
                                 path=hit.path[:300], reason=(hit.reason or "")[:500]))
    try:
        db.session.commit()
    except IntegrityError:  # a run alongside this one recorded them first: nothing is lost
        db.session.rollback()
        return 0
    return len(new)


def deliver(subscription, now):
    """Email the unsent items of a due subscription and mark them sent, in one transaction."""
    if not subscription.is_due(now) or not subscription.user.is_active:
        return 0
    # Claimed until the commit: a run alongside this one skips them rather than emailing them
    # again (PostgreSQL; SQLite writes one transaction at a time anyway).
    items = db.session.scalars(select(AlertItem).where(
        AlertItem.subscription_id == subscription.id, AlertItem.delivery_id.is_(None))
        .order_by(AlertItem.id).limit(MAX_ITEMS_PER_EMAIL)
        .with_for_update(skip_locked=True)).all()
    if not items:
        return 0
    token = unsubscribe_token(subscription)
    unsubscribe_url = url_for("alerts.unsubscribe", token=token, _external=True)
    message = send_email(
        subscription.user.email, f"{len(items)} new for '{subscription.name}'", "email/alert.txt",
        headers={"List-Unsubscribe": f"<{unsubscribe_url}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        subscription=subscription, items=items, unsubscribe_url=unsubscribe_url,
        base_url=url_for("main.home", _external=True).rstrip("/"),
        manage_url=url_for("alerts.index", _external=True))
    db.session.flush()
    delivery = AlertDelivery(subscription_id=subscription.id, item_count=len(items),
                             outbox_message_id=message.id, sent_at=now)
    db.session.add(delivery)
    db.session.flush()
    for item in items:
        item.delivery_id = delivery.id
    subscription.last_sent_at = now
    db.session.commit()
    return len(items)


def run(now=None, progress=None):
    """Find and send alerts for every active subscription. Safe to run again at any time."""
    now = now or utcnow()
    report = RunReport()
    for subscription_id in _active_subscriptions():
        subscription = db.session.get(AlertSubscription, subscription_id)
        report.subscriptions += 1
        report.new_items += collect(subscription)
        sent = deliver(subscription, now)
        report.items_sent += sent
        report.emails += 1 if sent else 0
        if progress:
            progress(report)
    return report
