"""Text every form refuses (control characters; direction overrides in one-line fields) and
text it must keep accepting (letters in any script, emoji, line breaks in text areas)."""
import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from portal.accreditation.models import Answer
from portal.core.forms import PortalForm
from portal.organisations.models import Organisation
from portal.pipeline.models import Opportunity, Question
from tests.functional.test_accreditation_support import (  # noqa: F401  (fixtures)
    complete_application, evidence_dir, world,
)
from tests.functional.test_organisations import org, org_admin, profile_form  # noqa: F401
from tests.functional.test_pipeline import SOON, _entry, _form, people  # noqa: F401

RLO = "\u202e"   # RIGHT-TO-LEFT OVERRIDE
CONTROL = "must not contain control characters"
DIRECTION = "must not contain characters that change the direction of text"


def page_of(response):
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page
    return page


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_form_in_the_portal_gets_the_text_checks(app):
    forms = [cls for cls in _all_subclasses(FlaskForm)
             if cls.__module__.startswith("portal.") and cls is not PortalForm]
    assert len(forms) > 40
    assert [f"{c.__module__}.{c.__name__}" for c in forms if not issubclass(c, PortalForm)] == []


# --- registration -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, message", [
    ("Riverside\x00 Befriending", f"Organisation name {CONTROL}"),
    (f"Riverside{RLO}gnidneirfeB", f"Organisation name {DIRECTION}"),
    ("Riverside\x1f", f"Organisation name {CONTROL}"),
])
def test_registration_refuses_an_unsafe_organisation_name(client, name, message):
    client.post("/register", data={"org_type": "vcse"})
    page = page_of(client.post("/register/organisation", data={
        "name": name, "legal_form": "cio", "charity_number": "1123456", "postcode": "LS1 1UR"}))
    assert message in page and 'href="#name"' in page
    # Nothing was kept: the next step still sends the person back to this one.
    assert client.get("/register/you").headers["Location"].endswith("/register/organisation")


def test_registration_refuses_an_unsafe_persons_name(client):
    client.post("/register", data={"org_type": "vcse"})
    client.post("/register/organisation", data={"name": "Riverside", "legal_form": "cio",
                                                "charity_number": "1123456", "postcode": "LS1 1UR"})
    page = page_of(client.post("/register/you", data={"name": f"Ada{RLO} Founder",
                                                      "email": "ada@example.org"}))
    assert f"Full name {DIRECTION}" in page
    assert client.get("/register/check").headers["Location"].endswith("/register/you")


# --- organisation profile -----------------------------------------------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("name", "Riverside\x00Trust", f"Name of the organisation {CONTROL}"),
    ("name", f"Riverside {RLO}tsurT", f"Name of the organisation {DIRECTION}"),
    ("other_names", "\x1f", f"Other names {CONTROL}"),
    ("description", "We help.\x00", f"Description of services {CONTROL}"),
    ("address", "1 Quay Street\x1b[2J", f"Address {CONTROL}"),
    ("contact_role", "Director\x85", f"Public contact role {CONTROL}"),
    ("postcode", "NE1\x7f 4ST", f"Postcode {CONTROL}"),
])
def test_profile_edit_refuses_unsafe_text(client, db, org, org_admin, field, value, message):
    page = page_of(client.post(f"/organisations/{org.id}/edit",
                               data=profile_form(**{field: value})))
    assert message in page and f'href="#{field}"' in page
    db.session.expire_all()
    saved = db.session.get(Organisation, org.id)
    assert (saved.name, saved.description) == ("Riverside Community Trust",
                                               "Advice and counselling.")


def test_profile_edit_keeps_letters_in_any_script(client, db, org, org_admin):
    name = "Cymdeithas Llanŵ Café 🎉 جمعية الخير"
    description = "Cefnogaeth i ofalwyr.\r\n\tنساعد العائلات.\r\nÉté 🌞"
    response = client.post(f"/organisations/{org.id}/edit", data=profile_form(
        name=name, description=description, address="1 Heol y Frenhines\r\nCaerdydd"))
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Organisation, org.id)
    assert (saved.name, saved.description) == (name, description)
    assert saved.address == "1 Heol y Frenhines\r\nCaerdydd"


# --- forward plan -------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("title", "Day\x00 opportunities", f"Title {CONTROL}"),
    ("title", f"Day {RLO}seitinutroppo", f"Title {DIRECTION}"),
    ("reference", "LCC-\x00001", f"Your reference {CONTROL}"),
    ("description", "Activities\x00", f"Your answer {CONTROL}"),  # label is an instruction
])
def test_a_new_entry_refuses_unsafe_text(client, login, people, db, field, value, message):
    login(people["officer"])
    page = page_of(client.post("/forward-plan/manage/new/about", data=_form(**{field: value})))
    assert message in page
    assert count(db, Opportunity) == 0


def test_a_new_entry_keeps_letters_in_any_script(client, login, people, db):
    login(people["officer"])
    response = client.post("/forward-plan/manage/new/about", data=_form(
        title="Gwasanaeth gofalwyr – Café ŵ 🎉", description="خدمات للعائلات\r\nLine two"))
    assert response.status_code == 302
    entry = db.session.scalar(select(Opportunity))
    assert (entry.title, entry.description) == ("Gwasanaeth gofalwyr – Café ŵ 🎉",
                                                "خدمات للعائلات\r\nLine two")


def test_a_question_refuses_control_characters(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="open", question_deadline=SOON)
    login(people["volunteer"])
    page = page_of(client.post(f"/forward-plan/{entry.id}/questions/new",
                               data={"question": "Is TUPE likely?\x00"}))
    assert f"Your question {CONTROL}" in page
    assert count(db, Question) == 0
    response = client.post(f"/forward-plan/{entry.id}/questions/new",
                           data={"question": "A fydd TUPE yn berthnasol?\r\nهل ينطبق؟"})
    assert response.status_code == 302 and count(db, Question) == 1


# --- accreditation ------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("narrative", "We meet it.\x00", f"Your answer {CONTROL}"),
    ("mark_reference", "QM-\x0012", f"Certificate or registration number {CONTROL}"),
])
def test_an_accreditation_answer_refuses_control_characters(client, login, world, db, field,
                                                            value, message):
    application = complete_application(world)
    standard = application.standards[0]
    login(world.applicant)
    url = f"/accreditation/applications/{application.id}/standards/{standard.id}"
    form = {"status": "met", "narrative": "Changed words", "mark_id": "0",
            "save": "Save and continue", field: value}
    page = page_of(client.post(url, data=form))
    assert message in page
    db.session.expire_all()
    assert application.answer_for(standard).narrative == f"How we meet {standard.code}."


def test_an_accreditation_answer_keeps_line_breaks_and_any_script(client, login, world, db):
    application = complete_application(world)
    standard = application.standards[0]
    login(world.applicant)
    narrative = "Mae gennym bolisi.\r\n\t• نلتزم بالمعيار\r\nÉquipe 👍"
    response = client.post(
        f"/accreditation/applications/{application.id}/standards/{standard.id}",
        data={"status": "met", "narrative": narrative, "mark_id": "0",
              "save": "Save and continue"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Answer.narrative).where(
        Answer.application_id == application.id, Answer.standard_id == standard.id)) == narrative
