"""/healthz: the database and both search indexes decide the answer (503 when the database is
down); the mail and matching backlogs are reported beside them."""
from datetime import timedelta

from config import TestingConfig
from portal import create_app
from portal.core.mail import OutboxMessage
from portal.core.mixins import utcnow
from portal.matching.models import SupplierRefresh


def test_healthz_reports_the_database_both_indexes_and_the_backlogs(client, db, make_org):
    supplier = make_org("Riverside Advice")
    waited = utcnow() - timedelta(minutes=5)
    db.session.add_all([
        OutboxMessage(recipient="someone@example.org", subject="Hello", body="Hi",
                      transport="smtp", status="queued", created_at=waited),
        OutboxMessage(recipient="other@example.org", subject="Hello", body="Hi",
                      transport="outbox", status="stored"),
        SupplierRefresh(organisation_id=supplier.id, requested_at=waited)])
    db.session.commit()
    response = client.get("/healthz")
    checks = response.get_json()["checks"]
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    assert {"database", "search", "forward_plan_search"} <= set(checks)
    assert checks["mail_outbox"]["queued"] == 1  # a stored message waits for no server
    assert 300 <= checks["mail_outbox"]["oldest_queued_seconds"] < 400
    assert checks["matching_backlog"]["suppliers_waiting"] == 1
    assert checks["matching_backlog"]["oldest_waiting_seconds"] >= 300
    assert "someone@example.org" not in response.get_data(as_text=True)


def test_an_empty_backlog_has_no_age(client):
    checks = client.get("/healthz").get_json()["checks"]
    assert checks["mail_outbox"] == {"status": "ok", "queued": 0, "oldest_queued_seconds": None,
                                     "failed": 0}
    assert checks["matching_backlog"]["oldest_waiting_seconds"] is None


def test_healthz_is_503_when_the_database_is_down(tmp_path):
    class Unreachable(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path}/no-such-folder/portal.db"

    response = create_app(Unreachable).test_client().get("/healthz")
    body = response.get_json()
    assert response.status_code == 503 and body["status"] == "error"
    assert body["checks"]["database"] == {"status": "error", "detail": "OperationalError"}
    assert body["checks"]["mail_outbox"] == {"status": "unknown"}
    assert "no-such-folder" not in response.get_data(as_text=True)  # no connection details


def test_healthz_is_503_when_a_query_fails(app, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from portal.extensions import db

    def refuse(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(db.session, "execute", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"]["detail"] == "OperationalError"
