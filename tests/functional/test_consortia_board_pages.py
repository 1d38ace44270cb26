"""The teaming board's pages: posting, roles, suggested partners, invitations answered from the
dashboard, who may see what, and the board on an entry's page."""
import pytest

from portal.consortia import services
from portal.consortia.models import PartnerInvitation, TeamingPost
from tests import factories
from tests.conftest import csrf_token_from
from tests.functional.consortia_world import build_world, make_entry

SUMMARY = "Bidding to deliver the whole service across Leeds"


@pytest.fixture
def world(app, ctx):
    with app.test_request_context():
        yield build_world()


@pytest.fixture
def sign_in(client):
    def switch(user):
        client.post("/sign-out")
        response = client.post("/sign-in", data={"email": user.email,
                                                 "password": factories.PASSWORD})
        assert response.status_code == 302
    return switch


def _page(client, url):
    response = client.get(url)
    assert response.status_code != 500
    return response.status_code, response.get_data(as_text=True)


def _lead_post(world, roles=1):
    post = services.create_post(world.entry, world.prime_user, "lead", SUMMARY)
    for n in range(roles):
        services.add_role(post, world.prime_user, title=f"Carers' short breaks {n + 1}",
                          delivers="Short breaks and peer support groups for unpaid carers",
                          cpv_codes=["85312000"], area_codes=[], client_group_ids=[],
                          recommended_tier=None, work_share=30, value_share=25)
    return post


def _invitation(world, role=None, message="Would you deliver the short breaks?"):
    return services.invite_partner(world.entry, world.carers, world.prime_user, role=role,
                                   message=message)


# --- Posting ------------------------------------------------------------------------------------

def test_a_supplier_posts_and_mistakes_keep_what_was_typed(client, sign_in, world):
    sign_in(world.prime_user)
    url = f"/forward-plan/{world.entry.id}/teaming/new"
    status, html = _page(client, url)
    assert status == 200 and "<legend" in html and "What are you posting?" in html
    response = client.post(url, data={"summary": "Our typed summary"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose whether you are looking for partners or available as one" in html
    assert "Our typed summary" in html and "govuk-error-summary" in html
    response = client.post(url, data={"kind": "lead", "summary": "  "})
    assert "Enter what you will bid for and the partners you need" in response.get_data(
        as_text=True)
    response = client.post(url, data={"kind": "lead", "summary": SUMMARY})
    assert response.status_code == 302
    post = TeamingPost.query.one()
    assert response.headers["Location"].endswith(f"/consortia/posts/{post.id}")
    status, html = _page(client, f"/consortia/posts/{post.id}")
    assert SUMMARY in html and "Looking for partners" in html and "Add a role" in html
    # A second visit goes to the post rather than offering another.
    assert client.get(url).headers["Location"].endswith(f"/consortia/posts/{post.id}")


def test_a_buyer_cannot_post_and_a_draft_has_no_board(client, sign_in, world):
    sign_in(world.buyer_user)
    assert client.get(f"/forward-plan/{world.entry.id}/teaming/new").status_code == 404
    draft = make_entry(world.buyer, world.buyer_user, status="draft", title="Draft idea")
    sign_in(world.prime_user)
    assert client.get(f"/forward-plan/{draft.id}/teaming/new").status_code == 404


def test_changing_and_withdrawing_a_post(client, sign_in, world):
    post = _lead_post(world, roles=0)
    sign_in(world.prime_user)
    response = client.post(f"/consortia/posts/{post.id}/edit", data={"summary": ""})
    assert "Enter a summary of your post" in response.get_data(as_text=True)
    response = client.post(f"/consortia/posts/{post.id}/edit",
                           data={"summary": "Now also across Bradford"})
    assert response.status_code == 302
    status, html = _page(client, f"/consortia/posts/{post.id}/withdraw")
    assert status == 200 and "Are you sure" in html
    assert client.post(f"/consortia/posts/{post.id}/withdraw").status_code == 302
    assert services.get_post(post.id).withdrawn_at is not None
    sign_in(world.carers_user)  # a withdrawn post is nobody else's business
    assert client.get(f"/consortia/posts/{post.id}").status_code == 404


# --- Roles --------------------------------------------------------------------------------------

def test_adding_a_role_keeps_typed_values_on_error(client, sign_in, world):
    post = _lead_post(world, roles=0)
    sign_in(world.prime_user)
    url = f"/consortia/posts/{post.id}/roles/new"
    status, html = _page(client, url)
    assert status == 200
    assert "<legend" in html and "Categories" in html and "Client groups" in html
    assert "Tier 2 (established)" in html
    data = {"title": "Short breaks", "delivers": "Weekend breaks for carers",
            "work_share": "abc", "value_share": "25", "extra_cpv_codes": ""}
    html = client.post(url, data=data).get_data(as_text=True)
    assert "Enter the share of the work as a whole number from 0 to 100" in html
    assert 'value="abc"' in html and 'value="Short breaks"' in html
    assert "Weekend breaks for carers" in html
    html = client.post(url, data={**data, "work_share": "30", "delivers": ""}).get_data(
        as_text=True)
    assert "Say what the role delivers, or choose at least one category" in html
    assert 'value="Short breaks"' in html and 'value="30"' in html
    html = client.post(url, data={**data, "work_share": "30", "extra_cpv_codes": "1234"}) \
        .get_data(as_text=True)
    assert "&#39;1234&#39; is not a category code" in html or "'1234' is not a category" in html
    html = client.post(url, data={**data, "work_share": "30",
                                  "extra_cpv_codes": "99999999"}).get_data(as_text=True)
    assert "Choose categories from the list" in html and 'value="99999999"' in html
    response = client.post(url, data={**data, "work_share": "30", "cpv_codes": "85312000"})
    assert response.status_code == 302
    role = services.get_post(post.id).roles[0]
    assert (role.title, role.cpv_codes, role.work_share, role.value_share) == (
        "Short breaks", ["85312000"], 30, 25)
    status, html = _page(client, f"/consortia/posts/{post.id}")
    assert "Short breaks" in html and "30% of the work, 25% of the value" in html
    assert "Suggested partners" in html


def test_changing_and_removing_a_role(client, sign_in, world):
    role = _lead_post(world).roles[0]
    sign_in(world.prime_user)
    status, html = _page(client, f"/consortia/roles/{role.id}/edit")
    assert status == 200 and "Carers&#39; short breaks 1" in html and 'value="30"' in html
    response = client.post(f"/consortia/roles/{role.id}/edit", data={
        "title": "Peer support", "delivers": "Peer support groups", "cpv_codes": "85312000",
        "recommended_tier": "2", "work_share": "", "value_share": ""})
    assert response.status_code == 302
    assert services.get_role(role.id).recommended_tier == 2
    assert client.post(f"/consortia/roles/{role.id}/remove").status_code == 302
    assert client.get(f"/consortia/roles/{role.id}/edit").status_code == 404


def test_suggested_partners_for_a_role(client, sign_in, world):
    role = _lead_post(world).roles[0]
    sign_in(world.prime_user)
    status, html = _page(client, f"/consortia/roles/{role.id}/suggestions")
    assert status == 200
    assert "Leeds Carers Circle" in html and "Aire Valley Respite" in html
    assert "app-reasons" in html  # each suggestion says why
    assert "York Allotment Society" not in html
    assert f"/consortia/invite/{world.entry.id}/{world.carers.id}?role={role.id}" in html


# --- Invitations --------------------------------------------------------------------------------

def test_inviting_a_partner_to_a_role(client, sign_in, world):
    role = _lead_post(world).roles[0]
    sign_in(world.prime_user)
    url = f"/consortia/invite/{world.entry.id}/{world.carers.id}?role={role.id}"
    status, html = _page(client, url)
    assert status == 200 and "Invite Leeds Carers Circle to join your bid" in html
    response = client.post(url, data={"message": "Would you deliver the short breaks?"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/consortia/roles/{role.id}/suggestions")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Invitation sent to Leeds Carers Circle" in html and "Invited" in html
    invitation = PartnerInvitation.query.one()
    assert invitation.role_id == role.id and invitation.message.startswith("Would you")
    status, html = _page(client, url)  # a second invitation is not offered
    assert "have not answered yet" in html
    status, html = _page(client, "/consortia/invitations")
    assert status == 200 and "Invitations you sent" in html and "Leeds Carers Circle" in html


def test_a_general_invitation_returns_to_the_matches(client, sign_in, world):
    sign_in(world.prime_user)
    response = client.post(f"/consortia/invite/{world.entry.id}/{world.respite.id}",
                           data={"message": ""})
    assert response.headers["Location"].endswith(f"/forward-plan/{world.entry.id}/matches")


def test_the_invited_vcse_sees_it_on_the_dashboard_and_accepts(client, sign_in, world):
    invitation = _invitation(world, role=_lead_post(world).roles[0])
    sign_in(world.carers_user)
    status, html = _page(client, "/dashboard")
    assert status == 200 and "Invitations to join a bid" in html
    assert "Northern Care Partnership Ltd invited you" in html
    assert f"/consortia/invitations/{invitation.id}" in html
    status, html = _page(client, f"/consortia/invitations/{invitation.id}")
    assert status == 200 and "Would you deliver the short breaks?" in html
    assert "Accept invitation" in html and "Decline invitation" in html
    response = client.post(f"/consortia/invitations/{invitation.id}/accept")
    assert response.status_code == 302
    team = services.lead_team(world.entry, world.prime)
    assert response.headers["Location"].endswith(f"/consortia/{team.id}")
    status, html = _page(client, "/dashboard")
    assert "No invitations waiting" in html


def test_declining_needs_a_reason(client, sign_in, world):
    invitation = _invitation(world)
    sign_in(world.carers_user)
    response = client.post(f"/consortia/invitations/{invitation.id}/decline",
                           data={"reason": " "})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Enter why you are declining" in html
    assert "govuk-error-summary" in html
    response = client.post(f"/consortia/invitations/{invitation.id}/decline",
                           data={"reason": "We are at capacity this year"})
    assert response.status_code == 302
    sign_in(world.prime_user)
    status, html = _page(client, f"/consortia/invitations/{invitation.id}")
    assert "We are at capacity this year" in html and "Declined" in html


def test_either_side_replies_and_the_lead_may_withdraw(client, sign_in, world):
    invitation = _invitation(world)
    sign_in(world.carers_user)
    html = client.post(f"/consortia/invitations/{invitation.id}/reply",
                       data={"body": ""}).get_data(as_text=True)
    assert "Enter your message" in html
    client.post(f"/consortia/invitations/{invitation.id}/reply",
                data={"body": "Which weekends would you need?"})
    sign_in(world.prime_user)
    status, html = _page(client, f"/consortia/invitations/{invitation.id}")
    assert "Which weekends would you need?" in html and "Accept invitation" not in html
    client.post(f"/consortia/invitations/{invitation.id}/reply", data={"body": "Most of them"})
    assert client.post(f"/consortia/invitations/{invitation.id}/accept").status_code == 404
    assert client.post(f"/consortia/invitations/{invitation.id}/withdraw").status_code == 302
    assert services.get_invitation(invitation.id, world.prime_user).status == "withdrawn"
    assert len(services.get_invitation(invitation.id, world.prime_user).replies) == 2


# --- Who may see what ---------------------------------------------------------------------------

def test_another_organisation_gets_404_on_an_invitation(client, sign_in, world):
    invitation = _invitation(world)
    for user in (world.respite_user, world.outsider_user, world.buyer_user):
        sign_in(user)
        for action in ("", "/accept", "/decline", "/reply", "/withdraw"):
            method = client.get if not action else client.post
            assert method(f"/consortia/invitations/{invitation.id}{action}").status_code == 404


def test_own_only_pages_are_missing_for_other_suppliers_and_the_buyer(client, sign_in, world):
    post = _lead_post(world)
    role = post.roles[0]
    own_only = [f"/consortia/posts/{post.id}/edit", f"/consortia/posts/{post.id}/withdraw",
                f"/consortia/posts/{post.id}/roles/new", f"/consortia/roles/{role.id}/edit",
                f"/consortia/roles/{role.id}/suggestions"]
    for user in (world.carers_user, world.buyer_user):
        sign_in(user)
        for url in own_only:
            assert client.get(url).status_code == 404, url
        assert client.post(f"/consortia/roles/{role.id}/remove").status_code == 404
        assert client.get(
            f"/consortia/invite/{world.entry.id}/{world.respite.id}?role={role.id}"
        ).status_code == 404
    assert client.get("/consortia/invitations").status_code == 404  # the buyer has none
    assert client.get(f"/consortia/invite/{world.entry.id}/{world.carers.id}").status_code == 404
    sign_in(world.prime_user)
    assert client.get(f"/consortia/invite/{world.entry.id}/{world.buyer.id}").status_code == 404


def test_anonymous_visitors_are_asked_to_sign_in(client, world):
    post = _lead_post(world)
    invitation = _invitation(world)
    for url in (f"/forward-plan/{world.entry.id}/teaming/new", f"/consortia/posts/{post.id}",
                f"/consortia/posts/{post.id}/edit", f"/consortia/roles/{post.roles[0].id}/edit",
                f"/consortia/roles/{post.roles[0].id}/suggestions", "/consortia/invitations",
                f"/consortia/invitations/{invitation.id}",
                f"/consortia/invite/{world.entry.id}/{world.carers.id}"):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], url


# --- The board and the entry page ---------------------------------------------------------------

def test_the_entry_page_shows_board_counts_to_anyone(client, sign_in, world):
    _lead_post(world)
    services.create_post(world.entry, world.respite_user, "available", "Respite breaks in Leeds")
    status, html = _page(client, f"/forward-plan/{world.entry.id}")
    assert status == 200
    assert "1 organisation is looking for partners, with 1 open role. 1 organisation is " \
        "available as a partner." in html
    assert "Sign in to see who is looking for partners" in html
    assert "Northern Care Partnership Ltd" not in html
    sign_in(world.carers_user)
    status, html = _page(client, f"/forward-plan/{world.entry.id}")
    assert "Northern Care Partnership Ltd" in html and "Post on the teaming board" in html
    sign_in(world.prime_user)
    status, html = _page(client, f"/forward-plan/{world.entry.id}")
    assert "Your post" in html and "Post on the teaming board" not in html


def test_the_board_hides_names_from_anonymous_visitors(client, sign_in, world):
    status, html = _page(client, "/consortia")
    assert status == 200 and "No posts yet" in html
    _lead_post(world)
    status, html = _page(client, "/consortia")
    assert "Carers support service" in html and "Leeds City Council" in html
    assert "1 open role" in html and "Sign in" in html
    assert SUMMARY not in html and "Northern Care Partnership Ltd" not in html
    sign_in(world.carers_user)
    status, html = _page(client, "/consortia")
    assert SUMMARY in html and "Northern Care Partnership Ltd" in html
    assert "Carers&#39; short breaks 1 (30% of the work, 25% of the value)" in html
    assert "Post on the teaming board" in html  # how to post
    assert "No posts match" in _page(client, "/consortia?kind=available")[1]
    assert SUMMARY in _page(client, "/consortia?kind=lead&q=bidding&area=E08000035")[1]
    status, html = _page(client, "/consortia?area=nowhere")
    assert "Choose an area from the list" in html


def test_a_supplier_can_invite_from_the_matches_page(client, sign_in, world):
    sign_in(world.respite_user)
    status, html = _page(client, f"/forward-plan/{world.entry.id}/matches")
    assert status == 200 and "Invite to join your bid" in html
    assert f"/consortia/invite/{world.entry.id}/{world.carers.id}" in html
    sign_in(world.buyer_user)
    assert "Invite to join your bid" not in _page(
        client, f"/forward-plan/{world.entry.id}/matches")[1]


def test_every_page_renders_for_the_right_people(client, sign_in, world):
    post = _lead_post(world)
    role = post.roles[0]
    invitation = _invitation(world, role=role)
    pages = {
        world.prime_user: ["/consortia", f"/forward-plan/{world.entry.id}",
                           f"/consortia/posts/{post.id}", f"/consortia/posts/{post.id}/edit",
                           f"/consortia/posts/{post.id}/withdraw",
                           f"/consortia/posts/{post.id}/roles/new",
                           f"/consortia/roles/{role.id}/edit",
                           f"/consortia/roles/{role.id}/suggestions",
                           f"/consortia/invite/{world.entry.id}/{world.respite.id}",
                           f"/consortia/invite/{world.entry.id}/{world.carers.id}?role={role.id}",
                           "/consortia/invitations", f"/consortia/invitations/{invitation.id}",
                           f"/forward-plan/{world.entry.id}/matches"],
        world.carers_user: ["/consortia", "/dashboard", f"/consortia/posts/{post.id}",
                            f"/forward-plan/{world.entry.id}/teaming/new",
                            "/consortia/invitations", f"/consortia/invitations/{invitation.id}",
                            f"/forward-plan/{world.entry.id}/matches"],
        world.buyer_user: ["/consortia", f"/forward-plan/{world.entry.id}",
                           f"/consortia/posts/{post.id}"],
    }
    for user, urls in pages.items():
        sign_in(user)
        for url in urls:
            assert client.get(url).status_code == 200, (user.email, url)
    for url in ("/consortia/posts/999999", "/consortia/roles/999999/edit",
                "/consortia/invitations/999999", "/consortia/invite/999999/1",
                f"/consortia/invite/{world.entry.id}/999999"):
        assert client.get(url).status_code == 404, url


def test_answers_need_the_form_token(app, client, sign_in, world):
    invitation = _invitation(world)
    sign_in(world.carers_user)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        url = f"/consortia/invitations/{invitation.id}"
        client.post(f"{url}/accept")
        assert services.get_invitation(invitation.id, world.carers_user).status == "sent"
        token = csrf_token_from(client.get(url).get_data(as_text=True))
        response = client.post(f"{url}/accept", data={"csrf_token": token})
        assert response.status_code == 302 and "/consortia/" in response.headers["Location"]
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert services.get_invitation(invitation.id, world.carers_user).status == "accepted"


def test_a_lead_invites_from_an_organisations_profile(client, sign_in, world):
    post = _lead_post(world)
    sign_in(world.prime_user)
    profile = client.get(f"/organisations/{world.respite.id}").get_data(as_text=True)
    assert "Invite Aire Valley Respite to join your bid" in profile
    status, html = _page(client, f"/consortia/invite/{world.respite.id}")
    assert status == 200 and "Carers support service" in html
    role = post.roles[0]
    assert f"/consortia/invite/{world.entry.id}/{world.respite.id}?role={role.id}" in html
    assert _page(client, f"/consortia/invite/{world.prime.id}")[0] == 404  # itself
    assert _page(client, f"/consortia/invite/{world.buyer.id}")[0] == 404  # not a supplier
    own = client.get(f"/organisations/{world.prime.id}").get_data(as_text=True)
    assert "to join your bid" not in own
