"""Every group of radios or checkboxes on the forward plan's pages says its question: each
fieldset has a legend with text a screen reader reads out."""
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from portal.pipeline.models import Opportunity, uk_now
from tests.functional.test_pipeline import _entry, login, people  # noqa: F401


class _Legends(HTMLParser):
    """Collects each fieldset's legend text (None when the fieldset has no legend)."""

    def __init__(self):
        super().__init__()
        self.fieldsets, self._open, self._in_legend = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "fieldset":
            self._open.append(None)
        elif tag == "legend" and self._open:
            self._open[-1] = self._open[-1] or ""
            self._in_legend += 1

    def handle_endtag(self, tag):
        if tag == "legend" and self._in_legend:
            self._in_legend -= 1
        elif tag == "fieldset" and self._open:
            self.fieldsets.append(self._open.pop())

    def handle_data(self, data):
        if self._in_legend and self._open:
            self._open[-1] += data


def legends(html):
    """The stripped legend text of every fieldset on the page, in closing order."""
    parser = _Legends()
    parser.feed(html)
    return [(text or "").strip() if text is not None else None for text in parser.fieldsets]


def _assert_every_fieldset_has_a_question(client, url, *questions):
    response = client.get(url)
    assert response.status_code == 200, url
    found = legends(response.get_data(as_text=True))
    assert found and all(found), f"{url} has a fieldset without a legend: {found}"
    for question in questions:
        assert question in found, f"{url}: no legend '{question}' in {found}"


def test_the_parser_notices_a_missing_or_empty_legend():
    assert legends('<fieldset><legend class="x"> </legend></fieldset>') == [""]
    assert legends("<fieldset><p>Hi</p></fieldset>") == [None]
    assert legends("<fieldset><legend><h1>Pick one</h1></legend></fieldset>") == ["Pick one"]


ENTRY_QUESTIONS = {
    "categories": ("Main category", "Who the service is for (optional)"),
    "value": ("The value is",),
    "timetable": ("Expected tender publication date (optional)", "Closing date (optional)"),
    "route": ("Who can take part", "Reserved participation",
              "Is the tier advisory or required?"),
}


@pytest.mark.parametrize("status", ["draft", "planned"])
def test_the_entry_pages_ask_each_question_in_their_legends(client, login, people, status):
    login(people["officer"])
    entry = _entry(people["leeds"], people["officer"], status=status)
    for page, questions in ENTRY_QUESTIONS.items():
        _assert_every_fieldset_has_a_question(
            client, f"/forward-plan/manage/{entry.id}/entry/{page}", *questions)
    searched = client.post(f"/forward-plan/manage/{entry.id}/entry/categories",
                           data={"cpv_q": "carers", "search": "1"})
    found = legends(searched.get_data(as_text=True))
    assert found and all(found) and "Main category" in found


def test_the_import_page_asks_whether_to_publish(client, login, people):
    login(people["officer"])
    _assert_every_fieldset_has_a_question(
        client, "/forward-plan/manage/import",
        "After importing, should new entries be published?")


def test_the_award_page_asks_what_each_winner_is(client, login, people, db):
    entry = _entry(people["leeds"], people["officer"], status="open")
    opportunity = db.session.get(Opportunity, entry.id)
    opportunity.tender_publish_on = (uk_now() - timedelta(days=30)).date()
    opportunity.closing_at = uk_now() - timedelta(days=1)
    db.session.commit()
    login(people["officer"])
    client.post(f"/forward-plan/manage/{entry.id}/stage/evaluation")
    _assert_every_fieldset_has_a_question(
        client, f"/forward-plan/manage/{entry.id}/award",
        "Winner 1 is a", "Winner 2 is a", "Winner 3 is a")


def test_registering_interest_asks_how_the_supplier_might_take_part(client, login, people):
    entry = _entry(people["leeds"], people["officer"], status="open")
    login(people["volunteer"])
    _assert_every_fieldset_has_a_question(
        client, f"/forward-plan/{entry.id}/interest", "How might your organisation take part?")


@pytest.mark.parametrize("url", ["/forward-plan", "/forward-plan?vcse=1&q=carers"])
def test_the_forward_plan_filters_say_what_the_options_are(client, people, url):
    _entry(people["leeds"], people["officer"])
    _assert_every_fieldset_has_a_question(client, url, "Show only")
