"""Machinery of the access matrix: who the principals are for a route, the URL of a route
filled from the world, signed-in clients, and what a response amounts to.

The expectations themselves are in test_access_matrix.py.
"""
from flask import url_for
from sqlalchemy import func, select

from portal.core.audit import AuditEvent

from portal.extensions import db
from tests.conftest import sign_in

PRINCIPALS = ("anon", "other_member", "other_admin", "member", "assessor", "board",
              "unverified", "site_admin", "owner")

# By the kind of organisation that owns a route's object: its administrator (the owner), its
# member without the admin role, and an administrator and a member of another organisation
# of the same standing.
OWNERS = {
    "buyer": ("buyer_a_admin", "buyer_a_member", "buyer_c_admin", "buyer_c_member"),
    "vcse": ("vcse1_admin", "vcse1_member", "vcse2_admin", "vcse2_member"),
    "prime": ("prime_admin", "prime_member", "vcse2_admin", "vcse2_member"),
    "body": ("body_admin", "body_member", "vcse2_admin", "vcse2_member"),
    "site": ("site_admin", "vcse1_member", "vcse2_admin", "vcse2_member"),
}
# The same people whatever the route: an assessor who declared a conflict on the application,
# a board member (an administrator of the accreditation body) who has declared nothing, the
# unverified buyer's administrator and the site administrator.
FIXED = {"assessor": "assessor", "board": "board_member", "unverified": "buyer_b_admin",
         "site_admin": "site_admin"}


def person(world, owner_kind, principal):
    """The user playing `principal` on a route owned by `owner_kind`; None when anonymous."""
    if principal == "anon":
        return None
    if principal in FIXED:
        return getattr(world, FIXED[principal])
    owner, member, other_admin, other_member = OWNERS[owner_kind]
    name = {"owner": owner, "member": member, "other_admin": other_admin,
            "other_member": other_member}[principal]
    return getattr(world, name)


def value_of(world, name):
    """A world attribute as a URL value: an object's id, or the value itself."""
    found = getattr(world, name)
    return getattr(found, "id", found)


def url_of(rule, world, args):
    """The rule's URL with each path argument taken from `args` (world attribute names or
    literal values written as ('=', value))."""
    values = {}
    for name in rule.arguments:
        chosen = args.get(name)
        if chosen is None:
            raise AssertionError(f"{rule.endpoint}: no value for <{name}> in the table")
        values[name] = chosen[1] if isinstance(chosen, tuple) else value_of(world, chosen)
    return url_for(rule.endpoint, **values)


def outcome(response):
    """'login' for a redirect to the sign-in page, else the status code."""
    if response.status_code in (301, 302, 303):
        location = response.headers.get("Location", "")
        return "login" if "/sign-in" in location.split("?")[0] else 302
    return response.status_code


class Clients:
    """One test client per person, signed in once; an anonymous one for everyone else."""

    def __init__(self, app):
        self.app, self._clients = app, {}

    def for_user(self, user):
        key = getattr(user, "id", None)
        if key not in self._clients:
            client = self.app.test_client()
            if user is not None:
                sign_in(client, user.email)
            self._clients[key] = client
        return self._clients[key]


def fingerprint():
    """The number of rows in every table and the last audit event: every use case records an
    event, so equal before and after means a request changed nothing."""
    tables = [t for t in db.metadata.sorted_tables]
    counts = [select(func.count()).select_from(t).scalar_subquery() for t in tables]
    counts.append(select(func.max(AuditEvent.id)).scalar_subquery())
    db.session.expire_all()
    with db.engine.connect() as connection:
        return tuple(connection.execute(select(*counts)).one())
