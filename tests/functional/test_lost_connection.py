"""The database lost: a connection dropped as a request ends, and a database host that
accepts a connection but never answers."""
import socket
import threading

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from config import TestingConfig
from portal import create_app


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


@pytest.fixture
def silent_database():
    """A port that takes connections into its queue and never answers them."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield f"postgresql+psycopg://postgres@127.0.0.1:{server.getsockname()[1]}/test"
    server.close()


def test_a_database_that_never_answers_gives_the_503_page_within_the_timeout(silent_database):
    class Silent(TestingConfig):
        SQLALCHEMY_DATABASE_URI = silent_database
        DATABASE_CONNECT_TIMEOUT = 1

    app, answers = create_app(Silent), []
    asking = threading.Thread(target=lambda: answers.append(app.test_client().get("/healthz")),
                              daemon=True)
    asking.start()
    asking.join(timeout=5)
    assert answers, "the request was still waiting for the database after 5 s"
    assert answers[0].status_code == 503
