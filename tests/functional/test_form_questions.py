"""Every group of radios or checkboxes is read out with its question: each fieldset has a
legend with words in it (axe flags neither a missing nor an empty legend)."""
from datetime import timedelta
from html.parser import HTMLParser

from portal.pipeline import services
from portal.pipeline.models import uk_now


class _Fieldsets(HTMLParser):
    """The legend text of each fieldset on a page, by the fieldset's position."""

    def __init__(self):
        super().__init__()
        self.legends, self._open, self._in_legend = [], [], False

    def handle_starttag(self, tag, attrs):
        if tag == "fieldset":
            self._open.append(len(self.legends))
            self.legends.append("")
        elif tag == "legend" and self._open:
            self._in_legend = True

    def handle_endtag(self, tag):
        if tag == "fieldset" and self._open:
            self._open.pop()
        elif tag == "legend":
            self._in_legend = False

    def handle_data(self, data):
        if self._in_legend and self._open:
            self.legends[self._open[-1]] += data.strip()


def _unnamed_fieldsets(html):
    parser = _Fieldsets()
    parser.feed(html)
    return [n for n, legend in enumerate(parser.legends) if not legend], len(parser.legends)


def _pages(people, entry, awarded):
    return [
        (None, "/forward-plan"),
        *[(people["officer"], f"/forward-plan/manage/{entry.id}/entry/{page}")
          for page in ("categories", "value", "timetable", "route")],
        (people["officer"], "/forward-plan/manage/import"),
        (people["officer"], f"/forward-plan/manage/{awarded.id}/award"),
        (people["volunteer"], f"/forward-plan/{entry.id}/interest"),
        (people["volunteer"], "/organisations"),
    ]


def _entry(org, user, steps, **extra):
    values = {"title": "Carers support service", "description": "Advice and short breaks",
              "main_cpv_code": "85312000", "areas": "Leeds", "value_min": 400_000,
              "value_basis": "whole_life", "suitable_vcse": True}
    opportunity = services.create_opportunity(org, values, user)
    for step in steps:
        services.change_status(opportunity, step, user, extra if step == "open" else {})
    return opportunity


def test_every_question_group_is_named_by_its_legend(client, login, make_org, make_user):
    leeds = make_org("Leeds City Council", org_type="commissioner")
    charity = make_org("Leeds Carers Trust", org_type="vcse")
    people = {"officer": make_user(leeds, email="officer@leeds.example"),
              "volunteer": make_user(charity, email="manager@carers.example")}
    entry = _entry(leeds, people["officer"], ["planned"])
    closing = {"closing_at": uk_now() + timedelta(days=20)}
    awarded = _entry(leeds, people["officer"], ["planned", "open"], **closing)
    empty = {}
    for person, path in _pages(people, entry, awarded):
        client.post("/sign-out")
        if person is not None:
            login(person)
        response = client.get(path)
        assert response.status_code == 200, path
        unnamed, count = _unnamed_fieldsets(response.get_data(as_text=True))
        assert count, path
        if unnamed:
            empty[path] = unnamed
    assert not empty, empty
