"""A draft's page says what publishing still needs, and the evaluation step waits for the
closing time."""
from portal.pipeline import services


def _draft(org, user, **data):
    values = {"title": "Carers support service", "description": "Advice and short breaks",
              "main_cpv_code": "85312000", "areas": "Leeds", "value_min": 400_000,
              "value_basis": "whole_life", **data}
    return services.create_opportunity(org, values, user)


def test_a_complete_draft_is_not_told_it_needs_what_it_has(client, login, make_org, make_user):
    leeds = make_org("Leeds City Council", org_type="commissioner")
    officer = make_user(leeds, email="officer@leeds.example")
    draft = _draft(leeds, officer)
    login(officer)
    page = client.get(f"/forward-plan/manage/{draft.id}").get_data(as_text=True)
    assert "everything publishing needs" in page
    assert "still needs" not in page


def test_a_draft_is_told_exactly_what_it_lacks(client, login, make_org, make_user):
    leeds = make_org("Leeds City Council", org_type="commissioner")
    officer = make_user(leeds, email="officer@leeds.example")
    draft = _draft(leeds, officer, description="", areas="")
    login(officer)
    page = client.get(f"/forward-plan/manage/{draft.id}").get_data(as_text=True)
    assert "still needs a description and at least one area" in page
    assert "a main category" not in page and "everything publishing needs" not in page


def test_evaluation_is_not_offered_before_tenders_close(client, login, make_org, make_user):
    from datetime import timedelta

    from portal.pipeline.models import uk_now

    leeds = make_org("Leeds City Council", org_type="commissioner")
    officer = make_user(leeds, email="officer@leeds.example")
    entry = _draft(leeds, officer)
    services.change_status(entry, "planned", officer, {})
    services.change_status(entry, "open", officer, {"closing_at": uk_now() + timedelta(days=20)})
    login(officer)
    page = client.get(f"/forward-plan/manage/{entry.id}/stage/evaluation").get_data(as_text=True)
    assert "Tenders are open until" in page
    assert "Tenders closed" not in page and "Start evaluation" not in page
