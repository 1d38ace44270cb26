"""A prime contractor posts on an entry's teaming board, adds two roles, finds a carers' charity
among the suggested partners and invites it; the charity accepts from its dashboard and closes
the team's gaps; the prime writes the fair terms, the charity confirms them, and the team's pack
shows members, coverage and terms.

Every page reached is checked with axe-core (WCAG 2.2 AA).
"""
import os

from playwright.sync_api import expect

from portal.organisations import services as organisations
from portal.pipeline import services as pipeline
from tests import factories
from tests.browser.journeys import sign_in as _sign_in

SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")
LEEDS, YORK = "E08000035", "E06000014"
SHORT_BREAKS, SOCIAL_SERVICES = "85312000", "85320000"
CATEGORY_NEED = "Social work services without accommodation"


def _shot(page, name):
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"consortia-{name}.png"), full_page=True)


def _org(name, org_type, description, area, cpv, income=None, groups=()):
    org = factories.make_org(name, org_type=org_type, description=description)
    organisations.add_area(org, area, None)
    organisations.add_category(org, cpv, None)
    if groups:
        organisations.set_terms(org, groups, None)
    if income is not None:
        org.set_income(income)
    return org


def _world(app):
    """A council's published entry for carers' services in Leeds; a prime contractor that
    offers social services in Leeds (but not this category, nor carers); two carers' charities
    in Leeds and an allotment society in York, each with someone who can sign in."""
    with app.app_context():
        carers = next(t for t in organisations.vocabulary_terms()["client_group"]
                      if t.value == "Carers")
        council = factories.make_org("Leeds City Council", org_type="commissioner")
        officer = factories.make_user(council, email="buyer@leeds.example")
        prime = _org("Northern Care Partnership Ltd", "prime",
                     "Prime contractor for adult social care contracts across Yorkshire",
                     LEEDS, SOCIAL_SERVICES, income=20_000_000)
        circle = _org("Leeds Carers Circle", "vcse",
                      "Short breaks, peer support groups and advice for unpaid carers in Leeds",
                      LEEDS, SHORT_BREAKS, income=400_000, groups=[carers.id])
        respite = _org("Aire Valley Respite", "vcse",
                       "Respite breaks and befriending for unpaid carers and the people they "
                       "care for", LEEDS, SHORT_BREAKS, income=250_000, groups=[carers.id])
        allotments = _org("York Allotment Society", "vcse",
                          "Allotment plots and gardening clubs", YORK, "77300000")
        for org, email in ((prime, "lead@northern.example"),
                           (circle, "team@carerscircle.example"),
                           (respite, "hello@airevalley.example"),
                           (allotments, "plots@allotments.example")):
            factories.make_user(org, email=email)
        entry = pipeline.create_opportunity(council, {
            "title": "Carers support service",
            "description": "Advice, short breaks and peer support for unpaid carers in Leeds",
            "main_cpv_code": SHORT_BREAKS, "additional_cpv": SOCIAL_SERVICES, "areas": "Leeds",
            "client_groups": str(carers.id), "value_min": 600_000, "value_basis": "whole_life",
            "contract_months": 36, "suitable_vcse": True, "consortium_welcome": True}, officer)
        pipeline.change_status(entry, "planned", officer)
        return entry.id


def _sign_out(page, base):
    page.goto(f"{base}/account")
    page.get_by_role("button", name="Sign out").click()


def _need_row(page, label):
    return page.locator("#coverage tr").filter(
        has=page.get_by_role("rowheader", name=label, exact=True))


def _add_role(page, check_a11y, title, delivers, work, value):
    page.get_by_role("button", name="Add a role").click()
    expect(page.get_by_role("heading", name="Add a role")).to_be_visible()
    check_a11y()
    page.get_by_label("Name of the role").fill(title)
    page.get_by_label("What the partner will deliver").fill(delivers)
    page.get_by_role("group", name="Categories").get_by_label(
        f"{SHORT_BREAKS} {CATEGORY_NEED}").check()
    page.get_by_role("group", name="Client groups").get_by_label("Carers").check()
    page.get_by_label("Share of the work (optional)").fill(work)
    page.get_by_label("Share of the value (optional)").fill(value)
    page.get_by_role("button", name="Save role").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"Role added: {title}")
    check_a11y()


def _lead_posts_and_forms_team(page, base, entry_id, check_a11y):
    """The prime posts with two roles, forms its team and sees the gaps in it."""
    _sign_in(page, base, "lead@northern.example")
    page.goto(f"{base}/forward-plan/{entry_id}")
    expect(page.get_by_role("heading", name="Carers support service")).to_be_visible()
    check_a11y()
    page.get_by_role("link", name="Post on the teaming board").click()
    expect(page.get_by_role("heading", name="Post on the teaming board")).to_be_visible()
    check_a11y()
    page.get_by_label("We intend to bid and are looking for partners").check()
    page.get_by_label("Summary").fill(
        "We will lead a bid for the whole service and want local carers' charities to deliver "
        "short breaks and peer support.")
    page.get_by_role("button", name="Post on the teaming board").click()
    expect(page.get_by_role("heading", name="Your post on the teaming board")).to_be_visible()
    check_a11y()
    _add_role(page, check_a11y, "Short breaks for carers",
              "Short breaks and respite for unpaid carers across Leeds", "30", "25")
    _add_role(page, check_a11y, "Peer support groups",
              "Weekly peer support groups for unpaid carers, run by carers", "15", "10")
    expect(page.locator(".govuk-summary-card")).to_have_count(2)
    _shot(page, "post")

    # Before inviting anyone it forms its team and sees what the team lacks.
    page.get_by_role("link", name="Back to the entry").click()
    page.get_by_role("link", name="Form a team to bid for this entry").click()
    expect(page.get_by_role("heading", name="Form a team")).to_be_visible()
    check_a11y()
    page.get_by_label("Name of the team").fill("Leeds Carers Alliance")
    page.get_by_role("button", name="Form the team").click()
    expect(page.get_by_role("heading", name="Leeds Carers Alliance")).to_be_visible()
    expect(_need_row(page, CATEGORY_NEED)).to_contain_text("Gap")
    expect(_need_row(page, "Carers")).to_contain_text("Gap")
    expect(_need_row(page, "Social services")).to_contain_text("Covered")
    check_a11y()
    _shot(page, "workspace-before")


def _lead_invites_from_suggestions(page, check_a11y):
    """From its workspace the prime goes to its roles and invites a suggested partner."""
    page.get_by_role("link", name="Your post on the teaming board").click()
    page.get_by_role("link", name="Suggested partners for Short breaks for carers").click()
    expect(page.get_by_role("heading", name="Suggested partners for Short breaks for carers")
           ).to_be_visible()
    results = page.locator(".app-match")
    circle = results.filter(has_text="Leeds Carers Circle")
    expect(circle).to_have_count(1)
    expect(circle).to_contain_text("Leeds")  # a reason: where it works
    expect(results.filter(has_text="Aire Valley Respite")).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text("York Allotment Society")
    check_a11y()
    _shot(page, "suggestions")

    circle.get_by_role("link", name="Invite Leeds Carers Circle to this role").click()
    expect(page.get_by_role("heading", name="Invite Leeds Carers Circle to join your bid")
           ).to_be_visible()
    check_a11y()
    page.get_by_label("Message (optional)").fill(
        "We would like you to run the short breaks in east Leeds. Call Sam on 0113 000 0000.")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Invitation sent to Leeds Carers Circle")
    expect(circle).to_contain_text("Invited")
    check_a11y()
    _shot(page, "invited")


def _lead_invites_from_the_matrix(page, base, team_url, check_a11y):
    """A gap in the team suggests partners too; inviting one comes back to the team."""
    page.goto(team_url)
    _need_row(page, "Carers").get_by_role(
        "link", name="Invite Aire Valley Respite to join the team").click()
    expect(page.get_by_role("heading", name="Invite Aire Valley Respite to join your bid")
           ).to_be_visible()
    check_a11y()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Invitation sent to Aire Valley Respite")
    expect(page.get_by_role("heading", name="Leeds Carers Alliance")).to_be_visible()
    waiting = page.locator("#waiting + ul")
    expect(waiting).to_contain_text("Leeds Carers Circle, for the role: Short breaks for carers")
    expect(waiting).to_contain_text("Aire Valley Respite")
    expect(_need_row(page, "Carers")).to_contain_text("Invited, waiting for an answer")
    check_a11y()
    _shot(page, "workspace-invited")


def _partner_accepts(page, base, check_a11y):
    _sign_out(page, base)
    _sign_in(page, base, "team@carerscircle.example")
    page.goto(f"{base}/dashboard")
    invitation = page.locator(".app-invitation").first
    expect(invitation).to_contain_text("Carers support service")
    expect(invitation).to_contain_text("Northern Care Partnership Ltd invited you")
    expect(invitation).to_contain_text("Short breaks for carers")
    expect(invitation).to_contain_text("run the short breaks in east Leeds")
    check_a11y()
    _shot(page, "partner-dashboard")
    invitation.get_by_role("link", name="Answer the invitation").click()
    expect(page.get_by_role("heading", name="Invitation to join a bid")).to_be_visible()
    expect(page.locator("main")).to_contain_text("run the short breaks in east Leeds")
    check_a11y()
    _shot(page, "partner-invitation")
    page.get_by_role("button", name="Accept invitation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "You have joined Leeds Carers Alliance")
    expect(page.get_by_role("heading", name="Leeds Carers Alliance")).to_be_visible()
    row = _need_row(page, CATEGORY_NEED)
    expect(row).to_contain_text("Covered")
    expect(row).to_contain_text("Leeds Carers Circle")
    expect(_need_row(page, "Carers")).to_contain_text("Covered")
    expect(page.locator("main")).to_contain_text(
        "Northern Care Partnership Ltd leads the team")
    check_a11y()
    _shot(page, "workspace-after")


def _fill_shares(page, name, work, value):
    group = page.get_by_role("group", name=name)
    group.get_by_label("Share of the work").fill(work)
    group.get_by_label("Share of the value").fill(value)


def _lead_sets_shares_and_terms(page, base, check_a11y):
    _sign_out(page, base)
    _sign_in(page, base, "lead@northern.example")
    page.goto(f"{base}/consortia/teams")
    check_a11y()
    page.get_by_role("link", name="Leeds Carers Alliance").click()
    page.get_by_role("link", name="Say who does what: what each member delivers and its shares").click()
    expect(page.get_by_role("heading", name="Who does what")).to_be_visible()
    check_a11y()
    _fill_shares(page, "Northern Care Partnership Ltd (lead)", "70", "75")
    _fill_shares(page, "Leeds Carers Circle (partner)", "30", "20")
    page.get_by_role("button", name="Save the shares").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("95")  # value adds up to 95%
    check_a11y()
    _fill_shares(page, "Leeds Carers Circle (partner)", "30", "25")
    page.get_by_role("group", name="Northern Care Partnership Ltd (lead)").get_by_label(
        "What it delivers").fill("Contract management, reporting and the advice line")
    page.get_by_role("button", name="Save the shares").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Shares saved")
    expect(page.locator("body")).to_contain_text(
        "Contract management, reporting and the advice line")
    expect(page.locator("#shares + p")).to_contain_text("Set for every member")
    check_a11y()
    page.get_by_role("link", name="Write the fair terms").first.click()
    expect(page.get_by_role("heading", name="Fair terms for the team")).to_be_visible()
    check_a11y()
    page.get_by_label("Days within which the lead pays members").fill("30")
    page.get_by_label("Management fee the lead keeps (%)").fill("5")
    page.get_by_label("How are risk and penalties shared?").fill(
        "Each member carries the risk of its own part of the work.")
    page.get_by_label("How are disagreements between members settled?").fill(
        "A meeting of all members, then mediation.")
    page.get_by_role("button", name="Save and ask members to confirm").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Terms saved")
    expect(page.locator("main")).to_contain_text("Waiting for: Leeds Carers Circle")
    check_a11y()
    _shot(page, "charter-lead")


def _partner_confirms(page, base, team_url, check_a11y):
    _sign_out(page, base)
    _sign_in(page, base, "team@carerscircle.example")
    page.goto(team_url)
    check_a11y()
    page.get_by_role("button", name="Confirm the fair terms").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "You have confirmed the terms")
    check_a11y()
    page.get_by_role("link", name="Back to the team").click()
    expect(page.locator("#charter ~ p").first).to_contain_text("Agreed by every member")
    check_a11y()
    _shot(page, "workspace-agreed")


def _pack(page, base, check_a11y):
    page.get_by_role("link", name="Open the consortium pack").click()
    expect(page.get_by_role("heading", name="Leeds Carers Alliance")).to_be_visible()
    main = page.locator("main")
    for text in ("Northern Care Partnership Ltd", "Leeds Carers Circle", CATEGORY_NEED,
                 "Covered", "Set for every member", "30 days", "Agreed by every member"):
        expect(main).to_contain_text(text)
    check_a11y()
    _shot(page, "pack")
    if SCREENSHOTS:
        try:
            page.pdf(path=os.path.join(SCREENSHOTS, "consortia-pack.pdf"))
        except Exception:  # only Chromium prints headless; a PDF is a nice-to-have here
            pass
    href = page.get_by_role("link", name="download it as a web page").get_attribute("href")
    response = page.request.get(base + href)
    assert response.ok
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-disposition"].startswith("attachment")
    text = response.text()
    assert "Leeds Carers Circle" in text
    assert "/static/" not in text and "Your teams" not in text  # a file of its own
    if SCREENSHOTS:  # the download as it looks opened from the disk
        saved = os.path.join(SCREENSHOTS, "consortia-pack-download.html")
        with open(saved, "w", encoding="utf-8") as out:
            out.write(text)
        page.goto(f"file://{saved}")
        _shot(page, "pack-download")


def test_lead_finds_a_partner_who_closes_a_gap_and_they_agree_terms(app, page, live_server,
                                                                    check_a11y):
    entry_id = _world(app)
    base = live_server
    _lead_posts_and_forms_team(page, base, entry_id, check_a11y)
    team_url = page.url.split("#")[0]
    _lead_invites_from_suggestions(page, check_a11y)
    _lead_invites_from_the_matrix(page, base, team_url, check_a11y)
    _partner_accepts(page, base, check_a11y)
    _lead_sets_shares_and_terms(page, base, check_a11y)
    _partner_confirms(page, base, team_url, check_a11y)
    _pack(page, base, check_a11y)
