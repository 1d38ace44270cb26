"""Forward plan pages: the buyer's pages, access between organisations, questions, interest,
awards, documents, spreadsheets and the public list, timeline and feed."""
import io
import re
from datetime import date, datetime, timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import select
from werkzeug.http import parse_options_header

from portal.core.audit import AuditEvent
from portal.core.mail import OutboxMessage
from portal.pipeline import services
from portal.pipeline.models import SOCIAL_VALUE_THEMES, Opportunity, uk_now
from tests import stores
from tests.stores import use_shared_store

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SOON = uk_now() + timedelta(days=20)


def _later(days):
    return uk_now() + timedelta(days=days)


def _entry(org, user, status="planned", **data):
    values = {"title": "Carers support service", "description": "Advice and short breaks",
              "main_cpv_code": "85312000", "areas": "Leeds", "value_min": 400_000,
              "value_basis": "whole_life", "suitable_vcse": True, **data}
    opportunity = services.create_opportunity(org, values, user)
    path = {"draft": [], "planned": ["planned"], "open": ["planned", "open"]}[status]
    for step in path:
        extra = {"closing_at": data.get("closing_at") or SOON} if step == "open" else {}
        services.change_status(opportunity, step, user, extra)
    return opportunity


@pytest.fixture
def login(client, login):
    """Sign in as someone else, signing out whoever was signed in."""
    def switch(user):
        client.post("/sign-out")
        return login(user)
    return switch


@pytest.fixture
def people(make_org, make_user):
    leeds = make_org("Leeds City Council", org_type="commissioner")
    york = make_org("City of York Council", org_type="commissioner")
    charity = make_org("Leeds Carers Trust", org_type="vcse")
    prime = make_org("Big Care Ltd", org_type="prime")
    return {
        "leeds": leeds, "york": york, "charity": charity, "prime": prime,
        "officer": make_user(leeds, email="officer@leeds.example"),
        "york_officer": make_user(york, email="officer@york.example"),
        "volunteer": make_user(charity, email="manager@carers.example"),
        "bidder": make_user(prime, email="bids@bigcare.example"),
    }


# --- Access -------------------------------------------------------------------------------------

MANAGE_PAGES = ("/forward-plan/manage/{id}", "/forward-plan/manage/{id}/edit",
                "/forward-plan/manage/{id}/stage/open", "/forward-plan/manage/{id}/lots/new",
                "/forward-plan/manage/{id}/documents", "/forward-plan/manage/{id}/questions",
                "/forward-plan/manage/{id}/interest", "/forward-plan/manage/{id}/award")


def test_another_commissioner_cannot_see_or_change_the_plan(client, login, people):
    entry = _entry(people["leeds"], people["officer"])
    login(people["york_officer"])
    for page in MANAGE_PAGES:
        assert client.get(page.format(id=entry.id)).status_code == 404, page
    assert client.post(f"/forward-plan/manage/{entry.id}/edit",
                       data={"title": "Hijacked"}).status_code == 404
    assert client.post(f"/forward-plan/manage/{entry.id}/stage/withdrawn",
                       data={"reason": "x"}).status_code == 404
    assert client.get("/forward-plan/manage").status_code == 200  # their own (empty) plan
    assert "Carers support" not in client.get("/forward-plan/manage").get_data(as_text=True)


def test_suppliers_and_visitors_cannot_reach_the_buyers_pages(client, login, people):
    entry = _entry(people["leeds"], people["officer"])
    assert client.get("/forward-plan/manage").status_code == 302  # sign in first
    login(people["volunteer"])
    assert client.get("/forward-plan/manage").status_code == 404
    assert client.get(f"/forward-plan/manage/{entry.id}").status_code == 404
    assert client.get("/forward-plan/manage/import").status_code == 404


def test_drafts_are_private_to_their_buyer(client, login, people):
    draft = _entry(people["leeds"], people["officer"], status="draft")
    assert client.get(f"/forward-plan/{draft.id}").status_code == 404
    assert client.get(f"/api/v1/opportunities/{draft.id}").status_code == 404
    login(people["york_officer"])
    assert client.get(f"/forward-plan/{draft.id}").status_code == 404
    login(people["officer"])
    assert "This is a draft" in client.get(f"/forward-plan/{draft.id}").get_data(as_text=True)


# --- Creating and publishing ---------------------------------------------------------------------

def _form(**overrides):
    data = {"title": "Day opportunities", "description": "Activities for adults",
            "main_cpv_code": "85311000", "areas": "Leeds, Bradford", "value_min": "£1,200,000",
            "value_basis": "whole_life", "contract_months": "36", "procurement_route": "light_touch",
            "flags": ["suitable_vcse", "consortium_welcome"], "accreditation_tier": "2",
            "accreditation_requirement": "advisory", "reservation": "", "sv_wellbeing": "10",
            "closing_date": "", "tender_publish_on": ["1", "3", "2027"]}
    data.update(overrides)
    return data


ENTRY_PAGES = {
    "about": ("title", "reference", "description", "outcomes"),
    "categories": ("main_cpv_code", "additional_cpv", "client_groups"),
    "areas": ("areas",),
    "value": ("value_min", "value_max", "value_basis", "contract_months", "extension_months"),
    "timetable": ("market_engagement_on", "engagement_details", "tender_publish_on",
                  "question_date", "question_time", "closing_date", "closing_time",
                  "contract_start_on"),
    "route": ("procurement_route", "flags", "reservation", "reservation_area",
              "accreditation_tier", "accreditation_requirement"),
    "social-value": tuple(f"sv_{theme}" for theme in SOCIAL_VALUE_THEMES),
    "contact": ("contact_role",),
}


def _post_entry(client, data):
    """Answer the entry's pages in turn with the values of `_form`, then save the draft on
    check-your-answers. Returns the first refused page's response, or the last one."""
    pages = iter(ENTRY_PAGES.items())
    url = "/forward-plan/manage/new/about"
    for page, fields in pages:
        response = client.post(url, data={k: v for k, v in data.items() if k in fields})
        if response.status_code != 302:
            return response
        url = response.location
    return client.post(url)


def test_a_commissioner_creates_and_publishes_an_entry(client, login, people, db):
    login(people["officer"])
    response = _post_entry(client, _form())
    assert response.status_code == 302, response.get_data(as_text=True)
    entry = db.session.scalar(select(Opportunity))
    assert entry.status == "draft" and entry.value_min == 1_200_000
    assert {a.name for a in entry.areas} == {"Leeds", "Bradford"}
    assert [(p.theme, p.weighting) for p in entry.social_value] == [("wellbeing", 10)]
    check = client.get(f"/forward-plan/manage/{entry.id}/stage/planned").get_data(as_text=True)
    assert "Check the entry before you publish it" in check
    client.post(f"/forward-plan/manage/{entry.id}/stage/planned")
    db.session.refresh(entry)
    assert entry.status == "planned"
    page = client.get(f"/forward-plan/{entry.id}").get_data(as_text=True)
    assert "Tier 2 is recommended, not required" in page and "Stage changed" in page
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "Opportunity").order_by(AuditEvent.id)).all()
    # Made on the first page, saved by each later page that changed something (all but the
    # contact page, left blank), then published.
    assert actions == ["opportunity.created"] + ["opportunity.updated"] * 6 + [
        "opportunity.status_changed"]


def test_bad_input_is_shown_with_an_error_summary_and_kept(client, login, people, db):
    login(people["officer"])
    response = _post_entry(client, _form(value_min="lots", contract_months="36"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "govuk-error-summary" in page and "Enter the estimated value in pounds" in page
    assert "Day opportunities" in page and 'value="lots"' in page and 'value="36"' in page
    response = _post_entry(client, _form(areas="Leeds, Atlantis"))
    assert "Leeds, Atlantis" in response.get_data(as_text=True) and "could not find" in \
        response.get_data(as_text=True)
    response = _post_entry(client, _form(procurement_route="open",
                                         accreditation_requirement="required"))
    assert "only be required for grant funding" in response.get_data(as_text=True)
    response = _post_entry(client, _form(sv_wellbeing="150"))
    assert "Enter a whole percentage from 1 to 100" in response.get_data(as_text=True)
    assert 'value="150"' in response.get_data(as_text=True)
    # Each draft kept the pages before the refused one, and nothing that was refused.
    value, areas, route, social = db.session.scalars(
        select(Opportunity).order_by(Opportunity.id)).all()
    assert value.main_cpv_code == "85311000" and value.value_min is None
    assert value.contract_months is None and areas.areas == []
    assert route.procurement_route is None and route.accreditation_tier is None
    assert social.accreditation_tier == 2 and social.social_value == []


def test_publishing_an_incomplete_draft_says_what_is_missing(client, login, people, db):
    login(people["officer"])
    client.post("/forward-plan/manage/new/about", data={"title": "Just a title"})
    entry = db.session.scalar(select(Opportunity))
    response = client.post(f"/forward-plan/manage/{entry.id}/stage/planned", follow_redirects=True)
    assert "Add a description before publishing" in response.get_data(as_text=True)
    db.session.refresh(entry)
    assert entry.status == "draft"


def test_an_illegal_move_from_the_page_is_refused(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="draft")
    login(people["officer"])
    response = client.post(f"/forward-plan/manage/{entry.id}/stage/awarded",
                           follow_redirects=True)
    assert "cannot be moved to" in response.get_data(as_text=True)
    db.session.refresh(entry)
    assert entry.status == "draft"


def test_opening_for_tenders_checks_the_dates(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], contract_start_on=date(2027, 1, 1))
    login(people["officer"])
    closing = _later(400)
    response = client.post(f"/forward-plan/manage/{entry.id}/stage/open", data={
        "closing_date": [str(closing.day), str(closing.month), str(closing.year)],
        "closing_time": "2pm", "contract_start_on": ["1", "1", "2027"]})
    assert "must start after the closing date" in response.get_data(as_text=True)
    start = closing + timedelta(days=90)
    response = client.post(f"/forward-plan/manage/{entry.id}/stage/open", data={
        "closing_date": [str(closing.day), str(closing.month), str(closing.year)],
        "closing_time": "2pm", "contract_start_on": [str(start.day), str(start.month),
                                                    str(start.year)]})
    assert response.status_code == 302
    db.session.refresh(entry)
    assert entry.status == "open" and entry.closing_at.hour == 14


def test_withdrawing_needs_a_reason_shown_publicly(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    page = client.post(f"/forward-plan/manage/{entry.id}/stage/withdrawn", data={"reason": ""})
    assert "Give a reason" in page.get_data(as_text=True)
    client.post(f"/forward-plan/manage/{entry.id}/stage/withdrawn",
                data={"reason": "Brought back in house"})
    assert "Brought back in house" in client.get(f"/forward-plan/{entry.id}").get_data(
        as_text=True)


def test_lots_are_added_changed_and_removed(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    client.post(f"/forward-plan/manage/{entry.id}/lots/new", data={
        "title": "North Leeds", "value_min": "£100,000", "cpv_codes": "85312000",
        "areas": "Leeds"})
    client.post(f"/forward-plan/manage/{entry.id}/lots/new", data={"title": "South Leeds"})
    db.session.refresh(entry)
    assert [(lot.number, lot.title) for lot in entry.lots] == [(1, "North Leeds"),
                                                               (2, "South Leeds")]
    first = entry.lots[0]
    client.post(f"/forward-plan/manage/{entry.id}/lots/{first.id}/remove")
    db.session.expire_all()
    assert [lot.number for lot in db.session.get(Opportunity, entry.id).lots] == [2]
    assert "Lot 2: South Leeds" in client.get(f"/forward-plan/{entry.id}").get_data(as_text=True)


# --- Documents ----------------------------------------------------------------------------------

@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    """Documents kept in a folder of this test's; settings a test changes are put back."""
    monkeypatch.setitem(app.config, "PIPELINE_UPLOAD_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "PIPELINE_MAX_UPLOAD_BYTES",
                        app.config.get("PIPELINE_MAX_UPLOAD_BYTES"))
    return tmp_path


def _upload(client, entry, name, content, title="Specification"):
    return client.post(f"/forward-plan/manage/{entry.id}/documents",
                       data={"title": title, "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_documents_are_checked_stored_privately_and_downloaded_as_attachments(
        client, login, people, db, uploads):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    assert _upload(client, entry, "spec.pdf", PDF).status_code == 302
    document = db.session.get(Opportunity, entry.id).documents[0]
    stored = list(uploads.iterdir())
    assert [p.name for p in stored] == [document.stored_name]
    assert "spec" not in document.stored_name
    refused = {
        "fake.pdf": b"MZ\x90\x00 this is a program",
        "script.html": b"<script>alert(1)</script>",
        "notes.docx": b"PK\x03\x04 but not really a word file",
    }
    for name, content in refused.items():
        page = _upload(client, entry, name, content).get_data(as_text=True)
        assert "govuk-error-summary" in page, name
    client.post("/sign-out")
    response = client.get(f"/forward-plan/{entry.id}/documents/{document.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def shared(app, uploads, monkeypatch):
    objects = use_shared_store(app, monkeypatch)
    yield objects
    assert stores.STATE["areas"] <= {"uploads"}


def test_documents_go_to_the_configured_store_and_come_back_from_it(
        client, login, people, db, shared, uploads):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    assert _upload(client, entry, "spec.pdf", PDF).status_code == 302
    document = db.session.get(Opportunity, entry.id).documents[0]
    assert shared == {document.stored_name: PDF} and not list(uploads.iterdir())
    response = client.get(f"/forward-plan/{entry.id}/documents/{document.id}")
    assert response.status_code == 200 and response.data == PDF
    shared.clear()  # lost from the store: a 404, not a 500
    assert client.get(f"/forward-plan/{entry.id}/documents/{document.id}").status_code == 404


def test_a_full_store_refuses_a_document_clearly_and_keeps_nothing(
        client, login, people, db, shared):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    stores.STATE["full"] = True
    response = _upload(client, entry, "spec.pdf", PDF)
    page = response.get_data(as_text=True)  # the form again, its error summary saying why
    assert "govuk-error-summary" in page and "file store is full" in page
    assert db.session.get(Opportunity, entry.id).documents == [] and shared == {}


@pytest.mark.parametrize("name, shown, fallback", [
    ("évidence.pdf", "évidence.pdf", "evidence.pdf"),
    ("تقرير سنوي.pdf", "تقرير سنوي.pdf", "file.pdf"),   # once refused: no letters survived
    ("../../etc/passwd.pdf", "passwd.pdf", "passwd.pdf"),
])
def test_document_names_keep_their_letters_and_download_under_them(
        client, login, people, db, uploads, name, shown, fallback):
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    assert _upload(client, entry, name, PDF, title="").status_code == 302
    document = db.session.get(Opportunity, entry.id).documents[0]
    assert (document.original_name, document.title) == (shown, shown)
    assert [p.name for p in uploads.iterdir()] == [document.stored_name]
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", document.stored_name)
    assert shown in client.get(f"/forward-plan/{entry.id}").get_data(as_text=True)
    response = client.get(f"/forward-plan/{entry.id}/documents/{document.id}")
    header = response.headers["Content-Disposition"]
    assert header.startswith(f'attachment; filename="{fallback}"')
    assert parse_options_header(header)[1]["filename"] == shown
    assert response.data == PDF


def test_oversized_documents_are_refused(client, login, people, app, uploads):
    app.config["PIPELINE_MAX_UPLOAD_BYTES"] = 1024
    entry = _entry(people["leeds"], people["officer"])
    login(people["officer"])
    response = _upload(client, entry, "big.pdf", PDF + b"0" * 2000)
    assert "smaller than" in response.get_data(as_text=True) or response.status_code == 413


def test_a_drafts_documents_are_not_downloadable_by_others(client, login, people, db, uploads):
    entry = _entry(people["leeds"], people["officer"], status="draft")
    login(people["officer"])
    _upload(client, entry, "spec.pdf", PDF)
    document = db.session.get(Opportunity, entry.id).documents[0]
    login(people["york_officer"])
    assert client.get(f"/forward-plan/{entry.id}/documents/{document.id}").status_code == 404


# --- Questions, interest and award --------------------------------------------------------------

def test_questions_are_private_until_answered_and_then_anonymous(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="open",
                   question_deadline=_later(5))
    login(people["volunteer"])
    client.post(f"/forward-plan/{entry.id}/questions/new",
                data={"question": "Leeds Carers Trust asks: is TUPE likely?"})
    assert "TUPE" not in client.get(f"/forward-plan/{entry.id}").get_data(as_text=True).split(
        "Questions your organisation asked")[0]
    mail = db.session.scalars(select(OutboxMessage)).all()
    assert [m.recipient for m in mail] == ["officer@leeds.example"]
    question = db.session.get(Opportunity, entry.id).questions[0]
    login(people["officer"])
    form = client.get(f"/forward-plan/manage/{entry.id}/questions/{question.id}/answer")
    assert "Leeds Carers Trust" in form.get_data(as_text=True)
    client.post(f"/forward-plan/manage/{entry.id}/questions/{question.id}/answer", data={
        "published_question": "Is TUPE likely to apply?", "answer": "Yes, for 12 staff."})
    client.post("/sign-out")
    page = client.get(f"/forward-plan/{entry.id}").get_data(as_text=True)
    assert "Is TUPE likely to apply?" in page and "Yes, for 12 staff." in page
    assert "Leeds Carers Trust asks" not in page
    assert db.session.scalars(select(OutboxMessage.recipient).order_by(
        OutboxMessage.id.desc())).first() == "manager@carers.example"


def test_asking_a_question_writes_nothing_to_the_search_index(client, login, people, app):
    """A question touches the entry's row but nothing searchable about it: an index commit
    there cost a second at national scale when it merged segments."""
    from portal.search.opportunities import get_opportunity_index
    entry = _entry(people["leeds"], people["officer"], status="open",
                   question_deadline=_later(5))
    index = get_opportunity_index(app)
    before = index.open().latest_generation()
    login(people["volunteer"])
    response = client.post(f"/forward-plan/{entry.id}/questions/new",
                           data={"question": "Is TUPE likely?"})
    assert response.status_code == 302 and index.open().latest_generation() == before
    services.update_opportunity(entry, {"title": "Carers' short breaks"}, people["officer"])
    assert index.open().latest_generation() != before  # what is searched changed: written


def test_questions_close_at_their_deadline(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="open")
    db.session.get(Opportunity, entry.id).question_deadline = uk_now() - timedelta(minutes=5)
    db.session.commit()
    login(people["volunteer"])
    response = client.post(f"/forward-plan/{entry.id}/questions/new", data={"question": "Late?"})
    assert "deadline for questions has passed" in response.get_data(as_text=True)


def test_commissioners_cannot_ask_or_express_interest(client, login, people):
    entry = _entry(people["leeds"], people["officer"])
    login(people["york_officer"])
    assert client.get(f"/forward-plan/{entry.id}/questions/new").status_code == 404
    assert client.post(f"/forward-plan/{entry.id}/interest", data={"kind": "sole"}).status_code \
        == 404


def test_interest_is_counted_by_type_withdrawn_and_listed_with_deadlines(
        client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="open")
    login(people["volunteer"])
    client.post(f"/forward-plan/{entry.id}/interest", data={"kind": "partner", "note": "Carers"})
    page = client.get("/forward-plan/my-interests").get_data(as_text=True)
    assert "Carers support service" in page and "Joining a consortium" in page
    login(people["bidder"])
    client.post(f"/forward-plan/{entry.id}/interest", data={"kind": "lead"})
    summary = services.interest_summary(db.session.get(Opportunity, entry.id))
    assert summary["by_type"] == {"Voluntary, community or social enterprise (VCSE)": 1,
                                  "Prime contractor": 1}
    client.post(f"/forward-plan/{entry.id}/interest/withdraw")
    db.session.expire_all()
    summary = services.interest_summary(db.session.get(Opportunity, entry.id))
    assert summary["by_kind"] == {"sole": 0, "lead": 0, "partner": 1, "info": 0}
    login(people["officer"])
    page = client.get(f"/forward-plan/manage/{entry.id}/interest").get_data(as_text=True)
    assert "Leeds Carers Trust" in page and "Big Care Ltd" not in page


def test_an_award_links_directory_winners_and_is_public(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="open")
    opportunity = db.session.get(Opportunity, entry.id)
    opportunity.closing_at = uk_now() - timedelta(days=1)
    opportunity.tender_publish_on = (uk_now() - timedelta(days=30)).date()
    db.session.commit()
    login(people["officer"])
    client.post(f"/forward-plan/manage/{entry.id}/stage/evaluation")
    today = uk_now().date()
    response = client.post(f"/forward-plan/manage/{entry.id}/award", data={
        "awarded_on": [str(today.day), str(today.month), str(today.year)],
        "value": "£380,000", "winner_1_name": "leeds carers trust",
        "winner_2_name": "Local Lunch Club", "winner_2_flags": ["is_vcse", "is_sme"]})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    award = db.session.get(Opportunity, entry.id).award
    assert [(w.name, w.organisation_id, w.is_vcse, w.is_sme) for w in award.winners] == [
        ("Leeds Carers Trust", people["charity"].id, True, False),
        ("Local Lunch Club", None, True, True)]
    page = client.get(f"/forward-plan/{entry.id}").get_data(as_text=True)
    assert "Awarded to" in page and "£380,000" in page and "Contract awarded" in page


def test_an_award_before_evaluation_is_refused(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="open")
    login(people["officer"])
    today = uk_now().date()
    response = client.post(f"/forward-plan/manage/{entry.id}/award", data={
        "awarded_on": [str(today.day), str(today.month), str(today.year)],
        "winner_1_name": "Someone"})
    assert response.status_code == 200
    assert db.session.get(Opportunity, entry.id).award is None


# --- Spreadsheets through the pages --------------------------------------------------------------

def test_import_preview_confirm_and_report(client, login, people, db, uploads):
    login(people["officer"])
    data = ("Reference,Title,Description,Main CPV code,Areas,Estimated value\n"
            "R-1,Carers,Support,85312000,Leeds,£10\n"
            "R-2,Bad area,Support,85312000,Atlantis,£10\n").encode()
    response = client.post("/forward-plan/manage/import", data={
        "file": (io.BytesIO(data), "plan.csv"), "publish": "yes"},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "1 of 2 rows ready to import" in page and "Atlantis" in page
    assert db.session.scalar(select(Opportunity.id)) is None
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    login(people["york_officer"])
    client.post("/forward-plan/manage/import/confirm", data={"token": token, "publish": "yes"})
    assert db.session.scalar(select(Opportunity.id)) is None  # another buyer's token does nothing
    login(people["officer"])
    done = client.post("/forward-plan/manage/import/confirm",
                       data={"token": token, "publish": "yes"}).get_data(as_text=True)
    assert "1 added, 0 updated" in done
    assert db.session.scalar(select(Opportunity)).status == "planned"
    report = client.get(f"/forward-plan/manage/import/{token}/report.csv")
    assert report.headers["Content-Disposition"].startswith("attachment")
    assert "Line,Problems" in report.get_data(as_text=True)
    assert "Atlantis" in report.get_data(as_text=True)
    login(people["york_officer"])
    assert client.get(f"/forward-plan/manage/import/{token}/report.csv").status_code == 404


def test_the_template_and_exports_download(client, login, people):
    _entry(people["leeds"], people["officer"], title="=HYPERLINK(\"http://x\")")
    login(people["officer"])
    for url in ("/forward-plan/manage/import/template.csv",
                "/forward-plan/manage/import/template.xlsx",
                "/forward-plan/manage/export.csv", "/forward-plan/manage/export.xlsx"):
        response = client.get(url)
        assert response.status_code == 200 and "attachment" in response.headers[
            "Content-Disposition"], url
    exported = client.get("/forward-plan/manage/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in exported
    assert client.get("/forward-plan/manage/export.pdf").status_code == 404


# --- The public plan ----------------------------------------------------------------------------

def test_the_list_filters_by_category_area_value_and_closing(client, people, db):
    leeds, officer = people["leeds"], people["officer"]
    _entry(leeds, officer, title="Carers", main_cpv_code="85312000", areas="Leeds")
    _entry(leeds, officer, title="Roads", main_cpv_code="45233000", areas="Cornwall",
           value_min=5_000_000, suitable_vcse=False)
    _entry(leeds, officer, status="open", title="Closing soon", closing_at=_later(5),
           areas="Bradford")
    _entry(leeds, officer, status="draft", title="Secret draft")

    def titles(query):
        page = client.get("/forward-plan" + query).get_data(as_text=True)
        return sorted(re.findall(r'<a class="govuk-link" href="/forward-plan/\d+">([^<]+)</a>',
                                 page))
    assert titles("") == ["Carers", "Closing soon", "Roads"]
    assert titles("?cpv=85000000") == ["Carers", "Closing soon"]  # the hierarchy counts
    assert titles("?area=E12000003") == ["Carers", "Closing soon"]  # Yorkshire and The Humber
    assert titles("?value_band=2m_10m") == ["Roads"]
    assert titles("?closing_within=7") == ["Closing soon"]
    assert titles("?options=vcse") == ["Carers", "Closing soon"]
    assert titles("?q=roads") == ["Roads"]
    assert titles(f"?buyer={leeds.id}&status=open") == ["Closing soon"]
    page = client.get("/forward-plan?sort=sideways&area=nowhere").get_data(as_text=True)
    assert "govuk-error-summary" in page and "Choose an area" in page


def test_an_open_entry_past_its_closing_time_says_tenders_closed_not_days_left(client, people,
                                                                              db):
    soon = _entry(people["leeds"], people["officer"], status="open", title="Tomorrow",
                  closing_at=_later(1))
    gone = _entry(people["leeds"], people["officer"], status="open", title="Gone",
                  closing_at=_later(5))
    gone.closing_at = _later(-118)  # the buyer has not started evaluation yet
    db.session.commit()
    page = client.get("/forward-plan").get_data(as_text=True)
    assert "1 day left" in page and "-118" not in page
    entry = client.get(f"/forward-plan/{gone.id}").get_data(as_text=True)
    assert "Tenders closed at" in entry and "Tenders close at" not in entry
    assert soon.closes_in_days == 1


def test_the_list_paginates_and_sorts(client, people, app):
    for n in range(23):
        _entry(people["leeds"], people["officer"], title=f"Entry {n:02d}")
    first = client.get("/forward-plan?sort=title").get_data(as_text=True)
    assert "23 entries found, showing 1 to 20" in first and "Entry 00" in first
    second = client.get("/forward-plan?sort=title&page=2").get_data(as_text=True)
    assert "Entry 22" in second and "Entry 00" not in second


def test_the_timeline_shows_the_next_eighteen_months(client, people):
    _entry(people["leeds"], people["officer"], tender_publish_on=(_later(60)).date(),
           contract_start_on=(_later(600)).date())
    page = client.get("/forward-plan/timeline").get_data(as_text=True)
    assert page.count('class="govuk-heading-m app-timeline__heading"') == 18
    assert "Tender expected" in page and "Contract starts" not in page.split("</ol>")[0] \
        or "Contract starts" not in page


def test_the_feed_is_atom(client, people):
    _entry(people["leeds"], people["officer"])
    response = client.get("/forward-plan/feed.atom")
    assert response.mimetype == "application/atom+xml"
    root = ElementTree.fromstring(response.data)
    entries = root.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 1 and "Carers support service" in entries[0].find(
        "{http://www.w3.org/2005/Atom}title").text


def test_history_shows_changes_but_not_private_activity(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="open")
    services.update_opportunity(db.session.get(Opportunity, entry.id),
                                {"value_min": 450_000}, people["officer"])
    login(people["volunteer"])
    client.post(f"/forward-plan/{entry.id}/interest", data={"kind": "sole"})
    client.post("/sign-out")
    page = client.get(f"/forward-plan/{entry.id}").get_data(as_text=True)
    history = page.split(">History<")[1].split("</ol>")[0]
    assert "Changed: value" in history and "From planned to open for tenders" in history
    assert "interest" not in history.lower()


def test_home_and_nav_link_to_the_plan(client):
    assert client.get("/forward-plan").status_code == 200
    assert 'href="/forward-plan"' in client.get("/").get_data(as_text=True)


def test_past_dates_for_datetime_field_are_naive_uk_time():
    assert isinstance(uk_now(), datetime) and uk_now().tzinfo is None


def test_an_open_entry_says_when_tenders_close_without_showing_markup(client, people):
    entry = _entry(people["leeds"], people["officer"], status="open", closing_at=_later(5))
    html = client.get(f"/forward-plan/{entry.id}").get_data(as_text=True)
    assert "Tenders close at <strong>" in html and "&lt;strong&gt;" not in html


# --- The entry's management page -----------------------------------------------------------------

def test_a_complete_draft_made_through_the_form_is_not_told_it_needs_what_it_has(
        client, login, people, db):
    login(people["officer"])
    _post_entry(client, _form())
    entry = db.session.scalar(select(Opportunity))
    page = client.get(f"/forward-plan/manage/{entry.id}").get_data(as_text=True)
    assert "everything publishing needs" in page and "still needs" not in page
    assert "a main category" not in page and "at least one area" not in page


def test_the_management_page_links_to_the_entrys_supplier_matches(client, login, people):
    entry = _entry(people["leeds"], people["officer"], status="draft")
    login(people["officer"])
    page = client.get(f"/forward-plan/manage/{entry.id}").get_data(as_text=True)
    assert f'href="/forward-plan/{entry.id}/matches"' in page
    assert client.get(f"/forward-plan/{entry.id}/matches").status_code == 200


def _field_error(html, field):
    match = re.search(rf'id="{field}-error" class="govuk-error-message">(.*?)</p>', html, re.S)
    return " ".join(match.group(1).split()) if match else ""


def test_a_closing_date_before_the_tender_is_published_is_an_error_on_the_closing_date(
        client, login, people, db):
    login(people["officer"])
    response = _post_entry(client, _form(
        tender_publish_on=["1", "3", "2027"], closing_date=["1", "2", "2027"]))
    html = response.get_data(as_text=True)
    entry = db.session.scalar(select(Opportunity))
    assert response.status_code == 200 and "/entry/timetable" in response.request.path
    assert entry.closing_at is None and entry.tender_publish_on is None
    message = "The closing date must be on or after the tender publication date"
    assert message in _field_error(html, "closing_date")
    assert f'<a href="#closing_date-day">{message}</a>' in html


def test_opening_with_a_closing_date_before_the_tender_date_is_refused_on_the_field(
        client, login, people, db):
    publish = _later(60).date()
    entry = _entry(people["leeds"], people["officer"], tender_publish_on=publish)
    login(people["officer"])
    closing = _later(30)
    response = client.post(f"/forward-plan/manage/{entry.id}/stage/open", data={
        "closing_date": [str(closing.day), str(closing.month), str(closing.year)]})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "on or after the tender publication date" in _field_error(html, "closing_date")
    db.session.refresh(entry)
    assert entry.status == "planned"
