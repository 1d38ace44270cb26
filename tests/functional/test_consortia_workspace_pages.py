"""The consortium workspace in the portal: the user's teams, forming one, the workspace itself,
shares, the fair-terms charter, handing over the lead, leaving, messages, telling the buyer and
the printable pack. Only members see a team; only its lead changes it."""
import re

import pytest

from portal.consortia import services
from portal.consortia.models import Consortium
from portal.core.mail import OutboxMessage
from portal.extensions import db as _db
from portal.organisations import services as organisations
from tests import factories
from tests.functional.consortia_world import build_world, make_supplier

TERMS = {"payment_days": "45", "management_fee": "2.5",
         "risk_sharing": "Each member carries the risk of its own part of the work",
         "disputes": "A meeting of all members, then mediation"}


@pytest.fixture
def world(app, ctx):
    """The buyer's entry, a team led by the prime contractor with Leeds Carers Circle in it,
    and Aire Valley Respite and an allotment society outside it."""
    with app.test_request_context():
        world = build_world()
        team = services.create_consortium(world.entry, world.prime_user,
                                          "Leeds Carers Alliance")
        services.accept_invitation(services.invite_partner(world.entry, world.carers,
                                                           world.prime_user),
                                   world.carers_user)
        world.team_id = team.id
        return world


@pytest.fixture
def as_user(client):
    """Sign in as someone (signing out whoever was signed in)."""
    def switch(user):
        client.post("/sign-out")
        response = client.post("/sign-in", data={"email": user.email,
                                                 "password": factories.PASSWORD})
        assert response.status_code == 302
    return switch


def team_of(world):
    return _db.session.get(Consortium, world.team_id)


def member_id(world, organisation):
    return team_of(world).member_for(organisation.id).id


def pages(team_id):
    base = f"/consortia/{team_id}"
    return {"workspace": base, "charter": f"{base}/charter", "leave": f"{base}/leave",
            "pack": f"{base}/pack", "download": f"{base}/pack?download=html",
            "shares": f"{base}/shares", "lead": f"{base}/lead", "interest": f"{base}/interest"}


LEAD_ONLY = {"shares", "lead", "interest"}


def test_the_lead_sees_every_page_and_a_partner_all_but_the_leads(client, world, as_user):
    as_user(world.prime_user)
    for name, url in pages(world.team_id).items():
        assert client.get(url).status_code == 200, name
    as_user(world.carers_user)
    for name, url in pages(world.team_id).items():
        assert client.get(url).status_code == (404 if name in LEAD_ONLY else 200), name


@pytest.mark.parametrize("who", ["outsider_user", "respite_user", "buyer_user"])
def test_anyone_outside_the_team_is_told_it_is_missing(client, world, as_user, who):
    as_user(getattr(world, who))
    for name, url in pages(world.team_id).items():
        assert client.get(url).status_code == 404, name
    for url in (f"/consortia/{world.team_id}/messages",
                f"/consortia/{world.team_id}/charter/confirm",
                f"/consortia/{world.team_id}/leave"):
        assert client.post(url, data={"body": "Hello"}).status_code == 404, url
    assert client.get("/consortia/999999").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    for name, url in [*pages(world.team_id).items(), ("teams", "/consortia/teams"),
                      ("new", f"/forward-plan/{world.entry.id}/teams/new")]:
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.location, name


def test_your_teams_lists_the_team_or_explains_how_teams_form(client, world, as_user):
    as_user(world.carers_user)
    html = client.get("/consortia/teams").get_data(as_text=True)
    assert "Leeds Carers Alliance" in html and "Northern Care Partnership Ltd" in html
    assert "Not written yet" in html and "Not set yet" in html
    as_user(world.outsider_user)
    html = client.get("/consortia/teams").get_data(as_text=True)
    assert "not in a team yet" in html and "Form a team" in html
    as_user(world.buyer_user)
    assert client.get("/consortia/teams").status_code == 404


def test_a_supplier_forms_a_team_for_an_entry(client, world, as_user):
    url = f"/forward-plan/{world.entry.id}/teams/new"
    as_user(world.buyer_user)
    assert client.get(url).status_code == 404
    as_user(world.respite_user)
    assert client.get(url + "?lot=999999").status_code == 404
    assert "Aire Valley Respite: Carers support service" in client.get(url).get_data(as_text=True)
    html = client.post(url, data={"name": "  "}).get_data(as_text=True)
    assert "Enter a name for the team" in html
    response = client.post(url, data={"name": "Aire Valley Carers Team"})
    assert response.status_code == 302
    html = client.get(response.location).get_data(as_text=True)
    assert "Aire Valley Carers Team" in html and "(your organisation)" in html
    assert "already leads" in client.get(url).get_data(as_text=True)


def test_the_workspace_shows_members_coverage_and_what_the_lead_can_do(client, world,
                                                                       as_user):
    as_user(world.prime_user)
    html = client.get(pages(world.team_id)["workspace"]).get_data(as_text=True)
    for text in ("Leeds City Council", "Northern Care Partnership Ltd", "Leeds Carers Circle",
                 "Partner", "Not accredited", "Covered", "Not written yet",
                 "Tell the buyer you will bid as this team", "Hand over the lead",
                 "Open the consortium pack"):
        assert text in html, text
    assert "Leave the team" not in html
    as_user(world.carers_user)
    html = client.get(pages(world.team_id)["workspace"]).get_data(as_text=True)
    assert "Leave the team" in html and "Hand over the lead" not in html


def test_a_gap_suggests_partners_and_the_lead_can_invite_them(app, client, world, as_user):
    for organisation in (world.prime, world.carers):
        organisations.remove_category(organisation, "85312000", None)
    with app.test_request_context():
        quiet = make_supplier("Quiet Carers Group", "vcse",
                              "Short breaks and peer support for unpaid carers in Leeds")
    as_user(world.prime_user)
    html = client.get(pages(world.team_id)["workspace"]).get_data(as_text=True)
    assert "Gap" in html and "Partners who could close this gap" in html
    assert "Aire Valley Respite" in html and ">Invite<" in html
    assert "No account yet" in html[html.index("Quiet Carers Group"):].split("</li>")[0]
    # Nobody at the quiet group could answer, so there is nothing to invite.
    assert f"/{world.respite.id}\">Invite" in html
    assert f"/{quiet.id}\">Invite" not in html
    as_user(world.carers_user)
    html = client.get(pages(world.team_id)["workspace"]).get_data(as_text=True)
    assert "Aire Valley Respite" in html and ">Invite<" not in html


def test_shares_that_do_not_add_up_are_refused_with_what_was_typed(client, world, as_user):
    lead, partner = member_id(world, world.prime), member_id(world, world.carers)
    url = pages(world.team_id)["shares"]
    as_user(world.prime_user)
    html = client.post(url, data={f"work_{lead}": "60", f"work_{partner}": "30.5",
                                  f"value_{lead}": "50", f"value_{partner}": "50"}
                       ).get_data(as_text=True)
    assert "The shares of the work must add up to 100% (they add up to 90.5%)" in html
    assert 'value="30.5"' in html and "There is a problem" in html
    html = client.post(url, data={f"work_{lead}": "lots", f"work_{partner}": "40",
                                  f"value_{lead}": "50", f"value_{partner}": "50"}
                       ).get_data(as_text=True)
    assert "share of the work as a number" in html and 'value="lots"' in html
    response = client.post(url, data={f"work_{lead}": "66.66", f"work_{partner}": "33.34",
                                      f"value_{lead}": "60%", f"value_{partner}": "40"})
    assert response.status_code == 302
    team = team_of(world)
    assert team.shares_state() == "agreed"
    assert [str(m.work_share) for m in team.members] == ["66.66", "33.34"]
    html = client.get(url).get_data(as_text=True)
    assert 'value="33.34"' in html and 'value="60"' in html


def test_a_charter_missing_an_answer_keeps_what_was_typed(client, world, as_user):
    url = pages(world.team_id)["charter"]
    as_user(world.prime_user)
    assert 'value="30"' in client.get(url).get_data(as_text=True)  # the default
    html = client.post(url, data={**TERMS, "disputes": " "}).get_data(as_text=True)
    assert "Enter how disputes are handled" in html
    assert 'value="45"' in html and TERMS["risk_sharing"] in html
    assert "Members should be paid within 30 days" in html
    html = client.post(url, data={**TERMS, "payment_days": "soon"}).get_data(as_text=True)
    assert "Enter the number of days as a whole number" in html and 'value="soon"' in html


def test_the_lead_writes_the_charter_and_a_partner_confirms_it(client, world, as_user):
    url = pages(world.team_id)["charter"]
    as_user(world.prime_user)
    response = client.post(url, data=TERMS)
    assert response.status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert "Waiting for: Leeds Carers Circle" in html
    assert "Members should be paid within 30 days" in html
    assert any("Confirm the new terms" in m.subject for m in OutboxMessage.query.all())
    as_user(world.carers_user)
    assert client.post(url, data=TERMS).status_code == 404
    html = client.get(url).get_data(as_text=True)
    assert "Confirm the terms" in html and TERMS["disputes"] in html
    assert client.post(f"{url}/confirm").status_code == 302
    html = client.get(pages(world.team_id)["workspace"]).get_data(as_text=True)
    assert "Agreed by every member" in html
    assert "already confirmed" in client.post(f"{url}/confirm", follow_redirects=True
                                              ).get_data(as_text=True)


def test_the_lead_hands_over_and_then_may_leave(client, world, as_user):
    base = pages(world.team_id)
    as_user(world.prime_user)
    html = client.post(base["leave"], follow_redirects=True).get_data(as_text=True)
    assert "Hand the lead to another member before you leave" in html
    html = client.get(base["lead"]).get_data(as_text=True)
    assert "Who should lead the team?" in html and "<legend" in html
    assert "Choose the member who should lead the team" in client.post(
        base["lead"], data={}).get_data(as_text=True)
    assert "Choose the member" in client.post(
        base["lead"], data={"member": str(world.outsider.id)}).get_data(as_text=True)
    assert client.post(base["lead"], data={"member": str(world.carers.id)}).status_code == 302
    assert team_of(world).lead_organisation_id == world.carers.id
    assert client.get(base["shares"]).status_code == 404
    assert "Leave the team" in client.get(base["leave"]).get_data(as_text=True)
    response = client.post(base["leave"])
    assert response.status_code == 302 and response.location.endswith("/consortia/teams")
    assert client.get(base["workspace"]).status_code == 404
    as_user(world.carers_user)
    html = client.get(base["workspace"]).get_data(as_text=True)
    assert "Northern Care Partnership Ltd" not in html.split('id="members"')[1].split(
        "</table>")[0]


def test_messages_are_posted_to_the_thread_newest_last(client, world, as_user):
    url = f"/consortia/{world.team_id}/messages"
    as_user(world.carers_user)
    html = client.post(url, data={"body": "  "}).get_data(as_text=True)
    assert "Enter your message" in html and "There is a problem" in html
    assert client.post(url, data={"body": "We can cover short breaks"}).status_code == 302
    as_user(world.prime_user)
    assert client.post(url, data={"body": "Good, and the advice line?"}).status_code == 302
    html = client.get(pages(world.team_id)["workspace"]).get_data(as_text=True)
    assert html.index("We can cover short breaks") < html.index("Good, and the advice line?")
    assert any("New message in Leeds Carers Alliance" in m.subject
               for m in OutboxMessage.query.all())


def test_the_buyer_sees_the_team_after_the_lead_tells_them(client, world, as_user):
    url = pages(world.team_id)["interest"]
    as_user(world.prime_user)
    assert "Leeds Carers Circle (partner)" in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"note": "We will bid as a team of two"}).status_code == 302
    html = client.get(pages(world.team_id)["workspace"]).get_data(as_text=True)
    assert "Knows the team will bid" in html
    assert "Tell the buyer you will bid as this team" not in html
    assert client.get(url).status_code == 302  # already told
    as_user(world.buyer_user)
    html = client.get(f"/forward-plan/manage/{world.entry.id}/interest").get_data(as_text=True)
    assert "Leading a consortium: Leeds Carers Circle" in html
    assert "We will bid as a team of two" in html
    assert "Teams formed on Pathfinder" in html and "1 (2 organisations)" in html


def test_the_pack_shows_the_team_and_downloads_as_a_file(client, world, as_user):
    with client.application.test_request_context():
        team = team_of(world)
        services.write_charter(team, world.prime_user, payment_days=30, management_fee=5,
                               risk_sharing="Each carries its own", disputes="Mediation")
        services.confirm_charter(team, world.carers_user)
    as_user(world.carers_user)
    html = client.get(pages(world.team_id)["pack"]).get_data(as_text=True)
    for text in ("Consortium pack", "Northern Care Partnership Ltd", "Leeds Carers Circle",
                 "Not accredited", "No track record recorded", "Covered",
                 "Agreed by every member", "Confirmed on", "Mediation"):
        assert text in html, text
    assert "Partners who could close this gap" not in html
    response = client.get(pages(world.team_id)["download"])
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        f"attachment; filename=consortium-{world.team_id}-pack.html"
    assert "Leeds Carers Circle" in response.get_data(as_text=True)


def test_the_lead_says_what_each_member_delivers_with_the_shares(client, world, as_user):
    as_user(world.prime_user)
    team = pages(world.team_id)
    form = client.get(team["shares"]).get_data(as_text=True)
    ids = sorted(set(re.findall(r'name="delivers_(\d+)"', form)), key=int)
    data = {f"work_{ids[0]}": "60", f"value_{ids[0]}": "60", f"work_{ids[1]}": "40",
            f"value_{ids[1]}": "40", f"delivers_{ids[0]}": "Contract management",
            f"delivers_{ids[1]}": "x" * 501, f"role_{ids[1]}": "subcontractor"}
    refused = client.post(team["shares"], data=data).get_data(as_text=True)
    assert "500 characters or fewer" in refused and 'value="Contract management"' in refused
    data[f"delivers_{ids[1]}"] = "Short breaks in south Leeds"
    assert client.post(team["shares"], data=data).status_code == 302
    html = client.get(team["workspace"]).get_data(as_text=True)
    assert "Contract management" in html and "Short breaks in south Leeds" in html
    assert "Sub-contractor" in html


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _share(client, team_id, name, data):
    from io import BytesIO

    return client.post(f"/consortia/{team_id}/files", content_type="multipart/form-data",
                       data={"file": (BytesIO(data), name)})


def test_members_share_files_checked_as_evidence_is_and_only_members_download_them(
        app, client, world, as_user, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path))
    as_user(world.carers_user)
    disguised = _share(client, world.team_id, "budget.pdf", b"MZ\x90\x00 not a pdf")
    assert disguised.status_code == 200
    assert "not a real PDF" in disguised.get_data(as_text=True)
    empty = _share(client, world.team_id, "", b"")
    assert "Choose a file to share" in empty.get_data(as_text=True)
    assert _share(client, world.team_id, "method-statement.pdf", PDF).status_code == 302
    html = client.get(pages(world.team_id)["workspace"]).get_data(as_text=True)
    file_id = re.search(rf"/consortia/{world.team_id}/files/(\d+)", html).group(1)
    download = client.get(f"/consortia/{world.team_id}/files/{file_id}")
    assert download.status_code == 200 and download.data == PDF
    assert "attachment" in download.headers["Content-Disposition"]
    for outsider in (world.outsider_user, world.buyer_user):
        as_user(outsider)
        assert client.get(f"/consortia/{world.team_id}/files/{file_id}").status_code == 404
        assert client.post(f"/consortia/{world.team_id}/files/{file_id}/remove").status_code \
            == 404
    as_user(world.prime_user)  # the lead may remove any member's file
    assert client.post(f"/consortia/{world.team_id}/files/{file_id}/remove").status_code == 302
    assert not list(tmp_path.iterdir())
    assert client.get(f"/consortia/{world.team_id}/files/{file_id}").status_code == 404
