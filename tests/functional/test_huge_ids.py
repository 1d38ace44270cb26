"""Numbers too large to be an id give a 404 (in a path) or are treated as not chosen (in a query
string), never a 500: PostgreSQL's id columns stop at 2**31 - 1, and SQLite cannot even be asked
for an integer past 2**63 - 1."""
import re

import pytest

HUGE = str(2**64 + 5)
PAST_POSTGRES = str(2**31)
PAST_SQLITE = str(2**63)


def _int_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if any(type(c).__name__ == "IdConverter" for c in rule._converters.values())]


def _path(rule, number):
    return re.sub(r"<[^>]+>", lambda m: number if "int:" in m.group(0) else "x", rule.rule)


def test_every_id_route_uses_the_bounded_converter(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule._converters]
    plain = [rule.rule for rule in rules for name, c in rule._converters.items()
             if type(c).__name__ == "IntegerConverter"]
    assert not plain
    assert len(_int_rules(app)) >= 40


@pytest.mark.parametrize("number", [HUGE, PAST_SQLITE, PAST_POSTGRES])
def test_an_id_past_64_bits_is_not_found_on_every_route(app, client, make_user, login, number):
    login(make_user(site_admin=True))
    answers = {}
    for rule in _int_rules(app):
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(_path(rule, number), method=method)
        answers[rule.rule] = response.status_code
    assert set(answers.values()) == {404}, {r: s for r, s in answers.items() if s != 404}


def test_the_largest_id_is_merely_not_found(client):
    assert client.get(f"/forward-plan/{2**31 - 1}").status_code == 404
    assert client.get(f"/organisations/{2**31 - 1}").status_code == 404


@pytest.mark.parametrize("number", [HUGE, PAST_POSTGRES])
def test_a_huge_buyer_filter_is_an_error_on_the_page(client, number):
    response = client.get(f"/forward-plan?buyer={number}")
    assert response.status_code == 200
    assert "Choose a buyer from the list" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/audit", "/admin/users", "/forward-plan",
                                  "/organisations", "/accredited-providers"])
def test_a_huge_page_number_shows_the_first_page(client, make_user, login, path):
    login(make_user(site_admin=True))
    assert client.get(f"{path}?page={HUGE}").status_code == 200
