"""A connection the database drops while a request ends (its closing rollback fails) is given up,
and the page already made is still what the person gets."""
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session


def test_a_connection_lost_as_the_request_ends_still_gives_the_page(client, monkeypatch):
    real_close, failures = Session.close, []

    def close_on_a_dropped_connection(session):
        if not failures:
            failures.append(session)
            raise OperationalError("ROLLBACK", {}, Exception("server closed the connection"))
        return real_close(session)

    monkeypatch.setattr(Session, "close", close_on_a_dropped_connection)
    response = client.get("/organisations")
    assert failures, "the request's session was never closed"
    assert response.status_code == 200
