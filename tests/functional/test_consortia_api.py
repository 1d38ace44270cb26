"""Teaming and consortia in the JSON API: board posts for anyone signed in or with a token,
a consortium only for its members, every body valid against the OpenAPI document."""
import pytest

from portal.api.services import issue_token
from portal.consortia import services
from tests.conftest import sign_in
from tests.functional.consortia_world import build_world


@pytest.fixture
def world(app, ctx):
    with app.test_request_context():
        world = build_world()
        post = services.create_post(world.entry, world.prime_user, "lead",
                                    "Bidding for the whole Leeds service")
        role = services.add_role(post, world.prime_user, title="Short breaks for carers",
                                 delivers="Short breaks and peer support for unpaid carers",
                                 cpv_codes=["85312000"], area_codes=[], client_group_ids=[],
                                 recommended_tier=2, work_share=30, value_share=25)
        team = services.accept_invitation(
            services.invite_partner(world.entry, world.carers, world.prime_user, role=role),
            world.carers_user)
        world.team_id = team.id
        return world


def test_board_posts_need_a_caller_and_match_the_schema(client, world, conforms):
    assert client.get("/api/v1/teaming-posts").status_code == 401
    sign_in(client, world.outsider_user.email)
    body = client.get("/api/v1/teaming-posts?q=carers").get_json()
    conforms(body, "TeamingPostList")
    assert [p["organisation"]["name"] for p in body["items"]] == [
        "Northern Care Partnership Ltd"]
    assert body["items"][0]["roles"] == []  # the role has been filled
    assert client.get("/api/v1/teaming-posts?q=allotments").get_json()["total"] == 0
    # Words of the entry are found through the forward plan's index, stems and all.
    assert client.get("/api/v1/teaming-posts?q=advice").get_json()["total"] == 1
    assert client.get("/api/v1/teaming-posts?q=break").get_json()["total"] == 1
    assert client.get("/api/v1/teaming-posts?kind=nonsense").status_code == 400


def test_a_consortium_is_read_only_by_its_members(client, world, conforms):
    sign_in(client, world.carers_user.email)
    body = client.get(f"/api/v1/consortia/{world.team_id}").get_json()
    conforms(body, "Consortium")
    assert [m["organisation"]["name"] for m in body["members"]] == [
        "Northern Care Partnership Ltd", "Leeds Carers Circle"]
    listing = client.get("/api/v1/consortia").get_json()
    conforms(listing, "ConsortiumList")
    assert [t["id"] for t in listing["items"]] == [world.team_id]
    client.post("/sign-out")
    sign_in(client, world.outsider_user.email)
    assert client.get(f"/api/v1/consortia/{world.team_id}").status_code == 404
    assert client.get("/api/v1/consortia").get_json() == {"items": []}


def test_a_token_reads_its_own_organisations_consortia(app, client, world):
    with app.test_request_context():
        _, token = issue_token(world.respite_user, "Bid tools")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/consortia/{world.team_id}", headers=headers).status_code == 404
    assert client.get("/api/v1/consortia", headers=headers).get_json() == {"items": []}


def test_open_packages_are_listed_and_match_the_schema(app, client, world, conforms):
    from datetime import date, timedelta

    from portal.consortia import subcontracts

    with app.test_request_context():
        subcontracts.create_package(
            world.entry, world.prime_user, title="Peer support groups",
            description="Weekly groups for unpaid carers", cpv_codes=["85312000"],
            area_codes=[], value=40_000, starts_on=None, ends_on=None,
            closes_on=date.today() + timedelta(days=14), recommended_tier=None,
            how_to_respond=None)
    sign_in(client, world.outsider_user.email)
    body = client.get("/api/v1/subcontract-packages?q=peer").get_json()
    conforms(body, "SubcontractPackageList")
    assert [p["title"] for p in body["items"]] == ["Peer support groups"]
