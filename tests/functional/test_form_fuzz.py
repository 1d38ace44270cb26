"""Every form of the app, sent hostile values: no 500, clear errors, nothing stored on refusal.

The routes come from the URL map: every rule that accepts POST is fuzzed, so a new form joins
by itself. Each runs against the world of the access matrix (tests/functional/access_world.py),
as the first person the matrix lets use it. The form is read from the route's own page, or, for
a button that posts from another page (a POST-only rule), from the nearest page that holds a
form with that action. Its field names, options and file inputs are then filled by hypothesis
with long text (10,000 characters), right-to-left marks, emoji and combining accents, control
characters and NUL, HTML and script, SQL fragments, negative and huge numbers, impossible dates
(31 February, day 0, year 99999), fields left out and fields given twice, always with a valid
CSRF token (CSRF protection is on for this test, as in production).

Each answer must be below 500. A form page shown again with errors must carry the GOV.UK error
summary, and every link in it must point at an element on the page. A refused post (4xx, or
the form again with errors) must leave every table's row count and the audit log as they were.

Cost: FORM_FUZZ_EXAMPLES examples per form (8 by default, derandomized so CI sees the same
cases every run). A deeper run: `FORM_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest -q -s
tests/functional/test_form_fuzz.py` (or the hypothesis profile `HYPOTHESIS_PROFILE=form-fuzz-deep`).
A rule that cannot be fuzzed is listed in UNFUZZED with the reason; any other rule with no form
to be found fails the test.
"""
import io
import os
import re
import time
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from tests.conftest import sign_in
from tests.functional import access_matrix as matrix
from tests.functional.access_world import PDF, build_world
from tests.functional.test_access_matrix import EXPECTED, OK, url_for_case

settings.register_profile(
    "form-fuzz", max_examples=int(os.environ.get("FORM_FUZZ_EXAMPLES", "8")), deadline=None,
    derandomize=True, database=None, phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much])
settings.register_profile("form-fuzz-deep", parent=settings.get_profile("form-fuzz"),
                          max_examples=200)
_CHOSEN = os.environ.get("HYPOTHESIS_PROFILE", "")
PROFILE = settings.get_profile(_CHOSEN if _CHOSEN.startswith("form-fuzz") else "form-fuzz")

# Rules that are not fuzzed, with the reason. Anything else that accepts POST must be.
UNFUZZED = {
    "accounts.register_you": "a step of the registration journey: its page is only reached "
                             "after the first step, which is fuzzed (accounts.register_start)",
    "accounts.register_organisation": "a later step of the registration journey (see "
                                      "accounts.register_you)",
    "accounts.register_password": "a later step of the registration journey",
    "accounts.register_check": "the last step of the registration journey",
    "accounts.sign_in_code": "asked for only in the middle of a two-step sign-in",
    "accounts.sign_in_recovery": "asked for only in the middle of a two-step sign-in",
    "accounts.mfa_recovery_codes": "shown only once, straight after two-step sign-in is set up",
    "accounts.mfa_turn_off": "only for someone with two-step sign-in on; nobody in the world has",
    "accounts.mfa_new_recovery_codes": "only for someone with two-step sign-in on",
    "pipeline.new": "an old address that redirects to pipeline.entry_start, which is fuzzed",
    "pipeline.edit": "an old address that redirects to pipeline.entry_page, which is fuzzed",
    # Buttons shown only in a state the world's objects are not in (the access matrix still
    # checks who may post to them).
    "accreditation.answer": "the world's application is with its assessors, so it offers no "
                            "answers to change",
    "accreditation.check": "the world's application is with its assessors",
    "accreditation.use_certificate": "the world's application is with its assessors, so "
                                     "nobody may add evidence to it",
    "accreditation.remove_evidence": "the world's application is with its assessors, so "
                                     "nobody may take evidence out",
    "accreditation.decide": "offered to the board once the application is ready for a "
                            "decision; the world's is still being assessed",
    "consortia.confirm_charter": "offered only to a member who has a charter to confirm; the "
                                 "world's team has none",
    "consortia.new_team": "offered on the board only to a supplier without a team for the "
                          "entry; the world's prime already leads one",
    "consortia.select_response": "offered on a shortlisted response; the world's open "
                                 "package has only a submitted one",
    "consortia.withdraw_invitation": "offered only on a partner invitation still waiting, "
                                     "on the inviter's view of it",
    "consortia.leave": "offered to a team member who does not lead it; the owner leads",
    "insight.commit": "the world's awarded entry offers its supplier no form to add a "
                      "commitment (its page explains why instead)",
    "insight.withdraw_commitment": "offered only before the entry is awarded; the world's "
                                   "commitment is on an awarded entry",
    "matching.dismiss": "offered on recommendations, and the world holds no stored matches",
    "matching.restore": "offered on dismissed recommendations, and the world holds none",
    "organisations.remove_credential_document": "offered only on a credential with a "
                                                "document; the world's credential has none",
    "pipeline.entry_check": "offered only for a draft; the world's entry is published",
    "pipeline.import_confirm": "its form is on the preview shown after an upload, not on a "
                               "page of its own; pipeline.import_start, which makes it, is "
                               "fuzzed",
}
# Refusals that rightly leave a trace: a failed sign-in is counted against the account.
RECORDS_REFUSALS = {"accounts.sign_in", "accounts.delete_account"}
# Run last, in this order of words: they take away what other forms need.
TAKES_AWAY = ("accreditation.record",  # may revoke the record others act on
              "change_role", "reset_password", "withdraw", "remove", "revoke", "decline",
              "leave", "hand_over", "delete", "sign_out",
              "pipeline.move",  # cancels the entry
              "set_user_status", "set_organisation_status")  # may suspend who signs in next
PREFERENCE = ("owner", "member", "site_admin", "other_admin", "other_member", "board",
              "assessor", "unverified", "anon")

# --- hostile values --------------------------------------------------------------------------

HOSTILE = [
    "", " ", "\t\n", "A" * 10_000, "é" * 10_000, "😀" * 2_500, "a\u0301\u0302\u0303" * 50,
    "\u202eevil\u202c", "مرحبا بالعالم", "שלום", "\u200b\u200d\ufeff", "\x00", "abc\x00def",
    "\x01\x02\x07\x1b[31m\x7f", "\r\n\r\n", "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>", "<b>bold</b>", "{{ 7*7 }}", "{% raw %}",
    "' OR '1'='1", "1; DROP TABLE users; --", "%' AND 1=1 --", "\\", "../../etc/passwd",
    "=HYPERLINK(\"http://x\")", "-1", "0", "-0", "99999999999999999999999999", "1e308",
    "-9223372036854775809", "NaN", "Infinity", "1.5", "0x1F", "١٢٣", "  42  ", "£1,000,000",
    "null", "None", "true", "[]", "{}", "%00", "%s%s%s%n", "\ud7ff", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
]
DAYS, MONTHS, YEARS = ["31", "0", "32", "-1", "29", "1"], ["2", "13", "0", "-1"], \
    ["99999", "0", "1", "-2027", "2027", "10000"]
FILES = [(PDF, "evidence.pdf"), (b"MZ\x90\x00\x03" + bytes(200), "setup.pdf"),
         (b"<html><script>alert(1)</script></html>", "page.pdf"), (b"", "empty.pdf"),
         (bytes(range(256)) * 4, "garbage.xlsx"), (PDF, "../../etc/passwd"),
         (PDF, "a\x00b.pdf"), (PDF, "CON.pdf"), (PDF, "x" * 500 + ".pdf"),
         (b"Title,Reference\n\x00,\xff\xfe\n", "plan.csv"), (PDF, "\u202egpj.pdf")]


def text_values(options):
    choices = [st.sampled_from(HOSTILE), st.text(max_size=40)]
    if options:
        choices.append(st.sampled_from(options))
    return st.one_of(choices)


def values_for(field):
    """Missing, one value, or the field given twice."""
    name = field["name"]
    if name.endswith("-day") or name.endswith("[day]"):
        one = st.one_of(st.sampled_from(DAYS), text_values([]))
    elif name.endswith("-month") or name.endswith("[month]"):
        one = st.one_of(st.sampled_from(MONTHS), text_values([]))
    elif name.endswith("-year") or name.endswith("[year]"):
        one = st.one_of(st.sampled_from(YEARS), text_values([]))
    elif field["type"] == "file":
        one = st.sampled_from(FILES)
    else:
        one = text_values(field["options"])
    return st.one_of(st.none(), one.map(lambda v: [v]), st.lists(one, min_size=2, max_size=2))


def form_data(fields):
    return st.fixed_dictionaries({f["name"]: values_for(f) for f in fields})


# --- reading forms -----------------------------------------------------------------------------

class Forms(HTMLParser):
    """The forms of a page (action, fields with their options) and every id on it."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.forms, self.ids, self._form, self._select = [], set(), None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "form":
            self._form = {"action": attrs.get("action") or "",
                          "method": (attrs.get("method") or "get").lower(),
                          "multipart": "multipart" in (attrs.get("enctype") or ""), "fields": {}}
            self.forms.append(self._form)
        elif self._form is not None and attrs.get("name"):
            if tag in ("input", "button", "textarea"):
                self._add(attrs["name"], attrs.get("type", tag), attrs.get("value"))
            elif tag == "select":
                self._select = self._add(attrs["name"], "select", None)
        elif tag == "option" and self._select is not None and attrs.get("value") is not None:
            self._select["options"].append(attrs["value"])

    def _add(self, name, kind, value):
        field = self._form["fields"].setdefault(name, {"name": name, "type": kind,
                                                       "options": [], "csrf": None})
        if name == "csrf_token":
            field["csrf"] = value
        elif value is not None and value not in field["options"]:
            field["options"].append(value)
        return field

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _path(url):
    return urlsplit(url).path


def form_posting_to(html, page_url, target_url):
    """The form on a page that posts to `target_url` (the fullest, if several do)."""
    page = Forms(html)
    found = [f for f in page.forms if f["method"] == "post"
             and _path(f["action"] or page_url) == _path(target_url)]
    return max(found, key=lambda f: len(f["fields"]), default=None)


def error_summary_problems(html):
    """What is wrong with the error summary of a page showing errors ([] when all is well)."""
    page = Forms(html)
    shows_errors = "govuk-error-message" in html or "govuk-form-group--error" in html
    summary = re.search(r'class="govuk-error-summary".*?</ul>', html, re.S)
    if summary is None:
        return ["errors are shown with no error summary"] if shows_errors else []
    # An error about the form as a whole is text; one about a field links to it.
    links = re.findall(r'href="#([^"]*)"', summary.group(0))
    return [f"the error summary links to #{link}, which is not on the page"
            for link in links if link not in page.ids]


# --- the world and the routes ------------------------------------------------------------------

@pytest.fixture
def world(app, ctx, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PIPELINE_UPLOAD_DIR", str(tmp_path / "pipeline"))
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))
    with app.test_request_context():
        return build_world()


def post_rules(app):
    """Every rule accepting POST, those that take things away last."""
    rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]

    def order(rule):
        words = [i for i, word in enumerate(TAKES_AWAY) if word in rule.endpoint]
        return (min(words, default=-1), rule.endpoint)
    return sorted(rules, key=order)


def principal_for(rule):
    kind, expected = EXPECTED[rule.endpoint]
    wanted = (200,) if "GET" in rule.methods else (OK,)
    for principal in PREFERENCE:
        if expected[principal] in wanted or expected[principal] == OK:
            return kind, principal
    return kind, None


class Session:
    """A fresh client for one route, signed in as its principal (with CSRF off, as the other
    tests sign in) and then held to CSRF like a browser."""

    def __init__(self, app, user):
        self.app, self.client, self.user = app, app.test_client(), user
        if user is not None:
            sign_in(self.client, user.email)

    def get(self, url):
        response = self.client.get(url)
        return response.text if response.status_code == 200 else None


def world_urls(app, world):
    """The URL of every case of the access matrix, worked out before any form is sent (a
    form may take away the object a URL names)."""
    urls = {}
    for case in EXPECTED:
        rule = next(app.url_map.iter_rules(case.split("#")[0]))
        urls[case] = (rule, url_for_case(app, world, case, rule))
    return urls


def nearest_pages(urls, rule, url):
    """Every GET page of the world: those of the rule's own blueprint first, then those sharing
    the longest start of `url`."""
    blueprint = rule.endpoint.split(".")[0]
    pages = {(page_rule.endpoint.split(".")[0], page) for page_rule, page in urls.values()
             if "GET" in page_rule.methods}

    def closeness(item):
        page_blueprint, page = item
        shared = len(os.path.commonprefix([page.rstrip("/") + "/", url.rstrip("/") + "/"]))
        return (page_blueprint != blueprint, -shared, page)
    return [page for _blueprint, page in sorted(pages, key=closeness)]


class Pages:
    """Pages as each person sees them, fetched once, to find where a form lives."""

    def __init__(self, app):
        self.app, self.seen, self.clients = app, {}, {}

    def html(self, user, page):
        key = (getattr(user, "id", None), page)
        if key not in self.seen:
            if key[0] not in self.clients:
                self.clients[key[0]] = Session(self.app, user)
            self.seen[key] = self.clients[key[0]].get(page)
        return self.seen[key]


def find_form(urls, pages, user, rule, url):
    """(page URL, form) for the form that posts to `url`, or (None, None)."""
    candidates = ([url] if "GET" in rule.methods else []) + nearest_pages(urls, rule, url)
    for page in candidates:
        html = pages.html(user, page)
        form = html and form_posting_to(html, page, url)
        if form:
            return page, form
    return None, None


def csrf_token(session, page, form):
    """The session's own token, from the page that holds the form."""
    html = session.get(page) or ""
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    return found.group(1) if found else None


# --- posting -----------------------------------------------------------------------------------

def _body(fields, chosen, token, multipart):
    data = MultiDict([("csrf_token", token)])
    for name, values in chosen.items():
        for value in values or []:
            if isinstance(value, tuple):
                content, filename = value
                data.add(name, (io.BytesIO(content), filename))
            else:
                data.add(name, value)
    has_file = any(isinstance(v, tuple) for vs in chosen.values() for v in vs or [])
    return data, "multipart/form-data" if multipart or has_file else None


def check_answer(endpoint, response, before, after):
    problems = []
    if response.status_code >= 500:
        return [f"answered {response.status_code}"]
    refused = 400 <= response.status_code < 500
    if response.status_code == 200 and "text/html" in response.content_type:
        html = response.text
        problems += error_summary_problems(html)
        refused = refused or "govuk-error-summary" in html
    if refused and before != after and endpoint not in RECORDS_REFUSALS:
        problems.append(f"refused ({response.status_code}) but something was stored")
    return problems


def fuzz_route(app, session, rule, url, page, form, failures):
    token = csrf_token(session, page, form)
    fields = [f for name, f in form["fields"].items() if name != "csrf_token"]
    seen = {"posts": 0}

    @PROFILE
    @given(chosen=form_data(fields))
    def post(chosen):
        data, content_type = _body(fields, chosen, token, form["multipart"])
        before = matrix.fingerprint()
        kwargs = {"content_type": content_type} if content_type else {}
        response = session.client.post(url, data=data, **kwargs)
        seen["posts"] += 1
        problems = check_answer(rule.endpoint, response, before, matrix.fingerprint())
        assert not problems, f"{rule.endpoint} POST {url}: {problems}; sent " + repr(
            {k: [str(v)[:80] for v in vs or []] for k, vs in chosen.items()})

    try:
        post()
    except Exception as error:  # the first failing example (no shrinking: the world moves on)
        failures.append(f"{type(error).__name__}: {str(error)[:1500]}")
    return len(fields), seen["posts"]


def test_every_post_rule_is_fuzzed_or_listed(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}
    stale = sorted(set(UNFUZZED) - endpoints)
    assert not stale, f"UNFUZZED names rules the app does not have: {stale}"


def test_every_form_survives_hostile_input(app, world, monkeypatch):
    failures, fuzzed, skipped, started = [], [], [], time.monotonic()
    urls, pages = world_urls(app, world), Pages(app)
    for rule in post_rules(app):
        if rule.endpoint in UNFUZZED:
            skipped.append(rule.endpoint)
            continue
        kind, principal = principal_for(rule)
        if principal is None:
            failures.append(f"{rule.endpoint}: the access matrix lets nobody use it; list it in "
                            "UNFUZZED with the reason")
            continue
        user = matrix.person(world, kind, principal)
        url = urls[rule.endpoint][1]
        page, form = find_form(urls, pages, user, rule, url)
        session = Session(app, user)
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
        if form is None:
            failures.append(f"{rule.endpoint}: no form posting to {url} found for {principal}; "
                            "list it in UNFUZZED with the reason")
        else:
            began = time.monotonic()
            field_count, posts = fuzz_route(app, session, rule, url, page, form, failures)
            fuzzed.append((rule.endpoint, principal, page, field_count, posts,
                           time.monotonic() - began))
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    posts = sum(f[4] for f in fuzzed)
    for endpoint, principal, page, field_count, count, took in fuzzed:
        print(f"  {endpoint:45} as {principal:12} {field_count:3} fields {count:4} posts "
              f"{took:5.1f}s (form on {page})")
    print(f"\nForm fuzz: {len(fuzzed)} forms x {PROFILE.max_examples} examples = {posts} posts "
          f"in {time.monotonic() - started:.1f}s ({len(pages.seen)} pages read to find the "
          f"forms); {len(skipped)} rules listed as not fuzzed")
    assert not failures, "\n\n".join(failures)
