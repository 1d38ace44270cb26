"""Alerts: each match sent once, changed matches again, crash-safe runs, one-click unsubscribe."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.alerts import services
from portal.alerts.models import AlertDelivery, AlertItem, AlertSubscription
from portal.alerts.sources import SOURCES, Hit, source
from portal.core.mail import OutboxMessage
from portal.core.mixins import utcnow
from portal.extensions import db

FAKE_HITS = []


@source("fake", "Test source")
def _fake(subscription, limit):
    return [hit for hit in FAKE_HITS if subscription.params.get("topic") in hit.title][:limit]


@pytest.fixture(autouse=True)
def _reset_hits():
    FAKE_HITS.clear()
    yield
    FAKE_HITS.clear()


def _hit(object_id, title="care contract", version="v1"):
    return Hit("opportunity", object_id, version, title, f"/forward-plan/{object_id}", "Matches")


def _run(app, now=None):
    with app.test_request_context(base_url="http://portal.example"):
        return services.run(now=now)


def _subscribe(user, frequency="instant", topic="care"):
    return services.subscribe(user, "fake", "Care work", {"topic": topic}, frequency)


def _emails():
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_each_match_is_sent_once(app, db, make_user):
    user = make_user()
    _subscribe(user)
    FAKE_HITS.extend([_hit(1), _hit(2), _hit(3, "catering")])
    first = _run(app)
    assert (first.new_items, first.emails, first.items_sent) == (2, 1, 2)
    second = _run(app)
    assert (second.new_items, second.emails) == (0, 0)
    emails = _emails()
    assert len(emails) == 1 and "2 new for 'Care work'" in emails[0].subject
    assert "http://portal.example/forward-plan/1" in emails[0].body
    assert emails[0].headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_changed_match_is_sent_again(app, db, make_user):
    _subscribe(make_user())
    FAKE_HITS.append(_hit(1))
    _run(app)
    FAKE_HITS[0] = _hit(1, version="v2")
    assert _run(app).items_sent == 1
    assert len(_emails()) == 2


def test_daily_alert_waits_for_its_interval(app, db, make_user):
    _subscribe(make_user(), frequency="daily")
    FAKE_HITS.append(_hit(1))
    now = utcnow()
    assert _run(app, now).emails == 1
    FAKE_HITS.append(_hit(2))
    assert _run(app, now + timedelta(hours=2)).emails == 0      # found, but held back
    assert db.session.scalar(select(db.func.count(AlertItem.id)).where(AlertItem.delivery_id.is_(None))) == 1
    assert _run(app, now + timedelta(days=1, minutes=1)).emails == 1


def test_crash_mid_run_neither_loses_nor_duplicates(app, db, make_user, monkeypatch):
    first_user, second_user = make_user(), make_user()
    _subscribe(first_user)
    _subscribe(second_user)
    FAKE_HITS.extend([_hit(1), _hit(2)])
    real_deliver = services.deliver
    calls = {"n": 0}

    def crashing_deliver(subscription, now):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real_deliver(subscription, now)

    monkeypatch.setattr(services, "deliver", crashing_deliver)
    with pytest.raises(RuntimeError):
        _run(app)
    db.session.rollback()
    monkeypatch.setattr(services, "deliver", real_deliver)
    _run(app)
    _run(app)
    recipients = sorted(m.recipient for m in _emails())
    assert recipients == sorted([first_user.email, second_user.email])
    assert db.session.scalar(select(db.func.count(AlertDelivery.id))) == 2


def test_suspended_user_gets_nothing(app, db, make_user):
    user = make_user()
    _subscribe(user)
    user.set_status("suspended")
    db.session.commit()
    FAKE_HITS.append(_hit(1))
    assert _run(app).emails == 0


def test_one_click_unsubscribe(app, client, db, make_user):
    _subscribe(make_user())
    FAKE_HITS.append(_hit(1))
    _run(app)
    link = re.search(r"http://portal.example(/alerts/unsubscribe/\S+)", _emails()[0].body).group(1)
    assert "Unsubscribe" in client.get(link).get_data(as_text=True)
    assert client.post(link).status_code == 200      # no sign-in and no CSRF token needed
    assert db.session.scalar(select(AlertSubscription.active)) is False
    FAKE_HITS.append(_hit(2))
    assert _run(app).emails == 0
    assert client.get("/alerts/unsubscribe/forged-token").status_code == 400


def test_manage_alerts_pages(app, client, login, make_user):
    user = make_user()
    login(user)
    response = client.post("/alerts/new?source=fake&topic=care", data={"name": "Care", "frequency": "weekly"})
    assert response.status_code == 302
    page = client.get("/alerts").get_data(as_text=True)
    assert "Care" in page and "Once a week" in page and "topic: care" in page
    with app.app_context():
        subscription_id = db.session.scalar(select(AlertSubscription.id))
    assert client.post(f"/alerts/{subscription_id}", data={"frequency": "daily"}).status_code == 302
    missing_name = client.post("/alerts/new?source=fake", data={"name": "", "frequency": "daily"})
    assert "Enter a name for the alert" in missing_name.get_data(as_text=True)
    assert client.post(f"/alerts/{subscription_id}/delete").status_code == 302
    assert "You have no alerts" in client.get("/alerts").get_data(as_text=True)


def test_history_shows_what_was_sent(app, client, login, make_user):
    user = make_user()
    with app.app_context():
        _subscribe(db.session.get(type(user), user.id))
    FAKE_HITS.append(_hit(7, "care at home"))
    _run(app)
    login(user)
    assert "care at home" in client.get("/alerts").get_data(as_text=True)


def test_other_peoples_alerts_are_404(app, client, login, make_user):
    owner = make_user()
    with app.app_context():
        subscription = _subscribe(db.session.get(type(owner), owner.id))
        subscription_id = subscription.id
    login(make_user())
    assert client.get(f"/alerts/{subscription_id}").status_code == 404
    assert client.post(f"/alerts/{subscription_id}/delete").status_code == 404


def test_unknown_frequency_refused(db, make_user):
    from portal.core.exceptions import DomainError
    with pytest.raises(DomainError):
        services.subscribe(make_user(), "fake", "X", {}, "hourly")


def test_forward_plan_source_sends_new_and_changed_public_entries(app, db, make_user, make_org):
    from portal.pipeline import services as pipeline

    officer = make_user(make_org("Leeds City Council", org_type="commissioner"))
    reader = make_user(make_org("Leeds Carers Trust"))
    services.subscribe(reader, "forward_plan", "Carers in Leeds", {"q": "carers"}, "instant")
    values = {"title": "Carers support service", "description": "Advice and short breaks",
              "main_cpv_code": "85312000", "areas": "Leeds", "value_min": 400_000,
              "value_basis": "whole_life", "suitable_vcse": True}
    draft = pipeline.create_opportunity(officer.organisation, values, officer)
    assert _run(app).new_items == 0                      # a draft is not public
    pipeline.change_status(draft, "planned", officer, {})
    other = pipeline.create_opportunity(officer.organisation, {**values, "title": "Road gritting",
                                                               "description": "Winter roads"}, officer)
    pipeline.change_status(other, "planned", officer, {})
    first = _run(app)
    assert (first.new_items, first.emails) == (1, 1)
    assert "/forward-plan/" in _emails()[-1].body and "Carers support service" in _emails()[-1].body
    assert _run(app).new_items == 0
