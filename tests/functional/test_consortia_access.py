"""Who may reach every teaming, consortium and supply-chain page, walked from the URL map so a
new route joins the check by itself: an organisation with no part in a post, an invitation, a
team, a package or a concern gets a 404 for it, whatever the method; a visitor who is not
signed in is sent to sign in (the board alone is open to all); and nothing answers 500."""
import re
from datetime import date, timedelta

import pytest

from portal.consortia import services, subcontracts
from tests.conftest import sign_in
from tests.functional.consortia_world import build_world

# What an organisation with no part in any of the objects below may still open: lists of its
# own, public pages, and starting something of its own on the published entry.
OPEN_TO_ANY_SUPPLIER = {"board", "post", "invitations", "teams", "supply_chain", "packages",
                        "package", "new_post", "new_team", "new_package", "invite",
                        "respond_package", "choose_bid"}
OPEN_TO_EVERYONE = {"board"}


@pytest.fixture
def objects(app, ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path))
    with app.test_request_context():
        world = build_world()
        post = services.create_post(world.entry, world.prime_user, "lead", "Bidding as lead")
        roles = [services.add_role(post, world.prime_user, title=title, delivers=title,
                                   cpv_codes=["85312000"], area_codes=[], client_group_ids=[],
                                   recommended_tier=None, work_share=None, value_share=None)
                 for title in ("Short breaks", "Peer support")]
        accepted = services.invite_partner(world.entry, world.carers, world.prime_user,
                                           role=roles[0])
        team = services.accept_invitation(accepted, world.carers_user)
        waiting = services.invite_partner(world.entry, world.respite, world.prime_user,
                                          role=roles[1])
        package = subcontracts.create_package(
            world.entry, world.prime_user, title="Peer groups", description="Weekly groups",
            cpv_codes=[], area_codes=[], value=10_000, starts_on=None, ends_on=None,
            closes_on=date.today() + timedelta(days=10), recommended_tier=None,
            how_to_respond=None)
        response = subcontracts.respond_to_package(package, world.respite_user, "We can")
        shared = services.share_file(team, world.carers_user, "plan.pdf",
                                     b"%PDF-1.4\n%%EOF\n")
        concern = subcontracts.raise_concern(world.carers_user, world.entry.id, world.prime.id,
                                             "Paid late", False)
    world.args = {
        "post_id": post.id, "role_id": roles[1].id, "invitation_id": waiting.id,
        "consortium_id": team.id, "package_id": package.id, "response_id": response.id,
        "status": "shortlisted", "concern_id": concern.id, "opportunity_id": world.entry.id,
        "organisation_id": world.respite.id, "prime_id": world.prime.id,
        "file_id": shared.id}
    return world


def _routes(app, objects):
    """(endpoint name, method, path) for every consortia route, its parameters filled in."""
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("consortia."):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{_converter(rule, name)}{name}>", str(objects.args[name]))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint.split(".", 1)[1], method, path


def _converter(rule, name):
    found = re.search(rf"<([^>]*:)?{name}>", rule.rule)
    return found.group(1) or ""


def _request(client, method, path):
    return client.get(path) if method == "GET" else client.post(path, data={})


def test_an_organisation_with_no_part_gets_404_for_everything_that_is_not_its_own(
        app, client, objects):
    sign_in(client, objects.outsider_user.email)
    seen = set()
    for name, method, path in _routes(app, objects):
        status = _request(client, method, path).status_code
        assert status < 500, (name, method, path, status)
        if name not in OPEN_TO_ANY_SUPPLIER:
            assert status == 404, (name, method, path, status)
        seen.add(name)
    assert len(seen) >= 42


def test_the_buyer_sees_no_team_invitation_or_post_of_its_suppliers(app, client, objects):
    sign_in(client, objects.buyer_user.email)
    private = {"workspace", "pack", "charter", "shares", "post_message", "confirm_charter",
               "hand_over", "leave", "express_interest", "invitation", "accept_invitation",
               "decline_invitation", "reply_invitation", "withdraw_invitation", "edit_post",
               "share_file", "download_file", "remove_file",
               "withdraw_post", "new_role", "edit_role", "remove_role", "role_suggestions",
               "edit_package", "withdraw_package", "move_response", "select_response"}
    for name, method, path in _routes(app, objects):
        status = _request(client, method, path).status_code
        assert status < 500, (name, method, path, status)
        if name in private:
            assert status == 404, (name, method, path, status)


def test_a_visitor_who_is_not_signed_in_is_asked_to_sign_in(app, client, objects):
    for name, method, path in _routes(app, objects):
        response = _request(client, method, path)
        if name in OPEN_TO_EVERYONE:
            assert response.status_code == 200, (name, path)
        else:
            assert response.status_code == 302 and "/sign-in" in response.location, (
                name, method, path, response.status_code)


def test_each_member_reaches_its_own_team_and_nobody_elses_invitation(app, client, objects):
    team, invitation = objects.args["consortium_id"], objects.args["invitation_id"]
    sign_in(client, objects.carers_user.email)
    assert client.get(f"/consortia/{team}").status_code == 200
    assert client.get(f"/consortia/invitations/{invitation}").status_code == 404
    client.post("/sign-out")
    sign_in(client, objects.respite_user.email)
    assert client.get(f"/consortia/{team}").status_code == 404
    assert client.get(f"/consortia/invitations/{invitation}").status_code == 200
